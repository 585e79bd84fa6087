"""Map layers for a GIS: the diagnosis and the plans written as GeoPackages QGIS and ArcGIS Pro open."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

import netopt as no
import netopt.io as nio
from netopt.cli import app
from netopt.coords import from_wgs84, gcj02_to_wgs84
from netopt.grid import population_grid
from netopt.planning import candidate_sites, existing_positions, line_layer, plan_layers, relocation_moves
from netopt.report import coverage_layers
from tests.pages import map_text
from tests.test_cli import _said

runner = CliRunner()


@pytest.fixture(scope="module")
def sample():
    return no.load_sample()


def _layers(path: Path) -> dict[str, str]:
    return dict(pyogrio.list_layers(path))


def _aliases(path: Path, layer: str) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT column_name, name FROM gpkg_data_columns WHERE table_name = ?", (layer,))
        return dict(rows.fetchall())


def test_layers_read_back_with_their_columns_aliases_and_description(sample, tmp_path: Path):
    towns = sample.towns.head(5)
    path = no.write_geopackage(tmp_path / "towns.gpkg", {"towns": towns, "counties": sample.counties},
                               labels={"name": "名称", "population": "常住人口"}, descriptions={"towns": "乡镇 towns"})
    assert _layers(path) == {"towns": "Point", "counties": "MultiPolygon"}
    back = gpd.read_file(path, layer="towns")
    assert back["name"].tolist() == towns["name"].tolist() and back.crs.to_epsg() == 4326
    assert np.allclose(back["population"], towns["population"])
    assert shapely.equals_exact(back.geometry.to_numpy(), towns.geometry.to_numpy(), tolerance=1e-9).all()
    assert _aliases(path, "towns") == {"name": "名称", "population": "常住人口"}
    with sqlite3.connect(path) as db:
        about = dict(db.execute("SELECT table_name, description FROM gpkg_contents").fetchall())
        schema = db.execute("SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_schema'").fetchall()
    assert about["towns"] == "乡镇 towns; coordinates 坐标: WGS84" and schema == [("gpkg_data_columns",)]
    assert [p.name for p in tmp_path.iterdir()] == ["towns.gpkg"]  # no temporary file left


def test_coordinates_are_written_in_the_inputs_system_as_the_csv_tables_are(sample, tmp_path: Path):
    towns = sample.towns.head(3)
    path = no.write_geopackage(tmp_path / "gcj.gpkg", {"towns": towns, "counties": sample.counties.head(1)},
                               coords="gcj02")
    back = gpd.read_file(path, layer="towns")
    table = nio.points_table(towns, "gcj02")
    assert np.allclose(back.geometry.x, table["lon"], atol=1e-6) and np.allclose(back.geometry.y, table["lat"],
                                                                                  atol=1e-6)
    shifted = np.abs(back.geometry.x.to_numpy() - towns.geometry.x.to_numpy())
    assert (shifted > 1e-3).all()  # GCJ-02 lies some hundred metres off WGS84 in Hefei
    written = _first_ring(gpd.read_file(path, layer="counties").geometry.iloc[0])
    lon, lat = from_wgs84(*_first_ring(sample.counties.geometry.iloc[0]), "gcj02")
    assert np.allclose(written[0], lon) and np.allclose(written[1], lat)
    with sqlite3.connect(path) as db:
        about = db.execute("SELECT description FROM gpkg_contents WHERE table_name = 'towns'").fetchone()[0]
    assert about == "coordinates 坐标: GCJ-02 (as the inputs 同输入)"


def _first_ring(area) -> tuple[np.ndarray, np.ndarray]:
    """The lon and lat of a (multi)polygon's first outer ring."""
    first = area.geoms[0] if area.geom_type == "MultiPolygon" else area
    x, y = first.exterior.coords.xy
    return np.asarray(x), np.asarray(y)


def test_an_empty_layer_keeps_its_columns_and_geometry_type(sample, tmp_path: Path):
    path = no.write_geopackage(tmp_path / "e.gpkg", {"none": sample.towns.iloc[:0]}, geometry_types={"none": "Point"})
    assert _layers(path) == {"none": "Point"}
    assert "name" in pyogrio.read_info(path, layer="none")["fields"]


