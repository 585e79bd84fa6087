"""Exact market share by submodular cuts: a HiGHS master over the site variables, cuts added at its plans."""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from netopt.models._base import SiteRules
from netopt.models._milp import RawSolution, add_highs_rows, relative_gap, run_highs_checked

MAX_ROUNDS = 500  # master solves; each adds the cuts its plan violates (a plan is never cut twice)
TOLERANCE = 1e-6  # relative: the master's θ may exceed its cuts by HiGHS's feasibility tolerance in every town


class ShareCuts:
    """Town i's captured residents f_i(S) = w_i h_i(S) under the Huff model are a monotone submodular function
    of our open sites S (a concave function of their summed pull). So for every set S and every plan T
    (Nemhauser, Wolsey & Fisher 1978; ρ_j(S) = f(S + j) − f(S), F the sites fixed open):
    f_i(T) <= f_i(S) + Σ_{j in T \\ S} ρ_j(S), and f_i(T) <= f_i(S) − Σ_{j in S \\ T} ρ_j(S − j) + Σ_{j in T \\ S} ρ_j(F)
    (the second counts the closures of a relocation). Both are tight at T = S: the master max Σ θ_i, θ_i below
    the cuts, reaches the true optimum once the plan it returns violates none of them."""

    def __init__(self, ours: np.ndarray, rivals: np.ndarray, weights: np.ndarray, share, fixed: np.ndarray,
                 group: np.ndarray | None = None) -> None:
        self.pull = sp.csr_matrix(ours)
        self.rivals, self.weights, self.share = rivals, weights, share
        coo = self.pull.tocoo()
        self.town, self.site, self.value = coo.row, coo.col, coo.data
        self.fixed = fixed  # 0/1 per site: the sites open in every plan
        # θ per group of towns (a sum of submodular functions is submodular): fewer, denser cuts on large grids
        self.group = np.arange(len(weights)) if group is None else np.asarray(group, int)
        self.n_groups = int(self.group.max()) + 1 if len(self.group) else 0
        self.group_weights = np.bincount(self.group, weights=weights, minlength=self.n_groups)

    def captured(self, y: np.ndarray) -> np.ndarray:
        """Residents captured in each group of towns by the plan y (0/1 per site)."""
        return self._by_group(self.weights * self.share(self.pull @ y, self.rivals))

    def _by_group(self, per_town: np.ndarray) -> np.ndarray:
        """A per-town quantity summed over each group of towns."""
        return np.bincount(self.group, weights=per_town, minlength=self.n_groups)

    def rows(self, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                             np.ndarray]:
        """Both cuts at the plan y for each of `groups` (sorted): (the group of each cut, its right-hand side,
        then the cut, site and coefficient of each y term, one term per cut and site)."""
        pick = np.isin(self.group[self.town], groups)
        i, j, a = self.town[pick], self.site[pick], self.value[pick]
        total, kept = self.pull @ y, self.pull @ self.fixed
        now = self.share(total, self.rivals)
        is_open = y[j] > 0.5
        gain_here = np.where(is_open, 0.0, self.share(total[i] + a, self.rivals[i]) - now[i])
        gain_alone = np.where(is_open, 0.0, self.share(kept[i] + a, self.rivals[i]) - self.share(kept, self.rivals)[i])
        loss = np.where(is_open & (self.fixed[j] < 0.5), now[i] - self.share(total[i] - a, self.rivals[i]), 0.0)
        slot = np.searchsorted(groups, self.group[i])
        rhs = self._by_group(self.weights * now)[groups]  # what y captures in each group
        closing = rhs - np.bincount(slot, weights=self.weights[i] * loss, minlength=len(groups))
        coef = np.tile(self.weights[i], 2) * np.concatenate([gain_here, loss + gain_alone])
        cut = np.concatenate([slot, len(groups) + slot])
        term, index = np.unique(cut.astype(np.int64) * len(y) + np.tile(j, 2), return_inverse=True)
        coef = np.bincount(index.ravel(), weights=coef, minlength=len(term))
        keep = coef > 0
        return (np.concatenate([groups, groups]), np.concatenate([rhs, closing]), (term // len(y))[keep],
                (term % len(y))[keep], coef[keep])


def share_benders(ours: np.ndarray, rivals: np.ndarray, weights: np.ndarray, share, p: int | None,
                  target: float | None, rules: SiteRules, start: np.ndarray | None, time_limit: float | None,
                  mip_gap: float, threads: int | None, group: np.ndarray | None = None) -> RawSolution:
    """Most residents captured with p sites (or, with `target` residents, the fewest sites capturing them) under
    `rules`, by the cuts of ShareCuts: a master MIP over y and one θ per town (or per `group` of towns), cut at
    the fixed sites alone and at the warm start `start` (0/1 per site), re-solved with the cuts each new plan
    violates until it violates none; with a target, the warm start is the answer once the master's bound reaches
    its count. The result's x is the plan's y; bound the master's."""
    import highspy

    t0 = time.perf_counter()
    lo, _ = rules.bounds()
    cuts = ShareCuts(ours, rivals, weights, share, lo, group)
    highs, n_sites = _master(highspy, cuts, p, target, rules, threads, mip_gap)
    cost = np.asarray(highs.getLp().col_cost_, float)
    _add_cuts(highs, highspy, cuts, lo, None)
    _relaxed_rounds(highs, highspy, cuts, n_sites, threads, cost, t0, time_limit)
    best_y, best = None, np.nan  # the best plan known and its objective (residents won, or sites)
    reach = None if target is None else target - 1e-9 * max(1.0, target)  # a plan capturing this meets the target
    if start is not None:
        _add_cuts(highs, highspy, cuts, start, None)
        won = cuts.captured(start)
        if target is None or won.sum() >= reach:
            best_y, best = start, float(won.sum()) if target is None else float(start.sum())
            _suggest(highs, highspy, start, won)
    bound = np.inf if target is None else -np.inf
    why = f"stopped after {MAX_ROUNDS} master solves"
    for _ in range(MAX_ROUNDS):
        if time_limit is not None:
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0:
                why = "stopped at the time limit"
                break
            highs.setOptionValue("time_limit", float(left))
        run_highs_checked(highs, highspy, threads, cost)
        status = highs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return RawSolution("infeasible", None, np.nan, np.nan, time.perf_counter() - t0)
        if status != highspy.HighsModelStatus.kOptimal:
            bound, why = _bound_of(highs, target, bound), "stopped at the time limit"
            break
        x = np.asarray(highs.getSolution().col_value, float)
        y = np.round(x[:n_sites])
        won = cuts.captured(y)
        master = float(highs.getInfo().mip_dual_bound)  # the master's proven bound (its plan may be within mip_gap)
        if target is None:
            bound = min(bound, master)
            if best_y is None or won.sum() > best:
                best_y, best = y, float(won.sum())
            if bound - best <= max(mip_gap * abs(best), TOLERANCE * max(1.0, abs(bound))):  # the gap relative_gap says
                return RawSolution("optimal", best_y, best, best if mip_gap == 0 else max(best, bound),
                                   time.perf_counter() - t0)
        elif won.sum() >= reach:  # the fewest sites the master allows (within mip_gap)
            fewest = float(y.sum()) if mip_gap == 0 else min(float(y.sum()), np.ceil(max(bound, master) - 1e-6))
            return RawSolution("optimal", y, float(y.sum()), fewest, time.perf_counter() - t0)
        else:
            bound = max(bound, master)
            fewest_possible = np.ceil(bound - 1e-6)  # the fewest sites any plan meeting the target can have
            if best_y is not None and best - fewest_possible <= mip_gap * best:  # no plan of fewer sites
                return RawSolution("optimal", best_y, best, min(best, fewest_possible), time.perf_counter() - t0)
        if not _add_cuts(highs, highspy, cuts, y, x[n_sites:]):  # the master overrates a plan it cannot cut
            return _stopped(best_y, best, bound, t0, "the cut loop stalled")
        if target is None and best_y is not None:
            _suggest(highs, highspy, best_y, cuts.captured(best_y))
    return _stopped(best_y, best, bound, t0, why)


LP_ROUNDS = 60  # the most LP relaxations cut before the integer master …
LP_STALL = 1e-5  # … which stop once a round moves the relaxation's value by less than this share


def _relaxed_rounds(highs, highspy, cuts: ShareCuts, n_sites: int, threads, cost: np.ndarray, t0: float,
                    time_limit: float | None) -> None:
    """Cuts at the roundings of the master's LP relaxation, before any integer master: cheap LP solves that
    tighten what the integer master starts from (cuts are valid at any plan, so at roundings too). Ends with
    the solver cleared: a MIP run after LP runs of the same HiGHS 1.16 object ran twice its time limit."""
    integer = np.full(n_sites, highspy.HighsVarType.kInteger)
    columns = np.arange(n_sites, dtype=np.int32)
    highs.changeColsIntegrality(n_sites, columns, np.full(n_sites, highspy.HighsVarType.kContinuous))
    last = np.inf
    try:
        for _ in range(LP_ROUNDS):
            if time_limit is not None and time.perf_counter() - t0 > 0.2 * time_limit:
                break
            run_highs_checked(highs, highspy, threads, cost)
            value = highs.getInfo().objective_function_value
            solved = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
            if not solved or abs(last - value) <= LP_STALL * abs(value):
                break
            last, x = value, np.asarray(highs.getSolution().col_value, float)
            if not sum(_add_cuts(highs, highspy, cuts, plan, x[n_sites:]) for plan in _roundings(x[:n_sites])):
                break
    finally:
        highs.changeColsIntegrality(n_sites, columns, integer)
        highs.clearSolver()


def _roundings(y: np.ndarray) -> list[np.ndarray]:
    """Plans near a fractional y: its sites above one half, and every site it opens at all."""
    return [(y > 0.5).astype(float), (y > 1e-6).astype(float)]


def _master(highspy, cuts: ShareCuts, p: int | None, target: float | None, rules: SiteRules,
            threads: int | None, mip_gap: float):
    """The master: y binary within the rules' bounds and rows, Σ y <= p, θ_i in [0, w_i]; maximise Σ θ, or
    minimise Σ y with Σ θ >= target."""
    from netopt.models._milp import _quiet_highs

    highs = _quiet_highs(highspy)
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    m, n = cuts.pull.shape[1], cuts.n_groups
    lo, hi = rules.bounds()
    highs.addVars(m + n, np.concatenate([lo, np.zeros(n)]), np.concatenate([hi, cuts.group_weights]))
    maximise = target is None
    cost = np.concatenate([np.zeros(m), np.ones(n)]) if maximise else np.concatenate([np.ones(m), np.zeros(n)])
    highs.changeColsCost(m + n, np.arange(m + n, dtype=np.int32), cost)
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize)
    highs.changeColsIntegrality(m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger))
    if p is not None:
        highs.addRow(-highspy.kHighsInf, float(p), m, np.arange(m, dtype=np.int32), np.ones(m))
    if target is not None:
        highs.addRow(float(target), highspy.kHighsInf, n, m + np.arange(n, dtype=np.int32), np.ones(n))
    add_highs_rows(highs, highspy, rules.row_matrix())
    return highs, m


