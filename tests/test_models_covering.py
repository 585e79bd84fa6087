"""LSCP, MCLP and p-center against brute force on random tiny instances, plus explanations of infeasibility."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from netopt.models import LSCP, MCLP, PCenter
from netopt.models.covering import merge_identical_rows
from tests import brute


@st.composite
def coverage(draw, min_rows=1):
    n = draw(st.integers(min_rows, 9))
    m = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    density = draw(st.floats(0.2, 0.8))
    return rng.random((n, m)) < density, rng


@settings(max_examples=220, deadline=None)
@given(coverage())
def test_lscp_matches_brute_force(case):
    A, rng = case
    cost = rng.integers(1, 6, A.shape[1]).astype(float)
    expected = brute.lscp(A, cost)
    result = LSCP.from_coverage(sp.csr_matrix(A), facility_cost=cost).solve()
    if expected is None:
        assert result.status == "infeasible" and "covers demand point" in result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected)
        assert result.assignment["covered"].all()


@settings(max_examples=220, deadline=None)
@given(coverage(), st.data())
def test_mclp_matches_brute_force(case, data):
    A, rng = case
    p = data.draw(st.integers(1, A.shape[1]))
    weights = rng.integers(1, 9, A.shape[0]).astype(float)
    backup = data.draw(st.sampled_from([0.0, 0.5]))
    result = MCLP.from_coverage(A, p, weights=weights, backup_weight=backup).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute.mclp(A, weights, p, backup_weight=backup))
    assert result.details["covered_weight"] <= weights.sum()


@settings(max_examples=60, deadline=None)
@given(coverage(), st.data())
def test_mclp_rules_match_brute_force(case, data):
    A, rng = case
    m = A.shape[1]
    p = data.draw(st.integers(1, m))
    weights = rng.integers(1, 9, A.shape[0]).astype(float)
    existing = data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True))
    closable = [j for j in existing if data.draw(st.booleans())]
    rules = dict(existing=existing, closable=closable, open_cost=np.full(m, 2.0), saving=None,
                 budget=data.draw(st.sampled_from([None, 2.0, 4.0])), county=[j % 2 for j in range(m)],
                 county_min={1: 1} if m > 1 and data.draw(st.booleans()) else None)
    expected = brute.mclp(A, weights, p, **rules)
    rules.pop("saving")
    result = MCLP.from_coverage(A, p, weights=weights, **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected)


@settings(max_examples=220, deadline=None)
@given(st.integers(1, 8), st.integers(1, 6), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_matches_brute_force(n, m, seed, data):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    p = data.draw(st.integers(1, m))
    result = PCenter.from_cost_matrix(cost, p).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute.pcenter(cost, p))
    assert len(result.selected) == p


def test_merging_identical_rows_keeps_every_row():
    rng = np.random.default_rng(3)
    A = sp.csr_matrix(rng.random((500, 8)) < 0.3)
    A.data = np.ones(len(A.data))
    unique, row_of = merge_identical_rows(A)
    assert unique.shape[0] == len({tuple(r) for r in A.toarray().astype(int)})
    assert (unique[row_of] != A).nnz == 0


def test_uncoverable_demand_is_named():
    A = sp.csr_matrix(np.array([[1, 0], [0, 0], [0, 1]]))
    result = LSCP.from_coverage(A, demand_labels=["甲镇", "乙镇", "丙镇"]).solve()
    assert result.status == "infeasible" and "乙镇" in result.reason


def test_county_minimum_without_candidates_is_explained():
    A = np.ones((3, 2), bool)
    result = MCLP.from_coverage(A, 2, county=["a", "b"], county_min={"a": 2}).solve()
    assert result.status == "infeasible" and "county 'a' needs 2 open sites but has only 1" in result.reason
