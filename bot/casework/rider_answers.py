"""The reporter's side of the conversation, the same for every channel.

A rider answers staff (their words go under the card in the community's chat) and answers
已解决？ (fixed closes the report, not fixed reopens it). Telegram reaches these through a
reply or a button on one of the report's messages, which bot/casework/service.py checks first (the
message's origin); the web page through a form on the report's page, checked by its CSRF
token and the device's cookie. From then on both take this one path, so the rules (only the
reporter, never a +1 follower; only while the report is open, or resolved) cannot drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import texts
from bot.domain.lifecycle import Action, Actor, Refused, Role, Status, decide
from bot.intake.photo_input import PhotoInput
from bot.messages import Answer, Reply
from bot.people.riders import RiderCtx
from storage.records import Report

if TYPE_CHECKING:
    from bot.casework.steps import Steps

REPLY_MAX = 800  # a rider's message for the staff, in characters (as staff's replies)


class RiderAnswers:
    def __init__(self, casework: Steps) -> None:
        self.casework = casework

    async def reply(
        self, ctx: RiderCtx, report_id: int, text: str, photo: PhotoInput | None = None
    ) -> Answer:
        """The reporter's words (and photo) for the staff, under the report's card."""
        cw = self.casework
        report = await cw.find(report_id)
        if report is None:
            return Answer(False, "refused.stale")
        if report.rider_id != ctx.rider.id:
            # A +1 follower is not the reporter: their words do not go under the card.
            return Answer(False, "follow.no_reply", {"ticket": report.id})
        actor = Actor(Role.RIDER, ctx.rider.id)
        try:
            decide(Status(report.status), report.handler_id, actor, Action.REPLY)
        except Refused as exc:
            return Answer(False, exc.key, {"ticket": report.id})
        words = text.strip()[:REPLY_MAX]
        stored = await cw.store_photo(photo) if photo else None
        if not words and stored is None:
            return Answer(False, "staff.empty_reply")
        body = texts.t(cw.lang, "staff.rider_says", ticket=report.id, text=words or "📷")
        async with cw.db.transaction() as conn:
            await cw.post_to_staff(
                conn,
                report,
                Reply(body, photo=stored.path if stored else None),
                event={
                    "kind": "rider_replied",
                    "role": "rider",
                    "actor": ctx.rider.id,
                    "data": {"text": words},
                },
                from_rider=ctx.rider.id,
            )
        return Answer(True, "notice.relayed", {"ticket": report.id})

    async def feedback(
        self, ctx: RiderCtx, report_id: int, fixed: bool, resolution: int | None = None
    ) -> Answer:
        """已解决？ Fixed closes the report; not fixed reopens it (返工) and tells the staff.

        `resolution`: which resolution the rider was shown (the report's resolve_count then);
        an answer to an earlier one is stale, so a page left open across a reopening and a
        new resolution cannot confirm work the rider has not seen.
        """
        cw = self.casework
        report = await cw.find(report_id)
        if report is None or report.rider_id != ctx.rider.id:
            return Answer(False, "button.stale")
        if resolution is not None and resolution != report.resolve_count:
            return Answer(False, "refused.stale")
        key = "notice.thanks_fixed" if fixed else "notice.thanks_reopened"
        if _answered_already(report, fixed):
            # Pressed again: the first press took effect but its answer never showed (the bot
            # was stopped in between, or the answer was lost): the same answer, again.
            return Answer(True, key, {"ticket": report.id})
        actor = Actor(Role.RIDER, ctx.rider.id)
        try:
            if fixed:
                await cw.step(
                    report,
                    actor,
                    Action.CONFIRM,
                    event="confirmed",
                    data={"fixed": True},
                    closed_at=report.resolved_at,
                    outcome="fixed",
                    close_reason="confirmed",
                )
            else:
                await cw.step(
                    report,
                    actor,
                    Action.REOPEN,
                    event="reopened",
                    data={"fixed": False},
                    reopen_count=report.reopen_count + 1,
                    after=cw.then_tell_staff("staff.reopened"),
                )
        except Refused as exc:
            return Answer(False, exc.key, {"ticket": report.id})
        return Answer(True, key, {"ticket": report.id})


def _answered_already(report: Report, fixed: bool) -> bool:
    """The rider's answer to 已解决？ is what the report already shows."""
    if fixed:
        return report.status == Status.CLOSED and report.close_reason == "confirmed"
    return report.status == Status.REOPENED
