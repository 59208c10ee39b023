"""No single rider can slow everyone down (issue 8, item 11).

Updates go through the Application's update queue, the way polling delivers them, so the
update processor decides what runs side by side. A flooding rider is told once to slow
down and then ignored until the minute has passed; another user is answered while the
flood goes on, even while the flood's messages wait for a dispatcher group's pace; and
each chat's own updates are handled in the order they were sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from telegram import Update
from telegram.ext import BaseRateLimiter

from bot.app import build_application, on_shutdown, on_startup
from bot.config import LimitSettings
from storage.tables import drafts, rider_accounts
from storage.tables import riders as rider_rows
from tests.conftest import (
    IN_DONGGUAN,
    IN_XIGUAN,
    ROOT,
    TOKEN,
    FakeClock,
    Stage,
    make_config,
    make_world,
    stop_app,
    words,
)
from tests.fake_telegram import FakeRequest, FakeTelegram, Person
from tests.images import jpeg
from tests.test_casework import card_of, staff_of
from tests.test_rider_intake import buttons, report_quickly


async def queue(stage: Stage, updates: Iterable[dict[str, Any]]) -> None:
    """Hand updates to the Application the way the polling loop does."""
    for update in updates:
        await stage.app.update_queue.put(Update.de_json(update, stage.app.bot))


async def drained(stage: Stage, timeout: float = 10.0) -> None:
    """Wait until every queued update has been handled, and what it sent delivered."""
    await asyncio.wait_for(stage.app.update_queue.join(), timeout)
    await stage.delivered(timeout)


def texts_to(stage: Stage, person: Person, after: int = 0) -> list[str]:
    return [m.get("text", "") for m in stage.tg.bot_messages(person.id)[after:]]


async def test_a_flooding_rider_is_told_once_then_ignored_until_the_minute_passes(
    stage: Stage,
) -> None:
    flooder = stage.person("刷屏者")
    await queue(stage, (flooder.text(f"第{i}条") for i in range(60)))
    await drained(stage)
    answers = texts_to(stage, flooder)
    limit = stage.config.limits.messages_per_minute
    assert len(answers) == limit + 1  # every allowed message answered, then one notice
    assert not any("发得太快" in a for a in answers[:limit])
    # 06:00 UTC is 14:00 in Shanghai; the first message leaves the window a minute later.
    assert answers[-1] == (
        "你发得太快了，先歇一歇吧 🙏 14:01:00 之前发来的消息不会处理，之后再继续就好。"
    )
    # Further messages, commands included, stay unanswered until the minute has passed.
    await queue(stage, [flooder.text("还在刷"), flooder.command("/help")])
    await drained(stage)
    assert len(texts_to(stage, flooder)) == limit + 1
    # The words kept are the allowed ones, in the order they were sent.
    draft_note = await note_of(stage, flooder)
    assert draft_note == "\n".join(f"第{i}条" for i in range(limit))

    stage.clock.advance(seconds=60)
    await queue(stage, [flooder.command("/help")])
    await drained(stage)
    assert "环境卫生" in texts_to(stage, flooder)[-1]  # the help, answered again


async def note_of(stage: Stage, person: Person) -> str | None:

    async with stage.services.db.transaction() as conn:
        query = (
            select(drafts.c.note)
            .join(rider_accounts, rider_accounts.c.rider_id == drafts.c.rider_id)
            .where(rider_accounts.c.channel == "telegram")
            .where(rider_accounts.c.external_id == str(person.id))
        )
        return (await conn.execute(query)).scalar_one()


async def test_each_chat_keeps_its_order_while_chats_run_side_by_side(stage: Stage) -> None:
    riders = [stage.person(f"骑手{n}") for n in range(4)]
    interleaved = [r.text(f"{r.user['first_name']}-{i}") for i in range(12) for r in riders]
    await queue(stage, interleaved)
    await drained(stage)
    for r in riders:
        name = r.user["first_name"]
        assert await note_of(stage, r) == "\n".join(f"{name}-{i}" for i in range(12))


async def test_riders_reporting_at_once_each_get_one_ticket(stage: Stage) -> None:
    """Side by side, the database still sees one writer at a time: nothing is lost."""

    riders = [stage.person(f"骑手{n}") for n in range(6)]
    spots = [IN_DONGGUAN if n % 2 else IN_XIGUAN for n in range(6)]
    await queue(stage, (r.photo(jpeg(seed=n)) for n, r in enumerate(riders)))
    await drained(stage)
    await queue(stage, (r.location(p.lat, p.lon) for r, p in zip(riders, spots, strict=True)))
    await drained(stage)
    await queue(stage, (r.press(r.last_bot_message(), "🧹 环境卫生") for r in riders))
    await drained(stage)
    # Everyone presses Submit, and the first rider presses it twice.
    summaries = [r.last_bot_message() for r in riders]
    presses = [r.press(m, "✅ 提交") for r, m in zip(riders, summaries, strict=True)]
    await queue(stage, [*presses, riders[0].press(summaries[0], "✅ 提交")])
    await drained(stage)
    tickets = sorted(
        int(found[1])
        for r in riders
        for t in texts_to(stage, r)
        if (found := re.match(r"✅ 已提交，工单号 #(\d+)", t))
    )
    assert tickets == [1, 2, 3, 4, 5, 6]
    cards = [
        m for c in ("dongguan", "xiguan") for m in stage.chat_messages(c) if "工单 #" in words(m)
    ]
    assert len(cards) == 6
    # The first rider's second press made nothing, and said so.
    first = [t for t in texts_to(stage, riders[0]) if t.startswith("✅ 已提交，工单号")]
    assert len(first) == 1
    ticket = re.match(r"✅ 已提交，工单号 #(\d+)", first[0])[1]  # type: ignore[index]
    answers = [a.get("text", "") for a in stage.tg.callback_answers]
    assert answers.count(f"这份上报已经提交过了，工单号 #{ticket}。") == 1


class HeldGroups(BaseRateLimiter[None]):
    """A rate limiter that makes chosen chats wait, as Telegram's pace (20/min) would."""

    def __init__(self) -> None:
        self.held: set[int] = set()
        self.released = asyncio.Event()
        self.waiting = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: Any,
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Any:
        if data.get("chat_id") in self.held and not self.released.is_set():
            self.waiting += 1
            await self.released.wait()
            self.waiting -= 1
        return await callback(*args, **kwargs)


