"""Reasons for infeasible models: each site rule that alone blocks every plan, checked against brute force."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from netopt.models import CFLP, LSCP, MCLP, PCenter, PMedian
from tests import brute


def _spend(sites, open_cost, existing, closable, saving) -> float:
    chosen = set(sites.tolist())
    return (sum(open_cost[j] for j in chosen if j not in existing)
            - sum(saving[j] for j in closable if j not in chosen))


def _expected_reasons(m, p, rules) -> list[str]:
    """The reasons the models must give, found by enumerating every plan with one rule left out."""
    reasons = []
    others = {k: v for k, v in rules.items() if k != "budget"}
    spends = [_spend(s, rules["open_cost"], rules["existing"], rules["closable"], rules["saving"])
              for s in brute.feasible_sets(m, [p], **others)]
    if spends and min(spends) > rules["budget"] + 1e-9:
        reasons.append(f"the budget {rules['budget']:,.6g} is too small: meeting the other rules costs at least "
                       f"{min(spends):,.6g}")
    for county, minimum in rules["county_min"].items():
        rest = dict(rules, county_min={c: v for c, v in rules["county_min"].items() if c != county})
        counts = [int(np.sum(rules["county"][s] == county)) for s in brute.feasible_sets(m, [p], **rest)]
        if counts and max(counts) < minimum:
            reasons.append(f"county '{county}' needs {minimum} site{'' if minimum == 1 else 's'} open, "
                           f"but the other rules allow at most {max(counts)} there")
    for county, maximum in rules["county_max"].items():
        rest = dict(rules, county_max={c: v for c, v in rules["county_max"].items() if c != county})
        counts = [int(np.sum(rules["county"][s] == county)) for s in brute.feasible_sets(m, [p], **rest)]
        if counts and min(counts) > maximum:
            reasons.append(f"county '{county}' may have at most {maximum} site{'' if maximum == 1 else 's'} open, "
                           f"but meeting the other rules needs at least {min(counts)} there")
    sizes = [len(s) for s in brute.feasible_sets(m, range(m + 1), **rules)]
    if sizes and min(sizes) > p:
        reasons.append(f"p={p} is too small: meeting the other rules needs at least {min(sizes)} sites")
    if sizes and max(sizes) < p:
        most = max(sizes)
        reasons.append(f"p={p} is too large: the other rules allow at most {most} site{'' if most == 1 else 's'} open")
    return reasons


@st.composite
def ruled_instance(draw):
    m = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    p = draw(st.integers(1, m))
    existing = np.flatnonzero(rng.random(m) < 0.3)
    closable = existing[rng.random(len(existing)) < 0.5]
    county = rng.choice(np.array(["a", "b", "c"]), m)
    present = sorted(set(county.tolist()))
    county_min = {c: int(rng.integers(1, 3)) for c in present if rng.random() < 0.5}
    county_max = {c: int(rng.integers(0, 2)) for c in present if rng.random() < 0.3}
    rules = dict(open_cost=rng.integers(1, 9, m).astype(float), budget=float(rng.integers(0, 20)),
                 existing=existing, closable=closable, saving=rng.integers(0, 4, m).astype(float),
                 county=county, county_min=county_min, county_max=county_max)
    return m, p, rules, rng


def _model_rules(rules: dict) -> dict:
    return dict(open_cost=rules["open_cost"], budget=rules["budget"], existing=rules["existing"],
                closable=rules["closable"], closing_saving=rules["saving"], county=rules["county"],
                county_min=rules["county_min"], county_max=rules["county_max"])


@settings(max_examples=200, deadline=None)
@given(ruled_instance())
def test_pmedian_reasons_match_brute_force(case):
    m, p, rules, rng = case
    cost = rng.integers(0, 9, (5, m)).astype(float)
    expected = brute.pmedian(cost, np.ones(5), p, **{k: v for k, v in rules.items()})
    result = PMedian.from_cost_matrix(cost, p, **_model_rules(rules)).solve()
    if expected is not None:
        assert result.status == "optimal"
        return
    assert result.status == "infeasible" and result.reason
    reasons = _expected_reasons(m, p, rules)
    if reasons and not _rules_alone_explain(result.reason):
        assert result.reason.split("; or ") == reasons


def _rules_alone_explain(reason: str) -> bool:
    """The cheap checks made before solving (county minimums above p, fixed sites above p, ...) answer first."""
    return not any(word in reason for word in ("too small", "too large", "allow at most", "needs at least"))


def test_budget_and_county_reasons_name_the_numbers():
    A = sp.csr_matrix(np.eye(4))
    county = np.array(["甲", "甲", "乙", "乙"])
    result = MCLP.from_coverage(A, 3, open_cost=np.array([400.0, 400, 100, 100]), budget=600, county=county,
                                county_min={"甲": 2}).solve()
    assert result.status == "infeasible"
    assert result.reason.split("; or ") == [
        "the budget 600 is too small: meeting the other rules costs at least 900",
        "county '甲' needs 2 sites open, but the other rules allow at most 1 there"]


def test_closing_savings_count_towards_a_budget_for_fixed_sites():
    rules = dict(existing=[0, 1, 2], closable=[0, 1], fixed=[5], open_cost=np.full(8, 3.0),
                 closing_saving=np.full(8, 5.0))
    A = sp.csr_matrix(np.eye(8))
    saved = MCLP.from_coverage(A, 3, budget=-1, **rules).solve()  # site 5 costs 3; closing site 0 or 1 saves 5
    assert saved.status == "optimal" and len({"s0", "s1"} & set(saved.selected)) == 1
    short = MCLP.from_coverage(A, 3, budget=-8, **rules).solve()
    assert short.reason == ("the sites fixed open cost 3, more than the budget -8 plus the savings of closing every "
                            "closable site (10)")


def test_p_too_small_for_unreachable_pairs():
    cost = sp.csr_matrix(np.array([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0]]))  # each town reaches one site
    result = PMedian.from_cost_matrix(cost, 2).solve()
    assert result.status == "infeasible"
    assert result.reason == ("p=2 is too small: meeting the other rules and serving every demand point from a site "
                             "that can reach it needs at least 3 sites")


@pytest.mark.parametrize("max_new, words", [(1, "1 new site"), (2, "2 new sites")])
def test_lscp_max_new_reports_the_sites_needed(max_new, words):
    result = LSCP.from_coverage(sp.csr_matrix(np.eye(4)), existing=[0], max_new=max_new).solve()
    assert result.status == "infeasible"
    assert result.reason == (f"at most {words} may open, but meeting the other rules and covering every demand point "
                             "needs at least 3")


def test_cflp_budget_reports_the_cheapest_plan():
    cost = np.array([[1.0, 5.0], [5.0, 1.0]])
    result = CFLP.from_cost_matrix(cost, demand=np.array([3.0, 3.0]), capacity=np.array([4.0, 4.0]),
                                   fixed_cost=np.array([2.0, 2.0]), open_cost=np.array([50.0, 70.0]),
                                   budget=100).solve()
    assert result.status == "infeasible"
    assert result.reason == ("the budget 100 is too small: meeting the other rules and serving all demand within "
                             "the capacities costs at least 120")


def test_pcenter_names_the_blocking_rule():
    cost = np.array([[1.0, 4.0, 9.0], [4.0, 1.0, 9.0]])
    assert PCenter.from_cost_matrix(cost, 1, fixed=[0, 1]).solve().reason == (
        "2 sites must stay open but only p=1 may be open")
    result = PCenter.from_cost_matrix(cost, 2, open_cost=np.array([5.0, 5.0, 1.0]), budget=4, county=["甲", "甲", "乙"],
                                      county_min={"甲": 1}).solve()
    assert result.status == "infeasible"
    assert result.reason.split("; or ") == [
        "the budget 4 is too small: meeting the other rules costs at least 5",
        "county '甲' needs 1 site open, but the other rules allow at most 0 there"]
    sparse = sp.csr_matrix(np.array([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0]]))  # each town reaches one site
    assert PCenter.from_cost_matrix(sparse, 2).solve().reason == (
        "at most 2 sites may open, but meeting the other rules and serving every demand point from a site that can "
        "reach it needs at least 3")


def test_constraints_added_through_pulp_are_named():
    model = MCLP.from_coverage(sp.csr_matrix(np.eye(3)), 2)
    problem = model.to_pulp()
    first = problem.variables()[0]
    problem += first >= 2
    assert "to_pulp()" in model.solve().reason


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_county_minimum_reasons_hold_by_brute_force(seed, at_most):
    """A plan the county minimums block — more new sites than max_new allows in counties short of today's, or
    more open sites than p beside those that must stay open — is refused before solving, and none exists."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 8))
    p, max_new = int(rng.integers(1, m + 1)), int(rng.integers(0, 3))
    existing = np.flatnonzero(rng.random(m) < 0.5)
    closable = existing[rng.random(len(existing)) < 0.5]
    county = rng.choice(np.array(["甲", "乙", "丙"]), m)
    county_min = {c: int(rng.integers(1, 3)) for c in sorted(set(county.tolist())) if rng.random() < 0.7}
    rules = dict(existing=existing, closable=closable, county=county, county_min=county_min, max_new=max_new)
    model = MCLP.from_coverage(sp.csr_matrix(np.ones((1, m))), p, **rules)
    reason = model.solve().reason if at_most else model.rules.explain(p, labels=model.site_labels)
    if "the county minimums call for" in reason or "the county minimums, with the" in reason:
        sizes = range(p + 1) if at_most else [p]
        assert not list(brute.feasible_sets(m, sizes, **rules)), reason


