"""Accessibility 可达性 (2SFCA) of one bank's branches on a 2 km population grid, before and after a plan of 10 new
branches chosen for coverage: how much branch each town has within reach, how evenly (Gini), and who gains."""
from pathlib import Path

import netopt as no
from netopt.grid import population_grid
from netopt.io import Dataset
from netopt.maps import access_map
from netopt.planning import PLAN_STATUS, candidate_sites, existing_positions, network_after
from netopt.report import write_access_report

ds = no.load_sample()
ours = ds.of_bank("农业")
grid = population_grid(ds, cell_km=2.0)
radius = {"core": 1.2, "county": 3.5}
today = no.accessibility(ours, radius_km=radius, demand=grid)
print(today)

sites = candidate_sites(ds, bank="农业")
plan = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing_positions(sites)) + 10,
                                  existing=existing_positions(sites)).solve(time_limit=60)
after_branches = network_after(ds, sites, plan.selected, bank="农业")
after = no.accessibility(Dataset(ds.counties, ds.towns, after_branches[after_branches["plan"] != PLAN_STATUS["other"]]),
                         radius_km=radius, demand=grid)
print(after)
for name, acc in (("today 现状", today), ("plan 方案", after)):
    city = acc.city
    print(f"{name}: {city['access_per_wan']:.3f} branches per 万人, Gini {city['gini']:.3f}, "
          f"low access {city['low_access_wan']:.1f}万, none within reach {city['no_access_wan']:.1f}万")
gravity = no.accessibility(ours, radius_km=radius, demand=grid, decay="power", beta=1)  # 潜能模型: d^-1
print(f"today with the gravity model's decay instead (d^-1): Gini {gravity.city['gini']:.3f}")  # does the finding hold?
before_towns, after_towns = today.by_town().set_index("town_id"), after.by_town().set_index("town_id")
after_towns["gain"] = after_towns["access_per_wan"] - before_towns["access_per_wan"]
print(after_towns.nlargest(5, "gain")[["name", "county", "population_wan", "access_per_wan", "gain"]].round(3))

out = Path("out") / "example_access"
written, _ = write_access_report(after, out)
access_map(ds, after).save(str(out / "access_map.html"))
print(f"{len(written)} files in {out}")