@pytest.fixture
async def paced(tmp_path: Path, tg: FakeTelegram, clock: FakeClock) -> AsyncIterator[Stage]:
    """The stage, with a rate limiter the test can hold for one group."""
    chats, topics = make_world(tg)
    config = make_config(tmp_path, chats, topics)
    limiter = HeldGroups()
    app = build_application(
        config, TOKEN, request=FakeRequest(tg), clock=clock, rate_limit=limiter
    )
    await app.initialize()
    await on_startup(app)
    await app.start()
    stage = Stage(tg, config, app, clock, chats, topics)
    stage.app.bot_data["test_limiter"] = limiter
    try:
        yield stage
    finally:
        limiter.released.set()
        await stop_app(stage.app)


async def test_another_user_is_answered_while_a_riders_replies_wait_for_the_groups_pace(
    paced: Stage,
) -> None:
    stage = paced
    limiter: HeldGroups = stage.app.bot_data["test_limiter"]
    rider = stage.person("骑手老周")
    await report_quickly(stage, rider)
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="请问具体在几号楼？"))
    relayed = rider.last_bot_message()
    group = stage.chats["dongguan"]
    before = len(stage.tg.bot_messages(group))

    limiter.held.add(group)  # the group's budget is spent: its messages must wait
    flood = [rider.reply(relayed, text=f"补充{i}") for i in range(10)]
    await queue(stage, flood)
    await stage.until(lambda: limiter.waiting == 1)  # the first relay waits for the pace
    other = stage.person("路人", language_code="en")
    await queue(stage, [other.command("/help")])
    help_ = await stage.until(lambda: texts_to(stage, other)[-1])
    assert "Sanitation" in help_
    assert limiter.waiting == 1  # the rest of the flood queues behind the rider's first reply
    assert len(stage.tg.bot_messages(group)) == before  # nothing relayed yet

    limiter.released.set()
    await drained(stage)
    under_card = [m["text"] for m in stage.tg.bot_messages(group)[before:]]
    relays = [t for t in under_card if t.startswith("💬 骑手回复")]
    assert relays == [f"💬 骑手回复（工单 #1）：补充{i}" for i in range(10)]


