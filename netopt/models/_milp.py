"""One matrix form for every model: built with numpy/scipy, solved by HiGHS directly or through pulp."""
from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, SolverError, check_count, is_number

INF = float("inf")
_STAGE_LISTENERS: list[Callable[[str], None]] = []


@contextmanager
def watching_stages(listener: Callable[[str], None]) -> Iterator[None]:
    """Within the block, listener(stage) hears each stage the solves reach (a bound, a search, the exact
    model…), e.g. to show it beside a progress spinner."""
    _STAGE_LISTENERS.append(listener)
    try:
        yield
    finally:
        _STAGE_LISTENERS.remove(listener)


def report_stage(stage: str) -> None:
    """Tells the listeners of watching_stages which stage a solve has reached."""
    for listener in list(_STAGE_LISTENERS):
        listener(stage)


@dataclass
class MatrixMILP:
    """min/max c·x + offset  s.t.  row_lo <= A x <= row_hi,  col_lo <= x <= col_hi,  x_j integer where flagged."""

    c: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    sense: str = "min"
    offset: float = 0.0
    col_names: list[str] | None = None
    row_names: list[str] | None = None
    highs_options: dict = field(default_factory=dict)  # options that suit this formulation


@dataclass
class RawSolution:
    """What a solver returned, in solver-neutral terms."""

    status: str  # optimal | feasible | infeasible | error
    x: np.ndarray | None
    objective: float
    bound: float
    seconds: float
    message: str = ""


@dataclass
class Result:
    """The shared result of every model: status, objective, bound and gap, the chosen sites and assignments."""

    status: str
    objective: float
    bound: float
    gap: float
    seconds: float
    selected: list = field(default_factory=list)
    assignment: pd.DataFrame = field(default_factory=pd.DataFrame)
    reason: str = ""
    heuristic_objective: float | None = None
    details: dict = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        """A plan was found: proven optimal, or sites chosen before the solve stopped (not infeasible, not a time
        limit that ended the search before any plan)."""
        return self.status == "optimal" or bool(self.selected)

    def _repr_html_(self) -> str:
        """The result as a notebook shows it: status, value, bound, gap, time, the sites chosen (the first 10),
        the model's figures in `details`, and why, when there is no plan."""
        from html import escape

        shown = ", ".join(map(str, self.selected[:10])) + (" …" if len(self.selected) > 10 else "")
        rows = [("status", self.status), ("objective", f"{self.objective:,.6g}"), ("bound", f"{self.bound:,.6g}"),
                ("gap", f"{self.gap:.3%}"), ("seconds", f"{self.seconds:,.2f}"),
                ("selected", f"{len(self.selected):,} site{'' if len(self.selected) == 1 else 's'}"
                 + (f": {shown}" if shown else ""))]
        if self.heuristic_objective is not None:
            rows.append(("heuristic objective", f"{self.heuristic_objective:,.6g}"))
        rows += [(name, f"{value:,.6g}" if is_number(value) else value) for name, value in self.details.items()
                 if is_number(value) or isinstance(value, (bool, str))]
        rows += [("reason", self.reason)] if self.reason else []
        cells = "".join(f"<tr><th style=\"text-align:left\">{escape(name)}</th><td>{escape(str(value))}</td></tr>"
                        for name, value in rows)
        return f"<table><caption>Result 求解结果</caption>{cells}</table>"

    def __repr__(self) -> str:
        text = (f"Result(status={self.status!r}, objective={self.objective:.6g}, bound={self.bound:.6g}, "
                f"gap={self.gap:.3%}, {len(self.selected)} selected, {self.seconds:.2f} s")
        return text + (f", reason={self.reason!r})" if self.reason else ")")


def stopped_without_plan(raw: RawSolution) -> Result:
    """The Result of a solve its limit ended before any feasible solution: status "feasible", no plan, and why."""
    return Result("feasible", np.nan, np.nan, np.inf, raw.seconds,
                  reason=f"the solver stopped without a feasible solution ({raw.message})")


