"""p-dispersion: open p sites as far apart as possible — the largest smallest distance between two open sites.

Exact by bisection over the sorted distinct distances between allowed sites: a distance d is achievable iff p
sites meeting the site rules exist with no two closer than d — an independent set of p sites in the graph of the
pairs closer than d, found by a small integer program (open the most sites, at most p; HiGHS). The largest
achievable distance is optimal; the next one was proven unachievable.

Many sites (CLUSTERED_FROM and more, rules no more than forbidden sites) are first grouped (Contardo's
decremental clustering, 2020): over groups each narrower than the best plan's smallest distance, with a pair of
groups as far apart as their farthest sites, the best p groups bound every plan from above, and the best plan
among their sites is one; the groups chosen are split until the two meet.
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError
from netopt.models._base import LocationModel, SiteRules, checked_p, finish_result, site_rules, stack_rows
from netopt.models._milp import MatrixMILP, RawSolution, Result, check_solver_arguments, relative_gap
from netopt.models.median import _ids, as_cost_matrix, labels

SWAP_ROUNDS = 200  # at most this many improving swaps in the starting plan
CLUSTERED_FROM = 400  # allowed sites from which the plan is sought over groups of sites first
FIRST_GROUPS = 100  # groups to start with, or GROUPS_PER_OPENING x p where more
GROUPS_PER_OPENING = 10


class PDispersion(LocationModel):
    """Choose p sites maximising the smallest distance between any two of them (e.g. pilot branches spread over
    the city, or new outlets that do not compete with each other). A pair's distance is the shorter of its two
    directions (road times may differ). A pair of two sites that must stay open (fixed, or existing and not
    closable) does not count: no plan changes it, and it would cap every plan alike."""

    maximise = True

    def __init__(self, distance, p: int, rules: SiteRules | None = None, site_labels=None) -> None:
        dense = as_cost_matrix(distance, "distance")
        m = dense.shape[1]
        if dense.shape[0] != m:
            raise InputError(f"distance must be a square site x site matrix, got shape {dense.shape}", file="model")
        self.p = checked_p(p, m)
        if self.p < 2:
            raise InputError("p-dispersion needs p of at least 2: one site has no distance to another", file="model")
        self.distance = np.minimum(dense, dense.T)
        np.fill_diagonal(self.distance, np.inf)
        self.rules = rules or SiteRules(m)
        self.counted = self.distance.copy()  # the pairs that count: not two sites that must stay open
        self.counted[np.ix_(self.rules.fixed, self.rules.fixed)] = np.inf
        self.site_labels = labels(site_labels, m, "s")
        self._milp = None

    @classmethod
    def from_cost_matrix(cls, distance, p: int, site_labels=None, **rules) -> "PDispersion":
        """distance: site x site (dense, or sparse: a missing entry is a pair with no route, never too close);
        rules: fixed, existing, closable, forbidden, max_new, open_cost / budget, county limits (SiteRules)."""
        dense = as_cost_matrix(distance, "distance")
        return cls(dense, p, site_rules(dense.shape[1], **rules), site_labels)

    @classmethod
    def from_geodataframes(cls, candidates, p: int, distance: str = "euclidean", graph=None, unit: str = "km",
                           mode="drive", speed_kmh=30.0, walk_speed_kmh: float = 4.5, detour_factor: float = 1.3,
                           **rules) -> "PDispersion":
        """Candidate sites as a GeoDataFrame; km between them (straight line, or by road with distance="network"
        and `graph`), or with unit="min" travel minutes as PMedian measures them (`mode` and `speed_kmh` one or
        one per site, from the site that is left); rules as for the other models, by column name or positions."""
        from netopt.models.median import geo_costs, rules_from_candidates

        given = rules_from_candidates(candidates, rules)
        cost, _ = geo_costs(candidates, candidates, distance, graph, unit, mode, speed_kmh=speed_kmh,
                            walk_speed_kmh=walk_speed_kmh, detour_factor=detour_factor)
        return cls.from_cost_matrix(cost, p, _ids(candidates, None), **given)

    def to_pulp(self):
        raise InputError("PDispersion is solved as a sequence of independent-set models; there is no single "
                         "pulp model to extend", file="model")

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """Bisection on the distance from the starting plan's (greedy farthest site, then swaps); each step an
        exact independent-set model; many sites grouped first (_solve_by_groups). Within `mip_gap` of the proven
        bound, or at `time_limit`, the best plan."""
        check_solver_arguments(time_limit, mip_gap, solver, threads, warm_start)
        return self._solve(time_limit, mip_gap, solver, threads, warm_start, grouped=True)

    def _solve(self, time_limit: float | None, mip_gap: float, solver: str, threads: int | None,
               warm_start: bool, grouped: bool) -> Result:
        """solve(), with groups of sites first where `grouped` and _groupable allow."""
        start = time.perf_counter()
        reason = self._rules_reason(self.p)
        if reason:
            return self._infeasible(reason, 0.0)
        pairs, values = self._allowed_pairs()
        cuts = np.unique(values)  # the distances a plan can reach; inf for pairs with no route
        best = self._start_plan() if warm_start else None
        if best is not None and grouped and self._groupable():
            return self._solve_by_groups(best, time_limit, mip_gap, solver, threads, start)
        if best is None:  # rules the greedy start does not know: any plan, from the step without pairs
            best, proven_none = self._spread(pairs[:0], time_limit, solver, threads)
            if best is None:
                return self._no_plan(proven_none, time_limit, solver, threads, start)
        low, high, steps = self._level(cuts, best), len(cuts), 0  # cuts[low] reached; cuts[high:] proven not
        while low + 1 < high and not self._close_enough(best, cuts, high, mip_gap):
            remaining = None if time_limit is None else time_limit - (time.perf_counter() - start)
            if remaining is not None and remaining <= 0:
                break
            mid = (low + high) // 2
            sites, proven_none = self._spread(pairs[values < cuts[mid]], remaining, solver, threads)
            steps += 1
            if sites is not None:
                best, low = sites, self._level(cuts, sites)
            elif proven_none:
                high = mid
            else:
                break
        proven = low + 1 >= high or self._close_enough(best, cuts, high, mip_gap)
        return self._finish(best, cuts[high - 1], "optimal" if proven else "feasible", start, steps)

    def _groupable(self) -> bool:
        """Whether the plan is sought over groups of sites first: many allowed sites, none fixed, no rule but
        forbidden sites."""
        return (int(self.rules.allowed.sum()) >= CLUSTERED_FROM and not len(self.rules.fixed)
                and not self.rules.limits_plans(self.p))

    def _solve_by_groups(self, best: np.ndarray, time_limit: float | None, mip_gap: float, solver: str,
                         threads: int | None, start: float) -> Result:
        """Decremental clustering: over groups narrower than the best plan's value, a pair of groups as far apart
        as their farthest sites, the best p groups bound every plan from above (the first round solves them);
        then each round asks for p groups pairwise farther apart than the best plan: none proves it optimal, and
        p such groups hold a better plan among their sites or are split."""
        sites = np.flatnonzero(self.rules.allowed)
        distance = self.counted[np.ix_(sites, sites)]
        best = np.searchsorted(sites, best)
        lower = _smallest_distance(best, distance)
        groups = _first_groups(distance, max(FIRST_GROUPS, GROUPS_PER_OPENING * self.p))
        upper, rounds = np.inf, 0
        while not (lower >= upper or (mip_gap > 0 and relative_gap(lower, upper) <= mip_gap)):
            groups = _narrower_than(distance, groups, lower)
            left = None if time_limit is None else time_limit - (time.perf_counter() - start)
            if left is not None and left <= 0:
                break
            apart = _farthest_apart(distance, groups)
            rounds += 1
            if not np.isfinite(upper):
                relaxed = PDispersion(apart, self.p)._solve_sites(left, solver, threads)
                upper = relaxed.bound
                if relaxed.status != "optimal" or relaxed.objective <= lower:
                    continue
                witness = relaxed.selected
            else:
                witness, proven = self._groups_apart(apart, lower, left, solver, threads)
                if witness is None:
                    upper = lower if proven else upper
                    break
            pool = np.concatenate([groups[g] for g in witness])
            plan = pool[PDispersion(distance[np.ix_(pool, pool)], self.p)._solve_sites(left, solver, threads)
                        .selected] if len(pool) > self.p else pool
            value = _smallest_distance(plan, distance)
            if value > lower:
                best, lower = plan, value
            else:
                groups = _split(distance, groups, set(witness))
        proven = lower >= upper or (mip_gap > 0 and relative_gap(lower, upper) <= mip_gap)
        result = self._finish(sites[best], max(upper, lower), "optimal" if proven else "feasible", start, 0)
        return replace(result, details={"group_rounds": rounds, "groups": len(groups)})

    def _groups_apart(self, apart: np.ndarray, value: float, time_limit: float | None, solver: str,
                      threads: int | None) -> tuple[list[int] | None, bool]:
        """p groups pairwise farther apart than `value` (their positions), or None and whether none is proven."""
        a, b = np.triu_indices(len(apart), k=1)
        near = apart[a, b] <= value
        step = _SpreadStep(self.p, SiteRules(len(apart)), np.column_stack([a[near], b[near]]))
        step.diagnose_infeasible = False
        found = step.solve(time_limit=time_limit, solver=solver, threads=threads)
        if found.status in ("optimal", "feasible") and len(found.selected) >= self.p:
            return [int(g) for g in found.selected], False
        return None, found.status in ("optimal", "infeasible")

    def _solve_sites(self, time_limit: float | None, solver: str, threads: int | None) -> Result:
        """solve() by bisection alone (no groups): a plan's positions as `selected`."""
        result = self._solve(time_limit, 0.0, solver, threads, True, grouped=False)
        return replace(result, selected=[self.site_labels.index(label) for label in result.selected])

    def heuristic(self) -> Result:
        """A good plan fast, without proof: the farthest site added greedily, then swaps out of the closest pair.
        Status "feasible"; budget, county, new-site and spacing rules are not known to it (an InputError then)."""
        start = time.perf_counter()
        reason = self._rules_reason(self.p)
        if reason:
            return self._infeasible(reason, 0.0)
        plan = self._start_plan()
        if plan is None:
            raise InputError("heuristic() knows fixed, existing and forbidden sites only: with a budget, county "
                             "limits, a new-site limit or pairs that may not both open, use solve()", file="model")
        return self._finish(plan, float(self._allowed_pairs()[1].max()), "feasible", start, 0)

    def _allowed_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """The pairs (j < k) of allowed sites, and their distances (inf: no route, or two sites that stay open)."""
        allowed = np.flatnonzero(self.rules.allowed)
        a, b = np.triu_indices(len(allowed), k=1)
        return np.column_stack([allowed[a], allowed[b]]), self.counted[allowed[a], allowed[b]]

    def _level(self, cuts: np.ndarray, sites: np.ndarray) -> int:
        """The index in `cuts` of the smallest distance of the plan `sites`."""
        return int(np.searchsorted(cuts, self._objective(sites)))

    def _close_enough(self, best: np.ndarray, cuts: np.ndarray, high: int, mip_gap: float) -> bool:
        """Whether the plan is within mip_gap of the bound: the largest distance not proven out of reach."""
        return mip_gap > 0 and relative_gap(self._objective(best), cuts[high - 1]) <= mip_gap

    def _spread(self, too_close: np.ndarray, time_limit: float | None, solver: str,
                threads: int | None) -> tuple[np.ndarray | None, bool]:
        """p sites meeting the rules with no pair of `too_close` both open, or None and whether that is proven
        (False when the time limit ended the step). HiGHS's presolve merges the pairs into cliques itself."""
        step = _SpreadStep(self.p, self.rules, too_close)
        step.diagnose_infeasible = False
        found = step.solve(time_limit=time_limit, solver=solver, threads=threads)
        if found.status in ("optimal", "feasible") and len(found.selected) >= self.p:
            return np.array(found.selected, int), False
        return None, found.status in ("optimal", "infeasible")

    def _no_plan(self, proven_none: bool, time_limit: float | None, solver: str, threads: int | None,
                 start: float) -> Result:
        """No p sites meet the site rules at all — with the rule that blocks them, as the step without pairs
        diagnosed names it — or none was found within the time limit."""
        if not proven_none:
            return self._infeasible("no plan was found within the time limit", time.perf_counter() - start,
                                    status="feasible")
        remaining = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 1.0)
        found = _SpreadStep(self.p, self.rules, np.zeros((0, 2), int)).solve(remaining, solver=solver,
                                                                            threads=threads)
        return self._infeasible(found.reason or self.rules.together(self.p), time.perf_counter() - start)

    def _start_plan(self) -> np.ndarray | None:
        """Greedy (from the fixed sites, else the farthest pair, add the allowed site farthest from the plan) then
        swaps of a site of the closest pair for the one that raises the smallest distance; None when the rules
        limit plans in ways it does not know (or their too_close pairs refuse its plan)."""
        if self.rules.limits_plans(self.p):
            return None
        allowed = self.rules.allowed
        finite = np.where(np.isfinite(self.counted), self.counted, np.finfo(float).max)
        plan = list(self.rules.fixed)
        if not plan:
            sub = np.where(allowed[:, None] & allowed[None, :], finite, -1.0)
            np.fill_diagonal(sub, -1.0)
            plan = list(np.unravel_index(int(np.argmax(sub)), sub.shape))
        while len(plan) < self.p:
            plan.append(_farthest(finite, plan, allowed))
        plan = self._swapped(np.array(plan, int), finite)
        return plan if self.rules.admits(np.isin(np.arange(len(allowed)), plan)) else None

    def _swapped(self, plan: np.ndarray, finite: np.ndarray) -> np.ndarray:
        """The plan after swaps (at most SWAP_ROUNDS): a site of the closest pair (never a fixed one) out, the
        allowed site farthest from the rest in, while that site lies farther from the rest than the pair did."""
        fixed = np.zeros(len(finite), bool)
        fixed[self.rules.fixed] = True
        for _ in range(SWAP_ROUNDS):
            inner = finite[np.ix_(plan, plan)]
            np.fill_diagonal(inner, np.inf)
            value = inner.min()
            improved = False
            for position in np.unravel_index(int(np.argmin(inner)), inner.shape):
                if fixed[plan[position]]:
                    continue
                rest = np.delete(plan, position)
                candidate = _farthest(finite, rest, self.rules.allowed)
                if finite[candidate, rest].min() > value:
                    plan, improved = np.append(rest, candidate), True
                    break
            if not improved:
                break
        return np.sort(plan)

    def _objective(self, sites: np.ndarray) -> float:
        return _smallest_distance(sites, self.counted)

    def _finish(self, sites: np.ndarray, bound: float, status: str, start: float, steps: int) -> Result:
        plan = self._evaluated(sites)
        value = plan.objective
        gap = 0.0 if value >= bound else relative_gap(value, bound)
        return replace(plan, status=status, bound=float(max(bound, value)), gap=gap,
                       seconds=time.perf_counter() - start, details={"independent_set_models_solved": steps})

    def _evaluated(self, sites: np.ndarray) -> Result:
        """The plan opening `sites`: each open site with its nearest other open site whose pair counts (two sites
        that must stay open do not) and their distance."""
        sites = np.asarray(sites, int)
        inner = self.counted[np.ix_(sites, sites)]
        nearest = np.argmin(inner, axis=1)
        distance = inner[np.arange(len(sites)), nearest]
        table = pd.DataFrame({"site": [self.site_labels[j] for j in sites],
                              "nearest_open_site": [self.site_labels[sites[k]] if np.isfinite(d) else None
                                                    for k, d in zip(nearest, distance)],
                              "distance": distance})
        return Result("evaluated", self._objective(sites), np.nan, np.nan, 0.0,
                      [self.site_labels[j] for j in sites], table)


