"""Phased openings 分期建设 (model.phases, optimize --phase): a plan's new sites opened in phases, each the best
given the phases before, checked against brute force; the final phase is the plan; what phasing costs."""
from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import netopt as no
from netopt.cli import app
from tests.pages import map_text

runner = CliRunner()


def _said(output: str) -> str:
    return " ".join(output.translate(str.maketrans("", "", "│╭╮╰╯─")).split())


def _score(kind: str, data: dict, sites) -> float:
    sites = np.asarray(sorted(sites), int)
    if kind == "mclp":
        return float(data["w"] @ data["A"][:, sites].any(axis=1))
    nearest = data["cost"][:, sites].min(axis=1)
    return float(data["w"] @ nearest) if kind == "pmedian" else float(nearest.max())


def _model(kind: str, data: dict, p: int, **rules):
    if kind == "mclp":
        return no.MCLP.from_coverage(data["A"], p, data["w"], **rules)
    if kind == "pmedian":
        return no.PMedian.from_cost_matrix(data["cost"], p, data["w"], **rules)
    return no.PCenter.from_cost_matrix(data["cost"], p, **rules)


def _best_next(kind: str, data: dict, open_now: set, pool: list, size: int) -> float:
    """Brute force: the best network of open_now and `size` more sites of `pool`."""
    values = [_score(kind, data, open_now | set(extra)) for extra in combinations(pool, size)]
    return max(values) if kind == "mclp" else min(values)


def _instance(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(6, 11)), int(rng.integers(6, 9))
    points, places = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (m, 2))
    cost = np.linalg.norm(points[:, None] - places[None], axis=2).round(1)
    return {"cost": cost, "A": cost <= rng.uniform(2.5, 4.5), "w": rng.integers(1, 20, n).astype(float), "m": m,
            "existing": np.sort(rng.choice(m, int(rng.integers(1, 3)), replace=False)), "rng": rng}


@pytest.mark.parametrize("kind", ["mclp", "pmedian", "pcenter"])
@pytest.mark.parametrize("seed", range(12))
def test_each_phase_is_the_best_next_step_of_the_plan(kind: str, seed: int):
    data = _instance(seed)
    existing, rng = data["existing"], data["rng"]
    total = int(rng.integers(2, min(5, data["m"] - len(existing)) + 1))
    counts = [int(rng.integers(1, total))] if total > 1 and rng.random() < 0.7 else [total]
    model = _model(kind, data, len(existing) + total, existing=existing)
    plan = model.solve()
    table = model.phases(counts, plan=plan)
    position = {label: j for j, label in enumerate(model.site_labels)}
    opened = sorted({position[s] for s in plan.selected} - set(existing.tolist()))
    assert sorted(position[s] for chosen in table["sites"] for s in chosen) == opened  # the plan, in full, by the end
    assert table["new"].tolist()[1:] == counts + ([total - sum(counts)] if total > sum(counts) else [])
    open_now = set(existing.tolist())
    assert table["objective"].iloc[0] == pytest.approx(_score(kind, data, open_now))
    for row in table.iloc[1:].itertuples():
        pool = sorted(set(opened) - open_now)
        assert row.objective == pytest.approx(_best_next(kind, data, open_now, pool, row.new)), row
        best = _best_next(kind, data, set(existing.tolist()), sorted(set(range(data["m"])) - set(existing.tolist())),
                          row.new_so_far)
        assert row.best_at_once == pytest.approx(best) and row.behind_best >= 0
        open_now |= {position[s] for s in row.sites}
        assert row.objective == pytest.approx(_score(kind, data, open_now))
    assert table["objective"].iloc[-1] == pytest.approx(plan.objective)
    gains = table["objective"].diff() * (1 if kind == "mclp" else -1)
    assert np.allclose(table["gain"].iloc[1:], gains.iloc[1:])


def test_phasing_a_p_center_plan_can_cost_a_phase_against_opening_at_once():
    """Three sites in a row: the best single site is the middle one, but the best pair are the two ends."""
    cost = np.array([[0, 5, 10], [10, 5, 0], [3, 4, 3]], float)
    model = no.PCenter.from_cost_matrix(cost, 2)
    table = model.phases([1])
    assert table["sites"].iloc[1] in (["s0"], ["s2"]) and table["objective"].iloc[1] == 10
    assert table["best_at_once"].iloc[1] == 5 and table["behind_best"].iloc[1] == 5  # the middle one, alone
    assert table["objective"].iloc[2] == table["best_at_once"].iloc[2] == 3


