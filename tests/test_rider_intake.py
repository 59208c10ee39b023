"""A rider reports a hazard from the private chat; the card lands in the right community.

Everything goes through the real Application and the fake Telegram: what a rider sees
is read back from the fake's transcript, what staff see from the dispatcher chats.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from storage.tables import card_messages, events, reports
from tests.conftest import (
    FAR_AWAY,
    IN_DONGGUAN,
    NEAR_NANJIE,
    NORTH_OF_TOWN,
    Stage,
    words,
)
from tests.images import jpeg


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def keyboard(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("keyboard", []) for b in row]


async def count(stage: Stage, table: Any) -> int:
    async with stage.services.db.transaction() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def report_quickly(
    stage: Stage,
    rider: Any,
    point: Any = IN_DONGGUAN,
    category: str = "🔥 消防安全",
    caption: str | None = None,
) -> dict:
    """The common path: photo, location button, category button, Submit."""
    await stage.send(rider.photo(jpeg(), caption=caption))
    await stage.send(rider.location(point.lat, point.lon))
    await stage.send(rider.press(rider.last_bot_message(), category))
    summary = rider.last_bot_message()
    if "不是同一个，继续提交" in buttons(summary):  # a similar report is open nearby
        await stage.send(rider.press(summary, "不是同一个，继续提交"))
        summary = rider.last_bot_message()
    await stage.send(rider.press(summary, "✅ 提交"))
    return summary


async def test_three_actions_give_a_ticket_and_a_card_in_the_community_chat(stage: Stage) -> None:
    rider = stage.person("王师傅")
    await stage.send(rider.photo(jpeg(), caption="楼道里堆放电动车电池 <危险> & 堵塞"))
    ask_location = rider.last_bot_message()
    assert "发送位置" in ask_location["text"]
    assert keyboard(ask_location)[0]["request_location"] is True

    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    ask_category = rider.last_bot_message()
    assert buttons(ask_category) == ["🧹 环境卫生", "🔥 消防安全", "🚨 社会治安"]

    await stage.send(rider.press(ask_category, "🔥 消防安全"))
    summary = rider.last_bot_message()
    assert "类别：🔥 消防安全" in summary["text"]
    assert "将派往：东关社区" in summary["text"]
    assert "备注：楼道里堆放电动车电池 <危险> & 堵塞" in summary["text"]
    assert buttons(summary) == ["✅ 提交", "✏️ 修改", "✖️ 取消"]

    await stage.send(rider.press(summary, "✅ 提交"))
    done = rider.last_bot_message()
    assert "工单号 #1" in done["text"] and "东关社区" in done["text"]
    assert "处理期限 11月21日 14:00" in done["text"]  # 24 h for fire safety, Beijing time

    # One message: the photo, the card as its caption, its buttons (the pin on request).
    posted = stage.chat_messages("dongguan")
    assert [kind(m) for m in posted] == ["photo"]
    card = posted[0]
    text = card["caption"]
    assert "工单 #1" in text and "状态：待受理" in text and "归属：东关社区（辖区范围内）" in text
    assert "上报时间：11月20日 14:00" in text and "处理期限：11月21日 14:00（24小时内）" in text
    assert "备注：楼道里堆放电动车电池 <危险> & 堵塞" in text
    assert "上报人：骑手 #0001" in text
    assert "王师傅" not in text and str(rider.id) not in text
    links = [e["url"] for e in card.get("caption_entities", []) if e["type"] == "text_link"]
    assert links[0].startswith("https://www.openstreetmap.org/?mlat=36.1")
    assert links[1].startswith("https://uri.amap.com/marker?position=113.212")  # GCJ-02 again
    assert buttons(card) == ["✋ 受理", "↪️ 转派", "⛔ 驳回", "📍 位置"]
    staff = stage.tg.person("张三")
    stage.tg.add_member(stage.chats["dongguan"], staff)
    await stage.send(staff.press(card, "📍 位置"))
    assert stage.tg.callback_answers[-1]["text"] == "📍 已发送位置"
    pin = stage.chat_messages("dongguan")[-1]
    assert (
        pin["location"]["latitude"] == IN_DONGGUAN.lat.__round__(6)
        or abs(pin["location"]["latitude"] - IN_DONGGUAN.lat) < 1e-5
    )
    assert pin["reply_to_message"]["message_id"] == card["message_id"]
    # Nothing went to the other communities.
    assert stage.chat_messages("xiguan") == [] and stage.chat_messages("supervisors") == []

    async with stage.services.db.transaction() as conn:
        row = (await conn.execute(select(reports))).one()
        kinds = [r.kind for r in (await conn.execute(select(events))).all()]
        mapped = (await conn.execute(select(card_messages.c.kind))).scalars().all()
    assert (row.status, row.community_id, row.category) == ("dispatched", "dongguan", "fire")
    assert kinds == ["submitted", "dispatched"]
    assert sorted(mapped) == ["card", "location", "ticket"]  # the rider's ticket too


def kind(message: dict[str, Any]) -> str:
    for k in ("photo", "location", "text"):
        if k in message:
            return k
    return "other"


async def test_pressing_submit_twice_or_an_old_submit_makes_one_report(stage: Stage) -> None:
    rider = stage.person()
    summary = await report_quickly(stage, rider)
    await stage.send(rider.press_data(summary, "v1:d:1:submit"))
    assert stage.tg.callback_answers[-1]["text"] == "这份上报已经提交过了，工单号 #1。"
    await report_quickly(stage, rider, caption="第二处")
    await stage.send(rider.press_data(summary, "v1:d:1:submit"))  # the first draft's button
    assert await count(stage, reports) == 2
    assert "工单号 #1" in stage.tg.callback_answers[-1]["text"]


async def test_any_order_asks_only_for_what_is_missing(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.command("/report"))
    assert "请拍一张现场照片" in rider.last_bot_message()["text"]
    await stage.send(rider.location(NEAR_NANJIE.lat, NEAR_NANJIE.lon))
    assert "请拍一张现场照片" in rider.last_bot_message()["text"]
    await stage.send(rider.text("垃圾桶满溢"))
    reply = rider.last_bot_message()["text"]
    assert "文字已记为备注" in reply and "请拍一张现场照片" in reply
    await stage.send(rider.photo(jpeg()))
    assert buttons(rider.last_bot_message())[0] == "🧹 环境卫生"
    await stage.send(rider.press(rider.last_bot_message(), "🧹 环境卫生"))
    summary = rider.last_bot_message()
    assert "备注：垃圾桶满溢" in summary["text"] and "将派往：南街社区" in summary["text"]
    await stage.send(rider.press(summary, "✅ 提交"))
    # 南街 works in a forum topic: the card is there, not in the general chat.
    in_topic = stage.chat_messages("nanjie")
    assert len(in_topic) == 1 and all(
        m["message_thread_id"] == stage.topics["nanjie"] for m in in_topic
    )


async def test_an_album_is_one_report_with_one_answer(stage: Stage) -> None:
    rider = stage.person()
    for i in range(3):
        await stage.send(
            rider.photo(jpeg(seed=i), media_group_id="album-1", caption="三张" if i == 0 else None)
        )
    before = len(stage.tg.bot_messages(rider.id))
    await stage.settle()
    answers = stage.tg.bot_messages(rider.id)[before:]
    assert len(answers) == 1 and "已收到 3 张照片" in answers[0]["text"]
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🧹 环境卫生"))
    await stage.send(rider.press(rider.last_bot_message(), "✅ 提交"))
    album = [m for m in stage.chat_messages("dongguan") if "photo" in m]
    assert len(album) == 3 and len({m["media_group_id"] for m in album}) == 1
    assert album[0]["caption"] == "工单 #1 · 🧹 环境卫生"


async def test_more_photos_than_allowed_are_refused_with_a_reason(stage: Stage) -> None:
    rider = stage.person()
    for i in range(7):
        await stage.send(rider.photo(jpeg(seed=i), media_group_id="big"))
    await stage.settle()
    text = rider.last_bot_message()["text"]
    assert "已收到 5 张照片" in text and "最多 5 张照片" in text


async def test_photo_file_with_gps_supplies_the_location(stage: Stage) -> None:
    rider = stage.person()
    data = jpeg(1600, 1200, gps=(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.document(data, file_name="IMG_2001.jpg", mime_type="image/jpeg"))
    ask = rider.last_bot_message()
    assert "已从照片中读取拍摄位置" in ask["text"]
    assert buttons(ask)[1] == "🔥 消防安全"  # straight to the category
    await stage.send(rider.press(ask, "🔥 消防安全"))
    summary = rider.last_bot_message()["text"]
    assert "（照片定位）" in summary and "将派往：东关社区" in summary


async def test_photo_gps_with_impossible_minutes_is_no_location(stage: Stage) -> None:
    # 36° 999′ N used to be read as 52.65° N: a report from the wrong place, sent on.
    rider = stage.person()
    gps = {1: "N", 2: (36.0, 999.0, 0.0), 3: "E", 4: (113.0, 12.0, 43.56)}
    data = jpeg(1600, 1200, gps_ifd=gps)
    await stage.send(rider.document(data, file_name="IMG_2002.jpg", mime_type="image/jpeg"))
    ask = rider.last_bot_message()
    assert "已从照片中读取拍摄位置" not in ask["text"]
    assert "请点下方「发送位置」按钮" in ask["text"]
    assert ask["reply_markup"]["keyboard"][0][0]["request_location"] is True
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🔥 消防安全"))
    summary = rider.last_bot_message()["text"]
    assert "（照片定位）" not in summary and "将派往：东关社区" in summary


async def test_a_shared_location_wins_over_photo_gps(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.location(NEAR_NANJIE.lat, NEAR_NANJIE.lon))
    data = jpeg(gps=(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.document(data, file_name="a.jpg", mime_type="image/jpeg"))
    await stage.send(rider.press(rider.last_bot_message(), "🧹 环境卫生"))
    assert "将派往：南街社区" in rider.last_bot_message()["text"]


async def test_a_spot_no_community_covers_goes_to_the_supervisors(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.photo(jpeg()))
    await stage.send(rider.location(FAR_AWAY.lat, FAR_AWAY.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🚨 社会治安"))
    summary = rider.last_bot_message()
    assert "不在任何社区的服务范围内" in summary["text"]
    await stage.send(rider.press(summary, "✅ 提交"))
    assert "转交「壶关县网格化服务管理中心」" in rider.last_bot_message()["text"]
    card = next(m for m in stage.chat_messages("supervisors") if "工单 #1 ·" in words(m))
    assert "未覆盖区域" in words(card)


async def test_category_restricted_community(stage: Stage) -> None:
    rider = stage.person()
    await report_quickly(stage, rider, point=NORTH_OF_TOWN, category="🔥 消防安全")
    assert any("工单 #1" in words(m) for m in stage.chat_messages("fire_station"))
    await report_quickly(stage, rider, point=NORTH_OF_TOWN, category="🧹 环境卫生")
    assert any("工单 #2" in words(m) for m in stage.chat_messages("supervisors"))
    assert not any("工单 #2" in words(m) for m in stage.chat_messages("fire_station"))


async def test_two_simultaneous_submit_presses_make_one_report(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.photo(jpeg()))
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🧹 环境卫生"))
    summary = rider.last_bot_message()
    first, second = rider.press(summary, "✅ 提交"), rider.press(summary, "✅ 提交")
    await asyncio.gather(stage.send(first), stage.send(second))
    assert await count(stage, reports) == 1
    assert len([m for m in stage.chat_messages("dongguan") if "工单 #" in words(m)]) == 1
    answers = [a.get("text") for a in stage.tg.callback_answers[-2:]]
    assert "这份上报已经提交过了，工单号 #1。" in answers
