"""Road-network distances: sparse Dijkstra against networkx on a real OSM extract, access legs, fallbacks."""
from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from netopt import InputError
from netopt.distance import (RoadNetwork, TravelSettings, haversine_m, haversine_pairs_within, load_road_network,
                             count_within, measure_reach, network_count_within, network_nearest,
                             network_pairs_within, pairs_within,
                             road_network_from_graph)

OSM = Path(__file__).parent / "data" / "West-Oakland.osm.bz2"


@pytest.fixture(scope="module")
def oakland() -> RoadNetwork:
    return load_road_network(OSM)


@pytest.fixture(scope="module")
def oakland_graph() -> nx.MultiDiGraph:
    import osmnx as ox

    return ox.graph_from_xml(OSM, retain_all=True)


def _nx_lengths(graph: nx.MultiDiGraph, target) -> dict:
    simple = nx.DiGraph()
    simple.add_nodes_from(graph.nodes)
    for u, v, d in graph.edges(data=True):
        if not simple.has_edge(u, v) or d["length"] < simple[u][v]["length"]:
            simple.add_edge(u, v, length=d["length"])
    return nx.single_source_dijkstra_path_length(simple.reverse(), target, weight="length")


def test_loads_offline(oakland):
    assert oakland.n_nodes > 50 and oakland.length_m.nnz > 100
    assert repr(oakland) == (f"RoadNetwork({oakland.n_nodes} nodes, {oakland.length_m.nnz} road links, from "
                             f"{oakland.source})") and oakland.source.endswith("West-Oakland.osm.bz2")


def test_nearest_matches_networkx(oakland, oakland_graph):
    rng = np.random.default_rng(1)
    sites = rng.choice(oakland.n_nodes, 4, replace=False)
    demand = np.arange(oakland.n_nodes)
    cost, nearest = network_nearest(oakland.length_m, demand, sites)
    to_site = [_nx_lengths(oakland_graph, oakland.node_ids[s]) for s in sites]
    for d in demand:
        options = [t.get(oakland.node_ids[d], np.inf) for t in to_site]
        assert cost[d] == pytest.approx(min(options), abs=1e-6)
        if np.isfinite(min(options)):
            assert options[nearest[d]] == pytest.approx(min(options), abs=1e-6)


def test_pairs_within_match_networkx(oakland, oakland_graph):
    sites = np.array([0, 10, 20, 30, 40])
    demand = np.arange(oakland.n_nodes)
    pairs = network_pairs_within(oakland.length_m, demand, sites, limit=300.0, chunk=2).tocoo()
    got = {(r, c): v for r, c, v in zip(pairs.row, pairs.col, pairs.data)}
    for j, s in enumerate(sites):
        lengths = _nx_lengths(oakland_graph, oakland.node_ids[s])
        for i, node in enumerate(oakland.node_ids):
            expected = lengths.get(node, np.inf)
            if expected <= 300.0:
                assert got[(i, j)] == pytest.approx(expected, abs=1e-6)
            else:
                assert (i, j) not in got


def test_counts_within_own_budgets_match_the_pairs(oakland):
    rng = np.random.default_rng(5)
    sites = rng.choice(oakland.n_nodes, 7, replace=False)
    demand = np.arange(oakland.n_nodes)
    budgets = rng.uniform(50, 400, len(demand))
    legs = rng.uniform(0, 30, len(sites))
    pairs = network_pairs_within(oakland.length_m, demand, sites, limit=400.0, site_legs=legs).tocoo()
    expected = np.bincount(pairs.row[pairs.data <= budgets[pairs.row]], minlength=len(demand))
    got = network_count_within(oakland.length_m, demand, sites, budgets, site_legs=legs, chunk=3)
    assert (got == expected).all()


def test_planar_counts_match_brute_force():
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0, 10_000, (300, 2)), rng.uniform(0, 10_000, (50, 2))
    radius = rng.uniform(0, 3000, 300)
    full = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    assert (count_within(a, b, radius) == (full <= radius[:, None]).sum(axis=1)).all()


