"""The rider's ticket: sent as soon as the report is committed, never after the card.

Posting a card can take a while (three calls, each retried through Telegram's hiccups) and
a process can die during it. So the rider gets the ticket number first ("正在派往…"); once
the card is posted, that message is edited to say where the report really went. The ticket
message is linked to the report (kind "ticket"), which is also how a restart knows whether
the rider still needs it: `resume` sends missing tickets and posts the cards of reports
left "submitted", seconds after a start rather than at the next deadline sweep.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot import texts
from bot.config import ChatTarget, Config
from bot.dispatch import Dispatcher, Posted
from bot.messages import Reply
from bot.ports import DeliveryError
from bot.rider_notices import RiderNotices
from storage import reports, riders
from storage.records import CardMessage, Report

log = logging.getLogger(__name__)

TICKET_LINK = "ticket"  # the rider's message carrying the ticket number (not a conversation)


class Tickets:
    def __init__(self, *, config: Config, dispatcher: Dispatcher, notices: RiderNotices) -> None:
        self.config = config
        self.cards = dispatcher
        self.notices = notices
        self.db = dispatcher.db
        self.notifier = dispatcher.notifier
        self.clock = dispatcher.clock

    async def announce(self, report: Report, lang: str) -> bool:
        """Send the rider the ticket number now (before the card); whether it arrived."""
        async with self.db.transaction() as conn:
            rider = await riders.get(conn, report.rider_id)
        assert rider is not None
        community = self.config.community(report.community_id)
        text = texts.t(
            lang,
            "submit.sending",
            ticket=report.id,
            place=community.name if community else self.config.supervisors.name,
            deadline=self.cards.format_when(report.deadline_at, lang),
        )
        missed = None
        try:
            message_id = await self.notifier.send(
                ChatTarget(rider.tg_user_id), Reply(text, remove_keyboard=True)
            )
        except DeliveryError as exc:
            log.info("ticket not delivered", extra={"report": report.id, "reason": exc.reason})
            missed = exc
        await self.notices.note_reach(rider, missed)
        if missed is not None:
            return False
        link = CardMessage(report.id, rider.tg_user_id, None, message_id, TICKET_LINK)
        async with self.db.transaction() as conn:
            await reports.add_card_messages(conn, report.id, [link], self.clock.now())
        return True

    async def deliver(self, report_id: int, lang: str | None = None) -> Posted:
        """Post the card, then tell the rider (on the ticket message) where it went."""
        posted = await self.cards.post(report_id)
        await self.settle(report_id, posted, lang)
        return posted

    def final_text(self, report: Report, posted: Posted, lang: str) -> str:
        """What the rider's ticket says once the card's fate is known."""
        community = self.config.community(report.community_id)
        values = {
            "ticket": report.id,
            "deadline": self.cards.format_when(report.deadline_at, lang),
            "supervisors": self.config.supervisors.name,
            "community": community.name if community else "?",
        }
        if posted is Posted.NOT_YET:
            return texts.t(lang, "submit.queued", **values)
        if posted is Posted.FALLBACK:
            return texts.t(lang, "submit.done_fallback", **values)
        if community is not None:
            return texts.t(lang, "submit.done", **values)
        return texts.t(lang, "submit.done_supervisors", **values)

    async def settle(self, report_id: int, posted: Posted, lang: str | None = None) -> None:
        """Edit the ticket message into its final words (nothing to do if it never arrived)."""
        async with self.db.transaction() as conn:
            report = await reports.get(conn, report_id)
            links = await reports.card_messages_of(conn, report_id)
            rider = await riders.get(conn, report.rider_id) if report else None
        tickets = [link for link in links if link.kind == TICKET_LINK]
        if report is None or rider is None or not tickets:
            return
        lang = lang or texts.pick_language(rider.language, None, self.config.language)
        try:
            await self.notifier.edit(
                tickets[-1].chat_id,
                tickets[-1].message_id,
                Reply(self.final_text(report, posted, lang)),
            )
        except DeliveryError as exc:
            log.info("ticket not updated", extra={"report": report_id, "reason": exc.reason})

    async def resume(self, started_at: datetime) -> int:
        """After a start: reports left "submitted" by an earlier run get their missing ticket
        and their card now. Reports submitted since this run started are their submit's
        business. Returns how many cards were posted."""
        async with self.db.transaction() as conn:
            left = await reports.with_status(conn, ["submitted"])
        posted = 0
        for report in left:
            if report.created_at >= started_at:
                continue
            async with self.db.transaction() as conn:
                links = await reports.card_messages_of(conn, report.id)
            if not any(link.kind == TICKET_LINK for link in links):
                async with self.db.transaction() as conn:
                    rider = await riders.get(conn, report.rider_id)
                lang = texts.pick_language(
                    rider.language if rider else None, None, self.config.language
                )
                await self.announce(report, lang)
            posted += await self.deliver(report.id) is not Posted.NOT_YET
        if left:
            log.info(
                "undelivered reports resumed", extra={"submitted": len(left), "posted": posted}
            )
        return posted
