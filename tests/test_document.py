"""The analysis report 分析报告 (document.py): a diagnosis written up as a Word document — its sections, tables,
figures and captions, in netopt's A4 look or the bank's own template."""
from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from PIL import Image

import netopt as no
import netopt._slides as parts
import netopt.document as document
from netopt._errors import InputError
from netopt.competition import rival_coverage
import netopt.deck as deck
from netopt.deck import findings
from tests.test_deck import _bank_template as bank_deck


@pytest.fixture(scope="module")
def coverage():
    return no.analyze_coverage(no.load_sample(), radius_km={"core": 1.2, "county": 3.5})


def _png(width: int, height: int) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(data, "PNG")
    return data.getvalue()


@pytest.fixture(scope="module")
def written(coverage, tmp_path_factory):
    """The sample's report with a city map (landscape) and every county's map (portrait) but 肥东县's."""
    maps = {county: _png(300, 600) for county in coverage.by_county["county"] if county != "肥东县"}
    path = tmp_path_factory.mktemp("document") / "city_summary.docx"
    document.analysis_report(coverage, path, "农行合肥分行网点覆盖诊断", city_map=_png(800, 600), county_maps=maps)
    return path, Document(str(path)), maps


def _entries(shown) -> list:
    """The contents' entries: the paragraphs that are a link to a heading."""
    return [p for p in shown.paragraphs if p._p.xpath("./w:hyperlink")]


def _body(shown) -> list:
    """The document's paragraphs but its contents' entries."""
    return [p for p in shown.paragraphs if not p._p.xpath("./w:hyperlink")]


def _headings(shown, level: int) -> list[str]:
    return [p.text for p in shown.paragraphs if p.style.name == f"Heading {level}"]


def _captions(shown) -> list[str]:
    """The captions' texts, their numbers (SEQ fields) with them."""
    return ["".join(p._p.xpath(".//w:t/text()")) for p in shown.paragraphs if p.style.name == "Caption"]


def test_the_report_says_what_the_diagnosis_found_in_numbered_sections(coverage, written):
    path, shown, _ = written
    assert _headings(shown, 1) == ["一、要点 Key figures", "二、城市网点覆盖 The city's coverage",
                                   "三、分区域 Coverage by region", "四、分区县 Coverage by county",
                                   "五、服务不足乡镇 Underserved towns", "六、分区县情况 County by county",
                                   "七、说明 How coverage was measured"]
    counties = coverage.by_county["county"].tolist()
    assert _headings(shown, 2) == [f"（{document.chinese_number(k)}）{c}" for k, c in enumerate(counties, 1)]
    assert shown.paragraphs[0].text == "农行合肥分行网点覆盖诊断" and shown.paragraphs[0].style.name == "Title"
    assert shown.core_properties.title == "农行合肥分行网点覆盖诊断" and shown.core_properties.author == "netopt"
    said = [p.text for p in shown.paragraphs]
    assert [p.text for p in shown.paragraphs if p.style.name == "List Bullet"] == findings(coverage, None, {})
    assert any(line.startswith("共 41 个") and "city_summary.xlsx" in line for line in said)  # 41 towns, 20 listed
    assert said[-1] == coverage.attribution


def test_tables_are_numbered_headed_in_words_with_figures_right(coverage, written):
    _, shown, _ = written
    towns = coverage.underserved_towns
    with_towns = [c for c in coverage.by_county["county"] if (towns["county"] == c).any()]
    cut = {"肥东县": " (前 10 / 17; 全部见 city_summary.xlsx the first 10, all in the workbook)"}  # its 17 towns
    assert [c for c in _captions(shown) if c.startswith("表")] == [
        f"表{k} {title}" for k, title in enumerate(["要点 Key figures", "分区域 Coverage by region",
                                                    "分区县 Coverage by county", "服务不足乡镇 The most underserved towns",
                                                    *(f"{c} 服务不足乡镇 underserved towns" + cut.get(c, "")
                                                      for c in with_towns)], 1)]
    numbers = [p._p.xpath("./w:fldSimple/@w:instr") for p in shown.paragraphs if p.style.name == "Caption"]
    assert numbers[:2] == [[" SEQ 表 \\* ARABIC "], [" SEQ 图 \\* ARABIC "]]  # fields Word renumbers
    by_county = shown.tables[2]
    assert by_county.rows[0].cells[0].text == "区县\ncounty"
    assert by_county.rows[0].cells[2].text == "常住人口(万人)\npopulation (万)"
    assert [row.cells[0].text for row in by_county.rows[1:]] == coverage.by_county["county"].tolist()
    assert len(shown.tables[3].rows) == 1 + 20
    assert len(shown.tables[4 + with_towns.index("肥东县")].rows) == 1 + 10
    first = by_county.rows[1]
    assert first.cells[2].text == f"{coverage.by_county['population_wan'].iloc[0]:,.2f}"
    assert first.cells[2].paragraphs[0].alignment == 2 and first.cells[0].paragraphs[0].alignment == 0
    header = by_county.rows[0]._tr.trPr
    assert header.find(qn("w:tblHeader")) is not None  # repeated on each page
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in by_county.rows)
    widths = [column.width for column in shown.tables[3].columns]
    assert widths[-1] > 1.5 * widths[1]  # the reasons wider than the county
    section = shown.sections[0]
    assert sum(widths) <= section.page_width - section.left_margin - section.right_margin


