"""Coverage diagnosis on small hand-made cities with known answers, and its properties."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import box

import netopt as no
from tests.conftest import FUZZING

GEOD = Geod(ellps="WGS84")
LAT0, LON0 = 31.8, 117.3


def east(km: float) -> float:
    """Longitude of a point `km` east of (LON0, LAT0)."""
    lon, _, _ = GEOD.fwd(LON0, LAT0, 90.0, km * 1000.0)
    return lon


def make_city(town_km: list[float], town_pop: list[int], branch_km: list[float],
              town_types: list[str] | None = None) -> no.Dataset:
    counties = gpd.GeoDataFrame(
        {"county_id": ["1", "2"], "name": ["城区", "某县"], "population": [1, 1], "gdp_yi": [600.0, 150.0],
         "area_km2": [100.0, 400.0], "region_type": ["core", "county"]},
        geometry=[box(LON0 - 0.1, LAT0 - 0.1, east(10.0), LAT0 + 0.1), box(east(10.0), LAT0 - 0.1, LON0 + 0.9, LAT0 + 0.1)],
        crs=4326)
    lon = [east(k) for k in town_km]
    towns = gpd.GeoDataFrame(
        {"town_id": [f"T{i}" for i in range(len(lon))], "name": [f"镇{i}" for i in range(len(lon))],
         "county": ["城区" if k < 10 else "某县" for k in town_km], "county_id": ["1" if k < 10 else "2" for k in town_km],
         "population": np.asarray(town_pop, float), "region_type": town_types or [pd.NA] * len(lon),
         "population_method": pd.NA},
        geometry=gpd.points_from_xy(lon, [LAT0] * len(lon)), crs=4326)
    blon = [east(k) for k in branch_km]
    branches = gpd.GeoDataFrame(
        {"branch_id": [f"B{i}" for i in range(len(blon))], "name": [f"网点{i}" for i in range(len(blon))],
         "bank": "x", "type": pd.NA, "county": pd.NA, "address": pd.NA},
        geometry=gpd.points_from_xy(blon, [LAT0] * len(blon)), crs=4326)
    return no.Dataset(counties, towns, branches)


def test_hand_computed_city():
    ds = make_city([0.0, 2.0, 12.0, 16.0], [30_000, 10_000, 50_000, 20_000], [0.0, 13.0])
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    towns = cov.towns.set_index("town_id")
    assert towns["nearest_branch_km"].to_numpy() == pytest.approx([0.0, 2.0, 1.0, 3.0], abs=0.01)
    assert towns["covered"].tolist() == [True, False, True, True]
    county = cov.by_county.set_index("county")
    assert county.loc["城区", "coverage_rate_pct"] == pytest.approx(75.0)
    assert county.loc["某县", "coverage_rate_pct"] == pytest.approx(100.0)
    assert county.loc["城区", "residents_per_branch_wan"] == pytest.approx(4.0)
    assert county.loc["某县", "branches_per_100km2"] == pytest.approx(0.25)
    assert county.loc["城区", "gdp_tier"] == ">500亿" and county.loc["某县", "gdp_tier"] == "<200亿"
    assert county["area_radius_km"].tolist() == pytest.approx([np.sqrt(100 / np.pi), np.sqrt(400 / np.pi)])  # 1 each
    two = no.analyze_coverage(make_city([0.0, 12.0], [1, 1], [0.0, 1.0, 12.0]))  # the area per branch, as a circle
    assert two.by_region["area_radius_km"].tolist() == pytest.approx([np.sqrt(50 / np.pi), np.sqrt(400 / np.pi)])
    assert cov.core_county_gap_pp == pytest.approx(-25.0)
    branches = cov.branches.set_index("branch_id")
    assert branches.loc["B0", "assigned_population"] == 40_000
    assert branches.loc["B1", "farthest_town_km"] == pytest.approx(3.0, abs=0.01)
    assert branches.loc["B1", "service_radius_km"] == pytest.approx(3.0, abs=0.01)  # 80% of 70k needs the 16 km town
    assert cov.gaps["town_id"].tolist() == ["T1"]
    assert cov.underserved_towns.iloc[0]["town_id"] == "T1"
    assert "no branch within 1.2 km" in cov.underserved_towns.iloc[0]["reason"]


def test_estimated_town_residents_are_said_to_be_estimates():
    """The sample's (and the bundled national) towns' residents are estimated from their counties' census figures,
    as their population_method says; the diagnosis's notes said nothing of it. They say it now, of the towns whose
    method says so, and not where another column counts the residents."""
    ds = no.load_sample()
    note = ("The towns' residents 乡镇人口 are estimates (estimated: county census 2020 urban population split by the "
            "town's count of urban-coded (NBS 1xx) communities")
    assert any(said.startswith(note) for said in no.analyze_coverage(ds, radius_km=3.0).notes)
    ds.towns.loc[ds.towns.index[:25], "population_method"] = "2020 census 普查"
    assert any(said.startswith("100 of the 125 towns' residents 乡镇人口 are estimates")
               for said in no.analyze_coverage(ds, radius_km=3.0).notes)
    ds.towns["population_method"] = "2020 census 普查"
    assert not any("estimates" in said for said in no.analyze_coverage(ds, radius_km=3.0).notes)


def test_each_branch_s_service_area_is_its_voronoi_cell_in_its_county():
    """service_area_km2: the part of its county nearer a branch's place than any other place holding a branch
    there (泰森多边形) — two branches at one place share theirs —, and area_radius_km the radius of a circle as
    large; the areas of a county add up to its area; without county boundaries, none."""
    ds = make_city([0.0, 12.0], [1, 1], [0.0, 4.0, 4.0, 13.0])
    branches = no.analyze_coverage(ds).branches.set_index("branch_id")
    areas = branches["service_area_km2"]
    county = ds.counties.to_crs(no.projection.metric_crs(ds.counties)).set_index("name").area / 1e6
    assert areas[["B0", "B1", "B2"]].sum() == pytest.approx(county["城区"], rel=1e-3)
    assert areas["B3"] == pytest.approx(county["某县"], rel=1e-3)  # its county's only branch
    west_km = GEOD.inv(LON0 - 0.1, LAT0, LON0, LAT0)[2] / 1000  # 城区 runs from there to 10 km; the cells part at 2
    assert areas["B1"] == areas["B2"] and areas["B0"] == pytest.approx(2 * areas["B1"] * (west_km + 2) / 8, rel=0.01)
    assert branches["area_radius_km"].tolist() == pytest.approx(np.sqrt(areas / np.pi).tolist())
    bare = no.Dataset(ds.counties.assign(geometry=None), ds.towns, ds.branches)
    assert no.analyze_coverage(bare).branches["service_area_km2"].isna().all()
    assert "service_areas" not in no.report.coverage_layers(no.analyze_coverage(bare))  # no layer of empty areas


def test_each_branch_s_service_area_holds_its_share_of_residents():
    """service_area_population: a town's residents spread evenly over its area (its Voronoi cell in its county) and
    counted in each branch's service area by the part of it there — every branch has a share, branches at one
    place share theirs, a county's add up to its residents; a population grid gives the same; demand units that
    are points count wholly in the area holding them."""
    ds = make_city([0.0, 13.0], [60_000, 20_000], [0.0, 4.0, 4.0, 13.0])
    cov = no.analyze_coverage(ds)
    residents = cov.branches.set_index("branch_id")["service_area_population"]
    west_km = GEOD.inv(LON0 - 0.1, LAT0, LON0, LAT0)[2] / 1000  # the town's cell is all of 城区; B0's runs to 2 km
    assert residents["B0"] == pytest.approx(60_000 * (west_km + 2) / (west_km + 10), abs=100)
    assert residents["B1"] == residents["B2"] == pytest.approx((60_000 - residents["B0"]) / 2, abs=1)
    assert residents["B3"] == 20_000 and cov.branches["assigned_population"].tolist() == [60_000, 0, 0, 20_000]
    grid = no.analyze_coverage(ds, demand=no.grid.population_grid(ds, cell_km=1.0)).branches["service_area_population"]
    assert grid.tolist() == pytest.approx(residents.tolist(), abs=2)
    points = ds.towns.iloc[[0, 0, 1]].assign(population=[1_000.0, 3_000.0, 500.0], geometry=gpd.points_from_xy(
        [east(1.0), east(3.0), east(13.0)], [LAT0] * 3, crs=4326))
    given = no.analyze_coverage(ds, demand=points).branches["service_area_population"]
    assert given.tolist() == [1_000, 1_500, 1_500, 500]
    assert cov.service_areas()["service_area_population"].tolist() == residents.tolist()


def test_residents_per_reachable_branch_and_round_trip_reasons():
    ds = make_city([0.0, 30.0], [100_000, 5_000], [0.0, 0.5])
    cov = no.analyze_coverage(ds, radius_km=3.0, residents_per_branch_limit_wan=3.5, round_trip_limit_h=1.5)
    reasons = cov.towns.set_index("town_id")["reason"]
    assert reasons["T0"] == "每个可达网点5.0万人（上限3.5万） 5.0万 residents per reachable branch (limit 3.5万)"
    assert reasons["T1"].startswith("3 km内无网点 no branch within 3 km; 往返") and "round trip" in reasons["T1"]


def test_fringe_towns_fall_back_to_their_county_radius():
    ds = make_city([0.0, 2.0], [1, 1], [0.0], town_types=["fringe", "core"])
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    assert cov.towns["radius_km"].tolist() == [1.2, 1.2]
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5, "fringe": 2.5})
    assert cov.towns["radius_km"].tolist() == [2.5, 1.2]


def test_a_fringe_district_without_a_fringe_radius_is_measured_by_the_county_radius():
    ds = make_city([0.0, 2.0, 12.0], [1, 1, 1], [0.0], town_types=["fringe", "core", pd.NA])
    ds.counties["region_type"] = ["fringe", "county"]  # a district not mainly urban, as in the units table
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    assert cov.towns["radius_km"].tolist() == [3.5, 1.2, 3.5]
    [note] = [n for n in cov.notes if "no limit of its own" in n]
    assert note.startswith("1 demand points in counties of region type fringe") and "(3.5 km)" in note
    assert cov.notes[0] == "Coverage by service radius core 1.2 km, county 3.5 km (straight line, drive)."
    given = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5, "fringe": 2.0})
    assert given.towns["radius_km"].tolist() == [2.0, 1.2, 3.5] and not any("no limit of its own" in n for n in given.notes)
    unused = no.analyze_coverage(make_city([0.0], [1], [0.0]), radius_km={"core": 1.2, "county": 3.5, "fringe": 2})
    assert unused.notes[0].startswith("Coverage by service radius core 1.2 km (")  # only the radii it used


@pytest.mark.parametrize("radius, message", [
    (0, "radius_km must be a positive number of kilometres, got 0"),
    (-1, "radius_km must be a positive number of kilometres, got -1"),
    (float("nan"), "radius_km must be a positive number of kilometres, got nan"),
    (True, "radius_km must be a positive number of kilometres, got True"),  # was read as 1 km
    ({"core": 1.0, "county": -2.0}, r"radius_km must be a positive number of kilometres for county \(-2.0\)"),
    ({"core": 1.0}, "no entry for region type"),
    ({"core": 1.0, "county": 3.5, "frige": 2.0}, "radius_km has an entry for 'frige', which is not a region type: "
                                                  "the region types are core, county, fringe"),  # was ignored
])
def test_bad_radius_is_an_input_error(radius, message):
    ds = make_city([0.0, 12.0], [1, 1], [0.0])
    with pytest.raises(no.InputError, match=message):
        no.analyze_coverage(ds, radius_km=radius)


@pytest.mark.parametrize("population, shown", [(-1, "-1"), ("many", "'many'")])
def test_population_built_in_code_is_checked(population, shown):
    """A towns table built in code (not read by read_towns) with a negative population was measured as given."""
    ds = make_city([0.0, 12.0], [1, 1], [0.0])
    towns = ds.towns.astype({"population": object})
    towns.loc[towns.index[1], "population"] = population
    with pytest.raises(no.InputError, match=rf"towns, row 1, column 'population': population must be a number of "
                                            rf"residents, 0 or more \(got {shown}\)"):
        no.analyze_coverage(no.Dataset(ds.counties, towns, ds.branches))


@pytest.mark.parametrize("option, message", [
    ({"speed_kmh": -3}, "speed_kmh must be a number of km/h, above 0; got -3"),
    ({"detour_factor": 0}, r"detour_factor \(road km per straight-line km\) must be a number of at least 1, got 0"),
    ({"detour_factor": 0.8}, "detour_factor .* at least 1, got 0.8"),
    ({"walk_speed_kmh": "4"}, "walk_speed_kmh must be a number of km/h, above 0; got '4'"),
    ({"speed_kmh": {"core": 20, "county": 0}}, "speed_kmh must be a number of km/h, above 0; got 0"),
    ({"speed_kmh": {"core": 20}, "radius_min": 15}, "speed_kmh has no entry for region type"),
    ({"speed_kmh": {"core": 20, "countyy": 30}, "radius_min": 15}, "speed_kmh has an entry for 'countyy'"),
    ({"max_snap_m": "500"}, "max_snap_m must be a number of metres, 0 or more; got '500'"),
    ({"residents_per_branch_limit_wan": 0}, "residents_per_branch_limit_wan must be a number of 万人, above 0; got 0"),
    ({"round_trip_limit_h": -1}, "round_trip_limit_h must be a number of hours, above 0; got -1"),
    ({"gdp_cuts_yi": (500, 200)}, r"gdp_cuts_yi is two increasing GDP figures \(亿元\), e.g. \(200, 500\); got"),
    ({"gdp_cuts_yi": 5}, "gdp_cuts_yi is two increasing GDP figures"),
])
def test_bad_options_are_input_errors_naming_them(option, message):
    """A negative speed gave negative travel times, a GDP cut of one number raised Python's TypeError."""
    ds = make_city([0.0, 12.0], [1, 1], [0.0])
    with pytest.raises(no.InputError, match=message):
        no.analyze_coverage(ds, **option)