def line_network() -> RoadNetwork:
    """Five nodes on a line 1 km apart, two-way, 36 km/h residential roads (100 s per km)."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(5):
        graph.add_node(i, x=117.0 + i * 0.0105, y=31.8)
    for i in range(4):
        for u, v in ((i, i + 1), (i + 1, i)):
            graph.add_edge(u, v, length=1000.0, highway="residential")
    return road_network_from_graph(graph, highway_speeds_kmh={"residential": 36})


def test_reach_adds_access_legs_and_reports_minutes():
    net = line_network()
    demand = net.node_xy[[0]] + [0.0, 200.0]  # 200 m off the road, beside node 0
    site = net.node_xy[[3]] + [0.0, -100.0]
    travel = TravelSettings(distance="network", mode="drive", speed_kmh=36.0)
    reach = measure_reach(demand, site, limits=5.0, unit="km", travel=travel, network=net)
    assert reach.nearest_km[0] == pytest.approx(3.3, abs=1e-3)
    assert reach.nearest_min[0] == pytest.approx(3.3 * 100 / 60, abs=1e-2)  # 36 km/h everywhere
    assert reach.count_within[0] == 1
    assert reach.method[0] == "road network"
    assert measure_reach(demand, site, limits=3.0, unit="km", travel=travel, network=net).count_within[0] == 0


def test_walking_uses_walking_speed():
    net = line_network()
    travel = TravelSettings(distance="network", mode="walk")
    reach = measure_reach(net.node_xy[[0]], net.node_xy[[2]], limits=60.0, unit="min", travel=travel, network=net)
    assert reach.nearest_min[0] == pytest.approx(2.0 / 4.5 * 60, abs=1e-3)


def test_walking_goes_both_ways_along_one_way_streets():
    """A one-way street is driven one way and walked both: from the last node to the first, walking takes the
    street back (4 km at 4.5 km/h); driving has no way (the diagnosis's nearest then lies beyond reach)."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(5):
        graph.add_node(i, x=117.0 + i * 0.0105, y=31.8)
        if i:
            graph.add_edge(i - 1, i, length=1000.0, highway="residential", oneway=True)
    net = road_network_from_graph(graph)
    back = {mode: measure_reach(net.node_xy[[4]], net.node_xy[[0]], limits=60.0, unit="min",
                                travel=TravelSettings(distance="network", mode=mode), network=net)
            for mode in ("walk", "drive")}
    assert back["walk"].nearest_min[0] == pytest.approx(4.0 / 4.5 * 60, abs=1e-3)
    assert back["walk"].count_within[0] == 1 and back["drive"].count_within[0] == 0


def test_points_off_the_network_fall_back_and_say_so():
    net = line_network()
    far = net.node_xy[[0, 1]] + [[0.0, 5000.0], [0.0, 0.0]]
    travel = TravelSettings(distance="network", detour_factor=1.3)
    reach = measure_reach(far, net.node_xy[[0, 4]], limits=10.0, unit="km", travel=travel, network=net)
    assert reach.nearest_km[0] == pytest.approx(5.0 * 1.3, rel=1e-6)
    assert "outside the road network" in reach.method[0] and reach.method[1] == "road network"


def test_a_road_network_of_another_place_is_refused(oakland, oakland_graph):
    """Oakland's roads for Hefei: every town would be measured by straight line under a 'road network' heading."""
    import geopandas as gpd

    import netopt as no
    from netopt.distance import cost_matrix_km
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    said = "none of the 125 demand points (towns) lies within 10 km of its roads (the nearest 11,70"
    with pytest.raises(InputError, match=r"West-Oakland.osm.bz2: " + re.escape(said)):
        no.analyze_coverage(ds, radius_km=3.5, distance="network", graph=OSM)
    sites = candidate_sites(ds).head(20)
    with pytest.raises(InputError, match="a road network of another place"):
        no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=2, distance="network", graph=oakland)
    with pytest.raises(InputError, match="a road network of another place"):
        no.PMedian.from_geodataframes(ds.towns, sites, p=2, distance="network", graph=oakland)
    nodes = [oakland_graph.nodes[n] for n in oakland.node_ids[:5]]
    in_oakland = gpd.GeoDataFrame(geometry=gpd.points_from_xy([n["x"] for n in nodes], [n["y"] for n in nodes]),
                                  crs=4326)
    with pytest.raises(InputError, match=r"none of the 20 sites \(branches\) lies within 10 km"):
        cost_matrix_km(in_oakland, sites, "network", oakland)


def test_network_never_shorter_than_straight_line(oakland):
    rng = np.random.default_rng(3)
    demand = oakland.node_xy[rng.choice(oakland.n_nodes, 30)]
    sites = oakland.node_xy[rng.choice(oakland.n_nodes, 5)]
    road = measure_reach(demand, sites, 2.0, "km", TravelSettings(distance="network"), oakland)
    straight = measure_reach(demand, sites, 2.0, "km", TravelSettings(), None)
    finite = np.isfinite(road.nearest_km)
    assert (road.nearest_km[finite] >= straight.nearest_km[finite] * (1 - 1e-3)).all()  # UTM scale error


