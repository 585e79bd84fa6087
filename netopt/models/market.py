"""Market share against fixed competitors under the Huff model, as exact integer programs.

Town i's residents use branch j with probability A_j f(d_ij) / (C_i + Σ_{our open k} A_k f(d_ik)), C_i being
the competitors' attraction at i. With a_ij = A_j f(d_ij) / C_i, the captured share x_ij obeys
x_ij <= a_ij x_i0, x_ij <= a_ij / (1 + a_ij) y_j, x_i0 + Σ_j x_ij = 1 (Haase & Müller 2014): when maximising
capture, or requiring it, this linearisation is exact. Towns no competitor reaches are captured whole by any open
site within reach (a covering constraint).
"""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, check_amount
from netopt.competition import CUTOFF_MINUTES, MIN_DISTANCE_KM, MIN_MINUTES, distance_decay
from netopt.heuristics import block_size, swaps_meeting
from netopt.models._base import (Curves, LocationModel, SiteRules, checked_p, finish_result, heuristic_plan, site_rules,
                                 stack_rows)
from netopt.models._milp import (INF, MatrixMILP, RawSolution, Result, check_solver_arguments, report_stage,
                                 seconds_left, share_deadline, stopped_without_plan)
from netopt.models.median import as_weights, labels


def _minute_limits(cutoff_min: float, min_minutes: float) -> tuple[float, float]:
    """The cutoff and the floor of a pull measured in minutes, checked."""
    check_amount(cutoff_min, "cutoff_min", "model", "minutes", required=True)
    check_amount(min_minutes, "min_minutes", "model", "minutes", required=True)
    return float(cutoff_min), float(min_minutes)


def huff_attraction(km: np.ndarray, attractiveness: np.ndarray, decay: str, beta: float, cutoff_km: float,
                    min_km: float = MIN_DISTANCE_KM) -> np.ndarray:
    """A_j f(d_ij) for every town x branch, 0 beyond the cutoff (competition.distance_decay); one new matrix."""
    pull = distance_decay(km, decay, beta, min_km)
    pull *= attractiveness[None, :]
    pull[~(km <= cutoff_km)] = 0.0
    return pull


def rival_pull(towns, competitors, attractiveness: np.ndarray, decay: str, beta: float, cutoff_km: float,
               min_km: float, distance: str, graph, timed: dict | None = None) -> np.ndarray:
    """Each town's total pull of the competitors, Σ_k A_k f(d_ik), summed over blocks of competitors: a
    population grid's cells x every other bank's branches is never held whole (0.25 km: 196,090 x 392). d in km,
    or with `timed` (mode and speeds, as distance.minute_blocks takes them) in travel minutes, the cutoff and the
    floor then in minutes too."""
    from netopt.distance import travel_blocks

    total = np.zeros(len(towns))
    if len(competitors) == 0:
        return total
    for rows, columns, cost in travel_blocks(towns, competitors, block_size(len(towns)), distance, graph, timed):
        total[rows] += huff_attraction(cost, attractiveness[columns], decay, beta, cutoff_km, min_km).sum(axis=1)
    return total


