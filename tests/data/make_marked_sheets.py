"""Writes marked_sheets.xlsx's source with openpyxl; LibreOffice then saves it as the three test workbooks.

    python tests/data/make_marked_sheets.py /tmp/source.xlsx
    soffice --headless --convert-to ods --outdir /tmp /tmp/source.xlsx    # marked_sheets.ods
    soffice --headless --convert-to xls --outdir /tmp /tmp/source.xlsx    # marked_sheets.xls
    soffice --headless --convert-to xlsx --outdir /tmp/x /tmp/source.ods  # marked_sheets.xlsx
"""
from __future__ import annotations

import sys

import openpyxl
from openpyxl.styles import Font


def branches_sheet(book: openpyxl.Workbook) -> None:
    """网点 from B3 under a title merged across: a county merged down twice, row 6 struck through, row 5's 备注
    alone struck, rows 7 and 8 hidden."""
    sheet = book.active
    sheet.title = "网点"
    sheet["A1"] = "2024年网点清单"
    sheet.merge_cells("A1:E1")
    rows = [["网点名称", "所属区县", "备注", "经度", "纬度"]] + [[name, county, "旧址", lon, 31.86] for name, county, lon in (
        ("甲支行", "肥西县", 117.30), ("乙支行", None, 117.31), ("丙支行", "长丰县", 117.32), ("丁支行", None, 117.33),
        ("戊支行", "庐江县", 117.34))]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=2):
            sheet.cell(r, c, value)
    sheet.merge_cells("C4:C5")
    sheet.merge_cells("C6:C7")
    for c in range(2, 7):
        sheet.cell(6, c).font = Font(strike=True)
    sheet.cell(5, 4).font = Font(strike=True)
    sheet.row_dimensions[7].hidden = sheet.row_dimensions[8].hidden = True


def main(path: str) -> None:
    book = openpyxl.Workbook()
    branches_sheet(book)
    towns = book.create_sheet("乡镇")  # two error values in 常住人口
    for row in (["乡镇", "常住人口", "经度", "纬度"], ["明光路街道", 32000, 117.30, 31.86], ["大杨镇", "=NA()", 117.25, 31.95],
                ["三十岗乡", "=1/0", 117.2, 32.0]):
        towns.append(row)
    counties = book.create_sheet("区县")  # last census's residents in a hidden column of the same header
    for row in (["区县", "常住人口（万人）", "常住人口（万人）", "面积"], ["肥西县", 85.9, 94.6, 2053], ["长丰县", 62.1, 79.8, 1922]):
        counties.append(row)
    counties.column_dimensions["B"].hidden = True
    book.save(path)


if __name__ == "__main__":
    main(sys.argv[1])
