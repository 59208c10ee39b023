"""The riders' page in a real browser: Debian's Chromium driven by Playwright for Python.

A rider grants geolocation, attaches a photo, picks a category, submits and sees the ticket;
the card appears in the fake Telegram's community chat. Map tiles and every outside host are
answered by a blank image or refused, so nothing leaves the machine.

Without Chromium these tests are skipped, saying how to get it (Playwright's own browser
download does not work on these machines; Debian's Chromium does).
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from bot.domain.geo import LatLon, wgs84_to_gcj02
from handlers import web
from handlers.web.server import listen, server_for
from storage.tables import reports
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, Stage, words
from tests.images import jpeg
from tests.test_casework import card_of, staff_of
from tests.web import card_recorded

CHROMIUM = "/usr/bin/chromium"
HOW = (
    "Chromium not found at /usr/bin/chromium: install Debian's with "
    "`apt-get install -y chromium` to run the browser tests (.ci/run does)"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

playwright_api = pytest.importorskip(
    "playwright.async_api",
    reason="Playwright for Python is not installed: pip install -e '.[test]'",
)
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=HOW)


def blank_tile() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (225, 230, 235)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Site:
    url: str
    stage: Stage
    browser: Any

    async def phone(self, *, at: LatLon | None = None, **options: Any) -> Any:
        """A phone's page: located at `at` (permission granted), else permission refused."""
        context = await self.browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            geolocation={"latitude": at.lat, "longitude": at.lon} if at else None,
            permissions=["geolocation"] if at else [],
            **options,
        )
        tile = blank_tile()

        async def outside(route: Any) -> None:
            if re.search(r"/\d+/\d+/\d+\.png$", route.request.url):
                await route.fulfill(status=200, content_type="image/png", body=tile)
            else:
                await route.abort()

        await context.route(re.compile(r"^(?!http://127\.0\.0\.1)"), outside)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        await page.goto(self.url)
        return page


@pytest.fixture
async def site(stage: Stage) -> AsyncIterator[Site]:
    """The web page of the stage's county, served on a free port, Telegram on."""
    app, _ = web.build(stage.services, telegram_on=True, secret=b"b" * 40)
    async with served_in_chromium(app) as (url, browser):
        yield Site(url, stage, browser)


@asynccontextmanager
async def served_in_chromium(app: Any) -> AsyncIterator[tuple[str, Any]]:
    """`app` served on a free port, and Debian's Chromium to open it with."""
    sock = listen("127.0.0.1", 0)
    server = server_for(app)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}/", browser
        finally:
            await browser.close()
            server.should_exit = True
            await task
            sock.close()


def photo_file(body: bytes, name: str = "photo.jpg") -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": body}


async def stored_reports(stage: Stage) -> list[Any]:
    async with stage.services.db.transaction() as conn:
        return list((await conn.execute(select(reports))).all())


async def test_a_rider_reports_from_the_phone_and_sees_the_ticket(site: Site) -> None:
    page = await site.phone(at=IN_XIGUAN)
    await page.get_by_text("已定位，可拖动图钉调整").wait_for()
    uploads: list[bytes] = []
    page.on("request", lambda r: r.method == "POST" and uploads.append(r.post_data_buffer))
    big = jpeg(4000, 3000)  # a phone camera's size: sent at most 2048 px on the long side
    await page.set_input_files("#camera", photo_file(big))
    await page.locator("#thumbs li").wait_for()
    assert await page.locator("#missing").text_content() == "还差：类别"
    await page.get_by_role("button", name="社会治安").click()
    await page.fill("#note", "路灯不亮")
    await page.get_by_role("button", name="✅ 提交").click()
    await page.get_by_text("工单号 #1").wait_for()
    assert "已派往「西关社区」" in await page.locator("#done-where").text_content()
    assert page.errors == []
    # What went over the network was downscaled in the browser.
    jpeg_start = uploads[0].index(b"\xff\xd8")
    with Image.open(io.BytesIO(uploads[0][jpeg_start:])) as sent:
        assert max(sent.size) == 2048 and sent.size == (2048, 1536)
    stage = site.stage
    await card_recorded(stage)
    card = card_of(stage, "xiguan")
    assert "工单 #1 · 🚨 社会治安" in words(card) and "备注：路灯不亮" in words(card)
    (report,) = await stored_reports(stage)
    assert report.location_source == "gps"
    assert report.lat == pytest.approx(IN_XIGUAN.lat, abs=1e-6)
    # Staff accept on Telegram; the rider's page shows it.
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.press(card, "✋ 受理"))
    await page.get_by_role("link", name="我的上报").click()
    await page.get_by_text("处理中").wait_for()
    await page.get_by_role("link", name=re.compile("#1")).first.click()  # news, or the list
    await page.get_by_text("状态：处理中").wait_for()
    assert "张三" not in await page.content()


async def test_without_location_permission_the_rider_picks_the_spot_on_the_map(
    site: Site,
) -> None:
    page = await site.phone(at=None)  # permission refused
    await page.get_by_text("无法获取手机位置。请在地图上点一下，选择问题所在的地方。").wait_for()
    await page.set_input_files("#gallery", photo_file(jpeg()))
    await page.get_by_role("button", name="环境卫生").click()
    assert await page.get_by_role("button", name="✅ 提交").is_disabled()
    assert await page.locator("#missing").text_content() == "还差：位置"
    await page.locator("#map").click(position={"x": 195, "y": 115})  # the middle of the map
    await page.get_by_text("已在地图上选点，可拖动图钉调整").wait_for()
    await page.get_by_role("button", name="✅ 提交").click()
    await page.get_by_text("工单号 #1").wait_for()
    (report,) = await stored_reports(site.stage)
    assert report.location_source == "map"


