"""Planning helpers: pilots, rollout batches, training hubs, visit schedules, before/after comparison."""
from __future__ import annotations

from itertools import combinations, permutations
from unittest.mock import patch

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

import netopt as no
from netopt._errors import InputError
from netopt.models.types import branch_scores
from netopt.planning import (closures_near_others, coaching_calendar, compare_plan, relocation_moves, rollout_batches,
                             select_pilots, training_hubs, visit_schedule)
from tests.pages import map_text


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


@pytest.mark.parametrize("seed", range(12))
def test_pilots_of_branches_sharing_their_scores_are_still_the_exact_medians(seed):
    rng = np.random.default_rng(seed)
    n, count = int(rng.integers(3, 10)), int(rng.integers(1, 4))
    levels = rng.random(int(rng.integers(1, 5)))  # few distinct scores: many branches alike
    plan = pd.DataFrame({"branch_id": [f"b{i}" for i in range(n)], "region_type": "county",
                         "score": levels[rng.integers(0, len(levels), n)]})
    pilots = select_pilots(plan, per_region=count)
    x = plan[["score"]].to_numpy()
    z = (x - x.mean()) / (x.std() or 1.0)
    best = min(cdist(z, z[list(c)]).min(axis=1).sum() for c in combinations(range(n), min(count, n)))
    chosen = plan.index[plan["branch_id"].isin(pilots["branch_id"])]
    assert len(chosen) == min(count, n) and pilots.attrs["pilot_gap"] == 0
    assert cdist(z, z[chosen]).min(axis=1).sum() == pytest.approx(best)
    assert pilots["represents"].sum() == n


def test_pilots_of_a_group_too_large_to_prove_keep_the_best_found_and_say_how_far(monkeypatch):
    import netopt.planning as planning

    monkeypatch.setattr(planning, "PILOT_SECONDS", 0.001)  # stands for a group too large to prove in a minute
    rng = np.random.default_rng(0)
    plan = pd.DataFrame({"branch_id": [f"b{i}" for i in range(800)], "region_type": "county"})
    pilots = select_pilots(plan, pd.DataFrame(rng.random((800, 4))), per_region=3)
    assert pilots["branch_id"].nunique() == 3 and pilots["represents"].sum() == 800
    assert 0 <= pilots.attrs["pilot_gap"] < 1


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
    names = ds.branches.set_index("branch_id")["name"]  # named for the meeting, the hub too
    assert hubs["name"].tolist() == names.loc[hubs["branch_id"]].tolist()
    assert hubs["hub_name"].tolist() == names.loc[hubs["hub_id"]].tolist()
    calendar = coaching_calendar(hubs, start="2027-01-04")
    assert calendar["name"].tolist() == names.loc[calendar["branch_id"]].tolist()


def test_impossible_hub_capacity_is_explained(sample):
    ds, plan = sample
    community, hubs = (plan["type"] == "community").sum(), (plan["type"] == "comprehensive").sum()
    with pytest.raises(no.InfeasibleError, match=f"{community} community branches need coaching but {hubs} hubs "
                                                 f"x 1 coach at most {hubs}; a capacity of "
                                                 f"{-(-community // hubs)} or more fits"):
        training_hubs(ds, plan, capacity=1)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 7), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_each_branch_to_a_hub_within_capacity_at_the_least_total_minutes_as_brute_force_finds(n: int, m: int,
                                                                                               seed: int):
    from netopt.models._transport import assign_within_capacity

    rng = np.random.default_rng(seed)
    minutes = rng.integers(1, 60, (n, m)).astype(float)
    minutes[rng.random((n, m)) < 0.25] = np.inf  # beyond the longest trip
    capacity = rng.integers(0, 4, m)
    best = min((sum(minutes[i, j] for i, j in enumerate(plan)) for plan in np.ndindex(*(m,) * n)
                if (np.bincount(plan, minlength=m) <= capacity).all()), default=np.inf)
    with patch("netopt.models._transport.NEAREST_FIRST", 1):  # the rest found by pricing
        hub_of = assign_within_capacity(minutes, capacity)
    if not np.isfinite(best):
        assert hub_of is None
        return
    assert hub_of is not None and (np.bincount(hub_of, minlength=m) <= capacity).all()
    assert minutes[np.arange(n), hub_of].sum() == best


def test_a_plan_without_community_branches_has_nobody_to_coach(sample):
    from netopt.planning import coaching_calendar

    ds, plan = sample
    hubs = training_hubs(ds, plan.assign(type="light"))
    assert hubs.empty and hubs.attrs["total_days"] == 0 and "nobody to coach" in hubs.attrs["note"]
    assert list(coaching_calendar(hubs).columns) == ["date", "session", "branch_id", "name", "role"]


