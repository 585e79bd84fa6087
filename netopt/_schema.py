"""The columns netopt understands in counties, towns and branches tables: names, aliases, units."""
from __future__ import annotations

import datetime
import math
import re
import unicodedata
from functools import lru_cache
from dataclasses import dataclass, field

# Units written in a header, e.g. "常住人口（万人）" or "GDP (万元)": factor to the canonical unit.
PERSON_UNITS = {"万人": 1e4, "万": 1e4, "10k": 1e4, "人": 1.0, "persons": 1.0, "person": 1.0, "people": 1.0}
YUAN_UNITS = {"亿元": 1.0, "亿": 1.0, "100m_yuan": 1.0, "100m yuan": 1.0, "万元": 1e-4, "元": 1e-8, "yuan": 1e-8}
AREA_UNITS = {
    "km2": 1.0, "km²": 1.0, "平方公里": 1.0, "平方千米": 1.0, "sq km": 1.0,
    "公顷": 0.01, "ha": 0.01, "m2": 1e-6, "m²": 1e-6, "平方米": 1e-6,
}
PERCENT_UNITS = {"%": 1.0, "percent": 1.0, "pct": 1.0}
YEAR_UNITS = {"年": 1.0, "years": 1.0, "year": 1.0}


@dataclass(frozen=True)
class Field:
    """One canonical column: accepted header names, kind, and unit conversions."""

    name: str
    aliases: tuple[str, ...]
    kind: str = "text"  # text | number | id
    units: dict[str, float] = field(default_factory=dict)
    default_unit: str | None = None
    # headers that carry their unit in the name itself, e.g. population_wan -> 万人
    unit_aliases: dict[str, str] = field(default_factory=dict)
    description: str = ""


POPULATION = Field(
    "population",
    ("population", "pop", "pop_2020", "常住人口", "人口", "人口数", "总人口", "常住人口数", "人口数_合计", "resident_population",
     "年末常住人口", "常住人口数量"),
    kind="number", units=PERSON_UNITS, default_unit="人",
    unit_aliases={"population_wan": "万人", "pop_wan": "万人", "常住人口万人": "万人"},
    description="resident population, persons (a header with 万人 is multiplied by 10,000)",
)
LON = Field("lon", ("lon", "lng", "long", "longitude", "x", "经度", "东经", "x坐标",
                    "location.lng", "location_lng"),  # Baidu's place search, its JSON flattened
            kind="number", description="longitude, degrees")
LAT = Field("lat", ("lat", "latitude", "y", "纬度", "北纬", "y坐标", "location.lat", "location_lat"), kind="number",
            description="latitude, degrees")
LONLAT = Field("lonlat", ("lonlat", "lnglat", "lon_lat", "lng_lat", "lon/lat", "lng/lat", "lon,lat", "lng,lat",
                          "location", "coordinates", "经纬度", "坐标", "经纬度坐标", "位置坐标", "gps坐标", "经度/纬度",
                          "经度,纬度"),
               description="longitude and latitude in one cell, e.g. 117.2168,31.8258 (as Amap's geocoder gives)")
COORD_SYSTEM = Field(
    "coord_system", ("coord_system", "coordinate_system", "crs", "坐标系", "坐标系统", "坐标类型", "坐标体系"),
    description="each row's coordinate system: wgs84, gcj02 (Amap/Tencent 高德/腾讯) or bd09 (Baidu 百度); "
                "blank: --coords",
)
REGION_TYPE = Field(
    "region_type", ("region_type", "region", "区域类型", "区域", "城乡类型", "片区类型"),
    description="core | county | fringe (核心城区 / 县域 / 城乡结合部)",
)
CITY = Field("city", ("city", "city_name", "城市", "地市", "所属地市", "所属城市", "地级市", "所属市", "市州", "所属市州"),
             description="the city (地级市) of a county or town, in a table of several cities (a province's)")

