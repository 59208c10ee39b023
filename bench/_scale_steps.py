"""The timed steps of bench/bench_scale.py, run in a fresh process per database size.

Not meant to be run by hand (bench_scale.py starts it with a seeded database; the leading
underscore keeps tests/test_benchmarks.py from running it alone). Opens the database with
the application's engine (storage.db.create_engine: WAL, foreign keys) and the same
synthetic config, then times each step and writes the results as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import pathlib
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from _scale_world import NOW, scale_config  # noqa: E402
from sqlalchemy import event, func, select  # noqa: E402

from bot import texts  # noqa: E402
from bot.domain.desks import desk_at  # noqa: E402
from bot.intake.my_reports import MyReports  # noqa: E402
from bot.people.riders import RiderCtx  # noqa: E402
from bot.reporting.chart import ChartLabels, TrendPoint, render_digest_chart  # noqa: E402
from bot.reporting.digest import Digests, previous_week, week_label  # noqa: E402
from bot.reporting.digest_text import DigestWriter, chart_bars  # noqa: E402
from bot.reporting.figures import Figures  # noqa: E402
from bot.reporting.ledger import Ledger, parse_range  # noqa: E402
from bot.reporting.metrics import Metrics, Period, last_days  # noqa: E402
from bot.reporting.stats import Stats  # noqa: E402
from storage import riders  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.tables import reports  # noqa: E402

Step = Callable[[], Awaitable[Any]]
FIGURE_STEPS = ("stats community 30d", "stats county 30d", "digest, no chart", "/me")


class FixedClock:
    def now(self) -> Any:
        return NOW


class NoChart(DigestWriter):
    """The digest without its chart: the chart is timed on its own."""

    async def _chart(self, week: Any) -> bytes | None:
        return None


class TimedChart(DigestWriter):
    """The digest, recording how long its chart took (trend figures + rendering)."""

    chart_ms = 0.0

    async def _chart(self, week: Any) -> bytes | None:
        started = time.perf_counter()
        chart = await super()._chart(week)
        self.chart_ms = (time.perf_counter() - started) * 1000
        return chart


def peak_rss_mib() -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        pathlib.Path("/proc/self/clear_refs").write_text("5")


async def measure(fn: Step, repeat: int, inner: Callable[[], float] | None) -> dict[str, Any]:
    """Warm-up, then `repeat` timed runs; `inner` reads a time the step measured itself."""
    reset_peak_rss()
    out = await fn()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = await fn()
        timings.append(inner() if inner else (time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(timings), 2),
        "min_ms": round(min(timings), 2),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "out": out,
    }


def note(name: str, out: Any) -> str:
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], bytes):
        return f"{out[1]:,} rows, {len(out[0]):,} B"
    if isinstance(out, bytes):
        return f"PNG {len(out):,} B"
    if isinstance(out, list) and out and hasattr(out[0], "rows"):
        return f"{len(out[0].rows):,} rows"
    if isinstance(out, list):
        return f"{len(out)} digests, {sum(len(d.text) for d in out):,} chars"
    if hasattr(out, "replies"):
        return f"{sum(len(r.text) for r in out.replies):,} chars"
    return ""


async def run(
    path: pathlib.Path, communities: int, repeat: int, expected: dict, explain: bool
) -> dict:
    url = f"sqlite+aiosqlite:///{path}"
    config = scale_config(url, path.parent / "photos", communities)
    engine = create_engine(url)
    db = Database(engine)
    clock = FixedClock()
    tz = config.timezone
    figures = Figures(db)
    last30 = last_days(NOW, 30)
    await check(figures, last30, expected)

    month_start = NOW.astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with db.transaction() as conn:
        busiest = await conn.scalar(_busiest(reports.c.community_id, last30.start))
        rider_id = await conn.scalar(_busiest(reports.c.rider_id, month_start))
        rider = await riders.get(conn, rider_id)
    assert rider is not None
    community = config.community(busiest)
    assert community is not None
    sup = config.supervisors.chat
    county = desk_at(config, sup.chat_id, sup.topic_id)
    stats = Stats(config=config, db=db)
    week = previous_week(NOW, tz)
    plain, timed = NoChart(config, figures), TimedChart(config, figures)
    digests = Digests(config=config, db=db, outbox=None, clock=clock)  # type: ignore[arg-type]
    me = MyReports(config=config, db=db)
    ctx = RiderCtx(rider, config.language)
    ledger = Ledger(config=config, db=db, clock=clock)
    ledger_period = parse_range([], NOW.astimezone(tz).date(), tz)
    bars, trend, kwargs = await chart_inputs(config, figures, week)

    steps: list[tuple[str, Step, Callable[[], float] | None]] = [
        ("stats community 30d", lambda: stats.for_chat(*_at(community.chat), NOW, []), None),
        ("stats county 30d", lambda: stats.for_chat(sup.chat_id, sup.topic_id, NOW, []), None),
        ("digest, no chart", lambda: plain.build(week), None),
        ("digest chart", lambda: timed.build(week, only=county), lambda: timed.chart_ms),
        (
            "  render only",
            lambda: asyncio.to_thread(render_digest_chart, bars, trend, **kwargs),
            None,
        ),
        ("/digest community", lambda: digests.for_chat(*_at(community.chat)), None),
        ("/me", lambda: me.me(ctx, NOW), None),
        ("ledger sheets 30d", lambda: ledger.sheets(ledger_period), None),
        ("ledger csv 30d", lambda: ledger.export(ledger_period, "csv"), None),
        ("ledger xlsx 30d", lambda: ledger.export(ledger_period, "xlsx"), None),
    ]
    base_rss = peak_rss_mib()
    results: dict[str, Any] = {}
    for name, fn, inner in steps:
        r = await measure(fn, repeat, inner)
        r["note"] = note(name, r.pop("out"))
        results[name] = r
        print(f"    {name:<22} {r['median_ms']:>10.1f} ms", flush=True)
    if explain:
        await explain_steps(engine, path, [(n, f) for n, f, _ in steps if n in FIGURE_STEPS])
        await explain_steps(engine, path, [("ledger sheets 30d", steps[7][1])])
    await db.close()
    return {
        "busiest_community": busiest,
        "rider": rider_id,
        "base_rss_mib": round(base_rss, 1),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in results.values()),
        "steps": results,
    }


def _busiest(column: Any, since: Any) -> Any:
    r = reports.c
    return (
        select(column)
        .where(r.created_at >= since, r.created_at < NOW, column.isnot(None))
        .group_by(column)
        .order_by(func.count().desc(), column)
        .limit(1)
    )


def _at(chat: Any) -> tuple[int, int | None]:
    return chat.chat_id, chat.topic_id


async def check(figures: Figures, period: Period, expected: dict[str, int]) -> None:
    """The application must read back what the generator wrote, or the timings mean nothing."""
    total = (await figures.tallies(period, durations=False)).total
    found = {k: getattr(total, k) for k in expected}
    if found != expected:
        sys.exit(f"county 30-day figures {found} differ from the generated data {expected}")
    print(f"    check: county 30 days {found} as generated", flush=True)


async def chart_inputs(config: Any, figures: Figures, week: Period) -> tuple:
    """Bars and trend as the digest draws them, for timing the rendering alone."""
    lang = config.language
    counted = await figures.tallies(week, durations=False)
    bars, _ = chart_bars(config, counted)  # as many bars as the digest draws (at most 40)
    trend = []
    for back in range(config.digest.trend_weeks - 1, -1, -1):
        start = week.start - timedelta(days=7 * back)
        period = Period(start, start + timedelta(days=7))
        m = Metrics.of((await figures.tallies(period, durations=False)).total)
        trend.append(
            TrendPoint(week_label(period, config.timezone), m.closure_rate, m.on_time_rate)
        )
    labels = ChartLabels(
        closure=texts.t(lang, "chart.closure"),
        on_time=texts.t(lang, "chart.on_time"),
        by_community=texts.t(lang, "chart.by_community"),
        trend=texts.t(lang, "chart.trend"),
        no_data=texts.t(lang, "chart.no_data"),
    )
    return bars, trend, {"title": texts.t(lang, "chart.title", week="W"), "labels": labels}


async def explain_steps(engine: Any, path: pathlib.Path, steps: list[tuple[str, Step]]) -> None:
    """EXPLAIN QUERY PLAN of each statement a step runs, flagging full scans of a table,
    with the statement's own time in SQLite (so SQL and Python can be told apart)."""
    captured: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, params))

    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        for name, fn in steps:
            captured.clear()
            await fn()
            print(f"\n  EXPLAIN QUERY PLAN: {name} ({len(captured)} statements)")
            for statement, params in captured:
                plan = raw.execute(f"EXPLAIN QUERY PLAN {statement}", params).fetchall()
                head = " ".join(statement.split())[:100]
                scans = [d for *_, d in plan if _full_scan(d)]
                flag = "  <-- FULL SCAN: " + "; ".join(scans) if scans else ""
                print(f"    {_sql_ms(raw, statement, params):>7.1f} ms  {head}...{flag}")
                for _id, _parent, _unused, detail in plan:
                    print(f"        {detail}")
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
        raw.close()


def _sql_ms(raw: sqlite3.Connection, statement: str, params: Any) -> float:
    """The statement alone in SQLite (stdlib driver, rows fetched): the best of three."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        raw.execute(statement, params).fetchall()
        timings.append((time.perf_counter() - started) * 1000)
    return min(timings)


def _full_scan(detail: str) -> bool:
    """A scan of a stored table or of a whole index (not of a subquery's rows)."""
    words = detail.split()
    return len(words) > 1 and words[0] == "SCAN" and words[1] in ("reports", "events", "riders")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--communities", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--expected", required=True, help="JSON: county 30-day counts")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    expected = json.loads(args.expected)
    result = asyncio.run(run(args.database, args.communities, args.repeat, expected, args.explain))
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
