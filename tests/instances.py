"""Random test instances shared by the model and heuristic tests."""
from __future__ import annotations

import numpy as np


def euclidean_pmedian(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """n demand points and m sites uniform in a 50 x 50 square: rounded distances, weights 1-8, and the
    generator (for the test's further draws: p, a start)."""
    rng = np.random.default_rng(seed)
    demand, sites = rng.uniform(0, 50, (n, 2)), rng.uniform(0, 50, (m, 2))
    cost = np.hypot(demand[:, None, 0] - sites[None, :, 0], demand[:, None, 1] - sites[None, :, 1]).round()
    return cost, rng.integers(1, 9, n).astype(float), rng
