"""The console's reads: the queue, its tab counts, a report's page and the map's viewport.

A small county is written straight into a real database (SQLite, or PostgreSQL under
SUISHOU_TEST_DATABASE_URL), with many reports sharing a deadline so that page boundaries
fall inside ties; every answer is held to a plain-Python reading of the same rows.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import map_points, queue, report_page
from storage import reports as report_rows
from storage.db import create_engine, migrate
from storage.figures import EVERY, Scope
from storage.map_points import BBox, Group
from storage.queue import Cursor, Order
from storage.tables import drafts, photos, report_followers, report_photos, reports, riders
from tests.databases import database_url

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
DESKS: list[str | None] = ["A", "B", None]
CATEGORIES = ("sanitation", "fire", "order")
STATUSES = ("submitted", "dispatched", "accepted", "reopened", "resolved", "closed", "rejected")
COUNT = 240


@dataclass(frozen=True)
class Row:
    id: int
    community_id: str | None
    category: str
    status: str
    created_at: datetime
    deadline_at: datetime
    lat: float
    lon: float

    @property
    def overdue(self) -> bool:
        return self.status in queue.OPEN and self.deadline_at < NOW

    def group(self) -> Group:
        if self.overdue:
            return Group.OVERDUE
        plain = [g for g in Group if g is not Group.OVERDUE]
        return next(g for g in plain if self.status in queue.STATUSES[g])


def in_group(row: Row, group: Group) -> bool:
    if group is Group.OVERDUE:
        return row.overdue
    return row.status in queue.STATUSES[group]


def in_desk(row: Row, scope: Scope) -> bool:
    return scope is EVERY or row.community_id == scope


def world() -> list[Row]:
    rand = random.Random(11)
    rows = []
    for i in range(1, COUNT + 1):
        rows.append(
            Row(
                id=i,
                community_id=rand.choice(DESKS),
                category=rand.choice(CATEGORIES),
                status=rand.choice(STATUSES),
                created_at=NOW - timedelta(hours=COUNT - i),
                # Six deadlines only: page boundaries fall inside runs of equal deadlines.
                deadline_at=NOW + timedelta(hours=rand.choice((-48, -2, 0, 1, 24, 72))),
                lat=36.0 + rand.randrange(0, 100) / 1000,
                lon=113.0 + rand.randrange(0, 100) / 1000,
            )
        )
    return rows


ROWS = world()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url(tmp_path))
    await migrate(engine)
    async with engine.begin() as conn:
        await conn.execute(
            insert(riders).values(id=1, display_name="小王", created_at=NOW - timedelta(days=30))
        )
        await conn.execute(
            insert(drafts),
            [
                {"id": r.id, "rider_id": 1, "status": "submitted", "created_at": r.created_at}
                | {"updated_at": r.created_at}
                for r in ROWS
            ],
        )
        await conn.execute(
            insert(reports),
            [
                {
                    "id": r.id,
                    "draft_id": r.id,
                    "rider_id": 1,
                    "category": r.category,
                    "lat": r.lat,
                    "lon": r.lon,
                    "location_source": "gps",
                    "note": f"第{r.id}号 " + "路面破损" * 30,
                    "community_id": r.community_id,
                    "route_method": "boundary",
                    "status": r.status,
                    "created_at": r.created_at,
                    "deadline_at": r.deadline_at,
                    "handler_name": "李四" if r.status == "accepted" else None,
                }
                for r in ROWS
            ],
        )
    yield engine
    await engine.dispose()


async def every_page(
    engine: AsyncEngine, size: int, **filters: object
) -> tuple[list[queue.QueueRow], int]:
    """Walk the queue from its first page to its last; the rows and the number of pages."""
    found: list[queue.QueueRow] = []
    after = None
    pages = 0
    while True:
        async with engine.connect() as conn:
            page = await queue.page(conn, now=NOW, size=size, after=after, **filters)
        pages += 1
        assert len(page.rows) <= size
        found += page.rows
        if page.next is None:
            return found, pages
        assert page.rows, "an empty page that says more follow"
        # The cursor goes through a page link and back.
        order = filters.get("order", Order.NEWEST)
        assert isinstance(order, Order)
        after = Cursor.decode(page.next.encode(), order)


def expected(scope: Scope, group: Group | None, category: str | None, order: Order) -> list[int]:
    rows = [
        r
        for r in ROWS
        if in_desk(r, scope)
        and (group is None or in_group(r, group))
        and (category is None or r.category == category)
    ]
    if order is Order.NEWEST:
        return [r.id for r in sorted(rows, key=lambda r: -r.id)]
    return [r.id for r in sorted(rows, key=lambda r: (r.deadline_at, r.id))]


@pytest.mark.parametrize("scope", [*DESKS, EVERY], ids=["A", "B", "supervisors", "county"])
@pytest.mark.parametrize("order", list(Order))
async def test_every_tab_walks_page_by_page_to_exactly_its_reports(
    engine: AsyncEngine, scope: Scope, order: Order
) -> None:
    for group in [*Group, None]:
        for category in (None, "fire"):
            want = expected(scope, group, category, order)
            got, pages = await every_page(
                engine, 7, scope=scope, group=group, category=category, order=order
            )
            assert [r.id for r in got] == want, (group, category)  # no gap, no repeat
            assert pages == max(1, -(-len(want) // 7))  # no empty page after a full one
            assert all(in_desk(ROWS[r.id - 1], scope) for r in got)


async def test_a_desk_never_sees_another_desks_report(engine: AsyncEngine) -> None:
    theirs = next(r for r in ROWS if r.community_id == "B")
    async with engine.connect() as conn:
        mine, _ = await every_page(engine, 50, scope="A")
        assert theirs.id not in {r.id for r in mine}
        assert {r.community_id for r in mine} == {"A"}
        looked_up = await queue.page(conn, scope="A", now=NOW, ticket=theirs.id)
        assert looked_up.rows == []
        assert await report_page.read(conn, theirs.id, "A") is None
        county = await queue.page(conn, scope=EVERY, now=NOW, ticket=theirs.id)
        assert [r.id for r in county.rows] == [theirs.id]


async def test_the_rows_say_what_a_line_of_the_queue_shows(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        page = await queue.page(conn, scope=EVERY, now=NOW, group=Group.OVERDUE, size=500)
        urgent = await queue.page(conn, scope=EVERY, now=NOW, order=Order.URGENT, size=500)
    assert page.rows and all(r.overdue for r in page.rows)
    assert {r.status for r in page.rows} <= set(queue.OPEN)
    accepted = [r for r in page.rows if r.status == "accepted"]
    assert accepted and all(r.handler_name == "李四" for r in accepted)
    assert all(r.note is not None and len(r.note) == queue.NOTE_CHARS for r in page.rows)
    assert all(r.created_at.tzinfo is UTC and r.deadline_at.tzinfo is UTC for r in page.rows)
    # Most urgent first: every overdue report comes before any report still in time.
    flags = [r.overdue for r in urgent.rows if r.status in queue.OPEN]
    assert flags == sorted(flags, reverse=True) and True in flags and False in flags


async def test_a_page_boundary_exactly_at_the_end_leaves_no_empty_page(
    engine: AsyncEngine,
) -> None:
    total = len(expected(EVERY, None, None, Order.NEWEST))
    async with engine.connect() as conn:
        whole = await queue.page(conn, scope=EVERY, now=NOW, size=total)
        short = await queue.page(conn, scope=EVERY, now=NOW, size=total - 1)
    assert len(whole.rows) == total and whole.next is None
    assert short.next == Cursor(short.rows[-1].id)


async def test_tab_counts_match_the_tabs_and_are_capped(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        for scope in [*DESKS, EVERY]:
            for category in (None, "order"):
                tabs = await queue.counts(conn, scope=scope, now=NOW, category=category)
                for group in Group:
                    want = len(expected(scope, group, category, Order.NEWEST))
                    assert tabs[group] == queue.TabCount(want, False), (scope, group)
        capped = await queue.counts(conn, scope=EVERY, now=NOW, cap=5)
    closed = len(expected(EVERY, Group.CLOSED, None, Order.NEWEST))
    assert closed > 5 and capped[Group.CLOSED] == queue.TabCount(5, True)


def test_a_page_link_that_is_not_one_is_refused_with_a_reason() -> None:
    for token, order in [("abc", Order.NEWEST), ("12", Order.URGENT), ("1.2.3", Order.URGENT)]:
        with pytest.raises(ValueError, match="not a queue position"):
            Cursor.decode(token, order)
    at = datetime(2026, 6, 1, 8, 30, 0, 250, tzinfo=UTC)
    assert Cursor.decode(Cursor(42, at).encode(), Order.URGENT) == Cursor(42, at)


async def test_a_reports_page_has_its_timeline_thread_photos_and_followers(
    engine: AsyncEngine,
) -> None:
    ours = next(r for r in ROWS if r.community_id == "A")
    async with engine.begin() as conn:
        await conn.execute(
            insert(photos),
            [
                {"sha256": c * 64, "width": 1, "height": 1, "size": 1, "created_at": NOW}
                for c in "ab"
            ],
        )
        await conn.execute(
            insert(report_photos),
            [
                {"report_id": ours.id, "photo_sha256": "b" * 64, "position": 0},
                {"report_id": ours.id, "photo_sha256": "a" * 64, "position": 1},
            ],
        )
        await conn.execute(
            insert(report_followers).values(report_id=ours.id, rider_id=1, joined_at=NOW)
        )
        steps = [
            ("dispatched", "system", {}),
            ("accepted", "staff", {"name": "李四"}),
            ("replied", "staff", {"name": "李四", "text": "在哪个门口？"}),
            ("rider_replied", "rider", {"text": "北门"}),
        ]
        for i, (kind, role, data) in enumerate(steps):
            at = NOW + timedelta(minutes=i)
            await report_rows.add_event(conn, ours.id, kind, role, 7, at, **data)
    async with engine.connect() as conn:
        page = await report_page.read(conn, ours.id, "A")
        county = await report_page.read(conn, ours.id, EVERY)
        missing = await report_page.read(conn, COUNT + 1, EVERY)
    assert page is not None and county is not None and missing is None
    assert page.report.id == ours.id and page.report.photos == ("b" * 64, "a" * 64)
    assert [e["kind"] for e in page.timeline] == [s[0] for s in steps]
    assert [e["data"]["text"] for e in page.thread] == ["在哪个门口？", "北门"]
    assert page.followers == 1


# ---- the map --------------------------------------------------------------------------

ALL = BBox(35.9, 112.9, 36.2, 113.2)


def inside(row: Row, box: BBox) -> bool:
    return box.south <= row.lat <= box.north and box.west <= row.lon <= box.east


async def test_the_box_holds_the_reports_on_its_edges_and_none_beyond(
    engine: AsyncEngine,
) -> None:
    edge = ROWS[0]
    exact = BBox(edge.lat, edge.lon, edge.lat + 0.02, edge.lon + 0.02)
    nudged = BBox(edge.lat + 1e-9, edge.lon + 1e-9, edge.lat + 0.02, edge.lon + 0.02)
    async with engine.connect() as conn:
        on_edge = await map_points.viewport(conn, exact, now=NOW)
        beyond = await map_points.viewport(conn, nudged, now=NOW)
    assert [p.id for p in on_edge.points] == [r.id for r in ROWS if inside(r, exact)]
    assert edge.id in {p.id for p in on_edge.points}
    assert [p.id for p in beyond.points] == [r.id for r in ROWS if inside(r, nudged)]
    assert edge.id not in {p.id for p in beyond.points}


async def test_the_map_filters_by_desk_category_period_and_state(engine: AsyncEngine) -> None:
    since, until = NOW - timedelta(hours=150), NOW - timedelta(hours=20)
    async with engine.connect() as conn:
        view = await map_points.viewport(
            conn,
            ALL,
            now=NOW,
            scope="B",
            category="sanitation",
            groups=frozenset({Group.OVERDUE, Group.NEW}),
            since=since,
            until=until,
        )
    want = [
        r
        for r in ROWS
        if r.community_id == "B"
        and r.category == "sanitation"
        and since <= r.created_at < until
        and r.group() in (Group.OVERDUE, Group.NEW)
    ]
    assert want and view.clusters == [] and view.cell is None
    assert [(p.id, p.state) for p in view.points] == [(r.id, r.group()) for r in want]


async def test_beyond_the_cap_the_map_answers_with_clusters_counted_in_sql(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        capped = await map_points.viewport(conn, ALL, now=NOW, cap=COUNT - 1, grid=4)
        at_cap = await map_points.viewport(conn, ALL, now=NOW, cap=COUNT)
    assert len(at_cap.points) == COUNT and at_cap.clusters == []
    assert capped.points == [] and capped.cell is not None
    clusters = capped.clusters
    assert sum(c.count for c in clusters) == COUNT
    assert 1 < len(clusters) <= 5 * 5  # a grid of 4 across, plus the cells the box straddles
    for c in clusters:
        members = [
            r
            for r in ROWS
            if int((r.lat + 90) / capped.cell) == int((c.lat + 90) / capped.cell)
            and int((r.lon + 180) / capped.cell) == int((c.lon + 180) / capped.cell)
        ]
        assert len(members) == c.count
        assert c.lat == pytest.approx(sum(r.lat for r in members) / c.count)
        worst = max(members, key=lambda r: map_points.RANK[r.group()]).group()
        assert c.worst is worst
        assert c.report_id == (members[0].id if c.count == 1 else None)
    shape = map_points.as_geojson(capped)
    assert shape["type"] == "FeatureCollection" and len(shape["features"]) == len(clusters)
    first = shape["features"][0]
    assert first["geometry"]["coordinates"] == [clusters[0].lon, clusters[0].lat]
    assert first["properties"]["cluster"] is True
    assert capped.sample == 1 and shape["sampled"] is False  # a small view is counted whole


def cell_of(lat: float, lon: float, cell: float) -> tuple[int, int]:
    return int((lat + 90) / cell), int((lon + 180) / cell)


def members_by_cell(rows: list[Row], cell: float) -> dict[tuple[int, int], list[Row]]:
    found: dict[tuple[int, int], list[Row]] = {}
    for r in rows:
        found.setdefault(cell_of(r.lat, r.lon, cell), []).append(r)
    return found


@pytest.mark.parametrize(
    ("filters", "target"),
    [
        ({}, 10),  # the pilot holds enough: it is the answer (every 10th ticket)
        ({"since": NOW - timedelta(hours=150)}, 5),  # the period's tickets only
        ({"category": "fire"}, 20),  # the pilot holds too few: a finer stride, walked
        ({"groups": frozenset({Group.NEW, Group.OVERDUE})}, 12),
    ],
)
async def test_a_view_of_many_reports_is_counted_on_every_kth_ticket_and_says_so(
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    filters: dict[str, object],
    target: int,
) -> None:
    """Scaled down: a pilot of 24 tickets (one in 10), at least `target` reports counted."""
    monkeypatch.setattr(map_points.map_sample, "PILOT", 24)
    monkeypatch.setattr(map_points.map_sample, "TARGET", target)
    async with engine.connect() as conn:
        view = await map_points.viewport(conn, ALL, now=NOW, cap=20, grid=4, **filters)
    since = filters.get("since")
    groups = filters.get("groups")
    matching = [
        r
        for r in ROWS
        if (since is None or r.created_at >= since)  # type: ignore[operator]
        and filters.get("category", r.category) == r.category
        and (groups is None or r.group() in groups)  # type: ignore[operator]
    ]
    k = view.sample
    assert view.points == [] and view.cell is not None and k > 1
    shape = map_points.as_geojson(view)
    assert shape["sampled"] is True and shape["sample_rate"] == pytest.approx(1 / k)
    # Exactly the reports whose ticket is a multiple of k, each counting for k.
    sampled = members_by_cell([r for r in matching if r.id % k == 0], view.cell)
    exact = members_by_cell(matching, view.cell)
    assert {cell_of(c.lat, c.lon, view.cell) for c in view.clusters} == set(sampled)
    for c in view.clusters:
        ours = sampled[cell_of(c.lat, c.lon, view.cell)]
        assert c.count == k * len(ours) and c.report_id is None
        assert c.lat == pytest.approx(sum(r.lat for r in ours) / len(ours))
        # The colour is a state really in the cell, never worse than the cell's worst.
        whole = exact[cell_of(c.lat, c.lon, view.cell)]
        assert c.worst in {r.group() for r in whole}
    # The estimate of the whole: within 30 % of the reports that match (stated tolerance).
    assert abs(sum(c.count for c in view.clusters) - len(matching)) <= 0.3 * len(matching)


async def test_the_sample_is_the_same_whichever_way_it_is_read(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By stride (ids looked up by key) and along the walked index (id % k = 0)."""
    monkeypatch.setattr(map_points.map_sample, "PILOT", 24)
    monkeypatch.setattr(map_points.map_sample, "TARGET", 10)
    async with engine.connect() as conn:
        by_stride = await map_points.viewport(conn, ALL, now=NOW, cap=20, grid=4)
        monkeypatch.setattr(map_points.map_sample, "TARGET", 10_000)  # pilot never enough
        monkeypatch.setattr(map_points.map_sample, "stride_for", lambda n: by_stride.sample)
        walked = await map_points.viewport(conn, ALL, now=NOW, cap=20, grid=4)
    assert by_stride.sample == walked.sample == 10
    assert [(c.count, c.worst) for c in by_stride.clusters] == [
        (c.count, c.worst) for c in walked.clusters
    ]
    for one, other in zip(by_stride.clusters, walked.clusters, strict=True):
        assert (one.lat, one.lon) == pytest.approx((other.lat, other.lon))  # sums' order


