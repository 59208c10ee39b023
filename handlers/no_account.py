"""Riders with no Telegram account (they came by the web) cannot be messaged on Telegram.

The core still addresses a rider's notices and ticket to `riders.tg_user_id`, which is NULL
for a web rider. Until notices are routed by channel (the durable outbox), this wrapper
turns such a send into a plain refusal instead of a call Telegram would answer with
"chat_id is empty": not transient, and not "unreachable" either (the rider reads the
report's state on the web page), so nobody is marked as having blocked the bot.
"""

from __future__ import annotations

from bot.config import ChatTarget
from bot.geo import LatLon
from bot.messages import Card, Reply
from bot.ports import DeliveryError, Notifier
from storage.records import CardMessage

REASON = "the rider has no Telegram account (web rider)"


class TelegramRidersOnly:
    """A Notifier that passes everything on, except sends to a rider with no chat id."""

    def __init__(self, inner: Notifier) -> None:
        self.inner = inner

    async def send(self, chat: ChatTarget, reply: Reply, reply_to: int | None = None) -> int:
        if chat.chat_id is None:
            raise DeliveryError(REASON)
        return await self.inner.send(chat, reply, reply_to)

    async def send_parts(
        self, chat: ChatTarget, reply: Reply, reply_to: int | None = None
    ) -> list[int]:
        if chat.chat_id is None:
            raise DeliveryError(REASON)
        return await self.inner.send_parts(chat, reply, reply_to)

    async def send_document(
        self, chat: ChatTarget, filename: str, data: bytes, caption: str
    ) -> int:
        return await self.inner.send_document(chat, filename, data, caption)

    async def edit(
        self, chat_id: int, message_id: int, reply: Reply, *, caption: bool = False
    ) -> None:
        await self.inner.edit(chat_id, message_id, reply, caption=caption)

    async def post_card(self, chat: ChatTarget, card: Card) -> list[CardMessage]:
        return await self.inner.post_card(chat, card)

    async def send_location(self, chat: ChatTarget, point: LatLon, reply_to: int) -> int:
        return await self.inner.send_location(chat, point, reply_to)
