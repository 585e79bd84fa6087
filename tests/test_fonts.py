"""Chinese labels on the PNG/PDF maps and charts: a font found on the machine by its glyphs, or named by NETOPT_FONT
(no.use_font); without one, pinyin and English labels, said once. Fonts made with fontTools (conftest.chinese_font)."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import netopt as no
from netopt import fonts
from netopt.cli import app
from tests.conftest import FONT_FAMILY, chinese_font
from tests.test_cli import _said

CHART = pd.DataFrame({"radius_km": [1.0, 2.0, 3.0], "coverage_pct": [20.0, 40.0, 60.0],
                      "coverage_pct_core": [30.0, 50.0, 70.0]})


def chart_text(path: Path) -> str:
    """The words of an SVG chart written with its text kept as text."""
    return " ".join(re.findall(r">([^<>]+)</text>", path.read_text(encoding="utf-8")))


def svg_chart(path: Path) -> Path:
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        return no.maps.radius_chart(CHART, path, {"core": 2.0})


def test_the_font_netopt_font_names_writes_the_chinese_labels(own_fonts, tmp_path: Path, monkeypatch):
    monkeypatch.setenv(fonts.FONT_ENV, str(chinese_font(tmp_path / "hei.ttf")))
    assert fonts.cjk_font() == FONT_FAMILY
    with warnings.catch_warnings():
        warnings.simplefilter("error", fonts.ChineseFontWarning)
        svg = svg_chart(tmp_path / "chart.svg")
    assert "覆盖率-半径曲线 Coverage by service radius" in chart_text(svg) and FONT_FAMILY in svg.read_text(encoding="utf-8")
    assert not fonts.drew_without_chinese()


def test_use_font_sets_it_for_this_process_and_those_it_starts(own_fonts, tmp_path: Path):
    font = chinese_font(tmp_path / "hei.ttf")
    assert no.use_font(font) == FONT_FAMILY
    assert fonts.cjk_font() == FONT_FAMILY and Path(fonts.os.environ[fonts.FONT_ENV]) == font


def test_an_installed_font_is_found_by_its_chinese_glyphs_whatever_its_name(own_fonts, tmp_path: Path, monkeypatch):
    from matplotlib import font_manager

    font = chinese_font(tmp_path / "hei.ttf")
    latin = chinese_font(tmp_path / "latin.ttf", "Netopt Test Latin", range(0x41, 0x5B))
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda: [str(latin), str(font)])
    assert fonts.cjk_font() == FONT_FAMILY
    assert not fonts.has_chinese(latin) and fonts.has_chinese(font)


def test_without_a_chinese_font_the_labels_are_pinyin_and_english_and_that_is_said_once(own_fonts, tmp_path: Path,
                                                                                       monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    with pytest.warns(fonts.ChineseFontWarning, match="NETOPT_FONT"):
        first = svg_chart(tmp_path / "first.svg")
    words = chart_text(first)
    assert "Coverage by service radius" in words and not re.search(r"[\u4e00-\u9fff]", words)
    with warnings.catch_warnings():
        warnings.simplefilter("error", fonts.ChineseFontWarning)
        svg_chart(tmp_path / "second.svg")
    assert fonts.drew_without_chinese()


@pytest.mark.parametrize("make, says", [
    (lambda folder: folder / "missing.ttf", "names no font file"),
    (lambda folder: folder / "notes.txt", "is not a font with Chinese characters"),
    (lambda folder: chinese_font(folder / "latin.ttf", "Netopt Test Latin", range(0x41, 0x5B)),
     "is not a font with Chinese characters"),
])
def test_a_netopt_font_that_is_no_chinese_font_is_refused_by_its_path(own_fonts, tmp_path: Path, monkeypatch, make,
                                                                      says):
    (tmp_path / "notes.txt").write_text("not a font", encoding="utf-8")
    path = make(tmp_path)
    monkeypatch.setenv(fonts.FONT_ENV, str(path))
    with pytest.raises(no.InputError, match=says) as refused:
        svg_chart(tmp_path / "chart.svg")
    assert fonts.FONT_ENV in str(refused.value) and str(path) in str(refused.value)
    assert not (tmp_path / "chart.svg").exists()


def test_the_cli_says_how_to_get_chinese_labels_once_and_no_python_warning(own_fonts, city_files, tmp_path: Path,
                                                                          monkeypatch):
    found = fonts.cjk_font
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    data = str(city_files["towns"].parent)
    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always", fonts.ChineseFontWarning)  # as outside pytest: the CLI must hush it itself
        plain = CliRunner().invoke(app, ["analyze", "--data", data, "--out", str(tmp_path / "a"), "--radius-km", "2"])
    assert not [note for note in heard if note.category is fonts.ChineseFontWarning]
    assert plain.exit_code == 0, plain.output
    said = _said(plain.output)
    assert said.count("No Chinese font on this machine") == 1 and "NETOPT_FONT" in said
    assert (tmp_path / "a" / "coverage_by_radius.png").exists()
    monkeypatch.setattr(fonts, "cjk_font", found)
    monkeypatch.setattr(fonts, "_drawn_without_chinese", False)
    font = chinese_font(tmp_path / "hei.ttf")
    named = CliRunner().invoke(app, ["analyze", "--data", data, "--out", str(tmp_path / "b"), "--radius-km", "2"],
                               env={fonts.FONT_ENV: str(font)})
    assert named.exit_code == 0, named.output
    assert "No Chinese font" not in _said(named.output)


def test_a_font_of_one_weight_draws_bold_as_regular_without_matplotlib_notes(own_fonts, tmp_path: Path, caplog):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    no.use_font(chinese_font(tmp_path / "hei.ttf"))
    with fonts.drawing_in(fonts.cjk_font()):
        fig, ax = plt.subplots()
        ax.set_title("网点 branches", fontweight="bold")
        fig.savefig(tmp_path / "bold.png")
        plt.close(fig)
    assert not [note for note in caplog.records if note.name == "matplotlib.font_manager"]


def test_a_character_the_font_lacks_is_drawn_as_a_box_without_a_python_warning(own_fonts, tmp_path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    no.use_font(chinese_font(tmp_path / "hei.ttf", characters=[ord(c) for c in fonts.CHINESE_PROBE]))
    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always")  # every warning heard, but those drawing_in hushes
        with fonts.drawing_in(fonts.cjk_font()):
            fig, ax = plt.subplots()
            ax.set_title("網点 䢺镇")  # 網 and 䢺 in neither the font nor DejaVu Sans
            fig.savefig(tmp_path / "boxes.png")
            plt.close(fig)
    assert not [note for note in heard if "missing from font" in str(note.message)]


def _county_chart_words(path: Path, counties: int) -> list[str]:
    """The words of maps.county_chart's SVG for `counties` counties, coverage 1 % … `counties` %, the city 50 %."""
    import matplotlib

    by_county = pd.DataFrame({"county": [f"县{k:02d}" for k in range(1, counties + 1)],
                              "county_id": [f"3401{k:02d}" for k in range(1, counties + 1)],
                              "coverage_rate_pct": [float(k) for k in range(1, counties + 1)],
                              "population": 100.0, "covered_population": 50.0})
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        return re.findall(r">([^<>]+)</text>", no.maps.county_chart(by_county, path).read_text(encoding="utf-8"))


def test_the_county_chart_names_each_county_and_of_many_the_least_covered(own_fonts, tmp_path: Path, monkeypatch):
    """maps.county_chart: a bar per county named in Chinese and labelled with its share, the city's line; of 40,
    the 30 least covered, said in the title; without a Chinese font the counties by their codes."""
    with warnings.catch_warnings():  # no Chinese font: said once, elsewhere tested
        warnings.simplefilter("ignore", fonts.ChineseFontWarning)
        plain = _county_chart_words(tmp_path / "plain.svg", 40)
    assert [w for w in plain if w.startswith("3401")] == [f"3401{k:02d}" for k in range(1, 31)]  # least covered
    assert "Coverage by county, the 30 least covered of 40" in plain and "city 50.0%" in plain
    assert "30.0%" in plain and "31.0%" not in plain
    monkeypatch.setenv(fonts.FONT_ENV, str(chinese_font(tmp_path / "hei.ttf")))
    named = _county_chart_words(tmp_path / "named.svg", 5)
    assert [w for w in named if w.startswith("县")] == ["县01", "县02", "县03", "县04", "县05"]
    assert "分区县覆盖率 Coverage by county" in named and "全市 city 50.0%" in named
