"""The small forms of the rider's pages (a reply, 已解决？, 报到, a link code): read safely.

Each is a few short fields, url-encoded: a body over FORM_MAX is refused before it is read.
Every one must come from this device's page: its signed cookie and the CSRF token the page
carries (handlers/web/device.py). Each counts as one of the rider's messages, under the same
per-minute limit as a Telegram rider's (bot/intake/limits.py, by device as Telegram counts by
account). A refusal names the catalogue key that says why, and keeps what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request

from handlers.web import device
from storage import accounts

FORM_MAX = 16 * 1024  # a reply of 800 characters, url-encoded, is about 7 KB


@dataclass(frozen=True)
class Posted:
    device: str
    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


@dataclass
class FormRefused(Exception):
    key: str
    status: int
    values: dict[str, object] = field(default_factory=dict)  # for the key's text
    fields: dict[str, str] = field(default_factory=dict)  # what was typed, to show again

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


async def posted(request: Request) -> Posted:
    """The device and the form's text fields; FormRefused when either cannot be trusted."""
    web = request.app.state.web
    device_id = device.device(request, web.signer)
    if device_id is None:  # no cookie of ours: not a page we served
        raise FormRefused("form.bad_token", 403)
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise FormRefused("form.bad_form", 400)
    if int(length) > FORM_MAX:
        raise FormRefused("form.too_big", 413)
    try:
        form: FormData = await request.form(max_files=0, max_fields=10)
    except (HTTPException, MultiPartException, ClientDisconnect, ValueError):
        raise FormRefused("form.bad_form", 400) from None
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    await form.close()
    if not web.signer.csrf_ok(device_id, fields.get("csrf")):
        raise FormRefused("form.bad_token", 403)
    free = web.intake.limits.pace((accounts.WEB, device_id), web.config.timezone)
    if free is not None:
        fields.pop("csrf", None)
        raise FormRefused("form.too_fast", 429, {"time": free}, fields)
    return Posted(device_id, fields)
