"""What every console page shares: its words, rendering, the signed-out page, small forms."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response

from bot import texts
from bot.people.staff import COUNTY
from handlers.web.console.sessions import SignedIn, console_of
from handlers.web.words import LANG_COOKIE, lang_of, plain

FORM_MAX = 16 * 1024  # a reply or a note of 800 characters, url-encoded, is about 7 KB
LANG_MAX_AGE = 400 * 24 * 3600


def lang(request: Request) -> str:
    return lang_of(request, console_of(request).config.language)


def desk_name(request: Request, desk: str) -> str:
    config = console_of(request).config
    return str(config.supervisors.name if desk == COUNTY else config.desk_name(desk))


def render(
    request: Request,
    template: str,
    *,
    status: int = 200,
    who: SignedIn | None = None,
    **values: Any,
) -> Response:
    console = console_of(request)
    lg = lang(request)
    page = console.templates.get_template(f"console/{template}").render(
        lang=lg,
        c=lambda key, **v: plain(lg, f"console.{key}", **v),
        say=lambda key, **v: plain(lg, key, **v),
        prefix=console.prefix,
        other=next(x for x in texts.LANGUAGES if x != lg),
        who=who,
        desk=desk_name(request, who.seat.desk) if who else None,
        csrf=who.csrf if who else None,
        **values,
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["cache-control"] = "no-store"
    if request.query_params.get("lang") in texts.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lg, max_age=LANG_MAX_AGE, samesite="lax", path="/")
    return response


async def signed_out(request: Request, *, status: int = 401, key: str = "signed_out") -> Response:
    """Nobody is signed in (or not any more): how to get a link."""
    notice = "signed_out_done" if request.query_params.get("out") else None
    return render(request, "signed_out.html", status=status, key=key, notice=notice)


async def read_form(request: Request, *, max_bytes: int = FORM_MAX, files: int = 0) -> Any:
    """A posted form's fields (and up to `files` files), or None when it cannot be read."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > max_bytes:
        return None
    try:
        form: FormData = await request.form(max_files=files, max_fields=12)
    except (HTTPException, MultiPartException, ClientDisconnect, ValueError):
        return None
    return form


def report_id_of(request: Request) -> int:
    raw = request.path_params["report_id"]
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0


def text_field(form: Any, name: str) -> str:
    value = form.get(name) if form is not None else None
    return value if isinstance(value, str) else ""


# Control characters (NUL, BEL...) and the bidi controls that reorder what follows them:
# nothing a person means to send a rider, and a way to make words read otherwise. Line
# breaks and tabs become spaces (the words are put on one line anyway).
CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F)]
UNSEEN: dict[int, str | None] = {
    c: (" " if chr(c).isspace() else None) for c in [*CONTROLS, *range(0x2066, 0x206A)]
}


def typed(form: Any, name: str, limit: int) -> str:
    """Words typed in a field, on one line, without control characters, at most `limit`."""
    return " ".join(text_field(form, name).translate(UNSEEN).split())[:limit]
