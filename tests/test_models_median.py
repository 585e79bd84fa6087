"""p-median: brute force on random tiny instances, the OR-Library instances, site rules, solvers, pulp."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pulp
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import netopt as no
from netopt.models import PMedian
from tests import brute
from tests.instances import euclidean_pmedian

BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"


@st.composite
def tiny_instance(draw):
    n = draw(st.integers(1, 8))
    m = draw(st.integers(1, 6))
    p = draw(st.integers(1, m))
    integers = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 20, (n, m)).astype(float) if integers else rng.uniform(0, 10, (n, m)).round(3)
    weights = rng.integers(1, 5, n).astype(float)
    return cost, weights, p


@settings(max_examples=250, deadline=None)
@given(tiny_instance())
def test_matches_brute_force(instance):
    cost, weights, p = instance
    result = PMedian.from_cost_matrix(cost, p, weights=weights).solve()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute.pmedian(cost, weights, p), abs=1e-6)
    assert len(result.selected) == p
    assert result.assignment["weighted_distance"].sum() == pytest.approx(result.objective, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(tiny_instance(), st.data())
def test_rules_match_brute_force(instance, data):
    cost, weights, p = instance
    m = cost.shape[1]
    fixed = data.draw(st.lists(st.integers(0, m - 1), max_size=1, unique=True))
    forbidden = [j for j in data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True)) if j not in fixed]
    county = [j % 2 for j in range(m)]
    county_min = {0: 1} if data.draw(st.booleans()) else None
    county_max = {1: data.draw(st.integers(0, 2))} if m > 1 and data.draw(st.booleans()) else None
    open_cost = np.arange(1, m + 1, dtype=float)
    budget = data.draw(st.one_of(st.none(), st.floats(1, 3 * m)))
    rules = dict(fixed=fixed, forbidden=forbidden, county=county, county_min=county_min, open_cost=open_cost,
                 budget=budget, county_max=county_max)
    expected = brute.pmedian(cost, weights, p, **rules)
    result = PMedian.from_cost_matrix(cost, p, weights=weights, **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
    else:
        assert result.status == "optimal"
        assert result.objective == pytest.approx(expected, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 9), st.integers(3, 8), st.integers(0, 2**32 - 1), st.data())
def test_sites_kept_open_merged_match_brute_force(n, m, seed, data):
    """Existing sites kept open (two or more are merged into one by solve()) or closable as in a relocation,
    new-branch limits that bind or not, county limits, a budget with closing savings, forbidden sites (new, or
    existing ones that must close) and pairs that cannot serve: the optimum, the bound and the plan's own distances."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 10, (n, m)).round(2)
    if data.draw(st.booleans()):
        cost[rng.random((n, m)) < 0.2] = np.inf
    existing = sorted(data.draw(st.lists(st.integers(0, m - 1), min_size=2, max_size=m - 1, unique=True)))
    closable = data.draw(st.lists(st.sampled_from(existing), max_size=len(existing), unique=True))
    p = data.draw(st.integers(max(1, len(existing) - len(closable)), m))
    others = [j for j in range(m) if j not in existing]
    forbidden = data.draw(st.lists(st.sampled_from(others + closable), max_size=2, unique=True))  # a closable: must close
    county = [j % 2 for j in range(m)]
    rules = dict(existing=existing, closable=closable, forbidden=forbidden, county=county,
                 max_new=data.draw(st.one_of(st.none(), st.integers(0, m))),
                 county_max={1: data.draw(st.integers(0, m))} if data.draw(st.booleans()) else None,
                 county_min={0: data.draw(st.integers(0, 2))} if data.draw(st.booleans()) else None)
    if data.draw(st.booleans()):
        rules.update(open_cost=np.arange(1.0, m + 1), closing_saving=np.full(m, 2.0),
                     budget=data.draw(st.floats(0, 2 * m)))
    weights = rng.integers(1, 5, n).astype(float)
    brute_rules = {("saving" if name == "closing_saving" else name): value for name, value in rules.items()}
    expected = brute.pmedian(np.where(np.isfinite(cost), cost, 1e9), weights, p, **brute_rules)
    result = PMedian.from_cost_matrix(cost, p, weights=weights, site_labels=range(m), **rules).solve()
    if expected is None or expected >= 1e8:
        assert result.status == "infeasible" and result.reason
        return
    assert result.status == "optimal", result.reason
    assert result.objective == pytest.approx(expected, abs=1e-6)
    assert result.bound == pytest.approx(expected, abs=1e-6)
    kept = set(existing) - set(closable)
    assert kept <= set(result.selected) and len(result.selected) == p
    assert result.assignment["weighted_distance"].sum() == pytest.approx(expected, abs=1e-6)
    assert np.allclose(result.assignment["distance"], cost[:, result.selected].min(axis=1))


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 8), st.integers(3, 7), st.integers(0, 2**32 - 1), st.data())
def test_at_most_p_sites_match_brute_force(n, m, seed, data):
    """exactly_p=False: at most p sites — under a budget, fewer dearer sites may serve better than p cheap
    ones (exactly p: a worse plan, or none); today's sites kept (merged when two or more) or not; a new site
    serving no one closer than the others is not opened."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(0, 20, (n, m)).astype(float)
    existing = sorted(data.draw(st.lists(st.integers(0, m - 1), max_size=3, unique=True)))
    p = data.draw(st.integers(max(1, len(existing)), m))
    rules = dict(existing=existing, open_cost=rng.choice([1.0, 2.0, 4.0], m),
                 budget=data.draw(st.sampled_from([None, 2.0, 5.0])))
    weights = rng.integers(1, 5, n).astype(float)
    expected = brute.pmedian(cost, weights, p, at_most=True, **rules)
    result = PMedian.from_cost_matrix(cost, p, weights=weights, site_labels=range(m), exactly_p=False,
                                      **rules).solve()
    if expected is None:  # not one site affordable
        assert result.status == "infeasible" and result.reason
        return
    assert result.status == "optimal", result.reason
    assert result.objective == pytest.approx(expected, abs=1e-6)
    chosen = np.array(result.selected, int)
    assert set(existing) <= set(chosen) and len(chosen) <= p
    for j in np.setdiff1d(chosen, existing) if len(chosen) > 1 else []:
        assert float(weights @ cost[:, np.setdiff1d(chosen, [j])].min(axis=1)) > result.objective + 1e-9


def test_rules_carried_past_merged_sites_limit_plans_only_where_they_can_bind():
    """Today's sites merged into one (solve() around fixed sites): a new-site limit that no plan of p sites can
    pass no longer counts as limiting plans (else the Lagrangian is skipped: 农业 on the 0.25 km grid, kept
    branches and 3 new, stopped 74 % short at 120 s; now proven in about 90 s)."""
    from netopt.models._base import SiteRules

    rules = SiteRules(6, existing=[0, 1, 2], max_new=2)
    merged = rules.on_sites(np.array([3, 4, 5]), merged=np.array([0, 1, 2]))
    assert merged.carried_rows is not None
    assert not merged.limits_plans(3)  # the merged site and 2 new ones: the limit of 2 cannot bind
    assert merged.limits_plans(4)  # 3 new ones would pass it
    budget = SiteRules(4, existing=[0], open_cost=[0.0, 3.0, 5.0, 4.0], budget=9.0)
    assert not budget.limits_plans(3) and budget.limits_plans(4)  # the dearest two cost 9, all three 12


def test_kept_sites_merged_on_a_grid_of_demand():
    """Many branches kept and a few added (a population grid under today's network): the merged model reports
    how much it dropped, and its plan equals the one solved without the merge (every branch closable but the
    same ones fixed through bounds is the same problem)."""
    rng = np.random.default_rng(7)
    demand, sites = rng.uniform(0, 50, (400, 2)), rng.uniform(0, 50, (40, 2))
    cost = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(1, 100, 400).astype(float)
    existing = list(range(25))
    merged = PMedian.from_cost_matrix(cost, 28, weights=weights, existing=existing, max_new=3).solve()
    whole = PMedian.from_cost_matrix(cost, 28, weights=weights, existing=existing, max_new=3).solve(warm_start=False)
    assert merged.status == whole.status == "optimal"
    assert merged.objective == pytest.approx(whole.objective)
    assert merged.details["fixed_sites_merged"] == 25
    assert 0 < merged.details["demand_after_reduction"] < 400


def test_sparse_cost_means_cannot_serve():
    cost = sp.csr_matrix(np.array([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0]]))  # only the diagonal may serve
    result = PMedian.from_cost_matrix(cost, 3).solve()
    assert result.status == "optimal" and result.objective == pytest.approx(6.0)
    blocked = PMedian.from_cost_matrix(cost, 2).solve()
    assert blocked.status == "infeasible"


def test_unreachable_demand_is_explained():
    cost = sp.csr_matrix(([1.0], ([0], [0])), shape=(2, 2))
    result = PMedian.from_cost_matrix(cost, 1, demand_labels=["A", "B"]).solve()
    assert result.status == "infeasible" and "B" in result.reason


def test_fixed_sites_beyond_p_are_explained():
    result = PMedian.from_cost_matrix(np.ones((3, 3)), 1, fixed=[0, 1]).solve()
    assert result.status == "infeasible" and "2 sites must stay open" in result.reason


def test_bad_arguments():
    with pytest.raises(no.InputError, match="p must be"):
        PMedian.from_cost_matrix(np.ones((2, 2)), 3)
    with pytest.raises(no.InputError, match="got '2'"):  # text, not the number 2
        PMedian.from_cost_matrix(np.ones((2, 2)), "2")
    with pytest.raises(no.InputError, match="NaN or negative"):
        PMedian.from_cost_matrix(np.array([[1.0, -1.0]]), 1)
    with pytest.raises(no.InputError, match="weights"):
        PMedian.from_cost_matrix(np.ones((2, 2)), 1, weights=[1.0])
    with pytest.raises(no.InputError, match="weights must be 2 finite non-negative numbers"):
        no.MCLP.from_cost_matrix(np.ones((2, 2)), 1.0, 1, weights=["x", "y"])
    with pytest.raises(no.InputError, match="weights must be 2 finite"):  # reached HiGHS, then CBC, as a crash
        no.MCLP.from_cost_matrix(np.ones((2, 2)), 1.0, 1, weights=[1.0, np.inf]).solve()
    with pytest.raises(no.InputError, match="mip_gap"):
        PMedian.from_cost_matrix(np.ones((2, 2)), 1).solve(mip_gap=2)


@pytest.mark.parametrize("make, message", [
    (lambda: PMedian.from_cost_matrix(np.ones((3, 8)), 2, fixed=["s1"]), "fixed: site positions must be whole numbers"),
    (lambda: PMedian.from_cost_matrix(np.ones((3, 8)), 2, budgt=5), "unknown site rule.s. budgt; the rules are"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2, open_cost=np.ones(3), budget=5), "open_cost must be 8 finite"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2, budget=5), "budget needs open_cost"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2, open_cost=np.ones(8), budget="5"), "budget must be a number"),
    (lambda: no.PCenter.from_cost_matrix(np.ones((3, 8)), 2, max_new=1.5), "max_new must be a whole number"),
    (lambda: no.LSCP.from_coverage(np.eye(8), max_new=-1), "max_new must be a whole number"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2, county=["a"], county_min={"a": 1}), "one label per site"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2, county_min={"a": 1}), "county_min needs county"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2, county=list("aabbccdd"), county_min={"a": -1}), "whole number"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2, county=list("aabbccdd"), county_max={"蜀山": 1}),  # no solve()
     r"county_max names county '蜀山', which has no candidate site \(the sites' counties: a, b, c, d\)"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2, backup_weight=-1), "backup_weight must be a number >= 0"),
    (lambda: no.MCLP.from_coverage(np.eye(8), 2).solve(threads="a"), "threads must be a whole number of at least 1"),
    (lambda: PMedian.from_cost_matrix(np.ones((3, 8)), 2).solve(time_limit="10"), "time_limit must be a positive"),
])
def test_bad_rules_and_solve_arguments_are_named(make, message):
    with pytest.raises(no.InputError, match=message):
        make()


def test_cbc_gives_the_same_optimum(monkeypatch):
    from netopt.models import _base

    calls = []
    monkeypatch.setattr(_base, "solve_pulp", lambda problem, variables, solver, *rest:
                        calls.append(solver) or pulp_solution(problem, variables, solver, *rest))
    cost = np.random.default_rng(0).integers(1, 30, (60, 25)).astype(float)
    highs = PMedian.from_cost_matrix(cost, 3).solve()
    assert "proved_by" not in highs.details and not calls  # the exact model is needed; HiGHS solves it directly
    cbc = PMedian.from_cost_matrix(cost, 3).solve(solver="cbc")
    assert calls == ["cbc"]
    assert cbc.status == "optimal" and cbc.objective == pytest.approx(highs.objective, rel=1e-6)


def pulp_solution(*args):
    from netopt.models._milp import solve_pulp

    return solve_pulp(*args)


@pytest.mark.parametrize("model", [
    lambda: PMedian.from_cost_matrix(np.ones((3, 3)), 1), lambda: no.PCenter.from_cost_matrix(np.ones((3, 3)), 1),
    lambda: no.MCLP.from_coverage(np.eye(3), 1), lambda: no.LSCP.from_coverage(np.eye(3)),
    lambda: no.CFLP.from_cost_matrix(np.ones((3, 3)), demand=np.ones(3), capacity=np.full(3, 5.0))])
def test_an_unknown_solver_is_named_before_solving(model):
    with pytest.raises(no.SolverError, match="'gurobi_typo' is not available on this machine; available: .*highs"):
        model().solve(solver="gurobi_typo")


def test_custom_constraints_through_pulp():
    cost = np.array([[0.0, 5.0, 9.0], [5.0, 0.0, 9.0], [9.0, 9.0, 0.0]])
    model = PMedian.from_cost_matrix(cost, 2, site_labels=["A", "B", "C"])
    problem = model.to_pulp()
    y = {v.name: v for v in problem.variables()}
    problem += (y["y_2"] == 0, "analyst_rule_no_C")
    result = model.solve()
    assert "C" not in result.selected and result.objective == pytest.approx(9.0 + 0 + 0 + 5.0 - 5.0)
    assert isinstance(problem, pulp.LpProblem)


@pytest.mark.parametrize("build", [
    lambda cost: PMedian.from_cost_matrix(cost, 2, site_labels=["A", "B", "C"]),
    lambda cost: no.MCLP.from_cost_matrix(cost, 6.0, 2, site_labels=["A", "B", "C"]),
    lambda cost: no.LSCP.from_cost_matrix(cost, 6.0, site_labels=["A", "B", "C"]),
    lambda cost: no.CFLP.from_cost_matrix(cost, demand=np.ones(3), capacity=np.full(3, 3.0), fixed_cost=np.ones(3),
                                          site_labels=["A", "B", "C"]),
    lambda cost: no.MarketShare(1.0 / (1.0 + cost) ** 2, np.full(3, 0.5), np.ones(3), p=2, site_labels=["A", "B", "C"]),
])
def test_site_variables_are_each_sites_open_variable_by_label(build):
    """A rule written on site_variables() by label is kept by the next solve (here: C must not open)."""
    cost = np.array([[0.0, 5.0, 9.0], [5.0, 0.0, 9.0], [9.0, 9.0, 0.0]])
    model = build(cost)
    y = model.site_variables()
    assert list(y.index) == ["A", "B", "C"] and [v.name for v in y] == ["y_0", "y_1", "y_2"]
    assert "C" in build(cost).solve().selected  # C serves the third point alone: every model opens it
    model.to_pulp().addConstraint(y["C"] == 0, "analyst_rule_no_C")
    assert "C" not in model.solve().selected


def test_a_result_shows_itself_in_a_notebook():
    """Result._repr_html_: status, value, gap, the sites chosen and the model's figures; the reason without plan."""
    solved = PMedian.from_cost_matrix(np.array([[0.0, 5.0], [5.0, 0.0]]), 1, site_labels=["甲", "乙"]).solve()
    shown = solved._repr_html_()
    assert "<td>optimal</td>" in shown and "<td>1 site: 甲</td>" in shown and "mean_distance" in shown
    blocked = PMedian.from_cost_matrix(np.array([[np.inf, np.inf], [1.0, 2.0]]), 1).solve()._repr_html_()
    assert "<td>infeasible</td>" in blocked and "no candidate site can serve demand point(s) d0" in blocked


def test_a_solve_through_pulp_prints_no_highs_banner(capfd):
    """pulp's HiGHS printed "Running HiGHS 1.x …" to the terminal on every solve with a rule of the analyst's."""
    model = PMedian.from_cost_matrix(np.array([[0.0, 5.0], [5.0, 0.0]]), 1)
    model.to_pulp().addConstraint(model.site_variables().iloc[0] == 1)
    assert model.solve().selected == ["s0"]
    assert "HiGHS" not in capfd.readouterr().out


def read_pmed(path: Path) -> tuple[np.ndarray, int]:
    from benchmarks.orlib import read_pmed as reader

    return reader(path)


@pytest.mark.parametrize("name, optimum", [("pmed1", 5819), ("pmed2", 4093), ("pmed3", 4250), ("pmed4", 3034),
                                           ("pmed5", 1355)])
def test_or_library_optima(name, optimum):
    path = BENCH / "orlib_pmed" / f"{name}.txt"
    if not path.exists():
        pytest.skip("shared benchmark instances are not beside the project")
    cost, p = read_pmed(path)
    result = PMedian.from_cost_matrix(cost, p).solve()
    assert result.status == "optimal" and result.objective == pytest.approx(optimum)


@settings(max_examples=150, deadline=None)
@given(tiny_instance())
def test_benders_matches_brute_force(instance):
    from netopt.models.median import benders_pmedian

    cost, weights, p = instance
    start = np.arange(p)
    integral = bool(np.all(cost == np.round(cost)))
    raw = benders_pmedian(cost, weights, p, np.array([], int), start, integral)
    assert raw.status == "optimal"
    assert raw.objective == pytest.approx(brute.pmedian(cost, weights, p), abs=1e-6)


@pytest.mark.parametrize("seed", range(12))
def test_benders_probing_from_a_poor_start_keeps_the_optimum(seed):
    """Medium instances where probing closes sites (y_j = 1 bounds reach the warm start's cost) and the MIP
    master then branches: the optimum must survive whatever the start."""
    from netopt.models.median import benders_pmedian

    cost, weights, rng = euclidean_pmedian(seed, 40, 16)
    p = int(rng.integers(2, 5))
    start = rng.choice(16, p, replace=False)
    raw = benders_pmedian(cost, weights, p, np.array([], int), start, True)
    assert raw.status == "optimal"
    assert raw.objective == pytest.approx(brute.pmedian(cost, weights, p))


@pytest.mark.parametrize("seed", range(6))
def test_probing_stopped_early_keeps_the_optimum(seed, monkeypatch):
    """Probing stops once recent probes close few sites: the sites left unprobed stay free in the master."""
    import netopt.models.median as median

    monkeypatch.setattr(median, "PROBE_WINDOW", 3)
    monkeypatch.setattr(median, "PROBE_MIN_CLOSED", 3)  # stops at the first of any 3 probes that keeps a site
    cost, weights, rng = euclidean_pmedian(100 + seed, 40, 18)
    p = int(rng.integers(2, 5))
    raw = median.benders_pmedian(cost, weights, p, np.array([], int), rng.choice(18, p, replace=False), True)
    assert raw.status == "optimal"
    assert raw.objective == pytest.approx(brute.pmedian(cost, weights, p))


@pytest.mark.parametrize("threads", [1, 2])
def test_probing_on_one_or_two_threads_closes_sites_and_keeps_the_optimum(threads, monkeypatch):
    """Two probing threads each probe on their own copy of the master LP and share what they close; the sites
    closed are fixed at 0 in the master that then branches."""
    import netopt.models.median as median
    from netopt.heuristics import pmedian_heuristic

    closed = []
    probe = median._probe_sites
    monkeypatch.setattr(median, "_probe_sites", lambda *args: closed.append(probe(*args)) or closed[-1])
    cost, weights, _ = euclidean_pmedian(3, 60, 30)
    start, _ = pmedian_heuristic(cost, weights, 3)
    raw = median.benders_pmedian(cost, weights, 3, np.array([], int), start, True, threads=threads)
    assert closed and closed[0] > 0
    assert raw.status == "optimal"
    assert raw.objective == pytest.approx(brute.pmedian(cost, weights, 3))


def test_probing_is_spent_when_the_last_probes_close_few_sites():
    from netopt.models.median import PROBE_MIN_CLOSED, PROBE_WINDOW, _probing_spent

    assert not _probing_spent([False] * (PROBE_WINDOW - 1))  # too few probes to judge
    assert _probing_spent([False] * PROBE_WINDOW)
    assert not _probing_spent([True] * PROBE_MIN_CLOSED + [False] * (PROBE_WINDOW - PROBE_MIN_CLOSED))
    assert _probing_spent([True] * PROBE_WINDOW + [False] * PROBE_WINDOW)  # only the last window counts


def test_time_limit_gives_a_feasible_plan_with_bound_and_gap():
    rng = np.random.default_rng(11)
    pts = rng.uniform(0, 100, (400, 2))
    cost = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1]).round()
    result = PMedian.from_cost_matrix(cost, 4).solve(time_limit=0.05)
    assert result.status in ("feasible", "optimal")
    assert result.bound <= result.objective + 1e-6 and np.isfinite(result.gap)
    if result.status == "feasible":
        assert result.gap > 0 and len(result.selected) == 4


