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

from sqlalchemy import ColumnElement, select
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
    [start, end), one query per run of adjacent ranks. Rounding to the millisecond keeps
    the order, so the rounded value at a rank is the value at that rank of the rounded
    times."""
    found: dict[int, timedelta] = {}
    runs: list[list[int]] = []
    for rank in ranks:
        if runs and rank == runs[-1][-1] + 1:
            runs[-1].append(rank)
        else:
            runs.append([rank])
    for run in runs:
        walk = (
            select(time_to_close())
            .where(*closed_in(start, end, walk=count >= WALK_FROM))
            .order_by(time_to_close())
            .offset(run[0])
            .limit(len(run))
        )
        for rank, seconds in zip(run, (await conn.execute(walk)).scalars(), strict=True):
            found[rank] = duration(seconds)
    return found
