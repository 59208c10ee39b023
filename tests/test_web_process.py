"""The newcomer's path: `suishou run` on the example configuration with no Telegram token
serves the riders' page alone, says so, prints the rider link, and stops on one signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import IN_XIGUAN, ROOT, TOKEN, words
from tests.fake_telegram import FakeTelegram, FakeTelegramServer
from tests.images import jpeg
from tests.test_entry_point import EXAMPLE_CHATS, config_text, wait_for
from tests.web import page_config


def example_on_any_port(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert "port = 8080\n" in text
    config.write_text(text.replace("port = 8080\n", "port = 0\n"), encoding="utf-8")
    return config


def start(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def rider_link(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """The link `suishou run` prints first (port 0: the port it really got), and the line
    after it, which says whether Telegram runs too."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("随手 Suishou: riders' page at http://127.0.0.1:"), line + (
        proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
    )
    return line.rsplit(" ", 1)[1].strip(), proc.stdout.readline()


def stop(proc: subprocess.Popen[str], sig: int) -> tuple[str, str]:
    proc.send_signal(sig)
    try:
        return proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"did not stop on {sig}:\n{err}") from None


def test_without_a_token_the_web_page_runs_alone(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SUISHOU_BOT_TOKEN",)}
    env.pop("SUISHOU_WEB_SECRET", None)
    proc = start(example_on_any_port(tmp_path), env)
    try:
        link, telegram = rider_link(proc)
        assert telegram.startswith("Telegram is off (SUISHOU_BOT_TOKEN is not set)")
        with httpx.Client(base_url=link, timeout=10) as phone:
            page = phone.get("/")
            assert page.status_code == 200 and "随手反馈" in page.text
            answer = phone.post(
                "/reports",
                data={
                    "csrf": page_config(page.text)["csrf"],
                    "key": "a-key-made-by-the-phone-0001",
                    "category": "sanitation",
                    "lat": str(IN_XIGUAN.lat),
                    "lon": str(IN_XIGUAN.lon),
                },
                files=[("photo", ("p.jpg", jpeg(), "image/jpeg"))],
            )
            assert answer.status_code == 201, answer.text
            assert answer.json()["ticket"] == 1 and answer.json()["kind"] == "kept"
            assert "#1" in phone.get("/my").text
    finally:
        _, err = stop(proc, signal.SIGINT)  # one Ctrl-C
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    # The secret was made on the first start and is kept for the next ones.
    secret = tmp_path / "data" / "web_secret"
    assert secret.stat().st_mode & 0o777 == 0o600 and len(secret.read_text().strip()) >= 32


def test_sigterm_stops_it_and_the_device_is_still_known_after_a_restart(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SUISHOU_BOT_TOKEN"}
    env.pop("SUISHOU_WEB_SECRET", None)
    config = example_on_any_port(tmp_path)
    proc = start(config, env)
    try:
        with httpx.Client(base_url=rider_link(proc)[0], timeout=10) as phone:
            phone.get("/")
            cookie = phone.cookies["suishou_device"]
    finally:
        stop(proc, signal.SIGTERM)
    assert proc.returncode == 0
    proc = start(config, env)
    try:
        with httpx.Client(base_url=rider_link(proc)[0], timeout=10) as phone:
            phone.cookies.set("suishou_device", cookie, domain="127.0.0.1")
            page = phone.get("/")
            # The same signed device id is accepted and sent back, not replaced.
            assert phone.cookies["suishou_device"] == cookie, page.headers
    finally:
        stop(proc, signal.SIGTERM)
    assert proc.returncode == 0


def test_a_port_already_taken_is_said_plainly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        config = tmp_path / "config.toml"
        text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
        config.write_text(text.replace("port = 8080\n", f"port = {port}\n"), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "SUISHOU_BOT_TOKEN"}
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert f"web: cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_with_a_token_telegram_and_the_web_run_in_one_process(tmp_path: Path) -> None:
    tg = FakeTelegram(token=TOKEN)
    chats = {name: tg.new_group(name)["id"] for name in EXAMPLE_CHATS}
    with FakeTelegramServer(tg) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(tmp_path, server, chats), encoding="utf-8")
        proc = start(config, {**os.environ, "SUISHOU_E2E_TOKEN": TOKEN})
        try:
            link, telegram = rider_link(proc)
            assert telegram.startswith("Telegram is on")
            wait_for(lambda: tg.calls_to("getUpdates"), "the first getUpdates", proc)
            with httpx.Client(base_url=link, timeout=10) as phone:
                page = phone.get("/")
                answer = phone.post(
                    "/reports",
                    data={
                        "csrf": page_config(page.text)["csrf"],
                        "key": "a-key-made-by-the-phone-0002",
                        "category": "order",
                        "lat": str(IN_XIGUAN.lat),
                        "lon": str(IN_XIGUAN.lon),
                        "note": "路灯不亮",
                    },
                    files=[("photo", ("p.jpg", jpeg(), "image/jpeg"))],
                )
            assert answer.json() == {**answer.json(), "ticket": 1, "kind": "community"}
            wait_for(lambda: tg.bot_messages(chats["xiguan"]), "the card", proc)
            card = tg.bot_messages(chats["xiguan"])[0]
            assert "工单 #1" in words(card) and "备注：路灯不亮" in words(card)
            assert "手机定位" in words(card)
        finally:
            _, err = stop(proc, signal.SIGINT)
    assert proc.returncode == 0, err
    assert '"event": "started"' in err and "Traceback" not in err
    assert TOKEN.split(":")[1] not in err


def test_the_web_page_serves_while_telegram_is_unreachable(tmp_path: Path) -> None:
    """Riders in China reach the page whatever Telegram does; one Ctrl-C still stops it."""
    tg = FakeTelegram(token=TOKEN)
    chats = {name: tg.new_group(name)["id"] for name in EXAMPLE_CHATS}
    with FakeTelegramServer(tg) as server:
        config = tmp_path / "config.toml"
        config.write_text(config_text(tmp_path, server, chats), encoding="utf-8")
        tg.outage(600)  # Telegram's frontends answer 502 for as long as this test runs
        proc = start(config, {**os.environ, "SUISHOU_E2E_TOKEN": TOKEN})
        try:
            link, _ = rider_link(proc)
            wait_for(lambda: tg.outage_hits >= 2, "two tries during the outage", proc)
            with httpx.Client(base_url=link, timeout=10) as phone:
                assert phone.get("/").status_code == 200
        finally:
            _, err = stop(proc, signal.SIGINT)
    assert proc.returncode == 0, err
    assert "cannot reach Telegram; retrying" in err and "Traceback" not in err
