"""netopt's own outputs given back as inputs: its tables read, a plan's sites or a towns table refused as branches."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import netopt._schema as sc
import netopt.io as nio
from netopt.datasets import sample_dir
from netopt.cli import app
from tests.test_cli import _said


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 1, 2), result.output
    return result.exit_code, _said(result.output)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    """One relocation plan and one diagnosis of 农业 on the sample, as an analyst's out folders hold them."""
    out = tmp_path_factory.mktemp("outputs")
    assert _run("optimize", "--model", "mclp", "--relocate", "1", "--bank", "农业", "--out", str(out / "plan"))[0] == 0
    assert _run("analyze", "--bank", "农业", "--out", str(out / "diagnosis"))[0] == 0
    return out


def test_headers_in_english_and_chinese_are_read_by_their_english_name():
    matches, _ = sc.match_columns(["name 名称", "population 常住人口(万人)", "lon 经度", "lat 纬度", "type_zh 类型"],
                                  (*sc.TOWN_FIELDS, *sc.BRANCH_FIELDS))
    assert matches["name"].source == "name 名称"
    assert matches["population"].factor == 10_000  # the unit in the Chinese part counts
    assert (matches["lon"].source, matches["lat"].source) == ("lon 经度", "lat 纬度")
    assert "type" not in matches  # 类型 in type_zh 类型 is the label of another column, not a header of its own


def test_a_branches_table_netopt_wrote_reads_back_as_it_was_written(outputs: Path):
    written = pd.read_csv(outputs / "diagnosis" / "coverage_branches.csv", dtype={"branch_id 网点编号": str})
    branches = nio.read_branches(outputs / "diagnosis" / "coverage_branches.csv")
    assert branches["branch_id"].tolist() == written["branch_id 网点编号"].tolist()
    assert branches["bank"].eq("中国农业银行").all() and len(branches) == 101
    code, said = _run("analyze", "--branches", str(outputs / "diagnosis" / "coverage_branches.csv"),
                      "--out", str(outputs / "again"))
    assert code == 0, said


@pytest.mark.parametrize("name", ["mclp_plan.gpkg", "mclp_plan.kmz", "mclp_plan.xlsx", "mclp_sites.csv"])
def test_a_plans_sites_are_refused_as_branches_naming_its_network_beside_them(outputs: Path, name: str):
    code, said = _run("analyze", "--branches", str(outputs / "plan" / name), "--out", str(outputs / "x"))
    assert code == 2
    assert "a plan's sites as netopt writes them" in said and "give mclp_branches.csv beside it" in said
    code, said = _run("compare", str(outputs / "plan" / name), "--out", str(outputs / "x"))
    assert code == 2 and "give mclp_branches.csv beside it" in said


def test_a_towns_table_or_candidate_sites_are_refused_as_branches(tmp_path: Path):
    code, said = _run("analyze", "--branches", str(sample_dir() / "towns.csv"), "--out", str(tmp_path))
    assert code == 2 and "its columns are a towns table's (town_id, population)" in said
    sites = pd.DataFrame({"名称": ["A"], "经度": [117.25], "纬度": [31.84], "开设成本（万元）": [300]})
    sites.to_csv(tmp_path / "sites.csv", index=False)
    code, said = _run("map", "--branches", str(tmp_path / "sites.csv"), "--out", str(tmp_path))
    assert code == 2 and "candidate sites' (开设成本（万元）)" in said


def test_branches_with_a_population_column_and_an_id_are_still_branches(tmp_path: Path):
    branches = pd.read_csv(sample_dir() / "branches.csv").assign(人口=1000)
    branches.to_csv(tmp_path / "branches.csv", index=False)
    assert len(nio.read_branches(tmp_path / "branches.csv")) == len(branches)


def test_a_diagnosis_kmz_gives_its_branches_folder_alone(outputs: Path):
    branches = nio.read_branches(outputs / "diagnosis" / "coverage.kmz")
    assert len(branches) == 101 and "population" not in branches  # the towns' columns left with them
    assert "not the branches folder 网点 branches" in branches.attrs["left_out"]


def test_a_diagnosis_geopackage_is_measured_anew_as_branches(outputs: Path):
    first = pd.read_csv(outputs / "diagnosis" / "coverage_branches.csv")
    gpkg = str(outputs / "diagnosis" / "coverage.gpkg")
    code, said = _run("analyze", "--branches", gpkg, "--out", str(outputs / "anew"))
    assert code == 0, said
    again = pd.read_csv(outputs / "anew" / "coverage_branches.csv")
    assert again["assigned_population 服务人口(人)"].tolist() == first["assigned_population 服务人口(人)"].tolist()
    code, said = _run("compare", gpkg, "--out", str(outputs / "compared"))  # its branches layer, not its first
    assert code == 0, said


