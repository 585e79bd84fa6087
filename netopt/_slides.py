"""How the meeting's slides are drawn: a deck (16:9, or the bank's own template), titles, text, pictures, tables."""
from __future__ import annotations

import datetime
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netopt._errors import InputError
from netopt.io import write_atomic
from netopt.report import cell_text, column_label

SLIDE_WIDTH_IN, SLIDE_HEIGHT_IN = 13.333, 7.5  # 16:9, as PowerPoint and WPS start a deck
MARGIN_IN = 0.45
EMU_PER_INCH = 914400
CELL_MARGIN_PT, CELL_PADDING_PT = 14.4, 7.2  # a table cell's left and right margins together; top and bottom
NARROW_EM, WIDE_EM = 0.6, 1.0  # a Latin and a Chinese character's width per point of type, as the wider fonts set them
BOLD_WIDER = 1.15  # a bold header's characters against the body's
LATIN_LINE_EM, CHINESE_LINE_EM = 1.25, 1.45  # a line's height per point: Chinese fonts' lines stand taller (Noto CJK)
MIN_COLUMN_EM, MAX_COLUMN_EM = 3, 36  # a column's narrowest (a header's longest word, if longer) and widest asked
LINE_SLACK_EM = 0.5  # room beyond a cell's widest line: one just as wide as its column wraps in LibreOffice
MAX_WIDENING = 1.6  # a narrow table's columns grow at most this much toward the slide's width
LABELLED_POINTS = 12  # a line's points or columns labelled with their values up to this many; more would crowd it
LEAST_TITLE_POINTS = 14
NOTE_CHARACTERS_PER_SLIDE = 1400
TITLE_COLOUR, MUTED_COLOUR, TEXT_COLOUR = (0x1F, 0x3A, 0x5F), (0x59, 0x59, 0x59), (0x20, 0x20, 0x20)
HEADER_FILL = (0xDC, 0xE6, 0xF0)  # a table's header row
TABLE_GAP_IN = 0.05  # between the body's top and a table
SLIDE_LABELS = {"unserved_wan": "未覆盖人口(万人)", "measure": "指标",
                "longest_minutes": "最远车程(分钟)"}  # beside report.HEADERS_ZH, a slide's own
TEMPLATE_TYPE = b"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"  # a .potx's
DECK_TYPE = b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
NOT_A_TEMPLATE = ("not a PowerPoint file netopt reads: give a .pptx or .potx template (a .ppt, or a WPS .dpt, saved "
                  "as .pptx without a password; a Word template is for the Word documents: --word-template)")
BODY_LEAST_IN = (3.0, 2.0)  # a template's content box narrower or lower than this is not taken as the slides' body


@dataclass(frozen=True)
class Page:
    """Where a deck's slides put things, in inches: the slide's size and the body's box under each title."""
    width: float = SLIDE_WIDTH_IN
    height: float = SLIDE_HEIGHT_IN
    left: float = MARGIN_IN
    top: float = 1.2
    right: float = SLIDE_WIDTH_IN - MARGIN_IN
    bottom: float = 7.2

    @property
    def breadth(self) -> float:
        """The body's width."""
        return self.right - self.left

    @property
    def body(self) -> tuple[float, float, float, float]:
        """The body's box: left, top, width, height."""
        return self.left, self.top, self.breadth, self.bottom - self.top


@dataclass
class Deck:
    """A deck being written: the presentation (python-pptx's), where its slides put things, and the layouts of its
    cover and of every other slide — a template's, whose title placeholders hold the titles; None: netopt's own."""
    presentation: object
    page: Page
    cover: object | None = None
    content: object | None = None


