"""Logs are JSON lines and never carry the bot token or a rider's phone number."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter


def test_token_and_phone_are_masked_wherever_they_appear() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "HTTP Request: POST https://api.telegram.org/bot123456789:AAHfakeTokenForTestsOnly_abcdefghijk/getMe",
        None,
        None,
    )
    record.phone = "+86 13912345678"
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "AAHfake" not in line and "13912345678" not in line
    assert entry["event"].endswith("/bot<token>/getMe")
    assert entry["phone"] == "<phone>"
    assert entry["level"] == "info" and entry["logger"] == "httpx"
