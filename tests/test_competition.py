"""Competition: bank shares, rival-only towns and Huff market shares against hand computations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import netopt as no
from netopt.competition import bank_market_shares, bank_shares, huff_shares, rival_coverage
from netopt.io import bank_mask
from tests.test_coverage import make_city


def two_bank_city() -> no.Dataset:
    ds = make_city([0.0, 12.0], [10_000, 30_000], [1.0, 2.0, 13.0])
    ds.branches["bank"] = ["我行", "他行", "他行"]
    return ds


def test_huff_shares_by_hand():
    ds = two_bank_city()
    table, prob = huff_shares(ds, decay="power", beta=2.0, cutoff_km=5.0)
    # town 0 (0 km): branches at 1 and 2 km -> weights 1 and 1/4 -> 0.8 and 0.2; town 1 (12 km): only 13 km branch
    assert prob.toarray()[0] == pytest.approx([0.8, 0.2, 0.0], abs=1e-3)
    assert prob.toarray()[1] == pytest.approx([0.0, 0.0, 1.0], abs=1e-6)
    assert table["expected_residents"].to_numpy() == pytest.approx([8_000, 2_000, 30_000], rel=1e-3)
    shares = bank_market_shares(table, 40_000).set_index("bank")["share_pct"]
    assert shares["我行"] == pytest.approx(20.0, rel=1e-3) and shares["他行"] == pytest.approx(80.0, rel=1e-3)


def test_attractiveness_and_exponential_decay():
    ds = two_bank_city()
    _, prob = huff_shares(ds, attractiveness=[1.0, 4.0, 1.0], decay="exponential", beta=1.0, cutoff_km=5.0)
    w = np.array([np.exp(-1.0), 4 * np.exp(-2.0)])
    assert prob.toarray()[0, :2] == pytest.approx(w / w.sum(), abs=1e-3)


def test_shares_add_up_to_the_served_population():
    ds = no.load_sample()
    table, prob = huff_shares(ds)
    served = ds.towns["population"].to_numpy()[np.asarray(prob.sum(axis=1)).ravel() > 0].sum()
    assert table["expected_residents"].sum() == pytest.approx(served)


def test_bank_shares_and_rival_only_towns():
    ds = two_bank_city()
    table, gap = bank_shares(ds, "我行", radius_km=3.0)
    row = table.set_index("county")
    assert row.loc["城区", "branches_all"] == 2 and row.loc["城区", "branches_ours"] == 1
    assert row.loc["城区", "our_share_pct"] == pytest.approx(50.0)
    assert gap["name"].tolist() == ["镇1"]  # the 30,000-resident town has only a rival within 3 km


def test_unknown_bank_is_explained():
    with pytest.raises(no.InputError, match="no branch of bank"):
        bank_shares(two_bank_city(), "不存在银行")


@pytest.mark.parametrize("call, message", [
    (lambda ds: bank_shares(ds, "我行", radius_km=0), "bank_shares: radius_km must be a number of km, above 0; got 0"),
    (lambda ds: huff_shares(ds, beta="2"), "huff_shares: beta must be a number, above 0; got '2'"),
    (lambda ds: huff_shares(ds, min_km=-1), "huff_shares: min_km must be a number of km, above 0; got -1"),
    (lambda ds: bank_market_shares(huff_shares(ds)[0], 0), "bank_market_shares: total_population must be a number "
     "of residents, above 0; got 0"),  # shares of inf %
    (lambda ds: bank_market_shares(huff_shares(ds)[1], 4e4), "bank_market_shares: the table needs the columns bank "
     "and expected_residents, as huff_shares gives"),  # the probability matrix given: pandas' error
])
def test_competition_options_out_of_range_are_refused_by_name(call, message):
    """A radius of 0 reached no town, silently; a beta given as text raised numpy's TypeError."""
    with pytest.raises(no.InputError) as refused:
        call(two_bank_city())
    assert message in str(refused.value)


def test_rival_coverage_by_hand():
    ds = two_bank_city()  # towns at 0 and 12 km (10,000 and 30,000 residents); our branch at 1 km, rivals' at 2 and 13
    ours = ds.of_bank("我行")
    assert ours.branches["branch_id"].tolist() == ds.branches["branch_id"].tolist()[:1]
    rivals = rival_coverage(no.analyze_coverage(ours, radius_km=3.0), no.analyze_coverage(ds, radius_km=3.0))
    table = rivals.by_county.set_index("county")  # 镇0 in 城区 (core), 镇1 in 某县 (county)
    assert table["branches_ours"].tolist() == [1, 0] and table["branches_all"].tolist() == [2, 1]
    assert table["our_branch_share_pct"].tolist() == pytest.approx([50.0, 0.0])
    assert table["coverage_ours_pct"].tolist() == pytest.approx([100.0, 0.0])
    assert table["coverage_all_pct"].tolist() == pytest.approx([100.0, 100.0])
    assert rivals.by_region.set_index("region_type")["behind_pp"].to_dict() == pytest.approx({"core": 0.0, "county": 100.0})
    assert rivals.rival_only[["name", "rival_only_population"]].values.tolist() == [["镇1", 30_000]]


