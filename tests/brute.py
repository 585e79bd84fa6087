"""Brute-force optima of tiny location problems, for checking the exact models."""
from __future__ import annotations

from itertools import combinations

import numpy as np


def feasible_sets(m: int, sizes, fixed=(), forbidden=(), county=None, county_min=None, open_cost=None,
                  budget=None, existing=(), closable=(), saving=None, max_new=None, county_max=None, too_close=(),
                  must_reach=None):
    """Every set of open sites of the given sizes that honours the site rules (too_close: pairs that may not
    both be open unless both are existing sites; must_reach: 0/1 rows each needing an open site)."""
    must = set(fixed) | (set(existing) - set(closable))
    apart = [(a, b) for a, b in (too_close if too_close is not None else ()) if a != b and not {a, b} <= set(existing)]
    for k in sizes:
        for combo in combinations(range(m), k):
            chosen = set(combo)
            if not must <= chosen or chosen & set(forbidden):
                continue
            if max_new is not None and len(chosen - set(existing)) > max_new:
                continue
            if any(a in chosen and b in chosen for a, b in apart):
                continue
            if must_reach is not None and (np.asarray(must_reach)[:, sorted(chosen)].sum(axis=1) < 1).any():
                continue
            if county_min and any(sum(1 for j in chosen if county[j] == c) < v for c, v in county_min.items()):
                continue
            if county_max and any(sum(1 for j in chosen if county[j] == c) > v for c, v in county_max.items()):
                continue
            if budget is not None:
                spend = sum(open_cost[j] for j in chosen if j not in existing)
                spend -= sum(saving[j] for j in closable if j not in chosen) if saving is not None else 0.0
                if spend > budget + 1e-9:
                    continue
            yield np.array(sorted(chosen), int)


def pmedian(cost, weights, p, at_most=False, **rules):
    best = None
    for sites in feasible_sets(cost.shape[1], range(1, p + 1) if at_most else [p], **rules):
        value = float(weights @ cost[:, sites].min(axis=1))
        if np.isfinite(value) and (best is None or value < best - 1e-9):
            best = value
    return best


def lscp(A, cost, **rules):
    """Cheapest cover of every row (None if impossible)."""
    best = None
    for sites in feasible_sets(A.shape[1], range(0, A.shape[1] + 1), **rules):
        if len(sites) and A[:, sites].any(axis=1).all():
            value = float(cost[sites].sum())
            best = value if best is None or value < best else best
    return best


def partial_cover(A, cost, weights, share, **rules):
    """Cheapest set of sites covering at least `share` of the weight (None if impossible)."""
    best = None
    for sites in feasible_sets(A.shape[1], range(0, A.shape[1] + 1), **rules):
        if float(weights[A[:, sites].any(axis=1)].sum()) >= share * float(weights.sum()) - 1e-9:
            value = float(cost[sites].sum())
            best = value if best is None or value < best else best
    return best


def mclp(A, weights, p, backup_weight=0.0, at_most=False, **rules):
    best = None
    for sites in feasible_sets(A.shape[1], range(p + 1) if at_most else [p], **rules):
        count = A[:, sites].sum(axis=1)
        value = float(weights @ (count >= 1)) + backup_weight * float(weights @ (count >= 2))
        best = value if best is None or value > best else best
    return best


def gradual_share(cost, full, radius):
    """Gradual coverage's covered share of each demand point (row) at each distance: 1 within its full radius,
    falling linearly to 0 at its radius, 0 beyond (written out case by case, not as the model computes it)."""
    share = np.zeros(cost.shape)
    for i, j in np.ndindex(*cost.shape):
        if cost[i, j] <= full[i]:
            share[i, j] = 1.0
        elif cost[i, j] <= radius[i]:
            share[i, j] = (radius[i] - cost[i, j]) / (radius[i] - full[i])
    return share


def gradual_mclp(cost, weights, p, full, radius, at_most=False, **rules):
    """The most Σ weight x covered share of the nearest open site (gradual coverage), over every plan."""
    share = gradual_share(cost, full, radius)
    values = [float(weights @ share[:, sites].max(axis=1, initial=0.0))
              for sites in feasible_sets(cost.shape[1], range(p + 1) if at_most else [p], **rules)]
    return max(values, default=None)


def pcenter(cost, p, weights=None, **rules):
    best = None
    for sites in feasible_sets(cost.shape[1], range(1, p + 1), **rules):
        nearest = cost[:, sites].min(axis=1)
        with np.errstate(invalid="ignore"):  # weight 0 x inf: a point that never matters
            value = float(nearest.max() if weights is None else (weights * nearest)[weights > 0].max(initial=0.0))
        if np.isfinite(value):
            best = value if best is None or value < best else best
    return best


