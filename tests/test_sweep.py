"""Deadlines with a controllable clock: remind, mark overdue, escalate, close — once each."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from storage.tables import events
from tests.conftest import (
    NEAR_NANJIE,
    FakeClock,
    Stage,
    make_config,
    make_world,
    start_app,
    stop_app,
    words,
)
from tests.fake_telegram import FakeTelegram
from tests.test_casework import accept, card_of, reported, resolve, row, staff_of

NOTHING = {"redispatched": 0, "reminded": 0, "overdue": 0, "escalated": 0, "auto_closed": 0}


async def sweep(stage: Stage) -> dict[str, int]:
    return await stage.sweep()


async def kinds(stage: Stage) -> list[str]:
    async with stage.services.db.transaction() as conn:
        return list((await conn.execute(select(events.c.kind).order_by(events.c.id))).scalars())


async def test_reminder_overdue_and_escalation_happen_once_each(stage: Stage) -> None:
    await reported(stage)  # fire safety: due in 24 h
    chat = stage.chats["dongguan"]
    stage.clock.advance(hours=19)
    assert await sweep(stage) == NOTHING
    stage.clock.advance(hours=1, minutes=1)  # 3 h 59 min before the deadline
    assert (await sweep(stage))["reminded"] == 1
    reminder = stage.tg.bot_messages(chat)[-1]
    assert reminder["text"] == "⏰ 工单 #1 将于 11月21日 14:00 到期，请尽快处理。"
    assert reminder["reply_to_message"]["message_id"] == card_of(stage, "dongguan")["message_id"]
    assert (await sweep(stage))["reminded"] == 0

    stage.clock.advance(hours=4)
    done = await sweep(stage)
    assert (done["overdue"], done["escalated"]) == (1, 1)
    assert "⚠️ 已超期" in words(card_of(stage, "dongguan"))
    supervisors = stage.chat_messages("supervisors")
    assert "工单 #1（东关社区）已超过处理期限" in supervisors[0]["text"]
    copy = card_of(stage, "supervisors")
    assert copy["reply_markup"]["inline_keyboard"][0][0]["text"] == "✋ 受理"
    assert await sweep(stage) == NOTHING
    assert len(stage.chat_messages("supervisors")) == len(supervisors)
    assert (await kinds(stage)).count("escalated") == 1

    # A supervisor acts from the copy; both cards show it.
    boss = staff_of(stage, "supervisors", "王主任")
    await stage.send(boss.press(copy, "✋ 受理"))
    assert "处理中（王主任）" in words(card_of(stage, "dongguan"))
    assert "处理中（王主任）" in words(card_of(stage, "supervisors"))


async def test_escalation_can_wait_after_the_deadline(
    tmp_path: Path, tg: FakeTelegram, clock: FakeClock
) -> None:
    chats, topics = make_world(tg)
    config = make_config(tmp_path, chats, topics)
    casework = dataclasses.replace(config.casework, escalate_after=timedelta(hours=2))
    config = dataclasses.replace(config, casework=casework)
    app = await start_app(config, tg, clock)
    stage = Stage(tg, config, app, clock, chats, topics)
    try:
        await reported(stage)
        clock.advance(hours=24, minutes=1)
        done = await sweep(stage)
        assert (done["overdue"], done["escalated"]) == (1, 0)
        clock.advance(hours=2)
        assert (await sweep(stage))["escalated"] == 1
    finally:
        await stop_app(app)


async def test_unanswered_resolution_is_closed_after_the_window(stage: Stage) -> None:
    rider = await reported(stage, point=NEAR_NANJIE, category="🧹 环境卫生")
    staff = staff_of(stage, "nanjie", "南街小陈")
    await accept(stage, staff, community="nanjie")
    await resolve(stage, staff, "已清运", community="nanjie")
    resolved_at = (await row(stage)).resolved_at
    stage.clock.advance(hours=71)
    assert (await sweep(stage))["auto_closed"] == 0
    stage.clock.advance(hours=1)
    assert (await sweep(stage))["auto_closed"] == 1
    report = await row(stage)
    assert (report.status, report.outcome, report.close_reason) == ("closed", "fixed", "auto")
    assert report.closed_at == resolved_at  # the clock stopped when staff fixed it
    assert "已自动结案" in rider.last_bot_message()["text"]
    assert "超时未确认，自动结案" in words(card_of(stage, "nanjie"))
    # Resolved reports are never reminded or escalated.
    assert (await kinds(stage)).count("escalated") == 0


async def test_closed_reports_are_left_alone(stage: Stage) -> None:
    await reported(stage)
    staff = staff_of(stage, "dongguan", "张三")
    await accept(stage, staff)
    await stage.send(staff.press(card_of(stage, "dongguan"), "⛔ 驳回"))
    await stage.send(staff.press(card_of(stage, "dongguan"), "信息不足"))
    stage.clock.advance(days=10)
    assert await sweep(stage) == NOTHING
