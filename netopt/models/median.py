"""p-median: open p sites minimising total weighted distance, as a compact radius formulation for HiGHS.

Formulation (Cornuéjols, Nemhauser & Wolsey 1980; Elloumi 2010): for each demand point i, let
D_i^0 < D_i^1 < ... be the distinct distances to the candidate sites. z_i^k = 1 when i is served farther
than D_i^k. Minimise Σ_i w_i (D_i^0 + Σ_k (D_i^{k+1} − D_i^k) z_i^k) subject to
z_i^0 + Σ_{j: d_ij = D_i^0} y_j ≥ 1, z_i^k − z_i^{k−1} + Σ_{j: d_ij = D_i^k} y_j ≥ 0, Σ_j y_j = p.
Its LP bound equals the textbook one, but it has one variable per distinct distance instead of one per
(demand, site) pair and about n·m + 2·Σ_i K_i nonzeros instead of 3·n·m; y is warm-started by greedy +
interchange.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError
from netopt.heuristics import pmedian_heuristic
from netopt.models._base import LocationModel, SiteRules, finish_result, stack_rows
from netopt.models._milp import INF, MatrixMILP, RawSolution, Result


def as_cost_matrix(cost, name: str = "cost") -> np.ndarray:
    """A dense float demand x site matrix; missing entries of a sparse matrix mean 'cannot serve' (inf)."""
    if sp.issparse(cost):
        coo = cost.tocoo()
        dense = np.full(coo.shape, np.inf)
        dense[coo.row, coo.col] = coo.data
        return dense
    try:
        dense = np.array(cost, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric demand x site matrix", file="model") from None
    if dense.ndim != 2 or 0 in dense.shape:
        raise InputError(f"{name} must be a non-empty 2-D demand x site matrix, got shape {dense.shape}", file="model")
    if np.isnan(dense).any() or (dense < 0).any():
        raise InputError(f"{name} has NaN or negative entries", file="model")
    return dense


def as_weights(weights, n: int) -> np.ndarray:
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    if w.shape != (n,) or np.isnan(w).any() or (w < 0).any():
        raise InputError(f"weights must be {n} non-negative numbers, one per demand point", file="model")
    return w


def labels(given, n: int, prefix: str) -> list:
    return list(given) if given is not None else [f"{prefix}{i}" for i in range(n)]


class PMedian(LocationModel):
    """Choose p sites minimising Σ weight x distance to the nearest open site."""

    def __init__(self, cost: np.ndarray, p: int, weights: np.ndarray | None = None, rules: SiteRules | None = None,
                 demand_labels: list | None = None, site_labels: list | None = None) -> None:
        self.cost = as_cost_matrix(cost)
        n, m = self.cost.shape
        if not isinstance(p, (int, np.integer)) or not 1 <= p <= m:
            raise InputError(f"p must be a whole number between 1 and the number of sites ({m}), got {p}", file="model")
        self.p = int(p)
        self.weights = as_weights(weights, n)
        self.rules = rules or SiteRules(m)
        self.demand_labels = labels(demand_labels, n, "d")
        self.site_labels = labels(site_labels, m, "s")
        self._milp = None

    @classmethod
    def from_cost_matrix(cls, cost, p: int, weights=None, demand_labels=None, site_labels=None,
                         **rules) -> "PMedian":
        """cost: demand x site (dense, or scipy sparse where a missing entry means the site cannot serve)."""
        dense = as_cost_matrix(cost)
        return cls(dense, p, weights, SiteRules(dense.shape[1], **rules), demand_labels, site_labels)

    @classmethod
    def from_geodataframes(cls, demand, candidates, p: int, weight: str | None = "population",
                           distance: str = "euclidean", graph=None, mode: str = "drive",
                           demand_id: str | None = None, site_id: str | None = None, **rules) -> "PMedian":
        """Distances in km (straight line or road network) from demand points to candidate sites."""
        from netopt.distance import cost_matrix_km

        cost = cost_matrix_km(demand, candidates, distance=distance, graph=graph)
        weights = demand[weight].to_numpy(float) if weight else None
        return cls.from_cost_matrix(cost, p, weights, _ids(demand, demand_id), _ids(candidates, site_id), **rules)

    # ------------------------------------------------------------------ formulation
    def _build(self) -> MatrixMILP:
        n, m = self.cost.shape
        order = np.argsort(self.cost, axis=1, kind="stable")
        dist = np.take_along_axis(self.cost, order, axis=1)
        finite = np.isfinite(dist)
        new_level = np.zeros_like(dist, dtype=bool)
        new_level[:, 1:] = (dist[:, 1:] != dist[:, :-1]) & finite[:, 1:]
        level = np.cumsum(new_level, axis=1)
        n_levels = np.where(finite.any(axis=1), level.max(axis=1, where=finite, initial=0) + 1, 0)
        n_z = np.maximum(n_levels - 1, 0)
        z_start = m + np.concatenate([[0], np.cumsum(n_z)[:-1]])
        row_start = np.concatenate([[0], np.cumsum(n_z)[:-1]])
        total_z = int(n_z.sum())
        # y entries: position (i, p) with level < K_i - 1 goes to row (i, level)
        ii, pp = np.nonzero(finite & (level < (n_levels - 1)[:, None]))
        y_rows, y_cols = row_start[ii] + level[ii, pp], order[ii, pp]
        # z entries: +1 for z_i^k in row (i,k); -1 for z_i^{k-1} in row (i,k), k >= 1
        zi = np.repeat(np.arange(n), n_z)
        zk = np.arange(total_z) - np.repeat(row_start, n_z)
        z_rows, z_cols = np.arange(total_z), m + np.arange(total_z)
        prev = zk >= 1
        rows = np.concatenate([y_rows, z_rows, z_rows[prev]])
        cols = np.concatenate([y_cols, z_cols, z_cols[prev] - 1])
        vals = np.concatenate([np.ones(len(y_rows)), np.ones(total_z), -np.ones(int(prev.sum()))])
        A = sp.csr_matrix((vals, (rows, cols)), shape=(total_z, m + total_z))
        row_lo = np.where(zk == 0, 1.0, 0.0)
        # objective: distance steps on z; the smallest distance is a constant
        distinct_steps = self._level_steps(dist, level, n_levels)
        c = np.concatenate([np.zeros(m), self.weights[zi] * distinct_steps])
        offset = float(self.weights[n_levels > 0] @ dist[n_levels > 0, 0])
        A, row_lo, row_hi, names = self._add_site_rows(A, row_lo, np.full(total_z, INF), n_levels, finite, order)
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(
            c=c, A=A, row_lo=row_lo, row_hi=row_hi,
            col_lo=np.concatenate([y_lo, np.zeros(total_z)]), col_hi=np.concatenate([y_hi, np.ones(total_z)]),
            integer=np.concatenate([np.ones(m, bool), np.zeros(total_z, bool)]), sense="min", offset=offset,
            col_names=[f"y_{j}" for j in range(m)] + [f"z_{i}_{k}" for i, k in zip(zi, zk)],
            row_names=[f"radius_{i}_{k}" for i, k in zip(zi, zk)] + names,
        )

    @staticmethod
    def _level_steps(dist: np.ndarray, level: np.ndarray, n_levels: np.ndarray) -> np.ndarray:
        """For every z_i^k (k < K_i − 1): D_i^{k+1} − D_i^k."""
        steps = []
        for i in range(dist.shape[0]):
            values = np.unique(dist[i][np.isfinite(dist[i])])
            steps.append(np.diff(values))
        return np.concatenate(steps) if steps else np.zeros(0)

    def _add_site_rows(self, A, row_lo, row_hi, n_levels, finite, order):
        m = self.cost.shape[1]
        extra, lo, hi, names = self.rules.rows()
        extra.append(np.ones(m)); lo.append(self.p); hi.append(self.p); names.append("p")
        partial = ~finite.all(axis=1)  # demand points some sites cannot serve: at least one reachable site open
        for i in np.flatnonzero(partial):
            reach = np.zeros(m)
            reach[np.isfinite(self.cost[i])] = 1.0
            extra.append(reach); lo.append(1.0); hi.append(INF); names.append(f"reach_{i}")
        A = stack_rows(A, extra, 0)
        return A, np.concatenate([row_lo, lo]), np.concatenate([row_hi, hi]), names

    # ------------------------------------------------------------------ solving
    def _explain_infeasible_rules(self) -> str:
        unreachable = ~np.isfinite(self.cost).any(axis=1)
        if unreachable.any():
            names = [str(self.demand_labels[i]) for i in np.flatnonzero(unreachable)[:5]]
            return f"no candidate site can serve demand point(s) {', '.join(names)}"
        return self.rules.explain(self.p)

    def _explain_infeasible(self) -> str:
        return self.rules.explain(self.p) or ("the site rules (budget, county minimums, fixed and forbidden "
                                              "sites) cannot all be met with p sites")

    def _heuristic(self) -> tuple[np.ndarray | None, float | None]:
        if self.rules.budget is not None or self.rules.county_min or self.rules.max_new is not None:
            return None, None
        allowed = np.ones(self.cost.shape[1], bool)
        allowed[self.rules.forbidden] = False
        finite_cost = np.where(np.isfinite(self.cost), self.cost, 1e12 * (1 + np.nanmax(self.cost[np.isfinite(self.cost)])))
        sites, value = pmedian_heuristic(finite_cost, self.weights, self.p, self.rules.fixed, allowed)
        if not np.isfinite(self.cost[:, sites].min(axis=1)).all():
            return None, None
        return self._vector(sites), value

    def _vector(self, sites: np.ndarray) -> np.ndarray:
        """The full variable vector (y and z) of a set of open sites."""
        y = np.zeros(self.cost.shape[1])
        y[sites] = 1.0
        served = self.cost[:, sites].min(axis=1)
        z = [(np.unique(row[np.isfinite(row)])[:-1] < d).astype(float) for row, d in zip(self.cost, served)]
        return np.concatenate([y] + z)

    def _result(self, raw: RawSolution) -> Result:
        m = self.cost.shape[1]
        open_sites = np.flatnonzero(raw.x[:m] > 0.5)
        sub = self.cost[:, open_sites]
        nearest = open_sites[np.argmin(sub, axis=1)]
        distance = sub.min(axis=1)
        assignment = pd.DataFrame({
            "demand": self.demand_labels, "site": [self.site_labels[j] for j in nearest], "distance": distance,
            "weight": self.weights, "weighted_distance": distance * self.weights,
        })
        result = finish_result(raw, [self.site_labels[j] for j in open_sites], assignment)
        result.details["mean_distance"] = float(assignment["weighted_distance"].sum() / max(self.weights.sum(), 1e-12))
        return result


def _ids(frame, column: str | None) -> list | None:
    if column is not None:
        return frame[column].tolist()
    for candidate in ("branch_id", "town_id", "site_id", "id", "name"):
        if candidate in frame:
            return frame[candidate].tolist()
    return None
