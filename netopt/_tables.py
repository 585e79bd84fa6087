"""Tables of documents and exports — a Word document (.docx), a web page (.html), an XML Spreadsheet 2003 — as grids
of text cells with their merged cells, as a workbook's sheet holds them."""
from __future__ import annotations

import os
import re
import zipfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
Merge = tuple[tuple[int, int], tuple[int, int]]  # ((first row, column), (last row, column)) from 0, as calamine's


class NotADocument(ValueError):
    """The file is no Word document netopt can read (a damaged file, or an old .doc renamed)."""


@dataclass
class DocumentTable:
    """A Word or PDF table as a workbook's sheet holds one: its rows of cells — a cell spanning columns given in its
    first and blank in the others, a cell merged down in its first row and blank under it —, those merged down, the
    cells whose every word is struck through (删除线: a closed branch's line in a draft) as (row, column), whether
    it holds tracked changes (修订: read as if accepted, deleted text left out), whether it holds hidden text (隐藏
    文字: left out, as Word shows the table) and whether it was found by its text's layout, without lines (its rows
    broken over two lines joined), and the page each row is on (a PDF's)."""

    rows: list[list[str]]
    merges: list[Merge]
    struck: set[tuple[int, int]] = field(default_factory=set)
    revised: bool = False
    hidden: bool = False
    laid_out: bool = False
    pages: list[int] | None = None  # a PDF's: the page each row is on


class NotAPdf(ValueError):
    """The file is no PDF netopt can read (a damaged file, or one locked with a password)."""


def pdf_tables(path: Path) -> list[DocumentTable]:
    """The tables a PDF's pages draw with lines (a bulletin's, a yearbook's), in order: a table the next page goes
    on with — the first there, as many columns, its header repeated or its first row alike the last one's figures —
    joined to it; a cell merged down given in its first row and blank under it (its rows on the next page too). A
    scanned page holds no text to read: no table is found there. A PDF drawing no table with lines (a yearbook's,
    ruled across only) has its tables found by the layout of their text, a row broken over two lines joined; a page
    too short for that (a table's last row or two) is read in the columns of the table before, when it goes on with
    it. A table of text alone (a branch directory: names, addresses, phones) goes on with the page before's last
    one where that one ran to the foot of its page and its columns start where this one's do (a page too short for
    a table read in its columns: its lines filling two cells or more)."""
    import pdfplumber

    tails: set[int] = set()  # pages (from 1) read in the columns of the page before's last table
    try:
        with pdfplumber.open(path) as pdf:
            ruled = [page.find_tables() for page in pdf.pages]
            pages = [[_pdf_grid(table) for table in found] for found in ruled]
            layouts = [_ruled_layouts(found, grids, page) for page, found, grids in zip(pdf.pages, ruled, pages)]
            laid_out = not any(pages)
            if laid_out:
                found, layouts, tails = _laid_out_pages(pdf.pages)
                kept = [[(joined, layout) for rows, layout in zip(page, on_page) if (joined := _unbroken(rows))]
                        for page, on_page in zip(_without_page_numbers(found), layouts)]
                pages = [[rows for rows, _ in page] for page in kept]
                layouts = [[layout for _, layout in page] for page in kept]
    except Exception as exc:  # pdfminer raises many types for damaged or locked files
        raise NotAPdf(str(exc) or type(exc).__name__) from None
    tables: list[list[list[str | None]]] = []
    numbers: list[list[int]] = []  # the page (from 1) each row of each table is on
    last_of_page = None  # the previous page's last table, which the next page's first may go on with
    for number, (page, on_page) in enumerate(zip(pages, layouts), 1):
        before, last_of_page = last_of_page, None
        for k, rows in enumerate(page):
            repeated = _repeated_header(tables[before], rows) if k == 0 and before is not None else 0
            if k == 0 and before is not None and (repeated or _goes_on(tables[before], rows) or _text_goes_on(
                    tables[before], rows, layouts[number - 2][-1] if layouts[number - 2] else None, on_page[0])):
                going_on = _continued(tables[before], rows[repeated:])
                tables[before] += going_on
                numbers[before] += [number] * len(going_on)
                last_of_page = before
            elif number not in tails:  # a page read as a table's end not going on with it (notes): no table
                tables.append(rows)
                numbers.append([number] * len(rows))
                last_of_page = len(tables) - 1
    return [replace(_merged_grid(rows), laid_out=laid_out, pages=on) for rows, on in zip(tables, numbers)]


TEXT_LAYOUT = {"vertical_strategy": "text", "horizontal_strategy": "text"}  # pdfplumber's: columns and rows by text


@dataclass
class Layout:
    """Where a PDF table lies on its page: where each of its columns starts (points from the left) and whether
    it runs to the page's foot (nothing below it but the page's number)."""

    starts: list[float]
    at_foot: bool


def _ruled_layouts(tables: list, grids: list[list[list[str | None]]], page) -> list[Layout]:
    """The layout of each table a `page` draws with lines (`grids`: their rows): its columns' left edges, and for
    the last, where it holds text alone (a directory the next page may go on with: _text_goes_on), whether it runs
    to the page's foot — the page's words read for that alone."""
    text_only = bool(grids) and not any(_figure_columns(row) for row in grids[-1])
    words = page.extract_words() if text_only else []
    return [Layout([column.bbox[0] for column in table.columns],
                   text_only and k == len(tables) - 1 and _at_foot(words, table.bbox[3]))
            for k, table in enumerate(tables)]


def _at_foot(words: list[dict], bottom: float) -> bool:
    """Whether nothing but the page's number lies below `bottom` among its `words`."""
    below = _lines([word for word in words if word["top"] >= bottom - 1])
    return all(PAGE_NUMBER.fullmatch(" ".join(word["text"] for word in line)) for line in below)


COLUMN_SLACK = 3.0  # points: a column starting this near one of the table on the page before starts alike


def _text_goes_on(previous: list[list[str | None]], rows: list[list[str | None]], before: Layout | None,
                  layout: Layout | None) -> bool:
    """Whether `rows`, first on a page, go on with the `previous` table, last on the page before, where neither holds
    figures (a directory's names, addresses and phones, which _goes_on cannot align): that one ran to the foot of
    its page and this one's columns start where its did."""
    if before is None or layout is None or not before.at_foot or len(before.starts) != len(layout.starts):
        return False
    if any(_figure_columns(row) for row in previous + rows):
        return False
    return all(abs(a - b) <= COLUMN_SLACK for a, b in zip(before.starts, layout.starts))


