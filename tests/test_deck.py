"""The meeting's slides (deck.py): a diagnosis's, plans compared — their figures, maps and tables, every row on a
slide."""
from __future__ import annotations

import copy
import datetime
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pptx import Presentation
from pptx.util import Inches

import netopt as no
import netopt._slides as parts
import netopt.deck as deck
import netopt.report as report
from netopt._errors import InputError


@pytest.fixture(scope="module")
def city():
    return no.load_sample()


@pytest.fixture(scope="module")
def coverage(city):
    return no.analyze_coverage(city, radius_km={"core": 1.2, "county": 3.5})


@pytest.fixture(scope="module")
def reports(coverage, city, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    access = no.accessibility(city, radius_km={"core": 1.2, "county": 3.5})  # its slides kept on the page too
    written, failures = report.batch_reports(coverage, folder, city=city, access=access)
    assert failures == {}
    return folder, written


def _titles(slides) -> list[str]:
    return [slide.shapes[0].text_frame.text for slide in slides]


def _texts(slide) -> str:
    return "\n".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)


def _table_rows(slides, title: str) -> list[list[str]]:
    """The body rows of the tables on the slides titled `title` (and its continuations), in order."""
    rows = []
    for slide in slides:
        if slide.shapes[0].text_frame.text.startswith(title):
            table = next(shape.table for shape in slide.shapes if shape.has_table)
            rows += [[cell.text for cell in row.cells] for row in list(table.rows)[1:]]
    return rows


def test_the_city_deck_says_what_the_diagnosis_found(coverage, reports):
    """city_summary.pptx: the key figures as the diagnosis has them, the city's map, every county's row, the ten
    most underserved towns, a slide per county with its map, and how coverage was measured."""
    folder, written = reports
    assert folder / "city_summary.pptx" in written
    slides = list(Presentation(str(folder / "city_summary.pptx")).slides)
    counties = coverage.by_county["county"].tolist()
    assert _titles(slides) == ["网点覆盖诊断 Branch coverage diagnosis", "要点 Key figures",
                               "城市网点覆盖 The city's coverage", "分区域 Coverage by region",
                               "分区县 Coverage by county", "分区县覆盖率 Coverage by county (%)",
                               "可达性 Accessibility (2SFCA) — 分区域 by region",
                               "可达性 Accessibility (2SFCA) — 分区县 by county",
                               "可达性分布 Where access is low", "可达性的均衡 How evenly access is spread",
                               "服务不足乡镇 The 10 most underserved towns",
                               *(f"{county} 网点覆盖 coverage" for county in counties),
                               "说明 How coverage was measured"]
    people, covered = coverage.by_region[["population", "covered_population"]].sum()
    figures = _texts(slides[1])
    assert f"{people / 1e4:,.1f} 万人" in figures and f"{100 * covered / people:.1f}%" in figures
    assert f"{coverage.core_county_gap_pp:+.1f} 个百分点" in figures
    least = coverage.by_county.loc[coverage.by_county["coverage_rate_pct"].idxmin()]
    assert f"覆盖率最低的区县：{least['county']} {least['coverage_rate_pct']:.1f}%" in figures
    radii = coverage.by_region.set_index("region_type")["area_radius_km"]  # the planning document's radius
    assert f"服务半径（面积法）核心城区 {radii['core']:.2f} km、县域 {radii['county']:.2f} km" in figures
    by_region = _table_rows(slides, "分区域 Coverage by region")
    assert [row[-1] for row in by_region] == [report.decimal_text(round(r, 2)) for r in radii]
    assert [row[0] for row in _table_rows(slides, "分区县 Coverage by county")] == counties
    chart = next(shape.chart for shape in slides[5].shapes if shape.has_chart)  # PowerPoint's own, editable
    ranked = coverage.by_county.sort_values("coverage_rate_pct", kind="stable")
    assert list(chart.plots[0].categories) == ranked["county"].tolist()
    assert list(chart.series[0].values) == ranked["coverage_rate_pct"].round(1).tolist()
    towns = _table_rows(slides, "服务不足乡镇")
    assert [row[0] for row in towns] == coverage.underserved_towns["name"].head(10).tolist()
    first = coverage.underserved_towns.iloc[0]
    assert towns[0][3] == report.decimal_text(round(first["unserved_population"] / 1e4, 2))  # 万人, two decimals
    maps = [slide for slide in slides if any(shape.shape_type == 13 for shape in slide.shapes)]  # 13: a picture
    assert len(maps) == 1 + 2 + len(counties)  # the city's, access's map and Lorenz curve, each county's
    pictures = [f"county_{row.county_id}_{row.county}.png" for row in coverage.by_county.itertuples()]
    assert all((folder / name).read_bytes()[:4] == b"\x89PNG" for name in ["city_summary.png", *pictures])
    assert coverage.notes[0] in _texts(slides[-1])
    town = coverage.underserved_towns.iloc[0]  # its county's slide: the county's figures, this town first
    said = _texts(next(slide for slide in slides if _titles([slide]) == [f"{town['county']} 网点覆盖 coverage"]))
    row = coverage.by_county.set_index("county").loc[town["county"]]
    assert f"网点 branches {row['branches']:,}" in said and f"覆盖率 coverage {row['coverage_rate_pct']:.1f}%" in said
    assert f"• {town['name']} {town['population'] / 1e4:,.1f} 万人：{town['reason']}" in said
    properties = Presentation(str(folder / "city_summary.pptx")).core_properties  # not the template's
    assert properties.title == _titles(slides)[0] and properties.author == properties.last_modified_by == "netopt"
    assert properties.created > datetime.datetime(2020, 1, 1)  # the template's says 2013


