"""Branch-type assignment: the IP against brute force on tiny cities, every rule binding, explanations."""
from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netopt as no
from netopt._errors import InfeasibleError
from tests.conftest import FUZZING
from netopt.models.types import (STAFF_RANGE, TYPES, TypeRules, _allowed, _branch_places_within, _scaled,
                                 assign_branch_types, branch_levels, branch_scores, scoring_basis, suitability,
                                 with_weights)
from tests.test_coverage import make_city


def tiny_city(branch_km: list[float]) -> no.Dataset:
    ds = make_city([0.0, 3.0, 12.0, 18.0, 25.0], [30_000, 10_000, 50_000, 20_000, 8_000], branch_km)
    ds.counties["pop_urban"] = [0.9, 0.4]
    ds.counties["pop_urban"] *= ds.counties["population"]
    ds.counties["share_65plus_pct"] = [12.0, 18.0]
    return ds


def brute_force(ds, mix=None, budget=None, current=None, staff_limit=None, **flags):
    scores, _ = branch_scores(ds)
    suit, _ = suitability(scores)
    allowed = _allowed(scores, suit, TypeRules(**flags))
    n = len(scores)
    best = None
    for combo in product(range(len(TYPES)), repeat=n):
        if not all(allowed[b, t] for b, t in enumerate(combo)):
            continue
        counts = np.bincount(combo, minlength=len(TYPES))
        if mix and any((lo is not None and counts[TYPES.index(k)] < np.ceil(lo * n - 1e-9)) or
                       (hi is not None and counts[TYPES.index(k)] > np.floor(hi * n + 1e-9))
                       for k, (lo, hi) in mix.items()):
            continue
        if budget is not None and current is not None:
            spend = sum(50.0 for b, t in enumerate(combo) if current[b] is not None and TYPES[t] != current[b])
            if spend > budget:
                continue
        if staff_limit is not None and sum(STAFF_RANGE[TYPES[t]][0] for t in combo) > staff_limit:
            continue
        value = sum(suit[b, t] for b, t in enumerate(combo))
        best = value if best is None or value > best else best
    return best


@settings(max_examples=80 if FUZZING else 25, deadline=None)  # each case enumerates every plan
@given(st.lists(st.floats(0, 25), min_size=1, max_size=4), st.data())
def test_matches_brute_force(branch_km, data):
    ds = tiny_city(branch_km)
    n = len(branch_km)
    mix = {"community": (data.draw(st.sampled_from([None, 0.25, 0.5])), None)}
    current = [data.draw(st.sampled_from([None, "comprehensive", "community"])) for _ in range(n)]
    budget = data.draw(st.sampled_from([None, 0.0, 50.0]))
    staff = data.draw(st.sampled_from([None, 10 * n]))
    expected = brute_force(ds, mix, budget, current, staff)
    kwargs = dict(mix=mix, budget_wan=budget, current_types=pd.Series(current, dtype=object), staff_limit=staff)
    if expected is None:
        with pytest.raises(no.InfeasibleError):
            assign_branch_types(ds, **kwargs)
    else:
        plan = assign_branch_types(ds, **kwargs)
        assert plan.attrs["status"] == "optimal"
        assert plan.attrs["objective"] == pytest.approx(expected, abs=1e-6)
        assert plan["cost_wan"].sum() <= (budget if budget is not None else np.inf) + 1e-9


def test_each_rule_binds():
    ds = tiny_city([0.0, 3.0, 12.0, 18.0])
    free = assign_branch_types(ds)
    assert (free.loc[free["region_type"] == "core", "type"] != "inclusive").all()  # inclusive only outside core
    forced = assign_branch_types(ds, mix={"community": (0.75, None)})
    assert (forced["type"] == "community").sum() >= 3
    capped = assign_branch_types(ds, mix={"inclusive": (None, 0.0)})
    assert not (capped["type"] == "inclusive").any()
    current = pd.Series(["comprehensive"] * 4, dtype=object)
    frozen = assign_branch_types(ds, current_types=current, budget_wan=0.0)
    assert (frozen["type"] == "comprehensive").all() and frozen["cost_wan"].sum() == 0
    per_county = assign_branch_types(ds, comprehensive_per_county=True, mix={"inclusive": (0.25, None)})
    assert set(per_county.loc[per_county["type"] == "comprehensive", "county"]) == set(ds.counties["name"])


def test_impossible_rules_are_explained():
    ds = tiny_city([0.0, 3.0])
    with pytest.raises(no.InfeasibleError, match="add up to"):
        assign_branch_types(ds, mix={"community": (0.6, None), "light": (0.6, None)})
    with pytest.raises(no.InfeasibleError, match="inclusive needs at least 2"):
        assign_branch_types(ds, mix={"inclusive": (1.0, None)})
    with pytest.raises(no.InfeasibleError, match="staff"):
        assign_branch_types(ds, staff_limit=3)
    with pytest.raises(no.InputError, match="unknown type"):
        assign_branch_types(ds, mix={"flagship": (0.1, None)})
    with pytest.raises(no.InputError, match="mix for comprehensive 综合型: the minimum share 0.1 is above the maximum 0"):
        assign_branch_types(ds, mix={"comprehensive": (0.1, 0.0)})


@pytest.mark.parametrize("options, message", [
    ({"budget_wan": -5}, "budget_wan must be a number of 万元, 0 or more; got -5"),
    ({"budget_wan": float("nan")}, "budget_wan must be a number of 万元, 0 or more; got nan"),
    ({"budget_wan": "100"}, "budget_wan must be a number of 万元, 0 or more; got '100'"),
    ({"staff_limit": -3}, "staff_limit (total staff) must be a whole number of at least 1, got -3"),
    ({"comprehensive_min_score": 5}, "comprehensive_min_score is an economic-activity score between 0 and 1, got 5"),
    ({"conversion_cost_wan": -1}, "conversion_cost_wan must be a number of 万元, 0 or more; got -1"),
    ({"conversion_cost_wan": {("light", "big"): 5}}, "conversion_cost_wan keys are (from type, to type) pairs"),
    ({"budgets_wan": 5}, "unknown option(s) budgets_wan; the type rules are mix, budget_wan, "),
    ({"mix": {"community": (40, None)}}, "mix shares are between 0 and 1 (got 40 for community)"),
    ({"mix": 0}, "mix is a dict by type, e.g. {'community': ...}, got 0"),  # a falsy mix was read as none
    ({"mix": pd.NA}, "mix is a dict by type"),  # was Python's TypeError from `mix or {}`
    ({"weights": []}, "weights is a dict by type"),
    ({"weights": {"comunity": {"density": 1.0}}}, "weights names unknown type(s) 'comunity'; types are "),
    ({"time_limit": "3"}, "time_limit must be a positive number of seconds, got '3'"),
])
def test_type_plan_options_out_of_range_are_refused_by_name(options, message):
    """Each option of assign_branch_types checked before any work: a negative or text budget used to read as
    "too small" or be taken, a misspelt weights type gave every branch a score of 0, an unknown option raised
    Python's TypeError from inside."""
    with pytest.raises(no.InputError) as refused:
        assign_branch_types(tiny_city([0.0, 3.0]), **options)
    assert message in str(refused.value)