def new_deck(template: str | Path | None = None) -> Deck:
    """An empty deck, 16:9 — or in the bank's `template` (.pptx or .potx: its size, layouts, fonts, colours and
    logo; its own slides left out) —, its file's properties netopt's."""
    from pptx import Presentation
    from pptx.util import Inches

    if template is None:
        presentation = Presentation()
        presentation.slide_width, presentation.slide_height = Inches(SLIDE_WIDTH_IN), Inches(SLIDE_HEIGHT_IN)
        _in_chinese(presentation)
        deck = Deck(presentation, Page())
    else:
        deck = _template_deck(read_template(template))
    now = datetime.datetime.now().replace(microsecond=0)
    properties = deck.presentation.core_properties  # a template's (its author, 2013) would show in the file's
    properties.author = properties.last_modified_by = "netopt"
    properties.created = properties.modified = now
    properties.revision, properties.language = 1, "zh-CN"
    return deck


def _in_chinese(presentation) -> None:
    """python-pptx's own deck, whose text styles call text English (en-US), calling it Chinese (PRC) with English
    beside it, as PowerPoint in China does: for proofing and line breaking."""
    styles = [presentation.part._element, presentation.slide_master._element]
    for element in styles + [layout._element for layout in presentation.slide_master.slide_layouts]:
        for properties in element.xpath(".//*[@lang='en-US']"):
            properties.set("lang", "zh-CN")
            properties.set("altLang", "en-US")


def read_template(path: str | Path):
    """A PowerPoint template (.pptx or .potx) as a presentation to write slides in, its own slides left out; a
    file that is none refused by its path."""
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    presentation = opened_template(path, "slides'", Presentation, (TEMPLATE_TYPE, DECK_TYPE), NOT_A_TEMPLATE,
                                   PackageNotFoundError)
    listed = presentation.slides._sldIdLst  # a template's own slides (a sample cover, instructions) left out
    for entry in list(listed):
        presentation.part.drop_rel(entry.rId)
        listed.remove(entry)
    return presentation


def opened_template(path: str | Path, whose: str, open_file, types: tuple[bytes, bytes], refusal: str,
                    not_a_package: type[Exception]):
    """A template file opened by `open_file` (python-pptx's Presentation, python-docx's Document) — a .potx or
    .dotx as its document (`types`: its main part's content type and the document's; see untemplated); a file
    that cannot be read, or is none (`not_a_package`, the library's error), refused by its path: `whose`
    template (the slides', the report's) cannot be read, or `refusal`."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read the {whose} template: {err.strerror or err}", file=str(path)) from None
    try:
        return open_file(io.BytesIO(untemplated(data, *types)))
    except (not_a_package, zipfile.BadZipFile, KeyError, ValueError):
        raise InputError(refusal, file=str(path)) from None


def untemplated(data: bytes, template_type: bytes, main_type: bytes) -> bytes:
    """A template's bytes (.potx, .dotx) as its document's (.pptx, .docx): the content type of its main part,
    `template_type`, alone differs and becomes `main_type`; any other file as given."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            types = book.read("[Content_Types].xml")
            if template_type not in types:
                return data
            copy = io.BytesIO()
            with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as written:
                for item in book.infolist():
                    written.writestr(item, types.replace(template_type, main_type)
                                     if item.filename == "[Content_Types].xml" else book.read(item))
            return copy.getvalue()
    except (zipfile.BadZipFile, KeyError):
        return data  # read as it is, refused as no deck or document


