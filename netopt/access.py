"""Accessibility 可达性: branches per 万人 within reach of each town by floating catchments (2SFCA, or 3SFCA)."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, Problem, check_count, check_kind, is_number
from netopt.coverage import (SPEED_OPTIONS, CoverageSettings, Limit, _branches_with_county, _demand_units,
                             _limit_column, _limits_in_use, _network, _settings, _unit_limits, _unit_modes,
                             _unit_speeds, town_point_note)
from netopt.distance import RoadNetwork
from netopt.io import Dataset, check_read

DECAYS = ("gaussian", "step", "zones", "power")
ZONE_WEIGHTS = (1.0, 0.68, 0.22)  # E2SFCA: the inner, middle and outer third of the catchment (Luo & Qi 2009)
POWER_BETA = 2.0  # the power decay's exponent unless given: d^-2, the gravity model's (Hansen 1959)
POWER_FLOOR = 0.1  # with the power decay a pair nearer than this share of the catchment counts as that far
DECAY_WORDS = {"gaussian": "Gaussian decay 高斯衰减", "step": "no decay within the catchment 无衰减",
               "zones": "three zones 1 / 0.68 / 0.22 分段衰减",
               "power": "power decay d^-{beta:g} 幂函数衰减 (gravity 潜能模型; nearer than a tenth of the catchment "
                        "counting as a tenth)"}
TWO_STEP_NAMES = {"gaussian": "Ga2SFCA", "step": "2SFCA", "zones": "E2SFCA"}  # each decay's 2SFCA as papers name it
METHODS = {"2sfca": "2SFCA 两步移动搜索法",
           "3sfca": "3SFCA 三步移动搜索法 (each town's pull shared among the branches it reaches)"}
ACCESS_CHOICES = ("decay", "beta", "method", "supply")  # accessibility's own options, beside the limits it shares
LOW_ACCESS_SHARE = 0.5  # residents whose access is below this share of the city's have low access 低可达性
NO_REGION_TYPE = "unknown"


def decay_weights(ratio: np.ndarray, decay: str = "gaussian", beta: float = POWER_BETA) -> np.ndarray:
    """The weight of a pair at `ratio` = its distance (or minutes) / the catchment, 0 to 1: 1 for every pair with
    "step" (2SFCA); with "gaussian" (Ga2SFCA, Dai 2010) 1 at the branch falling to 0 at the catchment's edge,
    (e^(-r²/2) - e^(-1/2)) / (1 - e^(-1/2)); with "zones" (E2SFCA) 1, 0.68 and 0.22 in its inner, middle and outer
    third; with "power" (the gravity model's d^-β within the catchment, the improved potential model 改进潜能模型)
    (max(r, 0.1) / 0.1)^-β — 1 within a tenth of the catchment, 10^-β at its edge; another decay refused."""
    _check_decay(decay)
    ratio = np.asarray(ratio, dtype=float)
    if decay == "step":
        return np.ones_like(ratio)
    if decay == "power":
        return (np.maximum(ratio, POWER_FLOOR) / POWER_FLOOR) ** -float(beta)
    if decay == "zones":
        return np.asarray(ZONE_WEIGHTS)[np.clip(np.ceil(ratio * 3).astype(int) - 1, 0, 2)]
    edge = np.exp(-0.5)
    return np.clip((np.exp(-0.5 * ratio ** 2) - edge) / (1.0 - edge), 0.0, 1.0)


def two_step(weights: sp.csr_matrix, residents: np.ndarray, supply: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2SFCA on a demand x branch matrix of pair weights: each branch's residents within its catchment, weighted
    (step 1: Σ_i w_ij P_i), and each demand point's access, the supply per resident of the branches it reaches,
    weighted (step 2: Σ_j w_ij S_j / that); a branch reaching nobody adds nothing."""
    catchment = np.asarray(weights.T @ residents, dtype=float)
    ratio = np.divide(supply, catchment, out=np.zeros(len(catchment)), where=catchment > 0)
    return np.asarray(weights @ ratio, dtype=float), catchment


def selection_weights(weights: sp.csr_matrix) -> sp.csr_matrix:
    """3SFCA's pair weights (Wan, Zou & Sternberg 2012): each pair's decay weight times the share of its demand
    point's pull the branch draws, W_ij x W_ij / Σ_k W_ik — a town reaching many branches splits itself among them,
    so no branch counts all of it (2SFCA's overestimate of demand)."""
    weights = sp.csr_matrix(weights, dtype=float)
    pull = np.asarray(weights.sum(axis=1)).ravel()
    share = weights.multiply(1.0 / np.where(pull > 0, pull, 1.0)[:, None])
    return sp.csr_matrix(weights.multiply(share))


def gini(values: np.ndarray, weights: np.ndarray) -> float:
    """The Gini coefficient of `values` over `weights` (e.g. access over residents): 0 when all have the same, near
    1 when a few have it all; NaN when nobody (no weight) or nothing (no value) is counted."""
    x, y = lorenz_points(values, weights)
    if not len(x):
        return float("nan")
    return float(1.0 - np.sum(np.diff(x) * (y[1:] + y[:-1])))


def lorenz_points(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve of `values` over `weights`: from (0, 0) to (1, 1), the share of the weight (residents,
    the least access first) and the share of the values' total they hold; empty arrays when there is none."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    total = float(np.sum(values * weights))
    if not len(values) or total <= 0:
        return np.zeros(0), np.zeros(0)
    order = np.argsort(values, kind="stable")
    held = np.cumsum(values[order] * weights[order]) / total
    return np.concatenate([[0.0], np.cumsum(weights[order]) / weights.sum()]), np.concatenate([[0.0], held])


def weighted_quantile(values: np.ndarray, weights: np.ndarray, share: float) -> float:
    """The value below which `share` of the weight lies (e.g. the access of the 10 % of residents with the least)."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    keep = weights > 0
    if not keep.any():
        return float("nan")
    order = np.argsort(values[keep], kind="stable")
    cumulative = np.cumsum(weights[keep][order])
    return float(values[keep][order][np.searchsorted(cumulative, share * cumulative[-1])])


@dataclass
class AccessSettings:
    """How accessibility was measured: the catchment (a radius or travel time, as a coverage diagnosis's limit),
    the distance decay and what each branch supplies."""

    reach: CoverageSettings
    decay: str = "gaussian"
    supply: str = "1 per branch"
    beta: float = POWER_BETA  # the power decay's exponent (the other decays have none)
    method: str = "2sfca"  # or "3sfca": selection weights (selection_weights)

    def describe(self) -> str:
        """"catchment 3 km (straight line, drive), Gaussian decay 高斯衰减 (Ga2SFCA), supply 1 per branch" (and the
        method where it is 3SFCA)."""
        limit = self.reach.describe().split(" ", 2)[2]  # without "service radius" / "travel time"
        what = "catchment 搜索半径" if self.reach.unit == "km" else "catchment 搜索时间"
        return f"{what} {limit}, {decay_and_method_words(self.decay, self.beta, self.method)}, supply {self.supply}"

    @property
    def method_name(self) -> str:
        """"2SFCA" or "3SFCA", as titles say it."""
        return self.method.upper()

    def pair_weights(self, pairs: sp.csr_matrix, limits: np.ndarray) -> sp.csr_matrix:
        """The weights of demand x branch `pairs` (their distances or minutes) as these settings weigh them: the
        decay by each unit's catchment `limits`, and 3SFCA's selection weights where asked."""
        weights = _weights(pairs, limits, self.decay, self.beta)
        return selection_weights(weights) if self.method == "3sfca" else weights


@dataclass
class Accessibility:
    """Result of accessibility(): each demand unit's access (branches per 万人 within reach, 2SFCA), each branch's
    residents within its catchment, by county and region type, and the city's figures of equity (Gini)."""

    units: gpd.GeoDataFrame
    branches: gpd.GeoDataFrame
    by_county: pd.DataFrame
    by_region: pd.DataFrame
    city: pd.Series
    settings: AccessSettings
    demand_kind: str = "towns"  # "towns", or "cells" for a population grid
    notes: list[str] = field(default_factory=list)
    county_boundaries: gpd.GeoSeries | None = None  # each row of by_county's boundary, for map layers

    def summary(self) -> str:
        """One line: how it was measured, the city's mean access, its Gini and the residents with low or no access."""
        c = {key: value if np.isfinite(value) else None for key, value in self.city.items()}  # no branch at all: —
        return (f"{self.settings.describe()}: {len(self.units):,} {self.demand_kind}, {c['population_wan']:,.1f}万人, "
                f"{int(c['branches']):,} branches; access 可达性 {c['access_per_wan']:.3f} branches per 万人, "
                f"Gini 基尼系数 {_said(c['gini'], '.3f')}; low access (below {LOW_ACCESS_SHARE:.0%} of the city's) "
                f"{_said(c['low_access_wan'], ',.1f')}万 ({_said(c['low_access_pct'], '.1f')}%), none within reach "
                f"{c['no_access_wan']:,.1f}万")

    def __repr__(self) -> str:
        return f"Accessibility({self.summary()})"

    def by_town(self) -> pd.DataFrame:
        """Per town: residents, its access (residents-weighted over its grid cells, or its point's), its index
        against the city's, and the residents with low and with no access."""
        units = self.units
        named = units.assign(name=units["town" if self.demand_kind == "cells" else "name"].to_numpy())
        return _figures_by(named, ["town_id", "name", "county"], self.city["access_per_wan"])

    def least_access(self, count: int = 10) -> pd.DataFrame:
        """The towns with residents and the least access, least first (of the same, the most residents first)."""
        check_count(count, "count", "least_access", least=0)
        towns = self.by_town()
        return towns[towns["population_wan"] > 0].sort_values(["access_per_wan", "population_wan"],
                                                              ascending=[True, False], kind="stable").head(count)

    def lorenz(self, steps: int = 10) -> pd.DataFrame:
        """The Lorenz curve of access over residents at `steps` even shares of the residents (least access first):
        residents_pct, the share of the residents, and access_pct, the share of the branches' supply they reach."""
        check_count(steps, "steps", "lorenz")
        x, y = lorenz_points(self.units["access_per_wan"], self.units["population"])
        shares = np.linspace(0.0, 1.0, steps + 1)
        held = np.interp(shares, x, y) if len(x) else np.full(len(shares), np.nan)
        return pd.DataFrame({"residents_pct": 100.0 * shares, "access_pct": 100.0 * held})


def check_accessibility(value, file: str, optional: bool = False) -> None:
    """An InputError (named `file`) unless `value` is a result of accessibility() — or None, where `optional`."""
    kinds = (Accessibility, type(None)) if optional else Accessibility
    check_kind(value, kinds, "access is a result of netopt.accessibility", file)


def _said(value: float | None, form: str) -> str:
    """A figure as a summary says it; — where there is none."""
    return "—" if value is None else format(value, form)


def accessibility(ds: Dataset, radius_km: Limit | None = None, radius_min: Limit | None = None,
                  decay: str = "gaussian", supply: str | dict | None = None, distance: str = "euclidean",
                  graph: RoadNetwork | nx.MultiDiGraph | str | None = None, mode: str | dict[str, str] = "drive",
                  demand: gpd.GeoDataFrame | None = None, beta: float | None = None, method: str = "2sfca",
                  **speeds: float) -> Accessibility:
    """Accessibility 可达性 of the branches by the two-step floating catchment area method (2SFCA): each branch's
    supply shared among the residents within its catchment, each town's access the sum of the shares it reaches,
    in branches per 万人 — a town near branches that few others reach scores high, one whose branches serve many
    low. Residents-weighted, the city's mean is its branches per 万人 (the supply reaching anyone).

    - `radius_km` / `radius_min`: the catchment, one number or one per region type, as analyze_coverage's
      limit (default 3 km); `distance`, `graph`, `mode` and the speeds (speed_kmh, walk_speed_kmh,
      detour_factor) as analyze_coverage takes them. `demand`: towns by default, or a population grid's cells.
    - `decay`: "gaussian" (Ga2SFCA, default: a pair's weight falls from 1 at the branch to 0 at the catchment's
      edge), "step" (2SFCA: 1 within the catchment), "zones" (E2SFCA: 1, 0.68, 0.22 in its thirds) or "power"
      (the gravity model's d^-β within the catchment, 改进潜能模型; `beta`, default 2; a pair nearer than a tenth
      of the catchment counts as a tenth, so a branch at a town's very point does not weigh without bound).
    - `method`: "2sfca" (default) or "3sfca" (Wan, Zou & Sternberg 2012, 三步移动搜索法: a town reaching several
      branches shares its pull among them by their weights, so a branch amid many others counts fewer residents).
    - `supply`: what each branch offers — 1 each by default; a column of the branches (e.g. 员工数, 柜台数); or a
      weight per branch type, e.g. {"comprehensive": 2, "light": 0.5} (a branch of a type not given, or of none,
      counts 1).
    Equity: the Gini coefficient of access over residents, the residents below half the city's access (low
    access) and those with no branch within reach, for the city, each county and each region type.
    """
    check_kind(ds, Dataset, "ds is a city's data: a Dataset (netopt.load_sample(), read_folder …)", "accessibility")
    _check_speed_keywords(speeds)
    beta = _checked_beta(decay, beta)
    _check_method(method)
    check_read(ds.branches, "branches")
    with _said_as_accessibility():  # the diagnosis's checks, in the words of this call
        reach = _settings(radius_km, radius_min, distance, mode, dict(speeds))
        units = _demand_units(ds, demand).reset_index(drop=True)
        units[_limit_column(reach)] = _unit_limits(units, reach.limit, reach.unit)
        reach = _limits_in_use(reach, units)
        branches = _branches_with_county(ds, units).reset_index(drop=True)
        amounts, said = branch_supply(branches, supply)
        pairs = _pairs(units, branches, reach, graph)
    settings = AccessSettings(reach, decay, said, beta, method)
    weights = settings.pair_weights(pairs, units[_limit_column(reach)].to_numpy(float))
    access, catchment = two_step(weights, units["population"].to_numpy(float) / 1e4, amounts)
    units["access_per_wan"] = access
    units["branches_within"] = np.diff(pairs.indptr)
    branches["supply"] = amounts
    branches["catchment_residents_wan"] = catchment
    branches["residents_per_supply_wan"] = np.divide(catchment, amounts, out=np.full(len(amounts), np.nan),
                                                     where=amounts > 0)
    return _result(ds, units, branches, settings, demand is not None)


@contextmanager
def _said_as_accessibility():
    """The coverage diagnosis's InputErrors on the settings they share named as this call's, not analyze_coverage's."""
    try:
        yield
    except InputError as error:
        raise InputError([replace(p, file="accessibility") if p.file in ("analyze_coverage", "model") else p
                          for p in error.problems]) from None


def access_with_each_site(acc: Accessibility, sites: gpd.GeoDataFrame, graph=None, supply: float = 1.0
                          ) -> pd.DataFrame:
    """Each of `sites` (points) opened alone beside `acc`'s branches, measured as `acc` was (`graph`: its road
    network, if by road), a row each in their order: site_catchment_wan, the residents within its catchment
    (weighted), and what it changes — access_gini_change (the Gini of access over residents, after minus before)
    and low_access_change_wan (the residents below half the city's access, after minus before). With 2SFCA opening
    a branch changes no other branch's share (each branch's supply is divided among its own catchment's residents),
    so each site adds its share to the towns it reaches and nothing else moves; with 3SFCA the towns it reaches
    share their pull with it too, so each site's network is measured whole."""
    check_accessibility(acc, "accessibility")
    units, reach, limits = acc.units, acc.settings.reach, acc.units[_limit_column(acc.settings.reach)].to_numpy(float)
    with _said_as_accessibility():
        pairs = _pairs(units, sites, reach, graph)
        today = _pairs(units, acc.branches, reach, graph) if acc.settings.method == "3sfca" else None
    weights = acc.settings.pair_weights(pairs, limits).tocsc()
    residents = units["population"].to_numpy(float)
    people = float(residents.sum())
    catchment = np.asarray(weights.T @ (residents / 1e4), dtype=float)
    before = units["access_per_wan"].to_numpy(float)
    rows = []
    for site, reached in enumerate(catchment):
        if today is not None:  # 3SFCA: the network with the site, its towns' pull shared anew
            both = acc.settings.pair_weights(sp.hstack([today, pairs[:, [site]]]).tocsr(), limits)
            after, opened = two_step(both, residents / 1e4, np.append(acc.branches["supply"].to_numpy(float), supply))
            reached = opened[-1]
        else:
            column = weights[:, site]
            after = before.copy()
            after[column.indices] += column.data * (supply / reached if reached > 0 else 0.0)
        mean = float(np.sum(after * residents) / people) if people > 0 else float("nan")
        figures = _figures(after, residents, mean)
        rows.append({"site_catchment_wan": reached, "access_gini_change": figures["gini"] - acc.city["gini"],
                     "low_access_change_wan": figures["low_access_wan"] - acc.city["low_access_wan"]})
    return pd.DataFrame(rows, columns=["site_catchment_wan", "access_gini_change", "low_access_change_wan"])


def _check_speed_keywords(speeds: dict) -> None:
    unknown = sorted(set(speeds) - set(SPEED_OPTIONS))
    if unknown:
        raise InputError(f"unknown keyword(s) {', '.join(unknown)}; the speeds are {', '.join(SPEED_OPTIONS)}",
                         file="accessibility")


def decay_and_method_words(decay: str = "gaussian", beta: float | None = None, method: str = "2sfca") -> str:
    """How access is weighed, in words: "Gaussian decay 高斯衰减 (Ga2SFCA)", or with 3SFCA the method after the decay."""
    words = DECAY_WORDS[decay].format(beta=POWER_BETA if beta is None else beta)
    if method != "2sfca":
        return f"{words}, {METHODS[method]}"
    return words + (f" ({TWO_STEP_NAMES[decay]})" if decay in TWO_STEP_NAMES else "")


def access_choices(given: dict | None, file: str) -> dict:
    """How another command or call measures accessibility beside the limits it shares with it: `given`, a dict
    of accessibility's own options (ACCESS_CHOICES: decay, beta, method, supply), checked as accessibility
    checks them, errors naming `file`; {} for None (the defaults: Ga2SFCA, 1 per branch)."""
    if given is None:
        return {}
    check_kind(given, dict, "access options are a dict of accessibility's own options, e.g. {'method': '3sfca'}",
               file)
    unknown = sorted(map(str, set(given) - set(ACCESS_CHOICES)))
    if unknown:
        raise InputError(f"access options are {', '.join(ACCESS_CHOICES)} (the limits are the diagnosis's), not "
                         f"{', '.join(unknown)}", file=file)
    _checked_beta(given.get("decay", "gaussian"), given.get("beta"), file)
    _check_method(given.get("method", "2sfca"), file)
    return dict(given)


def _check_decay(decay: str, file: str = "accessibility") -> None:
    if not isinstance(decay, str) or decay not in DECAYS:
        raise InputError(f"decay must be one of {', '.join(DECAYS)}, not {decay!r:.40}", file=file)


def _check_method(method: str, file: str = "accessibility") -> None:
    if not isinstance(method, str) or method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, not {method!r:.40}", file=file)


def _checked_beta(decay: str, beta: float | None, file: str = "accessibility") -> float:
    """The power decay's exponent (POWER_BETA unless given, a number above 0); given with another decay, refused."""
    _check_decay(decay, file)
    if beta is None:
        return POWER_BETA
    if decay != "power":
        raise InputError(f"beta is the power decay's exponent: give it with decay='power', not decay={decay!r}",
                         file=file)
    if not is_number(beta) or not np.isfinite(beta) or beta <= 0:
        raise InputError(f"beta must be a number above 0 (the power decay's exponent, e.g. 1 or 2), got {beta!r:.40}",
                         file=file)
    return float(beta)


def branch_supply(branches: pd.DataFrame, supply: str | dict | None) -> tuple[np.ndarray, str]:
    """What each branch supplies (1 each; a column's figures; or a weight per branch type) and the words for it."""
    if supply is None:
        return np.ones(len(branches)), "1 per branch"
    if isinstance(supply, dict):
        return _supply_by_type(branches, supply)
    if not isinstance(supply, str) or supply not in branches:
        other = [c for c in branches.columns if c not in ("geometry", "branch_id", "name", "bank", "county", "address",
                                                           "location_method", "type")]
        raise InputError(f"supply is a column of the branches or a weight per branch type, not {supply!r:.60}; "
                         f"the branches' other columns: {', '.join(map(str, other)) or 'none'}", file="branches")
    numbers = pd.to_numeric(branches[supply], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(numbers) | (numbers < 0))
    if len(bad):
        shown = ", ".join(f"{branches['branch_id'].iloc[i]} {branches['name'].iloc[i]} ({branches[supply].iloc[i]!r})"
                          for i in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise InputError(Problem("branches", f"supply must be a number of 0 or more for every branch: {shown}{more}",
                                 column=str(supply)))
    return numbers, f"column {supply} ({numbers.sum():,.0f} in all)"


def _supply_by_type(branches: pd.DataFrame, weights: dict) -> tuple[np.ndarray, str]:
    from netopt._schema import BRANCH_TYPES, canonical_branch_type

    kinds_given = {key: canonical_branch_type(key) if isinstance(key, str) else None for key in weights}
    unknown = [repr(key) for key, kind in kinds_given.items() if kind is None]
    bad = [f"{k} ({v!r})" for k, v in weights.items() if not (is_number(v) and np.isfinite(v) and v >= 0)]
    if unknown or bad:
        raise InputError(f"supply by type: {', '.join(unknown)} not a branch type ({', '.join(BRANCH_TYPES)}, or "
                         "综合型/社区型/普惠型/轻型)" if unknown else
                         f"supply by type must be numbers of 0 or more: {', '.join(bad)}", file="accessibility")
    weights = {kinds_given[key]: value for key, value in weights.items()}  # 综合型 as comprehensive
    kinds = branches["type"].astype(object) if "type" in branches else pd.Series(None, index=branches.index)
    amounts = kinds.map(weights).astype(float).fillna(1.0).to_numpy()
    given = ", ".join(f"{k} {v:g}" for k, v in weights.items())
    others = int((~kinds.isin(list(weights))).sum())
    return amounts, f"by type {given}" + (f" ({others:,} branches of another type or none: 1 each)" if others else "")


def _pairs(units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, reach: CoverageSettings, graph) -> sp.csr_matrix:
    """The demand x branch km (or minutes) of every pair within the unit's catchment (a stored 0: at the branch)."""
    from netopt.models.covering import reach_from_geodataframes

    limits = units[_limit_column(reach)].to_numpy(float)
    if not len(branches):
        return sp.csr_matrix((len(units), 0))
    travel = reach.travel
    speed = _unit_speeds(units, reach.speed_by_region)
    network = _network(graph) if travel.distance == "network" else None
    return reach_from_geodataframes(
        units, branches, **{"radius_km" if reach.unit == "km" else "radius_min": limits},
        distance=travel.distance, graph=network, mode=_unit_modes(units, reach.mode_by_region or travel.mode),
        speed_kmh=travel.speed_kmh if speed is None else speed, walk_speed_kmh=travel.walk_speed_kmh,
        detour_factor=travel.detour_factor)


def _weights(pairs: sp.csr_matrix, limits: np.ndarray, decay: str, beta: float = POWER_BETA) -> sp.csr_matrix:
    """Each pair's weight by its distance's share of its unit's catchment (decay_weights)."""
    coo = pairs.tocoo()
    weights = decay_weights(np.minimum(coo.data / limits[coo.row], 1.0), decay, beta)
    return sp.csr_matrix((weights, (coo.row, coo.col)), shape=pairs.shape)


def _result(ds: Dataset, units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, settings: AccessSettings,
            cells: bool) -> Accessibility:
    residents = units["population"].to_numpy(float)
    city_mean = float(np.sum(units["access_per_wan"] * residents) / residents.sum()) if residents.sum() > 0 else np.nan
    units["access_index"] = units["access_per_wan"] / city_mean if city_mean > 0 else np.nan
    units["region_type_of_county"] = units["county_region_type"].fillna(NO_REGION_TYPE)
    every = pd.DataFrame({"county": ds.counties["name"].to_numpy()})  # a county without residents too, in its order
    by_county = every.merge(_figures_by(units, ["county"], city_mean), on="county", how="left")
    by_county = _with_branches(by_county.fillna({c: 0.0 for c in ("population_wan", "low_access_wan",
                                                                   "no_access_wan")}), branches, "county")
    counties = ds.counties.set_index("name")["region_type"]
    branches["region_type_of_county"] = branches["county"].map(counties).fillna(NO_REGION_TYPE)
    by_region = _with_branches(_figures_by(units, ["region_type_of_county"], city_mean), branches,
                               "region_type_of_county").rename(columns={"region_type_of_county": "region_type"})
    city = _city(units, branches, city_mean)
    notes = _notes(ds, units, branches, settings, cells)
    outlines = ds.counties.geometry.reset_index(drop=True)
    return Accessibility(units.drop(columns="region_type_of_county"), branches.drop(columns="region_type_of_county"),
                         by_county, by_region, city, settings, "cells" if cells else "towns", notes,
                         None if outlines.isna().any() else outlines)


def _figures_by(units: pd.DataFrame, keys: list[str], city_mean: float) -> pd.DataFrame:
    """Per group of units: residents (万人), their access (residents-weighted), its index against the city's, the
    residents with low and with no access, and the Gini of access among them."""
    rows = []
    for key, part in units.groupby(keys, sort=False, dropna=False):
        rows.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                     **_figures(part["access_per_wan"].to_numpy(float), part["population"].to_numpy(float),
                                city_mean)})
    return pd.DataFrame(rows)


def _figures(access: np.ndarray, residents: np.ndarray, city_mean: float) -> dict:
    people = float(residents.sum())
    mean = float(np.sum(access * residents) / people) if people > 0 else float("nan")
    low = float(residents[access < LOW_ACCESS_SHARE * city_mean].sum()) if city_mean > 0 else float("nan")
    return {"population_wan": people / 1e4, "access_per_wan": mean,
            "access_index": mean / city_mean if city_mean > 0 else float("nan"),
            "low_access_wan": low / 1e4, "low_access_pct": 100.0 * low / people if people > 0 else float("nan"),
            "no_access_wan": float(residents[access <= 0].sum()) / 1e4, "gini": gini(access, residents)}


def _with_branches(table: pd.DataFrame, branches: gpd.GeoDataFrame, key: str) -> pd.DataFrame:
    """The table with the branches standing in each group and their supply."""
    counted = branches.groupby(key, dropna=False).agg(branches=("branch_id", "size"), supply=("supply", "sum"))
    table.insert(1, "branches", table[key].map(counted["branches"]).fillna(0).astype(int))
    table.insert(2, "supply", table[key].map(counted["supply"]).fillna(0.0))
    return table


def _city(units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, city_mean: float) -> pd.Series:
    access, residents = units["access_per_wan"].to_numpy(float), units["population"].to_numpy(float)
    figures = _figures(access, residents, city_mean)
    reaching = branches["catchment_residents_wan"] > 0
    return pd.Series({**figures, "branches": len(branches), "supply": float(branches["supply"].sum()),
                      "supply_reaching_nobody": float(branches.loc[~reaching, "supply"].sum()),
                      "no_access_pct": 100.0 * figures["no_access_wan"] / figures["population_wan"]
                      if figures["population_wan"] > 0 else float("nan"),
                      "p10_access_per_wan": weighted_quantile(access, residents, 0.1),
                      "p90_access_per_wan": weighted_quantile(access, residents, 0.9)})


def _notes(ds: Dataset, units: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, settings: AccessSettings,
           cells: bool) -> list[str]:
    notes = [f"Accessibility 可达性 by 2SFCA: {settings.describe()}; access in branches per 万人 (the supply "
             "of the branches within reach, each shared among the residents within its own catchment)."]
    alone = branches[branches["catchment_residents_wan"] <= 0]
    if len(alone):
        shown = ", ".join(f"{row.name} ({row.county})" for row in alone.head(3).itertuples())
        notes.append(f"{len(alone):,} branches reach no residents within the catchment, so their supply counts for "
                     f"nobody: {shown}" + (" …" if len(alone) > 3 else ""))
    if not cells and settings.reach.unit == "km":
        notes += town_point_note(ds, settings.reach.limit)
    return notes
