"""The outbox table's queries: put a message in, claim the heads of chats, settle them.

A chat's messages leave in the order they were put in: only a chat's oldest pending row
(its head) can be claimed, and a claimed or postponed head holds the rest of its chat back.
Claims are leases, so a worker that died mid-delivery does not hold a chat for ever; on
PostgreSQL several workers claim with FOR UPDATE SKIP LOCKED and never take the same row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import outbox

PENDING, SENT, FAILED, DROPPED = "pending", "sent", "failed", "dropped"


def _head() -> Any:
    """The row is its chat's oldest pending one: the only one of the chat that may go."""
    earlier = outbox.alias("earlier")
    return ~exists().where(
        earlier.c.channel == outbox.c.channel,
        earlier.c.chat_id == outbox.c.chat_id,
        earlier.c.state == PENDING,
        earlier.c.id < outbox.c.id,
    )


@dataclass(frozen=True)
class Row:
    """One outgoing message as stored."""

    id: int
    channel: str
    chat_id: int
    thread_id: int | None
    kind: str
    report_id: int | None
    payload: dict[str, Any]
    attempts: int  # tries started, this one included
    created_at: datetime
    interrupted: bool = False  # an earlier try started and never ended: this may duplicate


def _row(r: Any, interrupted: bool) -> Row:
    return Row(
        id=r.id,
        channel=r.channel,
        chat_id=r.chat_id,
        thread_id=r.thread_id,
        kind=r.kind,
        report_id=r.report_id,
        payload=json.loads(r.payload),
        attempts=r.attempts,
        created_at=r.created_at,
        interrupted=interrupted,
    )


async def recent(
    conn: AsyncConnection, *, channel: str, chat_id: int, kind: str, since: datetime
) -> int:
    """How many messages of `kind` were put for this chat since `since`, in any state."""
    query = select(func.count()).where(
        outbox.c.channel == channel,
        outbox.c.chat_id == chat_id,
        outbox.c.kind == kind,
        outbox.c.created_at >= since,
    )
    return int((await conn.execute(query)).scalar_one())


async def put(
    conn: AsyncConnection,
    *,
    channel: str,
    chat_id: int,
    thread_id: int | None,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
    report_id: int | None = None,
    collapse_key: str | None = None,
) -> bool:
    """Add a message to its chat's queue; False when a pending, unclaimed row with the
    same collapse key makes it moot (it is drawn at delivery, so it will show the latest)."""
    if collapse_key is not None:
        waiting = await conn.execute(
            select(outbox.c.id).where(
                outbox.c.channel == channel,
                outbox.c.chat_id == chat_id,
                outbox.c.state == PENDING,
                outbox.c.collapse_key == collapse_key,
                outbox.c.claimed_until.is_(None),
            )
        )
        if waiting.first() is not None:
            return False
    await conn.execute(
        insert(outbox).values(
            channel=channel,
            chat_id=chat_id,
            thread_id=thread_id,
            kind=kind,
            report_id=report_id,
            payload=json.dumps(payload, ensure_ascii=False),
            collapse_key=collapse_key,
            state=PENDING,
            attempts=0,
            not_before=at,
            created_at=at,
        )
    )
    return True


async def claim(
    conn: AsyncConnection,
    *,
    channels: Sequence[str],
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    busy: Sequence[int] = (),
) -> list[Row]:
    """Claim up to `limit` chat heads that are due; each is counted as an attempt.

    `busy`: rows this worker is delivering now, never claimed again even if their lease
    ran out (a second delivery of the same message side by side)."""
    query = (
        select(outbox.c.id)
        .where(
            outbox.c.state == PENDING,
            outbox.c.channel.in_(channels),
            outbox.c.not_before <= now,
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
            _head(),
            *([outbox.c.id.not_in(list(busy))] if busy else []),
        )
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=outbox)
    )
    ids = list((await conn.execute(query)).scalars())
    if not ids:
        return []
    # A try that started (attempts) and never ended (no result: settle and postpone leave
    # one, a claim clears it) was cut off: its message may have gone out.
    cut_off = set(
        (
            await conn.execute(
                select(outbox.c.id).where(
                    outbox.c.id.in_(ids), outbox.c.attempts > 0, outbox.c.result.is_(None)
                )
            )
        ).scalars()
    )
    # Claimed only if still free: where SKIP LOCKED is not (SQLite), two workers reading the
    # same heads cannot both take one.
    until = now + lease
    await conn.execute(
        update(outbox)
        .where(
            outbox.c.id.in_(ids),
            outbox.c.state == PENDING,
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
        )
        .values(
            claimed_by=worker, claimed_until=until, attempts=outbox.c.attempts + 1, result=None
        )
    )
    rows = await conn.execute(
        select(outbox)
        .where(
            outbox.c.id.in_(ids),
            outbox.c.claimed_by == worker,
            outbox.c.claimed_until == until,
        )
        .order_by(outbox.c.id)
    )
    return [_row(r, r.id in cut_off) for r in rows]