class _SpreadStep(LocationModel):
    """One bisection step: open the most sites (at most p) meeting the rules with no pair of `too_close` both
    open. Its optimum is p iff the distance asked is achievable."""

    maximise = True

    def __init__(self, p: int, rules: SiteRules, too_close: np.ndarray) -> None:
        self.p, self.rules, self.too_close = p, rules, too_close
        self.site_labels = list(range(rules.n_sites))
        self._milp = None

    def _build(self) -> MatrixMILP:
        m, k = self.rules.n_sites, len(self.too_close)
        count = sp.csr_matrix(np.ones((1, m)))
        conflicts = sp.csr_matrix((np.ones(2 * k), (np.repeat(np.arange(k), 2), self.too_close.ravel())),
                                  shape=(k, m))
        extra, elo, ehi, enames = self.rules.rows()
        A = stack_rows(sp.vstack([count, conflicts]).tocsr(), extra)
        lo, hi = self.rules.bounds()
        return MatrixMILP(c=np.ones(m), A=A, row_lo=np.concatenate([[-np.inf], np.full(k, -np.inf), elo]),
                          row_hi=np.concatenate([[self.p], np.ones(k), ehi]), col_lo=lo, col_hi=hi,
                          integer=np.ones(m, bool), sense="max",
                          col_names=[f"y_{j}" for j in range(m)],
                          row_names=["p"] + [f"apart_{a}_{b}" for a, b in self.too_close] + enames)

    def _requirement(self) -> str:
        return f"opening p={self.p} sites"

    def _explain_infeasible(self) -> str:
        return self.rules.together(self.p)

    def _result(self, raw: RawSolution) -> Result:
        return finish_result(raw, [int(j) for j in np.flatnonzero(raw.x[:self.rules.n_sites] > 0.5)], pd.DataFrame())