# a county's census figures (第七次人口普查), which the branch type scores use
CENSUS_FIELDS: tuple[Field, ...] = (
    Field("pop_urban", ("pop_urban", "urban_population", "城镇人口", "城镇常住人口", "城镇人口数", "城镇常住人口数"),
          kind="number", units=PERSON_UNITS, default_unit="人", description="urban residents, persons"),
    Field("urbanization_pct", ("urbanization_pct", "urbanization_rate", "urbanization", "城镇化率", "常住人口城镇化率",
                               "城镇人口比重", "城镇人口占比", "城镇化水平"),
          kind="number", units=PERCENT_UNITS, default_unit="%",
          description="urban share of residents, % (fractions such as 0.62 read as 62 %)"),
    Field("avg_years_schooling", ("avg_years_schooling", "years_of_schooling", "平均受教育年限", "人均受教育年限",
                                  "15岁及以上人口平均受教育年限"),
          kind="number", units=YEAR_UNITS, default_unit="年", description="average years of schooling"),
    Field("share_65plus_pct", ("share_65plus_pct", "elderly_share_pct", "65岁及以上人口占比", "65岁及以上占比",
                               "65岁及以上人口比重", "65岁及以上人口比例", "65岁以上人口占比", "65岁以上人口比重"),
          kind="number", units=PERCENT_UNITS, default_unit="%",
          description="share of residents aged 65 and over, % (fractions read as %)"),
)
COUNTY_FIELDS: tuple[Field, ...] = (
    Field("county_id", ("county_id", "adcode", "区划代码", "行政区划代码", "county_code", "代码", "county_adcode", "code"), kind="id"),
    Field("name", ("name", "name_zh", "county", "county_name", "区县", "县区", "区县名称", "名称", "地区", "行政区",
                   "县(市、区)", "地区名称", "行政区划名称", "区划名称"),
          description="county name as given (Chinese)"),
    Field("name_pinyin", ("name_pinyin", "pinyin", "name_en", "拼音", "英文名")),
    POPULATION,
    Field("gdp_yi", ("gdp_yi", "gdp", "地区生产总值", "生产总值", "gdp_100m_yuan"), kind="number",
          units=YUAN_UNITS, default_unit="亿元", description="GDP, 亿元 (万元 and 元 headers are converted)"),
    Field("area_km2", ("area_km2", "area", "面积", "土地面积", "行政区域面积", "辖区面积", "area_km2_computed",
                       "行政区域土地面积"),
          kind="number", units=AREA_UNITS, default_unit="km2", description="area, km² (公顷 and m² converted)"),
    REGION_TYPE,
    CITY,
    *CENSUS_FIELDS,
    COORD_SYSTEM,  # boundaries from another source than the points (天地图 WGS84 beside Amap's GCJ-02 branches)
)
COUNTY_REQUIRED = ("name", "population")

TOWN_FIELDS: tuple[Field, ...] = (
    Field("town_id", ("town_id", "town_code", "乡镇代码", "区划代码", "code", "id", "编号"), kind="id"),
    Field("name", ("name", "name_zh", "town", "town_name", "乡镇", "乡镇名称", "乡镇街道", "街道", "名称",
                   "乡镇(街道)名称", "乡镇街道名称", "镇街", "镇街名称", "乡、镇、街道", "乡镇(街道)", "街道(乡镇)",
                   "乡(镇、街道)", "乡镇/街道", "地区", "地区名称")),  # 乡、镇、街道, 地区: as census tables head it
    Field("county", ("county", "county_name", "county_name_zh", "区县", "所属区县", "县区", "区县名称", "所在区县",
                     "县(市、区)", "所属县(市、区)")),
    Field("county_id", ("county_id", "county_adcode", "county_code", "区县代码", "所属区县代码"), kind="id"),
    CITY,
    POPULATION,
    Field("population_method", ("population_method", "人口来源", "人口口径")),
    REGION_TYPE,
    LONLAT,  # before LON: a header such as 经度/纬度 names both, not a longitude with a unit
    LON,
    LAT,
    COORD_SYSTEM,
)
TOWN_REQUIRED = ("name",)

