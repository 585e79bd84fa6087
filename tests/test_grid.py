"""Population grids: town populations spread over their areas, county totals kept, coverage on cells."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

import netopt as no
from netopt.grid import population_grid, residents_in, town_areas
from tests.test_coverage import make_city


def test_grid_keeps_every_town_and_county_total():
    ds = make_city([0.0, 4.0, 12.0, 20.0], [30_000, 10_000, 50_000, 20_000], [0.0])
    cells = population_grid(ds, cell_km=1.0)
    by_town = cells.groupby("town_id")["population"].sum()
    assert by_town.to_dict() == pytest.approx(dict(zip(ds.towns["town_id"], ds.towns["population"])))
    assert cells["population_method"].str.startswith("apportioned").all()
    assert cells.crs.to_epsg() == 4326


def test_a_town_lying_in_another_county_than_its_own_keeps_its_residents_and_its_county():
    """A town the divisions moved since the boundaries were drawn (老洲镇: listed under 枞阳县, lying in 郊区): its
    residents were lost from the grid, its cell within its own county being empty. Its cell is cut in the county
    it lies in now; its cells still carry its own county, whose total stays whole."""
    ds = make_city([0.0, 4.0, 12.0, 20.0], [30_000, 10_000, 50_000, 20_000], [0.0])
    ds.towns.loc[3, ["county", "county_id"]] = ["城区", "1"]  # 20 km east: in 某县's box, listed under 城区
    cells = population_grid(ds, cell_km=1.0)
    assert cells["population"].sum() == pytest.approx(110_000)
    moved = cells[cells["town_id"] == "T3"]
    assert moved["population"].sum() == pytest.approx(20_000) and set(moved["county"]) == {"城区"}
    assert moved.to_crs(32650).union_all().within(ds.counties.to_crs(32650).geometry[1].buffer(1))
    assert cells.attrs["towns_left_out"] == ""
    moved_away = ds.towns.geometry[3]
    ds.towns.loc[3, "geometry"] = Point(moved_away.x, moved_away.y + 0.3)  # 33 km north of every county: no cell
    cells = population_grid(ds, cell_km=1.0)
    assert cells["population"].sum() == pytest.approx(90_000)
    said = "1 town (2.00万 residents) has no area in any county's boundary, lying outside them (镇3): left out"
    assert cells.attrs["towns_left_out"].startswith(said)
    assert any(note.startswith(said) for note in no.analyze_coverage(ds, demand=cells).notes)


def test_voronoi_areas_partition_each_county():
    ds = make_city([0.0, 4.0, 12.0, 20.0], [1, 1, 1, 1], [0.0])
    areas = town_areas(ds)
    counties = ds.counties.to_crs(areas.crs).set_index("name").area
    assert areas.area.groupby(areas["county"]).sum().to_dict() == pytest.approx(counties.to_dict(), rel=1e-6)


def test_voronoi_cells_are_remembered_for_the_same_points_and_boundary_only():
    from shapely import points

    from netopt.grid import voronoi_cells

    spots = points([(1.0, 1.0), (3.0, 1.0), (3.0, 3.0)])
    small, large = box(0, 0, 4, 4), box(0, 0, 8, 4)
    first = voronoi_cells(spots, small)
    assert [cell.area for cell in voronoi_cells(spots, small)] == pytest.approx([cell.area for cell in first])
    assert sum(cell.area for cell in voronoi_cells(spots, large)) == pytest.approx(32.0)  # not the small box's
    turned = voronoi_cells(spots[::-1], small)  # the same points in another order: each its own cell
    assert all(cell.contains(spot) for cell, spot in zip(turned, spots[::-1]))
    assert all(cell.contains(spot) for cell, spot in zip(first, spots))
    moved = voronoi_cells(points([(1.0, 1.0), (3.0, 1.0), (3.0, 2.0)]), small)
    assert moved[2].area != pytest.approx(first[2].area)


def test_the_metric_system_is_chosen_by_the_frames_place_in_whatever_system_they_come():
    from netopt.projection import metric_crs

    ds = make_city([0.0, 400.0], [1, 1], [0.0])  # 400 km east: the next UTM zone's centre
    assert metric_crs(ds.towns).to_epsg() == metric_crs(ds.towns.to_crs(3857)).to_epsg() == 32650
    assert metric_crs(ds.towns.iloc[[1]].to_crs(32650), ds.branches).to_epsg() == 32650
    assert metric_crs(ds.towns.iloc[[1]].to_crs(3857)).to_epsg() == 32651


def test_cells_are_no_bigger_than_asked():
    ds = make_city([0.0, 12.0], [1000, 1000], [0.0])
    cells = population_grid(ds, cell_km=2.0).to_crs(32650)
    assert cells.area.max() <= 4.0e6 * 1.001


def test_grid_coverage_is_finer_than_town_points():
    ds = make_city([0.0, 12.0], [100_000, 50_000], [0.0, 12.0])
    towns = no.analyze_coverage(ds, radius_km=1.0)
    cells = no.analyze_coverage(ds, radius_km=1.0, demand=population_grid(ds, cell_km=0.5))
    assert towns.by_county["coverage_rate_pct"].tolist() == [100.0, 100.0]
    assert (cells.by_county["coverage_rate_pct"] < 20).all()  # a branch 1 km wide covers little of a county
    assert cells.demand_kind == "cells" and cells.underserved_towns["unserved_share_pct"].gt(80).all()
    said = [n for n in cells.notes if n.startswith("Demand:")]
    assert said == [n for n in cells.notes_for(ds.counties["name"].iloc[0]) if n.startswith("Demand:")]
    assert len(said) == 1 and f"population cells from {len(ds.towns)} towns" in said[0]
    everything = no.analyze_coverage(ds, radius_km=100.0, demand=population_grid(ds, cell_km=0.5))
    assert everything.by_county["covered_population"].sum() == pytest.approx(150_000)


def test_bad_cell_size():
    ds = make_city([0.0], [1], [0.0])
    for cell_km in (0, "1"):  # "1": numpy's TypeError
        with pytest.raises(no.InputError, match="cell_km must be a positive number of kilometres"):
            population_grid(ds, cell_km=cell_km)


def test_grids_too_fine_to_make_are_refused_before_any_work(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app
    from netopt.tiles import tiled_grid_coverage

    ds = no.load_sample()
    with pytest.raises(no.InputError, match=r"a 0.005 km grid over 122 x 176 km has [\d,]+ cells, more than "
                                            r"3,000,000 at once.*cells of 0.09 km or more fit"):
        population_grid(ds, cell_km=0.005)
    with pytest.raises(no.InputError, match="more than 100,000,000 in all, even tile by tile"):
        tiled_grid_coverage(ds, 3.0, cell_km=0.005, tile_km=5)
    with pytest.raises(no.InputError, match="in one tile; use smaller tiles"):
        tiled_grid_coverage(ds, 3.0, cell_km=0.02, tile_km=60)
    with pytest.raises(no.InputError, match="workers must be a whole number of at least 1, got 0"):
        tiled_grid_coverage(ds, 3.0, cell_km=1, tile_km=10, scheduler=None, workers=0)
    result = CliRunner().invoke(app, ["analyze", "--grid-km", "0.001", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "cells of 0.09 km or more fit" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_sample_grid_keeps_the_census_totals():
    ds = no.load_sample()
    cells = population_grid(ds, cell_km=2.0)
    totals = cells.groupby("county_id")["population"].sum()
    expected = ds.counties.set_index("county_id")["population"]
    assert np.allclose(totals.sort_index().to_numpy(), expected.sort_index().to_numpy())


def test_h3_cells_keep_the_county_totals():
    ds = no.load_sample()
    cells = population_grid(ds, h3_resolution=7)
    totals = cells.groupby("county_id")["population"].sum()
    expected = ds.counties.set_index("county_id")["population"]
    assert np.allclose(totals.sort_index().to_numpy(), expected.sort_index().to_numpy())
    assert cells["cell_id"].str.len().eq(15).all() and "H3 (resolution 7)" in cells["population_method"].iloc[0]
    cov = no.analyze_coverage(ds, radius_km=3.5, demand=cells)
    assert cov.demand_kind == "cells" and 0 < cov.by_county["coverage_rate_pct"].mean() < 100


def test_bad_h3_resolution():
    ds = make_city([0.0], [1], [0.0])
    with pytest.raises(no.InputError, match="h3_resolution"):
        population_grid(ds, h3_resolution=16)


def test_h3_hexagons_too_many_for_one_go_are_refused_naming_the_resolution_that_fits():
    """--h3 12 over Hefei is about 37 million hexagons: it ran for hours; now refused before any is made."""
    with pytest.raises(no.InputError, match=r"H3 resolution 12 over [\d,]+ km² is about [\d,]+ cells, more than "
                                            r"3,000,000 at once \(resolution 10 or coarser fits\)"):
        population_grid(no.load_sample(), h3_resolution=12)


def test_residents_in_zones_spread_areas_and_share_edge_points():
    """residents_in: an area's residents by the part of it in each zone (a part in no zone counts nowhere); a
    point's wholly in the zone holding it, halved between two whose edge it is on."""
    zones = gpd.GeoSeries([box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=32650)
    areas = gpd.GeoDataFrame({"population": [100.0, 40.0, 7.0, 5.0, 3.0]}, geometry=[
        box(5, 0, 15, 10), box(15, 0, 25, 10), Point(3, 3), Point(10, 5), Point(30, 30)], crs=32650)
    assert residents_in(zones, areas).tolist() == pytest.approx([50 + 7 + 2.5, 50 + 20 + 2.5])
