"""MCLP LP probing: every site it closes is in no better plan, every site it opens in all (brute force)."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from netopt.models._mclp_probing import _primal_basis, _primal_highs, _round_lp, _solved_dual, mclp_probing


def _plans(A: sp.csr_matrix, w: np.ndarray, p: int, exactly_p: bool, fixed: set[int]) -> dict[tuple, float]:
    m = A.shape[1]
    sizes = [p] if exactly_p else range(len(fixed), p + 1)
    dense = A.toarray() > 0
    return {plan: float(w @ dense[:, list(plan)].any(axis=1)) for size in sizes
            for plan in combinations(range(m), size) if fixed <= set(plan)}


def _check(A, w, p, exactly_p, fixed, incumbent, lower, closed, opened):
    assert not closed[list(incumbent)].any()
    assert set(np.flatnonzero(opened)) <= set(incumbent) | set(fixed)
    assert opened[list(fixed)].all()
    for plan, value in _plans(A, w, p, exactly_p, set(fixed)).items():
        if value >= lower + 1:
            assert not closed[list(plan)].any(), (plan, value)
            assert set(np.flatnonzero(opened)) <= set(plan), (plan, value)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6), st.integers(5, 9), st.integers(4, 30), st.booleans(), st.booleans(), st.integers(0, 3))
def test_probing_keeps_every_better_plan(seed, m, k, exactly_p, with_fixed, rank):
    """From the best plan or the second, third or fourth best (then the better plans are few)."""
    rng = np.random.default_rng(seed)
    A = sp.csr_matrix((rng.random((k, m)) < 0.3).astype(float))
    w = rng.integers(0, 30, k).astype(float)
    p = int(rng.integers(1, m - 1))
    fixed = [int(rng.integers(m))] if with_fixed else []
    plans = _plans(A, w, p, exactly_p, set(fixed))
    ranked = sorted(plans, key=plans.get, reverse=True)
    incumbent = ranked[min(len(ranked) - 1, rank)]
    lower = plans[incumbent]
    closed, opened = mclp_probing(A, w, p, lower, np.array(fixed, int), np.array(incumbent, int), exactly_p, True, None)
    _check(A, w, p, exactly_p, fixed, incumbent, lower, closed, opened)


@pytest.mark.parametrize("seed", range(4))
def test_probing_decides_sites_the_multipliers_leave_open(seed):
    """A geometric instance where the optimum is the incumbent: probing proves most sites' fate."""
    rng = np.random.default_rng(seed)
    demand, sites = rng.uniform(0, 30, (300, 2)), rng.uniform(0, 30, (14, 2))
    A = sp.csr_matrix(np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) <= 6.0, dtype=float)
    w = rng.integers(1, 50, 300).astype(float)
    p = 4
    plans = _plans(A, w, p, True, set())
    best = max(plans, key=plans.get)
    closed, opened = mclp_probing(A, w, p, plans[best], np.array([], int), np.array(best, int), True, True, None)
    _check(A, w, p, True, [], best, plans[best], closed, opened)
    assert closed.sum() + opened.sum() >= 7


@pytest.mark.parametrize("exactly_p", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 4, 9])
def test_primal_basis_read_off_the_dual_is_optimal(seed, exactly_p):
    """Geometric coverage; seeds whose LP has sites at 0, at 1 and in between (most LPs here are integral)."""
    rng = np.random.default_rng(seed)
    demand, sites = rng.uniform(0, 40, (500, 2)), rng.uniform(0, 40, (40, 2))
    A = sp.csr_matrix(np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) <= 5.0, dtype=float)
    w = rng.integers(1, 40, 500).astype(float)
    m = A.shape[1]
    lp = _round_lp(A.tocsc(), w, 12, np.zeros(m, bool), np.zeros(m, bool), exactly_p)
    dual = _solved_dual(lp, None)
    x = np.abs(np.asarray(dual.getSolution().row_dual))
    assert (x < 1e-9).any() and (x > 1 - 1e-9).any() and ((x > 1e-6) & (x < 1 - 1e-6)).any()
    primal = _primal_highs(lp)
    primal.setBasis(_primal_basis(lp, dual))
    primal.run()
    assert primal.getInfo().simplex_iteration_count == 0
    lp_bound = lp.weights.sum() + dual.getInfo().objective_function_value
    assert -primal.getInfo().objective_function_value == pytest.approx(lp_bound, rel=1e-9)
