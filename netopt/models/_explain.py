"""Why a model has no solution: free one site rule at a time and report how far the others push it."""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from netopt.models._milp import INF, MatrixMILP, solve_highs

SECONDS_PER_RULE = 10.0  # each rule's question is a small MILP; an answer not proven by then is a bound
SECONDS_IN_ALL = 30.0  # rules left when this is spent are not checked (a city has a dozen counties at most)
COUNTY_PREFIX, COUNTY_MAX_PREFIX = "county_min_", "county_max_"
SPACING_PREFIX = "spacing_"  # one row per pair of sites too close to both open (SiteRules.too_close)


@dataclass(frozen=True)
class Blocking:
    """A rule row that alone blocks every plan: with it freed, the row is at `least` `value` (above its upper
    limit) or at `most` `value` (below its lower limit)."""

    name: str
    side: str  # "least" or "most"
    value: float
    limit: float


def blocking_reasons(milp: MatrixMILP, is_rule: Callable[[str], bool], describe: Callable[[Blocking], str]) -> str:
    """Each named rule row that alone makes the model infeasible, described and joined ('' when none alone
    does); says so when the time ran out before every rule was checked."""
    reasons, deadline = [], time.perf_counter() + SECONDS_IN_ALL
    for index, name in enumerate(milp.row_names or []):
        if not is_rule(name):
            continue
        if time.perf_counter() > deadline:
            if reasons:
                reasons.append("(rules after these not checked: out of time)")
            break
        blocking = _blocking(milp, index, name)
        if blocking is not None:
            reasons.append(describe(blocking))
    return "; or ".join(reasons)


def relaxed_rule_reasons(milp: MatrixMILP, budget: float | None, requirement: str = "", cost_unit: str = "") -> str:
    """Every site rule (budget, max_new, max_sites, p, county minimums and maximums) that alone makes the model
    infeasible, with what the other rules need (costs in `cost_unit`); else the minimum spacing if it does;
    '' when no single rule does."""
    others = "the other rules" + (f" and {requirement}" if requirement else "")
    return blocking_reasons(
        milp, lambda name: (name in ("budget", "max_new", "max_sites", "p")
                            or name.startswith((COUNTY_PREFIX, COUNTY_MAX_PREFIX))),
        lambda b: _too_small(b.name, b.value, b.limit, budget, others, cost_unit) if b.side == "least" else
        _too_large(b.name, b.value, b.limit)) or _spacing_reason(milp, others)


def _spacing_reason(milp: MatrixMILP, others: str) -> str:
    """When the minimum spacing alone blocks every plan (the model is feasible with every pair allowed): says
    so, with the number of pairs; else ''."""
    spacing = np.array([name.startswith(SPACING_PREFIX) for name in milp.row_names or []], bool)
    if not spacing.any():
        return ""
    row_lo, row_hi = milp.row_lo.copy(), milp.row_hi.copy()
    row_lo[spacing], row_hi[spacing] = -INF, INF
    question = replace(milp, c=np.zeros(len(milp.c)), row_lo=row_lo, row_hi=row_hi, offset=0.0)
    if solve_highs(question, time_limit=SECONDS_PER_RULE).status not in ("optimal", "feasible"):
        return ""
    return (f"the minimum spacing blocks every plan: {others} can be met only with sites closer to each other "
            f"than it ({int(spacing.sum())} pairs of candidate sites are that close)")


def _blocking(milp: MatrixMILP, index: int, name: str) -> Blocking | None:
    lo, hi = float(milp.row_lo[index]), float(milp.row_hi[index])
    if hi < INF:
        least = _row_extreme(milp, index, "min")
        if least is None:
            return None
        if least > hi + 1e-6:
            return Blocking(name, "least", least, hi)
    if lo > -INF:
        most = _row_extreme(milp, index, "max")
        if most is not None and most < lo - 1e-6:
            return Blocking(name, "most", most, lo)
    return None


def _row_extreme(milp: MatrixMILP, index: int, sense: str) -> float | None:
    """The least (or most) the row can be with its own bounds dropped, or None when the rest is infeasible.
    At the time limit the solver's bound stands in: still a true 'at least' (or 'at most')."""
    row = milp.A.getrow(index).toarray().ravel()
    row_lo, row_hi = milp.row_lo.copy(), milp.row_hi.copy()
    row_lo[index], row_hi[index] = -INF, INF
    question = replace(milp, c=row, row_lo=row_lo, row_hi=row_hi, sense=sense, offset=0.0)
    raw = solve_highs(question, time_limit=SECONDS_PER_RULE)
    if raw.status not in ("optimal", "feasible") or not math.isfinite(raw.bound):
        return None
    value = raw.bound
    if np.all(milp.integer[row != 0]) and np.all(row == np.round(row)):
        value = math.ceil(value - 1e-6) if sense == "min" else math.floor(value + 1e-6)
    return float(value)


def _sites(count: float, kind: str = "") -> str:
    return f"{count:g} {kind}site" + ("" if count == 1 else "s")


def _too_small(name: str, least: float, hi: float, budget: float | None, others: str, unit: str) -> str:
    if name == "budget":
        saving = hi - (budget or 0.0)  # the budget row carries the savings of closable sites on its right side
        return (f"the budget {budget:,.6g}{unit} is too small: meeting {others} costs at least "
                f"{least - saving:,.6g}{unit}")
    if name.startswith(COUNTY_MAX_PREFIX):
        county = name[len(COUNTY_MAX_PREFIX):]
        return f"county '{county}' may have at most {_sites(hi)} open, but meeting {others} needs at least {least:g} there"
    if name in ("max_new", "max_sites"):
        kind = "new " if name == "max_new" else ""
        return f"at most {_sites(hi, kind)} may open, but meeting {others} needs at least {least:g}"
    return f"p={hi:g} is too small: meeting {others} needs at least {_sites(least)}"


def _too_large(name: str, most: float, lo: float) -> str:
    if name.startswith(COUNTY_PREFIX):
        county = name[len(COUNTY_PREFIX):]
        return f"county '{county}' needs {_sites(lo)} open, but the other rules allow at most {most:g} there"
    return f"p={lo:g} is too large: the other rules allow at most {_sites(most)} open"
