"""Each demand point to one site within the sites' capacities, at the least total cost: an exact LP."""
from __future__ import annotations

import numpy as np

from netopt.heuristics import row_blocks

NEAREST_FIRST = 20  # pairs each demand point starts with: its nearest sites
PRICED_PER_ROUND = 5  # pairs each demand point may gain a round: those whose reduced costs are most negative


def assign_within_capacity(cost: np.ndarray, capacity: np.ndarray) -> np.ndarray | None:
    """The site (column) of each demand point (row) at the least total cost, no site taking more points than its
    capacity, a point never sent where its cost is inf; None where no such assignment exists.

    With one unit of demand per point this transportation problem's LP has integral vertices, so HiGHS's simplex
    solves it exactly: over each point's nearest sites and a greedy assignment's pairs first (so the first LP
    already serves every point it can), then with the pairs the duals price below zero added until none is. Each point may also stay unassigned at a cost above any assignment's, which keeps
    every LP feasible and, still used at the end, proves that no assignment exists."""
    import highspy

    from netopt.models._milp import _quiet_highs

    n, m = cost.shape
    finite = np.isfinite(cost)
    if n == 0 or not finite.any(axis=1).all() or capacity.sum() < n:
        return None
    highs = _quiet_highs(highspy)
    highs.setOptionValue("solver", "simplex")
    highs.addRows(n + m, np.r_[np.ones(n), np.zeros(m)], np.r_[np.ones(n), capacity.astype(float)], 0,
                  np.zeros(n + m, np.int32), np.zeros(0, np.int32), np.zeros(0))
    unassigned = (float(cost[finite].max()) + 1.0) * (n + 1)
    _add_pairs(highs, np.arange(n), np.full(n, -1), np.full(n, unassigned), n)
    pairs = [np.empty(0, int), np.empty(0, int)]
    taken = np.zeros((n, m), bool)
    rows, cols = _nearest_pairs(cost, finite)
    greedy = _greedy_pairs(cost, capacity)
    rows, cols = np.divmod(np.unique(np.r_[rows * m + cols, greedy[0] * m + greedy[1]]), m)
    while len(rows):
        taken[rows, cols] = True
        _add_pairs(highs, rows, cols, cost[rows, cols], n)
        pairs = [np.r_[pairs[0], rows], np.r_[pairs[1], cols]]
        highs.run()
        duals = np.asarray(highs.getSolution().row_dual)
        rows, cols = _priced_pairs(cost, finite & ~taken, duals[:n], duals[n:])
    chosen = np.asarray(highs.getSolution().col_value)
    if (chosen[:n] > 0.5).any():
        return None
    site = np.full(n, -1)
    used = chosen[n:] > 0.5
    site[pairs[0][used]] = pairs[1][used]
    return site


def _add_pairs(highs, rows: np.ndarray, cols: np.ndarray, costs: np.ndarray, n: int) -> None:
    """A column per pair: in its point's row and, unless its site is -1 (unassigned), its site's row."""
    real = cols >= 0
    counts = 1 + real.astype(int)
    starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int32)
    index = np.empty(int(counts.sum()), np.int32)
    index[starts] = rows
    index[starts[real] + 1] = n + cols[real]
    highs.addCols(len(rows), costs.astype(float), np.zeros(len(rows)), np.ones(len(rows)), len(index), starts,
                  index, np.ones(len(index)))


def _nearest_pairs(cost: np.ndarray, finite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point with its NEAREST_FIRST nearest sites within a finite cost."""
    k = min(NEAREST_FIRST, cost.shape[1])
    nearest = np.argpartition(cost, k - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(cost.shape[0]), k)
    cols = nearest.ravel()
    keep = finite[rows, cols]
    return rows[keep], cols[keep]


def _greedy_pairs(cost: np.ndarray, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point, nearest-first, with the nearest site that still has room within a finite cost (a point with
    none is left out)."""
    room = capacity.astype(int).copy()
    order = np.argsort(cost, axis=1, kind="stable")
    rows, cols = [], []
    for point in np.argsort(cost.min(axis=1), kind="stable"):
        for site in order[point]:
            if not np.isfinite(cost[point, site]):
                break
            if room[site] > 0:
                room[site] -= 1
                rows.append(point)
                cols.append(site)
                break
    return np.asarray(rows, int), np.asarray(cols, int)


def _priced_pairs(cost: np.ndarray, open_pairs: np.ndarray, point_dual: np.ndarray,
                  site_dual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of the pairs not yet in the LP, each point's PRICED_PER_ROUND of most negative reduced cost (cost less
    its point's and its site's duals), a block of rows at a time."""
    found_rows, found_cols = [], []
    for block in row_blocks(*cost.shape):
        reduced = cost[block] - point_dual[block, None] - site_dual[None, :]
        reduced = np.where(open_pairs[block], reduced, np.inf)
        k = min(PRICED_PER_ROUND, cost.shape[1])
        best = np.argpartition(reduced, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(reduced, best, axis=1)
        rows, ranks = np.nonzero(values < -1e-6)  # minutes or km: a millionth is no gain
        found_rows.append(rows + block.start)
        found_cols.append(best[rows, ranks])
    return np.concatenate(found_rows), np.concatenate(found_cols)