def _laid_out_pages(pages) -> tuple[list[list[list[list[str]]]], list[list[Layout]], set[int]]:
    """The tables PDF `pages` lay out by their text, page by page: pdfplumber finds each and its rows, each word then
    read whole into the column whose whitespace bounds it (_column_bounds) — pdfplumber's own columns start where
    the figures of one length start, so a header wider than its figures aligned right was cut there (常住人口（人）
    as 常住人 | 口（人）, the first part read into the column before). A page where pdfplumber finds none (too few
    rows align: a table's last row or two) is read, line by line, in the columns of the page before's last table
    (_table_end); such pages (from 1) are returned too. A table pdfplumber finds from its first row of figures has
    the lines above it read as its first rows (_lines_above: a header its figures do not align with). Also each
    table's layout. A table of text alone that ran to the foot of
    its page has the next page read so too where pdfplumber finds there but a narrower table (a column of its last
    row or two aligned) and the rows read in its columns go on with it."""
    found: list[list[list[list[str]]]] = []
    layouts: list[list[Layout]] = []
    tails: set[int] = set()
    bounds, last, before = None, [[]], None  # the last table read: its columns, rows and layout
    for number, page in enumerate(pages, 1):
        words = page.extract_words()
        tables = page.find_tables(TEXT_LAYOUT)
        grids, on_page, floor = [], [], 0.0  # the foot of the table above on the page
        if bounds is not None and (not tables or _narrower(words, tables, bounds)):
            end, end_layout = _page_end(_lines(words), bounds, last)
            if end and (not tables or _text_goes_on(last, end, before, end_layout)):
                tables, grids, on_page, tails = [], [end], [end_layout], tails | {number}
        for table in tables:
            rows = _rows_within(words, table)
            bounds = _column_bounds(rows)
            grid = _grid(_wrapped_lines_joined(rows, bounds), bounds)
            first = next((row for row in grid if any(row)), [])
            if _figure_columns(first):
                grid = _header_rows(_lines_above(words, table.bbox, floor), bounds) + grid
            grids.append(grid)
            on_page.append(Layout(_column_starts(rows, bounds), _at_foot(words, table.bbox[3])))
            floor, last, before = table.bbox[3], _without_page_number(_unbroken(grid)), on_page[-1]
        found.append(grids)
        layouts.append(on_page)
    return found, layouts, tails


def _without_page_number(rows: list[list[str]]) -> list[list[str]]:
    """A table's rows without the page's number read as its last row ([[]] where none is left)."""
    if rows and PAGE_NUMBER.fullmatch(" ".join(filter(None, rows[-1]))):
        rows = rows[:-1]
    return rows or [[]]


def _narrower(words: list[dict], tables: list, bounds: list[float]) -> bool:
    """Whether pdfplumber finds on a page only a table of fewer columns than `bounds` part (the table before's)."""
    return len(tables) == 1 and len(_column_bounds(_rows_within(words, tables[0]))) < len(bounds)


def _page_end(lines: list[list[dict]], bounds: list[float], last: list[list[str]]) -> tuple[list[list[str]], Layout]:
    """A page's `lines` read in the columns (`bounds`) of the `last` table read (its rows) as that table's end
    (_table_end, the rest of its last row broken over the page first), and its layout."""
    text_only = not any(_figure_columns(row) for row in last)
    end = _table_end(_grid(lines, bounds), text_only, last[-1])
    return _grid(lines[end], bounds), Layout(_column_starts(lines[end], bounds), False)


def _wrapped_lines_joined(rows: list[list[dict]], bounds: list[float]) -> list[list[dict]]:
    """The `rows` (lines of words) of a table laid out by its text, each line broken off a cell — a long name, an
    address — joined to the row above, told by the space above it: where the table's lines lie at two spacings,
    a cell's lines close and its rows apart, a line as close as a cell's, filling fewer columns than the row above
    and only under its text. Not where most close lines fill the columns of the line above (rows close, in groups
    apart)."""
    rows = [row for row in rows if row]
    gaps = [min(word["top"] for word in row) - max(word["bottom"] for word in above)
            for above, row in zip(rows, rows[1:])]
    close = _close_spacing(gaps)
    partial = [_columns_of(row, bounds) < _columns_of(above, bounds)
               for above, row, gap in zip(rows, rows[1:], gaps) if close is not None and gap <= close]
    if close is None or 2 * sum(partial) < len(partial):
        return rows
    joined = [rows[0]]
    for gap, row in zip(gaps, rows[1:]):
        if gap <= close and _columns_of(row, bounds) < _columns_of(joined[-1], bounds):
            joined[-1] = joined[-1] + row
        else:
            joined.append(row)
    return joined


def _close_spacing(gaps: list[float]) -> float | None:
    """The most space above a line of a cell broken over lines, where a table's line `gaps` fall in two groups —
    the least within half as much again as the least, the rest twice as wide or more; else None (lines alike
    apart: a sheet printed, its cells' lines as close as its rows)."""
    least = min(gaps, default=0.0)
    if least <= 0:
        return None
    close = [gap for gap in gaps if gap <= 1.5 * least]
    apart = [gap for gap in gaps if gap > 1.5 * least]
    if not apart or min(apart) < 2 * max(close):
        return None
    return max(close)


def _columns_of(words: list[dict], bounds: list[float]) -> set[int]:
    """The columns (`bounds` part them) a row's words lie in."""
    return {_column_of(word, bounds) for word in words}


def _column_starts(rows: list[list[dict]], bounds: list[float]) -> list[float]:
    """Where each column of a table laid out by its text starts: its words' leftmost edge (left-aligned text starts
    there on every page, whatever its width)."""
    starts = [float("inf")] * (len(bounds) + 1)
    for word in (word for row in rows for word in row):
        column = _column_of(word, bounds)
        starts[column] = min(starts[column], word["x0"])
    return starts


HEADER_LINES = 6  # lines above a table found from its figures read with it: a title, a header of several lines


