"""The county's view in a real browser (Debian's Chromium, Playwright): a supervisor signs
in, sees nothing due while the rider has not answered, then the county at 100 % once the
rider confirms the fix on Telegram, with the digest's chart; the map shows the report as a
closed one and opens its page. Tiles are answered with a blank image (tests/test_console_
browser.py's site), nothing leaves the machine."""

from __future__ import annotations

from typing import Any

from tests.test_casework import accept, reported, resolve, staff_of
from tests.test_console_browser import Site, site  # noqa: F401 (the fixture)
from tests.test_rider_intake import buttons


async def supervisor(at: Site, name: str = "周主任") -> Any:
    link = await at.stage.services.staff_links.invite(name, "county")
    page = await at.desk()
    await page.goto(at.local(link.url))
    await page.get_by_role("button", name="登录").click()
    await page.get_by_text(f"{name} · 壶关县网格化服务管理中心").wait_for()
    return page


async def test_a_supervisor_sees_the_county_at_100_percent_and_the_report_on_the_map(
    site: Site,  # noqa: F811 (the fixture, imported above)
) -> None:
    stage = site.stage
    rider = await reported(stage)  # on Telegram: 东关社区, 消防通道堵塞
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    await resolve(stage, zhang, "已清理通道")
    stage.clock.advance(minutes=1)

    page = await supervisor(site)
    await page.get_by_role("link", name="数据").click()
    await page.locator("#m-received").get_by_text("1").wait_for()
    assert await page.locator("#m-closure_rate").inner_text() == "—"  # nothing due yet

    notice = rider.last_bot_message()
    assert buttons(notice) == ["✅ 已解决", "❌ 未解决"]
    await stage.send(rider.press(notice, "✅ 已解决"))
    stage.clock.advance(minutes=1)
    await page.reload()
    assert await page.locator("#m-closure_rate").inner_text() == "100%"
    assert await page.locator("#m-closed_fixed").inner_text() == "1"
    first = page.locator("#ranking tbody tr").first
    assert "东关社区" in await first.inner_text() and "100%" in await first.inner_text()
    chart = page.locator("#chart")
    await chart.wait_for()
    await page.wait_for_function("document.getElementById('chart').complete")
    assert await chart.evaluate("img => img.naturalWidth") > 0

    await page.get_by_role("link", name="地图").click()
    pin = page.locator('.pin[title="#1"]')
    await pin.wait_for()
    assert "state-closed" in (await pin.get_attribute("class") or "")
    assert await page.locator("#map-status").inner_text() == "地图范围内 1 件"
    # Only what is overdue: nothing; every state again: the report.
    await page.select_option("#state", "overdue")
    await page.get_by_text("地图范围内 0 件").wait_for()
    assert await page.locator(".pin").count() == 0
    await page.select_option("#state", "")
    await pin.wait_for()
    await pin.click()
    await page.wait_for_url("**/console/r/1")
    await page.get_by_text("已结案").first.wait_for()
    assert page.errors == []
