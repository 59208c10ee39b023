"""One report on the rider's page: its timeline, the community's replies, a reply box, 已解决？.

Showing the page reads the report's news (bot/intake/rider_inbox.py). What the page shows comes
from the core's view of the report (bot/intake/my_reports.py: staff
names removed, a +1 follower sees the steps only); what the rider sends goes through the
same use cases as in Telegram (bot/casework/rider_answers.py): the reply lands under the card in
the community's chat, Fixed closes the report, Not fixed reopens it.

Plain HTML forms (no script needed, WeChat's browser included): a success redirects back to
the page with a short word of what happened (Post/Redirect/Get, so a reload never sends
twice); a refusal shows the page again with the reason, and the rider's words kept.
Another device's report is "not found" (404), as on /my.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.casework.cards import SUPERVISORS, place_name
from bot.casework.rider_answers import REPLY_MAX
from bot.domain.lifecycle import FINAL, Status
from bot.intake.my_reports import ReportView
from bot.messages import Answer
from bot.people.riders import RiderCtx
from bot.texts.formatting import when
from handlers.web.forms import FormRefused, posted
from handlers.web.pages import current_device, render, rider_of, unread
from handlers.web.words import lang_of, plain

DONE = {  # ?done= after a redirect: what the rider's last action did
    "relayed": "notice.relayed",
    "fixed": "notice.thanks_fixed",
    "reopened": "notice.thanks_reopened",
}
STATUS = {  # a refusal's HTTP status
    "follow.no_reply": 403,
    "button.stale": 403,
    "refused.stale": 409,
    "refused.final": 409,
    "refused.not_resolved": 409,
    "staff.empty_reply": 400,
}
WORDS = {"refused.stale": "page.stale", "button.stale": "page.stale"}  # the page's own words


def report_id_of(request: Request) -> int:
    raw = request.path_params["report_id"]
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0


async def my_report(request: Request) -> Response:
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
    draft: str = "",
) -> Response:
    """The report's page for this device's rider, or "not found"."""
    web = request.app.state.web
    rider = await rider_of(request)
    report_id = report_id_of(request)
    seen = await web.my_reports.view(rider.id, report_id) if rider and report_id else None
    if seen is None:  # a refused form says why; otherwise the report is "not found"
        code = status if status >= 400 else 404
        return render(
            request,
            "report.html",
            lang,
            status=code,
            view=None,
            error=error,
            unread=await unread(request, rider),
        )
    await web.inbox.seen(rider.id, report_id)  # its news is read once the page shows it
    values = {"ticket": seen.report.id}
    return render(
        request,
        "report.html",
        lang,
        status=status,
        view=_page(web.config, seen, lang),
        csrf=web.signer.csrf_token(current_device(request)),
        notice=plain(lang, notice, **values) if notice else None,
        error=error,
        draft=draft,
        reply_max=REPLY_MAX,
        unread=await unread(request, rider),
    )


def _page(config: Any, seen: ReportView, lang: str) -> dict[str, Any]:
    report = seen.report
    tz = config.timezone
    icon, name = config.category_label(report.category, lang)
    steps = [step_view(config, e, lang) for e in seen.steps]
    resolution = next(
        (s["text"] for s in reversed(steps) if s["kind"] == "resolved" and s["text"]), None
    )
    return {
        "id": report.id,
        "label": f"{icon} {name}".strip(),
        "status": plain(lang, f"status.{report.status}"),
        "place": place_name(config, report.community_id, lang),
        "deadline": when(report.deadline_at, tz, lang),
        "note": report.note if seen.reporter else None,
        "steps": steps,
        "asks": seen.asks,
        "resolution": resolution if seen.asks else None,
        "round": report.resolve_count,
        "can_reply": seen.reporter and Status(report.status) not in FINAL,
    }


def step_view(config: Any, event: dict[str, Any], lang: str) -> dict[str, Any]:
    """One line of the timeline, in plain words (the template escapes them)."""
    data, kind = event["data"], event["kind"]
    text = data.get("note") or data.get("text") or None
    if kind == "transferred":
        target = data.get("to") if data.get("to") != SUPERVISORS else None
        text = plain(lang, "event.to", place=place_name(config, target, lang))
    elif kind == "rejected":
        text = plain(lang, f"reject.{data.get('reason', 'no_info')}")
        if data.get("duplicate_of"):
            text += f" #{int(data['duplicate_of'])}"
    return {
        "kind": kind,
        "when": when(event["at"], config.timezone, lang),
        "what": plain(lang, f"event.{kind}"),
        "who": plain(lang, f"actor.{event['actor_kind']}"),  # never a staff member's name
        "text": text,
    }


async def _form(request: Request, lang: str) -> Any:
    """The posted form, or the page again with why it was refused (CSRF, size...)."""
    try:
        return await posted(request)
    except FormRefused as refused:
        error = plain(lang, refused.key, **refused.values)
        return await show(
            request, lang, status=refused.status, error=error, draft=refused.get("text")
        )


async def reply(request: Request) -> Response:
    """The reporter's words for the community (the same path as a reply in Telegram)."""
    web = request.app.state.web
    lang = lang_of(request, web.config.language)
    form = await _form(request, lang)
    if isinstance(form, Response):
        return form
    text = form.get("text")
    if not text.strip():
        return await _refuse(request, lang, 400, "page.empty_reply", draft=text)
    if len(text.strip()) > REPLY_MAX:
        return await _refuse(request, lang, 400, "page.too_long", draft=text, limit=REPLY_MAX)
    ctx = await _ctx(request, lang)
    if ctx is None:
        return await show(request, lang)  # not theirs: "not found"
    answer = await web.answers.reply(ctx, report_id_of(request), text)
    if not answer.ok:
        return await _refused(request, lang, answer, draft=text)
    return _back(request, "relayed")


