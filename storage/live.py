"""What changed lately, cheaply: the mark a console page polls to know it is out of date.

The newest report and the newest event (a step, a reply, a rider's answer) move whenever a
queue or a report could look different; both are the top of a primary key, so the answer
costs two index lookups at any size.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import events, reports


async def mark(conn: AsyncConnection) -> tuple[int, int]:
    """(the newest report's id, the newest event's id); (0, 0) in an empty county."""
    newest_report = select(func.max(reports.c.id)).scalar_subquery()
    newest_event = select(func.max(events.c.id)).scalar_subquery()
    row = (await conn.execute(select(newest_report, newest_event))).one()
    return int(row[0] or 0), int(row[1] or 0)
