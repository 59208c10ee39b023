"""Benchmark the ledger's XLSX encoding alone: openpyxl write-only against xlsxwriter.

Run from the repository root: ``python bench/bench_xlsx.py [--rows 40000] [-n 3]``
(``--quick``: 300 rows, one run, what tests/test_benchmarks.py runs).

It builds ledger-shaped sheets (the 20 columns of bot/reporting/ledger.py: ticket, community,
category, seven step times, status, closure, on-time flag, handler, coordinates, a note,
three counts; plus a 501-row summary sheet) and writes them, each writer in a fresh process
so its peak RSS is its own:

* ``openpyxl``           bench/_xlsx_writers.py, the former writer (write-only mode;
                         openpyxl uses lxml when it is installed, which it says)
* ``openpyxl, no lxml``  the same with OPENPYXL_LXML=False, when lxml is installed
* ``xlsxwriter``         bot.reporting.ledger_files.write_xlsx, the project's writer
                         (constant_memory)

Both files are read back (bot.reporting.ledger_files.read_xlsx) and must hold the same rows. The
database side of the export is measured by bench_scale.py; this is the encoding alone.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import openpyxl.xml  # noqa: E402
from _xlsx_writers import write_xlsx_openpyxl  # noqa: E402

from bot.reporting.ledger_files import Sheet, read_xlsx, write_xlsx  # noqa: E402

START = datetime(2026, 5, 18, 0, 0)
STATUSES = ("已办结", "不予受理", "已受理", "待确认")
NOTES = ("", "路面坑洼，电动车容易摔", "井盖缺失", "路灯不亮", "=1+1 看起来像公式", "堆放杂物")


def ledger_sheets(rows: int) -> list[Sheet]:
    """Sheets shaped like Ledger.sheets (deterministic for a given row count)."""
    rng = random.Random(rows)
    body = []
    for i in range(rows):
        made = START + timedelta(seconds=30 * 86400 * i / rows)
        steps = [made + timedelta(hours=h) for h in sorted(rng.uniform(0, 60) for _ in range(6))]
        closed = rng.random() < 0.85
        body.append(
            [
                900_000 + i,
                f"城关{rng.randrange(500):03d}社区",
                rng.choice(("环境卫生", "消防安全", "社会治安")),
                made,
                *steps[:5],
                steps[5] if closed else None,
                made + timedelta(hours=72),
                rng.choice(STATUSES),
                "已解决（骑手确认）" if closed else "",
                rng.random() < 0.8 if closed else None,
                f"{rng.randrange(500):03d}社区·{rng.randrange(3)}",
                round(36.1 + rng.uniform(-0.1, 0.1), 6),
                round(113.2 + rng.uniform(-0.1, 0.1), 6),
                rng.choice(NOTES),
                rng.randrange(2),
                rng.randrange(2),
                rng.randrange(3),
            ]
        )
    headers = [f"列{k}" for k in range(20)]
    summary = [[f"城关{k:03d}社区", *(rng.randrange(100) for _ in range(13))] for k in range(501)]
    return [
        Sheet("台账", headers, body, widths=[8, 14, 10] + [17] * 7 + [14, 14, 8, 10, 10, 11, 40]),
        Sheet("汇总", [f"项{k}" for k in range(14)], summary, widths=[16] + [10] * 13),
    ]


def _peak_rss_mib() -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _child(writer: str, rows: int, repeat: int) -> None:
    """Time one writer in this (fresh) process; print a JSON line."""
    sheets = ledger_sheets(rows)
    write = write_xlsx if writer == "xlsxwriter" else write_xlsx_openpyxl
    base = _peak_rss_mib()
    timings, data = [], b""
    for _ in range(repeat + 1):  # the first run warms up
        out = io.BytesIO()
        started = time.perf_counter()
        write(sheets, out)
        timings.append((time.perf_counter() - started) * 1000)
        data = out.getvalue()
    grown = _peak_rss_mib() - base
    read = read_xlsx(data)
    print(
        json.dumps(
            {
                "median_ms": statistics.median(timings[1:]),
                "min_ms": min(timings[1:]),
                "bytes": len(data),
                "rows": [len(v) for v in read.values()],
                # xlsxwriter leaves "" cells blank: Excel shows both the same
                "first": [str(x or None) for x in next(iter(read.values()))[1]],
                "rss_growth_mib": grown,
                "lxml": openpyxl.xml.LXML,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=40_000, help="ledger rows (30 days at 1M)")
    parser.add_argument("-n", "--repeat", type=int, default=3, help="timed runs per writer")
    parser.add_argument("--quick", action="store_true", help="300 rows, one run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = 300, 1
    if args.child:
        _child(args.child, args.rows, args.repeat)
        return

    try:
        import lxml  # noqa: F401, PLC0415

        has_lxml = True
    except ImportError:
        has_lxml = False
    writers = [("openpyxl", "openpyxl", {})]
    if has_lxml:
        writers.append(("openpyxl, no lxml", "openpyxl", {"OPENPYXL_LXML": "False"}))
    writers.append(("xlsxwriter", "xlsxwriter", {}))
    print(
        f"{args.rows:,} ledger rows x 20 columns + a 501-row summary; median of {args.repeat} "
        f"runs after a warm-up; lxml installed: {has_lxml}"
    )
    results = {}
    for label, writer, env in writers:
        cmd = [sys.executable, __file__, "--child", writer, "--rows", str(args.rows)]
        cmd += ["-n", str(args.repeat)]
        done = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env={**os.environ, **env}
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results[label] = r
        print(
            f"  {label:<18} median {r['median_ms']:>8.0f} ms  min {r['min_ms']:>8.0f} ms  "
            f"{r['bytes']:>10,} B  peak RSS +{r['rss_growth_mib']:>4.0f} MiB  "
            f"(lxml {'on' if r['lxml'] else 'off'})"
        )
    contents = {(tuple(r["rows"]), tuple(r["first"])) for r in results.values()}
    if len(contents) != 1:
        sys.exit(f"the writers wrote different workbooks: {contents}")
    print("  every file reads back with the same rows")


if __name__ == "__main__":
    main()
