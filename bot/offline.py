"""What the core talks to when no chat channel is configured (the web page alone).

Reports are kept and shown on the rider's page; nothing can be posted to a desk. Every
delivery fails as a transient outage would, so a report stays "submitted" and is posted by
the first start that has a chat channel (Tickets.resume), and nobody is marked unreachable.
"""

from __future__ import annotations

from bot.config import ChatTarget
from bot.geo import LatLon
from bot.messages import Card, Reply
from bot.ports import DeliveryError, MembershipUnknown
from storage.records import CardMessage

REASON = "no chat channel configured"


class NoChannel:
    """A Notifier with nowhere to send."""

    async def send(self, chat: ChatTarget, reply: Reply, reply_to: int | None = None) -> int:
        raise DeliveryError(REASON, transient=True)

    async def send_parts(
        self, chat: ChatTarget, reply: Reply, reply_to: int | None = None
    ) -> list[int]:
        raise DeliveryError(REASON, transient=True)

    async def send_document(
        self, chat: ChatTarget, filename: str, data: bytes, caption: str
    ) -> int:
        raise DeliveryError(REASON, transient=True)

    async def edit(
        self, chat_id: int, message_id: int, reply: Reply, *, caption: bool = False
    ) -> None:
        raise DeliveryError(REASON, transient=True)

    async def post_card(self, chat: ChatTarget, card: Card) -> list[CardMessage]:
        raise DeliveryError(REASON, transient=True)

    async def send_location(self, chat: ChatTarget, point: LatLon, reply_to: int) -> int:
        raise DeliveryError(REASON, transient=True)


class NoMembers:
    """A MemberLookup with no chat to ask."""

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        raise MembershipUnknown(REASON)
