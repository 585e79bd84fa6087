"""Coverage diagnosis: nearest branch, coverage within a radius or travel time, density, gaps, underserved towns."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from netopt._errors import InputError, Problem, check_amount, is_number
from netopt._schema import REGION_TYPES
from netopt.distance import (NEEDS_GRAPH, RoadNetwork, TravelSettings, as_road_network, check_distance, check_speeds,
                             checked_modes, measure_reach_by_travel, nearest_site, travel_groups)
from netopt.grid import LEFT_OUT
from netopt.io import Dataset, alike_county, check_read, in_wgs84
from netopt.projection import metric_crs, xy_metres

NATIONAL_COUNTY_RESIDENTS_PER_BRANCH_WAN = 3.5
DEFAULT_GDP_CUTS_YI = (200.0, 500.0)
DEFAULT_ROUND_TRIP_LIMIT_H = 1.5
DEFAULT_RADIUS_KM = 3.0
SERVICE_RADIUS_SHARE = 0.8

Limit = float | dict[str, float]


@dataclass
class CoverageSettings:
    """The thresholds an analysis used, so a report can say what it measured."""

    radius_km: Limit | None = DEFAULT_RADIUS_KM
    radius_min: Limit | None = None
    residents_per_branch_limit_wan: float = NATIONAL_COUNTY_RESIDENTS_PER_BRANCH_WAN
    round_trip_limit_h: float = DEFAULT_ROUND_TRIP_LIMIT_H
    gdp_cuts_yi: tuple[float, float] = DEFAULT_GDP_CUTS_YI
    travel: TravelSettings = field(default_factory=TravelSettings)
    mode_by_region: dict[str, str] | None = None  # a travel mode per region type (travel.mode is then not used)
    speed_by_region: dict[str, float] | None = None  # a driving speed per region type (travel.speed_kmh not used)
    full_km: Limit | None = None  # gradual coverage: wholly covered within this, less and less to the radius
    full_min: Limit | None = None  # … or within this travel time, less and less to radius_min

    @property
    def unit(self) -> str:
        return "min" if self.radius_min is not None else "km"

    @property
    def limit(self) -> Limit:
        return self.radius_min if self.radius_min is not None else self.radius_km

    @property
    def full(self) -> Limit | None:
        """Gradual coverage's full radius (or travel time), in the limit's unit; None for plain coverage."""
        return self.full_min if self.unit == "min" else self.full_km

    def describe(self) -> str:
        """How coverage is measured, in words: "service radius core 1.2 km, county 3.5 km (straight line, drive)"."""
        how = "road network" if self.travel.distance == "network" else "straight line"
        what = "travel time" if self.unit == "min" else "service radius"
        if isinstance(self.limit, dict):
            limit = ", ".join(f"{kind} {value:g} {self.unit}" for kind, value in self.limit.items())
        else:
            limit = f"{self.limit:g} {self.unit}"
        return f"{what} {limit}{self.full_words()} ({how}, {self.mode_words()})"

    def full_words(self) -> str:
        """Gradual coverage as said after the limit (full_words), or ""."""
        return full_words(self.full, self.unit)

    def mode_words(self) -> str:
        """The travel mode as said: "drive", or one per region type, "core walk, county drive"; with a speed other
        than the default, "drive at 20 km/h", "core walk at 4 km/h, county drive at 40 km/h"."""
        kinds = self.travel_kinds()
        if not kinds:
            return self.travel.mode + speed_words(self.travel)
        travels = [self.travel_in(kind) for kind in kinds]
        return ", ".join(f"{kind} {travel.mode}{speed_words(travel)}" for kind, travel in zip(kinds, travels))

    def travel_kinds(self) -> list[str]:
        """The region types given a travel mode or a driving speed of their own, in the order given ([] for none)."""
        return list(dict.fromkeys([*(self.mode_by_region or {}), *(self.speed_by_region or {})]))

    def travel_in(self, kind: str) -> TravelSettings:
        """How the demand units of region type `kind` travel: their mode and driving speed where given per region
        type, else the one for all."""
        return replace(self.travel, mode=(self.mode_by_region or {}).get(kind, self.travel.mode),
                       speed_kmh=(self.speed_by_region or {}).get(kind, self.travel.speed_kmh))


def full_words(full: Limit | None, unit: str) -> str:
    """Gradual coverage's full radius as said after the limit: ", wholly covered within 1.2 km" (or minutes, or one
    per region type: "core 0.5 km, county 1.5 km"), or "" without one."""
    if full is None:
        return ""
    said = ", ".join(f"{kind} {value:g} {unit}" for kind, value in full.items()) if isinstance(full, dict) else \
        f"{full:g} {unit}"
    return f", wholly covered within {said}"


def speed_words(travel: TravelSettings) -> str:
    """" at 20 km/h" after a travel mode whose speed was given other than its default (30 km/h driving, 4.5
    walking), else ""."""
    default = TravelSettings(mode=travel.mode).access_speed_kmh()
    return "" if travel.access_speed_kmh() == default else f" at {travel.access_speed_kmh():g} km/h"


@dataclass
class Coverage:
    """Result of analyze_coverage: per-town (or per demand cell), per-branch, per-county and per-region tables.

    `towns` holds one row per demand unit: the towns, or the cells of a population grid (see `demand_kind`).
    """

    towns: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame
    by_county: pd.DataFrame
    by_region: pd.DataFrame
    gaps: gpd.GeoDataFrame
    underserved_towns: gpd.GeoDataFrame
    settings: CoverageSettings = field(default_factory=CoverageSettings)
    notes: list[str] = field(default_factory=list)
    demand_kind: str = "towns"  # "towns", or "cells" when the demand was a population grid
    county_notes: dict[str, list[str]] = field(default_factory=dict)  # a county report's notes, by county name
    attribution: str = ""  # where the data comes from (its folder's ATTRIBUTION.txt), credited on report pages
    county_boundaries: gpd.GeoSeries | None = None  # the boundary of each row of by_county, for map layers
    service_area_outlines: gpd.GeoSeries | None = None  # each branch's service area (WGS84), indexed as `branches`

    def summary(self) -> str:
        """One line on what was measured and found: the limit, demand units, residents, branches, coverage overall
        and by region type, and how many towns are underserved (what repr() and a notebook show first)."""
        people = float(self.by_region["population"].sum())
        covered = float(self.by_region["covered_population"].sum())
        rate = f"{100 * covered / people:.1f}%" if people > 0 else "—"
        regions = ", ".join(f"{row.region_type} {row.coverage_rate_pct:.1f}%" for row in self.by_region.itertuples()
                            if pd.notna(row.coverage_rate_pct))
        units = f"{len(self.towns):,} {'population cells' if self.demand_kind == 'cells' else 'towns'}"
        counted = self.covered_by_distance
        by_distance = f"; counted by distance {100 * counted / people:.1f}%" if counted is not None and people > 0 \
            else ""
        return (f"{self.settings.describe()}: {units}, {people / 1e4:,.1f}万人, {len(self.branches):,} branches; "
                f"covered {rate}" + (f" — {regions}" if regions else "") + by_distance
                + f"; {len(self.underserved_towns):,} underserved towns")

    def __repr__(self) -> str:
        return f"Coverage({self.summary()})"

    @property
    def covered_by_distance(self) -> float | None:
        """The residents counted by distance in all (gradual coverage, full_km or full_min), or None without it."""
        if "covered_by_distance" not in self.by_region:
            return None
        return float(self.by_region["covered_by_distance"].sum())

    def _repr_html_(self) -> str:
        from netopt.report import coverage_html

        return coverage_html(self)

    def service_areas(self, branches: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame | None:
        """The service areas 服务范围 of `branches` (rows of `self.branches`; default: all of them) as polygons in
        WGS84 — each branch's Voronoi cell in its county (service_area_cells), its id, name, bank, county, area,
        radius and residents — or None where a county has no boundary."""
        branches = self.branches if branches is None else branches
        if self.service_area_outlines is None or not len(branches):
            return None
        table = branches[[c for c in ("branch_id", "name", "bank", "county", *SERVICE_AREA_STATS) if c in branches]
                         ].round(3)
        return gpd.GeoDataFrame(table, geometry=self.service_area_outlines.loc[branches.index].to_numpy(), crs=4326)

    def notes_for(self, county: str) -> list[str]:
        """What a county's own report says: how coverage was measured and what that county's data asks to check
        (`notes` says it for the whole city, naming other counties). A county the diagnosis lacks is refused,
        naming the one it most likely means."""
        self.check_county(county)
        return self.county_notes.get(county, self.notes)

    def check_county(self, county: str) -> None:
        """An InputError unless the diagnosis measured `county`, naming the county it most likely means (肥东 for
        肥东县) or else listing them."""
        names = self.by_county["county"].astype(str)
        if not isinstance(county, str):
            raise InputError(f"county is a county's name, e.g. '{names.iloc[0]}', not {county!r:.60}", file="coverage")
        if county in set(names):
            return
        alike = alike_county(county, names)
        raise InputError(f"county '{county}' is not in the diagnosis" + (f": did you mean {alike}?" if alike else
                         f"; its counties: {', '.join(names)}"), file="coverage")

    def by_town(self) -> pd.DataFrame:
        """Per town: its demand units (one, or its grid cells), residents, residents covered and their share (%),
        the residents-weighted mean and the farthest distance of its units to their nearest branch (km), and in a
        diagnosis by travel time the residents-weighted mean minutes to their quickest branch."""
        units = self.towns
        people = units["population"].astype(float)
        km = units["nearest_branch_km"].astype(float)
        frame = pd.DataFrame({
            "town_id": units["town_id"], "name": units["town" if self.demand_kind == "cells" else "name"],
            "county": units["county"], "region_type": units["region_type"], "cells": 1, "population": people,
            "covered_population": people.where(units["covered"].astype(bool), 0.0), "resident_km": people * km,
            "farthest_cell_km": km})
        gradual = "covered_share" in units
        if gradual:
            frame.insert(7, "covered_by_distance", people * units["covered_share"].astype(float))
        timed = self.settings.unit == "min"
        if timed:
            frame["resident_minutes"] = people * units["nearest_branch_min"].astype(float)
        table = frame.groupby(["town_id", "name", "county", "region_type"], sort=False, dropna=False).agg(
            {"cells": "sum", "population": "sum", "covered_population": "sum", "resident_km": "sum",
             "farthest_cell_km": "max", **({"resident_minutes": "sum"} if timed else {}),
             **({"covered_by_distance": "sum"} if gradual else {})}).reset_index()
        residents = table["population"].where(table["population"] > 0)
        table.insert(7, "coverage_rate_pct", 100.0 * table["covered_population"] / residents)
        table.insert(8, "mean_distance_to_branch_km", table.pop("resident_km") / residents)
        if timed:
            table.insert(9, "mean_minutes_to_branch", table.pop("resident_minutes") / residents)
        if gradual:
            table["coverage_by_distance_pct"] = 100.0 * table["covered_by_distance"] / residents
        return table

    @property
    def core_county_gap_pp(self) -> float:
        """Coverage of core districts minus that of counties, in percentage points."""
        rate = self.by_region.set_index("region_type")["coverage_rate_pct"]
        if "core" not in rate or "county" not in rate:
            return float("nan")
        return float(rate["core"] - rate["county"])


def analyze_coverage(ds: Dataset, radius_km: Limit | None = None, distance: str = "euclidean",
                     graph: RoadNetwork | nx.MultiDiGraph | str | None = None, radius_min: Limit | None = None,
                     mode: str | dict[str, str] = "drive", demand: gpd.GeoDataFrame | None = None,
                     full_km: Limit | None = None, full_min: Limit | None = None, **options: float) -> Coverage:
    """Measure how well the branches serve the population within a service radius or travel time.

    - `radius_km`: one number or one per region type, e.g. {"core": 1.2, "county": 3.5}; a town whose own
      type (e.g. "fringe") has no entry uses its county's type. Default 3 km.
    - `radius_min`: a travel-time limit in minutes instead (one number or per region type).
    - `full_km` (with a radius) or `full_min` (with radius_min): gradual coverage, as MCLP's — a town wholly
      covered within it of its nearest branch, less and less to none at the radius (one number or one per region
      type, each at most the radius; 0: from the branch on). Each unit's `covered_share`, and beside the covered
      residents by county and region the residents counted by distance (`covered_by_distance`,
      `coverage_by_distance_pct`).
    - `distance`: "euclidean" (straight line) or "network" with `graph` (a RoadNetwork, an osmnx graph, or
      the path of an OSM XML / GraphML file); points farther than `max_snap_m` from the roads fall back to
      straight line x `detour_factor`, and the result says so (`method` column, `notes`).
    - `mode`: "drive" or "walk", or one per region type, e.g. {"core": "walk", "county": "drive"} (a town takes
      its mode as it takes its limit). `demand`: towns by default, or any GeoDataFrame of demand units with
      `population` and `county` (e.g. `population_grid(ds, cell_km=1)`).
    - Options: residents_per_branch_limit_wan (3.5), round_trip_limit_h (1.5), gdp_cuts_yi ((200, 500)),
      speed_kmh (30; driving, one or per region type, e.g. {"core": 20, "county": 40}), walk_speed_kmh (4.5),
      detour_factor (1.3, road km per straight-line km), max_snap_m (500). The speeds make the travel times off
      the roads (straight line x detour_factor, and the legs to and from a road); by road, driving takes each
      road's own speed (load_road_network's highway_speeds_kmh) and walking the walking speed.
    """
    settings = _settings(radius_km, radius_min, distance, mode, options, full_km, full_min)
    check_read(ds.branches, "branches")  # replaced after the Dataset was made
    network = _network(graph) if distance == "network" else None
    units = _demand_units(ds, demand)
    crs = network.crs if network is not None else metric_crs(ds.counties, units, ds.branches)
    unit_xy, branch_xy = xy_metres(units, crs), xy_metres(ds.branches, crs)
    branches = _branches_with_county(ds, units)
    units[_limit_column(settings)] = _unit_limits(units, settings.limit, settings.unit)
    travel = travel_groups(settings.travel, _unit_modes(units, settings.mode_by_region or settings.travel.mode),
                           _unit_speeds(units, settings.speed_by_region))
    settings = _limits_in_use(settings, units)
    demand_note = _demand_note(ds, demand) + (list(network.notes) if network is not None else [])
    method = _measure_units(units, branches, unit_xy, branch_xy, settings, network, travel) + demand_note
    _add_covered_share(units, settings)
    _add_distance_reasons(units)
    projected = "population_column" in ds.towns.attrs  # no census total to check its towns against
    reach = _branch_town_metres(ds.counties, units, branches)  # for the notes on far branches, city's and counties'
    notes = method + _data_notes(ds.counties, units, branches, reach, projected)
    county_notes = _county_notes(ds.counties, units, branches, reach, settings, projected, demand_note)
    branch_table = _measure_branches(branches, units, metre_places(branch_xy)[1])
    town_area = _town_areas_at_points(ds, demand, crs)  # for the service areas' residents and the note on them
    outlines = _add_service_areas(branch_table, ds, units if demand is not None else None, crs, town_area)
    by_county = _county_table(ds.counties, units, branches, settings)
    by_region = _region_table(by_county, units, branch_table, settings)
    notes += _area_notes(by_county) + _town_point_note(units, settings, town_area)
    gaps = units[~units["covered"]].sort_values("population", ascending=False).reset_index(drop=True)
    underserved = _underserved(units) if demand is None else _underserved_from_cells(units, ds.towns, settings)
    kind = "towns" if demand is None else "cells"
    return Coverage(units, branch_table, by_county, by_region, gaps, underserved, settings, notes, kind, county_notes,
                    str(ds.counties.attrs.get("attribution", "")), ds.counties.geometry.reset_index(drop=True),
                    outlines)


def _demand_note(ds: Dataset, demand: gpd.GeoDataFrame | None) -> list[str]:
    residents = _residents_note(ds.towns) + _estimated_note(ds.towns)
    if demand is None:
        return residents
    if "population_method" not in demand or demand["population_method"].isna().all():
        return residents + [f"Demand: {len(demand):,} demand units given instead of the {len(ds.towns)} towns."]
    left_out = [demand.attrs[LEFT_OUT]] if demand.attrs.get(LEFT_OUT) else []
    return residents + [f"Demand: {len(demand):,} population cells from {len(ds.towns)} towns "
                        f"({demand['population_method'].dropna().iloc[0]})."] + left_out


def _estimated_note(towns: gpd.GeoDataFrame) -> list[str]:
    """Where the towns' residents are estimates — their population_method says so, as the bundled towns' —, how
    (unless another column counts them: _residents_note)."""
    if "population_method" not in towns or "population_column" in towns.attrs:
        return []
    estimated = towns["population_method"].astype(str).str.startswith("estimated")
    if not estimated.any():
        return []
    which = "The towns'" if estimated.all() else f"{estimated.sum():,} of the {len(towns):,} towns'"
    return [f"{which} residents 乡镇人口 are estimates ({towns['population_method'][estimated].iloc[0]}): a town's "
            "own figure is indicative."]


def _residents_note(towns: gpd.GeoDataFrame) -> list[str]:
    """Which column the residents were counted by when it is not the towns' population (read_towns'
    `population`), beside what the population column holds."""
    column = towns.attrs.get("population_column")
    if column is None:
        return []
    usual = towns.attrs.get("usual_population")
    beside = f"; their population column: {usual / 1e4:,.1f}万" if usual else ""
    return [f"Residents 常住人口: the towns' column '{column}', {towns['population'].sum() / 1e4:,.1f}万 in all"
            f"{beside}."]


def _settings(radius_km: Limit | None, radius_min: Limit | None, distance: str, mode: str | dict,
              options: dict, full_km: Limit | None = None, full_min: Limit | None = None) -> CoverageSettings:
    if radius_km is not None and radius_min is not None:
        raise InputError("give either radius_km or radius_min, not both", file="analyze_coverage")
    check_full(full_km, full_min, radius_min is not None)
    travel_keys = {"speed_kmh", "walk_speed_kmh", "detour_factor", "max_snap_m"}
    unknown = set(options) - travel_keys - {"residents_per_branch_limit_wan", "round_trip_limit_h", "gdp_cuts_yi"}
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(sorted(unknown))}", file="analyze_coverage")
    by_region = dict(mode) if isinstance(mode, dict) else None
    checked_modes(list(by_region.values()) if by_region else mode, len(by_region) if by_region else 1,
                  file="analyze_coverage")
    check_distance(distance, "analyze_coverage")
    _check_options(options)
    speed_by_region = dict(options["speed_kmh"]) if isinstance(options.get("speed_kmh"), dict) else None
    given = {k: options[k] for k in travel_keys & set(options) if not (k == "speed_kmh" and speed_by_region)}
    travel = TravelSettings(distance=distance, mode="drive" if by_region else mode, **given)
    rest = {k: v for k, v in options.items() if k not in travel_keys}
    if radius_km is None and radius_min is None:
        radius_km = DEFAULT_RADIUS_KM
    return CoverageSettings(radius_km=radius_km, radius_min=radius_min, travel=travel, mode_by_region=by_region,
                            speed_by_region=speed_by_region, full_km=full_km, full_min=full_min, **rest)


def check_full(full_km: Limit | None, full_min: Limit | None, timed: bool, file: str = "analyze_coverage") -> None:
    """Gradual coverage's full radius in the limit's own unit (full_km with a radius, full_min with radius_min),
    each value a number of 0 or more; errors name `file` (the caller)."""
    if (full_min if not timed else full_km) is not None:
        raise InputError("full_km goes with a radius in km; with radius_min give full_min" if timed else
                         "full_min goes with radius_min (a travel time); with a radius in km give full_km",
                         file=file)
    full = full_min if timed else full_km
    for kind, value in (full.items() if isinstance(full, dict) else [(None, full)] if full is not None else []):
        if not is_number(value) or not np.isfinite(value) or value < 0:
            which = "" if kind is None else f" for {kind}"
            raise InputError(f"full_{'min' if timed else 'km'} must be a number of {'minutes' if timed else 'km'} "
                             f"of 0 or more{which}, got {value!r:.40}", file=file)


def full_beyond_limit(full: Limit, limit: Limit) -> tuple[str | None, float, float] | None:
    """The first of gradual coverage's full radii beyond its limit — a region type's beyond its own, one number
    beyond the smallest of the region types' — as (region type or None, full radius, limit); None where none is."""
    smallest = min(limit.values()) if isinstance(limit, dict) else limit
    for kind, value in (full.items() if isinstance(full, dict) else [(None, full)]):
        within = limit.get(kind) if isinstance(limit, dict) and kind is not None else smallest
        if within is not None and value > within:
            return kind, value, within
    return None


