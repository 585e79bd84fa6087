"""Batch runs: the same diagnosis (and, if asked, models and a type plan) for many county-level units on dask."""
from __future__ import annotations

import json
import math
import os
import tempfile
import time
import warnings
from html import escape
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from netopt._cluster import dask_client, map_tasks
from netopt._errors import (NO_PLAN_YET, InputError, LeftOutWarning, NetoptError, Problem, check_amount, check_count,
                            check_kind)
from netopt._schema import bilingual_parts, region_words
from netopt.coverage import analyze_coverage, check_full, data_notes, full_beyond_limit
from netopt.datasets import NATIONAL_POINTS_CREDIT
from netopt.distance import TRAVEL_MODES, check_speeds, nearest_site
from netopt.io import (Dataset, banks_matching, credits, far_outside, find_table_or_parts, first_few,
                       folder_attribution, given_tables, placed_branches, read_branch_table, read_counties,
                       read_town_table, require_pyarrow, write_atomic)
from netopt.projection import metric_crs, xy_metres
from netopt.report import decimal_text

MODEL_STATUSES = ("lscp_status", "mclp_status", "types_status")
DONE_FILE = "done.json"
FAILED_FILE = "failed.json"
DEFAULT_RADIUS_KM = {"core": 1.2, "county": 3.5}
TABLE_NAME = "national"
MAX_UNITS_PER_TASK = 50


@dataclass(frozen=True)
class BatchOptions:
    """What each unit's task does: always the diagnosis (with `full_km` / `full_min`, gradual coverage 按距离折算
    as analyze_coverage counts it); optionally LSCP + MCLP, a branch-type plan and, where the unit has branches,
    up to `new_per_county` suggested new branches (planning.suggest_new_sites) and a map of the unit on its county
    report (`maps`)."""

    radius_km: dict[str, float] | float = field(default_factory=lambda: dict(DEFAULT_RADIUS_KM))
    radius_min: dict[str, float] | float | None = None  # a travel time instead of the radius (e.g. 15 minutes)
    mode: str | dict[str, str] = "drive"  # the travel mode of radius_min: drive or walk, or one per region type
    speed_kmh: float | dict[str, float] = 30.0  # driving off the roads (and by straight line), or per region type
    walk_speed_kmh: float = 4.5
    detour_factor: float = 1.3  # road km per straight-line km
    residents_per_branch_wan: float = 3.5
    optimize: bool = False
    plan_types: bool = False
    time_limit: float = 60.0
    reports: bool = True  # each unit's county report and summary page, the run's summary slides and Word report
    new_per_county: int = 0
    maps: bool = False  # each county report opens with a map of its unit (about half a second a unit)
    bank: str | None = None  # one bank's branches diagnosed and planned, every bank's coverage beside them
    full_km: dict[str, float] | float | None = None  # gradual coverage: wholly covered within this, less to the radius
    full_min: dict[str, float] | float | None = None  # … or within this travel time, less to radius_min
    access: dict | None = None  # how accessibility is measured (its own options, e.g. {"method": "3sfca"}): Ga2SFCA

    def __post_init__(self) -> None:
        from netopt.access import access_choices

        access_choices(self.access, "batch options")
        check_count(self.new_per_county, "new_per_county", "batch options", least=0)
        check_kind(self.bank, (str, type(None)), "bank is a bank's name or part of it, e.g. '农业'", "batch options")
        check_amount(self.time_limit, "time_limit", "batch options", "seconds")  # None: no limit
        modes = list(self.mode.values()) if isinstance(self.mode, dict) else [self.mode]
        if not all(isinstance(mode, str) and mode in TRAVEL_MODES for mode in modes):
            raise InputError(f"mode is drive or walk (or one per region type), not {self.mode!r}",
                             file="batch options")
        check_speeds(self.speed_kmh, self.walk_speed_kmh, self.detour_factor, None, "batch options")
        limit_name, limit, limit_unit = (("radius_km", self.radius_km, "km") if self.radius_min is None else
                                         ("radius_min", self.radius_min, "minutes"))
        limits = list(limit.values()) if isinstance(limit, dict) else [limit]
        for name, values, unit in ((limit_name, limits, limit_unit),
                                   ("residents_per_branch_wan", [self.residents_per_branch_wan], "万人")):
            for value in values:
                if value is None:
                    raise InputError(f"{name} is needed, a number of {unit}", file="batch options")
                check_amount(value, name, "batch options", unit)
        self._check_gradual()

    def _check_gradual(self) -> None:
        """full_km with a radius, full_min with a travel time, each at most its region type's limit (one number at
        most the smallest)."""
        check_full(self.full_km, self.full_min, self.radius_min is not None, "batch options")
        full = self.gradual()
        if not full:
            return
        (name, given), = full.items()
        beyond = full_beyond_limit(given, self.radius_km if self.radius_min is None else self.radius_min)
        if beyond is not None:
            kind, value, within = beyond
            raise InputError(f"{name} {value:g}{'' if kind is None else f' for {kind}'} is beyond its limit, "
                             f"{within:g}: residents that far are not covered at all", file="batch options")

    def gradual(self) -> dict:
        """Gradual coverage's keyword for analyze_coverage (full_km or full_min), {} without it."""
        given = self.full_km if self.radius_min is None else self.full_min
        return {} if given is None else {"full_km" if self.radius_min is None else "full_min": given}

    def limit(self) -> dict:
        """The keywords of the units' limit for analyze_coverage, suggest_new_sites and town_reach: radius_km, or
        radius_min and mode; and the speeds."""
        speeds = {"speed_kmh": self.speed_kmh, "walk_speed_kmh": self.walk_speed_kmh,
                  "detour_factor": self.detour_factor}
        if self.radius_min is None:
            return {"radius_km": self.radius_km, **speeds}
        return {"radius_min": self.radius_min, "mode": self.mode, **speeds}

    def describe(self) -> str:
        """How each unit is measured, in words, as a diagnosis says it ("service radius core 1.2 km, county 3.5 km
        (straight line, drive)"), and its accessibility where measured otherwise than by default."""
        from netopt.access import decay_and_method_words
        from netopt.coverage import _settings

        limit = self.limit()
        settings = _settings(limit.pop("radius_km", None), limit.pop("radius_min", None), "euclidean",
                             limit.pop("mode", "drive"), limit, self.full_km, self.full_min)
        if self.access is None:
            return settings.describe()
        how = dict(self.access)
        supply = how.pop("supply", None)
        return (f"{settings.describe()}; accessibility 可达性 {decay_and_method_words(**how)}"
                + ("" if supply is None else f", supply {supply}"))

    def record(self) -> dict:
        """These options as a unit's done.json keeps them (JSON's types): a unit done under other options is done
        again (access only where given: a unit done before it could be given stays done under the default)."""
        kept = {key: value for key, value in asdict(self).items() if key != "access" or value is not None}
        return json.loads(json.dumps(kept, ensure_ascii=False))


@dataclass
class UnitTask:
    """One unit's own inputs, small enough to ship to a worker: its row, its towns and its branches."""

    unit_id: str
    unit: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame
    attribution: str = ""  # where the data comes from (the data folder's ATTRIBUTION.txt), credited on its pages

    def __repr__(self) -> str:
        name = self.unit["name"].iloc[0] if len(self.unit) and "name" in self.unit else ""
        return f"UnitTask({self.unit_id} {name}: {len(self.towns):,} towns, {len(self.branches):,} branches)"


