"""Messages that used to vanish: Telegram's limits are counted as Telegram counts them.

Telegram measures texts (4096) and captions (1024) in UTF-16 code units, so an emoji counts
two. A caption too long for a photo goes as a text after it, a text too long for a message
goes as several; and staff are never told that a rider got what they did not get.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Stage, words
from tests.fake_telegram import utf16_len
from tests.images import jpeg
from tests.test_casework import accept, card_of, event_kinds, reported, resolve, row, staff_of
from tests.test_rider_intake import buttons

EMOJI_NOTE = "🧯" * 800  # 800 characters, 1600 UTF-16 units: over the 1024 a caption holds


def refused(stage: Stage) -> list[str]:
    """Every request Telegram refused, as its description."""
    return [
        f"{c.method}: {(c.response or {}).get('description')}"
        for c in stage.tg.calls
        if c.status >= 400
    ]


def staff_answer(stage: Stage, community: str = "dongguan") -> str:
    return words(stage.tg.bot_messages(stage.chats[community])[-1])


def within_limits(message: dict[str, Any]) -> bool:
    if "photo" in message:
        return utf16_len(message.get("caption", "")) <= 1024
    return utf16_len(message["text"]) <= 4096


async def test_resolution_with_photo_and_emoji_note_reaches_the_rider(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    before = len(stage.tg.bot_messages(rider.id))
    await resolve(stage, zhang, EMOJI_NOTE, photo=jpeg(seed=3))
    assert staff_answer(stage) == "✅ 工单 #1 已办结，正在请骑手确认；没有送达会在这里告诉你。"
    photo, question = stage.tg.bot_messages(rider.id)[before:]
    assert "photo" in photo and "caption" not in photo  # the photo, then the words
    assert EMOJI_NOTE in question["text"] and "问题解决了吗？" in question["text"]
    assert buttons(question) == ["✅ 已解决", "❌ 未解决"]
    assert refused(stage) == []
    await stage.send(rider.press(question, "✅ 已解决"))
    report = await row(stage)
    assert (report.status, report.close_reason) == ("closed", "confirmed")
    assert "谢谢确认" in stage.tg.message(rider.id, question["message_id"])["text"]


async def test_a_short_resolution_stays_one_photo_with_its_caption(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    before = len(stage.tg.bot_messages(rider.id))
    # 500 emoji and the words around them: just under 1024 units, as one captioned photo.
    await resolve(stage, zhang, "🧯" * 490, photo=jpeg(seed=4))
    (notice,) = stage.tg.bot_messages(rider.id)[before:]
    assert "🧯" * 490 in notice["caption"] and buttons(notice) == ["✅ 已解决", "❌ 未解决"]


async def test_photo_replies_with_emoji_text_are_relayed_both_ways(stage: Stage) -> None:
    rider = await reported(stage, name="骑手老周")
    zhang = staff_of(stage, "dongguan", "张三")
    said = "🚒" * 700
    before = len(stage.tg.bot_messages(rider.id))
    await stage.send(zhang.reply(card_of(stage, "dongguan"), photo=jpeg(seed=5), caption=said))
    assert staff_answer(stage) == "正在转告骑手；没有送达会在这里告诉你。"
    photo, relayed = stage.tg.bot_messages(rider.id)[before:]
    assert "photo" in photo and said in relayed["text"] and "「东关社区」" in relayed["text"]
    assert "回复骑手" in words(card_of(stage, "dongguan"))
    # The rider answers the photo part, with a photo and as many emoji.
    under = len(stage.tg.bot_messages(stage.chats["dongguan"]))
    await stage.send(rider.reply(photo, photo=jpeg(seed=6), caption="🛵" * 800))
    assert "正在转告社区" in rider.last_bot_message()["text"]
    shown = stage.tg.bot_messages(stage.chats["dongguan"])[under:]
    assert "photo" in shown[0] and "🛵" * 800 in shown[1]["text"]
    card_id = card_of(stage, "dongguan")["message_id"]
    assert shown[0]["reply_to_message"]["message_id"] == card_id
    # Staff answering the words part of the rider's reply still reach the rider.
    await stage.send(zhang.reply(shown[1], text="收到"))
    assert "收到" in rider.last_bot_message()["text"]
    assert refused(stage) == []


async def test_staff_are_told_when_the_rider_was_not_asked(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    stage.tg.block_bot(rider.id)
    await resolve(stage, zhang, "已清理", photo=jpeg(seed=8))
    # The notice is refused (the rider blocked the bot): staff hear it under the card, and
    # the card says the rider cannot be reached.
    said = [m["text"] for m in stage.chat_messages("dongguan") if "text" in m]
    assert "⚠️ 工单 #1 的通知没有送达骑手：骑手已停用机器人，收不到消息。" in said
    assert "骑手已无法联系" in words(card_of(stage, "dongguan"))
    # Knowing it now, the next step says so at once.
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="请问在几号楼？"))
    assert staff_answer(stage) == "没有转告成功：骑手已停用机器人，收不到消息。"


async def test_a_relay_that_failed_says_why_and_claims_nothing(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    stage.tg.fail_next("sendMessage", 400, "Bad Request: TOPIC_CLOSED", chat_id=rider.id)
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="请问在几号楼？"))
    said = [words(m) for m in stage.chat_messages("dongguan")[-2:]]
    assert "正在转告骑手；没有送达会在这里告诉你。" in said  # the answer, then the truth:
    (warning,) = [w for w in said if "没有送达骑手" in w]
    assert "topic_closed" in warning.lower() and "停用" not in warning
    assert "replied" not in await event_kinds(stage)
    assert "回复骑手" not in words(card_of(stage, "dongguan"))
    stage.tg.block_bot(rider.id)
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="请问在几号楼？"))
    said = [words(m) for m in stage.chat_messages("dongguan")[-2:]]
    assert "⚠️ 工单 #1 的通知没有送达骑手：骑手已停用机器人，收不到消息。" in said
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="还在吗？"))
    assert staff_answer(stage) == "没有转告成功：骑手已停用机器人，收不到消息。"
    assert "replied" not in await event_kinds(stage)


async def test_a_long_ticket_history_comes_in_several_messages(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    notice = rider.last_bot_message()
    for i in range(30):
        await stage.send(rider.reply(notice, text=f"第{i}次补充：" + "🔥" * 200))
    group = stage.tg.chat(stage.chats["dongguan"])
    before = len(stage.tg.bot_messages(group["id"]))
    await stage.send(zhang.command("/ticket 1", chat=group))
    parts = stage.tg.bot_messages(group["id"])[before:]
    assert len(parts) >= 2 and all(within_limits(p) for p in parts)
    assert refused(stage) == []
    whole = "\n".join(p["text"] for p in parts)
    assert "工单 #1 ·" in parts[0]["text"] and "全部记录" in whole
    assert all(whole.count(f"第{i}次补充") == 1 for i in range(5, 30))  # the latest 30 steps
    assert parts[0]["reply_to_message"]["message_id"]  # an answer to the command
    assert all(p["text"].count("\n") >= 1 for p in parts[:-1])  # cut at line ends


async def test_staff_answering_the_part_of_a_relay_that_arrived_still_reach_the_rider(
    stage: Stage,
) -> None:
    """The rider's photo reached the group, its long words did not: the photo is still a
    way back to the rider, and the rider is told the words were not passed on."""
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.reply(card_of(stage, "dongguan"), text="请问在几号楼？"))
    question = rider.last_bot_message()
    under = len(stage.tg.bot_messages(stage.chats["dongguan"]))
    stage.tg.fail_next(
        "sendMessage",
        400,
        "Bad Request: not enough rights to send text messages to the chat",
        chat_id=stage.chats["dongguan"],
    )
    await stage.send(rider.reply(question, photo=jpeg(seed=9), caption="🛵" * 800))
    assert "没能转告社区" in rider.last_bot_message()["text"]  # and why, to try again
    (photo,) = stage.tg.bot_messages(stage.chats["dongguan"])[under:]
    assert "photo" in photo
    await stage.send(zhang.reply(photo, text="照片收到，文字没看到，请再说一次"))
    assert "照片收到" in rider.last_bot_message()["text"]
