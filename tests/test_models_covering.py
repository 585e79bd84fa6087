"""LSCP, MCLP and p-center against brute force on random tiny instances, plus explanations of infeasibility."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from netopt._errors import InputError
from netopt.heuristics import pcenter_heuristic
from netopt.models import CFLP, LSCP, MCLP, CapacitatedMCLP, PCenter, PMedian
from netopt.models.covering import merge_identical_rows
from tests import brute
from tests.conftest import FUZZING


@st.composite
def coverage(draw, min_rows=1):
    n = draw(st.integers(min_rows, 9))
    m = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    density = draw(st.floats(0.2, 0.8))
    return rng.random((n, m)) < density, rng


@st.composite
def weighted_coverage(draw):
    """A drawn coverage case as (A, p, weights): p from 1 to the number of sites, weights 1..8."""
    A, rng = draw(coverage())
    return A, draw(st.integers(1, A.shape[1])), rng.integers(1, 9, A.shape[0]).astype(float)


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
def test_partial_cover_matches_brute_force(case, data):
    A, rng = case
    m = A.shape[1]
    cost = rng.integers(1, 6, m).astype(float)
    weights = rng.integers(1, 9, A.shape[0]).astype(float)
    share = data.draw(st.sampled_from([0.3, 0.5, 0.75, 0.9, 1.0]))
    fixed = data.draw(st.lists(st.integers(0, m - 1), max_size=1, unique=True))
    forbidden = data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True).filter(lambda f: not set(f) & set(fixed)))
    expected = brute.partial_cover(A, cost, weights, share, fixed=fixed, forbidden=forbidden)
    result = LSCP.from_coverage(A, facility_cost=cost, cover_share=share, weights=weights, fixed=fixed,
                                forbidden=forbidden).solve()
    if expected is None:
        assert result.status == "infeasible" and f"short of the {100 * share:g} % asked (cover_share={share:g})" in result.reason
        return
    assert result.status == "optimal" and result.objective == pytest.approx(expected)
    assert result.details["covered_weight"] >= share * weights.sum() - 1e-9
    heuristic = LSCP.from_coverage(A, facility_cost=cost, cover_share=share, weights=weights, fixed=fixed,
                                   forbidden=forbidden).heuristic()
    assert heuristic.objective >= expected - 1e-9 and heuristic.details["covered_weight"] >= share * weights.sum() - 1e-9


def test_partial_cover_of_residents_from_geodataframes():
    import netopt as no
    from netopt.planning import candidate_sites

    sample = no.load_sample()
    towns = sample.towns
    sites = candidate_sites(sample)
    everyone = LSCP.from_geodataframes(towns, sites, radius_km=3.5).solve()
    most = LSCP.from_geodataframes(towns, sites, radius_km=3.5, cover_share=0.9).solve()
    assert most.status == everyone.status == "optimal" and most.objective < everyone.objective
    assert 90.0 <= most.details["covered_pct"] < 100.0
    covered = towns["population"].to_numpy()[most.assignment["covered"].to_numpy()].sum()
    assert covered >= 0.9 * towns["population"].sum()
    with pytest.raises(InputError, match="cover_share must be a share"):
        LSCP.from_geodataframes(towns, sites, radius_km=3.5, cover_share=90)


def test_an_lscp_counts_what_each_site_covers_in_residents():
    """The objective counts sites, but worth_of_each (the CLI's adds 万人) counts the residents only each open site
    covers, from the demand's population; a demand without one counts its points."""
    import netopt as no
    from netopt.distance import cost_matrix_km
    from netopt.planning import candidate_sites

    sample = no.load_sample()
    towns, sites = sample.towns, candidate_sites(sample)
    model = LSCP.from_geodataframes(towns, sites, radius_km=3.5)
    plan = model.solve().selected
    worth = model.worth_of_each(plan)
    within = cost_matrix_km(towns, sites.set_index("site_id").loc[plan]) <= 3.5
    alone = within.sum(axis=1) == 1
    population = towns["population"].to_numpy()
    assert worth.tolist() == pytest.approx([population[alone & within[:, j]].sum() for j in range(len(plan))])
    assert worth.max() > 1e4
    points = LSCP.from_geodataframes(towns.drop(columns="population"), sites, radius_km=3.5)
    assert points.worth_of_each(plan).tolist() == [float((alone & within[:, j]).sum()) for j in range(len(plan))]


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


@settings(max_examples=80, deadline=None)
@given(coverage(), st.data())
def test_lscp_keeps_the_most_existing_sites_among_the_cheapest_covers(case, data):
    A, _ = case
    m = A.shape[1]
    existing = data.draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=m, unique=True))
    share = data.draw(st.sampled_from([None, 0.6]))
    weights = np.ones(A.shape[0])
    result = LSCP.from_coverage(A, cover_share=share, existing=existing, closable=existing).solve()
    enough = (A.shape[0] if share is None else share * A.shape[0]) - 1e-9
    values = {tuple(sites): -float(len(sites))
              for sites in brute.feasible_sets(m, range(1, m + 1), existing=existing, closable=existing)
              if weights @ A[:, sites].any(axis=1) >= enough}
    if not values:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal" and -result.objective == max(values.values())
    assert brute.kept(result.selected, existing) == brute.most_kept(values, existing)


@settings(max_examples=80, deadline=None)
@given(weighted_coverage(), st.data())
def test_mclp_keeps_the_most_existing_sites_among_the_best_plans(case, data):
    A, p, weights = case
    m = A.shape[1]
    existing = data.draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=m, unique=True))
    result = MCLP.from_coverage(A, p, weights=weights, existing=existing, closable=existing).solve()
    values = {tuple(sites): float(weights @ A[:, sites].any(axis=1))
              for sites in brute.feasible_sets(m, [p], existing=existing, closable=existing)}
    assert result.status == "optimal" and result.objective == pytest.approx(max(values.values()))
    assert brute.kept(result.selected, existing) == brute.most_kept(values, existing)


@settings(max_examples=60, deadline=None)
@given(weighted_coverage(), st.data())
def test_mclp_opens_the_cheapest_of_the_best_plans(case, data):
    """Sites of different opening costs under a budget that does not bind, at most p open: among the plans
    covering as much, one spending least — no dearer site where a cheaper one covers as much."""
    A, p, weights = case
    m = A.shape[1]
    cost = np.array(data.draw(st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=m, max_size=m)))
    result = MCLP.from_coverage(A, p, weights=weights, exactly_p=False, open_cost=cost, budget=float(cost.sum())
                                ).solve()
    values = {tuple(sites): float(weights @ A[:, sites].any(axis=1))
              for sites in brute.feasible_sets(m, range(0, p + 1))}  # none open: nothing within reach
    best = max(values.values())
    cheapest = min(cost[list(sites)].sum() for sites, value in values.items() if value >= best - 1e-9)
    assert result.status == "optimal" and result.objective == pytest.approx(best)
    assert cost[[int(label[1:]) for label in result.selected]].sum() == pytest.approx(cheapest)