@pytest.mark.parametrize("call, message", [
    (lambda ds, plan: training_hubs(ds, plan, capacity=0), r"hub capacity \(community branches one hub coaches\)"),
    (lambda ds, plan: rollout_batches(plan, (20, 0)), "a rollout batch size"),
    (lambda ds, plan: select_pilots(plan, per_region=0), "pilots per region type"),
    (lambda ds, plan: visit_schedule(["a", "b"], per_batch=0), "visits per batch"),
    (lambda ds, plan: visit_schedule(["a", "b"], days_apart=0), "days between batches"),
])
def test_planning_counts_must_be_whole_numbers_of_at_least_one(sample, call, message):
    ds, plan = sample
    with pytest.raises(no.InputError, match=f"{message} must be a whole number of at least 1"):
        call(ds, plan)


@pytest.mark.parametrize("call, message", [
    (lambda ds, plan: rollout_batches(plan, ()), "give at least one rollout batch size, e.g. sizes=(20, 16)"),
    (lambda ds, plan: training_hubs(ds, plan, max_minutes=-5), "max_minutes (the longest trip to a hub) must be a "
     "number of minutes, above 0; got -5"),
    (lambda ds, plan: training_hubs(ds, plan, speed_kmh=0), "speed_kmh must be a number of km/h, above 0; got 0"),
    (lambda ds, plan: coaching_calendar(training_hubs(ds, plan, capacity=20), start="2026-13-01"),
     "start must be a date such as 2027-03-01, got '2026-13-01'"),
    (lambda ds, plan: visit_schedule(["a"], start="next spring"), "start must be a date such as 2027-03-01"),
    (lambda ds, plan: rollout_batches(plan, 20), "give at least one rollout batch size, e.g. sizes=(20, 16); got 20"),
    (lambda ds, plan: rollout_batches(plan, gain=pd.Series([1.0, 2.0])), "gain needs a number for every branch"),
    (lambda ds, plan: select_pilots(plan.drop(columns="score")), "plan needs the columns branch_id, region_type and "
     "score, as assign_branch_types gives (missing: score)"),  # pandas' KeyError
    (lambda ds, plan: training_hubs(ds, plan[["branch_id"]]), "plan needs the columns branch_id and type"),
])
def test_planning_options_out_of_range_are_refused_by_name(sample, call, message):
    """A negative trip limit, a speed of 0, no batch sizes, a start that is no date, a plan without its columns:
    each an InputError naming it (a negative limit read as no possible trip, a bad date raised pandas' own error)."""
    ds, plan = sample
    with pytest.raises(no.InputError) as refused:
        call(ds, plan)
    assert message in str(refused.value)


def test_a_plan_naming_sites_it_was_not_built_from_or_a_network_that_is_no_branches_table_is_refused(sample):
    """network_after / sites_as_branches / relocation_moves with ids no candidate site has (they were dropped:
    every branch read as closed), compare_networks with a plain table (pandas' AttributeError, KeyError)."""
    from netopt.planning import candidate_sites, compare_networks, network_after, sites_as_branches

    ds, _ = sample
    sites = candidate_sites(ds, "农业")
    for call in (lambda: network_after(ds, sites, ["zzz"], "农业"), lambda: sites_as_branches(sites, ["zzz"]),
                 lambda: relocation_moves(sites, ["zzz", "HF0001"])):
        with pytest.raises(no.InputError, match="the plan names 1 site\\(s\\) that are not among the candidate sites "
                                                "\\(e.g. zzz\\)"):
            call()
    with pytest.raises(no.InputError, match="the branches need a geometry \\(a GeoDataFrame\\) and "
                                            "column branch_id and column name"):
        compare_networks(ds, pd.DataFrame({"x": [1]}))
    with pytest.raises(no.InputError, match="the branches need column branch_id, as read_dataset or "
                                            "planning.network_after \\(a plan's network\\) gives them"):
        compare_networks(ds, ds.branches.drop(columns="branch_id"))


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
    html = map_text(tmp_path / "types.html")
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
    assert hubs["minutes"].min() >= 20.0 / 40.0 * 60.0 - 1e-6  # at least one 20 km primary road at its 40 km/h
    from netopt.distance import cost_matrix_minutes  # the diagnosis's travel minutes by road, legs included

    branches = ds.branches.set_index("branch_id")
    members, hubs_of = (branches.loc[hubs[column]].reset_index() for column in ("branch_id", "hub_id"))
    expected = cost_matrix_minutes(members, hubs_of, "network", road_network_from_graph(graph))
    assert hubs["minutes"].to_numpy() == pytest.approx(np.diag(expected), abs=0.051)  # rounded to 0.1 min


def test_training_hubs_at_the_speed_given():
    """Straight-line trips: km x detour at the speed given, as the diagnosis counts travel minutes; a speed of 0 or
    a detour below 1 refused."""
    from netopt.distance import cost_matrix_km

    ds = no.load_sample()
    plan = no.assign_branch_types(ds, mix={"community": (0.40, None)})
    hubs = training_hubs(ds, plan, capacity=200, speed_kmh=20, detour_factor=1.5)
    branches = ds.branches.set_index("branch_id")
    km = cost_matrix_km(branches.loc[hubs["branch_id"]].reset_index(), branches.loc[hubs["hub_id"]].reset_index())
    assert hubs["minutes"].to_numpy() == pytest.approx(np.diag(km) * 1.5 / 20 * 60, abs=0.051)
    for bad, message in (({"speed_kmh": 0}, "speed_kmh must be a number of km/h, above 0"),
                         ({"detour_factor": 0.5}, "detour_factor .* at least 1")):
        with pytest.raises(no.InputError, match=message):
            training_hubs(ds, plan, **bad)


