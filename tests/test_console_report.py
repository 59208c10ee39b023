"""One report in the console: what staff see (photos, map, timeline, the rider's label), who
may see it, and its actions through the same casework as the Telegram card: a step here
edits the card and tells the rider; a stale page, a forged form or another desk's report
changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from bot.domain.geo import LatLon
from handlers import web
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, Stage, words
from tests.console import StaffBrowser, error_of, invite, notice_of
from tests.images import jpeg
from tests.test_casework import card_of, row, staff_of
from tests.web import WebRider, card_recorded


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"r" * 40)
    yield app


async def rider_reports(stage: Stage, app: Starlette, point: LatLon = IN_XIGUAN) -> WebRider:
    phone = WebRider(app)
    await phone.open()
    answer = await phone.submit(
        point=point, category="order", note="井盖破损", extra={"separate": "1"}
    )
    assert answer.status_code == 201
    await card_recorded(stage, answer.json()["ticket"])
    return phone


async def signed_in(
    stage: Stage, app: Starlette, desk: str = "xiguan", name: str = "李四"
) -> StaffBrowser:
    browser = StaffBrowser(app)
    await browser.sign_in(await invite(stage, name, desk))
    return browser


def photo_paths(page: str) -> list[str]:
    return sorted(set(re.findall(r'src="(/console/r/\d+/photo/[0-9a-f]{64})"', page)))


async def test_the_page_shows_the_report_and_its_photos_to_its_desk_only(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    page = await staff.open("/console/r/1")
    assert page.status_code == 200
    text = page.text
    assert "工单 #1" in text and "社会治安" in text and "待受理" in text
    assert "上报人：骑手 #0001" in text and "上报人：上报人" not in text  # said once
    assert "骑手 #0001" in text and "井盖破损" in text and "骑手上报" in text
    assert 'id="map" data-lat="36.' in text and "leaflet.js" in text
    assert 'name="seen" value="dispatched"' in text and 'id="accept"' in text
    (photo,) = photo_paths(text)
    served = await staff.client.get(photo)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.content[:2] == b"\xff\xd8"
    # Signed out, another desk, a photo that is not this report's: nothing.
    assert (await phone.client.get(photo)).status_code == 401
    other = await signed_in(stage, web_app, "dongguan", "赵六")
    assert (await other.client.get(photo)).status_code == 404
    page = await other.open("/console/r/1")
    assert page.status_code == 404 and "不属于你的工作台" in error_of(page.text)
    assert (await other.client.get("/console/r/1/version")).status_code == 404
    assert (await staff.client.get("/console/r/1/photo/" + "0" * 64)).status_code == 404
    assert (await staff.client.get("/console/r/1/photo/..%2F..%2Fetc")).status_code == 404
    # The county sees every desk's report.
    county = await signed_in(stage, web_app, "county", "王主任")
    seen = await county.client.get(photo)
    assert seen.status_code == 200 and seen.headers["cache-control"] == "private, no-store"
    for b in (staff, other, county, phone):
        await b.close()


async def test_another_desks_report_cannot_be_acted_on(stage: Stage, web_app: Starlette) -> None:
    await rider_reports(stage, web_app)
    other = await signed_in(stage, web_app, "dongguan", "赵六")
    await other.open("/console")  # a token of its own session
    acted = await other.act(1, "accept", seen="dispatched")
    assert acted.status_code == 404
    assert (await row(stage)).status == "dispatched"
    missing = await other.act(99, "accept", seen="dispatched")
    assert missing.status_code == 404
    await other.close()


async def test_accept_here_shows_on_the_card_and_tells_the_rider(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    await staff.open("/console/r/1")
    before = (await staff.client.get("/console/r/1/version")).json()["version"]
    acted = await staff.act(1, "accept", seen="dispatched")
    assert acted.status_code == 303
    page = await staff.open(acted.headers["location"])
    assert "已受理工单 #1" in notice_of(page.text) and "处理人：李四" in page.text
    assert (await staff.client.get("/console/r/1/version")).json()["version"] != before
    await stage.delivered()
    assert "受理 · 李四" in words(card_of(stage, "xiguan"))
    mine = await phone.open("/my/1")
    assert "处理中" in mine.text and "李四" not in mine.text  # riders never see names
    await staff.close()
    await phone.close()


async def test_a_stale_page_is_refused_with_a_clear_message(
    stage: Stage, web_app: Starlette
) -> None:
    await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    await staff.open("/console/r/1")  # shows 待受理
    zhang = staff_of(stage, "xiguan", "张三")
    await stage.send(zhang.press(card_of(stage, "xiguan"), "✋ 受理"))
    late = await staff.act(1, "accept", seen="dispatched")
    assert late.status_code == 409 and "刚刚被别人更新了" in error_of(late.text)
    assert (await row(stage)).handler_name == "张三"
    # The page shown with the refusal is the fresh one: no Accept any more.
    assert 'id="accept"' not in late.text and "处理人：张三" in late.text
    await staff.close()


async def test_a_forged_or_missing_form_token_changes_nothing(
    stage: Stage, web_app: Starlette
) -> None:
    await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    await staff.open("/console/r/1")
    fields = {
        "accept": {},
        "reply": {"text": "你好"},
        "resolve": {"text": "已处理"},
        "transfer": {"to": "dongguan"},
        "reject": {"reason": "not_hazard"},
    }
    for action, extra in fields.items():
        for token in ("forged", ""):
            acted = await staff.client.post(
                f"/console/r/1/{action}", data={"csrf": token, "seen": "dispatched", **extra}
            )
            assert acted.status_code == 403 and "页面已过期" in error_of(acted.text), action
    # Another person's token is no good either.
    other = await signed_in(stage, web_app, "xiguan", "王五")
    await other.open("/console/r/1")
    stolen = await staff.client.post(
        "/console/r/1/accept", data={"csrf": other.csrf, "seen": "dispatched"}
    )
    assert stolen.status_code == 403
    assert (await row(stage)).status == "dispatched"
    assert (
        await staff.client.post("/console/r/1/fly", data={"csrf": staff.csrf})
    ).status_code == 404
    await staff.close()
    await other.close()


async def test_resolve_with_a_note_and_an_after_photo_asks_the_rider(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    await staff.open("/console/r/1")
    assert (await staff.act(1, "accept", seen="dispatched")).status_code == 303
    await staff.open("/console/r/1")
    huge = await staff.act(
        1,
        "resolve",
        seen="accepted",
        text="已处理",
        files={"photo": ("big.jpg", b"\xff" * (stage.config.max_photo_bytes + 1), "image/jpeg")},
    )
    assert huge.status_code == 413 and "内容太大" in error_of(huge.text)
    assert (await row(stage)).status == "accepted" and ">已处理</textarea>" in huge.text
    empty = await staff.act(1, "resolve", seen="accepted", text="  ")
    assert empty.status_code == 400 and "请写办结说明" in error_of(empty.text)
    done = await staff.act(
        1,
        "resolve",
        seen="accepted",
        text="已更换井盖",
        files={"photo": ("after.jpg", jpeg(colour=(40, 160, 90)), "image/jpeg")},
    )
    assert done.status_code == 303, error_of(done.text)
    page = await staff.open(done.headers["location"])
    assert "已办结" in page.text and "已更换井盖" in page.text
    assert len(photo_paths(page.text)) == 2  # the rider's photo and the after-photo
    for path in photo_paths(page.text):
        assert (await staff.client.get(path)).status_code == 200
    await stage.delivered()
    mine = await phone.open("/my/1")
    assert "问题解决了吗" in mine.text and "已更换井盖" in mine.text
    await staff.close()
    await phone.close()


async def test_reply_transfer_and_reject(stage: Stage, web_app: Starlette) -> None:
    phone = await rider_reports(stage, web_app)
    await rider_reports(stage, web_app)  # #2
    staff = await signed_in(stage, web_app)
    await staff.open("/console/r/1")
    assert (await staff.act(1, "reply", text="  ")).status_code == 400
    replied = await staff.act(1, "reply", text="请问具体在哪个门口？")
    assert replied.status_code == 303
    await stage.delivered()
    assert "请问具体在哪个门口？" in (await phone.open("/my/1")).text
    assert "请问具体在哪个门口？" in (await staff.open("/console/r/1")).text
    bad = await staff.act(1, "transfer", seen="dispatched", to="")
    assert bad.status_code == 400 and "请选择一项" in error_of(bad.text)
    nowhere = await staff.act(1, "transfer", seen="dispatched", to="nowhere")
    assert nowhere.status_code == 409 and "表单内容不对" in error_of(nowhere.text)
    moved = await staff.act(1, "transfer", seen="dispatched", to="dongguan")
    assert moved.status_code == 303
    assert (await row(stage)).community_id == "dongguan"
    assert (await staff.open("/console/r/1")).status_code == 404  # not this desk's any more
    await stage.delivered()
    assert any("工单 #1 ·" in words(m) for m in stage.chat_messages("dongguan"))
    await staff.open("/console/r/2")
    assert (await staff.act(2, "reject", seen="dispatched", reason="made_up")).status_code == 400
    rejected = await staff.act(2, "reject", seen="dispatched", reason="not_hazard")
    assert rejected.status_code == 303
    closed = await staff.open("/console/r/2")
    assert "已驳回" in closed.text and "不属于隐患" in closed.text
    assert 'id="accept"' not in closed.text and 'id="reject"' not in closed.text
    await staff.close()
    await phone.close()


async def test_a_step_on_telegram_changes_the_version_the_page_polls(
    stage: Stage, web_app: Starlette
) -> None:
    await rider_reports(stage, web_app, IN_DONGGUAN)
    staff = await signed_in(stage, web_app, "dongguan")
    first = (await staff.client.get("/console/r/1/version")).json()["version"]
    assert first == (await staff.client.get("/console/r/1/version")).json()["version"]
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press(card_of(stage, "dongguan"), "✋ 受理"))
    moved = await staff.client.get("/console/r/1/version")
    assert moved.json()["version"] != first and moved.headers["cache-control"] == "no-store"
    await staff.close()


async def test_a_duplicate_names_an_original_its_desk_can_see(
    stage: Stage, web_app: Starlette
) -> None:
    """As on the card: rejected as a duplicate of another ticket, whose riders it joins;
    a missing number, itself, a ticket that does not exist and another community's all get
    one answer (numbers cannot be probed), and nothing changes."""
    await rider_reports(stage, web_app)  # #1, 西关
    second = await rider_reports(stage, web_app)  # #2, 西关: the same hazard
    await rider_reports(stage, web_app, IN_DONGGUAN)  # #3, 东关's
    staff = await signed_in(stage, web_app)
    await staff.open("/console/r/2")
    for of in ("", "2", "3", "999", "abc"):
        refused = await staff.act(2, "reject", seen="dispatched", reason="duplicate", of=of)
        assert refused.status_code == 400, of
        assert "与它重复的另一个工单号" in error_of(refused.text)
        assert (await row(stage, 2)).status == "dispatched"
    done = await staff.act(2, "reject", seen="dispatched", reason="duplicate", of="#1")
    assert done.status_code == 303
    closed = await staff.open("/console/r/2")
    assert "已驳回" in closed.text and "重复工单 #1" in closed.text
    assert "另有 1 位骑手确认" in (await staff.open("/console/r/1")).text
    await stage.delivered()
    assert "#1" in (await second.open("/my/2")).text
    await staff.close()
    await second.close()
