"""The same problem twice, from the web page: the rider is shown the open report nearby and
chooses +1 (they follow it, as Telegram's join) or "a different problem" (a new report).
Limits as in Telegram. Every bad or replayed answer changes nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.domain.geo import LatLon
from handlers import web
from storage import reports as report_rows
from storage.tables import drafts, events, reports
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, Stage, words
from tests.test_casework import card_of, staff_of
from tests.web import WebRider, card_recorded, new_key

NEARBY = LatLon(IN_XIGUAN.lat + 0.0002, IN_XIGUAN.lon)  # about 22 m north of report #1


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"d" * 40)
    yield app


async def phone_of(app: Starlette) -> WebRider:
    phone = WebRider(app)
    await phone.open()
    return phone


async def first_report(stage: Stage, app: Starlette) -> WebRider:
    """Rider A reports a public-order problem in 西关; its card is in the community's chat."""
    phone = await phone_of(app)
    assert (await phone.submit(point=IN_XIGUAN, category="order")).status_code == 201
    await card_recorded(stage)
    return phone


async def count(stage: Stage, table: Any, *where: Any) -> int:
    async with stage.services.db.transaction() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return int((await conn.execute(query)).scalar_one())


async def followers(stage: Stage, report_id: int = 1) -> list[int]:
    async with stage.services.db.transaction() as conn:
        return await report_rows.follower_ids(conn, report_id)


def news_of(html: str) -> str:
    """The news section of /my ("" when there is none)."""
    found = re.search(r'<section id="news">(.*?)</section>', html, re.S)
    return found.group(1) if found else ""


