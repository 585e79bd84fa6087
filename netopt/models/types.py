"""Branch-type assignment (网点功能定位): score each branch's service area, then give every branch one of four
types by an integer program with type-mix bounds, staff, conversion budget and region rules."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, check_amount, check_count, check_kind, is_number
from netopt._schema import REGION_ZH, TYPE_ZH
from netopt.io import CELL_UNIT, Dataset, without_thousands_commas
from netopt.models._base import reach_rows
from netopt.models._explain import Blocking, blocking_reasons
from netopt.models._milp import (INF, MatrixMILP, check_solver_arguments, relative_gap, seconds_left, solve_highs,
                                 tie_broken)

TYPES = ("comprehensive", "community", "inclusive", "light")
COMPREHENSIVE_IN = "comprehensive_in_"
# staff ranges of the planning document; light branches are small and set by the analyst (default 3–5)
STAFF_RANGE = {"comprehensive": (12, 15), "community": (8, 10), "inclusive": (6, 8), "light": (3, 5)}
# An ASSUMPTION for illustration, not a figure from any source: 50万元 to convert a branch to another type.
DEFAULT_CONVERSION_COST_WAN = 50.0

# the three dimensions the function-positioning model scores an area on, and the region a branch stands in
ECONOMY, CUSTOMERS, DEMAND, REGION = ("经济活跃度 economic activity", "客群特征 customer features",
                                      "服务需求 service demand", "区域 region")
# indicator -> (its Chinese name, dimension, how it is computed); each scaled 0..1 among the branches (_scaled)
INDICATORS = {
    "gdp_per_capita": ("人均GDP", ECONOMY, "区县地区生产总值÷常住人口 county GDP (亿元) per resident"),
    "urban_share": ("城镇化率", ECONOMY, "区县城镇人口÷常住人口 county urban population share"),
    "branch_cluster": ("网点集聚度", ECONOMY, "1公里内其他有网点之处（各行，同一坐标计一处）：银行聚集于商圈 other places "
                       "holding a branch of any bank within 1 km (branches at one point counted once): banks gather "
                       "in commercial centres"),
    "schooling": ("受教育年限", CUSTOMERS, "区县平均受教育年限 county average years of schooling"),
    "density": ("人口密度", CUSTOMERS, "区县常住人口÷面积 county residents per km²"),
    "town_urban": ("所在乡镇城镇化", CUSTOMERS, "网点最近乡镇中城镇社区的占比（统计局城乡划分代码1xx，乡镇表share_urban_coded列），"
                   "无此列时按乡镇名称：街道1、镇0.5、乡0 the share of urban-coded communities (NBS 1xx) in the branch's "
                   "nearest town (the towns table's share_urban_coded), else by the town's name: 街道 subdistrict 1, 镇 "
                   "town 0.5, 乡 township 0 — homes of a city's streets, not a village's"),
    "elderly_share": ("老龄人口占比", CUSTOMERS, "区县65岁及以上人口占比 county share of residents aged 65+"),
    "served_population": ("服务人口", DEMAND, "网点所在乡镇的人口（同乡镇网点均分）及以其为最近网点的无网点乡镇人口 "
                          "residents of its town, shared among the branches there, and of the towns without a branch "
                          "nearest to it"),
    "unserved_population": ("未覆盖人口", DEMAND, "其中在服务半径外的人口 those of them beyond the service radius"),
    "branch_level": ("网点级别", DEMAND, "网点表级别列（网点级别、机构级别），无此列时按网点名称最后的级别词：营业部、营业室、分行1，"
                     "一级支行0.75，支行0.5，二级支行0.25，分理处、储蓄所、营业所、社区支行、社区银行、便民店、自助银行0 the "
                     "branch's level, from the branches table's level column (网点级别) else the last level word of its "
                     "name: a business department 营业部 or branch 分行 1 (full service), a sub-branch 支行 0.5 (一级支行 "
                     "0.75, 二级支行 0.25), an office or outlet 分理处, 储蓄所, 营业所, 社区支行, 社区银行, 便民店, 自助银行 0"),
}
ANALYST_INDICATOR = "网点表自有字段（存款、贷款…） the branches table's own column (deposits, loans …)"
REGION_INDICATOR = "网点最近乡镇的区域类型（否则其区县的） the region type of the branch's nearest town, else its county's"
# the counties table's column each county indicator comes from (docs/inputs.md), for a data lacking it
INDICATOR_COLUMNS = {
    "gdp_per_capita": "地区生产总值 (GDP)", "urban_share": "城镇人口 or 城镇化率", "schooling": "平均受教育年限",
    "density": "面积 or boundaries", "elderly_share": "65岁及以上人口占比",
}
# suitability of each type: weights on indicators (negative = the type fits low values) and on region types
DEFAULT_SUITABILITY = {
    "comprehensive": {"gdp_per_capita": 1.0, "urban_share": 1.0, "schooling": 1.0, "branch_cluster": 1.5,
                      "served_population": 1.0, "branch_level": 2.0, "region:core": 1.0},
    "community": {"density": 1.0, "elderly_share": 1.0, "branch_cluster": -1.5, "town_urban": 2.0,
                  "served_population": 0.5, "branch_level": -1.5, "region:core": 0.5, "region:fringe": 0.5},
    "inclusive": {"urban_share": -1.0, "density": -1.0, "schooling": -0.5, "town_urban": -1.5,
                  "unserved_population": 0.5, "branch_level": -1.0, "region:county": 1.5},
    "light": {"elderly_share": -1.0, "schooling": 0.5, "region:fringe": 1.5},
}


@dataclass
class TypeRules:
    """Constraints of the type plan; every rule is optional."""

    mix: dict = field(default_factory=dict)  # type -> (min share, max share); None = no bound
    budget_wan: float | None = None
    conversion_cost_wan: float | dict = DEFAULT_CONVERSION_COST_WAN  # flat, or {(from, to): 万元}
    staff_limit: int | None = None  # total staff at each type's minimum staffing
    inclusive_outside_core: bool = True
    community_in_urban_towns: bool = True  # a community branch stands in an urban town (urban_towns), or is one today
    light_only_fringe: bool = False
    comprehensive_min_score: float | None = None  # economic-activity score (0..1) a comprehensive branch needs
    comprehensive_per_county: bool = False  # at least one comprehensive branch in every county
    licensed_outlets_not_comprehensive: bool = True  # a 社区支行 / 社区银行 by name is not made comprehensive


COMMUNITY_LICENCE = re.compile(r"社区(?:支行|银行)")  # a branch licensed as a community outlet, by its name
LICENCE_WORDS = ("community outlets licensed as such — 社区支行, 社区银行 by name — are not made comprehensive: "
                 "their licence is a community's retail business (licensed_outlets_not_comprehensive=False, "
                 "--licensed-outlets-any-type, lifts it)")


def licensed_community_outlets(names) -> np.ndarray:
    """Whether each name marks a branch licensed as a community outlet (COMMUNITY_LICENCE: 社区支行, 社区银行)."""
    return np.array([isinstance(name, str) and bool(COMMUNITY_LICENCE.search(name)) for name in names], bool)


def branch_scores(ds: Dataset, coverage=None) -> tuple[pd.DataFrame, list[str]]:
    """Indicator values (0..1, _scaled) per branch and the list of indicators the data lacks (reported, never
    zero). The branch cluster counts every bank's branches in the data (ds.all_branches)."""
    from netopt.coverage import Coverage, analyze_coverage

    check_kind(coverage, (Coverage, type(None)), "coverage is a diagnosis from analyze_coverage", "type plan")
    cov = coverage if coverage is not None else analyze_coverage(ds)
    branches = cov.branches
    counties = ds.counties.set_index("name")
    county = branches["county"]
    raw = pd.DataFrame(index=branches.index)
    pop = county.map(counties["population"]).astype(float)
    raw["gdp_per_capita"] = county.map(counties["gdp_yi"]).astype(float) / pop
    raw["urban_share"] = county.map(_column(counties, "pop_urban")).astype(float) / pop
    raw["schooling"] = county.map(_column(counties, "avg_years_schooling")).astype(float)
    raw["density"] = pop / county.map(counties["area_km2"]).astype(float)
    raw["elderly_share"] = county.map(_column(counties, "share_65plus_pct")).astype(float)
    raw["branch_cluster"] = _branch_places_within(branches, ds.all_branches)
    nearest = _nearest_towns(ds, branches)
    raw["town_urban"] = np.nan if nearest is None else town_urban_shares(ds.towns)[nearest]
    raw["served_population"] = _served_residents(cov)
    uncovered = cov.towns[~cov.towns["covered"]].groupby("nearest_branch_id")["population"].sum()
    raw["unserved_population"] = branches["branch_id"].map(uncovered).fillna(0.0).astype(float)
    raw["branch_level"] = branch_levels(branches)
    for column in analyst_indicators(ds):  # e.g. deposits, loans, fee income, digital users given per branch
        raw[column] = _as_numbers(ds.branches[column]).to_numpy(float)
    missing = [name for name in raw if raw[name].isna().all()]
    scaled = raw.drop(columns=missing).apply(_scaled)
    region = _branch_region(ds, nearest, county.map(counties["region_type"]))
    for kind in ("core", "county", "fringe"):
        scaled[f"region:{kind}"] = (region == kind).astype(float)
    scaled.insert(0, "branch_id", branches["branch_id"].values)
    scaled["county"] = county.values
    scaled["region_type"] = region.values
    return scaled.reset_index(drop=True), missing


def _served_residents(cov) -> np.ndarray:
    """The residents each branch serves: those of the town it stands in (its nearest; or grid cell), shared
    equally among the branches there, and those of the towns without a branch whose nearest branch it is. (Each
    town's residents going to the one branch nearest its point alone would leave most branches of a town that has
    several with none: the sample's 372 of 480.)"""
    from netopt.distance import nearest_site
    from netopt.projection import metric_crs, xy_metres

    units, branches = cov.towns, cov.branches
    people = units["population"].to_numpy(float)
    _, home = nearest_site(xy_metres(branches, crs := metric_crs(units, branches)), xy_metres(units, crs))
    held = np.bincount(home, minlength=len(units))
    served = people[home] / held[home]
    branchless = (held == 0) & units["nearest_branch_id"].notna().to_numpy()
    nearest = pd.Index(branches["branch_id"]).get_indexer(units["nearest_branch_id"][branchless])  # ids are unique
    np.add.at(served, nearest, people[branchless])
    return served


LEVEL_COLUMNS = ("网点级别", "机构级别", "网点层级", "机构层级", "level", "branch_level")  # a branches table's level column
# level words, the last in a name deciding (合肥分行钟楼支行: a sub-branch; 肥西支行营业部: its business department)
LEVEL_WORDS = {"营业部": 1.0, "营业室": 1.0, "分行": 1.0, "一级支行": 0.75, "支行": 0.5, "二级支行": 0.25, "分理处": 0.0,
               "储蓄所": 0.0, "营业所": 0.0, "社区支行": 0.0, "社区银行": 0.0, "便民": 0.0, "自助银行": 0.0}
