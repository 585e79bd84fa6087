"""Covering models: LSCP (fewest/cheapest sites covering every demand point) and MCLP (most demand covered by p
sites, optionally with backup coverage), built as sparse matrices with identical demand rows merged."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, is_number
from netopt.models._covering_lp import lagrangian_site_tests, mclp_lp_multipliers
from netopt.models._gradual import GradualCover, gradual_rows
from netopt.models._mclp_probing import mclp_probing
from netopt.models._base import (Curves, LocationModel, SiteRules, checked_p, finish_result, heuristic_plan, site_rules,
                                 stack_rows)
from netopt.models._milp import (INF, MatrixMILP, RawSolution, Result, check_solver_arguments, relative_gap,
                                 report_stage, seconds_left, share_deadline)
from netopt.models.median import as_weights, column_or_values, labels, rules_from_candidates


# With at most k sites (p-center's steps) HiGHS's presolve costs more than the whole solve without it (OR-Library
# style n = 900 within 26 / 28: 5.6 s / 23.9 s against 0.8 s / 4.0 s), and it does not stop at the time limit.
LIMITED_COVER_OPTIONS = {"presolve": "off"}


def as_coverage(A, name: str = "coverage") -> sp.csr_matrix:
    """A 0/1 demand x site csr matrix: any stored entry (even an explicit zero distance) means 'covers'."""
    if not sp.issparse(A):
        dense = np.asarray(A)
        if dense.ndim != 2:
            raise InputError(f"{name} must be a 2-D demand x site matrix", file="model")
        if not np.isin(dense, (0, 1)).all():
            raise InputError(f"{name} must hold only 0/1 (or True/False); for distances use "
                             "from_cost_matrix(cost, radius=...)", file="model")
        A = sp.csr_matrix(dense.astype(bool))
    matrix = sp.csr_matrix(A, copy=True)
    matrix.data = np.ones(len(matrix.data))
    matrix.sum_duplicates()
    matrix.sort_indices()
    if 0 in matrix.shape:
        raise InputError(f"{name} matrix is empty (shape {matrix.shape})", file="model")
    return matrix


def reach_within(cost, radius: float) -> sp.csr_matrix:
    """The demand x site costs of the pairs within `radius`, sparse; a stored entry (even 0) is a pair that
    covers (a sparse `cost`'s missing entries never cover; its stored zeros do)."""
    if not (is_number(radius) and np.isfinite(radius) and radius >= 0):
        raise InputError(f"radius must be a non-negative number, got {radius!r}", file="model")
    if sp.issparse(cost):
        coo = cost.tocoo()
        if np.isnan(coo.data).any() or (coo.data < 0).any():
            raise InputError("cost has NaN or negative entries", file="model")
        rows, cols, values, shape = coo.row, coo.col, coo.data, coo.shape
    else:
        from netopt.models.median import as_cost_matrix

        dense = as_cost_matrix(cost)
        rows, cols = np.nonzero(dense <= radius)
        values, shape = dense[rows, cols], dense.shape
    near = values <= radius
    reach = sp.csr_matrix((values[near], (rows[near], cols[near])), shape=shape)
    reach.sort_indices()
    return reach


def merge_identical_rows(A: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """Unique rows of a 0/1 csr matrix and, for every original row, the index of its unique row.

    Rows are grouped by two random projections and their length, then checked exactly, so two different
    rows are never merged."""
    rng = np.random.default_rng(12345)
    keys = np.column_stack([A @ rng.random(A.shape[1]), A @ rng.random(A.shape[1]), np.diff(A.indptr)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    representative = first[inverse]
    differs = np.diff((A - A[representative]).tocsr().indptr) > 0
    if differs.any():  # a hash collision: keep those rows apart
        extra = np.flatnonzero(differs)
        first = np.concatenate([first, extra])
        inverse[extra] = len(first) - len(extra) + np.arange(len(extra))
    return A[first], inverse


def dominated_sites(A: sp.csr_matrix, rows: np.ndarray, fixed: np.ndarray, forbidden: np.ndarray,
                    cost: np.ndarray | None = None, existing: np.ndarray | None = None) -> np.ndarray:
    """Sites another allowed site makes useless: it covers every one of their `rows` at no higher cost
    (among sites covering the same rows, the cheapest, then an existing branch, then the first, stays).
    Every plan using such a site can use its dominator instead, so the optimum is kept. Fixed, forbidden
    and existing sites are not marked (a plan should not move a branch for no gain). Returns a boolean mask
    over the sites."""
    m = A.shape[1]
    covers = A[rows].tocsc().astype(np.int64)
    size = np.diff(covers.indptr)
    cost = np.zeros(m) if cost is None else np.asarray(cost, float)
    new = np.ones(m, bool)
    new[np.asarray(existing if existing is not None else [], int)] = False
    rank = np.empty(m, int)  # lower rank wins: cheaper, then covering more, then existing, then first
    rank[np.lexsort((np.arange(m), new, -size, cost))] = np.arange(m)
    allowed = np.ones(m, bool)
    allowed[forbidden] = False
    shared = (covers.T @ covers).tocoo()
    j, k = shared.row, shared.col
    beaten = (shared.data == size[j]) & (rank[k] < rank[j]) & allowed[k]
    dominated = np.zeros(m, bool)
    dominated[j[beaten]] = True
    if allowed.any():  # a site covering none of the rows: beaten by the best-ranked allowed site
        dominated |= (size == 0) & (rank > rank[allowed].min())
    dominated[fixed] = False
    dominated[forbidden] = False
    dominated[~new] = False
    return dominated


def dominated_rows(A: sp.csr_matrix, max_pairs: float = 2e7) -> np.ndarray:
    """Rows of a 0/1 matrix with distinct rows that another row's sites all cover (covering that other row
    covers them too): redundant in a set covering model. Not computed (none marked) when the rows share
    sites so much that comparing them would exceed `max_pairs` pairs."""
    covers = sp.csr_matrix(A, dtype=np.int64)
    per_site = np.diff(covers.tocsc().indptr)
    if float(per_site @ per_site) > max_pairs:
        return np.zeros(A.shape[0], bool)
    size = np.diff(covers.indptr)
    shared = (covers @ covers.T).tocoo()
    i, k = shared.row, shared.col
    inside = (i != k) & (shared.data == size[i]) & (size[i] > 0)
    redundant = np.zeros(A.shape[0], bool)
    redundant[k[inside]] = True
    return redundant


def reach_from_geodataframes(demand, candidates, radius_km=None, distance: str = "euclidean", graph=None,
                             radius_min=None, mode="drive", speed_kmh=30.0, walk_speed_kmh: float = 4.5,
                             detour_factor: float = 1.3) -> sp.csr_matrix:
    """Sparse demand x site km of the pairs within `radius_km` (straight line or road network), never dense;
    a stored entry (even 0 km) is a pair that covers. `radius_km`: one number, or one per demand row (e.g.
    coverage.demand_radius_km: the diagnosis's radius by region type, core 1.2 km, county 3.5 km). With
    `radius_min` instead: the minutes of the pairs within that travel time, `mode` "drive" or "walk" (or one per
    demand row, e.g. coverage.demand_modes: walking in the core, driving in the counties), measured as
    analyze_coverage(radius_min=...) measures them (road time plus access legs; straight line x `detour_factor`
    at `speed_kmh` driving — one, or one per demand row, e.g. coverage.demand_speeds — or `walk_speed_kmh` walking
    where a pair has no road)."""
    from netopt.distance import checked_model_inputs, demand_travel

    checked_model_inputs(demand, candidates, distance, graph)
    unit, given = _one_limit(radius_km, radius_min)
    name, words = ("radius_km", "km") if unit == "km" else ("radius_min", "minutes")
    if is_number(given) and not (np.isfinite(given) and given > 0):
        raise InputError(f"{name} must be a positive number of {words}, got {given!r}", file="model")
    limits = float(given) if is_number(given) else _per_row_radii(given, len(demand), name, words)
    # a mode or speed that is wrong is refused, km or minutes
    groups = demand_travel(distance, mode, len(demand), speed_kmh, walk_speed_kmh, detour_factor)
    if unit == "km" or len(groups) == 1:  # km: the same for every mode and speed
        return _reach_within(demand, candidates, limits, unit, graph, groups[0][0])
    return _stacked_rows([(rows, _reach_within(demand.iloc[rows], candidates,
                                               limits if is_number(limits) else limits[rows], unit, graph, travel))
                          for travel, rows in groups], len(demand))  # the rows that travel alike measured together


def _reach_within(demand, candidates, limits, unit: str, graph, travel) -> sp.csr_matrix:
    """reach_from_geodataframes for demand that travels alike (one TravelSettings): the pairs within each demand
    point's limit (one number, or one per point)."""
    if is_number(limits):
        return _pairs_within(demand, candidates, limits, unit, graph, travel)
    pairs = _pairs_within(demand, candidates, float(limits.max(initial=0.0)) or 1.0, unit, graph, travel).tocoo()
    inside = pairs.data <= limits[pairs.row] + 1e-9
    reach = sp.csr_matrix((pairs.data[inside], (pairs.row[inside], pairs.col[inside])), shape=pairs.shape)
    reach.sort_indices()
    return reach


def _stacked_rows(parts: list[tuple[np.ndarray, sp.csr_matrix]], rows: int) -> sp.csr_matrix:
    """One sparse matrix of `rows` rows from parts of it, each (its rows' positions, their rows)."""
    coo = [(rows_of[part.tocoo().row], part.tocoo()) for rows_of, part in parts]
    whole = sp.csr_matrix((np.concatenate([c.data for _, c in coo]),
                           (np.concatenate([r for r, _ in coo]), np.concatenate([c.col for _, c in coo]))),
                          shape=(rows, parts[0][1].shape[1]))
    whole.sort_indices()
    return whole


def cost_column(radius_min) -> str:
    """The assignment column of a covering model's pair costs: "travel_minutes" for a travel-time limit, else
    "distance" (km)."""
    return "distance" if radius_min is None else "travel_minutes"


def _one_limit(radius_km, radius_min) -> tuple[str, object]:
    """("km", radius_km) or ("min", radius_min): an InputError unless exactly one of them is given."""
    if (radius_km is None) == (radius_min is None):
        raise InputError("give a service radius in km (radius_km) or a travel time in minutes (radius_min)"
                         + (", not both" if radius_km is not None else ""), file="model")
    return ("km", radius_km) if radius_min is None else ("min", radius_min)


def _full_limit(full_km, full_min, radius_km, radius_min):
    """Gradual coverage's full radius, in the unit of the radius given (None: plain coverage); an InputError for
    a full radius in the other unit."""
    for full, name, radius, radius_name, other in ((full_km, "full_km", radius_km, "radius_km", "radius_min"),
                                                   (full_min, "full_min", radius_min, "radius_min", "radius_km")):
        if full is not None and radius is None:
            raise InputError(f"{name} goes with {radius_name} (the full radius in the radius's unit), not {other}",
                             file="model")
    return full_km if full_km is not None else full_min


def _checked_full(full, radius: np.ndarray, name: str, words: str) -> np.ndarray:
    """Gradual coverage's full radius per demand point (a number is every point's), each at least 0 and at most
    its `radius`; an InputError naming the first that is not."""
    limits = _per_row_radii(np.full(len(radius), float(full)) if is_number(full) else full, len(radius), name, words,
                            zero=True)
    over = np.flatnonzero(limits > radius + 1e-12)
    if len(over):
        raise InputError(f"{name} must be at most the radius: demand point {over[0]} has {float(limits[over[0]])!r} "
                         f"{words} against a radius of {float(radius[over[0]])!r}", file="model")
    return limits


def _per_row_radii(radius, rows: int, name: str = "radius_km", words: str = "km", zero: bool = False) -> np.ndarray:
    """One limit per demand row (km, or minutes), each a positive number (at least 0 with `zero`: a full radius);
    an InputError naming the first that is not."""
    what = f"a number of {words} >= 0" if zero else f"a positive number of {words}"
    try:
        limits = np.asarray(radius, dtype=float)
    except (TypeError, ValueError):
        limits = None
    if limits is None or limits.shape != (rows,):
        helper = "demand_radius_km(ds, radius_km, demand)" if words == "km" else \
            'demand_limits(ds, radius_min, demand, unit="min")'
        hint = (f": a limit by region type becomes one per demand point with netopt.coverage.{helper}"
                if isinstance(radius, dict) else "")
        raise InputError(f"{name} must be {what}, or one per demand point ({rows}), got "
                         f"{radius!r}"[:200] + hint, file="model")
    bad = np.flatnonzero(~(np.isfinite(limits) & ((limits >= 0) if zero else (limits > 0))))
    if len(bad):
        raise InputError(f"{name} must be {what} for every demand point: demand point "
                         f"{bad[0]} has {float(limits[bad[0]])!r}", file="model")
    return limits


def _pairs_within(demand, candidates, limit: float, unit: str, graph, travel) -> sp.csr_matrix:
    """reach_from_geodataframes for one limit: the pairs within it, in km or minutes (`unit` "km" or "min"; a
    stored 0 is a pair that covers). By road, a pair with an end off the network is measured by straight line x
    the detour factor."""
    from netopt.distance import (DEFAULT_MAX_SNAP_M, as_road_network, cost_factors, network_pairs_within,
                                 pairs_within, snap_both)
    from netopt.projection import metric_crs, xy_metres

    per_unit, leg, straight_cost = cost_factors(travel, unit)
    bound = limit * per_unit
    if travel.distance == "euclidean":
        crs = metric_crs(demand, candidates)
        return pairs_within(xy_metres(demand, crs), xy_metres(candidates, crs), bound / straight_cost) \
            * (straight_cost / per_unit)
    net = as_road_network(graph)
    demand_xy, site_xy = xy_metres(demand, net.crs), xy_metres(candidates, net.crs)
    d_node, d_snap, s_node, s_snap = snap_both(net, demand_xy, site_xy)
    on_demand, on_site = d_snap <= DEFAULT_MAX_SNAP_M, s_snap <= DEFAULT_MAX_SNAP_M
    weights = net.length_m if unit == "km" else travel.road_weights(net)
    road = network_pairs_within(weights, d_node, s_node, bound, site_legs=s_snap * leg).tocoo()
    cost = road.data + d_snap[road.row] * leg
    by_road = (cost <= bound) & on_demand[road.row] & on_site[road.col]
    straight = pairs_within(demand_xy, site_xy, bound / straight_cost).tocoo()
    off = ~(on_demand[straight.row] & on_site[straight.col])
    reach = sp.csr_matrix((np.concatenate([cost[by_road], straight.data[off] * straight_cost]) / per_unit,
                           (np.concatenate([road.row[by_road], straight.row[off]]),
                            np.concatenate([road.col[by_road], straight.col[off]]))), shape=road.shape)
    reach.sort_indices()
    return reach


class _Covering(LocationModel):
    def __init__(self, A: sp.csr_matrix, rules: SiteRules | None, demand_labels, site_labels,
                 merged: tuple[sp.csr_matrix, np.ndarray] | None = None, weights=None) -> None:
        self.A = as_coverage(A)
        n, m = self.A.shape
        self.rules = rules or SiteRules(m)
        self.demand_labels = labels(demand_labels, n, "d")
        self.site_labels = labels(site_labels, m, "s")
        self.unique, self.row_of = merged if merged is not None else merge_identical_rows(self.A)
        self.weights = as_weights(weights, n)
        self.unique_weights = np.bincount(self.row_of, weights=self.weights, minlength=self.unique.shape[0])
        self.distances: sp.csr_matrix | None = None  # cost of each covering pair (A's pattern), when known
        self.distance_column = "distance"  # the assignment's column of those costs: "distance" (km), "travel_minutes"
        self._milp = None

    def _with_distances(self, reach: sp.csr_matrix, column: str = "distance") -> "_Covering":
        """This model, knowing the cost of each covering pair (reach: A's pattern): the assignment then names
        each demand point's nearest open covering site and its distance (`column` "distance", km) or travel time
        ("travel_minutes")."""
        reach = sp.csr_matrix(reach)
        reach.sort_indices()
        if reach.shape == self.A.shape and reach.nnz == self.A.nnz and np.array_equal(reach.indices, self.A.indices):
            self.distances, self.distance_column = reach, column
        return self

    def covered_alone(self, selected) -> pd.Series:
        """The demand weight (residents) each site of the plan `selected` (labels) covers and no other of them
        does — what closing it alone would leave uncovered —, by site label."""
        plan = self._positions_of(selected, "covered_alone")
        return pd.Series(self._alone(plan), index=[self.site_labels[j] for j in plan], name="covered_alone")

    def _alone(self, plan: np.ndarray) -> np.ndarray:
        """covered_alone of the sites at positions `plan` (sorted), in their order."""
        reach = sp.csr_matrix(self.unique[:, plan])
        once = np.flatnonzero(np.asarray(reach.sum(axis=1)).ravel() == 1)
        alone = reach[once].tocoo()
        return np.bincount(alone.col, weights=self.unique_weights[once[alone.row]], minlength=len(plan))

    def _newly_covered(self, plan: np.ndarray, opening: np.ndarray) -> np.ndarray:
        """The demand weight each site at positions `opening` covers and no site of `plan` does."""
        bare = np.flatnonzero(np.asarray(self.unique[:, plan].sum(axis=1)).ravel() == 0)
        return np.asarray(self.unique[bare][:, opening].T @ self.unique_weights[bare]).ravel()

    def _coverage_worth(self, plan: np.ndarray, sites: np.ndarray) -> np.ndarray:
        """The residents each site at positions `sites` covers with the plan's sites and no other does: what
        closing an open one leaves uncovered, what opening a closed one brings in."""
        inside = np.isin(sites, plan)
        worth = np.empty(len(sites))
        worth[inside] = self._alone(plan)[np.searchsorted(plan, sites[inside])]
        worth[~inside] = self._newly_covered(plan, sites[~inside])
        return worth

    def _columns_of(self, keep: np.ndarray, model: "_Covering") -> "_Covering":
        """`model`, built over this model's sites `keep`, with their distances."""
        return (model._with_distances(self.distances[:, keep], self.distance_column) if self.distances is not None
                else model)

    def _merged_columns(self, keep: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """Distinct rows and row map of the matrix restricted to the sites `keep`, from this model's distinct
        rows (not from every demand point again)."""
        unique, inverse = merge_identical_rows(self.unique[:, keep])
        return unique, inverse[self.row_of]

    def _sites_kept(self, cost: np.ndarray | None, rows: np.ndarray | None = None) -> np.ndarray:
        """Indices of the allowed sites no other allowed site dominates on `rows` (default: every row)."""
        rows = np.arange(self.unique.shape[0]) if rows is None else rows
        dropped = dominated_sites(self.unique, rows, self.rules.fixed, self.rules.forbidden, cost,
                                  self.rules.existing)
        dropped[self.rules.forbidden] = True
        return np.flatnonzero(~dropped)

    def _assignment(self, open_sites: np.ndarray) -> pd.DataFrame:
        """Per demand point: the open site covering it (the nearest when distances are known), how many open
        sites cover it, whether any does; and the distance to that site when known."""
        known = self.distances is not None
        chosen, distance, count = nearest_open(self.distances if known else self.A, open_sites, by_cost=known)
        table = pd.DataFrame({"demand": self.demand_labels,
                              "site": [self.site_labels[j] if j >= 0 else None for j in chosen],
                              "covering_sites": count, "covered": count > 0})
        if known:
            table[self.distance_column] = distance
        return table

    def _covered(self, assignment: pd.DataFrame) -> dict:
        """The demand weight an assignment covers, and its share of all demand (%)."""
        total = float(self.weights.sum())
        covered = float(self.weights[assignment["covered"].to_numpy()].sum())
        return {"covered_weight": covered, "covered_pct": 100.0 * covered / total if total else np.nan}


def nearest_open(pairs: sp.csr_matrix, open_sites: np.ndarray,
                 by_cost: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of `pairs` (its stored entries: the sites covering it and their costs): the open site covering it
    — the cheapest when `by_cost`, else the first — (-1: none), its cost (NaN: none) and how many open sites cover
    it."""
    coo = pairs.tocoo()
    is_open = np.isin(coo.col, open_sites)
    rows, cols, cost = coo.row[is_open], coo.col[is_open], coo.data[is_open]
    order = np.lexsort((cols, cost if by_cost else np.zeros(len(cost)), rows))
    rows, cols, cost = rows[order], cols[order], cost[order]
    n = pairs.shape[0]
    firsts = np.unique(rows, return_index=True)[1]
    chosen, nearest = np.full(n, -1), np.full(n, np.nan)
    chosen[rows[firsts]], nearest[rows[firsts]] = cols[firsts], cost[firsts]
    return chosen, nearest, np.bincount(rows, minlength=n)


class LSCP(_Covering):
    """Location set covering: open the cheapest set of sites (fewest, by default) covering every demand point;
    with cover_share, covering at least that share of the demand weight (partial set covering: "how many
    branches bring 90 % of residents within 3.5 km")."""

    requirement = "covering every demand point"  # what every plan must do, as an infeasibility reason words it
    max_sites_name = "max_sites"  # how a reason names the limit on open sites

    def _worth(self, plan: np.ndarray, sites: np.ndarray) -> np.ndarray:
        """In residents (the objective counts sites): what each open site alone covers, what each closed one
        would bring in."""
        return self._coverage_worth(plan, sites)

    def __init__(self, A, facility_cost=None, rules: SiteRules | None = None, demand_labels=None,
                 site_labels=None, max_sites: int | None = None,
                 merged: tuple[sp.csr_matrix, np.ndarray] | None = None, cover_share: float | None = None,
                 weights=None) -> None:
        super().__init__(A, rules, demand_labels, site_labels, merged, weights)
        m = self.A.shape[1]
        self.cost = np.ones(m) if facility_cost is None else np.asarray(facility_cost, float)
        if self.cost.shape != (m,) or np.isnan(self.cost).any():
            raise InputError(f"facility_cost must be {m} numbers, one per site", file="model")
        self.max_sites = max_sites
        if cover_share is not None and not (is_number(cover_share) and 0 < cover_share <= 1):
            raise InputError(f"cover_share must be a share of the demand weight above 0 and at most 1 (0.9: 90 %), "
                             f"got {cover_share!r}", file="model")
        self.cover_share = None if cover_share is None else float(cover_share)
        if self.cover_share is not None:
            self.requirement = f"covering {100 * self.cover_share:g} % of the demand weight"

    @classmethod
    def from_coverage(cls, A, facility_cost=None, demand_labels=None, site_labels=None,
                      cover_share: float | None = None, weights=None, **rules) -> "LSCP":
        """A: sparse (or dense) 0/1 demand x site matrix; facility_cost: one per site (default 1: fewest sites);
        cover_share: cover at least this share of Σ weights (default: every demand point)."""
        matrix = as_coverage(A)
        return cls(matrix, facility_cost, site_rules(matrix.shape[1], **rules), demand_labels, site_labels,
                   cover_share=cover_share, weights=weights)

    @classmethod
    def from_cost_matrix(cls, cost, radius: float, facility_cost=None, demand_labels=None, site_labels=None,
                         cover_share: float | None = None, weights=None, **rules) -> "LSCP":
        """cost: demand x site distances or minutes (dense, or sparse: a missing entry never covers); a site
        covers a demand point within `radius` (same unit)."""
        reach = reach_within(cost, radius)
        return cls.from_coverage(reach, facility_cost, demand_labels, site_labels, cover_share, weights,
                                 **rules)._with_distances(reach)

    @classmethod
    def from_geodataframes(cls, demand, candidates, radius_km: float | None = None, distance: str = "euclidean",
                           graph=None, facility_cost: str | None = None, cover_share: float | None = None,
                           weight: str | None = "population", radius_min: float | None = None,
                           mode: str | np.ndarray = "drive", speed_kmh=30.0, walk_speed_kmh: float = 4.5,
                           detour_factor: float = 1.3, **rules) -> "LSCP":
        """With cover_share, the share is of the `weight` column's total (residents by default); the weights (where
        the demand has that column, or always with cover_share) also count each open site's worth in residents
        (worth_of_each) and the covered share of the result. `radius_min`
        (minutes, `mode` "drive" or "walk") instead of radius_km: every demand point within that travel time
        (reach_from_geodataframes); the assignment's `travel_minutes` column then replaces its km `distance`.
        `speed_kmh` (driving: one, or one per demand point,
        coverage.demand_speeds), `walk_speed_kmh` and `detour_factor` set the travel times off the roads, as
        analyze_coverage takes them."""
        from netopt.models.median import _ids

        cost = column_or_values(candidates, facility_cost, "candidates")
        weighed = cover_share is not None or not isinstance(weight, str) or weight in demand
        weights = column_or_values(demand, weight, "demand") if weighed else None
        given = rules_from_candidates(candidates, rules)
        reach = reach_from_geodataframes(demand, candidates, radius_km, distance, graph, radius_min, mode,
                                         speed_kmh=speed_kmh, walk_speed_kmh=walk_speed_kmh,
                                         detour_factor=detour_factor)
        return cls.from_coverage(reach, cost, _ids(demand, None), _ids(candidates, None), cover_share, weights,
                                 **given)._with_distances(reach, cost_column(radius_min))

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """Sites another covers at no higher cost and towns whose coverage another town's implies are dropped
        first (unless budgets, county minimums, new-branch limits, negative costs or pulp extensions apply);
        then the exact model. Among the covers as cheap, one keeping the most closable existing sites open, then
        spending least where opening costs differ (LocationModel._keeping_most_then_cheapest)."""
        check_solver_arguments(time_limit, mip_gap, solver, threads, warm_start)
        t0 = time.perf_counter()
        result = self._solve_reduced(time_limit, mip_gap, solver, threads, warm_start)
        return self._keeping_most_then_cheapest(result, time_limit, t0, solver, threads)

    def _solve_reduced(self, time_limit: float | None, mip_gap: float, solver: str, threads: int | None,
                       warm_start: bool) -> Result:
        """solve() before its tie-break: the model after its site and row reductions, or whole under rules."""
        if (self.rules.limits_plans() or getattr(self, "_pulp", None) is not None or (self.cost < 0).any()
                or self._explain_infeasible_rules()):
            return super().solve(time_limit, mip_gap, solver, threads, warm_start)
        t0 = time.perf_counter()
        keep = self._sites_kept(self.cost)
        reduced = self._columns_of(keep, LSCP(
            self.A[:, keep], self.cost[keep], SiteRules(len(keep), fixed=np.searchsorted(keep, self.rules.fixed)),
            self.demand_labels, [self.site_labels[j] for j in keep], self.max_sites, self._merged_columns(keep),
            self.cover_share, self.weights))
        reduced.diagnose_infeasible, reduced.requirement = self.diagnose_infeasible, self.requirement
        reduced.max_sites_name = self.max_sites_name
        rows_before = reduced.unique.shape[0]
        if self.cover_share is None:  # a partial cover counts every row's weight: no row may go
            reduced.unique = reduced.unique[~dominated_rows(reduced.unique)]  # the model's rows (row_of: unused)
        result = LocationModel.solve(reduced, seconds_left(time_limit, t0), mip_gap, solver, threads, warm_start)
        result.seconds = time.perf_counter() - t0
        result.details.update(dominated_sites=self.A.shape[1] - len(keep),
                              dominated_rows=rows_before - reduced.unique.shape[0])
        return result

    def _build(self) -> MatrixMILP:
        if self.cover_share is not None:
            return self._build_partial()
        k, m = self.unique.shape
        extra, lo, hi, names = self._rule_rows()
        A = stack_rows(self.unique, extra)
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(c=self.cost.copy(), A=A, row_lo=np.concatenate([np.ones(k), lo]),
                          row_hi=np.concatenate([np.full(k, INF), hi]), col_lo=y_lo, col_hi=y_hi,
                          integer=np.ones(m, bool), col_names=[f"y_{j}" for j in range(m)],
                          row_names=[f"cover_{i}" for i in range(k)] + names,
                          highs_options=LIMITED_COVER_OPTIONS if self.max_sites is not None else {})

    def _rule_rows(self) -> tuple:
        """The site rules' rows, and the limit on open sites (p-center's steps)."""
        if self.max_sites is None:
            return self.rules.rows()
        return self.rules.rows([(np.ones(self.A.shape[1]), -INF, float(self.max_sites), "max_sites")])

    def _target_weight(self) -> float:
        """The demand weight a partial cover must reach (a hair less, for rounding)."""
        return self.cover_share * float(self.weights.sum()) * (1 - 1e-12)

    def _build_partial(self) -> MatrixMILP:
        """min Σ cost_j y_j  s.t.  z_i <= Σ_j a_ij y_j,  Σ w_i z_i >= cover_share x Σ w;  z_i in [0, 1] (with
        integer y some optimum has z integer), i over the distinct rows, weights summed."""
        k, m = self.unique.shape
        A = sp.vstack([sp.hstack([self.unique, -sp.identity(k)]),
                       sp.hstack([sp.csr_matrix((1, m)), sp.csr_matrix(self.unique_weights)])]).tocsr()
        extra, lo, hi, names = self._rule_rows()
        A = stack_rows(A, extra)
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(c=np.concatenate([self.cost, np.zeros(k)]), A=A,
                          row_lo=np.concatenate([np.zeros(k), [self._target_weight()], lo]),
                          row_hi=np.concatenate([np.full(k + 1, INF), hi]),
                          col_lo=np.concatenate([y_lo, np.zeros(k)]), col_hi=np.concatenate([y_hi, np.ones(k)]),
                          integer=np.concatenate([np.ones(m, bool), np.zeros(k, bool)]),
                          col_names=[f"y_{j}" for j in range(m)] + [f"z_{i}" for i in range(k)],
                          row_names=[f"cover_{i}" for i in range(k)] + ["cover_share"] + names)

    def _requirement(self) -> str:
        return self.requirement

    def _explain_infeasible_rules(self) -> str:
        reach = np.asarray(self.A[:, self.rules.allowed].sum(axis=1)).ravel()
        if self.cover_share is not None:
            return self._short_of_share(reach > 0) or self._rules_reason()
        if (reach == 0).any():
            return f"no allowed candidate site covers demand point(s) {self._named_demand(np.flatnonzero(reach == 0))}"
        return self._rules_reason()

    def _short_of_share(self, reachable: np.ndarray) -> str:
        """Why no plan covers cover_share of the weight, when even every allowed site covers less ('' if not)."""
        total = float(self.weights.sum())
        best = float(self.weights[reachable].sum())
        if best >= self._target_weight():
            return ""
        missed = np.flatnonzero(~reachable)
        heaviest_first = missed[np.argsort(-self.weights[missed], kind="stable")]
        return (f"even every allowed site covers only {100 * best / total:.4g} % of the demand weight, short of "
                f"the {100 * self.cover_share:g} % asked (cover_share={self.cover_share:g}): no site reaches demand "
                f"point(s) {self._named_demand(heaviest_first)}")

    def _explain_infeasible(self) -> str:
        requirement = f", with {self.requirement}" if self.requirement else ""
        return self._rules_reason() or self.rules.together(self.max_sites, self.max_sites_name) + requirement

    def heuristic(self) -> Result:
        """A cover fast, without proof, for instances too big for solve(): Chvátal's greedy (cheapest cost per
        newly covered demand point). Status "feasible"; bound NaN."""
        return heuristic_plan(self, "greedy")

    def _heuristic(self) -> tuple[np.ndarray | None, float | None]:
        """The greedy cover, or None when it breaks a rule (budget, new-site limit, county limits, max_sites)."""
        if self.cover_share is None:
            y = greedy_cover(self.unique, self.cost, self.rules)
        else:
            y = greedy_cover(self.unique, self.cost, self.rules, self.unique_weights, self._target_weight())
        if y is None or not self.rules.admits(y) or (self.max_sites is not None and y.sum() > self.max_sites):
            return None, None
        if self.cover_share is None:
            return y, float(self.cost @ y)
        covered = np.minimum(np.asarray(self.unique @ y).ravel(), 1.0)
        return np.concatenate([y, covered]), float(self.cost @ y)

    def _as_good_plan(self, x: np.ndarray) -> Result:
        """The cover of a solution x of this model's matrix, at its cost."""
        m = self.A.shape[1]
        y = np.round(x[:m])
        cost = float(self.cost @ y)
        return self._result(RawSolution("optimal", np.concatenate([y, x[m:]]), cost, cost, 0.0))

    def _result(self, raw: RawSolution) -> Result:
        open_sites = np.flatnonzero(raw.x[: self.A.shape[1]] > 0.5)
        assignment = self._assignment(open_sites)
        return finish_result(raw, [self.site_labels[j] for j in open_sites], assignment,
                             sites=len(open_sites), unique_demand_rows=self.unique.shape[0],
                             **self._covered(assignment))


def greedy_cover(A: sp.csr_matrix, cost: np.ndarray, rules: SiteRules, weights: np.ndarray | None = None,
                 target: float | None = None) -> np.ndarray | None:
    """Chvátal's greedy set cover from the fixed sites: repeatedly the site with the lowest cost per newly
    covered row (per newly covered weight, with weights), until every row is covered (or the covered weight
    reaches `target`), none too close to an open one. Returns a 0/1 vector, or None when that cannot be reached."""
    m = A.shape[1]
    y = np.zeros(m)
    y[rules.fixed] = 1.0
    conflicts = rules.conflicts()
    allowed = rules.allowed & (conflicts @ y == 0)
    covered = np.asarray(A @ y).ravel() > 0
    csc = A.tocsc()
    weights = np.ones(A.shape[0]) if weights is None else weights
    while not (covered.all() if target is None else weights[covered].sum() >= target):
        gain = np.asarray(csc.T @ (weights * ~covered)).ravel()
        gain[~allowed | (y > 0)] = 0
        if gain.max() <= 0:
            return None
        ratio = np.where(gain > 0, np.maximum(cost, 1e-12) / np.maximum(gain, 1e-12), np.inf)
        j = int(np.argmin(ratio))
        y[j] = 1.0
        allowed[conflicts[j].indices] = False
        covered |= np.asarray(csc[:, j].todense()).ravel() > 0
    return y


# the MIP over the LP's sites, looking for a better incumbent: this long without a time limit, else this share
# of it (measured on 100,000 x 2,000: it finds in a minute what the whole model does not find in five)
SUPPORT_SEARCH_SECONDS = 20.0
SUPPORT_SEARCH_SHARE = 0.4
INTERCHANGE_SHARE = 0.1  # of a time limit, at most, for the first incumbent's swap search
MIN_GROUP_SECONDS = 0.05  # a group's MIP is not started with less time than this
LP_SHARE = 0.5  # of the time left, at most, for the LP; past it the subgradient bound is used instead
PROBING_SHARE = 0.7  # of the time left, at most, for LP probing of the sites the LP multipliers leave undecided
# the model left after the reductions: HiGHS's presolve finds almost nothing there (100,000 x 2,000, p = 50: 18
# of 35,614 rows in 3.2 s, ignoring a 2.2 s limit); without it the same optima take the same time (10k p = 50,
# 100k p = 40/45, 1M p = 40 within 5 km)
FINAL_MIP_OPTIONS = {"presolve": "off"}
# even so HiGHS's MIP set-up before its first time check takes about 1-1.5 x the LP's time (there: 1.4-2.1 s
# after a 1.3-1.5 s LP); under a time limit this much is kept for it, and with less left the incumbent is the
# answer, with the Lagrangian bound
MIP_RESERVE = 1.5
# when the LP did not finish in its share there is no LP time to go by: the final MIP's set-up and the result's
# assembly then take about this many times the reduced model's own build (1M x 2,000 within 10 km, 57M covering
# pairs: build 6 s, MIP set-up and read-back 10 s; within 5 km the same MIP fits in the 13 s left)
BUILD_RESERVE = 2.0


def _before(deadline: float | None, time_limit: float | None, t0: float, reserve: float) -> float | None:
    """`deadline`, moved earlier to leave `reserve` seconds of `time_limit` (counted from t0) for the final MIP."""
    if deadline is None or time_limit is None:
        return deadline
    return min(deadline, t0 + time_limit - reserve)


class MCLP(Curves, _Covering):
    """Maximal covering: open p sites covering the most demand weight; optionally reward backup coverage, or
    count coverage gradually (full within a full radius, falling linearly to none at the radius: `full_radius`,
    `full_km`, `full_min`). curve() and moves_curve() give the covered weight for each p, or each number of moves."""

    maximise = True
    curve_columns = ("covered_weight", "covered_pct")

    def __init__(self, A, p: int, weights=None, rules: SiteRules | None = None, demand_labels=None,
                 site_labels=None, backup_weight: float = 0.0, exactly_p: bool = True, cover_all: bool = False,
                 merged: tuple[sp.csr_matrix, np.ndarray] | None = None, gradual: GradualCover | None = None) -> None:
        super().__init__(A, rules, demand_labels, site_labels, merged, weights)
        m = self.A.shape[1]
        self.p = checked_p(p, m)
        if not (is_number(backup_weight) and 0 <= backup_weight < np.inf):
            raise InputError(f"backup_weight must be a number >= 0 (0: no reward for a second cover), got "
                             f"{backup_weight!r}", file="model")
        if gradual is not None and (backup_weight > 0 or cover_all):
            raise InputError("gradual coverage (a full radius) counts each demand point's nearest open site only: "
                             "it takes no backup_weight and no cover_all", file="model")
        self.gradual = gradual  # the rows are demand points' distance levels (see _gradual.GradualCover)
        self.backup_weight = float(backup_weight)
        self.exactly_p = exactly_p
        self.cover_all = cover_all  # every demand point must be covered (LSCP-B: then maximise backup coverage)
        self._start_sites: np.ndarray | None = None  # a warm start found by solve() for the reduced model
        self._highs_options: dict = {}  # set by solve() for the model left after its reductions

    @classmethod
    def from_coverage(cls, A, p: int, weights=None, demand_labels=None, site_labels=None, backup_weight: float = 0.0,
                      cover_all: bool = False, exactly_p: bool = True, **rules) -> "MCLP":
        """A: 0/1 demand x site; backup_weight > 0 also rewards demand covered twice; cover_all=True requires
        every demand point covered (with backup_weight, the LSCP-B of Hogan & ReVelle for a given p);
        exactly_p=False: at most p sites (fewer where the rules, e.g. a budget, make fewer better)."""
        matrix = as_coverage(A)
        return cls(matrix, p, weights, site_rules(matrix.shape[1], **rules), demand_labels, site_labels,
                   backup_weight, exactly_p, cover_all=cover_all)

    @classmethod
    def from_cost_matrix(cls, cost, radius: float, p: int, weights=None, demand_labels=None, site_labels=None,
                         backup_weight: float = 0.0, cover_all: bool = False, exactly_p: bool = True,
                         full_radius=None, **rules) -> "MCLP":
        """cost: demand x site distances or minutes (dense, or sparse: a missing entry never covers); a site
        covers a demand point within `radius` (same unit). With `full_radius` (one, or one per demand point, at
        most `radius`), gradual coverage: a point is covered wholly by a site within full_radius, and by the share
        (radius − d) / (radius − full_radius) of it by one d farther, up to the radius; the objective is Σ weight x
        the share its nearest open site covers (full_radius=0: the share falls from the site itself)."""
        reach = reach_within(cost, radius)
        if full_radius is not None:
            n = reach.shape[0]
            radii = np.full(n, float(radius))
            return cls._gradual(reach, (_checked_full(full_radius, radii, "full_radius", "units"), radii), p,
                                weights, (demand_labels, site_labels), exactly_p, "distance", rules)
        return cls.from_coverage(reach, p, weights, demand_labels, site_labels, backup_weight, cover_all, exactly_p,
                                 **rules)._with_distances(reach)

    @classmethod
    def _gradual(cls, reach: sp.csr_matrix, limits: tuple[np.ndarray, np.ndarray], p: int, weights, names: tuple,
                 exactly_p: bool, column: str, rules: dict) -> "MCLP":
        """A gradual-coverage MCLP of the pairs `reach` (their distances), each demand point's (full radius,
        radius) in `limits`; `names` (demand labels, site labels); `column` names the assignment's distances."""
        n = reach.shape[0]
        weights = as_weights(weights, n)
        A, row_weights, point_of = gradual_rows(reach, weights, *limits)
        points = labels(names[0], n, "d")
        gradual = GradualCover(point_of, points, weights, reach, *limits, column=column)
        return cls(A, p, row_weights, site_rules(A.shape[1], **rules), [points[i] for i in point_of], names[1],
                   exactly_p=exactly_p, gradual=gradual)

    @classmethod
    def from_geodataframes(cls, demand, candidates, radius_km: float | None = None, p: int | None = None,
                           weight: str | None = "population", distance: str = "euclidean", graph=None,
                           backup_weight: float = 0.0, exactly_p: bool = True, radius_min: float | None = None,
                           mode: str | np.ndarray = "drive", speed_kmh=30.0, walk_speed_kmh: float = 4.5,
                           detour_factor: float = 1.3, full_km=None, full_min=None, **rules) -> "MCLP":
        """Demand points and candidate sites as GeoDataFrames; site rules as row positions or values, or as a
        column name of `candidates` (see median.rules_from_candidates), e.g. existing="is_ours",
        county="county". `radius_min` (minutes, `mode` "drive" or "walk") instead of radius_km: the demand within
        that travel time, e.g. MCLP.from_geodataframes(towns, sites, p=10, radius_min=15) — the 15-minute
        service circle 15分钟金融服务圈; the assignment's `travel_minutes` column then replaces its km `distance`.
        `speed_kmh` (driving: one, or one per demand point,
        coverage.demand_speeds), `walk_speed_kmh` and `detour_factor` set the travel times off the roads, as
        analyze_coverage takes them. `full_km` (with radius_km) or `full_min` (with radius_min): gradual coverage,
        as from_cost_matrix's full_radius — e.g. radius_km=3.5, full_km=1.2: wholly covered within 1.2 km, half
        at 2.35 km, not at all past 3.5 km."""
        from netopt.models.median import _ids

        weights = column_or_values(demand, weight, "demand")
        given = rules_from_candidates(candidates, rules)
        full = _full_limit(full_km, full_min, radius_km, radius_min)
        reach = reach_from_geodataframes(demand, candidates, radius_km, distance, graph, radius_min, mode,
                                         speed_kmh=speed_kmh, walk_speed_kmh=walk_speed_kmh,
                                         detour_factor=detour_factor)
        names = (_ids(demand, None), _ids(candidates, None))
        if full is not None:
            name, words = ("full_km", "km") if radius_min is None else ("full_min", "minutes")
            limit = radius_km if radius_min is None else radius_min
            radii = np.broadcast_to(np.asarray(limit, float), (len(demand),)).copy()
            return cls._gradual(reach, (_checked_full(full, radii, name, words), radii), p, weights,
                                names, exactly_p, cost_column(radius_min), given)
        model = cls.from_coverage(reach, p, weights, *names, backup_weight, exactly_p=exactly_p, **given)
        return model._with_distances(reach, cost_column(radius_min))

    def _build(self) -> MatrixMILP:
        k, m = self.unique.shape
        backup = self.backup_weight > 0
        n_vars = m + k * (2 if backup else 1)
        # z_i - Σ a_ij y_j <= 0   (and z_i + u_i - Σ a_ij y_j <= 0 with backup; u_i <= z_i)
        blocks = [-self.unique, sp.identity(k, format="csr")]
        if backup:
            blocks.append(sp.identity(k, format="csr"))
        A = sp.hstack(blocks).tocsr()
        row_lo, row_hi = np.full(k, -INF), np.zeros(k)
        names = [f"cover_{i}" for i in range(k)]
        if backup:
            link = sp.hstack([sp.csr_matrix((k, m)), -sp.identity(k), sp.identity(k)]).tocsr()
            A = sp.vstack([A, link]).tocsr()
            row_lo, row_hi = np.concatenate([row_lo, np.full(k, -INF)]), np.concatenate([row_hi, np.zeros(k)])
            names += [f"backup_{i}" for i in range(k)]
        extra, lo, hi, extra_names = self.rules.rows([(np.ones(m), self.p if self.exactly_p else -INF, self.p, "p")])
        A = stack_rows(A, extra)
        c = np.concatenate([np.zeros(m), self.unique_weights] +
                           ([self.backup_weight * self.unique_weights] if backup else []))
        y_lo, y_hi = self.rules.bounds()
        return MatrixMILP(
            c=c, A=A, row_lo=np.concatenate([row_lo, lo]), row_hi=np.concatenate([row_hi, hi]),
            col_lo=np.concatenate([y_lo, np.full(k, 1.0 if self.cover_all else 0.0), np.zeros(n_vars - m - k)]),
            col_hi=np.concatenate([y_hi, np.ones(n_vars - m)]),
            integer=np.concatenate([np.ones(m, bool), np.zeros(n_vars - m, bool)]), sense="max",
            col_names=[f"y_{j}" for j in range(m)] + [f"z_{i}" for i in range(k)] +
            ([f"u_{i}" for i in range(k)] if backup else []),
            row_names=names + extra_names, highs_options=dict(self._highs_options),
        )

    def solve(self, time_limit: float | None = None, mip_gap: float = 0.0, solver: str = "highs",
              threads: int | None = None, warm_start: bool = True) -> Result:
        """Sites another site outcovers are dropped; then a greedy incumbent; the LP bound (solved through its
        dual) and a short MIP over the sites the LP uses for a better incumbent; the LP multipliers then close
        the sites no better plan uses and open those every better plan needs; the exact model over the rest.
        Models with budgets, county minimums, cover_all or pulp extensions are solved whole. With a minimum
        spacing (and no other such rule) the model is first solved without it: that plan is the answer when
        it keeps the spacing; else the whole model starts from it repaired, and its bound caps the gap. Among the
        plans covering as much, one keeping the most closable existing sites open, then spending least where
        opening costs differ."""
        check_solver_arguments(time_limit, mip_gap, solver, threads, warm_start)
        t0 = time.perf_counter()
        if self.cover_all:
            result = self._solve_stages(time_limit, mip_gap, solver, threads, warm_start)
        else:
            result = self._solve_spacing_first(time_limit, mip_gap, solver, threads, warm_start)
        return self._without_idle_new_sites(self._keeping_most_then_cheapest(result, time_limit, t0, solver, threads))

    def _solve_stages(self, time_limit: float | None, mip_gap: float, solver: str, threads: int | None,
                      warm_start: bool) -> Result:
        """solve() after the minimum spacing's first step (LocationModel._solve_spacing_first): the stages, or
        the whole model under rules."""
        plain = not (self.rules.limits_plans(self.p) or self.cover_all or getattr(self, "_pulp", None) is not None)
        if not (plain and warm_start) or self._explain_infeasible_rules():
            return super().solve(time_limit, mip_gap, solver, threads, warm_start)
        t0 = time.perf_counter()
        if self.backup_weight == 0:
            keep = self._sites_kept(None, np.flatnonzero(self.unique_weights > 0))
            if self.p <= len(keep) < self.A.shape[1]:
                reduced = self._restricted(keep, self.rules.fixed)
                result = reduced._solve_plain(time_limit, mip_gap, solver, threads, t0)
                result.details["dominated_sites"] = self.A.shape[1] - len(keep) - len(self.rules.forbidden)
                return result
        return self._solve_plain(time_limit, mip_gap, solver, threads, t0)

    def _variant(self, **changes) -> "MCLP":
        """This model with other attributes (p, rules; its matrices shared, nothing solved or built yet)."""
        model = super()._variant(**changes)
        model._start_sites, model._highs_options = None, {}
        return model

    def _solve_plain(self, time_limit: float | None, mip_gap: float, solver: str, threads: int | None,
                     t0: float) -> Result:
        """The stages after the site reduction, within `time_limit` counted from t0 (perf_counter)."""
        start, lower = self._heuristic(share_deadline(time_limit, t0, INTERCHANGE_SHARE))
        if start is None:
            return LocationModel.solve(self, seconds_left(time_limit, t0), mip_gap, solver, threads)
        m = self.A.shape[1]
        incumbent = np.flatnonzero(start[:m] > 0.5)
        integral = bool(np.all(self.unique_weights == np.round(self.unique_weights))) and self.backup_weight == 0
        weights = self.unique_weights * (1.0 + self.backup_weight)  # an upper bound also when backups count
        lam, reserve = None, 0.0
        if self.backup_weight == 0:
            left, lp_started = seconds_left(time_limit, t0), time.perf_counter()
            report_stage("LP bound 线性松弛上界")
            lp = mclp_lp_multipliers(self.unique, weights, self.p, self.rules.fixed, self.rules.forbidden,
                                     self.exactly_p, None if left is None else LP_SHARE * left)
            reserve = MIP_RESERVE * (time.perf_counter() - lp_started)
            if lp is not None:
                lam, y_lp = lp
                swaps_until = share_deadline(time_limit, t0, INTERCHANGE_SHARE)
                incumbent, lower = self._lp_rounding(y_lp, incumbent, lower, swaps_until)
                report_stage("searching near the LP's sites 局部搜索")
                incumbent, lower = self._support_search(y_lp, incumbent, lower, seconds_left(time_limit, t0))
        upper, closed, opened = mclp_lagrangian_reduction(self.unique, weights, self.p, lower, self.rules.fixed,
                                                          self.rules.forbidden, incumbent, integral,
                                                          iterations=2000 if lam is None else 1, lam=lam,
                                                          deadline=share_deadline(time_limit, t0, LP_SHARE))
        keep, built = np.flatnonzero(~closed), time.perf_counter()
        reduced = self._restricted(keep, np.union1d(self.rules.fixed, np.flatnonzero(opened)))
        if lam is None:
            reserve = BUILD_RESERVE * (time.perf_counter() - built)
        probed = np.zeros(2, int)
        within_gap = relative_gap(lower, upper) <= mip_gap  # the bound already proves the plan close enough
        if lam is not None and len(keep) > self.p and not within_gap:
            report_stage(f"probing {len(keep):,} sites 探测网点")
            reduced, keep, probed = self._probed(reduced, keep, incumbent, lower, integral,
                                                 _before(share_deadline(time_limit, t0, PROBING_SHARE), time_limit,
                                                         t0, reserve), threads)
        if within_gap or (time_limit is not None and seconds_left(time_limit, t0) < reserve):
            result = self._incumbent_result(incumbent, lower, upper, integral, mip_gap)  # no MIP needed, or no time
        else:
            reduced._start_sites = np.searchsorted(keep, incumbent)
            reduced._highs_options = FINAL_MIP_OPTIONS
            result = LocationModel.solve(reduced, seconds_left(time_limit, t0), mip_gap, solver, threads)
        result.seconds = time.perf_counter() - t0
        result.heuristic_objective = lower
        result.details.update(sites_after_reduction=len(keep), sites_opened_by_bound=int(opened.sum()),
                              sites_closed_by_probing=int(probed[0]), sites_opened_by_probing=int(probed[1]),
                              lagrangian_bound=upper)
        if result.status != "optimal" and np.isfinite(result.objective):  # stopped at a limit: the best bound known
            result.bound = min(result.bound, upper) if np.isfinite(result.bound) else upper
            result.gap = relative_gap(result.objective, result.bound)
        return result

    def _incumbent_result(self, incumbent: np.ndarray, lower: float, upper: float, integral: bool,
                          mip_gap: float = 0.0) -> Result:
        """The incumbent as the answer, with the Lagrangian bound: optimal when no better plan can exist (or
        none better by more than mip_gap, the bound then kept)."""
        y = np.zeros(self.A.shape[1])
        y[incumbent] = 1.0
        proven = upper < lower + (1.0 if integral else 1e-9 * max(1.0, abs(lower)))
        status = "optimal" if proven or relative_gap(lower, upper) <= mip_gap else "feasible"
        return self._result(RawSolution(status, self._vector(y), lower, lower if proven else upper, 0.0))

    def _probed(self, reduced: "MCLP", keep: np.ndarray, incumbent: np.ndarray, lower: float, integral: bool,
                deadline: float | None, threads: int | None) -> tuple["MCLP", np.ndarray, np.ndarray]:
        """LP probing (netopt.models._mclp_probing) of `reduced`, this model over the sites `keep`: the model
        over the sites still undecided (probing's fixed open), those sites, and how many it closed and opened."""
        closed, opened = mclp_probing(reduced.unique, reduced.unique_weights, self.p, lower, reduced.rules.fixed,
                                      np.searchsorted(keep, incumbent), self.exactly_p, integral, deadline, threads)
        newly_opened = opened.copy()
        newly_opened[reduced.rules.fixed] = False
        if not (closed.any() or newly_opened.any()):
            return reduced, keep, np.zeros(2, int)
        fixed = np.union1d(self.rules.fixed, keep[opened])
        return self._restricted(keep[~closed], fixed), keep[~closed], np.array([closed.sum(), newly_opened.sum()])

    def _restricted(self, keep: np.ndarray, fixed: np.ndarray) -> "MCLP":
        """The same model over the sites `keep` only, with `fixed` (this model's site indices) open for good."""
        return self._columns_of(keep, MCLP(
            self.A[:, keep], self.p, self.weights, SiteRules(len(keep), fixed=np.searchsorted(keep, fixed)),
            self.demand_labels, [self.site_labels[j] for j in keep], self.backup_weight, self.exactly_p,
            merged=self._merged_columns(keep), gradual=None if self.gradual is None else self.gradual.columns(keep)))

    def _lp_rounding(self, y_lp: np.ndarray, incumbent: np.ndarray, lower: float,
                     deadline: float | None) -> tuple[np.ndarray, float]:
        """The p sites the LP opens most (fixed sites first), improved by swaps: on large instances with many
        near-equal plans this starts far closer to the optimum than greedy does (1M x 2,000, p = 50: 1.0 %
        below the LP bound instead of 2.2 %). Returns (sites, covered weight), the incumbent when no better."""
        score = y_lp.copy()
        score[self.rules.forbidden] = -np.inf
        score[self.rules.fixed] = np.inf
        y = np.zeros(self.A.shape[1])
        y[np.argsort(-score, kind="stable")[:self.p]] = 1.0
        y = max_cover_interchange(self.unique, self.unique_weights, y, self.rules, deadline=deadline)
        value = self._value(y)
        return (np.flatnonzero(y > 0.5), value) if value > lower else (incumbent, lower)

    def _support_search(self, y_lp: np.ndarray, incumbent: np.ndarray, lower: float,
                        seconds: float | None) -> tuple[np.ndarray, float]:
        """A better incumbent from the exact model over the sites the LP opens at all (and the incumbent's),
        within SUPPORT_SEARCH_SECONDS (or SUPPORT_SEARCH_SHARE of the time left): the LP's support is small,
        and its optimum is usually close to the whole problem's. Groups of those sites that share no demand
        are solved apart, for a few numbers of sites each around the LP's, and the best split of p among the
        groups is then exact (1M x 2,000, p = 50 within 5 km, 60 s limit: eight groups, a plan 0.18 % better
        than one MIP over them all gave). Returns (sites, covered weight), the incumbent when no better."""
        sites = np.union1d(np.flatnonzero(y_lp > 1e-6), incumbent)
        if len(sites) >= self.A.shape[1] or len(sites) <= self.p:
            return incumbent, lower
        budget = SUPPORT_SEARCH_SECONDS if seconds is None else SUPPORT_SEARCH_SHARE * seconds
        deadline = time.perf_counter() + budget
        groups = sorted(independent_site_groups(self.unique, sites), key=len)
        counts = [self._group_counts(group, y_lp, incumbent, len(groups) == 1) for group in groups]
        solves_left = sum(len(c) for c in counts)
        plans: list[dict[int, np.ndarray | None]] = []
        for group, group_counts in zip(groups, counts):
            plans.append({})
            for t in group_counts:
                plans[-1][t] = self._group_plan(group, t, incumbent, (deadline - time.perf_counter()) / solves_left)
                solves_left -= 1
        values = [{t: self._value(np.isin(np.arange(self.A.shape[1]), plan).astype(float))
                   for t, plan in group_plans.items() if plan is not None} for group_plans in plans]
        split = best_split(values, self.p, self.exactly_p)
        if split is None:
            return incumbent, lower
        chosen = np.sort(np.concatenate([plans[g][t] for g, t in enumerate(split)]).astype(int))
        value = sum(values[g][t] for g, t in enumerate(split))
        return (chosen, value) if value > lower else (incumbent, lower)

    def _group_counts(self, group: np.ndarray, y_lp: np.ndarray, incumbent: np.ndarray, alone: bool) -> list[int]:
        """How many of a group's sites to try: the incumbent's number, the LP's (rounded) and one either side,
        none; only p when the group is alone (or p at most when p need not be reached)."""
        least = int(np.isin(group, self.rules.fixed).sum())
        if alone:
            return [min(self.p, len(group))]
        around = int(round(float(y_lp[group].sum())))
        wanted = {int(np.isin(group, incumbent).sum()), around - 1, around, around + 1, least}
        return sorted(t for t in wanted if least <= t <= min(len(group), self.p))

    def _group_plan(self, group: np.ndarray, t: int, incumbent: np.ndarray, seconds: float) -> np.ndarray | None:
        """The best t sites of a group (its fixed ones included) within `seconds`, warm-started from the
        incumbent's sites there when it has t of them (or just those, when there is no time left); None when
        no plan was found."""
        fixed = np.flatnonzero(np.isin(group, self.rules.fixed))
        inside = np.flatnonzero(np.isin(group, incumbent))
        if t == len(fixed) or (seconds < MIN_GROUP_SECONDS and len(inside) == t):
            return group[fixed] if t == len(fixed) else group[inside]
        if seconds < MIN_GROUP_SECONDS:
            return None
        covers = self.unique[:, group].tocsr()
        rows = np.flatnonzero(np.diff(covers.indptr) > 0)
        if len(rows) == 0:  # sites covering no demand: any t of them, fixed ones first
            return group[np.argsort(~np.isin(group, self.rules.fixed), kind="stable")[:t]]
        sub = MCLP(covers[rows], t, self.unique_weights[rows], SiteRules(len(group), fixed=fixed),
                   None, list(group), exactly_p=self.exactly_p)
        if len(inside) == t:
            sub._start_sites = inside
        found = LocationModel.solve(sub, seconds)
        return np.array(sorted(found.selected), int) if np.isfinite(found.objective) else None

    def _requirement(self) -> str:
        return "covering every demand point" if self.cover_all else ""

    def _explain_infeasible_rules(self) -> str:
        if self.cover_all:
            empty = np.flatnonzero(np.diff(self.A.indptr) == 0)
            if len(empty):
                return f"no candidate site covers demand point(s) {self._named_demand(empty)}"
        return self._rules_reason(self.p, at_most=not self.exactly_p)

    def _explain_infeasible(self) -> str:
        if self.cover_all:
            return f"p={self.p} sites cannot cover every demand point under the site rules (see LSCP for the minimum)"
        return self._rules_reason(self.p, at_most=not self.exactly_p) or self.rules.together(self.p)

    def heuristic(self) -> Result:
        """A good plan fast, without proof, for instances too big for solve(): greedy, then swaps while one
        covers more (the first warm start solve() uses). Status "feasible"; bound NaN."""
        return heuristic_plan(self, "greedy + swaps")

    def _heuristic(self, deadline: float | None = None) -> tuple[np.ndarray | None, float | None]:
        """Greedy, then interchange (both keeping a minimum spacing); None under other rules they do not know."""
        if self.rules.without_spacing().limits_plans(self.p) or self.cover_all:
            return None, None
        if self._start_sites is not None:
            y = np.zeros(self.A.shape[1])
            y[self._start_sites] = 1.0
            return self._vector(y), self._value(y)
        y = greedy_max_cover(self.unique, self.unique_weights, self.p, self.rules)
        if y is None or not self.rules.admits(y):
            return None, None
        if self.backup_weight == 0:
            y = max_cover_interchange(self.unique, self.unique_weights, y, self.rules, deadline=deadline)
        return self._vector(y), self._value(y)

    def _spaced_start(self, relaxed: Result) -> np.ndarray | None:
        """A plan keeping the minimum spacing made from the plan of the model without it: while two open sites
        are too close, the one covering the least weight alone closes (never a fixed one); then greedy
        fill-up and interchange, both keeping the spacing. Its open sites, or None."""
        y = np.zeros(self.A.shape[1])
        y[self._positions_of(relaxed.selected, "solve")] = 1.0
        while len(clash := self.rules.clashing(y)):
            once = self.unique_weights * (np.asarray(self.unique @ y).ravel() == 1)
            y[clash[int(np.argmin(self.unique[:, clash].T @ once))]] = 0.0
        y = greedy_max_cover(self.unique, self.unique_weights, self.p, self.rules, start=y)
        if y is None or not self.rules.admits(y):
            return None
        if self.backup_weight == 0:
            y = max_cover_interchange(self.unique, self.unique_weights, y, self.rules)
        return np.flatnonzero(y > 0.5)

    def _vector(self, y: np.ndarray) -> np.ndarray:
        count = np.asarray(self.unique @ y).ravel()
        z = np.minimum(count, 1.0)
        parts = [y, z] + ([np.clip(count - 1.0, 0.0, 1.0)] if self.backup_weight > 0 else [])
        return np.concatenate(parts)

    def _objective(self, sites: np.ndarray) -> float:
        y = np.zeros(self.A.shape[1])
        y[sites] = 1.0
        return self._value(y)

    def _objectives_without(self, plan: np.ndarray, closing: np.ndarray) -> np.ndarray:
        """Without backup coverage, in one pass: the plan's coverage less what each site alone covers."""
        if self.backup_weight:
            return super()._objectives_without(plan, closing)
        return self._objective(plan) - self._alone(plan)[np.searchsorted(plan, closing)]

    def _objectives_with(self, plan: np.ndarray, opening: np.ndarray) -> np.ndarray:
        """Without backup coverage, in one pass: the plan's coverage and what each site would bring in."""
        if self.backup_weight:
            return super()._objectives_with(plan, opening)
        return self._objective(plan) + self._newly_covered(plan, opening)

    def _value(self, y: np.ndarray) -> float:
        count = np.asarray(self.unique @ y).ravel()
        value = float(self.unique_weights @ np.minimum(count, 1.0))
        return value + self.backup_weight * float(self.unique_weights @ np.clip(count - 1.0, 0.0, 1.0))

    def _result(self, raw: RawSolution) -> Result:
        m = self.A.shape[1]
        open_sites = np.flatnonzero(raw.x[:m] > 0.5)
        if self.gradual is not None:  # per demand point, not per distance level
            assignment = self.gradual.assignment(open_sites, self.site_labels)
            unreached = int((~assignment["covered"]).sum())
            return finish_result(raw, [self.site_labels[j] for j in open_sites], assignment,
                                 **self.gradual.covered(assignment), uncovered_demand=unreached,
                                 unique_demand_rows=self.unique.shape[0])
        assignment = self._assignment(open_sites)
        assignment["weight"] = self.weights
        total = float(self.weights.sum())
        result = finish_result(raw, [self.site_labels[j] for j in open_sites], assignment, **self._covered(assignment),
                               uncovered_demand=int((~assignment["covered"]).sum()),
                               backup_pct=100.0 * float(self.weights[(assignment["covering_sites"] >= 2).to_numpy()].sum())
                               / total if total else np.nan,
                               unique_demand_rows=self.unique.shape[0])
        return result


def greedy_max_cover(A: sp.csr_matrix, weights: np.ndarray, p: int, rules: SiteRules,
                     start: np.ndarray | None = None) -> np.ndarray | None:
    """Greedy maximal covering from the fixed sites (or the 0/1 plan `start`): add the site covering the most
    uncovered weight (none too close to an open one)."""
    m = A.shape[1]
    y = np.zeros(m) if start is None else start.astype(float)
    y[rules.fixed] = 1.0
    if y.sum() > p:
        return None
    conflicts = rules.conflicts()
    allowed = rules.allowed & (conflicts @ y == 0)
    csc = A.tocsc()
    covered = np.asarray(A @ y).ravel() > 0
    while y.sum() < p:
        gain = np.asarray(csc.T @ (weights * ~covered)).ravel()
        gain[~allowed | (y > 0)] = -1.0
        j = int(np.argmax(gain))
        if gain[j] < 0:
            return None
        y[j] = 1.0
        allowed[conflicts[j].indices] = False
        covered |= np.asarray(csc[:, j].todense()).ravel() > 0
    return y


def max_cover_interchange(A: sp.csr_matrix, weights: np.ndarray, y: np.ndarray, rules: SiteRules,
                          max_rounds: int = 500, deadline: float | None = None) -> np.ndarray:
    """Swap an open site for a closed one while the best swap covers more weight (fixed sites stay, no site opens
    too close to another open one); every swap of a round is priced at once (one sparse x dense product);
    stops at `deadline` (perf_counter)."""
    y = y.copy()
    csc = A.tocsc()
    allowed = rules.allowed
    conflicts = rules.conflicts()
    movable = np.ones(A.shape[1], bool)
    movable[rules.fixed] = False
    for _ in range(max_rounds):
        if deadline is not None and time.perf_counter() > deadline:
            return y
        count = np.asarray(A @ y).ravel()
        gain_free = np.asarray(csc.T @ (weights * (count == 0))).ravel()
        once = weights * (count == 1)
        out = np.flatnonzero((y > 0.5) & movable)
        if len(out) == 0:
            return y
        columns = csc[:, out].toarray()
        loss = once @ columns  # weight only site r covers, lost when r closes
        overlap = np.asarray(csc.T @ (once[:, None] * columns))  # of that, what the new site a covers again
        may_open = (allowed & (y == 0))[None, :]
        if conflicts.nnz:  # a site may open in r's place when its only open neighbour, if any, is r
            may_open = may_open & ((conflicts @ y)[None, :] == conflicts[out].toarray())
        delta = np.where(may_open, gain_free[None, :] + overlap.T - loss[:, None], -np.inf)
        r, a = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if not delta[r, a] > 1e-9:
            return y
        y[out[r]], y[a] = 0.0, 1.0
    return y


def independent_site_groups(A: sp.csr_matrix, sites: np.ndarray) -> list[np.ndarray]:
    """`sites` split into groups that cover no demand row in common (connected components of shared rows):
    a plan's coverage is the sum of what it covers in each group."""
    from scipy.sparse.csgraph import connected_components

    covers = A[:, sites].tocsc()
    shared = (covers.T @ covers).tocsr()
    count, label = connected_components(shared, directed=False)
    return [sites[label == g] for g in range(count)]


def best_split(values: list[dict[int, float]], p: int, exactly_p: bool = True) -> list[int] | None:
    """How many sites each group gets: one option per group (number of sites -> value), exactly p sites in all
    (at most p when not exactly_p), the most value in all; None when no choice adds up. Dynamic programme
    over the groups."""
    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    for options in values:
        reached: dict[int, tuple[float, list[int]]] = {}
        for used, (value, picks) in best.items():
            for t, gain in options.items():
                if used + t <= p and (used + t not in reached or value + gain > reached[used + t][0]):
                    reached[used + t] = (value + gain, picks + [t])
        best = reached
    ends = [best[p]] if p in best else []
    if not exactly_p:
        ends = list(best.values())
    return max(ends, key=lambda end: end[0])[1] if ends else None


def mclp_lagrangian_reduction(A: sp.csr_matrix, weights: np.ndarray, p: int, lower: float, fixed: np.ndarray,
                              forbidden: np.ndarray, protect: np.ndarray, integral: bool, iterations: int = 2000,
                              lam: np.ndarray | None = None,
                              deadline: float | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Lagrangian upper bound of MCLP (coverage links relaxed) and the sites it fixes, by subgradient from `lam`
    (or from w/2); with LP-optimal multipliers one iteration gives the LP bound.

    A site is closed when even the best plan that opens it covers no more than `lower` (+1 − ε with integral
    weights): no better plan uses it; a site of `protect` (the incumbent's) is opened for good when every plan
    without it is no better. Sites in `protect` are never closed. Returns (best bound, closed, opened).
    """
    m = A.shape[1]
    csc = A.tocsc()
    slack = (1.0 - 1e-9) if integral else 1e-9 * max(1.0, abs(lower))
    lam = 0.5 * weights if lam is None else lam.copy()
    closed, must, opened = np.zeros(m, bool), np.zeros(m, bool), np.zeros(m, bool)
    closed[forbidden] = True
    must[fixed] = True
    incumbent = np.zeros(m, bool)
    incumbent[protect] = True
    best, step, stall = np.inf, 1.0, 0
    for _ in range(iterations):
        bound, chosen, with_site, without_site = lagrangian_site_tests(csc, weights, lam, p, closed, must)
        if not np.isfinite(bound):
            return -np.inf, closed, opened  # fewer than p sites left: nothing beats the incumbent
        if bound < best - 1e-9:
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= 30:
                step, stall = step / 2.0, 0
        newly = ~closed & ~must & ~incumbent & (with_site < lower + slack)
        newly[chosen] = False
        closed |= newly
        opened |= incumbent & ~must & (without_site < lower + slack)
        if step < 1e-4 or best < lower + slack or (deadline is not None and time.perf_counter() > deadline):
            break
        covered = np.asarray(A[:, chosen].sum(axis=1)).ravel()
        grad = covered - (weights > lam)
        norm = float(grad @ grad)
        if norm == 0:
            break
        lam = np.maximum(0.0, lam - step * (bound - lower) / norm * grad)
    return min(best, float(weights.sum())), closed, opened  # a few steps may bound above all the demand