def test_network_distance_is_not_silently_replaced():
    ds = make_city([0.0], [1], [0.0])
    with pytest.raises(no.InputError, match="needs graph="):
        no.analyze_coverage(ds, distance="network")


city = st.tuples(
    st.lists(st.floats(0, 30), min_size=1, max_size=12),
    st.lists(st.floats(0, 30), min_size=1, max_size=5),
).map(lambda t: (t[0], [1000 + 37 * i for i in range(len(t[0]))], t[1]))


@settings(max_examples=80 if FUZZING else 20, deadline=None)  # each case measures a city twice
@given(city, st.floats(0.1, 10), st.floats(0.1, 10))
@example(c=([0.0, 2.025193416329141e-12], [1000, 1037], [0.0]), r1=1.0, r2=1.0)  # two towns a hair apart: GEOS failed
def test_coverage_never_falls_when_the_radius_grows(c, r1, r2):
    ds = make_city(*c)
    small, large = sorted((r1, r2))
    low = no.analyze_coverage(ds, radius_km=small).by_county["covered_population"].sum()
    high = no.analyze_coverage(ds, radius_km=large).by_county["covered_population"].sum()
    assert high >= low


def test_branches_at_one_point_share_the_towns_nearest_it():
    """Three branches at the town's very point (located by their town, as a branch list of addresses is): each
    serves the town, a third of its residents each; a branch 1 m away is another place and serves none."""
    ds = make_city([0.0, 13.0], [60_000, 20_000], [0.0, 0.0, 0.0, 13.0])
    branches = no.analyze_coverage(ds).branches
    assert branches["assigned_population"].tolist() == [20_000, 20_000, 20_000, 20_000]
    assert branches["assigned_towns"].tolist() == [1, 1, 1, 1]
    assert branches["service_radius_km"].nunique() == 1
    apart = make_city([0.0, 13.0], [60_000, 20_000], [0.0, 0.0, 0.001, 13.0])
    assert no.analyze_coverage(apart).branches["assigned_population"].tolist() == [30_000, 30_000, 0, 20_000]