@pytest.mark.parametrize("phase", ["lp", "mip"])
def test_time_limit_reports_the_cheapest_plan_the_master_holds(phase):
    """Stopped by the time limit, the master's branch-and-bound incumbent (MIP phase only) is priced beside the
    warm start; a fractional master solution is never read as a plan."""
    import highspy

    from netopt.heuristics import assignment_cost
    from netopt.models.median import _benders_stopped

    rng = np.random.default_rng(5)
    cost = rng.integers(1, 60, (30, 8)).astype(float)
    weights = rng.integers(1, 9, 30).astype(float)
    best, worst = np.sort(np.argsort(weights @ cost)[:3]), np.sort(np.argsort(weights @ cost)[-3:])
    assert assignment_cost(cost, weights, best) < assignment_cost(cost, weights, worst)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    y = np.zeros(8)
    y[best] = 1.0
    bounds = np.concatenate([y, np.zeros(30)])
    highs.addVars(38, bounds, bounds)
    highs.changeColsIntegrality(8, np.arange(8, dtype=np.int32), np.full(8, highspy.HighsVarType.kInteger))
    highs.run()  # a finished MIP whose incumbent is the plan `best`
    fractional = np.concatenate([np.full(8, 3 / 8), np.zeros(30)])
    raw = _benders_stopped(highs, highspy, fractional, phase, cost, weights, worst, 0.0, proven=5.0)
    expected = best if phase == "mip" else worst
    assert raw.status == "feasible"
    assert raw.bound == 5.0  # an earlier solve's bound (5) beats this one's (0)
    assert np.flatnonzero(raw.x[:8] > 0.5).tolist() == expected.tolist()
    assert raw.objective == pytest.approx(assignment_cost(cost, weights, expected))


