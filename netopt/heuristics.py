"""Greedy and interchange heuristics for p-median and p-center: warm starts for the exact models and answers for
huge instances."""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp


CANNOT_SERVE = np.finfo(float).max / 1e6  # finite stand-in for an infinite distance: no inf - inf in the sums


BLOCK_CELLS = 5e6  # cells of a demand x site matrix read or priced at a time (~40 MB a temporary of floats)
CACHE_CELLS = 1e6  # cells of a block a loop passes over several times (~8 MB: stays in the processor's cache)


def block_size(length: int, cells: float | None = None) -> int:
    """How many rows (or columns) `length` cells long make one block of about `cells` (BLOCK_CELLS) cells."""
    return max(1, int((BLOCK_CELLS if cells is None else cells) // max(length, 1)))


def row_blocks(rows: int, width: int, cells: float | None = None):
    """Slices of the rows of a matrix `width` wide, about `cells` (BLOCK_CELLS) cells each."""
    step = block_size(width, cells)
    return (slice(start, start + step) for start in range(0, rows, step))


def assignment_cost(cost: np.ndarray, weights: np.ndarray, open_sites: np.ndarray) -> float:
    """Σ weight × distance to the nearest open site."""
    return float(weights @ nearest_sites(cost, open_sites)[1])


def nearest_sites(cost: np.ndarray, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each demand point's nearest of `sites` (its position among them) and the distance to it (inf and -1 with
    no sites), read in blocks of rows: a million grid cells x 500 open sites need no 4 GB temporary."""
    sites = np.asarray(sites, int)
    position, distance = np.full(cost.shape[0], -1), np.full(cost.shape[0], np.inf)
    for rows, block in _site_blocks(cost, sites):
        position[rows] = nearest = block.argmin(axis=1)
        distance[rows] = block[np.arange(len(block)), nearest]
    return position, distance


def two_nearest(cost: np.ndarray, sites: np.ndarray,
                rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each demand point's (of `rows`; default all) nearest of `sites` (one or more: its position among them) and
    nearest distance, then the same of its second nearest (position -1 with one site), distances capped at
    CANNOT_SERVE, in blocks of rows."""
    count = cost.shape[0] if rows is None else len(rows)
    nearest, first = np.zeros(count, int), np.full(count, CANNOT_SERVE)
    runner_up, second = np.full(count, -1), np.full(count, CANNOT_SERVE)
    for part, block in _site_blocks(cost, sites, rows):
        order = np.argpartition(block, min(1, len(sites) - 1), axis=1)[:, :2]
        two = np.minimum(np.take_along_axis(block, order, axis=1), CANNOT_SERVE)
        nearest[part], first[part] = order[:, 0], two[:, 0]
        if len(sites) > 1:
            runner_up[part], second[part] = order[:, 1], two[:, 1]
    return nearest, first, runner_up, second


def nearest_and_next(cost: np.ndarray, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each demand point's nearest of `sites` (its column of `cost`), the distance to it and to the next nearest
    of them (inf where there is none)."""
    sites = np.asarray(sites, int)
    nearest, first, _, second = two_nearest(cost, sites)
    return sites[nearest], np.where(first >= CANNOT_SERVE, np.inf, first), np.where(second >= CANNOT_SERVE, np.inf,
                                                                                    second)


class NearestTwo:
    """A plan's nearest and second-nearest open site (column of `cost`; -1: none) and distance (capped at
    CANNOT_SERVE) of every demand point, to price swaps from; moved to a plan one swap away by measuring again
    only the points whose nearest or second nearest closed (p-center's closures on a 0.25 km grid accept a
    swap after another: measured whole, 1.3 s each)."""

    def __init__(self, cost: np.ndarray, sites: np.ndarray) -> None:
        self.cost, self.sites = cost, np.asarray(sites, int)
        self.nearest, self.first, self.runner_up, self.second = self._measure(None)

    def served_after(self, out: int, into: int) -> np.ndarray:
        """Each point's distance to the nearest open site with `out` closed and `into` opened (inf: none)."""
        served = np.minimum(np.where(self.nearest == out, self.second, self.first), self.cost[:, into])
        served[served >= CANNOT_SERVE] = np.inf
        return served

    def moved_to(self, sites: np.ndarray) -> "NearestTwo":
        """The same for the plan `sites`: this one as it is for the same plan, updated when `sites` is one swap
        away, else measured whole."""
        out, into = np.setdiff1d(self.sites, sites), np.setdiff1d(sites, self.sites)
        if not len(out) and not len(into):
            return self
        if len(out) != 1 or len(into) != 1:
            return NearestTwo(self.cost, sites)
        self.sites = np.asarray(sites, int)
        lost = np.flatnonzero((self.nearest == out[0]) | (self.runner_up == out[0]))
        distance = np.minimum(self.cost[:, into[0]], CANNOT_SERVE)
        first, second = distance < self.first, (distance >= self.first) & (distance < self.second)
        self.runner_up[first], self.second[first] = self.nearest[first], self.first[first]
        self.nearest[first], self.first[first] = into[0], distance[first]
        self.runner_up[second], self.second[second] = into[0], distance[second]
        if len(lost):
            self.nearest[lost], self.first[lost], self.runner_up[lost], self.second[lost] = self._measure(lost)
        return self

    def _measure(self, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        nearest, first, runner_up, second = two_nearest(self.cost, self.sites, rows)
        return self.sites[nearest], first, np.where(runner_up >= 0, self.sites[runner_up], -1), second


def _site_blocks(cost: np.ndarray, sites: np.ndarray, rows: np.ndarray | None = None):
    """(part, cost[rows[part], sites]) for blocks `part` of `rows` (default: every row) of about BLOCK_CELLS
    cells; none without sites."""
    if len(sites) == 0:
        return
    for part in row_blocks(cost.shape[0] if rows is None else len(rows), len(sites)):
        yield part, cost[part, sites] if rows is None else cost[np.ix_(rows[part], sites)]


def greedy_pmedian(cost: np.ndarray, weights: np.ndarray, p: int, fixed: np.ndarray | None = None,
                   allowed: np.ndarray | None = None, conflicts: sp.spmatrix | None = None) -> np.ndarray:
    """Open the fixed sites, then repeatedly the site that lowers the total weighted cost most; with
    `conflicts` (site x site 0/1, e.g. SiteRules.conflicts()), none too close to an open site. A point no open
    site serves yet counts at the largest finite distance. Lazy (Minoux's accelerated greedy, `_largest_saving`):
    the same choices as pricing every site at every step, at a fraction of the work for large p."""
    n, m = cost.shape
    allowed = np.ones(m, bool) if allowed is None else allowed.copy()
    chosen = list(np.asarray(fixed if fixed is not None else [], int))
    best = np.minimum(nearest_sites(cost, chosen)[1], largest_finite(cost))
    allowed[chosen] = False
    conflicts = sp.csr_matrix((m, m)) if conflicts is None else sp.csr_matrix(conflicts)
    allowed &= conflicts @ np.isin(np.arange(m), chosen).astype(float) == 0
    saving = np.full(m, np.inf)  # each site's saving when last priced: a bound on its saving now
    while len(chosen) < p and allowed.any():
        pick = _largest_saving(cost, weights, best, saving, allowed)
        chosen.append(pick)
        best = np.minimum(best, cost[:, pick])
        allowed[pick] = False
        allowed[conflicts[pick].indices] = False
    return np.array(sorted(chosen), int)


def _largest_saving(cost: np.ndarray, weights: np.ndarray, best: np.ndarray, saving: np.ndarray,
                    allowed: np.ndarray) -> int:
    """The allowed site whose opening lowers Σ w_i min(best_i, d_ij) the most. A site's saving only falls as
    sites open (submodularity), so the savings priced at earlier steps bound today's: sites are priced (and
    `saving` updated) a block at a time in falling order of those bounds, until the best priced saving beats
    every bound left, or ties with bounds of later sites only (p = 300 of 618 sites on 55,000 grid cells: 56 s →
    4 s)."""
    priced, block = np.zeros(len(saving), bool), 4
    while True:
        unpriced = np.flatnonzero(allowed & ~priced)
        top = unpriced[np.argsort(-saving[unpriced], kind="stable")[:block]]
        block = min(2 * block, _columns_per_block(cost.shape[0]))  # few sites are usually enough
        saving[top] = weights @ np.maximum(best[:, None] - cost[:, top], 0.0)
        priced[top] = True
        candidates = np.flatnonzero(allowed & priced)
        pick = int(candidates[np.argmax(saving[candidates])])
        left = allowed & ~priced
        rival = saving[left].max(initial=-np.inf)
        if saving[pick] > rival or (saving[pick] == rival and pick < np.flatnonzero(left & (saving == rival))[0]):
            return pick  # a tie goes to the lowest position, as when every site is priced (e.g. savings of 0)


# rule rows a plan must meet: (coefficients: rows x sites, lower bounds, upper bounds), e.g. SiteRules.row_matrix()
RuleRows = tuple[sp.spmatrix, np.ndarray, np.ndarray]


def interchange(cost: np.ndarray, weights: np.ndarray, open_sites: np.ndarray, fixed: np.ndarray | None = None,
                allowed: np.ndarray | None = None, max_rounds: int = 1000, rule_rows: RuleRows | None = None,
                deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Teitz–Bart interchange: swap an open site for a closed one while the best swap lowers the cost; with
    `rule_rows`, only swaps whose plan meets them (from a plan that does, e.g. today's branches under a limit on
    new ones). Stops at `deadline` (time.perf_counter()) with the plan reached."""
    m = cost.shape[1]
    allowed = np.ones(m, bool) if allowed is None else allowed
    fixed_set = set(np.asarray(fixed if fixed is not None else [], int).tolist())
    current = np.array(sorted(open_sites), int)
    value = assignment_cost(cost, weights, current)
    for _ in range(max_rounds):
        if past(deadline):
            break
        swap, new_value = _best_swap(cost, weights, current, fixed_set, allowed, rule_rows)
        if swap is None or new_value >= value - 1e-9 * max(1.0, abs(value)):
            break
        out_site, in_site = swap
        current = np.array(sorted(set(current.tolist()) - {out_site} | {in_site}), int)
        value = new_value
    return current, value


def perturbed_interchange(cost: np.ndarray, weights: np.ndarray, start: np.ndarray, fixed: np.ndarray | None = None,
                          allowed: np.ndarray | None = None, stall: int = 20, seed: int = 0,
                          deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Interchange from shaken plans (variable neighbourhood search): replace k = 1, 2, 3, 1, … random open sites
    (never fixed ones) by random allowed closed ones, run interchange, keep the result when it is cheaper (k back
    to 1); stop after `stall` shakes in a row without gain, or at `deadline` (time.perf_counter()). Leaves
    interchange's local optima that one swap cannot. Seeded: the same plan every run (without a deadline)."""
    m = cost.shape[1]
    allowed = np.ones(m, bool) if allowed is None else allowed
    fixed = np.asarray(fixed if fixed is not None else [], int)
    rng = np.random.default_rng(seed)
    best = np.array(sorted(start), int)
    value, failures, k = assignment_cost(cost, weights, best), 0, 1
    while failures < stall and not past(deadline):
        movable, closed = np.setdiff1d(best, fixed), np.flatnonzero(allowed & ~np.isin(np.arange(m), best))
        k = min(k, len(movable), len(closed))
        if k == 0:
            break
        shaken = np.union1d(np.setdiff1d(best, rng.choice(movable, k, replace=False)),
                            rng.choice(closed, k, replace=False))
        plan, plan_value = interchange(cost, weights, shaken, fixed, allowed)
        if plan_value < value - 1e-9 * max(1.0, abs(value)):
            best, value, failures, k = plan, plan_value, 0, 1
        else:
            failures, k = failures + 1, k % 3 + 1
    return best, value


def _best_swap(cost: np.ndarray, weights: np.ndarray, current: np.ndarray, fixed: set,
               allowed: np.ndarray, rule_rows: RuleRows | None = None) -> tuple[tuple[int, int] | None, float]:
    """The swap (an open site out, a closed one in) giving the cheapest plan, and that plan's cost; (None, inf)
    when there is none. All swaps are priced at once (Whitaker's fast interchange): with d1, d2 each point's
    nearest and second-nearest open distances, opening s makes the plan cost Σ_i w_i min(d1_i, d_is), and
    closing r then adds Σ over the points r serves of w_i (min(d2_i, d_is) − min(d1_i, d_is)): one pass over
    the cost matrix a round, not one per open site."""
    n = cost.shape[0]
    closed = np.flatnonzero(allowed & ~np.isin(np.arange(cost.shape[1]), current))
    movable = np.array([k for k, site in enumerate(current) if int(site) not in fixed], int)
    if len(closed) == 0 or len(movable) == 0:
        return None, np.inf
    nearest, d1, _, d2 = two_nearest(cost, current)
    served_by = sp.csr_matrix((weights, (nearest, np.arange(n))), shape=(len(current), n))
    totals = np.empty((len(current), len(closed)))
    chunk = _columns_per_block(n)
    for first in range(0, len(closed), chunk):
        block = np.minimum(cost[:, closed[first:first + chunk]], CANNOT_SERVE)
        with_d1 = np.minimum(block, d1[:, None])
        totals[:, first:first + chunk] = weights @ with_d1 + served_by @ (np.minimum(block, d2[:, None]) - with_d1)
    totals = totals[movable]
    if rule_rows is not None:
        for row, k in enumerate(movable):
            totals[row, ~swaps_meeting(rule_rows, current, current[k], closed)] = np.inf
    out_row, in_column = divmod(int(np.argmin(totals)), len(closed))
    if not np.isfinite(totals[out_row, in_column]):
        return None, np.inf
    return (int(current[movable[out_row]]), int(closed[in_column])), float(totals[out_row, in_column])


def _columns_per_block(n: int) -> int:
    """Candidate columns priced at a time over n demand points: 16 to 512, about BLOCK_CELLS cells."""
    return max(16, min(512, block_size(n)))


def swaps_meeting(rule_rows: RuleRows, current: np.ndarray, out_site: int, closed: np.ndarray) -> np.ndarray:
    """For each closed site: whether the plan `current` with `out_site` swapped for it meets the rule rows (a
    sparse matrix: only the rows a closed site touches, and those the swap leaves broken, are looked at)."""
    matrix, lo, hi = rule_rows
    matrix = sp.csc_matrix(matrix)
    kept = np.zeros(matrix.shape[1])
    kept[current] = 1.0
    kept[out_site] = 0.0
    base = matrix @ kept
    slack = 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, 0.0)))

    def within(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return (values >= lo[rows] - slack[rows]) & (values <= hi[rows] + slack[rows])
    touched = matrix[:, closed].tocoo()
    ok = np.ones(len(closed), bool)
    ok[touched.col[~within(base[touched.row] + touched.data, touched.row)]] = False
    broken = np.flatnonzero(~within(base, np.arange(len(base))))
    if len(broken):
        after = base[broken][:, None] + matrix[broken][:, closed].toarray()
        ok &= within(after, broken[:, None]).all(axis=0)
    return ok


def pmedian_heuristic(cost: np.ndarray, weights: np.ndarray, p: int, fixed: np.ndarray | None = None,
                      allowed: np.ndarray | None = None, deadline: float | None = None) -> tuple[np.ndarray, float]:
    """Greedy start, then interchange (until `deadline`, time.perf_counter()): a good p-median solution and its
    cost."""
    start = greedy_pmedian(cost, weights, p, fixed, allowed)
    return interchange(cost, weights, start, fixed, allowed, deadline=deadline)


def largest_finite(values: np.ndarray) -> float:
    """The largest finite entry (0 when there is none)."""
    return float(np.max(values, where=np.isfinite(values), initial=0.0))


def past(deadline: float | None) -> bool:
    """Whether time.perf_counter() has passed `deadline` (never when None)."""
    return deadline is not None and time.perf_counter() > deadline


CENTER_SWAP_WORK = 2e9  # p x n x m above this: one round of p-center swaps would take seconds; skip them
CENTER_RESTART_WORK = 1e8  # random restarts of the p-center swaps while p x n x m x restarts stays below this
CENTER_MAX_RESTARTS = 8


def pcenter_heuristic(cost: np.ndarray, start: np.ndarray, fixed: np.ndarray | None = None,
                      allowed: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """p-center sites: swaps from `start` and from a few random starts (seeded: the same answer every run),
    the best by (largest distance, points at it). The random starts keep the fixed sites."""
    n, m = cost.shape
    fixed = np.asarray(fixed if fixed is not None else [], int)
    allowed = np.ones(m, bool) if allowed is None else allowed
    best = center_interchange(cost, start, fixed, allowed)
    best_score = _radius_score(nearest_sites(cost, best)[1])
    free = np.flatnonzero(allowed & ~np.isin(np.arange(m), fixed))
    restarts = min(CENTER_MAX_RESTARTS, int(CENTER_RESTART_WORK // max(1, len(start) * n * m)))
    rng = np.random.default_rng(seed)
    for _ in range(restarts if len(free) >= len(start) - len(fixed) else 0):
        begin = np.concatenate([fixed, rng.choice(free, len(start) - len(fixed), replace=False)])
        sites = center_interchange(cost, begin, fixed, allowed)
        score = _radius_score(nearest_sites(cost, sites)[1])
        if score < best_score:
            best, best_score = sites, score
    return best


def center_interchange(cost: np.ndarray, sites: np.ndarray, fixed: np.ndarray | None = None,
                       allowed: np.ndarray | None = None, max_rounds: int = 50) -> np.ndarray:
    """Improve p-center sites by swaps: each open site (not fixed) is replaced by the allowed closed site that
    lowers (largest distance, number of demand points at it) the most. Counting the points at the largest
    distance lets the search cross plateaus of equal radius. Returns the improved sites, sorted."""
    n, m = cost.shape
    sites = np.array(sites, int)
    if len(sites) * n * m > CENTER_SWAP_WORK:
        return np.sort(sites)
    allowed = np.ones(m, bool) if allowed is None else allowed
    movable = ~np.isin(sites, np.asarray(fixed if fixed is not None else [], int))
    best = _radius_score(cost[:, sites].min(axis=1))
    for _ in range(max_rounds):
        improved = False
        for k in np.flatnonzero(movable):
            outside = np.flatnonzero(allowed & ~np.isin(np.arange(m), sites))
            if len(outside) == 0:
                return np.sort(sites)
            rest = np.delete(cost[:, sites], k, axis=1).min(axis=1, initial=np.inf)
            served = np.minimum(rest[:, None], cost[:, outside])
            worst = served.max(axis=0)
            at_worst = (served >= worst - 1e-9).sum(axis=0)
            pick = np.lexsort((at_worst, worst))[0]
            if (worst[pick], at_worst[pick]) < best:
                sites[k], best, improved = outside[pick], (float(worst[pick]), int(at_worst[pick])), True
        if not improved:
            break
    return np.sort(sites)


def _radius_score(distance: np.ndarray) -> tuple[float, int]:
    worst = float(distance.max())
    return worst, int((distance >= worst - 1e-9).sum())
