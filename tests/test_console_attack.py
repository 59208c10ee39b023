"""The staff console under attack: a flood of sign-in attempts from addresses that change
with every request, a flood of actions from one person, words typed on a page whose report
moved away meanwhile. Each must leave the console working for everyone else and lose
nothing a person typed."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import io
import logging
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from bot.logs import setup_logging
from bot.reporting.ledger import Ledger
from handlers import web
from handlers.web.console.limits import ACTIONS_PER_PERSON, SigninLimits
from tests.conftest import IN_DONGGUAN, IN_XIGUAN, Stage, words
from tests.console import StaffBrowser, csrf_in, error_of, invite, path_of
from tests.test_casework import card_of, staff_of
from tests.test_console_report import rider_reports, signed_in
from tests.web import WebRider, card_recorded


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


async def test_one_invite_pressed_in_two_browsers_at_once_signs_in_one(
    stage: Stage, web_app: Starlette
) -> None:
    link = await invite(stage, "李四", "xiguan")
    path = path_of(link.url)
    browsers = [StaffBrowser(web_app) for _ in range(4)]
    tokens = [csrf_in((await b.client.get(path)).text) for b in browsers]
    answers = await asyncio.gather(
        *(b.client.post(path, data={"csrf": t}) for b, t in zip(browsers, tokens, strict=True))
    )
    assert sorted(a.status_code for a in answers) == [303, 404, 404, 404]
    signed = [b for b in browsers if (await b.client.get("/console")).status_code == 200]
    assert len(signed) == 1
    for b in browsers:
        await b.close()


async def test_a_form_token_of_another_session_or_a_replayed_cookie_acts_for_nobody(
    stage: Stage, web_app: Starlette
) -> None:
    await rider_reports(stage, web_app)
    mine = await signed_in(stage, web_app)
    theirs = await signed_in(stage, web_app, name="王五")
    await mine.open("/console/r/1")
    await theirs.open("/console/r/1")
    borrowed = await mine.act(1, "accept", seen="dispatched", csrf=theirs.csrf)
    assert borrowed.status_code == 403 and 'id="accept"' in borrowed.text
    # A cookie kept from before signing out is nobody, even with its own page's token.
    kept = dict(mine.client.cookies)
    token = mine.csrf
    await mine.client.post("/console/out", data={"csrf": token})
    replay = StaffBrowser(web_app)
    for name, value in kept.items():
        replay.client.cookies.set(name, value, path="/console")
    answer = await replay.client.post(
        "/console/r/1/accept", data={"csrf": token, "seen": "dispatched"}
    )
    assert answer.status_code == 401
    for b in (mine, theirs, replay):
        await b.close()


EVIL = '"><img src=x onerror=alert(1)><script>alert(2)</script>\u202egpj.exe'


async def test_markup_from_riders_and_staff_is_shown_as_text_everywhere(
    stage: Stage, web_app: Starlette
) -> None:
    """A rider's note, a rider's reply, a Telegram name and a console reply may all hold
    markup: every console page shows it as text (and a refusal naming the handler too)."""
    phone = WebRider(web_app)
    await phone.open()
    sent = await phone.submit(point=IN_XIGUAN, note=EVIL, extra={"separate": "1"})
    assert sent.status_code == 201
    await card_recorded(stage, 1)
    staff = await signed_in(stage, web_app, name=EVIL[:40])
    await staff.open("/console/r/1")
    evil_name = staff_of(stage, "xiguan", EVIL[:60])
    await stage.send(evil_name.press(card_of(stage, "xiguan"), "✋ 受理"))
    refused = await staff.act(1, "accept", seen="dispatched")
    assert refused.status_code == 409
    assert (await staff.act(1, "reply", text=EVIL)).status_code == 303
    await stage.delivered()
    county = await signed_in(stage, web_app, "county", "王主任")
    pages = [
        refused.text,
        (await staff.open("/console/r/1")).text,
        (await staff.open("/console?tab=accepted")).text,
        (await county.open("/console?tab=accepted")).text,
        (await county.open("/console/figures")).text,
        (await county.open("/console/digest?week=this")).text,
    ]
    for page in pages:
        assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x" in pages[1] and "&lt;script&gt;" in pages[1]
    for b in (staff, county, phone):
        await b.close()


async def test_behind_https_every_console_cookie_is_secure_httponly_and_lax(
    stage: Stage,
) -> None:
    config = stage.services.config
    behind = dataclasses.replace(
        config, web=dataclasses.replace(config.web, base_url="https://suishou.example.cn/s/")
    )
    app, _ = web.build(
        dataclasses.replace(stage.services, config=behind), telegram_on=True, secret=b"h" * 40
    )
    link = await invite(stage, "李四", "xiguan")
    token = link.url.rsplit("/", 1)[-1]
    browser = StaffBrowser(app)
    shown = await browser.client.get(f"/console/in/{token}")
    pre = shown.headers["set-cookie"].split(";", 1)[0]  # sent by the browser behind the proxy
    browser.client.cookies.clear()
    answer = await browser.client.post(
        f"/console/in/{token}", data={"csrf": csrf_in(shown.text)}, headers={"cookie": pre}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/s/console"
    cookies = shown.headers.get_list("set-cookie") + answer.headers.get_list("set-cookie")
    assert len(cookies) == 2
    for cookie in cookies:
        flags = [f.strip().lower() for f in cookie.split(";")]
        assert {"secure", "httponly", "samesite=lax", "path=/s/console"} <= set(flags), cookie
    await browser.close()


async def test_a_sign_in_link_sent_on_telegram_never_reaches_the_logs(stage: Stage) -> None:
    """At DEBUG the Telegram library logs every call with its parameters: the private
    message carrying a working sign-in link among them."""
    out = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", out)
    try:
        staff = staff_of(stage, "xiguan", "张三")
        await stage.send(staff.start())
        await stage.send(staff.command("/web", chat=stage.chats["xiguan"]))
        await stage.delivered()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    found = re.search(
        r"/console/in/([A-Za-z0-9_-]{30,})", words(stage.tg.bot_messages(staff.id)[-1])
    )
    assert found, "the link was sent"
    logged = out.getvalue()
    assert "sendMessage" in logged  # the library did log the call
    assert found.group(1) not in logged
    assert "/console/in/<token>" in logged


async def test_one_person_makes_one_ledger_at_a_time(
    stage: Stage, web_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year's ledger of a busy county is seconds of work and hundreds of MB: a person
    pressing Download again and again (or a script) must not start one per press."""
    started, release = asyncio.Event(), asyncio.Event()
    real = Ledger.export

    async def slow(self: Ledger, *args: object, **kwargs: object) -> tuple[bytes, int]:
        started.set()
        await release.wait()
        return await real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "export", slow)
    county = await signed_in(stage, web_app, "county", "王主任")
    colleague = await signed_in(stage, web_app, "county", "刘科长")
    path = "/console/ledger?format=csv"
    first = asyncio.create_task(county.client.get(path))
    await started.wait()
    again = await asyncio.wait_for(county.client.get(path), 5)
    assert again.status_code == 429 and "正在生成" in again.text
    started.clear()
    other = asyncio.create_task(colleague.client.get(path))  # someone else is not held up
    await asyncio.wait_for(started.wait(), 5)
    release.set()
    assert (await first).status_code == 200 and (await other).status_code == 200
    assert (await county.client.get(path)).status_code == 200  # and then once more
    for b in (county, colleague):
        await b.close()


