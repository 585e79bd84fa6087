"""Meeting slides 汇报材料 of a diagnosis, a plan, a curve, plans compared, a type plan or sites — and what they say."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from netopt._schema import MOVE_WORDS, VALUE_WORDS, region_words
from netopt._slides import (MUTED_COLOUR, TITLE_COLOUR, Deck, editable_chart, fitting_points, map_slide, new_deck,
                            save, table_slides, text_box, text_slides, title_slide, titled_slide)
from netopt.competition import RivalCoverage
from netopt.coverage import Coverage
from netopt.planning import counted_by_distance, suggested_gain_wan, suggested_title
from netopt.report import DECK_TITLE, cell_text, column_label, filled_columns

if TYPE_CHECKING:
    from netopt.access import Accessibility

TOWNS_SHOWN, COUNTY_TOWNS_SHOWN = 10, 4  # the city's most underserved towns on their slide; a county's on its own

REGION_SLIDE_COLUMNS = ["region_type", "counties", "population_wan", "branches", "coverage_rate_pct",
                        "coverage_by_distance_pct", "residents_per_branch_wan", "branches_per_100km2",
                        "area_radius_km"]  # the document's figures (counted by distance: a diagnosis with full_km)
COUNTY_SLIDE_COLUMNS = ["county", "region_type", "population_wan", "gdp_yi", "branches", "coverage_rate_pct",
                        "coverage_by_distance_pct", "residents_per_branch_wan", "branches_per_100km2"]
TOWN_SLIDE_COLUMNS = ["name", "county", "population_wan", "unserved_wan", "unserved_share_pct", "nearest_branch_km",
                      "reason"]
SITE_SLIDE_COLUMNS = ["county", "rank", "name", "adds_covered_wan", "reaches"]
ACCESS_REGION_COLUMNS = ["region_type", "population_wan", "branches", "access_per_wan", "access_index", "gini",
                         "low_access_pct", "no_access_wan"]  # accessibility 可达性, by region and by county
ACCESS_COUNTY_COLUMNS = ["county", *ACCESS_REGION_COLUMNS[1:]]
ACCESS_TITLE = "可达性 Accessibility (2SFCA)"
RIVAL_SLIDE_COLUMNS = ["region_type", "branches_ours", "branches_all", "our_branch_share_pct", "coverage_ours_pct",
                       "coverage_all_pct", "behind_pp"]
DIFFERING_TOWNS_SHOWN, CHANGES_SHOWN = 15, 48  # of compare's towns and changes; every one is in compare.xlsx
PLAN_CHANGES_SHOWN = 12  # the changes listed beside a plan's map
PILOT_SLIDE_COLUMNS = ["name", "county", "type_zh", "pilot_region", "represents", "score", "reasons"]
MOVE_SLIDE_COLUMNS = ["action", "from_name", "from_county", "to_name", "to_county", "distance_km", "adds_covered_wan",
                      "closing_uncovers_wan"]
STATUS_WORDS = {"optimal": "最优 optimal", "feasible": "可行，未证明最优 feasible, not proven optimal"}
UNSHOWN_ITEMS = ("command", "seconds")  # a plan's summary items the workbook keeps and the slides leave out
SUMMARY_LABELS = {"item": "项目", "value": "数值"}
PLAN_SUMMARY_TITLE, PLAN_MAP_TITLE = "方案概要 The plan", "方案地图 The plan on the map"
PLAN_CHANGES_TITLE = "网点调整 What the plan opens, closes and moves"
PLAN_COVERAGE_TITLE = "覆盖率变化 Coverage by region, today → plan"
PLAN_TOWNS_TITLE = "覆盖变化乡镇 Towns gaining or losing coverage most"
TAKEN_ON_TITLE = "客户承接 Where the closed branches' residents go (万人)"
ROLLOUT_TITLE = "网点类型、试点与培训 Branch types, pilots and training hubs"
SCORING_TITLE = "评分依据 How the types are scored"
TYPE_NOTES_TITLE = "类型说明 Notes on the types"
SCORING_COLUMNS = ["dimension", "indicator_name", "weight_comprehensive", "weight_community", "weight_inclusive",
                   "weight_light", "data"]
COMPARE_TITLE, SIDE_BY_SIDE_TITLE = "方案比选 Plans compared", "方案对比 The plans side by side"
DIFFERING_TITLE, COMPARE_CHANGES_TITLE = "差异乡镇 Towns where the plans differ", "方案变化 What each plan opens and closes"
SITES_MAP_TITLE, SITES_RANKED_TITLE = "候选点位 The sites on the map", "选址评估 The sites ranked"
CURVE_CHART_TITLE, CURVE_POINTS_TITLE = "曲线 The curve", "曲线各点 Each point of the curve"
ROLLOUT_MAP_TITLE = "网点类型与试点 Types, pilots and hubs on the map"
COVERAGE_CHANGE_COLUMNS = ["region_type", "coverage_rate_pct_before", "coverage_rate_pct_after", "branches_before",
                           "branches_after", "residents_per_branch_wan_before", "residents_per_branch_wan_after"]
TOWN_CHANGE_COLUMNS = ["name", "county", "residents_wan", "covered_wan_before", "covered_wan_after", "change_wan"]
TAKER_COLUMNS = ["scenario", "closed_name", "taker_name", "residents_wan", "distance_km"]  # compare's: a scenario
SITE_EVALUATION_COLUMNS = ["rank", "name", "county", "residents_within_wan", "adds_covered_wan", "adds_counted_wan",
                           "overlap_pct",
                           "nearest_branch_km", "nearest_branch_min", "branches_within", "rival_branches_within",
                           "won_wan", "access_gini_change"]


def meeting_deck(cov: Coverage, path: str | Path, title: str = DECK_TITLE,
                 city_map: bytes | None = None, county_maps: dict[str, bytes] | None = None,
                 new_sites: pd.DataFrame | None = None, rivals: RivalCoverage | None = None,
                 failures: dict[str, str] | None = None, template: str | Path | None = None,
                 access: Accessibility | None = None, lorenz: bytes | None = None,
                 access_map: bytes | None = None) -> Path:
    """The diagnosis `cov` as slides for the planning meeting (.pptx, 16:9; PowerPoint and WPS open it): the key
    figures and what stands out, the city's map (`city_map`, a PNG), coverage by region and by county, the most
    underserved towns, with `new_sites` (planning.suggest_new_sites) where new branches would cover most, with
    `rivals` (competition.rival_coverage) ours beside every bank's, a slide per county (its map from
    `county_maps`, PNGs by county name, where given), any county whose report `failures` lists, and how coverage
    was measured; with `access` (netopt.accessibility's result) its tables by region and county, its map
    (`access_map`, maps.static_map's PNG of it) beside each region's access, and the Lorenz curve (`lorenz`,
    maps.lorenz_chart's PNG) beside how evenly it is spread. Text stays text, so Chinese shows in
    PowerPoint whatever fonts this machine has; in the bank's `template` (.pptx or .potx: its size, layouts, fonts
    and logo) where given."""
    deck = new_deck(template)
    _diagnosis_cover(deck, cov, title)
    _key_figures_slide(deck, cov, new_sites, failures or {})
    if city_map is not None:
        map_slide(deck, "城市网点覆盖 The city's coverage", city_map, _region_lines(cov))
    table_slides(deck, "分区域 Coverage by region", shown(cov.by_region, REGION_SLIDE_COLUMNS))
    table_slides(deck, "分区县 Coverage by county", shown(cov.by_county, COUNTY_SLIDE_COLUMNS))
    _county_chart_slide(deck, cov.by_county)
    if access is not None:
        _access_slides(deck, access, lorenz, access_map)
    table_slides(deck, f"服务不足乡镇 The {TOWNS_SHOWN} most underserved towns",
                 shown(towns_in_wan(cov.underserved_towns).head(TOWNS_SHOWN), TOWN_SLIDE_COLUMNS))
    if new_sites is not None and len(new_sites):
        table_slides(deck, suggested_title(new_sites), shown(new_sites, SITE_SLIDE_COLUMNS))
    if rivals is not None:
        table_slides(deck, "我行与全部银行 Ours against every bank", shown(rivals.by_region, RIVAL_SLIDE_COLUMNS))
    for county in cov.by_county["county"]:
        _county_slide(deck, cov, county, (county_maps or {}).get(county), access)
    if failures:
        text_slides(deck, "未完成区县 Counties whose report failed", [f"{c}: {why}" for c, why in failures.items()])
    text_slides(deck, "说明 How coverage was measured", [*cov.notes, cov.attribution])
    return save(deck, path)


def comparison_deck(path: str | Path, scenarios: pd.DataFrame, towns: pd.DataFrame, changes: pd.DataFrame,
                    lines: list[str] | None = None, maps: dict[str, bytes] | None = None,
                    template: str | Path | None = None, takers: pd.DataFrame | None = None) -> Path:
    """Plans compared 方案比选 (planning.compare_plans' `scenarios` and `towns`, network_changes' `changes`) as slides
    for the meeting (.pptx): the plans side by side, measure by measure, as charts PowerPoint can edit (coverage
    overall and by region, the towns left uncovered), each plan on its map (`maps`, PNGs by plan name) beside
    what it opens and closes, the towns where they differ most, every change listed and, where plans close
    branches, where their residents go (`takers`: planning.closure_takers' rows, a scenario column first);
    `lines` under the title (the data, the radius). In the bank's `template` where given."""
    deck = new_deck(template)
    title_slide(deck, COMPARE_TITLE, lines or [])
    table_slides(deck, SIDE_BY_SIDE_TITLE, measures_by_plan(scenarios), figures_from=1)
    if "coverage_pct" in scenarios:
        _plans_chart_slide(deck, scenarios)
    for plan, picture in (maps or {}).items():
        map_slide(deck, f"{plan} 方案 plan", picture, compared_plan_lines(scenarios, changes, plan), 14)
    differing, labels = differing_towns(towns)
    table_slides(deck, DIFFERING_TITLE + cut_note(len(towns), DIFFERING_TOWNS_SHOWN, "compare.xlsx"),
                 differing.head(DIFFERING_TOWNS_SHOWN), labels)
    listed = listed_changes(changes)
    table_slides(deck, COMPARE_CHANGES_TITLE + cut_note(len(listed), CHANGES_SHOWN, "compare.xlsx"),
                 listed.head(CHANGES_SHOWN))
    for title, table in taken_on(takers, "compare.xlsx").items():
        table_slides(deck, title, table)
    return save(deck, path)


def differing_towns(towns: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """compare's towns as its slides and report list them — name, county, residents and the residents each plan
    brings within reach (counted by distance where compare counts them so) —, with the Chinese header of each
    plan's column."""
    from netopt.planning import PLAN_COLUMNS, compared_by

    by = compared_by(towns)
    plans = {c: PLAN_COLUMNS[by] for c in towns.columns if c.startswith(by)}
    return towns[[c for c in ("name", "county", "residents_wan", *plans) if c in towns]], plans


def listed_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """compare's changes as its slides and report list them: plan, change, name, county."""
    return changes[[c for c in ("scenario", "change", "name", "county") if c in changes]]


def rollout_deck(path: str | Path, sheets: dict[str, pd.DataFrame], picture: bytes | None = None,
                 lines: list[str] | None = None,
                 title: str = ROLLOUT_TITLE,
                 template: str | Path | None = None) -> Path:
    """A type plan (netopt plan's `sheets`: types — assign_branch_types —, pilots, batches, hubs and mix) as
    slides for the meeting (.pptx): the type mix before and after (and why a type has no branch: the `notes`
    sheet, where there is one), the plan on its map (`picture`, a PNG), the types by county, the pilots and why,
    the rollout batches and the training hubs; `lines` under the title. In the bank's `template` where given."""
    deck = new_deck(template)
    title_slide(deck, title, lines or [])
    (mix_title, mix), *tables = rollout_tables(sheets).items()
    table_slides(deck, mix_title, mix)
    if "notes" in sheets:  # why a type has no branch, and how to have some
        text_slides(deck, TYPE_NOTES_TITLE, sheets["notes"]["note"].tolist())
    if picture is not None:
        map_slide(deck, ROLLOUT_MAP_TITLE, picture, rollout_lines(sheets))
    for table_title, table in tables:
        table_slides(deck, table_title, table)
    return save(deck, path)


def rollout_tables(sheets: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A type plan's tables by title, as its slides and written report show them: the type mix before and after,
    the types by county, the pilots and why, the rollout batches, the training hubs (where there are any) and
    how the types were scored (where said: scoring_basis, its data given or missing without what to add)."""
    mix = sheets["mix"]
    shares = {c: (100 * mix[c]).map("{:.0f}%".format) for c in ("before_share", "after_share")}
    named = [VALUE_WORDS["type"].get(t, t) for t in mix["type"]]  # 综合型 comprehensive, 未知 unknown
    pilots = sheets["pilots"]
    tables = {"类型结构 Type mix": mix.assign(type=named, **shares),
              "分区县类型 Types by county": type_counts_by(sheets["types"], "county"),
              "试点网点 Pilot branches": shown(pilots.assign(pilot_region=pilots["pilot_region"].map(region_words)),
                                           PILOT_SLIDE_COLUMNS),
              "推广批次 Rollout batches": _batches_table(sheets["batches"])}
    if len(sheets["hubs"]):
        tables["培训中心 Training hubs"] = _hubs_table(sheets["hubs"])
    if "scoring" in sheets:
        tables[SCORING_TITLE] = scoring_table(sheets["scoring"])
    return tables


def scoring_table(scoring: pd.DataFrame) -> pd.DataFrame:
    """How the types were scored (types.scoring_basis) as slides and written reports show it: each term's
    dimension, name, weight for each type and whether the data gave it (not what to add: the workbook says)."""
    return shown(scoring.assign(data=scoring["data"].str.split(" — ").str[0]), SCORING_COLUMNS)


def rollout_lines(sheets: dict[str, pd.DataFrame]) -> list[str]:
    """A type plan in lines, for beside its map: the branches of each type, the pilots and the training hubs."""
    from netopt.models.types import TYPE_ZH

    counts = sheets["types"]["type"].value_counts()
    return ([f"{zh} {kind}: {counts.get(kind, 0):,}" for kind, zh in TYPE_ZH.items()]
            + ["", f"试点 pilots: {len(sheets['pilots']):,}", f"培训中心 hubs: {sheets['hubs']['hub_id'].nunique():,}"])


def type_counts_by(branches: pd.DataFrame, key: str) -> pd.DataFrame:
    """How many branches per `key` (county, batch; in the order they come) and of each type the plan gives, with
    the conversion cost where any is given."""
    from netopt.models.types import TYPES

    groups = branches.groupby(key, sort=False)
    table = pd.DataFrame({f"type_{kind}": groups["type"].apply(lambda t, kind=kind: int((t == kind).sum()))
                          for kind in TYPES})
    table.insert(0, "branches", groups.size())
    if "cost_wan" in branches and branches["cost_wan"].fillna(0).ne(0).any():
        table["cost_wan"] = groups["cost_wan"].sum()
    return table.reset_index().pipe(lambda t: t.loc[:, (t != 0).any() | ~t.columns.str.startswith("type_")])


def _batches_table(batches: pd.DataFrame) -> pd.DataFrame:
    """The rollout batches in order (第1批 batch 1 …), the changes past them (batch 0) last as not scheduled."""
    in_order = batches.sort_values("batch", key=lambda b: b.replace(0, b.max() + 1), kind="stable")
    table = type_counts_by(in_order, "batch")
    return table.assign(batch=[f"第{b}批 batch {b}" if b else "未排期 not scheduled" for b in table["batch"]])


def _hubs_table(hubs: pd.DataFrame) -> pd.DataFrame:
    """Each training hub: where, the community branches it coaches, their coaching days and the longest trip."""
    by_hub = hubs.groupby("hub_id", sort=False)  # by id: two hubs may share a name (合肥钟楼支行（汇总）)
    return by_hub.agg(hub_name=("hub_name", "first"), hub_county=("hub_county", "first"),
                      branches=("branch_id", "size"), coaching_days=("coaching_days", "sum"),
                      longest_minutes=("minutes", "max")).reset_index()


def compared_plan_lines(scenarios: pd.DataFrame, changes: pd.DataFrame, plan: str) -> list[str]:
    """One plan of those compared in lines, for beside its map: its figures and the branches it opens and closes
    (the first PLAN_CHANGES_SHOWN)."""
    measured, changes = scenarios[scenarios["scenario"] == plan], changes[changes["scenario"] == plan]
    row = measured.iloc[0] if len(measured) else pd.Series(dtype=object)
    lines = [f"{label} {cell_text(column, row[column])}" for column, label in
             (("branches", "网点 branches"), ("new", "新设 new"), ("closed", "撤并 closed"),
              ("covered_wan", "覆盖人口 residents within reach (万人)"), ("coverage_pct", "覆盖率 coverage (%)"))
             if column in row] + [""]
    lines += [f"• {change['change']}: {change['name']}（{change['county']}）"
              for _, change in changes.head(PLAN_CHANGES_SHOWN).iterrows()]
    if len(changes) > PLAN_CHANGES_SHOWN:
        lines.append(f"… 共 {len(changes):,} all in compare.xlsx")
    return lines


def cut_note(rows: int, shown: int, workbook: str) -> str:
    """A table's title's note that it shows only its first rows, all of them in `workbook`."""
    return f" (前 {shown} / {rows:,}; 全部见 {workbook} the first {shown}, all in the workbook)" if rows > shown else ""


def taken_on(takers: pd.DataFrame | None, workbook: str) -> dict[str, pd.DataFrame]:
    """Where a plan closes branches, where each one's residents go (planning.closure_takers; the first
    DIFFERING_TOWNS_SHOWN rows) as an extra table of the plan's slides and report, by its title; none where none
    closes (or none given)."""
    if takers is None or takers.empty:
        return {}
    title = TAKEN_ON_TITLE + cut_note(len(takers), DIFFERING_TOWNS_SHOWN, workbook)
    return {title: shown(takers, TAKER_COLUMNS).head(DIFFERING_TOWNS_SHOWN)}


def plan_deck(path: str | Path, summary: list[tuple[str, object]], picture: bytes | None, moves: pd.DataFrame,
              coverage: pd.DataFrame, towns_changed: pd.DataFrame, extra: dict[str, pd.DataFrame] | None = None,
              workbook: str = "the plan's workbook", template: str | Path | None = None) -> Path:
    """A location plan (netopt optimize's or plan --p's) as slides for the meeting (.pptx): its `summary` (item,
    value; the first, "plan 方案", its title), its map (`picture`, a PNG) beside coverage today → plan by region
    (`coverage`: before/after columns), the branches it opens, closes and moves (`moves`: relocation_moves'),
    coverage by region, the towns gaining or losing coverage most (`towns_changed`) and the `extra` tables by
    title; a long table shows its first rows, the title naming the `workbook` holding all. In the bank's
    `template` where given."""
    parts = plan_parts(summary, moves, coverage, towns_changed)
    deck = new_deck(template)
    title_slide(deck, parts.title, [])
    table_slides(deck, PLAN_SUMMARY_TITLE, parts.summary, SUMMARY_LABELS, figures_from=2)
    if picture is not None:
        map_slide(deck, PLAN_MAP_TITLE, picture, ["覆盖率 coverage, today → plan", *parts.regions])
    table_slides(deck, PLAN_CHANGES_TITLE + cut_note(len(parts.changes), CHANGES_SHOWN, workbook),
                 parts.changes.head(CHANGES_SHOWN))
    table_slides(deck, PLAN_COVERAGE_TITLE, parts.coverage)
    table_slides(deck, PLAN_TOWNS_TITLE + cut_note(len(parts.towns), DIFFERING_TOWNS_SHOWN, workbook),
                 parts.towns.head(DIFFERING_TOWNS_SHOWN))
    for title, table in (extra or {}).items():
        table_slides(deck, title, table)
    return save(deck, path)


@dataclass
class PlanParts:
    """What a location plan's slides and written report say: its title, its summary (item, value), coverage
    today → plan by region (a line each, and as a table), what it opens, closes and moves, and the towns whose
    coverage changes, the most changed first."""
    title: str
    summary: pd.DataFrame
    regions: list[str]
    coverage: pd.DataFrame
    changes: pd.DataFrame
    towns: pd.DataFrame


def plan_parts(summary: list[tuple[str, object]], moves: pd.DataFrame, coverage: pd.DataFrame,
               towns_changed: pd.DataFrame) -> PlanParts:
    """A location plan's parts (plan_deck's arguments): its summary without the items only the workbook keeps,
    statuses in words; the first item its title."""
    said = [(str(item), STATUS_WORDS.get(value, value) if str(item).startswith("status") else value)
            for item, value in summary if not str(item).startswith(UNSHOWN_ITEMS)]
    regions = [f"{region_words(row.region_type)}: {_percent(row.coverage_rate_pct_before)} → "
               f"{_percent(row.coverage_rate_pct_after)}" for row in coverage.itertuples()]
    changes = shown(moves.assign(action=moves["action"].map(MOVE_WORDS).fillna(moves["action"])), MOVE_SLIDE_COLUMNS)
    ordered = towns_changed.reindex(towns_changed["change_wan"].abs().sort_values(ascending=False).index)
    return PlanParts(str(said[0][1]) if said else "方案 Plan", pd.DataFrame(said[1:], columns=["item", "value"]),
                     regions, shown(coverage, COVERAGE_CHANGE_COLUMNS), changes, shown(ordered, TOWN_CHANGE_COLUMNS))


def site_evaluation_deck(path: str | Path, sites: pd.DataFrame, title: str, lines: list[str],
                         picture: bytes | None = None, labels: dict[str, str] | None = None,
                         template: str | Path | None = None) -> Path:
    """Candidate sites evaluated 选址评估 (siting.evaluate_sites' table, best first) as slides for the meeting
    (.pptx): `lines` under the `title`, the sites on their map (`picture`, a PNG) beside the best five, and the
    ranking — the first CHANGES_SHOWN, the title naming site_evaluation.xlsx where there are more; headers in
    Chinese from `labels` (else report.HEADERS_ZH). In the bank's `template` where given."""
    deck = new_deck(template)
    title_slide(deck, title, lines)
    if picture is not None:
        map_slide(deck, SITES_MAP_TITLE, picture, best_site_lines(sites), 14)
    table_slides(deck, SITES_RANKED_TITLE + cut_note(len(sites), CHANGES_SHOWN, "site_evaluation.xlsx"),
                 shown(sites, SITE_EVALUATION_COLUMNS).head(CHANGES_SHOWN), labels)
    return save(deck, path)


def summary_deck(path: str | Path, title: str, lines: list[str], pictures: dict[str, tuple[bytes, list[str]]],
                 tables: dict[str, pd.DataFrame], labels: dict[str, str] | None = None,
                 template: str | Path | None = None) -> Path:
    """A run's summary as slides for the meeting (.pptx) — a batch's over its units: `lines` under the `title`,
    each picture (PNG) by its title with its lines beside it, then each table by its title (headers in Chinese
    from `labels`). In the bank's `template` where given."""
    deck = new_deck(template)
    title_slide(deck, title, lines)
    for caption, (png, beside) in pictures.items():
        map_slide(deck, caption, png, beside, 14)
    for caption, table in tables.items():
        table_slides(deck, caption, table, labels)
    return save(deck, path)


def best_site_lines(sites: pd.DataFrame) -> list[str]:
    """The best five sites evaluated, a line each: what each adds and how much it overlaps today's branches."""
    counted = "adds_counted_wan" in sites
    return [f"{row.rank}. {row.name}：新增覆盖 adds {row.adds_covered_wan:,.2f} 万人"
            + (f"（按距离折算 counted by distance {row.adds_counted_wan:,.2f}）" if counted else "")
            + f", 重叠 overlap {_percent(row.overlap_pct)}" for row in sites.head(5).itertuples()]


def curve_deck(path: str | Path, title: str, curve: pd.DataFrame, points: pd.DataFrame, kept: int = 0,
               lines: list[str] | None = None, template: str | Path | None = None) -> Path:
    """A curve 曲线 (`curve`: MCLP.curve's or moves_curve's table, MarketShare's too — residents covered or won for
    each number of new branches beyond the `kept` ones, or of moves) as slides for the meeting (.pptx): `lines`
    under the `title`, the curve and each step's gain as charts PowerPoint can edit, then its `points`, a row each
    as the console prints them. In the bank's `template` where given."""
    from netopt.maps import curve_points

    new, solved, won = curve_points(curve, kept, "curve_deck")
    deck = new_deck(template)
    title_slide(deck, title, lines or [])
    planned = solved["share_pct" if won else "covered_pct"].notna().to_numpy()  # a point may have no plan in time
    if planned.any():
        _curve_charts(deck, new[planned], solved[planned], won)
    table_slides(deck, CURVE_POINTS_TITLE, points)
    return save(deck, path)


def _curve_charts(deck: Deck, steps: np.ndarray, points: pd.DataFrame, won: bool) -> None:
    """A curve's points with a plan as charts PowerPoint can edit: residents covered (or market share won, `won`)
    at each step, and beside it what each step gains (万人) where one does."""
    slide = titled_slide(deck, CURVE_CHART_TITLE)
    left, top, width, height = deck.page.body
    labels = [str(step) for step in steps]
    axis = "迁址数 branches moved" if "moves" in points else "新增网点数 new branches"
    share = "市场份额(%) market share" if won else "覆盖率(%) residents covered"
    stepped = points["gain"].notna().to_numpy()  # the first point gains nothing: it has no step before it
    editable_chart(slide, (left, top, width * (0.6 if stepped.any() else 1), height), share, labels,
                   {share: points["share_pct" if won else "covered_pct"].round(1).tolist()}, kind="line", axis=axis)
    if stepped.any():
        editable_chart(slide, (left + width * 0.62, top, width * 0.38, height), "边际增量(万人) gain per step",
                       [label for label, gained in zip(labels, stepped) if gained],
                       {"边际增量(万人) gain per step": (points["gain"][stepped] / 1e4).round(2).tolist()}, 2, axis=axis)


def measures_by_plan(scenarios: pd.DataFrame) -> pd.DataFrame:
    """compare's scenarios turned for a slide: a row per measure (Chinese and English), a column per plan."""
    columns = [c for c in scenarios.columns if c != "scenario"]
    table = pd.DataFrame({"measure": [column_label(c) for c in columns]})
    for _, plan in scenarios.iterrows():
        table[str(plan["scenario"])] = [cell_text(c, plan[c]) for c in columns]
    return table


def _diagnosis_cover(deck: Deck, cov: Coverage, title: str) -> None:
    """The diagnosis deck's first slide: its title, the counts measured and how coverage was measured."""
    title_slide(deck, title, [counts_line(cov), settings_line(cov)])


def counts_line(cov: Coverage) -> str:
    """What the diagnosis measured, in a line: counties, towns, branches and residents."""
    people = float(cov.by_region["population"].sum())
    towns = cov.towns["town_id"].nunique() if "town_id" in cov.towns else len(cov.towns)
    return (f"{len(cov.by_county):,} 个区县 counties · {towns:,} 乡镇 towns · {len(cov.branches):,} 网点 branches · "
            f"{people / 1e4:,.1f} 万人 residents")


def settings_line(cov: Coverage) -> str:
    """How coverage was measured, as the console says it, in the deck's words."""
    said = cov.settings.describe()
    return f"覆盖口径 {said[:1].upper()}{said[1:]}"


def _key_figures_slide(deck: Deck, cov: Coverage, new_sites: pd.DataFrame | None, failures: dict[str, str]) -> None:
    """The headline figures (up to eight) in boxes, then what stands out: the least covered county, the most
    underserved town, the core − county gap, and what the suggested new branches bring."""
    slide = titled_slide(deck, "要点 Key figures")
    figures = key_figures(cov)[:8]
    body_left, body_top, body_width, body_height = deck.page.body
    width = body_width / 4
    for k, (label, value) in enumerate(figures):
        left, top = body_left + (k % 4) * width, body_top + 0.1 + (k // 4) * 1.6
        text_box(slide, [value], (left, top, width - 0.15, 0.8), fitting_points(value, width - 0.35, 30, 16),
                 bold=True, colour=TITLE_COLOUR)
        text_box(slide, [label], (left, top + 0.8, width - 0.15, 0.5), 13, colour=MUTED_COLOUR)
    text_box(slide, [f"• {line}" for line in findings(cov, new_sites, failures)],
             (body_left, body_top + 3.5, body_width, body_height - 3.5), 16)


def _access_slides(deck: Deck, access: Accessibility, lorenz: bytes | None, access_map: bytes | None) -> None:
    """Accessibility by region and by county, its map beside each region's figures, then the Lorenz curve beside
    the equity figures."""
    table_slides(deck, f"{ACCESS_TITLE} — 分区域 by region", shown(access.by_region, ACCESS_REGION_COLUMNS))
    table_slides(deck, f"{ACCESS_TITLE} — 分区县 by county", shown(access.by_county, ACCESS_COUNTY_COLUMNS))
    if access_map is not None:
        map_slide(deck, ACCESS_MAP_SLIDE_TITLE, access_map, access_region_lines(access))
    if lorenz is not None:
        map_slide(deck, "可达性的均衡 How evenly access is spread", lorenz, access_lines(access))


ACCESS_MAP_SLIDE_TITLE = "可达性分布 Where access is low"


def access_region_lines(access: Accessibility) -> list[str]:
    """Each region type's access, against the city's, and its residents with low and with no access, for beside
    the map of access."""
    lines = []
    for row in access.by_region.itertuples():
        lines += [region_words(row.region_type), f"可达性 access {_decimals(row.access_per_wan, 3)} 网点/万人",
                  f"指数 index {_decimals(row.access_index, 2)} (全市 city = 1)",
                  f"低可达性 low access {_percent(row.low_access_pct)}",
                  f"无可达网点 none within reach {row.no_access_wan:,.1f} 万人", ""]
    return lines


def access_lines(access: Accessibility) -> list[str]:
    """Accessibility in a few lines: the city's access, its Gini, the residents with low and with no access, the
    towns of least access and how it was measured."""
    city = access.city
    least = access.least_access(3)
    return [f"全市可达性 access {city['access_per_wan']:.3f} 网点/万人 branches per 万人 within reach",
            f"基尼系数 Gini {_decimals(city['gini'], 3)} (0 均等 even, 1 集中 concentrated)",
            f"低可达性 low access {_decimals(city['low_access_wan'], 1)} 万人 ({_percent(city['low_access_pct'])}): "
            "below half the city's", f"无可达网点 none within reach {city['no_access_wan']:,.1f} 万人",
            "最低 least: " + "、".join(f"{row.name} ({row.county})" for row in least.itertuples()),
            access.settings.describe()]


def _county_chart_slide(deck: Deck, by_county: pd.DataFrame) -> None:
    """Coverage by county as a bar chart PowerPoint can edit (its data in the deck), the most covered on top,
    each bar labelled with its share; of a province's many counties, the least covered (maps.least_covered)."""
    from pptx.util import Pt

    from netopt.maps import least_covered

    rated, least = least_covered(by_county)
    if rated.empty:
        return
    chart = editable_chart(titled_slide(deck, f"分区县覆盖率 Coverage by county (%{least})"), deck.page.body,
                           "覆盖率(%) coverage", rated["county"].astype(str).tolist(),
                           {"覆盖率(%) coverage": rated["coverage_rate_pct"].round(1).tolist()}, kind="bar", most=100.0)
    chart.category_axis.tick_labels.font.size = Pt(12 if len(rated) <= 20 else 9)


def _plans_chart_slide(deck: Deck, scenarios: pd.DataFrame) -> None:
    """The plans compared as charts PowerPoint can edit: coverage (%) overall and by region type, a bar per plan,
    and beside it the towns each plan leaves uncovered 服务空白乡镇."""
    slide = titled_slide(deck, "覆盖对比 Coverage under each plan")
    left, top, width, height = deck.page.body
    measures = {"coverage_pct": "全市 all", **{c: region_words(c.removeprefix("coverage_pct_"))
                                               for c in scenarios.columns if c.startswith("coverage_pct_")}}
    plans = scenarios["scenario"].astype(str).tolist()
    towns = "towns_uncovered" in scenarios
    rates = {plan: [round(float(row[c]), 1) for c in measures] for plan, (_, row) in zip(plans, scenarios.iterrows())}
    editable_chart(slide, (left, top, width * (0.68 if towns else 1), height), "覆盖率(%) coverage",
                   list(measures.values()), rates, most=100.0)
    if towns:
        editable_chart(slide, (left + width * 0.7, top, width * 0.3, height), "服务空白乡镇 towns uncovered", plans,
                       {"服务空白乡镇 towns uncovered": scenarios["towns_uncovered"].astype(int).tolist()}, decimals=0)


def key_figures(cov: Coverage) -> list[tuple[str, str]]:
    """The diagnosis's headline figures (label, value): residents, branches, coverage, residents per branch, each
    region type's coverage and the underserved towns."""
    people = float(cov.by_region["population"].sum())
    covered = float(cov.by_region["covered_population"].sum())
    rate = cov.by_region.set_index("region_type")["coverage_rate_pct"]
    counted = cov.covered_by_distance
    return [("常住人口 Residents", f"{people / 1e4:,.1f} 万人"), ("网点 Branches", f"{len(cov.branches):,}"),
            ("覆盖率 Coverage", f"{100 * covered / people:.1f}%" if people > 0 else "—"),
            *([("按距离折算 Counted by distance", f"{100 * counted / people:.1f}%")] if counted is not None and people > 0
              else []),
            ("万人/网点 residents per branch (万)",
             f"{people / 1e4 / len(cov.branches):,.2f}" if len(cov.branches) else "—"),
            *((region_words(kind), f"{value:.1f}%") for kind, value in rate.dropna().items()),
            ("服务不足乡镇 Underserved towns", f"{len(cov.underserved_towns):,}")]


def findings(cov: Coverage, new_sites: pd.DataFrame | None, failures: dict[str, str]) -> list[str]:
    """What stands out, one line each, Chinese then English: the least covered county, the core − county gap, the
    most underserved town, what the suggested new branches bring, the counties whose report failed."""
    lines = []
    counties = cov.by_county.dropna(subset=["coverage_rate_pct"])
    if len(counties):
        least = counties.loc[counties["coverage_rate_pct"].idxmin()]
        lines.append(f"覆盖率最低的区县：{least['county']} {least['coverage_rate_pct']:.1f}% — the least covered county")
    gap = cov.core_county_gap_pp
    if gap == gap:
        lines.append(f"核心城区与县域覆盖率差 {gap:+.1f} 个百分点 — core minus county coverage, percentage points")
    radii = cov.by_region.set_index("region_type")["area_radius_km"].reindex(["core", "county"])
    if radii.notna().all():
        lines.append(f"服务半径（面积法）核心城区 {radii['core']:.2f} km、县域 {radii['county']:.2f} km — the service radius "
                     "by area, core and county")
    if len(cov.underserved_towns):
        town = cov.underserved_towns.iloc[0]
        lines.append(f"最需关注：{town['name']}（{town['county']}），{town['unserved_population'] / 1e4:,.1f} 万人"
                     "在服务范围外 — the most residents out of reach")
    if new_sites is not None and len(new_sites):
        gained, by_distance = suggested_gain_wan(new_sites), counted_by_distance(new_sites)
        lines.append(f"建议新设 {len(new_sites)} 个网点，{'按距离折算' if by_distance else ''}新增覆盖 {gained:,.1f} 万人 — "
                     "new branches suggested and the residents they bring within reach"
                     + (", counted by distance" if by_distance else ""))
    if failures:
        lines.append(f"{len(failures)} 个区县报告未完成 — counties whose report failed: {', '.join(failures)}")
    return lines


def _decimals(value, places: int) -> str:
    """A figure to `places` decimals, thousands separated; none, —."""
    return "—" if pd.isna(value) else f"{value:,.{places}f}"


def _percent(value) -> str:
    """A share as a slide says it, 61.3%; none, —."""
    return "—" if pd.isna(value) else f"{value:.1f}%"


def _region_lines(cov: Coverage) -> list[str]:
    """Each region type's coverage, residents and branches, for beside the city's map."""
    lines = []
    for row in cov.by_region.itertuples():
        lines += [region_words(row.region_type), f"覆盖率 coverage {_percent(row.coverage_rate_pct)}",
                  f"{row.population_wan:,.1f} 万人 · {row.branches:,} 网点 branches", ""]
    return lines


def towns_in_wan(towns: pd.DataFrame) -> pd.DataFrame:
    """Underserved towns with their residents and those out of reach in 万人, as a slide shows them."""
    return pd.DataFrame(towns).assign(population_wan=towns["population"] / 1e4,
                                      unserved_wan=towns["unserved_population"] / 1e4)


def shown(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The slide's columns of `frame` that it has and that hold a value (no column of GDP nobody gave)."""
    return filled_columns(pd.DataFrame(frame)[[c for c in columns if c in frame.columns]])


def county_facts(cov: Coverage, county: str, access: Accessibility | None = None) -> list[str]:
    """A county's figures, a line each: its region type, residents, branches, coverage, residents per branch,
    underserved towns and, with `access` (netopt.accessibility's result), its accessibility."""
    row = cov.by_county[cov.by_county["county"] == county].iloc[0]
    per_branch = "—" if pd.isna(row["residents_per_branch_wan"]) else f"{row['residents_per_branch_wan']:,.2f}"
    towns = int((cov.underserved_towns["county"] == county).sum())
    return [region_words(row["region_type"]),
            f"常住人口 residents {row['population_wan']:,.1f} 万人", f"网点 branches {int(row['branches']):,}",
            f"覆盖率 coverage {_percent(row['coverage_rate_pct'])}",
            *([f"按距离折算 counted by distance {_percent(row['coverage_by_distance_pct'])}"]
              if "coverage_by_distance_pct" in row else []),
            f"万人/网点 residents per branch (万) {per_branch}", f"服务不足乡镇 underserved towns {towns:,}",
            *([] if access is None else [county_access_line(access, county)])]


def county_access_line(access: Accessibility, county: str) -> str:
    """A county's accessibility in one line: its access, against the city's, and its Gini."""
    row = access.by_county[access.by_county["county"] == county].iloc[0]
    return (f"可达性 access {_decimals(row['access_per_wan'], 3)} 网点/万人 (全市=1 index "
            f"{_decimals(row['access_index'], 2)}), 基尼 Gini {_decimals(row['gini'], 3)}")


def _county_slide(deck: Deck, cov: Coverage, county: str, picture: bytes | None,
                  access: Accessibility | None = None) -> None:
    """A county on one slide: its map on the left where there is one, its figures (with `access`, its
    accessibility too) and most underserved towns."""
    title = f"{county} 网点覆盖 coverage"
    towns = cov.underserved_towns[cov.underserved_towns["county"] == county]
    lines = [*county_facts(cov, county, access), ""]
    lines += [f"• {town['name']} {town['population'] / 1e4:,.1f} 万人：{town['reason']}"
              for _, town in towns.head(COUNTY_TOWNS_SHOWN).iterrows()]
    if picture is None:
        text_box(titled_slide(deck, title), lines, deck.page.body, 16)
    else:
        map_slide(deck, title, picture, lines, 14)