@pytest.mark.parametrize("options, message", [
    ({"p": 0}, "p (branches in the plan) must be a whole number of at least 1, got 0"),
    ({"p": 2.5}, "p (branches in the plan) must be a whole number of at least 1, got 2.5"),
    ({"budget_wan": "5"}, "budget_wan must be a number of 万元, 0 or more; got '5'"),
    ({"radius_km": {"comunity": 2}}, "radius_km names unknown type(s) 'comunity'"),
    ({"radius_km": {"community": -2}}, "radius_km for community must be a number of km, above 0; got -2"),
    ({"capacity_wan": {"light": "2"}}, "capacity_wan for light must be a number of 万人, above 0; got '2'"),
    ({"open_cost_wan": {"light": -80}}, "open_cost_wan for light must be a number of 万元, 0 or more; got -80"),
    ({"mix": {"light": (0.5, 0.2)}}, "mix for light 轻型: the minimum share 0.5 is above the maximum 0.2"),
    ({"extensions": {"bus": {"cost_wan": 5}}}, "extension 'bus' needs cost_wan (万元) and share"),
    ({"extensions": ["bus"]}, "extensions is a dict by name, e.g. {'vehicle': "),
    ({"extensions": {"bus": {"cost_wan": 5, "share": 30}}}, "extension 'bus' share is a fraction above 0 and at "
     "most 1, got 30"),
    ({"weights": {"big": {"density": 1.0}}}, "plan_network: weights names unknown type(s) 'big'"),
])
def test_joint_plan_options_out_of_range_are_refused_by_name(options, message):
    from netopt.models.types import plan_network
    from netopt.planning import candidate_sites

    ds = tiny_city([0.0, 3.0])
    with pytest.raises(no.InputError) as refused:
        plan_network(ds, candidate_sites(ds), **{"p": 3, **options})
    assert message in str(refused.value)


def test_a_network_without_branches_gets_no_type_plan():
    ds = tiny_city([0.0])
    with pytest.raises(no.InputError, match="no branches to give a type to"):
        assign_branch_types(no.Dataset(ds.counties, ds.towns, ds.branches.iloc[:0]))


def test_sample_plan_reports_missing_indicators_and_reasons():
    plan = assign_branch_types(no.load_sample(), mix={"community": (0.40, None)}, budget_wan=1200)
    assert plan.attrs["missing_indicators"] == ["gdp_per_capita"]  # the sample has no GDP: reported, not zero
    assert (plan["type"] == "community").mean() >= 0.40
    assert plan["reasons"].str.len().gt(0).all()
    assert set(plan["type"]) <= set(TYPES) and plan["type_zh"].notna().all()


def test_a_type_no_branch_is_given_is_explained():
    """Without its local terms (branch cluster, its town's urban share), community's terms are county figures, alike
    within a county, and
    comprehensive scores higher in every core county: the sample's plan has no community branch (its community
    outlets by licence free to be comprehensive too) — said, with the branch that came nearest and how to have
    some; not where a share asked for some, or a maximum share of 0 kept the type out."""
    ds = no.load_sample()
    county_figures = with_weights({"comprehensive": {"branch_level": 0}, "inclusive": {"branch_level": 0},
                                   "community": {"branch_cluster": 0, "town_urban": 0, "branch_level": 0}})
    plan = assign_branch_types(ds, weights=county_figures, licensed_outlets_not_comprehensive=False)
    [note] = plan.attrs["notes"]
    assert (plan["type"] == "community").sum() == 0 and note.startswith("社区型 community: no branch")
    behind = plan["score_community"] - plan["score"]
    nearest = plan.loc[behind.idxmax()]
    assert f"Nearest: {nearest['name']} ({nearest['county']}), {nearest['score_community']:.2f} for it" in note
    assert "人口密度 density, 老龄人口占比 elderly share are county figures" in note
    assert "--min-share community=0.25" in note
    asked = assign_branch_types(ds, mix={"community": (0.2, None)}, weights=county_figures).attrs["notes"]
    assert [note for note in asked if "no branch" in note] == []  # only where the share was met: urban towns
    assert assign_branch_types(ds, mix={"community": (None, 0)}, weights=county_figures).attrs["notes"] == []
    assert assign_branch_types(ds).attrs["notes"] == []  # the defaults give some: 37
    core = no.Dataset(ds.counties, ds.towns, ds.branches[(plan["region_type"] == "core").to_numpy()])
    notes = assign_branch_types(core, mix={"community": (0.2, None)}).attrs["notes"]
    assert any(n.startswith("普惠型 inclusive: no branch — the type rules allow it nowhere (inclusive_outside_core")
               for n in notes)


def test_census_figures_under_the_yearbook_s_headers_score_the_types(tmp_path):
    """A counties table with 城镇化率, 平均受教育年限 and 65岁及以上人口占比 gives the urban share, schooling and
    elderly share indicators (they were reported missing: only netopt's English headers counted)."""
    from tests.conftest import BRANCHES_CSV, TOWNS_CSV, write

    counties = write(tmp_path / "counties.csv", "区划代码,区县,常住人口（万人）,城镇化率（%）,平均受教育年限,65岁及以上人口占比（%）\n"
                     "340102,瑶海区,86.2,97.3,10.59,9.5\n340121,长丰县,78.4,45.1,8.6,17.8\n")
    ds = no.read_dataset(counties, write(tmp_path / "towns.csv", TOWNS_CSV), write(tmp_path / "b.csv", BRANCHES_CSV))
    scores, missing = branch_scores(ds)
    assert not {"urban_share", "schooling", "elderly_share"} & set(missing)
    assert scores["urban_share"].notna().all()


def test_light_only_in_the_fringe_and_comprehensive_threshold_bind():
    ds = no.load_sample()
    free = assign_branch_types(ds, mix={"light": (0.10, None)}, inclusive_outside_core=False)
    assert (free.loc[free["type"] == "light", "region_type"] != "fringe").any()
    fringe_only = assign_branch_types(ds, mix={"light": (0.02, None)}, light_only_fringe=True)
    assert (fringe_only.loc[fringe_only["type"] == "light", "region_type"] == "fringe").all()
    strict = assign_branch_types(ds, comprehensive_min_score=0.99)
    scores, _ = branch_scores(ds)
    econ = scores[["urban_share"]].mean(axis=1)
    assert (econ[strict["type"] == "comprehensive"] >= 0.99).all()


def brute_joint(*args, **rules):
    """The most residents any plan serves (brute_joint_plans); None when no plan keeps the rules."""
    return max((value for value, _, _ in brute_joint_plans(*args, **rules)), default=None)


def brute_cheapest(*args, served_shares, **rules):
    """(万元 spent, changes) of the plan serving every town at least its share of `served_shares` (brute_joint_plans,
    to within a ten-millionth) that spends least, then changes least."""
    return min((spent, changes) for _, spent, changes in brute_joint_plans(*args, floors=served_shares - 1e-7,
                                                                           **rules))