def test_maps_are_figures_within_the_page(coverage, written):
    _, shown, maps = written
    figures = [c for c in _captions(shown) if c.startswith("图")]
    assert figures == ["图1 城市网点覆盖 The city's coverage",
                       *(f"图{k} {c} 网点覆盖 coverage" for k, c in enumerate(maps, 2))]
    section = shown.sections[0]
    assert (section.page_width.cm, section.page_height.cm) == pytest.approx((21, 29.7), abs=0.01)
    room = section.page_height - section.top_margin - section.bottom_margin
    pictures = shown.inline_shapes
    assert len(pictures) == 1 + len(maps)
    assert pictures[0].width <= section.page_width - section.left_margin - section.right_margin
    assert all(p.height <= document.PICTURE_HEIGHT_SHARE * room + 1 for p in pictures)
    assert pictures[1].height == pytest.approx(2 * pictures[1].width, rel=0.01)  # the county's shape kept
    held = [p for p in shown.paragraphs if p._p.xpath(".//pic:pic")]
    assert len(held) == len(pictures) and all(p.paragraph_format.keep_with_next for p in held)  # with its caption


def test_the_own_look_is_a4_in_chinese_fonts_with_page_numbers(written):
    """… its Chinese text in Chinese (PRC) for Word's proofing and line breaking, and its theme's East Asian fonts
    Chinese."""
    path, shown, _ = written
    language = shown.styles.element.xpath("./w:docDefaults/w:rPrDefault/w:rPr/w:lang")[0]
    assert language.get(qn("w:eastAsia")) == "zh-CN" and language.get(qn("w:val")) == "en-US"
    assert shown.settings.element.find(qn("w:themeFontLang")).get(qn("w:eastAsia")) == "zh-CN"
    normal = shown.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体" and shown.styles["Heading 1"].element.rPr.rFonts.get(
        qn("w:eastAsia")) == "黑体"
    assert shown.styles["Subtitle"].font.italic is False
    with zipfile.ZipFile(path) as parts:
        footer = parts.read("word/footer1.xml").decode()
    assert 'w:instr="PAGE"' in footer


def test_new_branches_rivals_and_failed_counties_have_their_sections(coverage, tmp_path: Path):
    sites = pd.DataFrame({"county": ["肥东县"], "rank": [1], "name": ["撮镇镇"], "adds_covered_wan": [3.2],
                          "reaches": ["撮镇镇"], "covered_wan_today": [51.6], "covered_wan_after": [54.8]})
    rivals = rival_coverage(coverage, coverage)
    path = document.analysis_report(coverage, tmp_path / "r.docx", new_sites=sites, rivals=rivals,
                                    failures={"巢湖市": "ValueError: bad"})
    shown = Document(str(path))
    headings = _headings(shown, 1)
    assert headings[4:] == ["五、建议新设网点 Where new branches would cover most", "六、我行与全部银行 Ours against every bank",
                            "七、分区县情况 County by county", "八、未完成区县 Counties whose report failed",
                            "九、说明 How coverage was measured"]
    assert "巢湖市: ValueError: bad" in [p.text for p in shown.paragraphs]
    assert [cell.text for cell in shown.tables[4].rows[1].cells] == ["肥东县", "1", "撮镇镇", "3.20", "撮镇镇"]
    ours = shown.tables[5].rows[1].cells
    assert ours[0].text == "核心城区 core" and ours[1].text == ours[2].text  # ours beside every bank's: alike here
    assert any("建议新设 1 个网点，新增覆盖 3.2 万人" in p.text for p in shown.paragraphs)
    county = [p.text for p in _body(shown)]
    assert county[county.index("（六）肥东县") + 2] == "建议新设 1 个网点 new branches suggested：撮镇镇（+3.20 万人）。"


