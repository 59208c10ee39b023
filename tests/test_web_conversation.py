"""The rider's page talks with the community through the same core as Telegram: staff's
replies and the resolution note appear on it, the rider's reply lands under the card in the
community's chat, and 已解决？ is answered on the page. Every bad input changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from handlers import web
from storage import reports as report_rows
from storage.tables import events, reports
from tests.conftest import IN_XIGUAN, Stage, words
from tests.test_casework import card_of, staff_of
from tests.web import WebRider, card_recorded


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"c" * 40)
    yield app


async def web_report(stage: Stage, app: Starlette, note: str = "井盖破损") -> WebRider:
    phone = WebRider(app)
    await phone.open()
    answer = await phone.submit(point=IN_XIGUAN, category="order", note=note)
    assert answer.status_code == 201
    await card_recorded(stage)
    return phone


async def post(phone: WebRider, path: str, **fields: str) -> Any:
    data = {"csrf": phone.csrf, **fields}
    return await phone.client.post(path, data=data)


async def resolved(stage: Stage, note: str = "已更换井盖，已回填") -> None:
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.press(card_of(stage, "xiguan"), "✋ 受理"))
    await stage.send(staff.press(card_of(stage, "xiguan"), "✅ 办结"))
    prompt = stage.chat_messages("xiguan")[-1]
    await stage.send(staff.reply(prompt, text=note))


def under_card(stage: Stage) -> list[str]:
    return [words(m) for m in stage.chat_messages("xiguan")]


def error_of(html: str) -> str:
    found = re.search(r'<p id="error" role="alert">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


async def kinds(stage: Stage) -> list[str]:
    async with stage.services.db.transaction() as conn:
        return list((await conn.execute(select(events.c.kind).order_by(events.c.id))).scalars())


async def test_staff_replies_show_and_the_riders_reply_lands_under_the_card(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await web_report(stage, web_app)
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.reply(card_of(stage, "xiguan"), text="请问具体在哪个路口？"))
    page = await phone.open("/my/1")
    assert "社区回复：</b>请问具体在哪个路口？" in page.text
    assert "张三" not in page.text  # the community speaks; never a staff member's name
    answer = await post(phone, "/my/1/reply", text="解放路和东街路口，北侧")
    assert answer.status_code == 303 and answer.headers["location"] == "/my/1?done=relayed"
    await stage.delivered()
    said = stage.chat_messages("xiguan")[-1]
    assert words(said) == "💬 骑手回复（工单 #1）：解放路和东街路口，北侧"
    assert said["reply_to_message"]["message_id"] == card_of(stage, "xiguan")["message_id"]
    page = await phone.open(answer.headers["location"])
    assert "已收到，正在转告社区（工单 #1）。" in page.text
    assert "你的回复：</b>解放路和东街路口，北侧" in page.text
    # Staff answer the relayed words as they would a Telegram rider's.
    await stage.send(staff.reply(said, text="收到，马上派人"))
    assert "收到，马上派人" in (await phone.open("/my/1")).text
    await phone.close()


async def test_the_rider_answers_fixed_on_the_page_and_the_card_closes(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await web_report(stage, web_app)
    await resolved(stage, "已更换井盖，已回填")
    page = await phone.open("/my/1")
    assert "社区说已经处理好了。问题解决了吗？" in page.text
    assert "已更换井盖，已回填" in page.text and "张三" not in page.text
    answer = await post(phone, "/my/1/feedback", fixed="y", round="1")
    assert answer.status_code == 303 and answer.headers["location"] == "/my/1?done=fixed"
    await stage.delivered()
    page = await phone.open(answer.headers["location"])
    assert "谢谢确认！工单 #1 已结案。" in page.text and "问题解决了吗" not in page.text
    assert 'action="/my/1/reply"' not in page.text  # a closed report takes no replies
    assert "已结案" in words(card_of(stage, "xiguan"))
    # The same question answered again (a second tab, a replayed POST) changes nothing.
    again = await post(phone, "/my/1/feedback", fixed="n", round="1")
    assert again.status_code == 409 and "已结案" in error_of(again.text)
    assert (await kinds(stage)).count("confirmed") == 1 and "reopened" not in await kinds(stage)
    await phone.close()


async def test_not_fixed_reopens_and_tells_the_staff_under_the_card(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await web_report(stage, web_app)
    await resolved(stage)
    answer = await post(phone, "/my/1/feedback", fixed="n", round="1")
    assert answer.headers["location"] == "/my/1?done=reopened"
    await stage.delivered()
    assert any("骑手反馈工单 #1 未解决" in w for w in under_card(stage))
    async with stage.services.db.transaction() as conn:
        report = await report_rows.get(conn, 1)
    assert report is not None and report.status == "reopened"
    # Staff resolve again; the page still open from the first round is stale.
    await resolved(stage, "第二次处理：已加固")
    stale = await post(phone, "/my/1/feedback", fixed="y", round="1")
    assert stale.status_code == 409
    assert error_of(stale.text) == "工单已有新进展，这个问题已经过期。请看最新状态。"
    assert "第二次处理：已加固" in stale.text  # the page shows where it stands now
    ok = await post(phone, "/my/1/feedback", fixed="y", round="2")
    assert ok.status_code == 303
    await phone.close()


async def test_bad_answers_are_refused_and_change_nothing(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await web_report(stage, web_app)
    before = len(stage.chat_messages("xiguan"))
    forged = await post(phone, "/my/1/reply", text="hi", csrf="forged-token")
    assert forged.status_code == 403 and "安全校验未通过" in error_of(forged.text)
    no_cookie = WebRider(web_app)
    stranger = await no_cookie.client.post("/my/1/reply", data={"csrf": phone.csrf, "text": "x"})
    assert stranger.status_code == 403
    empty = await post(phone, "/my/1/reply", text="   ")
    assert empty.status_code == 400 and error_of(empty.text) == "请先写几个字再发送。"
    long = await post(phone, "/my/1/reply", text="长" * 801)
    assert long.status_code == 400 and "最多 800 个字" in error_of(long.text)
    assert "长" * 801 in long.text  # the words are kept in the box
    huge = await post(phone, "/my/1/reply", text="x" * 20_000)
    assert huge.status_code == 413
    not_yet = await post(phone, "/my/1/feedback", fixed="y", round="0")
    assert not_yet.status_code == 409 and "还没有办结" in error_of(not_yet.text)
    odd = await post(phone, "/my/1/feedback", fixed="maybe", round="0")
    assert odd.status_code == 400
    missing = await post(phone, "/my/99/reply", text="hi")
    assert missing.status_code == 404
    await stage.delivered()
    assert len(stage.chat_messages("xiguan")) == before
    assert "rider_replied" not in await kinds(stage)
    await phone.close()
    await no_cookie.close()


async def test_someone_elses_report_and_a_follower_cannot_speak_for_the_reporter(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await web_report(stage, web_app)
    other = WebRider(web_app)
    await other.open()
    assert (await other.submit(point=IN_XIGUAN, category="sanitation")).status_code == 201
    # Another device: its rider is not the reporter of #1, nor a follower: "not found".
    theirs = await post(other, "/my/1/reply", text="我也看到了")
    assert theirs.status_code == 404
    assert (await post(other, "/my/1/feedback", fixed="y", round="0")).status_code == 404
    # As a +1 follower it sees the steps, not the conversation, and cannot reply.
    stage.clock.advance(minutes=1)
    async with stage.services.db.transaction() as conn:
        await report_rows.add_follower(conn, 1, 2, stage.clock.now())
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.reply(card_of(stage, "xiguan"), text="只给上报人的话"))
    seen = await other.open("/my/1")
    assert seen.status_code == 200 and "只给上报人的话" not in seen.text
    assert 'action="/my/1/reply"' not in seen.text
    follower = await post(other, "/my/1/reply", text="我也看到了")
    assert follower.status_code == 403
    assert "由上报的骑手与社区沟通" in error_of(follower.text)
    await stage.delivered()
    assert not any("我也看到了" in w for w in under_card(stage))
    async with stage.services.db.transaction() as conn:
        assert (await conn.execute(select(reports.c.rider_id).where(reports.c.id == 1))).one()[
            0
        ] == 1
    await phone.close()
    await other.close()
