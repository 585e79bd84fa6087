"""MCLP at 1,000,000 demand points x 2,000 sites: for which p and radius netopt proves optimality within 60 s.

Run: `make bench-mclp-scale` (or `python benchmarks/mclp_scale.py [--radius-km R ...] [--p P ...]`).
Writes benchmarks/results/mclp_scale.md and .csv: one row per (radius, p), each run in its own process.
"""
from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
DEMAND_POINTS, SITES = 1_000_000, 2_000
TIME_LIMIT_S = 60.0
TIMEOUT_S = 600
RADII_KM = [2.0, 3.5, 5.0]
P_VALUES = [10, 20, 30, 40, 50]

from benchmarks._isolated import machine, run_isolated, write_results  # noqa: E402
from benchmarks.models_bench import mclp_points  # noqa: E402


def run_one(radius_km: float, p: int) -> dict:
    """Build the coverage matrix and solve MCLP with the time limit; times, result and peak memory."""
    from netopt.distance import pairs_within
    from netopt.models import MCLP

    start = time.perf_counter()
    demand, sites, weights = mclp_points(DEMAND_POINTS, SITES)
    model = MCLP.from_coverage(pairs_within(demand, sites, radius_km * 1000.0), p, weights=weights)
    built = time.perf_counter()
    result = model.solve(time_limit=TIME_LIMIT_S)
    solved = time.perf_counter()
    return {"status": result.status, "objective": float(result.objective), "bound": float(result.bound),
            "gap_pct": 100.0 * float(result.gap), "covered_pct": result.details.get("covered_pct"),
            "build_s": built - start, "solve_s": solved - built, "seconds": solved - start,
            "distinct_demand_rows": model.unique.shape[0],
            "sites_after_reduction": result.details.get("sites_after_reduction"),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", nargs=2, type=float, metavar=("RADIUS_KM", "P"))
    parser.add_argument("--radius-km", nargs="*", type=float, default=RADII_KM)
    parser.add_argument("--p", nargs="*", type=int, default=P_VALUES)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]))))
        return
    rows = []
    for radius_km, p in itertools.product(args.radius_km, args.p):
        row = run_isolated([__file__, "--one", str(radius_km), str(p)], TIMEOUT_S)
        row.update(case=f"r{radius_km:g}km_p{p}", radius_km=radius_km, p=p, implementation="netopt",
                   run_date=time.strftime("%Y-%m-%d"))
        print(json.dumps(row), flush=True)
        rows.append(row)
    columns = ["radius_km", "p", "status", "objective", "bound", "gap_pct", "covered_pct", "build_s", "solve_s",
               "seconds", "peak_rss_mb", "distinct_demand_rows", "sites_after_reduction", "run_date", "error"]
    header = (f"# MCLP at {DEMAND_POINTS:,} demand points x {SITES:,} sites\n\nMachine: {machine()}. The point set "
              "of `models_bench.mclp_points` (half the demand in 40 clusters of 3 km spread, half uniform, integer "
              f"weights 1-99; sites uniform; a 100 km square), solved with `time_limit={TIME_LIMIT_S:g}` for "
              "each radius and p; `build_s` is the coverage matrix and the model, `solve_s` the solve; each row "
              "ran in its own process. \"feasible\" means the time limit ended the solve: the plan, the bound "
              "and the gap between them are reported.\n\n")
    write_results(rows, columns, RESULTS, "mclp_scale", header)


if __name__ == "__main__":
    main()