def test_bad_road_files(tmp_path: Path):
    with pytest.raises(InputError, match="does not exist"):
        load_road_network(tmp_path / "none.osm")
    (tmp_path / "bad.osm").write_text("<osm><oops")
    with pytest.raises(InputError, match="cannot read the road network"):
        load_road_network(tmp_path / "bad.osm")
    (tmp_path / "x.csv").write_text("")
    with pytest.raises(InputError, match=r"unsupported road network file; use OSM XML \(.osm, .osm.bz2\), GraphML "
                                         r"\(.graphml\) or a layer of road lines \(.shp, .gpkg"):
        load_road_network(tmp_path / "x.csv")
    (tmp_path / "x.shp").write_text("")
    with pytest.raises(InputError, match="x.shp: a Shapefile is several files"):  # read as a layer of road lines now
        load_road_network(tmp_path / "x.shp")
    with pytest.raises(InputError, match="an OSM or GraphML extract is in wgs84, not gcj02"):
        load_road_network(OSM, coords="gcj02")


def test_haversine_pairs_agree_with_brute_force():
    rng = np.random.default_rng(7)
    a = np.column_stack([rng.uniform(117, 117.5, 200), rng.uniform(31.6, 32.0, 200)])
    b = np.column_stack([rng.uniform(117, 117.5, 40), rng.uniform(31.6, 32.0, 40)])
    got = haversine_pairs_within(a, b, 5000.0).toarray()
    full = haversine_m(a[:, None, 0], a[:, None, 1], b[None, :, 0], b[None, :, 1])
    mask = full <= 5000.0
    assert np.allclose(got[mask], full[mask]) and (got[~mask] == 0).all()


def test_planar_pairs_keep_zero_distances():
    pts = np.array([[0.0, 0.0], [10.0, 0.0]])
    m = pairs_within(pts, pts[:1], 5.0)
    assert m.nnz == 1 and m[0, 0] == 0.0


def test_analyze_coverage_on_a_road_network(oakland, oakland_graph):
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    import netopt as no

    lon = np.array([oakland_graph.nodes[n]["x"] for n in oakland.node_ids])
    lat = np.array([oakland_graph.nodes[n]["y"] for n in oakland.node_ids])
    town_nodes, branch_nodes = np.arange(0, oakland.n_nodes, 3), np.array([5, 40])
    counties = gpd.GeoDataFrame({"county_id": ["1"], "name": ["A"], "population": [1.0], "gdp_yi": [np.nan],
                                 "area_km2": [1.0], "region_type": ["core"]},
                                geometry=[box(lon.min() - 0.01, lat.min() - 0.01, lon.max() + 0.01, lat.max() + 0.01)],
                                crs=4326)
    towns = gpd.GeoDataFrame({"town_id": [f"T{i}" for i in town_nodes], "name": "t", "county": "A", "county_id": "1",
                              "population": 100.0, "region_type": pd.NA},
                             geometry=gpd.points_from_xy(lon[town_nodes], lat[town_nodes]), crs=4326)
    branches = gpd.GeoDataFrame({"branch_id": ["B5", "B40"], "name": "b", "bank": "x", "type": pd.NA},
                                geometry=gpd.points_from_xy(lon[branch_nodes], lat[branch_nodes]), crs=4326)
    ds = no.Dataset(counties, towns, branches)
    cov = no.analyze_coverage(ds, radius_km=0.25, distance="network", graph=oakland)
    to_branch = [_nx_lengths(oakland_graph, oakland.node_ids[b]) for b in branch_nodes]
    expected = np.array([min(t.get(oakland.node_ids[n], np.inf) for t in to_branch) for n in town_nodes]) / 1000.0
    finite = np.isfinite(expected)
    assert cov.towns["nearest_branch_km"].to_numpy()[finite] == pytest.approx(expected[finite], abs=1e-6)
    assert (cov.towns["covered"].to_numpy() == (expected <= 0.25)).all()
    assert (cov.towns["method"] == "road network").all()
    timed = no.analyze_coverage(ds, radius_min=1.0, distance="network", graph=OSM)
    assert "time_limit_min" in timed.towns and timed.towns["covered"].sum() >= 1
    assert timed.notes[0].startswith("Coverage by travel time 1 min (road network")


