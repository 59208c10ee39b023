"""Faults the real Bot API shows in a normal month, for tests to inject.

- Telegram's frontends (nginx) answer ``502 Bad Gateway`` as an HTML page, not Bot API JSON,
  for a single call or for every call during an outage.
- A response can be lost: before the call reached Telegram (nothing happened) or after
  Telegram applied it (the message exists, but the bot never hears so). The in-process
  transport raises PTB's TimedOut; the loopback server hangs up without answering.
- Flood control: 429 with ``parameters.retry_after``, injected once (``flood``) or as
  Telegram's pace in groups (``group_pace``: 20 messages a minute into one group).
- A basic group upgraded to a supergroup: the old id answers 400 with
  ``parameters.migrate_to_chat_id``, and both chats get the migration service messages.
- A normal month of all of these: ``random_faults`` gives a share of calls one of them,
  from a seeded generator (for soak tests).
Bot removed from a group (set_bot_status) and blocked riders (block_bot) live in api.py.
"""

from __future__ import annotations

import copy
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .params import ApiError, Params, words
from .state import _Chat

if TYPE_CHECKING:
    from .api import FakeTelegram

BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
# Methods that post new messages into a chat: what a group's pace counts.
POSTING = words(
    "sendmessage sendphoto senddocument sendmediagroup sendlocation sendvenue sendcontact "
    "sendanimation sendvideo sendaudio sendvoice sendsticker sendpoll copymessage forwardmessage"
)
PACED_CHATS = ("group", "supergroup", "channel")


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


@dataclass
class GroupPace:
    """Telegram's flood control for groups: at most ``per_minute`` messages into one group
    within any ``minute`` seconds (a sliding window); a post beyond that is refused.

    Telegram documents only "no more than 20 messages per minute to the same group", not the
    algorithm. A sliding window reproduces what bots report meeting: a burst of 20 goes out,
    then 429 with retry_after of tens of seconds (until the burst's first message is a minute
    old), not a steady one message every 3 s. Refused posts do not count.
    """

    per_minute: int = 20
    minute: float = 60.0
    sent: dict[int, deque[float]] = field(default_factory=dict)
    refused: int = 0  # posts answered 429

    def check(self, chat_id: int, count: int, now: float) -> int | None:
        """Seconds to wait (Telegram's whole seconds, at least 1) if ``count`` posts into
        this chat now would exceed the pace; None if they may go."""
        window = self.sent.setdefault(chat_id, deque())
        while window and window[0] <= now - self.minute:
            window.popleft()
        excess = len(window) + count - self.per_minute
        if excess <= 0 or count > self.per_minute:
            return None
        frees_at = window[excess - 1] + self.minute  # when enough of the oldest have aged out
        return max(1, math.ceil(frees_at - now))

    def count(self, chat_id: int, count: int, now: float) -> None:
        self.sent.setdefault(chat_id, deque()).extend([now] * count)


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
    """Mixin of FakeTelegram: injecting transport faults, flood control and group upgrades."""

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

    def outage_calls(self: FakeTelegram, count: int, *, within: float | None = None) -> None:
        """The next ``count`` calls, whatever they are, get the 502; with ``within``, only
        those that come in the next ``within`` seconds (an outage is a stretch of time: at a
        quiet hour it may meet no call at all)."""
        with self._lock:
            self._outage_calls = count
            self._outage_calls_until = None if within is None else self.clock() + within

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

    def clear_faults(self: FakeTelegram) -> None:
        """Every injected fault still waiting ends now (Telegram is well again)."""
        with self._lock:
            self._faults.clear()

    def flood(self: FakeTelegram, method: str, retry_after: int, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` hit flood control (429, retry_after)."""
        self.fail_next(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            parameters={"retry_after": retry_after},
            times=times,
        )

    def group_pace(self: FakeTelegram, per_minute: int | None = 20, minute: float = 60.0) -> None:
        """Pace posts into groups and channels as Telegram does (see GroupPace); None: off.

        Off unless asked for, as most tests post a few messages. ``minute`` (on the fake's
        clock) can be shortened to compress time, but retry_after stays whole seconds, as on
        Telegram, so a minute much shorter than 60 s makes the waits coarse; and a bot pacing
        itself to 60-second minutes must be compressed to the same minute. ``pace.refused``
        counts the posts refused.
        """
        with self._lock:
            self.pace = None if per_minute is None else GroupPace(per_minute, minute)

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
            if self._outage_calls_until is not None and self.clock() >= self._outage_calls_until:
                self._outage_calls, self._outage_calls_until = 0, None
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

    def _paced(self: FakeTelegram, method: str, p: Params) -> tuple[int, int] | None:
        """(chat id, messages) a post into a paced chat would add; raises the 429 if over."""
        if self.pace is None or method.lower() not in POSTING:
            return None
        try:
            chat = self._find_chat(p.chat_id())
            media = p.json("media") if method.lower() == "sendmediagroup" else None
        except ApiError:
            return None  # the method itself answers about what it cannot use
        if chat.type not in PACED_CHATS:
            return None
        count = len(media) if isinstance(media, list) else 1
        wait = self.pace.check(chat.id, count, self.clock())
        if wait is not None:
            self.pace.refused += 1
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        return chat.id, count


def migrated_error(chat: _Chat) -> ApiError | None:
    """What Telegram answers about a group that became a supergroup."""
    if chat.migrated_to is None:
        return None
    return ApiError(400, UPGRADED, {"migrate_to_chat_id": chat.migrated_to})
