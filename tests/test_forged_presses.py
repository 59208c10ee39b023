"""Crafted button payloads change nothing (issue 8, item 3).

A Telegram client can send any callback data with a press on any message it can see. So
ids must be plain ASCII digits in range, a draft joins only the report it was offered, and
a staff button acts only from its own report's card.
"""

from __future__ import annotations

import logging

import pytest

from tests.conftest import IN_DONGGUAN, IN_XIGUAN, Stage, words
from tests.images import jpeg
from tests.test_casework import (
    accept,
    card_of,
    event_kinds,
    last_alert,
    reported,
    resolve,
    row,
    staff_of,
)
from tests.test_rider_intake import buttons, report_quickly

STALE = "这个按钮已失效，请按最新消息操作。"


@pytest.mark.parametrize(
    "data",
    [
        "v1:r:²:acc",  # str.isdigit() says yes, int() raises
        "v1:r:99999999999999999999:acc",  # beyond SQLite's integers
        "v1:r:١:acc",  # an Arabic-Indic one, which int() reads as ticket #1
    ],
)
async def test_odd_digits_are_refused_cleanly(
    stage: Stage, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    before = rider.last_bot_message()
    with caplog.at_level(logging.ERROR):
        await stage.send(zhang.press_data(card_of(stage, "dongguan"), data))
    assert "failed" not in caplog.text  # no crash on the way
    assert last_alert(stage) == STALE
    assert (await row(stage)).status == "dispatched"
    assert buttons(card_of(stage, "dongguan"))[0] == "✋ 受理"
    assert rider.last_bot_message() == before  # the rider heard nothing


async def test_odd_digits_in_the_riders_chat(stage: Stage) -> None:
    rider = await reported(stage)
    await accept(stage, staff_of(stage, "dongguan", "张三"))
    for data in ("v1:r:¹:fb:y", "v1:r:١:det", "v1:d:١:submit", "v1:u:١:lang:en"):
        await stage.send(rider.press_data(rider.last_bot_message(), data))
        assert stage.tg.callback_answers[-1]["text"] == STALE
    assert (await row(stage)).status == "accepted"


async def test_a_menu_press_cannot_rewrite_another_reports_card(stage: Stage) -> None:
    await reported(stage, name="甲")
    await reported(stage, name="乙")  # #2, also 东关's
    zhang = staff_of(stage, "dongguan", "张三")
    first, second = card_of(stage, "dongguan", 1), card_of(stage, "dongguan", 2)
    for data in ("v1:r:2:trm", "v1:r:2:rjm", "v1:r:2:back", "v1:r:2:acc", "v1:r:2:tr:xiguan"):
        await stage.send(zhang.press_data(first, data))
        assert last_alert(stage) == "这个按钮已失效。"
    now = stage.tg.message(first["chat"]["id"], first["message_id"])
    assert words(now) == words(first) and words(now).startswith("🆕 工单 #1 ·")
    assert buttons(now) == buttons(first)
    assert words(card_of(stage, "dongguan", 2)) == words(second)
    assert (await row(stage, 2)).status == "dispatched"
    assert "accepted" not in await event_kinds(stage, 2)
    # A press from a message that is not a card at all (the rider's relayed words) fails too.
    await stage.send(zhang.reply(first, text="请问在哪里？"))
    note = stage.tg.bot_messages(stage.chats["dongguan"])[-1]
    await stage.send(zhang.press_data(note, "v1:r:1:acc"))
    assert last_alert(stage) == "这个按钮已失效。"
    # From its own card, the same press works.
    await stage.send(zhang.press(card_of(stage, "dongguan", 2), "✋ 受理"))
    assert (await row(stage, 2)).handler_name == "张三"


async def test_the_riders_fixed_button_works_only_on_its_question(stage: Stage) -> None:
    rider = await reported(stage)
    zhang = staff_of(stage, "dongguan", "张三")
    await accept(stage, zhang)
    await resolve(stage, zhang, "已清理")
    question = rider.last_bot_message()
    await stage.send(rider.command("/my"))
    listing = rider.last_bot_message()
    await stage.send(rider.press_data(listing, "v1:r:1:fb:y"))
    assert stage.tg.callback_answers[-1]["show_alert"]
    assert stage.tg.message(rider.id, listing["message_id"])["text"] == listing["text"]
    assert (await row(stage)).status == "resolved"
    await stage.send(rider.press(question, "✅ 已解决"))
    assert (await row(stage)).status == "closed"


async def test_a_draft_joins_only_the_report_it_was_offered(stage: Stage) -> None:
    await reported(stage, name="东关的甲")  # #1, 东关
    west_rider = stage.person("西关的乙")
    await report_quickly(stage, west_rider, point=IN_XIGUAN, caption="西关的事")  # #2, 西关
    west_card = card_of(stage, "xiguan", 2)
    prier = stage.person("丙")
    await stage.send(prier.photo(jpeg(seed=9)))
    await stage.send(prier.location(IN_DONGGUAN.lat + 0.0005, IN_DONGGUAN.lon))
    await stage.send(prier.press(prier.last_bot_message(), "🔥 消防安全"))
    question = prier.last_bot_message()
    assert "附近已有同类问题：工单 #1" in question["text"]
    draft = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[2]

    await stage.send(prier.press_data(question, f"v1:d:{draft}:join:2"))
    assert last_alert(stage) == STALE
    assert "工单 #1" in prier.last_bot_message()["text"]  # still the honest question
    assert "另有" not in words(card_of(stage, "xiguan", 2))
    assert words(card_of(stage, "xiguan", 2)) == words(west_card)
    await stage.send(prier.command("/my"))
    assert "#2" not in prier.last_bot_message()["text"]
    assert "joined" not in await event_kinds(stage, 2)

    # The offered one can be joined, once.
    await stage.send(prier.press(question, "➕ 是同一个，加入 #1"))
    assert "已加入工单 #1" in stage.tg.message(prier.id, question["message_id"])["text"]
    assert "另有 1 名骑手确认" in words(card_of(stage, "dongguan", 1))
