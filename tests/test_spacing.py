"""The minimum spacing rule (too_close pairs, min_spacing_km) in every model, against brute force."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

import netopt as no
from netopt._errors import InputError
from netopt.distance import spacing_pairs
from netopt.models import CFLP, LSCP, MCLP, PCenter, PMedian
from netopt.models._base import site_rules
from netopt.models.market import MarketShare
from tests import brute


@st.composite
def site_rules_with_pairs(draw, m: int) -> dict:
    """Pairs too close to both open, with today's sites (kept or closable), a new-site limit or a county
    maximum beside them."""
    pairs = draw(st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, m - 1)), min_size=1, max_size=m + 2))
    existing = draw(st.lists(st.integers(0, m - 1), max_size=min(2, m - 1), unique=True))
    rules = dict(too_close=np.array(pairs, int), existing=existing,
                 closable=[j for j in existing if draw(st.booleans())])
    if draw(st.booleans()):
        rules["max_new"] = draw(st.integers(0, m))
    if draw(st.booleans()):
        rules.update(county=[j % 2 for j in range(m)], county_max={0: draw(st.integers(0, 2))})
    return rules


def costs(n: int, m: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 30, (n, m)).astype(float)


def check(result, expected, model) -> None:
    """The model's answer is brute force's, and its plan keeps the spacing."""
    if expected is None:
        assert result.status == "infeasible" and result.reason
        return
    assert result.status == "optimal", result.reason
    assert result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    positions = [model.site_labels.index(label) for label in result.selected]
    assert model.rules.admits(np.isin(np.arange(model.rules.n_sites), positions))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_pmedian_keeps_the_spacing(n, m, seed, data):
    cost, rules = costs(n, m, seed), data.draw(site_rules_with_pairs(m))
    p = data.draw(st.integers(max(1, len(rules["existing"]) - len(rules["closable"])), m))
    model = PMedian.from_cost_matrix(cost, p, **rules)
    check(model.solve(), brute.pmedian(cost, np.ones(n), p, **rules), model)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_mclp_and_lscp_keep_the_spacing(n, m, seed, data):
    cost, rules = costs(n, m, seed), data.draw(site_rules_with_pairs(m))
    A = cost <= 12
    weights = np.arange(1.0, n + 1)
    p = data.draw(st.integers(1, m))
    mclp = MCLP.from_coverage(A, p, weights=weights, **rules)
    check(mclp.solve(), brute.mclp(A, weights, p, **rules), mclp)
    if A.any(axis=1).all():
        lscp = LSCP.from_coverage(A, **rules)
        check(lscp.solve(), brute.lscp(A, np.ones(m), **rules), lscp)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_keeps_the_spacing(n, m, seed, data):
    cost, rules = costs(n, m, seed), data.draw(site_rules_with_pairs(m))
    p = data.draw(st.integers(1, m))
    model = PCenter.from_cost_matrix(cost, p, **rules)
    check(model.solve(), brute.pcenter(cost, p, **rules), model)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(2, 4), st.integers(0, 2**32 - 1), st.data())
def test_cflp_keeps_the_spacing(n, m, seed, data):
    rng = np.random.default_rng(seed)
    unit, demand = rng.integers(1, 10, (n, m)).astype(float), rng.integers(1, 6, n).astype(float)
    capacity, fixed = rng.integers(3, 15, m).astype(float), rng.integers(0, 20, m).astype(float)
    rules = data.draw(site_rules_with_pairs(m))
    model = CFLP.from_cost_matrix(unit, demand, capacity, fixed, **rules)
    check(model.solve(), brute.cflp(unit, demand, capacity, fixed, False, **rules), model)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(2, 6), st.integers(0, 2**32 - 1), st.data())
def test_market_share_keeps_the_spacing(n, m, seed, data):
    rng = np.random.default_rng(seed)
    ours, rivals = rng.uniform(0, 2, (n, m)) * (rng.random((n, m)) < 0.8), rng.uniform(0, 3, n)  # attractions
    weights = rng.integers(1, 9, n).astype(float)
    rules = data.draw(site_rules_with_pairs(m))
    p = data.draw(st.integers(1, m))
    model = MarketShare(ours, rivals, weights, p=p, rules=site_rules(m, **rules))
    plans = list(brute.feasible_sets(m, range(p + 1), **rules))
    check(model.solve(), max(model.captured(s) for s in plans) if plans else None, model)


def test_pairs_of_todays_branches_stay_and_pairs_are_normalised():
    rules = site_rules(5, existing=[0, 1], closable=[1], too_close=np.array([[1, 0], [2, 1], [1, 2], [3, 3]]))
    assert rules.too_close.tolist() == [[1, 2]]  # 0-1 are both branches today; 3-3 is no pair
    assert rules.rows()[3] == ["spacing_1_2"]
    assert not rules.admits(np.array([1, 1, 1, 0, 0], bool)) and rules.admits(np.array([1, 0, 1, 0, 0], bool))


@pytest.mark.parametrize("pairs", [np.array([1, 2, 3]), np.array([[0, 9]]), np.array([[0.5, 1.0]])])
def test_bad_pairs_are_input_errors(pairs):
    with pytest.raises(InputError, match="too_close"):
        site_rules(4, too_close=pairs)


def test_two_sites_that_must_open_too_close_are_named():
    result = PMedian.from_cost_matrix(np.ones((2, 3)), 2, fixed=[0, 2], too_close=np.array([[0, 2]])).solve()
    assert result.status == "infeasible" and "sites s0 and s2 must both be open but are too close" in result.reason


def test_two_sites_too_close_are_named_by_their_labels():
    A = sp.csr_matrix(np.ones((2, 3), bool))
    model = MCLP.from_coverage(A, 2, site_labels=["营业部", "新址1", "城东支行"], fixed=[0, 2],
                               too_close=np.array([[0, 2]]))
    result = model.solve()
    assert result.status == "infeasible" and "sites 营业部 and 城东支行 must both be open" in result.reason


def test_a_spacing_that_blocks_every_plan_is_named():
    A = np.array([[1, 0, 0], [0, 1, 1]], bool)  # covering both rows needs site 0 and site 1 or 2
    result = LSCP.from_coverage(A, too_close=np.array([[0, 1], [0, 2]])).solve()
    assert result.status == "infeasible"
    assert "the minimum spacing blocks every plan" in result.reason and "2 pairs" in result.reason


def points(xy_km: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    """Points at these km east and north of a spot in Hefei (UTM zone 50N)."""
    frame = gpd.GeoDataFrame(geometry=[Point(500_000 + 1000 * x, 3_500_000 + 1000 * y) for x, y in xy_km],
                             crs=32650)
    return frame.to_crs(4326)


def test_spacing_pairs_are_the_sites_closer_than_the_spacing():
    sites = points([(0, 0), (0.9, 0), (3, 0), (3, 1.2), (10, 10)])
    assert spacing_pairs(sites, 1.0).tolist() == [[0, 1]]
    assert sorted(map(sorted, spacing_pairs(sites, 1.25).tolist())) == [[0, 1], [2, 3]]
    for bad in (0, -1.0, float("nan"), "1"):
        with pytest.raises(InputError, match="min_spacing_km"):
            spacing_pairs(sites, bad)


def test_min_spacing_km_in_from_geodataframes():
    towns = points([(0, 0), (1, 0), (6, 0)]).assign(population=[5.0, 4.0, 3.0])
    sites = points([(0, 0), (1, 0), (6, 0)])
    free = MCLP.from_geodataframes(towns, sites, radius_km=0.5, p=2).solve()
    spaced = MCLP.from_geodataframes(towns, sites, radius_km=0.5, p=2, min_spacing_km=2).solve()
    assert free.objective == 9.0 and spaced.objective == 8.0  # the two nearest may not both open
    assert sorted(spaced.selected) == ["s0", "s2"]


def test_sample_plan_keeps_new_branches_apart_from_every_open_branch():
    ds = no.load_sample()
    sites = no.planning.candidate_sites(ds, bank="农业")
    existing = np.flatnonzero((sites["kind"] == "existing").to_numpy())
    model = MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing) + 5, existing=existing,
                                    min_spacing_km=5.0)
    result = model.solve()
    assert result.status == "optimal"
    opened = sites[sites["site_id"].isin(result.selected)]
    new = opened[opened["kind"] != "existing"]
    close = spacing_pairs(opened, 5.0)
    kinds = opened["kind"].to_numpy()
    assert len(new) == 5 and all((kinds[close] == "existing").all(axis=1))
    free = MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing) + 5, existing=existing).solve()
    assert result.objective <= free.objective


def test_a_bound_without_the_spacing_tightens_the_result():
    from netopt.models._milp import Result

    model = MCLP.from_coverage(np.eye(3, dtype=bool), 1, too_close=np.array([[0, 1]]))
    found = Result("feasible", 90.0, 120.0, 1 / 3, 1.0, selected=["s0"])
    tighter = model._bounded_by(found, 100.0)
    assert tighter.bound == 100.0 and tighter.gap == pytest.approx(10 / 90) and tighter.status == "feasible"
    assert model._bounded_by(found, 90.0).status == "optimal" and model._bounded_by(found, 130.0).bound == 120.0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_mclp_spaced_start_repairs_the_plan_without_the_spacing(seed):
    """Where the best plan without the spacing breaks it, the start made from it keeps the spacing and p sites
    (when it exists), and solve() still reaches brute force's optimum."""
    rng = np.random.default_rng(seed)
    A = rng.random((8, 7)) < 0.35
    weights = rng.integers(1, 9, 8).astype(float)
    pairs = np.array([(a, b) for a in range(7) for b in range(a + 1, 7) if rng.random() < 0.25]).reshape(-1, 2)
    model = MCLP.from_coverage(A, 3, weights=weights, too_close=pairs)
    relaxed = MCLP.from_coverage(A, 3, weights=weights).solve()
    start = model._spaced_start(relaxed)
    if start is not None:
        assert len(start) <= 3 and model.rules.admits(np.isin(np.arange(7), start))
    check(model.solve(), brute.mclp(A, weights, 3, too_close=pairs), model)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3))
