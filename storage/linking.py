"""One-time link codes, and merging one rider into another (a web device into a Telegram rider).

A merge moves everything the device's rider owns — reports, drafts, +1s, their events as
actor, their channel accounts, how far they read each report — to the surviving rider and
deletes the emptied row, in the caller's transaction, so the two are one person at once or
not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import inbox
from storage.tables import (
    drafts,
    events,
    link_codes,
    report_followers,
    reports,
    rider_accounts,
    rider_reads,
)
from storage.tables import riders as rider_table


async def add_code(
    conn: AsyncConnection, code_hash: str, rider_id: int, now: datetime, expires: datetime
) -> None:
    """A new code for the rider; their earlier unused ones stop working (only the latest)."""
    await conn.execute(delete(link_codes).where(link_codes.c.rider_id == rider_id))
    await conn.execute(
        insert(link_codes).values(
            code_hash=code_hash, rider_id=rider_id, created_at=now, expires_at=expires
        )
    )


async def use_code(conn: AsyncConnection, code_hash: str, now: datetime) -> int | None:
    """The rider the code belongs to, if it is unused and unexpired; it is used from now on.

    A compare-and-set: two requests with one code both read it, only one marks it used.
    """
    row = (
        await conn.execute(select(link_codes).where(link_codes.c.code_hash == code_hash))
    ).first()
    if row is None:
        return None
    result = await conn.execute(
        update(link_codes)
        .where(
            link_codes.c.code_hash == code_hash,
            link_codes.c.used_at.is_(None),
            link_codes.c.expires_at > now,
        )
        .values(used_at=now)
    )
    return int(row.rider_id) if result.rowcount == 1 else None


async def add_account(
    conn: AsyncConnection, channel: str, external_id: str, rider_id: int, now: datetime
) -> None:
    await conn.execute(
        insert(rider_accounts).values(
            channel=channel, external_id=external_id, rider_id=rider_id, created_at=now
        )
    )


async def merge(conn: AsyncConnection, source: int, into: int) -> list[int]:
    """Make rider `source` part of rider `into`; the ids of the reports that moved."""
    moved = list(
        (await conn.execute(select(reports.c.id).where(reports.c.rider_id == source))).scalars()
    )
    await conn.execute(update(reports).where(reports.c.rider_id == source).values(rider_id=into))
    await conn.execute(update(drafts).where(drafts.c.rider_id == source).values(rider_id=into))
    # A +1 on what is now one's own report, or on a report both followed, is dropped.
    own = select(reports.c.id).where(reports.c.rider_id == into)
    both = select(report_followers.c.report_id).where(report_followers.c.rider_id == into)
    await conn.execute(
        delete(report_followers).where(
            report_followers.c.rider_id == source,
            report_followers.c.report_id.in_(own.union(both).scalar_subquery()),
        )
    )
    await conn.execute(
        update(report_followers).where(report_followers.c.rider_id == source).values(rider_id=into)
    )
    await conn.execute(
        update(events)
        .where(and_(events.c.actor_kind == "rider", events.c.actor_id == source))
        .values(actor_id=into)
    )
    await conn.execute(
        update(rider_accounts).where(rider_accounts.c.rider_id == source).values(rider_id=into)
    )
    await conn.execute(delete(link_codes).where(link_codes.c.rider_id == source))
    await _keep_reads(conn, source, into)
    await _keep_registration(conn, source, into)
    await conn.execute(delete(rider_table).where(rider_table.c.id == source))
    return moved


async def _keep_reads(conn: AsyncConnection, source: int, into: int) -> None:
    """What the device had read stays read; a report both had read keeps the further mark."""
    read = await conn.execute(select(rider_reads).where(rider_reads.c.rider_id == source))
    for row in read.all():
        await inbox.mark_seen(conn, into, row.report_id, row.seen_event_id)
    await conn.execute(delete(rider_reads).where(rider_reads.c.rider_id == source))


async def _keep_registration(conn: AsyncConnection, source: int, into: int) -> None:
    """The survivor keeps their 报到; one who never did takes the device's."""
    rows = {
        r.id: r
        for r in await conn.execute(
            select(rider_table).where(rider_table.c.id.in_([source, into]))
        )
    }
    old, new = rows.get(source), rows.get(into)
    if old is None or new is None or new.registered_at is not None or old.registered_at is None:
        return
    await conn.execute(
        update(rider_table)
        .where(rider_table.c.id == into)
        .values(
            display_name=old.display_name,
            platform=old.platform,
            phone=old.phone,
            registered_at=old.registered_at,
        )
    )
