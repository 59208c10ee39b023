"""How well communities close reports: the county's 办结率 and the figures around it.

The figures follow city-management practice (数字城管): a period's 应结案数 (due) is what was
closed in it plus what is past its deadline and still open at its end, so an overdue report
carries over into every period until it is closed, and a report closed early counts at once.

Two layers: a `Tally` holds the raw counts of one period (and the closure durations), and
`Metrics` derives the rates from it. Production tallies are counted in SQL, bounded by the
period (storage/figures.py); `tally()` here counts the same from plain `ReportFacts` and is
the reference that a property test holds the SQL to. docs/metrics.md gives each definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal


@dataclass(frozen=True)
class ReportFacts:
    """What the metrics need to know about one report, already read from storage."""

    id: int
    community_id: str | None  # current owner; None = the supervisors' queue
    category: str
    created_at: datetime  # aware
    deadline_at: datetime
    # Closure moment: for a fix, the last time staff resolved it (the rider's confirmation
    # validates it, it does not move the clock); for a rejection, when it was rejected.
    # None while not closed: a resolved report awaiting confirmation is not closed.
    closed_at: datetime | None
    outcome: Literal["fixed", "rejected"] | None  # None while not closed
    resolved_count: int  # times staff resolved it
    reopened_count: int  # times a rider said "not fixed" (返工)
    transfers: tuple[datetime, ...]  # when it was transferred between communities
    feedback: tuple[tuple[datetime, bool], ...]  # rider answers to "已解决？": (when, fixed?)


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of aware moments, so adjacent periods never overlap."""

    start: datetime  # inclusive
    end: datetime  # exclusive

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Period bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("Period must end after it starts")

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class ClosureTimes:
    """The closure times the figures show (median, 90th percentile) without the others.

    A year of the county's closures is a million durations; the database finds the two or
    three that these figures read (`ranks`) and leaves the rest where they are.
    """

    median: timedelta | None
    p90: timedelta | None

    @staticmethod
    def ranks(count: int) -> tuple[int, ...]:
        """The 0-based positions, in ascending order, that the figures read of `count`."""
        if not count:
            return ()
        return tuple(sorted({(count - 1) // 2, count // 2, _p90_rank(count) - 1}))

    @classmethod
    def of(cls, durations: Sequence[timedelta]) -> ClosureTimes:
        """From every duration, ascending."""
        return cls(_median(durations), _p90(durations))

    @classmethod
    def at_ranks(cls, count: int, found: dict[int, timedelta]) -> ClosureTimes:
        """From the durations at `ranks(count)` of `count` (ascending), by position."""
        if not count:
            return cls(None, None)
        half = count // 2
        median = found[half] if count % 2 else (found[half - 1] + found[half]) / 2
        return cls(median, found[_p90_rank(count) - 1])


@dataclass(frozen=True)
class Tally:
    """The raw counts of one period for one desk (or the county); every field adds up."""

    received: int = 0  # created_at in the period
    received_resolved: int = 0  # of those, resolved at least once
    received_reopened: int = 0  # of those, reopened at least once
    closed: int = 0  # closure moment in the period
    closed_fixed: int = 0
    rejected: int = 0
    closed_on_time: int = 0  # closed in the period with closed_at <= deadline_at
    open_at_end: int = 0  # created before the end, not closed before it
    overdue_open: int = 0  # of those, deadline_at < end
    feedback_count: int = 0  # rider answers given in the period
    feedback_fixed: int = 0  # of those, "fixed"
    transfers: int = 0  # transfer moments in the period
    # closed_at - created_at of the period's closures, ascending (the same reports as `closed`)
    durations: tuple[timedelta, ...] = field(default=())
    # Instead of `durations`, only what the figures read of them (the county's totals)
    times: ClosureTimes | None = None

    def __add__(self, other: Tally) -> Tally:
        return Tally.total([self, other])

    @staticmethod
    def total(parts: Iterable[Tally]) -> Tally:
        """The sum of several tallies (the county from its desks), sorting durations once.

        Closure `times` cannot be added up: at most one part may hold them, and then it
        holds every closure time of the sum (no other part has durations).
        """
        parts = list(parts)
        counts = {
            f.name: sum(getattr(p, f.name) for p in parts)
            for f in fields(Tally)
            if f.name not in ("durations", "times")
        }
        durations = sorted(d for p in parts for d in p.durations)
        times = [p.times for p in parts if p.times is not None]
        if times and (len(times) > 1 or durations):
            raise ValueError("closure times summarised in one part cannot be added to others")
        return Tally(**counts, durations=tuple(durations), times=times[0] if times else None)


@dataclass(frozen=True)
class Metrics:
    """The figures of one period; rates are None where their denominator is 0."""

    received: int  # 上报数: created_at in period
    due: int  # 应结案数 = closed + overdue_open
    closed: int  # 办结数: closure moment in the period
    closed_fixed: int  # of those, outcome == "fixed"
    rejected: int  # of those, outcome == "rejected"
    closed_on_time: int  # 按期办结数: of those, closed_at <= deadline_at
    overdue_open: int  # 超期未结数: open at the end with deadline_at < end
    closure_rate: float | None  # 办结率 = closed / due
    on_time_rate: float | None  # 按期办结率 = closed_on_time / due
    median_time_to_close: timedelta | None  # over the period's closures
    p90_time_to_close: timedelta | None  # nearest rank over the same durations
    reopen_rate: float | None  # 返工率, among reports received in the period
    satisfaction: float | None  # 满意率 = "fixed" answers / answers given in the period
    feedback_count: int  # answers given in the period
    transfers: int  # transfer moments in period
    open_at_end: int  # created before end, not closed before end

    @classmethod
    def of(cls, counts: Tally) -> Metrics:
        times = counts.times or ClosureTimes.of(sorted(counts.durations))
        due = counts.closed + counts.overdue_open
        return cls(
            received=counts.received,
            due=due,
            closed=counts.closed,
            closed_fixed=counts.closed_fixed,
            rejected=counts.rejected,
            closed_on_time=counts.closed_on_time,
            overdue_open=counts.overdue_open,
            closure_rate=_rate(counts.closed, due),
            on_time_rate=_rate(counts.closed_on_time, due),
            median_time_to_close=times.median,
            p90_time_to_close=times.p90,
            reopen_rate=_rate(counts.received_reopened, counts.received_resolved),
            satisfaction=_rate(counts.feedback_fixed, counts.feedback_count),
            feedback_count=counts.feedback_count,
            transfers=counts.transfers,
            open_at_end=counts.open_at_end,
        )


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _median(durations: Sequence[timedelta]) -> timedelta | None:
    """statistics.median over sorted durations (typeshed types it for numbers only)."""
    if not durations:
        return None
    half = len(durations) // 2
    if len(durations) % 2:
        return durations[half]
    return (durations[half - 1] + durations[half]) / 2


def _p90(durations: Sequence[timedelta]) -> timedelta | None:
    """Nearest rank over sorted durations, so the figure is a duration that really happened."""
    if not durations:
        return None
    return durations[_p90_rank(len(durations)) - 1]


def _p90_rank(count: int) -> int:
    """The nearest rank of the 90th percentile, 1-based: ceil(0.9 * n), in integers (exact
    at n = 10, 20, …)."""
    return -(-9 * count // 10)


def tally(facts: Iterable[ReportFacts], period: Period) -> Tally:
    """The reference count of `period` over `facts` (see docs/metrics.md)."""
    reports = tuple(facts)
    end = period.end
    closed = [r for r in reports if r.closed_at is not None and r.closed_at in period]
    received = [r for r in reports if r.created_at in period]
    still_open = [
        r for r in reports if r.created_at < end and (r.closed_at is None or r.closed_at >= end)
    ]
    answers = [fixed for r in reports for when, fixed in r.feedback if when in period]
    return Tally(
        received=len(received),
        received_resolved=sum(1 for r in received if r.resolved_count > 0),
        received_reopened=sum(1 for r in received if r.reopened_count > 0),
        closed=len(closed),
        closed_fixed=sum(1 for r in closed if r.outcome == "fixed"),
        rejected=sum(1 for r in closed if r.outcome == "rejected"),
        closed_on_time=sum(
            1 for r in closed if r.closed_at is not None and r.closed_at <= r.deadline_at
        ),
        open_at_end=len(still_open),
        overdue_open=sum(1 for r in still_open if r.deadline_at < end),
        feedback_count=len(answers),
        feedback_fixed=sum(answers),
        transfers=sum(1 for r in reports for moment in r.transfers if moment in period),
        durations=tuple(sorted(r.closed_at - r.created_at for r in closed if r.closed_at)),
    )


def compute(facts: Iterable[ReportFacts], period: Period) -> Metrics:
    """The metrics of `period` over `facts`: the reference for the SQL figures."""
    return Metrics.of(tally(facts, period))


def by_community(
    facts: Iterable[ReportFacts], period: Period, community_ids: Sequence[str | None]
) -> dict[str | None, Tally]:
    """Reference tallies per current owner, in the order given; None is the supervisors' queue.

    A transferred report counts entirely (its transfers too) under the community that owns it
    now, which is the one answerable for it. Reports of communities not listed are left out.
    """
    groups: dict[str | None, list[ReportFacts]] = {cid: [] for cid in community_ids}
    for report in facts:
        if report.community_id in groups:
            groups[report.community_id].append(report)
    return {cid: tally(groups[cid], period) for cid in community_ids}


def week_of(day_or_dt: date | datetime, tz: tzinfo) -> Period:
    """The ISO week (Monday 00:00 to the next Monday 00:00, local time in `tz`) containing it.

    A date is read as a local day in `tz`; a datetime must be aware and is first converted.
    """
    if isinstance(day_or_dt, datetime):
        if day_or_dt.tzinfo is None:
            raise ValueError("week_of needs an aware datetime (or a date)")
        day = day_or_dt.astimezone(tz).date()
    else:
        day = day_or_dt
    monday = day - timedelta(days=day.weekday())
    return Period(
        start=datetime.combine(monday, time(), tzinfo=tz),
        end=datetime.combine(monday + timedelta(days=7), time(), tzinfo=tz),
    )


def last_days(now: datetime, days: int) -> Period:
    """The `days` days up to `now` (exclusive): a rolling window for "the last week" views."""
    if days <= 0:
        raise ValueError("days must be positive")
    return Period(start=now - timedelta(days=days), end=now)


def ranked(metrics: dict[str | None, Metrics]) -> list[tuple[str | None, Metrics]]:
    """Best first: 办结率 desc, then 按期办结率 desc, then more due, then id.

    Rates that are None (nothing due) come last; the supervisors' queue (None) comes after
    named communities when everything else ties, so the order is total and stable.
    """

    def key(item: tuple[str | None, Metrics]) -> tuple[object, ...]:
        cid, m = item
        return (
            m.closure_rate is None,
            -(m.closure_rate or 0.0),
            m.on_time_rate is None,
            -(m.on_time_rate or 0.0),
            -m.due,
            cid is None,
            cid or "",
        )

    return sorted(metrics.items(), key=key)


def percent(x: float | None) -> str:
    """A rate for display: "—" when undefined, one decimal, but "100%" and "0%" bare.

    Rounds half up, as people do by hand (13/16 → "81.3%", not "81.2%").
    """
    if x is None:
        return "—"
    value = (Decimal(x) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if value == 100:
        return "100%"
    if value == 0:
        return "0%"
    return f"{value}%"
