"""Accessibility 可达性 (2SFCA): hand-computed cities, brute force on random ones, equity figures, bad inputs."""
from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netopt as no
from netopt._errors import InputError
from netopt.access import access_with_each_site, accessibility, decay_weights, gini, lorenz_points, weighted_quantile
from netopt.grid import population_grid
from netopt.projection import metric_crs, xy_metres
from tests.test_coverage import make_city


def test_hand_computed_city_step_decay():
    # branches at 0 and 4 km reach 镇0 (0 km) and 镇1 (2 km), and 镇1 alone; the one at 13 km 镇2 and 镇3
    ds = make_city([0.0, 2.0, 12.0, 16.0], [30_000, 10_000, 50_000, 90_000], [0.0, 4.0, 13.0])
    acc = accessibility(ds, radius_km=3.5, decay="step")
    assert acc.branches["catchment_residents_wan"].to_numpy() == pytest.approx([4.0, 1.0, 14.0], abs=1e-9)
    assert acc.units["access_per_wan"].to_numpy() == pytest.approx([0.25, 1.25, 1 / 14, 1 / 14])
    assert acc.units["branches_within"].tolist() == [1, 2, 1, 1]
    assert acc.city["access_per_wan"] == pytest.approx(3 / 18)  # every branch reaches someone: 3 per 18万
    county = acc.by_county.set_index("county")
    assert county.loc["城区", "access_per_wan"] == pytest.approx(2 / 4) and county.loc["城区", "branches"] == 2
    assert county.loc["某县", "access_per_wan"] == pytest.approx(1 / 14)
    assert county.loc["某县", "low_access_wan"] == pytest.approx(14.0)  # 1/14 is below half of 3/18
    assert county.loc["城区", "low_access_wan"] == 0.0 and county.loc["某县", "gini"] == pytest.approx(0.0)
    assert acc.city["gini"] == pytest.approx(gini(np.array([0.25, 1.25, 1 / 14, 1 / 14]), np.array([3, 1, 5, 9.0])))
    assert acc.by_region.set_index("region_type").loc["core", "population_wan"] == pytest.approx(4.0)


def test_hand_computed_city_gaussian_decay_and_a_branch_reaching_nobody():
    ds = make_city([0.0, 2.5], [30_000, 10_000], [0.0, 9.0])
    acc = accessibility(ds, radius_km=3.0)
    w = (np.exp(-0.5 * (2.5 / 3) ** 2) - np.exp(-0.5)) / (1 - np.exp(-0.5))
    catchment = 3.0 + w * 1.0
    assert acc.branches["catchment_residents_wan"].to_numpy() == pytest.approx([catchment, 0.0], rel=1e-3)
    assert acc.units["access_per_wan"].to_numpy() == pytest.approx([1 / catchment, w / catchment], rel=5e-3)
    assert acc.city["supply_reaching_nobody"] == 1.0
    assert any("reach no residents" in note and "网点1" in note for note in acc.notes)
    assert acc.city["no_access_wan"] == 0.0  # 镇1's access, 0.08, is below half the city's 1 branch per 4万:
    assert acc.city["low_access_wan"] == pytest.approx(1.0) and acc.city["access_per_wan"] == pytest.approx(0.25)


def test_hand_computed_city_power_decay_the_gravity_models():
    """decay="power": d^-β within the catchment, a pair nearer than a tenth of it counting as a tenth (the weight 1
    there): 镇0 at the branch weighs 1, 镇1 at half the catchment (5 tenths) 5^-2, or 5^-1 with beta=1."""
    assert decay_weights(np.array([0.0, 0.05, 0.1, 0.5, 1.0]), "power") == pytest.approx([1, 1, 1, 0.04, 0.01])
    ds = make_city([0.0, 2.0], [30_000, 10_000], [0.0])
    for beta, w in ((None, 0.04), (1.0, 0.2)):
        acc = accessibility(ds, radius_km=4.0, decay="power", beta=beta)
        catchment = 3.0 + w * 1.0
        assert acc.branches["catchment_residents_wan"].iloc[0] == pytest.approx(catchment, rel=1e-3)
        assert acc.units["access_per_wan"].to_numpy() == pytest.approx([1 / catchment, w / catchment], rel=1e-3)
        assert f"power decay d^-{beta or 2:g} 幂函数衰减 (gravity 潜能模型" in acc.summary()


def test_hand_computed_city_three_step_shares_a_towns_pull_among_its_branches():
    """3SFCA: 镇0 (3万) reaches 网点0 alone, 镇1 (1万) both branches, so it counts half to each: 网点0's catchment
    3 + 0.5 x 1 = 3.5万, 网点1's 0.5万; 镇0's access 1/3.5, 镇1's 0.5/3.5 + 0.5 x 2 (2SFCA: 1/4 and 1/4 + 1)."""
    ds = make_city([0.0, 2.0], [30_000, 10_000], [0.0, 4.0])
    acc = accessibility(ds, radius_km=3.5, decay="step", method="3sfca")
    assert acc.branches["catchment_residents_wan"].to_numpy() == pytest.approx([3.5, 0.5])
    assert acc.units["access_per_wan"].to_numpy() == pytest.approx([1 / 3.5, 0.5 / 3.5 + 1.0])
    assert "3SFCA 三步移动搜索法" in acc.summary() and "(2SFCA)" not in acc.summary()
    assert accessibility(ds, radius_km=3.5, decay="step").units["access_per_wan"].to_numpy() == pytest.approx(
        [0.25, 1.25])


