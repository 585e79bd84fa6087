"""Give every branch one of the four types, then plan pilots, rollout batches and training hubs."""
from pathlib import Path

import netopt as no
from netopt.models.types import branch_levels, branch_scores, scoring_basis
from netopt.planning import rollout_batches, select_pilots, training_hubs

ds = no.load_sample()
plan = no.assign_branch_types(ds, mix={"community": (0.40, None)}, budget_wan=1200)
print(plan["type_zh"].value_counts(), plan.attrs["missing_indicators"])
print(plan[["name", "type_zh", "reasons"]].head(3))  # each branch's two strongest terms, in Chinese and English
# a branch's level 网点级别 from its name (or a 网点级别 column): 营业部 1, 支行 0.5, 分理处 0 — its offices go community
print(plan.groupby(branch_levels(plan).fillna(0.5).rename("level"))["type_zh"].value_counts().unstack(fill_value=0))
# how the types were scored 评分依据: each indicator's dimension, weight for each type, and whether the data gave it
basis = scoring_basis(plan)
print(basis[["dimension", "indicator_name", "weight_comprehensive", "weight_community", "data"]].to_string(index=False))
scores, _ = branch_scores(ds)
print(select_pilots(plan, scores)[["branch_id", "name", "region_type", "type_zh", "represents"]])
print(rollout_batches(plan, sizes=(20, 16))["batch"].value_counts().sort_index())
# coaching trips at 20 km/h in the core districts, 40 km/h in the counties; none longer than 3 hours
hubs = training_hubs(ds, plan, capacity=8, speed_kmh={"core": 20, "county": 40}, max_minutes=180)
print(f"{hubs['hub_id'].nunique()} training hubs, {hubs.attrs['total_days']:g} coaching days, longest trip "
      f"{hubs['minutes'].max():.0f} min ({hubs.attrs['travel']})")
Path("out").mkdir(exist_ok=True)
no.maps.network_map(ds, plan=plan).save("out/example_types_map.html")
