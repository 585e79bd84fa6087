"""Capacitated facility location against brute force, the OR-Library optima, budgets and explanations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netopt.models import CFLP
from tests import brute

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


@st.composite
def instance(draw):
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    unit = rng.integers(1, 10, (n, m)).astype(float)
    demand = rng.integers(1, 6, n).astype(float)
    capacity = rng.integers(3, 15, m).astype(float)
    fixed = rng.integers(0, 20, m).astype(float)
    return unit, demand, capacity, fixed


@settings(max_examples=220, deadline=None)
@given(instance(), st.sampled_from(["uncapacitated", "multi", "single"]))
def test_matches_brute_force(case, kind):
    unit, demand, capacity, fixed = case
    cap = None if kind == "uncapacitated" else capacity
    expected = brute.cflp(unit, demand, cap, fixed, kind == "single")
    result = CFLP.from_cost_matrix(unit, demand, cap, fixed, single_source=kind == "single").solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
        served = result.assignment.groupby("demand")["share"].sum()
        assert np.allclose(served.to_numpy(), 1.0)


@settings(max_examples=40, deadline=None)
@given(instance(), st.floats(0, 40), st.data())
def test_budget_and_existing_sites(case, budget, data):
    unit, demand, capacity, fixed = case
    m = unit.shape[1]
    existing = data.draw(st.lists(st.integers(0, m - 1), max_size=1, unique=True))
    county_max = {0: data.draw(st.integers(0, 2))} if data.draw(st.booleans()) else None
    rules = dict(existing=existing, open_cost=fixed, budget=budget, county=[j % 2 for j in range(m)],
                 county_max=county_max)
    expected = brute.cflp(unit, demand, capacity, fixed, False, **rules)
    result = CFLP.from_cost_matrix(unit, demand, capacity, fixed, **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_not_enough_capacity_is_explained():
    result = CFLP.from_cost_matrix(np.ones((2, 2)), [5, 5], [3, 3], [1, 1]).solve()
    assert result.status == "infeasible" and "exceeds the most capacity a plan can open, 6" in result.reason


def test_not_enough_capacity_within_the_new_site_limit_is_explained():
    existing_and_two_new = CFLP.from_cost_matrix(np.ones((2, 3)), [5, 5], [3, 4, 6], existing=[0], max_new=1)
    assert existing_and_two_new.most_capacity() == (9.0, 2)  # the existing site and the largest new one
    result = existing_and_two_new.solve()
    assert result.status == "infeasible" and "exceeds the most capacity a plan can open, 9 (2 sites" in result.reason
    assert CFLP.from_cost_matrix(np.ones((2, 3)), [5, 4], [3, 4, 6], existing=[0], max_new=1).solve().objective == 9


def test_a_demand_point_too_big_for_one_site_is_named():
    cost = np.array([[1.0, 2.0], [2.0, np.inf]])  # town 乙 reaches only site 0
    fits = CFLP.from_cost_matrix(cost, demand=np.array([3.0, 5.0]), capacity=np.array([6.0, 9.0]),
                                 single_source=True).solve()
    assert fits.status == "optimal"
    bigger = CFLP.from_cost_matrix(cost, demand=np.array([3.0, 7.0]), capacity=np.array([6.0, 9.0]),
                                   demand_labels=["甲", "乙"], single_source=True).solve()
    assert bigger.status == "infeasible" and "demand point(s) 乙 (7 > 6) need more than the largest capacity" in \
        bigger.reason
    everywhere = np.array([[1.0, 2.0], [2.0, 3.0]])  # 乙 too big for either site alone, not for both
    shared = CFLP.from_cost_matrix(everywhere, demand=np.array([3.0, 7.0]), capacity=np.array([6.0, 6.0]))
    assert shared.solve().status == "optimal"
    alone = CFLP.from_cost_matrix(everywhere, demand=np.array([3.0, 7.0]), capacity=np.array([6.0, 6.0]),
                                  single_source=True).solve()
    assert "(7 > 6)" in alone.reason


@pytest.mark.parametrize("name, capacitated, optimum", [
    ("cap41", True, 1040444.375), ("cap71", True, 932615.750), ("cap101", True, 796648.437),
    ("cap71", False, 932615.750), ("cap101", False, 796648.437)])
def test_or_library_optima(name, capacitated, optimum):
    from benchmarks.orlib import read_cap

    path = BENCH / "orlib_cap" / f"{name}.txt"
    if not path.exists():
        pytest.skip("shared benchmark instances are not beside the project")
    data = read_cap(path)
    model = CFLP.from_allocation_costs(data["allocation_cost"], data["demand"],
                                       data["capacity"] if capacitated else None, data["fixed_cost"])
    result = model.solve()
    assert result.status == "optimal" and result.objective == pytest.approx(optimum, abs=1e-3)


def _random_cflp(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    customers, sites = rng.uniform(0, 50, (n, 2)), rng.uniform(0, 50, (m, 2))
    unit = np.hypot(customers[:, None, 0] - sites[None, :, 0], customers[:, None, 1] - sites[None, :, 1])
    demand = rng.integers(5, 40, n).astype(float)
    capacity = rng.uniform(1.5, 4.0, m) * demand.sum() / m
    return unit, demand, capacity, rng.integers(100, 900, m).astype(float)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("capacitated", [True, False])
def test_lagrangian_reduction_gives_the_whole_models_optimum(seed, capacitated):
    """Large enough that the Lagrangian plans, the support search and the site tests run; with a fixed and a
    forbidden site on odd seeds."""
    unit, demand, capacity, fixed = _random_cflp(seed, 60, 14)
    rules = dict(fixed=[seed % 14], forbidden=[(seed + 3) % 14]) if seed % 2 else {}
    cap = capacity if capacitated else None
    fast = CFLP.from_cost_matrix(unit, demand, cap, fixed, **rules).solve()
    whole = CFLP.from_cost_matrix(unit, demand, cap, fixed, **rules).solve(warm_start=False)
    assert fast.status == whole.status == "optimal"
    assert fast.objective == pytest.approx(whole.objective, rel=1e-7)
    assert fast.details["sites_after_reduction"] <= 14 - len(rules.get("forbidden", []))
    assert set(str(s) for s in rules.get("fixed", [])) <= {str(s)[1:] for s in fast.selected}


@pytest.mark.parametrize("seed", range(6))
def test_sites_fixed_by_the_lagrangian_bound_are_in_no_cheaper_plan(seed):
    """From the second-best plan as incumbent: every closed site is in no cheaper plan, every opened one in all."""
    from dataclasses import replace
    from itertools import product

    from netopt.models._cflp_lagrange import SiteChoice, TransportPricer, cflp_lagrangian, site_tests

    unit, demand, capacity, fixed = _random_cflp(seed, 25, 8)
    alloc = unit * demand[:, None]
    choice = SiteChoice(capacity, demand.sum(), np.zeros(8, bool), np.ones(8, bool))
    pricer = TransportPricer(alloc, demand, capacity, fixed)
    plans = {}
    for mask in product([False, True], repeat=8):
        transport, _ = pricer.transport(np.array(mask))
        if np.isfinite(transport):  # the cost of opening exactly `mask`, idle sites included
            plans[mask] = transport + fixed[list(mask)].sum()
    ranked = sorted(set(plans.values()))
    runner_up = next(mask for mask, cost in plans.items() if cost == ranked[1])
    outcome = cflp_lagrangian(alloc, demand, capacity, fixed, choice, pricer, None)
    incumbent = replace(outcome, plan=np.array(runner_up), cost=plans[runner_up])
    closed, opened = site_tests(incumbent, choice)
    assert outcome.bound <= ranked[0] + 1e-6 and (closed.any() or opened.any())
    for mask, cost in plans.items():
        if cost < plans[runner_up]:
            assert not (closed & np.array(mask)).any() and not (opened & ~np.array(mask)).any()


@pytest.mark.parametrize("seed", range(8))
def test_lagrangian_reduction_with_budget_new_branch_limit_and_county_minimums(seed):
    """The site rules stay in the Lagrangian problem, its plans and the site tests: same optimum as the whole
    model."""
    unit, demand, capacity, fixed = _random_cflp(seed, 60, 14)
    rng = np.random.default_rng(seed)
    existing = [0, 1, 2, 3]
    rules = [dict(max_new=2, existing=existing),
             dict(budget=900.0, open_cost=fixed, existing=existing, closable=[2, 3], closing_saving=np.full(14, 200.0)),
             dict(county=rng.choice(["甲", "乙", "丙"], 14), county_min={"甲": 2, "丙": 1}, existing=existing),
             dict(max_new=3, budget=1500.0, existing=existing, closable=existing)][seed % 4]
    fast = CFLP.from_cost_matrix(unit, demand, capacity, fixed, **rules).solve()
    whole = CFLP.from_cost_matrix(unit, demand, capacity, fixed, **rules).solve(warm_start=False)
    assert fast.status == whole.status
    if whole.status == "optimal":
        assert fast.objective == pytest.approx(whole.objective, rel=1e-7)
        assert "lagrangian_bound" in fast.details


def test_time_limit_gives_a_plan_with_a_valid_bound():
    unit, demand, capacity, fixed = _random_cflp(11, 200, 40)
    fixed = fixed * 5
    limited = CFLP.from_cost_matrix(unit, demand, capacity, fixed).solve(time_limit=1.0)
    best = CFLP.from_cost_matrix(unit, demand, capacity, fixed).solve()
    assert limited.status in ("optimal", "feasible") and best.status == "optimal"
    assert limited.bound <= best.objective * (1 + 1e-7) <= limited.objective * (1 + 2e-7)


def test_max_km_leaves_out_the_pairs_beyond_it_and_nothing_else():
    import geopandas as gpd

    import netopt as no
    from netopt.distance import cost_matrix_km

    rng = np.random.default_rng(5)
    towns = gpd.GeoDataFrame({"population": rng.integers(1_000, 9_000, 30).astype(float)},
                             geometry=gpd.points_from_xy(117 + rng.random(30) * 0.5, 31.5 + rng.random(30) * 0.5),
                             crs=4326)
    sites = gpd.GeoDataFrame({"capacity": np.full(12, 40_000.0)},
                             geometry=gpd.points_from_xy(117 + rng.random(12) * 0.5, 31.5 + rng.random(12) * 0.5),
                             crs=4326)
    km = cost_matrix_km(towns, sites)
    limit = float(np.sort(km.min(axis=1))[-1] + 5.0)  # every town keeps a site within it
    cut = CFLP.from_geodataframes(towns, sites, capacity="capacity", max_km=limit, max_new=6)
    assert np.isfinite(cut.cost).sum() == (km <= limit).sum()
    same = CFLP.from_cost_matrix(np.where(km <= limit, km, np.inf), towns["population"], sites["capacity"], max_new=6)
    assert cut.solve().objective == pytest.approx(same.solve().objective)
    for bad in (0, -3, float("nan"), "30"):
        with pytest.raises(no.InputError, match="max_km must be a positive number of kilometres"):
            CFLP.from_geodataframes(towns, sites, capacity="capacity", max_km=bad, max_new=6)


def test_a_model_of_more_pairs_than_one_machine_solves_is_refused_saying_how_to_cut_them(monkeypatch):
    """A province's 1,403 towns x 10,000 sites (14 million pairs) would take 13+ GB: solve() refuses beyond
    PAIRS_LIMIT, naming max_km; pairs a site may not serve (np.inf) do not count, and the limit can be raised."""
    from netopt import InputError
    from netopt.models import capacitated

    rng = np.random.default_rng(7)
    cost = rng.uniform(1, 20, (30, 10))
    monkeypatch.setattr(capacitated, "PAIRS_LIMIT", 200)
    model = CFLP.from_cost_matrix(cost, np.ones(30), np.full(10, 12.0), np.full(10, 5.0))
    with pytest.raises(InputError, match=r"30 demand points x 10 sites is 300 pairs that may serve.*max_km"):
        model.solve()
    cut = np.where(cost <= np.sort(cost, axis=1)[:, [5]], cost, np.inf)  # each point's 6 cheapest sites: 180 pairs
    assert CFLP.from_cost_matrix(cut, np.ones(30), np.full(10, 12.0), np.full(10, 5.0)).solve().status == "optimal"
    monkeypatch.setattr(capacitated, "PAIRS_LIMIT", 300)
    assert model.solve().status == "optimal"