def huff_share(ours: np.ndarray, rivals: np.ndarray) -> np.ndarray:
    """Our share of each town given our total pull `ours` (per town, or towns x plans) and the competitors'
    `rivals` per town; a town no competitor reaches is ours whole if we pull it at all."""
    rivals = rivals.reshape((-1,) + (1,) * (ours.ndim - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rivals > 0, ours / (rivals + ours), (ours > 0).astype(float))


def _sparse(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    return sp.csr_matrix((values, (rows, cols)), shape=shape)


class MarketShare(Curves, LocationModel):
    """Choose our sites to maximise captured residents against fixed competitors ("maximize market share"),
    or the fewest sites reaching a target share ("target market share": target_share=0.3). With p, curve()
    and moves_curve() give the residents won for each p, or each number of moves."""

    curve_columns = ("captured", "share_pct")

    def __init__(self, ours: np.ndarray, rivals: np.ndarray, weights, p: int | None = None,
                 target_share: float | None = None, rules: SiteRules | None = None, demand_labels=None,
                 site_labels=None, km: np.ndarray | None = None) -> None:
        self.ours = np.asarray(ours, float)  # town x our candidate site attraction
        self.rivals = np.asarray(rivals, float)  # competitors' total attraction per town
        n, m = self.ours.shape
        self.weights = as_weights(weights, n)
        if (p is None) == (target_share is None):
            raise InputError("give p (maximise market share) or target_share (fewest sites), not both",
                             file="model")
        self.p = None if p is None else checked_p(p, m)
        if target_share is not None and not 0 < target_share <= 1:
            raise InputError("target_share is a fraction between 0 and 1", file="model")
        self.target_share = target_share
        self.maximise = p is not None
        self.rules = rules or SiteRules(m)
        self.demand_labels = labels(demand_labels, n, "d")
        self.site_labels = labels(site_labels, m, "s")
        self.km = km  # town x site km (or minutes) when known (from_geodataframes): the assignment's distances
        self.cost_column = "distance"  # the assignment's column of them: "travel_minutes" for minutes
        self._milp = None

    @classmethod
    def from_geodataframes(cls, towns, candidates, competitors, p: int | None = None,
                           target_share: float | None = None, weight: str = "population", decay: str = "power",
                           beta: float = 2.0, cutoff_km: float = 20.0, min_km: float = MIN_DISTANCE_KM,
                           attractiveness: str | None = None, distance: str = "euclidean", graph=None,
                           unit: str = "km", mode="drive", cutoff_min: float = CUTOFF_MINUTES,
                           min_minutes: float = MIN_MINUTES, speed_kmh=30.0, walk_speed_kmh: float = 4.5,
                           detour_factor: float = 1.3, **rules) -> "MarketShare":
        """`candidates`: our sites (e.g. planning.candidate_sites for our bank); `competitors`: other banks'
        branches. km by straight line, or by road with distance="network" and `graph`; `attractiveness`
        names a column present in both tables (default 1); distances below `min_km` count as `min_km` (a
        town's point stands for its area). unit="min": the pull decays with travel minutes instead (`mode`
        "drive" or "walk" and the speeds as analyze_coverage(radius_min=...) measures them: by road, each road
        at its own speed), `cutoff_min` and `min_minutes` in place of the km ones; the assignment's
        `travel_minutes` column replaces its km `distance`."""
        from netopt.distance import as_road_network
        from netopt.models.median import _ids, frame_column, geo_costs, rules_from_candidates

        if attractiveness is not None and not isinstance(attractiveness, str):
            raise InputError(f"attractiveness names a column of both the candidates and the competitors, got "
                             f"{type(attractiveness).__name__}", file="model")
        a_ours, a_them = (np.ones(len(frame)) if attractiveness is None else
                          frame_column(frame, attractiveness, role).to_numpy(float)
                          for frame, role in ((candidates, "candidates"), (competitors, "competitors")))
        weights = frame_column(towns, weight, "towns").to_numpy(float)
        graph = as_road_network(graph) if distance == "network" and graph is not None else graph
        speeds = {"speed_kmh": speed_kmh, "walk_speed_kmh": walk_speed_kmh, "detour_factor": detour_factor}
        cost, column = geo_costs(towns, candidates, distance, graph, unit, mode, **speeds)
        cutoff, floor = (cutoff_km, min_km) if unit == "km" else _minute_limits(cutoff_min, min_minutes)
        ours = huff_attraction(cost, a_ours, decay, beta, cutoff, floor)
        timed = None if unit == "km" else {"mode": mode, **speeds}
        rivals = rival_pull(towns, competitors, a_them, decay, beta, cutoff, floor, distance, graph, timed)
        model = cls(ours, rivals, weights, p, target_share,
                    site_rules(len(candidates), **rules_from_candidates(candidates, rules)), _ids(towns, None),
                    _ids(candidates, None), km=cost)
        model.cost_column = column
        return model

    def _build(self) -> MatrixMILP:
        """Columns y (m) | x_q, our share of town i from site j, per contested pair q (k) | x_i0, the
        competitors' share, per contested town | z_i per uncontested town."""
        n, m = self.ours.shape
        contested = self.rivals > 0
        towns_c, towns_u = np.flatnonzero(contested), np.flatnonzero(~contested)
        ii, jj = self._contested_pairs()
        k, nc, nu = len(ii), len(towns_c), len(towns_u)
        n_cols = m + k + nc + nu
        x, town_of_x = m + np.arange(k), np.searchsorted(towns_c, ii)
        x0, z = m + k + town_of_x, m + k + nc + np.arange(nu)
        a = self.ours[ii, jj] / self.rivals[ii]
        q = np.arange(k)
        reach_t, reach_j = np.nonzero(self.ours[towns_u] > 0)
        blocks = [
            _sparse(np.r_[q, q], np.r_[x, x0], np.r_[np.ones(k), -a], (k, n_cols)),            # x_q <= a_q x_i0
            _sparse(np.r_[q, q], np.r_[x, jj], np.r_[np.ones(k), -a / (1 + a)], (k, n_cols)),  # x_q <= a/(1+a) y_j
            _sparse(np.r_[town_of_x, np.arange(nc)], np.r_[x, m + k + np.arange(nc)], np.ones(k + nc),
                    (nc, n_cols)),                                                              # x_i0 + Σ x_q = 1
            _sparse(np.r_[np.arange(nu), reach_t], np.r_[z, reach_j],
                    np.r_[np.ones(nu), -np.ones(len(reach_t))], (nu, n_cols)),                  # z_i <= Σ_reach y_j
        ]
        lo = np.r_[np.full(2 * k, -INF), np.ones(nc), np.full(nu, -INF)]
        hi = np.r_[np.zeros(2 * k), np.ones(nc), np.zeros(nu)]
        capture = np.zeros(n_cols)
        capture[x] = self.weights[ii]
        capture[z] = self.weights[towns_u]
        extra, elo, ehi, _ = self.rules.rows([(np.ones(m), -INF, float(self.p), "p")] if self.p is not None else [])
        A = stack_rows(sp.vstack(blocks).tocsr(), extra)
        row_lo, row_hi = np.r_[lo, elo], np.r_[hi, ehi]
        if self.p is not None:
            c, sense = capture, "max"
        else:  # the target as a share of all residents (a row scaled to 0..1)
            total = max(self.weights.sum(), 1.0)
            A = sp.vstack([A, sp.csr_matrix(capture / total)]).tocsr()
            row_lo, row_hi = np.r_[row_lo, self.target_share * self.weights.sum() / total], np.r_[row_hi, INF]
            c, sense = np.r_[np.ones(m), np.zeros(n_cols - m)], "min"
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(c=c, A=A, row_lo=row_lo, row_hi=row_hi,
                          col_lo=np.r_[y_lo, np.zeros(n_cols - m)], col_hi=np.r_[y_hi, np.ones(n_cols - m)],
                          integer=np.r_[np.ones(m, bool), np.zeros(n_cols - m, bool)], sense=sense,
                          col_names=[f"y_{j}" for j in range(m)] + [f"share_{c}" for c in range(n_cols - m)])

    def _vector(self, y: np.ndarray) -> np.ndarray:
        """The full solution vector of the plan y (for warm starts): every share as the Huff model gives it."""
        contested = self.rivals > 0
        ii, jj = self._contested_pairs()
        pull = self.ours * y[None, :]
        x0 = 1.0 - huff_share(pull.sum(axis=1), self.rivals)  # the competitors' share
        x = pull[ii, jj] / self.rivals[ii] * x0[ii]
        z = ((self.ours[~contested] > 0) @ y > 0).astype(float)
        return np.r_[y, x, x0[contested], z]

    def _contested_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(town, site) positions of the pairs where our site pulls a town a competitor pulls too."""
        return np.nonzero((self.ours > 0) & (self.rivals > 0)[:, None])

    def share(self, sites: np.ndarray) -> np.ndarray:
        """Our share of each town's residents when `sites` (positions) are open: Huff against the competitors;
        a town no competitor reaches is ours whole if one of our sites reaches it."""
        return huff_share(self.ours[:, np.asarray(sites, int)].sum(axis=1), self.rivals)

    def captured(self, sites: np.ndarray) -> float:
        """Residents captured by a set of our sites (positions) under the Huff model (the exact objective)."""
        return float(self.weights @ self.share(sites))

    def _objective(self, sites: np.ndarray) -> float:
        return self.captured(sites) if self.p is not None else float(len(sites))

    def _worth(self, plan: np.ndarray, sites: np.ndarray) -> np.ndarray:
        """In residents captured, also for a target-share model (whose objective counts sites): what the plan
        captures against the plan without each open site, or with each closed one besides."""
        inside = np.isin(sites, plan)
        captured, worth = self.captured(plan), np.empty(len(sites))
        worth[inside] = captured - self._captured_changed(plan, sites[inside], -1.0)
        worth[~inside] = self._captured_changed(plan, sites[~inside], 1.0) - captured
        return worth

    def _objectives_without(self, plan: np.ndarray, closing: np.ndarray) -> np.ndarray:
        if self.p is None:
            return super()._objectives_without(plan, closing)
        return self._captured_changed(plan, closing, -1.0)

    def _objectives_with(self, plan: np.ndarray, opening: np.ndarray) -> np.ndarray:
        if self.p is None:
            return super()._objectives_with(plan, opening)
        return self._captured_changed(plan, opening, 1.0)

    def _captured_changed(self, plan: np.ndarray, sites: np.ndarray, sign: float) -> np.ndarray:
        """From the plan's pull on each town, once: each site's own pull taken away (sign -1: a site of the plan
        closed) or added (+1: a site opened besides) in turn (a town no competitor reaches is ours while one of
        our sites pulls it)."""
        pull, pulling = self.ours[:, plan].sum(axis=1), (self.ours[:, plan] > 0).sum(axis=1)
        contested = self.rivals > 0
        values = []
        for j in sites:
            rest = np.maximum(pull + sign * self.ours[:, j], 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(contested, rest / (self.rivals + rest),
                                 (pulling + sign * (self.ours[:, j] > 0)) > 0)
            values.append(float(self.weights @ share))
        return np.array(values, float)

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """With HiGHS: submodular cuts (models/_share_benders.py) over the site variables, from the greedy plan
        (under budgets, new-branch or county limits: today's sites improved by swaps) — no variable per (town,
        site) pair, and on population grids one θ per group of cells, so grids of ten thousand cells solve in
        seconds. Other solvers and models extended through to_pulp(): the linearised integer program of the
        module docstring."""
        from netopt.models._share_benders import share_benders

        check_solver_arguments(time_limit, mip_gap, solver, threads, warm_start)
        reason = self._explain_infeasible_rules()
        if solver.lower() != "highs" or getattr(self, "_pulp", None) is not None or reason:
            return self._with_cheaper_sites(super().solve(time_limit, mip_gap, solver, threads, warm_start))
        t0 = time.perf_counter()
        swaps_until = min(t0 + INTERCHANGE_SECONDS, share_deadline(time_limit, t0, INTERCHANGE_SHARE) or np.inf)
        start, value = self._start_meeting_rules(swaps_until) if warm_start else (None, None)
        m = self.ours.shape[1]
        target = None if self.target_share is None else self.target_share * float(self.weights.sum())
        report_stage("cutting planes over the candidate sites 割平面")
        raw = share_benders(self.ours, self.rivals, self.weights, huff_share, self.p, target, self.rules,
                            None if start is None else start[:m], seconds_left(time_limit, t0), mip_gap, threads,
                            self._cut_groups())
        raw.seconds = time.perf_counter() - t0
        return self._with_cheaper_sites(self._read_back(raw, value))

    def _cut_groups(self) -> np.ndarray | None:
        """With more than GROUPED_ABOVE towns (population grids): each town's group for the cuts, the candidate
        site pulling it most — of today's sites when some may close (a relocation: their catchments, fewer and
        larger groups; sample, 3 moves: 98 groups, 54 s, against 213 and 137 s) —; None (a θ per town) below."""
        if len(self.weights) <= GROUPED_ABOVE:
            return None
        sites = self.rules.existing if len(self.rules.closable) else np.arange(self.ours.shape[1])
        return np.unique(sites[np.argmax(self.ours[:, sites], axis=1)], return_inverse=True)[1].ravel()

    def heuristic(self) -> Result:
        """A good plan fast, without proof, for instances too big for solve(): greedy (the site winning the
        most residents, in turn; the warm start solve() uses). Status "feasible"; bound NaN."""
        return heuristic_plan(self, "greedy")

    def _variant(self, **changes) -> "MarketShare":
        if self.p is None:
            raise InputError("curves are for a market-share model with p, not a target share", file="model")
        return super()._variant(**changes)

    def _heuristic(self) -> tuple[np.ndarray | None, float | None]:
        """Greedy from the fixed sites: add the allowed site capturing the most, up to p (or until the target
        share is reached); None when the plan breaks a rule."""
        y = self._greedy(self.rules.fixed)
        need = self._residents_needed()
        if not self.rules.admits(y) or (need is not None and self.captured(np.flatnonzero(y)) < need):
            return None, None
        return self._vector(y), self._objective(np.flatnonzero(y))

    def _greedy(self, start: np.ndarray) -> np.ndarray:
        """From the sites `start` open, add the allowed site capturing the most, in turn, up to p (or until the
        target share is reached): the 0/1 plan."""
        y = np.zeros(self.ours.shape[1])
        y[start] = 1.0
        allowed = self.rules.allowed & (y == 0)
        need = self._residents_needed()
        while allowed.any() and (y.sum() < self.p if self.p is not None else self.captured(np.flatnonzero(y)) < need):
            candidates = np.flatnonzero(allowed)
            y[candidates[int(np.argmax(_captured_with(self, self.ours @ y, candidates)))]] = 1.0
            allowed &= y == 0
        return y

    def _residents_needed(self) -> float | None:
        """The residents a target-share model must capture (less a rounding tolerance); None with p."""
        return None if self.p is not None else self.target_share * self.weights.sum() - 1e-9

    def _start_meeting_rules(self, deadline: float | None = None) -> tuple[np.ndarray | None, float | None]:
        """solve()'s warm start. Under a budget, new-branch or county limits (as for a relocation 迁址, where
        greedy from scratch opens more new sites than allowed): today's sites (existing and fixed, topped up
        greedily to p) improved by swaps that keep meeting the rules until `deadline` (perf_counter), when
        today's sites meet them; else greedy. (None, None) when no plan is found."""
        today = self.rules.today()
        if self.p is None or not self.rules.limits_plans(self.p) or len(today) > self.p:
            return self._heuristic()
        y = self._greedy(today)
        if not self.rules.admits(y):
            return self._heuristic()
        y = share_interchange(self, y, deadline)
        return self._vector(y), self._objective(np.flatnonzero(y))

    def _explain_infeasible(self) -> str:
        if self.target_share is not None:
            best = self.captured(np.setdiff1d(np.arange(self.ours.shape[1]), self.rules.forbidden))
            return (f"even every allowed site captures {100 * best / self.weights.sum():.1f}% of residents, "
                    f"below the target {100 * self.target_share:.1f}%")
        return self._rules_reason(self.p) or self.rules.together(self.p)

    def _result(self, raw: RawSolution) -> Result:
        m = self.ours.shape[1]
        sites = np.flatnonzero(raw.x[:m] > 0.5)
        share = self.share(sites)
        captured = float(self.weights @ share)
        total = self.weights.sum()
        if self.maximise and raw.status in ("optimal", "feasible"):
            # the plan's true capture: the linearised program's value carries its solver's tolerances (CBC's was
            # 0.6 % below on a tiny instance hypothesis found), the bound no lower than the plan it proves
            raw = replace(raw, objective=captured,
                          bound=max(raw.bound, captured) if np.isfinite(raw.bound) else raw.bound)
        return finish_result(raw, [self.site_labels[j] for j in sites], self._assignment(sites, share),
                             captured=captured, share_pct=100.0 * captured / total if total else np.nan,
                             sites=len(sites))

    def _assignment(self, sites: np.ndarray, share: np.ndarray) -> pd.DataFrame:
        """Per town: our open site drawing the most of its residents, its distance (when known), our share (%) and
        the residents captured."""
        pull = self.ours[:, sites]
        main = np.argmax(pull, axis=1) if len(sites) else np.zeros(len(share), int)
        reached = pull.max(axis=1, initial=0.0) > 0
        table = pd.DataFrame({"demand": self.demand_labels,
                              "site": [self.site_labels[sites[j]] if hit else None for j, hit in zip(main, reached)],
                              "weight": self.weights, "our_share_pct": 100.0 * share,
                              "captured": self.weights * share})
        if self.km is not None:
            distance = np.full(len(share), np.nan)
            if len(sites):
                distance[reached] = self.km[np.arange(len(share)), sites[main]][reached]
            table.insert(2, self.cost_column, distance)
        return table


