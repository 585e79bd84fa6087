"""Tables already in pandas read as files are: read_dataset, read_towns, read_branches and read_candidates take
a DataFrame or GeoDataFrame in place of a path, checked the same way, rows named by index label or position."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import netopt as no
from netopt import InputError


@pytest.fixture(scope="module")
def ds():
    return no.load_sample()


def _towns_frame(ds) -> pd.DataFrame:
    """The sample's towns as an analyst's own table: Chinese headers, residents in persons, lon/lat columns."""
    return pd.DataFrame({"乡镇名称": ds.towns.name, "所属区县": ds.towns.county, "常住人口": ds.towns.population,
                         "经度": ds.towns.geometry.x, "纬度": ds.towns.geometry.y})


def test_the_read_frames_read_back_the_same(ds):
    again = no.read_dataset(ds.counties, ds.towns, ds.branches)
    for kind in ("counties", "towns", "branches"):
        pd.testing.assert_frame_equal(getattr(again, kind), getattr(ds, kind), check_like=False)


def test_a_frame_with_chinese_headers_gives_the_same_diagnosis(ds):
    own = no.read_dataset(ds.counties, _towns_frame(ds), ds.branches)
    assert own.towns.population.sum() == ds.towns.population.sum()
    assert str(no.analyze_coverage(own)) == str(no.analyze_coverage(ds))


def test_a_bad_cell_is_named_by_its_index_label(ds):
    towns = _towns_frame(ds).set_axis(range(100, 100 + len(ds.towns)))
    towns["常住人口"] = towns["常住人口"].astype(object)
    towns.loc[105, "常住人口"] = "abc"
    before = towns.copy()
    with pytest.raises(InputError, match=r"the towns DataFrame, index 105, column '常住人口': non-numeric"):
        no.read_dataset(ds.counties, towns, ds.branches)
    pd.testing.assert_frame_equal(towns, before)  # the frame given is left as it was


def test_rows_of_a_text_index_are_named_by_position(ds):
    branches = ds.branches.set_index(ds.branches.name.rename(None))
    branches.iloc[3, branches.columns.get_loc("geometry")] = None
    with pytest.raises(InputError, match=r"the branches DataFrame, position 3, column 'geometry': empty"):
        no.read_branches(branches)


def test_a_named_index_is_read_as_a_column(ds):
    frame = pd.DataFrame({"网点名称": ds.branches.name, "经度": ds.branches.geometry.x,
                          "纬度": ds.branches.geometry.y}).set_index(ds.branches.branch_id.rename("网点编号"))
    read = no.read_branches(frame)
    assert read.branch_id.tolist() == ds.branches.branch_id.tolist()


def test_a_frame_in_metres_is_reprojected(ds):
    read = no.read_towns(ds.towns.to_crs(32650))
    assert np.allclose(read.geometry.x, ds.towns.geometry.x) and np.allclose(read.geometry.y, ds.towns.geometry.y)


def test_candidate_sites_as_a_frame(ds):
    sites = pd.DataFrame({"点位名称": ["甲", "乙"], "经度": [117.25, 117.30], "纬度": [31.85, 31.80],
                          "开设成本（万元）": [200, 120]})
    read = no.read_candidates(sites, city=ds)
    assert read.name.tolist() == ["甲", "乙"] and read.open_cost_wan.tolist() == [200, 120]


@pytest.mark.parametrize("given, message", [
    (pd.DataFrame(columns=["乡镇名称"]), "the towns DataFrame: the DataFrame has no rows"),
    (5, "the towns are given as a file path or a pandas DataFrame, not int"),
    (None, "not NoneType"),
])
def test_what_is_no_table_is_named(given, message):
    with pytest.raises(InputError, match=message):
        no.read_towns(given)


def test_a_sheet_for_a_frame_is_refused(ds):
    with pytest.raises(InputError, match="a DataFrame has none"):
        no.read_dataset(ds.counties, ds.towns, ds.branches, sheets={"towns": "乡镇"})


def test_a_folder_that_is_no_path_is_named():
    with pytest.raises(InputError, match="tables already in pandas go to read_dataset"):
        no.read_folder(True)


def test_a_dataset_of_tables_not_yet_read_points_to_read_dataset(ds):
    """no.Dataset(...) of the analyst's own table had failed later as "demand units need a 'population' column"."""
    with pytest.raises(InputError, match=r"towns: the towns need a geometry \(a GeoDataFrame\) and column name and "
                                         r"column county and column population, as read_dataset gives them: pass "
                                         r"your own tables .* to no.read_dataset\(counties, towns, branches\)"):
        no.Dataset(ds.counties, _towns_frame(ds), ds.branches)


def test_a_geometry_named_geom_is_the_geometry(ds):
    """gpd.read_postgis names it geom: it was kept beside the geometry read as an extra column of shapes."""
    read = no.read_towns(ds.towns.rename_geometry("geom"))
    assert "geom" not in read.columns and read.geometry.equals(ds.towns.geometry)


def test_a_geodataframe_without_a_geometry_is_placed_by_its_lon_lat(ds):
    """It had raised geopandas' AttributeError (no active geometry column)."""
    frame = gpd.GeoDataFrame(_towns_frame(ds))
    assert no.read_towns(frame).geometry.equals(ds.towns.geometry)
