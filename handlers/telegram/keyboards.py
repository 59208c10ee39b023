"""The application's buttons as Telegram keyboards."""

from __future__ import annotations

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.messages import Buttons, Reply

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


def inline(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, callback_data=b.callback, url=b.url) for b in row]
            for row in buttons
        ]
    )


def markup(reply: Reply) -> Markup | None:
    """Inline buttons, a one-tap location/contact keyboard, or the removal of one."""
    if reply.ask is not None:
        ask = reply.ask
        first = KeyboardButton(
            ask.label,
            request_location=ask.kind == "location",
            request_contact=ask.kind == "contact",
        )
        rows = [[first]] + ([[KeyboardButton(ask.skip_label)]] if ask.skip_label else [])
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    if reply.buttons:
        return inline(reply.buttons)
    if reply.force_reply:
        return ForceReply(selective=True)
    if reply.remove_keyboard:
        return ReplyKeyboardRemove()
    return None
