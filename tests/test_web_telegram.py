"""A report from the web page becomes the same card in the community's Telegram chat; staff
handle it there as any other, and the rider's page shows where it stands."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from handlers import web
from storage.tables import rider_accounts, riders
from tests.conftest import IN_XIGUAN, NORTH_OF_TOWN, Stage, words
from tests.test_casework import card_of, staff_of
from tests.web import WebRider, card_recorded


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"s" * 40)
    yield app


async def test_a_web_report_is_a_card_staff_handle_as_any_other(
    stage: Stage, web_app: Starlette
) -> None:
    phone = WebRider(web_app)
    await phone.open()
    answer = await phone.submit(point=IN_XIGUAN, category="order", note="路灯不亮")
    assert answer.status_code == 201
    assert answer.json()["kind"] == "community" and answer.json()["community"] == "西关社区"
    await card_recorded(stage)
    card = card_of(stage, "xiguan")
    assert "工单 #1 · 🚨 社会治安" in words(card)
    assert "备注：路灯不亮" in words(card) and "手机定位" in words(card)
    assert "骑手 #0001" in words(card)  # anonymous, as every rider
    staff = staff_of(stage, "xiguan", "张三")
    await stage.send(staff.press(card, "✋ 受理"))
    assert "受理 · 张三" in words(card_of(stage, "xiguan"))
    # The web rider got no Telegram message (there is nobody to send it to) and is not
    # marked as having blocked the bot: the page is where they read it.
    async with stage.services.db.transaction() as conn:
        rider = (await conn.execute(select(riders))).one()
        channels = (await conn.execute(select(rider_accounts.c.channel))).scalars().all()
    assert channels == ["web"] and rider.unreachable_at is None
    detail = await phone.open("/my/1")
    assert "状态：处理中" in detail.text and "处理单位：西关社区" in detail.text
    assert "骑手上报" in detail.text and "受理" in detail.text
    assert "张三" not in detail.text  # riders never see which staff member
    await phone.close()


async def test_a_spot_no_community_covers_goes_to_the_supervisors(
    stage: Stage, web_app: Starlette
) -> None:
    phone = WebRider(web_app)
    await phone.open()
    answer = await phone.submit(point=NORTH_OF_TOWN, category="sanitation")
    assert answer.json()["kind"] == "supervisors"
    assert answer.json()["community"] == "壶关县网格化服务管理中心"
    await stage.until(lambda: stage.chat_messages("supervisors"))
    assert "工单 #1" in words(stage.chat_messages("supervisors")[-1])
    await phone.close()


async def test_reports_kept_without_telegram_are_posted_by_a_start_with_it(
    stage: Stage,
) -> None:
    """The web alone keeps reports (their cards wait in the outbox); the first start with
    Telegram delivers them."""
    await stage.services.delivery.stop()  # no Telegram yet: nothing goes to the desks
    kept_app, _ = web.build(stage.services, telegram_on=False, secret=b"s" * 40)
    phone = WebRider(kept_app)
    await phone.open()
    answer = await phone.submit(point=IN_XIGUAN, category="order")
    assert answer.json()["kind"] == "kept"
    assert stage.chat_messages("xiguan") == []
    stage.clock.advance(minutes=5)  # Telegram comes later: its start delivers what waits
    await stage.services.delivery.start()
    await stage.until(
        lambda: any("工单 #1 · 🚨 社会治安" in words(m) for m in stage.chat_messages("xiguan"))
    )
    async with stage.services.db.transaction() as conn:
        rider = (await conn.execute(select(riders))).one()
    assert rider.unreachable_at is None  # no ticket could go to Telegram; nobody is blamed
    await phone.close()
