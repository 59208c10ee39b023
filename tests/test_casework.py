"""Community staff close the loop from their dispatcher chat; riders stay informed.

Staff and riders are people in the fake Telegram; what each sees is read from their chats.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from storage.tables import events, report_followers, reports
from tests.conftest import (
    IN_DONGGUAN,
    NEAR_NANJIE,
    Stage,
    words,
)
from tests.fake_telegram import Person
from tests.images import jpeg
from tests.test_rider_intake import buttons, report_quickly


def staff_of(stage: Stage, community: str, name: str) -> Person:
    person = stage.tg.person(name)
    stage.tg.add_member(stage.chats[community], person)
    return person


def card_of(stage: Stage, community: str, ticket: int = 1) -> dict[str, Any]:
    """The live card of a ticket in a community's chat, as it reads now."""
    found = [
        m
        for m in stage.chat_messages(community)
        # the card's first line; a photo captioned apart from its card has one line only
        if f"工单 #{ticket} ·" in words(m).split("\n", 1)[0] and "\n" in words(m)
    ]
    if not found:
        raise AssertionError(f"no card for #{ticket} in {community}")
    return stage.tg.message(found[-1]["chat"]["id"], found[-1]["message_id"])


async def row(stage: Stage, ticket: int = 1) -> Any:
    async with stage.services.db.transaction() as conn:
        return (await conn.execute(select(reports).where(reports.c.id == ticket))).one()


async def event_kinds(stage: Stage, ticket: int = 1) -> list[str]:
    async with stage.services.db.transaction() as conn:
        rows = await conn.execute(
            select(events.c.kind).where(events.c.report_id == ticket).order_by(events.c.id)
        )
        return list(rows.scalars())


def last_alert(stage: Stage) -> str:
    answer = stage.tg.callback_answers[-1]
    assert answer.get("show_alert"), answer
    return answer["text"]


async def reported(
    stage: Stage, point: Any = IN_DONGGUAN, category: str = "🔥 消防安全", name: str = "王师傅"
) -> Person:
    rider = stage.person(name)
    await report_quickly(stage, rider, point=point, category=category, caption="消防通道堵塞")
    return rider


async def accept(
    stage: Stage, staff: Person, community: str = "dongguan", ticket: int = 1
) -> None:
    await stage.send(staff.press(card_of(stage, community, ticket), "✋ 受理"))


async def resolve(
    stage: Stage,
    staff: Person,
    note: str,
    photo: bytes | None = None,
    community: str = "dongguan",
    ticket: int = 1,
) -> None:
    await stage.send(staff.press(card_of(stage, community, ticket), "✅ 办结"))
    prompt = stage.tg.bot_messages(stage.chats[community])[-1]
    assert "回复本条消息" in prompt["text"] and prompt["reply_markup"]["force_reply"]
    if photo is None:
        await stage.send(staff.reply(prompt, text=note))
    else:
        await stage.send(staff.reply(prompt, photo=photo, caption=note))