def test_plans_compared_are_written_up_measure_by_measure(tmp_path: Path):
    """compare.docx: a row per measure and a column per plan, the chart, each plan on its map with its figures
    and changes, the towns where they differ, and every change (under PLAN_ROWS_LISTED) listed."""
    scenarios = pd.DataFrame({"scenario": ["today 现状", "撤并2"], "branches": [101, 99], "new": [0, 0],
                              "closed": [0, 2], "coverage_pct": [61.02, 59.6]})
    towns = pd.DataFrame({"town_id": ["1"], "name": ["杨庙镇"], "county": ["长丰县"], "residents_wan": [3.1],
                          "covered_wan today 现状": [3.1], "covered_wan 撤并2": [0.0], "lon": [117.1], "lat": [32.1]})
    changes = pd.DataFrame({"scenario": "撤并2", "change": "closed 撤并", "branch_id": [f"B{i}" for i in range(60)],
                            "name": [f"网点{i}" for i in range(60)], "county": "长丰县"})
    path = document.comparison_report(tmp_path / "compare.docx", scenarios, towns, changes, ["radius 服务半径: 3.5 km"],
                                      {"撤并2": _png(300, 300)}, _png(800, 450))
    shown = Document(str(path))
    assert [p.text for p in shown.paragraphs[:3]] == ["方案比选 Plans compared", document._today(),
                                                      "radius 服务半径: 3.5 km"]
    assert _headings(shown, 1) == ["一、方案对比 The plans side by side", "二、撤并2 方案 plan",
                                   "三、差异乡镇 Towns where the plans differ", "四、方案变化 What each plan opens and closes"]
    assert [[cell.text for cell in row.cells] for row in shown.tables[0].rows[1:]] == [
        ["网点数 branches", "101", "99"], ["新设 new", "0", "0"], ["撤并 closed", "0", "2"],
        ["覆盖率(%) coverage (%)", "61.02", "59.60"]]
    assert [c for c in _captions(shown) if c.startswith("图")] == ["图1 覆盖对比 Coverage under each plan",
                                                                   "图2 撤并2 方案 plan"]
    beside = next(p.text for p in shown.paragraphs if p.text.startswith("网点 branches"))
    assert "撤并 closed 2" in beside and "closed 撤并: 网点11（长丰县）" in beside and "网点12" not in beside
    assert [[cell.text for cell in row.cells] for row in shown.tables[1].rows[1:]] == [
        ["杨庙镇", "长丰县", "3.10", "3.10", "0"]]
    assert [row.cells[2].text for row in shown.tables[2].rows[1:]] == [f"网点{i}" for i in range(60)]


def test_a_wide_table_goes_on_a_landscape_page_and_the_text_after_it_upright(tmp_path: Path):
    """A table of WIDE_COLUMNS columns gets landscape pages of its own, its heading with it, within their margins;
    the text after it goes back to portrait; two wide tables in a row share the landscape pages; a wide table
    last leaves no empty page after it."""
    wide = pd.DataFrame({f"c{k}": [f"第{k}列的值 value {k}"] * 3 for k in range(document.WIDE_COLUMNS)})
    narrow = pd.DataFrame({"name": ["大杨镇"], "population_wan": [14.13]})
    writeup = document.new_writeup()
    document.paragraph(writeup, "前言 before")
    document.table(writeup, "宽表 wide", wide, title="宽表 A wide table")
    document.paragraph(writeup, "后记 after")
    document.table(writeup, "窄表 narrow", narrow)
    document.table(writeup, "宽表一 wide", wide)
    document.table(writeup, "宽表二 wide", wide)
    shown = Document(str(document.save(writeup, tmp_path / "wide.docx")))
    turned = [section.page_width > section.page_height for section in shown.sections]
    assert turned == [False, True, False, True]
    body = shown.element.body
    breaks = [k for k, child in enumerate(body) if child.xpath("./w:pPr/w:sectPr")]  # where each section ends
    texts = ["".join(child.xpath(".//w:t/text()")) for child in body]
    first_wide = texts.index("表1 宽表 wide")
    assert breaks[0] < texts.index("一、宽表 A wide table") < first_wide < breaks[1] < texts.index("后记 after")
    assert breaks[2] < texts.index("表3 宽表一 wide") and len(breaks) == 3  # the last section: both wide tables
    for table, section in zip(shown.tables, (shown.sections[1], shown.sections[2], shown.sections[3])):
        assert sum(column.width for column in table.columns) <= (section.page_width - section.left_margin
                                                                 - section.right_margin)
    assert sum(column.width for column in shown.tables[0].columns) > shown.sections[0].page_width  # it needed it


