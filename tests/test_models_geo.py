"""Models built from GeoDataFrames of the sample city agree with the same models built from matrices."""
from __future__ import annotations

import numpy as np
import pytest

import netopt as no
from netopt.distance import cost_matrix_km
from netopt.planning import candidate_sites, existing_positions


@pytest.fixture(scope="module")
def city():
    ds = no.load_sample()
    sites = candidate_sites(ds, bank="招商银行")
    return ds, sites


def test_mclp_from_geodataframes_matches_the_matrix_model(city):
    ds, sites = city
    existing = existing_positions(sites)
    geo = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=30, existing=existing).solve()
    km = cost_matrix_km(ds.towns, sites)
    matrix = no.MCLP.from_coverage(km <= 3.5, 30, weights=ds.towns["population"], existing=existing).solve()
    assert geo.status == matrix.status == "optimal"
    assert geo.objective == pytest.approx(matrix.objective)
    assert set(sites.iloc[existing]["site_id"]) <= set(geo.selected)
    chosen = np.flatnonzero(sites["site_id"].isin(geo.selected))
    nearest_km = np.where(km[:, chosen] <= 3.5, km[:, chosen], np.inf).min(axis=1)
    assert np.allclose(geo.assignment["distance"].fillna(np.inf), nearest_km)


def test_covering_models_take_a_radius_per_demand_point(city):
    """A radius per town (the diagnosis's: core 1.2 km, county 3.5 km) covers each town from the sites within
    its own radius: MCLP and LSCP agree with the models built from that 0/1 matrix, and MCLP's value of today's
    network is the diagnosis's residents covered."""
    from netopt.coverage import demand_radius_km

    ds, sites = city
    radius = {"core": 1.2, "county": 3.5}
    limits = demand_radius_km(ds, radius)
    existing = existing_positions(sites)
    km = cost_matrix_km(ds.towns, sites)
    geo = no.MCLP.from_geodataframes(ds.towns, sites, limits, p=len(existing) + 3, existing=existing)
    matrix = no.MCLP.from_coverage(km <= limits[:, None], len(existing) + 3, weights=ds.towns["population"],
                                   existing=existing)
    assert geo.solve().objective == pytest.approx(matrix.solve().objective)
    today = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, ds.of_bank("招商银行").branches), radius_km=radius)
    assert geo.objective_of(sites["site_id"].iloc[existing]) == pytest.approx(
        today.by_region["covered_population"].sum())
    cover = no.LSCP.from_geodataframes(ds.towns, sites, limits).solve()
    assert cover.objective == pytest.approx(no.LSCP.from_coverage(km <= limits[:, None]).solve().objective)


@pytest.mark.parametrize("mode, speed_kmh", [("drive", 30.0), ("walk", 4.5)])
def test_covering_models_take_a_travel_time(city, mode, speed_kmh):
    """radius_min: straight-line minutes are km x 1.3 at the mode's speed, as the diagnosis counts them — the pairs
    within 15 minutes are those within the km they allow, each stored in minutes; MCLP's value of today's network
    is the diagnosis's residents covered within 15 minutes (also by region type); the assignment gives minutes."""
    ds, sites = city
    existing = existing_positions(sites)
    km = cost_matrix_km(ds.towns, sites)
    minutes = km * 1.3 / speed_kmh * 60.0
    timed = no.MCLP.from_geodataframes(ds.towns, sites, p=len(existing) + 3, radius_min=15, mode=mode,
                                       existing=existing)
    assert (timed.A.toarray() > 0).sum() == (minutes <= 15).sum()
    result = timed.solve()
    matrix = no.MCLP.from_coverage(minutes <= 15, len(existing) + 3, weights=ds.towns["population"],
                                   existing=existing).solve()
    assert result.objective == pytest.approx(matrix.objective)
    chosen = np.flatnonzero(sites["site_id"].isin(result.selected))
    nearest = np.where(minutes[:, chosen] <= 15, minutes[:, chosen], np.inf).min(axis=1)
    assert "distance" not in result.assignment
    assert np.allclose(result.assignment["travel_minutes"].fillna(np.inf), nearest)
    branches = no.Dataset(ds.counties, ds.towns, ds.of_bank("招商银行").branches)
    for limit in (15, {"core": 10, "county": 20}):
        today = no.analyze_coverage(branches, radius_min=limit, mode=mode)
        model = timed if limit == 15 else no.LSCP.from_geodataframes(
            ds.towns, sites, radius_min=no.coverage.demand_limits(ds, limit, unit="min"), mode=mode)
        covered = model.A[:, existing].sum(axis=1).A1 > 0
        assert float(ds.towns["population"].to_numpy()[covered].sum()) == pytest.approx(
            today.by_region["covered_population"].sum())


