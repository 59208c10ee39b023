"""Who is talking: the rider behind a chat account, and the language to answer in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.texts import pick_language
from storage import riders
from storage.database import Database
from storage.records import Rider


@dataclass(frozen=True)
class RiderCtx:
    rider: Rider
    lang: str

    @property
    def chat_id(self) -> int:
        """The rider's private Telegram chat: asked only on Telegram's paths, where one is."""
        chat = self.rider.tg_user_id
        assert chat is not None  # a rider who came by the web has none
        return chat


async def identify(
    db: Database,
    clock: Clock,
    *,
    tg_user_id: int,
    name: str,
    language_code: str | None,
    default_language: str,
) -> RiderCtx:
    """The rider for this account (created on first contact) and their language."""
    async with db.transaction() as conn:
        rider = await riders.get_or_create(conn, tg_user_id, name, clock.now())
    return RiderCtx(rider, pick_language(rider.language, language_code, default_language))
