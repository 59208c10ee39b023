"""The staff console under attack: a flood of sign-in attempts from addresses that change
with every request, a flood of actions from one person, words typed on a page whose report
moved away meanwhile. Each must leave the console working for everyone else and lose
nothing a person typed."""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from handlers import web
from handlers.web.console.limits import ACTIONS_PER_PERSON, SigninLimits
from tests.conftest import IN_DONGGUAN, Stage
from tests.console import StaffBrowser, error_of, invite
from tests.test_console_report import rider_reports, signed_in


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


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"a" * 40)
    yield app


def draft_of(page: str, field: str) -> str:
    found = re.search(rf'<textarea name="text" id="{field}"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


async def test_a_flood_of_replies_from_one_person_is_slowed_and_loses_no_words(
    stage: Stage, web_app: Starlette
) -> None:
    """Each reply is a message on the rider's phone: a script (or a stolen session) must
    not bury a rider in them. Past the limit the page says to wait and keeps the words."""
    await rider_reports(stage, web_app)
    link = await invite(stage, "李四", "xiguan")
    staff = StaffBrowser(web_app)
    await staff.sign_in(link)
    await staff.open("/console/r/1")
    codes = [
        (await staff.act(1, "reply", text=f"第 {n} 条")).status_code
        for n in range(ACTIONS_PER_PERSON)
    ]
    assert codes == [303] * ACTIONS_PER_PERSON
    late = await staff.act(1, "reply", text="请问现场还有积水吗？")
    assert late.status_code == 429 and "一分钟" in error_of(late.text)
    assert draft_of(late.text, "reply-text") == "请问现场还有积水吗？"
    # The same person in another browser is the same person.
    again = StaffBrowser(web_app)
    await again.sign_in(await stage.services.staff_links.signin(link.person, "xiguan"))
    await again.open("/console/r/1")
    assert (await again.act(1, "accept", seen="dispatched")).status_code == 429
    # A colleague is not held up, and a minute later the person may go on.
    colleague = await signed_in(stage, web_app, name="王五")
    await colleague.open("/console/r/1")
    assert (await colleague.act(1, "reply", text="我们马上到")).status_code == 303
    stage.clock.advance(seconds=61)
    assert (await staff.act(1, "reply", text="请问现场还有积水吗？")).status_code == 303
    for b in (staff, again, colleague):
        await b.close()


async def test_words_typed_for_a_report_that_moved_away_meanwhile_are_not_lost(
    stage: Stage, web_app: Starlette
) -> None:
    """A colleague transferred the report while a note was being written: the step is
    refused saying where it went (as the chat's card says), and the note is shown back."""
    await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    colleague = await signed_in(stage, web_app, name="王五")
    await staff.open("/console/r/1")
    await colleague.open("/console/r/1")
    assert (
        await colleague.act(1, "transfer", seen="dispatched", to="dongguan")
    ).status_code == 303
    note = "已联系物业，明早八点前更换井盖 <b>"
    late = await staff.act(1, "reply", text=note)
    assert late.status_code == 404
    assert "东关" in error_of(late.text) and "#1" in error_of(late.text)
    assert note in html.unescape(late.text) and "<b>" not in late.text
    assert 'id="reply"' not in late.text  # nothing to act on here any more
    # A report that was never at the desk reads as missing, as before (nothing to probe).
    await rider_reports(stage, web_app, IN_DONGGUAN)
    elsewhere = await staff.act(2, "reply", text="你好")
    assert elsewhere.status_code == 404 and "东关" not in elsewhere.text
    assert "没有这个工单" in error_of(elsewhere.text) and "你好" in elsewhere.text
    # A forged form shows nothing back.
    forged = await staff.client.post("/console/r/1/reply", data={"csrf": "x", "text": "伪造"})
    assert forged.status_code == 404 and "伪造" not in forged.text and "东关" not in forged.text
    for b in (staff, colleague):
        await b.close()