async def test_page_links_and_numbers_out_of_range_are_words_not_errors(
    stage: Stage, web_app: Starlette
) -> None:
    await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    for query in (
        "after=999999999999999999",
        "after=2147483648",
        "after=-1",
        "after=%EF%BC%91",
        "order=urgent&after=999999999999999999.999999999999999999",
        "order=urgent&after=1.2147483648",
        "q=99999999999999999999",
        "q=%EF%BC%83%EF%BC%91",
        "cat=%00&tab=%F0%9F%92%A3&order=x",
    ):
        page = await staff.open(f"/console?{query}")
        assert page.status_code == 200, query
    for path in (
        "/console/r/2147483648",
        "/console/r/999999999",
        "/console/r/-1",
        "/console/r/１",
    ):
        assert (await staff.open(path)).status_code == 404, path
    await staff.close()


def seen_state(page: str) -> str:
    found = re.search(r'name="state" value="([^"]+)"', page)
    assert found, "the form carries the state it was drawn in"
    return found.group(1)


async def test_a_page_drawn_before_a_transfer_away_and_back_is_stale(
    stage: Stage, web_app: Starlette
) -> None:
    """The status alone reads the same again after the report went to another desk and
    came back: the page (without its script, or before its next poll) did not see that."""
    await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    old = await staff.open("/console/r/1")
    state = seen_state(old.text)
    colleague = await signed_in(stage, web_app, name="王五")
    await colleague.open("/console/r/1")
    assert (
        await colleague.act(1, "transfer", seen="dispatched", to="dongguan")
    ).status_code == 303
    there = await signed_in(stage, web_app, "dongguan", "赵六")
    await there.open("/console/r/1")
    assert (await there.act(1, "transfer", seen="dispatched", to="xiguan")).status_code == 303
    late = await staff.act(1, "reject", seen="dispatched", state=state, reason="not_hazard")
    assert late.status_code == 409 and "刚刚被别人更新了" in error_of(late.text)
    assert 'id="reject"' in late.text  # the fresh page, to act on knowingly
    fresh = seen_state(late.text)
    assert fresh != state
    done = await staff.act(1, "reject", seen="dispatched", state=fresh, reason="not_hazard")
    assert done.status_code == 303
    for b in (staff, colleague, there):
        await b.close()


