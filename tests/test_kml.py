"""Map layers as KML/KMZ for Google Earth and 奥维: valid against the OGC schema, WGS84, read back whole; and places
marked in those apps read as inputs."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import fastkml
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from PIL import Image
from typer.testing import CliRunner

import netopt as no
from netopt.cli import app
from netopt.kml import KML_MAX_PLACES, write_field_kmz
from netopt.maps import NEW_COLOUR, TYPE_COLOURS
from netopt.planning import line_layer, places_by, suggest_new_sites
from netopt.report import COVERAGE_LAYERS, HEADERS_ZH, county_report, coverage_layers
from tests.test_cli import _said

runner = CliRunner()
KML = "{http://www.opengis.net/kml/2.2}"
SCHEMA = etree.XMLSchema(etree.parse(str(Path(fastkml.__file__).parent / "schema" / "ogckml22.xsd")))


@pytest.fixture(scope="module")
def sample():
    return no.load_sample()


def _document(path: Path) -> etree._ElementTree:
    """A .kml file's or a .kmz's doc.kml, parsed, after checking it against the OGC KML 2.2 schema."""
    if path.suffix == ".kmz":
        with zipfile.ZipFile(path) as kmz:
            tree = etree.parse(io.BytesIO(kmz.read("doc.kml")))
    else:
        tree = etree.parse(str(path))
    assert SCHEMA.validate(tree), SCHEMA.error_log
    return tree


def _colour(tree: etree._ElementTree, placemark: etree._Element) -> str:
    """The icon colour (KML's aabbggrr) of a place's shared style."""
    style = placemark.findtext(f"{KML}styleUrl")[1:]
    return tree.find(f".//{KML}Style[@id='{style}']/{KML}IconStyle/{KML}color").text


def _kml_colour(colour: str) -> str:
    return f"ff{colour[5:7]}{colour[3:5]}{colour[1:3]}"


def test_layers_read_back_as_folders_with_their_places_names_and_columns(sample, tmp_path: Path):
    towns = sample.towns.head(4)
    places = places_by(sample.branches, "branch_id")
    hubs = line_layer(pd.DataFrame({"branch_id": sample.branches["branch_id"][:2], "name": ["甲", "乙"],
                                    "hub_id": sample.branches["branch_id"][2:4].to_numpy(), "hub_name": ["丙", "丁"]}),
                      places, "branch_id", places, "hub_id")
    layers = {"towns": towns, "counties": sample.counties, "hubs": hubs}
    path = no.write_kml(tmp_path / "visit.kml", layers, labels={"population": "常住人口(人)"},
                        descriptions={"towns": "乡镇 towns to visit"}, title="外业 field visit")
    tree = _document(path)
    assert tree.findtext(f"{KML}Document/{KML}name") == "外业 field visit"
    folders = [folder.findtext(f"{KML}name") for folder in tree.iter(f"{KML}Folder")]
    assert folders == ["乡镇 towns", "counties", "hubs"]  # the description's Chinese word, then the layer's name
    assert [name for name, _ in pyogrio.list_layers(path)] == folders
    back = gpd.read_file(path, layer="乡镇 towns")
    assert back["Name"].tolist() == towns["name"].tolist()
    assert back["population"].astype(float).tolist() == pytest.approx(towns["population"].tolist())
    assert np.allclose(back.geometry.x, towns.geometry.x, atol=1e-6) and np.allclose(back.geometry.y,
                                                                                      towns.geometry.y, atol=1e-6)
    lines = tree.findall(f"{KML}Document/{KML}Folder")[2].iter(f"{KML}Placemark")
    assert [line.findtext(f"{KML}name") for line in lines] == ["甲 → 丙", "乙 → 丁"]  # a line named by its ends
    area = gpd.read_file(path, layer="counties").geometry.iloc[0]
    assert area.hausdorff_distance(sample.counties.geometry.iloc[0]) < 1e-6  # to 6 decimals, 0.1 m
    balloon = tree.find(f".//{KML}Placemark").findtext(f"{KML}description")
    assert "常住人口(人) population" in balloon and f"WGS84: {towns.geometry.x.iloc[0]:.6f}" in balloon
    assert [p.name for p in tmp_path.iterdir()] == ["visit.kml"]  # no temporary file left


def test_places_are_always_written_in_wgs84_whatever_the_layers_system(sample, tmp_path: Path):
    metres = sample.towns.head(3).to_crs(32650)
    path = no.write_kml(tmp_path / "utm.kml", {"towns": metres})
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326
    assert np.allclose(back.geometry.x, sample.towns.head(3).geometry.x, atol=1e-6)


def test_a_kmz_carries_its_icon_and_the_document_google_earth_reads_first(sample, tmp_path: Path):
    path = no.write_kml(tmp_path / "visit.kmz", {"towns": sample.towns.head(3)})
    with zipfile.ZipFile(path) as kmz:
        assert kmz.namelist() == ["doc.kml", "files/dot.png"]
        icon = Image.open(io.BytesIO(kmz.read("files/dot.png")))
        assert icon.size == (64, 64) and icon.getpixel((32, 32)) == (255, 255, 255, 255)  # white: tinted per style
        assert icon.getpixel((0, 0))[3] == 0  # transparent around the dot
    tree = _document(path)
    assert {href.text for href in tree.iter(f"{KML}href")} == {"files/dot.png"}
    assert len(gpd.read_file(path)) == 3


def test_places_are_coloured_by_decision_type_or_coverage(sample, tmp_path: Path):
    sites = sample.branches.head(3).assign(decision=["keep", "open", "close"])
    types = sample.branches.head(2).assign(type=["comprehensive", "light"])
    towns = sample.towns.head(2).assign(covered=[True, False])
    tree = _document(no.write_kml(tmp_path / "c.kml", {"sites": sites, "types": types, "towns": towns}))
    placemarks = list(tree.iter(f"{KML}Placemark"))
    colours = [_colour(tree, placemark) for placemark in placemarks]
    expected = ["#2c7fb8", NEW_COLOUR, "#d73027", TYPE_COLOURS["comprehensive"], TYPE_COLOURS["light"], "#2c7fb8",
                "#c0392b"]
    assert colours == [_kml_colour(colour) for colour in expected]
    scales = [tree.find(f".//{KML}Style[@id='{p.findtext(f'{KML}styleUrl')[1:]}']/{KML}IconStyle/{KML}scale").text
              for p in placemarks[:3]]
    assert scales == ["0.6", "1.3", "1.3"]  # openings and closures stand out of today's branches


def test_values_are_shown_as_a_reader_expects_and_missing_ones_left_out(tmp_path: Path):
    frame = gpd.GeoDataFrame({
        "name": ["甲", None], "code": np.array([340111001000, 2]), "share": [0.1 + 0.2, np.nan],
        "open": [True, False], "day": pd.to_datetime(["2026-12-04", None]), "count": pd.array([3, None], "Int64")},
        geometry=[shapely.Point(117.2, 31.8), None], crs=4326)
    tree = _document(no.write_kml(tmp_path / "v.kml", {"places": frame}, labels={"open": "营业"}))
    first, second = tree.iter(f"{KML}Placemark")
    data = {d.get("name"): d.findtext(f"{KML}value") for d in first.iter(f"{KML}Data")}
    assert data == {"name": "甲", "code": "340111001000", "share": "0.3", "open": "是 yes", "day": "2026-12-04",
                    "count": "3"}
    assert first.find(f".//{KML}Data[@name='open']").findtext(f"{KML}displayName") == "营业"
    assert {d.get("name") for d in second.iter(f"{KML}Data")} == {"code", "open"}
    assert second.findtext(f"{KML}name") == "places 2" and second.find(f"{KML}Point") is None
    twice = gpd.GeoDataFrame(pd.DataFrame([[1, 2]], columns=["decision", "decision"]),
                             geometry=[shapely.Point(117, 31)], crs=4326)
    tree = _document(no.write_kml(tmp_path / "d.kml", {"twice": twice}))
    assert [d.findtext(f"{KML}value") for d in tree.iter(f"{KML}Data")] == ["1", "2"]  # both columns, by position


def test_text_xml_cannot_hold_is_dropped_and_markup_escaped(tmp_path: Path):
    odd = pd.Series(['"引号" \'x\' ]]> \ud800'], dtype=object)  # a lone surrogate: only an object column holds it
    frame = gpd.GeoDataFrame({"name": ["<b>A&B</b>\x01\x1f"], "note": odd},
                             geometry=[shapely.Point(117, 31)], crs=4326)
    tree = _document(no.write_kml(tmp_path / "t.kml", {"odd": frame}))
    placemark = next(tree.iter(f"{KML}Placemark"))
    assert placemark.findtext(f"{KML}name") == "<b>A&B</b>"
    assert placemark.find(f".//{KML}Data[@name='note']").findtext(f"{KML}value") == '"引号" \'x\' ]]> '
    assert "&lt;b&gt;A&amp;B" in placemark.findtext(f"{KML}description")  # shown as text, not as markup


def test_bad_layers_are_named_and_nothing_is_left_half_written(sample, tmp_path: Path, monkeypatch):
    degrees_in_metres = sample.towns.head(3).to_crs(32650).set_crs(4326, allow_override=True)
    cases = [("x.gpkg", {"t": sample.towns}, "writes a file ending in .kml or .kmz"),
             ("x.kml", [sample.towns], "layers are a dict"), ("x.kml", {}, "at least one layer"),
             ("x.kml", {"t": pd.DataFrame(sample.towns)}, "layer 't' is a GeoDataFrame"),
             ("x.kml", {"t": degrees_in_metres}, r"layer 't', row 0: its place \(POINT \(\d+"),
             ("x.kml", {"t": gpd.GeoDataFrame(geometry=[shapely.Point(np.nan, 1)], crs=4326)}, "row 0")]
    for name, layers, said in cases:
        with pytest.raises(no.InputError, match=said):
            no.write_kml(tmp_path / name, layers)
    for keyword, value, said in [("labels", ["a"], "labels are a dict"), ("hidden", "towns", "hidden is a list"),
                                 ("group_by", {"x": "county"}, "group_by names no layer given: 'x'"),
                                 ("group_by", {"t": "省"}, "group_by: layer 't' has no column '省'"),
                                 ("group_by", "county", "group_by is a dict"),
                                 ("descriptions", 3, "descriptions are a dict"), ("title", 5, "title is text"),
                                 ("hidden", ["x"], "hidden names no layer given: 'x' \\(the layers: 't'\\)")]:
        with pytest.raises(no.InputError, match=said):
            no.write_kml(tmp_path / "x.kml", {"t": sample.towns}, **{keyword: value})
    target = tmp_path / "x.kmz"
    no.write_kml(target, {"t": sample.towns.head(2)})
    before = target.read_bytes()
    monkeypatch.setattr("netopt.kml._dot_png", lambda: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        no.write_kml(target, {"t": sample.towns})
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["x.kmz"]
    monkeypatch.setattr("tempfile.mkstemp", lambda **_: (_ for _ in ()).throw(OSError(30, "Read-only file system")))
    with pytest.raises(no.InputError, match=f"cannot write in {tmp_path} \\(Read-only file system\\)"):
        no.write_kml(target, {"t": sample.towns})


def test_a_commands_kmz_leaves_out_layers_too_big_for_a_phone_and_says_so(sample, tmp_path: Path):
    cov = no.analyze_coverage(sample, radius_km={"core": 1.2, "county": 3.5})
    layers = {**coverage_layers(cov), "assignment": line_layer(
        pd.DataFrame({"a": ["HF0001"], "b": ["HF0002"]}), places_by(sample.branches, "branch_id"), "a",
        places_by(sample.branches, "branch_id"), "b")}
    layers["underserved_towns"] = layers["underserved_towns"].assign(lon=1.0, lat=2.0)
    path, left_out = write_field_kmz(tmp_path / "c.kmz", layers, HEADERS_ZH, COVERAGE_LAYERS, limit=100)
    assert left_out == {"towns": len(cov.towns), "branches": len(cov.branches), "service_areas": len(cov.branches)}
    tree = _document(path)
    folders = {f.findtext(f"{KML}name"): f for f in tree.findall(f"{KML}Document/{KML}Folder")}
    towns = folders["乡镇 towns"]
    assert towns.find(f"{KML}Placemark") is None and f"{len(cov.towns):,} places left out" in towns.findtext(
        f"{KML}description")
    underserved = folders["服务不足乡镇 underserved towns"]
    by_county = cov.underserved_towns["county"].value_counts(sort=False)
    counties = [(f.findtext(f"{KML}name"), len(f.findall(f"{KML}Placemark")))
                for f in underserved.findall(f"{KML}Folder")]
    assert counties == sorted([(f"{county} ({count})", count) for county, count in by_county.items()],
                              key=lambda folder: -folder[1])  # a folder per county, the most places first
    assert sum(count for _, count in counties) == len(cov.underserved_towns) > 20
    assert folders["区县 counties"].find(f"{KML}Folder") is None  # a place to a county: not foldered
    assert underserved.find(f".//{KML}Data[@name='lon']") is None  # each place's own lon/lat are WGS84
    assert folders["assignment"].findtext(f"{KML}visibility") == "0" and towns.findtext(f"{KML}visibility") == "1"
    service_areas = next(folder for name, folder in folders.items() if name.startswith("服务范围"))
    assert service_areas.findtext(f"{KML}visibility") == "0"  # every branch's area: ticked on request


def test_a_county_report_carries_the_countys_places_and_its_suggested_new_branches(sample, tmp_path: Path):
    radii = {"core": 1.2, "county": 3.5}
    cov = no.analyze_coverage(sample, radius_km=radii)
    suggested = suggest_new_sites(sample, radius_km=radii, per_county=2)
    written = county_report(cov, "肥东县", tmp_path, new_sites=suggested)
    tree = _document(next(path for path in written if path.suffix == ".kmz"))
    places = {folder.findtext(f"{KML}name"): [p.findtext(f"{KML}name") for p in folder.iter(f"{KML}Placemark")]
              for folder in tree.findall(f"{KML}Document/{KML}Folder")}
    towns = cov.towns[cov.towns["county"] == "肥东县"]
    assert places["区县 counties"] == ["肥东县"] and places["乡镇 towns"] == towns["name"].tolist()
    assert places["网点 branches"] == cov.branches.loc[cov.branches["county"] == "肥东县", "name"].tolist()
    assert places["建议新设网点 new sites"] == suggested.loc[suggested["county"] == "肥东县", "name"].tolist() != []
    assert set(cov.underserved_towns.loc[cov.underserved_towns["county"] == "肥东县", "name"]) == set(
        places["服务不足乡镇 underserved towns"])


def test_every_command_writing_a_geopackage_writes_a_kmz_beside_it(sample, tmp_path: Path):
    result = runner.invoke(app, ["analyze", "--out", str(tmp_path / "a"), "--grid-km", "1"])
    assert result.exit_code == 0, result.output
    assert "coverage.kmz" in _said(result.output) and f"without cells: {14_668:,} places" in _said(result.output)
    tree = _document(tmp_path / "a" / "coverage.kmz")
    assert len(list(tree.iter(f"{KML}Placemark"))) > len(sample.branches)
    result = runner.invoke(app, ["optimize", "--model", "mclp", "--max-new", "2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "mclp_plan.kmz: the same for Google Earth or 奥维" in _said(result.output)
    tree = _document(tmp_path / "o" / "mclp_plan.kmz")
    sites = next(f for f in tree.findall(f"{KML}Document/{KML}Folder") if f.findtext(f"{KML}name") == "网点方案 sites")
    decisions = [d.findtext(f"{KML}value") for d in sites.iterfind(f".//{KML}Data[@name='decision']")]
    assert decisions.count("open") == 2 and len(decisions) == len(sample.branches) + 2
    assert len(sites.findall(f"{KML}Folder")) == len(sample.counties)  # a folder per county
    labels: dict[str, set[str]] = {}
    for place in sites.iter(f"{KML}Placemark"):
        style = place.findtext(f"{KML}styleUrl")[1:]
        decision = place.find(f".//{KML}Data[@name='decision']/{KML}value").text
        scale = tree.find(f".//{KML}Style[@id='{style}']/{KML}LabelStyle/{KML}scale").text
        labels.setdefault(decision, set()).add(scale)
    assert labels == {"keep": {"0"}, "open": {"0.8"}}  # of 495 sites, the new ones named on the map
    assert KML_MAX_PLACES == 5_000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(max_size=12), min_size=1, max_size=4),
       values=st.lists(st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8)),
                       min_size=4, max_size=4))
def test_any_text_and_values_make_a_valid_document(tmp_path: Path, names: list[str], values: list):
    frame = gpd.GeoDataFrame({"name": (names * 4)[:4], "value": pd.Series(values, dtype=object)},
                             geometry=shapely.points(np.full((4, 2), [117.0, 31.0])), crs=4326)
    layer = names[0] if names[0].strip() else "layer"  # a blank layer name is refused (below)
    tree = _document(no.write_kml(tmp_path / "f.kml", {layer: frame}, title=names[-1] or None))
    assert len(list(tree.iter(f"{KML}Placemark"))) == 4


def test_a_blank_layer_name_is_refused(tmp_path: Path):
    """Found by the fuzz run: a layer named " " (blank) is refused, saying so, rather than written unnamed."""
    frame = gpd.GeoDataFrame({"name": ["甲"]}, geometry=shapely.points([[117.0, 31.0]]), crs=4326)
    with pytest.raises(no.InputError, match="a layer's name is text, not blank, not ' '"):
        no.write_kml(tmp_path / "f.kml", {" ": frame})


MARKED = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>候选点位</name>
<Folder><name>我的地点</name>
<Placemark><name>长江路商铺</name><description>月租 3 万</description>
<Point><coordinates>117.2501,31.8402,0</coordinates></Point></Placemark>
<Placemark><name>三孝口门面</name><Point><coordinates>117.2801,31.8702,0</coordinates></Point></Placemark>
<Folder><name>备选</name><Placemark><name>备选一</name><Point><coordinates>117.30,31.85</coordinates></Point>
</Placemark></Folder></Folder>
<Placemark><name>顶层点</name><Point><coordinates>117.31,31.86</coordinates></Point></Placemark>
</Document></kml>"""  # places marked in Google Earth: folders within folders, altitudes


def _kmz(path: Path, text: str = MARKED) -> Path:
    """`text` as a KMZ's doc.kml, as an app saves it."""
    with zipfile.ZipFile(path, "w") as kmz:
        kmz.writestr("doc.kml", text)
    return path


def test_places_marked_in_google_earth_or_ovital_are_read_as_candidate_sites(tmp_path: Path):
    marked = tmp_path / "候选点位.kml"
    marked.write_text(MARKED, encoding="utf-8")
    packed = _kmz(tmp_path / "候选点位.kmz")
    for path in (marked, packed):
        sites = no.read_candidates(path)
        assert sorted(sites["name"]) == sorted(["长江路商铺", "三孝口门面", "备选一", "顶层点"])
        assert set(sites["folder"]) == {"候选点位", "我的地点", "我的地点 / 备选"} and not sites.geometry.has_z.any()
        where = sites.set_index("name").geometry
        assert (where["长江路商铺"].x, where["长江路商铺"].y) == pytest.approx((117.2501, 31.8402))
        assert not {"visibility", "drawOrder", "tessellate"} & set(sites.columns)  # KML's display fields dropped
    one = no.read_candidates(packed, layer="备选")
    assert one["name"].tolist() == ["备选一"] and "folder" not in one.columns
    gcj = no.read_candidates(marked, coords="gcj02").set_index("name").geometry["长江路商铺"]
    assert abs(gcj.x - 117.2501) > 1e-3  # said to be GCJ-02 (as some apps write KML): moved to WGS84


def test_a_plans_kmz_is_read_back_as_candidate_sites_for_an_evaluation(tmp_path: Path):
    marked = _kmz(tmp_path / "候选点位.kmz")
    result = runner.invoke(app, ["evaluate-sites", str(marked), "--out", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["evaluate-sites", "--tables-only", str(tmp_path / "e" / "site_evaluation.kmz"), "--out",
                                str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    first, second = (pd.read_csv(tmp_path / out / "site_evaluation.csv") for out in ("e", "again"))
    assert second["name 名称"].tolist() == first["name 名称"].tolist()  # the same sites, ranked alike


def test_a_folder_is_picked_by_its_name_path_or_part_with_its_sub_folders(tmp_path: Path):
    weeks = MARKED.replace("<Folder><name>我的地点</name>", "<Folder><name>第一周</name><Folder><name>肥东县</name>"
                           "<Placemark><name>店埠</name><Point><coordinates>117.47,31.89</coordinates></Point>"
                           "</Placemark></Folder></Folder><Folder><name>我的地点</name>"
                           ).replace("<Folder><name>备选</name>", "<Folder><name>肥东县</name>")
    path = _kmz(tmp_path / "走访.kmz", weeks)
    read = {layer: sorted(no.read_candidates(path, layer=layer)["name"]) for layer in
            ("我的地点", "我的地点 / 肥东县", "肥东县", "第一", "肥东县 (#2)")}
    assert read == {"我的地点": ["三孝口门面", "备选一", "长江路商铺"], "我的地点 / 肥东县": ["备选一"],
                    "肥东县": ["备选一", "店埠"], "第一": ["店埠"], "肥东县 (#2)": ["备选一"]}  # GDAL's name too
    everything = no.read_candidates(path)
    assert everything.set_index("name")["folder"].to_dict() == {
        "店埠": "第一周 / 肥东县", "长江路商铺": "我的地点", "三孝口门面": "我的地点", "备选一": "我的地点 / 肥东县",
        "顶层点": "候选点位"}  # two folders named 肥东县 told apart by their paths


def test_folders_of_lines_are_left_out_of_places_and_folders_without_ids_numbered(tmp_path: Path):
    text = MARKED.replace("</Document>", "<Folder><name>道路</name><Placemark><name>路</name><LineString>"
                          "<coordinates>117.25,31.84 117.26,31.85</coordinates></LineString></Placemark>"
                          "<Placemark><name>无位置</name></Placemark></Folder></Document>")
    text = text.replace("<description>月租 3 万</description>", "<ExtendedData><Data name=\"编号\"><value>A1</value>"
                        "</Data></ExtendedData>").replace("<name>三孝口门面</name>", "<name>三孝口门面</name><ExtendedData>"
                                                          "<Data name=\"编号\"><value>A2</value></Data></ExtendedData>")
    sites = no.read_candidates(_kmz(tmp_path / "带道路.kmz", text))
    assert sorted(sites["name"]) == sorted(["长江路商铺", "三孝口门面", "备选一", "顶层点"])
    assert sites.attrs["left_out"].endswith("带道路.kmz: left out 道路 (1 line, 1 without a location): folders of "
                                            "lines or areas, not places")
    ids = sites.set_index("name")["site_id"]
    assert ids[["长江路商铺", "三孝口门面"]].tolist() == ["A1", "A2"]  # the folder's own ids, the others' numbered
    assert ids[["备选一", "顶层点"]].str.match(r"S\d{4}\Z").all() and ids.is_unique
    with pytest.raises(no.InputError, match=r"feature 3.*empty ids: .* \(folder 我的地点\)"):  # one of a folder's missing
        no.read_candidates(_kmz(tmp_path / "缺编号.kmz", text.replace("<value>A2</value>", "<value></value>")))


def test_a_plans_whole_kmz_gives_its_new_sites_to_evaluate(sample, tmp_path: Path):
    """A plan's map taken on a field visit and given back as candidate sites: its assignment lines, its kept and
    closed branches (today's, by id and place) and, with --candidates-folder, its towns are left out."""
    closed = sample.of_bank("农业").branches["branch_id"].iloc[0]
    planned = runner.invoke(app, ["optimize", "--model", "mclp", "--max-new", "3", "--bank", "农业", "--close",
                                  closed, "--out", str(tmp_path / "o")])
    assert planned.exit_code == 0, planned.output
    plan = pd.read_csv(tmp_path / "o" / "mclp_sites.csv")
    new_names = sorted(plan.loc[plan["kind"] == "new", "name"])
    kmz = tmp_path / "o" / "mclp_plan.kmz"
    for folder, extra in ((["--candidates-folder", "网点方案"], []), ([], ["覆盖变化乡镇 towns changed"])):
        result = runner.invoke(app, ["evaluate-sites", "--tables-only",
                                     str(kmz), "--bank", "农业", "--out", str(tmp_path / "e"),
                                     *folder])
        assert result.exit_code == 0, result.output
        said = _said(result.output)
        kept_or_closed = int((plan["kind"] == "existing").sum()) + 1  # and the one closed
        assert f"left out {kept_or_closed} of today's branches of 农业 (their ids, within 100 m" in said
        assert ("left out 分配 assignment" in said) == (not folder)
        evaluated = pd.read_csv(tmp_path / "e" / "site_evaluation.csv")
        if folder:
            assert sorted(evaluated["name 名称"]) == new_names
        else:
            assert set(evaluated["name 名称"]) >= set(new_names) and "(folders 网点方案 sites 3, 覆盖变化乡镇" in said
    for args, said in ((["evaluate-sites", "--site", "甲=117.25,31.84", "--candidates-folder", "x"], "give one"),
                       (["optimize", "--model", "mclp", "--max-new", "1", "--candidates-folder", "x"],
                        "given as --candidates"),
                       (["evaluate-sites", str(tmp_path / "o" / "mclp_sites.csv"), "--candidates-folder", "x"],
                        "mclp_sites.csv is not one")):
        result = runner.invoke(app, [*args, "--out", str(tmp_path / "x")])
        assert result.exit_code == 2 and "--candidates-folder picks" in _said(result.output) and said in \
            _said(result.output), result.output


def test_todays_branches_among_candidates_are_those_with_their_id_near_them(sample):
    from netopt.planning import candidate_sites, todays_branches_among

    first = sample.branches.iloc[:3]
    metric = first.geometry.to_crs(3857)  # ~0.85 m on the ground per unit at 32°N
    moved = gpd.GeoSeries([shapely.affinity.translate(point, xoff=east) for point, east in zip(metric, (0, 50, 500))],
                          crs=3857).to_crs(4326)
    sites = gpd.GeoDataFrame({"site_id": first["branch_id"].tolist() + ["新1"], "name": ["a", "b", "c", "d"]},
                             geometry=list(moved) + [first.geometry.iloc[0]], crs=4326)
    assert todays_branches_among(sites, sample.branches).tolist() == [True, True, False, False]
    with pytest.raises(no.InputError, match="leave out those that are today's branches"):
        candidate_sites(sample, None, sites)


def test_unusable_kml_is_named_by_file_and_feature(tmp_path: Path):
    cases = {"line.kml": ("<Placemark><name>路</name><LineString><coordinates>117.25,31.84 117.26,31.85"
                          "</coordinates></LineString></Placemark>", "feature 2.*must be points"),
             "none.kml": ("", "the file has no features")}
    for name, (extra, said) in cases.items():
        path = tmp_path / name
        path.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                        + ("<Placemark><name>甲</name><Point><coordinates>117.25,31.84</coordinates></Point>"
                           "</Placemark>" if extra else "") + extra + "</Document></kml>", encoding="utf-8")
        with pytest.raises(no.InputError, match=said) as raised:
            no.read_candidates(path)
        assert name in str(raised.value)
    foldered = tmp_path / "foldered.kml"
    foldered.write_text(MARKED.replace("<Folder><name>备选</name>", "<Folder><name>备选</name><Placemark><name>路</name>"
                                       "<LineString><coordinates>117.25,31.84 117.26,31.85</coordinates></LineString>"
                                       "</Placemark>"), encoding="utf-8")
    with pytest.raises(no.InputError, match=r"feature 4.*must be points \(folder 我的地点 / 备选\)"):
        no.read_candidates(foldered)  # where to look in the app's list of places
    with pytest.raises(no.InputError, match="foldered.kml: no folder '道路' in the file; its folders: 候选点位, 我的地点"):
        no.read_candidates(foldered, layer="道路")
    (tmp_path / "标签.ovkmz").write_bytes(b"PK")
    with pytest.raises(no.InputError, match="奥维's own export.*as a Shapefile"):
        no.read_candidates(tmp_path / "标签.ovkmz")
    (tmp_path / "junk.kmz").write_bytes(b"not a zip")
    with pytest.raises(no.InputError, match="junk.kmz: not a KMZ: a KMZ is a zip holding a KML document"):
        no.read_candidates(tmp_path / "junk.kmz")
    with zipfile.ZipFile(tmp_path / "pictures.kmz", "w") as kmz:  # GDAL's words were "specify the driver"
        kmz.writestr("images/a.png", b"x")
    with pytest.raises(no.InputError, match=r"pictures.kmz: a KMZ holding no KML document \(its files: images/a.png\)"):
        no.read_candidates(tmp_path / "pictures.kmz")
    empty = tmp_path / "empty_point.kml"  # an empty point reads as 0, 0: it was "outside China's extent"
    empty.write_text('<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>甲</name><Point>'
                     '<coordinates></coordinates></Point></Placemark></Document></kml>', encoding="utf-8")
    with pytest.raises(no.InputError, match="feature 1, column 'geometry': coordinates 0, 0 — no coordinates"):
        no.read_candidates(empty)


def test_fields_named_in_chinese_and_kml_in_gbk_are_read_as_written(tmp_path: Path):
    """GDAL turns an ExtendedData name such as 开设成本 into underscores (开设 and 成本 into one field): netopt
    reads them as named, and a KML declared GBK too."""
    data = ('<ExtendedData><Data name="开设成本（万元）"><value>30</value></Data><Data name="开设"><value>是</value>'
            '</Data><Data name="成本"><value>x</value></Data></ExtendedData>')
    text = MARKED.replace("<description>月租 3 万</description>", "<description>月租 3 万</description>" + data)
    sites = no.read_candidates(_kmz(tmp_path / "候选点位.kmz", text)).set_index("name")
    assert sites.loc["长江路商铺", "open_cost_wan"] == 30 and np.isnan(sites.loc["顶层点", "open_cost_wan"])
    assert sites.loc["长江路商铺", "开设"] == "是" and sites.loc["长江路商铺", "成本"] == "x"
    gbk = tmp_path / "gbk.kml"
    gbk.write_bytes(MARKED.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk"))
    assert sorted(no.read_candidates(gbk)["name"]) == sorted(["长江路商铺", "三孝口门面", "备选一", "顶层点"])


def test_a_commands_kmz_simplifies_boundaries_too_detailed_for_a_phone(sample, tmp_path: Path, monkeypatch):
    monkeypatch.setattr("netopt.kml.KML_MAX_VERTICES", 5_000)  # as a country's boundaries exceed 500,000
    turn = np.linspace(0, 2 * np.pi, 20_000)
    detailed = shapely.Polygon(np.c_[117 + 0.5 * np.cos(turn) + 0.001 * np.sin(500 * turn), 31.8 + 0.4 * np.sin(turn)])
    layers = {"counties": gpd.GeoDataFrame({"county": ["甲"]}, geometry=[detailed], crs=4326),
              "towns": sample.towns.head(3)}
    path, _ = write_field_kmz(tmp_path / "c.kmz", layers, {}, {})
    outline = gpd.read_file(path, layer="counties").geometry.iloc[0]
    assert shapely.get_num_coordinates(outline) <= 5_000 < shapely.get_num_coordinates(detailed) and outline.is_valid
    assert outline.hausdorff_distance(detailed) <= 1e-4 + 1e-9  # the first tolerance, about 10 m, was enough
    towns = gpd.read_file(path, layer="towns")
    assert np.allclose(towns.geometry.x, sample.towns.head(3).geometry.x, atol=1e-6)  # points as they were