def test_branches_at_one_place_to_the_metre_share_both_their_residents_and_their_service_area():
    """Two branches 0.6 m apart, at one metre of the diagnosis's grid (coverage.metre_places): one place, so they
    share the town's residents and the service area alike (the two once had rules of their own: 0.1 m in degrees
    for the residents, the metre for the areas)."""
    from pyproj import Transformer

    from netopt.projection import metric_crs

    ds = make_city([0.0, 13.0], [60_000, 20_000], [0.0, 0.0, 13.0])
    crs = metric_crs(ds.counties, ds.towns, ds.branches)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(east(0.0), LAT0)
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform([round(x) - 0.3, round(x) + 0.3],
                                                                          [round(y)] * 2)
    ds.branches.loc[:1, "geometry"] = gpd.points_from_xy(lon, lat)
    assert abs(lon[1] - lon[0]) > 2e-6  # apart to the 1e-6 degree
    branches = no.analyze_coverage(ds, radius_km=3.0).branches
    assert branches["assigned_population"].tolist() == [30_000, 30_000, 20_000]
    assert branches["service_area_km2"].iloc[0] == branches["service_area_km2"].iloc[1] > 0


@settings(max_examples=80 if FUZZING else 20, deadline=None)  # each case measures a city
@given(city)
def test_assigned_population_adds_up(c):
    ds = make_city(*c)
    cov = no.analyze_coverage(ds, radius_km=2.0)
    total = ds.towns["population"].sum()
    assert cov.branches["assigned_population"].sum() == pytest.approx(total)
    assert cov.by_county["population"].sum() == pytest.approx(total)
    assert cov.by_region["population"].sum() == pytest.approx(total)