def test_a_travel_time_limit_is_checked(city):
    ds, sites = city
    for limits, words in ((dict(), "give a service radius in km .radius_km. or a travel time in minutes"),
                          (dict(radius_km=3, radius_min=15), "not both"),
                          (dict(radius_min=0), "radius_min must be a positive number of minutes, got 0"),
                          (dict(radius_min=[15, 20]), "radius_min must be a positive number of minutes, or one per"),
                          (dict(radius_min=15, mode="bike"), "unknown travel mode 'bike'"),
                          (dict(radius_km=3, mode="bike"), "unknown travel mode 'bike'")):
        with pytest.raises(no.InputError, match=words):
            no.MCLP.from_geodataframes(ds.towns, sites, p=3, **limits)


def test_pmedian_from_geodataframes_is_optimal_and_keeps_existing(city):
    ds, sites = city
    existing = existing_positions(sites)
    result = no.PMedian.from_geodataframes(ds.towns, sites, p=25, existing=existing).solve()
    assert result.status == "optimal" and len(result.selected) == 25
    assert set(sites.iloc[existing]["site_id"]) <= set(result.selected)
    km = cost_matrix_km(ds.towns, sites)
    chosen = np.flatnonzero(sites["site_id"].isin(result.selected))
    assert result.objective == pytest.approx(float(ds.towns["population"] @ km[:, chosen].min(axis=1)))


@pytest.mark.parametrize("mode, speed_kmh", [("drive", 30.0), ("walk", 4.5)])
def test_pmedian_and_pcenter_in_travel_minutes(city, mode, speed_kmh):
    """unit="min": straight-line minutes are km x 1.3 at the mode's speed, as the diagnosis measures them — today's
    branches give each town the diagnosis's nearest_branch_min, and the plans are those of the same models on that
    minutes matrix (the assignment's columns travel_minutes, weighted_travel_minutes); a unit or mode misspelt is
    named."""
    ds, sites = city
    existing = existing_positions(sites)
    minutes = cost_matrix_km(ds.towns, sites) * 1.3 / speed_kmh * 60.0
    timed = dict(unit="min", mode=mode, existing=existing)
    median = no.PMedian.from_geodataframes(ds.towns, sites, p=len(existing) + 4, **timed)
    today = median.evaluate(list(sites["site_id"].iloc[existing]))
    diagnosis = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, ds.of_bank("招商银行").branches), radius_min=15,
                                    mode=mode)
    assert np.allclose(today.assignment["travel_minutes"], diagnosis.towns["nearest_branch_min"])
    result = median.solve()
    matrix = no.PMedian.from_cost_matrix(minutes, len(existing) + 4, ds.towns["population"], existing=existing)
    assert result.objective == pytest.approx(matrix.solve().objective, rel=1e-9)
    assert result.assignment["weighted_travel_minutes"].sum() == pytest.approx(result.objective, rel=1e-9)
    center = no.PCenter.from_geodataframes(ds.towns, sites, p=len(existing) + 4, **timed).solve()
    assert center.objective == pytest.approx(
        no.PCenter.from_cost_matrix(minutes, len(existing) + 4, existing=existing).solve().objective, rel=1e-9)
    assert center.assignment["travel_minutes"].max() == pytest.approx(center.objective, rel=1e-9)
    for words, keywords in (("unit must be 'km' .distances. or 'min'", dict(unit="minutes")),
                            ("unknown travel mode 'bike'", dict(unit="min", mode="bike"))):
        with pytest.raises(no.InputError, match=words):
            no.PCenter.from_geodataframes(ds.towns, sites, p=3, **keywords)


