"""Benchmark the county's pages in the console, end to end through the web app (in-process).

Run from the repository root:
    .venv/bin/python bench/bench_county.py                 # 1,000,000 reports, SQLite
    .venv/bin/python bench/bench_county.py -n 200000 --keep /tmp/county
    .venv/bin/python bench/bench_county.py --quick         # 3,000 reports (tests)
    .venv/bin/python bench/bench_county.py --pg --keep-pg --only figures   # PostgreSQL
The county is bench/_console_world.py's (20 communities, a year of reports before its NOW),
configured as 20 communities with a centre and a radius. Each step is an HTTP GET through
the Starlette app (httpx's ASGI transport): session check, the core's figures or queries,
the page or file or GeoJSON made. One warm-up, then median and p95 of --repeat runs. The
chart is kept a minute (handlers/web/console/county.py `recent`): one step times it kept,
another drawn anew each time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

import _console_world as world  # noqa: E402
import asyncpg  # noqa: E402
import httpx  # noqa: E402
from _pg_database import own_database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot.config import parse_config  # noqa: E402
from bot.delivery.outbox import WEB  # noqa: E402
from bot.offline import NoMembers  # noqa: E402
from bot.services import Services  # noqa: E402
from handlers import web  # noqa: E402
from handlers.web.courier import WebCourier  # noqa: E402
from storage.db import create_engine, migrate  # noqa: E402
from storage.tables import reports  # noqa: E402

BASE = "http://127.0.0.1:8080"
# The server of the test suite's PostgreSQL runs (tests/databases.py), else the local one.
PG_SERVER = os.environ.get("SUISHOU_TEST_DATABASE_URL", "").strip() or (
    "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PG_DATABASE = "suishou_bench_county"
REJECTED_REASON = (
    "UPDATE reports SET close_reason = 'no_info' WHERE outcome = 'rejected' "
    "AND close_reason IS NULL"
)


class Fixed:
    def now(self) -> datetime:
        return world.NOW


def config_for(path: Path, url: str | None = None) -> object:
    """The county's configuration, its database the SQLite file at `path` or `url`."""
    raw = tomllib.loads((REPO_ROOT / "config.example.toml").read_text(encoding="utf-8"))
    raw["storage"] = {
        "database_url": url or f"sqlite+aiosqlite:///{path}",
        "photo_dir": "photos",
    }
    raw["communities"] = [
        {
            "id": cid,
            "name": f"社区{i:02d}",
            "chat_id": -1002000000000 - i,
            "centre": [world.centre(i)[1], world.centre(i)[0]],
            "radius_m": 1000,
        }
        for i, cid in enumerate(world.COMMUNITIES)
    ]
    return parse_config(raw, base_dir=path.parent)


async def signed_in(services: Services, app: object, desk: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)  # type: ignore[arg-type]
    link = await services.staff_links.invite("bench", desk)
    path = link.url.removeprefix(BASE)
    shown = await client.get(path)
    csrf = shown.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert (await client.post(path, data={"csrf": csrf})).status_code == 303
    return client


async def timed(
    client: httpx.AsyncClient,
    label: str,
    path: str,
    repeat: int,
    before: Callable[[], None] = lambda: None,
) -> None:
    """Median and p95 of `repeat` GETs after a warm-up (`before` each, untimed)."""
    first = await client.get(path)
    assert first.status_code == 200, (path, first.status_code, first.text[:300])
    took = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        answer = await client.get(path)
        took.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200
    ordered = sorted(took)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)))]
    size = len(first.content)
    print(
        f"  {label:44} median {statistics.median(took):7.1f} ms  p95 {p95:7.1f} ms  "
        f"({size / 1024:.0f} KB)"
    )


