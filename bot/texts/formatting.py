"""Dates, durations and coordinates as a person in each language expects to read them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.geo import LatLon

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(dt: datetime, tz: ZoneInfo, lang: str) -> str:
    local = dt.astimezone(tz)
    if lang == "en":
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def duration(delta: timedelta, lang: str) -> str:
    hours = round(delta.total_seconds() / 3600)
    if hours % 24 == 0 and hours >= 48:
        days = hours // 24
        return f"{days} day{'s' if days > 1 else ''}" if lang == "en" else f"{days}天"
    return f"{hours} h" if lang == "en" else f"{hours}小时"


def coordinates(p: LatLon) -> str:
    return f"{p.lat:.5f}, {p.lon:.5f}"


def hours(value: timedelta | None, lang: str) -> str:
    """A duration in hours with one decimal, or a dash when there is none."""
    if value is None:
        return "—"
    h = value.total_seconds() / 3600
    return f"{h:.1f} h" if lang == "en" else f"{h:.1f}小时"
