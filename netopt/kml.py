"""Map layers as KML or KMZ for Google Earth and 奥维互动地图 (Ovital Map): the places to visit, on a phone."""
from __future__ import annotations

import io
import math
import os
import re
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from netopt._errors import InputError, check_kind
from netopt._paths import readable
from netopt.io import check_layers, write_atomic, write_geopackage
from netopt.maps import LOSING_COLOUR, MOVE_COLOUR, NEW_COLOUR, TYPE_COLOURS

KML_SUFFIXES = (".kml", ".kmz")
KML_MAX_PLACES = 5_000  # a layer with more places is left out of a command's KMZ: a phone's map app slows beyond
LABELLED_PLACES = 200  # a layer with at most this many places shows their names on the map, a larger one on a tap

# a layer's colour by its name (others DEFAULT_COLOUR); a column below colours each place by its value instead
LAYER_COLOURS = {"counties": "#555555", "units": "#555555", "towns": "#2c7fb8", "cells": "#fd8d3c",
                 "underserved_towns": "#c0392b", "branches": "#222222", "rival_only_towns": "#7570b3",
                 "assignment": "#888888", "moves": MOVE_COLOUR, "hubs": "#7b3294", "towns_changed": LOSING_COLOUR,
                 "towns_differing": LOSING_COLOUR, "sites_evaluated": NEW_COLOUR, "new_sites": NEW_COLOUR}
DEFAULT_COLOUR = "#2c7fb8"
VALUE_COLOURS = {"decision": {"keep": "#2c7fb8", "open": NEW_COLOUR, "close": "#d73027"}, "type": TYPE_COLOURS,
                 "covered": {True: "#2c7fb8", False: "#c0392b"}}
# icons larger than 1 (a plan's openings and closures) or smaller (today's branches, the background of a plan)
ICON_SCALES = {"open": 1.3, "close": 1.3, "keep": 0.6, "branches": 0.6, "new_sites": 1.3}
OUTLINED_LAYERS = ("counties", "units")  # areas drawn as outlines; other areas are filled, half transparent
# a place's name: two columns joined by an arrow (a line's ends), else the first of NAME_COLUMNS it has
NAME_PAIRS = (("from_name", "to_name"), ("name", "hub_name"), ("town", "site"), ("demand", "site"))
NAME_COLUMNS = ("name", "town", "county", "unit", "site_id", "branch_id", "cell_id", "town_id")
DOT_ICON = "files/dot.png"  # a white dot a KMZ carries, tinted by each style (a .kml file shows the app's own pin)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def write_kml(path: str | os.PathLike, layers: dict[str, gpd.GeoDataFrame], labels: dict[str, str] | None = None,
              descriptions: dict[str, str] | None = None, hidden: Iterable[str] = (), title: str | None = None,
              group_by: dict[str, str] | None = None) -> Path:
    """Map layers as one KML (.kml) or zipped KML (.kmz, with its own icon: smaller, for WeChat or e-mail) file
    for Google Earth and 奥维互动地图, written whole or not at all. Always WGS84, as KML is (apps showing GCJ-02
    maps shift it themselves). Each layer is a folder (named by its description's first word, its Chinese name,
    and the layer's name; the ones `hidden` start unticked; `group_by` a layer's column, e.g. {"branches":
    "county"}: a folder within it per value); each row a place named by its name column, coloured by its
    decision, type or coverage, its columns listed with their Chinese `labels` when tapped."""
    check_layers(path, layers, "write_kml", KML_SUFFIXES)
    check_kind(labels, (dict, type(None)), "labels are a dict by column name", "write_kml")
    check_kind(descriptions, (dict, type(None)), "descriptions are a dict by layer name", "write_kml")
    check_kind(title, (str, type(None)), "title is text", "write_kml")
    places = {name: _in_lon_lat(name, frame) for name, frame in layers.items()}
    options = _Options(labels={str(column): str(label) for column, label in (labels or {}).items()},
                       descriptions={str(name): str(text) for name, text in (descriptions or {}).items()},
                       hidden=set(_names(hidden, layers)), groups=_groups(group_by, layers),
                       packed=Path(path).suffix.lower() == ".kmz")
    chunks = _document(title or readable(Path(path).stem), places, options)

    def write(tmp: Path) -> None:
        if not options.packed:
            with open(tmp, "w", encoding="utf-8") as out:
                out.writelines(chunks)
            return
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as kmz:
            doc_kml = zipfile.ZipInfo("doc.kml", time.localtime()[:6])
            doc_kml.compress_type = zipfile.ZIP_DEFLATED
            with kmz.open(doc_kml, "w") as doc:  # the first file: the one Google Earth reads
                _write_text(doc, chunks)
            kmz.writestr(DOT_ICON, _dot_png())

    return write_atomic(path, write)