def test_sample_city_diagnosis_matches_an_independent_computation():
    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km=3.0)
    towns = ds.towns.to_crs(32650)
    branches = ds.branches.to_crs(32650)
    bx, by = branches.geometry.x.to_numpy(), branches.geometry.y.to_numpy()
    nearest = np.array([np.hypot(bx - p.x, by - p.y).min() for p in towns.geometry]) / 1000.0
    covered = towns.loc[nearest <= 3.0, "population"].sum()
    assert cov.by_county["covered_population"].sum() == pytest.approx(covered)
    assert cov.towns["nearest_branch_km"].to_numpy() == pytest.approx(nearest, abs=0.01)
    named = ds.branches.set_index("branch_id").loc[cov.towns["nearest_branch_id"]]  # named as well as numbered
    assert cov.towns["nearest_branch_name"].tolist() == named["name"].tolist()
    at = named.to_crs(32650).geometry  # the nearest (stacked branches tie)
    assert np.hypot(at.x.to_numpy() - towns.geometry.x.to_numpy(), at.y.to_numpy() - towns.geometry.y.to_numpy()) \
        / 1000.0 == pytest.approx(nearest, abs=0.01)
    core_branches = cov.by_region.set_index("region_type").loc["core", "branches"]
    inside_core = ds.branches.within(ds.counties[ds.counties.region_type == "core"].union_all()).sum()
    outside_all = (~ds.branches.within(ds.counties.union_all())).sum()  # these go to their nearest county
    assert inside_core <= core_branches <= inside_core + outside_all


