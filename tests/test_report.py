"""Batch reports: one HTML + Excel per county and a city summary; a failing county does not stop the batch."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from pptx import Presentation
from typer.testing import CliRunner

import netopt as no
import netopt.report as report
from netopt.cli import app


@pytest.fixture(scope="module")
def coverage():
    return no.analyze_coverage(no.load_sample(), radius_km={"core": 1.2, "county": 3.5})


def test_one_report_per_county_and_a_city_summary(coverage, tmp_path: Path):
    """A page and a workbook per county and the city's summary, in the meeting's words; run again into the same
    folder, the same files (no temporary or duplicate one)."""
    written, failures = report.batch_reports(coverage, tmp_path)
    assert failures == {}
    names = {p.name for p in written}
    assert len([n for n in names if n.startswith("county_") and n.endswith(".html")]) == 9
    assert {"city_summary.html", "city_summary.xlsx"} <= names
    book = pd.ExcelFile(tmp_path / "county_340122_肥东县.xlsx")
    assert book.sheet_names == ["summary 汇总", "towns 乡镇", "branches 网点", "recommendations 建议", "notes 说明"]
    advice = pd.read_excel(book, "recommendations 建议")
    assert len(advice) > 0 and "reason 原因" in advice.columns
    html = (tmp_path / "county_340122_肥东县.html").read_text(encoding="utf-8")
    assert "肥东县" in html and "Underserved towns" in html
    branches = pd.read_excel(book, "branches 网点")
    assert "current_type 现有类型" in branches.columns  # the type a branch has today, not a plan's 建议类型
    # the page for the meeting: no pandas <NA>, no column nobody filled (GDP, types), residents with separators
    assert "&lt;NA&gt;" not in html and "<NA>" not in html and "地区生产总值" not in html and "现有类型" not in html
    summary = (tmp_path / "city_summary.html").read_text(encoding="utf-8")
    assert "GDP档次" not in summary and ">unknown<" not in summary  # no GDP given: no column of "unknown" tiers
    population = int(branches["assigned_population 服务人口(人)"].max())
    assert f'<td class="n">{population:,}</td>' in html and population >= 1000  # a figure, right-aligned
    fields = re.findall(r"<td>([^<]+)</td>\s*<td>([^<]+)</td>", html.split("<h2>", 2)[1])  # the summary, down the page
    residents = int(coverage.by_county.set_index("county").loc["肥东县", "population"])
    assert ("常住人口(人) population", f"{residents:,}") in fields and ("区划代码 county code", "340122") in fields
    assert ("区域类型 region type", "县域 county") in fields and "<td>核心城区 core</td>" in summary  # words, not codes
    assert "<th>原因<br>reason</th>" in html and '<th class="n">常住人口(人)<br>population</th>' in html  # text left
    by_region = pd.read_excel(tmp_path / "city_summary.xlsx", "by region 分区域")
    assert by_region["region_type 区域类型"].tolist() == ["核心城区 core", "县域 county"]  # as the pages say it
    none = int((branches["assigned_towns 服务乡镇数"] == 0).sum())  # the zeros under the branches said: a town once
    said = f"{none} of these {len(branches)} branches are the nearest of none"
    assert 0 < none < len(branches) and said in html and f"{none} 个网点不是任何乡镇的最近网点" in html
    in_area = branches["service_area_population 服务范围人口(人)"]  # every branch's share of its county's residents
    assert (in_area > 0).all() and in_area.sum() == pytest.approx(residents, abs=len(branches))
    assert "服务范围人口则把每个乡镇的人口按面积均摊" in html and "a share for every branch" in html
    assert pd.read_excel(book, "notes 说明")["note 说明"].str.contains(said).sum() == 1  # the workbook says it too
    before = sorted(p.name for p in tmp_path.iterdir())
    report.batch_reports(coverage, tmp_path)  # run again into the same folder
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary or duplicate files


def test_a_county_report_notes_its_own_data_not_the_citys(coverage, tmp_path: Path):
    report.batch_reports(coverage, tmp_path)
    stacked = "at the very same coordinates"
    assert any(stacked in n and "11 in 庐江县" in n for n in coverage.notes)
    lujiang = (tmp_path / "county_340124_庐江县.html").read_text(encoding="utf-8")
    assert "33 branches share 8 points" in lujiang and "Coverage by service radius" in lujiang
    yaohai = (tmp_path / "county_340102_瑶海区.html").read_text(encoding="utf-8")
    assert stacked not in yaohai and "Coverage by service radius" in yaohai
    notes = pd.read_excel(tmp_path / "county_340124_庐江县.xlsx", "notes 说明")["note 说明"].tolist()
    assert notes[:-1] == coverage.notes_for("庐江县") and "33 branches share 8 points" in notes[-2]
    assert "20 of these 69 branches are the nearest of none" in notes[-1]  # then the county's own branches


def test_a_failing_county_is_recorded_and_the_rest_complete(coverage, tmp_path: Path, monkeypatch):
    real = report.county_report

    def flaky(cov, county, *rest):
        if county == "庐江县":
            raise ValueError("broken input for this county")
        return real(cov, county, *rest)

    monkeypatch.setattr(report, "county_report", flaky)
    written, failures = report.batch_reports(coverage, tmp_path)
    assert list(failures) == ["庐江县"] and "broken input" in failures["庐江县"]
    assert len([p for p in written if p.suffix == ".html" and p.name.startswith("county_")]) == 8
    assert "庐江县" in pd.read_excel(tmp_path / "city_summary.xlsx", "failed 未完成")["county 区县"].tolist()


def test_a_county_not_in_the_diagnosis_or_a_file_for_a_folder_is_refused_by_name(coverage, tmp_path: Path):
    """county_report of 肥东 (the diagnosis says 肥东县) or of a county it lacks; reports into a path that is a file:
    an InputError saying what is wrong, not a KeyError or FileExistsError."""
    with pytest.raises(no.InputError, match="county '肥东' is not in the diagnosis: did you mean 肥东县\\?"):
        report.county_report(coverage, "肥东", tmp_path)
    with pytest.raises(no.InputError, match="county '不存在县' is not in the diagnosis; its counties: 瑶海区, 庐阳区"):
        report.county_report(coverage, "不存在县", tmp_path)
    (tmp_path / "taken").write_text("x")
    for out in (tmp_path / "taken", tmp_path / "taken" / "reports"):
        with pytest.raises(no.InputError, match=f"{tmp_path / 'taken'} is a file"):
            report.batch_reports(coverage, out)


def test_a_county_whose_name_has_a_slash_gets_one_file_not_a_folder(tmp_path: Path):
    """瑶海区/龙岗开发区 (as an analyst may name a merged area): county_340102_瑶海区_龙岗开发区.html, not a folder
    county_340102_瑶海区 holding 龙岗开发区.html."""
    ds = no.load_sample()
    renamed = {"瑶海区": "瑶海区/龙岗开发区"}
    ds = no.Dataset(ds.counties.assign(name=ds.counties["name"].replace(renamed)),
                    ds.towns.assign(county=ds.towns["county"].replace(renamed)), ds.branches)
    written = report.county_report(no.analyze_coverage(ds), "瑶海区/龙岗开发区", tmp_path)
    assert sorted(p.name for p in written) == [f"county_340102_瑶海区_龙岗开发区.{kind}" for kind in ("html", "kmz", "xlsx")]
    assert all(p.parent == tmp_path for p in written) and report.file_stem('a<b>:"c"|?*. ') == "a_b___c____"


def test_county_pages_open_with_a_map_of_the_county(coverage, tmp_path: Path):
    """With the city's data, each county page holds a PNG map of its county inline (one file, offline); without
    it, none."""
    import base64
    import re

    report.county_report(coverage, "长丰县", tmp_path / "with", city=no.load_sample())
    page = (tmp_path / "with" / "county_340121_长丰县.html").read_text(encoding="utf-8")
    picture = base64.b64decode(re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page).group(1))
    assert picture.startswith(b"\x89PNG") and len(picture) > 10_000
    assert page.index("base64") < page.index("Underserved towns")
    report.county_report(coverage, "长丰县", tmp_path / "without")
    assert "base64" not in (tmp_path / "without" / "county_340121_长丰县.html").read_text(encoding="utf-8")


def test_report_suggests_new_branches_by_county(bank_reports):
    """report --new-per-county 2: each county's page lists its suggested new branches with what each brings within
    reach and the county's residents within reach before and after; the city summary has them all."""
    output, tmp_path = bank_reports
    said = " ".join(output.split())
    assert "Suggested new branches 建议新设网点: 18 in 9 counties" in said and "小庙镇 (蜀山区) +22.4万" in said
    page = (tmp_path / "county_340121_长丰县.html").read_text(encoding="utf-8")
    assert "Where new branches would cover most (2)" in page and "51.6 → 64.1 万人" in page
    section = page[page.index("建议新设网点"):page.index("网点 Branches")]
    assert "罗塘乡" in section and '<td class="n">7.07</td>' in section
    sheet = pd.read_excel(tmp_path / "county_340121_长丰县.xlsx", "new sites 建议新设网点", engine="openpyxl")
    assert sheet["name 名称"].tolist() == ["罗塘乡", "吴山镇"]
    towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv").set_index("name")  # each at its town point
    at = towns.loc[["罗塘乡", "吴山镇"], ["lon", "lat"]].to_numpy().tolist()
    assert sheet[["lon 经度", "lat 纬度"]].to_numpy().tolist() == at
    city = pd.read_excel(tmp_path / "city_summary.xlsx", "new sites 建议新设网点", engine="openpyxl")
    assert len(city) == 18 and city["county 区县"].nunique() == 9
    summary = (tmp_path / "city_summary.html").read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in summary  # the city's map, every suggested site on it
    assert '<img alt="分区县覆盖率 Coverage by county"' in summary  # and coverage by county as a chart
    slides = list(Presentation(str(tmp_path / "city_summary.pptx")).slides)  # titled as asked, every site listed
    assert slides[0].shapes[0].text_frame.text == "农行合肥分行网点覆盖诊断"
    listed = [slide for slide in slides if slide.shapes[0].text_frame.text.startswith("建议新设网点")]
    assert sum(len(shape.table.rows) - 1 for slide in listed for shape in slide.shapes if shape.has_table) == 18
    written_up = Document(str(tmp_path / "city_summary.docx"))  # the Word report too: its map, every county's
    assert written_up.paragraphs[0].text == "农行合肥分行网点覆盖诊断"
    assert len(written_up.inline_shapes) == 1 + 1 + 2 + 9  # the city's map, coverage by county, access's map and
    # Lorenz curve, each county's map
    captions = ["".join(p._p.xpath(".//w:t/text()")) for p in written_up.paragraphs if p.style.name == "Caption"]
    assert "图2 分区县覆盖率 Coverage by county" in captions
    assert sum("new branches suggested：" in p.text for p in written_up.paragraphs) == 9
    network = no.read_branches(tmp_path / "new_sites_branches.csv")  # the network with them opened, for compare
    assert (network["plan"] == "new 新设").sum() == 18 and (network["plan"] == "kept 保留").sum() == 101
    assert set(network.loc[network["plan"] == "new 新设", "name"]) == set(city["name 名称"])


