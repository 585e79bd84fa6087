"""p-center: open p sites minimising the largest (optionally weighted) distance to the nearest open site.

Exact by bisection over the sorted distinct values of w_i x d_ij: value r is achievable iff a set cover of
{(i, j): w_i d_ij <= r} needs at most p sites (an LSCP solved to optimality with HiGHS). The first
achievable value is optimal; the one below it was proven unachievable.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError
from netopt.heuristics import largest_finite, nearest_sites, pcenter_heuristic, pmedian_heuristic
from netopt.models._base import KEEPING_SECONDS, LocationModel, SiteRules, checked_p, refuse_plan_limits, site_rules
from netopt.models._milp import Result, check_solver_arguments
from netopt.models.covering import LSCP
from netopt.models.median import _ids, as_cost_matrix, as_weights, labels, reach_requirement


ANY_COVER_GAP = 0.99


class PCenter(LocationModel):
    """Choose p sites minimising the maximum distance from any demand point to its nearest open site; with
    `weights`, the maximum of weight x distance (the vertex-weighted p-center: e.g. 2 for priority towns)."""

    def __init__(self, cost, p: int, rules: SiteRules | None = None, demand_labels=None, site_labels=None,
                 weights=None) -> None:
        distance = as_cost_matrix(cost)
        n, m = distance.shape
        self.distance = distance
        self.weights = None if weights is None else as_weights(weights, n)
        # the value bisected on: weight x distance (a weight of 0: that point never matters, even unreachable)
        self.cost = distance if self.weights is None else np.where(self.weights[:, None] > 0,
                                                                   distance * self.weights[:, None], 0.0)
        self.p = checked_p(p, m)
        self.rules = rules or SiteRules(m)
        self.demand_labels = labels(demand_labels, n, "d")
        self.site_labels = labels(site_labels, m, "s")
        self._milp = None

    @classmethod
    def from_cost_matrix(cls, cost, p: int, demand_labels=None, site_labels=None, weights=None,
                         **rules) -> "PCenter":
        """cost: demand x site distances (dense, or sparse: a missing entry cannot serve); weights: optional
        priority per demand point (the objective is then the largest weight x distance)."""
        dense = as_cost_matrix(cost)
        return cls(dense, p, site_rules(dense.shape[1], **rules), demand_labels, site_labels, weights)

    @classmethod
    def from_geodataframes(cls, demand, candidates, p: int, distance: str = "euclidean", graph=None,
                           weight: str | None = None, **rules) -> "PCenter":
        """Demand points and candidate sites as GeoDataFrames; km (or minutes on a road graph); `weight`: a
        column of `demand` with each point's priority (default none: the plain largest distance)."""
        from netopt.distance import cost_matrix_km
        from netopt.models.median import frame_column, rules_from_candidates

        weights = frame_column(demand, weight, "demand").to_numpy(float) if weight else None
        given = rules_from_candidates(candidates, rules)
        cost = cost_matrix_km(demand, candidates, distance=distance, graph=graph)
        cost.flags.writeable = False  # made here: the model keeps it without a copy
        return cls.from_cost_matrix(cost, p, _ids(demand, None), _ids(candidates, None), weights, **given)

    def _objective(self, sites: np.ndarray) -> float:
        return float(nearest_sites(self.cost, sites)[1].max(initial=0.0))

    def to_pulp(self):
        raise InputError("PCenter is solved as a sequence of set-covering models; extend LSCP.from_coverage "
                         "for custom constraints", file="model")

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """Bisection on the radius; each step an exact LSCP with at most p sites (and the site rules)."""
        check_solver_arguments(time_limit, mip_gap, solver, threads)
        start = time.perf_counter()
        nearest = self._nearest_allowed()
        reason = self._unplannable(nearest)
        if reason:
            return self._infeasible(reason, 0.0)
        best = self._first_plan(time_limit, solver, threads)
        if best is None:
            return self._infeasible(self._blocking_reason(self._largest_distance(), time_limit, solver, threads,
                                                          start), time.perf_counter() - start)
        radii = self._distances_between(float(nearest.max()), self._objective(best))
        low, high = 0, len(radii) - 1
        steps = 0
        while low < high:
            mid = (low + high) // 2
            remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
            if remaining is not None and remaining <= 0:
                return self._finish(best, radii[low], "feasible", start, steps)
            sites, proven_none = self._cover(radii[mid], remaining, solver, threads)
            steps += 1
            if sites is not None:
                high, best = mid, sites
            elif proven_none:
                low = mid + 1
            else:  # the time limit ended this step without an answer: radii[low] is still the proven bound
                return self._finish(best, radii[low], "feasible", start, steps)
        remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
        return self._finish(self._fewest_new(radii[high], best, remaining, solver, threads), radii[high],
                            "optimal", start, steps)

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
        bad = [str(self.demand_labels[i]) for i in np.flatnonzero(~np.isfinite(nearest))[:5]]
        return f"no allowed candidate site can serve demand point(s) {', '.join(bad)}"

    def _swap_plan(self) -> np.ndarray:
        """p-center swaps from the p-median heuristic's sites and from a few random starts (fixed and forbidden
        sites honoured)."""
        allowed = self.rules.allowed
        finite = self.cost if np.isfinite(self.cost).all() else np.where(np.isfinite(self.cost), self.cost, 1e12)
        sites, _ = pmedian_heuristic(finite, np.ones(self.cost.shape[0]), self.p, self.rules.fixed, allowed)
        return pcenter_heuristic(finite, sites, self.rules.fixed, allowed)

    def _first_plan(self, time_limit, solver: str, threads) -> np.ndarray | None:
        """A first plan: p-center swaps from a p-median heuristic's sites and from random starts when the rules
        allow, else (or when that plan leaves a point unserved) any cover within the largest distance; None when
        no p sites meeting the rules cover every point."""
        if not self.rules.limits_plans(self.p):
            sites = self._swap_plan()
            if np.isfinite(self._objective(sites)):
                return sites
        return self._cover(self._largest_distance(), time_limit, solver, threads)[0]

    def _largest_distance(self) -> float:
        return largest_finite(self.cost)

    def _distances_between(self, low: float, high: float) -> np.ndarray:
        """The distinct (weighted) distances from `low` to `high`, sorted: the optimum is one of them when `low`
        bounds every plan from below and a plan reaches `high`. Only those are listed: all of a grid's distances
        (300,000 cells x 600 sites) would take gigabytes."""
        return np.unique(self.cost[(self.cost >= low) & (self.cost <= high)])

    def _cover(self, radius: float, time_limit, solver, threads) -> tuple[np.ndarray | None, bool]:
        """Sites covering every demand point within `radius` using at most p sites (any such set will do), or
        None and whether that is proven (False when the time limit ended the search)."""
        model = self._covering_model(radius)
        if model is None:
            return None, True
        model.diagnose_infeasible = False
        # any cover with at most p sites answers the question: stop at the first (a gap of 99 % allows it)
        result = model.solve(time_limit=time_limit, mip_gap=ANY_COVER_GAP, solver=solver, threads=threads)
        if result.status in ("optimal", "feasible") and result.selected:
            return np.array(result.selected, int), False
        return None, result.status == "infeasible"

    def _covering_model(self, radius: float, facility_cost: np.ndarray | None = None) -> LSCP | None:
        """The LSCP asking for a cover within `radius` by at most p sites under the site rules (the cheapest by
        `facility_cost`, else the fewest sites); None when some demand point has no site within `radius`."""
        A = sp.csr_matrix(self.cost <= radius)
        if (np.diff(A.indptr) == 0).any():
            return None
        model = LSCP(A, facility_cost, self.rules, site_labels=list(range(A.shape[1])), max_sites=self.p)
        model.keeps_existing = False  # a step asks whether a cover exists; _fewest_new prices today's sites itself
        return model

    def _fewest_new(self, radius: float, sites: np.ndarray, seconds: float | None, solver: str,
                    threads: int | None) -> np.ndarray:
        """With closable existing sites, a cover within the optimal `radius` opening the fewest new sites (the
        plan is then filled up with existing ones, _complete): every plan that good ties, and none should
        move a branch for nothing; `sites` when none is found within `seconds` (at most KEEPING_SECONDS)."""
        if not len(self.rules.closable) or solver.lower() != "highs":
            return sites
        new_site = np.ones(self.cost.shape[1])
        new_site[self.rules.existing] = 0.0
        model = self._covering_model(radius, new_site)
        seconds = KEEPING_SECONDS if seconds is None else min(max(seconds, 1.0), KEEPING_SECONDS)
        found = model.solve(time_limit=seconds, solver=solver, threads=threads)
        return np.array(found.selected, int) if found.status in ("optimal", "feasible") and found.selected else sites

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
        gap = 0.0 if status == "optimal" else (worst - bound) / max(worst, 1e-12)
        return replace(plan, status=status, bound=float(bound), gap=gap, seconds=time.perf_counter() - start,
                       details={"covering_models_solved": steps})

    def _evaluated(self, sites: np.ndarray) -> Result:
        """The plan opening `sites`: each demand point's nearest open site and distance, the worst as objective."""
        nearest = sites[nearest_sites(self.distance, sites)[0]]
        rows = np.arange(len(nearest))
        assignment = pd.DataFrame({"demand": self.demand_labels, "site": [self.site_labels[j] for j in nearest],
                                   "distance": self.distance[rows, nearest]})
        if self.weights is not None:
            assignment["weight"] = self.weights
            assignment["weighted_distance"] = self.cost[rows, nearest]
        return Result("evaluated", float(self.cost[rows, nearest].max()), np.nan, np.nan, 0.0,
                      [self.site_labels[j] for j in sites], assignment)

    def _complete(self, sites: np.ndarray) -> np.ndarray:
        """Fill up to exactly p open sites (extra sites never raise the maximum distance): closed existing
        sites first (a plan does not close a branch it does not need to), then others, while the rule rows
        (new-site limit, budget) allow."""
        is_open = np.zeros(self.cost.shape[1], bool)
        is_open[sites] = True
        closable = np.zeros_like(is_open)
        closable[self.rules.closable] = True
        allowed = self.rules.allowed
        for j in np.lexsort((self.cost.min(axis=0), ~closable)):
            if is_open.sum() >= self.p:
                break
            if not is_open[j] and allowed[j]:
                is_open[j] = True
                is_open[j] = self.rules.admits(is_open)
        return np.flatnonzero(is_open)
