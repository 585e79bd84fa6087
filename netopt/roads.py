"""Road networks from line layers (Shapefile, GeoPackage, GeoJSON or a GeoDataFrame of roads), e.g. a city's own."""
from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from netopt._errors import InputError, Problem, check_amount
from netopt._paths import gdal_path
from netopt.distance import (DEFAULT_FALLBACK_SPEED_KMH, DEFAULT_HIGHWAY_SPEEDS_KMH, RoadNetwork, min_matrix,
                             pieces_note)

# road classes as Chinese data names them (国标 道路等级 and common city classes), km/h as driven in a city region
CHINESE_ROAD_SPEEDS_KMH = {
    "高速公路": 80, "高速": 80, "城市快速路": 60, "快速路": 60, "国道": 50, "省道": 45, "县道": 35, "乡道": 25,
    "村道": 15, "主干路": 40, "主干道": 40, "次干路": 30, "次干道": 30, "支路": 20, "街巷": 10, "其他道路": 15,
}
SPEED_COLUMNS = ("maxspeed", "speed", "speed_kmh", "限速", "速度", "设计速度", "车速")
CLASS_COLUMNS = ("highway", "fclass", "class", "kind", "type", "道路等级", "等级", "道路类型", "类型", "路段等级")
ONEWAY_COLUMNS = ("oneway", "one_way", "单行", "单向", "是否单行")
FORWARD = {"yes", "true", "1", "f", "ft", "是", "单行", "正向"}  # drawn direction only
BACKWARD = {"-1", "t", "tf", "reverse", "逆向", "反向"}  # against the drawn direction only (Geofabrik's T)
SNAP_M = 0.5  # line ends closer than this are one junction
KEEP_EVERY_M = 100.0  # a road's pass-through vertices kept about this far apart, so places find the road near them
SPLIT_ADVICE = (" — are its lines cut where roads meet? split_at_crossings=True (--network-split) joins them wherever "
                "they cross")


def road_network_from_lines(lines, crs: object = None, highway_speeds_kmh: dict[str, float] | None = None,
                            fallback_speed_kmh: float = DEFAULT_FALLBACK_SPEED_KMH, coords: str = "wgs84",
                            split_at_crossings: bool = False, source: str = "road lines") -> RoadNetwork:
    """A RoadNetwork from a GeoDataFrame of road lines: each line a chain of links between its vertices, lines
    joined where their vertices meet (within SNAP_M; lines that cross without a shared vertex — a bridge over a
    road — do not join). Driving speed per line: a speed column (maxspeed, 限速 …, km/h), else its road class
    (highway/fclass as OpenStreetMap names them, or 道路等级: 高速公路, 国道, 主干路 …; `highway_speeds_kmh`
    overrides), else `fallback_speed_kmh`. A oneway column (yes/F: the drawn direction, -1/T: against it;
    单行 是) makes driving one way; walking goes both ways. `coords`: the system of lon/lat lines (gcj02 for
    roads from Amap). `split_at_crossings`: lines are also joined wherever they cross (for a layer whose lines
    were drawn across each other without a vertex at the junction; bridges then join what they cross). A
    network in unconnected pieces, the largest holding under 90 % of the road length, says so in `notes` (the
    diagnosis's notes too)."""
    from netopt.coords import normalize_coord_system
    from netopt.projection import utm_crs

    lines = _checked_lines(lines, source)
    class_speeds = {**DEFAULT_HIGHWAY_SPEEDS_KMH, **CHINESE_ROAD_SPEEDS_KMH, **(highway_speeds_kmh or {})}
    for name, kmh in {**class_speeds, "fallback_speed_kmh": fallback_speed_kmh}.items():
        check_amount(kmh, f"the speed of {name}", source, "km/h", required=True)
    wgs84 = _in_wgs84(lines.geometry, normalize_coord_system(coords))
    west, south, east, north = wgs84.total_bounds
    crs = crs or utm_crs((west + east) / 2.0, (south + north) / 2.0)
    metric = wgs84.to_crs(crs)
    if split_at_crossings:
        metric = _split_at_crossings(metric)
    u, v, metres, line, node_xy = _links(metric)
    line_kmh = _line_speeds(lines, class_speeds)
    kmh = np.where(np.isnan(line_kmh), fallback_speed_kmh, line_kmh)
    length_m, drive_s = _driven(u, v, metres, kmh[line], *(way[line] for way in _directions(lines)), len(node_xy))
    length_m, drive_s, node_xy = contract_chains(length_m, drive_s, node_xy)
    return RoadNetwork(length_m, drive_s, np.arange(len(node_xy)), node_xy, crs, source,
                       pieces_note(length_m, "" if split_at_crossings else SPLIT_ADVICE)
                       + _speeds_note(lines, line_kmh, fallback_speed_kmh))