def test_each_town_weighs_its_pairs_by_its_own_catchment():
    # a core town and a county town 0.5 km either side of one branch: 0.5 of 1.2 km against 0.5 of 3.5 km
    ds = make_city([9.5, 10.5], [10_000, 10_000], [10.0])
    acc = accessibility(ds, radius_km={"core": 1.2, "county": 3.5})
    core, county = decay_weights(np.array([0.5 / 1.2, 0.5 / 3.5]))
    assert acc.units["access_per_wan"].to_numpy() == pytest.approx(np.array([core, county]) / (core + county),
                                                                    rel=1e-3)


def test_low_access_is_below_half_the_citys():
    ds = make_city([0.0, 12.0], [10_000, 10_000], [0.0, 12.0, 12.5])  # 1 and 2 branches per 万: the city's 1.5
    acc = accessibility(ds, radius_km=3.0, decay="step")
    assert acc.units["access_per_wan"].tolist() == pytest.approx([1.0, 2.0]) and acc.city["low_access_wan"] == 0.0
    low = accessibility(make_city([0.0, 12.0], [10_000, 10_000], [0.0, 12.0, 12.5, 13.0, 13.5]), radius_km=3.0,
                        decay="step")
    assert low.city["low_access_wan"] == pytest.approx(1.0)  # 1 against the city's 2.5: below half


@st.composite
def line_city(draw):
    """Towns and branches at whole km along a line (no pair on a catchment's edge), residents, a catchment."""
    towns = draw(st.lists(st.integers(0, 20), min_size=1, max_size=7))
    branches = draw(st.lists(st.integers(0, 20), min_size=1, max_size=5))
    people = draw(st.lists(st.integers(0, 50_000), min_size=len(towns), max_size=len(towns)))
    supply = draw(st.lists(st.integers(0, 5), min_size=len(branches), max_size=len(branches)))
    decay = draw(st.sampled_from(["step", "gaussian", "power", "zones"]))
    return towns, people, branches, supply, draw(st.integers(1, 8)) + 0.5, decay, draw(st.sampled_from(["2sfca",
                                                                                                      "3sfca"]))


def brute_force_access(ds: no.Dataset, supply: list[int], radius_km: float, decay: str,
                       method: str = "2sfca") -> np.ndarray:
    """2SFCA (or 3SFCA: each pair weighed again by the share of its town's pull the branch draws) by loops over
    every pair, as the method's papers write it."""
    crs = metric_crs(ds.towns, ds.branches)
    km = np.hypot(*(xy_metres(ds.towns, crs)[:, None, :] - xy_metres(ds.branches, crs)[None, :, :]).transpose(2, 0, 1))
    km /= 1000.0
    people = ds.towns["population"].to_numpy(float) / 1e4
    weight = np.zeros(km.shape)
    for i, j in np.ndindex(km.shape):
        if km[i, j] <= radius_km:
            weight[i, j] = decay_weights(np.array([km[i, j] / radius_km]), decay)[0]
    if method == "3sfca":
        pulls = [sum(weight[i]) for i in range(km.shape[0])]
        weight = np.array([[weight[i, j] * weight[i, j] / pulls[i] if pulls[i] > 0 else 0.0
                            for j in range(km.shape[1])] for i in range(km.shape[0])])
    ratios = []
    for j in range(km.shape[1]):
        within = sum(weight[i, j] * people[i] for i in range(km.shape[0]))
        ratios.append(supply[j] / within if within > 0 else 0.0)
    return np.array([sum(weight[i, j] * ratios[j] for j in range(km.shape[1])) for i in range(km.shape[0])])


@settings(max_examples=60, deadline=None)
@given(line_city())
def test_access_matches_brute_force_and_holds_the_supply_reaching_anyone(case):
    towns, people, branch_km, supply, radius, decay, method = case
    ds = make_city([float(k) for k in towns], people, [float(k) for k in branch_km])
    ds.branches["员工数"] = supply
    acc = accessibility(ds, radius_km=radius, decay=decay, supply="员工数", method=method)
    assert acc.units["access_per_wan"].to_numpy() == pytest.approx(brute_force_access(ds, supply, radius, decay,
                                                                                      method), rel=1e-9, abs=1e-12)
    reaching = acc.branches.loc[acc.branches["catchment_residents_wan"] > 0, "supply"].sum()
    held = float(np.sum(acc.units["access_per_wan"] * acc.units["population"] / 1e4))
    assert held == pytest.approx(reaching, rel=1e-9, abs=1e-12)
    assert 0.0 <= acc.city["gini"] <= 1.0 or np.isnan(acc.city["gini"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 9)), min_size=1, max_size=12))