def test_pmedian_spaced_start_repairs_the_plan_without_the_spacing(seed, kept):
    """As for MCLP: the start keeps the spacing and p sites (when it exists), also with branches kept open
    (merged into one site by solve()), and solve() reaches brute force's optimum."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (8, 7)).astype(float)
    pairs = np.array([(a, b) for a in range(7) for b in range(a + 1, 7) if rng.random() < 0.25]).reshape(-1, 2)
    model = PMedian.from_cost_matrix(cost, 4, existing=list(range(kept)), too_close=pairs)
    relaxed = PMedian.from_cost_matrix(cost, 4, existing=list(range(kept))).solve()
    start = model._spaced_start(relaxed)
    if start is not None:
        assert len(start) == 4 and model.rules.admits(np.isin(np.arange(7), start))
    check(model.solve(), brute.pmedian(cost, np.ones(8), 4, existing=list(range(kept)), too_close=pairs), model)


def test_min_spacing_km_and_pairs_together_are_refused():
    towns = points([(0, 0), (1, 0)]).assign(population=[5.0, 4.0])
    with pytest.raises(InputError, match="min_spacing_km or too_close"):
        MCLP.from_geodataframes(towns, towns, radius_km=1, p=1, min_spacing_km=2, too_close=np.array([[0, 1]]))