def tie_broken(first: np.ndarray, then: np.ndarray) -> np.ndarray:
    """An objective ranking plans by `first`, then by `then` scaled to weigh less than 1 in all: `then` decides
    only between plans `first` puts less than 1 apart (sites kept, 万元 spent)."""
    return first + then / (np.abs(then).sum() + 1.0)


def relative_gap(objective: float, bound: float) -> float:
    if not np.isfinite(objective) or not np.isfinite(bound):
        return INF
    return abs(objective - bound) / max(abs(objective), 1e-9)


def solve_highs(model: MatrixMILP, time_limit: float | None = None, mip_gap: float = 0.0,
                threads: int | None = None, warm_start: np.ndarray | None = None) -> RawSolution:
    """Solve with HiGHS through highspy, passing the column-wise matrix straight in; where HiGHS fails (an error
    status, or no working highspy), with CBC through pulp in the time left, the stage and message saying so."""
    start = time.perf_counter()
    try:
        return _solve_with_highs(model, time_limit, mip_gap, threads, warm_start)
    except (SolverError, ImportError) as failed:
        report_stage(f"{failed}: solving with CBC 改用CBC求解")
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - start), 1.0)
        problem, variables = to_pulp(model)
        raw = solve_pulp(problem, variables, "cbc", left, mip_gap, threads, warm_start)
        raw.seconds = time.perf_counter() - start
        raw.message = f"{failed}; solved with CBC instead" + (f" ({raw.message})" if raw.message else "")
        return raw


def _solve_with_highs(model: MatrixMILP, time_limit: float | None, mip_gap: float, threads: int | None,
                      warm_start: np.ndarray | None) -> RawSolution:
    import highspy

    start = time.perf_counter()
    highs = loaded_highs(model)
    for key, value in model.highs_options.items():
        highs.setOptionValue(key, value)
    highs.setOptionValue("mip_rel_gap", float(mip_gap))
    highs.setOptionValue("mip_abs_gap", 1e-9 if mip_gap == 0 else 1e-6)
    if time_limit is not None:
        highs.setOptionValue("time_limit", float(time_limit))
    if threads is not None:
        highs.setOptionValue("threads", int(threads))
    if warm_start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(map(float, warm_start))
        solution.value_valid = True
        highs.setSolution(solution)
    run_highs_checked(highs, highspy, threads, model.c, model.offset)
    raw = _read_highs(highs, highspy, model, time.perf_counter() - start)
    if raw.status == "infeasible" and model.highs_options.get("presolve") != "off":
        # seen with HiGHS 1.16: presolve can call a feasible model infeasible (a coefficient near 3e-6 in a
        # market-share program). Confirm without presolve, in the time left, before saying so.
        left = None if time_limit is None else max(time_limit - raw.seconds, 1e-3)
        again = _solve_with_highs(replace(model, highs_options={**model.highs_options, "presolve": "off"}), left,
                                  mip_gap, threads, warm_start)
        again.seconds += raw.seconds
        return again
    if raw.status == "optimal" and mip_gap == 0:
        raw.bound = raw.objective  # proven within HiGHS's tolerances: its dual bound may sit a hair away
    return raw


def allow_seconds(highs, seconds: float, mip: bool = False) -> None:
    """Let the next run of a reused `highs` take `seconds` more. HiGHS 1.16 measures an LP's time_limit on the
    object's run time over all its runs (getRunTime), a MIP's from the run's start: a limit set to the seconds
    left stopped a reused LP early (p-median's Benders master LP on the 0.25 km grid: at 71 s of 120)."""
    highs.setOptionValue("time_limit", max(float(seconds), 1e-3) + (0.0 if mip else float(highs.getRunTime())))


def run_highs(highs, highspy, threads: int | None) -> None:
    """highs.run(). HiGHS keeps one thread pool per process: once started, a run asking for another thread
    count fails without running (status not set); it is then run with the pool there is."""
    highs.run()
    if threads is not None and highs.getModelStatus() == highspy.HighsModelStatus.kNotset:
        highs.setOptionValue("threads", 0)
        highs.run()