@dataclass
class UnitOutcome:
    """One unit's result: its row of the national table and its report files (name -> bytes)."""

    unit_id: str
    row: dict
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.row.get("status") == "failed"

    @property
    def unplanned(self) -> list[str]:
        """The models the time limit ended before any plan (recomputed when the batch runs again)."""
        return unplanned_models(self.row)


def unplanned_models(row: dict) -> list[str]:
    """The models of a unit's row whose status says the time limit ended before any plan: lscp, mclp, types."""
    return [column[:-len("_status")] for column in MODEL_STATUSES if row.get(column) == NO_PLAN_YET]


@dataclass
class BatchSummary:
    """What a batch run did: how many units were computed, skipped (already finished) and failed."""

    total: int
    computed: list[str]
    skipped: list[str]
    failed: dict[str, str]
    seconds: float
    outputs: list[Path]
    interrupted: bool = False
    unplanned: list[str] = field(default_factory=list)  # computed, but a model found no plan in time

    def __repr__(self) -> str:
        unplanned = f", {len(self.unplanned):,} without a plan in time" if self.unplanned else ""
        stopped = ", interrupted" if self.interrupted else ""
        succeeded = sum(unit not in self.failed for unit in self.computed)
        return (f"BatchSummary({self.total:,} units: {succeeded:,} computed{unplanned}, {len(self.failed):,} failed, "
                f"{len(self.skipped):,} skipped (done before); {self.seconds:.1f} s, "
                f"{len(self.outputs):,} files{stopped})")


# ----------------------------------------------------------------------------- inputs

def read_batch(units_file: str | os.PathLike, data_dir: str | os.PathLike,
               only: list[str] | str | None = None, skip_unlocated: bool = False,
               tables: dict[str, str | os.PathLike] | None = None) -> list[UnitTask]:
    """Read the units table and the towns (and branches, if present) of `data_dir`; one task per unit.

    `data_dir` holds the towns table (with each town's `county_id`, the unit's adcode, or its county's name: see
    _unit_ids_by_name) and optionally the branches table, found by `io.find_table_or_parts` (towns.csv,
    towns.csv.gz, 乡镇人口.xlsx …, or a file per county, 乡镇_瑶海区.csv …, read as one table). `only`: adcodes or
    adcode prefixes (e.g. ["34"] for 安徽省) to keep.
    Branches are placed among all the units of the table first, so a branch of a unit left out by `only` is not
    given to a kept neighbour. Branches a status column marks closed
    or not yet open are left out, with a LeftOutWarning saying how many and where; with `skip_unlocated`, so are
    the branches whose coordinates are missing or wrong (io.read_dataset). `tables`: the towns or branches file
    read instead of the folder's own (as batch's --towns and --branches give it), e.g. {"towns": "data/乡镇2020.csv"}
    where the folder holds two versions.
    """
    check_kind(only, (str, int, list, tuple, type(None)), "only is an adcode prefix or a list of them, e.g. ['34']",
               "read_batch")
    codes = [str(code) for code in ([only] if isinstance(only, (str, int)) else only or [])]  # 34 or "34", one or many
    if any(not code.strip() for code in codes):
        raise InputError("only is an adcode or the start of one, e.g. '34' or '3401', not an empty text (which "
                         "would run every unit)", file="read_batch")
    given = given_tables(tables, ("towns", "branches"), "read_batch")
    units = _bounded_where_bundled(read_counties(units_file), str(units_file))
    _check_unit_ids(units, str(units_file))
    towns = _read_towns(_table_file(given.get("towns"), Path(data_dir), "towns"), units)
    branch_file = _table_file(given.get("branches"), Path(data_dir), "branches", required=False)
    branches = _read_branches(branch_file, units, towns, skip_unlocated)
    if only:
        units = units[units["county_id"].astype(str).str.startswith(tuple(codes))]
        if units.empty:
            raise InputError(f"no unit's adcode starts with {', '.join(codes)}", file=str(units_file))
    town_groups = dict(tuple(towns.groupby("county_id", sort=False)))
    branch_groups = dict(tuple(branches.groupby("unit_id", sort=False)))
    attribution = credits(folder_attribution(data_dir), units.attrs.get("attribution"),  # the bundled boundaries'
                          NATIONAL_POINTS_CREDIT if "placed" in towns.attrs else None)
    return [UnitTask(str(uid), units.iloc[[i]].reset_index(drop=True),
                     town_groups.get(str(uid), towns.iloc[:0]).reset_index(drop=True),
                     branch_groups.get(str(uid), branches.iloc[:0]).drop(columns="unit_id").reset_index(drop=True),
                     attribution)
            for i, uid in enumerate(units["county_id"])]


def _bounded_where_bundled(units: gpd.GeoDataFrame, file: str) -> gpd.GeoDataFrame:
    """A units table without boundaries (units.csv) with the bundled ones of those of its units that have one —
    each unit is measured alone, so a development zone without one holds back no other's —, said (a
    LeftOutWarning) and credited."""
    from netopt.datasets import national_boundaries
    from netopt.io import BUNDLED_BOUNDARIES_CREDIT, BUNDLED_BOUNDARIES_SAID, bundled_unit_codes

    if units.geometry.notna().any():
        return units
    shapes = national_boundaries(bundled_unit_codes(units["county_id"].astype(str), units["name"], units.get("city")))
    if shapes.isna().all():
        return units
    bounded = units.set_geometry(shapes.to_numpy(), crs="EPSG:4326")
    bounded.attrs = {**units.attrs, "attribution": BUNDLED_BOUNDARIES_CREDIT}
    warnings.warn(f"{file}: no boundaries in the table: the bundled ones of {shapes.notna().sum():,} of its "
                  f"{len(units):,} units taken ({BUNDLED_BOUNDARIES_SAID}; the others, development zones, have none)",
                  LeftOutWarning, stacklevel=3)
    return bounded


def _check_unit_ids(units: gpd.GeoDataFrame, file: str) -> None:
    """read_counties numbers units C0001, C0002... when the table has no id column: a batch needs real ones."""
    if units["county_id"].astype(str).str.fullmatch(r"C\d{4,}").all():
        raise InputError(Problem(file, "a batch needs each unit's adcode (区划代码) column", "adcode"))


def _table_file(given: Path | None, data_dir: Path, kind: str, required: bool = True) -> Path | tuple | None:
    """The `kind` table's file (or files): the one given, else found in the folder given or in `data_dir`."""
    if given is not None and not given.is_dir():
        return given  # a missing file: its reader says so
    return find_table_or_parts(given or data_dir, kind, required)