def _template_deck(presentation) -> Deck:
    """A template's deck: its cover layout (a centred title), its slides' layout (a title alone, else blank, else
    any with a title) and its page — the body where its title-and-content layout puts the content, else under
    the title."""
    from pptx.enum.shapes import PP_PLACEHOLDER

    chrome = {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER}
    kinds = [(layout, {shape.placeholder_format.type for shape in layout.placeholders} - chrome)
             for layout in presentation.slide_layouts]
    cover = next((layout for layout, kind in kinds if PP_PLACEHOLDER.CENTER_TITLE in kind), None)
    content = next((layout for layout, kind in kinds if kind == {PP_PLACEHOLDER.TITLE}),
                   next((layout for layout, kind in kinds if not kind),
                        next((layout for layout, kind in kinds if PP_PLACEHOLDER.TITLE in kind), kinds[0][0])))
    width, height = presentation.slide_width / EMU_PER_INCH, presentation.slide_height / EMU_PER_INCH
    boxes = [_box(shape, width, height) for layout, kind in kinds if PP_PLACEHOLDER.TITLE in kind
             for shape in layout.placeholders
             if shape.placeholder_format.type in (PP_PLACEHOLDER.OBJECT, PP_PLACEHOLDER.BODY)]
    title = next((_box(shape, width, height) for shape in content.placeholders
                  if shape.placeholder_format.type == PP_PLACEHOLDER.TITLE), None)
    body = next((box for box in boxes if box and box[2] >= BODY_LEAST_IN[0] and box[3] >= BODY_LEAST_IN[1]), None)
    if body:
        left, top, box_width, box_height = body
        page = Page(width, height, left, top, left + box_width, top + box_height)
    else:
        top = title[1] + title[3] + 0.15 if title else 1.2
        page = Page(width, height, MARGIN_IN, top, width - MARGIN_IN, height - 0.3)
    return Deck(presentation, page, cover, content)


def _box(shape, width: float, height: float) -> tuple[float, float, float, float] | None:
    """A placeholder's box (inches: left, top, width, height) where its layout or master sets one on the slide."""
    box = (shape.left, shape.top, shape.width, shape.height)
    if any(value is None for value in box):
        return None
    left, top, wide, tall = (value / EMU_PER_INCH for value in box)
    return (left, top, wide, tall) if left >= 0 and top >= 0 and left + wide <= width and top + tall <= height else None


def title_slide(deck: Deck, title: str, lines: list[str]) -> None:
    """The deck's first slide: its title (also the file's), `lines` under it, and the day it was written — in a
    template's cover layout where it has one."""
    deck.presentation.core_properties.title = title
    lines = [*lines, f"{datetime.date.today():%Y-%m-%d} · netopt"]
    page = deck.page
    if deck.cover is None:
        slide = _blank(deck)
        _drop(slide.placeholders)  # a template's without a cover layout: its title box left empty otherwise
        text_box(slide, [title], (page.left, 0.29 * page.height, page.breadth, 1.2), title_points(deck, title, 36),
                 bold=True, colour=TITLE_COLOUR)
        text_box(slide, lines, (page.left, 0.48 * page.height, page.breadth, 2.0), 18, colour=MUTED_COLOUR)
        return
    from pptx.enum.shapes import PP_PLACEHOLDER

    slide = deck.presentation.slides.add_slide(deck.cover)
    held = {shape.placeholder_format.type: shape for shape in slide.placeholders}
    heading = held.pop(PP_PLACEHOLDER.CENTER_TITLE)
    _say(heading, [title], fitting_points(title, 2 * _width_in(heading, page.width), 36, 20))
    subtitle = held.pop(PP_PLACEHOLDER.SUBTITLE, None)
    if subtitle is not None:
        _say(subtitle, lines, 16)
    else:
        text_box(slide, lines, (page.left, 0.6 * page.height, page.breadth, 0.3 * page.height), 16,
                 colour=MUTED_COLOUR)
    _drop(held.values())


def titled_slide(deck: Deck, title: str):
    """A new slide with its title at the top: in the template's title placeholder where it has one."""
    from pptx.enum.shapes import PP_PLACEHOLDER

    new = _blank(deck)
    held = {shape.placeholder_format.type: shape for shape in new.placeholders}
    placeholder = held.pop(PP_PLACEHOLDER.TITLE, None)
    _drop(held.values())
    if placeholder is None:
        text_box(new, [title], (deck.page.left, 0.3, deck.page.breadth, 0.8), title_points(deck, title, 26), bold=True,
                 colour=TITLE_COLOUR)
    else:  # the template's face and colour, at a size that keeps the title on one line of its box
        _say(placeholder, [title], fitting_points(title, _width_in(placeholder, deck.page.breadth) - 0.2, 28, 16))
    return new


