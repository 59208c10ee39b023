"""Where a test's database lives: an SQLite file by default, or a fresh PostgreSQL database.

Set SUISHOU_TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) and
every test gets a database of its own on that server, created empty before the test and
dropped after it, so the whole suite runs on PostgreSQL exactly as it does on SQLite.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

SERVER_URL = os.environ.get("SUISHOU_TEST_DATABASE_URL", "").strip()
_created: list[str] = []


def on_postgresql() -> bool:
    return SERVER_URL.startswith("postgresql")


def _admin(statement: str) -> None:
    """Run one statement on the server's own database, outside any test's event loop."""
    import asyncpg  # only needed on PostgreSQL

    url = make_url(SERVER_URL)

    async def run() -> None:
        conn = await asyncpg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
            database=url.database or "postgres",
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def database_url(tmp_path: Path, name: str = "suishou.db") -> str:
    """A new, empty database for this test."""
    if not on_postgresql():
        return f"sqlite+aiosqlite:///{tmp_path / name}"
    database = f"suishou_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{database}"')
    _created.append(database)
    return make_url(SERVER_URL).set(database=database).render_as_string(hide_password=False)


def drop_created() -> None:
    """Drop the databases made since the last call (after each test)."""
    while _created:
        _admin(f'DROP DATABASE IF EXISTS "{_created.pop()}" WITH (FORCE)')
