"""Opt-in checks that take minutes (make test-slow): larger instances against independent formulations."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.orlib import random_orlib_pmed
from benchmarks.textbook import textbook_pmedian
from netopt.models import PMedian
from netopt.models.covering import MCLP

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("n", [200, 400])
def test_pmedian_equals_the_textbook_formulation(n):
    cost = random_orlib_pmed(n, seed=n + 1)
    ours = PMedian.from_cost_matrix(cost, 5).solve()
    theirs = textbook_pmedian(cost, 5)
    assert ours.status == theirs["status"] == "optimal"
    assert ours.objective == pytest.approx(theirs["objective"])


def test_mclp_reduction_keeps_the_optimum():
    rng = np.random.default_rng(8)
    A = rng.random((3000, 300)) < 0.02
    weights = rng.integers(1, 50, 3000).astype(float)
    reduced = MCLP.from_coverage(A, 15, weights=weights).solve()
    whole = MCLP.from_coverage(A, 15, weights=weights).solve(warm_start=False)
    assert reduced.status == whole.status == "optimal"
    assert reduced.objective == pytest.approx(whole.objective)
