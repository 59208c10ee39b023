"""The card's actions from the console: accept, reply, resolve (note and an optional
after-photo), transfer, reject with a reason.

Each is a plain form carrying the CSRF token, the status the page showed (`seen`) and what
the status does not show (`state`: transfers and resolutions so far, report.state_of); the
casework command (the contract's, the same the Telegram card calls) refuses a step that
is not allowed, or one taken on a page that no longer shows the report as it stands
("refused.changed_page"). A success redirects back to the page (Post/Redirect/Get: a reload
never acts twice); a refusal shows the page again with the reason and the words kept.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot import texts
from bot.domain.lifecycle import Refused
from bot.domain.numbers import parse_ticket_id
from bot.intake.photo_input import PhotoInput
from handlers.web.console.pages import (
    FORM_MAX,
    lang,
    read_form,
    report_id_of,
    signed_out,
    text_field,
    typed,
)
from handlers.web.console.report import REASONS, moved_from, show, state_of, visible_report
from handlers.web.console.sessions import SignedIn, console_of, csrf_ok, signed_in
from handlers.web.words import plain
from storage.records import Report

NOTE_MAX = 800
STATUS = {  # a refusal's HTTP status; anything else is 409 (the report's state says no)
    "refused.role": 403,
    "refused.wrong_chat": 403,
    "refused.not_member": 403,
    "refused.revoked": 403,
    "refused.no_ticket_desk": 404,
    "staff.bad_duplicate": 400,
}
DONE = {  # ?done= after the redirect: what the page says happened
    "accept": "accepted",
    "reply": "replied",
    "resolve": "resolved",
    "transfer": "transferred",
    "reject": "rejected",
}
ACTIONS = tuple(DONE)
WORDS = {  # a card's word that means something else here
    "refused.stale": "console.bad_form",
    "staff.bad_duplicate": "console.bad_duplicate",
}
DONE_BY_KEY = {  # what the command said: the rider could not be told, say so
    "staff.resolved_unasked": "resolved_unasked",
    "staff.rejected_untold": "rejected_untold",
    "staff.not_relayed": "not_relayed",
}


async def act(request: Request) -> Response:
    who = await signed_in(request)
    if who is None:
        return await signed_out(request)
    action = str(request.path_params["action"])
    if action not in ACTIONS:
        return Response(status_code=404)
    console = console_of(request)
    report = await visible_report(request, who)
    if report is None:
        return await _gone(request, who)
    max_bytes = console.config.max_photo_bytes + FORM_MAX if action == "resolve" else FORM_MAX
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        return await _say(request, who, 413, "console.too_big")
    form = await read_form(request, max_bytes=max_bytes, files=int(action == "resolve"))
    if form is None:
        return await _say(request, who, 400, "console.bad_form")
    try:
        if not csrf_ok(request, who, text_field(form, "csrf")):
            return await _say(request, who, 403, "console.bad_token")
        if not console.steps.attempt(who.seat.person.id):
            draft = typed(form, "text", NOTE_MAX)
            per = console.steps.per_person
            return await _say(request, who, 429, "console.too_fast", draft=draft, count=per)
        return await _run(request, who, action, form, report)
    finally:
        await form.close()


async def _run(
    request: Request, who: SignedIn, action: str, form: Any, report: Report
) -> Response:
    casework = console_of(request).casework
    report_id = report_id_of(request)
    seen = text_field(form, "seen") or None
    text = typed(form, "text", NOTE_MAX)
    try:
        state = text_field(form, "state")
        if seen is not None and state and state != state_of(report):
            raise Refused("refused.changed_page", ticket=report_id)
        if action == "accept":
            done = await casework.accept(who.seat, report_id, seen_status=seen)
        elif action == "reply":
            if not text:
                return await _say(request, who, 400, "console.empty_reply")
            done = await casework.reply(who.seat, report_id, text)
        elif action == "resolve":
            if not text:
                return await _say(request, who, 400, "console.note_needed", draft=text)
            photo = await _photo(form)
            if (
                photo is not None
                and (photo.size or 0) > console_of(request).config.max_photo_bytes
            ):
                return await _say(request, who, 413, "console.too_big", draft=text)
            done = await casework.resolve(who.seat, report_id, text, photo, seen_status=seen)
        elif action == "transfer":
            target = text_field(form, "to")
            if not target:
                return await _say(request, who, 400, "console.bad_choice")
            done = await casework.transfer(who.seat, report_id, target, seen_status=seen)
        else:
            reason = text_field(form, "reason")
            if reason not in REASONS:
                return await _say(request, who, 400, "console.bad_choice")
            original = parse_ticket_id(text_field(form, "of")) if reason == "duplicate" else None
            if reason == "duplicate" and original is None:
                return await _say(request, who, 400, "console.bad_duplicate")
            done = await casework.reject(
                who.seat, report_id, reason, duplicate_of=original, seen_status=seen
            )
    except Refused as exc:
        now = await visible_report(request, who)
        values = {"ticket": report_id, "name": (now.handler_name if now else None) or "?"}
        values.update(exc.values)
        key = WORDS.get(exc.key, exc.key)
        words = Markup(texts.t(lang(request), key, **values))  # the catalogue's, escaped
        status = STATUS.get(exc.key, 409)
        return await show(request, who, status=status, error=words, drafts={action: text})
    said = DONE_BY_KEY.get(getattr(done, "key", ""), DONE[action])
    prefix = console_of(request).prefix
    return RedirectResponse(f"{prefix}console/r/{report_id}?done={said}", status_code=303)


async def _gone(request: Request, who: SignedIn) -> Response:
    """Not this desk's report: "not found", or, for one transferred away from this desk
    while its page was open, where it went (as the desk's card says). A real form's words
    are shown back, so nothing typed is lost."""
    form = await read_form(request)
    if form is None or not csrf_ok(request, who, text_field(form, "csrf")):
        return await show(request, who)
    try:
        draft = typed(form, "text", NOTE_MAX)
        action = str(request.path_params["action"])
        place = await moved_from(console_of(request), report_id_of(request), who.seat.desk)
        error = None
        if place is not None:
            key = "console.moved_away"
            error = plain(lang(request), key, ticket=report_id_of(request), place=place)
        return await show(request, who, status=404, error=error, drafts={action: draft})
    finally:
        await form.close()


async def _photo(form: Any) -> PhotoInput | None:
    upload = form.get("photo")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return None
    data = await upload.read()
    if not data:
        return None

    async def fetch() -> bytes:
        return bytes(data)

    return PhotoInput(fetch=fetch, size=len(data), as_file=True, mime_type=upload.content_type)


async def _say(
    request: Request, who: SignedIn, status: int, key: str, *, draft: str = "", **values: Any
) -> Response:
    mb = console_of(request).config.max_photo_bytes >> 20
    words = plain(lang(request), key, mb=mb, **values)
    action = str(request.path_params.get("action", ""))
    return await show(request, who, status=status, error=words, drafts={action: draft})
