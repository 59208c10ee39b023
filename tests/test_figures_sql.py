"""The SQL figures equal the plain-Python reference, on random histories and periods.

bot/reporting/metrics.py's `tally()` and bot/domain/points.py's `board()` are the definitions,
simple enough
to check by hand; storage/figures.py counts the same in SQL, bounded by the period. Here
hypothesis draws report histories (times on a coarse grid, so reports often start, close
or fall due exactly on a period's bounds, with some sub-second jitter) and periods, writes
them to a real database (SQLite, or PostgreSQL under SUISHOU_TEST_DATABASE_URL) and compares,
for the county, for each desk, for one community and for the supervisors' queue.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from bot.config import PointsRules
from bot.domain.points import ReportCredit, board
from bot.reporting.figures import Figures
from bot.reporting.metrics import (
    ClosureTimes,
    Metrics,
    Period,
    ReportFacts,
    Tally,
    by_community,
    tally,
)
from storage import closure_times
from storage.database import Database
from storage.db import create_engine, migrate
from storage.figures import EVERY
from storage.tables import drafts, events, reports, riders
from tests.databases import database_url

BASE = datetime(2026, 3, 2, tzinfo=UTC)
STEP = timedelta(hours=6)
DESKS: list[str | None] = ["A", "B", None]
RULES = PointsRules(accepted=2, fixed_bonus=3)


@dataclass(frozen=True)
class Spec:
    """One drawn report: its reference facts and what the points need besides."""

    facts: ReportFacts
    rider_id: int
    accepted: bool


def moment(steps: int, jitter_ms: int) -> datetime:
    return BASE + steps * STEP + timedelta(milliseconds=jitter_ms)


@st.composite
def histories(draw: st.DrawFn) -> list[Spec]:
    count = draw(st.integers(0, 14))
    # Mostly on the grid (so moments meet the period's bounds), sometimes just off it.
    jitter = st.sampled_from([0, 0, 0, 1, 500, 999])
    specs = []
    for i in range(1, count + 1):
        created_step = draw(st.integers(0, 12))
        created = moment(created_step, draw(jitter))
        deadline = moment(created_step + draw(st.integers(0, 6)), draw(jitter))
        outcome = draw(st.sampled_from([None, None, "fixed", "rejected"]))
        closed = moment(created_step + draw(st.integers(0, 8)), draw(jitter)) if outcome else None
        if closed is not None and closed < created:
            closed = created
        later = st.integers(created_step, created_step + 8).map(lambda s: moment(s, 0))
        transfers = tuple(sorted(draw(st.lists(later, max_size=2))))
        feedback = tuple(sorted(draw(st.lists(st.tuples(later, st.booleans()), max_size=3))))
        resolved = draw(st.integers(0, 3))
        specs.append(
            Spec(
                facts=ReportFacts(
                    id=i,
                    community_id=draw(st.sampled_from(DESKS)),
                    category="fire",
                    created_at=created,
                    deadline_at=deadline,
                    closed_at=closed,
                    outcome=outcome,
                    resolved_count=resolved,
                    reopened_count=draw(st.integers(0, resolved)),
                    transfers=transfers,
                    feedback=feedback,
                ),
                rider_id=draw(st.integers(1, 4)),
                accepted=draw(st.booleans()),
            )
        )
    return specs


periods = st.tuples(
    st.integers(-1, 16), st.integers(1, 8), st.sampled_from([0, 0, 0, 1, 500])
).map(lambda p: Period(moment(p[0], 0), moment(p[0] + p[1], p[2])))


async def store(db: Database, specs: list[Spec]) -> None:
    """Replace the database's reports with these, as the application would have written."""
    async with db.transaction() as conn:
        for table in (events, reports, drafts, riders):
            await conn.execute(delete(table))
        await conn.execute(
            insert(riders),
            [{"id": n, "display_name": f"r{n}", "created_at": BASE} for n in range(1, 5)],
        )
        for spec in specs:
            f = spec.facts
            await conn.execute(
                insert(drafts).values(
                    id=f.id,
                    rider_id=spec.rider_id,
                    status="submitted",
                    created_at=f.created_at,
                    updated_at=f.created_at,
                )
            )
            await conn.execute(
                insert(reports).values(
                    id=f.id,
                    draft_id=f.id,
                    rider_id=spec.rider_id,
                    category=f.category,
                    lat=36.1,
                    lon=113.2,
                    location_source="gps",
                    community_id=f.community_id,
                    route_method="boundary",
                    status={"fixed": "closed", "rejected": "rejected"}.get(
                        f.outcome or "", "dispatched"
                    ),
                    created_at=f.created_at,
                    deadline_at=f.deadline_at,
                    closed_at=f.closed_at,
                    outcome=f.outcome,
                    accepted_at=f.created_at if spec.accepted else None,
                    resolve_count=f.resolved_count,
                    reopen_count=f.reopened_count,
                    transfer_count=len(f.transfers),
                )
            )
            rows: list[dict[str, Any]] = [
                {"kind": "transferred", "at": at, "data": {"to": "B"}} for at in f.transfers
            ] + [
                {"kind": "confirmed" if fixed else "reopened", "at": at, "data": {"fixed": fixed}}
                for at, fixed in f.feedback
            ]
            for row in rows:
                await conn.execute(
                    insert(events).values(
                        report_id=f.id,
                        kind=row["kind"],
                        actor_kind="rider",
                        actor_id=spec.rider_id,
                        at=row["at"],
                        data=json.dumps(row["data"]),
                    )
                )