async def test_a_revocation_while_a_sign_in_link_is_on_its_way_holds(
    stage: Stage, web_app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/web was asked; the person is revoked (`suishou staff revoke`) just as the worker
    delivers the link: the revocation must hold, and the link sign no one in."""
    people = stage.services.staff
    zhang = staff_of(stage, "xiguan", "张三")
    await stage.send(zhang.start())
    real_get = people.get
    revoked: list[int] = []

    async def read_then_revoked(staff_id: int) -> object:
        person = await real_get(staff_id)
        if not revoked:  # the CLI's three steps land right after the worker's read
            revoked.append(staff_id)
            await people.revoke(staff_id)
            await stage.services.staff_links.void_all(staff_id)
            await stage.services.staff_sessions.end_all(staff_id)
        return person

    monkeypatch.setattr(people, "get", read_then_revoked)
    await stage.send(zhang.command("/web", chat=stage.chats["xiguan"]))
    await stage.delivered()
    monkeypatch.setattr(people, "get", real_get)
    assert revoked
    person = await people.get(revoked[0])
    assert person is not None and person.revoked
    assert await people.desks(revoked[0]) == []
    found = re.search(r"/console/in/[A-Za-z0-9_-]+", words(stage.tg.bot_messages(zhang.id)[-1]))
    if found:  # sent in the race: it must not work
        browser = StaffBrowser(web_app)
        shown = await browser.client.get(found.group(0))
        if shown.status_code == 200:
            used = await browser.client.post(found.group(0), data={"csrf": csrf_in(shown.text)})
            assert used.status_code == 404
        assert (await browser.client.get("/console")).status_code == 401
        await browser.close()


async def test_control_characters_in_typed_words_are_no_server_error(
    stage: Stage, web_app: Starlette
) -> None:
    """NUL, BEL or a bidi override pasted into a reply or a note reach neither the rider
    nor the timeline: nobody means to send them, and an override makes words read
    otherwise (\u202e turns what follows around)."""
    await rider_reports(stage, web_app)
    staff = await signed_in(stage, web_app)
    await staff.open("/console/r/1")
    assert (await staff.act(1, "reply", text="你好\x00世界\x07\u202e\n第二行")).status_code == 303
    assert (await staff.act(1, "accept", seen="dispatched")).status_code == 303
    await staff.open("/console/r/1")
    resolved = await staff.act(1, "resolve", seen="accepted", text="已\x00修复")
    assert resolved.status_code == 303
    await stage.delivered()
    page = (await staff.open("/console/r/1")).text
    assert "你好世界 第二行" in page and "已修复" in page
    assert not any(c in page for c in "\x00\x07\u202e")
    await staff.close()


async def test_a_riders_link_code_never_reaches_the_logs(stage: Stage) -> None:
    """/link's code joins whichever phone types it within ten minutes to the rider: at DEBUG
    the library logs the message carrying it."""
    out = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", out)
    try:
        rider = stage.person("陈师傅")
        await stage.send(rider.command("/link"))
        await stage.delivered()
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    found = re.search(r"([A-Z0-9]{4}-[A-Z0-9]{4})", rider.last_bot_message()["text"])
    assert found, "the code was sent"
    logged = out.getvalue()
    assert "sendMessage" in logged  # the library did log the call
    assert found.group(1) not in logged and found.group(1).replace("-", "") not in logged
