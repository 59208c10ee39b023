"""Sign-in attempts, limited per client address and per link (its token's first letters).

A link's token is 256 bits, so guessing is hopeless; the limits keep a script from trying
anyway, and from hammering the database. Counted in memory (a restart forgets), in a
sliding window; both counts must have room for an attempt to go ahead.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from bot.clock import Clock

PER_ADDRESS = 20  # sign-in POSTs from one address in WINDOW
PER_TOKEN = 5  # POSTs with one token prefix in WINDOW (a person double-clicking is 2)
WINDOW = timedelta(minutes=10)
PREFIX = 8
PRUNE_ABOVE = 4096


class SigninLimits:
    def __init__(
        self,
        clock: Clock,
        *,
        per_address: int = PER_ADDRESS,
        per_token: int = PER_TOKEN,
        window: timedelta = WINDOW,
    ) -> None:
        self.clock = clock
        self.window = window
        self.limits = {"ip": per_address, "tok": per_token}
        self._seen: dict[tuple[str, str], deque[datetime]] = {}

    def attempt(self, address: str, token: str) -> bool:
        """Count an attempt; False (and not counted) when either limit is reached."""
        now = self.clock.now()
        keys = [("ip", address), ("tok", token[:PREFIX])]
        for key in keys:
            times = self._seen.get(key)
            if times is None:
                continue
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limits[key[0]]:
                return False
        if len(self._seen) > PRUNE_ABOVE:
            self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.window}
        for key in keys:
            self._seen.setdefault(key, deque()).append(now)
        return True

    @property
    def minutes(self) -> int:
        return max(1, int(self.window.total_seconds() // 60))