def test_columns_of_any_kind_are_written_as_a_geopackage_holds_them(tmp_path: Path):
    frame = gpd.GeoDataFrame({
        5: [1, 2], "half": np.array([1.5, 2.5], dtype=np.float16), "huge": np.array([2**64 - 1, 1], dtype=np.uint64),
        "complex": [1 + 2j, 0j], "category": pd.Categorical(["a", None]), "listed": [[1, 2], None],
        "maybe": pd.array([True, None], dtype="boolean"), "count": pd.array([3, None], dtype="Int64"),
        "day": pd.to_datetime(["2024-05-01", None])}, geometry=[shapely.Point(117, 31), None], crs=32650)
    path = no.write_geopackage(tmp_path / "kinds.gpkg", {"kinds": frame}, labels={"5": "五"})
    back = gpd.read_file(path)
    assert back.columns.tolist() == ["5", "half", "huge", "complex", "category", "listed", "maybe", "count", "day",
                                     "geometry"]
    assert back["half"].tolist() == [1.5, 2.5] and back["huge"].tolist() == [str(2**64 - 1), "1"]
    assert back["complex"].tolist() == ["(1+2j)", "0j"] and back["listed"].iloc[0] == "[1, 2]"
    assert back["category"].iloc[0] == "a" and back["category"].isna().iloc[1] and back["count"].iloc[0] == 3
    assert back.geometry.iloc[1] is None and back.geometry.iloc[0].x == pytest.approx(frame.to_crs(4326).geometry.x[0])
    assert _aliases(path, "kinds") == {"5": "五"}


def test_bad_layers_are_named_and_nothing_is_left_half_written(sample, tmp_path: Path, monkeypatch):
    target = tmp_path / "x.gpkg"
    cases = [("x.shp", {"t": sample.towns}, "writes a file ending in .gpkg"),
             ("x.gpkg", [sample.towns], "layers are a dict of GeoDataFrames"),
             ("x.gpkg", {}, "at least one layer"),
             ("x.gpkg", {"a": sample.towns, "A": sample.towns}, "a name of its own"),
             ("x.gpkg", {"t": pd.DataFrame(sample.towns)}, "layer 't' is a GeoDataFrame"),
             ("x.gpkg", {"t": gpd.GeoDataFrame({"a": [1]})}, "without one"),
             ("x.gpkg", {"t": sample.towns.assign(Name=1)}, "columns 'name' and 'Name' are one name"),
             ("x.gpkg", {"t": sample.towns.assign(fid="a")}, "column 'fid' is a GeoPackage's feature id")]
    for name, layers, said in cases:
        with pytest.raises(no.InputError, match=said):
            no.write_geopackage(tmp_path / name, layers)
    with pytest.raises(no.InputError, match="unknown coordinate system"):
        no.write_geopackage(target, {"t": sample.towns}, coords="utm")
    no.write_geopackage(target, {"t": sample.towns.head(2)})
    before = target.read_bytes()
    real = pyogrio.write_dataframe

    def second_fails(frame, path, layer, **options):
        if layer == "second":
            raise OSError("disk full")
        real(frame, path, layer=layer, **options)

    monkeypatch.setattr(pyogrio, "write_dataframe", second_fails)
    with pytest.raises(OSError):
        no.write_geopackage(target, {"first": sample.towns, "second": sample.towns})
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["x.gpkg"]