def oakland_places(oakland: RoadNetwork, oakland_graph: nx.MultiDiGraph):
    """Counties, towns and branches on the Oakland extract: a town at every third road node and one ~700 m east of
    the easternmost node (off the network), three branches on road nodes."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    lon = np.array([oakland_graph.nodes[n]["x"] for n in oakland.node_ids])
    lat = np.array([oakland_graph.nodes[n]["y"] for n in oakland.node_ids])
    town_nodes, branch_nodes = np.arange(0, oakland.n_nodes, 3), np.array([5, 40, 77])
    east = int(np.argmax(lon))
    town_lon, town_lat = np.r_[lon[town_nodes], lon[east] + 0.008], np.r_[lat[town_nodes], lat[east]]
    counties = gpd.GeoDataFrame({"county_id": ["1"], "name": ["A"], "population": [1.0], "gdp_yi": [np.nan],
                                 "area_km2": [1.0], "region_type": ["core"]},
                                geometry=[box(lon.min() - 0.02, lat.min() - 0.02, lon.max() + 0.02, lat.max() + 0.02)],
                                crs=4326)
    towns = gpd.GeoDataFrame({"town_id": [f"T{i}" for i in range(len(town_lon))], "name": "t", "county": "A",
                              "county_id": "1", "population": 100.0 + np.arange(len(town_lon)), "region_type": pd.NA},
                             geometry=gpd.points_from_xy(town_lon, town_lat), crs=4326)
    branches = gpd.GeoDataFrame({"branch_id": [f"B{n}" for n in branch_nodes], "name": "b", "bank": "x",
                                 "type": pd.NA}, geometry=gpd.points_from_xy(lon[branch_nodes], lat[branch_nodes]),
                                crs=4326)
    return counties, towns, branches


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_covering_models_by_road_travel_time_are_the_diagnosis_own(oakland, oakland_graph, mode):
    """MCLP.from_geodataframes(radius_min=…) by road: each town's quickest covering branch is the diagnosis's
    nearest_branch_min, the towns it covers are the diagnosis's covered towns (a town 800 m off the roads included:
    straight line x 1.3), and its value of the branches is the diagnosis's residents covered."""
    import netopt as no

    counties, towns, branches = oakland_places(oakland, oakland_graph)
    limit = 2.0 if mode == "drive" else 6.0
    cov = no.analyze_coverage(no.Dataset(counties, towns, branches), radius_min=limit, distance="network",
                              graph=oakland, mode=mode)
    sites = branches.rename(columns={"branch_id": "site_id"})
    model = no.MCLP.from_geodataframes(towns, sites, p=1, radius_min=limit, mode=mode, distance="network",
                                       graph=oakland)
    covered = model.A.sum(axis=1).A1 > 0
    assert 0 < covered.sum() < len(towns) and (covered == cov.towns["covered"].to_numpy()).all()
    quickest = model.evaluate(list(sites["site_id"])).assignment["travel_minutes"].to_numpy()
    assert quickest[covered] == pytest.approx(cov.towns["nearest_branch_min"].to_numpy()[covered], rel=1e-9)
    assert model.objective_of(list(sites["site_id"])) == pytest.approx(
        cov.by_region["covered_population"].sum())
    assert "outside the road network" in cov.towns["method"].iloc[-1]