def test_mclp_of_at_most_p_sites_of_one_cost_opens_the_fewest_that_cover_as_much():
    """Found by the fuzz run: every site costing 1万元, at most 4 open, three sites (cost 3) covered everyone
    where two do (s1, s2): no cost differed, so the plan spending least was not looked for."""
    A = np.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 1], [1, 1, 0, 1, 0],
                  [0, 1, 0, 0, 1]], bool)
    result = MCLP.from_coverage(A, 4, weights=np.array([7.0, 6, 7, 1, 1, 5]), exactly_p=False,
                                open_cost=np.ones(5), budget=5.0).solve()
    assert result.status == "optimal" and result.objective == 27 and result.selected == ["s1", "s2"]


@settings(max_examples=60, deadline=None)
@given(weighted_coverage(), st.data())
def test_mclp_rules_match_brute_force(case, data):
    A, p, weights = case
    m = A.shape[1]
    existing = data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True))
    closable = [j for j in existing if data.draw(st.booleans())]
    rules = dict(existing=existing, closable=closable, open_cost=np.full(m, 2.0), saving=None,
                 budget=data.draw(st.sampled_from([None, 2.0, 4.0])), county=[j % 2 for j in range(m)],
                 county_min={1: 1} if m > 1 and data.draw(st.booleans()) else None,
                 county_max={0: data.draw(st.integers(0, 2))} if data.draw(st.booleans()) else None)
    expected = brute.mclp(A, weights, p, **rules)
    rules.pop("saving")
    result = MCLP.from_coverage(A, p, weights=weights, **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected)


@settings(max_examples=80, deadline=None)
@given(weighted_coverage(), st.data())
def test_mclp_with_at_most_p_sites_matches_brute_force_and_opens_nothing_idle(case, data):
    """exactly_p=False: at most p sites, so a budget may pay for fewer, dearer and better ones (exactly p would
    fill p with cheap ones, or find no plan); no new site of the plan may close without losing coverage."""
    A, p, weights = case
    m = A.shape[1]
    existing = data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True))
    open_cost = np.array(data.draw(st.lists(st.sampled_from([1.0, 2.0, 4.0]), min_size=m, max_size=m)))
    rules = dict(existing=existing, open_cost=open_cost, budget=data.draw(st.sampled_from([None, 2.0, 5.0])))
    expected = brute.mclp(A, weights, p, at_most=True, **rules)
    result = MCLP.from_coverage(A, p, weights=weights, site_labels=range(m), exactly_p=False, **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
        return
    assert result.status == "optimal" and result.objective == pytest.approx(expected)
    chosen = np.array(result.selected, int)
    for j in np.setdiff1d(chosen, existing):
        assert float(weights @ A[:, np.setdiff1d(chosen, [j])].any(axis=1)) < result.objective - 1e-9


@settings(max_examples=220, deadline=None)
@given(st.integers(1, 8), st.integers(1, 6), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_matches_brute_force(n, m, seed, data):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    p = data.draw(st.integers(1, m))
    weights = rng.integers(0, 4, n).astype(float) if data.draw(st.booleans()) else None  # 0: never matters
    result = PCenter.from_cost_matrix(cost, p, weights=weights).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute.pcenter(cost, p, weights))
    assert len(result.selected) == p
    column = "distance" if weights is None else "weighted_distance"
    assert result.assignment[column].max() == pytest.approx(result.objective)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_with_unreachable_pairs_and_a_new_site_limit_matches_brute_force(n, m, seed, data):
    """Bisection runs over the distances between the lower bound and a first plan's worst (a grid's full list
    took gigabytes): still the optimum when pairs are missing and the first plan is a cover at the largest
    distance (a new-site limit leaves the heuristic out)."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    cost[rng.random((n, m)) < 0.3] = np.inf
    p = data.draw(st.integers(1, m))
    rules = {}
    if data.draw(st.booleans()):
        existing = [int(j) for j in rng.choice(m, data.draw(st.integers(1, m - 1)), replace=False)]
        rules = {"existing": existing, "closable": existing, "max_new": data.draw(st.integers(0, m - len(existing)))}
    expected = brute.pcenter(cost, p, **rules)
    result = PCenter.from_cost_matrix(cost, p, **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_with_fixed_and_forbidden_sites_matches_brute_force(n, m, seed, data):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    p = data.draw(st.integers(1, m - 1))
    fixed = [int(j) for j in rng.choice(m, data.draw(st.integers(0, min(m, p + 1))), replace=False)]
    forbidden = [j for j in range(m) if j not in fixed and rng.random() < 0.3]
    result = PCenter.from_cost_matrix(cost, p, fixed=fixed, forbidden=forbidden).solve()
    expected = brute.pcenter(cost, p, fixed=fixed, forbidden=forbidden)
    if expected is None:  # every site forbidden, or more sites fixed open than p
        assert result.status == "infeasible" and result.reason
        return
    assert result.status == "optimal" and result.objective == pytest.approx(expected)
    chosen = {int(s[1:]) if isinstance(s, str) else int(s) for s in result.selected}
    assert set(fixed) <= chosen and not chosen & set(forbidden)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 8), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_at_most_p_opens_no_new_site_the_largest_distance_does_not_need(n, m, seed, data):
    """Today's sites kept and at most p open (exactly_p=False, as `optimize --max-new`): the brute-force optimum,
    today's sites open, and every new site needed — closing any one makes the largest distance longer."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    existing = [int(j) for j in rng.choice(m, data.draw(st.integers(1, m - 1)), replace=False)]
    p = data.draw(st.integers(len(existing), m))
    result = PCenter.from_cost_matrix(cost, p, exactly_p=False, existing=existing).solve()
    assert result.status == "optimal" and result.objective == pytest.approx(brute.pcenter(cost, p, existing=existing))
    chosen = sorted(int(s[1:]) for s in result.selected)
    assert set(existing) <= set(chosen) and len(chosen) <= p
    for j in set(chosen) - set(existing):
        assert cost[:, [k for k in chosen if k != j]].min(axis=1).max() > result.objective


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 8), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_keeps_the_most_existing_sites_among_the_best_plans(n, m, seed, data):
    """All today's branches may close: among the plans as good (the farthest town no farther), the one keeping
    the most of them — the maximum only matters, so many plans tie."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    existing = [int(j) for j in rng.choice(m, data.draw(st.integers(1, m)), replace=False)]
    p = data.draw(st.integers(1, m))
    result = PCenter.from_cost_matrix(cost, p, existing=existing, closable=existing).solve()
    values = {tuple(sites): -float(cost[:, sites].min(axis=1).max())
              for sites in brute.feasible_sets(m, [p], existing=existing, closable=existing)}
    assert result.status == "optimal" and -result.objective == pytest.approx(max(values.values()))
    assert brute.kept(result.selected, existing) == brute.most_kept(values, existing)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 8), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_closes_only_branches_its_rules_need_closed(n, m, seed, data):
    """Today's branches may close, with a new-site limit, a budget funded by closures or a county maximum: the
    optimum of brute force, and no closed branch that the rules would let reopen within p sites."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    existing = [int(j) for j in rng.choice(m, data.draw(st.integers(1, m - 1)), replace=False)]
    p = data.draw(st.integers(1, m))
    rules = {"existing": existing, "closable": existing}
    rule = data.draw(st.sampled_from(["max_new", "budget", "county_max"]))
    if rule == "max_new":
        rules["max_new"] = data.draw(st.integers(0, m - len(existing)))
    elif rule == "budget":
        rules.update(open_cost=np.full(m, 3.0), saving=np.full(m, 1.0), budget=float(data.draw(st.integers(0, 6))))
    else:
        rules.update(county=[j % 2 for j in range(m)], county_max={0: data.draw(st.integers(0, 2))})
    expected = brute.pcenter(cost, p, **rules)
    if "saving" in rules:
        rules["closing_saving"] = rules.pop("saving")
    model = PCenter.from_cost_matrix(cost, p, **rules)
    result = model.solve()
    if expected is None:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal" and result.objective == pytest.approx(expected)
    is_open = np.zeros(m, bool)
    is_open[[int(s[1:]) for s in result.selected]] = True
    assert is_open.sum() <= p and model.rules.admits(is_open)
    for j in np.flatnonzero(~is_open):
        more = is_open.copy()
        more[j] = True
        assert is_open.sum() == p or not model.rules.admits(more) or j not in existing


