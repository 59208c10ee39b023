"""Signing in to the staff console: one-time links, sessions, CSRF, limits, signing out.

A link works once and expires; opening it (GET) never uses it, so a chat app's link
preview cannot spend it; only the button's POST does, with the page's token. A session
ends when the person signs out or is revoked, at once."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from handlers import web
from tests.conftest import Stage
from tests.console import StaffBrowser, csrf_in, error_of, invite, notice_of, path_of

LINK_BAD = "这个链接无效、已用过或已过期"
SIGNED_OUT = "你还没有登录，或登录已失效"


@pytest.fixture
async def web_app(stage: Stage) -> AsyncIterator[Starlette]:
    app, _ = web.build(stage.services, telegram_on=True, secret=b"k" * 40)
    yield app


@pytest.fixture
async def browser(web_app: Starlette) -> AsyncIterator[StaffBrowser]:
    b = StaffBrowser(web_app)
    yield b
    await b.close()


async def test_an_invite_signs_in_once_and_opening_it_spends_nothing(
    stage: Stage, browser: StaffBrowser
) -> None:
    link = await invite(stage, "李四", "xiguan")
    assert link.url.startswith("http://127.0.0.1:8080/console/in/")
    path = path_of(link.url)
    for _ in range(3):  # a link preview bot, then the person, then again
        shown = await browser.client.get(path)
        assert shown.status_code == 200
        assert "登录" in shown.text and "西关社区" in shown.text
    signed = await browser.client.post(path, data={"csrf": csrf_in(shown.text)})
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if "suishou_staff=" in c)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    queue = await browser.open("/console")
    assert queue.status_code == 200 and "李四 · 西关社区" in queue.text
    # The same link again, from this browser or any other: used.
    again = await browser.client.post(path, data={"csrf": csrf_in(shown.text)})
    assert again.status_code == 404 and LINK_BAD in error_of(again.text)
    assert LINK_BAD in error_of((await browser.client.get(path)).text)


async def test_links_expire(stage: Stage, browser: StaffBrowser) -> None:
    link = await invite(stage)
    stage.clock.advance(days=7, minutes=1)
    shown = await browser.client.get(path_of(link.url))
    assert shown.status_code == 404 and LINK_BAD in error_of(shown.text)
    person = link.person
    signin = await stage.services.staff_links.signin(person, "xiguan")
    stage.clock.advance(minutes=14)
    page = await browser.client.get(path_of(signin.url))
    assert page.status_code == 200
    stage.clock.advance(minutes=2)  # 16 minutes: the button's POST comes too late
    late = await browser.client.post(path_of(signin.url), data={"csrf": csrf_in(page.text)})
    assert late.status_code == 404 and LINK_BAD in error_of(late.text)
    assert (await browser.open("/console")).status_code == 401


async def test_a_forged_token_on_the_sign_in_form_is_refused_and_spends_nothing(
    stage: Stage, web_app: Starlette, browser: StaffBrowser
) -> None:
    link = await invite(stage)
    path = path_of(link.url)
    shown = await browser.client.get(path)
    forged = await browser.client.post(path, data={"csrf": "x" * 43})
    assert forged.status_code == 403 and "页面已过期" in error_of(forged.text)
    # Another site's page posting for a browser that never loaded the form: no cookie.
    stranger = StaffBrowser(web_app)
    blind = await stranger.client.post(path, data={"csrf": csrf_in(shown.text)})
    assert blind.status_code == 403
    await stranger.close()
    queue = await browser.sign_in(link)  # the link still works for its person
    assert queue.status_code == 200


async def test_unknown_and_malformed_links_read_alike(browser: StaffBrowser) -> None:
    for token in ("abc", "A" * 43, "%2E%2E", "x" * 200):
        shown = await browser.client.get(f"/console/in/{token}")
        assert shown.status_code == 404 and LINK_BAD in error_of(shown.text)


async def test_sign_in_attempts_are_limited_per_link(stage: Stage, browser: StaffBrowser) -> None:
    link = await invite(stage)
    path = path_of(link.url)
    shown = await browser.client.get(path)
    statuses = [
        (await browser.client.post(path, data={"csrf": "wrong"})).status_code for _ in range(6)
    ]
    assert statuses == [403] * 5 + [429]
    limited = await browser.client.post(path, data={"csrf": csrf_in(shown.text)})
    assert limited.status_code == 429 and "尝试次数太多" in error_of(limited.text)
    stage.clock.advance(minutes=11)
    assert (await browser.sign_in(link)).status_code == 200


async def test_attempts_are_limited_per_address_across_links(
    stage: Stage, browser: StaffBrowser
) -> None:
    codes = []
    for _ in range(21):  # a different link each time: the address is what counts
        token = secrets.token_urlsafe(32)
        codes.append((await browser.client.post(f"/console/in/{token}")).status_code)
    assert codes[-1] == 429 and 429 not in codes[:20]


async def test_signed_out_every_route_says_how_to_sign_in(
    stage: Stage, browser: StaffBrowser
) -> None:
    for path in ("/console", "/console/r/1"):
        page = await browser.client.get(path)
        assert page.status_code == 401 and SIGNED_OUT in error_of(page.text)
        assert "/web" in error_of(page.text)
    assert (await browser.client.get("/console/r/1/version")).status_code == 401
    assert (await browser.client.get("/console/r/1/photo/" + "a" * 64)).status_code == 401
    acted = await browser.client.post("/console/r/1/accept", data={"csrf": "x", "seen": "x"})
    assert acted.status_code == 401
    # A cookie made up, or signed by another server, is nobody.
    browser.client.cookies.set("suishou_staff", "made-up.value", path="/console")
    assert (await browser.client.get("/console")).status_code == 401


async def test_signing_out_ends_the_session_and_needs_the_page_token(
    stage: Stage, browser: StaffBrowser
) -> None:
    await browser.sign_in(await invite(stage))
    kept = dict(browser.client.cookies)
    forged = await browser.client.post("/console/out", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert (await browser.open("/console")).status_code == 200  # still signed in
    out = await browser.client.post("/console/out", data={"csrf": browser.csrf})
    assert out.status_code == 303
    after = await browser.client.get(out.headers["location"])
    assert after.status_code == 401 and "已退出登录" in notice_of(after.text)
    for name, value in kept.items():  # the old cookie, kept by someone: ended server-side
        browser.client.cookies.set(name, value, path="/console")
    assert (await browser.client.get("/console")).status_code == 401


async def test_signing_in_again_ends_the_browsers_previous_session(
    stage: Stage, browser: StaffBrowser
) -> None:
    """A shared desk computer: 李四 signs in, then 王五 on the same browser. 李四's session
    ends on the server, not only its cookie (a copy of it no longer works)."""
    await browser.sign_in(await invite(stage, "李四", "xiguan"))
    kept = dict(browser.client.cookies)
    await browser.sign_in(await invite(stage, "王五", "xiguan"))
    assert "王五 · 西关社区" in (await browser.open("/console")).text
    other = StaffBrowser(browser.app)
    for name, value in kept.items():
        other.client.cookies.set(name, value, path="/console")
    assert (await other.client.get("/console")).status_code == 401
    await other.close()


async def test_revoking_a_person_ends_their_session_at_once(
    stage: Stage, browser: StaffBrowser
) -> None:
    link = await invite(stage)
    await browser.sign_in(link)
    assert (await browser.open("/console")).status_code == 200
    await stage.services.staff_links.staff.revoke(link.person.id)
    page = await browser.client.get("/console")
    assert page.status_code == 401 and SIGNED_OUT in error_of(page.text)


async def test_a_session_expires(stage: Stage, browser: StaffBrowser) -> None:
    await browser.sign_in(await invite(stage))
    stage.clock.advance(days=30, minutes=1)
    assert (await browser.client.get("/console")).status_code == 401


async def test_a_session_from_a_chat_link_lasts_a_working_day(
    stage: Stage, browser: StaffBrowser
) -> None:
    person = (await invite(stage)).person
    await browser.sign_in(await stage.services.staff_links.signin(person, "xiguan"))
    stage.clock.advance(hours=11, minutes=50)
    assert (await browser.client.get("/console")).status_code == 200
    stage.clock.advance(minutes=11)
    assert (await browser.client.get("/console")).status_code == 401


async def test_sign_ins_are_logged_without_the_token(
    stage: Stage, browser: StaffBrowser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    link = await invite(stage)
    await browser.sign_in(link)
    token = link.url.rsplit("/", 1)[-1]
    signed = [r for r in caplog.records if r.getMessage() == "console signed in"]
    assert len(signed) == 1 and signed[0].desk == "xiguan"  # type: ignore[attr-defined]
    server = [r for r in caplog.records if r.name != "httpx"]  # httpx: the test's own browser
    assert server and all(token not in str(r.__dict__) for r in server)
