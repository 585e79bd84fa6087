"""One bank among all: 农业银行's coverage beside every bank's in Hefei, the towns only a rival reaches, then
where 5 new branches serve the most residents when a branch can serve at most 4万 (capacitated coverage)."""
from pathlib import Path

import netopt as no
from netopt.competition import rival_coverage
from netopt.planning import candidate_sites, existing_positions

ds = no.load_sample()
radius = {"core": 1.2, "county": 3.5}
ours = ds.of_bank("农业")  # the same city with only that bank's branches
rivals = rival_coverage(no.analyze_coverage(ours, radius_km=radius), no.analyze_coverage(ds, radius_km=radius))
print(rivals.by_region[["region_type", "branches_ours", "branches_all", "coverage_ours_pct", "coverage_all_pct",
                        "behind_pp"]].round(1))
print(rivals.rival_only.head(5))

sites = candidate_sites(ds, bank="农业")
existing = existing_positions(sites)
model = no.CapacitatedMCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing) + 5,
                                              capacity=40_000, existing=existing)
plan = model.solve()
today = model.evaluate(sites.loc[existing, "site_id"].tolist())
print(f"served within 3.5 km, at most 4万 per branch: {today.objective / 1e4:.1f} → {plan.objective / 1e4:.1f} 万人; "
      f"within reach but beyond the capacities: {(plan.details['within_reach_weight'] - plan.objective) / 1e4:.1f} 万人")
print("new sites:", [s for s in plan.selected if s.startswith("new:")])
Path("out").mkdir(exist_ok=True)
rivals.rival_only.to_csv("out/example_rival_only_towns.csv", index=False, encoding="utf-8-sig")
plan.assignment.to_csv("out/example_capacitated_coverage.csv", index=False, encoding="utf-8-sig")