# the town a branch or candidate site without coordinates is placed at (at its point)
TOWN_NAMED = Field("town", ("town", "所在乡镇", "所属乡镇", "乡镇", "所在乡镇(街道)", "所在街道"))

BRANCH_FIELDS: tuple[Field, ...] = (
    Field("branch_id", ("branch_id", "id", "网点编号", "网点代码", "机构号", "机构代码", "编号", "code", "机构编码",
                        "网点号", "联行号", "统一社会信用代码", "信用代码")),
    Field("name", ("name", "branch_name", "网点名称", "名称", "机构名称", "网点", "营业网点名称", "网点全称", "机构全称",
                   "企业名称", "公司名称")),  # 企业名称: a company registry's list of a bank's branches (分支机构)
    Field("bank", ("bank", "bank_zh", "bank_name", "银行", "所属银行", "银行名称")),
    Field("type", ("type", "branch_type", "网点类型", "类型", "功能定位"),
          description="comprehensive | community | inclusive | light (综合型 / 社区型 / 普惠型 / 轻型)"),
    Field("county", ("county", "county_name", "区县", "所属区县", "所在区县", "县(市、区)", "所属县(市、区)", "区县名称",
                     "所属区县名称", "adname")),  # adname: an Amap POI's district
    Field("address", ("address", "地址", "网点地址", "详细地址", "营业地址", "住所", "机构住所", "机构地址",
                        "营业场所", "经营场所", "注册地址", "企业地址")),  # 营业场所: a branch company's, in the registry
    TOWN_NAMED,
    Field("status", ("status", "营业状态", "机构状态", "经营状态", "网点状态", "状态", "许可证状态", "登记状态",
                     "企业状态"),
          description="whether the branch is open today (正常营业 / 已撤销 / 筹建中 …): only open ones are read"),
    LONLAT,  # before LON: a header such as 经度/纬度 names both, not a longitude with a unit
    LON,
    LAT,
    COORD_SYSTEM,
)
BRANCH_REQUIRED = ("name",)

# the analyst's own candidate sites (候选点位) for new branches, instead of the town points
WAN_YUAN_UNITS = {"万元": 1.0, "万": 1.0, "元": 1e-4, "yuan": 1e-4, "亿元": 1e4, "亿": 1e4}
CANDIDATE_FIELDS: tuple[Field, ...] = (
    Field("site_id", ("site_id", "id", "编号", "点位编号", "候选点编号", "code")),
    Field("name", ("name", "site_name", "名称", "点位名称", "候选点", "候选点名称", "候选点位", "网点名称")),
    Field("address", ("address", "地址")),
    TOWN_NAMED,
    Field("open_cost_wan", ("open_cost", "cost", "开设成本", "开业成本", "建设成本", "成本", "投入"), kind="number",
          units=WAN_YUAN_UNITS, default_unit="万元",
          unit_aliases={"open_cost_wan": "万元", "cost_wan": "万元"},
          description="the cost of opening a branch there, 万元 (a header with 元 or 亿元 is converted)"),
    LONLAT,  # before LON: a header such as 经度/纬度 names both, not a longitude with a unit
    LON,
    LAT,
    COORD_SYSTEM,
)
CANDIDATE_REQUIRED = ("name",)

