"""Opening a one-time link: GET shows a "Sign in" button, only its POST uses the link.

Chat apps fetch links to draw previews; a GET that signed in would spend the link on the
preview bot. The button's form carries a CSRF token tied to a random cookie this page sets,
so another site cannot sign a browser in to someone else's session. Attempts are limited
per client address and per link (limits.py). A used, expired or unknown link gets one and
the same answer.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.people.signin import Kind
from handlers.web.console import sessions
from handlers.web.console.pages import desk_name, read_form, render, signed_out, text_field
from handlers.web.console.sessions import COOKIE, console_of, cookie_path, signed_in

log = logging.getLogger(__name__)


def _token(request: Request) -> str:
    return str(request.path_params["token"])


async def show(request: Request) -> Response:
    console = console_of(request)
    token = _token(request)
    link = await console.links.peek(token)
    if link is None:
        return render(request, "signin.html", status=404, error="link_bad")
    pre, new = sessions.pre_session(request)
    response = render(
        request,
        "signin.html",
        action=f"{console.prefix}console/in/{token}",
        form_csrf=console.signer.mac("pre-csrf", pre),
        place=desk_name(request, link.desk),
        invite=link.kind == Kind.INVITE,
    )
    if new:
        sessions.remember_pre(request, response, pre)
    return response


async def use(request: Request) -> Response:
    console = console_of(request)
    token = _token(request)
    address = request.client.host if request.client else "?"
    if not console.limits.attempt(address, token):
        log.warning("console sign-in attempts limited", extra={"reason": "limit"})
        return render(
            request, "signin.html", status=429, error="too_many", minutes=console.limits.minutes
        )
    form = await read_form(request)
    pre = console.signer.open("pre", request.cookies.get(sessions.PRE_COOKIE))
    if (
        form is None
        or pre is None
        or not console.signer.csrf_ok("pre-csrf", pre, text_field(form, "csrf"))
    ):
        return render(request, "signin.html", status=403, error="bad_token")
    used = await console.links.use(token)
    if used is None:
        log.info("console sign-in refused", extra={"reason": "link"})
        return render(request, "signin.html", status=404, error="link_bad")
    log.info(
        "console signed in",
        extra={"staff": used.staff_id, "desk": used.desk, "link": used.kind.value},
    )
    earlier = sessions.session_id_of(request)
    if earlier is not None:  # this browser's previous session ends, not only its cookie
        await console.sessions.end(earlier)
    session_id = await console.sessions.start(used)
    response = RedirectResponse(f"{console.prefix}console", status_code=303)
    ttl = console.sessions.ttl(used)
    sessions.start(request, response, session_id, int(ttl.total_seconds()))
    return response


async def sign_out(request: Request) -> Response:
    """Ends the session (with a valid CSRF token: another site cannot sign staff out)."""
    console = console_of(request)
    who = await signed_in(request)
    if who is not None:
        form = await read_form(request)
        if form is None or not sessions.csrf_ok(request, who, text_field(form, "csrf")):
            return await signed_out(request, status=403, key="bad_token")
        await console.sessions.end(who.session_id)
    response = RedirectResponse(f"{console.prefix}console?out=1", status_code=303)
    response.delete_cookie(COOKIE, path=cookie_path(request))
    return response
