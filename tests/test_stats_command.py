"""/stats in a dispatcher chat, a forum topic and the supervisors' chat, on a seeded history."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import event

from bot.config import ChatTarget
from tests.conftest import (
    IN_DONGGUAN,
    IN_XIGUAN,
    FakeClock,
    Stage,
    make_config,
    make_world,
    start_app,
    stop_app,
)
from tests.fake_telegram import FakeTelegram
from tests.test_casework import accept, card_of, reported, resolve, staff_of


async def stats_in(stage: Stage, community: str, args: str = "", topic: int | None = None) -> str:
    someone = staff_of(stage, community, "值班员")
    chat = stage.tg.chat(stage.chats[community])
    topic = topic if topic is not None else stage.topics.get(community)
    before = len(stage.tg.bot_messages(stage.chats[community], topic))
    await stage.send(someone.command(f"/stats {args}".strip(), chat=chat, thread_id=topic))
    # /stats runs beside other updates: wait for its answer.
    await stage.until(lambda: len(stage.tg.bot_messages(stage.chats[community], topic)) > before)
    return stage.tg.bot_messages(stage.chats[community], topic)[-1]["text"]


async def test_stats_for_a_community_and_for_the_county(stage: Stage) -> None:
    # #1 东关, fire, fixed within 2 h and confirmed; #2 西关, order, rejected after 1 h;
    # #3 东关, fire, still open and overdue by the time we ask.
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    stage.clock.advance(hours=2)
    await resolve(stage, zhang, "已清理")
    await stage.send(rider.press(rider.last_bot_message(), "✅ 已解决"))
    await reported(stage, point=IN_XIGUAN, category="🚨 社会治安", name="乙")
    west = staff_of(stage, "xiguan", "赵六")
    stage.clock.advance(hours=1)
    await stage.send(west.press(card_of(stage, "xiguan", 2), "⛔ 驳回"))
    await stage.send(west.press(card_of(stage, "xiguan", 2), "不属于隐患"))
    await reported(stage, category="🔥 消防安全", name="丙")  # same spot: told it is similar
    stage.clock.advance(days=2)

    text = await stats_in(stage, "dongguan", "7")
    assert "东关社区</b>" not in text  # the fake shows plain text
    assert "东关社区 · 近 7 天" in text
    # Due = closed in the period (#1) + overdue and still open at its end (#3).
    assert "收到 2 件 · 应结案 2 件 = 已办结 1（修复 1，驳回 0）+ 超期未结 1" in text
    assert "办结率 50.0% · 按期办结率 50.0%（按期 1/2）" in text
    assert "办结用时中位数 2.0小时 · 90% 在 2.0小时 内" in text
    assert "返工率 0% · 满意率 100%（1 条反馈）· 转派 0 次" in text
    assert "期末未办结 1 件，其中超期 1 件" in text

    county = await stats_in(stage, "supervisors")
    lines = county.split("\n")
    assert "全县 · 近 30 天" in lines[0]
    assert lines[1].startswith("1. 西关社区：办结率 100%（1/1）")
    assert lines[2].startswith("2. 东关社区：办结率 50.0%（1/2）")
    assert "收到 3 件 · 应结案 3 件 = 已办结 2（修复 1，驳回 1）+ 超期未结 1" in county


async def test_closures_count_at_once_before_their_deadline(stage: Stage) -> None:
    """Three reports fixed and confirmed today (due tomorrow), one open: 3 / 3 = 100 %."""
    riders = [await reported(stage, name=f"骑手{i}") for i in range(4)]
    zhang = staff_of(stage, "dongguan", "张三")
    for ticket in (1, 2, 3):
        await stage.send(zhang.press(card_of(stage, "dongguan", ticket), "✋ 受理"))
        stage.clock.advance(minutes=30)
        await resolve(stage, zhang, "已处理", ticket=ticket)
        rider = riders[ticket - 1]
        await stage.send(rider.press(rider.last_bot_message(), "✅ 已解决"))
    stage.clock.advance(minutes=1)

    for desk in ("dongguan", "supervisors"):
        text = await stats_in(stage, desk)
        assert "应结案 3 件 = 已办结 3（修复 3，驳回 0）+ 超期未结 0" in text, text
        assert "办结率 100% · 按期办结率 100%（按期 3/3）" in text
        assert "期末未办结 1 件，其中超期 0 件" in text
        assert "办结用时中位数" in text and "—" not in text.split("办结用时")[1].split("\n")[0]


async def test_a_period_with_no_closures_shows_a_dash_not_zero_hours(stage: Stage) -> None:
    await reported(stage)
    text = await stats_in(stage, "dongguan")
    assert "0.0小时" not in text
    assert "办结用时：—" in text
    assert "办结率 —" in text


async def test_stats_in_a_forum_topic_answers_for_that_topics_community(
    tmp_path: Path, tg: FakeTelegram, clock: FakeClock
) -> None:
    """南街 and 西关 are two topics of one forum group: each topic gets its own figures."""
    chats, topics = make_world(tg)
    west_topic = tg.new_topic(chats["nanjie"], "西关 随手反馈")
    config = make_config(tmp_path, chats, topics)
    moved = tuple(
        dataclasses.replace(c, chat=ChatTarget(chats["nanjie"], west_topic))
        if c.id == "xiguan"
        else c
        for c in config.communities
    )
    config = dataclasses.replace(config, communities=moved)
    chats = {**chats, "xiguan": chats["nanjie"]}
    stage = Stage(tg, config, await start_app(config, tg, clock), clock, chats, topics)
    try:
        await reported(stage, point=IN_XIGUAN, category="🚨 社会治安")
        clock.advance(minutes=1)
        west = await stats_in(stage, "nanjie", topic=west_topic)
        assert "西关社区 · 近 30 天" in west and "收到 1 件" in west
        south = await stats_in(stage, "nanjie")
        assert "南街社区 · 近 30 天" in south and "收到 0 件" in south
    finally:
        await stop_app(stage.app)


async def test_stats_elsewhere_is_explained(stage: Stage) -> None:
    outsider = stage.person("路人")
    group = stage.tg.new_group("骑手群", members=[outsider.user])
    await stage.send(outsider.command("/stats", chat=group))
    answer = await stage.until(lambda: stage.tg.bot_messages(group["id"])[-1])
    assert answer["text"] == "本群（话题）不是任何社区或县中心的派单群。"


async def test_strangers_cost_no_work(stage: Stage) -> None:
    """/stats, /digest and /export in a chat that is no desk read no report at all."""
    await reported(stage, point=IN_DONGGUAN)
    outsider = stage.person("路人")
    group = stage.tg.new_group("骑手群", members=[outsider.user])
    reads: list[str] = []

    def count(conn, cursor, statement: str, *args: object) -> None:
        if "FROM reports" in statement or "FROM events" in statement:
            reads.append(statement)

    engine = stage.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for command in ("/stats", "/digest", "/digest", "/export", "/stats ²"):
            before = len(stage.tg.bot_messages(group["id"]))
            await stage.send(outsider.command(command, chat=group))
            await stage.until(lambda b=before: len(stage.tg.bot_messages(group["id"])) > b)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert reads == []
    answers = [m["text"] for m in stage.tg.bot_messages(group["id"])]
    assert len(answers) == 5 and all("不是" in a or "只能" in a for a in answers)


async def test_stats_days_must_be_plain_digits(stage: Stage) -> None:
    for odd in ("²", "١", "7天", "99999999999999999999"):
        text = await stats_in(stage, "dongguan", odd)
        assert text.startswith("用法：/stats [天数]"), (odd, text)
    assert "近 366 天" in await stats_in(stage, "dongguan", "999")
