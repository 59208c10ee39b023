"""Benchmark a burst into one community: N reports at once under Telegram's pace (issue 9).

Run from the repository root: ``python bench/bench_burst.py [--quick] [--cards N]``.

The real ``suishou run`` process (``python -m bot run``, as an operator starts it, with the
example county's configuration) long-polls the fake Telegram over loopback HTTP. The fake
paces groups as Telegram does: 20 messages a minute into one group, then 429 "Too Many
Requests: retry after N" (tests/fake_telegram/faults.py, GroupPace). N riders prepare a
report each in 东关社区 (photo, location, category: not timed), then all press Submit at
once. Meanwhile an unrelated user (a new one each time) sends /help every ``gap`` seconds,
whether or not the last one was answered, until every card is in. Figures, all read off
what reached the fake (bench/_burst_world.py):

- time to the last card: from the first Submit leaving through getUpdates to the last card
  posted in 东关's chat; cards a minute; the 429s the fake answered;
- /help answer time (server time): from the fake handing the /help update to getUpdates to
  the bot's answer (sendMessage) reaching the fake. Target: under 300 ms;
- each rider's ticket ("工单号 #…"): from their Submit leaving to the ticket reaching them;
- every card once: the tickets posted in 东关 (duplicates counted), and any sent elsewhere.

Why a process and not in-process: the bot's latency is then its own event loop's and its
own CPU's (the fake, re-encoding riders' photos and serving HTTP, runs in this process and
would otherwise be charged to the bot), over real HTTP and long polling, with the
production configuration and rate limiting untouched.

Telegram's minute is not compressed: a bot pacing itself to 60-second minutes (PTB's
AIORateLimiter) would still do so, so ``--minute`` shortens only the fake's side and its
figures are not Telegram's. 50 cards at 20 a minute take 2-3 minutes. ``--quick`` is a
tiny run for the test-suite, within a group's first 20 (no figures worth reading).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import pathlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from _burst_world import COMMUNITY, Run, TimedTelegram, draft, start  # noqa: E402

from tests.fake_telegram import FakeTelegramServer  # noqa: E402

TARGET = 0.300  # seconds of server time for an unrelated user's answer (issue 9)


@dataclass(frozen=True)
class Sizes:
    cards: int  # riders pressing Submit at once
    gap: float  # seconds between /help samples
    idle_helps: int  # /help samples before the burst, for comparison


FULL = Sizes(cards=50, gap=0.5, idle_helps=10)
QUICK = Sizes(cards=6, gap=0.2, idle_helps=2)


@dataclass
class Burst:
    """What happened: the Submit presses (update id, rider) and the /help samples."""

    presses: list[tuple[int, int]]
    idle: list[float]
    first_help: int  # index in Run.helps of the first /help asked during the burst
    prepared: float  # seconds the drafts took (not part of the figures)


async def burst(run: Run, sizes: Sizes) -> Burst:
    tg = run.tg
    await run.until(lambda: tg.calls_to("getUpdates"), "the first getUpdates", 60)
    for k in range(sizes.idle_helps):
        run.ask_help(k)
        await asyncio.sleep(sizes.gap)
    await run.until(lambda: len(run.help_samples()) == sizes.idle_helps, "idle /help", 60)
    idle = [took for _, took in run.help_samples()]

    riders = [tg.person(f"骑手{n}") for n in range(sizes.cards)]
    lanes = asyncio.Semaphore(8)  # riders drafting at a time

    async def one(n: int) -> dict[str, Any]:
        async with lanes:
            return await draft(run, riders[n], n, sizes.cards)

    began = time.perf_counter()
    summaries = await asyncio.gather(*(one(n) for n in range(sizes.cards)))
    prepared = time.perf_counter() - began
    await asyncio.sleep(1.0)  # the drafting's last answers settle

    first_help = len(run.helps)
    presses = [
        (run.push(r.press(s, "✅ 提交")), r.id) for r, s in zip(riders, summaries, strict=True)
    ]
    deadline = time.monotonic() + 60 * (sizes.cards / 20 + 3)
    k = sizes.idle_helps
    while len(posted(run)) < sizes.cards and time.monotonic() < deadline:
        if run.proc.poll() is not None:
            await run.until(lambda: False, "the last card", 0)  # says why, and ends
        run.ask_help(k)
        k += 1
        await asyncio.sleep(sizes.gap)
    asked = len(run.helps) - first_help
    try:
        await run.until(lambda: len(run.help_samples(first_help)) == asked, "/help", 120)
    except SystemExit as exc:  # unanswered ones are reported as such
        print(f"  ({exc})")
    return Burst(presses, idle, first_help, prepared)


def posted(run: Run) -> set[int]:
    """Tickets whose card reached any of the county's chats."""
    return {t for chat in run.chats.values() for _, t in run.tg.cards_in(chat)}


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def spread(name: str, seconds: list[float], of: int) -> str:
    if not seconds:
        return f"  {name}: none answered of {of}"
    ms = [s * 1000 for s in seconds]
    return (
        f"  {name}: median {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, "
        f"max {max(ms):.0f} ms; {len(ms)} answered of {of}"
    )


