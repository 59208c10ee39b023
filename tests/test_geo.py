"""Tests for bot.domain.geo: the GCJ-02 formula, its inverse, distances and links."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.domain.geo import (
    LatLon,
    amap_url,
    distance_m,
    gcj02_to_wgs84,
    osm_url,
    out_of_china,
    valid_latlon,
    wgs84_to_gcj02,
)

# Published test vectors of googollee/eviltransform (go/transform_test.go and its ports):
# (WGS-84 lat, lon) → (GCJ-02 lat, lon).
EVILTRANSFORM_VECTORS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]

CHANGZHI = LatLon(36.1, 113.2)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_VECTORS)
def test_forward_matches_published_vectors(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    got = wgs84_to_gcj02(LatLon(*wgs))
    assert got.lat == pytest.approx(gcj[0], abs=1e-9)
    assert got.lon == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_VECTORS)
def test_inverse_matches_published_vectors(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    got = gcj02_to_wgs84(LatLon(*gcj))
    assert got.lat == pytest.approx(wgs[0], abs=1e-7)
    assert got.lon == pytest.approx(wgs[1], abs=1e-7)


def test_tiananmen_reference_pair() -> None:
    gcj = wgs84_to_gcj02(LatLon(39.90734, 116.39089))
    assert gcj.lat == pytest.approx(39.90874, abs=1e-5)
    assert gcj.lon == pytest.approx(116.39713, abs=1e-5)
    back = gcj02_to_wgs84(LatLon(39.90874, 116.39713))
    assert back.lat == pytest.approx(39.90734, abs=2e-5)  # the GCJ pair itself is rounded
    assert back.lon == pytest.approx(116.39089, abs=2e-5)


def _grid_over_china() -> list[LatLon]:
    return [
        LatLon(lat, lon)
        for lat in (18.3, 22.5, 27.0, 31.2, 36.1, 39.9, 43.8, 48.0, 53.0)
        for lon in (75.9, 87.6, 98.5, 104.1, 108.9, 113.2, 116.4, 121.5, 126.6, 134.0)
    ]


@pytest.mark.parametrize("p", _grid_over_china())
def test_round_trip_is_exact(p: LatLon) -> None:
    back = gcj02_to_wgs84(wgs84_to_gcj02(p))
    assert abs(back.lat - p.lat) < 1e-6
    assert abs(back.lon - p.lon) < 1e-6
    # And much tighter than required: the iteration converges to float noise.
    assert abs(back.lat - p.lat) < 1e-9
    assert abs(back.lon - p.lon) < 1e-9


def test_inverse_is_better_than_one_step_approximation() -> None:
    gcj = wgs84_to_gcj02(CHANGZHI)
    one_step = LatLon(2 * gcj.lat - wgs84_to_gcj02(gcj).lat, 2 * gcj.lon - wgs84_to_gcj02(gcj).lon)
    exact = gcj02_to_wgs84(gcj)
    assert distance_m(exact, CHANGZHI) < 0.01
    assert distance_m(exact, CHANGZHI) < distance_m(one_step, CHANGZHI)


def test_offset_in_changzhi_is_a_few_hundred_metres() -> None:
    gcj = wgs84_to_gcj02(CHANGZHI)
    offset = distance_m(CHANGZHI, gcj)
    assert 300 < offset < 800
    # Mostly eastward there: that is what pushes points across north-south borders.
    assert gcj.lon > CHANGZHI.lon


@pytest.mark.parametrize(
    "p",
    [
        LatLon(43.467448, 11.885127),  # Arezzo, the EXIF sample photo
        LatLon(39.7392, -104.9903),  # Denver
        LatLon(-27.4698, 153.0251),  # Brisbane
        LatLon(51.5, -0.12),  # London
        LatLon(60.0, 100.0),  # north of the box
    ],
)
def test_identity_outside_china(p: LatLon) -> None:
    assert out_of_china(p)
    assert wgs84_to_gcj02(p) == p
    assert gcj02_to_wgs84(p) == p


def test_inside_china() -> None:
    assert not out_of_china(CHANGZHI)
    assert not out_of_china(LatLon(39.9, 116.4))


def test_distance_sanity() -> None:
    assert distance_m(CHANGZHI, CHANGZHI) == 0.0
    # One degree of latitude near 36°N is about 110.9 km on WGS-84.
    assert distance_m(LatLon(36.0, 113.0), LatLon(37.0, 113.0)) == pytest.approx(110_950, rel=2e-3)
    # Beijing → Shanghai is about 1,070 km.
    beijing, shanghai = LatLon(39.9042, 116.4074), LatLon(31.2304, 121.4737)
    assert distance_m(beijing, shanghai) == pytest.approx(1_067_000, rel=0.01)
    assert distance_m(beijing, shanghai) == pytest.approx(distance_m(shanghai, beijing))


def test_osm_url_uses_wgs84() -> None:
    url = osm_url(LatLon(36.1, 113.2))
    assert url == (
        "https://www.openstreetmap.org/?mlat=36.100000&mlon=113.200000#map=18/36.100000/113.200000"
    )


def test_amap_url_converts_and_encodes() -> None:
    p = CHANGZHI
    url = amap_url(p, "壶关 县&x=1")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "uri.amap.com", "/marker")
    query = parse_qs(parts.query)
    lon_s, lat_s = query["position"][0].split(",")
    gcj = wgs84_to_gcj02(p)
    assert float(lon_s) == pytest.approx(gcj.lon, abs=1e-6)
    assert float(lat_s) == pytest.approx(gcj.lat, abs=1e-6)
    assert query["name"] == ["壶关 县&x=1"]
    assert query["coordinate"] == ["gaode"]
    assert query["callnative"] == ["0"]
    assert "name=%E5%A3%B6%E5%85%B3%20%E5%8E%BF%26x%3D1&" in url  # '&', '=' and ' ' encoded


def test_amap_url_without_name() -> None:
    url = amap_url(CHANGZHI)
    assert "name=" not in url
    assert url.endswith("&coordinate=gaode&callnative=0")


@pytest.mark.parametrize(
    ("lat", "lon", "ok"),
    [
        (36.1, 113.2, True),
        (0, 0, True),
        (90, 180, True),
        (-90.0, -180.0, True),
        (90.0001, 0, False),
        (0, 180.0001, False),
        (math.nan, 0, False),
        (0, math.inf, False),
        (None, 0, False),
        ("36.1", "113.2", False),
        (True, 0, False),
    ],
)
def test_valid_latlon(lat: object, lon: object, ok: bool) -> None:
    assert valid_latlon(lat, lon) is ok
