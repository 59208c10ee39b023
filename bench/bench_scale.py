"""Benchmark the read side at scale: figures, digest, chart and ledger over N past reports.

Run from the repository root: ``python bench/bench_scale.py [--sizes 1000,10000] [-n 3]``.

For each size N a child process builds a fresh SQLite file database in a temporary directory
(storage.db create_engine + migrate), loads config.example.toml (pointed at that database) and
inserts N synthetic reports straight into the tables with SQLAlchemy Core (batched
executemany): about N/20 riders, one submitted draft per report, reports spread over the
twelve weeks before a fixed "now", over the example's communities (and the supervisors'
queue) and categories. Each report follows a lifecycle drawn at random (about 70 % closed
fixed, some after a reopen or a transfer, confirmed or auto-closed; about 10 % rejected;
the rest still open, some overdue); its events are written as bot/casework.py writes them and
its row is the replay of the events that happened before "now", so recent reports are
naturally still open.

Then, on that database and with a fixed clock, each step is run once to warm up and
``--repeat`` times more, and the median is printed:

* ``load_facts``          bot.facts.load_facts (every report + its events, as ReportFacts)
* ``stats county 30d``    bot.stats.Stats.for_chat in the supervisors' chat, last 30 days
* ``digest build``        bot.digest.Digests.build of the previous ISO week (chart included)
* ``  load_credits``      part of it: bot.facts.load_credits (the points board's input)
* ``  digest chart``      part of it: Digests._chart (8 weeks of trend figures + the PNG)
* ``  render chart``      part of that: bot.chart.render_digest_chart alone, same bars
* ``ledger xlsx``         bot.ledger.Ledger.export of the last 30 days (file size shown)
* ``  ledger sheets``     part of it: Ledger.sheets (queries + rows + summary, no encoding)
* ``ledger csv``          the same export as CSV

The "gc ms" column is the median time the cyclic garbage collector ran during a step
(gc.callbacks): it grows with the number of live objects, so with N it grows faster than N.

Peak RSS is read in the child: after seeding (VmHWM, then reset where Linux allows it) and at
the end (the peak of the timed steps alone when the reset worked). The machine may be noisy:
figures are from one run; compare the ratios between sizes, not the absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import pathlib
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.facts import load_credits, load_facts  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot import texts  # noqa: E402
from bot.chart import ChartLabels, CommunityBar, TrendPoint, render_digest_chart  # noqa: E402
from bot.config import Config, load_config  # noqa: E402
from bot.digest import Digests, previous_week, week_label  # noqa: E402
from bot.ledger import Ledger, parse_range  # noqa: E402
from bot.metrics import Period, by_community, compute  # noqa: E402
from bot.stats import Stats  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.db import create_engine, migrate  # noqa: E402
from storage.tables import drafts, events, reports, riders  # noqa: E402

# "Now" for every run: a Wednesday morning, so the previous ISO week is complete.
NOW = datetime(2026, 6, 17, 2, 0, tzinfo=UTC)  # 10:00 Asia/Shanghai
HISTORY = timedelta(weeks=12)
BATCH = 5000  # rows per executemany
SEED = 20260617


class FixedClock:
    def now(self) -> datetime:
        return NOW


# ---- synthetic data -------------------------------------------------------------------


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


Step = tuple[str, timedelta, dict[str, Any]]  # event kind, time since the previous step, data


def _plan(rng: random.Random, deadline: timedelta) -> list[Step]:
    """A report's intended history after submission; the caller drops what is after NOW."""
    steps: list[Step] = [("dispatched", timedelta(seconds=rng.uniform(1, 5)), {})]
    roll = rng.random()
    if rng.random() < 0.08:  # sent to the wrong desk first
        steps.append(("transferred", _hours(rng, 0.2, 6), {}))
        steps.append(("dispatched", timedelta(seconds=2), {}))
    if roll < 0.70:  # closed fixed
        steps.append(("accepted", _hours(rng, 0.1, 4), {}))
        # Most are fixed within the deadline, some late.
        steps.append(("resolved", _hours(rng, 0.5, deadline.total_seconds() / 3600 * 1.3), {}))
        if rng.random() < 0.12:  # rider says not fixed (返工), staff fix it again
            steps.append(("reopened", _hours(rng, 1, 24), {"fixed": False}))
            steps.append(("accepted", _hours(rng, 0.1, 3), {}))
            steps.append(("resolved", _hours(rng, 1, 24), {}))
        if rng.random() < 0.8:
            steps.append(("confirmed", _hours(rng, 0.2, 48), {"fixed": True}))
        else:
            steps.append(("auto_closed", timedelta(hours=72), {}))
    elif roll < 0.80:  # rejected, often before acceptance
        if rng.random() < 0.4:
            steps.append(("accepted", _hours(rng, 0.1, 4), {}))
        reason = rng.choice(("duplicate", "not_hazard", "not_ours", "no_info"))
        steps.append(("rejected", _hours(rng, 0.2, 12), {"reason": reason}))
    elif rng.random() < 0.6:  # still open, accepted (often overdue by now)
        steps.append(("accepted", _hours(rng, 0.1, 8), {}))
        if rng.random() < 0.3:
            steps.append(("resolved", _hours(rng, 1, 24), {}))
            steps.append(("reopened", _hours(rng, 1, 24), {"fixed": False}))
    return steps


