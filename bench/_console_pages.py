"""(helper) The console's pages at scale for bench_console.py: the real app, in-process.

The whole Starlette app (handlers/web/, the console under handlers/web/console/) is built on
the application's services over the benchmark's database, with the county of
bench/_console_world.py as its configuration and a clock stopped at its NOW. A community's
staff member and a supervisor sign in as a person would (an invite link, its button); then
each page is asked through httpx.ASGITransport: routing, the session's cookie check,
queries, templates and gzip all run, no socket. One warm-up, then median and p95 of
--repeat runs, as the storage steps.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import _console_world as world
import httpx
from sqlalchemy import select

from bot.config import Config, parse_config
from bot.delivery.outbox import WEB
from bot.offline import NoMembers
from bot.people.staff import COUNTY
from bot.services import Services
from handlers import web
from handlers.web.courier import WebCourier
from storage import queue
from storage.tables import reports

ROOT = Path(__file__).resolve().parent.parent
DEEP = 2000  # as the storage steps: the deep page starts after this many rows


class StoppedClock:
    """The world's NOW, so deadlines and sessions read as on that Wednesday morning."""

    def now(self) -> datetime:
        return world.NOW


def county_config(database_url: str, folder: Path) -> Config:
    """config.example.toml with the world's 20 communities (centre and radius, WGS-84)."""
    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    raw["storage"] = {"database_url": database_url, "photo_dir": str(folder / "photos")}
    raw["communities"] = [
        {
            "id": cid,
            "name": f"第{i + 1}社区",
            "chat_id": -1002000000000 - i,
            "coordinates": "wgs84",
            "centre": [world.centre(i)[1], world.centre(i)[0]],
            "radius_m": 1000,
        }
        for i, cid in enumerate(world.COMMUNITIES)
    ]
    return parse_config(raw, base_dir=folder)


@dataclass
class Browser:
    """One signed-in person's browser (its cookie jar)."""

    client: httpx.AsyncClient
    desk: str

    @classmethod
    async def sign_in(cls, app: Any, services: Services, desk: str) -> Browser:
        link = await services.staff_links.invite(f"测速{desk}", desk)
        parts = urlsplit(link.url)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"{parts.scheme}://{parts.netloc}"
        )
        shown = await client.get(parts.path)
        token = re.search(r'name="csrf" value="([^"]+)"', shown.text)
        assert shown.status_code == 200 and token, shown.text[-500:]
        used = await client.post(parts.path, data={"csrf": token.group(1)})
        assert used.status_code == 303, used.text[-500:]
        return cls(client, desk)


@dataclass
class Pages:
    repeat: int
    only: str
    quantiles: Callable[[list[float]], tuple[float, float]]
    figures: list[tuple[str, float, float, str]] = field(default_factory=list)

    async def time(self, label: str, browser: Browser, path: Callable[[int], str]) -> None:
        """GET `path(i)` once to warm up, then --repeat times; print median and p95."""
        if self.only not in label:
            return
        times = []
        answer = await browser.client.get(path(0))
        for i in range(1, self.repeat + 1):
            t0 = time.perf_counter()
            answer = await browser.client.get(path(i))
            times.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, f"{label}: {answer.status_code} {answer.text[-300:]}"
        median, p95 = self.quantiles(times)
        what = _size(answer)
        self.figures.append((label, median, p95, what))
        print(f"  {label:<46} {median:8.1f} {p95:8.1f}   {what}", flush=True)


def _size(answer: httpx.Response) -> str:
    body = f"{len(answer.content) / 1024:.0f} KiB"
    if answer.headers.get("content-type", "").startswith("application/json"):
        found = answer.json()
        if "features" in found:
            return f"{len(found['features'])} features, {body}"
        return str(found)[:40]
    if 'id="timeline"' in answer.text:
        steps = answer.text.split('id="timeline"')[1].split("</ol>")[0].count("<li")
        return f"{steps} steps, {body}"
    rows = answer.text.count('<tr id="row-')
    return f"{rows} rows, {body}"


async def _desk_reports(services: Services, desk: str) -> list[int]:
    """The desk's newest reports with a whole timeline (events, a thread, a photo)."""
    async with services.db.transaction() as conn:
        found = await conn.execute(
            select(reports.c.id)
            .where(reports.c.community_id == desk, reports.c.id % world.FULL_EVERY == 0)
            .order_by(reports.c.id.desc())
            .limit(50)
        )
        return [row[0] for row in found]


async def _deep_cursor(services: Services, desk: str) -> str | None:
    """The closed tab's cursor after DEEP rows (fewer in a small world), as the link has it."""
    async with services.db.transaction() as conn:
        for size in (DEEP, queue.PAGE_SIZE):
            ahead = await queue.page(
                conn, scope=desk, now=world.NOW, group=queue.Group.CLOSED, size=size
            )
            if ahead.next is not None:
                return ahead.next.encode()
    return None


async def run_pages(
    database_url: str, folder: Path, desk: str, repeat: int, only: str, quantiles: Any
) -> list[tuple[str, float, float, str]]:
    """Sign in a desk's staff member and a supervisor, and time the console's pages."""
    config = county_config(database_url, folder)
    services = Services.create(config, {WEB: WebCourier()}, StoppedClock(), members=NoMembers())
    await services.start()
    try:
        app, _ = web.build(services, telegram_on=False, secret=b"bench-console-pages" * 2)
        staff = await Browser.sign_in(app, services, desk)
        chief = await Browser.sign_in(app, services, COUNTY)
        ids = await _desk_reports(services, desk)
        deep = await _deep_cursor(services, desk)
        pages = Pages(repeat, only, quantiles)
        print(f"  {'page (ms, through the app)':<46} {'median':>8} {'p95':>8}   answer")
        await pages.time(f"desk {desk}: queue, page 1 (new)", staff, lambda i: "/console")
        await pages.time(f"desk {desk}: overdue tab", staff, lambda i: "/console?tab=overdue")
        if deep is not None:
            query = urlencode({"tab": "closed", "order": "newest", "after": deep})
            await pages.time(
                f"desk {desk}: closed tab, deep page", staff, lambda i: f"/console?{query}"
            )
        pick = lambda i: ids[i % len(ids)]  # noqa: E731
        await pages.time(f"desk {desk}: ticket search", staff, lambda i: f"/console?q={pick(i)}")
        await pages.time("report page", staff, lambda i: f"/console/r/{pick(i)}")
        await pages.time(
            "report page's poll (version)", staff, lambda i: f"/console/r/{pick(i)}/version"
        )
        await pages.time("county: queue, page 1 (new)", chief, lambda i: "/console")
        south, west, north, east = world.COUNTY_BOX
        bbox = f"{west},{south},{east},{north}"
        await pages.time(
            "county: map data, city-wide, 30 days",
            chief,
            lambda i: f"/console/map/data?bbox={bbox}",
        )
        for browser in (staff, chief):
            await browser.client.aclose()
        return pages.figures
    finally:
        await services.stop()