def assert_same(found: Tally, expected: Tally, where: str) -> None:
    assert found == expected, f"{where}: SQL {found} != reference {expected}"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = database_url(tmp_path)
    engine = create_engine(url)

    async def prepare() -> None:
        await migrate(engine)
        await engine.dispose()

    asyncio.run(prepare())
    return url


def run(url: str, check: Any) -> None:
    async def body() -> None:
        db = Database(create_engine(url))
        try:
            await check(db)
        finally:
            await db.close()

    asyncio.run(body())


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=histories(), period=periods)
def test_sql_tallies_equal_the_reference(db_url: str, specs: list[Spec], period: Period) -> None:
    facts = [s.facts for s in specs]

    async def check(db: Database) -> None:
        await store(db, specs)
        figures = Figures(db)
        county = await figures.tallies(period)
        assert_same(county.total, tally(facts, period), "county")
        lean = await figures.tallies(period, details=False)  # the county's /stats
        expected = tally(facts, period)
        # Of the closure times, only those the figures read (median, 90th percentile).
        assert lean.total.times == ClosureTimes.of(expected.durations)
        assert_same(
            replace(lean.total, times=None),
            replace(expected, durations=()),
            "county, details for the total only",
        )
        assert Metrics.of(lean.total) == Metrics.of(expected)
        walk_from, closure_times.WALK_FROM = closure_times.WALK_FROM, 0
        try:  # as a year of the county's closures is read: walking the closure-time index
            walked = await figures.tallies(period, details=False)
        finally:
            closure_times.WALK_FROM = walk_from
        assert walked.total == lean.total
        reference = by_community(facts, period, DESKS)
        for desk in DESKS:
            assert_same(county.tally(desk), reference[desk], f"desk {desk} of the county")
        for desk in ("A", None):
            alone = await figures.tallies(period, desk)
            assert_same(alone.total, reference[desk], f"desk {desk} alone")
        assert set(county.per_desk) <= set(DESKS)
        assert (await figures.tallies(period, EVERY, durations=False)).total.durations == ()
        rates_only = await figures.tallies(period, durations=False, details=False)  # charts
        assert rates_only.total.times is None
        assert_same(
            replace(rates_only.total, transfers=0, feedback_count=0, feedback_fixed=0),
            replace(expected, durations=(), transfers=0, feedback_count=0, feedback_fixed=0),
            "county, rates only",
        )

    run(db_url, check)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=histories(), period=periods)
def test_sql_points_equal_the_reference(db_url: str, specs: list[Spec], period: Period) -> None:
    credits = [
        ReportCredit(s.rider_id, s.facts.created_at, s.accepted, s.facts.outcome) for s in specs
    ]
    expected = board(credits, RULES, period)

    async def check(db: Database) -> None:
        await store(db, specs)
        figures = Figures(db)
        found = await figures.board(period, RULES, limit=10, lang="zh")
        assert [(s.rider_id, s.points, s.reports, s.rank) for s in found] == [
            (s.rider_id, s.points, s.reports, s.rank) for s in expected
        ]
        for standing in expected:
            mine = await figures.standing(standing.rider_id, period, RULES)
            assert mine is not None
            assert (mine["points"], mine["reports"], mine["rank"], mine["riders"]) == (
                standing.points,
                standing.reports,
                standing.rank,
                len(expected),
            )
        absent = {1, 2, 3, 4} - {s.rider_id for s in expected}
        for rider_id in absent:
            assert await figures.standing(rider_id, period, RULES) is None

    run(db_url, check)


def test_a_county_of_many_communities_is_counted_desk_by_desk(db_url: str) -> None:
    """More communities than one statement counts (storage/per_desk.py: BRANCHES; SQLite
    refuses more than 500 SELECTs in one compound): every desk still has its own figures."""
    desks: list[str | None] = [f"d{i:03d}" for i in range(230)] + [None]
    specs = [
        Spec(
            facts=ReportFacts(
                id=i,
                community_id=desk,
                category="fire",
                created_at=moment(i % 5, 0),
                deadline_at=moment(i % 5 + 2, 0),
                closed_at=moment(i % 5 + i % 4, 0) if i % 3 else None,
                outcome="fixed" if i % 3 else None,
                resolved_count=i % 2,
                reopened_count=0,
                transfers=(),
                feedback=(),
            ),
            rider_id=1 + i % 4,
            accepted=True,
        )
        for i, desk in enumerate([*desks, *desks[::7]], start=1)
    ]
    facts = [s.facts for s in specs]
    period = Period(moment(1, 0), moment(4, 0))

    async def check(db: Database) -> None:
        await store(db, specs)
        county = await Figures(db).tallies(period)
        reference = by_community(facts, period, desks)
        for desk in desks:
            assert_same(county.tally(desk), reference[desk], f"desk {desk}")
        assert_same(county.total, tally(facts, period), "county")

    run(db_url, check)
