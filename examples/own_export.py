"""A bank's own export, not yet clean: branches without coordinates left out and named, the data's source credited."""
import shutil
from pathlib import Path

import pandas as pd

import netopt as no

# a data folder as an analyst might get it: the sample's tables, three branches not yet geocoded
folder = Path("out") / "my_city"
shutil.copytree(no.datasets.sample_dir(), folder, dirs_exist_ok=True)
branches = pd.read_csv(folder / "branches.csv", dtype=str, keep_default_na=False)
branches.loc[[3, 10, 42], ["lon", "lat"]] = ["", "待补"]
branches.to_csv(folder / "branches.csv", index=False)
(folder / "ATTRIBUTION.txt").write_text("数据来源：某银行战略部 2026（内部资料）; sample data © its sources\n",
                                        encoding="utf-8")

try:
    no.read_folder(folder)  # as netopt's --data reads it: the three tables found, checked, the source credited
except no.InputError as err:  # every problem, by file, row and column
    print(err)
ds = no.read_folder(folder, skip_unlocated=True)  # go on without them
print(ds.branches.attrs["left_out"])
cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
print(cov.by_region[["region_type", "branches", "coverage_rate_pct"]].round(1))
no.maps.network_map(ds, coverage=cov).save(str(Path("out") / "own_export_map.html"))  # its legend credits the source
