"""Every bad input gives an InputError naming the file, rows and column, listing all problems found."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

import netopt as no
from netopt import InputError, NetoptError
from netopt.datasets import sample_dir
from tests.conftest import BRANCHES_CSV, write


def problems_of(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    assert isinstance(info.value, NetoptError)
    return info.value


def test_missing_file_names_the_file(tmp_path: Path):
    err = problems_of(no.read_towns, tmp_path / "nope.csv")
    assert "nope.csv" in str(err) and "does not exist" in str(err)


def test_empty_file(tmp_path: Path):
    err = problems_of(no.read_branches, write(tmp_path / "b.csv", ""))
    assert "b.csv" in str(err) and "empty" in str(err)


def test_header_without_rows(tmp_path: Path):
    err = problems_of(no.read_branches, write(tmp_path / "b.csv", "name,lon,lat\n"))
    assert "no data rows" in str(err)


def test_undecodable_file(tmp_path: Path):
    path = tmp_path / "b.csv"
    path.write_bytes(b"name,lon,lat\n\xff\xfe\xff\x80,117,31\n")
    assert "cannot be decoded" in str(problems_of(no.read_branches, path))
    encrypted = tmp_path / "乡镇.csv"  # what a document-security system leaves of a CSV copied off its computer
    encrypted.write_bytes(bytes(range(256)) * 8)
    assert "is no text: another program's file, or one a document-security system (文档加密) encrypted" in \
        str(problems_of(no.read_towns, encrypted))


def test_unsupported_and_corrupt_files(tmp_path: Path):
    assert "unsupported file type '.doc'" in str(problems_of(no.read_branches, write(tmp_path / "b.doc", "x")))
    assert "not a readable .xlsx" in str(problems_of(no.read_branches, write(tmp_path / "b.xlsx", "not excel")))
    assert "not a readable GIS file" in str(problems_of(no.read_branches, write(tmp_path / "b.geojson", "{oops")))


def test_missing_required_column_lists_found_and_accepted(tmp_path: Path):
    err = problems_of(no.read_counties, write(tmp_path / "c.csv", "区县,面积\n瑶海区,223\n"))
    text = str(err)
    assert "missing required column 'population'" in text
    assert "columns found: 区县, 面积" in text and "常住人口" in text


def test_missing_coordinates_column(tmp_path: Path):
    err = problems_of(no.read_branches, write(tmp_path / "b.csv", "name,lon\nA,117\n"))
    assert "missing coordinate column(s) lat" in str(err)


def test_longitude_and_latitude_in_one_column(tmp_path: Path):
    """One column holding "longitude,latitude" (经纬度, 坐标, location … as Amap's geocoder writes them; comma,
    full-width comma, semicolon or space between) reads as the two columns would; each bad cell is named by row:
    not a pair, empty, swapped."""
    good = write(tmp_path / "b.csv", "网点名称,经纬度\nA,\"117.2168,31.8258\"\nB,117.3 31.9\nC,117.1，31.7\nD,117.0; 31.6\n")
    branches = no.read_branches(good)
    assert branches.geometry.x.tolist() == [117.2168, 117.3, 117.1, 117.0]
    assert branches.geometry.y.tolist() == [31.8258, 31.9, 31.7, 31.6]
    shifted = no.read_branches(good, coords="gcj02")  # converted as separate columns are
    assert shifted.geometry.x.iloc[0] == pytest.approx(no.read_branches(
        write(tmp_path / "s.csv", "name,lon,lat\nA,117.2168,31.8258\n"), coords="gcj02").geometry.x.iloc[0])
    both = write(tmp_path / "c.csv", "name,经度/纬度\nA,\"117.2,31.8\"\nB,117.2\nC,\nD,\"31.8,117.2\"\nE,东经117\n")
    err = problems_of(no.read_branches, both)
    found = {problem.message.split(" (")[0].split(";")[0]: (problem.rows, problem.column) for problem in err.problems}
    assert found == {"not a longitude,latitude pair": ((3, 6), "经度/纬度"),
                     "empty values in a required column": ((4,), "经度/纬度"),
                     "latitude and longitude look swapped": ((5,), "经度/纬度")}
    towns = no.read_towns(write(tmp_path / "t.csv", "name,population,location\nA,100,\"117.2,31.8\"\n"))
    assert towns.geometry.iloc[0].x == 117.2
    picked = no.read_branches(write(tmp_path / "g.csv", "网点名称,经纬度\nA,\"31.8258, 117.2168\"\nB,\"31.9,117.3\"\n"))
    assert picked.geometry.x.tolist() == [117.2168, 117.3]  # every pair latitude first, as Google Maps copies them
    assert "经纬度 read as latitude, longitude: every pair's first number is a latitude" in picked.attrs["left_out"]
    assert "or one column with both, such as 经纬度" in str(problems_of(
        no.read_branches, write(tmp_path / "n.csv", "name,lon\nA,117\n")))
    addressed = str(problems_of(no.read_branches, write(tmp_path / "a.csv", "网点名称,网点地址\nA,合肥市长江中路1号\n")))
    assert "addresses alone cannot be placed here" in addressed
    assert "--coords (coords= in a script; Amap: gcj02)" in addressed


def test_non_numeric_values_name_rows_and_column(tmp_path: Path):
    path = write(tmp_path / "t.csv", "name,county,population,lon,lat\nA,X,12abc,117.3,31.8\nB,X,5000,117.3,31.8\nC,X,n/a,117.3,31.8\n")
    err = problems_of(no.read_towns, path)
    [problem] = err.problems
    assert problem.rows == (2, 4) and problem.column == "population" and "non-numeric" in problem.message
    assert "t.csv, rows 2, 4, column 'population'" in str(err)


def test_codes_a_spreadsheet_wrote_in_scientific_notation_are_named(tmp_path: Path):
    """Twelve-digit town codes saved by Excel as 3.40102E+11 (their last digits lost): said as such, not as
    duplicates; a town's county code likewise."""
    path = write(tmp_path / "t.csv", "town_id,name,county_id,population,lon,lat\n"
                 "3.40102E+11,A,340102,12345,117.3,31.8\n3.40102E+11,B,3.40102E+5,23456,117.3,31.8\n"
                 "340103001000,C,340103,34567,117.3,31.8\n")
    err = problems_of(no.read_towns, path)
    found = {(problem.rows, problem.column): problem.message for problem in err.problems}
    assert set(found) == {((2, 3), "town_id"), ((3,), "county_id")}
    assert found[((2, 3), "town_id")].startswith("codes in scientific notation (3.40102E+11): a spreadsheet shortened")
    assert "format the column as text in Excel" in found[((3,), "county_id")]


def test_empty_coordinates(tmp_path: Path):
    err = problems_of(no.read_branches, write(tmp_path / "b.csv", "name,lon,lat\nA,,31.8\nB,117.3,31.8\n"))
    assert err.problems[0].rows == (2,) and err.problems[0].column == "lon"


def test_swapped_coordinates(tmp_path: Path):
    err = problems_of(no.read_branches, write(tmp_path / "b.csv", "name,经度,纬度\nA,117.3,31.8\nB,31.8,117.3\n"))
    assert "swapped" in str(err) and err.problems[0].rows == (3,)


def test_every_coordinate_problem_at_once(tmp_path: Path):
    path = write(tmp_path / "b.csv", "name,lon,lat\nA,,31.8\nB,31.8,117.3\nC,117.3,三十一度\nD,-122.3,37.8\n")
    err = problems_of(no.read_branches, path)
    found = {(problem.rows, problem.column): problem.message for problem in err.problems}
    assert "empty" in found[((2,), "lon")] and "non-numeric" in found[((4,), "lat")]
    assert "swapped" in found[((3,), "lon/lat")] and "outside China" in found[((5,), "lon/lat")]


def test_coordinates_outside_china(tmp_path: Path):
    err = problems_of(no.read_branches, write(tmp_path / "b.csv", "name,lon,lat\nA,-122.3,37.8\n"))
    assert "outside China" in str(err)


def test_coordinates_in_metres_are_told_apart_and_a_whole_table_of_them_is_not_left_out(tmp_path: Path):
    """Baidu's mercator metres (13,059,812, 3,728,370) named as metres, with how to give degrees; when every branch
    is so, leaving them out would leave none: the problem is not one --skip-unlocated may pass over."""
    every = problems_of(no.read_branches, write(tmp_path / "b.csv", "name,lon,lat\nA,13059812.34,3728370.12\n"
                                                "B,13061234.5,3729999.1\n"))
    [problem] = every.problems
    assert problem.rows == (2, 3) and problem.message.startswith(
        "coordinates in metres, not degrees (e.g. 13,059,812, 3,728,370: a projected system such as web mercator")
    assert not problem.unlocated
    with pytest.raises(InputError):
        no.read_branches(tmp_path / "b.csv", skip_unlocated=True)
    one = problems_of(no.read_branches, write(tmp_path / "c.csv", "name,lon,lat\nA,13059812.34,3728370.12\n"
                                              "B,117.3,31.8\n"))
    assert [problem.unlocated for problem in one.problems] == [True]
    assert no.read_branches(tmp_path / "c.csv", skip_unlocated=True)["name"].tolist() == ["B"]


def test_duplicate_ids(tmp_path: Path):
    path = write(tmp_path / "b.csv", "id,name,lon,lat\nA,x,117.3,31.8\nA,y,117.3,31.8\nB,z,117.3,31.8\n")
    err = problems_of(no.read_branches, path)
    assert "duplicate ids (A)" in str(err) and err.problems[0].rows == (2, 3)


@pytest.mark.parametrize("value, word", [("0", "zero or negative"), ("-5", "zero or negative")])
def test_zero_or_negative_population_and_area(tmp_path: Path, value: str, word: str):
    path = write(tmp_path / "c.csv", f"name,population,area_km2\nA,{value},{value}\n")
    err = problems_of(no.read_counties, path)
    assert {p.column for p in err.problems} == {"population", "area_km2"}
    assert all(word in p.message for p in err.problems)


