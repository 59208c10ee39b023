"""The rider's side in a chat: a reply to a notice goes under the card, 已解决？ is answered
on the notice it was asked on (bot/casework/rider_answers.py does the rest, for every channel).
"""

from __future__ import annotations

from bot import texts
from bot.casework.rider_notices import FOLLOWER_LINK, REPORTER_LINK
from bot.casework.service import Casework
from bot.domain.lifecycle import (
    Refused,
)
from bot.intake.photo_input import PhotoInput
from bot.messages import Outcome, Reply, say
from bot.people.riders import RiderCtx
from storage import reports


class RiderChat:
    """The rider's replies and 已解决？ presses in a chat, checked to be on their own notices."""

    def __init__(self, work: Casework) -> None:
        self.work = work

    async def reply(
        self, ctx: RiderCtx, reply_to: int, text: str, photo: PhotoInput | None
    ) -> Outcome | None:
        """The rider answers a message about a report: relay it under the card."""
        async with self.work.db.transaction() as conn:
            link = await reports.link_for_message(conn, ctx.chat_id, reply_to)
        if link is None or link.kind not in (REPORTER_LINK, FOLLOWER_LINK):
            return None
        report = await self.work.find(link.report_id)
        if report is None:
            return None
        if link.kind == FOLLOWER_LINK:
            # A +1 follower is not the reporter: their words do not go under the card.
            return say(texts.t(ctx.lang, "follow.no_reply", ticket=report.id))
        answer = await self.work.answers.reply(ctx, report.id, text, photo)
        return say(answer.text(ctx.lang))

    async def feedback(
        self, ctx: RiderCtx, report_id: int, fixed: bool, message_id: int | None
    ) -> Outcome:
        """已解决？ pressed in Telegram: on one of this report's own notices (it is edited)."""
        report = await self.work.find(report_id)
        if report is None or report.rider_id != ctx.rider.id:
            return Outcome(toast=texts.t(ctx.lang, "button.stale"), alert=True)
        access = self.work.access
        try:
            try:
                await access.require_origin(ctx.chat_id, message_id, report.id, REPORTER_LINK)
            except Refused:
                # Pressed the moment the question arrived: its delivery may still be being
                # written down; wait for that rather than call the button stale.
                if not await access.recorded(ctx.chat_id):
                    raise
                await access.require_origin(ctx.chat_id, message_id, report.id, REPORTER_LINK)
        except Refused as exc:
            return Outcome(toast=texts.t(ctx.lang, exc.key, ticket=report.id), alert=True)
        answer = await self.work.answers.feedback(ctx, report.id, fixed)
        if not answer.ok:
            return Outcome(toast=answer.text(ctx.lang), alert=True)
        return Outcome(edit=Reply(answer.text(ctx.lang)))