def brute_joint_plans(km, pop, existing, p, budget, radius, capacity, cost, ext_cost, ext_share, core_town, current,
                      stays=None, must_reach=(), floors=None, mix=None, full=None):
    """Enumerate every type choice per site and extension choice per town; an LP splits the residents. A site
    whose `current` type is known costs 50万元 to give another; existing sites open free and stay open unless
    `stays` says which do; each list of sites in `must_reach` needs one open; with `floors`, each town needs
    at least that share of its residents served; `mix` bounds each type's share of the open sites; with `full` (a
    full radius per type) a town's residents served by a site count by its distance — wholly within the full
    radius, linearly less to none at the type's radius — and so do the floors. Yields each plan keeping the rules
    as (residents served or counted, 万元 spent, changes: new sites open, existing ones closed or given another
    known type, extensions)."""
    from scipy.optimize import linprog

    def counted(i: int, j: int, kind: str) -> float:
        if full is None or km[i, j] <= full[kind]:
            return 1.0
        return (radius[kind] - km[i, j]) / (radius[kind] - full[kind])

    n_sites, n_towns = km.shape[1], km.shape[0]
    for choice in product(range(len(TYPES) + 1), repeat=n_sites):  # len(TYPES) = closed
        if any((existing if stays is None else stays)[j] and choice[j] == len(TYPES) for j in range(n_sites)):
            continue
        if not all(any(choice[j] < len(TYPES) for j in row) for row in must_reach):
            continue
        open_sites = [j for j in range(n_sites) if choice[j] < len(TYPES)]
        if len(open_sites) > p:
            continue
        counts = {kind: sum(1 for j in open_sites if TYPES[choice[j]] == kind) for kind in TYPES}
        if any((low is not None and counts[kind] < low * len(open_sites) - 1e-9) or
               (high is not None and counts[kind] > high * len(open_sites) + 1e-9)
               for kind, (low, high) in (mix or {}).items()):
            continue
        spend = sum(cost[TYPES[choice[j]]] for j in open_sites if not existing[j])
        retyped = sum(1 for j in open_sites if current[j] is not None and TYPES[choice[j]] != current[j])
        spend += 50.0 * retyped
        changed = retyped + sum(1 for j in range(n_sites) if existing[j] != (j in open_sites))
        for ext in product([0, 1], repeat=n_towns):
            if any(ext[i] and core_town[i] for i in range(n_towns)):
                continue
            total = spend + ext_cost * sum(ext)
            if total > budget + 1e-9:
                continue
            pairs = [(i, j) for j in open_sites for i in range(n_towns) if km[i, j] <= radius[TYPES[choice[j]]]]
            value = float(sum(pop[i] * ext_share * ext[i] for i in range(n_towns)))
            if pairs:
                weight = [counted(i, j, TYPES[choice[j]]) for i, j in pairs]
                c = [-pop[i] * w for (i, _), w in zip(pairs, weight)]
                a_ub, b_ub = [], []
                for i in range(n_towns):
                    a_ub.append([1.0 if pi == i else 0.0 for pi, _ in pairs]); b_ub.append(1 - ext_share * ext[i])
                    if floors is not None:  # at least the floor: the pairs' shares and the extension's
                        a_ub.append([-w if pi == i else 0.0 for (pi, _), w in zip(pairs, weight)])
                        b_ub.append(ext_share * ext[i] - floors[i])
                for j in open_sites:
                    a_ub.append([pop[pi] if pj == j else 0.0 for pi, pj in pairs])
                    b_ub.append(capacity[TYPES[choice[j]]] * 1e4)
                res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1))
                if res.status != 0:
                    continue
                value += -res.fun
            elif floors is not None and any(ext_share * ext[i] < floors[i] for i in range(n_towns)):
                continue
            yield value, total, changed + sum(ext)


@settings(max_examples=50 if FUZZING else 10, deadline=None)  # each case solves and enumerates several joint plans
@given(st.integers(0, 2**32 - 1))
def test_joint_plan_matches_brute_force(seed):
    import geopandas as gpd

    from netopt.models.types import plan_network

    rng = np.random.default_rng(seed)
    town_km = sorted(rng.uniform(0, 25, 3).round(1))
    ds = make_city(list(town_km), list(rng.integers(5_000, 60_000, 3)), [0.0])
    site_km = list(rng.uniform(0, 25, 2).round(1))
    lon = [float(ds.towns.geometry.x.iloc[0]) + k / 94.6 for k in site_km]
    today = [None, *TYPES][int(rng.integers(0, len(TYPES) + 1))]
    ds.branches["type"] = today  # the existing site's type today (by its branch_id, B0): a change costs 50万元
    sites = gpd.GeoDataFrame({"site_id": ["B0", "s1"], "name": ["a", "b"], "kind": ["existing", "new"]},
                             geometry=gpd.points_from_xy(lon, [float(ds.towns.geometry.y.iloc[0])] * 2), crs=4326)
    radius = {"comprehensive": 3.0, "community": 1.5, "inclusive": 5.0, "light": 2.0}
    capacity = {"comprehensive": 5.0, "community": 3.0, "inclusive": 4.0, "light": 2.0}
    cost = {"comprehensive": 300.0, "community": 150.0, "inclusive": 100.0, "light": 80.0}
    extensions = {"vehicle": {"cost_wan": 30.0, "share": 0.3}}
    p, budget = int(rng.integers(1, 3)), float(rng.choice([0.0, 60.0, 120.0, 400.0]))
    full = [None, 0.0, 1.0][int(rng.integers(0, 3))]  # gradual coverage: one full radius for every type, or none
    _, towns, summary = plan_network(ds, sites, p=p, budget_wan=budget, radius_km=radius, capacity_wan=capacity,
                                     open_cost_wan=cost, extensions=extensions, inclusive_outside_core=False,
                                     full_km=full)
    from netopt.distance import cost_matrix_km

    km = cost_matrix_km(ds.towns, sites)
    core = (ds.towns["region_type"].astype(str) == "core").to_numpy()
    instance = (km, ds.towns["population"].to_numpy(float), [True, False], p, budget, radius, capacity, cost, 30.0,
                0.3, core, [today, None])
    by_type = None if full is None else dict.fromkeys(TYPES, full)
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(brute_joint(*instance, full=by_type), rel=1e-6)
    assert summary["least_spent_proven"]  # the least spent, then fewest changes, serving every town as well
    shares = towns["served_share" if full is None else "counted_share"].to_numpy()
    assert (summary["spent_wan"], summary["changes"]) == brute_cheapest(*instance, full=by_type, served_shares=shares)
    mix = [{"community": (0.5, None)}, {"comprehensive": (None, 0.5)}, {"light": (0.5, 0.5)}][int(rng.integers(0, 3))]
    mixed = brute_joint(*instance, mix=mix)  # the type shares, stated on the number of open branches (z_N) too
    if mixed is None:
        with pytest.raises(InfeasibleError):
            plan_network(ds, sites, p=p, budget_wan=budget, radius_km=radius, capacity_wan=capacity,
                         open_cost_wan=cost, extensions=extensions, inclusive_outside_core=False, mix=mix)
    else:
        _, _, shared = plan_network(ds, sites, p=p, budget_wan=budget, radius_km=radius, capacity_wan=capacity,
                                    open_cost_wan=cost, extensions=extensions, inclusive_outside_core=False, mix=mix)
        assert shared["status"] == "optimal" and shared["objective"] == pytest.approx(mixed, rel=1e-6)
    _, _, no_new = plan_network(ds, sites, p=p, budget_wan=budget, radius_km=radius, capacity_wan=capacity,
                                open_cost_wan=cost, extensions=extensions, inclusive_outside_core=False, max_new=0)
    only_today = brute_joint(km[:, :1], ds.towns["population"].to_numpy(float), [True], p, budget, radius, capacity,
                             cost, 30.0, 0.3, core, [today])
    assert no_new["objective"] == pytest.approx(only_today, rel=1e-6)  # max_new=0: the new site may not open
    closing = sites.assign(closes=[True, False])  # the existing branch closes whatever the plan: as if it were gone
    chosen, _, summary = plan_network(ds, closing, p=p, budget_wan=budget, radius_km=radius, capacity_wan=capacity,
                                      open_cost_wan=cost, extensions=extensions, inclusive_outside_core=False)
    without = brute_joint(km[:, 1:], ds.towns["population"].to_numpy(float), [False], p, budget, radius, capacity,
                          cost, 30.0, 0.3, core, [None])
    assert summary["status"] == "optimal" and chosen["decision"].iloc[0] == "close"
    assert summary["objective"] == pytest.approx(without, rel=1e-6)
    reach = [[0], [1], [0, 1]][int(rng.integers(0, 3))]  # the existing branch may close, a row needs a site open
    rule = np.isin(np.arange(2), reach).astype(float)[None, :]
    kept = brute_joint(km, ds.towns["population"].to_numpy(float), [True, False], p, budget, radius, capacity,
                       cost, 30.0, 0.3, core, [today, None], stays=[False, False], must_reach=[reach])
    closable = sites.assign(closable=[True, False])
    if kept is None:
        with pytest.raises(InfeasibleError):
            plan_network(ds, closable, p=p, budget_wan=budget, radius_km=radius, capacity_wan=capacity,
                         open_cost_wan=cost, extensions=extensions, inclusive_outside_core=False, must_reach=rule)
        return
    chosen, towns, summary = plan_network(ds, closable, p=p, budget_wan=budget, radius_km=radius,
                                          capacity_wan=capacity, open_cost_wan=cost, extensions=extensions,
                                          inclusive_outside_core=False, must_reach=rule)
    assert summary["status"] == "optimal" and summary["objective"] == pytest.approx(kept, rel=1e-6)
    assert (summary["spent_wan"], summary["changes"]) == brute_cheapest(
        *instance, stays=[False, False], must_reach=[reach], served_shares=towns["served_share"].to_numpy())
    opened = chosen.loc[chosen["decision"] != "close", "site_id"]
    assert opened.isin(sites["site_id"].iloc[reach]).any()


