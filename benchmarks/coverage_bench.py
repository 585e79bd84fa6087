"""Coverage speed: netopt vs the baselines an analyst would write, each case in its own process (time, peak memory).

Run: `make bench-coverage` (or `python benchmarks/coverage_bench.py`). Writes benchmarks/results/coverage.md and .csv.
Cases: 1,000,000 demand points x 10,000 branches within 5 km (straight line); 100,000 towns on a
road network of 100,489 nodes (a 317 x 317 grid of 100 m streets) x 2,000 branches within 5 km.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks._isolated import machine, run_isolated, write_results  # noqa: E402
RESULTS = HERE / "results"
AREA_M = 100_000.0  # a 100 km x 100 km study area, about the size of Hefei
CASES = {
    "straight_1M_x_10k": {"n_demand": 1_000_000, "n_sites": 10_000, "radius_m": 5000.0},
    "straight_100k_x_10k": {"n_demand": 100_000, "n_sites": 10_000, "radius_m": 5000.0},
    "network_100k_x_2k": {"n_demand": 100_000, "n_sites": 2_000, "radius_m": 5000.0, "grid": 317},
}
IMPLEMENTATIONS = {
    "straight_1M_x_10k": ["netopt", "scipy_cdist_chunked", "geopandas_sjoin_buffers"],
    "straight_100k_x_10k": ["netopt", "scipy_cdist_chunked", "geopandas_sjoin_buffers"],
    "network_100k_x_2k": ["netopt", "networkx_dijkstra"],
}
TIMEOUT_S = 900


def clustered_points(n: int, rng: np.random.Generator) -> np.ndarray:
    """Half the points in 30 town clusters (2 km spread), half spread evenly: like a city and its counties."""
    centres = rng.uniform(0, AREA_M, (30, 2))
    clustered = centres[rng.integers(0, 30, n // 2)] + rng.normal(0, 2000, (n // 2, 2))
    return np.clip(np.vstack([clustered, rng.uniform(0, AREA_M, (n - n // 2, 2))]), 0, AREA_M)


def straight_inputs(case: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    return clustered_points(case["n_demand"], rng), clustered_points(case["n_sites"], rng)


def run_netopt_straight(case: dict) -> dict:
    from netopt.distance import TravelSettings, measure_reach

    demand, sites = straight_inputs(case)
    start = time.perf_counter()
    reach = measure_reach(demand, sites, case["radius_m"] / 1000.0, "km", TravelSettings())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "covered": int((reach.nearest_km * 1000 <= case["radius_m"]).sum()),
            "pairs": int(reach.count_within.sum()), "nearest_sum_km": float(reach.nearest_km.sum())}


def run_cdist(case: dict) -> dict:
    from scipy.spatial.distance import cdist

    demand, sites = straight_inputs(case)
    start = time.perf_counter()
    nearest = np.empty(len(demand))
    pairs = 0
    for lo in range(0, len(demand), 2000):
        block = cdist(demand[lo:lo + 2000], sites)
        nearest[lo:lo + 2000] = block.min(axis=1)
        pairs += int((block <= case["radius_m"]).sum())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "covered": int((nearest <= case["radius_m"]).sum()), "pairs": pairs,
            "nearest_sum_km": float(nearest.sum() / 1000.0)}


def run_sjoin(case: dict) -> dict:
    import geopandas as gpd

    demand, sites = straight_inputs(case)
    start = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(demand[:, 0], demand[:, 1]), crs=32650)
    branches = gpd.GeoDataFrame(geometry=gpd.points_from_xy(sites[:, 0], sites[:, 1]), crs=32650)
    buffers = gpd.GeoDataFrame(geometry=branches.buffer(case["radius_m"]), crs=32650)
    joined = gpd.sjoin(points, buffers, predicate="within")
    pairs = len(joined)
    near = gpd.sjoin_nearest(points, branches, distance_col="d")
    near = near[~near.index.duplicated()]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "covered": int((near["d"] <= case["radius_m"]).sum()), "pairs": pairs,
            "nearest_sum_km": float(near["d"].sum() / 1000.0)}


def grid_network(size: int):
    """A size x size grid of two-way 100 m streets as a RoadNetwork, plus its edge list for networkx."""
    import scipy.sparse as sp

    from netopt.distance import RoadNetwork

    n = size * size
    ids = np.arange(n).reshape(size, size)
    right = np.column_stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()])
    down = np.column_stack([ids[:-1, :].ravel(), ids[1:, :].ravel()])
    edges = np.vstack([right, down])
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    length = sp.csr_matrix((np.full(len(rows), 100.0), (rows, cols)), shape=(n, n))
    xy = np.column_stack([(ids % size).ravel() * 100.0, (ids // size).ravel() * 100.0])
    net = RoadNetwork(length, length / (30 / 3.6), np.arange(n), xy, "EPSG:32650", "grid")
    return net, edges


def network_inputs(case: dict):
    net, edges = grid_network(case["grid"])
    rng = np.random.default_rng(7)
    extent = (case["grid"] - 1) * 100.0
    demand = rng.uniform(0, extent, (case["n_demand"], 2))
    sites = rng.uniform(0, extent, (case["n_sites"], 2))
    return net, edges, demand, sites


def run_netopt_network(case: dict) -> dict:
    from netopt.distance import TravelSettings, measure_reach

    net, _, demand, sites = network_inputs(case)
    start = time.perf_counter()
    reach = measure_reach(demand, sites, case["radius_m"] / 1000.0, "km", TravelSettings(distance="network"), net)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "covered": int((reach.nearest_km * 1000 <= case["radius_m"] + 1e-6).sum()),
            "pairs": int(reach.count_within.sum()), "nearest_sum_km": float(reach.nearest_km.sum())}


def run_networkx(case: dict) -> dict:
    """What a user would write: snap with a KD-tree, networkx multi-source Dijkstra, per-branch cutoff Dijkstra."""
    import networkx as nx
    from scipy.spatial import cKDTree

    net, edges, demand, sites = network_inputs(case)
    start = time.perf_counter()
    graph = nx.Graph()
    graph.add_weighted_edges_from(((int(u), int(v), 100.0) for u, v in edges), weight="length")
    tree = cKDTree(net.node_xy)
    d_snap, d_node = tree.query(demand)
    s_snap, s_node = tree.query(sites)
    # virtual source per branch so that its access leg counts, as netopt does
    for j, (node, leg) in enumerate(zip(s_node, s_snap)):
        graph.add_edge(("site", j), int(node), length=max(float(leg), 1e-9))
    sources = [("site", j) for j in range(len(sites))]
    dist = nx.multi_source_dijkstra_path_length(graph, sources, weight="length")
    nearest = np.array([dist.get(int(n), np.inf) for n in d_node]) + d_snap
    pairs = 0
    budget = case["radius_m"] - d_snap
    for j in range(len(sites)):
        reach = nx.single_source_dijkstra_path_length(graph, ("site", j), cutoff=case["radius_m"], weight="length")
        got = np.array([reach.get(int(n), np.inf) for n in d_node])
        pairs += int((got <= budget).sum())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "covered": int((nearest <= case["radius_m"] + 1e-6).sum()), "pairs": pairs,
            "nearest_sum_km": float(nearest.sum() / 1000.0)}


RUNNERS = {
    ("straight", "netopt"): run_netopt_straight, ("straight", "scipy_cdist_chunked"): run_cdist,
    ("straight", "geopandas_sjoin_buffers"): run_sjoin, ("network", "netopt"): run_netopt_network,
    ("network", "networkx_dijkstra"): run_networkx,
}


def run_one(case_name: str, impl: str) -> dict:
    kind = case_name.split("_")[0]
    result = RUNNERS[(kind, impl)](CASES[case_name])
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return result


def run_all(cases: list[str]) -> list[dict]:
    rows = []
    for case in cases:
        for impl in IMPLEMENTATIONS[case]:
            row = run_isolated([__file__, "--one", case, impl], TIMEOUT_S)
            row.update(case=case, implementation=impl)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def write_tables(rows: list[dict]) -> None:
    columns = ["case", "implementation", "seconds", "peak_rss_mb", "x_slower_than_netopt", "covered", "pairs",
               "nearest_sum_km", "error"]
    header = (f"# Coverage benchmark\n\nMachine: {machine()}. Each row ran in its own process; peak_rss_mb is its "
              "peak resident memory. `covered`, `pairs` (demand-branch pairs within 5 km) and `nearest_sum_km` "
              "must agree between implementations of a case (geopandas buffers are polygons that approximate the "
              "5 km circles, so their pair counts differ slightly).\n\n")
    write_results(rows, columns, RESULTS, "coverage", header)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", nargs=2, metavar=("CASE", "IMPL"), help="run one case in this process")
    parser.add_argument("--cases", nargs="*", default=list(CASES), help="cases to run")
    parser.add_argument("--table-only", action="store_true", help="rewrite coverage.md from coverage.csv")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)))
        return
    if args.table_only:
        import pandas as pd

        write_tables(pd.read_csv(RESULTS / "coverage.csv").drop(columns=["x_slower_than_netopt"]).to_dict("records"))
        return
    write_tables(run_all(args.cases))


if __name__ == "__main__":
    main()