def test_reports_and_maps_within_a_travel_time(tmp_path: Path):
    """report --minutes 15: the county pages are the 15-minute diagnosis's (an underserved town has no branch
    within 15 min) and its suggested new branches those suggest_new_sites finds within 15 minutes — by straight
    line, those within the km 15 minutes allow; map --minutes; a radius beside it refused."""
    from netopt.planning import suggest_new_sites

    ds = no.load_sample().of_bank("农业")
    result = CliRunner().invoke(app, ["report", "--bank", "农业", "--minutes", "15", "--new-per-county", "1",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    town = no.analyze_coverage(ds, radius_min=15).underserved_towns.iloc[0]
    page = (tmp_path / f"county_{town['county_id']}_{town['county']}.html").read_text(encoding="utf-8")
    assert town["name"] in page and "no branch within 15 min" in page
    timed = suggest_new_sites(ds, per_county=1, radius_min=15)
    pd.testing.assert_frame_equal(pd.DataFrame(timed.drop(columns="geometry")),
                                  pd.DataFrame(suggest_new_sites(ds, 15 / 60 * 30 / 1.3, 1).drop(columns="geometry")))
    city = pd.read_excel(tmp_path / "city_summary.xlsx", "new sites 建议新设网点", engine="openpyxl")
    assert city["name 名称"].tolist() == timed["name"].tolist()
    walked = CliRunner().invoke(app, ["map", "--minutes", "10", "--mode", "walk", "--out", str(tmp_path / "map")])
    assert walked.exit_code == 0 and (tmp_path / "map" / "network_map.html").exists(), walked.output
    both = CliRunner().invoke(app, ["report", "--minutes", "15", "--county-km", "3", "--out", str(tmp_path / "x")])
    assert both.exit_code == 2 and "(--county-km), not both" in both.output and not (tmp_path / "x").exists()


def test_reports_carry_the_recommended_types(coverage, tmp_path: Path):
    plan = no.assign_branch_types(no.load_sample(), coverage=coverage)
    report.batch_reports(coverage, tmp_path, plan=plan)
    types = pd.read_excel(tmp_path / "county_340104_蜀山区.xlsx", "branch types 网点类型")
    assert len(types) > 0 and set(types["type 建议类型"]) <= {"comprehensive", "community", "inclusive", "light"}


def test_a_table_longer_than_a_workbook_sheet_takes_is_a_note_naming_its_csv(coverage, tmp_path: Path, monkeypatch):
    """A fine grid's cells outgrow an Excel sheet (1,048,575 rows: a 0.1 km grid of the sample has 1.18 million) or
    take minutes to write (766,000 H3 cells: 5 minutes); beyond WORKBOOK_ROWS the workbook says where the rows are,
    and the CSV keeps every row."""
    monkeypatch.setattr(report, "WORKBOOK_ROWS", 100)
    assert len(coverage.towns) > 100 > len(coverage.by_county)
    report.write_coverage_report(coverage, tmp_path)
    book = pd.read_excel(tmp_path / "coverage.xlsx", sheet_name=None, engine="openpyxl")
    assert book["towns 乡镇"]["note 说明"].tolist() == [f"{len(coverage.towns):,} rows, more than a workbook sheet "
                                                    "here takes (100): every row is in coverage_towns.csv"]
    assert len(book["by county 分区县"]) == len(coverage.by_county)
    assert len(pd.read_csv(tmp_path / "coverage_towns.csv")) == len(coverage.towns)
    monkeypatch.setattr(report, "WORKBOOK_ROWS", 5)  # a county's page has no CSV beside it: it says what to do
    report.county_report(coverage, "肥东县", tmp_path)
    towns = pd.read_excel(tmp_path / "county_340122_肥东县.xlsx", sheet_name="towns 乡镇", engine="openpyxl")
    assert towns["note 说明"].iloc[0].endswith("more than a workbook sheet here takes (5): measure on a coarser grid "
                                              "(--grid-km) for this sheet, or read every row in netopt analyze's "
                                              "CSV tables")


def test_on_a_grid_the_towns_sheets_sum_the_cells(tmp_path: Path):
    """A grid's county workbook of 200,000 cell rows took a minute to write and nobody reads it: the county pages'
    towns sheet sums the cells by town, and analyze's tables add that sheet before the cells."""
    from netopt.grid import population_grid

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km=2.0, demand=population_grid(ds, cell_km=2.0))
    towns = cov.by_town()
    assert len(towns) == cov.towns["town_id"].nunique() and towns["cells"].sum() == len(cov.towns)
    first = cov.towns[cov.towns["town_id"] == towns["town_id"].iloc[0]]
    people = first["population"].sum()
    assert towns["population"].iloc[0] == pytest.approx(people)
    assert towns["covered_population"].iloc[0] == pytest.approx(first.loc[first["covered"], "population"].sum())
    assert towns["mean_distance_to_branch_km"].iloc[0] == pytest.approx(
        (first["population"] * first["nearest_branch_km"]).sum() / people)
    assert towns["farthest_cell_km"].iloc[0] == pytest.approx(first["nearest_branch_km"].max())
    assert "mean_minutes_to_branch" not in towns  # a diagnosis by radius; by travel time, the residents' minutes:
    timed = no.analyze_coverage(ds, radius_min=10.0, demand=population_grid(ds, cell_km=2.0)).by_town()
    assert timed["mean_minutes_to_branch"].iloc[0] == pytest.approx(
        (first["population"] * first["nearest_branch_min"]).sum() / people)
    sheets = list(report.coverage_tables(cov))
    assert sheets.index("cells") == sheets.index("towns") + 1  # the towns just before their cells
    report.county_report(cov, "肥东县", tmp_path)
    sheet = pd.read_excel(tmp_path / "county_340122_肥东县.xlsx", sheet_name="towns 乡镇", engine="openpyxl")
    assert len(sheet) == (towns["county"] == "肥东县").sum() and "cells 网格数" in sheet.columns
    residents = cov.towns.loc[cov.towns["county"] == "肥东县", "population"].sum()
    assert sheet["population 常住人口(人)"].sum() == pytest.approx(residents, rel=1e-6)
    branches = pd.read_excel(tmp_path / "county_340122_肥东县.xlsx", sheet_name="branches 网点", engine="openpyxl")
    assert {"assigned_cells 服务网格数", "farthest_cell_km 最远网格(km)"} <= set(branches.columns)  # not 服务乡镇数
    none = int((branches["assigned_cells 服务网格数"] == 0).sum())
    assert f"{none} 个网点不是任何网格的最近网点" in (tmp_path / "county_340122_肥东县.html").read_text(encoding="utf-8")


def test_workbook_sheets_are_laid_out_for_the_meeting(tmp_path):
    """Every sheet netopt writes: header frozen and filterable, columns as wide as their text (Chinese counting
    double; Excel stores the width with its padding), figures with thousands separated and two decimals (whole
    numbers none — persons too, however computed), coordinates, ids and codes as given, dates as dates, missing
    values blank, text kept as text even where it looks like a formula, region types as the pages say them."""
    import openpyxl

    from netopt.report import write_workbook

    table = pd.DataFrame({"name": ["明光路街道支行营业室", "A", "=1+1"], "area_km2": [12345.678, 2.0, float("nan")],
                          "lon": [117.301623, 117.2, 117.3], "branches": [3, 4, 5],
                          "town_id": [340102001000, 2, 3], "区划代码": [340102, 2, 3],
                          "date": pd.to_datetime(["2026-12-03", "2026-12-04", None]),
                          "covered_population": [2317972.911, 2.0, float("nan")], "pct": [100.0, 50.0, float("nan")],
                          "region_type": ["core", "county", None]})
    write_workbook(tmp_path / "t.xlsx", {"sheet 表": table})
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx")["sheet 表"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:J4"
    assert sheet["A1"].value.startswith("name") and int(sheet.column_dimensions["A"].width) == 2 * 10 + 2
    assert sheet["B2"].number_format == "#,##0.00##" and sheet["B2"].value == pytest.approx(12345.678)
    assert sheet["C2"].number_format == "General" and sheet["D2"].number_format == "#,##0"  # coordinates; a count
    assert sheet["E2"].number_format == sheet["F2"].number_format == "General"  # ids and codes as given
    assert sheet["G2"].is_date and sheet["G2"].number_format == "yyyy-mm-dd" and sheet["G4"].value is None
    assert sheet["A4"].value == "=1+1" and sheet["A4"].data_type == "s" and sheet["B4"].value is None
    assert sheet["H2"].number_format == sheet["I2"].number_format == "#,##0"  # persons; whole figures
    assert [sheet[f"J{row}"].value for row in (2, 3, 4)] == ["核心城区 core", "县域 county", None]
    assert pd.read_excel(tmp_path / "t.xlsx", engine="openpyxl").iloc[0, 2] == pytest.approx(117.301623)


def test_a_workbook_says_a_plans_codes_in_words(tmp_path):
    """The workbook is the copy for people: a plan's codes in Chinese and English — existing/new, keep/open/close,
    the moves, True/False covered, a coaching session, a type where no Chinese column says it beside —, a value it
    does not know as given; the CSVs keep the codes, for scripts."""
    from netopt.report import write_workbook

    plan = pd.DataFrame({"kind": ["existing", "new", None], "decision": ["keep", "open", "close"],
                         "action": ["move", "close", "other"], "covered": [True, False, True],
                         "session": ["morning", "afternoon", "full day"], "current_type": ["light", None, "unknown"],
                         "type": ["community", "inclusive", "comprehensive"]})
    typed = pd.DataFrame({"type": ["community"], "type_zh": ["社区型"]})
    write_workbook(tmp_path / "t.xlsx", {"plan": plan, "typed": typed})
    book = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None, engine="openpyxl")
    assert book["plan"].fillna("").to_numpy().tolist() == [
        ["现有 existing", "保留 keep", "迁址 move", "是 yes", "上午 morning", "轻型 light", "社区型 community"],
        ["新设 new", "新设 open", "撤并 close", "否 no", "下午 afternoon", "", "普惠型 inclusive"],
        ["", "撤并 close", "other", "是 yes", "全天 full day", "未知 unknown", "综合型 comprehensive"]]
    assert book["typed"].iloc[0, 0] == "community"  # its Chinese beside it


