"""The staff console in a real browser (Debian's Chromium, Playwright): a staff member signs
in from an invite link, accepts a report a rider sent on Telegram and resolves it with a
note; the rider is asked 已解决？ in the fake Telegram and the card shows the step; a
colleague's open page follows along without a reload. Map tiles and every outside host are
answered by a blank image or refused, so nothing leaves the machine."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from handlers import web
from handlers.web.console import live
from handlers.web.console import report as report_page
from tests.conftest import Stage, words
from tests.images import jpeg
from tests.test_casework import card_of, reported
from tests.test_web_browser import CHROMIUM, HOW, blank_tile, served_in_chromium

playwright_api = pytest.importorskip(
    "playwright.async_api",
    reason="Playwright for Python is not installed: pip install -e '.[test]'",
)
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=HOW)


@dataclass
class Site:
    url: str
    stage: Stage
    browser: Any

    async def desk(self) -> Any:
        """A staff member's browser window: a desk's screen, its own cookies."""
        context = await self.browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN"
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
        return page

    def local(self, link_url: str) -> str:
        """An invite link names the configured base URL; the test server has its own port."""
        return self.url + link_url.split("/", 3)[3]


@pytest.fixture
async def site(stage: Stage, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Site]:
    monkeypatch.setattr(report_page, "POLL_SECONDS", 1)  # the pages poll every second
    monkeypatch.setattr(live, "POLL_SECONDS", 1)
    app, _ = web.build(stage.services, telegram_on=True, secret=b"z" * 40)
    async with served_in_chromium(app) as (url, browser):
        yield Site(url, stage, browser)


async def sign_in(site: Site, name: str) -> Any:
    link = await site.stage.services.staff_links.invite(name, "dongguan")
    page = await site.desk()
    await page.goto(site.local(link.url))
    await page.get_by_role("button", name="登录").click()
    await page.get_by_text(f"{name} · 东关社区").wait_for()
    return page


async def test_staff_sign_in_accept_and_resolve_while_a_colleague_watches(site: Site) -> None:
    stage = site.stage
    rider = await reported(stage)  # on Telegram: 东关社区, 消防通道堵塞
    li = await sign_in(site, "李四")
    await li.get_by_role("link", name="#1").click()
    await li.get_by_text("待受理").first.wait_for()
    await li.locator("#map .leaflet-marker-icon").wait_for()  # the map, with its pin
    await li.wait_for_function(  # the rider's photo, served to signed-in staff
        "() => { const i = document.querySelector('.photos img'); return i && i.naturalWidth > 0 }"
    )

    wang = await sign_in(site, "王五")  # a colleague with the same report open
    await wang.goto(site.url + "console/r/1")
    await wang.evaluate("window.stillThisPage = true")
    await wang.fill("#reply-text", "请把具体门牌号发来")  # typing when the step lands

    await li.get_by_role("button", name="✋ 受理").click()
    await li.get_by_text("已受理工单 #1。").wait_for()
    await stage.delivered()
    assert "受理 · 李四" in words(card_of(stage, "dongguan"))
    assert "工单 #1 已被社区受理" in rider.last_bot_message()["text"]
    # The colleague's page shows it by itself: no reload, no Accept button any more.
    await wang.get_by_text("处理人：李四").wait_for(timeout=10_000)
    assert await wang.evaluate("window.stillThisPage === true")
    assert await wang.locator("#accept").count() == 0
    assert await wang.input_value("#reply-text") == "请把具体门牌号发来"
    assert await wang.locator("#changed").is_visible()

    await li.fill("#resolve-note", "已清理通道，电动车已移走")
    # An after-photo over the limit is refused in the page, before the upload: the note stays.
    photo = li.locator("input[name=photo]")
    assert await photo.get_attribute("data-max") == str(stage.config.max_photo_bytes)
    await photo.evaluate("input => { input.dataset.max = '100' }")  # a tiny limit, for the test
    big = {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
    await photo.set_input_files(files=[big])
    assert "内容太大" in await photo.evaluate("input => input.validationMessage")
    assert not await li.evaluate("() => document.querySelector('#resolve').form.checkValidity()")
    await photo.set_input_files(files=[])
    assert await li.evaluate("() => document.querySelector('#resolve').form.checkValidity()")
    await li.get_by_role("button", name="✅ 办结").click()
    await li.get_by_text("已办结，正在请骑手确认。").wait_for()
    await stage.delivered()
    asked = rider.last_bot_message()
    assert "问题解决了吗" in asked["text"] and "已清理通道" in asked["text"]
    assert [b["text"] for row in asked["reply_markup"]["inline_keyboard"] for b in row] == [
        "✅ 已解决",
        "❌ 未解决",
    ]
    assert "已办结" in words(card_of(stage, "dongguan"))
    await wang.get_by_text("已清理通道，电动车已移走").first.wait_for(timeout=10_000)
    assert await wang.evaluate("window.stillThisPage === true")
    assert li.errors == [] and wang.errors == []


async def test_the_queue_shows_a_new_report_without_a_reload(site: Site) -> None:
    stage = site.stage
    await reported(stage)
    li = await sign_in(site, "李四")
    await li.locator("#row-1").wait_for()
    await li.evaluate("window.stillThisPage = true")
    await li.fill("input[name=q]", "12")  # typing a search when the report lands
    await reported(stage, name="赵师傅")  # a second rider, on Telegram
    await li.locator("#row-2").wait_for(timeout=10_000)
    assert await li.locator("#changed").is_visible()
    assert await li.evaluate("window.stillThisPage === true")
    assert await li.input_value("input[name=q]") == "12"
    assert li.errors == []
