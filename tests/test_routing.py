"""Tests for bot.domain.routing: synthetic geometry plus the real 长治 county boundaries."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

import numpy as np
import pytest
import shapely
from shapely.geometry import shape
from shapely.ops import nearest_points

from bot.domain.geo import LatLon, distance_m, gcj02_to_wgs84, wgs84_to_gcj02
from bot.domain.routing import Area, Route, Router
from tests.shared_data import shared_real

# ---------------------------------------------------------------------------------------------
# Synthetic geometry


def square(lon0: float, lat0: float, size: float = 0.01) -> shapely.Polygon:
    return shapely.box(lon0, lat0, lon0 + size, lat0 + size)


def poly_area(cid: str, geom: shapely.Geometry, categories: set[str] | None = None) -> Area:
    return Area(cid, geom, None, None, None if categories is None else frozenset(categories))


def circle_area(
    cid: str, centre: LatLon, radius_m: float, categories: set[str] | None = None
) -> Area:
    return Area(cid, None, centre, radius_m, None if categories is None else frozenset(categories))


WEST = square(113.00, 36.00)  # 113.00–113.01
EAST = square(113.01, 36.00)  # 113.01–113.02, shares the edge lon=113.01


def test_point_inside_square() -> None:
    router = Router([poly_area("west", WEST), poly_area("east", EAST)])
    assert router.route(LatLon(36.005, 113.005), "fire") == Route("west", "boundary", None)
    assert router.route(LatLon(36.005, 113.015), "fire") == Route("east", "boundary", None)


def test_shared_edge_goes_to_first_in_config_order() -> None:
    on_edge = LatLon(36.005, 113.01)
    assert shapely.covers(WEST, shapely.Point(113.01, 36.005))
    assert shapely.covers(EAST, shapely.Point(113.01, 36.005))
    forward = Router([poly_area("west", WEST), poly_area("east", EAST)])
    backward = Router([poly_area("east", EAST), poly_area("west", WEST)])
    assert {forward.route(on_edge, "fire").community_id for _ in range(5)} == {"west"}
    assert {backward.route(on_edge, "fire").community_id for _ in range(5)} == {"east"}


def test_outer_corner_counts_as_covered() -> None:
    router = Router([poly_area("west", WEST)])
    assert router.route(LatLon(36.0, 113.0), "fire").community_id == "west"


def test_hole_is_not_covered() -> None:
    donut = shapely.Polygon(
        [(113.0, 36.0), (113.1, 36.0), (113.1, 36.1), (113.0, 36.1)],
        holes=[[(113.04, 36.04), (113.06, 36.04), (113.06, 36.06), (113.04, 36.06)]],
    )
    router = Router([poly_area("donut", donut), poly_area("core", square(113.04, 36.04, 0.02))])
    assert router.route(LatLon(36.02, 113.02), "fire").community_id == "donut"
    assert router.route(LatLon(36.05, 113.05), "fire").community_id == "core"


def test_multipolygon_parts() -> None:
    multi = shapely.MultiPolygon([WEST, square(113.5, 36.5)])
    router = Router([poly_area("split", multi)])
    assert router.route(LatLon(36.505, 113.505), "fire").community_id == "split"
    assert router.route(LatLon(36.3, 113.3), "fire") == Route(None, "none", None)


def test_radius_match_reports_distance() -> None:
    centre = LatLon(36.0, 113.0)
    router = Router([circle_area("c", centre, 500)])
    p = LatLon(36.002, 113.0)  # about 222 m north
    route = router.route(p, "fire")
    assert route.community_id == "c"
    assert route.method == "radius"
    assert route.distance_m == pytest.approx(distance_m(p, centre))
    assert 200 < route.distance_m < 240


def test_nearest_centre_wins_among_overlapping_circles() -> None:
    a = circle_area("a", LatLon(36.0, 113.0), 2000)
    b = circle_area("b", LatLon(36.0, 113.01), 2000)  # ~900 m east of a
    router = Router([a, b])
    assert router.route(LatLon(36.0, 113.002), "fire").community_id == "a"
    assert router.route(LatLon(36.0, 113.008), "fire").community_id == "b"


def test_equidistant_centres_go_to_first_in_config_order() -> None:
    a = circle_area("a", LatLon(36.0, 113.0), 2000)
    b = circle_area("b", LatLon(36.0, 113.0), 2000)
    assert Router([a, b]).route(LatLon(36.001, 113.0), "x").community_id == "a"
    assert Router([b, a]).route(LatLon(36.001, 113.0), "x").community_id == "b"


def test_outside_every_radius_is_none() -> None:
    router = Router([circle_area("c", LatLon(36.0, 113.0), 500)])
    assert router.route(LatLon(36.01, 113.0), "fire") == Route(None, "none", None)


@pytest.mark.parametrize("lat", [0.0, 36.0, 60.0, 75.0])
def test_radius_edge_is_inclusive_and_prefilter_never_drops(lat: float) -> None:
    centre = LatLon(lat, 100.0)
    for bearing_point in (LatLon(lat + 0.05, 100.0), LatLon(lat, 100.1), LatLon(lat, 99.93)):
        d = distance_m(bearing_point, centre)
        assert Router([circle_area("c", centre, d)]).route(bearing_point, "x").method == "radius"
        assert Router([circle_area("c", centre, d * 0.999)]).route(bearing_point, "x").method == (
            "none"
        )


def test_boundary_beats_nearer_radius() -> None:
    router = Router(
        [circle_area("circle", LatLon(36.005, 113.005), 5000), poly_area("west", WEST)]
    )
    assert router.route(LatLon(36.005, 113.005), "fire") == Route("west", "boundary", None)


def test_category_restriction_falls_through_boundary_to_next_polygon() -> None:
    fire_only = poly_area("fire_dept", WEST, {"fire_safety"})
    everything = poly_area("big", square(112.9, 35.9, 0.5))
    router = Router([fire_only, everything])
    p = LatLon(36.005, 113.005)
    assert router.route(p, "fire_safety").community_id == "fire_dept"
    assert router.route(p, "sanitation").community_id == "big"


def test_category_restriction_falls_through_to_radius_then_none() -> None:
    router = Router(
        [
            poly_area("fire_dept", WEST, {"fire_safety"}),
            circle_area("street_office", LatLon(36.005, 113.005), 1000, {"sanitation"}),
        ]
    )
    p = LatLon(36.005, 113.006)
    assert router.route(p, "fire_safety").method == "boundary"
    sanitation = router.route(p, "sanitation")
    assert sanitation.community_id == "street_office"
    assert sanitation.method == "radius"
    assert router.route(p, "public_order") == Route(None, "none", None)


def test_area_accepts() -> None:
    assert poly_area("a", WEST).accepts("anything")
    restricted = poly_area("a", WEST, {"fire_safety"})
    assert restricted.accepts("fire_safety")
    assert not restricted.accepts("sanitation")
    assert not poly_area("a", WEST, set()).accepts("fire_safety")


@pytest.mark.parametrize("radius", [-1.0, float("nan"), float("inf")])
def test_area_rejects_bad_radius(radius: float) -> None:
    with pytest.raises(ValueError, match="radius_m"):
        circle_area("a", LatLon(36.0, 113.0), radius)


def test_empty_router_and_unusable_areas() -> None:
    assert Router([]).route(LatLon(36.0, 113.0), "x") == Route(None, "none", None)
    unusable = [
        Area("nothing", None, None, None),
        Area("empty", shapely.Polygon(), None, None),
        Area("centre_only", None, LatLon(36.0, 113.0), None),
    ]
    assert Router(unusable).route(LatLon(36.0, 113.0), "x") == Route(None, "none", None)


def test_many_communities_match_brute_force() -> None:
    rng = random.Random(1234)
    areas: list[Area] = []
    # 20 x 20 grid of 0.01° cells with random category restrictions, in config order.
    for i in range(20):
        for j in range(20):
            cats = rng.choice([None, {"fire_safety"}, {"sanitation", "public_order"}])
            areas.append(poly_area(f"c{i}_{j}", square(113 + i * 0.01, 36 + j * 0.01), cats))
    areas += [
        circle_area(f"r{k}", LatLon(36 + rng.random() * 0.3, 113 + rng.random() * 0.3), 800)
        for k in range(30)
    ]
    router = Router(areas)

    def brute(p: LatLon, category: str) -> Route:
        pt = shapely.Point(p.lon, p.lat)
        for a in areas:
            if a.boundary is not None and a.accepts(category) and a.boundary.covers(pt):
                return Route(a.community_id, "boundary", None)
        best: Route | None = None
        for a in areas:
            if a.centre is None or a.radius_m is None or not a.accepts(category):
                continue
            d = distance_m(p, a.centre)
            if d <= a.radius_m and (best is None or d < (best.distance_m or 0)):
                best = Route(a.community_id, "radius", d)
        return best or Route(None, "none", None)

    for _ in range(500):
        p = LatLon(35.98 + rng.random() * 0.26, 112.98 + rng.random() * 0.26)
        # Snap some points onto grid lines/vertices to exercise ties.
        if rng.random() < 0.2:
            p = LatLon(round(p.lat, 2), round(p.lon, 2))
        category = rng.choice(["fire_safety", "sanitation", "public_order"])
        assert router.route(p, category) == brute(p, category)


# ---------------------------------------------------------------------------------------------
# Real county boundaries of 长治市 (DataV GeoJSON, GCJ-02)

SHANGDANG = "上党区"
HUGUAN = "壶关县"
SHARED_VERTEX_GCJ = LatLon(35.897813, 113.199874)


def _gcj_geometry_to_wgs84(geom: shapely.Geometry) -> shapely.Geometry:
    def convert(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        for i, (lon, lat) in enumerate(coords):
            w = gcj02_to_wgs84(LatLon(float(lat), float(lon)))
            out[i] = (w.lon, w.lat)
        return out

    return shapely.transform(geom, convert)


class County:
    def __init__(self, feature: dict) -> None:
        props = feature["properties"]
        self.name: str = props["name"]
        self.centre_gcj = LatLon(props["center"][1], props["center"][0])
        self.gcj: shapely.Geometry = shape(feature["geometry"])
        self.wgs: shapely.Geometry = _gcj_geometry_to_wgs84(self.gcj)


@pytest.fixture(scope="module")
def counties() -> list[County]:
    with shared_real("140400_full.json").open(encoding="utf-8") as f:
        data = json.load(f)
    return [County(feature) for feature in data["features"]]


def _router(counties: Sequence[County], *, converted: bool = True) -> Router:
    return Router([poly_area(c.name, c.wgs if converted else c.gcj) for c in counties])


def test_real_boundaries_are_sane(counties: list[County]) -> None:
    assert len(counties) == 12
    assert all(c.wgs.is_valid for c in counties)
    # Converting moves the polygons a few hundred metres west-ish, not kilometres.
    for c in counties:
        shift_deg = c.gcj.centroid.x - c.wgs.centroid.x
        assert 0.004 < shift_deg < 0.009


def test_each_county_centre_routes_to_its_own_county(counties: list[County]) -> None:
    router = _router(counties)
    for county in counties:
        wgs_centre = gcj02_to_wgs84(county.centre_gcj)
        assert router.route(wgs_centre, "sanitation") == Route(county.name, "boundary", None)


def test_shared_vertex_routes_to_first_county_in_config_order(counties: list[County]) -> None:
    vertex = gcj02_to_wgs84(SHARED_VERTEX_GCJ)
    point = shapely.Point(vertex.lon, vertex.lat)
    covering = [c.name for c in counties if c.wgs.covers(point)]
    assert covering == [SHANGDANG, HUGUAN]  # a genuine tie, in file order

    router = _router(counties)
    assert {router.route(vertex, "fire_safety").community_id for _ in range(5)} == {SHANGDANG}
    reordered = sorted(counties, key=lambda c: c.name != HUGUAN)  # 壶关县 first
    assert _router(reordered).route(vertex, "fire_safety").community_id == HUGUAN


def _find_point_misrouted_without_conversion(counties: list[County]) -> LatLon:
    """A WGS-84 point ~300 m inside 壶关县 that lands in 上党区 if the datum is ignored."""
    by_name = {c.name: c for c in counties}
    huguan, shangdang = by_name[HUGUAN], by_name[SHANGDANG]
    border = shapely.line_merge(huguan.wgs.boundary.intersection(shangdang.wgs.boundary))
    for fraction in np.linspace(0.0, 1.0, 201):
        on_border = border.interpolate(fraction, normalized=True)
        for direction in (1, -1):
            # 300 m east/west of the border, measured on the ellipsoid.
            metres_per_deg_lon = (
                distance_m(
                    LatLon(on_border.y, on_border.x), LatLon(on_border.y, on_border.x + 0.01)
                )
                / 0.01
            )
            candidate = shapely.Point(
                on_border.x + direction * 300 / metres_per_deg_lon, on_border.y
            )
            if not huguan.wgs.covers(candidate):
                continue
            nearest = nearest_points(huguan.wgs.boundary, candidate)[0]
            inside_by = distance_m(LatLon(candidate.y, candidate.x), LatLon(nearest.y, nearest.x))
            if inside_by >= 250 and shangdang.gcj.covers(candidate):
                return LatLon(candidate.y, candidate.x)
    pytest.fail("no border point found where the GCJ offset flips the county")


def test_border_point_needs_datum_conversion(counties: list[County]) -> None:
    p = _find_point_misrouted_without_conversion(counties)
    by_name = {c.name: c for c in counties}
    # Ground truth: the same place expressed in GCJ-02 lies in 壶关县's original polygon.
    g = wgs84_to_gcj02(p)
    assert by_name[HUGUAN].gcj.covers(shapely.Point(g.lon, g.lat))
    # Ignoring the datum (WGS point against raw GCJ polygons) picks the wrong county...
    assert _router(counties, converted=False).route(p, "sanitation").community_id == SHANGDANG
    # ...the router with converted polygons gets it right.
    assert _router(counties).route(p, "sanitation") == Route(HUGUAN, "boundary", None)


def test_italian_photo_gps_routes_nowhere(counties: list[County]) -> None:
    router = _router(counties)
    assert router.route(LatLon(43.467448, 11.885127), "sanitation") == Route(None, "none", None)