def test_sheet_names_excel_refuses_are_made_ones_it_takes(tmp_path):
    """A name with / or longer than 31 characters (xlsxwriter's own error) becomes one Excel takes, each its own."""
    from netopt.report import write_workbook

    write_workbook(tmp_path / "t.xlsx", {"高新区/经开区": pd.DataFrame({"x": [1]}), "a" * 40: pd.DataFrame({"x": [2]}),
                                         "a" * 41: pd.DataFrame({"x": [3]})})
    assert list(pd.read_excel(tmp_path / "t.xlsx", sheet_name=None, engine="openpyxl")) == ["高新区_经开区", "a" * 31,
                                                                                            "a" * 29 + "~2"]


@pytest.mark.parametrize("call, message", [
    (lambda cov: no.coverage.coverage_by_radius(cov, [-1, 2]), "radii_km are positive numbers of km"),
    (lambda cov: no.coverage.coverage_by_radius(cov, "35"), "got '35'"),  # read as 3 and 5 km
    (lambda cov: no.report.coverage_html(cov, towns_shown="5"), "towns_shown must be a whole number of at least 0"),
])
def test_bad_arguments_of_the_table_helpers_are_named(coverage, call, message):
    with pytest.raises(no.InputError, match=message):
        call(coverage)
    assert no.coverage.coverage_by_radius(coverage, 3.5)["radius_km"].tolist() == [3.5]  # one number: one radius


