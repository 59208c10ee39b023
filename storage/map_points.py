"""The console map's data for a viewport: the reports in it, or a grid of clusters.

Coordinates are the reports' own: WGS-84 degrees, as phones report them (a map drawn on
GCJ-02 tiles converts the box before asking and the answer after). The answer stays small
whatever the table holds: up to `cap` reports come back as points; beyond that the box is
cut into a grid in SQL and each cell comes back as its count, its centroid and the worst
state in it (overdue > new > accepted > awaiting > closed). The grid is aligned on
360 / 2^k degrees, so panning does not reshuffle the clusters, with at most GRID cells
across the box's longer side. Beyond a few thousand reports the grid is counted on a
sample, every k-th ticket, and says so (storage/map_sample.py): a county's year costs
what a street does.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from storage import map_sample
from storage.figures import EVERY, Scope
from storage.queue import STATUSES, Group, overdue_now
from storage.tables import LAT_STRIPS, lat_strip, reports

POINT_CAP = 2000
GRID = 40
# A box crossing more strips of latitude walks their range whole (a region: its band is
# about the box); fewer are looked up one by one, each a short run of longitudes.
MAX_STRIPS = 256
# Worst first: the state a cluster is coloured by is its highest rank.
RANK = {Group.OVERDUE: 4, Group.NEW: 3, Group.ACCEPTED: 2, Group.AWAITING: 1, Group.CLOSED: 0}
BY_RANK = {rank: group for group, rank in RANK.items()}


@dataclass(frozen=True)
class BBox:
    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        if not all(map(math.isfinite, (self.south, self.west, self.north, self.east))):
            raise ValueError("the map box has a coordinate that is not a number")
        if not (-90 <= self.south <= self.north <= 90):
            raise ValueError(f"the map box's latitudes are out of order: {self}")
        if not (-180 <= self.west <= self.east <= 180):
            raise ValueError(f"the map box's longitudes are out of order: {self}")


@dataclass(frozen=True)
class Point:
    id: int
    lat: float
    lon: float
    category: str
    state: Group


@dataclass(frozen=True)
class Cluster:
    lat: float  # the centroid of its reports
    lon: float
    count: int
    worst: Group
    report_id: int | None  # the one report, when count is 1


@dataclass(frozen=True)
class Viewport:
    points: list[Point]
    clusters: list[Cluster]  # empty unless more than the cap matched
    cell: float | None  # the grid's cell in degrees, when clustered
    # 1: every report counted; k: the clusters count every k-th ticket, times k (≈).
    sample: int = 1


class grid_cell(FunctionElement[int]):
    """floor(x / cell) for x >= 0, as an integer (PostgreSQL's CAST rounds; SQLite's cuts)."""

    type = Integer()
    inherit_cache = True


@compiles(grid_cell)
def _cell_default(element: grid_cell, compiler: Any, **kw: Any) -> str:
    x, cell = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(FLOOR(({x}) / ({cell})) AS INTEGER)"


@compiles(grid_cell, "sqlite")
def _cell_sqlite(element: grid_cell, compiler: Any, **kw: Any) -> str:
    x, cell = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({x}) / ({cell}) AS INTEGER)"


class unindexed(FunctionElement[Any]):
    """The column, in a form SQLite will not look up in an index (`+x`): steers its planner,
    which has no statistics, onto the index chosen here. PostgreSQL plans by its own."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(next(iter(element.clauses)), **kw))


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(next(iter(element.clauses)), **kw)}"


def state_rank(now: datetime) -> ColumnElement[int]:
    r = reports.c
    return case(
        (overdue_now(now), RANK[Group.OVERDUE]),
        (r.status.in_(STATUSES[Group.NEW]), RANK[Group.NEW]),
        (r.status.in_(STATUSES[Group.ACCEPTED]), RANK[Group.ACCEPTED]),
        (r.status.in_(STATUSES[Group.AWAITING]), RANK[Group.AWAITING]),
        else_=RANK[Group.CLOSED],
    )


