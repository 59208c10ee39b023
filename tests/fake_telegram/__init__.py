"""A faithful fake Telegram Bot API for the tests: core, PTB transport, HTTP server, people."""

from .api import DEFAULT_TOKEN, FakeTelegram
from .html import HtmlParseError, parse_html, utf16_len
from .http import FakeTelegramServer
from .params import ApiError
from .players import Person
from .request import FakeRequest
from .state import Call, TgMessage

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "Call",
    "FakeRequest",
    "FakeTelegram",
    "FakeTelegramServer",
    "HtmlParseError",
    "Person",
    "TgMessage",
    "parse_html",
    "utf16_len",
]
