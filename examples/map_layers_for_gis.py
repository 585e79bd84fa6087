"""The diagnosis and a plan as map layers for QGIS or ArcGIS Pro, with a layer of one's own: each branch's service
area 服务范围 (its region type's radius), in the GCJ-02 coordinates an Amap-based team works in."""
from pathlib import Path

import netopt as no
from netopt.planning import candidate_sites, existing_positions, plan_layers, relocation_moves
from netopt.projection import metric_crs
from netopt.report import HEADERS_ZH, coverage_layers

ds = no.load_sample()
radius_km = {"core": 1.2, "county": 3.5}
cov = no.analyze_coverage(ds, radius_km=radius_km)
layers = coverage_layers(cov)

branches = layers["branches"]
metres = metric_crs(branches)
radius_m = branches["county"].map(cov.by_county.set_index("county")["region_type"]).map(radius_km) * 1000
areas = branches[["branch_id", "name", "county"]].assign(radius_km=radius_m / 1000)
areas = areas.set_geometry(branches.geometry.to_crs(metres).buffer(radius_m.to_numpy())).to_crs(4326)
layers["service_areas"] = areas  # drawn under the towns, each town outside every one is a gap

out = Path("out")
out.mkdir(exist_ok=True)
no.write_geopackage(out / "diagnosis_layers.gpkg", layers, coords="gcj02", labels=HEADERS_ZH,
                    descriptions={"service_areas": "服务范围 each branch's radius: core 1.2 km, county 3.5 km"})

sites = candidate_sites(ds, bank="农业")
today = existing_positions(sites)
plan = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(today) + 3, existing=today).solve()
moves = relocation_moves(sites, plan.selected)
no.write_geopackage(out / "plan_layers.gpkg", plan_layers(sites, plan.selected, plan.assignment, ds.towns, moves),
                    coords="gcj02", labels=HEADERS_ZH)
opened = plan_layers(sites, plan.selected)["sites"].query("decision == 'open'")
print(f"{len(layers)} diagnosis layers and the plan's {len(opened)} new sites ({', '.join(opened['name'])}) "
      f"written to {out}/ — open them in QGIS or ArcGIS Pro")
