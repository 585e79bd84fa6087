"""The bundled real sample city: Hefei (合肥市), its 9 county-level divisions, 125 towns and 494 branches."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from netopt.io import Dataset, credited, read_dataset

SAMPLE_CITY = "合肥市 Hefei"


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


def sample_summary() -> dict:
    """Counts and totals of the bundled sample, as written by data/build_sample.py."""
    return json.loads((sample_dir() / "summary.json").read_text(encoding="utf-8"))
