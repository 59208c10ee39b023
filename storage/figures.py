"""Closure figures and points counted in SQL, each query bounded by its period.

Every query here reads only what its period touches, through an index that covers it:
reports made in the period, reports closed in it, reports still open at its end, events in
it. Nothing loads the history. bot/reporting/metrics.py holds the definitions (and a plain-Python
reference that tests hold these queries to); the counts come back as plain dicts keyed by
the reference's field names, so storage needs nothing from the application.

Portable SQL (SQLite and PostgreSQL): COUNT(*) FILTER, window functions, and per-desk
counts without GROUP BY (storage/per_desk.py says why). The county's median and p90 closure
times are read by rank (storage/closure_times.py), not by reading every closure.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import closure_times, per_desk
from storage.closure_times import closed_in as _closed_in
from storage.closure_times import duration as _duration
from storage.closure_times import time_to_close as _time_to_close
from storage.tables import events, reports, riders

FEEDBACK_KINDS = ("confirmed", "reopened")  # a rider's answer to "已解决？"


class Every(enum.Enum):
    """Every desk at once (the county), as opposed to one community or the supervisors' queue."""

    DESK = "every desk"


EVERY = Every.DESK
Scope = str | None | Every  # a community id, None for the supervisors' queue, or EVERY


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    r = reports.c
    if scope is EVERY:
        return []
    if scope is None:
        return [r.community_id.is_(None)]
    return [r.community_id == scope]


def _unclosed_at(end: datetime, scope: Scope) -> Any:
    """Candidates for "open at `end`": never closed, or closed at or after `end`.

    The never-closed branch leaves `created_at < end` to the caller, so both branches walk
    the closed-at index (`closed_at IS NULL`, `closed_at >= end`) instead of a desk's whole
    history; callers count or keep only rows with `created_at < end`.
    """
    r = reports.c
    cols = (r.id, r.community_id, r.deadline_at, r.created_at)
    never = select(*cols).where(r.closed_at.is_(None), *_in_scope(scope))
    later = select(*cols).where(r.closed_at >= end, r.created_at < end, *_in_scope(scope))
    return union_all(never, later)


def _open_at(end: datetime, scope: Scope) -> Any:
    """Reports open at `end`, materialised once (so the planner keeps to the index ranges
    even when a window function or an ORDER BY over ids follows)."""
    unclosed = _unclosed_at(end, scope).cte("unclosed").prefix_with("MATERIALIZED")
    return select(unclosed).where(unclosed.c.created_at < end).subquery("still_open")


# The period's bounds, named: per_desk.each builds one statement per number of desks.
_START = bindparam("start", type_=reports.c.created_at.type)
_END = bindparam("end", type_=reports.c.created_at.type)