def test_joint_plan_on_the_sample():
    from netopt.models.types import plan_network
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    sites = candidate_sites(ds, bank="招商银行")
    chosen, towns, summary = plan_network(ds, sites, p=40, budget_wan=2000)
    assert summary["status"] == "optimal" and 0 < summary["served_pct"] < 100
    assert (chosen["decision"] != "close").sum() <= 40
    assert set(chosen.loc[chosen["kind"] == "existing", "decision"]) == {"keep"}  # not closable by default
    rural = towns.merge(ds.towns[["town_id", "region_type"]], on="town_id")
    assert not rural.loc[rural["region_type"] == "core", ["vehicle", "station"]].any().any()
    from netopt.models.types import EXTENSIONS, TYPE_OPEN_COST_WAN
    extended = sum(towns[name] * towns["population"] * e["share"] for name, e in EXTENSIONS.items()).sum()
    assert chosen["served_wan"].sum() * 1e4 + extended == pytest.approx(summary["objective"])  # every resident counted once
    opened = chosen[chosen["decision"] == "open"]
    assert (opened["open_cost_wan"] == opened["type"].map(TYPE_OPEN_COST_WAN)).all()
    spent = opened["open_cost_wan"].sum() + sum(towns[name].sum() * e["cost_wan"] for name, e in EXTENSIONS.items())
    assert summary["spent_wan"] == pytest.approx(spent) and spent <= 2000


def test_joint_plan_puts_community_branches_in_urban_towns():
    """The README's flow (农业, p=100, today's branches closable, 1,200万元, 40 % community): residents served
    first put community branches where they lose least, in villages (长丰杨庙); in urban towns only by default,
    they stand in the core's streets and the counties' urban towns (a community branch today where it is), and a
    rule that blocks the mix is named."""
    from netopt.models.types import in_urban_towns, plan_network
    from netopt.planning import candidate_sites

    ds = no.load_sample().of_bank("农业")
    sites = candidate_sites(ds, bank="农业").assign(closable=True)
    urban = pd.Series(in_urban_towns(ds, sites), index=sites["site_id"].to_numpy())
    rules = dict(p=100, budget_wan=1200, mix={"community": (0.4, None)})
    chosen, _, summary = plan_network(ds, sites, **rules)
    community = chosen.loc[(chosen["decision"] != "close") & (chosen["type"] == "community"), "site_id"]
    assert summary["status"] == "optimal" and len(community) >= 40 and urban[community].all()
    assert (summary["n_sites"], summary["community_elsewhere"]) == (len(sites), (~urban).sum())
    anywhere, _, freed = plan_network(ds, sites, community_in_urban_towns=False, **rules)
    rural = anywhere.loc[(anywhere["type"] == "community") & ~urban[anywhere["site_id"]].to_numpy(), "name"]
    assert "长丰杨庙营业所" in rural.tolist() and freed["objective"] > summary["objective"]
    assert freed["community_elsewhere"] == 0
    rural_today = ~urban[ds.branches["branch_id"]].to_numpy()
    today = no.Dataset(ds.counties, ds.towns, ds.branches.assign(type=np.where(rural_today, "community", None)))
    kept, _, stayed = plan_network(today, sites, p=101, budget_wan=0, extensions={})
    assert stayed["community_elsewhere"] == (~urban).sum() - rural_today.sum()  # community today: may stay so
    assert kept.set_index("site_id").loc[ds.branches["branch_id"][rural_today], "type"].eq("community").all()
    with pytest.raises(InfeasibleError, match="community branches stand in urban towns only"):
        plan_network(ds, sites.assign(closable=False), p=101, budget_wan=0, extensions={},
                     mix={"community": (0.8, None)})


def test_joint_plan_weighs_the_types_by_the_weights_given():
    """weights= as assign_branch_types takes them: the residents served stay the best possible, the types'
    suitability (score, reasons) follows the weights, and a weight naming no indicator is refused."""
    from netopt.models.types import plan_network, with_weights
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    sites = candidate_sites(ds, bank="招商银行")
    plain, _, served = plan_network(ds, sites, p=25, budget_wan=500)
    dense = with_weights({"comprehensive": {"density": 20.0}})
    weighed, _, served_weighed = plan_network(ds, sites, p=25, budget_wan=500, weights=dense)
    assert served_weighed["objective"] == pytest.approx(served["objective"])
    assert not plain["reasons"].str.contains("density").any()
    assert weighed.loc[weighed["type"] == "comprehensive", "reasons"].str.contains("density").mean() > 0.5
    with pytest.raises(no.InputError, match="weights name '存款', which no indicator is"):
        plan_network(ds, sites, p=25, budget_wan=500, weights=with_weights({"comprehensive": {"存款": 1.0}}))


def test_joint_plan_changes_nothing_that_serves_no_one_more():
    """Branches free to close, room for every site and money to spare: no branch closes (closing gains nothing)
    and every new branch serves someone — not whichever equally good plan the solver stops at; the second
    program spends far less than the greedy edits alone for the same residents."""
    from netopt.models import types
    from netopt.models.types import plan_network
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    sites = candidate_sites(ds, bank="农业")
    sites["closable"] = sites["kind"] == "existing"
    chosen, _, summary = plan_network(ds, sites, p=len(sites), budget_wan=100_000)
    assert summary["status"] == "optimal" and summary["spent_wan"] < 100_000
    assert (chosen["decision"] != "close").all() and (chosen["decision"] == "keep").sum() == 101
    assert (chosen.loc[chosen["decision"] == "open", "served_wan"] > 0).all()
    with pytest.MonkeyPatch.context() as patch:  # the greedy edits alone: as many served, more spent
        patch.setattr(types, "_least_spent", lambda milp, x, costs, town_shares, time_limit: (x, False))
        _, _, greedy = plan_network(ds, sites, p=len(sites), budget_wan=100_000)
    assert greedy["objective"] == pytest.approx(summary["objective"], rel=1e-9)
    assert summary["spent_wan"] < 0.8 * greedy["spent_wan"] and not greedy["least_spent_proven"]

