"""Distances from demand points to sites: straight-line (KD-tree, sparse within a cutoff) and by road network."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from netopt._errors import InputError, Problem
from netopt.coords import normalize_coord_system

EARTH_RADIUS_M = 6_371_008.8
# Assumed free-flow driving speeds (km/h) by OSM highway class in Chinese cities and counties;
# override with load_road_network(..., highway_speeds_kmh={...}).
DEFAULT_HIGHWAY_SPEEDS_KMH = {
    "motorway": 80, "motorway_link": 50, "trunk": 60, "trunk_link": 40, "primary": 40, "primary_link": 30,
    "secondary": 35, "secondary_link": 25, "tertiary": 30, "tertiary_link": 25, "unclassified": 25,
    "residential": 20, "living_street": 10, "service": 15, "road": 25,
}
DEFAULT_FALLBACK_SPEED_KMH = 25.0
ROAD_LINE_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".zip")  # a layer of road lines
OSM_SUFFIXES = (".osm", ".osm.bz2", ".xml", ".osm.xml")  # an OSM XML extract (GraphML: .graphml)
WALKING_SPEED_KMH = 4.5
DEFAULT_MAX_SNAP_M = 500.0
NEEDS_GRAPH = ("distance='network' needs graph=: a RoadNetwork, a networkx graph, a GeoDataFrame of road lines or "
               "the path of an OSM XML / GraphML road extract or of a layer of road lines "
               "(netopt.distance.load_road_network); distance='euclidean' is straight line")


# ----------------------------------------------------------------------------- straight line

def nearest_site(demand_xy: np.ndarray, site_xy: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distance (metres) to and index of the nearest `k` sites for every demand point (planar metres)."""
    if len(site_xy) == 0:
        shape = (len(demand_xy),) if k == 1 else (len(demand_xy), k)
        return np.full(shape, np.inf), np.full(shape, -1)
    dist, idx = cKDTree(site_xy).query(demand_xy, k=min(k, len(site_xy)))
    return np.asarray(dist, float), np.asarray(idx, int)


def pairs_within(demand_xy: np.ndarray, site_xy: np.ndarray, cutoff_m: float) -> sp.csr_matrix:
    """Sparse demand x site matrix of planar distances (metres) for the pairs within `cutoff_m`.

    Every stored entry is a pair within the cutoff; a distance of exactly 0 is kept as an explicit zero,
    so test reach with the stored pattern (`.indices`, `.nnz`, `.tocoo()`), not with `!= 0`.
    """
    shape = (len(demand_xy), len(site_xy))
    if shape[0] == 0 or shape[1] == 0:
        return sp.csr_matrix(shape)
    pairs = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(site_xy), cutoff_m, output_type="ndarray")
    return _csr(pairs["i"], pairs["j"], pairs["v"], shape)


def _csr(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    matrix = sp.csr_matrix((values, (rows, cols)), shape=shape)
    matrix.sort_indices()
    return matrix


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)])


def nearest_lonlat(points_lonlat: np.ndarray, site_lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Great-circle metres to and index of each point's nearest site, for lon/lat points anywhere (a country's
    span: no projection), found with a KD-tree on the unit sphere."""
    if len(site_lonlat) == 0:
        return np.full(len(points_lonlat), np.inf), np.full(len(points_lonlat), -1)
    chord, idx = cKDTree(_unit_vectors(site_lonlat[:, 0], site_lonlat[:, 1])).query(
        _unit_vectors(points_lonlat[:, 0], points_lonlat[:, 1]))
    return 2 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord, float) / 2, 0.0, 1.0)), np.asarray(idx, int)


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres between lon/lat points (element-wise)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def haversine_pairs_within(demand_lonlat: np.ndarray, site_lonlat: np.ndarray, cutoff_m: float) -> sp.csr_matrix:
    """Like `pairs_within`, for lon/lat input: great-circle metres, found with a KD-tree on the unit sphere."""
    shape = (len(demand_lonlat), len(site_lonlat))
    if shape[0] == 0 or shape[1] == 0:
        return sp.csr_matrix(shape)
    chord = 2 * np.sin(min(cutoff_m / EARTH_RADIUS_M, np.pi) / 2)
    a = cKDTree(_unit_vectors(demand_lonlat[:, 0], demand_lonlat[:, 1]))
    b = cKDTree(_unit_vectors(site_lonlat[:, 0], site_lonlat[:, 1]))
    pairs = a.sparse_distance_matrix(b, chord * (1 + 1e-12), output_type="ndarray")
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.clip(pairs["v"] / 2, 0.0, 1.0))
    keep = metres <= cutoff_m
    return _csr(pairs["i"][keep], pairs["j"][keep], metres[keep], shape)


# ----------------------------------------------------------------------------- road network

@dataclass
class RoadNetwork:
    """A road graph as sparse matrices (metres, seconds), with node positions for snapping points."""

    length_m: sp.csr_matrix
    drive_s: sp.csr_matrix
    node_ids: np.ndarray
    node_xy: np.ndarray  # metres, in `crs`
    crs: object
    source: str = "road network"
    notes: tuple[str, ...] = ()  # what its source asks to check, e.g. a road layer in unconnected pieces

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    def __repr__(self) -> str:
        origin = "" if self.source == "road network" else f", from {self.source}"
        return f"RoadNetwork({self.n_nodes:,} nodes, {self.length_m.nnz:,} road links{origin})"

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node index and straight-line distance (metres) to it, for points in the network's CRS."""
        dist, idx = cKDTree(self.node_xy).query(xy)
        return np.asarray(idx, int), np.asarray(dist, float)

    def weights(self, mode: str, walk_speed_kmh: float = WALKING_SPEED_KMH) -> sp.csr_matrix:
        """Edge costs in seconds for a travel mode: "drive" (road speeds, one-way streets one way) or "walk"
        (`walk_speed_kmh` on lengths, every street both ways)."""
        if mode == "drive":
            return self.drive_s
        if mode == "walk":
            return _both_ways(self.length_m) * (3.6 / walk_speed_kmh)
        raise InputError(f"unknown travel mode '{mode}'; use 'drive' or 'walk'", file="road network")


