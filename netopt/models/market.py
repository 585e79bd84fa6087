"""Market share against fixed competitors under the Huff model, as exact integer programs.

Town i's residents use branch j with probability A_j f(d_ij) / (C_i + Σ_{our open k} A_k f(d_ik)), C_i being
the competitors' attraction at i. With a_ij = A_j f(d_ij) / C_i, the captured share x_ij obeys
x_ij <= a_ij x_i0, x_ij <= y_j, x_i0 + Σ_j x_ij = 1 (Haase & Müller 2014): when maximising capture, or
requiring it, this linearisation is exact. Towns no competitor reaches are captured whole by any open
site within reach (a covering constraint).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError
from netopt.models._base import LocationModel, SiteRules, checked_p, finish_result, site_rules, stack_rows
from netopt.models._milp import INF, MatrixMILP, RawSolution, Result
from netopt.models.median import as_weights, labels


def huff_attraction(km: np.ndarray, attractiveness: np.ndarray, decay: str, beta: float, cutoff_km: float) -> np.ndarray:
    """A_j f(d_ij) for every town x branch, 0 beyond the cutoff (power decay counts d below 0.1 km as 0.1 km)."""
    from netopt.competition import MIN_DISTANCE_KM

    if decay not in ("power", "exponential"):
        raise InputError("decay must be 'power' or 'exponential'", file="model")
    pull = np.maximum(km, MIN_DISTANCE_KM) ** -beta if decay == "power" else np.exp(-beta * km)
    return np.where(km <= cutoff_km, pull * attractiveness[None, :], 0.0)


class MarketShare(LocationModel):
    """Choose our sites to maximise captured residents against fixed competitors ("maximize market share"),
    or the fewest sites reaching a target share ("target market share": target_share=0.3)."""

    def __init__(self, ours: np.ndarray, rivals: np.ndarray, weights, p: int | None = None,
                 target_share: float | None = None, rules: SiteRules | None = None, demand_labels=None,
                 site_labels=None) -> None:
        self.ours = np.asarray(ours, float)  # town x our candidate site attraction
        self.rivals = np.asarray(rivals, float)  # competitors' total attraction per town
        n, m = self.ours.shape
        self.weights = as_weights(weights, n)
        if (p is None) == (target_share is None):
            raise InputError("give p (maximise market share) or target_share (fewest sites), not both",
                             file="model")
        self.p = None if p is None else checked_p(p, m)
        if target_share is not None and not 0 < target_share <= 1:
            raise InputError("target_share is a fraction between 0 and 1", file="model")
        self.target_share = target_share
        self.rules = rules or SiteRules(m)
        self.demand_labels = labels(demand_labels, n, "d")
        self.site_labels = labels(site_labels, m, "s")
        self._milp = None

    @classmethod
    def from_geodataframes(cls, towns, candidates, competitors, p: int | None = None,
                           target_share: float | None = None, weight: str = "population", decay: str = "power",
                           beta: float = 2.0, cutoff_km: float = 20.0, attractiveness: str | None = None,
                           **rules) -> "MarketShare":
        """`candidates`: our sites (e.g. planning.candidate_sites for our bank); `competitors`: other banks'
        branches. Straight-line km; `attractiveness` names a column present in both tables (default 1)."""
        from netopt.distance import cost_matrix_km
        from netopt.models.median import _ids, frame_column, rules_from_candidates

        a_ours = (frame_column(candidates, attractiveness, "candidates").to_numpy(float) if attractiveness
                  else np.ones(len(candidates)))
        a_them = (frame_column(competitors, attractiveness, "competitors").to_numpy(float) if attractiveness
                  else np.ones(len(competitors)))
        weights = frame_column(towns, weight, "towns").to_numpy(float)
        ours = huff_attraction(cost_matrix_km(towns, candidates), a_ours, decay, beta, cutoff_km)
        rivals = huff_attraction(cost_matrix_km(towns, competitors), a_them, decay, beta, cutoff_km).sum(axis=1)
        return cls(ours, rivals, weights, p, target_share,
                   site_rules(len(candidates), **rules_from_candidates(candidates, rules)), _ids(towns, None),
                   _ids(candidates, None))

    def _build(self) -> MatrixMILP:
        n, m = self.ours.shape
        contested = self.rivals > 0
        ii, jj = np.nonzero((self.ours > 0) & contested[:, None])
        k = len(ii)
        # columns: y (m) | x_ij for contested pairs (k) | x_i0 for contested towns | z_i for uncontested towns
        towns_c = np.flatnonzero(contested)
        towns_u = np.flatnonzero(~contested)
        x0 = m + k + np.searchsorted(towns_c, ii)
        n_cols = m + k + len(towns_c) + len(towns_u)
        rows, cols, vals, lo, hi = [], [], [], [], []

        def add(row_cols: list, row_vals: list, low: float, high: float) -> None:
            rows.extend([len(lo)] * len(row_cols))
            cols.extend(row_cols)
            vals.extend(row_vals)
            lo.append(low)
            hi.append(high)

        a = self.ours[ii, jj] / self.rivals[ii]
        for q in range(k):  # x_ij <= a_ij x_i0 ; x_ij <= y_j
            add([m + q, int(x0[q])], [1.0, -a[q]], -INF, 0.0)
            add([m + q, int(jj[q])], [1.0, -1.0], -INF, 0.0)
        pairs_of = pd.Series(np.arange(k)).groupby(ii).apply(list).to_dict() if k else {}
        for t, i in enumerate(towns_c):  # x_i0 + Σ_j x_ij = 1
            members = pairs_of.get(i, [])
            add([m + q for q in members] + [m + k + t], [1.0] * (len(members) + 1), 1.0, 1.0)
        reach = (self.ours > 0)
        for t, i in enumerate(towns_u):  # uncontested: z_i <= Σ_{j in reach} y_j
            js = np.flatnonzero(reach[i])
            add([m + k + len(towns_c) + t] + list(js), [1.0] + [-1.0] * len(js), -INF, 0.0)
        capture = np.zeros(n_cols)
        capture[m:m + k] = self.weights[ii]
        capture[m + k + len(towns_c):] = self.weights[towns_u]
        A = sp.csr_matrix((vals, (rows, cols)), shape=(len(lo), n_cols))
        extra, elo, ehi, names = self.rules.rows()
        if self.p is not None:
            extra.append(np.ones(m)); elo.append(-INF); ehi.append(float(self.p)); names.append("p")
            c, sense = capture, "max"
        else:
            c, sense = np.concatenate([np.ones(m), np.zeros(n_cols - m)]), "min"
        A = stack_rows(A, extra)
        row_lo, row_hi = np.concatenate([lo, elo]), np.concatenate([hi, ehi])
        if self.target_share is not None:
            A = sp.vstack([A, sp.csr_matrix(capture)]).tocsr()
            row_lo = np.append(row_lo, self.target_share * self.weights.sum())
            row_hi = np.append(row_hi, INF)
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(c=c, A=A, row_lo=row_lo, row_hi=row_hi,
                          col_lo=np.concatenate([y_lo, np.zeros(n_cols - m)]),
                          col_hi=np.concatenate([y_hi, np.ones(n_cols - m)]),
                          integer=np.concatenate([np.ones(m, bool), np.zeros(n_cols - m, bool)]), sense=sense)

    def captured(self, sites: np.ndarray) -> float:
        """Residents captured by a set of our sites under the Huff model (the exact objective)."""
        ours = self.ours[:, sites].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(self.rivals > 0, ours / (self.rivals + ours), (ours > 0).astype(float))
        return float(self.weights @ share)

    def _explain_infeasible(self) -> str:
        if self.target_share is not None:
            best = self.captured(np.setdiff1d(np.arange(self.ours.shape[1]), self.rules.forbidden))
            return (f"even every allowed site captures {100 * best / self.weights.sum():.1f}% of residents, "
                    f"below the target {100 * self.target_share:.1f}%")
        return self.rules.explain(self.p) or self.rules.together(self.p)

    def _result(self, raw: RawSolution) -> Result:
        m = self.ours.shape[1]
        sites = np.flatnonzero(raw.x[:m] > 0.5)
        captured = self.captured(sites)
        total = self.weights.sum()
        share = pd.DataFrame({"demand": self.demand_labels, "weight": self.weights})
        return finish_result(raw, [self.site_labels[j] for j in sites], share, captured=captured,
                             share_pct=100.0 * captured / total if total else np.nan, sites=len(sites))


def max_attendance(km: np.ndarray, p: int, weights=None, decay: str = "exponential", beta: float = 0.3,
                   cutoff_km: float = np.inf, time_limit: float | None = None, **rules) -> Result:
    """Distance-decay coverage ("maximize attendance"): each town's residents use their nearest open site
    with probability g(d) (e^{-βd}, or d^{-β} beyond 0.1 km; 0 past the cutoff); open p sites maximising
    the expected users Σ w_i g(d_i). Solved exactly as a p-median with cost 1 − g(d) (g ≤ 1), so the
    p-median's bounds and warm starts apply; objective and bound are in expected users."""
    from netopt.models.median import PMedian

    km = np.asarray(km, float)
    pull = huff_attraction(km, np.ones(km.shape[1]), decay, beta, cutoff_km)
    pull = np.minimum(pull / max(pull.max(), 1.0) if decay == "power" else pull, 1.0)
    w = as_weights(weights, km.shape[0])
    result = PMedian.from_cost_matrix(1.0 - pull, p, weights=w, **rules).solve(time_limit=time_limit)
    total = float(w.sum())
    result.objective, result.bound = total - result.objective, total - result.bound
    result.details["attendance_pct"] = 100.0 * result.objective / total if total else np.nan
    return result


