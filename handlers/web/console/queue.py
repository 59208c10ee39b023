"""The desk's queue (/console): its reports by tab, category and ticket number, a page at a time.

A community's staff see their community's reports; supervisors (the county's desk) see every
community's, with a filter by community (or the county centre's own). Overdue reports are
marked on every tab. Unknown filter values are not errors: the page says what it did.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from bot.domain.numbers import parse_ticket_id
from bot.people.staff import COUNTY
from bot.texts.formatting import when
from handlers.web.console import live
from handlers.web.console.pages import lang, render, signed_out
from handlers.web.console.sessions import SignedIn, console_of, signed_in
from handlers.web.words import plain
from storage import queue as q
from storage.figures import EVERY, Scope

SUPERVISORS_OWN = "_county"  # the community filter's value for the county centre's own queue


def scope_of(who: SignedIn, community: str, config: Any) -> tuple[Scope, str]:
    """Whose reports: the desk's community; for the county, every one or the one chosen."""
    if who.seat.desk != COUNTY:
        return who.seat.desk, ""
    if community == SUPERVISORS_OWN:
        return None, community
    if config.community(community) is not None:
        return community, community
    return EVERY, ""


async def queue(request: Request) -> Response:
    who = await signed_in(request)
    if who is None:
        return await signed_out(request)
    console = console_of(request)
    config = console.config
    lg = lang(request)
    params = request.query_params
    notes: list[str] = []
    group = _choice(q.Group, params.get("tab"), q.Group.NEW)
    order = _choice(q.Order, params.get("order"), q.Order.NEWEST)
    category = params.get("cat") or None
    if category is not None and config.category(category) is None:
        category = None
    scope, community = scope_of(who, params.get("community", ""), config)
    ticket = None
    if params.get("q", "").strip():
        ticket = parse_ticket_id(params["q"])
        if ticket is None:
            notes.append("bad_ticket")
    after = None
    if params.get("after"):
        try:
            after = q.Cursor.decode(params["after"], order)
        except ValueError:
            notes.append("bad_cursor")
    now = console.clock.now()
    async with console.db.transaction() as conn:
        counts = await q.counts(conn, scope=scope, now=now, category=category)
        found = (
            q.Page([], None)
            if "bad_ticket" in notes
            else await q.page(
                conn,
                scope=scope,
                now=now,
                group=None if ticket else group,  # a ticket number is found in any tab
                category=category,
                ticket=ticket,
                order=order,
                after=after,
                size=q.PAGE_SIZE,
            )
        )
    keep = {"tab": group.value, "order": order.value, "cat": category or "", "q": ticket or ""}
    if community:
        keep["community"] = community

    def link(**changes: Any) -> str:
        values = {k: v for k, v in {**keep, **changes}.items() if v not in ("", None)}
        return f"{console.prefix}console?{urlencode(values)}"

    return render(
        request,
        "queue.html",
        who=who,
        tabs=[
            {
                "key": g.value,
                "count": counts[g].count,
                "capped": counts[g].capped,
                "on": g is group,
                "href": link(tab=g.value, after=None),
            }
            for g in q.Group
        ],
        rows=[_row(config, row, lg) for row in found.rows],
        next_href=link(after=found.next.encode()) if found.next else None,
        first_href=link() if after else None,
        orders=[{"key": o.value, "on": o is order, "href": link(order=o.value)} for o in q.Order],
        keep=keep,
        categories=[
            {"code": c.code, "label": f"{c.icon} {c.name(lg)}"} for c in config.categories
        ],
        communities=(
            [{"id": c.id, "name": c.name} for c in config.communities]
            if who.seat.desk == COUNTY
            else None
        ),
        supervisors_own=SUPERVISORS_OWN,
        notes=notes,
        poll=live.POLL_SECONDS,
    )


def _choice(kind: Any, raw: str | None, default: Any) -> Any:
    try:
        return kind(raw) if raw else default
    except ValueError:
        return default


def _row(config: Any, row: q.QueueRow, lg: str) -> dict[str, Any]:
    icon, name = config.category_label(row.category, lg)
    return {
        "id": row.id,
        "label": f"{icon} {name}".strip(),
        "status": plain(lg, f"status.{row.status}"),
        "place": config.desk_name(row.community_id),
        "created": when(row.created_at, config.timezone, lg),
        "deadline": when(row.deadline_at, config.timezone, lg),
        "overdue": row.overdue,
        "handler": row.handler_name,
        "note": row.note,
    }
