"""What a rider has not yet seen of their reports' histories (the web page's updates).

A rider's reports are their own and those they follow (+1). An event of one is news to the
rider until they have seen the report up to it (rider_reads.seen_event_id). Which kinds of
event a rider may see is the core's rule (bot/intake/my_reports.py); this module only counts.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import Insert, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import events, report_followers, reports, rider_reads


async def unseen(
    conn: AsyncConnection, rider_id: int, kinds: Collection[str], limit: int
) -> list[dict[str, Any]]:
    """Events of `kinds` in the rider's reports that they have not seen and did not do
    themselves, newest first; each with `reporter`: whether the report is the rider's own."""
    followed = select(report_followers.c.report_id).where(report_followers.c.rider_id == rider_id)
    seen = func.coalesce(rider_reads.c.seen_event_id, 0)
    rows = (
        await conn.execute(
            select(events, (reports.c.rider_id == rider_id).label("reporter"))
            .join(reports, reports.c.id == events.c.report_id)
            .outerjoin(
                rider_reads,
                and_(
                    rider_reads.c.report_id == events.c.report_id,
                    rider_reads.c.rider_id == rider_id,
                ),
            )
            .where(
                or_(reports.c.rider_id == rider_id, reports.c.id.in_(followed)),
                events.c.id > seen,
                events.c.kind.in_(list(kinds)),
                or_(
                    events.c.actor_kind != "rider",
                    events.c.actor_id.is_(None),
                    events.c.actor_id != rider_id,
                ),
            )
            .order_by(events.c.id.desc())
            .limit(limit)
        )
    ).all()
    return [{**r._mapping, "data": json.loads(r.data), "reporter": bool(r.reporter)} for r in rows]


async def last_event_id(conn: AsyncConnection, report_id: int) -> int:
    found = await conn.execute(
        select(func.max(events.c.id)).where(events.c.report_id == report_id)
    )
    return int(found.scalar_one() or 0)


async def mark_seen(conn: AsyncConnection, rider_id: int, report_id: int, event_id: int) -> None:
    """The rider has seen the report up to `event_id` (never moves backwards)."""
    await conn.execute(
        _insert_unless_there(conn).values(rider_id=rider_id, report_id=report_id, seen_event_id=0)
    )
    await conn.execute(
        update(rider_reads)
        .where(
            rider_reads.c.rider_id == rider_id,
            rider_reads.c.report_id == report_id,
            rider_reads.c.seen_event_id < event_id,
        )
        .values(seen_event_id=event_id)
    )


def _insert_unless_there(conn: AsyncConnection) -> Insert:
    """INSERT that leaves an existing row alone (two pages of one rider at once)."""
    keys = ["rider_id", "report_id"]
    if conn.dialect.name == "sqlite":
        return sqlite.insert(rider_reads).on_conflict_do_nothing(index_elements=keys)
    if conn.dialect.name == "postgresql":
        return postgresql.insert(rider_reads).on_conflict_do_nothing(index_elements=keys)
    return insert(rider_reads)
