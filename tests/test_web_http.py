"""The riders' web page over HTTP, with no Telegram: every route and every bad input.

A refusal must be a clear message and change nothing; a retried submit must never make a
second report; one device never sees another's reports.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.config import Config
from bot.delivery.outbox import WEB
from bot.offline import NoMembers
from bot.services import Services
from handlers import web
from handlers.web.courier import WebCourier
from handlers.web.device import COOKIE
from storage.tables import reports, rider_accounts, riders
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, FakeClock, make_config
from tests.images import flat_png, jpeg
from tests.web import WebRider, new_key, page_config

CHATS = {
    "supervisors": -1001000000000,
    "dongguan": -1001000000001,
    "xiguan": -1001000000002,
    "nanjie": -1001000000003,
    "fire_station": -1001000000004,
}
SECRET = b"test-secret-that-is-long-enough-0123456789"
SEPARATE = {"separate": "1"}  # "No, it's a different problem" (not the open report nearby)


@dataclass
class World:
    app: Starlette
    services: Services
    config: Config

    def rider(self) -> WebRider:
        return WebRider(self.app)

    async def count(self, table: object) -> int:
        async with self.services.db.transaction() as conn:
            return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def web_world(tmp_path: Path, **reports_settings: object) -> AsyncIterator[World]:
    config = make_config(tmp_path, CHATS, {}, **reports_settings)
    services = Services.create(config, {WEB: WebCourier()}, FakeClock(), members=NoMembers())
    await services.start()
    app, _ = web.build(services, telegram_on=False, secret=SECRET)
    try:
        yield World(app, services, config)
    finally:
        await services.stop()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for w in web_world(tmp_path):
        yield w


async def test_the_page_is_chinese_first_and_english_one_tap_away(world: World) -> None:
    phone = world.rider()
    page = await phone.open()
    assert page.status_code == 200
    assert '<title data-t="title">随手反馈 · 骑手上报</title>' in page.text
    assert "环境卫生" in page.text and "消防安全" in page.text and "✅ 提交" in page.text
    config = page_config(page.text)
    assert config["lang"] == "zh" and config["texts"]["en"]["submit"] == "✅ Submit"
    assert [c["code"] for c in config["categories"]] == ["sanitation", "fire", "order"]
    assert config["maxPhotos"] == 5 and config["maxSide"] == 2048
    # The camera input the phone opens, and the gallery beside it.
    assert 'accept="image/*" capture="environment" multiple' in page.text
    cookie = page.headers["set-cookie"]
    assert COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # Nothing from a CDN: every script and style is ours.
    for src in [*_attrs(page.text, "src"), *_attrs(page.text, "href")]:
        assert src.startswith(("/", "?")), src
    english = await phone.open("/?lang=en")
    assert '<title data-t="title">Suishou · report a hazard</title>' in english.text
    assert "lang=en" in english.headers["set-cookie"]
    assert page_config((await phone.open("/")).text)["lang"] == "en"  # remembered
    await phone.close()


def _attrs(html: str, name: str) -> list[str]:
    return re.findall(rf'{name}="([^"]*)"', html)


async def test_static_files_and_leaflet_come_from_the_package(world: World) -> None:
    phone = world.rider()
    for path in ("/static/rider.js", "/static/rider.css", "/static/leaflet/leaflet.js"):
        response = await phone.client.get(path)
        assert response.status_code == 200, path
    licence = await phone.client.get("/static/leaflet/LICENSE")
    assert "BSD 2-Clause" in licence.text
    assert (await phone.client.get("/static/../app.py")).status_code == 404
    assert (await phone.client.get("/healthz")).text == "ok"
    await phone.close()


async def test_a_report_from_the_page_is_filed_and_routed(world: World) -> None:
    phone = world.rider()
    await phone.open()
    photo = jpeg(gps=(43.4674, 11.8851))  # EXIF with GPS: must not survive
    answer = await phone.submit(
        point=IN_XIGUAN, photos=[(photo, "image/jpeg")], note="路口井盖破损"
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["ticket"] == 1 and body["community"] == "西关社区" and body["kind"] == "kept"
    assert body["replayed"] is False and body["deadline"]
    async with world.services.db.transaction() as conn:
        report = (await conn.execute(select(reports))).one()
        rider = (await conn.execute(select(riders))).one()
        account = (await conn.execute(select(rider_accounts))).one()
    assert report.community_id == "xiguan" and report.category == "order"
    assert report.location_source == "gps" and report.note == "路口井盖破损"
    assert report.lat == pytest.approx(IN_XIGUAN.lat, abs=1e-6)
    assert account.channel == "web" and account.rider_id == rider.id  # the rider's one account
    stored = world.services.photos.path_for(
        (await world.services.photos.save(photo)).sha256  # same bytes, same stored file
    )
    with Image.open(stored) as im:
        assert not im.getexif()  # metadata stripped, as for Telegram photos
    await phone.close()


async def test_a_double_tap_or_a_retried_post_makes_one_report(world: World) -> None:
    phone = world.rider()
    await phone.open()
    key = new_key()
    first, second = await asyncio.gather(
        phone.submit(point=IN_DONGGUAN, key=key), phone.submit(point=IN_DONGGUAN, key=key)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 201]
    assert first.json()["ticket"] == second.json()["ticket"] == 1
    retried = await phone.submit(point=IN_DONGGUAN, key=key)  # the answer was lost on the way
    assert retried.status_code == 200 and retried.json() == {**first.json(), "replayed": True}
    assert await world.count(reports) == 1
    # A new form: a new key, a new report (the rider says it is not the same problem as #1).
    other = await phone.submit(point=IN_DONGGUAN, extra=SEPARATE)
    assert other.json()["ticket"] == 2
    await phone.close()


async def test_two_first_reports_at_once_from_a_new_phone_make_one_rider(world: World) -> None:
    phone = world.rider()
    await phone.open()
    first, second = await asyncio.gather(
        phone.submit(point=IN_DONGGUAN), phone.submit(point=IN_XIGUAN)
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert {first.json()["ticket"], second.json()["ticket"]} == {1, 2}
    assert await world.count(riders) == 1 and await world.count(rider_accounts) == 1
    await phone.close()


@pytest.mark.parametrize(
    ("csrf", "why"),
    [("", "missing"), ("forged-token", "forged")],
)
async def test_a_post_without_the_pages_token_is_refused(
    world: World, csrf: str, why: str
) -> None:
    phone = world.rider()
    await phone.open()
    answer = await phone.submit(point=IN_DONGGUAN, csrf=csrf)
    assert answer.status_code == 403, why
    assert answer.json()["message"] == "页面已过期（安全校验未通过），请刷新页面后再提交。"
    assert await world.count(reports) == 0
    await phone.close()


async def test_another_devices_token_or_a_forged_cookie_is_refused(world: World) -> None:
    mine, theirs = world.rider(), world.rider()
    await mine.open()
    await theirs.open()
    assert (await mine.submit(point=IN_DONGGUAN, csrf=theirs.csrf)).status_code == 403
    stranger = world.rider()  # never loaded the page: no cookie at all
    assert (await stranger.submit(point=IN_DONGGUAN, csrf=mine.csrf)).status_code == 403
    device = mine.client.cookies[COOKIE].split(".")[0]
    forged = world.rider()
    forged.client.cookies.set(COOKIE, f"{device}.AAAA", domain="127.0.0.1")
    assert (await forged.submit(point=IN_DONGGUAN, csrf=mine.csrf)).status_code == 403
    assert await world.count(reports) == 0
    for phone in (mine, theirs, stranger, forged):
        await phone.close()


@pytest.mark.parametrize(
    ("photos", "error", "message"),
    [
        ([(b"hello", "text/plain")], "form.not_image", "有个文件不是图片，请只选择照片。"),
        (
            [(b"\xff\xd8 not really a jpeg", "image/jpeg")],
            "form.rejected.not_image",
            "有个文件打不开，不是图片。请换一张照片。",
        ),
        (
            [(flat_png(7000, 7000), "image/png")],  # 190 KB that decodes to 196 MB
            "form.rejected.too_many_pixels",
            "有张图片尺寸过大（像素太多），无法处理。请直接拍照上传。",
        ),
        (
            [(jpeg(seed=i), "image/jpeg") for i in range(6)],
            "form.too_many_photos",
            "每次上报最多 5 张照片，请删掉几张。",
        ),
        ([], "form.no_photo", "请至少拍一张现场照片。"),
    ],
)
async def test_bad_photos_are_refused_plainly(
    world: World, photos: list[tuple[bytes, str]], error: str, message: str
) -> None:
    phone = world.rider()
    await phone.open()
    if photos:
        answer = await phone.submit(point=IN_DONGGUAN, photos=photos)
    else:  # a form with no file at all
        answer = await phone.client.post(
            "/reports",
            data={
                "csrf": phone.csrf,
                "key": new_key(),
                "category": "order",
                "lat": "36.1",
                "lon": "113.2",
            },
            files={"other": ("x.txt", b"x", "text/plain")},
        )
    assert answer.status_code == 422
    assert answer.json() == {"error": error, "message": message}
    assert await world.count(reports) == 0
    await phone.close()


async def test_no_location_is_refused_unless_a_photo_carries_one(world: World) -> None:
    phone = world.rider()
    await phone.open()
    answer = await phone.submit(point=None)
    assert answer.status_code == 422 and answer.json()["error"] == "form.no_location"
    assert "在地图上点选" in answer.json()["message"]
    # A gallery photo sent as it is keeps its EXIF fix: it supplies the location.
    gallery = jpeg(gps=(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    answer = await phone.submit(point=None, photos=[(gallery, "image/jpeg")])
    assert answer.status_code == 201 and answer.json()["community"] == "东关社区"
    async with world.services.db.transaction() as conn:
        assert (await conn.execute(select(reports.c.location_source))).scalar_one() == "exif"
    await phone.close()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"lat": "999", "lon": "113.2"}, "form.bad_location"),
        ({"lat": "abc", "lon": "113.2"}, "form.bad_location"),
        ({"lat": "nan", "lon": "nan"}, "form.bad_location"),
        ({"source": "teleport"}, "form.bad_location"),
        ({"category": "graffiti"}, "form.unknown_category"),
        ({"key": "short"}, "form.bad_key"),
    ],
)
async def test_bad_fields_are_refused(world: World, fields: dict[str, str], error: str) -> None:
    phone = world.rider()
    await phone.open()
    answer = await phone.submit(point=IN_DONGGUAN, extra=fields)
    assert answer.json()["error"] == error
    assert answer.status_code == (400 if error == "form.bad_key" else 422)
    assert await world.count(reports) == 0
    await phone.close()


async def test_an_oversized_upload_is_refused_before_it_is_read(world: World) -> None:
    phone = world.rider()
    await phone.open()
    answer = await phone.client.post(
        "/reports",
        content=b"x",
        headers={"content-length": str(200 * 1024 * 1024), "content-type": "multipart/form-data"},
    )
    assert answer.status_code == 413
    assert answer.json()["message"] == "上传的内容太大，请少选几张照片。"
    await phone.close()


async def test_a_garbled_form_is_refused(world: World) -> None:
    phone = world.rider()
    await phone.open()
    unreadable = await phone.client.post(
        "/reports", content=b"--x\r\nnonsense", headers={"content-type": "multipart/form-data"}
    )  # no boundary: it cannot be parsed at all
    assert unreadable.status_code == 400
    assert unreadable.json()["message"] == "提交的内容不完整，请刷新页面后再试。"
    garbled = await phone.client.post(
        "/reports",
        content=b"--x\r\nnonsense",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )  # parsed as an empty form: no token in it
    assert garbled.status_code == 403
    assert await world.count(reports) == 0
    await phone.close()


async def test_riders_see_their_own_reports_and_nobody_elses(world: World) -> None:
    mine, theirs = world.rider(), world.rider()
    await mine.open()
    await theirs.open()
    assert (await mine.submit(point=IN_DONGGUAN, category="fire", note="消防通道堵塞")).json()[
        "ticket"
    ] == 1
    listing = await mine.open("/my")
    assert "#1" in listing.text and "消防安全" in listing.text and "东关社区" in listing.text
    detail = await mine.open("/my/1")
    assert detail.status_code == 200
    assert "工单 #1" in detail.text and "消防通道堵塞" in detail.text and "骑手上报" in detail.text
    # Another device: the ticket does not exist for it (not "forbidden": ids reveal nothing).
    other = await theirs.open("/my/1")
    assert other.status_code == 404 and "没有这个工单，或者它不是你上报的。" in other.text
    assert "消防通道堵塞" not in other.text
    assert "你还没有上报过。" in (await theirs.open("/my")).text
    for path in ("/my/2", "/my/abc", "/my/99999999999999999999", "/my/-1"):
        assert (await mine.open(path)).status_code == 404, path
    for phone in (mine, theirs):
        await phone.close()


async def test_reports_per_hour_are_limited_per_rider(tmp_path: Path) -> None:
    async for world in web_world(tmp_path):
        limits = world.config.limits
        assert limits.reports_per_hour == 10
        phone = world.rider()
        await phone.open()
        for _ in range(limits.reports_per_hour):  # each a different problem at the same spot
            assert (await phone.submit(point=IN_DONGGUAN, extra=SEPARATE)).status_code == 201
        answer = await phone.submit(point=IN_DONGGUAN, lang="en", extra=SEPARATE)
        assert answer.status_code == 429
        assert answer.json()["message"].startswith("At most 10 reports an hour; please submit")
        other = world.rider()  # another rider is not held up
        await other.open()
        assert (await other.submit(point=IN_DONGGUAN, extra=SEPARATE)).status_code == 201
        for p in (phone, other):
            await p.close()


async def test_the_page_and_leaflet_travel_compressed(world: World) -> None:
    phone = world.rider()
    leaflet = await phone.client.get(
        "/static/leaflet/leaflet.js", headers={"accept-encoding": "gzip"}
    )
    assert leaflet.headers["content-encoding"] == "gzip"
    assert leaflet.num_bytes_downloaded < 50 * 1024 < len(leaflet.content)  # 144 KB as it is
    await phone.close()
