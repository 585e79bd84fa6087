"""Tables that come as PDFs — a Word attachment printed to PDF, a yearbook's table laid out without lines — read as
any table is, and a city's data folder made of them."""
import shutil
from pathlib import Path

import netopt as no

pdfs = Path(__file__).resolve().parent.parent / "tests" / "data"  # such PDFs, made from the sample's data

# an attachment: a form, then 70 towns (each county merged down over its towns, the header repeated on the next
# page), then 102 branches merged by bank over four pages. Each reader takes the table naming its own columns.
towns = no.read_towns(pdfs / "tables.pdf")
branches = no.read_branches(pdfs / "tables.pdf")
print(len(towns), "towns,", len(branches), "branches")
print(towns[["name", "county", "population"]].head())

# a yearbook's table without lines over three pages, a running header atop each, long names broken over two lines:
# found by the layout of its text, and said so, to check its rows
laid_out = no.read_towns(pdfs / "laid_out.pdf")
print(laid_out.attrs["left_out"])
print(laid_out.loc[laid_out["name"].str.len() > 8, ["name", "county", "population"]])

# a statistics bureau's sheet printed without lines, under a header of two rows — 常住人口（人） over 合计, 男, 女,
# centred across and down —: 合计 read as the residents, 男 and 女 kept beside them
grouped = no.read_towns(pdfs / "grouped_header.pdf")
print(grouped[["name", "county", "population", "男（人）", "女（人）"]].head(3))

# four rows — 人口 over 常住人口 over 合计, 男, 女 over their units, （人）, and 村（社区）数's, （个）
deep = no.read_towns(pdfs / "header_of_four_rows.pdf")
print(deep[["name", "population", "村（社区）数（个）"]].head(3))

# a data folder of them: the branches PDF as 网点.pdf beside the sample's counties and towns
folder = Path("out") / "pdf_city"
folder.mkdir(parents=True, exist_ok=True)
for name in ("counties.geojson", "towns.csv"):
    shutil.copy(no.datasets.sample_dir() / name, folder / name)
shutil.copy(pdfs / "tables.pdf", folder / "网点.pdf")
cov = no.analyze_coverage(no.read_folder(folder), radius_km={"core": 1.2, "county": 3.5})
print(cov.by_region[["region_type", "branches", "coverage_rate_pct"]].round(1))
