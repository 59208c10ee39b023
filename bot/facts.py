"""Reading what happened to every report, in the shapes the metrics and points need."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from bot.metrics import ReportFacts
from bot.points import ReportCredit
from storage import reports, riders
from storage.database import Database


async def load_facts(db: Database) -> list[ReportFacts]:
    """Every report as the metrics see it."""
    async with db.transaction() as conn:
        rows = await reports.all_reports(conn)
        events = await reports.events_of_kinds(conn, ("transferred", "confirmed", "reopened"))
    transfers: dict[int, list[datetime]] = defaultdict(list)
    feedback: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    for e in events:
        if e["kind"] == "transferred":
            transfers[e["report_id"]].append(e["at"])
        else:
            feedback[e["report_id"]].append((e["at"], e["kind"] == "confirmed"))
    return [
        ReportFacts(
            id=r.id,
            community_id=r.community_id,
            category=r.category,
            created_at=r.created_at,
            deadline_at=r.deadline_at,
            closed_at=r.closed_at if r.outcome else None,
            outcome=r.outcome,  # type: ignore[arg-type]
            resolved_count=r.resolve_count,
            reopened_count=r.reopen_count,
            transfers=tuple(transfers[r.id]),
            feedback=tuple(feedback[r.id]),
        )
        for r in rows
    ]


async def load_credits(db: Database) -> list[ReportCredit]:
    """Each report as the points see it: whose, when, accepted at all, how it ended."""
    async with db.transaction() as conn:
        rows = await reports.all_reports(conn)
        accepted = {e["report_id"] for e in await reports.events_of_kinds(conn, ("accepted",))}
    return [ReportCredit(r.rider_id, r.created_at, r.id in accepted, r.outcome) for r in rows]


async def rider_names(db: Database, rider_ids: list[int]) -> dict[int, str]:
    async with db.transaction() as conn:
        found = [await riders.get(conn, i) for i in rider_ids]
    return {r.id: r.display_name for r in found if r is not None}
