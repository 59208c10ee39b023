"""The console's queue: a desk's reports by state group, a page at a time, and the tab counts.

Every page is found through an index in its own order (keyset pagination: the next page
starts after the last row seen, never with OFFSET), so the 1000th page costs what the first
does. A state group of several statuses reads each status's index range on its own, newest
(or most urgent) first, and merges them: a handful of index seeks, whatever the table size.
Counts are capped (COUNT_CAP): "closed" holds nearly every report a county ever had, and a
tab that says "10000+" is as useful as the exact figure and costs a bounded scan.

Statuses are spelled out here (storage knows nothing of bot/); they follow the lifecycle's
groups in the domain: open, awaiting the rider, final.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.figures import EVERY, Scope
from storage.tables import reports

MAX_REPORT_ID = 2**31 - 1  # reports.id is an INTEGER

PAGE_SIZE = 50
COUNT_CAP = 10_000
NOTE_CHARS = 60  # the row's note, cut: the report's page has the whole of it


class Group(enum.StrEnum):
    """The queue's tabs. "overdue" overlaps "new" and "accepted": it is every open report
    past its deadline, whoever holds it."""

    NEW = "new"
    ACCEPTED = "accepted"
    OVERDUE = "overdue"
    AWAITING = "awaiting"  # resolved, waiting for the rider's 已解决？ answer
    CLOSED = "closed"


OPEN = ("submitted", "dispatched", "accepted", "reopened")
UNCLAIMED = ("submitted", "dispatched", "reopened")
STATUSES: dict[Group, tuple[str, ...]] = {
    Group.NEW: UNCLAIMED,
    Group.ACCEPTED: ("accepted",),
    Group.OVERDUE: OPEN,
    Group.AWAITING: ("resolved",),
    Group.CLOSED: ("closed", "rejected"),
}
ALL_STATUSES = (*OPEN, "resolved", "closed", "rejected")


class Order(enum.StrEnum):
    NEWEST = "newest"  # ticket number descending (tickets are numbered as they come)
    URGENT = "urgent"  # earliest deadline first: the overdue ones lead


@dataclass(frozen=True)
class QueueRow:
    """What a line of the queue shows; the report's page reads the rest."""

    id: int
    category: str
    status: str
    community_id: str | None
    created_at: datetime
    deadline_at: datetime
    handler_name: str | None
    overdue: bool
    note: str | None  # at most NOTE_CHARS characters


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after this row, in the page's order."""

    id: int
    deadline_at: datetime | None = None  # only for Order.URGENT

    def encode(self) -> str:
        if self.deadline_at is None:
            return str(self.id)
        micros = int(self.deadline_at.timestamp() * 1_000_000)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, token: str, order: Order) -> Cursor:
        """The cursor a page link carries; ValueError with a reason for anything else."""
        parts = token.strip().split(".")
        wanted = 2 if order is Order.URGENT else 1
        if len(parts) != wanted or not all(p.isdigit() and len(p) < 19 for p in parts):
            raise ValueError(f"not a queue position for the {order.value} order: {token!r}")
        if int(parts[-1]) > MAX_REPORT_ID:  # PostgreSQL refuses it for an INTEGER column
            raise ValueError(f"no report has the number {parts[-1]}")
        if order is Order.URGENT:
            deadline = datetime.fromtimestamp(int(parts[0]) / 1_000_000, UTC)
            return cls(int(parts[1]), deadline)
        return cls(int(parts[0]))


@dataclass(frozen=True)
class Page:
    rows: list[QueueRow]
    next: Cursor | None  # None: this is the last page


@dataclass(frozen=True)
class TabCount:
    count: int
    capped: bool  # there are more than `count` (shown as "10000+")


def in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    r = reports.c
    if scope is EVERY:
        return []
    if scope is None:
        return [r.community_id.is_(None)]
    return [r.community_id == scope]


def overdue_now(now: datetime) -> ColumnElement[bool]:
    r = reports.c
    return and_(r.status.in_(OPEN), r.deadline_at < now)


def _filters(
    scope: Scope, now: datetime, group: Group | None, category: str | None, ticket: int | None
) -> list[ColumnElement[bool]]:
    r = reports.c
    found = in_scope(scope)
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
    if order is Order.NEWEST:
        return [r.id < cursor.id]
    if cursor.deadline_at is None:
        raise ValueError("an urgent-order page needs the deadline of the row it follows")
    # The range on deadline_at is what the index seeks; the OR only drops the few rows
    # sharing the cursor's deadline that were on the page before.
    return [
        r.deadline_at >= cursor.deadline_at,
        or_(r.deadline_at > cursor.deadline_at, r.id > cursor.id),
    ]


def _sort(order: Order, cols: Any) -> list[Any]:
    if order is Order.NEWEST:
        return [cols.id.desc()]
    return [cols.deadline_at.asc(), cols.id.asc()]


async def page(
    conn: AsyncConnection,
    *,
    scope: Scope,
    now: datetime,
    group: Group | None = None,
    category: str | None = None,
    ticket: int | None = None,
    order: Order = Order.NEWEST,
    after: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the queue: `scope` is a community, None (the supervisors' own queue) or
    EVERY (the county); no group means every state (a ticket number looked up anywhere)."""
    r = reports.c
    statuses = STATUSES[group] if group else ALL_STATUSES
    where = _filters(scope, now, group, category, ticket) + _after(order, after)
    branches = []
    for status in statuses:
        one = (
            select(r.id, r.deadline_at)
            .where(r.status == status, *where)
            .order_by(*_sort(order, r))
            .limit(size + 1)
            .subquery()
        )
        branches.append(select(one.c.id, one.c.deadline_at))
    merged = union_all(*branches).subquery("merged")
    chosen = select(merged.c.id).order_by(*_sort(order, merged.c)).limit(size + 1)
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
                case((overdue_now(now), True), else_=False).label("overdue"),
                func.substr(r.note, 1, NOTE_CHARS).label("note"),
            )
            .where(r.id.in_(chosen.scalar_subquery()))
            .order_by(*_sort(order, r))
        )
    ).all()
    found = [QueueRow(**{**row._mapping, "overdue": bool(row.overdue)}) for row in rows]
    if len(found) <= size:
        return Page(found, None)
    last = found[size - 1]
    cursor = Cursor(last.id, last.deadline_at if order is Order.URGENT else None)
    return Page(found[:size], cursor)


async def counts(
    conn: AsyncConnection,
    *,
    scope: Scope,
    now: datetime,
    category: str | None = None,
    cap: int = COUNT_CAP,
) -> dict[Group, TabCount]:
    """The number on each tab, in one statement; each counts at most cap + 1 index entries."""
    r = reports.c

    def bounded(group: Group) -> Any:
        hits = (
            select(literal(1).label("one"))
            .where(r.status.in_(STATUSES[group]), *_filters(scope, now, group, category, None))
            .limit(cap + 1)
            .subquery()
        )
        return select(func.count()).select_from(hits).scalar_subquery().label(group.value)

    row = (await conn.execute(select(*(bounded(g) for g in Group)))).one()
    found = {g: int(row._mapping[g.value]) for g in Group}
    return {g: TabCount(min(n, cap), n > cap) for g, n in found.items()}