def _edited_network(outputs: Path, tmp_path: Path) -> Path:
    """The plan's network after it as an analyst edits it in Excel: two of our branches marked 撤并 in its plan
    column, one bank written 农行, one with its id left blank."""
    network = pd.read_csv(outputs / "plan" / "mclp_branches.csv", dtype=str, keep_default_na=False)
    ours = network.index[network["bank"] == "中国农业银行"]
    network.loc[ours[:2], "plan"] = ["撤并", "closed 撤并"]
    network.loc[ours[5], "bank"] = "农行"
    network.to_csv(tmp_path / "edited.csv", index=False)
    return tmp_path / "edited.csv"


def test_a_network_after_edited_by_hand_closes_what_its_plan_column_closes(outputs: Path, tmp_path: Path):
    edited = _edited_network(outputs, tmp_path)
    branches = nio.read_branches(edited)
    assert len(branches) == len(pd.read_csv(edited)) - 2
    assert "left out 2 branch(es) the plan closes by plan (1 撤并, 1 closed 撤并; rows 2, 3)" in branches.attrs["left_out"]
    code, said = _run("compare", str(edited), "--bank", "农业", "--out", str(tmp_path / "compared"))
    assert code == 0 and "left out 2 branch(es) the plan closes" in said
    scenarios = pd.read_csv(tmp_path / "compared" / "compare_scenarios.csv")
    assert scenarios["branches 网点数"].tolist() == [101, 99]  # 农行's branch still ours: 101 less the two closed


def test_a_bank_written_short_is_that_bank(outputs: Path, tmp_path: Path):
    branches = nio.read_branches(_edited_network(outputs, tmp_path))
    for option in ("农业", "农行", "ABC"):
        assert nio.bank_mask(branches, option).sum() == 99
    assert nio.distinct_banks(["中国农业银行", "农行", "ABC", "中国工商银行"]) == ["中国农业银行", "中国工商银行"]
    assert nio.distinct_banks(["农行", "工行"]) == ["农行", "工行"]  # short alone: each a bank
    code, said = _run("analyze", "--branches", str(tmp_path / "edited.csv"), "--bank", "农业", "--out", str(tmp_path))
    assert code == 0 and "matches 2 banks" not in said


def test_a_model_with_no_plan_names_the_towns_it_cannot_serve(outputs: Path, tmp_path: Path):
    code, said = _run("optimize", "--model", "lscp", "--radius-km", "0.3", "--bank", "农业", "--candidates",
                      str(outputs / "plan" / "mclp_sites.csv"), "--out", str(tmp_path))
    assert code == 1 and "no allowed candidate site covers demand point(s) 明光路街道 (瑶海区), " in said
    assert "340102001000" not in said


def test_a_workbooks_sheet_named_for_a_table_alone_is_that_table(outputs: Path):
    sheets = nio.kind_sheets(outputs / "diagnosis" / "coverage.xlsx")
    assert sheets["towns"] == "towns 乡镇"  # not the underserved towns 服务不足乡镇 before it
    assert list(sheets) == ["counties", "towns", "branches"]  # in the workbook's order
    assert len(nio.read_towns(outputs / "diagnosis" / "coverage.xlsx", layer=sheets["towns"])) == 125


def test_an_out_folder_given_as_data_is_said_to_be_one(outputs: Path, tmp_path: Path):
    code, said = _run("analyze", "--data", str(outputs / "diagnosis"), "--out", str(tmp_path))
    assert code == 2 and "it holds netopt's outputs (coverage.xlsx …), whose tables are no city's data" in said
    assert "or its coverage.gpkg (its layers counties, towns and branches are a city's data)" in said
    code, said = _run("analyze", "--data", str(outputs / "diagnosis" / "coverage.gpkg"), "--out", str(tmp_path))
    assert code == 0, said
    code, said = _run("analyze", "--data", str(outputs / "plan"), "--out", str(tmp_path / "x"))
    assert code == 2 and "no counties file found" in said and "(mclp_plan.xlsx …)" in said


