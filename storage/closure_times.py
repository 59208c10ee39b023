"""A period's closure times (closed_at - created_at), read by rank, not all of them.

The county's figures show the median and the 90th percentile of a period's closure times:
two or three values at known ranks. A year holds a million closures; reading them all (and
sorting them) took seconds. ix_reports_closure_time (migration 0017) keeps the closures in
the order of their closure time, with closed_at beside it, so a rank is found by walking
the index and skipping the closures of other periods: no sort, no million rows read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement as ColumnBase

from storage.durations import seconds_between
from storage.tables import reports

# Fewer closures than this are sorted faster than the index is walked (the walk may pass
# over most of the table's closures to find those of a short period).
WALK_FROM = 20_000


def time_to_close() -> ColumnElement[float]:
    return seconds_between(reports.c.created_at, reports.c.closed_at)


def duration(seconds: float) -> timedelta:
    """To the millisecond: what SQLite measures, so both backends agree."""
    return timedelta(seconds=round(float(seconds), 3))


def closed_in(start: datetime, end: datetime, *, walk: bool = False) -> list[ColumnElement[bool]]:
    """Closures in [start, end). With `walk`, SQLite is kept from searching the closed_at
    index for the period (which it prefers, lacking statistics), so that it walks the
    closure-time index in order instead of sorting."""
    r = reports.c
    closed_at: ColumnElement[Any] = Unsearched(r.closed_at) if walk else r.closed_at
    return [closed_at >= start, closed_at < end, r.outcome.isnot(None)]


class Unsearched(ColumnBase[Any]):
    """A column SQLite must not look up in an index for this term (`+column`, SQLite's
    documented way); written plainly elsewhere."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(Unsearched)
def _plain(element: Unsearched, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(Unsearched, "sqlite")
def _unary_plus(element: Unsearched, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"


async def at_ranks(
    conn: AsyncConnection, start: datetime, end: datetime, ranks: tuple[int, ...], count: int
) -> dict[int, timedelta]:
    """The closure times at these 0-based ranks (ascending) of the `count` closures in
    [start, end), one query per run of adjacent ranks, each from the nearer end (the 90th
    percentile is a tenth from the top). Rounding to the millisecond keeps the order, so
    the rounded value at a rank is the value at that rank of the rounded times."""
    found: dict[int, timedelta] = {}
    runs: list[list[int]] = []
    for rank in ranks:
        if runs and rank == runs[-1][-1] + 1:
            runs[-1].append(rank)
        else:
            runs.append([rank])
    walk = count >= WALK_FROM
    postgresql = conn.dialect.name == "postgresql"
    if walk and postgresql:
        # Its estimates favour sorting a month's closures (spilling to disk at the default
        # work_mem) over walking the index, which it does in a tenth of the time.
        await conn.execute(text("SET LOCAL enable_sort = off"))
    for run in runs:
        from_top = count - 1 - run[-1] < run[0]
        order = time_to_close().desc() if from_top else time_to_close()
        query = (
            select(time_to_close())
            .where(*closed_in(start, end, walk=walk))
            .order_by(order)
            .offset(count - 1 - run[-1] if from_top else run[0])
            .limit(len(run))
        )
        values = list((await conn.execute(query)).scalars())
        for rank, seconds in zip(run, values[::-1] if from_top else values, strict=True):
            found[rank] = duration(seconds)
    if walk and postgresql:
        await conn.execute(text("SET LOCAL enable_sort = on"))
    return found