@pytest.mark.parametrize("capacity_wan, closes", [(5.0, True), (1.5, False)])
def test_joint_plan_closes_a_new_branch_others_in_reach_can_stand_in_for(monkeypatch, capacity_wan, closes):
    """A solved plan opening a new branch for a town today's branch in reach has the room to serve keeps the
    residents served and the money: the new branch stays closed. Without that room it stays open."""
    import geopandas as gpd

    from netopt.models import types

    ds = make_city([12.0, 13.0], [10_000, 10_000], [12.5])
    lon = [float(ds.branches.geometry.x.iloc[0]), float(ds.towns.geometry.x.iloc[1])]
    sites = gpd.GeoDataFrame({"site_id": ["B0", "s1"], "name": ["a", "b"], "kind": ["existing", "new"]},
                             geometry=gpd.points_from_xy(lon, [float(ds.towns.geometry.y.iloc[0])] * 2), crs=4326)
    changing_least = types._cheapest_among_equals

    def with_s1_serving_town_1(L, milp, x, *args):
        x = x.copy()
        for k in np.flatnonzero((L.pairs[:, 0] == 1) & (L.pairs[:, 1] == 0) & (x[L.u(np.arange(len(L.pairs)))] > 0)):
            t = L.pairs[k, 2]
            twin = np.flatnonzero((L.pairs[:, 0] == 1) & (L.pairs[:, 1] == 1) & (L.pairs[:, 2] == t))[0]
            x[L.x(1, np.arange(len(TYPES)))], x[L.x(1, t)] = 0.0, 1.0
            x[L.u(twin)], x[L.u(k)] = x[L.u(k)], 0.0
        return changing_least(L, milp, x, *args)
    monkeypatch.setattr(types, "_cheapest_among_equals", with_s1_serving_town_1)
    chosen, _, summary = types.plan_network(ds, sites, p=2, budget_wan=500, extensions={}, inclusive_outside_core=False,
                                            capacity_wan=dict.fromkeys(TYPES, capacity_wan))
    assert summary["served_pct"] == pytest.approx(100.0)
    opened = chosen.loc[chosen["decision"] == "open", "site_id"].tolist()
    assert opened == ([] if closes else ["s1"])
    assert (summary["spent_wan"] == 0.0) == closes


def test_joint_plan_spends_least_among_plans_serving_every_town_as_well(monkeypatch):
    """A plan solved with a new comprehensive branch (300万) where a light one (80万, 2 km, 2万 residents) serves its
    two towns as fully: the second program opens the light one, every town served as before; without it a
    costlier type stays (the best suited of those costing no more than 300万)."""
    import geopandas as gpd

    from netopt.models import types

    ds = make_city([30.0, 31.0], [10_000, 10_000], [0.0])
    lon = [float(ds.branches.geometry.x.iloc[0]), (float(ds.towns.geometry.x.iloc[0]) +
                                                   float(ds.towns.geometry.x.iloc[1])) / 2]
    sites = gpd.GeoDataFrame({"site_id": ["B0", "s1"], "name": ["a", "b"], "kind": ["existing", "new"]},
                             geometry=gpd.points_from_xy(lon, [float(ds.towns.geometry.y.iloc[0])] * 2), crs=4326)
    cheapest_among_equals = types._cheapest_among_equals
    comprehensive = TYPES.index("comprehensive")

    def solved_as_comprehensive(L, milp, x, *args):
        x = x.copy()
        x[L.x(1, np.arange(len(TYPES)))], x[L.x(1, comprehensive)] = 0.0, 1.0
        x[L.u(np.arange(len(L.pairs)))] = ((L.pairs[:, 1] == 1) & (L.pairs[:, 2] == comprehensive)).astype(float)
        return cheapest_among_equals(L, milp, x, *args)
    monkeypatch.setattr(types, "_cheapest_among_equals", solved_as_comprehensive)
    rules = dict(p=2, budget_wan=1000, extensions={}, inclusive_outside_core=False)
    chosen, towns, summary = types.plan_network(ds, sites, **rules)
    assert towns["served_share"].tolist() == pytest.approx([1.0, 1.0]) and summary["least_spent_proven"]
    assert chosen.set_index("site_id").loc["s1", "type"] == "light" and summary["spent_wan"] == 80.0
    assert summary["changes"] == 1  # the one new branch
    monkeypatch.setattr(types, "_least_spent", lambda milp, x, costs, town_shares, time_limit: (x, False))
    chosen, _, summary = types.plan_network(ds, sites, **rules)
    assert chosen.set_index("site_id").loc["s1", "type"] != "light" and summary["spent_wan"] > 80.0


def test_joint_plan_explains_impossible_settings():
    from netopt.models.types import plan_network
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    sites = candidate_sites(ds, bank="招商银行")
    with pytest.raises(no.InfeasibleError, match="20 existing branches must stay open but p=5: 15 too many"):
        plan_network(ds, sites, p=5)
    with pytest.raises(no.InfeasibleError) as blocked:  # 20 kept core branches may not be inclusive
        plan_network(ds, sites, p=25, budget_wan=5000, mix={"inclusive": (0.5, None)})
    assert str(blocked.value).split("; or ") == [
        "no network plan: p=25 is too small: the other rules need at least 40 branches open",
        "the mix needs at least 50% inclusive 普惠型 branches, which the other rules do not allow (inclusive "
        "branches may not open in the core)"]
    with pytest.raises(no.InfeasibleError, match="the budget 1,500万元 is too small: the other rules cost at least "
                                                 "2,000万元"):
        plan_network(ds, sites, p=40, budget_wan=1500, mix={"inclusive": (0.5, None)})
    sites["closable"] = sites["kind"] == "existing"
    chosen, _, summary = plan_network(ds, sites, p=5, budget_wan=0, mix={"community": (0.4, None)})
    kept = chosen[chosen["decision"] == "keep"]
    assert len(kept) <= 5 and (kept["type"] == "community").sum() >= 0.4 * len(kept) - 1e-9


def test_analyst_indicators_can_drive_the_scores():
    ds = tiny_city([0.0, 3.0, 12.0, 18.0])
    ds.branches["deposits_yi"] = [50.0, 1.0, 1.0, 1.0]
    scores, missing = branch_scores(ds)
    assert "deposits_yi" in scores and scores["deposits_yi"].tolist() == [1.0, 0.0, 0.0, 0.0]
    weights = {"comprehensive": {"deposits_yi": 1.0}, "community": {"deposits_yi": -1.0},
               "inclusive": {"deposits_yi": -1.0}, "light": {"deposits_yi": -1.0}}
    plan = assign_branch_types(ds, weights=weights, inclusive_outside_core=False)
    assert plan.loc[0, "type"] == "comprehensive" and "high deposits yi" in plan.loc[0, "reasons"]
    [row] = scoring_basis(plan).to_dict("records")  # the one term weighed, as the analyst's own column
    assert row["dimension"] == "服务需求 service demand" and row["indicator"] == "deposits_yi"
    assert [row[f"weight_{kind}"] for kind in TYPES] == [1.0, -1.0, -1.0, -1.0] and row["data"] == "有 given"


def test_a_branch_cluster_counts_the_places_near_it_once_each():
    """branch_cluster: the other places holding a branch within 1 km — two branches at one point (located by
    their town) one place, its own place not counted —, scaled by rank as a branch's own figures are (the share of
    the other branches below it), while a county figure keeps how far apart the counties are."""
    ds = tiny_city([0.0, 0.5, 0.5, 1.2, 2.4, 12.5])
    scores, _ = branch_scores(ds)
    raw = [1, 2, 2, 1, 0, 0]  # 0 km: 0.5 (once); 0.5: 0 and 1.2; 1.2: 0.5; 2.4 and 12.5: none within 1 km
    assert _branch_places_within(ds.branches, ds.branches).tolist() == raw
    assert scores["branch_cluster"].tolist() == pytest.approx([(sorted(raw).index(v)) / 5 for v in raw])
    density = (ds.counties["population"] / ds.counties["area_km2"]).tolist()  # 城区 then 某县
    core_minus_county = (density[0] - density[1]) / abs(density[0] - density[1])
    assert scores["density"].tolist() == [max(core_minus_county, 0)] * 5 + [max(-core_minus_county, 0)]