async def settle(
    conn: AsyncConnection, row_id: int, state: str, at: datetime, result: Any = None
) -> None:
    """The row's delivery is over: sent (with its message ids), failed (why) or dropped."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(
            state=state,
            done_at=at,
            claimed_until=None,
            result=None if result is None else json.dumps(result, ensure_ascii=False),
        )
    )


async def extend(conn: AsyncConnection, row_id: int, worker: str, until: datetime) -> bool:
    """Keep a claim while its delivery is under way; False if it is no longer ours."""
    done = await conn.execute(
        update(outbox)
        .where(
            outbox.c.id == row_id,
            outbox.c.state == PENDING,
            outbox.c.claimed_by == worker,
            outbox.c.claimed_until.is_not(None),
        )
        .values(claimed_until=until)
    )
    return bool(done.rowcount)


async def note_progress(conn: AsyncConnection, row_id: int, payload: dict[str, Any]) -> None:
    """Keep what part of a message arrived before a failure: the next try sends the rest."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(payload=json.dumps(payload, ensure_ascii=False))
    )


async def follow_move(conn: AsyncConnection, old_chat_id: int, new_chat_id: int) -> int:
    """A chat got a new id (a group upgraded): its waiting messages join the new id's
    queue, where their older ids keep them ahead of what is put from now on. Edits stay:
    the messages they change live in the old chat."""
    done = await conn.execute(
        update(outbox)
        .where(
            outbox.c.chat_id == old_chat_id,
            outbox.c.state == PENDING,
            outbox.c.kind.not_in(["edit", "card_edit"]),
        )
        .values(chat_id=new_chat_id)
    )
    return done.rowcount or 0


async def postpone(conn: AsyncConnection, row_id: int, until: datetime, reason: str) -> None:
    """Try again at `until`; the chat's later rows wait behind it."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == row_id)
        .values(not_before=until, claimed_until=None, result=json.dumps(reason))
    )


async def release(conn: AsyncConnection, workers: Sequence[str]) -> int:
    """Free the claims of workers known to be dead (a crashed run of this host)."""
    if not workers:
        return 0
    done = await conn.execute(
        update(outbox)
        .where(outbox.c.state == PENDING, outbox.c.claimed_by.in_(workers))
        .values(claimed_until=None)
    )
    return done.rowcount or 0


async def claimants(conn: AsyncConnection) -> list[str]:
    """The workers holding claims on pending rows now."""
    rows = await conn.execute(
        select(outbox.c.claimed_by)
        .where(outbox.c.state == PENDING, outbox.c.claimed_until.is_not(None))
        .distinct()
    )
    return [r for r in rows.scalars() if r]


async def in_flight(
    conn: AsyncConnection, chat_id: int, among: Sequence[int] | None = None
) -> list[int]:
    """The rows of a chat being delivered now (of `among`, if given): their message ids
    are recorded when their delivery ends."""
    query = select(outbox.c.id).where(
        outbox.c.chat_id == chat_id,
        outbox.c.state == PENDING,
        outbox.c.claimed_until.is_not(None),
    )
    if among is not None:
        query = query.where(outbox.c.id.in_(list(among)))
    return list((await conn.execute(query)).scalars())


async def pending_count(conn: AsyncConnection, channels: Sequence[str] | None = None) -> int:
    query = select(func.count()).select_from(outbox).where(outbox.c.state == PENDING)
    if channels is not None:
        query = query.where(outbox.c.channel.in_(channels))
    return int((await conn.execute(query)).scalar_one())


async def next_due(
    conn: AsyncConnection, channels: Sequence[str], *, claimed: bool = False
) -> datetime | None:
    """When the earliest chat head may be tried (claimed ones too, with `claimed`).

    Only heads: a row waiting behind its chat's postponed head is not due, however old it
    is (counting it made the worker poll in a tight loop while a chat waited out a 429)."""
    query = select(func.min(outbox.c.not_before)).where(
        outbox.c.state == PENDING, outbox.c.channel.in_(channels), _head()
    )
    if not claimed:
        query = query.where(outbox.c.claimed_until.is_(None))
    due: datetime | None = (await conn.execute(query)).scalar_one_or_none()
    return due


async def has_pending(conn: AsyncConnection, report_id: int, kind: str) -> bool:
    """Whether a message of this kind for the report is still waiting (e.g. its card)."""
    row = await conn.execute(
        select(outbox.c.id).where(
            and_(
                outbox.c.state == PENDING,
                outbox.c.report_id == report_id,
                outbox.c.kind == kind,
            )
        )
    )
    return row.first() is not None


async def prune(conn: AsyncConnection, before: datetime) -> int:
    """Forget delivered (or abandoned) rows older than `before`; pending ones stay."""
    done = await conn.execute(
        delete(outbox).where(outbox.c.state != PENDING, outbox.c.done_at < before)
    )
    return done.rowcount or 0


async def counts(conn: AsyncConnection) -> dict[str, int]:
    """Rows by state (for the log and the tests)."""
    rows = await conn.execute(select(outbox.c.state, func.count()).group_by(outbox.c.state))
    return {str(state): int(n) for state, n in rows.all()}