def test_gini_equals_the_mean_absolute_difference_over_twice_the_mean(pairs):
    values, weights = np.array(pairs, float).T
    total, mean = weights.sum(), (values * weights).sum() / max(weights.sum(), 1)
    if total == 0 or mean == 0:
        assert np.isnan(gini(values, weights))
        return
    spread = sum(wi * wk * abs(vi - vk) for vi, wi in zip(values, weights) for vk, wk in zip(values, weights))
    assert gini(values, weights) == pytest.approx(spread / (2 * total ** 2 * mean))


def test_gini_lorenz_and_quantiles_known_values():
    assert gini(np.full(5, 0.7), np.full(5, 3.0)) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 4.0]), np.ones(4)) == pytest.approx(0.75)  # one of four has it all
    x, y = lorenz_points(np.array([2.0, 1.0]), np.array([1.0, 3.0]))
    assert x.tolist() == [0.0, 0.75, 1.0] and y == pytest.approx([0.0, 0.6, 1.0])
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 8.0]), 0.1) == 1.0
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 8.0]), 0.5) == 3.0
    assert decay_weights(np.array([0.0, 0.3, 0.5, 0.9, 1.0]), "zones").tolist() == [1.0, 1.0, 0.68, 0.22, 0.22]
    assert decay_weights(np.array([0.0, 1.0]), "gaussian") == pytest.approx([1.0, 0.0])
    from netopt.maps import NO_ACCESS_COLOUR, access_colour
    assert access_colour(0.0) == NO_ACCESS_COLOUR and access_colour(np.nan) == "#999999"
    assert access_colour(0.5) == access_colour(0.1) == "#d73027" and access_colour(2.0) == access_colour(9.0)
    assert access_colour(1.0) == "#fee08b"


def test_a_branch_type_weighs_as_given_and_the_others_count_one():
    ds = make_city([0.0, 12.0], [10_000, 10_000], [0.0, 12.0])
    ds.branches["type"] = ["comprehensive", pd.NA]
    acc = accessibility(ds, radius_km=2.0, decay="step", supply={"综合型": 3, "light": 0.5})  # Chinese too
    assert acc.units["access_per_wan"].tolist() == pytest.approx([3.0, 1.0])
    assert "comprehensive 3" in acc.settings.supply and "1 branches of another type or none" in acc.settings.supply


def test_the_sample_on_a_grid_agrees_with_the_coverage_diagnosis():
    ds = no.load_sample()
    grid = population_grid(ds, cell_km=2.0)
    radius = {"core": 1.2, "county": 3.5}
    acc = accessibility(ds, radius_km=radius, demand=grid)
    cov = no.analyze_coverage(ds, radius_km=radius, demand=grid)
    assert (acc.units["branches_within"] > 0).tolist() == cov.towns["covered"].tolist()
    no_access = cov.towns.loc[~cov.towns["covered"], "population"].sum() / 1e4
    assert acc.city["no_access_wan"] == pytest.approx(no_access)
    assert acc.by_county["population_wan"].sum() == pytest.approx(acc.city["population_wan"])
    assert acc.by_region["branches"].sum() == len(ds.branches)
    towns = acc.by_town()
    assert towns["population_wan"].sum() == pytest.approx(acc.city["population_wan"])
    least = acc.least_access(5)["access_per_wan"].to_numpy()
    assert (np.diff(least) >= 0).all() and least[0] == towns.loc[towns["population_wan"] > 0, "access_per_wan"].min()
    curve = acc.lorenz(4)
    assert curve["residents_pct"].tolist() == [0, 25, 50, 75, 100]
    assert curve["access_pct"].iloc[-1] == pytest.approx(100.0)
    assert (np.diff(curve["access_pct"]) >= 0).all()
    assert "Gini 基尼系数" in repr(acc) and "cells" in acc.summary()


def test_travel_time_catchments_reach_as_the_diagnosis_does():
    ds = no.load_sample()
    options = dict(radius_min={"core": 10, "county": 15}, mode={"core": "walk", "county": "drive"},
                   speed_kmh={"core": 20, "county": 40})
    acc = accessibility(ds, decay="step", **options)
    cov = no.analyze_coverage(ds, **options)
    assert (acc.units["branches_within"] > 0).tolist() == cov.towns["covered"].tolist()
    assert acc.units["branches_within"].tolist() == cov.towns["branches_within_limit"].tolist()
    assert "搜索时间" in acc.summary()


@pytest.mark.parametrize("call, words", [
    (dict(decay="linear"), "decay must be one of gaussian, step, zones, power"),
    (dict(beta=1), "beta is the power decay's exponent: give it with decay='power', not decay='gaussian'"),
    (dict(method="4sfca"), "method must be one of 2sfca, 3sfca, not '4sfca'"),
    (dict(decay="power", beta=-1), "beta must be a number above 0 (the power decay's exponent, e.g. 1 or 2), got -1"),
    (dict(decay="power", beta="2"), "beta must be a number above 0"),
    (dict(supply="员工"), "supply is a column of the branches"),
    (dict(supply={"big": 2}), "'big' not a branch type"),
    (dict(supply={"light": -1}), "numbers of 0 or more: light (-1)"),
    (dict(radius_km=3, radius_min=10), "not both"),
    (dict(max_snap_m=100), "unknown keyword(s) max_snap_m"),
    (dict(distance="network"), "accessibility: distance='network' needs graph="),
])
def test_bad_settings_are_refused_by_name(call, words):
    ds = make_city([0.0], [1], [0.0])
    with pytest.raises(InputError) as caught:
        accessibility(ds, **call)
    assert words in str(caught.value)


