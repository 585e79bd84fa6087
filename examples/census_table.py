"""A census towns table as published — 地区 and 常住人口, each county above its towns, no coordinates — read as a city."""
import shutil
from pathlib import Path

import pandas as pd

import netopt as no

# the sample's towns written as a census table gives them (分乡镇街道人口): the city's total, then each county's
# line above its towns; no county column, no coordinates
towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv")
rows = [("合肥市", towns["population"].sum())]
for county, own in towns.groupby("county", sort=False):
    rows += [(county, own["population"].sum()), *zip(own["name"], own["population"])]
census = pd.DataFrame(rows, columns=["地区", "常住人口"])
# 庐城镇, 庐江县's seat, is not among the bundled town points: its coordinates added by hand, the others left blank
seat = towns.set_index("name").loc["庐城镇"]
census.loc[census["地区"] == "庐城镇", ["经度", "纬度"]] = seat["lon"], seat["lat"]

folder = Path("out") / "census_city"
folder.mkdir(parents=True, exist_ok=True)
census.to_csv(folder / "乡镇人口.csv", index=False, encoding="utf-8-sig")
for name in ("counties.geojson", "branches.csv"):
    shutil.copy(no.datasets.sample_dir() / name, folder / name)

ds = no.read_folder(folder)  # the county lines give the towns their county; the towns placed at China's town points
print(ds.towns.attrs["left_out"])
print(ds.towns.attrs["placed"])
cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
print(cov)  # the same diagnosis as the sample's own towns table gives
print(cov.underserved_towns[["name", "county", "population"]].head())
