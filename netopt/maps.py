"""Interactive folium maps of counties, towns and branches, labelled in Chinese and English."""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template

from netopt._errors import InputError, NetoptError, check_columns, check_kind
from netopt._schema import REGION_ZH, region_words
from netopt.access import check_accessibility
from netopt.coverage import Coverage
from netopt.fonts import drawing_in, figure_font
from netopt.io import PLAN_CHANGES, WGS84, Dataset, bank_mask
from netopt.planning import (CLOSURE_TAKER_COLUMNS, check_plan_columns, line_layer, network_changes, places_by,
                             planned_new)
from netopt.projection import metric_crs

if TYPE_CHECKING:
    from netopt.access import Accessibility

SAVED_DPI = 150  # every static map and chart
_REGION_COLOURS = {"core": "#d95f02", "county": "#1b9e77", "fringe": "#7570b3"}


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JS and CSS, read from the django-js-lib-leaflet package (Leaflet 1.9.4, BSD-2-Clause)."""
    import importlib.util

    spec = importlib.util.find_spec("js_lib_leaflet")  # locates the files without importing Django
    if spec is None or not spec.submodule_search_locations:
        raise NetoptError("Leaflet's files are missing: reinstall netopt (package django-js-lib-leaflet)")
    folder = Path(list(spec.submodule_search_locations)[0]) / "static" / "js_lib_leaflet"
    return (folder / "leaflet.js").read_text(encoding="utf-8"), (folder / "leaflet.css").read_text(encoding="utf-8")


def offline_map(**options) -> folium.Map:
    """A folium.Map that needs no internet: Leaflet embedded in the page, no CDN scripts or styles.

    Tiles are off unless `tiles=` is given (they need internet); county boundaries on a plain background
    are the offline base."""
    fmap = folium.Map(**options)
    fmap.default_js, fmap.default_css = [], []  # folium would link Leaflet, jQuery and Bootstrap from CDNs
    script, style = leaflet_assets()
    fmap.get_root().header.add_child(folium.Element(f"<style>{style}</style>\n<script>{script}</script>"),
                                     name="leaflet_inline")
    return fmap


TYPE_COLOURS = {"comprehensive": "#7b3294", "community": "#008837", "inclusive": "#e66101", "light": "#0571b0"}


def network_map(ds: Dataset, coverage: Coverage | None = None, plan: pd.DataFrame | None = None,
                tiles: str | None = None, sites: gpd.GeoDataFrame | None = None,
                selected: list | None = None, our_bank: str | None = None,
                moves: pd.DataFrame | None = None, title: str | None = None,
                town_shares: pd.DataFrame | None = None, town_changes: pd.DataFrame | None = None,
                pilots: pd.DataFrame | None = None, hubs: pd.DataFrame | None = None,
                takers: pd.DataFrame | None = None) -> folium.Map:
    """A folium map: county boundaries, towns sized by population and shaded by their unserved share,
    branches (coloured by type when a type plan from assign_branch_types is given), service-radius circles
    (a layer, off at first), and — with candidate `sites` and a model's `selected` — a plan layer of sites
    opened and branches closed, with a line for each move 迁址 of `moves` (planning.relocation_moves); a site's
    `plan_note` (a column of `sites`, e.g. what it adds to the plan or what closing it costs) is added to its
    tooltip.
    With `our_bank`, the other banks' branches of ds get a layer of their own (grey); the branches drawn as
    ours are those of `coverage` (e.g. a plan's network) or else ds's. `title` heads the legend.
    `town_shares` (indexed by town_id: our market share %, column `plan`, and optionally `today`, e.g. from
    MarketShare results' assignments) shades the towns by our share instead of coverage.
    `town_changes` (planning.towns_changed: today → plan) adds each changed town's coverage before and after to
    its tooltip and rings the towns losing coverage.
    `pilots` (planning.select_pilots) rings the pilot branches gold; `hubs` (planning.training_hubs) rings the
    training hubs and draws a dashed line from each community branch to its hub.
    `takers` (planning.closure_takers, with `sites`: closed_id and taker_id are site ids) draws a line from each
    branch the plan closes to each branch taking on its residents 客户承接, thicker for more residents.

    Tiles are off by default because planning rooms are often offline; pass tiles="OpenStreetMap" to add them.
    """
    _check_plan(plan)
    _check_rollout(pilots, hubs)
    _check_takers(takers)
    check_kind(coverage, (Coverage, type(None)), "coverage is a diagnosis from analyze_coverage", "map")
    check_kind(tiles, (str, type(None)), "tiles is the name of a tile layer, e.g. 'OpenStreetMap'", "map")
    fmap = _city_map(ds, tiles)
    _add_counties(fmap, ds, coverage)
    gaps = _on_grid(coverage) and town_shares is None and _add_cells(fmap, coverage.towns)
    _add_towns(fmap, _town_layer(ds, coverage), town_shares, town_changes)
    branches = coverage.branches if coverage is not None else ds.branches
    if our_bank is not None:
        rivals = ds.branches[~bank_mask(ds.branches, our_bank)]  # a bank the data lacks: refused, the banks listed
        _add_rivals(fmap, rivals)
        branches = branches[~branches["branch_id"].isin(rivals["branch_id"])]
    typed = plan if plan is not None else _own_types(branches)  # a type plan's, else the branches' own
    _add_branches(fmap, branches, typed)
    if coverage is not None:
        _add_service_circles(fmap, coverage)
        _add_service_areas(fmap, coverage)
    with_plan = sites is not None and selected is not None
    if with_plan:
        _add_site_plan(fmap, sites, selected, moves, plan)
    taken_on = with_plan and takers is not None and len(takers) > 0
    if taken_on:
        places = places_by(sites, "site_id")
        _point_layer(TAKERS_LAYER, _taker_lines(takers, places, places)).add_to(fmap)
    if pilots is not None or hubs is not None:
        _add_rollout(fmap, ds.branches, pilots, hubs)
    ranked = with_plan and "rank" in sites  # candidate or suggested sites, numbered: not a plan's openings
    keys = _type_legend(typed) + ((CANDIDATE_LEGEND if ranked else PLAN_LEGEND) if with_plan else "")
    keys += RIVAL_LEGEND if our_bank is not None else ""
    planned = _planned_new(branches).any()
    keys += PLANNED_LEGEND if planned else ""
    keys += LOSING_LEGEND if len(_losing(town_changes)) else ""
    keys += (GRADUAL_CELLS_LEGEND if _gradual(coverage) else CELLS_LEGEND) if gaps else ""
    keys += ROLLOUT_LEGEND if pilots is not None or hubs is not None else ""
    keys += TAKERS_LEGEND if taken_on else ""
    _add_legend(fmap, coverage, keys, title or f"netopt {_default_title(plan, planned)}",
                shares=town_shares is not None, attribution=_attribution(ds))
    FindBox(fmap).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _city_map(ds: Dataset, tiles: str | None) -> folium.Map:
    """An offline map framed on the city: its counties (its towns where boundaries are missing) fill the view."""
    shapes = ds.counties if ds.counties.geometry.notna().all() else ds.towns
    west, south, east, north = shapes.total_bounds
    try:
        fmap = offline_map(location=[(south + north) / 2, (west + east) / 2], zoom_start=9, tiles=tiles,
                           control_scale=True)
    except ValueError as err:  # folium: a tile name it does not know is a URL template needing an attribution
        raise InputError(f"tiles {tiles!r}: {err} — give a name folium knows, e.g. 'OpenStreetMap' or 'CartoDB "
                         "positron', or add your own layer to the map returned: folium.TileLayer(url, attr=...)"
                         ".add_to(m)", file="map") from None
    fmap.fit_bounds([[south, west], [north, east]])
    return fmap


def _attribution(ds: Dataset) -> str:
    """Where the city's data comes from, as its reader recorded it (the bundled sample's sources), else ''."""
    return str(ds.counties.attrs.get("attribution", ""))


COUNTY_ALIASES = {"name": "区县 County", "name_pinyin": "Pinyin", "region_type": "类型 Region",
                  "population": "常住人口 Population", "branches": "网点 Branches"}


def _add_counties(fmap: folium.Map, ds: Dataset, coverage: Coverage | None) -> None:
    figures = {}
    if coverage is not None:
        figures = {"coverage_rate_pct": ("覆盖率 Coverage %", 1),
                   "residents_per_branch_wan": ("万人/网点 10k residents per branch", 2)}
    _draw_counties(fmap, ds, coverage.by_county if coverage is not None else None, figures)


def _draw_counties(fmap: folium.Map, ds: Dataset, by_county: pd.DataFrame | None,
                   figures: dict[str, tuple[str, int]]) -> None:
    """The county boundaries with a tooltip of their name, region type, residents and, from `by_county`, their
    branches and `figures` (column: its label and decimals)."""
    counties = ds.counties[ds.counties.geometry.notna()].copy()
    if counties.empty:  # county tables without boundaries: nothing to draw
        return
    if by_county is not None:
        table = by_county.set_index("county")
        counties["branches"] = counties["name"].map(table["branches"])
        for column, (_, decimals) in figures.items():
            counties[column] = counties["name"].map(table[column]).round(decimals)
    fields = [c for c in ("name", "name_pinyin", "region_type", "population", "branches", *figures) if c in counties]
    aliases = {**COUNTY_ALIASES, **{column: label for column, (label, _) in figures.items()}}
    folium.GeoJson(
        counties[fields + ["geometry"]].to_json(default=str),
        name="区县 Counties",
        style_function=lambda f: {"color": _REGION_COLOURS.get(f["properties"].get("region_type"), "#555"),
                                  "weight": 2, "fillOpacity": 0.08},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[aliases[f] for f in fields]),
    ).add_to(fmap)


def _on_grid(coverage: Coverage | None) -> bool:
    """Whether a coverage was measured on a population grid's cells (its towns then told by most residents, its
    cells beyond reach shaded on the maps)."""
    return coverage is not None and coverage.demand_kind == "cells"


def _gradual(coverage: Coverage | None) -> bool:
    """Whether a coverage counts residents by distance (gradual coverage: each unit's covered_share)."""
    return coverage is not None and "covered_share" in coverage.towns


def _add_cells(fmap: folium.Map, cells: gpd.GeoDataFrame) -> bool:
    """A population grid's cells beyond reach — with gradual coverage, with residents not counted covered — (as on
    the static maps: darker where more people live) as one picture laid on the map (_cells_picture). Whether
    there were any."""
    name = "未计入覆盖的居民 Residents not counted covered" if "covered_share" in cells else "未覆盖网格 Cells beyond reach"
    return _cells_picture(fmap, cells, lambda ax, crs: _draw_static_cells(ax, cells, crs, chinese=False), name)


def _cells_picture(fmap: folium.Map, cells: gpd.GeoDataFrame, draw: Callable, name: str) -> bool:
    """What `draw(ax, crs)` draws of a grid's `cells` as one picture laid on the map as the layer `name`, drawn in
    the map's own Web Mercator (in 64 colours: ~80 kB for the sample's 1 km grid, where a shape per cell would take
    megabytes). Whether it drew anything."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image
    from pyproj import Transformer

    mercator = "EPSG:3857"
    fig = plt.figure(figsize=(10, 10))
    ax = fig.add_axes([0, 0, 1, 1])
    draw(ax, mercator)
    if not ax.collections:  # nothing to draw
        plt.close(fig)
        return False
    x0, y0, x1, y1 = cells.to_crs(mercator).total_bounds
    ax.set(xlim=(x0, x1), ylim=(y0, y1))
    ax.set_axis_off()
    fig.set_size_inches(10, 10 * (y1 - y0) / (x1 - x0))
    drawn, picture = io.BytesIO(), io.BytesIO()
    fig.savefig(drawn, format="png", dpi=SAVED_DPI, transparent=True)
    plt.close(fig)
    Image.open(drawn).quantize(64, method=Image.Quantize.FASTOCTREE).save(picture, "PNG", optimize=True)
    (west, east), (south, north) = Transformer.from_crs(mercator, WGS84, always_xy=True).transform([x0, x1], [y0, y1])
    folium.raster_layers.ImageOverlay(f"data:image/png;base64,{base64.b64encode(picture.getvalue()).decode()}",
                                      bounds=[[south, west], [north, east]], pixelated=False, opacity=0.75,
                                      name=name).add_to(fmap)
    return True


def _town_layer(ds: Dataset, coverage: Coverage | None) -> gpd.GeoDataFrame:
    """Towns with their coverage: measured directly, or summed from grid cells (covered = most residents)."""
    if coverage is None:
        return ds.towns
    if coverage.demand_kind == "towns":
        return coverage.towns
    towns = ds.towns.copy()
    unserved = coverage.underserved_towns.set_index("town_id")
    towns["reason"] = towns["town_id"].map(unserved["reason"]).fillna("")
    towns["unserved_share"] = towns["town_id"].map(unserved["unserved_share_pct"]).fillna(0.0) / 100.0
    towns["covered"] = towns["unserved_share"] < 0.5
    by_town = coverage.by_town().set_index("town_id")
    towns["mean_nearest_km"] = towns["town_id"].map(by_town["mean_distance_to_branch_km"])
    if "coverage_by_distance_pct" in by_town:  # gradual coverage: its cells' residents counted by distance
        towns["covered_share"] = towns["town_id"].map(by_town["coverage_by_distance_pct"]).fillna(0.0) / 100.0
    return towns


def _add_towns(fmap: folium.Map, towns: gpd.GeoDataFrame, town_shares: pd.DataFrame | None = None,
               town_changes: pd.DataFrame | None = None) -> None:
    features = []
    changes = _change_notes(towns, town_changes)
    points = towns.geometry.representative_point()
    radii = town_radii(towns["population"].fillna(0).to_numpy(float))
    unserved = _unserved_share(towns)
    ours = _our_shares(towns, town_shares)
    for point, row, radius, share, (plan, today), (change, lost) in zip(points, towns.itertuples(), radii, unserved,
                                                                      ours, changes):
        text = f"{html.escape(str(row.name))} ({html.escape(str(row.county))}): {row.population / 1e4:.1f}万人"
        if hasattr(row, "nearest_branch_km"):
            text += f"<br>最近网点 nearest branch {row.nearest_branch_km:.1f} km"
        if np.isfinite(getattr(row, "mean_nearest_km", np.nan)):  # a grid: its residents' mean
            text += f"<br>居民到最近网点平均 residents' mean distance to the nearest branch {row.mean_nearest_km:.1f} km"
        if town_shares is None:
            text += f"<br>未覆盖 unserved {share:.0%}" + (" (按距离折算 counted by distance)"
                                                       if "covered_share" in towns else "")
        else:
            text += f"<br>我行份额 our market share {plan:.1f}%" + (
                f" (现有 today {today:.1f}%)" if np.isfinite(today) else "")
        if getattr(row, "reason", ""):
            text += f"<br>{html.escape(row.reason)}"
        colour = _shade(share) if town_shares is None else share_colour(plan)
        features.append(_point(point, text + change, f"{row.name} ({row.county})", radius=float(radius),
                               weight=3 if lost else 1,
                               fillOpacity=0.6, color=LOSING_COLOUR if lost else colour, fillColor=colour))
    _point_layer("乡镇 Towns", features).add_to(fmap)


def town_radii(population: np.ndarray) -> np.ndarray:
    """Each town's dot on an HTML map, in pixels: 3 for none to 15 for the most residents, by the square root
    (its area by its residents); no towns, no radii."""
    return 3 + 12 * np.sqrt(population / population.max(initial=1.0))


def _change_notes(towns: gpd.GeoDataFrame, town_changes: pd.DataFrame | None) -> list[tuple[str, bool]]:
    """Per town: its tooltip's line on coverage today → plan ('' where it does not change) and whether it loses."""
    if town_changes is None:
        return [("", False)] * len(towns)
    changed = town_changes.set_index("town_id")
    notes = []
    for town in towns["town_id"]:
        if town not in changed.index:
            notes.append(("", False))
            continue
        row = changed.loc[town]
        notes.append((f"<br>覆盖变化 covered today → plan {row['covered_wan_before']:.2f}万 → "
                      f"{row['covered_wan_after']:.2f}万 ({row['change_wan']:+.2f}万)", row["change_wan"] < 0))
    return notes


def _losing(town_changes: pd.DataFrame | None) -> np.ndarray:
    """The town ids of a towns_changed table that lose coverage (none without one)."""
    if town_changes is None:
        return np.array([], dtype=object)
    return town_changes.loc[town_changes["change_wan"] < 0, "town_id"].to_numpy()


def _unserved_share(towns: gpd.GeoDataFrame) -> np.ndarray:
    """Each town's share left unserved, its shade on the HTML map: with gradual coverage what is not counted
    covered by distance, else a grid's residents beyond reach, else all or nothing."""
    if "covered_share" in towns:
        return 1.0 - towns["covered_share"].fillna(0.0).to_numpy(float)
    if "unserved_share" in towns:
        return towns["unserved_share"].fillna(0.0).to_numpy(float)
    if "covered" in towns:
        return np.where(towns["covered"].to_numpy(bool), 0.0, 1.0)
    return np.zeros(len(towns))


def _our_shares(towns: gpd.GeoDataFrame, town_shares: pd.DataFrame | None) -> np.ndarray:
    """Per town: (our share % under the plan, today's %; NaN where not given)."""
    if town_shares is None:
        return np.full((len(towns), 2), np.nan)
    columns = [town_shares[name] if name in town_shares else pd.Series(dtype=float) for name in ("plan", "today")]
    return np.column_stack([towns["town_id"].map(column).to_numpy(float) for column in columns])


SHARE_LOW, SHARE_HIGH = np.array([0xe5, 0xf5, 0xe0]), np.array([0x00, 0x6d, 0x2c])  # pale to deep green


def share_colour(percent: float) -> str:
    """Pale green (no share) to deep green (the whole town), grey where unknown."""
    if not np.isfinite(percent):
        return "#999999"
    return _blend(SHARE_LOW, SHARE_HIGH, percent / 100.0)


def _shade(share: float) -> str:
    """Blue (all served) through purple to red (nobody served)."""
    return _blend(np.array([0x2c, 0x7f, 0xb8]), np.array([0xc0, 0x39, 0x2b]), share)


def _blend(low: np.ndarray, high: np.ndarray, fraction: float) -> str:
    """The colour `fraction` (clipped to 0..1) of the way from RGB `low` to RGB `high`, as #rrggbb."""
    r, g, b = (low + (high - low) * min(max(fraction, 0.0), 1.0)).astype(int)
    return f"#{r:02x}{g:02x}{b:02x}"


def _branch_label(row) -> str:
    """A branch as the find box offers it: "name (bank) · id", so typing either its name or its id finds it."""
    bank = "" if pd.isna(row.bank) else row.bank
    return f"{row.name} ({bank}) · {row.branch_id}"


def _add_rivals(fmap: folium.Map, rivals: gpd.GeoDataFrame) -> None:
    features = [_point(row.geometry, f"{html.escape(str(row.bank))}: {html.escape(str(row.name))}",
                       _branch_label(row), radius=2.5, color="#999", fillColor="#999", weight=1,
                       fillOpacity=0.6) for row in rivals.itertuples()]
    _point_layer("他行网点 Other banks", features).add_to(fmap)


def _add_service_circles(fmap: folium.Map, coverage: Coverage) -> None:
    """Each branch's service radius (80% of its assigned residents), as circles in a layer shown on demand."""
    features = [_point(row.geometry, f"{html.escape(str(row.name))}: {row.service_radius_km:.2f} km",
                       radius=float(row.service_radius_km) * 1000.0, weight=1, color="#444", fill=False)
                for row in coverage.branches.itertuples()
                if np.isfinite(getattr(row, "service_radius_km", np.nan)) and row.service_radius_km > 0]
    _point_layer("服务半径 Service radius", features, metres=True, show=False).add_to(fmap)


SERVICE_AREA_SIMPLIFY_M = 50.0  # a service area's outline drawn to within this: the page stays light


def _add_service_areas(fmap: folium.Map, coverage: Coverage) -> None:
    """Each branch's service area 服务范围 (its Voronoi cell in its county), outlined in a layer shown on demand,
    its name, area and residents in the tooltip; none without county boundaries."""
    areas = coverage.service_areas()
    if areas is None:
        return
    metric = metric_crs(areas)
    outlines = shapely.set_precision(areas.to_crs(metric).simplify(SERVICE_AREA_SIMPLIFY_M).to_crs(4326).to_numpy(),
                                     1e-5)  # about a metre: five decimals of a degree
    shown = gpd.GeoDataFrame({"tip": [f"{html.escape(str(row.name))}: {row.service_area_km2:.2f} km², "
                                      f"{row.service_area_population / 1e4:.2f}万人" for row in areas.itertuples()],
                              "name": ""}, geometry=outlines, crs=4326)  # not for the find box
    layer = folium.FeatureGroup(name="服务范围 Service areas", show=False)
    folium.GeoJson(shown, style_function=lambda _: {"color": "#555", "weight": 1, "fill": False},
                   tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(layer)
    layer.add_to(fmap)


def _add_site_plan(fmap: folium.Map, sites: gpd.GeoDataFrame, selected: list, moves: pd.DataFrame | None,
                   plan: pd.DataFrame | None = None) -> None:
    """Sites a model opens (green; filled with their type's colour and named by it when a type plan covers
    them), existing branches it closes (red, dashed) and its moves (orange lines)."""
    from netopt.models.types import TYPE_ZH

    ranked = "rank" in sites  # candidate or suggested sites, each named by its rank
    layer = folium.FeatureGroup(name="候选网点 Candidate sites" if ranked else
                                "方案 Plan: 新设 open / 撤并 close / 迁址 move")
    for start, end, text in _move_lines(sites, moves):
        folium.PolyLine([[start.y, start.x], [end.y, end.x]], color=MOVE_COLOUR, weight=3, dash_array="8 6",
                        tooltip=html.escape(text)).add_to(layer)
    chosen = sites["site_id"].isin(selected)
    opened = sites[chosen & (sites["kind"] == "new")]
    closed = sites[~chosen & (sites["kind"] == "existing")]
    features = []
    for row, kind, noted in zip(opened.itertuples(), _planned_types(opened, plan), _tooltip_notes(opened)):
        named = f" · {TYPE_ZH[kind]} {kind}" if kind in TYPE_ZH else ""
        what = f"候选 candidate #{row.rank}" if ranked else "新设 open"
        features.append(_point(row.geometry, f"{what}: {html.escape(str(row.name))}{named}{noted}", str(row.name),
                               **{**OPEN_STYLE, "fillColor": TYPE_COLOURS.get(kind, NEW_COLOUR)}))
    features += [_point(row.geometry, f"撤并 close: {html.escape(str(row.name))}{noted}", **CLOSE_STYLE)
                 for row, noted in zip(closed.itertuples(), _tooltip_notes(closed))]
    _point_layer(layer, features).add_to(fmap)
    if ranked and len(opened):
        _rank_numbers(opened).add_to(layer)


RANK_NUMBER = ("<div style='color:{colour};font:bold 13px sans-serif;text-shadow:0 0 3px #fff,0 0 3px #fff'>"
               "{rank}</div>")


def _rank_numbers(opened: gpd.GeoDataFrame) -> folium.GeoJson:
    """The best RANKS_SHOWN suggested or candidate sites' numbers beside their circles, always shown (as on the
    PNG; every site's tooltip has its own): one GeoJSON of text markers that take no clicks, so the circles'
    tooltips still open."""
    best = opened.sort_values("rank", kind="stable").head(RANKS_SHOWN)
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [row.geometry.x, row.geometry.y]},
                 "properties": {"name": "", "style": {"html": RANK_NUMBER.format(colour=NEW_COLOUR, rank=row.rank)}}}
                for row in best.itertuples()]
    return folium.GeoJson({"type": "FeatureCollection", "features": features}, control=False,
                          marker=folium.Marker(icon=folium.DivIcon(icon_size=(24, 16), icon_anchor=(-8, 20),
                                                                   class_name="netopt-rank"), interactive=False),
                          style_function=lambda feature: feature["properties"]["style"])


