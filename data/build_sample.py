"""Rebuild the bundled Hefei sample (data/sample/) from the real sources in data/sources/."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from netopt.coords import gcj02_to_wgs84, to_wgs84
from netopt.io import geodesic_area_km2, write_atomic

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
OUT = HERE / "sample"

CORE_DISTRICTS = {"340102", "340103", "340104", "340111"}
URBAN_CODE_COLUMNS = ["n_ur111_main_urban", "n_ur112_urban_fringe", "n_ur121_town_centre",
                      "n_ur122_town_fringe", "n_ur123_special"]
RURAL_CODE_COLUMNS = ["n_ur210_township_centre", "n_ur220_village"]
# A town whose own point is missing but which is its county's seat: it takes the county's point.
SEAT_TOWNS = {"340124100000": "340124"}  # 庐城镇 is the seat of 庐江县
VONNG_COLUMNS = ("code parent name level rank adcode post_code area_code ur_code municipality virtual dummy "
                 "longitude latitude center province city county town village").split()
# Coordinate system of each bank's raw coordinates: tested in the sources' SOURCES.md, or assumed.
BANK_COORDS = {
    "中国农业银行": ("gcj02", "tested"),
    "中国建设银行": ("wgs84", "tested, uncertain"),
    "招商银行": ("bd09", "tested, uncertain"),
    "华夏银行": ("bd09", "tested, uncertain"),
}
DEFAULT_BANK_COORDS = ("gcj02", "assumed: untestable, most Chinese branch locators use Amap/Tencent")
POPULATION_METHOD = ("estimated: county census 2020 urban population split by the town's count of urban-coded "
                     "(NBS 1xx) communities, rural population by its count of village-coded (2xx) villages")


def build_counties() -> gpd.GeoDataFrame:
    table = pd.read_csv(SOURCES / "hefei/hefei_counties.csv", dtype={"adcode": str})
    table = table[table["has_boundary"]].copy()
    shapes = gpd.read_file(SOURCES / "hefei/hefei_counties_gcj02.geojson")
    shapes["adcode"] = shapes["adcode"].astype(str)
    shapes = shapes[shapes["adcode"].isin(table["adcode"])]
    shapes = shapes.set_geometry(shapes.geometry.make_valid())
    wgs = shapes.geometry.apply(lambda g: _shift_to_wgs84(g))
    merged = table.merge(pd.DataFrame({"adcode": shapes["adcode"].values, "geometry": wgs.values}), on="adcode")
    counties = gpd.GeoDataFrame({
        "county_id": merged["adcode"],
        "name": merged["name_zh"],
        "name_pinyin": merged["name_pinyin"],
        "population": merged["pop_2020"],
        "pop_urban": merged["pop_urban_2020"],
        "pop_rural": merged["pop_rural_2020"],
        "share_65plus_pct": merged["share_65plus_pct_2020"],
        "avg_years_schooling": merged["avg_years_schooling_2020"],
        "gdp_yi": np.nan,
        "region_type": np.where(merged["adcode"].isin(CORE_DISTRICTS), "core", "county"),
        "kind": merged["kind"],
    }, geometry=list(merged["geometry"]), crs="EPSG:4326")
    counties["area_km2"] = geodesic_area_km2(counties.geometry).round(1)
    return counties


def _shift_to_wgs84(geom):
    import shapely

    return shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))


def _villages() -> pd.DataFrame:
    frames = [pd.read_csv(f, header=None, names=VONNG_COLUMNS, dtype=str)
              for f in sorted((SOURCES / "vonng_adcode").glob("*.csv"))]
    rows = pd.concat(frames)
    return rows[rows["level"] == "village"]


def locate_towns(towns: pd.DataFrame, counties: pd.DataFrame) -> pd.DataFrame:
    """Give each town a WGS84 point and say how: its own Amap point, its villages' mean, or its county seat."""
    towns = towns.copy()
    towns["location_method"] = np.where(towns["lon_gcj02"].notna(), "town point (Amap, via Vonng/adcode)", None)
    villages = _villages().dropna(subset=["longitude"])
    means = villages.astype({"longitude": float, "latitude": float}).groupby("parent")[["longitude", "latitude"]].mean()
    need = towns["lon_gcj02"].isna() & towns["town_code"].isin(means.index)
    towns.loc[need, "lon_gcj02"] = towns.loc[need, "town_code"].map(means["longitude"])
    towns.loc[need, "lat_gcj02"] = towns.loc[need, "town_code"].map(means["latitude"])
    towns.loc[need, "location_method"] = "mean of its villages' Amap points (Vonng/adcode)"
    seats = counties.set_index("adcode")
    for town_code, county in SEAT_TOWNS.items():
        row = towns["town_code"] == town_code
        if towns.loc[row, "lon_gcj02"].isna().all():
            towns.loc[row, "lon_gcj02"] = seats.loc[county, "seat_lon_gcj02"]
            towns.loc[row, "lat_gcj02"] = seats.loc[county, "seat_lat_gcj02"]
            towns.loc[row, "location_method"] = "county seat point (Amap, via Vonng/adcode)"
    lon, lat = gcj02_to_wgs84(towns["lon_gcj02"].to_numpy(float), towns["lat_gcj02"].to_numpy(float))
    towns["lon"], towns["lat"] = np.round(lon, 6), np.round(lat, 6)
    return towns