def _lines_above(words: list[dict], bbox: tuple, floor: float) -> list[list[dict]]:
    """The last HEADER_LINES lines of `words` above a table's `bbox` and below `floor`, within its width: its header
    (as pdfplumber finds a table where its words align, a header centred over its columns, or of several lines,
    is left above it), and a title or the page's running header."""
    x0, top, x1, _ = bbox
    above = [word for word in words if floor <= word["top"] and word["bottom"] <= top + 1
             and word["x1"] >= x0 and word["x0"] <= x1]
    return _lines(above)[-HEADER_LINES:]


def _header_rows(lines: list[list[dict]], bounds: list[float]) -> list[list[str]]:
    """Lines above a table as rows of its columns: lines overlapping each other (cells centred down a header of two
    rows: 乡镇 beside 常住人口 over 合计, 男, 女) as the two rows they are, and a name over several columns given in
    the first of them, as a sheet's merged cell (_spans_first)."""
    bands: list[list[list[dict]]] = []
    for line in lines:
        if bands and min(word["top"] for word in line) < max(word["bottom"] for word in bands[-1][-1]):
            bands[-1].append(line)
        else:
            bands.append([line])
    rows: list[list[str]] = []
    for band in bands:
        rows += _band_rows(band, bounds) if len(band) > 1 else _grid(band, bounds)
    return _spans_first(rows)


def _band_rows(band: list[list[dict]], bounds: list[float]) -> list[list[str]]:
    """A header of two rows whose cells are centred down it, as its lines overlap: its upper words and those
    centred on it in the first row, its lower words in the second."""
    words = [word for line in band for word in line]
    top, bottom = min(word["top"] for word in words), max(word["bottom"] for word in words)
    middle, slack = (top + bottom) / 2, (bottom - top) / 6
    upper = [word for word in words if _middle(word, "top", "bottom") <= middle + slack]
    lower = [word for word in words if _middle(word, "top", "bottom") > middle + slack]
    return [_cells(upper, bounds), _cells(lower, bounds)]


def _column_of(word: dict, bounds: list[float]) -> int:
    """The column (from 0) a word's middle lies in, `bounds` parting the columns."""
    return sum(_middle(word, "x0", "x1") > bound for bound in bounds)


def _cells(words: list[dict], bounds: list[float]) -> list[str]:
    """Words as one row of cells: each in the column its middle lies in (`bounds` part them), a cell's words
    joined line by line, top to bottom, each line's by a space, left to right."""
    cells: list[list[dict]] = [[] for _ in range(len(bounds) + 1)]
    for word in words:
        cells[_column_of(word, bounds)].append(word)
    return [joined_lines([" ".join(word["text"] for word in sorted(line, key=lambda word: word["x0"]))
                          for line in _lines(cell)]) for cell in cells]


def _spans_first(rows: list[list[str]]) -> list[list[str]]:
    """Header rows with each name over several columns of the row below (常住人口 over 合计, 男, 女: named in the
    next row under it, and so are the columns around it blank in its row) given in the first of them, as a sheet
    gives a merged cell."""
    rows = [list(row) for row in rows]
    for upper, lower in zip(rows, rows[1:]):
        for c, name in enumerate(list(upper)):
            start = c
            while name and lower[c] and start > 0 and not upper[start - 1] and lower[start - 1]:
                start -= 1
            if start < c:
                upper[start], upper[c] = name, ""
    return rows


def _table_end(grid: list[list[str]], text_only: bool = False, last_row: list[str] | None = None) -> slice:
    """The rows of a table's end among a page's `grid` in its columns: from the first row holding figures (in a
    table of text alone, `text_only`, filling two cells or more) through the last and the rest of that one broken
    over lines — not the page's running header, the table's header repeated (but in a table of text alone), a note
    or sign-off under it or the page's number —, after the lines above it that are the rest of the table's
    `last_row` on the page before. An empty slice where there is none."""
    def holds(row: list[str]) -> bool:
        if PAGE_NUMBER.fullmatch(" ".join(filter(None, row))):
            return False
        if text_only:
            notes = NOTE_STARTS + SIGN_OFF_STARTS
            return sum(bool(cell) for cell in row) >= 2 and not any(cell.lower().startswith(notes) for cell in row)
        return bool(_figure_columns(row))

    held = [k for k, row in enumerate(grid) if holds(row)]
    if not held:
        return slice(0, 0)
    start, end = held[0], held[-1] + 1
    while last_row and start > 0 and _rest_of(last_row, grid[start - 1]):
        start -= 1
    while end < len(grid) and _rest_of(grid[held[-1]], grid[end]):
        end += 1
    return slice(start, end)


def _rows_within(words: list[dict], table) -> list[list[dict]]:
    """The page's `words` within a `table` pdfplumber found by the layout of its text, in rows: each in the row
    nearest it."""
    x0, top, x1, bottom = table.bbox
    middles = [(row.bbox[1] + row.bbox[3]) / 2 for row in table.rows]
    rows: list[list[dict]] = [[] for _ in middles]
    for word in words:
        height = _middle(word, "top", "bottom")
        if x0 <= _middle(word, "x0", "x1") <= x1 and top <= height <= bottom:
            rows[min(range(len(middles)), key=lambda k: abs(middles[k] - height))].append(word)
    return rows


def _lines(words: list[dict]) -> list[list[dict]]:
    """A page's `words` in lines, top to bottom: each word in the line its middle lies within."""
    lines: list[list[dict]] = []
    for word in sorted(words, key=lambda word: word["top"]):
        if lines and _middle(word, "top", "bottom") <= lines[-1][0]["bottom"]:
            lines[-1].append(word)
        else:
            lines.append([word])
    return lines


def _grid(rows: list[list[dict]], bounds: list[float]) -> list[list[str]]:
    """Rows of words as rows of cells (_cells)."""
    return [_cells(row, bounds) for row in rows]


