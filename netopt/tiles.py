"""Grid coverage of very large cities, tile by tile: cells are made and measured per tile, so memory stays bounded."""
from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from netopt._cluster import dask_client, map_tasks
from netopt._errors import InputError, check_amount, check_count, check_kind
from netopt.distance import count_within, nearest_site
from netopt.grid import GRID_METHOD, MAX_GRID_CELLS, MAX_TILED_CELLS, _square_grid, check_grid_size, town_areas
from netopt.io import Dataset, require_pyarrow, write_atomic
from netopt.projection import metric_crs, xy_metres

AREA_COLUMNS = ["town_id", "name", "county", "county_id", "region_type", "county_region_type", "population",
                "town_area", "geometry"]
GROUP_COLUMNS = ["county_id", "county", "region_type"]


@dataclass
class TileTask:
    """One tile's inputs: its box, the town areas that touch it, and what to measure against."""

    key: str
    bounds: tuple[float, float, float, float]
    areas: gpd.GeoDataFrame
    cell_m: float
    branch_xy: np.ndarray
    measure_crs: object
    reach: dict[str, tuple[float, float]]  # _kinds of a town's and its county's region type: km allowed, min per km
    timed: bool  # the limit a travel time: the cells also say their time limit
    full: dict[str, float] | None = None  # gradual coverage: each kind's straight-line km wholly covered within


@dataclass
class TiledCoverage:
    """Grid coverage gathered from every tile: by county and by region type, and where the cells were written."""

    by_county: pd.DataFrame
    by_region: pd.DataFrame
    cells: int
    tiles: int
    cell_files: list[Path] = field(default_factory=list)

    def __repr__(self) -> str:
        people = float(self.by_region["population"].sum())
        rate = f"{100 * float(self.by_region['covered_population'].sum()) / people:.1f}%" if people > 0 else "—"
        if "covered_by_distance" in self.by_region and people > 0:
            rate += f" ({100 * float(self.by_region['covered_by_distance'].sum()) / people:.1f}% by distance)"
        written = f"; cells written to {len(self.cell_files):,} files" if self.cell_files else ""
        return (f"TiledCoverage({self.cells:,} population cells in {self.tiles:,} tiles, {people / 1e4:,.1f}万人; "
                f"covered {rate}{written})")


def tiled_grid_coverage(ds: Dataset, radius_km: dict[str, float] | float | None = None, cell_km: float = 1.0,
                        tile_km: float = 20.0, scheduler: str | None = "serial", workers: int | None = None,
                        client=None, cells_dir: str | os.PathLike | None = None,
                        radius_min: dict[str, float] | float | None = None, mode: str | dict[str, str] = "drive",
                        full_km: dict[str, float] | float | None = None,
                        full_min: dict[str, float] | float | None = None, **speeds) -> TiledCoverage:
    """Coverage of `population_grid(ds, cell_km)` within `radius_km` of the branches (straight line), computed per
    square tile; or within a travel time, `radius_min` with `mode` and the speeds (speed_kmh, walk_speed_kmh,
    detour_factor), each one or per region type, as analyze_coverage takes them; with `full_km` (or `full_min`)
    gradual coverage 按距离折算 too, covered_by_distance and coverage_by_distance_pct as analyze_coverage counts them.

    Gives the same populations and covered populations as analyze_coverage(ds, radius_km,
    demand=population_grid(ds, cell_km)) (or its radius_min=…), but never holds more than one tile's cells per
    task: for cities of millions of cells. scheduler: "serial" (default), None for a dask LocalCluster of
    `workers`, or a scheduler address; or pass a dask `client`. cells_dir: also write each tile's cells (Parquet,
    lon/lat of each cell's representative point, population, the straight-line km its limit allows (with a travel
    time, the limit too) and to its nearest branch, and the minutes to it at the cell's mode's speed, branches
    within its limit, covered and, with gradual coverage, covered_share) there.
    """
    from netopt.coverage import check_full

    check_full(full_km, full_min, radius_min is not None, "tiled_grid_coverage")
    if cells_dir is not None:
        require_pyarrow("each tile's cells")
    if workers is not None:
        check_count(workers, "workers", "tiled_grid_coverage")
    check_kind(scheduler, (str, type(None)), "scheduler is 'serial', None (a dask LocalCluster) or a scheduler's "
               "address", "tiled_grid_coverage")
    tasks = tile_tasks(ds, radius_km, cell_km, tile_km, radius_min, mode, full_km if radius_min is None else full_min,
                       **speeds)
    parts, files = [], []
    for key, cells in _tile_results(tasks, scheduler, workers, client):
        by_distance = {"covered_by_distance": ("covered_by_distance", "sum")} if "covered_by_distance" in cells else {}
        parts.append(cells.groupby(GROUP_COLUMNS, dropna=False).agg(
            population=("population", "sum"), covered_population=("covered_population", "sum"), **by_distance,
            cells=("population", "size")))
        if cells_dir is not None and len(cells):
            path = Path(cells_dir) / f"tile_{key}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            files.append(write_atomic(path, lambda p, cells=cells: cells.to_parquet(p, index=False)))
    totals = pd.concat(parts).groupby(level=GROUP_COLUMNS, dropna=False).sum()
    return TiledCoverage(_rates(totals.groupby(level=["county_id", "county"]).sum()),
                         _rates(totals.groupby(level="region_type").sum()), int(totals["cells"].sum()), len(tasks),
                         files)


