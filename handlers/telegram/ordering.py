"""Updates of different chats run side by side; one chat's (and one person's) run in order.

Handled one at a time, a single busy chat stalls everyone: a rider whose replies wait for
Telegram's pace in a dispatcher group (20 messages a minute) made an unrelated user's
/help wait 30 s. Handled all at once, a rider's photo and the location sent right after
it could be taken in the wrong order, and two presses of the same card could interleave.

So every update carries keys (its chat id and its sender's id; a private chat's id is
the person's id) and waits only for the earlier updates that share a key. Nothing else
waits: a flood from one rider queues behind that rider alone, and a handler waiting for
a group's pace holds up only the updates of that group and that person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Protocol

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.intake.limits import Verdict

# PTB takes a slot of its own semaphore for every update as soon as it arrives, including
# those still waiting for their turn. A flood of one chat must not use the slots up, so
# that semaphore is set out of reach; `max_running` bounds the updates actually running.
_PTB_SLOTS = 1_000_000
MAX_RUNNING = 256  # handlers running at once (most of them waiting on the network)


def update_keys(update: object) -> tuple[int, ...]:
    """What must stay in order with this update: its chat and its sender."""
    if not isinstance(update, Update):
        return ()
    keys: list[int] = []
    if update.effective_chat is not None:
        keys.append(update.effective_chat.id)
    if update.effective_user is not None and update.effective_user.id not in keys:
        keys.append(update.effective_user.id)
    return tuple(keys)


class Gate(Protocol):
    """Decides, as an update arrives, whether it is handled (see handlers/telegram/limits.py)."""

    def admit(self, update: object) -> Verdict: ...

    async def refuse(self, update: object) -> None:
        """Handle a refused update instead (the one polite answer)."""
        ...


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """A BaseUpdateProcessor that serialises updates per chat and per person.

    With a `gate`, each update is judged as it arrives, not when its turn comes: a flood
    queued behind a slow handler would otherwise be counted only as it trickles through,
    and so never be over any limit. Updates to ignore never join the queue.
    """

    __slots__ = ("_running", "_tails", "gate")

    def __init__(self, max_running: int = MAX_RUNNING, gate: Gate | None = None) -> None:
        super().__init__(max_concurrent_updates=_PTB_SLOTS)
        self._running = asyncio.BoundedSemaphore(max_running)
        # The last update queued on each key: finished means the key is free.
        self._tails: dict[int, asyncio.Future[None]] = {}
        self.gate = gate

    def busy(self, key: int) -> bool:
        """Has this chat or person updates in progress? (For tests and benchmarks.)"""
        return key in self._tails

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Everything up to the first await runs in arrival order (PTB starts one task per
        # update, in order), so each update takes its place behind the earlier ones here.
        verdict = self.gate.admit(update) if self.gate is not None else Verdict.ALLOW
        if verdict is not Verdict.ALLOW:
            _close(coroutine)
            if verdict is Verdict.SILENT or self.gate is None:
                return
            coroutine = self.gate.refuse(update)
        keys = update_keys(update)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        before = {self._tails[k] for k in keys if k in self._tails}
        for key in keys:
            self._tails[key] = done
        started = False
        try:
            if before:
                await asyncio.wait(before)  # never cancels them, unlike awaiting directly
            async with self._running:
                started = True
                await coroutine
        finally:
            done.set_result(None)
            for key in keys:
                if self._tails.get(key) is done:
                    del self._tails[key]
            if not started:
                _close(coroutine)  # cancelled while waiting for its turn

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: Application.stop has already waited for every update."""


def _close(coroutine: Awaitable[Any]) -> None:
    """Drop a handler coroutine that will never run (without a 'never awaited' warning)."""
    if asyncio.iscoroutine(coroutine):
        coroutine.close()
