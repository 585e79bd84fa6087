"""What every location model shares: site rules (fixed, closable, budget, county limits) and solving."""
from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, check_count, check_kind, is_number
from netopt.heuristics import NearestTwo
from netopt.models._explain import SPACING_PREFIX, relaxed_rule_reasons
from netopt.models._milp import (INF, MatrixMILP, RawSolution, Result, check_solver_arguments, relative_gap,
                                 report_stage, seconds_left, solve_highs, solve_pulp, stopped_without_plan, tie_broken,
                                 to_pulp)


RuleRows = tuple  # (sp.csr_matrix rows x sites, lower bounds, upper bounds, names): SiteRules.rows()
CHEAPER_SWAP_WORK = 200_000_000  # demand points priced, at most, swapping new sites for cheaper ones
KEEPING_SECONDS = 30.0  # at most, for the plan keeping the most existing sites (then cheapest) among equally good


def reach_rows(must_reach, n_sites: int) -> sp.csr_matrix | None:
    """must_reach (k x sites, each row needing an open site) as a sparse 0/1 matrix; an InputError for anything
    else."""
    if must_reach is None:
        return None
    try:
        matrix = sp.csr_matrix(must_reach, dtype=float)
    except (TypeError, ValueError):
        matrix = None
    if matrix is None or matrix.ndim != 2 or matrix.shape[1] != n_sites or not np.isin(matrix.data, (0.0, 1.0)).all():
        raise InputError(f"must_reach must be a 0/1 matrix with one column per site ({n_sites})", file="model")
    matrix.eliminate_zeros()
    return matrix


OUT_OF_REACH = 1e6  # a site costing this many times the budget (and savings) weighs no more in the budget row


