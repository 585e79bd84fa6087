"""Shared by the benchmarks: one case per process, netopt's model dispatch, results tables kept across reruns."""
from __future__ import annotations

import json
import subprocess
import sys


def run_isolated(args: list[str], timeout_s: int) -> dict:
    """`python ARGS` in a fresh process; its last stdout line is the JSON result. Failures become fields."""
    try:
        done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"not finished in {timeout_s} s"}
    if done.returncode != 0:
        return {"status": "error", "error": (done.stderr.strip().splitlines() or ["failed"])[-1][:150]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_results(rows: list[dict], columns: list[str], folder, name: str, header: str) -> None:
    """The rows as `name`.csv and `name`.md (a header, then a table), with netopt's time as the yardstick."""
    import pandas as pd

    table = pd.DataFrame(rows)
    mine = table[table["implementation"] == "netopt"].set_index("case")["seconds"]
    table["x_slower_than_netopt"] = table["seconds"] / table["case"].map(mine)
    table = table.reindex(columns=columns)
    table["error"] = table["error"].astype(object).where(table["error"].notna(), "")
    folder.mkdir(exist_ok=True)
    table.to_csv(folder / f"{name}.csv", index=False)
    (folder / f"{name}.md").write_text(header + table.to_markdown(index=False, floatfmt=".6g") + "\n", encoding="utf-8")


def machine() -> str:
    """Processor, cores, Python and date: the line every results table starts with."""
    import os
    import platform
    import time

    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}")


def solve_netopt(kind: str, time_limit: float | None = None, **inputs):
    """netopt's Result for one model kind from read inputs: pmedian (cost, p, weights), pcenter (cost, p), mclp (A, p,
    weights), lscp (A, cost), cflp (alloc, demand, capacity or None, fixed), pdispersion (cost: site x site, p)."""
    from netopt.models import CFLP, LSCP, MCLP, PCenter, PDispersion, PMedian

    if kind == "pmedian":
        model = PMedian.from_cost_matrix(inputs["cost"], inputs["p"], weights=inputs.get("weights"))
    elif kind == "pcenter":
        model = PCenter.from_cost_matrix(inputs["cost"], inputs["p"])
    elif kind == "mclp":
        model = MCLP.from_coverage(inputs["A"], inputs["p"], weights=inputs.get("weights"))
    elif kind == "lscp":
        model = LSCP.from_coverage(inputs["A"], facility_cost=inputs.get("cost"))
    elif kind == "cflp":
        model = CFLP.from_allocation_costs(inputs["alloc"], inputs["demand"], inputs["capacity"], inputs["fixed"])
    elif kind == "pdispersion":
        model = PDispersion.from_cost_matrix(inputs["cost"], inputs["p"])
    else:
        raise ValueError(f"unknown model {kind!r}")
    return model.solve(time_limit=time_limit)


def earlier_rows(csv_path, replaced) -> list[dict]:
    """The rows of an earlier results table that a rerun keeps: all but those where `replaced(table)` is True."""
    import pandas as pd

    if not csv_path.exists():
        return []
    old = pd.read_csv(csv_path)
    return old[~replaced(old)].to_dict("records")
