"""/me on the rider's page: points, optional 报到 (phone never logged), and linking a
Telegram account with a one-time code from /link, so one person's reports and points are one."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from handlers import web
from storage.tables import link_codes, reports, rider_accounts, riders
from tests.conftest import IN_XIGUAN, Stage, words
from tests.fake_telegram import Person
from tests.test_casework import card_of, reported, staff_of
from tests.web import WebRider, card_recorded

CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"p" * 40)
    yield app


async def post(device: WebRider, path: str, **fields: str) -> Any:
    return await device.client.post(path, data={"csrf": device.csrf, **fields})


def error_of(html: str) -> str:
    found = re.search(r'<p id="error" role="alert">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


async def rows(stage: Stage, table: Any) -> list[Any]:
    async with stage.services.db.transaction() as conn:
        return list((await conn.execute(select(table))).all())


async def code_for(stage: Stage, person: Person) -> str:
    await stage.send(person.command("/link"))
    text = person.last_bot_message()["text"]
    assert "10 分钟内有效，只能用一次" in text
    found = CODE.search(text)
    assert found, text
    return found.group(0)


async def test_register_on_the_page_with_the_chats_rules(
    stage: Stage, web_app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what the app logs (not the SQL driver's debug lines)
    phone = WebRider(web_app)
    await phone.open()
    page = await phone.open("/me")
    assert page.status_code == 200 and "报到（可不填）" in page.text
    assert "本月还没有上报" in page.text
    bad_name = await post(phone, "/me", name="/start", platform="meituan", phone="")
    assert bad_name.status_code == 400 and "不要以 / 开头" in error_of(bad_name.text)
    no_platform = await post(phone, "/me", name="老周", platform="uber", phone="")
    assert no_platform.status_code == 400 and error_of(no_platform.text) == "请选择跑单平台。"
    assert 'value="老周"' in no_platform.text  # what the rider typed is kept
    bad_phone = await post(phone, "/me", name="老周", platform="eleme", phone="13x-call-me")
    assert bad_phone.status_code == 400 and "手机号格式不对" in error_of(bad_phone.text)
    assert "13x-call-me" not in bad_phone.text
    assert not await rows(stage, riders) or (await rows(stage, riders))[0].registered_at is None
    done = await post(phone, "/me", name=" 老周 ", platform="eleme", phone="138 0013 8000")
    assert done.status_code == 303 and done.headers["location"] == "/me?done=registered"
    page = await phone.open(done.headers["location"])
    assert "已保存，老周！" in page.text and "已报到：老周 · 饿了么" in page.text
    (rider,) = await rows(stage, riders)
    assert rider.phone == "13800138000" and rider.platform == "eleme"
    assert rider.registered_at is not None
    assert [a.channel for a in await rows(stage, rider_accounts)] == ["web"]
    assert "13800138000" not in page.text  # never shown back
    assert "13800138000" not in caplog.text and "138 0013 8000" not in caplog.text
    # The device's first report is this rider's (报到 made the rider).
    await phone.submit(point=IN_XIGUAN, category="order")
    assert [r.rider_id for r in await rows(stage, reports)] == [rider.id]
    forged = await phone.client.post("/me", data={"csrf": "nope", "name": "x", "platform": "jd"})
    assert forged.status_code == 403
    await phone.close()


async def test_points_are_the_figures_of_me(stage: Stage, web_app: Starlette) -> None:
    phone = WebRider(web_app)
    await phone.open()
    await phone.submit(point=IN_XIGUAN, category="order")
    await card_recorded(stage)
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.press(card_of(stage, "xiguan"), "✋ 受理"))
    page = await phone.open("/me")
    figures = r"本月上报 1 件（已受理 1，已解决 0）。积分 \d+ 分，排名第 1 / 1。"
    assert re.search(figures, page.text)
    await phone.close()


async def test_a_link_code_joins_the_device_to_the_telegram_rider(
    stage: Stage, web_app: Starlette
) -> None:
    tg_rider = await reported(stage, name="王师傅")  # ticket #1, in Telegram
    phone = WebRider(web_app)
    await phone.open()
    assert (await phone.submit(point=IN_XIGUAN, category="order")).status_code == 201  # #2
    await card_recorded(stage, 2)
    assert "骑手 #0002" in words(card_of(stage, "xiguan", 2))
    code = await code_for(stage, tg_rider)
    linked = await post(phone, "/me/link", code=code.lower().replace("-", " "))
    assert linked.status_code == 303 and linked.headers["location"] == "/me?done=linked"
    page = await phone.open(linked.headers["location"])
    assert "绑定成功" in page.text and "已绑定 Telegram 账号" in page.text
    # One person: both reports are the Telegram rider's, the device's rider is gone.
    (person,) = await rows(stage, riders)
    assert {r.rider_id for r in await rows(stage, reports)} == {person.id}
    assert sorted((a.channel, a.rider_id) for a in await rows(stage, rider_accounts)) == [
        ("telegram", person.id),
        ("web", person.id),
    ]
    mine = await phone.open("/my")
    assert 'href="/my/1"' in mine.text and 'href="/my/2"' in mine.text
    await stage.send(tg_rider.command("/my"))
    assert "#2" in tg_rider.last_bot_message()["text"]
    await stage.delivered()
    assert "骑手 #0001" in words(card_of(stage, "xiguan", 2))  # the card names the one rider
    # From now on the web report's news reaches the rider in Telegram too.
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.press(card_of(stage, "xiguan", 2), "✋ 受理"))
    assert "工单 #2 已被社区受理" in tg_rider.last_bot_message()["text"]
    # The code worked once.
    again = WebRider(web_app)
    await again.open()
    replayed = await post(again, "/me/link", code=code)
    assert replayed.status_code == 400 and "已用过、已过期" in error_of(replayed.text)
    assert len(await rows(stage, rider_accounts)) == 2  # Telegram and the one device
    await phone.close()
    await again.close()


async def test_codes_expire_are_checked_and_cannot_be_guessed_fast(
    stage: Stage, web_app: Starlette
) -> None:
    tg_rider = stage.person("王师傅")
    code = await code_for(stage, tg_rider)
    stage.clock.advance(minutes=10, seconds=1)
    phone = WebRider(web_app)
    await phone.open()
    expired = await post(phone, "/me/link", code=code)
    assert expired.status_code == 400 and "已过期" in error_of(expired.text)
    malformed = await post(phone, "/me/link", code="12")
    assert malformed.status_code == 400 and "8 个字母或数字" in error_of(malformed.text)
    # A new /link replaces the old code, which stops working.
    first = await code_for(stage, tg_rider)
    second = await code_for(stage, tg_rider)
    assert (await post(phone, "/me/link", code=first)).status_code == 400
    for _ in range(2):
        await post(phone, "/me/link", code="ABCD-EFGH")
    flood = await post(phone, "/me/link", code=second)
    assert flood.status_code == 429 and "一分钟后再试" in error_of(flood.text)
    stage.clock.advance(minutes=1)
    assert (await post(phone, "/me/link", code=second)).status_code == 303
    forged = await phone.client.post("/me/link", data={"csrf": "x", "code": second})
    assert forged.status_code == 403
    async with stage.services.db.transaction() as conn:
        kept = (await conn.execute(select(func.count()).select_from(link_codes))).scalar_one()
    assert kept == 1  # only the latest code of a rider is kept


async def test_a_device_of_one_telegram_rider_is_not_given_to_another(
    stage: Stage, web_app: Starlette
) -> None:
    first, second = stage.person("甲"), stage.person("乙")
    phone = WebRider(web_app)
    await phone.open()
    assert (await post(phone, "/me/link", code=await code_for(stage, first))).status_code == 303
    again = await post(phone, "/me/link", code=await code_for(stage, first))
    assert again.status_code == 303  # the same person again: nothing to do
    other = await post(phone, "/me/link", code=await code_for(stage, second))
    assert other.status_code == 409 and "另一个 Telegram 账号" in error_of(other.text)
    accounts = {
        a.channel + (":" + a.external_id if a.channel == "telegram" else ""): a.rider_id
        for a in await rows(stage, rider_accounts)
    }
    assert accounts["web"] == accounts[f"telegram:{first.id}"]  # the device stays the first's
    assert accounts[f"telegram:{second.id}"] != accounts["web"]
    await phone.close()
