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

import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, Problem, is_number, non_negative_numbers
from netopt.heuristics import (CACHE_CELLS, assignment_cost, block_size, greedy_pmedian, interchange, nearest_and_next,
                               nearest_sites, past, perturbed_interchange, pmedian_heuristic, row_blocks)
from netopt.models._base import (LocationModel, SiteRules, checked_p, finish_result, heuristic_plan, site_rules,
                                 stack_rows)
from netopt.models._milp import (INF, MatrixMILP, RawSolution, Result, allow_seconds, check_solver_arguments,
                                 relative_gap, report_stage, run_highs_checked, share_deadline)


def reach_requirement(cost: np.ndarray) -> str:
    """In an infeasibility reason, what a cost matrix with missing pairs (inf) asks of every plan; '' if none."""
    return "serving every demand point from a site that can reach it" if not np.isfinite(cost).all() else ""


def as_cost_matrix(cost, name: str = "cost") -> np.ndarray:
    """A dense float demand x site matrix, read-only; missing entries of a sparse matrix mean 'cannot serve' (inf).
    A writeable array is copied (later changes to it do not reach the model); a read-only one, e.g. a model's own,
    is used as it is: one matrix of a million cells x 500 sites is 4 GB."""
    if sp.issparse(cost):
        coo = cost.tocoo()
        dense = np.full(coo.shape, np.inf)
        dense[coo.row, coo.col] = coo.data
    else:
        dense = _float_matrix(cost, name)
    dense.flags.writeable = False
    return dense


def _float_matrix(cost, name: str) -> np.ndarray:
    """`cost` as a checked float matrix: the same array when it is a read-only float one, else a new one."""
    try:
        dense = np.array(cost, dtype=float, copy=None if _read_only(cost) else True)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric demand x site matrix", file="model") from None
    if dense.ndim != 2 or 0 in dense.shape:
        raise InputError(f"{name} must be a non-empty 2-D demand x site matrix, got shape {dense.shape}", file="model")
    if np.isnan(dense).any() or (dense < 0).any():
        raise InputError(f"{name} has NaN or negative entries", file="model")
    return dense


def _whole(values: np.ndarray) -> bool:
    """Whether every finite value is a whole number."""
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite)))


def _read_only(cost) -> bool:
    return isinstance(cost, np.ndarray) and not cost.flags.writeable


def as_weights(weights, n: int) -> np.ndarray:
    return non_negative_numbers(weights, n, InputError(f"weights must be {n} finite non-negative numbers, one per "
                                                       "demand point", file="model"))


def labels(given, n: int, prefix: str) -> list:
    return list(given) if given is not None else [f"{prefix}{i}" for i in range(n)]


