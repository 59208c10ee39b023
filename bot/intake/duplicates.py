"""Is this the same hazard someone already reported? Same category, close by, still open."""

from __future__ import annotations

import math
from datetime import datetime

from bot.config import Config
from bot.domain.geo import LatLon, distance_m
from bot.domain.lifecycle import OPEN, Status
from storage import reports
from storage.database import Database
from storage.records import Report

_METRES_PER_DEGREE = 111_320.0


async def similar_open_report(
    db: Database, config: Config, category: str, point: LatLon, now: datetime
) -> Report | None:
    """The nearest open report of `category` within the duplicate radius, from recent days."""
    settings = config.casework
    radius = settings.duplicate_radius_m
    if radius <= 0:
        return None
    dlat = radius / _METRES_PER_DEGREE
    dlon = radius / (_METRES_PER_DEGREE * max(math.cos(math.radians(point.lat)), 0.01))
    bounds = (point.lat - dlat, point.lon - dlon, point.lat + dlat, point.lon + dlon)
    statuses = [s.value for s in OPEN] + [Status.RESOLVED.value]
    async with db.transaction() as conn:
        candidates = await reports.open_nearby(
            conn,
            category,
            now - settings.duplicate_window,
            bounds,
            statuses,
        )
    scored = [(distance_m(point, LatLon(r.lat, r.lon)), r) for r in candidates]
    scored = [(d, r) for d, r in scored if d <= radius]
    return min(scored, key=lambda dr: (dr[0], -dr[1].id))[1] if scored else None
