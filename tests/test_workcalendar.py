"""Working-hour deadlines, checked against hand-computed dates.

Unless said otherwise the calendar is the default one in Asia/Shanghai: Monday to Friday,
08:30-12:00 and 14:30-18:00, 7 working hours a day.
"""

from __future__ import annotations

import random
import time as timer
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.workcalendar import WorkingCalendar, due_at

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CAL = WorkingCalendar(tz=SHANGHAI)

# The 2026 National Day arrangement (国庆节) as announced by the State Council: 1-7 October
# off, with Sunday 20 September and Saturday 10 October worked instead (调休).
NATIONAL_DAY_2026 = WorkingCalendar(
    tz=SHANGHAI,
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    extra_workdays=frozenset({date(2026, 9, 20), date(2026, 10, 10)}),
)


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# --- add_working_time: hand-computed cases (2026-06-01 is a Monday) ---


def test_within_one_period() -> None:
    assert CAL.add_working_time(sh(2026, 6, 1, 9), hours(2)) == sh(2026, 6, 1, 11)


def test_across_lunch() -> None:
    # 11:00-12:00 is one hour; the second starts at 14:30.
    assert CAL.add_working_time(sh(2026, 6, 1, 11), hours(2)) == sh(2026, 6, 1, 15, 30)


def test_across_the_evening_into_the_next_morning() -> None:
    assert CAL.add_working_time(sh(2026, 6, 1, 17), hours(2)) == sh(2026, 6, 2, 9, 30)


def test_friday_afternoon_to_monday() -> None:
    # Friday 16:00-18:00 is two hours, Monday 08:30-10:30 the other two.
    assert CAL.add_working_time(sh(2026, 1, 9, 16), hours(4)) == sh(2026, 1, 12, 10, 30)


def test_a_holiday_is_skipped() -> None:
    cal = WorkingCalendar(tz=SHANGHAI, holidays=frozenset({date(2026, 6, 2)}))
    assert cal.add_working_time(sh(2026, 6, 1, 17), hours(2)) == sh(2026, 6, 3, 9, 30)


def test_national_day_2026_holidays_and_tiaoxiu_days() -> None:
    cal = NATIONAL_DAY_2026
    assert cal.is_working_day(date(2026, 9, 20))  # a Sunday worked
    assert not cal.is_working_day(date(2026, 9, 19))  # an ordinary Saturday
    assert not cal.is_working_day(date(2026, 10, 5))  # a Monday off
    assert cal.is_working_day(date(2026, 10, 10))  # a Saturday worked
    # Friday 18 September 17:00: one hour that day, Saturday off, Sunday 20th worked.
    assert cal.add_working_time(sh(2026, 9, 18, 17), hours(2)) == sh(2026, 9, 20, 9, 30)
    # Wednesday 30 September 16:00: two hours, then the week off, then 8 and 9 October
    # (7 h each) end exactly at Friday's 18:00.
    assert cal.add_working_time(sh(2026, 9, 30, 16), hours(16)) == sh(2026, 10, 9, 18)
    # Friday 9 October 16:00: two hours, then the 调休 Saturday.
    assert cal.add_working_time(sh(2026, 10, 9, 16), hours(4)) == sh(2026, 10, 10, 10, 30)
    assert cal.working_time_between(sh(2026, 9, 30, 12), sh(2026, 10, 12)) == hours(3.5 + 21)


def test_start_on_a_sunday_night() -> None:
    assert CAL.add_working_time(sh(2026, 6, 7, 22), hours(1)) == sh(2026, 6, 8, 9, 30)


def test_start_exactly_at_a_period_end() -> None:
    assert CAL.add_working_time(sh(2026, 6, 1, 12), hours(0.5)) == sh(2026, 6, 1, 15)
    assert CAL.add_working_time(sh(2026, 6, 1, 18), hours(1)) == sh(2026, 6, 2, 9, 30)


def test_start_exactly_at_a_period_start() -> None:
    assert CAL.add_working_time(sh(2026, 6, 1, 14, 30), hours(1)) == sh(2026, 6, 1, 15, 30)


def test_duration_ending_exactly_at_a_period_end_gives_that_end() -> None:
    assert CAL.add_working_time(sh(2026, 6, 1, 9), hours(3)) == sh(2026, 6, 1, 12)
    assert CAL.add_working_time(sh(2026, 6, 1, 8, 30), hours(7)) == sh(2026, 6, 1, 18)
    # A Friday's full day ends on Friday, not on Monday morning.
    assert CAL.add_working_time(sh(2026, 1, 9, 7), hours(7)) == sh(2026, 1, 9, 18)


def test_exact_to_the_second() -> None:
    assert CAL.add_working_time(sh(2026, 6, 1, 11, 59, 59), timedelta(seconds=2)) == sh(
        2026, 6, 1, 14, 30, 1
    )


