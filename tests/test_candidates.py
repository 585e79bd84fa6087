"""The analyst's own candidate sites (--candidates): read and checked, planned among, costed, validated."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import netopt as no
from netopt.cli import app
from netopt.io import read_candidates
from netopt.models.types import plan_network
from netopt.planning import candidate_sites

runner = CliRunner()


def other_banks_sites(path: Path, count: int = 30, costs=None) -> pd.DataFrame:
    """Candidate sites beside other banks' outlets of the sample (a bank may well look where its rivals are),
    written with Chinese headers as an analyst's sheet would have them."""
    branches = no.load_sample().branches
    others = branches[~branches["bank"].astype(str).str.contains("农业")].iloc[::7].head(count)
    frame = pd.DataFrame({"点位编号": [f"C{i + 1:03d}" for i in range(len(others))],
                          "点位名称": (others["name"].astype(str) + "旁").to_numpy(),
                          "经度": others.geometry.x.round(6).to_numpy(), "纬度": others.geometry.y.round(6).to_numpy()})
    if costs is not None:
        frame["开设成本（万元）"] = costs(len(frame))
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return frame


def test_read_candidates_with_chinese_headers_and_costs_in_yuan(tmp_path: Path):
    path = tmp_path / "候选点位.csv"
    pd.DataFrame({"名称": ["甲", "乙"], "经度": [117.2, 117.3], "纬度": [31.8, 31.9],
                  "开设成本（元）": [2_500_000, None]}).to_csv(path, index=False)
    sites = read_candidates(path)
    assert sites["site_id"].tolist() == ["S0001", "S0002"] and sites["name"].tolist() == ["甲", "乙"]
    assert sites["open_cost_wan"].iloc[0] == pytest.approx(250.0) and np.isnan(sites["open_cost_wan"].iloc[1])
    assert sites.crs.to_epsg() == 4326 and sites.geometry.x.tolist() == [117.2, 117.3]


def test_bad_candidate_files_name_file_row_and_column(tmp_path: Path):
    path = tmp_path / "sites.csv"
    pd.DataFrame({"点位名称": ["甲", "乙", "丙"], "经度": [117.2, "abc", 117.3], "纬度": [31.8, 31.8, 31.9],
                  "开设成本": [100, 200, -5]}).to_csv(path, index=False)
    with pytest.raises(no.InputError) as err:
        read_candidates(path)
    text = str(err.value)
    assert "row 3, column '经度': non-numeric values (e.g. 'abc')" in text and "row 4, column '开设成本'" in text
    pd.DataFrame({"经度": [117.2], "纬度": [31.8]}).to_csv(path, index=False)
    with pytest.raises(no.InputError, match="missing required column 'name'"):
        read_candidates(path)
    pd.DataFrame({"名称": ["远处"], "经度": [100.0], "纬度": [31.8]}).to_csv(path, index=False)
    with pytest.raises(no.InputError, match="more than 50 km outside every county boundary of the city"):
        read_candidates(path, city=no.load_sample())


def test_optimize_opens_the_cheaper_of_two_candidates_covering_as_much(tmp_path: Path):
    """Candidates in pairs 10 m apart, one premises at 200万 and the other at 120万: the plan opens the 120万 ones,
    covering as many residents as the plan that may pay either."""
    path = tmp_path / "候选点位.csv"
    frame = other_banks_sites(path, 12)
    cost = "开设成本（万元）"
    pairs = pd.concat([frame.assign(点位编号=frame["点位编号"] + "甲", **{cost: 200.0}),
                       frame.assign(点位编号=frame["点位编号"] + "乙", 经度=frame["经度"] + 0.0001, **{cost: 120.0})])
    pairs.to_csv(path, index=False, encoding="utf-8-sig")
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--model", "mclp", "--bank", "农业", "--max-new", "3", "--budget-wan",
                                 "1500", "--candidates", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    opened = pd.read_csv(tmp_path / "mclp_sites.csv").query("kind == 'new'")
    assert 0 < len(opened) <= 3 and opened["site_id"].str.endswith("乙").all() and (opened["open_cost_wan"] == 120).all()
    ds = no.load_sample()
    sites = candidate_sites(ds, "农业", read_candidates(path))
    dearer = no.MCLP.from_geodataframes(ds.towns, sites, 3.5, 104, exactly_p=False,
                                        existing=np.flatnonzero(sites["kind"] == "existing"))
    covered = dearer.objective_of(pd.read_csv(tmp_path / "mclp_sites.csv")["site_id"].tolist())
    assert covered == pytest.approx(dearer.solve().objective)  # as many residents as the best plan at any cost


