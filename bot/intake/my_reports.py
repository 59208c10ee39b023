"""/my: a rider's recent reports with their status, and the detail of one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import callbacks, texts
from bot.casework.cards import history_line, place_name
from bot.config import Config
from bot.domain.lifecycle import Status
from bot.messages import Button, Outcome, Reply, say
from bot.people.riders import RiderCtx
from bot.reporting.figures import Figures
from bot.reporting.metrics import Period
from bot.texts.formatting import when
from storage import reports
from storage.database import Database
from storage.records import Report

LIST_LIMIT = 10
RIDER_VISIBLE = frozenset(
    {
        "submitted",
        "accepted",
        "replied",
        "resolved",
        "transferred",
        "rejected",
        "confirmed",
        "reopened",
        "auto_closed",
        "joined",
        "rider_replied",
    }
)
# A follower (+1, or a merged duplicate) sees the steps, not the staff↔reporter conversation.
FOLLOWER_VISIBLE = RIDER_VISIBLE - {"replied", "rider_replied"}


@dataclass(frozen=True)
class ReportView:
    """One report as its rider may see it, for a channel to draw (the web page).

    `steps`: the visible events, oldest first, each with its data minus the staff member's
    name (riders never see who), and for a follower minus the words too. `asks`: 已解决？
    waits for this rider's answer, about resolution number `report.resolve_count`.
    """

    report: Report
    reporter: bool
    steps: list[dict[str, Any]]
    asks: bool


class MyReports:
    def __init__(self, *, config: Config, db: Database) -> None:
        self.config = config
        self.db = db
        self.figures = Figures(db)

    async def list(self, ctx: RiderCtx) -> Outcome:
        async with self.db.transaction() as conn:
            mine = await reports.for_rider(conn, ctx.rider.id, LIST_LIMIT)
        lang = ctx.lang
        if not mine:
            return say(texts.t(lang, "my.empty"))
        lines = [texts.t(lang, "my.title")]
        buttons = []
        for report in mine:
            icon, name = self.config.category_label(report.category, lang)
            lines.append(
                texts.t(
                    lang,
                    "my.line",
                    ticket=report.id,
                    icon=icon,
                    category=name,
                    status=texts.t(lang, f"status.{report.status}"),
                    when=when(report.created_at, self.config.timezone, lang),
                )
            )
            buttons.append(Button(f"#{report.id}", callbacks.encode("r", report.id, "det")))
        rows = tuple(tuple(buttons[i : i + 5]) for i in range(0, len(buttons), 5))
        return Outcome(replies=(Reply("\n".join(lines), rows),))

    async def standing(self, rider_id: int, now: datetime) -> dict[str, int] | None:
        """This month's reports, points and rank among riders (None: nothing this month)."""
        local = now.astimezone(self.config.timezone)
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
        return await self.figures.standing(rider_id, Period(start, end), self.config.points)

    async def me(self, ctx: RiderCtx, now: datetime) -> Outcome:
        """/me: this month's reports, points and rank among riders."""
        lang = ctx.lang
        rules = self.config.points
        mine = await self.standing(ctx.rider.id, now)
        if mine is None:
            return say(
                texts.t(lang, "me.nothing", accepted=rules.accepted, bonus=rules.fixed_bonus)
            )
        return say(texts.t(lang, "me.text", name=ctx.rider.display_name, **mine))

    async def detail(self, ctx: RiderCtx, report_id: int) -> Outcome:
        lang = ctx.lang
        seen = await self.view(ctx.rider.id, report_id)
        if seen is None:
            return Outcome(toast=texts.t(lang, "button.stale"), alert=True)
        report = seen.report
        icon, name = self.config.category_label(report.category, lang)
        tz = self.config.timezone
        lines = [
            texts.t(
                lang,
                "my.detail_title",
                ticket=report.id,
                icon=icon,
                category=name,
            ),
            texts.t(lang, "card.status", status=texts.t(lang, f"status.{report.status}")),
            texts.t(lang, "my.place", place=place_name(self.config, report.community_id, lang)),
            texts.t(lang, "card.deadline_short", when=when(report.deadline_at, tz, lang)),
        ]
        if report.note and seen.reporter:
            lines.append(texts.t(lang, "card.note", note=report.note))
        # Riders see what happened, not which staff member did it; followers not the
        # words either (notes and replies were for the reporter).
        if seen.steps:
            lines.append(texts.t(lang, "card.history"))
            lines += [history_line(self.config, e, lang) for e in seen.steps]
        return say("\n".join(lines))

    async def view(self, rider_id: int, report_id: int) -> ReportView | None:
        """The report for its reporter or a follower; None for anyone else (or no such)."""
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            followers = await reports.follower_ids(conn, report_id) if report else []
            history = await reports.history(conn, report_id) if report else []
        if report is None or (report.rider_id != rider_id and rider_id not in followers):
            return None
        reporter = report.rider_id == rider_id
        steps = [rider_step(e, reporter) for e in history if rider_sees(e["kind"], reporter)]
        asks = reporter and report.status == Status.RESOLVED
        return ReportView(report, reporter, steps, asks)


def rider_sees(kind: str, reporter: bool) -> bool:
    """Whether a rider sees this kind of step: the reporter the conversation too."""
    return kind in (RIDER_VISIBLE if reporter else FOLLOWER_VISIBLE)


def rider_step(event: dict[str, Any], reporter: bool) -> dict[str, Any]:
    """A step as a rider sees it: never a staff member's name; a follower not the words."""
    hidden = {"name": None} if reporter else {"name": None, "note": None, "text": None}
    return {**event, "data": {**event["data"], **hidden}}
