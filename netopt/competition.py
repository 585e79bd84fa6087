"""Competition: our bank against the others — branch shares, rival-only towns, and Huff (gravity) market shares."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, check_amount, check_columns, non_negative_numbers
from netopt.coverage import Coverage
from netopt.distance import pairs_within
from netopt.io import Dataset, bank_mask
from netopt.projection import metric_crs, xy_metres

DEFAULT_HUFF_CUTOFF_KM = 20.0  # branches farther than this attract nobody
MIN_DISTANCE_KM = 1.0  # a town's point stands for its area: a branch nearer counts as 1 km away (d^-β is infinite at 0)
MIN_MINUTES = 2.5  # in minutes, as MIN_DISTANCE_KM in km: a branch nearer a town counts as this far (~1 km driven)
CUTOFF_MINUTES = 50.0  # in minutes, as the 20 km cutoff: branches farther pull nothing (~20 km at 30 km/h x 1.3)


def bank_shares(ds: Dataset, our_bank: str, radius_km: float = 3.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per county: branches of all banks and ours, our share, 万人 per branch (all vs ours); and the towns
    where a rival branch lies within `radius_km` but none of ours does (largest population first)."""
    check_amount(radius_km, "radius_km", "bank_shares", "km", required=True)
    ours = bank_mask(ds.branches, our_bank)
    crs = metric_crs(ds.towns, ds.branches)
    town_xy, branch_xy = xy_metres(ds.towns, crs), xy_metres(ds.branches, crs)
    county = _branch_counties(ds, town_xy, branch_xy)
    population = ds.towns.groupby("county")["population"].sum()
    table = pd.DataFrame({"branches_all": county.value_counts(), "branches_ours": county[ours].value_counts()})
    table = table.reindex(population.index).fillna(0).astype(int)
    table["population_wan"] = population / 1e4
    table["our_share_pct"] = 100.0 * table["branches_ours"] / table["branches_all"].replace(0, np.nan)
    table["wan_per_branch_all"] = table["population_wan"] / table["branches_all"].replace(0, np.nan)
    table["wan_per_branch_ours"] = table["population_wan"] / table["branches_ours"].replace(0, np.nan)
    reach = pairs_within(town_xy, branch_xy, radius_km * 1000.0).tocoo()
    ours_near = np.bincount(reach.row[ours[reach.col]], minlength=len(ds.towns))
    rivals_near = np.bincount(reach.row[~ours[reach.col]], minlength=len(ds.towns))
    gap = ds.towns.loc[(rivals_near > 0) & (ours_near == 0), ["town_id", "name", "county", "population"]].copy()
    gap["rival_branches_within"] = rivals_near[gap.index]
    return table.rename_axis("county").reset_index(), gap.sort_values("population", ascending=False)


class RivalCoverage(NamedTuple):
    """Our bank's coverage beside every bank's, measured the same way (see rival_coverage)."""

    by_region: pd.DataFrame
    by_county: pd.DataFrame
    rival_only: pd.DataFrame


def rival_coverage(ours: Coverage, every_bank: Coverage) -> RivalCoverage:
    """Our coverage against every bank's, from two analyze_coverage results on the same demand and settings —
    one of our branches alone (`ds.of_bank(...)`), one of every bank's branches: by region and by county, our
    branches and all, our share of branches, coverage by ours and by any bank, how far ours is behind
    (percentage points); and the towns whose residents (or cells') only a rival's branch reaches, most residents
    first (`rival_only_population`: the residents within reach of a rival's branch but not of ours)."""
    if len(ours.towns) != len(every_bank.towns) or ours.settings != every_bank.settings:
        raise InputError("rival_coverage compares two coverages measured on the same demand with the same settings "
                         "(radius, minutes, distance)", file="rival_coverage")
    keys = {"by_region": "region_type", "by_county": "county"}
    tables = {name: _side_by_side(getattr(ours, name), getattr(every_bank, name), key) for name, key in keys.items()}
    only = every_bank.towns["covered"].to_numpy() & ~ours.towns["covered"].to_numpy()
    return RivalCoverage(tables["by_region"], tables["by_county"], _rival_only_towns(ours.towns[only]))


