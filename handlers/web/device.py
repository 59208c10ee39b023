"""A web rider is an anonymous device: a random id in a long-lived signed cookie.

The cookie is HttpOnly (page scripts cannot read it), SameSite=Lax (other sites cannot post
with it) and, behind HTTPS, Secure. Its value is the id and an HMAC of it under the server's
secret, so nobody can make up a device id, nor take another's without its cookie. Forms carry
a CSRF token derived from the device id under the same secret (HMAC, another purpose): a page
of another site can neither read it nor guess it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "suishou_device"
MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (Chrome caps at 400 days)
_ID_BYTES = 24


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Signer:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, purpose: str, value: str) -> str:
        message = f"{purpose}\0{value}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def cookie_value(self, device: str) -> str:
        return f"{device}.{self._mac('device', device)}"

    def device_of(self, cookie: str | None) -> str | None:
        """The device id in a cookie, if the cookie is one this server signed."""
        if not cookie or cookie.count(".") != 1:
            return None
        device, mac = cookie.split(".")
        if not device or not hmac.compare_digest(mac, self._mac("device", device)):
            return None
        return device

    def csrf_token(self, device: str) -> str:
        return self._mac("csrf", device)

    def csrf_ok(self, device: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token or "", self.csrf_token(device))


def new_device() -> str:
    return _b64(secrets.token_bytes(_ID_BYTES))


def device(request: Request, signer: Signer) -> str | None:
    return signer.device_of(request.cookies.get(COOKIE))


def remember(response: Response, signer: Signer, device_id: str, *, secure: bool) -> None:
    """(Re)set the cookie, so a device seen again keeps it for another 400 days."""
    response.set_cookie(
        COOKIE,
        signer.cookie_value(device_id),
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
