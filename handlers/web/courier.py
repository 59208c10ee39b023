"""The web's courier: what "delivering" a message to a rider who came by the web means.

A web rider has no chat: their page shows each report's state, the community's replies and
history from the database (bot/intake/my_reports.py, the report's events), so a notice put in the
outbox for them is delivered once it is recorded there, which it already is. The outbox
settles it at once and nobody is marked unreachable. Cards and pins belong to desks' chats,
never to a rider's page: asked for one, the courier refuses for good.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import ChatTarget
from bot.domain.geo import LatLon
from bot.messages import Card, Reply
from bot.ports import DeliveryError
from storage.records import CardMessage

NO_CHAT = "a web page has no chat to post cards in"


class WebCourier:
    async def send(self, chat: ChatTarget, reply: Reply, reply_to: int | None = None) -> int:
        raise DeliveryError(NO_CHAT)

    async def send_parts(
        self, chat: ChatTarget, reply: Reply, reply_to: int | None = None, *, skip: int = 0
    ) -> list[int]:
        return []  # shown on the rider's page from the report's own record

    async def send_document(
        self, chat: ChatTarget, filename: str, data: bytes, caption: str
    ) -> int:
        raise DeliveryError(NO_CHAT)

    async def edit(
        self, chat_id: int, message_id: int, reply: Reply, *, caption: bool = False
    ) -> None:
        return None  # the page always shows the latest state

    async def post_card(
        self, chat: ChatTarget, card: Card, *, photos_sent: Sequence[tuple[int, int]] = ()
    ) -> list[CardMessage]:
        raise DeliveryError(NO_CHAT)

    async def send_location(self, chat: ChatTarget, point: LatLon, reply_to: int) -> int:
        raise DeliveryError(NO_CHAT)
