"""The rider's pages: the report form (their reports: handlers/web/news.py, one report:
handlers/web/mine.py), and what every page shares: rendering, the device, the unread badge.

A device gets its signed cookie on its first visit; it becomes a rider with its first report.
Another device's report is "not found" (404), never "forbidden": ticket numbers are counted
and must not reveal whose they are.
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from bot import texts
from bot.config import Config
from handlers.web import device
from handlers.web.words import LANG_COOKIE, lang_of, page_texts, plain
from storage import accounts, riders

MAX_SIDE = 2048  # photos are downscaled in the browser to this many pixels on the long side
LANG_MAX_AGE = 400 * 24 * 3600


def _web(request: Request) -> Any:
    return request.app.state.web


def render(
    request: Request, template: str, lang: str, status: int = 200, **values: Any
) -> Response:
    web = _web(request)
    page = web.templates.get_template(template).render(
        lang=lang,
        t=lambda key, **v: plain(lang, f"web.{key}", **v),
        p=lambda key, **v: plain(lang, f"page.{key}", **v),
        say=lambda key, **v: plain(lang, key, **v),
        prefix=web.prefix,
        other=next(x for x in texts.LANGUAGES if x != lang),
        **values,
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["cache-control"] = "no-store"
    known = device.device(request, web.signer)
    device.remember(
        response, web.signer, known or new_device_for(request), secure=web.config.web.secure
    )
    if request.query_params.get("lang") in texts.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=LANG_MAX_AGE, samesite="lax", path="/")
    return response


def new_device_for(request: Request) -> str:
    """The id this request's answer gives the device (one per request: a page render may
    need it before the cookie is set, for the CSRF token)."""
    if "device" not in request.scope.setdefault("state", {}):
        request.scope["state"]["device"] = device.new_device()
    return str(request.scope["state"]["device"])


def current_device(request: Request) -> str:
    return device.device(request, _web(request).signer) or new_device_for(request)


async def rider_page(request: Request) -> Response:
    """The report form. Everything the script needs comes inside the page (one request)."""
    web = _web(request)
    config: Config = web.config
    lang = lang_of(request, config.language)
    settings = config.web
    page_config = {
        "lang": lang,
        "texts": {code: page_texts(code) for code in texts.LANGUAGES},
        "categories": [
            {"code": c.code, "icon": c.icon, "zh": c.name_zh, "en": c.name_en}
            for c in config.categories
        ],
        "maxPhotos": config.max_photos,
        "maxSide": MAX_SIDE,
        "csrf": web.signer.csrf_token(current_device(request)),
        "submitUrl": f"{web.prefix}reports",
        "myUrl": f"{web.prefix}my",
        "centre": map_centre(config),
        "tiles": {
            "url": settings.tile_url,
            "subdomains": settings.tile_subdomains,
            "datum": settings.tile_datum,
            "attribution": settings.tile_attribution,
        },
        "telegramOn": web.telegram_on,
    }
    # In a <script type="application/json">: only "</" could end it early.
    blob = json.dumps(page_config, ensure_ascii=False).replace("</", "<\\/")
    return render(
        request,
        "rider.html",
        lang,
        unread=await unread(request),
        config_json=Markup(blob),
        categories=config.categories,
        max_photos=config.max_photos,
    )


def map_centre(config: Config) -> list[float]:
    """Where the map opens before a location is known: the middle of the communities."""
    points = []
    for community in config.communities:
        if community.boundary is not None:
            c = community.boundary.centroid
            points.append((c.y, c.x))
        elif community.centre is not None:
            points.append((community.centre.lat, community.centre.lon))
    if not points:
        return [35.0, 105.0]
    return [
        round(sum(p[0] for p in points) / len(points), 6),
        round(sum(p[1] for p in points) / len(points), 6),
    ]


async def rider_of(request: Request) -> Any:
    web = _web(request)
    known = device.device(request, web.signer)
    if known is None:
        return None
    async with web.intake.db.transaction() as conn:
        return await riders.by_account(conn, accounts.WEB, known)


async def unread(request: Request, rider: Any = None) -> int:
    """How many updates this device's rider has not seen (the header's badge)."""
    rider = rider or await rider_of(request)
    return await _web(request).inbox.count(rider.id) if rider is not None else 0
