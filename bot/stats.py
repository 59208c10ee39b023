"""/stats: closure figures for a dispatcher chat's community, or for the whole county.

Facts are read from the report rows and their events, then measured by bot.metrics (the
formulas are in docs/metrics.md).
"""

from __future__ import annotations

from datetime import datetime

from bot import texts
from bot.config import Config
from bot.facts import load_facts
from bot.formatting import hours, when
from bot.messages import Outcome, say
from bot.metrics import Metrics, Period, ReportFacts, by_community, compute, last_days, percent
from bot.metrics import ranked as rank
from storage.database import Database

DEFAULT_DAYS = 30
MAX_DAYS = 366


def parse_days(args: list[str]) -> int:
    if args and args[0].isdigit():
        return max(1, min(MAX_DAYS, int(args[0])))
    return DEFAULT_DAYS


class Stats:
    def __init__(self, *, config: Config, db: Database) -> None:
        self.config = config
        self.db = db
        self.lang = config.language

    async def for_chat(self, chat_id: int, now: datetime, days: int) -> Outcome:
        """The community of this chat, or every community in the supervisors' chat."""
        period = last_days(now, days)
        facts = await load_facts(self.db)
        if chat_id == self.config.supervisors.chat.chat_id:
            return say(self._county(facts, period, days))
        community = next((c for c in self.config.communities if c.chat.chat_id == chat_id), None)
        if community is None:
            return say(texts.t(self.lang, "stats.not_here"))
        metrics = compute([f for f in facts if f.community_id == community.id], period)
        return say(self._one(community.name, metrics, period, days))

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

    def _one(self, name: str, m: Metrics, period: Period, days: int) -> str:
        lang = self.lang
        lines = [
            self._header(name, period, days),
            texts.t(
                lang,
                "stats.counts",
                received=m.received,
                due=m.due,
                closed=m.closed,
                fixed=m.closed_fixed,
                rejected=m.rejected,
            ),
            texts.t(
                lang,
                "stats.rates",
                closure=percent(m.closure_rate),
                on_time=percent(m.on_time_rate),
            ),
            texts.t(
                lang,
                "stats.times",
                median=hours(m.median_time_to_close, lang),
                p90=hours(m.p90_time_to_close, lang),
            ),
            texts.t(
                lang,
                "stats.quality",
                reopen=percent(m.reopen_rate),
                satisfaction=percent(m.satisfaction),
                answers=m.feedback_count,
                transfers=m.transfers,
            ),
            texts.t(lang, "stats.open", open=m.open_at_end, overdue=m.overdue_at_end),
        ]
        return "\n".join(lines)

    def _county(self, facts: list[ReportFacts], period: Period, days: int) -> str:
        lang = self.lang
        ids: list[str | None] = [c.id for c in self.config.communities] + [None]
        per = by_community(facts, period, ids)
        lines = [self._header(texts.t(lang, "stats.county"), period, days)]
        for i, (cid, m) in enumerate(rank(per), 1):
            name = self.config.desk_name(cid)
            lines.append(
                texts.t(
                    lang,
                    "stats.row",
                    rank=i,
                    name=name,
                    closure=percent(m.closure_rate),
                    closed=m.closed,
                    due=m.due,
                    on_time=percent(m.on_time_rate),
                    open=m.open_at_end,
                    overdue=m.overdue_at_end,
                )
            )
        lines.append("")
        lines.append(
            self._one(texts.t(lang, "stats.total"), compute(facts, period), period, days).split(
                "\n", 1
            )[1]
        )
        return "\n".join(lines)
