"""What riders hear about a report: the reporter everything, +1 followers status changes only.

The reporter gets each step's notice (with the resolution note and photo, and the 已解决？
buttons) and staff's replies, and may answer them: those notices are linked as "relay",
so a reply comes back under the card. A follower (a rider who joined with +1, or whose
duplicate was merged into this report) is only told that the status moved, in words of
its own ([follow] in the locales): never the conversation, never the note, and their
notices are linked as "follow", so they cannot speak as the reporter.

Notices are put in the outbox with the step that causes them. Whether one reached its
rider is remembered when it is delivered (riders.unreachable_at, bot/delivery/steps.py):
a rider who blocked the bot shows as unreachable on their cards until a notice reaches them
again or they write to the bot, and staff are told under the card when a notice did not
arrive, so staff never believe a rider was told what they were not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import texts
from bot.config import ChatTarget, Config
from bot.delivery.outbox import TELEGRAM, WEB, Outbox
from bot.messages import Reply
from storage import reports, riders
from storage.records import Report, Rider

REPORTER_LINK = "relay"  # replies to it reach the staff
FOLLOWER_LINK = "follow"  # replies to it are answered, not relayed


@dataclass(frozen=True)
class Address:
    """Where a rider's messages go: a channel, and the chat on it."""

    channel: str
    chat: ChatTarget


def address(rider: Rider) -> Address:
    """Their private chat with the bot, or (a rider who came by the web) their page."""
    telegram = rider.account(TELEGRAM)
    if telegram is not None:
        return Address(TELEGRAM, ChatTarget(int(telegram)))
    return Address(WEB, ChatTarget(rider.id))


class RiderNotices:
    def __init__(self, *, config: Config, outbox: Outbox) -> None:
        self.config = config
        self.outbox = outbox

    async def tell(
        self,
        conn: AsyncConnection,
        report: Report,
        key: str,
        *,
        photo: Any = None,
        ask_buttons: Any = (),
        event: dict[str, Any] | None = None,
        **values: Any,
    ) -> bool:
        """Put `key` (e.g. "notice.accepted") in the outbox for the reporter, and its
        follower version ("follow.accepted"), when there is one, for the followers.

        Whether the reporter is believed reachable (not known to have blocked the bot).
        `event` goes into the report's history when the reporter's message arrives.
        """
        follow_key = "follow." + key.split(".", 1)[1]
        reporter = await riders.get(conn, report.rider_id)
        if reporter is None:
            return False
        if reporter.unreachable_at is not None:
            # Known to have blocked the bot: staff are told at once, and nothing is queued
            # that would only be refused again (back, the rider sees it all in /my).
            return False
        text = texts.t(self._lang(reporter), key, ticket=report.id, **values)
        to = address(reporter)
        await self.outbox.message(
            conn,
            to.chat,
            Reply(text, buttons=ask_buttons, photo=photo),
            channel=to.channel,
            report_id=report.id,
            link=REPORTER_LINK,
            rider_id=reporter.id,
            event=event,
        )
        if follow_key in texts.catalog(self.config.language):
            for rider_id in await reports.follower_ids(conn, report.id):
                rider = await riders.get(conn, rider_id) if rider_id != reporter.id else None
                if rider is None or rider.unreachable_at is not None:
                    continue  # status news is not worth a retry to someone who blocked us
                follow = texts.t(self._lang(rider), follow_key, ticket=report.id, **values)
                to = address(rider)
                await self.outbox.message(
                    conn,
                    to.chat,
                    Reply(follow),
                    channel=to.channel,
                    report_id=report.id,
                    link=FOLLOWER_LINK,
                    rider_id=rider.id,
                )
        return reporter.unreachable_at is None

    def _lang(self, rider: Rider) -> str:
        return texts.pick_language(rider.language, None, self.config.language)
