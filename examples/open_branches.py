"""Where should one bank open branches? MCLP on the Hefei sample: keep today's outlets, add 10 within a budget,
at least 1 km from every other open outlet, and keep at least one branch in every county; what each outlet is worth
to the plan. Then: which 3 outlets to move 迁址, and where, with as many outlets as today, on a map for the meeting;
and what closing two outlets 撤并 costs, where one new outlet best makes up for them, which towns lose coverage, and
where new outlets must go so that no town covered today is left without one; the two plans side by side 方案比选;
within travel times, and with each town counted by how near its outlet is (gradual coverage)."""
from pathlib import Path

import numpy as np

import netopt as no
from netopt.io import points_table
from netopt.io import Dataset
from netopt.planning import (candidate_sites, closures_near_others, compare_networks, compare_plans, covered_towns_rows,
                             existing_positions, network_after, relocation_moves, sites_as_branches, towns_changed)

ds = no.load_sample()
sites = candidate_sites(ds, bank="招商银行")  # China Merchants Bank's 20 outlets + every town point
existing = existing_positions(sites)
cost = np.where(sites["kind"] == "new", 120.0, 0.0)  # 万元 to open a new outlet: an assumption for the example
every_county = {county: 1 for county in sites["county"].unique()}
model = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing) + 10, existing=existing,
                                   open_cost=cost, budget=1200, cost_unit="万元",
                                   county="county", county_min=every_county,  # a rule may name a column
                                   min_spacing_km=1.0)  # no new outlet within 1 km of another open one
plan = model.solve(time_limit=60)
print(plan)
new_sites = [s for s in plan.selected if s.startswith("new:")]
worth = model.worth_of_each(plan.selected) / 1e4  # residents only each one covers
print("new sites and the 万 residents only each covers:", worth[new_sites].sort_values(ascending=False).round(2))
print("today's outlets the others stand in for (covering no one alone):", int((worth.drop(new_sites) == 0).sum()))
print(compare_networks(ds, sites_as_branches(sites, plan.selected),
                       today=sites_as_branches(sites, sites.loc[existing, "site_id"].tolist()), radius_km=3.5))
Path("out").mkdir(exist_ok=True)
plan.assignment.to_csv("out/example_open_branches.csv", index=False, encoding="utf-8-sig")

relocation = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing), existing=existing,
                                        closable=existing, max_new=3)
moved = closures_near_others(relocation, sites, relocation.solve().selected)
print(relocation_moves(sites, moved)[["action", "from_name", "to_name", "distance_km", "nearest_open_km"]])
today = sites.loc[existing, "site_id"]
print(f"residents within 3.5 km: +{(relocation.objective_of(moved) - relocation.objective_of(today)) / 1e4:.1f} 万")
no.maps.network_map(ds, sites=sites, selected=moved, moves=relocation_moves(sites, moved), our_bank="招商银行",
                    title="招商银行 迁址 relocation of 3 outlets").save("out/example_relocation_map.html")
closed = [site for site in sites.loc[existing, "site_id"] if site not in moved]
print("万 residents closing each moved branch leaves uncovered (0: the plan's other branches reach them):",
      (relocation.worth_of_each(moved, among=closed) / 1e4).round(2).to_dict())
after = network_after(ds, sites, moved, bank="招商银行")  # every bank's branches once the moves are made
points_table(after, coords="wgs84").to_csv("out/example_branches_after.csv", index=False, encoding="utf-8-sig")
print(after["plan"].value_counts().to_dict(), "→ out/example_branches_after.csv, a branches table for --data")

closing = existing[:2]  # two outlets the bank has decided to close, whatever the plan
made_up = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing) - 1, existing=existing,
                                     closable=closing, forbidden=closing, max_new=1).solve()
print("closing", sites["name"].iloc[closing].tolist(), "→ opening", [s for s in made_up.selected if s.startswith("new:")])
before, after = (no.analyze_coverage(Dataset(ds.counties, ds.towns, sites_as_branches(sites, chosen)), radius_km=3.5)
                 for chosen in (today.tolist(), made_up.selected))