async def test_with_the_real_sizes_a_few_hundred_reports_are_counted_exactly(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        view = await map_points.viewport(conn, ALL, now=NOW, cap=20, grid=4)
    assert view.sample == 1 and sum(c.count for c in view.clusters) == COUNT


def test_a_box_upside_down_or_off_the_earth_is_refused() -> None:
    for args in [(36.2, 113.0, 36.0, 113.2), (36.0, 113.2, 36.2, 113.0), (0, 0, 91, 1)]:
        with pytest.raises(ValueError, match="out of order"):
            BBox(*args)
    with pytest.raises(ValueError, match="not a number"):
        BBox(float("nan"), 0, 1, 1)


def test_the_grid_is_at_most_the_asked_cells_across() -> None:
    for span in (0.001, 0.02, 0.3, 1.7):
        cell = map_points.cell_size(BBox(36.0, 113.0, 36.0 + span, 113.0 + span / 2), 40)
        assert span / cell <= 40 < 2 * span / cell


STREET = BBox(36.02, 113.02, 36.05, 113.05)


@pytest.mark.parametrize(
    ("box", "since", "groups", "walk"),
    [
        (ALL, NOW - timedelta(hours=30), None, map_points.Walk.TIME),
        (STREET, NOW - timedelta(hours=200), None, map_points.Walk.PLACE),
        (STREET, None, None, map_points.Walk.PLACE),
        (ALL, None, frozenset({Group.AWAITING, Group.OVERDUE}), map_points.Walk.LIVE),
        (ALL, NOW - timedelta(hours=30), frozenset({Group.CLOSED}), map_points.Walk.TIME),
    ],
)
async def test_whichever_index_the_map_walks_it_finds_the_same_reports(
    engine: AsyncEngine,
    box: BBox,
    since: datetime | None,
    groups: frozenset[Group] | None,
    walk: map_points.Walk,
) -> None:
    async with engine.connect() as conn:
        assert await map_points._walk(conn, box, NOW, groups, since, None) is walk
        view = await map_points.viewport(conn, box, now=NOW, since=since, groups=groups)
    want = [
        r.id
        for r in ROWS
        if inside(r, box)
        and (since is None or r.created_at >= since)
        and (groups is None or r.group() in groups)
    ]
    assert want and [p.id for p in view.points] == want
