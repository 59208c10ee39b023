"""The weekly digest: each community's week, the county's ranking, a chart, the points board.

A digest reports the last complete ISO week (Monday to Monday, local time) before the moment
it goes out. It is sent by the scheduler (a crontab line in the config), and once more on
start if the bot was down at that moment. Each (week, chat) is recorded, so a week is never
sent twice. Weeks before the first report ever made are skipped: nothing to say.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from bot import texts
from bot.chart import ChartLabels, CommunityBar, TrendPoint, render_digest_chart
from bot.clock import Clock
from bot.config import ChatTarget, Config, cron_trigger
from bot.facts import load_credits, load_facts, rider_names
from bot.formatting import hours, when
from bot.messages import Reply
from bot.metrics import Period, ReportFacts, by_community, compute, percent, week_of
from bot.metrics import ranked as rank
from bot.points import board
from bot.ports import DeliveryError, Notifier
from storage.database import Database
from storage.tables import digests_sent

log = logging.getLogger(__name__)

SUPERVISORS = "_sup"
BOARD_SIZE = 5
MAX_FIRE_STEPS = 2000


@dataclass(frozen=True)
class Digest:
    """One chat's digest: where it goes, its text, and (for the county) a chart."""

    target: str  # community id, or SUPERVISORS
    chat: ChatTarget
    text: str
    chart: bytes | None = None


def week_label(period: Period, tz: object) -> str:
    year, week, _ = period.start.astimezone(tz).isocalendar()  # type: ignore[arg-type]
    return f"{year}-W{week:02d}"


def parse_week(label: str, tz: object) -> Period:
    """'2026-W47' → that ISO week in the configured time zone."""
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", label.strip())
    if not match:
        raise ValueError(f"not an ISO week like 2026-W47: {label!r}")
    monday = datetime.fromisocalendar(int(match[1]), int(match[2]), 1).date()
    return week_of(monday, tz)  # type: ignore[arg-type]


def previous_week(moment: datetime, tz: object) -> Period:
    """The last complete ISO week before `moment`."""
    this = week_of(moment, tz)  # type: ignore[arg-type]
    return week_of(this.start - timedelta(days=1), tz)  # type: ignore[arg-type]


