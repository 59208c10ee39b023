"""Deadlines counted in the working hours of the county office, not in calendar hours.

A community office does not handle reports at night, at the weekend or on public holidays,
so "72 working hours" can mean two calendar weeks. Chinese offices also shift days (调休):
some weekends become working days and some weekdays become holidays, so a calendar is a
weekly pattern plus two lists of exceptions.

Working time is real elapsed time inside the working periods of each working day. Periods
are given in local wall-clock time and turned into instants day by day, so a DST change
moves them with the clock; a period boundary that falls into a DST gap or overlap is read
with ``fold=0`` (the earlier offset). All arithmetic is done in UTC and a whole day is
handled per step, so long durations cost one step per calendar day, never per minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_PERIODS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(14, 30), time(18, 0)),
)
MAX_IDLE_DAYS = 366  # a calendar with no working day for longer than this is a mistake

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkingCalendar:
    """The working periods of an office: a weekly pattern plus holidays and 调休 days."""

    tz: ZoneInfo
    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO: Monday 1 … Sunday 7
    holidays: frozenset[date] = frozenset()  # days off even if a weekday
    extra_workdays: frozenset[date] = frozenset()  # weekend days worked (调休)

    def __post_init__(self) -> None:
        # Accept lists and sets from a configuration loader, but store hashable values.
        object.__setattr__(self, "periods", tuple(tuple(p) for p in self.periods))
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        _validate(self)

    def is_working_day(self, day: date) -> bool:
        """Whether the office works on `day`; the exception lists beat the weekly pattern."""
        if day in self.holidays:
            return False
        if day in self.extra_workdays:
            return True
        return day.isoweekday() in self.weekdays

    def hours_per_day(self) -> float:
        """Nominal working hours of a working day (wall clock, ignoring DST changes)."""
        seconds = sum(
            (datetime.combine(date.min, end) - datetime.combine(date.min, start)).total_seconds()
            for start, end in self.periods
        )
        return seconds / 3600

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (in `tz`) at which `duration` of working time has passed since `start`.

        Outside working time the count begins at the next period start. A duration that
        runs out exactly at a period end gives that period end, not the next period start.
        A zero duration gives `start` itself (as the same instant in `tz`).
        """
        _require_aware(start, "start")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        if duration == _ZERO:
            return start.astimezone(self.tz)
        cursor = start.astimezone(UTC)
        remaining = duration
        day = cursor.astimezone(self.tz).date()
        idle_days = 0
        while True:
            worked = False
            for period_start, end in self._intervals(day):
                if end <= cursor:
                    continue
                begin = max(period_start, cursor)
                available = end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(self.tz)
                remaining -= available
                cursor = end
                worked = True
            idle_days = 0 if worked else idle_days + 1
            if idle_days > MAX_IDLE_DAYS:
                raise ValueError(
                    f"the calendar has no working day within {MAX_IDLE_DAYS} days"
                    f" before {day.isoformat()}"
                )
            day += _ONE_DAY

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in [a, b); negative when b is before a, so it inverts add_working_time."""
        _require_aware(a, "a")
        _require_aware(b, "b")
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        if b < a:
            return -self.working_time_between(b, a)
        total = _ZERO
        day = a.astimezone(self.tz).date()
        last = b.astimezone(self.tz).date()
        while day <= last:
            for begin, end in self._intervals(day):
                overlap = min(end, b) - max(begin, a)
                if overlap > _ZERO:
                    total += overlap
            day += _ONE_DAY
        return total

    def _intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The working periods of `day` as UTC instants, in order and never overlapping.

        A boundary inside a DST gap can map before the previous boundary; clamping keeps
        the intervals monotonic so no second is counted twice.
        """
        if not self.is_working_day(day):
            return
        previous_end: datetime | None = None
        for start, end in self.periods:
            begin = datetime.combine(day, start, tzinfo=self.tz).astimezone(UTC)
            finish = datetime.combine(day, end, tzinfo=self.tz).astimezone(UTC)
            if previous_end is not None:
                begin = max(begin, previous_end)
            finish = max(finish, begin)
            previous_end = finish
            if finish > begin:
                yield begin, finish


def due_at(
    created_at: datetime, deadline: timedelta, calendar: WorkingCalendar | None
) -> datetime:
    """When a report is due: `deadline` of calendar time, or of working time in `calendar`.

    Calendar time is real elapsed time, so a 24-hour deadline across a DST change is still
    24 hours; the result keeps `created_at`'s time zone.
    """
    if calendar is not None:
        return calendar.add_working_time(created_at, deadline)
    if created_at.tzinfo is None:
        return created_at + deadline
    return (created_at.astimezone(UTC) + deadline).astimezone(created_at.tzinfo)


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


def _validate(calendar: WorkingCalendar) -> None:
    """Reject calendars that would give silently wrong deadlines."""
    periods = calendar.periods
    if not periods:
        raise ValueError("a working calendar needs at least one working period")
    for index, period in enumerate(periods):
        if len(period) != 2 or not all(isinstance(t, time) for t in period):
            raise ValueError(f"working period {index} must be a (start, end) pair of times")
        start, end = period
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(
                f"working period {index} must use local times without tzinfo; "
                "the calendar's tz gives the zone"
            )
        if not start < end:
            raise ValueError(
                f"working period {index} ({start:%H:%M}-{end:%H:%M}) must start before it ends"
            )
        if index and periods[index - 1][1] > start:
            before = periods[index - 1]
            raise ValueError(
                f"working periods must be sorted and must not overlap: "
                f"{before[0]:%H:%M}-{before[1]:%H:%M} then {start:%H:%M}-{end:%H:%M}"
            )
    bad_weekdays = sorted(d for d in calendar.weekdays if d not in range(1, 8))
    if bad_weekdays:
        raise ValueError(f"weekdays are ISO numbers 1 (Monday) to 7 (Sunday), got {bad_weekdays}")
    both = sorted(calendar.holidays & calendar.extra_workdays)
    if both:
        days = ", ".join(d.isoformat() for d in both)
        raise ValueError(f"a day cannot be both a holiday and an extra working day: {days}")