def refuse_full_beyond(points: pd.DataFrame, full: np.ndarray, limit: np.ndarray, flag: str, unit: str,
                       file: str) -> None:
    """An InputError naming the first demand point (a town, or a cell and its town) whose full radius is beyond its
    own limit — a fringe town taking its county's type —, with the full radius its region type could take."""
    full, limit = (np.broadcast_to(np.asarray(value, float), (len(points),)) for value in (full, limit))
    over = np.flatnonzero(full > limit)
    if len(over):
        point, kind, first = points.iloc[over[0]], points.iloc[over[0]].get("region_type"), over[0]
        raise InputError(f"{flag}: {point.get('name', point.get('town', ''))} ({point.get('county', '')}) would be "
                         f"wholly covered within {full[first]:g} {unit}, beyond its limit of {limit[first]:g} {unit}"
                         + (f"; give its region type its own, e.g. {kind}={limit[first]:g}" if isinstance(kind, str)
                            else ""), file=file)


def _add_covered_share(units: gpd.GeoDataFrame, s: CoverageSettings) -> None:
    """With gradual coverage (s.full), each unit's full radius and covered_share: 1 within it of its nearest branch,
    falling linearly to 0 at its limit (models._gradual.covered_share, as MCLP counts it); a unit whose full radius
    is beyond its own limit (a fringe town taking its county's type) refused, named."""
    from netopt.models._gradual import covered_share

    if s.full is None:
        return
    full = (_by_region_type(units, s.full, f"full_{s.unit}", f"the full {s.unit}") if isinstance(s.full, dict)
            else pd.Series(float(s.full), index=units.index)).to_numpy(float)
    limit = units[_limit_column(s)].to_numpy(float)
    refuse_full_beyond(units, full, limit, f"full_{s.unit}", s.unit, "analyze_coverage")
    reach = units["nearest_branch_km" if s.unit == "km" else "nearest_branch_min"].to_numpy(float)
    units[f"full_{'radius_km' if s.unit == 'km' else 'time_min'}"] = full
    units["covered_share"] = covered_share(np.nan_to_num(reach, nan=np.inf), full, limit)


