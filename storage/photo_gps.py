"""Where a rider's photo was taken, read from its EXIF GPS tags.

The location is useful evidence for routing a report, but phones and apps write GPS tags in
many shapes (and sometimes nonsense), so every value is checked before it is believed. Kept
apart from decoding because it reads tags, not pixels, and is read before metadata is dropped.
"""

from __future__ import annotations

import math
from fractions import Fraction

from PIL import Image, TiffImagePlugin

__all__ = ["read_exif_gps"]

_EXIF_GPS_IFD = 0x8825
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_STATUS = 1, 2, 3, 4, 9


def _rational_to_float(value: object) -> float | None:
    """EXIF rationals may have zero denominators (unknown); those make the fix unusable."""
    if isinstance(value, TiffImagePlugin.IFDRational):
        numerator = value.numerator  # always an int when Pillow reads it from a file
        if value.denominator == 0 or not isinstance(numerator, int):
            return None
        result = float(Fraction(numerator, value.denominator))
    elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        if value[1] == 0:
            return None
        result = value[0] / value[1]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    else:
        return None
    return result if math.isfinite(result) else None


def _dms_to_degrees(value: object, max_degrees: float) -> float | None:
    """Degrees/minutes/seconds; some writers use one or two components (decimal minutes).

    Each component must be in its own range (minutes and seconds below 60, degrees at most
    ``max_degrees``): a writer's "36° 999′" would otherwise add up to a plausible but wrong
    52.65°, sending the report to a place the rider never was. Such a fix is no fix.
    """
    parts = value if isinstance(value, tuple | list) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    numbers = [n for n in (_rational_to_float(p) for p in parts) if n is not None]
    if len(numbers) != len(parts) or any(n < 0 for n in numbers):
        return None
    if numbers[0] > max_degrees or any(n >= 60 for n in numbers[1:]):
        return None
    degrees = 0.0
    for n, scale in zip(numbers, (1.0, 60.0, 3600.0), strict=False):
        degrees += n / scale
    return degrees if degrees <= max_degrees else None


def _ref(value: object) -> str | None:
    """A GPS reference letter, tolerating bytes, NULs, padding and lower case."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ").upper()
    return value or None


def read_exif_gps(image: Image.Image) -> tuple[float, float] | None:
    """(lat, lon) in WGS-84 from EXIF, or None when absent, void, malformed or out of range.

    A missing N/S or E/W reference is read as north/east (China); (0, 0) is a phone's
    placeholder for "no fix" rather than a report from the Gulf of Guinea, so it is ignored.
    """
    try:
        gps = image.getexif().get_ifd(_EXIF_GPS_IFD)
    except Exception:  # malformed EXIF must never break photo intake
        return None
    if not gps or _GPS_LAT not in gps or _GPS_LON not in gps:
        return None
    if _ref(gps.get(_GPS_STATUS)) == "V":  # receiver says the measurement is void
        return None
    lat = _dms_to_degrees(gps[_GPS_LAT], 90.0)
    lon = _dms_to_degrees(gps[_GPS_LON], 180.0)
    if lat is None or lon is None:
        return None
    lat_ref = _ref(gps.get(_GPS_LAT_REF)) or "N"
    lon_ref = _ref(gps.get(_GPS_LON_REF)) or "E"
    if lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
        return None
    lat = -lat if lat_ref == "S" else lat
    lon = -lon if lon_ref == "W" else lon
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or (lat == 0.0 and lon == 0.0):
        return None
    return (lat, lon)