def test_every_table_and_picture_stays_on_its_slide(reports):
    """No shape reaches past the slide's edge: the tables' rows as tall as they are set, the maps fitted."""
    folder, _ = reports
    shown = Presentation(str(folder / "city_summary.pptx"))
    for slide in shown.slides:
        for shape in slide.shapes:
            height = sum(row.height for row in shape.table.rows) if shape.has_table else shape.height
            assert shape.left + shape.width <= shown.slide_width and shape.top + height <= shown.slide_height


def test_the_own_decks_text_is_chinese_with_english_beside_it(reports):
    """Its text styles — the deck's, the master's and the layouts' — call the text Chinese (PRC), English its
    alternative, as PowerPoint in China writes them (python-pptx's own say en-US)."""
    folder, _ = reports
    with zipfile.ZipFile(folder / "city_summary.pptx") as package:
        styles = [package.read(name).decode() for name in package.namelist()
                  if re.fullmatch(r"ppt/(presentation|slideMasters/.*|slideLayouts/.*)\.xml", name)]
    said = [re.findall(r'lang="([^"]+)"', xml) for xml in styles]
    assert len(styles) > 10 and all(said)
    assert {language for languages in said for language in languages} == {"zh-CN"}
    assert all(xml.count(' lang="zh-CN"') == xml.count(' altLang="en-US"') > 0 for xml in styles)
    assert not any(' lang="en-US"' in xml for xml in styles)


def test_a_long_table_goes_on_over_slides_in_order(tmp_path: Path):
    """A province's hundred towns with some long names: every row once, in order, over as many slides as their
    height needs, each table ending above the slide's foot, its header on every slide."""
    rng = np.random.default_rng(5)
    names = [f"中国农业银行股份有限公司合肥长江西路支行营业部{i}号" if i % 6 == 0 else f"镇{i}" for i in range(100)]
    table = pd.DataFrame({"name": names, "county": "蜀山区", "population_wan": rng.random(100) * 30,
                          "nearest_branch_km": rng.random(100) * 5})
    shown = parts.new_deck()
    parts.table_slides(shown, "服务不足乡镇", table)
    slides = list(shown.presentation.slides)
    assert len(slides) > 5 and _titles(slides)[1] == "服务不足乡镇 (续 cont.)"
    assert [row[0] for row in _table_rows(slides, "服务不足乡镇")] == names
    for slide in slides:
        frame = next(shape for shape in slide.shapes if shape.has_table)
        grid = frame.table
        assert frame.height == sum(row.height for row in grid.rows)  # the frame as high as its rows
        assert grid.cell(0, 0).text == "名称\nname"
        assert str(grid.cell(0, 0).fill.fore_color.rgb) == "%02X%02X%02X" % parts.HEADER_FILL  # netopt's own colours
        assert Inches(shown.page.top) + sum(row.height for row in grid.rows) <= Inches(shown.page.bottom)