def _side_by_side(ours: pd.DataFrame, every_bank: pd.DataFrame, key: str) -> pd.DataFrame:
    """Branches and coverage rate of ours beside every bank's, per `key` (region type or county)."""
    table = pd.DataFrame({key: ours[key].to_numpy(), "population_wan": ours["population_wan"].to_numpy(),
                          "branches_ours": ours["branches"].to_numpy()})
    every = every_bank.set_index(key).reindex(table[key])
    table["branches_all"] = every["branches"].to_numpy()
    table["our_branch_share_pct"] = 100.0 * table["branches_ours"] / table["branches_all"].replace(0, np.nan)
    table["coverage_ours_pct"] = ours["coverage_rate_pct"].to_numpy()
    table["coverage_all_pct"] = every["coverage_rate_pct"].to_numpy()
    table["behind_pp"] = table["coverage_all_pct"] - table["coverage_ours_pct"]
    return table


def _rival_only_towns(units: pd.DataFrame) -> pd.DataFrame:
    """Demand units only a rival reaches, summed by town (cells carry their town's id and name)."""
    if "town_id" not in units:
        return pd.DataFrame({"county": units["county"], "rival_only_population": units["population"]})
    name = "name" if "name" in units else "town"
    table = (units.groupby("town_id", sort=False)
             .agg(name=(name, "first"), county=("county", "first"), rival_only_population=("population", "sum"))
             .reset_index())
    table["rival_only_population"] = table["rival_only_population"].round()
    return table.sort_values("rival_only_population", ascending=False, ignore_index=True)


def _branch_counties(ds: Dataset, town_xy: np.ndarray, branch_xy: np.ndarray) -> pd.Series:
    from netopt.distance import nearest_site

    _, nearest = nearest_site(branch_xy, town_xy)
    return pd.Series(ds.towns["county"].to_numpy()[nearest], index=ds.branches.index)


def distance_decay(km: np.ndarray, decay: str, beta: float, min_km: float = MIN_DISTANCE_KM,
                   caller: str = "model") -> np.ndarray:
    """The Huff model's pull f(d) of a branch d km away: d^-beta with d at least `min_km` (decay="power"), or
    exp(-beta d) (decay="exponential")."""
    if not isinstance(decay, str) or decay not in ("power", "exponential"):
        raise InputError(f"decay must be 'power' or 'exponential', not '{decay}'", file=caller)
    check_amount(beta, "beta", caller, required=True)
    check_amount(min_km, "min_km", caller, "km", required=True)
    pull = np.array(km, dtype=float)  # one new array, worked on in place (a grid's pull matrix is gigabytes)
    if decay == "power":
        return np.power(np.maximum(pull, min_km, out=pull), -beta, out=pull)
    return np.exp(np.multiply(pull, -beta, out=pull), out=pull)