def load_road_network(path: str | os.PathLike, crs: object = None,
                      highway_speeds_kmh: dict[str, float] | None = None,
                      fallback_speed_kmh: float = DEFAULT_FALLBACK_SPEED_KMH, coords: str = "wgs84",
                      split_at_crossings: bool = False) -> RoadNetwork:
    """Load an OSM XML (.osm, .osm.bz2) or GraphML file offline and turn it into a RoadNetwork — or a layer of
    road lines (Shapefile, GeoPackage, GeoJSON; roads.road_network_from_lines), in `coords` (gcj02 for roads
    from Amap; OSM and GraphML extracts are wgs84), joined where they cross with `split_at_crossings`."""
    if Path(path).name.lower().endswith(ROAD_LINE_SUFFIXES):
        from netopt.roads import read_road_lines

        return read_road_lines(path, crs=crs, highway_speeds_kmh=highway_speeds_kmh,
                               fallback_speed_kmh=fallback_speed_kmh, coords=coords,
                               split_at_crossings=split_at_crossings)
    moved = normalize_coord_system(coords) != "wgs84"
    if moved or split_at_crossings:
        said = f"in wgs84, not {coords}" if moved else "a graph, split already"
        raise InputError(f"an OSM or GraphML extract is {said}: a coordinate system and split_at_crossings are for "
                         "a layer of road lines (.shp, .gpkg, .geojson)", file=str(path))
    graph = _read_graph(Path(path))
    return road_network_from_graph(graph, crs=crs, highway_speeds_kmh=highway_speeds_kmh,
                                   fallback_speed_kmh=fallback_speed_kmh, source=str(path))


