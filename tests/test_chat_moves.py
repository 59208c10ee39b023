"""A community's group upgraded to a supergroup: cards follow it to its new chat id.

Telegram gives the upgraded group a new id and answers the old one with migrate_to_chat_id.
The bot keeps the move in the database, sends there from then on (after a restart too), lets
the staff work there, and tells the operator (log, `check-config`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main as cli
from tests.conftest import (
    FakeClock,
    Stage,
    make_config,
    make_world,
    start_app,
    stop_app,
    words,
)
from tests.fake_telegram import FakeTelegram
from tests.test_faults import card_parts, ready_to_submit, status

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


@pytest.fixture
async def basic(tmp_path: Path, tg: FakeTelegram, clock: FakeClock) -> AsyncIterator[Stage]:
    """The usual county, but 西关's dispatcher chat is a basic group (not yet upgraded)."""
    chats, topics = make_world(tg)
    chats["xiguan"] = tg.new_group("西关社区 随手反馈", supergroup=False)["id"]
    config = make_config(tmp_path, chats, topics)
    stage = Stage(tg, config, await start_app(config, tg, clock), clock, chats, topics)
    try:
        yield stage
    finally:
        await stop_app(stage.app)


def sent_to(tg: FakeTelegram, method: str) -> list[int]:
    return [int(c.params["chat_id"]) for c in tg.calls_to(method)]


async def test_a_card_follows_the_upgraded_group(
    basic: Stage, caplog: pytest.LogCaptureFixture
) -> None:
    stage, tg = basic, basic.tg
    old = stage.chats["xiguan"]
    new, _ = tg.upgrade_to_supergroup(old)  # the bot missed the service messages
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    with caplog.at_level(logging.WARNING):
        await stage.send(rider.press(summary, "✅ 提交"))
    stage.chats["xiguan"] = new
    assert card_parts(stage, "xiguan") == ["card"]
    assert stage.chat_messages("supervisors") == []
    assert "已派往「西关社区」" in rider.last_bot_message()["text"]
    assert any(
        "upgraded to a supergroup" in r.getMessage() and getattr(r, "new_chat", None) == new
        for r in caplog.records
    )
    # Staff work in the new supergroup: their presses count.
    staff = tg.person("西关值班员")
    tg.add_member(new, staff)
    card = next(m for m in stage.chat_messages("xiguan") if "工单 #1" in words(m))
    await stage.send(staff.press(card, "✋ 受理"))
    assert await status(stage) == "accepted"
    assert "西关值班员" in words(tg.message(new, card["message_id"]))

    # After a restart the bot goes straight to the new id: the old one is never tried again.
    await stop_app(stage.app)
    stage.app = await start_app(stage.config, tg, stage.clock)
    tried_old = sent_to(tg, "sendPhoto").count(old)
    second = stage.person("李师傅")
    summary = await ready_to_submit(stage, second, category="🧹 环境卫生")
    await stage.send(second.press(summary, "✅ 提交"))
    assert sent_to(tg, "sendPhoto").count(old) == tried_old
    assert len([m for m in stage.chat_messages("xiguan") if "工单 #2" in words(m)]) == 1


async def test_the_migration_service_messages_are_enough(basic: Stage) -> None:
    stage, tg = basic, basic.tg
    old = stage.chats["xiguan"]
    new, updates = tg.upgrade_to_supergroup(old)
    for update in updates:
        await stage.send(update)
    rider = stage.person()
    summary = await ready_to_submit(stage, rider)
    await stage.send(rider.press(summary, "✅ 提交"))
    assert old not in sent_to(tg, "sendPhoto")  # no failed try first
    stage.chats["xiguan"] = new
    assert card_parts(stage, "xiguan") == ["card"]
    assert stage.waits == []


async def test_check_config_names_the_moved_chat(
    basic: Stage, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    stage, tg = basic, basic.tg
    old = stage.chats["xiguan"]
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        EXAMPLE.read_text(encoding="utf-8")
        .replace("chat_id = -1001000000002\n", f"chat_id = {old}\n")
        .replace(
            'database_url = "sqlite+aiosqlite:///data/suishou.db"',
            f'database_url = "{stage.config.database_url}"',
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("SUISHOU_BOT_TOKEN", "123456:AAexample")
    assert await asyncio.to_thread(cli, ["check-config", str(config_file)]) == 0
    assert "upgraded" not in capsys.readouterr().out  # nothing moved yet

    new, updates = tg.upgrade_to_supergroup(old)
    await stage.send(updates[1])  # the new supergroup's "migrated from" message
    assert await asyncio.to_thread(cli, ["check-config", str(config_file)]) == 0
    out = capsys.readouterr().out
    assert f"communities[1].chat_id: chat {old} was upgraded to a supergroup" in out
    assert f"Set chat_id = {new}" in out
