"""A photo as a chat channel hands it to the core, before anyone has downloaded it.

Channels (Telegram, the staff console) describe what the person sent and how to fetch it;
the rider's intake and the staff steps decide whether to download and keep it. Kept apart
from both so that neither side imports the other just for this shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


class FetchError(Exception):
    """The chat platform could not hand over a file."""


@dataclass(frozen=True)
class PhotoInput:
    """A photo (or image file) as the rider sent it; `fetch` downloads the bytes."""

    fetch: Callable[[], Awaitable[bytes]]
    size: int | None
    as_file: bool
    mime_type: str | None = None
    caption: str | None = None
    media_group_id: str | None = None
    forwarded: bool = False
