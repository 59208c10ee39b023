"""Counting per desk without GROUP BY, and the desks there are.

A GROUP BY community_id over a period's rows walks the period's index in time order and
sorts every row by desk before adding up (SQLite's temporary B-tree: 0.8 s for a year of a
million reports). Counting each desk on its own walks the (community_id, moment) index's
range for that desk and sorts nothing; the desks come from that index too, one seek each.
Both databases answer the same SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, literal, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.tables import reports

# Every community that has a report, in order: a loose index scan (one index seek per
# desk) instead of reading every report for DISTINCT. The supervisors' queue (NULL) is
# not among them.
_COMMUNITIES = text(
    """
    WITH RECURSIVE desks(cid) AS (
        SELECT MIN(community_id) FROM reports
        UNION ALL
        SELECT (SELECT MIN(r.community_id) FROM reports r WHERE r.community_id > desks.cid)
        FROM desks WHERE desks.cid IS NOT NULL
    )
    SELECT cid FROM desks WHERE cid IS NOT NULL
    """
)


async def desks(conn: AsyncConnection) -> list[str | None]:
    """Every desk that owns a report: the communities, then the supervisors' queue."""
    found: list[str | None] = list((await conn.execute(_COMMUNITIES)).scalars())
    return [*found, None]


def owned_by(desk: str | None) -> ColumnElement[bool]:
    return reports.c.community_id.is_(None) if desk is None else reports.c.community_id == desk


async def each(
    conn: AsyncConnection,
    owners: Sequence[str | None],
    counts: Callable[[str | None], Select[*tuple[Any, ...]]],
) -> list[tuple[str | None, tuple[Any, ...]]]:
    """`counts(desk)` (one row of aggregates, no GROUP BY) for every desk, in one statement:
    (desk, that row) in the order given."""
    if not owners:
        return []
    branches = [
        counts(desk).add_columns(literal(i).label("desk_no")) for i, desk in enumerate(owners)
    ]
    rows = await conn.execute(union_all(*branches) if len(branches) > 1 else branches[0])
    return [(owners[row[-1]], tuple(row[:-1])) for row in rows]