def error_of(html: str) -> str:
    found = re.search(r'<p id="error" role="alert">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


async def test_a_rider_sees_the_open_report_nearby_and_joins_it_with_plus_one(
    stage: Stage, web_app: Starlette
) -> None:
    await first_report(stage, web_app)
    phone = await phone_of(web_app)
    key = new_key()
    asked = await phone.submit(point=NEARBY, category="order", key=key, note="路灯不亮")
    assert asked.status_code == 200
    similar = asked.json()["similar"]
    assert similar["ticket"] == 1 and "社会治安" in similar["category"]
    assert 15 <= similar["distance"] <= 30 and similar["status"] == "待受理"
    assert await count(stage, reports) == 1  # asked, nothing filed yet
    assert await count(stage, drafts) == 1  # only rider A's
    joined = await phone.submit(
        point=NEARBY, category="order", key=key, note="路灯不亮", extra={"join": "1"}
    )
    assert joined.status_code == 201
    assert joined.json()["joined"] == 1 and "已加入工单 #1" in joined.json()["message"]
    assert await count(stage, reports) == 1
    assert len(await followers(stage)) == 1
    assert await count(stage, events, events.c.kind == "joined") == 1
    await stage.delivered()
    assert "+1" in words(card_of(stage, "xiguan"))  # the card shows the sighting, as Telegram's
    mine = await phone.open("/my")
    assert 'href="/my/1"' in mine.text  # they follow #1 from now on
    await phone.close()


async def test_a_replayed_plus_one_is_still_one(stage: Stage, web_app: Starlette) -> None:
    await first_report(stage, web_app)
    phone = await phone_of(web_app)
    key = new_key()
    await phone.submit(point=NEARBY, key=key)
    first = await phone.submit(point=NEARBY, key=key, extra={"join": "1"})
    again = await phone.submit(point=NEARBY, key=key, extra={"join": "1"})  # answer lost
    bare = await phone.submit(point=NEARBY, key=key)  # the first POST, retried late
    assert first.status_code == 201
    for replay in (again, bare):
        assert replay.status_code == 200
        assert replay.json() == {**first.json(), "replayed": True}
    assert len(await followers(stage)) == 1
    assert await count(stage, events, events.c.kind == "joined") == 1
    assert await count(stage, reports) == 1
    await phone.close()


async def test_a_different_problem_is_filed_as_a_new_report(
    stage: Stage, web_app: Starlette
) -> None:
    await first_report(stage, web_app)
    phone = await phone_of(web_app)
    key = new_key()
    assert "similar" in (await phone.submit(point=NEARBY, key=key)).json()
    filed = await phone.submit(point=NEARBY, key=key, note="另一处", extra={"separate": "1"})
    assert filed.status_code == 201 and filed.json()["ticket"] == 2
    replay = await phone.submit(point=NEARBY, key=key, extra={"separate": "1"})
    assert replay.status_code == 200 and replay.json()["ticket"] == 2
    assert await count(stage, reports) == 2 and await followers(stage) == []
    async with stage.services.db.transaction() as conn:
        report = await report_rows.get(conn, 2)
    assert report is not None and report.note == "另一处"
    await phone.close()


async def test_a_report_elsewhere_or_of_another_kind_is_filed_without_a_question(
    stage: Stage, web_app: Starlette
) -> None:
    await first_report(stage, web_app)
    phone = await phone_of(web_app)
    elsewhere = await phone.submit(point=IN_DONGGUAN, category="order")
    other_kind = await phone.submit(point=NEARBY, category="fire")
    assert elsewhere.status_code == other_kind.status_code == 201
    await phone.close()


async def test_a_forged_ticket_in_the_plus_one_joins_nothing(
    stage: Stage, web_app: Starlette
) -> None:
    await first_report(stage, web_app)
    other = await phone_of(web_app)  # another rider's report far away: #2, not offered here
    assert (await other.submit(point=IN_DONGGUAN, category="fire")).status_code == 201
    phone = await phone_of(web_app)
    for forged in ("2", "999", "0", "abc", "1e3"):
        answer = await phone.submit(point=NEARBY, extra={"join": forged})
        assert answer.status_code == 409, forged
        assert answer.json()["error"] == "form.join_stale"
        assert "消防" not in answer.json()["message"]  # nothing about #2 leaks
    assert await followers(stage, 2) == [] and await followers(stage, 1) == []
    assert await count(stage, reports) == 2
    assert await count(stage, drafts) == 2  # nothing half-made for the forger
    await phone.close()
    await other.close()


async def test_a_plus_one_without_the_pages_token_is_refused(
    stage: Stage, web_app: Starlette
) -> None:
    await first_report(stage, web_app)
    phone = await phone_of(web_app)
    for token in ("", "forged-token"):
        answer = await phone.submit(point=NEARBY, csrf=token, extra={"join": "1"})
        assert answer.status_code == 403 and answer.json()["error"] == "form.bad_token"
    stranger = httpx.AsyncClient(  # no cookie of ours at all
        transport=httpx.ASGITransport(app=web_app), base_url="http://127.0.0.1:8080"
    )
    answer = await stranger.post("/reports", data={"csrf": phone.csrf, "join": "1"})
    assert answer.status_code == 403
    assert await followers(stage) == []
    await stranger.aclose()
    await phone.close()


async def test_replies_are_limited_per_minute_and_the_words_are_kept(
    stage: Stage, web_app: Starlette
) -> None:
    phone = await first_report(stage, web_app)
    allowed = stage.services.config.limits.messages_per_minute
    for n in range(allowed):
        sent = await phone.client.post(
            "/my/1/reply", data={"csrf": phone.csrf, "text": f"第{n}条"}
        )
        assert sent.status_code == 303
    refused = await phone.client.post(
        "/my/1/reply", data={"csrf": phone.csrf, "text": "路口北侧，请尽快"}
    )
    assert refused.status_code == 429
    assert error_of(refused.text).startswith("操作太频繁了，请在")
    assert ">路口北侧，请尽快</textarea>" in refused.text  # nothing typed is lost
    # A +1 is a message too: the same limit holds it back, and says when to go on.
    key = new_key()
    plus = await phone.submit(point=NEARBY, key=key, extra={"join": "1"}, lang="en")
    assert plus.status_code == 429 and plus.json()["message"].startswith("Too many in a row")
    await stage.delivered()
    assert await count(stage, events, events.c.kind == "rider_replied") == allowed
    other = await phone_of(web_app)  # another rider is not held up
    assert (await other.submit(point=NEARBY, extra={"join": "1"})).status_code == 201
    stage.clock.advance(seconds=61)
    assert (await phone.submit(point=NEARBY, key=key, extra={"join": "1"})).status_code == 201
    await phone.close()
    await other.close()


async def test_a_rider_over_the_report_limit_may_still_plus_one(
    stage: Stage, web_app: Starlette
) -> None:
    await first_report(stage, web_app)
    phone = await phone_of(web_app)
    for _ in range(stage.services.config.limits.reports_per_hour):
        assert (await phone.submit(point=IN_DONGGUAN, extra={"separate": "1"})).status_code == 201
    key = new_key()
    over = await phone.submit(point=NEARBY, key=key, extra={"separate": "1"})
    assert over.status_code == 429 and "一小时内最多上报 10 件" in over.json()["message"]
    assert (await phone.submit(point=NEARBY, key=key)).json()["similar"]["ticket"] == 1
    assert (await phone.submit(point=NEARBY, key=key, extra={"join": "1"})).status_code == 201
    await phone.close()


async def test_a_web_riders_news_shows_on_my_with_an_unread_badge(
    stage: Stage, web_app: Starlette
) -> None:
    reporter = await first_report(stage, web_app)
    follower = await phone_of(web_app)
    key = new_key()
    await follower.submit(point=NEARBY, key=key)
    await follower.submit(point=NEARBY, key=key, extra={"join": "1"})
    assert 'id="unread"' not in (await reporter.open("/")).text  # a +1 is no notice
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.press(card_of(stage, "xiguan"), "✋ 受理"))
    await stage.send(staff.reply(card_of(stage, "xiguan"), text="请问具体在哪个路口？"))
    await stage.delivered()
    page = await reporter.open("/")
    assert re.search(r'<a id="unread" class="badge" href="/my">🔔 2 条新消息</a>', page.text)
    follows = news_of((await follower.open("/my")).text)  # the steps, not the conversation
    assert "<b>受理</b>" in follows and "请问具体在哪个路口" not in follows
    mine = await reporter.open("/my")
    news = news_of(mine.text)
    assert "<b>受理</b>" in news and "社区回复：</b>请问具体在哪个路口？" in news
    assert "张三" not in mine.text
    assert 'id="unread"' not in mine.text
    again = await reporter.open("/my")  # read once shown
    assert news_of(again.text) == ""
    # Resolved: the 已解决？ question is news until the report's page is seen.
    await stage.send(staff.press(card_of(stage, "xiguan"), "✅ 办结"))
    await stage.send(staff.reply(stage.chat_messages("xiguan")[-1], text="已修好"))
    await stage.delivered()
    assert "1 条新消息" in (await reporter.open("/me")).text
    await reporter.open("/my/1")
    assert 'id="unread"' not in (await reporter.open("/")).text
    await reporter.close()
    await follower.close()
