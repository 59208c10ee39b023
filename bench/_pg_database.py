"""A benchmark's own PostgreSQL database on the test server: made afresh (or kept and reused
between runs), and dropped at the end unless kept. Shared by bench_console and bench_county."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class OwnDatabase:
    url: str  # for the application's engine (SQLAlchemy, asyncpg driver)
    dsn: str  # for asyncpg itself (seeding with COPY)
    fresh: bool  # just created: empty, to be migrated and seeded


@asynccontextmanager
async def own_database(server_url: str, name: str, *, keep: bool) -> AsyncIterator[OwnDatabase]:
    server = make_url(server_url)
    plain = server.set(drivername="postgresql")
    admin = await asyncpg.connect(plain.render_as_string(hide_password=False))
    try:
        have = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if have and not keep:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        fresh = not have or not keep
        if fresh:
            await admin.execute(f'CREATE DATABASE "{name}"')
        yield OwnDatabase(
            url=server.set(database=name).render_as_string(hide_password=False),
            dsn=plain.set(database=name).render_as_string(hide_password=False),
            fresh=fresh,
        )
    finally:
        if not keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
