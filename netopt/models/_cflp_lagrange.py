"""CFLP's Lagrangian bound (assignment rows relaxed), plans from it priced by a transport LP, and the sites it fixes."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

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
    Σ_i demand_i x_ij ≤ capacity_j (a continuous knapsack, filled by best ratio), and the shares x reaching it. alloc_ij: the cost of serving
    all of i's demand from j (inf: not allowed)."""
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
    return fixed_cost + np.where(take, red_sorted * share_sorted, 0.0).sum(axis=0), shares


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
                 fixed_cost: np.ndarray, must: np.ndarray) -> None:
        import highspy
        import scipy.sparse as sp

        from netopt.models._milp import _quiet_highs

        self.ii, self.jj = np.nonzero(np.isfinite(alloc))
        self.shape, self.fixed_cost, self.must = alloc.shape, fixed_cost, must
        n, m = alloc.shape
        k = len(self.ii)
        rows = [sp.csc_matrix((np.ones(k), (self.ii, np.arange(k))), shape=(n, k))]
        lo, hi = [np.ones(n)], [np.ones(n)]
        if capacity is not None:
            rows.append(sp.csc_matrix((demand[self.ii], (self.jj, np.arange(k))), shape=(m, k)))
            lo.append(np.full(m, -highspy.kHighsInf)), hi.append(capacity.astype(float))
        matrix = sp.vstack(rows).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = k, matrix.shape[0]
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = alloc[self.ii, self.jj], np.zeros(k), np.ones(k)
        lp.row_lower_, lp.row_upper_ = np.concatenate(lo), np.concatenate(hi)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
        self.highs, self.highspy = _quiet_highs(highspy), highspy
        self.highs.setOptionValue("solver", "simplex")
        self.highs.passModel(lp)
        self.cache: dict[bytes, tuple[float, np.ndarray | None]] = {}

    def price(self, plan: np.ndarray) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """(cost, shares n x m, the sites it keeps open) of a plan (a boolean mask of open sites): a site of
        the plan serving nobody closes, unless it must stay open. (inf, None, None) when it cannot serve all."""
        key = np.packbits(plan).tobytes()
        if key not in self.cache:
            upper = plan[self.jj].astype(float)
            self.highs.changeColsBounds(len(upper), np.arange(len(upper), dtype=np.int32), np.zeros(len(upper)),
                                        upper)
            self.highs.run()
            if self.highs.getModelStatus() != self.highspy.HighsModelStatus.kOptimal:
                self.cache[key] = (np.inf, None, None)
            else:
                x = np.asarray(self.highs.getSolution().col_value)
                shares = np.zeros(self.shape)
                shares[self.ii, self.jj] = np.clip(x, 0.0, 1.0)
                kept = plan & ((shares.sum(axis=0) > 1e-9) | self.must)
                self.cache[key] = (float(self.fixed_cost[kept].sum() + self.highs.getInfo().objective_function_value),
                                   shares, kept)
        return self.cache[key]


def cflp_lagrangian(alloc: np.ndarray, demand: np.ndarray, capacity: np.ndarray | None, fixed_cost: np.ndarray,
                    must: np.ndarray, allowed: np.ndarray, pricer: TransportPricer, deadline: float | None,
                    max_iterations: int = 1500) -> LagrangianOutcome | None:
    """Subgradient ascent on the assignment rows' multipliers (Polyak steps towards the best plan's cost, halved
    after STALL_ITERATIONS without progress); every PRICE_EVERY steps the knapsack's sites (fractional ones
    opened) are priced by the transport LP and the cheapest plan kept. None when no plan was found."""
    total = float(demand.sum())
    finite = np.where(np.isfinite(alloc), alloc, np.inf)
    u = np.sort(finite, axis=1)[:, min(1, alloc.shape[1] - 1)]
    u = np.where(np.isfinite(u), u, finite.min(axis=1))
    best = LagrangianOutcome(np.zeros(alloc.shape[1], bool), np.inf, np.zeros(alloc.shape), -np.inf, u, u)
    step, stall = 2.0, 0
    for iteration in range(max_iterations):
        v, shares = facility_values(alloc, demand, capacity, fixed_cost, u)
        value, y = knapsack_open(v, capacity, total, must, allowed)
        if not np.isfinite(value):
            return None
        bound = float(u.sum()) + value
        if bound > best.bound + 1e-9 * max(1.0, abs(bound)):
            best.bound, best.u, best.values, stall = bound, u.copy(), v, 0
        else:
            stall += 1
            if stall >= STALL_ITERATIONS:
                step, stall = step / 2.0, 0
        if iteration % PRICE_EVERY == 0:
            cost, plan_shares, kept = pricer.price(y > 0)
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


def site_tests(alloc: np.ndarray, demand: np.ndarray, capacity: np.ndarray | None, fixed_cost: np.ndarray,
               u: np.ndarray, must: np.ndarray, allowed: np.ndarray, plan: np.ndarray,
               cost: float) -> tuple[np.ndarray, np.ndarray]:
    """Sites no plan cheaper than `cost` opens (closed; never one of `plan`'s) and sites every such plan opens
    (opened; only `plan`'s): the Lagrangian bound at u recomputed with each free site forced either way."""
    v, _ = facility_values(alloc, demand, capacity, fixed_cost, u)
    total, base = float(demand.sum()), float(u.sum())
    limit = cost - 1e-9 * max(1.0, abs(cost))
    closed, opened = np.zeros(len(v), bool), np.zeros(len(v), bool)
    for j in np.flatnonzero(allowed & ~must):
        forced_open = must.copy()
        forced_open[j] = True
        if not plan[j] and base + knapsack_open(v, capacity, total, forced_open, allowed)[0] > limit:
            closed[j] = True
        shut = allowed.copy()
        shut[j] = False
        if plan[j] and base + knapsack_open(v, capacity, total, must, shut)[0] > limit:
            opened[j] = True
    return closed, opened