class FindBox(folium.MacroElement):
    """A box on the map to find a town or branch by name 查找 — typing offers the names of the points drawn (those
    `_point` named), choosing one centres the map on it and opens its tooltip. A few lines of script rather than
    a search plugin, whose files folium would fetch from a CDN: the map works offline."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div id="{{ this.get_name() }}" style="position: fixed; top: 10px; left: 54px; z-index: 9999;
             background: white; padding: 4px; border: 1px solid #999; font-size: 12px">
          <input list="{{ this.get_name() }}_names" placeholder="查找乡镇/网点 Find a town or branch" size="28">
          <datalist id="{{ this.get_name() }}_names">{{ this.options }}</datalist>
        </div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        document.querySelector("#{{ this.get_name() }} input").addEventListener("change", function (event) {
            var map = {{ this.map_name }}, wanted = event.target.value;
            map.eachLayer(function (layer) {
                if (layer.feature && layer.feature.properties.name === wanted && layer.getLatLng) {
                    map.setView(layer.getLatLng(), Math.max(map.getZoom(), 13), {animate: false});
                    layer.fire("mouseover", {latlng: layer.getLatLng()}, true);  // its layer's tooltip opens
                }
            });
        });
        {% endmacro %}
    """)

    def __init__(self, fmap: folium.Map):
        super().__init__()
        self._name = "FindBox"
        self.map_name = fmap.get_name()
        names = sorted({feature["properties"]["name"] for layer in fmap._children.values()
                        if isinstance(layer, folium.FeatureGroup) for child in layer._children.values()
                        if isinstance(child, folium.GeoJson) for feature in child.data["features"]} - {""})
        self.options = "".join(f'<option value="{html.escape(name)}">' for name in names)


def _tooltip_notes(sites: gpd.GeoDataFrame) -> list[str]:
    """Each site's plan_note as a tooltip's tail (" · note", escaped), "" where it has none."""
    notes = sites["plan_note"].fillna("") if "plan_note" in sites else pd.Series("", index=sites.index)
    return [f" · {html.escape(str(note))}" if note else "" for note in notes]


