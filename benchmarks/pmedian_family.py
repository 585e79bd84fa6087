"""p-median on fresh OR-Library-style graphs (generated as Beasley describes pmed1-40), beyond the 40 published ones.

Issue 5 asks for any OR-Library-style p-median instance up to n = 900 proven optimal in under 60 s. The 40
published instances are in orlib_suite; this draws new graphs (`benchmarks.orlib.random_orlib_pmed`, one per
seed) at the hard end — n = 800 and 900 with p = 5, 10 and 20 — and solves each with a 60 s limit in its own
process, recording status, time, the gap left and the LP (Lagrangian) bound's gap to the plan found.

Run: `make bench-pmedian-family` (or `python benchmarks/pmedian_family.py [--seeds 10] [--time-limit 60]`).
Writes benchmarks/results/pmedian_family.md and .csv.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
SIZES = [(800, 5), (800, 10), (900, 5), (900, 10), (900, 20)]

from benchmarks._isolated import machine, run_isolated  # noqa: E402


def solve_one(n: int, p: int, seed: int, time_limit: float) -> dict:
    """One generated graph solved by netopt: the fields of its results row."""
    from benchmarks.orlib import random_orlib_pmed
    from netopt.models import PMedian

    cost = random_orlib_pmed(n, seed=seed)
    start = time.perf_counter()
    result = PMedian.from_cost_matrix(cost, p).solve(time_limit=time_limit)
    proved_by_bound = result.details.get("proved_by") == "lagrangian bound"  # the heuristic's plan reached it
    lagrangian = float(result.objective) if proved_by_bound else result.details.get("lagrangian_bound", float("nan"))
    return {"status": result.status, "objective": float(result.objective), "gap": float(result.gap),
            "root_gap": (float(result.objective) - lagrangian) / float(result.objective),
            "sites_after_reduction": result.details.get("sites_after_reduction"),
            "seconds": time.perf_counter() - start}


def write_table(rows: list[dict], time_limit: float) -> None:
    """results/pmedian_family.csv and .md: one row per graph, a summary per size first."""
    import pandas as pd

    table = pd.DataFrame(rows).round({"gap": 6, "root_gap": 5, "seconds": 1})
    summary = table.groupby(["n", "p"]).agg(graphs=("seed", "size"),
                                             proven=("status", lambda s: int((s == "optimal").sum())),
                                             median_s=("seconds", "median"), max_s=("seconds", "max"),
                                             worst_gap=("gap", "max"), worst_root_gap=("root_gap", "max"))
    header = (f"# p-median on generated OR-Library-style graphs\n\nMachine: {machine()}. n vertices, n²/50 edges "
              "(a random spanning path plus random pairs) of integer length 1..100, all-pairs shortest paths "
              f"(`benchmarks.orlib.random_orlib_pmed(n, seed)`); each graph in its own process, {time_limit:g} s "
              "limit. `gap`: left at the end (0 when proven); `root_gap`: the plan found above the Lagrangian "
              "(= LP) bound, what branching has to close. Rerun: `make bench-pmedian-family`.\n\n")
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "pmedian_family.csv", index=False)
    (RESULTS / "pmedian_family.md").write_text(
        header + summary.reset_index().to_markdown(index=False, floatfmt=".4g") + "\n\n"
        + table.to_markdown(index=False, floatfmt=".6g") + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="graphs per size (seeds 1..N)")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--one", nargs=3, type=int, metavar=("N", "P", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(solve_one(*args.one, args.time_limit)))
        return
    rows = []
    for n, p in SIZES:
        for seed in range(1, args.seeds + 1):
            row = run_isolated([__file__, "--one", str(n), str(p), str(seed), "--time-limit", str(args.time_limit)],
                               int(3 * args.time_limit + 120))
            row.update(n=n, p=p, seed=seed, run_date=time.strftime("%Y-%m-%d"))
            print(json.dumps(row), flush=True)
            rows.append(row)
    write_table(rows, args.time_limit)


if __name__ == "__main__":
    main()