def test_a_county_maps_title_keeps_a_latin_name_for_machines_without_chinese_fonts(coverage, monkeypatch, tmp_path):
    titles = []
    monkeypatch.setattr(report, "_map_png",
                        lambda area, measured, title, new_sites, **shown: titles.append(title) or b"")
    ds = no.load_sample()
    report.county_report(coverage, "肥东县", tmp_path, city=ds)
    bare = no.Dataset(ds.counties.drop(columns="name_pinyin"), ds.towns, ds.branches)  # e.g. the national units
    report.county_report(coverage, "肥东县", tmp_path, city=bare)
    assert titles == ["肥东县 Feidong Xian 网点覆盖 coverage", "肥东县 340122 网点覆盖 coverage"]


def _credited_city(tmp_path: Path) -> Path:
    """The sample copied with its own ATTRIBUTION.txt (数据来源), its towns table named 导出1.csv (found by its
    header 乡镇名称)."""
    import shutil

    folder = tmp_path / "city"
    shutil.copytree(no.datasets.sample_dir(), folder)
    (folder / "towns.csv").rename(folder / "导出1.csv")
    (folder / "ATTRIBUTION.txt").write_text("数据来源：某银行战略部 2026\n内部资料\n", encoding="utf-8")
    return folder


def test_a_data_folders_attribution_is_credited_on_its_maps(tmp_path):
    """ATTRIBUTION.txt beside the tables is credited on the map's legend — not read as a table, even where a table
    is found by its header; a folder without one credits nothing."""
    from netopt.cli import app
    from tests.pages import map_text

    folder = _credited_city(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["map", "--data", str(folder), "--out", str(tmp_path / "map")]).exit_code == 0
    assert "数据来源：某银行战略部 2026 内部资料" in map_text(tmp_path / "map" / "network_map.html")
    (folder / "ATTRIBUTION.txt").unlink()
    assert runner.invoke(app, ["map", "--data", str(folder), "--out", str(tmp_path / "bare")]).exit_code == 0
    page = map_text(tmp_path / "bare" / "network_map.html")
    assert "数据来源" not in page and "Sample data" not in page


