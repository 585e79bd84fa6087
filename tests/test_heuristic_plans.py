"""model.heuristic(): a plan without proof for instances too big to solve exactly — feasible, honest, rule-abiding."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netopt as no
from tests import brute


def _sites(result) -> list[int]:
    return [int(label[1:]) for label in result.selected]


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 9), st.integers(3, 7), st.integers(0, 2**32 - 1), st.data())
def test_heuristic_plans_are_feasible_and_never_beat_the_optimum(n, m, seed, data):
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 20, (n, m)).astype(float)
    weights = rng.integers(1, 9, n).astype(float)
    p = data.draw(st.integers(1, m - 1))
    fixed = [int(j) for j in rng.choice(m, data.draw(st.integers(0, p)), replace=False)]
    forbidden = [j for j in range(m) if j not in fixed and rng.random() < 0.2]
    if m - len(forbidden) < p:
        return
    rules = dict(fixed=fixed, forbidden=forbidden)

    median = no.PMedian.from_cost_matrix(cost, p, weights, **rules).heuristic()
    chosen = _sites(median)
    assert median.status == "feasible" and len(chosen) == p and set(fixed) <= set(chosen)
    assert not set(chosen) & set(forbidden) and np.isnan(median.bound)
    assert median.objective == pytest.approx(weights @ cost[:, chosen].min(axis=1))
    assert median.objective >= brute.pmedian(cost, weights, p, **rules) - 1e-9

    A = cost <= 8
    cover = no.MCLP.from_coverage(A, p, weights=weights, **rules).heuristic()
    chosen = _sites(cover)
    assert len(chosen) == p and set(fixed) <= set(chosen) and not set(chosen) & set(forbidden)
    assert cover.objective == pytest.approx(weights[A[:, chosen].any(axis=1)].sum())
    assert cover.objective <= brute.mclp(A, weights, p, **rules) + 1e-9

    center = no.PCenter.from_cost_matrix(cost, p, **rules).heuristic()
    chosen = _sites(center)
    assert set(fixed) <= set(chosen) and not set(chosen) & set(forbidden)
    assert center.objective == pytest.approx(cost[:, chosen].min(axis=1).max())
    optimum = brute.pcenter(cost, p, **rules)
    assert center.bound <= optimum + 1e-9 <= center.objective + 1e-9
    assert (center.status == "optimal") == (center.objective == pytest.approx(center.bound))


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 9), st.integers(3, 7), st.integers(0, 2**32 - 1))
def test_greedy_cover_covers_everything_it_can(n, m, seed):
    rng = np.random.default_rng(seed)
    A = rng.random((n, m)) < 0.4
    result = no.LSCP.from_coverage(A).heuristic()
    cheapest = brute.lscp(A, np.ones(m))
    if cheapest is None:
        assert result.status == "infeasible" and "covers demand point" in result.reason
        return
    assert result.status == "feasible" and A[:, _sites(result)].any(axis=1).all()
    assert result.objective == len(result.selected) >= cheapest


@pytest.mark.parametrize("make", [
    lambda: no.PMedian.from_cost_matrix(np.ones((3, 4)), 2, open_cost=np.ones(4), budget=1),
    lambda: no.MCLP.from_coverage(np.eye(4), 2, max_new=1),
    lambda: no.PCenter.from_cost_matrix(np.ones((3, 4)), 2, county=list("aabb"), county_min={"a": 1}),
    lambda: no.LSCP.from_coverage(np.eye(4), max_new=1),
])
def test_rules_a_heuristic_cannot_honour_are_refused(make):
    with pytest.raises(no.InputError, match="heuristic.. honours fixed, existing and forbidden sites only"):
        make().heuristic()


@pytest.mark.parametrize("make", [
    lambda rules: no.PMedian.from_cost_matrix(np.arange(12.0).reshape(3, 4), 3, **rules),
    lambda rules: no.MCLP.from_coverage(np.eye(4), 3, **rules),
    lambda rules: no.PCenter.from_cost_matrix(np.arange(12.0).reshape(3, 4), 3, **rules),
])
def test_a_new_branch_limit_no_plan_can_exceed_is_no_obstacle(make):
    """Two existing sites kept and p = 3 leave room for one new site: max_new=1 changes nothing, so the heuristic
    honours it; max_new=0 binds and is refused."""
    result = make(dict(existing=[0, 1], max_new=1)).heuristic()
    assert result.status in ("feasible", "optimal") and {"s0", "s1"} <= set(result.selected)
    assert len(set(result.selected) - {"s0", "s1"}) <= 1
    with pytest.raises(no.InputError, match="heuristic.. honours fixed"):
        make(dict(existing=[0, 1], max_new=0)).heuristic()
