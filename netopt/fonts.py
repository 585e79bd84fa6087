"""Chinese fonts for the PNG/PDF maps and charts: one installed on the machine, or the file NETOPT_FONT names."""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from netopt._errors import InputError

FONT_ENV = "NETOPT_FONT"
# font families with Chinese glyphs, looked for by name first (Windows, macOS, Linux packages, Google/Adobe downloads)
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "Microsoft YaHei",
             "DengXian", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti", "SimHei", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Sarasa Gothic SC", "Noto Sans CJK JP", "Arial Unicode MS", "Droid Sans Fallback")
CHINESE_PROBE = "网点覆盖率区县乡镇核心城区（）"  # characters the labels use: a font lacking one is no Chinese font
FALLBACK_HINT = ("No Chinese font on this machine: the PNG/PDF maps and charts are labelled in pinyin and English. "
                 "For Chinese labels install one (e.g. `apt install fonts-noto-cjk`) or set NETOPT_FONT to a font "
                 "file (.ttf, .otf or .ttc, such as a copy of Windows' msyh.ttc)")


class ChineseFontWarning(UserWarning):
    """A map or chart was drawn without a Chinese font: its labels fall back to pinyin and English."""


_drawn_without_chinese = False


def cjk_font() -> str | None:
    """The font family the maps and charts write Chinese in: that of the file NETOPT_FONT names, else the first
    installed font with Chinese glyphs (analysts' Windows and macOS machines have one), else None."""
    given = os.environ.get(FONT_ENV, "").strip()
    return _font_of_file(given) if given else _installed_cjk_font()


def use_font(path) -> str:
    """Write the Chinese labels of the maps and charts in this font file (.ttf, .otf, .ttc) from now on, in this
    process and those it starts (it sets NETOPT_FONT); returns its family name. An InputError if it is no font
    with Chinese characters."""
    name = _font_of_file(str(path))
    os.environ[FONT_ENV] = str(path)
    return name


def figure_font() -> str | None:
    """cjk_font() for a map or chart about to be drawn; the first drawn without one warns (ChineseFontWarning)."""
    global _drawn_without_chinese
    font = cjk_font()
    if font is None and not _drawn_without_chinese:
        warnings.warn(FALLBACK_HINT, ChineseFontWarning, stacklevel=3)
    _drawn_without_chinese = _drawn_without_chinese or font is None
    return font


def drew_without_chinese() -> bool:
    """Whether this process has drawn a map or chart without a Chinese font."""
    return _drawn_without_chinese


@contextlib.contextmanager
def drawing_in(font: str | None) -> Iterator[None]:
    """matplotlib set to draw a figure in `font` (DejaVu Sans for what it lacks, or alone without one), its notes
    on what the fonts lack hushed: a font file of one weight (NETOPT_FONT's msyh.ttc) draws bold as regular, and a
    character neither font has (a rare one in a town's name) as a box, which the picture shows."""
    import matplotlib

    notes = logging.getLogger("matplotlib.font_manager")
    level = notes.level
    notes.setLevel(logging.ERROR)
    try:
        with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}), \
                warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
            yield
    finally:
        notes.setLevel(level)


@functools.lru_cache(maxsize=None)
def _font_of_file(path: str) -> str:
    """The family name of the font file NETOPT_FONT names, registered with matplotlib."""
    from matplotlib import font_manager

    file = Path(path).expanduser()
    if not file.is_file():
        raise InputError(f"{FONT_ENV} names no font file: {path} does not exist", file=path)
    if not has_chinese(file):
        raise InputError(f"{FONT_ENV}: {path} is not a font with Chinese characters (a .ttf, .otf or .ttc file with "
                         f"{CHINESE_PROBE})", file=path)
    font_manager.fontManager.addfont(str(file))
    return font_manager.FontProperties(fname=str(file)).get_name()


@functools.lru_cache(maxsize=1)
def _installed_cjk_font() -> str | None:
    """The first installed font with Chinese glyphs: a known family, else any whose characters include the labels'
    (font files matplotlib's cache has not seen registered first)."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    if named := _known_family(manager):
        return named
    seen = {entry.fname for entry in manager.ttflist}
    for file in font_manager.findSystemFonts():
        if file not in seen and has_chinese(Path(file)):
            manager.addfont(file)
    return _known_family(manager) or next((entry.name for entry in manager.ttflist if _may_write_chinese(entry)), None)


def _may_write_chinese(entry) -> bool:
    """Whether a font of matplotlib's manager writes Chinese: not one matplotlib bundles (its Last Resort font has a
    placeholder for every character), nor another placeholder font, and has_chinese."""
    import matplotlib

    bundled = Path(matplotlib.get_data_path())
    file = Path(entry.fname)
    return bundled not in file.parents and "last resort" not in entry.name.lower() and has_chinese(file)


def _known_family(manager) -> str | None:
    """The first of CJK_FONTS matplotlib's font manager holds."""
    installed = {entry.name for entry in manager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def has_chinese(file: Path) -> bool:
    """Whether a font file (the first font of a collection) has a glyph for every character of CHINESE_PROBE."""
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(str(file))
    except (RuntimeError, OSError, ValueError):  # FreeType cannot read it: no font to write labels in
        return False
    return all(font.get_char_index(ord(character)) for character in CHINESE_PROBE)