MOVE_COLOUR = "#f28e2b"
NEW_COLOUR = "#1a9850"
OPEN_STYLE = {"radius": 8, "color": NEW_COLOUR, "weight": 3, "fillColor": NEW_COLOUR, "fillOpacity": 0.9}
CLOSE_STYLE = {"radius": 8, "color": "#d73027", "weight": 3, "fill": False, "dashArray": "4 3"}


def _point(where, tip: str, name: str = "", **style) -> dict:
    """A GeoJSON point feature (`where` a shapely point, lon/lat) with its tooltip (HTML), the `name` the map's
    find box knows it by (none: not found there) and its Leaflet path style (radius, color, weight, fillColor,
    fillOpacity, fill, dashArray)."""
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(where.x), float(where.y)]},
            "properties": {"tip": tip, "name": name, "style": {"fill": True, **style}}}


def _line(start, end, tip: str, **style) -> dict:
    """A GeoJSON line feature from `start` to `end` (shapely points, lon/lat) with its tooltip (HTML) and Leaflet
    path style, drawn by `_point_layer` as `_point`'s are (no name: the find box leaves it out)."""
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[float(start.x), float(start.y)],
                                                                                  [float(end.x), float(end.y)]]},
            "properties": {"tip": tip, "name": "", "style": {"fill": False, **style}}}