async def test_accept_claims_the_report_and_tells_the_rider(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    li = staff_of(stage, "dongguan", "李四")
    card = card_of(stage, "dongguan")
    assert buttons(card) == ["✋ 受理", "↪️ 转派", "⛔ 驳回", "📍 位置"]
    await accept(stage, zhang)
    card = card_of(stage, "dongguan")
    assert "状态：处理中（张三）" in words(card)
    assert buttons(card) == ["✅ 办结", "↪️ 转派", "⛔ 驳回", "📍 位置"]
    assert "受理 · 张三" in words(card)
    notice = rider.last_bot_message()["text"]
    assert "工单 #1 已被社区受理" in notice and "张三" not in notice
    await stage.send(li.press_data(card, "v1:r:1:acc"))  # an old Accept button
    assert last_alert(stage) == "工单 #1 已由 张三 受理。"
    assert (await row(stage)).handler_name == "张三"


async def test_two_staff_accepting_at_once_get_one_owner(stage: Stage) -> None:
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    li = staff_of(stage, "dongguan", "李四")
    card = card_of(stage, "dongguan")
    await asyncio.gather(
        stage.send(zhang.press(card, "✋ 受理")), stage.send(li.press(card, "✋ 受理"))
    )
    owner = (await row(stage)).handler_name
    assert owner in ("张三", "李四")
    alerts = [a["text"] for a in stage.tg.callback_answers if a.get("show_alert")]
    assert len(alerts) == 1 and (owner in alerts[0])
    assert (await event_kinds(stage)).count("accepted") == 1


async def test_resolve_with_photo_then_rider_confirms(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    await resolve(stage, zhang, "已清理楼道，电瓶车已移走", photo=jpeg(seed=7))
    assert "工单 #1 已办结" in stage.tg.bot_messages(stage.chats["dongguan"])[-1]["text"]
    card = card_of(stage, "dongguan")
    assert "状态：已办结，待骑手确认" in words(card) and buttons(card) == ["📍 位置"]
    notice = rider.last_bot_message()
    assert "photo" in notice and "已清理楼道，电瓶车已移走" in notice["caption"]
    assert "张三" not in notice["caption"]
    assert buttons(notice) == ["✅ 已解决", "❌ 未解决"]
    await stage.send(rider.press(notice, "✅ 已解决"))
    assert "已结案" in stage.tg.message(rider.id, notice["message_id"])["caption"]
    card = card_of(stage, "dongguan")
    assert "状态：已结案" in words(card) and "骑手确认已解决" in words(card)
    report = await row(stage)
    assert (report.status, report.outcome, report.close_reason) == ("closed", "fixed", "confirmed")
    assert report.closed_at == report.resolved_at
    assert await event_kinds(stage) == [
        "submitted",
        "dispatched",
        "accepted",
        "resolved",
        "confirmed",
    ]


async def test_not_fixed_reopens_and_tells_the_staff(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    await resolve(stage, zhang, "已处理")
    await stage.send(rider.press(rider.last_bot_message(), "❌ 未解决"))
    told = stage.tg.bot_messages(stage.chats["dongguan"])[-1]
    assert "未解决" in told["text"] and "返工" in told["text"]
    card = card_of(stage, "dongguan")
    assert "返工，待重新受理" in words(card) and buttons(card)[0] == "✋ 受理"
    await accept(stage, zhang)
    await resolve(stage, zhang, "彻底清理")
    await stage.send(rider.press(rider.last_bot_message(), "✅ 已解决"))
    report = await row(stage)
    assert (report.status, report.reopen_count, report.resolve_count) == ("closed", 1, 2)


async def test_who_may_resolve(stage: Stage) -> None:
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    li = staff_of(stage, "dongguan", "李四")
    card = card_of(stage, "dongguan")
    await stage.send(zhang.press_data(card, "v1:r:1:res"))
    assert last_alert(stage) == "请先受理工单 #1。"
    await accept(stage, zhang)
    await stage.send(li.press(card_of(stage, "dongguan"), "✅ 办结"))
    assert last_alert(stage) == "工单 #1 由 张三 负责，只有他/她或县中心可以操作。"
    # A supervisor may act on any report from its card in the supervisors' chat (here the
    # copy escalation posts once it is overdue).
    stage.clock.advance(hours=25)
    assert (await stage.sweep())["escalated"] == 1
    boss = staff_of(stage, "supervisors", "县中心王主任")
    await stage.send(boss.press(card_of(stage, "supervisors"), "✅ 办结"))
    assert not stage.tg.callback_answers[-1].get("show_alert")
    prompt = stage.tg.bot_messages(stage.chats["supervisors"])[-1]
    await stage.send(boss.reply(prompt, text="县中心已协调处理"))
    assert (await row(stage)).status == "resolved"


async def test_refusals_change_nothing(stage: Stage) -> None:
    rider = await reported(stage)
    outsider = staff_of(stage, "xiguan", "西关小赵")
    card = card_of(stage, "dongguan")
    in_xiguan = {**card, "chat": stage.tg.chat(stage.chats["xiguan"])}
    await stage.send(outsider.press_data(in_xiguan, "v1:r:1:acc"))
    assert last_alert(stage) == "工单 #1 不属于本群，不能在这里操作。"
    await stage.send(rider.press_data(rider.last_bot_message(), "v1:r:1:acc"))
    assert last_alert(stage) == "这个按钮已失效，请按最新消息操作。"
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press_data(card, "v1:r:999:acc"))
    assert last_alert(stage) == "这个按钮已失效。"
    await stage.send(zhang.press_data(card, "v0:r:1:acc"))
    assert last_alert(stage) == "这个按钮已失效，请按最新消息操作。"
    report = await row(stage)
    assert (report.status, report.handler_id) == ("dispatched", None)
    await accept(stage, zhang)
    await stage.send(zhang.press(card_of(stage, "dongguan"), "⛔ 驳回"))
    await stage.send(zhang.press(card_of(stage, "dongguan"), "不属于隐患"))
    await stage.send(zhang.press_data(card, "v1:r:1:acc"))
    assert last_alert(stage) == "工单 #1 已结案，不能再操作。"


async def test_replies_are_relayed_both_ways_without_accounts(stage: Stage) -> None:
    rider = await reported(stage, name="骑手老周")
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="请问具体在几号楼？"))
    relayed = rider.last_bot_message()
    assert "「东关社区」就工单 #1 回复你" in relayed["text"] and "几号楼" in relayed["text"]
    assert "张三" not in relayed["text"]
    assert (
        stage.tg.bot_messages(stage.chats["dongguan"])[-1]["text"]
        == "正在转告骑手；没有送达会在这里告诉你。"
    )
    await stage.send(rider.reply(relayed, text="3 号楼 2 单元"))
    assert "正在转告社区" in rider.last_bot_message()["text"]
    under_card = stage.tg.bot_messages(stage.chats["dongguan"])[-1]
    assert under_card["text"] == "💬 骑手回复（工单 #1）：3 号楼 2 单元"
    assert under_card["reply_to_message"]["message_id"] == card_of(stage, "dongguan")["message_id"]
    assert "老周" not in under_card["text"]
    assert "回复骑手" in words(card_of(stage, "dongguan"))