@dataclass
class SiteRules:
    """Rules on which sites may open: the same for every model.

    - `fixed`: sites that must be open (e.g. existing branches that stay).
    - `existing`: sites open today; with `closable`, those that may close, saving `closing_saving` each.
    - `forbidden`: sites that may not open.
    - `open_cost` (new sites) and `budget`: Σ cost of new sites − Σ savings of closed sites ≤ budget.
    - `max_new`: at most this many new (not existing) sites.
    - `county` (one label per site) and `county_min` ({county: k}): at least k open sites in each county;
      `county_max` ({county: k}): at most k (e.g. a licence quota, or today's count to keep moves within a county).
    - `too_close`: pairs of sites (k x 2 positions) that may not both be open, e.g. those closer than a minimum
      spacing 网点间距 (`spacing_pairs`); pairs of two existing sites are left as they are today.
    - `must_reach`: a 0/1 matrix (k x sites, dense or sparse) whose every row needs at least one open site, e.g.
      for each town covered today the sites within its reach, so that no town is left without a branch
      (不新增服务空白乡镇).
    - `cost_unit`: how infeasibility reasons name the unit of costs and budget (e.g. "万元"; '' for none).
    - `carried_rows`: rule rows of a larger model carried over by on_sites (coefficients, lower, upper, names).
    """

    n_sites: int
    fixed: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    existing: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    closable: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    forbidden: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    open_cost: np.ndarray | None = None
    closing_saving: np.ndarray | None = None
    budget: float | None = None
    max_new: int | None = None
    county: np.ndarray | None = None
    county_min: dict | None = None
    county_max: dict | None = None
    too_close: np.ndarray | None = None
    must_reach: object = None
    cost_unit: str = ""
    carried_rows: tuple | None = None

    def __post_init__(self) -> None:
        for name in ("fixed", "existing", "closable", "forbidden"):
            setattr(self, name, self._positions(name))
        self._check_numbers()
        strays = np.setdiff1d(self.closable, self.existing)
        if len(strays):
            raise InputError(f"sites {strays.tolist()[:5]} are closable but not existing: closable sites are "
                             "branches open today, also listed in existing", file="model")
        staying = np.setdiff1d(self.existing, self.closable)  # existing sites that are not closable stay open
        both = np.intersect1d(np.union1d(self.fixed, staying), self.forbidden)
        if len(both):
            raise InputError(f"sites {both.tolist()[:5]} are both kept open (fixed, or existing and not closable) "
                             "and forbidden", file="model")
        self.fixed = np.union1d(self.fixed, staying)
        self.too_close = self._pairs()
        self.must_reach = reach_rows(self.must_reach, self.n_sites)

    def _pairs(self) -> np.ndarray:
        """too_close as sorted unique (k, 2) site positions without pairs of two existing sites; an InputError
        for anything that is not pairs of site positions."""
        if self.too_close is None:
            return np.zeros((0, 2), int)
        pairs = np.asarray(self.too_close)
        if pairs.size == 0:
            return np.zeros((0, 2), int)
        if (pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.dtype.kind not in "iuf"
                or not np.all(pairs == np.round(pairs))):
            raise InputError(f"too_close must be pairs of site positions (k rows of 2 whole numbers), got "
                             f"{pairs.ravel()[:4].tolist()} in shape {pairs.shape}", file="model")
        if pairs.min() < 0 or pairs.max() >= self.n_sites:
            raise InputError(f"too_close: site index out of range 0..{self.n_sites - 1}", file="model")
        pairs = np.unique(np.sort(pairs.astype(int), axis=1), axis=0)
        is_existing = np.zeros(self.n_sites, bool)
        is_existing[self.existing] = True
        keep = (pairs[:, 0] != pairs[:, 1]) & ~(is_existing[pairs[:, 0]] & is_existing[pairs[:, 1]])
        return pairs[keep]

    def _positions(self, name: str) -> np.ndarray:
        """A rule's site positions (0 .. n_sites - 1), sorted and unique; an InputError for anything else."""
        values = np.asarray(getattr(self, name)).ravel()
        if values.dtype == bool and len(values) == self.n_sites:
            return np.flatnonzero(values)
        if len(values) and (values.dtype.kind not in "iuf" or not np.all(values == np.round(values))):
            raise InputError(f"{name}: site positions must be whole numbers 0..{self.n_sites - 1} (row positions, "
                             f"not labels), got {values[:3].tolist()}", file="model")
        values = np.unique(values.astype(int))
        if len(values) and (values.min() < 0 or values.max() >= self.n_sites):
            raise InputError(f"{name}: site index out of range 0..{self.n_sites - 1}", file="model")
        return values

    def _check_numbers(self) -> None:
        """Per-site numbers have one finite value per site; limits are numbers of the right kind."""
        for name in ("open_cost", "closing_saving"):
            values = getattr(self, name)
            if values is not None and not finite_numbers(values, self.n_sites):
                raise InputError(f"{name} must be {self.n_sites} finite numbers, one per site", file="model")
        if self.budget is not None and not (is_number(self.budget) and np.isfinite(self.budget)):
            raise InputError(f"budget must be a number, got {self.budget!r}", file="model")
        if self.budget is not None and self.open_cost is None and self.closing_saving is None:
            raise InputError("budget needs open_cost (the cost of opening each site; closing_saving for closures)",
                             file="model")
        if self.max_new is not None:
            check_count(self.max_new, "max_new", "model", least=0)
        if self.county is not None and len(np.asarray(self.county).ravel()) != self.n_sites:
            raise InputError(f"county must give one label per site ({self.n_sites})", file="model")
        for name in ("county_min", "county_max"):
            check_kind(getattr(self, name), (dict, type(None)), f"{name} is a dict by county, e.g. {{'肥东县': 1}}",
                       "model")
            if getattr(self, name) and self.county is None:
                raise InputError(f"{name} needs county (one county label per site)", file="model")
            labels = pd.unique(pd.Series(np.asarray(self.county).ravel())) if getattr(self, name) else []
            for county, limit in (getattr(self, name) or {}).items():
                check_count(limit, f"{name} of '{county}'", "model", least=0)
                self._check_county_named(name, county, labels)

    @staticmethod
    def _check_county_named(name: str, county, labels) -> None:
        """An InputError when a county limit names a county no site belongs to (a misspelt name, most often),
        listing the counties the sites have (`labels`)."""
        if county not in set(labels):
            known = ", ".join(str(c) for c in labels[:12]) + (" …" if len(labels) > 12 else "")
            raise InputError(f"{name} names county '{county}', which has no candidate site (the sites' counties: "
                             f"{known})", file="model")

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each site's lower and upper bound as a 0/1 variable: 1 where fixed open, 0 where forbidden."""
        lo, hi = np.zeros(self.n_sites), np.ones(self.n_sites)
        lo[self.fixed] = 1.0
        hi[self.forbidden] = 0.0
        return lo, hi

    def rows(self, extra: tuple = ()) -> RuleRows:
        """Constraint rows on the site variables: (sparse coefficients: rows x sites, lower, upper, names) — the
        budget, the new-site limit, the county limits, `extra` rows of the model's own ((coefficients, lower,
        upper, name), e.g. p), rows carried from a larger model, and a row per pair too close to both open."""
        dense, lo, hi, names = self._limit_rows()
        for coefficients, low, high, name in extra:
            dense.append(np.asarray(coefficients, float)); lo.append(low); hi.append(high); names.append(name)
        blocks = [sp.csr_matrix(np.array(dense, float).reshape(len(dense), self.n_sites))]
        if self.carried_rows is not None:
            matrix, carried_lo, carried_hi, carried_names = self.carried_rows
            blocks.append(sp.csr_matrix(matrix)); lo += list(carried_lo); hi += list(carried_hi)
            names += list(carried_names)
        if self.must_reach is not None:
            k = self.must_reach.shape[0]
            blocks.append(self.must_reach); lo += [1.0] * k; hi += [INF] * k
            names += [f"must_reach_{r}" for r in range(k)]
        k = len(self.too_close)
        blocks.append(sp.csr_matrix((np.ones(2 * k), (np.repeat(np.arange(k), 2), self.too_close.ravel())),
                                    shape=(k, self.n_sites)))
        lo += [-INF] * k; hi += [1.0] * k
        names += [f"{SPACING_PREFIX}{a}_{b}" for a, b in self.too_close]
        return sp.vstack(blocks).tocsr(), np.asarray(lo, float), np.asarray(hi, float), names

    def is_new(self) -> np.ndarray:
        """Which sites are new (not today's existing branches), a mask over the sites."""
        new = np.ones(self.n_sites, bool)
        new[self.existing] = False
        return new

    def spend_per_site(self) -> np.ndarray:
        """What opening each site weighs in the budget row: a new site its opening cost, a closable existing one
        the saving its closing would bring (0 elsewhere, or without costs). A new site costing over a million times
        what the budget and every saving together pay weighs that much (still never opening): 1e308 would
        otherwise break the solver's arithmetic."""
        coef = np.zeros(self.n_sites)
        if self.closing_saving is not None:
            coef[self.closable] += np.asarray(self.closing_saving, float)[self.closable]
        if self.open_cost is not None:
            is_new = self.is_new()
            coef[is_new] = np.asarray(self.open_cost, float)[is_new]
            if self.budget is not None:
                room = float(self.budget) + float(coef[self.closable].sum())
                coef[is_new] = np.minimum(coef[is_new], OUT_OF_REACH * max(room, 1.0))
        return coef

    def _limit_rows(self) -> tuple[list[np.ndarray], list[float], list[float], list[str]]:
        """The dense rows of the budget, the new-site limit and the county limits."""
        rows, lo, hi, names = [], [], [], []
        is_new = self.is_new()
        if self.budget is not None:
            coef = self.spend_per_site()  # cost - s*(1 - y) <= budget  <=>  ... + s*y <= budget + s
            saving = float(coef[self.closable].sum()) if self.closing_saving is not None else 0.0
            rows.append(coef); lo.append(-INF); hi.append(float(self.budget) + saving); names.append("budget")
        if self.max_new is not None:
            rows.append(is_new.astype(float)); lo.append(-INF); hi.append(float(self.max_new)); names.append("max_new")
        for name, side in (("county_min", 0), ("county_max", 1)):
            for county, limit in (getattr(self, name) or {}).items():
                members = np.asarray(self.county) == county
                rows.append(members.astype(float)); names.append(f"{name}_{county}")
                lo.append(-INF if side else float(limit)); hi.append(float(limit) if side else INF)
        return rows, lo, hi, names

    def without_spacing(self) -> "SiteRules":
        """These rules without the minimum spacing (too_close pairs)."""
        return replace(self, too_close=None)

    def conflicts(self) -> sp.csr_matrix:
        """The too_close pairs as a symmetric 0/1 site x site matrix (row j: the sites too close to j)."""
        a, b = self.too_close[:, 0], self.too_close[:, 1]
        return sp.csr_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(self.n_sites, self.n_sites))

    def clashing(self, is_open: np.ndarray) -> np.ndarray:
        """The open sites, not fixed ones, with another open site too close (a 0/1 or boolean mask of open sites)."""
        is_open = np.asarray(is_open, bool)
        clash = (self.conflicts() @ is_open.astype(float) > 0) & is_open
        clash[self.fixed] = False
        return np.flatnonzero(clash)

    def row_matrix(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """The rule rows as (sparse coefficients: rows x sites, lower bounds, upper bounds)."""
        matrix, lo, hi, _ = self.rows()
        return matrix, lo, hi

    def on_sites(self, keep: np.ndarray, merged: np.ndarray | None = None) -> "SiteRules":
        """These rules for a model of the sites `keep` only, every other site closed — or, with `merged`, open
        and merged into one site put first. The rule rows are carried as plain rows (bounds less what the
        merged sites use); fixed, existing (the merged site counts as existing) and forbidden sites keep
        their roles."""
        matrix, lo, hi = self.row_matrix()
        used = np.asarray(matrix[:, merged].sum(axis=1)).ravel() if merged is not None else np.zeros(len(lo))
        shift = 0 if merged is None else 1
        position = np.full(self.n_sites, -1)
        position[keep] = shift + np.arange(len(keep))

        def mapped(sites: np.ndarray) -> np.ndarray:
            return position[sites][position[sites] >= 0]
        first = np.zeros(shift, int)
        block = sp.hstack([sp.csr_matrix((len(lo), shift)), matrix[:, keep]]).tocsr()
        existing = np.concatenate([first, mapped(self.existing)])
        names = [f"carried_{k}" for k in range(len(lo))]
        return SiteRules(len(keep) + shift, fixed=np.concatenate([first, mapped(self.fixed)]), existing=existing,
                         closable=mapped(np.setdiff1d(self.existing, self.fixed)), forbidden=mapped(self.forbidden),
                         carried_rows=(block, lo - used, hi - used, names) if len(lo) else None)

    def explain(self, p: int | None = None, at_most: bool = False, labels: list | None = None) -> str:
        """A first reason why the rules alone cannot be met with p sites open (at most p with `at_most`), or '';
        sites named by `labels` (the model's site labels) when given, else by position."""
        if p is not None and len(self.fixed) > p:
            return f"{len(self.fixed)} sites must stay open but only p={p} may be open"
        is_fixed = np.zeros(self.n_sites, bool)
        is_fixed[self.fixed] = True
        both = self.too_close[is_fixed[self.too_close].all(axis=1)]
        if len(both):
            first, second = (both[0] if labels is None else (labels[both[0, 0]], labels[both[0, 1]]))
            return (f"sites {first} and {second} must both be open but are too close to each other (closer than "
                    f"the minimum spacing)")
        if p is not None and not at_most and self.n_sites - len(self.forbidden) < p:
            return f"p={p} sites must open but only {self.n_sites - len(self.forbidden)} are allowed"
        for county, minimum in (self.county_min or {}).items():
            members = np.flatnonzero(np.asarray(self.county) == county)
            allowed = len(np.setdiff1d(members, self.forbidden))
            if allowed < minimum:
                return f"county '{county}' needs {minimum} open sites but has only {allowed} allowed candidates"
        if p is not None and self.county_min and sum(self.county_min.values()) > p:
            return f"the county minimums add up to {sum(self.county_min.values())} sites, more than p={p}"
        return (self._explain_county_min(p) or self._explain_county_max(p, at_most) or self._explain_budget()
                or self._explain_reach())

    def _explain_county_min(self, p: int | None) -> str:
        """County minimums needing more new sites than max_new allows (counties short of today's sites), or more
        open sites than p beside the sites that must stay open elsewhere."""
        if not self.county_min:
            return ""
        labels = np.asarray(self.county)
        today = np.zeros(self.n_sites, bool)
        today[self.existing] = True
        short = {county: minimum - int(np.sum(today & self.allowed & (labels == county)))
                 for county, minimum in self.county_min.items()}
        short = {county: missing for county, missing in short.items() if missing > 0}
        if self.max_new is not None and sum(short.values()) > self.max_new:
            named = ", ".join(list(map(str, short))[:5]) + (" …" if len(short) > 5 else "")
            return (f"the county minimums call for {sum(short.values())} new sites in the counties with too few of "
                    f"today's ({named}), more than the {self.max_new} new allowed")
        fixed_in = pd.Series(labels[self.fixed]).value_counts()
        need = int(sum(max(minimum, int(fixed_in.get(county, 0))) for county, minimum in self.county_min.items())
                   + fixed_in.drop(list(self.county_min), errors="ignore").sum())
        if p is not None and need > p:
            kept = "the site" if len(self.fixed) == 1 else f"the {len(self.fixed)} sites"
            return f"the county minimums, with {kept} that must stay open, take {need} open sites, more than p={p}"
        return ""

    def _explain_reach(self) -> str:
        """A must_reach row none of whose sites may open."""
        if self.must_reach is None:
            return ""
        reachable = self.must_reach @ self.allowed.astype(float)
        empty = np.flatnonzero(reachable < 0.5)
        return (f"must_reach row {empty[0]} needs an open site but none of its sites may open ({len(empty)} such "
                f"row{'s' if len(empty) > 1 else ''})") if len(empty) else ""

    def _explain_county_max(self, p: int | None, at_most: bool) -> str:
        """A county maximum below the county's fixed sites or its minimum, or maximums leaving fewer than p."""
        labels = np.asarray(self.county) if self.county is not None else None
        for county, maximum in (self.county_max or {}).items():
            fixed = int(np.sum(labels[self.fixed] == county))
            if fixed > maximum:
                return (f"county '{county}' may have at most {maximum} open site{'' if maximum == 1 else 's'} but "
                        f"{fixed} must stay open there")
            if (self.county_min or {}).get(county, 0) > maximum:
                return f"county '{county}' has a minimum of {self.county_min[county]} open sites above its maximum {maximum}"
        if p is not None and not at_most and self.county_max:
            allowed = self.allowed
            capped = pd.Series(labels).isin(list(self.county_max)).to_numpy()
            most = int(np.sum(allowed & ~capped)) + sum(min(int(np.sum(allowed & (labels == county))), maximum)
                                                        for county, maximum in self.county_max.items())
            if most < p:
                return f"p={p} sites must open but the county maximums leave room for only {most}"
        return ""

    def _explain_budget(self) -> str:
        """The sites fixed open costing more than the budget and every possible saving, or ''."""
        if self.budget is not None and self.open_cost is not None:
            fixed_new = np.setdiff1d(self.fixed, self.existing)
            need = float(np.asarray(self.open_cost, float)[fixed_new].sum())
            saving, unit = self._most_saving(), self.cost_unit
            if need - saving > self.budget:
                return f"the sites fixed open cost {need:g}{unit}, more than the budget {self.budget:g}{unit}" + (
                    f" plus the savings of closing every closable site ({saving:g}{unit})" if saving else "")
        return ""

    def describe(self) -> list[str]:
        """The rules set, each in a few words (those left at their default unsaid), e.g. ["101 existing",
        "at most 2 new", "budget 600 万元"]."""
        unit = f" {self.cost_unit}" if self.cost_unit else ""
        counts = [(len(self.existing), "existing"), (len(self.fixed), "fixed"), (len(self.closable), "closable"),
                  (len(self.forbidden), "forbidden")]
        said = [f"{count:,} {what}" for count, what in counts if count]
        said += [f"at most {self.max_new:,} new"] if self.max_new is not None else []
        said += [f"budget {self.budget:,.10g}{unit}"] if self.budget is not None else []
        said += [f"county minimums in {_counties(self.county_min)}"] if self.county_min else []
        said += [f"county maximums in {_counties(self.county_max)}"] if self.county_max else []
        pairs = 0 if self.too_close is None else len(self.too_close)
        said += [f"{pairs:,} pair{'s' if pairs > 1 else ''} too close"] if pairs else []
        said += [f"{self.must_reach.shape[0]:,} places each to reach"] if self.must_reach is not None else []
        return said

    @property
    def allowed(self) -> np.ndarray:
        """A mask of the sites that may open (all but the forbidden ones)."""
        mask = np.ones(self.n_sites, bool)
        mask[self.forbidden] = False
        return mask

    def today(self) -> np.ndarray:
        """The sites a plan meeting the rules may start from: today's (existing) and the fixed ones, less the
        forbidden (an existing branch that must close)."""
        return np.setdiff1d(np.union1d(self.fixed, self.existing), self.forbidden)

    def limits_plans(self, p: int | None = None) -> bool:
        """Whether a budget, county limits or a new-branch limit apply (rules heuristics and the reductions
        that only know fixed and forbidden sites cannot honour). With p, a max_new that no plan of at most p
        sites can exceed does not count: e.g. keep today's 101 branches, open at most 5 new, p = 106."""
        kept_existing = len(np.intersect1d(self.fixed, self.existing))
        binding_max_new = self.max_new is not None and (p is None or self.max_new < p - kept_existing)
        return (self._budget_may_bind(p) or bool(self.county_min) or bool(self.county_max) or binding_max_new
                or self._carried_may_bind(p) or len(self.too_close) > 0 or self._reach_may_bind())

    def _reach_may_bind(self) -> bool:
        """Whether some must_reach row has no site fixed open (so a plan may break it)."""
        if self.must_reach is None:
            return False
        is_fixed = np.zeros(self.n_sites)
        is_fixed[self.fixed] = 1.0
        return bool((self.must_reach @ is_fixed < 0.5).any())

    def _budget_may_bind(self, p: int | None) -> bool:
        """Whether the budget may rule out a plan of at most p sites (not when, nothing closable, it pays for the
        sites fixed open and the dearest p − fixed others)."""
        if self.budget is None:
            return False
        if self.open_cost is None or len(self.closable):
            return True
        return self._row_may_bind(self.spend_per_site(), -INF, float(self.budget), p)

    def _carried_may_bind(self, p: int | None) -> bool:
        """Whether a rule row carried from a larger model may rule out a plan of at most p sites (e.g. its
        new-site limit, with the sites kept open merged, often cannot)."""
        if self.carried_rows is None:
            return False
        matrix, lo, hi, _ = self.carried_rows
        matrix = sp.csr_matrix(matrix)
        return any(self._row_may_bind(matrix.getrow(r).toarray().ravel(), lo[r], hi[r], p) for r in range(len(lo)))

    def _row_may_bind(self, coefficients: np.ndarray, lo: float, hi: float, p: int | None) -> bool:
        """Whether the row lo <= coefficients · y <= hi may rule out a plan of at most p sites: not when it has
        no lower limit, no negative coefficient, and the fixed sites with the p − fixed largest others stay
        within hi."""
        if p is None or lo > -INF or (coefficients < 0).any():
            return True
        others = np.setdiff1d(np.flatnonzero(self.allowed), self.fixed)
        largest = np.sort(coefficients[others])[::-1][:max(p - len(self.fixed), 0)]
        return float(coefficients[self.fixed].sum() + largest.sum()) > hi + 1e-9

    def together(self, p: int | None = None, sites: str = "p") -> str:
        """For a plan no single rule blocks: the rules that together do, with their numbers (p named `sites`:
        "p" or LSCP's "max_sites")."""
        parts = [f"{sites}={p}"] if p is not None else []
        if len(self.fixed):
            parts.append(f"{len(self.fixed)} sites kept open")
        if len(self.forbidden):
            parts.append(f"{len(self.forbidden)} sites forbidden")
        if self.max_new is not None:
            parts.append(f"at most {self.max_new} new sites")
        if self.budget is not None:
            parts.append(f"the budget {self.budget:,.6g}{self.cost_unit}")
        minimums = {k: v for k, v in (self.county_min or {}).items() if v > 0}
        if minimums and len(set(minimums.values())) == 1:
            parts.append(f"at least {next(iter(minimums.values()))} open sites in each of {len(minimums)} counties")
        elif minimums:
            parts.append("the county minimums " + ", ".join(f"{k}: {v}" for k, v in minimums.items()))
        if self.county_max:
            parts.append("the county maximums " + ", ".join(f"{k}: {v}" for k, v in self.county_max.items()))
        if len(self.too_close):
            parts.append(f"the minimum spacing ({len(self.too_close)} pairs of sites too close to both open)")
        if self.must_reach is not None:
            parts.append(f"{self.must_reach.shape[0]} groups of sites each needing one open (must_reach)")
        return "no single rule blocks every plan, but these together do: " + "; ".join(parts)

    def admits(self, is_open: np.ndarray) -> bool:
        """Whether a plan (a mask of open sites) opens every fixed site and no forbidden one and meets every rule
        row: the budget, the new-site limit, the county minimums and maximums and the minimum spacing (rows(), as
        the models hold them)."""
        is_open = np.asarray(is_open, float)
        if not (np.all(is_open[self.fixed] > 0.5) and np.all(is_open[self.forbidden] < 0.5)):
            return False
        matrix, lo, hi = self.row_matrix()
        value = matrix @ is_open
        slack_lo = 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(lo), lo, 0.0)))
        slack_hi = 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, 0.0)))
        return bool(np.all(value >= lo - slack_lo) and np.all(value <= hi + slack_hi))

    def _most_saving(self) -> float:
        """What closing every closable site that may close would save (its positive savings)."""
        if self.closing_saving is None:
            return 0.0
        may_close = np.setdiff1d(self.closable, self.fixed)
        return float(np.clip(np.asarray(self.closing_saving, float)[may_close], 0.0, None).sum())


