"""Is this person in that group now? Telegram's getChatMember, read the way its statuses mean.

"member", "administrator" and "creator" belong; "restricted" belongs only while
``is_member`` is true (a restricted user who left keeps the restriction, not the seat);
"left" and "kicked" do not. A user Telegram cannot find in the chat is no member. A
transient failure (a 502, a timeout, flood control) is tried again twice within about a
second, as a person pressing a button waits; any other failure, or one that persists,
means we cannot tell, and the application refuses rather than guesses.
"""

from __future__ import annotations

from telegram import Bot, ChatMemberRestricted
from telegram.error import BadRequest, TelegramError

from bot.ports import MembershipUnknown
from handlers.telegram.steady import RetryPolicy, call_with_retries

PRESENT = frozenset({"member", "administrator", "creator"})
# What Telegram answers for someone it cannot find among the chat's members.
NOT_FOUND = ("user not found", "member not found", "participant_id_invalid", "user_id_invalid")


# A person pressing a button waits: three tries within about a second (0.2 s, then 0.4 s).
PRESS_RETRY = RetryPolicy(tries=3, first_delay=0.2, max_delay=0.5, budget=1.0)


class TelegramMembers:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        try:
            member = await call_with_retries(
                lambda: self.bot.get_chat_member(chat_id, user_id),
                PRESS_RETRY,
                "getChatMember",
                chat_id,
            )
        except BadRequest as exc:
            if any(words in exc.message.lower() for words in NOT_FOUND):
                return False
            raise MembershipUnknown(exc.message) from exc
        except TelegramError as exc:
            raise MembershipUnknown(exc.message) from exc
        if isinstance(member, ChatMemberRestricted):
            return member.is_member
        return member.status in PRESENT
