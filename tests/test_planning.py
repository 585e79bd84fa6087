"""Planning helpers: pilots, rollout batches, training hubs, visit schedules, before/after comparison."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

import netopt as no
from netopt.models.types import branch_scores
from netopt.planning import compare_plan, rollout_batches, select_pilots, training_hubs, visit_schedule


@pytest.fixture(scope="module")
def sample():
    ds = no.load_sample()
    plan = no.assign_branch_types(ds, mix={"community": (0.40, None)})
    return ds, plan


def test_two_pilots_per_region_type_that_best_represent_it(sample):
    ds, plan = sample
    scores, _ = branch_scores(ds)
    pilots = select_pilots(plan, scores, per_region=2)
    assert pilots.groupby("pilot_region").size().to_dict() == {"core": 2, "county": 2, "fringe": 2}
    assert pilots.groupby("pilot_region")["represents"].sum().to_dict() == \
        plan["region_type"].value_counts().to_dict()


def test_pilots_are_the_exact_medians_of_a_small_group():
    rng = np.random.default_rng(4)
    plan = pd.DataFrame({"branch_id": [f"b{i}" for i in range(7)], "region_type": "core", "score": rng.random(7)})
    pilots = select_pilots(plan, per_region=2)
    x = plan[["score"]].to_numpy()
    z = (x - x.mean()) / x.std()
    best = min(cdist(z, z[list(c)]).min(axis=1).sum() for c in combinations(range(7), 2))
    chosen = plan.index[plan["branch_id"].isin(pilots["branch_id"])]
    assert cdist(z, z[chosen]).min(axis=1).sum() == pytest.approx(best)


def test_rollout_batches_take_the_largest_gains_first(sample):
    _, plan = sample
    batches = rollout_batches(plan, sizes=(20, 16))
    assert (batches["batch"] == 1).sum() == 20 and (batches["batch"] == 2).sum() == 16
    first, second = batches[batches["batch"] == 1], batches[batches["batch"] == 2]
    assert first["gain"].min() >= second["gain"].max()


def test_only_changed_branches_are_batched():
    plan = pd.DataFrame({"branch_id": ["a", "b", "c"], "current_type": ["community", "inclusive", "light"],
                         "type": ["community", "community", "community"], "score": [0.9, 0.5, 0.7]})
    batches = rollout_batches(plan, sizes=(1, 1))
    assert batches["branch_id"].tolist() == ["c", "b"] and batches["batch"].tolist() == [1, 2]


def test_training_hubs_respect_capacity_and_travel_time(sample):
    ds, plan = sample
    hubs = training_hubs(ds, plan, capacity=8, max_minutes=240)
    assert len(hubs) == (plan["type"] == "community").sum()
    assert hubs.groupby("hub_id").size().max() <= 8 and hubs["minutes"].max() <= 240
    assert set(hubs["hub_id"]) <= set(plan.loc[plan["type"] == "comprehensive", "branch_id"])
    assert hubs.attrs["total_days"] == pytest.approx(hubs.attrs["hub_days"] + 0.5 * len(hubs))


def test_impossible_hub_capacity_is_explained(sample):
    ds, plan = sample
    community, hubs = (plan["type"] == "community").sum(), (plan["type"] == "comprehensive").sum()
    with pytest.raises(no.InfeasibleError, match=f"{community} community branches need coaching but {hubs} hubs "
                                                 f"x 1 coach at most {hubs}; a capacity of "
                                                 f"{-(-community // hubs)} or more fits"):
        training_hubs(ds, plan, capacity=1)


def test_a_plan_without_community_branches_has_nobody_to_coach(sample):
    from netopt.planning import coaching_calendar

    ds, plan = sample
    hubs = training_hubs(ds, plan.assign(type="light"))
    assert hubs.empty and hubs.attrs["total_days"] == 0 and "nobody to coach" in hubs.attrs["note"]
    assert list(coaching_calendar(hubs).columns) == ["date", "session", "branch_id", "role"]


@pytest.mark.parametrize("call, message", [
    (lambda ds, plan: training_hubs(ds, plan, capacity=0), r"hub capacity \(community branches one hub coaches\)"),
    (lambda ds, plan: rollout_batches(plan, (20, 0)), "a rollout batch size"),
    (lambda ds, plan: select_pilots(plan, per_region=0), "pilots per region type"),
])
def test_planning_counts_must_be_whole_numbers_of_at_least_one(sample, call, message):
    ds, plan = sample
    with pytest.raises(no.InputError, match=f"{message} must be a whole number of at least 1"):
        call(ds, plan)


def test_visit_schedule_batches_of_ten_thirty_days_apart():
    schedule = visit_schedule([f"t{i}" for i in range(30)], per_batch=10, days_apart=30, start="2027-01-04")
    assert schedule.groupby("batch").size().tolist() == [10, 10, 10]
    dates = schedule.groupby("batch")["date"].first()
    assert (dates.diff().dropna() == pd.Timedelta(days=30)).all()


def test_compare_plan_counts_every_branch(sample):
    ds, plan = sample
    table = compare_plan(ds.branches["type"], plan)
    assert table["before"].sum() == table["after"].sum() == len(plan)
    assert table["after_share"].sum() == pytest.approx(1.0)


def test_compare_networks_before_and_after_an_mclp_plan():
    from netopt.planning import candidate_sites, compare_networks, existing_positions, sites_as_branches

    ds = no.load_sample()
    sites = candidate_sites(ds, bank="招商银行")
    plan = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=40,
                                      existing=existing_positions(sites)).solve()
    table = compare_networks(ds, sites_as_branches(sites, plan.selected), radius_km=3.5)
    assert set(table["region_type"]) == {"core", "county"}
    assert table["branches_after"].sum() == 40 and table["branches_before"].sum() == len(ds.branches)
    gap = table.attrs["core_county_gap_pp"]
    assert set(gap) == {"before", "after"} and all(np.isfinite(v) for v in gap.values())


def test_candidate_sites_give_each_branch_its_county():
    from netopt.coverage import analyze_coverage
    from netopt.planning import candidate_sites

    ds = no.load_sample()  # the branch file has no county column filled: the boundaries decide, as in coverage
    sites = candidate_sites(ds)
    existing = sites[sites["kind"] == "existing"]
    assert existing["county"].notna().all()
    by_county = analyze_coverage(ds).by_county.set_index("county")["branches"]
    assert existing.groupby("county").size().to_dict() == by_county[by_county > 0].to_dict()


def test_map_colours_branches_by_type(sample, tmp_path):
    ds, plan = sample
    fmap = no.maps.network_map(ds, plan=plan)
    fmap.save(str(tmp_path / "types.html"))
    html = (tmp_path / "types.html").read_text(encoding="utf-8")
    assert "社区型 community" in html and "#008837" in html


def test_training_hubs_by_road_network():
    import networkx as nx

    from netopt.distance import road_network_from_graph

    ds = no.load_sample()
    plan = no.assign_branch_types(ds, mix={"community": (0.40, None)})
    graph = nx.MultiDiGraph(crs="epsg:4326")
    points = ds.branches.geometry
    for k, point in enumerate(points):
        graph.add_node(k, x=point.x, y=point.y)
    hub = 0
    for k in range(1, len(points)):  # a star of 20 km roads around one node: every trip is long
        for u, v in ((hub, k), (k, hub)):
            graph.add_edge(u, v, length=20_000.0, highway="primary")
    hubs = training_hubs(ds, plan, capacity=200, max_minutes=None, graph=road_network_from_graph(graph))
    assert hubs["minutes"].min() >= 20.0 / 30.0 * 60.0 - 1e-6  # at least one 20 km leg at 30 km/h


def test_compare_networks_reports_density_by_gdp_tier():
    from netopt.planning import compare_networks

    ds = no.load_sample()
    table = compare_networks(ds, ds.branches.iloc[:100], radius_km=3.5)
    tiers = table.attrs["by_gdp_tier"]
    assert list(tiers["gdp_tier"]) == ["unknown"]  # the sample has no GDP: one tier, stated as unknown
    assert tiers["branches_per_100km2_after"].iloc[0] < tiers["branches_per_100km2_before"].iloc[0]


def test_coaching_calendar_days_and_weekends():
    from netopt.planning import coaching_calendar

    hubs = pd.DataFrame({"branch_id": ["c1", "c2", "c3", "c4", "c5"], "hub_id": ["h1", "h1", "h1", "h2", "h2"]})
    calendar = coaching_calendar(hubs, start="2027-01-08")  # a Friday
    assert (calendar["date"].dt.day_of_week < 5).all()
    per_day = calendar.groupby("date").size()
    assert calendar.loc[calendar["role"].str.startswith("central"), "session"].eq("full day").all()
    days = calendar.drop_duplicates("date").shape[0]
    assert days == 1 + 2 + 1 + 1  # h1, its three branches over two days, h2, its two branches in one day
    assert per_day.max() <= 2
