"""Per-person limits, so that no single rider can slow everyone else down.

Each limit counts a person's actions in a sliding window (the last minute, the last hour).
Over the limit, the person is told once, politely, when they may go on; after that the
bot stays silent until the window has room again. Silence matters: answering every
message of a flood would itself flood Telegram's budget for the bot.

Channel-free: a person is an opaque key (Telegram counts a user id, the web a device or a
rider: keys of different kinds never meet); time comes from the injected clock. The counts
live in memory (a restart forgets them, which errs on the side of the rider).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import texts
from bot.clock import Clock

# Forget people idle for longer than their window once this many are tracked.
PRUNE_ABOVE = 4096


class Verdict(enum.Enum):
    ALLOW = "allow"  # go ahead (and, for `hit`, the action is counted)
    WARN = "warn"  # over the limit: tell the person once
    SILENT = "silent"  # still over the limit, already told: say nothing


@dataclass
class _Person:
    times: deque[datetime] = field(default_factory=deque)
    warned: bool = False


class SlidingLimit:
    """At most `limit` actions per person in any `window`."""

    def __init__(self, limit: int, window: timedelta, clock: Clock) -> None:
        if limit < 1:
            raise ValueError("a limit allows at least one action")
        self.limit = limit
        self.window = window
        self.clock = clock
        self._people: dict[Hashable, _Person] = {}

    def check(self, person: Hashable) -> Verdict:
        """May this person act now? Counts nothing (see `record`)."""
        now = self.clock.now()
        state = self._people.get(person)
        if state is None:
            return Verdict.ALLOW
        self._expire(state, now)
        if len(state.times) < self.limit:
            state.warned = False
            return Verdict.ALLOW
        if state.warned:
            return Verdict.SILENT
        state.warned = True
        return Verdict.WARN

    def record(self, person: Hashable) -> None:
        """Count one action of this person, now."""
        now = self.clock.now()
        if person not in self._people and len(self._people) >= PRUNE_ABOVE:
            self._prune(now)
        self._people.setdefault(person, _Person()).times.append(now)

    def hit(self, person: Hashable) -> Verdict:
        """Check, and count the action when it is allowed."""
        verdict = self.check(person)
        if verdict is Verdict.ALLOW:
            self.record(person)
        return verdict

    def free_at(self, person: Hashable) -> datetime:
        """When the person may act again (now, if they may already)."""
        now = self.clock.now()
        state = self._people.get(person)
        if state is None:
            return now
        self._expire(state, now)
        if len(state.times) < self.limit:
            return now
        return state.times[len(state.times) - self.limit] + self.window

    def _expire(self, state: _Person, now: datetime) -> None:
        while state.times and state.times[0] <= now - self.window:
            state.times.popleft()

    def _prune(self, now: datetime) -> None:
        idle = [
            p for p, s in self._people.items() if not s.times or s.times[-1] <= now - self.window
        ]
        for person in idle:
            del self._people[person]


class RiderLimits:
    """Messages per minute and reports per hour, per person."""

    def __init__(self, messages_per_minute: int, reports_per_hour: int, clock: Clock) -> None:
        self.messages = SlidingLimit(messages_per_minute, timedelta(minutes=1), clock)
        self.reports = SlidingLimit(reports_per_hour, timedelta(hours=1), clock)

    def pace(self, person: Hashable, tz: ZoneInfo) -> str | None:
        """One message of a channel that answers every request (the web page cannot stay
        silent): counted when allowed (None); else when the person may go on."""
        if self.messages.hit(person) is Verdict.ALLOW:
            return None
        return self.messages_free(person, tz)

    def messages_free(self, person: Hashable, tz: ZoneInfo) -> str:
        """When the person may write again, local time to the second (rounded up)."""
        free = _ceil(self.messages.free_at(person), timedelta(seconds=1))
        return f"{free.astimezone(tz):%H:%M:%S}"

    def reports_free(self, person: Hashable, tz: ZoneInfo) -> str:
        """When the person may report again, local time to the minute (rounded up)."""
        free = _ceil(self.reports.free_at(person), timedelta(minutes=1))
        return f"{free.astimezone(tz):%H:%M}"

    def too_many_messages(self, person: Hashable, lang: str, tz: ZoneInfo) -> texts.Html:
        """The one polite answer to a flood: when the rider may go on (to the second)."""
        return texts.t(lang, "limits.messages", time=self.messages_free(person, tz))

    def too_many_reports(self, person: Hashable, lang: str, tz: ZoneInfo) -> texts.Html:
        """The one polite answer to a report too many: when to submit it (to the minute)."""
        return texts.t(
            lang, "limits.reports", count=self.reports.limit, time=self.reports_free(person, tz)
        )


def _ceil(moment: datetime, step: timedelta) -> datetime:
    """Round up, so a rider who waits until the time shown is never turned away."""
    epoch = datetime(2000, 1, 1, tzinfo=moment.tzinfo)
    rest = (moment - epoch) % step
    return moment + (step - rest) if rest else moment