def _smallest_distance(sites: np.ndarray, distance: np.ndarray) -> float:
    """The smallest distance between two of `sites` (inf for fewer than two)."""
    sites = np.asarray(sites, int)
    if len(sites) < 2:
        return np.inf
    inner = distance[np.ix_(sites, sites)]
    return float(inner[np.triu_indices(len(sites), k=1)].min())


def _first_groups(distance: np.ndarray, count: int) -> list[np.ndarray]:
    """`count` groups of sites: centres taken farthest first, each site with its nearest centre."""
    finite = np.where(np.isfinite(distance), distance, np.finfo(float).max)
    np.fill_diagonal(finite, 0.0)
    centres = [0]
    nearest = finite[0].copy()
    while len(centres) < min(count, len(finite)):
        centres.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, finite[centres[-1]])
    owner = np.argmin(finite[:, centres], axis=1)
    return [members for members in (np.flatnonzero(owner == k) for k in range(len(centres))) if len(members)]


def _width(distance: np.ndarray, members: np.ndarray) -> float:
    """The largest distance between two sites of a group (0 for one site)."""
    if len(members) < 2:
        return 0.0
    inner = distance[np.ix_(members, members)]
    return float(inner[np.triu_indices(len(members), k=1)].max())


def _halves(distance: np.ndarray, members: np.ndarray) -> list[np.ndarray]:
    """A group in two: each site with the nearer of its two farthest-apart sites."""
    inner = np.where(np.isfinite(distance[np.ix_(members, members)]), distance[np.ix_(members, members)],
                     np.finfo(float).max)
    np.fill_diagonal(inner, -1.0)
    a, b = np.unravel_index(int(np.argmax(inner)), inner.shape)
    np.fill_diagonal(inner, 0.0)
    to_b = inner[:, b] < inner[:, a]
    return [members[~to_b], members[to_b]]