def _event(
    out: list[dict[str, Any]],
    report_id: int,
    kind: str,
    actor_kind: str,
    actor_id: int | None,
    at: datetime,
    **data: Any,
) -> None:
    """One events row, shaped like storage.reports.add_event writes it."""
    out.append(
        {
            "report_id": report_id,
            "kind": kind,
            "actor_kind": actor_kind,
            "actor_id": actor_id,
            "at": at,
            "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
        }
    )


@dataclasses.dataclass
class _World:
    config: Config
    rng: random.Random
    n_riders: int
    staff: dict[str | None, list[tuple[int, str]]]
    events: list[dict[str, Any]]


def _replay(w: _World, row: dict[str, Any], steps: list[Step], takers: list[str]) -> None:
    """Write the events of the steps before NOW and leave the row in the state they make."""
    rid, rider_id, at = row["id"], row["rider_id"], row["created_at"]
    for kind, offset, data in steps:
        at = at + offset
        if at >= NOW:
            break
        handler = w.staff[row["community_id"]]
        if kind == "dispatched":
            target = w.config.community(row["community_id"])
            chat = (target.chat if target else w.config.supervisors.chat).chat_id
            _event(w.events, rid, kind, "system", None, at, chat_id=chat)
            row["status"] = "dispatched"
        elif kind == "accepted":
            sid, name = w.rng.choice(handler)
            _event(w.events, rid, kind, "staff", sid, at, name=name)
            row.update(status="accepted", handler_id=sid, handler_name=name)
        elif kind == "resolved":
            _event(w.events, rid, kind, "staff", row["handler_id"], at, note="已处理", photo=None)
            row.update(status="resolved", resolved_at=at, resolve_count=row["resolve_count"] + 1)
        elif kind == "reopened":
            _event(w.events, rid, kind, "rider", rider_id, at, **data)
            row.update(status="reopened", reopen_count=row["reopen_count"] + 1)
        elif kind == "transferred":
            to = w.rng.choice([c for c in takers if c != row["community_id"]] or [None])
            moved = {"from": row["community_id"], "to": to or "_sup"}
            _event(w.events, rid, kind, "staff", handler[0][0], at, **moved)
            row.update(
                status="dispatched",
                community_id=to,
                handler_id=None,
                handler_name=None,
                transfer_count=row["transfer_count"] + 1,
            )
        elif kind in ("confirmed", "auto_closed"):
            actor = ("rider", rider_id) if kind == "confirmed" else ("system", None)
            _event(w.events, rid, kind, *actor, at, **data)
            row.update(
                status="closed",
                outcome="fixed",
                closed_at=row["resolved_at"],  # a fix closes when it was (last) resolved
                close_reason="confirmed" if kind == "confirmed" else "auto",
            )
        elif kind == "rejected":
            sid = row["handler_id"] or handler[0][0]
            _event(w.events, rid, kind, "staff", sid, at, **data)
            row.update(
                status="rejected", outcome="rejected", closed_at=at, close_reason=data["reason"]
            )


