"""INSERT that leaves an existing row alone, where the database can say so in one statement.

Check-then-insert races: two riders sending the same photo at once both see it missing and
both insert; the second fails on the key and loses its update. ON CONFLICT DO NOTHING (both
SQLite and PostgreSQL) has no window.
"""

from __future__ import annotations

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert


def insert_unless_there(conn: AsyncConnection, table: Table, key: list[str]) -> Insert:
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=key)
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=key)
    return insert(table)