_LEVEL_PATTERN = re.compile("|".join(sorted(LEVEL_WORDS, key=len, reverse=True)))


def branch_levels(branches: pd.DataFrame) -> pd.Series:
    """Each branch's level 网点级别, 0..1 (LEVEL_WORDS): by its level column (LEVEL_COLUMNS) where that says one,
    else by the last level word of its name; NaN where neither does."""
    by_name = branches["name"].map(_level_of)
    column = next((c for c in LEVEL_COLUMNS if c in branches), None)
    return by_name if column is None else branches[column].map(_level_of).fillna(by_name)


def _level_of(text) -> float:
    """The level LEVEL_WORDS gives the last level word of `text`; NaN without one."""
    found = _LEVEL_PATTERN.findall(text) if isinstance(text, str) else []
    return LEVEL_WORDS[found[-1]] if found else np.nan


def _nearest_towns(ds: Dataset, branches) -> np.ndarray | None:
    """The position in ds.towns of the town nearest to each branch; None where there are no towns."""
    from netopt.distance import nearest_site
    from netopt.projection import metric_crs, xy_metres

    if ds.towns.empty or branches.empty:
        return None
    crs = metric_crs(ds.towns, branches)
    return nearest_site(xy_metres(branches, crs), xy_metres(ds.towns, crs))[1]


def _branch_region(ds: Dataset, nearest: np.ndarray | None, county_region: pd.Series) -> pd.Series:
    """The region type of the town nearest to each branch (`nearest`: _nearest_towns'; towns carry fringe), else
    its county's."""
    if nearest is None or "region_type" not in ds.towns or ds.towns["region_type"].isna().all():
        return county_region.fillna("county").astype(str)
    town_region = pd.Series(ds.towns["region_type"].to_numpy()[nearest], index=county_region.index)
    return town_region.fillna(county_region).fillna("county").astype(str)


URBAN_CODED = "share_urban_coded"  # a towns column: its communities' share coded urban (NBS 城乡划分代码 1xx), 0..1
URBAN_COUNTS = ("n_urban_coded", "n_village_coded")  # or its counts of urban- and village-coded units
URBAN_BY_NAME = {"街道": 1.0, "镇": 0.5, "乡": 0.0}  # a town's urban share told by its name's last word


def town_urban_shares(towns: pd.DataFrame) -> np.ndarray:
    """How urban each town is, 0..1: its share of urban-coded communities where the towns table gives it
    (URBAN_CODED, or the counts n_urban_coded and n_village_coded, as the bundled national towns have them), else
    by its name — a subdistrict 街道 (…街道办事处, 林店街道) 1, a town 镇 0.5, a township 乡 0; NaN for other names
    (开发区, 农场 …)."""
    names = towns["name"].astype(str).str.replace(r"(办事处|）|\))$", "", regex=True)
    by_name = np.select([names.str.endswith(word) for word in URBAN_BY_NAME], list(URBAN_BY_NAME.values()), np.nan)
    if URBAN_CODED in towns:
        coded = pd.to_numeric(towns[URBAN_CODED].astype(str).str.rstrip("%"), errors="coerce").to_numpy(float)
        if np.nanmax(coded, initial=0) > 1 and np.nanmax(coded, initial=0) <= 100:  # percentages: 85, 85%
            coded = coded / 100
    elif set(URBAN_COUNTS) <= set(towns.columns):
        urban, rural = (pd.to_numeric(towns[c], errors="coerce").to_numpy(float) for c in URBAN_COUNTS)
        with np.errstate(divide="ignore", invalid="ignore"):
            coded = urban / (urban + rural)
    else:
        return by_name
    return np.where(np.isfinite(coded) & (coded >= 0) & (coded <= 1), coded, by_name)


URBAN_TOWN_SHARE = 0.5  # a town at least this urban (town_urban_shares) is a city's or a county seat's


def urban_towns(towns: pd.DataFrame) -> np.ndarray:
    """The towns a community branch 社区型 belongs in (residential areas, not villages): those at least
    URBAN_TOWN_SHARE urban (town_urban_shares), and each county's most urban town — its seat 城关, whose villages may
    outnumber its streets; True where unknown (not ruled out)."""
    share = pd.Series(town_urban_shares(towns), index=towns.index)
    county = towns["county"].astype(str) if "county" in towns else pd.Series("", index=towns.index)
    most = share.groupby(county).transform("max")
    return (share.isna() | (share >= URBAN_TOWN_SHARE) | (share >= most)).to_numpy()


URBAN_TOWN_WORDS = (f"towns with at least {URBAN_TOWN_SHARE:.0%} of their communities urban-coded, or their county's "
                    "most urban town, its seat")


def in_urban_towns(ds: Dataset, points) -> np.ndarray:
    """Whether each point's nearest town is one a community branch belongs in (urban_towns); True without towns."""
    nearest = _nearest_towns(ds, points)
    return np.ones(len(points), bool) if nearest is None else urban_towns(ds.towns)[nearest]


def analyst_indicators(ds: Dataset) -> list[str]:
    """Numeric columns the analyst added to the branches table (deposits, loans, ...): usable in weights=. A
    column read from a file counts when every filled cell is a number (thousands separators allowed); netopt's
    own measures of a table it wrote, read back (a type plan's staff and scores, a diagnosis's served residents:
    `staff 人员`), do not."""
    from netopt.coverage import BRANCH_STATS

    known = {"branch_id", "name", "bank", "type", "county", "address", "lon", "lat", "geometry", "plan"}
    measured = {"staff", "cost_wan", "score", *(f"score_{kind}" for kind in TYPES), *BRANCH_STATS}
    return [c for c in ds.branches.columns if c not in known and str(c).split(" ")[0] not in measured
            and _as_numbers(ds.branches[c]) is not None]


def _as_numbers(values: pd.Series) -> pd.Series | None:
    """The column as numbers (NaN where blank), or None unless it holds some and nothing else."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float) if values.notna().any() else None
    filled, numbers = _cell_numbers(values)
    return numbers if filled.any() and numbers[filled].notna().all() else None


MAGNITUDES = {"万": 1e4, "亿": 1e8}  # an analyst's figure with its magnitude written in: 1.5亿, 3,000万元
COUNTED = ("", "元", "人", "户", "笔", "个")  # what may follow it


def _cell_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Which cells of a column hold anything, and their numbers — thousands separators allowed, and a magnitude
    (1.5亿, 3,000万元: 150,000,000 and 30,000,000) —, NaN where blank or no number."""
    text = without_thousands_commas(values.astype("string").str.strip())
    filled = (text.notna() & (text != "")).astype(bool)
    numbers = pd.to_numeric(text.where(filled), errors="coerce").astype(float)
    parts = text.where(filled & numbers.isna()).str.extract(CELL_UNIT)
    unit = parts["unit"].str.strip()
    magnitude = unit.str[0].map(MAGNITUDES).where(unit.str[1:].isin(COUNTED)).astype(float)
    return filled, numbers.fillna(parts["number"].astype(float) * magnitude)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(np.nan, index=frame.index)


def _scaled(values: pd.Series) -> pd.Series:
    """An indicator 0..1 among the branches: a county figure between the least and the most (how far apart the
    counties are kept); a branch's own (the residents it serves, its branch cluster, the analyst's columns) by
    rank, the share of the other branches below it — a few very large values, one branch for a town of 20万,
    would squash the rest towards 0, and a branch's differences from its neighbours then weigh nothing beside the
    counties'. 0.5 where all are alike. Its town's urban share and its level are 0..1 already, kept as they are."""
    if values.name in ("town_urban", "branch_level"):
        return values
    filled = int(values.notna().sum())
    if filled < 2 or values.nunique() < 2:
        return pd.Series(0.5, index=values.index).where(values.notna())
    if values.name in INDICATOR_COLUMNS:
        return (values - values.min()) / (values.max() - values.min())
    return (values.rank(method="min") - 1) / (filled - 1)


CLUSTER_KM = 1.0  # the reach of a branch's cluster: the other places holding a branch within it


def _branch_places_within(points: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, km: float = CLUSTER_KM) -> np.ndarray:
    """How many places holding a branch of `branches` (any bank's; branches at one point, as those located by their
    town's point are, counted once) lie within `km` of each point, its own place left out: banks gather in
    commercial centres."""
    from netopt.distance import count_within
    from netopt.projection import metric_crs, xy_metres

    crs = metric_crs(points, branches)
    places = np.unique(xy_metres(branches, crs).round(), axis=0)
    xy = xy_metres(points, crs)
    within = count_within(xy, places, np.full(len(xy), km * 1000.0))
    return (within - count_within(xy, places, np.full(len(xy), 1.0))).astype(float)


def with_weights(extra: dict[str, dict[str, float]], base: dict = DEFAULT_SUITABILITY) -> dict:
    """The suitability weights `base` with the terms of `extra` ({type: {indicator: weight}}) added, or replacing
    the same indicator's weight; a weight of 0 drops the indicator from that type."""
    merged = {kind: dict(terms) for kind, terms in base.items()}
    for kind, terms in extra.items():
        if kind not in TYPES:
            raise InputError(f"weights name unknown type '{kind}'; types are {', '.join(TYPES)}", file="weights")
        merged.setdefault(kind, {}).update(terms)
        merged[kind] = {name: w for name, w in merged[kind].items() if w != 0}
    return merged


def _check_weights(weights: dict | None, scores: pd.DataFrame, missing: list[str], what: str,
                   branches: pd.DataFrame | None = None) -> None:
    """Every type and indicator the weights name is one the scores know (or one the data lacks, reported as
    missing): a misspelt name would otherwise weigh nothing, silently. A column of `branches` that is not all
    numbers is named with a cell that is not one."""
    weights = _by_type({} if weights is None else weights, "weights", what)
    offered = [c for c in scores.columns if c not in ("branch_id", "county", "region_type")]
    unknown = sorted({name for terms in weights.values() for name in terms if name not in {*offered, *missing}})
    if unknown:
        raise InputError(f"weights name {', '.join(map(repr, unknown))}, which no indicator is; indicators: "
                         f"{', '.join(offered + missing)} (a numeric column of the branches table is one by its header)"
                         + _not_numbers(branches, unknown), file="weights")


def _not_numbers(branches: pd.DataFrame | None, names: list[str]) -> str:
    """For weights naming a column of the branches table that is not all numbers: a cell of it that is not one."""
    said = ""
    for name in names:
        if branches is None or name not in branches.columns:
            continue
        filled, numbers = _cell_numbers(branches[name])
        cells = branches[name][filled & numbers.isna()]
        if len(cells):
            said += f"; the branches' column {name} holds a cell that is no number ({cells.iloc[0]!r})"
    return said


