"""Cards in dispatcher chats: posting a report's card, and keeping every copy up to date.

A report is recorded (status ``submitted``) with its card put in the outbox; once the
card is delivered the report is ``dispatched`` (bot/delivery/steps.py). If the
community's chat refuses it for good, the card goes to the supervisors' chat with the
reason, so no report is left unseen. Later steps have the card redrawn in place wherever it
stands (the community's chat, and the supervisors' chat when a report was escalated there):
the redraw is put in the outbox too, and redraws not yet made collapse into one.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.casework.cards import CardView, build_card, card_buttons, card_reply
from bot.casework.chat_moves import ChatMoves
from bot.clock import Clock
from bot.config import Category, ChatTarget, Config
from bot.delivery.outbox import Outbox
from bot.domain.deadlines import due_at
from bot.domain.geo import LatLon
from bot.domain.routing import Route
from bot.messages import Card, Reply
from bot.people.riders import RiderCtx
from bot.texts.formatting import when
from storage import reports, riders
from storage.database import Database
from storage.photos import PhotoStore
from storage.records import CardMessage, Draft, Report

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        photos: PhotoStore,
        outbox: Outbox,
        clock: Clock,
        moves: ChatMoves | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.photos = photos
        self.outbox = outbox
        self.clock = clock
        self.moves = moves
        self.lang = config.language  # staff chats read the county's default language
        self._pins: dict[tuple[int, int], datetime] = {}  # card -> when its pin was asked for

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

    async def put_card(
        self, conn: AsyncConnection, report: Report, *, event: str = "dispatched"
    ) -> None:
        """Put the report's card in the outbox for its desk's chat (drawn when delivered)."""
        await self.outbox.card(conn, report.id, self.target_for(report.community_id), event=event)

    async def draw(self, report_id: int) -> tuple[Report, Card] | None:
        """The card as it should be posted now (None: the report is gone)."""
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            if report is None:
                return None
            view = await self.view(conn, report)
        # The card shows the state staff will find it in once it is posted.
        if report.status == "submitted":
            report = dataclasses.replace(report, status="dispatched")
        paths = tuple(self.photos.path_for(sha) for sha in report.photos)
        return report, build_card(self.config, report, view, paths, self.lang)

    async def redraw(self, report_id: int) -> tuple[Report, Reply, list[CardMessage]] | None:
        """The card's words and buttons now, and the messages that carry it."""
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            if report is None:
                return None
            view = await self.view(conn, report)
            links = await reports.card_messages_of(conn, report_id)
        reply = card_reply(self.config, report, view, self.lang, card_buttons(report, self.lang))
        return report, reply, links

    async def refresh(self, report_id: int, conn: AsyncConnection | None = None) -> None:
        """Have every live copy of the report's card redrawn (edits waiting collapse)."""
        if conn is None:
            async with self.db.transaction() as own:
                await self.refresh(report_id, own)
            return
        links = await reports.card_messages_of(conn, report_id)
        chats = [ChatTarget(c.chat_id, c.thread_id) for c in links if c.kind == "card"]
        await self.outbox.card_edit(conn, report_id, chats)

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
        self._pins[key] = now
        async with self.db.transaction() as conn:
            report = await reports.get(conn, card.report_id)
            assert report is not None
            await self.outbox.pin(
                conn,
                report.id,
                ChatTarget(card.chat_id, card.thread_id),
                LatLon(report.lat, report.lon),
                under=card.message_id,
            )
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