def test_distances_by_blocks_of_sites_match_the_whole_matrix_by_road_and_straight_line():
    """cost_blocks gives cost_matrix_km's km a few sites at a time (points projected and snapped once): the
    same numbers by straight line and by road, off-network points by straight line x detour."""
    import geopandas as gpd

    from netopt.distance import cost_blocks, cost_matrix_km

    net = line_network()
    lon = 117.0 + np.arange(5) * 0.0105
    demand = gpd.GeoDataFrame(geometry=gpd.points_from_xy(np.r_[lon, 117.02], np.r_[np.full(5, 31.8), 31.9]),
                              crs=4326)  # the last one 11 km north of the road
    sites = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[[0, 2, 3, 4]], np.full(4, 31.8)), crs=4326)
    for distance, graph in (("euclidean", None), ("network", net)):
        whole = cost_matrix_km(demand, sites, distance, graph)
        for step in (1, 3, 4):
            blocks = list(cost_blocks(demand, sites, step, distance, graph))
            assert [columns.start for columns, _ in blocks] == list(range(0, 4, step))
            assert np.allclose(np.hstack([km for _, km in blocks]), whole)
    road, straight = cost_matrix_km(demand, sites, "network", net), cost_matrix_km(demand, sites)
    assert road[0, 2] == pytest.approx(3.0, rel=1e-3)  # node 0 to node 3 along the road
    assert road[5] == pytest.approx(straight[5] * TravelSettings().detour_factor)


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_pmedian_and_pcenter_in_travel_minutes_by_road(oakland, oakland_graph, mode):
    """PMedian/PCenter.from_geodataframes(unit="min") by road: a plan's minutes are the diagnosis's
    nearest_branch_min town by town (the town off the roads too), and the solved plans are the brute-force best on
    those minutes; driving minutes are not road km x one speed (roads of different speeds), walking ones are at
    most the road km at walking speed."""
    import pandas as pd

    import netopt as no
    from netopt.distance import cost_matrix_km, cost_matrix_minutes
    from tests import brute

    counties, towns, branches = oakland_places(oakland, oakland_graph)
    roads = {"distance": "network", "graph": oakland, "mode": mode, "unit": "min"}
    cov = no.analyze_coverage(no.Dataset(counties, towns, branches), radius_min=5.0, distance="network",
                              graph=oakland, mode=mode)
    today = branches.rename(columns={"branch_id": "site_id"})
    for model in (no.PMedian.from_geodataframes(towns, today, 1, **roads),
                  no.PCenter.from_geodataframes(towns, today, 1, **roads)):
        minutes = model.evaluate(list(today["site_id"])).assignment["travel_minutes"].to_numpy()
        assert minutes == pytest.approx(cov.towns["nearest_branch_min"].to_numpy(), rel=1e-9)
    sites = pd.concat([today, towns.iloc[::2].rename(columns={"town_id": "site_id"})[["site_id", "geometry"]]],
                      ignore_index=True)
    cost = cost_matrix_minutes(towns, sites, "network", oakland, mode)
    weights = towns["population"].to_numpy(float)
    for p in (1, 2, 3):
        median = no.PMedian.from_geodataframes(towns, sites, p, **roads).solve()
        assert median.objective == pytest.approx(brute.pmedian(cost, weights, p), rel=1e-9)
        assert median.assignment["weighted_travel_minutes"].sum() == pytest.approx(median.objective, rel=1e-9)
        center = no.PCenter.from_geodataframes(towns, sites, p, **roads).solve()
        assert center.objective == pytest.approx(brute.pcenter(cost, p), rel=1e-9)
    km = cost_matrix_km(towns, sites, "network", oakland)
    finite = np.isfinite(km) & (km > 0)
    if mode == "drive":
        ratio = cost[finite] / km[finite]
        assert ratio.std() > 0.01 * ratio.mean()
    else:  # walking: the km at 4.5 km/h, or less where a one-way street is walked the other way
        assert (cost[finite] <= km[finite] / 4.5 * 60 * (1 + 1e-9)).all()


def test_a_travel_mode_per_region_type_by_road(oakland, oakland_graph):
    """mode={"core": "walk", "county": "drive"} by road: each town measured as the diagnosis of its own region
    type's mode measures it (covered, quickest branch minutes, the town off the roads too); the covering model and
    the p-median take the same per town (coverage.demand_modes) and agree with it."""
    import netopt as no

    counties, towns, branches = oakland_places(oakland, oakland_graph)
    towns["region_type"] = np.where(np.arange(len(towns)) % 2, "core", "county")
    ds = no.Dataset(counties, towns, branches)
    limits, modes = {"core": 6.0, "county": 2.0}, {"core": "walk", "county": "drive"}
    roads = {"distance": "network", "graph": oakland}
    mixed = no.analyze_coverage(ds, radius_min=limits, mode=modes, **roads)
    alone = {mode: no.analyze_coverage(ds, radius_min=limits, mode=mode, **roads) for mode in ("walk", "drive")}
    walking = (towns["region_type"] == "core").to_numpy()
    for column in ("covered", "nearest_branch_min", "branches_within_limit"):
        expected = np.where(walking, alone["walk"].towns[column], alone["drive"].towns[column])
        assert mixed.towns[column].to_numpy() == pytest.approx(expected.astype(float), rel=1e-9)
    assert 0 < mixed.towns["covered"].sum() < len(towns)
    assert "core walk, county drive" in mixed.notes[0]
    sites = branches.rename(columns={"branch_id": "site_id"})
    per_town = {"radius_min": no.coverage.demand_limits(ds, limits, unit="min"),
                "mode": no.coverage.demand_modes(ds, modes)}
    covering = no.MCLP.from_geodataframes(towns, sites, p=1, **per_town, **roads)
    assert ((covering.A.sum(axis=1).A1 > 0) == mixed.towns["covered"].to_numpy()).all()
    median = no.PMedian.from_geodataframes(towns, sites, 1, unit="min", mode=per_town["mode"], **roads)
    quickest = median.evaluate(list(sites["site_id"])).assignment["travel_minutes"].to_numpy()
    assert quickest == pytest.approx(mixed.towns["nearest_branch_min"].to_numpy(), rel=1e-9)