def test_the_report_opens_with_its_contents_linked_to_each_heading(written):
    """目录 after the title: a TOC field of the section and part headings, listing them meanwhile (each linked to a
    bookmark on its heading), Word asked to fill in the page numbers on opening; the first section on a new page."""
    shown = written[1]
    said = [p.text for p in shown.paragraphs]
    start = said.index(document.CONTENTS_TITLE)
    assert shown.paragraphs[start].style.name == "TOC Heading" and start == 4  # after the title and its three lines
    headings = [p for p in shown.paragraphs if p.style.name.startswith("Heading")]
    entries = shown.paragraphs[start + 1: start + 1 + len(headings)]
    assert [p.text for p in entries] == [p.text for p in headings] and len(headings) == 7 + 9  # 9 counties
    for entry, heading in zip(entries, headings):
        anchor = entry._p.xpath("./w:hyperlink/@w:anchor")
        assert anchor and heading._p.xpath("./w:bookmarkStart/@w:name") == anchor
        assert heading._p.xpath("./w:bookmarkEnd/@w:id") == heading._p.xpath("./w:bookmarkStart/@w:id")
    fields = [(run.tag.split("}")[1], run.get(qn("w:fldCharType")) or run.text) for run in
              shown.element.body.xpath(".//w:fldChar | .//w:instrText")]
    assert fields == [("fldChar", "begin"), ("instrText", ' TOC \\o "1-2" \\h \\z \\u '), ("fldChar", "separate"),
                      ("fldChar", "end")]
    assert entries[0]._p.xpath("./w:r/w:fldChar/@w:fldCharType") == ["begin", "separate"]
    assert entries[-1]._p.xpath("./w:r/w:fldChar/@w:fldCharType") == ["end"]
    assert shown.paragraphs[start + 1 + len(headings)]._p is headings[0]._p  # right after the contents
    assert headings[0].paragraph_format.page_break_before
    settings = [child.tag.split("}")[1] for child in shown.settings.element]
    assert shown.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"
    assert settings.index("updateFields") < settings.index("compat")  # where Word's schema puts it


@pytest.mark.parametrize("number, said", [(1, "一"), (9, "九"), (10, "十"), (12, "十二"), (20, "二十"), (35, "三十五"),
                                          (99, "九十九"), (100, "100")])
def test_sections_are_numbered_as_chinese_reports_number_them(number: int, said: str):
    assert document.chinese_number(number) == said


def _bank_template(path: Path, dotx: bool = False, styles: bool = True) -> Path:
    """A bank's Word template: A4 landscape, a header, its own Heading 1, a sample paragraph and table; `styles`
    False: without Heading, TOC Heading, Caption, Title, Subtitle and List Bullet styles (as Word saves only those
    in use)."""
    made = Document()
    section = made.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.header.paragraphs[0].text = "中国农业银行 内部资料"
    made.add_paragraph("模板说明：请在此处填写正文")
    made.add_table(rows=2, cols=2)
    if not styles:
        for style in list(made.styles):
            if style.name.startswith(("Heading", "TOC Heading", "Caption", "Title", "Subtitle", "List Bullet")):
                made.styles.element.remove(style.element)
    data = io.BytesIO()
    made.save(data)
    if dotx:
        data = io.BytesIO(_as_dotx(data.getvalue()))
    path.write_bytes(data.getvalue())
    return path


def _as_dotx(data: bytes) -> bytes:
    copy = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as book, zipfile.ZipFile(copy, "w") as written:
        for item in book.infolist():
            content = book.read(item)
            if item.filename == "[Content_Types].xml":
                content = content.replace(document.DOCUMENT_TYPE, document.TEMPLATE_TYPE)
            written.writestr(item, content)
    return copy.getvalue()