def test_pcenter_swaps_keep_fixed_sites_and_never_worsen_the_start():
    rng = np.random.default_rng(7)
    cost = rng.uniform(0, 100, (120, 40))
    allowed = np.ones(40, bool)
    allowed[[5, 6, 7]] = False
    start = np.array([0, 1, 2, 3])
    sites = pcenter_heuristic(cost, start, fixed=np.array([0]), allowed=allowed)
    assert len(sites) == 4 and 0 in sites and not set(sites) & {5, 6, 7}
    assert cost[:, sites].min(axis=1).max() <= cost[:, start].min(axis=1).max()
    assert np.array_equal(sites, pcenter_heuristic(cost, start, fixed=np.array([0]), allowed=allowed))


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


def _random_coverage(seed: int, k: int, m: int, density: float, top_weight: int) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    A = sp.csr_matrix((rng.random((k, m)) < density).astype(float))
    return A, rng.integers(1, top_weight, k).astype(float)


@pytest.mark.parametrize("seed", range(8))
def test_lp_multipliers_give_the_lp_bound_with_fixed_and_forbidden_sites(seed):
    from scipy.optimize import linprog

    from netopt.models._covering_lp import lagrangian_site_tests, mclp_lp_multipliers

    k, m, p = 60, 12, 4
    A, w = _random_coverage(seed, k, m, 0.25, 20)
    fixed, forbidden = np.array([seed % m]), np.array([(seed + 5) % m])
    lam, y = mclp_lp_multipliers(A, w, p, fixed, forbidden)
    closed, must = np.zeros(m, bool), np.zeros(m, bool)
    closed[forbidden], must[fixed] = True, True
    bound = lagrangian_site_tests(A.tocsc(), w, lam, p, closed, must)[0]
    # the compact LP (y, z): max Σ w z, z ≤ A y, Σ y = p, fixed y = 1, forbidden y = 0
    c = np.concatenate([np.zeros(m), -w])
    A_ub = sp.hstack([-A, sp.identity(k)]).toarray()
    bounds = [(1, 1) if j in fixed else (0, 0) if j in forbidden else (0, 1) for j in range(m)] + [(0, 1)] * k
    lp = linprog(c, A_ub=A_ub, b_ub=np.zeros(k), A_eq=np.concatenate([np.ones(m), np.zeros(k)])[None, :],
                 b_eq=[p], bounds=bounds, method="highs")
    assert bound == pytest.approx(-lp.fun, rel=1e-7)
    assert y.sum() == pytest.approx(p) and y[fixed] == 1 and y[forbidden] == 0


@pytest.mark.parametrize("seed", range(10))
def test_mclp_with_lp_fixing_and_support_search_matches_brute_force(seed):
    """Instances big enough that the LP support search and the bound's site fixing run."""
    rng = np.random.default_rng(seed)
    demand, sites = rng.uniform(0, 30, (400, 2)), rng.uniform(0, 30, (22, 2))
    A = np.hypot(demand[:, None, 0] - sites[None, :, 0], demand[:, None, 1] - sites[None, :, 1]) <= 6.0
    weights = rng.integers(1, 50, 400).astype(float)
    p = int(rng.integers(2, 5))
    result = MCLP.from_coverage(A, p, weights=weights).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute.mclp(A, weights, p))
    assert result.details["sites_after_reduction"] <= 22


@pytest.mark.parametrize("seed", range(10))
def test_sites_fixed_by_the_lp_bound_cannot_improve_on_the_incumbent(seed):
    """From a deliberately poor incumbent: every closed site is in no better plan, every opened one in all."""
    from itertools import combinations

    from netopt.models._covering_lp import mclp_lp_multipliers
    from netopt.models.covering import mclp_lagrangian_reduction

    k, m, p = 80, 12, 3
    A, w = _random_coverage(seed, k, m, 0.2, 30)
    plans = {sites: float(w @ (A[:, list(sites)].sum(axis=1).A1 > 0)) for sites in combinations(range(m), p)}
    best = max(plans.values())
    incumbent = max((s for s in plans if plans[s] < best), key=plans.get)  # the runner-up: not optimal
    lower = plans[incumbent]
    lam, _ = mclp_lp_multipliers(A, w, p, np.array([], int), np.array([], int))
    _, closed, opened = mclp_lagrangian_reduction(A, w, p, lower, np.array([], int), np.array([], int),
                                                  np.array(incumbent), True, iterations=1, lam=lam)
    better = [sites for sites, value in plans.items() if value > lower]
    assert better and (closed.any() or opened.any())
    for sites in better:
        assert not closed[list(sites)].any()
        assert set(np.flatnonzero(opened)) <= set(sites)


