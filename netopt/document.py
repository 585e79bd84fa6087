"""Written reports as Word documents — a diagnosis 分析报告, a plan 方案, plans compared, sites, a curve — to edit."""
from __future__ import annotations

import datetime
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from netopt import deck
from netopt._slides import (EMU_PER_INCH, HEADER_FILL, MUTED_COLOUR, TITLE_COLOUR, column_widths, is_figure,
                            opened_template, table_texts)
from netopt.competition import RivalCoverage
from netopt.coverage import Coverage
from netopt.io import CONTROL_CHARACTERS, write_atomic
from netopt.planning import counted_by_distance, suggested_title
from netopt.report import DECK_TITLE

if TYPE_CHECKING:
    from netopt.access import Accessibility

PAGE_CM = (21.0, 29.7)  # A4
MARGINS_CM = (2.54, 3.18)  # top and bottom, left and right: Word's own in China
BODY_FONT, HEADING_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
BODY_POINTS, TABLE_POINTS, TITLE_POINTS = 10.5, 9, 18  # 五号, 小五, 小二
HEADING_POINTS = (16, 14)  # 三号, 四号
PICTURE_HEIGHT_SHARE = 0.55  # of the page's body: a map leaves room for its caption and text
TOWNS_LISTED, COUNTY_TOWNS_LISTED = 20, 10  # the city's most underserved towns; a county's own
PLAN_ROWS_LISTED = 100  # a plan's changes and changed towns listed; its workbook holds all
WIDE_COLUMNS = 9  # a table of this many columns or more goes on a landscape page (from a portrait one)
TEMPLATE_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"  # a .dotx's
DOCUMENT_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
NOT_A_TEMPLATE = ("not a Word file netopt reads: give a .docx or .dotx template (an old .doc, or a WPS .wpt, saved "
                  "as .docx without a password; a PowerPoint template is for the slides: --template)")
DIGITS = "零一二三四五六七八九"
# the elements a table's properties hold after its borders, and a paragraph's after its grid, in the order Word
# requires
TABLE_AFTER_BORDERS = ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription",
                       "w:tblPrChange")