async def test_staff_in_another_group_are_not_held_by_a_paced_group(paced: Stage) -> None:
    stage = paced
    limiter: HeldGroups = stage.app.bot_data["test_limiter"]
    rider = stage.person("骑手老周")
    await report_quickly(stage, rider)
    limiter.held.add(stage.chats["dongguan"])
    zhang = staff_of(stage, "dongguan", "张三")
    await queue(stage, [zhang.reply(card_of(stage, "dongguan"), text="几号楼？")])
    await stage.until(lambda: limiter.waiting == 1)  # the "relayed" note waits for the pace
    supervisor = staff_of(stage, "supervisors", "督导")
    supervisors = stage.tg.chat(stage.chats["supervisors"])
    await queue(stage, [supervisor.command("/chatid", chat=supervisors)])
    answer = await stage.until(lambda: stage.tg.bot_messages(stage.chats["supervisors"])[-1])
    assert str(stage.chats["supervisors"]) in answer["text"]
    assert limiter.waiting == 1


async def test_reports_per_hour_are_limited_with_one_polite_answer(
    tmp_path: Path, tg: FakeTelegram, clock: FakeClock
) -> None:
    chats, topics = make_world(tg)
    config = dataclasses.replace(
        make_config(tmp_path, chats, topics), limits=LimitSettings(reports_per_hour=2)
    )
    app = build_application(config, TOKEN, request=FakeRequest(tg), clock=clock, rate_limit=False)
    await app.initialize()
    await on_startup(app)
    await app.start()
    stage = Stage(tg, config, app, clock, chats, topics)
    try:
        rider = stage.person()
        for n in range(2):
            await report_quickly(stage, rider, caption=f"第{n + 1}处")
            clock.advance(minutes=1)
        await report_quickly(stage, rider, caption="第三处")
        assert texts_to(stage, rider)[-1] == (
            "谢谢你这么用心！你在一小时内已经提交了 2 份上报，已到上限。"
            "请在 15:00 之后再提交这一份，草稿还在。"
        )
        summary = [m for m in tg.bot_messages(rider.id) if "✅ 提交" in buttons(m)][-1]
        count = len(tg.bot_messages(rider.id))
        await stage.send(rider.press(summary, "✅ 提交"))  # again: silence
        assert len(tg.bot_messages(rider.id)) == count
        assert not any("工单 #3" in words(m) for m in stage.chat_messages("dongguan"))

        clock.advance(minutes=59)  # an hour after the first report
        await stage.send(rider.press(summary, "✅ 提交"))
        assert "已提交，工单号 #3" in texts_to(stage, rider)[-1]
    finally:
        await app.stop()
        await app.shutdown()
        await on_shutdown(app)


async def test_first_contacts_handled_at_once_make_one_rider(stage: Stage) -> None:
    """Updates now run side by side; a new rider's first updates must not collide."""

    newcomer = stage.person("新骑手")
    ctxs = await asyncio.gather(
        *(
            stage.services.rider("telegram", str(newcomer.id), "新骑手", "zh-hans")
            for _ in range(8)
        )
    )
    assert len({c.rider.id for c in ctxs}) == 1
    async with stage.services.db.transaction() as conn:
        query = (
            select(func.count())
            .select_from(rider_accounts)
            .where(rider_accounts.c.external_id == str(newcomer.id))
        )
        assert (await conn.execute(query)).scalar_one() == 1
        everyone = await conn.execute(select(func.count()).select_from(rider_rows))
        assert everyone.scalar_one() == 1  # no rider left behind by the losers


def test_the_flood_benchmark_runs() -> None:
    """bench/bench_flood.py --quick: a tiny run; its figures are read by people, not here."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_flood.py"), "--quick"],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "/help answer time (server) median" in done.stdout
    assert "they got 21 answers (1 of them the one notice to slow down)" in done.stdout