def _narrower_than(distance: np.ndarray, groups: list[np.ndarray], value: float) -> list[np.ndarray]:
    """The groups split until each is narrower than `value` (two sites of one group are then never both in a
    plan as good)."""
    done, todo = [], list(groups)
    while todo:
        members = todo.pop()
        if len(members) > 1 and _width(distance, members) >= value:
            todo.extend(_halves(distance, members))
        else:
            done.append(members)
    return done


def _split(distance: np.ndarray, groups: list[np.ndarray], chosen: set[int]) -> list[np.ndarray]:
    """The groups with each chosen one of several sites halved."""
    return [part for k, members in enumerate(groups)
            for part in (_halves(distance, members) if k in chosen and len(members) > 1 else [members])]


def _farthest_apart(distance: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """Group x group: the largest distance between a site of one and a site of the other."""
    order = np.concatenate(groups)
    starts = np.r_[0, np.cumsum([len(members) for members in groups])[:-1]]
    rows = np.maximum.reduceat(distance[order][:, order], starts, axis=0)
    return np.maximum.reduceat(rows, starts, axis=1)


def _farthest(distance: np.ndarray, plan, allowed: np.ndarray) -> int:
    """The allowed site not in `plan` farthest from its nearest site of `plan`."""
    gap = distance[:, np.asarray(plan, int)].min(axis=1)
    gap[~allowed] = -1.0
    gap[np.asarray(plan, int)] = -1.0
    return int(np.argmax(gap))