print(towns_changed(before, after)[["name", "county", "change_wan"]])  # towns losing coverage first
rows, _ = covered_towns_rows(ds, sites, radius_km=3.5)  # no town covered today left without a branch 不新增服务空白乡镇
guarded = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing), existing=existing,
                                     closable=closing, forbidden=closing, max_new=2, must_reach=rows).solve()
print("keeping every covered town covered:", guarded.status, [s for s in guarded.selected if s.startswith("new:")])

scenarios, differing = compare_plans(ds, {"迁址3": network_after(ds, sites, moved, bank="招商银行"),
                                          "撤并2+2": network_after(ds, sites, guarded.selected, bank="招商银行")},
                                     bank="招商银行", radius_km=3.5)
print(scenarios[["scenario", "branches", "new", "closed", "covered_wan", "towns_uncovered"]])  # plans side by side
print(differing.head())  # the towns where they differ most

# the 15-minute service circle 15分钟金融服务圈: the same 10 new outlets for the most residents within 15 minutes'
# drive (straight line x 1.3 at 30 km/h here; pass distance="network", graph=... for road times), as
# analyze_coverage(radius_min=15) counts them
timed = no.MCLP.from_geodataframes(ds.towns, sites, radius_min=15, mode="drive", p=len(existing) + 10,
                                   existing=existing).solve()
print(f"within 15 min drive: {timed.objective / 1e4:.1f} 万 residents;",
      f"farthest covered town {timed.assignment['travel_minutes'].max():.1f} min from its outlet")

# a standard per region type — 15 minutes on foot in the core, 30 minutes by car in the counties — and the least
# total travel time 出行总时间 for the same 10 new outlets (a p-median in resident-minutes)
limits, modes = {"core": 15, "county": 30}, {"core": "walk", "county": "drive"}
per_town = {"radius_min": no.coverage.demand_limits(ds, limits, unit="min"),
            "mode": no.coverage.demand_modes(ds, modes)}
walk_drive = no.MCLP.from_geodataframes(ds.towns, sites, p=len(existing) + 10, existing=existing, **per_town).solve()
quickest = no.PMedian.from_geodataframes(ds.towns, sites, len(existing) + 10, existing=existing, unit="min",
                                         mode=per_town["mode"]).solve()
print(f"core 15 min walk, county 30 min drive: {walk_drive.objective / 1e4:.1f} 万 residents;",
      f"least travel time: {quickest.objective / ds.towns['population'].sum():.1f} min per resident on average")

# at the city's own speeds: walking 4 km/h (the elderly-friendly standard), driving 40 km/h on county roads, the
# same travel-time standard (the diagnosis takes the same keywords: analyze_coverage(..., walk_speed_kmh=4, ...))
speeds = {"walk_speed_kmh": 4.0, "speed_kmh": no.coverage.demand_speeds(ds, {"core": 20, "county": 40})}
slower = no.MCLP.from_geodataframes(ds.towns, sites, p=len(existing) + 10, existing=existing, **per_town,
                                    **speeds).solve()
print(f"… walking 4 km/h, driving 40 km/h in the counties: {slower.objective / 1e4:.1f} 万 residents")

# gradual coverage 按距离折算覆盖: a town within 1.2 km of an outlet wholly covered, one farther less and less, none
# past 3.5 km (each town by its nearest outlet) — the same 10 new outlets placed nearer the residents they serve
gradual = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, full_km=1.2, p=len(existing) + 10,
                                     existing=existing).solve()
shares = gradual.assignment["covered_share"]
in_part = int(shares.between(0, 1, inclusive="neither").sum())
print(f"counted by distance: {gradual.objective / 1e4:.1f} 万 residents ({gradual.details['covered_pct']:.1f} %),",
      f"{gradual.details['fully_covered_pct']:.1f} % wholly covered; towns covered in part: {in_part}")
