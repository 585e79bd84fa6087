"""The sample's files broken at random — a cell, a row, a column, a header, a cut, a county's boundary — read and
diagnosed: every outcome is a diagnosis or a NetoptError naming the file, never an error from pandas or shapely
(a blank county code, a pinyin column left out and a census share written N31.8 each were one)."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import netopt as no
from netopt import NetoptError
from netopt.datasets import sample_dir
from tests.conftest import FUZZING

CELLS = ["", " ", "abc", "-1", "0", "1e308", "nan", "inf", "3.2万", "１２３", "#N/A", "1,234", "12.3.4", "中文",
         "x" * 300, "=SUM(A1)", "1.5亿", "117°18′", "N31.8", "—", "/", "社区型", "core", "瑶海区", "不存在县",
         "中国农业银行", "340102", "31.8,117.3", "117.3,31.8", "0.0"]
FILES = ["towns.csv", "branches.csv", "counties.geojson"]
OPERATIONS = ["cell", "column", "delete row", "repeat row", "blank row", "delete column", "header", "cut"]


def _break_table(text: str, operation: str, row: int, column: int, value: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    at, where = 1 + row % (len(rows) - 1), column % len(rows[0])
    if operation == "cut":
        return text[: (row * 97 + column) % len(text)]
    if operation == "cell":
        rows[at][where] = value
    elif operation == "column":
        for cells in rows[1:]:
            cells[where] = value
    elif operation in ("delete row", "repeat row", "blank row"):
        rows[at: at + 1] = {"delete row": [], "repeat row": [rows[at]] * 2, "blank row": [[], rows[at]]}[operation]
    elif operation == "delete column":
        rows = [cells[:where] + cells[where + 1:] for cells in rows]
    else:
        rows[0][where] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _break_counties(text: str, operation: str, row: int, column: int, value: str) -> str:
    counties = json.loads(text)
    county = counties["features"][row % len(counties["features"])]
    keys = sorted(county["properties"])
    if operation in ("cell", "column", "header"):
        county["properties"][keys[column % len(keys)]] = value
    elif operation == "delete column":
        for feature in counties["features"]:
            feature["properties"].pop(keys[column % len(keys)])
    elif operation in ("delete row", "cut"):
        counties["features"].remove(county)
    elif operation == "repeat row":
        counties["features"].append(county)
    else:  # a county's boundary crossing itself whole: a bow tie
        bow_tie = [[117, 31], [118, 32], [118, 31], [117, 32], [117, 31]]
        county["geometry"] = {"type": "Polygon", "coordinates": [bow_tie]}
    return json.dumps(counties, ensure_ascii=False)


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory) -> Path:
    return Path(shutil.copytree(sample_dir(), tmp_path_factory.mktemp("broken") / "city"))


@settings(max_examples=60 if FUZZING else 12, deadline=None,  # each case reads and measures the whole sample
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FILES), operation=st.sampled_from(OPERATIONS), row=st.integers(0, 600),
       column=st.integers(0, 20), value=st.sampled_from(CELLS))
@example(name="towns.csv", operation="cell", row=78, column=3, value="")  # 上派镇 without its county code
@example(name="counties.geojson", operation="cell", row=2, column=11, value="N31.8")  # share_65plus_pct
def test_a_broken_file_is_diagnosed_or_named_never_a_library_error(sample_copy: Path, name: str, operation: str,
                                                                   row: int, column: int, value: str):
    original = (sample_dir() / name).read_text(encoding="utf-8")
    broken = (_break_counties if name.endswith(".geojson") else _break_table)(original, operation, row, column, value)
    (sample_copy / name).write_text(broken, encoding="utf-8")
    try:
        ds = no.read_folder(sample_copy)
        no.analyze_coverage(ds, radius_km=3.5)
        no.models.types.branch_scores(ds)
    except NetoptError as err:
        assert any(file in str(err) for file in FILES), str(err)
    finally:
        (sample_copy / name).write_text(original, encoding="utf-8")
