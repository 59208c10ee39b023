"""Killed at random moments: `suishou run`, SIGKILLed while riders report and staff act.

The real process long-polls the loopback fake Telegram (as in tests/test_entry_point.py).
Riders send a photo, share the location, pick a category and submit; staff accept, resolve
with a note and sometimes transfer; riders confirm (one says 未解决 first). Meanwhile the
process is killed with SIGKILL three to five times, each time restarted at once, as a
supervisor (systemd) would. Half the kills fall at a random moment, the other half right
after Telegram applied one of the bot's sends or edits and before its answer was read: the
window in which a message exists that the bot never heard of.

People do what people do: an update whose answer never came (the process died with it) is
sent again once their patience runs out; so a rider may press Submit twice, and the draft's
idempotency must hold. Afterwards, once the crowd is done or time is up, what everyone sees
is checked against tests/invariants.py, polled until it holds or a deadline (delivery may
lag the handler that caused it): one report, one ticket and one card per submitted draft,
every notice once, every report closed. A duplicate is allowed only when Telegram applied
the first copy within a few seconds before a kill; those are counted and printed.

Twelve reports, spread evenly over the four desks: `suishou run` paces each group at
Telegram's 20 messages a minute, so one busy group would set the test's length. Unkilled,
people are done in about 20 s; the deadlines (WORK_SECONDS, SETTLE_SECONDS) bound a failing
run to under a minute. The database is SQLite, or PostgreSQL under SUISHOU_TEST_DATABASE_URL.

Seeded: the plan, the kill times and their kinds. What the process was doing at each kill
is not, so the test prints, for each ticket in trouble, every call the bot made about it
and the kills, in time order; each run's log is in tmp_path (run-N.log).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from bot.config import parse_config
from tests.conftest import TOKEN
from tests.crowd import Crowd
from tests.crowd_plan import desks_of, plan, populate
from tests.databases import database_url
from tests.fake_telegram import Call, FakeTelegram, FakeTelegramServer
from tests.invariants import (
    Findings,
    check,
    check_reports,
    reports_per_draft,
    tickets_in,
    timeline,
)
from tests.test_entry_point import EXAMPLE_CHATS, config_text, interrupt

SEED = 20261125
RIDERS, EACH = 6, 2
KILLS_BETWEEN = (3.0, 18.0)  # seconds after the start: while people are busy
WORK_SECONDS = 90.0  # at most, from the start, for the crowd to finish (a loaded CI is slow)
SETTLE_SECONDS = 8.0  # then for the invariants to hold
TICK = 0.05


class Killable:
    """`suishou run` that can be killed with SIGKILL (now, or right after Telegram applied
    the n-th send or edit) and started again; each run logs to its own file."""

    def __init__(self, tg: FakeTelegram, config: Path) -> None:
        self.tg = tg
        self.config = config
        self.proc: subprocess.Popen[str] | None = None
        self.runs: list[Path] = []
        self.kills: list[float] = []  # time.monotonic() of each kill
        self.ready_at = 0.0
        self._mark = 0  # calls before this run's start

    def start(self) -> None:
        log = self.config.parent / f"run-{len(self.runs) + 1}.log"
        self.runs.append(log)
        self._mark = len(self.tg.calls)
        self.ready_at = 0.0
        with log.open("w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                cwd=self.config.parent,
                env={**os.environ, "SUISHOU_E2E_TOKEN": TOKEN},
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def ready(self) -> bool:
        """Polling again since the latest start (so people may expect answers)."""
        if not self.ready_at and any(
            c.method == "getUpdates" for c in self.tg.calls[self._mark :]
        ):
            self.ready_at = time.monotonic()
        return bool(self.ready_at)

    def kill_now(self) -> None:
        assert self.proc is not None
        self.kills.append(time.monotonic())
        self.proc.kill()
        self.proc.wait()

    def kill_after_sends(self, n: int) -> None:
        """SIGKILL right after Telegram applies the n-th send or edit from now on, before
        the answer leaves (the fake's serving thread runs this hook)."""
        left = [n]

        def hook(call: Call) -> None:
            if not call.method.startswith(("send", "edit")) or self.tg.on_applied is None:
                return
            left[0] -= 1
            if left[0] == 0 and self.proc is not None:
                self.tg.on_applied = None
                self.kills.append(time.monotonic())
                self.proc.kill()

        self.tg.on_applied = hook

    def died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def log(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(encoding='utf-8')[-3000:]}" for p in self.runs
        )


def crash_config(tmp_path: Path, server: FakeTelegramServer, chats: dict[str, int]) -> str:
    """The example configuration on this test's groups and database; the per-rider limits
    are raised, because people here retry at machine speed (limits have their own tests)."""
    text = config_text(tmp_path, server, chats)
    text = text.replace(
        'database_url = "sqlite+aiosqlite:///data/suishou.db"',
        f'database_url = "{database_url(tmp_path)}"',
    )
    return text.replace("messages_per_minute = 20", "messages_per_minute = 200")