def test_one_bank_s_branch_cluster_counts_every_bank_s_branches():
    """A bank's type plan (ds.of_bank, which keeps every bank's branches as every_bank; --bank) scores each
    branch's cluster by every bank's branches around it, as banks gather in commercial centres whichever they
    are: counted among its own alone, most branches of 农业 stood alone."""
    ds = no.load_sample()
    ours = ds.of_bank("农业")
    assert ours.every_bank is ds.branches and ours.of_bank("农业").every_bank is ds.branches  # once, however deep
    alone, among_all = (_branch_places_within(ours.branches, b) for b in (ours.branches, ds.branches))
    assert (among_all >= alone).all() and among_all.sum() > 3 * alone.sum()
    assert branch_scores(ours)[0]["branch_cluster"].tolist() == _scaled(pd.Series(among_all, name="branch_cluster"))\
        .tolist()
    by_itself = no.Dataset(ds.counties, ds.towns, ours.branches)  # the bank's branches as if they were all
    assert (assign_branch_types(ours)["score_comprehensive"].tolist()
            != assign_branch_types(by_itself)["score_comprehensive"].tolist())
    from netopt.models.types import _site_suitability
    from netopt.planning import candidate_sites

    sites = candidate_sites(ds, bank="农业")  # a joint plan's sites: every bank's branches around each, either way
    assert np.array_equal(_site_suitability(ds, sites)[0], _site_suitability(ours, sites)[0])


def test_a_town_s_residents_are_shared_among_its_branches():
    """served_population: two branches in one town (at 0 and 0.2 km) share its 30,000 residents — the one
    nearest its point took them all, the other none —; a town without a branch (3, 18, 25 km) goes to its nearest
    branch; every resident is counted once."""
    from netopt.models.types import _served_residents

    ds = tiny_city([0.0, 0.2, 12.5])
    served = _served_residents(no.analyze_coverage(ds))
    assert served.tolist() == [15_000, 15_000 + 10_000, 50_000 + 20_000 + 8_000]
    assert served.sum() == ds.towns["population"].sum()


def test_the_plan_says_how_it_scored_the_branches():
    """scoring_basis: every term the types weigh, by dimension (the planning document's three, then the region),
    how it is computed, whether the data gave it — the sample has no GDP: missing, and what to add — and its weight
    for each type (blank where the type does not weigh it; a weight of 0 drops a term). The reasons say each
    branch's two strongest terms in Chinese and English."""
    from netopt.models.types import DEFAULT_SUITABILITY, INDICATORS, with_weights

    ds = no.load_sample()
    plan = assign_branch_types(ds)
    basis = scoring_basis(plan).set_index("indicator")
    weighed = {name for terms in DEFAULT_SUITABILITY.values() for name in terms}
    assert set(basis.index) == weighed and list(basis.index[: len(INDICATORS)]) == list(INDICATORS)
    assert basis["dimension"].drop_duplicates().tolist() == ["经济活跃度 economic activity", "客群特征 customer features",
                                                             "服务需求 service demand", "区域 region"]
    assert basis.loc["gdp_per_capita", "data"] == "缺 missing — add 地区生产总值 (GDP) to the counties table"
    assert (basis.drop(index="gdp_per_capita")["data"] == "有 given").all()
    for kind, terms in DEFAULT_SUITABILITY.items():
        assert basis[f"weight_{kind}"].dropna().to_dict() == terms
    assert basis.loc["region:fringe", "indicator_name"] == "城乡结合部 fringe area"
    each = plan[[f"score_{kind}" for kind in TYPES]].to_numpy()  # every type's suitability, the plan's type's among
    assert (each.max(axis=1) >= plan["score"].to_numpy() - 1e-9).all() and np.allclose(
        each[np.arange(len(plan)), [TYPES.index(kind) for kind in plan["type"]]], plan["score"])
    inclusive = plan[plan["type"] == "inclusive"]["reasons"]
    assert inclusive.str.contains("县域 county area").all() and inclusive.str.contains("人口密度低 low density").any()
    dropped = assign_branch_types(ds, weights=with_weights({kind: {"density": 0.0} for kind in TYPES}))
    assert "density" not in set(scoring_basis(dropped)["indicator"])
    with pytest.raises(no.InputError, match="scoring_basis takes a plan as assign_branch_types or plan_network"):
        scoring_basis(pd.DataFrame(plan.to_dict("list")))  # read back: no attrs


def test_weights_name_known_indicators_and_add_to_the_defaults():
    """with_weights adds a type's terms to the defaults (0 drops one); a weight naming no indicator is an error
    listing them (a misspelt name would weigh nothing); a column read from a file as text counts as an indicator
    when every filled cell is a number."""
    from netopt.models.types import DEFAULT_SUITABILITY, analyst_indicators, with_weights

    merged = with_weights({"comprehensive": {"deposits_yi": 2.0}, "inclusive": {"density": 0.0}})
    assert merged["comprehensive"] == {**DEFAULT_SUITABILITY["comprehensive"], "deposits_yi": 2.0}
    assert "density" not in merged["inclusive"] and DEFAULT_SUITABILITY["inclusive"]["density"] == -1.0
    with pytest.raises(no.InputError, match="unknown type 'big'"):
        with_weights({"big": {"density": 1.0}})
    ds = tiny_city([0.0, 3.0, 12.0, 18.0])
    ds.branches["存款余额"] = ["1,050", "1", "", "2"]  # as a CSV gives it: text, a thousands separator, a blank
    ds.branches["备注"] = ["a", "1", "", ""]
    ds.branches["score 适配度"] = ds.branches["staff"] = ds.branches["assigned_population"] = 1.0  # netopt's, read back
    assert analyst_indicators(ds) == ["存款余额"]
    assert branch_scores(ds)[0]["存款余额"].tolist()[:2] == [1.0, 0.0]
    with pytest.raises(no.InputError, match="weights name 'deposit', which no indicator is; indicators: .*存款余额"):
        assign_branch_types(ds, weights=with_weights({"comprehensive": {"deposit": 1.0}}))
    with pytest.raises(no.InputError, match="weights name 'county', which no indicator is"):  # a label, not one
        assign_branch_types(ds, weights=with_weights({"comprehensive": {"county": 1.0}}))
    with pytest.raises(no.InputError, match=r"the branches' column 备注 holds a cell that is no number \('a'\)"):
        assign_branch_types(ds, weights=with_weights({"comprehensive": {"备注": 1.0}}))  # why it is none
    ds.branches["贷款余额"] = ["1.5亿", "3,000万元", "", "2000"]  # magnitudes written in, as a hand-made sheet has them
    ds.branches["存款户数"] = ["12万户", "3美元", "", ""]  # a unit that is no magnitude
    assert analyst_indicators(ds) == ["存款余额", "贷款余额"]
    assert branch_scores(ds)[0]["贷款余额"].fillna(-1).tolist() == [1.0, 0.5, -1, 0.0]  # 1.5亿 > 3,000万 > 2,000
    with pytest.raises(no.InputError, match=r"column 存款户数 holds a cell that is no number \('3美元'\)"):
        assign_branch_types(ds, weights=with_weights({"comprehensive": {"存款户数": 1.0}}))


def test_an_exact_share_is_the_nearest_whole_number_of_branches():
    ds = no.load_sample()
    plan = assign_branch_types(ds, mix={"community": 0.4})  # 0.4 x 480 = 192 branches
    assert int((plan["type"] == "community").sum()) == round(0.4 * len(ds.branches))


