"""What a rider may read and say about reports that are not theirs (issue 8, items 1 and 2).

A duplicate's riders follow the original, so the original must be one the rejecting desk
may see. A follower (+1) hears that the status moved, never the conversation between
staff and the reporter, and cannot speak under the card as if they were the reporter.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.tables import report_followers
from tests.conftest import FAR_AWAY, IN_DONGGUAN, IN_XIGUAN, Stage, words
from tests.fake_telegram import Person
from tests.images import jpeg
from tests.test_casework import accept, card_of, last_alert, reported, resolve, row, staff_of
from tests.test_rider_intake import buttons, report_quickly

BAD_DUPLICATE = "请回复本群可以查看的另一个工单号（已结案的也可以），例如 12。"


def everything_seen_by(stage: Stage, person: Person) -> str:
    """The whole private chat as the rider's phone shows it: texts and captions."""
    return "\n".join(m.get("text") or m.get("caption") or "" for m in stage.tg.messages(person.id))


async def followers(stage: Stage, ticket: int) -> list[int]:
    async with stage.services.db.transaction() as conn:
        rows = await conn.execute(
            select(report_followers.c.rider_id).where(report_followers.c.report_id == ticket)
        )
        return list(rows.scalars())


async def ask_duplicate(stage: Stage, staff: Person, community: str, ticket: int) -> Any:
    await stage.send(staff.press(card_of(stage, community, ticket), "⛔ 驳回"))
    await stage.send(staff.press(card_of(stage, community, ticket), "重复工单"))
    return stage.tg.bot_messages(stage.chats[community])[-1]


async def test_a_duplicate_cannot_point_into_another_community(stage: Stage) -> None:
    east_rider = await reported(stage, name="东关骑手")  # #1
    west_rider = await reported(stage, point=IN_XIGUAN, name="西关骑手")  # #2, 西关
    west = staff_of(stage, "xiguan", "赵六")
    await stage.send(west.reply(card_of(stage, "xiguan", 2), text="请问具体在几号楼？"))
    assert "几号楼" in west_rider.last_bot_message()["text"]
    west_card = words(card_of(stage, "xiguan", 2))

    zhang = staff_of(stage, "dongguan", "张三")
    prompt = await ask_duplicate(stage, zhang, "dongguan", 1)
    for answer in ("2", "#1", "999", "١"):  # elsewhere, itself, missing, not a number
        await stage.send(zhang.reply(prompt, text=answer))
        assert stage.tg.bot_messages(stage.chats["dongguan"])[-1]["text"] == BAD_DUPLICATE
    assert (await row(stage, 1)).status == "dispatched"
    assert await followers(stage, 2) == []
    assert words(card_of(stage, "xiguan", 2)) == west_card  # no "另有 1 名骑手确认"
    await stage.send(east_rider.command("/my"))
    assert "#2" not in east_rider.last_bot_message()["text"]
    assert "几号楼" not in everything_seen_by(stage, east_rider)

    # A closed report of the desk's own community is a fine original.
    third = stage.person("第三位骑手")
    await report_quickly(stage, third)  # #3, 东关 (submitted although #1 is near)
    await stage.send(zhang.press(card_of(stage, "dongguan", 3), "⛔ 驳回"))
    await stage.send(zhang.press(card_of(stage, "dongguan", 3), "不属于隐患"))
    assert (await row(stage, 3)).status == "rejected"
    await stage.send(zhang.reply(prompt, text="3"))
    assert (await row(stage, 1)).duplicate_of == 3
    assert "未予受理：重复工单 #3" in east_rider.last_bot_message()["text"]


async def test_supervisors_may_point_to_any_report(stage: Stage) -> None:
    await reported(stage, name="东关骑手")  # #1, 东关
    far = await reported(stage, point=FAR_AWAY, name="县外骑手")  # #2, the supervisors'
    boss = staff_of(stage, "supervisors", "县中心王主任")
    prompt = await ask_duplicate(stage, boss, "supervisors", 2)
    await stage.send(boss.reply(prompt, text="1"))
    assert (await row(stage, 2)).duplicate_of == 1
    assert "未予受理：重复工单 #1" in far.last_bot_message()["text"]


async def joined(stage: Stage, name: str = "路过的骑手") -> Person:
    """A second rider, 55 m away, confirms #1 with +1."""
    joiner = stage.person(name)
    await stage.send(joiner.photo(jpeg(seed=5), caption="我也看到了"))
    await stage.send(joiner.location(IN_DONGGUAN.lat + 0.0005, IN_DONGGUAN.lon))
    await stage.send(joiner.press(joiner.last_bot_message(), "🔥 消防安全"))
    await stage.send(joiner.press(joiner.last_bot_message(), "➕ 是同一个，加入 #1"))
    return joiner


async def test_a_follower_hears_status_changes_only(stage: Stage) -> None:
    reporter = await reported(stage, name="上报人")  # note: 消防通道堵塞
    joiner = await joined(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    assert joiner.last_bot_message()["text"] == "🔔 你关注的工单 #1：社区已受理，正在处理。"
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="请问具体在几号楼？电话多少？"))
    assert "几号楼" in reporter.last_bot_message()["text"]
    await stage.send(reporter.reply(reporter.last_bot_message(), text="3 号楼，我叫老周"))
    await resolve(stage, zhang, "已清理楼道", photo=jpeg(seed=7))
    question = reporter.last_bot_message()
    assert "已清理楼道" in question["caption"] and buttons(question) == ["✅ 已解决", "❌ 未解决"]

    told = joiner.last_bot_message()
    assert told["text"] == "🔔 你关注的工单 #1：社区已办结。"
    assert "photo" not in told and buttons(told) == []
    await stage.send(joiner.command("/my"))
    await stage.send(joiner.press(joiner.last_bot_message(), "#1"))
    detail = joiner.last_bot_message()["text"]
    assert "工单 #1" in detail and "办结" in detail and "受理" in detail
    seen = everything_seen_by(stage, joiner)
    for private in ("几号楼", "电话", "老周", "已清理楼道", "消防通道堵塞", "回复骑手"):
        assert private not in seen, private
    # The reporter's own /my still has the whole conversation.
    await stage.send(reporter.command("/my"))
    await stage.send(reporter.press(reporter.last_bot_message(), "#1"))
    assert "几号楼" in reporter.last_bot_message()["text"]


async def test_a_follower_cannot_speak_as_the_reporter(stage: Stage) -> None:
    await reported(stage, name="上报人")
    joiner = await joined(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    under_card = len(stage.chat_messages("dongguan"))
    await stage.send(joiner.reply(joiner.last_bot_message(), text="我就是上报人，已经修好了"))
    answer = joiner.last_bot_message()["text"]
    assert "你的消息不会转给社区" in answer
    assert len(stage.chat_messages("dongguan")) == under_card  # nothing under the card
    assert "修好了" not in words(card_of(stage, "dongguan"))
    # Nor answer 已解决？ in the reporter's place.
    await resolve(stage, zhang, "已处理")
    await stage.send(joiner.press_data(joiner.last_bot_message(), "v1:r:1:fb:y"))
    assert last_alert(stage) == "这个按钮已失效，请按最新消息操作。"
    assert (await row(stage)).status == "resolved"
