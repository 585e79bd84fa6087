"""Choose where one bank opens branches and the type of each, with service vehicles and village stations, in one IP."""
from pathlib import Path

import netopt as no
from netopt.models.types import TYPE_ZH, plan_network

ds = no.load_sample()
sites = no.planning.candidate_sites(ds, bank="农业")  # its 101 branches stay; every town point may open
chosen, towns, summary = plan_network(ds, sites, p=110, budget_wan=2000,
                                      open_cost_wan={"light": 60.0})  # the bank's own figure for a light branch
print(summary["status"], f"{summary['served_pct']:.1f} % of residents served, {summary['spent_wan']:,.0f} 万元 spent, "
      f"{summary['changes']} changes to today's network",
      "(the least spent of the plans serving every town as well)" if summary["least_spent_proven"] else "")
print(chosen[chosen["decision"] == "open"][["site_id", "name", "type", "open_cost_wan", "served_wan"]])
print(towns[towns["vehicle"] | towns["station"]].head())
# 40 % community branches 社区型: in urban towns only — the core's streets, the county seats — unless
# community_in_urban_towns=False lets them stand in villages, where they lose the fewest residents served
mixed, _, shared = plan_network(ds, sites, p=110, budget_wan=2000, mix={"community": (0.4, None)})
community = mixed[(mixed["type"] == "community") & (mixed["decision"] != "close")]
print(f"{len(community)} community branches, {shared['served_pct']:.1f} % served:", ", ".join(community["name"].head(5)))
open_now = chosen[chosen["decision"] != "close"].rename(columns={"site_id": "branch_id"})
open_now["type_zh"] = open_now["type"].map(TYPE_ZH)  # the map's tooltips name each type in Chinese too
Path("out").mkdir(exist_ok=True)
network = no.Dataset(ds.counties, ds.towns, no.planning.sites_as_branches(sites, open_now["branch_id"].tolist()))
no.maps.network_map(network, plan=open_now).save("out/example_sites_and_types_map.html")