def _driven(u: np.ndarray, v: np.ndarray, metres: np.ndarray, kmh: np.ndarray, ahead: np.ndarray, back: np.ndarray,
            nodes: int) -> tuple:
    """The metres and driving seconds of each link the ways it may be driven: u to v where `ahead`, v to u where
    `back` (the shortest of parallel links)."""
    rows, cols = np.r_[u[ahead], v[back]], np.r_[v[ahead], u[back]]
    length = np.r_[metres[ahead], metres[back]]
    seconds = length / (np.r_[kmh[ahead], kmh[back]] / 3.6)
    return min_matrix(rows, cols, length, (nodes, nodes)), min_matrix(rows, cols, seconds, (nodes, nodes))


def contract_chains(length_m: sp.csr_matrix, drive_s: sp.csr_matrix, node_xy: np.ndarray,
                    keep_every_m: float = KEEP_EVERY_M) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """The road graph with most of its pass-through vertices taken out (a surveyed layer has one every few
    metres): each chain of vertices with two neighbours — driven both ways alike, or one way through — keeps
    one vertex in each `keep_every_m` square it passes (a place beside the road still finds it near), and the
    links between kept vertices become one, its metres and seconds summed, so every shortest path between kept
    vertices stays what it was; a chain looping back to the junction it left goes (no shortest path takes it), a
    closed ring without a junction stays. Routing then visits a fraction of the vertices."""
    undirected = ((length_m + length_m.T) > 0).astype(np.int8).tocsr()
    through = _pass_through(length_m, drive_s, undirected)
    through[_first_in_each_square(undirected, through, node_xy, keep_every_m)] = False
    chain = np.full(len(node_xy), -1)
    chain[through] = _chain_labels(undirected, through)
    links = length_m.tocoo()
    seconds = np.asarray(drive_s[links.row, links.col]).ravel()  # each link's, in the same order
    rows, cols, metres, times, rings = _merged_links(links.row, links.col, links.data, seconds, chain)
    keep = (chain < 0) | rings
    number = np.cumsum(keep) - 1
    shape = (int(keep.sum()),) * 2
    return (min_matrix(number[rows], number[cols], metres, shape), min_matrix(number[rows], number[cols], times, shape),
            node_xy[keep])


def _first_in_each_square(undirected: sp.csr_matrix, through: np.ndarray, node_xy: np.ndarray,
                          size_m: float) -> np.ndarray:
    """The first pass-through vertex of each chain in each `size_m` square, to keep."""
    squares = np.floor(node_xy[through] / size_m).astype(np.int64)
    _, first = np.unique(np.column_stack([_chain_labels(undirected, through), squares]), axis=0, return_index=True)
    return np.flatnonzero(through)[first]


def _chain_labels(undirected: sp.csr_matrix, through: np.ndarray) -> np.ndarray:
    """The chain (connected run of `through` vertices) each `through` vertex belongs to, numbered from 0."""
    return connected_components(undirected[through][:, through], directed=False)[1]


def _merged_links(row: np.ndarray, col: np.ndarray, metres: np.ndarray, seconds: np.ndarray, chain: np.ndarray
                  ) -> tuple[np.ndarray, ...]:
    """The links once each chain (`chain`: its number by vertex, -1 off every chain) is one link between its ends
    (both ways for a two-way chain: half the metres and seconds of all its links each way), with the links off
    every chain and those of closed rings as they were; and the vertices of those rings, which stay."""
    count = int(chain.max()) + 1
    on = np.maximum(chain[row], chain[col])  # the chain a link belongs to, -1 for none
    ends = _chain_ends(row, col, chain, count)
    rings = np.isin(chain, np.flatnonzero(ends[:, 0] < 0))
    two_way = np.bincount(on[on >= 0], minlength=count) >= 2 * (np.bincount(chain[chain >= 0], minlength=count) + 1)
    share = np.where(two_way, 0.5, 1.0)  # both directions were summed
    length = np.bincount(on[on >= 0], weights=metres[on >= 0], minlength=count) * share
    time = np.bincount(on[on >= 0], weights=seconds[on >= 0], minlength=count) * share
    old = (on < 0) | rings[row] | rings[col]
    merged = np.flatnonzero((ends[:, 0] >= 0) & (ends[:, 0] != ends[:, 1]))  # not a loop back to its junction
    back = merged[two_way[merged]]
    return (np.r_[row[old], ends[merged, 0], ends[back, 1]], np.r_[col[old], ends[merged, 1], ends[back, 0]],
            np.r_[metres[old], length[merged], length[back]], np.r_[seconds[old], time[merged], time[back]], rings)


