"""Market share against fixed competitors (Huff): the exact IPs against brute-force enumeration."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netopt as no
from netopt.models.market import MarketShare


def brute_best(model: MarketShare, p: int) -> float:
    m = model.ours.shape[1]
    return max(model.captured(np.array(c, int)) for k in range(1, p + 1) for c in combinations(range(m), k))


def brute_fewest(model: MarketShare, target: float) -> int | None:
    m = model.ours.shape[1]
    for k in range(1, m + 1):
        if any(model.captured(np.array(c, int)) >= target * model.weights.sum() - 1e-6
               for c in combinations(range(m), k)):
            return k
    return None


@st.composite
def instance(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, m = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    ours = rng.uniform(0, 2, (n, m)) * (rng.random((n, m)) < 0.8)
    rivals = rng.uniform(0, 3, n) * (rng.random(n) < 0.8)
    weights = rng.integers(1, 100, n).astype(float)
    return ours, rivals, weights


@settings(max_examples=120, deadline=None)
@given(instance(), st.data())
def test_maximise_market_share_matches_brute_force(case, data):
    ours, rivals, weights = case
    p = data.draw(st.integers(1, ours.shape[1]))
    model = MarketShare(ours, rivals, weights, p=p)
    result = model.solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute_best(model, p), rel=1e-6, abs=1e-6)
    assert result.details["captured"] == pytest.approx(result.objective, rel=1e-6, abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(instance(), st.sampled_from([0.1, 0.3, 0.6]))
def test_target_market_share_matches_brute_force(case, target):
    ours, rivals, weights = case
    model = MarketShare(ours, rivals, weights, target_share=target)
    expected = brute_fewest(model, target)
    result = model.solve()
    if expected is None:
        assert result.status == "infeasible" and "below the target" in result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected)


def test_sample_city_against_the_other_banks():
    from netopt.planning import candidate_sites, existing_positions

    ds = no.load_sample()
    sites = candidate_sites(ds, bank="招商银行")
    rivals = ds.branches[~ds.branches["bank"].astype(str).str.contains("招商银行")]
    model = MarketShare.from_geodataframes(ds.towns, sites, rivals, p=30, existing=existing_positions(sites))
    result = model.solve()
    today = model.captured(existing_positions(sites))
    assert result.status == "optimal" and result.objective >= today
    assert 0 < result.details["share_pct"] < 100


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 7), st.integers(1, 5), st.integers(0, 2**32 - 1), st.data())
def test_max_attendance_matches_brute_force(n, m, seed, data):
    from netopt.models.market import max_attendance

    rng = np.random.default_rng(seed)
    km = rng.uniform(0, 20, (n, m))
    weights = rng.integers(1, 50, n).astype(float)
    p = data.draw(st.integers(1, m))
    result = max_attendance(km, p, weights, decay="exponential", beta=0.2, cutoff_km=12.0)
    g = np.where(km <= 12.0, np.exp(-0.2 * km), 0.0)
    best = max(float(weights @ g[:, list(c)].max(axis=1)) for c in combinations(range(m), p))
    assert result.status == "optimal" and result.objective == pytest.approx(best, rel=1e-6, abs=1e-6)


def test_time_limits_return_the_best_plan_with_bound_and_gap():
    from benchmarks.models_bench import mclp_points
    from netopt.distance import pairs_within
    from netopt.models import MCLP

    demand, sites, w = mclp_points(10_000, 2000)
    result = MCLP.from_coverage(pairs_within(demand, sites, 5000.0), 50, weights=w).solve(time_limit=2)
    assert result.status == "feasible"  # this instance needs about a minute to prove optimal
    assert len(result.selected) == 50 and result.objective <= result.bound and 0 < result.gap < 0.05


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 5), st.integers(0, 2**32 - 1), st.sampled_from([0.2, 0.5, 0.8]))
def test_fewest_sites_for_attendance_matches_brute_force(n, m, seed, target):
    from netopt.models.market import fewest_sites_for_attendance

    rng = np.random.default_rng(seed)
    km = rng.uniform(0, 20, (n, m))
    weights = rng.integers(1, 50, n).astype(float)
    result = fewest_sites_for_attendance(km, target, weights, decay="exponential", beta=0.2, cutoff_km=12.0)
    g = np.where(km <= 12.0, np.exp(-0.2 * km), 0.0)
    need = target * weights.sum()
    expected = next((k for k in range(1, m + 1) for c in combinations(range(m), k)
                     if float(weights @ g[:, list(c)].max(axis=1)) >= need - 1e-9), None)
    if expected is None:
        assert result.status == "infeasible" and "below" in result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected)


def test_map_shows_other_banks_in_their_own_layer(tmp_path):
    ds = no.load_sample()
    fmap = no.maps.network_map(ds, our_bank="招商银行")
    fmap.save(str(tmp_path / "m.html"))
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "中国农业银行: " in html  # a rival's tooltip
