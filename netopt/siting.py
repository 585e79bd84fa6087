"""Site evaluation 选址评估: each candidate site scored alone beside today's network — reach, overlap, rivals."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from netopt._errors import InputError, check_kind
from netopt.io import Dataset, bank_mask


def evaluate_sites(ds: Dataset, candidates: gpd.GeoDataFrame, bank: str | None = None,
                   radius_km: float | dict | None = None, distance: str = "euclidean", graph=None,
                   demand: gpd.GeoDataFrame | None = None, radius_min: float | dict | None = None,
                   mode: str | dict = "drive", full_km: float | dict | None = None,
                   full_min: float | dict | None = None, access: dict | None = None, **speeds) -> gpd.GeoDataFrame:
    """Each candidate site (io.read_candidates: site_id, name, points) opened alone beside today's branches (of
    `bank`, or every bank's), one row each, the most it adds first:

    - town, county: the town whose point is nearest it, and the county it lies in;
    - radius_km: the service radius where it stands (one number, or its county's region type's; default 3.5);
      with `radius_min` (and `mode` drive or walk, or one per region type) instead, time_limit_min: the travel
      time, as analyze_coverage(radius_min=...) measures it;
    - residents_within_wan: residents (万人) within its reach, each within the radius of their own region type as
      analyze_coverage measures (town points, or `demand`'s cells);
    - adds_covered_wan: those of them no branch of today reaches — what opening it adds; overlap_wan and
      overlap_pct: those today's branches reach already (重叠覆盖);
    - with `full_km` (or `full_min`; one, or one per region type, as analyze_coverage takes it), adds_counted_wan:
      what it adds counted by distance 按距离折算 (gradual coverage: the residents it brings nearer than today's
      branches count by how much more of them is covered), and the ranking goes by it;
    - nearest_branch_km / nearest_branch_name: today's branch nearest it (with `radius_min`, the quickest to
      reach, nearest_branch_min its minutes); branches_within: today's branches within its radius (or travel
      time); with `bank`, rival_branches_within: the other banks' (竞争网点) and
      won_wan: the residents it wins from them in the Huff model (as optimize --model share counts, default decay);
    - access_gini_change, low_access_change_wan: what it changes of accessibility 可达性 (netopt.accessibility of
      today's branches within the same limits, measured as `access` says — a dict of accessibility's own options,
      e.g. {"method": "3sfca"}; Ga2SFCA by default: the Gini of access over residents, the residents below half
      the city's access), after minus before (access.access_with_each_site; a site supplies 1 — by a supply
      column of the branches, what today's median branch supplies); attrs["access"] says how it was measured.
    Straight-line km, or by road with distance="network" and `graph`; `speeds` (speed_kmh, one or per region
    type, walk_speed_kmh, detour_factor) as analyze_coverage takes them."""
    from netopt.access import access_choices
    from netopt.coverage import place_limits, place_modes, speeds_per_point
    from netopt.models.covering import as_coverage
    from netopt.planning import candidate_sites, gradual_limits, town_pair_costs

    check_kind(candidates, gpd.GeoDataFrame, "candidates are a GeoDataFrame of points (io.read_candidates reads a "
               "file or a DataFrame)", "candidates")
    if len(candidates) == 0:
        raise InputError("no candidate sites to evaluate", file="candidates")
    how = access_choices(access, "evaluate_sites")
    limit = {"radius_km": 3.5 if radius_km is None and radius_min is None else radius_km, "radius_min": radius_min}
    sites = candidate_sites(ds, bank, candidates)
    existing = np.flatnonzero(sites["kind"].to_numpy() == "existing")
    new = np.flatnonzero(sites["kind"].to_numpy() == "new")
    points = ds.towns if demand is None else demand
    gradual = gradual_limits(ds, points, demand, (limit["radius_km"], radius_min), (full_km, full_min),
                             "evaluate_sites")
    costs = town_pair_costs(ds, sites, limit["radius_km"], distance, graph, demand, radius_min, mode, speeds).tocsc()
    reach = as_coverage(costs).tocsc()
    people = points["population"].to_numpy(float)
    reached_today = np.asarray(reach[:, existing].sum(axis=1)).ravel() > 0
    within = reach[:, new].T @ people
    adds = reach[:, new].T @ np.where(reached_today, 0.0, people)
    table = sites.iloc[new][["site_id", "name", "county", "geometry"]].reset_index(drop=True)
    table.insert(3, "town", _nearest_town(ds, table))
    column, unit, given = ("radius_km", "km", limit["radius_km"]) if radius_min is None else \
        ("time_limit_min", "min", radius_min)
    table[column] = place_limits(ds, table, given, unit)
    table["residents_within_wan"] = within / 1e4
    table["adds_covered_wan"] = adds / 1e4
    table["overlap_wan"] = (within - adds) / 1e4
    table["overlap_pct"] = 100.0 * (within - adds) / np.where(within > 0, within, np.nan)
    if gradual is not None:
        table["adds_counted_wan"] = _adds_counted(costs, existing, new, people, gradual[:2]) / 1e4
    roads = {"distance": distance, "graph": graph}
    own_limits = {"radius_km": table[column].to_numpy()} if unit == "km" else \
        {"radius_min": table[column].to_numpy(), "mode": place_modes(ds, table, mode),
         **speeds_per_point(ds, speeds, places=table)}
    _nearest_branches(table, sites.iloc[existing], roads, own_limits)
    if bank is not None:  # residents won measured as reach is: in km, or in travel minutes
        huff = {} if unit == "km" else {"unit": "min", "mode": place_modes(ds, points, mode),
                                        **speeds_per_point(ds, speeds, places=points)}
        _against_rivals(ds, table, sites, bank, points, roads, own_limits, huff)
    _add_access_change(ds if bank is None else ds.of_bank(bank), table, {**limit, **how}, roads, demand, mode, speeds)
    order = [c for c in ("adds_counted_wan", "adds_covered_wan", "won_wan") if c in table]
    table = table.sort_values(order, ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return gpd.GeoDataFrame(table, geometry="geometry", crs=sites.crs)


def _adds_counted(costs: sp.csc_matrix, existing: np.ndarray, new: np.ndarray, people: np.ndarray,
                  limits: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per new site (columns `new` of the demand x site `costs` within reach): the residents it adds counted by
    distance — each point's covered share with it open less today's (the `existing` sites'), times its residents;
    `limits`: each point's full radius and limit."""
    from netopt.models._gradual import best_shares, covered_share

    full, limit = limits
    today = best_shares(costs, existing, full, limit)
    pairs = costs[:, new].tocoo()
    gain = np.maximum(covered_share(pairs.data, full[pairs.row], limit[pairs.row]) - today[pairs.row], 0.0)
    return np.bincount(pairs.col, weights=gain * people[pairs.row], minlength=len(new))


def _add_access_change(ds: Dataset, table: gpd.GeoDataFrame, limit: dict, roads: dict,
                       demand: gpd.GeoDataFrame | None, mode, speeds: dict) -> None:
    """Each site's change of today's accessibility (access_with_each_site), as columns of `table`; `limit`: the
    catchment and accessibility's own options."""
    from netopt.access import access_with_each_site, accessibility

    today = accessibility(ds, demand=demand, mode=mode, **limit, **roads, **speeds)
    by_column = isinstance(limit.get("supply"), str) and len(today.branches) > 0
    supply = float(today.branches["supply"].median()) if by_column else 1.0  # a site has no figures, nor a type
    change = access_with_each_site(today, table, roads["graph"], supply)
    table["access_gini_change"] = change["access_gini_change"].to_numpy()
    table["low_access_change_wan"] = change["low_access_change_wan"].to_numpy()
    table.attrs["access"] = today.settings.describe() + (f"; each site supplies {supply:,.4g}, as today's median "
                                                         "branch does" if by_column else "")


def _site_costs(table: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, roads: dict, own_limits: dict
                ) -> tuple[np.ndarray, np.ndarray]:
    """Sites x branches km, or minutes with a travel time (`own_limits`: radius_km, or radius_min, mode and the
    speeds, one per site), measured as the diagnosis measures them; and each site's limit."""
    from netopt.distance import cost_matrix_km, cost_matrix_minutes

    if "radius_min" in own_limits:
        travel = {k: v for k, v in own_limits.items() if k != "radius_min"}
        return cost_matrix_minutes(table, branches, **travel, **roads), own_limits["radius_min"]
    return cost_matrix_km(table, branches, **roads), own_limits["radius_km"]


def _within_counts(cost: np.ndarray, limits) -> np.ndarray:
    """How many branches stand within each site's own limit, from _site_costs' costs and limits."""
    return (cost <= np.asarray(limits, float)[:, None]).sum(axis=1)


def _nearest_town(ds: Dataset, sites: gpd.GeoDataFrame) -> np.ndarray:
    """The name of the town whose point is nearest each site (straight line)."""
    from netopt.distance import cost_matrix_km

    km = cost_matrix_km(sites, ds.towns.assign(geometry=ds.towns.geometry.representative_point()))
    return ds.towns["name"].to_numpy()[km.argmin(axis=1)]


def _nearest_branches(table: gpd.GeoDataFrame, branches: gpd.GeoDataFrame, roads: dict, own_limits: dict) -> None:
    """Today's branch nearest each site (km, name; with a travel time the quickest, its minutes and km) and how
    many of today's stand within its radius (or travel time)."""
    from netopt.distance import cost_matrix_km

    timed = "radius_min" in own_limits
    if len(branches) == 0:
        none = {"nearest_branch_min": np.nan} if timed else {}
        for column, value in {**none, "nearest_branch_km": np.nan, "nearest_branch_name": None,
                              "branches_within": 0}.items():
            table[column] = value
        return
    cost, limits = _site_costs(table, branches, roads, own_limits)
    nearest, rows = cost.argmin(axis=1), np.arange(len(table))
    if timed:
        table["nearest_branch_min"] = cost[rows, nearest]
    table["nearest_branch_km"] = (cost_matrix_km(table, branches, **roads) if timed else cost)[rows, nearest]
    table["nearest_branch_name"] = branches["name"].to_numpy()[nearest]
    table["branches_within"] = _within_counts(cost, limits)


def _against_rivals(ds: Dataset, table: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, bank: str,
                    points: gpd.GeoDataFrame, roads: dict, own_limits: dict, huff: dict) -> None:
    """The other banks' branches within each site's radius (or travel time), and the residents it wins from them
    (Huff; `huff`: MarketShare's keywords of travel minutes, or none for km)."""
    from netopt.models import MarketShare

    rivals = ds.branches[~bank_mask(ds.branches, bank)]
    if len(rivals) == 0:
        table["rival_branches_within"], table["won_wan"] = 0, np.nan
        return
    table["rival_branches_within"] = _within_counts(*_site_costs(table, rivals, roads, own_limits))
    today = sites.loc[sites["kind"] == "existing", "site_id"].tolist()
    share = MarketShare.from_geodataframes(points, sites, rivals, p=max(len(today), 1), **roads, **huff)
    before = share.objective_of(today) if today else 0.0
    after = share.objective_with_each(today, table["site_id"]) if today else pd.Series(
        [share.objective_of([site]) for site in table["site_id"]], index=table["site_id"])
    table["won_wan"] = (after.loc[table["site_id"]].to_numpy() - before) / 1e4
