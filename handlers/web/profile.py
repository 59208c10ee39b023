"""The rider's own page (/me): this month's points, optional 报到, linking Telegram.

Points are /me's figures (bot/intake/my_reports.py); 报到 follows bot/intake/registration.py's
rules (name, platform, phone optional and never logged); a link code from Telegram's /link joins
this device to that rider (bot/people/linking.py). A device that has not reported yet becomes a
rider when it registers or links, as with its first report.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.casework.cards import PLATFORM_KEYS
from bot.delivery.outbox import TELEGRAM
from bot.people.riders import RiderCtx
from handlers.web.forms import FormRefused, posted
from handlers.web.pages import current_device, render, rider_of, unread
from handlers.web.words import lang_of, plain
from storage import accounts

DONE = {"registered": "page.registered", "linked": "link.done"}
STATUS = {"link.too_many": 429, "link.other_telegram": 409}


async def me(request: Request) -> Response:
    lang = lang_of(request, request.app.state.web.config.language)
    done = DONE.get(request.query_params.get("done", ""))
    return await show(request, lang, notice=done)


async def show(
    request: Request,
    lang: str,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    web = request.app.state.web
    rider = await rider_of(request)
    standing = await web.my_reports.standing(rider.id, web.clock.now()) if rider else None
    rules = web.config.points
    if standing is not None:
        points = plain(lang, "page.points", **standing)
    else:
        points = plain(lang, "page.points_none", accepted=rules.accepted, bonus=rules.fixed_bonus)
    known: dict[str, Any] = {}
    if rider is not None and rider.registered:
        known = {"name": rider.display_name, "platform": rider.platform or "other"}
    return render(
        request,
        "me.html",
        lang,
        status=status,
        csrf=web.signer.csrf_token(current_device(request)),
        points=points,
        registered=(
            plain(
                lang,
                "page.registered_as",
                name=known["name"],
                platform=plain(lang, f"platform.{known['platform']}"),
            )
            if known
            else None
        ),
        linked=rider is not None and rider.account(TELEGRAM) is not None,
        platforms=[(p, plain(lang, f"platform.{p}")) for p in PLATFORM_KEYS],
        typed=typed or {"name": known.get("name", ""), "platform": known.get("platform", "")},
        notice=plain(lang, notice, name=known.get("name", "")) if notice else None,
        error=error,
        unread=await unread(request, rider),
    )


async def register(request: Request) -> Response:
    """报到 from the page: name, platform, phone (optional)."""
    web = request.app.state.web
    lang = lang_of(request, web.config.language)
    try:
        form = await posted(request)
    except FormRefused as refused:
        error = plain(lang, refused.key, **refused.values)
        typed = (
            {"name": refused.get("name"), "platform": refused.get("platform")}
            if refused.fields
            else None
        )
        return await show(request, lang, status=refused.status, error=error, typed=typed)
    rider = await web.linking.ensure_rider(accounts.WEB, form.device, lang)
    answer = await web.registration.register(
        RiderCtx(rider, lang), form.get("name"), form.get("platform"), form.get("phone")
    )
    if not answer.ok:
        # The phone is not shown back: the rider types it again rather than see it echoed.
        typed = {"name": form.get("name"), "platform": form.get("platform")}
        error = plain(lang, answer.key, **answer.values)
        return await show(request, lang, status=400, error=error, typed=typed)
    return _back(request, "registered")


async def link(request: Request) -> Response:
    """A code from Telegram's /link: this device becomes an account of that rider."""
    web = request.app.state.web
    lang = lang_of(request, web.config.language)
    try:
        form = await posted(request)
    except FormRefused as refused:
        error = plain(lang, refused.key, **refused.values)
        return await show(request, lang, status=refused.status, error=error)
    answer = await web.linking.redeem(accounts.WEB, form.device, form.get("code"))
    if not answer.ok:
        status = STATUS.get(answer.key, 400)
        return await show(request, lang, status=status, error=plain(lang, answer.key))
    return _back(request, "linked")


def _back(request: Request, done: str) -> Response:
    return RedirectResponse(f"{request.app.state.web.prefix}me?done={done}", status_code=303)
