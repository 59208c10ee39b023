"""Engine creation and schema migration.

Migrations run on every start (Alembic, upgrade to head), so a new deployment and an
old one that missed a release end up on the same schema without a manual step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


BUSY_TIMEOUT_MS = 20_000  # a writer waits this long for SQLite's lock before giving up


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys, WAL and a busy timeout on every connection."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)
    if url.get_backend_name() == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.close()
            dbapi_conn.isolation_level = None  # BEGIN is ours (below), not the driver's

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            # A transaction that reads and then writes must not find, at its first write,
            # that another committed meanwhile: SQLite answers that with "database is
            # locked" at once, without waiting (the soak lost riders' presses so on a
            # loaded machine). Taking the write lock at BEGIN waits for it instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the database to the newest schema."""

    def upgrade(sync_conn: Connection) -> None:
        command.upgrade(alembic_config(sync_conn), "head")

    if engine.dialect.name != "sqlite":
        async with engine.begin() as conn:
            await conn.run_sync(upgrade)
        return
    # SQLite changes a table by copying it (Alembic's batch mode), and with foreign keys
    # enforced the original cannot be dropped while rows refer to it. So, as SQLite's own
    # procedure says: foreign keys off (outside a transaction, the only place SQLite takes
    # it), migrate, check every reference, on again.
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute("PRAGMA foreign_keys=OFF")  # before any BEGIN
        try:
            await conn.run_sync(upgrade)
            broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
            if broken:
                raise RuntimeError(f"migration left {len(broken)} broken references")
            await conn.commit()
        finally:
            await conn.rollback()
            await driver.execute("PRAGMA foreign_keys=ON")
