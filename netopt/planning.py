"""Planning: candidate sites for the models, pilots, rollout batches, training hubs and plan comparisons."""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from netopt._errors import InfeasibleError, InputError, Problem, check_amount, check_columns, check_count, check_kind
from netopt._schema import DECISION_ZH
from netopt.distance import haversine_m
from netopt.io import PLAN_CHANGES, Dataset, bank_mask, check_read

if TYPE_CHECKING:
    from netopt.access import Accessibility
    from netopt.coverage import Coverage


def candidate_sites(ds: Dataset, bank: str | None = None, new_sites: gpd.GeoDataFrame | None = None
                    ) -> gpd.GeoDataFrame:
    """Today's branches (of one bank, or all) marked existing, plus the sites for new branches: every town point,
    or `new_sites` — the analyst's own candidates (io.read_candidates: name, points, optional site_id and
    open_cost_wan).

    Columns: site_id, name, kind ("existing" | "new"), county (a branch's or candidate's: the boundary it lies in,
    as in the coverage tables; a town's own), geometry (WGS84); with `new_sites`, open_cost_wan (万元: a
    candidate's own, NaN where it has none; 0 for today's branches), the column a model's open_cost may name.
    """
    from netopt.coverage import point_counties

    branches = ds.branches if bank is None else ds.of_bank(bank).branches
    existing = gpd.GeoDataFrame({
        "site_id": branches["branch_id"].astype(str).values, "name": branches["name"].values,
        "kind": "existing", "county": point_counties(ds, branches),
    }, geometry=branches.geometry.values, crs=ds.branches.crs)
    if new_sites is None:
        new = gpd.GeoDataFrame({
            "site_id": _unused(("new:" + ds.towns["town_id"].astype(str)).tolist(),
                               set(ds.branches["branch_id"].astype(str))), "name": ds.towns["name"].values,
            "kind": "new", "county": ds.towns["county"].values,
        }, geometry=ds.towns.geometry.representative_point().values, crs=ds.towns.crs)
    else:
        new = _own_candidates(ds, new_sites, set(existing["site_id"]))
        existing["open_cost_wan"] = 0.0  # nothing to open
    return gpd.GeoDataFrame(pd.concat([existing, new], ignore_index=True), crs=ds.branches.crs)


def _unused(ids: list[str], taken: set[str]) -> list[str]:
    """Town sites' ids, each not a branch's: a branch a plan opened at a town point (new:340103100000, in its
    network after, read back as today's) leaves the town's site new:340103100000#2."""
    def free(site_id: str) -> str:
        number = 2
        while f"{site_id}#{number}" in taken:
            number += 1
        return f"{site_id}#{number}"

    return [free(site_id) if site_id in taken else site_id for site_id in ids]


def _own_candidates(ds: Dataset, new_sites: gpd.GeoDataFrame, branch_ids: set[str]) -> gpd.GeoDataFrame:
    """The analyst's candidate sites as new sites; an id that is also a branch's is refused (a plan names sites
    by id). Sites without a site_id column are numbered S0001, S0002, … as io.read_candidates numbers them."""
    from netopt.coverage import point_counties

    check_kind(new_sites, gpd.GeoDataFrame, "new sites are a GeoDataFrame of named points: no.read_candidates(table) "
               "reads a file or a DataFrame with lon/lat (经度/纬度) columns into one", "candidates")
    missing = [] if "name" in new_sites.columns else ["name"]
    if missing or new_sites.crs is None:
        raise InputError("new sites must be a GeoDataFrame of points with a coordinate system and a name column "
                         "(and optionally site_id, as from io.read_candidates); missing: "
                         f"{', '.join(missing) or 'the coordinate system'}", file="candidates")
    new_sites = new_sites.to_crs(ds.branches.crs)
    _check_near_city(ds, new_sites)
    ids = (new_sites["site_id"].astype(str) if "site_id" in new_sites else
           pd.Series([f"S{i + 1:04d}" for i in range(len(new_sites))], index=new_sites.index))
    clash = ids[ids.isin(branch_ids) | ids.duplicated(keep=False)]
    if len(clash):
        raise InputError(f"candidate site ids used twice or also by a branch ({', '.join(clash.unique()[:3])}): "
                         "give each candidate an id of its own, and leave out those that are today's branches "
                         "(planning.todays_branches_among finds them)", file="candidates")
    costs = new_sites["open_cost_wan"] if "open_cost_wan" in new_sites else np.nan
    return gpd.GeoDataFrame({
        "site_id": ids.values, "name": new_sites["name"].values, "kind": "new",
        "county": point_counties(ds, new_sites), "open_cost_wan": np.asarray(costs, float),
    }, geometry=new_sites.geometry.values, crs=ds.branches.crs)


SAME_BRANCH_M = 100.0  # a candidate site with a branch's id this near it is that branch


def todays_branches_among(candidates: gpd.GeoDataFrame, branches: gpd.GeoDataFrame) -> np.ndarray:
    """Which candidate sites are today's branches: with a branch's id (site_id = branch_id) and within
    SAME_BRANCH_M of it — a plan's kept and closed branches, its map (KMZ) read back as candidate sites."""
    same = np.zeros(len(candidates), dtype=bool)
    if "site_id" not in candidates or candidates.empty or branches.empty:
        return same
    branch_at = pd.Series(np.arange(len(branches)), index=branches["branch_id"].astype(str).to_numpy())
    branch_at = branch_at[~branch_at.index.duplicated()]
    ids = candidates["site_id"].astype(str)
    named = np.flatnonzero(ids.isin(branch_at.index).to_numpy())
    if len(named):
        ours = candidates.geometry.iloc[named].to_crs(4326)
        theirs = branches.geometry.iloc[branch_at[ids.iloc[named]].to_numpy()].to_crs(4326)
        same[named] = haversine_m(ours.x.to_numpy(), ours.y.to_numpy(), theirs.x.to_numpy(),
                                  theirs.y.to_numpy()) <= SAME_BRANCH_M
    return same


def _check_near_city(ds: Dataset, new_sites: gpd.GeoDataFrame) -> None:
    """An InputError naming the candidate sites more than OUTSIDE_LIMIT_KM outside every county of the city (from
    every town where its counties have no boundaries; they were measured in the nearest county), as
    io.read_candidates refuses them."""
    from netopt.io import far_beyond, far_outside_mask

    far = np.flatnonzero(far_outside_mask(ds.counties, new_sites, ds.towns))
    if len(far):
        names = ", ".join(map(str, new_sites["name"].iloc[far[:3]]))
        raise InputError(Problem("candidates", f"more than {far_beyond(ds.counties)} (e.g. {names}): check the "
                                 "coordinates, or drop the rows",
                                 rows=tuple(int(i) for i in far)))


def existing_positions(candidates: gpd.GeoDataFrame) -> np.ndarray:
    """Row positions of the existing branches among the candidate sites."""
    return np.flatnonzero(candidates["kind"].to_numpy() == "existing")


REGION_TYPES = ("core", "county", "fringe")
COACHING_DAYS = {"hub": 1.0, "community": 0.5}


def check_plan_columns(plan, columns: tuple[str, ...], file: str = "plan") -> None:
    """An InputError when `plan` is not a table with `columns`, as assign_branch_types gives."""
    check_columns(plan, columns, file, "plan", "assign_branch_types")


def select_pilots(plan: pd.DataFrame, scores: pd.DataFrame | None = None, per_region: int = 2) -> pd.DataFrame:
    """Pilot branches: `per_region` in each region type (core, county, fringe), chosen to represent their group.

    Within each region type the pilots are the exact p-median (p = per_region) of the branches in the
    standardised space of their suitability scores, so each pilot stands for the branches most like it.
    Branches with the same scores are one point weighted by their number (thousands of branches have a few
    hundred distinct score rows); a group still too large to prove within PILOT_SECONDS keeps the best pilots
    found, and `attrs["pilot_gap"]` says by how much they may miss the optimum. `scores` defaults to the plan's own
    score and region columns.
    """
    check_count(per_region, "pilots per region type", "plan")
    check_plan_columns(plan, ("branch_id", "region_type") if scores is not None else ("branch_id", "region_type",
                                                                                      "score"))
    features = _pilot_features(plan, scores)
    picks, gap = [], 0.0
    for region in REGION_TYPES:
        members = np.flatnonzero(plan["region_type"].to_numpy() == region)
        if len(members) == 0:
            continue
        chosen, region_gap = _pilots_of(features[members], per_region)
        chosen, gap = members[chosen], max(gap, region_gap)
        group = plan.iloc[chosen].copy()
        group["pilot_region"] = region
        group["represents"] = _represented(features, members, chosen)
        picks.append(group)
    if not picks:
        raise InputError("the plan has no branches with a region type", file="plan")
    pilots = pd.concat(picks, ignore_index=True)
    pilots.attrs["pilot_gap"] = gap
    return pilots


PILOT_SECONDS = 60.0  # per region type; pilots need not be proven best, a meeting needs them in minutes


