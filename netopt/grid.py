"""Population grids: each town's population spread over its area (its polygon, or its Voronoi cell in its county)."""
from __future__ import annotations

import hashlib
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from netopt._errors import InputError, is_number
from netopt.io import Dataset, first_few
from netopt.projection import metric_crs

GRID_METHOD = "apportioned: town population spread evenly over the town's area ({area}) and cut by {grid}"
# square cells made at once (population_grid, or one tile): Hefei's 1.18 million 0.1 km cells took 2.8 GB
MAX_GRID_CELLS = 3_000_000
MAX_TILED_CELLS = 100_000_000  # in all, tile by tile (about 80 min at the 1.18 million cells a minute measured)


def expected_cells(areas: gpd.GeoDataFrame, cell_km: float) -> int:
    """About how many cells population_grid makes of town areas (town_areas) — a little more (4-40 % on the
    sample): each town's area over the cell's, its perimeter over the cell's side, and one."""
    side_m = cell_km * 1000.0
    return int(np.ceil((areas.area / side_m ** 2 + areas.length / side_m + 1).sum()))


def town_areas(ds: Dataset, crs: object = None) -> gpd.GeoDataFrame:
    """Each town as a polygon in a metric CRS, in the towns' order: its own polygon, or its Voronoi cell within its
    county."""
    if ds.counties.geometry.isna().any():
        raise InputError("a population grid needs county boundaries (the counties table has none)", file="counties")
    crs = metric_crs(ds.counties) if crs is None else _metres_crs(crs)
    towns = ds.towns.to_crs(crs)
    counties = ds.counties.to_crs(crs).set_index("name")
    if towns.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        return towns
    by_position = towns.reset_index(drop=True)  # the towns' own labels may repeat
    cells = pd.concat([_voronoi_in_county(group, counties.geometry[county])
                       for county, group in by_position.groupby(_county_lain_in(by_position, counties))]).sort_index()
    return gpd.GeoDataFrame(cells.set_axis(towns.index[cells.index.to_numpy()]), crs=crs)


def _county_lain_in(towns: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> pd.Series:
    """The county (`counties`, indexed by name) whose boundary each town's point lies in: its own, or another's
    where the divisions moved it since (老洲镇, listed under 枞阳县, lies in 郊区 on today's boundaries: its cell
    in 枞阳县 would be empty, its residents lost) —; its own where it lies in none."""
    points = gpd.GeoDataFrame(geometry=towns.geometry.representative_point(), crs=towns.crs)
    inside = points.sjoin(counties[["geometry"]], predicate="within", how="left")
    return inside.loc[~inside.index.duplicated(), counties.index.name].fillna(towns["county"])


def _metres_crs(crs: object) -> CRS:
    """`crs` as a pyproj CRS, or an InputError unless it is a projected system in metres (cells are km)."""
    try:
        given = CRS.from_user_input(crs)
    except (CRSError, TypeError, ValueError):
        given = None
    if given is None or not given.is_projected or given.axis_info[0].unit_name not in ("metre", "meter"):
        raise InputError(f"crs must be a projected coordinate system in metres, e.g. EPSG:32650 (UTM 50N), got "
                         f"{crs!r:.60}", file="population_grid")
    return given


def _voronoi_in_county(towns: gpd.GeoDataFrame, county: shapely.Geometry) -> gpd.GeoDataFrame:
    out = towns.copy()
    out.geometry = voronoi_cells(np.asarray(towns.geometry.representative_point()), county)
    return out


def voronoi_cells(points: np.ndarray, boundary: shapely.Geometry) -> list[shapely.Geometry]:
    """Each of `points`' (shapely points) part of `boundary`: the area nearer it than any other (its Voronoi cell,
    泰森多边形), clipped to the boundary; an empty polygon for a point on no cell's inside. Remembered for the
    last VORONOI_KEPT sets of points and boundaries: a plan's diagnoses before and after cut the same towns, and
    the same branches in every county the plan leaves as it was."""
    key = hashlib.blake2b(b"".join([*shapely.to_wkb(np.asarray(points, dtype=object)), b"|",
                                    shapely.to_wkb(boundary)]), digest_size=16).digest()
    with _VORONOI_LOCK:
        cells = _VORONOI.get(key)
    if cells is None:
        cells = _clipped_voronoi(np.asarray(points, dtype=object), boundary)
        with _VORONOI_LOCK:  # a script's own threads may share it
            _VORONOI[key] = cells
            if len(_VORONOI) > VORONOI_KEPT:
                _VORONOI.pop(next(iter(_VORONOI)))
    return list(cells)


VORONOI_SNAP_M = 0.01  # points (metres) closer than this are one point of the Voronoi diagram
VORONOI_KEPT = 64  # sets of Voronoi cells voronoi_cells remembers (a county's towns, or its branches' places)
_VORONOI: dict[bytes, list[shapely.Geometry]] = {}
_VORONOI_LOCK = threading.Lock()


def _clipped_voronoi(points: np.ndarray, boundary: shapely.Geometry) -> list[shapely.Geometry]:
    """voronoi_cells' cells, made: each region holding a point (on its inside) clipped to the boundary; points
    within VORONOI_SNAP_M of each other share theirs (two a hair apart made GEOS fail: side location conflict)."""
    if len(points) == 1:
        return [boundary]
    regions = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(list(points)), tolerance=VORONOI_SNAP_M,
                                                         extend_to=boundary))
    at, region = shapely.STRtree(regions).query(points, predicate="within")
    cells = np.array([shapely.Polygon()] * len(points), dtype=object)
    cells[at] = shapely.intersection(regions[region], boundary)
    return list(cells)


