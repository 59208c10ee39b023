"""Points, rings and boundaries in a configuration, converted to WGS-84.

Coordinates given in GCJ-02 (the system of Chinese map apps) are converted here, so the
rest of the application only ever sees WGS-84.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from bot.config.reader import Reader
from bot.domain.geo import LatLon, gcj02_to_wgs84, valid_latlon


def read_point(r: Reader, value: Any, path: str, system: str) -> LatLon | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        r.problem(path, "expected [longitude, latitude]")
        return None
    lon, lat = float(value[0]), float(value[1])
    if not valid_latlon(lat, lon):
        r.problem(path, f"[{lon}, {lat}] is not a longitude, latitude pair")
        return None
    point = LatLon(lat, lon)
    return gcj02_to_wgs84(point) if system == "gcj02" else point


def read_ring(r: Reader, coords: Any, path: str, system: str) -> list[tuple[float, float]] | None:
    if not isinstance(coords, list) or len(coords) < 4:
        r.problem(
            path,
            "a polygon needs at least 4 [longitude, latitude] points, the last equal to the first",
        )
        return None
    points = []
    for k, value in enumerate(coords):
        p = read_point(r, value, f"{path}[{k}]", system)
        if p is None:
            return None
        points.append(p)
    if coords[0] != coords[-1]:
        r.problem(
            path,
            f"polygon does not close: first point {coords[0]} differs from "
            f"last point {coords[-1]}",
        )
        return None
    return [(p.lon, p.lat) for p in points]


def read_boundary(
    r: Reader, item: Mapping[str, Any], path: str, system: str
) -> Polygon | MultiPolygon | None:
    geom: Polygon | MultiPolygon | None = None
    if "boundary" in item and "boundary_file" in item:
        r.problem(path, "give boundary or boundary_file, not both")
        return None
    if "boundary" in item:
        ring = read_ring(r, item["boundary"], f"{path}.boundary", system)
        geom = Polygon(ring) if ring else None
        where = f"{path}.boundary"
    elif "boundary_file" in item:
        where = f"{path}.boundary_file"
        geom = _boundary_from_file(r, item, path, system)
    else:
        return None
    if geom is not None and not geom.is_valid:
        r.problem(where, f"polygon is not valid: {shapely.is_valid_reason(geom)}")
        return None
    return geom


def _boundary_from_file(
    r: Reader, item: Mapping[str, Any], path: str, system: str
) -> Polygon | MultiPolygon | None:
    """A boundary from a GeoJSON file: the feature whose properties.name matches."""
    file_name = r.get(item, path, "boundary_file", str, required=True)
    feature_name = r.get(item, path, "boundary_feature", str, None)
    if file_name is None:
        return None
    file_path = Path(file_name)
    if not file_path.is_absolute():
        file_path = r.base_dir / file_path
    try:
        data = json.loads(file_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        r.problem(f"{path}.boundary_file", f"cannot read GeoJSON {file_path}: {exc}")
        return None
    features = data.get("features", [data]) if isinstance(data, dict) else []
    if feature_name is not None:
        features = [f for f in features if f.get("properties", {}).get("name") == feature_name]
    if len(features) != 1:
        r.problem(
            f"{path}.boundary_feature",
            f"expected exactly one matching feature in {file_path.name}, found {len(features)}",
        )
        return None
    try:
        geom = shape(features[0]["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        r.problem(f"{path}.boundary_file", f"not a GeoJSON geometry: {exc}")
        return None
    if not isinstance(geom, Polygon | MultiPolygon):
        r.problem(f"{path}.boundary_file", f"expected a polygon, found {geom.geom_type}")
        return None
    if system == "gcj02":
        geom = shapely.transform(geom, _gcj02_array_to_wgs84)
    return geom


def _gcj02_array_to_wgs84(coords: np.ndarray) -> np.ndarray:
    """shapely.transform callback: an (N, 2) array of GCJ-02 lon/lat to WGS-84."""
    out = [gcj02_to_wgs84(LatLon(float(lat), float(lon))) for lon, lat in coords]
    return np.array([(p.lon, p.lat) for p in out], dtype=float).reshape(-1, 2)