class PMedian(LocationModel):
    """Choose p sites minimising Σ weight x distance to the nearest open site."""

    distance_column = "distance"  # the assignment's column of the costs: "distance" (km), "travel_minutes"

    def __init__(self, cost: np.ndarray, p: int, weights: np.ndarray | None = None, rules: SiteRules | None = None,
                 demand_labels: list | None = None, site_labels: list | None = None, exactly_p: bool = True) -> None:
        self.exactly_p = exactly_p  # False: at most p sites (fewer where the rules, e.g. a budget, allow no more)
        self.cost = as_cost_matrix(cost)
        n, m = self.cost.shape
        self.p = checked_p(p, m)
        self.weights = as_weights(weights, n)
        self.rules = rules or SiteRules(m)
        self.demand_labels = labels(demand_labels, n, "d")
        self.site_labels = labels(site_labels, m, "s")
        self._milp = None
        self._start_sites: np.ndarray | None = None  # a warm start keeping the minimum spacing (solve())

    @classmethod
    def from_cost_matrix(cls, cost, p: int, weights=None, demand_labels=None, site_labels=None,
                         exactly_p: bool = True, **rules) -> "PMedian":
        """cost: demand x site (dense, or scipy sparse where a missing entry means the site cannot serve)."""
        dense = as_cost_matrix(cost)
        return cls(dense, p, weights, site_rules(dense.shape[1], **rules), demand_labels, site_labels, exactly_p)

    @classmethod
    def from_geodataframes(cls, demand, candidates, p: int, weight: str | None = "population",
                           distance: str = "euclidean", graph=None, mode: str | np.ndarray = "drive",
                           demand_id: str | None = None, site_id: str | None = None, exactly_p: bool = True,
                           unit: str = "km", speed_kmh=30.0, walk_speed_kmh: float = 4.5,
                           detour_factor: float = 1.3, **rules) -> "PMedian":
        """Distances in km (straight line or road network) from demand points to candidate sites; with
        unit="min", travel times in minutes (`mode` "drive" or "walk", as analyze_coverage(radius_min=...) measures
        them): the least total weight x minutes, the assignment's columns then travel_minutes and
        weighted_travel_minutes. `speed_kmh` (driving: one, or one per demand point,
        coverage.demand_speeds), `walk_speed_kmh` and `detour_factor` set the travel times off the roads, as
        analyze_coverage takes them."""
        weights = column_or_values(demand, weight, "demand")
        given = rules_from_candidates(candidates, rules)
        cost, column = geo_costs(demand, candidates, distance, graph, unit, mode, speed_kmh=speed_kmh,
                                 walk_speed_kmh=walk_speed_kmh, detour_factor=detour_factor)
        model = cls.from_cost_matrix(cost, p, weights, _ids(demand, demand_id), _ids(candidates, site_id), exactly_p,
                                     **given)
        model.distance_column = column
        return model

    # ------------------------------------------------------------------ formulation
    def _build(self) -> MatrixMILP:
        n, m = self.cost.shape
        order, dist = _sorted_rows(self.cost)
        finite = np.isfinite(dist)
        new_level = np.zeros_like(dist, dtype=bool)
        new_level[:, 1:] = (dist[:, 1:] != dist[:, :-1]) & finite[:, 1:]
        level = np.cumsum(new_level, axis=1)
        n_levels = np.where(finite.any(axis=1), level.max(axis=1, where=finite, initial=0) + 1, 0)
        n_z = np.maximum(n_levels - 1, 0)
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
        A, row_lo, row_hi, names = self._add_site_rows(A, row_lo, np.full(total_z, INF), finite)
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(
            c=c, A=A, row_lo=row_lo, row_hi=row_hi,
            col_lo=np.concatenate([y_lo, np.zeros(total_z)]), col_hi=np.concatenate([y_hi, np.ones(total_z)]),
            integer=np.concatenate([np.ones(m, bool), np.zeros(total_z, bool)]), sense="min", offset=offset,
            col_names=[f"y_{j}" for j in range(m)] + [f"z_{i}_{k}" for i, k in zip(zi, zk)],
            row_names=[f"radius_{i}_{k}" for i, k in zip(zi, zk)] + names,
            highs_options={"presolve": "off"},  # measured: presolve costs more than it saves on this structure
        )

    @staticmethod
    def _level_steps(dist: np.ndarray, level: np.ndarray, n_levels: np.ndarray) -> np.ndarray:
        """For every z_i^k (k < K_i − 1): D_i^{k+1} − D_i^k."""
        steps = []
        for i in range(dist.shape[0]):
            values = np.unique(dist[i][np.isfinite(dist[i])])
            steps.append(np.diff(values))
        return np.concatenate(steps) if steps else np.zeros(0)

    def _add_site_rows(self, A, row_lo, row_hi, finite):
        m = self.cost.shape[1]
        partial = ~finite.all(axis=1)  # demand points some sites cannot serve: at least one reachable site open
        reach = [(np.isfinite(self.cost[i]).astype(float), 1.0, INF, f"reach_{i}") for i in np.flatnonzero(partial)]
        extra, lo, hi, names = self.rules.rows([(np.ones(m), self.p if self.exactly_p else 1.0, self.p, "p"),
                                                *reach])  # at most p: one at least, or no point is served
        A = stack_rows(A, extra)
        return A, np.concatenate([row_lo, lo]), np.concatenate([row_hi, hi]), names

    # ------------------------------------------------------------------ solving
    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """Heuristic upper bound, Lagrangian lower bound closing sites no better solution can use, then the
        exact model over the remaining sites (HiGHS by default). A model extended through to_pulp() is
        solved whole."""
        check_solver_arguments(time_limit, mip_gap, solver, threads, warm_start)
        model = self._as_many_as_affordable()
        return model._with_cheaper_sites(model._without_idle_new_sites(
            model._solve_spacing_first(time_limit, mip_gap, solver, threads, warm_start)))

    def _as_many_as_affordable(self) -> "PMedian":
        """With at most p sites, a budget and one opening cost for every new site (nothing closable): this model
        with p lowered to the sites fixed open and the new ones the budget pays for — one more site never adds
        distance, so the best plan opens that many, and the budget then binds no plan (the fast stages apply)."""
        rules = self.rules
        if self.exactly_p or rules.budget is None or rules.open_cost is None or len(rules.closable):
            return self
        cost = np.asarray(rules.open_cost, float)
        new = np.setdiff1d(np.flatnonzero(rules.allowed), np.union1d(rules.fixed, rules.existing))
        left = rules.budget - cost[np.setdiff1d(rules.fixed, rules.existing)].sum()
        if not len(new) or np.ptp(cost[new]) > 0 or cost[new[0]] <= 0 or left < 0:
            return self
        affordable = len(rules.fixed) + int(np.floor(left / cost[new[0]] + 1e-9))
        return self._variant(p=affordable) if 1 <= affordable < self.p else self

    def _solve_stages(self, time_limit: float | None, mip_gap: float, solver: str, threads: int | None,
                      warm_start: bool) -> Result:
        """solve() after the minimum spacing's first step (LocationModel._solve_spacing_first)."""
        if getattr(self, "_pulp", None) is not None or not warm_start or self._explain_infeasible_rules():
            return super().solve(time_limit, mip_gap, solver, threads, warm_start)
        if len(self.rules.fixed) > 1:
            return self._solve_around_fixed(time_limit, mip_gap, solver, threads)
        if self._fewer_than_p_allowed():
            return super().solve(time_limit, mip_gap, solver, threads, warm_start)
        t0 = time.perf_counter()
        start, upper = self._heuristic(share_deadline(time_limit, t0, HEURISTIC_SHARE))
        if start is None:
            return super().solve(time_limit, mip_gap, solver, threads, warm_start)
        heuristic_sites = np.flatnonzero(start[: self.cost.shape[1]] > 0.5)
        if self.rules.limits_plans(self.p):  # the relaxation would drop the rules: too weak to close sites
            lower, keep = -np.inf, np.flatnonzero(self.rules.allowed)
        else:
            cost = self._finite_cost()
            report_stage("Lagrangian bound 拉格朗日下界")
            lower, closed, plan, multipliers = lagrangian_reduction(
                cost, self.weights, self.p, upper, self.rules.fixed, self.rules.forbidden, self._integral(),
                heuristic_sites, deadline=share_deadline(time_limit, t0, LAGRANGIAN_SHARE))
            heuristic_sites, upper, closed = self._better_start(cost, plan, heuristic_sites, upper, closed,
                                                                share_deadline(time_limit, t0, SEARCH_SHARE))
            if lower < upper - 1e-9 * max(1.0, abs(upper)) and relative_gap(upper, lower) > mip_gap:
                report_stage("improving the first plan 改进初始方案")
                heuristic_sites, upper, closed, lower = self._searched_start(cost, heuristic_sites, upper, closed,
                                                                             lower, multipliers, time_limit, t0)
            keep = np.flatnonzero(~closed)
        exact = lower >= upper - 1e-9 * max(1.0, abs(upper)) or len(keep) == len(heuristic_sites)
        if exact or relative_gap(upper, lower) <= mip_gap:  # the bound proves the plan (within mip_gap)
            return self._known_solution(heuristic_sites, upper, time.perf_counter() - t0, len(keep),
                                        upper if exact else lower)
        kept_cost = self.cost if len(keep) == self.cost.shape[1] else self.cost[:, keep]  # a grid's: a gigabyte
        reduced = self._smaller(kept_cost, self.p, self.weights, self.rules.on_sites(keep), self.demand_labels,
                                [self.site_labels[j] for j in keep])
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1e-3)
        if solver.lower() == "highs" and np.isfinite(self.cost).all():
            raw = benders_pmedian(reduced.cost, self.weights, self.p, reduced.rules.fixed,
                                  np.searchsorted(keep, heuristic_sites), self._integral(), left, mip_gap, threads,
                                  reduced.rules.row_matrix(), self.exactly_p)
            if not np.isfinite(raw.bound) or raw.bound < lower:
                raw.bound = lower
            result = reduced._result(raw)
        else:
            result = LocationModel.solve(reduced, left, mip_gap, solver, threads, warm_start)
        result.seconds = time.perf_counter() - t0
        result.heuristic_objective = upper
        result.details.update(sites_after_reduction=len(keep), **({"lagrangian_bound": lower} if np.isfinite(lower)
                                                                  else {}))
        if result.status != "optimal" and np.isfinite(result.bound):
            result.bound = max(result.bound, lower)
            result.gap = relative_gap(result.objective, result.bound)
            if result.gap <= 1e-9:  # the plan reaches the Lagrangian bound: proven
                result.status = "optimal"
        return result

    def _fewer_than_p_allowed(self) -> bool:
        """With at most p sites, whether fewer than p may open: the stages below start from plans of p (where
        the rules limit plans, e.g. a budget paying for fewer dearer sites, only Benders' master, whose p row
        is then ≤ p, decides how many open)."""
        return not self.exactly_p and int(self.rules.allowed.sum()) < self.p

    def _better_start(self, cost: np.ndarray, plan: np.ndarray, sites: np.ndarray, upper: float,
                      closed: np.ndarray, deadline: float | None = None) -> tuple[np.ndarray, float, np.ndarray]:
        """The Lagrangian's primal plan improved by interchange (on `cost`, the finite costs; until `deadline`),
        when it beats the heuristic's plan worth `upper`: (its sites, its cost, the closed sites less any it
        uses); else the heuristic's."""
        if len(plan) != self.p or np.array_equal(plan, sites):
            return sites, upper, closed
        better, value = interchange(cost, self.weights, plan, self.rules.fixed, self.rules.allowed,
                                    deadline=deadline)
        if value >= upper:
            return sites, upper, closed
        closed = closed.copy()
        closed[better] = False  # no closed site is in a plan better than `upper`; kept open to be safe
        return better, value, closed

    def _searched_start(self, cost: np.ndarray, sites: np.ndarray, upper: float, closed: np.ndarray, lower: float,
                        multipliers: np.ndarray, time_limit: float | None,
                        t0: float = 0.0) -> tuple[np.ndarray, float, np.ndarray, float]:
        """When the Lagrangian leaves a gap: interchange from shaken plans over the sites it left open
        (`perturbed_interchange`, as many shakes as SEARCH_WORK allows); a cheaper plan lowers the cost to beat,
        and the Lagrangian, resumed from its multipliers, closes more sites. Each of the two may use SEARCH_SHARE
        of what is left of `time_limit` (started at t0). Returns (sites, cost, closed, lower bound)."""
        keep = np.flatnonzero(~closed)
        stall = self._shakes(len(keep))
        if not stall or len(keep) <= len(sites):
            return sites, upper, closed, lower
        plan, value = perturbed_interchange(cost[:, keep], self.weights, np.searchsorted(keep, sites),
                                            np.searchsorted(keep, self.rules.fixed), self.rules.allowed[keep],
                                            stall, deadline=share_deadline(time_limit, t0, SEARCH_SHARE))
        if value >= upper - 1e-9 * max(1.0, abs(upper)):
            return sites, upper, closed, lower
        sites = keep[plan]
        resumed, closed, _, _ = lagrangian_reduction(cost, self.weights, self.p, value, self.rules.fixed,
                                                     np.flatnonzero(closed), self._integral(), sites,
                                                     RESUMED_ITERATIONS, multipliers, RESUMED_STEP,
                                                     share_deadline(time_limit, t0, SEARCH_SHARE))
        return sites, value, closed, max(lower, resumed)

    def _shakes(self, n_sites: int) -> int:
        """How many fruitless shakes perturbed_interchange may try over n_sites sites: SEARCH_STALL, fewer while
        p x demand points x sites x shakes would pass SEARCH_WORK, 0 when fewer than SEARCH_MIN_STALL fit."""
        stall = min(SEARCH_STALL, int(SEARCH_WORK // max(1, self.p * self.cost.shape[0] * n_sites)))
        return stall if stall >= SEARCH_MIN_STALL else 0

    def _solve_around_fixed(self, time_limit: float | None, mip_gap: float, solver: str,
                            threads: int | None) -> Result:
        """solve() on the same p-median with the sites fixed open merged into one site (see `_around_fixed`),
        its plan and bounds read back with the distances of this model."""
        t0 = time.perf_counter()
        reduced, free, constant, kept_rows = self._around_fixed()
        whole = self.rules.limits_plans(self.p)
        if reduced is None:  # no demand point is served closer by a site not fixed open: any plan is optimal
            filled = free[: self.p - len(self.rules.fixed)] if self.exactly_p else free[:0]  # at most p: none
            open_sites = np.union1d(self.rules.fixed, filled)
            value = self._objective(open_sites)
            if not np.isfinite(value) or whole:  # a point no kept site serves, or rules to meet: the whole model
                return LocationModel.solve(self, time_limit, mip_gap, solver, threads)
            return self._known_solution(open_sites, value, time.perf_counter() - t0, len(open_sites))
        if self._start_sites is not None:  # the merged site first, then the start's other sites among `free`
            reduced._start_sites = np.r_[0, 1 + np.searchsorted(free, np.setdiff1d(self._start_sites, self.rules.fixed))]
        sub = reduced.solve(time_limit, mip_gap, solver, threads)
        if sub.status == "infeasible" and whole:  # the whole model names the rules that block every plan
            return LocationModel.solve(self, time_limit, mip_gap, solver, threads)
        if not sub.selected:
            return self._infeasible(sub.reason, time.perf_counter() - t0, status=sub.status)
        open_sites = np.union1d(self.rules.fixed, [j for j in sub.selected if j >= 0]).astype(int)
        y = np.zeros(self.cost.shape[1])
        y[open_sites] = 1.0
        result = self._result(RawSolution(sub.status, y, sub.objective + constant, sub.bound + constant,
                                          time.perf_counter() - t0))
        if sub.heuristic_objective is not None:
            result.heuristic_objective = sub.heuristic_objective + constant
        details = {key: value for key, value in sub.details.items() if key != "mean_distance"}
        if "lagrangian_bound" in details:
            details["lagrangian_bound"] += constant
        result.details.update(details, fixed_sites_merged=len(self.rules.fixed), demand_after_reduction=kept_rows)
        return result

    def _around_fixed(self) -> tuple["PMedian | None", np.ndarray, float, int]:
        """The same choice as a smaller p-median: the sites fixed open become one site whose distance to each
        demand point is the nearest of them; that distance caps the point's distances to the other allowed
        sites, and points no other site serves closer drop out, their weighted distance a constant. E.g. keep
        today's 101 branches and add 5 on a population grid: most cells keep their branch. Returns (the model,
        None when no point drops below its fixed distance; the other allowed sites; the constant; its number
        of demand points)."""
        fixed = self.rules.fixed
        free = np.setdiff1d(np.arange(self.cost.shape[1]), np.union1d(fixed, self.rules.forbidden))
        nearest_fixed = nearest_sites(self.cost, fixed)[1]
        helped = (self.cost[:, free] < nearest_fixed[:, None]).any(axis=1) | ~np.isfinite(nearest_fixed)
        constant = float(self.weights[~helped] @ nearest_fixed[~helped])
        if not helped.any() or len(fixed) == self.p:
            return None, free, constant, 0
        capped = np.minimum(self.cost[np.ix_(helped, free)], nearest_fixed[helped, None])
        reduced = self._smaller(np.column_stack([nearest_fixed[helped], capped]), self.p - len(fixed) + 1,
                                self.weights[helped], self.rules.on_sites(free, merged=fixed),
                                [label for label, kept in zip(self.demand_labels, helped) if kept],
                                [-1] + free.tolist())
        return reduced, free, constant, int(helped.sum())

    def _smaller(self, cost: np.ndarray, p: int, weights: np.ndarray, rules: SiteRules, demand_labels: list,
                 site_labels: list) -> "PMedian":
        """A p-median on part of this one's demand or sites, with its exactly_p and its assignment's column."""
        model = PMedian(cost, p, weights, rules, demand_labels, site_labels, self.exactly_p)
        model.distance_column = self.distance_column
        return model

    def _integral(self) -> bool:
        """Whether every distance and weight is a whole number (a better plan is then better by 1 at least);
        read a few thousand rows at a time, stopping at the first block with a fraction."""
        return bool(np.all(self.weights == np.round(self.weights))
                    and all(_whole(self.cost[rows]) for rows in row_blocks(*self.cost.shape)))

    def _known_solution(self, sites: np.ndarray, value: float, seconds: float, kept: int,
                        bound: float | None = None) -> Result:
        """A plan the Lagrangian bound proves optimal (or within mip_gap of `bound`), without the exact model."""
        raw = RawSolution("optimal", self._vector(sites), value, value if bound is None else bound, seconds)
        result = self._result(raw)
        result.heuristic_objective = value
        result.details.update(sites_after_reduction=kept, proved_by="lagrangian bound")
        return result

    def _requirement(self) -> str:
        return reach_requirement(self.cost)

    def _explain_infeasible_rules(self) -> str:
        unreachable = ~np.isfinite(self.cost).any(axis=1)
        if unreachable.any():
            return f"no candidate site can serve demand point(s) {self._named_demand(np.flatnonzero(unreachable))}"
        return self._rules_reason(self.p, at_most=not self.exactly_p)

    def _explain_infeasible(self) -> str:
        return self._rules_reason(self.p, at_most=not self.exactly_p) or self.rules.together(self.p) + (
            ", with every demand point served by a site that can reach it" if reach_requirement(self.cost) else "")

    def heuristic(self) -> Result:
        """A good plan fast, without proof, for instances too big for solve(): greedy, Teitz-Bart interchange
        (the warm start solve() begins from), then interchange from shaken plans while p x n x m x shakes stays
        under SEARCH_WORK. Status "feasible"; bound NaN."""
        return heuristic_plan(self, "greedy + interchange + shaken interchange", self._shaken)

    def _shaken(self, start: np.ndarray, value: float) -> tuple[np.ndarray, float]:
        """The warm start (a site vector worth `value`) improved by perturbed_interchange, when the site rules
        leave every plan of p sites open to it and the work bound allows a few shakes."""
        m = self.cost.shape[1]
        stall = self._shakes(m)
        if not stall or self.rules.limits_plans(self.p):
            return start, value
        sites, shaken = perturbed_interchange(self._finite_cost(), self.weights, np.flatnonzero(start[:m] > 0.5),
                                              self.rules.fixed, self.rules.allowed, stall)
        return (self._vector(sites), shaken) if shaken < value else (start, value)

    def _heuristic(self, deadline: float | None = None) -> tuple[np.ndarray | None, float | None]:
        """The first plan (greedy, then swaps until `deadline`) as a variable vector, and its cost."""
        cost = self._finite_cost()
        if self._start_sites is not None:
            return self._vector(self._start_sites), assignment_cost(cost, self.weights, self._start_sites)
        if self.rules.limits_plans(self.p):
            sites, value = self._start_meeting_rules(cost, deadline)
        else:
            sites, value = pmedian_heuristic(cost, self.weights, self.p, self.rules.fixed, self.rules.allowed,
                                             deadline)
        if sites is None or not np.isfinite(nearest_sites(self.cost, sites)[1]).all():
            return None, None
        return self._vector(sites), value

    def _start_meeting_rules(self, cost: np.ndarray,
                             deadline: float | None = None) -> tuple[np.ndarray | None, float | None]:
        """Under budgets, new-site or county limits: today's sites (existing and fixed, the best others added up
        to p) improved by swaps that keep meeting the rules, as for a relocation 迁址; else the plain heuristic's
        plan when it meets them; with at most p sites, then the same from today's sites with fewer added (a
        budget may pay for fewer). (None, None) when none does."""
        today = self.rules.today()
        fewer = [] if self.exactly_p else list(range(self.p - 1, len(today) - 1, -1))
        for count in [self.p, *fewer]:
            if len(today) <= count:
                start = greedy_pmedian(cost, self.weights, count, today, self.rules.allowed, self.rules.conflicts())
                if len(start) == count and self._meets_rules(start):
                    return interchange(cost, self.weights, start, self.rules.fixed, self.rules.allowed,
                                       rule_rows=self.rules.row_matrix(), deadline=deadline)
            if count == self.p:
                sites, value = pmedian_heuristic(cost, self.weights, self.p, self.rules.fixed, self.rules.allowed,
                                                 deadline)
                if self._meets_rules(sites):
                    return sites, value
        return None, None

    def _spaced_start(self, relaxed: Result) -> np.ndarray | None:
        """A plan keeping the minimum spacing made from the plan of the model without it: while two open sites
        are too close, the one whose closing costs least closes (never a fixed one); then greedy fill-up and
        interchange, both keeping the rules. Its open sites, or None."""
        cost = self._finite_cost()
        sites = self._positions_of(relaxed.selected, "solve")
        while len(clash := self.rules.clashing(np.isin(np.arange(self.cost.shape[1]), sites))):
            sites = np.setdiff1d(sites, clash[int(np.argmin([assignment_cost(cost, self.weights,
                                                                             np.setdiff1d(sites, [j]))
                                                             for j in clash]))])
        sites = greedy_pmedian(cost, self.weights, self.p, sites, self.rules.allowed, self.rules.conflicts())
        if len(sites) != self.p or not self._meets_rules(sites):
            return None
        return interchange(cost, self.weights, sites, self.rules.fixed, self.rules.allowed,
                           rule_rows=self.rules.row_matrix())[0]

    def _finite_cost(self) -> np.ndarray:
        """Costs with 'cannot serve' replaced by a prohibitive finite number, for heuristics and bounds (the
        model's own matrix when every pair is finite)."""
        finite = np.isfinite(self.cost)
        if finite.all():
            return self.cost
        big = 1e6 * (1.0 + float(np.max(self.cost, where=finite, initial=0.0))) * max(1.0, float(self.weights.sum()))
        return np.where(finite, self.cost, big)

    def _objective(self, sites: np.ndarray) -> float:
        return self._weighted_total(nearest_sites(self.cost, sites)[1])

    def _objectives_without(self, plan: np.ndarray, closing: np.ndarray) -> np.ndarray:
        """In one pass: when a site closes, the points it serves go to their next-nearest open site."""
        nearest, first, second = nearest_and_next(self.cost, plan)
        total = self._weighted_total(first)
        if not np.isfinite(total):
            return np.full(len(closing), np.inf)
        with np.errstate(invalid="ignore"):
            farther = np.where(self.weights > 0, self.weights * (second - first), 0.0)
        return total + np.bincount(nearest, weights=farther, minlength=self.cost.shape[1])[closing]

    def _objectives_with(self, plan: np.ndarray, opening: np.ndarray) -> np.ndarray:
        """In one pass over the plan's nearest sites: with a site opened, each point goes to it where nearer."""
        served = nearest_sites(self.cost, plan)[1]
        return np.array([self._weighted_total(np.minimum(served, self.cost[:, j])) for j in opening], float)

    def _weighted_total(self, served: np.ndarray) -> float:
        """Σ weight x distance served (inf where a weighted point is unserved; a weight of 0 never counts)."""
        with np.errstate(invalid="ignore"):
            return float(np.where(self.weights > 0, self.weights * served, 0.0).sum())

    def _swapped_objective(self, sites: np.ndarray, out: int, into: int) -> float:
        return self._weighted_total(self._served_after_swap(sites, out, into))

    def _vector(self, sites: np.ndarray) -> np.ndarray:
        """The site variables y of a set of open sites (what a plan's Result is read from; the radius
        formulation's z follow from them: _with_levels)."""
        y = np.zeros(self.cost.shape[1])
        y[sites] = 1.0
        return y

    def _warm_start(self) -> tuple[np.ndarray | None, float | None]:
        """The heuristic's plan as the radius formulation's full vector (y, then each point's z), and its cost:
        made only for the exact model (n x distinct distances values: a gigabyte on a 0.25 km grid)."""
        start, value = self._heuristic()
        return (None, None) if start is None else (self._with_levels(start), value)

    def _with_levels(self, y: np.ndarray) -> np.ndarray:
        served = nearest_sites(self.cost, np.flatnonzero(y > 0.5))[1]
        z = [(np.unique(row[np.isfinite(row)])[:-1] < d).astype(float) for row, d in zip(self.cost, served)]
        return np.concatenate([y] + z)

    def _result(self, raw: RawSolution) -> Result:
        m = self.cost.shape[1]
        open_sites = np.flatnonzero(raw.x[:m] > 0.5)
        position, distance = nearest_sites(self.cost, open_sites)
        nearest = open_sites[position]
        column = self.distance_column
        assignment = pd.DataFrame({
            "demand": self.demand_labels, "site": [self.site_labels[j] for j in nearest], column: distance,
            "weight": self.weights, f"weighted_{column}": distance * self.weights,
        })
        result = finish_result(raw, [self.site_labels[j] for j in open_sites], assignment)
        result.details["mean_distance"] = float(assignment[f"weighted_{column}"].sum() / max(self.weights.sum(), 1e-12))
        return result


def frame_column(frame, column: str, role: str, numeric: bool = True) -> pd.Series:
    """A column of a model's input table (numbers unless numeric=False), or an InputError naming the table, the
    column and the rows at fault."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"must be a GeoDataFrame of points, got {type(frame).__name__}", file=role)
    if column not in frame.columns:
        shown = ", ".join(str(c) for c in frame.columns if c != "geometry")
        raise InputError(Problem(role, f"no column '{column}' (its columns: {shown})"))
    if not numeric:
        return frame[column]
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy())
    if len(bad):
        raise InputError(Problem(role, "needs a number in every row", column=column, rows=tuple(int(i) for i in bad)))
    return values


def column_or_values(frame, value, role: str):
    """A model input given as a column name of `frame` (its numbers), a number (the same for every row), or one
    value per row (passed on: the model checks them); None stays None."""
    if isinstance(value, str):
        return frame_column(frame, value, role).to_numpy(float)
    if is_number(value):
        return np.full(len(frame), float(value))
    return value


POSITION_RULES = ("fixed", "existing", "closable", "forbidden")  # a rule naming a True/False column: its True rows
NUMBER_RULES = ("open_cost", "closing_saving")  # a rule naming a number column: its values, one per site


def geo_costs(demand, candidates, distance: str, graph, unit: str, mode, **speeds) -> tuple[np.ndarray, str]:
    """The read-only demand x site matrix of a model built from GeoDataFrames — km (`unit` "km") or travel minutes
    ("min", `mode` "drive" or "walk"; `speeds` speed_kmh, walk_speed_kmh, detour_factor as cost_matrix_minutes
    takes them) — and the assignment's column of its values ("distance", "travel_minutes")."""
    from netopt.distance import cost_matrix_km, cost_matrix_minutes, demand_travel

    if unit not in ("km", "min"):
        raise InputError(f"unit must be 'km' (distances) or 'min' (travel minutes), not {unit!r}", file="model")
    if unit == "km":  # km take the detour factor only; the mode and speeds are checked all the same
        cost = cost_matrix_km(demand, candidates, distance, graph, speeds.get("detour_factor", 1.3))
        demand_travel(distance, mode, len(demand), **speeds)
    else:
        cost = cost_matrix_minutes(demand, candidates, distance, graph, mode, **speeds)
    cost.flags.writeable = False  # made here: the model keeps it without a copy
    return cost, "distance" if unit == "km" else "travel_minutes"


def rules_from_candidates(candidates, rules: dict) -> dict:
    """Site rules where a column name of `candidates` stands for its values: True/False columns for fixed,
    existing, closable and forbidden; number columns for open_cost and closing_saving; county labels; and
    min_spacing_km, a minimum spacing in km between open sites (straight line; becomes too_close pairs)."""
    given = dict(rules)
    if "min_spacing_km" in given:
        from netopt.distance import spacing_pairs

        if "too_close" in given:
            raise InputError("give min_spacing_km or too_close pairs, not both", file="model")
        given["too_close"] = spacing_pairs(candidates, given.pop("min_spacing_km"))
    for name, value in rules.items():
        if not isinstance(value, str) or name not in POSITION_RULES + NUMBER_RULES + ("county",):
            continue
        if name in NUMBER_RULES:
            given[name] = frame_column(candidates, value, "candidates").to_numpy(float)
        elif name == "county":
            given[name] = frame_column(candidates, value, "candidates", numeric=False).astype(str).to_numpy()
        else:
            given[name] = _flagged_rows(candidates, value)
    return given


def _flagged_rows(frame, column: str) -> np.ndarray:
    """The row positions where a True/False (or 1/0) column of the candidates is True."""
    flags = frame_column(frame, column, "candidates", numeric=False)
    if not (pd.api.types.is_bool_dtype(flags) or flags.isin([0, 1]).all()):
        raise InputError(Problem("candidates", "must be True/False (or 1/0) to pick sites", column=column))
    return np.flatnonzero(flags.to_numpy(bool))


def _ids(frame, column: str | None) -> list | None:
    if column is not None:
        return frame_column(frame, column, "table", numeric=False).tolist()
    for candidate in ("branch_id", "town_id", "site_id", "id", "name"):
        if candidate in frame:
            return frame[candidate].tolist()
    return None


# After the Lagrangian, when a gap is left: shakes of the plan (perturbed_interchange) while p x n x sites x shakes
# stays under SEARCH_WORK, at most SEARCH_STALL in a row without gain (none when fewer than SEARCH_MIN_STALL fit),
# for SEARCH_SHARE of the time left; a cheaper plan lets RESUMED_ITERATIONS of the Lagrangian close more sites (for
# SEARCH_SHARE of what is then left). The Lagrangian's plan is improved by interchange for SEARCH_SHARE too.
SEARCH_WORK = 2e9
SEARCH_STALL = 20
SEARCH_MIN_STALL = 3
SEARCH_SHARE = 0.1
RESUMED_ITERATIONS = 300
RESUMED_STEP = 0.5


HEURISTIC_SHARE = 0.2  # of the time left: the first plan's swaps stop there (greedy always ends)
LAGRANGIAN_SHARE = 0.25  # of the time left: the subgradient stops there
LAGRANGIAN_WORK = 1e9  # demand points x open sites summed over its iterations (OR-Library's n = 900: 3000 fit)


def lagrangian_reduction(cost: np.ndarray, weights: np.ndarray, p: int, upper: float, fixed: np.ndarray,
                         forbidden: np.ndarray, integral: bool, protect: np.ndarray, iterations: int = 3000,
                         multipliers: np.ndarray | None = None, step: float = 2.0,
                         deadline: float | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Lagrangian lower bound of p-median (assignment constraints relaxed, subgradient) and the sites it closes.

    A site j is closed when even the best solution that opens it costs at least `upper` (bound + ρ_j − ρ_(p)),
    so no solution better than `upper` uses it. With integral data "better" means at most upper − 1.
    Sites in `protect` (those of the solution worth `upper`) are never closed.
    `multipliers` (one per demand point) and `step` resume an earlier run, e.g. to close more sites once a
    cheaper plan lowers `upper`. The iterations stop at `deadline` (time.perf_counter()) or when LAGRANGIAN_WORK
    is spent; closed sites drop out of the sums, so each iteration costs demand points x sites left open.
    Returns (best lower bound, boolean mask of sites closed, the cheapest of the subproblem's plans at the
    iterations that raised the bound — a primal plan, often better than the heuristic's —, the multipliers at
    the best bound).
    """
    n, m = cost.shape
    slack = (1.0 - 1e-9) if integral else 1e-9 * max(1.0, abs(upper))
    closed = np.zeros(m, bool)
    closed[forbidden] = True
    must = np.zeros(m, bool)
    must[fixed] = True
    rows = _OpenSiteCosts(np.multiply(cost.T, weights, order="C"), closed)
    lam = rows.second_smallest() if multipliers is None else multipliers.copy()
    best_lam, best, stall, work = lam, -np.inf, 0, 0.0
    plan, plan_cost = np.asarray(protect, int), np.inf
    for _ in range(iterations):
        rho = rows.reduced_sums(lam, closed)
        chosen, pth = _lagrangian_choice(rho, p, closed, must)
        bound = float(lam.sum() + rho[chosen].sum()) if not closed[chosen].any() else np.inf
        if bound > best + 1e-9:
            best, best_lam, stall = bound, lam, 0
            chosen_cost = rows.plan_cost(chosen) if np.isfinite(bound) else np.inf
            if chosen_cost < plan_cost:
                plan, plan_cost = np.sort(chosen), chosen_cost
        else:
            stall += 1
            if stall >= 30:
                step, stall = step / 2.0, 0
        newly = ~closed & ~must & (bound + rho - pth > upper - slack)
        newly[chosen] = False
        newly[protect] = False
        closed |= newly
        work += n * len(rows.sites)
        if step < 1e-4 or best > upper - slack or work >= LAGRANGIAN_WORK or past(deadline):
            break
        grad = 1.0 - rows.served_below(chosen, lam)
        norm = float(grad @ grad)
        if norm == 0:
            break
        lam = lam + step * (upper - bound) / norm * grad
    return best, closed, plan, best_lam


class _OpenSiteCosts:
    """The weighted distances of the sites not closed, one row per site, for lagrangian_reduction: rows of closed
    sites are dropped as they close (they never open again), so the sums run over the sites left. Everything is
    read a few rows at a time (CACHE_CELLS), so no second matrix of that size is ever made."""

    def __init__(self, weighted: np.ndarray, closed: np.ndarray) -> None:
        self.rows, self.sites, self.m = weighted, np.arange(len(closed)), len(closed)
        self.buffer = np.empty((block_size(weighted.shape[1], CACHE_CELLS), weighted.shape[1]))
        self._keep(~closed)

    def second_smallest(self) -> np.ndarray:
        """Each demand point's second smallest weighted distance (its only one with one site): the first
        multipliers."""
        k, second = min(1, len(self.rows) - 1), np.empty(self.rows.shape[1])
        for points in row_blocks(len(second), len(self.rows)):
            second[points] = np.partition(self.rows[:, points], k, axis=0)[k]
        return second

    def reduced_sums(self, lam: np.ndarray, closed: np.ndarray) -> np.ndarray:
        """ρ_j = Σ_i min(0, w_i d_ij − λ_i) of every site left (0 for the closed)."""
        self._drop(closed)
        rho = np.zeros(self.m)
        for block in row_blocks(len(self.rows), self.rows.shape[1], CACHE_CELLS):
            part = self.buffer[:len(self.sites[block])]
            np.subtract(self.rows[block], lam, out=part)
            np.minimum(part, 0.0, out=part)
            rho[self.sites[block]] = part.sum(axis=1)
        return rho

    def plan_cost(self, chosen: np.ndarray) -> float:
        """Σ weight x distance to the nearest of the chosen sites (all open)."""
        nearest = np.full(self.rows.shape[1], np.inf)
        for part in self._blocks(self.position[chosen]):
            np.minimum(nearest, part.min(axis=0), out=nearest)
        return float(nearest.sum())

    def served_below(self, chosen: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """Per demand point, how many of the chosen sites (all open) have a negative reduced value w_i d_ij − λ_i."""
        count = np.zeros(self.rows.shape[1], int)
        for part in self._blocks(self.position[chosen]):
            count += (part < lam).sum(axis=0)
        return count

    def _blocks(self, positions: np.ndarray):
        """The rows at `positions` (all valid), copied into the buffer a few at a time."""
        for block in row_blocks(len(positions), self.rows.shape[1], CACHE_CELLS):
            part = self.buffer[:len(positions[block])]
            np.take(self.rows, positions[block], axis=0, out=part, mode="clip")
            yield part

    def _drop(self, closed: np.ndarray) -> None:
        left = ~closed[self.sites]
        if not left.all():
            self._keep(left)

    def _keep(self, left: np.ndarray) -> None:
        """Keep the rows of the sites `left`, moved up within the same matrix (no copy of it)."""
        for new, old in enumerate(np.flatnonzero(left)):
            if new != old:
                self.rows[new] = self.rows[old]
        self.rows, self.sites = self.rows[:int(left.sum())], self.sites[left]
        self.position = np.full(self.m, -1)
        self.position[self.sites] = np.arange(len(self.sites))


def _lagrangian_choice(rho: np.ndarray, p: int, closed: np.ndarray, must: np.ndarray) -> tuple[np.ndarray, float]:
    """The p sites of smallest ρ (fixed sites first, closed sites never), and the largest ρ among the chosen
    sites that could be swapped out (−inf when all are fixed: then no other site can open)."""
    score = np.where(closed, np.inf, np.where(must, -np.inf, rho))
    chosen = np.argsort(score, kind="stable")[:p]
    swappable = chosen[~must[chosen]]
    return chosen, float(rho[swappable].max()) if len(swappable) else -np.inf


NEIGHBOUR_SOLUTIONS = 300  # one-swap neighbours whose cuts seed the MIP master (measured: pmed36 33 s with 1000, 27 s)
NEIGHBOUR_CUTS = 2_000_000  # at most this many (demand point, neighbour) cuts: fewer neighbours for large n


def benders_pmedian(cost: np.ndarray, weights: np.ndarray, p: int, fixed: np.ndarray, start: np.ndarray,
                    integral: bool, time_limit: float | None = None, mip_gap: float = 0.0,
                    threads: int | None = None, rule_rows: tuple | None = None,
                    exactly_p: bool = True) -> RawSolution:
    """Exact p-median by Benders decomposition (Duran-Mateluna, Ales & Elloumi 2023), solved with HiGHS.

    Master: min Σ w_i θ_i, Σ y = p (1 ≤ Σ y ≤ p unless `exactly_p`: the cuts hold for any y), the `rule_rows`
    (SiteRules.row_matrix: budget, new-site and county limits), y binary, plus cuts
    θ_i ≥ D_i^k − Σ_{j: d_ij < D_i^k} (D_i^k − d_ij) y_j,
    where D_i^k is the distance at which the current y first covers i completely. Cuts are separated in
    numpy for all demand points at once, first on the LP relaxation, then on integer solutions, until none
    is violated. All costs must be finite.
    """
    import highspy

    t0 = time.perf_counter()
    n, m = cost.shape
    order, sorted_cost = _sorted_rows(cost)
    highs, master_cost = _benders_master(highspy, weights, sorted_cost[:, 0], m, (p, exactly_p, fixed, rule_rows),
                                         threads)
    x = previous = None
    proven = -np.inf  # the best lower bound of the MIP solves so far (each master relaxes the next)
    for phase in ("lp", "mip"):
        if phase == "mip":
            watch = _benders_mip_phase(highs, highspy, cost, (order, sorted_cost), weights, start, fixed, integral,
                                       mip_gap, None if time_limit is None else t0 + time_limit, threads)
        while True:
            if time_limit is not None:
                left = time_limit - (time.perf_counter() - t0)
                if left <= 0:
                    return _benders_stopped(highs, highspy, x, phase, cost, weights, start, t0, proven)
                allow_seconds(highs, left, mip=phase == "mip")
            if phase == "mip":  # the cheapest true plan known as the incumbent (the last master's plan, if cheaper)
                start = _cheapest_plan(cost, weights, [start, _integral_plan(x, m)])[0]
                _set_incumbent(highs, highspy, m, cost, start)
            run_highs_checked(highs, highspy, threads, master_cost)
            status = highs.getModelStatus()
            if phase == "mip":
                proven = max(proven, float(highs.getInfo().mip_dual_bound))
            wrong = watch.take() if phase == "mip" else []
            for plan in wrong:  # plans the master priced too low: their cuts, and the cheapest as the incumbent
                _add_benders_cuts(highs, highspy, order, sorted_cost, plan, m)
                start = _cheapest_plan(cost, weights, [start, _integral_plan(plan, m)])[0]
            if wrong and status == highspy.HighsModelStatus.kInterrupt:
                continue
            if status != highspy.HighsModelStatus.kOptimal:
                return _benders_stopped(highs, highspy, x, phase, cost, weights, start, t0, proven)
            x = np.asarray(highs.getSolution().col_value, float)
            if phase == "mip":
                x[:m] = np.round(x[:m])  # integral within the solver's tolerance: separate at the exact point
            if previous is not None and np.allclose(x, previous, atol=1e-9):
                # the cut just added did not move the master: a numerical stall. Stop with the true cost of
                # this plan and the master's value as a proven lower bound.
                return _benders_stalled(highs, x, cost, weights, start, t0)
            previous = x
            if not _add_benders_cuts(highs, highspy, order, sorted_cost, x, m):
                break
    y = np.flatnonzero(x[:m] > 0.5)
    value = assignment_cost(cost, weights, y)
    bound = value if mip_gap == 0 else min(value, proven)  # within mip_gap, the master's proven bound stands
    return RawSolution("optimal", x, value, bound, time.perf_counter() - t0)  # no cut violated: master = true cost


def _benders_master(highspy, weights: np.ndarray, nearest: np.ndarray, m: int, sites: tuple,
                    threads: int | None) -> tuple:
    """The Benders master before any cut: a y per site of m, θ_i ≥ each demand point's `nearest` distance,
    min Σ w_i θ_i; `sites` (p, exactly_p, fixed, rule_rows): Σ y = p (1..p unless exactly_p), the fixed sites at 1,
    the rules' rows; presolve off. Returns (highs, the master's costs)."""
    from netopt.models._milp import _quiet_highs, add_highs_rows

    p, exactly_p, fixed, rule_rows = sites
    n = len(weights)
    highs = _quiet_highs(highspy)
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    lower_y = np.zeros(m)
    lower_y[fixed] = 1.0
    highs.addVars(m + n, np.concatenate([lower_y, nearest]),
                  np.concatenate([np.ones(m), np.full(n, highspy.kHighsInf)]))
    master_cost = np.concatenate([np.zeros(m), weights])
    highs.changeColsCost(m + n, np.arange(m + n, dtype=np.int32), master_cost)
    highs.addRow(p if exactly_p else 1, p, m, np.arange(m, dtype=np.int32), np.ones(m))
    if rule_rows is not None:
        add_highs_rows(highs, highspy, rule_rows)
    highs.setOptionValue("presolve", "off")
    return highs, master_cost


def _benders_mip_phase(highs, highspy, cost: np.ndarray, sorted_rows: tuple, weights: np.ndarray, start: np.ndarray,
                       fixed: np.ndarray, integral: bool, mip_gap: float, deadline: float | None,
                       threads: int | None) -> "_WrongIncumbents":
    """The master made ready to branch after its LP's cuts: sites probed (_probe_sites), cuts at the incumbent and
    its best one-swap neighbours, the site variables integral (_to_mip); returns the watch on its incumbents."""
    order, sorted_cost = sorted_rows
    n, m = cost.shape
    report_stage(f"probing {m:,} sites 探测网点")
    _probe_sites(highs, highspy, cost, order, sorted_cost, weights, start, fixed, integral, deadline, threads)
    _add_neighbour_cuts(highs, highspy, cost, weights, start,
                        min(NEIGHBOUR_SOLUTIONS, max(10, NEIGHBOUR_CUTS // max(n, 1))))
    _to_mip(highs, highspy, m, integral, mip_gap)
    report_stage("branch and bound with Benders cuts 分支定界")
    watch = _WrongIncumbents(order, sorted_cost, m)
    watch.listen(highs)
    return watch


PROBE_ROUNDS = 20  # Benders rounds per probed site before giving up on closing it
PROBE_WINDOW = 20  # probing stops when, of the last PROBE_WINDOW sites probed, fewer than PROBE_MIN_CLOSED closed:
PROBE_MIN_CLOSED = 5  # sites come in falling reduced cost, and past that point few close, each at a high cost


@dataclass
class _Probing:
    """What the probing threads share: the sites still to probe (likeliest to close first), each probe's
    outcome in the order they ended, the sites closed, and the closing threshold."""
    queue: deque
    outcomes: list
    closed: np.ndarray
    threshold: float
    deadline: float | None

    def next_site(self) -> int | None:
        """The next site to probe, or None once probing is over (all probed, deadline, or spent)."""
        if self.deadline is not None and time.perf_counter() > self.deadline or _probing_spent(self.outcomes):
            return None
        try:
            return self.queue.popleft()
        except IndexError:
            return None


def _sorted_rows(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each demand point's sites from nearest (int32) and their distances in that order, made a block of rows at
    a time (no whole-matrix temporaries)."""
    order, sorted_cost = np.empty(cost.shape, np.int32), np.empty(cost.shape)
    for rows in row_blocks(*cost.shape):
        order[rows] = np.argsort(cost[rows], axis=1, kind="stable")
        sorted_cost[rows] = np.take_along_axis(cost[rows], order[rows], axis=1)
    return order, sorted_cost


def _probe_sites(highs, highspy, cost: np.ndarray, order: np.ndarray, sorted_cost: np.ndarray, weights: np.ndarray,
                 start: np.ndarray, fixed: np.ndarray, integral: bool, deadline: float | None,
                 threads: int | None = None) -> int:
    """Close the sites no plan better than the warm start can open: with y_j = 1 the master LP, its Benders cuts
    refined until none is violated, bounds every plan that opens j; when that bound reaches the warm start's
    cost, y_j = 0 is fixed. Sites of larger reduced cost are probed first, on two threads (each on its own copy
    of the master LP, the other's closures applied before each probe; `threads`=1: one). Returns how many were
    closed; they are fixed at 0 in `highs`."""
    m = cost.shape[1]
    upper = assignment_cost(cost, weights, start)
    slack = (1.0 - 1e-6) if integral else 1e-9 * max(1.0, abs(upper))
    protected = np.zeros(m, bool)
    protected[start] = protected[fixed] = True
    reduced_cost = np.asarray(highs.getSolution().col_dual[:m])
    queue = deque(int(j) for j in np.argsort(-reduced_cost, kind="stable") if not protected[j])
    shared = _Probing(queue, [], np.zeros(m, bool), upper - slack, deadline)
    workers = max(1, min(threads or 2, 2, os.cpu_count() or 1))
    copies = [highs] + [_highs_copy(highs, highspy) for _ in range(workers - 1)]
    with ThreadPoolExecutor(workers) as pool:
        for job in [pool.submit(_probe_on, copy, highspy, cost, order, sorted_cost, shared) for copy in copies]:
            job.result()
    for j in np.flatnonzero(shared.closed):
        highs.changeColBounds(int(j), 0.0, 0.0)
    return int(shared.closed.sum())


def _highs_copy(highs, highspy):
    """A quiet HiGHS instance holding the same LP, from the same basis, with the same presolve setting."""
    from netopt.models._milp import _quiet_highs

    copy = _quiet_highs(highspy)
    copy.passModel(highs.getLp())
    copy.setOptionValue("presolve", "off")
    copy.setBasis(highs.getBasis())
    return copy


def _probe_on(highs, highspy, cost: np.ndarray, order: np.ndarray, sorted_cost: np.ndarray,
              shared: _Probing) -> None:
    """One thread's probes on its own copy of the master LP: dual simplex stopped as soon as the bound reaches
    the threshold."""
    m = cost.shape[1]
    applied = np.zeros(m, bool)
    highs.setOptionValue("objective_bound", shared.threshold)
    while (j := shared.next_site()) is not None:
        for k in np.flatnonzero(shared.closed & ~applied):  # the other thread's closures tighten this LP too
            highs.changeColBounds(int(k), 0.0, 0.0)
        applied |= shared.closed
        if shared.closed[j]:
            continue
        highs.changeColBounds(j, 1.0, 1.0)
        close = _probe_closes(highs, highspy, cost, order, sorted_cost, shared.threshold)
        highs.changeColBounds(j, 0.0, 0.0 if close else 1.0)
        shared.closed[j] |= close
        shared.outcomes.append(close)
    highs.setOptionValue("objective_bound", highspy.kHighsInf)


def _probe_closes(highs, highspy, cost: np.ndarray, order: np.ndarray, sorted_cost: np.ndarray,
                  threshold: float) -> bool:
    """Whether the master LP with the probed site forced open, its cuts refined, reaches `threshold`."""
    m = cost.shape[1]
    for _ in range(PROBE_ROUNDS):
        highs.run()
        status = highs.getModelStatus()
        if status in (highspy.HighsModelStatus.kObjectiveBound, highspy.HighsModelStatus.kInfeasible):
            return True
        if status != highspy.HighsModelStatus.kOptimal:
            return False
        if highs.getInfo().objective_function_value >= threshold:
            return True
        x = np.asarray(highs.getSolution().col_value, float)
        if not _add_benders_cuts(highs, highspy, order, sorted_cost, x, m):
            return False
    return False


def _probing_spent(outcomes: list[bool]) -> bool:
    """Whether the last PROBE_WINDOW probes closed fewer than PROBE_MIN_CLOSED sites."""
    return len(outcomes) >= PROBE_WINDOW and sum(outcomes[-PROBE_WINDOW:]) < PROBE_MIN_CLOSED


# the warm start is the heuristic's plan, usually optimal already: the master's branch and bound is there to
# prove it, and HiGHS's primal heuristics only slow that down (measured: 10-20 % of the MIP time, n = 800-900).
# Presolve stays off for the MIP too (measured: pmed36 73 s with it, 52-53 s without; others within 10 %).
# Strong branching off (pseudo-costs trusted from the first observation): pmed36's master spent 14 of its 27 s
# at the root in strong branching; 19 s without it, pmed39 19 -> 14 s, the others within noise.
MIP_HEURISTICS_OFF = ("mip_heuristic_run_feasibility_jump", "mip_heuristic_run_rins", "mip_heuristic_run_rens",
                      "mip_heuristic_run_root_reduced_cost")


def _to_mip(highs, highspy, m: int, integral: bool, mip_gap: float) -> None:
    """The master LP made a MIP over the site variables, with the options above (its incumbent is set before
    each solve)."""
    highs.changeColsIntegrality(m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger))
    for heuristic in MIP_HEURISTICS_OFF:
        highs.setOptionValue(heuristic, False)
    highs.setOptionValue("mip_pscost_minreliable", 0)
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    if integral and mip_gap == 0:
        highs.setOptionValue("mip_abs_gap", 1.0 - 1e-6)  # integral data: no better solution within 1


def _set_incumbent(highs, highspy, m: int, cost: np.ndarray, sites: np.ndarray) -> None:
    """Hand the master a plan as its incumbent, each θ at the plan's true distance (every cut holds there)."""
    y = np.zeros(m)
    y[sites] = 1.0
    solution = highspy.HighsSolution()
    solution.col_value = list(np.concatenate([y, cost[:, sites].min(axis=1)]))
    solution.value_valid = True
    highs.setSolution(solution)


def _cheapest_plan(cost: np.ndarray, weights: np.ndarray, plans: list) -> tuple[np.ndarray, float]:
    """The cheapest of `plans` (site arrays; None entries skipped) at its true cost, the earliest on ties."""
    priced = [(assignment_cost(cost, weights, sites), k) for k, sites in enumerate(plans) if sites is not None]
    value, k = min(priced)
    return plans[k], value


class _WrongIncumbents:
    """Watches the master's branch and bound: an improving solution whose plan truly costs more than the master
    says (a Benders cut it lacks) is recorded and the solve interrupted, rather than left to prune the tree
    with a wrong value until the end (HiGHS 1.16 has no lazy constraints to cut it off in place)."""

    def __init__(self, order: np.ndarray, sorted_cost: np.ndarray, m: int) -> None:
        self.order, self.sorted_cost, self.m = order, sorted_cost, m
        self.plans: list[np.ndarray] = []

    def listen(self, highs) -> None:
        highs.cbMipImprovingSolution.subscribe(self._on_solution)
        highs.cbMipInterrupt.subscribe(self._on_interrupt)

    def take(self) -> list[np.ndarray]:
        plans, self.plans = self.plans, []
        return plans

    def _on_solution(self, event) -> None:
        x = np.array(event.data_out.mip_solution, float)
        x[: self.m] = np.round(x[: self.m])
        if len(_violated_cuts(self.order, self.sorted_cost, x, self.m)[0]):
            self.plans.append(x)

    def _on_interrupt(self, event) -> None:
        event.interrupt(bool(self.plans))  # set either way: HiGHS keeps the flag from an earlier interrupt


def _add_neighbour_cuts(highs, highspy, cost: np.ndarray, weights: np.ndarray, start: np.ndarray,
                        solutions: int = NEIGHBOUR_SOLUTIONS) -> int:
    """Before branching, Benders cuts at the incumbent and its best one-swap neighbours: the master then knows
    the true cost around the optimum, and one MIP solve usually ends the loop instead of several. Valid for
    any level D: θ_i ≥ D − Σ_{j: d_ij < D} (D − d_ij) y_j holds for every plan. Returns how many were added."""
    n, m = cost.shape
    levels = np.vstack([cost[:, start].min(axis=1), _best_neighbour_levels(cost, weights, start, solutions)])
    pairs = np.unique(np.column_stack([np.tile(np.arange(n), len(levels)), levels.ravel()]), axis=0)
    for block in row_blocks(len(pairs), m):  # cuts made a block at a time: 2M cuts x 618 sites is 10 GB
        demand, level = pairs[block, 0].astype(int), pairs[block, 1]
        rows, sites = np.nonzero(cost[demand] < level[:, None])
        _add_cut_rows(highs, highspy, level, np.r_[rows, np.arange(len(level))], np.r_[sites, m + demand],
                      np.r_[level[rows] - cost[demand[rows], sites], np.ones(len(level))], m + n)
    return len(pairs)


def _best_neighbour_levels(cost: np.ndarray, weights: np.ndarray, start: np.ndarray, solutions: int) -> np.ndarray:
    """Each demand point's distance to its plan in the `solutions` cheapest plans that swap one site of `start`."""
    outside = np.setdiff1d(np.arange(cost.shape[1]), start)
    if len(outside) == 0 or solutions <= 0:
        return np.empty((0, cost.shape[0]))
    current = cost[:, start]
    without = np.column_stack([np.delete(current, k, axis=1).min(axis=1, initial=np.inf) for k in range(len(start))])
    totals = np.array([weights @ np.minimum(without[:, [k]], cost[:, outside]) for k in range(len(start))])
    best = np.argsort(totals, axis=None, kind="stable")[:solutions]
    drop, add = np.unravel_index(best, totals.shape)
    return np.minimum(without[:, drop], cost[:, outside[add]]).T


def _add_benders_cuts(highs, highspy, order: np.ndarray, sorted_cost: np.ndarray, x: np.ndarray, m: int) -> int:
    """Add the violated Benders cuts of the solution x; returns how many were added."""
    violated, radius, closer = _violated_cuts(order, sorted_cost, x, m)
    rows, ranks = np.nonzero(closer)
    points = violated[rows]
    _add_cut_rows(highs, highspy, radius, np.r_[rows, np.arange(len(violated))],
                  np.r_[order[points, ranks], m + violated],
                  np.r_[radius[rows] - sorted_cost[points, ranks], np.ones(len(violated))], m + len(order))
    return len(violated)


def _add_cut_rows(highs, highspy, level: np.ndarray, row: np.ndarray, column: np.ndarray, value: np.ndarray,
                  columns: int) -> None:
    """The rows level_r <= Σ value·x of the (row, column, value) entries, handed to HiGHS in one call."""
    matrix = sp.csr_matrix((value, (row, column)), shape=(len(level), columns))
    highs.addRows(len(level), level.astype(float), np.full(len(level), highspy.kHighsInf), matrix.nnz,
                  matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32), matrix.data)