def test_a_plans_network_is_planned_again_without_two_sites_of_one_id(outputs: Path, tmp_path: Path):
    from netopt.datasets import load_sample
    from netopt.planning import candidate_sites

    city = nio.with_branches(load_sample(), outputs / "plan" / "mclp_branches.csv")
    opened = city.branches.loc[city.branches["branch_id"].str.startswith("new:"), "branch_id"].tolist()
    sites = candidate_sites(city, "农业")
    assert opened and sites["site_id"].is_unique and {f"{site}#2" for site in opened} <= set(sites["site_id"])
    code, said = _run("plan", "--bank", "农业", "--p", "104", "--budget-wan", "3000", "--branches",
                      str(outputs / "plan" / "mclp_branches.csv"), "--out", str(tmp_path))
    assert code == 0, said  # it stopped with "unexpected InvalidIndexError" writing plan_branches.csv
    assert pd.read_csv(tmp_path / "plan_branches.csv")["branch_id"].is_unique


def test_a_curve_of_own_candidates_names_the_sites_it_opens(tmp_path: Path):
    towns = pd.read_csv(sample_dir() / "towns.csv").head(8)
    pd.DataFrame({"点位编号": [f"C{i:03d}" for i in range(8)], "名称": towns["name"] + "候选",
                  "经度": towns["lon"] + 0.002, "纬度": towns["lat"]}).to_csv(tmp_path / "sites.csv", index=False)
    code, said = _run("curve", "--up-to", "2", "--bank", "农业", "--candidates", str(tmp_path / "sites.csv"),
                      "--out", str(tmp_path))
    assert code == 0, said
    opened = pd.read_csv(tmp_path / "coverage_curve.csv")["new sites 新增网点位置"].fillna("").tolist()
    assert opened[0] == "" and all(name.endswith("候选") for name in opened[2].split(", ")) and len(opened[2]) > 0


def test_a_county_reports_kmz_gives_its_branches_not_its_suggested_sites(bank_reports):
    tmp_path = bank_reports[1]
    branches = nio.read_branches(tmp_path / "county_340121_长丰县.kmz")  # folders 网点 branches, 建议新设网点 new sites
    listed = pd.read_excel(tmp_path / "county_340121_长丰县.xlsx", "branches 网点", engine="openpyxl")
    assert len(branches) == len(listed) > 0 and "建议新设网点 new sites (2)" in branches.attrs["left_out"]


def test_more_new_branches_than_candidate_sites_opens_at_most_those(tmp_path: Path):
    towns = pd.read_csv(sample_dir() / "towns.csv").head(1)
    pd.DataFrame({"名称": ["甲"], "经度": towns["lon"] + 0.002, "纬度": towns["lat"]}).to_csv(tmp_path / "one.csv",
                                                                                         index=False)
    code, said = _run("optimize", "--model", "mclp", "--max-new", "2", "--bank", "农业", "--candidates",
                      str(tmp_path / "one.csv"), "--out", str(tmp_path))
    assert code == 0 and "at most 1 new (--max-new 2; 1 candidate site(s) for new branches)" in said
    code, said = _run("optimize", "--model", "mclp", "--p", "103", "--bank", "农业", "--candidates",
                      str(tmp_path / "one.csv"), "--out", str(tmp_path))
    assert code == 2 and "--p 103: more branches than there are sites, 102" in said


def test_a_map_colours_branches_by_the_types_their_table_gives(tmp_path: Path):
    from netopt.maps import TYPE_COLOURS
    from tests.pages import map_text

    branches = pd.read_csv(sample_dir() / "branches.csv")
    branches["type"] = ["社区型"] * 5 + [""] * (len(branches) - 5)  # a bank's own types, or plan --p's
    branches.to_csv(tmp_path / "typed.csv", index=False)
    assert _run("map", "--branches", str(tmp_path / "typed.csv"), "--out", str(tmp_path))[0] == 0
    page = map_text(tmp_path / "network_map.html")
    assert page.count("<br>社区型 community") == 5 and "社区型 community</span>" not in page  # tooltips
    assert f"<span style='color:{TYPE_COLOURS['community']}'>●</span> 社区型 community" in page  # the legend


def test_a_static_map_colours_branches_by_the_types_their_table_gives():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from netopt.datasets import load_sample
    from netopt.maps import _draw_static
    from netopt.projection import metric_crs

    city = load_sample()
    city.branches["type"] = ["community"] * 5 + [pd.NA] * (len(city.branches) - 5)
    fig, ax = plt.subplots()
    _draw_static(ax, city, None, None, metric_crs(city.counties), chinese=False)
    labels = ax.get_legend_handles_labels()[1]
    plt.close(fig)
    assert "community branches" in labels and "branches" in labels  # the five typed, the others plain


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory) -> Path:
    """A batch run of the sample's nine counties with type plans, as a head office's out folder holds it."""
    from netopt.batch import BatchOptions, read_batch, run_batch

    out = tmp_path_factory.mktemp("batch")
    tasks = read_batch(sample_dir() / "counties.geojson", sample_dir())
    run_batch(tasks, out, BatchOptions(plan_types=True), scheduler="serial")
    return out