async def test_a_gallery_photo_with_gps_places_the_pin(site: Site) -> None:
    page = await site.phone(at=None)
    at = IN_DONGGUAN
    await page.set_input_files("#gallery", photo_file(jpeg(gps=(at.lat, at.lon))))
    await page.get_by_text("位置取自照片，可拖动图钉调整").wait_for()
    await page.get_by_role("button", name="消防安全").click()
    await page.get_by_role("button", name="✅ 提交").click()
    await page.get_by_text("工单号 #1").wait_for()
    assert "东关社区" in await page.locator("#done-where").text_content()
    (report,) = await stored_reports(site.stage)
    assert report.location_source == "exif"
    assert report.lat == pytest.approx(at.lat, abs=1e-4)  # EXIF keeps seconds to 1e-4


async def test_english_is_one_tap_away_and_nothing_entered_is_lost(site: Site) -> None:
    page = await site.phone(at=IN_XIGUAN)
    await page.set_input_files("#camera", photo_file(jpeg()))
    await page.locator("#thumbs li").wait_for()
    await page.get_by_role("button", name="社会治安").click()
    await page.fill("#note", "路灯不亮")
    await page.get_by_role("button", name="English").click()
    assert await page.locator("h1").text_content() == "Suishou"
    assert await page.get_by_role("button", name="Public order").get_attribute("aria-pressed") == (
        "true"
    )
    assert await page.locator("#thumbs li").count() == 1
    assert await page.input_value("#note") == "路灯不亮"
    await page.get_by_role("button", name="✅ Submit").click()
    await page.get_by_text("Ticket #1").wait_for()
    assert "Sent to 西关社区" in await page.locator("#done-where").text_content()


async def test_an_answer_lost_on_the_way_is_retried_into_the_same_report(site: Site) -> None:
    page = await site.phone(at=IN_XIGUAN)
    lost: list[int] = []

    async def lose_first_answer(route: Any) -> None:
        if not lost:
            response = await route.fetch()  # the server files the report...
            lost.append(response.status)
            await route.abort("connectionreset")  # ...and the phone never hears of it
        else:
            await route.continue_()

    await page.route("**/reports", lose_first_answer)
    await page.set_input_files("#camera", photo_file(jpeg()))
    await page.get_by_role("button", name="社会治安").click()
    await page.get_by_role("button", name="✅ 提交").click()
    await page.get_by_text("工单号 #1").wait_for(timeout=10_000)
    assert lost == [201]
    assert len(await stored_reports(site.stage)) == 1
    # A new report from the same page is a new one.
    await page.get_by_role("button", name="再报一件").click()
    await page.set_input_files("#camera", photo_file(jpeg(seed=3)))
    await page.get_by_role("button", name="社会治安").click()
    await page.get_by_role("button", name="✅ 提交").click()
    # The same kind at the same spot: the page asks whether it is #1 again. It is not.
    await page.get_by_role("button", name="不是同一个，继续提交").click()
    await page.get_by_text("工单号 #2").wait_for()


async def test_the_page_converts_for_chinese_maps_exactly_as_the_server(site: Site) -> None:
    page = await site.phone(at=None)
    for point in (IN_XIGUAN, LatLon(39.90734, 116.39089), LatLon(22.543847, 113.912316)):
        gcj = await page.evaluate(
            "p => window.Suishou.wgsToGcj({lat: p[0], lng: p[1]})", [point.lat, point.lon]
        )
        expected = wgs84_to_gcj02(point)
        assert gcj["lat"] == pytest.approx(expected.lat, abs=1e-12)
        assert gcj["lng"] == pytest.approx(expected.lon, abs=1e-12)
        back = await page.evaluate("p => window.Suishou.gcjToWgs(p)", gcj)
        assert back["lat"] == pytest.approx(point.lat, abs=1e-9)
        assert back["lng"] == pytest.approx(point.lon, abs=1e-9)


async def test_staff_reply_reaches_the_page_and_the_rider_answers_fixed(site: Site) -> None:
    """Across channels: staff reply on Telegram, the rider reads it and answers on the page,
    staff resolve, the rider presses Fixed on the page, and the card in Telegram is closed."""
    page = await site.phone(at=IN_XIGUAN)
    await page.set_input_files("#camera", photo_file(jpeg()))
    await page.get_by_role("button", name="社会治安").click()
    await page.get_by_role("button", name="✅ 提交").click()
    await page.get_by_text("工单号 #1").wait_for()
    stage = site.stage
    await card_recorded(stage)
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.press(card_of(stage, "xiguan"), "✋ 受理"))
    await stage.send(staff.reply(card_of(stage, "xiguan"), text="请问是哪一侧的路灯？"))
    await page.goto(f"{site.url}my/1")
    await page.get_by_text("请问是哪一侧的路灯？").wait_for()
    await page.fill("#reply", "北侧，靠近公交站")
    await page.get_by_role("button", name="发送").click()
    await page.get_by_text("已收到，正在转告社区（工单 #1）。").wait_for()
    await stage.delivered()
    assert words(stage.chat_messages("xiguan")[-1]) == "💬 骑手回复（工单 #1）：北侧，靠近公交站"
    await stage.send(staff.press(card_of(stage, "xiguan"), "✅ 办结"))
    await stage.send(staff.reply(stage.chat_messages("xiguan")[-1], text="已更换灯泡"))
    await page.reload()
    await page.get_by_text("问题解决了吗？").wait_for()
    await page.get_by_role("button", name="✅ 已解决").click()
    await page.get_by_text("谢谢确认！工单 #1 已结案。").wait_for()
    assert "张三" not in await page.content() and page.errors == []
    await stage.delivered()
    assert "已结案" in words(card_of(stage, "xiguan"))
