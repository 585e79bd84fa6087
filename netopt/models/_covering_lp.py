"""MCLP's LP bound solved through its dual (one row per site), and the site fixing its multipliers prove."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def mclp_lp_multipliers(A: sp.csr_matrix, weights: np.ndarray, p: int, fixed: np.ndarray, forbidden: np.ndarray,
                        exactly_p: bool = True, seconds: float | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """LP-optimal multipliers λ of MCLP's coverage rows (z_i ≤ Σ_j a_ij y_j) and the LP's site values y.

    Solved as the LP dual  min Σ_i (w_i − λ_i) + p·η + Σ_j π_j  s.t.  η + π_j ≥ Σ_i a_ij λ_i,
    0 ≤ λ ≤ w, π ≥ 0: one row per site, so the simplex basis is as small as the number of sites, where the
    primal has one row per distinct demand row (100,000 uniform demand points x 2,000 sites: 1.5 s instead of
    minutes). Demand covered by a fixed site gets λ = 0 (it is covered whatever else opens); forbidden sites
    have no row.
    Dense, heavily overlapping coverage is slower (Hefei's 0.1 km grid, 85,102 rows: 115 s); None when the
    LP is not solved within `seconds`.
    """
    import highspy

    k, m = A.shape
    csc = A.tocsc()
    lam, y = np.zeros(k), np.zeros(m)
    y[fixed] = 1.0
    free_rows = np.asarray(csc[:, fixed].sum(axis=1)).ravel() == 0 if len(fixed) else np.ones(k, bool)
    sites = np.setdiff1d(np.arange(m), np.concatenate([fixed, forbidden]).astype(int))
    left = p - len(fixed)
    if left <= 0 or len(sites) == 0 or not free_rows.any():
        return lam, y
    rows = np.flatnonzero(free_rows)
    sub = csc[rows][:, sites].astype(float)
    highs = mclp_dual_highs(sub, weights[rows], left, exactly_p)
    if seconds is not None:
        highs.setOptionValue("time_limit", float(seconds))
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    lam[rows], y[sites] = mclp_dual_values(highs, weights[rows])
    return lam, y


def mclp_dual_highs(A: sp.csr_matrix, weights: np.ndarray, p: int, exactly_p: bool = True):
    """A HiGHS instance holding MCLP's LP dual over all of A's rows and sites (see mclp_lp_multipliers), set to
    simplex, not yet run. Columns: λ (one per row), η, π (one per site); rows: one per site."""
    from netopt.models._milp import INF, MatrixMILP, loaded_highs

    k, m = A.shape
    dual = sp.hstack([-A.T.tocsr(), sp.csr_matrix(np.ones((m, 1))), sp.identity(m, format="csr")]).tocsr()
    highs = loaded_highs(MatrixMILP(
        c=np.concatenate([-np.ones(k), [float(p)], np.ones(m)]), A=dual,
        row_lo=np.zeros(m), row_hi=np.full(m, INF),
        col_lo=np.concatenate([np.zeros(k), [-INF if exactly_p else 0.0], np.zeros(m)]),
        col_hi=np.concatenate([weights, np.full(m + 1, INF)]), integer=np.zeros(k + 1 + m, bool)))
    highs.setOptionValue("solver", "simplex")
    return highs


def mclp_dual_values(highs, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of a solved mclp_dual_highs over rows with `weights`: the multipliers λ (in [0, w]) and the LP's site
    values y (the site rows' duals, in [0, 1])."""
    solution = highs.getSolution()
    return (np.clip(np.asarray(solution.col_value[:len(weights)]), 0.0, weights),
            np.clip(np.abs(np.asarray(solution.row_dual)), 0.0, 1.0))


def lagrangian_site_tests(csc: sp.csc_matrix, weights: np.ndarray, lam: np.ndarray, p: int, closed: np.ndarray,
                          must: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The Lagrangian bound at λ and, per site, the best any plan can cover when that site is forced open
    (`with_site`) or shut (`without_site`). Bound: Σ_i max(0, w_i − λ_i) + the p largest s_j = Σ_i a_ij λ_i
    over sites that may open, fixed sites first. Valid for every λ ≥ 0.
    Returns (bound, chosen sites, with_site, without_site); with_site = −inf for closed sites."""
    s = np.asarray(csc.T @ lam).ravel()
    score = np.where(closed, -np.inf, np.where(must, np.inf, s))
    ranked = np.argsort(-score, kind="stable")
    chosen = ranked[:p]
    base = float(np.maximum(0.0, weights - lam).sum())
    bound = base + float(s[chosen].sum()) if not closed[chosen].any() else -np.inf
    swappable = chosen[~must[chosen]]
    weakest = float(s[swappable].min()) if len(swappable) else np.inf
    runner_up = float(s[ranked[p]]) if len(ranked) > p and np.isfinite(score[ranked[p]]) else -np.inf
    with_site = np.where(closed, -np.inf, bound - weakest + s)
    with_site[chosen] = bound
    without_site = np.full(len(s), bound)
    without_site[swappable] = bound - s[swappable] + runner_up
    return bound, chosen, with_site, without_site