@dataclass(frozen=True)
class _Options:
    """How write_kml lays its layers out."""

    labels: dict[str, str]  # each column's Chinese label
    descriptions: dict[str, str]  # each layer's
    hidden: set[str]  # the layers whose folders start unticked
    groups: dict[str, str]  # a layer's column whose values each get a folder within the layer's
    packed: bool  # a KMZ, carrying its icon


def _groups(group_by: dict[str, str] | None, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, str]:
    """`group_by` checked: a column of the layer it names, by layer."""
    check_kind(group_by, (dict, type(None)), "group_by is a dict: the column to group each layer's places by",
               "write_kml")
    for layer, column in (group_by or {}).items():
        if layer not in layers:
            raise InputError(f"group_by names no layer given: {layer!r}", file="write_kml")
        if column not in layers[layer].columns:
            raise InputError(f"group_by: layer {layer!r} has no column {column!r}", file="write_kml")
    return dict(group_by or {})


def _names(hidden: Iterable[str], layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """The names of the layers to start hidden, each one of `layers`'."""
    if isinstance(hidden, str) or not isinstance(hidden, Iterable):
        raise InputError(f"hidden is a list of layer names, not {hidden!r}", file="write_kml")
    names = list(hidden)
    unknown = [name for name in names if name not in layers]
    if unknown:
        raise InputError(f"hidden names no layer given: {', '.join(map(repr, unknown))} (the layers: "
                         f"{', '.join(map(repr, layers))})", file="write_kml")
    return names


def _write_text(binary: IO[bytes], chunks: Iterable[str]) -> None:
    """`chunks` written to a binary stream as UTF-8."""
    for chunk in chunks:
        binary.write(chunk.encode("utf-8"))


def _in_lon_lat(name: str, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A layer in WGS84 lon/lat; an InputError naming the first row whose place is not on the Earth (coordinates
    beyond ±180°/±90° or not numbers: a layer in metres tagged as degrees)."""
    layer = gpd.GeoDataFrame(frame).to_crs(4326)
    geometry = layer.geometry.to_numpy()
    bounds = shapely.bounds(geometry)
    present = ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    off = present & ~(np.isfinite(bounds).all(axis=1) & (np.abs(bounds[:, [0, 2]]) <= 180).all(axis=1)
                      & (np.abs(bounds[:, [1, 3]]) <= 90).all(axis=1))
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise InputError(f"layer {name!r}, row {row}: its place ({shapely.to_wkt(geometry[row], trim=True)[:60]}) is "
                         "not in lon/lat degrees: is the layer's crs right?", file="write_kml")
    return layer


def _document(title: str, layers: dict[str, gpd.GeoDataFrame], options: _Options) -> Iterator[str]:
    """The KML document, piece by piece: its styles, then a folder per layer."""
    styles = {name: _style_keys(name, frame) for name, frame in layers.items()}
    ids = {key: f"s{number}" for number, key in enumerate(dict.fromkeys(k for keys in styles.values() for k in keys))}
    yield (f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document>'
           f"<name>{_text(title)}</name><description>{_text(WGS84_NOTE)}</description>\n")
    yield from (_style(ids[key], key, options.packed) for key in ids)
    for name, frame in layers.items():
        yield from _folder(name, frame, [ids[key] for key in styles[name]], options)
    yield "</Document>\n</kml>\n"


WGS84_NOTE = ("坐标 coordinates: WGS84 (KML's own; Google Earth shows it as it is, 奥维 on its Chinese maps shifts it "
              "to GCJ-02 itself) · netopt")


def _style_keys(name: str, frame: gpd.GeoDataFrame) -> list[tuple[str, bool, float, float]]:
    """Each place's style: its colour, whether an area is filled, its icon's scale and its label's (named on the
    map in a layer of at most LABELLED_PLACES places, and wherever its icon is enlarged: a plan's openings and
    closures among today's branches)."""
    colours, scales = _colours_and_scales(name, frame)
    filled = name not in OUTLINED_LAYERS
    few = len(frame) <= LABELLED_PLACES
    return [(colour, filled, scale, 0.8 if few or scale > 1 else 0.0) for colour, scale in zip(colours, scales)]


def _colours_and_scales(name: str, frame: gpd.GeoDataFrame) -> tuple[list[str], list[float]]:
    """Each place's colour (by the first of VALUE_COLOURS' columns the layer has, else the layer's) and icon
    scale (ICON_SCALES by value or layer, else 1)."""
    colour = LAYER_COLOURS.get(name, DEFAULT_COLOUR)
    scale = ICON_SCALES.get(name, 1.0)
    column = next((c for c in VALUE_COLOURS if c in frame.columns), None)
    if column is None:
        return [colour] * len(frame), [scale] * len(frame)
    values = _column(frame, column)
    colours = [VALUE_COLOURS[column].get(_key(value), colour) for value in values]
    return colours, [ICON_SCALES.get(_key(value), scale) for value in values]


def _key(value: object) -> object:
    """A value as a dict key: numpy truth values as Python's, unhashable values as text."""
    if isinstance(value, np.bool_):
        return bool(value)
    return value if isinstance(value, (str, bool, int, float)) else str(value)


def _style(identifier: str, key: tuple[str, bool, float, float], packed: bool) -> str:
    """A shared style: icon, label, line and area in one colour."""
    colour, filled, scale, label = key
    icon = f"<Icon><href>{DOT_ICON}</href></Icon>" if packed else ""
    area = f"<color>{_kml_colour(colour, '66')}</color>" + ("" if filled else "<fill>0</fill>")
    return (f'<Style id="{identifier}"><IconStyle><color>{_kml_colour(colour)}</color><scale>{scale:g}</scale>{icon}'
            f"</IconStyle><LabelStyle><scale>{label:g}</scale></LabelStyle><LineStyle><color>"
            f"{_kml_colour(colour)}</color><width>2</width></LineStyle><PolyStyle>{area}</PolyStyle></Style>\n")


def _kml_colour(colour: str, alpha: str = "ff") -> str:
    """#rrggbb as KML's aabbggrr."""
    red, green, blue = colour[1:3], colour[3:5], colour[5:7]
    return f"{alpha}{blue}{green}{red}".lower()


def _folder(name: str, frame: gpd.GeoDataFrame, styles: list[str], options: _Options) -> Iterator[str]:
    """A layer as a folder of places (in a folder per value of its group column, if it has one)."""
    description = options.descriptions.get(name, "")
    yield (f"<Folder><name>{_text(_folder_name(name, description))}</name><visibility>"
           f"{0 if name in options.hidden else 1}</visibility><description>{_text(description)}</description>\n")
    data = frame.drop(columns=frame.geometry.name)
    cells = [_cells(str(column), data.iloc[:, position], options.labels)
             for position, column in enumerate(data.columns)]  # by position: two columns of one name both shown
    names = _place_names(name, frame)
    geometries = frame.geometry.to_numpy()

    def placemark(row: int) -> str:
        present = [column[row] for column in cells if column[row] is not None]
        balloon = "".join(shown for shown, _ in present)
        data = "".join(datum for _, datum in present)
        return (f"<Placemark><name>{_text(names[row])}</name><description>{BALLOON_TABLE}{balloon}{BALLOON_END}"
                f"{_where(geometries[row])}</description><styleUrl>#{styles[row]}</styleUrl>"
                f"{f'<ExtendedData>{data}</ExtendedData>' if data else ''}{_geometry(geometries[row])}</Placemark>\n")

    for group, rows in _rows_by_group(frame, options.groups.get(name)):
        yield "" if group is None else f"<Folder><name>{_text(group)} ({len(rows):,})</name>\n"
        yield from map(placemark, rows)
        yield "" if group is None else "</Folder>\n"
    yield "</Folder>\n"


def _rows_by_group(frame: gpd.GeoDataFrame, column: str | None) -> list[tuple[str | None, list[int]]]:
    """The rows of each value of `column`, the value with most rows first (ties in their first row's order; a
    missing value as 未知 unknown), or every row under None without a column."""
    if column is None:
        return [(None, list(range(len(frame))))]
    values = [_shown(value) or "未知 unknown" for value in _column(frame, column)]
    rows: dict[str, list[int]] = {}
    for row, value in enumerate(values):
        rows.setdefault(value, []).append(row)
    return sorted(rows.items(), key=lambda group: -len(group[1]))


def _folder_name(name: str, description: str) -> str:
    """A layer's folder name: its description's first word when Chinese, and the layer's name in words."""
    first = description.split(" ")[0]
    words = name.replace("_", " ")
    return f"{first} {words}" if any("\u4e00" <= character <= "\u9fff" for character in first) else words


def _place_names(layer: str, frame: gpd.GeoDataFrame) -> list[str]:
    """Each place's name: NAME_PAIRS' ends joined by an arrow, else the first NAME_COLUMNS column the layer has,
    else the layer's name and the row's number."""
    pair = next(((a, b) for a, b in NAME_PAIRS if a in frame.columns and b in frame.columns), None)
    if pair is not None:
        return [f"{_shown(a) or '?'} → {_shown(b) or '?'}" for a, b in zip(_column(frame, pair[0]),
                                                                          _column(frame, pair[1]))]
    column = next((c for c in NAME_COLUMNS if c in frame.columns), None)
    values = _column(frame, column) if column is not None else [None] * len(frame)
    return [_shown(value) or f"{layer} {row + 1}" for row, value in enumerate(values)]


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column by name (the first of two of that name)."""
    values = frame[name]
    return values.iloc[:, 0] if isinstance(values, pd.DataFrame) else values


def _shown(value: object) -> str | None:
    """A value as a place's balloon shows it (None when missing): whole numbers as they are (codes keep their
    digits), others to at most 6 decimals, truth values 是/否, dates as days."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "是 yes" if value else "否 no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else _decimal(float(value))
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _decimal(value: float) -> str:
    """A number to at most 6 decimals, no trailing zeros."""
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


BALLOON_TABLE, BALLOON_END = escape("<table>"), escape("</table>")  # a balloon's HTML, escaped in its description


def _cells(column: str, values: pd.Series, labels: dict[str, str]) -> list[tuple[str, str] | None]:
    """A column's value in each place as its balloon's row (HTML, escaped once more to sit in the description)
    and as KML data (GIS tools read them back as columns; displayName: the Chinese label); None where missing."""
    label = labels.get(column)
    heading = escape(f"{label} {column}" if label and label != column else column)
    row_start, row_end = _text(f"<tr><td>{heading}</td><td>"), escape("</td></tr>")
    data_start = (f"<Data name={quoteattr(_clean(column))}>"
                  + (f"<displayName>{_text(label)}</displayName>" if label else "") + "<value>")
    return [None if text is None else (f"{row_start}{escape(text)}{row_end}", f"{data_start}{text}</value></Data>")
            for text in _texts(values)]


def _texts(values: pd.Series) -> list[str | None]:
    """Each value as _shown shows it, as XML holds it (_text): a column of numbers straight to its digits, another
    column's values each once (names, counties and codes repeat)."""
    if pd.api.types.is_float_dtype(values.dtype):
        return [None if math.isnan(value) else _decimal(value)
                for value in values.to_numpy(dtype=float, na_value=np.nan).tolist()]
    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        return list(map(str, values.tolist()))
    try:
        codes, uniques = pd.factorize(values)
    except TypeError:  # unhashable values (lists): each shown in turn
        return [None if shown is None else _text(shown) for shown in map(_shown, values)]
    texts = [None if shown is None else _text(shown) for shown in map(_shown, uniques)]
    return [None if code < 0 else texts[code] for code in codes.tolist()]


def _where(geometry) -> str:
    """Where a point is, as its balloon says it (escaped to sit in the description); nothing for another shape."""
    if geometry is None or geometry.geom_type != "Point" or geometry.is_empty:
        return ""
    return escape(f"<p>WGS84: {geometry.x:.6f}, {geometry.y:.6f}</p>")


def _geometry(geometry) -> str:
    """A shapely geometry as KML (none for a missing or empty one; parts of collections as a MultiGeometry)."""
    if geometry is None or geometry.is_empty:
        return ""
    kind = geometry.geom_type
    if kind == "Point":
        return f"<Point><coordinates>{_coordinates(geometry)}</coordinates></Point>"
    if kind in ("LineString", "LinearRing"):
        return f"<LineString><tessellate>1</tessellate><coordinates>{_coordinates(geometry)}</coordinates></LineString>"
    if kind == "Polygon":
        inner = "".join(f"<innerBoundaryIs>{_ring(ring)}</innerBoundaryIs>" for ring in geometry.interiors)
        return f"<Polygon><outerBoundaryIs>{_ring(geometry.exterior)}</outerBoundaryIs>{inner}</Polygon>"
    return f"<MultiGeometry>{''.join(_geometry(part) for part in geometry.geoms)}</MultiGeometry>"


def _ring(ring) -> str:
    """A polygon's ring."""
    return f"<LinearRing><coordinates>{_coordinates(ring)}</coordinates></LinearRing>"


def _coordinates(geometry) -> str:
    """lon,lat pairs to 6 decimals (0.1 m), space-separated."""
    return " ".join(f"{x:.6f},{y:.6f}" for x, y in shapely.get_coordinates(geometry))


def _text(value: str) -> str:
    """Text as XML holds it: escaped, without the characters XML cannot hold."""
    return escape(_clean(value))


def _clean(value: object) -> str:
    """Text without the characters XML cannot hold (control characters, lone surrogates)."""
    return _NOT_XML.sub("", str(value))


def _dot_png() -> bytes:
    """A white dot with a dark rim, 64 pixels (drawn at 4x and shrunk: smooth edges), as PNG."""
    from PIL import Image, ImageDraw

    big = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    ImageDraw.Draw(big).ellipse((16, 16, 240, 240), fill=(255, 255, 255, 255), outline=(60, 60, 60, 255), width=20)
    buffer = io.BytesIO()
    big.resize((64, 64), Image.LANCZOS).save(buffer, "PNG")
    return buffer.getvalue()


def write_field_kmz(path: Path, layers: dict[str, gpd.GeoDataFrame], labels: dict[str, str],
                    descriptions: dict[str, str], limit: int = KML_MAX_PLACES) -> tuple[Path, dict[str, int]]:
    """A command's KMZ beside its GeoPackage, for field visits: its layers, the lon/lat columns dropped (each
    place's own are WGS84, the tables' the inputs'); a layer of more than `limit` places an empty folder saying
    so; areas and lines with more than KML_MAX_VERTICES points (a country's county boundaries) simplified until
    they have fewer; the assignment lines unticked; a layer's places in a folder per plan (scenario: compare's
    changes) or per county (_by_county). Also the places left out, by layer."""
    left_out = too_many_places(layers, limit)
    field = {name: frame.iloc[:0] if name in left_out else _lighter(frame.drop(columns=[c for c in frame.columns
                                                                                         if c in LON_LAT_COLUMNS]))
             for name, frame in layers.items()}
    notes = {**descriptions, **{name: f"{descriptions.get(name, name)} — {count:,} places left out (a phone's map "
                                      f"slows beyond {limit:,}): see the GeoPackage beside this file"
                                for name, count in left_out.items()}}
    groups = {name: "scenario" if "scenario" in frame.columns else "county" for name, frame in field.items()
              if "scenario" in frame.columns or _by_county(frame)}
    return write_kml(path, field, labels, notes, hidden=[n for n in HIDDEN_LAYERS if n in field],
                     group_by=groups), left_out


def too_many_places(layers: dict[str, pd.DataFrame], limit: int = KML_MAX_PLACES) -> dict[str, int]:
    """The layers a command's KMZ leaves out, those of more than `limit` places, and how many places each has."""
    return {name: len(frame) for name, frame in layers.items() if len(frame) > limit}


def _lighter(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A layer in WGS84 whose areas and lines hold at most KML_MAX_VERTICES points: simplified by the first of
    SIMPLIFY_DEGREES that is enough (shapes kept valid), as it is where it holds fewer already."""
    layer = gpd.GeoDataFrame(frame).to_crs(4326)
    shapes = layer.geometry.to_numpy()
    if shapely.get_num_coordinates(shapes).sum() <= KML_MAX_VERTICES:
        return layer
    for tolerance in SIMPLIFY_DEGREES:
        simpler = shapely.simplify(shapes, tolerance, preserve_topology=True)
        if shapely.get_num_coordinates(simpler).sum() <= KML_MAX_VERTICES:
            break
    return layer.set_geometry(gpd.GeoSeries(simpler, index=layer.index, crs=4326))


def _by_county(frame: gpd.GeoDataFrame) -> bool:
    """Whether a layer's places are best foldered by county: more than GROUPED_PLACES of them, in at least two
    counties and at least two to a county on average (not the counties themselves)."""
    if "county" not in frame.columns or len(frame) <= GROUPED_PLACES:
        return False
    return 2 <= _column(frame, "county").nunique() <= len(frame) / 2


LON_LAT_COLUMNS = ("lon", "lat", "hub_lon", "hub_lat")
HIDDEN_LAYERS = ("assignment", "service_areas")  # a line from every town to its branch, every branch's area: on request
GROUPED_PLACES = 20  # a command's layer of more places than this, in several counties, has a folder per county
KML_MAX_VERTICES = 500_000  # a command's KMZ layer's points at most (boundaries simplified): ~15 MB of KML text
SIMPLIFY_DEGREES = (1e-4, 5e-4, 2e-3, 1e-2)  # tolerances tried in turn: about 10 m, 50 m, 200 m, 1 km


def write_map_files(path: Path, layers: dict[str, gpd.GeoDataFrame], coords: str, labels: dict[str, str],
                    descriptions: dict[str, str], geometry_types: dict[str, str] | None = None
                    ) -> tuple[list[Path], dict[str, int]]:
    """A command's map layers twice: `path`, a GeoPackage for QGIS or ArcGIS (lon/lat in the inputs' `coords`),
    and beside it a KMZ for Google Earth and 奥维 (write_field_kmz). The paths, and the places the KMZ left out."""
    written = write_geopackage(path, layers, coords, labels, descriptions, geometry_types)
    kmz, left_out = write_field_kmz(path.with_suffix(".kmz"), layers, labels, descriptions)
    return [written, kmz], left_out
