"""The shipped command: `suishou run` long-polls a (fake) Telegram server over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import IN_XIGUAN, ROOT, TOKEN, words
from tests.fake_telegram import FakeTelegram, FakeTelegramServer
from tests.images import jpeg

EXAMPLE_CHATS = {
    "supervisors": -1001000000000,
    "dongguan": -1001000000001,
    "xiguan": -1001000000002,
    "nanjie": -1001000000003,
    "fire_station": -1001000000004,
}


def config_text(tmp_path: Path, server: FakeTelegramServer, chats: dict[str, int]) -> str:
    """The example configuration, pointed at the fake server and this test's groups."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for name, example_id in EXAMPLE_CHATS.items():
        text = text.replace(f"chat_id = {example_id}\n", f"chat_id = {chats[name]}\n")
    text = text.replace("topic_id = 5\n", "")
    text = text.replace(
        'token_env = "SUISHOU_BOT_TOKEN"',
        'token_env = "SUISHOU_E2E_TOKEN"\n'
        f'api_base_url = "{server.base_url}"\n'
        f'api_file_url = "{server.base_file_url}"',
    )
    text = text.replace("port = 8080\n", "port = 0\n")  # any free port: tests may run side by side
    return text.replace("album_wait_seconds = 1.5", "album_wait_seconds = 0.1")


def wait_for(
    condition: Callable[[], Any], what: str, proc: subprocess.Popen, timeout: float = 20.0
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if proc.poll() is not None:
            raise AssertionError(
                f"suishou exited early ({proc.returncode}) waiting for {what}:\n"
                + proc.stderr.read()
            )
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_suishou_run_serves_a_rider_over_long_polling(tmp_path: Path) -> None:
    tg = FakeTelegram(token=TOKEN)
    chats = {name: tg.new_group(name)["id"] for name in EXAMPLE_CHATS}
    with FakeTelegramServer(tg) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(tmp_path, server, chats), encoding="utf-8")
        env = {**os.environ, "SUISHOU_E2E_TOKEN": TOKEN}
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: tg.calls_to("getUpdates"), "the first getUpdates", proc)
            rider = tg.person("骑手小刘")
            tg.push_update(rider.photo(jpeg(), caption="路口井盖破损"))
            wait_for(
                lambda: "发送位置" in (rider.last_bot_message() or {}).get("text", ""),
                "the location question",
                proc,
            )
            tg.push_update(rider.location(IN_XIGUAN.lat, IN_XIGUAN.lon))
            wait_for(
                lambda: "社会治安" in str(rider.last_bot_message().get("reply_markup")),
                "the category buttons",
                proc,
            )
            tg.push_update(rider.press(rider.last_bot_message(), "🚨 社会治安"))
            wait_for(
                lambda: "✅ 提交" in str(rider.last_bot_message().get("reply_markup")),
                "the summary",
                proc,
            )
            tg.push_update(rider.press(rider.last_bot_message(), "✅ 提交"))
            wait_for(lambda: len(tg.bot_messages(chats["xiguan"])) == 1, "the card", proc)
            card = tg.bot_messages(chats["xiguan"])[0]  # one photo: the card is that photo
            assert "工单 #1" in words(card) and "备注：路口井盖破损" in words(card)
            wait_for(lambda: "工单号 #1" in rider.last_bot_message()["text"], "the ticket", proc)
        finally:
            stderr = interrupt(proc)
        assert proc.returncode == 0, stderr
        assert TOKEN.split(":")[1] not in stderr  # logs never show the token
        assert '"event": "started"' in stderr
        assert (tmp_path / "data" / "suishou.db").exists()


def interrupt(proc: subprocess.Popen[str]) -> str:
    """Ctrl-C, as an operator stops it; its log (stderr) once it has ended."""
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
    return stderr


def run_to_the_end(config: Path, token: str) -> subprocess.CompletedProcess[str]:
    """`suishou run` with this token, until it exits by itself."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=config.parent,
        env={**os.environ, "SUISHOU_E2E_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_wrong_token_is_said_plainly(tmp_path: Path) -> None:
    tg = FakeTelegram(token=TOKEN)
    chats = {name: tg.new_group(name)["id"] for name in EXAMPLE_CHATS}
    with FakeTelegramServer(tg) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(tmp_path, server, chats), encoding="utf-8")
        wrong = "999999:AAHthisTokenWasRevokedLongAgo_abcdefgh"
        proc = run_to_the_end(config, wrong)
    assert proc.returncode == 1
    assert '"event": "Telegram rejected the bot token"' in proc.stderr
    assert "AAHthisTokenWasRevoked" not in proc.stderr  # not even the wrong token is logged


def test_telegram_unreachable_at_start_is_waited_for(tmp_path: Path) -> None:
    """Telegram's frontends answer 502 for the first seconds: the bot keeps trying, then serves."""
    tg = FakeTelegram(token=TOKEN)
    chats = {name: tg.new_group(name)["id"] for name in EXAMPLE_CHATS}
    with FakeTelegramServer(tg) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(tmp_path, server, chats), encoding="utf-8")
        tg.outage(600)  # until the bot has tried twice, however slowly the process starts
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=tmp_path,
            env={**os.environ, "SUISHOU_E2E_TOKEN": TOKEN},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: tg.outage_hits >= 3, "three tries during the outage", proc)
            tg.outage(0)  # Telegram is back
            wait_for(lambda: tg.calls_to("getUpdates"), "the first getUpdates", proc)
            rider = tg.person("骑手小刘")
            tg.push_update(rider.command("/help"))
            wait_for(rider.last_bot_message, "an answer to /help", proc)
        finally:
            stderr = interrupt(proc)
    assert proc.returncode == 0, stderr
    tries = [line for line in stderr.splitlines() if "cannot reach Telegram; retrying" in line]
    assert len(tries) >= 2, stderr  # each try is logged...
    assert '"try": 1' in tries[0] and '"wait_s": 0.5' in tries[0]
    assert '"try": 2' in tries[1] and '"wait_s": 1.0' in tries[1]  # ...with a growing pause
    assert "Bad Gateway (502)" in tries[0] and "<html>" not in stderr
    assert '"event": "started"' in stderr


def test_a_wrong_token_during_an_outage_still_ends_plainly(tmp_path: Path) -> None:
    tg = FakeTelegram(token=TOKEN)
    chats = {name: tg.new_group(name)["id"] for name in EXAMPLE_CHATS}
    with FakeTelegramServer(tg) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(tmp_path, server, chats), encoding="utf-8")
        tg.outage_calls(3)  # however long the process takes to start
        wrong = "999999:AAHthisTokenWasRevokedLongAgo_abcdefgh"
        proc = run_to_the_end(config, wrong)
    assert proc.returncode == 1
    assert "cannot reach Telegram; retrying" in proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1].count("Telegram rejected the bot token") == 1
    assert "AAHthisTokenWasRevoked" not in proc.stderr
    assert "Traceback" not in proc.stderr
