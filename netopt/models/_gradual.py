"""Gradual coverage: a demand point fully covered within a full radius, less and less out to the radius."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError

# the expanded rows' stored entries: past this, the model would take gigabytes (a site at level k of a demand point
# is in every one of its rows from k on)
GRADUAL_PAIRS_LIMIT = 30_000_000


def covered_share(distance: np.ndarray, full: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """The share of a demand point covered by a site `distance` away: 1 within `full`, falling linearly to 0 at
    `radius` (full = radius: plain coverage, 1 up to the radius)."""
    span = radius - full
    falling = np.divide(radius - distance, span, out=np.zeros_like(distance, dtype=float), where=span > 0)
    return np.where(distance <= full, 1.0, np.clip(falling, 0.0, 1.0))


def best_shares(costs: sp.spmatrix, columns, full: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Each demand point's covered share by the nearest of the sites `columns` of the demand x site `costs` within
    reach (a stored entry, even 0, is a pair; covered_share with each point's `full` radius and `radius`)."""
    pairs = sp.csc_matrix(costs)[:, columns].tocoo()
    best = np.zeros(costs.shape[0])
    np.maximum.at(best, pairs.row, covered_share(pairs.data, full[pairs.row], radius[pairs.row]))
    return best


@dataclass(frozen=True)
class GradualCover:
    """How a gradual-coverage MCLP's rows stand for its demand points. Row r is demand point point_of[r] reached
    within one of its distance levels: the sites that close or closer, weighted by the fall in the point's covered
    share from that level to the next farther one — so the rows a plan covers add up to Σ_i w_i × the covered
    share of i's nearest open site. `reach`: the demand x site distances within the radius (a stored 0 is a
    pair)."""

    point_of: np.ndarray
    labels: list
    weights: np.ndarray
    reach: sp.csr_matrix
    full: np.ndarray
    radius: np.ndarray
    column: str = "distance"

    def columns(self, keep: np.ndarray) -> "GradualCover":
        """The same over the sites `keep` only (the rows stay: a site left out covers no row)."""
        return GradualCover(self.point_of, self.labels, self.weights, sp.csr_matrix(self.reach[:, keep]), self.full,
                            self.radius, self.column)

    def assignment(self, open_sites: np.ndarray, site_labels: list) -> pd.DataFrame:
        """Per demand point: its nearest open site within the radius and how far, how many open sites reach it,
        whether any does, the share of it covered (covered_share: 1 within the full radius) and its weight."""
        from netopt.models.covering import nearest_open

        chosen, distance, count = nearest_open(self.reach, open_sites)
        reached = count > 0
        share = np.zeros(len(self.labels))
        share[reached] = covered_share(distance[reached], self.full[reached], self.radius[reached])
        return pd.DataFrame({"demand": self.labels, "site": [site_labels[j] if j >= 0 else None for j in chosen],
                             "covering_sites": count, "covered": reached, self.column: distance,
                             "covered_share": share, "weight": self.weights})

    def covered(self, assignment: pd.DataFrame) -> dict:
        """The covered weight (Σ weight x covered share), its share of all demand (%), and the share of demand
        fully covered (within the full radius) and reached at all (within the radius), %."""
        total = float(self.weights.sum())
        share = assignment["covered_share"].to_numpy()
        percent = (lambda part: 100.0 * part / total) if total else (lambda part: np.nan)
        covered = float(self.weights @ share)
        return {"covered_weight": covered, "covered_pct": percent(covered),
                "fully_covered_pct": percent(float(self.weights[share >= 1.0].sum())),
                "reached_pct": percent(float(self.weights[assignment["covered"].to_numpy()].sum()))}


def gradual_rows(reach: sp.csr_matrix, weights: np.ndarray, full: np.ndarray,
                 radius: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The rows of gradual coverage (see GradualCover): 0/1 row x site, each row's weight, each row's demand
    point. A demand point no site reaches with a share above 0 keeps one empty row of weight 0."""
    coo = reach.tocoo()
    share = covered_share(coo.data, full[coo.row], radius[coo.row])
    inside = share > 0
    row, col, share = coo.row[inside], coo.col[inside], share[inside]
    order = np.lexsort((col, -share, row))
    row, col, share = row[order], col[order], share[order]
    new_level = np.ones(len(row), bool)
    new_level[1:] = (row[1:] != row[:-1]) | (share[1:] != share[:-1])
    level = np.cumsum(new_level) - 1  # over all points: the level's global number
    n = reach.shape[0]
    levels = np.bincount(row[new_level], minlength=n)
    empty = levels == 0
    rows_of_point = np.where(empty, 1, levels)
    first_row = np.concatenate([[0], np.cumsum(rows_of_point)[:-1]])
    point_of = np.repeat(np.arange(n), rows_of_point)
    first_level = np.concatenate([[0], np.cumsum(levels)[:-1]])  # the point's first level's global number
    rank = level - first_level[row]  # the entry's level within its point, 0 = nearest
    repeats = levels[row] - rank  # in its own level's row and every farther one
    _check_size(int(repeats.sum()))
    entry = np.repeat(np.arange(len(row)), repeats)
    offset = np.arange(len(entry)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    A = sp.csr_matrix((np.ones(len(entry)), (first_row[row[entry]] + rank[entry] + offset, col[entry])),
                      shape=(len(point_of), reach.shape[1]))
    A.sort_indices()
    level_share = share[new_level]
    following = np.append(level_share[1:], 0.0)
    last = np.append(row[new_level][1:] != row[new_level][:-1], True)
    following[last] = 0.0
    row_weights = np.zeros(len(point_of))
    row_weights[np.flatnonzero(~empty[point_of])] = weights[row[new_level]] * (level_share - following)
    return A, row_weights, point_of


def _check_size(entries: int) -> None:
    """An InputError when the rows would hold more than GRADUAL_PAIRS_LIMIT stored entries."""
    if entries > GRADUAL_PAIRS_LIMIT:
        raise InputError(f"gradual coverage would need {entries:,} row-site pairs (at most "
                         f"{GRADUAL_PAIRS_LIMIT:,}): every distinct distance within the radius is a level of its "
                         "demand point; a smaller radius, fewer demand points (towns rather than a fine grid) or "
                         "fewer candidate sites keeps it within reach", file="model")
