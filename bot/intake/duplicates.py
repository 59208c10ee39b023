"""Is this the same hazard someone already reported? Same category, close by, still open.

And +1: a rider whose sighting is such a report's joins it instead of filing another. Both
channels take this one path (Telegram's draft buttons, asked in bot/intake/questions.py and
answered in bot/intake/stepwise.py; the web's form in bot/intake/form.py), so who may join
what, and what joining does, cannot drift.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.domain.geo import LatLon, distance_m
from bot.domain.lifecycle import OPEN, Status
from storage import drafts, inbox, reports
from storage.database import Database
from storage.records import Draft, Report

if TYPE_CHECKING:
    from bot.casework.dispatch import Dispatcher

_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Nearby:
    report: Report
    distance_m: float


async def similar_open_report(
    db: Database, config: Config, category: str, point: LatLon, now: datetime
) -> Report | None:
    """The nearest open report of `category` within the duplicate radius, from recent days."""
    found = await nearest_open_report(db, config, category, point, now)
    return found.report if found else None


async def nearest_open_report(
    db: Database, config: Config, category: str, point: LatLon, now: datetime
) -> Nearby | None:
    """That report, and how far it is from `point`."""
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
    if not scored:
        return None
    distance, report = min(scored, key=lambda dr: (dr[0], -dr[1].id))
    return Nearby(report, distance)


class Join(enum.Enum):
    JOINED = "joined"
    GONE = "gone"  # the report was closed or rejected meanwhile
    DRAFT_CLOSED = "draft_closed"  # the draft was no longer open (a second press)


async def join_report(
    conn: AsyncConnection,
    dispatcher: Dispatcher,
    draft: Draft,
    rider_id: int,
    report_id: int,
    now: datetime,
) -> tuple[Join, Report | None]:
    """+1: close `draft` as joined to the open report; the rider follows it from now on.

    The caller checked that this report is the one offered for the draft. The report's
    history records the sighting (and how many photos it had), its card shows it, and the
    rider has seen the report up to now (its earlier steps are not news to them).
    """
    report = await reports.get(conn, report_id)
    if report is None or report.status in ("closed", "rejected"):
        return Join.GONE, report
    if not await drafts.close(conn, draft.id, "joined", now):
        return Join.DRAFT_CLOSED, report
    await drafts.set_joined(conn, draft.id, report.id)
    if report.rider_id != rider_id:
        await reports.add_follower(conn, report.id, rider_id, now)
    await reports.add_event(
        conn, report.id, "joined", "rider", rider_id, now, photos=len(draft.photos)
    )
    await inbox.mark_seen(conn, rider_id, report.id, await inbox.last_event_id(conn, report.id))
    await dispatcher.refresh(report.id, conn)
    return Join.JOINED, report