def _width_in(placeholder, otherwise: float) -> float:
    """A placeholder's width in inches; `otherwise` where neither its layout nor its master sets one."""
    return placeholder.width / EMU_PER_INCH if placeholder.width else otherwise


def _blank(deck: Deck):
    """A new slide of the deck's content layout (the default template's blank one)."""
    presentation = deck.presentation
    return presentation.slides.add_slide(deck.content or presentation.slide_layouts[6])


def _say(placeholder, lines: list[str], points: int) -> None:
    """A template's placeholder holding `lines` in its own face and colour, at `points`."""
    from pptx.util import Pt

    frame = placeholder.text_frame
    frame.text = "\n".join(lines)
    for paragraph in frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(points)


def _drop(placeholders) -> None:
    """A template's placeholders a slide leaves empty (a layout's body, a picture's) taken off it."""
    for shape in list(placeholders):
        shape._element.getparent().remove(shape._element)


def fitting_points(text: str, width_in: float, largest: int, least: int) -> int:
    """The type size (points, `least` to `largest`) at which bold text fits on one line `width_in` wide."""
    return int(min(max(width_in * 72 / (BOLD_WIDER * max(_em(text), 1)), least), largest))


def title_points(deck: Deck, title: str, largest: int) -> int:
    """A title's font size: `largest` where it fits the page's width on one line (bold, its characters measured
    as _em does), smaller for a longer one (a plan's or a cut table's), so that it stays within two lines of its
    box."""
    room, needed = deck.page.breadth * 72, BOLD_WIDER * _em(title)
    if needed * largest <= room:
        return largest
    return int(max(min(largest * 0.75, 2 * room / needed), LEAST_TITLE_POINTS))


def text_box(slide, lines: list[str], box: tuple[float, float, float, float], size: int, bold: bool = False,
             colour: tuple[int, int, int] = TEXT_COLOUR) -> None:
    """Lines of text in a box (left, top, width, height in inches), wrapped."""
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    frame = slide.shapes.add_textbox(*map(Inches, box)).text_frame
    frame.word_wrap = True
    for k, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = line
        run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, RGBColor(*colour)


def fitted_picture(slide, png: bytes, box: tuple[float, float, float, float]) -> None:
    """A picture as large as fits the box, its proportions kept."""
    from PIL import Image
    from pptx.util import Inches

    width, height = Image.open(io.BytesIO(png)).size
    left, top, room_w, room_h = box
    scale = min(room_w / width, room_h / height)
    slide.shapes.add_picture(io.BytesIO(png), Inches(left), Inches(top), Inches(width * scale), Inches(height * scale))


