"""A rider who blocked the bot: staff are told only what is true, and the card says so.

Played through the fake Telegram: the rider blocks the bot after reporting, staff accept,
resolve and reject; what staff read on the card and in the bot's answers must match what
reached the rider. Notices are delivered after staff are answered (the outbox), so the
first refusal is told under the card when it happens, and every later answer says it at
once. The warning goes once the rider writes to the bot again.
"""

from __future__ import annotations

from tests.conftest import Stage, words
from tests.test_casework import accept, card_of, reported, resolve, staff_of
from tests.test_delivery import staff_answer

WARNING = "⚠️ 骑手已无法联系（已停用机器人），收不到通知"


UNDELIVERED = "⚠️ 工单 #{ticket} 的通知没有送达骑手：骑手已停用机器人，收不到消息。"


def toast(stage: Stage) -> str:
    return stage.tg.callback_answers[-1]["text"]


def told_under_the_card(stage: Stage, ticket: int = 1) -> int:
    """How often staff were told a notice of this ticket did not reach its rider."""
    warning = UNDELIVERED.format(ticket=ticket)
    return sum(words(m) == warning for m in stage.chat_messages("dongguan"))


async def test_staff_see_on_the_card_that_a_blocked_rider_cannot_be_reached(
    stage: Stage,
) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    assert WARNING not in words(card_of(stage, "dongguan"))
    stage.tg.block_bot(rider.id)
    await accept(stage, zhang)
    assert toast(stage) == "已受理 #1"  # claims nothing about the rider
    card = words(card_of(stage, "dongguan"))
    assert WARNING in card and "处理中（张三）" in card
    assert told_under_the_card(stage) == 1  # the accept notice was refused
    await resolve(stage, zhang, "已清理")
    answer = staff_answer(stage)
    assert answer == "✅ 工单 #1 已办结，但骑手已停用机器人，收不到办结通知，无法请其确认。"
    assert WARNING in words(card_of(stage, "dongguan"))


async def test_rejecting_for_a_blocked_rider_does_not_say_the_rider_was_told(
    stage: Stage,
) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    stage.tg.block_bot(rider.id)
    await stage.send(zhang.press(card_of(stage, "dongguan"), "⛔ 驳回"))
    await stage.send(zhang.press(card_of(stage, "dongguan"), "不属于隐患"))
    # Not known yet when staff pressed: they hear it under the card once it is refused.
    assert toast(stage) == "工单 #1 已驳回，正在通知骑手。"
    assert told_under_the_card(stage) == 1
    card = words(card_of(stage, "dongguan"))
    assert "已驳回" in card and WARNING in card


async def test_a_duplicate_rejected_for_a_blocked_rider_says_it_was_not_delivered(
    stage: Stage,
) -> None:
    await reported(stage, name="甲")
    second = await reported(stage, name="乙")  # #2, same spot: staff mark it a duplicate
    zhang = staff_of(stage, "dongguan", "张三")
    stage.tg.block_bot(second.id)
    await stage.send(zhang.press(card_of(stage, "dongguan", 2), "⛔ 驳回"))
    await stage.send(zhang.press(card_of(stage, "dongguan", 2), "重复工单"))
    prompt = stage.tg.bot_messages(stage.chats["dongguan"])[-1]
    await stage.send(zhang.reply(prompt, text="1"))
    assert told_under_the_card(stage, 2) == 1
    # Telling the rider of #1 worked: that card makes no such claim.
    assert WARNING not in words(card_of(stage, "dongguan", 1))


async def test_reachable_riders_are_told_and_staff_hear_so(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press(card_of(stage, "dongguan"), "⛔ 驳回"))
    await stage.send(zhang.press(card_of(stage, "dongguan"), "信息不足"))
    assert toast(stage) == "工单 #1 已驳回，正在通知骑手。"
    assert told_under_the_card(stage) == 0
    assert "未予受理：信息不足" in rider.last_bot_message()["text"]
    assert WARNING not in words(card_of(stage, "dongguan"))


async def test_the_warning_goes_when_the_rider_writes_again(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    stage.tg.block_bot(rider.id)
    await accept(stage, zhang)
    assert WARNING in words(card_of(stage, "dongguan"))
    stage.tg.unblock_bot(rider.id)
    await stage.send(rider.command("/my"))
    assert WARNING not in words(card_of(stage, "dongguan"))
    await resolve(stage, zhang, "已清理")
    assert staff_answer(stage) == "✅ 工单 #1 已办结，正在请骑手确认；没有送达会在这里告诉你。"
    assert "问题解决了吗" in rider.last_bot_message()["text"]


async def test_a_passing_failure_does_not_mark_the_rider_unreachable(stage: Stage) -> None:
    """Only a refusal for good (blocked, deleted) warns staff; a bad request says nothing
    about the rider."""
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press(card_of(stage, "dongguan"), "⛔ 驳回"))
    stage.tg.fail_next("sendMessage", 400, "Bad Request: TOPIC_CLOSED", chat_id=rider.id)
    await stage.send(zhang.press(card_of(stage, "dongguan"), "不属于隐患"))
    said = [words(m) for m in stage.chat_messages("dongguan")]
    assert "⚠️ 工单 #1 的通知没有送达骑手（Topic_closed）。" in said
    assert WARNING not in words(card_of(stage, "dongguan"))