def test_training_hubs_at_a_speed_per_region_type_and_within_a_longest_trip():
    """A speed per region type: each trip at the speed where its community branch stands (a county's 40 km/h, the
    core's 20); max_minutes no hub meets names the farthest branch and the limit that reaches every one."""
    from netopt.coverage import place_speeds
    from netopt.distance import cost_matrix_km

    ds = no.load_sample()
    plan = no.assign_branch_types(ds, mix={"community": (0.40, None)})
    speeds = {"core": 20.0, "county": 40.0}
    hubs = training_hubs(ds, plan, capacity=200, speed_kmh=speeds)
    branches = ds.branches.set_index("branch_id")
    members = branches.loc[hubs["branch_id"]].reset_index().assign(county=hubs["county"].to_numpy())
    each = place_speeds(ds, members, speeds)
    assert set(np.unique(each)) == {20.0, 40.0}
    km = np.diag(cost_matrix_km(members, branches.loc[hubs["hub_id"]].reset_index()))
    assert hubs["minutes"].to_numpy() == pytest.approx(km * 1.3 / each * 60, abs=0.051)
    assert hubs.attrs["travel"] == "driven at core 20, county 40 km/h, straight line x 1.3"
    farthest = float(hubs["minutes"].max())  # every branch has its own hub within the longest trip of the plan
    assert training_hubs(ds, plan, capacity=200, speed_kmh=speeds, max_minutes=farthest)["minutes"].max() <= farthest
    with pytest.raises(no.InfeasibleError, match=r"community branch\(es\) have no comprehensive branch within 1 "
                                                 r"minutes, the farthest .* min from its nearest hub; a longest trip "
                                                 r"of \d+ minutes or more reaches every one"):
        training_hubs(ds, plan, capacity=200, speed_kmh=speeds, max_minutes=1)


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


def _points(xy) -> gpd.array.GeometryArray:
    """Points near Hefei at (x, y) km east and north of (117.3, 31.8)."""
    return gpd.points_from_xy([117.3 + x / (111.32 * np.cos(np.radians(31.8))) for x, _ in xy],
                              [31.8 + y / 110.57 for _, y in xy])


def _sites(existing_xy, new_xy) -> gpd.GeoDataFrame:
    """Candidate sites at (x, y) km (see _points): existing E0.., new N0.."""
    kinds = ["existing"] * len(existing_xy) + ["new"] * len(new_xy)
    ids = [f"E{i}" for i in range(len(existing_xy))] + [f"new:N{i}" for i in range(len(new_xy))]
    return gpd.GeoDataFrame({"site_id": ids, "name": [i.replace("new:", "镇") for i in ids], "kind": kinds,
                             "county": "某县"}, geometry=_points(list(existing_xy) + list(new_xy)), crs=4326)


def test_relocation_moves_pair_closed_branches_with_new_sites():
    sites = _sites([(0, 0), (10, 0), (20, 0)], [(1, 0), (19, 0), (30, 0)])
    moves = relocation_moves(sites, ["E1", "new:N0", "new:N1"])  # E0 and E2 close, N0 and N1 open
    assert moves["action"].tolist() == ["move", "move"]
    assert dict(zip(moves["from_id"], moves["to_id"])) == {"E0": "new:N0", "E2": "new:N1"}
    assert moves["distance_km"].to_numpy() == pytest.approx([1.0, 1.0], abs=0.01)
    more_closed = relocation_moves(sites, ["new:N2"])
    assert more_closed["action"].tolist() == ["move", "close", "close"]
    assert more_closed.iloc[0][["from_id", "to_id"]].tolist() == ["E2", "new:N2"]
    more_opened = relocation_moves(sites, ["E0", "E1", "new:N0", "new:N1"])
    assert more_opened["action"].tolist() == ["move", "open"] and more_opened.iloc[1]["to_id"] == "new:N0"
    assert relocation_moves(sites, ["E0", "E1", "E2"]).empty
    sites["county"] = ["甲县", "乙县", "乙县", "乙县", "甲县", "乙县"]  # E0 甲, N1 甲: a move of 19 km within 甲县
    within = relocation_moves(sites, ["E1", "new:N0", "new:N1"], same_county=True)
    assert dict(zip(within["from_id"], within["to_id"])) == {"E0": "new:N1", "E2": "new:N0"}
    assert within["distance_km"].to_numpy() == pytest.approx([19.0, 19.0], abs=0.05)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 40), st.floats(0, 40)), min_size=6, max_size=10), st.data())
