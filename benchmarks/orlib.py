"""Readers for the OR-Library p-median, capacitated-location and set-covering formats and the Swain data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path


def _numbers(path: Path) -> list[str]:
    return Path(path).read_text().split()


def read_pmed(path: Path) -> tuple[np.ndarray, int]:
    """OR-Library pmed: 'n edges p', then 'i j cost' (1-based, undirected; the last duplicate counts).

    Returns the all-pairs shortest-path matrix and p.
    """
    tokens = _numbers(path)
    n, n_edges, p = map(int, tokens[:3])
    edges = np.array(tokens[3:3 + 3 * n_edges], float).reshape(n_edges, 3)
    last: dict[tuple[int, int], float] = {}
    for i, j, cost in edges:
        a, b = int(i) - 1, int(j) - 1
        last[(min(a, b), max(a, b))] = cost
    rows = np.array([k[0] for k in last]), np.array([k[1] for k in last])
    graph = sp.csr_matrix((np.array(list(last.values())), rows), shape=(n, n))
    return shortest_path(graph, directed=False), p


def read_cap(path: Path, capacity: float | None = None) -> dict:
    """OR-Library cap: 'm n', m lines 'capacity fixed_cost', then per customer: demand and m allocation costs
    (the cost of serving all of its demand from each facility). A capacity written as the word 'capacity'
    must be given by the caller."""
    tokens = _numbers(path)
    m, n = int(tokens[0]), int(tokens[1])
    pos = 2
    caps, fixed = [], []
    for _ in range(m):
        raw = tokens[pos]
        caps.append(capacity if raw.lower() == "capacity" else float(raw))
        fixed.append(float(tokens[pos + 1]))
        pos += 2
    demand, costs = [], []
    for _ in range(n):
        demand.append(float(tokens[pos]))
        costs.append([float(t) for t in tokens[pos + 1:pos + 1 + m]])
        pos += 1 + m
    return {"capacity": np.array(caps, float), "fixed_cost": np.array(fixed), "demand": np.array(demand),
            "allocation_cost": np.array(costs)}


def read_scp(path: Path) -> tuple[sp.csr_matrix, np.ndarray]:
    """OR-Library scp: 'rows cols', the cost of every column, then per row: count and its columns (1-based)."""
    tokens = _numbers(path)
    rows, cols = int(tokens[0]), int(tokens[1])
    cost = np.array(tokens[2:2 + cols], float)
    pos = 2 + cols
    r, c = [], []
    for i in range(rows):
        k = int(tokens[pos])
        members = [int(t) - 1 for t in tokens[pos + 1:pos + 1 + k]]
        r += [i] * k
        c += members
        pos += 1 + k
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(rows, cols)), cost


def read_swain(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Swain's 55-node data: first line 55, then 'id x y demand'. Returns (xy, demand)."""
    tokens = _numbers(path)
    n = int(tokens[0])
    table = np.array(tokens[1:1 + 4 * n], float).reshape(n, 4)
    return table[:, 1:3], table[:, 3]


def random_orlib_pmed(n: int, seed: int = 0) -> np.ndarray:
    """An instance generated the way Beasley describes the OR-Library p-median graphs: n vertices, n²/50
    edges (a random spanning path plus random pairs) with integer costs uniform in 1..100; returns the
    all-pairs shortest-path matrix."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    pairs = np.vstack([np.column_stack([perm[:-1], perm[1:]]), rng.integers(0, n, (n * n // 50 - (n - 1), 2))])
    costs = rng.integers(1, 101, len(pairs)).astype(float)
    last: dict[tuple[int, int], float] = {}
    for (a, b), c in zip(pairs, costs):
        if a != b:
            last[(min(a, b), max(a, b))] = c
    rows = np.array([k[0] for k in last]), np.array([k[1] for k in last])
    graph = sp.csr_matrix((np.array(list(last.values())), rows), shape=(n, n))
    return shortest_path(graph, directed=False)
