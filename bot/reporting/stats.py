"""/stats: closure figures for a desk: its community's, or the whole county's.

The desk comes from the chat and topic the command was sent in (bot/domain/desks.py), before any
figure is counted; the figures are counted in SQL for the period alone (bot/reporting/figures.py).
"""

from __future__ import annotations

from datetime import datetime

from bot import texts
from bot.config import Config
from bot.domain.desks import Desk, desk_at
from bot.domain.numbers import parse_positive_int
from bot.messages import Outcome, say
from bot.reporting.figures import Figures
from bot.reporting.metrics import Metrics, Period, last_days, percent
from bot.texts.formatting import hours, when
from storage.database import Database

DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_DIGITS = 3


def parse_days(args: list[str]) -> int | None:
    """`/stats [days]`: ASCII digits only, clamped to a year; None when it is not a number."""
    if not args:
        return DEFAULT_DAYS
    days = parse_positive_int(args[0], 10**MAX_DIGITS - 1)
    return None if days is None else min(MAX_DAYS, days)


class Stats:
    def __init__(self, *, config: Config, db: Database) -> None:
        self.config = config
        self.figures = Figures(db)
        self.lang = config.language

    async def for_chat(
        self, chat_id: int, topic_id: int | None, now: datetime, args: list[str]
    ) -> Outcome:
        """The desk of this chat (and topic): its community, or the county for supervisors."""
        desk = desk_at(self.config, chat_id, topic_id)
        if desk is None:
            return say(texts.t(self.lang, "stats.not_here"))
        days = parse_days(args)
        if days is None:
            return say(texts.t(self.lang, "stats.usage", max=MAX_DAYS))
        return say(await self.text(desk, last_days(now, days), days))

    async def text(self, desk: Desk, period: Period, days: int) -> str:
        if not desk.is_county:
            metrics = await self.figures.metrics(period, desk.scope)
            return "\n".join([self._header(desk.name, period, days), *self._body(metrics)])
        return await self._county(period, days)

    def _header(self, name: str, period: Period, days: int) -> str:
        tz = self.config.timezone
        return texts.t(
            self.lang,
            "stats.title",
            name=name,
            days=days,
            start=when(period.start, tz, self.lang),
            end=when(period.end, tz, self.lang),
        )

    def _body(self, m: Metrics) -> list[str]:
        """The lines every desk shows; each describes the same reports as the one above."""
        lang = self.lang
        times = (
            texts.t(
                lang,
                "stats.times",
                median=hours(m.median_time_to_close, lang),
                p90=hours(m.p90_time_to_close, lang),
            )
            if m.closed
            else texts.t(lang, "stats.no_times")
        )
        return [
            texts.t(
                lang,
                "stats.counts",
                received=m.received,
                due=m.due,
                closed=m.closed,
                fixed=m.closed_fixed,
                rejected=m.rejected,
                overdue=m.overdue_open,
            ),
            texts.t(
                lang,
                "stats.rates",
                closure=percent(m.closure_rate),
                on_time=percent(m.on_time_rate),
                on_time_n=m.closed_on_time,
                due=m.due,
            ),
            times,
            texts.t(
                lang,
                "stats.quality",
                reopen=percent(m.reopen_rate),
                satisfaction=percent(m.satisfaction),
                answers=m.feedback_count,
                transfers=m.transfers,
            ),
            texts.t(lang, "stats.open", open=m.open_at_end, overdue=m.overdue_open),
        ]

    async def _county(self, period: Period, days: int) -> str:
        lang = self.lang
        counted = await self.figures.tallies(period, details=False)
        lines = [self._header(texts.t(lang, "stats.county"), period, days)]
        lines += counted.ranking_lines(self.config, "stats.row", lang)
        lines.append("")
        lines.append(f"<b>{texts.t(lang, 'stats.total')}</b>")
        lines += self._body(Metrics.of(counted.total))
        return "\n".join(lines)
