"""The readers of tables in documents and exports (netopt/_tables.py) on any input: grids, never a crash."""
from __future__ import annotations

from pathlib import Path

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


ODS_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">
<office:automatic-styles>
 <style:style style:name="ce1" style:family="table-cell" style:parent-style-name="删除"/>
 <style:style style:name="ce2" style:family="table-cell" style:parent-style-name="删除">
  <style:text-properties style:text-line-through-style="none"/></style:style>
</office:automatic-styles>
<office:body><office:spreadsheet>
 <table:table table:name="其他"><table:table-row table:visibility="collapse">
  <table:table-cell office:value-type="string"><text:p>不读</text:p></table:table-cell></table:table-row></table:table>
 <table:table table:name="网点">
  <table:table-column table:number-columns-repeated="2" table:default-cell-style-name="Default"/>
  <table:table-column table:default-cell-style-name="删除"/>
  <table:table-row><table:table-cell table:number-columns-repeated="3" office:value-type="string">
   <text:p>表头</text:p></table:table-cell></table:table-row>
  <table:table-row table:number-rows-repeated="2" table:visibility="filter">
   <table:table-cell table:style-name="ce1" office:value-type="string"><text:p>甲</text:p></table:table-cell>
   <table:table-cell table:style-name="ce2" office:value-type="string"><text:p>乙</text:p></table:table-cell>
   <table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>
  <table:table-row table:number-rows-repeated="1048570" table:visibility="collapse">
   <table:table-cell table:number-columns-repeated="3"/></table:table-row>
 </table:table>
</office:spreadsheet></office:body></office:document-content>"""
ODS_STYLES = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"><office:styles>
 <style:style style:name="Default" style:family="table-cell"/>
 <style:style style:name="删除" style:family="table-cell" style:parent-style-name="Default">
  <style:text-properties style:text-line-through-style="solid"/></style:style>
</office:styles></office:document-styles>"""


def test_an_ods_sheet_s_marks_follow_its_styles_columns_and_repeated_rows(tmp_path) -> None:
    """A cell struck by the named style its automatic style is based on (删除), not by one that says none over
    it, and by its column's default style; a hidden row repeated twice marks both; the million blank rows a sheet
    declares (hidden here) mark none; another sheet is not looked at."""
    import zipfile

    from netopt._tables import SheetMarks, ods_marks

    path = tmp_path / "t.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", ODS_CONTENT)
        archive.writestr("styles.xml", ODS_STYLES)
    marks, merged = ods_marks(path, ["网点"])
    assert marks == {"网点": SheetMarks(hidden={1, 2}, struck={(0, 2), (1, 0), (2, 0), (1, 2), (2, 2)})}
    assert merged == {"网点": []}


def test_a_page_read_as_a_tables_end_that_does_not_go_on_with_it_is_no_table(monkeypatch) -> None:
    """A page pdfplumber finds no table on is read in the columns of the table before as its end; where its rows do
    not go on with that table after all, they make no table of their own (a page read alike in its own right
    does)."""
    import netopt._tables as tables

    first = [["乡镇", "所属区县", "常住人口"], ["明光路街道", "瑶海区", "29969"]]
    other = [["说明", "见附表"], ["甲", "1"]]
    pdf = Path(__file__).parent / "data" / "laid_out.pdf"
    for tails, count in (({2}, 1), (set(), 2)):
        monkeypatch.setattr(tables, "_laid_out_pages", lambda pages: ([[first], [other]], [[None], [None]], tails))
        assert len(tables.pdf_tables(pdf)) == count


