"""What the core talks to when no chat channel is configured (the web page alone).

Reports are kept and shown on the rider's page; their cards wait in the outbox for the first
start with a chat channel. Membership of a desk's chat cannot be asked: nobody acts there.
"""

from __future__ import annotations

from bot.ports import MembershipUnknown

REASON = "no chat channel configured"


class NoMembers:
    """A MemberLookup with no chat to ask."""

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        raise MembershipUnknown(REASON)
