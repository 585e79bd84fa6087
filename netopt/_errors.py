"""Errors raised by netopt: one base class, one subclass per kind of failure."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace

from netopt._paths import readable

MAX_LISTED_PROBLEMS = 20
EMPTY_VALUES = "empty values in a required column"
NO_PLAN_YET = "no plan yet 尚无方案"  # what a solve the time limit ended before any plan has, in users' words


class NetoptError(Exception):
    """Base class of every error netopt raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is and what is wrong."""

    file: str
    message: str
    column: str | None = None
    rows: tuple[int, ...] = ()
    row_word: str = "row"
    unlocated: bool = False  # a branch's coordinates only: skip_unlocated (--skip-unlocated) would leave it out
    read_as_blank: bool = False  # cells holding what a reader gives as blank (#N/A): not said to be EMPTY_VALUES too

    def location(self) -> str:
        """Where the problem is: "towns.csv, row 5, column '人口'" (a file name in GBK bytes shown in Chinese)."""
        parts = [readable(self.file)]
        if self.rows:
            parts.append(describe_rows(self.rows, self.row_word))
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


def describe_rows(rows: tuple[int, ...], word: str = "row", limit: int = 10) -> str:
    """"rows 5, 12, 52 and 2 more" (the first `limit` of them), "row 5" for one."""
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{word if len(rows) == 1 else plural(word)} {shown}{more}"


def plural(word: str) -> str:
    """A row word's plural: rows, positions, indexes (a DataFrame's index labels)."""
    return word + ("es" if word.endswith(("s", "x", "ch", "sh")) else "s")


class InputError(NetoptError):
    """A user's input file or table cannot be used; lists every problem found."""

    def __init__(self, problems: list[Problem] | Problem | str, file: str = "<input>") -> None:
        if isinstance(problems, str):
            problems = [Problem(file=file, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        # each problem once: a damaged workbook looked into for each table it may hold is said once, not once for each
        self.problems: list[Problem] = _said_once(list(dict.fromkeys(problems)))
        super().__init__(self._summary())

    def _summary(self) -> str:
        shown = [str(p) for p in self.problems[:MAX_LISTED_PROBLEMS]]
        hidden = len(self.problems) - len(shown)
        if hidden > 0:
            shown.append(f"... and {hidden} more problems")
        if len(shown) == 1:
            return shown[0]
        return f"{len(self.problems)} problems found:\n  " + "\n  ".join(shown)


def _said_once(problems: list[Problem]) -> list[Problem]:
    """The `problems` without the rows of an EMPTY_VALUES problem another one says hold what reads as blank (an
    error value in the same column): each cell said once, by what it holds."""
    said = {(p.column, row) for p in problems if p.read_as_blank for row in p.rows}
    if not said:
        return problems
    kept = []
    for problem in problems:
        if problem.message == EMPTY_VALUES and not problem.read_as_blank:
            rows = tuple(row for row in problem.rows if (problem.column, row) not in said)
            problem = replace(problem, rows=rows) if rows else None
        if problem is not None:
            kept.append(problem)
    return kept


class InfeasibleError(NetoptError):
    """A model has no solution; the message names what cannot be satisfied."""


class SolverError(NetoptError):
    """The solver failed or is not available."""


class LeftOutWarning(UserWarning):
    """Rows a reader left out on purpose (e.g. branches marked closed), said to a script as a warning."""


def is_number(value) -> bool:
    """A real number (not a bool, not text)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_amount(value, what: str, file: str, unit: str = "", positive: bool = True, required: bool = False) -> None:
    """An InputError unless `value` is a finite number above 0 (0 or more where not `positive`), or None where
    not `required`, named as `what` in `unit`."""
    if value is None and not required:
        return
    if not (is_number(value) and math.isfinite(value) and (value > 0 if positive else value >= 0)):
        unit_text = f" of {unit}" if unit else ""
        raise InputError(f"{what} must be a number{unit_text}, {'above 0' if positive else '0 or more'}; got "
                         f"{value!r}", file=file)


def check_kind(value, kind: type | tuple[type, ...], said: str, file: str) -> None:
    """An InputError unless `value` is a `kind`; `said` tells what it is, e.g. "coverage is a diagnosis from
    analyze_coverage"."""
    if not isinstance(value, kind):
        shown = repr(value)
        shown = f" ({shown})" if len(shown) <= 60 and "\n" not in shown else ""  # not a whole table's
        raise InputError(f"{said}, not {type(value).__name__}{shown}", file=file)


def non_negative_numbers(values, count: int, problem: InputError):
    """`values` as a float array of `count` finite numbers of 0 or more (all 1 for None), else `problem` raised."""
    import numpy as np

    try:
        array = np.ones(count) if values is None else np.asarray(values, float)
    except (TypeError, ValueError):
        raise problem from None
    if array.shape != (count,) or not np.isfinite(array).all() or (array < 0).any():
        raise problem
    return array


def check_count(value, what: str, file: str, least: int = 1) -> None:
    """An InputError unless `value` is a whole number (not a bool) of at least `least`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise InputError(f"{what} must be a whole number of at least {least}, got {value!r}", file=file)


def check_columns(table, columns: tuple[str, ...], file: str, what: str, made_by: str) -> None:
    """An InputError when `table` (`what`, e.g. "plan") is not a table with `columns`, as `made_by` gives it."""
    missing = [c for c in columns if c not in getattr(table, "columns", ())]
    if missing:
        named = ", ".join(columns[:-1]) + f" and {columns[-1]}" if len(columns) > 1 else columns[0]
        raise InputError(f"{what} needs the columns {named}, as {made_by} gives (missing: {', '.join(missing)})",
                         file=file)
