"""Reports, their event history and the chat messages that show them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import CardMessage, Report
from storage.tables import card_messages, events, report_photos, reports


async def create(
    conn: AsyncConnection,
    *,
    draft_id: int,
    rider_id: int,
    category: str,
    lat: float,
    lon: float,
    location_source: str,
    note: str | None,
    community_id: str | None,
    route_method: str,
    status: str,
    created_at: datetime,
    deadline_at: datetime,
    photos: tuple[str, ...],
) -> Report:
    result = await conn.execute(
        insert(reports).values(
            draft_id=draft_id,
            rider_id=rider_id,
            category=category,
            lat=lat,
            lon=lon,
            location_source=location_source,
            note=note,
            community_id=community_id,
            route_method=route_method,
            status=status,
            created_at=created_at,
            deadline_at=deadline_at,
        )
    )
    report_id = result.inserted_primary_key[0]
    if photos:
        await conn.execute(
            insert(report_photos),
            [
                {"report_id": report_id, "photo_sha256": sha, "position": i}
                for i, sha in enumerate(photos)
            ],
        )
    report = await get(conn, report_id)
    assert report is not None
    return report


async def get(conn: AsyncConnection, report_id: int) -> Report | None:
    row = (await conn.execute(select(reports).where(reports.c.id == report_id))).first()
    return await _report(conn, row) if row else None


async def by_draft(conn: AsyncConnection, draft_id: int) -> Report | None:
    row = (await conn.execute(select(reports).where(reports.c.draft_id == draft_id))).first()
    return await _report(conn, row) if row else None


async def set_status(conn: AsyncConnection, report_id: int, status: str, **values: Any) -> None:
    await conn.execute(
        update(reports).where(reports.c.id == report_id).values(status=status, **values)
    )


async def add_event(
    conn: AsyncConnection,
    report_id: int,
    kind: str,
    actor_kind: str,
    actor_id: int | None,
    at: datetime,
    **data: Any,
) -> None:
    """Append to the report's history; events are never updated or deleted."""
    await conn.execute(
        insert(events).values(
            report_id=report_id,
            kind=kind,
            actor_kind=actor_kind,
            actor_id=actor_id,
            at=at,
            data=json.dumps(data, ensure_ascii=False, sort_keys=True),
        )
    )


async def history(conn: AsyncConnection, report_id: int) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            select(events).where(events.c.report_id == report_id).order_by(events.c.id)
        )
    ).all()
    return [{**r._mapping, "data": json.loads(r.data)} for r in rows]


async def add_card_messages(
    conn: AsyncConnection, report_id: int, posted: list[CardMessage], at: datetime
) -> None:
    if posted:
        await conn.execute(
            insert(card_messages),
            [
                {
                    "report_id": report_id,
                    "chat_id": p.chat_id,
                    "thread_id": p.thread_id,
                    "message_id": p.message_id,
                    "kind": p.kind,
                    "created_at": at,
                }
                for p in posted
            ],
        )


async def card_messages_of(conn: AsyncConnection, report_id: int) -> list[CardMessage]:
    rows = (
        await conn.execute(
            select(card_messages)
            .where(card_messages.c.report_id == report_id)
            .order_by(card_messages.c.id)
        )
    ).all()
    return [CardMessage(r.report_id, r.chat_id, r.thread_id, r.message_id, r.kind) for r in rows]


async def report_for_message(conn: AsyncConnection, chat_id: int, message_id: int) -> int | None:
    """Which report a chat message belongs to (staff reply to any of a card's messages)."""
    return (
        await conn.execute(
            select(card_messages.c.report_id).where(
                card_messages.c.chat_id == chat_id, card_messages.c.message_id == message_id
            )
        )
    ).scalar_one_or_none()


async def _report(conn: AsyncConnection, row: Any) -> Report:
    m = row._mapping
    shas = (
        (
            await conn.execute(
                select(report_photos.c.photo_sha256)
                .where(report_photos.c.report_id == m["id"])
                .order_by(report_photos.c.position)
            )
        )
        .scalars()
        .all()
    )
    fields = {c: m[c] for c in Report.__dataclass_fields__ if c != "photos"}
    return Report(**fields, photos=tuple(shas))
