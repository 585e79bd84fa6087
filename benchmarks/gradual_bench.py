"""Gradual coverage (MCLP with a full radius) at scale: netopt against the textbook formulation, same instance.

Demand points and 2,000 sites spread evenly over a 100 km square (`mclp_scale.uniform_points`), a 5 km radius,
wholly covered within 0 or 2 km; netopt's MCLP over each point's distance levels (`MCLP.from_cost_matrix(...,
full_radius=)`) against the formulation usually written — an assignment variable per pair within the radius,
weighted by its covered share (`textbook.textbook_gradual_mclp`) — handed straight to HiGHS. Each run in its
own process, with a time limit.

Run: `make bench-gradual` (or `python benchmarks/gradual_bench.py [--time-limit S]`).
Writes benchmarks/results/gradual.md and gradual.csv.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
SITES, RADIUS_KM = 2_000, 5.0
CASES = [(10_000, 0.0, 20), (10_000, 2.0, 50), (100_000, 0.0, 20), (100_000, 2.0, 50)]  # (points, full km, p)
TIMEOUT_S = 900

from benchmarks._isolated import machine, run_isolated, write_results  # noqa: E402


def run_one(points: int, full_km: float, p: int, implementation: str, time_limit: float) -> dict:
    """One case solved by one implementation: its status, value, bound, time and peak memory."""
    import scipy.sparse as sp

    from benchmarks.mclp_scale import uniform_points
    from benchmarks.textbook import textbook_gradual_mclp
    from netopt.distance import pairs_within
    from netopt.models import MCLP

    start = time.perf_counter()
    demand, sites, weights = uniform_points(points, SITES)
    reach = sp.csr_matrix(pairs_within(demand, sites, RADIUS_KM * 1000.0) / 1000.0)  # km
    if implementation == "netopt":
        result = MCLP.from_cost_matrix(reach, RADIUS_KM, p, weights=weights, full_radius=full_km).solve(
            time_limit=time_limit)
        row = {"status": result.status, "objective": float(result.objective), "bound": float(result.bound)}
    else:
        row = textbook_gradual_mclp(reach, weights, full_km, RADIUS_KM, p, time_limit=time_limit)
        row.pop("seconds")
    return {**row, "seconds": time.perf_counter() - start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", nargs=4, metavar=("POINTS", "FULL_KM", "P", "IMPLEMENTATION"))
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    if args.one:
        points, full_km, p, implementation = args.one
        print(json.dumps(run_one(int(points), float(full_km), int(p), implementation, args.time_limit)))
        return
    rows = []
    for points, full_km, p in CASES:
        for implementation in ("netopt", "textbook"):
            row = run_isolated([__file__, "--one", str(points), str(full_km), str(p), implementation,
                                "--time-limit", str(args.time_limit)], TIMEOUT_S)
            row.update(case=f"n{points}_full{full_km:g}km_p{p}", points=points, full_km=full_km, p=p,
                       implementation=implementation, run_date=time.strftime("%Y-%m-%d"))
            print(json.dumps(row), flush=True)
            rows.append(row)
    columns = ["case", "implementation", "points", "full_km", "p", "status", "objective", "bound", "seconds",
               "x_slower_than_netopt", "peak_rss_mb", "run_date", "error"]
    header = (f"# Gradual coverage at scale\n\nMachine: {machine()}. Demand points and {SITES:,} sites spread evenly "
              f"over a 100 km square (integer weights 1-99), a {RADIUS_KM:g} km radius, each point wholly covered "
              "within `full_km` of its nearest open site and by a share falling linearly to 0 at the radius; "
              "netopt's `MCLP.from_cost_matrix(..., full_radius=)` against the textbook formulation (one "
              "assignment variable per pair within the radius, `benchmarks/textbook.py`) handed to HiGHS, "
              f"`time_limit={args.time_limit:g}` s, `seconds` including the coverage matrix; each row in its own "
              "process. spopt has no gradual coverage. Rerun: `make bench-gradual`.\n\n")
    write_results(rows, columns, RESULTS, "gradual", header)


if __name__ == "__main__":
    main()
