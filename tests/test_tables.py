"""The readers of tables in documents and exports (netopt/_tables.py) on any input: grids, never a crash."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netopt._tables import NotASpreadsheet, html_tables, spreadsheet_xml_tables
from netopt.io import _exported_as_text

TAGS = ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", "<br>", "<td rowspan=3>", "<td colspan=2>",
        "<td rowspan=0 colspan=x>", "<p>", "</p>", "甲", "117.3", " ", "&amp;", "<table><tr><td>内</td></tr></table>"]


def _well_formed(rows: list[list[str]], merges: list) -> None:
    """Every row as wide as the others; each merge down within the grid, one column, top above bottom."""
    assert len({len(cells) for cells in rows}) == 1
    for (top, column), (last, right) in merges:
        assert column == right and 0 <= top < last < len(rows) and column < len(rows[0])


@given(st.lists(st.sampled_from(TAGS), max_size=40))
def test_any_html_reads_as_well_formed_grids(parts: list[str]) -> None:
    for rows, merges in html_tables("".join(parts)):
        _well_formed(rows, merges)


@given(st.lists(st.sampled_from(["<td rowspan=2>a</td>", "<td>b</td>", "<td colspan=3>c</td>"]), min_size=1,
                max_size=6), st.integers(1, 5))
def test_a_table_s_spans_keep_every_cell_once(cells: list[str], rows: int) -> None:
    """Rows of cells spanning rows and columns: each cell's text once, at its first place, the grid rectangular."""
    page = "<table>" + "".join(f"<tr>{''.join(cells)}</tr>" for _ in range(rows)) + "</table>"
    [(grid, merges)] = html_tables(page)
    _well_formed(grid, merges)
    texts = [cell for cells in grid for cell in cells if cell]
    assert len(texts) == rows * len(cells)


SS = ('<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
      'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="s"><Table>{}</Table></Worksheet>'
      '</Workbook>')
CELLS = ['<Cell><Data ss:Type="String">甲</Data></Cell>', '<Cell ss:MergeDown="2"><Data>1</Data></Cell>',
         '<Cell ss:MergeAcross="1"/>', '<Cell ss:Index="4"><Data>x</Data></Cell>', '<Cell ss:MergeDown="y"/>']


@given(st.lists(st.lists(st.sampled_from(CELLS), max_size=4), max_size=5))
def test_any_xml_spreadsheet_reads_as_well_formed_grids(rows: list[list[str]]) -> None:
    for _, grid, merges in spreadsheet_xml_tables(SS.format("".join(f"<Row>{''.join(r)}</Row>" for r in rows))):
        _well_formed(grid, merges)


@given(st.text(max_size=200))
def test_text_that_is_no_xml_spreadsheet_is_said_so(text: str) -> None:
    try:
        spreadsheet_xml_tables(text)
    except NotASpreadsheet:
        pass


@given(st.binary(max_size=300))
def test_any_file_head_is_told_or_left_to_the_workbook_reader(head: bytes) -> None:
    assert _exported_as_text(head) in ("", "html", "text", "xml")


def test_a_garbled_span_is_cut_to_what_a_table_may_span() -> None:
    """rowspan=99999999 colspan=99999 (a damaged export): at most 1,000 columns (HTML's own limit), no million rows."""
    [(rows, merges)] = html_tables("<table><tr><td rowspan=99999999 colspan=99999>a</td></tr></table>")
    assert len(rows) == 1 and len(rows[0]) == 1000 and merges == []