def _column_bounds(rows: list[list[dict]]) -> list[float]:
    """Where a table laid out by its text in `rows` of words has its columns part: the middle of each stretch across
    the page that no word of its body covers — the rows holding figures (not a header over several columns, nor the
    page's number at its foot), else those of more than one word —, wider than 0.6 of their median character."""
    texts = [" ".join(word["text"] for word in row) for row in rows]
    rows = ([row for row, text in zip(rows, texts) if not PAGE_NUMBER.fullmatch(text)
             and any(FIGURE.fullmatch(word["text"]) for word in row)] or [row for row in rows if len(row) > 1])
    spans = sorted((word["x0"], word["x1"]) for row in rows for word in row)
    widths = sorted((word["x1"] - word["x0"]) / max(len(word["text"]), 1) for row in rows for word in row)
    least_gap = 0.6 * widths[len(widths) // 2] if widths else 0.0  # wider than a space between words of a cell
    bounds: list[float] = []
    reach = None
    for start, end in spans:
        if reach is not None and start - reach > least_gap:
            bounds.append((reach + start) / 2)
        reach = end if reach is None else max(reach, end)
    return bounds


def _middle(word: dict, low: str, high: str) -> float:
    return (word[low] + word[high]) / 2


# a page's number at its foot: — 3 —, 第3页, 3/120, Page 3, Page 3 of 120
PAGE_NUMBER = re.compile(r"[-—–·\s]*(?:第\s*|page\s*)?\d{1,4}\s*(?:页|/\s*\d{1,4}|of\s*\d{1,4})?[-—–·\s]*", re.IGNORECASE)


def _without_page_numbers(pages: list[list[list[list[str | None]]]]) -> list[list[list[list[str | None]]]]:
    """The tables a PDF's pages lay out by their text, blank rows left out, without the page's number at its foot
    (— 3 —, 第3页), found as their last row. (A running header atop each page is the first row of each page's table
    alike: left out as a header repeated.)"""
    pages = [[[row for row in rows if any(row)] for rows in page] for page in pages]
    for page in pages:
        filled = [cell for cell in page[-1][-1] if cell] if page and page[-1] else []
        if len(filled) == 1 and PAGE_NUMBER.fullmatch(filled[0].strip()):
            page[-1] = page[-1][:-1]
    return pages


def _unbroken(rows: list[list[str | None]]) -> list[list[str | None]]:
    """A table found by its text's layout without its blank rows, each row broken over two lines (a long name, its
    figures on the first) joined to the one above."""
    joined: list[list[str | None]] = []
    for row in rows:
        row = [cell or "" for cell in row]
        if not any(row):
            continue
        if joined and _rest_of(joined[-1], row):
            joined[-1] = [joined_lines([above or "", cell]) for above, cell in zip(joined[-1], row)]
        else:
            joined.append(row)
    return joined


NOTE_STARTS = ("注", "说明", "资料来源", "数据来源", "来源", "note", "source")  # a footnote row below a table
SIGN_OFF_STARTS = ("制表", "填表", "填报", "审核", "复核", "单位负责人", "统计负责人", "部门负责人", "负责人：", "负责人:",
                   "联系人", "联系电话", "报出日期", "报送日期")  # an office form's sign-off line under it: 制表人：张三


def _rest_of(last: list[str | None], row: list[str | None]) -> bool:
    """Whether `row` is the rest of the `last` one, broken over a line or a page: text only — none where that one
    has figures — under text of that one, and no note (注：…) or sign-off under the table. Where that one holds no
    figure (a directory's name, address, phone), a row blank in the first column, filling at most half as many
    cells as that one and only under its text: an address broken over lines."""
    if any(cell and cell.strip().lower().startswith(NOTE_STARTS + SIGN_OFF_STARTS) for cell in row):
        return False
    figures = _figure_columns(last)
    if not figures and not _figure_columns(row):
        filled = [k for k, cell in enumerate(row) if cell]
        return (row[0] == "" and 0 < 2 * len(filled) <= sum(bool(cell) for cell in last)
                and all(last[k] for k in filled))
    return bool(figures) and not any(row[k] for k in figures) and any(row[k] and last[k] for k in range(len(row)))


def _pdf_grid(table) -> list[list[str | None]]:
    """A pdfplumber table's cells as text, row by row: None where a cell above spans down over the place (the
    nearest cell above it in its column reaches it), "" where one to its left spans across it (or nothing is
    written)."""
    grid = []
    for r, (row, texts) in enumerate(zip(table.rows, table.extract())):
        line: list[str | None] = []
        for c, (bbox, text) in enumerate(zip(row.cells, texts)):
            if bbox is None:
                above = next((table.rows[k].cells[c] for k in range(r - 1, -1, -1) if table.rows[k].cells[c]), None)
                middle = (row.bbox[1] + row.bbox[3]) / 2
                line.append(None if above is not None and above[1] <= middle <= above[3] else "")
            else:
                line.append(joined_lines((text or "").splitlines()))
        grid.append(line)
    return grid


FIGURE = re.compile(r"[-+]?[\d,.]+%?")


def _figure_columns(row: list[str | None]) -> list[int]:
    """The columns where a table's `row` holds a figure (a number, a percentage)."""
    return [k for k, cell in enumerate(row) if cell and FIGURE.fullmatch(cell)]


def _repeated_header(previous: list[list[str | None]], rows: list[list[str | None]]) -> int:
    """How many of `rows`, first on a page, repeat the header of the `previous` table, last on the page before —
    its rows above its first row of figures (a header of several rows, a running header over it), or its first
    row where it has none."""
    first = next((k for k, row in enumerate(previous) if _figure_columns(row)), 0)
    header = previous[:max(first, 1)]
    count = 0
    while count < len(rows) and rows[count] in header:
        count += 1
    return count


def _goes_on(previous: list[list[str | None]], rows: list[list[str | None]]) -> bool:
    """Whether `rows`, first on a page, go on with the `previous` table, last on the page before: as many columns,
    and a first row alike its last one — a figure, or nothing, where that one has one."""
    if not rows or len(rows[0]) != len(previous[0]):
        return False
    figures = _figure_columns(previous[-1])
    return bool(figures) and all(not rows[0][k] or FIGURE.fullmatch(rows[0][k] or "") for k in figures)


def _continued(previous: list[list[str | None]], rows: list[list[str | None]]) -> list[list[str | None]]:
    """The rows of a table going on from the `previous` page's: a first row that is the rest of the previous last
    row, broken over the page (text only, none where that one has figures), joined to it; a first row's blank cell
    over cells merged down made part of the merge it goes on with (a county's name written on the page before)."""
    if rows and _rest_of(previous[-1], rows[0]):
        previous[-1] = [joined_lines([above or "", cell or ""]) if above is not None else None
                        for above, cell in zip(previous[-1], rows[0])]
        rows = rows[1:]
    if len(rows) > 1:
        rows[0] = [None if cell == "" and below is None else cell for cell, below in zip(rows[0], rows[1])]
    return rows


def _merged_grid(rows: list[list[str | None]]) -> DocumentTable:
    """Rows of cells with None where a cell above spans down, as a DocumentTable: blank there, the spans merges."""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    merges: list[Merge] = []
    for column in range(width):
        top = None
        for r in range(len(rows) + 1):
            if r < len(rows) and rows[r][column] is None:
                continue
            if top is not None and r - 1 > top:
                merges.append(((top, column), (r - 1, column)))
            top = r
    return DocumentTable([[cell or "" for cell in row] for row in rows], merges)


def document_tables(path: Path) -> list[DocumentTable]:
    """Each table of the document in order (those in a table's cell are not read apart)."""
    try:
        with zipfile.ZipFile(path) as archive:
            body = ET.fromstring(archive.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError) as exc:
        raise NotADocument(str(exc) or type(exc).__name__) from None
    return [_table(table) for table in _outer_tables(body)]


def _outer_tables(element: ET.Element):
    """The tables under `element` that are not inside another table."""
    for child in element:
        if child.tag == f"{W}tbl":
            yield child
        else:
            yield from _outer_tables(child)


def _table(table: ET.Element) -> DocumentTable:
    """A Word table read (document_tables)."""
    rows: list[list[str]] = []
    merges: list[Merge] = []
    struck: set[tuple[int, int]] = set()
    open_downward: dict[int, int] = {}  # a column's cell merged down: the row it starts in
    for row in _children(table, f"{W}tr"):
        cells, column = [], _grid_before(row)
        cells.extend([""] * column)
        for cell in _children(row, f"{W}tc"):
            span, merge = _span(cell), _vertical_merge(cell)
            if merge == "continue" and column in open_downward:
                cells.extend([""] * span)
            else:
                cells.append(_text(cell))
                if _struck(cell):
                    struck.add((len(rows), len(cells) - 1))
                cells.extend([""] * (span - 1))
                _close(open_downward, column, len(rows) - 1, merges)
                if merge == "restart":
                    open_downward[column] = len(rows)
            column += span
        rows.append(cells)
    for column in list(open_downward):
        _close(open_downward, column, len(rows) - 1, merges)
    width = max((len(cells) for cells in rows), default=0)
    revised = any(element.tag in (f"{W}ins", f"{W}del") for element in table.iter())
    hidden = any(_marked(run, "vanish") and _holds_text(run) for run in table.iter(f"{W}r"))
    return DocumentTable([cells + [""] * (width - len(cells)) for cells in rows], merges, struck, revised, hidden)


def _struck(cell: ET.Element) -> bool:
    """Whether a Word cell shows text and every run of it shown is struck through (w:strike, or double: w:dstrike)."""
    runs = [run for run in cell.iter(f"{W}r") if _holds_text(run) and not _marked(run, "vanish")]
    return bool(runs) and all(_marked(run, "strike") or _marked(run, "dstrike") for run in runs)


def _marked(run: ET.Element, mark: str) -> bool:
    """Whether a Word run's properties turn `mark` on (w:strike, w:vanish: hidden text …)."""
    element = run.find(f"{W}rPr/{W}{mark}")
    return element is not None and element.get(f"{W}val", "true") not in ("0", "false", "off")


def _holds_text(run: ET.Element) -> bool:
    return any(text.text for text in run.iter(f"{W}t"))


def _close(open_downward: dict[int, int], column: int, last: int, merges: list[Merge]) -> None:
    """Ends the merge down of `column` (if one is open) at row `last`."""
    top = open_downward.pop(column, None)
    if top is not None and last > top:
        merges.append(((top, column), (last, column)))


def _children(parent: ET.Element, tag: str) -> list[ET.Element]:
    """A table's rows or a row's cells (`tag`), those a content control (w:sdt) wraps too."""
    found = []
    for child in parent:
        if child.tag == tag:
            found.append(child)
        elif child.tag == f"{W}sdt":
            found.extend(child.findall(f"{W}sdtContent/{tag}"))
    return found


def _grid_before(row: ET.Element) -> int:
    """The grid columns a row leaves empty before its first cell."""
    found = row.find(f"{W}trPr/{W}gridBefore")
    return int(found.get(f"{W}val", "0")) if found is not None else 0


def _span(cell: ET.Element) -> int:
    found = cell.find(f"{W}tcPr/{W}gridSpan")
    return max(int(found.get(f"{W}val", "1")), 1) if found is not None else 1


def _vertical_merge(cell: ET.Element) -> str:
    """"restart" for the first cell of a merge down, "continue" for those under it, "" for a cell of its own."""
    found = cell.find(f"{W}tcPr/{W}vMerge")
    if found is None:
        return ""
    return "restart" if found.get(f"{W}val") == "restart" else "continue"


def _text(cell: ET.Element) -> str:
    """A cell's text: its paragraphs joined (joined_lines)."""
    return joined_lines("".join(_runs(paragraph)) for paragraph in cell.iter(f"{W}p"))


def joined_lines(lines) -> str:
    """A cell's lines as one text: a Chinese name broken over two lines as one word (合肥长江路 / 支行), other lines
    by a space (117.30 / 31.86); blank lines dropped."""
    text = ""
    for line in (line.strip() for line in lines):
        if line:
            text += ("" if not text or (_chinese(text[-1]) and _chinese(line[0])) else " ") + line
    return text


def _chinese(character: str) -> bool:
    """A Chinese character, or Chinese punctuation (（万人）, 、, 。: full-width forms)."""
    return "\u3400" <= character <= "\u9fff" or "\u3000" <= character <= "\u303f" or "\uff00" <= character <= "\uffef"


def _runs(paragraph: ET.Element):
    """The text of a paragraph's runs Word shows (hidden text, w:vanish, left out), a tab as a space."""
    for run in paragraph.iter(f"{W}r"):
        if _marked(run, "vanish"):
            continue
        for element in run:
            if element.tag == f"{W}t" and element.text:
                yield element.text
            elif element.tag == f"{W}tab":
                yield " "


BREAKS = {"br", "p", "div", "li"}  # tags that start a new line of a cell's text


def html_tables(text: str) -> list[tuple[list[list[str]], list[Merge]]]:
    """Each table of the page in the order they open (one inside another's cell after it): its rows of cells, a
    cell spanning columns or rows (colspan, rowspan) given in its first place and blank in the others, as a
    workbook's sheet holds them, and those spanning rows."""
    reader = _Tables()
    reader.feed(text)
    reader.close()
    return [table.finished() for table in reader.tables if table.cells]


SPAN_CELLS = 100_000  # the most places one cell may span


class _Cells:
    """One table of cells while it is read: its cells by (row, column), its spans down."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], str] = {}
        self.taken: set[tuple[int, int]] = set()  # places a span from an earlier cell covers
        self.merges: list[Merge] = []
        self.row, self.column = -1, 0

    def new_row(self) -> None:
        self.row, self.column = self.row + 1, 0

    def place(self, text: str, rows: int, columns: int) -> None:
        """A cell at the next free place of the row, spanning `rows` x `columns` (as HTML allows, at most 1,000
        columns, and SPAN_CELLS places: a garbled span of a million rows is no table's)."""
        columns = min(columns, 1000)
        rows = min(rows, SPAN_CELLS // columns)
        self.row = max(self.row, 0)
        while (self.row, self.column) in self.taken:
            self.column += 1
        self.cells[(self.row, self.column)] = text
        for r in range(self.row, self.row + rows):
            for c in range(self.column, self.column + columns):
                self.taken.add((r, c))
        if rows > 1:
            self.merges.append(((self.row, self.column), (self.row + rows - 1, self.column)))
        self.column += columns

    def finished(self) -> tuple[list[list[str]], list[Merge]]:
        """Its rows of cells, each as wide as the widest, and its spans down within them."""
        height = max(r for r, _ in self.cells) + 1
        width = max(c for _, c in self.taken) + 1
        rows = [[self.cells.get((r, c), "") for c in range(width)] for r in range(height)]
        clipped = [(top, (min(last, height - 1), column)) for top, (last, column) in self.merges]
        return rows, [(top, end) for top, end in clipped if end[0] > top[0]]  # a span past the last row ends there


class _Open:
    """A table of the page being read: its open cell's lines of text (None between cells) and span."""

    def __init__(self, table: _Cells) -> None:
        self.table, self.lines, self.span = table, None, (1, 1)


class _Tables(HTMLParser):
    """Reads a page's tables — those in another's cell too, as old pages lay themselves out in a table —: rows
    (tr), cells (td, th) with their spans and text (a cell's own, not that of a table inside it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[_Cells] = []
        self.open: list[_Open] = []  # the tables open, the innermost last

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(_Cells())
            self.open.append(_Open(self.tables[-1]))
        elif not self.open:
            return
        elif tag == "tr":
            self._end_cell()
            self.open[-1].table.new_row()
        elif tag in ("td", "th"):
            self._end_cell()
            given = dict(attrs)
            self.open[-1].lines = [""]
            self.open[-1].span = (_count(given.get("rowspan")), _count(given.get("colspan")))
        elif tag in BREAKS and self.open[-1].lines is not None:
            self.open[-1].lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.open and tag in ("td", "th", "tr", "table"):
            self._end_cell()
            if tag == "table":
                self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1].lines is not None:
            self.open[-1].lines[-1] += data

    def _end_cell(self) -> None:
        reading = self.open[-1]
        if reading.lines is not None:
            reading.table.place(joined_lines(" ".join(line.split()) for line in reading.lines), *reading.span)
            reading.lines = None


def _count(value: str | None, least: int = 1) -> int:
    """A rowspan or colspan (at least 1), a merge's extent (at least 0): a blank or broken one counts `least`."""
    try:
        return max(int(str(value).strip()), least)
    except ValueError:
        return least


SS = "{urn:schemas-microsoft-com:office:spreadsheet}"


class NotASpreadsheet(ValueError):
    """The XML is no XML Spreadsheet 2003 netopt can read."""


def spreadsheet_xml_tables(text: str) -> list[tuple[str, list[list[str]], list[Merge]]]:
    """The worksheets of an XML Spreadsheet 2003 (what older systems export and name .xls; Excel opens it), each
    by its name with its rows of cells — a cell merged across or down (MergeAcross, MergeDown) given in its first
    place, blank in the others — and those merged down."""
    try:
        root = ET.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))  # decoded already: its encoding said no more
    except ET.ParseError as exc:
        raise NotASpreadsheet(str(exc)) from None
    sheets = []
    for k, sheet in enumerate(root.iter(f"{SS}Worksheet"), 1):
        grid = _Cells()
        for row in sheet.findall(f"{SS}Table/{SS}Row"):
            grid.new_row()
            grid.row = _given_index(row, grid.row)
            for cell in row.findall(f"{SS}Cell"):
                grid.column = _given_index(cell, grid.column)
                data = cell.find(f"{SS}Data")
                grid.place("" if data is None else joined_lines("".join(data.itertext()).splitlines()),
                           1 + _count(cell.get(f"{SS}MergeDown"), 0), 1 + _count(cell.get(f"{SS}MergeAcross"), 0))
        if grid.cells:
            sheets.append((sheet.get(f"{SS}Name") or f"Sheet{k}", *grid.finished()))
    return sheets


def _given_index(element: ET.Element, position: int) -> int:
    """A row's or cell's place from 0: its ss:Index (from 1) where it gives one, else `position`."""
    given = element.get(f"{SS}Index")
    return _count(given, 1) - 1 if given is not None else position


MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATION = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
CELL = re.compile(r'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?(?:/>|>(.*?)</c>)', re.DOTALL)
FORMULA = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.DOTALL)
SAVED_VALUE = re.compile(r"<v>[^<]+</v>")
RECALCULATE = re.compile(r'<calcPr\b[^>]*\bfullCalcOnLoad="(?:1|true)"')