def suitability(scores: pd.DataFrame, weights: dict = DEFAULT_SUITABILITY) -> tuple[np.ndarray, list[list[str]]]:
    """A 0..1 suitability of every branch for every type, and for each branch and type its top two drivers — of
    the terms arguing for it (half or more of the way to its side: a town 0.29 urban is no "high town urban")."""
    n = len(scores)
    suit = np.zeros((n, len(TYPES)))
    drivers: list[list[str]] = [[""] * len(TYPES) for _ in range(n)]
    for t, kind in enumerate(TYPES):
        terms = {k: w for k, w in weights.get(kind, {}).items() if k in scores}
        if not terms:
            continue
        parts = np.column_stack([scores[k].fillna(0.5).to_numpy(float) * w if w > 0 else
                                 (1 - scores[k].fillna(0.5).to_numpy(float)) * -w for k, w in terms.items()])
        suit[:, t] = parts.sum(axis=1) / sum(abs(w) for w in terms.values())
        names, strength = list(terms), np.array([abs(w) for w in terms.values()])
        arguing = (parts >= 0.5 * strength) & (parts > 0)  # a term scoring half or more on its side: high, or low
        for b in range(n):
            top = [i for i in np.argsort(-parts[b], kind="stable") if arguing[b, i]][:2]
            drivers[b][t] = ", ".join(_driver_text(names[i], terms[names[i]]) for i in top)
    return suit, drivers


def _driver_text(name: str, weight: float) -> str:
    """Why a term weighs for a type, in Chinese and English: 核心城区 core area, 人口密度低 low density; an analyst's
    own column by its header (high 存款余额（亿元）)."""
    if name.startswith("region:"):
        region = name.split(":")[1]
        return f"{REGION_ZH.get(region, region)} {region} area"
    english = ("high " if weight > 0 else "low ") + name.replace("_", " ")
    if name not in INDICATORS:
        return english
    many = name.endswith("_population")  # residents: 多/少, rates and densities: 高/低
    return f"{INDICATORS[name][0]}{('多' if many else '高') if weight > 0 else ('少' if many else '低')} {english}"


def missing_hint(name: str) -> str:
    """What a data lacking the indicator `name` should add: a counties column, or (a town's urban share) a towns
    column or the towns' full names; "" for one netopt cannot say (an analyst's column)."""
    if name == "town_urban":
        return f"add {URBAN_CODED} (0..1) to the towns table, or name the towns in full (…街道, …镇, …乡)"
    return f"add {INDICATOR_COLUMNS[name]} to the counties table" if name in INDICATOR_COLUMNS else ""


def scoring_basis(plan: pd.DataFrame) -> pd.DataFrame:
    """How a type plan (assign_branch_types', or plan_network's sites) scored the branches 评分依据: each term the
    types weigh — an indicator by its dimension (经济活跃度, 客群特征, 服务需求; an analyst's own column as service
    demand), or the region a branch stands in —, how it is computed, whether the data gave it (a missing one is
    left out of the scores) and its weight for each type (negative: the type suits low values). A type's score is
    the weighted mean of its terms, each indicator normalised to 0..1 across the branches."""
    if not isinstance(plan, pd.DataFrame) or not {"weights", "missing_indicators"} <= set(plan.attrs):
        raise InputError("scoring_basis takes a plan as assign_branch_types or plan_network returns it (its attrs "
                         "hold the weights it scored by); a plan read back from a file does not say them",
                         file="scoring_basis")
    weights, missing = plan.attrs["weights"], plan.attrs["missing_indicators"]
    weighed = list(dict.fromkeys(name for kind in TYPES for name in weights.get(kind, {})))
    ordered = ([name for name in INDICATORS if name in weighed]
               + [name for name in weighed if name not in INDICATORS and not name.startswith("region:")]
               + [name for name in weighed if name.startswith("region:")])
    rows = []
    for name in ordered:
        zh, dimension, computed = INDICATORS.get(name, (name, DEMAND, ANALYST_INDICATOR))
        if name.startswith("region:"):
            zh, dimension, computed = _driver_text(name, 1.0), REGION, REGION_INDICATOR
        absent = f"缺 missing — {missing_hint(name) or 'not in the data'}" if name in missing else ""
        rows.append({"dimension": dimension, "indicator": name, "indicator_name": zh, "computed": computed,
                     "data": absent or "有 given",
                     **{f"weight_{kind}": weights.get(kind, {}).get(name, np.nan) for kind in TYPES}})
    return pd.DataFrame(rows, columns=["dimension", "indicator", "indicator_name", "computed", "data",
                                       *(f"weight_{kind}" for kind in TYPES)])


def assign_branch_types(ds: Dataset, mix: dict | None = None, budget_wan: float | None = None,
                        coverage=None, current_types: pd.Series | None = None, weights: dict | None = None,
                        time_limit: float | None = None, **rules) -> pd.DataFrame:
    """One type per branch, maximising total suitability subject to the type rules (see TypeRules).

    mix: {"community": (0.40, None), ...} shares of all branches (a single number: that share exactly, to the
    nearest whole branch). Of one bank's branches (ds.of_bank), each one's cluster counts every bank's around it.
    Returns one row per branch:
    branch_id, name, county, region_type, current_type, type, type_zh, staff, cost_wan, score (its type's
    suitability, 0..1), reasons, and its suitability for each type, score_comprehensive … score_light (how near
    the others came). The plan's status, objective, the indicators the data lacked, the weights it scored by and
    notes on a type no branch was given (why, and how to have some) are in `plan.attrs`.
    """
    what = "assign_branch_types"
    if len(ds.branches) == 0:
        raise InputError("no branches to give a type to", file=what)
    type_rules = _type_rules(dict(rules, mix=_check_mix(mix, what), budget_wan=budget_wan), what)
    check_solver_arguments(time_limit, 0.0)
    scores, missing = branch_scores(ds, coverage)
    _check_weights(weights, scores, missing, what, ds.branches)
    suit, drivers = suitability(scores, weights or DEFAULT_SUITABILITY)
    current = _current_types(ds, current_types)
    cost = _conversion_costs(current, type_rules.conversion_cost_wan)
    allowed = _allowed(scores, suit, type_rules, in_urban_towns(ds, ds.branches), current,
                       licensed_community_outlets(ds.branches["name"]))
    reason = _explain(allowed, type_rules, cost, len(scores))
    if reason:
        raise_infeasible(reason)
    milp = _build(suit, allowed, cost, type_rules, scores)
    raw = solve_highs(milp, time_limit=time_limit)
    if raw.status == "error":
        raise_no_plan_yet("type plan", raw.message)
    if raw.status == "infeasible":
        raise_infeasible(blocking_reasons(milp, lambda name: not name.startswith("one_type_"), _type_reason)
                         or "the type rules cannot all be met together (mix bounds, budget, staff limit and "
                         "region rules); relax one of them")
    plan = _plan(ds, scores, suit, drivers, current, cost, raw, missing)
    plan.attrs["weights"] = _weights_used(weights)  # for scoring_basis
    plan.attrs["notes"] = _unchosen_type_notes(plan, scores, plan.attrs["weights"], allowed, type_rules)
    note = community_rule_note(int((~allowed[:, TYPES.index("community")]).sum()), len(plan), "branches",
                               type_rules.mix)
    if note:
        plan.attrs["notes"].append(f"社区型 community: {note}")
    return plan


def _unchosen_type_notes(plan: pd.DataFrame, scores: pd.DataFrame, weights: dict, allowed: np.ndarray,
                         r: TypeRules) -> list[str]:
    """Why a type no branch was given has none (unless a maximum share of 0 kept it out), and how to have some:
    the branch that came nearest it, its terms alike for every branch of a county, a share or a column to weigh."""
    notes = []
    for t, kind in enumerate(TYPES):
        if (plan["type"] == kind).any() or r.mix.get(kind, (None, None))[1] == 0:
            continue
        name = f"{TYPE_ZH[kind]} {kind}"
        if not allowed[:, t].any():
            notes.append(f"{name}: no branch — the type rules allow it nowhere ({_rule_against(kind, r)})")
            continue
        behind = (plan[f"score_{kind}"] - plan["score"]).where(allowed[:, t])
        near = plan.loc[behind.idxmax()]
        county_wide = [f"{INDICATORS[term][0]} {term.replace('_', ' ')}" for term in weights.get(kind, {})
                       if term in INDICATORS and term in scores and scores.groupby("county")[term].nunique().max() <= 1]
        alike = (f" Its terms {', '.join(county_wide)} are county figures, alike for every branch of a county."
                 if county_wide else "")
        notes.append(f"{name}: no branch — none suits it best. Nearest: {near['name']} ({near['county']}), "
                     f"{near[f'score_{kind}']:.2f} for it against {near['score']:.2f} as {near['type_zh']} "
                     f"{near['type']}.{alike} For some, give it a minimum share (--min-share {kind}=0.25; mix= in a "
                     f"script) or weigh for it a column of your branches table (e.g. --weight {kind}:社区户数=1; "
                     "weights=).")
    return notes


def _rule_against(kind: str, r: TypeRules) -> str:
    """The type rule that keeps every branch from `kind`."""
    return {"inclusive": "inclusive_outside_core: every branch stands in the core",
            "light": "light_only_fringe: no branch stands in the fringe",
            "community": f"community_in_urban_towns: no branch stands in an urban town ({URBAN_TOWN_WORDS})",
            "comprehensive": f"comprehensive_min_score {r.comprehensive_min_score}: no branch reaches it"
            }.get(kind, "")


def community_rule_note(elsewhere: int, total: int, what: str, mix: dict) -> str:
    """What the rule keeping community branches to urban towns did to a plan whose `mix` asks for a community share
    (`elsewhere` of its `total` branches or sites barred from the type); "" where it asks for none or none is barred."""
    if not (elsewhere and _check_mix(mix, "community_rule_note").get("community", (None, None))[0]):
        return ""
    return (f"in urban towns only 仅设于城镇化乡镇 ({URBAN_TOWN_WORDS}) — {elsewhere:,} of the {total:,} {what} stand "
            "elsewhere and may not be community (community_in_urban_towns; --community-anywhere lifts it)")


def _where_allowed(kind: str, inclusive_outside_core: bool, community_in_urban_towns: bool,
                   licensed: bool = False) -> str:
    """The region (or licence) rule keeping `kind` from some branches, in words (empty where none does)."""
    if kind == "comprehensive" and licensed:
        return f" ({LICENCE_WORDS})"
    if kind == "inclusive" and inclusive_outside_core:
        return " (inclusive branches may not open in the core)"
    if kind == "community" and community_in_urban_towns:
        return (f" (community branches stand in urban towns only — {URBAN_TOWN_WORDS}; community_in_urban_towns="
                "False, --community-anywhere, lifts it)")
    return ""


def _weights_used(weights: dict | None) -> dict[str, dict[str, float]]:
    """The suitability weights a plan scored by (`weights`, else the defaults), copied."""
    return {kind: dict(terms) for kind, terms in (weights or DEFAULT_SUITABILITY).items()}


def raise_infeasible(reason: str, what: str = "type plan") -> None:
    from netopt._errors import InfeasibleError

    raise InfeasibleError(f"no {what}: {reason}")


