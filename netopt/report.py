"""Reports: coverage tables as CSV and Excel, and batch HTML + Excel reports per county, atomically, bilingual."""
from __future__ import annotations

import datetime
import os
import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from netopt._errors import check_count, check_kind
from netopt._schema import TYPE_ZH, VALUE_WORDS, region_words
from netopt.competition import RivalCoverage
from netopt.coverage import Coverage
from netopt.io import Dataset, points_table, write_atomic
from netopt.kml import write_field_kmz, write_map_files

if TYPE_CHECKING:
    from netopt.access import Accessibility

DECK_TITLE = "网点覆盖诊断 Branch coverage diagnosis"  # a diagnosis's slides (deck.meeting_deck), unless titled
HEADERS_ZH = {
    "location_method": "定位方式",
    "county": "区县", "county_id": "区划代码", "region_type": "区域类型", "area_km2": "面积(km²)",
    "gdp_yi": "地区生产总值(亿元)", "gdp_tier": "GDP档次", "population": "常住人口(人)", "population_wan": "常住人口(万人)",
    "covered_population": "覆盖人口(人)", "branches": "网点数", "coverage_rate_pct": "覆盖率(%)",
    "covered_by_distance": "按距离折算覆盖人口(人)", "coverage_by_distance_pct": "按距离折算覆盖率(%)",
    "covered_by_distance_wan": "按距离折算覆盖人口(万人)",
    "full_radius_km": "完全覆盖半径(km)", "full_time_min": "完全覆盖时间(分钟)",
    "residents_per_branch_wan": "万人/网点", "vs_benchmark_wan": "较全国县域均值(万人)",
    "branches_per_100km2": "网点密度(个/100km²)", "counties": "区县数", "mean_distance_to_branch_km": "平均到网点距离(km)",
    "mean_service_radius_km": "平均服务半径(km)", "area_radius_km": "服务半径(面积法, km)", "service_area_km2": "服务面积(km²)",
    "service_area_population": "服务范围人口(人)",
    "access_per_wan": "可达性(网点/万人)", "access_index": "可达性指数(全市=1)", "branches_within": "搜索范围内网点数",
    "supply": "供给(网点当量)", "catchment_residents_wan": "搜索范围内人口(万人, 按距离衰减)",
    "residents_per_supply_wan": "单位供给服务人口(万人)", "low_access_wan": "低可达性人口(万人)",
    "low_access_pct": "低可达性人口占比(%)", "no_access_wan": "无可达网点人口(万人)", "no_access_pct": "无可达网点人口占比(%)",
    "gini": "基尼系数", "access_gini": "可达性基尼系数", "access_gini_change": "可达性基尼系数变化",
    "low_access_change_wan": "低可达性人口变化(万人)", "site_catchment_wan": "搜索范围内人口(万人)",
    "supply_reaching_nobody": "未触达居民的供给", "p10_access_per_wan": "可达性P10(网点/万人)",
    "p90_access_per_wan": "可达性P90(网点/万人)", "residents_pct": "累计人口占比(%)", "access_pct": "累计可达性占比(%)",
    "town_id": "乡镇代码", "name": "名称", "radius_km": "服务半径(km)", "time_limit_min": "时间限制(分钟)",
    "nearest_branch_id": "最近网点", "nearest_branch_km": "最近网点距离(km)", "covered": "是否覆盖",
    "branches_within_limit": "限内网点数", "nearest_branch_min": "最快网点时间(分钟)", "method": "测距方法", "residents_per_reachable_branch_wan": "万人/可达网点",
    "round_trip_h": "往返时间(小时)", "reason": "原因", "unserved_population": "未覆盖人口(人)",
    "branch_id": "网点编号", "bank": "银行", "assigned_population": "服务人口(人)", "assigned_towns": "服务乡镇数",
    "service_radius_km": "服务半径(80%人口, km)", "mean_distance_km": "平均服务距离(km)",
    "farthest_town_km": "最远乡镇(km)", "assigned_cells": "服务网格数", "note": "说明",
    "cell_id": "网格编号", "town": "乡镇", "unserved_share_pct": "未覆盖比例(%)",
    "current_type": "现有类型", "type": "建议类型", "type_zh": "类型", "staff": "人员", "staff_range": "人员区间",
    "cost_wan": "改造费用(万元)", "score": "适配度", "reasons": "依据", "pilot_region": "试点片区",
    "dimension": "维度", "indicator": "指标", "indicator_name": "指标名称", "computed": "计算方法", "data": "数据",
    **{f"weight_{kind}": f"{zh}权重" for kind, zh in TYPE_ZH.items()},
    **{f"score_{kind}": f"{zh}适配度" for kind, zh in TYPE_ZH.items()},
    "represents": "代表网点数", "gain": "收益", "batch": "批次", "hub_id": "中心支行", "minutes": "车程(分钟)",
    "travel_minutes": "通行时间(分钟)",
    "coaching_days": "辅导天数", "before": "调整前", "after": "调整后", "before_share": "调整前占比",
    "after_share": "调整后占比", "date": "日期", "session": "时段", "role": "角色",
    "site_id": "网点/站点编号", "kind": "现有/新设", "served_wan": "服务人口(万人)", "lon": "经度", "lat": "纬度",
    "demand": "需求点", "site": "服务网点", "our_share_pct": "我行份额(%)", "captured": "吸引人数",
    "action": "调整", "from_id": "原网点编号", "from_name": "原网点", "from_county": "原区县", "to_id": "新址编号",
    "to_name": "新址", "to_county": "新址区县", "distance_km": "距离(km)", "nearest_open_km": "最近保留网点(km)",
    "nearest_open_name": "最近保留网点", "item": "项目", "value": "数值", "distance": "距离(km)",
    "weight": "人口", "weighted_distance": "出行里程(人·km)", "share": "分配比例", "amount": "分配人口",
    "cost": "出行里程(人·km)", "cells": "网格数", "residents": "人口(人)",
    "farthest_cell_km": "最远网格(km)", "weighted_travel_minutes": "出行时间(人·分钟)",
    "mean_travel_minutes": "平均通行时间(分钟)", "farthest_cell_minutes": "最远网格通行时间(分钟)",
    "coverage_rate_pct_before": "调整前覆盖率(%)", "coverage_rate_pct_after": "调整后覆盖率(%)",
    "branches_before": "调整前网点数", "branches_after": "调整后网点数",
    "residents_per_branch_wan_before": "调整前万人/网点", "residents_per_branch_wan_after": "调整后万人/网点",
    "branches_per_100km2_before": "调整前网点密度", "branches_per_100km2_after": "调整后网点密度",
    "branches_ours": "我行网点数", "branches_all": "全部银行网点数", "our_branch_share_pct": "我行网点占比(%)",
    "coverage_ours_pct": "我行覆盖率(%)", "coverage_all_pct": "全部银行覆盖率(%)", "behind_pp": "落后(百分点)",
    "rival_only_population": "仅他行覆盖人口", "covering_sites": "可覆盖网点数", "covered_share": "覆盖比例", "gap": "差距", "error": "错误",
    "decision": "决策", "open_cost_wan": "开设费用(万元)", "conversion_cost_wan": "改型费用(万元)",
    "served_share": "服务比例", "counted_share": "按距离折算服务比例", "counted_wan": "按距离折算服务人口(万人)",
    "vehicle": "流动服务车", "station": "村级服务站",
    "hub_name": "中心支行名称", "hub_county": "中心支行区县",
    "adds_covered_wan": "贡献覆盖人口(万人)", "adds_won_wan": "贡献吸引客户(万人)",
    "saves_travel_wan_km": "减少出行里程(万人·km)", "shortens_farthest_km": "缩短最远距离(km)",
    "closing_uncovers_wan": "撤并失去覆盖(万人)", "closing_loses_won_wan": "撤并流失客户(万人)",
    "closing_adds_travel_wan_km": "撤并增加出行(万人·km)", "closing_lengthens_farthest_km": "撤并增加最远距离(km)",
    "saves_travel_wan_min": "减少出行时间(万人·分钟)", "shortens_farthest_min": "缩短最长通行时间(分钟)",
    "closing_adds_travel_wan_min": "撤并增加出行时间(万人·分钟)",
    "closing_lengthens_farthest_min": "撤并增加最长通行时间(分钟)",
    "nearest_branch_name": "最近网点名称", "plan": "方案", "opened": "是否开设",
    "residents_wan": "常住人口(万人)", "covered_wan_before": "调整前覆盖人口(万人)",
    "covered_wan_after": "调整后覆盖人口(万人)", "change_wan": "覆盖变化(万人)",
    "area_residents_wan_before": "调整前服务范围人口(万人)", "area_residents_wan_after": "调整后服务范围人口(万人)",
    "area_change_wan": "服务范围人口变化(万人)", "closed_id": "撤并网点编号", "closed_name": "撤并网点",
    "taker_id": "承接网点编号", "taker_name": "承接网点",
    "distance_km_before": "调整前到网点距离(km)", "distance_km_after": "调整后到网点距离(km)",
    "minutes_before": "调整前通行时间(分钟)", "minutes_after": "调整后通行时间(分钟)",
    "mean_minutes_to_branch": "平均通行时间(分钟)",
    "scenario": "方案", "change": "变化", "new": "新设", "closed": "撤并", "covered_wan": "覆盖人口(万人)", "coverage_pct": "覆盖率(%)",
    "coverage_pct_core": "核心城区覆盖率(%)", "coverage_pct_county": "县域覆盖率(%)",
    "coverage_pct_fringe": "城乡结合部覆盖率(%)", "mean_km": "平均到网点距离(km)", "mean_minutes": "平均通行时间(分钟)",
    "towns_uncovered": "服务空白乡镇",
    "towns_losing_all": "新增服务空白乡镇", "spread_wan": "方案差异(万人)", "rank": "排序",
    "covered_wan_today": "现状覆盖人口(万人)", "reaches": "新增覆盖乡镇", "type_comprehensive": "综合型",
    "type_community": "社区型", "type_inclusive": "普惠型", "type_light": "轻型",
    "decision_zh": "决策(中文)", "phase": "期次", "hub_lon": "中心支行经度", "hub_lat": "中心支行纬度",
}
TOWN_COLUMNS = ["cell_id", "town_id", "name", "town", "county", "region_type", "population", "radius_km", "time_limit_min",
                "nearest_branch_id", "nearest_branch_name", "nearest_branch_km", "nearest_branch_min", "covered",
                "full_radius_km", "full_time_min", "covered_share", "branches_within_limit",
                "residents_per_reachable_branch_wan", "round_trip_h", "method", "reason"]