def test_new_branches_rivals_and_failed_counties_have_their_slides(coverage, tmp_path: Path):
    """With suggested new branches, rivals and a failed county the deck says each — and without a city no map."""
    from netopt.competition import RivalCoverage

    sites = pd.DataFrame({"county": ["长丰县", "长丰县"], "rank": [1, 2], "name": ["罗塘乡", "吴山镇"],
                          "adds_covered_wan": [7.07, 5.4], "reaches": ["罗塘乡", "吴山镇"],
                          "covered_wan_today": [51.6, 51.6], "covered_wan_after": [64.1, 64.1]})
    rivals = RivalCoverage(pd.DataFrame({"region_type": ["core"], "branches_ours": [10], "branches_all": [40],
                                         "coverage_ours_pct": [20.0], "coverage_all_pct": [60.0]}),
                           pd.DataFrame(), pd.DataFrame())
    path = deck.meeting_deck(coverage, tmp_path / "plan.pptx", new_sites=sites, rivals=rivals,
                             failures={"庐江县": "ValueError: broken"})
    slides = list(Presentation(str(path)).slides)
    assert _table_rows(slides, "建议新设网点")[1][2] == "吴山镇"
    assert _table_rows(slides, "我行与全部银行") == [["核心城区 core", "10", "40", "20", "60"]]
    assert "建议新设 2 个网点，新增覆盖 12.5 万人" in _texts(slides[1])
    assert "庐江县: ValueError: broken" in _texts(slides[-2]) and "1 个区县报告未完成" in _texts(slides[1])
    assert not any(shape.shape_type == 13 for slide in slides for shape in slide.shapes)


def test_a_deck_that_cannot_be_written_leaves_nothing(coverage, tmp_path: Path):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(InputError, match="taken"):
        deck.meeting_deck(coverage, tmp_path / "taken" / "city.pptx")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_plans_compared_side_by_side_measure_by_measure(tmp_path: Path):
    """compare's slides: a row per measure and a column per plan, the charts PowerPoint can edit (coverage overall
    and by region, a bar per plan; the towns each leaves uncovered), the towns where they differ and each plan's
    changes — a long list cut to its first rows, the title saying so."""
    scenarios = pd.DataFrame({"scenario": ["today 现状", "撤并2"], "branches": [101, 99], "new": [0, 0],
                              "closed": [0, 2], "coverage_pct": [61.02, 59.6], "coverage_pct_core": [52.38, 50.1],
                              "towns_uncovered": [60, 62]})
    towns = pd.DataFrame({"town_id": ["1"], "name": ["杨庙镇"], "county": ["长丰县"], "residents_wan": [3.1],
                          "covered_wan today 现状": [3.1], "covered_wan 撤并2": [0.0], "lon": [117.1], "lat": [32.1]})
    changes = pd.DataFrame({"scenario": "撤并2", "change": "closed 撤并", "branch_id": [f"B{i}" for i in range(60)],
                            "name": [f"网点{i}" for i in range(60)], "county": "长丰县"})
    from PIL import Image

    chart = io.BytesIO()
    Image.new("RGB", (1600, 900), "white").save(chart, "PNG")
    path = deck.comparison_deck(tmp_path / "compare.pptx", scenarios, towns, changes,
                                ["radius 服务半径: core 1.2 km"], {"撤并2": chart.getvalue()})
    slides = list(Presentation(str(path)).slides)
    rates, uncovered = [shape.chart for shape in slides[2].shapes if shape.has_chart]
    assert list(rates.plots[0].categories) == ["全市 all", "核心城区 core"]
    assert [(series.name, list(series.values)) for series in rates.series] == [("today 现状", [61.0, 52.4]),
                                                                               ("撤并2", [59.6, 50.1])]
    assert list(uncovered.plots[0].categories) == ["today 现状", "撤并2"]
    assert list(uncovered.series[0].values) == [60, 62]
    plan = next(slide for slide in slides if _titles([slide]) == ["撤并2 方案 plan"])  # its map and its changes
    assert any(shape.shape_type == 13 for shape in plan.shapes)
    beside = _texts(plan)
    assert "撤并 closed 2" in beside and "• closed 撤并: 网点11（长丰县）" in beside and "网点12" not in beside
    assert "… 共 60 all in compare.xlsx" in beside
    side = _table_rows(slides, "方案对比")
    assert side == [["网点数 branches", "101", "99"], ["新设 new", "0", "0"], ["撤并 closed", "0", "2"],
                    ["覆盖率(%) coverage (%)", "61.02", "59.60"],
                    [f"{report.HEADERS_ZH['coverage_pct_core']} coverage (%) core", "52.38", "50.10"],
                    [f"{report.HEADERS_ZH['towns_uncovered']} towns uncovered", "60", "62"]]
    assert _table_rows(slides, "差异乡镇") == [["杨庙镇", "长丰县", "3.10", "3.10", "0"]]
    listed = _table_rows(slides, "方案变化")
    assert [row[2] for row in listed] == [f"网点{i}" for i in range(deck.CHANGES_SHOWN)]
    assert _titles(slides)[-1].startswith(f"方案变化 What each plan opens and closes (前 {deck.CHANGES_SHOWN} / 60;")
    sizes = [slide.shapes[0].text_frame.paragraphs[0].runs[0].font.size.pt for slide in (slides[1], slides[-1])]
    assert sizes[0] == 26 and 14 <= sizes[1] <= 19.5  # a title too long for one line is set smaller: two lines
    assert "radius 服务半径: core 1.2 km" in _texts(slides[0])


