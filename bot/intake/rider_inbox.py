"""What is new for a rider in their reports: the steps they have not seen yet.

A channel with no chat (the web page) cannot push a notice: a notice put in the outbox for a
web rider is settled at once (handlers/web/courier.py), and what it said is already in the
report's history (accepted, a staff reply, 已解决？). So the rider's news is read from that
history: the steps Telegram sends a notice about, with the same rules as the report's page
(bot/intake/my_reports.py: the reporter sees the conversation, a +1 follower the steps
only, never a staff member's name), and kept as read once they have seen it
(storage/inbox.py). Nothing is stored twice, so nothing can drift from the report's own
record.
"""

from __future__ import annotations

from typing import Any

from bot.intake.my_reports import rider_sees, rider_step
from storage import inbox
from storage.database import Database

SHOWN = 30  # the newest updates shown at once; older ones are on each report's page
# The steps Telegram tells a rider about (the notices in [notice] and [follow]).
NEWS = frozenset({"accepted", "replied", "resolved", "rejected", "transferred", "auto_closed"})


class RiderInbox:
    def __init__(self, *, db: Database) -> None:
        self.db = db

    async def unread(self, rider_id: int, limit: int = SHOWN) -> list[dict[str, Any]]:
        """The rider's unseen steps, newest first, as the rider may see them."""
        async with self.db.transaction() as conn:
            rows = await inbox.unseen(conn, rider_id, NEWS, limit)
        return [rider_step(e, e["reporter"]) for e in rows if rider_sees(e["kind"], e["reporter"])]

    async def count(self, rider_id: int) -> int:
        return len(await self.unread(rider_id))

    async def seen(self, rider_id: int, report_id: int) -> None:
        """The rider has seen this report as it stands now."""
        async with self.db.transaction() as conn:
            last = await inbox.last_event_id(conn, report_id)
            if last:
                await inbox.mark_seen(conn, rider_id, report_id, last)

    async def shown(self, rider_id: int, updates: list[dict[str, Any]]) -> None:
        """These updates were shown to the rider: read, up to each one's report's newest."""
        newest: dict[int, int] = {}
        for e in updates:
            newest[e["report_id"]] = max(newest.get(e["report_id"], 0), e["id"])
        async with self.db.transaction() as conn:
            for report_id, event_id in newest.items():
                await inbox.mark_seen(conn, rider_id, report_id, event_id)
