"""p-dispersion: the largest smallest distance between p open sites, against brute force and on the sample."""
from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import netopt as no
from netopt import InputError
from netopt.models import PDispersion
from tests import brute


@st.composite
def site_distances(draw):
    """Site x site distances: small integers (many ties), not always symmetric, sometimes a pair with no route."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m = draw(st.integers(2, 7))
    distance = rng.integers(1, 9, (m, m)).astype(float)
    if draw(st.booleans()):
        distance = np.minimum(distance, distance.T)
    if draw(st.booleans()):
        distance[rng.integers(m), rng.integers(m)] = np.inf
    np.fill_diagonal(distance, 0.0)
    return distance


@st.composite
def site_rules(draw, m: int, p: int):
    existing = draw(st.lists(st.integers(0, m - 1), max_size=3, unique=True))
    rules = dict(fixed=draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True)),
                 existing=existing, closable=[j for j in existing if draw(st.booleans())],
                 max_new=draw(st.sampled_from([None, 0, 1, 2])), county=[j % 2 for j in range(m)],
                 county_min={1: 1} if m > 1 and draw(st.booleans()) else None,
                 county_max={0: draw(st.integers(0, 2))} if draw(st.booleans()) else None)
    rules["forbidden"] = [j for j in draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True))
                          if j not in rules["fixed"]]
    if draw(st.booleans()):  # pairs that may not both open (a minimum spacing), besides the distance itself
        rules["too_close"] = draw(st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, m - 1)), max_size=3))
    if draw(st.booleans()):
        rules.update(open_cost=[1.0 + j % 3 for j in range(m)], budget=draw(st.sampled_from([1.0, 3.0])),
                     closing_saving=[1.0] * m)
    return rules


def brute_rules(rules: dict) -> dict:
    renamed = dict(rules)
    if "closing_saving" in renamed:
        renamed["saving"] = renamed.pop("closing_saving")
    return renamed


@settings(max_examples=220, deadline=None)
@given(site_distances(), st.data())
def test_pdispersion_matches_brute_force(distance, data):
    m = distance.shape[0]
    p = data.draw(st.integers(2, m))
    rules = data.draw(site_rules(m, p)) if data.draw(st.booleans()) else {}
    try:
        model = PDispersion.from_cost_matrix(distance, p, **rules)
    except InputError:  # rules that contradict themselves (e.g. a fixed site also forbidden) are refused
        return
    expected = brute.pdispersion(distance, p, **brute_rules(rules))
    result = model.solve(warm_start=data.draw(st.booleans()))
    if expected is None:
        assert result.status == "infeasible" and result.reason
        return
    assert result.status == "optimal" and result.objective == expected and result.gap == 0
    assert len(result.selected) == p and result.assignment["distance"].min() == expected
    assert model.objective_of(result.selected) == expected


@settings(max_examples=220, deadline=None)
@given(site_distances(), st.data())
def test_over_groups_of_sites_the_optimum_is_brute_forces(distance, data):
    """Many sites are grouped first (decremental clustering): forced here on a few, with forbidden sites and
    road-like distances (not symmetric, no route, ties), the optimum and its proof are brute force's."""
    m = distance.shape[0]
    p = data.draw(st.integers(2, m))
    forbidden = data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True))
    expected = brute.pdispersion(distance, p, forbidden=forbidden)
    first_sites = lambda self: np.flatnonzero(self.rules.allowed)[:self.p]  # a poor start: the rounds must improve
    grouped = {"CLUSTERED_FROM": 2, "FIRST_GROUPS": 1, "GROUPS_PER_OPENING": 0}  # one group of all, then halves
    with patch.multiple("netopt.models.dispersion", **grouped), patch.object(PDispersion, "_start_plan", first_sites):
        result = PDispersion.from_cost_matrix(distance, p, forbidden=forbidden).solve()
    if expected is None:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal" and result.objective == expected and result.bound == expected
    if len(forbidden) < m - p:  # the greedy start found a plan: grouped, in rounds
        assert result.details["group_rounds"] >= 1


@pytest.mark.slow  # ~30 s; the property test above proves grouping on small instances against brute force
def test_many_sites_are_grouped_and_proven_as_by_bisection_alone():
    distance = random_points(420, seed=1)  # past CLUSTERED_FROM; 600 sites took bisection alone a minute
    grouped = PDispersion.from_cost_matrix(distance, 8).solve()
    assert grouped.details["group_rounds"] >= 1 and grouped.details["groups"] < 420
    with patch("netopt.models.dispersion.CLUSTERED_FROM", 10_000):
        alone = PDispersion.from_cost_matrix(distance, 8).solve()
    assert "group_rounds" not in alone.details
    assert grouped.status == alone.status == "optimal" and grouped.objective == alone.objective


@settings(max_examples=40, deadline=None)
@given(site_distances(), st.sampled_from([0.2, 0.5]), st.data())
def test_within_a_gap_the_bound_holds_the_optimum(distance, mip_gap, data):
    p = data.draw(st.integers(2, distance.shape[0]))
    result = PDispersion.from_cost_matrix(distance, p).solve(mip_gap=mip_gap)
    best = brute.pdispersion(distance, p)
    assert result.status == "optimal" and result.objective <= best <= result.bound
    assert result.gap <= mip_gap + 1e-12


def random_points(m: int, seed: int) -> np.ndarray:
    xy = np.random.default_rng(seed).uniform(0, 100, (m, 2))
    return np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))