def test_relocation_moves_have_the_least_total_distance(points, data):
    n_existing = data.draw(st.integers(1, len(points) - 1))
    sites = _sites(points[:n_existing], points[n_existing:])
    same_county = data.draw(st.booleans())
    if same_county:
        sites["county"] = [data.draw(st.sampled_from(["甲县", "乙县"])) for _ in range(len(sites))]
    selected = [s for s in sites["site_id"] if data.draw(st.booleans())]
    moves = relocation_moves(sites, selected, same_county=same_county)
    closed = [s for s in sites["site_id"][:n_existing] if s not in selected]
    opened = [s for s in sites["site_id"][n_existing:] if s in selected]
    assert sorted(moves["from_id"].dropna()) == sorted(closed) and sorted(moves["to_id"].dropna()) == sorted(opened)
    paired = moves[moves["action"] == "move"]
    assert (paired["from_county"] == paired["to_county"]).all() or not same_county
    xy = {s: np.array(p) for s, p in zip(sites["site_id"], points)}
    county = dict(zip(sites["site_id"], sites["county"]))
    count, best = 0, 0.0
    for name in set(county.values()):  # one county (某县) unless same_county: pairs never cross counties
        small, large = sorted([[s for s in closed if county[s] == name], [s for s in opened if county[s] == name]],
                              key=len)
        count += len(small)
        best += min(sum(np.hypot(*(xy[a] - xy[b])) for a, b in zip(small, chosen))
                    for chosen in permutations(large, len(small))) if small else 0.0
    assert len(paired) == count
    assert paired["distance_km"].sum() == pytest.approx(best, rel=0.01, abs=0.05)


def _towns(xy_weights) -> gpd.GeoDataFrame:
    """Towns T0.. at (x, y) km (see _points) with a population each."""
    return gpd.GeoDataFrame({"town_id": [f"T{i}" for i in range(len(xy_weights))],
                             "population": [w for _, _, w in xy_weights]},
                            geometry=_points([(x, y) for x, y, _ in xy_weights]), crs=4326)


def test_closures_fall_on_branches_with_an_open_neighbour():
    sites = _sites([(0, 0), (0.2, 0), (3, 0)], [(10, 0)])  # E0 and E1 side by side; E2 alone, 3 km away
    towns = _towns([(0, 0, 10.0), (10, 0, 10.0)])
    model = no.MCLP.from_geodataframes(towns, sites, radius_km=1.0, p=3, existing=[0, 1, 2], closable=[0, 1, 2])
    plan = closures_near_others(model, sites, ["E0", "E1", "new:N0"])  # closes the lone E2: swapped
    assert "E2" in plan and "new:N0" in plan and len(plan) == 3 and {"E0", "E1"} & set(plan)
    assert model.objective_of(plan) == model.objective_of(["E0", "E1", "new:N0"]) == 20.0
    assert closures_near_others(model, sites, ["E0", "E2", "new:N0"]) == ["E0", "E2", "new:N0"]  # already so
    pinned = no.MCLP.from_geodataframes(towns, sites, radius_km=1.0, p=3, existing=[0, 1, 2], closable=[0, 1, 2],
                                        fixed=[0, 1])
    assert closures_near_others(pinned, sites, ["E0", "E1", "new:N0"]) == ["E0", "E1", "new:N0"]  # fixed stay
    elsewhere = sites.assign(county=["甲县", "甲县", "乙县", "乙县"])  # E2 is the only branch of its county
    assert closures_near_others(model, elsewhere, ["E0", "E1", "new:N0"]) == ["E0", "E1", "new:N0"]
    saving = no.MCLP.from_geodataframes(towns, sites, radius_km=1.0, p=3, existing=[0, 1, 2], closable=[0, 1, 2],
                                        open_cost=np.full(4, 10.0), closing_saving=np.array([0.0, 0.0, 10.0, 0.0]),
                                        budget=0.0)  # only closing E2 pays for the new site: E2 must stay closed
    assert closures_near_others(saving, sites, ["E0", "E1", "new:N0"]) == ["E0", "E1", "new:N0"]
    spaced = no.MCLP.from_geodataframes(towns, sites, radius_km=1.0, p=3, existing=[0, 1, 2], closable=[0, 1, 2],
                                        too_close=np.array([[2, 3]]))  # E2 may not reopen beside the new site
    near = sites.assign(geometry=_points([(0, 0), (0.2, 0), (9.5, 0), (10, 0)]))
    assert closures_near_others(spaced, near, ["E0", "E1", "new:N0"]) == ["E0", "E1", "new:N0"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 20), st.floats(0, 20)), min_size=5, max_size=9),
       st.lists(st.tuples(st.floats(0, 20), st.floats(0, 20), st.integers(1, 9)), min_size=1, max_size=6),
       st.sampled_from(["mclp", "pmedian", "pcenter"]), st.data())
