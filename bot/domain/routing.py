"""Decide which community is responsible for a reported point.

Boundaries beat radii because a polygon is what a community actually administers; radius
circles are the fallback for communities that only gave a centre. Anything unmatched goes to the
supervisors' queue rather than to a guessed community.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import shapely

from bot.domain.geo import LatLon, distance_m

__all__ = ["Area", "Route", "Router"]

_EARTH_MEAN_RADIUS_M = 6_371_008.8
# A sphere misjudges WGS-84 geodesics by well under 1 %, so this margin keeps the cheap
# pre-filter from ever discarding a centre the exact geodesic would accept.
_PREFILTER_SLACK = 0.99


@dataclass(frozen=True)
class Area:
    """One community's catchment: a WGS-84 lon/lat polygon and/or a centre with a radius."""

    community_id: str
    boundary: shapely.Polygon | shapely.MultiPolygon | None
    centre: LatLon | None
    radius_m: float | None
    categories: frozenset[str] | None = None  # None = accepts every category

    def __post_init__(self) -> None:
        """Reject radii that would silently never (or always) match."""
        if self.radius_m is not None and not (math.isfinite(self.radius_m) and self.radius_m >= 0):
            raise ValueError(f"{self.community_id}: radius_m must be finite and >= 0")

    def accepts(self, category: str) -> bool:
        """Whether this community handles reports of this category."""
        return self.categories is None or category in self.categories


@dataclass(frozen=True)
class Route:
    """The routing decision, with how it was reached so it can be explained to supervisors."""

    community_id: str | None  # None → the supervisors' queue
    method: Literal["boundary", "radius", "none"]
    distance_m: float | None  # to the chosen centre, for "radius"; None otherwise


def _haversine_m(a: LatLon, b: LatLon) -> float:
    """Spherical distance: cheap stand-in for the geodesic, only used to skip far centres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * _EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


class Router:
    """Routes points to communities; build once from config, query per report."""

    def __init__(self, areas: Sequence[Area]) -> None:
        """Index polygons in an STRtree so routing stays fast with hundreds of communities."""
        self._areas: tuple[Area, ...] = tuple(areas)
        # Tree position → area index (config order), for areas that have a usable polygon.
        self._polygon_area_index: list[int] = []
        geoms: list[shapely.Geometry] = []
        for index, area in enumerate(self._areas):
            if area.boundary is None or area.boundary.is_empty:
                continue
            shapely.prepare(area.boundary)  # idempotent; speeds up repeated covers() tests
            geoms.append(area.boundary)
            self._polygon_area_index.append(index)
        self._tree = shapely.STRtree(geoms)
        self._radius_areas: tuple[tuple[Area, LatLon, float], ...] = tuple(
            (a, a.centre, a.radius_m)
            for a in self._areas
            if a.centre is not None and a.radius_m is not None
        )

    def route(self, point: LatLon, category: str) -> Route:
        """Boundary containment first, then the nearest centre within its radius, else none."""
        community = self._by_boundary(point, category)
        if community is not None:
            return Route(community, "boundary", None)
        nearest = self._by_radius(point, category)
        if nearest is not None:
            return Route(nearest[0], "radius", nearest[1])
        return Route(None, "none", None)

    def _by_boundary(self, point: LatLon, category: str) -> str | None:
        """First area in config order whose polygon covers the point (edges count)."""
        if not self._polygon_area_index:
            return None
        geom = shapely.Point(point.lon, point.lat)
        # Bounding-box candidates only; the exact test runs on the prepared polygons below.
        candidates = sorted(self._polygon_area_index[int(i)] for i in self._tree.query(geom))
        for index in candidates:
            area = self._areas[index]
            if area.accepts(category) and shapely.covers(area.boundary, geom):
                return area.community_id
        return None

    def _by_radius(self, point: LatLon, category: str) -> tuple[str, float] | None:
        """Nearest accepting centre within its radius; ties go to the first in config order."""
        best: tuple[str, float] | None = None
        for area, centre, radius_m in self._radius_areas:
            if not area.accepts(category):
                continue
            if _haversine_m(point, centre) * _PREFILTER_SLACK > radius_m:
                continue
            d = distance_m(point, centre)
            if d <= radius_m and (best is None or d < best[1]):
                best = (area.community_id, d)
        return best