def test_pairs_of_branches_that_stay_open_do_not_count():
    # two of today's branches 0.5 km apart stay open; one new site among three: the farthest from both counts
    xy = np.array([[0.0, 0.0], [0.5, 0.0], [3.0, 0.0], [0.0, 6.0], [9.0, 9.0]])
    distance = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    result = PDispersion.from_cost_matrix(distance, 3, existing=[0, 1], site_labels=list("abcde")).solve()
    assert result.status == "optimal" and result.selected == ["a", "b", "e"]
    assert result.objective == pytest.approx(np.hypot(8.5, 9.0))  # e to b; a to b (0.5 km) is left out
    table = result.assignment.set_index("site")
    assert table.loc["e", "nearest_open_site"] == "b" and table.loc["a", "nearest_open_site"] == "e"
    closable = PDispersion.from_cost_matrix(distance, 3, existing=[0, 1], closable=[0, 1]).solve()
    assert closable.objective == pytest.approx(np.hypot(3.0, 6.0))  # today's may close: c, d and e are best
    kept = PDispersion.from_cost_matrix(distance, 2, fixed=[0, 1]).solve()
    assert kept.status == "optimal" and kept.objective == np.inf and kept.assignment["nearest_open_site"].isna().all()


def test_greedy_start_is_a_plan_no_better_than_the_optimum():
    distance = random_points(60, 3)
    start = PDispersion.from_cost_matrix(distance, 6).heuristic()
    best = PDispersion.from_cost_matrix(distance, 6).solve()
    assert start.status == "feasible" and len(start.selected) == 6 and start.objective <= best.objective
    assert best.status == "optimal" and best.bound == best.objective
    assert best.details["independent_set_models_solved"] >= 1


def test_time_limit_keeps_a_plan_and_a_bound():
    distance = random_points(150, 5)
    result = PDispersion.from_cost_matrix(distance, 15).solve(time_limit=0.5)
    assert result.status in ("optimal", "feasible") and len(result.selected) == 15
    assert result.bound >= result.objective == PDispersion.from_cost_matrix(distance, 15).objective_of(result.selected)


def test_cbc_gives_the_same_optimum():
    distance = random_points(25, 7)
    assert PDispersion.from_cost_matrix(distance, 4).solve(solver="cbc").objective == pytest.approx(
        PDispersion.from_cost_matrix(distance, 4).solve().objective)


def test_pilot_branches_spread_over_the_sample_city():
    ds = no.load_sample()
    ours = ds.of_bank("农业").branches
    result = PDispersion.from_geodataframes(ours, 6).solve()
    assert result.status == "optimal" and len(result.selected) == 6
    from netopt.distance import cost_matrix_km

    chosen = ours[ours["branch_id"].isin(result.selected)]
    km = cost_matrix_km(chosen, chosen)
    assert km[np.triu_indices(6, k=1)].min() == pytest.approx(result.objective)
    assert result.objective > 25  # six of 农业's 101 outlets, each over 25 km from the others
    assert set(result.assignment["site"]) == set(result.selected)
    timed = PDispersion.from_geodataframes(ours, 6, unit="min", speed_kmh=25, detour_factor=1.4).solve()
    assert timed.objective == pytest.approx(result.objective * 1.4 / 25 * 60, rel=1e-9)  # minutes: km x one factor


def test_bad_models_are_refused():
    with pytest.raises(InputError, match="p of at least 2"):
        PDispersion.from_cost_matrix(np.ones((3, 3)), 1)
    with pytest.raises(InputError, match="square"):
        PDispersion.from_cost_matrix(np.ones((3, 4)), 2)
    with pytest.raises(InputError, match="independent-set"):
        PDispersion.from_cost_matrix(np.ones((3, 3)), 2).to_pulp()
    with pytest.raises(InputError, match="use solve"):
        PDispersion.from_cost_matrix(np.ones((3, 3)), 2, max_new=0, existing=[0]).heuristic()
    far_pair = np.array([[0, 9, 1], [9, 0, 1], [1, 1, 0]], float)
    with pytest.raises(InputError, match="use solve"):
        PDispersion.from_cost_matrix(far_pair, 2, too_close=[(0, 1)]).heuristic()
    assert PDispersion.from_cost_matrix(far_pair, 2, too_close=[(0, 1)]).solve().objective == 1
    impossible = PDispersion.from_cost_matrix(np.ones((4, 4)), 3, forbidden=[0, 1]).solve()
    assert impossible.status == "infeasible" and impossible.reason


def test_a_site_kept_open_and_forbidden_is_a_contradiction():
    from netopt.models import MCLP

    with pytest.raises(InputError, match=r"sites \[0\] are both kept open \(fixed, or existing and not closable\)"):
        PDispersion.from_cost_matrix(np.ones((3, 3)), 2, existing=[0], forbidden=[0])
    with pytest.raises(InputError, match="both kept open"):
        MCLP.from_cost_matrix(np.ones((2, 3)), 1.0, p=2, fixed=[1], forbidden=[1])
    closable = MCLP.from_cost_matrix(np.ones((2, 3)), 1.0, p=1, existing=[0], closable=[0], forbidden=[0]).solve()
    assert closable.status == "optimal" and closable.selected in (["s1"], ["s2"])


def test_a_closable_site_must_be_an_existing_one():
    from netopt.models import MCLP

    with pytest.raises(InputError, match=r"sites \[1\] are closable but not existing"):
        MCLP.from_cost_matrix(np.ones((2, 3)), 1.0, p=1, existing=[0], closable=[0, 1])