def cell_size(box: BBox, grid: int = GRID) -> float:
    """The largest 360 / 2^k degrees that cuts the box's longer side into at most `grid`."""
    span = max(box.north - box.south, box.east - box.west, 1e-9)
    return 360.0 / 2.0 ** math.floor(math.log2(360.0 * grid / span))


# Reports still live (open, or waiting for the rider): a small share of the table, with a
# partial index of their own. Written out, not bound, so SQLite sees that the query's
# WHERE implies the index's.
LIVE = reports.c.status.not_in([literal_column(f"'{s}'") for s in STATUSES[Group.CLOSED]])


class Walk(enum.Enum):
    """Which index the viewport walks: the planner is told by leaving the others' columns
    unusable (`+x`), since SQLite without ANALYZE cannot tell a month from a city."""

    LIVE = "live"  # ix_reports_map_live: only live reports asked for
    TIME = "time"  # ix_reports_map_time: the period is the narrower of the two
    PLACE = "place"  # ix_reports_map_strip: the box is
    STRIDE = "stride"  # none: the sample's ids are looked up by key (storage/map_sample.py)


async def _walk(
    conn: AsyncConnection,
    box: BBox,
    now: datetime,
    groups: frozenset[Group] | None,
    since: datetime | None,
    until: datetime | None,
) -> Walk:
    if groups is not None and Group.CLOSED not in groups:
        return Walk.LIVE
    if since is None:
        return Walk.PLACE
    r = reports.c
    # The share of the reports' time and of their latitudes that the filter keeps, read off
    # the ends of two indexes (three index seeks); reports are taken as evenly spread. The
    # latitudes' ends are their strips' (to ~220 m), the first column of the place index.
    strip = lat_strip(r.lat)
    ends = (
        await conn.execute(
            select(
                select(func.min(r.created_at)).scalar_subquery(),
                select(strip).order_by(strip).limit(1).scalar_subquery(),
                select(strip).order_by(strip.desc()).limit(1).scalar_subquery(),
            )
        )
    ).one()
    first, low, high = ends
    if first is None:
        return Walk.PLACE
    south, north = low / LAT_STRIPS - 90, (high + 1) / LAT_STRIPS - 90
    span = max((now - first).total_seconds(), 1.0)
    in_time = ((until or now) - max(since, first)).total_seconds() / span
    in_place = (min(box.north, north) - max(box.south, south)) / max(north - south, 1e-9)
    return Walk.TIME if in_time < in_place else Walk.PLACE


def in_strips(box: BBox) -> ColumnElement[bool]:
    """The strips of latitude the box crosses, and the next one north: PostgreSQL's CAST
    rounds where SQLite's cuts (floor, for these positive values). The same IEEE sums in
    Python and in the database keep the order of latitudes, so no report of the box falls
    in a strip south of the first; the box's own test stays exact."""
    low = math.floor((box.south + 90) * LAT_STRIPS)
    high = math.floor((box.north + 90) * LAT_STRIPS) + 1
    strip = lat_strip(reports.c.lat)
    if high - low >= MAX_STRIPS:
        return strip.between(low, high)
    return strip.in_(list(range(low, high + 1)))


def _where(
    walk: Walk,
    box: BBox,
    now: datetime,
    scope: Scope,
    category: str | None,
    groups: frozenset[Group] | None,
    since: datetime | None,
    until: datetime | None,
) -> list[ColumnElement[bool]]:
    r = reports.c
    # The live index is walked whole (a few percent of the table): SQLite would rather
    # seek the latitudes of the full one.
    lat = r.lat if walk is Walk.PLACE else unindexed(r.lat)
    created = r.created_at if walk is Walk.TIME else unindexed(r.created_at)
    desk = unindexed(r.community_id) if walk is Walk.STRIDE else r.community_id
    found: list[ColumnElement[bool]] = [
        lat.between(box.south, box.north),
        r.lon.between(box.west, box.east),
    ]
    if walk is Walk.PLACE:
        found.insert(0, in_strips(box))
    if scope is not EVERY:
        found.append(desk.is_(None) if scope is None else desk == scope)
    if category is not None:
        found.append(r.category == category)
    if since is not None:
        found.append(created >= since)
    if until is not None:
        found.append(created < until)
    if walk is Walk.LIVE:
        found.append(LIVE)
    if groups is not None:
        found.append(state_rank(now).in_([RANK[g] for g in groups]))
    return found


