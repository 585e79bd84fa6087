"""Readers for the OR-Library p-median, capacitated-location and set-covering formats and the Swain data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path


class OrlibFormatError(ValueError):
    """A file that does not follow its OR-Library format (truncated, or a word where a number belongs)."""


class _Tokens:
    """The whitespace-separated tokens of a file, read in order, with the line of each for error messages."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            lines = self.path.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise OrlibFormatError(f"{self.path}: cannot read it ({exc})") from None
        self.words = [word for line in lines for word in line.split()]
        self.lines = np.repeat(np.arange(1, len(lines) + 1), [len(line.split()) for line in lines])
        self.pos = 0

    def words_for(self, count: int, what: str) -> list[str]:
        """The next `count` words; a file that ends first is reported as truncated."""
        if self.pos + count > len(self.words):
            raise OrlibFormatError(
                f"{self.path}: the file ends at line {self.lines[-1] if len(self.lines) else 0} while reading "
                f"{what} ({count} values expected, {len(self.words) - self.pos} left): it is truncated or not "
                "in this format")
        start, self.pos = self.pos, self.pos + count
        return self.words[start:self.pos]

    def numbers(self, count: int, what: str) -> np.ndarray:
        """The next `count` words as numbers; a word that is not one is reported with its line."""
        start = self.pos
        words = self.words_for(count, what)
        try:
            return np.array(words, float)
        except ValueError:
            bad = next(i for i, w in enumerate(words) if not _is_number(w))
            raise OrlibFormatError(f"{self.path}, line {self.lines[start + bad]}: '{words[bad]}' is not a number "
                                   f"(reading {what})") from None

    def integers(self, count: int, what: str) -> list[int]:
        values = self.numbers(count, what)
        if not np.all(values == np.round(values)):
            raise OrlibFormatError(f"{self.path}, line {self.lines[self.pos - count]}: {what} must be whole numbers")
        return [int(v) for v in values]


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _check_index(tokens: _Tokens, values: np.ndarray, upper: int, what: str) -> None:
    if len(values) and (values.min() < 1 or values.max() > upper):
        raise OrlibFormatError(f"{tokens.path}: {what} must lie in 1..{upper}, found {values.min():g}..{values.max():g}")


def _graph_distances(n: int, a: np.ndarray, b: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """All-pairs shortest paths of an undirected graph whose repeated edges keep their LAST cost (Beasley)."""
    keep = a != b
    a, b, cost = a[keep], b[keep], cost[keep]
    key = np.minimum(a, b) * n + np.maximum(a, b)
    _, last = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - last
    graph = sp.csr_matrix((cost[last], (key[last] // n, key[last] % n)), shape=(n, n))
    return shortest_path(graph, directed=False)


def read_pmed(path: Path) -> tuple[np.ndarray, int]:
    """OR-Library pmed: 'n edges p', then 'i j cost' (1-based, undirected; the last duplicate counts).

    Returns the all-pairs shortest-path matrix and p.
    """
    tokens = _Tokens(path)
    n, n_edges, p = tokens.integers(3, "the header 'vertices edges p'")
    edges = tokens.numbers(3 * n_edges, f"the {n_edges} edges 'i j cost'").reshape(n_edges, 3)
    _check_index(tokens, edges[:, :2].ravel(), n, "edge ends")
    return _graph_distances(n, edges[:, 0].astype(int) - 1, edges[:, 1].astype(int) - 1, edges[:, 2]), p


def read_cap(path: Path, capacity: float | None = None) -> dict:
    """OR-Library cap: 'm n', m lines 'capacity fixed_cost', then per customer: demand and m allocation costs
    (the cost of serving all of its demand from each facility). A capacity written as the word 'capacity'
    must be given by the caller."""
    tokens = _Tokens(path)
    m, n = tokens.integers(2, "the header 'facilities customers'")
    start = tokens.pos
    written = tokens.words_for(2 * m, f"the {m} facility lines 'capacity fixed_cost'")[0::2]
    if any(word.lower() == "capacity" for word in written):
        if capacity is None:
            raise OrlibFormatError(f"{tokens.path}: capacities are written as the word 'capacity'; give the "
                                   "capacity to use (e.g. capa: 8000, 10000, 12000 or 14000)")
        tokens.words[start:start + 2 * m:2] = [str(capacity) if w.lower() == "capacity" else w for w in written]
    tokens.pos = start
    caps, fixed = tokens.numbers(2 * m, f"the {m} facility lines 'capacity fixed_cost'").reshape(m, 2).T
    table = tokens.numbers((1 + m) * n, f"the {n} customers' demand and {m} allocation costs").reshape(n, 1 + m)
    return {"capacity": caps, "fixed_cost": fixed, "demand": table[:, 0], "allocation_cost": table[:, 1:]}


def read_scp(path: Path) -> tuple[sp.csr_matrix, np.ndarray]:
    """OR-Library scp: 'rows cols', the cost of every column, then per row: count and its columns (1-based)."""
    tokens = _Tokens(path)
    rows, cols = tokens.integers(2, "the header 'rows columns'")
    cost = tokens.numbers(cols, f"the costs of the {cols} columns")
    members = []
    for i in range(rows):
        (k,) = tokens.integers(1, f"the number of columns covering row {i + 1}")
        members.append(np.array(tokens.integers(k, f"the columns covering row {i + 1}"), int))
    counts = [len(m) for m in members]
    columns = np.concatenate(members) if members else np.zeros(0, int)
    _check_index(tokens, columns, cols, "column numbers")
    r = np.repeat(np.arange(rows), counts)
    return sp.csr_matrix((np.ones(len(r)), (r, columns - 1)), shape=(rows, cols)), cost


def read_swain(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Swain's 55-node data: first line 55, then 'id x y demand'. Returns (xy, demand)."""
    tokens = _Tokens(path)
    (n,) = tokens.integers(1, "the number of nodes")
    table = tokens.numbers(4 * n, f"the {n} lines 'id x y demand'").reshape(n, 4)
    return table[:, 1:3], table[:, 3]


def random_orlib_pmed(n: int, seed: int = 0) -> np.ndarray:
    """An instance generated the way Beasley describes the OR-Library p-median graphs: n vertices, n²/50
    edges (a random spanning path plus random pairs) with integer costs uniform in 1..100; returns the
    all-pairs shortest-path matrix."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    pairs = np.vstack([np.column_stack([perm[:-1], perm[1:]]), rng.integers(0, n, (n * n // 50 - (n - 1), 2))])
    costs = rng.integers(1, 101, len(pairs)).astype(float)
    return _graph_distances(n, pairs[:, 0], pairs[:, 1], costs)