def test_a_supply_column_with_a_bad_figure_names_the_branch_and_column():
    ds = make_city([0.0], [1], [0.0, 1.0])
    ds.branches["柜台数"] = [2, "两个"]
    with pytest.raises(InputError) as caught:
        accessibility(ds, supply="柜台数")
    assert "column '柜台数'" in str(caught.value) and "B1 网点1 ('两个')" in str(caught.value)


def test_access_command_writes_the_tables_map_layers_map_and_chart(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app

    (tmp_path / "access_cells.csv").write_text("left by a grid run\n")
    result = CliRunner().invoke(app, ["access", "--bank", "农业", "--decay", "step", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Accessibility 可达性 (2SFCA)" in text and "no decay within the catchment" in text
    assert "Removed access_cells.csv" in text and not (tmp_path / "access_cells.csv").exists()
    for name in ("access.xlsx", "access.gpkg", "access.kmz", "access_map.html", "access_lorenz.png", "access_map.png",
                 "access_towns.csv", "access_branches.csv", "access_by_county.csv", "access_lorenz.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    ours = no.load_sample().of_bank("农业")
    acc = accessibility(ours, radius_km={"core": 1.2, "county": 3.5}, decay="step")
    towns = pd.read_csv(tmp_path / "access_towns.csv")
    assert towns["access_per_wan 可达性(网点/万人)"].to_numpy() == pytest.approx(acc.units["access_per_wan"], abs=1e-3)
    city = pd.read_csv(tmp_path / "access_city.csv")
    assert city["gini 基尼系数"].iloc[0] == pytest.approx(acc.city["gini"], abs=1e-3)
    assert f"Gini 基尼系数 {acc.city['gini']:.3f}" in text
    least = acc.least_access(1).iloc[0]
    assert f"{least['name']} ({least['county']})" in text.split("Least access")[1]
    page = (tmp_path / "access_map.html").read_text()  # tooltips are JSON, Chinese as \\u escapes
    assert all(json.dumps(words)[1:-1] in page for words in ("可达性 access", "搜索范围内人口 residents within its"))


def test_access_command_on_a_grid_by_travel_time_with_supply_by_type(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app

    result = CliRunner().invoke(app, ["access", "--grid-km", "3", "--minutes", "core=10,county=20", "--mode",
                                      "core=walk,county=drive", "--type-supply", "综合型=2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "catchment 搜索时间 core 10 min, county 20 min" in text and "supply by type comprehensive 2" in text
    assert "core walk, county drive" in text
    page = (tmp_path / "access_map.html").read_text()
    assert json.dumps("可达性网格 Cells by access")[1:-1] in page and "data:image/png;base64," in page  # one picture
    cells, towns = pd.read_csv(tmp_path / "access_cells.csv"), pd.read_csv(tmp_path / "access_towns.csv")
    assert cells["population 常住人口(人)"].sum() / 1e4 == pytest.approx(towns["population_wan 常住人口(万人)"].sum(),
                                                                       rel=1e-4)


@pytest.mark.parametrize("options, refusal", [
    (["--decay", "linear"], "--decay is one of gaussian, step, zones, power, not 'linear'"),
    (["--beta", "1"], "--beta is the power decay's exponent: give it with --decay power, not --decay gaussian"),
    (["--method", "4sfca"], "--method is one of 2sfca, 3sfca, not '4sfca'"),
    (["--decay", "power", "--beta", "0"], "Invalid value for '--beta': must be a number above 0, got 0"),
    (["--supply", "员工数", "--type-supply", "light=1"], "give --supply (a column of the branches) or --type-supply"),
    (["--supply", "员工数"], "supply is a column of the branches or a weight per branch type, not '员工数'"),
    (["--type-supply", "big=1"], "--type-supply takes TYPE=NUMBER"),
    (["--minutes", "15", "--radius-km", "3"], "give --minutes (a travel-time limit) or a radius in km"),
    (["--mode", "walk"], "--mode is for --minutes (a travel-time limit)"),
    (["--speed-kmh", "20"], "--speed-kmh is for --minutes"),
])
def test_access_command_refuses_bad_options_in_one_line(tmp_path, options, refusal):
    from typer.testing import CliRunner

    from netopt.cli import app

    result = CliRunner().invoke(app, ["access", *options, "--out", str(tmp_path)])
    assert result.exit_code == 2 and refusal in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output and not list(tmp_path.glob("access*"))


def test_access_tables_and_layers_for_scripts(tmp_path):
    from netopt.report import access_layers, access_tables, write_access_report

    ds = no.load_sample()
    acc = accessibility(ds, radius_km=3.0)
    tables = access_tables(acc)
    assert list(tables) == ["city", "by_region", "by_county", "towns", "branches", "lorenz", "notes"]
    assert {"lon", "lat"} <= set(tables["towns"]) and len(tables["lorenz"]) == 21
    layers = access_layers(acc)
    assert len(layers["counties"]) == len(ds.counties) and layers["counties"]["gini"].notna().all()
    written, left_out = write_access_report(acc, tmp_path)
    assert not left_out and (tmp_path / "access.xlsx") in written
    with pytest.raises(InputError, match="access is a result of netopt.accessibility"):
        write_access_report("not one", tmp_path)


@pytest.mark.parametrize("call, words", [
    (lambda ds, acc: accessibility(ds, decay=pd.NA), "decay must be one of gaussian, step, zones, power, not <NA>"),
    (lambda ds, acc: accessibility("合肥"), "ds is a city's data: a Dataset"),
    (lambda ds, acc: acc.lorenz("ten"), "steps"),
    (lambda ds, acc: acc.least_access(-1), "count"),
    (lambda ds, acc: no.maps.access_map(ds, {}), "access is a result of netopt.accessibility, not dict"),
    (lambda ds, acc: no.maps.static_map(ds, "m.png", access=[acc]), "access is a result of netopt.accessibility"),
])
def test_arguments_of_the_wrong_kind_are_named(call, words):
    ds = make_city([0.0], [1], [0.0])
    with pytest.raises(InputError) as caught:
        call(ds, accessibility(ds))
    assert words in str(caught.value)


@pytest.mark.parametrize("mode", ["drive", "walk"])
def test_road_catchments_reach_the_branches_the_diagnosis_counts(mode):
    import osmnx as ox

    from netopt.distance import load_road_network
    from tests.test_network import OSM, oakland_places

    roads = load_road_network(OSM)
    counties, towns, branches = oakland_places(roads, ox.graph_from_xml(OSM, retain_all=True))
    ds = no.Dataset(counties, towns, branches)
    limit = 2.0 if mode == "drive" else 6.0
    acc = accessibility(ds, radius_min=limit, distance="network", graph=roads, mode=mode, decay="step")
    cov = no.analyze_coverage(ds, radius_min=limit, distance="network", graph=roads, mode=mode)
    within = acc.units["branches_within"].to_numpy()
    assert 0 < (within > 0).sum() < len(towns)  # a town 800 m off the roads too, by straight line x 1.3
    assert within.tolist() == cov.towns["branches_within_limit"].tolist()
    held = float(np.sum(acc.units["access_per_wan"] * acc.units["population"] / 1e4))
    assert held == pytest.approx(acc.branches.loc[acc.branches["catchment_residents_wan"] > 0, "supply"].sum())
    assert "road network" in acc.summary()


def test_plans_compared_say_each_networks_gini_and_low_access(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app
    from netopt.planning import compare_plans

    ds = no.load_sample()
    ours = ds.of_bank("农业").branches
    closed = ours.iloc[5:]  # a plan closing five of the bank's branches
    radius = {"core": 1.2, "county": 3.5}
    scenarios, _ = compare_plans(ds, {"撤并5": closed}, bank="农业", access=True, radius_km=radius)
    for network, row in zip((ours, closed), scenarios.itertuples()):
        acc = accessibility(no.Dataset(ds.counties, ds.towns, network), radius_km=radius)
        assert (row.access_gini, row.low_access_wan) == pytest.approx((acc.city["gini"], acc.city["low_access_wan"]))
    assert "access_gini" not in compare_plans(ds, {"撤并5": closed}, bank="农业", radius_km=radius)[0]
    how = {"method": "3sfca", "decay": "power", "beta": 1.0}  # measured another way, as access measures it
    scenarios, _ = compare_plans(ds, {"撤并5": closed}, bank="农业", access=how, radius_km=radius)
    for network, row in zip((ours, closed), scenarios.itertuples()):
        acc = accessibility(no.Dataset(ds.counties, ds.towns, network), radius_km=radius, **how)
        assert (row.access_gini, row.low_access_wan) == pytest.approx((acc.city["gini"], acc.city["low_access_wan"]))
    for wrong, said in (({"radius_km": 2}, "access options are decay, beta, method, supply"),
                        ({"method": "4sfca"}, "method must be one of"), ("3sfca", "access is True, False or a dict")):
        with pytest.raises(InputError, match=said):
            compare_plans(ds, {"撤并5": closed}, bank="农业", access=wrong, radius_km=radius)
    plan = tmp_path / "plan.csv"
    pd.DataFrame({"branch_id": closed["branch_id"], "name": closed["name"], "bank": closed["bank"],
                  "lon": closed.geometry.x, "lat": closed.geometry.y}).to_csv(plan, index=False)
    result = CliRunner().invoke(app, ["compare", "--tables-only", str(plan), "--name", "撤并5", "--bank", "农业", "--out",
                                      str(tmp_path / "c"), "--access-method", "3sfca", "--access-decay", "power",
                                      "--access-beta", "1"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    gini = " ".join(f"{value:.3f}" for value in scenarios["access_gini"])
    assert f"access Gini 可达性基尼系数 │ {gini.replace(' ', ' │ ')} │" in text, text
    summary = pd.read_excel(tmp_path / "c" / "compare.xlsx", sheet_name=None)
    assert any("power decay d^-1" in str(value) and "3SFCA" in str(value)
               for sheet in summary.values() for value in sheet.to_numpy().ravel())


# 7 s; by default the bank's reports (bank_reports) draw accessibility and the tests above measure by 3SFCA
@pytest.mark.slow
def test_the_city_report_has_accessibility_within_the_diagnosis_limits(tmp_path):
    from docx import Document
    from pptx import Presentation
    from typer.testing import CliRunner

    from netopt.cli import app

    result = CliRunner().invoke(app, ["report", "--bank", "农业", "--out", str(tmp_path), "--access-method", "3sfca",
                                      "--access-decay", "step"])
    assert result.exit_code == 0, result.output
    acc = accessibility(no.load_sample().of_bank("农业"), radius_km={"core": 1.2, "county": 3.5}, method="3sfca",
                        decay="step")
    assert "no decay within the catchment 无衰减, 3SFCA" in (tmp_path / "city_summary.html").read_text("utf-8")
    slides = list(Presentation(str(tmp_path / "city_summary.pptx")).slides)
    spread = next(s for s in slides if s.shapes[0].text_frame.text.startswith("可达性的均衡"))
    said = "\n".join(shape.text_frame.text for shape in spread.shapes if shape.has_text_frame)
    assert f"基尼系数 Gini {acc.city['gini']:.3f}" in said and f"{acc.city['low_access_wan']:,.1f} 万人" in said
    where = next(s for s in slides if s.shapes[0].text_frame.text.startswith("可达性分布"))  # the map of access
    assert any(shape.shape_type == 13 for shape in where.shapes)  # 13: a picture
    beside = "\n".join(shape.text_frame.text for shape in where.shapes if shape.has_text_frame)
    for row in acc.by_region.itertuples():
        assert f"可达性 access {row.access_per_wan:.3f} 网点/万人\n指数 index {row.access_index:.2f}" in beside
    by_county = next(s for s in slides if s.shapes[0].text_frame.text.endswith("分区县 by county"))
    rows = [[cell.text for cell in row.cells] for row in list(next(
        shape.table for shape in by_county.shapes if shape.has_table).rows)[1:]]
    assert [row[0] for row in rows] == acc.by_county["county"].tolist()
    assert [row[3] for row in rows] == [f"{value:.3f}" for value in acc.by_county["access_per_wan"]]
    written_up = "\n".join(p.text for p in Document(str(tmp_path / "city_summary.docx")).paragraphs)
    assert f"基尼系数 Gini {acc.city['gini']:.3f}" in written_up and "可达性分布 Where access is low" in written_up
    sheets = pd.read_excel(tmp_path / "city_summary.xlsx", sheet_name=None)
    assert "access by county 可达性-分区县" in sheets
    assert all((tmp_path / f"city_access_{name}.png").read_bytes()[:4] == b"\x89PNG" for name in ("lorenz", "map"))
    page = (tmp_path / "city_summary.html").read_text()
    assert "可达性 Accessibility (2SFCA)" in page and 'alt="城市 City 可达性 accessibility"' in page
    lujiang = acc.by_county.set_index("county").loc["庐江县"]  # each county's slide, section and page say its own
    line = f"可达性 access {lujiang['access_per_wan']:.3f} 网点/万人 (全市=1 index {lujiang['access_index']:.2f})"
    county_slide = next(s for s in slides if s.shapes[0].text_frame.text == "庐江县 网点覆盖 coverage")
    assert line in "\n".join(shape.text_frame.text for shape in county_slide.shapes if shape.has_text_frame)
    assert line in written_up
    page = pd.read_excel(next(tmp_path.glob("county_*庐江县.xlsx")), sheet_name=None)
    summary = next(sheet for name, sheet in page.items() if name.startswith("summary"))
    assert summary.filter(like="access_per_wan").iloc[0, 0] == pytest.approx(lujiang["access_per_wan"], abs=1e-3)


def test_a_city_without_branches_has_no_access_and_says_so():
    ds = make_city([0.0, 12.0], [10_000, 20_000], [0.0])
    acc = accessibility(no.Dataset(ds.counties, ds.towns, ds.branches.iloc[:0]))
    assert acc.units["access_per_wan"].tolist() == [0.0, 0.0] and acc.city["no_access_wan"] == pytest.approx(3.0)
    assert "0 branches" in acc.summary() and "Gini 基尼系数 —" in acc.summary() and "nan" not in acc.summary()
    assert acc.lorenz(2)["access_pct"].isna().all()


def test_the_static_map_colours_towns_by_access_with_a_legend_of_its_classes(monkeypatch):
    import matplotlib

    from netopt import maps

    matplotlib.use("Agg")
    drawn = {}
    monkeypatch.setattr(maps, "_saved", lambda fig, path: drawn.setdefault("figure", fig))
    ds = make_city([0.0, 2.0, 12.0], [10_000, 10_000, 30_000], [0.0, 13.0, 13.2])
    acc = accessibility(ds, radius_km=3.0, decay="step")  # 0.5, 0.5 and 2/3 branches per 万; the city's 4/7
    maps.static_map(ds, "access.png", access=acc)
    ax = drawn["figure"].axes[0]
    towns = next(c for c in ax.collections if len(c.get_offsets()) == 3)
    expected = [maps.access_colour(index) for index in acc.units["access_index"]]
    assert [matplotlib.colors.to_hex(c) for c in towns.get_facecolors()] == expected
    labels = ax.get_legend_handles_labels()[1]  # a legend entry per class, in Chinese and English or English
    assert all(sum(label.endswith(en) for label in labels) == 1 for _, _, en in maps.ACCESS_CLASSES)


@pytest.mark.parametrize("decay, beta, method", [("gaussian", None, "2sfca"), ("zones", None, "2sfca"),
                                                  ("power", 1.0, "2sfca"), ("gaussian", None, "3sfca")])
def test_each_site_changes_access_as_a_whole_measure_with_it_opened_does(decay, beta, method):
    from netopt.planning import candidate_sites, sites_as_branches

    ds = no.load_sample()
    ours = ds.of_bank("农业")
    radius = {"core": 1.2, "county": 3.5}
    today = accessibility(ours, radius_km=radius, decay=decay, beta=beta, method=method)
    sites = candidate_sites(ds, bank="农业")
    new = sites[sites["kind"] == "new"].head(12)
    change = access_with_each_site(today, new)
    for k in (0, 5, 11):
        opened = pd.concat([ours.branches, sites_as_branches(new, [new["site_id"].iloc[k]])], ignore_index=True)
        after = accessibility(no.Dataset(ds.counties, ds.towns, gpd.GeoDataFrame(opened, crs=4326)),
                              radius_km=radius, decay=decay, beta=beta, method=method)
        assert change["access_gini_change"].iloc[k] == pytest.approx(after.city["gini"] - today.city["gini"])
        assert change["low_access_change_wan"].iloc[k] == pytest.approx(after.city["low_access_wan"]
                                                                        - today.city["low_access_wan"])
        assert change["site_catchment_wan"].iloc[k] == pytest.approx(after.branches["catchment_residents_wan"].iloc[-1])


def test_site_evaluation_says_which_site_makes_access_most_even(tmp_path):
    from typer.testing import CliRunner

    from netopt.cli import app

    result = CliRunner().invoke(app, ["evaluate-sites", "--tables-only",
                                      "--site", "大杨镇", "--site", "候选A=117.2501,31.8402",
                                      "--bank", "农业", "--out", str(tmp_path), "--access-method", "3sfca"])
    assert result.exit_code == 0, result.output
    sites = pd.read_csv(tmp_path / "site_evaluation.csv")
    change = sites["access_gini_change 可达性基尼系数变化"]
    best = sites.loc[change.idxmin(), "name 名称"]
    text = " ".join(result.output.split())
    assert f"Most even access 可达性最均衡: {best} lowers the Gini of access by {-change.min():.3f}" in text
    record = pd.read_excel(tmp_path / "site_evaluation.xlsx", sheet_name=0).set_index("item 项目")["value 数值"]
    assert "Gaussian decay 高斯衰减, 3SFCA" in record["accessibility 可达性"]
    for wrong, said in ((["--access-beta", "1"], "--access-beta is the power decay's exponent: give it with "
                                                  "--access-decay power, not --access-decay gaussian"),
                        (["--access-method", "4sfca"], "--access-method is one of 2sfca, 3sfca, not '4sfca'")):
        result = CliRunner().invoke(app, ["evaluate-sites", "--tables-only",
                                          "--site", "大杨镇", "--out", str(tmp_path / "x"), *wrong])
        assert result.exit_code == 2 and said in " ".join(result.output.split()), result.output


def test_site_evaluation_measures_access_of_the_banks_own_branches():
    from netopt.siting import evaluate_sites

    ds = no.load_sample()
    offered = no.read_candidates(ds.towns.iloc[[3, 40, 90]][["name", "geometry"]].reset_index(drop=True))
    radius = {"core": 1.2, "county": 3.5}
    table = evaluate_sites(ds, offered, bank="农业", radius_km=radius).sort_values("site_id")
    expected = access_with_each_site(accessibility(ds.of_bank("农业"), radius_km=radius),
                                     offered.sort_values("site_id"))
    assert table["access_gini_change"].to_numpy() == pytest.approx(expected["access_gini_change"].to_numpy())
    assert table["low_access_change_wan"].to_numpy() == pytest.approx(expected["low_access_change_wan"].to_numpy())
    how = {"method": "3sfca", "decay": "zones"}  # measured another way
    table = evaluate_sites(ds, offered, bank="农业", radius_km=radius, access=how).sort_values("site_id")
    expected = access_with_each_site(accessibility(ds.of_bank("农业"), radius_km=radius, **how),
                                     offered.sort_values("site_id"))
    assert table["access_gini_change"].to_numpy() == pytest.approx(expected["access_gini_change"].to_numpy())
    assert "three zones" in table.attrs["access"] and "3SFCA" in table.attrs["access"]
    with pytest.raises(InputError, match="evaluate_sites: beta is the power decay's exponent"):
        evaluate_sites(ds, offered, bank="农业", radius_km=radius, access={"beta": 2})


def _staffed_branches(tmp_path):
    """The sample's branches with a 员工数 column: 5 staff at each of 农业's first ten branches, 10 at the others."""
    branches = pd.read_csv(no.datasets.sample_dir() / "branches.csv")
    ours = np.flatnonzero(branches["bank"].str.contains("农业").to_numpy())
    branches["员工数"] = 10
    branches.loc[branches.index[ours[:10]], "员工数"] = 5
    branches.to_csv(tmp_path / "staffed.csv", index=False)
    return tmp_path / "staffed.csv"


def test_what_each_branch_supplies_is_asked_of_every_command_measuring_access(tmp_path):
    """--access-supply (a column) and --access-type-supply (TYPE=N) on compare, evaluate-sites and report, as
    access's --supply and --type-supply: compare's Gini that of accessibility with that supply, a plan's network
    lacking the column named; a site evaluated supplies today's median branch's; both at once refused."""
    from typer.testing import CliRunner

    from netopt.cli import app
    from netopt.siting import evaluate_sites

    ds, staffed = no.load_sample(), _staffed_branches(tmp_path)
    radius = {"core": 1.2, "county": 3.5}
    ours = no.read_branches(staffed)
    ours = ours[ours["bank"].str.contains("农业")]
    closed = ours.iloc[5:]  # five of those with 5 staff closed
    closed.drop(columns="geometry").assign(lon=closed.geometry.x, lat=closed.geometry.y).to_csv(tmp_path / "plan.csv",
                                                                                               index=False)
    run = CliRunner().invoke(app, ["compare", "--tables-only",
                                   str(tmp_path / "plan.csv"), "--name", "撤并5", "--bank", "农业", "--branches",
                                   str(staffed), "--access-supply", "员工数", "--out", str(tmp_path / "c")])
    assert run.exit_code == 0, run.output
    scenarios = pd.read_csv(tmp_path / "c" / "compare_scenarios.csv")
    for network, gini_written in zip((ours, closed), scenarios["access_gini 可达性基尼系数"]):
        acc = accessibility(no.Dataset(ds.counties, ds.towns, network), radius_km=radius, supply="员工数")
        assert gini_written == pytest.approx(acc.city["gini"], abs=1e-3)
    bare = tmp_path / "bare.csv"
    pd.read_csv(tmp_path / "plan.csv").drop(columns="员工数").to_csv(bare, index=False)
    run = CliRunner().invoke(app, ["compare", "--tables-only",
                                   str(bare), "--name", "撤并5", "--bank", "农业", "--branches", str(staffed),
                                   "--access-supply", "员工数", "--out", str(tmp_path / "c2")])
    assert run.exit_code == 2 and "branches of 撤并5: supply is a column of the branches" in " ".join(run.output.split())
    offered = no.read_candidates(ds.towns.iloc[[3, 40]][["name", "geometry"]].reset_index(drop=True))
    staffed_ds = no.Dataset(ds.counties, ds.towns, no.read_branches(staffed))
    table = evaluate_sites(staffed_ds, offered, bank="农业", radius_km=radius, access={"supply": "员工数"})
    today = accessibility(staffed_ds.of_bank("农业"), radius_km=radius, supply="员工数")
    expected = access_with_each_site(today, offered, supply=10.0)  # 91 of 农业's 101 branches have 10 staff
    assert table.sort_values("site_id")["access_gini_change"].to_numpy() == pytest.approx(
        expected.sort_index()["access_gini_change"].to_numpy())
    assert "each site supplies 10, as today's median branch does" in table.attrs["access"]
    run = CliRunner().invoke(app, ["evaluate-sites", "--tables-only",
                                   "--site", "大杨镇", "--bank", "农业", "--out", str(tmp_path / "e"),
                                   "--access-type-supply", "综合型=2"])
    record = pd.read_excel(tmp_path / "e" / "site_evaluation.xlsx", sheet_name=0).set_index("item 项目")["value 数值"]
    assert run.exit_code == 0 and "supply by type comprehensive 2" in record["accessibility 可达性"], run.output
    both = CliRunner().invoke(app, ["report", "--access-supply", "员工数", "--access-type-supply", "comprehensive=2",
                                    "--out", str(tmp_path / "r")])
    assert both.exit_code == 2 and "give --access-supply (a column of the branches) or --access-type-supply (a " \
        "figure per type), not both" in " ".join(both.output.split()) and not (tmp_path / "r").exists()


def test_decay_weights_refuse_a_decay_they_do_not_know():
    with pytest.raises(InputError, match="decay must be one of gaussian, step, zones, power, not 'linear'"):
        decay_weights(np.array([0.5]), "linear")  # had been weighed as Gaussian
