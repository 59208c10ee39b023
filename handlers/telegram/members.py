"""Is this person in that group now? Telegram's getChatMember, read the way its statuses mean.

"member", "administrator" and "creator" belong; "restricted" belongs only while
``is_member`` is true (a restricted user who left keeps the restriction, not the seat);
"left" and "kicked" do not. A user Telegram cannot find in the chat is no member. A
transient failure (a 502, a timeout, flood control) is tried again twice within about a
second, as a person pressing a button waits; any other failure, or one that persists,
means we cannot tell, and the application refuses rather than guesses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Bot, ChatMember, ChatMemberRestricted
from telegram.error import BadRequest, TelegramError

from bot.ports import MembershipUnknown
from handlers.telegram.steady import is_transient

PRESENT = frozenset({"member", "administrator", "creator"})
# What Telegram answers for someone it cannot find among the chat's members.
NOT_FOUND = ("user not found", "member not found", "participant_id_invalid", "user_id_invalid")


RETRY_WAITS = (0.2, 0.5)  # seconds before the second and third try of a transient failure


class TelegramMembers:
    def __init__(
        self, bot: Bot, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        self.bot = bot
        self.sleep = sleep

    async def _lookup(self, chat_id: int, user_id: int) -> ChatMember:
        for wait in RETRY_WAITS:
            try:
                return await self.bot.get_chat_member(chat_id, user_id)
            except TelegramError as exc:
                if not is_transient(exc):
                    raise
            await self.sleep(wait)
        return await self.bot.get_chat_member(chat_id, user_id)

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        try:
            member = await self._lookup(chat_id, user_id)
        except BadRequest as exc:
            if any(words in exc.message.lower() for words in NOT_FOUND):
                return False
            raise MembershipUnknown(exc.message) from exc
        except TelegramError as exc:
            raise MembershipUnknown(exc.message) from exc
        if isinstance(member, ChatMemberRestricted):
            return member.is_member
        return member.status in PRESENT
