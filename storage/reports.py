"""Reports, their event history and the chat messages that show them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import CardMessage, Report
from storage.tables import (
    card_messages,
    events,
    photo_list,
    report_followers,
    report_photos,
    reports,
    riders,
    staff_prompts,
)


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
    key = result.inserted_primary_key
    assert key is not None  # a single-row insert always has one
    report_id = key[0]
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


async def card_mark(conn: AsyncConnection, report_id: int) -> tuple[int, Any]:
    """What a drawing of a report's card is as of: its newest step (0 before any) and
    whether its rider could be reached (the card warns when not)."""
    newest = select(func.max(events.c.id)).where(events.c.report_id == report_id)
    found = await conn.execute(
        select(newest.scalar_subquery(), riders.c.unreachable_at)
        .select_from(reports.join(riders, riders.c.id == reports.c.rider_id))
        .where(reports.c.id == report_id)
    )
    row = found.first()
    return (row[0] or 0, row[1]) if row else (0, None)


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


async def link_for_message(
    conn: AsyncConnection, chat_id: int, message_id: int
) -> CardMessage | None:
    """The report a chat message belongs to, and what the message is (card, relay...)."""
    r = (
        await conn.execute(
            select(card_messages).where(
                card_messages.c.chat_id == chat_id, card_messages.c.message_id == message_id
            )
        )
    ).first()
    return CardMessage(r.report_id, r.chat_id, r.thread_id, r.message_id, r.kind) if r else None


def _bare(row: Any) -> Report:
    m = row._mapping
    return Report(**{c: m[c] for c in Report.__dataclass_fields__ if c != "photos"}, photos=())


async def _report(conn: AsyncConnection, row: Any) -> Report:
    report = _bare(row)
    photos = await photo_list(conn, report_photos, "report_id", report.id)
    return dataclasses.replace(report, photos=photos)


async def transition(
    conn: AsyncConnection,
    report_id: int,
    *,
    expected_status: str,
    expected_handler: int | None,
    expected: Mapping[str, Any] | None = None,
    **values: Any,
) -> bool:
    """Compare-and-set: change the report only if nobody changed it since it was read.

    Two staff pressing Accept at once both read "dispatched"; only one UPDATE matches.
    Status and handler do not show every change, so `expected` names more columns:
    a transfer leaves them as they were ("dispatched", nobody), and a report reopened
    and resolved again by the same person is "resolved" by them once more.
    """
    conditions = [
        reports.c.id == report_id,
        reports.c.status == expected_status,
        _is(reports.c.handler_id, expected_handler),
        *(_is(reports.c[column], value) for column, value in (expected or {}).items()),
    ]
    result = await conn.execute(update(reports).where(*conditions).values(**values))
    return result.rowcount == 1


def _is(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


async def set_fields(conn: AsyncConnection, report_id: int, **values: Any) -> None:
    await conn.execute(update(reports).where(reports.c.id == report_id).values(**values))


async def with_status(conn: AsyncConnection, statuses: Iterable[str]) -> list[Report]:
    """Reports in these states (without their photos: the sweep does not need them)."""
    rows = (
        await conn.execute(
            select(reports).where(reports.c.status.in_(list(statuses))).order_by(reports.c.id)
        )
    ).all()
    return [_bare(r) for r in rows]


async def mark_once(
    conn: AsyncConnection, report_id: int, column: str, at: datetime, statuses: Iterable[str]
) -> bool:
    """Set a once-only timestamp (reminded_at, ...) if unset and the report is still in
    one of `statuses`; False when another pass or a staff action got there first."""
    col = reports.c[column]
    result = await conn.execute(
        update(reports)
        .where(reports.c.id == report_id, col.is_(None), reports.c.status.in_(list(statuses)))
        .values({column: at})
    )
    return result.rowcount == 1


async def for_rider(conn: AsyncConnection, rider_id: int, limit: int = 10) -> list[Report]:
    """The rider's own reports and those they joined (+1), newest first."""
    followed = select(report_followers.c.report_id).where(report_followers.c.rider_id == rider_id)
    rows = (
        await conn.execute(
            select(reports)
            .where(or_(reports.c.rider_id == rider_id, reports.c.id.in_(followed)))
            .order_by(reports.c.id.desc())
            .limit(limit)
        )
    ).all()
    return [await _report(conn, r) for r in rows]


async def open_nearby(
    conn: AsyncConnection,
    category: str,
    since: datetime,
    bounds: tuple[float, float, float, float],
    statuses: Iterable[str],
) -> list[Report]:
    """Candidates for a duplicate: same category, recent, still open, inside a lat/lon box."""
    min_lat, min_lon, max_lat, max_lon = bounds
    rows = (
        await conn.execute(
            select(reports)
            .where(
                reports.c.category == category,
                reports.c.created_at >= since,
                reports.c.status.in_(list(statuses)),
                reports.c.lat.between(min_lat, max_lat),
                reports.c.lon.between(min_lon, max_lon),
            )
            .order_by(reports.c.id.desc())
        )
    ).all()
    return [await _report(conn, r) for r in rows]


async def add_follower(conn: AsyncConnection, report_id: int, rider_id: int, at: datetime) -> bool:
    exists = (
        await conn.execute(
            select(report_followers.c.rider_id).where(
                report_followers.c.report_id == report_id,
                report_followers.c.rider_id == rider_id,
            )
        )
    ).first()
    if exists:
        return False
    await conn.execute(
        insert(report_followers).values(report_id=report_id, rider_id=rider_id, joined_at=at)
    )
    return True


async def follower_ids(conn: AsyncConnection, report_id: int) -> list[int]:
    return list(
        (
            await conn.execute(
                select(report_followers.c.rider_id)
                .where(report_followers.c.report_id == report_id)
                .order_by(report_followers.c.joined_at)
            )
        )
        .scalars()
        .all()
    )


async def set_card_kind(conn: AsyncConnection, report_id: int, chat_id: int, kind: str) -> None:
    """Retire a chat's messages of a report (after a transfer they stay as 'moved')."""
    await conn.execute(
        update(card_messages)
        .where(card_messages.c.report_id == report_id, card_messages.c.chat_id == chat_id)
        .values(kind=kind)
    )


async def add_prompt(
    conn: AsyncConnection,
    *,
    chat_id: int,
    message_id: int,
    report_id: int,
    action: str,
    staff_id: int,
    at: datetime,
) -> None:
    await conn.execute(
        insert(staff_prompts).values(
            chat_id=chat_id,
            message_id=message_id,
            report_id=report_id,
            action=action,
            staff_id=staff_id,
            created_at=at,
        )
    )


async def open_prompt(conn: AsyncConnection, chat_id: int, message_id: int) -> Any | None:
    """The unanswered staff prompt that `message_id` in `chat_id` is, if any."""
    return (
        await conn.execute(
            select(staff_prompts).where(
                staff_prompts.c.chat_id == chat_id,
                staff_prompts.c.message_id == message_id,
                staff_prompts.c.answered_at.is_(None),
            )
        )
    ).first()


async def answer_prompt(conn: AsyncConnection, prompt_id: int, at: datetime) -> bool:
    result = await conn.execute(
        update(staff_prompts)
        .where(staff_prompts.c.id == prompt_id, staff_prompts.c.answered_at.is_(None))
        .values(answered_at=at)
    )
    return result.rowcount == 1