@dataclass
class SheetMarks:
    """What a workbook sheet's cells hold that a reader does not give — each as (row, column) from 0 —: formulas
    without a saved value (with the formula), Excel's error values (#N/A: with the error; readers give blanks),
    rows hidden (filtered out, or by hand), cells struck through (删除线, as offices mark rows deleted) and columns
    hidden (last year's figures kept out of sight); and what to say of the whole table when it is read (a Word
    table's tracked changes, a PDF table laid out without lines)."""

    unsaved: list[tuple[int, int, str]] = field(default_factory=list)
    errors: list[tuple[int, int, str]] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)
    struck: set[tuple[int, int]] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)
    said: tuple[str, ...] = ()


def workbook_marks(path: Path) -> tuple[dict[str, SheetMarks], bool]:
    """The SheetMarks of an .xlsx workbook's sheets that have any, each sheet's XML read once, and whether the
    workbook asks Excel to compute every formula when opened (as files written by programs do, holding 0 or
    nothing: then every formula is unsaved); ({}, False) for one this cannot look into (its reader says what is
    wrong)."""
    try:
        with zipfile.ZipFile(path) as archive:
            recalculate = bool(RECALCULATE.search(archive.read("xl/workbook.xml").decode("utf-8", "replace")))
            struck_styles = _struck_styles(archive)
            found = {}
            for name, part in _sheet_parts(archive).items():
                sheet = archive.read(part).decode("utf-8", "replace")
                marks = SheetMarks(_formula_cells(sheet, recalculate), _error_cells(sheet), _hidden_rows(sheet),
                                   _struck_cells(sheet, struck_styles), _hidden_columns(sheet))
                if marks != SheetMarks():
                    found[name] = marks
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError, ValueError):
        return {}, False
    return found, recalculate


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name and the part of the archive holding its cells."""
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    relations = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {relation.get("Id"): relation.get("Target", "") for relation in relations}
    parts = {}
    for sheet in workbook.iter(f"{MAIN}sheet"):
        target = targets.get(sheet.get(f"{RELATION}id"), "")
        if target:
            parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _formula_cells(sheet: str, recalculate: bool) -> list[tuple[int, int, str]]:
    """The formula cells of a sheet's XML without a saved value (every one where the workbook recalculates)."""
    if "<f" not in sheet:
        return []
    cells = []
    for letters, row, inner in CELL.findall(sheet):
        formula = FORMULA.search(inner or "")
        if formula and (recalculate or not SAVED_VALUE.search(inner)):
            cells.append((int(row) - 1, _column_number(letters), f"={formula.group(1) or '…'}"))
    return cells


