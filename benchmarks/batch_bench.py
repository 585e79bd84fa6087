"""Batch benchmark: every county-level unit of China, serially vs on a dask LocalCluster; time and peak memory."""
from __future__ import annotations

import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
UNITS = ROOT / "data" / "units"
RESULTS = ROOT / "benchmarks" / "results"
CASES = {  # name: (scheduler, workers, optimize)
    "diagnosis, serial": ("serial", None, False),
    "diagnosis, LocalCluster 2 workers": (None, 2, False),
    "diagnosis + LSCP + MCLP, serial": ("serial", None, True),
    "diagnosis + LSCP + MCLP, LocalCluster 2 workers": (None, 2, True),
}
GRID_CASES = {  # name: (cell_km, tiled, scheduler)
    "Hefei 0.1 km grid, whole (population_grid + analyze_coverage)": (0.1, False, "serial"),
    "Hefei 0.1 km grid, 10 km tiles, serial": (0.1, True, "serial"),
    "Hefei 0.1 km grid, 10 km tiles, LocalCluster 2 workers": (0.1, True, None),
}
COLUMNS = ["case", "implementation", "units", "failed", "seconds", "per_unit_ms", "read_seconds", "peak_rss_mb",
           "speedup_vs_serial", "covered_wan", "status", "error"]


class TreeMemory:
    """Peak resident memory of this process and all its children (the dask workers), sampled every 0.1 s."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for proc in [self.me, *self.me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            time.sleep(0.1)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_case(name: str) -> dict:
    from netopt.batch import BatchOptions, read_batch, run_batch

    scheduler, workers, optimize = CASES[name]
    with TreeMemory() as memory, tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        tasks = read_batch(UNITS / "units.csv", UNITS)
        read_seconds = time.perf_counter() - started
        summary = run_batch(tasks, out, BatchOptions(optimize=optimize), scheduler=scheduler, workers=workers)
        seconds = time.perf_counter() - started
    return {"case": name, "units": summary.total, "failed": len(summary.failed),
            "seconds": round(seconds, 2), "per_unit_ms": round(1000 * (seconds - read_seconds) / summary.total, 2),
            "read_seconds": round(read_seconds, 2), "peak_rss_mb": round(memory.peak / 2**20), "status": "ok"}


def run_grid_case(name: str) -> dict:
    import netopt as no
    from netopt.grid import population_grid
    from netopt.tiles import tiled_grid_coverage

    cell_km, tiled, scheduler = GRID_CASES[name]
    radius = {"core": 1.2, "county": 3.5}
    ds = no.load_sample()
    with TreeMemory() as memory:
        started = time.perf_counter()
        if tiled:
            result = tiled_grid_coverage(ds, radius, cell_km=cell_km, tile_km=10.0, scheduler=scheduler, workers=2)
            cells, covered = result.cells, result.by_county["covered_population"].sum()
        else:
            demand = population_grid(ds, cell_km=cell_km)
            cov = no.analyze_coverage(ds, radius_km=radius, demand=demand)
            cells, covered = len(demand), cov.by_county["covered_population"].sum()
        seconds = time.perf_counter() - started
    return {"case": name, "units": cells, "failed": 0, "seconds": round(seconds, 2),
            "per_unit_ms": round(1000 * seconds / cells, 4), "peak_rss_mb": round(memory.peak / 2**20),
            "covered_wan": round(covered / 1e4, 4), "status": "ok"}


def main() -> None:
    from benchmarks._isolated import machine, run_isolated, write_results

    rows = []
    for flag, cases in (("--case", CASES), ("--grid-case", GRID_CASES)):
        for name in cases:
            print(f"running: {name}", flush=True)
            row = run_isolated([__file__, flag, name], timeout_s=3600)
            rows.append({"case": name, "implementation": "netopt", **row})
            print(rows[-1], flush=True)
    header = (f"# Batch runs: {rows[0].get('units', '?')} county-level units of China\n\n{machine()}. "
              "Each case in its own process; `units` counts county-level units, or population cells for the Hefei grid "
              "cases (their speed-up is relative to the tiled serial run). peak_rss_mb is the sum over the driver and its dask worker processes. "
              "seconds include reading the units and towns (read_seconds) and writing every unit's outputs and "
              "the national table. Rerun: `make bench-batch`.\n\n")
    serial = {r["case"].split(",")[0]: r.get("seconds") for r in rows if r["case"].endswith("serial")}
    for row in rows:
        base = serial.get(row["case"].split(",")[0])
        row["speedup_vs_serial"] = round(base / row["seconds"], 2) if base and row.get("seconds") else None
    write_results(rows, COLUMNS, RESULTS, "batch", header)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2])))
    elif len(sys.argv) == 3 and sys.argv[1] == "--grid-case":
        print(json.dumps(run_grid_case(sys.argv[2])))
    else:
        main()