def _read_graph(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    if not path.exists():
        raise InputError("road network file does not exist", file=str(path))
    name = path.name.lower()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name.endswith(".graphml"):
                return ox.load_graphml(path)
            if name.endswith(OSM_SUFFIXES):
                return ox.graph_from_xml(path, retain_all=True)
    except Exception as exc:  # osmnx/xml parse errors of many kinds
        raise InputError(f"cannot read the road network ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
                         file=str(path)) from None
    raise InputError("unsupported road network file; use OSM XML (.osm, .osm.bz2), GraphML (.graphml) or a layer "
                     f"of road lines ({', '.join(ROAD_LINE_SUFFIXES)})", file=str(path))


def road_network_from_graph(graph: nx.MultiDiGraph, crs: object = None,
                            highway_speeds_kmh: dict[str, float] | None = None,
                            fallback_speed_kmh: float = DEFAULT_FALLBACK_SPEED_KMH,
                            source: str = "road network") -> RoadNetwork:
    """Build sparse length/time matrices from an osmnx graph (lon/lat nodes 'x', 'y'; edges 'length')."""
    from netopt.projection import to_metres, utm_crs

    if graph.number_of_nodes() == 0:
        raise InputError("the road network has no nodes", file=source)
    if graph.number_of_edges() == 0:  # every place would be more than 500 m from it: 'by road' would be straight line
        count = graph.number_of_nodes()
        raise InputError(f"the road network has no roads ({count} junction{'s' if count > 1 else ''}, no links): is "
                         "it the extract meant, with its ways?", file=source)
    node_ids = np.array(list(graph.nodes))
    lon = np.array([graph.nodes[n]["x"] for n in node_ids], float)
    lat = np.array([graph.nodes[n]["y"] for n in node_ids], float)
    crs = crs or utm_crs(float(np.mean(lon)), float(np.mean(lat)))
    x, y = to_metres(lon, lat, crs)
    position = {n: i for i, n in enumerate(node_ids)}
    speeds = dict(DEFAULT_HIGHWAY_SPEEDS_KMH, **(highway_speeds_kmh or {}))
    rows, cols, lengths, seconds = [], [], [], []
    for u, v, data in graph.edges(data=True):
        length = float(data.get("length", 0.0))
        rows.append(position[u])
        cols.append(position[v])
        lengths.append(length)
        seconds.append(length / (_edge_speed_kmh(data, speeds, fallback_speed_kmh) / 3.6))
    shape = (len(node_ids), len(node_ids))
    length_m = min_matrix(rows, cols, lengths, shape)
    return RoadNetwork(length_m, min_matrix(rows, cols, seconds, shape), node_ids, np.column_stack([x, y]), crs,
                       source, pieces_note(length_m))


def pieces_note(length_m: sp.csr_matrix, advice: str = "") -> tuple[str, ...]:
    """A note when a road network falls apart — how many pieces, the largest one's share of the road length, and
    `advice` — when that share is under 90 %; else none."""
    from scipy.sparse.csgraph import connected_components

    count, piece = connected_components(length_m, directed=False)
    links = length_m.tocoo()
    metres = np.bincount(piece[links.row], weights=links.data, minlength=count)
    share = metres.max() / metres.sum() if metres.sum() > 0 else 1.0
    if share >= 0.9:
        return ()
    return (f"The road network falls into {count:,} unconnected pieces, the largest holding {share:.0%} of the road "
            f"length: places on different pieces reach each other only off the roads{advice}.",)


def _edge_speed_kmh(data: dict, speeds: dict[str, float], fallback: float) -> float:
    highway = data.get("highway")
    kinds = highway if isinstance(highway, list) else [highway]
    known = [speeds[k] for k in kinds if k in speeds]
    return float(np.mean(known)) if known else fallback


def _both_ways(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """A directed edge matrix with each edge also the other way (the shorter where both exist): on foot."""
    edges = matrix.tocoo()
    return min_matrix(np.r_[edges.row, edges.col], np.r_[edges.col, edges.row], np.r_[edges.data, edges.data],
                       matrix.shape)


def min_matrix(rows: list[int], cols: list[int], values: list[float], shape: tuple[int, int]) -> sp.csr_matrix:
    """Sparse matrix keeping the smallest value of parallel edges (csr would add them up)."""
    r, c, v = np.asarray(rows), np.asarray(cols), np.asarray(values, float)
    order = np.lexsort((v, c, r))
    r, c, v = r[order], c[order], v[order]
    first = np.ones(len(r), bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    # an explicit zero-length edge must stay an edge: csgraph treats stored zeros as absent, so nudge them
    values = np.maximum(v[first], 1e-9)
    return sp.csr_matrix((values, (r[first], c[first])), shape=shape)


def _with_site_legs(weights: sp.csr_matrix, site_nodes: np.ndarray, site_legs: np.ndarray) -> sp.csr_matrix:
    """The reversed graph plus one virtual node per site, joined to the site's node by its access leg."""
    n, k = weights.shape[0], len(site_nodes)
    reverse = weights.T.tocoo()
    rows = np.concatenate([reverse.row, n + np.arange(k)])
    cols = np.concatenate([reverse.col, site_nodes])
    vals = np.concatenate([reverse.data, np.maximum(site_legs, 1e-9)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n + k, n + k))


def network_nearest(weights: sp.csr_matrix, demand_nodes: np.ndarray, site_nodes: np.ndarray,
                    site_legs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each demand node: cost to the nearest site (travelling demand -> site) and that site's index.

    One multi-source Dijkstra on the reversed graph, all sites at once; `site_legs` is each site's cost
    from its own node (e.g. the walk from the road to the door), added exactly.
    """
    if len(site_nodes) == 0:
        return np.full(len(demand_nodes), np.inf), np.full(len(demand_nodes), -1)
    legs = np.zeros(len(site_nodes)) if site_legs is None else np.asarray(site_legs, float)
    n = weights.shape[0]
    graph = _with_site_legs(weights, np.asarray(site_nodes), legs)
    dist, _, source = dijkstra(graph, indices=n + np.arange(len(site_nodes)), min_only=True,
                               return_predecessors=True)
    nearest = np.where(source[demand_nodes] >= n, source[demand_nodes] - n, -1)
    return dist[demand_nodes], nearest


def network_pairs_within(weights: sp.csr_matrix, demand_nodes: np.ndarray, site_nodes: np.ndarray,
                         limit: float, site_legs: np.ndarray | None = None, chunk: int = 256) -> sp.csr_matrix:
    """Sparse demand x site matrix of network costs (demand -> site, incl. site legs) within `limit`.

    Dijkstra from the sites on the reversed graph, `chunk` sites at a time, each bounded by `limit`:
    memory is chunk x nodes, never demand x sites.
    """
    legs = np.zeros(len(site_nodes)) if site_legs is None else np.asarray(site_legs, float)
    reverse = weights.T.tocsr()
    shape = (len(demand_nodes), len(site_nodes))
    rows, cols, vals = [], [], []
    for start in range(0, len(site_nodes), chunk):
        block = slice(start, start + chunk)
        budget = limit - legs[block]
        dist = dijkstra(reverse, indices=site_nodes[block], limit=max(float(budget.max()), 0.0))
        dist = dist[:, demand_nodes] + legs[block, None]
        site_i, demand_i = np.nonzero(dist <= limit)
        rows.append(demand_i)
        cols.append(site_i + start)
        vals.append(dist[site_i, demand_i])
    if not rows:
        return sp.csr_matrix(shape)
    return _csr(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), shape)


# ----------------------------------------------------------------------------- reach: km and minutes

@dataclass
class TravelSettings:
    """How distances become reach: straight line or road network, travel mode and speeds."""

    distance: str = "euclidean"  # "euclidean" | "network"
    mode: str = "drive"  # "drive" | "walk"
    speed_kmh: float = 30.0  # straight-line travel time estimates and road access legs when driving
    detour_factor: float = 1.3  # road distance / straight-line distance where no road network applies
    max_snap_m: float = DEFAULT_MAX_SNAP_M  # farther than this from any road node = outside the network
    walk_speed_kmh: float = WALKING_SPEED_KMH  # walking, on the roads and off them

    def access_speed_kmh(self) -> float:
        """The speed of the legs to and from the road (walking or driving, as the mode), km/h."""
        return self.walk_speed_kmh if self.mode == "walk" else self.speed_kmh

    def road_weights(self, net: RoadNetwork) -> sp.csr_matrix:
        """The network's edge seconds for this travel mode (walking at this walking speed)."""
        return net.weights(self.mode, self.walk_speed_kmh)


@dataclass
class Reach:
    """For each demand point: its nearest site, the km and minutes to it, and how many sites are within its limit."""

    nearest: np.ndarray
    nearest_km: np.ndarray
    nearest_min: np.ndarray
    count_within: np.ndarray
    method: np.ndarray  # per demand point: how its distances were measured


STRAIGHT = "straight line"
ROAD = "road network"


TRAVEL_MODES = ("drive", "walk")


def checked_modes(mode, rows: int, file: str = "model") -> np.ndarray:
    """The travel mode of each of `rows` demand points: `mode` one for all ("drive" or "walk") or one per point
    (e.g. walking in the core, driving in the counties: coverage.demand_modes); an InputError naming a mode that is
    neither."""
    modes = np.full(rows, mode, dtype=object) if isinstance(mode, str) else np.asarray(mode, dtype=object)
    if modes.shape != (rows,):
        hint = (": a mode per region type becomes one per demand point with netopt.coverage.demand_modes(ds, mode, "
                "demand)" if isinstance(mode, dict) else "")
        raise InputError(f"mode must be 'drive' or 'walk', or one per demand point ({rows}), got {mode!r}"[:200] + hint,
                         file=file)
    unknown = sorted({str(m) for m in modes} - set(TRAVEL_MODES))
    if unknown:
        raise InputError(f"unknown travel mode {', '.join(map(repr, unknown))}; use 'drive' or 'walk'", file=file)
    return modes


def travel_groups(travel: TravelSettings, modes: np.ndarray, speed_kmh=None) -> list[tuple[TravelSettings, np.ndarray]]:
    """The demand points that travel alike, as (their TravelSettings, their positions): the drivers of each driving
    speed (`speed_kmh` one per point, e.g. one per region type; travel.speed_kmh for all where None), then the
    walkers."""
    drive = np.broadcast_to(np.asarray(travel.speed_kmh if speed_kmh is None else speed_kmh, float), modes.shape)
    driving = modes == "drive"
    groups = [(replace(travel, mode="drive", speed_kmh=float(speed)), np.flatnonzero(driving & (drive == speed)))
              for speed in np.unique(drive[driving])]
    walkers = np.flatnonzero(modes == "walk")
    return groups + ([(replace(travel, mode="walk"), walkers)] if len(walkers) else [])


def demand_travel(distance: str, mode, rows: int, speed_kmh=30.0, walk_speed_kmh: float = WALKING_SPEED_KMH,
                  detour_factor: float = 1.3, file: str = "model") -> list[tuple[TravelSettings, np.ndarray]]:
    """travel_groups of `rows` demand points from a model's keywords: `mode` and the driving `speed_kmh` each one or
    one per point, the walking speed and the detour factor one each; an InputError naming any that is wrong."""
    modes = checked_modes(mode, rows, file)
    check_speeds(speed_kmh, walk_speed_kmh, detour_factor, rows, file)
    travel = TravelSettings(distance=distance, detour_factor=float(detour_factor), walk_speed_kmh=float(walk_speed_kmh))
    return travel_groups(travel, modes, speed_kmh)


def check_speeds(speed_kmh, walk_speed_kmh, detour_factor, rows: int | None, file: str) -> None:
    """An InputError unless the driving speed is a number of km/h above 0 (without `rows`, one or one per region
    type, {"core": 20, "county": 40}; with `rows`, one or `rows` of them, one per demand point), the walking speed
    one such number and the detour factor (road km per straight-line km) a number of at least 1."""
    from netopt._errors import is_number

    if rows is None and isinstance(speed_kmh, dict):
        for speed in speed_kmh.values():
            _check_speed(speed, "speed_kmh", file)
    elif rows is None or is_number(speed_kmh) or speed_kmh is None or isinstance(speed_kmh, (str, bool)):
        _check_speed(speed_kmh, "speed_kmh", file)
    else:
        try:
            speeds = np.asarray(speed_kmh, dtype=float)
        except (TypeError, ValueError):
            speeds = None
        if speeds is None or speeds.shape != (rows,):
            hint = (": a speed per region type becomes one per demand point with netopt.coverage.demand_speeds(ds, "
                    "speed_kmh, demand)" if isinstance(speed_kmh, dict) else "")
            raise InputError(f"speed_kmh must be a number of km/h, or one per demand point ({rows}); got "
                             f"{speed_kmh!r}"[:200] + hint, file=file)
        bad = np.flatnonzero(~(np.isfinite(speeds) & (speeds > 0)))
        if len(bad):
            raise InputError(f"speed_kmh must be a number of km/h above 0 for every demand point: demand point "
                             f"{bad[0]} has {float(speeds[bad[0]])!r}", file=file)
    _check_speed(walk_speed_kmh, "walk_speed_kmh", file)
    if not (is_number(detour_factor) and np.isfinite(detour_factor) and detour_factor >= 1):
        raise InputError(f"detour_factor (road km per straight-line km) must be a number of at least 1, got "
                         f"{detour_factor!r}", file=file)


def _check_speed(value, name: str, file: str) -> None:
    """An InputError unless `value` is a number of km/h above 0 (None is no speed)."""
    from netopt._errors import check_amount

    if value is None:
        raise InputError(f"{name} must be a number of km/h, above 0; got None", file=file)
    check_amount(value, name, file, "km/h")


def measure_reach_by_travel(demand_xy: np.ndarray, site_xy: np.ndarray, limits: np.ndarray, unit: str,
                            groups: list[tuple[TravelSettings, np.ndarray]], network: RoadNetwork | None) -> Reach:
    """measure_reach with each demand point's own travel (`groups`, travel_groups): the points that travel alike
    measured together, the results put back in order."""
    if len(groups) == 1:
        return measure_reach(demand_xy, site_xy, limits, unit, groups[0][0], network)
    n = len(demand_xy)
    whole = Reach(np.full(n, -1), np.full(n, np.inf), np.full(n, np.inf), np.zeros(n, int),
                  np.full(n, "", dtype=object))
    for travel, rows in groups:
        part = measure_reach(demand_xy[rows], site_xy, limits[rows], unit, travel, network)
        for name in ("nearest", "nearest_km", "nearest_min", "count_within", "method"):
            getattr(whole, name)[rows] = getattr(part, name)
    return whole


def measure_reach(demand_xy: np.ndarray, site_xy: np.ndarray, limits: np.ndarray | float, unit: str,
                  travel: TravelSettings, network: RoadNetwork | None = None) -> Reach:
    """Nearest site and the number of sites within each demand point's limit (`unit` "km" or "min").

    Points are planar metres. Memory stays linear in the number of points: nothing demand x site is built.
    """
    if unit not in ("km", "min"):
        raise ValueError(f"unit must be 'km' or 'min', not {unit!r}")
    limits = np.broadcast_to(np.asarray(limits, float), (len(demand_xy),))
    if travel.distance == "euclidean":
        return _straight_reach(demand_xy, site_xy, limits, unit, travel, detour=1.0)
    if travel.distance != "network":
        raise InputError(f"distance must be 'euclidean' or 'network', not '{travel.distance}'", file="analysis")
    if network is None:
        raise InputError(NEEDS_GRAPH, file="analysis")
    return _network_reach(demand_xy, site_xy, limits, unit, travel, network)


def cost_factors(travel: TravelSettings, unit: str) -> tuple[float, float, float]:
    """How a cost in `unit` ("km" or "min") is counted, in the road weights' units (metres, or seconds of
    travel.mode): those units per km or per minute; per metre of access leg (at the mode's speed); per metre of
    straight line where a pair has no road (x the detour factor, but for km by straight line)."""
    per_unit = 1000.0 if unit == "km" else 60.0
    leg = 1.0 if unit == "km" else 3.6 / travel.access_speed_kmh()
    straight = leg * (travel.detour_factor if unit == "min" or travel.distance != "euclidean" else 1.0)
    return per_unit, leg, straight


def _minutes_per_metre(travel: TravelSettings, detour: float) -> float:
    return detour / travel.access_speed_kmh() * 60.0 / 1000.0


def _straight_metres(limits: np.ndarray, unit: str, travel: TravelSettings, detour: float) -> np.ndarray:
    """The straight-line distance (metres) that each limit allows."""
    return limits * 1000.0 / detour if unit == "km" else limits / _minutes_per_metre(travel, travel.detour_factor)


def count_within(demand_xy: np.ndarray, site_xy: np.ndarray, radius_m: np.ndarray) -> np.ndarray:
    """How many sites lie within each demand point's own radius (metres), without building pairs."""
    if len(site_xy) == 0 or len(demand_xy) == 0:
        return np.zeros(len(demand_xy), int)
    return np.asarray(cKDTree(site_xy).query_ball_point(demand_xy, r=radius_m, return_length=True), int)


def _straight_reach(demand_xy: np.ndarray, site_xy: np.ndarray, limits: np.ndarray, unit: str,
                    travel: TravelSettings, detour: float) -> Reach:
    """Straight-line reach; km are straight-line km x `detour`; minutes use the detour factor and speed."""
    dist, idx = nearest_site(demand_xy, site_xy)
    counts = count_within(demand_xy, site_xy, _straight_metres(limits, unit, travel, detour))
    label = STRAIGHT if detour == 1.0 else f"{STRAIGHT} x {detour:g} (outside the road network)"
    to_min = _minutes_per_metre(travel, travel.detour_factor)
    return Reach(idx, dist * detour / 1000.0, dist * to_min, counts, np.full(len(demand_xy), label, dtype=object))


ELSEWHERE_KM = 10.0  # every point farther than this from the roads: the network is of another place


def snap_both(net: RoadNetwork, demand_xy: np.ndarray, site_xy: np.ndarray,
              max_snap_m: float = DEFAULT_MAX_SNAP_M) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each demand point's and site's nearest road node and its distance (metres) to it; an InputError when every
    demand point or every site lies more than ELSEWHERE_KM from the roads: a network of another place."""
    d_node, d_snap = net.snap(demand_xy)
    s_node, s_snap = net.snap(site_xy)
    far_m = max(max_snap_m, ELSEWHERE_KM * 1000.0)
    for what, snap in (("demand points (towns)", d_snap), ("sites (branches)", s_snap)):
        if len(snap) and snap.min() > far_m:
            raise InputError(f"none of the {len(snap):,} {what} lies within {far_m / 1000.0:g} km of its roads (the "
                             f"nearest {snap.min() / 1000.0:,.1f} km away): a road network of another place? Nothing "
                             "would be measured by road; give the study area's network, or straight-line distances",
                             file=net.source)
    return d_node, d_snap, s_node, s_snap


def _network_reach(demand_xy: np.ndarray, site_xy: np.ndarray, limits: np.ndarray, unit: str,
                   travel: TravelSettings, net: RoadNetwork) -> Reach:
    """Road costs where both ends lie on the network; straight line x detour for any pair that does not.

    nearest_km is the road distance to the closest site, nearest_min the travel time to the quickest one
    (each from one multi-source Dijkstra); `nearest` follows the unit of the limit.
    """
    d_node, d_snap, s_node, s_snap = snap_both(net, demand_xy, site_xy, travel.max_snap_m)
    d_in, s_in = d_snap <= travel.max_snap_m, s_snap <= travel.max_snap_m
    to_s = 3.6 / travel.access_speed_kmh()  # seconds per metre of access leg
    reach = _straight_reach(demand_xy, site_xy, limits, unit, travel, detour=travel.detour_factor)
    inside = np.flatnonzero(d_in)
    for weights, leg, per_unit, target, kind in ((net.length_m, 1.0, 1000.0, reach.nearest_km, "km"),
                                                  (travel.road_weights(net), to_s, 60.0, reach.nearest_min, "min")):
        cost, site = _network_nearest_part(weights, d_node[d_in], s_node[s_in], d_snap[d_in] * leg,
                                           s_snap[s_in] * leg, s_in)
        off_cost, off_site = _off_network_nearest(demand_xy[d_in], site_xy, ~s_in, travel, kind)
        use_road = cost / per_unit <= off_cost
        target[inside] = np.where(use_road, cost / per_unit, off_cost)
        if kind == unit:
            reach.nearest[inside] = np.where(use_road, site, off_site)
    reach.method = np.where(d_in, ROAD, reach.method).astype(object)
    weights, leg, per_unit = (net.length_m, 1.0, 1000.0) if unit == "km" else (travel.road_weights(net), to_s, 60.0)
    road = network_count_within(weights, d_node[d_in], s_node[s_in], limits[d_in] * per_unit - d_snap[d_in] * leg,
                                site_legs=s_snap[s_in] * leg)
    off_sites = count_within(demand_xy[d_in], site_xy[~s_in],
                             _straight_metres(limits[d_in], unit, travel, travel.detour_factor))
    reach.count_within[inside] = road + off_sites
    return reach


def network_count_within(weights: sp.csr_matrix, demand_nodes: np.ndarray, site_nodes: np.ndarray,
                         budgets: np.ndarray, site_legs: np.ndarray | None = None, chunk: int = 256) -> np.ndarray:
    """How many sites each demand node reaches within its own budget (network cost incl. site legs).

    Dijkstra from the sites on the reversed graph, `chunk` sites at a time, bounded by the largest budget;
    memory is chunk x nodes.
    """
    counts = np.zeros(len(demand_nodes), int)
    if len(site_nodes) == 0 or len(demand_nodes) == 0 or budgets.max() < 0:
        return counts
    legs = np.zeros(len(site_nodes)) if site_legs is None else np.asarray(site_legs, float)
    reverse = weights.T.tocsr()
    for start in range(0, len(site_nodes), chunk):
        block = slice(start, start + chunk)
        dist = dijkstra(reverse, indices=site_nodes[block], limit=float(budgets.max()))
        counts += ((dist[:, demand_nodes] + legs[block, None]) <= budgets[None, :]).sum(axis=0)
    return counts


def _network_nearest_part(weights: sp.csr_matrix, demand_nodes: np.ndarray, site_nodes: np.ndarray,
                          demand_legs: np.ndarray, site_legs: np.ndarray, site_in: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cost, local = network_nearest(weights, demand_nodes, site_nodes, site_legs)
    return cost + demand_legs, _global_index(np.flatnonzero(site_in), local)


def _off_network_nearest(demand_xy: np.ndarray, site_xy: np.ndarray, site_out: np.ndarray, travel: TravelSettings,
                         unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Nearest off-network site by straight line x detour, in `unit` (inf when there is none)."""
    dist, local = nearest_site(demand_xy, site_xy[site_out])
    metres = dist * travel.detour_factor
    cost = metres / 1000.0 if unit == "km" else metres / 1000.0 / travel.access_speed_kmh() * 60.0
    return cost, _global_index(np.flatnonzero(site_out), local)


def _global_index(index: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Map indices into a subset (-1 = none) back to indices into the full set."""
    if len(index) == 0:
        return np.full(len(local), -1)
    return np.where(local >= 0, index[np.clip(local, 0, len(index) - 1)], -1)


def checked_points(frame, role: str) -> None:
    """An InputError naming `role` unless `frame` is a GeoDataFrame of points with a coordinate system."""
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"must be a GeoDataFrame of points, got {type(frame).__name__}", file=role)
    if len(frame) == 0:
        raise InputError("has no rows", file=role)
    if frame.crs is None:
        raise InputError("has no coordinate system: set one, e.g. frame.set_crs(4326) for WGS84 lon/lat",
                         file=role)
    empty = np.flatnonzero(frame.geometry.isna().to_numpy() | frame.geometry.is_empty.to_numpy())
    if len(empty):
        raise InputError(Problem(role, "has no point", column="geometry", rows=tuple(int(i) for i in empty)))


def check_distance(distance: str, file: str) -> None:
    """An InputError unless `distance` is "euclidean" (straight line) or "network" (by road)."""
    if not isinstance(distance, str) or distance not in ("euclidean", "network"):
        raise InputError(f"distance must be 'euclidean' or 'network', not '{distance}'", file=file)


def checked_model_inputs(demand, sites, distance: str, graph) -> None:
    """InputErrors, in the user's terms, for GeoDataFrames and distance settings a model cannot use."""
    for role, frame in (("demand", demand), ("candidates", sites)):
        checked_points(frame, role)
    check_distance(distance, "model")
    if distance == "network" and graph is None:
        raise InputError(NEEDS_GRAPH, file="model")


def spacing_pairs(sites, min_km: float) -> np.ndarray:
    """The pairs of rows of a GeoDataFrame of sites closer than `min_km` to each other (straight line), as a
    (k, 2) array of row positions: the `too_close` rule of a minimum spacing 网点间距."""
    from netopt._errors import is_number
    from netopt.projection import metric_crs, xy_metres

    if not (is_number(min_km) and np.isfinite(min_km) and min_km > 0):
        raise InputError(f"min_spacing_km must be a positive number of km, got {min_km!r}", file="model")
    checked_points(sites, "candidates")
    xy = xy_metres(sites, metric_crs(sites))
    pairs = cKDTree(xy).query_pairs(min_km * 1000.0, output_type="ndarray").astype(int)
    apart = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) if len(pairs) else np.zeros(0)
    return pairs[apart < min_km * 1000.0].reshape(-1, 2)


# demand x site pairs of a dense distance matrix (8 bytes each); a p-median or p-center built on it takes 30-40 bytes
# a pair (196,090 grid cells x 618 sites: 3.5 and 4.9 GB; 1.18 million cells: a MemoryError after 100 s)
DENSE_PAIRS_LIMIT = 250_000_000


def check_dense_pairs(n_demand: int, n_sites: int) -> None:
    """An InputError, before any work, for a dense distance matrix of more than DENSE_PAIRS_LIMIT pairs."""
    if n_demand * n_sites <= DENSE_PAIRS_LIMIT:
        return
    raise InputError(f"every distance between {n_demand:,} demand points and {n_sites:,} sites is "
                     f"{n_demand * n_sites:,} pairs, more than a model on one machine holds (DENSE_PAIRS_LIMIT "
                     f"{DENSE_PAIRS_LIMIT:,}; p-median and p-center take 30-40 bytes a pair): use fewer demand points "
                     "(a coarser population grid) or fewer candidate sites, or raise "
                     "netopt.distance.DENSE_PAIRS_LIMIT to try anyway", file="model")


def cost_matrix_km(demand, sites, distance: str = "euclidean", graph=None, detour_factor: float = 1.3) -> np.ndarray:
    """Dense demand x site distances in km between two GeoDataFrames (straight line or road network; straight line
    x `detour_factor` for a pair off the roads).

    For models that need every pair (p-median, p-center, capacitated location); memory is n x m floats, refused
    beyond DENSE_PAIRS_LIMIT pairs.
    """
    travel = demand_travel(distance, "drive", 1, detour_factor=detour_factor)[0][0]
    return _cost_matrix(demand, sites, graph, "km", travel)


def cost_matrix_minutes(demand, sites, distance: str = "euclidean", graph=None, mode="drive", speed_kmh=30.0,
                        walk_speed_kmh: float = WALKING_SPEED_KMH, detour_factor: float = 1.3) -> np.ndarray:
    """Dense demand x site travel times in minutes, `mode` "drive" or "walk" and the driving `speed_kmh` each one
    or one per demand point, measured as analyze_coverage(radius_min=...) measures them (see cost_blocks); refused
    beyond DENSE_PAIRS_LIMIT pairs."""
    groups = demand_travel(distance, mode, len(demand), speed_kmh, walk_speed_kmh, detour_factor)
    if len(groups) <= 1:
        return _cost_matrix(demand, sites, graph, "min", groups[0][0] if groups else TravelSettings(distance))
    out = np.empty((len(demand), len(sites)))
    for travel, rows in groups:
        out[rows] = _cost_matrix(demand.iloc[rows], sites, graph, "min", travel)
    return out


def _cost_matrix(demand, sites, graph, unit: str, travel: TravelSettings) -> np.ndarray:
    check_dense_pairs(len(demand), len(sites))
    if travel.distance == "euclidean":  # one block of every site: no second copy
        return next(_cost_blocks(demand, sites, max(len(sites), 1), graph, unit, travel))[1]
    out = np.empty((len(demand), len(sites)))
    for columns, cost in _cost_blocks(demand, sites, NETWORK_SITES_AT_A_TIME, graph, unit, travel):
        out[:, columns] = cost
    return out


NETWORK_SITES_AT_A_TIME = 256  # sites whose shortest-path trees are grown in one scipy dijkstra call


def cost_blocks(demand, sites, step: int, distance: str = "euclidean", graph=None, unit: str = "km",
                mode: str = "drive", speed_kmh: float = 30.0, walk_speed_kmh: float = WALKING_SPEED_KMH,
                detour_factor: float = 1.3):
    """Demand x site costs `step` sites at a time, as (the sites' slice, demand x those sites), the points
    projected (and snapped to the roads) once: km (`unit` "km"), or travel minutes ("min", `mode` "drive" or
    "walk") as the diagnosis measures them — road time at the roads' speeds plus the legs to and from the road at
    the mode's speed (`speed_kmh` driving, `walk_speed_kmh` walking), straight line x `detour_factor` at that speed
    where a pair has no road. For sums over many sites that need not hold the whole matrix, e.g. the competitors'
    pull on every cell of a population grid."""
    travel = demand_travel(distance, mode, 1, speed_kmh, walk_speed_kmh, detour_factor)[0][0]
    return _cost_blocks(demand, sites, step, graph, unit, travel)


def minute_blocks(demand, sites, step: int, distance: str = "euclidean", graph=None, mode="drive", speed_kmh=30.0,
                  walk_speed_kmh: float = WALKING_SPEED_KMH, detour_factor: float = 1.3):
    """cost_blocks in travel minutes with `mode` and the driving `speed_kmh` each one or one per demand point (one
    per region type's points): the points that travel alike measured together, as (their rows, the sites' slice,
    those rows x those sites)."""
    for travel, rows in demand_travel(distance, mode, len(demand), speed_kmh, walk_speed_kmh, detour_factor):
        for columns, minutes in _cost_blocks(demand.iloc[rows], sites, step, graph, "min", travel):
            yield rows, columns, minutes


def travel_blocks(demand, sites, step: int, distance: str = "euclidean", graph=None, timed: dict | None = None):
    """(demand rows, the sites' slice, those rows x those sites): km by cost_blocks, every row at once; or with
    `timed` (minute_blocks' mode and speeds) travel minutes by minute_blocks."""
    if timed is not None:
        yield from minute_blocks(demand, sites, step, distance, graph, **timed)
        return
    for columns, km in cost_blocks(demand, sites, step, distance, graph):
        yield slice(None), columns, km


def _cost_blocks(demand, sites, step: int, graph, unit: str, travel: TravelSettings):
    """cost_blocks for one TravelSettings."""
    from scipy.spatial.distance import cdist

    from netopt.projection import metric_crs, xy_metres

    checked_model_inputs(demand, sites, travel.distance, graph)
    per_unit, leg, straight = cost_factors(travel, unit)
    per_metre, straight = leg / per_unit, straight / per_unit  # off the roads: km or minutes a metre
    net = None if travel.distance == "euclidean" else as_road_network(graph)
    crs = metric_crs(demand, sites) if net is None else net.crs
    demand_xy, site_xy = xy_metres(demand, crs), xy_metres(sites, crs)
    if net is not None:
        d_node, d_snap, s_node, s_snap = snap_both(net, demand_xy, site_xy)
        reverse = (net.length_m if unit == "km" else travel.road_weights(net)).T.tocsr()
    for start in range(0, len(sites), step):
        columns = slice(start, start + step)
        if net is None:
            yield columns, cdist(demand_xy, site_xy[columns]) * straight
            continue
        cost = (dijkstra(reverse, indices=s_node[columns])[:, d_node] / per_unit
                + s_snap[columns, None] * per_metre).T + d_snap[:, None] * per_metre
        off = (d_snap > DEFAULT_MAX_SNAP_M)[:, None] | (s_snap[columns] > DEFAULT_MAX_SNAP_M)[None, :]
        if off.any():  # outside the network: straight line x detour, as the diagnosis does
            cost[off] = (cdist(demand_xy, site_xy[columns]) * straight)[off]
        yield columns, cost


def as_road_network(graph) -> "RoadNetwork":
    """A RoadNetwork from what a user gave: a RoadNetwork, an osmnx/networkx graph, a GeoDataFrame of road lines
    or a file path."""
    import geopandas as gpd

    if isinstance(graph, RoadNetwork):
        return graph
    if isinstance(graph, gpd.GeoDataFrame):
        from netopt.roads import road_network_from_lines

        return road_network_from_lines(graph)
    return road_network_from_graph(graph) if isinstance(graph, nx.Graph) else load_road_network(graph)