def _column_number(letters: str) -> int:
    """A column's letters as its number from 0 (A: 0, AA: 26)."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number - 1


ERROR_CELL = re.compile(r'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>(.*?)</c>', re.DOTALL)
ERROR_VALUE = re.compile(r"<v>([^<]*)</v>")


def _error_cells(sheet: str) -> list[tuple[int, int, str]]:
    """The cells of a sheet's XML holding one of Excel's error values (#N/A, #DIV/0!, #REF! …: a formula that
    failed), with the error."""
    if 't="e"' not in sheet:
        return []
    return [(int(row) - 1, _column_number(letters), value.group(1) if (value := ERROR_VALUE.search(inner)) else "#?")
            for letters, row, inner in ERROR_CELL.findall(sheet)]


HIDDEN_ROW = re.compile(r'<row\b[^>]*?\br="(\d+)"[^>]*?\bhidden="(?:1|true)"')
STYLED_CELL = re.compile(r'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bs="(\d+)"')


def _hidden_rows(sheet: str) -> set[int]:
    """The rows a sheet's XML hides."""
    return {int(row) - 1 for row in HIDDEN_ROW.findall(sheet)} if "hidden=" in sheet else set()


COLUMN_RUN = re.compile(r"<col\b[^>]*>")
ATTRIBUTE = re.compile(r'\b(\w+)="([^"]*)"')
MOST_HIDDEN_COLUMNS = 1024  # the columns of a hidden run looked at (a sheet hides the 16,000 right of its table)


