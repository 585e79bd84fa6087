"""p-center: open p sites minimising the largest (optionally weighted) distance to the nearest open site.

Exact by relaxation (Chen & Chen 2009) and bisection: the p-center of a few demand points bounds the optimum from
below; it is found by bisection over the sorted distinct values of w_i x d_ij of those points, value r being
achievable iff a set cover of {(i, j): w_i d_ij <= r} needs at most p sites (an LSCP solved with HiGHS). The
points its plan leaves beyond that value join the few, until none is left: the plan is then optimal.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError
from netopt.heuristics import (largest_finite, nearest_and_next, nearest_sites, past, pcenter_heuristic,
                               pmedian_heuristic)
from netopt.models._base import KEEPING_SECONDS, LocationModel, SiteRules, checked_p, refuse_plan_limits, site_rules
from netopt.models._milp import Result, check_solver_arguments, relative_gap, seconds_left, share_deadline
from netopt.models.covering import LSCP
from netopt.models.median import _ids, as_cost_matrix, as_weights, labels, reach_requirement


ANY_COVER_GAP = 0.99
FIRST_ROWS = 1_000  # demand points of the first relaxation (all of them in a smaller model)
ROWS_PER_ROUND = 250  # at most this many of the points a relaxation's plan leaves too far join the next one
HEURISTIC_SHARE = 0.2  # of the time limit, at most, for the first plan's p-median swaps


class PCenter(LocationModel):
    """Choose p sites minimising the maximum distance from any demand point to its nearest open site; with
    `weights`, the maximum of weight x distance (the vertex-weighted p-center: e.g. 2 for priority towns)."""

    distance_column = "distance"  # the assignment's column of the distances: "distance" (km), "travel_minutes"

    def __init__(self, cost, p: int, rules: SiteRules | None = None, demand_labels=None, site_labels=None,
                 weights=None, exactly_p: bool = True) -> None:
        distance = as_cost_matrix(cost)
        n, m = distance.shape
        self.distance = distance
        self.weights = None if weights is None else as_weights(weights, n)
        # the value bisected on: weight x distance (a weight of 0: that point never matters, even unreachable)
        with np.errstate(invalid="ignore"):  # 0 x inf: a point of weight 0 no site reaches
            self.cost = distance if self.weights is None else np.where(self.weights[:, None] > 0,
                                                                       distance * self.weights[:, None], 0.0)
        self.p = checked_p(p, m)
        self.rules = rules or SiteRules(m)
        self.demand_labels = labels(demand_labels, n, "d")
        self.site_labels = labels(site_labels, m, "s")
        self.exactly_p = exactly_p  # False: at most p, no new site the largest distance does not need
        self._milp = None

    @classmethod
    def from_cost_matrix(cls, cost, p: int, demand_labels=None, site_labels=None, weights=None,
                         exactly_p: bool = True, **rules) -> "PCenter":
        """cost: demand x site distances (dense, or sparse: a missing entry cannot serve); weights: optional
        priority per demand point (the objective is then the largest weight x distance); exactly_p=False: at
        most p sites, opening no new site the largest distance does not need (today's stay open)."""
        dense = as_cost_matrix(cost)
        return cls(dense, p, site_rules(dense.shape[1], **rules), demand_labels, site_labels, weights, exactly_p)

    @classmethod
    def from_geodataframes(cls, demand, candidates, p: int, distance: str = "euclidean", graph=None,
                           weight: str | None = None, unit: str = "km", mode: str | np.ndarray = "drive",
                           speed_kmh=30.0, walk_speed_kmh: float = 4.5,
                           detour_factor: float = 1.3, exactly_p: bool = True, **rules) -> "PCenter":
        """Demand points and candidate sites as GeoDataFrames; distances in km (straight line or road network), or
        with unit="min" travel times in minutes (`mode` "drive" or "walk", as analyze_coverage(radius_min=...)
        measures them; the assignment's column travel_minutes); `weight`: a column of `demand` with each point's
        priority (default none: the plain largest distance). `speed_kmh` (driving: one, or one per demand point,
        coverage.demand_speeds), `walk_speed_kmh` and `detour_factor` set the travel times off the roads, as
        analyze_coverage takes them."""
        from netopt.models.median import column_or_values, geo_costs, rules_from_candidates

        weights = column_or_values(demand, weight, "demand")
        given = rules_from_candidates(candidates, rules)
        cost, column = geo_costs(demand, candidates, distance, graph, unit, mode, speed_kmh=speed_kmh,
                                 walk_speed_kmh=walk_speed_kmh, detour_factor=detour_factor)
        model = cls.from_cost_matrix(cost, p, _ids(demand, None), _ids(candidates, None), weights, exactly_p,
                                     **given)
        model.distance_column = column
        return model

    def _objective(self, sites: np.ndarray) -> float:
        return float(nearest_sites(self.cost, sites)[1].max(initial=0.0))

    def _swapped_objective(self, sites: np.ndarray, out: int, into: int) -> float:
        return float(self._served_after_swap(sites, out, into).max(initial=0.0))

    def _objectives_without(self, plan: np.ndarray, closing: np.ndarray) -> np.ndarray:
        """In one pass: with a site closed, the farthest point is the plan's farthest or one of the site's own
        points, now served from its next-nearest site (never nearer than before)."""
        nearest, first, second = nearest_and_next(self.cost, plan)
        moved = np.zeros(self.cost.shape[1])
        np.maximum.at(moved, nearest, second)
        return np.maximum(first.max(initial=0.0), moved[closing])

    def _objectives_with(self, plan: np.ndarray, opening: np.ndarray) -> np.ndarray:
        """In one pass over the plan's nearest sites: with a site opened, each point goes to it where nearer."""
        served = nearest_sites(self.cost, plan)[1]
        return np.array([np.minimum(served, self.cost[:, j]).max(initial=0.0) for j in opening], float)

    def to_pulp(self):
        raise InputError("PCenter is solved as a sequence of set-covering models; extend LSCP.from_coverage "
                         "for custom constraints", file="model")

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """The p-center of a few demand points (bisection on the radius, each step an exact LSCP with at most p
        sites and the site rules) bounds the optimum; the points its plan leaves farther join them, until none
        does (a 0.25 km grid's 196,090 cells: a covering model of every cell took 8 GB at each step), or until
        the best plan is within `mip_gap` of that bound."""
        check_solver_arguments(time_limit, mip_gap, solver, threads, warm_start)
        start = time.perf_counter()
        nearest = self._nearest_allowed()
        reason = self._unplannable(nearest)
        if reason:
            return self._infeasible(reason, 0.0)
        best = self._first_plan(time_limit, solver, threads, start)
        if best is None and time_limit is not None and time.perf_counter() - start >= time_limit:
            return self._infeasible(f"no plan meeting the site rules was found within the time limit "
                                    f"({time_limit:g} s)", time.perf_counter() - start, status="feasible")
        if best is None:
            return self._infeasible(self._blocking_reason(self._largest_distance(), time_limit, solver, threads,
                                                          start), time.perf_counter() - start)
        served = nearest_sites(self.cost, best)[1]
        worst = float(served.max(initial=0.0))
        rows, lower, steps = self._first_rows(served, nearest), float(nearest.max()), 0
        while True:
            plan, lower, proven, taken = self._relaxed_center(rows, lower, best, time_limit, start, solver, threads)
            steps += taken
            plan = self._complete(plan)
            served = nearest_sites(self.cost, plan)[1]
            if served.max(initial=0.0) < worst:
                best, worst = plan, float(served.max(initial=0.0))
            if not proven:
                return self._finish(best, lower, "feasible", start, steps)
            if mip_gap > 0 and relative_gap(worst, lower) <= mip_gap:  # close enough: proven within mip_gap
                return self._finish(best, lower, "optimal", start, steps)
            far = self._beyond(served, lower)
            if not len(far):
                break
            rows = np.union1d(rows, far)
        return self._finish(self._fewest_new(lower, plan, rows, seconds_left(time_limit, start), solver, threads),
                            lower, "optimal", start, steps)

    def heuristic(self) -> Result:
        """A good plan fast, without proof, for instances too big for solve(): p-center swaps from the p-median
        heuristic's sites and from a few random starts. Status "feasible" (or "optimal" when it meets the
        bound: the largest distance from a demand point to its nearest allowed site)."""
        refuse_plan_limits(self.rules, self.p)
        start = time.perf_counter()
        nearest = self._nearest_allowed()
        reason = self._unplannable(nearest)
        if reason:
            return self._infeasible(reason, 0.0)
        result = self._finish(self._swap_plan(), float(nearest.max()), "feasible", start, 0)
        result.details["method"] = "p-center swaps"
        return result

    def _nearest_allowed(self) -> np.ndarray:
        """Per demand point, the (weighted) distance to its nearest allowed site: inf where none can serve it.
        Its largest value bounds every plan from below."""
        allowed = self.rules.allowed
        return nearest_sites(self.cost, np.flatnonzero(allowed))[1]

    def _unplannable(self, nearest: np.ndarray) -> str:
        """Why no plan can exist, seen without solving: the site rules alone, or demand points no allowed site
        serves ('' when neither)."""
        reason = self._rules_reason(self.p, at_most=True)  # fewer than p sites may serve (the rest add nothing)
        if reason or np.isfinite(nearest).all():
            return reason
        return ("no allowed candidate site can serve demand point(s) "
                f"{self._named_demand(np.flatnonzero(~np.isfinite(nearest)))}")

    def _swap_plan(self, deadline: float | None = None) -> np.ndarray:
        """p-center swaps from the p-median heuristic's sites (its swaps until `deadline`) and from a few random
        starts (fixed and forbidden sites honoured)."""
        allowed = self.rules.allowed
        finite = self.cost if np.isfinite(self.cost).all() else np.where(np.isfinite(self.cost), self.cost, 1e12)
        sites, _ = pmedian_heuristic(finite, np.ones(self.cost.shape[0]), self.p, self.rules.fixed, allowed,
                                     deadline)
        return pcenter_heuristic(finite, sites, self.rules.fixed, allowed)

    def _first_plan(self, time_limit, solver: str, threads, start: float) -> np.ndarray | None:
        """A first plan: p-center swaps from a p-median heuristic's sites and from random starts when the rules
        allow, else (or when that plan leaves a point unserved) any cover within the largest distance; None when
        no p sites meeting the rules cover every point."""
        if not self.rules.limits_plans(self.p):
            sites = self._swap_plan(share_deadline(time_limit, start, HEURISTIC_SHARE))
            if np.isfinite(self._objective(sites)):
                return sites
        rows = np.unique(np.linspace(0, self.cost.shape[0] - 1, FIRST_ROWS).astype(int))
        return self._cover_all(self._largest_distance(), rows, None, ANY_COVER_GAP,
                               None if time_limit is None else start + time_limit, solver, threads)

    def _first_rows(self, served: np.ndarray, nearest: np.ndarray) -> np.ndarray:
        """The demand points of the first relaxation: all of them in a small model, else FIRST_ROWS spread evenly
        over the points in falling distance `served` from a first plan, and the point farthest from every
        allowed site (`nearest`: its distance bounds every plan)."""
        n = self.cost.shape[0]
        if n <= FIRST_ROWS:
            return np.arange(n)
        by_distance = np.argsort(-served, kind="stable")
        return np.union1d(by_distance[np.linspace(0, n - 1, FIRST_ROWS).round().astype(int)], [np.argmax(nearest)])

    def _relaxed_center(self, rows: np.ndarray, lower: float, best: np.ndarray, time_limit, start: float,
                        solver: str, threads) -> tuple[np.ndarray, float, bool, int]:
        """The p-center of the demand points `rows` by bisection over their distances from `lower` (a bound of
        every plan) to the radius of `best` over them: (its plan, its radius, True, covering models solved); when
        the time limit ends the search first, (the best plan found, the proven bound, False, models solved)."""
        cost = self.cost[rows]
        reach = float(nearest_sites(cost, best)[1].max())
        radii = np.unique(cost[(cost >= lower) & (cost <= reach)])
        low, high, plan, steps = 0, len(radii) - 1, best, 0
        while low < high:
            mid = (low + high) // 2
            remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
            if remaining is not None and remaining <= 0:
                return plan, float(radii[low]), False, steps
            sites, proven_none = self._cover(radii[mid], remaining, solver, threads, rows)
            steps += 1
            if sites is not None:
                high, plan = mid, sites
            elif proven_none:
                low = mid + 1
            else:  # the time limit ended this step without an answer: radii[low] is still the proven bound
                return plan, float(radii[low]), False, steps
        return plan, float(radii[high]), True, steps

    @staticmethod
    def _beyond(served: np.ndarray, radius: float) -> np.ndarray:
        """The demand points whose distance `served` (to a plan's sites) is beyond `radius` (at most
        ROWS_PER_ROUND, spread evenly over them from the farthest)."""
        far = np.flatnonzero(served > radius)
        far = far[np.argsort(-served[far], kind="stable")]
        return far if len(far) <= ROWS_PER_ROUND else far[np.linspace(0, len(far) - 1, ROWS_PER_ROUND).astype(int)]

    def _largest_distance(self) -> float:
        return largest_finite(self.cost)

    def _cover(self, radius: float, time_limit, solver, threads,
               rows: np.ndarray | None = None) -> tuple[np.ndarray | None, bool]:
        """Sites covering every demand point (of `rows`) within `radius` using at most p sites (any such set will
        do), or None and whether that is proven (False when the time limit ended the search)."""
        model = self._covering_model(radius, rows=rows)
        if model is None:
            return None, True
        model.diagnose_infeasible = False
        # any cover with at most p sites answers the question: stop at the first (a gap of 99 % allows it)
        result = model.solve(time_limit=time_limit, mip_gap=ANY_COVER_GAP, solver=solver, threads=threads)
        if result.status in ("optimal", "feasible") and result.selected:
            return np.array(result.selected, int), False
        return None, result.status == "infeasible"

    def _covering_model(self, radius: float, facility_cost: np.ndarray | None = None,
                        rows: np.ndarray | None = None) -> LSCP | None:
        """The LSCP asking for a cover of the demand points (`rows`; default all) within `radius` by at most p sites
        under the site rules (the cheapest by `facility_cost`, else the fewest sites); None when some demand point
        has no site within `radius`."""
        A = sp.csr_matrix((self.cost if rows is None else self.cost[rows]) <= radius)
        if (np.diff(A.indptr) == 0).any():
            return None
        model = LSCP(A, facility_cost, self.rules, site_labels=list(range(A.shape[1])), max_sites=self.p)
        model.keeps_existing = False  # a step asks whether a cover exists; _fewest_new prices today's sites itself
        return model

    def _fewest_new(self, radius: float, sites: np.ndarray, rows: np.ndarray, seconds: float | None, solver: str,
                    threads: int | None) -> np.ndarray:
        """With closable existing sites, a cover within the optimal `radius` opening the fewest new sites (the
        plan is then filled up with existing ones, _complete): every plan that good ties, and none should
        move a branch for nothing; `sites` when none is found within `seconds` (at most KEEPING_SECONDS)."""
        if not len(self.rules.closable) or solver.lower() != "highs":
            return sites
        new_site = np.ones(self.cost.shape[1])
        new_site[self.rules.existing] = 0.0
        seconds = KEEPING_SECONDS if seconds is None else min(max(seconds, 1.0), KEEPING_SECONDS)
        found = self._cover_all(radius, rows, new_site, 0.0, time.perf_counter() + seconds, solver, threads)
        return sites if found is None else found

    def _cover_all(self, radius: float, rows: np.ndarray, facility_cost: np.ndarray | None, gap: float,
                   deadline: float | None, solver: str, threads) -> np.ndarray | None:
        """A plan (filled up to p sites) within `radius` of every demand point: the cover of `rows` (the cheapest
        by `facility_cost` within `gap`, else the fewest sites), the points it leaves out joining `rows` until
        none is left; None when no cover is found (by `deadline`)."""
        while True:
            model = self._covering_model(radius, facility_cost, rows)
            if model is None:
                return None
            model.diagnose_infeasible = False
            left = None if deadline is None else max(deadline - time.perf_counter(), 1e-3)
            found = model.solve(time_limit=left, mip_gap=gap, solver=solver, threads=threads)
            if found.status not in ("optimal", "feasible") or not found.selected:
                return None
            plan = self._complete(np.array(found.selected, int))
            far = self._beyond(nearest_sites(self.cost, plan)[1], radius)
            if not len(far):
                return plan
            if past(deadline):
                return None
            rows = np.union1d(rows, far)

    def _blocking_reason(self, radius: float, time_limit, solver: str, threads, start: float) -> str:
        """Why no p sites meet the site rules at any distance: the rules the covering model at the largest
        distance names (see LocationModel._infeasible_reason)."""
        remaining = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 1.0)
        model = self._covering_model(radius)
        model.requirement, model.max_sites_name = reach_requirement(self.cost), "p"
        found = model.solve(time_limit=remaining, mip_gap=ANY_COVER_GAP, solver=solver, threads=threads)
        return found.reason or self.rules.together(self.p)

    def _finish(self, sites: np.ndarray, bound: float, status: str, start: float, steps: int) -> Result:
        plan = self._evaluated(self._complete(sites))
        worst = plan.objective
        if worst <= bound:  # the plan reaches the proven bound: optimal, even if the search had stopped
            status, bound = "optimal", worst
        gap = (worst - bound) / max(worst, 1e-12)  # an "optimal" plan short of its bound: within mip_gap
        return self._with_cheaper_sites(self._without_idle_new_sites(replace(
            plan, status=status, bound=float(bound), gap=gap, seconds=time.perf_counter() - start,
            details={"covering_models_solved": steps})))

    def _evaluated(self, sites: np.ndarray) -> Result:
        """The plan opening `sites`: each demand point's nearest open site and distance, the worst as objective."""
        nearest = sites[nearest_sites(self.distance, sites)[0]]
        rows = np.arange(len(nearest))
        column = self.distance_column
        assignment = pd.DataFrame({"demand": self.demand_labels, "site": [self.site_labels[j] for j in nearest],
                                   column: self.distance[rows, nearest]})
        if self.weights is not None:
            assignment["weight"] = self.weights
            assignment[f"weighted_{column}"] = self.cost[rows, nearest]
        return Result("evaluated", float(self.cost[rows, nearest].max()), np.nan, np.nan, 0.0,
                      [self.site_labels[j] for j in sites], assignment)

    def _complete(self, sites: np.ndarray) -> np.ndarray:
        """Fill up to exactly p open sites (extra sites never raise the maximum distance): closed existing
        sites first (a plan does not close a branch it does not need to), then others (exactly_p only: at most p
        opens no new site for nothing), while the rule rows (new-site limit, budget) allow."""
        is_open = np.zeros(self.cost.shape[1], bool)
        is_open[sites] = True
        closable = np.zeros_like(is_open)
        closable[self.rules.closable] = True
        allowed = self.rules.allowed
        for j in np.lexsort((self.cost.min(axis=0), ~closable)):
            if is_open.sum() >= self.p:
                break
            if not is_open[j] and allowed[j] and (self.exactly_p or closable[j]):
                is_open[j] = True
                is_open[j] = self.rules.admits(is_open)
        return np.flatnonzero(is_open)
