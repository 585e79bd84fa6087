"""The tables of a web page (a census bulletin saved as .html, a system's "Excel" export that is HTML), as grids."""
from __future__ import annotations

from html.parser import HTMLParser

from netopt._docx import Merge, joined_lines

BREAKS = {"br", "p", "div", "li"}  # tags that start a new line of a cell's text


def html_tables(text: str) -> list[tuple[list[list[str]], list[Merge]]]:
    """Each table of the page in order (those inside a table's cell are part of its text): its rows of cells, a
    cell spanning columns or rows (colspan, rowspan) given in its first place and blank in the others, as a
    workbook's sheet holds them, and those spanning rows."""
    reader = _Tables()
    reader.feed(text)
    reader.close()
    return [table.finished() for table in reader.tables if table.cells]


class _Table:
    """One table while it is read: its cells by (row, column), its spans down."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], str] = {}
        self.taken: set[tuple[int, int]] = set()  # places a span from an earlier cell covers
        self.merges: list[Merge] = []
        self.row, self.column = -1, 0

    def new_row(self) -> None:
        self.row, self.column = self.row + 1, 0

    def place(self, text: str, rows: int, columns: int) -> None:
        """A cell at the next free place of the row, spanning `rows` x `columns`."""
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
        height = max(r for r, _ in self.cells) + 1
        width = max(c for _, c in self.taken) + 1
        rows = [[self.cells.get((r, c), "") for c in range(width)] for r in range(height)]
        return rows, [(top, (min(last, height - 1), column)) for top, (last, column) in self.merges]


class _Tables(HTMLParser):
    """Reads a page's outermost tables: rows (tr), cells (td, th) with their spans and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[_Table] = []
        self.depth = 0  # tables open (a table inside a cell is that cell's text)
        self.lines: list[str] | None = None  # the open cell's lines of text
        self.span = (1, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1
            if self.depth == 1:
                self.tables.append(_Table())
        elif self.depth != 1:
            self._break(tag)
        elif tag == "tr":
            self._end_cell()
            self.tables[-1].new_row()
        elif tag in ("td", "th"):
            self._end_cell()
            given = dict(attrs)
            self.lines, self.span = [""], (_count(given.get("rowspan")), _count(given.get("colspan")))
        else:
            self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            if self.depth == 1:
                self._end_cell()
            self.depth = max(self.depth - 1, 0)
        elif self.depth == 1 and tag in ("td", "th", "tr"):
            self._end_cell()

    def handle_data(self, data: str) -> None:
        if self.lines is not None:
            self.lines[-1] += data

    def _break(self, tag: str) -> None:
        if self.lines is not None and tag in BREAKS:
            self.lines.append("")

    def _end_cell(self) -> None:
        if self.lines is not None:
            self.tables[-1].place(joined_lines(" ".join(line.split()) for line in self.lines), *self.span)
            self.lines = None


def _count(value: str | None) -> int:
    """A rowspan or colspan: at least 1 (a blank or broken one counts 1)."""
    try:
        return max(int(str(value).strip()), 1)
    except ValueError:
        return 1
