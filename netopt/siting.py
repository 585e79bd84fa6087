"""Site evaluation 选址评估: each candidate site scored alone beside today's network — reach, overlap, rivals."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from netopt._errors import InputError
from netopt.io import Dataset, bank_mask


def evaluate_sites(ds: Dataset, candidates: gpd.GeoDataFrame, bank: str | None = None,
                   radius_km: float | dict = 3.5, distance: str = "euclidean", graph=None,
                   demand: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Each candidate site (io.read_candidates: site_id, name, points) opened alone beside today's branches (of
    `bank`, or every bank's), one row each, the most it adds first:

    - town, county: the town whose point is nearest it, and the county it lies in;
    - radius_km: the service radius where it stands (one number, or its county's region type's);
    - residents_within_wan: residents (万人) within its reach, each within the radius of their own region type as
      analyze_coverage measures (town points, or `demand`'s cells);
    - adds_covered_wan: those of them no branch of today reaches — what opening it adds; overlap_wan and
      overlap_pct: those today's branches reach already (重叠覆盖);
    - nearest_branch_km / nearest_branch_name: today's branch nearest it; branches_within: today's branches
      within its radius; with `bank`, rival_branches_within: the other banks' (竞争网点) and won_wan: the
      residents it wins from them in the Huff model (as optimize --model share counts, default decay).
    Straight-line km, or by road with distance="network" and `graph`."""
    from netopt.coverage import place_radius_km
    from netopt.planning import candidate_sites, town_reach

    if candidates is None or len(candidates) == 0:
        raise InputError("no candidate sites to evaluate", file="candidates")
    sites = candidate_sites(ds, bank, candidates)
    existing = np.flatnonzero(sites["kind"].to_numpy() == "existing")
    new = np.flatnonzero(sites["kind"].to_numpy() == "new")
    points = ds.towns if demand is None else demand
    reach = town_reach(ds, sites, radius_km, distance, graph, demand).tocsc()
    people = points["population"].to_numpy(float)
    reached_today = np.asarray(reach[:, existing].sum(axis=1)).ravel() > 0
    within = reach[:, new].T @ people
    adds = reach[:, new].T @ np.where(reached_today, 0.0, people)
    table = sites.iloc[new][["site_id", "name", "county", "geometry"]].reset_index(drop=True)
    table.insert(3, "town", _nearest_town(ds, table))
    table["radius_km"] = place_radius_km(ds, table, radius_km)
    table["residents_within_wan"] = within / 1e4
    table["adds_covered_wan"] = adds / 1e4
    table["overlap_wan"] = (within - adds) / 1e4
    table["overlap_pct"] = 100.0 * (within - adds) / np.where(within > 0, within, np.nan)
    _nearest_branches(table, sites.iloc[existing], distance, graph)
    if bank is not None:
        _against_rivals(ds, table, sites, bank, points, distance, graph)
    order = ["adds_covered_wan", "won_wan"] if "won_wan" in table else ["adds_covered_wan"]
    table = table.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return gpd.GeoDataFrame(table, geometry="geometry", crs=sites.crs)


def _nearest_town(ds: Dataset, sites: gpd.GeoDataFrame) -> np.ndarray:
    """The name of the town whose point is nearest each site (straight line)."""
    from netopt.distance import cost_matrix_km

    km = cost_matrix_km(sites, ds.towns.assign(geometry=ds.towns.geometry.representative_point()))
    return ds.towns["name"].to_numpy()[km.argmin(axis=1)]


def _nearest_branches(table: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, distance: str, graph) -> None:
    """Today's branch nearest each site (km, name) and how many of today's stand within its radius."""
    from netopt.distance import cost_matrix_km

    if len(branches) == 0:
        table["nearest_branch_km"], table["nearest_branch_name"], table["branches_within"] = np.nan, None, 0
        return
    km = cost_matrix_km(table, branches, distance, graph)
    table["nearest_branch_km"] = km.min(axis=1)
    table["nearest_branch_name"] = branches["name"].to_numpy()[km.argmin(axis=1)]
    table["branches_within"] = (km <= table["radius_km"].to_numpy()[:, None]).sum(axis=1)


def _against_rivals(ds: Dataset, table: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, bank: str,
                    points: gpd.GeoDataFrame, distance: str, graph) -> None:
    """The other banks' branches within each site's radius, and the residents it wins from them (Huff)."""
    from netopt.distance import cost_matrix_km
    from netopt.models import MarketShare

    rivals = ds.branches[~bank_mask(ds.branches, bank)]
    if len(rivals) == 0:
        table["rival_branches_within"], table["won_wan"] = 0, np.nan
        return
    km = cost_matrix_km(table, rivals, distance, graph)
    table["rival_branches_within"] = (km <= table["radius_km"].to_numpy()[:, None]).sum(axis=1)
    today = sites.loc[sites["kind"] == "existing", "site_id"].tolist()
    share = MarketShare.from_geodataframes(points, sites, rivals, p=max(len(today), 1), distance=distance,
                                           graph=graph)
    before = share.objective_of(today) if today else 0.0
    after = share.objective_with_each(today, table["site_id"]) if today else pd.Series(
        [share.objective_of([site]) for site in table["site_id"]], index=table["site_id"])
    table["won_wan"] = (after.loc[table["site_id"]].to_numpy() - before) / 1e4
