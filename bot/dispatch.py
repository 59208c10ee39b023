"""From a submitted draft to a card in the responsible community's dispatcher chat.

A report is recorded first (status ``submitted``), then its card is posted (status
``dispatched``). If the community's chat cannot be reached, the card goes to the
supervisors' chat with the reason, so no report is left unseen.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import texts
from bot.cards import build_card
from bot.clock import Clock
from bot.config import Category, ChatTarget, Config
from bot.deadlines import due_at
from bot.formatting import when
from bot.messages import Reply
from bot.ports import DeliveryError, Notifier
from bot.riders import RiderCtx
from bot.routing import Route
from storage import reports
from storage.database import Database
from storage.photos import PhotoStore
from storage.records import Draft, Report, Rider

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self, *, config: Config, db: Database, photos: PhotoStore, notifier: Notifier, clock: Clock
    ) -> None:
        self.config = config
        self.db = db
        self.photos = photos
        self.notifier = notifier
        self.clock = clock

    async def create_report(
        self, conn: AsyncConnection, ctx: RiderCtx, draft: Draft, category: Category, route: Route
    ) -> Report:
        """Record the report and its first events inside the caller's transaction."""
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

    def target_for(self, report: Report) -> ChatTarget:
        community = self.config.community(report.community_id)
        return community.chat if community else self.config.supervisors.chat

    async def dispatch(self, report: Report, rider: Rider) -> bool:
        """Post the card; True when it reached a chat (the community's or the fallback)."""
        lang = self.config.language
        paths = tuple(self.photos.path_for(sha) for sha in report.photos)
        # The card shows the state staff will find it in once it is posted.
        report = dataclasses.replace(report, status="dispatched")
        card = build_card(self.config, report, rider, paths, lang)
        target = self.target_for(report)
        try:
            posted = await self.notifier.post_card(target, card)
        except DeliveryError as exc:
            log.error(
                "card not delivered",
                extra={"report": report.id, "chat": target.chat_id, "reason": exc.reason},
            )
            if target == self.config.supervisors.chat:
                return False
            return await self._fallback(
                report, card_text=card.text, reason=exc.reason, paths=paths, rider=rider
            )
        await self._record(report, posted, target)
        return True

    async def _fallback(
        self, report: Report, *, card_text: str, reason: str, paths: tuple, rider: Rider
    ) -> bool:
        lang = self.config.language
        community = self.config.community(report.community_id)
        target = self.config.supervisors.chat
        try:
            await self.notifier.send(
                target,
                Reply(
                    texts.t(
                        lang,
                        "card.undeliverable",
                        community=community.name if community else "?",
                        reason=reason,
                    )
                ),
            )
            card = build_card(self.config, report, rider, paths, lang)
            posted = await self.notifier.post_card(target, card)
        except DeliveryError as exc:
            log.error(
                "card not delivered to supervisors",
                extra={"report": report.id, "reason": exc.reason},
            )
            return False
        await self._record(report, posted, target, fallback_reason=reason)
        return True

    async def _record(
        self, report: Report, posted: list, target: ChatTarget, fallback_reason: str | None = None
    ) -> None:
        now = self.clock.now()
        async with self.db.transaction() as conn:
            await reports.add_card_messages(conn, report.id, posted, now)
            await reports.set_status(conn, report.id, "dispatched")
            data = {"chat_id": target.chat_id}
            if fallback_reason:
                data["fallback_reason"] = fallback_reason
            await reports.add_event(conn, report.id, "dispatched", "system", None, now, **data)

    def format_when(self, dt: datetime, lang: str) -> str:
        return when(dt, self.config.timezone, lang)
