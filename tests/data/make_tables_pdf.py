"""Writes the sources of tables.pdf, laid_out.pdf, directory.pdf and directory_ruled.pdf (python-docx) and of
yearbook_sheet.pdf, grouped_header.pdf and header_of_four_rows.pdf (openpyxl) from the sample's towns and branches
(and the branch list's addresses and phones); LibreOffice prints them to PDF.

    python tests/data/make_tables_pdf.py data/sample/towns.csv data/sample/branches.csv /tmp/tables.docx \
        /tmp/laid_out.docx /tmp/yearbook_sheet.xlsx /tmp/grouped_header.xlsx /tmp/header_of_four_rows.xlsx \
        data/sources/hefei/hefei_bank_branches_2019.csv /tmp/directory.docx /tmp/directory_ruled.docx
    soffice --headless --convert-to pdf --outdir /tmp /tmp/tables.docx /tmp/laid_out.docx /tmp/yearbook_sheet.xlsx \
        /tmp/grouped_header.xlsx /tmp/header_of_four_rows.xlsx /tmp/directory.docx /tmp/directory_ruled.docx
"""
from __future__ import annotations

import sys

import docx
import openpyxl
import pandas as pd
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from openpyxl.styles import Alignment


def merged_table(document, header: list[str], rows: list[list], repeat_header: bool) -> None:
    """A table under `header`, its first column's runs of one value merged down (a county over its towns); with
    `repeat_header`, its header repeated atop every page it goes on to."""
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    for column, text in enumerate(header):
        table.cell(0, column).text = text
    if repeat_header:
        table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for r, row in enumerate(rows, start=1):
        for column, value in enumerate(row[1:], start=1):
            table.cell(r, column).text = str(value)
    start = 1
    for r in range(2, len(rows) + 2):
        if r > len(rows) or rows[r - 1][0] != rows[start - 1][0]:
            table.cell(start, 0).text = str(rows[start - 1][0])
            if r - 1 > start:
                table.cell(start, 0).merge(table.cell(r - 1, 0))
            start = r


def laid_out(towns_csv: str, path: str) -> None:
    """A title and the first 70 towns in a table drawn without lines, over three pages (long names broken over two
    lines in their narrow column), under a running header, the page's number in the footer, as a yearbook's."""
    towns = pd.read_csv(towns_csv).head(70)
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "合肥统计年鉴·人口"
    page_number_footer(document, "— ", " —")
    document.add_paragraph("表4-2  各乡镇（街道）人口")
    table = document.add_table(rows=1 + len(towns), cols=4)
    for column, text in enumerate(["乡镇（街道）", "所属区县", "常住人口（人）", "村（社区）数"]):
        table.cell(0, column).text = text
    for r, row in enumerate(towns[["name", "county", "population", "n_villages_communities"]].values.tolist(), 1):
        for column, value in enumerate(row):
            table.cell(r, column).text = str(value)
    document.save(path)


def page_number_footer(document, before: str, after: str) -> None:
    """The page's number (a PAGE field) at the foot of every page, between `before` and `after`: — 1 —."""
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = before
    field = footer.add_run()._r
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        element = OxmlElement("w:fldChar" if kind else ("w:instrText" if text.startswith(" ") else "w:t"))
        if kind:
            element.set(qn("w:fldCharType"), kind)
        else:
            element.text = text
        field.append(element)
    footer.add_run(after)


def directory_branches(branch_list_csv: str) -> pd.DataFrame:
    """The 51 branches of the directories: 中国农业银行's first 50 with the longest name of its first 90 after the 20th."""
    branches = pd.read_csv(branch_list_csv)
    branches = branches[branches["bank_zh"] == "中国农业银行"].head(90)
    longest = branches["name"].str.len().to_numpy().argmax()
    return pd.concat([branches.iloc[:20], branches.iloc[[longest]], branches.iloc[20:50]])


def directory(branch_list_csv: str, path: str, ruled: bool) -> None:
    """A bank's branch directory 营业网点一览表 of 51 branches — the bank's first 50 and, 21st, the longest name of its
    first 90 —: names, addresses and phones (no figure), in narrow columns (long names and addresses broken over
    lines), its header not repeated, the page's number at its foot; drawn without lines over four pages, the last
    holding one row (broken over two lines), or with lines over two."""
    branches = directory_branches(branch_list_csv)
    document = docx.Document()
    page_number_footer(document, "第 " if ruled else "— ", " 页" if ruled else " —")
    document.add_paragraph("中国农业银行合肥分行营业网点一览表")
    table = document.add_table(rows=1 + len(branches), cols=3)
    if ruled:
        table.style = "Table Grid"
    for column, text in enumerate(["网点名称", "地址", "联系电话"]):
        table.cell(0, column).text = text
    for r, row in enumerate(branches[["name", "address", "phone"]].values.tolist(), 1):
        for column, value in enumerate(row):
            table.cell(r, column).text = str(value)
    for row in table.rows:
        for cell, width in zip(row.cells, (Cm(4), Cm(6), Cm(3.5))):
            cell.width = width
    document.save(path)


