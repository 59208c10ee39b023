"""What the console's page of one report reads: the report, its timeline, its photos, the
reply thread with the rider, and how many riders joined it (+1).

storage/reports.py already reads the report (with its photos' ids) and its history; this
adds only the desk's boundary, one transaction for the whole page, and the thread picked
out of the history. Another desk's report reads as a missing one (None), as /ticket
answers, so ticket numbers cannot be probed from a desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import reports as report_rows
from storage.figures import EVERY, Scope
from storage.records import Report
from storage.tables import report_followers

# The messages between the desk and the rider, in the history ("replied": staff to the
# rider, recorded once it reached them; "rider_replied": the rider to the desk).
THREAD_KINDS = ("replied", "rider_replied")


@dataclass(frozen=True)
class ReportPage:
    report: Report  # report.photos: the photos' ids (sha256), in the order sent
    timeline: list[dict[str, Any]]  # every event, oldest first, "data" decoded
    thread: list[dict[str, Any]]  # the timeline's replies, oldest first
    followers: int  # riders who joined it (+1)


def visible(report: Report, scope: Scope) -> bool:
    """A desk sees its own reports; the county (EVERY) sees them all."""
    return scope is EVERY or report.community_id == scope


async def read(conn: AsyncConnection, report_id: int, scope: Scope) -> ReportPage | None:
    """The page's data, or None for a missing report and for another desk's alike."""
    report = await report_rows.get(conn, report_id)
    if report is None or not visible(report, scope):
        return None
    timeline = await report_rows.history(conn, report_id)
    joined = await conn.scalar(
        select(func.count()).where(report_followers.c.report_id == report_id)
    )
    return ReportPage(
        report=report,
        timeline=timeline,
        thread=[e for e in timeline if e["kind"] in THREAD_KINDS],
        followers=int(joined or 0),
    )