def test_rival_coverage_needs_the_same_measure():
    ds = two_bank_city()
    with pytest.raises(no.InputError, match="same demand with the same settings"):
        rival_coverage(no.analyze_coverage(ds.of_bank("我行"), radius_km=3.0), no.analyze_coverage(ds, radius_km=5.0))
    with pytest.raises(no.InputError, match="no branch of bank"):
        ds.of_bank("不存在银行")
    ds.branches["bank"] = None  # a bank's own file often names no bank
    with pytest.raises(no.InputError, match="column 'bank': no branch names its bank"):
        ds.of_bank("我行")


def test_banks_are_read_from_branch_names_that_begin_with_them():
    """A regulator's list or a map's POIs give no bank column but begin each name with its bank: read from there
    (a name that does not leaves its bank unknown); a bank column given is kept as it is."""
    table = pd.DataFrame({"网点名称": ["中国农业银行股份有限公司合肥长江东路支行", "招商银行(合肥分行营业部)", "长丰杨庙营业所",
                                   "安徽肥西农村商业银行股份有限公司上派支行", "合肥建设路支行", "合肥上城国际社区银行"],
                          "经度": [117.30, 117.28, 117.20, 117.10, 117.25, 117.26],
                          "纬度": [31.86, 31.85, 32.20, 31.70, 31.80, 31.81]})
    branches = no.read_branches(table)  # 社区银行: a community outlet of a bank its name does not give
    assert branches["bank"].fillna("").tolist() == ["中国农业银行", "招商银行", "", "安徽肥西农村商业银行", "", ""]
    assert bank_mask(branches, "农行").tolist() == [True, False, False, False, False, False]
    assert bank_mask(branches, "农商行").tolist() == [False, False, False, True, False, False]
    with pytest.raises(no.InputError, match="no branch of bank '建设'.*3 of the 6 branches name no bank"):
        bank_mask(branches, "建设")  # 合肥建设路支行: a street, not the bank
    assert no.read_branches(table.assign(银行="我行"))["bank"].eq("我行").all()


def test_huff_shares_in_straight_line_minutes_are_the_km_shares_with_limits_scaled():
    """At one speed, straight-line minutes are km x detour / speed: power-decay shares are the km ones once the
    cutoff and the floor are scaled alike; a speed per region type moves them."""
    ds = no.load_sample()
    km_table, by_km = huff_shares(ds, cutoff_km=20.0, min_km=1.0)
    per_km = 1.3 / 30.0 * 60.0  # minutes a straight-line km at 30 km/h, x 1.3
    minute_table, by_minutes = huff_shares(ds, unit="min", cutoff_min=20.0 * per_km, min_minutes=per_km)
    assert abs(by_km - by_minutes).max() < 1e-12
    assert minute_table["expected_residents"].to_numpy() == pytest.approx(km_table["expected_residents"].to_numpy())
    regional, _ = huff_shares(ds, unit="min", speed_kmh={"core": 20, "county": 40})
    assert not np.allclose(regional["expected_residents"], minute_table["expected_residents"])
    with pytest.raises(no.InputError, match="unit must be 'km' or 'min'"):
        huff_shares(ds, unit="hours")
    with pytest.raises(no.InputError, match="cutoff"):
        huff_shares(ds, unit="min", cutoff_min=-1)


def test_huff_shares_by_road_are_those_of_the_road_matrices():
    import osmnx as ox

    from netopt.distance import cost_matrix_km, cost_matrix_minutes, load_road_network
    from netopt.models.market import huff_attraction
    from tests.test_network import OSM, oakland_places

    counties, towns, branches = oakland_places(load_road_network(OSM), ox.graph_from_xml(OSM, retain_all=True))
    ds = no.Dataset(counties, towns, branches)
    road = {"distance": "network", "graph": OSM}
    for unit, cost, limits in (("km", cost_matrix_km(towns, branches, **road), {"cutoff_km": 3.0, "min_km": 0.2}),
                               ("min", cost_matrix_minutes(towns, branches, speed_kmh=20.0, **road),
                                {"cutoff_min": 8.0, "min_minutes": 0.5})):
        pull = huff_attraction(cost, np.ones(len(branches)), "power", 2.0, *limits.values())
        total = pull.sum(axis=1, keepdims=True)
        expected = np.divide(pull, total, out=np.zeros_like(pull), where=total > 0)
        _, prob = huff_shares(ds, unit=unit, speed_kmh=20.0, **road, **limits)
        assert prob.toarray() == pytest.approx(expected), unit
        assert 0 < (total > 0).sum() < len(towns)  # the cutoff leaves some towns to nobody