def test_a_batch_units_tables_open_in_excel_with_places(batch_out: Path):
    unit = batch_out / "units" / "340102"
    for name in ("underserved_towns.csv", "branch_types.csv"):
        text = (unit / name).read_bytes()
        assert text.startswith(b"\xef\xbb\xbf") and "名称".encode() in text.splitlines()[0]  # Excel reads UTF-8 so
    branches = nio.read_branches(unit / "branch_types.csv")
    assert len(branches) == 52 and branches["name"].str.contains("支行|营业所|分理处").any()
    towns = pd.read_csv(batch_out / "national.csv", dtype={"adcode": str})
    layer = nio.read_gis_file(batch_out / "national.gpkg", "underserved_towns")
    assert len(layer) == towns["underserved_towns"].sum() and layer["town_id"].str.len().eq(12).all()


def test_a_unit_table_an_earlier_netopt_wrote_in_english_still_joins_the_national_layer(batch_out: Path,
                                                                                        tmp_path: Path):
    import shutil

    from netopt.batch import write_tables

    out = tmp_path / "batch"
    shutil.copytree(batch_out, out)
    saved = out / "units" / "340102" / "underserved_towns.csv"
    table = pd.read_csv(saved, dtype=str, encoding="utf-8-sig")
    table.rename(columns=lambda c: c.split(" ")[0]).to_csv(saved, index=False)  # as netopt wrote it before
    units = nio.read_counties(sample_dir() / "counties.geojson")
    write_tables(out, units["county_id"].tolist(), units)
    layer = nio.read_gis_file(out / "national.gpkg", "underserved_towns")
    ours = layer[layer["adcode"] == "340102"]
    assert ours["town_id"].tolist() == table.iloc[:, 0].tolist() and ours["population"].dtype.kind == "f"


@pytest.mark.parametrize("name", ["national.kmz", "national.gpkg"])
def test_a_batchs_national_map_file_is_towns_not_branches_and_serves_as_candidate_sites(batch_out: Path,
                                                                                       name: str):
    code, said = _run("analyze", "--branches", str(batch_out / name), "--out", str(batch_out / "x"))
    assert code == 2 and "its columns are a towns table's" in said, said
    sites = nio.read_candidates(batch_out / name)
    assert len(sites) == pd.read_csv(batch_out / "national.csv")["underserved_towns"].sum()
    assert "units (9 areas)" in sites.attrs["left_out"] and "not places" in sites.attrs["left_out"]


def test_a_type_plan_keeps_each_branchs_bank_so_a_bank_is_picked_from_it(tmp_path: Path):
    assert _run("assign-types", "--out", str(tmp_path / "types"))[0] == 0
    plan = tmp_path / "types" / "branch_types.csv"
    assert "bank 银行" in pd.read_csv(plan, nrows=0).columns
    code, said = _run("analyze", "--branches", str(plan), "--bank", "农行", "--out", str(tmp_path / "ours"))
    assert code == 0 and "101 of the 480 branches" in said, said


@pytest.mark.parametrize("folder", [".", "units/340102"])
def test_a_batch_out_folder_or_a_units_given_as_data_is_said_to_be_outputs(batch_out: Path, folder: str,
                                                                           tmp_path: Path):
    code, said = _run("analyze", "--data", str(batch_out / folder), "--out", str(tmp_path))
    written = "national_summary.xlsx" if folder == "." else "county_340102_瑶海区.xlsx"
    assert code == 2 and f"it holds netopt's outputs ({written} …), whose tables are no city's data" in said, said


def test_a_kml_of_several_folders_gives_the_folder_named_for_the_table_read(batch_out: Path):
    units = nio.read_counties(batch_out / "national.kmz")
    assert len(units) == 9 and units["population"].gt(0).all()
    assert "left out the folders 服务不足乡镇 underserved towns (44): not the counties folder 各单位 units" in \
        units.attrs["left_out"]
    towns = nio.read_towns(batch_out / "national.kmz")
    assert len(towns) == 44 and "left out the folders 各单位 units (9)" in towns.attrs["left_out"]


def test_the_plans_changes_compare_writes_are_refused_as_branches(outputs: Path, tmp_path: Path):
    code, said = _run("compare", str(outputs / "plan" / "mclp_branches.csv"), "--bank", "农业", "--out",
                      str(tmp_path / "cmp"))
    assert code == 0, said
    for name in ("compare_changes.csv", "compare.xlsx", "compare.kmz"):
        code, said = _run("analyze", "--branches", str(tmp_path / "cmp" / name), "--out", str(tmp_path / "x"))
        assert code == 2 and "the plans' changes as compare writes them" in said, (name, said)