BRANCH_TYPES = ("comprehensive", "community", "inclusive", "light")
_BRANCH_TYPE_NAMES = {
    "comprehensive": "comprehensive", "综合型": "comprehensive", "综合": "comprehensive", "综合网点": "comprehensive",
    "community": "community", "社区型": "community", "社区": "community", "社区网点": "community",
    "inclusive": "inclusive", "普惠型": "inclusive", "普惠": "inclusive", "普惠网点": "inclusive",
    "light": "light", "轻型": "light", "轻": "light", "轻型网点": "light",
}
REGION_TYPES = ("core", "county", "fringe")
REGION_ZH = {"core": "核心城区", "county": "县域", "fringe": "城乡结合部", "unknown": "未分类"}
_REGION_TYPE_NAMES = {
    "core": "core", "核心城区": "core", "主城区": "core", "中心城区": "core", "城区": "core", "urban": "core",
    "市区": "core",
    "county": "county", "县域": "county", "县": "county", "郊县": "county", "rural": "county", "农村": "county",
    "县城": "county", "乡镇": "county", "乡村": "county",
    "fringe": "fringe", "城乡结合部": "fringe", "城郊": "fringe", "近郊": "fringe", "peri-urban": "fringe",
    "郊区": "fringe",
}


# words of the labels banks give their branches' types (社区支行, 综合性网点, 小微支行, 轻型化网点): a label holding
# one type's words and no other's is that type
_BRANCH_TYPE_WORDS = {"comprehensive": ("综合",), "community": ("社区",), "inclusive": ("普惠", "小微"),
                      "light": ("轻型", "轻量")}


def canonical_branch_type(value: str) -> str | None:
    """The canonical branch type for a user's label, or None when it is not one."""
    label = str(value).strip().lower()
    if label in _BRANCH_TYPE_NAMES:
        return _BRANCH_TYPE_NAMES[label]
    said = [kind for kind, words in _BRANCH_TYPE_WORDS.items() if any(word in label for word in words)]
    return said[0] if len(said) == 1 else None


# words of a status column (营业状态, a licence's 许可证状态) saying a branch is not open today; anything else is open
NOT_YET_OPEN = ("筹建", "筹备", "拟设", "待开业", "未开业", "planned", "under construction")
CLOSED = ("撤销", "撤并", "已撤", "注销", "停业", "暂停", "关闭", "退出", "失效", "无效", "终止", "歇业", "迁出", "吊销", "close",
          "inactive", "revoked")


def branch_status(value: object) -> str:
    """"closed", "planned" (not yet open) or "open" for a status cell (blank: open)."""
    text = str(value).strip().lower() if isinstance(value, str) else ""
    if any(word in text for word in NOT_YET_OPEN):
        return "planned"
    return "closed" if any(word in text for word in CLOSED) else "open"


TYPE_ZH = {"comprehensive": "综合型", "community": "社区型", "inclusive": "普惠型", "light": "轻型"}
DECISION_ZH = {"keep": "保留", "open": "新设", "close": "撤并"}
MOVE_WORDS = {"open": "新设 open", "close": "撤并 close", "move": "迁址 move"}
# a plan's coded values as its workbook — the copy for people — says them, in Chinese and English (the CSVs keep
# the codes, for scripts); a value not listed is shown as it is
VALUE_WORDS = {
    "kind": {"existing": "现有 existing", "new": "新设 new"},
    "decision": {code: f"{zh} {code}" for code, zh in DECISION_ZH.items()},
    "action": MOVE_WORDS,
    "covered": {True: "是 yes", False: "否 no"},
    "session": {"full day": "全天 full day", "morning": "上午 morning", "afternoon": "下午 afternoon"},
    "type": {**{code: f"{zh} {code}" for code, zh in TYPE_ZH.items()}, "unknown": "未知 unknown"},
}
VALUE_WORDS["current_type"] = VALUE_WORDS["type"]


def region_words(kind) -> str:
    """A region type as a page says it, 县域 county (a code it does not know as given; none: blank, as pages leave
    a missing value)."""
    if kind is None or (isinstance(kind, float) and math.isnan(kind)):
        return ""
    return f"{REGION_ZH[kind]} {kind}" if kind in REGION_ZH else str(kind)


