"""MCLP site probing: the sites the LP bound proves no better plan opens (or every better plan opens)."""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from netopt.models._covering_lp import lagrangian_site_tests, mclp_dual_highs, mclp_dual_values
from netopt.models._milp import INF, MatrixMILP, allow_seconds, loaded_highs

ROUND_SHARE = 0.1  # a round of probes ends once this share of its undecided sites is decided; the LP is rebuilt
MIN_ROUND_FIXES = 10
FAILED_IN_A_ROW = 10  # a thread ends its round after this many probes in a row decide nothing (likeliest first)


@dataclass
class _RoundLP:
    """MCLP's LP over the sites still undecided: rows covered by no opened site, merged; `constant` is the weight
    the opened sites cover, `left` the number of sites still to open."""
    sites: np.ndarray
    unique: sp.csr_matrix
    weights: np.ndarray
    left: int
    constant: float
    exactly_p: bool


def mclp_probing(A: sp.csr_matrix, weights: np.ndarray, p: int, lower: float, fixed: np.ndarray,
                 incumbent: np.ndarray, exactly_p: bool, integral: bool, deadline: float | None,
                 workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Sites closed (no plan covering more than `lower` opens them) and opened (every such plan opens them).

    Rounds: the LP over the undecided sites is solved through its dual; sites its multipliers already decide
    are fixed (a new LP then gives new multipliers); otherwise each site is probed: the LP is re-solved by dual
    simplex with the site forced open (a site outside the incumbent) or shut (an incumbent's site), stopping as
    soon as its bound falls below `lower` (+1 − ε with integral weights), which decides the site. The incumbent
    stays feasible. A round ends after ROUND_SHARE of its sites are decided: the next LP, over fewer sites and
    rows, is faster. Probes run on `workers` threads (HiGHS releases the GIL). Until `deadline` (perf_counter),
    or until a round decides nothing. Returns boolean masks (closed, opened) over A's sites; `fixed` are opened.
    """
    m = A.shape[1]
    closed, opened = np.zeros(m, bool), np.zeros(m, bool)
    opened[fixed] = True
    protect = np.zeros(m, bool)
    protect[incumbent] = True
    slack = (1.0 - 1e-9) if integral else 1e-9 * max(1.0, abs(lower))
    csc = A.tocsc().astype(float)
    workers = workers or min(2, os.cpu_count() or 1)
    while not _past(deadline):
        lp = _round_lp(csc, weights, p, closed, opened, exactly_p)
        dual = None if lp is None else _solved_dual(lp, deadline)
        if dual is None:
            break
        threshold = lower + slack - lp.constant
        lam, x = mclp_dual_values(dual, lp.weights)
        score = _lagrangian_scores(lp, lam, protect[lp.sites])
        decided = score < threshold
        if not decided.any():
            decided = _probe_round(lp, _primal_basis(lp, dual), x, score, protect[lp.sites], threshold, deadline,
                                   workers)
            if not decided.any():
                break
        closed[lp.sites[decided & ~protect[lp.sites]]] = True
        opened[lp.sites[decided & protect[lp.sites]]] = True
    return closed, opened


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() > deadline


def _round_lp(csc: sp.csc_matrix, weights: np.ndarray, p: int, closed: np.ndarray, opened: np.ndarray,
              exactly_p: bool) -> _RoundLP | None:
    """The LP over the undecided sites; None when nothing is left to decide."""
    from netopt.models.covering import merge_identical_rows

    sites = np.flatnonzero(~closed & ~opened)
    left = p - int(opened.sum())
    covered = np.asarray(csc[:, np.flatnonzero(opened)].sum(axis=1)).ravel() > 0
    rows = csc[:, sites].tocsr()[~covered]
    alive = np.diff(rows.indptr) > 0
    if left <= 0 or len(sites) <= left or not alive.any():
        return None
    unique, row_of = merge_identical_rows(rows[alive])
    merged_weights = np.bincount(row_of, weights=weights[~covered][alive], minlength=unique.shape[0])
    return _RoundLP(sites, unique, merged_weights, left, float(weights[covered].sum()), exactly_p)


def _solved_dual(lp: _RoundLP, deadline: float | None):
    """The round's LP dual, solved; None when not solved by the deadline."""
    import highspy

    highs = mclp_dual_highs(lp.unique, lp.weights, lp.left, lp.exactly_p)
    if deadline is not None:
        highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1e-3))
    highs.run()
    return highs if highs.getModelStatus() == highspy.HighsModelStatus.kOptimal else None


def _lagrangian_scores(lp: _RoundLP, lam: np.ndarray, incumbent: np.ndarray) -> np.ndarray:
    """Per site, the Lagrangian bound at the LP's multipliers `lam` of the plans deciding it the other way: with
    the site open for a site outside the incumbent, without it for an incumbent's site."""
    none = np.zeros(lp.unique.shape[1], bool)
    _, _, with_site, without_site = lagrangian_site_tests(lp.unique.tocsc(), lp.weights, lam, lp.left, none, none)
    return np.where(incumbent, without_site, with_site)


