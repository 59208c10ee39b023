"""Plain records the fake keeps: messages, chats, calls, and URL token parsing."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from .params import ApiError, words

_TOKEN_RE = re.compile(r"(\d+:[A-Za-z0-9_-]+)")
DEFAULT_UPDATE_TYPES = words(
    "message edited_message channel_post edited_channel_post business_connection "
    "business_message edited_business_message deleted_business_messages inline_query "
    "chosen_inline_result callback_query shipping_query pre_checkout_query purchased_paid_media "
    "poll poll_answer my_chat_member chat_join_request chat_boost removed_chat_boost"
)


class TgMessage(dict):
    """A message in the transcript: what a person sees in the chat, plus what only the fake knows.

    The keys are the Bot API JSON, with one deliberate addition: a message sent with a reply
    keyboard, ReplyKeyboardRemove or ForceReply shows that markup under ``reply_markup`` here,
    because the person sees it. Telegram never returns non-inline markup to the bot, and the
    fake does not either (API results and Updates are built from the faithful JSON).

    Attributes: ``html`` / ``caption_html`` (the raw HTML the bot sent with parse_mode HTML),
    ``reply_keyboard`` (the non-inline markup again), ``deleted`` and ``thread_id``.
    """

    html: str | None = None
    caption_html: str | None = None
    reply_keyboard: dict[str, Any] | None = None
    deleted: bool = False
    thread_id: int | None = None

    @property
    def buttons(self) -> list[str]:
        """Texts of the inline buttons currently attached."""
        rows = self.get("reply_markup", {}).get("inline_keyboard", [])
        return [b["text"] for row in rows for b in row]


@dataclass
class Call:
    """One request the bot made, with params decoded and the answer it got."""

    method: str
    params: dict[str, Any]
    files: list[str]
    status: int = 0
    response: dict[str, Any] | None = None
    at: float = 0.0  # time.monotonic() when Telegram handled it
    lost: bool = False  # Telegram applied it, but its answer never reached the caller


@dataclass
class _Msg:
    json: dict[str, Any]
    html: str | None = None
    caption_html: str | None = None
    reply_keyboard: dict[str, Any] | None = None
    deleted: bool = False
    thread_id: int | None = None


@dataclass
class _Chat:
    json: dict[str, Any]
    members: dict[int, str] = field(default_factory=dict)
    restrictions: dict[int, dict[str, Any]] = field(default_factory=dict)  # "restricted" ones
    bot_status: str = "member"
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, _Msg] = field(default_factory=dict)
    next_id: int = 1
    blocked: bool = False
    started: bool = False
    reply_keyboard: dict[str, Any] | None = None
    migrated_to: int | None = None  # a basic group upgraded to this supergroup

    @property
    def id(self) -> int:
        return self.json["id"]

    @property
    def type(self) -> str:
        return self.json["type"]

    @property
    def is_forum(self) -> bool:
        return bool(self.json.get("is_forum"))


@dataclass
class _Failure:
    method: str
    error: ApiError
    times: int
    chat_id: int | None = None  # only calls to this chat


@dataclass
class _Poll:
    state: str = "waiting"


def split_token(path: str) -> tuple[str | None, str]:
    """Find the token segment of a URL path ("/bot<token>/<rest>") wherever base_url puts it."""
    # PTB percent-quotes download URLs whole, so the token's ":" may arrive as "%3A".
    segments = [urllib.parse.unquote(s) for s in path.split("/")]
    for i, segment in enumerate(segments):
        match = _TOKEN_RE.search(segment)
        if match:
            return match.group(1), "/".join(segments[i + 1 :])
    return None, segments[-1]