UNDERSERVED_COLUMNS = ["town_id", "name", "county", "population", "unserved_population", "unserved_share_pct",
                       "nearest_branch_name", "nearest_branch_km", "nearest_branch_min", "round_trip_h", "reason"]
BRANCH_COLUMNS = ["branch_id", "name", "bank", "type", "plan", "county", "assigned_towns", "assigned_population",
                  "service_radius_km", "mean_distance_km", "farthest_town_km", "service_area_km2", "area_radius_km",
                  "service_area_population", "location_method"]  # where given: which points are approximate (a town's)

PLAN_COLUMNS = ("branch_id", "name", "current_type", "type", "type_zh", "staff", "cost_wan", "reasons")  # types listed

GLANCE_REGION_COLUMNS = ["region_type", "counties", "population_wan", "branches", "residents_per_branch_wan",
                         "branches_per_100km2", "coverage_rate_pct", "coverage_by_distance_pct",
                         "mean_service_radius_km", "area_radius_km"]
GLANCE_TOWN_COLUMNS = ["town_id", "name", "county", "population", "unserved_population", "nearest_branch_name",
                       "nearest_branch_km", "reason"]


def coverage_tables(cov: Coverage, coords: str = "wgs84") -> dict[str, pd.DataFrame]:
    """The coverage result as plain tables, one per sheet/CSV, rounded for reading (on a grid: its cells summed by
    town, then the cells); the towns (or cells: a point within each), underserved towns and branches with their
    lon/lat in `coords`, the inputs' system."""
    from netopt.coverage import coverage_by_minutes, coverage_by_radius

    by_town = {"towns": cov.by_town().round(3)} if cov.demand_kind == "cells" else {}
    by_minutes = {"by_minutes": coverage_by_minutes(cov).round(3)} if cov.settings.unit == "min" else {}
    return {
        "by_region": cov.by_region.round(3),
        "by_county": cov.by_county.round(3),
        **by_minutes,
        "by_radius": coverage_by_radius(cov).round(3),
        "underserved_towns": located(_columns(cov.underserved_towns, UNDERSERVED_COLUMNS), cov.underserved_towns,
                                     coords),
        **by_town,
        cov.demand_kind: located(_columns(cov.towns, TOWN_COLUMNS), cov.towns, coords),
        "branches": located(_branch_table(cov.branches, cov.demand_kind), cov.branches, coords),
        "notes": pd.DataFrame({"note": cov.notes}),
    }


def coverage_html(cov: Coverage, towns_shown: int = 5) -> str:
    """A coverage result as a notebook shows it: its summary line, the table by region type, the most underserved
    towns and the notes."""
    check_count(towns_shown, "towns_shown", "coverage_html", least=0)
    regions = _columns(cov.by_region, GLANCE_REGION_COLUMNS)
    underserved = _columns(cov.underserved_towns, GLANCE_TOWN_COLUMNS).head(towns_shown)
    notes = "".join(f"<li>{escape(note)}</li>" for note in cov.notes)
    towns = (f"<p>服务不足乡镇 Most underserved towns ({len(underserved)} of {len(cov.underserved_towns):,}: every one "
             f"in <code>.underserved_towns</code>)</p>{_html_table(underserved, False)}" if len(underserved) else "")
    return (f"<p><b>Coverage 覆盖诊断</b> — {escape(cov.summary())}</p>{_html_table(regions, False)}{towns}"
            + (f"<ul class=\"note\">{notes}</ul>" if notes else ""))


