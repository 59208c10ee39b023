"""One report in the console (/console/r/N): photos, a map, the timeline, the rider's label,
the conversation with the rider, and the card's actions (actions.py posts them).

Another desk's report reads as a missing one (404), as /ticket answers in a chat, so ticket
numbers cannot be probed. Photos are served only to someone signed in at a desk that may
see the report, and only the report's own (as sent, or a resolution's after-photo). The
page polls `version` every few seconds: a step taken meanwhile (on Telegram, or by a
colleague) changes it, and the page redraws its live parts without a reload.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from bot import texts
from bot.casework.cards import SUPERVISORS, rider_label
from bot.domain.geo import LatLon, wgs84_to_gcj02
from bot.domain.lifecycle import FINAL, OPEN, REJECT_REASONS, UNCLAIMED, Status
from bot.people.staff import COUNTY, Seat
from bot.texts.formatting import when
from handlers.web.console.pages import lang, render, report_id_of, signed_out
from handlers.web.console.sessions import SignedIn, console_of, signed_in
from handlers.web.words import plain
from storage import report_page, riders
from storage import reports as report_rows
from storage.figures import EVERY
from storage.records import Report
from storage.tables import events

POLL_SECONDS = 4
SHA = re.compile(r"[0-9a-f]{64}")
# A duplicate names its original by ticket number (a field beside the reasons).
REASONS = tuple(REJECT_REASONS)
DONE = (
    "accepted",
    "replied",
    "resolved",
    "transferred",
    "rejected",
    "resolved_unasked",
    "rejected_untold",
    "not_relayed",
)


def state_of(report: Report) -> str:
    """What the status alone does not show: a transfer away and back, a resolution undone
    ("not fixed") and accepted again. A form drawn before either is stale (actions.py)."""
    return f"{report.transfer_count}.{report.resolve_count}"


def may_see(seat: Seat, report: Report) -> bool:
    return seat.desk in (COUNTY, report.community_id)


async def visible_report(request: Request, who: SignedIn) -> Report | None:
    console = console_of(request)
    report_id = report_id_of(request)
    if not report_id:
        return None
    async with console.db.transaction() as conn:
        report = await report_rows.get(conn, report_id)
    return report if report is not None and may_see(who.seat, report) else None


async def moved_from(console: Any, report_id: int, desk: str) -> str | None:
    """Where a report was last transferred to from `desk` (None: it never left that desk,
    or never was there): what the desk's card says of it, and nothing newer."""
    if not report_id:
        return None
    async with console.db.transaction() as conn:
        history = await report_rows.history(conn, report_id)
    here = None if desk == COUNTY else desk
    went = [
        e["data"].get("to")
        for e in history
        if e["kind"] == "transferred" and e["data"].get("from") == here
    ]
    if not went:
        return None
    target = went[-1]
    return str(console.config.desk_name(None if target == SUPERVISORS else target))


async def page(request: Request) -> Response:
    who = await signed_in(request)
    if who is None:
        return await signed_out(request)
    done = request.query_params.get("done")
    notice = f"done_{done}" if done in DONE else None
    return await show(request, who, notice=notice)


async def show(
    request: Request,
    who: SignedIn,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    drafts: dict[str, str] | None = None,
) -> Response:
    """The report's page (or "not found"); `error` is a refusal already in words."""
    report = await visible_report(request, who)
    if report is None:
        return render(
            request,
            "report.html",
            status=404,
            who=who,
            view=None,
            error=error,
            drafts=drafts or {},
        )
    view = await _view(request, report)
    return render(
        request,
        "report.html",
        status=status,
        who=who,
        view=view,
        notice=notice,
        error=error,
        drafts=drafts or {},
        poll=POLL_SECONDS,
        photo_max=console_of(request).config.max_photo_bytes,
    )


