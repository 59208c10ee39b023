"""How long between two moments, in seconds, written for each database.

Both the figures' queries (storage/figures.py) and the index they walk (storage/tables.py,
ix_reports_closure_time) use this one expression: the planner only uses an index on an
expression for queries that write it the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):
    """`end - start` in seconds, as a float (SQLite: millisecond precision)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_default(element: seconds_between, compiler: Any, **kw: Any) -> str:
    # Written as PostgreSQL writes it back (no parentheses it does not need), so that the
    # index on it reads the same to Alembic's comparison as to the planner.
    start, end = (
        compiler.process(clause.self_group(against=operators.sub), **kw)
        for clause in element.clauses
    )
    return f"EXTRACT(EPOCH FROM {end} - {start})"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0)"
    )
