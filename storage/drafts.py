"""Drafts: a rider's unfinished report, filled in any order and kept across restarts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import Draft
from storage.tables import draft_photos, drafts, photo_list, photos
from storage.upsert import insert_unless_there

OPEN = "open"


async def get(conn: AsyncConnection, draft_id: int) -> Draft | None:
    row = (await conn.execute(select(drafts).where(drafts.c.id == draft_id))).first()
    return await _draft(conn, row) if row else None


async def open_for(conn: AsyncConnection, rider_id: int) -> Draft | None:
    row = (
        await conn.execute(
            select(drafts)
            .where(drafts.c.rider_id == rider_id, drafts.c.status == OPEN)
            .order_by(drafts.c.id.desc())
            .limit(1)
        )
    ).first()
    return await _draft(conn, row) if row else None


async def create(conn: AsyncConnection, rider_id: int, now: datetime) -> Draft:
    result = await conn.execute(
        insert(drafts).values(
            rider_id=rider_id, status=OPEN, photos_dropped=0, created_at=now, updated_at=now
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # a single-row insert always has one
    draft = await get(conn, key[0])
    assert draft is not None
    return draft


async def update_fields(
    conn: AsyncConnection, draft_id: int, now: datetime, **values: Any
) -> Draft:
    await conn.execute(
        update(drafts).where(drafts.c.id == draft_id).values(updated_at=now, **values)
    )
    draft = await get(conn, draft_id)
    assert draft is not None
    return draft


async def close(conn: AsyncConnection, draft_id: int, status: str, now: datetime) -> bool:
    """Move an open draft to `status`; False if it was no longer open (a second press)."""
    result = await conn.execute(
        update(drafts)
        .where(drafts.c.id == draft_id, drafts.c.status == OPEN)
        .values(status=status, updated_at=now)
    )
    return result.rowcount == 1


async def stale(conn: AsyncConnection, before: datetime) -> list[Draft]:
    rows = (
        await conn.execute(
            select(drafts).where(drafts.c.status == OPEN, drafts.c.updated_at < before)
        )
    ).all()
    return [await _draft(conn, row) for row in rows]


async def save_photo(
    conn: AsyncConnection, sha256: str, width: int, height: int, size: int, now: datetime
) -> None:
    # In one statement: two riders sending the same photo at once must both succeed.
    await conn.execute(
        insert_unless_there(conn, photos, ["sha256"]).values(
            sha256=sha256, width=width, height=height, size=size, created_at=now
        )
    )


async def add_photo(
    conn: AsyncConnection, draft_id: int, sha256: str, media_group_id: str | None, now: datetime
) -> bool:
    """Attach a stored photo; False if this draft already has it."""
    exists = (
        await conn.execute(
            select(draft_photos.c.position).where(
                draft_photos.c.draft_id == draft_id, draft_photos.c.photo_sha256 == sha256
            )
        )
    ).first()
    if exists:
        return False
    position = (
        await conn.execute(
            select(func.count())
            .select_from(draft_photos)
            .where(draft_photos.c.draft_id == draft_id)
        )
    ).scalar_one()
    await conn.execute(
        insert(draft_photos).values(
            draft_id=draft_id,
            photo_sha256=sha256,
            position=position,
            media_group_id=media_group_id,
            added_at=now,
        )
    )
    await conn.execute(update(drafts).where(drafts.c.id == draft_id).values(updated_at=now))
    return True


async def clear_photos(conn: AsyncConnection, draft_id: int, now: datetime) -> None:
    await conn.execute(draft_photos.delete().where(draft_photos.c.draft_id == draft_id))
    await conn.execute(
        update(drafts).where(drafts.c.id == draft_id).values(photos_dropped=0, updated_at=now)
    )


async def _draft(conn: AsyncConnection, row: Any) -> Draft:
    m = row._mapping
    shas = await photo_list(conn, draft_photos, "draft_id", m["id"])
    return Draft(
        id=m["id"],
        rider_id=m["rider_id"],
        status=m["status"],
        lat=m["lat"],
        lon=m["lon"],
        location_source=m["location_source"],
        category=m["category"],
        note=m["note"],
        photos=shas,
        photos_dropped=m["photos_dropped"],
        not_duplicate=bool(m["not_duplicate"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


async def by_submission(conn: AsyncConnection, rider_id: int, key: str) -> Draft | None:
    """The draft a form sent whole under this key made (see drafts.submission_key)."""
    row = (
        await conn.execute(
            select(drafts).where(drafts.c.rider_id == rider_id, drafts.c.submission_key == key)
        )
    ).first()
    return await _draft(conn, row) if row else None


async def set_joined(conn: AsyncConnection, draft_id: int, report_id: int) -> None:
    await conn.execute(
        update(drafts).where(drafts.c.id == draft_id).values(joined_report_id=report_id)
    )


async def joined_report(conn: AsyncConnection, draft_id: int) -> int | None:
    """The report a draft closed as "joined" joined (None for older drafts, or none)."""
    found = await conn.execute(select(drafts.c.joined_report_id).where(drafts.c.id == draft_id))
    value = found.scalar_one_or_none()
    return int(value) if value is not None else None