def test_negative_gdp(tmp_path: Path):
    err = problems_of(no.read_counties, write(tmp_path / "c.csv", "name,population,GDP\nA,100000,-3\nB,100000,0\n"))
    assert err.problems[0].column == "GDP" and err.problems[0].rows == (2,)


def test_unknown_branch_type(tmp_path: Path):
    err = problems_of(no.read_branches, write(tmp_path / "b.csv", "name,type,lon,lat\nA,旗舰型,117.3,31.8\n"))
    assert "unknown value(s) '旗舰型'" in str(err) and "comprehensive" in str(err)
    levels = problems_of(no.read_branches, write(tmp_path / "l.csv", "name,网点类型,lon,lat\nA,支行,117.3,31.8\n"
                                                                     "B,分理处,117.3,31.8\n"))
    assert "none of its values is one: a column that says something else (a level such as 支行, 分理处: 网点级别) is " \
           "kept as it is under another header" in str(levels)
    mixed = problems_of(no.read_branches, write(tmp_path / "m.csv", "name,网点类型,lon,lat\nA,社区型,117.3,31.8\n"
                                                                    "B,分理处,117.3,31.8\n"))
    assert "'分理处'" in str(mixed) and "none of its values" not in str(mixed)  # a slip among types: no hint


def test_branch_types_in_the_words_banks_use(tmp_path: Path):
    """社区支行, 综合性网点, 小微支行, 普惠金融服务站, 轻型化网点: the type their words say; a label of two types'
    words (综合社区网点) is none."""
    path = write(tmp_path / "b.csv", "name,网点类型,lon,lat\nA,社区支行,117.3,31.8\nB,综合性网点,117.3,31.8\n"
                                     "C,小微支行,117.3,31.8\nD,普惠金融服务站,117.3,31.8\nE,轻型化网点,117.3,31.8\n")
    assert no.read_branches(path)["type"].tolist() == ["community", "comprehensive", "inclusive", "inclusive", "light"]
    err = problems_of(no.read_branches, write(tmp_path / "two.csv", "name,网点类型,lon,lat\nA,综合社区网点,117.3,31.8\n"))
    assert "unknown value(s) '综合社区网点'" in str(err)


def test_unknown_region_type_and_unit(tmp_path: Path):
    path = write(tmp_path / "c.csv", "name,人口,GDP(千元),region_type\nA,100000,5,downtown\n")
    err = problems_of(no.read_counties, path)
    assert "unknown unit '千元'" in str(err) and "unknown value(s) 'downtown'" in str(err)


def test_all_problems_listed_at_once(tmp_path: Path):
    path = write(tmp_path / "b.csv", "id,name,type,lon,lat\nA,,bad,117.3,31.8\nA,y,综合型,abc,31.8\n")
    err = problems_of(no.read_branches, path)
    messages = " | ".join(p.message for p in err.problems)
    for part in ("duplicate ids", "empty values", "unknown value", "non-numeric"):
        assert part in messages


def test_empty_and_invalid_geometries(tmp_path: Path):
    bowtie = Polygon([(117.0, 31.0), (117.2, 31.2), (117.2, 31.0), (117.0, 31.2)])
    frame = gpd.GeoDataFrame({"name": ["A", "B"], "population": [100_000, 200_000]}, geometry=[bowtie, box(117, 31, 117.1, 31.1)],
                             crs=4326)
    frame.to_file(tmp_path / "c.gpkg")
    err = problems_of(no.read_counties, tmp_path / "c.gpkg")
    assert "invalid geometry" in str(err) and err.problems[0].rows == (1,) and err.problems[0].row_word == "feature"
    frame = gpd.GeoDataFrame({"name": ["A"], "population": [100_000]}, geometry=[None], crs=4326)
    frame.to_file(tmp_path / "d.geojson", driver="GeoJSON")
    assert "empty or missing geometry" in str(problems_of(no.read_counties, tmp_path / "d.geojson"))


def test_a_boundary_crossing_itself_a_little_is_repaired_and_said(tmp_path: Path):
    """A county boundary whose last edge cuts across its first (simplified or hand-drawn boundaries often do) was
    refused as invalid: it is repaired as GIS tools do, and validate says which to look at; a bow tie stays refused
    (test above)."""
    from typer.testing import CliRunner

    from netopt.cli import app

    crossing = Polygon([(117.25, 31.80), (117.40, 31.80), (117.40, 31.95), (117.25, 31.95), (117.26, 31.79)])
    assert not crossing.is_valid
    frame = gpd.GeoDataFrame({"name": ["A", "B"], "population": [100_000, 200_000]},
                             geometry=[box(117, 31, 117.1, 31.1), crossing], crs=4326)
    frame.to_file(tmp_path / "counties.geojson")
    counties = no.read_counties(tmp_path / "counties.geojson")
    assert counties.geometry.is_valid.all() and counties.attrs["repaired"][0] == (2,)
    assert counties.geometry.iloc[1].area == pytest.approx(box(117.25, 31.80, 117.40, 31.95).area, rel=0.05)
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "counties.geojson")])
    assert result.exit_code == 0 and "check repaired 1 invalid polygon(s) as GIS tools do (feature 2: e.g. " \
        "Self-intersection" in " ".join(result.output.split())


@pytest.mark.parametrize("lost", [".shx", ".dbf"])
def test_a_shapefile_without_its_side_files_names_them(tmp_path: Path, lost: str):
    """Without its .shx GDAL spoke of 'SHAPE_RESTORE_SHX config option'; without its .dbf every column was
    'missing'."""
    frame = gpd.GeoDataFrame({"name": ["A"], "population": [100_000]}, geometry=[box(117, 31, 117.1, 31.1)], crs=4326)
    frame.to_file(tmp_path / "区县.shp", encoding="utf-8")
    (tmp_path / f"区县{lost}").unlink()
    assert f"区县.shp: a Shapefile is several files side by side, and 区县{lost} is missing beside 区县.shp: copy them " \
           "all (.shp, .shx, .dbf, .prj, .cpg) or zip them into one .zip" in str(problems_of(no.read_counties,
                                                                                      tmp_path / "区县.shp"))


def test_crs_that_does_not_match_the_coordinates(tmp_path: Path):
    metres = gpd.GeoDataFrame({"name": ["A"], "population": [100_000]}, geometry=[box(500000, 3500000, 510000, 3510000)],
                              crs=32650)
    metres.set_crs(4326, allow_override=True).to_file(tmp_path / "c.gpkg")
    assert "does not match" in str(problems_of(no.read_counties, tmp_path / "c.gpkg"))


def test_projected_file_without_crs(tmp_path: Path):
    frame = gpd.GeoDataFrame({"name": ["A"], "population": [100_000]}, geometry=[box(500000, 3500000, 510000, 3510000)])
    with pytest.warns(UserWarning, match="crs"):
        frame.to_file(tmp_path / "c.shp")
    assert "no coordinate system" in str(problems_of(no.read_counties, tmp_path / "c.shp"))


def test_dataset_reports_problems_of_every_file(tmp_path: Path):
    counties = write(tmp_path / "c.csv", "name\nA\n")
    towns = write(tmp_path / "t.csv", "name,lon,lat\nT,1,1\n")
    branches = write(tmp_path / "b.csv", BRANCHES_CSV)
    err = problems_of(no.read_dataset, counties, towns, branches)
    assert {Path(p.file).name for p in err.problems} == {"c.csv", "t.csv"}


def test_town_with_unknown_county(city_files, tmp_path: Path):
    towns = write(tmp_path / "towns2.csv", "name,county,population,lon,lat\nA,不存在县,10000,117.3,31.8\n")
    err = problems_of(no.read_dataset, city_files["counties"], towns, city_files["branches"])
    assert "county not found" in str(err) and "不存在县" in str(err)


def test_a_county_named_without_its_suffix_or_with_its_city_is_pointed_to_the_table_s_name(city_files, tmp_path):
    """Towns naming 长丰 or 合肥市瑶海区 where the counties table says 长丰县 and 瑶海区: refused (a guess could join
    the wrong county), the names the table uses given beside each."""
    towns = write(tmp_path / "towns2.csv", "name,county,population,lon,lat\nA,长丰,10000,117.3,31.8\n"
                  "B,合肥市瑶海区,10000,117.3,31.8\nC,不存在,10000,117.3,31.8\n")
    err = problems_of(no.read_dataset, city_files["counties"], towns, city_files["branches"])
    assert "county not found in the counties table (长丰, 合肥市瑶海区, 不存在): the counties table says 长丰县 (for " \
           "长丰), 瑶海区 (for 合肥市瑶海区); name each county as it does" in str(err)


def test_a_county_column_holding_the_counties_codes_links_by_them(city_files, tmp_path):
    """所属区县 filled with 区划代码 (340102) was 'county not found'; a code the table lacks still is."""
    towns = write(tmp_path / "towns2.csv", "乡镇名称,所属区县,常住人口,经度,纬度\n明光路街道,340102,30000,117.3016,31.8585\n"
                  "水湖镇,长丰县,120000,117.1549,32.4838\n")
    ds = no.read_dataset(city_files["counties"], towns, city_files["branches"])
    assert ds.towns[["county", "county_id"]].to_numpy().tolist() == [["瑶海区", "340102"], ["长丰县", "340121"]]
    unknown = write(tmp_path / "towns3.csv", "乡镇名称,所属区县,常住人口,经度,纬度\n明光路街道,340199,30000,117.3016,31.8585\n")
    assert "county not found in the counties table (340199)" in str(problems_of(no.read_dataset, city_files["counties"],
                                                                               unknown, city_files["branches"]))