def _point_layer(layer: str | folium.FeatureGroup, features: list[dict], metres: bool = False,
                 show: bool = True) -> folium.FeatureGroup:
    """A layer (a new one named `layer`, or the one given) of points drawn as circles sized in pixels (in metres
    with `metres`) — or lines —, each styled and with its tooltip as `_point` made it: one GeoJSON element for the whole
    layer, where a folium marker per point costs a template each when the page is written."""
    group = folium.FeatureGroup(name=layer, show=show) if isinstance(layer, str) else layer
    if features:  # the styler (not Leaflet's setStyle, which leaves an L.Circle's radius) sizes each circle
        numbered = [{**feature, "id": str(k)} for k, feature in enumerate(features)]
        folium.GeoJson({"type": "FeatureCollection", "features": numbered}, control=False,
                       marker=folium.Circle() if metres else folium.CircleMarker(),
                       style_function=lambda feature: feature["properties"]["style"],
                       tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(group)
    return group


TAKERS_COLOUR = "#6a3d9a"
TAKERS_LAYER = "客户承接 Where closed branches' residents go"
TAKERS_LEGEND = (f"<br><span style='color:{TAKERS_COLOUR}'>—</span> 客户承接 closed branch → branches taking on its "
                 "residents")


def _taker_lines(takers: pd.DataFrame, starts: gpd.GeoSeries, ends: gpd.GeoSeries, prefix: str = "",
                 most: float | None = None) -> list[dict]:
    """A line feature (as `_point`'s, for `_point_layer`) from each closed branch (`starts`, places by closed_id)
    to each branch taking on its residents (`ends`, by taker_id) — planning.closure_takers' rows —, thicker for
    more residents (the thickest for `most` 万人, by default the most of a row); its tooltip after `prefix` (a
    plan's name), none where either place is unknown."""
    lines = line_layer(takers, starts, "closed_id", ends, "taker_id")
    weights = 1.5 + 4.5 * _taker_strength(lines["residents_wan"].to_numpy(float), most)
    return [_line(*shapely.points(row.geometry.coords), f"{prefix}客户承接 takes on: {html.escape(str(row.closed_name))} "
                  f"→ {html.escape(str(row.taker_name))}, {row.residents_wan:,.2f}万人, {row.distance_km:,.1f} km",
                  color=TAKERS_COLOUR, weight=float(weight), opacity=0.8)
            for row, weight in zip(lines.itertuples(), weights) if row.geometry is not None]


def _taker_strength(residents: np.ndarray, most: float | None = None) -> np.ndarray:
    """How strongly to draw each closure taker's line, 0..1: the square root of its residents' share of `most` 万人
    (by default the most of a row)."""
    return np.sqrt(residents / max(float(residents.max() if most is None else most), 1e-9))


def _planned_types(opened: gpd.GeoDataFrame, plan: pd.DataFrame | None) -> list[str]:
    """The type a type plan (branch_id = site_id, type) gives each opened site, "" where it gives none."""
    if plan is None:
        return [""] * len(opened)
    return opened["site_id"].map(plan.set_index("branch_id")["type"]).fillna("").astype(str).tolist()


def _move_lines(sites: gpd.GeoDataFrame, moves: pd.DataFrame | None) -> list[tuple]:
    """Each move 迁址 of a relocation_moves table as (closed branch's point, new site's point, text such as
    "迁址 move: A → B, 2.3 km"), the points in the CRS of `sites`."""
    if moves is None or moves.empty:
        return []
    where = sites.set_index("site_id").geometry
    return [(where.loc[move.from_id], where.loc[move.to_id],
             f"迁址 move: {move.from_name} → {move.to_name}, {move.distance_km:.1f} km")
            for move in moves[moves["action"] == "move"].itertuples(index=False)]


def _own_types(branches: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """The branches' own types (a type column: a bank's 网点类型, or plan --p's network after it) as a type plan's
    table — branch_id, type, type_zh — to colour them by; None where no branch has one."""
    from netopt.models.types import TYPE_ZH

    known = branches["type"].isin(list(TYPE_ZH)) if "type" in branches else pd.Series(False, index=branches.index)
    if not known.any():
        return None
    kinds = branches.loc[known, "type"]
    return pd.DataFrame({"branch_id": branches.loc[known, "branch_id"], "type": kinds, "type_zh": kinds.map(TYPE_ZH)})


def _add_branches(fmap: folium.Map, branches: gpd.GeoDataFrame, plan: pd.DataFrame | None) -> None:
    features = []
    typed = plan.set_index("branch_id") if plan is not None else None
    for row, new in zip(branches.itertuples(), planned_new(branches)):
        tip = (f"{html.escape(str(row.name))} · {html.escape(str(row.branch_id))}<br>"
               f"{html.escape('' if pd.isna(row.bank) else str(row.bank))}")
        if hasattr(row, "assigned_population"):
            tip += f"<br>服务人口 residents served {row.assigned_population / 1e4:.1f}万"
            if np.isfinite(getattr(row, "service_radius_km", np.nan)):
                tip += f", 服务半径 service radius {row.service_radius_km:.2f} km"
        if np.isfinite(getattr(row, "catchment_residents_wan", np.nan)):  # accessibility's
            tip += f"<br>搜索范围内人口 residents within its catchment {row.catchment_residents_wan:.2f}万 (按距离衰减 weighted)"
        if np.isfinite(getattr(row, "service_area_population", np.nan)):
            tip += (f"<br>服务范围 service area {row.service_area_km2:.2f} km², "
                    f"{row.service_area_population / 1e4:.2f}万人")
        planned = getattr(row, "plan", None)  # a network after a plan (planning.network_after): kept, new …
        if isinstance(planned, str):
            tip += f"<br>方案 plan: {html.escape(planned)}"
        colour = NEW_COLOUR if new else "#222"
        if typed is not None and row.branch_id in typed.index:
            info = typed.loc[row.branch_id]
            colour = TYPE_COLOURS.get(info["type"], colour)
            tip += f"<br>{info['type_zh']} {info['type']}"
            tip += f", 人员 staff {info['staff']}" if "staff" in info else ""
            if pd.notna(info.get("current_type")) and info.get("current_type") != info["type"]:
                tip += f" (现为 now {info['current_type']})"
            if pd.notna(info.get("batch")):  # the rollout batch its change comes in (planning.rollout_batches)
                tip += f", 第{int(info['batch'])}批 batch {int(info['batch'])}"
        features.append(_point(row.geometry, tip, _branch_label(row),
                               radius=5 if new else 2.5 if typed is None else 3.5,
                               color=NEW_COLOUR if new else colour, fillColor=colour, weight=2 if new else 1,
                               fillOpacity=0.9))
    _point_layer("网点 Branches", features).add_to(fmap)


def _type_legend(plan: pd.DataFrame | None) -> str:
    if plan is None:
        return ""
    from netopt.models.types import TYPE_ZH

    return "<br>" + " ".join(f"<span style='color:{colour}'>●</span> {TYPE_ZH[kind]} {kind}"
                             for kind, colour in TYPE_COLOURS.items())


PILOT_COLOUR = "#d4a017"
MANY_TRIPS = 200  # coaching trips a static map draws at full strength; more are drawn lighter and thinner
MANY_HUBS = 50  # training hubs it rings at full size; more get smaller, thinner rings
HUB_COLOUR = "#555555"
ROLLOUT_LEGEND = (f"<br><span style='color:{PILOT_COLOUR}'>◯</span> 试点 pilot &nbsp;"
                  f"<span style='color:{HUB_COLOUR}'>◯</span> 培训中心 training hub &nbsp;"
                  f"<span style='color:{HUB_COLOUR}'>╌</span> 培训 coaching trip")


def _at_branches(branches: gpd.GeoDataFrame, table: pd.DataFrame, column: str = "branch_id") -> gpd.GeoSeries:
    """Each row's place: that of the branch its `column` names (None where no branch of that id has one)."""
    places = places_by(branches, "branch_id")
    return gpd.GeoSeries(table[column].map(places).to_numpy(), index=table.index, crs=branches.crs)


def _coaching_trips(branches: gpd.GeoDataFrame, hubs: pd.DataFrame) -> list[tuple]:
    """Each coaching trip whose branch and hub both have a place: (its row of `hubs`, the branch's point, the
    hub's point), in `branches`' CRS."""
    starts, ends = _at_branches(branches, hubs), _at_branches(branches, hubs, "hub_id")
    return [(row, start, end) for row, start, end in zip(hubs.itertuples(), starts, ends)
            if start is not None and end is not None]


def _add_rollout(fmap: folium.Map, branches: gpd.GeoDataFrame, pilots: pd.DataFrame | None,
                 hubs: pd.DataFrame | None) -> None:
    """The type plan's rollout: a dashed line from each community branch to its training hub, the hubs ringed grey,
    the pilots ringed gold, each with its tooltip."""
    layer = folium.FeatureGroup(name="试点与培训 Pilots and training hubs")
    features = []
    if hubs is not None and len(hubs):
        features += [_line(start, end, html.escape(_coaching_words(row)), color=HUB_COLOUR, weight=1.5,
                           dashArray="4 4") for row, start, end in _coaching_trips(branches, hubs)]
        coached = hubs.groupby("hub_id").size()
        hub_rows = hubs.drop_duplicates("hub_id")
        features += [_point(at, f"培训中心 training hub: {html.escape(str(getattr(row, 'hub_name', row.hub_id)))}, "
                                f"coaches {coached[row.hub_id]}", radius=9, color=HUB_COLOUR, weight=2, fill=False)
                     for row, at in zip(hub_rows.itertuples(), _at_branches(branches, hub_rows, "hub_id"))
                     if at is not None]
    if pilots is not None and len(pilots):
        features += [_point(at, f"试点 pilot: {html.escape(_pilot_words(row))}", radius=11, color=PILOT_COLOUR,
                            weight=3, fill=False)
                     for row, at in zip(pilots.itertuples(), _at_branches(branches, pilots)) if at is not None]
    _point_layer(layer, features).add_to(fmap)


def _coaching_words(row) -> str:
    """A coaching trip as its line's tooltip says it."""
    minutes = getattr(row, "minutes", np.nan)
    return (f"培训 coaching: {getattr(row, 'name', row.branch_id)} → {getattr(row, 'hub_name', row.hub_id)}"
            + (f", {minutes:.0f} min" if pd.notna(minutes) else ""))


def _pilot_words(row) -> str:
    """A pilot as its tooltip says it: its name, region and how many branches it stands for."""
    region = getattr(row, "pilot_region", None)
    represents = getattr(row, "represents", None)
    return (f"{getattr(row, 'name', row.branch_id)}" + (f" ({region_words(region)})" if isinstance(region, str) else "")
            + (f", represents {represents} branches 代表网点" if pd.notna(represents) else ""))


PLAN_LEGEND = (f"<br><span style='color:{NEW_COLOUR}'>◉</span> 新设 open &nbsp;"
               f"<span style='color:#d73027'>◌</span> 撤并 close &nbsp;"
               f"<span style='color:{MOVE_COLOUR}'>╌</span> 迁址 move")


CANDIDATE_LEGEND = f"<br><span style='color:{NEW_COLOUR}'>◉</span> 候选网点 candidate sites (# rank)"
RIVAL_LEGEND = "<br><span style='color:#999'>●</span> 他行网点 other banks"
PLANNED_LEGEND = f"<br><span style='color:{NEW_COLOUR}'>◉</span> 方案新设网点 new in the plan"
LOSING_COLOUR = "#e7298a"
LOSING_LEGEND = f"<br><span style='color:{LOSING_COLOUR}'>◯</span> 失去覆盖乡镇 towns losing coverage"
CELLS_LEGEND = "<br><span style='color:#fd8d3c'>■</span> 未覆盖网格 grid cells beyond reach (darker: more people)"
GRADUAL_CELLS_LEGEND = ("<br><span style='color:#fd8d3c'>■</span> 未计入覆盖的居民(按距离折算) residents not counted "
                        "covered, by distance (darker: more)")
GRADUAL_LEGEND = (f"<span style='color:{_shade(0.0)}'>●</span> 全部计入覆盖 counted wholly &nbsp;"
                  f"<span style='color:{_shade(0.5)}'>●</span> 部分计入(按距离折算) in part, by distance &nbsp;"
                  f"<span style='color:{_shade(1.0)}'>●</span> 未覆盖 not covered<br>")
SHARE_LEGEND = ("乡镇 towns: 我行份额 our market share " + " ".join(
    f"<span style='color:{share_colour(p)}'>●</span> {p}%" for p in (0, 25, 50, 75, 100)) + "<br>")


def compare_map(ds: Dataset, today: gpd.GeoDataFrame, networks: dict[str, gpd.GeoDataFrame],
                towns_differing: pd.DataFrame, title: str = "方案比选 Plans compared",
                today_name: str = "现状网点 Today's branches", takers: pd.DataFrame | None = None) -> folium.Map:
    """Plans side by side on one offline map: today's branches (their layer and legend entry `today_name`, e.g.
    网点2023 for last year's network), then one layer per planned network (the first shown, the others a click
    away) with its new branches (green) and the branches it closes (red), by branch id against `today`; the towns
    where the plans differ (planning.compare_plans' towns table) ringed, each tooltip giving its residents covered
    under each network. `takers` (planning.closure_takers' rows of each plan, by its scenario column) adds to a
    plan's layer a line from each branch it closes to each branch taking on its residents 客户承接."""
    _check_takers(takers, scenario=True)
    fmap = _city_map(ds, None)
    _add_counties(fmap, ds, None)
    _add_differing_towns(fmap, ds.towns, towns_differing)
    _point_layer(f"{html.escape(today_name, quote=False)} ({len(today)})",
                 [_point(row.geometry, html.escape(str(row.name)), str(row.name), radius=2.5, color="#222",
                         fillColor="#222", weight=1, fillOpacity=0.9) for row in today.itertuples()]).add_to(fmap)
    changes = network_changes(Dataset(ds.counties, ds.towns, today), networks)
    for i, name in enumerate(networks):
        new, closed = (changes[(changes["scenario"] == name) & (changes["change"] == PLAN_CHANGES[change])]
                       for change in ("new", "closed"))
        features = [_point(row.geometry, f"{html.escape(name)} 新设 open: {html.escape(str(row.name))}", **OPEN_STYLE)
                    for row in new.itertuples()]
        features += [_point(row.geometry, f"{html.escape(name)} 撤并 close: {html.escape(str(row.name))}",
                            **CLOSE_STYLE) for row in closed.itertuples()]
        mine = takers[takers["scenario"] == name] if takers is not None else ()
        if len(mine):
            features += _taker_lines(mine, places_by(today, "branch_id"), places_by(networks[name], "branch_id"),
                                     f"{html.escape(name)} ", takers["residents_wan"].max())  # alike in every plan
        _point_layer(f"{html.escape(name)}: 新设 {len(new)} open / 撤并 {len(closed)} close", features,
                     show=i == 0).add_to(fmap)
    keys = (f"<span style='color:#222'>●</span> {html.escape(today_name)}<br>"
            f"<span style='color:{NEW_COLOUR}'>◉</span> 新设 open &nbsp;<span style='color:#d73027'>◌</span> 撤并 "
            f"close (one layer per plan)<br><span style='color:{LOSING_COLOUR}'>◯</span> 方案间覆盖不同的乡镇 towns "
            "where the plans differ" + (TAKERS_LEGEND if takers is not None and len(takers) else ""))
    fmap.get_root().html.add_child(folium.Element(_legend_box(title, keys, _attribution(ds))))
    FindBox(fmap).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _add_differing_towns(fmap: folium.Map, towns: gpd.GeoDataFrame, differing: pd.DataFrame) -> None:
    """Towns as grey dots, those where the plans differ ringed and sized by residents, with each network's
    residents covered (万人) in the tooltip — counted by distance where compare counts them so."""
    from netopt.planning import compared_by

    by = compared_by(differing)
    covered = differing.set_index("town_id").filter(like=by)
    words = "counted by distance 按距离折算" if by == "counted_wan " else "covered 覆盖"
    features = []
    for point, row in zip(towns.geometry.representative_point(), towns.itertuples()):
        text = f"{html.escape(str(row.name))} ({html.escape(str(row.county))}): {row.population / 1e4:.1f}万人"
        name = f"{row.name} ({row.county})"
        if row.town_id not in covered.index:
            features.append(_point(point, text, name, radius=3, color="#aaa", fillColor="#aaa", weight=1,
                                   fillOpacity=0.5))
            continue
        text += "".join(f"<br>{html.escape(column.removeprefix(by))}: {value:.2f}万 {words}"
                        for column, value in covered.loc[row.town_id].items())
        features.append(_point(point, text, name, radius=float(4 + 10 * np.sqrt(row.population / 2e5)),
                               color=LOSING_COLOUR, weight=3, fill=False))
    _point_layer("乡镇 Towns", features).add_to(fmap)


def _legend_box(title: str, body: str, attribution: str = "") -> str:
    """The legend's fixed box (bottom left): a bold title, the keys (HTML) and the data's attribution if any."""
    source = attribution and f"<br><span style='color:#777; font-size: 10px'>{html.escape(attribution)}</span>"
    return ("<div style='position: fixed; bottom: 60px; left: 20px; z-index: 9999; background: white; "
            "padding: 8px; border: 1px solid #999; font-size: 12px; max-width: 460px'>"
            f"<b>{html.escape(title)}</b><br>{body}{source}</div>")


def _add_legend(fmap: folium.Map, coverage: Coverage | None, keys: str = "", title: str | None = None,
                shares: bool = False, attribution: str = "") -> None:
    """The legend box: title, town and branch symbols (towns by coverage, or by our market share with
    `shares`), the map's further `keys` (HTML), radius, the data's `attribution`."""
    radius = "" if coverage is None else f"<br>服务范围 {html.escape(coverage.settings.describe())}"
    uncovered = "未覆盖乡镇 uncovered town"
    if _on_grid(coverage):
        uncovered = "多数居民未覆盖 most residents beyond the limit"
    towns = SHARE_LEGEND if shares else GRADUAL_LEGEND if _gradual(coverage) else (
        f"<span style='color:#2c7fb8'>●</span> 已覆盖 covered &nbsp;<span style='color:#c0392b'>●</span> {uncovered}<br>")
    legend = _legend_box(title or "netopt " + _default_title(None),
                         towns + "<span style='color:#222'>●</span> 银行网点 bank branch" + keys + radius,
                         attribution)
    fmap.get_root().html.add_child(folium.Element(legend))


SCALE_BAR_KM = (1, 2, 5, 10, 20, 50, 100)  # lengths a scale bar may have
INSET_SIDE = 0.36  # the core inset's side, as a share of the map's
INSET_BELOW = 0.3  # an inset when the core towns span less than this share of the map's width and height
def _check_rollout(pilots: pd.DataFrame | None, hubs: pd.DataFrame | None) -> None:
    """Pilots and training hubs to draw: select_pilots' and training_hubs' tables (branch_id; hubs also hub_id)."""
    if pilots is not None:
        check_columns(pilots, ("branch_id",), "map", "pilots", "planning.select_pilots")
    if hubs is not None:
        check_columns(hubs, ("branch_id", "hub_id"), "map", "hubs", "planning.training_hubs")


def _check_takers(takers: pd.DataFrame | None, scenario: bool = False) -> None:
    """Closure takers to draw: planning.closure_takers' table (compare's with a scenario column too)."""
    if takers is not None:
        check_columns(takers, CLOSURE_TAKER_COLUMNS + (("scenario",) if scenario else ()), "map", "takers",
                      "planning.closure_takers")


def _check_plan(plan: pd.DataFrame | None) -> None:
    """A type plan to colour branches by: a table with branch_id and type (assign_branch_types'), or None."""
    if plan is not None:
        check_plan_columns(plan, ("branch_id", "type"), file="map")


FIGURE_FORMATS = ("png", "pdf", "svg")


def _figure_format(path) -> str:
    """The format a figure is written in by the file suffix (PNG without one), or an InputError for one matplotlib
    is not asked to write."""
    kind = Path(path).suffix.lstrip(".").lower() or "png"
    if kind not in FIGURE_FORMATS:
        raise InputError(f"a map or chart is written as .png, .pdf or .svg, not .{kind}", file=str(path))
    return kind


def _pyplot(path):
    """matplotlib's pyplot, drawing off screen, once `path` names a format a figure is written in (an InputError
    before anything is drawn: a map takes seconds)."""
    _figure_format(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _saved(fig, path) -> Path:
    """A matplotlib figure written atomically as PNG, PDF or SVG (by the file suffix; PNG without one), cut to
    what it draws, then closed; its path. The cut is measured here, as savefig's bbox_inches="tight" would
    measure it after drawing the whole figure once more for nothing (a map's names are laid out already)."""
    import matplotlib.pyplot as plt

    from netopt.io import write_atomic

    kind = _figure_format(path)
    fig.set_dpi(SAVED_DPI)  # measured at the dpi it is saved at: text extents are hinted per dpi
    drawn = fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    target = write_atomic(path, lambda p: fig.savefig(p, dpi=SAVED_DPI, bbox_inches=drawn, format=kind))
    plt.close(fig)
    return target


def static_map(ds: Dataset, path, coverage: Coverage | None = None, plan: pd.DataFrame | None = None,
               title: str | None = None, sites: gpd.GeoDataFrame | None = None, selected: list | None = None,
               moves: pd.DataFrame | None = None, town_shares: pd.DataFrame | None = None,
               town_changes: pd.DataFrame | None = None, pilots: pd.DataFrame | None = None,
               hubs: pd.DataFrame | None = None, service_areas: bool = False,
               takers: pd.DataFrame | None = None, access: Accessibility | None = None) -> Path:
    """The same view as network_map as a PNG, PDF or SVG (by the file suffix) for slides and printed reports;
    with `sites` and `selected` (and `moves`), the plan's openings, closures and moves 迁址 drawn on top (and with
    `takers`, planning.closure_takers', a line from each closed branch to each branch taking on its residents);
    with `town_shares` (as for network_map), towns coloured by our market share under the plan; with
    `town_changes` (planning.towns_changed), the towns losing coverage ringed; with `pilots` and `hubs`, the
    pilot branches ringed gold (and named) and each community branch's coaching trip to its hub dashed; with
    `service_areas`, each branch's service area 服务范围 of `coverage` outlined (Coverage.service_areas); with
    `access` (netopt.accessibility's result), towns — and a grid's cells — coloured by access as access_map does.

    Chinese labels need a Chinese font (netopt.fonts: an installed one, or no.use_font(path)); without one the
    labels fall back to pinyin and English, and a ChineseFontWarning says so. With one, towns are named beside
    their dots: every town on a map of TOWN_NAMES_UP_TO or fewer (a county's), else as many of the uncovered
    ones, the most populous first."""
    plt = _pyplot(path)

    _check_plan(plan)
    _check_rollout(pilots, hubs)
    _check_takers(takers)
    check_accessibility(access, "map", optional=True)
    font = figure_font()
    crs = metric_crs(ds.counties if ds.counties.geometry.notna().all() else ds.towns, ds.branches)
    view = {"coverage": coverage, "plan": plan, "town_shares": town_shares, "losing": _losing(town_changes),
            "service_areas": service_areas, "access": access,
            "sites": sites, "selected": selected, "moves": moves, "pilots": pilots, "hubs": hubs, "takers": takers}
    with drawing_in(font):
        fig, ax = plt.subplots(figsize=(10, 10))

        def draw(on, inset: bool = False) -> None:
            _draw_static_view(on, ds, crs, font is not None, inset, **view)
        draw(ax)
        _lay_out_corners(ax, ds, crs, draw, chinese=font is not None)
        title = title or _default_title(plan, _planned_new(ds.branches).any())
        ax.set_title(title if font else _without_chinese(title), fontsize=14)
        return _saved(fig, path)


def curve_chart(table: pd.DataFrame, path, radius: str, kept: int = 0) -> Path:
    """The coverage curve (MCLP.curve's table) as a PNG or PDF: residents covered (%) within `radius` (words, e.g.
    "3.5 km" or "core 1.2 km, county 3.5 km") against new branches
    (p minus the `kept` branches), with each step's gain in 万人 as bars; for a moves_curve table, against the
    number of branches moved 迁址; for MarketShare's tables, the market share won instead of coverage."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot(path)

    font = figure_font()
    new, solved, won = curve_points(table, kept, "curve_chart")
    moves = "moves" in solved
    share_pct = "share_pct" if won else "covered_pct"
    x_label = ("迁址数", "branches moved") if moves else ("新增网点数", "new branches")
    title = {(False, False): ("覆盖率曲线", "Coverage curve"), (True, False): ("迁址曲线", "Relocation curve"),
             (False, True): ("市场份额曲线", "Market share curve"),
             (True, True): ("市场份额迁址曲线", "Relocation curve, market share")}[(moves, won)]
    with drawing_in(font):
        fig, share = plt.subplots(figsize=(9, 5))
        gain = share.twinx()
        gain.bar(new, solved["gain"].fillna(0.0) / 1e4, color="#9ecae1", width=0.6,
                 label=_label("边际增量（万人）", "gain (10k residents)", font is not None))
        share.plot(new, solved[share_pct], color="#08519c", marker="o",
                   label=_label(*(("市场份额（%）", "market share (%)") if won else ("覆盖率（%）", "covered (%)")),
                                font is not None))
        share.set_zorder(gain.get_zorder() + 1)
        share.patch.set_visible(False)
        share.set_xlabel(_axis_label(*x_label, font is not None))
        share.set_ylabel(_axis_label(*(("市场份额（%）", "residents won from the other banks (%)") if won else
                                       (f"{radius} 内覆盖率（%）", f"residents within {radius} (%)")),
                                     font is not None))
        gain.set_ylabel(_axis_label("边际增量（万人）", "gain per step (10k residents)", font is not None))
        share.set_title(_label(*title, font is not None), fontsize=13)
        share.grid(alpha=0.3)
        share.xaxis.set_major_locator(MaxNLocator(integer=True))
        return _saved(fig, path)


REGION_LINES = {kind: (REGION_ZH[kind], kind, colour) for kind, colour in
                (("core", "#08519c"), ("county", "#238b45"), ("fringe", "#d95f0e"), ("unknown", "#969696"))}


def radius_chart(table: pd.DataFrame, path, radii: dict | None = None) -> Path:
    """Coverage against the service radius (coverage.coverage_by_radius's table) — or against the travel time
    (coverage_by_minutes's, its `travel_minutes` column) — as a PNG or PDF: one line per region type and one for the
    city, the diagnosis's own radii or minutes (`radii`, e.g. {"core": 1.2, "county": 3.5}) marked on their
    region's line."""
    plt = _pyplot(path)

    key, unit, x_label, title = (("travel_minutes", "min", ("通行时间（分钟）", "travel time (min)"),
                                  ("覆盖率-时间曲线", "Coverage by travel time")) if "travel_minutes" in table else
                                 ("radius_km", "km", ("服务半径（km）", "service radius (km)"),
                                  ("覆盖率-半径曲线", "Coverage by service radius")))
    font = figure_font()
    with drawing_in(font):
        fig, ax = plt.subplots(figsize=(9, 5))
        ax.plot(table[key], table["coverage_pct"], color="#333", linewidth=2.5,
                label=_label("全市", "city", font is not None))
        for kind, (zh, en, colour) in REGION_LINES.items():
            if f"coverage_pct_{kind}" not in table:
                continue
            ax.plot(table[key], table[f"coverage_pct_{kind}"], color=colour, marker="o", markersize=3,
                    label=_label(zh, en, font is not None))
            at = (radii or {}).get(kind)
            if at is not None and (table[key] == at).any():
                value = float(table.loc[table[key] == at, f"coverage_pct_{kind}"].iloc[0])
                ax.scatter([at], [value], s=90, facecolors="none", edgecolors=colour, linewidths=2, zorder=3)
                ax.annotate(f"{at:g} {unit}: {value:.1f}%", (at, value), xytext=(8, -14), textcoords="offset points",
                            color=colour, fontsize=9)
        ax.set_xlabel(_axis_label(*x_label, font is not None))
        ax.set_ylabel(_axis_label("覆盖率（%）", "residents within reach (%)", font is not None))
        ax.set_title(_label(*title, font is not None), fontsize=13)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        return _saved(fig, path)


def compare_chart(scenarios: pd.DataFrame, path, radius: str) -> Path:
    """Plans side by side (planning.compare_plans' scenarios table) as a PNG or PDF for the meeting: coverage (%)
    overall and by region type, bars grouped by plan, and the towns left uncovered 服务空白乡镇 by each plan."""
    plt = _pyplot(path)

    font = figure_font()
    chinese = font is not None
    names = [name if chinese or _without_chinese(name) == name else ("today" if i == 0 else f"plan {i}")
             for i, name in enumerate(scenarios["scenario"])]  # today first, as compare_plans gives it
    measures = [("coverage_pct", _label("全市", "all", chinese))] + [
        (column, _label(REGION_ZH.get(column.removeprefix("coverage_pct_"), ""), column.removeprefix("coverage_pct_"),
                        chinese))
        for column in scenarios.columns if column.startswith("coverage_pct_")]
    with drawing_in(font):
        fig, (rates, blank) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [3, 1]})
        width = 0.8 / len(scenarios)
        for i, name in enumerate(names):
            spots = np.arange(len(measures)) + (i - (len(scenarios) - 1) / 2) * width
            bars = rates.bar(spots, [scenarios[column].iloc[i] for column, _ in measures], width, label=name)
            rates.bar_label(bars, fmt="%.1f", fontsize=8)
        rates.set_xticks(np.arange(len(measures)), [label for _, label in measures])
        rates.set_ylabel(_axis_label("覆盖率（%）", "residents covered (%)", chinese))
        rates.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(len(names), 4))
        rates.set_ylim(0, 105)
        rates.grid(axis="y", alpha=0.3)
        bars = blank.bar(np.arange(len(names)), scenarios["towns_uncovered"], color="#c0392b", alpha=0.7)
        blank.bar_label(bars, fontsize=9)
        blank.set_xticks(np.arange(len(names)), names, rotation=30, ha="right")
        blank.set_title(_label("服务空白乡镇", "towns uncovered", chinese), fontsize=11)
        fig.suptitle(f"{_label('方案比选', 'Plans compared', chinese)} — {radius}", fontsize=13)
        return _saved(fig, path)


CHART_COUNTIES = 30  # bars a chart of coverage by county holds (a slide's, a written report's)


def least_covered(by_county: pd.DataFrame, most: int = CHART_COUNTIES) -> tuple[pd.DataFrame, str]:
    """The counties with a coverage rate, the least covered first — of a province's many, the `most` least
    covered — and a title's note saying so where it cut (", the 30 least covered of 105")."""
    rated = by_county.dropna(subset=["coverage_rate_pct"]).sort_values("coverage_rate_pct", kind="stable")
    return rated.head(most), (f", the {most} least covered of {len(rated):,}" if len(rated) > most else "")


def county_chart(by_county: pd.DataFrame, path, most: int = CHART_COUNTIES,
                 words: tuple[tuple[str, str], tuple[str, str]] = (("分区县覆盖率", "Coverage by county"),
                                                                   ("全市", "city"))) -> Path:
    """Coverage by county (coverage's by_county table) as a PNG or PDF for a written report: a bar per county,
    the most covered on top, each labelled with its share, the city's coverage a dashed line; of a province's many
    counties, the `most` least covered. Without a Chinese font the counties are named by their codes. `words`:
    the title's and the whole's, Chinese and English (a batch's units: 各单位覆盖率, 全部单位)."""
    plt = _pyplot(path)

    rated, least = least_covered(by_county, most)
    font = figure_font()
    chinese = font is not None
    names = rated["county"].astype(str) if chinese else rated["county_id"].astype(str)
    city = 100 * by_county["covered_population"].sum() / max(by_county["population"].sum(), 1)
    with drawing_in(font):
        fig, ax = plt.subplots(figsize=(9, 1.2 + 0.32 * len(rated)))
        bars = ax.barh(np.arange(len(rated)), rated["coverage_rate_pct"], color="#4a7ab8")
        ax.bar_label(bars, fmt="%.1f%%", fontsize=8, padding=2)
        ax.axvline(city, color="#c0392b", linestyle="--", linewidth=1.2,
                   label=f"{_label(*words[1], chinese)} {city:.1f}%")
        ax.set_yticks(np.arange(len(rated)), names)
        ax.set_xlim(0, 108)
        ax.set_xlabel(_axis_label("覆盖率（%）", "residents within reach (%)", chinese))
        ax.set_title(_label(*words[0], chinese) + least, fontsize=13)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="lower right", fontsize=9)
        fig.tight_layout()
        return _saved(fig, path)


def units_map(units: gpd.GeoDataFrame, path, title: tuple[str, str] = ("各单位覆盖率", "Coverage by unit")) -> Path:
    """A batch's units (their boundaries with the national table's rows: coverage_rate_pct) coloured by coverage,
    red where least covered to green where all are, a unit without a rate (no branches, or failed) grey — a PNG
    or PDF for the slides and the written report."""
    plt = _pyplot(path)

    font = figure_font()
    chinese = font is not None
    shapes = units[units.geometry.notna() & ~units.geometry.is_empty].to_crs("EPSG:3857")
    rated = shapes["coverage_rate_pct"].notna().to_numpy()
    with drawing_in(font):
        fig, ax = plt.subplots(figsize=(10, 10))
        if not rated.all():
            shapes[~rated].plot(ax=ax, color="#dddddd", edgecolor="#999999", linewidth=0.3)
            ax.fill([], [], color="#dddddd", label=_label("无覆盖率（无网点或未完成）", "no rate (no branches, or failed)",
                                                          chinese))
            ax.legend(loc="lower left", fontsize=9)
        if rated.any():
            shapes[rated].plot(ax=ax, column="coverage_rate_pct", cmap="RdYlGn", vmin=0, vmax=100,
                               edgecolor="#666666", linewidth=0.3, legend=True, legend_kwds={
                                   "shrink": 0.5, "label": _axis_label("覆盖率（%）", "residents within reach (%)",
                                                                       chinese)})
        ax.set_axis_off()
        ax.set_title(_label(*title, chinese), fontsize=13)
        return _saved(fig, path)


def curve_points(table: pd.DataFrame, kept: int, caller: str) -> tuple[np.ndarray, pd.DataFrame, bool]:
    """A curve's solved points (MCLP.curve's or moves_curve's table, MarketShare's too): the new branches at each
    (p minus the `kept` branches) or the branches moved, the points' rows, and whether it is of market share won;
    a table without the columns `caller` needs refused naming them."""
    check_columns(table, ("status", "gain", "moves" if "moves" in table else "p",
                          "share_pct" if "share_pct" in table else "covered_pct"), caller, "the curve table",
                  "a model's curve or moves_curve")
    solved = table[table["status"] != "infeasible"]
    new = solved["moves"].to_numpy() if "moves" in solved else solved["p"].to_numpy() - kept
    return new, solved, "share_pct" in solved


TOWN_LABELS = (("已覆盖乡镇", "covered towns"), ("未覆盖乡镇", "uncovered towns"))
GRID_TOWN_LABELS = (("多数居民已覆盖乡镇", "towns, most residents within reach"),  # on a grid: by most of its residents
                    ("多数居民未覆盖乡镇", "towns, most residents beyond reach"))
GRADUAL_TOWN_LABELS = (("全部计入覆盖乡镇", "towns counted wholly covered"),  # gradual coverage: by the share counted
                       ("部分计入覆盖乡镇(按距离折算)", "towns counted in part, by distance"),
                       ("未覆盖乡镇", "towns not covered"))
WHOLE_SHARE = 1 - 1e-9  # a covered share this close to 1 is the whole town (0 within as much: none of it)


def _draw_static(ax, ds: Dataset, coverage: Coverage | None, plan: pd.DataFrame | None, crs, chinese: bool,
                 town_shares: pd.DataFrame | None = None, inset: bool = False, losing=(), service_areas: bool = False,
                 access: Accessibility | None = None) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Counties (and, with `service_areas`, the branches' service areas), towns (by coverage, or by market share;
    the `losing` town ids ringed) and branches (by type) on a static map; an inset leaves out the market-share
    colour bar the main map has. Returns the towns as drawn (_static_towns: their dots, sizes and coverage), for
    their names."""
    if service_areas and coverage is not None:
        _draw_service_areas(ax, coverage, crs, chinese)
    counties = ds.counties[ds.counties.geometry.notna()].to_crs(crs)
    if len(counties):
        _draw_outlines(ax, counties.geometry)
        for row in counties.itertuples():
            point = row.geometry.representative_point()
            pinyin = getattr(row, "name_pinyin", None)
            label = row.name if chinese else (pinyin if isinstance(pinyin, str) and pinyin else row.county_id)
            ax.annotate(str(label), (point.x, point.y), ha="center", fontsize=9, color="#333", path_effects=_halo(),
                        zorder=NAME_LEVEL)
    if _on_grid(coverage) and town_shares is None:
        _draw_static_cells(ax, coverage.towns, crs, chinese)
    if access is not None and access.demand_kind == "cells":
        _draw_access_cells(ax, access.units, crs)
    towns, size, covered = _static_towns(ds, coverage, crs)
    if access is not None:
        covered = _draw_static_access(ax, towns, size, access, chinese)
    elif town_shares is not None:
        _draw_static_shares(ax, towns, size, _our_shares(towns, town_shares)[:, 0], chinese, colour_bar=not inset)
    else:
        _draw_static_coverage(ax, towns, size, covered, _on_grid(coverage), chinese)
    lost = towns["town_id"].isin(losing).to_numpy()
    if lost.any():
        ax.scatter(towns.geometry.x[lost], towns.geometry.y[lost], s=size[lost] + 40, facecolors="none",
                   edgecolors=LOSING_COLOUR, linewidths=2, zorder=3, label=_label("失去覆盖乡镇", "towns losing coverage",
                                                                                chinese))
    typed = plan if plan is not None else _own_types(ds.branches)  # a type plan's, else the branches' own
    _draw_static_branches(ax, ds.branches.to_crs(crs), typed, chinese)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return towns, size, covered


def _draw_static_coverage(ax, towns: gpd.GeoDataFrame, size: np.ndarray, covered: np.ndarray, on_grid: bool,
                          chinese: bool) -> None:
    """The towns' dots by coverage, as the HTML map shades them: blue covered, red not (on a grid, by most of their
    residents); with gradual coverage (covered_share) blue counted wholly, red not at all, and between them the
    towns counted in part, blue through purple to red as less of each is counted."""
    if "covered_share" in towns:
        share = towns["covered_share"].fillna(0.0).to_numpy(float)
        classes = (share >= WHOLE_SHARE, (share > 1 - WHOLE_SHARE) & (share < WHOLE_SHARE), share <= 1 - WHOLE_SHARE)
        colours, labels = np.array([_shade(1.0 - s) for s in share]), GRADUAL_TOWN_LABELS
    else:
        classes, labels = (covered, ~covered), GRID_TOWN_LABELS if on_grid else TOWN_LABELS
        colours = np.where(covered, "#2c7fb8", "#c0392b")
    for k, (mask, (zh, en)) in enumerate(zip(classes, labels)):
        if not mask.any():  # no legend entry for towns there are none of
            continue
        label = _label(zh, en, chinese)
        if k == 1 and len(classes) == 3:  # the towns counted in part, each its own shade: the legend shows the middle
            ax.scatter([], [], s=(size[mask].min() + size[mask].max()) / 2, c=_shade(0.5), alpha=0.5, label=label)
            label = None
        ax.scatter(towns.geometry.x[mask], towns.geometry.y[mask], s=size[mask], c=list(colours[mask]), alpha=0.5,
                   label=label)


def _static_towns(ds: Dataset, coverage: Coverage | None, crs) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """The towns as a static map draws them: a dot each (in `crs`), its size by population, and whether covered."""
    towns = _town_layer(ds, coverage).to_crs(crs)
    towns = towns.set_geometry(towns.geometry.representative_point())  # a dot per town, its area given or not
    pop = towns["population"].fillna(0).to_numpy(float)
    covered = towns["covered"].to_numpy().astype(bool) if "covered" in towns else np.ones(len(towns), bool)
    return towns, 10 + 200 * pop / pop.max(initial=1.0), covered  # no towns: no sizes


def _draw_static_view(ax, ds: Dataset, crs, chinese: bool, inset: bool = False, coverage: Coverage | None = None,
                      plan: pd.DataFrame | None = None, town_shares: pd.DataFrame | None = None, losing=(),
                      sites: gpd.GeoDataFrame | None = None, selected: list | None = None,
                      moves: pd.DataFrame | None = None, pilots: pd.DataFrame | None = None,
                      hubs: pd.DataFrame | None = None, service_areas: bool = False,
                      takers: pd.DataFrame | None = None, access: Accessibility | None = None) -> None:
    """All a static map draws on `ax` (its main axes or its core inset): counties (and service areas), towns and
    branches, a plan's sites, moves and closure takers, a type plan's rollout, then — in Chinese — the town names,
    after the plan's and the pilots' names, which so come first."""
    towns, size, covered = _draw_static(ax, ds, coverage, plan, crs, chinese, town_shares=town_shares, inset=inset,
                                        losing=losing, service_areas=service_areas, access=access)
    if sites is not None and selected is not None:
        _draw_static_plan(ax, sites, selected, moves, crs, chinese=chinese, plan=plan)
        if takers is not None and len(takers):  # closed branches among the sites, takers there or in the network
            places = pd.concat([places_by(sites, "site_id"), places_by(ds.branches, "branch_id").to_crs(sites.crs)])
            _draw_static_takers(ax, takers, places[~places.index.duplicated()], crs, chinese)
    if pilots is not None or hubs is not None:
        _draw_static_rollout(ax, ds.branches.to_crs(crs), pilots, hubs, chinese=chinese)
    if chinese:  # town names are Chinese only
        _draw_town_names(ax, towns, size, covered if town_shares is None else None)


TOWN_NAMES_UP_TO = 40  # a static map names every town when it shows this many or fewer (a county's), else this
# many of the uncovered ones, the most populous
PLACE_NAME = "place name"  # the gid of a town's or site's name on a static map
RANKED_SITE = "ranked site"  # the gid of a suggested or candidate site's number and name, "1 小庙镇"
NAME_SIDES = ((1, 0, "left", "center"), (-1, 0, "right", "center"), (0, 1, "center", "bottom"),
              (0, -1, "center", "top"))  # where a town's name may stand beside its dot, in this order


def _draw_town_names(ax, towns: gpd.GeoDataFrame, size: np.ndarray, covered: np.ndarray | None) -> None:
    """Town names beside their dots (_draw_names), the most populous first: every town's on a map of
    TOWN_NAMES_UP_TO towns or fewer, else the most populous TOWN_NAMES_UP_TO uncovered ones' (red, as their
    dots); a name the map writes already (a plan's new site at the town) not twice."""
    uncovered = np.zeros(len(towns), bool) if covered is None else ~covered
    named = np.ones(len(towns), bool) if len(towns) <= TOWN_NAMES_UP_TO else uncovered.copy()
    named &= ~towns["name"].astype(str).isin(_names_written(ax)).to_numpy()
    if not named.any():
        return
    population = towns["population"].fillna(0).to_numpy(float)
    order = np.flatnonzero(named)[np.argsort(-population[named], kind="stable")][:TOWN_NAMES_UP_TO]
    _draw_names(ax, towns.iloc[order], np.sqrt(size[order]) / 2,
                np.where(uncovered[order], "#a93226", "#333"))


NAME_LEVEL = 6  # names over every dot and ring (the pilots' are drawn at 5)


def _halo() -> list:
    """A white halo around a name: readable over dots and boundaries."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2.5, foreground="white")]


def _names_written(ax) -> set[str]:
    """The texts on the map and the names they write (a ranked site's "1 小庙镇" writes 小庙镇)."""
    return {text.get_text() for text in ax.texts} | {text.get_label().removeprefix("_") for text in ax.texts}


def _draw_names(ax, places: gpd.GeoDataFrame, radius: np.ndarray, colours, texts: pd.Series | None = None,
                size: float = 7, weight: str = "normal") -> np.ndarray:
    """Places' names (`name`, or `texts` naming them) beside their dots of `radius` points, in their order, each
    on the first side of its dot where it stays within the map and overlaps no text written before (else left out),
    with a white halo; which were written."""
    ax.autoscale_view()
    ax.apply_aspect()
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed = [text.get_window_extent(renderer) for text in ax.texts if text.get_text()]  # not the move arrows
    names = places["name"].astype(str)
    written = np.zeros(len(places), bool)
    pixels_per_point = ax.figure.dpi / 72.0
    for at, (name, said, point, gap, colour) in enumerate(zip(names, names if texts is None else texts,
                                                               places.geometry, radius + 2, colours)):
        text = ax.annotate(said, (point.x, point.y), xytext=(0, 0), textcoords="offset points", ha="left",
                           va="bottom", fontsize=size, fontweight=weight, color=colour, path_effects=_halo(),
                           zorder=NAME_LEVEL, gid=PLACE_NAME, label=f"_{name}")  # "_": in no legend
        measured = text.get_window_extent(renderer)  # its lower left corner at the dot's centre
        for dx, dy, ha, va in NAME_SIDES:
            box = _beside(measured, dx * gap * pixels_per_point, dy * gap * pixels_per_point, ha, va)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in placed):
                text.xyann = (dx * gap, dy * gap)
                text.set(horizontalalignment=ha, verticalalignment=va)
                placed.append(box)
                written[at] = True
                break
        else:
            text.remove()
    return written


def _beside(measured, dx: float, dy: float, ha: str, va: str):
    """Where a text `measured` with its lower left corner at its point (a display box) stands offset by dx, dy
    pixels and aligned ha, va to that point: the box matplotlib would measure there, without laying it out again
    (a name is tried on each side of its dot)."""
    from matplotlib.transforms import Bbox

    x, y = measured.x0 + dx, measured.y0 + dy
    left = x if ha == "left" else x - measured.width if ha == "right" else x - measured.width / 2
    bottom = y if va == "bottom" else y - measured.height if va == "top" else y - measured.height / 2
    return Bbox.from_bounds(left, bottom, measured.width, measured.height)


def _vertices(lines) -> list[np.ndarray]:
    """Each line or ring of an array of them as its (x, y) vertices: what matplotlib's collections draw."""
    import shapely

    points, line = shapely.get_coordinates(lines, return_index=True)
    return np.split(points, np.flatnonzero(np.diff(line)) + 1)


def _draw_service_areas(ax, coverage: Coverage, crs, chinese: bool) -> None:
    """Each branch's service area (its Voronoi cell in its county) outlined thin and light, under the counties'
    outlines; nothing without county boundaries."""
    areas = coverage.service_areas()
    if areas is not None:
        _draw_outlines(ax, areas.to_crs(crs).geometry.drop_duplicates(), colors="#999", linewidths=0.5,
                       linestyles="--", label=_label("服务范围", "service areas", chinese))


def _draw_outlines(ax, areas: gpd.GeoSeries, **style) -> None:
    """The areas' boundaries as one line collection (geopandas' plot redraws the whole figure each call), in
    matplotlib's `style` (dark grey, 0.8 points wide, by default)."""
    from matplotlib.collections import LineCollection

    ax.add_collection(LineCollection(_vertices(areas.boundary.explode(index_parts=False).values),
                                     **{"colors": "#555", "linewidths": 0.8, **style}))
    ax.autoscale_view()


def _cell_colours():
    """Matplotlib's Oranges as if 60 % opaque over white, but opaque: cells side by side do not darken their
    shared edges."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    return ListedColormap(plt.get_cmap("Oranges")(np.linspace(0.0, 1.0, 256)) * 0.6 + 0.4, name="netopt_gaps")


def _draw_static_cells(ax, cells: gpd.GeoDataFrame, crs, chinese: bool) -> None:
    """A population grid's cells with residents none of whom a branch reaches, shaded under the towns by how
    many live there (pale to deep orange): where within each town the gaps lie (_add_cell_shapes). With gradual
    coverage (covered_share), every cell with residents not counted covered, by how many are not."""
    gradual = "covered_share" in cells
    left = cells["population"] * (1.0 - cells["covered_share"].fillna(0.0)) if gradual else \
        cells["population"].where(~cells["covered"].astype(bool), 0.0)
    beyond = cells.assign(left=left)[(left > (1 - WHOLE_SHARE) * cells["population"]) & cells.geometry.notna()]
    if beyond.empty:
        return
    colours = _cell_colours()
    shaded = _add_cell_shapes(ax, beyond, "left", crs, cmap=colours)
    shaded.set_clim(0.0, max(float(beyond["left"].quantile(0.95)), 1.0))
    label = (("未计入覆盖的居民(按距离折算,越深越多)", "residents not counted covered, by distance (darker: more)")
             if gradual else ("未覆盖网格(越深人越多)", "cells beyond reach (darker: more people)"))
    ax.fill([], [], color=colours(0.6), linewidth=0, label=_label(*label, chinese))  # its legend entry


def _add_cell_shapes(ax, cells: gpd.GeoDataFrame, column: str, crs, cmap=None, colour: Callable | None = None):
    """A grid's `cells` drawn on `ax` as one collection of their outlines (holes left out: cells are squares cut by
    town boundaries), each coloured by its `column` — through `cmap`, or each value's own `colour` —, opaque and
    not antialiased (no seam between two cells), rasterised so a PDF stays light; the collection."""
    import shapely
    from matplotlib.collections import PolyCollection

    parts = cells[[column, "geometry"]].to_crs(crs).explode(index_parts=False)  # multipolygons in parts
    values = parts[column].to_numpy(float)
    style = {"cmap": cmap, "array": values} if colour is None else {"facecolors": [colour(v) for v in values]}
    shapes = PolyCollection(_vertices(shapely.get_exterior_ring(parts.geometry.values)), linewidths=0,
                            antialiaseds=False, rasterized=True, zorder=0, **style)
    ax.add_collection(shapes)
    ax.autoscale_view()
    return shapes


def _draw_static_branches(ax, branches: gpd.GeoDataFrame, plan: pd.DataFrame | None, chinese: bool) -> None:
    """Branches as small dots, with a type plan one colour (and legend entry) per type 综合型/社区型/普惠型/轻型."""
    from netopt.models.types import TYPE_ZH

    kinds = pd.Series("", index=branches.index)
    if plan is not None:
        kinds = branches["branch_id"].map(plan.set_index("branch_id")["type"]).fillna("")
    for kind in [k for k in TYPE_COLOURS if (kinds == k).any()] + ([""] if (kinds == "").any() else []):
        mine = branches[(kinds == kind).to_numpy()]
        label = _label(f"{TYPE_ZH[kind]}网点", f"{kind} branches", chinese) if kind else \
            _label("网点", "branches", chinese)
        ax.scatter(mine.geometry.x, mine.geometry.y, s=6, c=TYPE_COLOURS.get(kind, "#222"), label=label)
    new = _planned_new(branches)
    if new.any():
        ax.scatter(branches.geometry.x[new], branches.geometry.y[new], s=40, zorder=4, linewidths=1.5,
                   c=[TYPE_COLOURS.get(kind, NEW_COLOUR) for kind in kinds[new]], edgecolors=NEW_COLOUR,
                   label=_label("方案新设网点", "new in the plan", chinese))


def _planned_new(branches: gpd.GeoDataFrame) -> pd.Series:
    """Which branches a network after a plan (planning.network_after, read back) marks as new 新设."""
    return pd.Series(planned_new(branches), index=branches.index)


CORNERS = ("upper right", "upper left", "lower left", "lower right")  # the legend's choice on a tie first


def _lay_out_corners(ax, ds: Dataset, crs, draw: Callable, chinese: bool) -> None:
    """The legend in the map's corner over the least of the city — beside the map where even there it would hide
    a town or branch or more than LEGEND_OVER_LAND of its box (none on a map of nothing it would name: a county's
    boundary alone) —, the core districts' inset in the emptiest corner left, the scale bar in a free lower corner
    (else any free one); the map's extent kept."""
    limits = ax.get_xlim(), ax.get_ylim()
    ax.apply_aspect()  # the axes' final shape: boxes in axes fractions measured as they will be drawn
    land = _land(ds, crs)
    legend = corner = None
    if ax.get_legend_handles_labels()[0]:
        legend, corner = _placed_legend(ax, land, _places(ds, crs))
    inset = _core_inset(ax, ds, crs, draw, chinese, land, [c for c in CORNERS if c != corner])
    free = [c for c in ("lower left", "lower right", "upper left", "upper right") if c not in (corner, inset)]
    scale = _scale_bar(ax, free[0])
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    _names_uncovered(ax, [cover for cover in (legend, *ax.child_axes, *scale) if cover is not None])


