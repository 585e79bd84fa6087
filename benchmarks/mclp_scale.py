"""MCLP at 1,000,000 demand points x 2,000 sites: for which p and radius netopt proves optimality within 60 s.

Run: `make bench-mclp-scale` (or `python benchmarks/mclp_scale.py [--radius-km R ...] [--p P ...]`).
Writes benchmarks/results/mclp_scale.md and .csv: one row per (radius, p), each run in its own process.
`--spread uniform` (`make bench-mclp-uniform`): every demand point spread evenly instead, heavy overlap for
large radii or p; results in mclp_scale_uniform.md / .csv.
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


UNIFORM_CASES = [(5.0, 10), (5.0, 50), (5.0, 100), (10.0, 50)]


def uniform_points(n: int, m: int, seed: int = 1):
    """n demand points and m sites spread evenly over a 100 km square, integer weights 1-99."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.uniform(0, 100_000, (n, 2)), rng.uniform(0, 100_000, (m, 2)), rng.integers(1, 100, n).astype(float)


def run_one(radius_km: float, p: int, spread: str = "clustered") -> dict:
    """Build the coverage matrix and solve MCLP with the time limit; times, result and peak memory."""
    from netopt.distance import pairs_within
    from netopt.models import MCLP

    start = time.perf_counter()
    points = uniform_points if spread == "uniform" else mclp_points
    demand, sites, weights = points(DEMAND_POINTS, SITES)
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
    parser.add_argument("--radius-km", nargs="*", type=float, default=None)
    parser.add_argument("--p", nargs="*", type=int, default=None)
    parser.add_argument("--spread", choices=["clustered", "uniform"], default="clustered")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], int(args.one[1]), args.spread)))
        return
    if args.radius_km is None and args.p is None and args.spread == "uniform":
        cases = UNIFORM_CASES
    else:
        cases = list(itertools.product(args.radius_km or RADII_KM, args.p or P_VALUES))
    rows = []
    for radius_km, p in cases:
        row = run_isolated([__file__, "--one", str(radius_km), str(p), "--spread", args.spread], TIMEOUT_S)
        row.update(case=f"r{radius_km:g}km_p{p}", radius_km=radius_km, p=p, implementation="netopt",
                   run_date=time.strftime("%Y-%m-%d"))
        print(json.dumps(row), flush=True)
        rows.append(row)
    columns = ["radius_km", "p", "status", "objective", "bound", "gap_pct", "covered_pct", "build_s", "solve_s",
               "seconds", "peak_rss_mb", "distinct_demand_rows", "sites_after_reduction", "run_date", "error"]
    points = ("`mclp_scale.uniform_points` (every demand point and site spread evenly over a 100 km square, "
              "integer weights 1-99: disks overlap more the larger the radius and p)") if args.spread == "uniform" \
        else ("`models_bench.mclp_points` (half the demand in 40 clusters of 3 km spread, half uniform, integer "
              "weights 1-99; sites uniform; a 100 km square)")
    header = (f"# MCLP at {DEMAND_POINTS:,} demand points x {SITES:,} sites\n\nMachine: {machine()}. The point set "
              f"of {points}, solved with `time_limit={TIME_LIMIT_S:g}` for "
              "each radius and p; `build_s` is the coverage matrix and the model, `solve_s` the solve; each row "
              "ran in its own process. \"feasible\" means the time limit ended the solve: the plan, the bound "
              "and the gap between them are reported.\n\n")
    write_results(rows, columns, RESULTS, "mclp_scale_uniform" if args.spread == "uniform" else "mclp_scale", header)


if __name__ == "__main__":
    main()
