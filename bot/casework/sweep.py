"""The deadline sweep, run periodically by the scheduler.

Each report is reminded before its deadline, marked overdue at it, and escalated to the
supervisors after it — once each (the report row remembers when, and the message is put
in the outbox in the same transaction). Resolved reports that the rider never confirmed
are closed after the confirmation window. A report still waiting for its card with no card
in the outbox (its desk's chat and the supervisors' both refused it) gets another try.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import texts
from bot.casework.service import Casework
from bot.domain.lifecycle import OPEN, Status
from bot.messages import Reply
from storage import outbox, reports
from storage.records import Report

log = logging.getLogger(__name__)

OPEN_STATES = [s.value for s in OPEN]
REDISPATCH_AFTER = timedelta(minutes=2)
OUTBOX_KEEP = timedelta(days=7)
Then = Callable[[AsyncConnection], Awaitable[None]]


class Sweep:
    def __init__(self, casework: Casework) -> None:
        self.casework = casework
        self.config = casework.config
        self.db = casework.db
        self.clock = casework.clock
        self.cards = casework.cards
        self.outbox = casework.outbox
        self.lang = casework.lang

    async def run(self) -> dict[str, int]:
        """One pass; returns how many reports got each treatment (for the log)."""
        now = self.clock.now()
        settings = self.config.casework
        done = {"redispatched": 0, "reminded": 0, "overdue": 0, "escalated": 0, "auto_closed": 0}
        async with self.db.transaction() as conn:
            active = await reports.with_status(conn, [s.value for s in OPEN] + [Status.RESOLVED])
        for report in active:
            if report.status == Status.RESOLVED:
                if report.resolved_at and now >= report.resolved_at + settings.confirm_window:
                    done["auto_closed"] += await self.casework.auto_close(report)
                continue
            if report.status == Status.SUBMITTED and now - report.created_at >= REDISPATCH_AFTER:
                done["redispatched"] += await self._redispatch(report)
            due_soon = report.deadline_at - settings.remind_before <= now < report.deadline_at
            if due_soon and await self._mark(report, "reminded", now, self._remind(report)):
                done["reminded"] += 1
            if now >= report.deadline_at and await self._mark(
                report, "overdue", now, functools.partial(self.cards.refresh, report.id)
            ):
                done["overdue"] += 1
            late = now >= report.deadline_at + settings.escalate_after
            if late and await self._mark(report, "escalated", now, self._escalate(report)):
                done["escalated"] += 1
        async with self.db.transaction() as conn:  # the outbox keeps a week for the record
            await outbox.prune(conn, now - OUTBOX_KEEP)
        if any(done.values()):
            log.info("deadline sweep", extra=done)
        return done

    async def _redispatch(self, report: Report) -> bool:
        """A report whose card was refused everywhere: try its desk again."""
        async with self.db.transaction() as conn:
            if await outbox.has_pending(conn, report.id, "card"):
                return False  # still on its way (Telegram slow or down): the worker retries
            await self.cards.put_card(conn, report)
        return True

    async def _mark(self, report: Report, kind: str, now: datetime, then: Then) -> bool:
        """Record a once-only step and what it sends; False if done already or moved on."""
        async with self.db.transaction() as conn:
            if not await reports.mark_once(conn, report.id, f"{kind}_at", now, OPEN_STATES):
                return False
            await reports.add_event(conn, report.id, kind, "system", None, now)
            await then(conn)
        return True

    def _remind(self, report: Report) -> Then:
        async def remind(conn: AsyncConnection) -> None:
            text = texts.t(
                self.lang,
                "staff.reminder",
                ticket=report.id,
                deadline=self.cards.format_when(report.deadline_at, self.lang),
            )
            await self.casework.post_to_staff(conn, report, Reply(text))

        return remind

    def _escalate(self, report: Report) -> Then:
        """Overdue: the supervisors get the live card, with the buttons to act on it."""

        async def escalate(conn: AsyncConnection) -> None:
            supervisors = self.cards.supervisors
            if self.cards.target_for(report.community_id) == supervisors:
                return  # already in the supervisors' own queue
            community = self.config.community(report.community_id)
            text = texts.t(
                self.lang,
                "staff.escalated",
                ticket=report.id,
                community=community.name if community else "?",
                deadline=self.cards.format_when(report.deadline_at, self.lang),
            )
            await self.outbox.message(conn, supervisors, Reply(text), report_id=report.id)
            await self.outbox.card(conn, report.id, supervisors, event=None)

        return escalate
