"""The ledger's rows (台账): one per report made in a period, with the time of each step.

One query: the period's reports, their step times aggregated from the events of those
reports only, and their follower counts. Rows come back as mappings, in ticket order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.figures import EVERY, Scope
from storage.queue import in_scope
from storage.tables import events, report_followers, reports

CLOSING_EVENTS = ("confirmed", "auto_closed", "rejected")


async def count_made(
    conn: AsyncConnection, start: datetime, end: datetime, scope: Scope = EVERY
) -> int:
    r = reports.c
    found = await conn.scalar(
        select(func.count()).where(r.created_at >= start, r.created_at < end, *in_scope(scope))
    )
    return int(found or 0)


async def stream_made(
    conn: AsyncConnection, start: datetime, end: datetime, scope: Scope = EVERY
) -> AsyncIterator[RowMapping]:
    """Reports made in [start, end) (of one desk, with `scope`) with: the first dispatch,
    the last acceptance, the closing event's time (confirmation, automatic closure or
    rejection), and +1 count."""
    r, e = reports.c, events.c
    made = (r.created_at >= start, r.created_at < end, *in_scope(scope))
    chosen = select(r.id).where(*made).scalar_subquery()

    def when(kinds: tuple[str, ...]) -> Any:
        return case((e.kind.in_(kinds), e.at))

    steps = (
        select(
            e.report_id,
            func.min(when(("dispatched",))).label("dispatched_at"),
            func.max(when(("accepted",))).label("last_accepted_at"),
            func.max(when(CLOSING_EVENTS)).label("closing_at"),
        )
        .where(
            e.report_id.in_(chosen),
            e.kind.in_(("dispatched", "accepted", *CLOSING_EVENTS)),
            e.at >= start,  # a report's events come after it was made: keeps to the range
        )
        .group_by(e.report_id)
        .subquery("steps")
    )
    joined = (
        select(report_followers.c.report_id, func.count().label("n"))
        .where(report_followers.c.report_id.in_(chosen))
        .group_by(report_followers.c.report_id)
        .subquery("joined")
    )
    query = (
        select(
            reports,
            steps.c.dispatched_at,
            steps.c.last_accepted_at,
            steps.c.closing_at,
            func.coalesce(joined.c.n, 0).label("confirmations"),
        )
        .select_from(
            reports.outerjoin(steps, steps.c.report_id == r.id).outerjoin(
                joined, joined.c.report_id == r.id
            )
        )
        .where(*made)
        .order_by(r.id)
    )
    result = await conn.stream(query)
    async for partition in result.mappings().partitions(1000):  # one await per thousand rows
        for row in partition:
            yield row