async def test_transfer_moves_the_card_and_keeps_the_clock(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    deadline = (await row(stage)).deadline_at
    old = card_of(stage, "dongguan")
    await stage.send(zhang.press(old, "↪️ 转派"))
    assert "西关社区" in buttons(card_of(stage, "dongguan"))
    await stage.send(zhang.press(card_of(stage, "dongguan"), "西关社区"))
    moved = stage.tg.message(old["chat"]["id"], old["message_id"])
    assert words(moved) == "↪️ 工单 #1 已转派至「西关社区」。" and buttons(moved) == []
    new = card_of(stage, "xiguan")
    assert "归属：西关社区" in words(new) and "已转派 1 次" in words(new)
    assert buttons(new)[0] == "✋ 受理"
    assert "已转交「西关社区」" in rider.last_bot_message()["text"]
    report = await row(stage)
    assert (report.community_id, report.transfer_count, report.deadline_at) == (
        "xiguan",
        1,
        deadline,
    )
    # The old chat can no longer act on it; the new one can.
    await stage.send(zhang.press_data(old, "v1:r:1:acc"))
    assert "不属于本群" in last_alert(stage)
    await accept(stage, staff_of(stage, "xiguan", "赵六"), community="xiguan")
    assert (await row(stage)).handler_name == "赵六"


async def test_reject_with_a_reason_and_as_duplicate(stage: Stage) -> None:
    first = await reported(stage, name="甲")
    second = stage.person("乙")
    await report_quickly(stage, second, caption="同一个楼道")  # submitted anyway: #2, 东关
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press(card_of(stage, "dongguan", 2), "⛔ 驳回"))
    assert buttons(card_of(stage, "dongguan", 2))[:4] == [
        "重复工单",
        "不属于隐患",
        "不属于本辖区",
        "信息不足",
    ]
    await stage.send(zhang.press(card_of(stage, "dongguan", 2), "重复工单"))
    prompt = stage.tg.bot_messages(stage.chats["dongguan"])[-1]
    await stage.send(zhang.reply(prompt, text="#2"))
    assert (
        stage.tg.bot_messages(stage.chats["dongguan"])[-1]["text"]
        == "请回复本群可以查看的另一个工单号（已结案的也可以），例如 12。"
    )
    await stage.send(zhang.reply(prompt, text="1"))
    report = await row(stage, 2)
    assert (report.status, report.outcome, report.duplicate_of) == ("rejected", "rejected", 1)
    assert "未予受理：重复工单 #1" in second.last_bot_message()["text"]
    # The second rider now follows #1 and hears when it moves (as a follower).
    await accept(stage, zhang)
    assert second.last_bot_message()["text"] == "🔔 你关注的工单 #1：社区已受理，正在处理。"
    assert "你上报的工单 #1 已被社区受理" in first.last_bot_message()["text"]


