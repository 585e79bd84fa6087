"""A census towns table as published — 地区 and 常住人口, each county above its towns, no coordinates — read as a city;
then a province's table beside a bank's licence register of names and addresses, no counties table."""
import shutil
from pathlib import Path

import pandas as pd

import netopt as no


def census_lines(city: str, towns: pd.DataFrame) -> pd.DataFrame:
    """A city's towns as a census table gives them (分乡镇街道人口): the city's total, then each county's line above
    its towns; no county column, no coordinates."""
    rows = [(city, towns["population"].sum())]
    for county, own in towns.groupby("county", sort=False):
        rows += [(county, own["population"].sum()), *zip(own["name"], own["population"])]
    return pd.DataFrame(rows, columns=["地区", "常住人口"])


towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv")
census = census_lines("合肥市", towns)
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

# a province's table: 安徽省, then each city's line above its counties' and towns' (芜湖市's from the bundled town
# points, their residents as estimated there), and the bank's licence register (机构名称, 住所) without coordinates;
# no counties table: the city planned is the one the branches lie in, its counties taken from the bundled units
wuhu = pd.read_csv(no.datasets.units_dir() / "towns.csv.gz", dtype={"town_id": str, "county_id": str})
wuhu = wuhu[wuhu["county_id"].str.startswith("3402")].merge(no.datasets.national_town_points()[["town_id", "county"]],
                                                              on="town_id")
lines = census_lines("芜湖市", wuhu)
province = pd.concat([pd.DataFrame({"地区": ["安徽省"], "常住人口": [towns["population"].sum() + wuhu["population"].sum()]}),
                      census, lines])
branches = pd.read_csv(no.datasets.sample_dir() / "branches.csv")
register = pd.DataFrame({"机构名称": branches["name"], "住所": branches["address"], "许可证状态": "有效"})

folder = Path("out") / "census_province"
folder.mkdir(parents=True, exist_ok=True)
province.to_csv(folder / "乡镇人口.csv", index=False, encoding="utf-8-sig")
register.to_csv(folder / "网点.csv", index=False, encoding="utf-8-sig")
ds = no.read_folder(folder, skip_unlocated=True)  # a branch whose address names no town (a city street) left out
print(ds.counties.attrs["placed"])  # 合肥市's counties: where the branches lie
print(ds.branches.attrs["placed"])  # the branches at the points of the towns their addresses name (店埠镇 …)
print(no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5}))