def test_pcenter_and_lscp_on_the_sample(city):
    ds, sites = city
    center = no.PCenter.from_geodataframes(ds.towns, sites, p=25).solve()
    assert center.status == "optimal"
    cover = no.LSCP.from_geodataframes(ds.towns, sites, radius_km=center.objective + 1e-9).solve()
    assert cover.status == "optimal" and cover.objective <= 25


def test_site_rules_may_name_columns_of_the_candidates(city):
    ds, sites = city
    flagged = sites.assign(ours=sites["kind"] == "existing", cost=np.where(sites["kind"] == "new", 300.0, 0.0))
    existing = existing_positions(sites)
    counties = sites["county"].astype(str).to_numpy()
    minimum = {c: 1 for c in set(counties)}
    by_name = no.PMedian.from_geodataframes(ds.towns, flagged, 25, existing="ours", county="county",
                                            county_min=minimum, open_cost="cost", budget=1800).solve()
    km = cost_matrix_km(ds.towns, sites)
    by_value = no.PMedian.from_cost_matrix(km, 25, ds.towns["population"], existing=existing, county=counties,
                                           county_min=minimum, open_cost=flagged["cost"].to_numpy(),
                                           budget=1800).solve()
    assert by_name.status == by_value.status == "optimal"
    assert by_name.objective == pytest.approx(by_value.objective)
    chosen = sites[sites["site_id"].isin(by_name.selected)]
    assert set(chosen["county"]) == set(counties) and (chosen["kind"] == "new").sum() <= 6
    weighted = no.PCenter.from_geodataframes(ds.towns, flagged, 25, weight="population", existing="ours").solve()
    farthest = weighted.assignment["weighted_distance"].max()
    assert weighted.status == "optimal" and weighted.objective == pytest.approx(farthest)


def _bad_inputs(ds, sites):
    no_point = ds.towns.copy()
    no_point.loc[no_point.index[3], "geometry"] = None
    no_population = ds.towns.astype({"population": object})
    no_population.loc[no_population.index[2], "population"] = "n/a"
    flagged = sites.assign(today=sites["kind"])
    return [
        (lambda: no.MCLP.from_geodataframes(ds.towns, sites, 3.5, 10, weight="pop"), "demand: no column 'pop'"),
        (lambda: no.PMedian.from_geodataframes(no_population, sites, 5),
         "demand, row 2, column 'population': needs a number"),
        (lambda: no.CFLP.from_geodataframes(ds.towns, sites, capacity="cap"), "candidates: no column 'cap'"),
        (lambda: no.LSCP.from_geodataframes(ds.towns, sites, 3.5, facility_cost="cost"), "no column 'cost'"),
        (lambda: no.MCLP.from_geodataframes(ds.towns, flagged, 3.5, 10, existing="today"),
         "column 'today': must be True/False"),
        (lambda: no.PMedian.from_geodataframes(ds.towns, sites, 5, county="district", county_min={"x": 1}),
         "candidates: no column 'district'"),
        (lambda: no.PCenter.from_geodataframes(ds.towns, sites, 5, weight="priority"), "demand: no column 'priority'"),
        (lambda: no.MCLP.from_geodataframes(ds.towns.set_crs(None, allow_override=True), sites, 3.5, 10),
         "demand: has no coordinate system"),
        (lambda: no.MCLP.from_geodataframes(no_point, sites, 3.5, 10), "demand, row 3, column 'geometry'"),
        (lambda: no.MCLP.from_geodataframes(ds.towns, sites, -1, 10), "radius_km must be a positive"),
        (lambda: no.MCLP.from_geodataframes(ds.towns, sites, [1.0, 2.0], 10), "or one per demand point (125)"),
        (lambda: no.LSCP.from_geodataframes(ds.towns, sites, np.r_[np.nan, np.ones(124)]),
         "demand point 0 has nan"),
        (lambda: no.PCenter.from_geodataframes(ds.towns, sites, 5, distance="network"), "needs graph="),
        (lambda: no.PMedian.from_geodataframes(ds.towns.drop(columns="geometry"), sites, 5), "GeoDataFrame"),
        (lambda: no.MarketShare.from_geodataframes(ds.towns, sites, ds.branches, p=5, attractiveness="size"),
         "candidates: no column 'size'"),
    ]