def finite_numbers(values, count: int) -> bool:
    """Whether `values` are `count` finite numbers."""
    try:
        array = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        return False
    return len(array) == count and bool(np.isfinite(array).all())


RULE_NAMES = ("fixed", "existing", "closable", "forbidden", "open_cost", "closing_saving", "budget", "max_new",
              "county", "county_min", "county_max", "too_close", "must_reach", "cost_unit")


def site_rules(n_sites: int, **rules) -> SiteRules:
    """SiteRules from a model constructor's keywords; an InputError naming any keyword that is not a rule."""
    unknown = sorted(set(rules) - set(RULE_NAMES))
    if unknown:
        raise InputError(f"unknown site rule(s) {', '.join(unknown)}; the rules are {', '.join(RULE_NAMES)}",
                         file="model")
    return SiteRules(n_sites, **rules)


def checked_p(p, n_sites: int) -> int:
    """p as an int, or an InputError when it is not a whole number between 1 and the number of sites."""
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or not 1 <= p <= n_sites:
        shown = repr(p) if isinstance(p, str) else p  # '3' as text, not the number 3
        raise InputError(f"p must be a whole number between 1 and the number of sites ({n_sites}), got {shown}",
                         file="model")
    return int(p)


def stack_rows(base: sp.csr_matrix, extra: sp.csr_matrix) -> sp.csr_matrix:
    """Append rows over the site columns (every model puts its sites first; e.g. SiteRules.rows()) to a sparse
    matrix."""
    if not extra.shape[0]:
        return base
    block = sp.hstack([extra, sp.csr_matrix((extra.shape[0], base.shape[1] - extra.shape[1]))])
    return sp.vstack([base, block.tocsr()]).tocsr()