def rounded(table: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """A table's figures to `decimals` for reading, its lon/lat as given (6 decimals: 0.1 m)."""
    return table.round({column: decimals for column in table.columns if column not in ("lon", "lat")})


def located(table: pd.DataFrame, places: gpd.GeoDataFrame, coords: str = "wgs84") -> pd.DataFrame:
    """`table` (a row per row of `places`) with each place's lon/lat in `coords` (a point within an area)."""
    points = places.geometry.representative_point().to_numpy()
    return points_table(gpd.GeoDataFrame(table, geometry=points, crs=places.crs), coords)


def placed_by(table: pd.DataFrame, places: gpd.GeoDataFrame | None, key: str, coords: str = "wgs84"
              ) -> pd.DataFrame:
    """`table` with the lon/lat (in `coords`; a point within an area) of the place of `places` its `key` column
    names (a town by town_id, a branch by branch_id; blank where none is); as it is where the places are not
    known."""
    from netopt.planning import places_by, point_layer

    if places is None or key not in table or key not in places:
        return table
    return points_table(point_layer(table, places_by(places, key).representative_point(), key), coords)


def _town_places(cov: Coverage, city: Dataset | None) -> gpd.GeoDataFrame | None:
    """Where the towns of a diagnosis are: its demand units where they are towns, else the city's towns."""
    return cov.towns if cov.demand_kind != "cells" else None if city is None else city.towns


def _columns(frame: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    return pd.DataFrame(frame[[c for c in wanted if c in frame.columns]]).round(3)


ON_A_GRID = {"assigned_towns": "assigned_cells", "farthest_town_km": "farthest_cell_km"}  # a grid's units are cells


def _branch_table(branches: pd.DataFrame, demand_kind: str) -> pd.DataFrame:
    """The branches of a diagnosis as a table: their type is today's (现有类型), not a type plan's; on a grid
    (`demand_kind` cells) what they serve is counted and measured in cells (服务网格数), not towns."""
    grid = ON_A_GRID if demand_kind == "cells" else {}
    return _columns(branches, BRANCH_COLUMNS).rename(columns={"type": "current_type", **grid})


def bilingual(frame: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Headers as "english 中文" where a Chinese label is known (`labels` first, then HEADERS_ZH)."""
    known = {**HEADERS_ZH, **(labels or {})}
    return frame.rename(columns=lambda c: f"{c} {known[c]}" if c in known else c)


def _check_type_plan(plan: pd.DataFrame | None) -> None:
    """A type plan with the columns a county's page lists (assign_branch_types'), or None."""
    from netopt.planning import check_plan_columns

    if plan is not None:
        check_plan_columns(plan, PLAN_COLUMNS, file="report")


def _out_folder(out_dir: str | Path) -> Path:
    """The folder reports are written to, or an InputError when `out_dir` names none."""
    check_kind(out_dir, (str, os.PathLike), "out_dir is the folder to write to", "report")
    return Path(out_dir)


def write_coverage_report(cov: Coverage, out_dir: str | Path, extra: dict[str, pd.DataFrame] | None = None,
                          coords: str = "wgs84", extra_layers: dict[str, gpd.GeoDataFrame] | None = None,
                          layers: bool = True) -> list[Path]:
    """Write one CSV per table (UTF-8 with BOM, so Excel shows Chinese), coverage.xlsx, with the `extra`
    tables (e.g. the comparison with other banks) after the coverage ones, rounded as they are, and unless
    `layers` is False coverage.gpkg, the diagnosis's map layers for a GIS (coverage_layers, then `extra_layers`;
    lon/lat in `coords`, the inputs' system), and coverage.kmz, the same for Google Earth and 奥维 on a field visit
    (WGS84; a layer of over kml.KML_MAX_PLACES places, such as a fine grid's cells, left out); returns the
    paths."""
    out = _out_folder(out_dir)
    check_kind(extra, (dict, type(None)), "extra is a dict of tables by name", "report")
    check_kind(extra_layers, (dict, type(None)), "extra_layers is a dict of GeoDataFrames by name", "report")
    tables = {**coverage_tables(cov, coords), **{name: rounded(table) for name, table in (extra or {}).items()}}
    written = write_csv_and_workbook(out, tables, "coverage")
    if not layers:
        return written
    drawn = {**coverage_layers(cov), **(extra_layers or {})}
    maps, _ = write_map_files(out / "coverage.gpkg", drawn, coords, HEADERS_ZH, COVERAGE_LAYERS,
                              {name: "Point" for name in drawn})
    return written + maps


def write_csv_and_workbook(out: Path, tables: dict[str, pd.DataFrame], stem: str) -> list[Path]:
    """Each table as `stem`_name.csv (UTF-8 with BOM, so Excel shows Chinese; bilingual headers), then all of them
    as the workbook `stem`.xlsx; the paths."""
    csv_files = {name: f"{stem}_{name}.csv" for name in tables}
    written = [write_atomic(out / csv_files[name],
                            lambda p, t=table: bilingual(t).to_csv(p, index=False, encoding="utf-8-sig"))
               for name, table in tables.items()]
    written.append(write_atomic(out / f"{stem}.xlsx", lambda p: write_workbook(p, tables, csv_files=csv_files)))
    return written


# the diagnosis's map layers, as each one's description names it
COVERAGE_LAYERS = {"counties": "区县 counties: coverage, branches, residents per branch",
                   "towns": "乡镇 towns: covered or not, the nearest branch", "cells": "人口网格 population cells: "
                   "covered or not, the nearest branch", "underserved_towns": "服务不足乡镇 underserved towns, the most "
                   "residents beyond reach first", "branches": "网点 branches: the towns and residents each serves",
                   "service_areas": "服务范围 service areas: the part of its county nearer each branch than any other "
                   "(泰森多边形), its area and the radius of a circle as large",
                   "rival_only_towns": "仅他行覆盖乡镇 towns another bank reaches and ours does not, the most residents "
                   "first"}


def coverage_layers(cov: Coverage, county: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The diagnosis as map layers (WGS84) with the columns of its tables: counties with by_county's figures,
    the towns (or grid cells), the underserved towns and the branches; with `county`, that county's alone."""
    check_kind(cov, Coverage, "cov is a diagnosis from analyze_coverage", "coverage_layers")
    if county is not None:
        cov.check_county(county)
    boundaries = cov.county_boundaries

    def ours(frame: pd.DataFrame) -> pd.DataFrame:
        return frame if county is None else frame[(frame["county"] == county).to_numpy()]

    counties = ({"counties": ours(_county_layer(cov.by_county, boundaries))} if boundaries is not None else {})
    towns, underserved, branches = ours(cov.towns), ours(cov.underserved_towns), ours(cov.branches)
    return {**counties, cov.demand_kind: _with_places(_columns(towns, TOWN_COLUMNS), towns),
            "underserved_towns": _with_places(_columns(underserved, UNDERSERVED_COLUMNS), underserved),
            "branches": _with_places(_branch_table(branches, cov.demand_kind), branches),
            **({} if (areas := cov.service_areas(branches)) is None else {"service_areas": areas})}


def _county_layer(by_county: pd.DataFrame, boundaries: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """A table by county (rounded for reading) at each county's boundary, a row each."""
    return gpd.GeoDataFrame(by_county.round(3), geometry=boundaries.to_numpy(), crs=boundaries.crs)


def _with_places(table: pd.DataFrame, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`table`, a row per row of `places`, with their geometry."""
    return gpd.GeoDataFrame(table, geometry=places.geometry.to_numpy(), crs=places.crs)


# the longest table a workbook sheet takes (Excel's own limit is 1,048,575); longer tables (a fine grid's cells) are
# notes naming their CSV file
WORKBOOK_ROWS = 100_000
PLACE_WORDS = ("lon", "lat", "经度", "纬度")  # columns of coordinates keep every decimal
CODE_WORDS = ("code", "代码", "编号", "year", "年份")  # whole numbers that name something rather than count it


def _is_code(column) -> bool:
    """Whether a column of whole numbers holds ids, codes or years (written without thousands separators), by its
    name: "town_id", "区划代码", "year" …"""
    label = str(column).lower()
    english = label.split(" ")[0]
    return english == "id" or english.endswith("_id") or any(word in label for word in CODE_WORDS)


SHEET_TITLES = {  # a workbook's sheet by its table's name: in English and Chinese, as its headers are
    "summary": "summary 汇总", "by_region": "by region 分区域", "by_county": "by county 分区县",
    "by_radius": "by radius 覆盖率-半径", "by_minutes": "by minutes 覆盖率-时间",
    "underserved_towns": "underserved towns 服务不足乡镇", "towns": "towns 乡镇", "cells": "cells 网格",
    "branches": "branches 网点", "notes": "notes 说明", "recommendations": "recommendations 建议",
    "rivals": "rivals 我行与全部银行", "rivals_by_region": "rivals by region 我行与全部银行-区域",
    "rivals_by_county": "rivals by county 我行与全部银行-区县", "rival_only_towns": "rival only towns 仅他行覆盖乡镇",
    "new_sites": "new sites 建议新设网点", "branch_types": "branch types 网点类型", "failed": "failed 未完成",
    "types": "types 网点类型", "pilots": "pilots 试点", "batches": "batches 推广批次", "hubs": "hubs 培训中心",
    "mix": "mix 类型结构", "calendar": "calendar 培训日程", "scoring": "scoring 评分依据",
    "city": "city 全市", "lorenz": "lorenz 洛伦兹曲线", "access_by_region": "access by region 可达性-分区域",
    "access_by_county": "access by county 可达性-分区县",
}


def write_workbook(path: Path, tables: dict[str, pd.DataFrame], labels: dict[str, str] | None = None,
                   csv_files: dict[str, str] | None = None) -> None:
    """One sheet per table (named by SHEET_TITLES — by_region as "by region 分区域" — else as its key), bilingual
    headers (see `bilingual`), laid out for the meeting
    (see `_write_sheet`). A table longer than WORKBOOK_ROWS (a fine population grid's cells) is a note instead,
    naming its CSV file (`csv_files`) if there is one."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    styles = {"header": book.add_format({"bold": True, "border": 1, "align": "center"}),
              "figure": book.add_format({"num_format": "#,##0.00##"}),
              "count": book.add_format({"num_format": "#,##0"}), "date": book.add_format({"num_format": "yyyy-mm-dd"})}
    for name, table in tables.items():
        if len(table) > WORKBOOK_ROWS:
            table = _too_long(len(table), (csv_files or {}).get(name))
        title = SHEET_TITLES.get(name, name)
        table = _in_words(table)
        _write_sheet(book.add_worksheet(_sheet_name(title, book.sheetnames)), bilingual(table, labels), styles)
    book.close()


def _in_words(table: pd.DataFrame) -> pd.DataFrame:
    """A table's coded values as the pages say them — 核心城区 core, 保留 keep, 现有 existing, 是 yes —, for a
    workbook (VALUE_WORDS); a type beside its own Chinese column (type_zh) stays as it is."""
    worded = {column: table[column].map(lambda value, words=words: words.get(value, value))
              for column, words in VALUE_WORDS.items() if column in table
              and not (column == "type" and "type_zh" in table)}
    if "region_type" in table:
        worded["region_type"] = table["region_type"].map(region_words)
    return table.assign(**worded) if worded else table


SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")  # characters Excel refuses in a sheet name


def _sheet_name(name: str, taken) -> str:
    """`name` as Excel takes a sheet name: without [ ] : * ? / or backslash, at most 31 characters, one of its own
    (~2, ~3 … where the cut makes two alike), e.g. a county 高新区/经开区 → 高新区_经开区."""
    base = SHEET_FORBIDDEN.sub("_", str(name)).strip("'")[:31] or "sheet"
    used = {str(t).lower() for t in taken}
    candidate, number = base, 1
    while candidate.lower() in used:
        number += 1
        candidate = f"{base[:31 - len(str(number)) - 1]}~{number}"
    return candidate


def _write_sheet(sheet, table: pd.DataFrame, styles: dict) -> None:
    """A sheet ready for the meeting: the header frozen and filterable, each column as wide as its widest cell
    (of the first rows; Chinese characters count double, at most 60), figures with thousands separated — two to
    four decimals, whole numbers none; coordinates, ids and codes as given —, blanks for missing values."""
    for k, column in enumerate(table.columns):
        sheet.write(0, k, str(column), styles["header"])
        values = table.iloc[:, k]
        sheet.write_column(1, k, _cell_values(values), _number_style(column, values, styles))
        cells = [str(column)] + [str(value) for value in values.head(200)]
        sheet.set_column(k, k, min(max(map(display_width, cells)) + 2, 60))
    if not table.empty and len(table.columns):
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(table), len(table.columns) - 1)


def _number_style(column, values: pd.Series, styles: dict):
    """The cell style of a column's numbers: "figure" for decimals, "count" for whole numbers, "date" for dates,
    None (as given) for coordinates, ids, codes and text."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return styles["date"]
    if str(column).lower().startswith(PLACE_WORDS):
        return None
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna().pipe(lambda v: v[np.isfinite(v)]).mod(1).eq(0).all()
        return styles["count"] if whole or _counts_people(column) else styles["figure"]
    return styles["count"] if pd.api.types.is_integer_dtype(values) and not _is_code(column) else None


def _counts_people(column) -> bool:
    """Whether a column counts people, by its English name (covered_population 覆盖人口(人)); not 万人 figures."""
    return str(column).split(" ", 1)[0].endswith("population")


def _cell_values(column: pd.Series) -> list:
    """A column's values as Excel takes them: Python numbers, booleans, text and dates, None (a blank) for missing
    values, "inf" for infinite ones (as pandas writes them), other objects as text."""
    def cell(value):
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return value if isinstance(value, (bool, int, float, str, datetime.datetime)) else str(value)

    return [cell(value) for value in column.tolist()]


def display_width(text: str) -> int:
    """How many columns text takes on screen: wide (Chinese) characters count two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _too_long(rows: int, csv_file: str | None) -> pd.DataFrame:
    where = (f"every row is in {csv_file}" if csv_file else
             "measure on a coarser grid (--grid-km) for this sheet, or read every row in netopt analyze's CSV tables")
    return pd.DataFrame({"note": [f"{rows:,} rows, more than a workbook sheet here takes ({WORKBOOK_ROWS:,}): "
                                  f"{where}"]})


def _nearest_of_none(branches: pd.DataFrame, cov: Coverage) -> str:
    """A county report's note on its branches, where some serve no town: each town (or grid cell) counts once,
    for the branch nearest its point (shared by the branches at that very point), so a town's other branches serve
    none of it, while each branch's service area holds its share of residents; "" where every one serves some."""
    none = int((branches[ON_A_GRID["assigned_towns"] if cov.demand_kind == "cells" else "assigned_towns"] == 0).sum())
    if not none:
        return ""
    zh, en = ("网格", "grid cell") if cov.demand_kind == "cells" else ("乡镇", "town")
    return (f"服务{zh}数、服务人口：每个{zh}只计入离其点位最近的网点（同一点位的网点均分），{none} 个网点不是任何{zh}的最近网点"
            f"（多为同一{zh}的其他网点）；"
            f"服务范围人口则把每个{zh}的人口按面积均摊，各网点按其服务范围计入。 "
            f"Each {en} counts once, for the branch nearest its point (shared by the branches at that very point): "
            f"{none} of these {len(branches)} branches are "
            f"the nearest of none (mostly a {en}'s other branches); the residents in a branch's service area spread "
            f"each {en}'s evenly over its area, a share for every branch.")


def _html_table(frame: pd.DataFrame, for_people: bool = True) -> str:
    """A table for a report page: headers in Chinese over English words (`for_people`; else, for a notebook, the
    column's name beside its Chinese), text left and figures right, columns with no value at all left out (e.g.
    GDP or types nobody gave, and so GDP tiers all "unknown"), blanks for missing values, figures as cell_text
    writes them (counts and residents with thousands separated, not ids and codes)."""
    shown = filled_columns(frame)
    figure = [' class="n"' if pd.api.types.is_numeric_dtype(shown[c]) and not _is_code(c) else ""
              for c in shown.columns]
    named = shown.columns if for_people else bilingual(shown).columns
    head = "".join(f"<th{aligned}>{_html_header(c) if for_people else escape(label)}</th>"
                   for c, label, aligned in zip(shown.columns, named, figure))
    rows = "".join("<tr>" + "".join(f"<td{aligned}>{escape(cell_text(c, value))}</td>"
                                    for c, value, aligned in zip(shown.columns, row, figure)) + "</tr>"
                   for row in shown.itertuples(index=False))
    return f'<table class="t"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _html_header(column: str) -> str:
    """A column's header on a report page: its Chinese label over its name in words (常住人口(人) over population)."""
    return escape(column_label(column, "\n")).replace("\n", "<br>")


def filled_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` without the columns that hold no value at all (GDP or types nobody gave, and so GDP tiers all
    "unknown"); an empty frame keeps its columns."""
    return frame.loc[:, (frame.notna() & frame.ne("unknown")).any() | frame.empty]


def _html_fields(row: pd.DataFrame) -> str:
    """A one-row table (a county's summary) down the page as its fields and values, so that every field fits the
    page's width; fields without a value left out, figures written as _html_table writes them."""
    shown = filled_columns(row)
    values = [figure_text(column, shown[column].iloc[0]) for column in shown.columns]
    fields = [column_label(column) for column in shown.columns]
    return pd.DataFrame({"指标 field": fields, "值 value": values}).to_html(index=False, border=0, classes="t fields")


def figure_text(column: str, value) -> str:
    """A value as a report page shows it: counts with thousands separated (ids and codes as given), people as
    whole people (a grid's are fractions of a town's), other figures to two decimals (whole ones without)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and not _is_code(column):
        return f"{value:,}"
    if _counts_people(column) and isinstance(value, (float, np.floating)) and np.isfinite(value):
        return f"{round(value):,}"
    if column == "region_type":
        return region_words(value)
    if column in THREE_DECIMALS and isinstance(value, (float, np.floating)):
        return f"{value:.3f}"
    return decimal_text(value) if isinstance(value, (float, np.floating)) else str(value)


THREE_DECIMALS = {"gini", "access_gini", "access_per_wan", "access_gini_change"}  # figures below one: 3 decimals


def cell_text(column: str, value) -> str:
    """A table cell's text as report pages and slides show it (figure_text); empty for none."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return figure_text(column, value)


UNIT_WORDS = {"wan": "(万)", "pct": "(%)", "km": "(km)", "min": "(min)", "h": "(h)", "yi": "(亿元)", "km2": "(km²)",
              "pp": "(pp)"}
ENGLISH_WORDS = {"gdp": "GDP", "100km2": "100 km²", "zh": "", "id": "code"}  # a column name's words as a header's
TRAILING_WORDS = ("before", "after", "ours", "all")  # said before the unit: coverage rate before (%)
HEADER_WORDS = {"access_per_wan": "access (per 万)", "access_gini": "access Gini", "gini": "Gini",
                "access_gini_change": "access Gini change"}  # not word by word


def english_header(column: str) -> str:
    """A column's name in words, as a slide's header gives it under the Chinese: population_wan → population (万),
    coverage_rate_pct_before → coverage rate before (%), coverage_pct_core → coverage (%) core,
    branches_per_100km2 → branches per 100 km²; what follows a space is kept (covered_wan today 现状 → covered (万)
    today 现状)."""
    name, space, rest = column.partition(" ")
    if name in HEADER_WORDS:
        return f"{HEADER_WORDS[name]}{space}{rest}"
    words = name.split("_")
    trailing = [words.pop()] if len(words) > 1 and words[-1] in TRAILING_WORDS else []
    unit = UNIT_WORDS.get(words.pop()) if len(words) > 1 and words[-1] in UNIT_WORDS else None
    said = " ".join(filter(None, (UNIT_WORDS[word] if k and word in UNIT_WORDS else ENGLISH_WORDS.get(word, word)
                                  for k, word in enumerate([*words, *trailing]))))
    return f"{said}{' ' + unit if unit else ''}{space}{rest}"


def column_label(column: str, between: str = " ", labels: dict[str, str] | None = None) -> str:
    """A column as people read it: its Chinese label (`labels` first, then HEADERS_ZH), `between`, its name in
    words (english_header): 常住人口(人) population; the words alone where no label is known."""
    chinese = {**HEADERS_ZH, **(labels or {})}.get(column, "")
    return f"{chinese}{between}{english_header(column)}".strip()


def file_stem(text: str) -> str:
    """`text` as a file name on any system: the characters a path or Windows forbids (/ \\ : * ? " < > |) as _,
    so that a county named 瑶海区/龙岗开发区 gets one file, not a folder."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", text).strip(" .") or "_"


def decimal_text(value: float) -> str:
    """A figure as report pages write it: thousands separated, two decimals (a whole number none)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} table.t{{border-collapse:collapse;font-size:13px}}
table.t td,table.t th{{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}}
table.t th{{vertical-align:bottom}} table.t .n,table.fields td{{text-align:right}} h1{{font-size:22px}}
h2{{font-size:17px;margin-top:1.6em}} .note{{color:#666;font-size:12px}}
table.fields td:first-child,table.fields th:first-child{{text-align:left}}</style></head><body>
<h1>{title}</h1>{body}<p class="note">{note}</p></body></html>"""


def county_report(cov: Coverage, county: str, out_dir: str | Path, plan: pd.DataFrame | None = None,
                  rivals: RivalCoverage | None = None, new_sites: pd.DataFrame | None = None,
                  city: Dataset | None = None, coords: str = "wgs84",
                  access: Accessibility | None = None) -> list[Path]:
    """One county's report: HTML and an Excel workbook (summary, towns, branches, recommendations, with
    `new_sites` — planning.suggest_new_sites — where new branches would cover most, the recommended branch types
    when a type plan is given, with `rivals` — competition.rival_coverage of our bank's coverage `cov` — our
    coverage beside every bank's and the towns only a rival reaches, and the notes on how coverage was measured
    and what this county's data asks to check); and a KMZ of the county's places and `new_sites` for Google
    Earth or 奥维 on a visit. With `city` (the Dataset `cov` measured), the page opens with a map of the county:
    its towns by coverage, its branches and the suggested new ones. The workbook's towns, branches and new sites
    carry their lon/lat in `coords` (the inputs' system). With `access` (netopt.accessibility's result) its summary
    has the county's accessibility too."""
    cov.check_county(county)
    out = _out_folder(out_dir)
    _check_type_plan(plan)
    summary = _with_access(cov.by_county[cov.by_county["county"] == county], access).round(3)
    towns = (cov.by_town().loc[lambda t: t["county"] == county].round(3) if cov.demand_kind == "cells" else
             _columns(cov.towns[cov.towns["county"] == county], TOWN_COLUMNS))  # a grid's cells: summed by town
    branches = _branch_table(cov.branches[cov.branches["county"] == county], cov.demand_kind)
    advice = _columns(cov.underserved_towns[cov.underserved_towns["county"] == county], UNDERSERVED_COLUMNS)
    towns_at = _town_places(cov, city)
    sheets = {"summary": summary, "towns": placed_by(towns, towns_at, "town_id", coords),
              "branches": placed_by(branches, cov.branches, "branch_id", coords),
              "recommendations": placed_by(advice, towns_at, "town_id", coords)}
    stem = file_stem(f"county_{summary['county_id'].iloc[0]}_{county}")
    mine = None if new_sites is None else new_sites[new_sites["county"] == county]
    picture = None if city is None else _county_map(cov, county, city, mine)
    body = (f"<h2>概况 Summary</h2>{_html_fields(summary)}"
            + ("" if city is None else _county_picture(picture, county))
            + f"<h2>服务不足乡镇 Underserved towns ({len(advice)})</h2>{_html_table(advice.head(30))}")
    if mine is not None:
        sheets["new_sites"] = _sites_located(mine, coords)
        body += _new_sites_section(mine)
    nearest_of_none = _nearest_of_none(branches, cov)
    body += f"<h2>网点 Branches ({len(branches)})</h2>{_html_table(branches)}"
    body += f"<p>{escape(nearest_of_none)}</p>" if nearest_of_none else ""
    if plan is not None:
        types = plan[plan["branch_id"].isin(cov.branches.loc[cov.branches["county"] == county, "branch_id"])]
        types = types[list(PLAN_COLUMNS)]
        sheets["branch_types"] = types
        body += f"<h2>网点功能定位建议 Recommended branch types</h2>{_html_table(types)}"
    if rivals is not None:
        versus = rivals.by_county[rivals.by_county["county"] == county].round(3)
        only = rivals.rival_only[rivals.rival_only["county"] == county]
        sheets.update(rivals=versus, rival_only_towns=placed_by(only, towns_at, "town_id", coords))
        body += (f"<h2>我行与全部银行 Ours against every bank</h2>{_html_table(versus)}"
                 f"<h2>仅他行覆盖的乡镇 Towns only another bank reaches ({len(only)})</h2>{_html_table(only.head(30))}")
    notes = cov.notes_for(county)
    sheets["notes"] = pd.DataFrame({"note": [*notes, nearest_of_none] if nearest_of_none else notes})
    page = PAGE.format(title=escape(f"{county} 网点覆盖诊断 Branch coverage report"), body=body,
                       note=escape(" ".join([*notes, cov.attribution])))
    return [write_atomic(out / f"{stem}.html", lambda p: p.write_text(page, encoding="utf-8")),
            write_atomic(out / f"{stem}.xlsx", lambda p: write_workbook(p, sheets)),
            _county_kmz(cov, county, out / f"{stem}.kmz", mine), *_map_file(out / f"{stem}.png", picture)]


COUNTY_ACCESS_COLUMNS = ["access_per_wan", "access_index", "gini", "low_access_wan", "low_access_pct", "no_access_wan"]


def _with_access(summary: pd.DataFrame, access: Accessibility | None) -> pd.DataFrame:
    """A county's row of the diagnosis with, given `access`, its accessibility's figures after it."""
    if access is None:
        return summary
    figures = access.by_county[["county", *COUNTY_ACCESS_COLUMNS]]
    return summary.merge(figures, on="county", how="left").set_axis(summary.index)


def _map_file(path: Path, picture: bytes | None) -> list[Path]:
    """A report's map as a PNG of its own, for the analyst's slides; none (and an earlier run's gone) without."""
    if picture is None:
        path.unlink(missing_ok=True)
        return []
    return [write_atomic(path, lambda p: p.write_bytes(picture))]


def _county_kmz(cov: Coverage, county: str, path: Path, new_sites: pd.DataFrame | None) -> Path:
    """The county's diagnosis for Google Earth or 奥维 on a visit: its layers (coverage_layers) and the suggested
    new branches, where there are any."""
    layers = coverage_layers(cov, county)
    if new_sites is not None and len(new_sites):
        layers["new_sites"] = gpd.GeoDataFrame(new_sites)
    descriptions = {**COVERAGE_LAYERS, "new_sites": "建议新设网点 where new branches would cover most, the most first"}
    return write_field_kmz(path, layers, HEADERS_ZH, descriptions)[0]


def _county_map(cov: Coverage, county: str, city: Dataset, new_sites: pd.DataFrame | None) -> bytes | None:
    """The county on a static map (towns by coverage, branches, suggested new branches green and numbered) as a
    PNG; None where it has no boundary, towns or branches."""
    from dataclasses import replace

    ours = (city.counties["name"] == county).to_numpy()
    area = Dataset(city.counties[ours], city.towns[city.towns["county"] == county],
                   cov.branches[cov.branches["county"] == county])
    if not (area.counties.geometry.notna().any() or len(area.towns) or len(area.branches)):
        return None
    measured = replace(cov, towns=cov.towns[cov.towns["county"] == county], branches=area.branches)
    pinyin = area.counties.get("name_pinyin", pd.Series(dtype=object)).dropna().astype(str).head(1).str.cat()
    # what the title keeps where no CJK font is installed: the pinyin, else the county's code
    latin = pinyin or str(cov.by_county.loc[cov.by_county["county"] == county, "county_id"].iloc[0])
    return _map_png(area, measured, f"{county} {latin} 网点覆盖 coverage", new_sites, service_areas=True)


def _county_picture(picture: bytes | None, county: str) -> str:
    """A county page's map, or why it has none."""
    if picture is None:
        return (f"<p>无地图：{escape(county)} 在区县表中无边界，也无乡镇或网点。 No map: {escape(county)} has no "
                "boundary in the counties table, and no towns or branches.</p>")
    return _inline_picture(picture, f"{county} 网点覆盖 coverage")


def _map_png(area: Dataset, measured: Coverage, title: str, new_sites: pd.DataFrame | None,
             service_areas: bool = False) -> bytes:
    """maps.static_map of `area` (with `new_sites` green and numbered; the branches' service areas outlined with
    `service_areas`) as a PNG."""
    from netopt.maps import static_map

    suggested = None if new_sites is None or new_sites.empty else new_sites.assign(kind="new")
    return png_of(lambda path: static_map(area, path, coverage=measured, title=title, sites=suggested,
                                          selected=None if suggested is None else list(suggested["site_id"]),
                                          service_areas=service_areas))


def png_of(draw) -> bytes:
    """What `draw` (a static map's or chart's maker, given the path to write) draws, as a PNG's bytes."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return draw(Path(folder) / "drawn.png").read_bytes()


def _county_chart_png(by_county: pd.DataFrame) -> bytes | None:
    """Coverage by county as maps.county_chart draws it, a PNG's bytes; None where no county has a rate."""
    from netopt.maps import county_chart

    if by_county["coverage_rate_pct"].isna().all():
        return None
    return png_of(lambda path: county_chart(by_county, path))


def _inline_picture(picture: bytes, title: str) -> str:
    """A PNG as an <img> holding it, so the page stays one file that opens offline."""
    import base64

    data = base64.b64encode(picture).decode("ascii")
    return f'<p><img alt="{escape(title)}" style="max-width:100%" src="data:image/png;base64,{data}"></p>'


def _sites_located(sites: pd.DataFrame, coords: str) -> pd.DataFrame:
    """Suggested new sites as a sheet: their columns, and their lon/lat in `coords` where they carry points."""
    if isinstance(sites, gpd.GeoDataFrame) and sites.geometry.name in sites:
        return points_table(sites, coords)
    return pd.DataFrame(sites.drop(columns="geometry", errors="ignore"))


def _new_sites_section(new_sites: pd.DataFrame) -> str:
    """A county page's suggested new branches: how many residents they bring within reach, then each."""
    from netopt.planning import counted_by_distance, suggested_title

    title = f"<h2>{suggested_title(new_sites)} ({len(new_sites)})</h2>"
    if new_sites.empty:
        return title + ("<p>新设网点不能使更多居民进入服务范围。 No new branch brings more of the county's residents "
                        "within reach.</p>")
    first = new_sites.iloc[0]
    today, after = f"{first['covered_wan_today']:,.1f}", f"{first['covered_wan_after']:,.1f}"
    if counted_by_distance(new_sites):
        said = (f"<p>新设后，本区县按距离折算的覆盖人口由 {today} 万人增至 {after} 万人（按诊断口径，现有网点保留）；每个"
                f"网点的新增覆盖为仅它带来的折算覆盖人口。 With them, the county's residents counted covered by "
                f"distance go from {today} to {after} 万人 (as the diagnosis counts them, today's branches kept); each "
                "adds what only it brings, counted by distance 新增覆盖.</p>")
    else:
        said = (f"<p>新设后，本区县服务范围内居民由 {today} 万人增至 {after} 万人（按诊断口径，现有网点保留）；每个网点的"
                f"新增覆盖为仅它带入服务范围的居民。 With them, {today} → {after} 万人 of the county's residents are "
                "within reach of a branch (as the diagnosis counts them, today's branches kept); each adds the "
                "residents only it brings within reach 新增覆盖.</p>")
    return title + said + _html_table(new_sites[["rank", "site_id", "name", "adds_covered_wan", "reaches"]].round(2))


def city_report(cov: Coverage, out_dir: str | Path, failures: dict[str, str],
                rivals: RivalCoverage | None = None, new_sites: pd.DataFrame | None = None,
                city: Dataset | None = None, coords: str = "wgs84",
                county_maps: dict[str, bytes] | None = None, title: str = DECK_TITLE,
                template: str | Path | None = None, word_template: str | Path | None = None,
                access: Accessibility | None = None) -> list[Path]:
    """The city-wide summary: with `city` (the Dataset measured) a map of the city, by region and by county, the
    most underserved towns, with `new_sites` each county's suggested new branches, any failed county, and with
    `rivals` our coverage beside every bank's by region and the towns only a rival reaches (places with their
    lon/lat in `coords` in the workbook; coverage by county charted too); as a page, a workbook, slides for the
    meeting (deck.meeting_deck, with a slide per county and its map from `county_maps`, PNGs by county name, and
    `title`; in the bank's PowerPoint `template` where given), the analysis report as a Word document
    (document.analysis_report, in the bank's `word_template` where given), and the map as a PNG; with `access`
    (netopt.accessibility's result) its tables, its map (city_access_map.png, with `city`) and Lorenz curve
    (city_access_lorenz.png) in each of them."""
    from netopt.deck import meeting_deck
    from netopt.document import analysis_report

    out = _out_folder(out_dir)
    failed = pd.DataFrame({"county": list(failures), "error": list(failures.values())})
    unnumbered = None if new_sites is None else new_sites.drop(columns="rank")  # ranks repeat across counties
    map_title = "城市 City 网点覆盖 coverage"
    picture = None if city is None else _map_png(city, cov, map_title, unnumbered)
    chart = _county_chart_png(cov.by_county)
    body = "" if picture is None else _inline_picture(picture, map_title)
    body += (f"<h2>区域 By region</h2>{_html_table(cov.by_region.round(3))}"
            f"<p>核心城区与县域覆盖率差 core − county coverage gap: {cov.core_county_gap_pp:+.1f} pp</p>"
            f"<h2>区县 By county</h2>{_html_table(cov.by_county.round(3))}"
            + ("" if chart is None else _inline_picture(chart, "分区县覆盖率 Coverage by county"))
            + "<h2>服务不足乡镇 Most underserved towns</h2>"
            f"{_html_table(_columns(cov.underserved_towns, UNDERSERVED_COLUMNS).head(20))}"
            + (f"<h2>未完成 Failed counties</h2>{failed.to_html(index=False)}" if failures else ""))
    towns_at = _town_places(cov, city)
    sheets = {"by_region": cov.by_region.round(3), "by_county": cov.by_county.round(3),
              "underserved_towns": placed_by(_columns(cov.underserved_towns, UNDERSERVED_COLUMNS), towns_at,
                                             "town_id", coords), "failed": failed}
    if new_sites is not None:
        sheets["new_sites"] = _sites_located(new_sites, coords)
        body += (f"<h2>建议新设网点 Where new branches would cover most</h2>"
                 f"{_html_table(new_sites[['county', 'rank', 'name', 'adds_covered_wan']].round(2))}")
    if rivals is not None:
        sheets.update(rivals_by_region=rivals.by_region.round(3),
                      rival_only_towns=placed_by(rivals.rival_only, towns_at, "town_id", coords))
        body += (f"<h2>我行与全部银行 Ours against every bank</h2>{_html_table(rivals.by_region.round(3))}"
                 f"<h2>仅他行覆盖的乡镇 Towns only another bank reaches</h2>{_html_table(rivals.rival_only.head(20))}")
    drawn = _access_part(access, out, sheets, city)
    lorenz_png, access_png = (drawn[name].read_bytes() if name in drawn else None for name in ("lorenz", "map"))
    if access is not None:
        body += (f"<h2>可达性 Accessibility (2SFCA)</h2><p>{escape(access.summary())}</p>"
                 f"{_html_table(access.by_region.round(3))}{_html_table(access.by_county.round(3))}"
                 + ("" if access_png is None else _inline_picture(access_png, ACCESS_MAP_TITLE))
                 + _inline_picture(lorenz_png, "可达性洛伦兹曲线 Access across residents"))
    page = PAGE.format(title="城市汇总 City summary", body=body, note=escape(" ".join([*cov.notes, cov.attribution])))
    return [write_atomic(out / "city_summary.html", lambda p: p.write_text(page, encoding="utf-8")),
            write_atomic(out / "city_summary.xlsx", lambda p: write_workbook(p, sheets)),
            meeting_deck(cov, out / "city_summary.pptx", title, city_map=picture, county_maps=county_maps,
                         new_sites=new_sites, rivals=rivals, failures=failures, template=template, access=access,
                         lorenz=lorenz_png, access_map=access_png),
            analysis_report(cov, out / "city_summary.docx", title, city_map=picture, county_maps=county_maps,
                            new_sites=new_sites, rivals=rivals, failures=failures, template=word_template,
                            county_chart=chart, access=access, lorenz=lorenz_png, access_map=access_png),
            *_map_file(out / "city_summary.png", picture), *drawn.values()]


ACCESS_MAP_TITLE = "城市 City 可达性 accessibility"


def _access_part(access: Accessibility | None, out: Path, sheets: dict[str, pd.DataFrame],
                 city: Dataset | None) -> dict[str, Path]:
    """With accessibility (else nothing): its tables added to the city workbook's `sheets`, its map written as
    city_access_map.png where `city` (the Dataset measured) is given, and its Lorenz curve as
    city_access_lorenz.png; the files written by "map" and "lorenz"."""
    if access is None:
        return {}
    from netopt.access import check_accessibility
    from netopt.maps import lorenz_chart, static_map

    check_accessibility(access, "report")
    sheets.update(access_by_region=access.by_region.round(3), access_by_county=access.by_county.round(3))
    drawn = {} if city is None else {"map": static_map(city, out / "city_access_map.png", access=access,
                                                       title=ACCESS_MAP_TITLE)}
    return drawn | {"lorenz": lorenz_chart(access.lorenz(100), out / "city_access_lorenz.png", access.city["gini"])}


def batch_reports(cov: Coverage, out_dir: str | Path, progress=None, plan: pd.DataFrame | None = None,
                  rivals: RivalCoverage | None = None, new_sites: pd.DataFrame | None = None,
                  city: Dataset | None = None, coords: str = "wgs84",
                  title: str = DECK_TITLE, template: str | Path | None = None,
                  word_template: str | Path | None = None,
                  access: Accessibility | None = None) -> tuple[list[Path], dict[str, str]]:
    """A report per county plus the city summary; a county that fails is recorded and the others go on. With
    `rivals` (competition.rival_coverage of our bank's `cov` and every bank's) each report compares them; with
    `new_sites` (planning.suggest_new_sites) each lists its county's; with `city` (the Dataset measured) each
    opens with a map of its county, also written as a PNG and shown on the county's slide in the city's deck
    (its first slide `title`d, e.g. 农行合肥分行网点覆盖诊断; in the bank's PowerPoint `template` where given) and
    in the city's analysis report (city_summary.docx, in the bank's `word_template` where given). With `access`
    (netopt.accessibility's result, e.g. within the same limits) the city summary has accessibility 可达性 too."""
    _out_folder(out_dir)
    _check_type_plan(plan)
    written: list[Path] = []
    failures: dict[str, str] = {}
    county_maps: dict[str, bytes] = {}
    for county in cov.by_county["county"]:
        try:
            files = county_report(cov, county, out_dir, plan, rivals, new_sites, city, coords, access)
        except Exception as err:  # one bad county must not stop the batch; its reason goes in the summary
            failures[county] = f"{type(err).__name__}: {err}"
        else:
            written += files
            county_maps.update({county: path.read_bytes() for path in files if path.suffix == ".png"})
        if progress is not None:
            progress()
    written += city_report(cov, out_dir, failures, rivals, new_sites, city, coords, county_maps, title, template,
                           word_template, access)
    return written, failures


ACCESS_UNIT_COLUMNS = ["cell_id", "town_id", "name", "town", "county", "region_type", "population", "radius_km",
                       "time_limit_min", "branches_within", "access_per_wan", "access_index"]
ACCESS_BRANCH_COLUMNS = ["branch_id", "name", "bank", "type", "county", "supply", "catchment_residents_wan",
                         "residents_per_supply_wan", "location_method"]
ACCESS_LAYERS = {"counties": "区县 counties: access 可达性 (branches per 万人 within reach), its Gini, residents with "
                 "low access", "towns": "乡镇 towns: access 可达性, branches per 万人 within reach (floating catchment)",
                 "cells": "人口网格 population cells: access 可达性, branches per 万人 within reach (floating catchment)",
                 "branches": "网点 branches: the residents within each one's catchment, per unit of its supply"}
LORENZ_STEPS = 20  # the Lorenz curve's rows in the tables: every 5 % of the residents


def access_tables(access: Accessibility, coords: str = "wgs84") -> dict[str, pd.DataFrame]:
    """Accessibility (netopt.accessibility's result) as plain tables, one per sheet/CSV, rounded for reading: the
    city's figures, by region and county, on a grid its towns, the towns (or cells) and branches with lon/lat in
    `coords`, the Lorenz curve and the notes."""
    by_town = {"towns": access.by_town().round(3)} if access.demand_kind == "cells" else {}
    return {"city": access.city.to_frame().T.round(3), "by_region": access.by_region.round(3),
            "by_county": access.by_county.round(3), **by_town,
            access.demand_kind: located(_columns(access.units, ACCESS_UNIT_COLUMNS), access.units, coords),
            "branches": located(_access_branch_table(access.branches), access.branches, coords),
            "lorenz": access.lorenz(LORENZ_STEPS).round(3), "notes": pd.DataFrame({"note": access.notes})}


def _access_branch_table(branches: pd.DataFrame) -> pd.DataFrame:
    """The branches of an accessibility as a table: their type is today's (现有类型)."""
    return _columns(branches, ACCESS_BRANCH_COLUMNS).rename(columns={"type": "current_type"})


def access_layers(access: Accessibility) -> dict[str, gpd.GeoDataFrame]:
    """Accessibility as map layers (WGS84): the counties with their figures (where boundaries are known), the
    towns (or grid cells, as areas) and the branches."""
    boundaries = access.county_boundaries
    counties = {"counties": _county_layer(access.by_county, boundaries)} if boundaries is not None else {}
    return {**counties, access.demand_kind: _with_places(_columns(access.units, ACCESS_UNIT_COLUMNS), access.units),
            "branches": _with_places(_access_branch_table(access.branches), access.branches)}


def write_access_report(access: Accessibility, out_dir: str | Path, coords: str = "wgs84",
                        layers: bool = True) -> tuple[list[Path], dict[str, int]]:
    """Write accessibility's tables as CSVs (UTF-8 with BOM) and access.xlsx, and unless `layers` is False its map
    layers as access.gpkg (lon/lat in `coords`) and access.kmz (WGS84; a layer of too many places, such as a fine
    grid's cells, left out); the paths, and the places the KMZ left out by layer."""
    from netopt.access import check_accessibility

    check_accessibility(access, "report")
    out = _out_folder(out_dir)
    written = write_csv_and_workbook(out, access_tables(access, coords), "access")
    if not layers:
        return written, {}
    drawn = access_layers(access)
    maps, left_out = write_map_files(out / "access.gpkg", drawn, coords, HEADERS_ZH, ACCESS_LAYERS,
                                     {name: "Point" for name in drawn if name != "cells"})
    return written + maps, left_out
