"""Per-rider limits at the door of the private chat (the counting lives in bot/intake/limits.py).

The message limit is applied as each update arrives (by the update processor, see
handlers/telegram/ordering.py): a rider over it is told once when to go on, and their further
messages are dropped there, before they wait in line, touch the database or cost a
message to Telegram. The report limit is checked when Submit is pressed and counted once
a report was actually made.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.callbacks import Callback
from bot.delivery.outbox import TELEGRAM
from bot.intake.limits import Verdict
from bot.messages import Outcome, say
from bot.people.riders import RiderCtx
from bot.services import Services
from handlers.telegram.context import SuishouContext
from handlers.telegram.courier import TelegramCourier

log = logging.getLogger(__name__)


class FloodGate:
    """Counts each rider's messages and presses in the private chat as they arrive."""

    def __init__(self, services: Services, courier: TelegramCourier) -> None:
        self.services = services
        self.courier = courier

    def admit(self, update: object) -> Verdict:
        if not isinstance(update, Update):
            return Verdict.ALLOW
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != "private":
            return Verdict.ALLOW
        verdict = self.services.limits.messages.hit(user.id)
        if verdict is Verdict.WARN:
            log.info("rider over the message limit", extra={"user": user.id})
        return verdict

    async def refuse(self, update: object) -> None:
        """The one polite answer: when the rider may go on."""
        assert isinstance(update, Update) and update.effective_user is not None
        user = update.effective_user
        services = self.services
        try:
            ctx = await services.rider(TELEGRAM, str(user.id), user.full_name, user.language_code)
            text = services.limits.too_many_messages(user.id, ctx.lang, services.config.timezone)
            await self.courier.deliver(update, say(text))
        except Exception:  # outside PTB's error handling: never let it end the task silently
            log.exception("could not tell the rider to slow down")


async def submit(ctx: RiderCtx, cb: Callback, context: SuishouContext) -> Outcome:
    """Submit a draft, unless the rider has made as many reports as an hour allows."""
    services = context.services
    person = ctx.chat_id  # the Telegram user, as FloodGate counts them
    verdict = services.limits.reports.check(person)
    if verdict is Verdict.WARN:
        log.info("rider over the report limit", extra={"user": person})
        return say(services.limits.too_many_reports(person, ctx.lang, services.config.timezone))
    if verdict is Verdict.SILENT:
        return Outcome()
    outcome = await services.intake.press(ctx, cb)
    if outcome.created is not None:
        services.limits.reports.record(person)
    return outcome