def test_a_blank_county_code_is_taken_from_the_county_s_name(tmp_path):
    """One town of the sample with its county's name but no county code stopped every command with an unexpected
    pandas ValueError."""
    towns = pd.read_csv(sample_dir() / "towns.csv", dtype=str)
    towns.loc[towns["name"] == "上派镇", "county_id"] = None
    shutil.copytree(sample_dir(), tmp_path / "city")
    towns.to_csv(tmp_path / "city" / "towns.csv", index=False)
    ds = no.read_folder(tmp_path / "city")
    assert ds.towns.loc[ds.towns["name"] == "上派镇", ["county", "county_id"]].to_numpy().tolist() == [
        ["肥西县", "340123"]]


def test_census_figures_that_are_no_numbers_or_out_of_range_are_named(tmp_path: Path):
    """A share of 65+ residents written N31.8 stopped assign-types with an unexpected pandas ValueError."""
    path = write(tmp_path / "counties.csv", "区县,常住人口,城镇人口,平均受教育年限,share_65plus_pct\n"
                 "瑶海区,862043,839135,10.59,N31.8\n长丰县,783982,883982,38,117.8\n")
    text = str(problems_of(no.read_counties, path))
    assert "row 2, column 'share_65plus_pct': non-numeric values (e.g. 'N31.8')" in text
    assert "row 3, column 'share_65plus_pct': a share above 100 %" in text
    assert "row 3, column '平均受教育年限': more than 25 years of schooling on average" in text
    assert "row 3, column '城镇人口': more urban residents than residents" in text


def test_a_town_of_more_people_than_a_province_is_refused_by_its_row(tmp_path: Path):
    """A town of 1e308 residents read, and the core's coverage came out as — (inf / inf)."""
    path = write(tmp_path / "t.csv", "name,population,lon,lat\nA,30000,117.3,31.8\nB,1e308,117.2,31.9\n"
                 "C,20000,117.1,31.7\n")
    err = problems_of(no.read_towns, path)
    assert err.problems[0].rows == (3,) and "more residents than any place holds (above 0.5亿)" in str(err)


def test_opening_costs_in_yuan_or_infinite_are_refused(tmp_path: Path):
    """开设成本（万元） holding 元 (3,000,000 a site) read as 300亿元 a site; 'inf' read as a cost."""
    header = "名称,经度,纬度,开设成本（万元）\n"
    yuan = write(tmp_path / "a.csv", header + "A,117.25,31.84,3000000\nB,117.3,31.8,2500000\n")
    assert "the opening costs look like 元, not 万元 (median 2,750,000万元 a site); give the unit in the header, e.g. " \
           "开设成本（元）" in str(problems_of(no.read_candidates, yuan))
    assert no.read_candidates(write(tmp_path / "b.csv", header.replace("万元", "元") + "A,117.25,31.84,3000000\n")
                              )["open_cost_wan"].tolist() == [300.0]
    endless = write(tmp_path / "c.csv", header + "A,117.25,31.84,inf\n")
    assert "row 2, column '开设成本（万元）': non-numeric values (e.g. 'inf')" in str(problems_of(no.read_candidates, endless))


def test_a_place_listed_twice_is_refused_by_its_rows(tmp_path: Path):
    """Tables merged from several files repeat rows: a town twice counted its residents twice, a branch twice
    (the sample's HXB outlets, scraped twice) counted twice — read without a word. One name at one point is one
    place; the same name elsewhere, or other names at the point, are not."""
    towns = write(tmp_path / "t.csv", "乡镇名称,所属区县,常住人口,经度,纬度\n明光路街道,瑶海区,30000,117.3016,31.8585\n"
                  "水湖镇,长丰县,120000,117.1549,32.4838\n明光路街道,瑶海区,30000,117.3016,31.8585\n")
    err = problems_of(no.read_towns, towns)
    assert err.problems[0].rows == (2, 4) and "the same town in more than one row (明光路街道: one name at one point)" \
        in str(err) and "or its residents count twice" in str(err)
    branches = write(tmp_path / "b.csv", "网点编号,网点名称,银行,经度,纬度\nB1,政务区支行,华夏银行,117.2200,31.8152\n"
                     "B2,政务区支行,华夏银行,117.2200,31.8152\nB3,政务区支行,华夏银行,117.3000,31.8152\n"
                     "B4,政务区支行营业室,华夏银行,117.2200,31.8152\nB5,政务区支行,中国农业银行,117.2200,31.8152\n")
    err = problems_of(no.read_branches, branches)
    assert err.problems[0].rows == (2, 3) and err.problems[0].column == "网点名称"
    assert "the same branch in more than one row (政务区支行: one name at one point)" in str(err)


def test_a_long_cell_is_quoted_cut_short(tmp_path: Path):
    """A note pasted into a number's cell was quoted whole, hundreds of characters on the console."""
    note = "见附件说明" * 40
    text = str(problems_of(no.read_branches, write(tmp_path / "b.csv", f"name,lon,lat\nA,117.3,{note}\n")))
    assert f"non-numeric values (e.g. '{note[:39]}…')" in text and note not in text


def test_long_problem_lists_are_capped(tmp_path: Path):
    rows = "".join(f"n{i},{i},x,31\n" for i in range(30))
    path = write(tmp_path / "b.csv", "name,id,lon,lat\n" + rows)
    text = str(problems_of(no.read_branches, path))
    assert "and 20 more" in text


def test_rows_are_numbered_as_the_spreadsheet_shows_them(tmp_path: Path):
    """Blank lines count, as in Excel: the bad cell is on line 4 of the CSV."""
    err = problems_of(no.read_branches, write(tmp_path / "b.csv", "name,lon,lat\nA,117.3,31.8\n\nB,117.3,x\n"))
    assert err.problems[0].rows == (4,) and "row 4" in str(err)