def _violated_cuts(order: np.ndarray, sorted_cost: np.ndarray, x: np.ndarray,
                   m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The demand points whose Benders cut at x is violated, their levels D (the distance at which x first covers
    them completely) and which of their sorted sites lie closer than D; a block of rows at a time (a grid's
    200,000 points x 600 sites made several gigabytes of temporaries at once)."""
    violated, radius, closer = zip(*(_violated_in(order[rows], sorted_cost[rows], x, m, rows.start)
                                     for rows in row_blocks(order.shape[0], m)))
    return np.concatenate(violated), np.concatenate(radius), np.vstack(closer)


def _violated_in(order: np.ndarray, sorted_cost: np.ndarray, x: np.ndarray, m: int,
                 first: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_violated_cuts over the rows given (numbered from `first`)."""
    y_sorted = x[:m][order]
    level = np.argmax(np.cumsum(y_sorted, axis=1) >= 1 - 1e-6, axis=1)
    radius = sorted_cost[np.arange(len(order)), level]
    closer = sorted_cost < radius[:, None]
    value = radius - ((radius[:, None] - sorted_cost) * closer * y_sorted).sum(axis=1)
    violated = np.flatnonzero(value > x[m + first:m + first + len(order)] + 1e-6 * np.maximum(1.0, np.abs(value)))
    return first + violated, radius[violated], closer[violated]


def _benders_stalled(highs, x: np.ndarray, cost: np.ndarray, weights: np.ndarray, start: np.ndarray,
                     t0: float) -> RawSolution:
    """The cut loop stalled: the cheaper of the master's plan and the best plan known, at its true cost, with the
    master's value as a proven lower bound."""
    m = cost.shape[1]
    sites, value = _cheapest_plan(cost, weights, [_integral_plan(x, m), start])  # no plan from a fractional x
    x = np.zeros(m)
    x[sites] = 1.0
    bound = min(float(highs.getInfo().objective_function_value), value)
    status = "optimal" if value - bound <= 1e-6 * max(1.0, abs(value)) else "feasible"
    return RawSolution(status, x, value, bound if status == "feasible" else value, time.perf_counter() - t0,
                       "cut loop stalled")


def _benders_stopped(highs, highspy, x, phase: str, cost: np.ndarray, weights: np.ndarray, start: np.ndarray,
                     t0: float, proven: float = -np.inf) -> RawSolution:
    """At a time limit: the cheapest of the warm start, the master's last integral solution and, in the MIP
    phase, the incumbent of the unfinished branch and bound (it often improves on the warm start), each priced
    at its true cost; with the best bound of the master's solves (`proven`: those before this one)."""
    m = cost.shape[1]
    plans = [start, _integral_plan(x, m)]
    if phase == "mip" and highs.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible:
        plans.append(_integral_plan(np.asarray(highs.getSolution().col_value, float), m))
    sites, best = _cheapest_plan(cost, weights, plans)
    bound = min(best, max(proven, float(highs.getInfo().mip_dual_bound)))  # -inf before the MIP phase
    y = np.zeros(m)
    y[sites] = 1.0
    return RawSolution("feasible", y, best, bound, time.perf_counter() - t0, "stopped at the time limit")


def _integral_plan(x: np.ndarray | None, m: int) -> np.ndarray | None:
    """The sites open in a master solution x, or None when x is missing or its y part is not integral."""
    if x is None or np.abs(x[:m] - np.round(x[:m])).max(initial=0.0) > 1e-6:
        return None
    return np.flatnonzero(x[:m] > 0.5)