def test_candidate_sites_replace_the_town_points(tmp_path: Path):
    ds = no.load_sample()
    other_banks_sites(tmp_path / "c.csv", 12)
    own = read_candidates(tmp_path / "c.csv")
    sites = candidate_sites(ds, "农业", own)
    new = sites[sites["kind"] == "new"]
    assert new["site_id"].tolist() == own["site_id"].tolist() and new["county"].notna().all()
    assert (sites["kind"] == "existing").sum() == 101
    clash = own.assign(site_id=sites["site_id"].iloc[0])
    with pytest.raises(no.InputError, match="candidate site ids used twice or also by a branch"):
        candidate_sites(ds, "农业", clash)


def test_optimize_chooses_among_the_candidates_within_their_own_costs(tmp_path: Path):
    path = tmp_path / "候选网点.csv"
    frame = other_banks_sites(path, 30, costs=lambda n: np.resize([200.0, 300.0, 500.0], n))
    args = ["optimize", "--tables-only", "--model", "mclp", "--bank", "农业", "--max-new", "5", "--candidates", str(path),
            "--out", str(tmp_path)]
    free = runner.invoke(app, args)
    assert free.exit_code == 0, free.output
    said = " ".join(free.output.split())
    assert "Candidate sites 候选点位: 30 from 候选网点.csv, instead of the 125 town points (30 with an opening cost)" in said
    assert "change nothing here: they count against a budget (--budget-wan)" in said
    opened = pd.read_csv(tmp_path / "mclp_sites.csv").query("kind == 'new'")
    assert set(opened["site_id"]) <= set(frame["点位编号"]) and 0 < len(opened) <= 5
    budgeted = runner.invoke(app, args + ["--budget-wan", "700"])
    assert budgeted.exit_code == 0, budgeted.output
    opened = pd.read_csv(tmp_path / "mclp_sites.csv").query("kind == 'new'")
    costs = frame.set_index("点位编号")["开设成本（万元）"]
    assert opened["open_cost_wan"].tolist() == costs[opened["site_id"]].tolist() and opened["open_cost_wan"].sum() <= 700
    worth = pd.read_csv(tmp_path / "mclp_candidates.csv").set_index("site_id")  # every candidate, most first
    assert len(worth) == 30 and worth["adds_covered_wan"].is_monotonic_decreasing
    assert set(worth.index[worth["opened"]]) == set(opened["site_id"])
    given = frame.set_index("点位编号")  # where each is, as given: the table reads back as the next round's candidates
    assert np.allclose(worth[["lon", "lat"]], given.loc[worth.index, ["经度", "纬度"]], atol=1e-6)
    assert len(no.read_candidates(tmp_path / "mclp_candidates.csv")) == 30
    ds = no.load_sample()  # what a candidate left closed would add: the plan with it against the plan
    sites = no.planning.candidate_sites(ds, "农业", no.read_candidates(path))
    model = no.MCLP.from_geodataframes(ds.towns, sites, 3.5, 106)
    plan = pd.read_csv(tmp_path / "mclp_sites.csv")["site_id"].tolist()
    best = worth.index[~worth["opened"]][0]
    adds = (model.objective_of(plan + [best]) - model.objective_of(plan)) / 1e4
    assert worth.loc[best, "adds_covered_wan"] == pytest.approx(adds, abs=1e-3)
    assert "Candidates left closed 未选候选点" in " ".join(budgeted.output.split())
    refused = runner.invoke(app, args + ["--budget-wan", "700", "--open-cost-wan", "300"])
    assert refused.exit_code == 2 and "every candidate site has its own opening cost" in " ".join(refused.output.split())


