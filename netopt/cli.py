"""The `netopt` command line: demo, validate, analyze, optimize, curve, assign-types, plan, compare, evaluate-sites,
report, map, batch."""
from __future__ import annotations

import codecs
import errno
import inspect
import re
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, NamedTuple, Optional, Sequence

import numpy as np
import pandas as pd
import typer
import typer.rich_utils
from rich.columns import Columns
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from netopt._errors import NO_PLAN_YET, InfeasibleError, InputError, LeftOutWarning, NetoptError, Problem, SolverError
from netopt._paths import readable
from netopt._schema import canonical_region_type
from netopt.coverage import Coverage, analyze_coverage, data_notes, full_words, town_point_note
from netopt.datasets import SAMPLE_CITY, load_sample, place_name
from netopt.fonts import FALLBACK_HINT, ChineseFontWarning, drew_without_chinese
from netopt.io import (KML_INPUT_SUFFIXES, TABLE_SUFFIXES, Dataset, bundled_counties_said, city_tables,
                       distinct_banks, far_beyond, find_city_table, find_table, guess_kind, guess_kind_by_headers,
                       input_suffix, kind_sheets, named_files, points_table, read_branch_list, read_branches,
                       read_candidate_table, read_candidates, read_counties, read_dataset, read_folder, read_towns,
                       unwritable_folder, write_atomic)
from netopt.models import capacitated

if TYPE_CHECKING:
    import geopandas as gpd

    from netopt.access import Accessibility