GROUPED_ABOVE = 2000  # towns (grid cells) above which the cuts bound groups of them, not each (_cut_groups)
INTERCHANGE_SECONDS = 20.0  # the most share_interchange spends on solve()'s warm start under plan-limiting rules
INTERCHANGE_SHARE = 0.2  # … and at most this share of a time limit


def share_interchange(model: MarketShare, y: np.ndarray, deadline: float | None = None) -> np.ndarray:
    """Swap an open site (not fixed) for a closed allowed one while the best swap meeting the rules captures
    more residents, until `deadline` (perf_counter); every swap of a round is priced (towns x closed sites for
    each open site)."""
    y = y.astype(float).copy()
    rule_rows = model.rules.row_matrix()
    movable = np.ones(len(y), bool)
    movable[model.rules.fixed] = False
    value = model.captured(np.flatnonzero(y))
    while deadline is None or time.perf_counter() < deadline:
        current, closed = np.flatnonzero(y > 0.5), np.flatnonzero(model.rules.allowed & (y < 0.5))
        pull = model.ours @ y
        best, swap = value * (1 + 1e-9) + 1e-9, None
        for out in np.flatnonzero((y > 0.5) & movable):
            won = _captured_with(model, pull - model.ours[:, out], closed)
            if not len(won) or won.max() <= best:  # no swap of `out` gains: its rule check is not needed
                continue
            won[~swaps_meeting(rule_rows, current, out, closed)] = -np.inf
            k = int(np.argmax(won))
            if won[k] > best:
                best, swap = float(won[k]), (out, closed[k])
        if swap is None:
            return y
        y[swap[0]], y[swap[1]], value = 0.0, 1.0, best
    return y


