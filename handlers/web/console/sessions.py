"""Who is signed in: a signed, HttpOnly, SameSite=Lax cookie holding a server-side session id.

The cookie's value is the session id and its HMAC under the server's secret, so nothing
made up reaches the database; the session itself lives in the database
(bot/people/sessions.py), expires, and ends at once when the person is revoked. Every
form carries a CSRF token, an HMAC of the session id for another purpose: a page of
another site can neither read nor compute it. The sign-in form, shown before any session
exists, is tied the same way to a short-lived random cookie of its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from starlette.requests import Request
from starlette.responses import Response

from bot.people.staff import Seat

if TYPE_CHECKING:
    from handlers.web.console import Console

COOKIE = "suishou_staff"
PRE_COOKIE = "suishou_staff_pre"  # ties the sign-in form to the browser that loaded it
PRE_MAX_AGE = 30 * 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class CookieSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def mac(self, purpose: str, value: str) -> str:
        message = f"console-{purpose}\0{value}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def seal(self, purpose: str, value: str) -> str:
        return f"{value}.{self.mac(purpose, value)}"

    def open(self, purpose: str, sealed: str | None) -> str | None:
        if not sealed or sealed.count(".") != 1:
            return None
        value, mac = sealed.split(".")
        if not value or not hmac.compare_digest(mac, self.mac(purpose, value)):
            return None
        return value

    def csrf_ok(self, purpose: str, value: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token or "", self.mac(purpose, value))


@dataclass(frozen=True)
class SignedIn:
    seat: Seat
    session_id: str
    csrf: str


def console_of(request: Request) -> Console:
    return cast("Console", request.app.state.console)


def cookie_path(request: Request) -> str:
    return str(console_of(request).prefix) + "console"


def session_id_of(request: Request) -> str | None:
    """The session this browser's cookie names (genuine, whether or not still live)."""
    return console_of(request).signer.open("session", request.cookies.get(COOKIE))


async def signed_in(request: Request) -> SignedIn | None:
    """The person signed in with this browser, at their desk; None when nobody (or their
    session ended, or they were revoked)."""
    console = console_of(request)
    session_id = session_id_of(request)
    if session_id is None:
        return None
    seat = await console.sessions.seat(session_id)
    if seat is None:
        return None
    return SignedIn(seat, session_id, console.signer.mac("csrf", session_id))


def csrf_ok(request: Request, who: SignedIn, token: str | None) -> bool:
    return bool(console_of(request).signer.csrf_ok("csrf", who.session_id, token))


def start(request: Request, response: Response, session_id: str, max_age: int) -> None:
    console = console_of(request)
    response.set_cookie(
        COOKIE,
        console.signer.seal("session", session_id),
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=console.secure,
        path=cookie_path(request),
    )


def pre_session(request: Request) -> tuple[str, bool]:
    """The sign-in form's random value (and whether it is new, to be set as a cookie)."""
    console = console_of(request)
    known = console.signer.open("pre", request.cookies.get(PRE_COOKIE))
    return (known, False) if known else (secrets.token_urlsafe(18), True)


def remember_pre(request: Request, response: Response, value: str) -> None:
    console = console_of(request)
    response.set_cookie(
        PRE_COOKIE,
        console.signer.seal("pre", value),
        max_age=PRE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=console.secure,
        path=cookie_path(request),
    )
