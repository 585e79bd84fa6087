"""Open branches where you can, not at town points: the analyst's own candidate sites 候选点位 with their own
opening costs. Here the candidates are storefronts beside other banks' outlets of the Hefei sample (where rivals
found it worth being); the costs are an assumption for the example. 农业 keeps its 101 outlets and may open at
most 5 new ones within 1,200万元: at most 5, since a budget may buy more coverage with fewer, dearer sites.
Then each candidate scored alone 选址评估."""
from pathlib import Path

import numpy as np
import pandas as pd

import netopt as no
from netopt.planning import candidate_sites, existing_positions
from netopt.siting import evaluate_sites

ds = no.load_sample()
rivals = ds.branches[~ds.branches["bank"].astype(str).str.contains("农业")].iloc[::5]
Path("out").mkdir(exist_ok=True)
pd.DataFrame({"点位编号": [f"C{i + 1:03d}" for i in range(len(rivals))],
              "点位名称": (rivals["name"].astype(str) + "旁").to_numpy(),
              "经度": rivals.geometry.x.round(6).to_numpy(), "纬度": rivals.geometry.y.round(6).to_numpy(),
              "开设成本（万元）": np.resize([200, 300, 450], len(rivals))}  # rent and fit-out differ by site
             ).to_excel("out/候选点位.xlsx", index=False)

own = no.read_candidates("out/候选点位.xlsx", city=ds)  # file, row and column named for any bad cell
sites = candidate_sites(ds, bank="农业", new_sites=own)  # today's 101 outlets + the candidates
existing = existing_positions(sites)
model = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing) + 5, existing=existing,
                                   open_cost="open_cost_wan", budget=1200, cost_unit="万元", exactly_p=False)
plan = model.solve()
opened = sites[sites["site_id"].isin(plan.selected) & (sites["kind"] == "new")]
print(plan)
print(opened[["site_id", "name", "county", "open_cost_wan"]].to_string(index=False))
print(f"spent {opened['open_cost_wan'].sum():,.0f} of 1,200 万元; residents within 3.5 km: "
      f"{model.objective_of(sites.loc[existing, 'site_id']) / 1e4:.1f} → {plan.objective / 1e4:.1f} 万")
opened.drop(columns="geometry").to_csv("out/example_own_candidates.csv", index=False, encoding="utf-8-sig")

# 选址评估: each candidate alone beside today's outlets — what it adds, what it shares with them (重叠), the rival
# outlets near it and the residents it would win from them (Huff); the first five by what they add
scored = evaluate_sites(ds, own, bank="农业", radius_km={"core": 1.2, "county": 3.5})
print(scored[["rank", "name", "county", "adds_covered_wan", "overlap_pct", "rival_branches_within", "won_wan"]]
      .head().round(2).to_string(index=False))