def yearbook_sheet(towns_csv: str, path: str) -> None:
    """The first 90 towns as a statistics bureau's sheet prints them, without lines: a title merged across, headers
    centred over their columns and repeated atop each page, figures aligned right with thousands separators, a note
    under it, the page's number at its foot (第 1 页)."""
    towns = pd.read_csv(towns_csv).head(90)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["表4-3  各乡镇（街道）常住人口（2020年）"])
    sheet.merge_cells("A1:D1")
    sheet.append(["乡镇（街道）", "所属区县", "常住人口（人）", "村（社区）数"])
    for row in towns[["name", "county", "population", "n_villages_communities"]].values.tolist():
        sheet.append(row)
    sheet.append(["注：常住人口为第七次全国人口普查数据。"])
    for cell in [sheet["A1"], *sheet[2]]:
        cell.alignment = Alignment(horizontal="center")
    for row in sheet.iter_rows(min_row=3, min_col=3, max_col=4):
        for cell in row:
            cell.number_format = "#,##0"
    for column, width in zip("ABCD", (30, 12, 12, 10)):
        sheet.column_dimensions[column].width = width
    sheet.print_title_rows = "2:2"
    sheet.oddFooter.center.text = "第 &P 页"
    book.save(path)


def grouped_header(towns_csv: str, path: str, four_rows: bool = False) -> None:
    """The first 60 towns under a header of two rows, as yearbooks head their tables: 常住人口（人） over 合计, 男, 女,
    the other headers merged down and every header centred across and down its cells, repeated atop each page;
    printed without lines, over two pages. `four_rows`: 人口 over 常住人口 over 合计, 男, 女 over their units, （人）,
    and 村（社区）数's, （个）."""
    towns = pd.read_csv(towns_csv).head(60)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["表5  分乡镇人口"])
    if four_rows:
        sheet.append(["乡镇（街道）", "所属区县", "人口", None, None, "村（社区）数"])
        sheet.append([None, None, "常住人口", None, None, None])
    else:
        sheet.append(["乡镇（街道）", "所属区县", "常住人口（人）", None, None, "村（社区）数"])
    sheet.append([None, None, "合计", "男", "女", None])
    merges = ("A1:F1", "C2:E2", "A2:A3", "B2:B3", "F2:F3")
    if four_rows:
        sheet.append([None, None, "（人）", "（人）", "（人）", "（个）"])
        merges = ("A1:F1", "C2:E2", "C3:E3", "A2:A5", "B2:B5", "F2:F4")
    for cells in merges:
        sheet.merge_cells(cells)
    header_rows = 4 if four_rows else 2
    for town in towns.itertuples():
        men = int(town.population * 0.51)
        sheet.append([town.name, town.county, town.population, men, town.population - men,
                      town.n_villages_communities])
    for row in sheet.iter_rows(max_row=1 + header_rows):
        for cell in row:
            cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in sheet.iter_rows(min_row=2 + header_rows, min_col=3, max_col=5):
        for cell in row:
            cell.number_format = "#,##0"
    for column, width in zip("ABCDEF", (22, 9, 10, 9, 9, 8)):
        sheet.column_dimensions[column].width = width
    sheet.print_title_rows = f"2:{1 + header_rows}"
    book.save(path)


def main(towns_csv: str, branches_csv: str, path: str, laid_out_path: str, yearbook_path: str,
         grouped_path: str, four_rows_path: str, branch_list_csv: str, directory_path: str,
         ruled_directory_path: str) -> None:
    """A form, the first 70 towns by county (header repeated) and 12 branches of each bank by bank (not)."""
    towns = pd.read_csv(towns_csv).head(70)
    branches = pd.read_csv(branches_csv).sort_values(["bank", "branch_id"], kind="stable").groupby("bank").head(12)
    document = docx.Document()
    document.add_paragraph("附件：各乡镇（街道）常住人口与网点")
    form = document.add_table(rows=1, cols=2)
    form.style = "Table Grid"
    form.cell(0, 0).text, form.cell(0, 1).text = "填报单位", "某行合肥分行"
    document.add_paragraph("表2  各乡镇（街道）常住人口")
    merged_table(document, ["区县", "乡镇（街道）", "常住人口（人）", "经度", "纬度"],
                 towns[["county", "name", "population", "lon", "lat"]].values.tolist(), repeat_header=True)
    document.add_paragraph("表3  网点")
    merged_table(document, ["银行", "网点名称", "经度", "纬度"], branches[["bank", "name", "lon", "lat"]].values.tolist(),
                 repeat_header=False)
    document.add_paragraph("注：数据为示例。")
    document.save(path)
    laid_out(towns_csv, laid_out_path)
    yearbook_sheet(towns_csv, yearbook_path)
    grouped_header(towns_csv, grouped_path)
    grouped_header(towns_csv, four_rows_path, four_rows=True)
    directory(branch_list_csv, directory_path, ruled=False)
    directory(branch_list_csv, ruled_directory_path, ruled=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