def residents_in(zones: gpd.GeoSeries, areas: gpd.GeoDataFrame) -> np.ndarray:
    """The residents within each of `zones` (distinct polygons) from `areas`' `population`, in the same metric CRS:
    an area's spread evenly over it, as population_grid spreads a town's (a point's wholly in the zone holding it,
    shared among those whose edge it is on)."""
    zone_shapes, shapes = zones.to_numpy(), areas.geometry.to_numpy()
    people, whole = areas["population"].to_numpy(float), shapely.area(shapes)
    tree = shapely.STRtree(zone_shapes)
    inside, home = tree.query(shapes, predicate="within")  # most: wholly in one zone, no cutting
    across = np.setdiff1d(np.arange(len(shapes)), inside)
    at, zone = tree.query(shapes[across], predicate="intersects")
    at = across[at]
    share = 1.0 / np.bincount(at, minlength=len(shapes))[at]
    cut = whole[at] > 0
    share[cut] = shapely.area(shapely.intersection(shapes[at[cut]], zone_shapes[zone[cut]])) / whole[at[cut]]
    in_zones = np.bincount(home, weights=people[inside], minlength=len(zone_shapes))
    return in_zones + np.bincount(zone, weights=people[at] * share, minlength=len(zone_shapes))


def population_grid(ds: Dataset, cell_km: float = 1.0, crs: object = None,
                    h3_resolution: int | None = None) -> gpd.GeoDataFrame:
    """Demand cells: a square grid of `cell_km` km (or H3 hexagons of `h3_resolution`), each cell cut by
    county and town areas, with population.

    A town's population is spread evenly over its area (its polygon, or the part of its county nearer to it
    than to any other town of that county); every cell carries town_id, county and region type of the town
    part it comes from, so county totals are kept exactly. Returns WGS84 polygons.
    """
    if h3_resolution is None and not (is_number(cell_km) and np.isfinite(cell_km) and cell_km > 0):
        raise InputError("cell_km must be a positive number of kilometres", file="population_grid")
    areas = town_areas(ds, crs)
    has_area = areas.area > 0
    without_area, areas = areas[~has_area], areas[has_area].copy()
    areas["town_area"] = areas.area
    if h3_resolution is None:
        check_grid_size(areas.total_bounds, cell_km, MAX_GRID_CELLS, "at once; use a larger --grid-km / cell_km "
                        "or tiles (netopt analyze --tile-km 10, netopt.tiles.tiled_grid_coverage)")
        grid = _square_grid(areas.total_bounds, cell_km * 1000.0, areas.crs)
    else:
        grid = _hex_grid(areas, h3_resolution)
    keep = ["town_id", "name", "county", "county_id", "region_type", "population", "town_area", "geometry"]
    pieces = gpd.overlay(areas[keep], grid, how="intersection", keep_geom_type=True)
    pieces["population"] = pieces["population"] * pieces.area / pieces["town_area"]
    how = "its polygon" if ds.towns.geom_type.isin(["Polygon", "MultiPolygon"]).all() else \
        "its Voronoi cell within its county"
    grid_name = f"a {cell_km:g} km grid" if h3_resolution is None else f"H3 (resolution {h3_resolution}) cells"
    pieces["population_method"] = GRID_METHOD.format(area=how, grid=grid_name)
    pieces = pieces.drop(columns=["town_area"]).rename(columns={"name": "town"})
    grid = pieces[pieces["population"] > 0].reset_index(drop=True).to_crs(4326)
    grid.attrs[LEFT_OUT] = _left_out_note(without_area)
    return grid


LEFT_OUT = "towns_left_out"  # the grid's attrs key: the note on the towns it could give no area, "" for none


def _left_out_note(towns: gpd.GeoDataFrame) -> str:
    """What the grid left out: the towns with no area in their county (their points outside its boundary and
    every other), and their residents."""
    if towns.empty:
        return ""
    which = "1 town" if len(towns) == 1 else f"{len(towns)} towns"
    return (f"{which} ({towns['population'].sum() / 1e4:,.2f}万 residents) {'has' if len(towns) == 1 else 'have'} no "
            f"area in any county's boundary, lying outside them ({first_few(towns['name'])}): left out of the grid — "
            "check their points, or the counties' boundaries.")