def test_a_pdf_table_goes_on_over_a_page_only_where_its_rows_do() -> None:
    """Atop a page, a table goes on with the last of the page before when it repeats its header, or its first row
    has figures (or nothing) where the last one has them; a new table's header (text there) does not. A row broken
    over the page (text only) is joined to the last — not a note under the table —; a blank cell over cells merged
    down goes on with the merge. A header of two rows repeated is left out whole."""
    from netopt._tables import _continued, _goes_on, _merged_grid, _repeated_header, _rest_of

    previous = [["区县", "乡镇", "人口"], ["瑶海区", "明光路街道", "29969"], [None, "胜利路", "69928"]]
    assert _repeated_header(previous, [["区县", "乡镇", "人口"], ["", "三里街街道", "79918"]]) == 1
    assert _repeated_header(previous, [["", "三里街街道", "79918"]]) == 0
    two_rows = [["区县", "常住人口", ""], ["", "合计", "男"], ["瑶海区", "29969", "15284"]]
    assert _repeated_header(two_rows, [["区县", "常住人口", ""], ["", "合计", "男"], ["庐阳区", "1", "1"]]) == 2
    assert _goes_on(previous, [["", "三里街街道", "79918"]])
    assert not _goes_on(previous, [["网点", "地址", "人口"], ["甲", "乙", "1"]])
    assert not _goes_on(previous, [["", "三里街街道"]])
    rows = _continued(previous, [["", "街道", ""], ["", "三里街街道", "79918"], [None, "大兴镇", "1"]])
    assert previous[-1] == [None, "胜利路街道", "69928"] and rows == [[None, "三里街街道", "79918"], [None, "大兴镇", "1"]]
    assert not _rest_of(previous[-1], ["注：数据为示例。", "", ""]) and _rest_of(previous[-1], ["", "一街道", ""])
    table = _merged_grid(previous + rows)
    assert table.merges == [((1, 0), (4, 0))] and table.rows[4] == ["", "大兴镇", "1"]


def test_a_directory_of_text_alone_reads_as_one_table_its_broken_addresses_joined() -> None:
    """A branch directory (names, addresses, phones: no figure) over pages, its header not repeated, drawn without
    lines or with (tests/data/directory*.pdf): one table, each address (and a long name) broken over lines joined
    to its row, the rows on every page read — the last page's one row too, and a row broken over a page —, as the
    list they were printed from."""
    import pandas as pd

    from netopt._tables import pdf_tables

    listed = pd.read_csv(Path(__file__).parents[1] / "data" / "sources" / "hefei" / "hefei_bank_branches_2019.csv")
    listed = listed[listed["bank_zh"] == "中国农业银行"].head(90)  # as make_tables_pdf.directory_branches picks them
    longest = listed["name"].str.len().to_numpy().argmax()
    printed = pd.concat([listed.iloc[:20], listed.iloc[[longest]], listed.iloc[20:50]])
    for name, pages in (("directory.pdf", [1, 2, 3, 4]), ("directory_ruled.pdf", [1, 2])):
        tables = pdf_tables(Path(__file__).parent / "data" / name)
        rows = [[cell.replace(" ", "").replace("\n", "") for cell in row] for row in tables[0].rows]
        assert len(tables) == 1 and sorted(set(tables[0].pages)) == pages
        assert rows[0] == ["网点名称", "地址", "联系电话"]
        assert rows[1:] == [[value.replace(" ", "") for value in row]
                            for row in printed[["name", "address", "phone"]].values.tolist()]


def test_a_ruled_pdf_s_words_are_read_only_where_a_directory_may_go_on(monkeypatch) -> None:
    """Whether a ruled table runs to its page's foot matters only for a page's last table of text alone: a ruled
    PDF of figures (tests/data/tables.pdf) has no page's words read for it; a ruled directory's pages are, one
    read each, and still join."""
    from pdfplumber.page import Page

    from netopt._tables import pdf_tables

    read = []
    words = Page.extract_words
    monkeypatch.setattr(Page, "extract_words", lambda page, **kw: read.append(page.page_number) or words(page, **kw))
    figures = pdf_tables(Path(__file__).parent / "data" / "tables.pdf")
    assert figures and not figures[0].laid_out and read == []
    directory = pdf_tables(Path(__file__).parent / "data" / "directory_ruled.pdf")
    assert len(directory) == 1 and sorted(read) == sorted(set(read)) == [1, 2, 3]


