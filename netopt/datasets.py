"""The bundled real sample city: Hefei (合肥市), its 9 county-level divisions, 125 towns and 494 branches."""
from __future__ import annotations

import json
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
    `population`: a towns column to count the residents by instead (read_dataset)."""
    folder = sample_dir()
    return credited(read_dataset(folder / "counties.geojson", folder / "towns.csv", folder / "branches.csv",
                                 population=population), folder)  # its sources, credited wherever it is shown


def sample_summary() -> dict:
    """Counts and totals of the bundled sample, as written by data/build_sample.py."""
    return json.loads((sample_dir() / "summary.json").read_text(encoding="utf-8"))
