"""/my: what is new in the rider's reports, then the reports themselves.

A web rider has no chat for notices (handlers/web/courier.py): the news is read from their
reports' histories by the core (bot/intake/rider_inbox.py), shown here with a link to each report's
page, and from then on is read; every page's header shows how many are unread. Opening one
report's page reads its news too (handlers/web/mine.py).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.config import Config
from bot.domain.lifecycle import Status
from bot.texts.formatting import when
from handlers.web.mine import step_view
from handlers.web.pages import render, rider_of
from handlers.web.words import lang_of, plain
from storage import reports as report_rows

LISTED = 20


async def my_reports(request: Request) -> Response:
    """This device's news, then its reports, newest first, with their status."""
    web = request.app.state.web
    config: Config = web.config
    lang = lang_of(request, config.language)
    rider = await rider_of(request)
    rows: list[dict[str, Any]] = []
    news: list[dict[str, Any]] = []
    if rider is not None:
        async with web.intake.db.transaction() as conn:
            mine = await report_rows.for_rider(conn, rider.id, LISTED)
        updates = await web.inbox.unread(rider.id)
        fresh = {e["report_id"] for e in updates}
        by_id = {r.id: r for r in mine}
        for report in mine:
            rows.append({**_label(config, report, lang), "new": report.id in fresh})
        for event in updates:
            if event["report_id"] not in by_id:  # older than the list: fetched on its own
                async with web.intake.db.transaction() as conn:
                    older = await report_rows.get(conn, event["report_id"])
                if older is None:
                    continue
                by_id[older.id] = older
            report = by_id[event["report_id"]]
            asks = (
                event["kind"] == "resolved"
                and event["reporter"]
                and report.status == Status.RESOLVED
            )
            news.append(
                {
                    **_label(config, report, lang),
                    **step_view(config, event, lang),
                    "asks": asks,
                }
            )
        await web.inbox.shown(rider.id, updates)  # seen now: no longer counted
    return render(request, "my.html", lang, reports=rows, news=news, unread=0)


def _label(config: Config, report: Any, lang: str) -> dict[str, Any]:
    icon, name = config.category_label(report.category, lang)
    return {
        "id": report.id,
        "label": f"{icon} {name}".strip(),
        "status": plain(lang, f"status.{report.status}"),
        "when": when(report.created_at, config.timezone, lang),
        "place": config.desk_name(report.community_id),
    }
