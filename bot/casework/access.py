"""Who may act on a report, beyond the chat it is pressed in: current members, own cards.

A button press names a report, but the press itself is only as trustworthy as its origin:
the payload can be forged, and a person who left the dispatcher group may still hold the
chat open on their phone. So a staff action must come from the report's own card (not
another report's, not a menu rewritten in place), and from someone who belongs to the
desk's chat *now*. Membership is asked of the platform and remembered briefly, so a busy
desk does not ask on every press, and someone who leaves loses access within a minute
(at once when the platform tells us they left).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain.lifecycle import Refused
from bot.ports import MemberLookup, MembershipUnknown
from storage import outbox as outbox_rows
from storage import reports
from storage.database import Database

log = logging.getLogger(__name__)

MEMBERSHIP_TTL = timedelta(seconds=60)
RECORDING_WAIT = 10.0  # s: a press on a message still being recorded waits this long at most
MAX_REMEMBERED = 10_000  # (chat, person) pairs; expired ones are dropped beyond this


class Access:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        members: MemberLookup,
        ttl: timedelta = MEMBERSHIP_TTL,
    ) -> None:
        self.db = db
        self.clock = clock
        self.members = members
        self.ttl = ttl
        self._known: dict[tuple[int, int], tuple[bool, datetime]] = {}

    async def require_member(self, chat_id: int, user_id: int | None) -> None:
        """Refuse someone who does not belong to the chat now (or whom we cannot check)."""
        if user_id is None or not await self.is_member(chat_id, user_id):
            raise Refused("refused.not_member")

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        now = self.clock.now()
        known = self._known.get((chat_id, user_id))
        if known is not None and known[1] > now:
            return known[0]
        try:
            member = await self.members.is_member(chat_id, user_id)
        except MembershipUnknown as exc:
            # Fail closed, and ask again next time rather than remember a guess.
            log.warning("membership unknown", extra={"chat": chat_id, "reason": str(exc)})
            raise Refused("refused.member_unknown") from exc
        self._remember(chat_id, user_id, member, now)
        return member

    def forget(self, chat_id: int, user_id: int) -> None:
        """The platform told us someone joined or left: ask again at their next action."""
        self._known.pop((chat_id, user_id), None)

    def _remember(self, chat_id: int, user_id: int, member: bool, now: datetime) -> None:
        if len(self._known) >= MAX_REMEMBERED:
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
            if len(self._known) >= MAX_REMEMBERED:
                self._known.clear()
        self._known[(chat_id, user_id)] = (member, now + self.ttl)

    async def require_origin(
        self, chat_id: int, message_id: int | None, report_id: int, kind: str = "card"
    ) -> None:
        """A button works only on its report's own message (a staff card, a rider notice)."""
        async with self.db.transaction() as conn:
            link = (
                await reports.link_for_message(conn, chat_id, message_id)
                if message_id is not None
                else None
            )
        if link is None or link.kind != kind or link.report_id != report_id:
            raise Refused("refused.stale")

    async def recorded(self, chat_id: int) -> bool:
        """Wait (a little) for the deliveries under way in the chat to be recorded; whether
        there were any."""
        async with self.db.transaction() as conn:
            waiting = await outbox_rows.in_flight(conn, chat_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECORDING_WAIT
        while waiting and loop.time() < deadline:
            await asyncio.sleep(0.05)
            async with self.db.transaction() as conn:
                if not await outbox_rows.in_flight(conn, chat_id, waiting):
                    break
        return bool(waiting)