async def feedback(request: Request) -> Response:
    """已解决？ answered on the page: the same core as the buttons in Telegram."""
    web = request.app.state.web
    lang = lang_of(request, web.config.language)
    form = await _form(request, lang)
    if isinstance(form, Response):
        return form
    fixed = form.get("fixed")
    round_ = form.get("round")
    if fixed not in ("y", "n") or not (round_.isascii() and round_.isdigit() and len(round_) < 10):
        return await show(request, lang, status=400, error=plain(lang, "form.bad_form"))
    ctx = await _ctx(request, lang)
    if ctx is None:
        return await show(request, lang)
    answer = await web.answers.feedback(
        ctx, report_id_of(request), fixed == "y", resolution=int(round_)
    )
    if not answer.ok:
        return await _refused(request, lang, answer)
    return _back(request, "fixed" if fixed == "y" else "reopened")


async def _ctx(request: Request, lang: str) -> RiderCtx | None:
    """The rider of this device, when the report is one they may see."""
    web = request.app.state.web
    rider = await rider_of(request)
    report_id = report_id_of(request)
    if rider is None or report_id == 0 or await web.my_reports.view(rider.id, report_id) is None:
        return None
    return RiderCtx(rider, lang)


async def _refuse(
    request: Request, lang: str, status: int, key: str, *, draft: str = "", **values: Any
) -> Response:
    error = plain(lang, key, **{"ticket": report_id_of(request), **values})
    return await show(request, lang, status=status, error=error, draft=draft)


async def _refused(request: Request, lang: str, answer: Answer, *, draft: str = "") -> Response:
    key = WORDS.get(answer.key, answer.key)
    status = STATUS.get(answer.key, 409)
    return await _refuse(request, lang, status, key, draft=draft, **answer.values)


def _back(request: Request, done: str) -> Response:
    prefix = request.app.state.web.prefix
    return RedirectResponse(f"{prefix}my/{report_id_of(request)}?done={done}", status_code=303)
