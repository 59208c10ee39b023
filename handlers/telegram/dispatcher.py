"""Dispatcher group chats: staff press card buttons, reply to cards, ask for tickets and stats."""

from __future__ import annotations

from telegram import Message, Update, User

from bot.callbacks import decode
from bot.casework.chat_desk import Staff, Where
from bot.config import ChatTarget
from bot.intake.photo_input import PhotoInput
from bot.messages import Outcome
from bot.texts import t
from handlers.telegram.context import SuishouContext
from handlers.telegram.rider import fetcher
from handlers.telegram.updates import message_of, user_of


def _where(message: Message) -> Where:
    topic = message.message_thread_id if message.is_topic_message else None
    return Where(message.chat_id, topic)


def _staff(user: User) -> Staff:
    return Staff(user.id, user.full_name[:64])  # the column's width


async def button(update: Update, context: SuishouContext) -> None:
    """A press on a card (or a menu on it) in a dispatcher chat."""
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    cb = decode(query.data)
    services = context.services
    if cb is None or cb.scope != "r":
        outcome = Outcome(toast=t(services.config.language, "button.stale"), alert=True)
    else:
        outcome = await services.desk.press(
            _where(query.message), _staff(query.from_user), cb, query.message.message_id
        )
    await context.courier.deliver(update, outcome)


async def reply(update: Update, context: SuishouContext) -> None:
    """A reply to a card, a relayed message or a prompt: relay it, or take it as the answer."""
    message = message_of(update)
    replied = message.reply_to_message
    if replied is None:
        return
    # Inside a forum topic every message "replies" to the topic's first message: not a reply.
    # (Ordinary supergroups also set message_thread_id on replies; only topics have this.)
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return
    photo = None
    if message.photo:
        largest = message.photo[-1]
        photo = PhotoInput(
            fetch=fetcher(largest.file_id, context), size=largest.file_size, as_file=False
        )
    outcome = await context.services.desk_replies.staff_reply(
        _where(message),
        _staff(user_of(update)),
        replied.message_id,
        message.text or message.caption or "",
        photo,
        to_bot=replied.from_user is not None and replied.from_user.id == context.bot.id,
    )
    if outcome is not None:
        await context.courier.deliver(update, outcome)


async def ticket(update: Update, context: SuishouContext) -> None:
    message = message_of(update)
    outcome = await context.services.desk.ticket(_where(message), context.args or [])
    await context.courier.deliver(update, outcome)


async def stats(update: Update, context: SuishouContext) -> None:
    message = message_of(update)
    services = context.services
    where = _where(message)
    outcome = await services.stats.for_chat(
        where.chat_id, where.topic_id, services.clock.now(), context.args or []
    )
    await context.courier.deliver(update, outcome)


async def digest(update: Update, context: SuishouContext) -> None:
    """/digest: last week's digest for this chat, on demand."""
    message = message_of(update)
    where = _where(message)
    outcome = await context.services.digest_for(where.chat_id, where.topic_id)
    await context.courier.deliver(update, outcome)


async def export(update: Update, context: SuishouContext) -> None:
    """/export [FROM] [TO]: the ledger as an XLSX file (runs beside other updates)."""
    message = message_of(update)
    where = _where(message)
    outcome = await context.services.ledger.for_chat(
        ChatTarget(where.chat_id, where.topic_id), context.args or []
    )
    await context.courier.deliver(update, outcome)


async def web(update: Update, context: SuishouContext) -> None:
    """/web: a one-time sign-in link to the console, for this chat's desk, sent privately."""
    message = message_of(update)
    where = _where(message)
    user = user_of(update)
    outcome = await context.services.signin.ask(
        ChatTarget(where.chat_id, where.topic_id),
        user.id,
        user.full_name[:64],
        anonymous=message.sender_chat is not None,
    )
    await context.courier.deliver(update, outcome)
