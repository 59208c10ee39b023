"""Benchmark the read side at scale: /stats, digests, /me and the ledger over N reports.

Run from the repository root::

    python bench/bench_scale.py [--sizes 10000,100000,1000000] [--repeat 5] [--json out.json]
                                [--explain] [--keep DIR] [--history-days 730] [--quick]

For each size N, a SQLite database is made by the migrations and filled with N synthetic
reports over two years in 500 communities (bench/_scale_world.py describes the lifecycle
mix), then a fresh child process opens it with the application's own engine and config and
times each step: one warm-up, then the median (and min) of --repeat runs, with the peak RSS
of the step (VmHWM, reset before it). Targets are those of issue 7 at 1M reports:

* ``stats community 30d``  /stats in the busiest community's chat (Stats.for_chat)   30 ms
* ``stats county 30d``     /stats in the supervisors' chat                          100 ms
* ``digest, no chart``     DigestWriter.build of last week for every desk, no chart 200 ms
* ``digest chart``         the chart part of that build (8 weeks of trend + PNG)
* ``  render only``        bot.reporting.chart.render_digest_chart alone, same 500 bars
* ``/digest community``    Digests.for_chat in one community's chat
* ``/me``                  MyReports.me for the month's most active rider             20 ms
* ``ledger sheets 30d``    Ledger.sheets of the last 30 days (queries and rows)
* ``ledger csv 30d``       Ledger.export as CSV                                     1000 ms
* ``ledger xlsx 30d``      Ledger.export as XLSX (XlsxWriter, constant memory)      4000 ms

and peak RSS of those steps < 300 MiB; a 30-day /stats at the largest size within 3x of
the smallest. Before timing, the county's 30-day figures read back through the application
are checked against what the generator wrote (a benchmark of empty results is no benchmark).

``--explain`` prints SQLite's EXPLAIN QUERY PLAN of every statement the figure and ledger
steps run (captured from the engine), with each statement's own time in SQLite, flagging
scans of a whole table or index. ``--keep DIR`` keeps the seeded
databases in DIR and reuses them. ``--history-days`` puts the same N over fewer days (a
higher daily rate): with N/days fixed, a period-bounded step should not care how long the
history is. ``--quick`` (300 reports in 20 communities, one run, --explain) is what
tests/test_benchmarks.py runs, so the benchmark cannot rot unnoticed.

The machine may be noisy: figures are from one run; compare ratios more than absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from _scale_world import COMMUNITIES, HISTORY, NOW, scale_config, seed  # noqa: E402

from bot.reporting.metrics import last_days  # noqa: E402
from storage.db import create_engine, migrate  # noqa: E402

WORLD_VERSION = 2  # bump when bench/_scale_world.py changes what it writes (--keep)
QUICK_SIZE = 300
QUICK_COMMUNITIES = 20  # the chart of 500 communities alone takes seconds to draw
TARGETS_MS = {
    "stats community 30d": 30,
    "stats county 30d": 100,
    "digest, no chart": 200,
    "/me": 20,
    "ledger csv 30d": 1000,
    "ledger xlsx 30d": 4000,
}
TARGET_SIZE = 1_000_000
TARGET_RSS_MIB = 300
TARGET_RATIO = 3.0
RATIO_STEPS = ("stats community 30d", "stats county 30d")


def _check_period() -> Any:
    return last_days(NOW, 30)


def _migrate(path: pathlib.Path) -> None:
    """Bring the database to the newest schema, as the bot does on every start."""

    async def make() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate(engine)
        await engine.dispose()

    asyncio.run(make())


def _seed_db(path: pathlib.Path, n: int, communities: int, days: int) -> dict[str, Any]:
    """A migrated database at `path` with N reports; returns what was written."""
    url = f"sqlite+aiosqlite:///{path}"
    _migrate(path)
    config = scale_config(url, path.parent / "photos", communities)
    started = time.perf_counter()
    summary, expected = seed(path, config, n, _check_period(), timedelta(days=days))
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "summary": summary.__dict__,
        "expected": {k: v for k, v in expected.__dict__.items() if k not in ("start", "end")},
        "db_mib": round(path.stat().st_size / 1024 / 1024, 1),
        "communities": communities,
        "history_days": days,
    }


def _prepare(n: int, args: argparse.Namespace, tmp: pathlib.Path) -> tuple[pathlib.Path, dict]:
    keep, communities, days = args.keep, args.communities, args.history_days
    folder = keep or tmp
    path = folder / f"scale-{n}-{communities}c-{days}d-v{WORLD_VERSION}.db"
    meta_path = path.with_suffix(".json")
    if keep and path.exists() and meta_path.exists():
        print(f"N={n:,}: reusing {path}", flush=True)
        _migrate(path)  # kept from an older schema: migrate it like a bot's start would
        return path, json.loads(meta_path.read_text())
    for stale in (path, meta_path):
        stale.unlink(missing_ok=True)
    print(f"N={n:,}: seeding {path} ...", flush=True)
    meta = _seed_db(path, n, communities, days)
    meta_path.write_text(json.dumps(meta))
    return path, meta


def _print_seed(n: int, meta: dict[str, Any]) -> None:
    s = meta["summary"]
    mix = ", ".join(f"{k} {v / s['reports']:.1%}" for k, v in sorted(s["statuses"].items()))
    print(
        f"N={n:,} over {meta['history_days']} days in {meta['communities']} communities: "
        f"{s['riders']:,} riders, "
        f"{s['events']:,} events, {s['followers']:,} +1s; "
        f"DB {meta['db_mib']} MiB, seeded in {meta['seconds']} s\n"
        f"  status now: {mix}; open past the deadline now "
        f"{s['open_overdue_now']:,} ({s['open_overdue_now'] / s['reports']:.1%})",
        flush=True,
    )


def _print_steps(n: int, result: dict[str, Any]) -> None:
    print(f"  {'step':<22} {'median ms':>10} {'min ms':>9} {'peak RSS':>9}  target @1M  notes")
    for name, s in result["steps"].items():
        target = TARGETS_MS.get(name)
        mark = f"< {target:>5} ms" if target else ""
        print(
            f"  {name:<22} {s['median_ms']:>10.1f} {s['min_ms']:>9.1f} "
            f"{s['peak_rss_mib']:>5.0f} MiB  {mark:<10}  {s['note']}"
        )
    print(
        f"  peak RSS of the steps {result['peak_rss_mib']:.0f} MiB (target < {TARGET_RSS_MIB}); "
        f"child baseline after setup {result['base_rss_mib']:.0f} MiB",
        flush=True,
    )


def _verdict(value: float, target: float) -> str:
    return "meets" if value < target else f"misses ({value / target:.1f}x the target)"


def _print_summary(results: dict[int, dict[str, Any]]) -> None:
    sizes = sorted(results)
    names = list(results[sizes[-1]]["steps"])
    head = f"{'step':<22}" + "".join(f"{n:>12,}" for n in sizes) + f"{'target @1M':>12}"
    print("\nmedian ms by size\n" + head + "\n" + "-" * len(head))
    for name in names:
        cells = "".join(
            f"{results[n]['steps'][name]['median_ms']:>12.1f}"
            if name in results[n]["steps"]
            else f"{'-':>12}"
            for n in sizes
        )
        target = TARGETS_MS.get(name)
        print(f"{name:<22}{cells}{(f'< {target}') if target else '':>12}")
    rss = "".join(f"{results[n]['peak_rss_mib']:>12.0f}" for n in sizes)
    print(f"{'peak RSS MiB':<22}{rss}{f'< {TARGET_RSS_MIB}':>12}")
    largest = sizes[-1]
    if largest >= TARGET_SIZE:
        print(f"\nat {largest:,} reports:")
        for name, target in TARGETS_MS.items():
            value = results[largest]["steps"][name]["median_ms"]
            print(f"  {name:<22} {value:>9.1f} ms  {_verdict(value, target)}")
        value = results[largest]["peak_rss_mib"]
        print(f"  {'peak RSS':<22} {value:>9.0f} MiB {_verdict(value, TARGET_RSS_MIB)}")
    if len(sizes) > 1:
        for name in RATIO_STEPS:
            small = results[sizes[0]]["steps"][name]["median_ms"]
            ratio = results[largest]["steps"][name]["median_ms"] / small
            verdict = "meets" if ratio <= TARGET_RATIO else "misses"
            print(
                f"  {name} at {largest:,} / at {sizes[0]:,}: {ratio:.1f}x "
                f"(target within {TARGET_RATIO:.0f}x: {verdict})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated report counts")
    parser.add_argument("-n", "--repeat", type=int, default=5, help="timed runs per step")
    parser.add_argument("--json", type=pathlib.Path, help="write medians and peak RSS here")
    parser.add_argument("--explain", action="store_true", help="print the SQLite query plans")
    parser.add_argument("--keep", type=pathlib.Path, help="keep (and reuse) databases here")
    parser.add_argument("--communities", type=int, default=COMMUNITIES)
    parser.add_argument(
        "--history-days",
        type=int,
        default=HISTORY.days,
        help="how far back the reports go (same N over fewer days: a higher daily rate)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_SIZE} reports in {QUICK_COMMUNITIES} communities, one run, --explain",
    )
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.quick:
        sizes, args.repeat, args.explain = [QUICK_SIZE], 1, True
        args.communities = QUICK_COMMUNITIES
    print(
        f"Python {platform.python_version()} on {platform.machine()}, now = {NOW.isoformat()}; "
        f"median of {args.repeat} runs after a warm-up",
        flush=True,
    )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="suishou-scale-") as tmp_name:
        tmp = pathlib.Path(tmp_name)
        for n in sizes:
            path, meta = _prepare(n, args, tmp)
            _print_seed(n, meta)
            out = tmp / f"result-{n}.json"
            cmd = [
                sys.executable,
                str(pathlib.Path(__file__).with_name("_scale_steps.py")),
                str(path),
                str(out),
                "--communities",
                str(args.communities),
                "--repeat",
                str(args.repeat),
                "--expected",
                json.dumps(meta["expected"]),
            ]
            if args.explain:
                cmd.append("--explain")
            subprocess.run(cmd, check=True, cwd=REPO_ROOT)
            results[n] = {**json.loads(out.read_text()), "seed": meta}
            _print_steps(n, results[n])
            if not args.keep:
                for f in tmp.glob(f"scale-{n}-*"):
                    with contextlib.suppress(OSError):
                        f.unlink()
    _print_summary(results)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "python": platform.python_version(),
                    "now": NOW.isoformat(),
                    "repeat": args.repeat,
                    "communities": args.communities,
                    "history_days": args.history_days,
                    "sizes": {str(n): r for n, r in results.items()},
                },
                indent=1,
                ensure_ascii=False,
            )
        )
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