async def on_sqlite(n: int, repeat: int, keep: Path | None, only: str) -> None:
    folder = keep or Path(tempfile.mkdtemp(prefix="bench-county-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"county-{n}.db"
    if not path.exists():
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        await engine.dispose()
        t0 = time.perf_counter()
        world.seed_sqlite(path, n)
        # The world's rejections carry no reason; the ledger names one for each, as the
        # lifecycle always records one.
        with sqlite3.connect(path) as raw:
            raw.execute(REJECTED_REASON)
        print(f"seeded {n:,} reports in {time.perf_counter() - t0:.0f} s")
    try:
        await run(config_for(path), repeat, only)
    finally:
        if keep is None:
            for leftover in folder.iterdir():
                leftover.unlink()
            folder.rmdir()


async def on_postgresql(n: int, repeat: int, keep: bool, only: str) -> None:
    """The same steps on a PostgreSQL database of its own (kept and reused with `keep`)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-county-pg-"))
    async with own_database(PG_SERVER, PG_DATABASE, keep=keep) as db:
        engine = create_engine(db.url)
        await migrate(engine)  # a kept database gets the migrations it lacks
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(reports))
        await engine.dispose()
        if not count:
            t0 = time.perf_counter()
            await world.seed_postgresql(db.dsn, n)
            seeded = await asyncpg.connect(db.dsn)
            try:
                await seeded.execute(REJECTED_REASON)
                # As autovacuum would after those updates: the visibility map again
                # allows index-only scans (the figures' plans assume them).
                await seeded.execute("VACUUM ANALYZE reports")
            finally:
                await seeded.close()
            print(f"seeded {n:,} reports in {time.perf_counter() - t0:.0f} s")
        else:
            n = count
        print(f"PostgreSQL, {n:,} reports (database {PG_DATABASE}); {repeat} runs each")
        await run(config_for(folder / "unused.db", db.url), repeat, only)


async def run(config: object, repeat: int, only: str) -> None:
    services = Services.create(
        config,  # type: ignore[arg-type]
        {WEB: WebCourier()},
        clock=Fixed(),
        members=NoMembers(),
    )
    await services.start()
    app, _ = web.build(services, telegram_on=False, secret=b"b" * 40)
    county = await signed_in(services, app, "county")
    desk = await signed_in(services, app, "c00")
    lat, lon = world.centre(0)
    s, w, no, e = world.COUNTY_BOX
    town = f"bbox={w},{s},{e},{no}"
    year, week = "from=2025-11-19&to=2026-11-17", "from=2026-11-09&to=2026-11-15"
    street = f"bbox={lon - 0.004},{lat - 0.003},{lon + 0.004},{lat + 0.003}"

    def forget() -> None:
        """The charts kept (handlers/web/console/county.py `recent`): none, so drawn anew."""
        getattr(app.state, "county_kept", {}).clear()

    def nothing() -> None:
        pass

    steps = [
        (county, "county figures, last 30 days", "/console/figures"),
        (county, "county figures, last month", "/console/figures?period=last_month"),
        (county, "county figures, a year (range)", f"/console/figures?period=range&{year}"),
        (desk, "a desk's figures, last 30 days", "/console/figures"),
        (county, "county chart PNG, last 30 days", "/console/figures/chart.png"),
        (county, "county chart PNG, 30 days, drawn anew", "/console/figures/chart.png"),
        (
            county,
            "county chart PNG, a year, drawn anew",
            f"/console/figures/chart.png?period=range&{year}",
        ),
        (county, "county digest, last week (with chart)", "/console/digest"),
        (desk, "a desk's digest, last week", "/console/digest"),
        (county, "map data: the town, 30 days (clusters)", f"/console/map/data?{town}"),
        (county, "map data: the town, overdue", f"/console/map/data?{town}&state=overdue"),
        (county, "map data: a street, 30 days", f"/console/map/data?{street}"),
        (desk, "map data: a desk's town, this week", f"/console/map/data?{town}&period=this_week"),
        (desk, "a desk's ledger, one week (CSV)", f"/console/ledger?{week}&format=csv"),
        (county, "county ledger, one week (XLSX)", f"/console/ledger?{week}"),
    ]
    try:
        for client, label, route in steps:
            if only in label:
                await timed(client, label, route, repeat, forget if "anew" in label else nothing)
    finally:
        await county.aclose()
        await desk.aclose()
        await services.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="reports (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per step")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the SQLite file here")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--keep-pg", action="store_true", help="keep (and reuse) the PG database")
    parser.add_argument("--only", default="", help="only the steps whose name has this")
    parser.add_argument("--quick", action="store_true", help="3,000 reports, 2 runs (tests)")
    args = parser.parse_args()
    if args.quick:
        args.n, args.repeat = 3000, 2
    if args.pg:
        asyncio.run(on_postgresql(args.n, args.repeat, args.keep_pg, args.only))
    else:
        asyncio.run(on_sqlite(args.n, args.repeat, args.keep, args.only))


if __name__ == "__main__":
    main()