def test_killed_again_and_again_nothing_is_lost_and_nothing_comes_twice(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    tg = FakeTelegram(token=TOKEN)
    chats = {name: tg.new_group(name)["id"] for name in EXAMPLE_CHATS}
    with FakeTelegramServer(tg) as server:
        config = tmp_path / "config.toml"
        config.write_text(crash_config(tmp_path, server, chats), encoding="utf-8")
        parsed = parse_config(tomllib.loads(config.read_text(encoding="utf-8")), base_dir=tmp_path)
        desks = desks_of(parsed, chats, {})
        crowd = Crowd(tg, tg.push_update, desks, patience=3.0, reading=0.5, pace=4)
        plans = plan(rng, RIDERS, EACH, transfer=0.15, reopen=0.1, even=True)
        plans[0][0].reopen = True  # at least one 未解决
        populate(crowd, tg, plans, staff_speed=2)
        for rider in crowd.riders:  # they set off over the first seconds
            rider.not_before = rng.randint(0, int(4 / TICK))
        schedule = kill_schedule(rng)
        bot = Killable(tg, config)
        bot.start()
        started = time.monotonic()
        try:
            found, done = work_through_kills(bot, crowd, schedule, started)
        finally:
            tg.on_applied = None
            if bot.proc is not None and bot.proc.poll() is None:
                interrupt(bot.proc)
        check_reports(asyncio.run(reports_per_draft(parsed.database_url)), crowd, found)
    evidence = "\n".join(
        f"#{t}:\n{timeline(tg, t, bot.kills, started)}" for t in tickets_in(found)
    )
    print(
        f"\ncrash: {len(crowd.intents)} reports, {crowd.actions} actions by people, "
        f"{len(bot.kills)} kills at {[round(k - started, 1) for k in bot.kills]} s; "
        f"people done at {done:.1f} s, {time.monotonic() - started:.1f} s in all\n"
        f"{found}\n{evidence}"
    )
    assert len(bot.kills) >= 3, bot.log()
    assert bot.proc is not None and bot.proc.returncode == 0, bot.log()  # Ctrl-C still stops it
    found.verify(evidence)


def kill_schedule(rng: random.Random) -> list[tuple[float, int]]:
    """3 to 5 kills, at least 4 s apart: (seconds after the start, n); n = 0 kills at that
    moment, n > 0 right after the n-th send or edit Telegram applies from then on."""
    count = rng.randint(3, 5)
    low, high = KILLS_BETWEEN
    while True:
        moments = sorted(rng.uniform(low, high) for _ in range(count))
        if all(b - a >= 4.0 for a, b in itertools.pairwise(moments)):
            break
    odd = rng.randint(0, 1)  # which half kills at once
    return [(m, 0 if i % 2 == odd else rng.randint(1, 4)) for i, m in enumerate(moments)]


def work_through_kills(
    bot: Killable, crowd: Crowd, schedule: list[tuple[float, int]], started: float
) -> tuple[Findings, float]:
    """People work, the bot is killed on schedule and restarted; then the invariants (and
    when people were done, or gave up waiting, in seconds since `started`)."""
    pending = list(schedule)
    armed_at = None
    settle_by = None
    while True:
        now = time.monotonic()
        if bot.died():
            if not (bot.kills and now - bot.kills[-1] < 5):
                pytest.fail(f"suishou died by itself:\n{bot.log()}")
            crowd.ready_at = float("inf")  # nobody is answered until it is back
            time.sleep(0.3)  # the supervisor notices, and starts it again
            bot.start()
            armed_at = None
        if bot.ready():
            crowd.ready_at = bot.ready_at
            if pending and now - started >= pending[0][0] and armed_at is None:
                _, sends = pending.pop(0)
                if sends == 0:
                    bot.kill_now()
                else:
                    bot.kill_after_sends(sends)
                    armed_at = now
            elif armed_at is not None and now - armed_at > 5:
                bot.tg.on_applied = None  # nothing sent for a while: kill it anyway
                bot.kill_now()
        crowd.tick()
        calm = settle_by is None and not pending and armed_at is None
        if calm and (
            now - started > WORK_SECONDS or (crowd.tick_no % 10 == 0 and crowd.finished())
        ):
            settle_by = now + SETTLE_SECONDS  # people are done (or gave up): now the invariants
        if settle_by is not None and crowd.tick_no % 10 == 0:
            found = check(crowd.tg, crowd, bot.kills)
            if not found.problems or now > settle_by:
                return found, settle_by - SETTLE_SECONDS - started
        time.sleep(TICK)
