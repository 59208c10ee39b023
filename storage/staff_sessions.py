"""Console sessions: the cookie holds a random id, this table its hash, the person and desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import staff_sessions


@dataclass(frozen=True)
class SessionRow:
    staff_id: int
    desk: str
    expires_at: datetime


async def add(
    conn: AsyncConnection,
    id_hash: str,
    *,
    staff_id: int,
    desk: str,
    now: datetime,
    expires: datetime,
) -> None:
    await conn.execute(
        insert(staff_sessions).values(
            id_hash=id_hash, staff_id=staff_id, desk=desk, created_at=now, expires_at=expires
        )
    )


async def live(conn: AsyncConnection, id_hash: str, now: datetime) -> SessionRow | None:
    """The session, while it is neither ended nor expired."""
    row = (
        await conn.execute(
            select(staff_sessions).where(
                staff_sessions.c.id_hash == id_hash,
                staff_sessions.c.ended_at.is_(None),
                staff_sessions.c.expires_at > now,
            )
        )
    ).first()
    return SessionRow(row.staff_id, row.desk, row.expires_at) if row else None


async def end(conn: AsyncConnection, id_hash: str, now: datetime) -> None:
    await conn.execute(
        update(staff_sessions)
        .where(staff_sessions.c.id_hash == id_hash, staff_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )


async def end_all(conn: AsyncConnection, staff_id: int, now: datetime) -> int:
    """Every live session of the person ends; how many there were."""
    result = await conn.execute(
        update(staff_sessions)
        .where(staff_sessions.c.staff_id == staff_id, staff_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )
    return int(result.rowcount or 0)