def canonical_region_type(value: str) -> str | None:
    """The canonical region type (core / county / fringe) for a user's label — or netopt's own, 核心城区 core, as
    its pages and workbooks write it —, or None."""
    text = str(value).strip().lower()
    if text in _REGION_TYPE_NAMES:
        return _REGION_TYPE_NAMES[text]
    kinds = {_REGION_TYPE_NAMES.get(part) for part in text.split()}
    return kinds.pop() if len(kinds) == 1 else None


def normalize_header(header: object) -> str:
    """Lower-case, NFKC (full-width to ASCII), no BOM or surrounding spaces, no spaces between Chinese characters
    (a census table's 地　　区, spaced out to the column's width)."""
    text = unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "").strip().lower()
    return _SPACED_CHINESE.sub("", re.sub(r"\s+", " ", text))


_SPACED_CHINESE = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


_UNIT_SUFFIX = re.compile(r"^(?P<base>.*?)\s*[(\[/]\s*(?P<unit>[^)\]]*?)\s*[)\]]?$")


_ENGLISH_THEN_CHINESE = re.compile(r"^(?P<english>[a-z][a-z0-9_]*) (?P<chinese>[\u3400-\u9fff].*)$")


@lru_cache(maxsize=4096)  # every header against every alias of every field: the same few headers, often
def bilingual_parts(header: str) -> tuple[str, str] | None:
    """A normalized header written in English and Chinese as netopt writes its tables — "name 名称",
    "population 常住人口(人)" — split into its English name and the Chinese rest; None for any other header."""
    match = _ENGLISH_THEN_CHINESE.match(header)
    return (match.group("english"), match.group("chinese")) if match else None


@lru_cache(maxsize=4096)
def split_unit(header: str) -> tuple[str, str | None]:
    """Split "常住人口(万人)" into ("常住人口", "万人"); headers without a unit give (header, None)."""
    match = _UNIT_SUFFIX.match(header)
    if match and match.group("unit"):
        return match.group("base").strip(), match.group("unit").strip()
    return header, None


@dataclass(frozen=True)
class ColumnMatch:
    """Which source column feeds a canonical field, and the factor to its canonical unit."""

    field: Field
    source: str
    factor: float = 1.0


_YEAR = r"(?P<year>(?:19|20)\d\d)"
_YEAR_MARKS = (re.compile(rf"^{_YEAR}(?:年[末底度]?|[_ -])\s*"), re.compile(rf"\s*[_ -]?{_YEAR}(?:年[末底度]?)?$"))
_YEAR_ALONE = re.compile(rf"^{_YEAR}年?[末底度]?$")


def undated(header: str) -> tuple[str, int | None]:
    """A normalized header without the year its figures are of — 2023年地区生产总值(亿元), 地区生产总值(亿元,2023年),
    地区生产总值(2023年), gdp_2023, 2023年末常住人口 — and that year; (header, None) where it names none."""
    base, unit = split_unit(header)
    year = None
    if unit is not None:
        parts = [part.strip() for part in re.split(r"[,;、]", unit)]
        years = [part for part in parts if _YEAR_ALONE.match(part)]
        if years:
            year = int(years[0][:4])
            unit = ",".join(part for part in parts if part not in years) or None
    for mark in _YEAR_MARKS:
        found = mark.search(base)
        if found and found.group(0) != base:  # a year beside a name, not a year alone
            year = year or int(found.group("year"))
            base = (base[:found.start()] + base[found.end():]).strip()
            break
    if year is None:
        return header, None
    return (f"{base}({unit})" if unit else base), year