def test_a_provinces_chart_shows_its_least_covered_counties():
    """Of 40 counties the chart holds the 30 least covered, the most covered of them on top, and says so."""
    rates = np.linspace(20, 99, 40)
    by_county = pd.DataFrame({"county": [f"县{k}" for k in range(40)], "coverage_rate_pct": rates[::-1]})
    shown = parts.new_deck()
    deck._county_chart_slide(shown, by_county)
    slide = shown.presentation.slides[0]
    assert slide.shapes[0].text_frame.text == "分区县覆盖率 Coverage by county (%, the 30 least covered of 40)"
    chart = next(shape.chart for shape in slide.shapes if shape.has_chart)
    assert list(chart.series[0].values) == [round(rate, 1) for rate in rates[:30]]  # lowest first: the bottom bar


def test_headers_say_their_columns_in_words():
    """A slide's headers give each column's name in words under its Chinese, in the analyst's units."""
    columns = ["population_wan", "coverage_rate_pct_before", "branches_per_100km2", "mean_distance_to_branch_km",
               "gdp_yi", "type_zh", "behind_pp", "covered_wan today 现状", "rank", "coverage_pct_core"]
    assert [report.english_header(column) for column in columns] == [
        "population (万)", "coverage rate before (%)", "branches per 100 km²", "mean distance to branch (km)",
        "GDP (亿元)", "type", "behind (pp)", "covered (万) today 现状", "rank", "coverage (%) core"]


