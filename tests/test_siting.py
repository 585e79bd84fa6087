"""Site evaluation 选址评估 (siting.evaluate_sites, netopt evaluate-sites): each candidate opened alone beside today's
network, its numbers checked against the models and distances computed another way."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from docx import Document
from pptx import Presentation
from rich.cells import cell_len
from typer.testing import CliRunner

import netopt as no
from netopt.cli import app
from netopt.coverage import demand_radius_km
from netopt.distance import cost_matrix_km
from netopt.io import bank_mask, candidates_from_text
from netopt.planning import candidate_sites, existing_positions
from netopt.siting import evaluate_sites
from tests.conftest import write
from tests.pages import map_text
from tests.test_cli import _said, table_rows

runner = CliRunner()
RADIUS = {"core": 1.2, "county": 3.5}
SITES = ["滨湖=117.28,31.74", "长丰=117.17,32.48", "市中心=117.283,31.866", "小庙=117.10,31.80"]


@pytest.fixture(scope="module")
def sample():
    return no.load_sample()


@pytest.mark.parametrize("mode, speed_kmh", [("drive", 30.0), ("walk", 4.5)])
def test_sites_within_a_travel_time_are_the_sites_within_the_km_it_allows(sample, mode, speed_kmh):
    """radius_min: by straight line, 15 minutes are 15/60 x speed / 1.3 km — every number of the evaluation as
    within that radius (reach, what it adds, today's and rival branches within it), the limit in time_limit_min,
    the minutes to today's quickest branch its km x 1.3 at that speed; per region type too (residents won are
    counted by travel time then: the next test). A radius and a travel time together are refused."""
    candidates = candidates_from_text(SITES, city=sample)
    km = 15 / 60 * speed_kmh / 1.3
    timed = evaluate_sites(sample, candidates, "农业", radius_min=15, mode=mode)
    by_km = evaluate_sites(sample, candidates, "农业", radius_km=km)
    assert (timed["time_limit_min"] == 15).all() and "radius_km" not in timed
    assert np.allclose(timed.pop("nearest_branch_min"), timed["nearest_branch_km"] * 1.3 / speed_kmh * 60)
    same = [c for c in by_km.columns if c not in ("radius_km", "geometry", "rank", "won_wan")]
    pd.testing.assert_frame_equal(timed.sort_values("site_id")[same].reset_index(drop=True),
                                  by_km.sort_values("site_id")[same].reset_index(drop=True), rtol=1e-6)
    regional = evaluate_sites(sample, candidates, radius_min={"core": 10, "county": 30}, mode=mode).set_index("name")
    assert regional.loc["市中心", "time_limit_min"] == 10 and regional.loc["长丰", "time_limit_min"] == 30
    with pytest.raises(no.InputError, match="not both"):
        evaluate_sites(sample, candidates, radius_km=3.5, radius_min=15)


def test_each_site_adds_what_the_covering_model_says_and_shares_the_rest(sample):
    candidates = candidates_from_text(SITES, city=sample)
    table = evaluate_sites(sample, candidates, "农业", RADIUS).set_index("name")
    sites = candidate_sites(sample, "农业", candidates)
    existing = existing_positions(sites)
    model = no.MCLP.from_geodataframes(sample.towns, sites, radius_km=demand_radius_km(sample, RADIUS),
                                       p=len(existing) + 1, existing=existing)
    today = sites.loc[existing, "site_id"].tolist()
    km = cost_matrix_km(sample.towns, candidates)
    town_radius = demand_radius_km(sample, RADIUS)
    people = sample.towns["population"].to_numpy(float)
    ours = sample.branches[bank_mask(sample.branches, "农业")]
    for k, name in enumerate(candidates["name"]):
        site = candidates["site_id"].iloc[k]
        gain = model.objective_of(today + [site]) - model.objective_of(today)
        assert table.loc[name, "adds_covered_wan"] == pytest.approx(gain / 1e4)
        within = people[km[:, k] <= town_radius].sum()
        assert table.loc[name, "residents_within_wan"] == pytest.approx(within / 1e4)
        assert table.loc[name, "overlap_wan"] == pytest.approx((within - gain) / 1e4)
        to_ours = cost_matrix_km(candidates.iloc[[k]], ours)[0]
        assert table.loc[name, "nearest_branch_km"] == pytest.approx(to_ours.min())
        assert table.loc[name, "branches_within"] == (to_ours <= table.loc[name, "radius_km"]).sum()
    assert table.loc["滨湖", "radius_km"] == 1.2 and table.loc["长丰", "radius_km"] == 3.5  # 包河区 core, 长丰县 county
    assert table["rank"].tolist() == [1, 2, 3, 4] and table["adds_covered_wan"].is_monotonic_decreasing
    assert table.loc["滨湖", "overlap_pct"] == pytest.approx(100 * table.loc["滨湖", "overlap_wan"]
                                                            / table.loc["滨湖", "residents_within_wan"])
    assert np.isnan(table.loc["小庙", "overlap_pct"])  # no town point within its 1.2 km: nothing shared


def test_each_site_adds_counted_by_distance_what_the_diagnosis_counts_with_it_opened(sample, tmp_path: Path):
    """full_km: each site's adds_counted_wan is the diagnosis's residents counted by distance with it opened beside
    today's branches less today's, and the ranking goes by it (a site adding none within reach may add some
    counted by distance: residents it brings nearer); the command says it in a column, its record and slides."""
    from netopt.io import Dataset
    from netopt.planning import sites_as_branches

    candidates = candidates_from_text(SITES + ["方庙街道办事处"], city=sample)
    limits = dict(radius_km=RADIUS, full_km={"core": 0.5, "county": 1.2})
    table = evaluate_sites(sample, candidates, "农业", **limits).set_index("site_id")
    ours = sample.of_bank("农业")
    today = no.analyze_coverage(ours, **limits).by_county["covered_by_distance"].sum()
    for site in candidates["site_id"]:
        opened = pd.concat([ours.branches, sites_as_branches(candidates, [site])], ignore_index=True)
        after = no.analyze_coverage(Dataset(ours.counties, ours.towns, opened.set_crs(4326, allow_override=True)),
                                    **limits).by_county["covered_by_distance"].sum()
        assert table.loc[site, "adds_counted_wan"] == pytest.approx((after - today) / 1e4, abs=1e-9)
    assert table.sort_values("rank")["adds_counted_wan"].is_monotonic_decreasing
    assert ((table["adds_covered_wan"] == 0) & (table["adds_counted_wan"] > 0)).any()
    result = runner.invoke(app, ["evaluate-sites", "--site", SITES[2], "--site", "方庙街道办事处", "--bank",
                                 "农业", "--full-km", "core=0.5,county=1.2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "折算" in result.output  # the console's column (its header cut short in a terminal 80 wide)
    record = pd.read_excel(tmp_path / "site_evaluation.xlsx", sheet_name=0).set_index("item 项目")["value 数值"]
    assert record["counted by distance 按距离折算"] == "wholly covered within core 0.5 km, county 1.2 km"
    headers = [cell.text for slide in Presentation(str(tmp_path / "site_evaluation.pptx")).slides
               for shape in slide.shapes if shape.has_table for cell in shape.table.rows[0].cells]
    assert any(header.startswith("按距离折算新增覆盖(万人)") for header in headers)


def test_each_site_wins_what_the_huff_model_gives_it_beside_todays_branches(sample):
    candidates = candidates_from_text(SITES[:2], city=sample)
    table = evaluate_sites(sample, candidates, "农业", 3.5).set_index("site_id")
    sites = candidate_sites(sample, "农业", candidates)
    rivals = sample.branches[~bank_mask(sample.branches, "农业")]
    share = no.MarketShare.from_geodataframes(sample.towns, sites, rivals, p=len(sites))
    today = sites.loc[sites["kind"] == "existing", "site_id"].tolist()
    for site in candidates["site_id"]:
        won = share.objective_of(today + [site]) - share.objective_of(today)
        assert table.loc[site, "won_wan"] == pytest.approx(won / 1e4) and won > 0
    km = cost_matrix_km(candidates, rivals)
    assert table["rival_branches_within"].tolist() == (km <= 3.5).sum(axis=1).tolist()
    alone = evaluate_sites(sample, candidates, radius_km=3.5)  # every bank's network: no rivals to win from
    assert "won_wan" not in alone and "rival_branches_within" not in alone
    timed = evaluate_sites(sample, candidates, "农业", radius_min=15, speed_kmh=20.0).set_index("site_id")
    by_time = no.MarketShare.from_geodataframes(sample.towns, sites, rivals, p=len(sites), unit="min", speed_kmh=20.0)
    for site in candidates["site_id"]:  # within a travel time, residents won are counted by travel time too
        won = by_time.objective_of(today + [site]) - by_time.objective_of(today)
        assert timed.loc[site, "won_wan"] == pytest.approx(won / 1e4) and won > 0


def test_evaluate_sites_ranks_files_and_written_out_sites_together(tmp_path: Path):
    offers = write(tmp_path / "候选点位.csv", "名称,经度,纬度\n滨湖新区写字楼底商物业,117.28,31.74\n长丰物业,117.17,32.48\n")
    result = runner.invoke(app, ["evaluate-sites", "--candidates", str(offers), "--site", "小庙=117.10,31.80",
                                 "--bank", "农业", "--grid-km", "1", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "site_evaluation.csv")
    assert sorted(table["name 名称"]) == ["小庙", "滨湖新区写字楼底商物业", "长丰物业"]
    assert sorted(table["site_id 点位编号"]) == ["site:S0001", "候选点位:S0001", "候选点位:S0002"]  # named by source
    assert table["rank 排名"].tolist() == [1, 2, 3]
    assert table["adds_covered_wan 新增覆盖(万人)"].is_monotonic_decreasing
    assert "Site evaluation 选址评估" in _said(result.output) and "on the population grid" not in result.output
    assert "On town points" not in result.output  # on the grid, residents count where they live
    shown = table_rows(result.output, "Site evaluation 选址评估")  # on 80 columns: names folded, never cut short
    assert [row[1] for row in shown] == table["name 名称"].tolist()
    assert max(cell_len(line) for line in result.output.splitlines()) <= 80 and "…" not in result.output  # no cut
    for name in ("site_evaluation.xlsx", "site_evaluation_map.html", "site_evaluation_map.png"):
        assert (tmp_path / "out" / name).exists()
    page = map_text(tmp_path / "out" / "site_evaluation_map.html")
    assert "候选 candidate #1: " in page and "候选网点 candidate sites (# rank)" in page and "新设 open" not in page
    numbers = re.findall(r"text-shadow:[^']*'>(\d+)</div>", page)  # each site's number shown beside it, no hover
    assert sorted(set(map(int, numbers))) == [1, 2, 3] and "new L.Marker" in page and '"interactive": false' in page
    slides = list(Presentation(str(tmp_path / "out" / "site_evaluation.pptx")).slides)  # the meeting's slides
    ranked = [[cell.text for cell in row.cells] for row in list(slides[-1].shapes[1].table.rows)[1:]]
    assert [row[:2] for row in ranked] == [[str(rank), name] for rank, name in zip(table["rank 排名"], table["name 名称"])]
    assert "residents 人口: population grid 网格" in slides[0].shapes[1].text_frame.text
    written_up = Document(str(tmp_path / "out" / "site_evaluation.docx"))  # written up: the same ranking, the map
    assert [[cell.text for cell in row.cells] for row in written_up.tables[0].rows[1:]] == ranked
    assert "residents 人口: population grid 网格" in [p.text for p in written_up.paragraphs[:8]]
    assert len(written_up.inline_shapes) == 1


def test_a_long_list_shows_its_best_rows_and_writes_them_all(tmp_path: Path):
    from netopt.cli import SITES_SHOWN

    rows = "".join(f"铺面{k},{117.1 + 0.01 * k:.2f},{31.70 + 0.01 * k:.2f}\n" for k in range(SITES_SHOWN + 5))
    offers = write(tmp_path / "长名单.csv", "名称,经度,纬度\n" + rows)
    result = runner.invoke(app, ["evaluate-sites", "--tables-only", str(offers), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "site_evaluation.csv")
    shown = table_rows(result.output, "Site evaluation 选址评估")
    assert len(table) == SITES_SHOWN + 5 and [row[1] for row in shown] == table["name 名称"].head(SITES_SHOWN).tolist()
    assert "… and 5 more sites, ranked alike, in site_evaluation.csv" in _said(result.output)


def test_sites_of_one_name_are_told_apart_by_their_ids(tmp_path: Path):
    result = runner.invoke(app, ["evaluate-sites", "--tables-only",
                                 "--site", "万达=117.25,31.84", "--site", "万达=117.26,31.85",
                                 "--site", "银泰=117.27,31.86", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "site_evaluation.csv")
    shown = [row[1] for row in table_rows(result.output, "Site evaluation 选址评估")]
    assert shown == [f"{name}({site})" if name == "万达" else name
                     for name, site in zip(table["name 名称"], table["site_id 点位编号"])]
    best = table.iloc[0]  # on town points, said: a town's residents all count where its point is
    assert f"On town points 乡镇点位 a town's residents count where its point is, all within reach or none " \
        f"({best['name 名称']}: {best['residents_within_wan 覆盖范围人口(万人)']:,.2f}万 within reach); --grid-km 1" \
        in _said(result.output)


@pytest.mark.parametrize("options, message", [
    ([], "give candidate sites: a file (候选点位.xlsx) or --site name=lon,lat"),
    (["--site", "117.25,31.84"], "--site, value 1: write each site as name=lon,lat"),
    (["--site", "A=117.25,31.84", "--site", "B=100.0,31.8"], "--site, value 2, column '经纬度': more than 50 km outside"),
])
def test_evaluate_sites_refuses_sites_it_cannot_place(tmp_path: Path, options: list, message: str):
    result = runner.invoke(app, ["evaluate-sites", *options, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in _said(result.output), result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_site_written_as_a_towns_name_is_at_its_point(sample):
    """--site 大杨镇 (a town to weigh opening in) had to be written with its coordinates; a name the city lacks is
    refused saying how to write a site."""
    site, written = candidates_from_text(["大杨镇", "候选A=117.2501,31.8402"], city=sample).geometry
    town = sample.towns.set_index("name").geometry.representative_point()["大杨镇"]
    assert (site.x, site.y) == (town.x, town.y) and written.x == pytest.approx(117.2501)
    with pytest.raises(no.InputError, match=r"--site, value 1, column 'name': no coordinates, and no town of the city "
                                            r"named so \('不存在镇'\): write it as name=lon,lat"):
        candidates_from_text(["不存在镇"], city=sample)


def test_sites_written_in_gcj02_are_placed_in_wgs84(sample):
    from netopt.coords import to_wgs84

    site = candidates_from_text(["滨湖=117.28,31.74"], coords="gcj02", city=sample).geometry.iloc[0]
    lon, lat = to_wgs84(np.array([117.28]), np.array([31.74]), "gcj02")
    assert (site.x, site.y) == pytest.approx((lon[0], lat[0])) and abs(site.x - 117.28) > 1e-3


def test_sites_built_in_code_are_numbered_and_checked_like_a_file(sample):
    """A GeoDataFrame of named points (no site_id) was refused for its missing id; a site 1,750 km away was
    evaluated in the nearest county."""
    import geopandas as gpd

    ours = sample.of_bank("农业")
    near = gpd.GeoDataFrame({"name": ["滨湖", "小庙"]}, geometry=gpd.points_from_xy([117.28, 117.10], [31.74, 31.80]),
                            crs=4326)
    table = evaluate_sites(ours, near, radius_km=RADIUS)
    assert sorted(table["site_id"]) == ["S0001", "S0002"] and set(table["name"]) == {"滨湖", "小庙"}
    far = pd.concat([near, gpd.GeoDataFrame({"name": ["远"]}, geometry=gpd.points_from_xy([100.0], [40.0]), crs=4326)],
                    ignore_index=True)
    with pytest.raises(no.InputError, match=r"candidates, row 2: more than 50 km outside every county boundary of "
                                            r"the city \(e.g. 远\)"):
        evaluate_sites(ours, far, radius_km=RADIUS)


def test_the_outputs_name_the_city_not_the_path_to_its_folder(tmp_path: Path):
    """--data given by its full path: the slides and the map are titled by the city its counties are of and the
    folder's name, 合肥市 (sample), not by where the folder lies on the analyst's disk."""
    from netopt.datasets import sample_dir

    result = runner.invoke(app, ["evaluate-sites", "--site", "北城=117.25,32.0", "--bank", "农业", "--data",
                                 str(sample_dir().resolve()), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    slides = list(Presentation(str(tmp_path / "out" / "site_evaluation.pptx")).slides)
    assert slides[0].shapes[0].text_frame.text == f"选址评估 Site evaluation — 合肥市 ({sample_dir().name}), 农业"
    said = [shape.text_frame.text for slide in slides for shape in slide.shapes if shape.has_text_frame]
    page = map_text(tmp_path / "out" / "site_evaluation_map.html")
    assert str(sample_dir().resolve().parent) not in "\n".join(said) + page + result.output