async def test_a_nearby_open_report_can_be_joined(stage: Stage) -> None:
    await reported(stage, name="甲")
    other = stage.person("乙")
    await stage.send(other.photo(jpeg(seed=5)))
    await stage.send(other.location(IN_DONGGUAN.lat + 0.0005, IN_DONGGUAN.lon))  # ~55 m away
    await stage.send(other.press(other.last_bot_message(), "🔥 消防安全"))
    question = other.last_bot_message()
    assert "附近已有同类问题：工单 #1" in question["text"]
    await stage.send(other.press(question, "➕ 是同一个，加入 #1"))
    assert "已加入工单 #1" in other.last_bot_message()["text"]
    assert "另有 1 名骑手确认" in words(card_of(stage, "dongguan"))
    async with stage.services.db.transaction() as conn:
        assert len((await conn.execute(select(reports))).all()) == 1
        assert len((await conn.execute(select(report_followers))).all()) == 1
    await stage.send(other.command("/my"))
    assert "#1 🔥 消防安全 · 待受理" in other.last_bot_message()["text"]


async def test_a_different_category_nearby_is_not_a_duplicate(stage: Stage) -> None:
    await reported(stage)
    other = stage.person("乙")
    await stage.send(other.photo(jpeg(seed=5)))
    await stage.send(other.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(other.press(other.last_bot_message(), "🧹 环境卫生"))
    assert buttons(other.last_bot_message())[0] == "✅ 提交"


async def test_my_reports_and_detail(stage: Stage) -> None:
    rider = await reported(stage)
    await accept(stage, staff_of(stage, "dongguan", "张三"))
    await stage.send(rider.command("/my"))
    listing = rider.last_bot_message()
    assert "#1 🔥 消防安全 · 处理中" in listing["text"]
    await stage.send(rider.press(listing, "#1"))
    detail = rider.last_bot_message()["text"]
    assert "工单 #1" in detail and "处理单位：东关社区" in detail and "受理" in detail
    assert "张三" not in detail


async def test_ticket_history_for_staff_only_where_it_belongs(stage: Stage) -> None:
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    await stage.send(zhang.command("/ticket 1", chat=stage.tg.chat(stage.chats["dongguan"])))
    history = stage.tg.bot_messages(stage.chats["dongguan"])[-1]["text"]
    assert "全部记录" in history and "骑手上报" in history and "受理 · 张三" in history
    west = staff_of(stage, "xiguan", "赵六")
    await stage.send(west.command("/ticket 1", chat=stage.tg.chat(stage.chats["xiguan"])))
    elsewhere = stage.tg.bot_messages(stage.chats["xiguan"])[-1]["text"]
    assert "全部记录" not in elsewhere and "张三" not in elsewhere
    # Another desk's ticket and a ticket that does not exist read alike: nothing to probe.
    await stage.send(west.command("/ticket 99", chat=stage.tg.chat(stage.chats["xiguan"])))
    missing = stage.tg.bot_messages(stage.chats["xiguan"])[-1]["text"]
    assert elsewhere.replace("#1", "#N") == missing.replace("#99", "#N")


async def test_work_inside_a_forum_topic(stage: Stage) -> None:
    """南街 uses a forum: prompts and answers stay in its topic; topic chatter is no reply."""
    rider = await reported(stage, point=NEAR_NANJIE, category="🧹 环境卫生")
    chen = staff_of(stage, "nanjie", "南街小陈")
    topic = stage.topics["nanjie"]
    chat = stage.tg.chat(stage.chats["nanjie"])
    await stage.send(chen.text("大家注意今天下午开会", chat=chat, thread_id=topic))
    assert "回复你" not in rider.last_bot_message()["text"]
    await accept(stage, chen, community="nanjie")
    await resolve(stage, chen, "垃圾已清运", community="nanjie")
    prompt_and_answer = stage.chat_messages("nanjie")[-2:]
    assert all(m["message_thread_id"] == topic for m in prompt_and_answer)
    assert buttons(rider.last_bot_message()) == ["✅ 已解决", "❌ 未解决"]


async def test_staff_can_answer_the_riders_relayed_reply(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="在哪个楼道？"))
    await stage.send(rider.reply(rider.last_bot_message(), text="2 号楼"))
    relayed = stage.tg.bot_messages(stage.chats["dongguan"])[-1]
    await stage.send(zhang.reply(relayed, text="收到，马上去"))
    assert "收到，马上去" in rider.last_bot_message()["text"]


async def test_names_with_html_are_shown_as_written(stage: Stage) -> None:
    await reported(stage)
    tom = staff_of(stage, "dongguan", "Tom & <b>")
    await accept(stage, tom)
    assert "状态：处理中（Tom & <b>）" in words(card_of(stage, "dongguan"))
    await stage.send(
        staff_of(stage, "dongguan", "李四").press_data(card_of(stage, "dongguan"), "v1:r:1:acc")
    )
    assert last_alert(stage) == "工单 #1 已由 Tom & <b> 受理。"
