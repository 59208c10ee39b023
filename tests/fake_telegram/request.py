"""In-process transport: PTB's Bot talks to FakeTelegram without sockets.

PTB's BaseRequest does the status-code-to-exception mapping, so this class only turns the URL and
RequestData into a core call and the core's answer into (status, JSON bytes), like HTTPXRequest.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from .api import FakeTelegram
from .faults import FrontendError, ResponseLost
from .state import split_token


class FakeRequest(BaseRequest):
    """A telegram.request.BaseRequest answering from a FakeTelegram."""

    __slots__ = ("_fake", "_read_timeout")

    def __init__(self, fake: FakeTelegram, *, read_timeout: float | None = 5.0) -> None:
        self._fake = fake
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout; PTB adds getUpdates' long-poll timeout to it."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """End long polls so no worker thread outlives the event loop."""
        self._fake.abort_long_polls()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Route an API call or a file download to the fake."""
        token, rest = split_token(urllib.parse.urlsplit(url).path)
        if method == "GET":
            return self._fake.file_request(token, rest)
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes, str]] = {}
        if request_data is not None and request_data.contains_files:
            for name, (filename, content, mimetype) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                files[name] = (filename, bytes(data), mimetype)
        try:
            status, body = await self._call(token, rest, params, files)
        except FrontendError as exc:
            return exc.status, exc.body
        except ResponseLost:
            raise TimedOut from None  # what HTTPXRequest raises when the answer never comes
        return status, json.dumps(body).encode()

    async def _call(
        self,
        token: str | None,
        rest: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
    ) -> tuple[int, dict[str, Any]]:
        if rest.lower() == "getupdates" and params.get("timeout"):
            # Long polling waits in the core; keep the event loop free meanwhile.
            task = asyncio.ensure_future(
                asyncio.to_thread(self._fake.api_request, token, rest, params, files)
            )
            try:
                status, body = await asyncio.shield(task)
            except asyncio.CancelledError:
                # The thread may not have started waiting yet when first told: tell it
                # until it ends (once was not enough: a closing loop waited forever).
                while not task.done():
                    self._fake.abort_long_polls()
                    await asyncio.wait([task], timeout=0.05)
                raise
        else:
            status, body = self._fake.api_request(token, rest, params, files)
        return status, body