def test_frames_in_metres_are_measured_and_drawn_as_in_lon_lat():
    """A Dataset (or a demand grid, or a model's points) given in another coordinate system, e.g. web mercator
    metres, is measured as the same places in WGS84: the same coverage, the same plan, a map in lon/lat."""
    from netopt.grid import population_grid
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    metres = no.Dataset(*(frame.to_crs(3857) for frame in (ds.counties, ds.towns, ds.branches)))
    assert metres.towns.crs.equals("EPSG:4326") and metres.branches.geometry.x.between(114, 120).all()
    limit = {"core": 1.2, "county": 3.5}
    ours, theirs = no.analyze_coverage(ds, radius_km=limit), no.analyze_coverage(metres, radius_km=limit)
    assert theirs.towns["nearest_branch_km"].to_numpy() == pytest.approx(ours.towns["nearest_branch_km"], abs=1e-6)
    cells = population_grid(ds, cell_km=4)
    on_grid = no.analyze_coverage(ds, radius_km=limit, demand=cells.to_crs(3857))
    assert on_grid.towns.crs.equals("EPSG:4326") and on_grid.summary() == no.analyze_coverage(
        ds, radius_km=limit, demand=cells).summary()
    sites = candidate_sites(ds, "农业")
    plans = [no.MCLP.from_geodataframes(towns, places, radius_km=3.5, p=5).solve().objective
             for towns, places in ((ds.towns, sites), (ds.towns.to_crs(3857), sites), (ds.towns, sites.to_crs(32650)))]
    assert plans[0] == plans[1] == plans[2]


def test_a_diagnosis_shows_itself_in_one_line_and_as_a_notebook_table():
    """repr: the limit, towns, residents, branches, coverage overall and by region, underserved towns; a notebook
    (_repr_html_): that line, the regions' table, the first underserved towns and the notes, escaped."""
    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    towns = cov.towns
    overall = 100 * towns.loc[towns["covered"], "population"].sum() / towns["population"].sum()
    rates = cov.by_region.set_index("region_type")["coverage_rate_pct"]
    assert repr(cov) == (f"Coverage(service radius core 1.2 km, county 3.5 km (straight line, drive): 125 towns, "
                         f"807.6万人, 480 branches; covered {overall:.1f}% — core {rates['core']:.1f}%, county "
                         f"{rates['county']:.1f}%; {len(cov.underserved_towns)} underserved towns)")
    cov.notes.append("a <note> & more")
    page = cov._repr_html_()
    first = cov.underserved_towns.iloc[0]
    assert f"{first['population']:,.0f}" in page and first["name"] in page and "coverage_rate_pct 覆盖率(%)" in page
    assert f"(5 of {len(cov.underserved_towns)}: every one in <code>.underserved_towns</code>)" in page
    assert "<li>a &lt;note&gt; &amp; more</li>" in page and cov.underserved_towns.iloc[5]["name"] not in page


def test_a_county_whose_towns_are_missing_is_named_in_the_notes():
    ds = no.load_sample()
    without = no.Dataset(ds.counties, ds.towns[ds.towns["county"] != "庐江县"].reset_index(drop=True), ds.branches)
    notes = no.analyze_coverage(without, radius_km=3.5).notes
    [note] = [n for n in notes if n.startswith("庐江县")]
    assert "its towns hold 0.0万 residents" in note and "towns missing from the towns file?" in note
    doubled = no.Dataset(ds.counties, pd.concat([ds.towns, ds.towns[ds.towns["county"] == "瑶海区"]]), ds.branches)
    assert any(n.startswith("瑶海区") and "counted twice" in n for n in no.analyze_coverage(doubled).notes)
    assert not any("its towns hold" in n for n in no.analyze_coverage(ds).notes)
    per_county = no.analyze_coverage(without, radius_km=3.5)
    assert any("its towns hold" in n for n in per_county.notes_for("庐江县"))
    assert not any("its towns hold" in n for n in per_county.notes_for("巢湖市"))


def test_many_counties_missing_their_towns_are_named_in_one_note():
    ds = no.load_sample()
    gone = ["庐江县", "巢湖市", "长丰县", "肥东县"]
    without = no.Dataset(ds.counties, ds.towns[~ds.towns["county"].isin(gone)].reset_index(drop=True), ds.branches)
    cov = no.analyze_coverage(without, radius_km=3.5)
    [note] = [n for n in cov.notes if "towns hold" in n]
    assert note.startswith("4 counties' towns hold far fewer residents than the counties table gives them")
    assert all(f"{name} 0.0万 of" in note for name in gone) and "towns missing from the towns file?" in note
    assert any(n.startswith("庐江县: its towns hold 0.0万") for n in cov.notes_for("庐江县"))  # its own page: its own
    three = no.Dataset(ds.counties, ds.towns[~ds.towns["county"].isin(gone[:3])].reset_index(drop=True), ds.branches)
    assert sum(n.endswith("count its towns only.") for n in no.analyze_coverage(three).notes) == 3


