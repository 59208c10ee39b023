"""A staff member's browser, for HTTP tests of the console: cookies, the page's CSRF token,
signing in from a one-time link as a person would (GET shows the button, POST uses it)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from bot.people.signin import Link
from tests.conftest import Stage

BASE = "http://127.0.0.1:8080"


def csrf_in(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page carries no form token"
    return found.group(1)


def error_of(page: str) -> str:
    found = re.search(r'<p id="error" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def notice_of(page: str) -> str:
    found = re.search(r'<p id="notice" role="status">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def path_of(url: str) -> str:
    return url.removeprefix(BASE).removeprefix("http://127.0.0.1:8080")


async def invite(stage: Stage, name: str = "李四", desk: str = "xiguan") -> Link:
    return await stage.services.staff_links.invite(name, desk)


@dataclass
class StaffBrowser:
    app: Starlette
    client: httpx.AsyncClient = field(init=False)
    csrf: str = ""

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)

    async def sign_in(self, link: Link | str) -> httpx.Response:
        """Open the link, press Sign in; the answer after the redirect (the queue)."""
        path = path_of(link.url if isinstance(link, Link) else link)
        shown = await self.client.get(path)
        assert shown.status_code == 200, error_of(shown.text)
        answer = await self.client.post(path, data={"csrf": csrf_in(shown.text)})
        assert answer.status_code == 303, error_of(answer.text)
        return await self.open(answer.headers["location"])

    async def open(self, path: str) -> httpx.Response:
        answer = await self.client.get(path_of(path))
        if answer.status_code == 200 and 'name="csrf"' in answer.text:
            self.csrf = csrf_in(answer.text)
        return answer

    async def act(self, ticket: int, action: str, **fields: Any) -> httpx.Response:
        """Post an action's form as the report's page would (with its token)."""
        data = {"csrf": self.csrf, **fields}
        files = data.pop("files", None)
        return await self.client.post(f"/console/r/{ticket}/{action}", data=data, files=files)

    async def close(self) -> None:
        await self.client.aclose()