def test_zero_duration_returns_start_unchanged() -> None:
    sunday_night = sh(2026, 6, 7, 22)
    assert CAL.add_working_time(sunday_night, timedelta(0)) == sunday_night
    in_utc = datetime(2026, 6, 7, 14, tzinfo=UTC)
    result = CAL.add_working_time(in_utc, timedelta(0))
    assert result == in_utc
    assert result.tzinfo is SHANGHAI


def test_72_working_hours_at_7_hours_a_day_is_about_10_3_working_days() -> None:
    assert CAL.hours_per_day() == 7.0
    assert round(72 / CAL.hours_per_day(), 1) == 10.3
    # Ten full days (two weeks) are 70 h; the last 2 h are Monday 15 June 08:30-10:30.
    assert CAL.add_working_time(sh(2026, 6, 1, 8, 30), hours(72)) == sh(2026, 6, 15, 10, 30)


def test_72_working_hours_at_9_hours_a_day_is_8_working_days() -> None:
    cal = WorkingCalendar(tz=SHANGHAI, periods=((time(8), time(12)), (time(13), time(18))))
    assert cal.hours_per_day() == 9.0
    assert cal.add_working_time(sh(2026, 6, 1, 8), hours(72)) == sh(2026, 6, 10, 18)


def test_1000_working_hours_is_fast_and_exact() -> None:
    # 1000 h = 142 days of 7 h + 6 h; 142 days = 28 weeks + Monday and Tuesday, so the
    # last 6 h are Wednesday 22 July 2026: 08:30-12:00 and 14:30-17:00.
    began = timer.perf_counter()
    result = CAL.add_working_time(sh(2026, 1, 5, 8, 30), hours(1000))
    assert timer.perf_counter() - began < 0.5
    assert result == sh(2026, 7, 22, 17)
    assert CAL.working_time_between(sh(2026, 1, 5, 8, 30), result) == hours(1000)


def test_other_zones_in_calendar_zone_out() -> None:
    start = datetime(2026, 6, 1, 1, tzinfo=UTC)  # 09:00 in Shanghai
    result = CAL.add_working_time(start, hours(2))
    assert result == sh(2026, 6, 1, 11)
    assert result.tzinfo is SHANGHAI
    assert result.hour == 11


# --- working_time_between ---


def test_working_time_between_simple_and_negative() -> None:
    a, b = sh(2026, 6, 1, 11), sh(2026, 6, 2, 9)
    assert CAL.working_time_between(a, b) == hours(1 + 3.5 + 0.5)
    assert CAL.working_time_between(b, a) == -hours(5)
    assert CAL.working_time_between(a, a) == timedelta(0)
    # A weekend alone holds no working time.
    assert CAL.working_time_between(sh(2026, 6, 5, 18), sh(2026, 6, 8, 8, 30)) == timedelta(0)


@pytest.mark.parametrize("calendar", [CAL, NATIONAL_DAY_2026, WorkingCalendar(tz=BERLIN)])
def test_working_time_between_inverts_add_working_time(calendar: WorkingCalendar) -> None:
    rng = random.Random(20260101)
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(250):
        start = origin + timedelta(seconds=rng.randrange(365 * 86400))
        duration = timedelta(seconds=rng.randrange(1, 300 * 3600))
        end = calendar.add_working_time(start, duration)
        assert end > start
        assert calendar.working_time_between(start, end) == duration
        assert calendar.working_time_between(end, start) == -duration
        # And the other way: from any a to any b, add gives the last working instant <= b.
        b = start + timedelta(seconds=rng.randrange(60 * 86400))
        between = calendar.working_time_between(start, b)
        reached = calendar.add_working_time(start, between)
        assert reached <= b
        assert calendar.working_time_between(reached, b) == timedelta(0)


# --- DST (Europe/Berlin; Asia/Shanghai has none) ---


def test_berlin_spring_forward_weekend() -> None:
    cal = WorkingCalendar(tz=BERLIN)
    friday = berlin(2026, 3, 27, 16)  # CET, +01:00
    monday = cal.add_working_time(friday, hours(4))
    assert monday == berlin(2026, 3, 30, 10, 30)
    assert monday.utcoffset() == hours(2)  # CEST
    assert cal.working_time_between(friday, monday) == hours(4)


def test_berlin_fall_back_weekend() -> None:
    cal = WorkingCalendar(tz=BERLIN)
    friday = berlin(2026, 10, 23, 17)  # CEST, +02:00
    monday = cal.add_working_time(friday, hours(2))
    assert monday == berlin(2026, 10, 26, 9, 30)
    assert monday.utcoffset() == hours(1)  # CET
    assert cal.working_time_between(friday, monday) == hours(2)