def test_lp_rounding_keeps_fixed_sites_avoids_forbidden_ones_and_never_worsens_the_incumbent():
    A, w = _random_coverage(4, 200, 15, 0.2, 40)
    model = MCLP.from_coverage(A, 4, weights=w, fixed=[3], forbidden=[7])
    y_lp = np.linspace(1.0, 0.0, 15)  # site 3 ranks low, forbidden site 7 high
    y_lp[7] = 2.0
    start = np.array([3, 0, 1, 2])
    start_value = model._value(np.isin(np.arange(15), start).astype(float))
    sites, value = model._lp_rounding(y_lp, start, start_value, deadline=None)
    assert len(sites) == 4 and 3 in sites and 7 not in sites
    assert value >= start_value
    assert value == pytest.approx(model._value(np.isin(np.arange(15), sites).astype(float)))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.integers(0, 4), st.integers(0, 50), min_size=1, max_size=4), min_size=1,
                max_size=4), st.integers(0, 10), st.booleans())
def test_best_split_matches_enumeration(options, p, exactly_p):
    from itertools import product

    from netopt.models.covering import best_split

    splits = [s for s in product(*[sorted(o) for o in options]) if (sum(s) == p if exactly_p else sum(s) <= p)]
    split = best_split([{t: float(v) for t, v in o.items()} for o in options], p, exactly_p)
    if not splits:
        assert split is None
    else:
        best = max(sum(o[t] for o, t in zip(options, s)) for s in splits)
        assert tuple(split) in splits
        assert sum(o[t] for o, t in zip(options, split)) == best


def _three_towns(seed: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Three far-apart towns of 60 demand points and 6 sites each (coverage 4 km), plus 3 sites covering
    nothing; returns coverage, weights and each town's sites."""
    rng = np.random.default_rng(seed)
    demand, sites, towns = [], [], []
    for t, centre in enumerate([(0, 0), (100, 0), (0, 100)]):
        demand.append(np.asarray(centre) + rng.normal(0, 3, (60, 2)))
        sites.append(np.asarray(centre) + rng.normal(0, 3, (6, 2)))
        towns.append(np.arange(6 * t, 6 * t + 6))
    demand, sites = np.vstack(demand), np.vstack(sites + [rng.uniform(300, 400, (3, 2))])
    A = np.hypot(demand[:, None, 0] - sites[None, :, 0], demand[:, None, 1] - sites[None, :, 1]) <= 4.0
    return A, rng.integers(1, 30, len(demand)).astype(float), towns


@pytest.mark.parametrize("seed", range(6))
def test_support_search_splits_independent_towns_and_finds_the_best_plan_over_them(seed):
    """Sites of different towns share no demand: each group of sites is solved for a few numbers of sites and
    p is split among them exactly; with the LP's numbers set to the best split, the plan found is the optimum."""
    from itertools import combinations

    from netopt.models.covering import independent_site_groups

    A, w, towns = _three_towns(seed)
    p, used = 5, np.concatenate(towns)
    model = MCLP.from_coverage(A, p, weights=w, fixed=[towns[0][0]])
    groups = independent_site_groups(model.unique, used)
    assert sorted(np.concatenate(groups)) == sorted(used)
    assert all(any(set(group) <= set(town) for town in towns) for group in groups)
    value = {sites: float(w @ A[:, list(sites)].any(axis=1)) for sites in combinations(used, p)
             if towns[0][0] in sites}
    best = max(value, key=value.get)
    y_lp = np.zeros(A.shape[1])
    for group in groups:  # the best split, as LP values
        y_lp[group] = np.isin(group, best).sum() / len(group)
    worst = min(value, key=value.get)
    sites, found = model._support_search(y_lp, np.array(worst), value[worst], None)
    assert found == pytest.approx(value[best])
    assert len(sites) == p and towns[0][0] in sites
    assert found == pytest.approx(model._value(np.isin(np.arange(A.shape[1]), sites).astype(float)))


def test_dominated_sites_keep_one_of_equals_the_cheapest_or_existing_and_never_fixed_ones():
    from netopt.models.covering import dominated_sites

    # site 0 covers rows {0, 1}; 1 covers {0}; 2 covers {0, 1} like 0; 3 covers nothing; 4 covers {2}
    A = sp.csr_matrix(np.array([[1, 1, 1, 0, 0], [1, 0, 1, 0, 0], [0, 0, 0, 0, 1]]))
    none = np.array([], int)
    rows = np.arange(3)
    assert np.flatnonzero(dominated_sites(A, rows, none, none)).tolist() == [1, 2, 3]
    cheaper_2 = np.array([1.0, 1.0, 0.5, 1.0, 1.0])
    assert np.flatnonzero(dominated_sites(A, rows, none, none, cheaper_2)).tolist() == [0, 1, 3]
    pricey_1 = np.array([2.0, 1.0, 2.0, 1.0, 1.0])  # site 1 is cheaper than the sites covering more
    assert np.flatnonzero(dominated_sites(A, rows, none, none, pricey_1)).tolist() == [2, 3]
    assert np.flatnonzero(dominated_sites(A, rows, none, none, existing=np.array([2]))).tolist() == [0, 1, 3]
    assert np.flatnonzero(dominated_sites(A, rows, none, none, existing=np.array([1, 3]))).tolist() == [2]
    assert np.flatnonzero(dominated_sites(A, rows, np.array([1, 2]), none)).tolist() == [3]
    assert np.flatnonzero(dominated_sites(A, rows, none, np.array([0, 2]))).tolist() == [3]  # no allowed dominator
    assert np.flatnonzero(dominated_sites(A, np.array([2]), none, none)).tolist() == [0, 1, 2, 3]  # row 2 only


def test_dominated_rows_are_those_another_rows_cover_implies():
    from netopt.models.covering import dominated_rows

    A = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]]))
    assert np.flatnonzero(dominated_rows(A)).tolist() == [1, 2]
    assert not dominated_rows(A, max_pairs=1).any()


