"""Benchmark fairness under load: how long another user waits for /help during a flood.

Run from the repository root: ``python bench/bench_flood.py [--quick] [--sequential]``.
It builds the same stage as the tests (fake Telegram, example county, SQLite file in a
temporary directory, the real ``telegram.ext.Application``) with the production rate
limiter (PTB's AIORateLimiter: 30 messages/s overall, 20 a minute per group) and feeds
updates through the Application's update queue, the way polling does.

Scenarios, each on a fresh stage:

1. relays: a rider who was asked a question under their report's card floods replies;
   each one allowed is relayed to the community's dispatcher group, which Telegram (here,
   the rate limiter) paces at 20 messages a minute; with the card's own messages the
   per-rider limit's 20 relays are beyond that pace. Meanwhile other users send /help.
   (``--riders N`` makes several riders flood the same group.)
2. texts: a rider sends 300 texts as fast as possible while other users send /help.

"Answer time" is server time: from the update entering the queue to the bot's answer
leaving for Telegram (the request reaching the fake). Target: median under 300 ms.
``--sequential`` handles updates one at a time (PTB's default) for comparison; ``--quick``
is a tiny run for the test-suite (no figures worth reading). The fake Telegram has no
flood control of its own; the pacing comes from AIORateLimiter, as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import pathlib
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import AIORateLimiter, Application, BaseUpdateProcessor  # noqa: E402

import bot.app  # noqa: E402
from bot.app import build_application, on_shutdown, on_startup  # noqa: E402
from handlers.telegram.ordering import PerChatUpdateProcessor  # noqa: E402
from tests.conftest import TOKEN, Stage, make_config, make_world  # noqa: E402
from tests.fake_telegram import FakeRequest, FakeTelegram, Person  # noqa: E402
from tests.test_casework import card_of, staff_of  # noqa: E402
from tests.test_rider_intake import report_quickly  # noqa: E402


@dataclass
class Sizes:
    riders: int  # riders flooding replies in scenario 1
    relays: int  # replies each of them floods
    texts: int  # texts the rider floods in scenario 2
    helps: int  # /help samples per scenario
    gap: float  # seconds between /help samples
    group_minute: float  # AIORateLimiter's group_time_period: 60 s in production


FULL = Sizes(riders=1, relays=30, texts=300, helps=40, gap=0.25, group_minute=60.0)
# Tiny, and with the group's minute compressed to 3 s so the pacing still happens quickly.
QUICK = Sizes(riders=1, relays=25, texts=30, helps=3, gap=0.05, group_minute=3.0)


class TimedRequest(FakeRequest):
    """FakeRequest that notes when each message leaves for Telegram, per chat."""

    __slots__ = ("sent",)

    def __init__(self, fake: FakeTelegram) -> None:
        super().__init__(fake)
        self.sent: dict[int, list[tuple[float, str]]] = {}

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        answer = await super().do_request(url, method, request_data, **kw)
        if request_data is not None and url.rsplit("/", 1)[-1] in ("sendMessage", "sendPhoto"):
            params = request_data.parameters
            chat = params.get("chat_id")
            if isinstance(chat, int):
                entry = (time.perf_counter(), str(params.get("text", "")))
                self.sent.setdefault(chat, []).append(entry)
        return answer


class OneAtATime(PerChatUpdateProcessor):
    """PTB's default handling, each update after the previous one (same per-rider limits)."""

    def __init__(self) -> None:
        super().__init__()
        BaseUpdateProcessor.__init__(self, 1)  # PTB's fetcher then awaits each update


@dataclass
class World:
    stage: Stage
    request: TimedRequest
    samples: list[float] = field(default_factory=list)

    @property
    def app(self) -> Application:
        return self.stage.app

    async def put(self, update: dict[str, Any]) -> None:
        await self.app.update_queue.put(Update.de_json(update, self.app.bot))

    async def help_time(self, person: Person, timeout: float = 120.0) -> float:
        """Send /help and wait for its answer; the server time it took."""
        start = time.perf_counter()
        await self.put(person.command("/help"))
        while not self.request.sent.get(person.id):
            if time.perf_counter() - start > timeout:
                raise SystemExit("no answer to /help within the timeout")
            await asyncio.sleep(0.001)
        return self.request.sent[person.id][0][0] - start


async def open_world(tmp: pathlib.Path, sizes: Sizes, sequential: bool) -> World:
    tmp.mkdir(parents=True, exist_ok=True)
    tg = FakeTelegram(token=TOKEN)
    chats, topics = make_world(tg)
    config = make_config(tmp, chats, topics)
    request = TimedRequest(tg)
    if sequential:
        bot.app.PerChatUpdateProcessor = OneAtATime  # type: ignore[misc]
    limiter = AIORateLimiter(max_retries=3, group_time_period=sizes.group_minute)
    app = build_application(config, TOKEN, request=request, rate_limit=limiter)
    await app.initialize()
    await on_startup(app)
    await app.start()
    return World(Stage(tg, config, app, None, chats, topics), request)  # type: ignore[arg-type]


