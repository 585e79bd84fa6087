"""Tables from the bank's database, not files: DataFrames from SQL checked as files are, then diagnosed."""
import sqlite3
from pathlib import Path

import pandas as pd

import netopt as no

# a database as an analyst might query it (here an SQLite file made from the sample, coordinates in GCJ-02 as
# map-app geocoders give them)
sample = no.load_sample()
lon, lat = no.wgs84_to_gcj02(sample.branches.geometry.x, sample.branches.geometry.y)
Path("out").mkdir(exist_ok=True)
with sqlite3.connect(Path("out") / "bank.db") as db:
    pd.DataFrame({"机构号": sample.branches.branch_id, "网点名称": sample.branches.name, "银行": sample.branches.bank,
                  "经度": lon, "纬度": lat}).to_sql("outlets", db, if_exists="replace", index=False)
    pd.DataFrame({"乡镇名称": sample.towns.name, "所属区县": sample.towns.county, "常住人口": sample.towns.population,
                  "经度": sample.towns.geometry.x, "纬度": sample.towns.geometry.y}).to_sql(
        "towns", db, if_exists="replace", index=False)
    db.execute("UPDATE outlets SET 经度 = NULL WHERE 机构号 = 'HF0004'")  # one outlet not yet geocoded

    branches = pd.read_sql("SELECT * FROM outlets", db)
    towns = pd.read_sql("SELECT * FROM towns", db)

try:  # the same checks as a file: the frame, its row (index) and column are named
    no.read_dataset(sample.counties, towns, branches, coords="gcj02")
except no.InputError as err:
    print(err)
ds = no.read_dataset(sample.counties, towns, branches, coords="gcj02", skip_unlocated=True)
print(ds.branches.attrs["left_out"])
cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
print(cov)
cov.by_county.to_csv(Path("out") / "coverage_by_county.csv", index=False, encoding="utf-8-sig")
