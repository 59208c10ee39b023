"""(helper) A county's year of reports for bench_console.py, and its fast loading.

20 communities around a town (centres ~2 km apart, reports spread ~600 m around them, a
Zipf-like share each, 3 % to the supervisors' queue), three categories, reports evenly
over the year before NOW in ticket order. Fates by age: a report younger than its deadline
may be anywhere in its life; an older one is closed (83 %), rejected (14 %), stalled open
and overdue (2 %), or waits for the rider (resolved, only in its first week). Every report
has its "dispatched" event; one in 20 has a whole timeline with a reply thread and a photo.

Loading: SQLite through stdlib sqlite3 (indexes dropped, executemany in chunks,
synchronous=OFF, indexes rebuilt from storage/tables.py); PostgreSQL through COPY (asyncpg),
indexes rebuilt after, then VACUUM ANALYZE as autovacuum would do in time.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex

from storage.tables import drafts, events, photos, report_photos, reports

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday morning
YEAR = timedelta(days=365)
TOWN = (36.10, 113.20)  # WGS-84
COMMUNITIES = [f"c{i:02d}" for i in range(20)]
CATEGORIES = (("sanitation", 0.55, 72), ("fire", 0.2, 24), ("order", 0.25, 48))
CHUNK = 20_000
FULL_EVERY = 20  # one report in 20 has a whole timeline, a thread and a photo

REPORT_COLS = [
    *("id", "draft_id", "rider_id", "category", "lat", "lon", "location_source", "note"),
    *("community_id", "route_method", "status", "created_at", "deadline_at", "closed_at"),
    *("handler_id", "handler_name", "accepted_at", "resolved_at", "outcome"),
    *("transfer_count", "resolve_count", "reopen_count"),
]
DRAFT_COLS = [
    *("id", "rider_id", "status", "lat", "lon", "location_source", "category", "note"),
    *("photos_dropped", "not_duplicate", "created_at", "updated_at"),
]
EVENT_COLS = ["report_id", "kind", "actor_kind", "actor_id", "at", "data"]
NOTES = ("垃圾堆在路边", "消防通道被电动车堵住", "井盖松动", "路灯不亮", None, None)


def centre(i: int) -> tuple[float, float]:
    """Community i's centre: a 5 × 4 grid, ~2 km apart, around the town."""
    return TOWN[0] + (i // 5 - 1.5) * 0.018, TOWN[1] + (i % 5 - 2) * 0.022


COUNTY_BOX = (TOWN[0] - 0.06, TOWN[1] - 0.07, TOWN[0] + 0.06, TOWN[1] + 0.07)


@dataclass
class Chunk:
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    drafts: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    photos: list[tuple[Any, ...]] = field(default_factory=list)
    report_photos: list[tuple[Any, ...]] = field(default_factory=list)


def _fate(rand: random.Random, age_h: float, limit_h: float) -> str:
    if age_h < limit_h:
        return rand.choices(
            ("submitted", "dispatched", "accepted", "resolved", "reopened", "closed", "rejected"),
            (1, 20, 35, 15, 2, 20, 7),
        )[0]
    if age_h < 7 * 24 and rand.random() < 0.1:
        return "resolved"
    return rand.choices(
        ("closed", "rejected", "accepted", "dispatched", "reopened"), (83, 14, 1.2, 0.6, 0.2)
    )[0]


def chunks(n: int, seed: int = 7) -> Iterator[Chunk]:
    """N reports in chunks of CHUNK, deterministic for a given N; naive UTC datetimes."""
    rand = random.Random(seed)
    weights = [1 / (i + 1) ** 0.7 for i in range(len(COMMUNITIES))]
    start = (NOW - YEAR).replace(tzinfo=None)
    step = YEAR / n
    chunk = Chunk()
    for rid in range(1, n + 1):
        created = start + step * (rid - 1)
        age_h = (NOW.replace(tzinfo=None) - created).total_seconds() / 3600
        code, _, limit_h = rand.choices(CATEGORIES, [c[1] for c in CATEGORIES])[0]
        if rand.random() < 0.03:
            community, (lat0, lon0) = None, TOWN
        else:
            i = rand.choices(range(len(COMMUNITIES)), weights)[0]
            community, (lat0, lon0) = COMMUNITIES[i], centre(i)
        lat = lat0 + rand.gauss(0, 0.0055)
        lon = lon0 + rand.gauss(0, 0.0055 / math.cos(math.radians(lat0)))
        status = _fate(rand, age_h, limit_h)
        deadline = created + timedelta(hours=limit_h)
        accepted = created + timedelta(hours=rand.uniform(0.1, 4))
        resolved = accepted + timedelta(hours=rand.uniform(1, limit_h))
        claimed = status not in ("submitted", "dispatched")
        done = status in ("closed", "rejected")
        closed = resolved + timedelta(hours=rand.uniform(0.2, 48)) if done else None
        note = rand.choice(NOTES)
        rider = rand.randrange(1, 5001)
        chunk.drafts.append(
            (rid, rider, "submitted", lat, lon, "gps", code, note, 0, False, created, created)
        )
        chunk.reports.append(
            (
                *(rid, rid, rider, code, lat, lon, "gps", note, community, "boundary"),
                *(status, created, deadline, closed, 900 + rid % 40 if claimed else None),
                f"网格员{rid % 40:02d}" if claimed else None,
                accepted if claimed else None,
                resolved if status in ("resolved", "closed") else None,
                {"closed": "fixed", "rejected": "rejected"}.get(status),
                *(0, 1 if status in ("resolved", "closed") else 0, 0),
            )
        )
        chunk.events.append((rid, "dispatched", "system", None, created, "{}"))
        if rid % FULL_EVERY == 0:
            _timeline(chunk, rid, created)
        if len(chunk.reports) >= CHUNK:
            yield chunk
            chunk = Chunk()
    if chunk.reports:
        yield chunk


def _timeline(chunk: Chunk, rid: int, created: datetime) -> None:
    steps = [
        ("accepted", "staff", {"name": "网格员01"}),
        ("replied", "staff", {"name": "网格员01", "text": "具体在哪个门口？"}),
        ("rider_replied", "rider", {"text": "北门左边"}),
        ("resolved", "staff", {"note": "已清理"}),
    ]
    for i, (kind, role, data) in enumerate(steps, start=1):
        at = created + timedelta(minutes=10 * i)
        chunk.events.append((rid, kind, role, 901, at, json.dumps(data, ensure_ascii=False)))
    sha = f"{rid:064x}"
    chunk.photos.append((sha, 2048, 1536, 400_000, created))
    chunk.report_photos.append((rid, sha, 0))


def riders_rows() -> list[tuple[Any, ...]]:
    joined = (NOW - YEAR - timedelta(days=30)).replace(tzinfo=None)
    return [(i, f"骑手{i:04d}", joined) for i in range(1, 5001)]


TABLES = ("drafts", "reports", "events", "photos", "report_photos")
COLUMNS = {
    "drafts": DRAFT_COLS,
    "reports": REPORT_COLS,
    "events": EVENT_COLS,
    "photos": ["sha256", "width", "height", "size", "created_at"],
    "report_photos": ["report_id", "photo_sha256", "position"],
}
INDEXED = (drafts, reports, events, photos, report_photos)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    return value


def seed_sqlite(path: Path, n: int) -> None:
    """Fill the migrated SQLite database at `path`."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")
        db.execute("BEGIN")
        for table in INDEXED:
            for index in table.indexes:
                db.execute(f"DROP INDEX IF EXISTS {index.name}")
        db.executemany(
            "INSERT INTO riders (id, display_name, created_at) VALUES (?, ?, ?)",
            [tuple(map(_sqlite_value, r)) for r in riders_rows()],
        )
        for chunk in chunks(n):
            for name in TABLES:
                cols = COLUMNS[name]
                rows = [tuple(map(_sqlite_value, r)) for r in getattr(chunk, name)]
                marks = ", ".join("?" * len(cols))
                db.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})", rows)
        for table in INDEXED:
            for index in table.indexes:
                db.execute(str(CreateIndex(index).compile(dialect=sqlite_dialect.dialect())))
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()


async def seed_postgresql(dsn: str, n: int) -> None:
    """Fill the migrated PostgreSQL database at `dsn` (asyncpg's own URL) with COPY."""
    conn = await asyncpg.connect(dsn)
    try:
        kept = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[]) "
            "AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'",
            list(TABLES),
        )
        for row in kept:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        await conn.copy_records_to_table(
            "riders", records=riders_rows(), columns=["id", "display_name", "created_at"]
        )
        for chunk in chunks(n):
            for name in TABLES:
                await conn.copy_records_to_table(
                    name, records=getattr(chunk, name), columns=COLUMNS[name]
                )
        for row in kept:
            await conn.execute(row["indexdef"])
        for name in ("riders", *TABLES):
            await conn.execute(f"VACUUM ANALYZE {name}")
        # The ids were given: the sequences must follow, as after ordinary inserts.
        for name in ("riders", "drafts", "reports", "events"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
            )
    finally:
        await conn.close()