PARAGRAPH_AFTER_GRID = ("w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                        "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
                        "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
SETTINGS_AFTER_UPDATE = ("w:hdrShapeDefaults", "w:footnotePr", "w:endnotePr", "w:compat", "w:docVars", "w:rsids",
                         "m:mathPr", "w:attachedSchema", "w:themeFontLang", "w:clrSchemeMapping",
                         "w:doNotIncludeSubdocsInStats", "w:doNotAutoCompressPictures", "w:forceUpgrade",
                         "w:captions", "w:readModeInkLockDown", "w:smartTagType", "sl:schemaLibrary",
                         "w:shapeDefaults", "w:doNotEmbedSmartTags", "w:decimalSymbol", "w:listSeparator")
CONTENTS_TITLE = "目录 Contents"


@dataclass
class Writeup:
    """A Word document being written (python-docx's), its body's width and height (inches), how many sections,
    parts of the current section, tables and figures it has numbered so far, and its headings so far (level, text,
    bookmark)."""
    document: object
    width_in: float
    height_in: float
    sections: int = 0
    parts: int = 0
    tables: int = 0
    figures: int = 0
    turned: bool = False  # the page turned landscape for a wide table, until something else follows
    headings: list[tuple[int, str, str]] = field(default_factory=list)


def analysis_report(cov: Coverage, path: str | Path, title: str = DECK_TITLE, city_map: bytes | None = None,
                    county_maps: dict[str, bytes] | None = None, new_sites: pd.DataFrame | None = None,
                    rivals: RivalCoverage | None = None, failures: dict[str, str] | None = None,
                    template: str | Path | None = None, workbook: str = "city_summary.xlsx",
                    county_chart: bytes | None = None, access: Accessibility | None = None,
                    lorenz: bytes | None = None, access_map: bytes | None = None) -> Path:
    """The diagnosis `cov` written up as the bank's analysis report 分析报告 (.docx; Word and WPS open it): its
    contents 目录 (`contents`), what stands out, the city's map (`city_map`, a PNG), coverage by region and by
    county, the most underserved towns, with `new_sites` where new branches would cover most, with `rivals` ours
    beside every bank's, a section per county (its map from `county_maps`, PNGs by county name, its figures and
    underserved towns), any county whose report `failures` lists, and how coverage was measured (coverage by
    county also as `county_chart`, a PNG: maps.county_chart's, where given), with `access` (netopt.accessibility's
    result) its tables, its map (`access_map`, a PNG) and the Lorenz curve (`lorenz`, a PNG); sections numbered
    一、二、…, tables 表1 … and figures 图1 … captioned, headers repeated on each page. A4 in 宋体/黑体 — or in the
    bank's `template` (.docx or .dotx: its page, styles, header and footer; its own text left out). Long tables
    name the `workbook` holding all."""
    writeup = new_writeup(template)
    _title(writeup, title, [_today(), deck.counts_line(cov), deck.settings_line(cov)])
    contents_at = writeup.document.add_paragraph()
    heading(writeup, "要点 Key figures")
    table(writeup, "要点 Key figures", pd.DataFrame(deck.key_figures(cov), columns=["measure", "value"]), {"value": "数值"})
    bullets(writeup, deck.findings(cov, new_sites, failures or {}))
    if city_map is not None:
        heading(writeup, "城市网点覆盖 The city's coverage")
        figure(writeup, city_map, "城市网点覆盖 The city's coverage")
    _titled_table(writeup, "分区域 Coverage by region", deck.shown(cov.by_region, deck.REGION_SLIDE_COLUMNS))
    if cov.core_county_gap_pp == cov.core_county_gap_pp:
        paragraph(writeup, f"核心城区与县域覆盖率差 {cov.core_county_gap_pp:+.1f} 个百分点。 Core minus county "
                           "coverage, percentage points.")
    _titled_table(writeup, "分区县 Coverage by county", deck.shown(cov.by_county, deck.COUNTY_SLIDE_COLUMNS))
    if county_chart is not None:
        figure(writeup, county_chart, "分区县覆盖率 Coverage by county")
    if access is not None:
        _access_section(writeup, access, lorenz, access_map)
    _underserved_section(writeup, cov, workbook)
    if new_sites is not None and len(new_sites):
        _titled_table(writeup, suggested_title(new_sites), deck.shown(new_sites, deck.SITE_SLIDE_COLUMNS))
    if rivals is not None:
        _titled_table(writeup, "我行与全部银行 Ours against every bank",
                      deck.shown(rivals.by_region, deck.RIVAL_SLIDE_COLUMNS))
    _counties_section(writeup, cov, county_maps or {}, new_sites, workbook, access)
    if failures:
        heading(writeup, "未完成区县 Counties whose report failed")
        bullets(writeup, [f"{county}: {why}" for county, why in failures.items()])
    heading(writeup, "说明 How coverage was measured")
    for line in [*cov.notes, cov.attribution]:
        paragraph(writeup, line, muted=True)
    contents(writeup, contents_at)
    return save(writeup, path)


def _access_section(writeup: Writeup, access: Accessibility, lorenz: bytes | None, access_map: bytes | None) -> None:
    """Accessibility 可达性: by region and by county, its map, how evenly it is spread and its Lorenz curve."""
    _titled_table(writeup, f"{deck.ACCESS_TITLE} — 分区域 by region", deck.shown(access.by_region,
                                                                             deck.ACCESS_REGION_COLUMNS))
    _titled_table(writeup, f"{deck.ACCESS_TITLE} — 分区县 by county", deck.shown(access.by_county,
                                                                             deck.ACCESS_COUNTY_COLUMNS))
    if access_map is not None:
        figure(writeup, access_map, deck.ACCESS_MAP_SLIDE_TITLE)
    bullets(writeup, deck.access_lines(access))
    if lorenz is not None:
        figure(writeup, lorenz, "可达性洛伦兹曲线 Access across residents")


def plan_report(path: str | Path, summary: list[tuple[str, object]], picture: bytes | None, moves: pd.DataFrame,
                coverage: pd.DataFrame, towns_changed: pd.DataFrame, extra: dict[str, pd.DataFrame] | None = None,
                workbook: str = "the plan's workbook", template: str | Path | None = None) -> Path:
    """A location plan (netopt optimize's or plan --p's; deck.plan_deck's arguments) written up as the plan's
    report 方案 (.docx) to edit in Word: its summary, its map with coverage today → plan by region, what it opens,
    closes and moves, coverage by region, the towns whose coverage changes most and the `extra` tables by title;
    a long table lists its first PLAN_ROWS_LISTED rows, naming the `workbook` holding all. A4 in 宋体/黑体 — or in
    the bank's `template` (.docx or .dotx)."""
    parts = deck.plan_parts(summary, moves, coverage, towns_changed)
    writeup = new_writeup(template)
    _title(writeup, parts.title, [_today()])
    _titled_table(writeup, deck.PLAN_SUMMARY_TITLE, parts.summary, deck.SUMMARY_LABELS)
    if picture is not None:
        heading(writeup, deck.PLAN_MAP_TITLE)
        figure(writeup, picture, deck.PLAN_MAP_TITLE)
        run_on(writeup, parts.regions, "覆盖率 coverage, today → plan：")
    for title, frame in ((deck.PLAN_CHANGES_TITLE, parts.changes), (deck.PLAN_COVERAGE_TITLE, parts.coverage),
                         (deck.PLAN_TOWNS_TITLE, parts.towns), *(extra or {}).items()):
        _titled_table(writeup, title, frame, workbook=workbook)
    return save(writeup, path)


def rollout_report(path: str | Path, sheets: dict[str, pd.DataFrame], picture: bytes | None = None,
                   lines: list[str] | None = None, title: str = deck.ROLLOUT_TITLE,
                   template: str | Path | None = None) -> Path:
    """A type plan (netopt plan's `sheets`; deck.rollout_deck's arguments) written up as the plan's report 方案
    (.docx) to edit in Word: the type mix before and after (and why a type has no branch), the plan on its map
    (`picture`, a PNG), the types by county, the pilots and why, the rollout batches and the training hubs;
    `lines` under the `title`. A4 in 宋体/黑体 — or in the bank's `template` (.docx or .dotx)."""
    writeup = new_writeup(template)
    _title(writeup, title, [_today(), *(lines or [])])
    (mix_title, mix), *tables = deck.rollout_tables(sheets).items()
    _titled_table(writeup, mix_title, mix)
    for note in sheets["notes"]["note"] if "notes" in sheets else []:  # why a type has no branch
        paragraph(writeup, note, muted=True)
    if picture is not None:
        heading(writeup, deck.ROLLOUT_MAP_TITLE)
        figure(writeup, picture, deck.ROLLOUT_MAP_TITLE)
        run_on(writeup, deck.rollout_lines(sheets))
    for table_title, frame in tables:
        _titled_table(writeup, table_title, frame)
    return save(writeup, path)


def comparison_report(path: str | Path, scenarios: pd.DataFrame, towns: pd.DataFrame, changes: pd.DataFrame,
                      lines: list[str] | None = None, maps: dict[str, bytes] | None = None, chart: bytes | None = None,
                      template: str | Path | None = None, takers: pd.DataFrame | None = None) -> Path:
    """Plans compared 方案比选 (deck.comparison_deck's arguments) written up (.docx) to edit in Word: the plans side by
    side, measure by measure, and as a chart (`chart`, compare's PNG), each plan on its map (`maps`, PNGs by plan
    name) with what it opens and closes, the towns where they differ most, the changes (the first
    PLAN_ROWS_LISTED, all in compare.xlsx) and where closed branches' residents go (`takers`); `lines` under the
    title. A4 in 宋体/黑体 — or in the bank's `template`."""
    writeup = new_writeup(template)
    _title(writeup, deck.COMPARE_TITLE, [_today(), *(lines or [])])
    _titled_table(writeup, deck.SIDE_BY_SIDE_TITLE, deck.measures_by_plan(scenarios))
    if chart is not None:
        figure(writeup, chart, "覆盖对比 Coverage under each plan")
    for plan, picture in (maps or {}).items():
        heading(writeup, f"{plan} 方案 plan")
        figure(writeup, picture, f"{plan} 方案 plan")
        run_on(writeup, deck.compared_plan_lines(scenarios, changes, plan))
    differing, labels = deck.differing_towns(towns)
    _titled_table(writeup, deck.DIFFERING_TITLE, differing, labels, "compare.xlsx")
    _titled_table(writeup, deck.COMPARE_CHANGES_TITLE, deck.listed_changes(changes), workbook="compare.xlsx")
    for title, taken in deck.taken_on(takers, "compare.xlsx").items():
        _titled_table(writeup, title, taken)
    return save(writeup, path)


def site_evaluation_report(path: str | Path, sites: pd.DataFrame, title: str, lines: list[str],
                           picture: bytes | None = None, labels: dict[str, str] | None = None,
                           template: str | Path | None = None) -> Path:
    """Candidate sites evaluated 选址评估 (deck.site_evaluation_deck's arguments) written up (.docx) to edit in Word,
    as a site study 选址论证 begins: `lines` under the `title`, the sites on their map (`picture`, a PNG) with the
    best five, and the ranking (the first PLAN_ROWS_LISTED, all in site_evaluation.xlsx); headers in Chinese from
    `labels`. A4 in 宋体/黑体 — or in the bank's `template`."""
    writeup = new_writeup(template)
    _title(writeup, title, [_today(), *lines])
    if picture is not None:
        heading(writeup, deck.SITES_MAP_TITLE)
        figure(writeup, picture, deck.SITES_MAP_TITLE)
        bullets(writeup, deck.best_site_lines(sites))
    _titled_table(writeup, deck.SITES_RANKED_TITLE, deck.shown(sites, deck.SITE_EVALUATION_COLUMNS), labels,
                  "site_evaluation.xlsx")
    return save(writeup, path)


def summary_report(path: str | Path, title: str, lines: list[str], pictures: dict[str, tuple[bytes, list[str]]],
                   tables: dict[str, pd.DataFrame], labels: dict[str, str] | None = None,
                   template: str | Path | None = None) -> Path:
    """A run's summary (deck.summary_deck's arguments) written up (.docx) to edit in Word: `lines` under the
    `title`, each picture as a figure with its lines, each table under its heading. A4 in 宋体/黑体 — or in the
    bank's `template`."""
    writeup = new_writeup(template)
    _title(writeup, title, [_today(), *lines])
    for caption, (png, beside) in pictures.items():
        heading(writeup, caption)
        figure(writeup, png, caption)
        bullets(writeup, beside)
    for caption, frame in tables.items():
        _titled_table(writeup, caption, frame, labels)
    return save(writeup, path)


def curve_report(path: str | Path, title: str, points: pd.DataFrame, lines: list[str] | None = None,
                 chart: bytes | None = None, template: str | Path | None = None) -> Path:
    """A curve 曲线 (residents covered or won for each number of new branches, or of moves) written up (.docx) to
    edit in Word: `lines` under the `title`, the curve as a figure (`chart`, curve's PNG) and its `points`, a row
    each as the console prints them. A4 in 宋体/黑体 — or in the bank's `template`."""
    writeup = new_writeup(template)
    _title(writeup, title, [_today(), *(lines or [])])
    if chart is not None:
        heading(writeup, deck.CURVE_CHART_TITLE)
        figure(writeup, chart, deck.CURVE_CHART_TITLE)
    _titled_table(writeup, deck.CURVE_POINTS_TITLE, points)
    return save(writeup, path)


def _titled_table(writeup: Writeup, title: str, frame: pd.DataFrame, labels: dict[str, str] | None = None,
                  workbook: str | None = None) -> None:
    """A section of one table: its heading and its table, both `title`d; with a `workbook` (that holds every row),
    its first PLAN_ROWS_LISTED rows, the caption saying so where there are more."""
    if workbook is None:
        table(writeup, title, frame, labels, title)
    else:
        table(writeup, title + deck.cut_note(len(frame), PLAN_ROWS_LISTED, workbook), frame.head(PLAN_ROWS_LISTED),
              labels, title)


def _title(writeup: Writeup, title: str, lines: list[str]) -> None:
    """The report's title (also its file's), then `lines` under it."""
    document = writeup.document
    document.core_properties.title = _xml_text(title)
    _styled(writeup, document.add_paragraph(), "Title", title, TITLE_POINTS, centred=True, bold=True)
    for line in lines:
        _styled(writeup, document.add_paragraph(), "Subtitle", line, BODY_POINTS, centred=True)


def _today() -> str:
    """Today's date as a report is dated, 2026年12月5日."""
    today = datetime.date.today()
    return f"{today.year}年{today.month}月{today.day}日"


def _underserved_section(writeup: Writeup, cov: Coverage, workbook: str) -> None:
    """The city's most underserved towns, the first TOWNS_LISTED, naming the workbook that holds them all."""
    heading(writeup, "服务不足乡镇 Underserved towns")
    towns = cov.underserved_towns
    if len(towns) > TOWNS_LISTED:
        paragraph(writeup, f"共 {len(towns):,} 个，下表列出服务范围外人口最多的 {TOWNS_LISTED} 个；全部见 {workbook}。 "
                           f"{len(towns):,} in all: the {TOWNS_LISTED} with the most residents out of reach below, "
                           "every one in the workbook.")
    table(writeup, "服务不足乡镇 The most underserved towns",
          deck.shown(deck.towns_in_wan(towns).head(TOWNS_LISTED), deck.TOWN_SLIDE_COLUMNS))


def _counties_section(writeup: Writeup, cov: Coverage, county_maps: dict[str, bytes],
                      new_sites: pd.DataFrame | None, workbook: str, access: Accessibility | None = None) -> None:
    """A part per county: its map where there is one, its figures, the new branches suggested in it (`new_sites`,
    where given) and its most underserved towns (the first COUNTY_TOWNS_LISTED, naming the `workbook` holding
    all)."""
    heading(writeup, "分区县情况 County by county")
    for county in cov.by_county["county"]:
        heading(writeup, str(county), level=2)
        if county in county_maps:
            figure(writeup, county_maps[county], f"{county} 网点覆盖 coverage", share=0.8)
        run_on(writeup, deck.county_facts(cov, county, access))
        if new_sites is not None and (new_sites["county"] == county).any():
            ours = new_sites[new_sites["county"] == county]
            counted = "（按距离折算 counted by distance）" if counted_by_distance(ours) else ""
            paragraph(writeup, f"建议新设 {len(ours)} 个网点 new branches suggested{counted}：" + "、".join(
                f"{site.name}（+{site.adds_covered_wan:,.2f} 万人）" for site in ours.itertuples()) + "。")
        towns = cov.underserved_towns[cov.underserved_towns["county"] == county]
        if len(towns):
            listed = deck.shown(deck.towns_in_wan(towns).head(COUNTY_TOWNS_LISTED), deck.TOWN_SLIDE_COLUMNS)
            table(writeup, f"{county} 服务不足乡镇 underserved towns"
                  + deck.cut_note(len(towns), COUNTY_TOWNS_LISTED, workbook), listed.drop(columns="county"))


def new_writeup(template: str | Path | None = None) -> Writeup:
    """An empty Word document: A4, Word's Chinese margins, 宋体 text and 黑体 headings, page numbers in the footer —
    or the bank's `template` (.docx or .dotx: its page, styles, header and footer; its own text left out); its
    file's properties netopt's."""
    from docx import Document

    if template is None:
        document = Document()
        _own_look(document)
    else:
        document = read_word_template(template)
    width, height = _body_inches(document.sections[-1])
    now = datetime.datetime.now().replace(microsecond=0)
    properties = document.core_properties
    properties.author = properties.last_modified_by = "netopt"
    properties.created = properties.modified = now
    properties.revision, properties.language = 1, "zh-CN"
    return Writeup(document, width, height)


def read_word_template(path: str | Path):
    """A Word template (.docx or .dotx) as a document to write in, its own text and tables left out (its last
    section's page, header and footer kept); a file that is none refused by its path."""
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    document = opened_template(path, "report's", Document, (TEMPLATE_TYPE, DOCUMENT_TYPE), NOT_A_TEMPLATE,
                               PackageNotFoundError)
    body = document.element.body
    for child in list(body):
        if child.tag != _tag("sectPr"):
            body.remove(child)
    return document


def _own_look(document) -> None:
    """netopt's page and fonts: A4, Word's Chinese margins, 宋体 (Times New Roman for Latin) 五号 text, 黑体
    headings in the title colour, page numbers centred in the footer; its Chinese text in Chinese (PRC) to Word —
    python-docx's own document calls East Asian text English and its theme's fonts Japanese."""
    from docx.shared import Cm, Pt, RGBColor

    section = document.sections[0]
    section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    section.top_margin = section.bottom_margin = Cm(MARGINS_CM[0])
    section.left_margin = section.right_margin = Cm(MARGINS_CM[1])
    for name, face, points in (("Normal", BODY_FONT, BODY_POINTS), ("Title", HEADING_FONT, TITLE_POINTS),
                               ("Subtitle", BODY_FONT, BODY_POINTS), ("Caption", HEADING_FONT, TABLE_POINTS),
                               ("Heading 1", HEADING_FONT, HEADING_POINTS[0]),
                               ("Heading 2", HEADING_FONT, HEADING_POINTS[1])):
        style = document.styles[name]
        font = style.font
        font.name, font.size = LATIN_FONT, Pt(points)
        font.italic = False  # the default Subtitle's and Caption's: Chinese is not set in italics
        style.element.rPr.rFonts.set(_tag("eastAsia"), face)
        if name.startswith(("Heading", "Title")):
            font.color.rgb = RGBColor(*TITLE_COLOUR)
        elif name != "Normal":
            font.color.rgb = RGBColor(*MUTED_COLOUR)
    footer = section.footer.paragraphs[0]
    footer.alignment = 1  # centred
    footer._p.append(_element("fldSimple", instr="PAGE"))
    document.styles.element.xpath("./w:docDefaults/w:rPrDefault/w:rPr/w:lang")[0].set(_tag("eastAsia"), "zh-CN")
    document.settings.element.find(_tag("themeFontLang")).set(_tag("eastAsia"), "zh-CN")


def heading(writeup: Writeup, text: str, level: int = 1) -> None:
    """A section's heading, numbered as Chinese reports number them: 一、 for a section, （一） for a part of it —
    unless the document's heading style numbers itself (a template's, by Word's list numbering)."""
    _upright(writeup)
    if level == 1:
        writeup.sections += 1
        writeup.parts = 0
        numbered = f"{chinese_number(writeup.sections)}、{text}"
    else:
        writeup.parts += 1
        numbered = f"（{chinese_number(writeup.parts)}）{text}"
    style = f"Heading {level}"
    words = writeup.document.add_paragraph()
    shown = text if _numbers_itself(writeup.document, style) else numbered
    _styled(writeup, words, style, shown, HEADING_POINTS[level - 1], bold=True)
    _bookmark(writeup, words, level, shown)
    if style not in writeup.document.styles:  # still a heading in Word's navigation pane and contents
        words._p.get_or_add_pPr().append(_element("outlineLvl", val=str(level - 1)))  # the last it holds
        words.paragraph_format.keep_with_next = True


def contents(writeup: Writeup, at) -> None:
    """The table of contents 目录 at the empty paragraph `at`, once every heading is written: a TOC field over the
    headings of levels 1 and 2 listing them, each a link to its heading; Word fills in their page numbers as it
    opens the document (it asks first; in WPS or LibreOffice, update the field: 更新域 / 更新目录). The entries take
    the document's toc 1 / toc 2 styles where it has them, else stand apart from the body as tables do. What
    follows starts a page."""
    from docx.shared import Pt
    from docx.text.paragraph import Paragraph

    document = writeup.document
    numbered = _numbers_itself(document, "TOC Heading")  # a template's, based on its numbered Heading 1
    _styled(writeup, at, None if numbered else "TOC Heading", CONTENTS_TITLE, HEADING_POINTS[0], centred=True,
            bold=True)
    if at.style.name != "TOC Heading":  # a template's without it: apart from the body's look, as the entries
        _plain(at, 1)
        at.paragraph_format.space_after = Pt(BODY_POINTS)
    entries = _contents_entries(writeup, at)
    if not entries:
        return
    _as_contents_field(entries)
    after = entries[-1]._p.getnext()
    if after is not None and after.tag == _tag("p"):
        Paragraph(after, at._parent).paragraph_format.page_break_before = True
    settings = document.settings.element
    if settings.find(_tag("updateFields")) is None:
        settings.insert_element_before(_element("updateFields", val="true"), *SETTINGS_AFTER_UPDATE)


def _contents_entries(writeup: Writeup, at) -> list:
    """A paragraph per heading written, after `at`: its text, a link to its bookmark — in the document's toc 1 /
    toc 2 style, else apart from the body's look (a 公文 body's indent and grid), a part two characters in."""
    from docx.shared import Pt

    document = writeup.document
    entries = []
    for level, text, bookmark in writeup.headings:
        entry = document.add_paragraph()
        (entries[-1] if entries else at)._p.addnext(entry._p)
        link = _element("hyperlink", anchor=bookmark, history="1")
        link.append(entry.add_run(_xml_text(text))._r)
        entry._p.append(link)
        if f"toc {level}" in document.styles:
            entry.style = document.styles[f"toc {level}"]
        else:
            _plain(entry, 0)
            entry.paragraph_format.left_indent = Pt(2 * BODY_POINTS * (level - 1))
            entry.paragraph_format.space_after = Pt(BODY_POINTS / 2)
        entries.append(entry)
    return entries


def _as_contents_field(entries: list) -> None:
    """The `entries` made the shown result of a TOC field over headings of levels 1 and 2 (Word's \\o "1-2"), its
    links kept (\\h): the field begins before the first entry's link and ends after the last entry."""
    instruction = _element("instrText")
    instruction.text = ' TOC \\o "1-2" \\h \\z \\u '
    instruction.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    opening = [_element("fldChar", fldCharType="begin"), instruction, _element("fldChar", fldCharType="separate")]
    first_link = entries[0]._p.find(_tag("hyperlink"))
    for part in opening:
        first_link.addprevious(_run_of(part))
    entries[-1]._p.append(_run_of(_element("fldChar", fldCharType="end")))


def _bookmark(writeup: Writeup, words, level: int, text: str) -> None:
    """The heading `words` (its `text`, at `level`) marked by a bookmark for the contents to link to, and listed."""
    number = len(writeup.headings) + 1
    name = f"_Toc{number:08d}"  # Word's own contents name their headings' bookmarks so, hidden
    words.runs[0]._r.addprevious(_element("bookmarkStart", id=str(number), name=name))
    words._p.append(_element("bookmarkEnd", id=str(number)))
    writeup.headings.append((level, text, name))


def _run_of(part):
    """A run w:r holding the element `part` (a field's character or instruction)."""
    run = _element("r")
    run.append(part)
    return run


def _numbers_itself(document, name: str) -> bool:
    """Whether the document's paragraph style `name`, or a style it is based on, carries list numbering."""
    style = document.styles[name] if name in document.styles else None
    while style is not None:
        if style.element.pPr is not None and style.element.pPr.numPr is not None:
            return True
        style = style.base_style
    return False


def chinese_number(number: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (up to 99), as section numbers are written."""
    tens, ones = divmod(number, 10)
    if not 0 < number < 100:
        return str(number)
    said = ("" if tens <= 1 else DIGITS[tens]) + ("十" if tens else "")
    return said + (DIGITS[ones] if ones else "")


def paragraph(writeup: Writeup, text: str, muted: bool = False) -> None:
    """A paragraph of text (`muted`: smaller and grey, as notes are)."""
    from docx.shared import Pt, RGBColor

    _upright(writeup)
    run = writeup.document.add_paragraph().add_run(_xml_text(text))
    if muted:
        run.font.size = Pt(TABLE_POINTS)
        run.font.color.rgb = RGBColor(*MUTED_COLOUR)


def run_on(writeup: Writeup, lines: list[str], lead: str = "") -> None:
    """A slide's lines (its bullets, blank lines between groups) said in one paragraph after `lead`: 网点 branches
    104；新设 new 3；…。"""
    paragraph(writeup, lead + "；".join(line.removeprefix("• ") for line in lines if line) + "。")


def bullets(writeup: Writeup, lines: list[str]) -> None:
    """Lines as a bulleted list (the document's List Bullet style, else a • before each)."""
    _upright(writeup)
    for line in lines:
        if "List Bullet" in writeup.document.styles:
            writeup.document.add_paragraph(_xml_text(line), style="List Bullet")
        else:
            writeup.document.add_paragraph(_xml_text(f"• {line}"))


def figure(writeup: Writeup, png: bytes, caption: str, share: float = 1.0) -> None:
    """A PNG centred, as wide as `share` of the page's body and no taller than PICTURE_HEIGHT_SHARE of it, with
    its numbered caption under it (图1 …)."""
    from docx.shared import Inches
    from PIL import Image

    _upright(writeup)
    with Image.open(io.BytesIO(png)) as image:
        aspect = image.height / image.width
    width = min(writeup.width_in * share, writeup.height_in * PICTURE_HEIGHT_SHARE / aspect)
    writeup.document.add_picture(io.BytesIO(png), width=Inches(width))
    drawn = writeup.document.paragraphs[-1]
    _plain(drawn, 1)  # centred, on single lines: a fixed line height would clip it
    drawn.paragraph_format.keep_with_next = True  # its caption on its page
    writeup.figures += 1
    _caption(writeup, "图", writeup.figures, caption)


def table(writeup: Writeup, caption: str, frame: pd.DataFrame, labels: dict[str, str] | None = None,
          title: str | None = None) -> None:
    """`frame` as a table under its numbered caption (表1 …), and its section's `title` over it where given:
    headers in Chinese over English words (`labels`, else report.HEADERS_ZH's), repeated at the top of each page
    it runs onto; columns as wide as their text asks within the page, text left and figures right; a table of
    WIDE_COLUMNS or more on pages of its own turned landscape; "无 None" for no rows."""
    headers, rows = table_texts(frame, labels)
    wide = bool(rows) and len(headers) >= WIDE_COLUMNS
    turned = wide and (writeup.turned or writeup.height_in > writeup.width_in)  # a landscape page for it
    if turned and not writeup.turned:
        _turn(writeup)
    elif not turned:
        _upright(writeup)
    writeup.turned = False  # its heading and caption on its page
    if title is not None:
        heading(writeup, title)
    writeup.tables += 1
    _caption(writeup, "表", writeup.tables, caption)
    if rows:
        _grid(writeup, headers, rows)
    else:
        paragraph(writeup, "无 None", muted=True)
    writeup.turned = turned


def _upright(writeup: Writeup) -> None:
    """The page turned back upright (portrait) where a wide table turned it, before anything else follows it."""
    if writeup.turned:
        _turn(writeup)
        writeup.turned = False


def _turn(writeup: Writeup) -> None:
    """A new section on a new page, turned: landscape after portrait, portrait after landscape (its header and
    footer the section's before)."""
    from docx.enum.section import WD_ORIENT, WD_SECTION

    section = writeup.document.add_section(WD_SECTION.NEW_PAGE)
    section.page_width, section.page_height = section.page_height, section.page_width
    section.orientation = WD_ORIENT.LANDSCAPE if section.page_width > section.page_height else WD_ORIENT.PORTRAIT
    writeup.width_in, writeup.height_in = _body_inches(section)


def _body_inches(section) -> tuple[float, float]:
    """A section's body, within its margins: width and height in inches."""
    return ((section.page_width - section.left_margin - section.right_margin) / EMU_PER_INCH,
            (section.page_height - section.top_margin - section.bottom_margin) / EMU_PER_INCH)


def _grid(writeup: Writeup, headers: list[str], rows: list[list[str]]) -> None:
    """A table of `headers` and `rows` (texts) in columns as wide as their text asks within the page."""
    from docx.shared import Inches
    from docx.table import _Cell

    widths = column_widths(headers, rows, TABLE_POINTS, writeup.width_in)
    grid = writeup.document.add_table(rows=len(rows) + 1, cols=len(headers))
    grid.autofit = False
    grid.alignment = 1  # centred
    _borders(grid)
    for column, width in zip(grid.columns, widths):  # the grid's widths (LibreOffice's), the cells' (Word's)
        column.width = Inches(width)
    for cell, text, width in zip(grid.rows[0].cells, headers, widths):
        _cell(cell, text, width, header=True, right=False)
    laid_out: dict[tuple[int, bool], object] = {}  # (column, right-aligned): a body cell laid out, to copy
    for tr, texts in zip(grid._tbl.tr_lst[1:], rows):
        for column, (tc, text) in enumerate(zip(tr.tc_lst, texts)):
            right, plain = is_figure(text), _plain_text(text)
            like = laid_out.get((column, right))
            if like is not None and plain:
                tr.replace(tc, _with_text(like, text))
                continue
            _cell(_Cell(tc, grid), text, widths[column], header=False, right=right)
            if plain:  # the first of its kind in its column: the one copied
                laid_out[column, right] = tc
    _keep_rows(grid)
    writeup.document.add_paragraph()


def _plain_text(text: str) -> bool:
    """Whether a cell's text is one run of text alone in Word's XML: not empty, no tab or line break in it."""
    words = _xml_text(text)
    return bool(words) and not any(mark in words for mark in "\t\n\r")


def _with_text(cell, text: str):
    """A copy of a table cell (w:tc) laid out by _cell with a plain text (_plain_text), holding `text` instead:
    the same width, paragraph and run as _cell lays out, a long table several times faster."""
    import copy

    from docx.oxml.ns import qn

    made = copy.deepcopy(cell)
    words = _xml_text(text)
    [shown] = made.xpath("./w:p/w:r/w:t")
    shown.text = words
    if words != words.strip():  # as python-docx keeps a run's spaces
        shown.set(qn("xml:space"), "preserve")
    else:
        shown.attrib.pop(qn("xml:space"), None)
    return made


def _cell(cell, text: str, width_in: float, header: bool, right: bool) -> None:
    """A table cell's text at TABLE_POINTS, bold on a shaded header, figures right-aligned, `width_in` wide."""
    from docx.shared import Inches, Pt

    cell.width = Inches(width_in)
    words = cell.paragraphs[0]
    _plain(words, 2 if right else (1 if header else 0))  # right, centred, left
    run = words.add_run(_xml_text(text))
    run.font.size = Pt(TABLE_POINTS)
    run.font.bold = header
    if header:
        cell._tc.get_or_add_tcPr().append(_element("shd", val="clear", color="auto",
                                                   fill="{:02X}{:02X}{:02X}".format(*HEADER_FILL)))


def _borders(grid) -> None:
    """Thin lines around and between a table's cells, whatever table styles the document has."""
    lines = _element("tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        lines.append(_element(side, val="single", sz="4", space="0", color="808080"))
    grid._tbl.tblPr.insert_element_before(lines, *TABLE_AFTER_BORDERS)


def _plain(words, alignment: int) -> None:
    """A paragraph (a table cell's, a picture's, a caption's) apart from the body text's look: single-spaced, not
    indented, no space around it, off the page's character grid — as a 公文 template's body (fixed 28.95 pt lines,
    28 characters a line, the first indented two) would clip a picture and spread a cell's characters apart —,
    `alignment` 0 left, 1 centred, 2 right."""
    from docx.shared import Pt

    layout = words.paragraph_format
    layout.first_line_indent = layout.left_indent = layout.right_indent = Pt(0)
    layout.space_before = layout.space_after = Pt(0)
    layout.line_spacing = 1.0
    words.alignment = alignment
    words._p.get_or_add_pPr().insert_element_before(_element("snapToGrid", val="0"), *PARAGRAPH_AFTER_GRID)


def _keep_rows(grid) -> None:
    """A table's rows each kept on one page, its first repeated at the top of each page the table runs onto."""
    for r, row in enumerate(grid.rows):
        flags = row._tr.get_or_add_trPr()
        flags.append(_element("cantSplit", val="true"))
        if r == 0:
            flags.append(_element("tblHeader", val="true"))


def _caption(writeup: Writeup, label: str, number: int, text: str) -> None:
    """A table's or figure's caption, centred (the document's Caption style where it has one): its `label` (表,
    图) and `number` — a SEQ field, as Word's own captions are, so that Word renumbers them (F9) when the analyst
    adds or takes out a table — then its `text`."""
    import copy

    from docx.shared import Pt

    words = writeup.document.add_paragraph()
    _styled(writeup, words, "Caption", label, TABLE_POINTS, bold=True)
    field = _element("fldSimple", instr=f" SEQ {label} \\* ARABIC ")
    field.append(words.add_run(str(number))._r)  # the number Word shows until it updates the field
    words._p.append(field)
    words.add_run(_xml_text(f" {text}"))
    look = words.runs[0]._r.rPr  # the label's, where the document has no Caption style
    for run in [*field, *words._p.r_lst[1:]] if look is not None else []:
        run.insert(0, copy.deepcopy(look))
    _plain(words, 1)
    words.paragraph_format.keep_with_next = True
    words.paragraph_format.space_before = words.paragraph_format.space_after = Pt(3)


def _styled(writeup: Writeup, words, style: str | None, text: str, points: float, centred: bool = False,
            bold: bool = False) -> None:
    """`text` in a paragraph of `style` where the document has it; else (a template without it, or no style
    asked) at `points`, `bold` or not."""
    from docx.shared import Pt

    run = words.add_run(_xml_text(text))
    if style is not None and style in writeup.document.styles:
        words.style = writeup.document.styles[style]
    else:
        run.font.size, run.font.bold = Pt(points), bold
    if centred:
        words.alignment = 1


def save(writeup: Writeup, path: str | Path) -> Path:
    """The document written to `path` whole or not at all (io.write_atomic)."""
    return write_atomic(path, lambda p: writeup.document.save(str(p)))


def _xml_text(text: str) -> str:
    """Text as a Word document can hold it: control characters a name may carry from an export (a bell, a
    vertical tab for a line break in a cell) as spaces."""
    return CONTROL_CHARACTERS.sub(" ", str(text))


def _tag(name: str) -> str:
    from docx.oxml.ns import qn

    return qn(f"w:{name}")


def _element(tag: str, **attributes: str):
    """A WordprocessingML element w:`tag` with its w: attributes."""
    from docx.oxml import OxmlElement

    element = OxmlElement(f"w:{tag}")
    for key, value in attributes.items():
        element.set(_tag(key), value)
    return element