def _captured_with(model: MarketShare, pull: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Residents captured with each of `sites` added in turn to our total pull `pull` per town (as many towns x
    sites at a time as the p-median swaps price, heuristics.BLOCK_CELLS)."""
    won = np.empty(len(sites))
    step = block_size(len(pull))
    for first in range(0, len(sites), step):
        block = sites[first:first + step]
        won[first:first + step] = model.weights @ huff_share(pull[:, None] + model.ours[:, block], model.rivals)
    return won


def max_attendance(km: np.ndarray, p: int, weights=None, decay: str = "exponential", beta: float = 0.3,
                   cutoff_km: float = np.inf, time_limit: float | None = None, **rules) -> Result:
    """Distance-decay coverage ("maximize attendance"): each town's residents use their nearest open site
    with probability g(d) (e^{-βd}, or d^{-β} with d at least competition.MIN_DISTANCE_KM; 0 past the cutoff); open p sites maximising
    the expected users Σ w_i g(d_i). Solved exactly as a p-median with cost 1 − g(d) (g ≤ 1), so the
    p-median's bounds and warm starts apply; objective and bound are in expected users."""
    from netopt.models.median import PMedian

    km = np.asarray(km, float)
    pull = huff_attraction(km, np.ones(km.shape[1]), decay, beta, cutoff_km)
    pull = np.minimum(pull / max(pull.max(), 1.0) if decay == "power" else pull, 1.0)
    w = as_weights(weights, km.shape[0])
    result = PMedian.from_cost_matrix(1.0 - pull, p, weights=w, **rules).solve(time_limit=time_limit)
    total = float(w.sum())
    result.objective, result.bound = total - result.objective, total - result.bound
    result.details["attendance_pct"] = 100.0 * result.objective / total if total else np.nan
    return result


def fewest_sites_for_attendance(km: np.ndarray, target_share: float, weights=None, decay: str = "exponential",
                                beta: float = 0.3, cutoff_km: float = np.inf, time_limit: float | None = None,
                                **rules) -> Result:
    """Distance-decay set covering: the fewest sites whose expected users Σ w_i g(d_i) reach `target_share`
    of all residents (x_ij: i's residents assigned to open j, Σ_j x_ij <= 1, x_ij <= y_j)."""
    from netopt.models._milp import solve_highs

    km = np.asarray(km, float)
    n, m = km.shape
    if not 0 < target_share <= 1:
        raise InputError("target_share is a fraction between 0 and 1", file="model")
    g = huff_attraction(km, np.ones(m), decay, beta, cutoff_km)
    g = np.minimum(g / max(g.max(), 1.0) if decay == "power" else g, 1.0)
    w = as_weights(weights, n)
    ii, jj = np.nonzero(g > 0)
    k = len(ii)
    x = m + np.arange(k)
    A = sp.vstack([
        sp.csr_matrix((np.ones(k), (ii, x)), shape=(n, m + k)),                                 # Σ_j x_ij <= 1
        sp.csr_matrix((np.r_[np.ones(k), -np.ones(k)], (np.r_[np.arange(k), np.arange(k)], np.r_[x, jj])),
                      shape=(k, m + k)),                                                          # x_ij <= y_j
        sp.csr_matrix((w[ii] * g[ii, jj], (np.zeros(k, int), x)), shape=(1, m + k)),            # attendance
    ]).tocsr()
    chosen_rules = site_rules(m, **rules)
    extra, lo, hi, _ = chosen_rules.rows()
    A = stack_rows(A, extra)
    y_lo, y_hi = chosen_rules.bounds()
    milp = MatrixMILP(c=np.r_[np.ones(m), np.zeros(k)], A=A,
                      row_lo=np.r_[np.full(n, -INF), np.full(k, -INF), target_share * w.sum(), lo],
                      row_hi=np.r_[np.ones(n), np.zeros(k), INF, hi],
                      col_lo=np.r_[y_lo, np.zeros(k)], col_hi=np.r_[y_hi, np.ones(k)],
                      integer=np.r_[np.ones(m, bool), np.zeros(k, bool)])
    raw = solve_highs(milp, time_limit=time_limit)
    if raw.status == "error":
        return stopped_without_plan(raw)
    if raw.status == "infeasible":
        best = float(w @ g.max(axis=1)) / w.sum()
        return Result("infeasible", np.nan, np.nan, np.inf, raw.seconds,
                      reason=f"even every site reaches {100 * best:.1f}% attendance, below {100 * target_share:.1f}%")
    sites = np.flatnonzero(raw.x[:m] > 0.5)
    attendance = float(w @ g[:, sites].max(axis=1)) if len(sites) else 0.0
    return finish_result(raw, [f"s{j}" for j in sites], pd.DataFrame(), attendance=attendance,
                         attendance_pct=100.0 * attendance / w.sum())
