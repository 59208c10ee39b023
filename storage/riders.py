"""Riders: who reports, under which display name and platform."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Rider
from storage.tables import rider_accounts, riders
from storage.upsert import insert_unless_there

TELEGRAM = "telegram"


def _reach() -> Any:
    """The account a rider is reached on, as "channel:id": Telegram first, else the oldest."""
    a = rider_accounts
    return (
        select(a.c.channel + ":" + a.c.external_id)
        .where(a.c.rider_id == riders.c.id)
        .order_by(case((a.c.channel == TELEGRAM, 0), else_=1), a.c.created_at, a.c.external_id)
        .limit(1)
        .correlate(riders)
        .scalar_subquery()
        .label("reach")
    )


def _rider(row: Any) -> Rider:
    fields = {c: row._mapping[c] for c in Rider.__dataclass_fields__ if c in riders.c}
    channel, _, external_id = (row._mapping["reach"] or "").partition(":")
    return Rider(**fields, reach_channel=channel or None, reach_id=external_id or None)


async def get(conn: AsyncConnection, rider_id: int) -> Rider | None:
    row = (await conn.execute(select(riders, _reach()).where(riders.c.id == rider_id))).first()
    return _rider(row) if row else None


async def by_account(conn: AsyncConnection, channel: str, external_id: str) -> Rider | None:
    """The rider behind an account, or None before their first contact."""
    row = (
        await conn.execute(
            select(rider_accounts.c.rider_id).where(
                rider_accounts.c.channel == channel, rider_accounts.c.external_id == external_id
            )
        )
    ).first()
    return await get(conn, row.rider_id) if row else None


async def get_or_create(
    conn: AsyncConnection, channel: str, external_id: str, display_name: str, now: datetime
) -> Rider:
    """The rider for this account, created with it on first contact.

    Two first contacts handled at once both end with the one rider, neither fails: the
    account is inserted unless there, and the loser's new rider row is removed.
    """
    rider = await by_account(conn, channel, external_id)
    if rider:
        return rider
    made = await conn.execute(
        insert(riders).values(display_name=display_name[:64] or "骑手", created_at=now)
    )
    key = made.inserted_primary_key
    assert key is not None
    added = await conn.execute(
        insert_unless_there(conn, rider_accounts, ["channel", "external_id"]).values(
            channel=channel, external_id=external_id, rider_id=key[0], created_at=now
        )
    )
    if added.rowcount != 1:
        await conn.execute(delete(riders).where(riders.c.id == key[0]))
    rider = await by_account(conn, channel, external_id)
    assert rider is not None
    return rider


async def set_fields(conn: AsyncConnection, rider_id: int, **values: Any) -> Rider:
    await conn.execute(update(riders).where(riders.c.id == rider_id).values(**values))
    rider = await get(conn, rider_id)
    assert rider is not None
    return rider


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