def test_bad_geodataframe_inputs_are_named(city):
    ds, sites = city
    for build, message in _bad_inputs(ds, sites):
        with pytest.raises(no.InputError) as caught:
            build()
        assert message in str(caught.value)


def test_a_dense_model_beyond_the_pairs_one_machine_holds_is_refused_before_any_work(city, monkeypatch):
    """Every town-site distance (p-median, p-center, market share, capacitated location) beyond DENSE_PAIRS_LIMIT is
    an InputError saying what to do, not a MemoryError minutes later."""
    from netopt import distance

    ds, sites = city
    monkeypatch.setattr(distance, "DENSE_PAIRS_LIMIT", len(ds.towns) * len(sites) - 1)
    with pytest.raises(no.InputError, match=r"is [\d,]+ pairs.*coarser population grid.*DENSE_PAIRS_LIMIT"):
        no.PMedian.from_geodataframes(ds.towns, sites, 5)
    with pytest.raises(no.InputError, match="DENSE_PAIRS_LIMIT"):
        no.PCenter.from_geodataframes(ds.towns, sites, 5)
    monkeypatch.setattr(distance, "DENSE_PAIRS_LIMIT", len(ds.towns) * len(sites))
    assert cost_matrix_km(ds.towns, sites).shape == (len(ds.towns), len(sites))


def test_model_inputs_may_be_a_column_a_number_or_one_value_per_row(city):
    """Capacities, costs and weights of from_geodataframes: a column of the table, a number or one per row build
    the same model; a wrong count is an InputError naming the input, not a raw numpy error."""
    from netopt._errors import InputError

    ds, sites = city
    m, n = len(sites), len(ds.towns)
    given = sites.assign(capacity=12e4)
    built = [no.CFLP.from_geodataframes(ds.towns, frame, capacity=capacity, max_km=30).capacity
             for frame, capacity in ((given, "capacity"), (sites, 12e4), (sites, np.full(m, 12e4)))]
    assert all(np.array_equal(built[0], other) for other in built[1:])
    weights = [no.PMedian.from_geodataframes(frame, sites, p=3, weight=weight).weights
               for frame, weight in ((ds.towns.assign(w=2.0), "w"), (ds.towns, 2.0), (ds.towns, np.full(n, 2.0)))]
    assert all(np.array_equal(weights[0], other) for other in weights[1:])
    for build, said in ((lambda: no.CFLP.from_geodataframes(ds.towns, sites, capacity=np.ones(3)), "capacity must be"),
                        (lambda: no.MCLP.from_geodataframes(ds.towns, sites, 3.5, p=3, weight=[1, 2]), "weights must"),
                        (lambda: no.LSCP.from_geodataframes(ds.towns, sites, 3.5, facility_cost=np.ones(2)), "cost"),
                        (lambda: no.MarketShare.from_geodataframes(ds.towns, sites, ds.branches, p=3,
                                                                   attractiveness=np.ones(m)), "names a column")):
        with pytest.raises(InputError, match=said):
            build()


