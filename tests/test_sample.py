"""The bundled Hefei sample: counts and totals match data/README.md and the census source."""
from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import netopt as no
from netopt.datasets import sample_dir, sample_summary

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "data" / "sources" / "hefei"


@pytest.fixture(scope="module")
def ds() -> no.Dataset:
    return no.load_sample()


def test_counts_match_the_summary(ds):
    summary = sample_summary()
    assert len(ds.counties) == summary["counties"] == 9
    assert len(ds.towns) == summary["towns"]
    assert len(ds.branches) == summary["branches"]
    assert ds.branches["bank"].value_counts().to_dict() == summary["branches_by_bank"]


def test_readme_states_the_same_numbers():
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    summary = sample_summary()
    for key in ("counties", "towns", "branches", "branches_approximate"):
        assert re.search(rf"\b{summary[key]:,}\b", text), f"data/README.md does not state {key}={summary[key]}"
    assert f"{summary['county_population']:,}" in text


def test_population_equals_the_census(ds):
    census = pd.read_csv(SOURCES / "hefei_counties.csv", dtype={"adcode": str})
    divisions = census[census["has_boundary"]]
    assert ds.counties["population"].sum() == divisions["pop_2020"].sum() == 8_075_637
    assert census["pop_2020"].sum() == 9_369_881  # with the 3 development zones, the city's census total
    by_county = ds.towns.groupby("county_id")["population"].sum()
    expected = divisions.set_index("adcode")["pop_2020"]
    assert (by_county.sort_index() == expected.sort_index()).all()


def test_every_town_population_is_labelled_as_estimated(ds):
    assert ds.towns["population_method"].str.startswith("estimated").all()
    assert (ds.towns["population"] > 0).all()


def test_towns_lie_in_their_county(ds):
    joined = gpd.sjoin(ds.towns[["county", "geometry"]], ds.counties[["name", "geometry"]], predicate="within")
    agree = (joined["county"] == joined["name"]).mean()
    assert agree > 0.95


def test_branches_are_in_hefei(ds):
    city = ds.counties.union_all().buffer(0.02)
    inside = ds.branches.within(city).mean()
    assert inside > 0.99


def test_region_types(ds):
    assert set(ds.counties["region_type"]) == {"core", "county"}
    assert ds.counties.loc[ds.counties["region_type"] == "core", "name"].tolist() == ["瑶海区", "庐阳区", "蜀山区", "包河区"]
    assert set(ds.towns["region_type"]) <= {"core", "county", "fringe"}


def test_counties_are_in_wgs84_not_gcj02(ds):
    source = gpd.read_file(SOURCES / "hefei_counties_gcj02.geojson")
    shift = ds.counties.total_bounds - source[source["adcode"].astype(str) != "340100"].total_bounds
    assert 0.003 < abs(shift[0]) < 0.01  # the GCJ-02 offset in Hefei is about 500 m to the east


def test_the_sample_files_are_the_ones_the_build_script_writes():
    assert sample_dir().name in ("sample", "_sample")
    assert json.loads((sample_dir() / "summary.json").read_text(encoding="utf-8"))["counties"] == 9


def test_the_sample_is_read_once_and_each_caller_gets_its_own_copy(tmp_path: Path, monkeypatch):
    """load_sample reads and checks the files once per process (the CLI loads it on every command): each call
    returns frames of its own, and a file changed since is read again."""
    import shutil

    from netopt import datasets

    folder = tmp_path / "sample"
    shutil.copytree(sample_dir(), folder)
    monkeypatch.setattr(datasets, "sample_dir", lambda: folder)
    first = no.load_sample()
    first.towns.loc[0, "population"] = 1.0
    first.counties.attrs["attribution"] = "changed"
    second = no.load_sample()
    assert second.towns.loc[0, "population"] > 1 and "Amap" in second.counties.attrs["attribution"]
    towns = pd.read_csv(folder / "towns.csv", dtype=str)
    towns.loc[0, "population"] = "12345"
    towns.to_csv(folder / "towns.csv", index=False)
    assert no.load_sample().towns.loc[0, "population"] == 12345


def test_the_data_is_named_by_the_city_or_province_its_counties_are_of(ds):
    """place_name: the sample's counties are 合肥市's; by codes of 6, 9 or 12 digits or names only one unit has (鼓楼区,
    of several cities, not counted); a province's counties name it; counties of two provinces, or none known, none."""
    from netopt.datasets import national_units, place_name

    units = national_units()
    assert place_name(ds.counties) == "合肥市"
    assert place_name(pd.DataFrame({"name": ["瑶海区", "鼓楼区", "庐阳区"]})) == "合肥市"
    assert place_name(pd.DataFrame({"county_id": ["340102000000", 340103, "340104001"]})) == "合肥市"
    assert place_name(pd.DataFrame({"county_id": units.loc[units["province"] == "安徽省", "adcode"]})) == "安徽省"
    assert place_name(pd.DataFrame({"county_id": units.loc[units["city"] == "北京市", "adcode"]})) == "北京市"
    two = units.loc[units["province"].isin(["安徽省", "江苏省"]), ["adcode"]].rename(columns={"adcode": "county_id"})
    assert place_name(two) is None and place_name(pd.DataFrame({"name": ["甲县", "乙县"]})) is None


def test_national_boundaries_are_valid_polygons_of_their_units_areas_in_wgs84():
    """The bundled boundaries (simplified within ~100 m, on a 0.0001° grid): one for each unit with an area, each a
    valid polygon whose geodesic area is within 2 % of the full boundary's (area_km2), shifted from Amap's GCJ-02 to
    WGS84 as the sample's counties are."""
    from netopt.datasets import national_boundaries, national_units
    from netopt.io import geodesic_area_km2

    units = national_units()
    shapes = national_boundaries(units["adcode"])
    assert (shapes.notna() == units["area_km2"].notna()).all()
    assert shapes.dropna().is_valid.all() and shapes.dropna().geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (geodesic_area_km2(shapes) / units["area_km2"]).dropna().between(0.98, 1.02).all()
    hefei = gpd.read_file(sample_dir() / "counties.geojson").set_index("county_id").geometry
    bundled = shapes.set_axis(units["adcode"]).loc[hefei.index.astype(str)].to_numpy()
    assert shapely.hausdorff_distance(bundled, hefei.to_numpy()).max() < 0.0015  # the same boundaries, simplified