def test_closures_near_others_keep_the_objective_and_the_rules(points, town_points, kind, data):
    n_existing = data.draw(st.integers(2, len(points) - 1))
    sites = _sites(points[:n_existing], points[n_existing:])
    sites["county"] = [data.draw(st.sampled_from(["甲县", "乙县"])) for _ in range(len(sites))]
    towns = _towns(town_points)
    existing = list(range(n_existing))
    rules = {"existing": existing, "closable": existing, "max_new": 2}
    p = data.draw(st.integers(1, n_existing))
    model = {"mclp": lambda: no.MCLP.from_geodataframes(towns, sites, 4.0, p, **rules),
             "pmedian": lambda: no.PMedian.from_geodataframes(towns, sites, p, **rules),
             "pcenter": lambda: no.PCenter.from_geodataframes(towns, sites, p, **rules)}[kind]()
    selected = model.solve().selected
    plan = closures_near_others(model, sites, selected)
    assert model.objective_of(plan) == pytest.approx(model.objective_of(selected))
    counts = [sites[sites["site_id"].isin(chosen)].groupby(["county", "kind"]).size() for chosen in (selected, plan)]
    assert counts[0].equals(counts[1]) and {s for s in plan if s.startswith("new:")} == {
        s for s in selected if s.startswith("new:")}
    gaps = [relocation_moves(sites, chosen)["nearest_open_km"].sum() for chosen in (selected, plan)]
    assert gaps[1] <= gaps[0] + 1e-6


def test_relocation_helpers_name_missing_site_columns():
    sites = _sites([(0, 0)], [(1, 0)]).drop(columns="county")
    with pytest.raises(InputError, match="columns site_id, name, kind, county .* missing: county"):
        relocation_moves(sites, ["new:N0"])
    with pytest.raises(InputError, match="missing: the coordinate system"):
        closures_near_others(None, _sites([(0, 0)], [(1, 0)]).set_crs(None, allow_override=True), [])


def test_network_after_a_plan_is_a_branches_table():
    """network_after: today's branches the plan keeps (every column they had) or another bank's, then each new
    site as a branch; with no bank named every branch is the plan's, and new ones name a bank only where all of
    today's name the same one."""
    from netopt.io import Dataset
    from netopt.planning import candidate_sites, network_after

    ds = no.load_sample()
    sites = candidate_sites(ds)
    today = sites.loc[sites["kind"] == "existing", "site_id"].tolist()
    plan = today[5:] + ["new:340103100000", "new:340121200000"]
    after = network_after(ds, sites, plan)
    assert after["branch_id"].tolist() == plan and (after["plan"].iloc[:-2] == "kept 保留").all()
    assert after["bank"].iloc[-2:].isna().all() and (after["plan"].iloc[-2:] == "new 新设").all()
    assert after["name"].iloc[-2:].tolist() == ["大杨镇", "罗塘乡"] and after.crs == ds.branches.crs
    kept = ds.branches.iloc[5:].reset_index(drop=True)
    assert after.iloc[:-2].drop(columns=["plan", "county"]).equals(kept.drop(columns="county"))
    assert kept["county"].isna().all() and after["county"].notna().all()  # the sample's branches name none
    assert after["county"].iloc[0] == no.coverage.point_counties(ds, kept.iloc[:1])[0]
    merchants = network_after(ds, candidate_sites(ds, "招商"), ["new:340103100000"], bank="招商")
    assert merchants["plan"].value_counts().to_dict() == {"other bank 他行": len(ds.branches) - 20, "new 新设": 1}
    assert merchants["bank"].iloc[-1] == "招商银行"
    coverage = no.analyze_coverage(Dataset(ds.counties, ds.towns, after), radius_km=3.5)
    assert len(coverage.branches) == len(after)


@pytest.mark.parametrize("grid_km", [None, 2.0])
def test_towns_changed_are_every_town_whose_coverage_changes(grid_km):
    """towns_changed: exactly the towns whose residents within reach change (on town points or a grid), their
    changes adding up to the city's, losses first and then gains, each the largest first."""
    from netopt.grid import population_grid
    from netopt.io import Dataset
    from netopt.planning import candidate_sites, sites_as_branches, towns_changed

    ds = no.load_sample()
    sites = candidate_sites(ds, "农业")
    today = sites.loc[sites["kind"] == "existing", "site_id"].tolist()
    plan = [s for s in today if s not in ("HF0001", "HF0014")] + ["new:340103100000", "new:340121200000"]
    cells = None if grid_km is None else population_grid(ds, cell_km=grid_km)
    before, after = (no.analyze_coverage(Dataset(ds.counties, ds.towns, sites_as_branches(sites, chosen)),
                                         radius_km=3.5, demand=cells) for chosen in (today, plan))
    changed = towns_changed(before, after)
    towns = before.by_town().set_index("town_id")["covered_population"].to_frame("before").join(
        after.by_town().set_index("town_id")["covered_population"].rename("after"))
    moved = towns[(towns["after"] - towns["before"]).abs() > 0.5]
    assert set(changed["town_id"]) == set(moved.index) and len(changed) >= 3
    assert changed["change_wan"].sum() * 1e4 == pytest.approx((moved["after"] - moved["before"]).sum())
    losses = (changed["change_wan"] < 0).to_numpy()
    assert losses.any() and (~losses).any() and not (np.diff(losses.astype(int)) > 0).any()  # losses come first
    for part in (changed[losses], changed[~losses]):
        assert part["change_wan"].abs().is_monotonic_decreasing
    assert (changed["covered_wan_after"] - changed["covered_wan_before"]).round(6).equals(
        changed["change_wan"].round(6))


