"""Benchmark the console's reads at scale: the queue, its tab counts, a report's page, the map.

Run from the repository root:
    .venv/bin/python bench/bench_console.py                    # 1,000,000 reports, SQLite
    .venv/bin/python bench/bench_console.py --pg               # the same on PostgreSQL too
    .venv/bin/python bench/bench_console.py --quick            # 3,000 reports (tests)
Issue 11's targets at 1M reports: queue and report pages under 100 ms of server time, the
map's data for a viewport under 100 ms. Server time is measured twice: the storage call, from
the statement sent to the Python rows made, through the application's engine (SQLite: WAL, no
ANALYZE, as the bot runs it); then the whole page through the app, in-process
(bench/_console_pages.py: a desk's staff member and a supervisor signed in).
Each step: one warm-up, then median and p95 of --repeat runs.
The county is bench/_console_world.py's. With --pg, a database of its own is made on
127.0.0.1:5432 (or SUISHOU_TEST_DATABASE_URL's server, which also turns --pg on), named
SUISHOU_BENCH_PG_DATABASE if set, and dropped at the end (unless --keep-pg).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

import _console_world as world  # noqa: E402
from _console_pages import run_pages  # noqa: E402
from _pg_database import own_database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from storage import map_points, queue, report_page  # noqa: E402
from storage.db import create_engine, migrate  # noqa: E402
from storage.figures import EVERY, Scope  # noqa: E402
from storage.map_points import BBox  # noqa: E402
from storage.queue import Cursor, Group, Order  # noqa: E402
from storage.tables import reports  # noqa: E402

# The server of the test suite's PostgreSQL runs (tests/databases.py), else the local one.
PG_SERVER = os.environ.get("SUISHOU_TEST_DATABASE_URL", "").strip() or (
    "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# Sessions sharing a server each name their own (SUISHOU_BENCH_PG_DATABASE).
PG_DATABASE = os.environ.get("SUISHOU_BENCH_PG_DATABASE", "suishou_bench_console")
DEEP = 2000  # the deep page starts after this many rows (page 41)


def quantiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]


class Bench:
    def __init__(self, engine: AsyncEngine, repeat: int, only: str) -> None:
        self.engine = engine
        self.repeat = repeat
        self.only = only
        self.figures: list[tuple[str, float, float, str]] = []

    async def time(self, label: str, step: Callable[[Any, int], Awaitable[Any]]) -> None:
        """Run `step(conn, i)` once to warm up, then --repeat times; print median and p95."""
        if self.only not in label:
            return
        times = []
        async with self.engine.connect() as conn:
            found = await step(conn, 0)
            for i in range(1, self.repeat + 1):
                t0 = time.perf_counter()
                found = await step(conn, i)
                times.append((time.perf_counter() - t0) * 1000)
        median, p95 = quantiles(times)
        what = _size(found)
        self.figures.append((label, median, p95, what))
        print(f"  {label:<46} {median:8.1f} {p95:8.1f}   {what}", flush=True)


def _size(found: Any) -> str:
    if isinstance(found, queue.Page):
        return f"{len(found.rows)} rows"
    if isinstance(found, map_points.Viewport):
        if found.clusters:
            total = sum(c.count for c in found.clusters)
            if found.sample > 1:
                return f"{len(found.clusters)} clusters of ≈{total} (1 in {found.sample} counted)"
            return f"{len(found.clusters)} clusters of {total}"
        return f"{len(found.points)} points"
    if isinstance(found, dict):
        return " ".join(f"{g.value}={c.count}{'+' if c.capped else ''}" for g, c in found.items())
    if isinstance(found, report_page.ReportPage):
        return f"{len(found.timeline)} events, {len(found.thread)} replies"
    return ""


async def busiest(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(reports.c.community_id)
                .where(reports.c.community_id.is_not(None))
                .group_by(reports.c.community_id)
                .order_by(func.count().desc())
                .limit(1)
            )
        ).one()
    return str(row[0])


async def run_steps(
    engine: AsyncEngine, url: str, folder: Path, n: int, repeat: int, only: str
) -> None:
    """The storage calls, then the pages through the app (bench/_console_pages.py)."""
    bench = Bench(engine, repeat, only)
    now = world.NOW
    desk = await busiest(engine)
    print(f"  {'step (ms)':<46} {'median':>8} {'p95':>8}   answer")
    scopes: list[tuple[str, Scope]] = [(f"desk {desk}", desk), ("county", EVERY)]
    for name, scope in scopes:
        for group in [*Group, None]:
            for order in Order:
                label = f"{name}: {group.value if group else 'all'}, {order.value}"

                async def first(
                    conn: Any, i: int, s: Scope = scope, g: Any = group, o: Order = order
                ) -> Any:
                    return await queue.page(conn, scope=s, now=now, group=g, order=o)

                await bench.time(f"{label}, page 1", first)
                if only not in label:
                    continue
                async with engine.connect() as conn:
                    ahead = await queue.page(
                        conn, scope=scope, now=now, group=group, order=order, size=DEEP
                    )
                if ahead.next is None:
                    continue
                cursor: Cursor = ahead.next

                async def deep(
                    conn: Any,
                    i: int,
                    s: Scope = scope,
                    g: Any = group,
                    o: Order = order,
                    c: Cursor = cursor,
                ) -> Any:
                    return await queue.page(conn, scope=s, now=now, group=g, order=o, after=c)

                await bench.time(f"{label}, page {DEEP // queue.PAGE_SIZE + 1}", deep)

        async def fire(conn: Any, i: int, s: Scope = scope) -> Any:
            return await queue.page(conn, scope=s, now=now, group=Group.NEW, category="fire")

        async def ticket(conn: Any, i: int, s: Scope = scope) -> Any:
            return await queue.page(conn, scope=s, now=now, ticket=n - 7 * i)

        async def tabs(conn: Any, i: int, s: Scope = scope) -> Any:
            return await queue.counts(conn, scope=s, now=now)

        await bench.time(f"{name}: new + category fire, page 1", fire)
        await bench.time(f"{name}: ticket number", ticket)
        await bench.time(f"{name}: tab counts (cap {queue.COUNT_CAP})", tabs)

    async def page(conn: Any, i: int) -> Any:
        rid = world.FULL_EVERY * max(1, (n // world.FULL_EVERY) - 37 * i)
        return await report_page.read(conn, rid, EVERY)

    await bench.time("report page (5 events, a photo)", page)

    county = BBox(*world.COUNTY_BOX)
    lat, lon = world.centre(0)
    street = BBox(lat - 0.0025, lon - 0.003, lat + 0.0025, lon + 0.003)  # ~550 × 550 m
    month, week = now - timedelta(days=30), now - timedelta(days=7)
    open_groups = frozenset({Group.NEW, Group.ACCEPTED, Group.OVERDUE})
    maps: list[tuple[str, BBox, dict[str, Any]]] = [
        ("map city-wide, open now", county, {"groups": open_groups}),
        ("map city-wide, overdue", county, {"groups": frozenset({Group.OVERDUE})}),
        ("map city-wide, last 30 days", county, {"since": month}),
        ("map city-wide, 7 days, fire", county, {"since": week, "category": "fire"}),
        ("map city-wide, whole year", county, {}),
        (f"map city-wide, desk {desk}, 30 days", county, {"since": month, "scope": desk}),
        ("map street-level, 30 days", street, {"since": month}),
        ("map street-level, whole year", street, {}),
    ]
    for label, box, filters in maps:

        async def view(conn: Any, i: int, b: BBox = box, f: Any = filters) -> Any:
            return await map_points.viewport(conn, b, now=now, **f)

        await bench.time(label, view)
    await run_pages(url, folder, desk, repeat, only, quantiles)


async def on_sqlite(n: int, repeat: int, keep: Path | None, only: str) -> None:
    folder = keep or Path(tempfile.mkdtemp(prefix="bench-console-"))
    path = folder / f"console-{n}.db"
    if not path.exists():
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        await engine.dispose()
        t0 = time.perf_counter()
        world.seed_sqlite(path, n)
        print(f"seeded {n:,} reports in {time.perf_counter() - t0:.0f} s ({path})")
    print(f"SQLite, {n:,} reports, {path.stat().st_size / 2**20:.0f} MiB")
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await run_steps(engine, f"sqlite+aiosqlite:///{path}", folder, n, repeat, only)
    finally:
        await engine.dispose()
        if keep is None:
            shutil.rmtree(folder)


async def on_postgresql(n: int, repeat: int, keep: bool, only: str) -> None:
    async with own_database(PG_SERVER, PG_DATABASE, keep=keep) as db:
        if db.fresh:
            engine = create_engine(db.url)
            await migrate(engine)
            await engine.dispose()
            t0 = time.perf_counter()
            await world.seed_postgresql(db.dsn, n)
            print(f"seeded {n:,} reports in {time.perf_counter() - t0:.0f} s")
        print(f"PostgreSQL, {n:,} reports (database {PG_DATABASE})")
        engine = create_engine(db.url)
        try:
            with tempfile.TemporaryDirectory(prefix="bench-console-pg-") as folder:
                await run_steps(engine, db.url, Path(folder), n, repeat, only)
        finally:
            await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="reports (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per step")
    parser.add_argument(
        "--pg",
        action="store_true",
        default=PG_SERVER.startswith("postgresql") and "SUISHOU_TEST_DATABASE_URL" in os.environ,
        help="PostgreSQL too (SUISHOU_TEST_DATABASE_URL's server, else 127.0.0.1:5432)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the SQLite file here")
    parser.add_argument("--keep-pg", action="store_true", help="keep (and reuse) the PG database")
    parser.add_argument("--only", default="", help="only the steps whose name has this")
    parser.add_argument("--quick", action="store_true", help="3,000 reports, 3 runs (tests)")
    args = parser.parse_args()
    n, repeat = (3000, 3) if args.quick else (args.n, args.repeat)
    if not args.no_sqlite:
        asyncio.run(on_sqlite(n, repeat, args.keep, args.only))
    if args.pg or args.no_sqlite:
        asyncio.run(on_postgresql(n, repeat, args.keep_pg, args.only))


if __name__ == "__main__":
    main()
