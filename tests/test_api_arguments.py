"""Arguments of the wrong kind given to the library's functions in a script are InputErrors naming the argument,
not Python's or pandas' errors from deep inside (each case below raised TypeError, AttributeError, OSError or
folium's ValueError, or was silently read as something else)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import netopt as no
from netopt import batch, competition, maps, planning, siting, tiles
from netopt.grid import population_grid


@pytest.fixture(scope="module")
def ds():
    return no.load_sample()


CASES = [
    ("bank=104", lambda ds: planning.candidate_sites(ds, bank=104), "bank is a bank's name or part of it"),
    ("bank={}", lambda ds: competition.bank_shares(ds, {}), "bank is a bank's name or part of it, e.g. '农业'"),
    ("bank=''", lambda ds: ds.of_bank("  "), "bank is a bank's name"),  # matched every branch
    ("radius_km=None", lambda ds: competition.bank_shares(ds, "农业", radius_km=None),
     "radius_km must be a number of km, above 0; got None"),
    ("attractiveness dict", lambda ds: competition.huff_shares(ds, attractiveness={"a": 1}),
     "attractiveness must be one finite non-negative number per branch"),
    ("attractiveness inf", lambda ds: competition.huff_shares(ds, attractiveness=np.full(len(ds.branches), np.inf)),
     "attractiveness must be one finite"),
    ("cutoff_km=None", lambda ds: competition.huff_shares(ds, cutoff_km=None), "cutoff_km must be a number of km"),
    ("beta=None", lambda ds: competition.huff_shares(ds, beta=None), "beta must be a number, above 0; got None"),
    ("decay=NA", lambda ds: competition.huff_shares(ds, decay=pd.NA), "decay must be 'power' or 'exponential'"),
    ("distance=NA", lambda ds: no.analyze_coverage(ds, distance=pd.NA), "distance must be 'euclidean' or 'network'"),
    ("candidates=list", lambda ds: siting.evaluate_sites(ds, [(117.2, 31.8)]),
     r"candidates are a GeoDataFrame of points \(io.read_candidates"),
    ("coverage=dict", lambda ds: maps.network_map(ds, coverage={}), "coverage is a diagnosis from analyze_coverage"),
    ("tiles=True", lambda ds: maps.network_map(ds, tiles=True), "tiles is the name of a tile layer"),
    ("tiles=url", lambda ds: maps.network_map(ds, tiles="https://tiles.example/{z}/{x}/{y}.png"),
     r"folium.TileLayer\(url, attr=...\)"),
    ("start=0", lambda ds: planning.visit_schedule(["a"], start=0), "start must be a date such as 2027-03-01, got 0"),
    ("start=NA", lambda ds: planning.visit_schedule(["a"], start=pd.NA), "start must be a date"),
    ("coords=None", lambda ds: no.read_dataset(ds.counties, ds.towns, ds.branches, coords=None),
     "unknown coordinate system 'None'"),
    ("lon='abc'", lambda ds: no.to_wgs84("abc", 31.8, "gcj02"), r"lon must be numbers \(degrees\), got 'abc'"),
    ("grid crs=4326", lambda ds: population_grid(ds, crs=4326),  # had made 125 cells of 1,000 degrees
     "crs must be a projected coordinate system in metres, e.g. EPSG:32650"),
    ("grid crs='abc'", lambda ds: population_grid(ds, crs="abc"), "crs must be a projected coordinate system"),
    ("type plan coverage=True", lambda ds: no.assign_branch_types(ds, coverage=True),
     "coverage is a diagnosis from analyze_coverage, not bool"),
    ("selected=True", lambda ds: planning.network_after(ds, planning.candidate_sites(ds), True),
     "a plan's sites are a list of site ids"),
    ("towns_changed list", lambda ds: planning.towns_changed(no.analyze_coverage(ds), []),
     "after is a diagnosis from analyze_coverage, not list"),
    ("branches_changed list", lambda ds: planning.branches_changed([], no.analyze_coverage(ds)),
     "before is a diagnosis from analyze_coverage, not list"),
    ("compare_plans list", lambda ds: planning.compare_plans(ds, [ds.branches]), "networks are a dict of plans"),
    ("network_changes list", lambda ds: planning.network_changes(ds, [ds.branches]), "networks are a dict of plans"),
    ("network_changes text", lambda ds: planning.network_changes(ds, {"a": "x"}), "the branches need a geometry"),
    ("national_table None", lambda ds: batch.national_table(None),
     "out_dir is the batch's output folder, not NoneType"),
    ("read_batch only=nan", lambda ds: batch.read_batch("units.csv", ".", only=np.nan),
     "only is an adcode prefix or a list of them"),
    ("batch bank=3", lambda ds: batch.BatchOptions(bank=3), "bank is a bank's name or part of it, e.g. '农业', not int"),
    ("read_batch tables counties", lambda ds: batch.read_batch("units.csv", ".", tables={"counties": "x.csv"}),
     "tables are given by kind — towns, branches —, not counties"),
    ("read_folder tables list", lambda ds: no.read_folder(".", tables=["towns.csv"]),
     r"tables are file paths by kind, e.g. \{'towns': 'data/乡镇2020.csv'\}, not list"),
    ("read_folder tables DataFrame", lambda ds: no.read_folder(".", tables={"towns": ds.towns}),
     "tables are file paths by kind.*, not GeoDataFrame"),
    ("tiles cell_km=None", lambda ds: tiles.tiled_grid_coverage(ds, cell_km=None),
     "cell_km must be a number of km, above 0; got None"),
    ("tiles scheduler=0", lambda ds: tiles.tiled_grid_coverage(ds, scheduler=0),
     "scheduler is 'serial', None"),
    ("new_sites DataFrame", lambda ds: planning.candidate_sites(ds, new_sites=pd.DataFrame({"name": ["甲"],
     "lon": [117.25], "lat": [31.85]})), r"no.read_candidates\(table\) reads a file or a DataFrame with lon/lat "
     r"\(经度/纬度\) columns into one, not DataFrame$"),  # had said "missing: the coordinate system"
    # the map layers' helpers (each had raised AttributeError, KeyError or TypeError)
    ("coverage_layers dict", lambda ds: no.report.coverage_layers({}), "cov is a diagnosis from analyze_coverage"),
    ("plan_layers assignment alone", lambda ds: planning.plan_layers(planning.candidate_sites(ds), [],
                                                                     pd.DataFrame()), "give both or neither"),
    ("plan_layers assignment", lambda ds: planning.plan_layers(planning.candidate_sites(ds), [], pd.DataFrame(),
                                                               ds.towns), "the assignment needs the columns demand"),
    ("point_layer column", lambda ds: planning.point_layer(ds.towns, planning.places_by(ds.towns, "town_id"), True),
     "a column is named by its header, not bool"),
    ("point_layer places", lambda ds: planning.point_layer(ds.towns, {}, "town_id"),
     "places are a GeoSeries by id with a coordinate system"),
    ("places_by missing", lambda ds: planning.places_by(ds.towns, "site_id"), r"missing: site_id"),
    ("move_layer list", lambda ds: planning.move_layer([], planning.places_by(ds.towns, "town_id")),
     "moves needs the columns action, from_id and to_id"),
    ("write_geopackage labels", lambda ds: no.write_geopackage("x.gpkg", {"t": ds.towns}, labels=True),
     "labels are a dict by column or layer name, not bool"),
]


@pytest.mark.parametrize("name, call, message", CASES, ids=[case[0] for case in CASES])
def test_wrong_arguments_are_named(ds, name, call, message):
    with pytest.raises(no.InputError, match=message):
        call(ds)


def test_report_arguments_are_named(ds, tmp_path):
    from netopt.report import batch_reports, county_report, write_coverage_report

    cov = no.analyze_coverage(ds)
    with pytest.raises(no.InputError, match="county is a county's name, e.g. '"):
        county_report(cov, {"肥东县": 1}, tmp_path)
    with pytest.raises(no.InputError, match="out_dir is the folder to write to, not list"):
        write_coverage_report(cov, [tmp_path])
    with pytest.raises(no.InputError, match="extra is a dict of tables by name"):
        write_coverage_report(cov, tmp_path, extra=[cov.by_county])
    with pytest.raises(no.InputError, match="plan needs the columns branch_id, name, current_type"):
        batch_reports(cov, tmp_path, plan=ds.branches)  # was a failure recorded for every county
    assert not any(tmp_path.iterdir())


@pytest.fixture(scope="module")
def mclp(ds):
    sites = planning.candidate_sites(ds, bank="招商银行")
    return no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=5)


MODEL_CASES = [
    ("curve(10)", lambda m: m.curve(10), r"p_values are the counts to solve for, e.g. range\(0, 11\), not 10"),
    ("curve([])", lambda m: m.curve([]), "p_values is empty"),  # was KeyError 'covered_weight'
    ("moves_curve(None)", lambda m: m.moves_curve(None), "move_counts are the counts to solve for"),
    ("phases(2.5)", lambda m: m.phases(2.5), "a phase's number of new sites must be a whole number"),
    ("objective_of(None)", lambda m: m.objective_of(None), "sites are a list of this model's site labels"),
    ("worth_of_each('HF0001')", lambda m: m.worth_of_each("HF0001"), "sites are a list of this model's site labels"),
    ("warm_start=NA", lambda m: m.solve(warm_start=pd.NA), "warm_start must be True or False"),
]


@pytest.mark.parametrize("name, call, message", MODEL_CASES, ids=[case[0] for case in MODEL_CASES])
def test_wrong_model_arguments_are_named(mclp, name, call, message):
    with pytest.raises(no.InputError, match=message):
        call(mclp)


def test_a_model_of_no_frame_or_a_county_minimum_of_no_dict_is_named(ds):
    sites = planning.candidate_sites(ds, bank="招商银行")
    with pytest.raises(no.InputError, match="demand: must be a GeoDataFrame of points, got list"):
        no.MCLP.from_geodataframes([], sites, radius_km=3.5, p=3)
    with pytest.raises(no.InputError, match=r"county_min is a dict by county, e.g. \{'肥东县': 1\}"):
        no.PMedian.from_geodataframes(ds.towns, sites, p=3, county_min=np.ones(3, bool))