def test_a_blocking_budget_and_mix_are_both_named_with_their_numbers():
    ds = no.load_sample()
    today = pd.Series("light", index=ds.branches.index)  # every change costs the default 50万元
    with pytest.raises(no.InfeasibleError) as caught:
        assign_branch_types(ds, mix={"community": (0.6, None)}, budget_wan=100, current_types=today)
    needed = int(np.ceil(0.6 * len(ds.branches)))
    assert str(caught.value) == (
        f"no type plan: the mix needs at least {needed} community 社区型 branches, but the other rules allow at "
        f"most 2; or the budget 100万元 is too small: the other rules cost at least {needed * 50:,}万元")


def test_a_time_limit_before_any_plan_is_not_called_infeasible(monkeypatch):
    from netopt.models import types
    from netopt.models._milp import RawSolution
    from netopt.planning import candidate_sites

    stopped = RawSolution("error", None, np.nan, np.nan, 0.01, "stopped at a limit (Time limit reached)")
    monkeypatch.setattr(types, "solve_highs", lambda milp, time_limit=None: stopped)
    ds = no.load_sample()
    with pytest.raises(no.SolverError, match="no type plan yet 尚无方案: the solver stopped at a limit \\(Time limit "
                                             "reached\\) before finding one; a longer time limit may find one"):
        assign_branch_types(ds, time_limit=0.01)
    with pytest.raises(no.SolverError, match="no network plan yet 尚无方案"):
        types.plan_network(ds, candidate_sites(ds, bank="招商银行"), p=40, time_limit=0.01)


def test_joint_plan_counts_the_cost_of_changing_a_known_type():
    from netopt.models.types import DEFAULT_CONVERSION_COST_WAN, plan_network
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    ours = ds.branches["bank"].astype(str).str.contains("农业")
    ds.branches["type"] = np.where(ours, "community", None)  # community branches reach 1.5 km only
    sites = candidate_sites(ds, bank="农业")
    for budget in (0.0, 100.0):
        chosen, _, summary = plan_network(ds, sites, p=101, budget_wan=budget, extensions={})
        kept = chosen[chosen["decision"] == "keep"]
        changed = kept["type"] != kept["current_type"]
        assert (kept["current_type"] == "community").all() and len(kept) == 101
        assert changed.sum() == budget // DEFAULT_CONVERSION_COST_WAN  # each change pays; the budget allows this many
        assert (kept.loc[changed, "conversion_cost_wan"] == DEFAULT_CONVERSION_COST_WAN).all()
        assert summary["spent_wan"] == pytest.approx(kept["conversion_cost_wan"].sum()) and summary["spent_wan"] <= budget


def test_joint_plan_gives_each_branch_the_best_suited_type_among_equals(monkeypatch):
    """After the solve, what serves no one more is undone and types the residents served do not decide follow the
    suitability of the area: the same residents served, every rule of the model still met, better-suited types."""
    from netopt.models import types
    from netopt.planning import candidate_sites

    ds = no.load_sample()
    sites = candidate_sites(ds, bank="农业")
    sites["closable"] = sites["kind"] == "existing"
    edited = []
    changing_least = types._cheapest_among_equals

    def recorded(L, milp, x, *args):
        after, proven = changing_least(L, milp, x, *args)
        edited.append((milp, x, after))
        return after, proven
    monkeypatch.setattr(types, "_cheapest_among_equals", recorded)
    rules = dict(p=150, budget_wan=3000, mix={"inclusive": (None, 0.3), "community": (0.1, None)})
    chosen, _, summary = types.plan_network(ds, sites, **rules)
    (milp, before, after), = edited
    assert milp.c @ after == pytest.approx(milp.c @ before, abs=1e-6) == summary["objective"]
    activity, slack = milp.A @ after, 1e-6 * (1 + np.abs(milp.A @ before))
    assert ((activity >= milp.row_lo - slack) & (activity <= milp.row_hi + slack)).all()
    assert ((after >= milp.col_lo) & (after <= milp.col_hi)).all() and summary["spent_wan"] <= 3000
    monkeypatch.setattr(types, "_cheapest_among_equals", lambda L, milp, x, *args: (x, False))
    as_solved, _, _ = types.plan_network(ds, sites, **rules)
    open_now, before_edits = chosen[chosen["decision"] != "close"], as_solved[as_solved["decision"] != "close"]
    assert open_now["score"].mean() > before_edits["score"].mean()
    assert (chosen["decision"] == "close").sum() <= (as_solved["decision"] == "close").sum()
    assert (open_now["served_wan"] <= open_now["type"].map(types.TYPE_CAPACITY_WAN) + 1e-6).all()


def test_a_branch_level_read_from_its_name_or_level_column():
    """A branch's level 网点级别: the last level word of its name decides (a sub-branch named under its branch is a
    sub-branch, a sub-branch's business department its flagship, a community sub-branch an outlet); a level column
    says it where it names one; NaN where neither does."""
    names = ["合肥分行营业部", "合肥分行钟楼支行", "肥西支行营业部（汇总）", "兴业银行合肥分行绿城百合社区支行", "合肥黄山路分理处",
             "合肥上城国际社区银行", "太阳海岸小区金融便民店", "长丰杨庙营业所", "安徽肥西农村商业银行股份有限公司", None]
    branches = pd.DataFrame({"name": names})
    levels = [1.0, 0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.nan, np.nan]
    assert np.array_equal(branch_levels(branches), levels, equal_nan=True)
    column = branches.assign(网点级别=["分理处", None, "一级支行", "", "二级支行", None, None, None, "营业部", None])
    assert np.array_equal(branch_levels(column), [0.0, 0.5, 0.75, 0.0, 0.25, 0.0, 0.0, 0.0, 1.0, np.nan],
                          equal_nan=True)  # a primary sub-branch 一级支行 above a secondary one 二级支行
    ds = make_city([0.0, 12.0], [30_000, 20_000], [0.0, 12.0])  # names 网点0, 网点1: the column alone says
    ds.branches["网点级别"] = ["营业部", "分理处"]
    assert branch_scores(ds)[0]["branch_level"].tolist() == [1.0, 0.0]


def test_an_outlet_is_no_comprehensive_branch_and_a_flagship_no_community_one():
    """Two branches alike in all but their level: the business department 营业部 scores higher for comprehensive,
    the office 分理处 for community and inclusive; in the core the office becomes community, the flagship
    comprehensive. The sample's offices and outlets in the core are mostly community branches now (30 of 35),
    where without the level 31 of them were comprehensive."""
    ds = make_city([0.0, 0.3, 12.0], [40_000, 30_000, 20_000], [0.15, 0.15, 12.0],
                   town_types=["core", "core", "county"])
    ds.branches["name"] = ["城区营业部", "城区分理处", "某县支行"]
    ds.towns["share_urban_coded"] = [1.0, 1.0, 0.3]
    plan = assign_branch_types(ds).set_index("name")
    flagship, office = plan.loc["城区营业部"], plan.loc["城区分理处"]
    assert flagship["score_comprehensive"] > office["score_comprehensive"]
    assert office["score_community"] > flagship["score_community"]
    assert office["score_inclusive"] > flagship["score_inclusive"]
    assert (flagship["type"], office["type"]) == ("comprehensive", "community")
    sample = assign_branch_types(no.load_sample())
    outlets = sample[(sample["region_type"] == "core") & (branch_levels(sample) == 0)]
    assert (outlets["type"] == "community").sum() >= 0.8 * len(outlets)