def report(run: Run, sizes: Sizes, b: Burst, timeline: bool) -> None:
    tg = run.tg
    started = min(tg.handed[u] for u, _ in b.presses if u in tg.handed)
    cards = tg.cards_in(run.chats[COMMUNITY])
    tickets = [t for _, t in cards]
    astray = {n: len(tg.cards_in(c)) for n, c in run.chats.items() if n != COMMUNITY}
    print(
        f"\n{sizes.cards} riders press Submit at once into 东关社区 (drafts prepared in "
        f"{b.prepared:.1f} s, not timed); Telegram's pace: 20 messages a minute per group"
    )
    if cards:
        times = [at - started for at, _ in cards]
        print(
            f"  time to the last card: {times[-1]:.1f} s; {len(set(tickets))} of "
            f"{sizes.cards} cards in 东关 ({len(tickets) - len(set(tickets))} duplicates); "
            f"cards elsewhere: {({n: k for n, k in astray.items() if k}) or 'none'}"
        )
        if len(times) > 21:
            steady = times[20:]
            pace = (len(steady) - 1) / max(steady[-1] - steady[0], 1e-9) * 60
            print(
                f"  cards a minute: {len(times) / times[-1] * 60:.1f} overall; the first 20 "
                f"within {times[19]:.1f} s, then {pace:.1f} a minute"
            )
        else:
            print("  (all within a group's first 20 a minute: Telegram's pace not met)")
    else:
        print(f"  no card reached 东关 within the wait; cards elsewhere: {astray}")
    print(f"  429 answered by the fake (Telegram's pace): {len(tg.refused)}")
    during = [took for _, took in run.help_samples(b.first_help)]
    asked = len(run.helps) - b.first_help
    print(spread("/help answer time (server), idle before the burst", b.idle, sizes.idle_helps))
    print(spread("/help answer time (server), during the burst", during, asked))
    if during:
        over = sum(t > TARGET for t in during)
        print(f"    {over} of {len(during)} over the {TARGET * 1000:.0f} ms target")
    waits = []
    for update_id, rider in b.presses:
        handed, ticket = tg.handed.get(update_id), tg.answered(rider, contains="工单号")
        if handed is not None and ticket is not None:
            waits.append(ticket - handed)
    print(spread("rider's ticket after Submit (server)", waits, len(b.presses)))
    if timeline:
        print_timeline(run, started, cards, b.first_help)


def print_timeline(run: Run, started: float, cards: list[tuple[float, int]], first: int) -> None:
    """Per 10 s of the burst: cards posted, 429s, and the /help asked then."""
    samples = run.help_samples(first)
    end = max([at for at, _ in cards] + [h for h, _ in samples] + [started])
    print("  timeline, s after the first Submit: cards, 429s, /help asked then: median / max ms")
    for k in range(int((end - started) // 10) + 1):
        lo, hi = started + 10 * k, started + 10 * (k + 1)
        took = [t * 1000 for h, t in samples if lo <= h < hi]
        helps = f"{statistics.median(took):7.0f} / {max(took):7.0f}" if took else ""
        print(
            f"  {10 * k:4d}-{10 * (k + 1):<4d} {sum(lo <= at < hi for at, _ in cards):3d} "
            f"{sum(lo <= at < hi for at in run.tg.refused):3d}  {helps}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run (for the test-suite)")
    parser.add_argument("--cards", type=int, help="riders pressing Submit at once (50)")
    parser.add_argument(
        "--minute",
        type=float,
        default=60.0,
        help="the fake's group minute, s (60: Telegram's; shorter compresses only the fake)",
    )
    parser.add_argument(
        "--timeline", action="store_true", help="cards, 429s and /help per 10 s of the burst"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.cards:
        sizes = replace(sizes, cards=args.cards)
    print(f"bench_burst: `suishou run` over loopback HTTP; Python {sys.version.split()[0]}")
    if args.minute != 60.0:
        print(f"  (the fake's minute is {args.minute:g} s: these are not Telegram's figures)")
    tg = TimedTelegram()
    tg.group_pace(20, minute=args.minute)
    with (
        tempfile.TemporaryDirectory(prefix="suishou-burst-") as tmp,
        FakeTelegramServer(tg) as server,
    ):
        run = start(pathlib.Path(tmp), tg, server)
        try:
            happened = await burst(run, sizes)
        finally:
            run.stop()
        report(run, sizes, happened, args.timeline)


if __name__ == "__main__":
    asyncio.run(main())
