"""CFLP's Lagrangian bound (assignment rows relaxed), plans from it priced by a transport LP, and the sites it fixes."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from netopt.models._milp import MatrixMILP, loaded_highs

STALL_ITERATIONS = 20  # subgradient steps without a better bound before the step halves
PRICE_EVERY = 25  # subgradient steps between two plans priced by the transport LP
MIN_STEP = 1e-4  # the ascent stops when its step factor falls below this


@dataclass
class LagrangianOutcome:
    """The best plan priced (open-site mask, cost, shares n x m), the best bound, its multipliers u and the
    site values v at u."""
    plan: np.ndarray
    cost: float
    shares: np.ndarray
    bound: float
    u: np.ndarray
    values: np.ndarray


def facility_values(alloc: np.ndarray, demand: np.ndarray, capacity: np.ndarray | None, fixed_cost: np.ndarray,
                    u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per site j: v_j = fixed_j + min Σ_i (alloc_ij − u_i) x_ij over 0 ≤ x ≤ 1 with
    Σ_i demand_i x_ij ≤ capacity_j (a continuous knapsack, filled by best ratio), and the shares x reaching it.
    alloc_ij: the cost of serving all of i's demand from j (inf: not allowed)."""
    red = alloc - u[:, None]
    take_all = red < 0
    if capacity is None:
        shares = take_all.astype(float)
        return fixed_cost + np.where(take_all, red, 0.0).sum(axis=0), shares
    safe = np.where(demand > 0, demand, 1.0)[:, None]
    ratio = np.where(take_all, np.where(demand[:, None] > 0, red / safe, -np.inf), np.inf)
    order = np.argsort(ratio, axis=0, kind="stable")
    red_sorted, take = np.take_along_axis(red, order, 0), np.take_along_axis(take_all, order, 0)
    need = demand[order] * take
    used_before = np.cumsum(need, axis=0) - need
    room = np.clip((capacity[None, :] - used_before) / np.where(need > 0, need, 1.0), 0.0, 1.0)
    share_sorted = np.where(take, np.where(need > 0, room, 1.0), 0.0)
    shares = np.zeros_like(red)
    np.put_along_axis(shares, order, share_sorted, 0)
    return fixed_cost + (np.where(take, red_sorted, 0.0) * share_sorted).sum(axis=0), shares  # inf pairs: no take


