"""The staff console under attack: a flood of sign-in attempts from addresses that change
with every request, a flood of actions from one person, words typed on a page whose report
moved away meanwhile. Each must leave the console working for everyone else and lose
nothing a person typed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from handlers.web.console.limits import SigninLimits


class Frozen:
    def __init__(self) -> None:
        self.at = datetime(2026, 5, 1, 9, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def test_a_flood_from_ever_new_addresses_costs_little_and_is_forgotten() -> None:
    """IPv6 gives one machine 2^64 addresses: counting each apart must neither grow
    without bound nor slow every later attempt down (the same loop serves the riders)."""
    clock = Frozen()
    limits = SigninLimits(clock)
    started = time.perf_counter()
    for n in range(30_000):
        limits.attempt(
            f"2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::1", f"tok{n:05d}xxxxxxxxxxxxxxxxxxxxxx"
        )
    took = time.perf_counter() - started
    assert took < 3.0, f"30000 attempts took {took:.1f} s"
    assert len(limits._seen) <= limits.max_keys
    # Someone else still gets in.
    assert limits.attempt("198.51.100.7", "somebody-elses-token")


def test_one_ipv6_network_counts_as_one_address() -> None:
    limits = SigninLimits(Frozen())
    results = [
        limits.attempt(f"2001:db8:1:2::{n:x}", f"{n:03d}-token-xxxxxxxxxxxxxxxxx")
        for n in range(21)
    ]
    assert all(results[:20]) and not results[20]
    # Another network, and IPv4 addresses, are counted apart.
    assert limits.attempt("2001:db8:1:3::1", "another-token-xxxxxxxxxxxxxxxxxx")
    assert limits.attempt("198.51.100.7", "yet-another-token-xxxxxxxxxxxxx")


def test_the_window_still_slides() -> None:
    clock = Frozen()
    limits = SigninLimits(clock)
    for n in range(20):
        assert limits.attempt("198.51.100.7", f"{n:03d}-token-xxxxxxxxxxxxxxxxx")
    assert not limits.attempt("198.51.100.7", "999-token-xxxxxxxxxxxxxxxxx")
    clock.at += timedelta(minutes=10, seconds=1)
    assert limits.attempt("198.51.100.7", "999-token-xxxxxxxxxxxxxxxxx")
