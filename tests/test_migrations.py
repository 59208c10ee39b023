"""The migrations build exactly the schema the code describes."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import create_engine, migrate
from storage.tables import metadata
from tests.databases import database_url


async def test_migrations_match_the_tables_and_run_twice(tmp_path: Path) -> None:
    engine = create_engine(database_url(tmp_path))
    await migrate(engine)
    await migrate(engine)  # a restart must not fail or change anything

    def diff(conn) -> list:
        return compare_metadata(MigrationContext.configure(conn), metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"riders", "drafts", "reports", "events", "card_messages"} <= tables
    await engine.dispose()
