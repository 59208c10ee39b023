"""The map's data over HTTP (/console/map/data): the reports in a view as GeoJSON, coloured
by state (overdue ones marked), filtered by category, community, period and state, grouped
into clusters with their counts beyond the cap; on GCJ-02 tiles the box is read and the
points are shifted in the tiles' datum. A community's desk sees its own reports only."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from starlette.applications import Starlette

from bot.domain.geo import LatLon, wgs84_to_gcj02
from handlers.web.console import map as county_map
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, Stage
from tests.test_casework import reported
from tests.test_console_county import TOWN, at_desk, fixed_and_confirmed, web_app  # noqa: F401


async def test_the_map_shows_each_desk_its_reports_by_state(
    stage: Stage,
    web_app: Starlette,  # noqa: F811 (the fixture, imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await fixed_and_confirmed(stage)  # #1 at 东关, closed
    await reported(stage, point=IN_XIGUAN, name="李师傅")  # #2 at 西关, new
    stage.clock.advance(hours=30)  # #2 is overdue now
    county = await at_desk(stage, web_app, "county")
    page = await county.open("/console/map")
    assert page.status_code == 200 and 'id="countymap"' in page.text
    assert 'data-url="/console/map/data"' in page.text and "static/county.js" in page.text
    found = (await county.open(f"/console/map/data?bbox={TOWN}")).json()
    points = {f["properties"]["id"]: f for f in found["features"]}
    assert {i: f["properties"]["state"] for i, f in points.items()} == {1: "closed", 2: "overdue"}
    assert points[2]["properties"]["href"] == "/console/r/2" and found["clustered"] is False
    lon, lat = points[1]["geometry"]["coordinates"]
    assert (round(lat, 5), round(lon, 5)) == (round(IN_DONGGUAN.lat, 5), round(IN_DONGGUAN.lon, 5))
    # Filters: state, category, community, period.
    late = (await county.open(f"/console/map/data?bbox={TOWN}&state=overdue")).json()
    assert [f["properties"]["id"] for f in late["features"]] == [2]
    one = (await county.open(f"/console/map/data?bbox={TOWN}&community=dongguan")).json()
    assert [f["properties"]["id"] for f in one["features"]] == [1]
    order = (await county.open(f"/console/map/data?bbox={TOWN}&cat=order")).json()
    assert order["features"] == []
    old = f"/console/map/data?bbox={TOWN}&period=range&from=2026-10-01&to=2026-10-31"
    assert (await county.open(old)).json()["features"] == []
    # A view with nothing in it.
    assert (await county.open("/console/map/data?bbox=100,20,100.1,20.1")).json()["features"] == []
    # Beyond the cap, clusters with their counts.
    monkeypatch.setattr(county_map, "POINTS", 1)
    grouped = (await county.open(f"/console/map/data?bbox={TOWN}")).json()
    assert grouped["clustered"] is True
    assert sum(f["properties"]["count"] for f in grouped["features"]) == 2
    assert all(f["properties"]["cluster"] for f in grouped["features"])
    # 西关's desk: its own report only.
    xiguan = await at_desk(stage, web_app, "xiguan")
    monkeypatch.setattr(county_map, "POINTS", 100)
    own = (await xiguan.open(f"/console/map/data?bbox={TOWN}")).json()
    assert [f["properties"]["id"] for f in own["features"]] == [2]
    assert 'id="community"' not in (await xiguan.open("/console/map")).text
    await county.close()
    await xiguan.close()


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("", "地图范围不对"),
        ("bbox=113.1,36.0,113.3", "地图范围不对"),
        ("bbox=a,b,c,d", "地图范围不对"),
        ("bbox=113.3,36.0,113.1,36.2", "地图范围不对"),  # west of east
        ("bbox=113.1,36.2,113.3,36.0", "地图范围不对"),  # south of north
        ("bbox=nan,36.0,113.3,36.2", "地图范围不对"),
        ("bbox=113.1,36.0,inf,36.2", "地图范围不对"),
        (f"bbox={TOWN}&state=lost", "没有这个状态"),
        (f"bbox={TOWN}&cat=weather", "没有这个类别"),
    ],
)
async def test_a_bad_map_request_is_answered_in_words(
    stage: Stage,
    web_app: Starlette,  # noqa: F811 (the fixture, imported above)
    query: str,
    said: str,
) -> None:
    county = await at_desk(stage, web_app, "county")
    answer = await county.open(f"/console/map/data?{query}")
    assert answer.status_code == 400 and said in answer.json()["error"]
    await county.close()


async def test_a_world_view_and_gcj02_tiles(
    stage: Stage,
    web_app: Starlette,  # noqa: F811 (the fixture, imported above)
) -> None:
    """Zoomed out past the antimeridian the box is the world; on GCJ-02 tiles the box is
    read in GCJ-02 and the points come back shifted to match the tiles."""
    await reported(stage)  # #1 at 东关
    county = await at_desk(stage, web_app, "county")
    world = (await county.open("/console/map/data?bbox=-540,-100,540,100")).json()
    assert [f["properties"]["id"] for f in world["features"]] == [1]
    console = web_app.state.console
    console.config = replace(console.config, web=replace(console.config.web, tile_datum="gcj02"))
    shown = wgs84_to_gcj02(LatLon(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    tight = f"{shown.lon - 0.0005},{shown.lat - 0.0005},{shown.lon + 0.0005},{shown.lat + 0.0005}"
    found = (await county.open(f"/console/map/data?bbox={tight}")).json()
    lon, lat = found["features"][0]["geometry"]["coordinates"]
    assert (round(lat, 5), round(lon, 5)) == (round(shown.lat, 5), round(shown.lon, 5))
    # The first view is the county's communities, in the tiles' datum too.
    page = (await county.open("/console/map")).text
    south = float(re.search(r'data-south="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    north = float(re.search(r'data-north="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert south < shown.lat < north
    await county.close()