OPTION_UNITS = {"residents_per_branch_limit_wan": "万人", "round_trip_limit_h": "hours"}


def _check_options(options: dict) -> None:
    """analyze_coverage's numeric options, each a number of the right sign (an InputError naming it): a negative
    speed made negative travel times; GDP cuts are two increasing 亿元 figures."""
    check_speeds(options.get("speed_kmh", 30.0), options.get("walk_speed_kmh", 4.5), options.get("detour_factor", 1.3),
                 None, "analyze_coverage")
    for name, unit in OPTION_UNITS.items():
        check_amount(options.get(name), name, "analyze_coverage", unit)
    check_amount(options.get("max_snap_m"), "max_snap_m", "analyze_coverage", "metres", positive=False)
    cuts = options.get("gdp_cuts_yi")
    if cuts is not None and not (isinstance(cuts, (tuple, list)) and len(cuts) == 2 and all(map(is_number, cuts))
                                 and 0 <= cuts[0] < cuts[1]):
        raise InputError(f"gdp_cuts_yi is two increasing GDP figures (亿元), e.g. (200, 500); got {cuts!r}",
                         file="analyze_coverage")


def _network(graph: RoadNetwork | nx.MultiDiGraph | str | None) -> RoadNetwork:
    if graph is None:
        raise InputError(NEEDS_GRAPH, file="analyze_coverage")
    return as_road_network(graph)


def _limit_column(settings: CoverageSettings) -> str:
    return "radius_km" if settings.unit == "km" else "time_limit_min"


