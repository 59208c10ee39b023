"""The rider's ticket: put in the outbox with the report, never behind the card.

The ticket message ("正在派往…", with the number) is put in the outbox in the transaction
that creates the report, for the rider's chat; the card goes to the community's chat, so
neither waits for the other. Once the card is delivered (bot/delivery/steps.py), the
ticket is edited to say where the report really went: its community, or the supervisors
when the community's chat refused it. The ticket message is linked to the report (kind
"ticket"), which is how that edit finds it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import texts
from bot.casework.rider_notices import address
from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.messages import Reply
from bot.texts.formatting import when
from storage import riders
from storage.records import Report, Rider

TICKET_LINK = "ticket"  # the rider's message carrying the ticket number (not a conversation)


class Tickets:
    def __init__(self, *, config: Config, outbox: Outbox) -> None:
        self.config = config
        self.outbox = outbox

    def _values(self, report: Report, lang: str) -> dict[str, object]:
        community = self.config.community(report.community_id)
        return {
            "ticket": report.id,
            "deadline": when(report.deadline_at, self.config.timezone, lang),
            "supervisors": self.config.supervisors.name,
            "community": community.name if community else "?",
            "place": community.name if community else self.config.supervisors.name,
        }

    async def put(self, conn: AsyncConnection, report: Report, rider: Rider, lang: str) -> None:
        """The ticket number for the rider, in the report's own transaction."""
        to = address(rider)
        await self.outbox.message(
            conn,
            to.chat,
            Reply(
                texts.t(lang, "submit.sending", **self._values(report, lang)), remove_keyboard=True
            ),
            report_id=report.id,
            link=TICKET_LINK,
            rider_id=rider.id,
            channel=to.channel,
        )

    def final_text(self, report: Report, lang: str, *, fallback: bool = False) -> str:
        """What the rider's ticket says once the card is delivered."""
        values = self._values(report, lang)
        if fallback:
            return texts.t(lang, "submit.done_fallback", **values)
        if self.config.community(report.community_id) is not None:
            return texts.t(lang, "submit.done", **values)
        return texts.t(lang, "submit.done_supervisors", **values)

    async def settle(self, conn: AsyncConnection, report: Report, *, fallback: bool) -> None:
        """Edit the ticket into its final words (after the ticket itself: same chat, later)."""
        rider = await riders.get(conn, report.rider_id)
        if rider is None:
            return
        lang = texts.pick_language(rider.language, None, self.config.language)
        to = address(rider)
        await self.outbox.edit(
            conn,
            to.chat,
            Reply(self.final_text(report, lang, fallback=fallback)),
            report_id=report.id,
            link=TICKET_LINK,
            channel=to.channel,
        )
