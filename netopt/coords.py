"""Conversions between WGS84, GCJ-02 (Amap/Tencent) and BD-09 (Baidu) lon/lat, vectorised."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """lon and lat as float arrays, or an InputError saying which is not numbers."""
    from netopt._errors import InputError

    arrays = []
    for name, values in (("lon", lon), ("lat", lat)):
        try:
            arrays.append(np.asarray(values, dtype=float))
        except (TypeError, ValueError):
            raise InputError(f"{name} must be numbers (degrees), got {values!r:.60}", file="coords") from None
    return arrays[0], arrays[1]


def _outside_china(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """The rough box outside which GCJ-02 applies no offset (the usual convention)."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _offset_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Apply the GCJ-02 offset to WGS84 points; points outside China are unchanged."""
    lon, lat = _as_arrays(lon, lat)
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = _outside_china(lon, lat)
    return np.where(outside, lon, lon + dlon), np.where(outside, lat, lat + dlat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, tol_deg: float = 1e-9, max_iter: int = 30) -> Pair:
    """Invert the GCJ-02 offset by fixed-point iteration (error below 1e-7 degrees, ~1 cm)."""
    lon, lat = _as_arrays(lon, lat)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(max_iter):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        err_lon, err_lat = glon - lon, glat - lat
        wlon, wlat = wlon - err_lon, wlat - err_lat
        if np.nanmax(np.abs(np.concatenate([err_lon.ravel(), err_lat.ravel(), [0.0]]))) < tol_deg:
            break
    return wlon, wlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Apply Baidu's BD-09 offset on top of GCJ-02."""
    lon, lat = _as_arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Remove Baidu's BD-09 offset, giving GCJ-02 (Baidu's published inverse)."""
    lon, lat = _as_arrays(lon, lat)
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, source: str) -> Pair:
    """Convert lon/lat given in `source` ("wgs84", "gcj02" or "bd09") to WGS84."""
    system = normalize_coord_system(source)
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return _as_arrays(lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, target: str) -> Pair:
    """Convert WGS84 lon/lat to `target` ("wgs84", "gcj02" or "bd09")."""
    system = normalize_coord_system(target)
    if system == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if system == "bd09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    return _as_arrays(lon, lat)


_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs": "wgs84", "epsg:4326": "wgs84", "gps": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
    "高德": "gcj02", "tencent": "gcj02", "火星坐标": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "bd09ll": "bd09", "baidu": "bd09", "百度": "bd09",
    "腾讯": "gcj02", "高德坐标": "gcj02", "火星坐标系": "gcj02", "国测局坐标": "gcj02", "百度坐标": "bd09",
    "百度坐标系": "bd09", "gps坐标": "wgs84", "cgcs2000": "wgs84", "cgcs-2000": "wgs84",  # CGCS2000: WGS84 within cm
    "4326": "wgs84", "国测局": "gcj02", "国测局坐标系": "gcj02", "腾讯坐标": "gcj02", "wgs84坐标": "wgs84",
}


def _alias_key(name: str) -> str:
    """A coordinate system's name as the aliases are looked up: lower case, without spaces (WGS 84, GCJ 02)."""
    return "".join(str(name).split()).lower()


def coord_system_or_none(name: str) -> str | None:
    """normalize_coord_system, or None for a name it does not know."""
    return _ALIASES.get(_alias_key(name))


def normalize_coord_system(name: str) -> str:
    """Map a user's name of a coordinate system to "wgs84", "gcj02" or "bd09"."""
    key = _alias_key(name)
    if key not in _ALIASES:
        from netopt._errors import InputError

        raise InputError(
            f"unknown coordinate system '{name}'; use one of wgs84, gcj02 (Amap/Tencent), bd09 (Baidu)",
            file="coords",
        )
    return _ALIASES[key]