def _counties(quotas: dict) -> str:
    return f"{len(quotas):,} count{'y' if len(quotas) == 1 else 'ies'}"


class LocationModel:
    """Base class: subclasses build a MatrixMILP and read a Result back from the solution vector."""

    diagnose_infeasible = True  # find which rule blocks an infeasible model (off for the steps of a bisection)
    keeps_existing = True  # _keeping_most_then_cheapest may run (off for solves inside another that runs it itself)
    maximise = False  # the objective is maximised (covered or captured residents), not minimised
    demand_names: list | None = None  # what explanations call each demand point (大杨镇 (庐阳区)); else its label

    def _demand_name(self, point: int) -> str:
        """A demand point as explanations name it: its demand_names entry where set, else its label."""
        return str((self.demand_names if self.demand_names is not None else self.demand_labels)[point])

    def _named_demand(self, points) -> str:
        """Demand points (positions) as explanations list them: the first five by name, then how many more."""
        points = list(points)
        more = f" and {len(points) - 5} more" if len(points) > 5 else ""
        return ", ".join(self._demand_name(i) for i in points[:5]) + more

    def _build(self) -> MatrixMILP:
        raise NotImplementedError

    def __repr__(self) -> str:
        demand = getattr(self, "demand_labels", None)
        size = f"{self.rules.n_sites:,} sites" if demand is None else \
            f"{len(demand):,} demand points × {self.rules.n_sites:,} sites"
        asked = [f"{name}={getattr(self, name)}" for name in ("p", "target_share", "cover_share")
                 if getattr(self, name, None) is not None]
        asked += ["single source"] if getattr(self, "single_source", False) else []
        return f"{type(self).__name__}({', '.join([size, *asked, *self.rules.describe()])})"

    def _heuristic(self) -> tuple[np.ndarray | None, float | None]:
        """A feasible solution vector and its objective, for warm starts; (None, None) when there is none."""
        return None, None

    def _warm_start(self) -> tuple[np.ndarray | None, float | None]:
        """The MILP's warm start: the heuristic's solution as a full variable vector, and its objective."""
        return self._heuristic()

    def _explain_infeasible(self) -> str:
        return "no solution satisfies all constraints"

    def _result(self, raw: RawSolution) -> Result:
        raise NotImplementedError

    @property
    def milp(self) -> MatrixMILP:
        if getattr(self, "_milp", None) is None:
            self._milp = self._build()
        return self._milp

    def to_pulp(self):
        """The model as a pulp.LpProblem; constraints added to it are honoured by the next solve()."""
        if getattr(self, "_pulp", None) is None:
            self._pulp, self._pulp_vars = to_pulp(self.milp, type(self).__name__)
        return self._pulp

    def site_variables(self) -> pd.Series:
        """The open/closed 0/1 variable of each site in to_pulp()'s problem, by site label, for constraints of
        your own: y = model.site_variables(); model.to_pulp().addConstraint(pulp.lpSum(y[feidong_new]) <= 1)."""
        self.to_pulp()
        count = self.rules.n_sites
        return pd.Series(self._pulp_vars[:count], index=pd.Index(self.site_labels, name="site"), name="open")

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """Solve to optimality (or to `mip_gap`, or until `time_limit` seconds). HiGHS by default; CBC or any
        pulp solver by name. A model extended through to_pulp() is solved through pulp."""
        check_solver_arguments(time_limit, mip_gap, solver, threads, warm_start)
        reason = self._explain_infeasible_rules()
        if reason:
            return self._infeasible(reason, 0.0)
        start, start_value = self._warm_start() if warm_start else (None, None)
        report_stage(f"integer program over {int(self.rules.allowed.sum()):,} candidate sites 整数规划")
        if getattr(self, "_pulp", None) is not None or solver.lower() != "highs":
            problem = self.to_pulp() if getattr(self, "_pulp", None) is not None else None
            if problem is None:
                problem, variables = to_pulp(self.milp, type(self).__name__)
            else:
                variables = self._pulp_vars
            raw = solve_pulp(problem, variables, solver, time_limit, mip_gap, threads, start)
        else:
            raw = solve_highs(self.milp, time_limit, mip_gap, threads, start)
        return self._read_back(raw, start_value)

    def _read_back(self, raw: RawSolution, start_value: float | None) -> Result:
        """The Result of a solver's answer: infeasible with the reason, no plan in time, or the plan (beside the
        warm start's value)."""
        if raw.status == "infeasible":
            return self._infeasible(self._infeasible_reason(), raw.seconds)
        if raw.status == "error":
            return stopped_without_plan(raw)
        result = self._result(raw)
        result.heuristic_objective = start_value
        return result

    def phases(self, counts, plan: Result | None = None, time_limit: float | None = None,
               **solve_options) -> pd.DataFrame:
        """A phased opening 分期建设 of `plan` (default: this model solved): its new sites opened in phases of
        `counts` sites each (a number or a list; the last phase takes those left), each phase the best it can be
        given the phases before — the counts[k] of the plan's new sites not yet open that serve best beside
        today's sites and the earlier phases', an exact solve of this model (every rule kept but the county
        minimums, which bind the whole plan only) — so the plan is built in full at the end. One row per phase,
        today's network first (phase 0): new (sites the phase opens), new_so_far, objective, gain (over the
        phase before; positive where better, as more covered or less travel), best_at_once (the model's best
        with as many new sites opened at once) and behind_best (how far the phased network is from it), status
        and the sites (labels). For p models (MCLP, PMedian, PCenter, MarketShare, CapacitatedMCLP) whose
        existing sites stay (or close whatever the plan: closable and forbidden, as for closures decided
        beforehand; phase 0 is then today's network less them)."""
        from netopt.models._phases import phased_plan

        return phased_plan(self, counts, plan, time_limit, **solve_options)

    def objective_of(self, selected) -> float:
        """The objective of the plan opening exactly the sites `selected` (labels, as in Result.selected),
        whatever the rules say: e.g. today's network scored by this model (inf where a demand point is left
        unserved by a model that must serve it)."""
        return self._objective(self._positions_of(selected, "objective_of"))

    def objective_without_each(self, selected, among=None) -> pd.Series:
        """The objective of the plan `selected` (labels) with each site of `among` (default: every site of the
        plan) closed alone, indexed by its label: what each open site is worth to the plan (e.g. the residents
        only it covers, beside objective_of(selected)); p-median and p-center price every site in one pass over
        the plan's nearest and second-nearest sites."""
        return self._each_site_changed(selected, among, open_in_plan=True)

    def _objectives_without(self, plan: np.ndarray, closing: np.ndarray) -> np.ndarray:
        return np.array([self._objective(np.setdiff1d(plan, [j])) for j in closing], float)

    def objective_with_each(self, selected, among) -> pd.Series:
        """The objective of the plan `selected` (labels) with each site of `among` (sites it leaves closed) opened
        alone besides, indexed by its label: what reopening each closed branch would do to the plan; p-median,
        p-center and MCLP price every site in one pass over the plan's nearest sites or coverage."""
        return self._each_site_changed(selected, among, open_in_plan=False)

    def _each_site_changed(self, selected, among, open_in_plan: bool) -> pd.Series:
        """objective_without_each (`open_in_plan`: `among` are sites of the plan, default all of them) or
        objective_with_each (sites the plan leaves closed): an InputError names sites on the wrong side."""
        caller = "objective_without_each" if open_in_plan else "objective_with_each"
        plan = self._positions_of(selected, caller)
        sites = plan if among is None else self._label_positions(list(among), caller)
        wrong = np.setdiff1d(sites, plan) if open_in_plan else np.intersect1d(sites, plan)
        if len(wrong):
            raise InputError(f"{caller}: {len(wrong)} site(s) are {'not' if open_in_plan else 'already'} open in the "
                             f"plan, e.g. {[self.site_labels[j] for j in wrong[:3]]}", file="model")
        values = self._objectives_without(plan, sites) if open_in_plan else self._objectives_with(plan, sites)
        return pd.Series(values, index=[self.site_labels[j] for j in sites], dtype=float,
                         name="objective_without" if open_in_plan else "objective_with")

    def _objectives_with(self, plan: np.ndarray, opening: np.ndarray) -> np.ndarray:
        return np.array([self._objective(np.union1d(plan, [j])) for j in opening], float)

    def worth_of_each(self, selected, among=None) -> pd.Series:
        """What each site of `among` (default: every site of the plan `selected`, labels) is worth to the plan, by
        site label, positive where the plan is better with it: for an open site, the plan against the plan with it
        closed alone — the residents only it covers or wins, the travel it saves, how much nearer it brings the
        farthest point; for a closed one, what opening it besides would add — what closing it costs (0 where the
        others stand in for it)."""
        plan = self._positions_of(selected, "worth_of_each")
        sites = plan if among is None else self._label_positions(list(among), "worth_of_each")
        return pd.Series(self._worth(plan, sites), index=[self.site_labels[j] for j in sites], name="worth",
                         dtype=float)

    def _worth(self, plan: np.ndarray, sites: np.ndarray) -> np.ndarray:
        """worth_of_each of the sites at positions `sites` (in or out of the sorted plan), in their order."""
        value, inside = self._objective(plan), np.isin(sites, plan)
        better, worse = np.full(len(sites), value), np.full(len(sites), value)
        worse[inside] = self._objectives_without(plan, sites[inside])
        better[~inside] = self._objectives_with(plan, sites[~inside])
        with np.errstate(invalid="ignore"):
            return better - worse if self.maximise else worse - better

    def objective_of_swap(self, selected, closed, opened) -> float:
        """objective_of the plan `selected` with the site `closed` swapped for `opened` (labels): what
        planning.closures_near_others asks of each swap it tries; p-median and p-center price it from the plan's
        nearest and second-nearest sites (_served_after_swap)."""
        *plan, out, into = self._label_positions([*selected, closed, opened], "objective_of_swap")
        return self._swapped_objective(np.unique(plan), int(out), int(into))

    def _swapped_objective(self, sites: np.ndarray, out: int, into: int) -> float:
        return self._objective(np.union1d(np.setdiff1d(sites, [out]), [into]))

    def _served_after_swap(self, sites: np.ndarray, out: int, into: int) -> np.ndarray:
        """Each demand point's cost (self.cost) to the nearest of `sites` with `out` closed and `into` opened, inf
        where none serves: from the plan's nearest and second-nearest sites (heuristics.NearestTwo, kept and
        moved along as swaps are accepted) — one pass over the demand points, not one over points x open sites."""
        base = getattr(self, "_swap_base", None)
        self._swap_base = NearestTwo(self.cost, sites) if base is None else base.moved_to(sites)
        return self._swap_base.served_after(out, into)

    def evaluate(self, selected) -> Result:
        """The plan opening exactly the sites `selected` (labels) reported as solve() reports a plan — objective,
        assignment table, details — whatever the rules say; status "evaluated", bound and gap NaN. E.g. today's
        network with the towns each branch serves, next to a solved plan."""
        sites = self._positions_of(selected, "evaluate")
        if not len(sites):
            raise InputError("evaluate: a plan needs at least one open site", file="model")
        return self._evaluated(sites)

    def _positions_of(self, selected, caller: str) -> np.ndarray:
        """The site positions of labels, sorted and unique; an InputError naming labels that are not sites."""
        return np.unique(self._label_positions(selected, caller))

    def _label_positions(self, labels, caller: str) -> np.ndarray:
        """The site position of each label, in their order; an InputError naming labels that are not sites."""
        if isinstance(labels, str) or not isinstance(labels, Iterable):
            raise InputError(f"{caller}: sites are a list of this model's site labels, e.g. "
                             f"{list(self.site_labels[:2])}, not {labels!r:.60}", file="model")
        index = {label: j for j, label in enumerate(self.site_labels)}
        unknown = [label for label in labels if label not in index]
        if unknown:
            raise InputError(f"{caller}: {len(unknown)} site(s) are not candidate sites of this model, e.g. "
                             f"{unknown[:3]}", file="model")
        return np.array([index[label] for label in labels], int)

    def _objective(self, sites: np.ndarray) -> float:
        raise InputError(f"objective_of and evaluate are for MCLP, PMedian and PCenter, not {type(self).__name__}",
                         file="model")

    def _evaluated(self, sites: np.ndarray) -> Result:
        """evaluate() for models whose _result reads the open sites from the first n_sites variables."""
        objective = self._objective(sites)
        y = np.zeros(self.rules.n_sites)
        y[sites] = 1.0
        return replace(self._result(RawSolution("evaluated", y, objective, np.nan, 0.0)), gap=np.nan)

    def _explain_infeasible_rules(self) -> str:
        return ""

    def _rules_reason(self, p: int | None = None, at_most: bool = False) -> str:
        """SiteRules.explain with this model's site labels: why the rules alone cannot be met, or ''."""
        return self.rules.explain(p, at_most, self.site_labels)

    def _variant(self, **changes):
        """This model with other attributes (p, rules; its matrices shared, nothing solved or built yet)."""
        model = copy.copy(self)
        for name, value in changes.items():
            setattr(model, name, value)
        model._milp = None
        return model

    def _solved_without_spacing(self, time_limit: float | None, **solve_options) -> Result | None:
        """For a model whose fast stages know every rule but the minimum spacing: the model solved without the
        spacing (None when that does not apply). The spacing only takes plans away, so its bound bounds this
        model too, and its answer is this model's when it keeps the spacing (`_keeps_spacing`)."""
        if not len(self.rules.too_close):
            return None
        wider = self.rules.without_spacing()
        if wider.limits_plans(getattr(self, "p", None)):
            return None
        relaxed = self._variant(rules=wider)
        relaxed.keeps_existing = False  # the model with the spacing keeps the most existing sites once, itself
        return relaxed.solve(time_limit, **solve_options)

    def _solve_spacing_first(self, time_limit: float | None, mip_gap: float, solver: str, threads: int | None,
                             warm_start: bool) -> Result:
        """solve() for models with fast stages (`_solve_stages`) that know every rule but the minimum spacing:
        first without the spacing; that answer when it keeps the spacing, else the stages started from its
        plan repaired (`_spaced_start`), their gap capped by its bound."""
        if getattr(self, "_pulp", None) is None and warm_start:
            started = time.perf_counter()
            relaxed = self._solved_without_spacing(time_limit, mip_gap=mip_gap, solver=solver, threads=threads)
            if relaxed is not None:
                if self._keeps_spacing(relaxed):
                    return relaxed
                spaced = self._variant()
                spaced._start_sites = self._spaced_start(relaxed)
                exact = spaced._solve_stages(seconds_left(time_limit, started), mip_gap, solver, threads, warm_start)
                return self._bounded_by(exact, relaxed.bound)
        return self._solve_stages(time_limit, mip_gap, solver, threads, warm_start)

    def _keeps_spacing(self, relaxed: Result) -> bool:
        """Whether the answer of this model without the spacing holds with it: no plan at all, or a plan
        keeping the spacing."""
        if relaxed.status == "infeasible":
            return True
        return bool(relaxed.selected) and self._meets_rules(self._positions_of(relaxed.selected, "solve"))

    def _meets_rules(self, sites: np.ndarray) -> bool:
        """Whether the plan opening the site positions `sites` meets the rule rows (SiteRules.admits)."""
        is_open = np.zeros(self.rules.n_sites)
        is_open[sites] = 1.0
        return self.rules.admits(is_open)

    def _bounded_by(self, result: Result, bound: float) -> Result:
        """The result with its bound tightened by another valid bound (e.g. of the model without the
        spacing): optimal when the plan reaches it."""
        if result.status not in ("optimal", "feasible") or not np.isfinite(bound) or not result.selected:
            return result
        tighter = bound if not np.isfinite(result.bound) else (min if self.maximise else max)(result.bound, bound)
        gap = relative_gap(result.objective, tighter)
        return replace(result, bound=tighter, gap=gap, status="optimal" if gap <= 1e-9 else result.status)

    def _keeping_most_then_cheapest(self, result: Result, time_limit: float | None, t0: float, solver: str,
                                    threads: int | None) -> Result:
        """`result`, or when closable existing sites or sites of different costs tie with others, the plan as
        good as it (its objective kept as a row) with the most existing sites open, then spending least: a
        second HiGHS solve (_keeping_then_cheapest), within KEEPING_SECONDS or what is left of `time_limit`
        counted from t0 (perf_counter), so no branch moves for nothing and no dearer site opens where a cheaper
        one does as well. Only for optimal results of HiGHS on the model's own matrix, and when
        `keeps_existing`."""
        keeping = self._keeping_then_cheapest()
        if result.status != "optimal" or keeping is None or solver.lower() != "highs" \
                or getattr(self, "_pulp", None) is not None or not self.keeps_existing:
            return result
        seconds = seconds_left(time_limit, t0)
        milp = self.milp
        sense = 1.0 if milp.sense == "max" else -1.0
        floor = sense * result.objective - 1e-9 * abs(result.objective) - 1e-6
        second = replace(milp, c=keeping, sense="max", A=sp.vstack([milp.A, sp.csr_matrix(sense * milp.c)]).tocsr(),
                         row_lo=np.append(milp.row_lo, floor - sense * milp.offset), row_hi=np.append(milp.row_hi, INF),
                         row_names=(milp.row_names or []) + ["as_good"])
        raw = solve_highs(second, KEEPING_SECONDS if seconds is None else min(seconds, KEEPING_SECONDS), 0.0, threads)
        before = np.zeros(len(milp.c))
        before[self._positions_of(result.selected, "solve")] = 1.0
        if raw.x is None or raw.status not in ("optimal", "feasible") or keeping @ raw.x <= keeping @ before + 1e-9:
            return result
        plan = self._as_good_plan(raw.x)
        bound = (max if self.maximise else min)(result.bound, plan.objective)
        return replace(plan, status="optimal", bound=bound, gap=relative_gap(plan.objective, bound),
                       seconds=time.perf_counter() - t0, heuristic_objective=result.heuristic_objective,
                       details={**result.details, **plan.details})

    def _keeping_then_cheapest(self) -> np.ndarray | None:
        """The objective the second solve maximises over the matrix's columns: each existing site kept open 1
        (where some may close), less what the plan spends (new sites' opening costs, closable sites' savings
        forgone), worth less than 1 all together; None when no plan as good can keep more or spend less (no
        closable site, no costs that differ between sites — or, where fewer than p may open, no cost at all)."""
        rules, objective = self.rules, np.zeros(len(self.milp.c))
        if len(rules.closable):
            objective[rules.existing] = 1.0
        spend = rules.spend_per_site()
        free = np.setdiff1d(np.arange(rules.n_sites), rules.fixed)
        fewer = not getattr(self, "exactly_p", True)  # a plan of fewer sites as good spends less
        if len(free) and (np.ptp(spend[free]) > 0 or fewer and (spend[free] > 0).any()):
            objective[:rules.n_sites] = tie_broken(objective[:rules.n_sites], -spend)
        return objective if objective.any() else None

    def _with_cheaper_sites(self, result: Result) -> Result:
        """`result` with each new site swapped for the cheapest closed new site of a lower opening cost that keeps
        the plan's value and every rule (_cheaper_sites), so no dearer premises open where cheaper ones serve as
        well: p-median, p-center and market share, which have no second solve for it."""
        if result.status not in ("optimal", "feasible") or not result.selected:
            return result
        sites = self._positions_of(result.selected, "solve")
        cheaper = self._cheaper_sites(sites, result.objective)
        return result if np.array_equal(cheaper, sites) else self._replanned(result, cheaper)

    def _cheaper_sites(self, sites: np.ndarray, value: float) -> np.ndarray:
        """The plan `sites` (positions, worth `value`) with each new site, dearest first, swapped for the cheapest
        closed new site of a lower opening cost whose swap keeps the value and the rules; at most
        CHEAPER_SWAP_WORK demand-point evaluations in all (the same plan on any machine)."""
        rules = self.rules
        cost = rules.spend_per_site()
        new = rules.is_new()
        new[rules.forbidden] = False
        if not new.any() or np.ptp(cost[new]) == 0:
            return sites
        sense, slack = (1.0 if self.maximise else -1.0), 1e-9 * max(1.0, abs(value))
        work = 0
        for j in sorted(np.setdiff1d(sites[new[sites]], rules.fixed), key=lambda s: -cost[s]):
            cheaper = new & (cost < cost[j])
            cheaper[sites] = False
            for k in np.flatnonzero(cheaper)[np.argsort(cost[cheaper], kind="stable")]:
                work += len(self.demand_labels)
                if work > CHEAPER_SWAP_WORK:
                    return sites
                trial = np.union1d(np.setdiff1d(sites, [j]), [k])
                if self._meets_rules(trial) and sense * (self._swapped_objective(sites, j, k) - value) >= -slack:
                    sites = trial
                    break
        return sites

    def _without_idle_new_sites(self, result: Result) -> Result:
        """With at most p sites (exactly_p False): `result` less the new sites its value does not need — each
        new site (not existing, not fixed) whose closing loses nothing and keeps every rule closes, so no money
        goes to a branch adding nothing (MCLP, PMedian, CapacitatedMCLP, PCenter)."""
        if getattr(self, "exactly_p", True) or result.status not in ("optimal", "feasible") or not result.selected:
            return result
        sites = self._positions_of(result.selected, "solve")
        sense, slack = (1.0 if self.maximise else -1.0), 1e-9 * max(1.0, abs(result.objective))
        for j in np.setdiff1d(sites, np.union1d(self.rules.fixed, self.rules.existing)):
            trial = np.setdiff1d(sites, [j])
            if self._meets_rules(trial) and sense * (self._objective(trial) - result.objective) >= -slack:
                sites = trial
        return result if len(sites) == len(result.selected) else self._replanned(result, sites)

    def _replanned(self, result: Result, sites: np.ndarray) -> Result:
        """The plan opening `sites` (positions) in place of `result`'s, found as good by a tidying step: `result`'s
        status, bound, seconds and details kept, the gap measured from the new plan's value."""
        plan = self._evaluated(sites)
        return replace(plan, status=result.status, bound=result.bound, gap=relative_gap(plan.objective, result.bound),
                       seconds=result.seconds, heuristic_objective=result.heuristic_objective,
                       details={**result.details, **plan.details})

    def _as_good_plan(self, x: np.ndarray) -> Result:
        """The plan of a solution x of this model's matrix (its sites first), scored by the model itself."""
        return self._evaluated(np.flatnonzero(x[:self.rules.n_sites] > 0.5))

    def _requirement(self) -> str:
        """What the model needs besides its site rules, in words for an infeasibility reason ('' if nothing)."""
        return ""

    def _infeasible_reason(self) -> str:
        """The site rules that alone make the model infeasible, else the model's own explanation."""
        if getattr(self, "_pulp", None) is not None:
            return self._explain_infeasible() + " (or a constraint added through to_pulp())"
        if not self.diagnose_infeasible:
            return self._explain_infeasible()
        return (relaxed_rule_reasons(self.milp, self.rules.budget, self._requirement(), self.rules.cost_unit)
                or self._explain_infeasible())

    def _infeasible(self, reason: str, seconds: float, status: str = "infeasible") -> Result:
        return Result(status=status, objective=np.nan, bound=np.nan, gap=np.inf, seconds=seconds, reason=reason)


