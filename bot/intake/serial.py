"""One at a time per account: a phone's forms are handled in the order they came.

The reports-per-hour limit is checked before a form's photos are processed and counted
once its report is made; forms from one device sent together (a script, not a double tap)
would all pass the check before any was counted, and a new device's first burst would not
even have a rider to count. Taking one account's forms one after another closes both; a
double tap waits for the first and then finds what it did. In memory, like the limits: one
process serves the page.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class OneAtATime:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]  # nobody waits: forget the account
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