def test_a_night_period_across_a_dst_change_counts_real_time() -> None:
    night = WorkingCalendar(
        tz=BERLIN, periods=((time(1), time(4)),), weekdays=frozenset(range(1, 8))
    )
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST, so 01:00-04:00 lasts two hours.
    assert night.working_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == hours(2)
    assert night.add_working_time(berlin(2026, 3, 29), hours(2)) == berlin(2026, 3, 29, 4)
    # 25 October 2026: 03:00 CEST falls back to 02:00 CET, so 01:00-04:00 lasts four.
    assert night.working_time_between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == hours(4)
    assert night.add_working_time(berlin(2026, 10, 25), hours(4)) == berlin(2026, 10, 25, 4)


def test_a_period_boundary_inside_the_dst_gap_counts_nothing_twice() -> None:
    cal = WorkingCalendar(
        tz=BERLIN,
        periods=((time(1), time(2, 30)), (time(3, 15), time(5))),
        weekdays=frozenset(range(1, 8)),
    )
    # On 29 March 2026 02:30 does not exist and is read as 03:30 CEST, after 03:15: the
    # periods touch and overlap in real time. 01:00 CET to 05:00 CEST is three real hours.
    assert cal.working_time_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == hours(3)


# --- due_at ---


def test_due_at_without_a_calendar_is_calendar_time() -> None:
    created = datetime(2026, 6, 5, 17, tzinfo=UTC)
    assert due_at(created, hours(24), None) == datetime(2026, 6, 6, 17, tzinfo=UTC)
    # Real elapsed time even across a DST change: 24 h after Saturday noon CET is 13:00 CEST.
    assert due_at(berlin(2026, 3, 28, 12), hours(24), None) == berlin(2026, 3, 29, 13)


def test_due_at_with_a_calendar_counts_working_time() -> None:
    created = datetime(2026, 6, 5, 9, tzinfo=UTC)  # Friday 17:00 in Shanghai
    # 1 h on Friday, 7 h on each of Monday to Wednesday, 2 h on Thursday morning.
    assert due_at(created, hours(24), CAL) == sh(2026, 6, 11, 10, 30)


# --- validation ---


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"periods": ()}, "at least one working period"),
        ({"periods": ((time(12), time(9)),)}, "must start before it ends"),
        ({"periods": ((time(9), time(9)),)}, "must start before it ends"),
        ({"periods": ((time(14), time(18)), (time(8), time(12)))}, "sorted"),
        ({"periods": ((time(8), time(13)), (time(12), time(18)))}, "overlap"),
        ({"periods": ((time(8, tzinfo=UTC), time(12)),)}, "without tzinfo"),
        ({"weekdays": frozenset({0, 1})}, "ISO numbers"),
        (
            {
                "holidays": frozenset({date(2026, 10, 10)}),
                "extra_workdays": frozenset({date(2026, 10, 10)}),
            },
            "both a holiday and an extra working day: 2026-10-10",
        ),
    ],
)
def test_invalid_calendars_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(tz=SHANGHAI, **kwargs)


def test_touching_periods_are_allowed_and_collections_are_frozen() -> None:
    cal = WorkingCalendar(
        tz=SHANGHAI,
        periods=[[time(8), time(12)], [time(12), time(13)]],  # type: ignore[arg-type]
        weekdays={1, 2},  # type: ignore[arg-type]
    )
    assert cal.periods == ((time(8), time(12)), (time(12), time(13)))
    assert cal.weekdays == frozenset({1, 2})
    assert cal.hours_per_day() == 5.0
    hash(cal)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_time(sh(2026, 6, 1, 9), -hours(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_time(datetime(2026, 6, 1, 9), hours(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.working_time_between(sh(2026, 6, 1, 9), datetime(2026, 6, 1, 10))


def test_a_calendar_without_working_days_does_not_loop_forever() -> None:
    never = WorkingCalendar(tz=SHANGHAI, weekdays=frozenset())
    with pytest.raises(ValueError, match="no working day within 366 days"):
        never.add_working_time(sh(2026, 6, 1, 9), hours(1))
    # A single 调休 day in the past does not help either.
    past_only = WorkingCalendar(
        tz=SHANGHAI, weekdays=frozenset(), extra_workdays=frozenset({date(2025, 1, 1)})
    )
    with pytest.raises(ValueError, match="no working day"):
        past_only.add_working_time(sh(2026, 6, 1, 9), hours(1))
    # But a gap of 364 idle days before a working day is still bridged.
    far = WorkingCalendar(
        tz=SHANGHAI, weekdays=frozenset(), extra_workdays=frozenset({date(2027, 5, 31)})
    )
    assert far.add_working_time(sh(2026, 6, 1, 9), hours(1)) == sh(2027, 5, 31, 9, 30)
