"""Coverage diagnosis: nearest branch, coverage within a service radius, density and gaps by county and region."""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from netopt._errors import InputError
from netopt.distance import nearest_site, pairs_within
from netopt.io import Dataset
from netopt.projection import metric_crs, xy_metres

NATIONAL_COUNTY_RESIDENTS_PER_BRANCH_WAN = 3.5
DEFAULT_GDP_CUTS_YI = (200.0, 500.0)
DEFAULT_DETOUR_FACTOR = 1.3  # road distance / straight-line distance when no road network is given
DEFAULT_SPEED_KMH = 30.0  # driving in town and county traffic
DEFAULT_ROUND_TRIP_LIMIT_H = 1.5
SERVICE_RADIUS_SHARE = 0.8


@dataclass
class CoverageSettings:
    """The thresholds an analysis used, so a report can say what it measured."""

    radius_km: float | dict[str, float] = 3.0
    residents_per_branch_limit_wan: float = NATIONAL_COUNTY_RESIDENTS_PER_BRANCH_WAN
    round_trip_limit_h: float = DEFAULT_ROUND_TRIP_LIMIT_H
    speed_kmh: float = DEFAULT_SPEED_KMH
    detour_factor: float = DEFAULT_DETOUR_FACTOR
    gdp_cuts_yi: tuple[float, float] = DEFAULT_GDP_CUTS_YI


@dataclass
class Coverage:
    """Result of analyze_coverage: per-town, per-branch, per-county and per-region tables."""

    towns: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame
    by_county: pd.DataFrame
    by_region: pd.DataFrame
    gaps: gpd.GeoDataFrame
    underserved_towns: gpd.GeoDataFrame
    settings: CoverageSettings = field(default_factory=CoverageSettings)

    @property
    def core_county_gap_pp(self) -> float:
        """Coverage of core districts minus that of counties, in percentage points."""
        rate = self.by_region.set_index("region_type")["coverage_rate_pct"]
        if "core" not in rate or "county" not in rate:
            return float("nan")
        return float(rate["core"] - rate["county"])


def analyze_coverage(ds: Dataset, radius_km: float | dict[str, float] = 3.0,
                     distance: str = "euclidean", **options: float) -> Coverage:
    """Measure how well the branches serve the towns' population within a service radius.

    `radius_km` is one number or one per region type, e.g. {"core": 1.2, "county": 3.5}; a town whose own
    type (e.g. "fringe") has no entry uses its county's type. Options: residents_per_branch_limit_wan,
    round_trip_limit_h, speed_kmh, detour_factor, gdp_cuts_yi.
    """
    if distance != "euclidean":
        raise InputError(f"distance='{distance}' is not available yet; use distance='euclidean'", file="analyze_coverage")
    settings = CoverageSettings(radius_km=radius_km, **options)
    towns = _towns_with_demand(ds)
    crs = metric_crs(ds.counties, towns, ds.branches)
    town_xy, branch_xy = xy_metres(towns, crs), xy_metres(ds.branches, crs)
    branches = _branches_with_county(ds, towns, town_xy, branch_xy)
    towns["radius_km"] = _town_radius_km(towns, ds.counties, radius_km)
    _measure_towns(towns, branches, town_xy, branch_xy, settings)
    branch_table = _measure_branches(branches, towns)
    by_county = _county_table(ds.counties, towns, branches, settings)
    by_region = _region_table(by_county, towns, branch_table)
    gaps = towns[~towns["covered"]].sort_values("population", ascending=False).reset_index(drop=True)
    underserved = _underserved(towns)
    return Coverage(towns, branch_table, by_county, by_region, gaps, underserved, settings)


def _towns_with_demand(ds: Dataset) -> gpd.GeoDataFrame:
    towns = ds.towns.copy()
    if towns["population"].isna().any():
        missing = towns.loc[towns["population"].isna(), "name"].head(5).tolist()
        raise InputError(f"towns without population cannot be measured (e.g. {', '.join(missing)}); "
                         "add a population column or drop those towns", file="towns")
    county_type = ds.counties.set_index("name")["region_type"]
    towns["county_region_type"] = towns["county"].map(county_type)
    return towns


