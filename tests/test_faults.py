"""Telegram hiccups while a card is posted: what the rider, the staff and the supervisors see.

Transient failures (a 502 from Telegram's frontends, a timeout, flood control) are retried
until the card arrives where it belongs; only a chat that refuses for good sends the card to
the supervisors, and the rider is told where it really went.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.tables import reports
from tests.conftest import IN_XIGUAN, Stage
from tests.fake_telegram import Person
from tests.images import jpeg


async def ready_to_submit(
    stage: Stage, rider: Person, point: Any = IN_XIGUAN, category: str = "🚨 社会治安"
) -> dict:
    """Photo, location, category: the summary with its Submit button."""
    await stage.send(rider.photo(jpeg(), caption="路口井盖破损"))
    await stage.send(rider.location(point.lat, point.lon))
    await stage.send(rider.press(rider.last_bot_message(), category))
    return rider.last_bot_message()


def card_parts(stage: Stage, community: str) -> list[str]:
    """What a dispatcher chat shows from the bot, message by message (a photo whose caption
    is the whole card is the card)."""
    kinds = []
    for m in stage.chat_messages(community):
        caption = m.get("caption", "")
        if "photo" in m and "工单 #" in caption and "\n" in caption:
            kinds.append("card")
        elif "photo" in m:
            kinds.append("photo")
        elif "location" in m:
            kinds.append("pin")
        elif "工单 #" in m.get("text", ""):
            kinds.append("card")
        else:
            kinds.append(m.get("text", "?"))
    return kinds


async def status(stage: Stage, ticket: int = 1) -> str:
    async with stage.services.db.transaction() as conn:
        query = select(reports.c.status).where(reports.c.id == ticket)
        return (await conn.execute(query)).scalar_one()


async def test_one_bad_gateway_on_the_photo_is_retried_and_the_card_arrives(stage: Stage) -> None:
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    stage.tg.bad_gateway("sendPhoto")
    await stage.send(rider.press(summary, "✅ 提交"))
    assert card_parts(stage, "xiguan") == ["card"]
    assert stage.chat_messages("supervisors") == []
    assert "已派往「西关社区」" in rider.last_bot_message()["text"]
    assert stage.waits == [1.0]  # one retry, after a short pause
    assert await status(stage) == "dispatched"


async def test_a_timeout_before_telegram_saw_the_card_leaves_no_orphan(stage: Stage) -> None:
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    stage.tg.lose_response("sendPhoto", applied=False, chat_id=stage.chats["xiguan"])
    await stage.send(rider.press(summary, "✅ 提交"))
    # The card (the photo with its words) arrives once; nothing goes to the supervisors.
    assert card_parts(stage, "xiguan") == ["card"]
    assert stage.chat_messages("supervisors") == []
    assert "已派往「西关社区」" in rider.last_bot_message()["text"]


async def test_a_lost_answer_after_telegram_applied_it_may_duplicate(stage: Stage) -> None:
    """Telegram has no idempotency key: a lost answer means a second card; it is counted."""
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    stage.tg.lose_response("sendPhoto", applied=True, chat_id=stage.chats["xiguan"])
    await stage.send(rider.press(summary, "✅ 提交"))
    assert card_parts(stage, "xiguan") == ["card", "card"]
    steady = stage.app.bot_data["courier"].bot
    assert steady.maybe_duplicated == 1
    # The card the bot knows of works: its pin answers it, and its buttons act.
    messages = stage.chat_messages("xiguan")
    staff = stage.tg.person("西关值班员")
    stage.tg.add_member(stage.chats["xiguan"], staff)
    await stage.send(staff.press(messages[1], "📍 位置"))
    pin = stage.chat_messages("xiguan")[-1]
    assert pin["reply_to_message"]["message_id"] == messages[1]["message_id"]
    await stage.send(staff.press(messages[1], "✋ 受理"))
    assert await status(stage) == "accepted"


async def test_flood_control_waits_as_long_as_telegram_says(stage: Stage) -> None:
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    stage.tg.flood("sendPhoto", retry_after=7)
    await stage.send(rider.press(summary, "✅ 提交"))
    assert card_parts(stage, "xiguan") == ["card"]
    assert stage.waits == [7.0]
    assert "已派往「西关社区」" in rider.last_bot_message()["text"]


async def test_a_long_outage_keeps_the_card_for_its_community(stage: Stage) -> None:
    """Telegram down for a while: no fallback (a 502 passes); the card is retried, with
    growing waits, until it is in its community's chat, once."""
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    stage.tg.bad_gateway("sendPhoto", times=12)
    await stage.send(rider.press(summary, "✅ 提交"))
    await stage.until(lambda: card_parts(stage, "xiguan") == ["card"])
    await stage.delivered()
    assert card_parts(stage, "xiguan") == ["card"]
    assert stage.chat_messages("supervisors") == []
    assert all(w <= 10 for w in stage.waits)  # each try bounded; the outbox waits between
    assert await status(stage) == "dispatched"
    # The rider's ticket says where the report went.
    assert "已派往「西关社区」" in rider.last_bot_message()["text"]


async def test_bot_kicked_from_the_group_sends_the_card_to_the_supervisors(stage: Stage) -> None:
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    stage.tg.set_bot_status(stage.chats["xiguan"], "kicked")
    await stage.send(rider.press(summary, "✅ 提交"))
    sup = stage.chat_messages("supervisors")
    assert (
        "无法送达「西关社区」的群（Forbidden: bot was kicked from the supergroup chat）"
        in (sup[0]["text"])
    )
    assert card_parts(stage, "supervisors")[1:] == ["card"]
    assert stage.waits == []  # a permanent refusal is not retried
    told = rider.last_bot_message()["text"]
    assert "「西关社区」的群暂时无法接收，已转交「壶关县网格化服务管理中心」" in told
    assert "已派往「西关社区」" not in told


async def test_a_rider_who_blocked_the_bot_still_gets_the_card_posted(stage: Stage) -> None:
    """Sends to the rider fail with 403 (never retried); the report still reaches its chat."""
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    stage.tg.block_bot(rider.id)
    await stage.send(rider.press(summary, "✅ 提交"))
    assert card_parts(stage, "xiguan") == ["card"]
    assert stage.waits == []
    assert "工单号" not in (rider.last_bot_message() or {}).get("text", "")
    assert await status(stage) == "dispatched"