def _received(owned: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    r = reports.c
    return select(
        func.count(), _count_if(r.resolve_count > 0), _count_if(r.reopen_count > 0)
    ).where(r.created_at >= _START, r.created_at < _END, owned)


def _closed(owned: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    r = reports.c
    return select(
        func.count(),
        _count_if(r.outcome == "fixed"),
        _count_if(r.outcome == "rejected"),
        _count_if(r.closed_at <= r.deadline_at),
    ).where(r.closed_at >= _START, r.closed_at < _END, r.outcome.isnot(None), owned)


async def tallies(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    scope: Scope = EVERY,
    *,
    durations: bool = True,
    details: bool = True,
) -> dict[str | None, dict[str, Any]]:
    """The counts of [start, end) per current owner (None: the supervisors' queue).

    Desks with nothing to count are absent. `durations` (closure times, ascending) are read
    only when asked for, and only for the period's closures. Without `details`, transfers,
    feedback and durations are left out (see `details_of`, which counts them for all desks
    at once without telling the desks apart, at a fraction of the cost).
    """
    r = reports.c
    found: dict[str | None, dict[str, Any]] = defaultdict(dict)

    owners = await per_desk.desks(conn) if scope is EVERY else [scope]
    bounds = {"start": start, "end": end}
    for cid, (n, resolved, reopened) in await per_desk.each(conn, owners, _received, bounds):
        if n:
            found[cid].update(received=n, received_resolved=resolved, received_reopened=reopened)
    for cid, (n, fixed, rejected, on_time) in await per_desk.each(conn, owners, _closed, bounds):
        if n:
            found[cid].update(
                closed=n, closed_fixed=fixed, rejected=rejected, closed_on_time=on_time
            )

    unclosed = _unclosed_at(end, scope).subquery("unclosed")
    made = unclosed.c.created_at < end
    open_q = select(
        unclosed.c.community_id,
        _count_if(made),
        _count_if(and_(made, unclosed.c.deadline_at < end)),
    ).group_by(unclosed.c.community_id)
    for cid, n, overdue in await conn.execute(open_q):
        found[cid].update(open_at_end=n, overdue_open=overdue)

    if not details:
        return dict(found)

    e = events.c
    moments = (
        select(
            r.community_id,
            func.count(),
            _count_if(e.kind == "transferred"),
            _count_if(e.kind == "confirmed"),
        )
        .select_from(events.join(reports, r.id == e.report_id))
        .where(
            e.kind.in_(("transferred", *FEEDBACK_KINDS)),
            e.at >= start,
            e.at < end,
            *_in_scope(scope),
        )
        .group_by(r.community_id)
    )
    for cid, n, transfers, fixed in await conn.execute(moments):
        found[cid].update(transfers=transfers, feedback_count=n - transfers, feedback_fixed=fixed)

    if durations:
        spans: dict[str | None, list[timedelta]] = defaultdict(list)
        times = select(r.community_id, _time_to_close()).where(
            *_closed_in(start, end), *_in_scope(scope)
        )
        for cid, seconds in await conn.execute(times):
            spans[cid].append(_duration(seconds))
        for cid, values in spans.items():
            found[cid]["durations"] = tuple(sorted(values))
    return dict(found)


async def one_snapshot(conn: AsyncConnection) -> None:
    """Every later statement of this transaction sees the same data (before its first).

    PostgreSQL reads each statement afresh by default; the county's closure times are read
    by rank from a count taken by an earlier statement, so both must see the same closures.
    A SQLite transaction is one snapshot already.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


async def details_of(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    *,
    ranks: tuple[int, ...] = (),
    closures: int = 0,
) -> dict[str, Any]:
    """Transfers and feedback of [start, end) for every desk together, and the closure
    times at these 0-based `ranks` of the period's `closures`, ascending (`at_ranks`).

    Events are counted from their own index (no join to tell the desks apart); of the
    closure times only those asked for are read (storage/closure_times.py).
    """
    e = events.c
    n, transfers, fixed = (
        await conn.execute(
            select(
                func.count(),
                _count_if(e.kind == "transferred"),
                _count_if(e.kind == "confirmed"),
            ).where(e.kind.in_(("transferred", *FEEDBACK_KINDS)), e.at >= start, e.at < end)
        )
    ).one()
    counted: dict[str, Any] = {
        "transfers": int(transfers),
        "feedback_count": int(n) - int(transfers),
        "feedback_fixed": int(fixed),
    }
    return {**counted, "at_ranks": await closure_times.at_ranks(conn, start, end, ranks, closures)}


async def open_tickets(
    conn: AsyncConnection,
    end: datetime,
    scope: Scope = EVERY,
    *,
    per_desk: int = 20,
    overdue: bool = False,
) -> dict[str | None, list[tuple[int, bool]]]:
    """Per desk, the first `per_desk` reports still open at `end` (past their deadline then,
    with `overdue`): (id, overdue at end)."""
    still_open = _open_at(end, scope)
    late = [still_open.c.deadline_at < end] if overdue else []
    numbered = (
        select(
            still_open.c.id,
            still_open.c.community_id,
            (still_open.c.deadline_at < end).label("overdue"),
            func.row_number()
            .over(partition_by=still_open.c.community_id, order_by=still_open.c.id)
            .label("n"),
        )
        .where(*late)
        .subquery("numbered")
    )
    rows = await conn.execute(
        select(numbered.c.community_id, numbered.c.id, numbered.c.overdue)
        .where(numbered.c.n <= per_desk)
        .order_by(numbered.c.community_id, numbered.c.id)
    )
    found: dict[str | None, list[tuple[int, bool]]] = defaultdict(list)
    for cid, report_id, late_now in rows:
        found[cid].append((report_id, bool(late_now)))
    return dict(found)


async def overdue_tickets(
    conn: AsyncConnection, end: datetime, scope: Scope = EVERY, *, limit: int = 30
) -> list[tuple[int, str | None]]:
    """The oldest `limit` reports past their deadline and still open at `end`: (id, desk)."""
    still_open = _open_at(end, scope)
    rows = await conn.execute(
        select(still_open.c.id, still_open.c.community_id)
        .where(still_open.c.deadline_at < end)
        .order_by(still_open.c.id + 0)  # not the primary key's order: keep to the ranges
        .limit(limit)
    )
    return [(report_id, cid) for report_id, cid in rows]


async def any_report_before(conn: AsyncConnection, moment: datetime) -> bool:
    row = await conn.execute(select(reports.c.id).where(reports.c.created_at < moment).limit(1))
    return row.first() is not None


# ---- points (积分) ---------------------------------------------------------------------


def _points(accepted: int, fixed_bonus: int) -> ColumnElement[int]:
    """A report's points: nothing if rejected; `accepted` once accepted; the bonus if fixed."""
    r = reports.c
    return case(
        (r.outcome == "rejected", 0),
        else_=case((r.accepted_at.isnot(None), accepted), else_=0)
        + case((r.outcome == "fixed", fixed_bonus), else_=0),
    )


def _per_rider(start: datetime, end: datetime, accepted: int, fixed_bonus: int) -> Any:
    r = reports.c
    return (
        select(
            r.rider_id.label("rider_id"),
            func.sum(_points(accepted, fixed_bonus)).label("points"),
            func.count().label("reports"),
        )
        .where(r.created_at >= start, r.created_at < end)
        .group_by(r.rider_id)
        .subquery("per_rider")
    )


async def points_board(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    *,
    accepted: int,
    fixed_bonus: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Riders ranked by points from reports made in [start, end); ties share a rank (1, 1, 3)."""
    per = _per_rider(start, end, accepted, fixed_bonus)
    ranked = (
        select(
            per.c.rider_id,
            per.c.points,
            per.c.reports,
            func.rank().over(order_by=per.c.points.desc()).label("rank"),
            riders.c.display_name,
            riders.c.registered_at,
        )
        .select_from(per.join(riders, riders.c.id == per.c.rider_id))
        .order_by(per.c.points.desc(), per.c.reports.desc(), per.c.rider_id)
        .limit(limit)
    )
    return [dict(row._mapping) for row in await conn.execute(ranked)]


async def rider_standing(
    conn: AsyncConnection,
    rider_id: int,
    start: datetime,
    end: datetime,
    *,
    accepted: int,
    fixed_bonus: int,
) -> dict[str, int] | None:
    """One rider's month (or week): points, reports, accepted, fixed, rank among how many.

    None if they made no report then. Two small queries: the rider's own reports (by the
    rider index), then one pass over the period's riders for the rank.
    """
    r = reports.c
    mine = (
        await conn.execute(
            select(
                func.sum(_points(accepted, fixed_bonus)),
                func.count(),
                _count_if(and_(r.accepted_at.isnot(None), r.outcome.is_distinct_from("rejected"))),
                _count_if(r.outcome == "fixed"),
            ).where(r.rider_id == rider_id, r.created_at >= start, r.created_at < end)
        )
    ).one()
    points, count, was_accepted, fixed = mine
    if not count:
        return None
    per = _per_rider(start, end, accepted, fixed_bonus)
    riders_n, ahead = (
        await conn.execute(
            select(func.count(), _count_if(per.c.points > literal(int(points)))).select_from(per)
        )
    ).one()
    return {
        "points": int(points),
        "reports": int(count),
        "accepted": int(was_accepted),
        "fixed": int(fixed),
        "rank": int(ahead) + 1,
        "riders": int(riders_n),
    }
