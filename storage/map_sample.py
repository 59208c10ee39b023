"""The map's sample: the reports whose id is a multiple of a stride k, when too many match.

Clustering costs in proportion to the reports it groups (a county's year, 1M, takes
seconds), so beyond a few thousand the grid is counted on a sample and each cell's count
scaled by k; the answer says so (`Viewport.sample`), and the page shows "≈". Tickets are
numbered as reports come, so every k-th ticket is a sample spread evenly over time and
place, and the same on every request (panning does not make the clusters flicker).

The sample can be read two ways, which find the same reports:
- by stride: the ids first, first + k, ... looked up by primary key, which costs the
  number of ids and not the table (a county's year at k = 500: 2,000 lookups);
- along the index the viewport walks, keeping `id % k = 0`, which costs the entries
  walked (a few percent of the table when the filter is narrow, e.g. the live reports).
A pilot by stride tells how many reports match; if the pilot itself holds enough of them
it is the answer, else the stride is chosen from its estimate and the walk is sampled.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from storage.tables import reports

PILOT = 2000  # the ids a pilot looks up by stride
TARGET = 1500  # the sampled reports a clustered answer is counted on, at least


class on_stride(FunctionElement[bool]):
    """`id IN (first, first + k, ..., <= last)`, the list made by the database itself."""

    # Untyped: a Boolean would be rendered `... = 1` on SQLite, and its planner would
    # then walk an index and probe the list, instead of looking the ids up.
    inherit_cache = True

    def __init__(self, column: Any, first: int, last: int, k: int) -> None:
        super().__init__(column, first, last, k)


@compiles(on_stride)
def _stride_default(element: on_stride, compiler: Any, **kw: Any) -> str:
    col, first, last, k = (compiler.process(c, **kw) for c in element.clauses)
    # An array, not a subquery: PostgreSQL then looks each id up by key rather than
    # walking an index of the box and probing a hashed list.
    return (
        f"{col} = ANY(ARRAY(SELECT generate_series(CAST({first} AS INTEGER), "
        f"CAST({last} AS INTEGER), CAST({k} AS INTEGER))))"
    )


@compiles(on_stride, "sqlite")
def _stride_sqlite(element: on_stride, compiler: Any, **kw: Any) -> str:
    col, first, last, k = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"{col} IN (WITH RECURSIVE picked(i) AS (SELECT {first} UNION ALL "
        f"SELECT i + {k} FROM picked WHERE i + {k} <= {last}) SELECT i FROM picked)"
    )


def on_multiple(k: int) -> ColumnElement[bool]:
    """The same sample, as a filter on the walked index's entries."""
    return reports.c.id % k == 0


async def id_span(
    conn: AsyncConnection, since: datetime | None, until: datetime | None
) -> tuple[int, int] | None:
    """The tickets of the period, [first, last], read off the ends of the time index
    (tickets are numbered in the order reports are made); None when there are none."""
    r = reports.c
    first = select(r.id).order_by(r.created_at).limit(1)
    last = select(r.id).order_by(r.created_at.desc()).limit(1)
    if since is not None:
        first = first.where(r.created_at >= since)
        last = last.where(r.created_at >= since)
    if until is not None:
        first = first.where(r.created_at < until)
        last = last.where(r.created_at < until)
    row = (await conn.execute(select(first.scalar_subquery(), last.scalar_subquery()))).one()
    if row[0] is None or row[1] is None:
        return None
    low, high = sorted((int(row[0]), int(row[1])))
    return low, high


def pilot_stride(span: tuple[int, int]) -> int:
    return max(1, math.ceil((span[1] - span[0] + 1) / PILOT))


def first_multiple(low: int, k: int) -> int:
    """Strides start on a multiple of k, so both readings sample the same reports."""
    return -(-low // k) * k


def stride_for(estimate: int) -> int:
    """The stride that leaves about TARGET of `estimate` reports (1: count them all)."""
    return max(1, estimate // TARGET)