def _names_uncovered(ax, covers: list) -> None:
    """The place names (_draw_names) the legend, the inset or the scale bar would cover left out, not half seen
    through it; a ranked site's number kept."""
    renderer = ax.figure.canvas.get_renderer()
    boxes = [cover.get_window_extent(renderer) for cover in covers]
    for text in [text for text in ax.texts if text.get_gid() in (PLACE_NAME, RANKED_SITE)]:
        if any(text.get_window_extent(renderer).overlaps(box) for box in boxes):
            text.remove()
            if text.get_gid() == RANKED_SITE:
                _draw_rank(ax, text.xy, text.get_text().split(" ")[0])


def _land(ds: Dataset, crs):
    """What the map shows of the city, for finding its emptiest corners: the counties, else the towns' hull."""
    counties = ds.counties[ds.counties.geometry.notna()]
    if len(counties):
        return counties.to_crs(crs).geometry.union_all()
    return ds.towns[ds.towns.geometry.notna()].to_crs(crs).geometry.union_all().convex_hull


LEGEND_EDGE = 0.01  # between a box in a corner of the map and the map's sides, axes fractions


def _corner_box(corner: str, width: float, height: float, edge: float = LEGEND_EDGE) -> list[float]:
    """A box of that width and height (axes fractions) in that corner of the map, `edge` in from its sides."""
    return [1 - width - edge if "right" in corner else edge, 1 - height - edge if "upper" in corner else edge,
            width, height]