app = typer.Typer(help="netopt: plan a bank's branch network (网点布局) — coverage, location models, branch types.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


OUR_MARKUP = re.compile(r"(\[(?:/|bold red|bold|yellow|green|dim)\])")  # the only tags netopt's own texts use


class _Console(Console):
    """rich's Console reading only netopt's own markup tags (OUR_MARKUP: [yellow] … [/]): any other bracket of a
    text — a file 乡镇[final].csv, a folder out/[v2], pip install 'netopt[h3]' — and every table's cells print as
    written; file names in GBK bytes shown in Chinese (_paths.readable)."""

    def __init__(self, **options) -> None:
        super().__init__(markup=False, **options)

    def print(self, *objects, **options) -> None:
        texts = [readable(o) if isinstance(o, str) else o for o in objects]
        if "markup" not in options and any(isinstance(o, str) and OUR_MARKUP.search(o) for o in texts):
            texts, options["markup"] = [_ours_marked(o) if isinstance(o, str) else o for o in texts], True
        super().print(*texts, **options)


def _ours_marked(text: str) -> str:
    """A text as rich's markup reads it with only OUR_MARKUP's tags as tags: every other part escaped."""
    return "".join(part if k % 2 else escape(part) for k, part in enumerate(OUR_MARKUP.split(text)))


console = _Console()
errors = _Console(stderr=True)


def _trailing_space_cut_by_cells(text: Text, size: int) -> None:
    """rich's Text.rstrip_end, which each wrapped line passes through before it is cut to its width, measures the
    line in characters where the width is in cells: a line of help or of a table cell holding Chinese that fills
    its width keeps its trailing space and loses its last letter to an ellipsis ("close t…"). The same in cells."""
    excess = text.cell_len - size
    trailing = re.search(r"\s+$", text.plain)
    if excess > 0 and trailing:
        text.right_crop(min(len(trailing.group(0)), excess))


Text.rstrip_end = _trailing_space_cut_by_cells  # netopt's help and tables: rich's measure mended (above)


class _FoldingTable(Table):
    """The tables of typer's help: what a column cannot wrap between words — a long option name, a path, Chinese
    written without spaces — folded onto its next line, where rich's columns cut it short with an ellipsis (at 80
    columns "--no-keep-exist…", "(核心城区=15,县 …")."""

    def add_row(self, *renderables, **options) -> None:
        super().add_row(*renderables, **options)
        for column in self.columns:
            column.overflow = "fold"


def _folding_columns(items: list, *options, **named) -> Columns:
    """An option's help and default as typer lays them out (rich Columns), each text folding what it cannot wrap
    between words, as _FoldingTable's columns do."""
    for item in items:
        if isinstance(item, Text):
            item.overflow = "fold"
    return Columns(items, *options, **named)


typer.rich_utils.Table = _FoldingTable  # typer lays out its help with rich_utils' Table and Columns
typer.rich_utils.Columns = _folding_columns


def _show_version(asked: bool) -> None:
    if asked:
        from netopt import __version__

        console.print(f"netopt {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                          help="Print netopt's version and exit.")) -> None:
    """The options taken before any command (--version)."""
    _tolerant_output()


# characters an output in GBK (a Windows console's code page, or its log file) lacks, written as near equivalents
PLAIN_TEXT = {"\u2212": "-", "\u00b2": "2", "\u00b5": "u", "\u25c9": "o", "\u25cc": "o", "\u25ef": "O", "\u254c": "-"}


def _plain_text(error: UnicodeError) -> tuple[str, int]:
    """The characters the output's encoding cannot write as PLAIN_TEXT has them, else ? (a rare one in a name, a
    file name's byte that is not UTF-8 where the console has not shown it in Chinese)."""
    text = error.object[error.start:error.end]
    return "".join(PLAIN_TEXT.get(character, "?") for character in text), error.end


codecs.register_error("netopt_plain", _plain_text)


def _tolerant_output() -> None:
    """Standard output and error write what their encoding cannot — in GBK (`netopt report > log.txt` on a Chinese
    Windows) a rare character, in any a file name's bytes that are not UTF-8 — as _plain_text says, rather than
    fail the command."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="netopt_plain")


DATA_HELP = ("Folder with counties.*, towns.*, branches.*, or one workbook with sheets 区县, 乡镇, 网点 (default: the "
             "bundled sample); a counties or towns table it lacks comes from the bundled national ones (for a bank's "
             "branches alone, their city's).")
READERS: dict[str, Callable] = {"counties": read_counties, "towns": read_towns, "branches": read_branches}


def _candidates_alone(path: Path, coords: str, layer: Optional[str],
                      towns: Optional[gpd.GeoDataFrame] = None) -> gpd.GeoDataFrame:
    """Candidate sites read alone (validate), those without coordinates placed at the `towns` where given."""
    return read_candidate_table(path, coords, layer, towns)[0]


CHECKED = {**READERS, "candidates": _candidates_alone}  # what validate reads: a city's tables, candidate sites
PLACED_AT_TOWNS = ("branches", "candidates")  # validated beside the towns: those without coordinates placed there
DEMO_RADIUS_KM = {"core": 1.2, "county": 3.5}
DEMO_GRID_KM = 1.0
MAX_KM_STEPS = (10, 15, 20, 30, 50, 80, 120)  # the --max-km values a refusal of a large cflp may suggest
FRINGE_HELP = ("Service radius in urban–rural fringe towns, km (default: their county's; in fringe districts, "
               "the county radius).")
CANDIDATES_HELP = ("Your own candidate sites for new branches 候选点位 (CSV, Excel, GeoJSON, a KMZ of places marked in "
                   "奥维 or Google Earth …: name, lon/lat, optional id and opening cost 开设成本（万元）), instead of "
                   "every town point.")
CANDIDATES_FOLDER_OPTION = typer.Option(
    None, "--candidates-folder", help="The folder of a KML/KMZ candidates file to read, by its name or a part of it "
    "(e.g. 网点方案 for a plan's sites; its sub-folders too). Default: every folder holding places; folders of lines "
    "or areas (a plan's assignment) are left out.")
BRANCHES_HELP = ("A branches table instead of the data's own, e.g. a plan's network after it (out/mclp_branches.csv): "
                 "the planned network diagnosed, planned again, reported, mapped or typed.")
COORDS_HELP = ("Coordinate system of the inputs: wgs84, gcj02 (Amap/Tencent) or bd09 (Baidu); a table's 坐标系 "
               "column, where it has one, gives each row's own.")
BANK_ONLY_HELP = "Only this bank's branches (part of its name, e.g. 农业), when the data holds every bank's."
POPULATION_OPTION = typer.Option(None, help="Count the residents by another column of the towns table instead of "
                                 "their population, e.g. a projection 2035年规划人口（万人）: its header, with or without "
                                 "the unit (人 or 万人, read from the header).")
COUNTIES_OPTION = typer.Option(None, help="A counties table instead of the one in --data, e.g. 区县2023.xlsx where "
                               "the folder holds a year's GDP in each of two files.")
DATA_OPTION = typer.Option(None, help=DATA_HELP)
COORDS_OPTION = typer.Option("wgs84", help=COORDS_HELP)
TOWNS_OPTION = typer.Option(None, help="A towns table instead of the one in --data, e.g. 乡镇2020.csv where the folder "
                            "holds two censuses' populations.")
SKIP_UNLOCATED_OPTION = typer.Option(False, "--skip-unlocated", help="Leave out the branches whose coordinates are "
                                     "missing or wrong (empty, not numbers, outside China, far outside every county) "
                                     "instead of stopping; the console names them (fix them with validate's list).")


def _fail(message: str, code: int = 2) -> None:
    """The error in one line (its text as written: a file 网点[2023].csv or pip install 'netopt[h3]' keeps its
    brackets, not read as rich's markup), and the exit code."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _working(message: str, time_limit: Optional[float] = None) -> Iterator[None]:
    """A spinner with the task, the stage its solves have reached (models._milp.report_stage) and the time taken
    so far (and the time limit it was given), cleared when done: solves can take minutes. Not shown where the
    output is not a terminal (a log file would keep a blank line per spinner)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from netopt.models._milp import watching_stages

    limit = "" if time_limit is None else f" (time limit 时限 {time_limit:g} s)"
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), TextColumn(limit),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task(message, total=None)
        with watching_stages(lambda stage: progress.update(task, description=f"{message} · {stage}")):
            yield


def _option_check(is_valid: Callable[[float], bool], refusal: str) -> Callable:
    """A typer option callback: a given number that is not finite or not is_valid is refused, naming the option,
    with `refusal` (formatted with the value)."""
    def check(value: Optional[float]) -> Optional[float]:
        if value is not None and not (np.isfinite(value) and is_valid(value)):
            raise typer.BadParameter(refusal.format(value))
        return value
    return check


# km, minutes, seconds, 万人 and the like above 0; budgets, costs and savings (万元) at least 0; gaps in percent
_above_zero = _option_check(lambda value: value > 0, "must be a number above 0, got {:g}")
_zero_or_more = _option_check(lambda value: value >= 0, "must be a number of at least 0 (万元), got {:g}")
_road_detour = _option_check(lambda value: value >= 1,
                             "must be a number of at least 1 (road km per straight-line km), got {:g}")
_gap_percent = _option_check(lambda value: 0 < value < 100,
                             "must be a percentage above 0 and below 100, e.g. 0.5; got {:g}")

# the diagnosis's radii, as analyze and compare take them: one for every town, or one per region type
ONE_RADIUS_OPTION = typer.Option(None, callback=_above_zero, help="One service radius for every town, km.")
CORE_KM_OPTION = typer.Option(None, callback=_above_zero, help="Service radius in core urban districts, km (default "
                              "1.2).")
COUNTY_KM_OPTION = typer.Option(None, callback=_above_zero, help="Service radius in counties, km (default 3.5).")
FRINGE_KM_OPTION = typer.Option(None, callback=_above_zero, help=FRINGE_HELP)
DIAGNOSIS_CORE_KM_OPTION = typer.Option(1.2, callback=_above_zero, help="Service radius in core urban districts, km.")
DIAGNOSIS_COUNTY_KM_OPTION = typer.Option(3.5, callback=_above_zero, help="Service radius in counties, km.")

# a travel time instead, as --minutes takes it: one number, or one per region type
PER_REGION_MINUTES = "or one per region type, core=15,county=30 (核心城区=15,县域=30; fringe/城乡结合部=… too)"


def _minutes_given(text: Optional[str]) -> float | dict[str, float] | None:
    """--minutes as given: one number of minutes for every town ("15", "15分钟"), or one per region type
    ("core=15,county=30", also 核心城区=15,县域=30; core and county both, fringe as well if wanted: a fringe town
    otherwise takes its county's type), each above 0; anything else refused naming the part that is wrong."""
    return _amount_given(text, ("分钟", "mins", "min", "分"), "--minutes",
                         f"a number of minutes above 0 (15) {PER_REGION_MINUTES}", "core=15,county=30")


def _amount_given(text: Optional[str], units: tuple[str, ...], option: str, takes: str, example: str,
                  zero: bool = False) -> float | dict[str, float] | None:
    """An option's amount as given (None when not): one number above 0 (at least 0 with `zero`) for every town,
    with one of its `units` after it or none (15, 15min, 15 分钟), or one per region type (_per_region, which says
    what `option` `takes` and gives an `example`)."""
    if text is None:
        return None

    def number(value: str) -> Optional[float]:
        value = value.strip()
        for unit in units:
            value = value.removesuffix(unit)
        return _number_at_least_zero(value) if zero else _positive_number(value)

    one = number(text)
    return one if one is not None else _per_region(text, number, option, takes, example)


def _full_given(text: Optional[str], option: str) -> float | dict[str, float] | None:
    """--full-km or --full-minutes as given: one number at least 0 for every town, or one per region type
    ("core=0.5,county=1.5")."""
    units, example = (("公里", "km"), "core=0.5,county=1.5") if option == "--full-km" else \
        (("分钟", "mins", "min", "分"), "core=5,county=10")
    return _amount_given(text, units, option, f"a number at least 0, or one per region type, {example}", example,
                         zero=True)


def _full_check(value: Optional[str], param: typer.CallbackParam) -> Optional[str]:
    """The typer callback of --full-km and --full-minutes: refused before anything is read unless _full_given
    reads it."""
    _full_given(value, f"--{param.name.replace('_', '-')}")
    return value


def _minutes_check(value: Optional[str]) -> Optional[str]:
    """The typer callback of --minutes: refused before anything is read unless _minutes_given reads it."""
    _minutes_given(value)
    return value


MODE_NAMES = {"drive": "drive", "walk": "walk", "驾车": "drive", "车程": "drive", "步行": "walk"}
PER_REGION_MODES = "or one per region type, core=walk,county=drive (核心城区=步行,县域=驾车)"


def _mode_given(text: str) -> str | dict[str, str]:
    """--mode as given: drive or walk for every town, or one per region type ("core=walk,county=drive"; 步行, 驾车
    too), as --minutes takes a travel time per region type; anything else refused naming the part that is wrong."""
    one = MODE_NAMES.get(text.strip())
    return one if one is not None else _per_region(text, lambda value: MODE_NAMES.get(value.strip()), "--mode",
                                                   f"drive or walk {PER_REGION_MODES}", "core=walk,county=drive")


def _mode_check(value: str) -> str:
    """The typer callback of --mode: refused before anything is read unless _mode_given reads it."""
    _mode_given(value)
    return value


PER_REGION_SPEEDS = "or one per region type, core=20,county=40 (核心城区=20,县域=40)"


def _speed_given(text: Optional[str]) -> float | dict[str, float] | None:
    """--speed-kmh as given: one driving speed for every town ("25", "25km/h", "25公里/小时"), or one per region type
    ("core=20,county=40", 核心城区=20,县域=40), each above 0; anything else refused naming the part that is wrong."""
    return _amount_given(text, ("km/h", "kmh", "公里/小时", "千米/小时", "公里每小时"), "--speed-kmh",
                         f"a speed in km/h above 0 (25) {PER_REGION_SPEEDS}", "core=20,county=40")


def _speed_check(value: Optional[str]) -> Optional[str]:
    """The typer callback of --speed-kmh: refused before anything is read unless _speed_given reads it."""
    _speed_given(value)
    return value


SPEED_FLAGS = {"speed_kmh": "--speed-kmh", "walk_speed_kmh": "--walk-speed-kmh", "detour_factor": "--detour-factor"}


def _speeds_given(params: dict) -> dict:
    """The speeds given on the command line (a command's parameters: --speed-kmh, --walk-speed-kmh,
    --detour-factor) as analyze_coverage's keywords; none given, {}."""
    given = {"speed_kmh": _speed_given(params.get("speed_kmh")), "walk_speed_kmh": params.get("walk_speed_kmh"),
             "detour_factor": params.get("detour_factor")}
    return {name: value for name, value in given.items() if value is not None}


def _per_region(text: str, read: Callable[[str], object], option: str, takes: str, example: str) -> dict:
    """"core=…,county=…" (region types named as a towns table may name them: 核心城区, 城乡结合部 …; core and county
    both) as a dict of each region type's value, read by `read` (None: not a value); a typer refusal of `option`
    naming the part that is wrong (what it `takes`, or an `example` of both region types)."""
    values = {}
    for part in text.replace("，", ",").split(","):
        name, _, value = part.partition("=")
        kind, read_value = canonical_region_type(name), read(value)
        if kind is None or read_value is None:
            raise typer.BadParameter(f"takes {takes}; '{part.strip()}' is not one", param_hint=f"'{option}'")
        values[kind] = read_value
    missing = [kind for kind in ("core", "county") if kind not in values]
    if missing:
        raise typer.BadParameter(f"give {' and '.join(missing)} one too, e.g. {example} (got {text})",
                                 param_hint=f"'{option}'")
    return values


def _positive_number(text: str) -> Optional[float]:
    """The number `text` spells if it is finite and above 0, else None."""
    value = _number_at_least_zero(text)
    return value if value is not None and value > 0 else None


def _number_at_least_zero(text: str) -> Optional[float]:
    """The number `text` spells if it is finite and at least 0, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) and value >= 0 else None


TIMED_HELP = ("a travel-time limit in minutes instead of a radius, e.g. 15 for the 15-minute service circle "
              f"15分钟金融服务圈, {PER_REGION_MINUTES} (by road with --network, else straight line x 1.3 at 30 km/h "
              "driving, 4.5 km/h walking — --speed-kmh, --walk-speed-kmh, --detour-factor —, as analyze --minutes)")
MINUTES_OPTION = typer.Option(None, callback=_minutes_check,
                              help=f"mclp, lscp: {TIMED_HELP}; pmedian, pcenter, cflp: travel measured in minutes "
                                   "(least total or longest travel time; cflp's --max-km stays km), this the limit of "
                                   "the coverage today → plan comparison.")
CURVE_MINUTES_OPTION = typer.Option(None, callback=_minutes_check, help=f"mclp: {TIMED_HELP}.")
MODE_OPTION = typer.Option("drive", callback=_mode_check, help=f"With --minutes: drive or walk, {PER_REGION_MODES}.")
# the speed options: a command declares them and _travel_time reads them from its parameters (ctx.params)
SPEEDS_HELP = "the travel times off the roads: straight line x --detour-factor, and the legs to and from a road"


def _network_coords_check(value: Optional[str]) -> Optional[str]:
    """The typer callback of --network-coords: a coordinate system's name, refused before anything is read."""
    from netopt.coords import coord_system_or_none

    if value is not None and coord_system_or_none(value) is None:
        raise typer.BadParameter(f"must be wgs84, gcj02 (Amap/Tencent) or bd09 (Baidu), got {value!r}")
    return value


def _bank_check(value: Optional[str]) -> Optional[str]:
    """The typer callback of --bank: a name or part of one, refused empty before anything is read."""
    if value is not None and not value.strip():
        raise typer.BadParameter("takes a bank's name or part of it, e.g. 农业 or 农行, not an empty text")
    return value


def _only_check(values: list[str]) -> list[str]:
    """The typer callback of batch's --only: adcodes or their starts, refused empty (which would run every unit)."""
    if any(not value.strip() for value in values):
        raise typer.BadParameter("takes an adcode or the start of one, e.g. 34 or 3401, not an empty text (which "
                                 "would run every unit)")
    return values


NETWORK_KINDS = "OSM XML, GraphML, or road lines: .shp, .gpkg, .geojson"
NETWORK_COORDS_OPTION = typer.Option(None, "--network-coords", callback=_network_coords_check,
                                     help="Coordinate system of a --network layer of road lines: wgs84 (default), "
                                          "gcj02 (roads from Amap) or bd09; OSM and GraphML extracts are wgs84.")
NETWORK_SPLIT_OPTION = typer.Option(False, "--network-split",
                                    help="Join a --network layer of road lines wherever its lines cross, for a layer "
                                         "drawn without a vertex at its junctions (bridges then join too).")
SPEED_OPTION = typer.Option(None, "--speed-kmh", callback=_speed_check,
                            help=f"Driving speed of the travel times (--minutes), km/h (default 30), e.g. 25, "
                                 f"{PER_REGION_SPEEDS}: {SPEEDS_HELP} "
                                 "(with --network, driving on the roads takes each road's speed).")
WALK_SPEED_OPTION = typer.Option(None, callback=_above_zero, help="Walking speed of the travel times, km/h (default "
                                                                  "4.5), on the roads and off them.")
DETOUR_OPTION = typer.Option(None, callback=_road_detour, help="Road km per straight-line km of the travel times where "
                                                               "no road is measured (default 1.3).")
ROAD_TIMES_OPTION = typer.Option(None, help=f"Road network ({NETWORK_KINDS}) for road distances and times.")
GRID_INSTEAD_OPTION = typer.Option(None, callback=_above_zero, help="Measure on a population grid of this cell size "
                                   "(km) instead of town points.")
H3_INSTEAD_OPTION = typer.Option(None, min=0, max=15, help="Measure on H3 cells of this resolution (e.g. 8) instead "
                                 "of town points.")
H3_MODEL_OPTION = typer.Option(None, min=0, max=15, help="Demand as H3 hexagons of this resolution (e.g. 8; each "
                               "town's residents spread over its area) instead of town points, as --grid-km.")
MINUTES_ANY_OPTION = typer.Option(None, callback=_minutes_check,
                                  help="A travel-time limit in minutes instead of a radius, e.g. 15 for the 15-minute "
                                       f"service circle 15分钟金融服务圈, {PER_REGION_MINUTES} (--mode drive or walk).")
MODEL_CORE_KM_OPTION = typer.Option(None, callback=_above_zero, help="Instead of one --radius-km: the service radius "
                                    "in core urban districts, km (the diagnosis's 1.2; other towns --county-km).")
MODEL_COUNTY_KM_OPTION = typer.Option(None, callback=_above_zero, help="Instead of one --radius-km: the service "
                                      "radius in counties, km (the diagnosis's 3.5; core towns --core-km).")


def _mip_gap(gap_pct: Optional[float]) -> float:
    """solve()'s mip_gap from --gap-pct: 0 (proven optimal) when not given."""
    return 0.0 if gap_pct is None else gap_pct / 100


def _guard(action: Callable[[], None]) -> None:
    """Run a command; turn netopt errors and unexpected failures into one clear line and an exit code."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChineseFontWarning)  # said once, in the analyst's words, below
            action()
        _say_font_fallback()
    except typer.Exit:
        raise
    except InputError as err:
        if len(err.problems) == 1:
            _fail(str(err.problems[0]) + _skip_hint(err.problems))
        _print_problems(err.problems)
        raise typer.Exit(2) from None
    except SolverError as err:  # e.g. no plan found within the time limit: not the user's input
        _fail(str(err), 1)
    except NetoptError as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OSError as err:  # writing the outputs (no permission, a file open in Excel, a full disk), or a connection
        _fail(_cannot_write(err), 1)
    except Exception as err:  # last resort: never show a traceback to an analyst
        _fail(f"unexpected {type(err).__name__}: {err} (please report this with the command you ran)", 3)


def _say_font_fallback() -> None:
    """Where a map or chart was drawn without a Chinese font: how to get Chinese labels."""
    if drew_without_chinese():
        console.print(f"[yellow]{FALLBACK_HINT}.[/]")


WRITING_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}  # a disk's refusals


def _cannot_write(err: OSError) -> str:
    """What an operating-system error while writing means, in one line (a rename's error names the target
    second: the file that would be replaced)."""
    target = err.filename2 or err.filename
    if not target and err.errno not in WRITING_ERRNOS:  # a connection refused or timed out: not the outputs
        return f"{type(err).__name__}: {err.strerror or err}"
    where = f": {target}" if target else ""
    held = " — is it open in Excel or another program? Close it and run again" if (
        isinstance(err, PermissionError) and target and Path(str(target)).exists()) else ""
    return f"cannot write the outputs ({err.strerror or err}){where}{held}"


def _out_folder(out: Path) -> Path:
    """--out: a folder, or a path where one can be made and written in; checked before any work is done."""
    why = unwritable_folder(out)
    if why:
        raise typer.BadParameter(why)
    return out


def _readable_by(read: Callable) -> Callable[[Optional[Path]], Optional[Path]]:
    """An option's check that its file reads with `read` (a template's reader), before any work is done."""
    def check(value: Optional[Path]) -> Optional[Path]:
        if value is not None:
            try:
                read(value)
            except InputError as err:
                raise typer.BadParameter(f"{readable(value)}: {err.problems[0].message}") from None
        return value
    return check


def _template_check(value: Optional[Path]) -> Optional[Path]:
    """--template: a PowerPoint template that reads."""
    from netopt._slides import read_template

    return _readable_by(read_template)(value)


def _word_template_check(value: Optional[Path]) -> Optional[Path]:
    """--word-template: a Word template that reads."""
    from netopt.document import read_word_template

    return _readable_by(read_word_template)(value)


TEMPLATE_OPTION = typer.Option(None, callback=_template_check, help="The bank's PowerPoint template for the meeting's "
                               "slides (.pptx or .potx, e.g. 农行汇报模板.pptx): its slide size, layouts, fonts, colours "
                               "and logo, its own slides left out (default: netopt's plain 16:9).")
WORD_TEMPLATE_OPTION = typer.Option(None, callback=_word_template_check, help="The bank's Word template for the "
                                    "results written up to edit (.docx beside the slides: the analysis report 分析报告, "
                                    "a plan's 方案 …; a .docx or .dotx, e.g. 农行报告模板.docx): its page, styles, "
                                    "header and footer, its own text left out (default: A4, 宋体 and 黑体).")


TABLES_ONLY_OPTION = typer.Option(False, "--tables-only", help="Write the tables (CSV) and the workbook alone: no "
                                  "maps, charts, slides, Word report or map layers — a quicker run when trying "
                                  "options.")


class Outputs(NamedTuple):
    """What a command writes beside its tables: its slides and written report in the bank's templates (--template,
    --word-template; None: netopt's own), or with `tables_only` (--tables-only) no maps, charts, slides, report or
    map layers at all."""
    slides: Optional[Path] = None
    word: Optional[Path] = None
    tables_only: bool = False


def _outputs(template: Optional[Path], word_template: Optional[Path], tables_only: bool) -> Outputs:
    """The Outputs the command line asks for, or an InputError for a template given with --tables-only."""
    if tables_only and (template or word_template):
        given = "--template" if template else "--word-template"
        raise InputError(f"--tables-only writes no slides or Word report: leave out {given}", file="command line")
    return Outputs(template, word_template, tables_only)


def _unless_tables_only(outputs: Outputs, out: Path, drawn: Sequence[str], draw: Callable[[], object]) -> None:
    """Runs `draw` (the command's maps, charts, slides, report and map layers, `drawn` their file names); with
    --tables-only, removes instead those an earlier run left in `out`: beside this run's tables they would show
    another."""
    if outputs.tables_only:
        _remove_left_over(out, drawn, [])
    else:
        draw()


def _print_problems(problems: list[Problem]) -> None:
    table = Table(title=f"{len(problems)} problem(s) found", show_lines=False)
    for col in ("file", "rows", "column", "problem"):
        table.add_column(col, overflow="fold")
    for p in problems:
        rows = ", ".join(map(str, p.rows[:10])) + (f" (+{len(p.rows) - 10})" if len(p.rows) > 10 else "")
        table.add_row(readable(Path(p.file).name), f"{p.row_word} {rows}" if rows else "", p.column or "", p.message)
    errors.print(table)
    hint = _skip_hint(problems)
    if hint:
        errors.print(hint.strip(" ()"), soft_wrap=True)


def _skip_hint(problems: list[Problem]) -> str:
    """When every problem is a branch that cannot be placed: that --skip-unlocated would go on without them."""
    if not all(problem.unlocated for problem in problems):
        return ""
    count = len({(problem.file, row) for problem in problems for row in problem.rows})
    which = "this branch" if count == 1 else f"these {count} branches"
    return f" (--skip-unlocated, on every command reading --data and on batch, leaves {which} out and goes on)"


def _say_columns_read(frame: pd.DataFrame) -> None:
    """Which column of the file each field was read from where its header is another name (as the file names it, a
    header of several rows joined), so a header matched by its words — 常住人口 among 户籍人口, 合计 under 人口 — is
    seen to be the one meant."""
    read = {field: source for field, source in frame.attrs.get("columns_read", {}).items() if source != field}
    if read:
        console.print("  columns read 读取列: " + "; ".join(f"{field} ← {source}" for field, source in read.items()),
                      highlight=False, markup=False)


@app.command()
def validate(
    files: list[Path] = typer.Argument(..., help="Files to check (CSV, Excel, GeoJSON, GeoPackage, Shapefile, "
                                       "KML/KMZ), or a --data folder (its counties, towns and branches tables, and "
                                       "candidates.* if there is one)."),
    kind: Optional[str] = typer.Option(None, help="counties, towns, branches, candidates (candidate sites for "
                                       "--candidates) or roads (a --network file: OSM, GraphML or road lines); "
                                       "guessed from the file name if omitted."),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
) -> None:
    """Check input files and list every problem (file, row, column); with one table of each kind (or a folder), also
    what the files say together: towns' counties, places far outside the city. Exit code 1 when any is found."""
    def run() -> None:
        problems: list[Problem] = []
        checked: dict[str, list[tuple[Path, Optional[str]]]] = {}
        towns_read: list[gpd.GeoDataFrame] = []
        order = (*CHECKED, "roads")  # the towns before what is placed at them
        for path, sheet, chosen in sorted(_validated_inputs(files, kind, problems), key=lambda f: order.index(f[2])):
            try:
                if chosen == "roads":
                    _validate_roads(path, coords)
                    continue
                options = {"population": population} if chosen == "towns" and population else {}
                if chosen in PLACED_AT_TOWNS and len(towns_read) == 1:
                    options["towns"] = towns_read[0]
                frame = CHECKED[chosen](path, coords=coords, layer=sheet, **options)
                if chosen == "towns":
                    towns_read.append(frame)
                where = f"{path} / {sheet}" if sheet else _files_named(path)
                console.print(f"[green]ok[/] {where} ({chosen}): {len(frame):,} rows")
                _say_columns_read(frame)
                if "coord_systems" in frame.attrs:
                    counts = ", ".join(f"{n} {system}" for system, n in frame.attrs["coord_systems"].items())
                    console.print(f"  each row from its own coordinate system 坐标系 ({counts}) to WGS84")
                _say_repaired(frame)
                _say_left_out(frame)
                checked.setdefault(chosen, []).append((path, sheet))
            except InputError as err:
                problems.extend(err.problems)
        if not problems and all(len(checked.get(stem, [])) == 1 for stem in READERS):
            try:
                ds = read_dataset(**{stem: checked[stem][0][0] for stem in READERS}, coords=coords,
                                  sheets={stem: checked[stem][0][1] for stem in READERS}, population=population)
                for path, sheet in checked.get("candidates", []):
                    read_candidates(path, coords=coords, layer=sheet, city=ds)
                far = "no place far outside the city" if ds.counties.geometry.notna().all() else \
                    f"no branch more than {far_beyond(ds.counties)} (towns far outside them not checked)"
                console.print(f"[green]ok[/] together: every town in a county of the counties table, {far}")
                for note in data_notes(ds):
                    console.print(f"[yellow]check[/] {note}")
            except InputError as err:
                problems.extend(err.problems)
        if problems:
            _print_problems(problems)
            raise typer.Exit(1)
    _guard(run)


def _files_named(path: Path | tuple | pd.DataFrame) -> str:
    """A table's file, or its files (a file per county) as "folder (9 files)", or the bundled table read instead
    (national units, or towns: how it was taken)."""
    if isinstance(path, pd.DataFrame):
        return path.attrs.get("said") or bundled_counties_said(path)
    return f"{path[0].parent} ({len(path)} files)" if isinstance(path, tuple) else str(path)


def _say_repaired(frame: pd.DataFrame) -> None:
    """The features whose invalid polygons reading repaired (io._repaired_polygons), to look at on a map."""
    if "repaired" in frame.attrs:
        rows, reason = frame.attrs["repaired"]
        more = " …" if len(rows) > 5 else ""
        console.print(f"  [yellow]check[/] repaired {len(rows)} invalid polygon(s) as GIS tools do (feature "
                      f"{', '.join(map(str, rows[:5]))}{more}: e.g. {reason}): look at them on a map")


def _validated_inputs(paths: list[Path], kind: Optional[str],
                      problems: list[Problem]) -> list[tuple[Path, Optional[str], str]]:
    """(file, sheet or None, kind) for each table: a folder gives its counties, towns and branches tables (found
    as --data finds them) and its candidate sites if it has them; a workbook whose sheets are named by what they
    hold (区县, 乡镇, 网点) gives each of those sheets; another file's kind is --kind or guessed from its name (or
    its one sheet named so). What cannot be told goes into `problems`."""
    found: list[tuple[Path, Optional[str], str]] = []
    for path in paths:
        try:
            found += _folder_tables(path) if path.is_dir() else _file_tables(path, kind)
        except InputError as err:
            problems.extend(err.problems)
    return found


def _folder_tables(folder: Path) -> list[tuple[Path, Optional[str], str]]:
    """A data folder's tables, as --data finds them, and its candidate sites if any; every missing table said.
    Files whose names say they hold the same table (versions: 乡镇2010.csv, 乡镇2020.csv) are each checked, and
    what to do said."""
    found, problems = [], []
    for stem in CHECKED:
        try:
            if stem == "counties":  # or the bundled national units the towns name (and towns, for branches alone)
                found += [(*table, kind) for kind, table in city_tables(folder).items()]
            elif stem == "towns" and any(kind == "towns" for *_, kind in found):
                continue
            elif stem in READERS:
                found.append((*find_city_table(folder, stem), stem))
            elif (table := find_table(folder, stem, required=False)) is not None:
                found.append((table, None, stem))
        except InputError as err:
            if len(versions := named_files(folder, stem)) < 2:
                problems.extend(err.problems)
                continue
            found += [(path, kind_sheets(path).get(stem), stem) for path in versions]
            console.print(f"[yellow]check[/] {err.problems[0].message}; each is checked below, the city's tables "
                          "together only with one of each (validate their files)")
    if problems:
        raise InputError(problems)
    return found


def _file_tables(path: Path, kind: Optional[str]) -> list[tuple[Path, Optional[str], str]]:
    """One file's tables: its kind-named sheets when a workbook has two or more (unless --kind says), else the
    file as --kind, its name or its one kind-named sheet says."""
    sheets = {} if kind else kind_sheets(path)
    if len(sheets) >= 2:
        return [(path, sheet, stem) for stem, sheet in sheets.items()]
    chosen = kind or guess_kind(path)
    if chosen is None and len(sheets) == 1:
        (chosen, sheet), = sheets.items()
        return [(path, sheet, chosen)]
    chosen = chosen or _road_file(path) or guess_kind_by_headers(path)
    if chosen not in (*CHECKED, "roads"):
        raise InputError("cannot tell whether this is counties, towns, branches, candidate sites or roads; pass "
                         "--kind counties|towns|branches|candidates|roads", file=str(path))
    return [(path, None, chosen)]


def _road_file(path: Path) -> Optional[str]:
    """"roads" for a road network file: an OSM or GraphML extract, or a GIS file its name calls roads (道路.shp)."""
    from netopt.distance import OSM_SUFFIXES, ROAD_LINE_SUFFIXES

    name = path.name.lower()
    extract = name.endswith((*OSM_SUFFIXES, ".graphml"))
    named = name.endswith(ROAD_LINE_SUFFIXES) and any(word in name for word in ("道路", "路网", "road"))
    return "roads" if extract or named else None


def _validate_roads(path: Path, coords: str) -> None:
    """validate of a road network file: its junctions and links, and what it asks to check (pieces, speeds)."""
    from netopt.distance import ROAD_LINE_SUFFIXES, load_road_network

    lines = path.name.lower().endswith(ROAD_LINE_SUFFIXES)
    net = load_road_network(path, coords=coords if lines else "wgs84")
    console.print(f"[green]ok[/] {path} (roads): {net.n_nodes:,} junctions, {net.length_m.nnz:,} road links"
                  + (f" (lines in {coords})" if lines else ""))
    for note in net.notes:
        console.print(f"[yellow]check[/] {note}")


def _load(data: Optional[Path], coords: str, branches: Optional[Path] = None, population: Optional[str] = None,
          skip_unlocated: bool = False, counties: Optional[Path] = None,
          towns: Optional[Path] = None) -> tuple[Dataset, str]:
    """The city of --data (the bundled sample without it), with the --counties, --towns or --branches tables
    instead of its own when given (branches e.g. a plan's network after it, or the folder holding it; the folder's
    own tables of those kinds not looked for), its residents counted by the --population column and, with
    --skip-unlocated, the branches that cannot be placed left out; and its name for the console."""
    from netopt.coords import normalize_coord_system

    coords = normalize_coord_system(coords)  # a misspelt name is an error even for the sample (stored in WGS84)
    given = {kind: path for kind, path in (("counties", counties), ("towns", towns)) if path is not None}
    if data is None and given:
        raise InputError(f"--{' and --'.join(given)} {'replaces' if len(given) == 1 else 'replace'} a table of the "
                         "city in --data: give --data too (the folder of its other tables)", file="command line")
    if branches is not None:
        given["branches"] = _plan_file(branches)  # a plan's out folder: its network after it
    with _working("Reading the data 读取数据…"):  # a yearbook's PDF or a province's tables take a while
        if data is None:
            ds, source = load_sample(population), f"bundled sample {SAMPLE_CITY}"
            if branches is not None:
                ds = _sample_with_branches(ds, given["branches"], coords, skip_unlocated)
        else:
            ds = read_folder(data, coords, population, skip_unlocated, given)
            source = _data_name(data, ds)
    if population is not None:
        source += f", residents 常住人口 by {ds.towns.attrs['population_column']}"
    shown = {kind: readable(path.name) for kind, path in given.items()}
    if branches is not None and branches.is_dir():  # a folder given: its file named with it, close2/mclp_branches.csv
        shown["branches"] = readable(f"{branches.name}/{given['branches'].name}")
    source += "".join(f", {kind} of {name}" for kind, name in shown.items())
    for table in (ds.counties, ds.towns, ds.branches):
        _say_left_out(table)
    return ds, source


def _sample_with_branches(sample: Dataset, branches: Path, coords: str, skip_unlocated: bool) -> Dataset:
    """The bundled sample with the --branches table instead of its own; branches far outside it are another
    city's, perhaps: what to give for that city is said with them."""
    from netopt.io import with_branches

    try:
        return with_branches(sample, branches, coords, kind_sheets(branches).get("branches"), skip_unlocated)
    except InputError as err:
        hint = (f"; without --data the branches are measured in the bundled sample city ({SAMPLE_CITY}): branches "
                "of another city go in a folder given as --data — where it holds no counties or towns, those bundled "
                "for the city they lie in are read")
        raise InputError([replace(problem, message=problem.message + hint) if problem.unlocated else problem
                          for problem in err.problems]) from None


def _data_name(data: Path, ds: Dataset) -> str:
    """--data as the outputs' titles name it: the city its counties are of and the folder's name, 合肥市 (hefei2020)
    — not the path to it —; the folder's name alone where it names the city, or the counties name none."""
    folder = readable(data.resolve().name or data)
    place = place_name(ds.counties)
    return f"{place} ({folder})" if place and place not in folder else folder


def _say_left_out(table) -> None:
    """What reading a table left out: branches marked closed or not yet open by a status column
    (io._open_branches) or, with --skip-unlocated, without usable coordinates; a workbook's alike sheets after
    the one read; a KML's or GeoPackage's folders or layers of another kind. Also a workbook's sheets read as one
    table."""
    for note in ("sheets_read", "placed"):  # how the table was read: sheets as one, towns at the bundled points
        if note in table.attrs:
            console.print(table.attrs[note])
    if "left_out" in table.attrs:
        console.print(f"[yellow]{table.attrs['left_out']}[/]")


def _radius(radius_km: Optional[float], core_km: Optional[float], county_km: Optional[float],
            fringe_km: Optional[float]) -> float | dict[str, float]:
    if radius_km is not None and any(km is not None for km in (core_km, county_km, fringe_km)):
        raise InputError("give either --radius-km or per-region radii (--core-km/--county-km/--fringe-km), not both",
                         file="command line")
    if radius_km is not None:
        return radius_km
    return _region_radii(core_km, county_km, fringe_km)


def _region_radii(core_km: Optional[float] = None, county_km: Optional[float] = None,
                 fringe_km: Optional[float] = None) -> dict[str, float]:
    """A service radius per region type: those given, else core 1.2 km and county 3.5 km; fringe only when given
    (a fringe town is otherwise measured by its county's type; see analyze_coverage)."""
    radii = {"core": core_km, "county": county_km, "fringe": fringe_km}
    return {**DEMO_RADIUS_KM, **{kind: km for kind, km in radii.items() if km is not None}}


def _shown(value: float, form: str, unit: str = "") -> str:
    """A number for a console table, "—" where there is none (e.g. coverage of a region without residents)."""
    return f"{value:{form}}{unit}" if np.isfinite(value) else "—"


def _say_other_radii(cov: Coverage) -> None:
    """Coverage of each region type a step or two either side of its own radius (coverage_by_radius) — or travel
    time (coverage_by_minutes) —, so a change of the standard can be read off at once."""
    from netopt.coverage import coverage_by_minutes, coverage_by_radius, diagnosis_minutes, diagnosis_radii_km

    timed = cov.settings.unit == "min"
    table = (coverage_by_minutes(cov).set_index("travel_minutes") if timed else
             coverage_by_radius(cov).set_index("radius_km"))
    unit, words, name = ("min", "other travel times 覆盖率-时间", "coverage_by_minutes") if timed else \
        ("km", "other radii 覆盖率-半径", "coverage_by_radius")
    parts = []
    for kind, limit in (diagnosis_minutes(cov) if timed else diagnosis_radii_km(cov)).items():
        column = f"coverage_pct_{kind}"
        if column not in table or limit not in table.index:
            continue
        at = table.index.get_loc(limit)
        near = table.iloc[max(at - 1, 0):at + 3][column]
        parts.append(f"{kind} " + " · ".join(f"{value:g} {unit} {pct:.1f}%" for value, pct in near.items()))
    if parts:
        console.print(f"Coverage at {words}: {'; '.join(parts)} ({name}.csv)")


def _say_area_radius(cov: Coverage) -> None:
    """The service radius by area beside the table's (a branch's nearest residents): the one planning documents
    give, the radius of a circle as large as the area per branch."""
    radii = [f"{row.region_type} {row.area_radius_km:.2f} km" for row in cov.by_region.itertuples()
             if np.isfinite(row.area_radius_km)]
    if radii:
        console.print(f"Service radius by area 服务半径（面积法）: {', '.join(radii)} (√(area per branch ÷ π); 半径 km "
                      "above: the km within which 80 % of each branch's nearest residents live, averaged)")


def _summarise(cov: Coverage, source: str) -> None:
    on_points = ", town points 乡镇点位" if cov.demand_kind == "towns" else ""  # each town's residents at its point
    table = Table(title=f"Coverage 覆盖诊断 — {source}{on_points}")
    for col in ("区域 region", "区县", "万人", "网点", "万人/网点", "网点/ 100km²", "覆盖率", "半径 km"):
        table.add_column(col, justify="right")
    gradual = "coverage_by_distance_pct" in cov.by_region
    if gradual:
        table.add_column("折算", justify="right")
    for row in cov.by_region.itertuples():
        table.add_row(row.region_type, str(row.counties), f"{row.population_wan:,.1f}", str(row.branches),
                      _shown(row.residents_per_branch_wan, ".2f"), _shown(row.branches_per_100km2, ".2f"),
                      _shown(row.coverage_rate_pct, ".1f", "%"), _shown(row.mean_service_radius_km, ".2f"),
                      *([_shown(row.coverage_by_distance_pct, ".1f", "%")] if gradual else []))
    console.print(table)
    if gradual:
        _say_counted_by_distance(cov)
    _say_area_radius(cov)
    gap = cov.core_county_gap_pp
    console.print(f"core − county coverage gap 城乡覆盖差: [bold]{gap:+.1f}[/] percentage points" if np.isfinite(gap) else
                  "core − county coverage gap 城乡覆盖差: none to measure (it needs residents in core and in county "
                  "regions: region types 区域类型 in the counties table)")
    for note in cov.notes:
        console.print(f"[dim]{note}[/]")
    _say_other_radii(cov)
    top = cov.underserved_towns.head(5)
    if len(top):
        console.print("Most underserved towns 服务不足乡镇:")
        for row in top.itertuples():
            nearest = getattr(row, "nearest_branch_name", None)
            named = f" (nearest 最近: {nearest}, {row.nearest_branch_km:.1f} km)" if isinstance(nearest, str) else ""
            console.print(f"  {row.name} ({row.county}), {row.population / 1e4:.1f}万人: {row.reason}{named}")


def _say_counted_by_distance(cov: Coverage) -> None:
    """A gradual diagnosis's residents counted by distance 按距离折算覆盖人口 beside those within reach."""
    people, counted = float(cov.by_region["population"].sum()), cov.covered_by_distance
    within = float(cov.by_region["covered_population"].sum())
    share = f" ({100 * counted / people:.1f}%)" if people > 0 else ""
    console.print(f"Residents {GRADUAL_HEADER}: [bold]{counted / 1e4:,.1f}万[/]{share}, of {within / 1e4:,.1f}万 within "
                  f"reach 半径内人口{cov.settings.full_words()}")


def _write_outputs(ds: Dataset, cov: Coverage, out: Path, rivals: dict[str, pd.DataFrame] | None = None,
                   bank: Optional[str] = None, coords: str = "wgs84", tables_only: bool = False) -> None:
    """The diagnosis's tables (with `rivals`, beside every bank's) and workbook, then (unless `tables_only`) its map
    layers, its HTML map and its coverage charts, said on the console."""
    from netopt.report import write_coverage_report

    rival_only = None
    if rivals and "town_id" in rivals["rival_only_towns"]:  # the towns only another bank reaches, placed
        placed = _at_towns(rivals["rival_only_towns"], ds)
        rival_only = {"rival_only_towns": placed}
        rivals = {**rivals, "rival_only_towns": points_table(placed, coords)}
    written = write_coverage_report(cov, out, extra=rivals, coords=coords, extra_layers=rival_only,
                                    layers=not tables_only)
    if not tables_only:
        written += _draw_diagnosis(ds, cov, out, bank)
    console.print(f"Wrote {len(written)} files to [bold]{out}[/]: " + ", ".join(p.name for p in written))
    if not tables_only:
        _say_kmz_left_out(cov, rival_only or {})
    _remove_left_over(out, ANALYZE_OUTPUTS, written)


def _draw_diagnosis(ds: Dataset, cov: Coverage, out: Path, bank: Optional[str]) -> list[Path]:
    """The diagnosis on an offline HTML map (other banks in grey with `bank`) and its coverage by radius (and by
    minutes, where measured so) as charts; their paths."""
    from netopt.coverage import coverage_by_minutes, coverage_by_radius, diagnosis_minutes, diagnosis_radii_km
    from netopt.maps import network_map, radius_chart

    fmap = network_map(ds, coverage=cov, our_bank=bank)
    written = [write_atomic(out / "coverage_map.html", lambda p: fmap.save(str(p)))]
    if cov.settings.unit == "min":
        written.append(radius_chart(coverage_by_minutes(cov), out / "coverage_by_minutes.png", diagnosis_minutes(cov)))
    written.append(radius_chart(coverage_by_radius(cov), out / "coverage_by_radius.png", diagnosis_radii_km(cov)))
    return written


def _say_kmz_left_out(cov: Coverage, extra_layers: dict) -> None:
    """Which of the diagnosis's layers (and `extra_layers`) coverage.kmz left out (too many places for a phone),
    if any."""
    from netopt.kml import too_many_places

    left_out = too_many_places({cov.demand_kind: cov.towns, "underserved_towns": cov.underserved_towns,
                                "branches": cov.branches, **extra_layers})
    if left_out:
        console.print("coverage.kmz, for Google Earth or 奥维" + _left_out(left_out) + ": coverage.gpkg has them")


# what analyze may write, with one option or another: those an earlier run left and this one did not write go
ANALYZE_OUTPUTS = (*(f"coverage_{name}.csv" for name in ("by_minutes", "cells", "rivals_by_region",
                                                          "rivals_by_county", "rival_only_towns")),
                   "coverage_by_minutes.png", "coverage_by_radius.png", "coverage_map.html", "coverage.gpkg",
                   "coverage.kmz")


def _remove_left_over(out: Path, owned: Iterable[str], written: Iterable[Path]) -> None:
    """Removes the files of `owned` (names a command writes with some option) that an earlier run left in `out` and
    this one did not write, saying so: beside this run's they would describe another (a diagnosis in minutes, a
    plan's phases)."""
    kept = {Path(path).name for path in written}
    left = [name for name in owned if name not in kept and (out / name).is_file()]
    for name in left:
        (out / name).unlink()
    if left:
        console.print(f"Removed {', '.join(left)}, left in {out} by an earlier run: this run has none of them")


DIAGNOSIS_FULL_KM_OPTION = typer.Option(
    None, callback=_full_check, help="Gradual coverage 按距离折算覆盖, as optimize's: a town this close to its nearest "
    "branch, km, counts wholly covered, one farther in part, less and less to none at the radius (or one per region "
    "type, core=0.5,county=1.5).")
DIAGNOSIS_FULL_MINUTES_OPTION = typer.Option(
    None, callback=_full_check, help="With --minutes: gradual coverage 按距离折算覆盖 — wholly covered within this "
    "many minutes, less and less to none at --minutes (or one per region type, core=5,county=10).")


@app.command()
def analyze(
    data: Optional[Path] = DATA_OPTION,
    out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for the CSV, Excel and HTML outputs."),
    radius_km: Optional[float] = ONE_RADIUS_OPTION,
    core_km: Optional[float] = CORE_KM_OPTION,
    county_km: Optional[float] = COUNTY_KM_OPTION,
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = typer.Option(None, callback=_minutes_check,
                                          help="A travel-time limit in minutes instead of a radius, e.g. 15, "
                                               f"{PER_REGION_MINUTES}."),
    network: Optional[Path] = ROAD_TIMES_OPTION,
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    mode: str = typer.Option("drive", callback=_mode_check, help=f"Travel mode: drive or walk, {PER_REGION_MODES}."),
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    grid_km: Optional[float] = GRID_INSTEAD_OPTION,
    h3: Optional[int] = H3_INSTEAD_OPTION,
    tile_km: Optional[float] = typer.Option(None, callback=_above_zero,
                                            help="With --grid-km: very large cities, made and measured in tiles "
                                                 "of this size (km) so memory stays bounded; totals by county and "
                                                 "region."),
    workers: Optional[int] = typer.Option(None, min=1,
                                          help="With --tile-km: measure the tiles on a dask LocalCluster of N "
                                               "worker processes (default: in this process)."),
    bank: Optional[str] = typer.Option(None, callback=_bank_check,
                                       help=BANK_ONLY_HELP + " Also compared with every bank's."),
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    full_km: Optional[str] = DIAGNOSIS_FULL_KM_OPTION,
    full_minutes: Optional[str] = DIAGNOSIS_FULL_MINUTES_OPTION,
    tables_only: bool = TABLES_ONLY_OPTION,
) -> None:
    """Coverage diagnosis: coverage, density, residents per branch and underserved towns, by county and region."""
    def run() -> None:
        _check_analyze_options(minutes, (radius_km, core_km, county_km, fringe_km), grid_km, h3, tile_km, workers)
        radius = None if minutes is not None else _radius(radius_km, core_km, county_km, fringe_km)
        limit_min = _minutes_given(minutes)
        full = _diagnosis_full(full_km, full_minutes, radius if limit_min is None else TravelTime(limit_min))
        travel = {"mode": _mode_given(mode), **_speeds_given({"speed_kmh": speed_kmh, "walk_speed_kmh": walk_speed_kmh,
                                                              "detour_factor": detour_factor}), **full}
        ds, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        if tile_km is not None:
            _diagnose_tiled(ds, source, out, {"radius_km": radius, "radius_min": limit_min, **travel}, grid_km,
                            tile_km, workers, network or h3 or bank)
            return
        _diagnose(ds, source, out, radius_km=radius, radius_min=limit_min,
                  roads=_roads(network, network_coords, network_split), grid_km=grid_km, h3=h3, bank=bank,
                  travel=travel, coords=coords, tables_only=tables_only)
    _guard(run)


DECAY_HELP = ("How a branch's pull falls with distance within the catchment: gaussian (Ga2SFCA, default: from 1 at "
              "the branch to 0 at the edge), step (2SFCA: 1 throughout), zones (E2SFCA: 1, 0.68, 0.22 in its "
              "thirds) or power (the gravity model's d^-β, 潜能模型: --beta, default 2).")


@app.command()
def access(
    ctx: typer.Context,
    data: Optional[Path] = DATA_OPTION,
    out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for the CSV, Excel, map and chart."),
    radius_km: Optional[float] = typer.Option(None, callback=_above_zero, help="Catchment radius for every town, km "
                                              "(default: core 1.2, county 3.5)."),
    core_km: Optional[float] = CORE_KM_OPTION,
    county_km: Optional[float] = COUNTY_KM_OPTION,
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = typer.Option(None, callback=_minutes_check,
                                          help="A catchment in travel minutes instead of a radius, e.g. 15, "
                                               f"{PER_REGION_MINUTES}."),
    decay: str = typer.Option("gaussian", help=DECAY_HELP),
    beta: Optional[float] = typer.Option(None, callback=_above_zero, help="--decay power's exponent β (default 2: "
                                         "a branch twice as far pulls a quarter as much)."),
    method: str = typer.Option("2sfca", help="2sfca (default) or 3sfca (三步移动搜索法: a town reaching several "
                               "branches shares its pull among them, so a branch amid many counts fewer residents)."),
    supply: Optional[str] = typer.Option(None, help="What each branch offers: a column of the branches, e.g. 员工数 "
                                         "or 柜台数 (default: 1 each)."),
    type_supply: list[str] = typer.Option([], help="What a branch of a type offers, e.g. comprehensive=2 (repeatable; "
                                          "a branch of another type or none: 1)."),
    network: Optional[Path] = ROAD_TIMES_OPTION,
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    mode: str = MODE_OPTION,
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    grid_km: Optional[float] = GRID_INSTEAD_OPTION,
    h3: Optional[int] = H3_INSTEAD_OPTION,
    bank: Optional[str] = typer.Option(None, callback=_bank_check, help=BANK_ONLY_HELP),
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    tables_only: bool = TABLES_ONLY_OPTION,
) -> None:
    """Accessibility 可达性 (2SFCA): the branches per 万人 within reach of each town, each shared among all it
    reaches, by county and region; how evenly it is spread (Gini, Lorenz curve) and who has low access."""
    def run() -> None:
        _check_analyze_options(minutes, (radius_km, core_km, county_km, fringe_km), grid_km, h3, None, None)
        how = _access_way(decay, beta, method, "--", supply, type_supply)
        limit = _travel_time(ctx, minutes, mode) or _radius(radius_km, core_km, county_km, fringe_km)
        ds, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        _measure_access(_bank_only(ds, bank), source, out, {
            **_limit_keywords(limit), **how,
            **_roads(network, network_coords, network_split)}, (grid_km, h3), coords, tables_only)
    _guard(run)


def _access_way(decay: str, beta: Optional[float], method: str, flags: str = "--access-",
                supply: Optional[str] = None, type_supply: Sequence[str] = ()) -> dict:
    """How accessibility is measured as the command line asks (access's --decay, --beta, --method, --supply,
    --type-supply; another command's --access-decay …), checked in its flags' words: accessibility's decay, beta
    and method, and its supply where given."""
    from netopt.access import DECAYS, METHODS

    if decay not in DECAYS:
        raise InputError(f"{flags}decay is one of {', '.join(DECAYS)}, not '{decay}'", file="command line")
    if method not in METHODS:
        raise InputError(f"{flags}method is one of {', '.join(METHODS)}, not '{method}'", file="command line")
    if beta is not None and decay != "power":
        raise InputError(f"{flags}beta is the power decay's exponent: give it with {flags}decay power, not "
                         f"{flags}decay {decay}", file="command line")
    given = _supply_given(supply, list(type_supply), flags)
    return {"decay": decay, "beta": beta, "method": method, **({} if given is None else {"supply": given})}


DEFAULT_ACCESS = {"decay": "gaussian", "beta": None, "method": "2sfca"}  # the access flags' defaults: Ga2SFCA
ACCESS_DECAY_OPTION = typer.Option(DEFAULT_ACCESS["decay"], help="Accessibility 可达性 with this distance decay "
                                   "(as access's --decay): gaussian (Ga2SFCA, default), step, zones or power.")
ACCESS_BETA_OPTION = typer.Option(None, callback=_above_zero, help="--access-decay power's exponent β (default 2).")
ACCESS_METHOD_OPTION = typer.Option(DEFAULT_ACCESS["method"], help="Accessibility 可达性 by 2sfca (default) or "
                                    "3sfca (三步移动搜索法, as access's --method).")
ACCESS_SUPPLY_OPTION = typer.Option(None, help="Accessibility 可达性 with what each branch offers (as access's "
                                    "--supply): a column of the branches, e.g. 员工数 (default: 1 each).")
ACCESS_TYPE_SUPPLY_OPTION = typer.Option([], help="Accessibility 可达性 with what a branch of a type offers, e.g. "
                                         "comprehensive=2 (repeatable, as access's --type-supply; another type or "
                                         "none: 1).")


def _supply_given(column: Optional[str], by_type: list[str], flags: str = "--") -> str | dict | None:
    """access's --supply (a column) or --type-supply (TYPE=NUMBER, repeatable) as accessibility's supply (another
    command's --access-supply, --access-type-supply)."""
    if column is not None and by_type:
        raise InputError(f"give {flags}supply (a column of the branches) or {flags}type-supply (a figure per type), "
                         "not both", file="command line")
    return _type_figures(by_type, f"{flags}type-supply", above_zero=False) if by_type else column


def _measure_access(ds: Dataset, source: str, out: Path, options: dict, grid: tuple, coords: str,
                    tables_only: bool = False) -> None:
    """Accessibility measured, said on the console and written: tables, workbook, and (unless `tables_only`) map
    layers, maps and chart."""
    from netopt.access import accessibility
    from netopt.maps import access_map, lorenz_chart, static_map
    from netopt.report import write_access_report

    acc = accessibility(ds, demand=_grid_demand(ds, *grid), **options)
    _say_access(acc, source)
    written, left_out = write_access_report(acc, out, coords, layers=not tables_only)
    if not tables_only:
        fmap = access_map(ds, acc)
        written.append(write_atomic(out / "access_map.html", lambda p: fmap.save(str(p))))
        written.append(lorenz_chart(acc.lorenz(100), out / "access_lorenz.png", acc.city["gini"]))
        written.append(static_map(ds, out / "access_map.png", access=acc, title=f"可达性 Accessibility — {source}"))
    console.print(f"Wrote {len(written)} files to [bold]{out}[/]: " + ", ".join(p.name for p in written))
    if left_out:
        console.print("access.kmz, for Google Earth or 奥维" + _left_out(left_out) + ": access.gpkg has them")
    _remove_left_over(out, ACCESS_OUTPUTS, written)


ACCESS_OUTPUTS = ("access_cells.csv", "access_map.html", "access_lorenz.png", "access_map.png", "access.gpkg",
                  "access.kmz")  # a grid's cells, and the drawings: gone when a run without them follows


def _grid_demand(ds: Dataset, grid_km: Optional[float], h3: Optional[int]) -> Optional[gpd.GeoDataFrame]:
    """--grid-km's square cells or --h3's hexagons as the demand (population_grid), None for the town points."""
    from netopt.grid import population_grid

    return population_grid(ds, cell_km=grid_km or 1.0, h3_resolution=h3) if (grid_km or h3 is not None) else None


def _say_access(acc: Accessibility, source: str) -> None:
    on_points = ", town points 乡镇点位" if acc.demand_kind == "towns" else ""
    table = Table(title=f"Accessibility 可达性 ({acc.settings.method_name}) — {source}{on_points}")
    for col in ("区域 region", "万人", "网点", "可达性 网点/万人", "指数", "基尼 Gini", "低可达 万人", "无可达 万人"):
        table.add_column(col, justify="right")
    for row in acc.by_region.itertuples():
        table.add_row(row.region_type, f"{row.population_wan:,.1f}", str(row.branches),
                      _shown(row.access_per_wan, ".3f"), _shown(row.access_index, ".2f"), _shown(row.gini, ".3f"),
                      _shown(row.low_access_wan, ",.1f"), _shown(row.no_access_wan, ",.1f"))
    console.print(table)
    console.print(acc.summary())
    least = acc.least_access(5)
    if len(least):
        console.print("Least access 可达性最低的乡镇 (branches per 万人 within reach):")
        for row in least.itertuples():
            console.print(f"  {row.name} ({row.county}), {row.population_wan:.1f}万人: {row.access_per_wan:.3f}")
    for note in acc.notes[1:]:
        console.print(f"[dim]{note}[/]")


def _diagnosis_full(full_km: Optional[str], full_minutes: Optional[str], limit: float | dict | TravelTime) -> dict:
    """analyze --full-km / --full-minutes as analyze_coverage's full_km or full_min ({} without), checked as
    optimize's are before the data are read."""
    given = ModelOptions(full_km=_full_given(full_km, "--full-km"),
                         full_minutes=_full_given(full_minutes, "--full-minutes"))
    full, _, unit = _full_radius(given)
    if full is None:
        return {}
    _check_full(given, limit)
    return {"full_km" if unit == "km" else "full_min": full}


def _check_one_grid(grid_km: Optional[float], h3: Optional[int]) -> None:
    """--grid-km (square cells) or --h3 (hexagons), not both."""
    if grid_km is not None and h3 is not None:
        raise InputError("give --grid-km (square cells) or --h3 (hexagons), not both", file="command line")


def _check_analyze_options(minutes: Optional[str], radii: tuple, grid_km: Optional[float], h3: Optional[int],
                           tile_km: Optional[float], workers: Optional[int]) -> None:
    """Options that exclude each other, or need another, are refused rather than one of them silently ignored."""
    if minutes is not None and any(r is not None for r in radii):
        raise InputError("give --minutes (a travel-time limit) or a radius in km (--radius-km, --core-km, "
                         "--county-km, --fringe-km), not both", file="command line")
    _check_one_grid(grid_km, h3)
    if workers is not None and tile_km is None:
        raise InputError("--workers is for --tile-km (the grid measured tile by tile on N processes)",
                         file="command line")


def _diagnose_tiled(ds: Dataset, source: str, out: Path, limit: dict, grid_km: Optional[float], tile_km: float,
                    workers: Optional[int], unsupported) -> None:
    """analyze --tile-km: the population grid measured tile by tile (tiles.tiled_grid_coverage) within `limit` (a
    radius, or a travel time with its mode and speeds, as analyze_coverage takes them), by straight line."""
    from netopt.report import bilingual, write_workbook
    from netopt.tiles import tiled_grid_coverage

    if grid_km is None or unsupported:
        raise InputError("--tile-km works with --grid-km and straight-line radii or travel times for every bank's "
                         "branches (not --network, --h3 or --bank)", file="command line")
    with _working(f"Measuring {grid_km:g} km cells in {tile_km:g} km tiles 分块计算…"):
        tiled = tiled_grid_coverage(ds, cell_km=grid_km, tile_km=tile_km, workers=workers, cells_dir=out / "cells",
                                    scheduler="serial" if workers is None else None, **limit)
    within = _radius_words(limit["radius_km"]) if limit["radius_min"] is None else _travel_time_words(
        TravelTime(limit["radius_min"], limit["mode"], {k: v for k, v in limit.items() if k in SPEED_FLAGS}))
    table = Table(title=f"Coverage by town region type 覆盖诊断 — {source}, {tiled.cells:,} cells in {tiled.tiles} "
                        f"tiles, within {within}")
    by_distance = "coverage_by_distance_pct" in tiled.by_region
    for col in ("区域 region", "万人", "覆盖率", *(["折算"] if by_distance else [])):
        table.add_column(col, justify="right")
    for row in tiled.by_region.itertuples():
        table.add_row(str(row.region_type), f"{row.population_wan:,.1f}", f"{row.coverage_rate_pct:.1f}%",
                      *([f"{row.coverage_by_distance_pct:.1f}%"] if by_distance else []))
    console.print(table)
    sheets = {"by_county": tiled.by_county, "by_region": tiled.by_region}
    written = [write_atomic(out / f"coverage_tiled_{name}.csv",
                            lambda p, t=t: bilingual(t).to_csv(p, index=False, encoding="utf-8-sig"))
               for name, t in sheets.items()]
    written.append(write_atomic(out / "coverage_tiled.xlsx", lambda p: write_workbook(p, sheets)))
    console.print(f"Wrote {', '.join(p.name for p in written)} and {len(tiled.cell_files)} tile files in "
                  f"{out / 'cells'} (Parquet, one row per cell)")


def _diagnose(ds: Dataset, source: str, out: Path, radius_km: float | dict | None,
              radius_min: float | dict | None = None, roads: dict | None = None, grid_km: Optional[float] = None,
              h3: Optional[int] = None, bank: Optional[str] = None, travel: dict | None = None,
              coords: str = "wgs84", tables_only: bool = False) -> tuple[Coverage, Optional[gpd.GeoDataFrame]]:
    """The diagnosis of every bank's branches, or with `bank` of that bank's alone beside every bank's; `roads`:
    _roads' distance options; `travel`: the mode and speeds, as analyze_coverage takes them (default driving at
    30 km/h); map layers in `coords`, the inputs' system (none, nor maps, with `tables_only`). Returns the
    coverage and the grid it was measured on (None: the towns)."""
    demand = _grid_demand(ds, grid_km, h3)
    measure = partial(analyze_coverage, radius_km=radius_km, radius_min=radius_min, demand=demand,
                      **(roads or {}), **(travel or {}))
    cov = measure(_bank_only(ds, bank))
    _summarise(cov, source if bank is None else f"{source}, {bank} 我行")
    rivals = None if bank is None else _compare_with_every_bank(cov, measure(ds), bank)
    _write_outputs(ds, cov, out, rivals, bank, coords, tables_only)
    return cov, demand


def _bank_only(ds: Dataset, bank: Optional[str]) -> Dataset:
    """The data with only --bank's branches (all when not given), saying how many of all they are."""
    if bank is None:
        return ds
    _say_banks_matched(ds.branches, bank)
    ours = ds.of_bank(bank)
    names = distinct_banks(ours.branches["bank"].dropna())
    called = "" if any(bank in name for name in names) else f" ({', '.join(names)})"  # a short name: 农行
    console.print(f"{bank} 我行{called}: {len(ours.branches):,} of the {len(ds.branches):,} branches in the data are "
                  "this bank's; what follows is about these")
    return ours


def _compare_with_every_bank(ours: Coverage, every_bank: Coverage, bank: str) -> dict[str, pd.DataFrame]:
    """Prints our coverage beside every bank's by region and the towns only a rival reaches; the tables, by sheet."""
    from netopt.competition import rival_coverage

    rivals = rival_coverage(ours, every_bank)
    table = Table(title=f"{bank} 我行 against every bank 全部银行 — coverage 覆盖率")
    for col in ("区域 region", "我行网点", "全部网点", "我行覆盖率", "全部覆盖率", "behind 落后 pp"):
        table.add_column(col, justify="right")
    for row in rivals.by_region.itertuples():
        table.add_row(row.region_type, str(row.branches_ours), str(row.branches_all),
                      _shown(row.coverage_ours_pct, ".1f", "%"), _shown(row.coverage_all_pct, ".1f", "%"),
                      _shown(row.behind_pp, ".1f"))
    console.print(table)
    top = rivals.rival_only.head(5)
    if len(top) and "name" in top:
        console.print("Towns only another bank reaches 仅他行覆盖的乡镇 (residents within its reach, not ours):")
        for row in top.itertuples():
            console.print(f"  {row.name} ({row.county}), {row.rival_only_population / 1e4:.1f}万人")
    return {"rivals_by_region": rivals.by_region, "rivals_by_county": rivals.by_county,
            "rival_only_towns": rivals.rival_only}


@app.command()
def demo(out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for the outputs.")) -> None:
    """Run the coverage diagnosis on the bundled Hefei sample: CSV, Excel, an offline HTML map and county reports."""
    def run() -> None:
        from netopt.access import accessibility
        from netopt.report import batch_reports

        ds = load_sample()
        console.print(f"Loaded {SAMPLE_CITY}: {ds}")
        cov, grid = _diagnose(ds, f"{SAMPLE_CITY}, 1 km grid", out, radius_km=_region_radii(), grid_km=DEMO_GRID_KM)
        written, _ = batch_reports(cov, out / "reports", city=ds,  # on the same grid as the diagnosis above
                                   access=accessibility(ds, radius_km=_region_radii(), demand=grid))
        console.print(f"County reports and the city summary ({len(written)} files): {out / 'reports'}; slides for "
                      f"the meeting 汇报材料: {out / 'reports' / 'city_summary.pptx'}; the analysis report 分析报告: "
                      f"{out / 'reports' / 'city_summary.docx'}")
    _guard(run)


BETA_HELP = "share: how fast a branch's pull falls with distance, km^-beta (default 2)."
MIN_KM_HELP = ("share: a branch nearer a town than this counts as this far, as a town's point stands for its area "
               "(default 1).")
MODELS = ("mclp", "lscp", "pmedian", "pcenter", "cflp", "share")
MODEL_TITLES = {"mclp": "最大覆盖 MCLP", "lscp": "集合覆盖 LSCP", "pmedian": "P中位 p-median", "pcenter": "P中心 p-center",
                "cflp": "容量约束选址 CFLP", "share": "市场份额 market share"}  # a plan's, on its map and slides
MODEL_SPELLINGS = {  # a model as analysts and textbooks write it (lower case, without spaces, - or _): its name
    **{word: "mclp" for word in ("maxcover", "maximalcover", "maximalcovering", "最大覆盖", "最大覆盖模型")},
    **{word: "lscp" for word in ("setcover", "setcovering", "locationsetcovering", "集合覆盖", "集合覆盖模型")},
    **{word: "pmedian" for word in ("median", "p中位", "p中值", "p中位数", "中位", "p中位模型")},
    **{word: "pcenter" for word in ("pcentre", "center", "centre", "p中心", "p中心模型")},
    **{word: "cflp" for word in ("capacitated", "容量约束", "容量限制")},
    **{word: "share" for word in ("marketshare", "huff", "市场份额", "份额")}}


def _model_name(value: str) -> str:
    """--model as the user spells it — MCLP, p-median, P中位, 最大覆盖 — as its name (mclp, pmedian …); a model
    netopt lacks stays as given, for the command to refuse by name."""
    key = re.sub(r"[\s_\-]", "", str(value)).lower()
    return key if key in MODELS else MODEL_SPELLINGS.get(key, value)


P_MODELS = ("mclp", "pmedian", "pcenter", "share")  # the models with p open sites, that score any plan (objective_of)
GRID_MODELS = ("mclp", "lscp", "pmedian", "pcenter", "share")  # the models solved exactly on a population grid
GRID_KM_HELP = ("Demand as a population grid of this cell size (km; each town's residents spread over its area) "
                "instead of town points.")
SPACING_HELP = ("Minimum spacing 网点间距, km (straight line): no two open branches closer than this, except pairs "
                "of today's branches, which stay as they are (e.g. 1: a new branch at least 1 km from every other).")
FULL_KM_OPTION = typer.Option(None, callback=_full_check,
                              help="mclp: gradual coverage 按距离折算覆盖 — a town this close to a branch, km, counts "
                                   "wholly covered, one farther in part, less and less to none at the radius (e.g. "
                                   "--radius-km 3.5 --full-km 1.2: half covered at 2.35 km), or one per region type "
                                   "(core=0.5,county=1.5, with --core-km and --county-km).")
FULL_MINUTES_OPTION = typer.Option(None, callback=_full_check, help="mclp with --minutes: gradual coverage 按距离折算"
                                   "覆盖 — wholly covered within this many minutes, less and less to none at --minutes "
                                   "(or one per region type, core=5,county=10).")


@app.command()
def optimize(
    ctx: typer.Context,
    model: str = typer.Option("mclp", callback=_model_name,
                              help="mclp (most residents within the radius), lscp (fewest sites covering "
                              "every town), pmedian (least total travel), pcenter (least worst travel) or cflp "
                              "(least total travel with a capacity per branch: --capacity-wan, and --budget-wan "
                              "or --max-new) or share (most residents won from the other banks, Huff model: "
                              "needs --bank); as written elsewhere too: MCLP, p-median, P中位, 最大覆盖 …"),
    p: Optional[int] = typer.Option(None, min=1, help="The most open branches, today's kept ones included "
                                    "(mclp, pmedian, pcenter, share; default with --max-new: today's branches and "
                                    "the new ones; fewer when a budget buys a better plan with fewer)."),
    radius_km: float = typer.Option(3.5, callback=_above_zero,
                                    help="Service radius, km (mclp, lscp; for every model, the radius of the "
                                         "coverage today → plan comparison)."),
    core_km: Optional[float] = MODEL_CORE_KM_OPTION,
    county_km: Optional[float] = MODEL_COUNTY_KM_OPTION,
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = MINUTES_OPTION,
    mode: str = MODE_OPTION,
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    data: Optional[Path] = DATA_OPTION,
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for the result tables."),
    bank: Optional[str] = typer.Option(None, callback=_bank_check,
                                       help="Plan for one bank: its branches are the existing sites."),
    keep_existing: bool = typer.Option(True, help="Existing branches must stay open (--no-keep-existing: they may close)."),
    time_limit: Optional[float] = typer.Option(None, callback=_above_zero,
                                               help="Stop after this many seconds with the best plan and its gap."),
    gap_pct: Optional[float] = typer.Option(None, callback=_gap_percent,
                                            help="Stop once the plan is proven within this % of the best possible "
                                                 "(e.g. 0.5; default: proven optimal); the gap says how close."),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    template: Optional[Path] = TEMPLATE_OPTION,
    word_template: Optional[Path] = WORD_TEMPLATE_OPTION,
    tables_only: bool = TABLES_ONLY_OPTION,
    max_new: Optional[int] = typer.Option(None, min=0, help="Open at most this many new branches."),
    budget_wan: Optional[float] = typer.Option(None, callback=_zero_or_more,
                                               help="Budget for new branches, 万元 (with --open-cost-wan; "
                                                    "savings of closed branches count towards it)."),
    open_cost_wan: Optional[float] = typer.Option(None, callback=_zero_or_more,
                                                  help="Cost of opening one new branch, 万元."),
    closing_saving_wan: float = typer.Option(0.0, callback=_zero_or_more,
                                             help="Saving from closing one existing branch, 万元 "
                                                  "(with --no-keep-existing)."),
    capacity_wan: Optional[float] = typer.Option(None, callback=_above_zero,
                                                 help="Residents one branch can serve, 万人 (cflp; mclp: the most "
                                                      "residents covered with no branch serving more)."),
    max_km: Optional[float] = typer.Option(None, callback=_above_zero,
                                           help="cflp: no town served by a branch farther than this, km (needed "
                                                f"beyond {capacitated.PAIRS_LIMIT:,} town-site pairs, e.g. a "
                                                "province)."),
    county_min: Optional[int] = typer.Option(None, min=0, help="At least this many open branches in every "
                                             "county (e.g. 1: every county keeps a branch)."),
    county_max: Optional[int] = typer.Option(None, min=0, help="At most this many open branches in any county."),
    within_county: bool = typer.Option(False, "--within-county", help="With --relocate: moves stay within their "
                                                                      "county (no county ends with more branches "
                                                                      "than today; each move pairs branches of one "
                                                                      "county)."),
    network: Optional[Path] = typer.Option(None, help=f"Road network ({NETWORK_KINDS}): road km instead of "
                                           "straight-line km, for the model and the coverage comparison."),
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    cover_pct: Optional[float] = typer.Option(None, help="lscp: the fewest branches bringing at least this % of "
                                              "residents within the radius (e.g. 90), instead of every town."),
    relocate: Optional[int] = typer.Option(None, min=1, help="Move at most this many of today's branches 迁址 "
                                           "(mclp, pmedian, pcenter, share): as many branches as today unless --p "
                                           "says otherwise; each closed branch is paired with a new site in "
                                           "<model>_moves.csv."),
    keep_open: list[str] = typer.Option([], help="A branch that stays open when others may close (--relocate, "
                                        "--no-keep-existing): its id, text of its name such as 营业部, or a list "
                                        "file (repeatable)."),
    close: list[str] = typer.Option([], help="A branch of today's network that closes 撤并 whatever the plan: its "
                                    "id, text of its name, or a list file such as 撤并清单.xlsx (repeatable). The plan "
                                    "says what closing it costs and, with --max-new or --relocate, where new "
                                    "branches best make up for it."),
    keep_covered: bool = typer.Option(False, "--keep-covered", help="With branches closing (--close, --relocate, "
                                                                    "--no-keep-existing): every town within "
                                                                    "--radius-km (or --core-km/--county-km: the "
                                                                    "diagnosis's radii) of one of today's branches "
                                                                    "keeps a branch within it (不新增服务空白乡镇)."),
    target_share_pct: Optional[float] = typer.Option(None, help="share: the fewest branches winning at least this % "
                                                     "of all residents (e.g. 25), instead of --p."),
    beta: Optional[float] = typer.Option(None, callback=_above_zero, help=BETA_HELP),
    min_km: Optional[float] = typer.Option(None, callback=_above_zero, help=MIN_KM_HELP),
    grid_km: Optional[float] = typer.Option(None, callback=_above_zero, help=GRID_KM_HELP + " All models but cflp."),
    h3: Optional[int] = H3_MODEL_OPTION,
    min_spacing_km: Optional[float] = typer.Option(None, callback=_above_zero, help=SPACING_HELP),
    candidates: Optional[Path] = typer.Option(None, help=CANDIDATES_HELP),
    candidates_folder: Optional[str] = CANDIDATES_FOLDER_OPTION,
    phase: list[int] = typer.Option([], min=1, help="Open the plan's new branches in phases 分期建设 of this many "
                                    "(repeatable: --phase 3 --phase 3; the last phase takes those left), each phase "
                                    "the best next branches given those before (mclp, pmedian, pcenter, share)."),
    full_km: Optional[str] = FULL_KM_OPTION,
    full_minutes: Optional[str] = FULL_MINUTES_OPTION,
) -> None:
    """Choose branch sites among today's branches and the town points (or your own candidate sites) with an exact
    integer program."""
    def run() -> None:
        from netopt.planning import candidate_sites, existing_positions

        if model not in MODELS:
            raise InputError(f"unknown model '{model}'; use one of {', '.join(MODELS)}", file="command line")
        outputs = _outputs(template, word_template, tables_only)
        options = ModelOptions(capacity_wan, cover_pct, target_share_pct, beta, min_km, bank, max_km,
                               _full_given(full_km, "--full-km"), _full_given(full_minutes, "--full-minutes"))
        _check_model_flags(model, options)
        ask = SiteAsk(keep_existing, max_new, budget_wan, open_cost_wan, closing_saving_wan, relocate, keep_open,
                      close, county_min, county_max, within_county, min_spacing_km, keep_covered)
        _check_site_ask(ask)
        _check_p_given(model, p, relocate, keep_existing, max_new, close)
        radius = _model_limit(ctx, model, (radius_km, core_km, county_km, fringe_km), minutes, mode)
        _check_full(options, radius)
        ds, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        with _working("Building the model 建模中…"):
            roads = _roads(network, network_coords, network_split)
            unused = None if budget_wan is not None else "they count against a budget (--budget-wan)"
            own = _read_candidates_option(candidates, candidates_folder, coords, ds, unused, bank)
            sites = candidate_sites(ds, bank, own)
            _say_banks_matched(ds.branches, bank)
            existing = existing_positions(sites)
            rules, count, staying = _optimize_rules(model, p, ask, sites, existing, ds, radius, roads)
            _check_model_options(model, count, rules, options)
            _check_p_within_sites(count, len(sites), len(existing))
            _check_phases(phase, model, relocate, keep_existing, target_share_pct)
            if relocate is None and keep_existing and model in P_MODELS:
                _check_p_keeps_today(count, staying, bank)
            demand, cells, source = _model_demand(ds, (grid_km, h3), model, source, len(sites))
            built = _build_model(model, ds, sites, count, radius, rules, options, roads, demand,
                                 at_most=relocate is None)  # a move 迁址 closes one branch and opens another
        with _working("Solving with HiGHS 求解中…", time_limit):
            result = built.solve(time_limit=time_limit, mip_gap=_mip_gap(gap_pct))
            if model in P_MODELS and built.p is not None and "closable" in rules and result.selected:
                result = _close_crowded(result, built, sites, roads)
        today = built.evaluate(sites.loc[existing, "site_id"]) if model in P_MODELS and len(existing) else None
        _fail_without_plan(result, built, cells, options, radius, keep_covered)
        phases = None
        if phase:
            with _working("Phasing the new branches 分期建设…", time_limit):
                phases = built.phases(phase, plan=result, time_limit=time_limit, mip_gap=_mip_gap(gap_pct))
        plan = OptimizedPlan(model, built, sites, result, today, phases, rules, count, len(existing) - staying)
        inputs = OptimizeInputs(ds, source, demand, cells, radius, roads, coords, bank)
        _write_optimized_plan(plan, inputs, ask, out, _command_line(ctx), candidates is not None, outputs)
    _guard(run)


@dataclass(frozen=True)
class SiteAsk:
    """What `netopt optimize` asks of the sites: today's branches kept or closable (and which stay or close
    whatever the plan), new branches and the budget (万元), moves, county limits, spacing, towns kept covered."""

    keep_existing: bool
    max_new: Optional[int]
    budget_wan: Optional[float]
    open_cost_wan: Optional[float]
    closing_saving_wan: float
    relocate: Optional[int]
    keep_open: list[str]
    close: list[str]
    county_min: Optional[int]
    county_max: Optional[int]
    within_county: bool
    min_spacing_km: Optional[float]
    keep_covered: bool


def _check_site_ask(ask: SiteAsk) -> None:
    """Refuse the site options that need another: --within-county without --relocate, --keep-covered with no
    branch closing."""
    if ask.within_county and ask.relocate is None:
        raise InputError("--within-county is for --relocate (moves that stay within their county)",
                         file="command line")
    _check_keep_covered(ask.keep_covered, bool(ask.close) or not ask.keep_existing or ask.relocate is not None,
                        "--close, --relocate N or --no-keep-existing")


def _optimize_rules(model: str, p: Optional[int], ask: SiteAsk, sites, existing: np.ndarray, ds: Dataset,
                    limit: float | dict | TravelTime, roads: dict) -> tuple[dict, Optional[int], int]:
    """The model rules `ask` makes of the candidate sites, the number of open branches (_open_count) and how
    many of today's branches may stay open (those --close names may not)."""
    rules = _site_rules(sites, existing, ask.keep_existing, ask.max_new, ask.budget_wan, ask.open_cost_wan,
                        ask.closing_saving_wan, closes=not ask.keep_existing or ask.relocate is not None)
    if ask.keep_open:
        rules["fixed"] = _kept_open(sites, ask.keep_open)
    if ask.close:
        rules = _closing(sites, ask.close, rules)
    staying = len(existing) - len(rules.get("forbidden", []))  # today's branches that may stay open
    count = _open_count(model, p, ask, len(sites), len(existing), staying)
    if ask.relocate is not None:
        rules = _relocation(model, ask.relocate, rules, existing, ask.max_new)
        _check_relocation_replaces(len(existing) - staying, ask.relocate, p)
    rules.update(_county_rules(sites, ask.county_min, ask.county_max, ask.within_county, ask.relocate))
    rules.update(_spacing_rule(sites, ask.min_spacing_km))
    if ask.keep_covered:
        rules["must_reach"] = _covered_today(ds, sites, limit, roads)
    return rules, count, staying


def _open_count(model: str, p: Optional[int], ask: SiteAsk, n_sites: int, n_today: int,
                staying: int) -> Optional[int]:
    """The most open branches: --p; with --relocate and no --p, as many as today; for the p-models without --p,
    today's kept branches and --max-new's new ones, or today's less those --close closes (said on the console)."""
    if ask.relocate is not None:
        return n_today if p is None else p
    if p is None and ask.max_new is not None and ask.keep_existing and model in P_MODELS:
        opened = min(ask.max_new, n_sites - n_today)  # no more new than there are sites for them
        fewer = f"; {opened} candidate site(s) for new branches" if opened < ask.max_new else ""
        console.print(f"p = {staying + opened} branches 网点总数: today's {staying} kept and at most {opened} new "
                      f"(--max-new {ask.max_new}{fewer})")
        return staying + opened  # today's branches and the new ones
    if p is None and ask.close and ask.keep_existing and model in P_MODELS:
        console.print(f"p = {staying} branches 网点总数: today's less the {n_today - staying} closed "
                      "(--max-new N: where N new branches best make up for them)")
        return staying
    return p


def _fail_without_plan(result, built, cells, options: ModelOptions, limit: float | dict | TravelTime,
                       keep_covered: bool) -> None:
    """Stop the command, saying why, when the model has no plan: none exists (with what would allow one), or the
    time limit came before the first."""
    if result.status == "infeasible":
        farther = (f"; with --max-km {options.max_km:g}, a larger value lets towns be served from farther"
                   if options.max_km else "")
        kept = KEEP_COVERED_HINT if keep_covered else ""
        _fail(f"no plan exists: {result.reason}{_cover_hint(built, cells, options.cover_pct, limit)}"
              f"{_capacity_hint(built, options.capacity_wan)}{farther}{kept}", 1)
    if not result.has_plan:  # stopped at the time limit before any plan
        _fail(f"{NO_PLAN_YET}: {result.reason}; a longer --time-limit may find one", 1)


class OptimizedPlan(NamedTuple):
    """A solved `netopt optimize`: the model's name, the model, its candidate sites, its plan, today's network
    scored by the model (None when the model scores no plan, or no branch stands today), the phases (None without
    --phase), the rules and the number of open branches asked, and how many of today's branches close whatever the
    plan (--close)."""

    model: str
    built: object
    sites: gpd.GeoDataFrame
    result: object
    today: object
    phases: Optional[pd.DataFrame]
    rules: dict
    count: Optional[int]
    closed_anyway: int


class OptimizeInputs(NamedTuple):
    """What an optimize plan was made from: the data and its source's name, the demand the model served (the towns
    or a grid's cells, and the cells or None), the radius or travel time, the road options, the inputs'
    coordinates, the bank planned for."""

    ds: Dataset
    source: str
    demand: object
    cells: object
    limit: float | dict | TravelTime
    roads: dict
    coords: str
    bank: Optional[str]


class PlanWorth(NamedTuple):
    """What the sites are worth to a plan (_worth_of_sites; None for models that score no plan) and the moves
    (planning.relocation_moves, openings by worth)."""

    moves: pd.DataFrame
    opened: Optional[pd.Series]
    closing: Optional[pd.Series]
    candidates: Optional[pd.Series]


def _write_optimized_plan(plan: OptimizedPlan, inputs: OptimizeInputs, ask: SiteAsk, out: Path, command: str,
                          own_candidates: bool, outputs: Outputs) -> None:
    """Write everything of an optimize plan into `out`: the tables, the workbook, and (unless --tables-only) the
    maps, the slides, the Word report and the map layers."""
    timed = isinstance(inputs.limit, TravelTime)
    worth = _plan_worth(plan, inputs.roads, ask.within_county or bool(ask.close), own_candidates, timed)
    summary, after = _write_plan_tables(plan, inputs, worth, out, command, timed)
    drawn = [f"{plan.model}_{name}" for name in ("map.html", "map.png", "plan.pptx", "plan.docx", "plan.gpkg",
                                                 "plan.kmz")]
    _unless_tables_only(outputs, out, drawn,
                        lambda: _draw_optimized_plan(plan, inputs, worth, summary, after, out, outputs))


def _plan_worth(plan: OptimizedPlan, roads: dict, same_county: bool, own_candidates: bool, timed: bool) -> PlanWorth:
    """What each site is worth to the plan and the moves it makes, openings ordered by worth."""
    from netopt.planning import relocation_moves

    with _working("Measuring what each open branch adds 评估网点贡献…"):
        opened, closing, candidates = _worth_of_sites(plan.built, plan.result, plan.sites, plan.model,
                                                      own_candidates, timed)
    moves = relocation_moves(plan.sites, plan.result.selected, same_county=same_county, **roads)
    if opened is not None:
        moves = _openings_by_worth(moves.assign(**{opened.name: moves["to_id"].map(opened),
                                                   closing.name: moves["from_id"].map(closing)}), opened.name)
    return PlanWorth(moves, opened, closing, candidates)


def _write_plan_tables(plan: OptimizedPlan, inputs: OptimizeInputs, worth: PlanWorth, out: Path, command: str,
                       timed: bool) -> tuple[list, BeforeAfter]:
    """The plan's summary printed, its CSV tables and its workbook written; the summary, and the plan measured
    beside today's (its changed towns located)."""
    model, sites, result, ds = plan.model, plan.sites, plan.result, inputs.ds
    _say_fewer_than_p(result.selected, plan.count, plan.rules, sites)
    summary, tables = _report_plan(result, sites, model, inputs.source, out, inputs.demand, worth.moves, plan.today,
                                   plan.built.maximise, worth.opened, inputs.coords, timed)
    _write_network_after(ds, sites, result.selected, inputs.bank, inputs.coords, out / f"{model}_branches.csv")
    if worth.candidates is not None:
        tables["candidates 候选点位"] = _candidates_table(worth.candidates, result, sites, model, out, timed,
                                                       inputs.coords)
    if plan.phases is not None:
        tables["phases 分期建设"] = _say_phases(plan.phases, sites, model, out, closed=plan.closed_anyway, timed=timed,
                                            gradual=getattr(plan.built, "gradual", None) is not None)
    summary.insert(1, ("command 命令", command))
    after = _before_after(ds, sites, result.selected, inputs.limit, inputs.roads, inputs.cells)
    after = after._replace(towns=_located_by(after.towns, ds.towns, "town_id", inputs.coords))
    console.print(f"Wrote {_write_csv(after.towns, out / f'{model}_towns_changed.csv')}, "
                  f"{_write_csv(after.areas, out / f'{model}_branches_changed.csv')}, "
                  f"{_write_csv(after.takers, out / f'{model}_closure_takers.csv')}")
    sheets = {**tables, "coverage 覆盖率变化": after.regions, "towns changed 覆盖变化乡镇": after.towns,
              AREAS_SHEET: after.areas, TAKERS_SHEET: after.takers}
    book = _summary_workbook(out / f"{model}_plan.xlsx", summary, sheets)
    console.print(f"Wrote {book}")
    _remove_left_over(out, (f"{model}_candidates.csv", f"{model}_phases.csv"),
                      [out / f"{model}_candidates.csv"] * (worth.candidates is not None)
                      + [out / f"{model}_phases.csv"] * (plan.phases is not None))
    return summary, after


def _draw_optimized_plan(plan: OptimizedPlan, inputs: OptimizeInputs, worth: PlanWorth, summary: list,
                         after: BeforeAfter, out: Path, templates: Outputs) -> None:
    """The plan's maps (HTML, PNG), slides, Word report and map layers."""
    from netopt.deck import plan_deck, taken_on
    from netopt.document import plan_report

    model, sites, result, phases = plan.model, plan.sites, plan.result, plan.phases
    noted = _noted(sites, worth.opened, worth.closing)
    _plan_maps(inputs.ds, noted if phases is None else _phase_noted(noted, phases), result.selected, worth.moves,
               after.plan, f"{MODEL_TITLES[model]} 方案 plan — {inputs.source}", inputs.bank, out / f"{model}_map",
               _town_shares(result, plan.today, inputs.cells) if model == "share" else None,
               town_changes=after.towns, takers=after.takers)
    shown = (summary, (out / f"{model}_map.png").read_bytes(), worth.moves, after.regions, after.towns,
             taken_on(after.takers, f"{model}_plan.xlsx"))
    slides = plan_deck(out / f"{model}_plan.pptx", *shown, workbook=f"{model}_plan.xlsx", template=templates.slides)
    written_up = plan_report(out / f"{model}_plan.docx", *shown, workbook=f"{model}_plan.xlsx",
                             template=templates.word)
    console.print(f"Wrote {slides}: the slides for the meeting 汇报材料, and {written_up}: the plan's report 方案")
    decided = _with_worth(sites, result, worth.opened, worth.closing).merge(  # each site's service area, both plans
        after.areas.drop(columns=["name", "county", "plan"]).rename(columns={"branch_id": "site_id"}), on="site_id",
        how="left")
    if phases is not None:  # each new branch's phase 期次, to draw the build-out 分期建设 phase by phase
        decided = decided.assign(phase=decided["site_id"].map(_phase_of(phases)).astype("Int64"))
    _write_plan_layers(out / f"{model}_plan.gpkg", inputs.ds, decided, result,
                       (inputs.demand, worth.moves, after.towns, after.takers), inputs.coords)


@app.command()
def curve(
    ctx: typer.Context,
    up_to: int = typer.Option(20, min=1, help="Solve for 0, 1, … up to this many new branches (moves with --moves)."),
    radius_km: float = typer.Option(3.5, callback=_above_zero, help="Service radius, km."),
    core_km: Optional[float] = MODEL_CORE_KM_OPTION,
    county_km: Optional[float] = MODEL_COUNTY_KM_OPTION,
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = CURVE_MINUTES_OPTION,
    mode: str = MODE_OPTION,
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    bank: Optional[str] = typer.Option(None, callback=_bank_check,
                                       help="Plan for one bank: its branches stay open (default: every "
                                       "bank's branches)."),
    data: Optional[Path] = DATA_OPTION,
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for coverage_curve.csv and .png (relocation_curve.* with "
                             "--moves; share_curve.*, share_relocation_curve.* with --model share)."),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    template: Optional[Path] = TEMPLATE_OPTION,
    word_template: Optional[Path] = WORD_TEMPLATE_OPTION,
    tables_only: bool = TABLES_ONLY_OPTION,
    time_limit: Optional[float] = typer.Option(None, callback=_above_zero,
                                               help="Seconds for each point of the curve (its gap is shown)."),
    gap_pct: Optional[float] = typer.Option(None, callback=_gap_percent,
                                            help="Stop each point once proven within this % of its best possible "
                                                 "plan (e.g. 0.5; default: proven optimal)."),
    network: Optional[Path] = typer.Option(None, help=f"Road network ({NETWORK_KINDS}): road km."),
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    moves: bool = typer.Option(False, "--moves", help="The relocation curve 迁址曲线: 0, 1, … --up-to moves of "
                                                      "today's branches, as many branches as today."),
    keep_open: list[str] = typer.Option([], help="With --moves: a branch that stays where it is (its id, or text "
                                        "of its name; repeatable)."),
    close: list[str] = typer.Option([], help="Without --moves: a branch of today's network that closes 撤并 at every "
                                    "point (its id, text of its name, or a list file; repeatable): how many new "
                                    "branches make up for it."),
    within_county: bool = typer.Option(False, "--within-county", help="With --moves: moves stay within their county."),
    keep_covered: bool = typer.Option(False, "--keep-covered", help="With --moves or --close: every town within "
                                                                    "--radius-km (or --core-km/--county-km: the "
                                                                    "diagnosis's radii) of one of today's branches "
                                                                    "keeps a branch within it (不新增服务空白乡镇)."),
    model: str = typer.Option("mclp", callback=_model_name, help="mclp (residents within the radius) or share "
                              "(residents won from the other banks, Huff model: needs --bank)."),
    beta: Optional[float] = typer.Option(None, callback=_above_zero, help=BETA_HELP),
    min_km: Optional[float] = typer.Option(None, callback=_above_zero, help=MIN_KM_HELP),
    grid_km: Optional[float] = typer.Option(None, callback=_above_zero, help=GRID_KM_HELP),
    h3: Optional[int] = H3_MODEL_OPTION,
    min_spacing_km: Optional[float] = typer.Option(None, callback=_above_zero, help=SPACING_HELP),
    capacity_wan: Optional[float] = typer.Option(None, callback=_above_zero,
                                                 help="mclp: residents one branch can serve, 万人 — the residents "
                                                      "served within the radius with no branch serving more."),
    candidates: Optional[Path] = typer.Option(None, help=CANDIDATES_HELP),
    candidates_folder: Optional[str] = CANDIDATES_FOLDER_OPTION,
    full_km: Optional[str] = FULL_KM_OPTION,
    full_minutes: Optional[str] = FULL_MINUTES_OPTION,
) -> None:
    """Coverage curve 覆盖率曲线: residents within the radius for each number of new branches (an exact MCLP
    per point), and what each extra branch adds; with --moves, for each number of branches moved 迁址; with
    --model share, the market share 市场份额 won from the other banks instead."""
    def run() -> None:
        from netopt.planning import candidate_sites, existing_positions

        outputs = _outputs(template, word_template, tables_only)
        if (keep_open or within_county) and not moves:
            raise InputError("--keep-open and --within-county are for --moves here", file="command line")
        if close and moves:
            raise InputError("--close is for the new-branches curve (without --moves): a relocation curve chooses "
                             "which branches move", file="command line")
        if model not in CURVE_FILES:
            raise InputError(f"--model for a curve is mclp or share, not '{model}'", file="command line")
        options = ModelOptions(capacity_wan, beta=beta, min_km=min_km, bank=bank,
                               full_km=_full_given(full_km, "--full-km"),
                               full_minutes=_full_given(full_minutes, "--full-minutes"))
        _check_model_flags(model, options)
        _check_keep_covered(keep_covered, moves or bool(close), "--close or --moves")
        radius = _model_limit(ctx, model, (radius_km, core_km, county_km, fringe_km), minutes, mode)
        _check_full(options, radius)
        ds, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        with _working("Solving 求解中…"):
            own = _read_candidates_option(candidates, candidates_folder, coords, ds, "a curve counts no costs",
                                          bank)
            sites = candidate_sites(ds, bank, own)
            _say_banks_matched(ds.branches, bank)
            existing, roads = existing_positions(sites), _roads(network, network_coords, network_split)
            _check_model_options(model, len(existing) + up_to, {}, options)  # before a grid is made
            demand, cells, source = _model_demand(ds, (grid_km, h3), model, source, len(sites))
            spacing = _spacing_rule(sites, min_spacing_km)

            def build(p: int, rules: dict):
                return _build_model(model, ds, sites, p, radius, {**rules, **spacing}, options, roads, demand)
            limits = {"time_limit": time_limit, "mip_gap": _mip_gap(gap_pct)}
            covered = _covered_today(ds, sites, radius, roads) if keep_covered else None
            if moves:
                table, key, kept, built = _moves_curve(build, sites, existing, up_to, limits, roads, keep_open,
                                                       within_county, covered)
            else:
                closed = _closing(sites, close, {})["forbidden"] if close else np.zeros(0, int)
                table, key, kept, built = _new_branches_curve(build, sites, existing, up_to, limits, closed, covered)
        full = _full_words(options)  # "" without gradual coverage
        shown = _curve_table(table, key, sites, kept, gradual=bool(full))
        stem = CURVE_FILES[model][moves]
        _print_curve(shown, source, radius, moves, won=model == "share", capacity_wan=capacity_wan, full=full)
        if cells is None and not isinstance(radius, TravelTime):  # residents at the town points: said how coarse
            for note in town_point_note(ds, radius):
                console.print(f"[dim]{note}[/]")
        if close:
            _say_made_up(shown, built, sites, existing, won=model == "share")
        summary = [("curve 曲线", f"{stem} — {source}"), ("command 命令", _command_line(ctx))]
        written = [_write_csv(shown, out / f"{stem}.csv"),
                   _summary_workbook(out / f"{stem}.xlsx", summary, {"curve 曲线": shown})]
        console.print(f"Wrote {', '.join(str(w) for w in written)}")
        lines = [f"radius 服务半径: {_radius_words(radius)}"] + ([f"counted by distance 按距离折算{full}"] if full else [])
        _unless_tables_only(outputs, out, [f"{stem}.{kind}" for kind in ("png", "pptx", "docx")], lambda: _draw_curve(
            (table, shown, kept), out, stem, (f"{CURVE_TITLES[stem]} — {source}", lines, _radius_words(radius) + full),
            outputs))
    _guard(run)


def _draw_curve(curve: tuple[pd.DataFrame, pd.DataFrame, int], out: Path, stem: str, said: tuple[str, list, str],
                templates: Outputs) -> None:
    """The curve (`curve`: its points, the table shown and today's branches kept) as a chart, slides for the meeting
    and a written report, in the bank's `templates` where given; `said`: the title, the lines under it and the
    radius in words for the chart."""
    from netopt.deck import curve_deck
    from netopt.document import curve_report
    from netopt.maps import curve_chart

    (table, shown, kept), (title, lines, radius) = curve, said
    chart = curve_chart(table, out / f"{stem}.png", radius, kept)
    written = [chart, curve_deck(out / f"{stem}.pptx", title, table, shown, kept, lines, templates.slides),
               curve_report(out / f"{stem}.docx", title, shown, lines, chart.read_bytes(), templates.word)]
    console.print(f"Wrote {', '.join(str(w) for w in written)}")


def _new_branches_curve(build: Callable, sites, existing: np.ndarray, up_to: int, limits: dict,
                        closed: np.ndarray, covered=None) -> tuple[pd.DataFrame, str, int, object]:
    """model.curve for today's branches kept (but the `closed` positions) and 0 … up_to new ones, the model from
    build(p, rules), each point solved within `limits` (time_limit, mip_gap), with `covered` as its must_reach
    rows (--keep-covered): (table, its key column, branches kept, the model)."""
    kept = len(existing) - len(closed)
    if len(existing) + up_to > len(sites):
        raise InputError(f"--up-to {up_to}: there are {len(sites) - len(existing)} candidate sites for new branches "
                         f"(and {kept} kept)", file="command line")
    rules = {"existing": existing, "closable": closed, "forbidden": closed}
    model = build(max(kept, 1), rules if covered is None else dict(rules, must_reach=covered))
    return model.curve(range(max(kept, 1), kept + up_to + 1), **limits), "p", kept, model


def _moves_curve(build: Callable, sites, existing: np.ndarray, up_to: int, limits: dict,
                 roads: dict, keep_open: list[str], within_county: bool,
                 covered=None) -> tuple[pd.DataFrame, str, int, object]:
    """model.moves_curve for 0 … up_to moves of today's branches (closures as optimize --relocate places them),
    the model from build(p, rules), with `covered` as its must_reach rows (--keep-covered): (table, its key
    column, 0 branches kept, the model)."""
    from netopt.planning import closures_near_others

    if up_to > len(existing):
        raise InputError(f"--up-to {up_to}: there are {len(existing)} branches today to move (check --bank)",
                         file="command line")
    rules = {"existing": existing, "closable": existing}
    if keep_open:
        rules["fixed"] = _kept_open(sites, keep_open)
    rules.update(_county_rules(sites, None, None, within_county, up_to))
    if covered is not None:
        rules["must_reach"] = covered
    model = build(len(existing), rules)
    table = model.moves_curve(range(up_to + 1), **limits)
    table["selected"] = [closures_near_others(model, sites, chosen, **roads) if chosen else chosen
                         for chosen in table["selected"]]
    return table, "moves", 0, model


# the files of `netopt curve` for each model: (new branches, moves)
CURVE_FILES = {"mclp": ("coverage_curve", "relocation_curve"), "share": ("share_curve", "share_relocation_curve")}
CURVE_TITLES = {"coverage_curve": "覆盖率曲线 Coverage curve", "relocation_curve": "迁址曲线 Relocation curve",
                "share_curve": "市场份额曲线 Market share curve",
                "share_relocation_curve": "迁址市场份额曲线 Market share curve of moves"}  # its slides' title
# what a curve's table measures: (weight column, share column) -> headers of residents won and their share
CURVE_HEADERS = {("covered_weight", "covered_pct"): ("covered 覆盖人口（万人）", "share 覆盖率（%）"),
                 ("captured", "share_pct"): ("won 吸引客户（万人）", "market share 市场份额（%）")}


def _curve_table(table: pd.DataFrame, key: str, sites, kept: int, gradual: bool = False) -> pd.DataFrame:
    """A curve's table in the user's units: per point, 万人 covered (counted by distance where `gradual`; or won
    from the other banks), share, gain, status, gap, and the new sites (with the branches moved away for a
    relocation curve)."""
    names = dict(zip(sites["site_id"], sites["name"]))
    existing = set(sites.loc[sites["kind"] == "existing", "site_id"])
    first = "moves 迁址数" if key == "moves" else "new 新增网点"
    (weight, share), (weight_header, share_header) = next((columns, headers) for columns, headers
                                                          in CURVE_HEADERS.items() if columns[0] in table)
    weight_header = f"{GRADUAL_HEADER}（万人）" if gradual else weight_header
    shown = pd.DataFrame({first: table[key] - kept, weight_header: table[weight] / 1e4,
                          share_header: table[share], "gain 边际增量（万人）": table["gain"] / 1e4,
                          "status 状态": table["status"].where(
                              table[weight].notna() | (table["status"] == "infeasible"), NO_PLAN_YET),
                          "gap 差距（%）": 100 * table["gap"],
                          "new sites 新增网点位置": [", ".join(str(names[s]) for s in chosen if s not in existing)
                                               for chosen in table["selected"]]})
    if key == "moves":
        shown["moved away 迁出网点"] = [", ".join(str(names[s]) for s in sorted(existing - set(chosen)))
                                     if chosen else "" for chosen in table["selected"]]
    return shown


def _print_curve(shown: pd.DataFrame, source: str, radius_km: float | dict, moves: bool = False, won: bool = False,
                 capacity_wan: Optional[float] = None, full: str = "") -> None:
    """The curve as a table: residents covered within the radius (served, at most capacity_wan 万 a branch;
    counted by distance with `full`, _full_words), or won from the other banks (won=True)."""
    if won:
        title = "Relocation curve 迁址曲线, market share 市场份额" if moves else "Market share curve 市场份额曲线"
        title += " against the other banks" + (" by travel time 按通行时间" if isinstance(radius_km, TravelTime) else "")
    else:
        title = ("Relocation curve 迁址曲线" if moves else "Coverage curve 覆盖率曲线") + f" within {_radius_words(radius_km)}"
        title += f"{full}, counted by distance 按距离折算" if full else ""
        if capacity_wan is not None:
            title += f", at most {capacity_wan:g}万 served per branch 每网点服务上限"
    table = Table(title=f"{title} — {source}")
    columns = ("won 吸引 万人", "share 份额 %") if won else \
        ("covered 折算覆盖 万人" if full else "covered 覆盖 万人", "share 覆盖率 %")
    for col in ("moves 迁址" if moves else "new 新增", *columns, "gain 增量 万人", "status 状态"):
        table.add_column(col, justify="right")
    for row in shown.itertuples(index=False):
        gain = "" if pd.isna(row[3]) else f"+{row[3]:,.1f}"
        planned = pd.notna(row[1])
        table.add_row(str(row[0]), f"{row[1]:,.1f}" if planned else "—", f"{row[2]:.1f}" if planned else "—", gain,
                      row[4])
    console.print(table)
    unplanned = int((shown["status 状态"] == NO_PLAN_YET).sum())
    if unplanned:
        console.print(f"[yellow]{unplanned} of the {len(shown)} points found no plan within the time limit "
                      f"(--time-limit): a longer one may find them[/]")


def _say_made_up(shown: pd.DataFrame, model, sites, existing: np.ndarray, won: bool = False) -> None:
    """After a curve with branches closed (--close): today's network's value (residents covered, or won from the
    other banks: the curve's model evaluates any plan, whatever its rules), and the fewest new branches that bring
    the plan back to it (or that none of the curve does)."""
    today = model.evaluate(sites["site_id"].iloc[existing]).objective / 1e4
    back = shown[shown.iloc[:, 1] >= today * (1 - 1e-9) - 1e-6]
    said = (f"{back.iloc[0, 0]} new branch(es) make up for the closed" if len(back) else
            f"the {shown.iloc[-1, 0]} new branches of the curve do not make up for the closed (a larger --up-to may)")
    measured = "won 吸引" if won else "covered 覆盖"
    console.print(f"Today's {len(existing)} branches 现有网点: {today:,.1f} 万人 {measured}; {said}")


def _close_crowded(result, built, sites, roads: dict):
    """The plan with its closures moved to branches whose customers have another open site nearer, at the same
    objective (planning.closures_near_others); its tables from model.evaluate, its status, bound and gap from
    the solve."""
    from dataclasses import replace

    from netopt.models._milp import relative_gap
    from netopt.planning import closures_near_others

    plan = closures_near_others(built, sites, result.selected, **roads)
    if set(plan) == set(result.selected):
        return result
    given = built.evaluate(plan)
    gap = 0.0 if result.status == "optimal" else relative_gap(given.objective, result.bound)
    return replace(given, status=result.status, bound=result.bound, gap=gap, seconds=result.seconds)


def _kept_open(sites, patterns: list[str]) -> np.ndarray:
    """Positions of today's branches that --keep-open names (by id, text of the name, or a list file)."""
    return _named_branches(sites, patterns, "--keep-open", "stay open 保留")


def _named_branches(sites, patterns: list[str], option: str, what: str) -> np.ndarray:
    """Positions of today's branches an option names (by id, or by text of the name; a list file, by each row's id
    or whole name), said on the console with what happens to them; a pattern or row naming none is refused."""
    existing = (sites["kind"] == "existing").to_numpy()
    named = np.zeros(len(sites), bool)
    for pattern in patterns:
        if _is_list_file(pattern):
            listed = _listed_branches(sites[existing], pattern, option)
            named |= listed.reindex(sites.index, fill_value=False).to_numpy(bool)
            continue
        these = existing & ((sites["site_id"] == pattern) | sites["name"].astype(str).str.contains(pattern, regex=False))
        if not these.any():
            raise InputError(f"{option} '{pattern}' names no branch of today's network (an id such as "
                             f"{sites.loc[existing, 'site_id'].iloc[0]}, or text of a name, or a list file such as "
                             f"撤并清单.xlsx)", file="command line")
        named |= these.to_numpy()
    shown = ", ".join(sites.loc[named, "name"].astype(str).head(3)) + (" …" if named.sum() > 3 else "")
    console.print(f"{option}: {int(named.sum())} of today's {int(existing.sum())} branches {what} ({shown})")
    return np.flatnonzero(named)


def _is_list_file(pattern: str) -> bool:
    """Whether an option's value names a table file (a list of branches) rather than a branch."""
    return pattern.lower().endswith(TABLE_SUFFIXES) and Path(pattern).is_file()


def _listed_branches(branches, path: str, option: str) -> pd.Series:
    """Which of today's `branches` (sites rows) a list file names, row by row by id or whole name; rows naming
    none are refused with their row numbers."""
    listed, table = read_branch_list(path)
    ids, names = branches["site_id"].astype(str), branches["name"].astype(str)
    found = listed["branch_id"].isin(set(ids)) | listed["name"].isin(set(names))
    if not found.all():
        column = table.header("branch_id" if listed["branch_id"].notna().any() else "name")
        raise InputError(table.problem(f"{option}: names no branch of today's network", column, ~found.to_numpy()))
    return ids.isin(set(listed["branch_id"].dropna())) | names.isin(set(listed["name"].dropna()))


def _closing(sites, patterns: list[str], rules: dict) -> dict:
    """The rules with the branches --close names closed 撤并 whatever the plan (closable and forbidden); one that
    --keep-open keeps is refused."""
    closed = _named_branches(sites, patterns, "--close", "close 撤并 whatever the plan")
    both = np.intersect1d(closed, rules.get("fixed", []))
    if len(both):
        raise InputError(f"--keep-open and --close both name {', '.join(sites['name'].iloc[both].astype(str))}: a "
                         "branch cannot both stay open and close", file="command line")
    closable = np.union1d(rules.get("closable", np.zeros(0, int)), closed)
    return dict(rules, closable=closable, forbidden=closed)


KEEP_COVERED_HINT = ("; --keep-covered: the towns covered today each need a branch within reach — allow more "
                     "branches or close fewer")


def _check_keep_covered(keep_covered: bool, closes: bool, closing_options: str) -> None:
    """--keep-covered refused, naming the `closing_options`, when no branch may close (it would change nothing):
    before the data are read."""
    if keep_covered and not closes:
        raise InputError(f"--keep-covered keeps towns covered when branches close: add {closing_options} (today's "
                         "branches all stay open, so no town can lose its branch)", file="command line")


def _covered_today(ds: Dataset, sites, limit: float | dict | TravelTime, roads: dict):
    """The must_reach rows of --keep-covered (planning.covered_towns_rows), said on the console."""
    from netopt.planning import covered_towns_rows

    rows, towns = covered_towns_rows(ds, sites, **_limit_keywords(limit), **roads)
    console.print(f"--keep-covered: the {len(towns)} towns within {_radius_words(limit)} of today's branches "
                  "keep a branch within it 不新增服务空白乡镇")
    return rows


def _check_relocation_replaces(closed: int, relocate: int, p: Optional[int]) -> None:
    """A relocation keeps as many branches as today (without --p): the branches --close closes take new sites of
    the --relocate moves, so more closed than moves is refused with what to ask."""
    if p is None and closed > relocate:
        raise InputError(f"--close closes {closed} branches and --relocate {relocate} opens at most {relocate} new "
                         f"one(s) in their place: a relocation keeps as many branches as today, so ask for --relocate "
                         f"{closed} or more, or give --p for fewer branches", file="command line")


def _relocation(model: str, relocate: int, rules: dict, existing: np.ndarray, max_new: Optional[int]) -> dict:
    """The rules of a relocation: today's branches may close, at most `relocate` new ones open."""
    if model not in P_MODELS:
        hint = (" (for cflp: --no-keep-existing with --budget-wan, --open-cost-wan and --closing-saving-wan)"
                if model == "cflp" else "")
        raise InputError(f"--relocate is for mclp, pmedian, pcenter and share{hint}", file="command line")
    if max_new is not None:
        raise InputError(f"--relocate {relocate} already opens at most {relocate} new branches; leave out --max-new",
                         file="command line")
    if len(existing) == 0:
        raise InputError("--relocate: there are no branches today to move (check --bank)", file="command line")
    return dict(rules, closable=existing, max_new=relocate)


def _county_rules(sites, county_min: Optional[int], county_max: Optional[int], within_county: bool,
                  relocate: Optional[int]) -> dict:
    """The county limits the options ask for: --county-min and --county-max in every county, and with
    --within-county at most today's branches in each county."""
    counties = [str(c) for c in sites["county"].dropna().unique()]
    rules = {}
    if county_min is not None:
        rules["county_min"] = {c: county_min for c in counties}
    if county_max is not None:
        rules["county_max"] = {c: county_max for c in counties}
    if within_county:
        today = sites.loc[sites["kind"] == "existing", "county"].astype(str).value_counts()
        quota = rules.get("county_max", {})
        rules["county_max"] = {c: min(int(today.get(c, 0)), quota.get(c, len(sites))) for c in counties}
    if rules:
        rules["county"] = sites["county"].astype(str).to_numpy()
    return rules


def _say_banks_matched(branches: "gpd.GeoDataFrame", bank: Optional[str]) -> None:
    """When --bank (part of a name) matches several banks of the data, which ones: they are planned as one."""
    from netopt.io import bank_mask

    if bank is None:
        return
    names = distinct_banks(branches.loc[bank_mask(branches, bank), "bank"].dropna())
    if len(names) > 1:
        console.print(f"[yellow]--bank {bank} matches {len(names)} banks, planned as one 视为同一银行: {', '.join(names)} "
                      f"(give more of the name to pick one)[/]")


def _check_p_within_sites(p: Optional[int], sites: int, today: int) -> None:
    """A --p more than the sites there are is refused in the analyst's words (the model's own: "p must be …")."""
    if p is not None and p > sites:
        raise InputError(f"--p {p}: more branches than there are sites, {sites} — today's {today} branches and "
                         f"{sites - today} candidate site(s) for new ones", file="command line")


def _whose(bank: Optional[str], today: int) -> str:
    """Today's branches a --p must leave room for, in words: the bank's, or every bank's."""
    return f"{bank}'s {today} branches" if bank else f"all {today} branches of every bank (--bank picks one bank)"


def _check_p_keeps_today(p: Optional[int], today: int, bank: Optional[str]) -> None:
    """--p counts every open branch, today's kept ones too: a p below today's count is refused with what to ask."""
    if p is None or p >= today:
        return
    ones = "one" if p == 1 else "ones"
    raise InputError(f"--p {p} counts every open branch, and today's branches stay open: {_whose(bank, today)}. Ask "
                     f"for --max-new "
                     f"{p} to open {p} new {ones} beside them, a --p of at least {today}, or add --no-keep-existing "
                     f"to let today's branches close", file="command line")


def _read_candidates_option(path: Optional[Path], folder: Optional[str], coords: str, ds: Dataset,
                            costs_unused: Optional[str], bank: Optional[str] = None):
    """The candidate sites of --candidates (of a KML's --candidates-folder), said on the console; None without it.
    Their opening costs, where given, are said to change nothing when `costs_unused` says why."""
    if path is None:
        if folder is not None:
            raise InputError("--candidates-folder picks the folder of a KML or KMZ file given as --candidates",
                             file="command line")
        return None
    own = _read_candidate_file(path, folder, coords, ds, bank)
    costed = int(own["open_cost_wan"].notna().sum())
    console.print(f"Candidate sites 候选点位: {len(own):,} from {path.name}{_folders_read(own)}, instead of the "
                  f"{len(ds.towns):,} town points" + (f" ({costed} with an opening cost)" if costed else ""))
    if costed and costs_unused:
        console.print(f"[yellow]The opening costs in {path.name} change nothing here: {costs_unused}[/]")
    return own


def _read_candidate_file(path: Path, folder: Optional[str], coords: str, ds: Dataset, bank: Optional[str],
                         say: bool = False) -> gpd.GeoDataFrame:
    """A file's candidate sites (io.read_candidates: a workbook's 候选点位 sheet, a KML's `folder`) but those that
    are today's branches (of `bank`: a plan's map read back), what it left out said on the console; with `say`, how
    many sites it gave and from which folders too."""
    from netopt.planning import SAME_BRANCH_M, todays_branches_among

    kml = input_suffix(path) in KML_INPUT_SUFFIXES
    if folder is not None and not kml:
        raise InputError(f"--candidates-folder picks a folder of a KML or KMZ file; {path.name} is not one",
                         file="command line")
    own = read_candidates(path, coords=coords, layer=folder if kml else kind_sheets(path).get("candidates"), city=ds)
    _say_left_out(own)
    todays = todays_branches_among(own, ds.branches if bank is None else ds.of_bank(bank).branches)
    if todays.all():
        raise InputError(f"every site is one of today's branches{_of_bank(bank)} (its id, within "
                         f"{SAME_BRANCH_M:.0f} m of it): no candidate for a new branch", file=str(path))
    if todays.any():
        console.print(f"[yellow]{path.name}: left out {int(todays.sum())} of today's branches{_of_bank(bank)} "
                      f"(their ids, within {SAME_BRANCH_M:.0f} m of them: a plan's kept or closed ones)[/]")
        own = own[~todays]
    if say:
        console.print(f"Candidate sites 候选点位: {len(own):,} from {path.name}{_folders_read(own)}")
    return own


def _of_bank(bank: Optional[str]) -> str:
    return f" of {bank}" if bank else ""


def _folders_read(own: gpd.GeoDataFrame) -> str:
    """" (folders 网点方案 sites 106, 覆盖变化乡镇 towns changed 5)": the places each outermost KML folder gave,
    where there are several; "" otherwise."""
    if "folder" not in own:
        return ""
    counts = own["folder"].astype(str).str.split(" / ").str[0].value_counts(sort=False)
    return "" if len(counts) < 2 else " (folders " + ", ".join(f"{name} {n}" for name, n in counts.items()) + ")"


def _opening_costs(sites, open_cost_wan: Optional[float]) -> np.ndarray:
    """万元 to open each site: a candidate's own cost (--candidates), else --open-cost-wan; refused when some new
    site has neither, or when every new site has its own (then --open-cost-wan would change nothing)."""
    new = (sites["kind"] == "new").to_numpy()
    own = sites["open_cost_wan"].to_numpy(float) if "open_cost_wan" in sites else np.full(len(sites), np.nan)
    if open_cost_wan is not None and new.any() and np.isfinite(own[new]).all():
        raise InputError("--open-cost-wan: every candidate site has its own opening cost (--candidates), so it "
                         "would change nothing; leave it out", file="command line")
    costs = np.where(np.isfinite(own), own, np.nan if open_cost_wan is None else open_cost_wan)
    missing = new & ~np.isfinite(costs)
    if missing.any() and "open_cost_wan" not in sites:
        raise InputError("--budget-wan needs --open-cost-wan (the cost of one new branch, 万元)", file="command line")
    if missing.any():
        without = "every new site" if missing.sum() == new.sum() else f"{missing.sum()} candidate sites"
        raise InputError(f"--budget-wan needs the cost of opening {without}: give --open-cost-wan (万元 per new "
                         "branch) or an opening cost 开设成本（万元） for each candidate", file="command line")
    return np.where(new, costs, 0.0)


def _site_rules(sites, existing: np.ndarray, keep_existing: bool, max_new: Optional[int],
                budget_wan: Optional[float], open_cost_wan: Optional[float], closing_saving_wan: float,
                closes: bool) -> dict:
    """The model rules the options ask for: existing branches kept or closable, new-branch limit, budget. Cost
    options that would change nothing (no budget to count against; savings where no branch may close) are refused."""
    rules = {"existing": existing} if keep_existing else {"existing": existing, "closable": existing}
    if budget_wan is None and (open_cost_wan is not None or closing_saving_wan > 0):
        raise InputError("--open-cost-wan and --closing-saving-wan count against a budget: give --budget-wan too "
                         "(without a budget they would change nothing)", file="command line")
    if closing_saving_wan > 0 and not closes:
        raise InputError("--closing-saving-wan is for plans that may close branches: add --no-keep-existing or "
                         "--relocate N", file="command line")
    if max_new is not None:
        rules["max_new"] = max_new
    if budget_wan is not None:
        rules.update(budget=budget_wan, open_cost=_opening_costs(sites, open_cost_wan),
                     closing_saving=np.full(len(sites), closing_saving_wan), cost_unit="万元")
    return rules


def _say_fewer_than_p(selected: list, p: Optional[int], rules: dict, sites) -> None:
    """When a plan opens fewer branches than p allows, why: the budget left buys no other site, or more would add
    nothing (or break another rule)."""
    if p is None or len(selected) >= p:
        return
    why = "more would add nothing, or break another rule"
    chosen = sites["site_id"].isin(selected).to_numpy()
    if "too_close" in rules and not _spaced_out_sites(rules["too_close"], chosen, sites).any():
        why = "every other site lies within the minimum spacing (--min-spacing-km) of a branch the plan keeps or opens"
    if "budget" in rules:
        closed_saving = rules["closing_saving"][(sites["kind"] == "existing").to_numpy() & ~chosen].sum()
        left = rules["budget"] - rules["open_cost"][chosen].sum() + closed_saving
        cheapest = rules["open_cost"][(sites["kind"] == "new").to_numpy() & ~chosen].min(initial=np.inf)
        if left < cheapest:
            why = f"the {left:,.0f}万元 of the budget left buys no other site (the cheapest costs {cheapest:,.0f}万元)"
    console.print(f"[yellow]{len(selected)} branches open, fewer than the {p} allowed: {why}[/]")


def _spacing_rule(sites, min_spacing_km: Optional[float]) -> dict:
    """The too_close rule of --min-spacing-km (pairs of candidate sites closer than it), said on the console."""
    if min_spacing_km is None:
        return {}
    from netopt.distance import spacing_pairs

    pairs = spacing_pairs(sites, min_spacing_km)
    today = (sites["kind"] == "existing").to_numpy()
    ruled = int((~today[pairs].all(axis=1)).sum())
    console.print(f"Minimum spacing 网点间距 {min_spacing_km:g} km: {ruled} pairs of candidate sites closer than that "
                  f"may not both be open (today's branches may stay closer to each other)")
    return {"too_close": pairs}


def _spaced_out_sites(too_close: np.ndarray, chosen: np.ndarray, sites) -> np.ndarray:
    """Which new sites the plan leaves closed that no open site is too close to (a pair of the spacing rule)."""
    near_open = np.zeros(len(chosen), bool)
    near_open[too_close[chosen[too_close[:, 0]], 1]] = True
    near_open[too_close[chosen[too_close[:, 1]], 0]] = True
    return (sites["kind"] == "new").to_numpy() & ~chosen & ~near_open


def _roads(network: Optional[Path], coords: Optional[str], split: bool) -> dict:
    """The distance options of the models and the coverage comparison: by road when a network file is given (a
    layer of road lines in `coords`, --network-coords, joined where they cross with `split`, --network-split)."""
    if network is None:
        if coords is not None or split:
            raise InputError("--network-coords and --network-split describe a --network layer of road lines: give "
                             "--network too", file="command line")
        return {}
    from netopt.distance import load_road_network

    return {"distance": "network", "graph": load_road_network(network, coords=coords or "wgs84",
                                                              split_at_crossings=split)}


@dataclass(frozen=True)
class ModelOptions:
    """The options of `netopt optimize` that only some models use."""
    capacity_wan: Optional[float] = None  # cflp
    cover_pct: Optional[float] = None  # lscp
    target_share_pct: Optional[float] = None  # share
    beta: Optional[float] = None  # share (default 2)
    min_km: Optional[float] = None  # share (default 1 km)
    bank: Optional[str] = None  # share: the other banks are the competitors
    max_km: Optional[float] = None  # cflp: the longest distance a town may be served over
    full_km: float | dict | None = None  # mclp: gradual coverage, wholly covered within this many km (per region)
    full_minutes: float | dict | None = None  # … or within this many minutes (with --minutes)


def _percentage(value: Optional[float], flag: str) -> Optional[float]:
    """A --...-pct option as a fraction, or an InputError in the user's terms."""
    if value is None:
        return None
    if not 1 <= value <= 100:
        hint = f" (did you mean {100 * value:g}?)" if 0 < value < 1 else ""
        raise InputError(f"{flag} is a percentage from 1 to 100, e.g. 90 for 90 %; got {value:g}{hint}",
                         file="command line")
    return value / 100


def _build_model(model: str, ds: Dataset, sites, p: Optional[int], limit: float | dict | TravelTime, rules: dict,
                 options: ModelOptions = ModelOptions(), roads: dict | None = None, demand=None,
                 at_most: bool = False):
    """_model_for, whose explanations name the towns as the analyst knows them: 大杨镇 (庐阳区), not 340103100000."""
    built = _model_for(model, ds, sites, p, limit, rules, options, roads, demand, at_most)
    towns = ds.towns if demand is None else demand
    if "name" in towns and len(towns) == len(built.demand_labels):
        built.demand_names = (towns["name"].astype(str) + " (" + towns["county"].astype(str) + ")").tolist()
    return built


def _model_for(model: str, ds: Dataset, sites, p: Optional[int], limit: float | dict | TravelTime, rules: dict,
               options: ModelOptions, roads: dict | None, demand, at_most: bool):
    """The model `model` of the demand points (towns unless `demand`, see _model_demand) and the sites; its
    options were checked by _check_model_options before the demand was made. With `at_most`, p is the most
    sites open (pcenter and share always take it so): a budget may pay for fewer, better ones. A radius per region
    type (--core-km, --county-km) is each demand point's own (coverage.demand_radius_km); a TravelTime (--minutes)
    is the travel time of mclp and lscp, and makes pmedian and pcenter measure travel in minutes."""
    from netopt.coverage import demand_limits, demand_modes, demand_radius_km, speeds_per_point
    from netopt.models import CFLP, LSCP, MCLP, CapacitatedMCLP, PCenter, PMedian

    towns, rules = ds.towns if demand is None else demand, dict(rules, **(roads or {}))
    if isinstance(limit, dict):
        limit = demand_radius_km(ds, limit, towns)
    if isinstance(limit, TravelTime):  # each town's (or cell's) own, where given per region type
        limit = TravelTime(demand_limits(ds, limit.minutes, towns, unit="min"), demand_modes(ds, limit.mode, towns),
                           speeds_per_point(ds, limit.speeds, towns))
    capacity_wan = options.capacity_wan
    timed = {"unit": "min", "mode": limit.mode, **limit.speeds} if isinstance(limit, TravelTime) else {}
    if model == "cflp":
        built = CFLP.from_geodataframes(towns, sites.assign(capacity=capacity_wan * 1e4), "population",
                                        capacity="capacity", max_km=options.max_km, **timed, **rules)
        _check_cflp_size(built.cost, options.max_km)
        return built
    keywords = _limit_keywords(limit)
    if model == "lscp":
        return LSCP.from_geodataframes(towns, sites, cover_share=_percentage(options.cover_pct, "--cover-pct"),
                                       **keywords, **rules)
    if model == "share":
        return _market_share(ds, sites, p, _percentage(options.target_share_pct, "--target-share-pct"), options,
                             {**rules, **timed}, towns)
    if model == "mclp" and capacity_wan is not None:
        return CapacitatedMCLP.from_geodataframes(towns, sites, p=p, capacity=capacity_wan * 1e4,
                                                  exactly_p=not at_most, **keywords, **rules)
    if model == "mclp":
        full = _full_per_point(ds, options, keywords, towns)
        return MCLP.from_geodataframes(towns, sites, p=p, exactly_p=not at_most, **keywords, **full, **rules)
    if model == "pmedian":
        return PMedian.from_geodataframes(towns, sites, p, exactly_p=not at_most, **timed, **rules)
    return PCenter.from_geodataframes(towns, sites, p, exactly_p=not at_most, **timed, **rules)


def _check_model_flags(model: str, options: ModelOptions) -> None:
    """Options the model does not take, or lacks whatever the data, refused before the data are read."""
    for value, flag, owner, purpose in ((options.cover_pct, "--cover-pct", "lscp", "covering that % of residents"),
                                        (options.target_share_pct, "--target-share-pct", "share",
                                         "winning that % of residents")):
        if value is not None and model != owner:
            raise InputError(f"{flag} is for --model {owner} (the fewest branches {purpose})", file="command line")
    for value, flag in ((options.beta, "--beta"), (options.min_km, "--min-km")):
        if value is not None and model != "share":
            raise InputError(f"{flag} is for --model share (the Huff model of market shares)", file="command line")
    if options.max_km is not None and model != "cflp":
        raise InputError("--max-km is for --model cflp (no town served by a branch farther than that)",
                         file="command line")
    for value, flag in ((options.full_km, "--full-km"), (options.full_minutes, "--full-minutes")):
        if value is not None and (model != "mclp" or options.capacity_wan is not None):
            raise InputError(f"{flag} is for --model mclp without --capacity-wan (residents covered, each town counted "
                             "by how near its branch is)", file="command line")
    _percentage(options.cover_pct, "--cover-pct")
    _percentage(options.target_share_pct, "--target-share-pct")
    capacity_wan = options.capacity_wan
    if capacity_wan is not None and model not in ("cflp", "mclp"):
        raise InputError("--capacity-wan is for --model cflp (the least travel within branch capacities) and mclp "
                         "(the most residents covered, no branch serving more than that)", file="command line")
    if model == "cflp" and capacity_wan is None:
        raise InputError("--capacity-wan (residents one branch can serve, 万人) is needed for cflp",
                         file="command line")
    if model == "share" and options.bank is None:
        raise InputError("--model share needs --bank: our bank's branches are the existing sites, the other banks' "
                         "the competitors", file="command line")


def _check_p_given(model: str, p: Optional[int], relocate: Optional[int], keep_existing: bool,
                   max_new: Optional[int], close: list) -> None:
    """A model of p branches without --p, where no other option says how many (--relocate: today's; --max-new or
    --close with today's kept: today's and the new, or less the closed), refused before the data are read."""
    said = relocate is not None or (keep_existing and (max_new is not None or bool(close)))
    if p is not None or said or model not in ("mclp", "pmedian", "pcenter"):
        return
    why = (": today's branches may close (--no-keep-existing), so --max-new alone does not say how many branches "
           "the plan has" if max_new is not None else "")
    raise InputError(f"--p (the number of branches) is needed for {model}{why}", file="command line")


def _check_model_options(model: str, p: Optional[int], rules: dict, options: ModelOptions) -> None:
    """With the number of branches and the site rules known: what the model lacks, refused before anything is
    built (a fine grid takes minutes)."""
    _check_p_applies(model, p)
    if model == "cflp" and "budget" not in rules and "max_new" not in rules:
        raise InputError("cflp needs --budget-wan with --open-cost-wan, or --max-new: otherwise every town "
                         "would get its own branch", file="command line")
    if model == "share" and (p is None) == (options.target_share_pct is None):
        raise InputError("--model share needs --p (most residents won with p branches) or --target-share-pct "
                         "(the fewest branches winning that % of residents), not both", file="command line")


def _check_cflp_size(km: np.ndarray, max_km: Optional[float]) -> None:
    """A cflp of more town-site pairs (within --max-km) than capacitated.PAIRS_LIMIT is refused before solving,
    suggesting the largest --max-km of MAX_KM_STEPS (below the one given) that keeps it within the limit and still
    gives every town a site."""
    limit, pairs = capacitated.PAIRS_LIMIT, int(np.isfinite(km).sum())
    if pairs <= limit:
        return
    farthest_nearest = float(km.min(axis=1).max())  # every town has a site within a step at least this long
    steps = [step for step in MAX_KM_STEPS if farthest_nearest <= step < (max_km or np.inf)]
    fits = [(step, count) for step, count in ((step, int((km <= step).sum())) for step in steps) if count <= limit]
    hint = (f"e.g. --max-km {fits[-1][0]} ({fits[-1][1]:,} pairs; every town has a site within it)" if fits
            else "e.g. --max-km 30")
    within = f" within --max-km {max_km:g}" if max_km else ""
    raise InputError(f"cflp over {km.shape[0]:,} towns x {km.shape[1]:,} sites is {pairs:,} assignment pairs{within}, "
                     f"too many to solve exactly on one machine (more than {limit:,}): give the longest "
                     f"distance a town may be served over, {hint}", file="command line")


def _check_p_applies(model: str, p: Optional[int]) -> None:
    """lscp and cflp choose how many branches themselves: a --p there would be ignored, so it is refused."""
    if p is None or model not in ("lscp", "cflp"):
        return
    chooses = ("the fewest branches reaching every town within --radius-km (or --cover-pct of residents); for the "
               "most residents that p branches reach use --model mclp --p" if model == "lscp" else
               "as many branches as the least travel within their capacities needs, under --budget-wan or --max-new")
    raise InputError(f"--p is not for {model}: it opens {chooses}; to cap the new branches use --max-new",
                     file="command line")


def _market_share(ds: Dataset, sites, p: Optional[int], target_share: Optional[float], options: ModelOptions,
                  rules: dict, demand):
    """The market-share model of our bank's sites against the other banks' branches, for the demand points
    (towns or cells)."""
    from netopt.io import bank_mask
    from netopt.models import MarketShare

    rivals = ds.branches[~bank_mask(ds.branches, options.bank)]
    huff = {name: value for name, value in (("beta", options.beta), ("min_km", options.min_km)) if value is not None}
    return MarketShare.from_geodataframes(demand, sites, rivals, p=p, target_share=target_share, **huff, **rules)


AREAS_SHEET = "service areas changed 服务范围变化"  # a plan workbook's sheet of planning.branches_changed
TAKERS_SHEET = "closure takers 客户承接"  # a plan workbook's sheet of planning.closure_takers


class BeforeAfter(NamedTuple):
    """A plan's network measured beside today's: its coverage, the comparison by region, the towns whose coverage
    changes (planning.towns_changed), the branches whose service areas change (planning.branches_changed) and
    where each closed branch's residents go (planning.closure_takers)."""

    plan: Coverage
    regions: pd.DataFrame
    towns: pd.DataFrame
    areas: pd.DataFrame
    takers: pd.DataFrame


def _before_after(ds: Dataset, sites, selected: list, limit: float | dict | TravelTime, roads: dict | None = None,
                  cells=None) -> BeforeAfter:
    """Prints coverage within the radius by region type (of the towns, or of the population grid `cells`),
    today's (the bank's) branches vs the plan's, the towns losing or gaining coverage and where each closed
    branch's residents go; returns them (BeforeAfter)."""
    from netopt.coverage import TOWN_POINTS_NOTE
    from netopt.planning import branches_changed, closure_takers, compare_coverage, sites_as_branches, towns_changed

    today, plan = (analyze_coverage(Dataset(ds.counties, ds.towns, sites_as_branches(sites, chosen)),
                                    demand=cells, **_limit_keywords(limit), **(roads or {}))
                   for chosen in (sites.loc[sites["kind"] == "existing", "site_id"].tolist(), selected))
    table = compare_coverage(today, plan)
    changes = ", ".join(f"{row.region_type} {row.coverage_rate_pct_before:.1f}% → {row.coverage_rate_pct_after:.1f}%"
                        for row in table.itertuples() if np.isfinite(row.coverage_rate_pct_before))  # residents
    by = (" by road" if roads else "") + (" on the population grid" if cells is not None else "")
    console.print(f"Coverage within {_radius_words(limit)}{by}, today → plan 覆盖率变化: {changes}")
    for note in (note for note in today.notes if note.startswith(TOWN_POINTS_NOTE)):  # the plan's model's too
        console.print(f"[dim]{note}[/]")
    changed, takers = towns_changed(today, plan), closure_takers(ds, today, plan)
    _say_towns_changed(changed)
    _say_takers(takers)
    return BeforeAfter(plan, table.round(3), changed.round(4), branches_changed(today, plan).round(4), takers.round(4))


def _say_takers(takers: pd.DataFrame, shown: int = 5, prefix: str = "") -> None:
    """Where each closed branch's residents go 客户承接 (planning.closure_takers; the first few closed branches,
    each's first three takers), after `prefix` (a plan's name)."""
    closed = list(dict.fromkeys(takers["closed_id"]))
    for closed_id in closed[:shown]:
        mine = takers[takers["closed_id"] == closed_id]
        listed = ", ".join(f"{row.taker_name} {row.residents_wan:,.2f}万 ({row.distance_km:,.1f} km)"
                           for row in mine.head(3).itertuples())
        console.print(f"{prefix}客户承接 {mine['closed_name'].iloc[0]}'s service area, "
                      f"{mine['residents_wan'].sum():,.2f}万 residents, goes to {listed}{' …' if len(mine) > 3 else ''}")
    if len(closed) > shown:
        console.print(f"{prefix}… and {len(closed) - shown} more closed branches (the takers table has each)")


def _model_radius(ctx: typer.Context, radius_km: float, core_km: Optional[float], county_km: Optional[float],
                  fringe_km: Optional[float]) -> float | dict:
    """A model's radius: --radius-km for every town, or with --core-km / --county-km / --fringe-km one per region
    type (the diagnosis's 1.2 / 3.5 km where one is not given); both kinds at once are refused."""
    if all(km is None for km in (core_km, county_km, fringe_km)):
        return radius_km
    given = bool(_on_command_line(ctx, ["radius_km"]))  # not only its default
    return _radius(radius_km if given else None, core_km, county_km, fringe_km)


def _on_command_line(ctx: typer.Context, names) -> list[str]:
    """Those of the parameters `names` given on the command line, not left at their defaults (typer may carry its
    own copy of click: its ParameterSource, by name)."""
    return [name for name in names if getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"]


@dataclass(frozen=True)
class TravelTime:
    """--minutes with --mode and the speeds: a model's travel-time limit instead of a radius in km, one or one per
    region type."""
    minutes: float | dict[str, float]
    mode: str | dict[str, str] = "drive"
    speeds: dict = field(default_factory=dict)  # _speeds_given: those given on the command line


# the models --minutes applies to, by command (mclp, lscp: residents within it; pmedian, pcenter, cflp: travel in
# minutes)
TIMED_MODELS = {"optimize": ("mclp", "lscp", "pmedian", "pcenter", "cflp", "share"), "curve": ("mclp", "share")}


def _full_radius(options: ModelOptions) -> tuple:
    """Gradual coverage's full radius as given (a number, one per region type, or None), its option and unit:
    --full-km's in km, else --full-minutes'."""
    if options.full_km is not None:
        return options.full_km, "--full-km", "km"
    return options.full_minutes, "--full-minutes", "min"


def _full_words(options: ModelOptions) -> str:
    """Gradual coverage as said beside the radius: ", wholly covered within 1.2 km" (or minutes, or one per region
    type: "core 0.5 km, county 1.5 km"), or ""."""
    full, _, unit = _full_radius(options)
    return full_words(full, unit)


def _check_full(options: ModelOptions, limit: float | dict | TravelTime) -> None:
    """--full-km with a radius in km, --full-minutes with --minutes, each at most the radius or travel time: one
    number at most the smallest (of any region type), a region type's at most its own."""
    timed = isinstance(limit, TravelTime)
    if (options.full_km if timed else options.full_minutes) is not None:
        raise InputError("--full-km goes with a radius in km; with --minutes give --full-minutes" if timed else
                         "--full-minutes goes with --minutes (a travel time); with a radius in km give --full-km",
                         file="command line")
    from netopt.coverage import full_beyond_limit

    full, flag, unit = _full_radius(options)
    limits = limit.minutes if timed else limit
    beyond = None if full is None else full_beyond_limit(full, limits)
    if beyond is not None:
        kind, value, radius = beyond
        given = f"{flag} {value:g}" if kind is None else f"{flag} {kind}={value:g}"
        each = f" ({_radius_words(limit)})" if isinstance(limits, dict) else ""
        what = "travel time" if timed else "radius"
        raise InputError(f"{given} is beyond the {what} {radius:g} {unit}{each}: a town is wholly covered within "
                         f"{flag} and not at all past the {what}", file="command line")


def _full_per_point(ds: Dataset, options: ModelOptions, keywords: dict, towns) -> dict:
    """The model's full_km or full_min keyword, one number or one per demand point (a region type's full radius
    for its towns, as the radius is taken); {} without gradual coverage. A town whose full radius is beyond its
    own radius (a fringe town taking its county's type) is refused, named."""
    from netopt.coverage import demand_limits, refuse_full_beyond

    full, flag, unit = _full_radius(options)
    if full is None:
        return {}
    per_point = demand_limits(ds, full, towns, unit)
    refuse_full_beyond(towns, per_point, keywords["radius_km" if unit == "km" else "radius_min"], flag, unit,
                       "command line")
    return {"full_km" if unit == "km" else "full_min": per_point}


def _model_limit(ctx: typer.Context, model: str, radii: tuple, minutes: Optional[str],
                 mode: str) -> float | dict | TravelTime:
    """_model_radius, or with --minutes the travel time (--mode drive or walk) of the models that take it;
    --minutes beside a radius, for another model, or --mode without it, refused before the data are read."""
    timed = _travel_time(ctx, minutes, mode)
    if timed is None:
        return _model_radius(ctx, *radii)
    models = TIMED_MODELS[ctx.info_name or "optimize"]
    if model not in models:
        raise InputError(f"--minutes is for --model {', '.join(models[:-1])}{' or ' if len(models) > 1 else ''}"
                         f"{models[-1]} (travel measured in minutes); {model} measures km", file="command line")
    if model == "share" and ctx.params.get("min_km") is not None:
        from netopt.models.market import MIN_MINUTES

        raise InputError(f"--min-km measures km; with --minutes the Huff pull decays with travel minutes and a branch "
                         f"nearer a town than {MIN_MINUTES:g} minutes counts as that far", file="command line")
    return timed


RADIUS_OPTIONS = ("radius_km", "core_km", "county_km", "fringe_km")  # the options of a radius in km


def _travel_time(ctx: typer.Context, minutes: Optional[str], mode: str) -> TravelTime | None:
    """--minutes, --mode and the speeds (the command's --speed-kmh, --walk-speed-kmh, --detour-factor) as a
    TravelTime (None without --minutes; see _minutes_given); --mode other than drive or a speed without --minutes,
    and --minutes beside a radius option given on the command line (RADIUS_OPTIONS), refused."""
    speeds = _speeds_given(ctx.params)
    if minutes is None:
        if _mode_given(mode) != "drive":
            raise InputError("--mode is for --minutes (a travel-time limit)", file="command line")
        if speeds:
            flags = " and ".join(SPEED_FLAGS[name] for name in speeds)
            raise InputError(f"{flags} {'are' if len(speeds) > 1 else 'is'} for --minutes (travel times; a radius in "
                             "km is measured without them)", file="command line")
        return None
    radii_given = _on_command_line(ctx, RADIUS_OPTIONS)
    if radii_given:
        flags = ", ".join(f"--{name.replace('_', '-')}" for name in radii_given)
        raise InputError(f"give --minutes (a travel time) or a radius in km ({flags}), not both", file="command line")
    return TravelTime(_minutes_given(minutes), _mode_given(mode), speeds)


def _limit_keywords(limit: float | dict | TravelTime) -> dict:
    """The keywords of a limit for analyze_coverage, the covering models and planning's reach: radius_km, or
    radius_min, mode and the speeds given."""
    if isinstance(limit, TravelTime):
        return {"radius_min": limit.minutes, "mode": limit.mode, **limit.speeds}
    return {"radius_km": limit}


def _radius_words(limit: float | dict | TravelTime) -> str:
    """A radius as said to the user (and on charts without a Chinese font): "3.5 km", or one per region type,
    "core 1.2 km, county 3.5 km"; a travel time "15 min drive" or "15 min walk"."""
    if isinstance(limit, TravelTime):
        return _travel_time_words(limit)
    if isinstance(limit, dict):
        return ", ".join(f"{kind} {km:g} km" for kind, km in limit.items())
    return f"{limit:g} km"


def _travel_time_words(limit: TravelTime) -> str:
    """A travel time as said: "15 min drive", "core 15 min, county 30 min drive", or with a mode (or a driving
    speed) per region type "core 15 min walk, county 30 min drive"; a speed given other than the default after its
    mode, "15 min drive at 25 km/h", "core 15 min walk at 4 km/h, county 30 min drive at 40 km/h"."""
    speed = limit.speeds.get("speed_kmh")
    if not isinstance(limit.mode, dict) and not isinstance(speed, dict):
        minutes = limit.minutes if isinstance(limit.minutes, dict) else {"all": limit.minutes}
        return ", ".join(f"{'' if kind == 'all' else kind + ' '}{value:g} min" for kind, value in minutes.items()) \
            + f" {limit.mode}{_speed_words(limit.mode, speed, limit.speeds)}"
    given = [value for value in (limit.minutes, limit.mode, speed) if isinstance(value, dict)]
    kinds = list(dict.fromkeys(kind for value in given for kind in value))
    minutes, modes, speeds = ({kind: value for kind in kinds} if not isinstance(value, dict) else value
                              for value in (limit.minutes, limit.mode, speed))
    return ", ".join(" ".join([kind] + ([f"{minutes[kind]:g} min"] if kind in minutes else [])
                              + ([modes[kind]] if kind in modes else []))
                     + _speed_words(modes.get(kind, "drive"), speeds.get(kind), limit.speeds) for kind in kinds)


def _speed_words(mode: str, speed_kmh: Optional[float], speeds: dict) -> str:
    """coverage.speed_words of a mode at its speed given (`speed_kmh` driving, speeds' walk_speed_kmh walking)."""
    from netopt.coverage import speed_words
    from netopt.distance import TravelSettings

    return speed_words(TravelSettings(mode=mode, speed_kmh=speed_kmh or 30.0,
                                      walk_speed_kmh=speeds.get("walk_speed_kmh", 4.5)))


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    """The table as a UTF-8 CSV with a byte-order mark (Excel then reads its Chinese), written atomically."""
    return write_atomic(path, lambda f: table.to_csv(f, index=False, encoding="utf-8-sig"))


def _say_towns_changed(changed: pd.DataFrame, shown: int = 5) -> None:
    """The towns losing coverage, then those gaining it: how many, and the first few with the 万人 they change."""
    from netopt.planning import HALF_RESIDENT_WAN

    for losing, words in ((True, "losing coverage 失去覆盖"), (False, "gaining coverage 新增覆盖")):
        towns = changed[(changed["change_wan"] < 0) == losing]
        if len(towns):
            listed = ", ".join(f"{row.name} ({row.county}) {row.change_wan:+,.2f}万"
                               for row in towns.head(shown).itertuples())
            console.print(f"Towns {words} ({len(towns)}): {listed}{' …' if len(towns) > shown else ''}")
    emptied = changed[(changed["covered_wan_before"] > 0) & (changed["covered_wan_after"] <= HALF_RESIDENT_WAN)]
    if len(emptied):  # what closures may not add: a town whose residents all lose their branch within reach
        console.print(f"[yellow]Of them, {len(emptied)} left with no resident within reach 新增服务空白乡镇: "
                      f"{', '.join(emptied['name'].astype(str).head(shown))}{' …' if len(emptied) > shown else ''}"
                      " (--keep-covered keeps every town covered today covered)[/]")


def _plan_maps(ds: Dataset, sites, selected: list, moves: pd.DataFrame, coverage: Coverage, title: str,
               bank: Optional[str], stem: Path, town_shares: pd.DataFrame | None = None,
               types: pd.DataFrame | None = None, town_changes: pd.DataFrame | None = None,
               takers: pd.DataFrame | None = None) -> None:
    """The plan on an offline HTML map (other banks in grey with --bank; towns shaded by our market share
    with `town_shares`, else by coverage, those losing coverage in `town_changes` ringed; branches coloured by
    `types`, branch_id and type; a line from each closed branch to each taking on its residents, `takers`) and a
    PNG for slides."""
    from netopt.maps import network_map, static_map

    fmap = network_map(ds, coverage=coverage, plan=types, sites=sites, selected=selected, moves=moves,
                       our_bank=bank, title=f"netopt {title}", town_shares=town_shares, town_changes=town_changes,
                       takers=takers)
    written = [write_atomic(stem.with_suffix(".html"), lambda p: fmap.save(str(p))),
               static_map(Dataset(ds.counties, ds.towns, coverage.branches), stem.with_suffix(".png"),
                          coverage=coverage, plan=types, title=title, sites=sites, selected=selected, moves=moves,
                          town_shares=town_shares, town_changes=town_changes, takers=takers)]
    console.print(f"Wrote {', '.join(str(w) for w in written)}")


class Worth(NamedTuple):
    """What a branch is worth to a plan in the user's units: for an open one, the plan's value with it beside
    the value without it; for one of today's branches the plan closes, what keeping it would add — what closing
    it costs."""

    column: str  # an open site's, in the sites and moves tables
    unit: float  # divisor from the model's units
    header: str  # its console column
    closing_column: str  # a closed branch's, in the moves table
    closing_header: str


WORTH = {"mclp": Worth("adds_covered_wan", 1e4, "adds 万人", "closing_uncovers_wan", "loses 万人"),
         "lscp": Worth("adds_covered_wan", 1e4, "adds 万人", "closing_uncovers_wan", "loses 万人"),
         "share": Worth("adds_won_wan", 1e4, "wins 万人", "closing_loses_won_wan", "loses 万人"),
         "pmedian": Worth("saves_travel_wan_km", 1e4, "saves 万人·km", "closing_adds_travel_wan_km",
                          "costs 万人·km"),
         "pcenter": Worth("shortens_farthest_km", 1.0, "shortens km", "closing_lengthens_farthest_km",
                          "costs km")}
WORTH_IN_MINUTES = {"pmedian": Worth("saves_travel_wan_min", 1e4, "saves 万人·分钟", "closing_adds_travel_wan_min",
                                     "costs 万人·分钟"),
                    "pcenter": Worth("shortens_farthest_min", 1.0, "shortens min", "closing_lengthens_farthest_min",
                                     "costs min")}


def _in_users_units(by_model: dict, in_minutes: dict, model: str, timed: bool):
    """A model's entry of a table in the user's units (by_model), or of its twin in minutes (in_minutes) for a
    travel-time p-median or p-center (`timed`, --minutes)."""
    return in_minutes[model] if timed and model in in_minutes else by_model[model]


def _worth_of_sites(built, result, sites: gpd.GeoDataFrame, model: str, candidates: bool = False, timed: bool = False
                    ) -> tuple[Optional[pd.Series], Optional[pd.Series], Optional[pd.Series]]:
    """What each open site adds to the plan (the model's worth_of_each, in one pass): residents covered or won
    only with it (万人), the travel it saves (万人·km; 万人·分钟 `timed`), how much nearer it brings the farthest
    point (km; minutes); what closing each of today's branches the plan closes costs (what keeping it besides
    would add); and, with
    `candidates`, what each new site adds or would add opened besides the plan. Each indexed by site_id, named by
    its column (WORTH); None for models that do not score plans (and the last without `candidates`)."""
    if model not in WORTH or not result.selected:
        return None, None, None
    worth = _in_users_units(WORTH, WORTH_IN_MINUTES, model, timed)
    closed = sites.loc[(sites["kind"] == "existing") & ~sites["site_id"].isin(result.selected), "site_id"].tolist()
    new = sites.loc[sites["kind"] == "new", "site_id"].tolist() if candidates else []
    priced = list(dict.fromkeys([*result.selected, *closed, *new]))
    value = (built.worth_of_each(result.selected, among=priced) / worth.unit).round(3).rename(worth.column)
    return (value.loc[result.selected], value.loc[closed].rename(worth.closing_column),
            value.loc[new] if candidates else None)


CANDIDATES_SHOWN = 5


def _candidates_table(value: pd.Series, result, sites: gpd.GeoDataFrame, model: str, out: Path,
                      timed: bool = False, coords: str = "wgs84") -> pd.DataFrame:
    """--candidates: each candidate site with what it adds to the plan (opened) or would add opened besides it
    (left closed; `value`, by site_id), most first, and its lon/lat in `coords` (the inputs' system: it reads
    back as candidates for the next round); written as <model>_candidates.csv; the best of those left closed
    printed."""
    worth = _in_users_units(WORTH, WORTH_IN_MINUTES, model, timed)
    new = sites[sites["kind"] == "new"]
    table = points_table(new[["site_id", "name", "county", "open_cost_wan", "geometry"]].assign(
        opened=new["site_id"].isin(result.selected).to_numpy(), **{worth.column: value.loc[new["site_id"]].to_numpy()}),
        coords).sort_values(worth.column, ascending=False, kind="stable")
    path = _write_csv(table, out / f"{model}_candidates.csv")
    closed = table[~table["opened"]].head(CANDIDATES_SHOWN)
    if len(closed):
        said = ", ".join(f"{row.name} {getattr(row, worth.column):,.2f}" for row in closed.itertuples())
        console.print(f"Candidates left closed 未选候选点 — what each would add opened besides the plan "
                      f"({worth.header}): {said}")
    console.print(f"Wrote {path}")
    return table.reset_index(drop=True)


WORTH_NOTE = {"adds_covered_wan": "adds {:,.2f}万 residents covered 新增覆盖",
              "adds_won_wan": "wins {:,.2f}万 residents 新增客户",
              "saves_travel_wan_km": "saves {:,.2f}万人·km of travel 减少出行",
              "shortens_farthest_km": "brings the farthest town {:,.2f} km nearer 缩短最远距离",
              "saves_travel_wan_min": "saves {:,.2f}万人·分钟 of travel time 减少出行时间",
              "shortens_farthest_min": "brings the longest travel time {:,.2f} min down 缩短最长通行时间",
              "closing_uncovers_wan": "closing it leaves {:,.2f}万 residents uncovered 撤并后失去覆盖",
              "closing_loses_won_wan": "closing it loses {:,.2f}万 residents won 撤并后流失客户",
              "closing_adds_travel_wan_km": "closing it adds {:,.2f}万人·km of travel 撤并后增加出行",
              "closing_lengthens_farthest_km": "closing it puts the farthest town {:,.2f} km farther 撤并后最远距离增加",
              "closing_adds_travel_wan_min": "closing it adds {:,.2f}万人·分钟 of travel time 撤并后增加出行时间",
              "closing_lengthens_farthest_min": "closing it makes the longest travel time {:,.2f} min longer "
                                                "撤并后最长通行时间增加"}


def _check_phases(phase: list[int], model: str, relocate: Optional[int], keep_existing: bool,
                  target_share_pct: Optional[float]) -> None:
    """--phase refused where it cannot apply, before anything is built: models without p, plans that move or may
    close branches."""
    if not phase:
        return
    if model not in P_MODELS or target_share_pct is not None:
        raise InputError(f"--phase is for --model {', '.join(P_MODELS)} with a number of branches (--p or "
                         "--max-new)", file="command line")
    if relocate is not None or not keep_existing:
        raise InputError("--phase opens new branches beside today's, which stay (or close whatever the plan: "
                         "--close): with --relocate or --no-keep-existing, plan the moves first, then phase the "
                         "openings of the network after them (--data with its <model>_branches.csv)",
                         file="command line")


# a model's objective in a phases table: (scale to the user's unit, the unit)
PHASE_UNITS = {"mclp": (1e4, "万人"), "share": (1e4, "万人"), "pmedian": (1e4, "万人·km"), "pcenter": (1.0, "km")}
PHASE_UNITS_IN_MINUTES = {"pmedian": (1e4, "万人·分钟"), "pcenter": (1.0, "min")}


def _say_phases(phases: pd.DataFrame, sites, model: str, out: Path, closed: int = 0, timed: bool = False,
                gradual: bool = False) -> pd.DataFrame:
    """model.phases in the user's units, printed (each phase's new branches, the network's value, its gain and how
    far it is from the best of as many new branches at once; phase 0 today's network, less the `closed` branches
    --close names; `timed`: a travel-time p-median or p-center; `gradual`: residents counted by distance) and
    written as <model>_phases.csv; the table."""
    names = dict(zip(sites["site_id"], sites["name"].astype(str) + " (" + sites["county"].astype(str) + ")"))
    scale, unit = _in_users_units(PHASE_UNITS, PHASE_UNITS_IN_MINUTES, model, timed)
    header = _in_users_units(OBJECTIVE_SHOWN, OBJECTIVE_SHOWN_IN_MINUTES, model, timed)[0]
    header = GRADUAL_HEADER if gradual else header
    table = pd.DataFrame({"phase 期次": phases["phase"], "new 新设": phases["new"],
                          "new so far 累计新设": phases["new_so_far"],
                          f"{header}（{unit}）": phases["objective"] / scale, f"gain 增量（{unit}）": phases["gain"] / scale,
                          f"best at once 一次建成最优（{unit}）": phases["best_at_once"] / scale,
                          f"behind best 差距（{unit}）": phases["behind_best"] / scale, "status 状态": phases["status"],
                          "new branches 新设网点": [", ".join(names[s] for s in chosen) for chosen in phases["sites"]],
                          "site_ids 网点编号": [", ".join(chosen) for chosen in phases["sites"]]})
    behind = phases[phases["behind_best"] > 0]
    shown = Table(title=f"Phases 分期建设 — {header}, {unit}")
    columns = ("phase 期次", "new branches 新设网点", header, "gain 增量") + (("best at once 一次建成",) if len(behind) else ())
    for column in columns:
        shown.add_column(column, justify="left" if "网点" in column else "right")
    start = f"today less {closed} closed 撤并后" if closed else "today 现状"
    for row, opened in zip(phases.itertuples(), table["new branches 新设网点"]):
        cells = (f"{row.phase} 第{row.phase}期" if row.phase else start, opened or "—", f"{row.objective / scale:,.2f}",
                 "" if pd.isna(row.gain) else f"{row.gain / scale:+,.2f}", f"{row.best_at_once / scale:,.2f}")
        shown.add_row(*cells[:len(columns)])
    console.print(shown)
    if len(behind):
        worst = behind.loc[behind["behind_best"].idxmax()]
        console.print(f"Building toward the full plan costs phase {worst['phase']} {worst['behind_best'] / scale:,.2f} "
                      f"{unit} against the best {worst['new_so_far']} new branches opened at once")
    else:
        console.print("Each phase's network is as good as the best of as many new branches opened at once: building "
                      "in phases loses nothing")
    table = table.round(3)
    console.print(f"Wrote {_write_csv(table, out / f'{model}_phases.csv')}")
    return table


def _phase_of(phases: pd.DataFrame) -> dict:
    """Each new branch's phase (model.phases), by site id."""
    return {site: k for k, chosen in zip(phases["phase"], phases["sites"]) for site in chosen}


def _phase_noted(sites, phases: pd.DataFrame):
    """The candidate sites with each new branch's phase added to its map note."""
    phase_of = _phase_of(phases)
    words = sites["site_id"].map(lambda s: f"phase {phase_of[s]} 第{phase_of[s]}期" if s in phase_of else None)
    notes = sites["plan_note"] if "plan_note" in sites else pd.Series(None, index=sites.index, dtype=object)
    joined = [" · ".join(str(part) for part in (note, word) if isinstance(part, str)) or None
              for note, word in zip(notes, words)]
    return sites.assign(plan_note=joined)


def _noted(sites, *worths: Optional[pd.Series]):
    """The candidate sites with each open or closed one's worth as a map note (plan_note: in its tooltip)."""
    given = [worth for worth in worths if worth is not None]
    if not given:
        return sites
    text = pd.concat([worth.map(WORTH_NOTE[worth.name].format) for worth in given])
    return sites.assign(plan_note=sites["site_id"].map(text))


def _with_worth(sites, result, *worths: Optional[pd.Series]):
    """The candidate sites with what each open one adds and each closed one's closing costs (`worths`, by site id;
    None where not measured) and, for a plan within capacities, the residents each serves (万人)."""
    figures = {worth.name: sites["site_id"].map(worth) for worth in worths if worth is not None}
    if "load" in result.details:  # cflp, mclp with capacities
        figures["served_wan"] = (sites["site_id"].map(result.details["load"]) / 1e4).round(2)
    return sites.assign(**figures)


def _write_plan_layers(path: Path, ds: Dataset, sites, result, tables: tuple, coords: str) -> None:
    """A plan's map layers for a GIS (planning.plan_layers; `tables`: the model's demand, the moves, the towns
    whose coverage changes and where each closed branch's residents go, a line from it to each taker) as a
    GeoPackage, lon/lat in the inputs' `coords`."""
    from netopt.planning import line_layer, places_by, plan_layers
    from netopt.report import WORKBOOK_ROWS

    demand, moves, changed, takers = tables
    assignment = _with_places(result.assignment, demand)
    if len(assignment) <= WORKBOOK_ROWS:
        layers = plan_layers(sites, result.selected, assignment, demand, moves)
    else:  # a fine grid's million lines: each town's cells summed by serving branch, as in the workbook
        layers = plan_layers(sites, result.selected, moves=moves)
        towns = places_by(ds.towns.assign(place=ds.towns["county"] + " " + ds.towns["name"]), "place")
        by_town = _assignment_by_town(assignment, demand)
        layers["assignment"] = line_layer(by_town.assign(place=by_town["county"] + " " + by_town["town"]), towns,
                                          "place", places_by(sites, "site_id"), "site").drop(columns="place")
    _write_layers(path, {**layers, "towns_changed": _at_towns(changed, ds),
                         **_takers_layer(takers, places_by(sites, "site_id"))}, coords)


def _takers_layer(takers: pd.DataFrame, places) -> dict:
    """Where branches close, a line from each to each branch taking on its residents (planning.closure_takers), as
    the layer closure_takers; none where none closes."""
    from netopt.planning import line_layer

    return {"closure_takers": line_layer(takers, places, "closed_id", places, "taker_id")} if len(takers) else {}


def _openings_by_worth(moves: pd.DataFrame, column: str) -> pd.DataFrame:
    """The moves table with its openings (after the moves and closures) ordered by what each adds, most first."""
    opening = moves["action"] == "open"
    ranked = moves[opening].sort_values(column, ascending=False, kind="stable")
    return pd.concat([moves[~opening], ranked], ignore_index=True)


# the objective of each model in the user's units: (column header, value as text)
OBJECTIVE_SHOWN = {
    "mclp": ("covered 覆盖人口", lambda v: f"{v / 1e4:,.1f} 万人"),
    "lscp": ("branches 网点数", lambda v: f"{v:,.0f}"),
    "pmedian": ("total travel 出行总里程", lambda v: f"{v / 1e4:,.1f} 万人·km"),
    "pcenter": ("farthest town 最远乡镇", lambda v: f"{v:,.2f} km"),
    "cflp": ("total travel 出行总里程", lambda v: f"{v / 1e4:,.1f} 万人·km"),
    "share": ("residents won 吸引客户", lambda v: f"{v / 1e4:,.1f} 万人"),
}
GRADUAL_HEADER = "covered, counted by distance 按距离折算覆盖人口"  # mclp with --full-km or --full-minutes
GRADUAL_NOTES = {"fully_covered_pct": "residents wholly covered, within the full radius 完全覆盖人口",
                 "reached_pct": "residents within the radius, wholly or in part 半径内人口"}
OBJECTIVE_SHOWN_IN_MINUTES = {
    "pmedian": ("total travel time 出行总时间", lambda v: f"{v / 1e4:,.1f} 万人·分钟"),
    "pcenter": ("longest travel time 最长通行时间", lambda v: f"{v:,.1f} min"),
    "cflp": ("total travel time 出行总时间", lambda v: f"{v / 1e4:,.1f} 万人·分钟"),
}


def _report_plan(result, sites, model: str, source: str, out: Path, demand, moves: pd.DataFrame,
                 today=None, maximised: bool = True, worth: Optional[pd.Series] = None, coords: str = "wgs84",
                 timed: bool = False) -> tuple[list[tuple[str, object]], dict[str, pd.DataFrame]]:
    """Prints the plan (beside `today`, today's network as model.evaluate reports it) and its moves
    (planning.relocation_moves) and writes its sites (with what each adds, `worth`; lon/lat in the inputs'
    `coords`), assignment (with each demand point's town and county) and moves as CSV; returns the summary's
    (item, value) rows and those tables, for the workbook. `timed`: travel in minutes (--minutes)."""
    population = float(demand["population"].sum())
    chosen = sites[sites["site_id"].isin(result.selected)]
    header, shown = _in_users_units(OBJECTIVE_SHOWN, OBJECTIVE_SHOWN_IN_MINUTES,
                                    "lscp" if model == "share" and not maximised else model, timed)
    if "within_reach_weight" in result.details:  # mclp with capacities: residents served, not merely within reach
        header = "served 服务人口"
    if "fully_covered_pct" in result.details:  # gradual coverage: each town counted by how near its branch is
        header = GRADUAL_HEADER
    if model == "pcenter" and "town_id" not in demand and not timed:
        header = "farthest cell 最远网格"
    table = Table(title=f"{model.upper()} plan 网点方案 — {source}")
    closed = int(((sites["kind"] == "existing") & ~sites["site_id"].isin(result.selected)).sum())
    values = [result.status, shown(result.objective), _gap_text(result.gap), int((chosen["kind"] == "existing").sum()),
              int((chosen["kind"] == "new").sum()), closed, round(result.seconds, 1)]
    for col in ("status", header, "gap", "branches kept 保留", "new 新设", "closed 撤并", "seconds"):
        table.add_column(col, justify="right")
    table.add_row(*map(str, values))
    console.print(table)
    summary = list(zip(("status 状态", header, "gap 差距", "branches kept 保留", "new 新设", "closed 撤并", "seconds 用时"),
                       values))
    notes = _plan_notes(result, today, model, header, shown, population, timed)
    assignment = _with_places(result.assignment, demand)
    if model == "pcenter":
        notes.append(_farthest_note(assignment, sites, on_grid="town_id" not in demand))
    for _, _, line in notes:
        console.print(line)
    if "load" in result.details:  # cflp, mclp with capacities
        chosen = chosen.assign(served_wan=(chosen["site_id"].map(result.details["load"]).fillna(0.0) / 1e4).round(2))
    plan = points_table(chosen, coords)
    if worth is not None:
        plan[worth.name] = plan["site_id"].map(worth)
    if len(moves):  # where new branches open, which close, each move
        _print_moves(moves)
    tables = {"sites 网点": plan, "assignment 分配": assignment, "moves 调整": moves}
    written = [_write_csv(frame, out / f"{model}_{name.split()[0]}.csv") for name, frame in tables.items()]
    console.print(f"Wrote {', '.join(str(w) for w in written)}")
    if "town_id" not in demand:  # a grid: its cells summed by town in the workbook, each cell in the CSV
        tables["assignment 分配"] = _assignment_by_town(assignment, demand)
        notes.append(("assignment 分配", f"{len(assignment):,} grid cells summed by town and serving branch; "
                      f"each cell in {model}_assignment.csv", ""))
    return [("plan 方案", f"{MODEL_TITLES[model]} — {source}")] + summary + [note[:2] for note in notes], tables


def _assignment_by_town(assignment: pd.DataFrame, cells) -> pd.DataFrame:
    """A grid plan's cell assignment summed per town and serving site: cells, residents (a capacitated plan: those
    the site serves), residents covered (covering models; counted by distance where the assignment gives each
    cell's covered_share, gradual coverage) or won (share), mean and farthest distance (km; minutes where the
    assignment gives travel_minutes)."""
    people = (assignment["amount"] if "amount" in assignment else
              assignment["demand"].map(pd.Series(cells["population"].to_numpy(float), index=cells["id"].to_numpy())))
    frame = pd.DataFrame({"town": assignment["town"], "county": assignment["county"], "site": assignment["site"],
                          "cells": 1, "residents": people.to_numpy(float)})
    if "covered" in assignment:
        share = assignment["covered_share"] if "covered_share" in assignment else assignment["covered"]
        frame["covered_population"] = share.to_numpy(float) * frame["residents"]
    if "captured" in assignment:
        frame["captured"] = assignment["captured"].to_numpy(float)
    cost, unit = ("travel_minutes", "minutes") if "travel_minutes" in assignment else ("distance", "km")
    if cost in assignment:
        frame[f"resident_{unit}"] = assignment[cost].to_numpy(float) * frame["residents"]
        frame[f"farthest_cell_{unit}"] = assignment[cost].to_numpy(float)
    sums = {column: "sum" for column in frame.columns[3:]} | {f"farthest_cell_{unit}": "max"}
    table = frame.groupby(["county", "town", "site"], dropna=False, sort=True).agg(
        {column: how for column, how in sums.items() if column in frame}).reset_index()
    if "captured" in table:
        table["our_share_pct"] = 100.0 * table["captured"] / table["residents"].where(table["residents"] > 0)
    if f"resident_{unit}" in table:
        mean = "mean_distance_km" if unit == "km" else "mean_travel_minutes"
        table.insert(table.columns.get_loc(f"resident_{unit}"), mean,
                     table.pop(f"resident_{unit}") / table["residents"].where(table["residents"] > 0))
    return table[["town", "county"] + [c for c in table.columns if c not in ("town", "county")]].round(3)


def _gap_text(gap: float) -> str:
    """A plan's gap to the best possible, as tables show it: a percentage, or unknown where no bound was found."""
    return f"{gap:.2%}" if np.isfinite(gap) else "unknown 未知"


def _plan_notes(result, today, model: str, header: str, shown: Callable, population: float,
                timed: bool = False) -> list[tuple]:
    """What is said under the plan's table, each also a row of the workbook's summary: (item, value, line) —
    how close an unproven plan is, today's value, market share, coverage, mean travel."""
    gap, notes = _gap_text(result.gap), []
    if result.status == "feasible" and result.selected and not np.isfinite(result.gap):  # no bound in time
        notes.append(("stopped before any bound: how far the best possible plan may be is unknown "
                      "已达时限，与最优方案差距未知", gap,
                      "Stopped before the solver found any bound 已达时限: how much better the best possible plan may "
                      "be is unknown 与最优方案差距未知 — a longer --time-limit bounds it"))
    if result.status == "optimal" and result.gap > 1e-9:  # stopped within --gap-pct
        notes.append(("proven within, of the best possible plan 与最优方案差距不超过", gap,
                      f"Proven within {gap} of the best possible plan 与最优方案差距不超过 {gap}"))
    if result.status == "feasible" and np.isfinite(result.gap) and "limit" not in (result.reason or "limit").lower():
        notes.append(("stopped before a proof: the best possible plan may be better by 未完成证明，最优方案可能更优", gap,
                      f"Stopped before a proof 未完成证明 ({result.reason}): the best possible plan may be better by up "
                      f"to {gap} 最优方案可能更优 {gap} — --gap-pct accepts a plan this close"))
    elif result.status == "feasible" and np.isfinite(result.gap):  # stopped by --time-limit before a proof
        notes.append(("stopped at the time limit: the best possible plan may be better by 已达时限，最优方案可能更优", gap,
                      f"Stopped at the time limit 已达时限: the best possible plan may be better by up to {gap} "
                      f"最优方案可能更优 {gap} — a longer --time-limit may prove it, or --gap-pct accepts a plan this close"))
    if today is not None:
        notes.append((f"{header}, today's branches 现有网点", shown(today.objective),
                      f"{header}: today's branches 现有网点 {shown(today.objective)} → plan 方案 {shown(result.objective)}"))
    if "share_pct" in result.details:
        before = f"today's branches 现有网点 {today.details['share_pct']:.1f}% → " if today is not None else ""
        value = f"{before}plan 方案 {result.details['share_pct']:.1f}%"
        by = " by travel time 按通行时间" if "travel_minutes" in result.assignment.columns else ""
        notes.append(("market share 市场份额", value, f"Market share 市场份额 (Huff{by}, against the other banks): {value}"))
    capped = "within_reach_weight" in result.details  # mclp with capacities: served within them
    if "covered_pct" in result.details:
        value = f"{result.details['covered_pct']:.1f}%"
        item = "residents served 服务人口" if capped else "residents covered 覆盖人口"
        if "fully_covered_pct" in result.details:
            item = f"residents {GRADUAL_HEADER}"
        notes.append((item, value, f"{item[0].upper()}{item[1:]}: {value}"))
    for key, item in GRADUAL_NOTES.items():
        if key in result.details:
            value = f"{result.details[key]:.1f}%"
            notes.append((item, value, f"{item[0].upper()}{item[1:]}: {value}"))
    if capped:
        reach = result.details["within_reach_weight"]
        value = f"{reach / 1e4:,.1f} 万人, {(reach - result.objective) / 1e4:,.1f} 万人 of them beyond the capacities"
        notes.append(("residents within the radius of an open branch 半径内人口", value,
                      f"Residents within the radius of an open branch 半径内人口: {value} 超出网点服务能力"))
    if model in ("pmedian", "cflp") and population > 0:
        item, value = (("mean travel time per resident 人均通行时间", f"{result.objective / population:,.1f} min")
                       if timed else ("mean travel per resident 人均出行距离", f"{result.objective / population:,.2f} km"))
        notes.append((item, value, f"{item[0].upper()}{item[1:]}: {value}"))
    return notes


def _farthest_note(assignment: pd.DataFrame, sites, on_grid: bool) -> tuple[str, str, str]:
    """A p-center plan's farthest town (or grid cell, named by its town) with its county, km (or minutes, by the
    assignment's travel_minutes) and the branch it is nearest: where the plan's value is measured, as a summary
    note (item, value, line)."""
    timed = "travel_minutes" in assignment
    cost = assignment["travel_minutes" if timed else "distance"]
    far = assignment.loc[cost.idxmax()]
    names = sites.loc[sites["site_id"] == far["site"], "name"]
    branch = f"{far['site']} {names.iloc[0]}" if len(names) and names.iloc[0] != far["site"] else far["site"]
    place = f"a cell of {far['town']}" if on_grid else far["town"]
    value = f"{place} ({far['county']}), " + (f"{cost[far.name]:,.1f} min to {branch}" if timed else
                                               f"{cost[far.name]:,.2f} km from {branch}")
    what = "cell" if on_grid else "town"
    item = (f"longest travel time in the plan, {what} 方案通行时间最长{'网格' if on_grid else '乡镇'}" if timed else
            f"farthest {what} in the plan 方案最远{'网格' if on_grid else '乡镇'}")
    return item, value, f"{item[0].upper()}{item[1:]}: {value}"


def _write_network_after(ds: Dataset, sites, selected: list, bank: Optional[str], coords: str, path: Path,
                         types: Optional[pd.Series] = None) -> None:
    """The city's branches once the plan is carried out (planning.network_after; with `types` by branch id, each
    planned branch's type) as a branches file in the inputs' coordinates: put it in a data folder as branches.csv
    to diagnose, report or type the planned network."""
    from netopt.planning import network_after

    network = network_after(ds, sites, selected, bank)
    if types is not None:
        network["type"] = network["branch_id"].map(types).fillna(network["type"])
    _write_csv(points_table(network, coords), path)
    console.print(f"Wrote {path}: the network after the plan 方案网点清单, a branches table for --branches "
                  "(analyze, optimize, report, map …), compare or a data folder")


def _summary_workbook(path: Path, summary: list[tuple[str, object]], tables: dict[str, pd.DataFrame]) -> Path:
    """One Excel workbook for the meeting: a summary sheet of (item, value) rows (what was asked — the command —,
    a plan's value, today's) first, then the tables, with bilingual headers; its path."""
    from netopt.report import write_workbook

    sheets = {"summary 汇总": pd.DataFrame(summary, columns=["item", "value"]), **tables}
    return write_atomic(path, lambda f: write_workbook(f, sheets))


ALWAYS_RECORDED = ("model", "radius_km")  # in a plan's record even when left at their defaults


def _command_line(context: typer.Context) -> str:
    """The command as run, with its arguments, the options given (those different from their defaults) and always
    the model and radius (unless radii per region type are given), for the record."""
    words = ["netopt", context.info_name or ""]
    regional = any(context.params.get(name) is not None for name in ("core_km", "county_km", "fringe_km", "minutes"))
    always = [name for name in ALWAYS_RECORDED if not (regional and name == "radius_km")]  # radii per region instead
    for param in context.command.params:
        value = context.params.get(param.name)
        at_default = value == param.default and param.name not in always
        if value is None or at_default or value in ([], ()) or not param.opts:
            continue
        if isinstance(value, bool):
            words.append(param.opts[0] if value else (param.secondary_opts or param.opts)[0])
            continue
        flag = "" if param.param_type_name == "argument" else f"{param.opts[0]} "
        words += [f"{flag}{item}" for item in (value if isinstance(value, (list, tuple)) else [value])]
    return readable(" ".join(words))  # a file name in GBK bytes in Chinese: the record is UTF-8 text


GRID_STEPS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10)  # --grid-km values a refusal may name
DENSE_MODELS = ("pmedian", "pcenter", "share")  # models of every cell-site distance (mclp, lscp: those in the radius)


def _check_grid_pairs(model: str, ds: Dataset, sites: int, grid: tuple[Optional[float], Optional[int]],
                      cells: Optional[int] = None) -> None:
    """A model of every distance between the cells of `grid` (--grid-km's squares or --h3's hexagons: `cells` once
    made, else as many as expected) and sites beyond distance.DENSE_PAIRS_LIMIT is refused, naming the finest
    --grid-km (or --h3) expected to fit."""
    from netopt import distance
    from netopt.grid import expected_cells, hexagon_km, town_areas

    if model not in DENSE_MODELS:
        return
    grid_km, h3 = grid
    limit = distance.DENSE_PAIRS_LIMIT
    areas = town_areas(ds) if cells is None else None  # a grid made: its count, the areas only for the advice
    count = expected_cells(areas, grid_km or hexagon_km(h3)) if cells is None else cells
    if count * sites <= limit:
        return
    areas = town_areas(ds) if areas is None else areas
    if h3 is None:
        fits = [step for step in GRID_STEPS if step > grid_km and expected_cells(areas, step) * sites <= limit]
        ask = f"--grid-km {fits[0]:g}" if fits else f"a --grid-km above {GRID_STEPS[-1]:g}"
    else:
        fits = [level for level in range(h3 - 1, -1, -1) if expected_cells(areas, hexagon_km(level)) * sites <= limit]
        ask = f"--h3 {fits[0]}" if fits else "a grid of fewer cells"
    about = "about " if cells is None else ""
    raise InputError(f"{model} on the {_grid_words(grid)} is {about}{count:,} cells x {sites:,} sites = "
                     f"{count * sites:,} distances, more than a model on one machine holds ({limit:,}): ask for {ask}, "
                     "or --model mclp, which needs only the pairs within the radius", file="command line")


def _grid_words(grid: tuple[Optional[float], Optional[int]]) -> str:
    """--grid-km's or --h3's grid in words: 1 km grid, H3 resolution 8 hexagons."""
    grid_km, h3 = grid
    return f"{grid_km:g} km grid" if h3 is None else f"H3 resolution {h3} hexagons"


def _model_demand(ds: Dataset, grid: tuple[Optional[float], Optional[int]], model: str, source: str, sites: int):
    """The models' demand points — the towns, or with --grid-km (--h3) population cells (hexagons) labelled by
    town and cell —, the cells as population_grid makes them, for measuring coverage (None with towns), and the
    source's name. A grid too fine for a model of every cell-site distance (with `sites` sites) is refused before
    and after it is made; --grid-km with --h3 too."""
    import geopandas as gpd

    grid_km, h3 = grid
    if grid_km is None and h3 is None:
        return ds.towns, None, source
    _check_one_grid(grid_km, h3)
    if model not in GRID_MODELS:
        flag = "--grid-km" if h3 is None else "--h3"
        raise InputError(f"{flag} works with --model {', '.join(GRID_MODELS)}: {model} on a population grid has "
                         f"one variable per cell and site, too many to solve exactly here; it plans on town points",
                         file="command line")
    _check_grid_pairs(model, ds, sites, grid)
    cells = _grid_demand(ds, grid_km, h3)
    _check_grid_pairs(model, ds, sites, grid, len(cells))
    demand = gpd.GeoDataFrame({"id": (cells["town"].astype(str) + " cell " + cells["cell_id"]).to_numpy(),
                               "town": cells["town"].to_numpy(), "county": cells["county"].to_numpy(),
                               "population": cells["population"].to_numpy()}, geometry=cells.geometry.values,
                              crs=cells.crs)
    kind = f"population cells of {grid_km:g} km" if h3 is None else f"H3 hexagons of resolution {h3}"
    console.print(f"Demand 需求: {len(cells):,} {kind} from {len(ds.towns)} towns "
                  f"({cells['population_method'].iloc[0]})")
    return demand, cells, f"{source}, {_grid_words(grid)} 网格"


def _town_shares(result, today, cells=None) -> pd.DataFrame:
    """Our market share per town (%), indexed by town id: under the plan and, when known, today (from the
    towns' rows of a share model's assignment, or summed over a population grid's `cells`)."""
    def per_town(solved) -> pd.Series:
        table = solved.assignment
        if cells is None:
            return table.set_index("demand")["our_share_pct"]
        sums = pd.DataFrame({"town_id": cells["town_id"].to_numpy(), "captured": table["captured"].to_numpy(),
                             "weight": table["weight"].to_numpy()}).groupby("town_id").sum()
        return 100.0 * sums["captured"] / sums["weight"]
    shares = pd.DataFrame({"plan": per_town(result)})
    if today is not None:
        shares["today"] = per_town(today)
    return shares


def _capacity_hint(built, capacity_wan: Optional[float]) -> str:
    """For a cflp whose open branches cannot hold every resident: the --capacity-wan that would ('' otherwise)."""
    from netopt.models import CFLP

    if not isinstance(built, CFLP) or capacity_wan is None:
        return ""
    most, sites = built.most_capacity()
    residents = float(built.demand.sum())
    if most >= residents or sites == 0:
        return ""
    need = np.ceil(residents / sites / 1e3) / 10  # 万, rounded up to 0.1
    return (f". {residents / 1e4:,.1f}万 residents and at most {sites} open branches of {capacity_wan:g}万 each: ask for "
            f"--capacity-wan {need:g} or more, or a larger --max-new")


def _cover_hint(built, cells, cover_pct: Optional[float], radius_km: float | dict) -> str:
    """For a set covering that fails because no plan reaches every cell of a grid, or the --cover-pct asked: the
    share of residents that can be covered, as the --cover-pct to ask instead ('' for other failures)."""
    from netopt.models import LSCP

    if not isinstance(built, LSCP) or (cells is None and cover_pct is None):
        return ""
    reached = np.asarray(built.A[:, built.rules.allowed].sum(axis=1)).ravel() > 0
    residents = cells["population"].to_numpy(float) if cells is not None else built.weights  # per demand point
    most = 100.0 * float(residents[reached].sum()) / max(float(residents.sum()), 1e-12)
    if cover_pct is not None:
        return f"; ask for at most --cover-pct {max(int(most), 1)}" if cover_pct > most else ""
    return (f". On a population grid, many cells lie farther than {_radius_words(radius_km)} from every candidate "
            "site (today's "
            f"branches and the town points): at most {most:.1f}% of residents can be covered; ask for a share, e.g. "
            f"--cover-pct {max(int(most), 1)}")


def _with_places(assignment: pd.DataFrame, demand) -> pd.DataFrame:
    """A model's assignment with each demand point's town and county beside its label (a town id, or a cell)."""
    label, town = ("town_id", "name") if "town_id" in demand else ("id", "town")
    places = pd.DataFrame({"demand": demand[label].to_numpy(), "town": demand[town].to_numpy(),
                           "county": demand["county"].to_numpy()}).drop_duplicates("demand")
    table = assignment.merge(places, on="demand", how="left")
    first = ["demand", "town", "county"]
    return table[first + [c for c in table.columns if c not in first]]


MOVES_SHOWN = 10
ACTION_SHOWN = {"move": "move 迁址", "close": "close 撤并", "open": "open 新设"}


def _print_moves(moves: pd.DataFrame) -> None:
    """The plan's moves (closed branch → new site, km), closures and openings; the first MOVES_SHOWN rows."""
    table = Table(title="Changes to today's network 网点调整")
    worth = next((worth for worth in [*WORTH.values(), *WORTH_IN_MINUTES.values()] if worth.column in moves), None)
    shown = [] if worth is None else [(column, header) for column, header in
                                      ((worth.column, worth.header), (worth.closing_column, worth.closing_header))
                                      if moves[column].notna().any()]
    for col in ("", "from 原网点", "to 新址", "km", *(header for _, header in shown)):
        named = col in ("from 原网点", "to 新址")  # names folded onto a second line, never cut short
        table.add_column(col, justify="left" if named or not col else "right", overflow="fold" if named else "ellipsis")
    for row in moves.head(MOVES_SHOWN).to_dict("records"):
        source = "" if pd.isna(row["from_id"]) else f"{row['from_name']} ({row['from_county']})"
        target = "" if pd.isna(row["to_id"]) else f"{row['to_name']} ({row['to_county']})"
        km = "" if pd.isna(row["distance_km"]) else f"{row['distance_km']:.1f}"
        values = ["" if pd.isna(row[column]) else f"{row[column]:,.2f}" for column, _ in shown]
        table.add_row(ACTION_SHOWN[row["action"]], source, target, km, *values)
    console.print(table)
    if len(moves) > MOVES_SHOWN:
        console.print(f"… and {len(moves) - MOVES_SHOWN} more in the moves table")


def _mix(min_share: list[str], max_share: list[str]) -> dict[str, tuple[Optional[float], Optional[float]]]:
    """--min-share and --max-share as a type mix: {type: (least share or None, most share or None)}."""
    lows, highs = _shares(min_share, "--min-share"), _shares(max_share, "--max-share")
    return {k: (lows.get(k), highs.get(k)) for k in set(lows) | set(highs)}


def _type_and_number(item: str) -> tuple[str, str, Optional[float]]:
    """A TYPE=NUMBER option: the type as written, its name (English, where 综合型 or community names a type) and
    the number (None when the text is not one)."""
    from netopt._schema import canonical_branch_type

    written, _, text = item.partition("=")
    try:
        value: Optional[float] = float(text)
    except ValueError:
        value = None
    return written.strip(), canonical_branch_type(written) or written.strip(), value


def _shares(items: list[str], flag: str) -> dict[str, float]:
    """TYPE=SHARE options as {type: share}: the type in English or Chinese (社区型=0.4), the share as a fraction —
    a percentage (community=40) is refused with the fraction it likely means."""
    from netopt.models.types import TYPES

    shares = {}
    for item in items:
        written, kind, share = _type_and_number(item)
        if share is None:
            raise InputError(f"{flag} takes TYPE=SHARE, e.g. community=0.4 (got '{item}')", file="command line")
        if kind not in TYPES:
            raise InputError(f"{flag} takes TYPE=SHARE with a type of {', '.join(TYPES)} (or 综合型/社区型/普惠型/轻型), "
                             f"not '{written}' (got '{item}')", file="command line")
        if not 0 <= share <= 1:
            meant = f": did you mean {written}={share / 100:g}?" if 1 < share <= 100 else ""
            raise InputError(f"{flag} takes a share from 0 to 1{meant} (got '{item}')", file="command line")
        shares[kind] = share
    return shares


WEIGHT_HELP = ("Weigh an indicator in a type's suitability, TYPE:INDICATOR=WEIGHT (repeatable): e.g. "
               "comprehensive:存款余额=1 for a numeric column of your branches table, inclusive:density=-2 to change a "
               "default, 0 to drop one; docs/types.md lists the indicators.")


def _weights(items: list[str]) -> dict[str, dict[str, float]]:
    """--weight TYPE:INDICATOR=WEIGHT options as {type: {indicator: weight}} (the type in English or Chinese)."""
    from netopt._schema import canonical_branch_type

    weights: dict[str, dict[str, float]] = {}
    for item in items:
        written, _, weight = _type_and_number(item)
        named, _, indicator = written.partition(":")
        kind = canonical_branch_type(named)
        if kind is None or not indicator.strip() or weight is None or not np.isfinite(weight):
            raise InputError(f"--weight takes TYPE:INDICATOR=WEIGHT, e.g. comprehensive:存款余额=1, with a type of "
                             f"综合型/社区型/普惠型/轻型 (got '{item}')", file="command line")
        weights.setdefault(kind, {})[indicator.strip()] = weight
    return weights


def _say_unweighed(ds: Dataset, weights: dict) -> None:
    """The branches table's own numeric columns (deposits, staff …) that no type's suitability weighs."""
    from netopt.models.types import analyst_indicators

    unused = [c for c in analyst_indicators(ds) if not any(c in terms for terms in weights.values())]
    if unused:
        console.print(f"Your branches' own figures {', '.join(unused)} are not in the suitability scores: weigh one "
                      f"with e.g. --weight comprehensive:{unused[0]}=1")


PER_COUNTY_HELP = ("At least one comprehensive 综合型 branch in every county (its county sub-branch, and a training "
                   "hub near its community branches).")
LICENSED_OUTLETS_HELP = ("Let a branch licensed as a community outlet (社区支行, 社区银行 by name) be made comprehensive "
                         "综合型 too (by default not: its licence is a community's retail business).")
COMMUNITY_ANYWHERE_HELP = ("Let a community branch 社区型 stand in any town (by default only in urban towns — at least "
                           "half their communities urban-coded, or their county's most urban, its seat — or where one "
                           "stands today).")


@app.command("assign-types")
def assign_types(
    data: Optional[Path] = DATA_OPTION,
    out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for the plan (CSV and Excel)."),
    min_share: list[str] = typer.Option([], help="Minimum share of a type, e.g. community=0.4 (repeatable)."),
    max_share: list[str] = typer.Option([], help="Maximum share of a type, e.g. comprehensive=0.5 (repeatable)."),
    budget_wan: Optional[float] = typer.Option(None, callback=_zero_or_more, help="Conversion budget, 万元 (e.g. 1200)."),
    staff_limit: Optional[int] = typer.Option(None, min=1, help="Total staff at each type's minimum staffing."),
    comprehensive_per_county: bool = typer.Option(False, "--comprehensive-per-county", help=PER_COUNTY_HELP),
    community_anywhere: bool = typer.Option(False, "--community-anywhere", help=COMMUNITY_ANYWHERE_HELP),
    licensed_outlets_any_type: bool = typer.Option(False, "--licensed-outlets-any-type", help=LICENSED_OUTLETS_HELP),
    weight: list[str] = typer.Option([], help=WEIGHT_HELP),
    bank: Optional[str] = typer.Option(None, callback=_bank_check, help=BANK_ONLY_HELP),
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
) -> None:
    """Give every branch one of the four types (综合型/社区型/普惠型/轻型) by an integer program."""
    def run() -> None:
        from netopt.models.types import TYPE_ZH, TYPES, assign_branch_types, missing_hint, scoring_basis, with_weights
        from netopt.report import bilingual, write_workbook

        mix, weights = _mix(min_share, max_share), with_weights(_weights(weight))
        ds, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        ds = _bank_only(ds, bank)
        with _working("Scoring branches and solving 求解中…"):
            plan = assign_branch_types(ds, mix=mix, budget_wan=budget_wan, staff_limit=staff_limit,
                                       comprehensive_per_county=comprehensive_per_county, weights=weights,
                                       community_in_urban_towns=not community_anywhere,
                                       licensed_outlets_not_comprehensive=not licensed_outlets_any_type)
        _say_unweighed(ds, weights)
        table = Table(title=f"Branch types 网点功能定位 — {source}")
        for col in ("type", "类型", "branches 网点", "share 占比", "staff 人员"):
            table.add_column(col, justify="right")
        for kind in TYPES:
            chosen = plan[plan["type"] == kind]
            table.add_row(kind, TYPE_ZH[kind], str(len(chosen)), f"{len(chosen) / len(plan):.0%}",
                          str(int(chosen["staff"].sum())))
        console.print(table)
        console.print(f"Conversion cost 改造费用: {plan['cost_wan'].sum():,.0f} 万元; status {plan.attrs['status']}")
        _say_type_notes(plan)
        _say_budget_counts_nothing(plan, budget_wan)
        if plan.attrs["missing_indicators"]:
            console.print("[yellow]Indicators missing from the data (left out of the scores): " + ", ".join(
                f"{name} ({missing_hint(name)})" if missing_hint(name) else name
                for name in plan.attrs["missing_indicators"]) + "[/]")
        located = _located_by(plan, ds.branches, "branch_id", coords)
        sheets = {"branch types 网点类型": located, "scoring": scoring_basis(plan), **_type_notes_sheet(plan)}
        written = [_write_csv(bilingual(located), out / "branch_types.csv"),
                   write_atomic(out / "branch_types.xlsx", lambda f: write_workbook(f, sheets))]
        console.print(f"Wrote {', '.join(str(w) for w in written)}")
        _write_layers(out / "branch_types.gpkg", {"types": _at_branches(plan, ds)}, coords)
    _guard(run)


def _say_type_notes(plan: pd.DataFrame) -> None:
    """Why a type has no branch in the plan, and how to have some (assign_branch_types' attrs["notes"])."""
    for note in plan.attrs.get("notes", []):
        console.print(f"[yellow]{note}[/]")


def _type_notes_sheet(plan: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The type plan's notes as a workbook's notes sheet, where it has any."""
    return {"notes": pd.DataFrame({"note": plan.attrs["notes"]})} if plan.attrs.get("notes") else {}


def _say_budget_counts_nothing(plan: pd.DataFrame, budget_wan: Optional[float]) -> None:
    """A conversion budget pays for changing a branch's type: say so when no branch's type today is known."""
    if budget_wan is not None and plan["current_type"].isna().all():
        console.print("[yellow]--budget-wan limits nothing here: it pays for changing a branch's type 改造, and no "
                      "branch's type today is known (a type column in branches.*, e.g. 综合型), so every type is "
                      "free to give[/]")


def _mix_table(mix: pd.DataFrame) -> Table:
    """The type mix before and after the plan (planning.compare_plan), shares in %."""
    from netopt.models.types import TYPE_ZH

    table = Table(title="Type mix 类型结构")
    for col in ("type", "类型", "before 调整前", "after 调整后", "share 占比"):
        table.add_column(col, justify="right")
    for row in mix.itertuples(index=False):
        table.add_row(row.type, TYPE_ZH.get(row.type, "未知"), str(row.before), str(row.after),
                      f"{row.before_share:.0%} → {row.after_share:.0%}")
    return table


JOINT_HELP = ("Plan sites and types together 网点与类型联合规划: at most this many open branches — today's and new "
              "ones at the town points (or --candidates) —, each with its type, serving the most residents (each "
              "type's radius, capacity and opening cost: --type-radius-km, --type-capacity-wan, --type-cost-wan); "
              "needs --budget-wan, which then pays the openings, changes of a known type today and the service vehicles "
              "流动服务车 and village stations 村级服务站.")
# the options of the rollout of today's branches' types (plan without --p)
TYPE_PLAN_ONLY = ("pilots_per_region", "batch", "hub_capacity", "hub_max_minutes", "speed_kmh", "detour_factor",
                  "network", "comprehensive_per_county")


@app.command()
def plan(
    ctx: typer.Context,
    data: Optional[Path] = DATA_OPTION,
    out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for plan.xlsx and its CSVs."),
    min_share: list[str] = typer.Option([], help="Minimum share of a type, e.g. community=0.4 (repeatable)."),
    max_share: list[str] = typer.Option([], help="Maximum share of a type, e.g. comprehensive=0.5 (repeatable)."),
    budget_wan: Optional[float] = typer.Option(None, callback=_zero_or_more,
                                               help="Conversion budget, 万元 (with --p: openings, type changes and "
                                                    "extensions)."),
    pilots_per_region: int = typer.Option(2, min=1, help="Pilot branches per region type (core, county, fringe)."),
    batch: list[int] = typer.Option([20, 16], min=1, help="Rollout batch sizes (repeatable), e.g. --batch 20 "
                                    "--batch 16."),
    hub_capacity: Optional[int] = typer.Option(None, min=1, help="Community branches one central sub-branch can "
                                               "coach (default 8, or the least that coaches them all)."),
    hub_max_minutes: Optional[float] = typer.Option(None, callback=_above_zero,
                                                    help="The longest coaching trip from a community branch to its "
                                                         "training hub, minutes (default: no limit)."),
    speed_kmh: Optional[str] = typer.Option(None, "--speed-kmh", callback=_speed_check,
                                            help="Driving speed of the coaching trips to the training hubs, km/h "
                                                 f"(default 30), e.g. 25, {PER_REGION_SPEEDS}, where the community "
                                                 "branch stands (with --network: to and from the road; on it, each "
                                                 "road's speed)."),
    detour_factor: Optional[float] = typer.Option(None, callback=_road_detour,
                                                  help="Road km per straight-line km of the coaching trips where no "
                                                       "road is measured (default 1.3)."),
    network: Optional[Path] = typer.Option(None, help=f"Road network ({NETWORK_KINDS}): the coaching trips by "
                                                      "road."),
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    comprehensive_per_county: bool = typer.Option(False, "--comprehensive-per-county", help=PER_COUNTY_HELP),
    community_anywhere: bool = typer.Option(False, "--community-anywhere", help=COMMUNITY_ANYWHERE_HELP),
    licensed_outlets_any_type: bool = typer.Option(False, "--licensed-outlets-any-type", help=LICENSED_OUTLETS_HELP),
    weight: list[str] = typer.Option([], help=WEIGHT_HELP),
    bank: Optional[str] = typer.Option(None, callback=_bank_check, help=BANK_ONLY_HELP),
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    template: Optional[Path] = TEMPLATE_OPTION,
    word_template: Optional[Path] = WORD_TEMPLATE_OPTION,
    tables_only: bool = TABLES_ONLY_OPTION,
    time_limit: Optional[float] = typer.Option(None, callback=_above_zero,
                                               help="Stop after this many seconds with the best plan and its gap."),
    p: Optional[int] = typer.Option(None, min=1, help=JOINT_HELP),
    max_new: Optional[int] = typer.Option(None, min=0, help="Open at most this many new branches in the joint plan; "
                                          "without --p, today's branches kept (--p = today's + N)."),
    keep_existing: bool = typer.Option(True, help="With --p: today's branches stay open (--no-keep-existing: they "
                                       "may close)."),
    keep_open: list[str] = typer.Option([], help="With --p --no-keep-existing: a branch that stays open (its id, or "
                                        "text of its name; repeatable)."),
    close: list[str] = typer.Option([], help="With --p: a branch of today's network that closes 撤并 whatever the "
                                    "plan (its id, text of its name, or a list file; repeatable)."),
    full_km: list[str] = typer.Option([], help="With --p: gradual coverage 按距离折算 — a town served by a branch "
                                      "within this many km counts wholly, one farther less and less, none past its "
                                      "type's radius: one number for every type, or TYPE=KM (repeatable), e.g. "
                                      "community=0.5."),
    type_radius_km: list[str] = typer.Option([], help="With --p: a type's service radius, km, e.g. community=1.5 "
                                             "(repeatable; defaults in docs/types.md)."),
    type_capacity_wan: list[str] = typer.Option([], help="With --p: residents one branch of a type can serve, 万人, "
                                                "e.g. inclusive=4 (repeatable)."),
    type_cost_wan: list[str] = typer.Option([], help="With --p: cost of opening a new branch of a type, 万元, e.g. "
                                            "light=80 (repeatable)."),
    candidates: Optional[Path] = typer.Option(None, help="With --p: " + CANDIDATES_HELP),
    candidates_folder: Optional[str] = CANDIDATES_FOLDER_OPTION,
    keep_covered: bool = typer.Option(False, "--keep-covered", help="With --p and branches closing (--close or "
                                                                    "--no-keep-existing): every town covered today "
                                                                    "(core 1.2 km, counties 3.5 km) keeps a branch "
                                                                    "within that radius 不新增服务空白乡镇."),
) -> None:
    """The network plan: branch types, pilots, rollout batches and training hubs, in one workbook; with --p, where
    to open, keep or close branches and the type of each, in one integer program."""
    def run() -> None:
        from netopt.models.types import with_weights

        outputs = _outputs(template, word_template, tables_only)
        mix = _mix(min_share, max_share)
        figures = {"radius_km": _type_figures(type_radius_km, "--type-radius-km", above_zero=True),
                   "capacity_wan": _type_figures(type_capacity_wan, "--type-capacity-wan", above_zero=True),
                   "open_cost_wan": _type_figures(type_cost_wan, "--type-cost-wan", above_zero=False),
                   "full_km": _full_by_type(full_km)}
        _check_max_new(p, max_new, keep_existing)
        _check_plan_options(ctx, p is not None or max_new is not None, keep_existing, keep_open)
        _check_keep_covered(keep_covered, bool(close) or not keep_existing, "--close or --no-keep-existing")
        ds, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        if p is not None or max_new is not None:
            own = _read_candidates_option(candidates, candidates_folder, coords, ds, None, bank)
            _say_site_costs_add_up(own, figures["open_cost_wan"])
            _joint_plan(ds, source, out, _command_line(ctx), JointAsk(bank, p, budget_wan, mix, keep_existing,
                                                                      keep_open, figures, time_limit, own,
                                                                      coords, close, keep_covered,
                                                                      with_weights(_weights(weight)), max_new,
                                                                      not community_anywhere,
                                                                      not licensed_outlets_any_type),
                        outputs)
            return
        _type_rollout(_bank_only(ds, bank), source, out, {"mix": mix, "budget_wan": budget_wan,
                                                          "comprehensive_per_county": comprehensive_per_county,
                                                          "community_in_urban_towns": not community_anywhere,
                                                          "licensed_outlets_not_comprehensive":
                                                              not licensed_outlets_any_type,
                                                          "weights": with_weights(_weights(weight))},
                      time_limit, (pilots_per_region, tuple(batch),
                                   _hub_options(hub_capacity, hub_max_minutes, ctx.params, network)), coords,
                      outputs)
    _guard(run)


def _hub_options(capacity: Optional[int], max_minutes: Optional[float], params: dict, network: Optional[Path]) -> dict:
    """planning.training_hubs' keywords from plan's --hub-capacity, --hub-max-minutes, --speed-kmh,
    --detour-factor and --network (the road network read here)."""
    return {"capacity": capacity, "max_minutes": max_minutes, **_speeds_given(params),
            "graph": _roads(network, params.get("network_coords"), params.get("network_split", False)).get("graph")}


def _say_site_costs_add_up(own: Optional[gpd.GeoDataFrame], type_costs: dict[str, float]) -> None:
    """plan --p with candidates' own opening costs: each is the site's cost, paid on top of its type's."""
    if own is None or not own["open_cost_wan"].notna().any():
        return
    from netopt.models.types import TYPES

    if all(type_costs.get(kind) == 0 for kind in TYPES):
        console.print("A new branch at a candidate site costs the site's own opening cost (every type's cost is 0)")
        return
    console.print("A new branch at a candidate site costs the site's own opening cost 场地成本 plus its type's "
                  "(--type-cost-wan; give each type 0, e.g. --type-cost-wan light=0, to count the site's cost "
                  "alone)")


def _hubs(ds: Dataset, types: pd.DataFrame, options: dict) -> pd.DataFrame:
    """planning.training_hubs with `options` (its keywords; capacity None: HUB_CAPACITY, or the least that coaches
    every community branch, said), its "no hub assignment" naming the options that would give one."""
    from netopt.planning import HUB_CAPACITY, coaching_counts, hub_capacity_needed, training_hubs

    if options["capacity"] is None:
        options = {**options, "capacity": hub_capacity_needed(types)}
        if options["capacity"] > HUB_CAPACITY:
            hubs, members = coaching_counts(types)
            console.print(f"[yellow]Training hubs 中心支行: {members:,} community branches, {hubs:,} comprehensive ones "
                          f"to coach them: each coaches up to {options['capacity']} (the default {HUB_CAPACITY} "
                          "would leave some without; --hub-capacity sets it)[/]")
    try:
        return training_hubs(ds, types, **options)
    except InfeasibleError as err:
        raise InfeasibleError(f"{err} (--hub-capacity, --hub-max-minutes; --min-share comprehensive=… or "
                              "--comprehensive-per-county for more comprehensive branches)") from None


def _type_rollout(ds: Dataset, source: str, out: Path, type_rules: dict, time_limit: Optional[float],
                  rollout: tuple[int, tuple, dict], coords: str = "wgs84", outputs: Outputs = Outputs()) -> None:
    """plan without --p: today's branches' types (assign_branch_types with `type_rules`: mix, budget_wan, …),
    pilots, rollout batches and training hubs, printed and written (map layers in the inputs' `coords`; the
    slides and the written report in the bank's templates where given; none of these with --tables-only)."""
    from netopt.models.types import assign_branch_types, branch_scores, scoring_basis
    from netopt.planning import coaching_calendar, compare_plan, rollout_batches, select_pilots
    from netopt.report import bilingual, write_workbook

    pilots_per_region, batch, hub_options = rollout
    with _working("Planning 规划中…", time_limit):
        measured = analyze_coverage(ds)  # the one diagnosis the types and the pilots both score the branches on
        types = assign_branch_types(ds, coverage=measured, time_limit=time_limit, **type_rules)
        scores, _ = branch_scores(ds, measured)
        sheets = {"types": types, "pilots": select_pilots(types, scores, pilots_per_region),
                  "batches": rollout_batches(types, batch),
                  "hubs": _hubs(ds, types, hub_options),
                  "mix": compare_plan(ds.branches["type"], types)}
        sheets["calendar"] = coaching_calendar(sheets["hubs"])
        sheets["scoring"] = scoring_basis(types)
        sheets.update(_type_notes_sheet(types))
    if sheets["pilots"].attrs["pilot_gap"] > 0:
        console.print(f"Pilots: the best representatives found in the time allowed, within "
                      f"{100 * sheets['pilots'].attrs['pilot_gap']:.2f} % of the best possible")
    console.print(f"Plan for {source}: {len(types):,} branches, {len(sheets['pilots'])} pilots, "
                  f"batches {', '.join(map(str, batch))}, {sheets['hubs']['hub_id'].nunique()} training hubs "
                  f"({sheets['hubs'].attrs['total_days']:g} coaching days)")
    if "note" in sheets["hubs"].attrs:
        console.print(f"[yellow]Training hubs: {sheets['hubs'].attrs['note']}[/]")
    _say_longest_trips(sheets["hubs"])
    _say_unweighed(ds, type_rules["weights"])
    _say_budget_counts_nothing(types, type_rules["budget_wan"])
    console.print(_mix_table(sheets["mix"]))
    _say_type_notes(types)
    shown = {name: _located_by(table, ds.branches, "branch_id", coords) if name in BRANCH_SHEETS else table
             for name, table in sheets.items()}
    at_hub = _located_by(sheets["hubs"], ds.branches.rename(columns={"branch_id": "hub_id"}), "hub_id", coords)
    shown["hubs"] = _located_by(at_hub.rename(columns={"lon": "hub_lon", "lat": "hub_lat"}), ds.branches,
                                "branch_id", coords)  # each community branch's place and its hub's
    written = [_write_csv(bilingual(table), out / f"plan_{name}.csv") for name, table in shown.items()]
    written.append(write_atomic(out / "plan.xlsx", lambda f: write_workbook(f, shown)))
    console.print(f"Wrote {len(written)} files to {out}")
    if not outputs.tables_only:
        written += _draw_rollout(ds, sheets, out, [
            source, f"{len(types):,} 网点 branches · {len(sheets['pilots'])} 试点 pilots · 批次 batches "
            f"{', '.join(map(str, batch))} · {sheets['hubs']['hub_id'].nunique()} 培训中心 training hubs"], coords,
            outputs)
    _remove_left_over(out, PLAN_OUTPUTS, written)


def _draw_rollout(ds: Dataset, sheets: dict[str, pd.DataFrame], out: Path, said: list[str], coords: str,
                  templates: Outputs) -> list[Path]:
    """The type plan's map layers, maps, slides and written report (`said`: what its title slide says); their
    paths."""
    from netopt.deck import rollout_deck
    from netopt.document import rollout_report

    written = _write_layers(out / "plan.gpkg", _rollout_layers(sheets, ds), coords) + _rollout_maps(ds, sheets, out)
    shown = (sheets, (out / "plan_map.png").read_bytes(), said)
    written += [rollout_deck(out / "plan.pptx", *shown, template=templates.slides),
                rollout_report(out / "plan.docx", *shown, template=templates.word)]
    console.print(f"Wrote {written[-2]}: the slides for the meeting 汇报材料, and {written[-1]}: the plan's report 方案")
    return written


def _rollout_maps(ds: Dataset, sheets: dict[str, pd.DataFrame], out: Path) -> list[Path]:
    """The type plan for the meeting, plan_map.html and .png: branches by type, pilots and training hubs, towns by
    coverage within the diagnosis's radii."""
    from netopt.deck import ROLLOUT_TITLE
    from netopt.maps import network_map, static_map

    cov = analyze_coverage(ds, radius_km=_region_radii())
    batches = sheets["batches"][["branch_id", "batch"]]
    shown = {"coverage": cov, "plan": sheets["types"].merge(batches, on="branch_id", how="left"),
             "pilots": sheets["pilots"], "hubs": sheets["hubs"], "title": ROLLOUT_TITLE}
    fmap = network_map(ds, **shown)
    written = [write_atomic(out / "plan_map.html", lambda p: fmap.save(str(p))),
               static_map(ds, out / "plan_map.png", **shown)]
    console.print(f"Wrote {', '.join(str(p) for p in written)}: branches by type, pilots 试点 and training hubs "
                  "培训中心 on the map")
    return written


BRANCH_SHEETS = ("types", "pilots", "batches")  # the type plan's tables of branches, written with their lon/lat


def _placed(table: pd.DataFrame, frame, column: str):
    """`table` as a map layer, each row at the place of `frame` (towns, branches, sites) its `column` names."""
    from netopt.planning import places_by, point_layer

    return point_layer(table, places_by(frame, column), column)


def _located_by(table: pd.DataFrame, frame, column: str, coords: str) -> pd.DataFrame:
    """report.placed_by (imported when a table is written): `table` with the lon/lat (in `coords`, the inputs'
    system) of the place of `frame` its `column` names."""
    from netopt.report import placed_by

    return placed_by(table, frame, column, coords)


def _rollout_layers(sheets: dict[str, pd.DataFrame], ds: Dataset) -> dict:
    """The type plan's map layers: each branch with its type, batch and (for a pilot) its pilot region; a line
    from each community branch to its training hub."""
    from netopt.planning import line_layer, places_by

    pilots = sheets["pilots"].set_index("branch_id")
    types = sheets["batches"].assign(pilot_region=lambda t: t["branch_id"].map(pilots["pilot_region"]),
                                     represents=lambda t: t["branch_id"].map(pilots["represents"]))
    places = places_by(ds.branches, "branch_id")
    return {"types": _at_branches(types, ds), "hubs": line_layer(sheets["hubs"], places, "branch_id", places, "hub_id")}


def _at_branches(table: pd.DataFrame, ds: Dataset):
    """A table of branches (branch_id) as a map layer at their points."""
    return _placed(table, ds.branches, "branch_id")


def _at_towns(table: pd.DataFrame, ds: Dataset):
    """A table of towns (town_id) as a map layer at their points."""
    return _placed(table, ds.towns, "town_id")


# map layers beside the tables, as each one's description names it
MAP_LAYERS = {"sites": "网点方案 the plan's sites: today's branches kept or closed, the new ones",
              "assignment": "分配 each town (or grid cell; on a grid of over 100,000 cells each town's cells summed by "
                            "the branch serving them) to the branch serving it",
              "moves": "迁址 each closed branch to the new site replacing it",
              "towns_changed": "覆盖变化乡镇 towns whose residents within reach change, losses first",
              "closure_takers": "客户承接 from each closed branch to the branches taking on its residents",
              "towns": "乡镇 each town's share served, service vehicles 流动服务车 and village stations 村级服务站",
              "types": "网点类型 each branch's type 综合型/社区型/普惠型/轻型",
              "hubs": "培训中心 each community branch to its training hub",
              "towns_differing": "差异乡镇 towns whose residents covered differ between the plans, the largest "
                                 "spread first",
              "changes": "方案变化 each plan's new branches 新设 and the branches it closes 撤并 (a folder per plan)",
              "sites_evaluated": "选址评估 each candidate site: residents it adds within reach, its overlap, its rank"}
LINE_LAYERS = ("assignment", "moves", "hubs", "closure_takers")


def _write_layers(path: Path, layers: dict, coords: str, labels: dict[str, str] | None = None) -> list[Path]:
    """Map layers (MAP_LAYERS' descriptions, HEADERS_ZH's labels, `labels` first) as a GeoPackage for QGIS or
    ArcGIS, lon/lat in the inputs' `coords`, and a KMZ for Google Earth and 奥维 (kml.write_map_files); says so."""
    from netopt.kml import write_map_files
    from netopt.report import HEADERS_ZH

    kinds = {name: "LineString" if name in LINE_LAYERS else "Point" for name in layers}
    written, left_out = write_map_files(path, layers, coords, {**HEADERS_ZH, **(labels or {})}, MAP_LAYERS, kinds)
    console.print(f"Wrote {written[0]}: map layers for QGIS or ArcGIS 地图图层 ({', '.join(layers)}); "
                  f"{written[1].name}: the same for Google Earth or 奥维 on a field visit 外业核查" + _left_out(left_out))
    return written


def _left_out(left_out: dict[str, int]) -> str:
    """What a KMZ left out, said after its name (nothing when it holds every layer)."""
    from netopt.kml import KML_MAX_PLACES

    return "".join(f" (without {name}: {count:,} places, over the {KML_MAX_PLACES:,} a phone's map takes well)"
                   for name, count in left_out.items())


# what plan writes, the type plan (without --p) or the joint plan (with it): one's files go when the other runs
PLAN_OUTPUTS = (*(f"plan_{name}.csv" for name in ("types", "pilots", "batches", "hubs", "mix", "calendar", "scoring",
                                                  "notes", "sites", "towns", "moves", "towns_changed",
                                                  "branches_changed", "closure_takers", "branches")),
                "plan_map.html", "plan_map.png", "plan.gpkg", "plan.kmz", "plan.pptx", "plan.docx")


LONG_TRIP_MINUTES = 120  # a coaching trip longer than this is said: a day's travel there and back


def _say_longest_trips(hubs: pd.DataFrame) -> None:
    """The longest coaching trip from a community branch to its hub, and how many take over LONG_TRIP_MINUTES."""
    if hubs.empty:
        return
    far = hubs.loc[hubs["minutes"].idxmax()]
    over = int((hubs["minutes"] > LONG_TRIP_MINUTES).sum())
    console.print(f"Longest coaching trip 最远辅导车程: {far['minutes']:.0f} min, {far['name']} ({far['county']}) → "
                  f"hub {far['hub_name']} ({far['hub_county']}), {hubs.attrs['travel']}"
                  + (f"; {over} trips over {LONG_TRIP_MINUTES // 60} hours — --comprehensive-per-county gives "
                     "every county a comprehensive branch to coach from" if over else ""))


def _check_max_new(p: Optional[int], max_new: Optional[int], keep_existing: bool) -> None:
    """plan --max-new without --p: today's branches kept and N new, so not with --no-keep-existing."""
    if max_new is not None and p is None and not keep_existing:
        raise InputError("--max-new with --no-keep-existing: give --p (today's branches may close, so --max-new alone "
                         "does not say how many branches the plan has)", file="command line")


def _check_plan_options(ctx: typer.Context, joint: bool, keep_existing: bool, keep_open: list[str]) -> None:
    """Options of one kind of plan given to the other (`joint`: --p or --max-new) are refused: they would change
    nothing."""
    given = set(_on_command_line(ctx, ctx.params))
    joint_only = {"keep_existing", "keep_open", "close", "type_radius_km", "type_capacity_wan", "type_cost_wan",
                  "candidates", "keep_covered", "full_km"}
    if not joint and given & joint_only:
        flags = ", ".join(_flag(ctx, name) for name in sorted(given & joint_only))
        raise InputError(f"{flags}: for the joint plan of sites and types — add --p (the most open branches) or "
                         "--max-new", file="command line")
    if joint and given & set(TYPE_PLAN_ONLY):
        flags = ", ".join(_flag(ctx, name) for name in sorted(given & set(TYPE_PLAN_ONLY)))
        raise InputError(f"{flags}: for the rollout of today's branches' types, not the joint plan of --p "
                         "(run plan without --p for pilots, batches and hubs)", file="command line")
    if keep_open and keep_existing:
        raise InputError("--keep-open: today's branches stay open anyway; add --no-keep-existing to let the others "
                         "close", file="command line")


def _flag(ctx: typer.Context, name: str) -> str:
    """The command-line flag of a parameter, as the user wrote it (--no-keep-existing for keep_existing=False)."""
    param = next(q for q in ctx.command.params if q.name == name)
    if isinstance(ctx.params[name], bool) and not ctx.params[name] and param.secondary_opts:
        return param.secondary_opts[0]
    return param.opts[0]


def _full_by_type(items: list[str]) -> float | dict[str, float] | None:
    """plan --p's --full-km: one number for every type (km, at least 0), or TYPE=KM items; None without it."""
    if len(items) == 1 and "=" not in items[0]:
        one = _number_at_least_zero(items[0])
        if one is None:
            raise InputError(f"--full-km takes a number of km of at least 0, or TYPE=KM (got '{items[0]}')",
                             file="command line")
        return one
    return _type_figures(items, "--full-km", above_zero=False) or None


def _type_figures(items: list[str], flag: str, above_zero: bool) -> dict[str, float]:
    """TYPE=NUMBER options as {type: number} (the type in English or Chinese), each a number above 0 (or at least
    0 for costs)."""
    from netopt.models.types import TYPES

    figures = {}
    for item in items:
        _, kind, value = _type_and_number(item)
        if kind not in TYPES or value is None or not np.isfinite(value) or value < 0 or (above_zero and value == 0):
            least = "above 0" if above_zero else "at least 0"
            raise InputError(f"{flag} takes TYPE=NUMBER, a type of {', '.join(TYPES)} (or 综合型/社区型/普惠型/轻型) "
                             f"and a number {least} (got '{item}')", file="command line")
        figures[kind] = value
    return figures


@dataclass
class JointAsk:
    """What plan --p asks for: the bank, the most open branches, the budget (万元), the type mix, whether today's
    branches stay (and which stay anyway), the types' figures for plan_network, the time limit."""

    bank: Optional[str]
    p: Optional[int]  # None with max_new: today's kept branches and max_new
    budget_wan: Optional[float]
    mix: dict
    keep_existing: bool
    keep_open: list[str]
    figures: dict
    time_limit: Optional[float]
    new_sites: Optional[gpd.GeoDataFrame] = None  # --candidates, instead of the town points
    coords: str = "wgs84"  # the inputs' coordinate system, for the network written back
    close: list[str] = field(default_factory=list)  # --close: today's branches that close whatever the plan
    keep_covered: bool = False  # --keep-covered: no town covered today left without a branch within the radius
    weights: dict | None = None  # --weight: the types' suitability weights (with_weights)
    max_new: Optional[int] = None  # --max-new: at most this many new (without p: p is today's kept and these)
    community_in_urban_towns: bool = True  # not --community-anywhere: community branches in urban towns only
    licensed_outlets_not_comprehensive: bool = True  # not --licensed-outlets-any-type


DIAGNOSIS_RADII = {"core": 1.2, "county": 3.5}  # the coverage a joint plan is compared by: the diagnosis's radii


def _joint_plan(ds: Dataset, source: str, out: Path, command: str, ask: JointAsk,
                outputs: Outputs = Outputs()) -> None:
    """plan --p: which sites open, stay or close and the type of each (models.types.plan_network), printed beside
    today's coverage, written as CSVs and a workbook, mapped with each branch coloured by its type, and as slides
    and a written report (in the bank's templates where given; no map, slides or report with --tables-only)."""
    from netopt.models.types import plan_network, scoring_basis
    from netopt.planning import relocation_moves
    from netopt.report import bilingual

    sites, ask = _joint_sites(ds, ask)
    must_reach = _covered_today(ds, sites, DIAGNOSIS_RADII, {}) if ask.keep_covered else None
    with _working("Planning sites and types 联合规划中…", ask.time_limit):
        try:
            rules = {"community_in_urban_towns": ask.community_in_urban_towns,
                     "licensed_outlets_not_comprehensive": ask.licensed_outlets_not_comprehensive}
            chosen, towns, summary = plan_network(ds, sites, p=ask.p, budget_wan=ask.budget_wan, mix=ask.mix,
                                                  time_limit=ask.time_limit, must_reach=must_reach,
                                                  weights=ask.weights, max_new=ask.max_new, **rules, **ask.figures)
        except InfeasibleError as err:
            raise InfeasibleError(f"{err}{KEEP_COVERED_HINT if ask.keep_covered else ''}") from None
    scoring = scoring_basis(chosen)
    chosen, towns = _joint_columns(chosen, towns, sites, ds)
    chosen = chosen.merge(points_table(sites[["site_id", "geometry"]], ask.coords), on="site_id", how="left")
    selected = chosen.loc[chosen["decision"] != "close", "site_id"].tolist()
    moves = relocation_moves(sites, selected)
    record = [("command 命令", command)] + _say_joint_plan(summary, chosen, towns, ask, source)
    plan_coverage, compared, changed, areas, takers = _before_after(ds, sites, selected, DIAGNOSIS_RADII)
    towns, changed = (_located_by(table, ds.towns, "town_id", ask.coords) for table in (towns, changed))
    tables = {"sites": chosen, "towns": towns, "moves": moves, "towns_changed": changed, "branches_changed": areas,
              "closure_takers": takers, "scoring": scoring}
    written = [_write_csv(bilingual(table), out / f"plan_{name}.csv") for name, table in tables.items()]
    written.append(_summary_workbook(out / "plan.xlsx", record, {"sites 网点": chosen, "towns 乡镇": towns,
                                                                "moves 迁址": moves, "coverage 覆盖率变化": compared,
                                                                "towns changed 覆盖变化乡镇": changed,
                                                                AREAS_SHEET: areas, TAKERS_SHEET: takers,
                                                                "scoring 评分依据": scoring}))
    console.print(f"Wrote {', '.join(str(w) for w in written)}")
    typed = chosen[chosen["decision"] != "close"].rename(columns={"site_id": "branch_id"})
    _write_network_after(ds, sites, selected, ask.bank, ask.coords, out / "plan_branches.csv",
                         typed.set_index("branch_id")["type"])
    written.append(out / "plan_branches.csv")
    if not outputs.tables_only:
        written += _draw_joint_plan(ds, sites, tables, (plan_coverage, compared), record, source, out, ask, outputs)
    _remove_left_over(out, PLAN_OUTPUTS, written)


def _draw_joint_plan(ds: Dataset, sites, tables: dict[str, pd.DataFrame], measured: tuple[Coverage, pd.DataFrame],
                     record: list, source: str, out: Path, ask: JointAsk, templates: Outputs) -> list[Path]:
    """The joint plan's map (HTML, PNG; `measured`: the plan's coverage and its table beside today's), slides,
    written report (`record`: its summary) and map layers; their paths."""
    from netopt._schema import VALUE_WORDS
    from netopt.deck import SCORING_TITLE, plan_deck, scoring_table, taken_on, type_counts_by
    from netopt.document import plan_report

    typed = tables["sites"][tables["sites"]["decision"] != "close"].rename(columns={"site_id": "branch_id"})
    moves, changed, takers = tables["moves"], tables["towns_changed"], tables["closure_takers"]
    _plan_maps(ds, sites, typed["branch_id"].tolist(), moves, measured[0], f"网点与类型 sites and types — {source}",
               ask.bank, out / "plan_map", types=typed, town_changes=changed, takers=takers)
    decided = typed.assign(decision=typed["decision"].map(VALUE_WORDS["decision"]))  # keep, open: 保留 keep …
    said = ([("plan 方案", f"网点与类型 Sites and types — {source}"), *record], (out / "plan_map.png").read_bytes(),
            moves, measured[1], changed,
            {"类型结构 The plan's branches by decision and type": type_counts_by(decided, "decision"),
             **taken_on(takers, "plan.xlsx"), SCORING_TITLE: scoring_table(tables["scoring"])}, "plan.xlsx")
    written = [out / "plan_map.html", out / "plan_map.png", plan_deck(out / "plan.pptx", *said, templates.slides),
               plan_report(out / "plan.docx", *said, templates.word)]
    console.print(f"Wrote {written[-2]}: the slides for the meeting 汇报材料, and {written[-1]}: the plan's report 方案")
    return written + _write_layers(out / "plan.gpkg", _joint_layers(tables, sites, ds), ask.coords)


def _joint_layers(tables: dict[str, pd.DataFrame], sites, ds: Dataset) -> dict:
    """The joint plan's map layers: its sites with decision and type, the towns with their share served, vehicles
    and stations, the moves, the towns whose coverage changes and a line from each closed branch to each branch
    taking on its residents."""
    from netopt._schema import DECISION_ZH
    from netopt.planning import move_layer, places_by, point_layer

    places = places_by(sites, "site_id")
    chosen = tables["sites"].assign(decision_zh=lambda t: t["decision"].map(DECISION_ZH))
    return {"sites": point_layer(chosen, places, "site_id"), "towns": _at_towns(tables["towns"], ds),
            "moves": move_layer(tables["moves"], places), "towns_changed": _at_towns(tables["towns_changed"], ds),
            **_takers_layer(tables["closure_takers"], places)}


def _joint_sites(ds: Dataset, ask: JointAsk) -> tuple[gpd.GeoDataFrame, JointAsk]:
    """The candidate sites of plan --p: today's (the bank's) branches, closable with --no-keep-existing unless
    --keep-open names them, closing whatever the plan where --close names them, and the town points; a --p below
    the branches that must stay is refused. With the ask, its p worked out from --max-new."""
    from netopt.planning import candidate_sites, existing_positions

    if ask.budget_wan is None:
        raise InputError(f"{'--p' if ask.max_new is None else '--max-new'} plans sites and types together: give "
                         "--budget-wan too (万元 for opening new branches and for service vehicles and village "
                         "stations, which would otherwise be free)",
                         file="command line")
    sites = candidate_sites(ds, ask.bank, ask.new_sites)
    _say_banks_matched(ds.branches, ask.bank)
    kept = _kept_open(sites, ask.keep_open) if ask.keep_open else np.zeros(0, int)
    closing = _closing(sites, ask.close, {"fixed": kept})["forbidden"] if ask.close else np.zeros(0, int)
    today = len(existing_positions(sites)) - len(closing)
    if ask.p is None:
        ask = replace(ask, p=today + ask.max_new)
        console.print(f"p = {ask.p} branches 网点总数: today's {today} kept and at most {ask.max_new} new "
                      f"(--max-new {ask.max_new})")
    if ask.keep_existing and ask.p < today:
        raise InputError(f"--p {ask.p} counts every open branch, and today's branches stay open: "
                         f"{_whose(ask.bank, today)}. Ask for a "
                         f"--p of at least {today}, or add --no-keep-existing to let today's branches close",
                         file="command line")
    sites["closable"] = (sites["kind"] == "existing") & (not ask.keep_existing)
    sites["closes"] = False
    sites.loc[sites.index[kept], "closable"] = False
    sites.loc[sites.index[closing], "closes"] = True
    return sites, ask


def _joint_columns(chosen: pd.DataFrame, towns: pd.DataFrame, sites, ds: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The joint plan's tables for the meeting: sites with their county and type in Chinese, towns with their
    county and region type, shares and 万人 rounded."""
    from netopt.models.types import TYPE_ZH

    chosen = chosen.merge(sites[["site_id", "county"]], on="site_id", how="left")
    chosen["type_zh"] = chosen["type"].map(TYPE_ZH).fillna("")
    counted = ["counted_wan"] if "counted_wan" in chosen else []  # with --full-km: counted by distance
    chosen = chosen[["site_id", "name", "county", "kind", "decision", "current_type", "type", "type_zh",
                     "open_cost_wan", "conversion_cost_wan", "served_wan", *counted, "score", "reasons"]].round(3)
    towns = towns.merge(ds.towns[["town_id", "county", "region_type"]], on="town_id", how="left")
    towns = towns[["town_id", "name", "county", "region_type", "population", "served_share",
                   *(["counted_share"] if counted else []), "vehicle", "station"]].round(3)
    return chosen, towns


def _say_joint_plan(summary: dict, chosen: pd.DataFrame, towns: pd.DataFrame, ask: JointAsk,
                    source: str) -> list[tuple[str, object]]:
    """Prints the joint plan: residents served, branches kept / new / closed by type, the budget spent; returns
    the same as the summary sheet's (item, value) rows."""
    from netopt.models.types import EXTENSIONS, TYPE_ZH, TYPES, community_rule_note

    table = Table(title=f"Sites and types 网点与类型联合规划 — {source}")
    for col in ("type", "类型", "kept 保留", "new 新设", "open 合计", "served 服务 万人"):
        table.add_column(col, justify="right")
    for kind in TYPES:
        mine = chosen[(chosen["type"] == kind) & (chosen["decision"] != "close")]
        kept, new = int((mine["decision"] == "keep").sum()), int((mine["decision"] == "open").sum())
        table.add_row(kind, TYPE_ZH[kind], str(kept), str(new), str(kept + new), f"{mine['served_wan'].sum():,.1f}")
    extended = summary["served_residents"] / 1e4 - chosen["served_wan"].sum()
    table.add_row("extensions", "延伸服务", "", "", "", f"{extended:,.1f}")
    console.print(table)
    counts = chosen["decision"].value_counts()
    changed = int((chosen["current_type"].notna() & (chosen["decision"] == "keep")
                   & (chosen["current_type"] != chosen["type"])).sum())
    spent = [f"{counts.get('open', 0)} openings 开设 {chosen['open_cost_wan'].sum():,.0f}",
             f"{changed} type changes 改型 {chosen['conversion_cost_wan'].sum():,.0f}"] + [
        f"{int(towns[name].sum())} {name}s {extension['zh']} {towns[name].sum() * extension['cost_wan']:,.0f}"
        for name, extension in EXTENSIONS.items()]
    rows = [("status 状态", summary["status"] + (f", within {_gap_text(summary['gap'])} of the best possible"
                                                 if summary["gap"] > 0 else "")),
            ("residents served 服务人口", f"{summary['served_residents'] / 1e4:,.1f} 万人 ({summary['served_pct']:.1f} %)"),
            *([("counted by distance 按距离折算", f"{summary['objective'] / 1e4:,.1f} 万人 ({summary['counted_pct']:.1f} %)"
                + full_words(ask.figures["full_km"], "km"))] if "counted_pct" in summary else []),
            ("branches 网点", f"{counts.get('keep', 0)} kept 保留, {counts.get('open', 0)} new 新设, "
                             f"{counts.get('close', 0)} closed 撤并 (at most {ask.p})"),
            ("changes 调整", f"{summary['changes']} to today's network (openings, closures, type changes, vehicles, "
                            "stations)"),
            ("spent 花费", f"{summary['spent_wan']:,.0f} of {ask.budget_wan:,.0f} 万元: {', '.join(spent)}"),
            ("among equals 同等服务下", "the least spent, then the fewest changes, of the plans serving every town "
                                     "as well 花费最少、调整最少" if summary["least_spent_proven"] else
                                     "the least spent, then the fewest changes, found in the search allowed (a "
                                     "cheaper plan serving every town as well may exist)")]
    note = community_rule_note(summary["community_elsewhere"], summary["n_sites"], "candidate sites", ask.mix)
    if note:
        rows.append(("community 社区型", note))
    for item, value in rows:
        console.print(f"{item}: {value}")
    return rows


@app.command()
def compare(
    ctx: typer.Context,
    plans: list[Path] = typer.Argument(..., metavar="PLAN", help="Planned networks 方案网点清单: a plan's "
                                       "<model>_branches.csv or plan_branches.csv (any branches table will do), or "
                                       "the folder holding one."),
    name: list[str] = typer.Option([], help="A name for each plan, in order (default: its folder and file, e.g. "
                                   "close2/mclp)."),
    data: Optional[Path] = typer.Option(None, help=DATA_HELP + " Its branches are today's network."),
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help="A branches table as today's network instead of the data's "
                                            "own, e.g. the network after a first round (out/mclp_branches.csv) "
                                            "beside plans of the next, or last year's branches beside this year's; "
                                            "named from its folder and file, as plans are."),
    out: Path = typer.Option(Path("out/compare"), callback=_out_folder, help="Folder for compare.xlsx and its CSVs."),
    bank: Optional[str] = typer.Option(None, callback=_bank_check,
                                       help=BANK_ONLY_HELP + " New branches a plan marks 新设 count as its."),
    radius_km: Optional[float] = ONE_RADIUS_OPTION,
    core_km: Optional[float] = CORE_KM_OPTION,
    county_km: Optional[float] = COUNTY_KM_OPTION,
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = MINUTES_ANY_OPTION,
    mode: str = MODE_OPTION,
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    network: Optional[Path] = typer.Option(None, help=f"Road network ({NETWORK_KINDS}): road km."),
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    grid_km: Optional[float] = GRID_INSTEAD_OPTION,
    h3: Optional[int] = H3_INSTEAD_OPTION,
    coords: str = typer.Option("wgs84", help=COORDS_HELP.replace("the inputs", "the inputs and the plans")),
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    template: Optional[Path] = TEMPLATE_OPTION,
    word_template: Optional[Path] = WORD_TEMPLATE_OPTION,
    tables_only: bool = TABLES_ONLY_OPTION,
    full_km: Optional[str] = DIAGNOSIS_FULL_KM_OPTION,
    full_minutes: Optional[str] = DIAGNOSIS_FULL_MINUTES_OPTION,
    access_decay: str = ACCESS_DECAY_OPTION,
    access_beta: Optional[float] = ACCESS_BETA_OPTION,
    access_method: str = ACCESS_METHOD_OPTION,
    access_supply: Optional[str] = ACCESS_SUPPLY_OPTION,
    access_type_supply: list[str] = ACCESS_TYPE_SUPPLY_OPTION,
) -> None:
    """Plans side by side 方案比选: today's network and each planned network measured alike — branches, new and
    closed, residents covered and coverage by region, mean km to a branch, towns left without one — and the
    towns where the plans differ."""
    def run() -> None:
        from netopt.planning import compare_measured, measure_access, measure_networks, network_changes

        _check_one_grid(grid_km, h3)
        outputs = _outputs(template, word_template, tables_only)
        how = _access_way(access_decay, access_beta, access_method, supply=access_supply,
                          type_supply=access_type_supply)
        radius = _travel_time(ctx, minutes, mode) or _radius(radius_km, core_km, county_km, fringe_km)
        full = _diagnosis_full(full_km, full_minutes, radius)
        ds, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        networks = _read_plans(plans, name, coords, bank, ds)
        base = {"today_name": _network_name(_plan_file(branches))} if branches else {}  # e.g. last year's, 网点2023
        if base.get("today_name") in networks:
            raise InputError(f"a plan and the --branches network are both named {base['today_name']}: give the plans "
                             "a --name", file="command line")
        _say_banks_matched(ds.branches, bank)
        with _working("Measuring the plans 方案比选中…"):
            cells = _grid_demand(ds, grid_km, h3)
            limit = {**_limit_keywords(radius), **_roads(network, network_coords, network_split)}
            measured = measure_networks(ds, networks, bank, cells, **base, **limit, **full)
            access = measure_access(ds, networks, bank, cells, **base, **limit, **how)
            scenarios, differing = compare_measured(measured, access)
        full_said = next(iter(measured.values())).settings.full_words()
        _say_comparison(scenarios, differing, f"{source}, {bank} 我行" if bank else source, radius, full_said)
        record = [("command 命令", _command_line(ctx)), ("data 数据", source), ("radius 服务半径", _radius_words(radius))]
        record += [("counted by distance 按距离折算", full_said.removeprefix(", "))] * bool(full)
        record += [("accessibility 可达性", next(iter(access.values())).settings.describe())]
        changes = network_changes(ds, networks, bank)
        found = Compared(scenarios, differing, changes, _areas_by_plan(ds, measured, list(networks)), record,
                         _radius_words(radius), f"方案比选 Plans compared — {source}" + (f", {bank}" if bank else ""),
                         (_located_by(differing, ds.towns, "town_id", coords), points_table(changes, coords)))
        console.print(f"Wrote {', '.join(str(w) for w in _write_comparison(out, found))}")
        _unless_tables_only(outputs, out, COMPARE_DRAWN,
                            lambda: _draw_comparison(ds, networks, measured, found, out, bank, base, coords, outputs))
    _guard(run)


class Compared(NamedTuple):
    """What compare found: the scenarios side by side, the towns where the plans differ, each plan's new and closed
    branches (planning.network_changes), its branches' service areas changed and where closed ones' residents go,
    the summary record (item, value), the coverage radius in words, the title, and the towns differing and the
    changes as tables show them (`placed`: with their lon/lat in the inputs' coordinates)."""

    scenarios: pd.DataFrame
    differing: pd.DataFrame
    changes: gpd.GeoDataFrame
    areas: "AreasByPlan"
    record: list
    radius: str
    title: str
    placed: tuple[pd.DataFrame, pd.DataFrame]


COMPARE_DRAWN = ("compare.png", "compare.pptx", "compare.docx", "compare_map.html", "compare.gpkg", "compare.kmz")


def _draw_comparison(ds: Dataset, networks: dict, measured: dict[str, Coverage], found: Compared, out: Path,
                     bank: Optional[str], base: dict, coords: str, templates: Outputs) -> None:
    """compare's drawings: the chart (coverage within the radius), the slides for the meeting (compare.pptx, each
    plan on a map of its own) and the same written up (compare.docx) in the bank's `templates` where given, the
    plans on one HTML map (`base`: today's network's name where given) and the map layers."""
    from netopt.deck import comparison_deck
    from netopt.document import comparison_report
    from netopt.maps import compare_chart, compare_map
    from netopt.planning import PLAN_COLUMNS, bank_branches

    with _working("Drawing each plan for the slides 方案地图…"):
        maps = _plan_change_maps(ds, {label: measured[label] for label in networks}, found.changes,
                                 found.areas.takers)
    towns, changes = found.placed
    chart = compare_chart(found.scenarios, out / "compare.png", found.radius)
    said = [f"{item}: {value}" for item, value in found.record if not item.startswith("command")]
    written = [chart, comparison_deck(out / "compare.pptx", found.scenarios, towns, changes, said, maps,
                                      templates.slides, found.areas.takers),
               comparison_report(out / "compare.docx", found.scenarios, towns, changes, said, maps,
                                 chart.read_bytes(), templates.word, found.areas.takers)]
    today, planned = bank_branches(ds.branches, bank), {label: bank_branches(branches, bank)
                                                        for label, branches in networks.items()}
    fmap = compare_map(ds, today, planned, found.differing, found.title, **base, takers=found.areas.takers)
    written.append(write_atomic(out / "compare_map.html", lambda p: fmap.save(str(p))))
    console.print(f"Wrote {', '.join(str(w) for w in written)}")
    per_plan = {column: f"{words} {column.removeprefix(prefix)}" for prefix, words in PLAN_COLUMNS.items()
                for column in found.differing.columns if column.startswith(prefix)}  # each plan's column its alias
    _write_layers(out / "compare.gpkg", {"towns_differing": _at_towns(found.differing, ds), "changes": found.changes,
                                         **_compared_takers_layer(found.areas.takers, today, planned)}, coords,
                  per_plan)


@app.command("evaluate-sites")
def evaluate_sites_command(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(None, metavar="CANDIDATES", help="Candidate sites 候选点位 (CSV, Excel, "
                                       "GeoJSON, a KMZ of places marked in 奥维 or Google Earth …: name, lon/lat, "
                                       "optional id), e.g. premises on offer."),
    site: list[str] = typer.Option([], help="A candidate site written out, name=lon,lat (in --coords), e.g. "
                                   "候选A=117.2501,31.8402, or a town's name alone, 大杨镇, at its point "
                                   "(repeatable)."),
    candidates: list[Path] = typer.Option([], help="Candidate sites from a file, as optimize --candidates takes them "
                                          "(repeatable; the same as giving the file without the option)."),
    candidates_folder: Optional[str] = CANDIDATES_FOLDER_OPTION,
    bank: Optional[str] = typer.Option(None, callback=_bank_check,
                                       help="Whose network the sites would join (part of a bank's name, e.g. "
                                       "农业): its branches are today's, the other banks' the rivals."),
    data: Optional[Path] = DATA_OPTION,
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for site_evaluation.csv/.xlsx and maps."),
    radius_km: Optional[float] = ONE_RADIUS_OPTION,
    core_km: Optional[float] = CORE_KM_OPTION,
    county_km: Optional[float] = COUNTY_KM_OPTION,
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = MINUTES_ANY_OPTION,
    mode: str = MODE_OPTION,
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    grid_km: Optional[float] = typer.Option(None, callback=_above_zero, help="Residents on a population grid of "
                                            "this cell size (km) instead of at the town points (e.g. 1: finer for "
                                            "sites in the core, where radii are short)."),
    h3: Optional[int] = H3_INSTEAD_OPTION,
    full_km: Optional[str] = DIAGNOSIS_FULL_KM_OPTION,
    full_minutes: Optional[str] = DIAGNOSIS_FULL_MINUTES_OPTION,
    network: Optional[Path] = typer.Option(None, help=f"Road network ({NETWORK_KINDS}): road km."),
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    coords: str = typer.Option("wgs84", help=COORDS_HELP.replace("the inputs", "the inputs and the sites")),
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    template: Optional[Path] = TEMPLATE_OPTION,
    word_template: Optional[Path] = WORD_TEMPLATE_OPTION,
    tables_only: bool = TABLES_ONLY_OPTION,
    access_decay: str = ACCESS_DECAY_OPTION,
    access_beta: Optional[float] = ACCESS_BETA_OPTION,
    access_method: str = ACCESS_METHOD_OPTION,
    access_supply: Optional[str] = ACCESS_SUPPLY_OPTION,
    access_type_supply: list[str] = ACCESS_TYPE_SUPPLY_OPTION,
) -> None:
    """Site evaluation 选址评估: each candidate site opened alone beside today's network — residents within its
    reach, those it adds and those it shares with today's branches (重叠), today's and rival branches near it, the
    residents it wins from the other banks — ranked, on a map."""
    def run() -> None:
        from netopt.siting import evaluate_sites

        _check_one_grid(grid_km, h3)
        outputs = _outputs(template, word_template, tables_only)
        tables = [*(files or []), *candidates]
        if not tables and not site:
            raise InputError("give candidate sites: a file (候选点位.xlsx) or --site name=lon,lat", file="command line")
        how = _access_way(access_decay, access_beta, access_method, supply=access_supply,
                          type_supply=access_type_supply)
        radius = _travel_time(ctx, minutes, mode) or _radius(radius_km, core_km, county_km, fringe_km)
        full = _diagnosis_full(full_km, full_minutes, radius)
        ds, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        _say_banks_matched(ds.branches, bank)
        offered = _candidate_sites(tables, candidates_folder, site, coords, ds, bank)
        with _working("Evaluating the sites 选址评估中…"):
            cells = _grid_demand(ds, grid_km, h3)
            roads = _roads(network, network_coords, network_split)
            table = evaluate_sites(ds, offered, bank, demand=cells, **_limit_keywords(radius), **roads, **full,
                                   access=how)
        _say_sites(table, f"{source}, {bank} 我行" if bank else source,
                   _radius_words(radius) + (" by road" if roads else ""), cells is not None)
        _write_site_evaluation(ctx, ds, table, bank, radius, cells, roads, out, source, coords,
                               outputs, full)
    _guard(run)


def _candidate_sites(files: list[Path], folder: Optional[str], site: list[str], coords: str, ds: Dataset,
                     bank: Optional[str]) -> gpd.GeoDataFrame:
    """The candidate sites of the files (of a KML's `folder`) and of --site together; where ids repeat across them
    (each file's own, or S0001 … where a file gives none), each is prefixed by its file's name (or "site:")."""
    import geopandas as gpd

    from netopt.io import candidates_from_text

    if folder is not None and not files:
        raise InputError("--candidates-folder picks the folder of a KML or KMZ file of candidate sites: give one",
                         file="command line")
    frames = {readable(Path(path).stem): _read_candidate_file(path, folder, coords, ds, bank, say=True)
              for path in files}
    if site:
        frames["site"] = candidates_from_text(site, coords, ds)
    if len(frames) > 1 and pd.concat(frames.values())["site_id"].duplicated().any():  # ids (S0001 …) per source
        frames = {label: frame.assign(site_id=label + ":" + frame["site_id"].astype(str))
                  for label, frame in frames.items()}
    return gpd.GeoDataFrame(pd.concat(frames.values(), ignore_index=True), crs=next(iter(frames.values())).crs)


EVALUATION_ZH = {"rank": "排名", "site_id": "点位编号", "town": "最近乡镇", "residents_within_wan": "覆盖范围人口(万人)",
                 "adds_covered_wan": "新增覆盖(万人)", "adds_counted_wan": "按距离折算新增覆盖(万人)",
                 "overlap_wan": "重叠覆盖(万人)", "overlap_pct": "重叠比例(%)",
                 "nearest_branch_km": "最近网点距离(km)", "nearest_branch_name": "最近网点",
                 "nearest_branch_min": "最快网点时间(分钟)",
                 "branches_within": "半径内我行网点", "rival_branches_within": "半径内他行网点",
                 "won_wan": "吸引他行客户(万人)"}  # site_evaluation's headers beside report.HEADERS_ZH


SITES_SHOWN = 20  # the console's rows of a site evaluation, the best; the CSV and workbook have them all


def _say_most_even(table: gpd.GeoDataFrame) -> None:
    """The site that lowers the Gini of access 可达性 most, if any does (access_gini_change, in the CSV for all)."""
    if "access_gini_change" not in table or not (table["access_gini_change"] < 0).any():
        return
    best = table.loc[table["access_gini_change"].idxmin()]
    console.print(f"Most even access 可达性最均衡: {best['name']} lowers the Gini of access by "
                  f"{-best['access_gini_change']:.3f} (residents below half the city's access "
                  f"{best['low_access_change_wan']:+,.2f}万; every site's in site_evaluation.csv)")


def _say_sites(table: gpd.GeoDataFrame, source: str, within: str, on_grid: bool) -> None:
    """The evaluation on the console: a row per site, best first, the first SITES_SHOWN (its town and every column
    in the CSV; a name two sites share with its id), and which sites reach no resident."""
    rivals, timed, counted = "won_wan" in table, "nearest_branch_min" in table, "adds_counted_wan" in table
    shown = Table(title=f"Site evaluation 选址评估 — {source}, within {within}")
    headers = ["#", "site\n点位", "within 万人\n覆盖范围", "adds 万人\n新增覆盖",
               *(["counted\n折算万人"] if counted else []), "overlap\n重叠",
               "quickest\n最快 min" if timed else "nearest\n最近 km",
               "ours/\nrival\n我/他行" if rivals else "branches\n网点"] + (["wins 万人\n争取客户"] if rivals else [])
    for header in headers:
        named = header.startswith("site")  # a site's name folded onto more lines, never cut short
        shown.add_column(header, justify="left" if named else "right", overflow="fold" if named else "ellipsis",
                         min_width=8 if named else None)
    shared = table["name"].duplicated(keep=False).to_numpy()
    for row, twin in zip(table.head(SITES_SHOWN).itertuples(), shared):
        near = f"{row.branches_within}/{row.rival_branches_within}" if rivals else str(row.branches_within)
        cells = [str(row.rank), f"{row.name} ({row.site_id})" if twin else str(row.name),
                 _shown(row.residents_within_wan, ".2f"), _shown(row.adds_covered_wan, ".2f"),
                 *([_shown(row.adds_counted_wan, ".2f")] if counted else []), _shown(row.overlap_pct, ".0f", "%"),
                 _shown(row.nearest_branch_min, ".1f") if timed else _shown(row.nearest_branch_km, ".2f"), near]
        shown.add_row(*cells, *([_shown(row.won_wan, ".2f")] if rivals else []))
    console.print(shown)
    _say_most_even(table)
    if len(table) > SITES_SHOWN:
        console.print(f"… and {len(table) - SITES_SHOWN:,} more sites, ranked alike, in site_evaluation.csv")
    nobody = table.loc[table["residents_within_wan"] == 0, "name"].astype(str)
    if len(nobody) and not on_grid:
        listed = ", ".join(nobody.head(SITES_SHOWN)) + (f" and {len(nobody) - SITES_SHOWN:,} more"
                                                        if len(nobody) > SITES_SHOWN else "")
        console.print(f"{listed}: no town point within the radius — on town points a town's residents count where "
                      "its point is; --grid-km 1 spreads them over the town's area")
    elif len(table) and not on_grid:  # a site at a large town's point has all of it within reach
        best = table.iloc[0]
        console.print(f"On town points 乡镇点位 a town's residents count where its point is, all within reach or none "
                      f"({best['name']}: {best['residents_within_wan']:,.2f}万 within reach); "
                      "--grid-km 1 counts them where they live, over each town's area")


def _write_site_evaluation(ctx: typer.Context, ds: Dataset, table: gpd.GeoDataFrame, bank: Optional[str],
                           radius: float | dict | TravelTime, cells, roads: dict, out: Path,
                           source: str, coords: str = "wgs84", outputs: Outputs = Outputs(),
                           full: dict | None = None) -> None:
    """site_evaluation.csv and .xlsx (a summary sheet with the command; lon/lat in the inputs' `coords`), then
    (unless --tables-only) the sites drawn over today's coverage (`roads`: _roads' distance options; `full`:
    _diagnosis_full's, coverage counted by distance): _draw_site_evaluation."""
    from netopt.report import bilingual

    shown = bilingual(points_table(_figures_rounded(table), coords), EVALUATION_ZH)
    counted = [("counted by distance 按距离折算", full_words(value, "km" if key == "full_km" else "min").lstrip(", "))
               for key, value in (full or {}).items()]
    record = [("command 命令", _command_line(ctx)), ("data 数据", source), ("bank 我行", bank or "every bank 全部银行"),
              ("radius 服务半径", _radius_words(radius) + (" by road" if roads else "")), *counted,
              ("residents 人口", "population grid 网格" if cells is not None else "town points 乡镇点"),
              *[("accessibility 可达性", table.attrs["access"])] * ("access" in table.attrs)]
    written = [_write_csv(shown, out / "site_evaluation.csv"),
               _summary_workbook(out / "site_evaluation.xlsx", record, {"sites 选址评估": shown})]
    console.print(f"Wrote {', '.join(str(w) for w in written)}")
    title = f"选址评估 Site evaluation — {source}" + (f", {bank}" if bank else "")
    measure_today = partial(analyze_coverage, ds if bank is None else ds.of_bank(bank), demand=cells,
                            **_limit_keywords(radius), **roads, **(full or {}))
    _unless_tables_only(outputs, out, EVALUATION_DRAWN, lambda: _draw_site_evaluation(
        ds, table, measure_today, (title, record, bank), out, coords, outputs))


EVALUATION_DRAWN = tuple(f"site_evaluation{name}" for name in ("_map.html", "_map.png", ".pptx", ".docx", ".gpkg",
                                                                ".kmz"))


def _draw_site_evaluation(ds: Dataset, table: gpd.GeoDataFrame, measure_today: Callable[[], Coverage],
                          said: tuple[str, list, Optional[str]], out: Path, coords: str, templates: Outputs) -> None:
    """The sites evaluated on an HTML map and a PNG, numbered by rank over today's coverage (`measure_today`), as
    slides for the meeting (site_evaluation.pptx) and written up (site_evaluation.docx) in the bank's `templates`
    where given, and as a map layer (site_evaluation.gpkg, .kmz); `said`: the title, the summary record and the
    bank."""
    from netopt.deck import site_evaluation_deck
    from netopt.document import site_evaluation_report
    from netopt.maps import network_map, static_map

    title, record, bank = said
    today = measure_today()
    notes = [f"adds {row.adds_covered_wan:,.2f}万 residents within reach 新增覆盖"
             + (f" ({row.adds_counted_wan:,.2f}万 counted by distance 按距离折算)" if "adds_counted_wan" in table else "")
             + f", overlap {_shown(row.overlap_pct, '.0f', '%')} 重叠" for row in table.itertuples()]
    sites = table.assign(kind="new", plan_note=notes)
    fmap = network_map(ds, coverage=today, sites=sites, selected=list(sites["site_id"]), our_bank=bank,
                       title=f"netopt {title}")
    written = [write_atomic(out / "site_evaluation_map.html", lambda p: fmap.save(str(p)))]
    written.append(static_map(Dataset(ds.counties, ds.towns, today.branches), out / "site_evaluation_map.png",
                              coverage=today, title=title, sites=sites, selected=list(sites["site_id"])))
    said = (table, title, [f"{item}: {value}" for item, value in record[1:]], written[-1].read_bytes(), EVALUATION_ZH)
    written += [site_evaluation_deck(out / "site_evaluation.pptx", *said, templates.slides),
                site_evaluation_report(out / "site_evaluation.docx", *said, templates.word)]
    console.print(f"Wrote {', '.join(str(w) for w in written)}")
    _write_layers(out / "site_evaluation.gpkg", {"sites_evaluated": _figures_rounded(table)}, coords, EVALUATION_ZH)


def _figures_rounded(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The sites evaluated with their figures (万人, km, minutes, %) to three decimals."""
    return table.round({c: 3 for c in table.columns if c.endswith(("_wan", "_km", "_min", "_pct"))})


class AreasByPlan(NamedTuple):
    """compare's service areas by plan, a scenario column first: the branches whose service areas change
    (planning.branches_changed) and where each closed branch's residents go (planning.closure_takers)."""

    changed: pd.DataFrame
    takers: pd.DataFrame


def _areas_by_plan(ds: Dataset, measured: dict[str, Coverage], plans: list[str]) -> AreasByPlan:
    """Each plan's branches whose service areas change against today's network (the first of `measured`) and
    where each branch it closes sends its residents, a scenario column first; said for each plan closing
    branches."""
    from netopt.planning import branches_changed, closure_takers

    today = next(iter(measured.values()))
    changed, takers = [], []
    for plan in plans:
        mine = closure_takers(ds, today, measured[plan]).round(4)
        _say_takers(mine, prefix=f"{plan}: ")
        changed.append(_by_scenario(branches_changed(today, measured[plan]).round(4), plan))
        takers.append(_by_scenario(mine, plan))
    return AreasByPlan(pd.concat(changed, ignore_index=True), pd.concat(takers, ignore_index=True))


def _by_scenario(table: pd.DataFrame, plan: str) -> pd.DataFrame:
    """`table` with a first column naming the plan (scenario) its rows are of."""
    return table.assign(scenario=plan)[["scenario", *table.columns]]


def _compared_takers_layer(takers: pd.DataFrame, today: gpd.GeoDataFrame, networks: dict) -> dict:
    """compare's closure takers (a scenario column first) as the layer closure_takers: a line from each closed
    branch, at its place `today`, to each branch taking on its residents, at its place in that plan's network;
    none where no plan closes a branch."""
    from netopt.planning import line_layer, places_by

    if takers.empty:
        return {}
    starts = places_by(today, "branch_id")
    lines = [line_layer(mine, starts, "closed_id", places_by(networks[plan], "branch_id"), "taker_id")
             for plan, mine in takers.groupby("scenario", sort=False)]
    return {"closure_takers": pd.concat(lines, ignore_index=True)}


def _write_comparison(out: Path, found: Compared) -> list[Path]:
    """compare's tables as CSVs — the scenarios, the towns differing, each plan's new and closed branches, the
    branches whose service areas change and where closed ones' residents go —, and a workbook after the summary
    record (item, value)."""
    from netopt.planning import PLAN_COLUMNS
    from netopt.report import bilingual, rounded

    (towns, changes), areas = found.placed, found.areas
    labels = {column: words for prefix, words in PLAN_COLUMNS.items() for column in towns.columns
              if column.startswith(prefix)}
    shown = bilingual(rounded(towns, 4), labels)  # lon/lat to 6 decimals
    return [_write_csv(bilingual(found.scenarios.round(3)), out / "compare_scenarios.csv"),
            _write_csv(shown, out / "compare_towns.csv"),
            _write_csv(bilingual(changes), out / "compare_changes.csv"),
            _write_csv(bilingual(areas.changed), out / "compare_branches_changed.csv"),
            _write_csv(bilingual(areas.takers), out / "compare_closure_takers.csv"),
            _summary_workbook(out / "compare.xlsx", found.record, {"scenarios 方案比选": found.scenarios.round(3),
                                                                   "towns differing 差异乡镇": shown,
                                                                   "changes 方案变化": changes,
                                                                   AREAS_SHEET: areas.changed,
                                                                   TAKERS_SHEET: areas.takers})]


def _plan_change_maps(ds: Dataset, measured: dict[str, Coverage], changes: gpd.GeoDataFrame,
                      takers: pd.DataFrame) -> dict[str, bytes]:
    """Each planned network on a static map (PNG), its towns by its coverage (`measured`: planning.measure_networks'
    plans), with the branches it opens (green) and closes (red, hollow) against today's and a line from each closed
    one to each taking on its residents (`takers`, by scenario), by plan name (`changes`: planning.network_changes';
    a new branch the network marks new 新设 is drawn so already)."""
    import tempfile

    from netopt.maps import static_map
    from netopt.planning import planned_new

    maps = {}
    with tempfile.TemporaryDirectory() as folder:
        for k, (label, coverage) in enumerate(measured.items(), 1):
            marked = coverage.branches.loc[planned_new(coverage.branches), "branch_id"].astype(str)
            mine = changes[(changes["scenario"] == label) & ~changes["branch_id"].astype(str).isin(marked)]
            sites = mine.rename(columns={"branch_id": "site_id"}).assign(
                kind=np.where(mine["change"].str.startswith("new"), "new", "existing"))
            path = static_map(Dataset(ds.counties, ds.towns, coverage.branches), Path(folder) / f"{k}.png",
                              coverage=coverage, title=f"{label} plan {k}", sites=sites,
                              selected=list(sites.loc[sites["kind"] == "new", "site_id"]),
                              takers=takers[takers["scenario"] == label])
            maps[label] = path.read_bytes()
    return maps


def _read_plans(paths: list[Path], names: list[str], coords: str, bank: Optional[str], city: Dataset) -> dict:
    """compare's planned networks by name: each a branches table (a folder: the one *_branches.csv in it; a
    workbook or GeoPackage: its sheet or layer named for branches, as --branches reads it) checked to lie in the
    `city`, with --bank's branches checked to be there; names from --name or from the folder and
    file."""
    from netopt.io import bank_mask, with_branches

    if names and len(names) != len(paths):
        raise InputError(f"--name gives {len(names)} name(s) for {len(paths)} plan(s): give one per plan, in order",
                         file="command line")
    files = [_plan_file(path) for path in paths]
    names = names or [_network_name(file) for file in files]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"two plans are both named {', '.join(repeated)}: give each a --name", file="command line")
    networks = {}
    for label, file, layer in _plan_sheets(names, files):
        branches = with_branches(city, file, coords, layer).branches  # a plan of another city, or shifted, is refused
        if bank is not None:
            try:
                bank_mask(branches, bank)
            except InputError as err:
                raise InputError([replace(p, file=str(file)) for p in err.problems]) from None
        _say_left_out(branches)  # closed by its status or plan column (撤并)
        networks[label] = branches
    return networks


def _network_name(file: Path) -> str:
    """A network's name in compare's tables, from its folder and file: close2/mclp, 2023/网点2023."""
    return readable(f"{file.parent.name}/{file.stem.removesuffix('_branches')}")


def _plan_sheets(names: list[str], files: list[Path]) -> list[tuple[str, Path, str | None]]:
    """Each plan's name, file and sheet or layer: the one named for branches; in a workbook of several alike
    branches tables and none so named, each sheet a plan of its own, named <plan>/<sheet>."""
    from netopt._schema import BRANCH_FIELDS
    from netopt.io import alike_sheets

    plans = []
    for name, file in zip(names, files):
        layer = kind_sheets(file).get("branches")
        sheets = alike_sheets(file, BRANCH_FIELDS) if layer is None else []
        plans += [(f"{name}/{sheet}", file, sheet) for sheet in sheets] if len(sheets) > 1 else [(name, file, layer)]
    return plans


def _plan_file(path: Path) -> Path:
    """A plan given to compare (or as --branches): the file itself, or the one network after a plan
    (*_branches.csv) in a folder, else the folder's branches table (data/2023/网点.csv)."""
    if not path.is_dir():
        if not path.exists():
            raise InputError("no such file or folder", file=str(path))
        return path
    found = sorted(path.glob("*_branches.csv"))
    if not found and (table := find_table(path, "branches", required=False)) is not None:
        return table
    if len(found) != 1:
        what = (f"holds {len(found)} planned networks ({', '.join(f.name for f in found)}): give one of the files"
                if found else "holds no planned network (a plan's <model>_branches.csv): give the file")
        raise InputError(what, file=str(path))
    return found[0]


def _say_comparison(scenarios: pd.DataFrame, towns: pd.DataFrame, source: str,
                    radius: float | dict | TravelTime, full_said: str = "") -> None:
    """The plans side by side on the console (`full_said`: gradual coverage's, ", wholly covered within 1.2 km"),
    then the towns where they differ most."""
    from netopt.maps import REGION_ZH
    from netopt.models.types import TYPE_ZH
    from netopt.planning import compared_by

    regions = [c.removeprefix("coverage_pct_") for c in scenarios.columns if c.startswith("coverage_pct_")]
    table = Table(title=f"Plans compared 方案比选 — {source}, within {_radius_words(radius)}{full_said}")
    table.add_column("")
    for plan in scenarios["scenario"]:
        table.add_column(plan, justify="right", overflow="fold")  # a plan's name never cut short
    measures = [("branches 网点", "branches", "{:d}"), ("new 新设", "new", "{:d}"), ("closed 撤并", "closed", "{:d}"),
                ("covered 覆盖 万人", "covered_wan", "{:,.1f}"), ("coverage 覆盖率", "coverage_pct", "{:.1f}%"),
                *[(f"  {region} {REGION_ZH.get(region, '')}", f"coverage_pct_{region}", "{:.1f}%")
                  for region in regions],
                *[("counted by distance 按距离折算 万人", "covered_by_distance_wan", "{:,.1f}"),
                  ("  as a share 折算覆盖率", "coverage_by_distance_pct", "{:.1f}%")] * ("coverage_by_distance_pct" in
                                                                                    scenarios),
                ("mean km to a branch 平均距离", "mean_km", "{:.2f}"),
                *[("mean minutes to a branch 平均通行时间", "mean_minutes", "{:.1f}")] * ("mean_minutes" in scenarios),
                ("towns uncovered 服务空白乡镇", "towns_uncovered", "{:d}"),
                ("  of them covered today 新增空白", "towns_losing_all", "{:d}"),
                *[("access Gini 可达性基尼系数", "access_gini", "{:.3f}"),
                  ("low access 低可达性 万人", "low_access_wan", "{:,.1f}")] * ("access_gini" in scenarios)]
    measures += [(f"{kind} {TYPE_ZH[kind]}", f"type_{kind}", "{:.0f}") for kind in TYPE_ZH
                 if f"type_{kind}" in scenarios]
    for label, column, form in measures:
        table.add_row(label, *["" if pd.isna(value) else "—" if np.isinf(value) else form.format(value)
                               for value in scenarios[column]])
    console.print(table)
    today = scenarios["branches"].iloc[0]
    for row in scenarios.iloc[1:].itertuples():
        if today and row.closed == today:
            console.print(f"[yellow]{row.scenario} keeps none of today's {today} branches (by branch id): is it a plan "
                          "of this data and bank?[/]")
    if towns.empty:
        console.print("The plans cover the same residents in every town")
        return
    by = compared_by(towns)
    plans = [c.removeprefix(by) for c in towns.columns if c.startswith(by)]
    words = "counted by distance 按距离折算" if by == "counted_wan " else "covered"
    console.print(f"Towns where the plans differ most 方案差异最大的乡镇 ({len(towns)}), {words} 万人 "
                  f"({' / '.join(plans)}):")
    for row in towns.head(5).to_dict("records"):
        values = " / ".join(f"{row[f'{by}{plan}']:.2f}" for plan in plans)
        console.print(f"  {row['name']} ({row['county']}) of {row['residents_wan']:.2f}: {values}")


@app.command()
def report(
    ctx: typer.Context,
    data: Optional[Path] = DATA_OPTION,
    out: Path = typer.Option(Path("out/reports"), callback=_out_folder, help="Folder for the reports."),
    core_km: float = DIAGNOSIS_CORE_KM_OPTION,
    county_km: float = DIAGNOSIS_COUNTY_KM_OPTION,
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = MINUTES_ANY_OPTION,
    mode: str = MODE_OPTION,
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    grid_km: Optional[float] = GRID_INSTEAD_OPTION,
    h3: Optional[int] = H3_INSTEAD_OPTION,
    types: bool = typer.Option(False, "--types", help="Add the recommended branch types (assign-types, default "
                                                      "rules)."),
    new_per_county: int = typer.Option(0, min=0, help="Also suggest up to N new branches per county 建议新设网点: "
                                       "the county's town points that, beside today's branches, bring the most of "
                                       "its residents within the radius (an exact MCLP per county)."),
    candidates: Optional[Path] = typer.Option(None, help="With --new-per-county: " + CANDIDATES_HELP),
    candidates_folder: Optional[str] = CANDIDATES_FOLDER_OPTION,
    network: Optional[Path] = typer.Option(None, help=f"Road network ({NETWORK_KINDS}): road km and times."),
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    bank: Optional[str] = typer.Option(None, callback=_bank_check, help=BANK_ONLY_HELP),
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    template: Optional[Path] = TEMPLATE_OPTION,
    word_template: Optional[Path] = WORD_TEMPLATE_OPTION,
    title: Optional[str] = typer.Option(None, help="The title of the meeting's slides and of the analysis report "
                                        "(city_summary.pptx, .docx), e.g. 农行合肥分行网点覆盖诊断 (default: 网点覆盖诊断 "
                                        "and the data, with --bank the bank)."),
    full_km: Optional[str] = DIAGNOSIS_FULL_KM_OPTION,
    full_minutes: Optional[str] = DIAGNOSIS_FULL_MINUTES_OPTION,
    access_decay: str = ACCESS_DECAY_OPTION,
    access_beta: Optional[float] = ACCESS_BETA_OPTION,
    access_method: str = ACCESS_METHOD_OPTION,
    access_supply: Optional[str] = ACCESS_SUPPLY_OPTION,
    access_type_supply: list[str] = ACCESS_TYPE_SUPPLY_OPTION,
) -> None:
    """Batch reports on underserved towns: one HTML + Excel per county, with a map of it (and with
    --new-per-county its best sites for new branches 建议新设网点), and a city summary — also as slides for the
    meeting (city_summary.pptx) and as the analysis report 分析报告 to edit in Word (city_summary.docx)."""
    def run() -> None:
        from rich.progress import Progress

        from netopt.access import accessibility
        from netopt.competition import rival_coverage
        from netopt.report import DECK_TITLE, batch_reports

        _check_one_grid(grid_km, h3)
        how = _access_way(access_decay, access_beta, access_method, supply=access_supply,
                          type_supply=access_type_supply)
        radius = _travel_time(ctx, minutes, mode) or _region_radii(core_km, county_km, fringe_km)
        full = _diagnosis_full(full_km, full_minutes, radius)
        every_bank, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        ds = _bank_only(every_bank, bank)
        demand = _grid_demand(ds, grid_km, h3)
        roads = _roads(network, network_coords, network_split)
        measure = partial(analyze_coverage, demand=demand, **_limit_keywords(radius), **roads, **full)
        cov = measure(ds)
        if candidates is not None and not new_per_county:
            raise InputError("--candidates: the sites new branches are suggested among — add --new-per-county N",
                             file="command line")
        own = _read_candidates_option(candidates, candidates_folder, coords, ds,
                                      "suggested new branches count no costs")
        new_sites = _suggested_sites(ds, radius, new_per_county, own, demand, {**roads, **full})
        if new_sites is not None:  # the network with them opened: for compare, or analyze --branches
            _write_network_after(every_bank, new_sites.assign(kind="new"), [*ds.branches["branch_id"].astype(str),
                                 *new_sites["site_id"].astype(str)], bank, coords, out / "new_sites_branches.csv")
        _remove_left_over(out, ("new_sites_branches.csv",), [out / "new_sites_branches.csv"] * (new_sites is not None))
        rivals = None if bank is None else rival_coverage(cov, measure(every_bank))
        access = accessibility(ds, demand=demand, **_limit_keywords(radius), **roads, **how)  # the same limits
        plan = None
        if types:
            from netopt.models.types import assign_branch_types

            plan = assign_branch_types(ds)
        with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
            task = progress.add_task("County reports 区县报告", total=len(cov.by_county))
            written, failures = batch_reports(cov, out, progress=lambda: progress.advance(task), plan=plan,
                                              rivals=rivals, new_sites=new_sites, city=ds, coords=coords,
                                              title=title or f"{DECK_TITLE} — {source}" + (f", {bank}" if bank else ""),
                                              template=template, word_template=word_template, access=access)
        console.print(f"Wrote {len(written)} files to {out} for {source}; slides for the meeting 汇报材料: "
                      f"{out / 'city_summary.pptx'}; the analysis report 分析报告: {out / 'city_summary.docx'}")
        for county, reason in failures.items():
            errors.print(f"[yellow]county {county} failed:[/] {reason}")
        if failures:
            raise typer.Exit(1)
    _guard(run)


def _suggested_sites(ds: Dataset, radius: dict | TravelTime, per_county: int, own: Optional[gpd.GeoDataFrame] = None,
                     cells: Optional[gpd.GeoDataFrame] = None, roads: dict | None = None) -> Optional[pd.DataFrame]:
    """report --new-per-county: planning.suggest_new_sites (among the --candidates `own`, else the town points;
    residents on the diagnosis's grid `cells` where it has one; by road with _roads' `roads`, and with the
    diagnosis's full radius among them, counted by distance), with what they bring city-wide said (None for 0)."""
    if not per_county:
        return None
    from netopt.planning import counted_by_distance, suggest_new_sites, suggested_gain_wan

    with _working("Suggesting new branches by county 建议新设网点…"):
        sites = suggest_new_sites(ds, per_county=per_county, new_sites=own, demand=cells, **_limit_keywords(radius),
                                  **(roads or {}))
    more = "more residents counted covered by distance 按距离折算" if counted_by_distance(sites) else \
        "more residents within reach"
    console.print(f"Suggested new branches 建议新设网点: {len(sites)} in {sites['county'].nunique()} counties, "
                  f"bringing {suggested_gain_wan(sites):,.1f} 万 {more}; the best: "
                  + ", ".join(f"{row.name} ({row.county}) +{row.adds_covered_wan:.1f}万"
                              for row in sites.nlargest(3, "adds_covered_wan").itertuples()))
    return sites


@app.command("map")
def map_command(
    ctx: typer.Context,
    data: Optional[Path] = DATA_OPTION,
    out: Path = typer.Option(Path("out"), callback=_out_folder, help="Folder for network_map.html, .png and .pdf."),
    core_km: float = DIAGNOSIS_CORE_KM_OPTION,
    county_km: float = DIAGNOSIS_COUNTY_KM_OPTION,
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = MINUTES_ANY_OPTION,
    mode: str = MODE_OPTION,
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    types: bool = typer.Option(False, "--types", help="Colour branches by the type plan of assign-types (default "
                                                      "rules)."),
    service_areas: bool = typer.Option(False, "--service-areas", help="Outline each branch's service area 服务范围 (its "
                                                                      "Voronoi cell in its county) on the PNG and "
                                                                      "PDF too; the HTML map has them as a layer."),
    network: Optional[Path] = typer.Option(None, help=f"Road network ({NETWORK_KINDS}): coverage by road."),
    network_coords: Optional[str] = NETWORK_COORDS_OPTION,
    network_split: bool = NETWORK_SPLIT_OPTION,
    bank: Optional[str] = typer.Option(None, callback=_bank_check, help=BANK_ONLY_HELP),
    counties: Optional[Path] = COUNTIES_OPTION,
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help=BRANCHES_HELP),
    coords: str = COORDS_OPTION,
    population: Optional[str] = POPULATION_OPTION,
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    full_km: Optional[str] = DIAGNOSIS_FULL_KM_OPTION,
    full_minutes: Optional[str] = DIAGNOSIS_FULL_MINUTES_OPTION,
    grid_km: Optional[float] = GRID_INSTEAD_OPTION,
    h3: Optional[int] = H3_INSTEAD_OPTION,
) -> None:
    """The meeting map: an offline HTML map and the same view as PNG and PDF."""
    def run() -> None:
        from netopt.maps import network_map, static_map
        from netopt.models.types import assign_branch_types

        _check_one_grid(grid_km, h3)
        limit = _travel_time(ctx, minutes, mode) or _region_radii(core_km, county_km, fringe_km)
        full = _diagnosis_full(full_km, full_minutes, limit)
        every_bank, source = _load(data, coords, branches, population, skip_unlocated, counties, towns)
        ds = _bank_only(every_bank, bank)
        cov = analyze_coverage(ds, demand=_grid_demand(ds, grid_km, h3), **_limit_keywords(limit),
                               **_roads(network, network_coords, network_split), **full)
        plan = assign_branch_types(ds, coverage=cov) if types else None
        fmap = network_map(every_bank, coverage=cov, plan=plan, our_bank=bank)
        written = [write_atomic(out / "network_map.html", lambda p: fmap.save(str(p)))]
        written += [static_map(ds, out / f"network_map.{kind}", coverage=cov, plan=plan, service_areas=service_areas)
                    for kind in ("png", "pdf")]
        console.print(f"Wrote {', '.join(str(w) for w in written)} for {source}")
    _guard(run)


@app.command()
def batch(
    ctx: typer.Context,
    units: Path = typer.Option(..., help="Units table (CSV, Excel, GeoJSON...): adcode, name, population, optional "
                               "area_km2, region_type, boundary; e.g. data/units/units.csv (2,948 units of China)."),
    data: Path = typer.Option(..., help="Folder with the towns table (towns.csv, towns.csv.gz, 乡镇人口.xlsx …; each "
                              "town's county_id = its unit's adcode, or its county's name) and, if any, the "
                              "branches table."),
    towns: Optional[Path] = TOWNS_OPTION,
    branches: Optional[Path] = typer.Option(None, help="A branches table instead of the one in --data (if any)."),
    out: Path = typer.Option(Path("out/batch"), callback=_out_folder, help="Output folder: national.csv/.parquet/_summary.xlsx and "
                             "units/<adcode>/. Rerun with the same folder to resume."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a running dask scheduler (tcp://host:8786); "
                                            "default: a LocalCluster on this machine; 'serial': no dask."),
    workers: Optional[int] = typer.Option(None, min=1, help="LocalCluster worker processes (default: one per core)."),
    only: list[str] = typer.Option([], callback=_only_check,
                                   help="Keep units whose adcode starts with this (repeatable), e.g. 34 for 安徽省."),
    optimize: bool = typer.Option(False, "--optimize", help="Also solve LSCP and MCLP on each unit's towns."),
    plan_types: bool = typer.Option(False, "--plan-types", help="Also plan branch types where the unit has branches."),
    new_per_county: int = typer.Option(0, min=0, help="Where a unit has branches, also suggest up to N new ones "
                                       "建议新设网点 (its town points bringing the most residents within the radius)."),
    maps: bool = typer.Option(False, "--maps", help="Open each unit's county report with a map of the unit (about "
                                                    "half a second a unit)."),
    core_km: float = typer.Option(1.2, callback=_above_zero, help="Service radius in core urban towns, km."),
    county_km: float = typer.Option(3.5, callback=_above_zero, help="Service radius elsewhere, km."),
    fringe_km: Optional[float] = FRINGE_KM_OPTION,
    minutes: Optional[str] = MINUTES_ANY_OPTION,
    mode: str = MODE_OPTION,
    speed_kmh: Optional[str] = SPEED_OPTION,
    walk_speed_kmh: Optional[float] = WALK_SPEED_OPTION,
    detour_factor: Optional[float] = DETOUR_OPTION,
    time_limit: float = typer.Option(60.0, callback=_above_zero, help="Solver time limit per model and unit, seconds."),
    units_per_task: Optional[int] = typer.Option(None, min=1,
                                                 help="Units sent to a worker at a time (default: about eight "
                                                      "tasks per worker, at most 50 units each)."),
    bank: Optional[str] = typer.Option(None, callback=_bank_check,
                                       help=BANK_ONLY_HELP + " Every bank's branches and coverage beside them."),
    skip_unlocated: bool = SKIP_UNLOCATED_OPTION,
    full_km: Optional[str] = DIAGNOSIS_FULL_KM_OPTION,
    full_minutes: Optional[str] = DIAGNOSIS_FULL_MINUTES_OPTION,
    access_decay: str = ACCESS_DECAY_OPTION,
    access_beta: Optional[float] = ACCESS_BETA_OPTION,
    access_method: str = ACCESS_METHOD_OPTION,
    access_supply: Optional[str] = ACCESS_SUPPLY_OPTION,
    access_type_supply: list[str] = ACCESS_TYPE_SUPPLY_OPTION,
    title: Optional[str] = typer.Option(None, help="The title of the summary's slides and written report "
                                        "(national_summary.pptx, .docx; default: 网点覆盖诊断 各单位汇总)."),
    template: Optional[Path] = TEMPLATE_OPTION,
    word_template: Optional[Path] = WORD_TEMPLATE_OPTION,
) -> None:
    """Run the diagnosis (and optionally models and type plans) for every unit on dask; resumable."""
    def run() -> None:
        from netopt.batch import BatchInterrupted, BatchOptions, read_batch, run_batch

        how = _access_way(access_decay, access_beta, access_method, supply=access_supply,
                          type_supply=access_type_supply)
        timed = _travel_time(ctx, minutes, mode)
        full = _diagnosis_full(full_km, full_minutes, timed or _region_radii(core_km, county_km, fringe_km))
        with _working("Reading the units 读取数据…"), warnings.catch_warnings(record=True) as heard:
            warnings.simplefilter("always", LeftOutWarning)
            tables = {kind: path for kind, path in (("towns", towns), ("branches", branches)) if path is not None}
            tasks = read_batch(units, data, only=only or None, skip_unlocated=skip_unlocated, tables=tables)
        for note in heard:
            if issubclass(note.category, LeftOutWarning):
                console.print(f"[yellow]{note.message}[/]")
            else:
                warnings.showwarning(note.message, note.category, note.filename, note.lineno)
        options = BatchOptions(radius_km=_region_radii(core_km, county_km, fringe_km),
                               radius_min=timed.minutes if timed else None, mode=_mode_given(mode),
                               **(timed.speeds if timed else {}), optimize=optimize,
                               plan_types=plan_types, time_limit=time_limit, new_per_county=new_per_county,
                               maps=maps, bank=bank, **full, access=None if how == DEFAULT_ACCESS else how)
        _say_batch_bank(tasks, bank)
        try:
            summary = _run_with_progress(lambda progress: run_batch(
                tasks, out, options, scheduler=scheduler, workers=workers, progress=progress,
                units_per_task=units_per_task, title=title, template=template, word_template=word_template),
                len(tasks))
        except BatchInterrupted as stop:
            _fail(f"interrupted: {len(stop.summary.computed)} units saved this run; run the same command again "
                  "to resume", 130)
        _batch_summary(summary, out)
    _guard(run)


def _say_batch_bank(tasks: list, bank: Optional[str]) -> None:
    """batch --bank: refused where no unit has a branch of it (io.bank_mask's message); the banks it matches said,
    as for the other commands."""
    if bank is None:
        return
    from netopt.io import bank_mask

    every = pd.concat([task.branches for task in tasks], ignore_index=True)
    _say_banks_matched(every, bank)  # bank_mask: an error where none is the bank's
    console.print(f"--bank {bank}: {int(bank_mask(every, bank).sum()):,} of the units' {len(every):,} branches")


def _run_with_progress(start: Callable, total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("units 单位"), BarColumn(), MofNCompleteColumn(), TextColumn("left 剩余"),
               TimeRemainingColumn(), TextColumn("{task.fields[last]}"))
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("batch", total=None, last="")

        def progress(done: int, todo: int, outcome) -> None:
            name = outcome.row.get("name") or outcome.unit_id
            bar.update(task, completed=done, total=todo, last=f"{name} {outcome.row['status']}")
        return start(progress)


def _batch_summary(summary, out: Path) -> None:
    console.print(f"{summary.total} units: {len(summary.computed)} computed, {len(summary.skipped)} already "
                  f"finished (skipped), {len(summary.failed)} failed, {summary.seconds:.1f} s")
    for unit_id, reason in list(summary.failed.items())[:10]:
        errors.print(f"  failed {unit_id}: {reason}", highlight=False)
    if summary.unplanned:
        shown = ", ".join(summary.unplanned[:10]) + (" …" if len(summary.unplanned) > 10 else "")
        console.print(f"[yellow]{len(summary.unplanned)} units found no plan within --time-limit for a model "
                      f"({shown}): their rows say which; running again with a longer --time-limit recomputes them[/]")
    console.print(f"National table 汇总表: {', '.join(str(p) for p in summary.outputs)}; per-unit files in "
                  f"{out / 'units'}")


def _unwrap_command_helps() -> None:
    """Join each command docstring's wrapped lines, so --help wraps them to the terminal, not at the source's breaks."""
    for command in app.registered_commands:
        paragraphs = inspect.getdoc(command.callback).split("\n\n")
        command.help = "\n\n".join(" ".join(paragraph.split("\n")) for paragraph in paragraphs)


_unwrap_command_helps()


def main() -> None:
    """Entry point for `python -m netopt`."""
    app(prog_name="netopt")


if __name__ == "__main__":
    sys.exit(main())