async def close_world(world: World) -> None:
    await world.app.stop()  # waits for the flood's paced messages to leave
    await world.app.shutdown()
    await on_shutdown(world.app)


async def sample_helps(world: World, sizes: Sizes, label: str) -> list[float]:
    times = []
    for k in range(sizes.helps):
        times.append(
            await world.help_time(world.stage.tg.person(f"{label}{k}", language_code="en"))
        )
        await asyncio.sleep(sizes.gap)
    return times


async def until_free(world: World, person: int, started: float) -> float:
    """Seconds from `started` until nothing of this person's is waiting or running."""
    processor = world.app.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    await asyncio.sleep(0)
    while world.app.update_queue.qsize() or processor.busy(person):
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


def report_times(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    print(
        f"  {name}: /help answer time (server) median {statistics.median(ms):.1f} ms, "
        f"max {ms[-1]:.1f} ms over {len(ms)} samples; the first (sent as the flood began) "
        f"{times[0] * 1000:.1f} ms"
    )


async def relays(tmp: pathlib.Path, sizes: Sizes, sequential: bool) -> None:
    world = await open_world(tmp, sizes, sequential)
    stage = world.stage
    zhang = staff_of(stage, "dongguan", "张三")
    riders, asked = [], []
    for n in range(sizes.riders):
        rider = stage.person(f"骑手{n}")
        await report_quickly(stage, rider, caption=f"第{n + 1}处")
        card = card_of(stage, "dongguan", ticket=n + 1)
        await stage.send(zhang.reply(card, text="请问具体在几号楼？"))
        riders.append(rider)
        asked.append(rider.last_bot_message())
    group = stage.chats["dongguan"]
    before = len(world.request.sent.get(group, []))
    started = time.perf_counter()
    for i in range(sizes.relays):
        for rider, question in zip(riders, asked, strict=True):
            await world.put(rider.reply(question, text=f"补充说明{i}"))
    times = await sample_helps(world, sizes, "路人")
    sampled = time.perf_counter() - started
    await close_world(world)
    sent = world.request.sent.get(group, [])[before:]
    relayed_out = [at for at, text in sent if "骑手回复" in text]
    notices = sum(
        "发得太快" in text for r in riders for _, text in world.request.sent.get(r.id, [])
    )
    print(
        f"\n1. relays: {sizes.riders} rider(s) sent {sizes.relays} replies each; "
        f"{len(relayed_out)} were relayed to the group, the rest refused by the per-rider "
        f"limit ({notices} notices); /help sampled during the first {sampled:.1f} s"
    )
    if relayed_out:
        print(
            f"  the group got {len(sent)} messages (Telegram allows 20 per "
            f"{sizes.group_minute:g} s); the last relay left "
            f"{relayed_out[-1] - started:.1f} s after the flood began"
        )
    report_times("while relays wait for the group's pace", times)


async def texts(tmp: pathlib.Path, sizes: Sizes, sequential: bool) -> None:
    world = await open_world(tmp, sizes, sequential)
    rider = world.stage.person("刷屏者")
    started = time.perf_counter()
    for i in range(sizes.texts):
        await world.put(rider.text(f"第{i}条"))
    absorbed = asyncio.create_task(until_free(world, rider.id, started))
    times = await sample_helps(world, sizes, "路人")
    await world.app.update_queue.join()
    await close_world(world)
    answers = [text for _, text in world.request.sent.get(rider.id, [])]
    print(
        f"\n2. texts: the rider sent {sizes.texts} texts; they got {len(answers)} answers "
        f"({sum('发得太快' in a for a in answers)} of them the one notice to slow down); "
        f"the whole flood was handled in {await absorbed:.2f} s"
    )
    report_times("during the text flood", times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run (for the test-suite)")
    parser.add_argument(
        "--sequential", action="store_true", help="one update at a time, for comparison"
    )
    parser.add_argument("--riders", type=int, help="riders flooding replies in scenario 1")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.riders:
        sizes = dataclasses.replace(sizes, riders=args.riders)
    mode = "one at a time (PTB default)" if args.sequential else "per-chat order, side by side"
    print(f"bench_flood: updates handled {mode}; AIORateLimiter as in production")
    with tempfile.TemporaryDirectory(prefix="suishou-flood-") as tmp:
        await relays(pathlib.Path(tmp) / "relays", sizes, args.sequential)
        await texts(pathlib.Path(tmp) / "texts", sizes, args.sequential)


if __name__ == "__main__":
    asyncio.run(main())
