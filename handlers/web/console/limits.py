"""Sign-in attempts, limited per client network and per link (its token's first letters);
and the steps one person takes from the console (ActionLimits).

A link's token is 256 bits, so guessing is hopeless; the limits keep a script from trying
anyway, and from hammering the database. Counted in memory (a restart forgets), in a
sliding window; both counts must have room for an attempt to go ahead.

An IPv6 client holds a whole /64 (2^64 addresses it can change at will), so its network is
what is counted. A flood from ever new networks must cost each attempt the same little
time and bounded memory (the event loop that counts also serves the riders): the counts
are kept least recently used first, so forgotten ones are dropped from the front, and
beyond MAX_KEYS the least recently used ones go.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from bot.clock import Clock

PER_ADDRESS = 20  # sign-in POSTs from one address (an IPv6 /64) in WINDOW
PER_TOKEN = 5  # POSTs with one token prefix in WINDOW (a person double-clicking is 2)
WINDOW = timedelta(minutes=10)
PREFIX = 8
MAX_KEYS = 20_000  # counts kept at most (a few MB); beyond, the least recently used go
# Steps (accept, reply, resolve...) one person takes in ACTION_WINDOW, whatever the browser:
# a person working fast takes a few a minute; each reply is a message on a rider's phone,
# so a script or a stolen session must not send hundreds.
ACTIONS_PER_PERSON = 20
ACTION_WINDOW = timedelta(minutes=1)


def network_of(address: str) -> str:
    """What one client is: an IPv4 address, or an IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


class SigninLimits:
    def __init__(
        self,
        clock: Clock,
        *,
        per_address: int = PER_ADDRESS,
        per_token: int = PER_TOKEN,
        window: timedelta = WINDOW,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.clock = clock
        self.window = window
        self.max_keys = max_keys
        self.limits = {"ip": per_address, "tok": per_token}
        # Least recently counted first: forgotten counts are always at the front.
        self._seen: OrderedDict[tuple[str, str], deque[datetime]] = OrderedDict()

    def attempt(self, address: str, token: str) -> bool:
        """Count an attempt; False (and not counted) when either limit is reached."""
        now = self.clock.now()
        keys = [("ip", network_of(address)), ("tok", token[:PREFIX])]
        for key in keys:
            times = self._seen.get(key)
            if times is None:
                continue
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limits[key[0]]:
                return False
        for key in keys:
            self._seen.setdefault(key, deque()).append(now)
            self._seen.move_to_end(key)
        self._forget(now)
        return True

    def _forget(self, now: datetime) -> None:
        """Drop counts with nothing in the window, then the least recent beyond the cap."""
        while self._seen:
            times = next(iter(self._seen.values()))
            if times and times[-1] > now - self.window and len(self._seen) <= self.max_keys:
                break
            self._seen.popitem(last=False)

    @property
    def minutes(self) -> int:
        return max(1, int(self.window.total_seconds() // 60))


class ActionLimits:
    """Console steps per person (staff id) in a sliding window; staff are few, so the
    counts stay small."""

    def __init__(
        self,
        clock: Clock,
        *,
        per_person: int = ACTIONS_PER_PERSON,
        window: timedelta = ACTION_WINDOW,
    ) -> None:
        self.clock = clock
        self.per_person = per_person
        self.window = window
        self._seen: dict[int, deque[datetime]] = {}

    def attempt(self, staff_id: int) -> bool:
        """Count a step; False (and not counted) when the person has taken too many."""
        now = self.clock.now()
        times = self._seen.setdefault(staff_id, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.per_person:
            return False
        times.append(now)
        return True
