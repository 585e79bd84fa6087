"""GCJ-02 and BD-09 conversions against published reference pairs and round trips."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netopt import InputError
from netopt.coords import bd09_to_gcj02, from_wgs84, gcj02_to_bd09, gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02

# (wgs lat, wgs lon, gcj lat, gcj lon): the test pairs of the eviltransform project (Shanghai, Shenzhen, Beijing)
EVILTRANSFORM_PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
# (gcj lon, gcj lat, bd lon, bd lat) and (bd lon, bd lat, gcj lon, gcj lat): the test values of the
# wandergis/coordtransform family (Beijing) and of gcoord (lon 123, lat 45)
GCJ_TO_BD_PAIRS = [(116.404, 39.915, 116.41036949371029, 39.92133699351021), (123.0, 45.0, 123.00636499, 45.00636899)]
BD_TO_GCJ_PAIRS = [(116.404, 39.915, 116.39762729119315, 39.90865673957631), (123.0, 45.0, 122.99363304, 44.99365430)]
HEFEI_COUNTIES = Path(__file__).resolve().parents[1] / "data/sources/hefei/hefei_counties.csv"


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM_PAIRS)
def test_wgs84_to_gcj02_matches_reference(wlat, wlon, glat, glon):
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9) and lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM_PAIRS)
def test_gcj02_to_wgs84_inverts_reference(wlat, wlon, glat, glon):
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert lon == pytest.approx(wlon, abs=1e-7) and lat == pytest.approx(wlat, abs=1e-7)


@pytest.mark.parametrize("glon, glat, blon, blat", GCJ_TO_BD_PAIRS)
def test_gcj02_to_bd09_matches_reference(glon, glat, blon, blat):
    lon, lat = gcj02_to_bd09(glon, glat)
    assert lon == pytest.approx(blon, abs=1e-8) and lat == pytest.approx(blat, abs=1e-8)


@pytest.mark.parametrize("blon, blat, glon, glat", BD_TO_GCJ_PAIRS)
def test_bd09_to_gcj02_matches_reference(blon, blat, glon, glat):
    lon, lat = bd09_to_gcj02(blon, blat)
    assert lon == pytest.approx(glon, abs=1e-8) and lat == pytest.approx(glat, abs=1e-8)


def test_hefei_county_seats_match_the_sources_independent_conversion():
    table = pd.read_csv(HEFEI_COUNTIES).dropna(subset=["seat_lon_gcj02"])
    lon, lat = gcj02_to_wgs84(table["seat_lon_gcj02"], table["seat_lat_gcj02"])
    assert np.abs(lon - table["seat_lon_wgs84"]).max() < 2e-6
    assert np.abs(lat - table["seat_lat_wgs84"]).max() < 2e-6


def test_points_outside_china_are_not_shifted():
    lon, lat = wgs84_to_gcj02([-122.3, 2.35], [37.8, 48.85])
    assert np.allclose(lon, [-122.3, 2.35]) and np.allclose(lat, [37.8, 48.85])


china_lon = st.floats(min_value=74.0, max_value=134.0)
china_lat = st.floats(min_value=18.0, max_value=53.0)


@settings(max_examples=200, deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip(lon, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert back[0] == pytest.approx(lon, abs=1e-7) and back[1] == pytest.approx(lat, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trip(lon, lat):
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert back[0] == pytest.approx(lon, abs=2e-5) and back[1] == pytest.approx(lat, abs=2e-5)
    again = to_wgs84(*from_wgs84(lon, lat, "bd09"), "bd09")
    assert again[0] == pytest.approx(lon, abs=2e-5) and again[1] == pytest.approx(lat, abs=2e-5)


def test_the_offset_is_hundreds_of_metres_in_china():
    lon, lat = wgs84_to_gcj02(117.3, 31.86)
    assert 100 < abs(lon - 117.3) * 95_000 + abs(lat - 31.86) * 111_000 < 1_000


def test_unknown_coordinate_system_is_an_input_error():
    with pytest.raises(InputError, match="unknown coordinate system 'utm'"):
        to_wgs84(117.0, 31.0, "utm")


@pytest.mark.parametrize("name, system", [("WGS 84", "wgs84"), ("EPSG:4326", "wgs84"), ("4326", "wgs84"),
                                          ("GCJ 02", "gcj02"), ("火星坐标", "gcj02"), ("国测局", "gcj02"),
                                          ("高德", "gcj02"), (" 百度坐标系 ", "bd09"), ("BD-09", "bd09")])
def test_a_coordinate_system_as_analysts_name_it(name: str, system: str):
    from netopt.coords import normalize_coord_system

    assert normalize_coord_system(name) == system
