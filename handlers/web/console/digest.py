"""The weekly digest as it is sent (/console/digest): each community's and the county's.

Built by the digest's own writer (bot/reporting/digest_text.py) for the desk, so the words
and numbers are those the chat gets; shown as plain text, with the county's chart. A county
that runs without Telegram reads its digests here. A desk sees its own; the county any
desk's. Weeks: the last complete one by default (what went out last Monday), earlier ones,
or this week so far (what will go out next).
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from bot.domain.desks import Desk, desks
from bot.people.staff import COUNTY
from bot.reporting.digest import parse_week, previous_week, week_label
from bot.reporting.digest_text import Digest, DigestWriter
from bot.reporting.metrics import Period, week_of
from bot.texts.formatting import when
from handlers.web.console.choices import Refusal
from handlers.web.console.county import figures_of, recent, refused, show, words
from handlers.web.console.pages import lang, signed_out
from handlers.web.console.sessions import SignedIn, console_of, signed_in
from storage.tables import digests_sent

WEEKS_LISTED = 8
THIS_WEEK = "this"
TAG = re.compile(r"<[^>]+>")


def _desk(who: SignedIn, asked: str, all_desks: list[Desk]) -> Desk:
    """The desk whose digest: one's own; the county may ask for any (COUNTY: its own)."""
    wanted = asked or who.seat.desk
    if who.seat.desk not in (COUNTY, wanted):
        raise Refusal(403, "not_yours")
    for desk in all_desks:
        if desk.id == wanted:
            return desk
    raise Refusal(400, "community_unknown")


def _week(asked: str, now: datetime, tz: Any) -> tuple[Period, str]:
    """The week asked for, up to now when it is still running; its key for the links."""
    if asked == THIS_WEEK:
        week = week_of(now, tz)
    elif asked:
        try:
            week = parse_week(asked, tz)
            week.start.astimezone(UTC)  # years such as 0001 have no UTC midnight
        except (ValueError, OverflowError):
            raise Refusal(400, "week_bad") from None
    else:
        week = previous_week(now, tz)
    if week.start >= now:
        raise Refusal(400, "period_future")
    key = THIS_WEEK if week.end > now else week_label(week, tz)
    return Period(week.start, min(week.end, now)), key


async def page(request: Request) -> Response:
    who = await signed_in(request)
    if who is None:
        return await signed_out(request)
    console = console_of(request)
    config = console.config
    tz = config.timezone
    now = console.clock.now()
    params = request.query_params
    all_desks = desks(config)
    try:
        desk = _desk(who, params.get("desk", ""), all_desks)
        period, key = _week(params.get("week", ""), now, tz)
    except Refusal as refusal:
        return refused(request, who, refusal)
    writer = DigestWriter(config, figures_of(request))

    async def build() -> Digest:
        return (await writer.build(period, only=desk))[0]

    desk_key = desk.id
    minute = now.replace(second=0, microsecond=0)
    digest = await recent(request, ("digest", key, desk_key, minute), build)
    label = week_label(period, tz)
    async with console.db.transaction() as conn:
        sent_at = await conn.scalar(
            select(digests_sent.c.sent_at).where(
                digests_sent.c.week == label, digests_sent.c.target == digest.target
            )
        )
    lg = lang(request)
    prefix = f"{console.prefix}console/digest?"

    def link(**changes: str) -> str:
        return prefix + urlencode({"desk": desk_key, "week": key, **changes})

    this_week = week_of(now, tz)
    weeks: list[dict[str, Any]] = [{"key": THIS_WEEK, "label": words(lg)("this_week_so_far")}]
    for back in range(1, WEEKS_LISTED + 1):
        start = this_week.start - timedelta(days=7 * back)
        weeks.append({"key": week_label(Period(start, start + timedelta(days=7)), tz)})
    for week in weeks:
        week.setdefault("label", week["key"])
        week["href"] = link(week=week["key"])
        week["on"] = week["key"] == key
    return show(
        request,
        "digest.html",
        who,
        name=desk.name,
        week=label,
        text=unescape(TAG.sub("", digest.text)),
        chart=base64.b64encode(digest.chart).decode("ascii") if digest.chart else None,
        sent=when(sent_at, tz, lg) if sent_at else None,
        running=key == THIS_WEEK,
        weeks=weeks,
        desks=[
            {
                "key": d.id,
                "name": d.name,
                "href": link(desk=d.id),
                "on": d == desk,
            }
            for d in all_desks
        ]
        if who.seat.desk == COUNTY
        else None,
    )
