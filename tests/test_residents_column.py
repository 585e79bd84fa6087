"""Residents counted by another towns column (read_towns(population=...), --population): a projection such as
2035年规划人口（万人） drives every diagnosis and plan, with its unit read from the header and bad cells named."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import netopt as no
from netopt.cli import app
from netopt.datasets import sample_dir
from netopt.grid import population_grid
from netopt.io import read_dataset, read_towns
from netopt.planning import candidate_sites, existing_positions
from tests.conftest import write

runner = CliRunner()
PROJECTION = "2035年规划人口（万人）"


def _said(output: str) -> str:
    return " ".join(output.translate(str.maketrans("", "", "│╭╮╰╯─")).split())


@pytest.fixture
def projected_city(tmp_path: Path) -> Path:
    """The sample city with a projection column: 包河区 and 蜀山区 grow by 80 % (more than the counties table's
    census figures allow for towns counted once), the others stay."""
    folder = tmp_path / "city"
    shutil.copytree(sample_dir(), folder)
    towns = pd.read_csv(folder / "towns.csv", dtype=str)
    growth = np.where(towns["county"].isin(["包河区", "蜀山区"]), 1.8, 1.0)
    towns[PROJECTION] = (towns["population"].astype(float) * growth / 1e4).round(4)
    towns.to_csv(folder / "towns.csv", index=False)
    return folder


def _read(folder: Path, population: str | None) -> no.Dataset:
    return read_dataset(folder / "counties.geojson", folder / "towns.csv", folder / "branches.csv",
                        population=population)


def test_the_projection_column_counts_the_residents_in_its_header_unit(projected_city: Path):
    census, projected = _read(projected_city, None), _read(projected_city, "2035年规划人口")
    expected = pd.read_csv(projected_city / "towns.csv")[PROJECTION].to_numpy() * 1e4
    assert np.allclose(projected.towns["population"], expected)
    assert _read(projected_city, PROJECTION).towns["population"].equals(projected.towns["population"])
    assert projected.towns.attrs["population_column"] == PROJECTION
    assert projected.towns.attrs["usual_population"] == pytest.approx(census.towns["population"].sum())
    assert projected.counties.equals(census.counties) and projected.branches.equals(census.branches)


def test_every_diagnosis_counts_the_projected_residents(projected_city: Path):
    ds = _read(projected_city, "2035年规划人口")
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    assert cov.by_county["population"].sum() == pytest.approx(ds.towns["population"].sum())
    grown = cov.by_county.set_index("county").loc["包河区", "population"]
    census = no.analyze_coverage(_read(projected_city, None), radius_km={"core": 1.2, "county": 3.5})
    assert grown == pytest.approx(1.8 * census.by_county.set_index("county").loc["包河区", "population"], rel=1e-4)
    said = " ".join(cov.notes)
    assert f"the towns' column '{PROJECTION}', {ds.towns['population'].sum() / 1e4:,.1f}万 in all" in said
    assert "their population column: 807.6万" in said
    assert "the counties table gives it" not in said  # a projection is not checked against the census totals
    as_census = ds.towns.copy()  # the same numbers as the population column itself: there the check speaks
    as_census.attrs = {}
    plain = no.analyze_coverage(no.Dataset(ds.counties, as_census, ds.branches))
    assert any("包河区: its towns hold" in note for note in plain.notes)
    cells = population_grid(ds, cell_km=2.0)
    assert cells["population"].sum() == pytest.approx(ds.towns["population"].sum(), rel=1e-6)
    assert any("Residents 常住人口" in note for note in no.analyze_coverage(ds, demand=cells).notes)
    given = cells.drop(columns="population_method")  # demand units of the analyst's own
    assert any("Residents 常住人口" in note for note in no.analyze_coverage(ds, demand=given).notes)


@pytest.mark.parametrize("header, message", [
    ("2035人口", "no column named '2035人口' to count the residents by (--population); columns found: town_id"),
    ("规划人口", "no column named '规划人口'"),
])
def test_a_column_the_towns_lack_is_named_with_the_columns_there(projected_city: Path, header: str, message: str):
    with pytest.raises(no.InputError) as err:
        _read(projected_city, header)
    assert message in str(err.value) and PROJECTION in str(err.value) and "towns.csv" in str(err.value)


def test_bad_projection_cells_are_named_by_row_and_column(tmp_path: Path):
    towns = write(tmp_path / "towns.csv", "乡镇名称,所属区县,常住人口,规划人口（万人）,规划人口2,经度,纬度\n"
                  "明光路街道,瑶海区,30000,3.5,1,117.3016,31.8585\n水湖镇,长丰县,120000,待定,2,117.1549,32.4838\n"
                  "双墩镇,长丰县,90000,,3,117.25,32.0\n")
    with pytest.raises(no.InputError) as err:
        read_towns(towns, population="规划人口")
    said = str(err.value)
    assert "row 3, column '规划人口（万人）': non-numeric values (e.g. '待定')" in said
    assert "row 4, column '规划人口（万人）': empty values in a required column" in said
    odd = write(tmp_path / "odd.csv", "乡镇名称,常住人口,规划人口(千人),经度,纬度\n明光路街道,30000,35,117.3016,31.8585\n")
    with pytest.raises(no.InputError, match=r"unknown unit '千人' in the header: residents are counted in 人 or 万人"):
        read_towns(odd, population="规划人口")
    twice = write(tmp_path / "twice.csv", "乡镇名称,规划人口（万人）,规划人口（人）,经度,纬度\n明光路街道,3.5,35000,117.3,31.8\n")
    with pytest.raises(no.InputError, match=r"2 columns \(规划人口（万人）, 规划人口（人）\) named '规划人口'"):
        read_towns(twice, population="规划人口")
    assert read_towns(twice, population="规划人口（人）")["population"].tolist() == [35000.0]


def test_optimize_and_compare_plan_on_the_projection(projected_city: Path, tmp_path: Path):
    out = tmp_path / "plan"
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--data", str(projected_city), "--population", "2035年规划人口",
                                 "--bank", "农业", "--max-new", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"residents 常住人口 by {PROJECTION}" in _said(result.output)
    ds = _read(projected_city, "2035年规划人口")
    sites = candidate_sites(ds, "农业")
    expected = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=103,
                                          existing=existing_positions(sites)).solve()
    assert f"{expected.objective / 1e4:,.1f} 万人" in result.output
    chosen = pd.read_csv(out / "mclp_sites.csv")["site_id"]
    assert sorted(chosen) == sorted(expected.selected)
    compared = runner.invoke(app, ["compare", "--tables-only", str(out), "--data", str(projected_city), "--population",
                                   PROJECTION, "--bank", "农业", "--radius-km", "3.5", "--out", str(tmp_path / "c")])
    assert compared.exit_code == 0, compared.output
    table = pd.read_csv(tmp_path / "c" / "compare_scenarios.csv")
    assert table["covered_wan 覆盖人口(万人)"].iloc[1] == pytest.approx(expected.objective / 1e4, abs=0.01)


def test_validate_and_the_sample_say_which_column_is_missing(projected_city: Path):
    good = runner.invoke(app, ["validate", str(projected_city), "--population", "2035年规划人口"])
    assert good.exit_code == 0 and "ok together" in good.output
    bad = runner.invoke(app, ["validate", str(projected_city / "towns.csv"), "--population", "2030年人口"])
    assert bad.exit_code == 1 and "no column named '2030年人口'" in _said(bad.output)
    sample = runner.invoke(app, ["analyze", "--population", "2035年规划人口", "--out", str(projected_city / "o")])
    assert sample.exit_code == 2 and "no column named '2035年规划人口'" in _said(sample.output)
    assert "Traceback" not in sample.output and not (projected_city / "o").exists()


def test_towns_with_only_a_projection_are_told_how_to_count_by_it(tmp_path: Path):
    towns = write(tmp_path / "towns.csv", "乡镇名称,所属区县,人口来源,2035年规划人口（万人）,经度,纬度\n"
                  "明光路街道,瑶海区,规划,3.5,117.3016,31.8585\n水湖镇,长丰县,规划,15,117.1549,32.4838\n")
    with pytest.raises(no.InputError) as err:
        read_towns(towns)
    assert ("to count the residents by 2035年规划人口（万人）: --population 2035年规划人口（万人） (population= in a "
            "script)") in str(err.value)
    read = read_towns(towns, population="2035年规划人口")
    assert read["population"].tolist() == [35000.0, 150000.0] and read.attrs["usual_population"] is None
    cities = no.read_dataset(tmp_path / "c.csv" if False else write(tmp_path / "counties.csv", (
        "区县,常住人口（万人）\n瑶海区,86.2\n长丰县,78.4\n")), towns, write(tmp_path / "b.csv", "网点名称,经度,纬度\nA,117.30,31.86\n"),
        population="2035年规划人口")
    note = [n for n in no.analyze_coverage(cities).notes if n.startswith("Residents 常住人口")]
    assert note == ["Residents 常住人口: the towns' column '2035年规划人口（万人）', 18.5万 in all."]