def run_highs_checked(highs, highspy, threads: int | None, cost: np.ndarray, offset: float = 0.0) -> None:
    """run_highs, then once more from scratch (clearSolver drops the MIP start) where HiGHS 1.16 calls a solution
    optimal that is not: after a MIP start it can hand back the start's values beside a better optimum's objective
    (seen in the market-share master: objective 3.762, the solution's own value 3.743), or the start although its
    own dual bound is lower. The second run has the time the first left."""
    started = time.perf_counter()
    run_highs(highs, highspy, threads)
    if not _doubtful_optimum(highs, highspy, cost, offset):
        return
    limit = highs.getOptionValue("time_limit")[1]
    if np.isfinite(limit):
        highs.setOptionValue("time_limit", max(limit - (time.perf_counter() - started), 1e-3))
    highs.clearSolver()
    run_highs(highs, highspy, threads)
    highs.setOptionValue("time_limit", limit)


def _doubtful_optimum(highs, highspy, cost: np.ndarray, offset: float) -> bool:
    """Whether HiGHS reports an optimum whose solution's own value is not its reported objective, or (a MIP) is
    further from its dual bound than the gaps asked for."""
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False
    info = highs.getInfo()
    value = float(np.asarray(cost, float) @ np.asarray(highs.getSolution().col_value, float) + offset)
    reported = float(info.objective_function_value)
    if abs(value - reported) > 1e-6 * max(1.0, abs(reported)):
        return True
    if info.mip_node_count < 0:  # an LP: no dual bound of branch and bound
        return False
    allowed = (highs.getOptionValue("mip_rel_gap")[1] + 1e-6) * abs(value) + highs.getOptionValue("mip_abs_gap")[1]
    return abs(value - float(info.mip_dual_bound)) > allowed


def add_highs_rows(highs, highspy, rule_rows: tuple) -> None:
    """Adds rows (sparse coefficients: rows x columns from the first, lower bounds, upper bounds; ±inf for none,
    e.g. SiteRules.row_matrix()) to a Highs model."""
    matrix, lo, hi = rule_rows
    matrix = sp.csr_matrix(matrix)
    if not matrix.shape[0]:
        return
    highs.addRows(matrix.shape[0], np.where(np.isfinite(lo), lo, -highspy.kHighsInf).astype(float),
                  np.where(np.isfinite(hi), hi, highspy.kHighsInf).astype(float), matrix.nnz,
                  matrix.indptr[:-1].astype(np.int32), matrix.indices.astype(np.int32), matrix.data.astype(float))


