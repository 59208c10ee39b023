"""Every button press arrives here and goes to the side of the chat it was pressed in."""

from __future__ import annotations

from telegram import Update

from handlers.telegram import dispatcher, rider
from handlers.telegram.context import SuishouContext


async def on_button(update: Update, context: SuishouContext) -> None:
    query = update.callback_query
    assert query is not None
    if query.message is None:  # too old for Telegram to send the message along
        await query.answer()
        return
    if query.message.chat.type == "private":
        await rider.button(update, context)
    else:
        await dispatcher.button(update, context)
