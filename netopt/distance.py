"""Distances between demand points and sites: nearest site and sparse pairs within a cutoff (KD-tree)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree


def nearest_site(demand_xy: np.ndarray, site_xy: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distance (metres) to and index of the nearest `k` sites for every demand point."""
    if len(site_xy) == 0:
        shape = (len(demand_xy),) if k == 1 else (len(demand_xy), k)
        return np.full(shape, np.inf), np.full(shape, -1)
    dist, idx = cKDTree(site_xy).query(demand_xy, k=min(k, len(site_xy)))
    return np.asarray(dist, float), np.asarray(idx, int)


def pairs_within(demand_xy: np.ndarray, site_xy: np.ndarray, cutoff_m: float) -> sp.csr_matrix:
    """Sparse demand x site matrix of straight-line distances (metres) for pairs within `cutoff_m`.

    Every stored entry is a pair within the cutoff; a distance of exactly 0 is kept as an explicit zero,
    so use `.nnz`/`.indices` (not `!= 0`) to test whether a pair is within reach.
    """
    shape = (len(demand_xy), len(site_xy))
    if shape[0] == 0 or shape[1] == 0:
        return sp.csr_matrix(shape)
    pairs = cKDTree(demand_xy).sparse_distance_matrix(cKDTree(site_xy), cutoff_m, output_type="ndarray")
    matrix = sp.coo_matrix((pairs["v"], (pairs["i"], pairs["j"])), shape=shape).tocsr()
    matrix.sort_indices()
    return matrix