def check_grid_size(bounds, cell_km: float, most: int, advice: str) -> None:
    """An InputError when a square grid of `cell_km` over `bounds` (metres) has more than `most` cells, with the
    smallest cell that stays within it."""
    width_km, height_km = (bounds[2] - bounds[0]) / 1000.0, (bounds[3] - bounds[1]) / 1000.0
    cells = np.ceil(width_km / cell_km) * np.ceil(height_km / cell_km)
    if cells > most:
        smallest = np.ceil(np.sqrt(width_km * height_km / most) * 100.0) / 100.0
        raise InputError(f"a {cell_km:g} km grid over {width_km:,.0f} x {height_km:,.0f} km has {cells:,.0f} cells, "
                         f"more than {most:,} {advice} (cells of {smallest:g} km or more fit)", file="grid")


def _check_hexagons(h3, area_km2: float, resolution: int) -> None:
    """An InputError when H3 hexagons of `resolution` over `area_km2` are more than MAX_GRID_CELLS, naming the
    finest resolution that stays within it (resolution 12 over Hefei: 37 million cells, hours)."""
    cells = area_km2 / h3.average_hexagon_area(resolution, unit="km^2")
    if cells <= MAX_GRID_CELLS:
        return
    fits = [r for r in range(resolution) if area_km2 / h3.average_hexagon_area(r, unit="km^2") <= MAX_GRID_CELLS]
    raise InputError(f"H3 resolution {resolution} over {area_km2:,.0f} km² is about {cells:,.0f} cells, more than "
                     f"{MAX_GRID_CELLS:,} at once (resolution {max(fits, default=0)} or coarser fits)", file="grid")


def _square_grid(bounds: np.ndarray, size_m: float, crs: object) -> gpd.GeoDataFrame:
    """Square cells of `size_m` over `bounds`, made together (column by column), named by their column and row."""
    minx, miny, maxx, maxy = bounds
    xs = np.arange(np.floor(minx / size_m) * size_m, maxx, size_m)
    ys = np.arange(np.floor(miny / size_m) * size_m, maxy, size_m)
    x, y = (grid.ravel() for grid in np.meshgrid(xs, ys, indexing="ij"))
    column, row = np.floor_divide(x, size_m).astype(np.int64), np.floor_divide(y, size_m).astype(np.int64)
    ids = np.char.add(np.char.add(column.astype(str), "_"), row.astype(str))
    return gpd.GeoDataFrame({"cell_id": ids.astype(object)}, geometry=shapely.box(x, y, x + size_m, y + size_m),
                            crs=crs)


def _h3_package():
    """The h3 package, or a clear error saying how to install it."""
    try:
        import h3
    except ImportError:
        raise InputError("H3 cells need the h3 package: pip install 'netopt[h3]'", file="population_grid") from None
    return h3


def hexagon_km(resolution: int) -> float:
    """The side of a square as large as an H3 hexagon of that resolution, on average (km): for expected_cells."""
    return float(np.sqrt(_h3_package().average_hexagon_area(int(resolution), unit="km^2")))


def _hex_grid(areas: gpd.GeoDataFrame, resolution: int) -> gpd.GeoDataFrame:
    """H3 hexagons covering the areas (their union buffered by two cell edges, so no edge is left uncovered)."""
    h3 = _h3_package()
    if not isinstance(resolution, (int, np.integer)) or not 0 <= resolution <= 15:
        raise InputError("h3_resolution must be a whole number from 0 to 15", file="population_grid")
    edge_m = h3.average_hexagon_edge_length(int(resolution), unit="m")
    union = areas.union_all().buffer(2 * edge_m)
    _check_hexagons(h3, union.area / 1e6, int(resolution))
    # simplified within half an edge (a cell is kept when its centre is inside): H3 fills it 5x faster
    cover = gpd.GeoSeries([union.simplify(edge_m / 2)], crs=areas.crs).to_crs(4326).iloc[0]
    cells = sorted(h3.geo_to_cells(cover.__geo_interface__, int(resolution)))
    return gpd.GeoDataFrame({"cell_id": cells}, geometry=_hexagons(h3, cells), crs=4326).to_crs(areas.crs)


def _hexagons(h3, cells: list[str]) -> np.ndarray:
    """The cells' polygons (lon, lat), made together for each vertex count (6; the 12 pentagons of a level, 5)."""
    rings = [h3.cell_to_boundary(cell) for cell in cells]
    polygons = np.empty(len(cells), dtype=object)
    sizes = np.array([len(ring) for ring in rings])
    for size in np.unique(sizes):
        at = np.flatnonzero(sizes == size)
        polygons[at] = shapely.polygons(np.array([rings[i] for i in at])[:, :, ::-1])  # (lat, lon) → (lon, lat)
    return polygons