def test_speeds_per_region_type_and_walking_speed_by_road(oakland, oakland_graph):
    """speed_kmh={"core": 12, "county": 45} by road (detour 1.5): each town measured as the diagnosis at its own
    region type's speed measures it (the speed sets the legs to and from the roads and the town off them; the roads
    keep their own speeds); the covering model and the p-median at those speeds per town (coverage.demand_speeds)
    agree with it. Walking at 3.6 km/h takes 4.5/3.6 times as long as at 4.5, on the roads and off them."""
    import netopt as no
    from netopt.distance import cost_matrix_minutes

    counties, towns, branches = oakland_places(oakland, oakland_graph)
    towns["region_type"] = np.where(np.arange(len(towns)) % 2, "core", "county")
    ds = no.Dataset(counties, towns, branches)
    roads = {"distance": "network", "graph": oakland, "detour_factor": 1.5}
    speeds = {"core": 12.0, "county": 45.0}
    mixed = no.analyze_coverage(ds, radius_min=2.0, speed_kmh=speeds, **roads)
    alone = {kind: no.analyze_coverage(ds, radius_min=2.0, speed_kmh=speed, **roads) for kind, speed in speeds.items()}
    core = (towns["region_type"] == "core").to_numpy()
    for column in ("covered", "nearest_branch_min", "branches_within_limit"):
        expected = np.where(core, alone["core"].towns[column], alone["county"].towns[column])
        assert mixed.towns[column].to_numpy() == pytest.approx(expected.astype(float), rel=1e-9)
    assert not np.allclose(alone["core"].towns["nearest_branch_min"], alone["county"].towns["nearest_branch_min"])
    assert "core drive at 12 km/h, county drive at 45 km/h" in mixed.notes[0]
    assert any("straight line x 1.5 at 12 km/h (drive) in core, 45 km/h (drive) in county" in n for n in mixed.notes)
    sites = branches.rename(columns={"branch_id": "site_id"})
    per_town = {"speed_kmh": no.coverage.demand_speeds(ds, speeds), **roads}
    covering = no.MCLP.from_geodataframes(towns, sites, p=1, radius_min=2.0, **per_town)
    assert ((covering.A.sum(axis=1).A1 > 0) == mixed.towns["covered"].to_numpy()).all()
    median = no.PMedian.from_geodataframes(towns, sites, 1, unit="min", **per_town)
    quickest = median.evaluate(list(sites["site_id"])).assignment["travel_minutes"].to_numpy()
    assert quickest == pytest.approx(mixed.towns["nearest_branch_min"].to_numpy(), rel=1e-9)
    slow, usual = (no.analyze_coverage(ds, radius_min=6.0, mode="walk", **roads, **speed)
                   for speed in ({"walk_speed_kmh": 3.6}, {}))
    assert slow.towns["nearest_branch_min"].to_numpy() == pytest.approx(
        usual.towns["nearest_branch_min"].to_numpy() * 4.5 / 3.6, rel=1e-9)
    assert slow.towns["covered"].sum() < usual.towns["covered"].sum()
    assert cost_matrix_minutes(towns, sites, mode="walk", walk_speed_kmh=3.6, **roads) == pytest.approx(
        cost_matrix_minutes(towns, sites, mode="walk", **roads) * 4.5 / 3.6, rel=1e-9)


def test_an_extract_in_pieces_says_so(oakland):
    """The West Oakland extract is clipped from a city: its roads fall into pieces, which the diagnosis's notes
    carry (no advice to split: a graph's edges meet at its nodes already)."""
    assert len(oakland.notes) == 1 and oakland.notes[0].startswith("The road network falls into 20 unconnected pieces")
    assert "split_at_crossings" not in oakland.notes[0]
