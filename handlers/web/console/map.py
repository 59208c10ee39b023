"""The map of reports (/console/map) and its data for a viewport (/console/map/data).

The page is Leaflet (shipped in static/leaflet) with the configured tiles; its script asks
for the reports in the view whenever it moves or a filter changes, and draws each one as a
dot coloured by its state (overdue ones larger, ringed in red), or the clusters the server
made beyond a few thousand (storage/map_points.py: a grid counted in SQL) with their
counts. A dot opens its report's page. Filters: category, community (the county), period,
state. A community's desk sees its own community's reports only.

Reports are stored in WGS-84. On GCJ-02 tiles (Chinese tile servers) the view's box is
converted to WGS-84 before asking and every point back to GCJ-02 before drawing, here on
the server (bot/domain/geo.py), so the script never converts.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.config import Community, Config
from bot.domain.geo import LatLon, gcj02_to_wgs84, wgs84_to_gcj02
from handlers.web.console.choices import Refusal, choose_period, reach
from handlers.web.console.county import period_form, refused, refused_json, show, words
from handlers.web.console.pages import lang, signed_out
from handlers.web.console.sessions import console_of, signed_in
from storage.map_points import POINT_CAP, BBox, as_geojson, viewport
from storage.queue import Group

METRES_PER_DEGREE = 111_320.0
POINTS = POINT_CAP  # reports drawn one by one at most; beyond, clusters (read at call time)


def _filters(request: Request, config: Config) -> tuple[str | None, frozenset[Group] | None]:
    """The category and the state asked for (None: any); unknown ones are refused."""
    params = request.query_params
    category = params.get("cat") or None
    if category is not None and config.category(category) is None:
        raise Refusal(400, "category_unknown")
    state = params.get("state") or None
    if state is not None and state not in set(Group):
        raise Refusal(400, "state_unknown")
    return category, frozenset({Group(state)}) if state else None


def _box(raw: str, gcj: bool) -> BBox:
    """`west,south,east,north` (Leaflet's toBBoxString) in the map's datum, as WGS-84."""
    parts = raw.split(",")
    if len(parts) != 4:
        raise Refusal(400, "bbox_bad")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise Refusal(400, "bbox_bad") from None
    if not all(map(math.isfinite, (west, south, east, north))) or south > north or west > east:
        raise Refusal(400, "bbox_bad")
    # A view zoomed out past the poles or the antimeridian: the world is all there is.
    south, north = max(south, -90.0), min(north, 90.0)
    west, east = max(west, -180.0), min(east, 180.0)
    if gcj:
        sw = gcj02_to_wgs84(LatLon(south, west))
        ne = gcj02_to_wgs84(LatLon(north, east))
        south, west, north, east = sw.lat, sw.lon, ne.lat, ne.lon
    try:
        return BBox(south=south, west=west, north=north, east=east)
    except ValueError:
        raise Refusal(400, "bbox_bad") from None


def _extent(community: Community) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) of a community's area, WGS-84."""
    if community.boundary is not None:
        west, south, east, north = community.boundary.bounds
        return south, west, north, east
    if community.centre is not None and community.radius_m:
        c = community.centre
        d_lat = community.radius_m / METRES_PER_DEGREE
        d_lon = d_lat / max(math.cos(math.radians(c.lat)), 0.01)
        return c.lat - d_lat, c.lon - d_lon, c.lat + d_lat, c.lon + d_lon
    return None


def _start_view(config: Config, community: str) -> list[list[float]]:
    """The map's first view: the desk's community, or every community's area."""
    chosen = [c for c in config.communities if not community or c.id == community]
    found = [e for e in map(_extent, chosen) if e is not None]
    if not found:
        return [[-60.0, -170.0], [75.0, 170.0]]
    corners = [
        LatLon(min(e[0] for e in found), min(e[1] for e in found)),
        LatLon(max(e[2] for e in found), max(e[3] for e in found)),
    ]
    if config.web.tile_datum == "gcj02":
        corners = [wgs84_to_gcj02(p) for p in corners]
    return [[round(p.lat, 6), round(p.lon, 6)] for p in corners]


async def page(request: Request) -> Response:
    who = await signed_in(request)
    if who is None:
        return await signed_out(request)
    console = console_of(request)
    config = console.config
    params = request.query_params
    try:
        chosen = choose_period(params, console.clock.now(), config.timezone)
        whose = reach(who.seat, params.get("community", ""), config)
        category, groups = _filters(request, config)
    except Refusal as refusal:
        return refused(request, who, refusal)
    lg = lang(request)
    k = words(lg)
    return show(
        request,
        "map.html",
        who,
        period=period_form(request, chosen),
        community=whose.community,
        communities=[{"id": c.id, "name": c.name} for c in config.communities]
        if whose.county
        else None,
        categories=[
            {"code": c.code, "label": f"{c.icon} {c.name(lg)}"} for c in config.categories
        ],
        category=category or "",
        states=[{"key": g.value, "label": k(f"state_{g.value}")} for g in Group],
        state=next(iter(groups)).value if groups else "",
        tiles={
            "url": config.web.tile_url,
            "subdomains": config.web.tile_subdomains,
            "attribution": config.web.tile_attribution,
        },
        start_view=_start_view(config, whose.community),
    )


async def data(request: Request) -> Response:
    """GeoJSON of the reports in the view (`bbox`), filtered as the page asks."""
    who = await signed_in(request)
    if who is None:
        return JSONResponse({"error": "signed_out"}, status_code=401)
    console = console_of(request)
    config = console.config
    params = request.query_params
    now = console.clock.now()
    gcj = config.web.tile_datum == "gcj02"
    try:
        box = _box(params.get("bbox", ""), gcj)
        chosen = choose_period(params, now, config.timezone)
        whose = reach(who.seat, params.get("community", ""), config)
        category, groups = _filters(request, config)
    except Refusal as refusal:
        return refused_json(request, refusal)
    period = chosen.period
    async with console.db.transaction() as conn:
        view = await viewport(
            conn,
            box,
            now=now,
            scope=whose.scope,
            category=category,
            groups=groups,
            since=period.start,
            until=period.end if period.end < now else None,  # up to now: what came in too
            cap=POINTS,
        )
    found = as_geojson(view)
    for feature in found["features"]:
        _shown(feature, gcj, console.prefix)
    found["clustered"] = view.cell is not None
    return JSONResponse(found, headers={"cache-control": "no-store"})


def _shown(feature: dict[str, Any], gcj: bool, prefix: str) -> None:
    """A feature as the map draws it: in the tiles' datum, a report with its page's link."""
    lon, lat = feature["geometry"]["coordinates"]
    if gcj:
        shifted = wgs84_to_gcj02(LatLon(lat, lon))
        lon, lat = shifted.lon, shifted.lat
    feature["geometry"]["coordinates"] = [round(lon, 6), round(lat, 6)]
    props = feature["properties"]
    if props.get("id") is not None:
        props["href"] = f"{prefix}console/r/{props['id']}"
