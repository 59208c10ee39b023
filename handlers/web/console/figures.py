"""The figures of /stats for any period (/console/figures), and the digest's chart as PNG.

The county sees its 办结率 and every companion figure, the communities ranked (best first,
as /stats and the digest rank them), the chart, and the reports overdue at the period's end;
it may pick one community. A community's desk sees its own figures and overdue reports only.
Everything is counted by bot/reporting/figures.py for the period alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from bot.reporting.figures import EVERY, DeskFigures
from bot.reporting.metrics import Metrics, percent, ranked
from bot.reporting.period_chart import period_chart
from bot.texts.formatting import hours
from handlers.web.console.choices import Refusal, choose_period, county_only, reach
from handlers.web.console.county import figures_of, period_form, recent, refused, show, words
from handlers.web.console.pages import lang, signed_out
from handlers.web.console.sessions import console_of, signed_in

OVERDUE_SHOWN = 100


async def page(request: Request) -> Response:
    who = await signed_in(request)
    if who is None:
        return await signed_out(request)
    console = console_of(request)
    config = console.config
    now = console.clock.now()
    try:
        chosen = choose_period(request.query_params, now, config.timezone)
        whose = reach(who.seat, request.query_params.get("community", ""), config)
    except Refusal as refusal:
        return refused(request, who, refusal)
    figures = figures_of(request)
    period = chosen.period
    lg = lang(request)
    k = words(lg)
    counted = await figures.tallies(period, whose.scope, details=whose.scope is not EVERY)
    if whose.scope is EVERY:
        total = Metrics.of(counted.total)
        late = await figures.overdue_tickets(period, OVERDUE_SHOWN)
    else:
        cid = whose.community  # one community: the desk's own, or the one the county picked
        total = counted.metrics(cid)
        found = await figures.open_tickets(period, cid, per_desk=OVERDUE_SHOWN, overdue=True)
        late = [(i, cid) for i, _ in found.get(cid, [])]
    return show(
        request,
        "figures.html",
        who,
        title=k(
            "figures_title",
            name=config.desk_name(whose.community) if whose.community else k("county"),
            first=chosen.first.isoformat(),
            last=chosen.last.isoformat(),
        ),
        period=period_form(request, chosen),
        community=whose.community,
        communities=[{"id": c.id, "name": c.name} for c in config.communities]
        if whose.county
        else None,
        totals=_totals(total, lg, k),
        ranking=_ranking(request, counted, chosen.params) if whose.scope is EVERY else None,
        chart_src=f"{console.prefix}console/figures/chart.png?{urlencode(chosen.params)}"
        if whose.scope is EVERY
        else None,
        overdue=[{"id": i, "place": config.desk_name(cid)} for i, cid in late],
        overdue_count=total.overdue_open,
        digest_href=f"{console.prefix}console/digest",
    )


def _totals(m: Metrics, lg: str, k: Any) -> list[dict[str, Any]]:
    """Every figure of the period, named as docs/metrics.md names it."""
    rows = [
        ("closure_rate", percent(m.closure_rate)),
        ("on_time_rate", percent(m.on_time_rate)),
        ("received", m.received),
        ("due", m.due),
        ("closed", m.closed),
        ("closed_fixed", m.closed_fixed),
        ("rejected", m.rejected),
        ("closed_on_time", m.closed_on_time),
        ("overdue_open", m.overdue_open),
        ("open_at_end", m.open_at_end),
        ("median_time_to_close", hours(m.median_time_to_close, lg)),
        ("p90_time_to_close", hours(m.p90_time_to_close, lg)),
        ("reopen_rate", percent(m.reopen_rate)),
        ("satisfaction", percent(m.satisfaction)),
        ("feedback_count", m.feedback_count),
        ("transfers", m.transfers),
    ]
    return [{"key": key, "label": k(f"m_{key}"), "value": value} for key, value in rows]


def _ranking(
    request: Request, counted: DeskFigures, params: dict[str, str]
) -> list[dict[str, Any]]:
    """Every community and the county centre's own queue, best first (metrics.ranked)."""
    config = console_of(request).config
    owned = counted.owned(config)
    ids: list[str | None] = [c.id for c in config.communities] + [None]
    prefix = console_of(request).prefix
    return [
        {
            "rank": n,
            "name": config.desk_name(cid),
            "href": f"{prefix}console/figures?{urlencode({**params, 'community': cid})}"
            if cid is not None
            else None,
            "closure": percent(m.closure_rate),
            "on_time": percent(m.on_time_rate),
            "due": m.due,
            "closed": m.closed,
            "received": m.received,
            "open": m.open_at_end,
            "overdue": m.overdue_open,
        }
        for n, (cid, m) in enumerate(ranked({cid: owned.metrics(cid) for cid in ids}), 1)
    ]


async def chart(request: Request) -> Response:
    """The digest's chart for the period (PNG): every community, so the county's only."""
    who = await signed_in(request)
    if who is None:
        return Response(status_code=401)
    console = console_of(request)
    config = console.config
    now = console.clock.now()
    try:
        county_only(who.seat)
        chosen = choose_period(request.query_params, now, config.timezone)
    except Refusal as refusal:
        return Response(status_code=refusal.status)
    figures = figures_of(request)
    lg = lang(request)
    title = words(lg)("chart_title", first=chosen.first.isoformat(), last=chosen.last.isoformat())

    async def draw() -> bytes | None:
        counted = await figures.tallies(chosen.period, durations=False, details=False)
        return await period_chart(
            config, figures, chosen.period, counted, now=now, lang=lg, title=title
        )

    minute = now.replace(second=0, microsecond=0)
    png = await recent(request, ("chart", *sorted(chosen.params.items()), lg, minute), draw)
    if png is None:
        return Response(status_code=503)
    return Response(png, media_type="image/png", headers={"cache-control": "private, max-age=60"})
