"""CapacitatedMCLP (maximal covering with capacities) against brute force, by hand, and on the sample."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netopt as no
from netopt.models import CapacitatedMCLP
from tests import brute
from tests.test_models_covering import coverage, weighted_coverage


@settings(max_examples=200, deadline=None)
@given(coverage(), st.data())
def test_capacitated_cover_matches_brute_force(case, data):
    A, rng = case
    single_source = data.draw(st.booleans())
    if single_source:
        A = A[:6]  # every point's choice is enumerated
    m = A.shape[1]
    p = data.draw(st.integers(1, min(m, 3) if single_source else m))
    weights = rng.integers(1, 9, A.shape[0]).astype(float)
    capacity = rng.integers(1, 15, m).astype(float)
    result = CapacitatedMCLP.from_coverage(A, p, capacity, weights=weights, single_source=single_source).solve()
    expected = brute.capacitated_cover(A, weights, capacity, p, single_source)
    assert result.status == "optimal" and result.objective == pytest.approx(expected, abs=1e-6)
    served = result.assignment
    load = served.groupby("site")["amount"].sum()
    assert all(load[s] <= capacity[int(s[1:])] + 1e-6 for s in load.index)
    assert set(served["site"]) <= set(result.selected)
    assert served.groupby("demand")["share"].sum().le(1 + 1e-6).all()
    if single_source:
        assert np.isclose(served["share"], 1.0).all()
    assert result.details["covered_weight"] == pytest.approx(result.objective)
    assert result.details["covered_weight"] <= result.details["within_reach_weight"] + 1e-6


@settings(max_examples=60, deadline=None)
@given(weighted_coverage(), st.data())
def test_capacitated_cover_rules_match_brute_force(case, data):
    A, p, weights = case
    m = A.shape[1]
    existing = data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True))
    rules = dict(existing=existing, closable=[j for j in existing if data.draw(st.booleans())],
                 open_cost=np.full(m, 2.0), budget=data.draw(st.sampled_from([None, 2.0, 4.0])),
                 county=[j % 2 for j in range(m)], county_min={1: 1} if m > 1 and data.draw(st.booleans()) else None)
    expected = brute.capacitated_cover(A, weights, np.full(m, 6.0), p, **rules)
    result = CapacitatedMCLP.from_coverage(A, p, 6.0, weights=weights, **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
    else:
        assert result.status == "optimal" and result.objective == pytest.approx(expected, abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(weighted_coverage(), st.data())
def test_among_the_best_plans_the_most_existing_sites_stay(case, data):
    A, p, weights = case
    m = A.shape[1]
    capacity = data.draw(st.sampled_from([3.0, 6.0, 50.0]))  # small capacities make many plans tie
    existing = data.draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=m, unique=True))
    result = CapacitatedMCLP.from_coverage(A, p, capacity, weights=weights, existing=existing,
                                           closable=existing).solve()
    plans = brute.capacitated_cover_plans(A, weights, np.full(m, capacity), p, existing=existing, closable=existing)
    assert result.status == "optimal" and result.objective == pytest.approx(max(plans.values()), abs=1e-6)
    assert brute.kept(result.selected, existing) == brute.most_kept(plans, existing, tolerance=1e-6)


def test_capacity_splits_a_town_between_branches_by_hand():
    # town a (8 residents) is within reach of both sites, b (3) of site 1 only; each site serves at most 5
    A = np.array([[1, 1], [0, 1]])
    model = CapacitatedMCLP.from_coverage(A, 2, 5.0, weights=[8, 3], demand_labels=["a", "b"], site_labels=["s", "t"])
    result = model.solve()
    assert result.objective == pytest.approx(10.0) and result.details["within_reach_weight"] == 11.0
    assert result.assignment.groupby("site")["amount"].sum().to_dict() == pytest.approx({"s": 5.0, "t": 5.0})
    whole = CapacitatedMCLP.from_coverage(A, 2, 5.0, weights=[8, 3], single_source=True).solve()
    assert whole.objective == pytest.approx(3.0)  # a needs 8 > 5 from one site: only b is served
    today = model.evaluate(["t"])
    assert today.status == "evaluated" and today.objective == pytest.approx(5.0)
    assert model.objective_of(["s", "t"]) == pytest.approx(10.0)


def test_capacity_is_checked():
    with pytest.raises(no.InputError, match="capacity must be 2 non-negative numbers"):
        CapacitatedMCLP.from_coverage(np.eye(2), 1, [1.0, -2.0])
    with pytest.raises(no.InputError, match="capacity must be 2 non-negative numbers"):
        CapacitatedMCLP.from_coverage(np.eye(2), 1, [1.0])


def test_capacitated_cover_on_the_sample():
    ds = no.load_sample()
    sites = no.planning.candidate_sites(ds, bank="农业")
    existing = np.flatnonzero(sites["kind"].to_numpy() == "existing")
    plain = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing) + 5, existing=existing).solve()
    capped = CapacitatedMCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing) + 5,
                                                capacity=40_000, existing=existing).solve()
    assert capped.status == "optimal" and capped.objective <= plain.objective + 1e-6
    assert max(capped.details["load"].values()) <= 40_000 + 1e-6
    assert capped.assignment["distance"].max() <= 3.5 + 1e-9


def test_cbc_and_to_pulp_agree_with_highs():
    A = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]])
    model = CapacitatedMCLP.from_coverage(A, 2, [4.0, 6.0, 3.0], weights=[5, 4, 3, 2])
    exact = model.solve().objective
    assert CapacitatedMCLP.from_coverage(A, 2, [4.0, 6.0, 3.0], weights=[5, 4, 3, 2]).solve(solver="cbc").objective \
        == pytest.approx(exact)
    problem = model.to_pulp()
    assert len(problem.variables()) == 3 + int(A.sum())  # sites, then one share per covering pair


def test_cli_plans_coverage_within_capacities(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from netopt.cli import app

    runner = CliRunner()
    args = ["optimize", "--tables-only", "--model", "mclp", "--bank", "农业", "--max-new", "5", "--capacity-wan", "4"]
    result = runner.invoke(app, args + ["--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "of them beyond the capacities" in said and "Residents served 服务人口" in said
    sites = pd.read_csv(tmp_path / "mclp_sites.csv")
    assert len(sites) == 106 and sites["served_wan"].max() <= 4.0 + 1e-6
    served = pd.read_csv(tmp_path / "mclp_assignment.csv")["amount"].sum()
    assert f"{served / 1e4:,.1f} 万人" in said  # the plan's value: residents served within the capacities
    other = runner.invoke(app, ["optimize", "--tables-only", "--model", "pcenter", "--bank", "农业", "--max-new", "5",
                                "--capacity-wan", "4", "--out", str(tmp_path / "x")])
    assert other.exit_code == 2 and "--capacity-wan is for --model cflp" in " ".join(other.output.split())
    curve = runner.invoke(app, ["curve", "--tables-only", "--bank", "农业", "--up-to", "3", "--capacity-wan", "4",
                                "--out", str(tmp_path / "curve")])
    assert curve.exit_code == 0 and "at most 4万 served per branch" in " ".join(curve.output.split()), curve.output
    table = pd.read_csv(tmp_path / "curve" / "coverage_curve.csv")
    gains = table.iloc[:, 3].dropna().to_numpy()  # gain 增量 万人: a new branch serves at most its 4万
    assert len(gains) == 3 and (gains <= 4.0 + 1e-6).all() and (gains >= -1e-6).all()


def test_curve_of_served_residents_matches_each_solve():
    A = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]])
    model = CapacitatedMCLP.from_coverage(A, 1, 5.0, weights=[5, 4, 3, 2])
    table = model.curve([1, 2, 3])
    expected = [brute.capacitated_cover(A, np.array([5.0, 4, 3, 2]), np.full(3, 5.0), p) for p in (1, 2, 3)]
    assert table["covered_weight"].tolist() == pytest.approx(expected)