def _read_towns(path: Path | tuple[Path, ...], units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The towns of the units table in the file (or files) at `path` (towns naming another adcode, or a county no
    unit has, are left out), each with its unit's name."""
    towns, table = read_town_table(path)
    unit_ids = units["county_id"].astype(str)
    towns["county_id"], unknown = _unit_ids_by_name(towns, units)
    problems = []
    if towns["county_id"].isna().any():
        several = towns.loc[towns["county_id"].isna() & towns["county"].notna(), "county"].unique()
        problems.append(table.problem("every town needs its unit's adcode in a batch" + (
            f", or a county one unit of the units table is named (not {', '.join(several[:3])}, the name of several)"
            if len(several) else ""), table.header("county_id" if not len(several) else "county"),
            towns["county_id"].isna()))
    elif not towns["county_id"].astype(str).isin(unit_ids).any():
        problems.append(table.problem(f"no town's {table.header('county_id')} is an adcode of the units table "
                                      f"(e.g. {towns['county_id'].iloc[0]})", table.header("county_id")))
    else:
        problems = far_outside(units, towns, table, "the units table")
    if problems:
        raise InputError(problems)
    towns["county_id"] = towns["county_id"].astype(str)
    towns = towns[towns["county_id"].isin(unit_ids)].copy()
    towns["county"] = towns["county_id"].map(dict(zip(unit_ids, units["name"])))
    notes = [towns.attrs.get("placed"), towns.attrs.get("left_out")]  # how the table was read, as elsewhere
    if unknown:
        notes.append(f"{table.file}: left out the towns of {len(unknown)} counties no unit of the units table is "
                     f"named ({first_few(unknown)})")
    for note in filter(None, notes):
        warnings.warn(note, LeftOutWarning, stacklevel=3)
    return towns


def _unit_ids_by_name(towns: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> tuple[pd.Series, list[str]]:
    """Each town's county_id, or where it has none, its county's unit's adcode — of the one unit of the units
    table so named, or where the towns say their city (a province's census table) and the units theirs (as
    units.csv does), of the one unit of that name and city; "" for a county no unit is named (left out). Also those
    counties' names; a name of several units stays NA (a problem)."""
    named = towns["county_id"].isna() & towns["county"].notna()
    if not named.any():
        return towns["county_id"], []
    keys, unit_keys = towns["county"], units["name"]
    if "city" in towns and "city" in units:
        keys, unit_keys = towns["city"].astype(str) + "/" + keys, units["city"].astype(str) + "/" + unit_keys
    by_key = pd.Series(units["county_id"].astype(str).to_numpy(), index=unit_keys.to_numpy())
    unique = by_key[~by_key.index.duplicated(keep=False)]
    found = keys[named].map(unique).where(keys[named].isin(by_key.index), "")
    unknown = list(dict.fromkeys(towns.loc[named, "county"][found == ""]))
    return towns["county_id"].astype(object).where(~named, found), unknown


def _read_branches(path: Path | tuple[Path, ...] | None, units: gpd.GeoDataFrame, towns: gpd.GeoDataFrame,
                   skip_unlocated: bool = False) -> gpd.GeoDataFrame:
    """Branches of the file (or files) at `path`, none without one, each given the unit it lies in (by boundary,
    else by its nearest town); with `skip_unlocated`, those that cannot be placed left out (io.read_dataset)."""
    if path is None:
        empty = gpd.GeoDataFrame({"branch_id": [], "name": [], "bank": [], "type": [], "county": [], "unit_id": []},
                                 geometry=[], crs="EPSG:4326")
        return empty
    branches, table = read_branch_table(path, skip_unlocated=skip_unlocated, towns=towns)
    placed = branches.attrs.get("placed")  # at the towns their addresses name, said as `netopt analyze` says it
    branches = placed_branches(Dataset(units, towns, branches), table, skip_unlocated, "the units table").branches
    for note in filter(None, (placed, branches.attrs.get("left_out"))):
        warnings.warn(note, LeftOutWarning, stacklevel=3)
    branches["unit_id"] = _unit_of_points(branches, units, towns)
    branches = branches[branches["unit_id"].notna()].copy()
    branches["county"] = branches["unit_id"].map(dict(zip(units["county_id"].astype(str), units["name"])))
    return branches


def _unit_of_points(points: gpd.GeoDataFrame, units: gpd.GeoDataFrame, towns: gpd.GeoDataFrame) -> pd.Series:
    """The unit each point lies in; points outside every boundary (or with no boundaries) take their nearest town's."""
    found = pd.Series(pd.NA, index=points.index, dtype=object)
    if len(points) == 0:
        return found
    if units.geometry.notna().any():  # those with one (a development zone may have none)
        shapes = units.loc[units.geometry.notna(), ["county_id", "geometry"]].assign(
            county_id=lambda frame: frame["county_id"].astype(str))
        joined = gpd.sjoin(points[["geometry"]], shapes, how="left", predicate="within")
        found = joined[~joined.index.duplicated()]["county_id"].astype(object)
    outside = found.isna().to_numpy()
    if outside.any() and len(towns):
        crs = metric_crs(towns)
        _, nearest = nearest_site(xy_metres(points[outside], crs), xy_metres(towns, crs))
        found[outside] = towns["county_id"].to_numpy()[nearest]
    return found


# ----------------------------------------------------------------------------- one unit

def run_unit(task: UnitTask, options: BatchOptions) -> UnitOutcome:
    """Diagnose one unit (and optimise / plan it if asked); a failure becomes a row with its reason."""
    started = time.perf_counter()
    row = _identity(task)
    files: dict[str, bytes] = {}
    try:
        task, every_bank = _of_bank(task, options.bank)
        row.update(_county_indicators(task, options))
        if every_bank is not None:
            row.update(_every_banks_coverage(every_bank, options))
        if len(task.towns) and len(task.branches):
            row.update(_coverage(task, options, files))
        if len(task.towns) and options.optimize:
            row.update(_models(task, options))
        if options.plan_types:  # a bank's branch clusters counted among every bank's branches
            row.update(_type_plan(task, options, files, None if every_bank is None else every_bank.branches))
        row["status"], row["reason"] = "ok", _notes(task)
        unplanned = unplanned_models(row)
        if unplanned:
            row["reason"] = "; ".join(filter(None, [
                f"no plan within the time limit for {', '.join(unplanned)}: running the batch again with a longer "
                "--time-limit recomputes this unit", row["reason"]]))
        if options.reports:
            files["summary.html"] = _unit_page(task, row).encode("utf-8")
    except NetoptError as err:
        row["status"], row["reason"] = "failed", str(err).splitlines()[0]
        files = {}
    except Exception as err:  # one unit's bad data must never stop the other 2,900
        row["status"], row["reason"] = "failed", f"unexpected {type(err).__name__}: {err}"
        files = {}
    row["seconds"] = round(time.perf_counter() - started, 3)
    return UnitOutcome(task.unit_id, row, files)


def _of_bank(task: UnitTask, bank: str | None) -> tuple[UnitTask, UnitTask | None]:
    """The unit with `bank`'s branches alone (none where it has none), and the unit with every bank's; the unit as
    it is without a bank."""
    if bank is None:
        return task, None
    return replace(task, branches=task.branches[banks_matching(task.branches, bank)]), task


def _every_banks_coverage(task: UnitTask, options: BatchOptions) -> dict:
    """Beside one bank's figures: every bank's branches in the unit, and the share of residents they cover."""
    if not len(task.towns) or not len(task.branches):
        return {"branches_all_banks": len(task.branches)}
    cov = analyze_coverage(_dataset(task), **options.limit())
    return {"branches_all_banks": len(task.branches),
            "coverage_all_banks_pct": round(float(cov.by_county.iloc[0]["coverage_rate_pct"]), 4)}


def _identity(task: UnitTask) -> dict:
    unit = task.unit.iloc[0]
    row = {"adcode": task.unit_id}
    for column in ("province", "city", "name", "kind", "region_type"):
        if column in task.unit:
            row[column] = None if pd.isna(unit[column]) else str(unit[column])
    return row


def _number(unit: pd.Series, column: str) -> float:
    try:
        return float(unit.get(column, math.nan))
    except (TypeError, ValueError):  # empty or text cells of a units table read as text
        return math.nan


def _county_indicators(task: UnitTask, options: BatchOptions) -> dict:
    """What needs no branches: residents (万人), area, density, urban share, age, schooling, branches needed."""
    unit = task.unit.iloc[0]
    population = _number(unit, "population")
    area = _number(unit, "area_km2")
    return {
        "population_wan": round(population / 1e4, 4),
        "area_km2": area,
        "density_per_km2": round(population / area, 1) if area > 0 else math.nan,
        "urban_share_pct": round(100 * _number(unit, "pop_urban") / population, 2) if population > 0 else math.nan,
        "share_65plus_pct": _number(unit, "share_65plus_pct"),
        "avg_years_schooling": _number(unit, "avg_years_schooling"),
        "towns": len(task.towns),
        "towns_core": int((task.towns.get("region_type") == "core").sum()) if len(task.towns) else 0,
        "branches": len(task.branches),
        "branches_at_benchmark": math.ceil(population / (options.residents_per_branch_wan * 1e4))
        if population > 0 else 0,
    }


def _dataset(task: UnitTask, every_bank: gpd.GeoDataFrame | None = None) -> Dataset:
    """The unit as a Dataset (of one bank's branches: with `every_bank`'s, as Dataset.of_bank gives it)."""
    unit = task.unit.copy()
    if "region_type" not in unit or unit["region_type"].isna().all():
        unit["region_type"] = "county"
    unit.attrs["attribution"] = task.attribution
    return Dataset(unit, task.towns.copy(), task.branches.copy(), every_bank)


def _coverage(task: UnitTask, options: BatchOptions, files: dict[str, bytes]) -> dict:
    """The unit's diagnosis — coverage, its accessibility 可达性 (Ga2SFCA, or as options.access says, within the
    same limit: branches per 万人 within reach and its Gini among the unit's towns), suggested new branches — as
    its row's figures, and its county report and underserved towns as `files`."""
    from netopt.access import accessibility
    from netopt.report import UNDERSERVED_COLUMNS, county_report, located

    ds = _dataset(task)
    cov = analyze_coverage(ds, **options.limit(), **options.gradual(),
                           residents_per_branch_limit_wan=options.residents_per_branch_wan)
    access = accessibility(ds, **options.limit(), **(options.access or {}))
    county = cov.by_county.iloc[0]
    new_sites = _new_sites(ds, options)
    if options.reports:
        files.update(_capture(lambda out: county_report(cov, str(county["county"]), out, new_sites=new_sites,
                                                        city=ds if options.maps else None, access=access)))
    towns = cov.underserved_towns
    kept = towns[[column for column in UNDERSERVED_COLUMNS if column in towns]].round(4)
    files[UNDERSERVED_FILE] = _csv_bytes(located(kept, towns))  # lon/lat in WGS84
    suggested = {} if new_sites is None else {
        "new_sites": len(new_sites),
        "new_sites_adds_wan": round(float((new_sites["covered_wan_after"] - new_sites["covered_wan_today"]).max()), 4)
        if len(new_sites) else 0.0}
    by_distance = {"coverage_by_distance_pct": round(float(county["coverage_by_distance_pct"]), 4)} \
        if "coverage_by_distance_pct" in county else {}
    return suggested | by_distance | {
        "access_per_wan": round(float(access.city["access_per_wan"]), 4),
        "access_gini": round(float(access.city["gini"]), 4),
        "coverage_rate_pct": round(float(county["coverage_rate_pct"]), 4),
        "uncovered_population_wan": round(float(county["population"] - county["covered_population"]) / 1e4, 4),
        "residents_per_branch_wan": round(float(county["residents_per_branch_wan"]), 4),
        "branches_per_100km2": round(float(county["branches_per_100km2"]), 4),
        "underserved_towns": len(cov.underserved_towns),
    }


def _csv_bytes(table: pd.DataFrame) -> bytes:
    """A unit's table as its county team opens it in Excel: headers in English and Chinese, UTF-8 with a BOM."""
    from netopt.report import bilingual

    return bilingual(table).to_csv(index=False).encode("utf-8-sig")


UNDERSERVED_FILE = "underserved_towns.csv"  # a unit's underserved towns with lon/lat (WGS84), for national.gpkg


def _new_sites(ds: Dataset, options: BatchOptions) -> pd.DataFrame | None:
    """The unit's suggested new branches (planning.suggest_new_sites; counted by distance with a full radius), None
    when none are asked for."""
    if not options.new_per_county:
        return None
    from netopt.planning import suggest_new_sites

    return suggest_new_sites(ds, per_county=options.new_per_county, time_limit=options.time_limit, threads=1,
                             **options.limit(), **options.gradual())


def _capture(write: Callable[[Path], list[Path]]) -> dict[str, bytes]:
    """Run a report writer in a temporary folder and keep its files as bytes (the driver writes them)."""
    with tempfile.TemporaryDirectory() as tmp:
        return {p.name: p.read_bytes() for p in write(Path(tmp))}


def _models(task: UnitTask, options: BatchOptions) -> dict:
    """Greenfield questions on the unit's own towns: fewest branches reaching every town (LSCP), and the
    residents p = branches_at_benchmark branches can reach (MCLP); candidate sites are the town points."""
    from netopt.models import LSCP, MCLP
    from netopt.planning import town_reach

    towns = task.towns
    A = town_reach(_dataset(task), towns, **options.limit())  # town points are the candidate sites
    lscp = LSCP.from_coverage(A).solve(time_limit=options.time_limit, threads=1)
    population = towns["population"].fillna(0).to_numpy(float)
    p = min(max(1, math.ceil(population.sum() / (options.residents_per_branch_wan * 1e4))), len(towns))
    mclp = MCLP.from_coverage(A, p=p, weights=population).solve(time_limit=options.time_limit, threads=1)
    total = population.sum()
    return {
        "lscp_branches": len(lscp.selected) if lscp.has_plan else math.nan, "lscp_status": _status(lscp),
        "mclp_p": p, "mclp_covered_pct": round(float(100 * mclp.objective / total), 4) if total > 0 else math.nan,
        "mclp_status": _status(mclp),
    }




def _status(result) -> str:
    return result.status if result.has_plan or result.status == "infeasible" else NO_PLAN_YET


def _type_plan(task: UnitTask, options: BatchOptions, files: dict[str, bytes],
               every_bank: gpd.GeoDataFrame | None) -> dict:
    if not len(task.branches) or not len(task.towns):
        return {"types_status": "skipped: no branch locations for this unit"}
    from netopt._errors import SolverError
    from netopt.models.types import assign_branch_types
    from netopt.report import placed_by

    try:
        plan = assign_branch_types(_dataset(task, every_bank), time_limit=options.time_limit)
    except SolverError:  # the time limit ended before any plan: the unit's other numbers stand
        return {"types_status": NO_PLAN_YET}
    files["branch_types.csv"] = _csv_bytes(placed_by(plan.drop(columns="geometry", errors="ignore"), task.branches,
                                                     "branch_id"))  # a table, as underserved_towns.csv: reports or not
    counts = plan["type"].value_counts()
    return {"types_status": str(plan.attrs.get("status", "optimal")),
            **{f"types_{t}": int(counts.get(t, 0)) for t in ("comprehensive", "community", "inclusive", "light")}}


def _unit_page(task: UnitTask, row: dict) -> str:
    """Every unit's own page: its row of the national table and its towns (largest first); plain HTML, fast."""
    from netopt.report import PAGE, bilingual

    shown = {k: v for k, v in row.items() if k not in ("status", "seconds")}
    indicators = list(zip(bilingual(pd.DataFrame(columns=list(shown)), UNIT_HEADERS_ZH).columns, shown.values()))
    towns = task.towns
    population = towns["population"].to_numpy(float)
    kinds = towns["region_type"].map(region_words).to_numpy(object) if "region_type" in towns else \
        np.full(len(towns), "")
    order = np.argsort(-np.nan_to_num(population), kind="stable")
    town_rows = list(zip(towns["name"].to_numpy(object)[order], kinds[order], population[order]))
    body = (f"<h2>概况 Summary</h2>{_html_rows(['indicator 指标', 'value 数值'], indicators)}"
            f"<h2>乡镇 Towns ({len(towns)})</h2>"
            f"{_html_rows(['name 名称', 'region_type 区域类型', 'population 常住人口'], town_rows)}")
    note = " ".join(["Town populations are estimated where the towns file says so (population_method).",
                     row["reason"] or "", task.attribution])
    return PAGE.format(title=f"{row.get('name', task.unit_id)} {task.unit_id} 单位诊断 Unit summary", body=body,
                       note=escape(note))


def _html_rows(header: list[str], rows: list[tuple]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f'<table class="t"><tr>{head}</tr>{body}</table>'


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return decimal_text(value) if isinstance(value, (float, np.floating)) else str(value)


def _notes(task: UnitTask) -> str:
    """What the unit's row cannot show: missing towns or branches, and what its data asks to check (towns holding
    far fewer or more residents than the units table gives it, branches stacked on one point)."""
    notes = []
    if not len(task.towns):
        notes.append("no township points: county-level indicators only")
    else:
        notes += [f"check: {note.rstrip('.')}" for note in data_notes(_dataset(task))]
    if not len(task.branches):
        notes.append("no branch locations: no coverage measured")
    return "; ".join(notes)


# ----------------------------------------------------------------------------- outputs on disk

def unit_dir(out_dir: Path, unit_id: str) -> Path:
    """The folder a unit's outputs go to: OUT/units/<unit id>."""
    return out_dir / "units" / unit_id


def finished(out_dir: Path, unit_id: str, options: BatchOptions | None = None) -> bool:
    """A unit is finished when its done.json exists and every file it lists is present with its size — and, given
    `options`, it was done under them (a rerun with another radius, travel time or speed does it again)."""
    done = unit_dir(out_dir, unit_id) / DONE_FILE
    if not done.exists():
        return False
    try:
        record = json.loads(done.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    if options is not None and record.get("options") != options.record():
        return False
    folder = done.parent
    return all((folder / name).exists() and (folder / name).stat().st_size == size
               for name, size in record.get("files", {}).items())


def save_outcome(out_dir: Path, outcome: UnitOutcome, options: BatchOptions | None = None) -> None:
    """Write a unit's files atomically, then its done.json (or failed.json) last: a crash leaves it unfinished; the
    options it was done under kept beside its row."""
    folder = unit_dir(out_dir, outcome.unit_id)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in outcome.files.items():
        write_atomic(folder / name, lambda p, data=data: p.write_bytes(data))
    record = {"row": outcome.row, "files": {name: len(data) for name, data in outcome.files.items()},
              **({"options": options.record()} if options is not None else {})}
    text = json.dumps(record, ensure_ascii=False, indent=1, default=_json_value)
    if outcome.failed or outcome.unplanned:  # saved for the national table, but not finished: a rerun redoes it
        write_atomic(folder / FAILED_FILE, lambda p: p.write_text(text, encoding="utf-8"))
        return
    (folder / FAILED_FILE).unlink(missing_ok=True)
    write_atomic(folder / DONE_FILE, lambda p: p.write_text(text, encoding="utf-8"))


def _json_value(value: object) -> object:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _failed_on_disk(out_dir: Path, unit_id: str) -> bool:
    return (unit_dir(out_dir, unit_id) / FAILED_FILE).exists()


def saved_row(out_dir: Path, unit_id: str) -> dict | None:
    """The national table's row a unit's done or failed record keeps, or None when it has neither."""
    folder = unit_dir(out_dir, unit_id)
    for name in (DONE_FILE, FAILED_FILE):
        if (folder / name).exists():
            return json.loads((folder / name).read_text(encoding="utf-8"))["row"]
    return None


def write_tables(out_dir: Path, unit_ids: list[str], units: gpd.GeoDataFrame | None = None,
                 options: BatchOptions | None = None, title: str | None = None, template: str | Path | None = None,
                 word_template: str | Path | None = None) -> tuple[pd.DataFrame, list[Path]]:
    """Gather every unit's saved row into the national table: CSV, Parquet and an Excel summary; national.gpkg,
    map layers for a GIS — every unit's underserved towns and, where `units` (the units table: adcode, boundary)
    has boundaries, the units with their rows; and, unless options.reports is off, the summary as slides for the
    meeting and written up to edit (national_summary.pptx, .docx: `title`, how `options` measured each unit; in
    the bank's `template` and `word_template` where given)."""
    rows = [row for uid in unit_ids if (row := saved_row(out_dir, uid)) is not None]
    table = pd.DataFrame(rows)
    if table.empty:
        return table, []
    paths = [write_atomic(out_dir / f"{TABLE_NAME}.csv", lambda p: table.to_csv(p, index=False, encoding="utf-8-sig")),
             write_atomic(out_dir / f"{TABLE_NAME}.parquet", lambda p: table.to_parquet(p, index=False)),
             write_atomic(out_dir / f"{TABLE_NAME}_summary.xlsx", lambda p: _write_summary(p, table))]
    shaped = _units_with_rows(table, units)
    paths.extend(_write_layers(out_dir, table, shaped))
    if options is None or options.reports:
        paths.extend(_write_summary_documents(out_dir, table, shaped, options, title, template, word_template))
    return table, paths


def _units_with_rows(table: pd.DataFrame, units: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Each unit's boundary with its row of the national table; None where the units table has no boundaries."""
    if units is None or not units.geometry.notna().any():
        return None
    shapes = units.assign(county_id=units["county_id"].astype(str)).drop_duplicates("county_id")
    where = shapes.set_index("county_id").geometry.reindex(table["adcode"].astype(str)).to_numpy()
    return gpd.GeoDataFrame(table, geometry=where, crs=units.crs)


def _write_layers(out_dir: Path, table: pd.DataFrame, shaped: gpd.GeoDataFrame | None) -> list[Path]:
    """national.gpkg: "units" (`shaped`: each unit's boundary with its row of the national table, where the units
    table has boundaries) and "underserved_towns" (every unit's, with its adcode and name); national.kmz, the same
    for Google Earth and 奥维 (kml.write_map_files)."""
    from netopt.kml import write_map_files
    from netopt.report import HEADERS_ZH

    layers = {} if shaped is None else {"units": shaped}
    layers["underserved_towns"], missing = _national_towns(out_dir, table)
    lacking = (f" ({missing} unit(s) finished before netopt kept their towns' places lack theirs: delete those units' "
               f"{DONE_FILE} and run the batch again)") if missing else ""
    about = {**NATIONAL_LAYERS, "underserved_towns": NATIONAL_LAYERS["underserved_towns"] + lacking}
    written, _ = write_map_files(out_dir / f"{TABLE_NAME}.gpkg", layers, "wgs84", {**HEADERS_ZH, **UNIT_HEADERS_ZH},
                                 about, {"underserved_towns": "Point"})
    return written


NATIONAL_LAYERS = {"units": "各单位 each unit with its row of the national table",
                   "underserved_towns": "服务不足乡镇 every unit's underserved towns, the most residents beyond reach "
                   "first within each unit"}


def _national_towns(out_dir: Path, table: pd.DataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """The underserved towns each unit saved (UNDERSERVED_FILE), with the unit's adcode and name, as points; and
    how many units with underserved towns have no such file (finished by an earlier netopt)."""
    frames, missing = [], 0
    for row in table.itertuples():
        path = unit_dir(out_dir, str(row.adcode)) / UNDERSERVED_FILE
        if path.exists():
            towns = _unit_towns(path)
            frames.append(towns.assign(adcode=str(row.adcode), unit=getattr(row, "name", None)))
        else:
            count = getattr(row, "underserved_towns", 0)
            missing += bool(pd.notna(count) and count > 0)
    towns = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        {"adcode": [], "unit": [], "lon": [], "lat": []})
    first = ["adcode", "unit"]
    towns = towns[first + [c for c in towns.columns if c not in first]]
    located = gpd.points_from_xy(towns["lon"], towns["lat"])
    return gpd.GeoDataFrame(towns.drop(columns=["lon", "lat"]), geometry=located, crs=4326), missing


def _unit_towns(path: Path) -> pd.DataFrame:
    """A unit's saved underserved towns by their headers' English names (town_id as text); a netopt before this
    one wrote them in English alone."""
    header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    ids = {column: str for column in header if _english_name(column) == "town_id"}
    return pd.read_csv(path, dtype=ids, encoding="utf-8-sig").rename(columns=_english_name)


def _english_name(header: str) -> str:
    """town_id of netopt's "town_id 乡镇代码"; any other header as it is."""
    parts = bilingual_parts(header)
    return parts[0] if parts else header


# Chinese labels of the national table's columns (their English names stay in national.csv and .parquet)
UNIT_HEADERS_ZH = {
    "adcode": "区划代码", "province": "省份", "city": "地市", "kind": "单位类别", "units": "单位数",
    "density_per_km2": "人口密度(人/km²)", "urban_share_pct": "城镇人口占比(%)", "share_65plus_pct": "65岁及以上占比(%)",
    "avg_years_schooling": "平均受教育年限(年)", "towns": "乡镇数", "towns_core": "核心区乡镇数",
    "branches_at_benchmark": "按基准应有网点数", "shortfall": "按基准网点缺口", "uncovered_population_wan": "未覆盖人口(万人)",
    "underserved_towns": "服务不足乡镇数", "lscp_branches": "全覆盖最少网点数(LSCP)", "lscp_status": "LSCP求解状态",
    "mclp_p": "MCLP网点数", "mclp_covered_pct": "MCLP覆盖率(%)", "mclp_status": "MCLP求解状态",
    "types_status": "类型规划状态", "types_comprehensive": "综合型", "types_community": "社区型",
    "types_inclusive": "普惠型", "types_light": "轻型", "status": "状态", "seconds": "耗时(秒)",
    "median_coverage_rate_pct": "覆盖率中位数(%)", "new_sites": "建议新设网点数",
    "new_sites_adds_wan": "新设网点新增覆盖(万人)", "branches_all_banks": "各行网点数",
    "coverage_all_banks_pct": "各行合计覆盖率(%)", "median_coverage_by_distance_pct": "按距离折算覆盖率中位数(%)",
}


def _write_summary(path: Path, table: pd.DataFrame) -> None:
    """The national summary for people: totals by province, every unit, the failed ones; bilingual headers."""
    from netopt.report import write_workbook

    write_workbook(path, {"summary 汇总": province_summary(table), "units 各单位": table,
                          "failed 失败": table[table["status"] == "failed"]}, UNIT_HEADERS_ZH)


def province_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The finished units' totals by province (by status where the units name no province): units, residents,
    area, branches …, and the median coverage rate."""
    by = "province" if "province" in table else "status"
    ok = table[table["status"] == "ok"]
    numeric = [c for c in ("population_wan", "area_km2", "branches", "branches_all_banks", "branches_at_benchmark",
                           "lscp_branches", "new_sites", "new_sites_adds_wan") if c in ok]
    summary = ok.groupby(by)[numeric].sum(min_count=1)
    summary.insert(0, "units", ok.groupby(by).size())
    for rate in ("coverage_rate_pct", "coverage_by_distance_pct"):
        if rate in ok:
            summary[f"median_{rate}"] = ok.groupby(by)[rate].median()
    return summary.reset_index()


NATIONAL_TITLE = "网点覆盖诊断 各单位汇总 Branch coverage, unit by unit"
UNITS_LISTED = 20  # the units a summary table lists (the least covered …): all are in national_summary.xlsx
FAILED_LISTED = 48
UNIT_COLUMNS = ["adcode", "name", "province", "city", "population_wan", "branches", "coverage_rate_pct",
                "coverage_by_distance_pct", "uncovered_population_wan", "underserved_towns", "residents_per_branch_wan",
                "access_gini"]
UNITS_MAP_TITLE, LEAST_COVERED_TITLE = "各单位覆盖率地图 Coverage by unit, on the map", "覆盖率最低的单位 The least covered units"
UNITS_CHART_WORDS = (("各单位覆盖率", "Coverage by unit"), ("全部单位", "all units"))  # the chart's title, its whole's
COVERAGE_BANDS = ((90, "≥ 90%"), (70, "70–90%"), (0, "< 70%"))  # the chart's lines: how many units in each


def _write_summary_documents(out_dir: Path, table: pd.DataFrame, shaped: gpd.GeoDataFrame | None,
                             options: BatchOptions | None, title: str | None, template: str | Path | None,
                             word_template: str | Path | None) -> list[Path]:
    """national_summary.pptx and .docx (deck.summary_deck, document.summary_report): the run's key figures, its
    units on a map by coverage (where they have boundaries) and the least covered as a chart, then the units by
    province, the least covered, those with most residents beyond reach, where new branches would add most, and
    the units that failed."""
    from netopt.deck import summary_deck
    from netopt.document import summary_report
    from netopt.report import HEADERS_ZH

    title = title or NATIONAL_TITLE + (f" — {options.bank}" if options is not None and options.bank else "")
    lines, pictures = summary_lines(table, options), _summary_pictures(table, shaped)
    tables = summary_tables(table, options)
    labels = {**HEADERS_ZH, **UNIT_HEADERS_ZH}
    return [summary_deck(out_dir / f"{TABLE_NAME}_summary.pptx", title, lines, pictures, tables, labels, template),
            summary_report(out_dir / f"{TABLE_NAME}_summary.docx", title, lines, pictures, tables, labels,
                           word_template)]


def _rated(table: pd.DataFrame) -> pd.DataFrame:
    """The finished units with a coverage rate (those with branches), the least covered first — of equals, the
    one with most residents beyond reach."""
    ok = table[table["status"] == "ok"]
    if "coverage_rate_pct" not in ok:
        return ok.iloc[:0]
    rated = ok[ok["coverage_rate_pct"].notna()]
    return rated.sort_values(["coverage_rate_pct", "uncovered_population_wan"], ascending=[True, False],
                             kind="stable")


def summary_lines(table: pd.DataFrame, options: BatchOptions | None = None) -> list[str]:
    """A batch's key figures, a line each: the units done and failed, their residents and branches, the median
    coverage and the residents beyond reach, the units without branches; and how each unit was measured."""
    ok, rated = table[table["status"] == "ok"], _rated(table)
    failed = int((table["status"] == "failed").sum())
    lines = [f"{len(table):,} 个单位 units: {len(ok):,} 完成 done" + (f", {failed:,} 未完成 failed" if failed else "")]
    if len(ok):
        benchmark = _benchmark_wan(options)
        lines.append(f"常住人口 residents {ok['population_wan'].sum():,.1f} 万人, 网点 branches "
                     f"{ok['branches'].sum():,.0f} (按基准 at {benchmark:g}万 residents each: "
                     f"{ok['branches_at_benchmark'].sum():,.0f})")
    if len(rated):
        lines.append(f"覆盖率中位数 median coverage {rated['coverage_rate_pct'].median():.1f}%, 未覆盖 beyond reach "
                     f"{rated['uncovered_population_wan'].sum():,.1f} 万人, 服务不足乡镇 underserved towns "
                     f"{rated['underserved_towns'].sum():,.0f}")
    if "coverage_by_distance_pct" in rated and len(rated):
        lines.append(f"按距离折算覆盖率中位数 median coverage counted by distance "
                     f"{rated['coverage_by_distance_pct'].median():.1f}%")
    if len(ok) > len(rated):
        lines.append(f"{len(ok) - len(rated):,} 个单位无网点 units without branches (no coverage to measure)")
    return lines + ([] if options is None else [options.describe()])


def summary_tables(table: pd.DataFrame, options: BatchOptions | None = None) -> dict[str, pd.DataFrame]:
    """A batch's tables for its slides and written report, by title: the units by province (where they name
    theirs), the least covered units, those with most residents beyond reach, those where suggested new branches
    add most, those furthest below the benchmark of residents per branch (options', 3.5万 by default: its branches
    at the benchmark less its branches), and the units that failed — each list cut to its first rows (all in
    national_summary.xlsx)."""
    from netopt.deck import cut_note

    workbook = f"{TABLE_NAME}_summary.xlsx"
    rated = _rated(table)
    columns = [c for c in UNIT_COLUMNS if c in table]
    lists = {} if rated.empty else {
        LEAST_COVERED_TITLE: (rated[columns], UNITS_LISTED),
        "未覆盖人口最多的单位 The most residents beyond reach": (
            rated.sort_values("uncovered_population_wan", ascending=False, kind="stable")[columns], UNITS_LISTED)}
    if "new_sites_adds_wan" in rated:
        adding = rated[rated["new_sites"] > 0].sort_values("new_sites_adds_wan", ascending=False, kind="stable")
        lists["建议新设网点 Where suggested new branches add most"] = (
            adding[[c for c in ("adcode", "name", "province", "city", "coverage_rate_pct", "new_sites",
                                "new_sites_adds_wan") if c in adding]], UNITS_LISTED)
    lists[_shortfall_title(options)] = (_shortfalls(table), UNITS_LISTED)
    failed = table[table["status"] == "failed"]
    if len(failed):
        lists["未完成的单位 Units that failed"] = (failed[[c for c in ("adcode", "name", "reason") if c in failed]],
                                              FAILED_LISTED)
    tables = {"分省汇总 Units by province": province_summary(table)} if "province" in table else {}
    tables.update({f"{title}{cut_note(len(frame), most, workbook)}": frame.head(most)
                   for title, (frame, most) in lists.items() if len(frame)})
    return tables


def _benchmark_wan(options: BatchOptions | None) -> float:
    """The residents per branch (万人) the run's units are measured against: its options', else the default's."""
    return BatchOptions.residents_per_branch_wan if options is None else options.residents_per_branch_wan


def _shortfall_title(options: BatchOptions | None) -> str:
    return f"按基准网点缺口最大的单位 Furthest below {_benchmark_wan(options):g}万 residents per branch"


def _shortfalls(table: pd.DataFrame) -> pd.DataFrame:
    """The finished units with fewer branches than the benchmark asks (branches_at_benchmark), the largest
    shortfall first — with or without their branches' coverage (a batch of units without branch data too)."""
    ok = table[table["status"] == "ok"]
    if "branches_at_benchmark" not in ok:
        return ok.iloc[:0]
    short = ok.assign(shortfall=ok["branches_at_benchmark"] - ok["branches"].fillna(0))
    short = short[short["shortfall"] > 0].sort_values("shortfall", ascending=False, kind="stable")
    return short[[c for c in ("adcode", "name", "province", "city", "population_wan", "branches",
                              "branches_at_benchmark", "shortfall") if c in short]]


def _summary_pictures(table: pd.DataFrame, shaped: gpd.GeoDataFrame | None) -> dict[str, tuple[bytes, list[str]]]:
    """The units on a map coloured by coverage (where they have boundaries), with the least covered five beside
    it, and the least covered as a chart, with how many units fall in each COVERAGE_BANDS beside it; {} where no
    unit has a coverage rate."""
    from netopt.maps import county_chart, units_map
    from netopt.report import png_of

    rated = _rated(table)
    if rated.empty:
        return {}
    least = [f"{row.name}: {row.coverage_rate_pct:.1f}%, 未覆盖 {row.uncovered_population_wan:,.1f} 万人"
             for row in rated.head(5).itertuples()]
    rates, floor, bands = rated["coverage_rate_pct"].to_numpy(float), np.inf, []
    for lowest, words in COVERAGE_BANDS:
        bands.append(f"{words}: {int(((rates >= lowest) & (rates < floor)).sum()):,} 个单位 units")
        floor = lowest
    people = rated["population_wan"].to_numpy(float) * 1e4
    bars = rated.assign(county=rated["name"].astype(str), county_id=rated["adcode"].astype(str), population=people,
                        covered_population=people * rates / 100)
    pictures = {} if shaped is None else {UNITS_MAP_TITLE: (png_of(lambda path: units_map(shaped, path)), least)}
    pictures[" ".join(UNITS_CHART_WORDS[0])] = (png_of(lambda path: county_chart(bars, path, words=UNITS_CHART_WORDS)),
                                                bands)
    return pictures


# ----------------------------------------------------------------------------- the batch

Progress = Callable[[int, int, UnitOutcome], None]


def run_batch(tasks: list[UnitTask], out_dir: str | os.PathLike, options: BatchOptions | None = None,
              scheduler: str | None = None, workers: int | None = None, progress: Progress | None = None,
              client=None, units_per_task: int | None = None, title: str | None = None,
              template: str | Path | None = None, word_template: str | Path | None = None) -> BatchSummary:
    """Run every unfinished unit and gather the national table (write_tables: its slides and written report
    titled `title`, in the bank's `template` and `word_template` where given); finished units (done.json) are
    skipped.

    scheduler: None for a dask LocalCluster of `workers` processes (default: one per core), an address such as
    "tcp://10.0.0.5:8786" for a running cluster, or "serial" to run in this process without dask. A `client`
    (dask.distributed.Client) may be passed instead. Each unit's files are written by this process as soon as
    it finishes, so an interrupted run keeps them; run again to resume. Units are sent to the workers
    `units_per_task` at a time (default: about eight tasks per worker, at most 50 units each).
    """
    options = options or BatchOptions()
    for name, value in (("workers", workers), ("units_per_task", units_per_task)):
        if value is not None:
            check_count(value, name, "batch options")
    _check_distinct(tasks)
    _check_templates(template, word_template)
    require_pyarrow("the national table")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = {t.unit_id for t in tasks if finished(out, t.unit_id, options)}
    todo = [t for t in tasks if t.unit_id not in done]
    summary = BatchSummary(len(tasks), [], [t.unit_id for t in tasks if t.unit_id in done], {}, 0.0, [])
    try:
        for outcome in _outcomes(todo, options, scheduler, workers, client, units_per_task):
            save_outcome(out, outcome, options)
            summary.computed.append(outcome.unit_id)
            if outcome.failed:
                summary.failed[outcome.unit_id] = outcome.row["reason"]
            elif outcome.unplanned:
                summary.unplanned.append(outcome.unit_id)
            if progress is not None:
                progress(len(summary.computed), len(todo), outcome)
    except KeyboardInterrupt:
        summary.interrupted = True
        saved = {t.unit_id for t in todo if finished(out, t.unit_id, options) or _failed_on_disk(out, t.unit_id)}
        summary.computed += sorted(saved - set(summary.computed))  # saved just before the interrupt arrived
    units = pd.concat([t.unit for t in tasks], ignore_index=True) if tasks else None
    _, summary.outputs = write_tables(out, [t.unit_id for t in tasks], units, options, title, template, word_template)
    summary.seconds = time.perf_counter() - started
    if summary.interrupted:
        raise BatchInterrupted(summary)
    return summary


def _check_templates(template: str | Path | None, word_template: str | Path | None) -> None:
    """The bank's templates read before any unit is run, not refused once all are."""
    from netopt._slides import read_template
    from netopt.document import read_word_template

    for path, read in ((template, read_template), (word_template, read_word_template)):
        if path is not None:
            read(path)


def _check_distinct(tasks: list[UnitTask]) -> None:
    ids = pd.Series([t.unit_id for t in tasks])
    repeated = ids[ids.duplicated()].unique()
    if len(repeated):
        raise InputError(f"units listed more than once in one batch ({', '.join(repeated[:5])}): each unit's "
                         "outputs live in units/<adcode>/, so each adcode may appear once", file="batch")


class BatchInterrupted(KeyboardInterrupt):
    """The batch was interrupted; every unit finished so far is saved (see .summary); run again to resume."""

    def __init__(self, summary: BatchSummary) -> None:
        super().__init__(f"interrupted after {len(summary.computed)} units; run the same command again to resume")
        self.summary = summary


def _outcomes(tasks: list[UnitTask], options: BatchOptions, scheduler: str | None, workers: int | None,
              client, units_per_task: int | None) -> Iterator[UnitOutcome]:
    if not tasks:
        return
    if client is None and scheduler == "serial":
        yield from (run_unit(t, options) for t in tasks)
        return
    with dask_client(scheduler, workers, client) as active:
        yield from _on_client(active, tasks, options, units_per_task)


@dataclass
class UnitChunk:
    """Several units' tasks packed into three frames: far cheaper to ship than one small frame per unit."""

    unit_ids: list[str]
    units: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame
    attributions: list[str]  # each unit's data attribution, in the order of unit_ids


def pack(tasks: list[UnitTask]) -> UnitChunk:
    """Units' tables stacked into one chunk (three frames keyed by unit id), sent to a worker at once."""
    ids = [t.unit_id for t in tasks]

    def stack(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
        return pd.concat(frames, keys=ids)  # the outer index level says whose row it is

    return UnitChunk(ids, stack([t.unit for t in tasks]), stack([t.towns for t in tasks]),
                     stack([t.branches for t in tasks]), [t.attribution for t in tasks])


def unpack(chunk: UnitChunk) -> list[UnitTask]:
    """The units of a chunk made by pack, each with its own tables (empty ones where it has no rows)."""
    frames = (chunk.units, chunk.towns, chunk.branches)
    parts = [{uid: g.reset_index(drop=True) for uid, g in frame.groupby(level=0, sort=False)} for frame in frames]
    empty = [frame.iloc[:0].reset_index(drop=True) for frame in frames]
    return [UnitTask(uid, *(part.get(uid, blank) for part, blank in zip(parts, empty)), credit)
            for uid, credit in zip(chunk.unit_ids, chunk.attributions)]


def run_units(chunk: UnitChunk, options: BatchOptions) -> list[UnitOutcome]:
    """One dask task: a chunk of units in a row, so that scheduling and shipping cost little next to the work."""
    return [run_unit(t, options) for t in unpack(chunk)]


def _chunks(tasks: list[UnitTask], workers: int, units_per_task: int | None) -> list[list[UnitTask]]:
    """About eight tasks per worker (so a slow or lost task delays little), at most 50 units each."""
    size = units_per_task or max(1, min(MAX_UNITS_PER_TASK, math.ceil(len(tasks) / (8 * max(workers, 1)))))
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def _on_client(client, tasks: list[UnitTask], options: BatchOptions,
               units_per_task: int | None) -> Iterator[UnitOutcome]:
    from dask.distributed import as_completed

    chunks = _chunks(tasks, len(client.scheduler_info().get("workers", {})), units_per_task)
    keys = [f"units-{c[0].unit_id}-{len(c)}" for c in chunks]
    futures = map_tasks(client, run_units, [pack(c) for c in chunks], keys, options=options)
    by_key = dict(zip(keys, chunks))
    try:
        for future in as_completed(futures):
            try:
                yield from future.result()
            except Exception as err:  # lost more workers than dask allows, or could not be shipped
                for task in by_key[future.key]:
                    row = {**_identity(task), "status": "failed", "reason": f"{type(err).__name__}: {err}"}
                    yield UnitOutcome(task.unit_id, row)
            future.release()
    finally:
        client.cancel(futures)


def national_table(out_dir: str | os.PathLike) -> pd.DataFrame:
    """The national table of a finished (or partly finished) batch."""
    check_kind(out_dir, (str, os.PathLike), "out_dir is the batch's output folder", "national_table")
    path = Path(out_dir) / f"{TABLE_NAME}.parquet"
    if not path.exists():
        raise InputError("no national table here yet: run the batch first", file=str(path))
    return pd.read_parquet(path)


__all__ = ["BatchOptions", "BatchSummary", "BatchInterrupted", "UnitOutcome", "UnitTask", "finished",
           "national_table", "read_batch", "run_batch", "run_unit", "run_units", "save_outcome", "write_tables"]
