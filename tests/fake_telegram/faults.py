"""Faults the real Bot API shows in a normal month, for tests to inject.

- Telegram's frontends (nginx) answer ``502 Bad Gateway`` as an HTML page, not Bot API JSON,
  for a single call or for every call during an outage.
- A response can be lost: before the call reached Telegram (nothing happened) or after
  Telegram applied it (the message exists, but the bot never hears so). The in-process
  transport raises PTB's TimedOut; the loopback server hangs up without answering.
- Flood control: 429 with ``parameters.retry_after``.
- A basic group upgraded to a supergroup: the old id answers 400 with
  ``parameters.migrate_to_chat_id``, and both chats get the migration service messages.
- A normal month of all of these: ``random_faults`` gives a share of calls one of them,
  from a seeded generator (for soak tests).
Bot removed from a group (set_bot_status) and blocked riders (block_bot) live in api.py.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .params import ApiError
from .state import _Chat

if TYPE_CHECKING:
    from .api import FakeTelegram

BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"


class FrontendError(Exception):
    """An answer from Telegram's frontend, not the Bot API: a status and a non-JSON body."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class ResponseLost(Exception):
    """The connection died without an answer; ``applied`` says whether Telegram did the call."""

    def __init__(self, applied: bool) -> None:
        super().__init__("applied" if applied else "not applied")
        self.applied = applied


@dataclass
class _Fault:
    method: str  # lower case; "*" for any method
    kind: str  # "502", "lost-before" or "lost-after"
    times: int
    chat_id: int | None = None  # only calls to this chat; None for any


# Start-up and polling are spared by default: random faults are for what the bot sends.
SPARED = frozenset(
    m.lower()
    for m in ("getMe", "getUpdates", "setMyCommands", "deleteWebhook", "getWebhookInfo", "close")
)
KINDS = ("502", "lost-before", "lost-after", "429")


@dataclass
class _Chaos:
    rate: float
    rng: random.Random
    kinds: tuple[str, ...]
    spared: frozenset[str]


class Faults:
    """Mixin of FakeTelegram: injecting transport faults and group upgrades."""

    def bad_gateway(
        self: FakeTelegram, method: str = "*", *, times: int = 1, chat_id: int | None = None
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``) get the frontend's 502."""
        with self._lock:
            self._faults.append(_Fault(method.lower(), "502", times, chat_id))

    def outage(self: FakeTelegram, seconds: float) -> None:
        """Every call gets the frontend's 502 for ``seconds`` from now (fake clock); 0 ends it.

        ``outage_hits`` counts the calls it turned away."""
        with self._lock:
            self._outage_until = self.clock() + seconds

    def outage_calls(self: FakeTelegram, count: int) -> None:
        """The next ``count`` calls, whatever they are and whenever they come, get the 502."""
        with self._lock:
            self._outage_calls = count

    def lose_response(
        self: FakeTelegram,
        method: str,
        *,
        applied: bool,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``) get no answer (applied by
        Telegram, or not)."""
        with self._lock:
            kind = "lost-after" if applied else "lost-before"
            self._faults.append(_Fault(method.lower(), kind, times, chat_id))

    def flood(self: FakeTelegram, method: str, retry_after: int, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` hit flood control (429, retry_after)."""
        self.fail_next(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            parameters={"retry_after": retry_after},
            times=times,
        )

    def random_faults(
        self: FakeTelegram,
        rate: float,
        *,
        seed: int,
        kinds: tuple[str, ...] = KINDS,
        spared: frozenset[str] = SPARED,
    ) -> None:
        """From now on each call (but `spared` methods) meets, with probability `rate`, one
        of `kinds`: "502", "lost-before", "lost-after" or "429" (retry_after 1 to 3 s).
        ``rate=0`` ends it; ``faults_met`` counts what calls met."""
        with self._lock:
            unknown = set(kinds) - set(KINDS)
            if unknown:
                raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
            chaos = _Chaos(rate, random.Random(seed), kinds, frozenset(spared))
            self._chaos = chaos if rate > 0 else None

    def upgrade_to_supergroup(
        self: FakeTelegram, chat_id: int, by: dict[str, Any] | None = None
    ) -> tuple[int, list[dict[str, Any]]]:
        """Upgrade a basic group; returns (new chat id, the two migration updates).

        As Telegram does: the old group gets a message with ``migrate_to_chat_id``, the new
        supergroup one with ``migrate_from_chat_id``; every later call to the old id answers
        400 with ``parameters.migrate_to_chat_id``. Members, titles and the bot's rights carry
        over; messages do not (the supergroup starts afresh here).
        """
        with self._lock:
            old = self._chats[chat_id]
            if old.type != "group":
                raise ValueError("only basic groups are upgraded")
            n = self._next_group_id
            self._next_group_id += 1
            new_id = -(1000000000000 + 2345600000 + n)
            new_json = {**copy.deepcopy(old.json), "id": new_id, "type": "supergroup"}
            new = _Chat(
                json=new_json,
                members=dict(old.members),
                bot_status=old.bot_status,
                next_id=1,
            )
            self._chats[new_id] = new
            user = by or self._users[next(u for u, s in old.members.items() if s == "creator")]
            to = self._store(old, user, {"migrate_to_chat_id": new_id})
            frm = self._store(new, user, {"migrate_from_chat_id": chat_id})
            old.migrated_to = new_id
            updates = [
                {"update_id": self.next_update_id(), "message": copy.deepcopy(m.json)}
                for m in (to, frm)
            ]
            return new_id, updates

    # ----------------------------------------------------------------- used by the core

    def _transport_fault(self: FakeTelegram, method: str, chat_id: object = None) -> str | None:
        """The fault this call meets, if any (consumes it): "502", "lost-before",
        "lost-after", or "429:<retry_after>" (flood control, answered by the Bot API)."""
        with self._lock:
            if self._outage_calls > 0 or (
                self._outage_until is not None and self.clock() < self._outage_until
            ):
                self._outage_calls = max(0, self._outage_calls - 1)
                self.outage_hits += 1
                self.faults_met["outage"] += 1
                return "502"
            for fault in self._faults:
                if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                    continue
                if fault.times > 0 and fault.method in ("*", method.lower()):
                    fault.times -= 1
                    self.faults_met[fault.kind] += 1
                    return fault.kind
            chaos = self._chaos
            if chaos is None or method.lower() in chaos.spared or chaos.rng.random() >= chaos.rate:
                return None
            kind = chaos.rng.choice(chaos.kinds)
            self.faults_met[kind] += 1
            return f"429:{chaos.rng.randint(1, 3)}" if kind == "429" else kind


def migrated_error(chat: _Chat) -> ApiError | None:
    """What Telegram answers about a group that became a supergroup."""
    if chat.migrated_to is None:
        return None
    return ApiError(400, UPGRADED, {"migrate_to_chat_id": chat.migrated_to})
