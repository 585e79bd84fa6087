"""The city's own road layer (道路.shp in GCJ-02, as exported from Amap): travel times by road, a plan by road."""
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString

import netopt as no
from netopt.coords import wgs84_to_gcj02
from netopt.roads import read_road_lines

# a stand-in for the bank's road layer: trunk roads 主干路 west-east and 次干路 south-north every ~2 km over the
# sample city, drawn across each other without a vertex where they meet, in GCJ-02, a GBK Shapefile
lon, lat = np.arange(116.7, 117.95, 0.02), np.arange(30.9, 32.6, 0.02)
lines = [LineString([(lon[0], y), (lon[-1], y)]) for y in lat] + [LineString([(x, lat[0]), (x, lat[-1])]) for x in lon]
gcj = [LineString(np.column_stack(wgs84_to_gcj02(*np.array(line.coords).T))) for line in lines]
classes = ["主干路"] * len(lat) + ["次干路"] * len(lon)
Path("out").mkdir(exist_ok=True)
gpd.GeoDataFrame({"道路等级": classes}, geometry=gcj, crs=4326).to_file(Path("out") / "道路.shp", encoding="gbk")

apart = read_road_lines(Path("out") / "道路.shp", coords="gcj02")
print(apart, apart.notes)  # in pieces: its lines are not cut where they cross
roads = read_road_lines(Path("out") / "道路.shp", coords="gcj02", split_at_crossings=True)
print(roads)

ds = no.load_sample()
cov = no.analyze_coverage(ds.of_bank("农业"), radius_min=15, distance="network", graph=roads)
print(cov)
print(cov.notes[:3])
sites = no.planning.candidate_sites(ds, bank="农业")
model = no.MCLP.from_geodataframes(ds.towns, sites, radius_min=15, distance="network", graph=roads,
                                   p=int((sites.kind == "existing").sum()) + 3,
                                   existing=sites.index[sites.kind == "existing"])
plan = model.solve(time_limit=60)
print(plan.status, f"{plan.details['covered_pct']:.1f}% of residents within 15 minutes by road",
      [s for s in plan.selected if s.startswith("new:")])
cov.by_county.to_csv(Path("out") / "coverage_by_road.csv", index=False, encoding="utf-8-sig")