def _pilots_of(space: np.ndarray, count: int) -> tuple[np.ndarray, float]:
    """Positions of `count` branches (rows of `space`) forming the p-median of the group, and its gap (0: proven):
    identical rows are merged into one weighted point first; groups of at most `count` distinct rows take one
    branch of each, then others."""
    from netopt.models import PMedian
    from scipy.spatial.distance import cdist

    distinct, first, copies = np.unique(space, axis=0, return_index=True, return_counts=True)
    if len(distinct) <= count:
        rest = np.setdiff1d(np.arange(len(space)), first)
        return np.concatenate([np.sort(first), rest[:count - len(first)]]), 0.0
    result = PMedian.from_cost_matrix(cdist(distinct, distinct), count, weights=copies.astype(float),
                                      site_labels=list(range(len(distinct)))).solve(time_limit=PILOT_SECONDS)
    return first[np.array(result.selected, int)], float(result.gap)


def _pilot_features(plan: pd.DataFrame, scores: pd.DataFrame | None) -> np.ndarray:
    if scores is not None:
        numeric = scores.select_dtypes("number").fillna(0.5).to_numpy(float)
    else:
        numeric = plan[["score"]].to_numpy(float)
    spread = numeric.std(axis=0)
    return (numeric - numeric.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def _represented(features: np.ndarray, members: np.ndarray, chosen: np.ndarray) -> list[int]:
    """How many branches of the group each pilot is the closest representative of."""
    from scipy.spatial.distance import cdist

    nearest = cdist(features[members], features[chosen]).argmin(axis=1)
    return np.bincount(nearest, minlength=len(chosen)).tolist()


def rollout_batches(plan: pd.DataFrame, sizes: tuple[int, ...] = (20, 16), gain: pd.Series | None = None) -> pd.DataFrame:
    """Split the branches whose type changes into batches of the given sizes, largest gain first.

    `gain` (default: the plan's score) orders the changes; branches that keep their type are not batched;
    changes beyond the total of `sizes` are listed with batch 0 (not scheduled)."""
    if not isinstance(sizes, (tuple, list, np.ndarray, pd.Series)) or not len(sizes):
        raise InputError(f"give at least one rollout batch size, e.g. sizes=(20, 16); got {sizes!r}", file="plan")
    for size in sizes:
        check_count(size, "a rollout batch size", "plan")
    check_plan_columns(plan, ("branch_id", "type", "current_type") + (("score",) if gain is None else ()))
    changes = plan[plan["current_type"].notna() & (plan["current_type"] != plan["type"])].copy() \
        if plan["current_type"].notna().any() else plan.copy()
    changes["gain"] = (gain if gain is not None else plan["score"]).reindex(changes.index).to_numpy()
    if gain is not None and pd.to_numeric(changes["gain"], errors="coerce").isna().any():
        raise InputError("gain needs a number for every branch of the plan, indexed as the plan is", file="plan")
    changes = changes.sort_values("gain", ascending=False).reset_index(drop=True)
    batch = np.zeros(len(changes), int)
    start = 0
    for number, size in enumerate(sizes, start=1):
        batch[start:start + size] = number
        start += size
    changes["batch"] = batch
    return changes


HUB_CAPACITY = 8  # community branches one hub coaches, by default


def coaching_counts(plan: pd.DataFrame) -> tuple[int, int]:
    """How many hubs (comprehensive branches) and community branches to coach a type plan has."""
    return tuple(int((plan["type"] == kind).sum()) for kind in ("comprehensive", "community"))


def hub_capacity_needed(plan: pd.DataFrame, capacity: int = HUB_CAPACITY) -> int:
    """`capacity`, or the least per hub that coaches every community branch of the plan from its comprehensive
    ones, where that is more."""
    hubs, members = coaching_counts(plan)
    return max(capacity, -(-members // hubs)) if hubs else capacity


def training_hubs(ds: Dataset, plan: pd.DataFrame, capacity: int = HUB_CAPACITY, max_minutes: float | None = None,
                  speed_kmh: float | dict[str, float] = 30.0, detour_factor: float = 1.3, graph=None
                  ) -> pd.DataFrame:
    """Assign every community branch to a central sub-branch (a comprehensive branch) for head-office coaching.

    An exact capacitated assignment (a transportation problem: each community branch to one hub) minimising total
    travel minutes, driving, as analyze_coverage(radius_min=...) measures them (by road when a road `graph` is
    given: the roads' speeds, the legs to and from them at `speed_kmh`; else straight line x `detour_factor` at
    `speed_kmh`, one or one per region type, {"core": 20, "county": 40}, where the community branch stands); each
    hub coaches at most `capacity` community branches, and no trip may exceed `max_minutes` (no limit by default).
    attrs["travel"] says how the trips were measured.
    Adds the coaching days of the plan: 1 day per hub, half a day per community branch. A plan without
    community branches has nobody to coach, one without comprehensive branches nobody to coach them: an empty
    table (attrs["note"] says why).
    """
    from netopt.coverage import place_speeds
    from netopt.distance import check_speeds, cost_matrix_minutes
    from netopt.models._transport import assign_within_capacity

    check_count(capacity, "the hub capacity (community branches one hub coaches)", "plan")
    check_amount(max_minutes, "max_minutes (the longest trip to a hub)", "plan", "minutes")
    check_speeds(speed_kmh, 4.5, detour_factor, None, "plan")
    check_plan_columns(plan, ("branch_id", "type"))
    branches = ds.branches.set_index("branch_id")
    hubs = plan.loc[plan["type"] == "comprehensive", "branch_id"].tolist()
    members = plan.loc[plan["type"] == "community", "branch_id"].tolist()
    if not members:
        return _no_coaching("no community branches in the plan: nobody to coach (e.g. --min-share community=0.4)")
    if not hubs:
        return _no_coaching(f"no comprehensive branch in the plan to coach its {len(members)} community branches: "
                            "ask the type plan for some — mix={'comprehensive': (0.2, None)} or "
                            "comprehensive_per_county=True (CLI: --min-share comprehensive=0.2 or "
                            "--comprehensive-per-county)")
    if len(members) > capacity * len(hubs):
        raise InfeasibleError(f"no hub assignment: {len(members)} community branches need coaching but "
                              f"{len(hubs)} hubs x {capacity} coach at most {capacity * len(hubs)}; a capacity of "
                              f"{-(-len(members) // len(hubs))} or more fits, or more comprehensive branches to "
                              "coach from")
    hub_frame, member_frame = (_with_counties(ds, branches.loc[ids].reset_index()) for ids in (hubs, members))
    minutes = cost_matrix_minutes(member_frame, hub_frame, "euclidean" if graph is None else "network", graph,
                                  speed_kmh=place_speeds(ds, member_frame, speed_kmh), detour_factor=detour_factor)
    if max_minutes is not None:
        as_listed = minutes.round(1)  # a trip is within the limit as the table gives trips, to 0.1 minute
        _check_trips_within(as_listed, max_minutes, member_frame)
        minutes = np.where(as_listed <= max_minutes, minutes, np.inf)
    hub_of = assign_within_capacity(minutes, np.full(len(hubs), capacity))
    if hub_of is None:
        within = f"within {max_minutes:g} minutes" if max_minutes is not None else "by road"
        raise InfeasibleError(f"no hub assignment: {len(members)} community branches cannot each reach a hub with "
                              f"room {within}, {capacity} per hub (raise capacity or max_minutes)")
    table = pd.DataFrame({"branch_id": members, "hub_id": np.asarray(hubs, dtype=object)[hub_of],
                          "minutes": minutes[np.arange(len(members)), hub_of].round(1)})
    table["coaching_days"] = COACHING_DAYS["community"]
    located = pd.concat([member_frame, hub_frame]).set_index("branch_id")
    table = _named(_named(table, located, "branch_id", ""), located, "hub_id", "hub_")[HUB_COLUMNS]
    table.attrs["hub_days"] = COACHING_DAYS["hub"] * table["hub_id"].nunique()
    table.attrs["total_days"] = table.attrs["hub_days"] + table["coaching_days"].sum()
    table.attrs["travel"] = _trip_words(speed_kmh, detour_factor, graph is not None)
    return table


def _with_counties(ds: Dataset, branches: pd.DataFrame) -> pd.DataFrame:
    """The branches each with a county: the data's, else (where it gives none) the boundary each lies in."""
    from netopt.coverage import point_counties

    branches = branches.assign(county=branches["county"] if "county" in branches else pd.NA)
    blank = branches["county"].isna().to_numpy()
    if blank.any():
        branches.loc[blank, "county"] = point_counties(ds, branches[blank])
    return branches


def _check_trips_within(minutes: np.ndarray, max_minutes: float, members: pd.DataFrame) -> None:
    """An InfeasibleError naming the community branch farthest from every hub (`members`' row of it: branch_id,
    name, county) when some branch has no hub within `max_minutes`."""
    nearest = minutes.min(axis=1)
    if (nearest <= max_minutes).all():
        return
    far = members.iloc[int(np.argmax(nearest))]
    count = int((nearest > max_minutes).sum())
    raise InfeasibleError(f"no hub assignment: {count} community branch(es) have no comprehensive branch within "
                          f"{max_minutes:g} minutes, the farthest {far['name']} ({far['branch_id']}, {far['county']}) "
                          f"{nearest.max():.0f} min from its nearest hub; a longest trip of "
                          f"{np.ceil(nearest.max()):.0f} minutes or more reaches every one")


def _trip_words(speed_kmh: float | dict[str, float], detour_factor: float, by_road: bool) -> str:
    """How the coaching trips were measured, for the plan's console and notes."""
    speeds = (", ".join(f"{kind} {speed:g}" for kind, speed in speed_kmh.items())
              if isinstance(speed_kmh, dict) else f"{speed_kmh:g}")
    if by_road:
        return f"driven by road at the roads' speeds, {speeds} km/h to and from the road"
    return f"driven at {speeds} km/h, straight line x {detour_factor:g}"


HUB_COLUMNS = ["branch_id", "name", "county", "hub_id", "hub_name", "hub_county", "minutes", "coaching_days"]


def _named(table: pd.DataFrame, branches: pd.DataFrame, column: str, prefix: str) -> pd.DataFrame:
    """`table` with the name and county of the branch in `column` (branches indexed by branch_id, with a county
    each), prefixed."""
    known = branches.reindex(table[column])
    return table.assign(**{f"{prefix}name": known["name"].to_numpy(), f"{prefix}county": known["county"].to_numpy()})


def _no_coaching(note: str) -> pd.DataFrame:
    """The hubs table of a plan without community branches or without hubs: empty, with its columns, days and a
    note saying why."""
    table = pd.DataFrame({column: [] for column in HUB_COLUMNS})
    table.attrs.update(hub_days=0.0, total_days=0.0, note=note)
    return table


def _first_day(start) -> pd.Timestamp:
    """The date a schedule starts (today without `start`), or an InputError naming what was given."""
    if start is None or (isinstance(start, str) and not start.strip()):
        return pd.Timestamp.today().normalize()
    try:
        day = None if isinstance(start, numbers.Number) else pd.Timestamp(start)  # not 0 as 1970-01-01
    except (ValueError, TypeError):
        day = None
    if day is None or pd.isna(day):
        raise InputError(f"start must be a date such as 2027-03-01, got {start!r}", file="plan")
    return day


def coaching_calendar(hubs: pd.DataFrame, start: str | None = None) -> pd.DataFrame:
    """Head-office coaching dates on working days: each central sub-branch (1 day), then its community
    branches (half a day each, two per day), hub by hub; each branch named where `hubs` names it
    (training_hubs' name and hub_name)."""
    day = _first_day(start)
    names = _branch_names(hubs)
    rows = []
    for hub, members in hubs.groupby("hub_id", sort=True)["branch_id"]:
        day = _working_day(day)
        rows.append({"date": day, "session": "full day", "branch_id": hub, "name": names.get(hub),
                     "role": "central sub-branch 中心支行"})
        day = _working_day(day + pd.Timedelta(days=1))
        for k, branch in enumerate(members):
            if k and k % 2 == 0:
                day = _working_day(day + pd.Timedelta(days=1))
            rows.append({"date": day, "session": "morning" if k % 2 == 0 else "afternoon", "branch_id": branch,
                         "name": names.get(branch), "role": "community branch 社区网点"})
        day = day + pd.Timedelta(days=1)
    return pd.DataFrame(rows, columns=["date", "session", "branch_id", "name", "role"])


def _branch_names(hubs: pd.DataFrame) -> dict:
    """Branch id → name of the branches and hubs of a hubs table (none where it has no names)."""
    names = {}
    for column, name in (("branch_id", "name"), ("hub_id", "hub_name")):
        if name in hubs:
            names.update(zip(hubs[column], hubs[name]))
    return names


def _working_day(day: pd.Timestamp) -> pd.Timestamp:
    while day.day_of_week >= 5:
        day += pd.Timedelta(days=1)
    return day


def visit_schedule(targets: list, per_batch: int = 10, days_apart: int = 30, start: str | None = None) -> pd.DataFrame:
    """Visits to `targets` in batches of `per_batch`, `days_apart` days apart (e.g. 30 targets: 3 batches)."""
    check_count(per_batch, "visits per batch", "plan")
    check_count(days_apart, "days between batches", "plan")
    first = _first_day(start)
    batch = np.arange(len(targets)) // per_batch
    return pd.DataFrame({"target": targets, "batch": batch + 1,
                         "date": [first + pd.Timedelta(days=int(b) * days_apart) for b in batch]})


def compare_plan(before: pd.Series, plan: pd.DataFrame) -> pd.DataFrame:
    """Type mix before and after a plan, in branches and shares."""
    old = before.fillna("unknown").value_counts()
    new = plan["type"].value_counts()
    table = pd.DataFrame({"before": old, "after": new}).fillna(0).astype(int)
    table["before_share"] = table["before"] / max(table["before"].sum(), 1)
    table["after_share"] = table["after"] / max(table["after"].sum(), 1)
    return table.rename_axis("type").reset_index()


def sites_as_branches(sites: gpd.GeoDataFrame, selected: list) -> gpd.GeoDataFrame:
    """The chosen candidate sites as a branches table (existing ones keep their id; new ones are 'new:<town>')."""
    chosen = sites[_chosen(sites, selected)]
    return gpd.GeoDataFrame({
        "branch_id": chosen["site_id"].values, "name": chosen["name"].values, "bank": pd.NA, "type": pd.NA,
        "county": pd.NA, "address": pd.NA,
    }, geometry=chosen.geometry.values, crs=sites.crs)


PLAN_STATUS = {"kept": "kept 保留", "new": "new 新设", "other": "other bank 他行"}


def _chosen(sites: gpd.GeoDataFrame, selected: list, also: set[str] = frozenset()) -> pd.Series:
    """Which of `sites` a plan opens (`selected`: site ids, as a model's result gives them); an InputError naming
    any id that is no site's (nor one of `also`): a plan of other candidate sites, or labels of another model."""
    check_kind(selected, (list, tuple, set, np.ndarray, pd.Index, pd.Series), "a plan's sites are a list of site "
               "ids, as a model's result.selected gives them", "plan")
    ids = set(map(str, selected))
    chosen = sites["site_id"].astype(str).isin(ids)
    strays = sorted(ids - set(sites["site_id"].astype(str)) - also)
    if strays:
        raise InputError(f"the plan names {len(strays)} site(s) that are not among the candidate sites (e.g. "
                         f"{', '.join(strays[:3])}): give the sites the model was built from", file="plan")
    return chosen


def planned_new(branches: gpd.GeoDataFrame) -> np.ndarray:
    """Which branches a network after a plan marks new: its plan column says new 新设 (as network_after writes it,
    or as an analyst edits it: 新设, new, New)."""
    if "plan" not in branches:
        return np.zeros(len(branches), bool)
    words = branches["plan"].astype("string").str.strip().str.lower()
    return words.isin([PLAN_STATUS["new"], "新设", "new"]).fillna(False).to_numpy(bool)


def network_after(ds: Dataset, sites: gpd.GeoDataFrame, selected: list, bank: str | None = None) -> gpd.GeoDataFrame:
    """The city's branches once the plan `selected` (site ids of candidate_sites(ds, bank, ...)) is carried out, as
    a branches table io.read_branches reads back: the other banks' branches as today, the bank's kept ones with
    every column they had (the county each lies in where the data gives none), then each new site as a branch —
    its site id and name, the bank's name (where the planned branches name one bank), its county, a candidate's
    address. Column plan 方案: kept 保留, new 新设 or other bank 他行 (PLAN_STATUS)."""
    ours = np.ones(len(ds.branches), bool) if bank is None else bank_mask(ds.branches, bank)
    _chosen(sites, selected, also=set(ds.branches["branch_id"].astype(str)))  # today's branches are kept by id
    kept = ours & ds.branches["branch_id"].astype(str).isin(set(selected)).to_numpy()
    today = _with_counties(ds, ds.branches[kept | ~ours]).assign(plan=np.where(kept[kept | ~ours], PLAN_STATUS["kept"],
                                                             PLAN_STATUS["other"]))
    new = sites[(sites["kind"] == "new") & sites["site_id"].isin(set(selected))]
    names = ds.branches.loc[ours, "bank"].dropna().astype(str).unique() if "bank" in ds.branches else []
    opened = sites_as_branches(new, new["site_id"].tolist()).to_crs(ds.branches.crs).assign(
        bank=names[0] if len(names) == 1 else pd.NA, county=new["county"].to_numpy(),
        address=new["address"].to_numpy() if "address" in new else pd.NA, plan=PLAN_STATUS["new"])
    return gpd.GeoDataFrame(pd.concat([today, opened], ignore_index=True), crs=ds.branches.crs)


MOVE_COLUMNS = ["action", "from_id", "from_name", "from_county", "to_id", "to_name", "to_county", "distance_km",
                "nearest_open_km", "nearest_open_name"]


def relocation_moves(sites: gpd.GeoDataFrame, selected: list, same_county: bool = False,
                     distance: str = "euclidean", graph=None) -> pd.DataFrame:
    """A plan's changes to today's network as moves 迁址: each closed branch paired with a new site so that the
    moves' total distance is least (with `same_county`, only pairs within one county); closures or openings left
    over are 'close' / 'open' rows. Distances are straight-line km, or road km with distance="network" and a
    road `graph` (as in the models).

    `sites`: candidate sites as from candidate_sites (site_id, name, kind, county, geometry); `selected`: the
    plan's open site ids. Columns: action ('move' | 'close' | 'open'), from_id, from_name, from_county, to_id,
    to_name, to_county, distance_km (moves only), and for each closed branch the distance to the plan's nearest
    open site and its name (where its customers can go); moves first, shortest first.
    """
    from netopt.projection import metric_crs

    _check_sites(sites)
    is_open = _chosen(sites, selected)
    closed = sites[(sites["kind"] == "existing") & ~is_open]
    opened = sites[(sites["kind"] == "new") & is_open]
    crs, roads = metric_crs(sites), {"distance": distance, "graph": graph}
    km = _km_between(closed, opened, crs, roads)
    rows, cols = _nearest_pairs(km, closed["county"].to_numpy(), opened["county"].to_numpy(), same_county)
    moves = pd.DataFrame({"action": "move", **_site_side(closed.iloc[rows], "from"),
                          **_site_side(opened.iloc[cols], "to"), "distance_km": km[rows, cols]})
    moves = moves.sort_values("distance_km", kind="stable")
    left_closed = closed.drop(closed.index[rows])
    left_opened = opened.drop(opened.index[cols])
    table = pd.concat([moves, pd.DataFrame({"action": "close", **_site_side(left_closed, "from")}),
                       pd.DataFrame({"action": "open", **_site_side(left_opened, "to")})], ignore_index=True)
    table = table.reindex(columns=MOVE_COLUMNS)
    plan = sites[is_open]
    to_plan = _km_between(sites.set_index("site_id").loc[table["from_id"].dropna()], plan, crs, roads)
    nearest_km, nearest_name = np.full(len(table), np.nan), np.full(len(table), None, dtype=object)
    if to_plan.size:
        has_from = table["from_id"].notna().to_numpy()
        nearest_km[has_from] = to_plan.min(axis=1)
        nearest_name[has_from] = plan["name"].to_numpy()[to_plan.argmin(axis=1)]
    return table.assign(nearest_open_km=nearest_km, nearest_open_name=nearest_name)


def _nearest_pairs(km: np.ndarray, from_county: np.ndarray, to_county: np.ndarray,
                   same_county: bool) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (row, column) of a distance table with the least total distance (an assignment problem),
    over the whole table or within each county."""
    from scipy.optimize import linear_sum_assignment

    groups = ([(np.arange(km.shape[0]), np.arange(km.shape[1]))] if not same_county else
              [(np.flatnonzero(from_county == c), np.flatnonzero(to_county == c)) for c in pd.unique(from_county)])
    rows, cols = [np.zeros(0, int)], [np.zeros(0, int)]
    for members, targets in groups:
        if len(members) and len(targets):
            r, c = linear_sum_assignment(km[np.ix_(members, targets)])
            rows.append(members[r]); cols.append(targets[c])
    return np.concatenate(rows), np.concatenate(cols)


def closures_near_others(model, sites: gpd.GeoDataFrame, selected: list, distance: str = "euclidean",
                         graph=None) -> list:
    """Among plans as good as `selected`, one whose closed branches have open sites nearer: a closed branch
    (farthest from an open site first) is swapped for a kept branch of the same county when the total
    distance (straight line, or by road with distance="network" and `graph`) from the closed branches to their
    nearest open site falls and the model's objective (model.objective_of) stays as good.

    Where a model is indifferent between branches (several within reach of the same towns), this closes
    those whose customers have the nearest alternative. Swaps stay within a county and between existing
    branches, never closing the model's fixed sites nor opening its forbidden ones, and only where the new
    plan still meets the model's rule rows (SiteRules.admits: county limits, the new-branch limit, a budget
    whatever each closure saves, a minimum spacing).
    """
    from netopt.projection import metric_crs

    _check_sites(sites)
    if getattr(model, "p", None) is None:
        raise InputError(f"closures_near_others is for models with p sites (MCLP, PMedian, PCenter, MarketShare "
                         f"with p), not {type(model).__name__} without p: a swap must keep what the model requires",
                         file="model")
    ids = sites["site_id"].to_numpy()
    is_open = np.isin(ids, list(selected))
    existing = (sites["kind"] == "existing").to_numpy()
    may_close = existing.copy()
    may_close[model.rules.fixed] = False
    county = sites["county"].astype(str).to_numpy()
    km = _km_between(sites, sites, metric_crs(sites), {"distance": distance, "graph": graph})
    np.fill_diagonal(km, np.inf)
    sign = -1.0 if model.maximise else 1.0  # compare as minimisation
    best = sign * model.objective_of(ids[is_open])

    def closure_km(plan: np.ndarray) -> float:
        return float(km[existing & ~plan][:, plan].min(axis=1, initial=np.inf).sum())

    closed = np.flatnonzero(existing & ~is_open & model.rules.allowed)
    for c in closed[np.argsort(-km[closed][:, is_open].min(axis=1, initial=np.inf), kind="stable")]:
        kept = np.flatnonzero(may_close & is_open & (county == county[c]))
        own = [km[k, is_open & (np.arange(len(ids)) != k)].min(initial=np.inf) for k in kept]
        current = closure_km(is_open)
        for k in kept[np.argsort(own, kind="stable")]:
            trial = is_open.copy()
            trial[[k, c]] = [False, True]
            if closure_km(trial) < current - 1e-9 and model.rules.admits(trial):
                value = sign * model.objective_of_swap(ids[is_open], ids[k], ids[c])
                if value <= best + 1e-9 * max(1.0, abs(best)):
                    is_open, best = trial, min(best, value)
                    break
    return ids[is_open].tolist()


SITE_COLUMNS = ("site_id", "name", "kind", "county")


def plan_layers(sites: gpd.GeoDataFrame, selected: list, assignment: pd.DataFrame | None = None,
                demand: gpd.GeoDataFrame | None = None, moves: pd.DataFrame | None = None
                ) -> dict[str, gpd.GeoDataFrame]:
    """A plan as map layers (WGS84; io.write_geopackage writes them for a GIS): "sites", today's branches and the
    plan's new ones with their columns and decision (keep, open, close; decision_zh 保留, 新设, 撤并); with a
    model's `assignment` and the `demand` it was built from, "assignment", a line from each demand point (a town,
    a grid cell's centre) to the site serving it, with the assignment's columns; with `moves`
    (relocation_moves), "moves", a line from each closed branch to the new site replacing it."""
    _check_sites(sites)
    is_open = _chosen(sites, selected)
    if (assignment is None) != (demand is None):
        raise InputError("an assignment is drawn from the demand the model was built from: give both or neither",
                         file="plan_layers")
    if assignment is not None:
        check_columns(assignment, ("demand", "site"), "plan_layers", "the assignment", "a model's result.assignment")
        check_kind(demand, gpd.GeoDataFrame, "demand is the GeoDataFrame the model was built from", "plan_layers")
    shown = sites[(sites["kind"] == "existing") | is_open].to_crs(4326)
    decision = np.where(shown["kind"] != "existing", "open", np.where(is_open[shown.index], "keep", "close"))
    layers = {"sites": shown.assign(decision=decision, decision_zh=pd.Series(decision).map(DECISION_ZH).to_numpy())}
    points = places_by(sites.to_crs(4326), "site_id")
    if assignment is not None and demand is not None:
        layers["assignment"] = line_layer(assignment, _demand_points(demand), "demand", points, "site")
    if moves is not None:
        layers["moves"] = move_layer(moves, points)
    return layers


def move_layer(moves: pd.DataFrame, places: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """The moves of relocation_moves as a map layer: a line from each closed branch to the new site replacing it
    (`places`: the sites' points by site id)."""
    check_columns(moves, ("action", "from_id", "to_id"), "move_layer", "moves", "relocation_moves")
    return line_layer(moves[moves["action"] == "move"], places, "from_id", places, "to_id")




def _demand_points(demand: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """A model's demand points (towns, or a point within each grid cell), WGS84, by the labels the model gave
    them (models.median._ids: town_id, else id …)."""
    from netopt.models.median import _ids

    labels = _ids(demand, None)
    if labels is None:
        raise InputError("demand has none of the columns a model labels its demand points by (town_id, id, name)",
                         file="plan_layers")
    points = demand.geometry.to_crs(4326).representative_point()
    return gpd.GeoSeries(points.to_numpy(), index=pd.Index(labels), crs=4326).groupby(level=0).first()


def places_by(frame: gpd.GeoDataFrame, column: str) -> gpd.GeoSeries:
    """Each row's geometry by its `column` (an id; the first row's where ids repeat), for point_layer and
    line_layer."""
    check_kind(frame, gpd.GeoDataFrame, "places are a GeoDataFrame (towns, branches, candidate sites …)", "places_by")
    _check_column_name(frame, column, "places_by")
    return frame.drop_duplicates(column).set_index(column).geometry


def _check_column_name(table, column, caller: str) -> None:
    """An InputError unless `column` is the name of a column of `table`."""
    check_kind(column, str, "a column is named by its header", caller)
    check_columns(table, (column,), caller, "the table", "the table you give")


def _check_places(places, caller: str) -> None:
    """An InputError unless `places` is a GeoSeries with a coordinate system (places_by's)."""
    if not isinstance(places, gpd.GeoSeries) or places.crs is None:
        raise InputError("places are a GeoSeries by id with a coordinate system, as planning.places_by gives them",
                         file=caller)


def point_layer(table: pd.DataFrame, places: gpd.GeoSeries, column: str) -> gpd.GeoDataFrame:
    """`table` as a map layer: each row at the place (`places`, points by id) its `column` names (none where it
    names no place)."""
    _check_column_name(table, column, "point_layer")
    _check_places(places, "point_layer")
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry=places.reindex(table[column].to_numpy()).to_numpy(),
                            crs=places.crs)


def line_layer(table: pd.DataFrame, starts: gpd.GeoSeries, start: str, ends: gpd.GeoSeries, end: str
               ) -> gpd.GeoDataFrame:
    """`table` as a map layer (WGS84): a line from each row's `start` place to its `end` place (`starts`, `ends`:
    places by id, a point within each area; none where a row names a place unknown)."""
    for column in (start, end):
        _check_column_name(table, column, "line_layer")
    for places in (starts, ends):
        _check_places(places, "line_layer")
    starts, ends = starts.to_crs(4326).representative_point(), ends.to_crs(4326).representative_point()
    a = starts.reindex(table[start].to_numpy()).to_numpy()
    b = ends.reindex(table[end].to_numpy()).to_numpy()
    known = ~(shapely.is_missing(a) | shapely.is_missing(b))
    lines = np.full(len(table), None, dtype=object)
    lines[known] = shapely.linestrings(np.stack([np.column_stack([shapely.get_x(a[known]), shapely.get_y(a[known])]),
                                                 np.column_stack([shapely.get_x(b[known]), shapely.get_y(b[known])])],
                                                axis=1))
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry=lines, crs=4326)


def _check_sites(sites) -> None:
    """An InputError unless `sites` is a candidate-sites table as from candidate_sites."""
    missing = [c for c in SITE_COLUMNS if c not in getattr(sites, "columns", ())]
    if missing or not isinstance(sites, gpd.GeoDataFrame) or sites.crs is None:
        raise InputError(f"sites must be a GeoDataFrame with a coordinate system and the columns "
                         f"{', '.join(SITE_COLUMNS)} (as from candidate_sites); missing: "
                         f"{', '.join(missing) or 'the coordinate system'}", file="sites")


def _km_between(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, crs, roads: dict | None = None) -> np.ndarray:
    """km from each site of `a` to each of `b` (a len(a) x len(b) array): straight line in `crs`, or by road
    with roads={"distance": "network", "graph": ...} (distance.cost_matrix_km)."""
    from netopt.distance import cost_matrix_km
    from netopt.projection import xy_metres

    if a.empty or b.empty:
        return np.zeros((len(a), len(b)))
    if roads and roads.get("distance", "euclidean") != "euclidean":
        return cost_matrix_km(a, b, **roads)
    gaps = xy_metres(a, crs)[:, None, :] - xy_metres(b, crs)[None, :, :]
    return np.hypot(gaps[..., 0], gaps[..., 1]) / 1000.0


def _site_side(frame: pd.DataFrame, side: str) -> dict[str, np.ndarray]:
    return {f"{side}_id": frame["site_id"].to_numpy(), f"{side}_name": frame["name"].to_numpy(),
            f"{side}_county": frame["county"].to_numpy()}


def compare_networks(ds: Dataset, new_branches: gpd.GeoDataFrame, today: gpd.GeoDataFrame | None = None,
                     **coverage_options) -> pd.DataFrame:
    """The diagnosis indicators by region type for today's network (default: all of ds.branches) and for a
    new one, side by side.

    Rows: region types and the city; columns: before/after coverage %, branches, 万人 per branch and branches
    per 100 km², plus the core-minus-county coverage gap (pp) in `attrs`.
    """
    from netopt.coverage import analyze_coverage

    before = analyze_coverage(Dataset(ds.counties, ds.towns, ds.branches if today is None else today),
                              **coverage_options)
    after = analyze_coverage(Dataset(ds.counties, ds.towns, new_branches), **coverage_options)
    return compare_coverage(before, after)


def town_reach(ds: Dataset, sites: gpd.GeoDataFrame, radius_km: float | dict | None = None,
               distance: str = "euclidean", graph=None, demand: gpd.GeoDataFrame | None = None,
               radius_min: float | dict | None = None, mode: str | dict = "drive", **speeds) -> sp.csr_matrix:
    """0/1 towns (or `demand`'s points, e.g. a population grid's cells) x sites: the sites within each one's
    radius — one number, or one per region type as analyze_coverage takes it, e.g. {"core": 1.2, "county": 3.5}
    —, straight line or by road; or, with `radius_min` (and `mode`, one or one per region type) instead, within
    that travel time. `speeds`: speed_kmh (one or per region type), walk_speed_kmh, detour_factor, as
    analyze_coverage takes them."""
    from netopt.models.covering import as_coverage

    return as_coverage(town_pair_costs(ds, sites, radius_km, distance, graph, demand, radius_min, mode, speeds))


def town_pair_costs(ds: Dataset, sites: gpd.GeoDataFrame, radius_km, distance: str, graph, demand, radius_min, mode,
                    speeds: dict) -> sp.csr_matrix:
    """town_reach's pairs with their km (or minutes, with `radius_min`): a stored entry, even 0, is a pair."""
    from netopt.coverage import demand_limits, demand_modes, speeds_per_point
    from netopt.models.covering import reach_from_geodataframes

    points = ds.towns if demand is None else demand
    per_point = {key: None if limit is None else demand_limits(ds, limit, demand, unit)
                 for key, limit, unit in (("radius_km", radius_km, "km"), ("radius_min", radius_min, "min"))}
    return reach_from_geodataframes(points, sites, distance=distance, graph=graph, mode=demand_modes(ds, mode, demand),
                                    **per_point, **speeds_per_point(ds, speeds, demand))


def covered_towns_rows(ds: Dataset, sites: gpd.GeoDataFrame, radius_km: float | dict | None = None,
                       distance: str = "euclidean", graph=None, radius_min: float | dict | None = None,
                       mode: str | dict = "drive", **speeds) -> tuple[sp.csr_matrix, np.ndarray]:
    """The must_reach rule that leaves no town covered today without a branch (不新增服务空白乡镇): for each town
    with residents within radius_km of one of today's sites (sites kind "existing"), a 0/1 row of the sites
    within its reach; and those towns' positions in ds.towns. `radius_km`: one number, or one per region type
    as analyze_coverage takes it, e.g. {"core": 1.2, "county": 3.5}; or `radius_min` (and `mode`, `speeds`, as
    town_reach takes them), a travel time. Pass the rows as a model's must_reach=."""
    reach = town_reach(ds, sites, radius_km, distance, graph, radius_min=radius_min, mode=mode, **speeds)
    covered = (reach @ (sites["kind"] == "existing").to_numpy(float) > 0) & \
        (ds.towns["population"].to_numpy(float) > 0)
    towns = np.flatnonzero(covered)
    return reach[towns], towns


def suggest_new_sites(ds: Dataset, radius_km: float | dict | None = None, per_county: int | None = None,
                      distance: str = "euclidean", graph=None, time_limit: float | None = None,
                      threads: int | None = None, new_sites: gpd.GeoDataFrame | None = None,
                      demand: gpd.GeoDataFrame | None = None, radius_min: float | dict | None = None,
                      mode: str | dict = "drive", full_km: float | dict | None = None,
                      full_min: float | dict | None = None, **speeds) -> pd.DataFrame:
    """Where new branches would cover most, county by county 建议新设网点: for each county, at most `per_county` of
    its town points (or of `new_sites`, the analyst's candidates as candidate_sites takes them) which, opened
    beside every one of today's branches (ds.branches), bring the most of the county's residents within the
    radius (one radius or one per region type; residents at the town points, or at `demand`'s points, e.g. the
    diagnosis's population grid) — an exact MCLP per county, no site kept that adds nothing. Columns: county,
    rank (by adds_covered_wan, the residents only that site brings within reach, 万人), site_id (the town's code,
    or the candidate's id), name, adds_covered_wan, reaches (the towns whose residents only it brings within
    reach), the county's residents covered today and with all its suggested sites, covered_wan_today /
    covered_wan_after (万人), and the site's point (a GeoDataFrame); a county with nothing to gain has no row.
    With `radius_min` (and `mode`, `speeds`, as town_reach takes them) instead of radius_km: the residents within
    that travel time. With `full_km` (or `full_min`; one, or one per region type, as analyze_coverage takes it):
    gradual coverage 按距离折算 — the residents counted by distance, as MCLP's full radius counts them, so
    adds_covered_wan and covered_wan_today / _after are residents counted by distance."""
    from netopt.models.covering import as_coverage

    check_count(per_county, "per_county", "suggest_new_sites")
    sites, points = candidate_sites(ds, new_sites=new_sites), ds.towns if demand is None else demand
    limits = gradual_limits(ds, points, demand, (radius_km, radius_min), (full_km, full_min), "suggest_new_sites")
    costs = town_pair_costs(ds, sites, radius_km, distance, graph, demand, radius_min, mode, speeds)
    reach = as_coverage(costs)
    pop = points["population"].to_numpy(float)
    places = (points["town"] if demand is not None and "town" in points else points["name"]).astype(str).to_numpy()
    tables = []
    for county in points["county"].dropna().unique():
        towns = np.flatnonzero((points["county"] == county).to_numpy() & (pop > 0))
        gradual = None if limits is None else (costs[towns], limits[0][towns], limits[1][towns], limits[2])
        built = _county_model(reach[towns], pop[towns], sites, county, per_county, gradual)
        if built is not None:
            model, today = built
            result = model.solve(time_limit=time_limit, threads=threads)
            tables.append(_county_suggestions(model, result.selected if result.has_plan else today, today, sites,
                                              county, places[towns]))
    table = (pd.concat(tables, ignore_index=True) if tables else
             gpd.GeoDataFrame(columns=SUGGESTION_COLUMNS, geometry=[], crs=sites.crs))
    if new_sites is None:  # town points: their town's code (candidate_sites lists the towns in order)
        town_of = dict(zip(sites.loc[sites["kind"] == "new", "site_id"], ds.towns["town_id"]))
        table["site_id"] = table["site_id"].map(town_of)
    suggested = gpd.GeoDataFrame(table[[*SUGGESTION_COLUMNS, "geometry"]], crs=sites.crs)
    suggested.attrs[COUNTED_BY_DISTANCE] = limits is not None  # the reports' words follow it
    return suggested


COUNTED_BY_DISTANCE = "counted_by_distance"  # suggest_new_sites' attrs key: its residents counted by distance


def counted_by_distance(suggested: pd.DataFrame) -> bool:
    """Whether suggest_new_sites' table counts residents by distance (gradual coverage, a full radius given)."""
    return bool(suggested.attrs.get(COUNTED_BY_DISTANCE, False))


def suggested_title(suggested: pd.DataFrame) -> str:
    """The suggested new branches' heading on slides and in reports, saying when they are counted by distance."""
    return "建议新设网点 Where new branches would cover most" + (
        " (按距离折算 counted by distance)" if counted_by_distance(suggested) else "")


def suggested_gain_wan(sites: pd.DataFrame) -> float:
    """What suggest_new_sites' `sites` bring within reach in all, 万人: each county's residents covered with its
    suggested sites less today's (a county's figures repeat on each of its rows)."""
    counties = sites.drop_duplicates("county")
    return float((counties["covered_wan_after"] - counties["covered_wan_today"]).sum())


SUGGESTION_COLUMNS = ["county", "rank", "site_id", "name", "adds_covered_wan", "reaches", "covered_wan_today",
                      "covered_wan_after"]


def gradual_limits(ds: Dataset, points: pd.DataFrame, demand, limits: tuple, fulls: tuple, file: str
                   ) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Gradual coverage on town_pair_costs' demand points: each point's full radius and limit, and the unit's cost
    column (None without a full radius); `limits` (radius_km, radius_min), `fulls` (full_km, full_min): full_km
    with radius_km, full_min with radius_min, each within its point's limit (errors name `file`, the caller)."""
    from netopt.coverage import check_full, demand_limits, refuse_full_beyond
    from netopt.models.covering import cost_column

    (radius_km, radius_min), (full_km, full_min) = limits, fulls
    check_full(full_km, full_min, radius_min is not None, file)
    full, limit, unit = (full_km, radius_km, "km") if radius_min is None else (full_min, radius_min, "min")
    if full is None:
        return None
    each_full, each_limit = (np.broadcast_to(np.asarray(demand_limits(ds, value, demand, unit), float),
                                             (len(points),)) for value in (full, limit))
    refuse_full_beyond(points, each_full, each_limit, f"full_{unit}", unit, file)
    return each_full, each_limit, cost_column(radius_min)


def _county_model(block: sp.csr_matrix, pop: np.ndarray, sites: gpd.GeoDataFrame, county: str, per_county: int,
                  gradual: tuple | None = None):
    """One county's MCLP of suggest_new_sites — its towns' reach `block` over today's branches reaching them and
    the county's new sites; with `gradual` (the towns' pair costs, full radii, limits and cost column) counted by
    distance — and today's branches' labels; None when it has no residents or no site."""
    from netopt.models.covering import MCLP

    existing = (sites["kind"] == "existing").to_numpy()
    near = existing & (block.getnnz(axis=0) > 0)
    columns = np.flatnonzero(near | (~existing & (sites["county"] == county).to_numpy()))
    if not block.shape[0] or not len(columns):
        return None
    kept = np.flatnonzero(near[columns])
    labels = sites["site_id"].to_numpy()[columns]
    p, rules = min(len(kept) + per_county, len(columns)), {"existing": kept, "max_new": per_county}
    if gradual is None:
        model = MCLP.from_coverage(block[:, columns], p=p, weights=pop, site_labels=labels, exactly_p=False, **rules)
    else:
        costs, full, limit, column = gradual
        model = MCLP._gradual(sp.csr_matrix(costs[:, columns]), (full, limit), p, pop, (None, labels), False, column,
                              rules)
    return model, list(labels[kept])


def _county_suggestions(model, selected: list, today: list, sites: gpd.GeoDataFrame, county: str,
                        places: np.ndarray) -> pd.DataFrame:
    """One county's suggested new sites: those of the solved plan `selected` beside `today`'s, less those adding
    nothing (fewest first), ranked by what each alone brings within reach, with the towns it alone reaches (of
    `places`, the town of each of the model's demand points)."""
    plan = list(selected)
    value = model.objective_of(plan)
    worth = model.worth_of_each(plan, among=[label for label in plan if label not in today])
    for label in worth.sort_values(kind="stable").index:  # a site the others stand in for adds nothing: drop it
        if model.objective_of([s for s in plan if s != label]) >= value - 1e-6:
            plan.remove(label)
    worth = model.worth_of_each(plan, among=[label for label in plan if label not in today])
    worth = worth.sort_values(ascending=False, kind="stable")
    new = sites.set_index("site_id").loc[worth.index]
    return gpd.GeoDataFrame({"county": county, "rank": np.arange(1, len(worth) + 1),
                             "site_id": worth.index.to_numpy(), "name": new["name"].to_numpy(),
                             "adds_covered_wan": worth.to_numpy() / 1e4,
                             "reaches": [_reached_alone(model, plan, label, places) for label in worth.index],
                             "covered_wan_today": model.objective_of(today) / 1e4,
                             "covered_wan_after": model.objective_of(plan) / 1e4},
                            geometry=new.geometry.to_numpy(), crs=sites.crs)


def _reached_alone(model, plan: list, label: str, places: np.ndarray) -> str:
    """The towns (of `places`, by demand point) with residents only the plan's site `label` reaches — counted by
    distance (a gradual model), those it alone counts more of: brought within reach, or nearer —, "、"-joined."""
    from netopt.models._gradual import best_shares

    position = {site: j for j, site in enumerate(model.site_labels)}
    others = [position[site] for site in plan if site != label]
    if model.gradual is not None:
        g = model.gradual
        with_it, without = (best_shares(g.reach, columns, g.full, g.radius)
                            for columns in ([*others, position[label]], others))
        return "、".join(pd.unique(places[(with_it > without + 1e-12) & (g.weights > 0)]))
    alone = (model.A[:, [position[label]]].getnnz(axis=1) > 0) & ~(model.A[:, others].getnnz(axis=1) > 0)
    return "、".join(pd.unique(places[alone & (model.weights > 0)]))


def _check_diagnoses(before: Coverage, after: Coverage) -> None:
    """An InputError unless both are diagnoses (analyze_coverage's), the two a comparison reads."""
    from netopt.coverage import Coverage

    for name, given in (("before", before), ("after", after)):
        check_kind(given, Coverage, f"{name} is a diagnosis from analyze_coverage", "compare")


HALF_RESIDENT_WAN = 0.5e-4  # in 万人: a change below it is rounding, not a resident


def towns_changed(before: Coverage, after: Coverage) -> pd.DataFrame:
    """The towns whose residents within reach change from one diagnosis to the other (e.g. today's network, then
    a plan's): residents, residents covered before and after and the change (万人), and the residents' mean
    distance to their nearest branch before and after (km; a town point's own) — and their mean minutes to the
    quickest one when both diagnoses are by travel time; losses first (the largest first), then gains (the largest
    first)."""
    _check_diagnoses(before, after)
    before_towns, after_towns = before.by_town(), after.by_town().set_index("town_id")
    table = before_towns[["town_id", "name", "county"]].assign(
        residents_wan=before_towns["population"] / 1e4,
        covered_wan_before=before_towns["covered_population"] / 1e4,
        covered_wan_after=before_towns["town_id"].map(after_towns["covered_population"]) / 1e4,
        distance_km_before=before_towns["mean_distance_to_branch_km"],
        distance_km_after=before_towns["town_id"].map(after_towns["mean_distance_to_branch_km"]))
    if "mean_minutes_to_branch" in before_towns and "mean_minutes_to_branch" in after_towns:
        table["minutes_before"] = before_towns["mean_minutes_to_branch"]
        table["minutes_after"] = before_towns["town_id"].map(after_towns["mean_minutes_to_branch"])
    table.insert(6, "change_wan", table["covered_wan_after"] - table["covered_wan_before"])
    changed = table[table["change_wan"].abs() > HALF_RESIDENT_WAN]
    order = np.lexsort((-changed["change_wan"].abs().to_numpy(), changed["change_wan"].to_numpy() > 0))
    return changed.iloc[order].reset_index(drop=True)


def branches_changed(before: Coverage, after: Coverage) -> pd.DataFrame:
    """The branches whose service area 服务范围 holds another number of residents from one diagnosis to the other
    (e.g. today's network, then a plan's): a branch closed leaves its area to the branches around it, a new one takes
    part of theirs. Each with its id, name, county, its plan (kept 保留, new 新设, closed 撤并), the residents in its
    service area before and after (万人; blank where it is not in that network) and the change (a closed branch's
    all it held); the largest change first. Empty where the counties have no boundaries (no service areas)."""
    _check_diagnoses(before, after)
    columns = ["branch_id", "name", "county", "service_area_population"]
    both = before.branches[columns].merge(after.branches[columns], on="branch_id", how="outer",
                                          suffixes=("_before", "_after"))
    was, now = both["service_area_population_before"] / 1e4, both["service_area_population_after"] / 1e4
    table = pd.DataFrame({
        "branch_id": both["branch_id"], "name": both["name_before"].fillna(both["name_after"]),
        "county": both["county_before"].fillna(both["county_after"]),
        "plan": np.select([both["name_before"].isna(), both["name_after"].isna()],
                          [PLAN_STATUS["new"], PLAN_CHANGES["closed"]], PLAN_STATUS["kept"]),
        "area_residents_wan_before": was, "area_residents_wan_after": now,
        "area_change_wan": now.fillna(0) - was.fillna(0)})
    measured = (was.notna() | now.notna()) & (table["area_change_wan"].abs() > HALF_RESIDENT_WAN)
    changed = table[measured]
    return changed.iloc[np.argsort(-changed["area_change_wan"].abs().to_numpy(), kind="stable")].reset_index(drop=True)


CLOSURE_TAKER_COLUMNS = ("closed_id", "closed_name", "taker_id", "taker_name", "residents_wan", "distance_km")


def closure_takers(ds: Dataset, before: Coverage, after: Coverage) -> pd.DataFrame:
    """Where the residents in each closed branch's service area go (客户承接): from one diagnosis to the other
    (today's network, then a plan's, of `ds`' counties and towns), each branch of `before` not in `after` with each
    branch of `after` whose service area takes part of its own — closed_id, closed_name, taker_id, taker_name,
    residents_wan (each town's residents spread over its area, as in the service areas' residents; branches at one
    place share theirs) and distance_km (from the closed branch to the taker, straight line: how far its customers
    are sent) —, each closed branch's takers the most first. Empty without county boundaries."""
    from netopt.coverage import distinct_cells, resident_areas
    from netopt.grid import residents_in
    from netopt.projection import metric_crs

    _check_diagnoses(before, after)
    closing = ~before.branches["branch_id"].isin(after.branches["branch_id"]).to_numpy()
    if before.service_area_outlines is None or after.service_area_outlines is None or not closing.any():
        return pd.DataFrame(columns=list(CLOSURE_TAKER_COLUMNS))
    crs = metric_crs(ds.counties)
    was, was_at = distinct_cells(before.service_area_outlines.to_crs(crs))
    now, now_at = distinct_cells(after.service_area_outlines.to_crs(crs))
    left = np.unique(was_at[closing])  # the places closed branches leave (a kept branch may stay there)
    old, new = shapely.STRtree(now).query(was[left], predicate="intersects")
    pieces = gpd.GeoSeries(shapely.intersection(was[left][old], now[new]), crs=crs)
    areas = resident_areas(ds, None if before.demand_kind == "towns" else before.towns, crs)
    residents = residents_in(pieces, areas) / np.bincount(was_at)[left[old]] / np.bincount(now_at)[new]
    pairs = np.array([(i, j, people / 1e4) for people, p, q in zip(residents, left[old], new)
                      for i in np.flatnonzero(closing & (was_at == p)) for j in np.flatnonzero(now_at == q)]
                     ).reshape(-1, 3)
    closed, taker = (frame.iloc[pairs[:, k].astype(int)] for k, frame in enumerate((before.branches, after.branches)))
    table = pd.DataFrame({"closed_id": closed["branch_id"].to_numpy(), "closed_name": closed["name"].to_numpy(),
                          "taker_id": taker["branch_id"].to_numpy(), "taker_name": taker["name"].to_numpy(),
                          "residents_wan": pairs[:, 2],
                          "distance_km": closed.geometry.to_crs(crs).distance(taker.geometry.to_crs(crs), align=False)
                          .to_numpy() / 1000.0})
    table = table[table["residents_wan"] > HALF_RESIDENT_WAN]
    return table.sort_values(["closed_id", "residents_wan"], ascending=[True, False], kind="stable").reset_index(
        drop=True)


def compare_coverage(before: Coverage, after: Coverage) -> pd.DataFrame:
    """compare_networks' table from two coverage diagnoses (analyze_coverage) already measured."""
    from netopt.coverage import density_by_gdp_tier

    _check_diagnoses(before, after)
    columns = ["coverage_rate_pct", "branches", "residents_per_branch_wan", "branches_per_100km2"]
    keep = ["region_type"] + columns
    table = before.by_region[keep].merge(after.by_region[keep], on="region_type", suffixes=("_before", "_after"))
    table.attrs["core_county_gap_pp"] = {"before": before.core_county_gap_pp, "after": after.core_county_gap_pp}
    tiers = [density_by_gdp_tier(c)[["gdp_tier", "branches_per_100km2", "residents_per_branch_wan"]]
             for c in (before, after)]
    table.attrs["by_gdp_tier"] = tiers[0].merge(tiers[1], on="gdp_tier", suffixes=("_before", "_after"))
    return table


TODAY_SCENARIO = "today 现状"  # today's network's name in compare_plans' tables


def compare_plans(ds: Dataset, networks: dict[str, gpd.GeoDataFrame], bank: str | None = None,
                  demand: gpd.GeoDataFrame | None = None, today_name: str = TODAY_SCENARIO,
                  access: bool | dict = False, **coverage_options) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plans side by side 方案比选: today's network (ds.branches) and each planned network — a branches table by
    name, such as a plan's <model>_branches.csv read with io.read_branches — measured alike (analyze_coverage
    with `demand` and `coverage_options`, e.g. radius_km={"core": 1.2, "county": 3.5}); with `bank`, each
    network's branches of that bank (and those a plan marks new 新设) alone. `today_name`: ds.branches' name in
    the tables, e.g. 网点2023 where they are last year's network beside this year's.

    Returns (scenarios: one row per network, today first — branches, new and closed against today by branch id,
    residents covered (万人) and the coverage rate (%) overall and by region type, the residents' mean km to
    their nearest branch, the towns with residents none of whom is covered 服务空白乡镇 and of those the towns with
    residents covered today (towns_losing_all: 新增服务空白乡镇, what closures may not add), and where a network's
    branches give their types (e.g. plan --p's plan_branches.csv), how many of each, type_<type>; towns: the
    towns whose residents covered differ between the networks, the largest difference first — residents and
    residents covered under each network, 万人). With `access` (True, or a dict of accessibility's own options,
    e.g. {"method": "3sfca", "decay": "power"}), each network's accessibility 可达性 too (netopt.accessibility
    within the same limit): the Gini of access over residents and the residents with low access (access_gini,
    low_access_wan, low_access_pct)."""
    from netopt.access import access_choices

    check_kind(access, (bool, dict), "access is True, False or a dict of accessibility's options", "compare_plans")
    how = access_choices(access, "compare_plans") if isinstance(access, dict) else {}
    measured = measure_networks(ds, networks, bank, demand, today_name, **coverage_options)
    if access is False:
        return compare_measured(measured)
    options = {key: value for key, value in coverage_options.items() if key in ACCESS_KEYWORDS}
    return compare_measured(measured, measure_access(ds, networks, bank, demand, today_name, **options, **how))


ACCESS_KEYWORDS = ("radius_km", "radius_min", "distance", "graph", "mode", "speed_kmh", "walk_speed_kmh",
                   "detour_factor")  # what accessibility takes of compare_plans' coverage options


def measure_networks(ds: Dataset, networks: dict[str, gpd.GeoDataFrame], bank: str | None = None,
                     demand: gpd.GeoDataFrame | None = None, today_name: str = TODAY_SCENARIO,
                     **coverage_options) -> dict[str, Coverage]:
    """Today's network (named `today_name`, first) and each planned one measured alike, as compare_plans measures
    them: their diagnoses (each Coverage's branches the network's, with `bank` those of the bank), by name — for
    compare_measured and for a map of each plan."""
    from netopt.coverage import analyze_coverage

    return {name: analyze_coverage(Dataset(ds.counties, ds.towns, bank_branches(branches, bank)), demand=demand,
                                   **coverage_options)
            for name, branches in _named_networks(ds, networks, today_name).items()}


def measure_access(ds: Dataset, networks: dict[str, gpd.GeoDataFrame], bank: str | None = None,
                   demand: gpd.GeoDataFrame | None = None, today_name: str = TODAY_SCENARIO,
                   **access_options) -> dict[str, Accessibility]:
    """Today's network and each planned one's accessibility 可达性 (netopt.accessibility with `demand` and
    `access_options`), by name, the networks taken as measure_networks takes them — for compare_measured; a
    network whose branches cannot supply as asked (a plan's new sites without the supply column) named."""
    return {name: _access_of(name, Dataset(ds.counties, ds.towns, bank_branches(branches, bank)), demand,
                             access_options)
            for name, branches in _named_networks(ds, networks, today_name).items()}


def _access_of(name: str, ds: Dataset, demand: gpd.GeoDataFrame | None, options: dict) -> Accessibility:
    """measure_access's accessibility of one network, its problems named by the network's `name`."""
    from dataclasses import replace

    from netopt.access import accessibility

    try:
        return accessibility(ds, demand=demand, **options)
    except InputError as err:
        raise InputError([replace(problem, file=f"{problem.file} of {name}") for problem in err.problems]) from None


def _named_networks(ds: Dataset, networks: dict[str, gpd.GeoDataFrame], today_name: str) -> dict:
    """Today's branches (named `today_name`) and then each planned network, by name."""
    check_kind(networks, dict, "networks are a dict of plans' branches by name, e.g. {'撤并2': branches}",
               "compare_plans")
    if today_name in networks:
        raise InputError(f"a plan may not be named '{today_name}': that is today's network's name here",
                         file="compare_plans")
    return {today_name: ds.branches, **networks}


def compare_measured(measured: dict[str, Coverage], access: dict[str, Accessibility] | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """compare_plans' (scenarios, towns) of networks measure_networks measured, today's first; with `access`
    (measure_access's of the same networks) each one's Gini of access and residents with low access."""
    today = next(iter(measured.values()))
    today_ids = set(today.branches["branch_id"].astype(str))
    before = today.by_town()["covered_population"].to_numpy()
    rows = [_scenario_row(name, cov.branches, cov, today_ids, before) for name, cov in measured.items()]
    if access is not None:
        rows = [row | _access_row(access[row["scenario"]].city) for row in rows]
    return pd.DataFrame(rows), _towns_differing(measured)


def _access_row(city: pd.Series) -> dict:
    """A network's accessibility in compare_plans' scenarios table: its Gini and residents with low access."""
    return {"access_gini": city["gini"], "low_access_wan": city["low_access_wan"],
            "low_access_pct": city["low_access_pct"]}


def network_changes(ds: Dataset, networks: dict[str, gpd.GeoDataFrame], bank: str | None = None
                    ) -> gpd.GeoDataFrame:
    """What each planned network changes against today's (ds.branches; with `bank`, that bank's branches and
    those a plan marks new 新设, as compare_plans counts them), by branch id: a row per branch it opens (new 新设)
    or closes (closed 撤并) — scenario, change, branch_id, name, county (where it lies, if the data names none),
    at the branch's point; plans in order, each's new branches first."""
    check_kind(networks, dict, "networks are a dict of plans' branches by name, e.g. {'撤并2': branches}",
               "network_changes")
    for network in networks.values():
        check_read(network, "branches")
    today = bank_branches(ds.branches, bank)
    today_ids = set(today["branch_id"].astype(str))
    parts = []
    for name, network in networks.items():
        planned = bank_branches(network, bank)
        new = planned[~planned["branch_id"].astype(str).isin(today_ids)]
        closed = today[~today["branch_id"].astype(str).isin(set(planned["branch_id"].astype(str)))]
        for change, rows in (("new", new), ("closed", closed)):
            rows = gpd.GeoDataFrame(rows, crs=network.crs).to_crs(ds.branches.crs)
            parts.append(_with_counties(ds, rows).assign(scenario=name, change=PLAN_CHANGES[change]))
    columns = ["scenario", "change", "branch_id", "name", "county"]
    if not parts:
        return gpd.GeoDataFrame(columns=columns, geometry=[], crs=ds.branches.crs)
    return gpd.GeoDataFrame(pd.concat([part[columns + ["geometry"]] for part in parts], ignore_index=True),
                            crs=ds.branches.crs)


def bank_branches(branches: gpd.GeoDataFrame, bank: str | None) -> gpd.GeoDataFrame:
    """The branches of `bank` (all without one), with those a plan marks new 新设 counted as the bank's."""
    if bank is None:
        return branches
    return branches[bank_mask(branches, bank) | planned_new(branches)]


def _scenario_row(name: str, branches: gpd.GeoDataFrame, cov: Coverage, today_ids: set, before: np.ndarray) -> dict:
    """One network's line of compare_plans' scenarios table (`before`: each town's residents covered today)."""
    towns = cov.by_town()
    ids = set(branches["branch_id"].astype(str))
    row = {"scenario": name, "branches": len(branches), "new": len(ids - today_ids), "closed": len(today_ids - ids),
           "covered_wan": towns["covered_population"].sum() / 1e4,
           "coverage_pct": 100.0 * towns["covered_population"].sum() / towns["population"].sum()}
    if "covered_by_distance" in towns:  # gradual coverage (full_km): the residents counted by distance too
        row["covered_by_distance_wan"] = towns["covered_by_distance"].sum() / 1e4
        row["coverage_by_distance_pct"] = 100.0 * towns["covered_by_distance"].sum() / towns["population"].sum()
    row.update({f"coverage_pct_{r.region_type}": r.coverage_rate_pct for r in cov.by_region.itertuples()})
    people = towns["population"].where(towns["population"] > 0)
    row["mean_km"] = float((towns["mean_distance_to_branch_km"] * people).sum() / people.sum())
    if "mean_minutes_to_branch" in towns:  # a comparison within a travel time
        row["mean_minutes"] = float((towns["mean_minutes_to_branch"] * people).sum() / people.sum())
    row["towns_uncovered"] = int(((towns["population"] > 0) & (towns["covered_population"] == 0)).sum())
    row["towns_losing_all"] = int(((before > 0) & (towns["covered_population"].to_numpy() == 0)).sum())
    return row | _type_counts(branches)


def _type_counts(branches: gpd.GeoDataFrame) -> dict:
    """How many branches of each type 综合型/社区型/普惠型/轻型 a network has, where its branches give types."""
    from netopt.models.types import TYPES

    kinds = branches["type"].value_counts() if "type" in branches else pd.Series(dtype=int)
    return {f"type_{kind}": int(kinds.get(kind, 0)) for kind in TYPES} if kinds.index.isin(TYPES).any() else {}


PLAN_COLUMNS = {"covered_wan ": "覆盖人口(万人)", "counted_wan ": "按距离折算覆盖人口(万人)"}  # compare's towns, a plan each


def compared_by(towns: pd.DataFrame) -> str:
    """What compare's towns table compares the plans by: its "counted_wan " columns (residents counted by distance,
    gradual coverage) where it has them, else its "covered_wan " ones — the prefix of each plan's column."""
    return "counted_wan " if any(c.startswith("counted_wan ") for c in towns.columns) else "covered_wan "


def _towns_differing(measured: dict[str, Coverage]) -> pd.DataFrame:
    """The towns whose residents covered differ between the networks (by more than half a resident), the largest
    spread first: residents and residents covered under each network, 万人; with gradual coverage also those counted
    by distance under each (counted_wan), which the spread is then of."""
    towns = next(iter(measured.values())).by_town()[["town_id", "name", "county", "population"]]
    table = towns.rename(columns={"population": "residents_wan"}).assign(residents_wan=towns["population"] / 1e4)
    for name, cov in measured.items():
        by_town = cov.by_town().set_index("town_id")
        table[f"covered_wan {name}"] = table["town_id"].map(by_town["covered_population"]) / 1e4
        if "covered_by_distance" in by_town:
            table[f"counted_wan {name}"] = table["town_id"].map(by_town["covered_by_distance"]) / 1e4
    covered = table.filter(like=compared_by(table))
    spread = covered.max(axis=1) - covered.min(axis=1)
    return table.assign(spread_wan=spread)[spread > HALF_RESIDENT_WAN].sort_values(
        "spread_wan", ascending=False, kind="stable").reset_index(drop=True)
