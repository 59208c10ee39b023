"""The database handle the application holds: an engine and a way to open transactions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

# The task holding an open transaction in this context: a second transaction opened by the
# same task would wait for the first's lock (SQLite: BEGIN IMMEDIATE) while the first waits
# for it: a deadlock that ends only with "database is locked" after the busy timeout.
_holder: ContextVar[asyncio.Task[object] | None] = ContextVar("transaction_holder", default=None)

# Callbacks waiting for the commit of an open transaction, by its connection.
_after_commit: dict[int, list[Callable[[], None]]] = {}


class NestedTransaction(RuntimeError):
    """A task opened a transaction inside its own open transaction."""


class Database:
    # Tests make nesting an error, so every path that nests is found; in production it is
    # logged (on PostgreSQL it works, only slower; on SQLite it stalls until the timeout).
    strict_nesting = False

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One unit of work: committed when the block ends, rolled back on error.

        Callbacks registered with `after_commit` run once the commit succeeded (e.g. wake
        the outbox worker: before the commit it would find nothing to deliver).
        """
        task = asyncio.current_task()
        if task is not None and _holder.get() is task:
            if self.strict_nesting:
                raise NestedTransaction("a transaction opened inside another by the same task")
            log.error("a transaction opened inside another by the same task", stack_info=True)
        callbacks: list[Callable[[], None]] = []
        token = _holder.set(task)
        try:
            async with self.engine.begin() as conn:
                _after_commit[id(conn)] = callbacks
                try:
                    yield conn
                finally:
                    _after_commit.pop(id(conn), None)
        finally:
            _holder.reset(token)
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
