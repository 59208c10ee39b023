"""Coordinates: WGS-84 ↔ GCJ-02, distances and map links.

Riders' phones report WGS-84 (Telegram locations, EXIF GPS), while Chinese map services and the
DataV boundary files use GCJ-02, the officially obfuscated datum; mixing them puts a point a few
hundred metres off, enough to route a report to the neighbouring community.

There is no maintained PyPI library for GCJ-02 (the existing ones are unmaintained one-file
packages), so the well-known public formula lives here, with an exact iterative inverse instead of
the common one-step approximation (which is off by up to a couple of metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import quote

from geopy.distance import geodesic

__all__ = [
    "LatLon",
    "amap_url",
    "distance_m",
    "gcj02_to_wgs84",
    "osm_url",
    "out_of_china",
    "valid_latlon",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323

_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_ITERATIONS = 30


@dataclass(frozen=True, slots=True)
class LatLon:
    """A point in decimal degrees; the datum is implied by where it came from."""

    lat: float
    lon: float


def valid_latlon(lat: object, lon: object) -> bool:
    """True for finite real numbers within ±90/±180; guards against junk from clients and EXIF."""
    return _degrees(lat, 90.0) and _degrees(lon, 180.0)


def _degrees(value: object, limit: float) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and -limit <= value <= limit


def out_of_china(p: LatLon) -> bool:
    """True outside the rough bounding box where GCJ-02 applies (the formula's own convention)."""
    return not (72.004 <= p.lon <= 137.8347 and 0.8293 <= p.lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (
        (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    return ret


def _offset(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (no China check)."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = math.sin(radlat)
    magic = 1 - _EE * magic * magic
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(p: LatLon) -> LatLon:
    """Obfuscate a GPS point the way Chinese maps expect; identity outside China."""
    if out_of_china(p):
        return p
    dlat, dlon = _offset(p.lat, p.lon)
    return LatLon(p.lat + dlat, p.lon + dlon)


def gcj02_to_wgs84(p: LatLon) -> LatLon:
    """Invert the obfuscation by fixed-point iteration, so boundaries convert to within 1e-7°.

    The offset varies slowly (well under 1e-4 per degree), so the iteration converges in a few
    steps to floating-point noise.
    """
    if out_of_china(p):
        return p
    lat, lon = p.lat, p.lon
    for _ in range(_INVERSE_MAX_ITERATIONS):
        dlat, dlon = _offset(lat, lon)
        new_lat, new_lon = p.lat - dlat, p.lon - dlon
        converged = (
            abs(new_lat - lat) < _INVERSE_TOLERANCE_DEG
            and abs(new_lon - lon) < _INVERSE_TOLERANCE_DEG
        )
        lat, lon = new_lat, new_lon
        if converged:
            break
    return LatLon(lat, lon)


def distance_m(a: LatLon, b: LatLon) -> float:
    """Geodesic distance on the WGS-84 ellipsoid, in metres."""
    return float(geodesic((a.lat, a.lon), (b.lat, b.lon)).meters)


def osm_url(p: LatLon) -> str:
    """OpenStreetMap link for a WGS-84 point (OSM uses WGS-84, so no conversion)."""
    lat, lon = f"{p.lat:.6f}", f"{p.lon:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"


def amap_url(p: LatLon, name: str = "") -> str:
    """Amap (高德) marker link for a WGS-84 point; Amap wants GCJ-02, so convert first."""
    g = wgs84_to_gcj02(p)
    url = f"https://uri.amap.com/marker?position={g.lon:.6f},{g.lat:.6f}"
    if name:
        url += f"&name={quote(name, safe='')}"
    return url + "&coordinate=gaode&callnative=0"
