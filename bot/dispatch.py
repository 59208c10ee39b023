"""Cards in dispatcher chats: posting a report's card, and keeping every copy up to date.

A report is recorded first (status ``submitted``), then its card is posted (status
``dispatched``). If the community's chat cannot be reached, the card goes to the
supervisors' chat with the reason, so no report is left unseen. Later steps edit the
card in place wherever it stands (the community's chat, and the supervisors' chat when a
report was escalated there).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import texts
from bot.cards import CardView, build_card, card_buttons, card_reply
from bot.chat_moves import ChatMoves
from bot.clock import Clock
from bot.config import Category, ChatTarget, Config
from bot.deadlines import due_at
from bot.formatting import when
from bot.geo import LatLon
from bot.messages import Reply
from bot.ports import DeliveryError, Notifier
from bot.riders import RiderCtx
from bot.routing import Route
from storage import reports, riders
from storage.database import Database
from storage.photos import PhotoStore
from storage.records import CardMessage, Draft, Report

log = logging.getLogger(__name__)


class Posted(enum.Enum):
    """Where a report's card went: what the rider is told."""

    ROUTED = "routed"  # the chat the route chose (a community's, or the supervisors')
    FALLBACK = "fallback"  # the supervisors', because the community's chat refused it
    NOT_YET = "not_yet"  # nowhere yet: Telegram kept failing; the sweep tries again


