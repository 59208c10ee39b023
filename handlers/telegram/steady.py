"""Telegram calls that survive a hiccup: retries with backoff, and chats that moved.

Telegram fails in two ways. Transient: the network, a timeout, a 5xx from its frontends,
flood control (429 retry_after); the same call a little later usually succeeds, so it is
retried with backoff, within a bounded time. Permanent: the chat is gone, the bot was removed
or blocked, the request is wrong; retrying cannot help, so the caller hears at once and can
send the message elsewhere. A group upgraded to a supergroup answers with its new id: the move
is recorded (bot/casework/chat_moves.py) and the call goes to the new id.

A timeout may come after Telegram applied the call (the answer was lost): the retry then
makes a duplicate. Telegram has no idempotency key, so that is the price of delivery; such
retries are counted and logged.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.casework.chat_moves import ChatMoves
from bot.ports import DeliveryError

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_transient(exc: TelegramError) -> bool:
    """Whether the same call may succeed later (BadRequest is a NetworkError in PTB: not so)."""
    if isinstance(exc, RetryAfter):
        return True
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def delivery_error(exc: TelegramError, sent: list[int] | None = None) -> DeliveryError:
    """The application's view of a Telegram failure: its reason, whether it may pass, and
    which parts of a message in several parts did arrive before it."""
    wait = _retry_after_seconds(exc) if isinstance(exc, RetryAfter) else None
    return DeliveryError(exc.message, sent=sent, transient=is_transient(exc), retry_after=wait)


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying a transient failure: `tries` calls within `budget` seconds."""

    tries: int = 5
    first_delay: float = 1.0
    max_delay: float = 10.0
    budget: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that this becomes a timedelta; both work
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


async def call_with_retries(
    call: Callable[[], Awaitable[T]], policy: RetryPolicy, what: str, chat_id: int | None
) -> T:
    """Run `call`, retrying transient failures per `policy`; raise the last failure."""
    waited = 0.0
    attempt = 1
    while True:
        try:
            return await call()
        except TelegramError as exc:
            if not is_transient(exc):
                raise
            if isinstance(exc, RetryAfter):
                wait = _retry_after_seconds(exc)
            else:
                wait = min(policy.first_delay * 2 ** (attempt - 1), policy.max_delay)
            if attempt >= policy.tries or waited + wait > policy.budget:
                log.error(
                    "telegram call failed; giving up",
                    extra={
                        "method": what,
                        "chat": chat_id,
                        "tries": attempt,
                        "reason": exc.message,
                    },
                )
                raise
            log.warning(
                "telegram call failed; retrying",
                extra={
                    "method": what,
                    "chat": chat_id,
                    "try": attempt,
                    "wait_s": wait,
                    "reason": exc.message,
                    # A timeout may hide a call Telegram applied: the retry can duplicate it.
                    "maybe_applied": isinstance(exc, TimedOut),
                },
            )
            await policy.sleep(wait)
            waited += wait
            attempt += 1


class SteadyBot:
    """The Bot as the outbox uses it: sends retried, and sent where the chat lives now.

    Any attribute not defined here is the Bot's own (e.g. `username`).
    """

    def __init__(self, bot: Bot, policy: RetryPolicy | None = None) -> None:
        self._bot = bot
        self.moves: ChatMoves | None = None  # set once the application's services exist
        self._policy = policy or RetryPolicy()
        self.maybe_duplicated = 0  # timeouts retried: Telegram may have applied the first call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    async def _send(self, name: str, chat_id: int, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self._bot, name)
        for _ in range(3):  # a chat moves once; a chain of moves is Telegram's rare case
            target = self.moves.resolve(chat_id) if self.moves else chat_id

            def call(t: int = target) -> Awaitable[Any]:
                return self._counted(method(t, *args, **kwargs))

            try:
                return await call_with_retries(
                    call,
                    self._policy,
                    name,
                    target,
                )
            except ChatMigrated as exc:
                if self.moves is None:
                    raise
                await self.moves.moved(target, exc.new_chat_id)
        raise TelegramError("chat moved too often")

    async def _counted(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except TimedOut:
            self.maybe_duplicated += 1
            raise

    async def _edit(self, name: str, *args: Any, **kwargs: Any) -> Any:
        # A message id belongs to its chat: edits never follow a move.
        method = getattr(self._bot, name)
        chat_id = kwargs.get("chat_id")
        return await call_with_retries(
            lambda: method(*args, **kwargs), self._policy, name, chat_id
        )

    async def send_message(self, chat_id: int, *args: Any, **kwargs: Any) -> Any:
        return await self._send("send_message", chat_id, *args, **kwargs)

    async def send_photo(self, chat_id: int, *args: Any, **kwargs: Any) -> Any:
        return await self._send("send_photo", chat_id, *args, **kwargs)

    async def send_media_group(self, chat_id: int, *args: Any, **kwargs: Any) -> Any:
        return await self._send("send_media_group", chat_id, *args, **kwargs)

    async def send_location(self, chat_id: int, *args: Any, **kwargs: Any) -> Any:
        return await self._send("send_location", chat_id, *args, **kwargs)

    async def send_document(self, chat_id: int, *args: Any, **kwargs: Any) -> Any:
        return await self._send("send_document", chat_id, *args, **kwargs)

    async def edit_message_text(self, *args: Any, **kwargs: Any) -> Any:
        return await self._edit("edit_message_text", *args, **kwargs)

    async def edit_message_caption(self, *args: Any, **kwargs: Any) -> Any:
        return await self._edit("edit_message_caption", *args, **kwargs)
