"""Pilot outlets spread over the city: p-dispersion on the Hefei sample picks 6 of one bank's outlets as far apart
as possible, at most one in each county, so that the pilot sees as many different places as it can."""
from pathlib import Path

import netopt as no
from netopt.coverage import point_counties

ds = no.load_sample().of_bank("农业")  # ABC's 101 outlets
outlets = ds.branches.assign(county=point_counties(ds, ds.branches))
one_each = {county: 1 for county in outlets["county"].unique()}
model = no.PDispersion.from_geodataframes(outlets, 6, county="county", county_max=one_each)
plan = model.solve(time_limit=60)
print(plan)
print(f"every pilot is at least {plan.objective:.1f} km from the others (straight line)")
names = outlets.set_index("branch_id")["name"]
pilots = plan.assignment.assign(name=plan.assignment["site"].map(names), county=plan.assignment["site"].map(
    outlets.set_index("branch_id")["county"]), nearest_pilot=plan.assignment["nearest_open_site"].map(names))
print(pilots[["name", "county", "nearest_pilot", "distance"]].round(1).to_string(index=False))
Path("out").mkdir(exist_ok=True)
pilots.to_csv("out/example_spread_pilots.csv", index=False, encoding="utf-8-sig")
