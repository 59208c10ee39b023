"""Casework for every channel: staff accept, resolve, transfer, reject and reply, at a desk.

A channel proves who is acting and at which desk (a `Seat`: bot/people/staff.py); these
commands check the seat against the report (bot/casework/permission.py) and take the step
(bot/casework/steps.py), so a step is allowed or refused the same in a Telegram chat and in
the web console, and shows in both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bot.casework.permission import actor_at, role_at
from bot.casework.steps import NOTE_MAX, Steps
from bot.domain.lifecycle import (
    FINAL,
    REJECT_REASONS,
    Action,
    Actor,
    Refused,
    Status,
    decide,
)
from bot.intake.photo_input import PhotoInput
from bot.people.staff import Seat
from storage import reports, riders
from storage.records import Report, Rider

OPEN_CARDS = 50  # a returning rider's latest reports whose cards are redrawn


@dataclass(frozen=True)
class Done:
    """A step taken: the report as it stands now, and what to tell the person who took it."""

    report: Report
    key: str
    values: dict[str, Any]


class Casework(Steps):
    """What staff do to a report, from any channel: one permission check, one lifecycle."""

    async def _at(
        self, seat: Seat, report_id: int, seen_status: str | None
    ) -> tuple[Report, Actor]:
        """The report and the seat's actor for it; a page showing an older state is stale.

        A missing report and another desk's get the same refusal, so numbers cannot be probed.
        """
        report = await self.find(report_id)
        if report is None:
            raise Refused("refused.no_ticket_desk", ticket=report_id)
        try:
            actor = actor_at(seat, report)
        except Refused as exc:
            if exc.key == "refused.wrong_desk":
                raise Refused("refused.no_ticket_desk", ticket=report_id) from None
            raise
        if seen_status is not None and seen_status != report.status:
            raise Refused("refused.changed_page", ticket=report_id)
        return report, actor

    async def accept(self, seat: Seat, report_id: int, *, seen_status: str | None = None) -> Done:
        report, actor = await self._at(seat, report_id, seen_status)
        updated = await self.apply_accept(report, actor)
        return Done(updated, "staff.accepted", {"ticket": report.id})

    async def resolve(
        self,
        seat: Seat,
        report_id: int,
        note: str,
        photo: PhotoInput | None = None,
        *,
        seen_status: str | None = None,
    ) -> Done:
        """Resolved with a note (and an after-photo): the rider is asked 已解决？."""
        report, actor = await self._at(seat, report_id, seen_status)
        decide(Status(report.status), report.handler_id, actor, Action.RESOLVE)
        note = " ".join(note.split())[:NOTE_MAX]
        if not note:
            raise Refused("staff.note_needed")
        stored = await self.store_photo(photo) if photo else None
        asked = await self.apply_resolve(report, actor, note, stored)
        updated = await self.find(report.id)
        assert updated is not None
        key = "staff.resolved" if asked else "staff.resolved_unasked"
        return Done(updated, key, {"ticket": report.id})

    async def transfer(
        self, seat: Seat, report_id: int, community_id: str, *, seen_status: str | None = None
    ) -> Done:
        report, actor = await self._at(seat, report_id, seen_status)
        place = await self.apply_transfer(report, actor, community_id)
        updated = await self.find(report.id)
        assert updated is not None
        return Done(updated, "staff.transferred", {"ticket": report.id, "place": place})

    async def reject(
        self,
        seat: Seat,
        report_id: int,
        reason: str,
        *,
        duplicate_of: int | None = None,
        seen_status: str | None = None,
    ) -> Done:
        """Rejected with a reason; a duplicate names its original, which the seat must be
        able to see (its riders will follow it: never another community's report)."""
        if reason not in REJECT_REASONS:
            raise Refused("refused.stale")
        report, actor = await self._at(seat, report_id, seen_status)
        original = None
        if reason == "duplicate":
            original = await self._original(seat, report, duplicate_of)
        told = await self.apply_reject(
            report, actor, reason, duplicate_of=original.id if original else None
        )
        updated = await self.find(report.id)
        assert updated is not None
        key = "staff.rejected" if told else "staff.rejected_untold"
        return Done(updated, key, {"ticket": report.id})

    async def _original(self, seat: Seat, report: Report, number: int | None) -> Report:
        """The report a duplicate points to. Missing, another desk's and itself get one
        refusal, so numbers cannot be probed."""
        original = await self.find(number) if number else None
        if original is None or original.id == report.id:
            raise Refused("staff.bad_duplicate")
        try:
            role_at(seat.desk, original)
        except Refused:
            raise Refused("staff.bad_duplicate") from None
        return original

    async def reply(self, seat: Seat, report_id: int, text: str) -> Done:
        """Words (and a photo) for the rider, on whichever channel they use."""
        report, actor = await self._at(seat, report_id, None)
        key = await self.relay_to_rider(report, actor, text, None)
        if key == "staff.empty_reply":
            raise Refused(key)
        return Done(report, key, {"ticket": report.id})

    async def relay_to_rider(
        self, report: Report, actor: Actor, text: str, photo: PhotoInput | None
    ) -> str:
        decide(Status(report.status), report.handler_id, actor, Action.REPLY)
        stored = await self.store_photo(photo) if photo else None
        if not text.strip() and stored is None:
            return "staff.empty_reply"
        async with self.db.transaction() as conn:
            rider = await riders.get(conn, report.rider_id)
            if rider is None or rider.unreachable_at is not None:
                # Known to have blocked the bot: say so, and claim nothing on the card.
                return "staff.not_relayed"
            # The reply is in the report's history once it reached the rider (steps.py).
            await self.notices.tell(
                conn,
                report,
                "notice.reply",
                photo=stored.path if stored else None,
                event={
                    "kind": "replied",
                    "role": actor.role.value,
                    "actor": actor.id,
                    "data": {"name": actor.name, "text": text.strip()[:NOTE_MAX]},
                },
                text=text.strip()[:NOTE_MAX] or "📷",
                community=self.config.desk_name(report.community_id),
            )
        return "staff.relayed"

    async def rider_is_back(self, rider: Rider) -> Rider:
        """A rider the bot could not reach wrote again: their cards stop warning staff."""
        async with self.db.transaction() as conn:
            if await riders.set_reachable(conn, rider.id, True, self.clock.now()):
                for report in await reports.for_rider(conn, rider.id, limit=OPEN_CARDS):
                    if report.rider_id == rider.id and Status(report.status) not in FINAL:
                        await self.cards.refresh(report.id, conn)
        return dataclasses.replace(rider, unreachable_at=None)