async def _view(request: Request, report: Report) -> dict[str, Any]:
    console = console_of(request)
    config = console.config
    lg = lang(request)
    tz = config.timezone
    async with console.db.transaction() as conn:
        found = await report_page.read(conn, report.id, EVERY)  # the desk was checked
        rider = await riders.get(conn, report.rider_id)
        version = await _version(conn, report)
    history = found.timeline if found else []
    joined = found.followers if found else 0
    label = rider_label(rider, lg) if rider is not None else "?"
    steps = [_step(config, e, lg, label) for e in history]
    point = LatLon(report.lat, report.lon)
    shown = wgs84_to_gcj02(point) if config.web.tile_datum == "gcj02" else point
    icon, name = config.category_label(report.category, lg)
    status = Status(report.status)
    after_photos = [e["data"]["photo"] for e in history if e["data"].get("photo")]
    return {
        "id": report.id,
        "label": f"{icon} {name}".strip(),
        "status": report.status,
        "state": state_of(report),
        "status_text": plain(lg, f"status.{report.status}"),
        "handler": report.handler_name,
        "place": config.desk_name(report.community_id),
        "created": when(report.created_at, tz, lg),
        "deadline": when(report.deadline_at, tz, lg),
        "overdue": status in OPEN and report.deadline_at < console.clock.now(),
        "rider": label,
        "note": report.note,
        "photos": list(report.photos),
        "after_photos": after_photos,
        "map": {
            "lat": round(shown.lat, 6),
            "lon": round(shown.lon, 6),
            "tiles": config.web.tile_url,
            "subdomains": config.web.tile_subdomains,
            "attribution": config.web.tile_attribution,
        },
        "steps": steps,
        "thread": [s for s in steps if s["kind"] in ("replied", "rider_replied")],
        "followers": joined,
        "can": {
            "accept": status in UNCLAIMED,
            "resolve": status is Status.ACCEPTED,
            "transfer": status in OPEN,
            "reject": status in OPEN,
            "reply": status not in FINAL,
        },
        "targets": [
            {"id": c.id, "name": c.name} for c in config.communities if c.id != report.community_id
        ]
        + ([{"id": SUPERVISORS, "name": config.supervisors.name}] if report.community_id else []),
        "reasons": [{"code": r, "text": plain(lg, f"reject.{r}")} for r in REASONS],
        "version": version,
    }


def _step(config: Any, event: dict[str, Any], lg: str, rider: str) -> dict[str, Any]:
    data, kind = event["data"], event["kind"]
    text = data.get("note") or data.get("text") or None
    if kind == "transferred":
        target = data.get("to") if data.get("to") != SUPERVISORS else None
        text = plain(lg, "event.to", place=config.desk_name(target))
    elif kind == "rejected":
        text = plain(lg, f"reject.{data.get('reason', 'no_info')}")
        if data.get("duplicate_of"):
            text += f" #{int(data['duplicate_of'])}"
    actor = event["actor_kind"]
    who = rider if actor == "rider" else data.get("name") or plain(lg, f"actor.{actor}")
    return {
        "kind": kind,
        "when": when(event["at"], config.timezone, lg),
        "what": texts.catalog(lg).get(f"event.{kind}", kind),
        "who": who,
        "text": text,
        "photo": data.get("photo") if isinstance(data.get("photo"), str) else None,
    }


async def _version(conn: Any, report: Report) -> str:
    """Changes whenever the page would: a step, a reply, a status."""
    row = (
        await conn.execute(
            select(func.count(), func.max(events.c.id)).where(events.c.report_id == report.id)
        )
    ).one()
    return f"{report.status}.{row[0]}.{row[1] or 0}.{report.community_id or ''}"


async def version(request: Request) -> Response:
    """The report's version, for the page's polling (401 once signed out, 404 elsewhere)."""
    who = await signed_in(request)
    if who is None:
        return JSONResponse({"error": "signed_out"}, status_code=401)
    report = await visible_report(request, who)
    if report is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    async with console_of(request).db.transaction() as conn:
        found = await _version(conn, report)
    return JSONResponse({"version": found}, headers={"cache-control": "no-store"})


async def photo(request: Request) -> Response:
    """A photo of the report (its own, or an after-photo), for staff who may see it."""
    who = await signed_in(request)
    if who is None:
        return Response(status_code=401)
    sha = str(request.path_params["n"])
    report = await visible_report(request, who)
    if report is None or not SHA.fullmatch(sha):
        return Response(status_code=404)
    console = console_of(request)
    allowed = sha in report.photos
    if not allowed:
        async with console.db.transaction() as conn:
            history = await report_rows.history(conn, report.id)
        allowed = any(e["data"].get("photo") == sha for e in history)
    path = console.photos.path_for(sha)
    if not allowed or not path.is_file():
        return Response(status_code=404)
    # Not kept in the browser's cache: a desk's shared computer keeps none after sign-out.
    return FileResponse(
        path, media_type="image/jpeg", headers={"cache-control": "private, no-store"}
    )