def test_a_plans_network_is_planned_again_by_optimize_curve_and_evaluate_sites(outputs: Path, tmp_path: Path):
    network = str(outputs / "plan" / "mclp_branches.csv")
    first = pd.read_csv(network, dtype=str)
    opened = first.loc[first["plan"] == "new 新设", "branch_id"].tolist()
    code, said = _run("optimize", "--model", "mclp", "--max-new", "1", "--bank", "农业", "--branches", network,
                      "--out", str(tmp_path / "round2"))
    assert code == 0 and "branches of mclp_branches.csv" in said, said
    second = pd.read_csv(tmp_path / "round2" / "mclp_branches.csv", dtype=str).set_index("branch_id")
    assert opened and (second.loc[opened, "plan"] == "kept 保留").all()  # the first round's new branches stay
    assert (second["plan"] == "new 新设").sum() == 1
    for args in (["curve", "--up-to", "1"], ["evaluate-sites", "--site", "候选A=117.2501,31.8402"]):
        code, said = _run(*args, "--bank", "农业", "--branches", str(outputs / "plan"), "--out", str(tmp_path / args[0]))
        assert code == 0 and "branches of plan/mclp_branches.csv" in said, said
    code, said = _run("compare", str(tmp_path / "round2" / "mclp_branches.csv"), "--branches", network, "--bank",
                      "农业", "--out", str(tmp_path / "cmp"))  # the next round beside the first's network
    changes = pd.read_csv(tmp_path / "cmp" / "compare_changes.csv")
    assert code == 0 and changes["change 变化"].tolist() == ["new 新设"], said
    scenarios = pd.read_csv(tmp_path / "cmp" / "compare_scenarios.csv")  # the first round named, not "today 现状"
    assert scenarios["scenario 方案"].tolist() == ["plan/mclp", "round2/mclp"]
    assert "plan/mclp (" in (tmp_path / "cmp" / "compare_map.html").read_text(encoding="utf-8")  # its map layer


def test_a_workbook_of_plans_one_per_sheet_is_compared_sheet_by_sheet(outputs: Path, tmp_path: Path):
    network = pd.read_csv(outputs / "plan" / "mclp_branches.csv", dtype=str)
    book = tmp_path / "方案.xlsx"
    with pd.ExcelWriter(book) as sheets:
        network.to_excel(sheets, sheet_name="方案A", index=False)
        network[network["branch_id"] != "HF0014"].to_excel(sheets, sheet_name="方案B", index=False)
    branches = nio.read_branches(book)  # as --branches: the first, the other said
    assert len(branches) == len(network) and "left out the sheet(s) 方案B, whose header names as much" in \
        branches.attrs["left_out"]
    code, said = _run("compare", str(book), "--bank", "农业", "--out", str(tmp_path / "cmp"))
    scenarios = pd.read_csv(tmp_path / "cmp" / "compare_scenarios.csv")["scenario 方案"].tolist()
    assert code == 0 and scenarios[1:] == [f"{tmp_path.name}/方案/方案A", f"{tmp_path.name}/方案/方案B"], said
    changes = pd.read_csv(tmp_path / "cmp" / "compare_changes.csv")
    assert "HF0014" in changes.loc[changes["scenario 方案"].str.endswith("方案B"), "branch_id 网点编号"].tolist()


def test_a_network_in_a_sheet_per_bank_is_one_plan_to_compare(tmp_path: Path):
    branches = pd.read_csv(sample_dir() / "branches.csv", dtype=str)
    book = tmp_path / "网点.xlsx"
    with pd.ExcelWriter(book) as sheets:
        for bank, rows in branches.groupby("bank", sort=False):
            rows.to_excel(sheets, sheet_name=bank[:31], index=False)
    code, said = _run("compare", str(book), "--out", str(tmp_path / "cmp"))
    scenarios = pd.read_csv(tmp_path / "cmp" / "compare_scenarios.csv").set_index("scenario 方案")
    assert code == 0 and len(scenarios) == 2 and scenarios["branches 网点数"].tolist() == [480, 480], said


def test_a_plans_workbook_as_candidates_is_its_sites_not_its_sheets_stacked(outputs: Path):
    """Its sites sheet and its towns changed name alike fields (name, county, lon/lat) but are other tables:
    the sites are read alone."""
    sites = nio.read_candidates(outputs / "plan" / "mclp_plan.xlsx")
    assert "sheets_read" not in sites.attrs and sites["site_id"].notna().all()
    assert len(sites) == len(pd.read_csv(outputs / "plan" / "mclp_sites.csv"))
