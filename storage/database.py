"""The database handle the application holds: an engine and a way to open transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

# Callbacks waiting for the commit of an open transaction, by its connection.
_after_commit: dict[int, list[Callable[[], None]]] = {}


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One unit of work: committed when the block ends, rolled back on error.

        Callbacks registered with `after_commit` run once the commit succeeded (e.g. wake
        the outbox worker: before the commit it would find nothing to deliver).
        """
        callbacks: list[Callable[[], None]] = []
        async with self.engine.begin() as conn:
            _after_commit[id(conn)] = callbacks
            try:
                yield conn
            finally:
                _after_commit.pop(id(conn), None)
        for callback in callbacks:
            callback()

    async def close(self) -> None:
        await self.engine.dispose()


def after_commit(conn: AsyncConnection, callback: Callable[[], None]) -> None:
    """Run `callback` when the transaction of `conn` has committed (at once outside one)."""
    callbacks = _after_commit.get(id(conn))
    if callbacks is None:
        callback()
    elif callback not in callbacks:
        callbacks.append(callback)
