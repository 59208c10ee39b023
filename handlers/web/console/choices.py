"""What the county's pages are asked for: a period and whose reports.

Periods: the last 30 days (as /stats), this week, last week, this month, last month, or a
from–to range of whole days (YYYY-MM-DD, both included, as /export reads them). Local days
in the county's time zone; a period still running ends now, so nothing is judged against
deadlines that have not come. A period that cannot be read is an error with its words
(`Refusal`), never silently another period: figures for the wrong days mislead.

Whose reports: a community's desk sees its own community only, and asking for another's is
refused (403); the county sees every community's, or the one it picks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from starlette.datastructures import QueryParams

from bot.config import Config
from bot.people.staff import COUNTY, Seat
from bot.reporting.ledger import MAX_EXPORT_DAYS, RangeTooLong, parse_range
from bot.reporting.metrics import Period, week_of
from storage.figures import EVERY, Scope

PERIODS = ("30d", "this_week", "last_week", "this_month", "last_month", "range")
DEFAULT_PERIOD = "30d"


class Refusal(Exception):
    """A request the page cannot answer: its HTTP status and the words (county.<key>)."""

    def __init__(self, status: int, key: str, **values: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Chosen:
    """A period as asked for, and the days the form shows for it (both included)."""

    key: str
    period: Period
    first: date
    last: date
    params: dict[str, str] = field(default_factory=dict)  # to ask for it again


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(), tz)


def choose_period(params: QueryParams, now: datetime, tz: tzinfo) -> Chosen:
    """The period a page asks for (`period`, and `from`/`to` for a range)."""
    key = params.get("period") or DEFAULT_PERIOD
    if key not in PERIODS:
        raise Refusal(400, "period_unknown")
    today = now.astimezone(tz).date()
    if key == "range":
        return _range(params.get("from", ""), params.get("to", ""), now, today, tz)
    if key == "30d":
        start = now - timedelta(days=30)
        return Chosen(key, Period(start, now), start.astimezone(tz).date(), today, {"period": key})
    if key in ("this_week", "last_week"):
        week = week_of(today, tz)
        if key == "last_week":
            week = week_of(today - timedelta(days=7), tz)
        start, end = week.start, week.end
    else:
        first = _month_start(today)
        if key == "last_month":
            first = _month_start(first - timedelta(days=1))
        start = _midnight(first, tz)
        end = _midnight(_month_start(first + timedelta(days=32)), tz)
    end = min(end, now)
    if end <= start:  # the first moment of a week or month: nothing has happened in it yet
        end = start + timedelta(seconds=1)
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return Chosen(key, Period(start, end), start.astimezone(tz).date(), last, {"period": key})


def _range(first: str, last: str, now: datetime, today: date, tz: tzinfo) -> Chosen:
    if not first.strip():
        raise Refusal(400, "period_bad")
    try:
        asked = parse_range([first.strip(), last.strip() or today.isoformat()], today, tz)
    except RangeTooLong:
        raise Refusal(400, "period_too_long", days=MAX_EXPORT_DAYS) from None
    except ValueError:
        raise Refusal(400, "period_bad") from None
    if asked.start >= now:
        raise Refusal(400, "period_future")
    shown_last = (asked.end - timedelta(days=1)).date()
    params = {"period": "range", "from": asked.start.date().isoformat()}
    params["to"] = shown_last.isoformat()
    period = Period(asked.start, min(asked.end, now))
    return Chosen("range", period, asked.start.date(), shown_last, params)


def ledger_range(params: QueryParams, now: datetime, tz: tzinfo) -> Period:
    """The ledger's days: `from` and `to` (YYYY-MM-DD, both included; default the last 30
    days, as /export). Whole days, the future included: reports made in them."""
    today = now.astimezone(tz).date()
    args = [v for v in (params.get("from", "").strip(), params.get("to", "").strip()) if v]
    if params.get("to", "").strip() and not params.get("from", "").strip():
        raise Refusal(400, "period_bad")
    try:
        return parse_range(args, today, tz)
    except RangeTooLong:
        raise Refusal(400, "period_too_long", days=MAX_EXPORT_DAYS) from None
    except ValueError:
        raise Refusal(400, "period_bad") from None


@dataclass(frozen=True)
class Reach:
    """Whose reports a page shows: `scope` for the queries, `community` as asked (or "")."""

    scope: Scope
    community: str
    county: bool  # the person sits at the county's desk (may pick any community)


def reach(seat: Seat, asked: str, config: Config) -> Reach:
    """A community's desk: its own community (another's is refused). The county: every
    community, or the one asked for (an unknown one is an error, not everything)."""
    if seat.desk != COUNTY:
        if asked and asked != seat.desk:
            raise Refusal(403, "not_yours")
        return Reach(seat.desk, seat.desk, False)
    if not asked:
        return Reach(EVERY, "", True)
    if config.community(asked) is None:
        raise Refusal(400, "community_unknown")
    return Reach(asked, asked, True)


def county_only(seat: Seat) -> None:
    """Pages that show every community at once (the county's chart)."""
    if seat.desk != COUNTY:
        raise Refusal(403, "county_only")
