"""Phased opening 分期建设: a plan's new sites opened in phases, each phase the best given the phases before."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from netopt._errors import InputError, check_count
from netopt.models._milp import Result, report_stage


def phased_plan(model, counts, plan: Result | None = None, time_limit: float | None = None,
                **solve_options) -> pd.DataFrame:
    """LocationModel.phases: `plan` (or `model` solved) opened in phases of `counts` new sites, the last phase
    taking those left; see there."""
    _check_phased(model)
    plan = model.solve(time_limit=time_limit, **solve_options) if plan is None else plan
    if not plan.has_plan:
        raise InputError(f"phases: the plan has no sites to open in phases ({plan.status}: {plan.reason})",
                         file="model")
    today = model.rules.fixed
    opened = np.setdiff1d(model._positions_of(plan.selected, "phases"), today)
    others = np.setdiff1d(np.arange(model.rules.n_sites), np.union1d(opened, today))
    rows = [_today_row(model, today)]
    done = np.zeros(0, int)
    for k, size in enumerate(phase_sizes(counts, len(opened)), 1):
        report_stage(f"phase 第{k}期: {size} of the plan's new sites")
        open_before = np.union1d(today, done)
        p = len(open_before) + size
        rules = replace(model.rules, fixed=open_before, forbidden=np.union1d(model.rules.forbidden, others),
                        county_min=None)
        phase = model._variant(p=p, rules=rules).solve(time_limit=time_limit, **solve_options)
        chosen = np.setdiff1d(model._positions_of(phase.selected, "phases"), open_before)
        at_once = model._variant(p=p, rules=replace(model.rules, county_min=None)).solve(time_limit=time_limit,
                                                                                        **solve_options)
        rows.append({"phase": k, "new": len(chosen), "new_so_far": len(done) + len(chosen),
                     "objective": phase.objective, "best_at_once": at_once.objective, "status": phase.status,
                     "sites": [model.site_labels[j] for j in chosen]})
        done = np.union1d(done, chosen)
    return _with_gains(pd.DataFrame(rows), model.maximise)


def _check_phased(model) -> None:
    """Refuse models without a number of sites p, and plans that close sites (phases open new ones only)."""
    if getattr(model, "p", None) is None:
        raise InputError(f"phases are for models with a number of sites p (MCLP, PMedian, PCenter, MarketShare, "
                         f"CapacitatedMCLP), not {type(model).__name__} without one", file="model")
    if len(np.setdiff1d(model.rules.closable, model.rules.forbidden)):
        raise InputError("phases open a plan's new sites around the sites open today, which stay (or close "
                         "whatever the plan: closable and forbidden): a model whose existing sites may close is not "
                         "phased; plan the moves first, then phase the openings", file="model")


def phase_sizes(counts, total: int) -> list[int]:
    """The number of new sites each phase opens: `counts` (each a whole number ≥ 1, together at most `total`),
    then the rest of the `total` as a last phase."""
    counts = list(counts) if isinstance(counts, Iterable) and not isinstance(counts, str) else [counts]
    for count in counts:
        check_count(count, "phases: a phase's number of new sites", "model", least=1)
    if sum(counts) > total:
        asked = f"phases of {' + '.join(map(str, counts))} = {sum(counts)}" if len(counts) > 1 else \
            f"a phase of {counts[0]}"
        opens = f"opens {total}" if total else "opens none (no new site adds to it): nothing to phase"
        raise InputError(f"{asked} new sites, but the plan {opens}", file="model")
    rest = total - sum(counts)
    return [int(c) for c in counts] + ([rest] if rest else [])


def _today_row(model, today: np.ndarray) -> dict:
    """Phase 0: the sites open before any phase (today's, and any fixed open), scored by the model."""
    value = model._objective(today) if len(today) else np.nan
    return {"phase": 0, "new": 0, "new_so_far": 0, "objective": value, "best_at_once": value, "status": "today",
            "sites": []}


def _with_gains(table: pd.DataFrame, maximise: bool) -> pd.DataFrame:
    """Each phase's gain over the one before and the shortfall of its network against the best of as many new
    sites opened at once, both positive where better (more won, or less travel)."""
    sign = 1.0 if maximise else -1.0
    table.insert(4, "gain", sign * table["objective"].diff())
    behind = sign * (table["best_at_once"] - table["objective"])
    same = np.isclose(table["best_at_once"], table["objective"], rtol=1e-9, atol=1e-6)
    table.insert(6, "behind_best", behind.where(~same, 0.0))
    return table
