"""How each kind of outbox message is delivered, and what its delivery sets in motion.

Each step reads what it needs, makes the channel call outside any transaction, then
records the outcome in one transaction with the row's settlement: message ids linked to
their report, a card's report moved to ``dispatched`` and its rider's ticket edited, a
prompt remembered. A permanent refusal has its own follow-up: a card the community's chat
refuses goes to the supervisors; a notice the rider cannot receive marks them unreachable
and tells the staff under the card.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import texts
from bot.casework.dispatch import Dispatcher, captioned
from bot.casework.rider_notices import REPORTER_LINK, address
from bot.clock import Clock
from bot.config import ChatTarget, Config
from bot.delivery.codec import load_reply
from bot.delivery.outbox import Outbox
from bot.domain.geo import LatLon
from bot.intake.tickets import Tickets
from bot.messages import Reply
from bot.ports import Courier, DeliveryError
from storage import outbox as rows
from storage import reports, riders
from storage.database import Database
from storage.records import CardMessage

log = logging.getLogger(__name__)

RECORD_TRIES = 5  # a delivery's record is retried this often before the row is tried again


def _target(row: rows.Row) -> ChatTarget:
    return ChatTarget(row.chat_id, row.thread_id)


def _now() -> datetime:
    return datetime.now(UTC)


def _latest(links: list[CardMessage], chat_id: int, kind: str) -> CardMessage | None:
    found = [c for c in links if c.kind == kind and c.chat_id == chat_id]
    return found[-1] if found else None


class DeliverySteps:
    """The steps, by kind: `for_worker()` hands them to the DeliveryWorker."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        clock: Clock,
        outbox: Outbox,
        cards: Dispatcher,
        tickets: Tickets,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.cards = cards
        self.tickets = tickets
        self.lang = config.language

    def for_worker(self) -> dict[str, Any]:
        return {
            "message": _Step(self.message, self.message_failed),
            "card": _Step(self.card, self.card_failed),
            "card_edit": _Step(self.card_edit, self._just_failed),
            "edit": _Step(self.edit, self._just_failed),
            "pin": _Step(self.pin, self._just_failed),
        }

    async def _links(self, report_id: int | None) -> list[CardMessage]:
        if report_id is None:
            return []
        async with self.db.transaction() as conn:
            return await reports.card_messages_of(conn, report_id)

    async def _link(
        self, conn: AsyncConnection, row: rows.Row, kind: str | None, ids: list[int]
    ) -> None:
        if kind and row.report_id is not None and ids:
            links = [CardMessage(row.report_id, row.chat_id, row.thread_id, m, kind) for m in ids]
            await reports.add_card_messages(conn, row.report_id, links, self.clock.now())

    async def _keep(self, record: Callable[[AsyncConnection], Awaitable[None]]) -> None:
        """Record what a delivery did, retrying the database (busy, a dropped connection):
        the message is out, and a lost record would send it again."""
        for attempt in range(RECORD_TRIES):
            try:
                async with self.db.transaction() as conn:
                    await record(conn)
                return
            except DBAPIError:
                if attempt == RECORD_TRIES - 1:
                    raise
                log.warning("delivery not recorded; trying again", extra={"try": attempt + 1})
                await asyncio.sleep(0.2 * 2**attempt)

    async def _just_failed(self, row: rows.Row, error: DeliveryError) -> None:
        async with self.db.transaction() as conn:
            await rows.settle(conn, row.id, rows.FAILED, _now(), error.reason)

    # ---- messages -------------------------------------------------------------------------

    async def message(self, row: rows.Row, courier: Courier) -> None:
        payload = row.payload
        reply_to = payload.get("reply_to")
        if isinstance(reply_to, str):  # a link kind: that message of the report, here
            links = await self._links(row.report_id)
            found = _latest(links, self._moved(row.chat_id), reply_to)
            reply_to = found.message_id if found else None
        earlier: list[int] = list(payload.get("sent", []))  # parts an earlier try delivered
        try:
            new = await courier.send_parts(
                _target(row), load_reply(payload["reply"]), reply_to, skip=len(earlier)
            )
        except DeliveryError as exc:
            if exc.sent:  # parts that arrived stay answerable, and are not sent again
                async with self.db.transaction() as conn:
                    await self._link(conn, row, payload.get("link"), exc.sent)
                    progress = {**payload, "sent": earlier + exc.sent}
                    await rows.note_progress(conn, row.id, progress)
            raise
        ids = earlier + new

        async def record(conn: AsyncConnection) -> None:
            await self._link(conn, row, payload.get("link"), new)
            prompt = payload.get("prompt")
            if prompt and row.report_id is not None:
                await reports.add_prompt(
                    conn,
                    chat_id=row.chat_id,
                    message_id=ids[-1],
                    report_id=row.report_id,
                    action=prompt["action"],
                    staff_id=prompt["staff_id"],
                    at=self.clock.now(),
                )
            await self._reached(conn, row, reached=True)
            event = payload.get("event")
            if event and row.report_id is not None:
                await reports.add_event(
                    conn,
                    row.report_id,
                    event["kind"],
                    event["role"],
                    event.get("actor"),
                    self.clock.now(),
                    **event.get("data", {}),
                )
                await self.cards.refresh(row.report_id, conn)
            await rows.settle(conn, row.id, rows.SENT, _now(), ids)

        await self._keep(record)

    async def message_failed(self, row: rows.Row, error: DeliveryError) -> None:
        async with self.db.transaction() as conn:
            await rows.settle(conn, row.id, rows.FAILED, _now(), error.reason)
            if error.unreachable:
                await self._reached(conn, row, reached=False)
            if row.payload.get("link") == REPORTER_LINK and row.report_id is not None:
                await self._tell_staff_undelivered(conn, row.report_id, error)
            if row.payload.get("from_rider") is not None and row.report_id is not None:
                await self._tell_rider_undelivered(conn, row, error)

    async def _tell_rider_undelivered(
        self, conn: AsyncConnection, row: rows.Row, error: DeliveryError
    ) -> None:
        """The rider's words did not reach the community: they hear it, and may try again."""
        rider = await riders.get(conn, row.payload["from_rider"])
        if rider is None:
            return
        lang = texts.pick_language(rider.language, None, self.config.language)
        text = texts.t(lang, "notice.relay_undelivered", ticket=row.report_id, reason=error.reason)
        to = address(rider)
        await self.outbox.message(
            conn, to.chat, Reply(text), rider_id=rider.id, channel=to.channel
        )

    async def _reached(self, conn: AsyncConnection, row: rows.Row, *, reached: bool) -> None:
        """Remember whether the rider can be messaged; their card shows it when it changed."""
        rider_id = row.payload.get("rider_id")
        if rider_id is None:
            return
        changed = await riders.set_reachable(conn, rider_id, reached, self.clock.now())
        if changed and row.report_id is not None:
            await self.cards.refresh(row.report_id, conn)

    async def _tell_staff_undelivered(
        self, conn: AsyncConnection, report_id: int, error: DeliveryError
    ) -> None:
        report = await reports.get(conn, report_id)
        if report is None:
            return
        key = "staff.notice_unreachable" if error.unreachable else "staff.notice_undelivered"
        reply = Reply(texts.t(self.lang, key, ticket=report_id, reason=error.reason))
        links = await reports.card_messages_of(conn, report_id)
        card = next((c for c in reversed(links) if c.kind == "card"), None)
        target = (
            ChatTarget(card.chat_id, card.thread_id)
            if card
            else self.cards.target_for(report.community_id)
        )
        await self.outbox.message(conn, target, reply, report_id=report_id, reply_to="card")

    # ---- cards ----------------------------------------------------------------------------

    async def card(self, row: rows.Row, courier: Courier) -> None:
        event = row.payload.get("event")
        async with self.db.transaction() as conn:
            # What the drawing below is as of: a step taken while the card is on its way
            # finds no card to redraw yet, so its delivery redraws it (see _carded).
            as_of = await reports.card_mark(conn, row.report_id or 0)
        drawn = await self.cards.draw(row.report_id or 0)
        if drawn is None or (event and not self._still_here(row, drawn[0].community_id)):
            async with self.db.transaction() as conn:  # the report moved on meanwhile
                await rows.settle(conn, row.id, rows.DROPPED, _now(), "moved on")
            return
        report, card = drawn
        links = await self._links(row.report_id)
        here = _latest(links, self._moved(row.chat_id), "card")
        if event and here is not None:
            # The chat shows the report's card already (the supervisors' escalation copy,
            # now standing in for a desk that refused it): no second card, but what posting
            # it means still happens (the rider hears where the report went).
            await self._carded(row, report, [], here.chat_id, rows.DROPPED, as_of)
            return
        # Photos an earlier try posted before its text failed: they are not posted again.
        photos_sent = [(int(c), int(m)) for c, m in row.payload.get("photos_sent", [])]
        try:
            posted = await courier.post_card(_target(row), card, photos_sent=photos_sent)
        except DeliveryError as exc:
            if exc.transient and exc.parts and exc.parts != photos_sent:
                async with self.db.transaction() as conn:
                    progress = {**row.payload, "photos_sent": exc.parts}
                    await rows.note_progress(conn, row.id, progress)
            raise
        chat_id = posted[-1].chat_id if posted else row.chat_id
        await self._carded(row, report, posted, chat_id, rows.SENT, as_of)

    async def _carded(
        self,
        row: rows.Row,
        report: Any,
        posted: list[CardMessage],
        chat_id: int,
        state: str,
        as_of: tuple[int, Any],
    ) -> None:
        """Record a card's delivery and what it means, with the row's settlement; a card
        drawn before the report's latest step is redrawn (that step found no card yet).

        The rider's ticket says where the report went once its first desk card (its
        community's, a transfer's, or the supervisors' in place of a desk that refused it)
        is there; an escalation copy is no desk's card, so it never says so.
        """
        event = row.payload.get("event")
        fallback = row.payload.get("fallback_reason")
        now = self.clock.now()

        async def record(conn: AsyncConnection) -> None:
            stale = await reports.card_mark(conn, report.id) != as_of
            await reports.add_card_messages(conn, report.id, posted, now)
            history = await reports.history(conn, report.id)
            first = event is not None and not any(e["kind"] == "dispatched" for e in history)
            # Only a report nobody touched yet moves on: never undo a step taken meanwhile.
            await reports.transition(
                conn,
                report.id,
                expected_status="submitted",
                expected_handler=None,
                status="dispatched",
            )
            if event == "dispatched" and (posted or first):
                data: dict[str, Any] = {"chat_id": chat_id}
                if fallback:
                    data["fallback_reason"] = fallback
                await reports.add_event(conn, report.id, event, "system", None, now, **data)
            if first:
                await self.tickets.settle(conn, report, fallback=bool(fallback))
            await rows.settle(conn, row.id, state, _now(), [p.message_id for p in posted])
            if stale and posted:
                await self.cards.refresh(report.id, conn)

        await self._keep(record)

    def _still_here(self, row: rows.Row, community_id: str | None) -> bool:
        """A desk's card is posted only while the report is that desk's."""
        if row.payload.get("fallback_reason"):
            return True
        return self.cards.target_for(community_id).chat_id == self._moved(row.chat_id)

    def _moved(self, chat_id: int) -> int:
        return self.cards.moves.resolve(chat_id) if self.cards.moves else chat_id

    async def card_failed(self, row: rows.Row, error: DeliveryError) -> None:
        """The community's chat refuses the card for good: the supervisors get it, and why."""
        supervisors = self.cards.supervisors
        async with self.db.transaction() as conn:
            await rows.settle(conn, row.id, rows.FAILED, _now(), error.reason)
            report = await reports.get(conn, row.report_id or 0)
            event = row.payload.get("event")
            if report is None or event is None or self._moved(row.chat_id) == supervisors.chat_id:
                log.error("card not delivered", extra={"report": row.report_id})
                return
            community = self.config.community(report.community_id)
            notice = texts.t(
                self.lang,
                "card.undeliverable",
                community=community.name if community else "?",
                reason=error.reason,
            )
            await self.outbox.message(conn, supervisors, Reply(notice), report_id=report.id)
            await self.outbox.card(
                conn, report.id, supervisors, event=event, fallback_reason=error.reason
            )

    async def card_edit(self, row: rows.Row, courier: Courier) -> None:
        drawn = await self.cards.redraw(row.report_id or 0)
        sent: list[int] = []
        if drawn is not None:
            report, reply, links = drawn
            for link in links:
                if link.kind == "card" and link.chat_id == self._moved(row.chat_id):
                    caption = captioned(report, link, links)
                    await courier.edit(link.chat_id, link.message_id, reply, caption=caption)
                    sent.append(link.message_id)

        async def record(conn: AsyncConnection) -> None:
            await rows.settle(conn, row.id, rows.SENT, _now(), sent)

        await self._keep(record)

    # ---- edits and pins -------------------------------------------------------------------

    async def edit(self, row: rows.Row, courier: Courier) -> None:
        payload = row.payload
        message_id = payload.get("message_id")
        if message_id is None and payload.get("link"):
            links = await self._links(row.report_id)
            found = _latest(links, self._moved(row.chat_id), payload["link"])
            message_id = found.message_id if found else None
        if message_id is None:  # the message never arrived: nothing to edit
            async with self.db.transaction() as conn:
                await rows.settle(conn, row.id, rows.DROPPED, _now(), "no message")
            return
        reply = load_reply(payload["reply"])
        await courier.edit(row.chat_id, message_id, reply, caption=bool(payload.get("caption")))

        async def record(conn: AsyncConnection) -> None:
            await rows.settle(conn, row.id, rows.SENT, _now(), [message_id])

        await self._keep(record)

    async def pin(self, row: rows.Row, courier: Courier) -> None:
        payload = row.payload
        point = LatLon(payload["lat"], payload["lon"])
        pin = await courier.send_location(_target(row), point, reply_to=payload["reply_to"])

        async def record(conn: AsyncConnection) -> None:
            await self._link(conn, row, "location", [pin])
            await rows.settle(conn, row.id, rows.SENT, _now(), [pin])

        await self._keep(record)


class _Step:
    def __init__(self, deliver: Any, failed: Any) -> None:
        self.deliver = deliver
        self.failed = failed