def test_county_minimums_beyond_the_new_sites_allowed_name_the_counties():
    county = np.array(["甲", "甲", "乙", "丙", "丙"])
    few_new = PMedian.from_cost_matrix(np.ones((2, 5)), 3, existing=[0, 1], county=county,
                                       county_min={"甲": 1, "乙": 1, "丙": 1}, max_new=1).solve()
    assert few_new.status == "infeasible" and few_new.reason == (
        "the county minimums call for 2 new sites in the counties with too few of today's (乙, 丙), more than the 1 "
        "new allowed")
    kept = PMedian.from_cost_matrix(np.ones((2, 5)), 3, existing=[0, 1], county=county,
                                    county_min={"乙": 1, "丙": 1}).solve()
    assert kept.status == "infeasible" and kept.reason == (
        "the county minimums, with the 2 sites that must stay open, take 4 open sites, more than p=3")


def test_county_maximum_reasons_name_the_county():
    A, county = sp.csr_matrix(np.eye(4)), ["甲", "甲", "乙", "乙"]
    assert MCLP.from_coverage(A, 2, fixed=[0, 1], county=county, county_max={"甲": 1}).solve().reason == (
        "county '甲' may have at most 1 open site but 2 must stay open there")
    assert PMedian.from_cost_matrix(np.ones((2, 4)), 2, county=county, county_min={"乙": 2},
                                    county_max={"乙": 1}).solve().reason == (
        "county '乙' has a minimum of 2 open sites above its maximum 1")
    capped = PCenter.from_cost_matrix(np.ones((2, 4)), 3, county=county, county_max={"甲": 1, "乙": 1}).solve()
    assert capped.status == "optimal" and len(capped.selected) == 2  # p-center: fewer sites serve as well
    fixed_elsewhere = MCLP.from_coverage(A, 3, county=county, county_max={"甲": 0}).solve()
    assert fixed_elsewhere.reason == "p=3 sites must open but the county maximums leave room for only 2"
    quota = LSCP.from_coverage(A, county=county, county_max={"乙": 1}).solve()
    assert quota.status == "infeasible" and quota.reason == (
        "county '乙' may have at most 1 site open, but meeting the other rules and covering every demand point needs "
        "at least 2 there")
    with pytest.raises(Exception, match="county_max needs county"):
        MCLP.from_coverage(A, 2, county_max={"甲": 1})