def _hidden_columns(sheet: str) -> set[int]:
    """The columns a sheet's XML hides (<col min= max= hidden=>)."""
    if "<col " not in sheet:
        return set()
    hidden = set()
    for run in COLUMN_RUN.findall(sheet[:sheet.find("<sheetData")]):
        attributes = dict(ATTRIBUTE.findall(run))
        if attributes.get("hidden") in ("1", "true"):
            low = int(attributes.get("min", "1")) - 1
            hidden.update(range(low, min(int(attributes.get("max", low + 1)), low + MOST_HIDDEN_COLUMNS)))
    return hidden


def _struck_cells(sheet: str, struck_styles: set[int]) -> set[tuple[int, int]]:
    """The cells of a sheet's XML whose style (one of `struck_styles`) strikes them through."""
    if not struck_styles:
        return set()
    return {(int(row) - 1, _column_number(letters)) for letters, row, style in STYLED_CELL.findall(sheet)
            if int(style) in struck_styles}


def _struck_styles(archive: zipfile.ZipFile) -> set[int]:
    """The cell styles (their index among cellXfs) whose font is struck through."""
    try:
        styles = ET.fromstring(archive.read("xl/styles.xml"))
    except KeyError:
        return set()
    fonts = styles.find(f"{MAIN}fonts")
    struck_fonts = {k for k, font in enumerate(fonts if fonts is not None else [])
                    if (strike := font.find(f"{MAIN}strike")) is not None
                    and strike.get("val", "1") not in ("0", "false")}
    cell_styles = styles.find(f"{MAIN}cellXfs")
    return {k for k, style in enumerate(cell_styles if cell_styles is not None else [])
            if int(style.get("fontId", "0")) in struck_fonts} if struck_fonts else set()


def xls_marks(path: Path, names: list[str]) -> dict[str, SheetMarks] | None:
    """The SheetMarks of the sheets `names` of an old binary workbook (.xls: Excel 97–2003, as WPS still saves)
    that have any — its error values, hidden rows and struck-through cells; it holds every formula's value —;
    None where xlrd cannot look into it (calamine read its values)."""
    import xlrd

    try:
        with open(os.devnull, "w") as quiet, xlrd.open_workbook(str(path), formatting_info=True, on_demand=True,
                                                                 logfile=quiet) as book:
            struck_styles = {k for k, style in enumerate(book.xf_list)
                             if style.font_index < len(book.font_list) and book.font_list[style.font_index].struck_out}
            found = {}
            for name in names:
                marks = _xls_sheet_marks(book.sheet_by_name(name), struck_styles)
                if marks != SheetMarks():
                    found[name] = marks
            return found
    except Exception:  # xlrd raises many types for what it cannot read
        return None


OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
ODS_CELLS = (f"{TABLE}table-cell", f"{TABLE}covered-table-cell")
ODS_COLUMNS = 1024  # the columns of an .ods sheet looked at (a table's are far fewer; a sheet declares thousands)