@pytest.mark.slow  # 7 s; the reports credit the folder's sources as the map above does (netopt.io.credits)
def test_a_data_folders_attribution_is_credited_on_every_report_page(tmp_path):
    from netopt.cli import app

    reported = CliRunner().invoke(app, ["report", "--data", str(_credited_city(tmp_path)), "--out",
                                        str(tmp_path / "reports")])
    assert reported.exit_code == 0, reported.output
    for page in ("city_summary.html", "county_340102_瑶海区.html"):
        assert "数据来源：某银行战略部 2026 内部资料" in (tmp_path / "reports" / page).read_text(encoding="utf-8")


def test_region_types_in_words_and_a_missing_one_blank():
    from netopt._schema import region_words

    assert [region_words(kind) for kind in ("core", "county", "fringe", "unknown", "郊区", None, float("nan"))] == \
        ["核心城区 core", "县域 county", "城乡结合部 fringe", "未分类 unknown", "郊区", "", ""]


def test_a_reports_tables_of_places_give_their_lon_lat(coverage, tmp_path: Path):
    """Towns, branches and recommendations of a county's workbook, and the city's underserved towns, each at its
    place in the inputs' coordinates (as every table of places netopt writes)."""
    city = no.load_sample()
    report.batch_reports(coverage, tmp_path, city=city, coords="gcj02")
    book = pd.read_excel(tmp_path / "county_340122_肥东县.xlsx", sheet_name=None, engine="openpyxl")
    towns = city.towns.set_index("town_id")
    for sheet, frame, key in (("towns 乡镇", towns, "town_id 乡镇代码"), ("recommendations 建议", towns, "town_id 乡镇代码"),
                              ("branches 网点", city.branches.set_index("branch_id"), "branch_id 网点编号")):
        table = book[sheet].assign(**{key: lambda t, k=key: t[k].astype(str)})
        places = frame.loc[table[key]].geometry
        lon, lat = no.coords.from_wgs84(places.x.to_numpy(), places.y.to_numpy(), "gcj02")
        assert len(table) > 0 and abs(table["lon 经度"] - lon).max() < 1e-6 and abs(table["lat 纬度"] - lat).max() < 1e-6
    underserved = pd.read_excel(tmp_path / "city_summary.xlsx", "underserved towns 服务不足乡镇", engine="openpyxl")
    assert underserved["lon 经度"].notna().all() and len(underserved) == len(coverage.underserved_towns)