def match_columns(headers: list[str], fields: tuple[Field, ...]) -> tuple[dict[str, ColumnMatch], dict[str, str]]:
    """Match headers to fields: headers naming no year first; then, for a field none names, the headers naming it
    with a year (2023年地区生产总值), the latest year first — not a year to come (2035年人口, a projection: read
    with --population). Returns (matches by field name, unknown units by source column)."""
    dated = {h: undated(normalize_header(h)) for h in headers}
    matches: dict[str, ColumnMatch] = {}
    bad_units: dict[str, str] = {}
    _match_into({h: norm for h, (norm, year) in dated.items() if year is None}, fields, matches, bad_units)
    latest_first = [h for _, _, h in sorted((-year, k, h) for k, (h, (_, year)) in enumerate(dated.items())
                                            if year is not None and year <= datetime.date.today().year)]
    for fld in (f for f in fields if f.name not in matches):
        for header in latest_first:
            _match_into({header: dated[header][0]}, (fld,), matches, bad_units)
            if fld.name in matches or header in bad_units:
                break
    return matches, bad_units


def other_years(headers: list, source: str) -> list[str]:
    """The headers naming the same figure as `source` for another year, whatever its unit (2022年地区生产总值 beside
    2023年地区生产总值（亿元）)."""
    def figure(header: object) -> tuple[str, int | None]:
        name, year = undated(normalize_header(header))
        return split_unit(name)[0], year

    name, year = figure(source)
    if year is None:
        return []
    return [str(h) for h in headers if str(h) != source and (other := figure(h))[0] == name and other[1] is not None]


def _match_into(normalized: dict[str, str], fields: tuple[Field, ...], matches: dict[str, ColumnMatch],
                bad_units: dict[str, str]) -> None:
    """match_columns' matches of `fields` among the `normalized` headers, added to `matches` (and `bad_units`)."""
    for fld in fields:
        for alias in fld.aliases + tuple(fld.unit_aliases):
            hit = _find_header(normalized, alias, fld, matches)
            if hit is None:
                continue
            source, unit = hit
            factor = _unit_factor(fld, alias, unit)
            if factor is None:
                bad_units[source] = unit or ""
            else:
                matches[fld.name] = ColumnMatch(fld, source, factor)
            break


def _find_header(normalized: dict[str, str], alias: str, fld: Field,
                 taken: dict[str, ColumnMatch]) -> tuple[str, str | None] | None:
    """The header named `alias` (with a unit, 常住人口(万人)), else the one whose English name it is in a header of
    English and Chinese as netopt writes them (name 名称, population 常住人口(人): its tables read back)."""
    used = {m.source for m in taken.values()}
    free = {source: norm for source, norm in normalized.items() if source not in used}
    for source, norm in free.items():
        if norm == alias:
            return source, None
        base, unit = split_unit(norm)
        if unit is not None and base == alias:
            return source, unit
    for source, norm in free.items():
        parts = bilingual_parts(norm)
        if parts is not None and parts[0] == alias:
            return source, split_unit(parts[1])[1]
    return None


def fields_of_cut_headers(headers: list[str], fields: tuple[Field, ...]) -> dict[str, Field]:
    """Headers cut short (a Shapefile's field names end at 10 bytes: 网点名称 as 网点名, 开设成本（万元） as 开设成本（)
    by the one field whose accepted name each begins (an unclosed bracket dropped); at least two characters, and
    a header beginning names of several fields is none's."""
    found = {}
    for header in headers:
        start = re.sub(r"\s*[(\[][^)\]]*$", "", normalize_header(header))
        owners = [fld for fld in fields if len(start) >= 2 and any(
            normalize_header(alias).startswith(start) for alias in fld.aliases + tuple(fld.unit_aliases))]
        if len(owners) == 1:
            found[header] = owners[0]
    return found


def _unit_factor(fld: Field, alias: str, unit: str | None) -> float | None:
    if alias in fld.unit_aliases:
        unit = fld.unit_aliases[alias]
    if unit is None:
        return 1.0
    if not fld.units:
        return 1.0
    return fld.units.get(unit.strip().lower())


def accepted_names(fld: Field) -> str:
    """A short human list of the header names accepted for a field."""
    return ", ".join(fld.aliases[:8])