@settings(max_examples=200, deadline=None)
@given(coverage(), st.data())
def test_covering_models_with_fixed_and_forbidden_sites_match_brute_force(case, data):
    """The plain models drop dominated sites (and, for LSCP, rows) before solving: the optimum stays."""
    A, rng = case
    m = A.shape[1]
    fixed = data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True))
    forbidden = [j for j in range(m) if j not in fixed and data.draw(st.booleans())]
    weights = rng.integers(0, 9, A.shape[0]).astype(float)  # zero weights: rows that do not count
    cost = rng.integers(0, 4, m).astype(float)
    expected = brute.lscp(A, cost, fixed=fixed, forbidden=forbidden)
    result = LSCP.from_coverage(sp.csr_matrix(A), facility_cost=cost, fixed=fixed, forbidden=forbidden).solve()
    if expected is None:
        assert result.status == "infeasible"
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected)
        assert result.assignment["covered"].all() and set(fixed) <= {int(s[1:]) for s in result.selected}
    allowed = m - len(forbidden)
    if allowed < max(1, len(fixed)):
        return
    p = data.draw(st.integers(max(1, len(fixed)), allowed))
    result = MCLP.from_coverage(A, p, weights=weights, fixed=fixed, forbidden=forbidden).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute.mclp(A, weights, p, fixed=fixed, forbidden=forbidden))
    chosen = {int(s[1:]) for s in result.selected}
    assert len(chosen) == p and set(fixed) <= chosen and not chosen & set(forbidden)


def test_a_branch_that_may_close_is_kept_over_a_new_site_covering_the_same_towns():
    """Dropping dominated sites must not turn a tie into 'close a branch, open an identical new one'."""
    A = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]])  # sites 0 and 1 cover the same towns; 1 is a branch today
    weights = np.array([5.0, 5.0, 1.0])
    for model in (MCLP.from_coverage(A, 1, weights=weights, existing=[1], closable=[1]),
                  LSCP.from_coverage(A, existing=[1], closable=[1])):
        result = model.solve()
        assert result.status == "optimal" and "s1" in result.selected and "s0" not in result.selected


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.5, 6.0))
def test_from_cost_matrix_covers_within_the_radius(seed, radius):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 8, (9, 5))
    weights = rng.integers(1, 9, 9).astype(float)
    expected = brute.mclp(cost <= radius, weights, 2)
    assert MCLP.from_cost_matrix(cost, radius, 2, weights).solve().objective == pytest.approx(expected)
    cheapest = brute.lscp(cost <= radius, np.ones(5))
    lscp = LSCP.from_cost_matrix(cost, radius).solve()
    assert lscp.status == ("infeasible" if cheapest is None else "optimal")
    if cheapest is not None:
        assert lscp.objective == pytest.approx(cheapest)


def test_sparse_costs_cover_at_stored_entries_within_the_radius():
    cost = sp.csr_matrix(([0.0, 2.0, 5.0], ([0, 1, 2], [0, 1, 1])), shape=(3, 2))  # a stored 0 is a distance
    model = MCLP.from_cost_matrix(cost, 3.0, 2)
    assert model.A.toarray().tolist() == [[1, 0], [0, 1], [0, 0]]
    with pytest.raises(InputError, match="negative"):
        MCLP.from_cost_matrix(sp.csr_matrix(np.array([[-1.0]])), 3.0, 1)
    with pytest.raises(InputError, match="radius"):
        LSCP.from_cost_matrix(np.ones((2, 2)), float("nan"))


def test_dense_coverage_must_be_zero_one():
    with pytest.raises(InputError, match="from_cost_matrix"):
        MCLP.from_coverage(np.array([[0.0, 2.5], [1.0, 0.0]]), 1)
    assert MCLP.from_coverage(np.array([[True, False], [False, True]]), 1).solve().objective == 1


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 9), st.integers(2, 6), st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_pcenter_stopped_by_the_time_limit_keeps_a_true_bound(n, m, seed, answered):
    """A covering step the time limit ends without an answer must not count as 'no cover at this radius'."""
    from netopt.models._milp import Result

    cost = np.random.default_rng(seed).integers(1, 20, (n, m)).astype(float)
    calls = {"left": answered}
    real_solve = LSCP.solve

    def sometimes_out_of_time(self, *args, **kwargs):
        calls["left"] -= 1
        if calls["left"] >= 0:
            return real_solve(self, *args, **kwargs)
        return Result("feasible", np.nan, np.nan, np.inf, 0.0, reason="time limit")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LSCP, "solve", sometimes_out_of_time)
        # a county minimum every plan meets turns the heuristic start off: bisection from the largest radius
        result = PCenter.from_cost_matrix(cost, min(2, m), county=np.zeros(m, int), county_min={0: 1}).solve()
    optimum = brute.pcenter(cost, min(2, m))
    assert result.bound <= optimum + 1e-9 <= result.objective + 1e-9
    assert (result.status == "optimal") == (result.objective == pytest.approx(result.bound))


@settings(max_examples=60, deadline=None)
@given(st.integers(8, 30), st.integers(4, 12), st.integers(0, 2**32 - 1), st.data())
def test_mclp_without_time_for_its_final_mip_returns_the_incumbent_with_a_true_bound(k, m, seed, data):
    """Under a time limit too short for the final MIP to start, the plan found so far is the answer, with the
    Lagrangian bound: optimal only when that bound proves it."""
    from netopt.models import covering

    A, weights = _random_coverage(seed, k, m, 0.3, 20)
    p = data.draw(st.integers(1, m - 1))
    poor_start = data.draw(st.booleans())  # the first p sites, not improved: often not optimal

    def first_sites(self, deadline=None):
        y = np.zeros(self.A.shape[1])
        y[:self.p] = 1.0
        return self._vector(y), self._value(y)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(covering, "MIP_RESERVE", 1e9)
        if poor_start:
            patch.setattr(MCLP, "_heuristic", first_sites)
            patch.setattr(MCLP, "_lp_rounding", lambda self, y_lp, incumbent, lower, deadline: (incumbent, lower))
            patch.setattr(MCLP, "_support_search", lambda self, y_lp, incumbent, lower, seconds: (incumbent, lower))
        result = MCLP.from_coverage(A, p, weights=weights).solve(time_limit=3600)
    optimum = brute.mclp(A.toarray() > 0, weights, p)
    chosen = [int(s[1:]) for s in result.selected]
    assert len(chosen) == p
    assert result.objective == pytest.approx(weights[(A[:, chosen].sum(axis=1).A1 > 0)].sum())
    assert result.objective <= optimum + 1e-9 <= result.bound + 1e-9
    assert (result.status == "optimal") == (result.objective == pytest.approx(optimum) and
                                              result.bound < result.objective + 1)