def test_phases_refuse_what_they_cannot_phase():
    A = np.eye(4, dtype=bool)
    model = no.MCLP.from_coverage(A, 3, existing=[0])
    with pytest.raises(no.InputError, match=r"phases of 2 \+ 1 = 3 new sites, but the plan opens 2"):
        model.phases([2, 1])
    idle = no.MCLP.from_coverage(np.column_stack([A, np.zeros(4, bool)]), 5, existing=[0, 1, 2, 3], exactly_p=False)
    with pytest.raises(no.InputError, match=r"a phase of 1 new sites, but the plan opens none .*nothing to phase"):
        idle.phases(1)
    with pytest.raises(no.InputError, match="a phase's number of new sites must be a whole number of at least 1"):
        model.phases([0])
    moving = no.MCLP.from_coverage(A, 3, existing=[0, 1], closable=[1])
    with pytest.raises(no.InputError, match="a model whose existing sites may close is not phased"):
        moving.phases(1)
    closing = no.MCLP.from_coverage(A, 3, existing=[0, 1], closable=[1], forbidden=[1])  # closes whatever the plan
    phased = closing.phases(1)  # phase 0: today's network less the closed site
    assert phased["objective"].iloc[0] == 1 and phased["new"].tolist() == [0, 1, 1]
    with pytest.raises(no.InputError, match="phases are for models with a number of sites p"):
        no.LSCP.from_coverage(A).phases(1)


def test_optimize_opens_the_plan_in_phases(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--model", "pcenter", "--bank", "农业", "--max-new", "4", "--phase", "1",
                                 "--phase", "1", "--phase", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    said = _said(result.output)
    assert "Phases 分期建设" in said and "against the best 3 new branches opened at once" in said
    table = pd.read_csv(tmp_path / "pcenter_phases.csv")
    assert table["new 新设"].tolist() == [0, 1, 1, 1, 1]
    plan = pd.read_csv(tmp_path / "pcenter_sites.csv")
    new = sorted(plan.loc[plan["site_id"].str.startswith("new:"), "site_id"])
    assert sorted(table["site_ids 网点编号"].dropna()) == new
    assert table["farthest town 最远乡镇（km）"].iloc[-1] == pytest.approx(table["best at once 一次建成最优（km）"].iloc[-1])
    book = pd.read_excel(tmp_path / "pcenter_plan.xlsx", sheet_name=None, engine="openpyxl")
    assert "phases 分期建设" in book
    page = map_text(tmp_path / "pcenter_map.html")
    assert "phase 1 第1期" in page and "phase 4 第4期" in page


@pytest.mark.parametrize("options, message", [
    (["--relocate", "2"], "--phase opens new branches beside today's"),
    (["--model", "lscp"], "--phase is for --model mclp, pmedian, pcenter, share"),
    (["--max-new", "2", "--phase", "2"], "phases of 2 + 2 = 4 new sites, but the plan opens 2"),
])
def test_optimize_refuses_phases_it_cannot_give(tmp_path: Path, options: list, message: str):
    base = ["optimize", "--bank", "农业", "--phase", "2", "--out", str(tmp_path / "o")]
    if "--relocate" not in options and "--max-new" not in options:
        base += ["--max-new", "3"]
    result = runner.invoke(app, base + options)
    assert result.exit_code == 2 and message in _said(result.output), result.output
    assert not any((tmp_path / "o").glob("*")) and "Traceback" not in result.output


def test_phases_after_closures_start_from_todays_network_less_them(tmp_path: Path):
    result = runner.invoke(app, ["optimize", "--tables-only",
                                 "--bank", "农业", "--close", "长丰杨庙", "--max-new", "2", "--phase", "1",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "today less 1 closed" in _said(result.output)  # phase 0: the network once 长丰杨庙 closes
    table = pd.read_csv(tmp_path / "mclp_phases.csv")
    today = pd.read_csv(tmp_path / "mclp_sites.csv")
    assert table["new 新设"].tolist() == [0, 1, 1] and len(today) == 100 + 2  # 101 less the closed, 2 new
