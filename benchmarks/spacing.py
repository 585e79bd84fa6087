"""The minimum spacing 网点间距 at scale: each model with and without the spacing's pair rows, same instance.

MCLP on 100,000 demand points x 2,000 sites (the models benchmark's generator) with a spacing that the plan
without it keeps (4 km) and one that binds everywhere (8 km); p-median on 600 random points with a spacing
that binds (25 km). Each run in its own process, with a time limit.

Run: `make bench-spacing` (or `python benchmarks/spacing.py [--time-limit S]`).
Writes benchmarks/results/spacing.md and spacing.csv.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
CASES = [("mclp", 4.0), ("mclp", 8.0), ("pmedian", 25.0)]  # (model, spacing km)

from benchmarks._isolated import machine, run_isolated  # noqa: E402


def model_for(kind: str, spacing_km: float | None):
    """The case's model, with the pairs of sites closer than `spacing_km` (None: no spacing) and their count."""
    from scipy.spatial import cKDTree
    from scipy.spatial.distance import cdist

    from netopt.distance import pairs_within
    from netopt.models import MCLP, PMedian

    if kind == "mclp":
        from benchmarks.models_bench import mclp_points

        demand, sites, weights = mclp_points(100_000, 2_000)
        coverage, p, scale = pairs_within(demand, sites, 3_500.0), 50, 1000.0
    else:
        rng = np.random.default_rng(1)
        sites = rng.uniform(0, 100, (600, 2))
        weights, p, scale = rng.integers(1, 100, 600).astype(float), 10, 1.0
    pairs = cKDTree(sites).query_pairs(spacing_km * scale, output_type="ndarray") if spacing_km else None
    rules = {} if pairs is None else {"too_close": pairs}
    if kind == "mclp":
        return MCLP.from_coverage(coverage, p, weights=weights, **rules), 0 if pairs is None else len(pairs)
    return PMedian.from_cost_matrix(cdist(sites, sites), p, weights=weights, **rules), 0 if pairs is None else len(pairs)


def run_one(kind: str, spacing_km: float | None, limit: float) -> dict:
    model, pairs = model_for(kind, spacing_km)
    started = time.perf_counter()
    result = model.solve(time_limit=limit)
    return {"status": result.status, "objective": float(result.objective), "gap_pct": 100.0 * float(result.gap),
            "pairs": pairs, "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, km = args.one
        print(json.dumps(run_one(kind, None if km == "-" else float(km), args.time_limit)))
        return
    rows = []
    for kind, km in CASES:
        for spacing in (None, km):
            row = run_isolated([__file__, "--one", kind, "-" if spacing is None else str(spacing), "--time-limit",
                                str(args.time_limit)], int(3 * args.time_limit + 300))
            row.update(model=kind, spacing_km=spacing if spacing else "none")
            rows.append(row)
            print(row, flush=True)
    write_results(rows, args.time_limit)


def write_results(rows: list[dict], limit: float) -> None:
    import pandas as pd

    table = pd.DataFrame(rows).reindex(columns=["model", "spacing_km", "pairs", "status", "objective", "gap_pct",
                                                "seconds", "error"])
    table = table.round({"objective": 1, "gap_pct": 3, "seconds": 1})
    table["error"] = table["error"].astype(object).where(table["error"].notna(), "")
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "spacing.csv", index=False)
    header = (f"# Minimum spacing at scale (time limit {limit:g} s; {machine()})\n\nMCLP: 100,000 demand points x "
              "2,000 sites, p = 50, radius 3.5 km. p-median: 600 random points (km), p = 10. `pairs`: pairs of "
              "sites closer than the spacing, one row each. Gap of a spaced model: against the better of its own "
              "bound and the bound of the model without the spacing.\n\n")
    (RESULTS / "spacing.md").write_text(header + table.to_markdown(index=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