def test_a_few_subgradient_steps_never_bound_above_all_the_demand():
    from netopt.models.covering import mclp_lagrangian_reduction

    A = sp.csr_matrix(np.ones((5, 4)))  # every site covers everyone: L(w/2) = Σw/2 + 3 · Σw/2 = 2 Σw
    weights = np.arange(1.0, 6.0)
    bound, _, _ = mclp_lagrangian_reduction(A, weights, 3, 0.0, np.zeros(0, int), np.zeros(0, int),
                                            np.zeros(0, int), True, iterations=1)
    assert bound == pytest.approx(weights.sum())


@settings(max_examples=40, deadline=None)
@given(st.integers(8, 30), st.integers(4, 12), st.integers(0, 2**32 - 1), st.data())
def test_mclp_whose_lp_does_not_finish_keeps_a_true_bound_and_its_time(k, m, seed, data):
    """When the LP does not finish in its share of the time, the subgradient bound (at most all the weight)
    stands, and the final MIP is not started when the time left is shorter than its set-up is expected to be."""
    from netopt.models import covering

    A, weights = _random_coverage(seed, k, m, 0.5, 20)
    p = data.draw(st.integers(1, m - 1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(covering, "mclp_lp_multipliers", lambda *args: None)
        no_time = data.draw(st.booleans())
        patch.setattr(covering, "BUILD_RESERVE", 1e9 if no_time else 0.0)
        if no_time:  # the incumbent is the answer: no final MIP
            patch.setattr(covering.LocationModel, "solve", lambda *args, **kwargs: pytest.fail("MIP started"))
        result = MCLP.from_coverage(A, p, weights=weights).solve(time_limit=3600)
    optimum = brute.mclp(A.toarray() > 0, weights, p)
    assert result.objective <= optimum + 1e-9 <= result.bound + 1e-9 and result.bound <= weights.sum() + 1e-9
    assert (result.status == "optimal") == (result.objective == pytest.approx(optimum) and
                                              result.bound < result.objective + 1)


@pytest.mark.parametrize("seed", range(5))
def test_assignment_names_the_nearest_open_covering_site_and_its_distance(seed):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 10, (60, 15))
    cost[0, :] = 0.0  # stored zeros cover; in a sparse matrix built from dense, those entries are missing
    missing_row_0 = cost.copy()
    missing_row_0[0, :] = np.inf
    cases = [(MCLP.from_cost_matrix(cost, 3.0, 4), cost, 3.0), (LSCP.from_cost_matrix(cost, 6.0), cost, 6.0),
             (MCLP.from_cost_matrix(sp.csr_matrix(np.where(cost <= 3.0, cost, 0.0)), 3.0, 4), missing_row_0, 3.0)]
    for model, effective, radius in cases:
        result = model.solve()
        open_sites = [int(s[1:]) for s in result.selected]
        within = np.where(effective[:, open_sites] <= radius, effective[:, open_sites], np.inf)
        nearest = within.min(axis=1)
        table = result.assignment
        assert np.allclose(table["distance"].fillna(np.inf), nearest)
        covered = np.isfinite(nearest)
        chosen = table.loc[covered, "site"].tolist()
        assert [cost[i, int(c[1:])] for i, c in zip(np.flatnonzero(covered), chosen)] == pytest.approx(nearest[covered])
        assert table.loc[~covered, "site"].isna().all()
        assert (table["covering_sites"] == (within < np.inf).sum(axis=1)).all()


@settings(max_examples=40, deadline=None)
@given(coverage(), st.data())
def test_coverage_curve_is_each_p_solved_exactly(case, data):
    A, rng = case
    weights = rng.integers(1, 9, A.shape[0]).astype(float)
    fixed = data.draw(st.lists(st.integers(0, A.shape[1] - 1), max_size=2, unique=True))
    model = MCLP.from_coverage(A, 1 if not fixed else len(fixed), weights=weights, fixed=fixed)
    table = model.curve(range(1, A.shape[1] + 1))
    assert table["p"].tolist() == list(range(1, A.shape[1] + 1))
    for row in table.itertuples():
        if row.p < len(fixed):
            assert row.status == "infeasible" and "must" in row.reason
        else:
            assert row.status == "optimal"
            assert row.covered_weight == pytest.approx(brute.mclp(A, weights, row.p, fixed=fixed))
    solved = table[table["status"] == "optimal"]
    assert (np.diff(solved["covered_weight"]) >= -1e-9).all()
    assert np.allclose(table["gain"].iloc[1:], np.diff(table["covered_weight"]), equal_nan=True)


def test_a_curves_point_without_choice_is_measured_not_solved(monkeypatch):
    """Today's network (every branch kept, no new one) is the only plan of the first point of either curve: it
    reads optimal whatever the time limit, as brute force counts it, without a solve that a limit could stop."""
    rng = np.random.default_rng(7)
    A = (rng.random((30, 8)) < 0.3).astype(int)
    weights = rng.integers(1, 9, 30).astype(float)
    solved = []
    solve = MCLP.solve
    monkeypatch.setattr(MCLP, "solve", lambda self, *args, **kwargs: solved.append(self.p) or solve(self, *args,
                                                                                                      **kwargs))
    kept = MCLP.from_coverage(A, 3, weights=weights, existing=[0, 4, 6])
    moving = MCLP.from_coverage(A, 3, weights=weights, existing=[0, 4, 6], closable=[0, 4, 6])
    for table, first in ((kept.curve([3, 4], time_limit=1e-6), "p"), (moving.moves_curve([0, 1]), "moves")):
        row = table.iloc[0]
        assert row[first] == (3 if first == "p" else 0) and row["status"] == "optimal" and row["gap"] == 0.0
        assert row["covered_weight"] == pytest.approx(brute.mclp(A, weights, 3, fixed=[0, 4, 6]))
        assert sorted(row["selected"]) == ["s0", "s4", "s6"]
    assert solved == [4, 3]  # only the points with a choice were solved
    infeasible = MCLP.from_coverage(A, 3, weights=weights, existing=[0, 4, 6], must_reach=[[0, 1, 0, 0, 0, 0, 0, 0]])
    assert infeasible.curve([3])["status"].tolist() == ["infeasible"]  # a forced plan breaking a rule is solved


@settings(max_examples=40, deadline=None)
@given(coverage(), st.data())
def test_moves_curve_is_each_number_of_moves_solved_exactly(case, data):
    A, rng = case
    m = A.shape[1]
    weights = rng.integers(1, 9, A.shape[0]).astype(float)
    existing = data.draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=m, unique=True))
    county = [j % 2 for j in range(m)]
    county_max = {0: sum(1 for j in existing if j % 2 == 0)} if data.draw(st.booleans()) else None
    rules = dict(existing=existing, closable=existing, county=county, county_max=county_max)
    model = MCLP.from_coverage(A, len(existing), weights=weights, **rules)
    table = model.moves_curve(iter(range(m - len(existing), -1, -1)))
    assert table["moves"].tolist() == list(range(m - len(existing) + 1))
    for row in table.itertuples():
        assert row.status == "optimal"
        assert row.covered_weight == pytest.approx(brute.mclp(A, weights, len(existing), max_new=row.moves, **rules))
        assert sum(1 for s in row.selected if int(s[1:]) not in existing) <= row.moves
    assert (np.diff(table["covered_weight"]) >= -1e-9).all()  # another move never loses coverage
    with pytest.raises(InputError, match="a number of moves must be a whole number of at least 0"):
        model.moves_curve([1, -1])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(2, 6), st.integers(0, 2**32 - 1), st.data())