def test_excel_title_above_the_header_and_a_table_not_in_a1(tmp_path: Path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "合肥市网点统计表（2020年）"  # a title, a blank row, then the table from column B
    for row, cells in enumerate([("网点名称", "经度", "纬度"), ("甲", "117.3", "31.8"), ("乙", "117.3", "x")], start=3):
        for column, value in enumerate(cells, start=2):
            sheet.cell(row=row, column=column, value=value)
    sheet["B7"] = "注：数据来源于各行年报"  # a footnote under the table
    path = tmp_path / "branches.xlsx"
    book.save(path)
    err = problems_of(no.read_branches, path)
    [problem] = err.problems
    assert problem.rows == (5,) and problem.column == "纬度" and "non-numeric" in problem.message
    sheet["D5"] = "31.9"
    book.save(path)
    assert no.read_branches(path)["name"].tolist() == ["甲", "乙"]


def test_a_county_merged_over_its_towns_is_each_town_s(tmp_path: Path):
    """Office sheets merge a county's cell over its towns' rows (区县 瑶海区 over A3:A4): only the first town had read
    a county, the others none. Each row the merge spans reads it — not a blank row under it, nor the header's own
    merges (乡镇 over two header rows) —, in each sheet of a workbook of a sheet per city."""
    import openpyxl

    book = openpyxl.Workbook()
    cities = {"合肥市": (("瑶海区", "明光路街道", "胜利路街道"), ("庐阳区", "大杨镇", "三十岗乡")),
              "芜湖市": (("镜湖区", "滨江街道", "范罗山街道"), ("湾沚区", "湾沚镇", "六郎镇"))}
    for city, counties in cities.items():
        sheet = book.create_sheet(city)
        sheet.append(["区县", "乡镇", "人口", None, "经度", "纬度"])
        sheet.append([None, None, "合计", "男", None, None])
        sheet.merge_cells("A1:A2"), sheet.merge_cells("B1:B2"), sheet.merge_cells("C1:D1")
        for county, *towns in counties:
            sheet.append([county, towns[0], 30000, 15000, 117.3, 31.86])
            sheet.append([None, towns[1], 20000, 9000, 117.29, 31.87])
        sheet.append([])
        sheet.merge_cells("A3:A4"), sheet.merge_cells("A5:A7")  # the second county's merge runs over a blank row
    book.remove(book["Sheet"])
    path = tmp_path / "乡镇.xlsx"
    book.save(path)
    towns = no.read_towns(path)
    assert towns["county"].tolist() == ["瑶海区", "瑶海区", "庐阳区", "庐阳区", "镜湖区", "镜湖区", "湾沚区", "湾沚区"]
    assert towns["population"].tolist() == [30000, 20000] * 4


def test_a_header_of_two_rows_as_statistical_yearbooks_merge_it(tmp_path: Path):
    """人口（万人） merged over 合计 / 男 / 女 and 坐标 over 经度 / 纬度 (a yearbook's header): the row under was read as
    the first town, '合计' refused as a population."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["合肥市各乡镇人口（2020年）"])
    sheet.append([])
    sheet.append(["乡镇", "所属区县", "户数", "人口（万人）", None, None, "坐标", None])
    sheet.append([None, None, None, "合计", "男", "女", "经度", "纬度"])
    for cells in ("A3:A4", "B3:B4", "C3:C4", "D3:F3", "G3:H3"):
        sheet.merge_cells(cells)
    sheet.append(["明光路街道", "瑶海区", 10000, 3.0, 1.5, 1.5, 117.30162, 31.858453])
    sheet.append(["胜利路街道", "瑶海区", 20000, "不详", 3.5, 3.5, 117.29589, 31.864832])
    sheet.append(["注：人口为常住人口"])
    path = tmp_path / "towns.xlsx"
    book.save(path)
    [problem] = problems_of(no.read_towns, path).problems  # rows still counted as the spreadsheet shows them
    assert problem.rows == (6,) and problem.column == "人口（万人）" and "'不详'" in problem.message
    sheet["D6"] = "7万"  # a unit of its own
    book.save(path)
    towns = no.read_towns(path)
    assert towns["population"].tolist() == [30_000, 70_000] and towns["男（万人）"].astype(float).tolist() == [1.5, 3.5]
    assert towns.geometry.x.tolist() == pytest.approx([117.30162, 117.29589])


@pytest.mark.parametrize("units_row", [False, True])
def test_a_header_of_three_or_four_rows_is_read_whole(tmp_path: Path, units_row: bool):
    """人口 merged over 常住人口（万人）, itself over 合计 / 男 / 女, 坐标 over 经度 / 纬度 (or the units in a row of their
    own at the bottom): the rows under the first were read as towns, 常住人口 refused as a population. A row of text
    under a blank header cell below a header of two rows stays a row."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    unit = "" if units_row else "（万人）"
    sheet.append(["乡镇", "所属区县", "人口", None, None, "坐标", None])
    sheet.append([None, None, f"常住人口{unit}", None, None, None, None])
    sheet.append([None, None, "合计", "男", "女", "经度", "纬度"])
    merges = ["A1:A3", "B1:B3", "C1:E1", "C2:E2", "F1:G2"]
    if units_row:
        sheet.append([None, None, "(万人)", "(万人)", "(万人)", None, None])
        merges = ["A1:A4", "B1:B4", "C1:E1", "C2:E2", "F1:G2", "F3:F4", "G3:G4"]
    for cells in merges:
        sheet.merge_cells(cells)
    sheet.append(["明光路街道", "瑶海区", 3.0, 1.5, 1.5, 117.30162, 31.858453])
    sheet.append(["胜利路街道", "瑶海区", 7.0, 3.5, 3.5, 117.29589, 31.864832])
    path = tmp_path / "towns.xlsx"
    book.save(path)
    towns = no.read_towns(path)
    assert towns["name"].tolist() == ["明光路街道", "胜利路街道"] and towns["population"].tolist() == [30_000, 70_000]
    assert towns["男（万人）"].astype(float).tolist() == [1.5, 3.5]
    assert towns.geometry.x.tolist() == pytest.approx([117.30162, 117.29589])
    book = openpyxl.Workbook()
    for cells in (["网点名称", "所属区县", "位置"], [None, None, "地址", "经纬度"], ["甲", "蜀山区", "长江路1号", "117.3,31.8", "新设"]):
        book.active.append(cells)
    book.save(path := tmp_path / "branches.xlsx")
    assert no.read_branches(path)[["name", "address"]].to_numpy().tolist() == [["甲", "长江路1号"]]


def test_a_header_whose_second_row_names_more_is_read_from_its_first(tmp_path: Path):
    """网点名称 beside 位置 over 地址 / 经纬度: the second row names more fields than the first (address and
    coordinates against the name) and was taken for the header alone, the name lost."""
    path = write(tmp_path / "b.csv", "网点名称,位置,\n,地址,经纬度\n甲,长江路1号,\"117.3,31.8\"\n")
    branches = no.read_branches(path)
    assert branches[["name", "address"]].to_numpy().tolist() == [["甲", "长江路1号"]]
    assert branches.attrs["columns_read"] == {"name": "网点名称", "address": "地址", "lonlat": "经纬度"}


def test_a_name_over_two_columns_of_its_kind_is_one_header_with_them(tmp_path: Path):
    """人口（万人） over 户籍人口 / 常住人口, a yearbook's usual header (its cells merged or not): the row under it
    was read as the first town, '户籍人口' refused as a population; now the residents are read, in 万人."""
    text = "乡镇,人口（万人）,,经度,纬度\n,户籍人口,常住人口,,\n甲镇,3.2,3.5,117.2,31.8\n乙镇,2.1,2.0,117.3,31.9\n"
    towns = no.read_towns(write(tmp_path / "t.csv", text))
    assert towns["population"].tolist() == [35_000, 20_000] and towns["户籍人口（万人）"].astype(float).tolist() == [3.2, 2.1]
    assert towns.attrs["columns_read"]["population"] == "常住人口（万人）"
    text = "网点名称,地址,,所属乡镇\n甲支行,长江路1号,近地铁站,甲镇\n"  # a first row of text only stays a row
    assert no.read_branches(write(tmp_path / "b.csv", text), towns=towns)["name"].tolist() == ["甲支行"]


def test_a_row_of_units_under_the_header_gives_each_column_its_unit(tmp_path: Path):
    """常住人口 over (万人), 地区生产总值 over （亿元）, 面积 over 公顷: the units row was read as a county."""
    path = write(tmp_path / "c.csv", "区县,常住人口,地区生产总值,面积\n,(万人),（亿元）,公顷\n甲,10,120,500\n乙,20,5000万元,30\n")
    counties = no.read_counties(path)
    assert counties[["population", "gdp_yi", "area_km2"]].to_numpy().tolist() == [[1e5, 120, 5], [2e5, 0.5, 0.3]]


def test_a_first_row_of_text_under_an_unnamed_column_stays_a_row(tmp_path: Path):
    path = write(tmp_path / "b.csv", "网点名称,,经纬度\n甲,备注,\"117.3,31.8\"\n乙,,\"117.4,31.9\"\n")
    assert no.read_branches(path)["name"].tolist() == ["甲", "乙"]


def test_csv_record_longer_than_its_header(tmp_path: Path):
    path = write(tmp_path / "b.csv", "name,lon,lat\nA,117.3,31.8\nB,合肥,支行,117.3,31.8\n")
    found = {(problem.rows, problem.column): problem.message for problem in problems_of(no.read_branches, path).problems}
    assert "more fields than the header's 3" in found[((3,), None)]


def test_csv_title_and_notes_around_the_table(tmp_path: Path):
    path = write(tmp_path / "b.csv", "合肥市网点表\n\nname,lon,lat\nA,117.3,31.8\n\n资料来源：某行\n")
    assert no.read_branches(path)["name"].tolist() == ["A"]
    signed = write(tmp_path / "signed.csv", "网点名称,地址,经度,纬度\nA,长江路1号,117.3,31.8\n注：坐标为高德坐标,,,\n"
                   "单位负责人：王五,统计负责人：李四,填表人：张三,报出日期：2025年1月10日\n")  # an office form's sign-off
    assert no.read_branches(signed)["name"].tolist() == ["A"]
    signer = write(tmp_path / "signer.csv", "网点名称,地址,经度,纬度\nA,长江路1号,117.3,31.8\n制表人：张三,,,117.3\n")
    assert "row 3, column '经度': empty values" in str(problems_of(no.read_branches, signer))  # a cell not a signer's


@pytest.mark.parametrize("reader, text, row", [
    (no.read_towns, "name,county,population,lon,lat\nA,X,12000,117.3,31.8\n合计,,15000,,\n", 3),
    (no.read_counties, "name,population\nX,12000\nY,30000\n合 计,50000\n", 4),
    (no.read_counties, "name,population\n全市,42000\n小计,12000\nX,12000\nY,30000\n", 2),  # two: not one sum
])
def test_total_rows_not_adding_up_are_refused(tmp_path: Path, reader, text: str, row: int):
    err = problems_of(reader, write(tmp_path / "t.csv", text))
    [total] = [problem for problem in err.problems if "total row" in problem.message]
    assert total.rows[0] == row and total.column == "name"
    assert ("residents, the other rows" in total.message) == (len(total.rows) == 1)


def test_a_yearbooks_total_row_is_left_out_where_it_adds_up(tmp_path: Path):
    """全市 at the top of a yearbook's table (rounded 万人 figures) was refused; it is the others' sum: said, left out."""
    path = write(tmp_path / "区县.csv", "区县,年末常住人口(万人)\n全市,287.4\n瑶海区,102.3\n庐阳区,75.1\n蜀山区,110.04\n")
    counties = no.read_counties(path)
    assert counties["name"].tolist() == ["瑶海区", "庐阳区", "蜀山区"]
    assert "the total row 全市 (row 2) left out: it gives the residents of the other rows" in counties.attrs["left_out"]
    towns = write(tmp_path / "乡镇.csv", "name,county,population,lon,lat\nA,X,12000,117.3,31.8\nB,X,3000,117.4,31.8\n"
                  "合计,,15000,,\n")
    assert no.read_towns(towns)["name"].tolist() == ["A", "B"]


def test_workbook_whose_table_is_not_on_the_first_sheet(tmp_path: Path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active["A1"] = "本表由某行战略部整理"
    sheet = book.create_sheet("网点")
    for row in [("网点名称", "经度", "纬度"), ("甲", "117.3", "31.8"), ("乙", "117.3", "x")]:
        sheet.append(row)
    path = tmp_path / "branches.xlsx"
    book.save(path)
    [problem] = problems_of(no.read_branches, path).problems
    assert problem.file.endswith("branches.xlsx (sheet '网点')") and problem.rows == (3,)
    assert "sheets: 说明, 网点" in str(problems_of(no.read_branches, path, layer="Sheet1"))
    assert "missing required column" in str(problems_of(no.read_branches, path, layer="说明"))


def test_a_damaged_workbook_the_reader_panics_on_is_named_not_a_crash(tmp_path: Path, capfd):
    """calamine (written in Rust) panics on some damaged workbooks — an .xls cut short —: its PanicException is no
    Exception, and went past the reader as a raw traceback. Now the file is named as unreadable, damaged, and the
    lines Rust writes to stderr for its panic ("thread … panicked at …", an assertion) are not shown."""
    cut = tmp_path / "网点.xls"
    cut.write_bytes((Path(__file__).parent / "data" / "marked_sheets.xls").read_bytes()[:609])
    with pytest.raises(no.InputError, match=r"网点.xls: not a readable .xls workbook \(damaged or cut short: the "
                                            r"reader stopped on it\)"):
        no.read_branches(cut)
    assert capfd.readouterr().err == ""


def test_what_the_workbook_reader_writes_to_stderr_without_a_panic_is_passed_on(capfd):
    """Only a panic's lines are left out: anything else written to stderr during a read is still shown."""
    from netopt.io import _calamine

    with _calamine():
        os.write(2, b"a reader's own warning\n")
    assert capfd.readouterr().err == "a reader's own warning\n"


def test_old_excel_workbook(tmp_path: Path):
    """tests/data/branches_old_excel.xls: a title row, a blank row, then 网点名称/经度/纬度 with one bad latitude."""
    [problem] = problems_of(no.read_branches, Path(__file__).parent / "data" / "branches_old_excel.xls").problems
    assert problem.rows == (5,) and problem.column == "纬度" and "'x'" in problem.message
    broken = tmp_path / "b.xls"
    broken.write_bytes(b"not a workbook")
    assert "not a readable .xls workbook" in str(problems_of(no.read_branches, broken))


def test_an_excel_binary_workbook_is_read_as_its_xlsx_twin_saying_what_it_cannot_see():
    """tests/data/calamine_base.xlsb and .xlsx (python-calamine's test workbooks, MIT): the same sheets and cells
    read from both — so a towns table refused alike, naming the columns found —, the .xlsb with a note that its
    merged cells, hidden rows and struck-through cells are not seen."""
    import netopt.io as nio

    data = Path(__file__).parent / "data"
    binary, twin = nio._read_raw(data / "calamine_base.xlsb"), nio._read_raw(data / "calamine_base.xlsx")
    assert list(binary.sheets) == list(twin.sheets) == ["Sheet1", "Sheet3"]  # those holding cells
    for name in twin.sheets:
        pd.testing.assert_frame_equal(binary.sheets[name], twin.sheets[name])
    assert binary.notes == (nio.XLSB_NOTE,) and twin.notes == ()
    said = [str(problems_of(no.read_towns, data / f"calamine_base.{suffix}")).replace(suffix, "")
            for suffix in ("xlsb", "xlsx")]
    assert said[0] == said[1] and "columns found: String, 1, 1.1, True" in said[0]


MARKED = Path(__file__).parent / "data" / "marked_sheets"


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_rows_hidden_or_struck_and_cells_merged_down_are_seen_alike_in_xlsx_xls_and_ods(suffix: str):
    """tests/data/marked_sheets.* (one workbook saved by LibreOffice three ways), sheet 网点 from B3: row 6 struck
    through (删除线), row 5's 备注 alone struck, rows 7 and 8 hidden, a county merged down over two rows twice.
    The same branches, counties and notes from each; an .xls's hidden and struck rows had not been seen at all, nor
    an .ods's, nor an .ods's merges (its county read in the merge's first row only)."""
    branches = no.read_branches(f"{MARKED}.{suffix}", layer="网点")
    assert branches["name"].tolist() == ["甲支行", "乙支行", "丙支行", "丁支行", "戊支行"]
    assert branches["county"].tolist() == ["肥西县", "肥西县", "长丰县", "长丰县", "庐江县"]
    notes = branches.attrs["left_out"]
    assert "rows 7, 8 are hidden in the sheet (filtered out, or hidden) and read like the others: delete them" in notes
    assert "row 6 is struck through (删除线) and read like the others: delete it if not to be read (a closed" in notes
    assert "row 5" not in notes and "could not be looked at" not in notes


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_error_values_are_named_once_in_xlsx_xls_and_ods(suffix: str):
    """marked_sheets.*, sheet 乡镇: 常住人口 =NA() and =1/0 in rows 3 and 4 — named as error values, and not said
    to be empty as well (calamine reads them as blanks); an .xls's and an .ods's had been said to be empty only."""
    [error] = problems_of(no.read_towns, f"{MARKED}.{suffix}", layer="乡镇").problems
    assert error.rows == (3, 4) and error.column == "常住人口" and "error values (#N/A …)" in error.message
    assert "Excel, WPS, LibreOffice" in error.message  # whichever made the file: an .ods's are LibreOffice's


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_of_two_columns_of_one_header_the_one_the_sheet_shows_is_read(suffix: str):
    """marked_sheets.*, sheet 区县: 常住人口（万人） heads a hidden column B (last census's) and the shown column C. B
    had been read — the first of a header —, silently; now C, said."""
    counties = no.read_counties(f"{MARKED}.{suffix}", layer="区县")
    assert counties["population"].tolist() == [946_000, 798_000]
    assert "常住人口（万人）: column C read — the sheet hides the other column(s) so headed (B)" in counties.attrs["left_out"]


def test_columns_of_one_header_whose_cells_differ_are_refused_unless_alike(tmp_path: Path):
    """Two columns both headed 常住人口 (tables put side by side), none hidden: which to read cannot be told — the first
    had been read, silently. Refused naming both and the rows where they differ; two columns repeating each other are
    read, and of two one of which is empty, the other; of two addresses (注册地址 and 营业地址, both 地址), the first,
    said. A column read that the sheet hides is said."""
    import openpyxl

    towns = write(tmp_path / "t.csv", "乡镇,常住人口,常住人口,经度,纬度\n甲镇,1000,32000,117.3,31.8\n乙镇,2000,2000,117.3,31.8\n")
    [problem] = problems_of(no.read_towns, towns).problems
    assert problem.rows == (2,) and problem.column == "常住人口" and problem.message == (
        "columns 2, 3 are all headed 常住人口, their cells differing: delete the ones not to be read, or rename them")
    towns.write_text("乡镇,常住人口,常住人口,经度,纬度\n甲镇,1000,1000,117.3,31.8\n", encoding="utf-8")
    assert no.read_towns(towns)["population"].tolist() == [1000]
    towns.write_text("乡镇,经度,纬度,经度\n甲镇,,31.8,117.3\n乙镇,,31.8,117.4\n", encoding="utf-8")
    read = no.read_towns(towns, population_required=False)
    assert [point.x for point in read.geometry] == [117.3, 117.4]
    assert read.attrs["left_out"].endswith("经度: column 4 read — the other column(s) so headed are empty (2)")
    branches = write(tmp_path / "b.csv", "网点名称,地址,地址,经度,纬度\n甲,合肥市长江路1号,注册地某路2号,117.3,31.8\n")
    read = no.read_branches(branches)
    assert read["address"].tolist() == ["合肥市长江路1号"] and read.attrs["left_out"].endswith(
        "地址: column 2 read — the first of the columns so headed, their cells differing: rename the others (3)")
    book = openpyxl.Workbook()
    for row in (["乡镇", "常住人口", "经度", "纬度", "备注"], ["甲镇", 1000, 117.3, 31.8, "旧"]):
        book.active.append(row)
    book.active.column_dimensions["C"].hidden = book.active.column_dimensions["E"].hidden = True
    book.save(tmp_path / "t.xlsx")
    assert no.read_towns(tmp_path / "t.xlsx").attrs["left_out"].endswith("the sheet hides the column(s) 经度, read all "
                                                                         "the same")


def test_an_old_excel_workbook_xlrd_cannot_look_into_is_read_saying_so(monkeypatch: pytest.MonkeyPatch):
    """Where xlrd cannot read what calamine did (a workbook of a version it does not know), the values are still
    read, and the table's notes say its hidden rows, struck cells and error values were not looked at."""
    import xlrd

    import netopt.io as nio

    def unreadable(*args, **kwargs):
        raise xlrd.XLRDError("Unsupported format, or corrupt file")

    monkeypatch.setattr(xlrd, "open_workbook", unreadable)
    branches = no.read_branches(f"{MARKED}.xls", layer="网点")
    assert len(branches) == 5 and nio.XLS_UNSEEN_NOTE in branches.attrs["left_out"]
    assert "struck through" not in branches.attrs["left_out"]


def test_an_ods_whose_content_cannot_be_looked_into_is_read_saying_so(tmp_path: Path):
    """An .ods whose content.xml calamine reads but the stream of its rows cannot (here: cut after its sheets,
    its closing tags lost) is read as its values, saying its merges, hidden rows, struck cells and error values
    were not looked at."""
    import zipfile

    import netopt.io as nio

    cut = tmp_path / "cut.ods"
    with zipfile.ZipFile(f"{MARKED}.ods") as source, zipfile.ZipFile(cut, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "content.xml":
                data = data.replace(b"</office:document-content>", b"")
            target.writestr(item, data)
    branches = no.read_branches(cut, layer="网点")
    assert len(branches) == 5 and nio.ODS_UNSEEN_NOTE in branches.attrs["left_out"]


@pytest.mark.parametrize("reader, text", [
    (no.read_towns, "name,county,常住人口,lon,lat\nA,X,3.2,117.3,31.8\nB,X,6.99,117.3,31.8\n"),
    (no.read_counties, "name,常住人口\n瑶海区,90.2\n蜀山区,112.9\n"),
])
def test_populations_in_wan_without_the_unit(tmp_path: Path, reader, text: str):
    [problem] = problems_of(reader, write(tmp_path / "t.csv", text)).problems
    assert problem.column == "常住人口" and "look like 万人" in problem.message and "常住人口（万人）" in problem.message
    fixed = reader(write(tmp_path / "t.csv", text.replace("常住人口", "常住人口（万人）")))
    assert fixed["population"].min() > 30_000


def test_persons_under_a_wan_header_are_too_many(tmp_path: Path):
    """Persons under a header saying 万人 (a county of 82亿 people) are named, as 万人 under a persons header are."""
    text = "区县,常住人口（万人）\n瑶海区,862000\n长丰县,784000\n"
    [problem] = problems_of(no.read_counties, write(tmp_path / "c.csv", text)).problems
    assert problem.column == "常住人口（万人）" and "too large to be residents" in problem.message
    assert "Drop the unit from the header" in problem.message
    assert no.read_counties(write(tmp_path / "c.csv", text.replace("（万人）", "")))["population"].max() == 862000
    towns = "name,county,population_wan,lon,lat\nA,X,30000,117.3,31.8\nB,X,121000,117.3,31.8\n"
    [problem] = problems_of(no.read_towns, write(tmp_path / "t.csv", towns)).problems
    assert "the median is 75,500万 people" in problem.message


@pytest.mark.parametrize("text, column, said, header, field, expected", [
    ("区县,常住人口（万人）,面积\n瑶海区,86.2,223100000\n长丰县,78.4,1835600000\n", "面积", "the areas look like m², not km²",
     "面积（平方米）", "area_km2", [223.1, 1835.6]),
    ("name,常住人口（万人）,地区生产总值\n瑶海区,90.2,8123456\n蜀山区,112.9,12345678\n", "地区生产总值",
     "looks like 万元, not 亿元", "地区生产总值（万元）", "gdp_yi", [812.3456, 1234.5678]),
    ("name,常住人口（万人）,地区生产总值\n瑶海区,90.2,81234560000\n蜀山区,112.9,123456780000\n", "地区生产总值",
     "looks like 元, not 亿元", "地区生产总值（元）", "gdp_yi", [812.3456, 1234.5678]),  # the unit named is 元
])
def test_county_figures_in_another_unit_without_the_unit(tmp_path: Path, text, column, said, header, field, expected):
    """Areas in m², GDP in 万元 or 元 under a header without the unit: named, with the header that reads them right."""
    [problem] = problems_of(no.read_counties, write(tmp_path / "c.csv", text)).problems
    assert problem.column == column and said in problem.message and header in problem.message
    fixed = no.read_counties(write(tmp_path / "c.csv", text.replace(column, header)))
    assert fixed[field].tolist() == pytest.approx(expected)


def test_town_county_id_that_names_another_county(city_files, tmp_path: Path):
    towns = write(tmp_path / "towns2.csv", "乡镇名称,区县代码,所属区县,常住人口,经度,纬度\n"
                  "明光路街道,340102,瑶海区,30000,117.3016,31.8585\n水湖镇,340102,长丰县,120000,117.1549,32.4838\n")
    err = problems_of(no.read_dataset, city_files["counties"], towns, city_files["branches"])
    [problem] = err.problems
    assert (problem.rows, problem.column) == ((3,), "区县代码")
    assert "disagree" in problem.message and "340102 is 瑶海区" in problem.message and "not 长丰县" in problem.message


def test_town_county_id_missing_from_the_counties_table(city_files, tmp_path: Path):
    towns = write(tmp_path / "towns2.csv", "乡镇名称,区县代码,所属区县,常住人口,经度,纬度\n"
                  "明光路街道,340102,瑶海区,30000,117.3016,31.8585\n水湖镇,999999,长丰县,120000,117.1549,32.4838\n")
    err = problems_of(no.read_dataset, city_files["counties"], towns, city_files["branches"])
    assert "row 3, column '区县代码'" in str(err) and "not found in the counties table (999999)" in str(err)


def test_town_county_ids_of_another_coding_are_linked_by_name(city_files, tmp_path: Path):
    towns = write(tmp_path / "towns2.csv", "乡镇名称,区县代码,所属区县,常住人口,经度,纬度\n"
                  "明光路街道,C1,瑶海区,30000,117.3016,31.8585\n水湖镇,C2,长丰县,120000,117.1549,32.4838\n")
    ds = no.read_dataset(city_files["counties"], towns, city_files["branches"])
    assert list(ds.towns["county"]) == ["瑶海区", "长丰县"]


def test_two_counties_of_one_name_are_refused_as_a_city(city_files, tmp_path: Path):
    counties = write(tmp_path / "c2.csv", "区划代码,区县,常住人口（万人）\n320106,鼓楼区,93\n320302,鼓楼区,36\n")
    towns = write(tmp_path / "t2.csv", "乡镇名称,区县代码,常住人口,经度,纬度\n湖南路街道,320106,30000,118.78,32.07\n"
                  "牌楼街道,320302,20000,117.19,34.27\n")
    err = problems_of(no.read_dataset, counties, towns, city_files["branches"])
    problem, far = err.problems  # and the (Hefei) branches more than 50 km outside the two (their bundled boundaries)
    assert (problem.rows, problem.column) == ((2, 3), "区县") and "more than one county named 鼓楼区" in problem.message
    assert "more than 50 km outside every county boundary of the city" in far.message
    assert len(no.read_counties(counties)) == 2  # alone (a batch's units table) the names may repeat


def test_without_boundaries_a_branch_far_from_every_town_is_refused(tmp_path: Path):
    """Counties of no bundled unit (甲区, 乙县) and without boundaries: a branch is checked against the towns — one
    more than 50 km from every town refused by its row, said as measured so."""
    counties = write(tmp_path / "c.csv", "区县,常住人口（万人）\n甲区,3.5\n乙县,15\n")
    towns = write(tmp_path / "t.csv", "乡镇名称,所属区县,常住人口,经度,纬度\n明光路街道,甲区,35000,117.3016,31.8585\n"
                  "水湖镇,乙县,150000,117.1549,32.4838\n")
    branches = write(tmp_path / "b.csv", "网点名称,经度,纬度\n近支行,117.30,31.86\n远支行,100.0,31.86\n")
    [far] = problems_of(no.read_dataset, counties, towns, branches).problems
    assert far.rows == (3,) and "more than 50 km from every town of the city, whose counties have no boundaries " \
        "(e.g. 远支行" in far.message
    assert no.read_counties(counties).geometry.isna().all()


def test_branch_far_outside_the_city_is_named_with_its_excel_row(tmp_path: Path, county_boxes):
    import pandas as pd

    county_boxes.to_file(tmp_path / "counties.geojson", driver="GeoJSON")
    towns = write(tmp_path / "towns.csv", "name,population,lon,lat\nA,10000,117.30,31.86\nB,20000,117.15,32.48\n")
    branches = pd.DataFrame({"网点名称": ["近郊支行", "错位支行", "明光路支行"], "经度": [117.45, 100.0, 117.30],
                             "纬度": [31.90, 31.90, 31.86]})  # 5 km beyond 瑶海区; 1,600 km away; inside
    with pd.ExcelWriter(tmp_path / "branches.xlsx") as sheet:
        pd.DataFrame([["某银行网点清单"]]).to_excel(sheet, header=False, index=False)
        branches.to_excel(sheet, startrow=2, index=False)
    err = problems_of(no.read_dataset, tmp_path / "counties.geojson", towns, tmp_path / "branches.xlsx")
    [problem] = err.problems
    assert (problem.rows, problem.column) == ((5,), "经度/纬度")
    assert "more than 50 km outside every county boundary" in problem.message and "错位支行" in problem.message
    assert "km from 长丰县" in problem.message


def test_branches_that_cannot_be_placed_are_left_out_when_asked(tmp_path: Path, county_boxes):
    """skip_unlocated: branches whose coordinates are empty, not numbers, outside China or far outside every county
    are left out, attrs["left_out"] naming file, reasons and rows; the others are read as usual. Without it each is
    a problem marked `unlocated`; a problem of another kind is refused either way."""
    county_boxes.to_file(tmp_path / "counties.geojson", driver="GeoJSON")
    towns = write(tmp_path / "towns.csv", "name,population,lon,lat\nA,10000,117.30,31.86\nB,20000,117.15,32.48\n")
    branches = write(tmp_path / "branches.csv", "网点名称,营业状态,经度,纬度\n甲,正常,117.30,31.86\n乙,,,31.9\n"
                     "丙,,117.15,未知\n丁,已撤销,117.31,31.87\n戊,,10.0,31.86\n己,,100.0,31.9\n庚,,117.16,32.47\n")
    read = no.read_dataset(tmp_path / "counties.geojson", towns, branches, skip_unlocated=True)
    assert read.branches["name"].tolist() == ["甲", "庚"]
    said = read.branches.attrs["left_out"]
    assert f"{branches}: left out 1 branch(es) not open today by 营业状态 (1 已撤销; row 5)" in said
    assert "left out 3 branches without usable coordinates (经度: empty values in a required column; 纬度: " \
        "non-numeric values (e.g. '未知'); 经度/纬度: coordinates outside China's extent" in said
    assert "rows 3, 4, 6)" in said and "left out 1 branch more than 50 km outside every county boundary (row 7)" \
        in said  # 己, 1,600 km away, counted by its row in the file
    err = problems_of(no.read_dataset, tmp_path / "counties.geojson", towns, branches)
    assert all(problem.unlocated for problem in err.problems) and len(err.problems) == 3
    far = problems_of(no.read_dataset, tmp_path / "counties.geojson", towns,
                      write(tmp_path / "far.csv", "网点名称,经度,纬度\n甲,117.30,31.86\n己,100.0,31.9\n"))
    assert [problem.unlocated for problem in far.problems] == [True]
    named = write(tmp_path / "named.csv", "网点名称,经度,纬度\n甲,117.30,31.86\n,117.31,31.87\n乙,,31.9\n")
    err = problems_of(no.read_dataset, tmp_path / "counties.geojson", towns, named, skip_unlocated=True)
    assert [problem.column for problem in err.problems] == ["网点名称", "经度"]  # a nameless branch: not skipped
    assert not any(problem.unlocated for problem in err.problems)
    nowhere = write(tmp_path / "nowhere.csv", "网点名称,经度,纬度\n甲,,31.86\n乙,,31.9\n")
    assert "empty values" in str(problems_of(no.read_dataset, tmp_path / "counties.geojson", towns, nowhere,
                                             skip_unlocated=True))


def test_branches_not_open_today_are_left_out_by_their_status(tmp_path: Path, county_boxes):
    """A status column (营业状态, 机构状态, a licence's 许可证状态): branches marked closed (已撤销, 停业, 注销 …) or not
    yet open (筹建中) are left out, attrs["left_out"] saying how many, which statuses and rows; blank or any other
    status is open; later checks still name the right rows; every branch closed is an error."""
    county_boxes.to_file(tmp_path / "counties.geojson", driver="GeoJSON")
    towns = write(tmp_path / "towns.csv", "name,population,lon,lat\nA,10000,117.30,31.86\nB,20000,117.15,32.48\n")
    branches = write(tmp_path / "branches.csv", "网点名称,营业状态,经度,纬度\n甲,正常营业,117.30,31.86\n乙,已撤销,100.0,31.9\n"
                     "丙,,117.15,32.48\n丁,筹建中,117.31,31.87\n戊,暂停营业,117.32,31.86\n己,营业中,117.16,32.47\n")
    read = no.read_branches(branches)
    assert read["name"].tolist() == ["甲", "丙", "己"] and "status" not in read
    assert read.attrs["left_out"] == (f"{branches}: left out 3 branch(es) not open today by 营业状态 (1 已撤销, 1 筹建中, "
                                      "1 暂停营业; rows 3, 5, 6)")
    ds = no.read_dataset(tmp_path / "counties.geojson", towns, branches)  # 乙, 1,600 km away, is closed: no error
    assert len(ds.branches) == 3
    far = write(tmp_path / "far.csv", "网点名称,机构状态,经度,纬度\n甲,已撤销,117.30,31.86\n乙,有效,100.0,31.9\n")
    [problem] = problems_of(no.read_dataset, tmp_path / "counties.geojson", towns, far).problems
    assert problem.rows == (3,) and "乙" in problem.message
    closed = write(tmp_path / "closed.csv", "name,status,lon,lat\nA,closed,117.3,31.86\nB,已注销,117.3,31.86\n")
    [problem] = problems_of(no.read_branches, closed).problems
    assert problem.column == "status" and "every branch is marked closed or not yet open" in problem.message
    blank = write(tmp_path / "blank.csv", "网点名称,营业状态,经度,纬度\n甲,正常营业,117.30,31.86\n乙,已撤销,,\n丙,筹建中,待定,\n")
    read = no.read_branches(blank)  # a closed or planned branch's coordinates are often blank: no problem
    assert read["name"].tolist() == ["甲"] and read.attrs["left_out"].endswith("(1 已撤销, 1 筹建中; rows 3, 4)")


def test_branch_just_over_the_border_counts_in_the_nearest_county(tmp_path: Path, county_boxes):
    county_boxes.to_file(tmp_path / "counties.geojson", driver="GeoJSON")
    towns = write(tmp_path / "towns.csv", "name,population,lon,lat\nA,10000,117.30,31.86\nB,20000,117.15,32.48\n")
    branches = write(tmp_path / "b.csv", "name,lon,lat\n近郊支行,117.45,31.90\n")
    ds = no.read_dataset(tmp_path / "counties.geojson", towns, branches)
    assert len(ds.branches) == 1


def test_towns_without_population(city_files, tmp_path: Path):
    towns = write(tmp_path / "towns2.csv", "乡镇名称,所属区县,经度,纬度\n明光路街道,瑶海区,117.3016,31.8585\n")
    err = problems_of(no.read_dataset, city_files["counties"], towns, city_files["branches"])
    assert "missing required column 'population'" in str(err) and "towns2.csv" in str(err)
    assert no.read_towns(towns, population_required=False)["population"].isna().all()
    gaps = write(tmp_path / "towns3.csv", "乡镇名称,常住人口,经度,纬度\nA,30000,117.3,31.8\nB,,117.2,31.9\n")
    assert "row 3, column '常住人口': empty values" in str(problems_of(no.read_towns, gaps))


def test_units_written_in_the_cells(tmp_path: Path):
    """3.2万 in a population column is 32,000 (it was refused with where the unit goes), whatever the header's unit;
    a unit the column is not counted in is refused naming the ones it may carry."""
    towns = write(tmp_path / "t.csv", "乡镇名称,常住人口,经度,纬度\nA,3.2万,117.3,31.8\nB,\"12,000人\",117.3,31.8\n"
                                      "C,5000,117.3,31.8\n")
    assert no.read_towns(towns)["population"].tolist() == [32_000, 12_000, 5_000]
    in_wan = write(tmp_path / "w.csv", "乡镇名称,常住人口（万人）,经度,纬度\nA,3.2万,117.3,31.8\nB,2.5,117.3,31.8\n")
    assert no.read_towns(in_wan)["population"].tolist() == [32_000, 25_000]
    counties = write(tmp_path / "c.csv", "区县,常住人口,GDP（亿元）,面积\n甲,100000,120,5公顷\n乙,200000,5000万元,30\n")
    assert no.read_counties(counties)[["gdp_yi", "area_km2"]].to_numpy().tolist() == [[120, 0.05], [0.5, 30]]
    wrong = write(tmp_path / "x.csv", "乡镇名称,常住人口,经度,纬度\nA,1.2亿,117.3,31.8\n")
    assert "non-numeric values (e.g. '1.2亿'): population is not counted in 亿; write the number alone (in the " \
           "header's unit) or with one of 万人, 万, 人" in str(problems_of(no.read_towns, wrong))


def test_figures_given_as_approximate_are_read_as_their_number_and_said(tmp_path: Path):
    """A town's page often gives its residents as 约3万, 7万余, 3余万, 2万多, 5万左右 or 10万以上: read as the
    number (30,000 …), the rows said in the table's notes (once); a marker alone, or a coordinate so given, is
    refused."""
    towns = write(tmp_path / "t.csv", "乡镇名称,常住人口,经度,纬度\nA,约3万,117.3,31.8\nB,7万余,117.3,31.8\n"
                                      "C,3余万,117.3,31.8\nD,2万多,117.3,31.8\nE,5万左右,117.3,31.8\n"
                                      "F,10万以上,117.3,31.8\nG,近 8000,117.3,31.8\nH,12000,117.3,31.8\n")
    read = no.read_towns(towns)
    assert read["population"].tolist() == [30_000, 70_000, 30_000, 20_000, 50_000, 100_000, 8_000, 12_000]
    assert read.attrs["left_out"] == (f"{towns}: 常住人口: figures given as approximate read as their number ('约3万', "
                                      "'7万余', '3余万'; rows 2, 3, 4, 5, 6, 7, 8)")
    for cell, column in (("多", "常住人口"), ("约117.3", "经度")):
        marked = write(tmp_path / "m.csv", "乡镇名称,常住人口,经度,纬度\nA,30000,117.3,31.8\nB,30000,117.3,31.8\n"
                                           .replace("B,30000,117.3", f"B,{cell},117.3" if column == "常住人口"
                                                    else f"B,30000,{cell}"))
        said = str(problems_of(no.read_towns, marked))
        assert f"row 3, column '{column}': non-numeric values (e.g. '{cell}')" in said


def test_figures_written_in_chinese_numerals_are_read_as_numbers_and_said(tmp_path: Path):
    """A document's table may write a town's residents in Chinese numerals — 十四万, 一万二千, 一万二 (as said for
    一万二千), 约三点二万人, 一百零五 — or a county's GDP 一百二十亿元: read as the number, said in the table's notes;
    a word holding a numeral (一般), a unit alone (万) or digits without their units (二二万) is still refused, and a
    coordinate is never so read."""
    towns = write(tmp_path / "t.csv", "乡镇名称,常住人口,经度,纬度\nA,十四万,117.3,31.8\nB,一万二千,117.3,31.8\n"
                                      "C,一万二,117.3,31.8\nD,约三点二万人,117.3,31.8\nE,一百零五,117.3,31.8\n"
                                      "F,两千,117.3,31.8\nG,12000,117.3,31.8\n")
    read = no.read_towns(towns)
    assert read["population"].tolist() == [140_000, 12_000, 12_000, 32_000, 105, 2_000, 12_000]
    assert read.attrs["left_out"] == (f"{towns}: 常住人口: figures written in Chinese numerals read as numbers "
                                      "('十四万' as 140000; rows 2, 3, 4, 5, 6, 7)")
    counties = write(tmp_path / "c.csv", "区县,地区生产总值,常住人口\n肥西县,一百二十亿元,90万\n长丰县,845.6,80万\n")
    assert no.read_counties(counties)["gdp_yi"].tolist() == [120, 845.6]
    for cell, column in (("一般", "常住人口"), ("万", "常住人口"), ("二二万", "常住人口"), ("一百一十七", "经度")):
        row = f"B,{cell},117.3,31.8\n" if column == "常住人口" else f"B,30000,{cell},31.8\n"
        written = write(tmp_path / "m.csv", "乡镇名称,常住人口,经度,纬度\nA,30000,117.3,31.8\n" + row)
        said = str(problems_of(no.read_towns, written))
        assert f"row 3, column '{column}': non-numeric values (e.g. '{cell}')" in said


def test_lines_given_for_towns_or_counties_are_refused(tmp_path: Path):
    """Towns are points or areas, counties boundaries or points: a layer of lines (roads taken for them) is refused
    by its features, not read as places of no area."""
    sample = no.load_sample()
    towns = sample.towns.head(3).assign(geometry=lambda t: t.geometry.to_crs(32650).buffer(500).boundary.to_crs(4326))
    towns.to_file(tmp_path / "towns.geojson")
    with pytest.raises(InputError, match=r"features 1, 2, 3, column 'geometry': towns are points or their areas "
                                         r"\(polygons\), not LineString: is this another layer \(roads\?\)"):
        no.read_towns(tmp_path / "towns.geojson")
    counties = sample.counties.head(2).assign(geometry=lambda c: c.geometry.boundary)
    counties.to_file(tmp_path / "counties.geojson")
    with pytest.raises(InputError, match="counties are their boundaries \\(polygons\\) or points, not"):
        no.read_counties(tmp_path / "counties.geojson")
    areas = sample.towns.head(3).assign(geometry=lambda t: t.geometry.to_crs(32650).buffer(500).to_crs(4326))
    areas.to_file(tmp_path / "areas.geojson")
    assert len(no.read_towns(tmp_path / "areas.geojson")) == 3


@pytest.mark.parametrize("label, region", [("主城区", "core"), ("市区", "core"), ("县城", "county"), ("乡镇", "county"),
                                           ("农村", "county"), ("城乡结合部", "fringe"), ("郊区", "fringe")])
def test_region_types_in_the_words_plans_use(label: str, region: str):
    from netopt._schema import canonical_region_type

    assert canonical_region_type(label) == region


def test_a_yearbooks_spaced_out_names_match(tmp_path: Path):
    """瑶　海　区: yearbooks pad short names with full-width spaces to align them; the towns' 瑶海区 was then "not found
    in the counties table", and 全　市 not seen as a total row."""
    counties = write(tmp_path / "区县.csv", "区县,年末常住人口(万人)\n全　市,18.2\n瑶　海　区,10.2\n庐 阳 区,8\n")
    towns = write(tmp_path / "乡镇.csv", "乡镇名称,所属区县,常住人口,lon,lat\n明　光　路　街　道,瑶海区,60000,117.31,31.87\n"
                  "大杨镇,庐　阳　区,50000,117.2,31.95\n")
    branches = write(tmp_path / "网点.csv", "网点名称,所属区县,lon,lat\n中国银行 合肥分行,瑶 海 区,117.31,31.87\n")
    ds = no.read_dataset(counties, towns, branches)
    assert ds.counties["name"].tolist() == ["瑶海区", "庐阳区"] and "total row 全市" in ds.counties.attrs["left_out"]
    assert ds.towns[["name", "county"]].values.tolist() == [["明光路街道", "瑶海区"], ["大杨镇", "庐阳区"]]
    assert ds.branches[["name", "county"]].values.tolist() == [["中国银行 合肥分行", "瑶海区"]]  # a branch's own name kept


def test_control_characters_an_export_left_in_a_name_are_dropped(tmp_path: Path):
    """A bell or a vertical tab (an old export's line break within a cell) left in a name: dropped, so that the
    name matches and every output (Word's and KML's XML cannot hold them) writes it."""
    counties = write(tmp_path / "区县.csv", "区县,常住人口(万人)\n瑶海区\x0b,10.2\n")
    towns = write(tmp_path / "乡镇.csv", "乡镇名称,所属区县,常住人口,lon,lat\n明光路\x1f街道,瑶海区,60000,117.31,31.87\n")
    branches = write(tmp_path / "网点.csv", "网点名称,所属区县,lon,lat\n长丰杨庙\x07营业所,瑶\x0b海区,117.31,31.87\n")
    ds = no.read_dataset(counties, towns, branches)
    assert ds.counties["name"].tolist() == ["瑶海区"] and ds.towns["name"].tolist() == ["明光路街道"]
    assert ds.branches[["name", "county"]].values.tolist() == [["长丰杨庙营业所", "瑶海区"]]


def test_a_county_named_with_a_footnote_mark_matches_and_one_with_its_city_is_pointed_to(tmp_path: Path):
    """庐阳区① with a yearbook's footnote mark was "not found in the counties table" beside the towns' 庐阳区; the
    table's 合肥市瑶海区 beside the towns' 瑶海区 is refused, as the reverse is, but with the table's name said."""
    towns = write(tmp_path / "乡镇.csv", "乡镇名称,所属区县,常住人口,lon,lat\n明光路街道,瑶海区,60000,117.31,31.87\n"
                  "大杨镇,庐阳区,50000,117.2,31.95\n")
    branches = write(tmp_path / "网点.csv", "网点名称,lon,lat\nA,117.31,31.87\n")
    counties = write(tmp_path / "区县.csv", "区县,区划代码,常住人口\n合肥市瑶海区,340102,1023000\n庐阳区①,340103,751000\n")
    with pytest.raises(no.InputError) as err:
        no.read_dataset(counties, towns, branches)
    [problem] = err.value.problems
    assert problem.rows == (2,) and "the counties table says 合肥市瑶海区 (for 瑶海区)" in problem.message
    marked = write(tmp_path / "区县2.csv", "区县,区划代码,常住人口\n瑶海区*,340102,1023000\n庐阳区①,340103,751000\n")
    ds = no.read_dataset(marked, towns, branches)
    assert ds.counties["name"].tolist() == ["瑶海区", "庐阳区"]
    assert ds.towns[["county", "county_id"]].values.tolist() == [["瑶海区", "340102"], ["庐阳区", "340103"]]


def test_a_census_tables_county_lines_over_their_towns_are_left_out(tmp_path: Path):
    """A census table lists each county (its towns' sum) above its towns: read as a town located in its county, 瑶海区
    counted its residents twice, silently. Left out and said where it is its towns' sum — as sections without a
    county column, by their name being their county's with one —; else refused."""
    towns = pd.read_csv(sample_dir() / "towns.csv")
    rows = []
    for county, own in towns.groupby("county", sort=False):
        rows.append({"地区": county, "常住人口": own["population"].sum(), "lon": own["lon"].iloc[0],
                     "lat": own["lat"].iloc[0]})
        rows += own.rename(columns={"name": "地区", "population": "常住人口"})[["地区", "常住人口", "lon", "lat"]].to_dict(
            "records")
    pd.DataFrame(rows).to_csv(tmp_path / "census.csv", index=False)
    ds = no.read_dataset(sample_dir() / "counties.geojson", tmp_path / "census.csv", sample_dir() / "branches.csv")
    assert len(ds.towns) == 125 and ds.towns["population"].sum() == towns["population"].sum()
    assert "the county lines over their towns (瑶海区, 庐阳区, 蜀山区 …) give the towns' counties" in \
        ds.towns.attrs["left_out"]  # read as sections (io._county_sections): the table has no county column
    own = pd.DataFrame(rows).assign(所属区县=[row["地区"] if row["地区"] in set(towns["county"]) else None
                                          for row in rows])
    own["所属区县"] = own["所属区县"].ffill()  # a county column, the county lines in it too
    own.to_csv(tmp_path / "census.csv", index=False)
    ds = no.read_dataset(sample_dir() / "counties.geojson", tmp_path / "census.csv", sample_dir() / "branches.csv")
    assert "the rows of counties over their towns (瑶海区, 庐阳区, 蜀山区 …, rows 2, 15" in ds.towns.attrs["left_out"]
    assert len(ds.towns) == 125
    assert (ds.towns.groupby("county")["population"].sum() == towns.groupby("county")["population"].sum()).all()
    own.loc[0, "常住人口"] += 50000  # not its towns' sum
    own.to_csv(tmp_path / "census.csv", index=False)
    err = problems_of(no.read_dataset, sample_dir() / "counties.geojson", tmp_path / "census.csv",
                      sample_dir() / "branches.csv")
    [problem] = err.problems
    assert problem.rows == (2,) and problem.column == "地区" and "(瑶海区) whose residents are not its towns' sum" in \
        problem.message


def test_an_office_file_of_another_program_says_how_to_save_it(tmp_path: Path):
    """WPS 表格's own .et (common in banks) was "unsupported file type '.et'", and in a data folder not seen at all:
    "no towns file found". WPS builds it on the old Excel format: read as such (marked_sheets.xls renamed .et reads
    as the .xls does); one that cannot be read so says how to save it. A Numbers sheet is refused saying how."""
    import shutil

    renamed = tmp_path / "网点.et"
    shutil.copy(f"{MARKED}.xls", renamed)
    assert no.read_branches(renamed, layer="网点")["county"].tolist() == ["肥西县", "肥西县", "长丰县", "长丰县", "庐江县"]
    with pytest.raises(no.InputError, match=r"乡镇.et: not a readable .et workbook \(.*\) \(a WPS 表格 file: in WPS, "
                                            r"文件 → 另存为 → Excel 工作簿 .xlsx\)"):
        no.read_towns(write(tmp_path / "乡镇.et", "x"))
    with pytest.raises(no.InputError, match=r"unsupported file type '.numbers' \(a Numbers sheet: export it as Excel"):
        no.read_towns(write(tmp_path / "乡镇.numbers", "x"))
    folder = tmp_path / "city"
    folder.mkdir()
    for name in ("counties.geojson", "branches.csv"):
        shutil.copy(sample_dir() / name, folder / name)
    (folder / "乡镇人口.numbers").write_bytes(b"x")
    with pytest.raises(no.InputError, match=r"no towns file found .*; 乡镇人口.numbers is not read \(a Numbers sheet"):
        no.read_folder(folder)


def test_a_workbook_is_read_by_what_it_holds_and_an_encrypted_one_said(tmp_path: Path):
    """An old .xls saved under .xlsx was "not a readable .xlsx workbook (File is not a zip file)"; an encrypted one
    (a password to open it, or a bank's document-security system) said the same, nothing about why."""
    import shutil

    renamed = tmp_path / "网点.xlsx"
    shutil.copy(Path(__file__).parent / "data" / "branches_old_excel.xls", renamed)
    [problem] = problems_of(no.read_branches, renamed).problems  # read: its own bad latitude, as the .xls gives
    assert problem.rows == (5,) and problem.column == "纬度"
    locked = tmp_path / "乡镇.xlsx"
    locked.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(70000) + "EncryptedPackage".encode("utf-16-le"))
    with pytest.raises(no.InputError, match="the workbook is encrypted — a password to open it .*save a copy without"):
        no.read_towns(locked)
    folder = tmp_path / "city"  # found in a data folder, its sheets looked at first
    folder.mkdir()
    for name in ("counties.geojson", "branches.csv"):
        shutil.copy(sample_dir() / name, folder / name)
    shutil.copy(locked, folder / "乡镇.xlsx")
    with pytest.raises(no.InputError) as err:
        no.read_folder(folder)
    assert str(err.value).endswith("乡镇.xlsx: the workbook is encrypted — a password to open it (打开密码), or a "
                                   "document-security system (文档加密): open it in Excel or WPS and save a copy "
                                   "without the password")
