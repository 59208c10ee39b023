"""A synthetic county for bench/bench_scale.py: 500 communities, N reports over two years.

Not a script (the leading underscore keeps tests/test_benchmarks.py from running it).

`scale_config` builds a Config from config.example.toml with 500 synthetic communities
(centre + radius on a grid around the example's town; a tenth of them are topics of forum
groups) and the example's supervisors and categories. `seed` writes N reports, their drafts,
riders, followers and events into a database the migrations made, with the stdlib sqlite3
module: indexes dropped, batched executemany, synchronous=OFF while loading; then the
indexes are rebuilt from storage/tables.py (the same definitions the migrations create).

The lifecycle of each report is drawn at random and replayed up to NOW, writing the events
bot/casework/service.py, bot/casework/dispatch.py and bot/casework/sweep.py write, so recent
reports are naturally still open. The mix (fate drawn once per report):

* 80 % fixed: accepted within 0.1-4 h; resolved on time (85 %: before 0.95 of the deadline)
  or late (15 %: 1-2.5 deadlines after creation); 10 % are reopened (返工) once and fixed
  again; the rider confirms within 0.2-48 h (75 %), else it closes by itself after 72 h.
* 12 % rejected (a reason; 40 % after acceptance) within 0.2-12 h.
* 7 % stalled: left past the deadline and closed late, 1-60 days after it (75 % fixed,
  25 % rejected as not ours / no information).
* 1 % never closed: open and overdue for good (the carry-over of 应结案数).
  Stalled and never-closed reports were accepted about half the time.
* Also: 6 % transferred once before acceptance; 15 % get a staff reply, 8 % a rider reply;
  2 % get one to three +1 followers; reminders, overdue marks and escalations (the sweep)
  wherever a report was still open at those moments.

Reports are spread evenly over the two years in ticket order (ids grow with created_at, as in
the bot, so a period's reports sit together in the table), over the communities by a Zipf-like
weight (4 % to the supervisors' queue), over riders by a skewed weight (some riders report a
lot). Events are written in time order within each batch of CHUNK reports (about two weeks at
1M), so the events table is in roughly the order the bot appends to it.
"""

from __future__ import annotations

import bisect
import json
import random
import sqlite3
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateIndex

from bot.config import Config, parse_config
from bot.reporting.metrics import Period
from storage.tables import drafts, events, reports

REPO_ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 6, 17, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Asia/Shanghai
HISTORY = timedelta(days=730)
COMMUNITIES = 500
FORUM_COMMUNITIES = 50  # the first 50 are topics of five forum groups
SUPERVISORS_SHARE = 0.04
SEED = 20260617
CHUNK = 20_000  # reports generated and inserted per batch
HOUR = 3600.0
DAY = 86400.0
CONFIRM_WINDOW = 72 * HOUR
REMIND_BEFORE = 4 * HOUR
SWEEP_EVERY = 300.0
OPEN = frozenset({"submitted", "dispatched", "accepted", "reopened"})
NOTES = (None, None, "路面坑洼，电动车容易摔", "井盖缺失", "路灯不亮", "堆放杂物", "垃圾满溢")
REASONS = ("duplicate", "not_hazard", "not_ours", "no_info")
CENTRE = (113.20, 36.10)  # lon, lat (WGS-84)
GRID_STEP = 0.012  # degrees between community centres (about 1.1-1.3 km)


def scale_config(database_url: str, photo_dir: Path, communities: int = COMMUNITIES) -> Config:
    """config.example.toml with that many synthetic communities (centre + radius)."""
    raw = tomllib.loads((REPO_ROOT / "config.example.toml").read_text(encoding="utf-8"))
    raw["storage"] = {"database_url": database_url, "photo_dir": str(photo_dir)}
    raw["communities"] = [_community(i) for i in range(communities)]
    return parse_config(raw, base_dir=photo_dir.parent)