async def viewport(
    conn: AsyncConnection,
    box: BBox,
    *,
    now: datetime,
    scope: Scope = EVERY,
    category: str | None = None,
    groups: frozenset[Group] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cap: int = POINT_CAP,
    grid: int = GRID,
) -> Viewport:
    """The reports in `box` made in [since, until) and in one of `groups` (None: any)."""
    r = reports.c
    if conn.dialect.name == "postgresql":
        # Plans made for the values: from its sixth run a prepared statement may get one
        # generic plan, blind to whether the period is a week or the filter one desk.
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    walk = await _walk(conn, box, now, groups, since, until)
    where = _where(walk, box, now, scope, category, groups, since, until)
    rank = state_rank(now).label("rank")
    rows = (
        await conn.execute(
            select(r.id, r.lat, r.lon, r.category, rank).where(*where).limit(cap + 1)
        )
    ).all()
    if len(rows) <= cap:
        points = [Point(x.id, x.lat, x.lon, x.category, BY_RANK[x.rank]) for x in rows]
        return Viewport(sorted(points, key=lambda p: p.id), [], None)
    cell = cell_size(box, grid)
    span = await map_sample.id_span(conn, since, until)
    k = 1
    if span is not None and (pilot := map_sample.pilot_stride(span)) > 1:
        # Every pilot-th ticket of the period, looked up by key: no index is walked.
        first = map_sample.first_multiple(span[0], pilot)
        stride = map_sample.on_stride(r.id, first, span[1], pilot)
        where_pk = _where(Walk.STRIDE, box, now, scope, category, groups, since, until)
        found = await _cells(conn, [stride, *where_pk], cell, now, pilot)
        if sum(c.count for c in found) >= map_sample.TARGET * pilot:
            return Viewport([], found, cell, pilot)
        k = map_sample.stride_for(sum(c.count for c in found))
    # The sample's test first: SQLite tests the terms in order, the state's CASE is dearer.
    sampled = [map_sample.on_multiple(k), *where] if k > 1 else where
    return Viewport([], await _cells(conn, sampled, cell, now, k), cell, k)


async def _cells(
    conn: AsyncConnection, where: list[ColumnElement[bool]], cell: float, now: datetime, k: int
) -> list[Cluster]:
    """The grid's cells of the reports found by `where`, counts scaled by the sample's k."""
    r = reports.c
    inner = (
        select(
            grid_cell(r.lat + 90.0, cell).label("y"),
            grid_cell(r.lon + 180.0, cell).label("x"),
            r.lat,
            r.lon,
            state_rank(now).label("rank"),
            r.id,
        )
        .where(*where)
        .subquery("placed")
    )
    p = inner.c
    cells = (
        select(
            func.count().label("n"),
            func.avg(p.lat).label("lat"),
            func.avg(p.lon).label("lon"),
            func.max(p.rank).label("worst"),
            func.min(p.id).label("first"),
        )
        .group_by(p.y, p.x)
        .order_by(p.y, p.x)
    )
    return [
        Cluster(c.lat, c.lon, c.n * k, BY_RANK[c.worst], c.first if c.n * k == 1 else None)
        for c in (await conn.execute(cells)).all()
    ]


def as_geojson(view: Viewport) -> dict[str, Any]:
    """A FeatureCollection ([lon, lat] order, as GeoJSON has it)."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": {"id": p.id, "category": p.category, "state": p.state.value},
        }
        for p in view.points
    ]
    features += [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "properties": {
                "cluster": True,
                "count": c.count,
                "state": c.worst.value,
                "id": c.report_id,
            },
        }
        for c in view.clusters
    ]
    # Foreign members (RFC 7946 §6.1): a sampled answer's counts are estimates.
    return {
        "type": "FeatureCollection",
        "features": features,
        "sampled": view.sample > 1,
        "sample_rate": 1 / view.sample,
    }