def _demand_units(ds: Dataset, demand: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    units = (ds.towns if demand is None else in_wgs84(demand)).copy()
    for column in ("population", "county"):
        if column not in units:
            raise InputError(f"demand units need a '{column}' column", file="demand")
    if units["population"].isna().any():
        missing = units.loc[units["population"].isna(), "name" if "name" in units else "county"].head(5)
        raise InputError(f"demand without population cannot be measured (e.g. {', '.join(map(str, missing))}); "
                         "add a population column or drop those rows", file="towns")
    _check_population_numbers(units)
    return _with_region_types(ds, units)


def _check_population_numbers(units: gpd.GeoDataFrame) -> None:
    """An InputError naming the rows whose population is not a number of at least 0 (in a table built in code,
    which read_towns has not checked)."""
    numbers = pd.to_numeric(units["population"], errors="coerce").to_numpy(float)
    rows = np.flatnonzero(np.isnan(numbers) | (numbers < 0))
    if len(rows):
        shown = ", ".join(repr(value) for value in units["population"].iloc[rows[:3]])
        raise InputError(Problem("towns", f"population must be a number of residents, 0 or more (got {shown})",
                                 column="population", rows=tuple(int(r) for r in rows)))


def _with_region_types(ds: Dataset, points: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The points (each with its county) with their own region type (NA where they give none) and their
    county's: what a limit by region type measures them by."""
    points = points.copy()
    if "region_type" not in points:
        points["region_type"] = pd.NA
    points["county_region_type"] = points["county"].map(ds.counties.set_index("name")["region_type"])
    return points


def _branches_with_county(ds: Dataset, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The branches, each with its county (see point_counties)."""
    branches = ds.branches.copy()
    branches["county"] = point_counties(ds, branches, units)
    return branches


def point_counties(ds: Dataset, points: gpd.GeoDataFrame, units: gpd.GeoDataFrame | None = None) -> np.ndarray:
    """The county of each point: the boundary it lies in (or the nearest, for a point just over a border or in
    a lake); without boundaries, the county of its nearest town (or demand unit of `units`)."""
    units = ds.towns if units is None else units
    if len(points) == 0:
        return np.array([], dtype=object)
    counties = ds.counties[["name", "geometry"]].rename(columns={"name": "county_found"})
    if counties.geometry.isna().any():
        crs = metric_crs(units, points)
        _, nearest_unit = nearest_site(xy_metres(points, crs), xy_metres(units, crs))
        return units["county"].to_numpy()[nearest_unit]
    joined = gpd.sjoin(points[["geometry"]], counties, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    outside = joined["county_found"].isna()
    if outside.any():
        crs = metric_crs(ds.counties)
        near = gpd.sjoin_nearest(points.loc[outside, ["geometry"]].to_crs(crs), counties.to_crs(crs), how="left")
        joined.loc[outside, "county_found"] = near[~near.index.duplicated()]["county_found"]
    return joined["county_found"].to_numpy()


def demand_radius_km(ds: Dataset, radius_km: Limit, demand: gpd.GeoDataFrame | None = None) -> np.ndarray:
    """The radius (km) each town of ds.towns (or each demand unit, e.g. a population grid's cells) is measured
    by: one number, or one per region type as analyze_coverage takes it (a unit whose own type has none uses its
    county's); a model's radius_km per demand point."""
    return _unit_limits(_demand_units(ds, demand), radius_km, "km").to_numpy(float)


def demand_limits(ds: Dataset, limit: Limit, demand: gpd.GeoDataFrame | None = None, unit: str = "km") -> np.ndarray:
    """demand_radius_km for a limit in `unit` "km" or "min" (a travel time per town or demand unit); a limit
    that is one number stays one number."""
    if not isinstance(limit, dict):
        return limit
    return _unit_limits(_demand_units(ds, demand), limit, unit).to_numpy(float)


def demand_modes(ds: Dataset, mode: str | dict[str, str], demand: gpd.GeoDataFrame | None = None
                 ) -> str | np.ndarray:
    """The travel mode each town of ds.towns (or demand unit) is measured by, as analyze_coverage(mode=...) takes
    it: one mode stays one; one per region type, e.g. {"core": "walk", "county": "drive"}, becomes one per unit (a
    model's mode per demand point)."""
    if not isinstance(mode, dict):
        return mode
    return _unit_modes(_demand_units(ds, demand), mode)


def place_modes(ds: Dataset, places: gpd.GeoDataFrame, mode: str | dict[str, str]) -> str | np.ndarray:
    """demand_modes for points with a county, e.g. candidate sites: the mode where each stands."""
    return mode if not isinstance(mode, dict) else _unit_modes(_with_region_types(ds, places), mode)


def demand_speeds(ds: Dataset, speed_kmh: float | dict[str, float], demand: gpd.GeoDataFrame | None = None
                  ) -> float | np.ndarray:
    """The driving speed (km/h) each town of ds.towns (or demand unit) is measured at, as analyze_coverage(
    speed_kmh=...) takes it: one number stays one; one per region type, e.g. {"core": 20, "county": 40}, becomes
    one per unit (a model's speed_kmh per demand point)."""
    return speed_kmh if not isinstance(speed_kmh, dict) else _unit_speeds(_demand_units(ds, demand), speed_kmh)


def place_speeds(ds: Dataset, places: gpd.GeoDataFrame, speed_kmh: float | dict[str, float]) -> float | np.ndarray:
    """demand_speeds for points with a county, e.g. candidate sites: the driving speed where each stands."""
    if not isinstance(speed_kmh, dict):
        return speed_kmh
    return _unit_speeds(_with_region_types(ds, places), speed_kmh)


SPEED_OPTIONS = ("speed_kmh", "walk_speed_kmh", "detour_factor")  # how fast, and how far round, off the roads


def straight_line_reach(kinds: pd.DataFrame, radius_km: Limit | None = None, radius_min: Limit | None = None,
                        mode: str | dict[str, str] = "drive", **speeds) -> pd.DataFrame:
    """For demand units of each kind in `kinds` (columns region_type and county_region_type, one row a kind): the
    straight-line km their limit allows — a radius as it is; a travel time at their travel mode's speed, straight
    line x the detour factor — and their minutes per straight-line km, as analyze_coverage by straight line
    measures them (a limit, mode or driving speed per region type read as it reads them); for code that measures
    km alone, such as tiled grids. `speeds`: speed_kmh (one or per region type), walk_speed_kmh, detour_factor."""
    settings = _settings(radius_km, radius_min, "euclidean", mode, dict(speeds))
    kinds = kinds.reset_index(drop=True)
    modes = _unit_modes(kinds, settings.mode_by_region or settings.travel.mode)
    drive = _unit_speeds(kinds, settings.speed_by_region)
    speed = np.where(modes == "walk", settings.travel.walk_speed_kmh,
                     settings.travel.speed_kmh if drive is None else drive)
    minutes_per_km = settings.travel.detour_factor / speed * 60.0
    limits = _unit_limits(kinds, settings.limit, settings.unit).to_numpy(float)
    allowed = limits if settings.unit == "km" else limits / minutes_per_km
    return kinds.assign(radius_km=allowed, minutes_per_km=minutes_per_km,
                        **({"time_limit_min": limits} if settings.unit == "min" else {}))


def speeds_per_point(ds: Dataset, speeds: dict, demand: gpd.GeoDataFrame | None = None,
                     places: gpd.GeoDataFrame | None = None, file: str = "model") -> dict:
    """A model's speed keywords from `speeds` as analyze_coverage takes them (speed_kmh one or one per region
    type, walk_speed_kmh, detour_factor): a driving speed per region type becomes one per town (or `demand` unit,
    or each of `places`, points with a county); an InputError naming any other keyword."""
    unknown = sorted(set(speeds) - set(SPEED_OPTIONS))
    if unknown:
        raise InputError(f"unknown keyword(s) {', '.join(unknown)}; the speeds are {', '.join(SPEED_OPTIONS)}",
                         file=file)
    if not isinstance(speeds.get("speed_kmh"), dict):
        return dict(speeds)
    by_point = (demand_speeds(ds, speeds["speed_kmh"], demand) if places is None else
                place_speeds(ds, places, speeds["speed_kmh"]))
    return {**speeds, "speed_kmh": by_point}


def _unit_speeds(units: gpd.GeoDataFrame, speed_by_region: dict[str, float] | None) -> np.ndarray | None:
    """Each unit's driving speed given one per region type (as _unit_limits takes a limit); None without."""
    if speed_by_region is None:
        return None
    return _by_region_type(units, speed_by_region, "speed_kmh", "speed_kmh").to_numpy(float)


def _unit_modes(units: gpd.GeoDataFrame, mode: str | dict[str, str]) -> np.ndarray:
    """Each unit's travel mode: `mode` for all, or its region type's (as _unit_limits takes a limit)."""
    if not isinstance(mode, dict):
        return checked_modes(mode, len(units), file="analyze_coverage")
    modes = _by_region_type(units, mode, "mode", "mode")
    return checked_modes(modes.to_numpy(object), len(units), file="analyze_coverage")


def place_limits(ds: Dataset, places: gpd.GeoDataFrame, limit: Limit, unit: str = "km") -> np.ndarray:
    """The radius (km; or with `unit` "min" the travel time, minutes) where each of `places` (points with a
    county, e.g. candidate sites) stands, as demand_radius_km measures a town there: by its own region type if it
    gives one, else its county's."""
    return _unit_limits(_with_region_types(ds, places), limit, unit).to_numpy(float)


def _unit_limits(units: gpd.GeoDataFrame, limit: Limit, unit: str) -> pd.Series:
    if not isinstance(limit, dict):
        _check_positive_limit({"all": limit}, unit)
        return pd.Series(float(limit), index=units.index)
    _check_positive_limit(limit, unit)
    return _by_region_type(units, limit, f"radius_{unit}", f"the {unit} limit").astype(float)


def _by_region_type(units: gpd.GeoDataFrame, values: dict, name: str, what: str) -> pd.Series:
    """Each unit's value of a setting given per region type (a limit, a travel mode; `name` its argument, `what`
    as said), by _limit_kind; an InputError for a key that is no region type or a unit no key applies to."""
    _check_limit_keys(units, values, name)
    found = _limit_kind(units, values).map(values)
    if found.isna().any():
        kinds = sorted(set(units.loc[found.isna(), "county_region_type"].dropna().astype(str)))
        raise InputError(f"{what} has no entry for region type(s) {', '.join(kinds) or 'unknown'}; "
                         f"given: {', '.join(values)}", file="analyze_coverage")
    return found


def _check_limit_keys(units: gpd.GeoDataFrame, limit: dict, name: str) -> None:
    """An InputError for a key of a per-region limit (or mode; `name` the argument's) that is no region type (a
    misspelt "fringe" was ignored)."""
    found = {*units["region_type"].dropna().astype(str), *units["county_region_type"].dropna().astype(str)}
    unknown = [repr(key) for key in limit if key not in {*REGION_TYPES, *found}]
    if unknown:
        raise InputError(f"{name} has an entry for {', '.join(unknown)}, which is not a region type: the "
                         f"region types are {', '.join(REGION_TYPES)}", file="analyze_coverage")


def _limit_kind(units: gpd.GeoDataFrame, limit: dict) -> pd.Series:
    """The region type whose limit measures each demand unit: its own, else its county's, else (a fringe district
    given no fringe limit) county; NaN where none applies."""
    kind = units["region_type"].where(units["region_type"].isin(list(limit)))
    kind = kind.fillna(units["county_region_type"].where(units["county_region_type"].isin(list(limit))))
    return kind.mask(_on_county_limit(units, limit), "county") if "county" in limit else kind


def _on_county_limit(units: gpd.GeoDataFrame, limit: Limit) -> pd.Series:
    """Demand units measured by the county limit because neither their own region type nor their county's has one."""
    if not isinstance(limit, dict):
        return pd.Series(False, index=units.index)
    return ~units["region_type"].isin(list(limit)) & ~units["county_region_type"].isin(list(limit))


def _limits_in_use(s: CoverageSettings, units: gpd.GeoDataFrame) -> CoverageSettings:
    """The settings with only the region types some demand unit was measured by: what the notes name (a fringe
    radius given for a city without fringe towns is not reported); so for a mode per region type."""
    for name in ("mode_by_region", "speed_by_region"):
        by_region = getattr(s, name)
        if by_region is not None:
            used = set(_limit_kind(units, by_region).dropna())
            s = replace(s, **{name: {k: v for k, v in by_region.items() if k in used} or by_region})
    if not isinstance(s.limit, dict):
        return s
    used = set(_limit_kind(units, s.limit).dropna())
    return replace(s, **{"radius_min" if s.unit == "min" else "radius_km":
                         {k: v for k, v in s.limit.items() if k in used} or s.limit})


def _check_positive_limit(limit: dict, unit: str) -> None:
    """An InputError naming the argument (radius_km or radius_min) and each region type whose limit is not above 0."""
    bad = [k for k, v in limit.items() if not is_number(v) or not np.isfinite(v) or v <= 0]
    if bad:
        word = "kilometres" if unit == "km" else "minutes"
        which = "" if list(limit) == ["all"] else " for " + ", ".join(f"{k} ({limit[k]!r})" for k in bad)
        given = "" if which else f", got {limit['all']!r}"
        raise InputError(f"radius_{unit} must be a positive number of {word}{which}{given}", file="analyze_coverage")


def _measure_units(units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, unit_xy: np.ndarray, branch_xy: np.ndarray,
                   s: CoverageSettings, network: RoadNetwork | None,
                   travel: list[tuple[TravelSettings, np.ndarray]]) -> list[str]:
    limits = units[_limit_column(s)].to_numpy(float)
    reach = measure_reach_by_travel(unit_xy, branch_xy, limits, s.unit, travel, network)
    has = reach.nearest >= 0
    for column in ("branch_id", "name"):  # None where no branch is reachable (or there is none at all)
        values = np.full(len(units), None, dtype=object)
        values[has] = branches[column].to_numpy()[reach.nearest[has]]
        units[f"nearest_branch_{'id' if column == 'branch_id' else column}"] = values
    units["nearest_branch_km"] = reach.nearest_km
    units["nearest_branch_min"] = reach.nearest_min
    units["covered"] = (reach.nearest_km if s.unit == "km" else reach.nearest_min) <= limits
    units["branches_within_limit"] = reach.count_within
    per_branch = units["population"] / units["branches_within_limit"].replace(0, np.nan)
    units["residents_per_reachable_branch_wan"] = per_branch / 1e4
    units["round_trip_h"] = 2 * units["nearest_branch_min"] / 60.0
    units["method"] = reach.method
    units["reason"] = _reasons(units, s)
    return _method_notes(units, s)


TOWN_TOTAL_RANGE = (0.5, 1.5)  # a county whose towns hold a share of its counties-table residents outside it is named


def _town_total_notes(counties: gpd.GeoDataFrame, held: pd.Series) -> list[str]:
    """Counties whose towns hold far fewer (or more) residents than the counties table gives them (`held`: the
    residents of the demand units by county): towns missing from the towns file (or counted twice) make the
    county's coverage and residents per branch misleading."""
    if "population" not in counties:
        return []
    fewer, more = [], []
    for name, total in zip(counties["name"], counties["population"]):
        have = float(held.get(name, 0.0))
        if total > 0 and not TOWN_TOTAL_RANGE[0] * total <= have <= TOWN_TOTAL_RANGE[1] * total:
            (fewer if have < total else more).append((name, have, total))
    missing = BUNDLED_TOWNS_MISSING if counties.attrs.get("towns_bundled") else "towns missing from the towns file?"
    return _town_total_note(fewer, "fewer", missing) + _town_total_note(more, "more", "towns counted twice?")


BUNDLED_TOWNS_MISSING = ("few or none of its towns are among the bundled ones (a development zone, or a unit new "
                         "since 2016's divisions): add a towns table?")


TOWN_TOTAL_EACH_UP_TO = 3  # more counties alike than this are named in one note


def _town_total_note(found: list[tuple[str, float, float]], than: str, why: str) -> list[str]:
    """A note per county (name, residents its towns hold, the counties table's) — or, for many, one naming them."""
    if len(found) > TOWN_TOTAL_EACH_UP_TO:
        listed = "; ".join(f"{name} {have / 1e4:,.1f}万 of {total / 1e4:,.1f}万" for name, have, total in found)
        return [f"{len(found)} counties' towns hold far {than} residents than the counties table gives them — {why} "
                f"({listed}). Their coverage and residents per branch count their towns only."]
    return [f"{name}: its towns hold {have / 1e4:,.1f}万 residents, the counties table gives it {total / 1e4:,.1f}万 — "
            f"{why} Its coverage and residents per branch count its towns only." for name, have, total in found]


def data_notes(ds: Dataset) -> list[str]:
    """What the data itself asks to check (as analyze_coverage's notes say it): counties whose towns hold far fewer
    or more residents than the counties table gives them, and branches stacked on one point."""
    projected = "population_column" in ds.towns.attrs
    branches = _branches_with_county(ds, ds.towns)
    return _data_notes(ds.counties, ds.towns, branches, _branch_town_metres(ds.counties, ds.towns, branches), projected)


def _data_notes(counties: gpd.GeoDataFrame, units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame,
                reach: tuple[np.ndarray, np.ndarray] | None, projected: bool = False) -> list[str]:
    """data_notes over demand units (towns or cells) and branches that already carry their county (`reach`: each
    branch's metres to its nearest unit, and which, _branch_town_metres); with residents counted by another column
    than the towns' population (`projected`), no check of them against the counties table's."""
    totals = [] if projected else _town_total_notes(counties, units.groupby("county")["population"].sum())
    return totals + _stacked_branch_notes(branches) + _far_branch_notes(counties, units, branches, reach)


def _county_notes(counties: gpd.GeoDataFrame, units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame,
                  reach: tuple[np.ndarray, np.ndarray] | None, s: CoverageSettings, projected: bool,
                  demand_note: list[str]) -> dict[str, list[str]]:
    """Each county's report notes: how its own demand points were measured, and what its own data asks to check
    (its towns' residents against the counties table, its branches stacked on one point or far from every town) —
    each measure taken once for the city, then read by county."""
    held = units.groupby("county")["population"].sum()
    own_units = {name: group for name, group in units.groupby("county", sort=False)}
    branch_county, points = branches["county"].to_numpy(), _rounded_points(branches)
    figures = pd.DataFrame(counties[[column for column in ("name", "population") if column in counties]])
    notes = {}
    for at, name in enumerate(counties["name"]):
        own = branch_county == name
        totals = [] if projected else _town_total_notes(figures.iloc[[at]], held)
        far = [] if reach is None else _far_branch_notes(counties.iloc[[at]], units, branches[own],
                                                         (reach[0][own], reach[1][own]))
        notes[name] = (_method_notes(own_units.get(name, units.iloc[:0]), s) + demand_note + totals
                       + _stacked_branch_notes(branches, own, points) + far)
    return notes

STACKED_BRANCHES = 3  # this many branches at the very same point are most likely geocoded to a town or district


def _rounded_points(branches: gpd.GeoDataFrame) -> np.ndarray:
    """Each branch's lon, lat to 6 decimals (about 0.1 m): the very same point is the same pair."""
    return np.column_stack([branches.geometry.x.round(6), branches.geometry.y.round(6)])


def _stacked_branch_notes(branches: gpd.GeoDataFrame, own: np.ndarray | None = None,
                          points: np.ndarray | None = None) -> list[str]:
    """Branches sharing their exact point with STACKED_BRANCHES - 1 others or more: a geocoder's town or district
    point rather than their addresses, which makes their service radii and the coverage around them rough. Of
    the branches `own` marks (all by default; `points`: every branch's _rounded_points, where made already)."""
    own = np.ones(len(branches), bool) if own is None else own
    if not own.any():
        return []
    xy = (_rounded_points(branches) if points is None else points)[own]
    _, point, counts = np.unique(xy, axis=0, return_inverse=True, return_counts=True)
    point = point.ravel()
    sizes = counts[point]
    stacked = sizes >= STACKED_BRANCHES
    if not stacked.any():
        return []
    biggest = branches[own][point == point[np.argmax(sizes)]]
    shared = len(np.unique(point[stacked]))
    return [f"{int(stacked.sum())} branches share {shared} point{'s' if shared > 1 else ''}, {STACKED_BRANCHES} or "
            f"more at the very same coordinates (e.g. {len(biggest)} in {biggest['county'].iloc[0]}, such as "
            f"{biggest['name'].iloc[0]}): located by their town or district rather than their address? Their "
            "service radii and the coverage around them are rough."]


def _branch_town_metres(counties: gpd.GeoDataFrame, units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame
                        ) -> tuple[np.ndarray, np.ndarray] | None:
    """Where some county has no boundary: each branch's metres to its nearest demand unit, and which unit; else
    None (reading checks places against the boundaries)."""
    if counties.geometry.notna().all() or len(units) == 0 or len(branches) == 0:
        return None
    crs = metric_crs(units, branches)
    return nearest_site(xy_metres(branches, crs), xy_metres(units, crs))


def _far_branch_notes(counties: gpd.GeoDataFrame, units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame,
                      reach: tuple[np.ndarray, np.ndarray] | None) -> list[str]:
    """Without county boundaries, branches farther than OUTSIDE_LIMIT_KM from every town (`reach`: each branch's
    metres to its nearest unit, and which): wrong coordinates, most likely, counted in the county of their nearest
    town."""
    from netopt.io import OUTSIDE_LIMIT_KM

    if reach is None or counties.geometry.notna().all() or len(branches) == 0:
        return []
    metres, nearest = reach
    far = metres > OUTSIDE_LIMIT_KM * 1000.0
    if not far.any():
        return []
    worst = int(np.argmax(metres))
    return [f"{int(far.sum())} branch{'es lie' if far.sum() > 1 else ' lies'} more than {OUTSIDE_LIMIT_KM:.0f} km "
            f"from every town (e.g. {branches['name'].iloc[worst]}, {metres[worst] / 1000.0:,.0f} km from "
            f"{units['name'].iloc[nearest[worst]]}): wrong coordinates? Without county boundaries each counts in "
            "the county of its nearest town."]


def _method_notes(units: gpd.GeoDataFrame, s: CoverageSettings) -> list[str]:
    notes = [f"Coverage by {s.describe()}."]
    stand_in = _on_county_limit(units, s.limit)
    if stand_in.any():
        kinds = ", ".join(sorted(set(units.loc[stand_in, "county_region_type"].dropna().astype(str))))
        which = (f"in counties of region type {kinds}, which has no limit of its own," if kinds else
                 "in counties without a region type (区域类型 core/county/fringe in the counties table)")
        notes.append(f"{int(stand_in.sum())} demand points {which} are measured by the county limit "
                     f"({s.limit['county']:g} {s.unit}).")
    fallback = units["method"].astype(str).str.contains("outside the road network")
    if fallback.any():
        notes.append(f"{int(fallback.sum())} of {len(units)} demand points lie more than {s.travel.max_snap_m:g} m "
                     f"from the road network: their distances are straight line x {s.travel.detour_factor:g}.")
    if s.travel.distance == "euclidean":
        notes.append(f"Travel times are straight-line km x {s.travel.detour_factor:g} at {_speeds_words(s)}.")
    else:
        modes = set((s.mode_by_region or {"all": s.travel.mode}).values())
        said = {"drive": "driving takes each road's speed (by road class)",
                "walk": f"walking is {s.travel.walk_speed_kmh:g} km/h"}
        on_roads = [words for mode, words in said.items() if mode in modes]
        notes.append(f"By road, {' and '.join(on_roads)}; off the roads (to and from them, and where they do not "
                     f"reach) straight line x {s.travel.detour_factor:g} at {_speeds_words(s)}.")
    return notes


def _speeds_words(s: CoverageSettings) -> str:
    """The straight-line speed of the travel mode, "30 km/h (drive)", or of each region type's where the mode or
    the driving speed is given per region type, "4.5 km/h (walk) in core, 40 km/h (drive) in county"."""
    kinds = s.travel_kinds()
    if not kinds:
        return f"{s.travel.access_speed_kmh():g} km/h ({s.travel.mode})"
    return ", ".join(f"{s.travel_in(kind).access_speed_kmh():g} km/h ({s.travel_in(kind).mode}) in {kind}"
                     for kind in kinds)


def _reasons(units: gpd.GeoDataFrame, s: CoverageSettings) -> pd.Series:
    """Why each unit is underserved, in Chinese and English (a county team reads the reports), "; "-joined ("" where
    it is not): no branch within its limit, too many residents per reachable branch, too long a round trip.
    Formatted only where a check fails (a grid has 10^5+ cells)."""
    per, trip = units["residents_per_reachable_branch_wan"], units["round_trip_h"]
    per_limit, trip_limit = s.residents_per_branch_limit_wan, s.round_trip_limit_h
    parts = (
        _texts(~units["covered"], units[_limit_column(s)],
               lambda v: f"{v:g} {s.unit}内无网点 no branch within {v:g} {s.unit}"),
        _texts(per > per_limit, per, lambda v: f"每个可达网点{v:.1f}万人（上限{per_limit:.1f}万） {v:.1f}万 residents per "
                                               f"reachable branch (limit {per_limit:.1f}万)"),
        _texts(trip > trip_limit, trip, lambda v: f"往返{v:.1f}小时（上限{trip_limit:.1f}） round trip {v:.1f} h (limit "
                                                  f"{trip_limit:.1f} h)"),
    )
    reasons = pd.Series("", index=units.index, dtype=object)
    for part in parts:
        reasons = reasons + np.where((reasons != "") & (part != ""), "; ", "") + part
    return reasons


def _texts(failed: pd.Series, values: pd.Series, say) -> pd.Series:
    """say(value) where a check failed, "" elsewhere."""
    texts = pd.Series("", index=values.index, dtype=object)
    failed = failed.fillna(False).astype(bool)
    texts[failed] = [say(value) for value in values[failed]]
    return texts


def _measure_branches(branches: gpd.GeoDataFrame, units: gpd.GeoDataFrame, place: np.ndarray) -> gpd.GeoDataFrame:
    """Per branch: the population of the units whose nearest branch it is (shared equally by the branches standing
    at one `place`, metre_places'), and its service radius (measured anew where the branches table is one netopt
    wrote, coverage.gpkg's, carrying an earlier run's: its service area is added by _add_service_areas)."""
    stats = _radius_stats(_shared_at_one_place(units[units["nearest_branch_id"].notna()], branches, place))
    earlier = [column for column in BRANCH_STATS if column in branches]
    out = branches.drop(columns=earlier).merge(stats, left_on="branch_id", right_index=True, how="left")
    out["assigned_population"] = out["assigned_population"].fillna(0).round().astype(int)
    out["assigned_towns"] = out["assigned_towns"].fillna(0).astype(int)
    return out


def _add_service_areas(branches: gpd.GeoDataFrame, ds: Dataset, demand: gpd.GeoDataFrame | None,
                       crs: object, town_area: gpd.GeoDataFrame | None = None) -> gpd.GeoSeries | None:
    """Adds each branch's service area 服务面积 (`service_area_km2`: the part of its county nearer its place than
    any other place holding a branch there, its Voronoi cell 泰森多边形, shared equally among the branches at one
    place, as those located by their town's point are; NaN where the counties have no boundaries), the radius
    of a circle as large (`area_radius_km`) and the residents in it (`service_area_population` 服务范围人口: each
    town's spread over its area as a population grid spreads them — `town_area`, where already made —, or the
    `demand` units'); returns the cells in WGS84 (None without boundaries). `crs`: metres."""
    from netopt.grid import residents_in

    cells, sharing = service_area_cells(ds.counties, branches, crs)
    branches["service_area_km2"] = np.asarray(cells.area, float) / 1e6 / sharing
    branches["area_radius_km"] = np.sqrt(branches["service_area_km2"] / np.pi)
    branches["service_area_population"] = np.nan
    if cells.isna().any() or not len(cells):
        return None
    distinct, place = distinct_cells(cells)
    residents = residents_in(gpd.GeoSeries(distinct, crs=crs), resident_areas(ds, demand, crs, town_area))
    branches["service_area_population"] = (residents[place] / sharing).round()
    return cells.to_crs(4326)


def distinct_cells(cells: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """The distinct service areas of branches (those at one place share one) and each branch's among them."""
    at, distinct = pd.factorize(shapely.to_wkb(cells.to_numpy()))
    return shapely.from_wkb(distinct), at


def resident_areas(ds: Dataset, demand: gpd.GeoDataFrame | None, crs: object,
                   town_area: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Where the residents live, in `crs` (metres), for counting them in areas: each town's area (its polygon, or its
    Voronoi cell in its county: `town_area` where already made), or the `demand` units given instead (a grid's
    cells)."""
    from netopt.grid import town_areas

    if demand is not None:
        return demand.to_crs(crs)
    return town_area if town_area is not None else town_areas(ds, crs)


def _town_areas_at_points(ds: Dataset, demand: gpd.GeoDataFrame | None, crs: object) -> gpd.GeoDataFrame | None:
    """The towns' areas (grid.town_areas, in `crs`) where a diagnosis counts residents at the town points and the
    counties have boundaries; None otherwise."""
    from netopt.grid import town_areas

    return town_areas(ds, crs) if demand is None and not ds.counties.geometry.isna().any() else None


def service_area_cells(counties: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, crs: object
                       ) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Each branch's place's Voronoi cell within its county (in `crs`, metres; None where the counties, named by
    `name`, have no boundaries) and how many branches stand at that place."""
    from netopt.grid import voronoi_cells

    cells, sharing = np.full(len(branches), None, dtype=object), np.ones(len(branches))
    if len(branches) and not counties.geometry.isna().any():
        bounds = counties.to_crs(crs).set_index("name").geometry
        xy, county = xy_metres(branches, crs), branches["county"].to_numpy()
        for name in pd.unique(county[pd.notna(county)]):
            mine = np.flatnonzero(county == name)
            places, at = metre_places(xy[mine])
            cells[mine] = np.asarray(voronoi_cells(shapely.points(places), bounds[name]), dtype=object)[at]
            sharing[mine] = np.bincount(at, minlength=len(places))[at]
    return gpd.GeoSeries(cells, index=branches.index, crs=crs), sharing


def metre_places(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where branches stand as one place: their points (xy in metres) to the metre — branches located by their
    town's point stand at one. Returns the distinct places and each branch's among them (a branch without a point
    alone at a place of its own, NaN)."""
    rounded = np.asarray(xy, float).reshape(-1, 2).round()
    placed = ~np.isnan(rounded).any(axis=1)
    places, at = np.unique(rounded[placed], axis=0, return_inverse=True)
    each = np.empty(len(rounded), int)
    each[placed] = at.ravel()
    each[~placed] = len(places) + np.arange((~placed).sum())
    return np.vstack([places, rounded[~placed]]), each


def _shared_at_one_place(served: pd.DataFrame, branches: gpd.GeoDataFrame, place: np.ndarray) -> pd.DataFrame:
    """The served units (each with its nearest_branch_id) once for every branch standing at the `place` of its
    nearest branch (metre_places') — its residents shared equally among them (whole people where they are whole:
    the first sharers a person more); a branch alone at its place keeps its units whole."""
    at = pd.DataFrame({"nearest_branch_id": branches["branch_id"].to_numpy(), "place": place})
    sharers = at.merge(at.rename(columns={"nearest_branch_id": "sharer"}), on="place")[["nearest_branch_id", "sharer"]]
    shared = served.assign(unit=np.arange(len(served))).merge(sharers, on="nearest_branch_id", how="left")
    together = shared["nearest_branch_id"].map(sharers.groupby("nearest_branch_id").size()).fillna(1.0).to_numpy()
    people = shared["population"].to_numpy(float)
    whole = np.floor(people / together)
    first = shared.groupby("unit").cumcount().to_numpy() < people - whole * together  # who takes the remainder
    share = np.where(people == np.round(people), whole + first, people / together)
    return shared.assign(population=share, nearest_branch_id=shared["sharer"].fillna(shared["nearest_branch_id"]))


RADIUS_STATS = ["assigned_towns", "assigned_population", "service_radius_km", "mean_distance_km", "farthest_town_km"]
SERVICE_AREA_STATS = ["service_area_km2", "area_radius_km", "service_area_population"]
BRANCH_STATS = [*RADIUS_STATS, *SERVICE_AREA_STATS]  # a branch's measures, made anew each run


def _radius_stats(served: pd.DataFrame) -> pd.DataFrame:
    """Per branch (indexed by its id) of the units it serves: their count and residents, and its service radius by
    three definitions — the km within which 80 % of them live, their mean km (weighted by residents; plain where
    it serves no one), its farthest unit's km."""
    order = served.sort_values(["nearest_branch_id", "nearest_branch_km"])
    branch, km = order["nearest_branch_id"], order["nearest_branch_km"].astype(float)
    people = order["population"].astype(float)
    by = people.groupby(branch)
    total = by.transform("sum")
    share = (by.cumsum() / total).where(total > 0, 1.0)
    reached = share >= SERVICE_RADIUS_SHARE - 1e-12
    stats = pd.DataFrame({"assigned_towns": by.size(), "assigned_population": by.sum(),
                          "farthest_town_km": km.groupby(branch).max()}, dtype=float)
    stats["service_radius_km"] = km[reached].groupby(branch[reached]).first().reindex(stats.index).fillna(
        stats["farthest_town_km"])
    mean_km = (km * people).groupby(branch).sum() / stats["assigned_population"]
    stats["mean_distance_km"] = mean_km.where(stats["assigned_population"] > 0, km.groupby(branch).mean())
    return stats[RADIUS_STATS]


def _county_table(counties: gpd.GeoDataFrame, units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame,
                  s: CoverageSettings) -> pd.DataFrame:
    table = pd.DataFrame({
        "county_id": counties["county_id"].values,
        "county": counties["name"].values,
        "region_type": counties["region_type"].values,
        "area_km2": counties["area_km2"].values,
        "gdp_yi": counties["gdp_yi"].values,
    }).set_index("county")
    table["population"] = units.groupby("county")["population"].sum()
    table["covered_population"] = units[units["covered"]].groupby("county")["population"].sum()
    if "covered_share" in units:
        table["covered_by_distance"] = (units["population"] * units["covered_share"]).groupby(units["county"]).sum()
    table["branches"] = branches.groupby("county").size()
    table = table.fillna({"population": 0, "covered_population": 0, "covered_by_distance": 0, "branches": 0})
    return _add_rates(table, s).reset_index()


def _add_rates(table: pd.DataFrame, s: CoverageSettings) -> pd.DataFrame:
    table["branches"] = table["branches"].astype(int)
    table["population_wan"] = table["population"] / 1e4
    table["coverage_rate_pct"] = 100.0 * table["covered_population"] / table["population"].replace(0, np.nan)
    if "covered_by_distance" in table:
        table["coverage_by_distance_pct"] = 100.0 * table["covered_by_distance"] / table["population"].replace(0,
                                                                                                             np.nan)
    table["residents_per_branch_wan"] = table["population_wan"] / table["branches"].replace(0, np.nan)
    table["vs_benchmark_wan"] = table["residents_per_branch_wan"] - s.residents_per_branch_limit_wan
    table["branches_per_100km2"] = 100.0 * table["branches"] / table["area_km2"].replace(0, np.nan)
    table["area_radius_km"] = area_radius_km(table["area_km2"], table["branches"])
    if "gdp_yi" in table:
        table["gdp_tier"] = gdp_tier(table["gdp_yi"], s.gdp_cuts_yi)
    return table


def gdp_tier(gdp_yi: pd.Series, cuts: tuple[float, float] = DEFAULT_GDP_CUTS_YI) -> pd.Series:
    """Label each GDP (亿元) as below the low cut, between the cuts, above the high cut, or unknown."""
    low, high = cuts
    labels = np.select([gdp_yi < low, gdp_yi > high, gdp_yi.notna()],
                       [f"<{low:g}亿", f">{high:g}亿", f"{low:g}–{high:g}亿"], "unknown")
    return pd.Series(labels, index=gdp_yi.index)


NO_REGION_TYPE = "unknown"  # by_region's row for counties the counties table gives no region type (区域类型)
RADIUS_STEPS_KM = (0.5, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0, 10.0)  # coverage_by_radius's rows
MINUTES_STEPS = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 45.0, 60.0)  # coverage_by_minutes's rows


def diagnosis_radii_km(cov: Coverage) -> dict[str, float]:
    """The radius (km) the diagnosis measured each region type by ({} for a travel-time limit)."""
    return _diagnosis_limits(cov, "km")


def diagnosis_minutes(cov: Coverage) -> dict[str, float]:
    """The travel time (minutes) the diagnosis measured each region type by ({} for a radius in km)."""
    return _diagnosis_limits(cov, "min")


def _diagnosis_limits(cov: Coverage, unit: str) -> dict[str, float]:
    limit = cov.settings.limit
    if cov.settings.unit != unit:
        return {}
    return dict(limit) if isinstance(limit, dict) else dict.fromkeys((*REGION_TYPES, NO_REGION_TYPE), float(limit))


def _checked_limits(values, name: str, unit: str, example: str, caller: str) -> list[float]:
    """The limits of coverage_by_radius or coverage_by_minutes as a list (one number taken as one limit), or an
    InputError."""
    if is_number(values):
        listed = [values]
    elif isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        listed = []
    else:
        listed = list(values)
    if not listed or not all(is_number(r) and np.isfinite(r) and r > 0 for r in listed):
        raise InputError(f"{name} are positive numbers of {unit}, e.g. {example}; got {values!r}"[:200], file=caller)
    return [float(r) for r in listed]


def coverage_by_radius(cov: Coverage, radii_km=None) -> pd.DataFrame:
    """How coverage would read under another service-radius standard (覆盖率-半径): for each radius (km; default
    RADIUS_STEPS_KM and the diagnosis's own radii), the share of residents whose nearest branch is within it, by
    region type (of their county, as by_region counts) and overall, and the residents covered (万人). Distances as
    the diagnosis measured them (straight line, or by road); the diagnosis's own radii are one point each of its
    curves (core at 1.2 km, county at 3.5 km)."""
    if radii_km is None:
        radii_km = {*RADIUS_STEPS_KM, *diagnosis_radii_km(cov).values()}
    radii = _checked_limits(radii_km, "radii_km", "km", "[1, 2, 3.5]", "coverage_by_radius")
    return _coverage_by_limit(cov, "nearest_branch_km", "radius_km", radii)


def coverage_by_minutes(cov: Coverage, minutes=None) -> pd.DataFrame:
    """How coverage would read under another travel-time standard (覆盖率-时间: the 15-minute service circle
    15分钟金融服务圈 beside 10 or 20 minutes): for each limit (minutes; default MINUTES_STEPS and the diagnosis's own
    travel time), the share of residents whose quickest branch is within it, by region type and overall, and the
    residents covered (万人) — coverage_by_radius in minutes, column travel_minutes. Travel times as the diagnosis
    measured them (by road, or straight line x the detour factor at its speed), so a diagnosis of 15 minutes reads
    its own coverage at 15."""
    if minutes is None:
        minutes = {*MINUTES_STEPS, *diagnosis_minutes(cov).values()}
    limits = _checked_limits(minutes, "minutes", "minutes", "[5, 10, 15]", "coverage_by_minutes")
    return _coverage_by_limit(cov, "nearest_branch_min", "travel_minutes", limits)


def _coverage_by_limit(cov: Coverage, column: str, key: str, limits: list[float]) -> pd.DataFrame:
    """coverage_by_radius or coverage_by_minutes: per limit (`key`), the residents whose `column` (km or minutes to
    their nearest branch) is within it, overall and by region type."""
    units = cov.towns
    cost = units[column].to_numpy(float)
    people = units["population"].to_numpy(float)
    region = units["county_region_type"].fillna(NO_REGION_TYPE).to_numpy(object)
    kinds = [kind for kind in (*REGION_TYPES, NO_REGION_TYPE) if (region == kind).any()]
    rows = []
    for limit in sorted(limits):
        covered = np.where(cost <= limit, people, 0.0)
        row = {key: limit, "covered_wan": covered.sum() / 1e4,
               "coverage_pct": 100.0 * covered.sum() / people.sum() if people.sum() > 0 else np.nan}
        for kind in kinds:
            inside = region == kind
            total = people[inside].sum()
            row[f"coverage_pct_{kind}"] = 100.0 * covered[inside].sum() / total if total > 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _region_table(by_county: pd.DataFrame, units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame,
                  s: CoverageSettings) -> pd.DataFrame:
    by_county = by_county.assign(region_type=by_county["region_type"].fillna(NO_REGION_TYPE))
    summed = ["population", "covered_population", *(["covered_by_distance"] if "covered_by_distance" in by_county
                                                    else []), "branches"]
    sums = by_county.groupby("region_type")[summed].sum()
    sums["area_km2"] = np.nan
    sums["counties"] = by_county.groupby("region_type").size()
    table = _add_rates(sums, s).drop(columns=["gdp_tier"], errors="ignore")
    table[["area_km2", "branches_per_100km2"]] = _density_where_known(by_county, "region_type").reindex(table.index)
    known = by_county[by_county["area_km2"].notna()].groupby("region_type")["branches"].sum().reindex(table.index)
    table["area_radius_km"] = area_radius_km(table["area_km2"], known)
    region = units["county_region_type"].fillna(NO_REGION_TYPE)
    people = units["population"].astype(float)
    travelled = (units["nearest_branch_km"] * people).groupby(region).sum()
    table["mean_distance_to_branch_km"] = travelled / people.groupby(region).sum().replace(0, np.nan)
    branch_region = branches["county"].map(by_county.set_index("county")["region_type"])
    table["mean_service_radius_km"] = branches.groupby(branch_region)["service_radius_km"].mean()
    return table.reset_index()


def area_radius_km(area_km2: pd.Series, branches: pd.Series) -> pd.Series:
    """The service radius by area 服务半径（面积法）: the radius of a circle as large as the area per branch,
    √(area ÷ (π × branches)) — as planning documents give it (core 1.2 km, county 3.5 km); NaN without a branch
    or an area."""
    return np.sqrt(area_km2 / (np.pi * branches.replace(0, np.nan)))


def _density_where_known(by_county: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per group of counties (by `key`): the area (km²) of those with an area and their branches per 100 km²
    (missing where none has one): counties without an area count in neither."""
    sums = by_county[by_county["area_km2"].notna()].groupby(key)[["area_km2", "branches"]].sum()
    return pd.DataFrame({"area_km2": sums["area_km2"],
                         "branches_per_100km2": 100.0 * sums["branches"] / sums["area_km2"].replace(0, np.nan)})


TOWN_LARGER = 2.0  # a town this many times the area of its radius's circle is counted at its point too coarsely
TOWN_POINTS_NOTE = "Residents at the town points 乡镇点位"  # the note's start, for the commands that repeat it


def town_point_note(ds: Dataset, radius_km: Limit) -> list[str]:
    """What analyze_coverage's notes say of the town points at `radius_km` (one, or one per region type), for
    a command measuring at them without a diagnosis (a coverage curve): how many towns are much larger than the
    circle of their radius; nothing where none is."""
    settings = _settings(radius_km, None, "euclidean", "drive", {})
    units = _demand_units(ds, None)
    units["radius_km"] = _unit_limits(units, settings.limit, settings.unit)
    return _town_point_note(units, settings, _town_areas_at_points(ds, None, metric_crs(ds.counties, units,
                                                                                          ds.branches)))


def _town_point_note(units: gpd.GeoDataFrame, settings: CoverageSettings,
                     town_area: gpd.GeoDataFrame | None) -> list[str]:
    """On town points (`units`, the towns; `town_area`: their areas, row by row), how many towns (and what share of
    the residents) are more than TOWN_LARGER times as large as the circle of their radius — each counted covered or
    not as a whole, by its point —, the most populous named, and how to count them where they live: a population
    grid. None by travel time or without areas (a grid's cells, or no boundaries)."""
    if settings.unit != "km" or units.empty or town_area is None:
        return []
    km2 = shapely.area(town_area.geometry.to_numpy()) / 1e6
    radius = units["radius_km"].to_numpy(float)
    larger = km2 > TOWN_LARGER * np.pi * radius ** 2
    if not larger.any():
        return []
    people = units["population"].to_numpy(float)
    town = int(np.argmax(np.where(larger, people, -1.0)))
    share = people[larger].sum() / max(people.sum(), 1.0)
    return [f"{TOWN_POINTS_NOTE}: each town is counted covered or not as a whole, by its point; "
            f"{int(larger.sum())} of {len(units)} towns ({share:.0%} of the residents) are more than {TOWN_LARGER:g} "
            f"times the circle of their radius (e.g. {units['name'].iloc[town]} ({units['county'].iloc[town]}), "
            f"{km2[town]:,.1f} km² against {np.pi * radius[town] ** 2:,.1f} km² within {radius[town]:g} km). "
            "A population grid counts them where they live: --grid-km 1 "
            "(analyze_coverage(..., demand=population_grid(ds, cell_km=1)))."]


def _area_notes(by_county: pd.DataFrame) -> list[str]:
    """Which counties the density 网点密度 leaves out for want of an area, when some have one."""
    missing = by_county["area_km2"].isna()
    if not missing.any() or missing.all():
        return []
    names = by_county.loc[missing, "county"].tolist()
    listed = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return [f"Branches per 100 km² 网点密度 count only the counties with an area (面积): {len(names)} of "
            f"{len(by_county)} have none ({listed}) and are left out of it."]


def density_by_gdp_tier(cov: Coverage) -> pd.DataFrame:
    """Branches per 100 km² and residents per branch for each GDP tier of counties."""
    table = cov.by_county.groupby("gdp_tier")[["population", "branches"]].sum()
    density = _density_where_known(cov.by_county, "gdp_tier")
    table[["area_km2", "branches_per_100km2"]] = density.reindex(table.index)
    table["counties"] = cov.by_county.groupby("gdp_tier").size()
    table["residents_per_branch_wan"] = table["population"] / 1e4 / table["branches"].replace(0, np.nan)
    return table.reset_index()


def _underserved(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The units with a reason, the most residents unserved first: those beyond reach — with gradual coverage
    those not counted covered (a unit's residents times the share not counted)."""
    flagged = units[units["reason"] != ""].copy()
    flagged["unserved_population"] = _not_counted(flagged).where(flagged["covered"], flagged["population"])
    return flagged.sort_values(["unserved_population", "population"], ascending=False).reset_index(drop=True)


COUNTED_LESS_THAN = 0.5  # with gradual coverage a unit within reach counted covered for less than this is underserved


def _not_counted(units: pd.DataFrame) -> pd.Series:
    """Each unit's residents not counted covered: with gradual coverage its share beyond covered_share; else none
    within reach (a unit within reach counts whole)."""
    if "covered_share" not in units:
        return pd.Series(0.0, index=units.index)
    return units["population"] * (1.0 - units["covered_share"].fillna(0.0))


def _add_distance_reasons(units: gpd.GeoDataFrame) -> None:
    """With gradual coverage, the reason of a unit within reach counted covered for less than COUNTED_LESS_THAN:
    its nearest branch far enough that little of it counts (按距离折算仅计入 …)."""
    if "covered_share" not in units:
        return
    low = units["covered"].astype(bool) & (units["covered_share"] < COUNTED_LESS_THAN)
    said = [f"按距离折算仅计入{share:.0%} counted only {share:.0%} by distance" for share in units.loc[low, "covered_share"]]
    joined = np.where(units.loc[low, "reason"] != "", "; ", "")
    units.loc[low, "reason"] = units.loc[low, "reason"] + joined + said


def _underserved_from_cells(units: gpd.GeoDataFrame, towns: gpd.GeoDataFrame, s: CoverageSettings) -> gpd.GeoDataFrame:
    """Towns ranked by the population of their demand cells that lie beyond the limit."""
    if "town_id" not in units:
        return units.iloc[0:0]
    gradual = "covered_share" in units
    left = _not_counted(units).where(units["covered"].astype(bool), units["population"])
    unserved = left[left > 0].groupby(units.loc[left > 0, "town_id"]).sum()
    out = towns.set_index("town_id").loc[lambda t: t.index.isin(unserved.index)].copy()
    out["unserved_population"] = unserved.reindex(out.index).round()
    out["unserved_share_pct"] = 100.0 * out["unserved_population"] / out["population"]
    limit = units.groupby("town_id")[_limit_column(s)].first().reindex(out.index)
    out["reason"] = [f"{p / 1e4:.1f}万 residents ({share:.0f}%) " + ("not counted covered by distance 按距离折算未计入"
                                                                   if gradual else f"beyond {lim:g} {s.unit}")
                     for p, share, lim in zip(out["unserved_population"], out["unserved_share_pct"], limit)]
    return out.sort_values("unserved_population", ascending=False).reset_index()