def _chain_ends(row: np.ndarray, col: np.ndarray, chain: np.ndarray, count: int) -> np.ndarray:
    """Each chain's two end vertices, the junctions or dead ends its links reach outside it: a one-way chain's
    from, then to; a two-way chain's (entered from both) the lower numbered first; -1 for a closed ring."""
    entering = (chain[row] < 0) & (chain[col] >= 0)
    leaving = (chain[row] >= 0) & (chain[col] < 0)
    first, last = np.full(count, np.iinfo(np.int64).max), np.full(count, -1)
    np.minimum.at(first, chain[col[entering]], row[entering])
    np.maximum.at(last, chain[col[entering]], row[entering])
    ends = np.column_stack([np.where(last >= 0, first, -1), np.full(count, -1)])
    ends[chain[row[leaving]], 1] = col[leaving]
    entered_twice = (last >= 0) & (first != last)
    ends[entered_twice, 1] = last[entered_twice]
    return ends


def _pass_through(length_m: sp.csr_matrix, drive_s: sp.csr_matrix, undirected: sp.csr_matrix) -> np.ndarray:
    """The vertices with exactly two neighbours that a route only passes through: driven both ways to both alike
    (the same metres and seconds each way), or in from one and out to the other."""
    out_degree, in_degree = np.diff(length_m.tocsr().indptr), np.diff(length_m.T.tocsr().indptr)
    neighbours = np.diff(undirected.indptr) - undirected.diagonal().astype(int)
    differing = ((abs(length_m - length_m.T) > 1e-9) + (abs(drive_s - drive_s.T) > 1e-9)).tocsr()
    alike = np.diff(differing.indptr) == 0  # no link of the vertex differs from its reverse
    both_ways = (neighbours == 2) & (out_degree == 2) & (in_degree == 2) & alike
    one_way = (neighbours == 2) & (out_degree == 1) & (in_degree == 1)
    return both_ways | one_way


def _split_at_crossings(lines: gpd.GeoSeries) -> gpd.GeoSeries:
    """The lines cut wherever any two cross or touch, each piece indexed by the row of the line it lies on."""
    noded = shapely.get_parts(shapely.node(shapely.union_all(lines.values)))
    middles = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    owner = lines.sindex.nearest(middles, return_all=False)[1]
    return gpd.GeoSeries(noded, index=lines.index.to_numpy()[owner], crs=lines.crs)


def _links(lines: gpd.GeoSeries) -> tuple[np.ndarray, ...]:
    """The links between consecutive vertices of metric lines: their junctions u and v (vertices within SNAP_M
    are one), length (m), the row of `lines` each lies on, and each junction's x/y."""
    parts = lines.explode(index_parts=False)
    xy, part = shapely.get_coordinates(parts.values, return_index=True)
    _, first, node = np.unique(np.round(xy / SNAP_M).astype(np.int64), axis=0, return_index=True,
                               return_inverse=True)
    node = node.ravel()
    link = (part[1:] == part[:-1]) & (node[1:] != node[:-1])  # consecutive vertices of one part, apart
    metres = np.hypot(*(xy[1:] - xy[:-1])[link].T)
    return node[:-1][link], node[1:][link], metres, parts.index.to_numpy()[part[:-1][link]], xy[first]


def _checked_lines(lines, source: str) -> gpd.GeoDataFrame:
    """`lines` with positional rows, or an InputError: not a GeoDataFrame, no rows, features that are not lines."""
    if not isinstance(lines, gpd.GeoDataFrame) or lines.active_geometry_name is None:
        raise InputError(f"road lines are a GeoDataFrame of LineStrings (a Shapefile, GeoPackage or GeoJSON of "
                         f"roads), not {type(lines).__name__}", file=source)
    if len(lines) == 0:
        raise InputError("the road layer has no features", file=source)
    kinds = lines.geometry.geom_type.to_numpy()
    bad = ~np.isin(kinds, ["LineString", "MultiLineString"]) | lines.geometry.is_empty.to_numpy()
    if bad.any():
        shown = ", ".join(sorted({str(k) for k in kinds[bad]}))
        raise InputError(Problem(source, f"road features must be lines, not {shown} (or empty)", "geometry",
                                 tuple(int(i) + 1 for i in np.flatnonzero(bad)), "feature"))
    lines = lines.reset_index(drop=True)
    if lines.crs is None:
        west, south, east, north = lines.total_bounds
        if not (-180 <= west and east <= 180 and -90 <= south and north <= 90):
            raise InputError("the road layer has no coordinate system (CRS) and its coordinates are not "
                             "longitude/latitude; save it with its CRS", file=source)
        lines = lines.set_crs(4326)
    return lines


