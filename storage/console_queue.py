"""The console's queue, simply: a desk's reports by tab, category and ticket, a page at a time.

A plain stand-in for the console-data branch's storage/queue.py (keyset pages over its own
indexes, capped counts), with the same names so the console switches by one import: pages
go by ticket number (newest) or deadline (most urgent) after the last row seen, on the
existing (community_id, status) index. Statuses are spelled out here, as storage knows
nothing of bot/lifecycle.py.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.figures import EVERY, Scope
from storage.tables import reports

PAGE_SIZE = 50
NOTE_CHARS = 60


class Group(enum.StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    OVERDUE = "overdue"  # every open report past its deadline (overlaps new and accepted)
    AWAITING = "awaiting"  # resolved, waiting for the rider's 已解决？ answer
    CLOSED = "closed"


OPEN = ("submitted", "dispatched", "accepted", "reopened")
STATUSES: dict[Group, tuple[str, ...]] = {
    Group.NEW: ("submitted", "dispatched", "reopened"),
    Group.ACCEPTED: ("accepted",),
    Group.OVERDUE: OPEN,
    Group.AWAITING: ("resolved",),
    Group.CLOSED: ("closed", "rejected"),
}


class Order(enum.StrEnum):
    NEWEST = "newest"
    URGENT = "urgent"


@dataclass(frozen=True)
class QueueRow:
    id: int
    category: str
    status: str
    community_id: str | None
    created_at: datetime
    deadline_at: datetime
    handler_name: str | None
    overdue: bool
    note: str | None


@dataclass(frozen=True)
class Cursor:
    id: int
    deadline_at: datetime | None = None

    def encode(self) -> str:
        if self.deadline_at is None:
            return str(self.id)
        return f"{int(self.deadline_at.timestamp() * 1_000_000)}.{self.id}"

    @classmethod
    def decode(cls, token: str, order: Order) -> Cursor:
        parts = token.strip().split(".")
        wanted = 2 if order is Order.URGENT else 1
        if len(parts) != wanted or not all(p.isdigit() and len(p) < 19 for p in parts):
            raise ValueError(f"not a queue position: {token!r}")
        if order is Order.URGENT:
            return cls(int(parts[1]), datetime.fromtimestamp(int(parts[0]) / 1e6, UTC))
        return cls(int(parts[0]))


@dataclass(frozen=True)
class Page:
    rows: list[QueueRow]
    next: Cursor | None


def _where(
    scope: Scope, now: datetime, group: Group, category: str | None, ticket: int | None
) -> list[ColumnElement[bool]]:
    r = reports.c
    found: list[ColumnElement[bool]] = [r.status.in_(STATUSES[group])]
    if scope is None:
        found.append(r.community_id.is_(None))
    elif scope is not EVERY:
        found.append(r.community_id == scope)
    if group is Group.OVERDUE:
        found.append(r.deadline_at < now)
    if category is not None:
        found.append(r.category == category)
    if ticket is not None:
        found.append(r.id == ticket)
    return found


def _after(order: Order, cursor: Cursor | None) -> list[ColumnElement[bool]]:
    r = reports.c
    if cursor is None:
        return []
    if order is Order.NEWEST or cursor.deadline_at is None:
        return [r.id < cursor.id]
    return [
        or_(
            r.deadline_at > cursor.deadline_at,
            and_(r.deadline_at == cursor.deadline_at, r.id > cursor.id),
        )
    ]


async def page(
    conn: AsyncConnection,
    *,
    scope: Scope,
    now: datetime,
    group: Group,
    category: str | None = None,
    ticket: int | None = None,
    order: Order = Order.NEWEST,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    r = reports.c
    sort: list[Any] = [r.id.desc()] if order is Order.NEWEST else [r.deadline_at.asc(), r.id.asc()]
    rows = (
        await conn.execute(
            select(
                r.id,
                r.category,
                r.status,
                r.community_id,
                r.created_at,
                r.deadline_at,
                r.handler_name,
                func.substr(r.note, 1, NOTE_CHARS).label("note"),
            )
            .where(*_where(scope, now, group, category, ticket), *_after(order, after))
            .order_by(*sort)
            .limit(size + 1)
        )
    ).all()
    found = [
        QueueRow(**row._mapping, overdue=row.status in OPEN and row.deadline_at < now)
        for row in rows
    ]
    if len(found) <= size:
        return Page(found, None)
    last = found[size - 1]
    return Page(found[:size], Cursor(last.id, last.deadline_at if order is Order.URGENT else None))


async def counts(
    conn: AsyncConnection, *, scope: Scope, now: datetime, category: str | None = None
) -> dict[Group, int]:
    """How many reports each tab holds."""
    found = {}
    for group in Group:
        where = _where(scope, now, group, category, None)
        found[group] = int(await conn.scalar(select(func.count()).where(*where)) or 0)
    return found