def _community(i: int) -> dict[str, Any]:
    row, col = divmod(i, 25)
    item: dict[str, Any] = {
        "id": f"c{i:03d}",
        "name": f"城关{i:03d}社区",
        "coordinates": "wgs84",
        "centre": [CENTRE[0] + (col - 12) * GRID_STEP, CENTRE[1] + (row - 10) * GRID_STEP],
        "radius_m": 700,
    }
    if i < FORUM_COMMUNITIES:  # ten communities share each forum group, one topic each
        item["chat_id"] = -1002000000000 - i // 10
        item["topic_id"] = 100 + i % 10
    else:
        item["chat_id"] = -1003000000000 - i
    return item


@dataclass
class Expected:
    """Counts the generator knows for one period, to check the SQL reads the same data."""

    start: float
    end: float
    received: int = 0
    closed: int = 0
    overdue_open: int = 0

    def count(self, created: float, deadline: float, closed_at: float | None) -> None:
        if self.start <= created < self.end:
            self.received += 1
        if closed_at is not None and self.start <= closed_at < self.end:
            self.closed += 1
        still_open = created < self.end and (closed_at is None or closed_at >= self.end)
        if still_open and deadline < self.end:
            self.overdue_open += 1


@dataclass
class Summary:
    reports: int = 0
    riders: int = 0
    events: int = 0
    followers: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    open_overdue_now: int = 0


# ---- timestamps as SQLAlchemy stores them on SQLite ----------------------------------

_EPOCH_DAY = date(1970, 1, 1)
_DAYS: dict[int, str] = {}


