"""What the weekly digest says: each community's week, the county's ranking, the chart.

Every number comes from the SQL figures of the week (and the week before, for the change),
so a digest costs a handful of queries bounded by the week, whatever the history.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from bot import texts
from bot.config import ChatTarget, Config
from bot.domain.desks import Desk, desks
from bot.reporting.chart import ChartLabels, CommunityBar, TrendPoint, render_digest_chart
from bot.reporting.figures import EVERY, DeskFigures, Figures
from bot.reporting.metrics import Metrics, Period, percent
from bot.texts.formatting import hours, when

log = logging.getLogger(__name__)

SUPERVISORS = "_sup"
BOARD_SIZE = 5
TICKETS_SHOWN = 20  # per list in a community's digest
COUNTY_OVERDUE_SHOWN = 30
CHART_BARS = 40  # communities drawn at most (Telegram: width + height <= 10,000 px)


@dataclass(frozen=True)
class Digest:
    """One chat's digest: where it goes, its text, and (for the county) a chart."""

    target: str  # community id, or SUPERVISORS
    chat: ChatTarget
    text: str
    chart: bytes | None = None


def week_label(period: Period, tz: tzinfo) -> str:
    year, week, _ = period.start.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class _Week:
    """What every desk's digest of one week reads: counted once, shared by all."""

    period: Period
    label: str
    now: DeskFigures
    before: DeskFigures
    open_ids: dict[str | None, list[tuple[int, bool]]]
    overdue_ids: dict[str | None, list[tuple[int, bool]]]


class DigestWriter:
    def __init__(self, config: Config, figures: Figures) -> None:
        self.config = config
        self.figures = figures
        self.lang = config.language
        self.tz = config.timezone

    async def build(self, week: Period, only: Desk | None = None) -> list[Digest]:
        """Every desk's digest of `week`, or `only` that desk's (then only its own figures)."""
        scope = only.scope if only is not None else EVERY
        prev = Period(week.start - timedelta(days=7), week.start)
        counted = _Week(
            period=week,
            label=week_label(week, self.tz),
            now=await self.figures.tallies(week, scope),
            before=await self.figures.tallies(prev, scope, durations=False),
            open_ids=await self.figures.open_tickets(week, scope, per_desk=TICKETS_SHOWN),
            overdue_ids=await self.figures.open_tickets(
                week, scope, per_desk=TICKETS_SHOWN, overdue=True
            ),
        )
        digests = []
        for desk in [only] if only is not None else desks(self.config):
            if desk.community is not None:
                text = self._community_text(desk, counted)
                digests.append(Digest(desk.community.id, desk.chat, text))
            else:
                text = await self._county_text(counted)
                chart = await self._chart(counted)
                digests.append(Digest(SUPERVISORS, desk.chat, text, chart))
        return digests

    def _title(self, name: str, week: _Week) -> str:
        last_day = week.period.end - timedelta(microseconds=1)  # a week so far: today
        return texts.t(
            self.lang,
            "digest.title",
            name=name,
            week=week.label,
            start=_day(week.period.start, self.tz, self.lang),
            end=_day(last_day, self.tz, self.lang),
        )

    def _community_text(self, desk: Desk, week: _Week) -> str:
        lang = self.lang
        assert desk.community is not None
        cid = desk.community.id
        m, p = week.now.metrics(cid), week.before.metrics(cid)
        lines = [
            self._title(desk.name, week),
            texts.t(
                lang,
                "digest.received",
                received=m.received,
                previous=p.received,
                change=_signed(m.received - p.received),
                closed=m.closed,
                due=m.due,
                overdue=m.overdue_open,
            ),
            texts.t(
                lang,
                "digest.rates",
                closure=percent(m.closure_rate),
                closure_change=_points_change(m.closure_rate, p.closure_rate, lang),
                on_time=percent(m.on_time_rate),
            ),
            texts.t(
                lang,
                "digest.times",
                median=hours(m.median_time_to_close, lang),
                reopened=week.now.tally(cid).feedback_count - week.now.tally(cid).feedback_fixed,
            ),
        ]
        if m.open_at_end:
            lines.append(
                texts.t(
                    lang,
                    "digest.open",
                    open=m.open_at_end,
                    tickets=_tickets(week.open_ids.get(cid, []), m.open_at_end, lang),
                )
            )
        else:
            lines.append(texts.t(lang, "digest.all_closed"))
        if m.overdue_open:
            lines.append(
                texts.t(
                    lang,
                    "digest.overdue",
                    count=m.overdue_open,
                    tickets=_tickets(week.overdue_ids.get(cid, []), m.overdue_open, lang),
                )
            )
        return "\n".join(lines)

    async def _county_text(self, week: _Week) -> str:
        lang = self.lang
        lines = [self._title(texts.t(lang, "digest.county"), week)]
        lines += week.now.ranking_lines(self.config, "digest.row", lang)
        total, before = Metrics.of(week.now.total), Metrics.of(week.before.total)
        lines.append(
            texts.t(
                lang,
                "digest.total",
                received=total.received,
                previous=before.received,
                due=total.due,
                closed=total.closed,
                overdue=total.overdue_open,
                closure=percent(total.closure_rate),
                closure_change=_points_change(total.closure_rate, before.closure_rate, lang),
                on_time=percent(total.on_time_rate),
            )
        )
        if total.overdue_open:
            late = await self.figures.overdue_tickets(week.period, COUNTY_OVERDUE_SHOWN)
            items = _listed(
                [
                    texts.t(lang, "digest.ticket_at", ticket=i, place=self.config.desk_name(cid))
                    for i, cid in late
                ],
                total.overdue_open,
                lang,
            )
            lines.append(
                texts.t(lang, "digest.county_overdue", count=total.overdue_open, items=items)
            )
        standings = [
            s
            for s in await self.figures.board(week.period, self.config.points, BOARD_SIZE, lang)
            if s.points > 0
        ]
        if standings:
            lines.append(texts.t(lang, "digest.board_title"))
            lines += [
                texts.t(
                    lang,
                    "digest.board_row",
                    rank=s.rank,
                    name=s.name,
                    points=s.points,
                    reports=s.reports,
                )
                for s in standings
            ]
        return "\n".join(lines)

    async def _chart(self, week: _Week) -> bytes | None:
        """The county chart, drawn off the event loop; a digest without it beats none."""
        lang = self.lang
        try:
            bars, shown_all = chart_bars(self.config, week.now)
            trend = []
            for back in range(self.config.digest.trend_weeks - 1, -1, -1):
                start = week.period.start - timedelta(days=7 * back)
                period = Period(start, start + timedelta(days=7))
                figures = week.now if back == 0 else await self._county_only(period)
                m = Metrics.of(figures.total)
                trend.append(
                    TrendPoint(week_label(period, self.tz), m.closure_rate, m.on_time_rate)
                )
            labels = ChartLabels(
                closure=texts.t(lang, "chart.closure"),
                on_time=texts.t(lang, "chart.on_time"),
                by_community=texts.t(lang, "chart.by_community")
                if shown_all
                else texts.t(lang, "chart.by_community_lowest", count=len(bars)),
                trend=texts.t(lang, "chart.trend"),
                no_data=texts.t(lang, "chart.no_data"),
            )
            title = texts.t(lang, "chart.title", week=week.label)
            return await asyncio.to_thread(
                render_digest_chart, bars, trend, title=title, labels=labels
            )
        except Exception:
            log.exception("digest chart failed")
            return None

    async def _county_only(self, period: Period) -> DeskFigures:
        """A trend point reads the county's two rates only: no durations, no details."""
        return await self.figures.tallies(period, durations=False, details=False)


