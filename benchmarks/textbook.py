"""The textbook p-median formulation (n x m assignment variables, x_ij <= y_j), handed straight to HiGHS as
sparse matrices: the baseline the issue measures netopt against."""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from netopt.models._gradual import covered_share
from netopt.models._milp import MatrixMILP, solve_highs


def textbook_pmedian(cost: np.ndarray, p: int, weights: np.ndarray | None = None,
                     time_limit: float | None = None) -> dict:
    """min Σ w_i d_ij x_ij  s.t.  Σ_j x_ij = 1,  x_ij <= y_j,  Σ_j y_j = p,  y binary."""
    start = time.perf_counter()
    n, m = cost.shape
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    x = m + np.arange(n * m)
    rows_assign = np.repeat(np.arange(n), m)
    rows_link = n + np.arange(n * m)
    A = sp.csr_matrix((np.concatenate([np.ones(n * m), np.ones(n * m), -np.ones(n * m), np.ones(m)]),
                       (np.concatenate([rows_assign, rows_link, rows_link, np.full(m, n + n * m)]),
                        np.concatenate([x, x, np.tile(np.arange(m), n), np.arange(m)]))),
                      shape=(n + n * m + 1, m + n * m))
    model = MatrixMILP(
        c=np.concatenate([np.zeros(m), (w[:, None] * cost).ravel()]), A=A,
        row_lo=np.concatenate([np.ones(n), np.full(n * m, -np.inf), [p]]),
        row_hi=np.concatenate([np.ones(n), np.zeros(n * m), [p]]),
        col_lo=np.zeros(m + n * m), col_hi=np.ones(m + n * m),
        integer=np.concatenate([np.ones(m, bool), np.zeros(n * m, bool)]))
    raw = solve_highs(model, time_limit=time_limit)
    return {"status": raw.status, "objective": raw.objective, "bound": raw.bound,
            "seconds": time.perf_counter() - start}


def textbook_gradual_mclp(reach: sp.csr_matrix, weights: np.ndarray, full: float, radius: float, p: int,
                          time_limit: float | None = None) -> dict:
    """Gradual coverage as it is usually written (an assignment variable per pair within the radius):
    max Σ w_i s_ij x_ij  s.t.  Σ_j x_ij <= 1,  x_ij <= y_j,  Σ_j y_j = p,  y binary, s_ij the covered share."""
    start = time.perf_counter()
    pairs = reach.tocoo()
    n, m, k = reach.shape[0], reach.shape[1], pairs.nnz
    share = covered_share(pairs.data, np.full(k, full), np.full(k, radius))
    x = m + np.arange(k)
    link = n + np.arange(k)
    A = sp.csr_matrix((np.concatenate([np.ones(k), np.ones(k), -np.ones(k), np.ones(m)]),
                       (np.concatenate([pairs.row, link, link, np.full(m, n + k)]),
                        np.concatenate([x, x, pairs.col, np.arange(m)]))), shape=(n + k + 1, m + k))
    model = MatrixMILP(
        c=np.concatenate([np.zeros(m), np.asarray(weights, float)[pairs.row] * share]), A=A,
        row_lo=np.concatenate([np.full(n + k, -np.inf), [p]]), row_hi=np.concatenate([np.ones(n), np.zeros(k), [p]]),
        col_lo=np.zeros(m + k), col_hi=np.ones(m + k), integer=np.concatenate([np.ones(m, bool), np.zeros(k, bool)]),
        sense="max")
    raw = solve_highs(model, time_limit=time_limit)
    return {"status": raw.status, "objective": raw.objective, "bound": raw.bound,
            "seconds": time.perf_counter() - start}
