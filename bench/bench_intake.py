"""Benchmark the whole bot end to end: rider intake, staff casework and /stats.

Run from the repository root: ``python bench/bench_intake.py [--reports N]`` (``--quick``: 10
reports, what tests/test_benchmarks.py runs). It builds the same stage as the tests
(tests/conftest.py): a fresh fake Telegram with the example county's dispatcher groups, the
example configuration pointing at them, an SQLite file database in a temporary directory and
the real ``telegram.ext.Application`` (job queue included) talking to the fake through
``FakeRequest``. Updates are fed with ``Application.process_update``.

Phases, each timed per update (only the ``process_update`` call is timed; building the update,
which in the fake re-encodes the rider's photo like Telegram does, is not):

1. intake: N riders each make one report (photo → location → category → submit), spread over
   a 200 m grid in every community's area (and outside all of them) so routing varies and
   duplicates ("similar report nearby") are rare; when one is asked, "不是同一个，继续提交"
   is pressed and timed separately.
2. staff: for every report, the community's staff member presses Accept, then Resolve, and
   replies to the bot's prompt with a note.
3. /stats in the supervisors' chat (and, for comparison, in one community chat) over all N.
4. cProfile on a handful of extra submits: the top functions of the bot's own code.

The fake Telegram runs in-process, so its work (e.g. re-encoding the card's photo on
sendPhoto) is inside the timed window; it is measured separately ("fake ms") and so is the
time SQLAlchemy spends executing statements ("sql ms"), so the rest is the bot + PTB.
The machine may be noisy: the figures are from one run; compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pathlib
import platform
import pstats
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import sqlalchemy  # noqa: E402
import telegram  # noqa: E402
from sqlalchemy import event  # noqa: E402

from tests.conftest import (  # noqa: E402
    TOKEN,
    FakeClock,
    Stage,
    make_config,
    make_world,
    start_app,
    stop_app,
    wgs,
)
from tests.fake_telegram import FakeTelegram, Person, TgMessage  # noqa: E402
from tests.images import jpeg  # noqa: E402

CATEGORIES = ("🧹 环境卫生", "🔥 消防安全", "🚨 社会治安")
CONTINUE = "不是同一个，继续提交"
SUBMIT = "✅ 提交"
ACCEPT = "✋ 受理"
RESOLVE = "✅ 办结"
OWN_CODE = tuple(str(REPO_ROOT / d) for d in ("bot", "handlers", "storage"))
METRES_PER_DEG_LAT = 111_320.0
GRID_M = 200.0  # > duplicate_radius_m (150) in the example configuration


# ----------------------------------------------------------------------------- the county


def _grid(
    lon0: float, lat0: float, lon1: float, lat1: float, keep: Callable[[float, float], bool]
) -> list[tuple[float, float]]:
    """GCJ-02 points (lon, lat) on a GRID_M grid inside a box, filtered by `keep`."""
    dlat = GRID_M / METRES_PER_DEG_LAT
    dlon = GRID_M / (METRES_PER_DEG_LAT * 0.8085)  # cos(36.1°)
    points = []
    lat = lat0
    while lat <= lat1:
        lon = lon0
        while lon <= lon1:
            if keep(lon, lat):
                points.append((lon, lat))
            lon += dlon
        lat += dlat
    return points


def _near(centre: tuple[float, float], radius_m: float) -> Callable[[float, float], bool]:
    def keep(lon: float, lat: float) -> bool:
        dx = (lon - centre[0]) * METRES_PER_DEG_LAT * 0.8085
        dy = (lat - centre[1]) * METRES_PER_DEG_LAT
        return (dx * dx + dy * dy) ** 0.5 <= radius_m

    return keep


def _everywhere(_lon: float, _lat: float) -> bool:
    return True


def county_areas() -> dict[str, list[tuple[float, float]]]:
    """Grid points per area of config.example.toml (GCJ-02), kept off the edges."""
    return {
        # Boundary boxes, 60 m inside the edges.
        "dongguan": _grid(113.2068, 36.1055, 113.2174, 36.1163, _everywhere),
        "xiguan": _grid(113.1948, 36.1055, 113.2054, 36.1163, _everywhere),
        # 南街: 700 m around its centre, south of the two boxes (which start at 36.1049).
        "nanjie": _grid(113.1985, 36.0930, 113.2137, 36.1040, _near((113.2061, 36.0989), 600)),
        # North of town, 1.5–3 km from the fire station's centre: only the station (fire)
        # covers it; sanitation and order reports there go to the supervisors.
        "north": _grid(113.1941, 36.1260, 113.2181, 36.1380, _everywhere),
        # Far outside every area: the supervisors.
        "far": _grid(113.4900, 36.3950, 113.5100, 36.4100, _everywhere),
    }


def plan_reports(n: int) -> list[tuple[str, Any, str]]:
    """(area, WGS-84 point, category button) for n reports, interleaved over the areas.

    Every (point, category) pair is used once before any repeats, so a duplicate question
    only comes up when n exceeds the grid's capacity (a few hundred).
    """
    weights = {"dongguan": 3, "xiguan": 3, "nanjie": 2, "north": 1, "far": 1}
    areas = county_areas()
    pools: dict[str, Iterator[tuple[tuple[float, float], str]]] = {}

    def cycle(points: list[tuple[float, float]]) -> Iterator[tuple[tuple[float, float], str]]:
        rnd = 0
        while True:
            for cat_shift in range(len(CATEGORIES)):
                for i, p in enumerate(points):
                    yield p, CATEGORIES[(i + cat_shift + rnd) % len(CATEGORIES)]
            rnd += 1

    for name, points in areas.items():
        pools[name] = cycle(points)
    order = [name for name, w in weights.items() for _ in range(w)]
    plan = []
    for i in range(n):
        area = order[i % len(order)]
        (lon, lat), category = next(pools[area])
        plan.append((area, wgs(lat, lon), category))
    return plan


def photo_for(i: int) -> bytes:
    """A different small JPEG for every report (content hash differs)."""
    colour = ((37 * i) % 256, (91 * i + 80) % 256, (53 * i + 40) % 256)
    return jpeg(640, 480, colour, seed=i)


# ----------------------------------------------------------------------------- measuring


@dataclass
class Meter:
    """Wall time per update kind, with the part spent in the fake and in SQL statements."""

    wall: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    fake: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    sql: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    stmts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    calls: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Running counters, bumped by the hooks below.
    fake_s: float = 0.0
    sql_s: float = 0.0
    n_stmts: int = 0
    n_calls: int = 0

    async def timed(self, kind: str, stage: Stage, update: dict[str, Any]) -> float:
        f0, s0, q0, c0 = self.fake_s, self.sql_s, self.n_stmts, self.n_calls
        started = time.perf_counter()
        await stage.send(update)
        elapsed = time.perf_counter() - started
        self.wall[kind].append(elapsed * 1000)
        self.fake[kind].append((self.fake_s - f0) * 1000)
        self.sql[kind].append((self.sql_s - s0) * 1000)
        self.stmts[kind].append(self.n_stmts - q0)
        self.calls[kind].append(self.n_calls - c0)
        return elapsed


def hook_fake(tg: FakeTelegram, meter: Meter) -> None:
    """Time every Bot API call and file download the bot makes into the fake."""
    handle, file_request = tg.handle, tg.file_request

    def timed_handle(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return handle(*args, **kwargs)
        finally:
            meter.fake_s += time.perf_counter() - started
            meter.n_calls += 1

    def timed_file(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return file_request(*args, **kwargs)
        finally:
            meter.fake_s += time.perf_counter() - started
            meter.n_calls += 1

    tg.handle = timed_handle  # type: ignore[method-assign]
    tg.file_request = timed_file  # type: ignore[method-assign]


def hook_sql(stage: Stage, meter: Meter) -> None:
    """Time SQL statements (including aiosqlite's thread hop) through engine events."""
    engine = stage.services.db.engine.sync_engine
    starts: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(*_args: Any) -> None:
        starts.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(*_args: Any) -> None:
        if starts:
            meter.sql_s += time.perf_counter() - starts.pop()
            meter.n_stmts += 1


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def table(meter: Meter, kinds: list[str], title: str) -> None:
    print(f"\n{title}")
    head = (
        f"{'update':<18}{'n':>5}{'median ms':>11}{'p90 ms':>9}{'max ms':>9}"
        f"{'fake ms':>9}{'sql ms':>8}{'stmts':>7}{'api calls':>11}"
    )
    print(head)
    print("-" * len(head))
    for kind in kinds:
        wall = meter.wall.get(kind)
        if not wall:
            continue
        print(
            f"{kind:<18}{len(wall):>5}{statistics.median(wall):>11.1f}{pct(wall, 90):>9.1f}"
            f"{max(wall):>9.1f}{statistics.median(meter.fake[kind]):>9.1f}"
            f"{statistics.median(meter.sql[kind]):>8.1f}"
            f"{statistics.median(meter.stmts[kind]):>7.0f}"
            f"{statistics.median(meter.calls[kind]):>11.0f}"
        )
    print("(fake/sql/stmts/api calls: medians per update; fake = in-process fake Telegram)")


# ----------------------------------------------------------------------------- the fake's chats


def new_bot_messages(tg: FakeTelegram, chat_id: int, after: int) -> list[TgMessage]:
    """The bot's messages in a chat with message_id > after (O(new), unlike bot_messages)."""
    with tg._lock:
        chat = tg._chats[chat_id]
        found = []
        for message_id in range(chat.next_id - 1, after, -1):
            m = chat.messages.get(message_id)
            if m is not None and not m.deleted and m.json["from"]["id"] == tg.bot_id:
                found.append(tg._snapshot(m))
        return found[::-1]


def last_id(tg: FakeTelegram, chat_id: int) -> int:
    with tg._lock:
        return tg._chats[chat_id].next_id - 1


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Ticket:
    number: int
    chat: str  # key of Stage.chats where the card stands
    card: TgMessage


# ----------------------------------------------------------------------------- phases


async def report_one(
    stage: Stage, meter: Meter, rider: Person, photo: bytes, point: Any, category: str
) -> float:
    """One complete report; returns the timed wall seconds."""
    spent = await meter.timed("photo", stage, rider.photo(photo))
    spent += await meter.timed("location", stage, rider.location(point.lat, point.lon))
    ask = rider.last_bot_message()
    spent += await meter.timed("category press", stage, rider.press(ask, category))
    summary = rider.last_bot_message()
    if CONTINUE in buttons(summary):
        spent += await meter.timed("dup: continue", stage, rider.press(summary, CONTINUE))
        summary = rider.last_bot_message()
    spent += await meter.timed("submit press", stage, rider.press(summary, SUBMIT))
    return spent


def find_card(stage: Stage, marks: dict[str, int], number: int) -> Ticket:
    """The card of ticket #number among the messages posted since `marks`."""
    tg = stage.tg
    for name, chat_id in stage.chats.items():
        for m in new_bot_messages(tg, chat_id, marks[name]):
            said = m.get("text") or m.get("caption") or ""  # one photo: the card is it
            if f"工单 #{number} ·" in said.split("\n", 1)[0] and "\n" in said:
                return Ticket(number, name, m)
    raise AssertionError(f"no card for #{number}")


async def intake_phase(
    stage: Stage, meter: Meter, n: int
) -> tuple[list[Ticket], dict[str, int], float]:
    plan = plan_reports(n)
    photos = [photo_for(i) for i in range(n)]
    tickets: list[Ticket] = []
    routed: dict[str, int] = defaultdict(int)
    timed_total = 0.0
    for i, (_area, point, category) in enumerate(plan):
        rider = stage.person(f"骑手{i:04d}")
        marks = {name: last_id(stage.tg, cid) for name, cid in stage.chats.items()}
        timed_total += await report_one(stage, meter, rider, photos[i], point, category)
        done = rider.last_bot_message()["text"]
        if "工单号 #" not in done:
            raise AssertionError(f"report {i} not submitted: {done!r}")
        number = int(done.split("工单号 #", 1)[1].split()[0].rstrip("，。,"))
        ticket = find_card(stage, marks, number)
        routed[ticket.chat] += 1
        tickets.append(ticket)
        stage.clock.advance(seconds=30)
        if (i + 1) % 50 == 0:
            print(f"  intake: {i + 1}/{n}", flush=True)
    return tickets, dict(routed), timed_total


async def staff_phase(stage: Stage, meter: Meter, tickets: list[Ticket]) -> float:
    tg = stage.tg
    staff = {}
    for name, chat_id in stage.chats.items():
        person = tg.person(f"{name}值班员")
        tg.add_member(chat_id, person)
        staff[name] = person
    timed_total = 0.0
    for i, ticket in enumerate(tickets):
        person, chat_id = staff[ticket.chat], stage.chats[ticket.chat]
        card = ticket.card
        timed_total += await meter.timed("accept press", stage, person.press(card, ACCEPT))
        stage.clock.advance(minutes=2)
        mark = last_id(tg, chat_id)
        timed_total += await meter.timed("resolve press", stage, person.press(card, RESOLVE))
        prompts = [m for m in new_bot_messages(tg, chat_id, mark) if "回复本条消息" in m["text"]]
        if not prompts:
            raise AssertionError(f"no resolve prompt for #{ticket.number}")
        reply = person.reply(prompts[-1], text=f"已处理 #{ticket.number}")
        timed_total += await meter.timed("resolve reply", stage, reply)
        now = tg.message(chat_id, card["message_id"])
        said = now.get("text") or now.get("caption") or ""
        if "已办结" not in said:
            raise AssertionError(f"#{ticket.number} not resolved: {said[:80]!r}")
        if (i + 1) % 50 == 0:
            print(f"  staff: {i + 1}/{len(tickets)}", flush=True)
    return timed_total


async def stats_phase(stage: Stage, meter: Meter, runs: int) -> dict[str, str]:
    tg = stage.tg
    answers = {}
    for chat in ("supervisors", "dongguan"):
        person = tg.person(f"{chat}统计员")
        tg.add_member(stage.chats[chat], person)
        group = tg.chat(stage.chats[chat])
        for _ in range(runs):
            mark = last_id(tg, stage.chats[chat])
            await meter.timed(f"/stats {chat}", stage, person.command("/stats", chat=group))
            answer = new_bot_messages(tg, stage.chats[chat], mark)
            answers[chat] = answer[-1]["text"] if answer else "(no answer)"
    return answers


async def profile_submits(
    stage: Stage, n_profiled: int, offset: int
) -> tuple[str, str, float, str]:
    """cProfile the submit presses (and, separately, the photos) of a few extra reports."""
    plan = plan_reports(offset + n_profiled)[offset:]
    profiler, photo_profiler = cProfile.Profile(), cProfile.Profile()
    wall = 0.0
    for j, (_area, point, category) in enumerate(plan):
        rider = stage.person(f"剖析骑手{j}")
        update = rider.photo(photo_for(offset + j))
        photo_profiler.enable()
        await stage.send(update)
        photo_profiler.disable()
        await stage.send(rider.location(point.lat, point.lon))
        await stage.send(rider.press(rider.last_bot_message(), category))
        summary = rider.last_bot_message()
        if CONTINUE in buttons(summary):
            await stage.send(rider.press(summary, CONTINUE))
            summary = rider.last_bot_message()
        update = rider.press(summary, SUBMIT)
        started = time.perf_counter()
        profiler.enable()
        await stage.send(update)
        profiler.disable()
        wall += time.perf_counter() - started
    stats = pstats.Stats(profiler)
    own = _top(stats, lambda fn: fn.startswith(OWN_CODE), 12)
    every = _top(stats, lambda fn: True, 12, tottime=True)
    photo_own = _top(pstats.Stats(photo_profiler), lambda fn: fn.startswith(OWN_CODE), 8)
    return own, every, wall, photo_own


def _top(
    stats: pstats.Stats, keep: Callable[[str], bool], limit: int, tottime: bool = False
) -> str:
    rows = []
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, line, func), (_cc, ncalls, tt, ct, _callers) in entries:
        if keep(filename):
            rows.append((tt if tottime else ct, ncalls, tt, ct, filename, line, func))
    rows.sort(reverse=True)
    out = io.StringIO()
    key = "tottime" if tottime else "cumtime"
    out.write(f"{'calls':>7}{'tottime ms':>12}{'cumtime ms':>12}  function (sorted by {key})\n")
    for _key, ncalls, tt, ct, filename, line, func in rows[:limit]:
        path = pathlib.Path(filename)
        try:
            shown = str(path.relative_to(REPO_ROOT))
        except ValueError:
            parts = path.parts
            shown = "/".join(parts[-3:]) if len(parts) >= 3 else filename
        out.write(f"{ncalls:>7}{tt * 1000:>12.1f}{ct * 1000:>12.1f}  {shown}:{line} {func}\n")
    return out.getvalue()