def _rates(table: pd.DataFrame) -> pd.DataFrame:
    table = table.reset_index()
    table["population_wan"] = table["population"] / 1e4
    people = table["population"].replace(0, np.nan)
    table["coverage_rate_pct"] = 100.0 * table["covered_population"] / people
    if "covered_by_distance" in table:
        table["coverage_by_distance_pct"] = 100.0 * table["covered_by_distance"] / people
    return table


def tile_tasks(ds: Dataset, radius_km: dict[str, float] | float | None, cell_km: float, tile_km: float,
               radius_min: dict[str, float] | float | None = None, mode: str | dict[str, str] = "drive",
               full: dict[str, float] | float | None = None, **speeds) -> list[TileTask]:
    """Square tiles of a whole number of cells, aligned with population_grid's cells; one task per tile with towns,
    each knowing the straight-line km every kind of town's limit allows (_reach_by_kind) and, with gradual
    coverage's `full` radius (km, or minutes with radius_min), the km within which it is wholly covered."""
    check_amount(cell_km, "cell_km", "tiled_grid_coverage", "km", required=True)
    check_amount(tile_km, "tile_km", "tiled_grid_coverage", "km", required=True)
    if tile_km < cell_km:
        raise InputError(f"tile_km ({tile_km:g}) must be at least cell_km ({cell_km:g})", file="tiled_grid_coverage")
    areas = town_areas(ds)
    areas = areas[areas.area > 0].copy()
    areas["town_area"] = areas.area
    areas["county_region_type"] = areas["county"].map(dict(zip(ds.counties["name"], ds.counties["region_type"])))
    areas = areas[AREA_COLUMNS]
    cell_m = cell_km * 1000.0
    tile_m = max(1, round(tile_km / cell_km)) * cell_m
    minx, miny, maxx, maxy = areas.total_bounds
    check_grid_size(areas.total_bounds, cell_km, MAX_TILED_CELLS, "in all, even tile by tile; use a larger cell")
    check_grid_size((0.0, 0.0, tile_m, tile_m), cell_km, MAX_GRID_CELLS, "in one tile; use smaller tiles")
    crs = metric_crs(ds.counties, ds.branches)
    reach = _reach_by_kind(areas, radius_km, radius_min, mode, speeds)
    wholly = None if full is None else _wholly_by_kind(areas, full, radius_min is not None, mode, speeds)
    branch_xy = xy_metres(ds.branches, crs)
    tasks = []
    for tx in np.arange(math.floor(minx / tile_m) * tile_m, maxx, tile_m):
        for ty in np.arange(math.floor(miny / tile_m) * tile_m, maxy, tile_m):
            bounds = (tx, ty, min(tx + tile_m, maxx), min(ty + tile_m, maxy))
            touching = areas.iloc[areas.sindex.query(box(*bounds), predicate="intersects")]
            if len(touching):
                key = f"{int(tx // tile_m)}_{int(ty // tile_m)}"
                tasks.append(TileTask(key, bounds, touching, cell_m, branch_xy, crs, reach, radius_min is not None,
                                      wholly))
    return tasks


def _reach_by_kind(areas: gpd.GeoDataFrame, radius_km, radius_min, mode, speeds: dict) -> dict[str, tuple]:
    """For each kind of town (_kinds: its own and its county's region type): the straight-line km its limit allows
    and its minutes per km (coverage.straight_line_reach: the diagnosis's own reading of a limit, mode or speed
    per region type)."""
    from netopt.coverage import straight_line_reach

    kinds = areas[["region_type", "county_region_type"]].astype(object).drop_duplicates()
    found = straight_line_reach(kinds, radius_km, radius_min, mode, **speeds)
    return dict(zip(_kinds(found), zip(found["radius_km"], found["minutes_per_km"])))


