"""What the application needs from the outside world, stated as protocols.

A Courier is a channel's way of delivering one message now (handlers/telegram/courier.py for
Telegram). The application never calls it directly: it puts messages in the outbox
(bot/delivery/), whose worker hands them to the courier of the recipient's channel. The
only direct uses are answers to the person acting (handled by the channel) and the ledger
file, which is the answer to the person who asked for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.config import ChatTarget
from bot.domain.geo import LatLon
from bot.messages import Card, Reply
from storage.records import CardMessage


class DeliveryError(Exception):
    """A message could not be delivered (chat gone, bot removed or blocked...).

    `transient`: the failure may pass (network, timeouts, the platform overloaded) and was
    already retried for a while by the channel; otherwise it is permanent (chat gone, bot
    removed, blocked) and sending the same message there again cannot help.
    """

    def __init__(
        self,
        reason: str,
        *,
        sent: list[int] | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent or []  # parts that did arrive before the failure
        self.transient = transient
        self.retry_after = retry_after  # the platform said when to try again (flood control)
        self.parts: list[tuple[int, int]] = []  # a card's photos that arrived: (chat, message)

    @property
    def unreachable(self) -> bool:
        """The person cannot get messages at all (blocked the bot, deleted, never started)."""
        reason = self.reason.lower()
        return reason.startswith("forbidden") or "chat not found" in reason


class Courier(Protocol):
    async def send(self, chat: ChatTarget, reply: Reply, reply_to: int | None = None) -> int:
        """Send a message (as a reply to `reply_to`); returns its id. Raises DeliveryError."""
        ...

    async def send_parts(
        self, chat: ChatTarget, reply: Reply, reply_to: int | None = None, *, skip: int = 0
    ) -> list[int]:
        """Send a message in as many parts as the channel's limits need (a long text, a photo
        with a long caption); returns their ids, the buttons' last. `skip`: that many first
        parts arrived in an earlier try. Raises DeliveryError (`sent`: the parts that did)."""
        ...

    async def send_document(
        self, chat: ChatTarget, filename: str, data: bytes, caption: str
    ) -> int:
        """Send a file (the ledger). Raises DeliveryError."""
        ...

    async def edit(
        self, chat_id: int, message_id: int, reply: Reply, *, caption: bool = False
    ) -> None:
        """Replace a message's text and buttons (`caption`: the message is a photo, its words
        are a caption). Raises DeliveryError."""
        ...

    async def post_card(
        self, chat: ChatTarget, card: Card, *, photos_sent: Sequence[tuple[int, int]] = ()
    ) -> list[CardMessage]:
        """Post a report's card (and its photos; `photos_sent`, as (chat, message), arrived
        in an earlier try). Raises DeliveryError (`parts`: the photos that arrived)."""
        ...

    async def send_location(self, chat: ChatTarget, point: LatLon, reply_to: int) -> int:
        """Send a location pin as a reply to `reply_to`; returns its id. Raises DeliveryError."""
        ...


class MembershipUnknown(Exception):
    """The chat platform could not say whether someone belongs to a chat (try later)."""


class MemberLookup(Protocol):
    async def is_member(self, chat_id: int, user_id: int) -> bool:
        """Whether the user belongs to the chat now. Raises MembershipUnknown."""
        ...