def test_density_counts_the_counties_with_an_area_and_says_which_have_none():
    ds = make_city([0.0, 2.0, 12.0, 16.0], [30_000, 10_000, 50_000, 20_000], [0.0, 1.0, 13.0])
    ds.counties["area_km2"] = [np.nan, 400.0]
    cov = no.analyze_coverage(ds)
    region = cov.by_region.set_index("region_type")
    assert np.isnan(region.loc["core", "branches_per_100km2"]) and region.loc["county", "branches_per_100km2"] == 0.25
    [note] = [n for n in cov.notes if "网点密度" in n]  # core's one county has none: its density is unknown
    assert "1 of 2 have none (城区)" in note
    ds.counties["region_type"] = "county"
    cov = no.analyze_coverage(ds)
    assert cov.by_region.set_index("region_type").loc["county", "branches_per_100km2"] == pytest.approx(0.25)
    tiers = no.coverage.density_by_gdp_tier(cov).set_index("gdp_tier")["branches_per_100km2"]
    assert np.isnan(tiers.loc[">500亿"]) and tiers.loc["<200亿"] == pytest.approx(0.25)  # 城区 600亿, 某县 150亿
    ds.counties["area_km2"] = 400.0
    assert not any("网点密度" in n for n in no.analyze_coverage(ds).notes)


def test_branches_far_from_every_town_are_named_when_no_boundary_could_catch_them():
    ds = make_city([0.0, 2.0, 12.0, 16.0], [30_000, 10_000, 50_000, 20_000], [0.0, 13.0, 80.0, 300.0])
    assert not any("from every town" in n for n in no.analyze_coverage(ds).notes)  # the boundaries are checked
    bare = no.Dataset(ds.counties.set_geometry([None, None], crs=4326), ds.towns, ds.branches)
    cov = no.analyze_coverage(bare)
    [note] = [n for n in cov.notes if "from every town" in n]
    assert note.startswith("2 branches lie more than 50 km from every town (e.g. 网点3, 284 km from 镇3)")
    assert any("from every town" in n for n in cov.notes_for("某县"))  # counted in 镇3's county, and said there


def test_a_countys_notes_count_its_own_demand_points_measured_by_the_county_limit():
    ds = no.load_sample()
    ds.counties.loc[ds.counties["name"] == "肥东县", "region_type"] = "fringe"  # no fringe radius given
    ds.towns.loc[ds.towns["county"] == "肥东县", "region_type"] = "fringe"
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    towns = int((ds.towns["county"] == "肥东县").sum())
    said = f"{towns} demand points in counties of region type fringe, which has no limit of its own, are measured"
    assert any(n.startswith(said) for n in cov.notes) and any(n.startswith(said) for n in cov.notes_for("肥东县"))
    assert not any("county limit" in n for n in cov.notes_for("瑶海区"))  # none of its towns is
    assert cov.notes_for("瑶海区")[0].startswith("Coverage by service radius core 1.2 km, county 3.5 km")
    with pytest.raises(no.InputError, match="county '肥东' is not in the diagnosis: did you mean 肥东县"):
        cov.notes_for("肥东")  # gave the city's notes, silently


def test_branches_stacked_on_one_point_are_named_in_the_notes():
    ds = no.load_sample()
    [note] = [n for n in no.analyze_coverage(ds, radius_km=3.5).notes if "the very same coordinates" in n]
    assert note.startswith("55 branches share 13 points") and "11 in 庐江县" in note
    spread = ds.branches.drop_duplicates(subset="geometry")
    assert not any("very same" in n for n in no.analyze_coverage(no.Dataset(ds.counties, ds.towns, spread)).notes)


def test_a_network_without_branches_covers_no_one():
    """No branch at all (e.g. a plan closing every branch): every town uncovered, no nearest branch, no error."""
    ds = no.load_sample()
    cov = no.analyze_coverage(no.Dataset(ds.counties, ds.towns, ds.branches.iloc[:0]), radius_km=3.5)
    assert (cov.by_region["coverage_rate_pct"] == 0).all() and not cov.towns["covered"].any()
    assert cov.towns["nearest_branch_id"].isna().all() and len(cov.underserved_towns) == len(ds.towns)
    assert cov.branches.empty and "assigned_population" in cov.branches


