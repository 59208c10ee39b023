"""The county's view in the console, and what a community's desk sees of its own.

Routes: figures.py (/stats for any period, communities ranked, the digest's chart, the
overdue list), ledger.py (the 台账 as XLSX or CSV), digest.py (the weekly digest as it will
be sent), map.py (the reports on a map, and its GeoJSON). Every number comes from the core
(bot/reporting/, storage/map_points.py); these modules choose the period and whose reports
(choices.py), check the seat, and lay the answer out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.people.staff import COUNTY
from bot.reporting.figures import Figures
from handlers.web.console.choices import PERIODS, Chosen, Refusal
from handlers.web.console.pages import lang, render
from handlers.web.console.sessions import SignedIn, console_of
from handlers.web.words import plain


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
