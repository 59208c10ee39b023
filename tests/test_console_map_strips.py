"""The map reads a viewport strip by strip of latitude (ix_reports_map_strip): whatever the
box, on a strip's edge or astride hundreds of them, it shows exactly the reports in it.

Reports sit on the strips' edges, a hair either side of them, at the poles and on the
date line, where rounding (PostgreSQL's CAST) or cutting (SQLite's) would put a report in
the neighbouring strip; each answer is held to a plain-Python reading of the same rows.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import map_points
from storage.db import create_engine, migrate
from storage.map_points import BBox
from storage.tables import LAT_STRIPS, drafts, reports, riders
from tests.databases import database_url

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def edge(k: int) -> float:
    """The southern edge of strip k, in degrees of latitude."""
    return k / LAT_STRIPS - 90


def places() -> list[tuple[float, float]]:
    rand = random.Random(5)
    base = math.floor((36.05 + 90) * LAT_STRIPS)
    found: list[tuple[float, float]] = []
    for k in range(base - 3, base + 4):
        for lat in (edge(k), math.nextafter(edge(k), -90), math.nextafter(edge(k), 90)):
            found += [(lat, 113.0 + rand.randrange(0, 100) / 1000) for _ in range(3)]
        found += [(edge(k) + 1e-9, 113.05), (edge(k) - 1e-9, 113.05)]
    found += [(36.0 + rand.uniform(-0.5, 0.5), 113.0 + rand.uniform(-0.5, 0.5)) for _ in range(80)]
    found += [(-90.0, 0.0), (90.0, 0.0), (-89.999, -180.0), (89.999, 180.0), (0.0, 0.0)]
    found += [(-33.86, 151.2), (-33.86 + 1e-9, 151.2)]  # the southern hemisphere
    return found


PLACES = places()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url(tmp_path))
    await migrate(engine)
    created = NOW - timedelta(days=1)
    async with engine.begin() as conn:
        await conn.execute(insert(riders).values(id=1, display_name="小王", created_at=created))
        await conn.execute(
            insert(drafts),
            [
                {"id": i, "rider_id": 1, "status": "submitted"}
                | {"created_at": created, "updated_at": created}
                for i in range(1, len(PLACES) + 1)
            ],
        )
        await conn.execute(
            insert(reports),
            [
                {"id": i, "draft_id": i, "rider_id": 1, "category": "fire", "lat": lat}
                | {"lon": lon, "location_source": "gps", "route_method": "boundary"}
                | {"status": "accepted", "created_at": created, "deadline_at": NOW}
                for i, (lat, lon) in enumerate(PLACES, start=1)
            ],
        )
    yield engine
    await engine.dispose()


def boxes() -> list[BBox]:
    k = math.floor((36.05 + 90) * LAT_STRIPS)
    return [
        BBox(edge(k), 113.0, edge(k + 1), 113.1),  # exactly one strip, edges included
        BBox(edge(k), 113.0, edge(k), 113.1),  # a box as thin as one edge
        BBox(math.nextafter(edge(k), 90), 113.0, edge(k + 2), 113.1),  # a hair inside
        BBox(edge(k - 2) - 1e-9, 113.02, edge(k + 1) + 1e-9, 113.06),
        BBox(35.5, 112.5, 36.5, 113.5),  # more strips than are looked up one by one
        BBox(-90, -180, 90, 180),  # the world
        BBox(-90, -180, -89.99, 180),  # the south pole
        BBox(89.99, 179.0, 90, 180),  # the north pole, on the date line
        BBox(-34.0, 151.0, -33.86, 151.5),  # south of the equator, edge on a report
    ]


@pytest.mark.parametrize("box", boxes())
async def test_the_map_shows_exactly_the_reports_in_the_box_strip_by_strip(
    engine: AsyncEngine, box: BBox
) -> None:
    want = [
        i
        for i, (lat, lon) in enumerate(PLACES, start=1)
        if box.south <= lat <= box.north and box.west <= lon <= box.east
    ]
    async with engine.connect() as conn:
        view = await map_points.viewport(conn, box, now=NOW)
    assert view.clusters == [] and [p.id for p in view.points] == want


def test_a_wide_box_walks_its_strips_range_and_a_narrow_one_each_strip() -> None:
    narrow = map_points.in_strips(BBox(36.0, 113.0, 36.01, 113.01))
    wide = map_points.in_strips(BBox(30.0, 110.0, 40.0, 120.0))
    assert " IN " in str(narrow) and " BETWEEN " in str(wide)
