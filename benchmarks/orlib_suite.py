"""Every OR-Library p-median (also as p-center), capacitated/uncapacitated location and set-covering instance in
a folder, solved by netopt and checked against its published optimum (benchmarks/orlib_optima.csv), each in its
own process.
Rows of instances not rerun are kept from the last results table.

The instances are not bundled (OR-Library: http://people.brunel.ac.uk/~mastjjb/jeb/info.html). Put the files
(pmed1.txt ... pmed40.txt, cap41.txt ... cap134.txt, capa.txt, capb.txt, capc.txt, scp41.txt ... scpnrh5.txt)
in one folder, any layout below it, and run

    python benchmarks/orlib_suite.py FOLDER [--only PATTERN ...] [--time-limit SECONDS]

Instances whose file is absent are left out. Writes benchmarks/results/orlib_suite.md and .csv.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
OPTIMA = HERE / "orlib_optima.csv"
RELATIVE_TOLERANCE = 1e-7  # published values are rounded to 3 decimals

from benchmarks._isolated import earlier_rows, machine, run_isolated, solve_netopt  # noqa: E402
from benchmarks.orlib import read_cap, read_pmed, read_scp  # noqa: E402


def solve_instance(path: Path, model: str, capacity: float | None, time_limit: float | None) -> dict:
    """Read one file and solve it with netopt; the fields of one results row."""
    import netopt.models  # noqa: F401  (loaded before the clock starts, as spopt is)

    start = time.perf_counter()
    if model in ("pmedian", "pcenter"):
        cost, p = read_pmed(path)
        result = solve_netopt(model, time_limit, cost=cost, p=p)
    elif model in ("cflp", "uflp"):
        data = read_cap(path, capacity=capacity if model == "cflp" else 0.0)  # uflp: capacities unused
        result = solve_netopt("cflp", time_limit, alloc=data["allocation_cost"], demand=data["demand"],
                              capacity=data["capacity"] if model == "cflp" else None, fixed=data["fixed_cost"])
    elif model == "lscp":
        A, cost = read_scp(path)
        result = solve_netopt("lscp", time_limit, A=A, cost=cost)
    else:
        raise ValueError(f"unknown model {model!r}")
    return {"status": result.status, "objective": float(result.objective), "bound": float(result.bound),
            "gap": float(result.gap), "seconds": time.perf_counter() - start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def instances(folder: Path, patterns: list[str]) -> list[dict]:
    """The rows of orlib_optima.csv whose file is in `folder` and whose name matches one of `patterns`."""
    import pandas as pd

    table = pd.read_csv(OPTIMA, dtype={"capacity": "Float64"})
    files = {p.name: p for p in sorted(folder.rglob("*.txt"))}
    chosen = []
    for row in table.to_dict("records"):
        if row["file"] in files and any(fnmatch.fnmatch(row["instance"], pat) for pat in patterns):
            row["path"] = str(files[row["file"]])
            row["capacity"] = None if pd.isna(row["capacity"]) else float(row["capacity"])
            chosen.append(row)
    return chosen


def verdict(row: dict) -> str:
    """'ok' when netopt proved the published optimum (or matched a best-known value); else what went wrong."""
    if row.get("status") not in ("optimal", "feasible"):
        return "failed"
    close = abs(row["objective"] - row["known_value"]) <= RELATIVE_TOLERANCE * max(1.0, abs(row["known_value"]))
    if close:
        return "ok" if row["status"] == "optimal" or row["known_status"] == "best known" else "value ok, not proved"
    if row["objective"] < row["known_value"] and row["known_status"] == "best known":
        return "better than best known"
    return "WRONG" if row["status"] == "optimal" else "not reached"


def write_table(rows: list[dict]) -> None:
    """The results so far, with the earlier rows of instances not rerun this time (ordered as orlib_optima.csv)."""
    import pandas as pd

    rerun = {row["instance"] for row in rows}
    table = pd.DataFrame(earlier_rows(RESULTS / "orlib_suite.csv", lambda old: old["instance"].isin(rerun)) + rows)
    order = {name: i for i, name in enumerate(pd.read_csv(OPTIMA)["instance"])}
    table = table.sort_values("instance", key=lambda names: names.map(order), kind="stable")
    columns = ["instance", "model", "capacity", "known_value", "known_status", "status", "objective", "bound", "gap",
               "seconds", "peak_rss_mb", "verdict", "run_date", "time_limit_s", "error", "source"]
    table = table.reindex(columns=columns)
    for column in ("error", "capacity", "time_limit_s"):
        table[column] = table[column].astype(object).where(table[column].notna(), "")
    table = table.round({"seconds": 2, "peak_rss_mb": 0, "gap": 6})
    counts = table["verdict"].value_counts().to_dict()
    header = (f"# OR-Library instances solved by netopt\n\nMachine: {machine()}. Each instance in its own process; "
              "rows may come from different runs (`run_date`, `time_limit_s`: empty when none); seconds include "
              "reading the file and building the model. `known_value`: the published optimum (best-known value "
              "for scpnre-scpnrh), sources in benchmarks/orlib_optima.csv. `verdict` ok: status optimal at the "
              f"published value. Verdicts: {json.dumps(counts)}. Rerun: `python benchmarks/orlib_suite.py FOLDER`."
              "\n\n")
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "orlib_suite.csv", index=False)
    (RESULTS / "orlib_suite.md").write_text(header + table.to_markdown(index=False, floatfmt=".10g") + "\n",
                                            encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?")
    parser.add_argument("--only", nargs="*", default=["*"], help="instance name patterns, e.g. 'pmed3*' 'capa_*'")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per instance (default: none)")
    parser.add_argument("--one", nargs=3, metavar=("PATH", "MODEL", "CAPACITY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        path, model, capacity = args.one
        print(json.dumps(solve_instance(Path(path), model, None if capacity == "-" else float(capacity),
                                        args.time_limit)))
        return
    if args.folder is None or not args.folder.is_dir():
        parser.error("give the folder that holds the OR-Library files")
    chosen = instances(args.folder, args.only)
    if not chosen:
        parser.error(f"no OR-Library file of orlib_optima.csv under {args.folder} matches {args.only}")
    rows = []
    for inst in chosen:
        extra = ["--time-limit", str(args.time_limit)] if args.time_limit else []
        capacity = "-" if inst["capacity"] is None else str(inst["capacity"])
        timeout = int(args.time_limit * 3 + 120) if args.time_limit else 24 * 3600
        row = run_isolated([__file__, "--one", inst["path"], inst["model"], capacity, *extra], timeout)
        row.update(instance=inst["instance"], model=inst["model"], capacity=inst["capacity"],
                   run_date=time.strftime("%Y-%m-%d"), time_limit_s=args.time_limit,
                   known_value=inst["known_value"], known_status=inst["status"], source=inst["source"])
        row["verdict"] = verdict(row)
        print(f"{row['instance']:>14} {row.get('status', ''):>9} {row.get('objective', float('nan')):>16.6f} "
              f"known {row['known_value']:>16.6f} {row.get('seconds', float('nan')):8.1f} s  {row['verdict']}",
              flush=True)
        rows.append(row)
        write_table(rows)


if __name__ == "__main__":
    main()