def _report(w: _World, rid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One report (and its draft), created at a random moment of the last twelve weeks."""
    rng = w.rng
    category = rng.choice(w.config.categories)
    takers = [
        c.id for c in w.config.communities if c.categories is None or category.code in c.categories
    ]
    if rng.random() < 0.05:
        community, method = None, "none"
    else:
        community = rng.choice(takers)
        method = "boundary" if rng.random() < 0.7 else "radius"
    rider_id = rng.randint(1, w.n_riders)
    created = NOW - timedelta(seconds=rng.uniform(60, HISTORY.total_seconds()))
    lat = 36.10 + rng.uniform(-0.01, 0.02)
    lon = 113.20 + rng.uniform(-0.01, 0.02)
    note = rng.choice((None, "路面坑洼，电动车容易摔", "井盖缺失", "路灯不亮", "堆放杂物"))
    where = {"lat": lat, "lon": lon, "location_source": "live", "note": note}
    draft = {
        "id": rid,
        "rider_id": rider_id,
        "status": "submitted",
        "category": category.code,
        "photos_dropped": 0,
        "not_duplicate": False,
        "created_at": created - timedelta(minutes=2),
        "updated_at": created,
        **where,
    }
    row: dict[str, Any] = {
        "id": rid,
        "draft_id": rid,
        "rider_id": rider_id,
        "category": category.code,
        "community_id": community,
        "route_method": method,
        "status": "submitted",
        "created_at": created,
        "deadline_at": created + category.deadline,
        "transfer_count": 0,
        "resolve_count": 0,
        "reopen_count": 0,
        **where,
        **dict.fromkeys(
            (
                "closed_at",
                "handler_id",
                "handler_name",
                "resolved_at",
                "outcome",
                "close_reason",
                "duplicate_of",
                "reminded_at",
                "overdue_at",
                "escalated_at",
            )
        ),
    }
    _event(
        w.events, rid, "submitted", "rider", rider_id, created, community=community, route=method
    )
    _replay(w, row, _plan(rng, category.deadline), takers)
    return draft, row


def _synthesize(config: Config, n: int) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """Riders, drafts, reports and events rows for N reports (deterministic for a given N)."""
    rng = random.Random(SEED + n)
    n_riders = max(1, n // 20)
    joined = NOW - HISTORY - timedelta(days=7)
    rider_rows = [
        {
            "id": i,
            "tg_user_id": 700_000_000 + i,
            "display_name": f"骑手{i:05d}",
            "platform": rng.choice(("meituan", "eleme", "other")),
            "phone": None,
            "language": "zh",
            "awaiting": None,
            "registered_at": joined,
            "created_at": joined,
        }
        for i in range(1, n_riders + 1)
    ]
    staff: dict[str | None, list[tuple[int, str]]] = {
        c.id: [(9_000_000 + k * 10 + j, f"{c.name}·{j}") for j in range(3)]
        for k, c in enumerate(config.communities)
    }
    staff[None] = [(8_000_000 + j, f"督办{j}") for j in range(2)]
    world = _World(config, rng, n_riders, staff, [])
    draft_rows, report_rows = [], []
    for rid in range(1, n + 1):
        draft, row = _report(world, rid)
        draft_rows.append(draft)
        report_rows.append(row)
    return rider_rows, draft_rows, report_rows, world.events


async def _seed(db: Database, config: Config, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    rider_rows, draft_rows, report_rows, event_rows = _synthesize(config, n)
    synth_s = time.perf_counter() - started
    started = time.perf_counter()
    async with db.transaction() as conn:
        for table, rows in (
            (riders, rider_rows),
            (drafts, draft_rows),
            (reports, report_rows),
            (events, event_rows),
        ):
            for i in range(0, len(rows), BATCH):
                await conn.execute(insert(table), rows[i : i + BATCH])
    insert_s = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for r in report_rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    overdue = sum(1 for r in report_rows if r["outcome"] is None and r["deadline_at"] < NOW)
    return {
        "riders": len(rider_rows),
        "reports": len(report_rows),
        "events": len(event_rows),
        "statuses": statuses,
        "open_overdue": overdue,
        "synth_s": synth_s,
        "insert_s": insert_s,
    }


# ---- measuring ------------------------------------------------------------------------


def _peak_rss_mib() -> float:
    """Peak resident set size in MiB: VmHWM on Linux (resettable), else ru_maxrss."""
    status = pathlib.Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _reset_peak_rss() -> bool:
    with contextlib.suppress(OSError):
        pathlib.Path("/proc/self/clear_refs").write_text("5")
        return True
    return False


class _GcTimer:
    """Time spent in the cyclic garbage collector (any thread), via gc.callbacks."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started


_GC = _GcTimer()


async def _median_ms(
    fn: Callable[[], Awaitable[Any]], repeat: int
) -> tuple[float, float, float, Any]:
    """Median and min wall time and median time in the garbage collector, in ms."""
    await fn()  # warm-up: statement compilation caches, imports, font lookup
    timings, gc_times = [], []
    result = None
    for _ in range(repeat):
        gc_before = _GC.total
        started = time.perf_counter()
        result = await fn()
        timings.append((time.perf_counter() - started) * 1000)
        gc_times.append((_GC.total - gc_before) * 1000)
    return statistics.median(timings), min(timings), statistics.median(gc_times), result


def _chart_inputs(digests: Digests, facts: list, week: Period) -> tuple[list, list, dict]:
    """The same bars, trend and labels Digests._chart builds (to time the render alone)."""
    config, lang = digests.config, digests.lang
    ids: list[str | None] = [c.id for c in config.communities]
    per = by_community(facts, week, ids)
    bars = [
        CommunityBar(digests._name(cid), m.closure_rate, m.on_time_rate) for cid, m in per.items()
    ]
    trend = []
    for back in range(config.digest.trend_weeks - 1, -1, -1):
        start = week.start - timedelta(days=7 * back)
        period = Period(start, start + timedelta(days=7))
        m = compute(facts, period)
        trend.append(TrendPoint(week_label(period, digests.tz), m.closure_rate, m.on_time_rate))
    label = week_label(week, digests.tz)
    kwargs = {
        "title": texts.t(lang, "chart.title", week=label),
        "labels": ChartLabels(
            closure=texts.t(lang, "chart.closure"),
            on_time=texts.t(lang, "chart.on_time"),
            by_community=texts.t(lang, "chart.by_community"),
            trend=texts.t(lang, "chart.trend"),
            no_data=texts.t(lang, "chart.no_data"),
        ),
    }
    return bars, trend, kwargs


async def _bench_child(n: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="suishou-scale-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        config = dataclasses.replace(
            load_config(REPO_ROOT / "config.example.toml"),
            database_url=url,
            photo_dir=pathlib.Path(tmp) / "photos",
        )
        engine = create_engine(url)
        await migrate(engine)
        db = Database(engine)
        seeded = await _seed(db, config, n)
        # WAL mode: most of the data may still be in bench.db-wal.
        db_bytes = sum(f.stat().st_size for f in pathlib.Path(tmp).glob("bench.db*"))
        rss_seeded = _peak_rss_mib()
        reset = _reset_peak_rss()
        rss_base = _peak_rss_mib()

        clock = FixedClock()
        tz = config.timezone
        sup_chat = config.supervisors.chat.chat_id
        week = previous_week(NOW, tz)
        last30 = parse_range([], NOW.astimezone(tz).date(), tz)
        stats = Stats(config=config, db=db)
        digests = Digests(config=config, db=db, notifier=None, clock=clock)  # type: ignore[arg-type]
        ledger = Ledger(config=config, db=db, clock=clock)
        facts = await load_facts(db)
        bars, trend, chart_kwargs = _chart_inputs(digests, facts, week)
        label = week_label(week, tz)

        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("load_facts", lambda: load_facts(db)),
            ("stats county 30d", lambda: stats.for_chat(sup_chat, NOW, 30)),
            ("digest build", lambda: digests.build(week)),
            ("  load_credits", lambda: load_credits(db)),
            ("  digest chart", lambda: asyncio.to_thread(digests._chart, facts, label, week)),
            (
                "  render chart",
                lambda: asyncio.to_thread(render_digest_chart, bars, trend, **chart_kwargs),
            ),
            ("ledger xlsx 30d", lambda: ledger.export(last30, "xlsx")),
            ("  ledger sheets", lambda: ledger.sheets(last30)),
            ("ledger csv 30d", lambda: ledger.export(last30, "csv")),
        ]
        results = []
        for name, fn in steps:
            median, best, in_gc, out = await _median_ms(fn, repeat)
            extra = ""
            if name.startswith("ledger"):
                data, rows = out
                extra = f"{len(data):,} B, {rows} rows"
            elif name == "digest build":
                chart = out[-1].chart
                extra = f"{len(out)} digests, chart {len(chart or b''):,} B"
            elif name == "load_facts":
                extra = f"{len(out)} facts"
            results.append(
                {"step": name, "median_ms": median, "min_ms": best, "gc_ms": in_gc, "extra": extra}
            )
        await db.close()
    return {
        "size": n,
        "seed": seeded,
        "db_bytes": db_bytes,
        "rss_seeded_mib": rss_seeded,
        "rss_base_mib": rss_base,
        "rss_peak_mib": _peak_rss_mib(),
        "rss_reset": reset,
        "steps": results,
    }


