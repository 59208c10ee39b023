"""The ledger (台账) for a date range, as XLSX or CSV (/console/ledger).

The file /export sends the supervisors' chat (bot/reporting/ledger.py): one row per report
made in the range, and the figures per community. Only for someone signed in: the county
gets every community's (or the one it picks), a community's desk its own reports and its
own line of figures. A range that cannot be read is answered in words, not with a file.

A year's ledger of a busy county is seconds of work and hundreds of MB, so a person makes
one at a time (pressing Download again meanwhile is answered in words), and the process
at most LEDGERS_AT_ONCE.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from bot.reporting.ledger import Ledger
from handlers.web.console.choices import Refusal, ledger_range, reach
from handlers.web.console.county import refused
from handlers.web.console.pages import signed_out
from handlers.web.console.sessions import console_of, signed_in

log = logging.getLogger(__name__)

KINDS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
NOT_A_NAME = re.compile(r"[^A-Za-z0-9_-]+")
LEDGERS_AT_ONCE = 2


async def download(request: Request) -> Response:
    who = await signed_in(request)
    if who is None:
        return await signed_out(request)
    console = console_of(request)
    config = console.config
    params = request.query_params
    try:
        whose = reach(who.seat, params.get("community", ""), config)
        period = ledger_range(params, console.clock.now(), config.timezone)
        fmt = params.get("format") or "xlsx"
        if fmt not in KINDS:
            raise Refusal(400, "format_unknown")
    except Refusal as refusal:
        return refused(request, who, refusal)
    making: set[int] = console.ledgers_making
    person = who.seat.person.id
    if person in making or len(making) >= LEDGERS_AT_ONCE:
        return refused(request, who, Refusal(429, "ledger_busy"))
    making.add(person)
    ledger = Ledger(config=config, db=console.db, clock=console.clock)
    try:
        data, rows = await ledger.export(period, fmt, whose.scope)
    except Exception:
        log.exception("console ledger failed")
        return refused(request, who, Refusal(500, "ledger_failed"))
    finally:
        making.discard(person)
    first, last = period.start.date(), (period.end - timedelta(days=1)).date()
    whose_name = NOT_A_NAME.sub("_", whose.community) if whose.community else "county"
    name = f"suishou-ledger-{whose_name}-{first}-{last}.{fmt}"
    log.info("console ledger", extra={"staff": who.seat.person.id, "rows": rows})
    return Response(
        data,
        media_type=KINDS[fmt],
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