def ods_marks(path: Path, names: list[str]) -> tuple[dict[str, SheetMarks], dict[str, list[Merge]]] | None:
    """The SheetMarks of the sheets `names` of an OpenDocument sheet (.ods: LibreOffice's, as WPS also saves) that
    have any — its error values, hidden rows and struck-through cells — and their merged cells (calamine gives
    none for .ods), its content streamed (a sheet declares a million blank rows); None where it cannot be looked
    into (calamine read its values)."""
    try:
        with zipfile.ZipFile(path) as archive:
            styles = _ods_named_styles(archive)
            with archive.open("content.xml") as content:
                return _ods_sheets_marks(content, set(names), styles)
    except (zipfile.BadZipFile, KeyError, ET.ParseError, OSError, ValueError):
        return None


def _ods_named_styles(archive: zipfile.ZipFile) -> dict[str, tuple[str | None, bool | None]]:
    """The named cell styles of an .ods (its styles.xml: Default, and those a user made), as _ods_style gives."""
    try:
        root = ET.fromstring(archive.read("styles.xml"))
    except KeyError:
        return {}
    return {style.get(f"{STYLE}name", ""): _ods_style(style) for style in root.iter(f"{STYLE}style")
            if style.get(f"{STYLE}family") == "table-cell"}


def _ods_style(style: ET.Element) -> tuple[str | None, bool | None]:
    """A cell style's parent style and whether it strikes text through (None: as its parent does)."""
    text = style.find(f"{STYLE}text-properties")
    line = text.get(f"{STYLE}text-line-through-style") if text is not None else None
    return style.get(f"{STYLE}parent-style-name"), None if line is None else line != "none"


def _ods_struck(styles: dict[str, tuple[str | None, bool | None]]) -> set[str]:
    """The cell styles that strike text through, themselves or through the styles they are based on."""
    def struck(name: str | None, depth: int = 0) -> bool:
        parent, line = styles.get(name or "", (None, False))
        return bool(line) if line is not None or parent is None or depth > 20 else struck(parent, depth + 1)

    return {name for name in styles if struck(name)}


def _ods_sheets_marks(content, names: set[str], styles: dict[str, tuple[str | None, bool | None]]
                      ) -> tuple[dict[str, SheetMarks], dict[str, list[Merge]]]:
    """The SheetMarks (those that have any) and merged cells of the sheets `names` in an .ods's content.xml
    stream, given its named cell styles (its own automatic styles come before its sheets)."""
    found: dict[str, SheetMarks] = {}
    merged: dict[str, list[Merge]] = {}
    marks, name, row, columns, struck = None, "", 0, [], set()
    for event, element in ET.iterparse(content, events=("start", "end")):
        tag = element.tag
        if event == "end" and tag == f"{STYLE}style" and element.get(f"{STYLE}family") == "table-cell":
            styles[element.get(f"{STYLE}name", "")] = _ods_style(element)
        elif event == "start" and tag == f"{TABLE}table":
            name, row, columns, struck = element.get(f"{TABLE}name", ""), 0, [], _ods_struck(styles)
            marks = SheetMarks() if name in names else None
            merged[name] = []
        elif marks is None or event != "end":
            continue
        elif tag == f"{TABLE}table-column":
            repeat = min(int(element.get(f"{TABLE}number-columns-repeated", "1")), ODS_COLUMNS - len(columns))
            if element.get(f"{TABLE}visibility", "visible") != "visible":
                marks.hidden_columns.update(range(len(columns), len(columns) + repeat))
            columns += [element.get(f"{TABLE}default-cell-style-name")] * repeat
        elif tag == f"{TABLE}table-row":
            row += _ods_row_marks(element, row, marks, columns, struck, merged[name])
            element.clear()
        elif tag == f"{TABLE}table":
            if marks != SheetMarks():
                found[name] = marks
            marks = None
    return found, {name: merges for name, merges in merged.items() if name in names}


def _ods_row_marks(element: ET.Element, row: int, marks: SheetMarks, columns: list[str | None],
                   struck: set[str], merges: list[Merge]) -> int:
    """Adds to `marks` and `merges` those of an .ods table-row `element` (the sheet's row `row` from 0, perhaps
    repeated) and gives how many rows it stands for."""
    repeat = int(element.get(f"{TABLE}number-rows-repeated", "1"))
    cells = [cell for cell in element if cell.tag in ODS_CELLS]
    if not any(len(cell) or cell.get(f"{OFFICE}value-type") for cell in cells):
        return repeat  # blank rows (a sheet's million after its table): nothing to say of them
    rows = range(row, row + repeat)
    if element.get(f"{TABLE}visibility", "visible") != "visible":  # collapse, or filter
        marks.hidden.update(rows)
    column, row_style = 0, element.get(f"{TABLE}default-cell-style-name")
    for cell in cells:
        span = min(int(cell.get(f"{TABLE}number-columns-repeated", "1")), ODS_COLUMNS)
        down, across = (int(cell.get(f"{TABLE}number-{part}-spanned", "1")) for part in ("rows", "columns"))
        if down > 1 or across > 1:
            merges.append(((row, column), (row + down - 1, column + across - 1)))
        if len(cell) or cell.get(f"{OFFICE}value-type"):
            for at in range(column, column + span):
                style = cell.get(f"{TABLE}style-name") or row_style or (columns[at] if at < len(columns) else None)
                if style in struck:
                    marks.struck.update((r, at) for r in rows)
                if cell.get(f"{CALCEXT}value-type") == "error":
                    marks.errors += [(r, at, "".join(cell.itertext()) or "#?") for r in rows]
        column += span
    return repeat


def _xls_sheet_marks(sheet, struck_styles: set[int]) -> SheetMarks:
    """The SheetMarks of an xlrd sheet read with its formatting, given the cell styles that strike through."""
    import xlrd

    marks = SheetMarks(hidden={row for row, info in sheet.rowinfo_map.items() if info.hidden},
                       hidden_columns={column for column, info in sheet.colinfo_map.items() if info.hidden})
    for row in range(sheet.nrows):
        types = sheet.row_types(row)
        if xlrd.XL_CELL_ERROR in types:
            marks.errors += [(row, column, xlrd.error_text_from_code.get(sheet.cell_value(row, column), "#?"))
                             for column, kind in enumerate(types) if kind == xlrd.XL_CELL_ERROR]
        if struck_styles:
            marks.struck |= {(row, column) for column in range(len(types))
                             if sheet.cell_xf_index(row, column) in struck_styles}
    return marks
