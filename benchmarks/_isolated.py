"""Run one benchmark case in its own process (so time and peak memory are its own) and read its JSON line."""
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