def test_a_stalled_cut_loop_reports_the_cheaper_plan_never_a_fractional_one():
    import highspy

    from netopt.heuristics import assignment_cost
    from netopt.models.median import _benders_stalled

    rng = np.random.default_rng(6)
    cost = rng.integers(1, 60, (30, 8)).astype(float)
    weights = rng.integers(1, 9, 30).astype(float)
    best, worst = np.sort(np.argsort(weights @ cost)[:3]), np.sort(np.argsort(weights @ cost)[-3:])
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.addVars(1, np.zeros(1), np.ones(1))
    highs.run()  # a master whose value (0) bounds every plan from below
    as_x = lambda sites: np.concatenate([np.isin(np.arange(8), sites).astype(float), np.zeros(30)])  # noqa: E731
    for x, start, expected in [(as_x(best), worst, best), (as_x(worst), best, best),
                               (np.concatenate([np.full(8, 3 / 8), np.zeros(30)]), worst, worst)]:
        raw = _benders_stalled(highs, x, cost, weights, start, 0.0)
        assert np.flatnonzero(raw.x[:8] > 0.5).tolist() == expected.tolist()
        assert raw.objective == pytest.approx(assignment_cost(cost, weights, expected))
        assert raw.status == "feasible" and raw.bound == 0.0


