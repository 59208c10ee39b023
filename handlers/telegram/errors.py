"""The last resort: log what went wrong and tell the person that nothing was lost."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.messages import Outcome, say
from bot.texts import pick_language, t
from handlers.telegram.context import SuishouContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: SuishouContext) -> None:
    log.error(
        "update failed",
        exc_info=context.error,
        extra={"update_id": getattr(update, "update_id", None)},
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    # In groups only a button press is answered (so it does not spin); messages stay quiet.
    if update.effective_chat.type != "private" and update.callback_query is None:
        return
    user = update.effective_user
    lang = pick_language(
        None, user.language_code if user else None, context.services.config.language
    )
    text = t(lang, "error.generic")
    outcome = Outcome(toast=text, alert=True) if update.callback_query else say(text)
    try:
        await context.courier.deliver(update, outcome)
    except TelegramError:
        log.warning("could not tell the rider about the error")