def raise_no_plan_yet(what: str, stopped: str) -> None:
    """The solver stopped at its time limit before any plan: not a sign that none exists."""
    from netopt._errors import SolverError

    raise SolverError(f"no {what} yet 尚无方案: the solver {stopped} before finding one; a longer time limit may "
                      "find one")


def _check_mix(mix: dict | None, what: str) -> dict:
    out = {}
    for kind, bounds in _by_type({} if mix is None else mix, "mix", what).items():
        low, high = bounds if isinstance(bounds, (tuple, list)) else (bounds, bounds)
        for value in (low, high):
            if value is not None and not (is_number(value) and 0 <= value <= 1):
                raise InputError(f"mix shares are between 0 and 1 (got {value!r} for {kind})", file=what)
        if low is not None and high is not None and low > high:
            raise InputError(f"mix for {kind} {TYPE_ZH[kind]}: the minimum share {low:g} is above the maximum "
                             f"{high:g}", file=what)
        out[kind] = (low, high)
    return out


def _by_type(values: dict, name: str, what: str) -> dict:
    """`values` ({type: ...}), or an InputError naming a key that is not one of the four types."""
    if not isinstance(values, dict):
        raise InputError(f"{name} is a dict by type, e.g. {{'community': ...}}, got {values!r}", file=what)
    unknown = [str(kind) for kind in values if kind not in TYPES]
    if unknown:
        raise InputError(f"{name} names unknown type(s) {', '.join(map(repr, unknown))}; types are "
                         f"{', '.join(TYPES)}", file=what)
    return values


def _check_amounts_by_type(values: dict | None, name: str, what: str, unit: str, positive: bool = True) -> None:
    for kind, value in _by_type(values or {}, name, what).items():
        check_amount(value, f"{name} for {kind}", what, unit, positive)


def _check_conversion_costs(costs, what: str) -> None:
    """A flat cost (万元) or {(from type, to type): 万元}, none below 0."""
    if not isinstance(costs, dict):
        check_amount(costs, "conversion_cost_wan", what, "万元", positive=False)
        return
    for pair, value in costs.items():
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(kind in TYPES for kind in pair)):
            raise InputError(f"conversion_cost_wan keys are (from type, to type) pairs of {', '.join(TYPES)}; got "
                             f"{pair!r}", file=what)
        check_amount(value, f"conversion_cost_wan for {pair[0]} → {pair[1]}", what, "万元", positive=False)


def _type_rules(rules: dict, what: str) -> TypeRules:
    """TypeRules from keyword options, each checked: an unknown option, a staff limit or a score out of range is
    an InputError naming it."""
    known = list(TypeRules.__dataclass_fields__)
    unknown = [name for name in rules if name not in known]
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(unknown)}; the type rules are {', '.join(known)}", file=what)
    check_amount(rules.get("budget_wan"), "budget_wan", what, "万元", positive=False)
    _check_conversion_costs(rules.get("conversion_cost_wan", DEFAULT_CONVERSION_COST_WAN), what)
    if rules.get("staff_limit") is not None:
        check_count(rules["staff_limit"], "staff_limit (total staff)", what)
    score = rules.get("comprehensive_min_score")
    if score is not None and not (is_number(score) and 0 <= score <= 1):
        raise InputError(f"comprehensive_min_score is an economic-activity score between 0 and 1, got {score!r}",
                         file=what)
    return TypeRules(**rules)


def _current_types(ds: Dataset, given: pd.Series | None) -> np.ndarray:
    values = ds.branches["type"] if given is None else pd.Series(given).reindex(ds.branches.index)
    return values.astype(object).where(values.notna(), None).to_numpy()


def _conversion_costs(current: np.ndarray, costs: float | dict) -> np.ndarray:
    """万元 to give branch b type t: 0 when unchanged or when today's type is unknown."""
    out = np.zeros((len(current), len(TYPES)))
    for b, now in enumerate(current):
        if now is None:
            continue
        for t, kind in enumerate(TYPES):
            if kind != now:
                out[b, t] = costs.get((now, kind), DEFAULT_CONVERSION_COST_WAN) if isinstance(costs, dict) else costs
    return out


def _allowed(scores: pd.DataFrame, suit: np.ndarray, r: TypeRules, urban: np.ndarray | None = None,
             current: np.ndarray | None = None, licensed: np.ndarray | None = None) -> np.ndarray:
    """Which type each branch may take under the rules `r`: `urban` says which stand in an urban town (in_urban_towns;
    None: all), `current` their types today (a community branch today may stay one anywhere), `licensed` which are
    community outlets by licence (licensed_community_outlets; None: none)."""
    allowed = np.ones(suit.shape, bool)
    if r.licensed_outlets_not_comprehensive and licensed is not None:
        allowed[licensed, TYPES.index("comprehensive")] = False
    region = scores["region_type"].to_numpy()
    if r.inclusive_outside_core:
        allowed[region == "core", TYPES.index("inclusive")] = False
    if r.community_in_urban_towns and urban is not None:
        allowed[_community_barred(urban, current), TYPES.index("community")] = False
    if r.light_only_fringe:
        allowed[region != "fringe", TYPES.index("light")] = False
    if r.comprehensive_min_score is not None:
        econ = scores[[c for c in ("gdp_per_capita", "urban_share") if c in scores]].mean(axis=1).fillna(0.0)
        allowed[econ.to_numpy() < r.comprehensive_min_score, TYPES.index("comprehensive")] = False
    return allowed


def _community_barred(urban: np.ndarray, current: np.ndarray | None) -> np.ndarray:
    """Where the community rule (community_in_urban_towns) bars the type: outside urban towns (`urban`), but for
    today's community branches (`current`: the types today; None: none known)."""
    return ~urban & (np.asarray(current, object) != "community")


def _explain(allowed: np.ndarray, r: TypeRules, cost: np.ndarray, n: int) -> str:
    lows = sum((low or 0.0) for low, _ in r.mix.values())
    if lows > 1 + 1e-9:
        return f"the minimum type shares add up to {lows:.0%}, more than all branches"
    for kind, (low, _) in r.mix.items():
        room = int(allowed[:, TYPES.index(kind)].sum())
        if low and np.ceil(low * n - 1e-9) > room:
            return (f"{kind} needs at least {int(np.ceil(low * n))} branches but only {room} may take that type"
                    + _where_allowed(kind, r.inclusive_outside_core, r.community_in_urban_towns,
                                     r.licensed_outlets_not_comprehensive))
    if r.staff_limit is not None:
        minimum = sum(min(STAFF_RANGE[k][0] for k, ok in zip(TYPES, row) if ok) for row in allowed)
        if minimum > r.staff_limit:
            return f"even the smallest staffing needs {minimum} staff, more than the limit {r.staff_limit}"
    return ""


def _build(suit: np.ndarray, allowed: np.ndarray, cost: np.ndarray, r: TypeRules,
           scores: pd.DataFrame) -> MatrixMILP:
    n, k = suit.shape
    idx = np.arange(n * k).reshape(n, k)
    rows, lo, hi = [sp.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), idx.ravel())), shape=(n, n * k))], \
        [np.ones(n)], [np.ones(n)]
    names = [f"one_type_{i}" for i in range(n)]
    for kind, (low, high) in r.mix.items():
        t = TYPES.index(kind)
        rows.append(_row(idx[:, t], np.ones(n), n * k)); names.append(f"mix_{kind}")
        if low is not None and low == high:  # an exact share: the nearest whole number of branches
            count = float(np.round(low * n))
            lo.append([count]); hi.append([count])
            continue
        lo.append([np.ceil(low * n - 1e-9) if low else -INF])
        hi.append([np.floor(high * n + 1e-9) if high is not None else INF])
    if r.budget_wan is not None:
        rows.append(_row(idx.ravel(), cost.ravel(), n * k)); lo.append([-INF]); hi.append([r.budget_wan])
        names.append("budget")
    if r.staff_limit is not None:
        staff = np.tile([STAFF_RANGE[kind][0] for kind in TYPES], n)
        rows.append(_row(idx.ravel(), staff, n * k)); lo.append([-INF]); hi.append([r.staff_limit])
        names.append("staff")
    if r.comprehensive_per_county:
        t = TYPES.index("comprehensive")
        for county in scores["county"].dropna().unique():
            members = np.flatnonzero(scores["county"].to_numpy() == county)
            rows.append(_row(idx[members, t], np.ones(len(members)), n * k)); lo.append([1.0]); hi.append([INF])
            names.append(f"{COMPREHENSIVE_IN}{county}")
    return MatrixMILP(c=suit.ravel(), A=sp.vstack(rows).tocsr(), row_lo=np.concatenate(lo), row_hi=np.concatenate(hi),
                      col_lo=np.zeros(n * k), col_hi=allowed.ravel().astype(float), integer=np.ones(n * k, bool),
                      sense="max", row_names=names)


def _budget_reason(b: Blocking) -> str:
    """A budget row (万元) of the type plans that alone blocks them, in words."""
    return f"the budget {b.limit:,.6g}万元 is too small: the other rules cost at least {b.value:,.6g}万元"


def _type_reason(b: Blocking) -> str:
    if b.name.startswith("mix_"):
        kind = b.name[len("mix_"):]
        label = f"{kind} {TYPE_ZH[kind]}"
        if b.side == "least":
            return f"the mix allows at most {b.limit:g} {label} branches, but the other rules need at least {b.value:g}"
        return f"the mix needs at least {b.limit:g} {label} branches, but the other rules allow at most {b.value:g}"
    if b.name == "budget":
        return _budget_reason(b)
    if b.name == "staff":
        return f"the staff limit {b.limit:g} is too small: the other rules need at least {b.value:g} staff"
    county = b.name[len(COMPREHENSIVE_IN):]
    return f"county '{county}' needs a comprehensive 综合型 branch, but the other rules allow none there"


def _row(columns: np.ndarray, values: np.ndarray, width: int) -> sp.csr_matrix:
    return sp.csr_matrix((values, (np.zeros(len(columns), int), columns)), shape=(1, width))


def _plan(ds: Dataset, scores, suit, drivers, current, cost, raw, missing) -> pd.DataFrame:
    n, k = suit.shape
    choice = raw.x.reshape(n, k).argmax(axis=1)
    plan = pd.DataFrame({
        "branch_id": ds.branches["branch_id"].values, "name": ds.branches["name"].values,
        "county": scores["county"].values, "region_type": scores["region_type"].values,
        "current_type": current, "type": [TYPES[t] for t in choice], "type_zh": [TYPE_ZH[TYPES[t]] for t in choice],
        "staff": [STAFF_RANGE[TYPES[t]][0] for t in choice],
        "staff_range": [f"{STAFF_RANGE[TYPES[t]][0]}–{STAFF_RANGE[TYPES[t]][1]}" for t in choice],
        "cost_wan": cost[np.arange(n), choice], "score": suit[np.arange(n), choice].round(3),
        "reasons": [drivers[b][t] for b, t in enumerate(choice)],
        **{f"score_{kind}": suit[:, t].round(3) for t, kind in enumerate(TYPES)},  # how near the others came
    })
    if "bank" in ds.branches:  # a bank's branches read back by their plan (--branches branch_types.csv --bank 农业)
        plan.insert(2, "bank", ds.branches["bank"].to_numpy())
    plan.attrs.update(status=raw.status, objective=raw.objective, gap=relative_gap(raw.objective, raw.bound)
                      if raw.status != "optimal" else 0.0, missing_indicators=missing,
                      mix=plan["type"].value_counts(normalize=True).to_dict())
    return plan


