"""Logs are JSON lines and never carry the bot token or a rider's phone number."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import select

from bot.logs import JsonFormatter, setup_logging
from storage.tables import riders
from tests.conftest import TOKEN, Stage


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


@pytest.mark.parametrize(
    ("written", "phone"),
    [
        ("85291234567", "85291234567"),
        ("+86 139 1234 5678", "139 1234 5678"),
        ("8613912345678", "13912345678"),
        ("139-1234-5678", "1234-5678"),
        ("0086 139 1234 5678", "1234 5678"),
        ("+852 9123 4567", "9123 4567"),
        ("886 912 345 678", "912 345 678"),
        ("+1 (415) 555-2671", "555-2671"),
        ("+44 7911 123456", "7911 123456"),
        ("(0355) 123 4567", "123 4567"),
        ("0355-1234567", "1234567"),
        # As riders type them: full-width digits of a Chinese input method, other groupings.
        (
            "\uff11\uff13\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
            "\uff15\uff16\uff17\uff18",
        ),
        ("139-123-45678", "45678"),
        ("1391 234 5678", "234 5678"),
        ("139\u00a01234\u00a05678", "5678"),
        ("139\u20141234\u20145678", "5678"),
    ],
)
def test_every_phone_format_is_masked(written: str, phone: str) -> None:
    line = JsonFormatter().format(
        logging.LogRecord("x", logging.INFO, __file__, 1, "rider said: call %s", (written,), None)
    )
    assert phone not in line and "<phone>" in json.loads(line)["event"]


def test_ids_times_and_places_are_not_taken_for_phones() -> None:
    event = (
        "chat -1001234567890 user 7139123456 update 123456789 at 2026-11-20T06:00:00.000+00:00 "
        "ticket #12 v1:r:12:acc 另有 +1 名 36.1109,113.2121 size 1048576"
    )
    line = JsonFormatter().format(logging.LogRecord("x", logging.INFO, "", 1, event, None, None))
    assert json.loads(line)["event"] == event


async def test_library_debug_logs_of_a_shared_contact_carry_no_phone(stage: Stage) -> None:
    """At DEBUG the library logs each update (getUpdates results, "Processing update ...")."""
    out = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", out)
    rider = stage.person("陈师傅")
    try:
        await stage.app.updater.start_polling(poll_interval=0, timeout=1)
        stage.tg.push_update(rider.contact("85291234567"))
        stage.tg.push_update(rider.contact("+86 139 1234 5678"))
        await stage.until(lambda: len(stage.tg.bot_messages(rider.id)) >= 2)
        await stage.app.updater.stop()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert "报到完成" in rider.last_bot_message()["text"]  # the bot still read the number
    async with stage.services.db.transaction() as conn:
        stored = (await conn.execute(select(riders.c.phone))).scalars().all()
    assert stored == ["+86 139 1234 5678"]
    logged = out.getvalue()
    entries = [json.loads(line) for line in logged.splitlines()]
    updates = [e["event"] for e in entries if "contact" in e["event"]]
    assert any(e.startswith("Processing update") for e in updates)
    assert any("getUpdates" in e for e in updates)
    assert all("<phone>" in e for e in updates)
    for leak in ("85291234567", "91234567", "139 1234 5678", "13912345678", "1234 5678"):
        assert leak not in logged
    assert TOKEN.split(":")[1] not in logged


def test_a_contact_card_forwarded_from_the_address_book_is_masked() -> None:
    """A forwarded contact carries a vcard whose TEL lines use the national format."""
    card = "BEGIN:VCARD\nVERSION:3.0\nFN:Li\nTEL;TYPE=CELL:015112345678\nEND:VCARD"
    update = {"message": {"contact": {"phone_number": "4915112345678", "vcard": card}}}
    record = logging.LogRecord(
        "x", logging.DEBUG, __file__, 1, "Processing update %s", (update,), None
    )
    record.contact = update["message"]["contact"]
    line = JsonFormatter().format(record)
    assert "015112345678" not in line and "4915112345678" not in line
    assert json.loads(line)["contact"] == {"phone_number": "<phone>", "vcard": "<phone>"}


async def test_a_number_a_rider_types_in_full_width_digits_is_masked_at_debug(
    stage: Stage,
) -> None:
    """A Chinese input method in full-width mode types \uff11\uff13\uff19...; PTB logs it."""
    out = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", out)
    rider = stage.person("陈师傅")
    typed = (
        "\u6211\u7684\u7535\u8bdd\uff11\uff13\uff19\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"
        "\uff0c\u6216 139-123-45678"
    )
    try:
        await stage.app.updater.start_polling(poll_interval=0, timeout=1)
        stage.tg.push_update(rider.text(typed))
        await stage.until(lambda: len(stage.tg.bot_messages(rider.id)) >= 1)
        await stage.app.updater.stop()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    logged = out.getvalue()
    events = [json.loads(line)["event"] for line in logged.splitlines()]
    assert any(e.startswith("Processing update") and "<phone>" in e for e in events)
    for leak in ("\uff15\uff16\uff17\uff18", "123-45678", "\\uff15"):
        assert leak not in logged
