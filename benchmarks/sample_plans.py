"""The sample city's planning questions on town points and on the 1 km population grid: netopt's solve() against
the same model's plain integer program handed whole to HiGHS (market share: the linearised program; p-median:
the radius formulation), each with a time limit.

Run: `make bench-sample-plans` (or `python benchmarks/sample_plans.py [--time-limit S]`).
Writes benchmarks/results/sample_plans.md and sample_plans.csv.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
BANK = "农业"


def cases() -> list[tuple]:
    """(name, model class, demand, keyword arguments) for each planning question; demand "grid" or "towns"."""
    from netopt.models import MarketShare, PMedian

    return [
        ("share +5 new", MarketShare, "towns", {"new": 5}),
        ("share +5 new", MarketShare, "grid", {"new": 5}),
        ("share +10 new", MarketShare, "grid", {"new": 10}),
        ("share 3 moves", MarketShare, "grid", {"moves": 3}),
        ("p-median +5 new", PMedian, "grid", {"new": 5}),
        ("p-median 3 moves", PMedian, "grid", {"moves": 3}),
    ]


def build(model_class, demand, ds, new: int = 0, moves: int = 0):
    from netopt.competition import bank_mask
    from netopt.planning import candidate_sites, existing_positions

    sites = candidate_sites(ds, BANK)
    existing = existing_positions(sites)
    rules = {"existing": existing, "max_new": new} if new else {"existing": existing, "closable": existing,
                                                                  "max_new": moves}
    p = len(existing) + new
    if model_class.__name__ == "MarketShare":
        rivals = ds.branches[~bank_mask(ds.branches, BANK)]
        return model_class.from_geodataframes(demand, sites, rivals, p=p, **rules)
    return model_class.from_geodataframes(demand, sites, p, **rules)


def main() -> None:
    from netopt.datasets import load_sample
    from netopt.grid import population_grid
    from netopt.models._base import LocationModel

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=120.0)
    limit = parser.parse_args().time_limit
    ds = load_sample()
    demands = {"towns": ds.towns, "grid": population_grid(ds, cell_km=1.0)}
    rows = []
    for name, model_class, demand, options in cases():
        for method, solve in (("netopt solve()", lambda m: m.solve(time_limit=limit)),
                              ("whole integer program", lambda m: LocationModel.solve(m, time_limit=limit))):
            model = build(model_class, demands[demand], ds, **options)
            started = time.perf_counter()
            result = solve(model)
            seconds = time.perf_counter() - started
            value = model.objective_of(result.selected) if result.selected else np.nan
            rows.append({"case": name, "demand": f"{len(demands[demand]):,} {demand}", "method": method,
                         "status": result.status, "objective": round(value, 1), "gap": result.gap,
                         "seconds": round(seconds, 1)})
            print(rows[-1], flush=True)
    write_results(rows, limit)


def write_results(rows: list[dict], limit: float) -> None:
    """results/sample_plans.csv and .md from the rows of a run."""
    table = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    table.to_csv(RESULTS / "sample_plans.csv", index=False)
    lines = [f"# Sample-city plans ({BANK}, bundled Hefei sample; time limit {limit:g} s; 2-core machine)", "",
             "objective: residents captured (share) or total person-km (p-median) of the plan returned, scored by "
             "the model itself (objective_of).", "",
             "| case | demand | method | status | objective | gap | seconds |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.case} | {r.demand} | {r.method} | {r.status} | {r.objective:,.1f} | {r.gap:.2%} | {r.seconds} |"
              for r in table.itertuples()]
    (RESULTS / "sample_plans.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
