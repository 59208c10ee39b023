"""Counting per desk without GROUP BY, and the desks there are.

A GROUP BY community_id over a period's rows walks the period's index in time order and
sorts every row by desk before adding up (SQLite's temporary B-tree: 0.8 s for a year of a
million reports). Counting each desk on its own walks the (community_id, moment) index's
range for that desk and sorts nothing; the desks come from that index too, one seek each.
Both databases answer the same SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    bindparam,
    literal_column,
    text,
    union_all,
)
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

BRANCHES = 100  # desks counted by one statement
Counts = Callable[[ColumnElement[bool]], Select[*tuple[Any, ...]]]


async def desks(conn: AsyncConnection) -> list[str | None]:
    """Every desk that owns a report: the communities, then the supervisors' queue."""
    found: list[str | None] = list((await conn.execute(_COMMUNITIES)).scalars())
    return [*found, None]


@lru_cache(maxsize=256)
def _statement(counts: Counts, communities: int, supervisors: bool) -> Executable:
    """`counts` for so many communities (bound as desk_0, desk_1, …) and the supervisors'
    queue, one UNION ALL branch each, numbered. Built once per shape: building hundreds
    of branches anew each time cost more than the counting."""
    owned = [reports.c.community_id == bindparam(f"desk_{i}") for i in range(communities)]
    if supervisors:
        owned.append(reports.c.community_id.is_(None))
    branches = [
        counts(condition).add_columns(literal_column(str(i)).label("desk_no"))
        for i, condition in enumerate(owned)
    ]
    return union_all(*branches) if len(branches) > 1 else branches[0]


async def each(
    conn: AsyncConnection, owners: Sequence[str | None], counts: Counts, params: dict[str, Any]
) -> list[tuple[str | None, tuple[Any, ...]]]:
    """`counts(owned by the desk)` (one row of aggregates, no GROUP BY; a module-level
    function, as it keys the statement's cache) for every desk, with these `params`:
    (desk, that row) in the order given, the supervisors' queue last. One statement per
    BRANCHES desks (SQLite takes at most 500 SELECTs in one compound)."""
    communities = [desk for desk in owners if desk is not None]
    chunks: list[list[str | None]] = [
        list(communities[i : i + BRANCHES]) for i in range(0, len(communities), BRANCHES)
    ]
    if None in owners:
        if chunks and len(chunks[-1]) < BRANCHES:
            chunks[-1] = [*chunks[-1], None]
        else:
            chunks.append([None])
    found: list[tuple[str | None, tuple[Any, ...]]] = []
    for chunk in chunks:
        named = [desk for desk in chunk if desk is not None]
        statement = _statement(counts, len(named), None in chunk)
        bound = {**params, **{f"desk_{i}": desk for i, desk in enumerate(named)}}
        rows = await conn.execute(statement, bound)
        found.extend((chunk[int(row[-1])], tuple(row[:-1])) for row in rows)
    return found