def editable_chart(slide, box: tuple[float, float, float, float], title: str, categories: list[str],
                   series: dict[str, list[float]], decimals: int = 1, kind: str = "column",
                   most: float | None = None, axis: str | None = None) -> object:
    """A chart PowerPoint can edit (its data in the deck; a template's colours and fonts its own) in a box
    (inches) under its `title`: of `kind` column, bar (horizontal) or line, a bar or point per category in each
    series, labelled with its value (`decimals`; a line's where it has few points), a bar's value axis from 0 (to
    `most` where given), the category axis titled `axis` where given, a legend under it for several series."""
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Inches, Pt

    number = "0" if decimals == 0 else f"0.{'0' * decimals}"
    data = CategoryChartData(number_format=number)
    data.categories = categories
    for name, values in series.items():
        data.add_series(name, values)
    chart_type = {"column": XL_CHART_TYPE.COLUMN_CLUSTERED, "bar": XL_CHART_TYPE.BAR_CLUSTERED,
                  "line": XL_CHART_TYPE.LINE_MARKERS}[kind]
    chart = slide.shapes.add_chart(chart_type, *map(Inches, box), data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = title
    chart.chart_title.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position, chart.legend.include_in_layout = XL_LEGEND_POSITION.BOTTOM, False
    plot = chart.plots[0]
    plot.has_data_labels = kind == "bar" or len(categories) <= LABELLED_POINTS
    if plot.has_data_labels:
        plot.data_labels.number_format, plot.data_labels.number_format_is_linked = number, False
        plot.data_labels.font.size = Pt(11)
    if len(categories) > LABELLED_POINTS:
        chart.category_axis.tick_labels.font.size = Pt(10)
    if kind != "line":
        chart.value_axis.minimum_scale = 0.0
    if most is not None:
        chart.value_axis.maximum_scale = most
    if axis is not None:
        chart.category_axis.has_title = True
        chart.category_axis.axis_title.text_frame.text = axis
        chart.category_axis.axis_title.text_frame.paragraphs[0].runs[0].font.size = Pt(12)
    return chart


def map_slide(deck: Deck, title: str, png: bytes, lines: list[str], size: int = 16) -> None:
    """A map on the left of the slide, `lines` of text beside it."""
    new = titled_slide(deck, title)
    left, top, width, height = deck.page.body
    fitted_picture(new, png, (left, top, 0.555 * width, height))
    text_box(new, lines, (left + 0.575 * width, top + 0.1, 0.425 * width, height - 0.1), size)


def text_slides(deck: Deck, title: str, paragraphs: list[str]) -> None:
    """Paragraphs of text on as many slides as they need."""
    pages: list[list[str]] = [[]]
    for paragraph in filter(None, paragraphs):
        if pages[-1] and sum(map(len, pages[-1])) + len(paragraph) > NOTE_CHARACTERS_PER_SLIDE:
            pages.append([])
        pages[-1].append(paragraph)
    for k, page in enumerate(pages):
        text_box(titled_slide(deck, title + (" (续 cont.)" if k else "")), page, deck.page.body, 12, colour=MUTED_COLOUR)


def save(deck: Deck, path: str | Path) -> Path:
    """The deck written to `path` whole or not at all (io.write_atomic)."""
    return write_atomic(path, lambda p: deck.presentation.save(str(p)))


def table_slides(deck: Deck, title: str, table: pd.DataFrame, labels: dict[str, str] | None = None,
                 figures_from: int = 0) -> None:
    """`table` on as many slides as its rows need (by their height, long names wrapping), headers in Chinese
    (`labels`, else report.HEADERS_ZH's) over English; figures right-aligned in its columns from `figures_from` on."""
    headers, rows = table_texts(table, labels)
    if not rows:
        text_box(titled_slide(deck, title), ["无 None"], (deck.page.left, deck.page.top + 0.1, 6, 0.6), 16,
                 colour=MUTED_COLOUR)
        return
    size = 12 if len(headers) <= 7 else 11
    widths = column_widths(headers, rows, size, deck.page.breadth)
    heights = [row_height(headers, widths, size - 1, BOLD_WIDER), *(row_height(row, widths, size) for row in rows)]
    top, bottom = deck.page.top + TABLE_GAP_IN, deck.page.bottom - 0.1
    for k, page in enumerate(_pages(list(zip(rows, heights[1:])), bottom - top - heights[0])):
        _table(titled_slide(deck, title + (" (续 cont.)" if k else "")), deck, [(headers, heights[0]), *page], widths,
               size, figures_from)


def table_texts(table: pd.DataFrame, labels: dict[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """A table's headers — Chinese (`labels`, SLIDE_LABELS, else report.HEADERS_ZH's) over English words — and its
    cells' texts, as slides and Word documents show them."""
    headers = [column_label(c, "\n", {**SLIDE_LABELS, **(labels or {})}) for c in table.columns]
    return headers, [[cell_text(c, value) for c, value in zip(table.columns, row)]
                     for row in table.itertuples(index=False)]


def column_widths(headers: list[str], rows: list[list[str]], size: int, room_in: float) -> list[float]:
    """Each column's width (inches) in `room_in`: every cell and header line on one line where there is room;
    else every cell (the widest counted up to MAX_COLUMN_EM), the headers wrapping between their words; else the
    widest columns narrowed to one width, their text wrapping, none below its header's longest word
    (MIN_COLUMN_EM at least) — short columns (a county, a rank) stay whole; each cell's widest line with
    LINE_SLACK_EM to spare."""
    floors = np.array([max(BOLD_WIDER * max(_em(piece.rstrip()) for line in header.split("\n")
                                            for piece in _pieces(line)), MIN_COLUMN_EM) for header in headers]) * size
    widest = [max((_em(line) + LINE_SLACK_EM for row in rows for line in row[k].split("\n")), default=0)
              for k in range(len(headers))]
    needs = np.maximum(np.minimum(widest, MAX_COLUMN_EM) * size, floors)
    whole = np.maximum(needs, [BOLD_WIDER * max(map(_em, header.split("\n"))) * size for header in headers])
    room = room_in * 72 - CELL_MARGIN_PT * len(headers)
    return list((_fitted(needs, floors, whole, room) + CELL_MARGIN_PT) / 72)


def _fitted(needs: np.ndarray, floors: np.ndarray, whole: np.ndarray, room: float) -> np.ndarray:
    """Widths within `room`: `whole` (with the headers on one line) grown alike where it fits (by MAX_WIDENING at
    most); else the needs, grown toward it alike; else the needs cut to one level filling the room, no width below
    its floor (the floors shrunk alike where even they do not fit)."""
    if whole.sum() <= room:
        return whole * min(room / whole.sum(), MAX_WIDENING)
    if needs.sum() <= room:
        return needs + (whole - needs) * (room - needs.sum()) / (whole - needs).sum()
    if floors.sum() >= room:
        return floors * room / floors.sum()
    low, high = 0.0, float(needs.max())
    for _ in range(50):  # the level at which the cut widths fill the room
        level = (low + high) / 2
        low, high = (level, high) if np.clip(level, floors, needs).sum() < room else (low, level)
    widths = np.clip(low, floors, needs)
    return widths * room / widths.sum()


def row_height(texts: list[str], widths: list[float], size: int, wider: float = 1.0) -> float:
    """How tall (inches) a row of a table stands once its cells wrap to their column's width (its characters
    `wider` than the body's: a bold header's)."""
    tallest = max(line_count(text, (width * 72 - CELL_MARGIN_PT) / size / wider) * size *
                  (CHINESE_LINE_EM if any(map(_is_wide, text)) else LATIN_LINE_EM)
                  for text, width in zip(texts, widths))
    return (tallest + CELL_PADDING_PT) / 72


def line_count(text: str, room_em: float) -> int:
    """How many lines text takes in a box `room_em` ems wide: each of its lines wrapped between Latin words or
    Chinese characters, a word wider than the box broken within it."""
    count = 0
    for line in text.split("\n"):
        lines, used = 1, 0.0
        for piece in _pieces(line):
            width = _em(piece.rstrip())
            if used and used + width > room_em:
                lines, used = lines + 1, 0.0
            while width > room_em:
                lines, width = lines + 1, width - room_em
            used += width + _em(piece) - _em(piece.rstrip())
        count += lines
    return count


def _pieces(line: str) -> list[str]:
    """A line cut where it may wrap: each Chinese character alone, each Latin word with the space after it."""
    pieces, word = [], ""
    for character in line:
        if _is_wide(character):
            pieces += [word, character] if word else [character]
            word = ""
        else:
            word += character
            if character == " ":
                pieces.append(word)
                word = ""
    return (pieces + [word]) if word else (pieces or [""])


def _em(text: str) -> float:
    """How wide text is set, in ems of its type size (a Chinese character WIDE_EM, a Latin one NARROW_EM)."""
    return sum(WIDE_EM if _is_wide(character) else NARROW_EM for character in text)


def _is_wide(character: str) -> bool:
    return unicodedata.east_asian_width(character) in "WF"


def _pages(rows: list[tuple[list[str], float]], room_in: float) -> list[list[tuple[list[str], float]]]:
    """Rows (texts, height in inches) split into slides' worth: as many as fit in `room_in` under the header."""
    pages: list[list] = [[]]
    used = 0.0
    for row in rows:
        if pages[-1] and used + row[1] > room_in:
            pages.append([])
            used = 0.0
        pages[-1].append(row)
        used += row[1]
    return pages


def _table(slide, deck: Deck, rows: list[tuple[list[str], float]], widths: list[float], points: int,
           figures_from: int) -> None:
    """A table at the top of the deck's page body in columns of `widths` (inches) of `rows` (texts, height in
    inches; the header first), figures right-aligned (in the columns from `figures_from` on): in netopt's colours
    on its own slides, in a template's its table style's (the template's accent colours)."""
    from pptx.dml.color import RGBColor
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches, Pt

    own_colours = deck.content is None
    shape = slide.shapes.add_table(len(rows), len(widths), Inches(deck.page.left),
                                   Inches(deck.page.top + TABLE_GAP_IN), Inches(sum(widths)),
                                   Inches(sum(height for _, height in rows)))
    size = Pt(points)
    for k, width in enumerate(widths):
        shape.table.columns[k].width = Inches(width)
    laid_out: dict[tuple[int, bool], object] = {}  # (column, right-aligned): a body cell laid out, to copy
    for r, ((texts, height), row) in enumerate(zip(rows, shape.table._tbl.tr_lst)):
        row.h = Inches(height)
        for k, (cell_words, place) in enumerate(zip(texts, row.tc_lst)):
            figure = r > 0 and k >= figures_from and is_figure(cell_words)
            copied = r > 0 and _one_run(cell_words)  # a body cell of one run: copied from its column's first
            like = laid_out.get((k, figure)) if copied else None
            if like is not None:
                row.replace(place, _with_text(like, cell_words))
                continue
            cell = shape.table.cell(r, k)
            cell.text = cell_words
            if copied:  # the first of its kind in its column: copied once laid out below
                laid_out[k, figure] = place
            for paragraph in cell.text_frame.paragraphs:
                paragraph.alignment = PP_ALIGN.RIGHT if figure else PP_ALIGN.LEFT
                for run in paragraph.runs:
                    run.font.size = size if r else Pt(size.pt - 1)
                    run.font.bold = r == 0
                    if own_colours:
                        run.font.color.rgb = RGBColor(*TEXT_COLOUR)
            if r == 0 and own_colours:
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor(*HEADER_FILL)
    shape.table.notify_height_changed()  # the frame as high as its rows, once they are all set


def _one_run(text: str) -> bool:
    """Whether a cell's text is one run of text alone in a slide's XML: not empty, no control character in it
    (a line break, a tab, one python-pptx escapes)."""
    return bool(text) and all(character >= " " for character in text)


def _with_text(cell, text: str):
    """A copy of a table cell (a:tc) laid out by _table with a text of one run (_one_run), holding `text`
    instead: the same paragraph and run as _table lays out, a long table several times faster."""
    import copy

    made = copy.deepcopy(cell)
    [shown] = made.xpath("./a:txBody/a:p/a:r/a:t")
    shown.text = text
    return made


def is_figure(text: str) -> bool:
    """Whether a cell's text is a number as figure_text writes them (1,234.56, -0.5), or a share (47%)."""
    return text.removesuffix("%").replace(",", "").replace(".", "", 1).lstrip("-+").isdigit()