def test_coverage_layers_carry_the_tables_figures_at_their_places(sample):
    cov = no.analyze_coverage(sample, radius_km={"core": 1.2, "county": 3.5})
    layers = coverage_layers(cov)
    assert list(layers) == ["counties", "towns", "underserved_towns", "branches", "service_areas"]
    counties = layers["counties"].set_index("county")
    for row in sample.counties.itertuples():
        assert counties.geometry[row.name].equals(row.geometry)
        assert counties.loc[row.name, "coverage_rate_pct"] == pytest.approx(
            cov.by_county.set_index("county").loc[row.name, "coverage_rate_pct"], abs=1e-3)
    towns = layers["towns"]
    assert len(towns) == len(sample.towns) and towns["covered"].sum() == cov.towns["covered"].sum()
    assert towns.geometry.equals(cov.towns.geometry.reset_index(drop=True))
    assert layers["branches"]["branch_id"].tolist() == cov.branches["branch_id"].tolist()
    worst = layers["underserved_towns"].iloc[0]
    assert worst.geometry.equals(sample.towns.set_index("town_id").geometry[worst["town_id"]])
    areas = layers["service_areas"]  # each branch's Voronoi cell in its county, holding the branch
    assert areas["branch_id"].tolist() == cov.branches["branch_id"].tolist()
    points = cov.branches.geometry.reset_index(drop=True)
    boundary = sample.counties.set_index("name").geometry
    in_county = [boundary[county].contains(point) for county, point in zip(cov.branches["county"], points)]
    assert (areas.contains(points) | ~pd.Series(in_county)).all()  # a point just over its county's border: none
    measured = areas.to_crs(no.projection.metric_crs(areas)).area / 1e6
    shared = areas.groupby(areas.geometry.to_wkb())["branch_id"].transform("size")  # branches at one place
    assert (measured / shared).to_numpy() == pytest.approx(areas["service_area_km2"].to_numpy(), rel=1e-3, abs=1e-3)


def test_on_a_grid_the_cells_are_a_layer_of_their_squares(sample):
    cells = population_grid(sample, cell_km=5)
    cov = no.analyze_coverage(sample, radius_km=3.5, demand=cells)
    layers = coverage_layers(cov)
    assert "cells" in layers and set(layers["cells"].geom_type) <= {"Polygon", "MultiPolygon"}
    assert layers["cells"]["population"].sum() == pytest.approx(cells["population"].sum(), rel=1e-6)


@pytest.fixture(scope="module")
def relocation(sample):
    sites = candidate_sites(sample, bank="农业")
    existing = existing_positions(sites)
    model = no.MCLP.from_geodataframes(sample.towns, sites, radius_km=3.5, p=len(existing) - 2, existing=existing,
                                       closable=existing, max_new=2)
    return sites, model.solve()


def test_plan_layers_decide_each_site_and_draw_assignment_and_moves(sample, relocation):
    sites, result = relocation
    moves = relocation_moves(sites, result.selected)
    layers = plan_layers(sites, result.selected, result.assignment, sample.towns, moves)
    decided = layers["sites"].set_index("site_id")["decision"]
    chosen = set(result.selected)
    for site in sites.itertuples():
        expected = ("keep" if site.site_id in chosen else "close") if site.kind == "existing" else (
            "open" if site.site_id in chosen else None)
        assert decided.get(site.site_id) == expected
    assert (decided == "close").sum() > 0 and (decided == "open").sum() > 0
    assert set(layers["sites"]["decision_zh"]) == {"保留", "新设", "撤并"}
    lines = layers["assignment"]
    town_points = sample.towns.set_index("town_id").geometry
    site_points = sites.set_index("site_id").geometry
    drawn = lines.geometry.notna()
    assert lines.loc[~drawn, "site"].isna().all() and drawn.sum() > 50  # a town beyond every site's reach has none
    for row in lines[drawn].sample(20, random_state=1).itertuples():
        start, end = shapely.get_point(row.geometry, 0), shapely.get_point(row.geometry, 1)
        assert start.equals(town_points[row.demand]) and end.equals(site_points[row.site])
    areas = gpd.GeoSeries(sample.counties.geometry.to_numpy(), index=sample.counties["name"], crs=4326)
    spokes = line_layer(pd.DataFrame({"county": ["瑶海区"], "site": [result.selected[0]]}), areas, "county",
                        site_points, "site")  # an area's line starts at a point within it
    assert areas["瑶海区"].contains(shapely.get_point(spokes.geometry.iloc[0], 0))
    moved = layers["moves"]
    assert len(moved) == (moves["action"] == "move").sum()
    for row in moved.itertuples():
        assert shapely.get_point(row.geometry, 0).equals(site_points[row.from_id])
        assert shapely.get_point(row.geometry, 1).equals(site_points[row.to_id])