def chart_bars(config: Config, counted: DeskFigures) -> tuple[list[CommunityBar], bool]:
    """The communities the chart shows, and whether that is all of them.

    Telegram refuses a photo whose width and height add up to more than 10,000 px, and a
    bar per community for hundreds of them is unreadable anyway: beyond CHART_BARS the
    chart shows those with the lowest 办结率 (the ones that need attention), in file order.
    """
    everyone = [
        (i, CommunityBar(c.name, m.closure_rate, m.on_time_rate))
        for i, c in enumerate(config.communities)
        for m in [counted.metrics(c.id)]
    ]
    if len(everyone) <= CHART_BARS:
        return [bar for _, bar in everyone], True
    lowest = sorted(
        everyone, key=lambda ib: (ib[1].closure_rate is None, ib[1].closure_rate or 0.0)
    )
    return [bar for _, bar in sorted(lowest[:CHART_BARS], key=lambda ib: ib[0])], False


def _tickets(found: list[tuple[int, bool]], count: int, lang: str) -> str:
    return _listed([f"#{i}" for i, _ in found], count, lang)


def _listed(shown: list[str], count: int, lang: str) -> str:
    """The items shown, and "…" when there are more of them (`count` in all)."""
    return texts.t(lang, "digest.list_sep").join(shown) + ("…" if count > len(shown) else "")


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _points_change(now: float | None, before: float | None, lang: str) -> str:
    if now is None or before is None:
        return texts.t(lang, "digest.no_change")
    delta = round((now - before) * 100, 1)
    return texts.t(lang, "digest.change", delta=f"{delta:+.1f}".replace(".0", ""))


def _day(moment: datetime, tz: ZoneInfo, lang: str) -> str:
    return when(moment, tz, lang).rsplit(" ", 1)[0]