def _add_cuts(highs, highspy, cuts: ShareCuts, y: np.ndarray, theta: np.ndarray | None) -> int:
    """Adds the cuts at plan y of the groups of towns whose θ exceeds what y captures there (all groups when
    theta is None); returns how many."""
    n, m = cuts.n_groups, cuts.pull.shape[1]
    won = cuts.captured(y)
    groups = np.arange(n) if theta is None else np.flatnonzero(theta > won + 1e-7 * np.maximum(1.0, won))
    if not len(groups):
        return 0
    group_of, rhs, row, site, gain = cuts.rows(y, groups)
    order = np.argsort(row, kind="stable")
    row, site, gain = row[order], site[order], gain[order]
    counts = np.bincount(row, minlength=len(rhs))
    starts = np.concatenate([[0], np.cumsum(counts + 1)[:-1]])
    slot = starts[row] + np.arange(len(row)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[row]
    index, value = np.empty(len(row) + len(rhs), np.int32), np.empty(len(row) + len(rhs))
    index[slot], value[slot] = site, -gain
    index[starts + counts], value[starts + counts] = m + group_of, 1.0
    highs.addRows(len(rhs), np.full(len(rhs), -highspy.kHighsInf), rhs, len(index), starts.astype(np.int32),
                  index, value)
    return len(groups)


def _suggest(highs, highspy, y: np.ndarray, won: np.ndarray) -> None:
    """A known plan (and what it captures in each town) as the master's starting solution."""
    solution = highspy.HighsSolution()
    solution.col_value = list(np.concatenate([y, won]))
    solution.value_valid = True
    highs.setSolution(solution)


def _bound_of(highs, target: float | None, bound: float) -> float:
    """The master's bound when stopped inside a solve (a time limit): its dual bound, if it improves."""
    dual = float(highs.getInfo().mip_dual_bound)
    if not np.isfinite(dual):
        return bound
    return min(bound, dual) if target is None else max(bound, dual)


def _stopped(best_y: np.ndarray | None, best: float, bound: float, t0: float, why: str) -> RawSolution:
    """The best plan known with the master's bound: "optimal" when they meet, else "feasible" and `why` (a time
    limit or a stall)."""
    seconds = time.perf_counter() - t0
    if best_y is None:
        return RawSolution("error", None, np.nan, np.nan, seconds, "no plan found in time")
    bound = bound if np.isfinite(bound) else np.nan
    gap = relative_gap(best, bound)
    if gap <= TOLERANCE:
        return RawSolution("optimal", best_y, best, best, seconds)
    return RawSolution("feasible", best_y, best, bound, seconds, why)