# Illustrative defaults for plan_network — ASSUMPTIONS to replace with the bank's own figures.
TYPE_RADIUS_KM = {"comprehensive": 3.0, "community": 1.5, "inclusive": 5.0, "light": 2.0}
TYPE_CAPACITY_WAN = {"comprehensive": 5.0, "community": 3.0, "inclusive": 4.0, "light": 2.0}
TYPE_OPEN_COST_WAN = {"comprehensive": 300.0, "community": 150.0, "inclusive": 100.0, "light": 80.0}
JOINT_PLAN = "network plan"  # the joint plan's name in its errors
JOINT_PLAN_FUNCTION = "plan_network"  # and the function's, in errors naming an option
EXTENSIONS = {  # cheap partial coverage of a town: cost (万元) and the share of its residents served
    "vehicle": {"cost_wan": 30.0, "share": 0.3, "zh": "流动服务车"},
    "station": {"cost_wan": 10.0, "share": 0.2, "zh": "村级服务站"},
}


def plan_network(ds: Dataset, sites, p: int | None = None, budget_wan: float | None = None,
                 radius_km: dict | None = None, capacity_wan: dict | None = None, open_cost_wan: dict | None = None,
                 extensions: dict | None = EXTENSIONS, mix: dict | None = None, inclusive_outside_core: bool = True,
                 community_in_urban_towns: bool = True, time_limit: float | None = None,
                 conversion_cost_wan: float | dict = DEFAULT_CONVERSION_COST_WAN, must_reach=None,
                 weights: dict | None = None, max_new: int | None = None,
                 licensed_outlets_not_comprehensive: bool = True,
                 full_km: float | dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The joint plan: which candidate sites open, keep or close, the type of each open branch, and where a
    mobile service vehicle or a village service station extends inclusive coverage — one integer program.

    `sites`: candidate sites (planning.candidate_sites: kind "existing" | "new"; existing sites stay open
    unless `sites["closable"]` is True; those where `sites["closes"]` is True close whatever the plan). Each
    type has its own service radius, capacity (万人) and opening cost (万元), added to a new site's own cost
    where `sites["open_cost_wan"]` gives one (its premises); an existing branch whose type today is known
    (ds.branches "type", by site_id) costs `conversion_cost_wan` to give another type (flat, or {(from, to):
    万元}), as in assign_branch_types. `must_reach`: a 0/1 matrix (k x sites) whose every row needs an open
    branch of any type, e.g. planning.covered_towns_rows (no town covered today left without a branch).
    Maximises the residents served (a town's residents are split among the open branches within each type's
    radius, up to their capacities, plus the extension shares), subject to at most `p` branches (and at most
    `max_new` of the new sites), the budget (openings + conversions + extensions), type-mix bounds, inclusive
    branches only outside the core and community ones only in urban towns (urban_towns; today's community branches
    anywhere) and today's community outlets by licence (社区支行, 社区银行 by name) not comprehensive unless
    `licensed_outlets_not_comprehensive` is False. Among plans serving every town at least as well, it spends
    least, then changes least (a second integer
    program from the first plan, LEAST_SPENT_NODES nodes at most in the time left), and then gives each site the
    type that suits its area best, costing no more there (the suitability of assign_branch_types, by `weights` as there:
    with_weights' terms on the area's indicators). With `full_km` (one number, or one per type; each at most its
    type's radius) gradual coverage 按距离折算: a town served by a branch within the full radius counts wholly, one
    farther in part, linearly less to none at the type's radius, and the plan maximises the residents so counted
    (summary objective, counted_pct; each site's counted_wan) — residents served (served_residents, served_pct,
    served_wan) beside them. Returns (sites table with decision, current_type, type,
    open_cost_wan, conversion_cost_wan, score and reasons of its type, residents served served_wan, 万人;
    towns table with served share and extensions; summary dict with status, objective, bound, gap, served_pct,
    spent_wan: openings, conversions and extensions, changes to today's network, least_spent_proven, n_sites and
    community_elsewhere: the sites the community rule bars from the type).
    """
    started = time.perf_counter()
    _check_joint_options(p, budget_wan, radius_km, capacity_wan, open_cost_wan, extensions, mix,
                         conversion_cost_wan, time_limit)
    if max_new is not None:
        check_count(max_new, "max_new (new branches at most)", JOINT_PLAN_FUNCTION, least=0)
    radius = dict(TYPE_RADIUS_KM, **(radius_km or {}))
    _check_full_by_type(full_km, radius)
    must_reach = reach_rows(must_reach, len(sites))
    capacity = dict(TYPE_CAPACITY_WAN, **(capacity_wan or {}))
    current = _site_current_types(ds, sites)
    facts = _SiteFacts(current, _site_costs(sites, current, dict(TYPE_OPEN_COST_WAN, **(open_cost_wan or {})),
                                            conversion_cost_wan), *_site_suitability(ds, sites, weights))
    extensions = extensions or {}
    towns = ds.towns.reset_index(drop=True)
    pop = towns["population"].to_numpy(float)
    km = _site_town_km(towns, sites)
    within = [np.nonzero(km <= radius[kind]) for kind in TYPES]
    pairs = np.column_stack([np.concatenate([i for i, _ in within]), np.concatenate([j for _, j in within]),
                             np.concatenate([np.full(len(i), t) for t, (i, _) in enumerate(within)])]).astype(np.int64)
    reason = _explain_joint(sites, p, mix or {}, must_reach)
    if reason:
        raise_infeasible(reason, JOINT_PLAN)
    layout = _Layout(len(sites), len(towns), pairs, list(extensions), _counted_shares(km, pairs, radius, full_km))
    place_rules = (inclusive_outside_core, community_in_urban_towns, licensed_outlets_not_comprehensive)
    barred = _barred_types(ds, sites, facts, *place_rules)
    milp = _joint_model(layout, sites, towns, pop, capacity, facts, extensions, (p, max_new), budget_wan, mix or {},
                        barred, must_reach)
    raw = solve_highs(_counted_openings(milp, layout, mix or {}, _open_range(sites, p)), time_limit=time_limit)
    if raw.x is not None:  # the model's columns, within their bounds (HiGHS may leave a share a hair above 1)
        raw.x = np.clip(raw.x[:layout.n_cols], milp.col_lo, milp.col_hi)
    if raw.status == "error":
        raise_no_plan_yet(JOINT_PLAN, raw.message)
    if raw.status == "infeasible":
        raise_infeasible(blocking_reasons(milp, lambda name: name in ("p", "max_new", "budget")
                                          or name.startswith("mix_"),
                                          lambda b: _joint_reason(b, mix or {}, place_rules))
                         or "the network rules (p, " + ("max_new, " if max_new is not None else "")
                         + "budget, existing branches, type mix"
                         + (", towns kept covered" if must_reach is not None else "") + ") cannot all be met",
                         JOINT_PLAN)
    raw.x, proven = _cheapest_among_equals(layout, milp, raw.x, facts, sites, pop, extensions,
                                           seconds_left(time_limit, started))
    chosen, town_table, summary = _joint_tables(layout, raw, sites, towns, pop, extensions, facts)
    changes, offset = _change_costs(layout, facts, sites)
    summary.update(changes=int(round(changes @ raw.x + offset)), least_spent_proven=proven,
                   n_sites=len(sites), community_elsewhere=int(barred[:, TYPES.index("community")].sum()))
    chosen.attrs.update(weights=_weights_used(weights), missing_indicators=facts.missing)  # for scoring_basis
    return chosen, town_table, summary


def _check_joint_options(p, budget_wan, radius_km, capacity_wan, open_cost_wan, extensions, mix,
                         conversion_cost_wan, time_limit) -> None:
    """plan_network's options, each checked before any work: an InputError naming the first that is wrong."""
    what = JOINT_PLAN_FUNCTION
    if p is not None:
        check_count(p, "p (branches in the plan)", what)
    check_amount(budget_wan, "budget_wan", what, "万元", positive=False)
    _check_amounts_by_type(radius_km, "radius_km", what, "km")
    _check_amounts_by_type(capacity_wan, "capacity_wan", what, "万人")
    _check_amounts_by_type(open_cost_wan, "open_cost_wan", what, "万元", positive=False)
    _check_mix(mix, what)
    _check_conversion_costs(conversion_cost_wan, what)
    check_kind(extensions, (dict, type(None)), f"extensions is a dict by name, e.g. {{'vehicle': "
               f"{EXTENSIONS['vehicle']}}}", what)
    for name, terms in (extensions or {}).items():
        if not isinstance(terms, dict) or not {"cost_wan", "share"} <= set(terms):
            raise InputError(f"extension '{name}' needs cost_wan (万元) and share (of a town's residents served), "
                             f"e.g. {EXTENSIONS['vehicle']}", file=what)
        check_amount(terms["cost_wan"], f"extension '{name}' cost_wan", what, "万元", positive=False)
        if not (is_number(terms["share"]) and 0 < terms["share"] <= 1):
            raise InputError(f"extension '{name}' share is a fraction above 0 and at most 1, got "
                             f"{terms['share']!r}", file=what)
    check_solver_arguments(time_limit, 0.0)


@dataclass
class _SiteFacts:
    """What the joint plan knows of each candidate site: its type today (or None), what each type costs there
    (万元: opening, or changing a known type), how well each type suits its area (0..1) and why, and the
    indicators the data lacked."""

    current: np.ndarray
    cost: np.ndarray
    suit: np.ndarray
    drivers: list[list[str]]
    missing: list[str]


def _site_suitability(ds: Dataset, sites,
                      weights: dict | None = None) -> tuple[np.ndarray, list[list[str]], list[str]]:
    """Each candidate site's suitability for each type: assign_branch_types' scores of its area, with every site
    counted as an open branch (its county, region and the residents nearest to it), weighed by `weights`; and the
    indicators the data lacked."""
    from netopt.planning import sites_as_branches

    as_branches = sites_as_branches(sites, sites["site_id"].tolist())
    scores, missing = branch_scores(Dataset(ds.counties, ds.towns, as_branches, ds.all_branches))  # around each site
    _check_weights(weights, scores, missing, JOINT_PLAN_FUNCTION)
    return *suitability(scores, weights or DEFAULT_SUITABILITY), missing


def _site_current_types(ds: Dataset, sites) -> np.ndarray:
    """Each site's type today: an existing branch's from ds.branches (by site_id = branch_id), else None."""
    known = ds.branches.set_index("branch_id")["type"] if "type" in ds.branches else pd.Series(dtype=object)
    known = known[~known.index.duplicated()]
    today = sites["site_id"].map(known).where(sites["kind"].eq("existing").to_numpy())
    return today.astype(object).where(today.isin(TYPES), None).to_numpy()


def _site_costs(sites, current: np.ndarray, open_cost: dict, conversion_cost: float | dict) -> np.ndarray:
    """万元 for site j to be open as type t: a new site's own cost (sites "open_cost_wan", the premises 场地; 0
    where blank) plus its type's opening cost; an existing branch's conversion cost."""
    new = (sites["kind"] == "new").to_numpy()
    own = np.nan_to_num(sites["open_cost_wan"].to_numpy(float)) if "open_cost_wan" in sites else np.zeros(len(sites))
    return np.where(new[:, None], own[:, None] + np.array([open_cost[kind] for kind in TYPES])[None, :],
                    _conversion_costs(current, conversion_cost))


def _site_flag(sites, column: str) -> np.ndarray:
    """A True/False column of the sites (closable, closes) as a mask; all False where the column is absent."""
    return sites[column].to_numpy(bool) if column in sites else np.zeros(len(sites), bool)


def _staying(sites) -> np.ndarray:
    """The sites that stay open whatever the plan: today's branches neither closable nor closing."""
    existing = (sites["kind"] == "existing").to_numpy()
    return existing & ~_site_flag(sites, "closable") & ~_site_flag(sites, "closes")


def _explain_joint(sites, p: int | None, mix: dict, must_reach: sp.csr_matrix | None) -> str:
    kept = int(_staying(sites).sum())
    if p is not None and kept > p:
        return f"{kept} existing branches must stay open but p={p}: {kept - p} too many (mark some closable)"
    lows = sum((low or 0.0) for low, _ in _check_mix(mix, JOINT_PLAN_FUNCTION).values())
    if lows > 1 + 1e-9:
        return f"the minimum type shares add up to {lows:.0%}, more than all branches"
    if must_reach is not None and (must_reach @ (~_site_flag(sites, "closes")).astype(float) < 0.5).any():
        return "a town kept covered (must_reach) has no site within reach but branches that close"
    return ""


def _joint_reason(b: Blocking, mix: dict, place_rules: tuple) -> str:
    """A blocking rule of the joint plan in words: p, the budget (万元) or a type share (`place_rules`:
    _where_allowed's flags)."""
    if b.name == "p":
        return f"p={b.limit:g} is too small: the other rules need at least {b.value:g} branches open"
    if b.name == "max_new":
        return f"max_new={b.limit:g} is too small: the other rules need at least {b.value:g} new branches"
    if b.name == "budget":
        return _budget_reason(b)
    bound, kind = b.name[len("mix_"):].split("_", 1)
    low, high = _check_mix(mix, JOINT_PLAN_FUNCTION)[kind]
    share, word = (low, "at least") if bound == "min" else (high, "at most")
    return (f"the mix needs {word} {share:.0%} {kind} {TYPE_ZH[kind]} branches, which the other rules do not allow"
            + (_where_allowed(kind, *place_rules) if bound == "min" else ""))


def _counted_shares(km: np.ndarray, pairs: np.ndarray, radius: dict, full_km) -> np.ndarray | None:
    """Gradual coverage's share of each (town, site, type) pair: 1 within the type's full radius (`full_km`: one
    number or one per type; a type not given its radius, plain coverage), falling linearly to 0 at its radius;
    None without a full radius."""
    from netopt.models._gradual import covered_share

    if full_km is None:
        return None
    full = {kind: float(full_km.get(kind, radius[kind]) if isinstance(full_km, dict) else full_km) for kind in TYPES}
    kinds = np.array(TYPES)[pairs[:, 2]]
    return covered_share(km[pairs[:, 0], pairs[:, 1]], np.array([full[k] for k in kinds]),
                         np.array([radius[k] for k in kinds]))


def _check_full_by_type(full_km, radius: dict) -> None:
    """The joint plan's full radius: a number of km of 0 or more, or one per type; each at most its type's radius."""
    if full_km is None:
        return
    given = full_km if isinstance(full_km, dict) else dict.fromkeys(TYPES, full_km)
    for kind, value in given.items():
        if kind not in TYPES:
            raise InputError(f"full_km names the types {', '.join(TYPES)}, not {kind!r}", file=JOINT_PLAN_FUNCTION)
        if not is_number(value) or not np.isfinite(value) or value < 0:
            raise InputError(f"full_km must be a number of km of 0 or more, got {value!r:.40}",
                             file=JOINT_PLAN_FUNCTION)
        if value > radius[kind]:
            raise InputError(f"full_km {value:g} is beyond {kind} {TYPE_ZH[kind]}'s radius, {radius[kind]:g} km: "
                             "a town is wholly covered within the full radius and not at all past the radius",
                             file=JOINT_PLAN_FUNCTION)


def _site_town_km(towns, sites) -> np.ndarray:
    from netopt.distance import cost_matrix_km

    return cost_matrix_km(towns, sites).astype(float)


@dataclass
class _Layout:
    """Column positions of the joint model: x (site, type), u (town, site, type) pairs, extension flags. The
    positions take whole arrays of sites, types, pairs or towns as well as single ones."""

    n_sites: int
    n_towns: int
    pairs: np.ndarray  # one row per (town i, site j, type t) within the type's radius
    extension_names: list
    counted: np.ndarray | None = None  # gradual coverage: the share of a town each pair's service counts (else 1)

    def pair_counts(self) -> np.ndarray:
        """How much of a town's residents served by each pair count: its `counted` share, else 1."""
        return np.ones(len(self.pairs)) if self.counted is None else self.counted

    @property
    def n_x(self) -> int:
        return self.n_sites * len(TYPES)

    def x(self, j, t):
        return j * len(TYPES) + t

    def u(self, k):
        return self.n_x + k

    def ext(self, e, i):
        return self.n_x + len(self.pairs) + e * self.n_towns + i

    @property
    def n_cols(self) -> int:
        return self.n_x + len(self.pairs) + len(self.extension_names) * self.n_towns


class _Rows:
    """Constraint rows gathered as coordinate arrays, made into one sparse matrix at the end."""

    def __init__(self, width: int) -> None:
        self.width, self.count = width, 0
        self.entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.names: list[str] = []

    def add(self, rows, cols, values, lo, hi, names: list[str]) -> None:
        """Rows numbered 0 … len(names) - 1 within this block; values, lo and hi as arrays or single numbers."""
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        self.entries.append((rows + self.count, cols, np.broadcast_to(np.asarray(values, float), rows.shape)))
        self.lo.append(np.broadcast_to(np.asarray(lo, float), len(names)))
        self.hi.append(np.broadcast_to(np.asarray(hi, float), len(names)))
        self.names += names
        self.count += len(names)

    def matrix(self) -> sp.csr_matrix:
        rows, cols, values = (np.concatenate(part) for part in zip(*self.entries))
        return sp.csr_matrix((values, (rows, cols)), shape=(self.count, self.width))  # repeated entries add up

    def milp(self, **columns) -> MatrixMILP:
        return MatrixMILP(A=self.matrix(), row_lo=np.concatenate(self.lo), row_hi=np.concatenate(self.hi),
                          row_names=self.names, **columns)


def _barred_types(ds: Dataset, sites, facts: _SiteFacts, inclusive_outside_core: bool,
                  community_in_urban_towns: bool, licensed_outlets_not_comprehensive: bool = True) -> np.ndarray:
    """Which (site, type) the region rules bar, by each site's nearest town: inclusive where it is a core-area town,
    community where it is not an urban town (urban_towns) unless a community branch today; and comprehensive at
    today's branches licensed as community outlets (licensed_community_outlets)."""
    barred = np.zeros((len(sites), len(TYPES)), bool)
    if licensed_outlets_not_comprehensive:
        today = (sites["kind"] == "existing").to_numpy()
        barred[today & licensed_community_outlets(sites["name"]), TYPES.index("comprehensive")] = True
    nearest = _nearest_towns(ds, sites)
    if nearest is None:
        return barred
    if inclusive_outside_core:
        barred[ds.towns["region_type"].astype(str).to_numpy()[nearest] == "core", TYPES.index("inclusive")] = True
    if community_in_urban_towns:
        barred[_community_barred(urban_towns(ds.towns)[nearest], facts.current), TYPES.index("community")] = True
    return barred


def _joint_model(L: _Layout, sites, towns, pop, capacity, facts: _SiteFacts, extensions, size: tuple, budget, mix,
                 barred: np.ndarray, must_reach: sp.csr_matrix | None = None):
    T, S, n = len(TYPES), L.n_sites, L.n_towns
    town, site, kind = L.pairs.T
    k = np.arange(len(L.pairs))
    all_x = np.arange(L.n_x)
    existing, closes, stays = (sites["kind"] == "existing").to_numpy(), _site_flag(sites, "closes"), _staying(sites)
    shares = np.array([extensions[name]["share"] for name in L.extension_names])
    ext_cols = np.concatenate([L.ext(e, np.arange(n)) for e in range(len(shares))] or [np.zeros(0, int)])
    rows = _Rows(L.n_cols)
    # one type per open site; kept existing branches must open, those that close may not
    rows.add(all_x // T, all_x, 1.0, stays.astype(float), (~closes).astype(float), [f"one_type_{j}" for j in range(S)])
    # serve only from an open branch of that type
    rows.add(np.r_[k, k], np.r_[L.u(k), L.x(site, kind)], np.r_[np.ones(len(k)), -np.ones(len(k))], -INF, 0.0,
             [f"served_by_open_{i}" for i in k])
    # a town's served share is at most 1
    rows.add(np.r_[town, np.tile(np.arange(n), len(shares))], np.r_[L.u(k), ext_cols],
             np.r_[np.ones(len(k)), np.repeat(shares, n)], -INF, 1.0, [f"town_share_{i}" for i in range(n)])
    # capacity of each open branch, in residents
    served_x, which = np.unique(L.x(site, kind), return_inverse=True)
    rows.add(np.r_[which, np.arange(len(served_x))], np.r_[L.u(k), served_x],
             np.r_[pop[town], -np.array([capacity[TYPES[t]] for t in served_x % T]) * 1e4], -INF, 0.0,
             [f"capacity_{x // T}_{x % T}" for x in served_x])
    p, max_new = size  # the most open branches, the most new ones (None: no such limit)
    if p is not None:
        rows.add(np.zeros(L.n_x), all_x, 1.0, -INF, float(p), ["p"])
    if max_new is not None:
        new = np.flatnonzero(~existing)
        new_x = L.x(np.repeat(new, T), np.tile(np.arange(T), len(new)))
        rows.add(np.zeros(len(new_x)), new_x, 1.0, -INF, float(max_new), ["max_new"])
    if must_reach is not None:  # each row needs an open branch, of any type, among its sites
        reach = must_reach.tocoo()
        rows.add(np.repeat(reach.row, T), L.x(np.repeat(reach.col, T), np.tile(np.arange(T), reach.nnz)), 1.0, 1.0,
                 INF, [f"must_reach_{r}" for r in range(reach.shape[0])])
    if budget is not None:
        paid = np.r_[all_x, ext_cols]
        rows.add(np.zeros(len(paid)), paid, _spend_per_column(L, facts, extensions)[paid], -INF, float(budget),
                 ["budget"])
    # shares of the open branches: low*Σx <= Σx_t <= high*Σx
    for name, share, label in _share_bounds(mix):
        rows.add(np.zeros(S + L.n_x), np.r_[L.x(np.arange(S), TYPES.index(name)), all_x],
                 np.r_[np.ones(S), np.full(L.n_x, -share)], *SHARE_SIDES[label], [f"mix_{label}_{name}"])
    col_hi = np.ones(L.n_cols)
    col_hi[L.x(*np.nonzero(barred))] = 0.0  # the region rules (_barred_types)
    core_towns = np.flatnonzero(towns["region_type"].astype(str).to_numpy() == "core")
    for e in range(len(shares)):  # service vehicles and village stations serve the counties, not the core
        col_hi[L.ext(e, core_towns)] = 0.0
    c = np.zeros(L.n_cols)
    c[L.u(k)] = pop[town] * L.pair_counts()
    c[ext_cols] = np.tile(pop, len(shares)) * np.repeat(shares, n)
    integer = np.zeros(L.n_cols, bool)
    integer[:L.n_x] = True
    integer[L.n_x + len(L.pairs):] = True
    return rows.milp(c=c, col_lo=np.zeros(L.n_cols), col_hi=col_hi, integer=integer, sense="max")


SHARE_SIDES = {"min": (0.0, INF), "max": (-INF, 0.0)}  # a share row's bounds: at least, at most its share


def _share_bounds(mix: dict) -> list[tuple[str, float, str]]:
    """The type-mix bounds that limit the joint plan, as (type, share, "min" | "max"), each type's minimum first (a
    minimum share of 0 limits nothing)."""
    return [(kind, share, label) for kind, (low, high) in _check_mix(mix, JOINT_PLAN_FUNCTION).items()
            for share, label in ((low, "min"), (high, "max")) if share is not None and (share or label == "max")]


def _open_range(sites, p: int | None) -> np.ndarray:
    """How many branches the joint plan may have open: from today's that stay to p (or every site that may open)."""
    may_open = int((~_site_flag(sites, "closes")).sum())
    return np.arange(int(_staying(sites).sum()), may_open + 1 if p is None else min(int(p), may_open) + 1)


def _counted_openings(milp: MatrixMILP, L: _Layout, mix: dict, counts: np.ndarray) -> MatrixMILP:
    """The joint model with its type shares also stated on the number N of open branches, as one choice among
    `counts` (binaries z_N, one chosen: Σx = Σ N·z_N; each type's count at least Σ ceil(low·N)·z_N, at most
    Σ floor(high·N)·z_N) — the same plans, columns z after the model's. The shares of a fractional N (39.6 community
    branches of 99) held HiGHS's bound 0.09 % above the sample's 40 %-community plan (p=100) for 28 s; so stated,
    it is proven in about 1 s. The model itself where no share is bounded."""
    bounds = _share_bounds(mix)
    if not bounds:
        return milp
    K, sites = len(counts), np.arange(L.n_sites)
    z = L.n_cols + np.arange(K)
    rows = _Rows(L.n_cols + K)
    rows.add(np.zeros(K), z, 1.0, 1.0, 1.0, ["open_count_one"])
    rows.add(np.zeros(L.n_x + K), np.r_[np.arange(L.n_x), z], np.r_[np.ones(L.n_x), -counts], 0.0, 0.0, ["open_count"])
    for kind, share, label in bounds:
        whole = np.ceil(share * counts - 1e-9) if label == "min" else np.floor(share * counts + 1e-9)
        rows.add(np.zeros(L.n_sites + K), np.r_[L.x(sites, TYPES.index(kind)), z], np.r_[np.ones(L.n_sites), -whole],
                 *SHARE_SIDES[label], [f"count_{label}_{kind}"])
    return replace(milp, c=np.r_[milp.c, np.zeros(K)],
                   A=sp.vstack([sp.hstack([milp.A, sp.csr_matrix((milp.A.shape[0], K))]), rows.matrix()]).tocsr(),
                   row_lo=np.concatenate([milp.row_lo, *rows.lo]), row_hi=np.concatenate([milp.row_hi, *rows.hi]),
                   col_lo=np.r_[milp.col_lo, np.zeros(K)], col_hi=np.r_[milp.col_hi, np.ones(K)],
                   integer=np.r_[milp.integer, np.ones(K, bool)], col_names=None,
                   row_names=None if milp.row_names is None else [*milp.row_names, *rows.names])


class _PlanEdits:
    """A plan of a MatrixMILP changed a few columns at a time: a change is kept only when it loses nothing of the
    objective and every row and column bound still holds (a row the plan already missed by a solver tolerance
    may not be missed by more)."""

    def __init__(self, milp: MatrixMILP, x: np.ndarray) -> None:
        self.milp, self.x = milp, x.copy()
        self.columns = milp.A.tocsc()
        self.activity = milp.A @ self.x

    def change(self, cols, values) -> bool:
        cols, values = np.asarray(cols, np.int64), np.asarray(values, float)
        m = self.milp
        if (values < m.col_lo[cols] - 1e-9).any() or (values > m.col_hi[cols] + 1e-9).any():
            return False
        delta = values - self.x[cols]
        if float(m.c[cols] @ delta) * (1 if m.sense == "max" else -1) < -1e-6:
            return False
        block = self.columns[:, cols]
        rows = np.unique(block.indices)
        before, after = self.activity[rows], self.activity[rows] + (block @ delta)[rows]
        tolerance = 1e-7 * (1 + np.abs(before))
        if (_missed(after, m.row_lo[rows], m.row_hi[rows]) > np.maximum(
                _missed(before, m.row_lo[rows], m.row_hi[rows]), tolerance)).any():
            return False
        self.activity[rows], self.x[cols] = after, values
        return True


def _missed(activity: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(lo - activity, activity - hi), 0.0)


def _cheapest_among_equals(L: _Layout, milp: MatrixMILP, x: np.ndarray, facts: _SiteFacts, sites,
                           pop: np.ndarray, extensions: dict, time_limit: float | None) -> tuple[np.ndarray, bool]:
    """The solved plan `x` with what serves no one more undone, each change kept only when the same residents stay
    served within every rule: today's closable branches closed for no gain reopen (with their type today, or
    the type suiting their area best); new branches whose residents other open branches in reach can serve
    instead stay closed (those serving fewest first), and so do service vehicles and village stations; from
    there, the least spent, then the fewest changes, of the plans serving every town at least as well
    (_least_spent, within `time_limit` seconds); then each branch takes its type today where known, else the
    type suiting its area best (assign_branch_types' suitability) among those costing no more there. Returns
    the plan and whether it is proven the least spent (then fewest changes) of those plans."""
    edits = _PlanEdits(milp, x)
    T, S = len(TYPES), L.n_sites
    existing = (sites["kind"] == "existing").to_numpy()
    pairs_of = _pairs_by_site_type(L)

    def preferred(j: int) -> list[int]:
        return [TYPES.index(facts.current[j])] if facts.current[j] is not None else list(np.argsort(-facts.suit[j]))

    def open_as(j: int) -> int | None:
        chosen = np.flatnonzero(edits.x[L.x(j, np.arange(T))] > 0.5)
        return int(chosen[0]) if len(chosen) else None

    for j in np.flatnonzero(existing):  # closed for no gain: reopen, as the first type the rules allow
        for t in (preferred(j) if open_as(j) is None else []):
            if edits.change([L.x(j, t)], [1.0]):
                break
    spare = _SpareCapacity(L, edits, pop, existing)
    for j in _by_residents_served(L, edits, np.flatnonzero(~existing), pop):  # new ones others can stand in for
        now = open_as(j)
        if now is not None:
            served = pairs_of(j, now)
            spare.move_away([L.x(j, now)], served[edits.x[L.u(served)] > 1e-9], j)
    shares = [extensions[name]["share"] for name in L.extension_names]
    _drop_idle_extensions(L, edits, spare, shares)
    cheaper, proven = _least_spent(milp, edits.x, _spend_then_changes(L, facts, sites, extensions),
                                   _town_shares(L, shares), time_limit)
    edits = _PlanEdits(milp, cheaper)
    for j in range(S):  # the type today, else the best suited, costing no more
        now = open_as(j)
        if now is None:
            continue
        for t in preferred(j):
            if t == now or (facts.current[j] is None and facts.suit[j, t] <= facts.suit[j, now]):
                break
            if facts.cost[j, t] <= facts.cost[j, now] and _retype(L, edits, pairs_of, j, now, t):
                break
    return edits.x, proven


LEAST_SPENT_NODES = 500  # branch-and-bound nodes of the least-spent search: the same plan on any machine
# HiGHS's probing spent 7 of the least-spent search's 7.5 s on the sample city's plan (`netopt plan --p 101`), 0.8 s
# in all without it, the same plan proven least spent
LEAST_SPENT_OPTIONS = {"mip_max_nodes": LEAST_SPENT_NODES, "presolve_rule_off": 1 << 15}


def _change_costs(L: _Layout, facts: _SiteFacts, sites) -> tuple[np.ndarray, float]:
    """The joint model's columns as a count of changes to today's network (costs·x + offset): each new branch,
    each of today's branches closed or (its type known) given another type, each service vehicle and village
    station."""
    T = len(TYPES)
    existing = (sites["kind"] == "existing").to_numpy()
    known = np.array([kind is not None for kind in facts.current], bool)
    costs = np.zeros(L.n_cols)
    for chosen, value in ((~existing, 1.0), (existing & ~known, -1.0)):
        where = np.flatnonzero(chosen)
        costs[L.x(np.repeat(where, T), np.tile(np.arange(T), len(where)))] = value
    kept = np.flatnonzero(existing & known)
    costs[L.x(kept, np.array([TYPES.index(facts.current[j]) for j in kept], np.int64))] = -1.0
    costs[L.n_x + len(L.pairs):] = 1.0
    return costs, float(existing.sum())


def _spend_then_changes(L: _Layout, facts: _SiteFacts, sites, extensions: dict) -> np.ndarray:
    """What a plan of the joint model costs among those serving every town as well: the 万元 it spends
    (openings, type changes, service vehicles and village stations, as the budget counts them), then its changes
    (_change_costs), worth less than 1万元 all together."""
    changes, _ = _change_costs(L, facts, sites)
    return tie_broken(_spend_per_column(L, facts, extensions), changes)


def _spend_per_column(L: _Layout, facts: _SiteFacts, extensions: dict) -> np.ndarray:
    """The 万元 each column of the joint model spends, as the budget row counts them: a site opened as a type
    (opening, or changing a known type), a service vehicle or village station in a town."""
    spend = np.zeros(L.n_cols)
    spend[:L.n_x] = facts.cost.ravel()
    spend[L.n_x + len(L.pairs):] = np.repeat([extensions[name]["cost_wan"] for name in L.extension_names], L.n_towns)
    return spend


def _town_shares(L: _Layout, shares: list[float]) -> sp.csr_matrix:
    """Each town's served share as a row over the joint model's columns: its pairs' shares (each as much as it
    counts, L.pair_counts: gradual coverage's share, else 1) plus its extensions' (`shares`, one per extension)."""
    k, towns, kinds = np.arange(len(L.pairs)), np.arange(L.n_towns), np.arange(len(shares))
    rows = np.r_[L.pairs[:, 0], np.tile(towns, len(shares))]
    cols = np.r_[L.u(k), L.ext(np.repeat(kinds, L.n_towns), np.tile(towns, len(shares)))]
    values = np.r_[L.pair_counts(), np.repeat(np.asarray(shares, float), L.n_towns)]
    return sp.csr_matrix((values, (rows, cols)), shape=(L.n_towns, L.n_cols))


def _least_spent(milp: MatrixMILP, x: np.ndarray, costs: np.ndarray, town_shares: sp.csr_matrix,
                 time_limit: float | None) -> tuple[np.ndarray, bool]:
    """Among the plans of `milp` within every rule serving every town at least the share plan `x` serves it
    (`town_shares`' rows; so as many residents), one costing least (costs·x): a second integer program started
    from `x`, searching at most LEAST_SPENT_NODES nodes and `time_limit` seconds. Returns that plan (`x` when
    it finds none cheaper: a plan costing the same is no better, and may serve towns a hair less within the solver's
    tolerance) and whether it is proven the least."""
    if time_limit is not None and time_limit <= 1e-3:  # no time left (seconds_left's least)
        return x, False
    floors = town_shares @ x - 1e-9
    model = replace(milp, c=costs, offset=0.0, sense="min", A=sp.vstack([milp.A, town_shares]).tocsr(),
                    row_lo=np.r_[milp.row_lo, floors], row_hi=np.r_[milp.row_hi, np.full(len(floors), INF)],
                    row_names=None if milp.row_names is None else
                    [*milp.row_names, *(f"town_served_{i}" for i in range(len(floors)))],
                    highs_options={**milp.highs_options, **LEAST_SPENT_OPTIONS})
    raw = solve_highs(model, time_limit=time_limit, warm_start=x)
    start = float(costs @ x)
    cheaper = raw.x is not None and float(costs @ raw.x) < start - 1e-9 * max(abs(start), 1.0)
    return (raw.x if cheaper else x), raw.status == "optimal"


def _retype(L: _Layout, edits: _PlanEdits, pairs_of, j: int, now: int, t: int) -> bool:
    """Site j open as type `now` opened as type t instead, serving the same shares of the same towns."""
    served = pairs_of(j, now)
    served = served[edits.x[L.u(served)] > 1e-9]
    target = dict(zip(L.pairs[pairs_of(j, t), 0].tolist(), pairs_of(j, t).tolist()))
    moved = [target.get(i) for i in L.pairs[served, 0].tolist()]
    if None in moved:
        return False
    shares = edits.x[L.u(served)]
    return edits.change(np.r_[L.x(j, now), L.x(j, t), L.u(served), L.u(np.array(moved, np.int64))],
                        np.r_[0.0, 1.0, np.zeros(len(served)), shares])


class _SpareCapacity:
    """Where the residents of a town can go in a plan being edited: the open (site, type) pairs in reach of it and
    the residents each can still take (the slack of its capacity row)."""

    def __init__(self, L: _Layout, edits: _PlanEdits, pop: np.ndarray, existing: np.ndarray) -> None:
        self.L, self.edits, self.pop, self.existing = L, edits, pop, existing
        names = edits.milp.row_names
        self.first_row = next((r for r, name in enumerate(names) if name.startswith("capacity_")), len(names))
        self.served_x = np.unique(L.x(L.pairs[:, 1], L.pairs[:, 2]))  # the capacity rows' order (_joint_model)
        order = np.argsort(L.pairs[:, 0], kind="stable")
        self.town_pairs, self.town_bounds = order, np.searchsorted(L.pairs[order, 0], np.arange(L.n_towns + 1))

    def moves(self, i: int, share: float, away_from: int, claimed: dict[int, float]) -> tuple | None:
        """Pairs of town i with open branches other than site `away_from` that can take `share` more of it, and
        what each takes (the first ones filled first), beyond the residents already `claimed` of each (site, type)
        column; None if they cannot take it all."""
        L, x = self.L, self.edits.x
        ks = self.town_pairs[self.town_bounds[i]:self.town_bounds[i + 1]]
        x_cols = L.x(L.pairs[ks, 1], L.pairs[ks, 2])
        usable = (L.pairs[ks, 1] != away_from) & (x[x_cols] > 0.5)
        ks, x_cols = ks[usable], x_cols[usable]
        order = np.argsort(~self.existing[L.pairs[ks, 1]], kind="stable")  # today's branches filled first
        ks, x_cols = ks[order], x_cols[order]
        spare = -self.edits.activity[self.first_row + np.searchsorted(self.served_x, x_cols)]
        spare -= np.array([claimed.get(c, 0.0) for c in x_cols.tolist()])
        room = np.maximum(np.minimum(1.0 - x[L.u(ks)], spare / max(self.pop[i], 1e-9)), 0.0)
        if room.sum() < share - 1e-9:
            return None
        take = np.minimum(room, np.maximum(share - (np.cumsum(room) - room), 0.0))
        for c, residents in zip(x_cols.tolist(), (take * self.pop[i]).tolist()):
            claimed[c] = claimed.get(c, 0.0) + residents
        return ks[take > 0], take[take > 0]

    def move_away(self, cols: list, served: np.ndarray, away_from: int) -> bool:
        """Columns `cols` set to 0 and the shares of towns their pairs `served` moved to other open branches in
        reach, as one change of the plan; False (nothing changed) when they cannot all move."""
        L, x = self.L, self.edits.x
        moved_cols, moved_values, claimed = [], [], {}
        for k in served.tolist():
            moves = self.moves(int(L.pairs[k, 0]), float(x[L.u(k)]), away_from, claimed)
            if moves is None:
                return False
            moved_cols.append(L.u(moves[0]))
            moved_values.append(x[L.u(moves[0])] + moves[1])
        return self.edits.change(np.r_[cols, L.u(served), np.concatenate(moved_cols or [np.zeros(0, np.int64)])],
                                 np.r_[np.zeros(len(cols) + len(served)),
                                       np.concatenate(moved_values or [np.zeros(0)])])


def _by_residents_served(L: _Layout, edits: _PlanEdits, sites: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """The sites, those serving the fewest residents first."""
    served = np.bincount(L.pairs[:, 1], edits.x[L.u(np.arange(len(L.pairs)))] * pop[L.pairs[:, 0]],
                         minlength=L.n_sites)
    return sites[np.argsort(served[sites], kind="stable")]


def _drop_idle_extensions(L: _Layout, edits: _PlanEdits, spare: _SpareCapacity, shares: list[float]) -> None:
    """Service vehicles and village stations (each serving its `shares` of a town) dropped where the open
    branches in reach have the spare capacity to serve those residents instead."""
    for e, share in enumerate(shares):
        for i in np.flatnonzero(edits.x[L.ext(e, np.arange(L.n_towns))] > 0.5):
            moves = spare.moves(int(i), share, -1, {})
            if moves is not None:
                edits.change(np.r_[L.ext(e, i), L.u(moves[0])], np.r_[0.0, edits.x[L.u(moves[0])] + moves[1]])


def _pairs_by_site_type(L: _Layout) -> Callable[[int, int], np.ndarray]:
    """A lookup of the pairs (positions in L.pairs) of site j as type t."""
    key = L.x(L.pairs[:, 1], L.pairs[:, 2])
    order = np.argsort(key, kind="stable")
    bounds = np.searchsorted(key[order], np.arange(L.n_x + 1))
    return lambda j, t: order[bounds[L.x(j, t)]:bounds[L.x(j, t) + 1]]


def _joint_tables(L: _Layout, raw, sites, towns, pop, extensions, facts: _SiteFacts):
    x = raw.x[:L.n_x].reshape(L.n_sites, len(TYPES)) > 0.5
    chosen = x.any(axis=1)
    new = (sites["kind"] == "new").to_numpy()
    spent = (x * facts.cost).sum(axis=1)
    kind = x.argmax(axis=1)
    site_table = pd.DataFrame({
        "site_id": sites["site_id"].values, "name": sites["name"].values, "kind": sites["kind"].values,
        "decision": np.where(chosen, np.where(new, "open", "keep"), np.where(new, "", "close")),
        "current_type": facts.current,
        "type": np.where(chosen, np.array(TYPES)[kind], ""),
        "open_cost_wan": np.where(new, spent, 0.0), "conversion_cost_wan": np.where(new, 0.0, spent),
        "score": np.where(chosen, facts.suit[np.arange(L.n_sites), kind].round(3), np.nan),
        "reasons": [facts.drivers[j][kind[j]] if chosen[j] else "" for j in range(L.n_sites)],
    })
    town, site, _ = L.pairs.T
    share = raw.x[L.u(np.arange(len(L.pairs)))]
    served = np.bincount(town, share, minlength=L.n_towns).astype(float)  # int when no pair is within reach
    counted = np.bincount(town, share * L.pair_counts(), minlength=L.n_towns).astype(float)
    site_table["served_wan"] = np.bincount(site, share * pop[town], minlength=L.n_sites) / 1e4
    if L.counted is not None:
        site_table["counted_wan"] = np.bincount(site, share * L.counted * pop[town], minlength=L.n_sites) / 1e4
    town_table = pd.DataFrame({"town_id": towns["town_id"].values, "name": towns["name"].values,
                               "population": pop})
    for e, name in enumerate(L.extension_names):
        flags = raw.x[L.ext(e, np.arange(L.n_towns))] > 0.5
        town_table[name] = flags
        served += flags * extensions[name]["share"]
        counted += flags * extensions[name]["share"]
    town_table["served_share"] = np.minimum(served, 1.0)
    extension_cost = sum(float(town_table[name].sum()) * extensions[name]["cost_wan"] for name in L.extension_names)
    served_residents = float(np.minimum(served, 1.0) @ pop)
    objective = served_residents if L.counted is None else float(np.minimum(counted, 1.0) @ pop)
    bound = objective if raw.status == "optimal" else float(raw.bound)
    summary = {"status": raw.status, "objective": objective, "bound": bound,
               "gap": relative_gap(objective, bound) if raw.status != "optimal" else 0.0,
               "served_residents": served_residents, "served_pct": 100.0 * served_residents / float(pop.sum()),
               "spent_wan": float(spent.sum()) + extension_cost}
    if L.counted is not None:
        town_table["counted_share"] = np.minimum(counted, 1.0)
        summary["counted_pct"] = 100.0 * objective / float(pop.sum())
    return site_table[site_table["decision"] != ""].reset_index(drop=True), town_table, summary