def pdispersion(distance, p, **rules):
    """The largest smallest distance (the shorter direction of each pair) among p open sites, pairs of two sites
    that must stay open aside (inf when none is left); None if no plan."""
    pair = np.minimum(distance, distance.T)
    must = set(rules.get("fixed", ())) | (set(rules.get("existing", ())) - set(rules.get("closable", ())))
    best = None
    for sites in feasible_sets(pair.shape[0], [p], **rules):
        value = min((float(pair[a, b]) for a, b in combinations(sites, 2) if not {a, b} <= must), default=np.inf)
        best = value if best is None or value > best else best
    return best


def cflp(unit_cost, demand, capacity, fixed, single_source, **rules):
    """Cheapest open set + assignment: enumeration of single-source assignments, or an LP per open set."""
    from itertools import product

    from scipy.optimize import linprog

    n, m = unit_cost.shape
    best = None
    for sites in feasible_sets(m, range(1, m + 1), **rules):
        opening = float(fixed[sites].sum())
        if capacity is None:
            value = opening + float((demand * unit_cost[:, sites].min(axis=1)).sum())
        elif single_source:
            value = None
            for choice in product(sites, repeat=n):
                load = np.bincount(choice, weights=demand, minlength=m)
                if (load <= capacity + 1e-9).all():
                    v = opening + float(sum(demand[i] * unit_cost[i, j] for i, j in enumerate(choice)))
                    value = v if value is None or v < value else value
            if value is None:
                continue
        else:
            k = len(sites)
            c = (unit_cost[:, sites] * demand[:, None]).ravel()
            a_eq = np.kron(np.eye(n), np.ones(k))
            a_ub = np.zeros((k, n * k))
            for i in range(n):
                for t in range(k):
                    a_ub[t, i * k + t] = demand[i]
            res = linprog(c, A_ub=a_ub, b_ub=capacity[sites], A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1))
            if res.status != 0:
                continue
            value = opening + float(res.fun)
        best = value if best is None or value < best else best
    return best


def capacitated_cover(A, weights, capacity, p, single_source=False, **rules):
    """Most weight served within capacities by p covering sites: each served point's covering open site (or
    none) enumerated when single-source, else an LP per open set."""
    values = capacitated_cover_plans(A, weights, capacity, p, single_source, **rules)
    return max(values.values()) if values else None


def capacitated_cover_plans(A, weights, capacity, p, single_source=False, **rules):
    """{open set (tuple): most weight it serves within capacities} for every feasible open set."""
    from itertools import product

    from scipy.optimize import linprog

    n, m = A.shape
    values = {}
    for sites in feasible_sets(m, [p], **rules):
        pairs = [(i, j) for i in range(n) for j in sites if A[i, j]]
        if single_source:
            value = 0.0
            for choice in product(*[[None] + [j for j in sites if A[i, j]] for i in range(n)]):
                load = np.zeros(m)
                for i, j in enumerate(choice):
                    if j is not None:
                        load[j] += weights[i]
                if (load <= capacity + 1e-9).all():
                    value = max(value, float(sum(weights[i] for i, j in enumerate(choice) if j is not None)))
        elif pairs:
            a_ub = np.zeros((n + m, len(pairs)))
            for e, (i, j) in enumerate(pairs):
                a_ub[i, e], a_ub[n + j, e] = 1.0, weights[i]
            res = linprog(-np.array([weights[i] for i, _ in pairs]), A_ub=a_ub,
                          b_ub=np.concatenate([np.ones(n), capacity]), bounds=(0, 1))
            value = -float(res.fun)
        else:
            value = 0.0
        values[tuple(sites)] = value
    return values


def most_kept(values: dict, existing, tolerance: float = 1e-9) -> int:
    """Among the best plans of {open set: value} (a maximum, within `tolerance`), the most existing sites open."""
    best = max(values.values())
    return max(len(set(sites) & set(existing)) for sites, value in values.items() if value >= best - tolerance)


def kept(selected, existing) -> int:
    """How many of the `existing` site positions a result's selected labels ("s0", "s1", …) keep open."""
    return len({int(label[1:]) for label in selected} & set(existing))


def share_best(model, p: int) -> float:
    """The most residents a MarketShare model's plans of 1 … p sites win."""
    m = model.ours.shape[1]
    return max(model.captured(np.array(c, int)) for k in range(1, p + 1) for c in combinations(range(m), k))


def share_fewest(model, target: float) -> int | None:
    """The fewest sites winning `target` (a share) of a MarketShare model's residents (None if none do)."""
    m = model.ours.shape[1]
    for k in range(1, m + 1):
        if any(model.captured(np.array(c, int)) >= target * model.weights.sum() - 1e-6
               for c in combinations(range(m), k)):
            return k
    return None
