"""The weekly digest: each community's week, the county's ranking, a chart, the points board.

A digest reports the last complete ISO week (Monday to Monday, local time) before the moment
it goes out. It is sent by the scheduler (a crontab line in the config), and once more on
start if the bot was down at that moment. Each (week, chat) is recorded with its messages
put in the outbox, in one transaction, so a week is never sent twice nor lost. Weeks
before the first report ever made are skipped: nothing to say.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, tzinfo
from html import unescape

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from bot import texts
from bot.clock import Clock
from bot.config import Config, cron_trigger
from bot.delivery.outbox import Outbox
from bot.domain.desks import desk_at
from bot.messages import Reply
from bot.reporting.digest_text import SUPERVISORS, Digest, DigestWriter, week_label
from bot.reporting.figures import Figures
from bot.reporting.metrics import Period, week_of
from storage.database import Database
from storage.tables import digests_sent

__all__ = ["SUPERVISORS", "Digest", "Digests", "parse_week", "previous_week", "week_label"]

log = logging.getLogger(__name__)

MAX_FIRE_STEPS = 2000


def parse_week(label: str, tz: tzinfo) -> Period:
    """'2026-W47' → that ISO week in the configured time zone."""
    match = re.fullmatch(r"(\d{4})-W(\d{1,2})", label.strip())
    if not match:
        raise ValueError(f"not an ISO week like 2026-W47: {label!r}")
    monday = datetime.fromisocalendar(int(match[1]), int(match[2]), 1).date()
    return week_of(monday, tz)


def previous_week(moment: datetime, tz: tzinfo) -> Period:
    """The last complete ISO week before `moment`."""
    this = week_of(moment, tz)
    return week_of(this.start - timedelta(days=1), tz)


class Digests:
    def __init__(self, *, config: Config, db: Database, outbox: Outbox, clock: Clock) -> None:
        self.config = config
        self.db = db
        self.outbox = outbox
        self.clock = clock
        self.lang = config.language
        self.tz = config.timezone
        self.figures = Figures(db)
        self.writer = DigestWriter(config, self.figures)

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
            last: datetime | None = None
            moment: datetime | None = trigger.get_next_fire_time(None, now - window)
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
        """Every desk's digest of the week (see bot/reporting/digest_text.py)."""
        return await self.writer.build(week)

    # ---- out --------------------------------------------------------------------------

    async def send_week(self, week: Period) -> list[str]:
        """Send every chat its digest of `week` that it has not had yet; returns the targets."""
        if not await self.figures.any_report_before(week):
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
            if await self._put(label, digest):
                sent.append(digest.target)
        if sent:
            log.info("weekly digest sent", extra={"week": label, "targets": len(sent)})
        return sent

    async def _put(self, label: str, digest: Digest) -> bool:
        """Record the week as sent to the desk and put its digest (and chart) in the outbox,
        in one transaction: never twice, never recorded without being sent."""
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
                await self.outbox.message(conn, digest.chat, Reply(digest.text))
                if digest.chart:
                    chart = Reply(texts.t(self.lang, "chart.caption"), photo=digest.chart)
                    await self.outbox.message(conn, digest.chat, chart)
        except IntegrityError:  # recorded meanwhile by another replica (which sends it)
            return False
        return True

    async def for_chat(self, chat_id: int, topic_id: int | None = None) -> list[Digest]:
        """/digest: this desk's digest of the last complete week, on demand (not recorded).

        A chat that is no desk gets nothing, at once; a community's desk builds its own.
        """
        desk = desk_at(self.config, chat_id, topic_id)
        if desk is None:
            return []
        return await self.writer.build(previous_week(self.clock.now(), self.tz), only=desk)

    async def plain_text(self, week: Period) -> str:
        """Every digest of the week as terminal text (for `suishou digest --dry-run`)."""
        parts = []
        for digest in await self.build(week):
            parts.append(f"== {digest.target} → chat {digest.chat.chat_id} ==")
            parts.append(unescape(re.sub(r"<[^>]+>", "", digest.text)))
            if digest.chart:
                parts.append(f"[chart: PNG, {len(digest.chart)} bytes]")
        return "\n".join(parts)
