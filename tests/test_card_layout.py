"""A lighter card: one photo is one message (photo, words as caption, buttons); the pin on request.

Telegram allows 20 messages a minute into a group, so a card of one message instead of three
triples what a busy community receives. Every card stays readable (a caption holds 1024
UTF-16 units: a longer card comes as photo + text, and a caption that grows sheds its oldest
history lines, naming /ticket) and actionable (its buttons always stay).
"""

from __future__ import annotations

from bot.messages import Reply
from tests.conftest import IN_DONGGUAN, Stage, words
from tests.fake_telegram.html import utf16_len
from tests.images import jpeg
from tests.test_casework import accept, card_of, reported, staff_of
from tests.test_rider_intake import buttons, report_quickly


async def test_the_pin_comes_under_the_card_at_most_once_a_minute(
    stage: Stage,
) -> None:
    rider = await reported(stage)
    card = card_of(stage, "dongguan")
    assert "photo" in card and len(stage.chat_messages("dongguan")) == 1
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press(card, "📍 位置"))
    await stage.send(zhang.press(card, "📍 位置"))  # again at once: not a second pin
    pins = [m for m in stage.chat_messages("dongguan") if "location" in m]
    assert len(pins) == 1 and pins[0]["reply_to_message"]["message_id"] == card["message_id"]
    assert stage.tg.callback_answers[-1]["text"] == "📍 位置刚刚发过，见卡片下方"
    stage.clock.advance(minutes=1, seconds=1)
    await stage.send(zhang.press(card, "📍 位置"))
    assert len([m for m in stage.chat_messages("dongguan") if "location" in m]) == 2
    # A reply to the pin reaches the rider, as a reply to the card does.
    await stage.send(zhang.reply(pins[0], text="到楼下了，哪个单元？"))
    assert "到楼下了，哪个单元？" in rider.last_bot_message()["text"]


async def test_a_card_too_long_for_a_caption_comes_as_photo_and_text(stage: Stage) -> None:
    rider = stage.person()
    note = "楼道" * 500  # the longest note a rider can give: 1000 characters
    await report_quickly(stage, rider, caption=note)
    photo, card = stage.chat_messages("dongguan")
    assert photo["caption"] == "工单 #1 · 🔥 消防安全" and "reply_markup" not in photo
    assert note in card["text"] and buttons(card) == ["✋ 受理", "↪️ 转派", "⛔ 驳回", "📍 位置"]
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)  # edited as a text: nothing cut
    card = card_of(stage, "dongguan")
    assert "状态：处理中（张三）" in card["text"] and note in card["text"]
    assert all(c.status == 200 for c in stage.tg.calls_to("editMessageText"))
    assert stage.tg.calls_to("editMessageCaption") == []
    await stage.send(zhang.press(card, "📍 位置"))
    pin = stage.chat_messages("dongguan")[-1]
    assert "location" in pin and pin["reply_to_message"]["message_id"] == card["message_id"]


async def test_a_growing_caption_sheds_old_history_and_keeps_its_buttons(stage: Stage) -> None:
    rider = stage.person()
    await report_quickly(stage, rider, caption="电" * 650)  # fits a caption, with little room
    card = card_of(stage, "dongguan")
    assert "photo" in card and "电" * 650 in card["caption"]
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    for n in range(4):  # long messages to the rider each add a history line
        await stage.send(zhang.reply(card_of(stage, "dongguan"), text=f"{n}号" + "问" * 100))
    card = card_of(stage, "dongguan")
    shown = card["caption"]
    assert utf16_len(shown) <= 1024 and "电" * 650 in shown
    assert "状态：处理中（张三）" in shown and "更早的记录：/ticket 1" in shown
    assert "3号" in shown and "0号" not in shown  # the newest lines stay
    assert buttons(card) == ["✅ 办结", "↪️ 转派", "⛔ 驳回", "📍 位置"]
    edits = stage.tg.calls_to("editMessageCaption")
    group = stage.chats["dongguan"]
    assert edits and not [
        c for c in stage.tg.calls_to("editMessageText") if c.params["chat_id"] == group
    ]
    assert all(c.status == 200 for c in edits)
    # /ticket shows what the card left out.
    await stage.send(zhang.command("/ticket 1", chat=stage.tg.chat(stage.chats["dongguan"])))
    assert "0号" in stage.chat_messages("dongguan")[-1]["text"]


async def test_an_album_keeps_its_card_and_the_pin_comes_on_request(stage: Stage) -> None:
    rider = stage.person()
    for i in range(2):
        await stage.send(
            rider.photo(jpeg(seed=i), media_group_id="a", caption="两张" if i else None)
        )
    await stage.settle()
    await stage.send(rider.location(IN_DONGGUAN.lat, IN_DONGGUAN.lon))
    await stage.send(rider.press(rider.last_bot_message(), "🧹 环境卫生"))
    await stage.send(rider.press(rider.last_bot_message(), "✅ 提交"))
    first, second, card = stage.chat_messages("dongguan")
    assert first["media_group_id"] == second["media_group_id"] and "text" in card
    assert buttons(card)[-1] == "📍 位置"
    zhang = staff_of(stage, "dongguan", "张三")
    await stage.send(zhang.press(card, "📍 位置"))
    assert (
        stage.chat_messages("dongguan")[-1]["reply_to_message"]["message_id"]
        == (card["message_id"])
    )


async def test_an_edit_of_the_wrong_kind_is_made_the_right_way(stage: Stage) -> None:
    """A text edit of a photo is refused by Telegram; the outbox then edits the caption."""
    await reported(stage)
    card = card_of(stage, "dongguan")
    courier = stage.services.courier
    await courier.edit(card["chat"]["id"], card["message_id"], Reply("改过的说明"), caption=False)
    refused = stage.tg.calls_to("editMessageText")[-1]
    assert refused.response["description"] == (
        "Bad Request: there is no text in the message to edit"
    )
    assert words(stage.tg.message(card["chat"]["id"], card["message_id"])) == "改过的说明"
    # The same edit again is "not modified": no error reaches the application.
    await courier.edit(card["chat"]["id"], card["message_id"], Reply("改过的说明"), caption=True)
    assert "not modified" in stage.tg.calls_to("editMessageCaption")[-1].response["description"]


async def test_a_transferred_photo_card_says_where_it_went_in_its_caption(stage: Stage) -> None:
    await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    old = card_of(stage, "dongguan")
    await stage.send(zhang.press(old, "↪️ 转派"))
    await stage.send(zhang.press(card_of(stage, "dongguan"), "西关社区"))
    moved = stage.tg.message(old["chat"]["id"], old["message_id"])
    assert "photo" in moved and moved["caption"] == "↪️ 工单 #1 已转派至「西关社区」。"
    assert buttons(moved) == []
    # Every edit of the photo card was a caption edit: none was refused.
    group = stage.chats["dongguan"]
    assert not [c for c in stage.tg.calls_to("editMessageText") if c.params["chat_id"] == group]
    assert all(c.status == 200 for c in stage.tg.calls_to("editMessageCaption"))
    new = card_of(stage, "xiguan")
    assert "photo" in new and buttons(new)[-1] == "📍 位置"
