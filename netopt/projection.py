"""Pick a metric coordinate system for a study area and move between lon/lat and metres."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from netopt._errors import InputError

WGS84 = CRS.from_epsg(4326)


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS containing (lon, lat)."""
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs(*frames: gpd.GeoDataFrame) -> CRS:
    """A metric CRS suited to the frames' joint extent: the UTM zone of its centre."""
    bounds = np.array([f.total_bounds if f.crs == WGS84 else f.to_crs(4326).total_bounds
                       for f in frames if f.geometry.notna().any()])
    if not len(bounds):
        raise InputError("no place to measure or draw: no county boundary, town or branch has a location",
                         file="data")
    minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
    maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
    return utm_crs((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def to_metres(lon: np.ndarray, lat: np.ndarray, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat arrays to x/y metres in `crs`."""
    transformer = Transformer.from_crs(4326, crs, always_xy=True)
    return transformer.transform(np.asarray(lon, float), np.asarray(lat, float))


def xy_metres(frame: gpd.GeoDataFrame, crs: CRS) -> np.ndarray:
    """An (n, 2) array of the frame's representative points in metres in `crs` (from the frame's own coordinate
    system: WGS84 lon/lat where it has none)."""
    points = frame.geometry.representative_point()
    transformer = Transformer.from_crs(frame.crs or 4326, crs, always_xy=True)
    x, y = transformer.transform(points.x.to_numpy(), points.y.to_numpy())
    return np.column_stack([x, y])
