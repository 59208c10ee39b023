"""The supervisors need a group of their own (issue 8, item 4).

Forum topics are not a boundary: every member of a forum group can post in every topic.
If 南街 and the supervisors shared one forum in two topics, a 南街 member could post in the
supervisors' topic and act as the county (any report, the county ledger). So the
configuration that would allow it is refused before the bot runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main as cli
from tests.conftest import ROOT, Stage
from tests.test_casework import staff_of


def chat_ids_from(answer: str) -> tuple[int, int | None]:
    """What an operator copies from the bot's /chatid answer."""
    chat = re.search(r"chat_id = (-?\d+)", answer)
    topic = re.search(r"topic_id = (\d+)", answer)
    assert chat is not None, answer
    return int(chat.group(1)), int(topic.group(1)) if topic else None


async def test_a_community_cannot_share_a_forum_with_the_supervisors(
    stage: Stage,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    forum = stage.tg.chat(stage.chats["nanjie"])
    county_topic = stage.tg.new_topic(forum["id"], "县中心")
    chen = staff_of(stage, "nanjie", "南街小陈")
    # Any member may post in any topic: 南街小陈 asks for the ids in the county's topic.
    await stage.send(chen.command("/chatid", chat=forum, thread_id=county_topic))
    answer = stage.tg.bot_messages(forum["id"], county_topic)[-1]["text"]
    chat_id, topic_id = chat_ids_from(answer)
    assert (chat_id, topic_id) == (forum["id"], county_topic)

    # The operator pastes them as the supervisors' chat, beside 南街's own topic.
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace("chat_id = -1001000000003\n", f"chat_id = {forum['id']}\n")
    text = text.replace(
        "chat_id = -1001000000000\n", f"chat_id = {chat_id}\ntopic_id = {topic_id}\n"
    )
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SUISHOU_BOT_TOKEN", "123456:secret")

    assert cli(["check-config", str(config)]) == 1
    err = capsys.readouterr().err
    assert (
        f"communities[2].chat_id: chat {forum['id']} is the supervisors' chat; every member "
        "of a group can post in every topic" in err
    )
    assert cli(["run", "--config", str(config)]) == 1  # nor does the bot start with it
    assert "communities[2].chat_id: chat" in capsys.readouterr().err


def test_the_same_group_without_topics_says_why_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace("chat_id = -1001000000000\n", "chat_id = -1001000000001\n")
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    assert cli(["check-config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "communities[0].chat_id: chat -1001000000001 is the supervisors' chat" in err
    assert "give the supervisors a group of their own" in err
