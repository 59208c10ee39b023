"""The small forms of the rider's pages (a reply, 已解决？, 报到, a link code): read safely.

Each is a few short fields, url-encoded: a body over FORM_MAX is refused before it is read.
Every one must come from this device's page: its signed cookie and the CSRF token the page
carries (handlers/web/device.py). A refusal names the catalogue key that says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request

from handlers.web import device

FORM_MAX = 16 * 1024  # a reply of 800 characters, url-encoded, is about 7 KB


@dataclass(frozen=True)
class Posted:
    device: str
    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


class FormRefused(Exception):
    def __init__(self, key: str, status: int) -> None:
        super().__init__(key)
        self.key = key
        self.status = status


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
    return Posted(device_id, fields)
