"""What riders hear about a report: the reporter everything, +1 followers status changes only.

The reporter gets each step's notice (with the resolution note and photo, and the 已解决？
buttons) and staff's replies, and may answer them: those notices are linked as "relay",
so a reply comes back under the card. A follower (a rider who joined with +1, or whose
duplicate was merged into this report) is only told that the status moved, in words of
its own ([follow] in the locales): never the conversation, never the note, and their
notices are linked as "follow", so they cannot speak as the reporter.

Whether a notice reached its rider is remembered (riders.unreachable_at): a rider who
blocked the bot shows as unreachable on their cards until a notice reaches them again or
they write to the bot, so staff never believe a rider was told what they were not.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot import texts
from bot.clock import Clock
from bot.config import ChatTarget, Config
from bot.messages import Reply
from bot.ports import DeliveryError, Notifier
from storage import reports, riders
from storage.database import Database
from storage.records import CardMessage, Report, Rider

log = logging.getLogger(__name__)

REPORTER_LINK = "relay"  # replies to it reach the staff
FOLLOWER_LINK = "follow"  # replies to it are answered, not relayed


class RiderNotices:
    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        notifier: Notifier,
        clock: Clock,
        refresh: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.notifier = notifier
        self.clock = clock
        self.refresh = refresh  # redraws a report's card (it shows whether the rider is reached)

    async def tell(
        self,
        report: Report,
        key: str,
        *,
        photo: Any = None,
        ask_buttons: Any = (),
        **values: Any,
    ) -> DeliveryError | None:
        """Send `key` (e.g. "notice.accepted") to the reporter, and its follower version
        ("follow.accepted"), when there is one, to the followers.

        None when the reporter got it, else why not (followers' failures are only logged).
        """
        follow_key = "follow." + key.split(".", 1)[1]
        async with self.db.transaction() as conn:
            reporter = await riders.get(conn, report.rider_id)
            followers = []
            if follow_key in texts.catalog(self.config.language):
                ids = await reports.follower_ids(conn, report.id)
                followers = [await riders.get(conn, i) for i in ids if i != report.rider_id]
        missed: DeliveryError | None = DeliveryError("rider not found")
        if reporter is not None:
            lang = self._lang(reporter)
            text = texts.t(lang, key, ticket=report.id, **values)
            reply = Reply(text, buttons=ask_buttons, photo=photo)
            missed = await self._send(report, reporter, reply, REPORTER_LINK)
            if await self.note_reach(reporter, missed) and self.refresh is not None:
                await self.refresh(report.id)
        for rider in followers:
            if rider is not None:
                text = texts.t(self._lang(rider), follow_key, ticket=report.id, **values)
                await self.note_reach(
                    rider, await self._send(report, rider, Reply(text), FOLLOWER_LINK)
                )
        return missed

    async def note_reach(self, rider: Rider, missed: DeliveryError | None) -> bool:
        """Remember whether the rider can be messaged; True when that changed.

        Only a permanent refusal (blocked, deleted) makes a rider unreachable: a network
        hiccup says nothing about them.
        """
        if missed is not None and not missed.unreachable:
            return False
        if missed is None and rider.unreachable_at is None:
            return False  # the usual case: nothing to write
        async with self.db.transaction() as conn:
            return await riders.set_reachable(conn, rider.id, missed is None, self.clock.now())

    def _lang(self, rider: Rider) -> str:
        return texts.pick_language(rider.language, None, self.config.language)

    async def _send(
        self, report: Report, rider: Rider, reply: Reply, kind: str
    ) -> DeliveryError | None:
        """Send (in as many parts as it takes) and link every part that arrived, so a reply
        to any of them finds the report; None when all of it arrived."""
        missed = None
        try:
            message_ids = await self.notifier.send_parts(ChatTarget(rider.tg_user_id), reply)
        except DeliveryError as exc:
            log.info(
                "rider notice not delivered", extra={"report": report.id, "reason": exc.reason}
            )
            missed, message_ids = exc, exc.sent
        links = [CardMessage(report.id, rider.tg_user_id, None, m, kind) for m in message_ids]
        if links:
            async with self.db.transaction() as conn:
                await reports.add_card_messages(conn, report.id, links, self.clock.now())
        return missed