def test_short_columns_stay_whole_beside_a_long_one():
    """A rank, a name and a county keep their text on one line beside two long texts, which wrap; a small table
    is not stretched across the slide."""
    headers = ["排名\nrank", "名称\nname", "区县\ncounty", "原因\nreason", "新增网点\nnew sites"]
    rows = [["1", "北城", "长丰县", "3.5 km 内无网点 no branch within 3.5 km；往返 1.7 小时（上限 1.5） round trip " * 3,
             "大杨镇，大圩镇，罗塘乡，吴山镇，桥头集镇，柿树岗乡，砚山镇，白湖镇" * 2]]
    room = parts.Page().right - parts.Page().left
    widths = parts.column_widths(headers, rows, 12, room)
    assert sum(widths) == pytest.approx(room)
    for k, width in enumerate(widths[:3]):
        ems = (width * 72 - parts.CELL_MARGIN_PT) / 12
        assert parts.line_count(rows[0][k], ems) == 1
        assert all(parts.line_count(line, ems / parts.BOLD_WIDER) == 1 for line in headers[k].split("\n"))
    assert all(parts.line_count(rows[0][k], (widths[k] * 72 - parts.CELL_MARGIN_PT) / 12) > 1 for k in (3, 4))
    small = parts.column_widths(["项目\nitem", "数值\nvalue"], [["status 状态", "最优 optimal"]], 12, room)
    assert sum(small) < room / 2
    many = ["区划代码\nadcode", "名称\nname", *[f"指标{k}\nuncovered population residents per branch ({k})"
                                              for k in range(8)]]  # long headers: their words wrap, not a name
    cells = [["340122", "肥东县", *["33.55"] * 8]]
    widths = parts.column_widths(many, cells, 11, room)
    assert all(parts.line_count(text, (width * 72 - parts.CELL_MARGIN_PT) / 11) == 1
               for text, width in zip(cells[0], widths))
    assert widths[1] * 72 - parts.CELL_MARGIN_PT >= 11 * (3 + parts.LINE_SLACK_EM)  # room to spare for 肥东县


def test_a_line_wraps_between_words_and_chinese_characters():
    assert parts.line_count("大杨镇，大圩镇", 3) == 3 and parts.line_count("大杨镇", 3) == 1
    assert parts.line_count("no branch within", 6) == 2  # "no branch " then "within": words whole
    assert parts.line_count("roundtrip", 3) == 2 and parts.line_count("a\nb", 9) == 2  # a long word breaks


SOFFICE, PDFTOTEXT = shutil.which("soffice"), shutil.which("pdftotext")


@pytest.mark.skipif(SOFFICE is None or PDFTOTEXT is None,
                    reason="LibreOffice and poppler are not installed (make test-slides installs them)")
