"""Opt-in checks that take minutes (make test-slow): larger instances against independent formulations."""
from __future__ import annotations

import pytest

from benchmarks.orlib import random_orlib_pmed
from benchmarks.textbook import textbook_pmedian
from netopt.models import PMedian

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("n", [200, 400])
def test_pmedian_equals_the_textbook_formulation(n):
    cost = random_orlib_pmed(n, seed=n + 1)
    ours = PMedian.from_cost_matrix(cost, 5).solve()
    theirs = textbook_pmedian(cost, 5)
    assert ours.status == theirs["status"] == "optimal"
    assert ours.objective == pytest.approx(theirs["objective"])