def test_a_budget_may_pay_for_fewer_new_branches_than_max_new(tmp_path: Path):
    """--max-new 5 with money for 3: three new branches (exactly 5 found no plan, or filled 5 with cheap ones)."""
    for model in ("mclp", "pmedian"):
        result = runner.invoke(app, ["optimize", "--tables-only",
                                     "--model", model, "--bank", "农业", "--max-new", "5", "--budget-wan",
                                     "1000", "--open-cost-wan", "300", "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        sites = pd.read_csv(tmp_path / f"{model}_sites.csv")
        assert (sites["kind"] == "new").sum() == 3 and (sites["kind"] == "existing").sum() == 101


def test_candidates_missing_some_costs_need_a_default(tmp_path: Path):
    path = tmp_path / "c.csv"
    other_banks_sites(path, 10, costs=lambda n: [250.0] * (n - 2) + [None, None])
    base = ["optimize", "--tables-only",
            "--bank", "农业", "--max-new", "2", "--budget-wan", "500", "--candidates", str(path),
            "--out", str(tmp_path)]
    refused = runner.invoke(app, base)
    assert refused.exit_code == 2
    assert "--budget-wan needs the cost of opening 2 candidate sites" in " ".join(refused.output.split())
    filled = runner.invoke(app, base + ["--open-cost-wan", "100"])
    assert filled.exit_code == 0, filled.output


def test_curve_and_joint_plan_take_candidates(tmp_path: Path):
    path = tmp_path / "c.xlsx"
    frame = other_banks_sites(tmp_path / "c.csv", 20)
    frame.to_excel(path, index=False)
    curve = runner.invoke(app, ["curve", "--tables-only", "--bank", "农业", "--up-to", "3", "--candidates", str(path),
                                "--out", str(tmp_path)])
    assert curve.exit_code == 0, curve.output
    named = pd.read_csv(tmp_path / "coverage_curve.csv").iloc[:, -1].dropna().astype(str)
    assert named.str.contains("旁").all()  # every new site on the curve is a candidate of the file
    cheap = [option for kind in ("light", "inclusive", "community") for option in ("--type-cost-wan", f"{kind}=5")]
    joint = runner.invoke(app, ["plan", "--tables-only",
                                "--p", "105", "--bank", "农业", "--budget-wan", "1000", "--candidates",
                                str(path), *cheap, "--out", str(tmp_path)])
    assert joint.exit_code == 0, joint.output
    decided = pd.read_csv(tmp_path / "plan_sites.csv").iloc[:, [0, 4]].set_axis(["site_id", "decision"], axis=1)
    opened = decided.loc[decided["decision"] == "open", "site_id"]
    assert set(opened) <= set(frame["点位编号"]) and len(opened) == 4  # branches cheaper than vehicles: 4 new
    refused = runner.invoke(app, ["plan", "--tables-only", "--candidates", str(path), "--out", str(tmp_path)])
    assert refused.exit_code == 2 and "add --p" in refused.output


def test_validate_knows_a_candidates_file_by_its_name(tmp_path: Path):
    path = tmp_path / "候选网点.csv"
    other_banks_sites(path, 5)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "(candidates): 5 rows" in result.output, result.output
    pd.DataFrame({"名称": ["远处"], "经度": ["x"], "纬度": [31.8]}).to_csv(path, index=False)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and "non-numeric" in result.output


def test_joint_plan_pays_a_candidates_own_cost_on_top_of_its_type(tmp_path: Path):
    ds = no.load_sample()
    frame = other_banks_sites(tmp_path / "c.csv", 20, costs=lambda n: [5000.0] * 10 + [200.0] * 5 + [None] * 5)
    sites = candidate_sites(ds, "农业", read_candidates(tmp_path / "c.csv", city=ds))
    type_cost = {"comprehensive": 300.0, "community": 5.0, "inclusive": 5.0, "light": 5.0}
    chosen, _, summary = plan_network(ds, sites, p=110, budget_wan=1000, open_cost_wan=type_cost)
    opened = chosen[chosen["decision"] == "open"].merge(frame, left_on="site_id", right_on="点位编号")
    assert len(opened) and not opened["site_id"].isin(frame["点位编号"].head(10)).any()  # 5000万 sites: too dear
    own = opened["开设成本（万元）"].fillna(0.0)
    assert np.allclose(opened["open_cost_wan"], own + opened["type"].map(type_cost))
    assert summary["spent_wan"] <= 1000 + 1e-6
    blind, _, _ = plan_network(ds, sites.drop(columns="open_cost_wan"), p=110, budget_wan=1000, open_cost_wan=type_cost)
    assert blind.loc[blind["decision"] == "open", "site_id"].isin(frame["点位编号"].head(10)).any()


def test_joint_plan_counts_candidates_costs_alone_when_types_cost_nothing(tmp_path: Path):
    path = tmp_path / "c.csv"
    other_banks_sites(path, 12, costs=lambda n: [40.0] * n)
    free = [option for kind in ("comprehensive", "community", "inclusive", "light")
            for option in ("--type-cost-wan", f"{kind}=0")]
    result = runner.invoke(app, ["plan", "--tables-only",
                                 "--p", "110", "--bank", "农业", "--budget-wan", "1000", "--candidates",
                                 str(path), *free, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "costs the site's own opening cost (every type's cost is 0)" in " ".join(result.output.split())
    decided = pd.read_csv(tmp_path / "plan_sites.csv")
    opened = decided[decided["decision 决策"] == "open"]
    assert len(opened) == 9 and (opened["open_cost_wan 开设费用(万元)"] == 40.0).all()  # 101 kept + 9 new at 40万元 each
    candidates = pd.read_csv(path)  # each new site where the candidates file puts it
    assert set(zip(opened["lon 经度"].round(6), opened["lat 纬度"].round(6))) <= set(
        zip(candidates.iloc[:, 2].round(6), candidates.iloc[:, 3].round(6)))


def test_candidates_sheet_of_the_city_workbook(tmp_path: Path):
    frame = other_banks_sites(tmp_path / "c.csv", 6)
    branches = no.load_sample().branches.drop(columns="geometry").head(40)  # names and points too: a rival sheet
    book = tmp_path / "规划数据.xlsx"
    with pd.ExcelWriter(book) as writer:
        branches.assign(经度=0.0, 纬度=0.0, 地址="某路").to_excel(writer, sheet_name="网点", index=False)
        frame.to_excel(writer, sheet_name="候选点位", index=False)
    result = runner.invoke(app, ["curve", "--tables-only", "--bank", "农业", "--up-to", "1", "--candidates", str(book),
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Candidate sites 候选点位: 6 from 规划数据.xlsx" in " ".join(result.output.split())


@pytest.mark.slow  # 8 s; by default optimize, curve and plan choose among candidates, report suggests towns
def test_report_suggests_new_branches_among_own_candidates(tmp_path: Path):
    """report --new-per-county --candidates: each county's suggestions are candidates of that county (by their
    own ids), matching suggest_new_sites among them; --candidates alone is refused."""
    from netopt.planning import suggest_new_sites

    frame = other_banks_sites(tmp_path / "候选点位.csv")
    result = runner.invoke(app, ["report", "--bank", "农业", "--new-per-county", "2", "--candidates",
                                 str(tmp_path / "候选点位.csv"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "Candidate sites 候选点位: 30 from 候选点位.csv" in " ".join(result.output.split())
    city = pd.read_excel(tmp_path / "r" / "city_summary.xlsx", "new sites 建议新设网点", engine="openpyxl")
    assert len(city) > 0 and set(city["site_id 网点/站点编号"]) <= set(frame["点位编号"])
    ds = no.load_sample().of_bank("农业")
    expected = suggest_new_sites(ds, {"core": 1.2, "county": 3.5}, 2, new_sites=read_candidates(
        tmp_path / "候选点位.csv", city=ds))
    assert city["site_id 网点/站点编号"].tolist() == expected["site_id"].tolist()
    refused = runner.invoke(app, ["report", "--candidates", str(tmp_path / "候选点位.csv"), "--out",
                                  str(tmp_path / "x")])
    assert refused.exit_code == 2 and "add --new-per-county N" in " ".join(refused.output.split())
    assert not (tmp_path / "x").exists()


def test_candidate_towns_without_coordinates_are_placed_at_the_towns(tmp_path: Path):
    """A planning team's list of towns to open in (名称, 所在乡镇, 开设成本) has no coordinates: it was refused
    ("missing coordinate column(s)"). Each site is placed at its town's point — the town it names, else its own
    name (三十岗 for 三十岗乡) —, a site with its own coordinates kept; a town the city lacks is named."""
    ds = no.load_sample()
    path = tmp_path / "候选乡镇.csv"
    path.write_text("名称,所在乡镇,开设成本（万元）,经度,纬度\n大杨候选点,大杨镇,300,,\n三十岗,,250,,\n"
                    "长江路网点,,400,117.25,31.86\n", encoding="utf-8")
    sites = read_candidates(path, city=ds)
    towns = ds.towns.set_index("name").geometry.representative_point()
    assert (sites.geometry.iloc[0].x, sites.geometry.iloc[1].x) == (towns["大杨镇"].x, towns["三十岗乡"].x)
    assert (sites.geometry.iloc[2].x, sites.geometry.iloc[2].y) == pytest.approx((117.25, 31.86))
    assert sites.attrs["placed"] == "2 candidate sites without coordinates placed at the points of the towns they name"
    assert sites["open_cost_wan"].tolist() == [300, 250, 400]
    path.write_text("名称,所在乡镇\n甲,不存在镇\n", encoding="utf-8")
    with pytest.raises(no.InputError, match=r"row 2, column '所在乡镇': no coordinates, and no town of the city named "
                                            r"so \('不存在镇'\)"):
        read_candidates(path, city=ds)
    with pytest.raises(no.InputError, match="missing coordinate column"):
        read_candidates(path)  # no city: no towns to place them at
