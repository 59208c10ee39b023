"""Bad input gets a clear answer and loses nothing; drafts survive restarts and expire."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from handlers.telegram import jobs
from handlers.telegram.context import SuishouContext
from storage.tables import drafts, reports, riders
from tests.conftest import (
    FAR_AWAY,
    IN_DONGGUAN,
    FakeClock,
    Stage,
    make_config,
    make_world,
    start_app,
    stop_app,
    words,
)
from tests.fake_telegram import FakeTelegram
from tests.images import jpeg
from tests.shared_data import shared_real
from tests.test_rider_intake import buttons, report_quickly


async def test_text_while_a_photo_is_awaited_becomes_the_note(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.text("消防通道被三轮车占用"))
    reply = rider.last_bot_message()["text"]
    assert "文字已记为备注" in reply and "请拍一张现场照片" in reply
    await stage.send(rider.photo(jpeg()))
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🔥 消防安全"))
    assert "备注：消防通道被三轮车占用" in rider.last_bot_message()["text"]


async def test_files_that_are_not_usable_photos(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(
        rider.document(b"%PDF-1.4 not a photo", file_name="a.pdf", mime_type="application/pdf")
    )
    assert "不是图片" in rider.last_bot_message()["text"]

    await stage.send(
        rider.document(
            jpeg(), file_name="huge.jpg", mime_type="image/jpeg", file_size=25 * 1024 * 1024
        )
    )
    assert "照片太大（超过 20 MB）" in rider.last_bot_message()["text"]

    truncated = jpeg(1200, 900)[:3000]
    await stage.send(rider.document(truncated, file_name="broken.jpg", mime_type="image/jpeg"))
    assert "已损坏" in rider.last_bot_message()["text"]

    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")  # tiny file, 400 megapixels
    await stage.send(rider.document(bomb.getvalue(), file_name="x.png", mime_type="image/png"))
    assert "尺寸过大" in rider.last_bot_message()["text"]

    await stage.send(rider.document(b"hello", file_name="fake.jpg", mime_type="image/jpeg"))
    assert "打不开" in rider.last_bot_message()["text"]

    # None of that left a photo in the draft; a real photo still works afterwards.
    await stage.send(rider.photo(jpeg()))
    assert "已收到 1 张照片" in rider.last_bot_message()["text"]


async def test_forwarded_photos_are_not_evidence(stage: Stage) -> None:
    rider = stage.person()
    other = stage.person("李四")
    await stage.send(rider.photo(jpeg(), forward_from=other.user))
    assert "转发的图片无法作为上报依据" in rider.last_bot_message()["text"]


async def test_reports_are_made_in_private_not_in_a_group(stage: Stage) -> None:
    rider = stage.person()
    group = stage.tg.new_group("骑手交流群", members=[rider.user])
    await stage.send(rider.command("/report@suishou_test_bot", chat=group))
    answer = stage.tg.bot_messages(group["id"])[-1]
    assert "上报请私聊我" in answer["text"]
    url = answer["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert url == "https://t.me/suishou_test_bot?start=report"


async def test_stickers_and_voice_get_an_explanation(stage: Stage) -> None:
    rider = stage.person()
    update = rider.text("x")
    message = update["message"]
    del message["text"]
    message["sticker"] = {
        "file_id": "s1",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    await stage.send(update)
    assert "暂不支持这种消息" in rider.last_bot_message()["text"]


async def test_real_phone_photo_from_italy_is_routed_to_the_supervisors(stage: Stage) -> None:
    rider = stage.person()
    data = shared_real("DSCN0010.jpg").read_bytes()
    await stage.send(rider.document(data, file_name="DSCN0010.jpg", mime_type="image/jpeg"))
    await stage.send(rider.press(rider.last_bot_message(), "🧹 环境卫生"))
    summary = rider.last_bot_message()["text"]
    assert "43.46745, 11.88513（照片定位）" in summary
    assert "不在任何社区的服务范围内" in summary


async def test_a_draft_survives_a_restart(
    tmp_path: Path, tg: FakeTelegram, clock: FakeClock
) -> None:
    chats, topics = make_world(tg)
    config = make_config(tmp_path, chats, topics)
    rider = tg.person("赵六")
    first = await start_app(config, tg, clock)
    stage = Stage(tg, config, first, clock, chats, topics)
    await stage.send(rider.photo(jpeg(), caption="井盖缺失"))
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    category_prompt = rider.last_bot_message()
    await stop_app(first)

    second = await start_app(config, tg, clock)
    stage.app = second
    try:
        await stage.send(rider.press(category_prompt, "🚨 社会治安"))
        await stage.send(rider.press(rider.last_bot_message(), "✅ 提交"))
        assert "工单号 #1" in rider.last_bot_message()["text"]
        card = next(m for m in stage.chat_messages("dongguan") if "工单 #" in words(m))
        assert "备注：井盖缺失" in words(card)
    finally:
        await stop_app(second)


async def test_drafts_expire_with_a_notice(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.photo(jpeg()))
    await stage.send(rider.location(FAR_AWAY.lat, FAR_AWAY.lon))
    category_prompt = rider.last_bot_message()
    stage.clock.advance(minutes=119)
    await jobs.expire_drafts(_job_context(stage))
    await stage.delivered()
    assert rider.last_bot_message()["message_id"] == category_prompt["message_id"]
    stage.clock.advance(minutes=2)
    await jobs.expire_drafts(_job_context(stage))
    await stage.delivered()
    assert "超过 120 分钟没有提交，已自动作废" in rider.last_bot_message()["text"]
    await stage.send(rider.press(category_prompt, "🧹 环境卫生"))
    assert stage.tg.callback_answers[-1]["text"] == "这个草稿已过期，请重新拍照上报。"
    async with stage.services.db.transaction() as conn:
        assert (await conn.execute(select(drafts.c.status))).scalars().all() == ["expired"]
        assert (await conn.execute(select(reports))).all() == []


def _job_context(stage: Stage) -> SuishouContext:
    """The context a JobQueue callback receives."""
    return SuishouContext(stage.app)


async def test_cancel_and_edit(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.photo(jpeg()))
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🧹 环境卫生"))
    summary = rider.last_bot_message()
    await stage.send(rider.press(summary, "✏️ 修改"))
    assert buttons(stage.tg.message(rider.id, summary["message_id"]))[:2] == [
        "📷 重拍照片",
        "📍 重新定位",
    ]
    await stage.send(rider.press(summary, "🏷 更换类别"))
    await stage.send(rider.press(summary, "🚨 社会治安"))
    assert "类别：🚨 社会治安" in stage.tg.message(rider.id, summary["message_id"])["text"]
    await stage.send(rider.press(summary, "✏️ 修改"))
    await stage.send(rider.press(summary, "📝 修改备注"))
    await stage.send(rider.text("路灯不亮，晚上很黑"))
    new_summary = rider.last_bot_message()
    assert "备注：路灯不亮，晚上很黑" in new_summary["text"]
    await stage.send(rider.command("/cancel"))
    assert "已取消本次上报" in rider.last_bot_message()["text"]
    await stage.send(rider.press(new_summary, "✅ 提交"))
    assert stage.tg.callback_answers[-1]["text"] == "这次上报已取消。"
    async with stage.services.db.transaction() as conn:
        assert (await conn.execute(select(reports))).all() == []


async def test_registration_and_anonymous_card(stage: Stage) -> None:
    rider = stage.person("Zhang")
    await stage.send(rider.command("/start"))
    assert "先报个到" in rider.last_bot_message()["text"]
    await stage.send(rider.text("张师傅"))
    ask_platform = rider.last_bot_message()
    assert buttons(ask_platform) == ["美团", "饿了么", "顺丰", "京东", "其他"]
    await stage.send(rider.press(ask_platform, "美团"))
    ask_phone = rider.last_bot_message()
    assert ask_phone["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    await stage.send(rider.contact("+86 139 1234 5678"))
    assert "报到完成" in rider.last_bot_message()["text"]
    async with stage.services.db.transaction() as conn:
        row = (await conn.execute(select(riders))).one()
    assert (row.display_name, row.platform, row.phone) == (
        "张师傅",
        "meituan",
        "+86 139 1234 5678",
    )
    assert row.registered_at is not None
    await report_quickly(stage, rider)
    card = words(next(m for m in stage.chat_messages("dongguan") if "工单 #" in words(m)))
    assert "上报人：骑手 #0001 · 美团" in card
    assert "1234" not in card and "张师傅" not in card and "Zhang" not in card


async def test_someone_elses_contact_is_not_taken_as_the_phone(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.command("/start"))
    await stage.send(rider.press(rider.last_bot_message(), "就叫我「王师傅」"))
    await stage.send(rider.press(rider.last_bot_message(), "其他"))
    await stage.send(rider.contact("13800000000", own=False))
    assert "请分享你自己的手机号" in rider.last_bot_message()["text"]
    await stage.send(rider.text("跳过"))
    assert "报到完成" in rider.last_bot_message()["text"]


async def test_english_rider(stage: Stage) -> None:
    rider = stage.person("Tom", language_code="en")
    await stage.send(rider.photo(jpeg()))
    assert "Tap “Send location”" in rider.last_bot_message()["text"]
    await stage.send(rider.command("/lang"))
    await stage.send(rider.press(rider.last_bot_message(), "中文"))
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    assert "请选择问题类别" in rider.last_bot_message()["text"]


async def test_command_menus_are_set_in_both_languages(stage: Stage) -> None:
    scope = {"type": "all_private_chats"}
    zh = stage.tg.commands(scope=scope, language_code=None)
    en = stage.tg.commands(scope=scope, language_code="en")
    assert [c["command"] for c in zh] == [
        "report",
        "my",
        "me",
        "link",
        "cancel",
        "lang",
        "help",
        "start",
    ]
    assert zh[0]["description"] == "上报隐患" and en[0]["description"] == "Report a hazard"
    staff = stage.tg.commands(scope={"type": "all_group_chats"}, language_code=None)
    assert [c["command"] for c in staff] == [
        "stats",
        "digest",
        "ticket",
        "export",
        "web",
        "chatid",
    ]


async def test_unreachable_community_chat_falls_back_to_the_supervisors(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.photo(jpeg()))
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🔥 消防安全"))
    stage.tg.fail_next("sendPhoto", 403, "Forbidden: bot was kicked from the supergroup chat")
    await stage.send(rider.press(rider.last_bot_message(), "✅ 提交"))
    assert "工单号 #1" in rider.last_bot_message()["text"]
    sup = stage.chat_messages("supervisors")
    assert "无法送达「东关社区」的群（Forbidden: bot was kicked" in sup[0]["text"]
    assert any("工单 #1" in words(m) for m in sup)
    assert stage.chat_messages("dongguan") == []


async def test_a_note_after_start_is_not_taken_as_a_name(stage: Stage) -> None:
    rider = stage.person("王师傅")
    await stage.send(rider.command("/start"))  # asks for a display name...
    await stage.send(rider.photo(jpeg()))  # ...but the rider reports straight away
    await stage.send(rider.text("消防通道被堵"))
    assert "备注已记下" in rider.last_bot_message()["text"]
    async with stage.services.db.transaction() as conn:
        assert (await conn.execute(select(riders.c.display_name))).scalar_one() == "王师傅"
        assert (await conn.execute(select(drafts.c.note))).scalar_one() == "消防通道被堵"


async def test_a_caption_survives_a_refused_photo(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(
        rider.document(b"%PDF", file_name="x.jpg", mime_type="image/jpeg", caption="东门垃圾堆")
    )
    async with stage.services.db.transaction() as conn:
        assert (await conn.execute(select(drafts.c.note))).scalar_one() == "东门垃圾堆"


async def test_a_card_that_cannot_be_posted_anywhere_is_retried(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.photo(jpeg()))
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🔥 消防安全"))
    stage.tg.fail_next(
        "sendPhoto", 403, "Forbidden: bot was kicked from the supergroup chat", times=2
    )
    await stage.send(rider.press(rider.last_bot_message(), "✅ 提交"))
    # Refused by the community's chat and by the supervisors': the ticket says only that it
    # is on its way, and the report waits for the sweep to try again.
    assert "正在派往「东关社区」" in rider.last_bot_message()["text"]
    async with stage.services.db.transaction() as conn:
        assert (await conn.execute(select(reports.c.status))).scalar_one() == "submitted"
    assert (await stage.sweep())["redispatched"] == 0  # the submit may still post
    stage.clock.advance(minutes=3)
    done = await stage.sweep()
    assert done["redispatched"] == 1
    assert any("工单 #1 ·" in words(m) for m in stage.chat_messages("dongguan"))
    async with stage.services.db.transaction() as conn:
        assert (await conn.execute(select(reports.c.status))).scalar_one() == "dispatched"


async def test_an_unknown_command_gets_the_help(stage: Stage) -> None:
    rider = stage.person()
    await stage.send(rider.command("/foo"))
    assert "随手反馈 · 使用说明" in rider.last_bot_message()["text"]