@pytest.mark.parametrize("dotx", [False, True])
def test_the_report_takes_the_banks_template(coverage, tmp_path: Path, dotx: bool):
    template = _bank_template(tmp_path / ("农行报告模板.dotx" if dotx else "农行报告模板.docx"), dotx)
    shown = Document(str(document.analysis_report(coverage, tmp_path / "r.docx", template=template)))
    section = shown.sections[0]
    assert (section.page_width.cm, section.page_height.cm) == pytest.approx((29.7, 21), abs=0.01)
    assert section.header.paragraphs[0].text == "中国农业银行 内部资料"
    said = [p.text for p in shown.paragraphs]
    assert "模板说明：请在此处填写正文" not in said and len(shown.tables) == 4 + coverage.underserved_towns[
        "county"].nunique()
    assert _headings(shown, 1)[0] == "一、要点 Key figures"
    assert shown.styles["Normal"].element.rPr is None or shown.styles["Normal"].element.rPr.rFonts is None or (
        shown.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) != "宋体")  # the template's fonts kept
    widths = sum(column.width for column in shown.tables[3].columns)
    assert widths <= section.page_width - section.left_margin - section.right_margin


def test_a_template_without_heading_styles_gets_bold_headings_and_bullets(coverage, tmp_path: Path):
    template = _bank_template(tmp_path / "plain.docx", styles=False)
    shown = Document(str(document.analysis_report(coverage, tmp_path / "r.docx", template=template)))
    first = next(p for p in _body(shown) if p.text == "一、要点 Key figures")
    assert first.style.name == "Normal" and first.runs[0].font.bold
    assert first._p.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == "0"  # in Word's navigation pane
    county = next(p for p in _body(shown) if p.text.endswith("瑶海区"))
    assert county._p.pPr.find(qn("w:outlineLvl")).get(qn("w:val")) == "1"
    caption = next(p for p in shown.paragraphs if p.text.startswith("表"))
    assert [run.get(qn("w:val"), "on") for run in caption._p.xpath(".//w:r/w:rPr/w:b")] == ["on"] * 3  # bold, all
    contents = next(p for p in shown.paragraphs if p.text == document.CONTENTS_TITLE)
    assert contents.style.name == "Normal" and contents.runs[0].font.bold and contents.alignment == 1
    assert contents._p.pPr.find(qn("w:snapToGrid")).get(qn("w:val")) == "0"  # apart from the body's grid
    entries = _entries(shown)
    assert [p.paragraph_format.left_indent for p in entries[4:6]] == [Pt(0), Pt(21)]  # a county's part indented
    assert [p.text for p in shown.paragraphs if p.text.startswith("• ")] == [
        f"• {line}" for line in findings(coverage, None, {})]


def test_a_template_numbering_its_headings_gets_no_second_number(coverage, tmp_path: Path):
    """A template whose Heading 2 numbers itself (Word's list numbering, （一） as a 公文 template's does) gets the
    county parts' names alone; its unnumbered Heading 1 still gets 一、二、…"""
    made = Document()
    numbering = made.styles["Heading 2"].element.get_or_add_pPr().get_or_add_numPr()
    numbering.get_or_add_numId().val, numbering.get_or_add_ilvl().val = 1, 0
    made.save(str(tmp_path / "numbered.docx"))
    shown = Document(str(document.analysis_report(coverage, tmp_path / "r.docx", template=tmp_path / "numbered.docx")))
    assert _headings(shown, 2) == coverage.by_county["county"].tolist()
    assert _headings(shown, 1)[0] == "一、要点 Key figures"


def test_cells_pictures_and_captions_stand_apart_from_a_gongwen_body(coverage, tmp_path: Path):
    """A 公文 template's body — fixed 28.95 pt lines, the first line indented two characters, on the page's
    character grid — is not laid on table cells, pictures, captions and the contents' entries: they are
    single-spaced, not indented and off the grid (a fixed line would clip a picture in Word)."""
    made = Document()
    body = made.styles["Normal"].paragraph_format
    body.line_spacing, body.first_line_indent = Pt(28.95), Pt(32)
    made.save(str(tmp_path / "gongwen.docx"))
    shown = Document(str(document.analysis_report(coverage, tmp_path / "r.docx", city_map=_png(400, 300),
                                                  template=tmp_path / "gongwen.docx")))
    apart = [paragraph for table in shown.tables for row in table.rows for cell in row.cells
             for paragraph in cell.paragraphs]
    apart += [p for p in shown.paragraphs if p.style.name == "Caption" or p._p.xpath(".//pic:pic")]
    entries = _entries(shown)  # no toc styles here
    assert len(apart) > 100 and any(p._p.xpath(".//pic:pic") for p in apart) and len(entries) == 7 + 9
    apart += entries
    for paragraph in apart:
        layout = paragraph.paragraph_format
        assert layout.line_spacing == 1.0 and layout.first_line_indent == 0
        assert paragraph._p.pPr.find(qn("w:snapToGrid")).get(qn("w:val")) == "0"