@pytest.mark.parametrize("templated", [False, True])
def test_an_office_suite_draws_each_cells_text_within_its_cell(tmp_path: Path, templated: bool):
    """LibreOffice lays out long Chinese lists, long reasons and short columns each within its own cell as the
    slides set them (a cell whose text needs more lines than its row is set for spills into the row below) — on
    netopt's 16:9 slides and in a bank's 4:3 template."""
    towns = ["大杨镇", "大圩镇", "罗塘乡", "吴山镇", "桥头集镇", "柿树岗乡", "砚山镇", "白湖镇"]
    table = pd.DataFrame({"rank": range(1, 31), "name": [f"R{k}" for k in range(1, 31)], "county": "长丰县",
                          "new_sites": ["，".join(towns[: 1 + k % 8] * (1 + k % 3)) for k in range(30)],
                          "reason": ["3.5 km 内无网点 no branch within 3.5 km；往返 1.7 小时（上限 1.5） round trip 1.7 h "
                                     "(limit 1.5 h)"] * 30, "population_wan": np.linspace(0.5, 30, 30)})
    shown = parts.new_deck(_bank_template(tmp_path / "bank.pptx") if templated else None)
    parts.table_slides(shown, "测试 Test", table)
    path = tmp_path / "tables.pptx"
    shown.presentation.save(str(path))
    subprocess.run([SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)], check=True, capture_output=True,
                   timeout=300)
    text = subprocess.run([PDFTOTEXT, "-bbox", str(tmp_path / "tables.pdf"), "-"], check=True, capture_output=True,
                          text=True).stdout
    box = re.compile(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    pages = [[(float(x0), float(y0), float(x1), float(y1), word) for x0, y0, x1, y1, word in box.findall(page)]
             for page in text.split("<page ")[1:]]
    slides = list(Presentation(str(path)).slides)
    assert len(pages) == len(slides) > 1
    for slide, words in zip(slides, pages):
        shape = next(shape for shape in slide.shapes if shape.has_table)
        tops = np.cumsum([shape.top, *(row.height for row in shape.table.rows)]) / 12700  # 12,700 EMU a point
        lefts = np.cumsum([shape.left, *(column.width for column in shape.table.columns)]) / 12700
        for r, row in enumerate(shape.table.rows):
            for c, cell in enumerate(row.cells):
                inside = sorted((y0, x0, word) for x0, y0, x1, y1, word in words
                                if lefts[c] <= (x0 + x1) / 2 < lefts[c + 1] and tops[r] <= (y0 + y1) / 2 < tops[r + 1])
                assert "".join(word for _, _, word in inside) == re.sub(r"\s", "", cell.text), (r, c)


def _bank_template(path: Path, potx: bool = False, layouts: tuple[str, ...] | None = None) -> Path:
    """A bank's template as analysts are given one: 4:3, a band and a logo on every slide (on its master), and a
    sample slide of its own; as a .potx, its main part typed as a template's, as PowerPoint saves one; with only
    the `layouts` named, where given."""
    from pptx.dml.color import RGBColor
    from pptx.enum.shapes import MSO_SHAPE

    made = Presentation()
    made.slide_width, made.slide_height = Inches(10), Inches(7.5)
    scratch = made.slides.add_slide(made.slide_layouts[6])
    band = scratch.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, Inches(7.1), Inches(10), Inches(0.4))
    band.fill.solid()
    band.fill.fore_color.rgb = RGBColor(0, 0x80, 0x60)
    logo = scratch.shapes.add_textbox(Inches(7.8), Inches(0.1), Inches(2), Inches(0.4))
    logo.text_frame.text = "某某银行 LOGO"
    for shape in (band, logo):
        made.slide_master.shapes._spTree.append(copy.deepcopy(shape._element))
    listed = made.slides._sldIdLst
    made.part.drop_rel(listed[0].rId)
    listed.remove(listed[0])
    for layout in list(made.slide_layouts):
        if layouts is not None and layout.name not in layouts:
            made.slide_layouts.remove(layout)
    made.slides.add_slide(made.slide_layouts[-1]).shapes.title.text = "示例页 a sample slide"
    made.save(str(path))
    if potx:
        book = io.BytesIO()
        with zipfile.ZipFile(path) as read, zipfile.ZipFile(book, "w") as written:
            for item in read.infolist():
                data = read.read(item)
                written.writestr(item, data.replace(parts.DECK_TYPE, parts.TEMPLATE_TYPE)
                                 if item.filename == "[Content_Types].xml" else data)
        path = path.with_suffix(".potx")
        path.write_bytes(book.getvalue())
    return path


@pytest.mark.parametrize("potx, layouts, used", [(False, None, "Title Only"), (True, None, "Title Only"),
                                                 (False, ("Title Slide", "Title and Content"), "Title and Content"),
                                                 (False, ("Title Only",), "Title Only")])
def test_the_slides_take_the_banks_template(coverage, tmp_path: Path, potx: bool, layouts, used: str):
    """With the bank's template (.pptx or .potx) the deck takes its size, its master (the logo on every slide) and
    its layouts — the cover's title and subtitle (netopt's own boxes where it has no cover layout), each slide's
    title in its title-only layout's placeholder (or, where it has none, a title-and-content layout's, its content
    box taken off) —, leaves its sample slide out, and keeps every table, chart and map within the slide."""
    from PIL import Image

    template = _bank_template(tmp_path / "农行汇报模板.pptx", potx, layouts)
    picture = io.BytesIO()
    Image.new("RGB", (800, 1000), "white").save(picture, "PNG")
    path = deck.meeting_deck(coverage, tmp_path / "city.pptx", city_map=picture.getvalue(), template=template)
    shown = Presentation(str(path))
    assert (shown.slide_width, shown.slide_height) == (Inches(10), Inches(7.5))
    slides = list(shown.slides)
    assert "示例页" not in "".join(_texts(slide) for slide in slides)
    if layouts is None or "Title Slide" in layouts:
        assert slides[0].slide_layout.name == "Title Slide" and slides[0].shapes.title.text == report.DECK_TITLE
    else:  # no empty title box left on the cover
        assert not slides[0].placeholders and _titles(slides[:1]) == [report.DECK_TITLE]
    assert f"{datetime.date.today():%Y-%m-%d} · netopt" in _texts(slides[0])  # in the cover's subtitle
    assert {slide.slide_layout.name for slide in slides[1:]} == {used}
    titles = [slide.shapes.title.text for slide in slides[1:]]
    assert titles[:4] == ["要点 Key figures", "城市网点覆盖 The city's coverage", "分区域 Coverage by region",
                          "分区县 Coverage by county"]
    assert all(len(slide.placeholders) == 1 for slide in slides[1:])  # the title's alone: no empty box left
    assert "某某银行 LOGO" in [shape.text_frame.text for shape in shown.slide_master.shapes if shape.has_text_frame]
    assert shown.slide_master.element.xpath(".//*[@lang='en-US']")  # the template's own language kept
    for slide in slides:
        for shape in slide.shapes:
            height = sum(row.height for row in shape.table.rows) if shape.has_table else shape.height
            assert shape.left + shape.width <= shown.slide_width and shape.top + height <= shown.slide_height
    assert [row[0] for row in _table_rows(slides, "分区县 Coverage by county")] == coverage.by_county["county"].tolist()
    header = next(shape.table for slide in slides for shape in slide.shapes if shape.has_table).cell(0, 0)
    assert header.fill.type is None  # the template's table style colours it (its accent), not netopt's blue
    assert shown.core_properties.author == "netopt"


