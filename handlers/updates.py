"""What a handler may take for granted in its update, given the filters it is registered with.

PTB types every part of an update as optional; the handlers in bot/app.py are registered for
messages from users, so a missing part is a wiring mistake, not a rider's doing.
"""

from __future__ import annotations

from telegram import Message, Update, User


def message_of(update: Update) -> Message:
    message = update.effective_message
    assert message is not None, "handler registered for updates without a message"
    return message


def user_of(update: Update) -> User:
    user = update.effective_user
    assert user is not None, "handler registered for updates without a user"
    return user