# ----------------------------------------------------------------------------- main


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def size_mib(path: pathlib.Path) -> float:
    return path.stat().st_size / (1024 * 1024) if path.exists() else 0.0


async def run(n: int, stats_runs: int, n_profiled: int) -> None:
    with tempfile.TemporaryDirectory(prefix="suishou-bench-") as tmp:
        tmp_path = pathlib.Path(tmp)
        tg = FakeTelegram(token=TOKEN)
        chats, topics = make_world(tg)
        config = make_config(tmp_path, chats, topics)
        clock = FakeClock()
        started = time.perf_counter()
        app = await start_app(config, tg, clock)
        stage = Stage(tg, config, app, clock, chats, topics)
        print(
            f"start-up (migrations, commands, chat checks): "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )
        meter = Meter()
        hook_fake(tg, meter)
        hook_sql(stage, meter)
        try:
            phase = time.perf_counter()
            tickets, routed, timed = await intake_phase(stage, meter, n)
            intake_wall = time.perf_counter() - phase
            table(
                meter,
                ["photo", "location", "category press", "dup: continue", "submit press"],
                f"Intake: {n} riders, one report each",
            )
            print(
                f"routed: {', '.join(f'{k} {v}' for k, v in sorted(routed.items()))}; "
                f"duplicate questions: {len(meter.wall.get('dup: continue', []))}"
            )
            print(
                f"throughput: {n / timed:.1f} reports/s counting process_update only "
                f"({timed:.1f} s), {n / intake_wall:.1f} reports/s with the harness "
                f"({intake_wall:.1f} s)"
            )

            phase = time.perf_counter()
            timed = await staff_phase(stage, meter, tickets)
            staff_wall = time.perf_counter() - phase
            table(
                meter,
                ["accept press", "resolve press", "resolve reply"],
                f"Staff: accept + resolve (prompt reply) for the {n} reports",
            )
            print(
                f"throughput: {n / timed:.1f} reports closed/s counting process_update "
                f"only ({timed:.1f} s), {n / staff_wall:.1f}/s with the harness "
                f"({staff_wall:.1f} s)"
            )

            answers = await stats_phase(stage, meter, stats_runs)
            table(
                meter,
                ["/stats supervisors", "/stats dongguan"],
                f"/stats over all {n} reports ({stats_runs} runs each)",
            )
            first = answers["supervisors"].split("\n")
            print("supervisors' answer begins: " + " | ".join(first[:3]))

            own, every, wall, photo_own = await profile_submits(stage, n_profiled, offset=n)
            print(
                f"\ncProfile of {n_profiled} extra submit presses "
                f"({wall * 1000 / n_profiled:.1f} ms each under the profiler). "
                "cProfile sees only the main thread: time waiting for aiosqlite's "
                "worker thread is not charged to the coroutine that awaits it."
            )
            print("Bot's own code (bot/, handlers/, storage/), top by cumulative time:")
            print(own, end="")
            print("Everything, top by own (tottime) time:")
            print(every, end="")
            print(
                f"For comparison, the {n_profiled} photo updates of those reports, "
                "bot's own code by cumulative time:"
            )
            print(photo_own, end="")
        finally:
            await stop_app(app)
        db = tmp_path / "suishou.db"
        photos = sum(p.stat().st_size for p in (tmp_path / "photos").rglob("*") if p.is_file())
        print(
            f"\npeak RSS {peak_rss_mib():.0f} MiB | DB {size_mib(db):.2f} MiB "
            f"(+ WAL {size_mib(tmp_path / 'suishou.db-wal'):.2f} MiB at exit) | "
            f"photo store {photos / (1024 * 1024):.1f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200, help="riders, one report each")
    parser.add_argument("--stats-runs", type=int, default=5, help="/stats repetitions")
    parser.add_argument("--profile", type=int, default=10, help="extra submits to cProfile")
    parser.add_argument(
        "--quick", action="store_true", help="10 reports, one /stats, 2 profiled (for the tests)"
    )
    args = parser.parse_args()
    if args.quick:
        args.reports, args.stats_runs, args.profile = 10, 1, 2
    print(
        f"Python {platform.python_version()}, python-telegram-bot {telegram.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}; {args.reports} reports"
    )
    total = time.perf_counter()
    asyncio.run(run(args.reports, args.stats_runs, args.profile))
    print(f"total run time {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    main()