def test_where_closed_branches_residents_go_is_shown_only_where_branches_close():
    """taken_on: where each closed branch's residents go as a plan's extra table — none where no branch closes;
    the first 15, the title naming the workbook holding all, names not ids, how far each taker stands (and
    compare's plan, by its scenario column)."""
    from netopt.deck import TAKEN_ON_TITLE, taken_on

    takers = pd.DataFrame({"closed_id": "B0", "closed_name": "网点0", "taker_id": [f"B{k}" for k in range(1, 21)],
                           "taker_name": [f"网点{k}" for k in range(1, 21)], "residents_wan": 1.0, "distance_km": 2.5})
    assert taken_on(takers.head(0), "x.xlsx") == {} == taken_on(None, "x.xlsx")
    (title, table), = taken_on(takers, "mclp_plan.xlsx").items()
    assert title.startswith(TAKEN_ON_TITLE) and "全部见 mclp_plan.xlsx" in title and len(table) == 15
    assert list(table) == ["closed_name", "taker_name", "residents_wan", "distance_km"]
    (_, compared), = taken_on(takers.assign(scenario="撤并2")[["scenario", *takers]], "compare.xlsx").items()
    assert list(compared) == ["scenario", "closed_name", "taker_name", "residents_wan", "distance_km"]


def test_every_cell_of_a_long_table_holds_its_own_text_laid_out_as_its_columns_first():
    """Body cells are laid out once per column and copied (each figure's right-aligned copy apart): every cell its
    own text — a line break (two paragraphs), a tab, a control character python-pptx escapes, none —, each laid
    out as the first of its column."""
    texts = ["普通", " 前后空格 ", "两行\n文字", "", "制表\t符", "铃\x07声", "普通二"]
    table = pd.DataFrame({"name": texts, "population_wan": [1.5, 2.25, None, 3.0, 4.0, 5.5, 6.0]})
    shown = parts.new_deck()
    parts.table_slides(shown, "测试 Test", table)
    grid = next(shape.table for shape in shown.presentation.slides[0].shapes if shape.has_table)
    body = list(grid.rows)[1:]
    assert [row.cells[0].text for row in body] == ["普通", " 前后空格 ", "两行\n文字", "", "制表\t符", "铃_x0007_声", "普通二"]
    assert [len(row.cells[0].text_frame.paragraphs) for row in body] == [1, 1, 2, 1, 1, 1, 1]
    assert [row.cells[1].text for row in body] == [cells[1] for cells in parts.table_texts(table)[1]]
    for column in range(2):
        looks = {(run.font.size, run.font.bold, paragraph.alignment, str(run.font.color.rgb))
                 for row in body for paragraph in row.cells[column].text_frame.paragraphs for run in paragraph.runs}
        assert len(looks) == 1, looks