def test_objective_of_a_plan_is_the_solved_objective(n, m, seed, data):
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    weights = rng.integers(1, 9, n).astype(float)
    p = data.draw(st.integers(1, m))
    models = [MCLP.from_cost_matrix(cost, 12.0, p, weights=weights), PMedian.from_cost_matrix(cost, p, weights),
              PCenter.from_cost_matrix(cost, p)]
    for model in models:
        result = model.solve()
        assert model.objective_of(result.selected) == pytest.approx(result.objective)
        given = model.evaluate(result.selected)  # the same plan reported as solve() reports it
        assert given.status == "evaluated" and np.isnan([given.bound, given.gap]).all()
        assert given.selected == result.selected
        assert given.objective == pytest.approx(result.objective)
        pd.testing.assert_frame_equal(given.assignment, result.assignment)
    sites = [f"s{j}" for j in range(m) if data.draw(st.booleans())]
    nearest = cost[:, [int(s[1:]) for s in sites]].min(axis=1, initial=np.inf)
    assert models[0].objective_of(sites) == pytest.approx(weights[nearest <= 12.0].sum())
    assert models[1].objective_of(sites) == pytest.approx(weights @ nearest if sites else np.inf)
    assert models[2].objective_of(sites) == pytest.approx(nearest.max())
    for model in models if sites else []:
        given = model.evaluate(sites[::-1])
        assert given.selected == sites and given.objective == pytest.approx(model.objective_of(sites))


def test_objective_of_names_unknown_sites_and_models_without_it():
    model = PCenter.from_cost_matrix(np.ones((2, 3)), 1)
    with pytest.raises(InputError, match="not candidate sites of this model, e.g. \\['x'\\]"):
        model.objective_of(["s0", "x"])
    with pytest.raises(InputError, match="objective_of and evaluate are for MCLP, PMedian and PCenter, not LSCP"):
        LSCP.from_coverage(sp.csr_matrix(np.ones((2, 2)))).objective_of(["s0"])
    with pytest.raises(InputError, match="evaluate: 1 site\\(s\\) are not candidate sites"):
        model.evaluate(["x"])
    with pytest.raises(InputError, match="a plan needs at least one open site"):
        model.evaluate([])
    with pytest.raises(InputError, match="not CFLP"):
        CFLP.from_cost_matrix(np.ones((2, 2)), [1, 1], None, [1, 1]).evaluate(["s0"])


@settings(max_examples=300 if FUZZING else 150, deadline=None)  # each case solves round after round
@given(st.integers(1, 14), st.integers(2, 7), st.integers(0, 2**32 - 1), st.data())
def test_pcenter_solved_over_a_few_demand_points_at_a_time_matches_brute_force(n, m, seed, data):
    """The p-center of a few demand points bounds the optimum and the points its plan leaves farther join them
    (a covering model of every cell of a 0.25 km grid took 8 GB at each bisection step): with one to three
    points at first and one or two more per round, still brute force's optimum — with weights, unreachable
    pairs, fixed and forbidden sites, closable branches alone or under a new-site limit, a budget or a county
    maximum — and, with closable branches alone, a plan keeping the most of them among the plans as good."""
    from unittest import mock

    from netopt.models import center

    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 30, (n, m)).astype(float)
    if data.draw(st.booleans()):
        cost[rng.random((n, m)) < 0.2] = np.inf
    p = data.draw(st.integers(1, m))
    weights = rng.integers(0, 4, n).astype(float) if data.draw(st.booleans()) else None
    kind = data.draw(st.sampled_from(["none", "fixed", "closable", "max_new", "budget", "county_max"]))
    existing = [int(j) for j in rng.choice(m, data.draw(st.integers(1, m - 1)), replace=False)]
    rules = {} if kind in ("none", "fixed") else {"existing": existing, "closable": existing}
    if kind == "fixed":
        rules = {"fixed": existing[:p], "forbidden": [j for j in range(m) if j not in existing and rng.random() < .3]}
    elif kind == "max_new":
        rules["max_new"] = data.draw(st.integers(0, m - len(existing)))
    elif kind == "budget":
        rules.update(open_cost=np.full(m, 3.0), saving=np.full(m, 1.0), budget=float(data.draw(st.integers(0, 6))))
    elif kind == "county_max":
        rules.update(county=[j % 2 for j in range(m)], county_max={0: data.draw(st.integers(0, 2))})
    expected = brute.pcenter(cost, p, weights, **rules)
    if "saving" in rules:
        rules["closing_saving"] = rules.pop("saving")
    with mock.patch.object(center, "FIRST_ROWS", data.draw(st.integers(1, 3))), \
            mock.patch.object(center, "ROWS_PER_ROUND", data.draw(st.integers(1, 2))):
        result = PCenter.from_cost_matrix(cost, p, weights=weights, **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
        return
    assert result.status == "optimal" and result.objective == pytest.approx(expected)
    if kind == "closable":
        scored = PCenter.from_cost_matrix(cost, p, weights=weights)
        values = {tuple(sites): -scored.objective_of([f"s{j}" for j in sites])
                  for sites in brute.feasible_sets(m, [p], existing=existing, closable=existing)}
        assert brute.kept(result.selected, existing) == brute.most_kept(values, existing)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pcenter_over_a_few_points_at_a_time_reaches_the_optimum_of_every_point_at_once(seed):
    """3,000 clustered points, 40 of them sites: the relaxation (2 points first, at most 5 more a round) proves the same
    radius as one bisection over every point, in more than one round and with fewer points."""
    from unittest import mock

    from netopt.models import center

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 50, (8, 2))
    points = centres[rng.integers(0, 8, 3000)] + rng.normal(0, 4, (3000, 2))
    sites = points[rng.choice(3000, 40, replace=False)]
    cost = np.hypot(points[:, None, 0] - sites[None, :, 0], points[:, None, 1] - sites[None, :, 1])
    rounds = []
    relaxed = center.PCenter._relaxed_center
    with mock.patch.object(center.PCenter, "_relaxed_center",
                           lambda self, rows, *args: rounds.append(len(rows)) or relaxed(self, rows, *args)), \
            mock.patch.object(center, "FIRST_ROWS", 2), mock.patch.object(center, "ROWS_PER_ROUND", 5):
        result = PCenter.from_cost_matrix(cost, 6).solve()
    with mock.patch.object(center, "FIRST_ROWS", 3000):
        whole = PCenter.from_cost_matrix(cost, 6).solve()
    assert result.status == whole.status == "optimal" and result.objective == whole.objective
    assert len(rounds) > 1 and rounds[0] <= 3 and rounds[-1] < 100