def _curve_counts(values, name: str) -> list:
    """A curve's counts as a list: one or more, e.g. range(0, 11), or an InputError naming `name`."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InputError(f"{name} are the counts to solve for, e.g. range(0, 11), not {values!r:.60}", file="model")
    values = list(values)
    if not values:
        raise InputError(f"{name} is empty: give at least one count to solve for", file="model")
    return values


class Curves:
    """curve() and moves_curve() for a LocationModel with p sites whose result details hold the weight it wins
    and its share (`curve_columns`)."""

    curve_columns: tuple[str, str]  # the details a curve shows: the weight won, its % of all

    def curve(self, p_values, time_limit: float | None = None, **solve_options) -> pd.DataFrame:
        """The objective against the number of sites: this model solved for each p of `p_values` (each within
        `time_limit`, with the other solve() options), one row per p: status, the weight won and its share
        (`curve_columns`), the gain over the previous p of the table, gap, seconds, the open sites and, when
        infeasible, why."""
        counts = sorted({checked_p(p, self.rules.n_sites) for p in _curve_counts(p_values, "p_values")})
        return self._curve("p", [(p, self._variant(p=p)) for p in counts], time_limit, solve_options)

    def moves_curve(self, move_counts, time_limit: float | None = None, **solve_options) -> pd.DataFrame:
        """The objective against the number of moves 迁址: this model — its existing sites closable, p typically
        today's count — solved with at most k new sites for each k of `move_counts` (each within `time_limit`);
        one row per k ("moves"), with the columns of curve()."""
        move_counts = _curve_counts(move_counts, "move_counts")
        for k in move_counts:
            check_count(k, "moves_curve: a number of moves", "model", least=0)
        counts = sorted({int(k) for k in move_counts})
        return self._curve("moves", [(k, self._variant(rules=replace(self.rules, max_new=k))) for k in counts],
                           time_limit, solve_options)

    def _curve(self, key: str, variants: list, time_limit: float | None, solve_options: dict) -> pd.DataFrame:
        """One row per (value of `key`, model variant), solved in turn, with the gain over the row before."""
        if getattr(self, "_pulp", None) is not None:
            raise InputError("curves cannot carry constraints added through to_pulp(); solve each model instead",
                             file="model")
        won, share = self.curve_columns
        rows = []
        for k, (value, model) in enumerate(variants, 1):
            report_stage(f"{key} = {value} ({k} of {len(variants)}) 第{k}/{len(variants)}点")
            result = model._forced_plan() or model.solve(time_limit=time_limit, **solve_options)
            rows.append({key: value, "status": result.status, won: result.details.get(won, np.nan),
                         share: result.details.get(share, np.nan), "gap": result.gap,
                         "seconds": result.seconds, "selected": result.selected, "reason": result.reason})
        table = pd.DataFrame(rows)
        table.insert(4, "gain", table[won].diff())
        return table

    def _forced_plan(self) -> Result | None:
        """The plan when the rules leave no choice — p sites fixed open, or p of today's sites and no new one
        allowed (a curve's first point: today's network) — measured rather than searched: optimal, whatever
        the time limit; None when there is a choice, the forced plan breaks a rule (solve() says which) or its
        measure is itself an integer program (single-source capacities: solve() keeps its time limit)."""
        p, rules = getattr(self, "p", None), self.rules
        if getattr(self, "single_source", False):
            return None
        if len(rules.fixed) == p:
            sites = rules.fixed
        elif rules.max_new == 0 and len(rules.today()) == p:
            sites = rules.today()
        else:
            return None
        if not self._meets_rules(sites):
            return None
        started = time.perf_counter()
        result = self._evaluated(sites)
        return replace(result, status="optimal", bound=result.objective, gap=0.0, reason="",
                       seconds=time.perf_counter() - started)


def refuse_plan_limits(rules: SiteRules, p: int | None = None) -> None:
    """The InputError of heuristic() for the rules it cannot honour in plans of p sites."""
    if rules.limits_plans(p):
        raise InputError("heuristic() honours fixed, existing and forbidden sites only; budgets, new-branch limits "
                         "and county limits need solve() (with a time_limit: the best plan found and its bound)",
                         file="model")


def heuristic_plan(model: LocationModel, method: str, improve=None) -> Result:
    """`model`'s warm start as the answer, for instances too big to solve exactly: status "feasible", no
    bound (NaN) unless the model knows one. Only fixed, existing and forbidden sites are honoured. `improve`
    ((start, value) -> (start, value)) may better the warm start first."""
    refuse_plan_limits(model.rules, getattr(model, "p", None))
    started = time.perf_counter()
    start, value = model._heuristic()
    if start is None:
        reason = model._explain_infeasible_rules() or f"the {method} heuristic found no plan under these rules"
        return model._infeasible(reason, time.perf_counter() - started)
    if improve is not None:
        start, value = improve(start, value)
    result = model._result(RawSolution("feasible", start, value, np.nan, time.perf_counter() - started))
    result.heuristic_objective = value
    result.details["method"] = method
    return result


def finish_result(raw: RawSolution, selected: list, assignment: pd.DataFrame, **details) -> Result:
    """The Result of a solve: an "optimal" plan keeps the bound its solve proved — the objective itself when
    solved exactly, a bound within mip_gap of it otherwise — and the gap between them; a plan without proof
    keeps why the solve stopped (a time limit, a stalled cut loop) as its reason."""
    bound = raw.bound if np.isfinite(raw.bound) else (raw.objective if raw.status == "optimal" else np.nan)
    return Result(raw.status, raw.objective, bound, relative_gap(raw.objective, bound), raw.seconds, selected,
                  assignment, reason="" if raw.status == "optimal" else raw.message, details=details)
