"""Riders' accounts on channels: (channel, external_id) -> rider.

A web rider is an anonymous device: its id lives in a signed cookie, and the first report
from that device makes the rider and the account together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import riders as rider_rows
from storage.records import Rider
from storage.tables import rider_accounts, riders

WEB = "web"


async def create_rider(
    conn: AsyncConnection,
    channel: str,
    external_id: str,
    display_name: str,
    language: str | None,
    now: datetime,
) -> Rider:
    """A new rider with this one account. Two first reports racing from one device: the
    second insert of the account fails (primary key) and rolls its transaction back."""
    result = await conn.execute(
        insert(riders).values(display_name=display_name[:64], language=language, created_at=now)
    )
    key = result.inserted_primary_key
    assert key is not None
    rider_id = key[0]
    await conn.execute(
        insert(rider_accounts).values(
            channel=channel, external_id=external_id, rider_id=rider_id, created_at=now
        )
    )
    rider = await rider_rows.get(conn, rider_id)
    assert rider is not None
    return rider