class SiteChoice:
    """The Lagrangian problem's choice of sites: min Σ v_j y_j over 0 ≤ y ≤ 1 with Σ capacity_j y_j ≥ total
    demand, the must sites at 1, only `allowed` sites above 0, and the site rules' rows (budget, new-branch
    limit, county minimums) — the LP of that 0/1 problem, so the bound stays valid. Without rule rows a
    greedy fill solves it; with them a small LP kept in one HiGHS instance."""

    def __init__(self, capacity: np.ndarray | None, total_demand: float, must: np.ndarray, allowed: np.ndarray,
                 rule_rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        self.capacity, self.total, self.must, self.allowed = capacity, total_demand, must, allowed
        self.rows = rule_rows
        self.highs = None if rule_rows is None else self._lp(rule_rows)

    def _lp(self, rule_rows: tuple[np.ndarray, np.ndarray, np.ndarray]):
        matrix, lo, hi = rule_rows
        if self.capacity is not None:
            matrix = sp.vstack([matrix, sp.csr_matrix(self.capacity)])
            lo, hi = np.append(lo, self.total), np.append(hi, np.inf)
        m = matrix.shape[1]
        col_lo, col_hi = self._bounds(self.must, self.allowed)
        return loaded_highs(MatrixMILP(np.zeros(m), sp.csr_matrix(matrix), lo, hi, col_lo, col_hi,
                                       integer=np.zeros(m, bool)))

    @staticmethod
    def _bounds(must: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return must.astype(float), (allowed | must).astype(float)

    def solve(self, v: np.ndarray, must: np.ndarray | None = None,
              allowed: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """(min Σ v_j y_j, y) with this choice's must/allowed sites or the ones given; inf when no y fits."""
        import highspy

        must = self.must if must is None else must
        allowed = self.allowed if allowed is None else allowed
        if self.highs is None:
            return knapsack_open(v, self.capacity, self.total, must, allowed)
        every = np.arange(len(v), dtype=np.int32)
        self.highs.changeColsCost(len(v), every, v.astype(float))
        self.highs.changeColsBounds(len(v), every, *self._bounds(must, allowed))
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.highs.clearSolver()  # seen: "unknown" after many cost changes; solved from scratch it is fine
            self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return np.inf, np.zeros(len(v))
        y = np.clip(np.asarray(self.highs.getSolution().col_value), 0.0, 1.0)
        return float(self.highs.getInfo().objective_function_value), y

    def plan(self, y: np.ndarray) -> np.ndarray | None:
        """An open-site plan from the LP's y that meets the rules and has the capacity: every site it opens at
        all when that fits, else those it opens fully, completed by the others in order of y while the rules'
        upper limits (budget, new branches) allow. None when no such plan is found."""
        whole = (y > 1e-6) | self.must
        if self._fits(whole):
            return whole
        plan = (y > 1.0 - 1e-6) | self.must
        for j in np.argsort(-y, kind="stable"):
            if self._fits(plan):
                return plan
            if self.allowed[j] and not plan[j]:
                plan[j] = True
                if not self._within_upper_limits(plan):
                    plan[j] = False
        return plan if self._fits(plan) else None

    def _fits(self, plan: np.ndarray) -> bool:
        """Enough capacity for all demand, and the rule rows met."""
        enough = self.capacity is None or float(self.capacity @ plan) >= self.total - 1e-9
        return enough and self.meets_rules(plan)

    def _within_upper_limits(self, plan: np.ndarray) -> bool:
        return self.rows is None or bool(np.all(self.rows[0] @ plan.astype(float) <= self.rows[2] + 1e-9))

    def meets_rules(self, plan: np.ndarray) -> bool:
        """Whether a plan (a boolean mask of open sites) meets the rule rows."""
        if self.rows is None:
            return True
        matrix, lo, hi = self.rows
        value = matrix @ plan.astype(float)
        return bool(np.all(value >= lo - 1e-9) and np.all(value <= hi + 1e-9))


def knapsack_open(v: np.ndarray, capacity: np.ndarray | None, total_demand: float, must: np.ndarray,
                  allowed: np.ndarray) -> tuple[float, np.ndarray]:
    """min Σ v_j y_j over 0 ≤ y ≤ 1 with Σ capacity_j y_j ≥ total demand, must sites at 1, others of `allowed`
    free (the LP of a 0/1 knapsack: a valid lower bound). Returns (value, y); inf when no y fits."""
    y = np.where(must, 1.0, np.where(allowed & (v < 0), 1.0, 0.0))
    if capacity is None:
        return float(v @ y), y
    short = total_demand - float(capacity @ y)
    if short > 1e-9:
        spare = np.flatnonzero(allowed & (y == 0) & (capacity > 0))
        spare = spare[np.argsort(v[spare] / capacity[spare], kind="stable")]
        filled = np.cumsum(capacity[spare])
        last = int(np.searchsorted(filled, short - 1e-9))
        if last >= len(spare):
            return np.inf, y
        y[spare[:last]] = 1.0
        y[spare[last]] = (short - (filled[last - 1] if last else 0.0)) / capacity[spare[last]]
    return float(v @ y), y


class TransportPricer:
    """The cost of an open-site plan: fixed costs + the cheapest assignment within capacities (an LP kept in one
    HiGHS instance, re-solved from its last basis as the plan's sites change)."""

    def __init__(self, alloc: np.ndarray, demand: np.ndarray, capacity: np.ndarray | None,
                 fixed_cost: np.ndarray) -> None:
        self.ii, self.jj = np.nonzero(np.isfinite(alloc))
        self.shape, self.fixed_cost = alloc.shape, fixed_cost
        n, m = alloc.shape
        k = len(self.ii)
        rows = [sp.csr_matrix((np.ones(k), (self.ii, np.arange(k))), shape=(n, k))]  # Σ_j x_ij = 1
        lo, hi = [np.ones(n)], [np.ones(n)]
        if capacity is not None:  # Σ_i demand_i x_ij <= capacity_j
            rows.append(sp.csr_matrix((demand[self.ii], (self.jj, np.arange(k))), shape=(m, k)))
            lo.append(np.full(m, -np.inf)), hi.append(capacity.astype(float))
        self.highs = loaded_highs(MatrixMILP(alloc[self.ii, self.jj], sp.vstack(rows).tocsr(), np.concatenate(lo),
                                             np.concatenate(hi), np.zeros(k), np.ones(k), integer=np.zeros(k, bool)))
        self.highs.setOptionValue("solver", "simplex")
        self.cache: dict[bytes, tuple[float, np.ndarray | None]] = {}

    def transport(self, plan: np.ndarray) -> tuple[float, np.ndarray | None]:
        """(cheapest assignment cost, shares n x m) with the plan's sites open; (inf, None) when it cannot serve
        all demand."""
        import highspy

        key = np.packbits(plan).tobytes()
        if key not in self.cache:
            upper = plan[self.jj].astype(float)
            self.highs.changeColsBounds(len(upper), np.arange(len(upper), dtype=np.int32), np.zeros(len(upper)),
                                        upper)
            self.highs.run()
            if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                self.cache[key] = (np.inf, None)
            else:
                shares = np.zeros(self.shape)
                shares[self.ii, self.jj] = np.clip(np.asarray(self.highs.getSolution().col_value), 0.0, 1.0)
                self.cache[key] = (float(self.highs.getInfo().objective_function_value), shares)
        return self.cache[key]

    def price(self, plan: np.ndarray, choice: SiteChoice) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """(cost, shares, the sites kept open) of a plan: its sites that serve nobody close when the rules
        allow it (and they need not stay). (inf, None, None) when the plan cannot serve all demand."""
        transport, shares = self.transport(plan)
        if shares is None:
            return np.inf, None, None
        busy = plan & ((shares.sum(axis=0) > 1e-9) | choice.must)
        kept = busy if choice.meets_rules(busy) else plan
        return float(self.fixed_cost[kept].sum()) + transport, shares, kept


def cflp_lagrangian(alloc: np.ndarray, demand: np.ndarray, capacity: np.ndarray | None, fixed_cost: np.ndarray,
                    choice: SiteChoice, pricer: TransportPricer, deadline: float | None,
                    max_iterations: int = 1500) -> LagrangianOutcome | None:
    """Subgradient ascent on the assignment rows' multipliers (Polyak steps towards the best plan's cost, halved
    after STALL_ITERATIONS without progress); every PRICE_EVERY steps the knapsack's sites (fractional ones
    opened) are priced by the transport LP and the cheapest plan kept. None when no plan was found."""
    finite = np.where(np.isfinite(alloc), alloc, np.inf)
    u = np.sort(finite, axis=1)[:, min(1, alloc.shape[1] - 1)]
    u = np.where(np.isfinite(u), u, finite.min(axis=1))
    best = LagrangianOutcome(np.zeros(alloc.shape[1], bool), np.inf, np.zeros(alloc.shape), -np.inf, u, u)
    step, stall = 2.0, 0
    for iteration in range(max_iterations):
        v, shares = facility_values(alloc, demand, capacity, fixed_cost, u)
        value, y = choice.solve(v)
        if not np.isfinite(value):
            return None
        bound = float(u.sum()) + value
        if bound > best.bound + 1e-9 * max(1.0, abs(bound)):
            best.bound, best.u, best.values, stall = bound, u.copy(), v, 0
        else:
            stall += 1
            if stall >= STALL_ITERATIONS:
                step, stall = step / 2.0, 0
        plan = choice.plan(y) if iteration % PRICE_EVERY == 0 else None
        if plan is not None:
            cost, plan_shares, kept = pricer.price(plan, choice)
            if cost < best.cost:
                best.cost, best.plan, best.shares = cost, kept, plan_shares
        gap = best.cost - bound if np.isfinite(best.cost) else abs(bound) * 0.1 + 1.0
        grad = 1.0 - shares @ y
        norm = float(grad @ grad)
        if norm < 1e-12 or step < MIN_STEP or gap <= 1e-9 * max(1.0, abs(best.cost)) or \
                (deadline is not None and time.perf_counter() > deadline):
            break
        u = u + step * gap / norm * grad
    return best if np.isfinite(best.cost) else None


def site_tests(outcome: LagrangianOutcome, choice: SiteChoice,
               deadline: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sites no plan cheaper than the outcome's opens (closed; never one of its plan's) and sites every such
    plan opens (opened; only its plan's): the Lagrangian bound at the outcome's multipliers recomputed with
    each free site forced either way. Sites not reached by `deadline` (perf_counter) stay free."""
    v, base, plan = outcome.values, float(outcome.u.sum()), outcome.plan
    limit = outcome.cost - 1e-9 * max(1.0, abs(outcome.cost))
    closed, opened = np.zeros(len(v), bool), np.zeros(len(v), bool)
    for j in np.flatnonzero(choice.allowed & ~choice.must):
        if deadline is not None and time.perf_counter() > deadline:
            break
        if not plan[j]:
            forced_open = choice.must.copy()
            forced_open[j] = True
            closed[j] = base + choice.solve(v, must=forced_open)[0] > limit
        else:
            shut = choice.allowed.copy()
            shut[j] = False
            opened[j] = base + choice.solve(v, allowed=shut)[0] > limit
    return closed, opened