def test_branches_changed_say_who_takes_on_a_closed_branch_s_service_area():
    """branches_changed: a closed branch's service area goes to the branches around it — its residents leave it
    (change: all it held) and come to them, a county's changes adding up to 0 —; a new branch takes part of its
    neighbours'; the largest change first; a branch whose area is unchanged is not listed; without county
    boundaries, nothing (no service areas)."""
    from netopt.planning import branches_changed
    from tests.test_coverage import make_city

    ds = make_city([0.0, 13.0], [60_000, 20_000], [0.0, 4.0, 13.0])
    before = no.analyze_coverage(ds)
    moved = ds.branches.iloc[[1]].assign(branch_id="N1", name="新址")  # B1 closed, a new branch 2 km east of it
    moved = moved.set_geometry(moved.geometry.translate(0.02))
    planned = gpd.GeoDataFrame(pd.concat([ds.branches.iloc[[0, 2]], moved]), crs=ds.branches.crs)
    after = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, planned))
    table = branches_changed(before, after).set_index("branch_id")
    assert table.index[0] == "B1" and set(table.index) == {"B0", "B1", "N1"}
    assert table["area_change_wan"].abs().is_monotonic_decreasing and "B2" not in table.index  # 某县's alone
    assert table.loc["B1", "plan"] == "closed 撤并" and np.isnan(table.loc["B1", "area_residents_wan_after"])
    assert table.loc["B1", "area_change_wan"] == -table.loc["B1", "area_residents_wan_before"]
    assert table.loc["N1", "plan"] == "new 新设" and np.isnan(table.loc["N1", "area_residents_wan_before"])
    assert table.loc["B0", "plan"] == "kept 保留" and table.loc["B0", "area_change_wan"] != 0
    assert table["area_change_wan"].sum() == pytest.approx(0, abs=1e-3)  # 城区's residents, shared out anew
    bare = no.Dataset(ds.counties.assign(geometry=None), ds.towns, ds.branches)
    assert branches_changed(no.analyze_coverage(bare), no.analyze_coverage(bare)).empty


def test_closure_takers_share_out_each_closed_branch_s_residents():
    """closure_takers: each closed branch's service-area residents go to the branches whose areas take part of its
    own, adding up to what it held — a branch standing at the same point takes all of its share —, each with how
    far the taker stands from it; nothing where no branch closes or without county boundaries."""
    from netopt.planning import branches_changed, closure_takers
    from tests.test_coverage import make_city

    ds = make_city([0.0, 13.0], [60_000, 20_000], [0.0, 4.0, 4.0, 13.0])  # B1 and B2 at one point
    before = no.analyze_coverage(ds)
    held = before.branches.set_index("branch_id")["service_area_population"] / 1e4
    for closing, takers, km in (("B2", {"B1"}, 0.0), ("B1", {"B2"}, 0.0), ("B0", {"B1", "B2"}, 4.0)):
        planned = ds.branches[ds.branches["branch_id"] != closing]
        table = closure_takers(ds, before, no.analyze_coverage(no.Dataset(ds.counties, ds.towns, planned)))
        assert set(table["closed_id"]) == {closing} and set(table["taker_id"]) == takers
        assert table["distance_km"].to_numpy() == pytest.approx(km, abs=0.02)  # 4 km east, to B1 and B2
        assert table["residents_wan"].sum() == pytest.approx(held[closing], abs=1e-3)
        assert table["residents_wan"].is_monotonic_decreasing
    assert closure_takers(ds, before, before).empty
    bare = no.Dataset(ds.counties.assign(geometry=None), ds.towns, ds.branches)
    fewer = no.Dataset(bare.counties, ds.towns, ds.branches.iloc[1:])
    assert closure_takers(bare, no.analyze_coverage(bare), no.analyze_coverage(fewer)).empty
    assert not branches_changed(before, before).size


def test_covered_towns_rows_keep_every_town_covered_today_covered():
    """covered_towns_rows: one row per town with residents within the radius of today's sites (a site on the
    town's own point, 0 km, reaches it too); as must_reach, an MCLP relocation then leaves none uncovered."""
    from netopt.distance import cost_matrix_km
    from netopt.planning import candidate_sites, covered_towns_rows, existing_positions

    ds = no.load_sample()
    sites = candidate_sites(ds, "农业")
    rows, towns = covered_towns_rows(ds, sites, 3.5)
    km = cost_matrix_km(ds.towns, sites)
    today = (km[:, existing_positions(sites)] <= 3.5).any(axis=1) & (ds.towns["population"].to_numpy() > 0)
    assert towns.tolist() == np.flatnonzero(today).tolist() and rows.shape == (len(towns), len(sites))
    assert np.array_equal(rows.toarray() > 0, km[towns] <= 3.5)
    existing = existing_positions(sites)
    plan = no.MCLP.from_geodataframes(ds.towns, sites, 3.5, p=len(existing), existing=existing, closable=existing,
                                      max_new=3, must_reach=rows).solve()
    chosen = sites["site_id"].isin(plan.selected).to_numpy()
    assert plan.status == "optimal" and (km[towns][:, chosen] <= 3.5).any(axis=1).all()


