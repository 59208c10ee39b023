"""Staff actions need current membership of the desk's chat (issue 8, item 5).

Someone who left the dispatcher group may still read it (a public group, an open
client) and press its buttons. The bot asks Telegram (getChatMember) and remembers the
answer for a minute; a "left the group" message makes it ask again at once.
"""

from __future__ import annotations

from tests.conftest import Stage, words
from tests.test_casework import accept, card_of, event_kinds, last_alert, reported, row, staff_of
from tests.test_rider_intake import buttons

NOT_MEMBER = "只有本群的现任成员才能处理工单。"


def member_checks(stage: Stage) -> int:
    return len(stage.tg.calls_to("getChatMember"))


async def test_someone_who_left_can_no_longer_accept(stage: Stage) -> None:
    rider = await reported(stage)
    group = stage.chats["dongguan"]
    stage.tg.make_public(group, "dongguan_suishou")  # so a former member can still read it
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press(card_of(stage, "dongguan"), "↪️ 转派"))  # a member: allowed
    await stage.send(zhang.press(card_of(stage, "dongguan"), "↩️ 返回"))
    await stage.send(zhang.leave(group))  # Telegram tells the bot "张三 left the group"

    await stage.send(zhang.press(card_of(stage, "dongguan"), "✋ 受理"))
    assert last_alert(stage) == NOT_MEMBER
    card = card_of(stage, "dongguan")
    assert "状态：待受理" in words(card) and buttons(card)[0] == "✋ 受理"
    assert "受理" not in rider.last_bot_message()["text"]  # the rider was told nothing
    assert (await row(stage)).handler_id is None and "accepted" not in await event_kinds(stage)

    # Current members still work.
    li = staff_of(stage, "dongguan", "李四")
    await accept(stage, li)
    assert "状态：处理中（李四）" in words(card_of(stage, "dongguan"))


async def test_membership_is_remembered_briefly(stage: Stage) -> None:
    await reported(stage)
    group = stage.chats["dongguan"]
    stage.tg.make_public(group, "dongguan_suishou")
    zhang = staff_of(stage, "dongguan", "张三")
    before = member_checks(stage)
    for label in ("↪️ 转派", "↩️ 返回", "⛔ 驳回", "↩️ 返回"):
        await stage.send(zhang.press(card_of(stage, "dongguan"), label))
    assert member_checks(stage) - before == 1  # one question for four presses

    # 张三 leaves, and this time the bot never sees it (groups may hide join/leave messages).
    zhang.leave(group)
    stage.clock.advance(seconds=61)
    await stage.send(zhang.press(card_of(stage, "dongguan"), "✋ 受理"))
    assert last_alert(stage) == NOT_MEMBER
    assert member_checks(stage) - before == 2
    assert (await row(stage)).status == "dispatched"


async def test_a_restricted_member_still_works_but_one_who_left_does_not(stage: Stage) -> None:
    await reported(stage)
    group = stage.chats["dongguan"]
    stage.tg.make_public(group, "dongguan_suishou")
    muted = staff_of(stage, "dongguan", "禁言的同事")
    gone = staff_of(stage, "dongguan", "已退群的同事")
    stage.tg.restrict(group, muted, can_send_messages=False)
    stage.tg.restrict(group, gone, is_member=False)  # restricted, then left the group
    await stage.send(gone.press(card_of(stage, "dongguan"), "✋ 受理"))
    assert last_alert(stage) == NOT_MEMBER
    await accept(stage, muted)
    assert "状态：处理中（禁言的同事）" in words(card_of(stage, "dongguan"))


async def test_when_telegram_cannot_say_nothing_happens_and_nothing_is_remembered(
    stage: Stage,
) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    stage.tg.fail_next("getChatMember", 502, "Bad Gateway", times=3)  # each of its tries
    await stage.send(zhang.press(card_of(stage, "dongguan"), "✋ 受理"))
    assert last_alert(stage) == "暂时无法确认你是本群成员，请稍后再试。"
    assert (await row(stage)).status == "dispatched"
    await accept(stage, zhang)  # asked again, and this time Telegram answers
    assert "已被社区受理" in rider.last_bot_message()["text"]


async def test_one_failed_membership_question_is_asked_again_at_once(stage: Stage) -> None:
    """A single 502 from Telegram's frontends does not refuse a staff press."""
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    before = member_checks(stage)
    stage.tg.fail_next("getChatMember", 502, "Bad Gateway")
    await accept(stage, zhang)
    assert "已被社区受理" in rider.last_bot_message()["text"]
    assert member_checks(stage) - before == 2  # the failed question, and the one answered


async def test_a_reply_handled_after_its_sender_left_is_refused(stage: Stage) -> None:
    """Replies (to a prompt, or for the rider) are staff actions too.

    张三 answers the 办结 prompt and leaves right after; by the time the bot handles the
    answer (a minute later, say under load), Telegram says 张三 is gone.
    """
    rider = await reported(stage)
    group = stage.chats["dongguan"]
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    await stage.send(zhang.press(card_of(stage, "dongguan"), "✅ 办结"))
    prompt = stage.tg.bot_messages(group)[-1]
    answer = zhang.reply(prompt, text="已处理")
    relay = zhang.reply(card_of(stage, "dongguan"), text="请问具体位置？")
    zhang.leave(group)  # the bot does not see it (hidden join/leave messages)
    stage.clock.advance(seconds=61)
    await stage.send(answer)
    assert stage.tg.bot_messages(group)[-1]["text"] == NOT_MEMBER
    await stage.send(relay)
    assert stage.tg.bot_messages(group)[-1]["text"] == NOT_MEMBER
    assert (await row(stage)).status == "accepted"
    assert "已被社区受理" in rider.last_bot_message()["text"]  # nothing after that