class Dispatcher:
    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        photos: PhotoStore,
        notifier: Notifier,
        clock: Clock,
        moves: ChatMoves | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.photos = photos
        self.notifier = notifier
        self.clock = clock
        self.moves = moves
        self.lang = config.language  # staff chats read the county's default language
        # Striped locks: bounded memory, and one report's refreshes never overlap.
        self._locks = [asyncio.Lock() for _ in range(64)]
        self._pins: dict[tuple[int, int], datetime] = {}  # card -> when its pin was sent

    async def create_report(
        self, conn: AsyncConnection, ctx: RiderCtx, draft: Draft, category: Category, route: Route
    ) -> Report:
        """Record the report and its first event inside the caller's transaction."""
        now = self.clock.now()
        assert draft.lat is not None and draft.lon is not None
        report = await reports.create(
            conn,
            draft_id=draft.id,
            rider_id=ctx.rider.id,
            category=category.code,
            lat=draft.lat,
            lon=draft.lon,
            location_source=draft.location_source or "shared",
            note=draft.note,
            community_id=route.community_id,
            route_method=route.method,
            status="submitted",
            created_at=now,
            deadline_at=due_at(self.config, now, category),
            photos=draft.photos,
        )
        await reports.add_event(
            conn,
            report.id,
            "submitted",
            "rider",
            ctx.rider.id,
            now,
            community=route.community_id,
            route=route.method,
            distance_m=route.distance_m,
        )
        return report

    def target_for(self, community_id: str | None) -> ChatTarget:
        """The chat of a community (or the supervisors'), where it lives now."""
        community = self.config.community(community_id)
        return self._now(community.chat if community else self.config.supervisors.chat)

    @property
    def supervisors(self) -> ChatTarget:
        return self._now(self.config.supervisors.chat)

    def _now(self, chat: ChatTarget) -> ChatTarget:
        # A group upgraded to a supergroup keeps its place under its new id.
        return self.moves.target(chat) if self.moves else chat

    async def view(self, conn: AsyncConnection, report: Report) -> CardView:
        rider = await riders.get(conn, report.rider_id)
        assert rider is not None
        history = await reports.history(conn, report.id)
        followers = await reports.follower_ids(conn, report.id)
        return CardView(rider=rider, history=history, confirmations=len(followers))

    async def dispatch(self, report_id: int, *, kind: str = "dispatched", **data: object) -> bool:
        """Post the card to the report's current chat (or, failing that, the supervisors')."""
        return await self.post(report_id, kind=kind, **data) is not Posted.NOT_YET

    async def post(self, report_id: int, *, kind: str = "dispatched", **data: object) -> Posted:
        """Post the card; say where it went.

        The channel has already retried transient failures for a while; if they persist the
        card waits for the sweep (the supervisors' chat would fail the same way). Only a chat
        that refuses for good (gone, bot removed) sends the card to the supervisors.
        """
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            assert report is not None
            view = await self.view(conn, report)
        # The card shows the state staff will find it in once it is posted.
        if report.status == "submitted":
            report = dataclasses.replace(report, status="dispatched")
        paths = tuple(self.photos.path_for(sha) for sha in report.photos)
        card = build_card(self.config, report, view, paths, self.lang)
        target = self.target_for(report.community_id)
        try:
            posted = await self.notifier.post_card(target, card)
        except DeliveryError as exc:
            log.error(
                "card not delivered",
                extra={
                    "report": report.id,
                    "chat": target.chat_id,
                    "reason": exc.reason,
                    "transient": exc.transient,
                },
            )
            if exc.transient or target == self.supervisors:
                return Posted.NOT_YET
            delivered = await self._fallback(report, card, exc.reason)
            return Posted.FALLBACK if delivered else Posted.NOT_YET
        await self._record(report, posted, target, kind, **data)
        return Posted.ROUTED

    async def post_copy(self, report_id: int, target: ChatTarget) -> bool:
        """Post a live copy of the card elsewhere (escalation): edited with the original."""
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            assert report is not None
            view = await self.view(conn, report)
        paths = tuple(self.photos.path_for(sha) for sha in report.photos)
        card = build_card(self.config, report, view, paths, self.lang)
        try:
            posted = await self.notifier.post_card(target, card)
        except DeliveryError as exc:
            log.warning(
                "card copy not delivered", extra={"report": report_id, "reason": exc.reason}
            )
            return False
        async with self.db.transaction() as conn:
            await reports.add_card_messages(conn, report_id, posted, self.clock.now())
        return True

    async def _fallback(self, report: Report, card: object, reason: str) -> bool:
        community = self.config.community(report.community_id)
        target = self.supervisors
        try:
            await self.notifier.send(
                target,
                Reply(
                    texts.t(
                        self.lang,
                        "card.undeliverable",
                        community=community.name if community else "?",
                        reason=reason,
                    )
                ),
            )
            posted = await self.notifier.post_card(target, card)  # type: ignore[arg-type]
        except DeliveryError as exc:
            log.error(
                "card not delivered to supervisors",
                extra={"report": report.id, "reason": exc.reason},
            )
            return False
        await self._record(report, posted, target, "dispatched", fallback_reason=reason)
        return True

    async def _record(
        self,
        report: Report,
        posted: list[CardMessage],
        target: ChatTarget,
        kind: str,
        **data: object,
    ) -> None:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            await reports.add_card_messages(conn, report.id, posted, now)
            # Only a report nobody touched yet moves on: never undo a step taken meanwhile.
            await reports.transition(
                conn,
                report.id,
                expected_status="submitted",
                expected_handler=None,
                status="dispatched",
            )
            if kind == "dispatched":
                await reports.add_event(
                    conn, report.id, kind, "system", None, now, chat_id=target.chat_id, **data
                )

    async def refresh(self, report_id: int) -> None:
        """Edit every live copy of the report's card to show its current state.

        One refresh per report at a time: a slow edit must not land after a newer one.
        """
        async with self._locks[report_id % len(self._locks)]:
            await self._refresh(report_id)

    async def _refresh(self, report_id: int) -> None:
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            assert report is not None
            view = await self.view(conn, report)
            links = await reports.card_messages_of(conn, report_id)
        reply = card_reply(self.config, report, view, self.lang, card_buttons(report, self.lang))
        for link in links:
            if link.kind != "card":
                continue
            try:
                await self.notifier.edit(
                    link.chat_id, link.message_id, reply, caption=captioned(report, link, links)
                )
            except DeliveryError as exc:
                log.warning(
                    "card not updated",
                    extra={"report": report_id, "chat": link.chat_id, "reason": exc.reason},
                )

    async def card_message(self, report_id: int, chat_id: int | None = None) -> CardMessage | None:
        """The live card of a report (in `chat_id`, or in its current community's chat)."""
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            links = await reports.card_messages_of(conn, report_id)
        if report is None:
            return None
        chat_id = chat_id if chat_id is not None else self.target_for(report.community_id).chat_id
        cards = [c for c in links if c.kind == "card" and c.chat_id == chat_id]
        return cards[-1] if cards else None

    async def any_card(self, report_id: int) -> CardMessage | None:
        """The latest live card of a report wherever it is (e.g. the supervisors' fallback)."""
        async with self.db.transaction() as conn:
            links = await reports.card_messages_of(conn, report_id)
        cards = [c for c in links if c.kind == "card"]
        return cards[-1] if cards else None

    async def is_captioned(self, link: CardMessage) -> bool:
        """Whether a card message is its report's photo (edits change its caption)."""
        async with self.db.transaction() as conn:
            report = await reports.get(conn, link.report_id)
            links = await reports.card_messages_of(conn, link.report_id)
        return report is not None and captioned(report, link, links)

    async def send_pin(self, card: CardMessage) -> Pin:
        """The location pin, as a reply to the card; at most once a minute per card, so
        presses cannot eat the group's pace (20 messages a minute) that cards need."""
        now = self.clock.now()
        self._pins = {k: t for k, t in self._pins.items() if now - t < PIN_INTERVAL}
        key = (card.chat_id, card.message_id)
        if key in self._pins:
            return Pin.RECENT
        async with self.db.transaction() as conn:
            report = await reports.get(conn, card.report_id)
        assert report is not None
        self._pins[key] = now
        try:
            pin = await self.notifier.send_location(
                ChatTarget(card.chat_id, card.thread_id),
                LatLon(report.lat, report.lon),
                reply_to=card.message_id,
            )
        except DeliveryError:
            del self._pins[key]
            raise
        link = CardMessage(report.id, card.chat_id, card.thread_id, pin, "location")
        async with self.db.transaction() as conn:
            await reports.add_card_messages(conn, report.id, [link], now)
        return Pin.SENT

    def format_when(self, dt: datetime, lang: str) -> str:
        return when(dt, self.config.timezone, lang)


PIN_INTERVAL = timedelta(minutes=1)


class Pin(enum.Enum):
    SENT = "sent"
    RECENT = "recent"  # sent less than a minute ago: not again, so a group's pace is kept


def captioned(report: Report, card: CardMessage, links: list[CardMessage]) -> bool:
    """A report's card is its photo (the words a caption) unless its photos were posted
    apart in that chat: several (an album), or one under a card too long for a caption."""
    return bool(report.photos) and not any(
        c.kind == "photo" and c.chat_id == card.chat_id for c in links
    )
