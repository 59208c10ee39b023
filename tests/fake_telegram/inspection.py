"""Reading the fake cheaply, for tests that poll it many times a second (crowds of people).

A mixin of FakeTelegram, like faults.py: what changed in a chat since a message, a message
without copying it, a button press as Telegram keeps it, and which call made a message.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from .state import Call, TgMessage

if TYPE_CHECKING:
    from .api import FakeTelegram


class Inspection:
    """Read-only looks at the fake's state."""

    def messages_after(
        self: FakeTelegram, chat_id: int, message_id: int, thread_id: int | None = None
    ) -> list[TgMessage]:
        """Visible messages of a chat (or topic) newer than `message_id`, as read-only views
        (see `view`): cheap enough to poll."""
        newer: list[TgMessage] = []
        with self._lock:
            for number, m in reversed(self._chats[chat_id].messages.items()):
                if number <= message_id:
                    break  # ids only grow: the rest is older
                if not m.deleted and (thread_id is None or m.thread_id == thread_id):
                    newer.append(self._snapshot(m, deep=False))
        return newer[::-1]

    def view(self: FakeTelegram, chat_id: int, message_id: int) -> TgMessage:
        """Like `message`, without copying what the message holds: read it, never change it."""
        with self._lock:
            return self._snapshot(self._chats[chat_id].messages[message_id], deep=False)

    def callback_query(self: FakeTelegram, query_id: str) -> dict[str, Any] | None:
        """A press as Telegram keeps it: who pressed, its data, the message, its answer."""
        with self._lock:
            query = self._callback_queries.get(query_id)
            return None if query is None else copy.deepcopy(query)

    def answer_to(self: FakeTelegram, query_id: str) -> dict[str, Any] | None:
        """The bot's answer to a button press (its toast), or None while the button spins."""
        with self._lock:
            answer = self._callback_queries.get(query_id, {}).get("answer")
            return None if answer is None else dict(answer)

    def sent_by(self: FakeTelegram, chat_id: int, message_id: int) -> Call | None:
        """The call that made the bot's message `message_id` in `chat_id`."""
        with self._lock:
            for call in reversed(self.calls):
                result = (call.response or {}).get("result")
                for sent in result if isinstance(result, list) else [result]:
                    if (
                        isinstance(sent, dict)
                        and sent.get("message_id") == message_id
                        and sent.get("chat", {}).get("id") == chat_id
                        and call.method.startswith("send")
                    ):
                        return call
            return None
