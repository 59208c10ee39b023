"""Benchmark the dispatcher card: messages per card, and cards a busy group gets per minute.

Run from the repository root: ``python bench/bench_cards.py [--quick]``.
Telegram lets a bot send 20 messages a minute into one group. A card used to be three
messages (photo, card text, location pin): about 6.7 cards a minute. Now a report with one
photo is one message (the photo, the card as its caption, the pin on a button).

1. layouts: one report of each kind, on the test stage (fake Telegram, example county); the
   messages (and API calls) its card costs in the community's group, and the cards a minute
   that allows at 20 messages a minute.
2. burst: N riders press Submit at once into one community, through the production rate
   limiter (PTB's AIORateLimiter, 20 messages per group per "minute"; the minute is
   compressed so the run is short, and figures are given per minute of that length). The
   steady pace is measured after the limiter's initial allowance of 20 is spent.

``--quick`` is a tiny run for the test-suite (no figures worth reading).
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import AIORateLimiter  # noqa: E402

from bot.app import build_application, on_shutdown, on_startup  # noqa: E402
from tests.conftest import IN_DONGGUAN, TOKEN, Stage, make_config, make_world  # noqa: E402
from tests.fake_telegram import FakeRequest, FakeTelegram, Person  # noqa: E402
from tests.images import jpeg  # noqa: E402

GROUP_LIMIT = 20  # messages a minute into one group (Telegram's documented pace)
SENDS = ("sendMessage", "sendPhoto", "sendMediaGroup", "sendLocation")
CATEGORIES = ("🔥 消防安全", "🧹 环境卫生", "🚨 社会治安")


@dataclass(frozen=True)
class Sizes:
    burst: int  # cards in the burst
    minute: float  # the limiter's group period, in seconds (60 in production)


FULL = Sizes(burst=60, minute=12.0)
QUICK = Sizes(burst=24, minute=1.5)


class CountingRequest(FakeRequest):
    """FakeRequest that notes each send into a chat: when, and which method."""

    __slots__ = ("sends",)

    def __init__(self, fake: FakeTelegram) -> None:
        super().__init__(fake)
        self.sends: dict[int, list[tuple[float, str]]] = {}

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        answer = await super().do_request(url, method, request_data, **kw)
        name = url.rsplit("/", 1)[-1]
        if request_data is not None and name in SENDS:
            chat = request_data.parameters.get("chat_id")
            if isinstance(chat, int):
                self.sends.setdefault(chat, []).append((time.perf_counter(), name))
        return answer


async def open_stage(tmp: pathlib.Path, minute: float | None) -> tuple[Stage, CountingRequest]:
    tmp.mkdir(parents=True, exist_ok=True)
    tg = FakeTelegram(token=TOKEN)
    chats, topics = make_world(tg)
    config = make_config(tmp, chats, topics)
    request = CountingRequest(tg)
    limiter = AIORateLimiter(max_retries=3, group_time_period=minute) if minute else None
    app = build_application(config, TOKEN, request=request, rate_limit=limiter)
    await app.initialize()
    await on_startup(app)
    await app.start()
    return Stage(tg, config, app, None, chats, topics), request  # type: ignore[arg-type]


async def close_stage(stage: Stage) -> None:
    await stage.services.delivery.stop()
    await stage.app.stop()
    await stage.app.shutdown()
    await on_shutdown(stage.app)


async def draft(stage: Stage, rider: Person, photos: int, note: str, n: int) -> dict[str, Any]:
    """Photos, location and category: the summary whose Submit button posts the card."""
    for i in range(photos):
        album = f"album-{rider.id}" if photos > 1 else None
        await stage.send(
            rider.photo(
                jpeg(seed=n * 10 + i), media_group_id=album, caption=note if i == 0 else None
            )
        )
    if photos > 1:
        await stage.settle()
    point = IN_DONGGUAN
    await stage.send(rider.location(point.lat + n * 1e-5, point.lon))
    await stage.send(rider.press(rider.last_bot_message(), CATEGORIES[n % len(CATEGORIES)]))
    summary = rider.last_bot_message()
    markup = summary.get("reply_markup") or {}
    labels = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
    if "不是同一个，继续提交" in labels:  # a similar report nearby: submit anyway
        await stage.send(rider.press(summary, "不是同一个，继续提交"))
        summary = rider.last_bot_message()
    return summary


async def layouts(tmp: pathlib.Path) -> None:
    stage, request = await open_stage(tmp, None)
    group = stage.chats["dongguan"]
    kinds = (
        ("one photo, short note", 1, "楼道堆放电动车电池"),
        ("one photo, 1000-character note", 1, "楼道" * 500),  # too long for a caption
        ("album of 3 photos", 3, "三张"),
    )
    print("\n1. layouts: what one card costs in the community's group")
    print(
        f"  {'report':32} {'messages':>8} {'API calls':>9} {'cards/min at 20 msg/min':>24}"
        f" {'before (photos, card, pin)':>27}"
    )
    for n, (label, photos, note) in enumerate(kinds):
        rider = stage.person(f"骑手{n}")
        summary = await draft(stage, rider, photos, note, n)
        messages_before = len(stage.tg.bot_messages(group))
        calls_before = len(request.sends.get(group, []))
        await stage.send(rider.press(summary, "✅ 提交"))
        messages = len(stage.tg.bot_messages(group)) - messages_before
        calls = len(request.sends.get(group, [])) - calls_before
        old = photos + 2
        print(
            f"  {label:32} {messages:>8} {calls:>9} {GROUP_LIMIT / messages:>24.1f}"
            f" {f'{old} msg, {GROUP_LIMIT / old:.1f}/min':>27}"
        )
    print("  (the location pin now comes on request: the card's 📍 button, one message more)")
    await close_stage(stage)


async def burst(tmp: pathlib.Path, sizes: Sizes) -> None:
    stage, request = await open_stage(tmp, sizes.minute)
    group = stage.chats["dongguan"]
    riders = [stage.person(f"骑手{n}") for n in range(sizes.burst)]
    summaries = [await draft(stage, r, 1, f"第{n + 1}处", n) for n, r in enumerate(riders)]
    before = len(request.sends.get(group, []))
    started = time.perf_counter()
    for rider, summary in zip(riders, summaries, strict=True):
        update = Update.de_json(rider.press(summary, "✅ 提交"), stage.app.bot)
        await stage.app.update_queue.put(update)
    deadline = started + sizes.minute * (sizes.burst / 5 + 5)
    while len(request.sends.get(group, [])) - before < sizes.burst:
        if time.perf_counter() > deadline:
            raise SystemExit("the burst's cards did not all arrive")
        await asyncio.sleep(0.005)
    times = [at - started for at, _ in request.sends[group][before:]]
    await close_stage(stage)
    cards = sum(1 for m in stage.tg.bot_messages(group) if "工单 #" in (m.get("caption") or ""))
    steady = times[GROUP_LIMIT:]
    print(
        f"\n2. burst: {sizes.burst} riders press Submit at once into one community; the "
        f"group's minute is {sizes.minute:g} s here (60 s on Telegram)"
    )
    print(
        f"  {len(times)} messages, {cards} of them cards; the last card arrived after "
        f"{times[-1]:.2f} s = {times[-1] / sizes.minute:.2f} minutes"
    )
    if len(steady) > 1:
        pace = (len(steady) - 1) / (steady[-1] - steady[0]) * sizes.minute
        print(
            f"  after the limiter's first {GROUP_LIMIT}: {pace:.1f} cards a minute "
            f"(before, at 3 messages a card: {GROUP_LIMIT / 3:.1f})"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run (for the test-suite)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    print(f"Python {sys.version.split()[0]}; {sizes.burst} cards in the burst")
    with tempfile.TemporaryDirectory() as tmp:
        await layouts(pathlib.Path(tmp) / "layouts")
        await burst(pathlib.Path(tmp) / "burst", sizes)


if __name__ == "__main__":
    asyncio.run(main())
