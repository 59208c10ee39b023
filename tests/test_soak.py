"""A soak small enough for CI: a normal month of Telegram hiccups in well under a minute.

Thirty riders make 120 reports; staff accept, transfer and resolve them; riders confirm
(some say 未解决 first): about 1,100 actions by people and 3,000 calls to Telegram.
Meanwhile a few percent of the bot's calls meet a fault: a 502 from Telegram's frontends,
an answer lost before or after Telegram applied the call, flood control, and now and then
a short outage. Afterwards everyone must see what
tests/invariants.py describes: one report, one ticket and one card per submitted draft, every
notice once, every report closed; duplicates only where an answer was lost, and counted.

In-process (the `stage` fixture), not the loopback process, on purpose: the bot's retry
waits are recorded instead of slept (a 429's retry_after costs nothing), and simulated time
runs a second a tick, so over a hundred reports and their faults fit in CI's budget while
the per-rider limits still hold. Updates go through the Application's update queue, so
they are handled as `suishou run` handles them: concurrently across chats, in order
within one (handlers/telegram/ordering.py). The real process, killed and restarted, is
tests/test_crash.py's business.

The plan and the faults are seeded; the order in which concurrent handlers reach Telegram
is not, so which call a fault meets may vary between runs: the invariants hold for any.
It prints what it did, the faults met, the duplicates from lost answers and, on a failure,
every call about the first tickets in trouble. People are done in about 36 s on SQLite or
PostgreSQL (2 cores), then the invariants get up to SETTLE_SECONDS for late deliveries.
"""

from __future__ import annotations

import asyncio
import random
import time

from telegram import Update

from tests.conftest import Stage
from tests.crowd import Crowd
from tests.crowd_plan import desks_of, plan, populate
from tests.invariants import (
    Findings,
    check,
    check_reports,
    reports_per_draft,
    tickets_in,
    timeline,
)

SEED = 20261120
RIDERS, EACH = 30, 4  # 120 reports
FAULT_RATE = 0.03  # of the bot's calls
OUTAGE_EVERY = 200  # ticks: Telegram's frontends turn away the next few calls...
OUTAGE_SECONDS = 0.5  # ...that come within this long (25 ticks): at a quiet moment, none
WORK_SECONDS = 150.0  # at most, for the crowd to finish (36 s quiet, 66 s at load 4)
SETTLE_SECONDS = 6.0  # at most, then, for what is owed to arrive
EVIDENCE = 3  # tickets whose calls a failure lists


async def test_over_a_hundred_reports_through_a_normal_month_of_hiccups(stage: Stage) -> None:
    rng = random.Random(SEED)
    tg, app = stage.tg, stage.app

    def post(update: dict) -> None:
        app.update_queue.put_nowait(Update.de_json(update, app.bot))

    desks = desks_of(stage.config, stage.chats, stage.topics)
    # A rider acts at most every 4 ticks (simulated seconds): within 20 messages a minute.
    crowd = Crowd(tg, post, desks, patience=3.0, reading=0.5, pace=4)
    populate(crowd, tg, plan(rng, RIDERS, EACH), staff_speed=4)
    tg.random_faults(FAULT_RATE, seed=SEED)
    started = time.monotonic()
    while not (crowd.tick_no % 20 == 0 and crowd.finished()):
        if time.monotonic() - started > WORK_SECONDS:
            break
        crowd.tick()
        if crowd.tick_no % OUTAGE_EVERY == 0:
            tg.outage_calls(3, within=OUTAGE_SECONDS)
        stage.clock.advance(seconds=1)
        await asyncio.sleep(0.02)
    worked = time.monotonic() - started
    tg.random_faults(0, seed=0)  # Telegram calm again: what is owed must now arrive
    found = await settled(stage, crowd)
    per_draft = await reports_per_draft(stage.config.database_url)
    check_reports(per_draft, crowd, found)
    calls = len(tg.calls) + len(tg.turned_away)
    evidence = "\n".join(
        f"#{t}:\n{timeline(tg, t, (), started)}" for t in tickets_in(found)[:EVIDENCE]
    )
    print(
        f"\nsoak: {len(crowd.intents)} reports, {crowd.actions} actions by people in "
        f"{worked:.1f} s ({crowd.tick_no} ticks); {calls} calls to Telegram, faults met: "
        f"{dict(tg.faults_met)}\n{found}\n{evidence}"
    )
    found.verify(evidence)


async def settled(stage: Stage, crowd: Crowd) -> Findings:
    """The invariants once they hold (delivery may lag its cause), or at the deadline."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        crowd.tick()  # people still answer what arrives late
        stage.clock.advance(seconds=1)
        found = check(stage.tg, crowd)
        if not found.problems or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)
