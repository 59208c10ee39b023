"""The queue's live updates: a version the page polls, and fetches the page again when it moves.

The version moves with the county's newest report and event (storage/live.py) and every five
minutes (a report turns overdue with no event). It is keyed with a secret of this process, so
the page learns only that something changed, not how much happens elsewhere in the county;
the page compares what it fetched with what it shows and changes only what differs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from handlers.web.console.sessions import console_of, signed_in
from storage import live

POLL_SECONDS = 8
OVERDUE_EVERY = 300  # seconds: how stale an overdue mark may get with nothing else moving
_KEY = secrets.token_bytes(16)


async def queue_version(request: Request) -> Response:
    """The queue's version (401 once signed out)."""
    who = await signed_in(request)
    if who is None:
        return JSONResponse({"error": "signed_out"}, status_code=401)
    console = console_of(request)
    async with console.db.transaction() as conn:
        newest = await live.mark(conn)
    bucket = int(console.clock.now().timestamp()) // OVERDUE_EVERY
    words = f"{newest[0]}.{newest[1]}.{bucket}".encode()
    found = hmac.new(_KEY, words, hashlib.sha256).hexdigest()[:20]
    return JSONResponse({"version": found}, headers={"cache-control": "no-store"})