def test_pcenter_that_finds_no_first_plan_in_its_time_limit_says_so_rather_than_infeasible(monkeypatch):
    """Under a new-site limit the first plan is a cover at the largest distance, which a short time limit can end
    before any is found (a 0.25 km grid): "feasible" with no plan and the time limit as the reason, not
    "infeasible" with a reason made up by another covering model of every point."""
    import time

    from netopt.models import center

    cost = np.arange(12.0).reshape(4, 3)
    monkeypatch.setattr(center.PCenter, "_first_plan", lambda *args: time.sleep(0.05))
    monkeypatch.setattr(center.PCenter, "_blocking_reason", lambda *args: pytest.fail("no reason is needed"))
    result = PCenter.from_cost_matrix(cost, 2, existing=[0], closable=[0], max_new=1).solve(time_limit=0.01)
    assert result.status == "feasible" and not result.selected and "time limit (0.01 s)" in result.reason


def test_pcenter_with_a_mip_gap_stops_once_its_plan_is_proven_that_close():
    """--gap-pct was ignored by p-center: now a relaxation round whose bound is within mip_gap of the best plan
    ends the search, "optimal" with that gap (the bound at most the optimum); exact otherwise."""
    from unittest import mock

    from netopt.models import center

    gaps = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        cost = rng.integers(1, 60, (14, 7)).astype(float)
        optimum = brute.pcenter(cost, 3)
        with mock.patch.object(center, "FIRST_ROWS", 2), mock.patch.object(center, "ROWS_PER_ROUND", 1):
            loose = PCenter.from_cost_matrix(cost, 3).solve(mip_gap=0.5)
            exact = PCenter.from_cost_matrix(cost, 3).solve()
        assert loose.status == exact.status == "optimal" and exact.objective == optimum and exact.gap == 0
        assert loose.bound <= optimum <= loose.objective and loose.gap <= 0.5
        assert loose.gap == pytest.approx((loose.objective - loose.bound) / loose.objective)
        gaps.append(loose.gap)
    assert max(gaps) > 0  # some stopped short of the proof


def test_a_failing_highs_hands_the_program_to_cbc(monkeypatch):
    """CBC is the fallback: where HiGHS ends in an error status (or highspy does not load), the same matrices go
    to CBC through pulp in the time left, and the plan says which solver made it."""
    from netopt._errors import SolverError
    from netopt.models import _milp

    rng = np.random.default_rng(7)
    A = sp.csr_matrix(rng.random((40, 12)) < 0.2)
    weights = rng.integers(1, 50, 40).astype(float)
    def model():
        return CapacitatedMCLP.from_coverage(A, 3, capacity=60.0, weights=weights)

    expected = model().solve()

    def failing(*args):
        raise SolverError("HiGHS failed: Solve error")
    monkeypatch.setattr(_milp, "_read_highs", failing)
    stages = []
    with _milp.watching_stages(stages.append):
        fallback = model().solve(time_limit=60)
    assert fallback.status == "optimal" and fallback.objective == pytest.approx(expected.objective)
    assert any("HiGHS failed: Solve error: solving with CBC" in stage for stage in stages)
    raw = _milp.solve_highs(model().milp)
    assert raw.message.startswith("HiGHS failed: Solve error; solved with CBC instead")


def test_a_model_shows_its_size_and_the_rules_set():
    """repr: the model, its demand points and sites, what it is asked (p, a share, single source) and each rule
    set, none of those left at their default."""
    A = sp.csr_matrix(np.eye(6, 4))
    assert repr(MCLP.from_coverage(A, 2)) == "MCLP(6 demand points × 4 sites, p=2)"
    rules = dict(existing=[0, 1], closable=[1], forbidden=[3], open_cost=np.ones(4), budget=2.5, max_new=1,
                 county=np.array(["a", "a", "b", "b"]), county_min={"b": 1}, too_close=np.array([[0, 2]]),
                 cost_unit="万元")
    assert repr(MCLP.from_coverage(A, 2, **rules)) == (
        "MCLP(6 demand points × 4 sites, p=2, 2 existing, 1 fixed, 1 closable, 1 forbidden, at most 1 new, "
        "budget 2.5 万元, county minimums in 1 county, 1 pair too close)")
    assert repr(LSCP.from_coverage(A, cover_share=0.5)) == "LSCP(6 demand points × 4 sites, cover_share=0.5)"
    assert repr(CFLP.from_cost_matrix(np.ones((6, 4)), demand=np.ones(6), capacity=np.full(4, 3.0),
                                      single_source=True)) == "CFLP(6 demand points × 4 sites, single source)"


@pytest.mark.parametrize("cost", [1e308, 1e30])
def test_a_site_no_budget_can_pay_for_stays_closed_however_large_its_cost(cost):
    """A new site costing 1e308 (万元 typed as 元 many times over) made a plan the other sites could pay for
    'infeasible': the solver's arithmetic broke on the budget row."""
    cover = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]])
    mclp = MCLP.from_coverage(cover, weights=[5, 3, 2, 5], p=2, open_cost=[cost, 300, 250], budget=600).solve()
    assert mclp.status == "optimal" and mclp.selected == ["s1", "s2"]
    distance = np.array([[0.0, 5, 9], [5, 0, 4], [9, 4, 0], [1, 6, 8]])
    median = PMedian.from_cost_matrix(distance, p=2, open_cost=[cost, 300, 250], budget=600).solve()
    assert median.status == "optimal" and median.selected == ["s1", "s2"]
