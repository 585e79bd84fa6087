"""Road networks from line layers: the Oakland extract as lines gives the OSM graph's distances and times and the
same diagnosis; junctions, one-way streets, speeds by column or class, GCJ-02 layers, files and bad layers."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse.csgraph as csgraph
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point

import netopt as no
from netopt import InputError
from netopt.distance import _both_ways, load_road_network, min_matrix
from netopt.roads import contract_chains, read_road_lines, road_network_from_lines

OSM = Path(__file__).parent / "data" / "West-Oakland.osm.bz2"


@pytest.fixture(scope="module")
def oakland_graph():
    import osmnx as ox

    return ox.graph_from_xml(OSM, retain_all=True)


@pytest.fixture(scope="module")
def oakland_lines(oakland_graph) -> gpd.GeoDataFrame:
    """The extract's roads as a layer of lines (osmnx's edges: one row per direction driven, class, oneway)."""
    import osmnx as ox

    return ox.graph_to_gdfs(oakland_graph, nodes=False).reset_index()[["highway", "oneway", "geometry"]]


def test_lines_give_the_graphs_road_km_and_driving_seconds(oakland_graph, oakland_lines):
    graph = load_road_network(OSM)
    lines = road_network_from_lines(oakland_lines, crs=graph.crs)
    offset, same = cKDTree(lines.node_xy).query(graph.node_xy)
    joined = np.flatnonzero(offset < 0.01)  # the graph's nodes on a road (the extract has a few without any)
    assert len(joined) > 60 and {oakland_graph.degree(n) for n in graph.node_ids[offset >= 0.01]} <= {0}
    for matrix in ("length_m", "drive_s"):
        by_graph = csgraph.dijkstra(getattr(graph, matrix), indices=joined)[:, joined]
        by_lines = csgraph.dijkstra(getattr(lines, matrix), indices=same[joined])[:, same[joined]]
        reached = np.isfinite(by_graph)
        assert (np.isfinite(by_lines) == reached).all() and 0 < reached.mean() < 1  # one-way streets kept
        assert by_lines[reached] == pytest.approx(by_graph[reached], rel=3e-3, abs=0.5)  # projected vs geodesic m


def test_the_diagnosis_by_road_lines_is_the_diagnosis_by_the_osm_file(oakland_graph, oakland_lines, tmp_path):
    from tests.test_network import oakland_places

    counties, towns, branches = oakland_places(load_road_network(OSM), oakland_graph)
    ds = no.Dataset(counties, towns, branches)
    oakland_lines.assign(oneway=oakland_lines.oneway.astype(str)).to_file(tmp_path / "roads.gpkg", layer="edges")
    gpd.GeoDataFrame(geometry=[Point(-122.3, 37.8)], crs=4326).to_file(tmp_path / "roads.gpkg", layer="nodes")
    by_osm = no.analyze_coverage(ds, radius_min=2.0, distance="network", graph=OSM)
    minutes = by_osm.towns["nearest_branch_min"].to_numpy()
    reached = np.isfinite(minutes)  # within reach at all (a few stand on graph nodes without a road)
    assert reached.sum() > 10
    for graph in (oakland_lines, tmp_path / "roads.gpkg"):  # a GeoDataFrame, or a GeoPackage's layer of lines
        by_lines = no.analyze_coverage(ds, radius_min=2.0, distance="network", graph=graph)
        assert (by_lines.towns["covered"] == by_osm.towns["covered"])[reached].all()
        assert by_lines.towns["nearest_branch_min"].to_numpy()[reached] == pytest.approx(minutes[reached], rel=3e-3)
        assert np.isfinite(by_lines.towns["nearest_branch_min"]).sum() > reached.sum()  # from the road nearest


def _roads(lines: list, crs: object = 32650, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[LineString(line) for line in lines], crs=crs)


def _metres(net, a: tuple, b: tuple, matrix: str = "length_m") -> float:
    start, end = (int(cKDTree(net.node_xy).query(np.array(p, float))[1]) for p in (a, b))
    return float(csgraph.dijkstra(getattr(net, matrix), indices=start)[end])


def test_lines_join_where_their_vertices_meet_not_where_they_cross():
    # a bridge: the west-east road crosses the north-south one without a shared vertex; a third road ends on it
    roads = _roads([[(0, 500), (1000, 500)], [(500, 0), (500, 1000)], [(1000, 500), (1000, 900)]])
    net = road_network_from_lines(roads, crs=32650)
    assert _metres(net, (0, 500), (1000, 900)) == pytest.approx(1400)
    assert np.isinf(_metres(net, (0, 500), (500, 1000)))


def test_one_way_lines_speeds_by_column_then_class():
    roads = _roads([[(0, 0), (1000, 0)], [(0, 100), (1000, 100)], [(0, 200), (1000, 200)], [(0, 300), (1000, 300)]],
                   oneway=["F", "T", "no", "是"], 道路等级=["主干路", "高速公路", "unknown", "支路"],
                   限速=[None, "60", "0", None])
    net = road_network_from_lines(roads, crs=32650, fallback_speed_kmh=10)
    assert _metres(net, (0, 0), (1000, 0), "drive_s") == pytest.approx(90)  # 主干路 40 km/h, the drawn way
    assert np.isinf(_metres(net, (1000, 0), (0, 0), "drive_s"))
    assert np.isinf(_metres(net, (0, 100), (1000, 100), "drive_s"))  # T: against the drawn direction only
    assert _metres(net, (1000, 100), (0, 100), "drive_s") == pytest.approx(60)  # 限速 60 beats 高速公路
    assert _metres(net, (1000, 200), (0, 200), "drive_s") == pytest.approx(360)  # 0 and unknown: the fallback
    assert net.notes[-1] == ("1 of 4 road lines are driven at the fallback 10 km/h — 道路等级 not known: unknown (1); "
                             "give their speeds with highway_speeds_kmh={class: km/h} or a speed column.")
    bare = road_network_from_lines(roads[["geometry"]], crs=32650)
    assert "4 of 4 road lines are driven at the fallback 25 km/h — the layer has no speed or road" in bare.notes[-1]
    assert _metres(net, (0, 300), (1000, 300), "drive_s") == pytest.approx(180)  # 单行 是; 支路 20 km/h
    walking = net.weights("walk", walk_speed_kmh=3.6)
    assert csgraph.dijkstra(walking, indices=int(cKDTree(net.node_xy).query([1000, 0])[1])).min() == 0  # both ways


def test_a_gcj02_layer_is_moved_to_wgs84():
    lon, lat = np.array([117.20, 117.21]), np.array([31.80, 31.80])
    from netopt.coords import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(lon, lat)
    plain = road_network_from_lines(_roads([list(zip(lon, lat))], crs=4326))
    moved = road_network_from_lines(_roads([list(zip(glon, glat))], crs=4326), crs=plain.crs, coords="gcj02")
    assert np.abs(moved.node_xy - plain.node_xy).max() < 1.0  # metres: the ~500 m GCJ-02 offset undone


@pytest.mark.parametrize("layer, message", [
    (gpd.GeoDataFrame(geometry=[Point(0, 0), LineString([(0, 0), (1, 1)])], crs=32650),
     "roads, feature 1, column 'geometry': road features must be lines, not Point"),
    (gpd.GeoDataFrame(geometry=[LineString([(500000, 0), (500100, 0)])]),
     "roads: the road layer has no coordinate system"),
    ([(0, 0), (1, 1)], "road lines are a GeoDataFrame of LineStrings"),
])
def test_bad_layers_are_named(layer, message):
    with pytest.raises(InputError, match=message):
        road_network_from_lines(layer, source="roads")


def test_files_of_road_lines(tmp_path):
    _roads([[(117.2, 31.8), (117.21, 31.8)]], crs=4326).to_file(tmp_path / "roads.geojson")
    assert load_road_network(tmp_path / "roads.geojson").n_nodes == 2
    with pytest.raises(InputError, match="road network file does not exist"):
        read_road_lines(tmp_path / "none.shp")
    for part in (".shp", ".shx", ".dbf"):
        (tmp_path / f"bad{part}").write_text("not a shapefile")
    with pytest.raises(InputError, match="bad.shp: not a readable GIS file"):
        load_road_network(tmp_path / "bad.shp")
    (tmp_path / "nodes.osm").write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="31.8" lon="117.2"/>'
                                        "</osm>")  # was read, every town then 'more than 500 m from the roads'
    with pytest.raises(InputError, match=r"nodes.osm: the road network has no roads \(1 junction, no links\)"):
        load_road_network(tmp_path / "nodes.osm")


def _hefei_grid_of_roads(step: float = 0.02) -> gpd.GeoDataFrame:
    """Roads every ~2 km over the sample city, west-east and south-north, meeting at shared vertices, in GCJ-02
    as a layer exported from Amap would be."""
    from netopt.coords import wgs84_to_gcj02

    lon, lat = np.arange(116.7, 117.95, step), np.arange(30.9, 32.6, step)
    rows = [np.column_stack([lon, np.full(len(lon), y)]) for y in lat]
    cols = [np.column_stack([np.full(len(lat), x), lat]) for x in lon]
    lines = [LineString(np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))) for xy in rows + cols]
    return gpd.GeoDataFrame({"道路等级": ["主干路"] * len(rows) + ["次干路"] * len(cols)}, geometry=lines, crs=4326)


def test_the_command_line_reads_a_gcj02_layer_of_road_lines(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app
    from tests.test_cli import _said

    roads = _hefei_grid_of_roads()
    roads.to_file(tmp_path / "roads.gpkg")
    expected = no.analyze_coverage(no.load_sample(), radius_min=10, distance="network",
                                   graph=road_network_from_lines(roads, coords="gcj02"))
    run = CliRunner().invoke(app, ["analyze", "--minutes", "10", "--network", str(tmp_path / "roads.gpkg"),
                                   "--network-coords", "gcj02", "--out", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    rates = {region: f"{rate:.1f}%" for region, rate in expected.by_region.set_index("region_type")[
        "coverage_rate_pct"].items()}
    said = " ".join(run.output.split())
    assert all(rate in said for rate in rates.values()) and "road network" in said
    drawn = CliRunner().invoke(app, ["map", "--minutes", "10", "--network", str(tmp_path / "roads.gpkg"),
                                     "--network-coords", "gcj02", "--out", str(tmp_path / "map")])  # by road too
    assert drawn.exit_code == 0, drawn.output
    for option, message in ((["--network-coords", "mars"], "must be wgs84, gcj02 (Amap/Tencent) or bd09"),
                            (["--network", str(OSM), "--network-coords", "gcj02"], "is in wgs84, not gcj02")):
        refused = CliRunner().invoke(app, ["analyze", "--minutes", "10", *option, "--out", str(tmp_path / "o2")])
        assert refused.exit_code == 2 and message in _said(refused.output), refused.output


@pytest.mark.slow  # 8 s; the diagnosis by road is checked above, the reports' own measure in test_report
def test_the_reports_by_a_gcj02_layer_of_road_lines(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app

    _hefei_grid_of_roads().to_file(tmp_path / "roads.gpkg")
    drawn = CliRunner().invoke(app, ["report", "--new-per-county", "1", "--minutes", "10", "--network",
                                     str(tmp_path / "roads.gpkg"), "--network-coords", "gcj02", "--out",
                                     str(tmp_path / "report")])
    assert drawn.exit_code == 0, drawn.output
    summary = (tmp_path / "report" / "city_summary.html").read_text(encoding="utf-8")
    assert "Coverage by travel time 10 min (road network, drive)" in summary


def test_speeds_of_zero_are_refused():
    roads = _roads([[(0, 0), (1000, 0)]])
    with pytest.raises(InputError, match="the speed of fallback_speed_kmh must be a number of km/h, above 0; got 0"):
        road_network_from_lines(roads, fallback_speed_kmh=0)
    with pytest.raises(InputError, match="the speed of 支路 must be a number of km/h, above 0; got -5"):
        road_network_from_lines(roads, highway_speeds_kmh={"支路": -5})


def _crossing_grid() -> gpd.GeoDataFrame:
    """Six west-east 主干路 and six south-north 支路 every 500 m near Hefei (UTM 50N), drawn across each other
    without a vertex where they cross, as layers traced by hand often are."""
    x0, y0 = 500000.0, 3520000.0
    rows = [LineString([(x0, y0 + y), (x0 + 2500, y0 + y)]) for y in range(0, 2501, 500)]
    cols = [LineString([(x0 + x, y0), (x0 + x, y0 + 2500)]) for x in range(0, 2501, 500)]
    return gpd.GeoDataFrame({"道路等级": ["主干路"] * 6 + ["支路"] * 6}, geometry=rows + cols, crs=32650)


def test_a_layer_in_pieces_says_so_and_split_at_crossings_joins_it():
    apart = road_network_from_lines(_crossing_grid())
    assert len(apart.notes) == 1 and "falls into" in apart.notes[0] and "split_at_crossings=True" in apart.notes[0]
    joined = road_network_from_lines(_crossing_grid(), split_at_crossings=True)
    assert joined.notes == () and joined.n_nodes == 36
    corner, far = (500000, 3520000), (502500, 3522500)
    assert _metres(joined, corner, far) == pytest.approx(5000)
    assert _metres(joined, corner, far, "drive_s") == pytest.approx(2500 / 40 * 3.6 + 2500 / 20 * 3.6)  # classes kept
    joined_at_an_end = road_network_from_lines(_roads([[(0, 0), (1000, 0)], [(1000, 0), (1000, 900)]]))
    assert not any("falls into" in note for note in joined_at_an_end.notes)


def test_the_diagnosis_carries_the_road_networks_note(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app
    from tests.test_cli import _said

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_min=10, distance="network", graph=_crossing_grid())
    assert any("The road network falls into" in note for note in cov.notes)
    _crossing_grid().to_file(tmp_path / "roads.shp", encoding="gbk")
    (tmp_path / "roads.cpg").unlink()  # a GBK Shapefile without its .cpg, as older Chinese GIS data often is
    assert read_road_lines(tmp_path / "roads.shp").drive_s.data.max() == pytest.approx(2500 / 20 * 3.6)  # 支路
    split = CliRunner().invoke(app, ["analyze", "--tables-only",
                                     "--minutes", "10", "--network", str(tmp_path / "roads.shp"),
                                     "--network-split", "--out", str(tmp_path / "out")])
    assert split.exit_code == 0 and "falls into" not in split.output, split.output
    alone = CliRunner().invoke(app, ["analyze", "--tables-only", "--network-split", "--out", str(tmp_path / "o2")])
    assert alone.exit_code == 2 and "describe a --network layer of road lines: give --network too" in _said(
        alone.output)


def test_validate_reads_road_files(tmp_path):
    """netopt validate 道路.shp (a road layer by its name, or --kind roads) or an OSM extract: its junctions and
    links, and what it asks to check."""
    from typer.testing import CliRunner

    from netopt.cli import app
    from tests.test_cli import _said

    _crossing_grid().to_file(tmp_path / "道路.gpkg")
    _crossing_grid().to_file(tmp_path / "layer.gpkg")
    for args in ([str(tmp_path / "道路.gpkg")], [str(tmp_path / "layer.gpkg"), "--kind", "roads"]):
        run = CliRunner().invoke(app, ["validate", *args])
        said = _said(run.output)
        assert run.exit_code == 0 and "(roads): 20 junctions, 24 road links (lines in wgs84)" in said, run.output
        assert "check The road network falls into 9 unconnected pieces" in said
    osm = CliRunner().invoke(app, ["validate", str(OSM)])
    assert osm.exit_code == 0 and "West-Oakland.osm.bz2 (roads): 84 junctions" in _said(osm.output)


@st.composite
def _chained_graphs(draw) -> tuple:
    """A road graph as a surveyed layer makes it: junctions joined by chains of pass-through vertices, each chain
    driven both ways or one way, its links of their own lengths and speeds; loops back to a junction, closed
    rings without one."""
    junctions = draw(st.integers(1, 5))
    rows, cols, metres, seconds, count = [], [], [], [], junctions
    for _ in range(draw(st.integers(1, 7))):
        a, b = draw(st.integers(0, junctions - 1)), draw(st.integers(0, junctions - 1))
        inner = draw(st.integers(0 if a != b else 1, 4))
        both = draw(st.booleans())
        chain = [a, *range(count, count + inner), b]
        count += inner
        for start, end in zip(chain[:-1], chain[1:]):
            m, kmh = draw(st.integers(1, 60)), draw(st.sampled_from([20, 40, 60]))
            pairs = [(start, end), (end, start)] if both else [(start, end)]
            for u, v in pairs:
                rows.append(u), cols.append(v), metres.append(float(m)), seconds.append(m / (kmh / 3.6))
    if draw(st.booleans()):  # a ring with no junction
        ring = list(range(count, count + 3))
        count += 3
        for u, v in zip(ring, ring[1:] + ring[:1]):
            rows += [u, v]
            cols += [v, u]
            metres += [10.0, 10.0]
            seconds += [1.8, 1.8]
    return rows, cols, metres, seconds, count


@settings(max_examples=300, deadline=None)
@given(graph=_chained_graphs(), spacing=st.sampled_from([1e-6, 0.3, 100.0]))
def test_merging_pass_through_vertices_keeps_every_road_distance(graph, spacing):
    rows, cols, metres, seconds, count = graph
    length_m, drive_s = (min_matrix(rows, cols, values, (count, count)) for values in (metres, seconds))
    xy = np.random.default_rng(len(rows)).random((count, 2))
    merged_m, merged_s, kept_xy = contract_chains(length_m, drive_s, xy, keep_every_m=spacing)
    kept = [int(np.flatnonzero((xy == point).all(axis=1))[0]) for point in kept_xy]
    for before, after in ((length_m, merged_m), (drive_s, merged_s), (_both_ways(length_m), _both_ways(merged_m))):
        assert np.array_equal(np.isinf(csgraph.dijkstra(before)[np.ix_(kept, kept)]), np.isinf(csgraph.dijkstra(after)))
        assert np.nan_to_num(csgraph.dijkstra(after), posinf=-1) == pytest.approx(
            np.nan_to_num(csgraph.dijkstra(before)[np.ix_(kept, kept)], posinf=-1))
    if spacing < 1e-3:  # a square per vertex: each one kept
        assert len(kept) == count


def test_a_surveyed_layer_keeps_its_junctions_and_a_vertex_every_100_m():
    x0, y0 = 500000.0, 3520000.0
    lines = [LineString([(x0, y0 + y), (x0 + 2000, y0 + y)]) for y in range(0, 2001, 500)]
    lines += [LineString([(x0 + x, y0), (x0 + x, y0 + 2000)]) for x in range(0, 2001, 500)]
    dense = gpd.GeoDataFrame({"道路等级": ["主干路"] * 10}, geometry=shapely.segmentize(np.array(lines), 5), crs=32650)
    net = road_network_from_lines(dense, split_at_crossings=True)
    vertices = shapely.get_coordinates(dense.geometry.values)
    assert net.n_nodes < len(np.unique(vertices, axis=0)) / 10  # 4,000 m of road every 5 m: most merged
    gaps, _ = cKDTree(net.node_xy).query(vertices)
    assert gaps.max() <= 100 * np.sqrt(2)  # every point of a road near a vertex kept
    junction, far = (x0 + 500, y0 + 500), (x0 + 2000, y0 + 1500)
    assert _metres(net, junction, far) == pytest.approx(2500)
    assert _metres(net, junction, far, "drive_s") == pytest.approx(2500 / 40 * 3.6)