def _in_wgs84(geometry: gpd.GeoSeries, system: str) -> gpd.GeoSeries:
    """The lines in WGS84: reprojected by their CRS, then moved from GCJ-02 or BD-09 where `system` says so."""
    from netopt.coords import to_wgs84

    wgs84 = geometry.to_crs(4326)
    if system == "wgs84":
        return wgs84
    moved = shapely.transform(wgs84.values, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], system)))
    return gpd.GeoSeries(moved, index=wgs84.index, crs=4326)


def _column(lines: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    """The first column of `lines` named one of `names` (case and spaces aside)."""
    by_name = {str(c).strip().lower(): c for c in lines.columns if c != lines.geometry.name}
    return next((by_name[n] for n in names if n in by_name), None)


def _line_speeds(lines: pd.DataFrame, class_speeds: dict[str, float]) -> np.ndarray:
    """km/h per line: its speed column where above 0, else its road class's speed, else NaN (not known)."""
    kmh = np.full(len(lines), np.nan)
    by_class = _column(lines, CLASS_COLUMNS)
    if by_class is not None:
        known = {k.lower(): v for k, v in class_speeds.items()}
        kmh = np.array([_class_speed(value, known) for value in lines[by_class]], float)
    by_speed = _column(lines, SPEED_COLUMNS)
    if by_speed is not None:
        given = pd.to_numeric(lines[by_speed].astype(str).str.extract(r"(\d+(?:\.\d+)?)")[0], errors="coerce")
        given = given.to_numpy(float) * np.where(lines[by_speed].astype(str).str.contains("mph"), 1.609, 1.0)
        kmh = np.where(given > 0, given, kmh)
    return kmh


def _speeds_note(lines: pd.DataFrame, kmh: np.ndarray, fallback: float) -> tuple[str, ...]:
    """A note on the lines no speed column or known class gives a speed: how many, their classes, the speed."""
    unknown = np.isnan(kmh)
    if not unknown.any():
        return ()
    by_class = _column(lines, CLASS_COLUMNS)
    if by_class is None:
        said = "the layer has no speed or road class column (e.g. 限速 or 道路等级)"
    else:
        counts = lines.loc[unknown, by_class].astype(str).value_counts()
        said = f"{by_class} not known: " + ", ".join(f"{name} ({count:,})" for name, count in counts.head(5).items())
    return (f"{int(unknown.sum()):,} of {len(lines):,} road lines are driven at the fallback {fallback:g} km/h — "
            f"{said}; give their speeds with highway_speeds_kmh={{class: km/h}} or a speed column.",)


def _class_speed(value, known: dict[str, float]) -> float:
    """The mean speed of the road classes a cell names (one, or a list such as ['primary', 'secondary']), NaN
    when it names none known."""
    words = re.findall(r"[a-z_]+|[\u4e00-\u9fff]+", str(value).lower())
    speeds = [known[w] for w in words if w in known]
    return float(np.mean(speeds)) if speeds else np.nan


def _directions(lines: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per line, whether cars go the drawn direction and whether against it (both, unless a oneway column says
    one of them)."""
    both = np.ones(len(lines), bool)
    column = _column(lines, ONEWAY_COLUMNS)
    if column is None:
        return both, both.copy()
    said = lines[column].map(lambda v: str(v).strip().lower() if not isinstance(v, bool) else str(v).lower())
    return (~said.isin(BACKWARD)).to_numpy(), (~said.isin(FORWARD)).to_numpy()


def read_road_lines(path, layer: str | None = None, **options) -> RoadNetwork:
    """road_network_from_lines of a file of road lines (Shapefile, GeoPackage, GeoJSON; `layer` of a
    GeoPackage, by default its first layer of lines — the edges of osmnx's save_graph_geopackage), read offline;
    `options` as road_network_from_lines takes them."""
    from pathlib import Path

    from netopt.io import read_gis_file

    file = str(path)
    if not Path(file).exists():
        raise InputError("road network file does not exist", file=file)
    return road_network_from_lines(read_gis_file(Path(file), layer or _line_layer(file)), source=file, **options)


def _line_layer(file: str) -> str | None:
    """The first layer of lines in a file of several (a GeoPackage of nodes and edges), else None (its only one or
    one GDAL cannot list: read_gis_file says why)."""
    import pyogrio

    try:
        with gdal_path(file) as reachable:
            layers = pyogrio.list_layers(reachable)
    except Exception:  # pyogrio's DataSourceError and friends
        return None
    lines = [str(name) for name, kind in layers if kind and "LineString" in str(kind)]
    return lines[0] if len(layers) > 1 and lines else None
