"""Chat moves: Telegram upgraded a group to a supergroup, which has a new chat id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import chat_moves


async def record(conn: AsyncConnection, old_chat_id: int, new_chat_id: int, at: datetime) -> None:
    """Remember (or correct) where an old chat id now lives."""
    await conn.execute(delete(chat_moves).where(chat_moves.c.old_chat_id == old_chat_id))
    await conn.execute(
        insert(chat_moves).values(old_chat_id=old_chat_id, new_chat_id=new_chat_id, moved_at=at)
    )


async def all_moves(conn: AsyncConnection) -> dict[int, tuple[int, datetime]]:
    """Every move: old chat id -> (new chat id, when it was noticed)."""
    rows = await conn.execute(select(chat_moves))
    return {r.old_chat_id: (r.new_chat_id, r.moved_at) for r in rows}