def apportion_population(towns: pd.DataFrame, census: pd.DataFrame) -> pd.Series:
    """County census urban/rural population split over its towns by urban-/village-coded community counts."""
    urban_rows = towns[URBAN_CODE_COLUMNS].sum(axis=1)
    rural_rows = towns[RURAL_CODE_COLUMNS].sum(axis=1)
    pop = pd.Series(0.0, index=towns.index)
    for adcode, group in towns.groupby("county_adcode"):
        unit = census.loc[adcode]
        for people, weights in ((unit["pop_urban_2020"], urban_rows[group.index]),
                                (unit["pop_rural_2020"], rural_rows[group.index])):
            if weights.sum() == 0:  # no village-coded rows: split by all rows instead
                weights = urban_rows[group.index] + rural_rows[group.index]
            pop[group.index] += people * weights / weights.sum()
    return _round_preserving_total(pop, towns["county_adcode"])


def _round_preserving_total(pop: pd.Series, groups: pd.Series) -> pd.Series:
    """Round to whole persons so that each county's towns still add up to its census total."""
    out = pop.copy()
    for _, idx in pop.groupby(groups).groups.items():
        part = pop[idx]
        floor = np.floor(part)
        short = int(round(part.sum() - floor.sum()))
        order = (part - floor).sort_values(ascending=False).index[:short]
        floor[order] += 1
        out[idx] = floor
    return out.astype(int)


def build_towns(census: pd.DataFrame) -> pd.DataFrame:
    raw = pd.read_csv(SOURCES / "hefei/hefei_towns.csv", dtype={"town_code": str, "county_adcode": str})
    located = locate_towns(raw, census.reset_index())
    towns = located[located["lon"].notna()].copy()
    towns["population"] = apportion_population(towns, census)
    share_111 = towns["n_ur111_main_urban"] / towns["n_villages_communities"].clip(lower=1)
    core = towns["county_adcode"].isin(CORE_DISTRICTS)
    towns["region_type"] = np.select([core & (share_111 >= 0.5), core], ["core", "fringe"], "county")
    out = towns.rename(columns={"town_code": "town_id", "name_zh": "name", "county_name_zh": "county",
                                "county_adcode": "county_id"})
    out["population_method"] = POPULATION_METHOD
    keep = ["town_id", "name", "county", "county_id", "kind", "population", "population_method", "region_type",
            "lon", "lat", "location_method", "n_villages_communities", "share_urban_coded"]
    return out[keep]


def build_branches(towns: pd.DataFrame) -> pd.DataFrame:
    raw = pd.read_csv(SOURCES / "hefei/hefei_bank_branches_2019.csv",
                      dtype={"county_adcode_from_address": str, "town_code_from_address": str})
    raw = raw[(raw["kind"] == "branch/outlet") & raw["name"].notna()]
    raw = raw[~raw["coord_check"].fillna("").str.startswith("OUTSIDE")].copy()
    raw["town_code_from_address"] = raw["town_code_from_address"].str.replace(r"\.0$", "", regex=True)
    with_xy = raw[raw["lon"].notna()].copy()
    systems = with_xy["bank_zh"].map(lambda b: BANK_COORDS.get(b, DEFAULT_BANK_COORDS))
    lon = np.empty(len(with_xy))
    lat = np.empty(len(with_xy))
    for system in ("wgs84", "gcj02", "bd09"):
        rows = (systems.str[0] == system).to_numpy()
        lon[rows], lat[rows] = to_wgs84(with_xy["lon"].to_numpy()[rows], with_xy["lat"].to_numpy()[rows], system)
    with_xy["lon"], with_xy["lat"] = lon, lat
    with_xy["location_method"] = "bank locator point, source system " + systems.str[0] + " (" + systems.str[1] + ")"
    town_xy = towns.set_index("town_id")[["lon", "lat"]]
    placed = raw[raw["lon"].isna() & raw["town_code_from_address"].isin(town_xy.index)].copy()
    placed["lon"] = placed["town_code_from_address"].map(town_xy["lon"])
    placed["lat"] = placed["town_code_from_address"].map(town_xy["lat"])
    placed["location_method"] = "APPROXIMATE: the point of the town named in the address"
    rows = pd.concat([with_xy, placed]).reset_index(drop=True)
    branches = pd.DataFrame({
        "branch_id": [f"HF{i + 1:04d}" for i in range(len(rows))],
        "name": rows["name"], "bank": rows["bank_zh"], "type": "", "address": rows["address"],
        "lon": rows["lon"].round(6), "lat": rows["lat"].round(6), "location_method": rows["location_method"],
    })
    # An outlet at the very point its bank's locator gave another is that outlet again: HXB's locator was scraped
    # twice (June and July 2019, addresses written differently), 12 outlets twice, and CMBC's 庐阳支行 twice. The
    # first is kept, and the ids of the others stay as they were.
    located = ~branches["location_method"].str.startswith("APPROXIMATE")
    return branches[~(located & branches.duplicated(["bank", "lon", "lat"]))]


def main() -> None:
    census = pd.read_csv(SOURCES / "hefei/hefei_counties.csv", dtype={"adcode": str}).set_index("adcode")
    counties = build_counties()
    towns = build_towns(census)
    branches = build_branches(towns)
    OUT.mkdir(exist_ok=True)
    write_atomic(OUT / "counties.geojson", lambda p: counties.to_file(p, driver="GeoJSON", layer="counties"))
    write_atomic(OUT / "towns.csv", lambda p: towns.to_csv(p, index=False, encoding="utf-8"))
    write_atomic(OUT / "branches.csv", lambda p: branches.to_csv(p, index=False, encoding="utf-8"))
    summary = {
        "counties": len(counties), "county_population": int(counties["population"].sum()),
        "towns": len(towns), "town_population": int(towns["population"].sum()),
        "branches": len(branches),
        "branches_approximate": int(branches["location_method"].str.startswith("APPROXIMATE").sum()),
        "branches_by_bank": branches["bank"].value_counts().to_dict(),
    }
    write_atomic(OUT / "summary.json",
                 lambda p: p.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"))
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
