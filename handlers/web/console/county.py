"""The county's view in the console, and what a community's desk sees of its own.

Routes: figures.py (/stats for any period, communities ranked, the digest's chart, the
overdue list), ledger.py (the 台账 as XLSX or CSV), digest.py (the weekly digest as it will
be sent), map.py (the reports on a map, and its GeoJSON). Every number comes from the core
(bot/reporting/, storage/map_points.py); these modules choose the period and whose reports
(choices.py), check the seat, and lay the answer out.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.people.staff import COUNTY
from bot.reporting.figures import Figures
from handlers.web.console.choices import PERIODS, Chosen, Refusal
from handlers.web.console.pages import lang, render
from handlers.web.console.sessions import SignedIn, console_of
from handlers.web.words import plain
from storage.tables import events

RECENT_SECONDS = 60.0
RECENT_SIZE = 32
Kept = dict[tuple[Hashable, ...], tuple[float, Any]]  # key → (kept until, value)


def words(lg: str) -> Callable[..., str]:
    """The county pages' words (county.<key>), as plain text for the template to escape."""
    return lambda key, **values: plain(lg, f"county.{key}", **values)


def show(
    request: Request, template: str, who: SignedIn, *, status: int = 200, **values: Any
) -> Response:
    """A county page, with its words (`k`)."""
    return render(
        request,
        template,
        status=status,
        who=who,
        k=words(lang(request)),
        county_desk=who.seat.desk == COUNTY,
        **values,
    )


def refused(request: Request, who: SignedIn, refusal: Refusal) -> Response:
    """A request refused, in words: a period that cannot be read, another desk's data."""
    message = plain(lang(request), f"county.{refusal.key}", **refusal.values)
    return show(request, "county_problem.html", who, status=refusal.status, message=message)


def refused_json(request: Request, refusal: Refusal) -> Response:
    message = plain(lang(request), f"county.{refusal.key}", **refusal.values)
    return JSONResponse({"error": message}, status_code=refusal.status)


def period_form(request: Request, chosen: Chosen) -> dict[str, Any]:
    """What the period picker shows: the choices, the one taken, its days."""
    lg = lang(request)
    return {
        "choices": [{"key": p, "label": plain(lg, f"county.period_{p}")} for p in PERIODS],
        "key": chosen.key,
        "first": chosen.first.isoformat(),
        "last": chosen.last.isoformat(),
    }


def figures_of(request: Request) -> Figures:
    return Figures(console_of(request).db)


async def recent(
    request: Request, key: tuple[Hashable, ...], make: Callable[[], Awaitable[Any]]
) -> Any:
    """What `make` answers, kept a minute for the same key while no step was taken.

    A chart takes a second or more to draw (matplotlib); a page opened again, or by a
    colleague, gets the same picture at once. The newest event's id is part of the key, so
    any step taken meanwhile (a report, an acceptance, a confirmation) draws it anew.
    """
    state = request.app.state
    kept: dict[tuple[Hashable, ...], tuple[float, Any]] | None = getattr(
        state, "county_kept", None
    )
    if kept is None:
        kept = state.county_kept = {}
    async with console_of(request).db.transaction() as conn:
        last = await conn.scalar(select(func.max(events.c.id)))
    full = (*key, last)
    now = time.monotonic()
    found = kept.get(full)
    if found is not None and found[0] > now:
        return found[1]
    value = await make()
    for stale in [k for k, (until, _) in kept.items() if until <= now]:
        del kept[stale]
    if len(kept) >= RECENT_SIZE:
        kept.pop(next(iter(kept)))
    kept[full] = (now + RECENT_SECONDS, value)
    return value
