"""A rider's phone, for HTTP tests of the web page: a cookie jar, the page's form token, and
the form the page's script would post (httpx over ASGITransport: no socket, no browser)."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.domain.geo import LatLon
from tests.conftest import Stage
from tests.images import jpeg

BASE = "http://127.0.0.1:8080"


async def card_recorded(stage: Stage, ticket: int = 1, timeout: float = 10.0) -> None:
    """Wait until the card posted beside the web request is known as the report's card (a
    press on it before that is refused as a stale button, as on Telegram)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await stage.services.dispatcher.card_message(ticket) is None:
        if loop.time() > deadline:
            raise AssertionError(f"the card of #{ticket} was never recorded")
        await asyncio.sleep(0.02)


def new_key() -> str:
    return secrets.token_urlsafe(18)


def page_config(html: str) -> dict[str, Any]:
    """The JSON the page hands its script."""
    found = re.search(r'<script id="config" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page carries no config"
    return json.loads(found.group(1))


@dataclass
class WebRider:
    """One phone: its own cookies; `open` loads the page as a browser would."""

    app: Starlette
    csrf: str = ""
    client: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)

    async def open(self, path: str = "/") -> httpx.Response:
        response = await self.client.get(path)
        if path.split("?", maxsplit=1)[0] == "/" and response.status_code == 200:
            self.csrf = page_config(response.text)["csrf"]
        return response

    async def submit(
        self,
        *,
        point: LatLon | None = None,
        category: str = "order",
        photos: list[tuple[bytes, str]] | None = None,
        key: str | None = None,
        note: str = "",
        csrf: str | None = None,
        source: str = "gps",
        lang: str = "zh",
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST the form; photos are (bytes, content type), one ordinary JPEG by default."""
        data = {
            "csrf": self.csrf if csrf is None else csrf,
            "key": key or new_key(),
            "category": category,
            "source": source,
            "note": note,
            "lang": lang,
        }
        if point is not None:
            data.update(lat=f"{point.lat:.7f}", lon=f"{point.lon:.7f}")
        data.update(extra or {})
        files = [
            ("photo", (f"photo{i}.jpg", body, kind))
            for i, (body, kind) in enumerate(photos or [(jpeg(), "image/jpeg")])
        ]
        return await self.client.post("/reports", data=data, files=files)

    async def close(self) -> None:
        await self.client.aclose()
