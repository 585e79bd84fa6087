"""A field visit 外业核查 on a phone: the most underserved towns, each with its visit week, and a plan's new sites
as one KMZ that 奥维互动地图 or Google Earth opens (today's branches in a folder of their own, unticked); then the
premises marked on the visit, read back from the app's KMZ and ranked (选址评估)."""
from pathlib import Path

import netopt as no
from netopt.planning import candidate_sites, existing_positions, plan_layers, todays_branches_among, visit_schedule
from netopt.report import HEADERS_ZH, coverage_layers
from netopt.siting import evaluate_sites

ds = no.load_sample()
cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
layers = coverage_layers(cov)
towns = layers["underserved_towns"].head(20)
weeks = visit_schedule(towns["name"].tolist(), per_batch=5, days_apart=7, start="2027-01-04")
towns = towns.assign(visit_week=weeks["batch"].to_numpy(), visit_date=weeks["date"].to_numpy())

sites = candidate_sites(ds, bank="农业")
today = existing_positions(sites)
plan = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(today) + 3, existing=today).solve()
new_sites = plan_layers(sites, plan.selected)["sites"].query("decision == 'open'")

out = Path("out")
out.mkdir(exist_ok=True)
path = no.write_kml(out / "field_visit.kmz", {"visit_towns": towns, "sites": new_sites, "branches": layers["branches"]},
                    labels={**HEADERS_ZH, "visit_week": "走访周次", "visit_date": "走访日期"},
                    descriptions={"visit_towns": "走访乡镇 the 20 most underserved towns, 5 a week",
                                  "sites": "拟新设网点 the plan's new sites, to see on the ground",
                                  "branches": "现有网点 today's branches"},
                    hidden=["branches"], title="外业核查 field visit 2027-01")
print(f"{path}: {len(towns)} towns to visit from {weeks['date'].min():%Y-%m-%d}, the plan's {len(new_sites)} new "
      f"sites ({', '.join(new_sites['name'])}) — send it by WeChat and open it in 奥维 or Google Earth")

# back from the visit: premises on offer marked in the app beside the first three towns (here written as the app
# would export them), read as candidate sites and ranked by the residents each adds within reach
marked = towns.head(3)[["name", "geometry"]].assign(name=lambda t: t["name"] + "临街商铺")
marked = marked.set_geometry(marked.geometry.translate(0.002, 0.001))
no.write_kml(out / "marked_on_visit.kmz", {"我的标注": marked})
ranked = evaluate_sites(ds, no.read_candidates(out / "marked_on_visit.kmz"), bank="农业",
                        radius_km={"core": 1.2, "county": 3.5})
print(ranked[["name", "town", "adds_covered_wan", "residents_within_wan"]].to_string(index=False))

# the visit's own file reads back too: its folder of new sites (dragged onto the premises found, or not) by a part
# of its name, sub-folders included; today's branches among a plan's sites are found by id and place
again = no.read_candidates(path, layer="拟新设网点")
todays = todays_branches_among(again, ds.branches)
print(f"{len(again)} sites read back from {path.name} (folder 拟新设网点), {int(todays.sum())} of them today's branches")
