"""+1 in a real browser: the second rider at the same spot is shown the open report nearby
and joins it; nothing they entered was lost while the page asked (Chromium, as in
tests/test_web_browser.py, whose fixture and skip rules this file shares)."""

from __future__ import annotations

from typing import Any

from storage import reports as report_rows
from tests.conftest import IN_XIGUAN
from tests.images import jpeg
from tests.test_web_browser import Site, photo_file, pytestmark, site  # noqa: F401
from tests.web import card_recorded


async def report_from(page: Any, note: str) -> None:
    await page.set_input_files("#camera", photo_file(jpeg()))
    await page.locator("#thumbs li").wait_for()
    await page.get_by_role("button", name="社会治安").click()
    await page.fill("#note", note)
    await page.get_by_role("button", name="✅ 提交").click()


async def test_a_second_rider_at_the_same_spot_joins_with_plus_one(
    site: Site,  # noqa: F811 (the fixture, imported above)
) -> None:
    first = await site.phone(at=IN_XIGUAN)
    await first.get_by_text("已定位，可拖动图钉调整").wait_for()
    await report_from(first, "路灯不亮")
    await first.get_by_text("工单号 #1").wait_for()
    await card_recorded(site.stage)

    second = await site.phone(at=IN_XIGUAN)
    await second.get_by_text("已定位，可拖动图钉调整").wait_for()
    await report_from(second, "这里的路灯也坏了")
    await second.get_by_text("附近已有同类问题，是同一个吗？").wait_for()
    line = await second.locator("#similar-line").text_content()
    assert line is not None and line.startswith("工单 #1 🚨 社会治安 · 距离约")
    # Nothing entered is lost while the page asks: the photo, the note, the category.
    assert await second.locator("#thumbs li").count() == 1
    assert await second.input_value("#note") == "这里的路灯也坏了"
    assert await second.locator("#submit").is_hidden()
    await second.get_by_role("button", name="➕ 是同一个（+1）").click()
    await second.get_by_text("已 +1").wait_for()
    assert await second.locator("#done-ticket").text_content() == "工单号 #1"
    assert "已加入工单 #1" in (await second.locator("#done-where").text_content() or "")
    assert first.errors == [] and second.errors == []
    async with site.stage.services.db.transaction() as conn:
        assert len(await report_rows.follower_ids(conn, 1)) == 1
        assert await report_rows.get(conn, 2) is None  # no second report
