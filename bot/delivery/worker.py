"""The delivery worker: takes each chat's next message from the outbox and delivers it.

Chats are served side by side (up to `concurrency` at once), each in order: a chat that
Telegram slows down (its pace is ~20 messages a minute in a group) or that fails for a
while holds back only its own messages. A transient failure (network, timeout, 5xx, 429)
postpones the message with growing waits until it is delivered; a permanent one (chat gone,
bot removed or blocked) ends it and the step decides what follows (the card goes to the
supervisors, the rider is marked unreachable...).

Delivery is at least once. A message whose delivery started but was never settled (the
process was killed mid-call, or the answer was lost after Telegram applied the call) is
delivered again: that can duplicate it. Such re-deliveries are counted and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.ports import Courier, DeliveryError
from storage import outbox as rows
from storage.database import Database

log = logging.getLogger(__name__)


class Step(Protocol):
    async def deliver(self, row: rows.Row, courier: Courier) -> None:
        """Deliver the row and settle it (with what its delivery sets in motion).
        Raises DeliveryError when the channel refused."""
        ...

    async def failed(self, row: rows.Row, error: DeliveryError) -> None:
        """The channel refused for good: settle the row and do what must follow."""
        ...


@dataclass(frozen=True)
class Backoff:
    """Waits between tries of a transiently failing message: doubling, capped."""

    first: float = 2.0
    cap: float = 60.0
    unexpected_limit: int = 10  # a bug (not the channel) failing a row this often ends it

    def delay(self, attempts: int) -> float:
        doublings = min(max(attempts - 1, 0), 30)  # a day-long outage must not overflow
        return min(self.first * 2.0**doublings, self.cap)


@dataclass
class Tally:
    delivered: int = 0
    postponed: int = 0
    failed: int = 0
    redelivered: int = 0  # started before and never settled: may have duplicated
    by_kind: dict[str, int] = field(default_factory=dict)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class DeliveryWorker:
    def __init__(
        self,
        *,
        db: Database,
        couriers: Mapping[str, Courier],
        steps: Mapping[str, Step],
        backoff: Backoff | None = None,
        concurrency: int = 8,
        lease: timedelta = timedelta(minutes=2),
        poll: float = 1.0,
        sole: bool = True,
    ) -> None:
        self.db = db
        self.couriers = dict(couriers)
        self.steps = dict(steps)
        self.backoff = backoff or Backoff()
        self.concurrency = concurrency
        self.lease = lease
        self.poll = poll
        self.sole = sole  # the only worker on this database (SQLite): every claim is ours
        self.name = worker_name()
        self.tally = Tally()
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy: set[int] = set()  # rows being delivered now (never claimed again meanwhile)
        self._broke: dict[int, int] = {}  # rows whose tries broke (not refused): how often
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Something was put in the outbox (or a chat is free again): look now."""
        self._wake.set()

    # ---- running --------------------------------------------------------------------------

    async def start(self) -> None:
        """Take over what a killed run left claimed, then deliver until stopped."""
        if self._runner is None:
            await self.recover()
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="outbox")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop claiming; let deliveries under way finish for `grace` seconds."""
        if self._runner is not None:
            # The flag as well as the cancel: in Python 3.11, wait_for can swallow a
            # cancellation that lands as its wait ends.
            self._stopping = True
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
            self._stopping = False
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            for task in late:
                task.cancel()

    async def recover(self) -> int:
        """Free claims a killed run of this worker left behind, so its work resumes now."""
        async with self.db.transaction() as conn:
            held = await rows.claimants(conn)
            freed = await rows.release(conn, [w for w in held if self.sole or _dead_here(w)])
        if freed:
            log.warning("outbox claims of a stopped run released", extra={"rows": freed})
        return freed

    async def _run(self) -> None:
        while not self._stopping:
            try:
                claimed = await self.pass_once()
            except Exception:
                log.exception("outbox pass failed")
                claimed = 0
            self._wake.clear()
            if claimed and len(self._tasks) < self.concurrency:
                continue
            # asyncio.timeout, not wait_for: in Python 3.11 wait_for can swallow a cancel
            # that lands as its wait ends, and a cancelled worker must stop (a loop
            # closing cancels every task and waits for them: it would wait forever).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(await self._sleep_for()):
                    await self._wake.wait()

    async def _sleep_for(self) -> float:
        if len(self._tasks) >= self.concurrency:
            return self.poll  # a task ending wakes us sooner
        async with self.db.transaction() as conn:
            due = await rows.next_due(conn, list(self.couriers))
        if due is None:
            return self.poll
        return max(0.0, min(self.poll, (due - _now()).total_seconds()))

    async def pass_once(self) -> int:
        """Claim what is due (as many chats as there is room for) and start delivering."""
        room = self.concurrency - len(self._tasks)
        if room <= 0:
            return 0
        async with self.db.transaction() as conn:
            claimed = await rows.claim(
                conn,
                channels=list(self.couriers),
                worker=self.name,
                now=_now(),
                lease=self.lease,
                limit=room,
                busy=sorted(self._busy),
            )
        for row in claimed:
            task = asyncio.get_running_loop().create_task(self._deliver(row))
            self._tasks.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wake.set()  # the chat may have more, and there is room again

    async def drain(self, timeout: float = 5.0, horizon: float = 0.5) -> bool:
        """Deliver until nothing is due within `horizon` seconds; whether that happened in
        `timeout` (tests, and `suishou digest`, which sends and exits)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self._runner is None:
                await self.pass_once()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=max(0.0, deadline - loop.time()))
                continue
            async with self.db.transaction() as conn:
                # Claimed rows count: a claim is made a moment before its delivery starts.
                due = await rows.next_due(conn, list(self.couriers), claimed=True)
            if due is None or (due - _now()).total_seconds() > horizon:
                return True
            self.wake()
            await asyncio.sleep(0.01)
        return False

    # ---- one message ----------------------------------------------------------------------

    async def _deliver(self, row: rows.Row) -> None:
        """Deliver one row, keeping its claim alive for as long as that takes: a delivery
        may outlive the lease (tries, timeouts, flood waits), and a claim that ran out would
        let a worker (this one too) start the same message again beside it."""
        self._busy.add(row.id)
        beat = asyncio.get_running_loop().create_task(self._keep_claim(row))
        try:
            await self._deliver_once(row)
        finally:
            beat.cancel()
            self._busy.discard(row.id)

    async def _keep_claim(self, row: rows.Row) -> None:
        every = max(self.lease.total_seconds() / 3, 0.01)
        while True:
            await asyncio.sleep(every)
            try:
                async with self.db.transaction() as conn:
                    if not await rows.extend(conn, row.id, self.name, _now() + self.lease):
                        return  # settled or postponed meanwhile
            except Exception:  # the next beat tries again; the lease has slack for it
                log.exception("outbox claim not extended", extra={"row": row.id})

    async def _deliver_once(self, row: rows.Row) -> None:
        if row.interrupted:
            self.tally.redelivered += 1
            log.warning(
                "outbox message delivered again after an interrupted try; may duplicate",
                extra={"row": row.id, "kind": row.kind, "chat": row.chat_id},
            )
        try:
            await self._try(row)
        except Exception as exc:  # a bug or the database: never lose the row, never spin
            log.exception("outbox delivery broke", extra={"row": row.id, "kind": row.kind})
            # Only breakages count towards giving up: a row that waited out a long outage
            # (many transient tries) is not a poison row for one database hiccup.
            broke = self._broke.get(row.id, 0) + 1
            if broke < self.backoff.unexpected_limit:
                self._broke[row.id] = broke
                await self._postpone(row, repr(exc), None, tries=broke)
                return
            self._broke.pop(row.id, None)
            self.tally.failed += 1
            async with self.db.transaction() as conn:
                await rows.settle(conn, row.id, rows.FAILED, _now(), repr(exc))
            return
        self._broke.pop(row.id, None)

    async def _try(self, row: rows.Row) -> None:
        """One try; a refusal's follow-up that breaks counts as the try breaking."""
        step = self.steps.get(row.kind)
        courier = self.couriers.get(row.channel)
        try:
            if step is None or courier is None:
                raise DeliveryError(f"no way to deliver {row.kind} on {row.channel}")
            await step.deliver(row, courier)
        except DeliveryError as exc:
            if exc.transient:
                await self._postpone(row, exc.reason, exc.retry_after)
                return
            log.warning(
                "outbox message refused",
                extra={"row": row.id, "kind": row.kind, "chat": row.chat_id, "reason": exc.reason},
            )
            if step is not None:
                await step.failed(row, exc)
            else:
                async with self.db.transaction() as conn:
                    await rows.settle(conn, row.id, rows.FAILED, _now(), exc.reason)
            self.tally.failed += 1
            return
        self.tally.delivered += 1
        self.tally.by_kind[row.kind] = self.tally.by_kind.get(row.kind, 0) + 1

    async def _postpone(
        self, row: rows.Row, reason: str, retry_after: float | None, tries: int | None = None
    ) -> None:
        tries = row.attempts if tries is None else tries
        wait = retry_after if retry_after is not None else self.backoff.delay(tries)
        self.tally.postponed += 1
        log.warning(
            "outbox message postponed",
            extra={
                "row": row.id,
                "kind": row.kind,
                "chat": row.chat_id,
                "wait_s": wait,
                "attempt": row.attempts,
                "reason": reason,
            },
        )
        async with self.db.transaction() as conn:
            await rows.postpone(conn, row.id, _now() + timedelta(seconds=wait), reason)


def _now() -> datetime:
    """Delivery runs on the wall clock: waits and leases are physical time."""
    return datetime.now(UTC)


def _dead_here(worker: str) -> bool:
    """A worker of this host whose process is gone."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return int(pid) == os.getpid()  # our own pid, from a run before a restart in place
