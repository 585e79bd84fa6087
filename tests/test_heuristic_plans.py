"""model.heuristic(): a plan without proof for instances too big to solve exactly — feasible, honest, rule-abiding."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netopt as no
from tests import brute
from tests.conftest import FUZZING
from tests.instances import euclidean_pmedian


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


def test_shaken_interchange_leaves_the_local_optima_of_interchange():
    """Where greedy + Teitz-Bart stops above the optimum (9 of the first 60 seeds), shaking the plan reaches it."""
    from netopt.heuristics import perturbed_interchange, pmedian_heuristic

    stuck = 0
    for seed in range(60):
        cost, weights, _ = euclidean_pmedian(seed, 40, 16)
        sites, value = pmedian_heuristic(cost, weights, 4)
        optimum = brute.pmedian(cost, weights, 4)
        if value > optimum + 1e-9:
            stuck += 1
            assert perturbed_interchange(cost, weights, sites)[1] == pytest.approx(optimum)
    assert stuck >= 5


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 5), st.integers(0, 2))
def test_shaken_interchange_keeps_fixed_and_forbidden_sites_and_never_worsens(seed, p, n_fixed):
    from netopt.heuristics import assignment_cost, perturbed_interchange

    cost, weights, _ = euclidean_pmedian(seed % 1000, 30, 12)
    rng = np.random.default_rng(seed)
    fixed = rng.choice(12, n_fixed, replace=False)
    allowed = rng.random(12) < 0.8
    allowed[fixed] = True
    free = np.setdiff1d(np.flatnonzero(allowed), fixed)
    if len(free) < p - n_fixed or p <= n_fixed:
        return
    start = np.union1d(fixed, rng.choice(free, p - n_fixed, replace=False))
    sites, value = perturbed_interchange(cost, weights, start, fixed, allowed, stall=8, seed=seed % 7)
    assert len(sites) == p and len(set(sites.tolist())) == p
    assert set(fixed.tolist()) <= set(sites.tolist()) and allowed[sites].all()
    assert value == pytest.approx(assignment_cost(cost, weights, sites))
    assert value <= assignment_cost(cost, weights, start) + 1e-9
    assert np.array_equal(perturbed_interchange(cost, weights, start, fixed, allowed, stall=8, seed=seed % 7)[0],
                          sites)  # seeded: the same plan again


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_every_swap_priced_at_once_matches_pricing_each_swapped_plan(seed, unreachable):
    """_best_swap prices all swaps in one pass (Whitaker); it must find the cheapest swapped plan that
    pricing every one of them directly finds, fixed sites staying open (the nearest open sites read a few rows
    at a time)."""
    from unittest import mock

    from netopt import heuristics
    from netopt.heuristics import _best_swap, assignment_cost

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 25)), int(rng.integers(2, 12))
    p = int(rng.integers(1, m))
    cost = rng.integers(1, 40, (n, m)).astype(float)
    if unreachable:
        cost[rng.random((n, m)) < 0.3] = np.inf
    weights = rng.integers(1, 9, n).astype(float)
    current = np.sort(rng.choice(m, p, replace=False))
    fixed = set(rng.choice(current, int(rng.integers(0, p + 1)), replace=False).tolist())
    allowed = rng.random(m) < 0.8
    swaps = {(int(r), int(s)): assignment_cost(cost, weights, np.union1d(np.setdiff1d(current, [r]), [s]))
             for r in current if int(r) not in fixed for s in np.flatnonzero(allowed) if s not in current}
    finite = {swap: value for swap, value in swaps.items() if np.isfinite(value)}
    with mock.patch.object(heuristics, "BLOCK_CELLS", int(rng.integers(1, 40))):
        swap, value = _best_swap(cost, weights, current, fixed, allowed)
    if not swaps:
        assert swap is None
    elif finite:
        assert value == pytest.approx(min(finite.values())) == finite[swap]
    else:
        assert swap is None or not np.isfinite(swaps[swap])


@pytest.mark.parametrize("seed", [9, 11, 14])
def test_pmedian_heuristic_plan_shakes_out_of_interchange_optima(seed):
    """model.heuristic() for p-median goes on from greedy + interchange (above the optimum on these instances)
    with shaken interchange, and reports the cost of the plan it gives."""
    from netopt.heuristics import assignment_cost, pmedian_heuristic

    cost, weights, _ = euclidean_pmedian(seed, 40, 16)
    optimum = brute.pmedian(cost, weights, 4)
    assert pmedian_heuristic(cost, weights, 4)[1] > optimum
    plan = no.PMedian.from_cost_matrix(cost, 4, weights=weights).heuristic()
    assert plan.status == "feasible" and plan.details["method"] == "greedy + interchange + shaken interchange"
    assert plan.objective == pytest.approx(optimum) == assignment_cost(cost, weights, np.array(_sites(plan)))


def test_shaken_interchange_stops_at_its_deadline():
    import time

    from netopt.heuristics import assignment_cost, perturbed_interchange

    cost, weights, _ = euclidean_pmedian(9, 40, 16)
    start = np.array([0, 1, 2, 3])
    sites, value = perturbed_interchange(cost, weights, start, deadline=time.perf_counter() - 1.0)
    assert sites.tolist() == [0, 1, 2, 3] and value == assignment_cost(cost, weights, start)  # no shake tried


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_nearest_sites_read_in_blocks_match_the_whole_matrix(seed, block_cells):
    """nearest_sites and two_nearest read the matrix a few rows at a time (a grid's million cells x 500 open
    sites would be a 4 GB temporary): the same nearest site, nearest and second-nearest distances as one pass
    over cost[:, sites], with ties, unreachable pairs and blocks of one row."""
    from unittest import mock

    from netopt import heuristics
    from netopt.heuristics import CANNOT_SERVE, nearest_sites, two_nearest

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 30)), int(rng.integers(1, 10))
    cost = rng.integers(1, 6, (n, m)).astype(float)
    cost[rng.random((n, m)) < 0.2] = np.inf
    sites = rng.choice(m, int(rng.integers(1, m + 1)), replace=False)
    whole = cost[:, sites]
    with mock.patch.object(heuristics, "BLOCK_CELLS", block_cells):
        position, distance = nearest_sites(cost, sites)
        nearest, first, runner_up, second = two_nearest(cost, sites)
        rows = rng.choice(n, int(rng.integers(0, n + 1)), replace=False)
        some = two_nearest(cost, sites, rows)
    assert np.array_equal(distance, whole.min(axis=1)) and np.array_equal(whole[np.arange(n), position], distance)
    ranked = np.minimum(np.sort(whole, axis=1), CANNOT_SERVE)
    assert np.array_equal(first, ranked[:, 0]) and np.array_equal(np.minimum(whole[np.arange(n), nearest],
                                                                             CANNOT_SERVE), first)
    assert np.array_equal(second, ranked[:, 1] if len(sites) > 1 else np.full(n, CANNOT_SERVE))
    if len(sites) > 1:
        assert (runner_up != nearest).all()
        assert np.array_equal(np.minimum(whole[np.arange(n), runner_up], CANNOT_SERVE), second)
    else:
        assert (runner_up == -1).all()
    assert all(np.array_equal(mine, everyone[rows]) for mine, everyone in zip(some, (nearest, first, runner_up,
                                                                                  second)))
    with mock.patch.object(heuristics, "BLOCK_CELLS", block_cells):
        none = nearest_sites(cost, np.array([], int))
    assert (none[0] == -1).all() and np.isinf(none[1]).all()


def _plain_greedy(cost, weights, p, fixed, allowed):
    """Greedy p-median pricing every allowed site at every step (the reference for the lazy one)."""
    chosen, allowed = list(fixed), allowed.copy()
    allowed[chosen] = False
    while len(chosen) < p and allowed.any():
        candidates = np.flatnonzero(allowed)
        totals = [weights @ cost[:, chosen + [j]].min(axis=1) for j in candidates]
        chosen.append(int(candidates[int(np.argmin(totals))]))
        allowed[chosen[-1]] = False
    return sorted(chosen)


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2), st.integers(1, 40))
def test_lazy_greedy_opens_the_sites_plain_greedy_opens(seed, n_fixed, block_cells):
    """greedy_pmedian prices only the sites whose earlier savings could still win (savings only fall as sites
    open): the same sites as pricing every site at every step, with fixed and forbidden sites."""
    from unittest import mock

    from netopt import heuristics

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 30)), int(rng.integers(2, 15))
    cost, weights = rng.random((n, m)) * 50, rng.random(n) * 9  # ties only where savings are 0 (lowest site wins)
    p = int(rng.integers(1, m + 1))
    fixed = rng.choice(m, min(n_fixed, p), replace=False)
    allowed = rng.random(m) < 0.85
    with mock.patch.object(heuristics, "BLOCK_CELLS", block_cells):
        lazy = heuristics.greedy_pmedian(cost, weights, p, fixed, allowed)
    assert lazy.tolist() == _plain_greedy(cost, weights, p, [int(j) for j in fixed], allowed | np.isin(np.arange(m), fixed))


def test_interchange_stops_at_its_deadline_with_the_plan_reached():
    import time

    from netopt.heuristics import assignment_cost, interchange

    cost, weights, _ = euclidean_pmedian(9, 40, 16)
    start = np.array([0, 1, 2, 3])
    sites, value = interchange(cost, weights, start, deadline=time.perf_counter() - 1.0)
    assert sites.tolist() == [0, 1, 2, 3] and value == assignment_cost(cost, weights, start)
    assert interchange(cost, weights, start)[1] < value


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_nearest_two_moved_along_accepted_swaps_prices_every_swap_as_measured_afresh(seed):
    """objective_of_swap keeps a plan's nearest and second-nearest sites and moves them along each accepted swap,
    measuring again only the points whose nearest or second nearest closed (p-center's closures on a 0.25 km
    grid: 109 s measured whole each time): after every swap, the same distances and swap prices as a fresh
    measure — with ties, unreachable pairs and plans of one site."""
    from netopt.heuristics import CANNOT_SERVE, NearestTwo

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 20)), int(rng.integers(2, 9))
    cost = rng.integers(1, 6, (n, m)).astype(float)
    cost[rng.random((n, m)) < 0.2] = np.inf
    plan = np.sort(rng.choice(m, int(rng.integers(1, m)), replace=False))
    moved = NearestTwo(cost, plan)
    for _ in range(6):
        out, into = rng.choice(plan), rng.choice(np.setdiff1d(np.arange(m), plan))
        plan = np.union1d(np.setdiff1d(plan, [out]), [into])
        moved = moved.moved_to(plan)
        assert moved.moved_to(plan.copy()) is moved  # the same plan: kept as it is
        fresh = NearestTwo(cost, plan)
        assert np.array_equal(moved.first, fresh.first) and np.array_equal(moved.second, fresh.second)
        assert np.array_equal(np.minimum(cost[np.arange(n), moved.nearest], CANNOT_SERVE), moved.first)
        for gone in plan:
            for new in np.setdiff1d(np.arange(m), plan):
                assert np.array_equal(moved.served_after(gone, new), fresh.served_after(gone, new))


def _priced_models(seed: int) -> tuple[list, list, dict]:
    """Random small models of every kind that prices plans (p-median, p-center, MCLP with and without backup
    coverage, market share; capacitated MCLP, both kinds, in a third of the seeds), a plan over their sites and
    what built them."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 15)), int(rng.integers(2, 8))
    cost = rng.integers(1, 6, (n, m)).astype(float)
    cost[rng.random((n, m)) < 0.2] = np.inf
    weights = rng.integers(0, 4, n).astype(float)
    plan = [f"s{j}" for j in np.sort(rng.choice(m, int(rng.integers(1, m + 1)), replace=False))]
    labels = {"demand_labels": [f"d{i}" for i in range(n)], "site_labels": [f"s{j}" for j in range(m)]}
    pull = np.where(np.isfinite(cost), 1.0 / cost**2, 0.0)
    rivals = np.where(rng.random(n) < 0.3, 0.0, rng.random(n))  # some towns no competitor reaches
    models = [no.PMedian(cost, 1, weights, **labels), no.PCenter(cost, 1, **labels),
              no.MCLP.from_coverage(sp.csr_matrix(cost <= 3), 1, weights=weights, **labels),
              no.MarketShare(pull, rivals, weights, p=1, **labels),
              no.MCLP.from_coverage(sp.csr_matrix(cost <= 3), 1, weights=weights, backup_weight=0.5, **labels)]
    capacity = rng.integers(0, 6, m).astype(float)  # full branches: closing one moves its people to spare room
    if seed % 3 == 0:  # each measure without a site is an integer program: a third of the examples
        models += [no.CapacitatedMCLP.from_coverage(sp.csr_matrix(cost <= 3), 1, capacity, weights=weights,
                                                    single_source=single, **labels) for single in (False, True)]
    return models, plan, {"cost": cost, "weights": weights, "labels": labels, "pull": pull, "rivals": rivals, "m": m}


