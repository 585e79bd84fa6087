"""Shared fixtures: small real-looking input files written in a temporary folder."""
from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings
from shapely.geometry import box

from netopt import fonts

# the property tests draw the same random cases on every run of `make test` (a failure there is a change's
# doing and reruns the same way); `make test-fuzz` draws new cases each round to look for bugs no fixed draw hits
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("NETOPT_HYPOTHESIS", "repeatable"))
FUZZING = os.environ.get("NETOPT_HYPOTHESIS") == "fuzz"  # a property test costly per case draws more only then


@pytest.fixture(autouse=True, scope="session")
def click_command_built_once() -> Iterator[None]:
    """typer's CliRunner builds the click command from netopt's app anew at each invoke — 35 ms of reading every
    option's annotations, at each of the suite's hundreds of commands —: here once per test process. The command
    is the same each time; what a test changes in netopt.cli (its console, write_atomic) is looked up when a
    command runs."""
    import typer.testing

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", functools.lru_cache(maxsize=None)(typer.testing._get_command))
        yield


# the tests read netopt's .xlsx outputs with openpyxl, the engine netopt writes them with (pandas 3 warns that
# its default changes to calamine, which netopt installs for old .xls inputs)
pd.set_option("io.excel.xlsx.reader", "openpyxl")

COUNTIES_CSV = """区划代码,区县,常住人口（万人）,地区生产总值(亿元),面积(平方公里),区域类型
340102,瑶海区,86.2,1000,223.1,核心城区
340121,长丰县,78.4,700,1835.6,县域
"""
TOWNS_CSV = """乡镇代码,乡镇名称,所属区县,常住人口,经度,纬度
1,明光路街道,瑶海区,30000,117.3016,31.8585
2,水湖镇,长丰县,120000,117.1549,32.4838
"""
BRANCHES_CSV = """网点编号,网点名称,银行,网点类型,经度,纬度
A1,明光路支行,示例银行,综合型,117.3020,31.8590
A2,水湖支行,示例银行,普惠型,117.1600,32.4800
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def city_files(tmp_path: Path) -> dict[str, Path]:
    """A two-county city as CSV files with Chinese headers."""
    return {
        "counties": write(tmp_path / "counties.csv", COUNTIES_CSV),
        "towns": write(tmp_path / "towns.csv", TOWNS_CSV),
        "branches": write(tmp_path / "branches.csv", BRANCHES_CSV),
    }


@pytest.fixture
def county_boxes():
    """Two rectangular counties around the towns above (WGS84)."""
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {"adcode": ["340102", "340121"], "name": ["瑶海区", "长丰县"], "population": [862043, 783982]},
        geometry=[box(117.25, 31.80, 117.40, 31.95), box(116.90, 32.20, 117.40, 32.70)], crs="EPSG:4326",
    )


FONT_FAMILY = "Netopt Test Hei"  # a family no list of known Chinese fonts holds: found by its glyphs alone
CHINESE = [*range(0x3000, 0x3040), *range(0x4E00, 0xA000), *range(0xFF00, 0xFFF0)]  # punctuation, ideographs, （）


def chinese_font(path: Path, family: str = FONT_FAMILY, characters=CHINESE) -> Path:
    """A TrueType font whose every character of `characters` (Chinese ones) is one box."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    pen = TTGlyphPen(None)
    for x, y in ((100, 0), (100, 800), (900, 800), (900, 0)):
        (pen.moveTo if x == 100 and y == 0 else pen.lineTo)((x, y))
    pen.closePath()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "box"])
    builder.setupCharacterMap({code: "box" for code in characters})
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "box": pen.glyph()})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "box": (1000, 100)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


@pytest.fixture
def own_fonts(monkeypatch):
    """matplotlib's fonts as this machine has them but its Chinese ones (the same on every machine), the fonts a
    test registers dropped after it; no NETOPT_FONT; nothing drawn yet."""
    from matplotlib import font_manager

    latin = [entry for entry in font_manager.fontManager.ttflist  # matplotlib's Last Resort placeholders kept
             if "last resort" in entry.name.lower() or not fonts.has_chinese(Path(entry.fname))]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", latin)
    system = [file for file in font_manager.findSystemFonts() if not fonts.has_chinese(Path(file))]
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda: system)
    monkeypatch.setenv(fonts.FONT_ENV, "")  # empty: none named; whatever a test sets is undone after it
    monkeypatch.setattr(fonts, "_drawn_without_chinese", False)
    fonts._installed_cjk_font.cache_clear()
    yield
    fonts._installed_cjk_font.cache_clear()


@contextlib.contextmanager
def one_worker_at_a_time(lock: Path) -> Iterator[None]:
    """Only one of the test run's workers (pytest-xdist's processes) within at a time: a lock on that file (none
    where the system has no fcntl, Windows: there each worker keeps to a folder of its own)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def bank_reports(tmp_path_factory, worker_id: str) -> tuple[str, Path]:
    """`netopt report --bank 农业 --new-per-county 2` on the sample, titled, its Word report in the bank's template
    (tests/test_document's 农行报告模板.dotx, written beside the folder), run once for the whole test run, its
    workers too, for the tests that read its files (none may change them): what it said and its folder."""
    from typer.testing import CliRunner

    from netopt.cli import app
    from tests.test_document import _bank_template

    run = tmp_path_factory.getbasetemp()
    shared = run.parent if worker_id != "master" and os.name != "nt" else run  # the workers' common folder
    out, said = shared / "bank_reports", shared / "bank_reports.said"
    with one_worker_at_a_time(shared / "bank_reports.lock"):
        if not said.exists():
            template = _bank_template(shared / "农行报告模板.dotx", dotx=True)
            result = CliRunner().invoke(app, ["report", "--bank", "农业", "--new-per-county", "2", "--out", str(out),
                                              "--title", "农行合肥分行网点覆盖诊断", "--word-template", str(template)])
            assert result.exit_code == 0, result.output
            said.write_text(result.output, encoding="utf-8")
    return said.read_text(encoding="utf-8"), out