# the properties of a paragraph and of a table, in the order WordprocessingML's schema sets them (Word refuses a
# document whose elements are out of order as unreadable)
PARAGRAPH_ORDER = ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
                   "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
                   "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
                   "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
                   "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr",
                   "sectPr", "pPrChange"]
TABLE_ORDER = ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize", "tblW",
               "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
               "tblCaption", "tblDescription", "tblPrChange"]
CELL_ORDER = ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
              "textDirection", "tcFitText", "vAlign", "hideMark"]


@pytest.mark.parametrize("own", [True, False])
def test_every_property_is_where_words_schema_puts_it(coverage, written, tmp_path: Path, own: bool):
    """In netopt's look, and in a template without heading styles (its headings given an outline level)."""
    plain = None if own else _bank_template(tmp_path / "plain.docx", styles=False)
    shown = written[1] if own else Document(str(document.analysis_report(coverage, tmp_path / "r.docx",
                                                                         template=plain)))
    body = shown.element.body
    for kind, order in (("pPr", PARAGRAPH_ORDER), ("tblPr", TABLE_ORDER), ("tcPr", CELL_ORDER)):
        found = body.xpath(f".//w:{kind}")
        assert found, kind
        for properties in found:
            tags = [child.tag.split("}")[1] for child in properties]
            assert [order.index(tag) for tag in tags] == sorted(order.index(tag) for tag in tags), (kind, tags)


@pytest.mark.parametrize("read, suffix, refusal, unread", [
    (document.read_word_template, ".docx", "not a Word file", "cannot read the report's template"),
    (parts.read_template, ".pptx", "not a PowerPoint file", "cannot read the slides' template")])
def test_a_template_that_is_none_is_refused_by_its_name(tmp_path: Path, read, suffix: str, refusal: str,
                                                        unread: str):
    """A text named 模板.docx (.pptx), a workbook, a Word file as the slides' template (a deck as the report's):
    refused naming the file; a file that is not there: said it cannot be read."""
    (tmp_path / f"模板{suffix}").write_text("not a document")
    book = tmp_path / "模板.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(book)
    other = _bank_template(tmp_path / "other.docx") if suffix == ".pptx" else bank_deck(tmp_path / "other.pptx")
    for path in (tmp_path / f"模板{suffix}", book, other):
        with pytest.raises(InputError, match=refusal) as raised:
            read(path)
        assert raised.value.problems[0].file == str(path)
    with pytest.raises(InputError, match=unread):
        read(tmp_path / f"none{suffix}")


def test_names_carrying_control_characters_are_written_with_spaces(coverage, tmp_path: Path):
    """A name exported with a bell or a vertical tab (a cell's line break) — which XML, so Word, cannot hold —
    is written with a space for each, in the tables, the bullets and the title."""
    from dataclasses import replace

    towns = coverage.underserved_towns.copy()
    towns.loc[towns.index[0], "name"] = "大杨\x0b镇\x07"
    shown = Document(str(document.analysis_report(replace(coverage, underserved_towns=towns), tmp_path / "r.docx",
                                                  "诊断\x01报告")))
    assert shown.paragraphs[0].text == "诊断 报告" and shown.core_properties.title == "诊断 报告"
    assert shown.tables[3].rows[1].cells[0].text == "大杨 镇 "
    assert any("最需关注：大杨 镇 " in p.text for p in shown.paragraphs)


def test_a_report_that_cannot_be_written_leaves_nothing(coverage, tmp_path: Path, monkeypatch):
    def broken(self, path):
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr("docx.document.Document.save", broken)
    with pytest.raises(OSError):
        document.analysis_report(coverage, tmp_path / "r.docx")
    assert list(tmp_path.iterdir()) == []


SOFFICE, WRITER, PDFTOTEXT = shutil.which("soffice"), shutil.which("lowriter"), shutil.which("pdftotext")