def _emptiest(ax, land, width: float, height: float, corners) -> str:
    """Of the `corners`, the one where a box of that width and height (axes fractions) covers least of `land`
    (the first of them on a tie)."""
    return min(corners, key=lambda corner: _covered(ax, land, corner, width, height))


def _covered(ax, land, corner: str, width: float, height: float) -> float:
    """How much of `land` (its area, in the map's units) a box of that width and height (axes fractions) in that
    corner of the map covers."""
    return land.intersection(_corner_shape(ax, corner, width, height)).area


def _corner_shape(ax, corner: str, width: float, height: float):
    """A box of that width and height (axes fractions) in that corner of the map, in the map's units."""
    from shapely.geometry import box

    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    fx, fy, fw, fh = _corner_box(corner, width, height)
    return box(left + fx * (right - left), bottom + fy * (top - bottom), left + (fx + fw) * (right - left),
               bottom + (fy + fh) * (top - bottom))


def _places(ds: Dataset, crs):
    """The towns' and branches' points (a town's polygon: a point in it), in the map's units, as one geometry."""
    points = [frame.geometry.dropna().to_crs(crs).representative_point() for frame in (ds.towns, ds.branches)]
    return gpd.GeoSeries(pd.concat(points), crs=crs).union_all()


LEGEND_OVER_LAND = 0.05  # a legend that would hide more of the city than this share of its box goes beside the map


