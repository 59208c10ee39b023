"""Per-rider limits: the sliding window, the configuration, and what keeps updates in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from telegram import Update

from bot.cli import main as cli
from bot.config import LimitSettings, load_config, parse_config
from bot.intake.limits import RiderLimits, SlidingLimit, Verdict
from handlers.telegram.ordering import update_keys
from tests.conftest import FakeClock
from tests.fake_telegram import FakeTelegram
from tests.test_config import EXAMPLE, example, problems_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_over_the_limit_one_warning_then_silence_until_the_window_has_room() -> None:
    clock = FakeClock(datetime(2026, 11, 20, 6, 0, tzinfo=UTC))
    limit = SlidingLimit(3, timedelta(minutes=1), clock)
    verdicts = []
    for _ in range(6):
        verdicts.append(limit.hit(7))
        clock.advance(seconds=10)
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN] + [Verdict.SILENT] * 2
    assert limit.hit(8) is Verdict.ALLOW  # someone else is not affected
    # 06:01:00: the first action (06:00:00) has left the window, one more is allowed...
    assert limit.free_at(7) == datetime(2026, 11, 20, 6, 1, tzinfo=UTC)
    clock.current = datetime(2026, 11, 20, 6, 1, tzinfo=UTC)
    assert limit.hit(7) is Verdict.ALLOW
    # ...and the next refusal is announced again, once.
    assert [limit.hit(7), limit.hit(7)] == [Verdict.WARN, Verdict.SILENT]


def test_check_counts_nothing_and_the_notice_rounds_up() -> None:
    clock = FakeClock(datetime(2026, 11, 20, 6, 0, 20, 500_000, tzinfo=UTC))
    limits = RiderLimits(messages_per_minute=1, reports_per_hour=1, clock=clock)
    assert limits.reports.check(7) is Verdict.ALLOW
    assert limits.reports.check(7) is Verdict.ALLOW
    limits.reports.record(7)
    assert limits.reports.check(7) is Verdict.WARN
    assert limits.messages.hit(7) is Verdict.ALLOW
    # Free at 06:01:20.5 (14:01:20.5 in Shanghai): shown as the next full second / minute.
    assert "14:01:21" in limits.too_many_messages(7, "zh", SHANGHAI)
    assert "after 15:01;" in limits.too_many_reports(7, "en", SHANGHAI)


def test_people_idle_for_longer_than_the_window_are_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("bot.intake.limits.PRUNE_ABOVE", 3)
    clock = FakeClock()
    limit = SlidingLimit(1, timedelta(minutes=1), clock)
    for person in (1, 2, 3):
        limit.hit(person)
    clock.advance(minutes=2)
    limit.hit(4)
    assert limit.hit(1) is Verdict.ALLOW
    assert len(limit._people) == 2


def test_limits_configuration_defaults_and_mistakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(EXAMPLE)
    assert (config.limits.messages_per_minute, config.limits.reports_per_hour) == (20, 10)
    raw = example()
    del raw["limits"]
    assert parse_config(raw, base_dir=tmp_path).limits == LimitSettings()
    raw["limits"] = {"messages_per_minute": 0, "reports_per_hour": "ten", "per_day": 3}
    problems = problems_of(raw, tmp_path)
    assert "limits.messages_per_minute: must be at least 1" in problems
    assert "limits.reports_per_hour: expected an integer, got str" in problems
    assert "limits.per_day: unknown key" in problems

    bad = tmp_path / "limits.toml"
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "messages_per_minute = 20", "messages_per_minute = -5"
    )
    bad.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SUISHOU_BOT_TOKEN", "123456:secret-token-value")
    assert cli(["check-config", str(bad)]) == 1
    assert "limits.messages_per_minute: must be at least 1" in capsys.readouterr().err


def test_a_person_keeps_order_across_a_group_and_the_private_chat() -> None:
    tg = FakeTelegram()
    staff = tg.person("张三")
    group = tg.new_group("东关社区 随手反馈")
    tg.add_member(group["id"], staff)
    in_group = Update.de_json(staff.text("几号楼？", chat=group), None)
    in_private = Update.de_json(staff.text("你好"), None)
    assert update_keys(in_group) == (group["id"], staff.id)
    assert update_keys(in_private) == (staff.id,)
    assert update_keys(object()) == ()