def test_counties_without_region_types_or_areas_are_diagnosed_under_unknown(tmp_path):
    """A counties table with names and residents only: every town is measured by the county radius, the
    diagnosis by region has one row, unknown, holding them all, and no density where no area is known."""
    from typer.testing import CliRunner

    from netopt.cli import app
    from tests.conftest import write

    write(tmp_path / "counties.csv", "区县,常住人口（万人）\n甲区,3.5\n乙县,15\n")  # no bundled unit's: no area taken
    write(tmp_path / "towns.csv", "乡镇名称,所属区县,常住人口,经度,纬度\n明光路街道,甲区,35000,117.3016,31.8585\n"
          "水湖镇,乙县,150000,117.1549,32.4838\n")
    write(tmp_path / "branches.csv", "网点名称,经度,纬度\nA,117.30,31.86\n")
    ds = no.read_dataset(tmp_path / "counties.csv", tmp_path / "towns.csv", tmp_path / "branches.csv")
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    row = cov.by_region.set_index("region_type").loc["unknown"]
    assert len(cov.by_region) == 1 and row["population"] == 185000 and row["covered_population"] == 35000
    assert row["mean_distance_to_branch_km"] == pytest.approx(
        (35000 * cov.towns["nearest_branch_km"].iloc[0] + 150000 * cov.towns["nearest_branch_km"].iloc[1]) / 185000)
    assert np.isnan(row["branches_per_100km2"]) and np.isnan(cov.core_county_gap_pp)
    assert any("2 demand points in counties without a region type" in note for note in cov.notes)
    result = CliRunner().invoke(app, ["analyze", "--tables-only",
                                      "--data", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "gap 城乡覆盖差: none to measure" in said and "│ unknown │ 2 │ 18.5 │ 1 │ 18.50 │ — │" in said


def test_a_travel_mode_per_region_type():
    """mode={"core": "walk", "county": "drive"}: core towns measured walking, county towns driving — each as the
    diagnosis of that one mode measures it — and said so; demand_modes gives each town's; a mode missing a region
    type, of no region type or neither drive nor walk is refused naming it."""
    ds = no.load_sample()
    limits, modes = {"core": 15, "county": 30}, {"core": "walk", "county": "drive"}
    mixed = no.analyze_coverage(ds, radius_min=limits, mode=modes)
    walk, drive = (no.analyze_coverage(ds, radius_min=limits, mode=mode).towns for mode in ("walk", "drive"))
    core = (mixed.towns["county_region_type"] == "core").to_numpy()
    assert mixed.towns["nearest_branch_min"].to_numpy() == pytest.approx(
        np.where(core, walk["nearest_branch_min"], drive["nearest_branch_min"]))
    assert (mixed.towns["covered"].to_numpy() == np.where(core, walk["covered"], drive["covered"])).all()
    assert "core walk, county drive" in mixed.summary()
    assert "at 4.5 km/h (walk) in core, 30 km/h (drive) in county" in " ".join(mixed.notes)
    assert list(no.coverage.demand_modes(ds, modes)) == ["walk" if c else "drive" for c in core]
    assert no.coverage.demand_modes(ds, "walk") == "walk"
    for bad, words in (({"core": "walk"}, "mode has no entry for region type.s. county"),
                       ({"core": "walk", "rural": "drive"}, "mode has an entry for 'rural', which is not a region"),
                       ({"core": "bike", "county": "drive"}, "unknown travel mode 'bike'")):
        with pytest.raises(no.InputError, match=words):
            no.analyze_coverage(ds, radius_min=15, mode=bad)


def test_coverage_by_minutes_reads_the_diagnosis_at_its_travel_time_and_never_falls():
    """coverage_by_minutes: the 15-minute diagnosis's own coverage at 15, per region type and overall; by straight
    line each row is coverage_by_radius at the km those minutes allow (x 1.3 at 30 km/h); a wider limit never covers
    fewer; limits that are not positive numbers are refused."""
    from netopt.coverage import coverage_by_minutes, coverage_by_radius

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_min={"core": 10, "county": 15})
    table = coverage_by_minutes(cov).set_index("travel_minutes")
    rate = cov.by_region.set_index("region_type")["coverage_rate_pct"]
    assert {5.0, 10.0, 15.0, 60.0} <= set(table.index)
    assert table.loc[10.0, "coverage_pct_core"] == pytest.approx(rate["core"])
    assert table.loc[15.0, "coverage_pct_county"] == pytest.approx(rate["county"])
    assert (table.diff().dropna() >= 0).all().all()
    minutes = [7.0, 15.0, 40.0]
    by_km = coverage_by_radius(cov, [m / 60 * 30 / 1.3 for m in minutes]).drop(columns="radius_km")
    pd.testing.assert_frame_equal(coverage_by_minutes(cov, minutes).drop(columns="travel_minutes"), by_km)
    with pytest.raises(no.InputError, match="minutes are positive numbers of minutes, e.g. .5, 10, 15.; got '15'"):
        coverage_by_minutes(cov, "15")


def test_coverage_by_radius_reads_the_diagnosis_at_its_radii_and_never_falls():
    from netopt.coverage import coverage_by_radius

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    table = coverage_by_radius(cov, radii_km=[3.5, 1.2, 0.5, 10]).set_index("radius_km")
    rate = cov.by_region.set_index("region_type")["coverage_rate_pct"]
    assert table.index.tolist() == [0.5, 1.2, 3.5, 10.0]
    assert table.loc[1.2, "coverage_pct_core"] == pytest.approx(rate["core"])
    assert table.loc[3.5, "coverage_pct_county"] == pytest.approx(rate["county"])
    within = cov.towns["nearest_branch_km"] <= 10
    assert table.loc[10.0, "covered_wan"] == pytest.approx(cov.towns.loc[within, "population"].sum() / 1e4)
    assert (table.diff().dropna() >= 0).all().all()  # a wider radius never covers fewer


def test_a_driving_speed_per_region_type_by_straight_line():
    """speed_kmh per region type with detour_factor 1.4: a town's minutes are its straight-line km x 1.4 at its own
    region type's speed, so coverage within 15 minutes is coverage within the km those speeds allow; said in the
    summary and notes; walking keeps its own speed (walk_speed_kmh)."""
    ds = no.load_sample()
    speeds = {"core": 20.0, "county": 40.0}
    timed = no.analyze_coverage(ds, radius_min=15, speed_kmh=speeds, detour_factor=1.4)
    radii = {kind: 15 / 60 * speed / 1.4 for kind, speed in speeds.items()}
    by_km = no.analyze_coverage(ds, radius_km=radii)
    assert (timed.towns["covered"] == by_km.towns["covered"]).all()
    speed = np.where(timed.towns["county_region_type"] == "core", 20.0, 40.0)
    assert timed.towns["nearest_branch_min"].to_numpy() == pytest.approx(
        by_km.towns["nearest_branch_km"].to_numpy() * 1.4 / speed * 60, rel=1e-9)
    assert "core drive at 20 km/h, county drive at 40 km/h" in timed.summary()
    assert "Travel times are straight-line km x 1.4 at 20 km/h (drive) in core, 40 km/h (drive) in county." in \
        timed.notes
    walking = no.analyze_coverage(ds, radius_min=15, mode={"core": "walk", "county": "drive"}, speed_kmh=speeds,
                                  walk_speed_kmh=4.0)
    assert "core walk at 4 km/h, county drive at 40 km/h" in walking.summary()
    core = (walking.towns["county_region_type"] == "core").to_numpy()
    assert walking.towns["nearest_branch_min"].to_numpy()[core] == pytest.approx(
        by_km.towns["nearest_branch_km"].to_numpy()[core] * 1.3 / 4.0 * 60, rel=1e-9)
    assert "at" not in no.analyze_coverage(ds, radius_min=15).settings.mode_words()  # the defaults go unsaid


@pytest.mark.parametrize("option", [{"walk_speed_kmh": None}, {"speed_kmh": None}, {"speed_kmh": True},
                                    {"speed_kmh": {"core": None, "county": 30}}])
def test_a_speed_that_is_none_or_no_number_is_named(option):
    """walk_speed_kmh=None reached the travel times as Python's TypeError."""
    ds, name = no.load_sample(), next(iter(option))
    with pytest.raises(no.InputError, match=f"{name} must be a number of km/h, above 0; got (None|True)"):
        no.analyze_coverage(ds, radius_min=15, **option)
    model_option = {name: None} if isinstance(option[name], dict) else option  # a model takes no dict
    with pytest.raises(no.InputError, match=f"{name} must be a number of km/h, above 0"):
        no.PMedian.from_geodataframes(ds.towns, ds.towns.iloc[:3], 1, unit="min", **model_option)


def test_towns_much_larger_than_their_radius_are_said_to_be_counted_at_their_points():
    """On town points each town is covered or not as a whole: the notes say how many towns are more than twice the
    circle of their radius (their area: the town's Voronoi cell in its county), the most populous of them, and that
    a population grid counts residents where they live; not on a grid, by travel time, or where radii outreach the
    towns."""
    from netopt.grid import population_grid, town_areas

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    [note] = [n for n in cov.notes if n.startswith("Residents at the town points")]
    km2 = (town_areas(ds).area / 1e6).reindex(ds.towns.index)
    radius = cov.towns["radius_km"]
    larger = km2 > 2 * np.pi * radius ** 2
    biggest = ds.towns[larger].sort_values("population").iloc[-1]
    assert f"{int(larger.sum())} of 125 towns" in note and f"e.g. {biggest['name']} ({biggest['county']}), " \
        f"{km2[biggest.name]:,.1f} km² against 4.5 km² within 1.2 km" in note and "--grid-km 1" in note
    assert no.coverage.town_point_note(ds, {"core": 1.2, "county": 3.5}) == [note]  # without a diagnosis too
    quiet = [no.analyze_coverage(ds, radius_km=1.2, demand=population_grid(ds, cell_km=2)),
             no.analyze_coverage(ds, radius_min=15), no.analyze_coverage(ds, radius_km=40)]
    assert not [n for c in quiet for n in c.notes if n.startswith("Residents at the town points")]