def _ts(moment: float | None) -> str | None:
    """'YYYY-MM-DD HH:MM:SS.ffffff' of a UTC epoch moment: SQLAlchemy's SQLite DATETIME."""
    if moment is None:
        return None
    micros = round(moment * 1_000_000)
    day, rest = divmod(micros, 86_400_000_000)
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = (_EPOCH_DAY + timedelta(days=day)).isoformat()
    seconds, micro = divmod(rest, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{text} {hours:02d}:{minutes:02d}:{seconds:02d}.{micro:06d}"


def _json(**data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


# ---- one report's life ---------------------------------------------------------------


class _Generator:
    def __init__(self, config: Config, n: int, check: Period, history: timedelta) -> None:
        self.config = config
        self.rng = random.Random(SEED + n)
        self.now = NOW.timestamp()
        self.n = n
        self.history = history.total_seconds()
        self.n_riders = max(10, n // 20)
        ids: list[str | None] = [c.id for c in config.communities]
        weights = [1 / (rank + 5) ** 0.8 for rank in range(len(ids))]
        self.rng.shuffle(weights)
        scale = (1 - SUPERVISORS_SHARE) / sum(weights)
        self.desks = [*ids, None]
        self.cum = list(_accumulate([w * scale for w in weights] + [SUPERVISORS_SHARE]))
        self.chats = {c.id: c.chat.chat_id for c in config.communities}
        self.chats[None] = config.supervisors.chat.chat_id
        self.centres = {c.id: c.centre for c in config.communities}
        self.staff = {
            cid: [(9_000_000 + k * 10 + j, f"{name}·{j}") for j in range(3)]
            for k, (cid, name) in enumerate(
                [(c.id, c.name[-5:]) for c in config.communities] + [(None, "督办")]
            )
        }
        self.categories = [(c.code, c.deadline.total_seconds()) for c in config.categories]
        self.expected = Expected(check.start.timestamp(), check.end.timestamp())
        self.summary = Summary(riders=self.n_riders)
        self.accepted_json = {s: _json(name=s[1]) for v in self.staff.values() for s in v}

    def rider(self) -> int:
        return 1 + int(self.n_riders * self.rng.random() ** 2.5)  # a few riders report a lot

    def hours(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high) * HOUR

    def plan(self, created: float, deadline: float, cid: str | None) -> list[tuple]:
        """The report's intended steps (kind, at, extra), in time order; NOW cuts them."""
        rng, hours = self.rng, self.hours
        t = created + rng.uniform(1, 5)
        steps: list[tuple] = [("dispatched", t, cid)]
        if rng.random() < 0.06:
            t += hours(0.2, 6)
            to = rng.choice(self.desks)
            if to != cid:
                steps.append(("transferred", t, to))
                cid = to
        fate = rng.random()
        accept = fate < 0.80 or rng.random() < (0.4 if fate < 0.92 else 0.55)
        if accept:
            t += hours(0.1, 4)
            steps.append(("accepted", t, None))
            if rng.random() < 0.15:
                steps.append(("replied", t + hours(0.1, 2), None))
                if rng.random() < 0.5:
                    steps.append(("rider_replied", t + hours(2, 6), None))
        span = deadline - created
        if fate < 0.80:  # fixed
            if rng.random() < 0.85:
                done = created + rng.uniform(0.02, 0.95) * span
            else:
                done = created + rng.uniform(1.0, 2.5) * span
            self.fix(steps, max(done, t + 0.25 * HOUR), reopen=rng.random() < 0.10)
        elif fate < 0.92:  # rejected
            steps.append(("rejected", t + hours(0.2, 12), rng.choice(REASONS)))
        elif fate < 0.99:  # stalled, closed late
            late = deadline + rng.uniform(1, 60) * DAY
            if rng.random() < 0.75:
                self.fix(steps, late, reopen=False)
            else:
                steps.append(("rejected", late, rng.choice(("not_ours", "no_info"))))
        elif accept and rng.random() < 0.3:  # never closed: resolved, then "not fixed"
            steps.append(("resolved", t + hours(2, 30), None))
            steps.append(("reopened", t + hours(40, 60), None))
        if rng.random() < 0.02:
            for k in range(rng.randint(1, 3)):
                steps.append(("joined", created + hours(1, 48) + k, self.rider()))
        steps.sort(key=lambda s: s[1])
        return steps

    def fix(self, steps: list[tuple], at: float, *, reopen: bool) -> None:
        rng, hours = self.rng, self.hours
        steps.append(("resolved", at, None))
        if reopen:
            at += hours(1, 24)
            steps.append(("reopened", at, None))
            at += hours(0.1, 3)
            steps.append(("accepted", at, None))
            at += hours(1, 24)
            steps.append(("resolved", at, None))
        if rng.random() < 0.75:
            steps.append(("confirmed", at + hours(0.2, 48), None))
        else:
            steps.append(("auto_closed", at + CONFIRM_WINDOW, None))

    def report(self, rid: int, out: _Rows) -> None:
        """One report: its draft, row, events and followers, as they stand at NOW."""
        rng = self.rng
        # Ticket numbers follow the order reports were made, as they do in the bot.
        span = self.history - 60
        created = self.now - self.history + span * (rid - 1 + rng.random()) / self.n
        code, deadline_s = rng.choice(self.categories)
        deadline = created + deadline_s
        index = min(bisect.bisect_left(self.cum, rng.random() * self.cum[-1]), len(self.cum) - 1)
        cid = self.desks[index]
        rider_id = self.rider()
        lat, lon, method, distance = self.place(cid)
        note = rng.choice(NOTES)
        draft_times = (_ts(created - rng.uniform(30, 300)), _ts(created))
        out.drafts.append(
            (rid, rider_id, "submitted", lat, lon, "live", code, note, 0, 0, *draft_times)
        )
        submitted = _json(community=cid, distance_m=distance, route=method)
        out.events.append((rid, "submitted", "rider", rider_id, _ts(created), submitted))
        row = {
            "status": "submitted",
            "community_id": cid,
            "handler": None,
            "accepted_at": None,
            "resolved_at": None,
            "closed_at": None,
            "outcome": None,
            "reason": None,
            "duplicate_of": None,
            "transfers": 0,
            "resolves": 0,
            "reopens": 0,
        }
        marks = self.replay(rid, rider_id, row, created, deadline, out)
        handler = row["handler"] or (None, None)
        out.reports.append(
            (
                *(rid, rid, rider_id, code, lat, lon, "live", note, row["community_id"], method),
                *(row["status"], _ts(created), _ts(deadline), _ts(row["closed_at"])),
                *(handler[0], handler[1], _ts(row["accepted_at"]), _ts(row["resolved_at"])),
                *(row["outcome"], row["reason"], row["duplicate_of"], row["transfers"]),
                *(row["resolves"], row["reopens"]),
                *(_ts(marks.get(m)) for m in ("reminded", "overdue", "escalated")),
            )
        )
        self.expected.count(created, deadline, row["closed_at"])
        s = self.summary
        s.reports += 1
        s.statuses[row["status"]] = s.statuses.get(row["status"], 0) + 1
        if row["outcome"] is None and deadline < self.now:
            s.open_overdue_now += 1

    def place(self, cid: str | None) -> tuple[float, float, str, float | None]:
        """Where the hazard is: near the community's centre, or outside every community."""
        rng = self.rng
        centre = self.centres.get(cid)
        if centre is None:
            lat, lon = CENTRE[1] + rng.uniform(0.2, 0.3), CENTRE[0] + rng.uniform(0.2, 0.3)
            return lat, lon, "none", None
        lat = centre.lat + rng.uniform(-0.004, 0.004)
        lon = centre.lon + rng.uniform(-0.004, 0.004)
        return lat, lon, "radius", round(rng.uniform(10, 650), 1)

    def replay(
        self, rid: int, rider_id: int, row: dict, created: float, deadline: float, out: _Rows
    ) -> dict[str, float]:
        """Play the planned steps up to NOW, with the sweep's marks wherever it was open."""
        rng, ev = self.rng, out.events
        marks: dict[str, float] = {}
        sweep = [
            ("reminded", deadline - REMIND_BEFORE + rng.uniform(0, SWEEP_EVERY)),
            ("overdue", deadline + rng.uniform(0, SWEEP_EVERY)),
        ]
        sweep.append(("escalated", sweep[1][1] + 0.5))
        followers: set[int] = set()
        for kind, at, extra in self.plan(created, deadline, row["community_id"]):
            while sweep and sweep[0][1] <= at and sweep[0][1] < self.now:
                mark, when = sweep.pop(0)
                if row["status"] in OPEN:
                    marks[mark] = when
                    ev.append((rid, mark, "system", None, _ts(when), "{}"))
            if at >= self.now:
                break
            if kind == "joined" and row["status"] in ("closed", "rejected"):
                continue  # +1 is offered only on open reports
            self.step(rid, rider_id, row, kind, at, extra, ev)
            if kind == "joined" and extra != rider_id and extra not in followers:
                followers.add(extra)
                out.followers.append((rid, extra, _ts(at)))
        for mark, when in sweep:
            if when < self.now and row["status"] in OPEN:
                marks[mark] = when
                ev.append((rid, mark, "system", None, _ts(when), "{}"))
        return marks

    def step(
        self, rid: int, rider_id: int, row: dict, kind: str, at: float, extra: Any, ev: list
    ) -> None:
        """Apply one step to the row and write its event, as the application does."""
        stamp = _ts(at)
        staff = self.staff[row["community_id"]]
        if kind == "dispatched":
            ev.append((rid, kind, "system", None, stamp, _json(chat_id=self.chats[extra])))
            row["status"] = "dispatched"
        elif kind == "transferred":
            sid, name = staff[0]
            moved = _json(name=name, to=extra or "_sup", **{"from": row["community_id"]})
            ev.append((rid, kind, "staff", sid, stamp, moved))
            row.update(status="dispatched", community_id=extra, handler=None)
            row["transfers"] += 1
        elif kind == "accepted":
            who = self.rng.choice(staff)
            ev.append((rid, kind, "staff", who[0], stamp, self.accepted_json[who]))
            row.update(status="accepted", handler=who)
            row["accepted_at"] = row["accepted_at"] or at
        elif kind == "replied":
            who = row["handler"] or staff[0]
            ev.append((rid, kind, "staff", who[0], stamp, _json(name=who[1], text="已派人处理")))
        elif kind == "rider_replied":
            ev.append((rid, kind, "rider", rider_id, stamp, _json(text="好的，谢谢")))
        elif kind == "joined":
            ev.append((rid, kind, "rider", extra, stamp, _json(photos=1)))
        elif kind == "resolved":
            who = row["handler"] or staff[0]
            ev.append((rid, kind, "staff", who[0], stamp, _json(name=who[1], note="已处理")))
            row.update(status="resolved", resolved_at=at)
            row["resolves"] += 1
        elif kind == "reopened":
            ev.append((rid, kind, "rider", rider_id, stamp, '{"fixed": false}'))
            row["status"] = "reopened"
            row["reopens"] += 1
        elif kind in ("confirmed", "auto_closed"):
            actor = ("rider", rider_id) if kind == "confirmed" else ("system", None)
            data = '{"fixed": true}' if kind == "confirmed" else "{}"
            ev.append((rid, kind, *actor, stamp, data))
            reason = "confirmed" if kind == "confirmed" else "auto"
            row.update(status="closed", outcome="fixed", closed_at=row["resolved_at"])
            row["reason"] = reason
        elif kind == "rejected":
            who = row["handler"] or staff[0]
            dup = rid - self.rng.randint(1, 50) if extra == "duplicate" and rid > 50 else None
            data = _json(name=who[1], reason=extra, **({"duplicate_of": dup} if dup else {}))
            ev.append((rid, kind, "staff", who[0], stamp, data))
            row.update(status="rejected", outcome="rejected", closed_at=at, duplicate_of=dup)
            row["reason"] = extra


@dataclass
class _Rows:
    drafts: list[tuple] = field(default_factory=list)
    reports: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    followers: list[tuple] = field(default_factory=list)


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


# ---- writing -------------------------------------------------------------------------

_DRAFT_COLS = (
    "id, rider_id, status, lat, lon, location_source, category, note, photos_dropped, "
    "not_duplicate, created_at, updated_at"
)
_REPORT_COLS = (
    "id, draft_id, rider_id, category, lat, lon, location_source, note, community_id, "
    "route_method, status, created_at, deadline_at, closed_at, handler_id, handler_name, "
    "accepted_at, resolved_at, outcome, close_reason, duplicate_of, transfer_count, "
    "resolve_count, reopen_count, reminded_at, overdue_at, escalated_at"
)
_EVENT_COLS = "report_id, kind, actor_kind, actor_id, at, data"
_INDEXED = (drafts, reports, events)


def _insert(db: sqlite3.Connection, table: str, cols: str, rows: list[tuple]) -> None:
    marks = ", ".join("?" * (cols.count(",") + 1))
    db.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


def seed(
    path: Path, config: Config, n: int, check: Period, history: timedelta = HISTORY
) -> tuple[Summary, Expected]:
    """Fill the migrated SQLite database at `path` with N reports made over `history`
    before NOW (deterministic for a given N)."""
    gen = _Generator(config, n, check, history)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")  # 256 MiB while loading
        db.execute("BEGIN")
        for table in _INDEXED:
            for index in table.indexes:
                db.execute(f"DROP INDEX IF EXISTS {index.name}")
        joined = _ts(gen.now - gen.history - 7 * DAY)
        riders_rows = [
            (
                *(i, f"骑手{i:05d}", ("meituan", "eleme", "other")[i % 3]),
                *(None, "zh", None, joined if i % 10 else None, joined),
            )
            for i in range(1, gen.n_riders + 1)
        ]
        _insert(
            db,
            "riders",
            "id, display_name, platform, phone, language, awaiting, registered_at, created_at",
            riders_rows,
        )
        _insert(
            db,
            "rider_accounts",
            "channel, external_id, rider_id, created_at",
            [("telegram", str(700_000_000 + r[0]), r[0], r[-1]) for r in riders_rows],
        )
        for first in range(1, n + 1, CHUNK):
            rows = _Rows()
            for rid in range(first, min(n, first + CHUNK - 1) + 1):
                gen.report(rid, rows)
            _insert(db, "drafts", _DRAFT_COLS, rows.drafts)
            _insert(db, "reports", _REPORT_COLS, rows.reports)
            rows.events.sort(key=lambda e: e[4])  # the order the bot would append them
            _insert(db, "events", _EVENT_COLS, rows.events)
            _insert(db, "report_followers", "report_id, rider_id, joined_at", rows.followers)
            gen.summary.events += len(rows.events)
            gen.summary.followers += len(rows.followers)
        for table in _INDEXED:
            for index in table.indexes:
                db.execute(str(CreateIndex(index).compile(dialect=sqlite_dialect.dialect())))
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    return gen.summary, gen.expected
