"""Where a dispatcher chat lives now that Telegram may have upgraded it to a supergroup.

Upgrading a basic group (e.g. when an admin turns on topics or the history for new members)
gives it a new chat id; the old one answers every call with an error. The configuration
keeps naming the chat by its old id, so the move is kept in the database, followed for every
message from then on, and told to the operator (a warning in the log, and `check-config`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from bot.clock import Clock
from bot.config import ChatTarget, Config
from storage import chat_moves, outbox
from storage.database import Database
from storage.db import create_engine

log = logging.getLogger(__name__)


class ChatMoves:
    def __init__(self, *, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._moves: dict[int, int] = {}

    async def load(self) -> None:
        """Read the moves recorded so far (on start, after the migrations)."""
        async with self.db.transaction() as conn:
            found = await chat_moves.all_moves(conn)
        self._moves = {old: new for old, (new, _) in found.items()}
        for old, new in self._moves.items():
            log.warning(
                "chat was upgraded to a supergroup; set its new chat_id in the configuration",
                extra={"chat": old, "new_chat": new},
            )

    def resolve(self, chat_id: int) -> int:
        """The chat id to use now for a chat once known as `chat_id`."""
        seen = {chat_id}
        while chat_id in self._moves:
            chat_id = self._moves[chat_id]
            if chat_id in seen:  # a loop would be Telegram's bug; never spin on it
                break
            seen.add(chat_id)
        return chat_id

    def target(self, chat: ChatTarget) -> ChatTarget:
        new = self.resolve(chat.chat_id)
        return chat if new == chat.chat_id else ChatTarget(new, chat.topic_id)

    async def moved(self, old_chat_id: int, new_chat_id: int) -> None:
        """Telegram said the chat moved (an error's migrate_to_chat_id, or a service message)."""
        if old_chat_id == new_chat_id or self._moves.get(old_chat_id) == new_chat_id:
            return
        async with self.db.transaction() as conn:
            await chat_moves.record(conn, old_chat_id, new_chat_id, self.clock.now())
            # What waits for the old id goes first in the new one's queue (per-chat order).
            await outbox.follow_move(conn, old_chat_id, new_chat_id)
        self._moves[old_chat_id] = new_chat_id
        log.warning(
            "chat was upgraded to a supergroup; sending to its new id from now on "
            "(set its new chat_id in the configuration)",
            extra={"chat": old_chat_id, "new_chat": new_chat_id},
        )


def move_notes(config: Config) -> list[str]:
    """For `check-config`: configured chats Telegram moved, as the bot has recorded them."""
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        return []  # no database yet: nothing was recorded (and none is created here)

    async def read() -> dict[int, tuple[int, datetime]]:
        engine = create_engine(config.database_url)
        try:
            async with engine.connect() as conn:
                if not await conn.run_sync(lambda c: inspect(c).has_table("chat_moves")):
                    return {}
                return await chat_moves.all_moves(conn)
        finally:
            await engine.dispose()

    moves = asyncio.run(read())
    chats = [("supervisors", config.supervisors.chat.chat_id)]
    chats += [(f"communities[{i}]", c.chat.chat_id) for i, c in enumerate(config.communities)]
    notes = []
    for key, chat_id in chats:
        if chat_id in moves:
            new, at = moves[chat_id]
            notes.append(
                f"{key}.chat_id: chat {chat_id} was upgraded to a supergroup "
                f"(noticed {at:%Y-%m-%d %H:%M} UTC); the bot sends to {new} instead. "
                f"Set chat_id = {new}"
            )
    return notes
