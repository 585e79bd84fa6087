"""A city with the least data a user may have: counties with names and residents (one without a region type, one
without towns, no boundaries), towns with one point column, two branches of two banks. Every command runs, says
what it cannot measure, and prints no nan or inf."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netopt.cli import app
from tests.conftest import write

runner = CliRunner()


@pytest.fixture(scope="module")
def sparse_city(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sparse")
    # counties of no bundled unit (甲区, not 瑶海区): no boundaries, none taken from the bundled ones
    write(folder / "counties.csv", "区县,常住人口（万人）,区域类型,面积（平方公里）\n甲区,3.5,核心城区,223\n乙县,15,,1835\n"
          "丙县,10,县域,2216\n")
    write(folder / "towns.csv", '乡镇名称,所属区县,常住人口,经纬度\n明光路街道,甲区,35000,"117.3016,31.8585"\n'
          '水湖镇,乙县,150000,"117.1549,32.4838"\n')
    write(folder / "branches.csv", "网点名称,银行,经度,纬度\nA,甲银行,117.30,31.86\nB,乙银行,117.16,32.48\n")
    return folder


@pytest.mark.parametrize("command", [
    ["analyze"], ["analyze", "--bank", "甲"], ["optimize", "--max-new", "1"], ["optimize", "--model", "pcenter",
                                                                              "--max-new", "1", "--phase", "1"],
    ["report", "--new-per-county", "1"], ["map"], ["plan"], ["curve", "--up-to", "1"],
    ["plan", "--p", "3", "--budget-wan", "1000"],
])
def test_every_command_runs_on_a_sparse_city(sparse_city: Path, tmp_path: Path, command: list):
    result = runner.invoke(app, command + ["--data", str(sparse_city), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert not re.search(r"\bnan\b|\binf\b", result.output, re.IGNORECASE), result.output
    assert "failed" not in result.output


def test_a_county_without_boundary_or_towns_gets_a_page_without_a_map(sparse_city: Path, tmp_path: Path):
    result = runner.invoke(app, ["report", "--data", str(sparse_city), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page = next(tmp_path.glob("county_*丙县.html")).read_text(encoding="utf-8")
    assert "No map: 丙县 has no boundary in the counties table, and no towns or branches." in page
    assert "<img" in next(tmp_path.glob("county_*乙县.html")).read_text(encoding="utf-8")


def test_a_type_plan_without_hubs_says_how_to_get_some(sparse_city: Path, tmp_path: Path):
    result = runner.invoke(app, ["plan", "--max-share", "comprehensive=0", "--data", str(sparse_city), "--out",
                                 str(tmp_path)])
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "Training hubs: no comprehensive branch in the plan to coach its 1 community" in said
    assert "--min-share comprehensive=0.2 or --comprehensive-per-county" in said and "0 training hubs" in said
    assert (tmp_path / "plan_types.csv").exists() and (tmp_path / "plan.xlsx").exists()


@pytest.fixture(scope="module")
def polygon_towns_city(tmp_path_factory) -> Path:
    """长丰县 of the sample with its towns given as areas (GeoJSON polygons), not points."""
    import netopt as no

    folder = tmp_path_factory.mktemp("polygons")
    ds = no.load_sample()
    county = ds.counties[ds.counties["name"] == "长丰县"]
    towns = ds.towns[ds.towns["county"] == "长丰县"]
    areas = towns.assign(geometry=towns.to_crs(32650).buffer(2000).to_crs(4326))
    branches = ds.branches[ds.branches.within(county.geometry.iloc[0])]
    county.to_file(folder / "counties.geojson", driver="GeoJSON")
    areas[["town_id", "name", "county", "population", "geometry"]].to_file(folder / "towns.geojson", driver="GeoJSON")
    branches.to_file(folder / "branches.geojson", driver="GeoJSON")
    return folder


@pytest.mark.parametrize("command", [["map", "--types"], ["optimize", "--model", "pmedian", "--max-new", "1"],
                                     ["report", "--new-per-county", "1"]])
def test_towns_given_as_areas_are_drawn_at_a_point_of_each(polygon_towns_city: Path, tmp_path: Path, command: list):
    result = runner.invoke(app, command + ["--data", str(polygon_towns_city), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert any(tmp_path.rglob("*.png")) or any("<img" in page.read_text(encoding="utf-8")
                                               for page in tmp_path.glob("county_*.html"))
