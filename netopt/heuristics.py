"""Greedy and interchange heuristics for p-median: warm starts for the exact models and answers for huge instances."""
from __future__ import annotations

import numpy as np


def assignment_cost(cost: np.ndarray, weights: np.ndarray, open_sites: np.ndarray) -> float:
    """Σ weight × distance to the nearest open site."""
    return float(weights @ cost[:, open_sites].min(axis=1))


def greedy_pmedian(cost: np.ndarray, weights: np.ndarray, p: int, fixed: np.ndarray | None = None,
                   allowed: np.ndarray | None = None) -> np.ndarray:
    """Open the fixed sites, then repeatedly the site that lowers the total weighted cost most."""
    n, m = cost.shape
    allowed = np.ones(m, bool) if allowed is None else allowed.copy()
    chosen = list(np.asarray(fixed if fixed is not None else [], int))
    best = cost[:, chosen].min(axis=1) if chosen else np.full(n, np.inf)
    allowed[chosen] = False
    while len(chosen) < p and allowed.any():
        candidates = np.flatnonzero(allowed)
        totals = _totals_with(cost, weights, best, candidates)
        pick = candidates[int(np.argmin(totals))]
        chosen.append(pick)
        best = np.minimum(best, cost[:, pick])
        allowed[pick] = False
    return np.array(sorted(chosen), int)


def _totals_with(cost: np.ndarray, weights: np.ndarray, base: np.ndarray, candidates: np.ndarray,
                 chunk: int = 512) -> np.ndarray:
    """Total weighted cost if each candidate were added to a solution whose per-client costs are `base`."""
    base = np.where(np.isfinite(base), base, np.finfo(float).max / 1e6)
    out = np.empty(len(candidates))
    for start in range(0, len(candidates), chunk):
        block = candidates[start:start + chunk]
        out[start:start + chunk] = weights @ np.minimum(cost[:, block], base[:, None])
    return out


def interchange(cost: np.ndarray, weights: np.ndarray, open_sites: np.ndarray, fixed: np.ndarray | None = None,
                allowed: np.ndarray | None = None, max_rounds: int = 1000) -> tuple[np.ndarray, float]:
    """Teitz–Bart interchange: swap an open site for a closed one while the best swap lowers the cost."""
    m = cost.shape[1]
    allowed = np.ones(m, bool) if allowed is None else allowed
    fixed_set = set(np.asarray(fixed if fixed is not None else [], int).tolist())
    current = np.array(sorted(open_sites), int)
    value = assignment_cost(cost, weights, current)
    for _ in range(max_rounds):
        swap, new_value = _best_swap(cost, weights, current, fixed_set, allowed)
        if swap is None or new_value >= value - 1e-9 * max(1.0, abs(value)):
            break
        out_site, in_site = swap
        current = np.array(sorted(set(current.tolist()) - {out_site} | {in_site}), int)
        value = new_value
    return current, value


def _best_swap(cost: np.ndarray, weights: np.ndarray, current: np.ndarray, fixed: set,
               allowed: np.ndarray) -> tuple[tuple[int, int] | None, float]:
    sub = cost[:, current]
    order = np.argsort(sub, axis=1)
    nearest = current[order[:, 0]]
    d1 = np.take_along_axis(sub, order[:, :1], axis=1)[:, 0]
    d2 = np.take_along_axis(sub, order[:, 1:2], axis=1)[:, 0] if len(current) > 1 else np.full(len(d1), np.inf)
    closed = np.flatnonzero(allowed & ~np.isin(np.arange(cost.shape[1]), current))
    best, best_value = None, np.inf
    if len(closed) == 0:
        return None, best_value
    for site in current:
        if site in fixed:
            continue
        base = np.where(nearest == site, d2, d1)
        totals = _totals_with(cost, weights, base, closed)
        k = int(np.argmin(totals))
        if totals[k] < best_value:
            best, best_value = (int(site), int(closed[k])), float(totals[k])
    return best, best_value


def pmedian_heuristic(cost: np.ndarray, weights: np.ndarray, p: int, fixed: np.ndarray | None = None,
                      allowed: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Greedy start, then interchange: a good p-median solution and its cost."""
    start = greedy_pmedian(cost, weights, p, fixed, allowed)
    return interchange(cost, weights, start, fixed, allowed)