def test_analyze_writes_the_diagnosis_as_a_geopackage(tmp_path: Path):
    result = runner.invoke(app, ["analyze", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "coverage.gpkg"
    assert "coverage.gpkg" in _said(result.output)
    assert _layers(path) == {"counties": "MultiPolygon", "towns": "Point", "underserved_towns": "Point",
                             "branches": "Point", "service_areas": "MultiPolygon"}
    towns = gpd.read_file(path, layer="towns")
    table = pd.read_csv(tmp_path / "coverage_towns.csv")
    assert towns["town_id"].astype(str).tolist() == table["town_id 乡镇代码"].astype(str).tolist()
    assert _aliases(path, "counties")["coverage_rate_pct"] == "覆盖率(%)"
    ours = runner.invoke(app, ["analyze", "--bank", "农业", "--out", str(tmp_path / "ours")])
    assert ours.exit_code == 0, ours.output
    rivals = gpd.read_file(tmp_path / "ours" / "coverage.gpkg", layer="rival_only_towns")  # only another bank reaches
    table = pd.read_csv(tmp_path / "ours" / "coverage_rival_only_towns.csv")
    assert rivals["name"].tolist() == table["name 名称"].tolist() and rivals.geometry.notna().all() and len(rivals)
    assert (table["lat 纬度"] - rivals.geometry.y).abs().max() < 1e-6


def test_optimize_writes_the_plan_as_a_geopackage(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--model", "mclp", "--max-new", "2", "--phase", "1", "--bank", "农业",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "mclp_plan.gpkg"
    assert _layers(path) == {"sites": "Point", "assignment": "LineString", "moves": "LineString",
                             "towns_changed": "Point"}
    sites = gpd.read_file(path, layer="sites")
    table = pd.read_csv(tmp_path / "mclp_sites.csv")
    opened = set(sites.loc[sites["decision"] != "close", "site_id"])
    assert opened == set(table["site_id"]) and (sites["decision"] == "open").sum() == 2
    assert sites["adds_covered_wan"].notna().all()  # what each open branch adds, as in mclp_sites.csv
    phases = pd.read_csv(tmp_path / "mclp_phases.csv")  # each new branch's phase, to draw the build-out
    assert sorted(sites.loc[sites["decision"] == "open", "phase"]) == [1, 2] and len(phases) == 3
    changed = gpd.read_file(path, layer="towns_changed")
    table = pd.read_csv(tmp_path / "mclp_towns_changed.csv")
    assert len(changed) == len(table) and changed.geometry.notna().all()
    assert (table["lon"] - changed.geometry.x).abs().max() < 1e-6


def test_a_fine_grids_assignment_is_drawn_town_by_town(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("netopt.report.WORKBOOK_ROWS", 50)  # as a grid of millions of cells: lines by town
    result = runner.invoke(app, ["optimize", "--model", "pmedian", "--max-new", "1", "--grid-km", "5", "--bank", "农业",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = gpd.read_file(tmp_path / "pmedian_plan.gpkg", layer="assignment")
    cells = pd.read_csv(tmp_path / "pmedian_assignment.csv")
    assert len(lines) < len(cells) and lines["cells"].sum() == len(cells) and lines.geometry.notna().all()
    assert lines["residents"].sum() == pytest.approx(cells["weight"].sum(), rel=1e-6)


def test_site_evaluation_is_written_in_the_coordinates_the_sites_were_given_in(tmp_path: Path):
    result = runner.invoke(app, ["evaluate-sites", "--site", "候选A=117.2501,31.8402", "--coords", "gcj02",
                                 "--bank", "农业", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "site_evaluation.csv")
    assert table["lon 经度"].iloc[0] == pytest.approx(117.2501) and table["lat 纬度"].iloc[0] == pytest.approx(31.8402)
    layer = gpd.read_file(tmp_path / "site_evaluation.gpkg", layer="sites_evaluated")
    assert layer.geometry.x.iloc[0] == pytest.approx(117.2501) and layer.geometry.y.iloc[0] == pytest.approx(31.8402)
    field = gpd.read_file(tmp_path / "site_evaluation.kmz")  # KML is WGS84 whatever the inputs: 奥维 shifts it back
    lon, lat = gcj02_to_wgs84(117.2501, 31.8402)
    assert field.geometry.x.iloc[0] == pytest.approx(lon, abs=1e-6) and field.geometry.y.iloc[0] == pytest.approx(
        lat, abs=1e-6)
    assert abs(field.geometry.x.iloc[0] - 117.2501) > 1e-3  # some hundred metres from the GCJ-02 point


def test_types_and_their_rollout_are_map_layers(tmp_path: Path):
    typed = runner.invoke(app, ["assign-types", "--min-share", "community=0.4", "--out", str(tmp_path / "t")])
    assert typed.exit_code == 0, typed.output
    types = gpd.read_file(tmp_path / "t" / "branch_types.gpkg", layer="types")
    table = pd.read_csv(tmp_path / "t" / "branch_types.csv")
    assert types["type"].tolist() == table["type 建议类型"].tolist() and types.geometry.notna().all()
    assert (table["lon 经度"] - types.geometry.x).abs().max() < 1e-6  # the table places each branch too
    planned = runner.invoke(app, ["plan", "--min-share", "community=0.4", "--out", str(tmp_path / "p")])
    assert planned.exit_code == 0, planned.output
    path = tmp_path / "p" / "plan.gpkg"
    assert _layers(path) == {"types": "Point", "hubs": "LineString"}
    types, hubs = gpd.read_file(path, layer="types"), gpd.read_file(path, layer="hubs")
    pilots = pd.read_csv(tmp_path / "p" / "plan_pilots.csv")
    assert types["pilot_region"].notna().sum() == len(pilots) and pilots["lat 纬度"].notna().all()
    assert len(hubs) == len(pd.read_csv(tmp_path / "p" / "plan_hubs.csv")) > 0
    points = types.set_index("branch_id").geometry
    row = hubs.iloc[0]
    assert shapely.get_point(row.geometry, 1).equals_exact(points[row["hub_id"]], 1e-9)
    table = pd.read_csv(tmp_path / "p" / "plan_hubs.csv").iloc[0]  # the table places both ends too
    assert abs(table["hub_lon 中心支行经度"] - points[row["hub_id"]].x) < 1e-6
    assert abs(table["lat 纬度"] - points[row["branch_id"]].y) < 1e-6


def test_the_joint_plan_is_map_layers_too(tmp_path: Path):
    result = runner.invoke(app, ["plan", "--bank", "农业", "--p", "100", "--no-keep-existing", "--budget-wan", "1200",
                                 "--min-share", "community=0.4", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "plan.gpkg"
    assert _layers(path) == {"sites": "Point", "towns": "Point", "moves": "LineString", "towns_changed": "Point",
                             "closure_takers": "LineString"}  # branches close: a line to each taker of their residents
    takers = gpd.read_file(path, layer="closure_takers")
    assert len(takers) == len(pd.read_csv(tmp_path / "plan_closure_takers.csv")) > 0
    assert map_text(tmp_path / "plan_map.html").count("客户承接 takes on:") == len(takers)  # on the HTML map too
    sites = gpd.read_file(path, layer="sites")
    table = pd.read_csv(tmp_path / "plan_sites.csv")
    assert sites["site_id"].tolist() == table["site_id 网点/站点编号"].tolist()
    assert sites["decision"].tolist() == table["decision 决策"].tolist() and sites.geometry.notna().all()
    assert (table["lon 经度"] - sites.geometry.x).abs().max() < 1e-6  # the CSV places each site too
    assert set(sites["decision_zh"]) <= {"保留", "新设", "撤并"} and (sites["decision"] == "close").any()
    towns = gpd.read_file(path, layer="towns")
    assert len(towns) == len(pd.read_csv(tmp_path / "plan_towns.csv")) and towns["served_share"].notna().all()