def test_a_thread_count_after_the_process_started_highs_still_solves():
    """HiGHS keeps one thread pool per process; asking for another count later must not fail the solve."""
    import subprocess
    import sys

    script = ("import numpy as np\nfrom netopt.models import CFLP, LSCP, MCLP, PMedian\n"
              "rng = np.random.default_rng(1)\ncost = rng.uniform(0, 10, (40, 12))\n"
              "w = rng.integers(1, 50, 40).astype(float)\n"
              "models = [lambda: LSCP.from_coverage(np.ones((4, 3), bool)), lambda: PMedian.from_cost_matrix(cost, 3, w),"
              " lambda: MCLP.from_cost_matrix(cost, 3.0, 3, w),"
              " lambda: CFLP.from_cost_matrix(cost, w, np.full(12, 300.0), np.full(12, 50.0))]\n"
              "print(*(make().solve(threads=t).status for make in models for t in (None, 1, 2)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["optimal"] * 12  # p-median's Benders loop said 'feasible' (5 % gap) with 1


@pytest.mark.parametrize("seed", [9, 11, 14, 16, 27])
def test_searched_start_finds_a_cheaper_plan_and_closes_only_sites_no_better_plan_uses(seed):
    """Greedy + interchange stops above the optimum on these instances; the search after the Lagrangian (shaken
    interchange over the sites left open) reaches it, and the resumed Lagrangian's closures and bound still
    admit it."""
    from netopt.heuristics import assignment_cost, pmedian_heuristic
    from netopt.models.median import lagrangian_reduction

    cost, weights, _ = euclidean_pmedian(seed, 40, 16)
    model = PMedian.from_cost_matrix(cost, 4, weights=weights)
    start, upper = pmedian_heuristic(cost, weights, 4)
    optimum = brute.pmedian(cost, weights, 4)
    assert upper > optimum
    lower, closed, _, multipliers = lagrangian_reduction(cost, weights, 4, upper, np.array([], int),
                                                         np.array([], int), True, start, iterations=50)
    found, value, closed_after, lower_after = model._searched_start(cost, start, upper, closed, lower,
                                                                   multipliers, None)
    assert value == pytest.approx(optimum) == assignment_cost(cost, weights, found)
    assert lower <= lower_after <= optimum + 1e-9
    assert closed_after[closed].all() and not closed_after[found].any()
    open_ = np.flatnonzero(~closed_after)
    assert brute.pmedian(cost[:, open_], weights, 4) == pytest.approx(optimum)  # closures keep an optimal plan


def test_master_incumbents_that_lack_a_cut_are_cut_and_the_optimum_holds(monkeypatch):
    """Without neighbour cuts or probing the master's branch and bound finds plans it prices too low; each is
    recorded (the solve interrupted when HiGHS next asks), its cuts added, and the next solve starts from the
    cheapest true plan. The optimum is checked against the compact radius formulation."""
    import netopt.models.median as median

    monkeypatch.setattr(median, "NEIGHBOUR_SOLUTIONS", 0)
    monkeypatch.setattr(median, "PROBE_WINDOW", 1)  # no probing: the master branches over every site
    monkeypatch.setattr(median, "PROBE_MIN_CLOSED", 2)
    recorded = []
    take = median._WrongIncumbents.take
    monkeypatch.setattr(median._WrongIncumbents, "take", lambda self: recorded.append(len(self.plans)) or take(self))
    for seed in range(8):
        cost, weights, rng = euclidean_pmedian(200 + seed, 200, 60)
        p = int(rng.integers(4, 8))
        raw = median.benders_pmedian(cost, weights, p, np.array([], int), rng.choice(60, p, replace=False), True)
        compact = PMedian.from_cost_matrix(cost, p, weights=weights).solve(warm_start=False)
        assert raw.status == compact.status == "optimal"
        assert raw.objective == pytest.approx(compact.objective)
    assert sum(recorded) > 0


def test_a_model_keeps_its_own_read_only_cost_matrix_and_copies_it_once_at_most():
    """A writeable matrix is copied (the analyst's later changes do not reach the model); a read-only one, like
    a model's own, is used as it is — a grid's matrix is gigabytes, and it was copied twice."""
    cost = np.arange(12.0).reshape(4, 3)
    models = [PMedian.from_cost_matrix(cost, 1), no.PCenter.from_cost_matrix(cost, 1)]
    cost[:] = 100.0
    for model in models:
        assert model.cost[0, 1] == 1.0 and not model.cost.flags.writeable
        with pytest.raises(ValueError):
            model.cost[0, 0] = 5.0
    frozen = np.arange(12.0).reshape(4, 3)
    frozen.flags.writeable = False
    assert PMedian.from_cost_matrix(frozen, 1).cost is frozen and no.PCenter.from_cost_matrix(frozen, 1).cost is frozen
    assert PMedian(models[0].cost, 2).cost is models[0].cost


def test_the_lagrangian_stops_at_its_deadline_or_work_limit_with_a_valid_bound(monkeypatch):
    """A population grid made each subgradient iteration cost 40,000 points x 126 sites: 3000 of them took 90 s
    past a 60 s limit. They stop at the deadline, or when LAGRANGIAN_WORK (points x sites left open, summed) is
    spent; the bound stays a lower bound and the closed sites are still unused by an optimal plan."""
    import time

    from netopt.heuristics import pmedian_heuristic
    from netopt.models import median

    cost, weights, _ = euclidean_pmedian(9, 40, 16)
    start, upper = pmedian_heuristic(cost, weights, 4)
    optimum = brute.pmedian(cost, weights, 4)
    steps = []
    choice = median._lagrangian_choice
    monkeypatch.setattr(median, "_lagrangian_choice", lambda *args: steps.append(1) or choice(*args))
    none = np.array([], int)

    def run(**limit) -> tuple[float, np.ndarray]:
        steps.clear()
        lower, closed, _, _ = median.lagrangian_reduction(cost, weights, 4, upper, none, none, True, start, **limit)
        assert lower <= optimum + 1e-9
        assert brute.pmedian(cost[:, ~closed], weights, 4) == pytest.approx(optimum)
        return len(steps)

    unlimited = run()
    assert run(deadline=time.perf_counter() - 1.0) == 1
    monkeypatch.setattr(median, "LAGRANGIAN_WORK", 40 * 16 * 5)
    assert run() <= 5 < unlimited


def test_solve_gives_the_lagrangian_a_share_of_the_time_limit(monkeypatch):
    import time

    from netopt.models import median

    cost, weights, _ = euclidean_pmedian(9, 40, 16)
    deadlines = []
    reduction = median.lagrangian_reduction
    monkeypatch.setattr(median, "lagrangian_reduction",
                        lambda *args, **kwargs: deadlines.append(kwargs.get("deadline")) or reduction(*args, **kwargs))
    before = time.perf_counter()
    limited = PMedian.from_cost_matrix(cost, 4, weights=weights).solve(time_limit=100)
    first, after = deadlines[0], time.perf_counter()
    deadlines.clear()
    unlimited = PMedian.from_cost_matrix(cost, 4, weights=weights).solve()
    assert before < first - median.LAGRANGIAN_SHARE * 100 < after and deadlines[0] is None
    assert limited.objective == pytest.approx(brute.pmedian(cost, weights, 4)) == unlimited.objective


def test_whole_number_data_is_told_from_fractions_and_unreachable_pairs_do_not_count():
    cost = np.array([[1.0, np.inf, 3.0], [2.0, 5.0, np.inf]])
    assert PMedian.from_cost_matrix(cost, 1)._integral()
    assert not PMedian.from_cost_matrix(cost + 0.5, 1)._integral()
    assert not PMedian.from_cost_matrix(cost, 1, weights=[1.0, 1.5])._integral()


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_a_swap_priced_from_the_plans_two_nearest_sites_is_the_swapped_plans_objective(seed):
    """closures_near_others prices each swap it tries with objective_of_swap (p-median and p-center: from the
    plan's nearest and second-nearest sites; 1,767 swaps on the 1 km grid took 58 s priced whole, p-center's on
    the 0.25 km grid 41 s): the objective_of of the swapped plan, also where a point is then left unserved (inf)."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 12)), int(rng.integers(2, 8))
    cost = rng.integers(1, 30, (n, m)).astype(float)
    cost[rng.random((n, m)) < 0.3] = np.inf
    weights = rng.integers(0, 5, n).astype(float)
    plan = rng.choice(m, int(rng.integers(1, m)), replace=False)
    for model in (PMedian.from_cost_matrix(cost, 1, weights=weights), no.PCenter.from_cost_matrix(cost, 1),
                  no.PCenter.from_cost_matrix(cost, 1, weights=weights)):
        labels = [model.site_labels[j] for j in plan]
        for out in plan:
            for into in np.setdiff1d(np.arange(m), plan):
                swapped = [model.site_labels[j] for j in np.union1d(np.setdiff1d(plan, [out]), [into])]
                assert model.objective_of_swap(labels, model.site_labels[out], model.site_labels[into]) == \
                    pytest.approx(model.objective_of(swapped))


@pytest.mark.parametrize("seed", [9, 11])
def test_neighbour_cuts_made_a_block_at_a_time_keep_the_optimum(monkeypatch, seed):
    """The Benders cuts — at the first plan's neighbours, and those each master solution violates — are made a
    few rows at a time (on a 0.25 km grid all at once took gigabytes): the optimum is still brute force's (these
    two instances reach Benders)."""
    from netopt import heuristics
    from netopt.models import median

    blocks = []
    monkeypatch.setattr(heuristics, "BLOCK_CELLS", 50)
    add = median._add_cut_rows
    monkeypatch.setattr(median, "_add_cut_rows", lambda *args: blocks.append(1) or add(*args))
    cost, weights, _ = euclidean_pmedian(seed, 40, 16)
    result = PMedian.from_cost_matrix(cost, 4, weights=weights).solve()
    assert result.status == "optimal" and result.objective == pytest.approx(brute.pmedian(cost, weights, 4))
    assert len(blocks) > 10


@pytest.mark.parametrize("seed", [9, 11, 16])
def test_the_lagrangian_read_a_few_rows_at_a_time_gives_the_same_bound_closures_and_plan(monkeypatch, seed):
    """The subgradient's sums are made a few site rows at a time in one small buffer, and closed sites' rows are
    moved up within the weighted matrix (on a 0.25 km grid, a reduced-value copy, a partition copy and the matrix
    copied at each closure peaked at gigabytes): blocks of one or two rows give the very same run, and the rows
    left open stay in the matrix it was given."""
    from netopt import heuristics
    from netopt.heuristics import pmedian_heuristic
    from netopt.models import median

    cost, weights, _ = euclidean_pmedian(seed, 40, 16)
    start, upper = pmedian_heuristic(cost, weights, 4)
    none = np.array([], int)
    whole = median.lagrangian_reduction(cost, weights, 4, upper, none, none, True, start)
    monkeypatch.setattr(median, "CACHE_CELLS", 40 * 1.5)
    monkeypatch.setattr(heuristics, "BLOCK_CELLS", 16 * 3)
    blocked = median.lagrangian_reduction(cost, weights, 4, upper, none, none, True, start)
    assert whole[0] == blocked[0] and (whole[1] == blocked[1]).all() and whole[1].sum() > 1
    assert (whole[2] == blocked[2]).all() and (whole[3] == blocked[3]).all()
    assert brute.pmedian(cost[:, ~whole[1]], weights, 4) == pytest.approx(brute.pmedian(cost, weights, 4))
    weighted = np.multiply(cost.T, weights, order="C")
    closed = np.zeros(16, bool)
    closed[[0, 5, 6]] = True
    rows = median._OpenSiteCosts(weighted.copy(), closed)
    given = rows.rows
    closed[[9, 15]] = True
    rho = rows.reduced_sums(np.full(40, 3.0), closed)
    assert np.shares_memory(rows.rows, given) and len(rows.rows) == 11
    assert rho == pytest.approx(np.where(closed, 0.0, np.minimum(weighted - 3.0, 0.0).sum(axis=1)))
    chosen = np.array([1, 2, 7])
    assert rows.plan_cost(chosen) == pytest.approx(weighted[chosen].min(axis=0).sum())
    assert (rows.served_below(chosen, np.full(40, 3.0)) == (weighted[chosen] < 3.0).sum(axis=0)).all()


@pytest.mark.parametrize("seed", range(4))
def test_the_warm_start_of_the_exact_model_is_its_heuristic_plan_and_nothing_else_builds_the_levels(seed):
    """Only the radius formulation's MILP takes the heuristic plan with every point's level variables z (n x
    distinct distances: a gigabyte and 10 s on a 0.25 km grid, for a start the Benders path never used); the
    other paths read the sites alone. The full vector meets every row of the MILP at the plan's cost."""
    cost, weights, rng = euclidean_pmedian(seed, 30, 12)
    cost[rng.random(cost.shape) < 0.2] = np.inf
    cost[:, 0] = 40.0  # one site reaches every point
    model = PMedian.from_cost_matrix(cost, 3, weights=weights)
    sites, value = model._heuristic()
    assert len(sites) == 12 and sites.sum() == 3
    full, same = model._warm_start()
    milp = model.milp
    assert same == value and (full[:12] == sites).all() and len(full) == len(milp.c)
    rows = milp.A @ full
    assert (rows >= milp.row_lo - 1e-9).all() and (rows <= milp.row_hi + 1e-9).all()
    assert (full >= milp.col_lo).all() and (full <= milp.col_hi).all()
    assert milp.c @ full + milp.offset == pytest.approx(value)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_no_dearer_site_opens_where_its_cheaper_twin_does_as_well(seed):
    """Every candidate site twice (the same distances), each at its own opening cost: p-median and p-center plans
    reach the brute-force optimum and never leave the cheaper twin of an open site closed."""
    from netopt.models import PCenter
    from tests import brute

    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(3, 7)), int(rng.integers(2, 4))
    base = rng.integers(1, 20, (n, m)).astype(float)
    cost = np.hstack([base, base])
    open_cost = np.r_[rng.choice([2.0, 3.0], m), rng.choice([1.0, 2.0, 3.0], m)]
    p = int(rng.integers(1, m + 1))
    rules = dict(open_cost=open_cost, budget=float(open_cost.sum()))
    for model, best in ((PMedian.from_cost_matrix(cost, p, **rules), brute.pmedian(cost, np.ones(n), p, **rules)),
                        (PCenter.from_cost_matrix(cost, p, **rules), brute.pcenter(cost, p, **rules))):
        result = model.solve()
        assert result.status == "optimal" and result.objective == pytest.approx(best)
        chosen = {int(label[1:]) for label in result.selected}
        for j in chosen:
            twin = (j + m) % (2 * m)
            assert twin in chosen or open_cost[twin] >= open_cost[j], (j, twin, open_cost)