@pytest.mark.skipif(None in (SOFFICE, WRITER, PDFTOTEXT),
                    reason="LibreOffice Writer and poppler are not installed (make test-slides installs them)")
@pytest.mark.parametrize("wide", [False, True])
def test_an_office_suite_lays_every_word_within_the_pages_margins(written, coverage, tmp_path: Path, wide: bool):
    """LibreOffice draws the report — and a report with a wide table on landscape pages — with every table and
    picture within its page's margins: no word runs past them, and every table's rows are there."""
    path, shown, _ = written
    if wide:  # forty sites evaluated, eleven columns
        sites = pd.DataFrame({"rank": range(1, 41), "name": [f"合肥市万达广场一楼商铺{k}号" for k in range(40)],
                              "county": "肥东县", **{column: 1.5 for column in deck.SITE_EVALUATION_COLUMNS[3:]},
                              "overlap_pct": 12.0})
        path = document.site_evaluation_report(tmp_path / "city_summary.docx", sites, "选址评估 Site evaluation",
                                               ["radius 服务半径: 3.5 km"], _png(400, 300))
        shown = Document(str(path))
    subprocess.run([SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)], check=True, capture_output=True,
                   timeout=300)
    text = subprocess.run([PDFTOTEXT, "-bbox", str(tmp_path / "city_summary.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    margins = shown.sections[0].left_margin / 12700, shown.sections[0].right_margin / 12700  # in points
    words, widths = [], set()
    for page in text.split("<page ")[1:]:
        width = float(re.match(r'width="([\d.]+)"', page).group(1))
        widths.add(round(width))
        for x0, x1, word in re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
                                       page):
            words.append(word)
            assert margins[0] - 2 <= float(x0) and float(x1) <= width - margins[1] + 2, (word, width)
    assert len(words) > 500 and len(widths) == 1 + wide  # portrait pages, and landscape ones for the wide table
    drawn = re.sub(r"\s", "", html.unescape(" ".join(words)))
    assert all(re.sub(r"\s", "", row.cells[0].text) in drawn for table in shown.tables for row in table.rows[1:])
    assert all(re.sub(r"\s", "", caption) in drawn for caption in _captions(shown))  # numbered as written


def test_every_cell_of_a_long_table_holds_its_own_text_laid_out_as_its_columns_first():
    """Body cells are laid out once per column and copied (each figure's right-aligned copy apart): every cell its
    own text — spaces around it kept, a line break, a tab, none —, each laid out as the first of its column."""
    texts = [" 前后空格 ", "普通", "两行\n文字", "", "制表\t符", "普通二", " 尾空格"]
    counties = ["瑶海区", " 庐阳区", "蜀山区", "包河区 ", "长丰县", "肥东县", "肥西县"]  # its first without spaces
    frame = pd.DataFrame({"name": texts, "population_wan": [1.5, 2.25, None, 3.0, 4.0, 5.5, 6.0],
                          "county": counties})
    writeup = document.new_writeup()
    document.table(writeup, "表", frame)
    written = io.BytesIO()
    writeup.document.save(written)
    grid = Document(written).tables[0]
    body = grid.rows[1:]
    assert [row.cells[0].text for row in body] == texts
    assert [row.cells[1].text for row in body] == [cells[1] for cells in parts.table_texts(frame)[1]]
    assert [row.cells[1].text for row in body][:4] == ["1.50", "2.25", "", "3"]
    assert [row.cells[2].text for row in body] == counties
    breaks = [(len(row.cells[0]._tc.xpath(".//w:br")), len(row.cells[0]._tc.xpath(".//w:tab"))) for row in body]
    assert breaks[2:5] == [(1, 0), (0, 0), (0, 1)]  # Word's line break and tab, not the characters in its text
    spaces = [[row.cells[k]._tc.xpath("./w:p/w:r/w:t/@xml:space") for row in body] for k in (0, 2)]
    assert spaces == [[["preserve"], [], [], [], [], [], ["preserve"]],
                      [[], ["preserve"], [], ["preserve"], [], [], []]]
    for column in range(3):
        looks = {(cell.paragraphs[0].alignment, cell.width, tuple(run.font.size for run in cell.paragraphs[0].runs[:1]),
                  cell.paragraphs[0].runs[0].font.bold if cell.paragraphs[0].runs else None)
                 for cell in (row.cells[column] for row in body) if cell.text}
        assert len(looks) == 1, looks
