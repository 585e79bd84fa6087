"""Capacitated location: which sites to open (fixed costs, capacities, existing branches, a budget) and how to
split each demand among them — multi-source (split allowed) or single-source: least cost serving all demand
(CFLP), or the most demand served within a radius by p sites (CapacitatedMCLP)."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, is_number
from netopt.models._base import Curves, LocationModel, SiteRules, checked_p, finish_result, site_rules, stack_rows
from netopt.models._cflp_lagrange import LagrangianOutcome, SiteChoice, TransportPricer, cflp_lagrangian, site_tests
from netopt.models._milp import (INF, MatrixMILP, RawSolution, Result, check_solver_arguments, loaded_highs,
                                relative_gap, report_stage, seconds_left, share_deadline)
from netopt.models.covering import _Covering, as_coverage, cost_column, reach_from_geodataframes, reach_within
from netopt.models.median import (_ids, as_cost_matrix, column_or_values, frame_column, labels,
                                  rules_from_candidates)

LAGRANGIAN_SECONDS = 30.0  # at most, for the Lagrangian bound and its plans (or LAGRANGIAN_SHARE of a time limit)
LAGRANGIAN_SHARE = 0.2
SUPPORT_VALUE_SHARE = 0.02  # sites valued at most this share of the gap above zero join the support search
SUPPORT_SEARCH_SECONDS = 30.0
SUPPORT_SEARCH_SHARE = 0.3
PAIRS_LIMIT = 500_000  # demand-site pairs beyond which solve() refuses (a province's 6.7M took 13 GB and 10+ minutes)


class CFLP(LocationModel):
    """min Σ fixed_j y_j + Σ cost_ij demand_i x_ij  s.t.  Σ_j x_ij = 1,  Σ_i demand_i x_ij <= capacity_j y_j,
    x_ij <= y_j; x_ij ∈ [0, 1] (multi-source) or {0, 1} (single-source). capacity=None: uncapacitated."""

    def __init__(self, cost_per_unit, demand, capacity=None, fixed_cost=None, single_source: bool = False,
                 rules: SiteRules | None = None, demand_labels=None, site_labels=None) -> None:
        self.cost = as_cost_matrix(cost_per_unit, "cost_per_unit")
        n, m = self.cost.shape
        self.demand = _vector(demand, n, "demand", allow_zero=True)
        self.capacity = None if capacity is None else _vector(capacity, m, "capacity", allow_zero=True)
        self.fixed_cost = np.zeros(m) if fixed_cost is None else _vector(fixed_cost, m, "fixed_cost", allow_zero=True)
        self.single_source = single_source
        self.rules = rules or SiteRules(m)
        self.demand_labels = labels(demand_labels, n, "d")
        self.site_labels = labels(site_labels, m, "s")
        self._milp = None
        self._start: np.ndarray | None = None  # a warm start found by solve() for the reduced model

    @classmethod
    def from_cost_matrix(cls, cost_per_unit, demand, capacity=None, fixed_cost=None, single_source: bool = False,
                         budget: float | None = None, demand_labels=None, site_labels=None, **rules) -> "CFLP":
        """cost_per_unit: demand x site cost of serving one unit (a sparse matrix's missing entries: not allowed).
        budget limits Σ opening costs of new sites (minus savings of closed existing ones); fixed_cost is also
        the opening cost unless open_cost= is given."""
        dense = as_cost_matrix(cost_per_unit, "cost_per_unit")
        m = dense.shape[1]
        if budget is not None and "open_cost" not in rules:
            rules["open_cost"] = np.zeros(m) if fixed_cost is None else np.asarray(fixed_cost, float)
        return cls(dense, demand, capacity, fixed_cost, single_source,
                   site_rules(m, budget=budget, **rules), demand_labels, site_labels)

    @classmethod
    def from_allocation_costs(cls, allocation_cost, demand, capacity=None, fixed_cost=None, **kwargs) -> "CFLP":
        """OR-Library style: allocation_cost[i, j] is the cost of serving ALL of i's demand from j."""
        alloc = as_cost_matrix(allocation_cost, "allocation_cost")
        d = np.asarray(demand, float)
        per_unit = np.divide(alloc, d[:, None], out=np.zeros_like(alloc), where=d[:, None] > 0)
        return cls.from_cost_matrix(per_unit, d, capacity, fixed_cost, **kwargs)

    @classmethod
    def from_geodataframes(cls, demand, candidates, demand_column: str = "population", capacity=None,
                           fixed_cost=None, cost_per_km: float = 1.0, distance: str = "euclidean",
                           graph=None, max_km: float | None = None, unit: str = "km", mode="drive",
                           speed_kmh=30.0, walk_speed_kmh: float = 4.5, detour_factor: float = 1.3,
                           **kwargs) -> "CFLP":
        """Cost per unit of demand = distance (km) x cost_per_km; `capacity` and `fixed_cost` a column of
        `candidates`, a number, or one per site. `max_km`: no demand is served from a site farther than this (a
        city-wide or provincial model then has a few hundred pairs per town, not all). With unit="min", travel
        minutes in place of km — the least total travel time, resident-minutes, within the capacities —, each pair
        as analyze_coverage(radius_min=…) measures it (`mode`, `speed_kmh`, `walk_speed_kmh`, `detour_factor` as
        PMedian takes them; cost_per_km then a cost per minute; `max_km` still km)."""
        from netopt.distance import cost_matrix_km
        from netopt.models.median import geo_costs

        if max_km is not None and not (is_number(max_km) and 0 < max_km < np.inf):
            raise InputError(f"max_km must be a positive number of kilometres, got {max_km!r}", file="model")
        amounts = frame_column(demand, demand_column, "demand").to_numpy(float)
        caps = column_or_values(candidates, capacity, "candidates")
        fixed = column_or_values(candidates, fixed_cost, "candidates")
        given = rules_from_candidates(candidates, kwargs)
        cost, _ = geo_costs(demand, candidates, distance, graph, unit, mode, speed_kmh=speed_kmh,
                            walk_speed_kmh=walk_speed_kmh, detour_factor=detour_factor)
        if max_km is not None:
            km = cost_matrix_km(demand, candidates, distance, graph, detour_factor) if unit == "min" else cost
            cost = np.where(km > max_km, np.inf, cost * cost_per_km)
        else:
            cost = cost * cost_per_km
        return cls.from_cost_matrix(cost, amounts, caps, fixed, demand_labels=_ids(demand, None),
                                    site_labels=_ids(candidates, None), **given)

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """Multi-source models: the Lagrangian bound (assignment rows relaxed; the site rules kept) and the
        plans it suggests, priced by a transport LP, give a first plan; a time-boxed MIP over the sites the
        bound favours improves it; the bound then closes the sites no cheaper plan opens and opens those every
        cheaper plan needs, and the exact model over the rest, warm-started, follows. Single-source models
        and those extended through to_pulp() are solved whole."""
        check_solver_arguments(time_limit, mip_gap, solver, threads, warm_start)
        self._check_size()
        if self.single_source or not warm_start or getattr(self, "_pulp", None) is not None \
                or self._explain_infeasible_rules():
            return super().solve(time_limit, mip_gap, solver, threads, warm_start)
        t0 = time.perf_counter()
        alloc = np.where(np.isfinite(self.cost), self.cost * self.demand[:, None], np.inf)
        choice = self._site_choice()
        pricer = TransportPricer(alloc, self.demand, self.capacity, self.fixed_cost)
        stop = t0 + (LAGRANGIAN_SECONDS if time_limit is None else LAGRANGIAN_SHARE * time_limit)
        report_stage("Lagrangian bound 拉格朗日下界")
        outcome = cflp_lagrangian(alloc, self.demand, self.capacity, self.fixed_cost, choice, pricer, stop)
        if outcome is None:
            return super().solve(time_limit, mip_gap, solver, threads, warm_start)
        report_stage("searching near the bound's plan 局部搜索")
        self._support_search(outcome, pricer, choice, seconds_left(time_limit, t0))
        closed, opened = site_tests(outcome, choice, share_deadline(time_limit, t0, LAGRANGIAN_SHARE))
        if relative_gap(outcome.cost, outcome.bound) <= mip_gap:  # the bound proves the plan within mip_gap
            result = self._result(RawSolution("optimal", self._vector(outcome.plan, outcome.shares), outcome.cost,
                                              min(outcome.bound, outcome.cost), 0.0))
        else:
            reduced = self._restricted(~closed, opened)
            reduced._start = reduced._vector(outcome.plan, outcome.shares)
            result = LocationModel.solve(reduced, seconds_left(time_limit, t0), mip_gap, solver, threads, warm_start)
        result.seconds = time.perf_counter() - t0
        result.heuristic_objective = outcome.cost
        result.details.update(sites_after_reduction=int((choice.allowed & ~closed).sum()),
                              sites_opened_by_bound=int(opened.sum()), lagrangian_bound=outcome.bound)
        return result

    def _check_size(self) -> None:
        """More than PAIRS_LIMIT pairs that may serve (finite costs) is refused before solving, saying how to cut
        them."""
        pairs = int(np.isfinite(self.cost).sum())
        if pairs <= PAIRS_LIMIT:
            return
        n, m = self.cost.shape
        raise InputError(f"capacitated location over {n:,} demand points x {m:,} sites is {pairs:,} pairs that "
                         f"may serve, too many to solve exactly on one machine (more than PAIRS_LIMIT {PAIRS_LIMIT:,}; "
                         "6.7 million took 13 GB and over 10 minutes): give the longest distance a demand point may "
                         "be served over, from_geodataframes(..., max_km=30), or np.inf in cost_per_unit where a site "
                         "may not serve; or raise netopt.models.capacitated.PAIRS_LIMIT to try anyway", file="model")

    def _site_choice(self) -> SiteChoice:
        """The Lagrangian problem's site choice under this model's must/forbidden sites and rule rows."""
        m = self.cost.shape[1]
        must = np.zeros(m, bool)
        must[self.rules.fixed] = True
        matrix, lo, hi = self.rules.row_matrix()
        rule_rows = (matrix, lo, hi) if matrix.shape[0] else None
        return SiteChoice(self.capacity, float(self.demand.sum()), must, self.rules.allowed, rule_rows)

    def _support_search(self, outcome: LagrangianOutcome, pricer: TransportPricer, choice: SiteChoice,
                        seconds: float | None) -> None:
        """A better plan from the exact model over the sites whose Lagrangian value is (nearly) the lowest and
        the plan's own, within SUPPORT_SEARCH_SECONDS (or SUPPORT_SEARCH_SHARE of the time left): replaces
        the outcome's plan when cheaper."""
        near = outcome.values <= SUPPORT_VALUE_SHARE * max(outcome.cost - outcome.bound, 0.0)
        sites = choice.allowed & (near | outcome.plan | choice.must)
        if sites.sum() >= choice.allowed.sum():
            return
        sub = self._restricted(sites, np.zeros(len(sites), bool))
        sub.site_labels = list(range(len(sites)))  # positions: found.selected are site indices
        sub._start = sub._vector(outcome.plan, outcome.shares)
        found = LocationModel.solve(sub, SUPPORT_SEARCH_SECONDS if seconds is None else SUPPORT_SEARCH_SHARE * seconds)
        if found.status in ("optimal", "feasible") and found.objective < outcome.cost:
            plan = np.zeros(len(sites), bool)
            plan[np.asarray(found.selected, int)] = True
            cost, shares, kept = pricer.price(plan, choice)
            if cost < outcome.cost:
                outcome.plan, outcome.cost, outcome.shares = kept, cost, shares

    def _restricted(self, sites: np.ndarray, open_for_good: np.ndarray) -> "CFLP":
        """The same model with only the sites of the mask `sites` allowed and those of `open_for_good` fixed."""
        rules = replace(self.rules, fixed=np.union1d(self.rules.fixed, np.flatnonzero(open_for_good)),
                        forbidden=np.union1d(self.rules.forbidden, np.flatnonzero(~sites)))
        return CFLP(self.cost, self.demand, self.capacity, self.fixed_cost, rules=rules,
                    demand_labels=self.demand_labels, site_labels=self.site_labels)

    def _heuristic(self) -> tuple[np.ndarray | None, float | None]:
        if self._start is None:
            return None, None
        return self._start, float(self.milp.c @ self._start)

    def _vector(self, plan: np.ndarray, shares: np.ndarray) -> np.ndarray:
        """The model's variable vector (sites, then the finite pairs' shares) of an open-site plan."""
        ii, jj = self._pairs()
        return np.concatenate([plan.astype(float), shares[ii, jj]])

    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        return np.nonzero(np.isfinite(self.cost))

    def _build(self) -> MatrixMILP:
        n, m = self.cost.shape
        ii, jj = self._pairs()
        k = len(ii)
        assign, cap, link = pair_blocks(ii, jj, n, m, self.demand[ii], self.capacity)
        blocks, lo, hi = [assign, link], [np.ones(n), np.full(k, -INF)], [np.ones(n), np.zeros(k)]
        names = [f"assign_{i}" for i in range(n)] + [f"link_{a}_{b}" for a, b in zip(ii, jj)]
        if self.capacity is not None:
            total = sp.csr_matrix((self.capacity, (np.zeros(m, int), np.arange(m))), shape=(1, m + k))
            blocks += [cap, total]
            lo += [np.full(m, -INF), [self.demand.sum()]]
            hi += [np.zeros(m), [INF]]
            names += [f"capacity_{j}" for j in range(m)] + ["total_capacity"]
        A = sp.vstack(blocks).tocsr()
        extra, elo, ehi, enames = self.rules.rows()
        A = stack_rows(A, extra)
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(
            c=np.concatenate([self.fixed_cost, self.cost[ii, jj] * self.demand[ii]]), A=A,
            row_lo=np.concatenate(lo + [elo]), row_hi=np.concatenate(hi + [ehi]),
            col_lo=np.concatenate([y_lo, np.zeros(k)]), col_hi=np.concatenate([y_hi, np.ones(k)]),
            integer=np.concatenate([np.ones(m, bool), np.full(k, self.single_source)]),
            col_names=[f"y_{j}" for j in range(m)] + [f"x_{a}_{b}" for a, b in zip(ii, jj)],
            row_names=names + enames,
        )

    def _requirement(self) -> str:
        return "serving all demand within the capacities" + (" (one site each)" if self.single_source else "")

    def _explain_infeasible_rules(self) -> str:
        allowed = self.rules.allowed
        reach = np.isfinite(self.cost[:, allowed]).any(axis=1)
        if not reach.all():
            return f"no allowed site can serve demand point(s) {self._named_demand(np.flatnonzero(~reach))}"
        most, sites = self.most_capacity()
        if most < self.demand.sum() - 1e-9:
            which = "every allowed site" if self.rules.max_new is None else \
                f"the allowed existing sites and the {self.rules.max_new} largest new ones, max_new"
            return (f"total demand {self.demand.sum():,.10g} exceeds the most capacity a plan can open, {most:,.10g} "
                    f"({sites} sites: {which})")
        if self.single_source and self.capacity is not None:
            return self._too_big_for_one_site(allowed) or self._rules_reason()
        return self._rules_reason()

    def most_capacity(self) -> tuple[float, int]:
        """The most capacity a plan can open — every allowed site, or under max_new the allowed existing sites and
        the largest new ones — and how many sites that is (inf, 0 without capacities)."""
        if self.capacity is None:
            return np.inf, 0
        rules, allowed = self.rules, self.rules.allowed
        if rules.max_new is None:
            return float(self.capacity[allowed].sum()), int(allowed.sum())
        kept = np.zeros(len(allowed), bool)
        kept[np.union1d(rules.existing, rules.fixed)] = True
        kept &= allowed
        room = max(rules.max_new - len(np.setdiff1d(rules.fixed, rules.existing)), 0)
        new = np.sort(self.capacity[allowed & ~kept])[::-1][:room]
        return float(self.capacity[kept].sum() + new.sum()), int(kept.sum() + len(new))

    def _too_big_for_one_site(self, allowed: np.ndarray) -> str:
        """Single source: the demand points more than any allowed site that reaches them can serve alone."""
        reachable_capacity = np.where(np.isfinite(self.cost[:, allowed]), self.capacity[allowed], 0.0).max(axis=1)
        big = np.flatnonzero(self.demand > reachable_capacity + 1e-9)
        if not len(big):
            return ""
        named = ", ".join(f"{self._demand_name(i)} ({self.demand[i]:,.10g} > {reachable_capacity[i]:,.10g})"
                          for i in big[:5])
        more = f" and {len(big) - 5} more" if len(big) > 5 else ""
        return (f"with one site per demand point, demand point(s) {named}{more} need more than the largest "
                "capacity of a site that reaches them (single_source=False lets several sites share them)")

    def _explain_infeasible(self) -> str:
        reason = self._rules_reason()
        if reason:
            return reason
        if self.single_source:
            return "no single-source assignment fits the capacities (try single_source=False)"
        if self.rules.budget is not None:
            return f"the budget {self.rules.budget:g} does not pay for enough capacity to serve all demand"
        return "capacities, budget and site rules cannot all be met"

    def _result(self, raw: RawSolution) -> Result:
        m = self.cost.shape[1]
        ii, jj = self._pairs()
        x = raw.x[m:]
        used = x > 1e-6
        assignment = pd.DataFrame({
            "demand": [self.demand_labels[i] for i in ii[used]], "site": [self.site_labels[j] for j in jj[used]],
            "share": x[used], "amount": x[used] * self.demand[ii[used]],
            "cost": x[used] * self.demand[ii[used]] * self.cost[ii[used], jj[used]],
        })
        open_sites = np.flatnonzero(raw.x[:m] > 0.5)
        load = assignment.groupby("site")["amount"].sum()
        return finish_result(raw, [self.site_labels[j] for j in open_sites], assignment,
                             fixed_cost=float(self.fixed_cost[open_sites].sum()),
                             assignment_cost=float(assignment["cost"].sum()), load=load.to_dict())


class CapacitatedMCLP(Curves, _Covering):
    """Maximal covering with capacities (ArcGIS's "maximize capacitated coverage"): open p sites serving the most
    demand weight within the radius, site j at most capacity_j of it.
    max Σ w_i x_ij  s.t.  Σ_j x_ij <= 1,  Σ_i w_i x_ij <= capacity_j y_j,  x_ij <= y_j,  Σ_j y_j = p, over the
    covering pairs; x_ij ∈ [0, 1] (a demand point's weight may be split among the open sites covering it) or
    {0, 1} (single_source: each point served wholly by one site, or not at all). curve() and moves_curve()
    give the weight served for each p, or each number of moves."""

    maximise = True
    curve_columns = ("covered_weight", "covered_pct")

    def __init__(self, A, p: int, capacity, weights=None, rules: SiteRules | None = None, demand_labels=None,
                 site_labels=None, single_source: bool = False, exactly_p: bool = True,
                 merged: tuple[sp.csr_matrix, np.ndarray] | None = None) -> None:
        if single_source and merged is None:  # a split demand may merge with points covered by the same sites
            A = as_coverage(A)  # — a whole one may not
            merged = (A, np.arange(A.shape[0]))
        super().__init__(A, rules, demand_labels, site_labels, merged, weights)
        m = self.A.shape[1]
        self.p = checked_p(p, m)
        capacity = np.full(m, capacity, float) if np.ndim(capacity) == 0 and is_number(capacity) else capacity
        self.capacity = _vector(capacity, m, "capacity", allow_zero=True)
        self.single_source = single_source
        self.exactly_p = exactly_p

    @classmethod
    def from_coverage(cls, A, p: int, capacity, weights=None, demand_labels=None, site_labels=None,
                      single_source: bool = False, exactly_p: bool = True, **rules) -> "CapacitatedMCLP":
        """A: 0/1 demand x site; capacity: one number for every site, or one per site (in weight units);
        exactly_p=False: at most p sites."""
        matrix = as_coverage(A)
        return cls(matrix, p, capacity, weights, site_rules(matrix.shape[1], **rules), demand_labels, site_labels,
                   single_source, exactly_p)

    @classmethod
    def from_cost_matrix(cls, cost, radius: float, p: int, capacity, weights=None, demand_labels=None,
                         site_labels=None, single_source: bool = False, exactly_p: bool = True,
                         **rules) -> "CapacitatedMCLP":
        """cost: demand x site distances or minutes; a site covers a demand point within `radius`."""
        reach = reach_within(cost, radius)
        return cls.from_coverage(reach, p, capacity, weights, demand_labels, site_labels, single_source, exactly_p,
                                 **rules)._with_distances(reach)

    @classmethod
    def from_geodataframes(cls, demand, candidates, radius_km: float | None = None, p: int | None = None,
                           capacity=None, weight: str | None = "population", distance: str = "euclidean", graph=None,
                           single_source: bool = False, exactly_p: bool = True, radius_min: float | None = None,
                           mode: str | np.ndarray = "drive", speed_kmh=30.0, walk_speed_kmh: float = 4.5,
                           detour_factor: float = 1.3, **rules) -> "CapacitatedMCLP":
        """Demand points and candidate sites as GeoDataFrames; capacity a number, one per site, or a column
        of `candidates` (e.g. residents a branch can serve); site rules, and `radius_min` with `mode` instead of
        radius_km, with the speeds (speed_kmh, walk_speed_kmh, detour_factor), as for MCLP.from_geodataframes."""
        weights = column_or_values(demand, weight, "demand")
        capacity = column_or_values(candidates, capacity, "candidates")
        given = rules_from_candidates(candidates, rules)
        reach = reach_from_geodataframes(demand, candidates, radius_km, distance, graph, radius_min, mode,
                                         speed_kmh=speed_kmh, walk_speed_kmh=walk_speed_kmh,
                                         detour_factor=detour_factor)
        return cls.from_coverage(reach, p, capacity, weights, _ids(demand, None), _ids(candidates, None),
                                 single_source, exactly_p, **given)._with_distances(reach, cost_column(radius_min))

    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """The covering pairs (distinct demand row, site), row by row."""
        coo = self.unique.tocoo()
        return coo.row, coo.col

    def _build(self) -> MatrixMILP:
        k, m = self.unique.shape
        ii, jj = self._pairs()
        n_pairs = len(ii)
        served, load, link = pair_blocks(ii, jj, k, m, self.unique_weights[ii], self.capacity)
        extra, lo, hi, extra_names = self.rules.rows([(np.ones(m), self.p if self.exactly_p else -INF, self.p, "p")])
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(
            c=np.concatenate([np.zeros(m), self.unique_weights[ii]]),
            A=stack_rows(sp.vstack([served, load, link]).tocsr(), extra),
            row_lo=np.concatenate([np.full(k + m + n_pairs, -INF), lo]),
            row_hi=np.concatenate([np.ones(k), np.zeros(m + n_pairs), hi]),
            col_lo=np.concatenate([y_lo, np.zeros(n_pairs)]), col_hi=np.concatenate([y_hi, np.ones(n_pairs)]),
            integer=np.concatenate([np.ones(m, bool), np.full(n_pairs, self.single_source)]), sense="max",
            col_names=[f"y_{j}" for j in range(m)] + [f"x_{a}_{b}" for a, b in zip(ii, jj)],
            row_names=[f"served_{i}" for i in range(k)] + [f"capacity_{j}" for j in range(m)] +
            [f"link_{a}_{b}" for a, b in zip(ii, jj)] + extra_names,
        )

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """The most demand served within the capacities; among the plans serving as much, one keeping the most
        closable existing sites open, then spending least where opening costs differ
        (LocationModel._keeping_most_then_cheapest): once branches are full many plans tie."""
        t0 = time.perf_counter()
        result = super().solve(time_limit, mip_gap, solver, threads, warm_start)
        return self._without_idle_new_sites(self._keeping_most_then_cheapest(result, time_limit, t0, solver, threads))

    def _explain_infeasible_rules(self) -> str:
        return self._rules_reason(self.p, at_most=not self.exactly_p)

    def _result(self, raw: RawSolution) -> Result:
        m = self.A.shape[1]
        ii, jj = self._pairs()
        share = raw.x[m:]
        open_sites = np.flatnonzero(raw.x[:m] > 0.5)
        assignment = self._served_table(ii, jj, share)
        load = assignment.groupby("site", sort=False)["amount"].sum()
        total = float(self.weights.sum())
        covered = float(assignment["amount"].sum())
        return finish_result(raw, [self.site_labels[j] for j in open_sites], assignment, covered_weight=covered,
                             covered_pct=100.0 * covered / total if total else np.nan, load=load.to_dict(),
                             within_reach_weight=self._within_reach(open_sites))

    def _served_table(self, ii: np.ndarray, jj: np.ndarray, share: np.ndarray) -> pd.DataFrame:
        """Per demand point and open site serving it: the share of the point's weight it serves, the amount
        (and the distance when known); each demand point takes its distinct row's shares."""
        used = share > 1e-6
        pair_of_row = pd.DataFrame({"row": ii[used], "site_pos": jj[used], "share": share[used]})
        points = pd.DataFrame({"row": self.row_of, "point": np.arange(len(self.row_of))})
        table = points.merge(pair_of_row, on="row").sort_values(["point", "site_pos"], kind="stable")
        point, site = table["point"].to_numpy(), table["site_pos"].to_numpy()
        served = pd.DataFrame({"demand": [self.demand_labels[i] for i in point],
                               "site": [self.site_labels[j] for j in site], "share": table["share"].to_numpy(),
                               "amount": table["share"].to_numpy() * self.weights[point]})
        if self.distances is not None:
            served[self.distance_column] = np.asarray(self.distances[point, site]).ravel()
        return served.reset_index(drop=True)

    def _within_reach(self, open_sites: np.ndarray) -> float:
        """The demand weight within the radius of an open site, served or not (capacity may leave some out)."""
        reached = np.asarray(self.A[:, open_sites].sum(axis=1)).ravel() > 0
        return float(self.weights[reached].sum())

    def _objective(self, sites: np.ndarray) -> float:
        return self._evaluated(sites).objective if len(sites) else 0.0  # no site serves no one

    def _objectives_without(self, plan: np.ndarray, closing: np.ndarray) -> np.ndarray:
        """One LP of the plan's sites alone (what they serve within their capacities), solved again with each
        site's capacity set to 0 in turn from the last basis — not one model of every candidate site per site
        (15 s for 104 sites on the sample's 0.5 km grid). Single-source plans: one integer program each."""
        if self.single_source:
            return super()._objectives_without(plan, closing)
        return self._served_as_each_changes(plan, closing, opened=False)

    def _objectives_with(self, plan: np.ndarray, opening: np.ndarray) -> np.ndarray:
        """One LP of the plan's sites and `opening` at capacity 0, solved again with each of them given its
        capacity in turn. Single-source plans: one integer program each."""
        if self.single_source:
            return super()._objectives_with(plan, opening)
        return self._served_as_each_changes(plan, opening, opened=True)

    def _served_as_each_changes(self, plan: np.ndarray, changing: np.ndarray, opened: bool) -> np.ndarray:
        """The weight served by the plan with each site of `changing` in turn opened besides it (`opened`) or
        closed: one LP over the plan and those sites, each site's capacity row moved between 0 and its capacity
        and back."""
        import highspy

        sites = np.union1d(plan, changing)
        lp = self._served_lp(sites)
        rows = len(self.unique_weights) + np.searchsorted(sites, changing)
        if opened:
            lp.row_hi[rows] = 0.0
        highs = loaded_highs(lp)
        values = []
        for j, row in zip(changing, rows):
            changed, usual = (float(self.capacity[j]), 0.0) if opened else (0.0, float(self.capacity[j]))
            highs.changeRowBounds(int(row), -highspy.kHighsInf, changed)
            highs.run()
            values.append(highs.getInfo().objective_function_value)
            highs.changeRowBounds(int(row), -highspy.kHighsInf, usual)
        return np.array(values, float)

    def _served_lp(self, plan: np.ndarray) -> MatrixMILP:
        """The most weight the open sites `plan` serve: a share x of each distinct demand row per pair within
        reach, at most 1 per row, at most each site's capacity (rows: demand rows, then the plan's sites)."""
        k = len(self.unique_weights)
        ii, jj = self._pairs()
        mine = np.isin(jj, plan)
        ii, jj = ii[mine], np.searchsorted(plan, jj[mine])
        amount = self.unique_weights[ii]
        pairs = np.arange(len(ii))
        matrix = sp.csr_matrix((np.concatenate([np.ones(len(ii)), amount]),
                                (np.concatenate([ii, k + jj]), np.concatenate([pairs, pairs]))),
                               shape=(k + len(plan), len(ii)))
        return MatrixMILP(c=amount, A=matrix, row_lo=np.full(k + len(plan), -INF),
                          row_hi=np.concatenate([np.ones(k), self.capacity[plan]]), col_lo=np.zeros(len(ii)),
                          col_hi=np.ones(len(ii)), integer=np.zeros(len(ii), bool), sense="max")

    def _evaluated(self, sites: np.ndarray) -> Result:
        """The plan opening exactly `sites`: the most weight they serve within their capacities (an LP)."""
        m = self.A.shape[1]
        fixed = CapacitatedMCLP(self.A, len(sites), self.capacity, self.weights,
                                SiteRules(m, fixed=sites, forbidden=np.setdiff1d(np.arange(m), sites)),
                                self.demand_labels, self.site_labels, self.single_source,
                                merged=(self.unique, self.row_of))
        fixed.distances, fixed.distance_column = self.distances, self.distance_column
        result = LocationModel.solve(fixed)
        return replace(result, status="evaluated", bound=np.nan, gap=np.nan)


def pair_blocks(ii: np.ndarray, jj: np.ndarray, n_rows: int, m: int, amount: np.ndarray,
                capacity: np.ndarray | None) -> tuple[sp.csr_matrix, sp.csr_matrix | None, sp.csr_matrix]:
    """Rows over the columns [y_j for the m sites | x_e for each pair e = (ii[e], jj[e])]: Σ_j x_ij per demand
    row; Σ_i amount_e x_ij − capacity_j y_j per site (None without capacities); x_ij − y_j per pair."""
    pairs = len(ii)
    x_cols = m + np.arange(pairs)
    per_row = sp.csr_matrix((np.ones(pairs), (ii, x_cols)), shape=(n_rows, m + pairs))
    load = None if capacity is None else sp.csr_matrix(
        (np.concatenate([amount, -capacity]), (np.concatenate([jj, np.arange(m)]), np.concatenate([x_cols, np.arange(m)]))),
        shape=(m, m + pairs))
    link = sp.csr_matrix((np.concatenate([np.ones(pairs), -np.ones(pairs)]),
                          (np.tile(np.arange(pairs), 2), np.concatenate([x_cols, jj]))), shape=(pairs, m + pairs))
    return per_row, load, link


def _vector(values, size: int, name: str, allow_zero: bool) -> np.ndarray:
    try:
        v = np.asarray(values, float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers", file="model") from None
    if v.shape != (size,) or np.isnan(v).any() or (v < 0).any() or (not allow_zero and (v == 0).any()):
        raise InputError(f"{name} must be {size} non-negative numbers", file="model")
    return v