def _wholly_by_kind(areas: gpd.GeoDataFrame, full, timed: bool, mode, speeds: dict) -> dict[str, float]:
    """For each kind of town (_kinds): the straight-line km within which gradual coverage counts it wholly covered
    — its `full` radius, or its full minutes at its mode's speed — as _reach_by_kind reads a limit; a full radius
    of 0 read as a millionth (straight_line_reach takes limits above 0; the shares differ by less than that)."""
    least = 1e-6
    positive = {kind: max(value, least) for kind, value in full.items()} if isinstance(full, dict) else max(full, least)
    reach = _reach_by_kind(areas, None if timed else positive, positive if timed else None, mode, speeds)
    return {kind: km for kind, (km, _) in reach.items()}


def _kinds(frame: pd.DataFrame) -> pd.Series:
    """Each row's own and county's region type as one key, "core/county" ("" where one is missing)."""
    own, county = (frame[c].astype(object).where(frame[c].notna(), "").astype(str)
                   for c in ("region_type", "county_region_type"))
    return (own + "/" + county).reset_index(drop=True)


def measure_tile(task: TileTask) -> pd.DataFrame:
    """The tile's population cells (as population_grid cuts them) with nearest branch and coverage."""
    grid = _square_grid(np.asarray(task.bounds), task.cell_m, task.areas.crs)
    pieces = gpd.overlay(task.areas, grid, how="intersection", keep_geom_type=True)
    pieces["population"] = pieces["population"] * pieces.area / pieces["town_area"]
    pieces = pieces[pieces["population"] > 0].to_crs(4326)
    if pieces.empty:
        return pd.DataFrame(columns=[*GROUP_COLUMNS, "population", "covered_population",
                                     *(["covered_by_distance"] if task.full is not None else [])])
    kinds = _kinds(pieces)
    limit = kinds.map({kind: km for kind, (km, _) in task.reach.items()}).to_numpy(float)
    per_km = kinds.map({kind: per for kind, (_, per) in task.reach.items()}).to_numpy(float)
    xy = xy_metres(pieces, task.measure_crs)
    distance_m, _ = nearest_site(xy, task.branch_xy)
    covered = distance_m / 1000.0 <= limit
    points = pieces.geometry.representative_point()
    minutes = {"time_limit_min": limit * per_km} if task.timed else {}
    minutes["nearest_branch_min"] = distance_m / 1000.0 * per_km  # at the cell's mode's speed, as analyze gives it
    gradual = {} if task.full is None else _by_distance(pieces["population"].to_numpy(), distance_m / 1000.0,
                                                         kinds.map(task.full).to_numpy(float), limit)
    return pd.DataFrame({
        "cell_id": pieces["cell_id"].to_numpy(), "town_id": pieces["town_id"].to_numpy(),
        **{c: pieces[c].to_numpy() for c in GROUP_COLUMNS},
        "lon": points.x.to_numpy(), "lat": points.y.to_numpy(), "population": pieces["population"].to_numpy(),
        "radius_km": limit, "nearest_branch_km": distance_m / 1000.0, **minutes,
        "branches_within_limit": count_within(xy, task.branch_xy, limit * 1000.0),
        "covered": covered, "covered_population": np.where(covered, pieces["population"].to_numpy(), 0.0), **gradual,
        "population_method": GRID_METHOD.format(area="its Voronoi cell within its county",
                                                grid=f"a {task.cell_m / 1000:g} km grid"),
    })


def _by_distance(population: np.ndarray, km: np.ndarray, full_km: np.ndarray, limit_km: np.ndarray) -> dict:
    """Gradual coverage of cells `km` from their nearest branch: their covered share (models._gradual's: 1 within
    their full km, falling linearly to 0 at their limit) and the residents it counts."""
    from netopt.models._gradual import covered_share

    share = covered_share(km, full_km, limit_km)
    return {"covered_share": share, "covered_by_distance": population * share}


def _tile_results(tasks: list[TileTask], scheduler: str | None, workers: int | None,
                  client) -> Iterator[tuple[str, pd.DataFrame]]:
    if client is None and scheduler == "serial":
        yield from ((t.key, measure_tile(t)) for t in tasks)
        return
    with dask_client(scheduler, workers, client) as active:
        yield from _on_client(active, tasks)


def _on_client(client, tasks: list[TileTask]) -> Iterator[tuple[str, pd.DataFrame]]:
    from dask.distributed import as_completed

    futures = map_tasks(client, measure_tile, tasks, [f"tile-{t.key}" for t in tasks])
    keys = {f.key: t.key for f, t in zip(futures, tasks)}
    for future in as_completed(futures):
        yield keys[future.key], future.result()
        future.release()
