"""The smaller tables of a configuration: casework, working calendar, digest, points, limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.config.model import CaseworkSettings, DigestSettings, LimitSettings, PointsRules
from bot.config.reader import Reader, read_table
from bot.domain.workcalendar import WorkingCalendar


def read_casework(r: Reader, raw: Mapping[str, Any]) -> CaseworkSettings:
    table = read_table(r, raw, "casework")
    p = "casework"
    fields = {
        "confirm_hours": 72,
        "remind_before_hours": 4,
        "escalate_after_hours": 0,
        "sweep_minutes": 5,
        "duplicate_radius_m": 150,
        "duplicate_days": 7,
    }
    r.unknown_keys(table, p, set(fields))
    v = {k: r.get(table, p, k, (int, float), d) for k, d in fields.items()}
    for key in ("confirm_hours", "sweep_minutes", "duplicate_days"):
        if v[key] is not None and v[key] <= 0:
            r.problem(f"{p}.{key}", "must be positive")
    for key in ("remind_before_hours", "escalate_after_hours", "duplicate_radius_m"):
        if v[key] is not None and v[key] < 0:
            r.problem(f"{p}.{key}", "must not be negative")
    v = {k: fields[k] if value is None else value for k, value in v.items()}
    return CaseworkSettings(
        confirm_window=timedelta(hours=v["confirm_hours"]),
        remind_before=timedelta(hours=v["remind_before_hours"]),
        escalate_after=timedelta(hours=v["escalate_after_hours"]),
        sweep_interval=timedelta(minutes=v["sweep_minutes"]),
        duplicate_radius_m=float(v["duplicate_radius_m"]),
        duplicate_window=timedelta(days=v["duplicate_days"]),
    )


def read_calendar(r: Reader, raw: Mapping[str, Any], tz: ZoneInfo) -> WorkingCalendar:
    """The office calendar for deadlines counted in working hours (working_hours = true)."""
    table = read_table(r, raw, "calendar")
    p = "calendar"
    r.unknown_keys(table, p, {"periods", "weekdays", "holidays", "extra_workdays"})
    kwargs: dict[str, Any] = {"tz": tz}
    periods = r.get(table, p, "periods", list, None)
    if periods is not None:
        try:
            kwargs["periods"] = tuple(
                (time.fromisoformat(a), time.fromisoformat(b)) for a, b in periods
            )
        except (TypeError, ValueError):
            r.problem(f"{p}.periods", 'expected [["08:30", "12:00"], ["14:30", "18:00"]]')
    weekdays = r.get(table, p, "weekdays", list, None)
    if weekdays is not None:
        kwargs["weekdays"] = frozenset(weekdays)
    for key in ("holidays", "extra_workdays"):
        days = r.get(table, p, key, list, None)
        if days is None:
            continue
        try:
            kwargs[key] = frozenset(
                d if isinstance(d, date) else date.fromisoformat(d) for d in days
            )
        except (TypeError, ValueError):
            r.problem(f"{p}.{key}", "expected dates such as 2026-10-01")
    try:
        return WorkingCalendar(**kwargs)
    except (ValueError, TypeError) as exc:
        r.problem(p, str(exc))
        return WorkingCalendar(tz=tz)


def read_digest(r: Reader, raw: Mapping[str, Any], tz: ZoneInfo) -> DigestSettings:
    table = read_table(r, raw, "digest")
    r.unknown_keys(table, "digest", {"cron", "trend_weeks"})
    cron = r.get(table, "digest", "cron", str, DigestSettings.cron) or DigestSettings.cron
    weeks = r.get(table, "digest", "trend_weeks", int, DigestSettings.trend_weeks)
    try:
        cron_trigger(cron, tz)
    except ValueError as exc:
        r.problem("digest.cron", f"not a crontab line (minute hour day month weekday): {exc}")
    if weeks is not None and not 1 <= weeks <= 52:
        r.problem("digest.trend_weeks", "must be between 1 and 52")
    return DigestSettings(cron=cron, trend_weeks=weeks or DigestSettings.trend_weeks)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(line: str, tz: ZoneInfo) -> CronTrigger:
    """A crontab line read the way cron reads it.

    APScheduler numbers weekdays from Monday = 0, cron from Sunday = 0, so "0 9 * * 1" would
    fire on Tuesday: weekday numbers are turned into names first (steps such as */2 stay).
    """
    fields = line.split()
    if len(fields) == 5:
        fields[4] = re.sub(r"(?<![/\d])\d+", lambda m: _WEEKDAYS[int(m.group()) % 7], fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=tz)


def read_points(r: Reader, raw: Mapping[str, Any]) -> PointsRules:
    table = read_table(r, raw, "points")
    r.unknown_keys(table, "points", {"accepted", "fixed_bonus"})
    accepted = r.get(table, "points", "accepted", int, PointsRules.accepted)
    bonus = r.get(table, "points", "fixed_bonus", int, PointsRules.fixed_bonus)
    for key, value in (("accepted", accepted), ("fixed_bonus", bonus)):
        if value is not None and value < 0:
            r.problem(f"points.{key}", "must not be negative")
    return PointsRules(
        accepted=PointsRules.accepted if accepted is None else accepted,
        fixed_bonus=PointsRules.fixed_bonus if bonus is None else bonus,
    )


def read_limits(r: Reader, raw: Mapping[str, Any]) -> LimitSettings:
    table = read_table(r, raw, "limits")
    defaults = LimitSettings()
    values: dict[str, int] = {}
    for key in ("messages_per_minute", "reports_per_hour"):
        value = r.get(table, "limits", key, int, getattr(defaults, key))
        if value is not None and value < 1:
            r.problem(f"limits.{key}", "must be at least 1")
        values[key] = value if value is not None and value >= 1 else getattr(defaults, key)
    r.unknown_keys(table, "limits", set(values))
    return LimitSettings(**values)
