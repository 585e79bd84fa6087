"""Gradual coverage (MCLP with a full radius): brute force, the per-town assignment, the sample, bad inputs."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netopt as no
from netopt._errors import InputError
from netopt.models import MCLP
from netopt.models import _gradual
from tests import brute


@st.composite
def gradual_case(draw):
    """A small cost matrix (integer distances, so sites tie), weights, a radius and a full radius per row, p."""
    n, m = draw(st.integers(1, 7)), draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cost = rng.integers(0, 10, (n, m)).astype(float)
    weights = rng.integers(0, 6, n).astype(float)
    radius = float(draw(st.integers(1, 9)))
    full = rng.integers(0, int(radius) + 1, n).astype(float)
    return cost, weights, radius, full, draw(st.integers(1, m))


@settings(max_examples=200, deadline=None)
@given(gradual_case(), st.data())
def test_gradual_coverage_matches_brute_force(case, data):
    cost, weights, radius, full, p = case
    m = cost.shape[1]
    existing = data.draw(st.lists(st.integers(0, m - 1), max_size=2, unique=True))
    rules = dict(existing=existing, closable=[j for j in existing if data.draw(st.booleans())],
                 forbidden=[j for j in range(m) if j not in existing and data.draw(st.booleans())],
                 open_cost=np.full(m, 2.0), budget=data.draw(st.sampled_from([None, 2.0, 4.0])))
    at_most = data.draw(st.booleans())
    expected = brute.gradual_mclp(cost, weights, p, full, np.full(len(cost), radius), at_most=at_most, **rules)
    result = MCLP.from_cost_matrix(cost, radius, p, weights=weights, full_radius=full, exactly_p=not at_most,
                                   site_labels=range(m), **rules).solve()
    if expected is None:
        assert result.status == "infeasible" and result.reason
        return
    assert result.status == "optimal" and result.objective == pytest.approx(expected)
    share = brute.gradual_share(cost, full, np.full(len(cost), radius))[:, np.array(result.selected, int)]
    table = result.assignment
    assert table["covered_share"].to_numpy() == pytest.approx(share.max(axis=1, initial=0.0))
    assert result.details["covered_weight"] == pytest.approx(expected)
    assert (table["weight"] @ table["covered_share"]) == pytest.approx(expected)


@settings(max_examples=100, deadline=None)
@given(gradual_case())
def test_a_full_radius_as_wide_as_the_radius_is_plain_coverage_and_zero_counts_from_the_site(case):
    cost, weights, radius, _, p = case
    plain = MCLP.from_cost_matrix(cost, radius, p, weights=weights).solve()
    assert MCLP.from_cost_matrix(cost, radius, p, weights=weights, full_radius=radius).solve().objective == \
        pytest.approx(plain.objective)
    linear = MCLP.from_cost_matrix(cost, radius, p, weights=weights, full_radius=0).solve()
    expected = brute.gradual_mclp(cost, weights, p, np.zeros(len(cost)), np.full(len(cost), radius))
    assert linear.objective == pytest.approx(expected) and linear.objective <= plain.objective + 1e-9


def test_each_town_counts_by_its_nearest_open_site():
    """Two towns, three sites: town 0 has sites 1 km (full) and 3 km away, town 1 one 2 km away — half covered
    with full 1 km and radius 3 km."""
    cost = np.array([[1.0, 3.0, 9.0], [9.0, 9.0, 2.0]])
    model = MCLP.from_cost_matrix(cost, 3.0, 2, weights=[100.0, 40.0], full_radius=1.0, site_labels=["a", "b", "c"])
    result = model.solve()
    assert result.selected == ["a", "c"] and result.objective == pytest.approx(120.0)
    table = result.assignment.set_index("demand")
    assert table["site"].tolist() == ["a", "c"] and table["covered_share"].tolist() == pytest.approx([1.0, 0.5])
    assert table["distance"].tolist() == [1.0, 2.0]
    assert result.details["fully_covered_pct"] == pytest.approx(100 * 100 / 140)
    assert result.details["reached_pct"] == 100.0 and result.details["covered_pct"] == pytest.approx(100 * 120 / 140)
    assert model.worth_of_each(["a", "c"]).tolist() == pytest.approx([100.0, 20.0])  # b would keep 0: 3 km = none
    assert model.heuristic().objective == pytest.approx(120.0)
    import pulp

    problem = model.to_pulp()  # the distance levels as rows, for a script's own constraints
    problem.solve(pulp.HiGHS(msg=False))
    assert pulp.value(problem.objective) == pytest.approx(120.0)


def test_gradual_coverage_of_the_sample_towns_by_km_and_by_minutes():
    ds = no.load_sample()
    sites = no.planning.candidate_sites(ds, bank="招商银行")
    existing = sites.index[sites.kind == "existing"]
    keywords = dict(p=len(existing) + 5, existing=existing)
    plain = MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, **keywords).solve()
    gradual = MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, full_km=1.2, **keywords).solve()
    details = gradual.details
    assert gradual.status == "optimal" and len(gradual.assignment) == len(ds.towns)
    assert details["fully_covered_pct"] < details["covered_pct"] < details["reached_pct"]
    assert details["reached_pct"] <= plain.details["covered_pct"]
    table = gradual.assignment
    far, near = table["distance"] > 1.2, table["distance"] <= 1.2
    assert (table.loc[far, "covered_share"] < 1).all() and (table.loc[near, "covered_share"] == 1).all()
    timed = MCLP.from_geodataframes(ds.towns, sites, radius_min=15, full_min=5, **keywords).solve()
    assert timed.status == "optimal" and "travel_minutes" in timed.assignment
    assert timed.assignment["travel_minutes"].max() <= 15 + 1e-9


def test_a_full_radius_wrong_for_its_radius_is_refused():
    cost = np.array([[1.0, 2.0]])
    with pytest.raises(InputError, match="full_radius must be at most the radius: demand point 0 has 4.0"):
        MCLP.from_cost_matrix(cost, 3.0, 1, full_radius=4.0)
    with pytest.raises(InputError, match="full_radius must be a number of units >= 0 for every demand point"):
        MCLP.from_cost_matrix(cost, 3.0, 1, full_radius=-1)
    with pytest.raises(InputError, match=r"one per demand point \(1\)"):
        MCLP.from_cost_matrix(cost, 3.0, 1, full_radius=[1.0, 2.0])
    ds = no.load_sample()
    with pytest.raises(InputError, match="full_km goes with radius_km .* not radius_min"):
        MCLP.from_geodataframes(ds.towns, ds.branches, radius_min=15, full_km=1, p=3)
    with pytest.raises(InputError, match="full_min goes with radius_min"):
        MCLP.from_geodataframes(ds.towns, ds.branches, radius_km=3, full_min=5, p=3)
    with pytest.raises(InputError, match="no backup_weight and no cover_all"):
        MCLP(np.ones((1, 2)), 1, gradual=MCLP.from_cost_matrix(cost, 3.0, 1, full_radius=1.0).gradual,
             backup_weight=0.5)


def test_gradual_coverage_too_large_to_build_is_refused(monkeypatch):
    monkeypatch.setattr(_gradual, "GRADUAL_PAIRS_LIMIT", 10)
    cost = np.arange(40, dtype=float).reshape(2, 20) / 10
    with pytest.raises(InputError, match="gradual coverage would need 420 row-site pairs"):
        MCLP.from_cost_matrix(cost, 4.0, 2, full_radius=0.0)


def test_optimize_and_curve_count_towns_by_distance_with_full_km(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app

    runner = CliRunner()
    out = tmp_path / "plan"
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--max-new", "2", "--phase", "1", "--bank", "农业", "--full-km", "1.2",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    today, planned = (float(v.replace(",", "")) for v in
                      re.search(r"现有网点 ([\d,.]+) 万人 → plan 方案 ([\d,.]+) 万人", text).groups())
    table = pd.read_csv(out / "mclp_assignment.csv")
    assert len(table) == 125 and table["covered_share"].between(0, 1).all()
    assert round(float(table["weight"] @ table["covered_share"]) / 1e4, 1) == planned > today
    assert "Residents wholly covered, within the full radius 完全覆盖人口" in text
    phases = pd.read_csv(out / "mclp_phases.csv")
    assert phases["covered, counted by distance 按距离折算覆盖人口（万人）"].round(1).tolist()[::2] == [today, planned]
    curve = runner.invoke(app, ["curve", "--tables-only", "--up-to", "1", "--bank", "农业", "--full-km", "1.2", "--out",
                                str(tmp_path / "curve")])
    assert curve.exit_code == 0, curve.output
    assert "按距离折算" in curve.output
    points = pd.read_csv(tmp_path / "curve" / "coverage_curve.csv")
    assert points["covered, counted by distance 按距离折算覆盖人口（万人）"].iloc[0] == pytest.approx(today, abs=0.05)


@pytest.mark.parametrize("options, refusal", [
    (["--full-km", "4"], "--full-km 4 is beyond the radius 3.5 km"),
    (["--core-km", "1.2", "--county-km", "3.5", "--full-km", "1.5"],
     r"--full-km 1.5 is beyond the radius 1.2 km \(core 1.2 km, county 3.5 km\)"),
    (["--model", "pmedian", "--full-km", "1"], "--full-km is for --model mclp without --capacity-wan"),
    (["--capacity-wan", "5", "--full-km", "1"], "--full-km is for --model mclp without --capacity-wan"),
    (["--full-minutes", "5"], "--full-minutes goes with --minutes"),
    (["--minutes", "15", "--full-km", "1"], "--full-km goes with a radius in km; with --minutes give --full-minutes"),
    (["--minutes", "core=10,county=20", "--full-minutes", "12"], "--full-minutes 12 is beyond the travel time 10 min"),
    (["--core-km", "1.2", "--county-km", "3.5", "--full-km", "core=1.5,county=1"],
     "--full-km core=1.5 is beyond the radius 1.2 km"),
    (["--full-km", "core=0.5"], "give county one too, e.g. core=0.5,county=1.5"),
    (["--full-km", "-1"], "'--full-km': takes a number at least 0"),
    (["--core-km", "1.2", "--county-km", "3.5", "--fringe-km", "0.4", "--full-km", "core=0.5,county=3"],
     r"--full-km: 大兴镇 \(瑶海区\) would be wholly covered within 0.5 km, beyond its limit of 0.4 km; give its "
     "region type its own, e.g. fringe=0.4"),
])
def test_a_full_radius_the_command_cannot_use_is_refused(tmp_path, options, refusal):
    from typer.testing import CliRunner

    from netopt.cli import app

    result = CliRunner().invoke(app, ["optimize", "--max-new", "2", "--bank", "农业", *options, "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code != 0 and re.search(refusal, " ".join(result.output.split())), result.output
    assert not (tmp_path / "out" / "mclp_plan.xlsx").exists()


def test_a_full_radius_per_region_type_is_each_towns_own():
    from netopt.cli import ModelOptions, _full_given, _full_per_point

    assert _full_given("1.2km", "--full-km") == 1.2 and _full_given("0", "--full-km") == 0.0
    assert _full_given("5分钟", "--full-minutes") == 5.0
    full = _full_given("core=0.5,county=1.5", "--full-km")
    assert full == {"core": 0.5, "county": 1.5}
    ds = no.load_sample()
    radius = no.coverage.demand_radius_km(ds, {"core": 1.2, "county": 3.5})
    per_town = _full_per_point(ds, ModelOptions(full_km=full), {"radius_km": radius}, ds.towns)["full_km"]
    assert set(per_town[radius == 1.2]) == {0.5} and set(per_town[radius == 3.5]) == {1.5}
    assert _full_per_point(ds, ModelOptions(), {"radius_km": 3.5}, ds.towns) == {}


def test_a_grid_plan_sums_its_cells_residents_counted_by_distance():
    from netopt.cli import _assignment_by_town

    cells = pd.DataFrame({"id": ["c1", "c2", "c3"], "population": [100.0, 300.0, 50.0]})
    assignment = pd.DataFrame({"demand": ["c1", "c2", "c3"], "town": ["甲镇", "甲镇", "乙镇"], "county": ["A县"] * 3,
                               "site": ["s1", "s1", None], "covered": [True, True, False],
                               "distance": [0.5, 2.0, np.nan], "covered_share": [1.0, 0.5, 0.0]})
    table = _assignment_by_town(assignment, cells).set_index("town")
    assert table.loc["甲镇", "covered_population"] == 250.0 and table.loc["乙镇", "covered_population"] == 0.0
    assert table.loc["甲镇", "residents"] == 400.0


def test_a_diagnosis_counts_each_town_by_its_nearest_branch_as_the_model_does():
    """analyze_coverage(full_km=...): each town's covered_share by the km to its nearest branch, by county and
    region the residents counted by distance; the same count as the gradual model's for today's branches."""
    from netopt.distance import cost_matrix_km

    ds = no.load_sample().of_bank("农业")
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5}, full_km={"core": 0.5, "county": 1.2})
    nearest = cost_matrix_km(ds.towns, ds.branches).min(axis=1)
    radius = np.where(cov.towns["radius_km"] == 1.2, 1.2, 3.5)
    full = np.where(radius == 1.2, 0.5, 1.2)
    share = np.clip((radius - nearest) / (radius - full), 0, 1)
    assert cov.towns["covered_share"].to_numpy() == pytest.approx(share, abs=1e-9)
    assert (cov.towns["full_radius_km"].to_numpy() == full).all()
    counted = ds.towns["population"].to_numpy(float) * share
    by_county = pd.Series(counted).groupby(ds.towns["county"].to_numpy()).sum()
    assert cov.by_county.set_index("county")["covered_by_distance"].to_dict() == pytest.approx(by_county.to_dict())
    assert cov.by_region["covered_by_distance"].sum() == pytest.approx(counted.sum())
    assert cov.by_town()["covered_by_distance"].sum() == pytest.approx(counted.sum())
    rate = cov.by_region.set_index("region_type")
    assert (rate["coverage_by_distance_pct"] <= rate["coverage_rate_pct"]).all()
    assert "wholly covered within core 0.5 km, county 1.2 km" in cov.summary()
    assert f"counted by distance {100 * counted.sum() / ds.towns['population'].sum():.1f}%" in cov.summary()
    sites = no.planning.candidate_sites(ds, bank="农业")
    model = MCLP.from_geodataframes(ds.towns, sites, radius_km=cov.towns["radius_km"].to_numpy(),
                                    full_km=cov.towns["full_radius_km"].to_numpy(), p=len(ds.branches),
                                    existing=np.flatnonzero(sites["kind"] == "existing"))
    today = model.solve(time_limit=60)
    assert today.details["covered_weight"] == pytest.approx(counted.sum(), rel=1e-9)


def test_a_diagnosis_with_the_full_radius_as_wide_as_the_radius_counts_the_residents_within_it():
    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_min=15, full_min=15)
    assert (cov.towns["covered_share"] == cov.towns["covered"].astype(float)).all()
    assert "full_time_min" in cov.towns and "full_radius_km" not in cov.towns
    assert cov.by_county["covered_by_distance"].tolist() == pytest.approx(cov.by_county["covered_population"].tolist())
    plain = no.analyze_coverage(ds, radius_min=15)
    assert "covered_share" not in plain.towns and "covered_by_distance" not in plain.by_region
    assert "counted by distance" not in plain.summary() and "wholly" not in plain.summary()


@pytest.mark.parametrize("given, refusal", [
    (dict(radius_km=3.5, full_min=5), "full_min goes with radius_min"),
    (dict(radius_min=15, full_km=1), "full_km goes with a radius in km"),
    (dict(radius_km=3.5, full_km=-1), "full_km must be a number of km of 0 or more, got -1"),
    (dict(radius_km=3.5, full_km={"core": 1, "county": "x"}), "of 0 or more for county, got 'x'"),
    (dict(radius_km=3.5, full_km=4), r"full_km: .* would be wholly covered within 4 km, beyond its limit of 3.5 km"),
    (dict(radius_km={"core": 1.2, "county": 3.5, "fringe": 0.4}, full_km={"core": 0.5, "county": 3}),
     r"full_km: 大兴镇 \(瑶海区\) would be wholly covered within 0.5 km, beyond its limit of 0.4 km"),
])
def test_a_diagnosis_refuses_a_full_radius_it_cannot_use(given, refusal):
    with pytest.raises(InputError, match=refusal):
        no.analyze_coverage(no.load_sample(), **given)


def test_analyze_full_km_says_the_residents_counted_by_distance_and_writes_each_towns_share(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["analyze", "--tables-only",
                                 "--bank", "农业", "--radius-km", "3.5", "--full-km", "1.2", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    counted = re.search(r"counted by distance 按距离折算覆盖人口: ([\d,.]+)万 \(([\d.]+)%\), of ([\d,.]+)万 within reach",
                        text)
    assert counted and "wholly covered within 1.2 km" in text, text
    towns = pd.read_csv(tmp_path / "coverage_towns.csv")
    residents = towns["population 常住人口(人)"] @ towns["covered_share 覆盖比例"]
    assert f"{residents / 1e4:,.1f}" == counted.group(1)
    regions = pd.read_csv(tmp_path / "coverage_by_region.csv")
    assert regions["covered_by_distance 按距离折算覆盖人口(人)"].sum() == pytest.approx(residents, rel=1e-4)  # shares
    # written to 3 decimals
    plan = runner.invoke(app, ["optimize", "--tables-only",
                               "--max-new", "1", "--bank", "农业", "--full-km", "1.2", "--out",
                               str(tmp_path / "plan")])
    assert f"现有网点 {counted.group(1)} 万人 →" in " ".join(plan.output.split())  # the plan's today: the same count


@pytest.mark.parametrize("options, refusal", [
    (["--minutes", "15", "--full-km", "1"], "--full-km goes with a radius in km; with --minutes give --full-minutes"),
    (["--full-minutes", "5"], "--full-minutes goes with --minutes"),
    (["--radius-km", "3.5", "--full-km", "4"], "--full-km 4 is beyond the radius 3.5 km"),
    (["--grid-km", "1", "--tile-km", "10", "--full-km", "4"], "--full-km 4 is beyond the radius 1.2 km"),
])
def test_analyze_refuses_a_full_radius_it_cannot_use(tmp_path, options, refusal):
    from typer.testing import CliRunner

    from netopt.cli import app

    result = CliRunner().invoke(app, ["analyze", *options, "--out", str(tmp_path / "out")])
    assert result.exit_code != 0 and refusal in " ".join(result.output.split()), result.output
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize("limits", [
    dict(radius_km={"core": 1.2, "county": 3.5}, full_km={"core": 0.5, "county": 1.5}),
    dict(radius_min={"core": 10, "county": 20}, full_min=5, mode={"core": "walk", "county": "drive"}),
    dict(radius_km=3.0, full_km=0.0),  # the share falling from the branch's door
])
def test_a_grid_counted_by_distance_tile_by_tile_is_the_whole_grid(limits, tmp_path):
    """tiled_grid_coverage with full_km / full_min: each county's residents counted by distance as analyze_coverage
    counts them on the whole grid; each cell's covered share written; analyze --tile-km --full-km says them."""
    from typer.testing import CliRunner

    from netopt.cli import app
    from netopt.grid import population_grid
    from netopt.tiles import tiled_grid_coverage

    ds = no.load_sample()
    tiled = tiled_grid_coverage(ds, cell_km=3.0, tile_km=30.0, cells_dir=tmp_path / "cells", **limits)
    whole = no.analyze_coverage(ds, demand=population_grid(ds, cell_km=3.0), **limits).by_county.set_index("county")
    got = tiled.by_county.set_index("county").loc[whole.index]
    assert got["covered_by_distance"].to_numpy() == pytest.approx(whole["covered_by_distance"].to_numpy(), rel=1e-6)
    assert got["coverage_by_distance_pct"].to_numpy() == pytest.approx(whole["coverage_by_distance_pct"].to_numpy())
    cells = pd.concat(pd.read_parquet(path) for path in tiled.cell_files)
    assert cells["covered_share"].between(0, 1).all() and "by distance" in repr(tiled)
    if isinstance(limits.get("radius_km"), dict):
        result = CliRunner().invoke(app, ["analyze", "--grid-km", "3", "--tile-km", "30", "--full-km",
                                          "core=0.5,county=1.5", "--out", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
        region = tiled.by_region.set_index("region_type")["coverage_by_distance_pct"]
        assert all(f"{rate:.1f}%" in result.output for rate in region) and "折算" in result.output


def test_the_html_map_of_a_diagnosis_by_distance_shades_each_town_by_what_is_not_counted_covered():
    from netopt.maps import _shade
    from tests.pages import layer_features

    ds = no.load_sample().of_bank("农业")
    cov = no.analyze_coverage(ds, radius_km=3.5, full_km=1.2)
    towns = layer_features(no.maps.network_map(ds, coverage=cov), "乡镇 Towns")
    share = cov.towns["covered_share"].to_numpy()
    partly = int(np.flatnonzero((share > 0.2) & (share < 0.8))[0])
    tip = towns[partly]["properties"]["tip"]
    assert f"未覆盖 unserved {1 - share[partly]:.0%} (按距离折算 counted by distance)" in tip
    assert towns[partly]["properties"]["style"]["fillColor"] == _shade(1 - share[partly])
    cells = no.analyze_coverage(ds, radius_km=3.5, full_km=1.2, demand=no.grid.population_grid(ds, cell_km=2))
    by_town = cells.by_town().set_index("town_id")["coverage_by_distance_pct"]
    layer = no.maps._town_layer(ds, cells)  # a grid's towns: their cells' residents counted by distance
    assert layer["covered_share"].to_numpy() == pytest.approx(layer["town_id"].map(by_town).to_numpy() / 100)


def test_plans_compared_by_distance_count_each_network_as_its_diagnosis_does(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app
    from netopt.deck import differing_towns
    from netopt.planning import compare_plans

    ds = no.load_sample()
    fewer = ds.branches[ds.branches["branch_id"] != "HF0014"]
    scenarios, towns = compare_plans(ds, {"撤三河": fewer}, bank="农业", radius_km=3.5, full_km=1.2)
    each = {}
    for network, row in zip((ds.branches, fewer), scenarios.itertuples()):
        alone = no.analyze_coverage(no.io.Dataset(ds.counties, ds.towns, network).of_bank("农业"), radius_km=3.5,
                                    full_km=1.2)
        counted = alone.by_region["covered_by_distance"].sum()
        assert row.covered_by_distance_wan == pytest.approx(counted / 1e4)
        assert row.coverage_by_distance_pct == pytest.approx(100 * counted / ds.towns["population"].sum())
        each[row.scenario] = alone.by_town().set_index("town_id")["covered_by_distance"] / 1e4
    spread = abs(each["撤三河"] - each["today 现状"])  # the towns differing: by the residents counted by distance
    assert sorted(towns["town_id"]) == sorted(spread.index[spread > 0.5e-4])
    assert towns["spread_wan"].to_numpy() == pytest.approx(spread[towns["town_id"]].to_numpy())
    assert towns["counted_wan 撤三河"].to_numpy() == pytest.approx(each["撤三河"][towns["town_id"]].to_numpy())
    listed, headers = differing_towns(towns)
    assert set(headers.values()) == {"按距离折算覆盖人口(万人)"} and "counted_wan 撤三河" in listed
    assert "coverage_by_distance_pct" not in compare_plans(ds, {"撤三河": fewer}, bank="农业", radius_km=3.5)[0]
    pd.DataFrame(fewer.drop(columns="geometry")).assign(lon=fewer.geometry.x, lat=fewer.geometry.y).to_csv(
        tmp_path / "fewer.csv", index=False)
    result = CliRunner().invoke(app, ["compare", "--tables-only",
                                      str(tmp_path / "fewer.csv"), "--name", "撤三河", "--bank", "农业",
                                      "--radius-km", "3.5", "--full-km", "1.2", "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "within 3.5 km, wholly covered within 1.2 km" in text
    shown = re.search(r"counted by distance 按距离折算 万人\W+([\d,.]+)\W+([\d,.]+)", text)
    assert shown and [float(v) for v in shown.groups()] == [round(v, 1) for v in scenarios["covered_by_distance_wan"]]
    summary = dict(pd.read_excel(tmp_path / "cmp" / "compare.xlsx", engine="openpyxl").to_numpy())
    assert summary["counted by distance 按距离折算"] == "wholly covered within 1.2 km"
    refused = CliRunner().invoke(app, ["compare", "--tables-only",
                                       str(tmp_path / "fewer.csv"), "--minutes", "15", "--full-km", "1",
                                       "--out", str(tmp_path / "no")])
    assert refused.exit_code != 0 and "--full-km goes with a radius in km" in " ".join(refused.output.split())


# 9 s; by default the suggested branches and underserved towns counted by distance are checked below
@pytest.mark.slow
def test_reports_counted_by_distance_say_it_beside_the_coverage(tmp_path):
    from docx import Document
    from pptx import Presentation
    from typer.testing import CliRunner

    from netopt.cli import app

    result = CliRunner().invoke(app, ["report", "--bank", "农业", "--full-km", "1.2", "--new-per-county", "1", "--out",
                                      str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "more residents counted covered by distance 按距离折算" in " ".join(result.output.split())
    cov = no.analyze_coverage(no.load_sample().of_bank("农业"), radius_km={"core": 1.2, "county": 3.5}, full_km=1.2)
    counted = f"{100 * cov.by_region['covered_by_distance'].sum() / cov.by_region['population'].sum():.1f}%"
    slides = list(Presentation(str(tmp_path / "city_summary.pptx")).slides)
    figures = [shape.text_frame.text for shape in slides[1].shapes if shape.has_text_frame]
    assert figures[figures.index("按距离折算 Counted by distance") - 1] == counted
    said = [" ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame) for slide in slides]
    assert "wholly covered within 1.2 km" in said[0]
    row = cov.by_county.set_index("county").loc["肥西县"]  # each county's slide says its own
    assert any(text.startswith("肥西县") and f"按距离折算 counted by distance {row['coverage_by_distance_pct']:.1f}%" in text
               for text in said)
    headers = [cell.text for table in Document(tmp_path / "city_summary.docx").tables for cell in table.rows[0].cells]
    assert any(header.startswith("按距离折算覆盖率(%)") for header in headers)  # by region and by county
    assert "按距离折算覆盖率" in (tmp_path / "city_summary.html").read_text(encoding="utf-8")
    suggested = "建议新设网点 Where new branches would cover most (按距离折算 counted by distance)"  # its suggestions too
    assert any(text.startswith(suggested) for text in said)
    assert any(p.text.startswith("建议新设 1 个网点 new branches suggested（按距离折算 counted by distance）")
               for p in Document(tmp_path / "city_summary.docx").paragraphs)
    page = next(tmp_path.glob("county_340123_*.html")).read_text(encoding="utf-8")
    assert "本区县按距离折算的覆盖人口由" in page and f"{suggested} (1)" in page


def test_the_meeting_map_counted_by_distance_shades_its_towns_so(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app
    from tests.pages import map_text

    result = CliRunner().invoke(app, ["map", "--bank", "农业", "--full-km", "1.2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "(按距离折算 counted by distance)" in map_text(tmp_path / "network_map.html")
    refused = CliRunner().invoke(app, ["map", "--minutes", "15", "--full-km", "1", "--out", str(tmp_path / "no")])
    assert refused.exit_code != 0 and "--full-km goes with a radius in km" in " ".join(refused.output.split())


def test_static_and_html_maps_counted_by_distance_shade_towns_and_cells_by_the_share_counted():
    """With gradual coverage the static map's towns are blue counted wholly, red not at all, and between them each
    its own shade (the legend's middle one), as on the HTML map; a grid's cells are shaded by their residents not
    counted covered — a cell within reach but beyond its full radius too —, with legend entries saying so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from netopt.grid import population_grid
    from netopt.projection import metric_crs

    ds = no.load_sample().of_bank("农业")
    crs, limits = metric_crs(ds.counties), dict(radius_km={"core": 1.2, "county": 3.5}, full_km=0.5)
    towns = no.analyze_coverage(ds, **limits)
    share = towns.towns["covered_share"].to_numpy()
    assert ((share > 0) & (share < 1)).any() and (share == 1).any() and (share == 0).any()
    fig, ax = plt.subplots()
    no.maps._draw_static(ax, ds, towns, None, crs, chinese=False)
    handles, labels = ax.get_legend_handles_labels()
    assert labels[:3] == ["towns counted wholly covered", "towns counted in part, by distance", "towns not covered"]
    assert to_hex(handles[1].get_facecolor()[0], keep_alpha=False) == no.maps._shade(0.5)
    dots = [drawn for drawn in ax.collections if type(drawn).__name__ == "PathCollection" and len(drawn.get_offsets())]
    drawn = np.concatenate([each.get_facecolor()[:, :3] for each in dots[:3]])  # the towns' three, then branches
    order = np.concatenate([np.flatnonzero(share == 1), np.flatnonzero((share > 0) & (share < 1)),
                            np.flatnonzero(share == 0)])
    assert [to_hex(rgb) for rgb in drawn] == [no.maps._shade(1 - s) for s in share[order]]
    plt.close(fig)
    cells = no.analyze_coverage(ds, **limits, demand=population_grid(ds, cell_km=3)).towns
    left = cells["population"] * (1 - cells["covered_share"])
    shaded_cells = cells[(left > 1e-9 * cells["population"]) & (left > 0)]
    assert (shaded_cells["covered"] & (shaded_cells["covered_share"] > 0)).any()  # within reach, in part counted
    fig, ax = plt.subplots()
    no.maps._draw_static_cells(ax, cells, crs, chinese=False)
    assert np.allclose(ax.collections[0].get_array(), left[shaded_cells.index].repeat(
        shaded_cells.geometry.apply(lambda g: len(getattr(g, "geoms", [g])))))
    assert ax.get_legend_handles_labels()[1] == ["residents not counted covered, by distance (darker: more)"]
    plt.close(fig)
    page = no.maps.network_map(ds, coverage=no.analyze_coverage(ds, **limits, demand=population_grid(ds, cell_km=3)))
    html = page.get_root().render()
    assert "全部计入覆盖 counted wholly" in html and "未计入覆盖的居民(按距离折算) residents not counted covered" in html
    assert "Residents not counted covered" in html and "Cells beyond reach" not in html


def test_suggested_branches_counted_by_distance_are_each_countys_best_and_measured_as_the_diagnosis():
    """suggest_new_sites(full_km=...): a county's suggested sites are the best pair of its town points by residents
    counted by distance (every pair and single tried, each plan's value from its pairs' km), and the county's value
    today and after is analyze_coverage's counted by distance, today and with the suggested branches opened."""
    from itertools import combinations

    from netopt.coverage import demand_limits
    from netopt.models._gradual import covered_share
    from netopt.models.covering import reach_from_geodataframes
    from netopt.planning import candidate_sites, counted_by_distance, network_after, suggest_new_sites

    ds = no.load_sample().of_bank("农业")
    limits = dict(radius_km={"core": 1.2, "county": 3.5}, full_km={"core": 0.5, "county": 1.2})
    suggested = suggest_new_sites(ds, per_county=2, **limits)
    assert counted_by_distance(suggested) and not counted_by_distance(suggest_new_sites(ds, 3.5, 1))
    for county in ("瑶海区", "长丰县", "蜀山区"):  # 蜀山区: a site counting its towns nearer
        towns = (ds.towns["county"] == county).to_numpy() & (ds.towns["population"] > 0).to_numpy()
        sites = candidate_sites(ds)
        radius, full = (demand_limits(ds, limits[key], None, "km")[towns] for key in ("radius_km", "full_km"))
        pairs = reach_from_geodataframes(ds.towns[towns], sites, radius_km=radius).tocoo()  # a stored 0 is a pair
        km = np.full(pairs.shape, np.inf)
        km[pairs.row, pairs.col] = pairs.data
        people = ds.towns.loc[towns, "population"].to_numpy(float)

        def counted(open_sites):
            return float(people @ covered_share(km[:, open_sites].min(axis=1), full, radius))

        today = list(np.flatnonzero(sites["kind"] == "existing"))
        new = np.flatnonzero((sites["kind"] == "new").to_numpy() & (sites["county"] == county).to_numpy())
        best = max(counted(today + list(pair)) for size in (1, 2) for pair in combinations(new, size))
        mine = suggested[suggested["county"] == county]
        assert mine["covered_wan_after"].iloc[0] * 1e4 == pytest.approx(best, rel=1e-9)
        assert mine["covered_wan_today"].iloc[0] * 1e4 == pytest.approx(counted(today), rel=1e-9)
        at_town = dict(zip(ds.towns["town_id"], np.flatnonzero((sites["kind"] == "new").to_numpy())))
        plan = today + [at_town[town] for town in mine["site_id"]]
        names = ds.towns.loc[towns, "name"].to_numpy()
        for town in mine["site_id"]:  # the towns it alone counts more of: brought within reach, or nearer
            others = [j for j in plan if j != at_town[town]]
            shares = [covered_share(km[:, columns].min(axis=1), full, radius) for columns in (plan, others)]
            assert mine.set_index("site_id").loc[town, "reaches"] == "、".join(names[shares[0] > shares[1]])
    opened = network_after(ds, suggested.assign(kind="new"), [*ds.branches["branch_id"], *suggested["site_id"]])
    before, after = (no.analyze_coverage(no.Dataset(ds.counties, ds.towns, branches), **limits).by_county.set_index(
        "county")["covered_by_distance"] for branches in (ds.branches, opened))
    each = suggested.drop_duplicates("county").set_index("county")
    assert np.allclose(each["covered_wan_today"] * 1e4, before[each.index])
    assert np.allclose(each["covered_wan_after"] * 1e4, after[each.index])


def test_underserved_towns_counted_by_distance_are_those_counted_less_than_half():
    """With gradual coverage a town within reach counted covered for less than half is underserved too ("counted
    only 1% by distance"), its unserved residents those not counted; a grid's town its cells' not counted, beyond
    reach or not — the list ranked by them, as the analyst asked coverage counted."""
    from netopt.grid import population_grid

    ds = no.load_sample().of_bank("农业")
    limits = dict(radius_km={"core": 1.2, "county": 3.5}, full_km={"core": 0.5, "county": 1.2})
    cov = no.analyze_coverage(ds, **limits)
    towns = cov.towns.set_index("town_id")
    listed = cov.underserved_towns.set_index("town_id")
    far = towns[towns["covered"] & (towns["covered_share"] < 0.5)]
    near = towns[towns["covered"] & (towns["covered_share"] >= 0.5) & (towns["residents_per_reachable_branch_wan"]
                                                                        <= cov.settings.residents_per_branch_limit_wan)]
    assert len(far) and far.index.isin(listed.index).all() and not near.index.isin(listed.index).any()
    for town, row in far.iterrows():
        assert f"counted only {row['covered_share']:.0%} by distance" in listed.loc[town, "reason"]
        assert listed.loc[town, "unserved_population"] == pytest.approx(row["population"] * (1 - row["covered_share"]))
    beyond = towns[~towns["covered"]].index
    assert (listed.loc[beyond, "unserved_population"] == towns.loc[beyond, "population"]).all()
    assert listed["unserved_population"].is_monotonic_decreasing
    cells = no.analyze_coverage(ds, **limits, demand=population_grid(ds, cell_km=3))
    left = (cells.towns["population"] * (1 - cells.towns["covered_share"])).groupby(cells.towns["town_id"]).sum()
    by_town = cells.underserved_towns.set_index("town_id")
    assert by_town["unserved_population"].to_numpy() == pytest.approx(left[by_town.index].round().to_numpy())
    assert by_town["reason"].str.endswith("not counted covered by distance 按距离折算未计入").all()


def test_the_joint_plan_counted_by_distance_on_the_command_line(tmp_path):
    """plan --p --full-km 1: the sites and types chosen for the residents counted by distance (each type's full
    radius 1 km, its radius its own), said beside those served; each site's counted_wan and each town's
    counted_share written; per type with TYPE=KM; refused without --p and beyond a type's radius."""
    from typer.testing import CliRunner

    from netopt.cli import _full_by_type, app

    result = CliRunner().invoke(app, ["plan", "--tables-only",
                                      "--p", "103", "--bank", "农业", "--budget-wan", "300", "--full-km", "1",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    counted = re.search(r"counted by distance 按距离折算: ([\d,.]+) 万人 \(([\d.]+) %\), wholly covered within 1 km",
                        text)
    served = re.search(r"residents served 服务人口: ([\d,.]+) 万人", text)
    assert counted and served and float(counted.group(1)) < float(served.group(1))
    sites = pd.read_csv(tmp_path / "plan_sites.csv")
    towns = pd.read_csv(tmp_path / "plan_towns.csv")
    column = next(c for c in sites.columns if c.startswith("counted_wan"))
    assert (sites[column] <= sites[next(c for c in sites.columns if c.startswith("served_wan"))] + 1e-6).all()
    assert any(c.startswith("counted_share") for c in towns.columns)
    assert _full_by_type(["社区型=0.5", "comprehensive=1"]) == {"community": 0.5, "comprehensive": 1.0}  # per type
    for options, said in ((["--full-km", "1"], "--full-km: for the joint plan of sites and types — add --p"),
                          (["--p", "103", "--bank", "农业", "--budget-wan", "300", "--full-km", "2"],
                           "full_km 2 is beyond community 社区型's radius, 1.5 km")):
        refused = CliRunner().invoke(app, ["plan", *options, "--out", str(tmp_path / "no")])
        assert refused.exit_code != 0 and said in " ".join(refused.output.split()), refused.output
