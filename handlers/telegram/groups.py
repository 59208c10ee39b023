"""Group chats: reports are made in private, so point people there."""

from __future__ import annotations

import logging

from telegram import Update

from bot.domain.desks import desk_ids_in
from handlers.telegram.context import SuishouContext

log = logging.getLogger(__name__)


async def private_only(update: Update, context: SuishouContext) -> None:
    """/report (or /start) in a group: a button that opens the private chat."""
    user = update.effective_user
    lang = (
        "en"
        if user and (user.language_code or "").startswith("en")
        else context.services.config.language
    )
    outcome = context.services.private_only(lang, context.bot.username)
    await context.courier.deliver(update, outcome)


async def chat_id(update: Update, context: SuishouContext) -> None:
    """/chatid in a group: the ids an operator copies into the configuration."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    topic = message.message_thread_id if message.is_topic_message else None
    outcome = context.services.chat_ids(chat.id, topic, chat.title or "")
    await context.courier.deliver(update, outcome)


async def members_changed(update: Update, context: SuishouContext) -> None:
    """Someone joined or left a group: their next staff action asks Telegram afresh; one who
    left (or was removed from) a desk's chat no longer works from that desk in the console."""
    message = update.effective_message
    if message is None:
        return
    people = [*message.new_chat_members, message.left_chat_member]
    for user in people:
        if user is not None:
            context.services.access.forget(message.chat_id, user.id)
    gone = message.left_chat_member
    if gone is not None and not gone.is_bot:
        services = context.services
        here = desk_ids_in(services.config, message.chat_id)
        ended = await services.staff.left("telegram", str(gone.id), here)
        if ended:
            log.info("console grants ended: left the chat", extra={"staff_desks": ended})


async def migrated(update: Update, context: SuishouContext) -> None:
    """Telegram upgraded a group to a supergroup: follow it to its new chat id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        await context.services.chat_moves.moved(message.chat_id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await context.services.chat_moves.moved(message.migrate_from_chat_id, message.chat_id)