@contextmanager
def _no_banner():
    """The process's standard output sent nowhere for a while: HiGHS prints its banner there when created (also
    when pulp creates it), whatever its output options say."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _quiet_highs(highspy):
    """A Highs instance without the banner it prints to the terminal when created."""
    with _no_banner():
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


def loaded_highs(model: MatrixMILP):
    """A quiet HiGHS instance holding the model, ready to run (options may still be set)."""
    import highspy

    highs = _quiet_highs(highspy)
    highs.passModel(_highs_lp(model, highspy))
    return highs


def _highs_lp(model: MatrixMILP, highspy):
    csc = model.A.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
    lp.col_cost_ = np.asarray(model.c, float)
    lp.col_lower_, lp.col_upper_ = np.asarray(model.col_lo, float), np.asarray(model.col_hi, float)
    lp.row_lower_, lp.row_upper_ = np.asarray(model.row_lo, float), np.asarray(model.row_hi, float)
    lp.offset_ = float(model.offset)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
                       for flag in model.integer]
    if model.sense == "max":
        lp.sense_ = highspy.ObjSense.kMaximize
    return lp


def _read_highs(highs, highspy, model: MatrixMILP, seconds: float) -> RawSolution:
    status = highs.getModelStatus()
    info = highs.getInfo()
    codes = highspy.HighsModelStatus
    if status in (codes.kInfeasible, codes.kUnboundedOrInfeasible):
        return RawSolution("infeasible", None, np.nan, np.nan, seconds, "the model has no feasible solution")
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    x = np.asarray(highs.getSolution().col_value, float) if has_solution else None
    if x is not None:  # integer columns within HiGHS's tolerance of a whole number: that number (4, not 3.99999)
        x[model.integer] = np.round(x[model.integer])
    # recomputed from x: HiGHS can report the objective of its presolved model after a MIP start
    objective = float(np.asarray(model.c) @ x + model.offset) if has_solution else np.nan
    bound = float(info.mip_dual_bound) if model.integer.any() else objective
    if status == codes.kOptimal:
        return RawSolution("optimal", x, objective, bound if np.isfinite(bound) else objective, seconds)
    if status in (codes.kTimeLimit, codes.kIterationLimit, codes.kSolutionLimit, codes.kInterrupt,
                  codes.kObjectiveBound, codes.kObjectiveTarget, codes.kMemoryLimit):
        return RawSolution("feasible" if has_solution else "error", x, objective, bound, seconds,
                           f"stopped at a limit ({highs.modelStatusToString(status)})")
    raise SolverError(f"HiGHS failed: {highs.modelStatusToString(status)}")


def to_pulp(model: MatrixMILP, name: str = "netopt"):
    """The model as a pulp.LpProblem (variables in column order), for custom constraints and other solvers."""
    import pulp

    problem = pulp.LpProblem(name, pulp.LpMaximize if model.sense == "max" else pulp.LpMinimize)
    names = model.col_names or [f"x{j}" for j in range(len(model.c))]
    make = getattr(problem, "add_variable", None) or pulp.LpVariable  # pulp >= 3.3 attaches variables to models
    variables = [
        make(nm, lowBound=None if lo == -INF else lo, upBound=None if hi == INF else hi,
             cat=pulp.LpInteger if flag else pulp.LpContinuous)
        for nm, lo, hi, flag in zip(names, model.col_lo, model.col_hi, model.integer)
    ]
    problem += pulp.LpAffineExpression(
        [(variables[j], float(v)) for j, v in enumerate(model.c) if v != 0], constant=float(model.offset))
    csr = model.A.tocsr()
    row_names = model.row_names or [f"r{i}" for i in range(csr.shape[0])]
    for i in range(csr.shape[0]):
        lo, hi = model.row_lo[i], model.row_hi[i]
        cols, vals = csr.indices[csr.indptr[i]:csr.indptr[i + 1]], csr.data[csr.indptr[i]:csr.indptr[i + 1]]
        expr = pulp.LpAffineExpression([(variables[j], float(v)) for j, v in zip(cols, vals)])
        if lo == hi:
            problem += (expr == float(lo), row_names[i])
        else:
            if lo > -INF:
                problem += (expr >= float(lo), f"{row_names[i]}_lo")
            if hi < INF:
                problem += (expr <= float(hi), f"{row_names[i]}_hi")
    return problem, variables


def solve_pulp(problem, variables: list, solver: str, time_limit: float | None, mip_gap: float,
               threads: int | None = None, warm_start: np.ndarray | None = None) -> RawSolution:
    """Solve a pulp problem with a named solver ("cbc", "highs" or any pulp solver name)."""
    import pulp

    start = time.perf_counter()
    options = {"msg": False, "timeLimit": time_limit, "gapRel": mip_gap}
    if threads is not None:
        options["threads"] = threads
    if warm_start is not None and not _cbc_maximising(pulp, problem, solver):
        for var, value in zip(variables, warm_start):
            var.setInitialValue(float(value))
        options["warmStart"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PULP_CBC_CMD, where COIN_CMD is missing
        engine = pulp.getSolver(pulp_solver_name(solver), **{k: v for k, v in options.items() if v is not None})
    with _no_banner():
        problem.solve(engine)
    seconds = time.perf_counter() - start
    status = pulp.LpStatus[problem.status]
    if status == "Infeasible":
        return RawSolution("infeasible", None, np.nan, np.nan, seconds, "the model has no feasible solution")
    x = np.array([v.varValue if v.varValue is not None else np.nan for v in variables], float)
    if np.isnan(x).all():
        raise SolverError(f"solver '{solver}' returned no solution (status {status})")
    objective = _objective_value(pulp, problem)
    optimal = status == "Optimal" and problem.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible) \
        and problem.sol_status == pulp.LpSolutionOptimal
    # pulp reports no bound: an optimal solve within gapRel = mip_gap guarantees the bound that far away
    margin = mip_gap * abs(objective) * (1 if problem.sense == pulp.LpMaximize else -1)
    bound = objective + margin if optimal else np.nan
    return RawSolution("optimal" if optimal else "feasible", x, objective, bound, seconds)


def _cbc_maximising(pulp, problem, solver: str) -> bool:
    """Whether CBC is to maximise: CBC 2.10 takes a MIP start of a maximisation with its cost's sign turned and may
    stop at a worse plan it calls optimal (a market-share case: 13.14 for the 26.79 it was started from), so it is
    given none."""
    return problem.sense == pulp.LpMaximize and pulp_solver_name(solver) in ("COIN_CMD", "PULP_CBC_CMD")


def _objective_value(pulp, problem) -> float:
    """The solved objective; pulp gives None for an objective without variables (e.g. a market-share model whose
    sites reach no town): then its constant."""
    value = pulp.value(problem.objective) if problem.objective is not None else None
    if value is None:
        return float(getattr(problem.objective, "constant", 0.0) or 0.0)
    return float(value)


def _cbc_name(pulp) -> str:
    """COIN_CMD where a CBC binary is installed (pulp[cbc]), else the CBC bundled with older pulp."""
    available = pulp.listSolvers(onlyAvailable=True)
    return "COIN_CMD" if "COIN_CMD" in available else "PULP_CBC_CMD"


def pulp_solver_name(solver: str) -> str:
    """pulp's name for a solver: 'cbc', 'highs' and 'glpk' as short names, any other pulp name as it is."""
    import pulp

    return {"cbc": _cbc_name(pulp), "highs": "HiGHS", "glpk": "GLPK_CMD"}.get(solver.lower(), solver)