def test_a_community_outlet_by_licence_is_not_made_comprehensive_unless_asked():
    """A branch named 社区支行 or 社区银行 is licensed as a community outlet: no plan makes it comprehensive — the
    sample's 24 such branches, 4 of which the scores alone made comprehensive, nor a joint plan at a site of today
    named so (the bank's 社区支行 standing where a comprehensive branch would serve most); lifted on request."""
    from netopt.models.types import licensed_community_outlets, plan_network
    from netopt.planning import candidate_sites

    assert licensed_community_outlets(["绿城百合社区支行", "合肥上城国际社区银行", "滨湖世纪社区", None]).tolist() == [
        True, True, False, False]  # a town named 社区 is no outlet
    ds = no.load_sample()
    licensed = licensed_community_outlets(ds.branches["name"])
    plan, lifted = (assign_branch_types(ds, licensed_outlets_not_comprehensive=rule) for rule in (True, False))
    assert licensed.sum() == 24 and not (plan["type"][licensed] == "comprehensive").any()
    assert (lifted["type"][licensed] == "comprehensive").sum() == 4
    city = make_city([0.0, 12.0], [90_000, 20_000], [0.0, 12.0], town_types=["core", "county"])
    city.branches["name"] = ["城区社区支行", "某县支行"]
    sites = candidate_sites(city).assign(closable=False)
    chosen = [plan_network(city, sites, p=2, budget_wan=1000, licensed_outlets_not_comprehensive=rule)[0]
              .set_index("name").loc["城区社区支行", "type"] for rule in (True, False)]
    assert chosen[0] != "comprehensive" and chosen[1] == "comprehensive"  # 9万 reached: comprehensive serves most


def test_community_branches_go_to_city_streets_not_villages():
    """The town's urban share 所在乡镇城镇化 (its communities' share coded urban by the NBS, else 街道 1, 镇 0.5, 乡 0 by
    its name) weighs for community and against inclusive: asked for 40 % community, the sample's community
    branches stand in towns more than half urban and no inclusive one in a wholly urban street; without the term
    some community branches stood in townships wholly rural (a village's branch made a 社区型)."""
    from netopt.models.types import town_urban_shares

    towns = pd.DataFrame({"name": ["明光路街道办事处", "庐阳工业区（林店街道）", "三河镇", "白山乡", "水家湖农场", "亚父街道"],
                          "share_urban_coded": [None, None, None, None, None, "0.25"]})
    assert np.array_equal(town_urban_shares(towns), [1.0, 1.0, 0.5, 0.0, np.nan, 0.25], equal_nan=True)
    percent = towns.assign(share_urban_coded=["100", "", "50%", None, "x", "25"])  # percentages read as such
    assert np.array_equal(town_urban_shares(percent), [1.0, 1.0, 0.5, 0.0, np.nan, 0.25], equal_nan=True)
    assert np.array_equal(town_urban_shares(towns.drop(columns="share_urban_coded")), [1, 1, 0.5, 0, np.nan, 1],
                          equal_nan=True)  # by name alone
    counted = towns.drop(columns="share_urban_coded").assign(n_urban_coded=[3, 0, 1, 0, 0, 0],
                                                            n_village_coded=[0, 0, 3, 5, 0, 0])
    assert np.array_equal(town_urban_shares(counted), [1, 1, 0.25, 0, np.nan, 1], equal_nan=True)  # none: by name
    ds = no.load_sample()
    urban = branch_scores(ds)[0].set_index("branch_id")["town_urban"]
    plan = assign_branch_types(ds, mix={"community": (0.4, None)})
    where = plan.set_index("branch_id")["type"]
    assert urban[where == "community"].min() > 0.5 and urban[where == "inclusive"].max() < 1
    unweighed = with_weights({"community": {"town_urban": 0}, "inclusive": {"town_urban": 0}})
    before = assign_branch_types(ds, mix={"community": (0.4, None)}, weights=unweighed,
                                 community_in_urban_towns=False).set_index("branch_id")["type"]
    assert urban[before == "community"].min() == 0
    bare = ds.towns.drop(columns="share_urban_coded").assign(name=[f"第{k}片区" for k in range(len(ds.towns))])
    # no share and names that say no kind: not known — said what to add
    plan = assign_branch_types(no.Dataset(ds.counties, bare, ds.branches))
    assert "town_urban" in plan.attrs["missing_indicators"]
    assert scoring_basis(plan).set_index("indicator").loc["town_urban", "data"] == (
        "缺 missing — add share_urban_coded (0..1) to the towns table, or name the towns in full (…街道, …镇, …乡)")


def test_community_branches_stand_in_urban_towns():
    """A community branch 社区型 stands in a residential area: a town at least half urban, or its county's most urban
    (its seat, whose villages may outnumber its streets); unknown towns are not ruled out, and a community branch
    today may stay one anywhere. The rule holds whatever the weights; community_in_urban_towns=False lifts it."""
    from netopt.models.types import in_urban_towns, urban_towns

    towns = pd.DataFrame({"name": ["店埠镇", "梁园镇", "亚父街道", "白山乡", "开发区", "槐林镇"],
                          "county": ["肥东县", "肥东县", "巢湖市", "巢湖市", "巢湖市", "巢湖市"],
                          "share_urban_coded": [0.4, 0.07, 1.0, 0.0, None, 0.5]})
    assert urban_towns(towns).tolist() == [True, False, True, False, True, True]
    assert urban_towns(towns.drop(columns="county")).tolist() == [False, False, True, False, True, True]
    ds = no.load_sample()
    urban = pd.Series(in_urban_towns(ds, ds.branches), index=ds.branches["branch_id"])
    assert 0 < (~urban).sum() < len(urban)
    unweighed = with_weights({"community": {"town_urban": 0}, "inclusive": {"town_urban": 0}})
    plan = assign_branch_types(ds, mix={"community": (0.4, None)}, weights=unweighed).set_index("branch_id")
    assert urban[plan["type"] == "community"].all() and (plan["type"] == "community").mean() >= 0.4
    said = plan.attrs["notes"][-1]  # the share asked for was met in urban towns: said
    assert said.startswith("社区型 community: in urban towns only 仅设于城镇化乡镇 (towns with at least 50% of their "
                           "communities urban-coded, or their county's most urban town, its seat) — ")
    assert f"— {(~urban).sum()} of the 480 branches stand elsewhere" in said
    lifted = assign_branch_types(ds, mix={"community": (0.4, None)}, weights=unweighed, community_in_urban_towns=False)
    assert not urban[lifted.set_index("branch_id")["type"] == "community"].all()
    assert not any("urban towns only" in note for note in lifted.attrs["notes"])
    today = ds.branches.assign(type=np.where(~urban.to_numpy(), "community", None))  # rural community branches today
    kept = assign_branch_types(no.Dataset(ds.counties, ds.towns, today), budget_wan=0).set_index("branch_id")
    assert (kept.loc[~urban, "type"] == "community").all()  # no budget to change them: they stay community
    with pytest.raises(InfeasibleError, match="community branches stand in urban towns only .*--community-anywhere"):
        assign_branch_types(ds, mix={"community": (0.99, None)})


def test_a_reason_is_a_term_arguing_for_the_type():
    """A branch's reasons are its type's strongest terms among those arguing for it — half or more of the way to
    the side the type suits —: a town 0.29 urban is no "high town urban", though its term weighs most."""
    scores = pd.DataFrame({"town_urban": [0.29, 0.9], "branch_cluster": [0.0, 0.0]})
    _, drivers = suitability(scores, {"community": {"town_urban": 2.0, "branch_cluster": -1.5}})
    community = TYPES.index("community")
    assert drivers[0][community] == "网点集聚度低 low branch cluster"
    assert drivers[1][community] == "所在乡镇城镇化高 high town urban, 网点集聚度低 low branch cluster"
    plan = assign_branch_types(no.load_sample(), mix={"community": (0.4, None)})
    urban = branch_scores(no.load_sample())[0].set_index("branch_id")["town_urban"]
    said = plan.set_index("branch_id")["reasons"].str.contains("所在乡镇城镇化高")
    assert urban[said].min() >= 0.5 and said.any()
