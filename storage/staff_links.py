"""One-time links into the staff console: kept as the token's hash, used once, until expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import staff_links


@dataclass(frozen=True)
class LinkRow:
    staff_id: int
    desk: str
    kind: str
    expires_at: datetime
    used_at: datetime | None


async def add(
    conn: AsyncConnection,
    token_hash: str,
    *,
    staff_id: int,
    desk: str,
    kind: str,
    now: datetime,
    expires: datetime,
) -> None:
    await conn.execute(
        insert(staff_links).values(
            token_hash=token_hash,
            staff_id=staff_id,
            desk=desk,
            kind=kind,
            created_at=now,
            expires_at=expires,
        )
    )


async def get(conn: AsyncConnection, token_hash: str) -> LinkRow | None:
    row = (
        await conn.execute(select(staff_links).where(staff_links.c.token_hash == token_hash))
    ).first()
    if row is None:
        return None
    return LinkRow(row.staff_id, row.desk, row.kind, row.expires_at, row.used_at)


async def use(conn: AsyncConnection, token_hash: str, now: datetime) -> LinkRow | None:
    """The link, marked used, if it was unused and unexpired (compare-and-set: of two
    requests with one link, one wins)."""
    found = await get(conn, token_hash)
    if found is None:
        return None
    result = await conn.execute(
        update(staff_links)
        .where(
            staff_links.c.token_hash == token_hash,
            staff_links.c.used_at.is_(None),
            staff_links.c.expires_at > now,
        )
        .values(used_at=now)
    )
    return found if result.rowcount == 1 else None


async def void_for(conn: AsyncConnection, staff_id: int, now: datetime) -> None:
    """Every unused link of the person stops working (they were revoked)."""
    await conn.execute(
        update(staff_links)
        .where(staff_links.c.staff_id == staff_id, staff_links.c.used_at.is_(None))
        .values(used_at=now)
    )
