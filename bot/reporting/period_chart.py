"""The digest's chart for any period (the console's figures page), not only a whole week.

The same drawing as the weekly digest's (bot/reporting/chart.py, the bars chosen by
digest_text.chart_bars): each community's 办结率 and 按期办结率 over the period, beside the
county's weekly trend over `digest.trend_weeks` weeks ending with the week the period ends
in. A week still running is counted up to `now`, like the period itself, so the last point
of the trend is not judged against deadlines that have not come yet.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot import texts
from bot.config import Config
from bot.reporting.chart import ChartLabels, TrendPoint, render_digest_chart
from bot.reporting.digest_text import chart_bars, week_label
from bot.reporting.figures import DeskFigures, Figures
from bot.reporting.metrics import Metrics, Period, week_of

log = logging.getLogger(__name__)


async def period_chart(
    config: Config,
    figures: Figures,
    period: Period,
    counted: DeskFigures,
    *,
    now: datetime,
    lang: str,
    title: str,
) -> bytes | None:
    """PNG bytes of the county chart for `period` (`counted`: its figures for every desk,
    of which the chart reads the two rates only); None when it could not be drawn (logged):
    the page shows its figures without it."""
    try:
        bars, shown_all = chart_bars(config, counted)
        last_week = week_of(period.end - timedelta(microseconds=1), config.timezone)
        trend = []
        for back in range(config.digest.trend_weeks - 1, -1, -1):
            start = last_week.start - timedelta(days=7 * back)
            end = min(start + timedelta(days=7), now)
            if end <= start:
                continue
            week = Period(start, end)
            found = (
                counted
                if week == period
                else await figures.tallies(week, durations=False, details=False)
            )
            m = Metrics.of(found.total)
            trend.append(
                TrendPoint(week_label(week, config.timezone), m.closure_rate, m.on_time_rate)
            )
        labels = ChartLabels(
            closure=texts.t(lang, "chart.closure"),
            on_time=texts.t(lang, "chart.on_time"),
            by_community=texts.t(lang, "county.chart_by_community")
            if shown_all
            else texts.t(lang, "county.chart_lowest", count=len(bars)),
            trend=texts.t(lang, "chart.trend"),
            no_data=texts.t(lang, "chart.no_data"),
        )
        return await asyncio.to_thread(
            render_digest_chart, bars, trend, title=title, labels=labels
        )
    except Exception:
        log.exception("period chart failed")
        return None