def test_a_row_of_text_alone_goes_on_under_the_text_of_the_row_above() -> None:
    """In a table without figures, a row is the rest of the one above when blank in the first column, filling at
    most half as many cells and only under text — not a row of its own (its name given), nor a note; and a table
    of text alone atop a page goes on with the page before's last when that ran to the page's foot and their columns
    start alike."""
    from netopt._tables import Layout, _at_foot, _rest_of, _text_goes_on

    last = ["合肥新政务区支行", "合肥市怀宁路与汇林南路交", "0551-63535370"]
    assert _rest_of(last, ["", "叉口安德兴业大夏", ""])
    assert not _rest_of(last, ["长丰下塘营业所", "", ""]) and not _rest_of(last, ["", "叉口", "转2"])
    assert not _rest_of(["甲", "", "0551"], ["", "乙", ""]) and not _rest_of(last, ["", "注：数据为示例。", ""])
    page = [["长丰下塘营业所", "安徽省长丰县下塘镇", "0551-66471022"]]
    ran_on, ended = Layout([84.6, 228.6, 372.6], True), Layout([84.6, 228.6, 372.6], False)
    assert _text_goes_on([last], page, ran_on, Layout([85.0, 229.5, 372.0], True))
    assert not _text_goes_on([last], page, ended, ran_on) and not _text_goes_on([last], page, None, ran_on)
    assert not _text_goes_on([last], page, ran_on, Layout([84.6, 260.0, 372.6], False))  # another table's columns
    assert not _text_goes_on([last], [["乡镇", "人口", "1"]], ran_on, ran_on)  # figures: _goes_on's to say
    words = [{"text": text, "x0": 90.0, "x1": 120.0, "top": top, "bottom": top + 10} for text, top in (
        ("长丰下塘营业所", 690.0), ("—", 750.0), ("2", 750.0), ("—", 750.0))]
    assert _at_foot(words, 702.0) and not _at_foot(words + [{**words[0], "text": "注：示例", "top": 720.0}], 702.0)


def test_a_line_broken_off_a_cell_is_told_by_the_space_above_it() -> None:
    """Where a table's lines lie at two spacings (a cell's lines close, its rows apart), a close line filling fewer
    columns than the row above, under its text, is joined to it — a long name broken with its address too —; not
    where lines are all alike apart (a sheet printed), nor where most close lines fill the row's columns (rows close,
    in groups apart)."""
    from netopt._tables import _close_spacing, _wrapped_lines_joined

    def line(top: float, *cells: str) -> list[dict]:
        return [{"text": text, "x0": 100.0 * k, "x1": 100.0 * k + 60, "top": top, "bottom": top + 10}
                for k, text in enumerate(cells) if text]

    bounds = [80.0, 180.0]
    wrapped = [line(0, "网点名称", "地址", "电话"), line(24, "合肥经济技术开发区", "合肥市经济技术", "0551-1"),
               line(38, "支行营业室", "开发区芙蓉路", ""), line(62, "肥西支行", "肥西县", "0551-2")]
    assert _close_spacing([14.0, 4.0, 14.0]) == 4.0 and _close_spacing([4.0, 4.5, 4.0]) is None
    assert _close_spacing([4.0, 7.0, 4.0]) is None  # not twice as far apart: no two spacings
    joined = _wrapped_lines_joined(wrapped + [line(76, "肥东支行", "肥东县", "0551-3")], bounds)
    assert [len(row) for row in joined] == [3, 5, 3, 3]  # the name's and the address's rest joined to their row,
    # not a row of its own as close (its columns all filled)
    alike = [line(0, "甲", "乙", "丙"), line(14, "丁", "戊", ""), line(28, "己", "庚", "辛")]
    assert _wrapped_lines_joined(alike, bounds) == alike  # a missing phone is no broken line here
    grouped = [line(0, "甲", "乙", "丙"), line(14, "丁", "戊", "己"), line(28, "庚", "辛", ""),
               line(60, "壬", "癸", "子"), line(74, "丑", "寅", "卯")]
    assert _wrapped_lines_joined(grouped, bounds) == grouped  # rows close, groups apart: not one row a group


LINE = st.tuples(st.floats(0.0, 30.0), st.lists(st.sampled_from(["甲", "", "12", "0551-1", "注：示例"]), min_size=3,
                                                max_size=3))


@given(st.lists(LINE, max_size=12))
def test_lines_joined_or_read_as_a_table_s_end_keep_every_word_once_in_order(lines: list) -> None:
    """However a table's lines lie (any spacing, any cells filled), joining the lines broken off a cell keeps every
    word once, in reading order, and a page's end is a slice of its rows."""
    from netopt._tables import _table_end, _wrapped_lines_joined

    rows, top = [], 0.0
    for gap, cells in lines:
        top += gap + 10
        rows.append([{"text": f"{text}#{len(rows)}.{k}", "x0": 100.0 * k, "x1": 100.0 * k + 60, "top": top,
                      "bottom": top + 10} for k, text in enumerate(cells) if text])
    joined = _wrapped_lines_joined(rows, [80.0, 180.0])
    assert [word["text"] for row in joined for word in row] == [word["text"] for row in rows for word in row]
    grid = [list(cells) for _, cells in lines]
    for text_only in (False, True):
        end = _table_end(grid, text_only, grid[0] if grid else None)
        assert 0 <= end.start <= end.stop <= len(grid)
