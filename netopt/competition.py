"""Competition: our bank against the others — branch shares, rival-only towns, and Huff (gravity) market shares."""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError
from netopt.distance import pairs_within
from netopt.io import Dataset
from netopt.projection import metric_crs, xy_metres

DEFAULT_HUFF_CUTOFF_KM = 20.0  # branches farther than this attract nobody
MIN_DISTANCE_KM = 1.0  # a town's point stands for its area: a branch nearer counts as 1 km away (d^-β is infinite at 0)


def bank_mask(branches, bank: str) -> np.ndarray:
    """Which branches belong to `bank` (its name, or part of it); an InputError listing the banks if none."""
    mask = branches["bank"].astype(str).str.contains(bank, regex=False, na=False).to_numpy()
    if not mask.any():
        banks = ", ".join(sorted(branches["bank"].dropna().astype(str).unique())[:12])
        raise InputError(f"no branch of bank '{bank}'; banks in the data: {banks}", file="branches")
    return mask


def bank_shares(ds: Dataset, our_bank: str, radius_km: float = 3.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per county: branches of all banks and ours, our share, 万人 per branch (all vs ours); and the towns
    where a rival branch lies within `radius_km` but none of ours does (largest population first)."""
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


def _branch_counties(ds: Dataset, town_xy: np.ndarray, branch_xy: np.ndarray) -> pd.Series:
    from netopt.distance import nearest_site

    _, nearest = nearest_site(branch_xy, town_xy)
    return pd.Series(ds.towns["county"].to_numpy()[nearest], index=ds.branches.index)


def distance_decay(km: np.ndarray, decay: str, beta: float, min_km: float = MIN_DISTANCE_KM,
                   caller: str = "model") -> np.ndarray:
    """The Huff model's pull f(d) of a branch d km away: d^-beta with d at least `min_km` (decay="power"), or
    exp(-beta d) (decay="exponential")."""
    if decay not in ("power", "exponential"):
        raise InputError(f"decay must be 'power' or 'exponential', not '{decay}'", file=caller)
    for name, value in (("beta", beta), ("min_km", min_km)):
        if not np.isfinite(value) or value <= 0:
            raise InputError(f"{name} must be a positive number, got {value:g}", file=caller)
    return np.maximum(km, min_km) ** -beta if decay == "power" else np.exp(-beta * km)


def huff_shares(ds: Dataset, attractiveness: np.ndarray | pd.Series | None = None, decay: str = "power",
                beta: float = 2.0, cutoff_km: float = DEFAULT_HUFF_CUTOFF_KM,
                min_km: float = MIN_DISTANCE_KM) -> tuple[pd.DataFrame, sp.csr_matrix]:
    """Huff gravity model: town i's residents choose branch j with probability A_j f(d_ij) / Σ_k A_k f(d_ik).

    f is distance_decay: d^-beta (decay="power", d at least `min_km`) or exp(-beta d) (decay="exponential"), d
    in km; only branches within `cutoff_km` attract. Returns (per-branch table with expected residents, the sparse
    town x branch probability matrix). Towns with no branch within the cutoff are served by nobody.
    """
    weight = np.ones(len(ds.branches)) if attractiveness is None else np.asarray(attractiveness, float)
    if weight.shape != (len(ds.branches),) or (weight < 0).any():
        raise InputError("attractiveness must be one non-negative number per branch", file="huff_shares")
    crs = metric_crs(ds.towns, ds.branches)
    pairs = pairs_within(xy_metres(ds.towns, crs), xy_metres(ds.branches, crs), cutoff_km * 1000.0).tocoo()
    km = pairs.data / 1000.0
    pull = weight[pairs.col] * distance_decay(km, decay, beta, min_km, "huff_shares")
    total = np.bincount(pairs.row, weights=pull, minlength=len(ds.towns))
    prob = sp.csr_matrix((pull / total[pairs.row], (pairs.row, pairs.col)), shape=(len(ds.towns), len(ds.branches)))
    people = np.asarray(prob.T @ ds.towns["population"].to_numpy(float)).ravel()
    table = pd.DataFrame({"branch_id": ds.branches["branch_id"].values, "bank": ds.branches["bank"].values,
                          "expected_residents": people})
    return table, prob


def bank_market_shares(table: pd.DataFrame, total_population: float) -> pd.DataFrame:
    """Expected residents and market share (%) per bank from a huff_shares table."""
    by_bank = table.groupby("bank")["expected_residents"].sum().sort_values(ascending=False)
    return pd.DataFrame({"expected_residents": by_bank,
                         "share_pct": 100.0 * by_bank / total_population}).rename_axis("bank").reset_index()
