"""Telegram's courier: how one message is delivered to Telegram, now.

Implements the application's Courier, which the outbox worker (bot/delivery/worker.py)
calls for cards, edits and notices, and delivers the Outcome of a person's action back to
them (replies, in-place edits, button toasts). Telegram errors become DeliveryError (with
whether they may pass) so the worker can retry or give up.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

from telegram import Bot, InputFile, InputMediaPhoto, Message, ReplyParameters, Update
from telegram.error import BadRequest, TelegramError

from bot.config import ChatTarget
from bot.domain.geo import LatLon
from bot.messages import Card, Outcome, Reply
from bot.ports import DeliveryError
from handlers.telegram.keyboards import inline, markup
from handlers.telegram.steady import delivery_error
from handlers.telegram.textsplit import CAPTION_LIMIT, TEXT_LIMIT, fit, split_html, visible_length
from storage.records import CardMessage

log = logging.getLogger(__name__)


class TelegramCourier:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat: ChatTarget, reply: Reply, reply_to: int | None = None) -> int:
        """Send a message; returns the id of its last part (the one carrying the buttons)."""
        return (await self.send_parts(chat, reply, reply_to))[-1]

    async def send_parts(
        self, chat: ChatTarget, reply: Reply, reply_to: int | None = None, *, skip: int = 0
    ) -> list[int]:
        """Send a message in as many parts as Telegram's limits need; returns their ids.

        A text too long for one message goes as several (split at line ends, never inside a
        tag); a caption too long for a photo goes as a text right after the photo. The
        buttons (or the request to reply) come with the last part, so they stay in view.
        `skip`: the first parts arrived in an earlier try; only the rest are sent.
        """
        quote = (
            ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        sent: list[int] = []
        part = 0  # the index of the part at hand; the first one carries the quote
        try:
            if reply.photo is not None:
                fits = visible_length(reply.text) <= CAPTION_LIMIT
                if part >= skip:
                    message = await self.bot.send_photo(
                        chat.chat_id,
                        reply.photo,
                        caption=reply.text if fits else None,
                        message_thread_id=chat.topic_id,
                        reply_markup=markup(reply) if fits else None,
                        reply_parameters=quote,
                    )
                    sent.append(message.message_id)
                part += 1
                texts_ = [] if fits else split_html(reply.text, TEXT_LIMIT)
            else:
                texts_ = split_html(reply.text, TEXT_LIMIT)
            for i, text in enumerate(texts_):
                if part >= skip:
                    message = await self.bot.send_message(
                        chat.chat_id,
                        text,
                        message_thread_id=chat.topic_id,
                        reply_markup=markup(reply) if i == len(texts_) - 1 else None,
                        reply_parameters=quote if part == 0 else None,
                    )
                    sent.append(message.message_id)
                part += 1
        except TelegramError as exc:
            raise delivery_error(exc, sent=sent) from exc
        return sent

    async def send_document(
        self, chat: ChatTarget, filename: str, data: bytes, caption: str
    ) -> int:
        try:
            message = await self.bot.send_document(
                chat.chat_id,
                InputFile(data, filename=filename),
                caption=caption,
                message_thread_id=chat.topic_id,
            )
        except TelegramError as exc:
            raise delivery_error(exc) from exc
        return message.message_id

    async def edit(
        self, chat_id: int, message_id: int, reply: Reply, *, caption: bool = False
    ) -> None:
        """Replace a message's words (a photo's caption, or a text) and inline buttons.

        `caption` says which the message is; if Telegram says it is the other kind (a card
        posted before its layout changed), the edit is made the other way.
        """
        try:
            try:
                await self._edit(chat_id, message_id, reply, caption=caption)
            except BadRequest as exc:
                wrong = "there is no caption" if caption else "there is no text"
                if wrong not in exc.message.lower():
                    raise
                await self._edit(chat_id, message_id, reply, caption=not caption)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise delivery_error(exc) from exc
        except TelegramError as exc:
            raise delivery_error(exc) from exc

    async def _edit(self, chat_id: int, message_id: int, reply: Reply, *, caption: bool) -> None:
        # An edit replaces one message: the longest version that fits, else cut visibly.
        if caption:
            await self.bot.edit_message_caption(
                chat_id,
                message_id,
                caption=_longest_fitting(reply, CAPTION_LIMIT),
                reply_markup=inline(reply.buttons),
            )
        else:
            await self.bot.edit_message_text(
                _longest_fitting(reply, TEXT_LIMIT),
                chat_id,
                message_id,
                reply_markup=inline(reply.buttons),
            )

    async def post_card(
        self, chat: ChatTarget, card: Card, *, photos_sent: Sequence[tuple[int, int]] = ()
    ) -> list[CardMessage]:
        """One message when it can: the photo, the card's words as its caption, the buttons.

        A card too long for a caption, or with several photos (an album cannot carry
        buttons), is the photos first and then the card as a text with its buttons. The
        location pin is not sent: the card links the maps, and its button sends the pin.
        `photos_sent` ((chat id, message id) each): the photos arrived in an earlier try
        whose text did not; only the text is sent. A failure after the photos arrived says
        which they are (DeliveryError.sent, as chat ids and message ids in `parts`).
        """
        thread = chat.topic_id
        posted: list[CardMessage] = [
            CardMessage(card.report_id, c, thread, m, "photo") for c, m in photos_sent
        ]

        def keep(messages: list[Message] | tuple[Message, ...], kind: str) -> None:
            posted.extend(
                CardMessage(card.report_id, m.chat_id, thread, m.message_id, kind)
                for m in messages
            )

        try:
            if not posted and len(card.photos) == 1 and visible_length(card.text) <= CAPTION_LIMIT:
                message = await self.bot.send_photo(
                    chat.chat_id,
                    card.photos[0],
                    caption=card.text,
                    message_thread_id=thread,
                    reply_markup=inline(card.buttons),
                )
                keep([message], "card")
                return posted
            if posted:
                pass  # the photos arrived in an earlier try: the text follows them
            elif len(card.photos) == 1:
                keep(
                    [
                        await self.bot.send_photo(
                            chat.chat_id,
                            card.photos[0],
                            caption=fit(card.photo_caption, CAPTION_LIMIT),
                            message_thread_id=thread,
                        )
                    ],
                    "photo",
                )
            elif card.photos:
                media = [
                    InputMediaPhoto(
                        path.read_bytes(),
                        caption=fit(card.photo_caption, CAPTION_LIMIT) if i == 0 else None,
                    )
                    for i, path in enumerate(card.photos)
                ]
                keep(
                    await self.bot.send_media_group(chat.chat_id, media, message_thread_id=thread),
                    "photo",
                )
            text = await self.bot.send_message(
                chat.chat_id,
                fit(card.text, TEXT_LIMIT),  # one message: it is edited in place later
                message_thread_id=thread,
                reply_markup=inline(card.buttons),
            )
            keep([text], "card")
        except TelegramError as exc:
            error = delivery_error(exc, sent=[p.message_id for p in posted])
            error.parts = [(p.chat_id, p.message_id) for p in posted]
            raise error from exc
        return posted

    async def send_location(self, chat: ChatTarget, point: LatLon, reply_to: int) -> int:
        try:
            pin = await self.bot.send_location(
                chat.chat_id,
                point.lat,
                point.lon,
                message_thread_id=chat.topic_id,
                reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True),
            )
        except TelegramError as exc:
            raise delivery_error(exc) from exc
        return pin.message_id

    async def deliver(self, update: Update, outcome: Outcome) -> None:
        """Answer the person who caused `update`, in the chat (and topic) they used."""
        query = update.callback_query
        if query is not None:
            # Toasts are plain text: the texts are HTML, so undo their escaping.
            toast = html.unescape(outcome.toast) if outcome.toast else None
            try:
                await query.answer(toast, show_alert=outcome.alert)
            except TelegramError as exc:
                # The step took effect: a lost toast must not also lose the edit that shows
                # it (the rider's 已解决 answer, a card's menu). The edit below still goes.
                log.warning("button answer not delivered", extra={"reason": exc.message})
            if outcome.edit is not None and isinstance(query.message, Message):
                try:
                    await self.edit(
                        query.message.chat_id,
                        query.message.message_id,
                        outcome.edit,
                        caption=bool(query.message.photo),
                    )
                except DeliveryError as exc:
                    log.warning(
                        "edit failed", extra={"chat": query.message.chat_id, "reason": exc.reason}
                    )
        chat = update.effective_chat
        if chat is None:
            return
        message = update.effective_message
        thread = message.message_thread_id if message and message.is_topic_message else None
        # In a group, answer the person's own message so the thread stays readable.
        quote = message.message_id if message and chat.type != "private" and not query else None
        for reply in outcome.replies:
            try:
                await self.send(ChatTarget(chat.id, thread), reply, reply_to=quote)
            except DeliveryError as exc:
                log.warning("reply not delivered", extra={"chat": chat.id, "reason": exc.reason})


def _longest_fitting(reply: Reply, limit: int) -> str:
    """The first of the reply's versions (longest first) that fits, else the last, cut."""
    versions = (reply.text, *reply.shorter)
    return next((v for v in versions if visible_length(v) <= limit), fit(versions[-1], limit))
