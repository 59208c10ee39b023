"""Riders: who reports, under which display name and platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Insert, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Rider
from storage.tables import riders


def _rider(row: Any) -> Rider:
    return Rider(**{c: row._mapping[c] for c in Rider.__dataclass_fields__})


async def get(conn: AsyncConnection, rider_id: int) -> Rider | None:
    row = (await conn.execute(select(riders).where(riders.c.id == rider_id))).first()
    return _rider(row) if row else None


async def get_by_tg(conn: AsyncConnection, tg_user_id: int) -> Rider | None:
    row = (await conn.execute(select(riders).where(riders.c.tg_user_id == tg_user_id))).first()
    return _rider(row) if row else None


async def get_or_create(
    conn: AsyncConnection, tg_user_id: int, display_name: str, now: datetime
) -> Rider:
    """The rider for this Telegram account, created on first contact.

    Two first contacts handled at once both end with the one row, neither fails.
    """
    rider = await get_by_tg(conn, tg_user_id)
    if rider:
        return rider
    await conn.execute(
        _insert_unless_there(conn).values(
            tg_user_id=tg_user_id, display_name=display_name[:64] or "骑手", created_at=now
        )
    )
    rider = await get_by_tg(conn, tg_user_id)
    assert rider is not None
    return rider


async def set_fields(conn: AsyncConnection, rider_id: int, **values: Any) -> Rider:
    await conn.execute(update(riders).where(riders.c.id == rider_id).values(**values))
    rider = await get(conn, rider_id)
    assert rider is not None
    return rider


def _insert_unless_there(conn: AsyncConnection) -> Insert:
    """INSERT that leaves an existing rider (same tg_user_id) alone, where the SQL says so."""
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite.insert(riders).on_conflict_do_nothing(index_elements=["tg_user_id"])
    if name == "postgresql":
        return postgresql.insert(riders).on_conflict_do_nothing(index_elements=["tg_user_id"])
    return insert(riders)


async def set_reachable(
    conn: AsyncConnection, rider_id: int, reachable: bool, now: datetime
) -> bool:
    """Record whether messages reach the rider; True when that changed."""
    column = riders.c.unreachable_at
    state = column.is_not(None) if reachable else column.is_(None)
    result = await conn.execute(
        update(riders)
        .where(riders.c.id == rider_id, state)
        .values(unreachable_at=None if reachable else now)
    )
    return result.rowcount == 1