def fewest_sites_for_attendance(km: np.ndarray, target_share: float, weights=None, decay: str = "exponential",
                                beta: float = 0.3, cutoff_km: float = np.inf, time_limit: float | None = None,
                                **rules) -> Result:
    """Distance-decay set covering: the fewest sites whose expected users Σ w_i g(d_i) reach `target_share`
    of all residents (x_ij: i's residents assigned to open j, Σ_j x_ij <= 1, x_ij <= y_j)."""
    from netopt.models._milp import solve_highs

    km = np.asarray(km, float)
    n, m = km.shape
    if not 0 < target_share <= 1:
        raise InputError("target_share is a fraction between 0 and 1", file="model")
    g = huff_attraction(km, np.ones(m), decay, beta, cutoff_km)
    g = np.minimum(g / max(g.max(), 1.0) if decay == "power" else g, 1.0)
    w = as_weights(weights, n)
    ii, jj = np.nonzero(g > 0)
    k = len(ii)
    x = m + np.arange(k)
    A = sp.vstack([
        sp.csr_matrix((np.ones(k), (ii, x)), shape=(n, m + k)),                                 # Σ_j x_ij <= 1
        sp.csr_matrix((np.r_[np.ones(k), -np.ones(k)], (np.r_[np.arange(k), np.arange(k)], np.r_[x, jj])),
                      shape=(k, m + k)),                                                          # x_ij <= y_j
        sp.csr_matrix((w[ii] * g[ii, jj], (np.zeros(k, int), x)), shape=(1, m + k)),            # attendance
    ]).tocsr()
    chosen_rules = site_rules(m, **rules)
    extra, lo, hi, _ = chosen_rules.rows()
    A = stack_rows(A, extra)
    y_lo, y_hi = chosen_rules.bounds()
    milp = MatrixMILP(c=np.r_[np.ones(m), np.zeros(k)], A=A,
                      row_lo=np.r_[np.full(n, -INF), np.full(k, -INF), target_share * w.sum(), lo],
                      row_hi=np.r_[np.ones(n), np.zeros(k), INF, hi],
                      col_lo=np.r_[y_lo, np.zeros(k)], col_hi=np.r_[y_hi, np.ones(k)],
                      integer=np.r_[np.ones(m, bool), np.zeros(k, bool)])
    raw = solve_highs(milp, time_limit=time_limit)
    if raw.status in ("infeasible", "error"):
        best = float(w @ g.max(axis=1)) / w.sum()
        return Result("infeasible", np.nan, np.nan, np.inf, raw.seconds,
                      reason=f"even every site reaches {100 * best:.1f}% attendance, below {100 * target_share:.1f}%")
    sites = np.flatnonzero(raw.x[:m] > 0.5)
    attendance = float(w @ g[:, sites].max(axis=1)) if len(sites) else 0.0
    return finish_result(raw, [f"s{j}" for j in sites], pd.DataFrame(), attendance=attendance,
                         attendance_pct=100.0 * attendance / w.sum())