def test_covered_towns_rows_take_a_radius_per_region_type():
    """With one radius per region type, each town's rows reach the sites within its own type's radius (a fringe
    town without an entry its county's), as analyze_coverage measures it."""
    from netopt.coverage import demand_radius_km
    from netopt.distance import cost_matrix_km
    from netopt.planning import candidate_sites, covered_towns_rows, existing_positions

    ds = no.load_sample()
    sites = candidate_sites(ds, "农业")
    radius = {"core": 1.2, "county": 3.5}
    rows, towns = covered_towns_rows(ds, sites, radius)
    limits = demand_radius_km(ds, radius)
    assert set(np.round(limits, 6)) == {1.2, 3.5} and np.isfinite(limits).all()
    km = cost_matrix_km(ds.towns, sites)
    within = km <= limits[:, None]
    today = within[:, existing_positions(sites)].any(axis=1) & (ds.towns["population"].to_numpy() > 0)
    assert towns.tolist() == np.flatnonzero(today).tolist()
    assert np.array_equal(rows.toarray() > 0, within[towns])
    single, _ = covered_towns_rows(ds, sites, 3.5)
    assert len(towns) < single.shape[0]  # core towns need a branch nearer than 3.5 km


def test_compare_plans_measures_each_network_as_the_diagnosis_does():
    """compare_plans: today first; each plan's new and closed branches by id, residents covered as
    analyze_coverage measures the same branches; the towns whose coverage differs, largest first."""
    from netopt.planning import PLAN_STATUS, TODAY_SCENARIO, compare_plans

    ds = no.load_sample()
    radius = {"core": 1.2, "county": 3.5}
    ours = ds.branches[ds.branches["bank"].str.contains("农业")]
    fewer = ds.branches.drop(index=ours.index[:3])
    moved = ours.iloc[:1].assign(branch_id="N1", bank=None, plan=PLAN_STATUS["new"])
    moved["geometry"] = ds.towns.geometry.iloc[[50]].to_numpy()
    more = pd.concat([fewer, moved], ignore_index=True)
    scenarios, towns = compare_plans(ds, {"same": ds.branches, "fewer": fewer, "more": more}, bank="农业",
                                     radius_km=radius)
    assert scenarios["scenario"].tolist() == [TODAY_SCENARIO, "same", "fewer", "more"]
    assert scenarios[["branches", "new", "closed"]].values.tolist() == [[101, 0, 0], [101, 0, 0], [98, 0, 3],
                                                                        [99, 1, 3]]
    kept = ours.iloc[3:]
    covered_today = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, ours), radius_km=radius).by_town()[
        "covered_population"]
    for mine, row in zip((ours, ours, kept, pd.concat([kept, moved])), scenarios.itertuples()):
        cov = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, mine), radius_km=radius)
        by_town = cov.by_town()
        assert row.covered_wan == pytest.approx(by_town["covered_population"].sum() / 1e4)
        assert row.coverage_pct_core == pytest.approx(cov.by_region.set_index("region_type").loc["core",
                                                                                           "coverage_rate_pct"])
        assert row.towns_uncovered == ((by_town["population"] > 0) & (by_town["covered_population"] == 0)).sum()
        assert row.towns_losing_all == ((covered_today > 0) & (by_town["covered_population"] == 0)).sum()
    assert scenarios["towns_losing_all"].tolist()[:1] == [0] and scenarios["towns_losing_all"].iloc[2] > 0
    today, same = (towns[f"covered_wan {name}"] for name in (TODAY_SCENARIO, "same"))
    assert (today == same).all() and len(towns) > 0 and towns["spread_wan"].is_monotonic_decreasing
    columns = towns.filter(like="covered_wan ")
    assert ((columns.max(axis=1) - columns.min(axis=1)) == towns["spread_wan"]).all()
    typed = ds.branches.assign(type=np.where(np.arange(len(ds.branches)) % 3, "community", "comprehensive"))
    counted, alike = compare_plans(ds, {"typed": typed}, bank="农业", radius_km=radius)
    assert alike.empty and "spread_wan" in alike  # no town differs: no row
    expected = typed.loc[ours.index, "type"].value_counts()
    assert counted.loc[1, ["type_comprehensive", "type_community", "type_inclusive", "type_light"]].tolist() == [
        expected["comprehensive"], expected["community"], 0, 0] and counted.loc[0, ["type_light"]].isna().all()


