"""Who is talking: the rider behind a channel account, and the language to answer in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.texts import pick_language
from storage import riders
from storage.database import Database
from storage.records import Rider


@dataclass(frozen=True)
class RiderCtx:
    """A rider, the language to answer in, and the account they are writing from."""

    rider: Rider
    lang: str
    account: str | None = None  # the account's id on its channel (None: not a chat)

    @property
    def chat_id(self) -> int:
        """The rider's private chat with the bot, on chat channels (a chat is the account)."""
        assert self.account is not None  # asked only on a chat channel's paths
        return int(self.account)


async def identify(
    db: Database,
    clock: Clock,
    *,
    channel: str,
    external_id: str,
    name: str,
    language_code: str | None,
    default_language: str,
) -> RiderCtx:
    """The rider for this account (created on first contact) and their language."""
    async with db.transaction() as conn:
        rider = await riders.get_or_create(conn, channel, external_id, name, clock.now())
    lang = pick_language(rider.language, language_code, default_language)
    return RiderCtx(rider, lang, external_id)
