"""The tables of a Word document (.docx), as grids of text cells with their merged cells, read from its XML."""
from __future__ import annotations

import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
Merge = tuple[tuple[int, int], tuple[int, int]]  # ((first row, column), (last row, column)) from 0, as calamine's


class NotADocument(ValueError):
    """The file is no Word document netopt can read (a damaged file, or an old .doc renamed)."""


def document_tables(path: Path) -> list[tuple[list[list[str]], list[Merge]]]:
    """Each table of the document in order (those in a table's cell are not read apart): its rows of cells, a
    cell spanning columns (gridSpan) given in its first and blank in the others, a cell merged down (vMerge) given
    in its first row and blank under it — as a workbook's sheet holds them —, and those merged down."""
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


def _table(table: ET.Element) -> tuple[list[list[str]], list[Merge]]:
    rows: list[list[str]] = []
    merges: list[Merge] = []
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
                cells.extend([""] * (span - 1))
                _close(open_downward, column, len(rows) - 1, merges)
                if merge == "restart":
                    open_downward[column] = len(rows)
            column += span
        rows.append(cells)
    for column in list(open_downward):
        _close(open_downward, column, len(rows) - 1, merges)
    width = max((len(cells) for cells in rows), default=0)
    return [cells + [""] * (width - len(cells)) for cells in rows], merges


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
    return "\u3400" <= character <= "\u9fff"


def _runs(paragraph: ET.Element):
    for element in paragraph.iter():
        if element.tag == f"{W}t" and element.text:
            yield element.text
        elif element.tag == f"{W}tab":
            yield " "