def check_solver_arguments(time_limit: float | None, mip_gap: float, solver: str = "highs",
                           threads: int | None = None, warm_start: bool = True) -> None:
    """An InputError for a bad time limit, gap, thread count or warm_start, a SolverError for a solver pulp does
    not have here."""
    if not isinstance(solver, str):
        raise InputError(f"solver must be a name such as 'highs' or 'cbc', got {solver!r}", file="solve")
    if solver.lower() != "highs":
        import pulp

        available = pulp.listSolvers(onlyAvailable=True)
        if pulp_solver_name(solver) not in available:
            short = {"HiGHS": "highs", "COIN_CMD": "cbc", "PULP_CBC_CMD": "cbc", "GLPK_CMD": "glpk"}
            names = sorted({"highs"} | {short.get(name, name) for name in available})
            raise SolverError(f"solver '{solver}' is not available on this machine; available: {', '.join(names)}")
    if time_limit is not None and not (is_number(time_limit) and np.isfinite(time_limit) and time_limit > 0):
        raise InputError(f"time_limit must be a positive number of seconds, got {time_limit!r}", file="solve")
    if not (is_number(mip_gap) and 0 <= mip_gap < 1):
        raise InputError(f"mip_gap must be between 0 and 1 (e.g. 0.01 for 1%), got {mip_gap!r}", file="solve")
    if threads is not None:
        check_count(threads, "threads", "solve")
    if not isinstance(warm_start, (bool, np.bool_)):
        raise InputError(f"warm_start must be True or False, got {warm_start!r:.60}", file="solve")


def share_deadline(time_limit: float | None, t0: float, share: float) -> float | None:
    """The perf_counter time at which a stage may use no more of the time left."""
    left = seconds_left(time_limit, t0)
    return None if left is None else time.perf_counter() + share * left


def seconds_left(time_limit: float | None, t0: float) -> float | None:
    """Seconds of `time_limit` left since t0 (perf_counter), at least 1 ms; None without a limit."""
    return None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1e-3)
