"""Tests for bot.reporting.metrics: every figure checked against small tables computed by hand.

All tables live around one period, the week Mon 2026-03-02 00:00 → Mon 2026-03-09 00:00 in
Asia/Shanghai; `t(d, h)` is d days and h hours after its start, so t(0) is the start,
t(7) the (exclusive) end, negative days are last week and days ≥ 7 next week.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reporting.metrics import (
    ClosureTimes,
    Metrics,
    Period,
    ReportFacts,
    Tally,
    by_community,
    compute,
    last_days,
    percent,
    ranked,
    tally,
    week_of,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, tzinfo=SHANGHAI)
WEEK = Period(START, START + timedelta(days=7))
LAST_WEEK = Period(START - timedelta(days=7), START)
NEXT_WEEK = Period(START + timedelta(days=7), START + timedelta(days=14))

# Nothing received, nothing due, nothing open: the baseline each expectation changes.
EMPTY = Metrics(
    received=0,
    due=0,
    closed=0,
    closed_fixed=0,
    rejected=0,
    closed_on_time=0,
    closure_rate=None,
    on_time_rate=None,
    median_time_to_close=None,
    p90_time_to_close=None,
    reopen_rate=None,
    satisfaction=None,
    feedback_count=0,
    transfers=0,
    open_at_end=0,
    overdue_open=0,
)


def t(days: float, hours: float = 0) -> datetime:
    return START + timedelta(days=days, hours=hours)


def report(
    id: int,
    created: datetime,
    deadline: datetime,
    *,
    fixed: datetime | None = None,
    rejected: datetime | None = None,
    resolved: int | None = None,
    reopened: int = 0,
    community: str | None = "A",
    transfers: tuple[datetime, ...] = (),
    feedback: tuple[tuple[datetime, bool], ...] = (),
) -> ReportFacts:
    """A report; `fixed=` or `rejected=` closes it then. A fix implies one resolve by default."""
    assert fixed is None or rejected is None
    return ReportFacts(
        id=id,
        community_id=community,
        category="sanitation",
        created_at=created,
        deadline_at=deadline,
        closed_at=fixed or rejected,
        outcome="fixed" if fixed else "rejected" if rejected else None,
        resolved_count=resolved if resolved is not None else int(fixed is not None),
        reopened_count=reopened,
        transfers=transfers,
        feedback=feedback,
    )


def test_empty_input_gives_zero_counts_and_no_rates() -> None:
    assert compute([], WEEK) == EMPTY


def test_reports_wholly_outside_the_period_count_for_nothing() -> None:
    facts = [
        report(1, t(-6), t(-4), fixed=t(-5)),  # last week, closed last week
        report(2, t(8), t(9)),  # next week
    ]
    assert compute(facts, WEEK) == EMPTY


def test_report_spanning_the_boundaries() -> None:
    # Created last week, due this week, fixed next week (11 days after creation).
    facts = [report(1, t(-3), t(2), fixed=t(8))]

    assert compute(facts, WEEK) == replace(
        EMPTY,
        due=1,  # deadline t(2) is this week
        closed=0,  # closed_at t(8) ≥ end t(7)
        closure_rate=0.0,  # 0 / 1
        on_time_rate=0.0,  # 0 / 1
        # not received this week → no reopen rate; closed next week → no duration here
        open_at_end=1,  # created before end, closed after it
        overdue_open=1,  # deadline t(2) < end
    )
    assert compute(facts, LAST_WEEK) == replace(
        EMPTY,
        received=1,
        reopen_rate=0.0,  # 0 reopened / 1 resolved (counts as known now)
        open_at_end=1,
        overdue_open=0,  # deadline t(2) ≥ last week's end t(0)
    )
    # Closed next week, late: it counts there as closed (and due), not on time.
    assert compute(facts, NEXT_WEEK) == replace(
        EMPTY,
        due=1,
        closed=1,
        closed_fixed=1,
        closure_rate=1.0,
        on_time_rate=0.0,  # t(8) > t(2)
        median_time_to_close=timedelta(days=11),  # t(8) − t(-3), closed in next week
        p90_time_to_close=timedelta(days=11),
    )


def test_a_report_closed_before_its_deadline_counts_when_it_closes() -> None:
    # Created last week, fixed last week, deadline this week: an early closure counts at
    # once, in the week it closed; this week there is nothing left to do.
    facts = [report(1, t(-5), t(1), fixed=t(-1))]
    assert compute(facts, WEEK) == EMPTY
    assert compute(facts, LAST_WEEK) == replace(
        EMPTY,
        received=1,
        due=1,
        closed=1,
        closed_fixed=1,
        closed_on_time=1,  # t(-1) ≤ t(1)
        closure_rate=1.0,
        on_time_rate=1.0,
        median_time_to_close=timedelta(days=4),
        p90_time_to_close=timedelta(days=4),
        reopen_rate=0.0,
    )


def test_three_closed_today_one_still_open_is_100_percent() -> None:
    # The supervisor's scenario: four reports, three accepted, resolved and confirmed fixed
    # today with deadlines tomorrow, one still open and not yet due.
    facts = [report(i, t(0), t(3), fixed=t(2)) for i in (1, 2, 3)] + [report(4, t(0), t(3))]
    m = compute(facts, Period(t(0), t(2, 12)))
    assert (m.closed, m.due, m.closure_rate, m.on_time_rate) == (3, 3, 1.0, 1.0)
    assert m.open_at_end == 1 and m.overdue_open == 0
    assert m.median_time_to_close == timedelta(days=2)  # the same three reports


def test_an_overdue_report_carries_over_until_it_is_closed() -> None:
    # Due on the Wednesday of week 0, closed on the Tuesday of week 3.
    facts = [report(1, t(0), t(2), fixed=t(22))]
    weeks = [Period(t(7 * w), t(7 * w + 7)) for w in range(4)]
    figures = [compute(facts, week) for week in weeks]
    assert [(m.closed, m.overdue_open, m.due) for m in figures] == [
        (0, 1, 1),  # week 0: past its deadline at the end, open
        (0, 1, 1),  # week 1: still overdue, due again
        (0, 1, 1),  # week 2: and again
        (1, 0, 1),  # week 3: closed, late
    ]
    assert [m.closure_rate for m in figures] == [0.0, 0.0, 0.0, 1.0]
    assert [m.on_time_rate for m in figures] == [0.0, 0.0, 0.0, 0.0]


def test_reopened_then_fixed() -> None:
    facts = [
        # Resolved, rider said "not fixed", resolved again at t(2, 12), rider confirmed.
        report(
            1,
            t(0),
            t(3),
            fixed=t(2, 12),
            resolved=2,
            reopened=1,
            feedback=((t(1), False), (t(2, 18), True)),
        ),
        # Resolved, awaiting the rider's confirmation: not closed.
        report(2, t(1), t(10), resolved=1),
        # Dispatched, never resolved: outside the reopen rate's denominator.
        report(3, t(4), t(9)),
    ]
    assert compute(facts, WEEK) == replace(
        EMPTY,
        received=3,
        due=1,  # only #1; t(10) and t(9) are next week
        closed=1,
        closed_fixed=1,
        closed_on_time=1,  # t(2, 12) ≤ t(3)
        closure_rate=1.0,
        on_time_rate=1.0,
        median_time_to_close=timedelta(days=2, hours=12),  # the last resolve, not the confirmation
        p90_time_to_close=timedelta(days=2, hours=12),
        reopen_rate=0.5,  # 1 reopened (#1) / 2 resolved (#1, #2)
        satisfaction=0.5,  # 1 "fixed" / 2 answers
        feedback_count=2,
        open_at_end=2,  # #2, #3
        overdue_open=0,  # their deadlines t(10), t(9) are after the end
    )


def test_rejection_is_closed_but_not_fixed() -> None:
    facts = [
        report(1, t(0), t(5), rejected=t(1)),  # duplicate, 1 day
        report(2, t(0), t(4), fixed=t(3)),  # 3 days
    ]
    assert compute(facts, WEEK) == replace(
        EMPTY,
        received=2,
        due=2,
        closed=2,
        closed_fixed=1,
        rejected=1,
        closed_on_time=2,
        closure_rate=1.0,
        on_time_rate=1.0,
        median_time_to_close=timedelta(days=2),  # median of 1 d and 3 d
        p90_time_to_close=timedelta(days=3),  # n = 2: ceil(1.8) = 2nd
        reopen_rate=0.0,  # 0 reopened / 1 resolved (#2; #1 was never resolved)
    )


def test_resolved_awaiting_confirmation_is_not_closed() -> None:
    facts = [report(1, t(0), t(2), resolved=1)]
    assert compute(facts, WEEK) == replace(
        EMPTY,
        received=1,
        due=1,
        closure_rate=0.0,
        on_time_rate=0.0,
        reopen_rate=0.0,
        open_at_end=1,
        overdue_open=1,
    )


def test_closed_exactly_at_the_deadline_is_on_time() -> None:
    facts = [
        report(1, t(0), t(2), fixed=t(2)),  # exactly at the deadline
        report(2, t(0), t(2), fixed=t(2) + timedelta(seconds=1)),  # one second late
    ]
    assert compute(facts, WEEK) == replace(
        EMPTY,
        received=2,
        due=2,
        closed=2,
        closed_fixed=2,
        closed_on_time=1,
        closure_rate=1.0,
        on_time_rate=0.5,
        median_time_to_close=timedelta(days=2, seconds=0.5),  # mean of the middle two
        p90_time_to_close=timedelta(days=2, seconds=1),
        reopen_rate=0.0,  # 0 / 2
    )


def test_closed_after_the_period_end() -> None:
    facts = [report(1, t(0), t(6), fixed=t(7))]  # fixed at the very end: not "< end"
    assert compute(facts, WEEK) == replace(
        EMPTY,
        received=1,
        due=1,
        closure_rate=0.0,
        on_time_rate=0.0,
        reopen_rate=0.0,  # 0 / 1
        open_at_end=1,
        overdue_open=1,  # t(6) < t(7)
    )
    # It is closed (late) in the week it was closed, with its time to close.
    assert compute(facts, NEXT_WEEK) == replace(
        EMPTY,
        due=1,
        closed=1,
        closed_fixed=1,
        closure_rate=1.0,
        on_time_rate=0.0,
        median_time_to_close=timedelta(days=7),
        p90_time_to_close=timedelta(days=7),
    )


@pytest.mark.parametrize(
    ("n", "median", "p90"),
    [
        (1, timedelta(hours=1), timedelta(hours=1)),  # ceil(0.9) = 1st
        (10, timedelta(hours=5, minutes=30), timedelta(hours=9)),  # ceil(9.0) = 9th
        (11, timedelta(hours=6), timedelta(hours=10)),  # ceil(9.9) = 10th
    ],
)
def test_median_and_nearest_rank_p90(n: int, median: timedelta, p90: timedelta) -> None:
    # Durations 1 h … n h, given in reverse order.
    facts = [report(h, t(0), t(6), fixed=t(0, h)) for h in range(n, 0, -1)]
    assert compute(facts, WEEK) == replace(
        EMPTY,
        received=n,
        due=n,
        closed=n,
        closed_fixed=n,
        closed_on_time=n,
        closure_rate=1.0,
        on_time_rate=1.0,
        median_time_to_close=median,
        p90_time_to_close=p90,
        reopen_rate=0.0,
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3, 9, 10, 11, 19, 20, 21, 101])
def test_the_closure_times_read_by_rank_are_those_of_all_of_them(n: int) -> None:
    """The county's median and p90 come from the values at ClosureTimes.ranks alone (the
    database reads only those): the same as from every duration, ties and halves too."""
    durations = sorted(timedelta(minutes=(7 * i) % 13, seconds=i % 3) for i in range(n))
    ranks = ClosureTimes.ranks(n)
    assert len(ranks) <= 3
    found = {rank: durations[rank] for rank in ranks}
    assert ClosureTimes.at_ranks(n, found) == ClosureTimes.of(durations)
    summarised = Tally(closed=n, times=ClosureTimes.at_ranks(n, found))
    assert Metrics.of(summarised) == Metrics.of(Tally(closed=n, durations=tuple(durations)))


def test_satisfaction_ignores_answers_outside_the_period() -> None:
    facts = [
        report(
            1,
            t(-2),
            t(10),
            resolved=3,
            reopened=2,
            feedback=(
                (t(-1), True),  # last week: ignored
                (t(0), False),  # at the start: counted
                (t(3), True),
            ),
        ),
        report(2, t(-1), t(10), resolved=1, feedback=((t(6, 23), True), (t(7), False))),
        # t(7) is the end: ignored
    ]
    assert compute(facts, WEEK) == replace(
        EMPTY,
        satisfaction=2 / 3,  # False, True, True
        feedback_count=3,
        open_at_end=2,
        # received last week: no reopen rate this week
    )


def test_transfers_are_counted_by_moment() -> None:
    facts = [
        report(1, t(-3), t(10), transfers=(t(-1), t(0), t(3))),  # t(-1) is last week
        report(2, t(-3), t(10), transfers=(t(7) - timedelta(minutes=1), t(7))),  # t(7) is next
    ]
    assert compute(facts, WEEK) == replace(EMPTY, transfers=3, open_at_end=2)
    assert compute(facts, LAST_WEEK) == replace(EMPTY, received=2, transfers=1, open_at_end=2)


def test_open_and_overdue_open() -> None:
    facts = [
        report(1, t(-10), t(-5)),  # open, overdue
        report(2, t(2), t(7)),  # open; due at the end exactly: neither due nor overdue
        report(3, t(7), t(9)),  # created at the end: not yet there
        report(4, t(1), t(3), rejected=t(5)),  # closed late, 4 days
        report(5, t(1), t(4), resolved=1),  # awaiting confirmation: open, overdue
        report(6, t(-3), t(20), fixed=t(10)),  # closed next week: open at end
    ]
    assert compute(facts, WEEK) == replace(
        EMPTY,
        received=3,  # #2, #4, #5
        due=3,  # closed #4 + overdue and open #1, #5
        closed=1,  # #4
        rejected=1,
        closed_on_time=0,  # t(5) > t(3)
        closure_rate=1 / 3,
        on_time_rate=0.0,
        median_time_to_close=timedelta(days=4),
        p90_time_to_close=timedelta(days=4),
        reopen_rate=0.0,  # 0 / 1 (#5; #2 and #4 were never resolved)
        open_at_end=4,  # #1, #2, #5, #6
        overdue_open=2,  # #1, #5
    )


def test_by_community_groups_by_current_owner_in_the_given_order() -> None:
    facts = [
        report(1, t(0), t(2), fixed=t(1), community="A"),
        report(2, t(0), t(3), fixed=t(4), community="A"),
        # Transferred to B at t(1): B owns it now, its transfer included.
        report(3, t(0), t(2), community="B", transfers=(t(1),)),
        report(4, t(0), t(2), fixed=t(1), community=None),
        report(5, t(0), t(2), community="Z"),  # not asked for: left out
    ]
    tallies = by_community(iter(facts), WEEK, ["B", None, "A", "C"])
    result = {cid: Metrics.of(counts) for cid, counts in tallies.items()}

    assert list(result) == ["B", None, "A", "C"]
    assert result["A"] == replace(
        EMPTY,
        received=2,
        due=2,
        closed=2,
        closed_fixed=2,
        closed_on_time=1,  # #1; #2 closed at t(4) > t(3)
        closure_rate=1.0,
        on_time_rate=0.5,
        median_time_to_close=timedelta(days=2, hours=12),  # median of 1 d and 4 d
        p90_time_to_close=timedelta(days=4),
        reopen_rate=0.0,
    )
    assert result["B"] == replace(
        EMPTY,
        received=1,
        due=1,
        closure_rate=0.0,
        on_time_rate=0.0,
        transfers=1,
        open_at_end=1,
        overdue_open=1,
    )
    assert result[None] == replace(
        EMPTY,
        received=1,
        due=1,
        closed=1,
        closed_fixed=1,
        closed_on_time=1,
        closure_rate=1.0,
        on_time_rate=1.0,
        median_time_to_close=timedelta(days=1),
        p90_time_to_close=timedelta(days=1),
        reopen_rate=0.0,
    )
    assert result["C"] == EMPTY


def test_ranked_orders_best_first_with_ties_and_none_last() -> None:
    def m(closure: float | None, on_time: float | None, due: int) -> Metrics:
        return replace(EMPTY, closure_rate=closure, on_time_rate=on_time, due=due)

    metrics: dict[str | None, Metrics] = {
        "f": m(None, None, 0),  # nothing due: last, by id
        "a": m(0.9, 0.5, 10),
        "d": m(0.9, 0.8, 20),
        None: m(0.9, 0.8, 20),  # ties with c and d: the supervisors' queue after them
        "g": m(0.0, 0.0, 5),  # a real 0% ranks above "nothing due"
        "b": m(0.9, 0.8, 10),
        "aa": m(None, None, 0),
        "e": m(1.0, 0.1, 1),  # best closure rate wins whatever else
        "c": m(0.9, 0.8, 20),
    }
    order = [cid for cid, _ in ranked(metrics)]
    assert order == ["e", "c", "d", None, "b", "a", "g", "aa", "f"]
    assert ranked({}) == []


def test_week_of_across_the_year_boundary() -> None:
    # 2026-12-31 is a Thursday of ISO week 2026-W53, which starts on Monday 2026-12-28.
    week = week_of(date(2026, 12, 31), SHANGHAI)
    assert week == Period(
        datetime(2026, 12, 28, tzinfo=SHANGHAI), datetime(2027, 1, 4, tzinfo=SHANGHAI)
    )
    assert week.start.isocalendar()[:3] == (2026, 53, 1)
    assert week.end - week.start == timedelta(days=7)

    # A datetime is placed by its local day in Shanghai (UTC+8), not its UTC day.
    sunday_late = datetime(2027, 1, 3, 15, 59, tzinfo=UTC)  # Sun 23:59 in Shanghai
    monday_midnight = datetime(2027, 1, 3, 16, 0, tzinfo=UTC)  # Mon 2027-01-04 00:00
    assert week_of(sunday_late, SHANGHAI) == week
    assert week_of(monday_midnight, SHANGHAI) == Period(
        datetime(2027, 1, 4, tzinfo=SHANGHAI), datetime(2027, 1, 11, tzinfo=SHANGHAI)
    )
    assert week_of(week.start, SHANGHAI) == week  # a Monday 00:00 starts its own week

    with pytest.raises(ValueError, match="aware"):
        week_of(datetime(2026, 12, 31), SHANGHAI)  # deliberately naive


def test_last_days_ends_now_exclusive() -> None:
    now = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    assert last_days(now, 7) == Period(datetime(2026, 2, 26, 14, 30, tzinfo=UTC), now)
    with pytest.raises(ValueError, match="positive"):
        last_days(now, 0)


def test_period_rejects_naive_or_empty_bounds() -> None:
    with pytest.raises(ValueError, match="aware"):
        Period(datetime(2026, 3, 2), START)  # deliberately naive
    with pytest.raises(ValueError, match="after"):
        Period(START, START)


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        (None, "—"),
        (0.875, "87.5%"),
        (1.0, "100%"),
        (0.0, "0%"),
        (0.5, "50.0%"),
        (2 / 3, "66.7%"),
        (13 / 16, "81.3%"),  # 81.25 rounds half up
        (0.9996, "100%"),  # rounds to 100.0: shown bare
        (0.0004, "0%"),
        (0.9994, "99.9%"),
    ],
)
def test_percent(rate: float | None, shown: str) -> None:
    assert percent(rate) == shown


def test_tallies_add_up_to_the_county() -> None:
    facts = [
        report(1, t(0), t(2), fixed=t(1), community="A"),
        report(2, t(0), t(1), community="B", feedback=((t(3), False),)),
        report(3, t(-9), t(3), rejected=t(5), community=None, transfers=(t(4),)),
    ]
    parts = by_community(facts, WEEK, ["A", "B", None])
    assert sum(parts.values(), Tally()) == tally(facts, WEEK)
