"""The desk's queue: a community's staff see their community's reports by tab (new,
accepted, overdue, awaiting the rider, closed), by category and ticket number, newest or
most urgent first, a page at a time; supervisors see every community's, with a filter."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from bot.domain.geo import LatLon
from handlers import web
from handlers.web.console import queue as queue_page
from storage import queue as queue_rows
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, Stage
from tests.console import StaffBrowser, invite
from tests.test_casework import card_of, staff_of
from tests.web import WebRider, card_recorded


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"q" * 40)
    yield app


async def report(stage: Stage, app: Starlette, point: LatLon, category: str, ticket: int) -> None:
    phone = WebRider(app)
    await phone.open()
    answer = await phone.submit(
        point=point, category=category, note=f"第{ticket}件", extra={"separate": "1"}
    )
    assert answer.status_code == 201
    await card_recorded(stage, ticket)
    await phone.close()


def tickets(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="row-(\d+)"', page)]


def tab_count(page: str, tab: str) -> int:
    found = re.search(rf'id="tab-{tab}">[^<]*<span class="count">(\d+)</span>', page)
    assert found, tab
    return int(found.group(1))


async def staff_at(stage: Stage, app: Starlette, desk: str, name: str = "李四") -> StaffBrowser:
    browser = StaffBrowser(app)
    await browser.sign_in(await invite(stage, name, desk))
    return browser


async def test_a_community_sees_its_own_reports_by_tab(stage: Stage, web_app: Starlette) -> None:
    await report(stage, web_app, IN_XIGUAN, "order", 1)
    await report(stage, web_app, IN_DONGGUAN, "order", 2)
    await report(stage, web_app, IN_XIGUAN, "sanitation", 3)
    browser = await staff_at(stage, web_app, "xiguan")
    page = (await browser.open("/console")).text
    assert tickets(page) == [3, 1]  # newest first; 东关's #2 is not this desk's
    assert tab_count(page, "new") == 2 and tab_count(page, "accepted") == 0
    # Accepted on Telegram: it moves to the 处理中 tab, with who handles it.
    zhang = staff_of(stage, "xiguan", "张三")
    await stage.send(zhang.press(card_of(stage, "xiguan", 1), "✋ 受理"))
    page = (await browser.open("/console")).text
    assert tickets(page) == [3] and tab_count(page, "accepted") == 1
    accepted = (await browser.open("/console?tab=accepted")).text
    assert tickets(accepted) == [1] and "处理中 · 张三" in accepted
    # Category and ticket number; a number of another desk finds nothing.
    assert tickets((await browser.open("/console?cat=sanitation")).text) == [3]
    assert tickets((await browser.open("/console?q=%233")).text) == [3]
    assert tickets((await browser.open("/console?q=1")).text) == [1]  # found in any tab
    assert tickets((await browser.open("/console?q=2")).text) == []
    bad = (await browser.open("/console?q=abc")).text
    assert "工单号应为数字" in bad and tickets(bad) == []
    # Unknown filters are ignored, not errors.
    odd = await browser.open("/console?tab=zzz&order=zzz&cat=zzz")
    assert odd.status_code == 200 and tickets(odd.text) == [3]
    await browser.close()


async def test_overdue_reports_are_marked_and_urgent_first(
    stage: Stage, web_app: Starlette
) -> None:
    await report(stage, web_app, IN_XIGUAN, "order", 1)  # 24 hours: due first
    await report(stage, web_app, IN_XIGUAN, "sanitation", 2)  # 72 hours
    browser = await staff_at(stage, web_app, "xiguan")
    urgent = (await browser.open("/console?order=urgent")).text
    newest = (await browser.open("/console")).text
    assert tickets(urgent) == [1, 2] and tickets(newest) == [2, 1]
    assert "超期" not in newest.split("</nav>")[1]
    stage.clock.advance(hours=48)  # past #1's deadline only
    page = (await browser.open("/console?tab=overdue")).text
    assert tickets(page) == [1] and tab_count(page, "overdue") == 1
    new = (await browser.open("/console?tab=new")).text
    assert '<tr id="row-1" class="overdue">' in new and '<tr id="row-2">' in new
    stage.clock.advance(days=10)
    page = (await browser.open("/console?tab=overdue")).text
    assert tickets(page) == [2, 1] and tab_count(page, "overdue") == 2
    assert page.count('class="overdue"') == 2 and '<b class="mark">超期</b>' in page
    await browser.close()


async def test_pages_follow_one_another(
    stage: Stage, web_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_rows, "PAGE_SIZE", 2)
    for ticket in (1, 2, 3):
        await report(stage, web_app, IN_XIGUAN, "order", ticket)
    browser = await staff_at(stage, web_app, "xiguan")
    first = (await browser.open("/console")).text
    assert tickets(first) == [3, 2]
    after = re.search(r'href="([^"]+)" id="next"', first)
    assert after
    second = (await browser.open(after.group(1).replace("&amp;", "&"))).text
    assert tickets(second) == [1] and 'id="next"' not in second
    bad = (await browser.open("/console?after=x.y")).text
    assert "翻页位置不对" in bad and tickets(bad) == [3, 2]
    await browser.close()


async def test_supervisors_see_every_community_with_a_filter(
    stage: Stage, web_app: Starlette
) -> None:
    await report(stage, web_app, IN_XIGUAN, "order", 1)
    await report(stage, web_app, IN_DONGGUAN, "order", 2)
    browser = await staff_at(stage, web_app, "county", "王主任")
    page = (await browser.open("/console")).text
    assert tickets(page) == [2, 1] and "西关社区" in page and "东关社区" in page
    assert tickets((await browser.open("/console?community=dongguan")).text) == [2]
    own = (await browser.open(f"/console?community={queue_page.SUPERVISORS_OWN}")).text
    assert tickets(own) == []
    # A community's desk cannot widen its view with the filter.
    xiguan = await staff_at(stage, web_app, "xiguan")
    assert tickets((await xiguan.open("/console?community=dongguan")).text) == [1]
    await browser.close()
    await xiguan.close()


async def test_the_queue_version_moves_when_a_report_comes_or_a_step_is_taken(
    stage: Stage, web_app: Starlette
) -> None:
    """The queue page polls it and fetches itself again only when it moved."""
    assert (await StaffBrowser(web_app).client.get("/console/version")).status_code == 401
    staff = await staff_at(stage, web_app, "dongguan")
    page = await staff.open("/console")
    assert 'data-version-url="/console/version"' in page.text
    assert 'id="rows" data-live' in page.text

    async def version() -> str:
        answer = await staff.client.get("/console/version")
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
        return str(answer.json()["version"])

    empty = await version()
    assert await version() == empty  # nothing happened: nothing to fetch
    await report(stage, web_app, IN_DONGGUAN, "fire", 1)
    arrived = await version()
    assert arrived != empty
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press(card_of(stage, "dongguan"), "✋ 受理"))
    assert await version() not in (empty, arrived)
    assert re.fullmatch(r"[0-9a-f]{20}", await version())  # opaque: no counts of the county
    await staff.close()