def _placed_legend(ax, land, places):
    """The legend in the corner where it covers least of `land` — or, where it would hide one of the `places` or
    more of the land than LEGEND_OVER_LAND of its box, beside the map: on its right when the map is taller than
    wide, else below it in two columns; the legend and its corner (None beside the map)."""
    legend = ax.legend(loc="upper right", fontsize=9)
    extent = legend.get_window_extent(ax.figure.canvas.get_renderer()).transformed(ax.transAxes.inverted())
    corner = _emptiest(ax, land, extent.width, extent.height, CORNERS)
    under = _corner_shape(ax, corner, extent.width, extent.height)
    if land.intersection(under).area <= LEGEND_OVER_LAND * under.area and not places.intersects(under):
        legend.set_loc(corner)
        return legend, corner
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    handles, labels = ax.get_legend_handles_labels()
    labels = [re.sub(r"^(\S*[\u3400-\u9fff]\S*) ", "\\1\n", label, count=1) for label in labels]  # 中文 over English
    if right - left < top - bottom:
        return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9), None
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.01), fontsize=9, ncols=2), None


def _scale_bar(ax, corner: str = "lower left") -> list:
    """A scale bar of a round number of km, about a sixth of the map's width, in that corner of it: its bar and
    its label."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    km = max([k for k in SCALE_BAR_KM if k * 1000 <= (x1 - x0) / 6] or SCALE_BAR_KM[:1])
    start = x1 - 0.02 * (x1 - x0) - km * 1000 if "right" in corner else x0 + 0.02 * (x1 - x0)
    level = y1 - 0.05 * (y1 - y0) if "upper" in corner else y0 + 0.02 * (y1 - y0)
    bar = ax.plot([start, start + km * 1000], [level, level], color="k", linewidth=2, zorder=NAME_LEVEL)
    return [*bar, ax.annotate(f"{km:g} km", (start, level), xytext=(0, 4), textcoords="offset points", fontsize=8,
                              path_effects=_halo(), zorder=NAME_LEVEL)]


def _core_inset(ax, ds: Dataset, crs, draw: Callable, chinese: bool, land, corners) -> str | None:
    """The core districts' towns 主城区, where most branches stand, enlarged in an inset in the one of `corners`
    whose box covers least of `land`, framed on the map — when they span less than INSET_BELOW of the map's
    width and height, too small to tell closed branches apart; its corner, or None."""
    towns = ds.towns[(ds.towns["region_type"] == "core") & ds.towns.geometry.notna()] \
        if "region_type" in ds.towns else ds.towns.iloc[:0]
    if len(towns) < 2:
        return None
    x0, y0, x1, y1 = towns.to_crs(crs).total_bounds
    pad = 0.1 * max(x1 - x0, y1 - y0) + 1000.0
    width, height = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    (left, right), (bottom, top) = ax.get_xlim(), ax.get_ylim()
    if width > INSET_BELOW * (right - left) or height > INSET_BELOW * (top - bottom):
        return None
    # the map's axes show as many metres per inch across as up: a box w x h (fractions) has the extent's aspect
    # when h = w x (map width / map height) / aspect; the longer of the two is INSET_SIDE
    w, h = INSET_SIDE, INSET_SIDE * (right - left) / (top - bottom) / (width / height)
    w, h = w * min(1.0, INSET_SIDE / h), min(h, INSET_SIDE)
    corner = _emptiest(ax, land, w, h, corners)
    inset = ax.inset_axes(_corner_box(corner, w, h))
    inset.set_xlim(x0 - pad, x0 - pad + width)  # framed before drawing, so its town names are placed in the frame
    inset.set_ylim(y0 - pad, y0 - pad + height)  # they are seen in (and its drawing keeps the frame)
    draw(inset, inset=True)
    inset.set_axis_on()
    inset.set(xticks=[], yticks=[], xlabel="", ylabel="")
    inset.set_title(_label("主城区", "core districts", chinese), fontsize=9)
    _names_uncovered(inset, _scale_bar(inset))
    ax.indicate_inset_zoom(inset, edgecolor="#777")
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    return corner


def _draw_static_shares(ax, towns: gpd.GeoDataFrame, size: np.ndarray, shares: np.ndarray, chinese: bool,
                        colour_bar: bool = True) -> None:
    """Towns coloured by our market share (%) on a pale-to-deep green scale, with its colour bar."""
    from matplotlib.colors import LinearSegmentedColormap

    greens = LinearSegmentedColormap.from_list("share", [share_colour(0.0), share_colour(100.0)])
    dots = ax.scatter(towns.geometry.x, towns.geometry.y, s=size, c=np.nan_to_num(shares), cmap=greens, vmin=0,
                      vmax=100, alpha=0.8, edgecolors="#555", linewidths=0.3, label=_label("乡镇", "towns", chinese))
    if colour_bar:
        ax.figure.colorbar(dots, ax=ax, shrink=0.4, label=_label("我行份额（%）", "our market share (%)", chinese))


ACCESS_CLASSES = ((0.0, "无可达网点", "none within reach"), (0.5, "低可达性", "low access"),
                  (1.0, "全市平均", "the city's"), (2.0, "高可达性", "high access"))  # the legend's, by access index


def _draw_static_access(ax, towns: gpd.GeoDataFrame, size: np.ndarray, access: Accessibility,
                        chinese: bool) -> np.ndarray:
    """Towns coloured by their access against the city's (access_colour), a legend entry per class; whether each
    has more than low access (the others are named first, in red)."""
    from netopt.access import LOW_ACCESS_SHARE

    index = towns["town_id"].map(access.by_town().set_index("town_id")["access_index"]).to_numpy(float)
    ax.scatter(towns.geometry.x, towns.geometry.y, s=size, c=[access_colour(i) for i in index], alpha=0.8,
               edgecolors="#555", linewidths=0.3)
    for value, zh, en in ACCESS_CLASSES:
        ax.scatter([], [], s=40, c=access_colour(value), edgecolors="#555", linewidths=0.3,
                   label=_label(zh, en, chinese))
    return ~(index < LOW_ACCESS_SHARE)  # NaN (no residents): named as any other


def _draw_static_plan(ax, sites: gpd.GeoDataFrame, selected: list, moves: pd.DataFrame | None, crs,
                      chinese: bool, plan: pd.DataFrame | None = None) -> None:
    """A plan's new sites (green, or their type's colour ringed green with a type plan; numbered by their `rank`
    where the sites have one, e.g. suggested sites), closed branches (red, hollow) and moves (orange arrows) on a
    static map; in Chinese, the new sites and closed branches named (_draw_plan_names)."""
    projected = sites.to_crs(crs)
    chosen = projected["site_id"].isin(selected)
    opened = projected[chosen & (projected["kind"] == "new")]
    closed = projected[~chosen & (projected["kind"] == "existing")]
    fill = [TYPE_COLOURS.get(kind, NEW_COLOUR) for kind in _planned_types(opened, plan)]
    size = _site_dot_size(len(opened))
    if len(opened):  # no legend entry for openings a plan does not make (a plan of closures)
        ax.scatter(opened.geometry.x, opened.geometry.y, s=size, c=fill, linewidths=1.5 if plan is not None else 0.5,
                   edgecolors=NEW_COLOUR if plan is not None else "k", zorder=4,
                   label=_label(*(("候选网点", "candidate sites") if "rank" in opened else ("新设网点", "new branches")),
                                chinese))
    if len(closed):  # no legend entry for closures a plan does not make
        ax.scatter(closed.geometry.x, closed.geometry.y, s=60, facecolors="none", edgecolors="#d73027",
                   linewidths=1.5, zorder=4, label=_label("撤并网点", "closed branches", chinese))
    lines = _move_lines(projected, moves)
    for start, end, _ in lines:
        ax.annotate("", xy=(end.x, end.y), xytext=(start.x, start.y), zorder=3,
                    arrowprops={"arrowstyle": "->", "color": MOVE_COLOUR, "linewidth": 1.5})
    if lines:
        ax.plot([], [], color=MOVE_COLOUR, linewidth=1.5, label=_label("迁址", "moves", chinese))
    if "rank" in opened:
        _draw_ranks(ax, opened, chinese, size)
    elif chinese:
        _draw_plan_names(ax, opened, closed)


RANKS_SHOWN = 40  # a map numbers the best this many suggested or candidate sites; the others are dots (and rows)


def _site_dot_size(count: int) -> float:
    """The dot of a plan's new site or of a candidate: 60 points², smaller where there are more than RANKS_SHOWN
    (a landlord's list of 2,000 premises: a field of dots hiding the map under them), at least 12."""
    return max(12.0, 60.0 * min(1.0, np.sqrt(RANKS_SHOWN / max(count, 1))))


def _draw_ranks(ax, opened: gpd.GeoDataFrame, chinese: bool, size: float) -> None:
    """The best RANKS_SHOWN suggested or candidate sites numbered by their `rank`, as in their table, beside their
    dots where the number stays on the map and overlaps no text (_draw_names), in Chinese with the site's name —
    "1 滨湖新区写字楼底商" —; a number that finds no room there at its dot all the same."""
    best = opened.sort_values("rank", kind="stable").head(RANKS_SHOWN)
    best = best if "name" in best else best.assign(name="")
    names = best["name"].fillna("").astype(str) if chinese else ""
    before = len(ax.texts)
    placed = _draw_names(ax, best, np.full(len(best), np.sqrt(size) / 2), np.full(len(best), NEW_COLOUR),
                         texts=(best["rank"].astype(str) + " " + names).str.strip(), size=8, weight="bold")
    for text in ax.texts[before:]:
        text.set_gid(RANKED_SITE)
    for row in best[~placed].itertuples():
        _draw_rank(ax, (row.geometry.x, row.geometry.y), str(row.rank))


def _draw_rank(ax, point: tuple[float, float], rank: str) -> None:
    """A suggested or candidate site's number beside its dot, cut at the edge of the map (or of its inset)."""
    ax.annotate(rank, point, xytext=(6, 6), textcoords="offset points", fontsize=8, fontweight="bold",
                color=NEW_COLOUR, path_effects=_halo(), zorder=NAME_LEVEL, annotation_clip=True, clip_on=True)


def _draw_static_takers(ax, takers: pd.DataFrame, places: gpd.GeoSeries, crs, chinese: bool) -> None:
    """A purple line from each closed branch to each branch taking on its residents (planning.closure_takers; both
    at `places`, by site id), thicker for more, under the plan's dots."""
    from matplotlib.collections import LineCollection

    lines = line_layer(takers, places, "closed_id", places, "taker_id").dropna(subset=["geometry"]).to_crs(crs)
    if lines.empty:
        return
    ax.add_collection(LineCollection([np.asarray(line.coords) for line in lines.geometry], colors=TAKERS_COLOUR,
                                     linewidths=0.5 + 2.5 * _taker_strength(lines["residents_wan"].to_numpy(float)),
                                     alpha=0.8, zorder=3,
                                     label=_label("客户承接", "residents taken on", chinese)))


def _draw_static_rollout(ax, branches: gpd.GeoDataFrame, pilots: pd.DataFrame | None, hubs: pd.DataFrame | None,
                         chinese: bool) -> None:
    """The rollout on a static map (`branches` in its metric CRS): each coaching trip dashed, the training hubs
    ringed grey, the pilots ringed gold and, in Chinese, named."""
    from matplotlib.collections import LineCollection

    if hubs is not None and len(hubs):
        trips = [[(start.x, start.y), (end.x, end.y)] for _, start, end in _coaching_trips(branches, hubs)]
        faint = min(1.0, MANY_TRIPS / max(len(trips), 1))  # a province's thousands of trips: lighter, not a mass
        ax.add_collection(LineCollection(trips, colors=HUB_COLOUR, linewidths=0.3 + 0.5 * faint, linestyles="--",
                                         alpha=0.15 + 0.55 * faint, zorder=2,
                                         label=_label("培训路线", "coaching trips", chinese)))
        at = _at_branches(branches, hubs.drop_duplicates("hub_id"), "hub_id").dropna()
        few = min(1.0, MANY_HUBS / max(len(at), 1))
        ax.scatter(at.x, at.y, s=30 + 60 * few, facecolors="none", edgecolors=HUB_COLOUR, linewidths=0.5 + few,
                   zorder=4, label=_label("培训中心", "training hubs", chinese))
    if pilots is not None and len(pilots):
        at = _at_branches(branches, pilots)
        placed = gpd.GeoDataFrame(pilots, geometry=at)[at.notna()]
        ax.scatter(placed.geometry.x, placed.geometry.y, s=170, facecolors="none", edgecolors=PILOT_COLOUR,
                   linewidths=2.5, zorder=5, label=_label("试点网点", "pilots", chinese))
        if chinese and "name" in placed and len(placed) <= TOWN_NAMES_UP_TO:
            _draw_names(ax, placed, np.full(len(placed), np.sqrt(170) / 2), np.full(len(placed), "#8a6d00"))


def _draw_plan_names(ax, opened: gpd.GeoDataFrame, closed: gpd.GeoDataFrame) -> None:
    """The names of a plan's new sites (green) and closed branches (red) beside them (_draw_names), when they are
    TOWN_NAMES_UP_TO or fewer; a name the map writes already (a new site at a named town) not twice."""
    written = _names_written(ax)
    places = pd.concat([opened.assign(colour=NEW_COLOUR), closed.assign(colour="#d73027")])
    places = places[places["name"].notna() & ~places["name"].astype(str).isin(written)]
    if 0 < len(places) <= TOWN_NAMES_UP_TO:
        _draw_names(ax, places, np.full(len(places), np.sqrt(60) / 2), places["colour"])


def _default_title(plan: pd.DataFrame | None, planned: bool = False) -> str:
    """A map's title when none is given: coverage, and the branch types when a type plan colours them; of the
    network after a plan when its branches include planned new ones."""
    title = "网点类型与覆盖 Branch types and coverage" if plan is not None else "网点覆盖 Branch coverage"
    return title.replace("网点", "方案网点", 1) + " after the plan" if planned else title


def _without_chinese(text: str) -> str:
    """The text without Chinese characters and punctuation, for a machine with no CJK font; a separator left
    with nothing after it (the comma before a bank's Chinese name) goes too."""
    latin = " ".join(re.sub(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+", " ", text).split())
    parts = re.split(r"\s*([,;:·—])\s*", latin)  # words, separator, words, …
    kept = ""
    for separator, words in zip(["", *parts[1::2]], parts[0::2]):
        if words:
            kept += (f"{separator} " if separator in ",;:" else f" {separator} ") + words if kept else words
    return kept


def _label(zh: str, en: str, chinese: bool) -> str:
    return f"{zh} {en}" if chinese else en


def _axis_label(zh: str, en: str, chinese: bool) -> str:
    """An axis's label: Chinese over English (on one line, the two overran a chart's height), or English alone."""
    return f"{zh}\n{en}" if chinese else en


ACCESS_FIGURES = {"access_per_wan": ("可达性 Access, branches per 10k", 3), "access_index": ("可达性指数 Index, city = 1", 2),
                  "gini": ("基尼系数 Gini", 3), "low_access_pct": ("低可达性人口 Low access %", 1)}
ACCESS_LOW = np.array([0xd7, 0x30, 0x27])  # red: half the city's access and less
ACCESS_MID = np.array([0xfe, 0xe0, 0x8b])  # yellow: the city's
ACCESS_HIGH = np.array([0x45, 0x75, 0xb4])  # blue: twice it and more


NO_ACCESS_COLOUR = "#bdbdbd"


def access_colour(index: float) -> str:
    """Red (half the city's access and less) through yellow (the city's) to blue (twice it and more); light grey
    for none within reach, darker grey where unknown."""
    if not np.isfinite(index):
        return "#999999"
    if index <= 0:
        return NO_ACCESS_COLOUR
    step = float(np.clip(np.log2(index), -1.0, 1.0))
    return _blend(ACCESS_MID, ACCESS_HIGH, step) if step >= 0 else _blend(ACCESS_LOW, ACCESS_MID, 1.0 + step)


ACCESS_LEGEND = (f"<span style='color:{NO_ACCESS_COLOUR}'>●</span> 无 none within reach &nbsp;"
                 f"<span style='color:{access_colour(0.5)}'>●</span> 低 low (&lt; ½ 全市 city) &nbsp;"
                 f"<span style='color:{access_colour(1.0)}'>●</span> 全市平均 city's &nbsp;"
                 f"<span style='color:{access_colour(2.0)}'>●</span> 高 high (≥ 2×)<br>")


def access_map(ds: Dataset, access: Accessibility, tiles: str | None = None, title: str | None = None) -> folium.Map:
    """A folium map of accessibility (access.accessibility's result): counties with their access, Gini and
    residents with low access; towns sized by residents and coloured by their access against the city's (red low,
    yellow the city's, blue high; on a grid, each town's cells residents-weighted); the branches with the residents
    within their catchment. Offline, as network_map."""
    check_accessibility(access, "map")
    check_kind(tiles, (str, type(None)), "tiles is the name of a tile layer, e.g. 'OpenStreetMap'", "map")
    fmap = _city_map(ds, tiles)
    _draw_counties(fmap, ds, access.by_county, ACCESS_FIGURES)
    if access.demand_kind == "cells":
        _cells_picture(fmap, access.units, lambda ax, crs: _draw_access_cells(ax, access.units, crs),
                       "可达性网格 Cells by access")
    _add_access_towns(fmap, ds, access)
    _add_branches(fmap, access.branches, None)
    body = (ACCESS_LEGEND + "<span style='color:#222'>●</span> 银行网点 bank branch<br>"
            f"{html.escape(access.summary())}")
    title = title or f"netopt 可达性 Accessibility ({access.settings.method_name})"
    fmap.get_root().html.add_child(folium.Element(_legend_box(title, body, _attribution(ds))))
    FindBox(fmap).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _draw_access_cells(ax, cells: gpd.GeoDataFrame, crs) -> None:
    """A grid's cells with residents, each coloured by its access against the city's (access_colour;
    _add_cell_shapes)."""
    lived = cells[(cells["population"] > 0) & cells.geometry.notna()]
    if not lived.empty:
        _add_cell_shapes(ax, lived, "access_index", crs, colour=access_colour)


def _add_access_towns(fmap: folium.Map, ds: Dataset, access: Accessibility) -> None:
    towns = access.by_town().set_index("town_id")
    places = ds.towns.set_index("town_id").geometry.representative_point()
    towns = towns[towns.index.isin(places.index)]
    radii = town_radii(towns["population_wan"].clip(lower=0.0).to_numpy(float) * 1e4)  # persons, as _add_towns
    grid = access.demand_kind == "cells"
    features = []
    for (town, row), radius in zip(towns.iterrows(), radii):
        tip = (f"{html.escape(str(row['name']))} ({html.escape(str(row['county']))}): {row['population_wan']:.1f}万人"
               f"<br>可达性 access {row['access_per_wan']:.3f} 网点/万人 branches per 10k"
               + (" (网格加权 its cells, by residents)" if grid else "")
               + f"<br>全市=1 index {row['access_index']:.2f}")
        if row["no_access_wan"] > 0:
            tip += f"<br>无可达网点 none within reach {row['no_access_wan']:.2f}万人"
        colour = access_colour(row["access_index"])
        features.append(_point(places[town], tip, f"{row['name']} ({row['county']})",
                               radius=float(radius),
                               weight=1, fillOpacity=0.7, color=colour, fillColor=colour))
    _point_layer("乡镇 Towns", features).add_to(fmap)


def lorenz_chart(curve: pd.DataFrame, path, gini: float) -> Path:
    """The Lorenz curve of access over residents (Accessibility.lorenz's table) as a PNG, PDF or SVG: the residents
    with the least access first against the share of the branches' supply they reach, the line of equal access, and
    the Gini coefficient."""
    plt = _pyplot(path)
    font = figure_font()
    chinese = font is not None
    with drawing_in(font):
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.plot([0, 100], [0, 100], color="#999", linestyle="--", label=_label("完全均等", "equal access", chinese))
        ax.plot(curve["residents_pct"], curve["access_pct"], color="#d73027", linewidth=2.5,
                label=_label("洛伦兹曲线", "Lorenz curve", chinese))
        ax.fill_between(curve["residents_pct"], curve["access_pct"], curve["residents_pct"], color="#d73027",
                        alpha=0.12)
        ax.set_xlabel(_axis_label("累计人口占比（%，可达性由低到高）", "residents, least access first (%)", chinese))
        ax.set_ylabel(_axis_label("累计可达性占比（%）", "share of access (%)", chinese))
        ax.set_title(_label("可达性洛伦兹曲线", f"Access across residents — Gini {gini:.3f}", chinese), fontsize=12)
        ax.set(xlim=(0, 100), ylim=(0, 100), aspect="equal")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
        return _saved(fig, path)