class Digests:
    def __init__(self, *, config: Config, db: Database, notifier: Notifier, clock: Clock) -> None:
        self.config = config
        self.db = db
        self.notifier = notifier
        self.clock = clock
        self.lang = config.language
        self.tz = config.timezone

    # ---- when -------------------------------------------------------------------------

    def trigger(self) -> CronTrigger:
        return cron_trigger(self.config.digest.cron, self.tz)

    def last_fire_time(self, now: datetime) -> datetime | None:
        """The latest scheduled moment at or before `now` (within the last eight days).

        Looks back an hour, then a day, then eight days, so a frequent crontab line needs
        few steps and a weekly one is still found.
        """
        trigger = self.trigger()
        for window in (timedelta(hours=1), timedelta(days=1), timedelta(days=8)):
            last = None
            moment = trigger.get_next_fire_time(None, now - window)
            for _ in range(MAX_FIRE_STEPS):
                if moment is None or moment > now:
                    break
                last = moment
                moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
            else:
                continue  # too many moments in this window to walk: it cannot be the last
            if last is not None:
                return last
        return None

    async def send_due(self) -> list[str]:
        """Send the digest of the week the latest scheduled moment reports on, if not yet sent."""
        last = self.last_fire_time(self.clock.now())
        if last is None:
            return []
        return await self.send_week(previous_week(last, self.tz))

    # ---- what -------------------------------------------------------------------------

    async def build(self, week: Period) -> list[Digest]:
        facts = await load_facts(self.db)
        prev = Period(week.start - timedelta(days=7), week.start)
        label = week_label(week, self.tz)
        digests = []
        for community in self.config.communities:
            own = [f for f in facts if f.community_id == community.id]
            text = self._community_text(community.name, label, week, own, prev)
            digests.append(Digest(community.id, community.chat, text))
        county_text = await self._county_text(facts, label, week, prev)
        chart = await asyncio.to_thread(self._chart, facts, label, week)
        digests.append(Digest(SUPERVISORS, self.config.supervisors.chat, county_text, chart))
        return digests

    def _title(self, name: str, label: str, week: Period) -> str:
        last_day = week.end - timedelta(days=1)
        return texts.t(
            self.lang,
            "digest.title",
            name=name,
            week=label,
            start=_day(week.start, self.tz, self.lang),
            end=_day(last_day, self.tz, self.lang),
        )

    def _community_text(
        self, name: str, label: str, week: Period, facts: list[ReportFacts], prev: Period
    ) -> str:
        lang = self.lang
        m, p = compute(facts, week), compute(facts, prev)
        open_ids = _open_ids(facts, week.end)
        overdue_ids = _open_ids(facts, week.end, overdue=True)
        reopened = sum(1 for f in facts for at, fixed in f.feedback if not fixed and at in week)
        lines = [
            self._title(name, label, week),
            texts.t(
                lang,
                "digest.received",
                received=m.received,
                previous=p.received,
                change=_signed(m.received - p.received),
                closed=m.closed,
                due=m.due,
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
                reopened=reopened,
            ),
            texts.t(lang, "digest.open", open=len(open_ids), tickets=_tickets(open_ids, lang))
            if open_ids
            else texts.t(lang, "digest.all_closed"),
        ]
        if overdue_ids:
            lines.append(
                texts.t(
                    lang,
                    "digest.overdue",
                    count=len(overdue_ids),
                    tickets=_tickets(overdue_ids, lang),
                )
            )
        return "\n".join(lines)

    async def _county_text(
        self, facts: list[ReportFacts], label: str, week: Period, prev: Period
    ) -> str:
        lang = self.lang
        ids: list[str | None] = [c.id for c in self.config.communities] + [None]
        per = by_community(facts, week, ids)
        lines = [self._title(texts.t(lang, "digest.county"), label, week)]
        for i, (cid, m) in enumerate(rank(per), 1):
            lines.append(
                texts.t(
                    lang,
                    "digest.row",
                    rank=i,
                    name=self.config.desk_name(cid),
                    closure=percent(m.closure_rate),
                    closed=m.closed,
                    due=m.due,
                    on_time=percent(m.on_time_rate),
                    received=m.received,
                )
            )
        total, before = compute(facts, week), compute(facts, prev)
        lines.append(
            texts.t(
                lang,
                "digest.total",
                received=total.received,
                previous=before.received,
                due=total.due,
                closed=total.closed,
                closure=percent(total.closure_rate),
                closure_change=_points_change(total.closure_rate, before.closure_rate, lang),
                on_time=percent(total.on_time_rate),
            )
        )
        late = set(_open_ids(facts, week.end, overdue=True))
        overdue = [f for f in facts if f.id in late]
        if overdue:
            items = texts.t(lang, "digest.list_sep").join(
                f"#{f.id}（{self.config.desk_name(f.community_id)}）"
                if lang == "zh"
                else f"#{f.id} ({self.config.desk_name(f.community_id)})"
                for f in overdue
            )
            lines.append(texts.t(lang, "digest.county_overdue", count=len(overdue), items=items))
        standings = [
            s for s in board(await load_credits(self.db), self.config.points, week) if s.points > 0
        ][:BOARD_SIZE]
        if standings:
            names = await rider_names(self.db, [s.rider_id for s in standings])
            lines.append(texts.t(lang, "digest.board_title"))
            lines += [
                texts.t(
                    lang,
                    "digest.board_row",
                    rank=s.rank,
                    name=names.get(s.rider_id, "?"),
                    points=s.points,
                    reports=s.reports,
                )
                for s in standings
            ]
        return "\n".join(lines)

    def _chart(self, facts: list[ReportFacts], label: str, week: Period) -> bytes | None:
        """The county chart; a digest without it is better than no digest."""
        lang = self.lang
        try:
            ids: list[str | None] = [c.id for c in self.config.communities]
            per = by_community(facts, week, ids)
            bars = [
                CommunityBar(self.config.desk_name(cid), m.closure_rate, m.on_time_rate)
                for cid, m in per.items()
            ]
            trend = []
            for back in range(self.config.digest.trend_weeks - 1, -1, -1):
                start = week.start - timedelta(days=7 * back)
                period = Period(start, start + timedelta(days=7))
                m = compute(facts, period)
                trend.append(
                    TrendPoint(week_label(period, self.tz), m.closure_rate, m.on_time_rate)
                )
            labels = ChartLabels(
                closure=texts.t(lang, "chart.closure"),
                on_time=texts.t(lang, "chart.on_time"),
                by_community=texts.t(lang, "chart.by_community"),
                trend=texts.t(lang, "chart.trend"),
                no_data=texts.t(lang, "chart.no_data"),
            )
            return render_digest_chart(
                bars, trend, title=texts.t(lang, "chart.title", week=label), labels=labels
            )
        except Exception:
            log.exception("digest chart failed")
            return None

    # ---- out --------------------------------------------------------------------------

    async def _active_before(self, moment: datetime) -> bool:
        facts = await load_facts(self.db)
        return any(f.created_at < moment for f in facts)

    async def send_week(self, week: Period) -> list[str]:
        """Send every chat its digest of `week` that it has not had yet; returns the targets."""
        if not await self._active_before(week.end):
            return []
        label = week_label(week, self.tz)
        async with self.db.transaction() as conn:
            done = set(
                (
                    await conn.execute(
                        select(digests_sent.c.target).where(digests_sent.c.week == label)
                    )
                ).scalars()
            )
        targets = {c.id for c in self.config.communities} | {SUPERVISORS}
        if targets <= done:
            return []  # nothing to do: do not even build it
        sent = []
        for digest in await self.build(week):
            if digest.target in done:
                continue
            if await self._deliver(digest) and await self._record(label, digest):
                sent.append(digest.target)
        if sent:
            log.info("weekly digest sent", extra={"week": label, "targets": len(sent)})
        return sent

    async def _deliver(self, digest: Digest) -> bool:
        """The text is the digest; the chart is a bonus that never causes a second send."""
        try:
            await self.notifier.send(digest.chat, Reply(digest.text))
        except DeliveryError as exc:
            log.warning(
                "digest not delivered", extra={"target": digest.target, "reason": exc.reason}
            )
            return False
        if digest.chart:
            try:
                await self.notifier.send(
                    digest.chat, Reply(texts.t(self.lang, "chart.caption"), photo=digest.chart)
                )
            except DeliveryError as exc:
                log.warning("digest chart not delivered", extra={"reason": exc.reason})
        return True

    async def _record(self, label: str, digest: Digest) -> bool:
        try:
            async with self.db.transaction() as conn:
                await conn.execute(
                    insert(digests_sent).values(
                        week=label,
                        target=digest.target,
                        chat_id=digest.chat.chat_id,
                        sent_at=self.clock.now(),
                    )
                )
        except IntegrityError:  # recorded meanwhile by another replica (which sent it too)
            return False
        return True

    async def for_chat(self, chat_id: int, topic_id: int | None = None) -> list[Digest]:
        """/digest: this chat's digest of the last complete week, on demand (not recorded)."""
        week = previous_week(self.clock.now(), self.tz)
        mine = [d for d in await self.build(week) if d.chat.covers(chat_id, topic_id)]
        # In a group shared by topics, the most specific desk (a topic) answers.
        return sorted(mine, key=lambda d: d.chat.topic_id is None)

    async def plain_text(self, week: Period) -> str:
        """Every digest of the week as terminal text (for `suishou digest --dry-run`)."""
        parts = []
        for digest in await self.build(week):
            parts.append(f"== {digest.target} → chat {digest.chat.chat_id} ==")
            parts.append(unescape(re.sub(r"<[^>]+>", "", digest.text)))
            if digest.chart:
                parts.append(f"[chart: PNG, {len(digest.chart)} bytes]")
        return "\n".join(parts)


def _open_ids(facts: list[ReportFacts], end: datetime, *, overdue: bool = False) -> list[int]:
    return [
        f.id
        for f in facts
        if f.created_at < end
        and (f.closed_at is None or f.closed_at >= end)
        and (not overdue or f.deadline_at < end)
    ]


def _tickets(ids: list[int], lang: str) -> str:
    shown = ids[:20]
    text = texts.t(lang, "digest.list_sep").join(f"#{i}" for i in shown)
    return text + ("…" if len(ids) > len(shown) else "")


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def _points_change(now: float | None, before: float | None, lang: str) -> str:
    if now is None or before is None:
        return texts.t(lang, "digest.no_change")
    delta = round((now - before) * 100, 1)
    return texts.t(lang, "digest.change", delta=f"{delta:+.1f}".replace(".0", ""))


def _day(moment: datetime, tz: object, lang: str) -> str:
    return when(moment, tz, lang).rsplit(" ", 1)[0]  # type: ignore[arg-type]