def test_suggest_new_sites_match_brute_force_per_county():
    """suggest_new_sites: in every county, the suggested town points bring as many of its residents within reach
    as the best pair found by trying every pair; each adds what closing it alone loses (never 0), and today's
    coverage is the diagnosis's."""
    from itertools import combinations

    from netopt.planning import candidate_sites, suggest_new_sites, town_reach

    ds = no.load_sample().of_bank("招商银行")
    radius = {"core": 1.2, "county": 3.5}
    table = suggest_new_sites(ds, radius, 2)
    sites = candidate_sites(ds)
    reach = town_reach(ds, sites, radius).toarray() > 0
    pop = ds.towns["population"].to_numpy(float)
    today = reach[:, (sites["kind"] == "existing").to_numpy()].any(axis=1)
    diagnosis = no.analyze_coverage(ds, radius_km=radius).by_county.set_index("county")["covered_population"]
    for county, towns in ds.towns.groupby("county"):
        rows = towns.index.to_numpy()
        new = np.flatnonzero((sites["kind"] == "new").to_numpy() & (sites["county"] == county).to_numpy())

        def covered(chosen) -> float:
            return float(pop[rows][today[rows] | reach[rows][:, list(chosen)].any(axis=1)].sum())
        best = max(covered(pair) for pair in combinations(new, 2))
        mine = table[table["county"] == county]
        assert covered([]) == pytest.approx(diagnosis[county])
        if best == covered([]):
            assert mine.empty
            continue
        assert mine["covered_wan_today"].iloc[0] * 1e4 == pytest.approx(covered([]))
        assert mine["covered_wan_after"].iloc[0] * 1e4 == pytest.approx(best)
        chosen = [int(np.flatnonzero(sites["site_id"] == f"new:{town}")[0]) for town in mine["site_id"]]
        assert covered(chosen) == pytest.approx(best) and mine["rank"].tolist() == list(range(1, len(mine) + 1))
        for j, adds, reaches in zip(chosen, mine["adds_covered_wan"], mine["reaches"]):
            assert adds > 0 and adds * 1e4 == pytest.approx(best - covered([k for k in chosen if k != j]))
            others = today[rows] | reach[rows][:, [k for k in chosen if k != j]].any(axis=1)
            alone = reach[rows, j] & ~others & (pop[rows] > 0)  # the towns only this site brings within reach
            assert reaches.split("、") == towns["name"].to_numpy()[alone].tolist()


def test_suggest_new_sites_skips_a_county_without_residents():
    """A county whose towns have no residents gets no suggestion (and no error); the others still do."""
    from netopt.planning import suggest_new_sites

    ds = no.load_sample().of_bank("农业")
    towns = ds.towns.assign(population=ds.towns["population"].where(ds.towns["county"] != "瑶海区", 0))
    table = suggest_new_sites(no.Dataset(ds.counties, towns, ds.branches), 3.5, 1)
    assert "瑶海区" not in set(table["county"]) and table["county"].nunique() == 8


def test_planned_new_reads_the_plan_column_as_an_analyst_edits_it():
    """planned_new: network_after's "new 新设", and 新设 / new / New typed by hand; kept, other bank and blanks are not."""
    import geopandas as gpd

    from netopt.planning import planned_new

    plan = ["new 新设", "新设", " New ", "kept 保留", "other bank 他行", None, "renew"]
    branches = gpd.GeoDataFrame({"plan": plan}, geometry=gpd.points_from_xy([117.2] * 7, [31.8] * 7), crs=4326)
    assert planned_new(branches).tolist() == [True, True, True, False, False, False, False]
    assert not planned_new(branches.drop(columns="plan")).any()


def test_suggest_new_sites_on_the_population_grid():
    """With the diagnosis's grid as demand, each county's covered today is the grid diagnosis's and its one
    suggested site is the best single town point for the county's cells (every one tried)."""
    from netopt.coverage import demand_radius_km
    from netopt.grid import population_grid
    from netopt.models.covering import as_coverage, reach_from_geodataframes
    from netopt.planning import candidate_sites, suggest_new_sites

    ds = no.load_sample().of_bank("招商银行")
    radius = {"core": 1.2, "county": 3.5}
    cells = population_grid(ds, cell_km=2.0)
    table = suggest_new_sites(ds, radius, 1, demand=cells).set_index("county")
    diagnosis = no.analyze_coverage(ds, radius_km=radius, demand=cells).by_county.set_index("county")
    sites = candidate_sites(ds)
    reach = as_coverage(reach_from_geodataframes(cells, sites, demand_radius_km(ds, radius, cells))).toarray() > 0
    pop = cells["population"].to_numpy(float)
    today = reach[:, (sites["kind"] == "existing").to_numpy()].any(axis=1)
    for county in ("长丰县", "瑶海区"):
        rows = (cells["county"] == county).to_numpy()
        new = np.flatnonzero((sites["kind"] == "new").to_numpy() & (sites["county"] == county).to_numpy())
        best = max(pop[rows & (today | reach[:, j])].sum() for j in new)
        assert table.loc[county, "covered_wan_today"] * 1e4 == pytest.approx(
            diagnosis.loc[county, "covered_population"])
        assert table.loc[county, "covered_wan_after"] * 1e4 == pytest.approx(best)