def huff_shares(ds: Dataset, attractiveness: np.ndarray | pd.Series | None = None, decay: str = "power",
                beta: float = 2.0, cutoff_km: float = DEFAULT_HUFF_CUTOFF_KM, min_km: float = MIN_DISTANCE_KM,
                distance: str = "euclidean", graph=None, unit: str = "km", mode: str = "drive",
                cutoff_min: float = CUTOFF_MINUTES, min_minutes: float = MIN_MINUTES,
                speed_kmh: float | dict[str, float] = 30.0, walk_speed_kmh: float = 4.5,
                detour_factor: float = 1.3) -> tuple[pd.DataFrame, sp.csr_matrix]:
    """Huff gravity model: town i's residents choose branch j with probability A_j f(d_ij) / Σ_k A_k f(d_ik).

    f is distance_decay: d^-beta (decay="power", d at least `min_km`) or exp(-beta d) (decay="exponential"), d
    in km — by straight line, or by road with distance="network" and a road `graph`; only branches within
    `cutoff_km` attract. unit="min": d in travel minutes instead, as MarketShare.from_geodataframes(unit="min")
    and the diagnosis measure them (`mode` "drive" or "walk"; `speed_kmh` one or one per region type,
    {"core": 20, "county": 40}; by road each road at its own speed), `cutoff_min` and `min_minutes` in place of
    the km ones. Returns (per-branch table with expected residents, the sparse town x branch probability matrix).
    Towns with no branch within the cutoff are served by nobody.
    """
    weight = non_negative_numbers(attractiveness, len(ds.branches), InputError(
        "attractiveness must be one finite non-negative number per branch", file="huff_shares"))
    check_amount(cutoff_km, "cutoff_km", "huff_shares", "km", required=True)
    if unit not in ("km", "min"):
        raise InputError(f"unit must be 'km' or 'min', not {unit!r}", file="huff_shares")
    if distance == "euclidean" and unit == "km":
        crs = metric_crs(ds.towns, ds.branches)
        pairs = pairs_within(xy_metres(ds.towns, crs), xy_metres(ds.branches, crs), cutoff_km * 1000.0).tocoo()
        rows, cols = pairs.row, pairs.col
        pull = weight[cols] * distance_decay(pairs.data / 1000.0, decay, beta, min_km, "huff_shares")
    else:
        speeds = {"speed_kmh": speed_kmh, "walk_speed_kmh": walk_speed_kmh, "detour_factor": detour_factor}
        rows, cols, pull = _pull_pairs(ds, weight, decay, beta, (cutoff_km, min_km) if unit == "km" else
                                       (cutoff_min, min_minutes), distance, graph, None if unit == "km" else
                                       {"mode": mode, **speeds})
    total = np.bincount(rows, weights=pull, minlength=len(ds.towns))
    prob = sp.csr_matrix((pull / total[rows], (rows, cols)), shape=(len(ds.towns), len(ds.branches)))
    people = np.asarray(prob.T @ ds.towns["population"].to_numpy(float)).ravel()
    table = pd.DataFrame({"branch_id": ds.branches["branch_id"].values, "bank": ds.branches["bank"].values,
                          "expected_residents": people})
    return table, prob


def _pull_pairs(ds: Dataset, weight: np.ndarray, decay: str, beta: float, limits: tuple[float, float],
                distance: str, graph, timed: dict | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The town-branch pairs that pull (rows, columns, A_j f(d_ij)), d by road in km, or in travel minutes with
    `timed` (mode and speeds: distance.minute_blocks'; a speed per region type becomes each town's), within the
    `limits` (cutoff, floor), measured a block of branches at a time."""
    from netopt.coverage import place_speeds
    from netopt.distance import as_road_network, travel_blocks
    from netopt.heuristics import block_size
    from netopt.models.market import huff_attraction

    cutoff, floor = limits
    check_amount(cutoff, "the cutoff", "huff_shares", required=True)
    check_amount(floor, "the floor (min_km or min_minutes)", "huff_shares", required=True)
    distance_decay(np.zeros(0), decay, beta, floor, "huff_shares")  # checks decay and beta
    graph = as_road_network(graph) if distance == "network" and graph is not None else graph
    if timed is not None:
        timed = {**timed, "speed_kmh": place_speeds(ds, ds.towns, timed["speed_kmh"])}
    found = []
    for block_rows, columns, cost in travel_blocks(ds.towns, ds.branches, block_size(len(ds.towns)), distance, graph,
                                                   timed):
        pull = huff_attraction(cost, weight[columns], decay, beta, cutoff, floor)
        at, col = np.nonzero(pull)
        found.append((np.arange(len(ds.towns))[block_rows][at], col + columns.start, pull[at, col]))
    if not found:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    return tuple(np.concatenate(part) for part in zip(*found))


def bank_market_shares(table: pd.DataFrame, total_population: float) -> pd.DataFrame:
    """Expected residents and market share (%) per bank from a huff_shares table."""
    check_columns(table, ("bank", "expected_residents"), "bank_market_shares", "the table", "huff_shares")
    check_amount(total_population, "total_population", "bank_market_shares", "residents")
    by_bank = table.groupby("bank")["expected_residents"].sum().sort_values(ascending=False)
    return pd.DataFrame({"expected_residents": by_bank,
                         "share_pct": 100.0 * by_bank / total_population}).rename_axis("bank").reset_index()
