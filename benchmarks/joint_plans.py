"""The sample city's joint plans of sites and types (plan_network) with type shares: netopt's model, whose shares
are also stated on the number of open branches, against the same model with the share rows alone, in one run.

Run: `make bench-joint-plans` (or `python benchmarks/joint_plans.py [--time-limit S]`).
Writes benchmarks/results/joint_plans.md and joint_plans.csv.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
BANK = "农业"


def cases() -> list[tuple[str, bool, dict]]:
    """(name, whether today's branches may close, plan_network's keywords) for each plan."""
    return [
        ("40% community, p=100, 1,200万", True, {"p": 100, "budget_wan": 1200, "mix": {"community": (0.4, None)}}),
        ("40% community anywhere, p=100, 1,200万", True,
         {"p": 100, "budget_wan": 1200, "mix": {"community": (0.4, None)}, "community_in_urban_towns": False}),
        ("25% community, inclusive ≤ 30%, p=110, 2,000万", False,
         {"p": 110, "budget_wan": 2000, "mix": {"community": (0.25, None), "inclusive": (None, 0.3)}}),
        ("10% community, inclusive ≤ 30%, p=150, 3,000万", True,
         {"p": 150, "budget_wan": 3000, "mix": {"community": (0.1, None), "inclusive": (None, 0.3)}}),
        ("no shares, p=110, 2,000万", False, {"p": 110, "budget_wan": 2000}),
    ]


def main() -> None:
    from benchmarks._isolated import machine, write_results
    from netopt.datasets import load_sample
    from netopt.models import types
    from netopt.planning import candidate_sites

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=120.0)
    limit = parser.parse_args().time_limit
    ds = load_sample().of_bank(BANK)
    stated_on_count = types._counted_openings
    rows = []
    for name, closable, options in cases():
        sites = candidate_sites(ds, BANK).assign(closable=closable)
        for implementation, counted in (("netopt", stated_on_count), ("share rows alone", lambda milp, *_: milp)):
            types._counted_openings = counted
            started = time.perf_counter()
            _, _, summary = types.plan_network(ds, sites, time_limit=limit, **options)
            rows.append({"case": name, "implementation": implementation, "status": summary["status"],
                         "served_wan": round(summary["objective"] / 1e4, 2), "gap_pct": round(100 * summary["gap"], 3),
                         "seconds": round(time.perf_counter() - started, 1), "error": ""})
            print(rows[-1], flush=True)
    types._counted_openings = stated_on_count
    header = (f"# Joint plans of sites and types ({BANK}, bundled Hefei sample; time limit {limit:g} s)\n\n"
              f"{machine()}. served_wan: residents served by the plan returned, 万人 (the first program's objective); "
              "seconds: the whole plan_network call, the least-spent search after it included. netopt states the "
              "type shares on the number of open branches too (one binary per count); 'share rows alone' is the "
              "same model without them.\n\n")
    write_results(rows, ["case", "implementation", "status", "served_wan", "gap_pct", "seconds",
                         "x_slower_than_netopt", "error"], RESULTS, "joint_plans", header)


if __name__ == "__main__":
    main()
