"""The deadline sweep, run periodically by the scheduler.

Each report is reminded before its deadline, marked overdue at it, and escalated to the
supervisors after it — once each (the report row remembers when). Resolved reports that
the rider never confirmed are closed after the confirmation window.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot import texts
from bot.casework import Casework
from bot.dispatch import Posted
from bot.lifecycle import OPEN, Status
from bot.messages import Reply
from bot.ports import DeliveryError
from bot.tickets import Tickets
from storage import reports
from storage.records import Report

log = logging.getLogger(__name__)

OPEN_STATES = [s.value for s in OPEN]
REDISPATCH_AFTER = timedelta(minutes=2)


class Sweep:
    def __init__(self, casework: Casework, tickets: Tickets) -> None:
        self.casework = casework
        self.tickets = tickets
        self.config = casework.config
        self.db = casework.db
        self.clock = casework.clock
        self.cards = casework.cards
        self.notifier = casework.notifier
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
                # Its card could not be posted when it was submitted: try again (not while
                # the submit that created it may still be posting it).
                posted = await self.tickets.deliver(report.id)  # and the rider's ticket says so
                done["redispatched"] += posted is not Posted.NOT_YET
            due_soon = report.deadline_at - settings.remind_before <= now < report.deadline_at
            if due_soon and await self._mark(report, "reminded", now):
                await self._remind(report)
                done["reminded"] += 1
            if now >= report.deadline_at and await self._mark(report, "overdue", now):
                await self.cards.refresh(report.id)
                done["overdue"] += 1
            late = now >= report.deadline_at + settings.escalate_after
            if late and await self._mark(report, "escalated", now):
                await self._escalate(report)
                done["escalated"] += 1
        if any(done.values()):
            log.info("deadline sweep", extra=done)
        return done

    async def _mark(self, report: Report, kind: str, now: datetime) -> bool:
        """Record a once-only step; False if it was done already or the report moved on."""
        async with self.db.transaction() as conn:
            if not await reports.mark_once(conn, report.id, f"{kind}_at", now, OPEN_STATES):
                return False
            await reports.add_event(conn, report.id, kind, "system", None, now)
        return True

    async def _remind(self, report: Report) -> None:
        text = texts.t(
            self.lang,
            "staff.reminder",
            ticket=report.id,
            deadline=self.cards.format_when(report.deadline_at, self.lang),
        )
        await self.casework.post_to_staff(report, Reply(text))

    async def _escalate(self, report: Report) -> None:
        """Overdue: the supervisors get the live card, with the buttons to act on it."""
        supervisors = self.config.supervisors.chat
        if self.cards.target_for(report.community_id) == supervisors:
            return  # already in the supervisors' own queue
        community = self.config.community(report.community_id)
        try:
            await self.notifier.send(
                supervisors,
                Reply(
                    texts.t(
                        self.lang,
                        "staff.escalated",
                        ticket=report.id,
                        community=community.name if community else "?",
                        deadline=self.cards.format_when(report.deadline_at, self.lang),
                    )
                ),
            )
        except DeliveryError as exc:
            log.warning(
                "escalation not delivered", extra={"report": report.id, "reason": exc.reason}
            )
            return
        await self.cards.post_copy(report.id, supervisors)