def _probe_round(lp: _RoundLP, basis, x: np.ndarray, score: np.ndarray, incumbent: np.ndarray, threshold: float,
                 deadline: float | None, workers: int) -> np.ndarray:
    """Probes the round's sites (LP values x, optimal primal basis `basis`), likeliest first (lowest score), on
    `workers` threads, each with its own LP copy; stops after ROUND_SHARE of the sites are decided. Returns a
    mask of the decided sites."""
    useful = np.where(incumbent, x > 1e-6, x < 1.0 - 1e-6)  # forcing a site to the LP's own value proves nothing
    order = [a for a in np.argsort(score, kind="stable") if useful[a]]
    target = max(MIN_ROUND_FIXES, int(ROUND_SHARE * len(lp.sites)))
    decided = np.zeros(len(lp.sites), bool)
    copies = [_primal_highs(lp) for _ in range(workers)]  # built here: creating one silences stdout for a moment
    with ThreadPoolExecutor(workers) as pool:
        jobs = [pool.submit(_probe_sites, highs, basis, order[w::workers], incumbent, threshold, deadline,
                            decided, (target + workers - 1) // workers) for w, highs in enumerate(copies)]
        for job in jobs:
            job.result()
    return decided


def _probe_sites(highs, basis, sites: list[int], incumbent: np.ndarray, threshold: float,
                 deadline: float | None, decided: np.ndarray, target: int) -> None:
    """One thread's probes on its own copy of the round's LP (marks `decided`, its own entries only): dual
    simplex from the LP's optimal basis, with the objective bound set so that a probe stops once it decides
    the site."""
    import highspy

    highs.setBasis(basis)
    highs.setOptionValue("objective_bound", -threshold)
    stop = (highspy.HighsModelStatus.kObjectiveBound, highspy.HighsModelStatus.kInfeasible)
    found = failed = 0
    for a in sites:
        if _past(deadline) or found >= target or failed >= FAILED_IN_A_ROW:
            return
        if deadline is not None:
            allow_seconds(highs, deadline - time.perf_counter())
        probe = 0.0 if incumbent[a] else 1.0
        highs.changeColBounds(int(a), probe, probe)
        highs.run()
        status = highs.getModelStatus()
        optimal = status == highspy.HighsModelStatus.kOptimal
        if status in stop or (optimal and -highs.getInfo().objective_function_value < threshold):
            decided[a] = True
            found, failed = found + 1, 0
            keep = 1.0 - probe
            highs.changeColBounds(int(a), keep, keep)
        else:
            failed += 1
            highs.changeColBounds(int(a), 0.0, 1.0)


def _primal_highs(lp: _RoundLP):
    """The round's LP in primal form: min −Σ w_i z_i, z_i ≤ Σ_j a_ij y_j, Σ y = left (≤ with exactly_p off);
    columns y (sites) then z (rows), rows one per demand row then the count."""
    k, m = lp.unique.shape
    links = sp.hstack([-lp.unique, sp.identity(k, format="csr")])
    count = sp.hstack([sp.csr_matrix(np.ones((1, m))), sp.csr_matrix((1, k))])
    highs = loaded_highs(MatrixMILP(
        c=np.concatenate([np.zeros(m), -lp.weights]), A=sp.vstack([links, count]).tocsr(),
        row_lo=np.concatenate([np.full(k, -INF), [float(lp.left) if lp.exactly_p else -INF]]),
        row_hi=np.concatenate([np.zeros(k), [float(lp.left)]]),
        col_lo=np.zeros(m + k), col_hi=np.ones(m + k), integer=np.zeros(m + k, bool)))
    highs.setOptionValue("solver", "simplex")
    return highs


def _primal_basis(lp: _RoundLP, dual):
    """The primal form's optimal basis, read off the dual form's: a site is basic unless its dual row is slack
    (then at 0) or its π is basic (then at 1); a demand row whose λ is at 0 is slack with z at 1, at w_i tight
    with z basic, in between tight with z at 1; the count row is tight when η is basic."""
    import highspy

    status = highspy.HighsBasisStatus
    k, m = lp.unique.shape
    solved = dual.getBasis()
    lam = np.array([int(s) for s in solved.col_status[:k]])
    eta_basic = solved.col_status[k] == status.kBasic
    pi = np.array([int(s) for s in solved.col_status[k + 1:]])
    site_rows = np.array([int(s) for s in solved.row_status])
    basic, lower, upper = int(status.kBasic), int(status.kLower), int(status.kUpper)
    sites = np.where(site_rows == basic, lower, np.where(pi == basic, upper, basic))
    z = np.where(lam == upper, basic, upper)
    link_rows = np.where(lam == lower, basic, upper)
    basis = highspy.HighsBasis()
    basis.col_status = [status(int(s)) for s in np.concatenate([sites, z])]
    basis.row_status = [status(int(s)) for s in np.concatenate([link_rows, [upper if eta_basic else basic]])]
    basis.valid = True
    return basis
