"""A bank's own export, not yet clean: branches without coordinates left out and named, the data's source credited;
the same list as a system's 导出Excel writes it (a web page named .xls) read as Excel opens it."""
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

# the same list as a system exports it: its 导出Excel writes a web page's table and names it .xls (Excel opens it,
# saying the format differs); a title row spans the table, each bank's name spans its branches' rows
rows = "".join(f"<tr>{f'<td rowspan={len(group)}>{bank}</td>' if k == 0 else ''}<td>{name}</td><td>{lon}</td>"
               f"<td>{lat}</td></tr>" for bank, group in branches.groupby("bank", sort=False)
               for k, (name, lon, lat) in enumerate(group[["name", "lon", "lat"]].itertuples(index=False)))
page = (f"<html><head><meta charset='gbk'></head><body><table><tr><td colspan=4>网点清单（系统导出）</td></tr>"
        f"<tr><th>银行</th><th>网点名称</th><th>经度</th><th>纬度</th></tr>{rows}</table></body></html>")
(Path("out") / "网点导出.xls").write_bytes(page.encode("gbk"))
exported = no.read_branches(Path("out") / "网点导出.xls", skip_unlocated=True)  # read by what it holds
print(f"{len(exported)} branches read from the system's export, of {exported['bank'].nunique()} banks; "
      f"{exported.attrs['left_out']}")