# ---- orchestration --------------------------------------------------------------------


def _print_size(r: dict[str, Any]) -> None:
    s = r["seed"]
    mix = ", ".join(f"{k} {v}" for k, v in sorted(s["statuses"].items()))
    print(
        f"\nN={r['size']:,}: {s['riders']} riders, {s['events']:,} events, "
        f"DB {r['db_bytes'] / 1024 / 1024:.1f} MiB; built in {s['synth_s']:.1f} s + "
        f"inserted in {s['insert_s']:.1f} s\n  status mix: {mix}; open and overdue "
        f"{s['open_overdue']}",
        flush=True,
    )
    steps_rss = (
        f"peak during steps {r['rss_peak_mib']:.0f} MiB (from {r['rss_base_mib']:.0f} MiB)"
        if r["rss_reset"]
        else f"overall peak {r['rss_peak_mib']:.0f} MiB"
    )
    print(f"  peak RSS: after seeding {r['rss_seeded_mib']:.0f} MiB; {steps_rss}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated report counts")
    parser.add_argument("-n", "--repeat", type=int, default=3, help="timed runs per step")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        result = asyncio.run(_bench_child(args.child, args.repeat))
        print("RESULT " + json.dumps(result))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(
        f"Python {platform.python_version()}, {platform.machine()}; now = "
        f"{NOW.isoformat()}; median of {args.repeat} runs after a warm-up (ms)"
    )
    by_size: dict[int, dict[str, Any]] = {}
    for n in sizes:
        started = time.perf_counter()
        cmd = [sys.executable, __file__, "--child", str(n), "-n", str(args.repeat)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=REPO_ROOT)
        line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
        result = json.loads(line.removeprefix("RESULT "))
        by_size[n] = result
        _print_size(result)
        print(f"  child wall time {time.perf_counter() - started:.1f} s", flush=True)

    print()
    head = f"{'size':>7}  {'step':<18} {'median ms':>10} {'min ms':>9} {'gc ms':>7}"
    if len(sizes) > 1:
        head += f" {'x vs ' + format(sizes[0], ','):>10}"
    print(head + "  notes")
    print("-" * (len(head) + 30))
    first = {s["step"]: s["median_ms"] for s in by_size[sizes[0]]["steps"]}
    for n in sizes:
        for s in by_size[n]["steps"]:
            line = (
                f"{n:>7,}  {s['step']:<18} {s['median_ms']:>10.1f} {s['min_ms']:>9.1f}"
                f" {s['gc_ms']:>7.1f}"
            )
            if len(sizes) > 1:
                ratio = s["median_ms"] / first[s["step"]] if first[s["step"]] else float("nan")
                line += f" {ratio:>9.1f}x" if n != sizes[0] else f" {'':>10}"
            print(line + f"  {s['extra']}")
    if len(sizes) > 1:
        print(
            f"\n(data grows {sizes[-1] / sizes[0]:.0f}x from {sizes[0]:,} to {sizes[-1]:,}; "
            "a step ratio well above that grows faster than linearly)"
        )


if __name__ == "__main__":
    main()
