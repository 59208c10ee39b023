"""POST /reports: the filled-in form becomes a report (bot/intake/form.py), or a refusal the
page shows as it is, with nothing the rider entered lost (the page keeps the form).

Answers are JSON: 201 with the ticket (200 when the same submission key had already filed
it); 200 with `similar` when an open report of the same category is close by (the page asks
"same problem?" and posts the same form again with `join` = its ticket for +1, or with
`separate` = 1 to file it anyway); 201 with `joined` after a +1 (200 when replayed); else an
error status with `error` (the catalogue key) and `message` (its words).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from bot.domain.geo import LatLon
from bot.domain.numbers import MAX_ID, parse_positive_int
from bot.intake.form import FormPhoto, Joined, Offered, Refused, ReportForm
from bot.texts.formatting import when
from handlers.web import device
from handlers.web.words import lang_of, plain
from storage import accounts

FORM_OVERHEAD = 1024 * 1024  # the form's fields and multipart framing, beside the photos

STATUS = {
    "form.bad_token": 403,
    "form.too_big": 413,
    "form.too_many": 429,
    "form.bad_form": 400,
    "form.bad_key": 400,
    "form.too_fast": 429,
    "form.join_stale": 409,
}


def _refuse(lang: str, key: str, **values: object) -> JSONResponse:
    return JSONResponse(
        {"error": key, "message": plain(lang, key, **values)}, status_code=STATUS.get(key, 422)
    )


async def file_report(request: Request) -> JSONResponse:
    web = request.app.state.web
    config = web.config
    lang = lang_of(request, config.language)
    device_id = device.device(request, web.signer)
    if device_id is None:  # no cookie of ours: not the page we served
        return _refuse(lang, "form.bad_token")
    limit = config.max_photos * config.max_photo_bytes + FORM_OVERHEAD
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return _refuse(lang, "form.bad_form")
    if int(length) > limit:
        return _refuse(lang, "form.too_big")
    try:
        form = await request.form(max_files=config.max_photos + 5, max_fields=30)
    except (HTTPException, MultiPartException, ClientDisconnect, ValueError):
        # Starlette reports an unreadable multipart body as HTTPException(400).
        return _refuse(lang, "form.bad_form")
    try:
        lang = _text(form, "lang") if _text(form, "lang") in ("zh", "en") else lang
        if not web.signer.csrf_ok(device_id, _text(form, "csrf")):
            return _refuse(lang, "form.bad_token")
        report_form = ReportForm(
            key=_text(form, "key"),
            category=_text(form, "category"),
            photos=tuple(
                [
                    FormPhoto(await f.read(), f.content_type)
                    for f in form.getlist("photo")
                    if isinstance(f, UploadFile)
                ]
            ),
            point=_point(form),
            location_source=_text(form, "source") or "gps",
            note=_text(form, "note"),
            language=lang,
            join=_join(form),
            separate=_text(form, "separate") == "1",
        )
    except _BadPoint:
        return _refuse(lang, "form.bad_location")
    except _BadJoin:
        return _refuse(lang, "form.join_stale")
    finally:
        await form.close()
    try:
        filed = await web.intake.submit(accounts.WEB, device_id, report_form)
    except Refused as refused:
        return _refuse(lang, refused.key, **refused.values)
    if isinstance(filed, Offered):
        return JSONResponse({"similar": _similar(web, filed, lang)})
    if isinstance(filed, Joined):
        return JSONResponse(
            {
                "joined": filed.report.id,
                "message": plain(lang, "web.joined", ticket=filed.report.id),
                "replayed": filed.replayed,
            },
            status_code=200 if filed.replayed else 201,
        )
    report = filed.report
    community = config.community(report.community_id)
    kind = "kept" if not web.telegram_on else ("community" if community else "supervisors")
    return JSONResponse(
        {
            "ticket": report.id,
            "community": config.desk_name(report.community_id),
            "kind": kind,
            "deadline": when(report.deadline_at, config.timezone, lang),
            "replayed": filed.replayed,
        },
        status_code=200 if filed.replayed else 201,
    )


def _similar(web: Any, offered: Offered, lang: str) -> dict[str, Any]:
    """What the page shows of the open report nearby: no photo, no note, no place name."""
    config = web.config
    report = offered.similar.report
    icon, name = config.category_label(report.category, lang)
    return {
        "ticket": report.id,
        "category": f"{icon} {name}".strip(),
        "distance": max(1, round(offered.similar.distance_m)),
        "status": plain(lang, f"status.{report.status}"),
        "when": when(report.created_at, config.timezone, lang),
    }


def _join(form: Any) -> int | None:
    raw = _text(form, "join")
    if not raw:
        return None
    ticket = parse_positive_int(raw, MAX_ID)
    if ticket is None:
        raise _BadJoin
    return ticket


class _BadJoin(ValueError):
    pass


class _BadPoint(ValueError):
    pass


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _point(form: Any) -> LatLon | None:
    """The WGS-84 point the page sends; none at all is allowed (a photo may carry one)."""
    lat, lon = _text(form, "lat").strip(), _text(form, "lon").strip()
    if not lat and not lon:
        return None
    try:
        return LatLon(float(lat), float(lon))
    except ValueError:
        raise _BadPoint from None