def test_models_in_minutes_at_speeds_given_per_demand_point(city):
    """speed_kmh one per demand point and detour_factor 1.4: p-median and p-center minutes are straight-line km x
    1.4 at each point's own speed, their optima the brute-force ones on those minutes; the covering model's towns
    within 15 minutes are those within the km each speed allows; a speed or detour that is no number of its kind is
    refused naming it."""
    from tests import brute

    ds, candidates = city
    demand, sites = ds.towns.iloc[::10].reset_index(drop=True), candidates.iloc[::25].reset_index(drop=True)
    assert len(demand) == 13 and len(sites) >= 6
    speed = np.where(np.arange(13) % 2, 20.0, 45.0)
    minutes = cost_matrix_km(demand, sites) * 1.4 / speed[:, None] * 60
    travel = {"unit": "min", "speed_kmh": speed, "detour_factor": 1.4}
    for p in (1, 2, 3):
        median = no.PMedian.from_geodataframes(demand, sites, p, **travel)
        assert median.cost == pytest.approx(minutes, rel=1e-9)
        assert median.solve().objective == pytest.approx(
            brute.pmedian(minutes, demand["population"].to_numpy(), p), rel=1e-9)
        center = no.PCenter.from_geodataframes(demand, sites, p, **travel).solve()
        assert center.objective == pytest.approx(brute.pcenter(minutes, p), rel=1e-9)
    within = no.MCLP.from_geodataframes(demand, sites, p=2, radius_min=15, speed_kmh=speed, detour_factor=1.4)
    by_km = no.MCLP.from_geodataframes(demand, sites, p=2, radius_km=15 / 60 * speed / 1.4)
    assert (within.A != by_km.A).nnz == 0
    for bad, message in (({"speed_kmh": speed[:3]}, r"one per demand point \(13\)"),
                         ({"speed_kmh": -5}, "speed_kmh must be a number of km/h, above 0; got -5"),
                         ({"walk_speed_kmh": 0}, "walk_speed_kmh must be a number of km/h, above 0"),
                         ({"detour_factor": 0.9}, "detour_factor .* at least 1, got 0.9")):
        with pytest.raises(no.InputError, match=message):
            no.PMedian.from_geodataframes(demand, sites, 1, unit="min", **bad)
        with pytest.raises(no.InputError, match=message):
            no.LSCP.from_geodataframes(demand, sites, radius_min=15, **bad)


def test_cflp_in_travel_minutes(city):
    """CFLP unit="min": the cost of each pair is its travel minutes as the diagnosis measures them (straight line x
    the detour at each town's speed), pairs beyond max_km (still km) left out; the plan is the matrix model's on
    those minutes, and at one speed the km model's (minutes are km times one factor)."""
    ds, sites = city
    some_new = (sites["kind"] == "existing") | (np.arange(len(sites)) % 4 == 0)  # four solves: a quarter of the new
    sites = sites[some_new].reset_index(drop=True).assign(capacity=40e4)
    existing = existing_positions(sites)
    speed = no.coverage.demand_speeds(ds, {"core": 15, "county": 45})
    km = cost_matrix_km(ds.towns, sites)
    minutes = np.where(km > 80, np.inf, km * 1.4 / speed[:, None] * 60)
    rules = dict(existing=existing, max_new=2)
    timed = no.CFLP.from_geodataframes(ds.towns, sites, capacity="capacity", max_km=80, unit="min", speed_kmh=speed,
                                       detour_factor=1.4, **rules)
    assert timed.cost == pytest.approx(minutes, rel=1e-12)
    result = timed.solve()
    matrix = no.CFLP.from_cost_matrix(minutes, ds.towns["population"], sites["capacity"], **rules).solve()
    assert result.status == "optimal" and result.objective == pytest.approx(matrix.objective, rel=1e-9)
    by_km = no.CFLP.from_geodataframes(ds.towns, sites, capacity="capacity", max_km=80, **rules).solve()
    one_speed = no.CFLP.from_geodataframes(ds.towns, sites, capacity="capacity", max_km=80, unit="min",
                                           **rules).solve()
    assert one_speed.objective == pytest.approx(by_km.objective * 1.3 / 30 * 60, rel=1e-9)
    assert sorted(one_speed.selected) == sorted(by_km.selected)