def _branches_with_county(ds: Dataset, towns: gpd.GeoDataFrame, town_xy: np.ndarray,
                          branch_xy: np.ndarray) -> gpd.GeoDataFrame:
    """Each branch's county: the boundary it lies in (or the nearest); without boundaries, its nearest town's."""
    branches = ds.branches.copy()
    counties = ds.counties[["name", "geometry"]].rename(columns={"name": "county_found"})
    if counties.geometry.isna().any():
        _, nearest_town = nearest_site(branch_xy, town_xy)
        branches["county"] = towns["county"].to_numpy()[nearest_town]
        return branches
    joined = gpd.sjoin(branches[["geometry"]], counties, how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    outside = joined["county_found"].isna()
    if outside.any():  # just over a border or in a lake: take the nearest county
        near = gpd.sjoin_nearest(branches.loc[outside, ["geometry"]].to_crs(metric_crs(ds.counties)),
                                 counties.to_crs(metric_crs(ds.counties)), how="left")
        joined.loc[outside, "county_found"] = near[~near.index.duplicated()]["county_found"]
    branches["county"] = joined["county_found"]
    return branches


def _town_radius_km(towns: gpd.GeoDataFrame, counties: gpd.GeoDataFrame,
                    radius_km: float | dict[str, float]) -> pd.Series:
    if not isinstance(radius_km, dict):
        _check_positive_radius({"all": radius_km})
        return pd.Series(float(radius_km), index=towns.index)
    _check_positive_radius(radius_km)
    own = towns["region_type"].map(radius_km)
    fallback = towns["county_region_type"].map(radius_km)
    radius = own.fillna(fallback).astype(float)
    if radius.isna().any():
        kinds = sorted(set(towns.loc[radius.isna(), "county_region_type"].dropna().astype(str)))
        raise InputError(f"radius_km has no entry for region type(s) {', '.join(kinds) or 'unknown'}; "
                         f"given: {', '.join(radius_km)}", file="analyze_coverage")
    return radius


def _check_positive_radius(radius: dict[str, float]) -> None:
    bad = [k for k, v in radius.items() if not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0]
    if bad:
        raise InputError(f"radius_km must be a positive number of kilometres (check {', '.join(map(str, bad))})",
                         file="analyze_coverage")


def _measure_towns(towns: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, town_xy: np.ndarray,
                   branch_xy: np.ndarray, s: CoverageSettings) -> None:
    dist_m, idx = nearest_site(town_xy, branch_xy)
    has_branch = idx >= 0
    towns["nearest_branch_id"] = np.where(has_branch, branches["branch_id"].to_numpy()[np.maximum(idx, 0)], None)
    towns["nearest_branch_km"] = dist_m / 1000.0
    towns["covered"] = towns["nearest_branch_km"] <= towns["radius_km"]
    reach = pairs_within(town_xy, branch_xy, float(towns["radius_km"].max()) * 1000.0)
    within = reach.tocoo()  # explicit zeros (a branch on the town's point) are kept
    inside = within.data <= towns["radius_km"].to_numpy()[within.row] * 1000.0
    towns["branches_within_radius"] = np.bincount(within.row[inside], minlength=len(towns))
    per_branch = towns["population"] / towns["branches_within_radius"].replace(0, np.nan)
    towns["residents_per_reachable_branch_wan"] = per_branch / 1e4
    towns["round_trip_h"] = 2 * towns["nearest_branch_km"] * s.detour_factor / s.speed_kmh
    towns["reason"] = _reasons(towns, s)


def _reasons(towns: gpd.GeoDataFrame, s: CoverageSettings) -> pd.Series:
    parts = []
    for mask, text in (
        (~towns["covered"], "no branch within {r:.1f} km"),
        (towns["residents_per_reachable_branch_wan"] > s.residents_per_branch_limit_wan,
         "{p:.1f}万 residents per reachable branch (limit {lim:.1f}万)"),
        (towns["round_trip_h"] > s.round_trip_limit_h, "round trip {h:.1f} h (limit {hl:.1f} h)"),
    ):
        parts.append(pd.Series(np.where(mask, text, ""), index=towns.index))
    out = []
    for i in towns.index:
        row = towns.loc[i]
        texts = [p[i].format(r=row["radius_km"], p=row["residents_per_reachable_branch_wan"],
                             lim=s.residents_per_branch_limit_wan, h=row["round_trip_h"], hl=s.round_trip_limit_h)
                 for p in parts if p[i]]
        out.append("; ".join(texts))
    return pd.Series(out, index=towns.index)


def _measure_branches(branches: gpd.GeoDataFrame, towns: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Per branch: the population of the towns whose nearest branch it is, and its service radius."""
    served = towns[towns["nearest_branch_id"].notna()]
    stats = served.groupby("nearest_branch_id").apply(_radius_stats, include_groups=False)
    out = branches.merge(stats, left_on="branch_id", right_index=True, how="left")
    out["assigned_population"] = out["assigned_population"].fillna(0).astype(int)
    out["assigned_towns"] = out["assigned_towns"].fillna(0).astype(int)
    return out


def _radius_stats(group: pd.DataFrame) -> pd.Series:
    order = group.sort_values("nearest_branch_km")
    cum = order["population"].cumsum() / order["population"].sum()
    radius80 = order["nearest_branch_km"].to_numpy()[np.searchsorted(cum.to_numpy(), SERVICE_RADIUS_SHARE)]
    return pd.Series({
        "assigned_towns": len(group),
        "assigned_population": group["population"].sum(),
        "service_radius_km": radius80,
        "mean_distance_km": np.average(group["nearest_branch_km"], weights=group["population"]),
        "farthest_town_km": group["nearest_branch_km"].max(),
    })


def _county_table(counties: gpd.GeoDataFrame, towns: gpd.GeoDataFrame, branches: gpd.GeoDataFrame,
                  s: CoverageSettings) -> pd.DataFrame:
    g = towns.groupby("county")
    table = pd.DataFrame({
        "county_id": counties["county_id"].values,
        "county": counties["name"].values,
        "region_type": counties["region_type"].values,
        "area_km2": counties["area_km2"].values,
        "gdp_yi": counties["gdp_yi"].values,
    }).set_index("county")
    table["population"] = g["population"].sum()
    table["covered_population"] = towns[towns["covered"]].groupby("county")["population"].sum()
    table["branches"] = branches.groupby("county").size()
    table = table.fillna({"population": 0, "covered_population": 0, "branches": 0})
    return _add_rates(table, s).reset_index()


def _add_rates(table: pd.DataFrame, s: CoverageSettings) -> pd.DataFrame:
    table["branches"] = table["branches"].astype(int)
    table["population_wan"] = table["population"] / 1e4
    table["coverage_rate_pct"] = 100.0 * table["covered_population"] / table["population"].replace(0, np.nan)
    table["residents_per_branch_wan"] = table["population_wan"] / table["branches"].replace(0, np.nan)
    table["vs_benchmark_wan"] = table["residents_per_branch_wan"] - s.residents_per_branch_limit_wan
    table["branches_per_100km2"] = 100.0 * table["branches"] / table["area_km2"]
    if "gdp_yi" in table:
        table["gdp_tier"] = gdp_tier(table["gdp_yi"], s.gdp_cuts_yi)
    return table


def gdp_tier(gdp_yi: pd.Series, cuts: tuple[float, float] = DEFAULT_GDP_CUTS_YI) -> pd.Series:
    """Label each GDP (亿元) as below the low cut, between the cuts, above the high cut, or unknown."""
    low, high = cuts
    labels = np.select([gdp_yi < low, gdp_yi > high, gdp_yi.notna()],
                       [f"<{low:g}亿", f">{high:g}亿", f"{low:g}–{high:g}亿"], "unknown")
    return pd.Series(labels, index=gdp_yi.index)


def _region_table(by_county: pd.DataFrame, towns: gpd.GeoDataFrame, branches: gpd.GeoDataFrame) -> pd.DataFrame:
    sums = by_county.groupby("region_type")[["population", "covered_population", "branches", "area_km2"]].sum()
    sums["counties"] = by_county.groupby("region_type").size()
    table = _add_rates(sums, CoverageSettings())
    table = table.drop(columns=["vs_benchmark_wan"])
    weighted = towns.groupby("county_region_type").apply(
        lambda t: np.average(t["nearest_branch_km"], weights=t["population"]), include_groups=False)
    table["mean_distance_to_branch_km"] = weighted
    branch_region = branches["county"].map(by_county.set_index("county")["region_type"])
    table["mean_service_radius_km"] = branches.groupby(branch_region)["service_radius_km"].mean()
    return table.reset_index()


def _underserved(towns: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    flagged = towns[towns["reason"] != ""].copy()
    flagged["unserved_population"] = np.where(flagged["covered"], 0, flagged["population"])
    order = flagged.sort_values(["unserved_population", "population"], ascending=False)
    return order.reset_index(drop=True)