@settings(max_examples=200 if FUZZING else 100, deadline=None)  # each case measures every plan without a site
@given(st.integers(0, 2**32 - 1))
def test_objective_without_each_site_is_the_plan_measured_without_it(seed):
    """objective_without_each prices closing each open site in one pass (p-median: its points move to their
    next-nearest site; p-center: the farthest of the rest or of its own points moved): the same as measuring
    the plan without that site, with ties, unreachable pairs, weights of 0 and plans of one site; market share
    from the plan's pull on each town less the site's (towns no competitor reaches too); capacitated MCLP by
    one LP re-solved with each site's capacity at 0 (single-source: measured); MCLP as its coverage less what
    the site alone covers (with backup coverage: measured)."""
    models, plan, built = _priced_models(seed)
    cost, weights, labels, pull, rivals, m = (built[k] for k in ("cost", "weights", "labels", "pull", "rivals", "m"))
    for model in models:
        without = model.objective_without_each(plan)
        assert without.index.tolist() == plan
        for site in plan:
            assert without[site] == pytest.approx(model.objective_of([s for s in plan if s != site]), rel=1e-12)
    assert models[0].objective_without_each(plan, among=plan[:1]).index.tolist() == plan[:1]
    median = models[0]  # minimised: worth is the travel added without the site
    assert np.allclose(median.worth_of_each(plan), median.objective_without_each(plan) - median.objective_of(plan),
                       equal_nan=True)
    covering = models[2]  # what each site alone covers: the plan's coverage less the plan's without it
    alone = covering.objective_of(plan) - covering.objective_without_each(plan)
    assert np.allclose(covering.covered_alone(plan).loc[plan], alone)
    lscp = no.LSCP.from_coverage(sp.csr_matrix(cost <= 3), weights=weights, cover_share=0.5, **labels)
    assert np.allclose(lscp.covered_alone(plan).loc[plan], alone)
    assert np.allclose(lscp.worth_of_each(plan).loc[plan], alone) and np.allclose(covering.worth_of_each(plan), alone)
    share = models[3]
    won = share.objective_of(plan) - share.objective_without_each(plan)
    target = no.MarketShare(pull, rivals, weights, target_share=0.5, **labels)  # counts sites: still wins residents
    assert np.allclose(share.worth_of_each(plan).loc[plan], won)
    assert np.allclose(target.worth_of_each(plan).loc[plan], won)
    closed = next((f"s{j}" for j in range(m) if f"s{j}" not in plan), None)
    if closed is not None:
        with pytest.raises(no.InputError, match="not open in the plan"):
            models[0].objective_without_each(plan, among=[closed])


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_objective_with_each_site_is_the_plan_measured_with_it(seed):
    """objective_with_each prices opening each closed site besides the plan (p-median and p-center from the
    plan's nearest sites, MCLP from what no plan site covers, market share from the plan's pull plus the site's,
    capacitated MCLP by one LP with each site's capacity given in turn): the same as measuring the plan with it;
    worth_of_each of every site, open or closed, is the plan with it against the plan without it, positive
    where it helps (LSCP and target-share models: in residents)."""
    models, plan, built = _priced_models(seed)
    models = [model for model in models if not getattr(model, "single_source", False)]  # measured one by one
    closed = [f"s{j}" for j in range(built["m"]) if f"s{j}" not in plan]
    everything = [f"s{j}" for j in range(built["m"])]
    for model in models:
        opened = model.objective_with_each(plan, closed)
        assert opened.index.tolist() == closed
        for site in closed:
            assert opened[site] == pytest.approx(model.objective_of(plan + [site]), rel=1e-12)
        worth = model.worth_of_each(plan, among=everything)
        for site in everything:
            with_it = model.objective_of(sorted(set(plan) | {site}))
            without = model.objective_of([s for s in plan if s != site]) if site in plan else model.objective_of(plan)
            gain = with_it - without if model.maximise else without - with_it
            assert worth[site] == pytest.approx(gain, rel=1e-9, abs=1e-9) or (np.isnan(gain) and np.isnan(worth[site]))
    covering, share = models[2], models[3]
    lscp = no.LSCP.from_coverage(sp.csr_matrix(built["cost"] <= 3), weights=built["weights"], cover_share=0.5,
                                 **built["labels"])
    assert np.allclose(lscp.worth_of_each(plan, among=everything), covering.worth_of_each(plan, among=everything))
    target = no.MarketShare(built["pull"], built["rivals"], built["weights"], target_share=0.5, **built["labels"])
    assert np.allclose(target.worth_of_each(plan, among=everything), share.worth_of_each(plan, among=everything))
    if plan:
        with pytest.raises(no.InputError, match="already open in the plan"):
            models[0].objective_with_each(plan, plan[:1])
