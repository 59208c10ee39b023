"""The migrations build exactly the schema the code describes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from storage import riders, staff
from storage.db import alembic_config, create_engine, migrate
from storage.tables import metadata
from tests.databases import database_url


# SQLite's reflection skips an index on an expression, so autogenerate cannot compare the
# map's strip index there: the next test compares its definition instead.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
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


async def test_the_map_strip_index_is_built_as_the_tables_write_it(tmp_path: Path) -> None:
    """Its expression must be the very one the map's queries write, or no database uses it."""
    migrated = create_engine(database_url(tmp_path, "migrated.db"))
    made = create_engine(database_url(tmp_path, "made.db"))
    await migrate(migrated)
    async with made.begin() as conn:
        await conn.run_sync(metadata.create_all)
    found = []
    for engine in (migrated, made):
        query = (
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_reports_map_strip'"
            if engine.dialect.name == "postgresql"
            else "SELECT sql FROM sqlite_master WHERE name = 'ix_reports_map_strip'"
        )
        async with engine.connect() as conn:
            found.append((await conn.execute(text(query))).scalar_one())
        await engine.dispose()
    assert found[0] == found[1]
    assert "512" in found[0] and "lon, lat, created_at" in found[0]


async def test_staff_who_acted_before_persons_keep_their_id(tmp_path: Path) -> None:
    """Upgrading a county's database: each Telegram id that handled a report becomes a
    staff person with that id and a Telegram account; new persons are numbered after; a
    rider's Telegram id becomes their Telegram account."""
    engine = create_engine(database_url(tmp_path))

    def to(revision: str) -> Callable[[Connection], None]:
        return lambda c: command.upgrade(alembic_config(c), revision)

    now = datetime(2026, 11, 1, 8, 0)
    async with engine.begin() as conn:
        await conn.run_sync(to("0009"))
        await conn.execute(
            text(
                "INSERT INTO riders (id, tg_user_id, display_name, created_at) "
                "VALUES (1, 555, '骑手', :now)"
            ),
            {"now": now},
        )
        await conn.execute(
            text(
                "INSERT INTO drafts (id, rider_id, status, photos_dropped, created_at, "
                "updated_at) VALUES (1, 1, 'submitted', 0, :now, :now)"
            ),
            {"now": now},
        )
        await conn.execute(
            text(
                "INSERT INTO reports (id, draft_id, rider_id, category, lat, lon, "
                "location_source, route_method, status, community_id, created_at, deadline_at, "
                "handler_id, handler_name) VALUES (1, 1, 1, 'fire', 36.1, 113.2, 'gps', "
                "'boundary', 'accepted', 'dongguan', :now, :now, 7000000001, '张三')"
            ),
            {"now": now},
        )
    await migrate(engine)  # as the application starts on an existing database
    async with engine.begin() as conn:
        adopted = await staff.by_account(conn, "telegram", "7000000001")
        assert adopted is not None and (adopted.id, adopted.name) == (7000000001, "张三")
        newcomer = await staff.create(conn, "新同事", now.replace(tzinfo=UTC))
        assert newcomer.id > 7000000001
        rider = await riders.by_account(conn, "telegram", "555")  # the rider's id moved too
        assert rider is not None and rider.id == 1 and rider.account("telegram") == "555"
    await engine.dispose()
