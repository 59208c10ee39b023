"""Request parameters as Telegram reads them, and reply markup validation.

Parameters arrive typed (in-process, JSON bodies) or as strings (query strings, form and
multipart bodies, where nested objects are JSON text). Telegram accepts both, so every read goes
through a typed accessor here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


def words(text: str) -> frozenset[str]:
    """A set of names written as one readable string."""
    return frozenset(text.split())


_JSON_PARAMS = words(
    "reply_markup reply_parameters entities caption_entities media commands scope "
    "allowed_updates link_preview_options"
)
_INT_PARAMS = words(
    "message_id message_thread_id from_chat_id user_id offset limit timeout reply_to_message_id "
    "cache_time live_period heading proximity_alert_radius icon_color video_start_timestamp"
)
_FLOAT_PARAMS = frozenset(["latitude", "longitude", "horizontal_accuracy"])
_BOOL_PARAMS = words(
    "disable_notification protect_content allow_sending_without_reply show_alert "
    "drop_pending_updates disable_web_page_preview has_spoiler show_caption_above_media "
    "disable_content_type_detection allow_paid_broadcast remove_caption"
)
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API failure: becomes {"ok": false, "error_code": ..., "description": ...}."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram answers with."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad(description: str) -> ApiError:
    """400 Bad Request with Telegram's prefix."""
    return ApiError(400, f"Bad Request: {description}")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode string-encoded values by name, so recorded calls look the same on every path."""
    return {key: _decode(key, value) for key, value in raw.items()}


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if key in _JSON_PARAMS:
            return json.loads(value)
        if key in _INT_PARAMS or key == "chat_id":
            as_int = _as_int(value)
            return value if as_int is None else as_int
        if key in _FLOAT_PARAMS:
            return float(value)
    except ValueError:
        return value
    if key in _BOOL_PARAMS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


class Params:
    """Typed read access to one request's parameters."""

    def __init__(self, raw: dict[str, Any]):
        self.raw = {k: v for k, v in raw.items() if v is not None}

    def has(self, name: str) -> bool:
        """Whether the parameter was sent at all."""
        return name in self.raw

    def str(self, name: str, default: str | None = None) -> str | None:
        """A string parameter; numbers are accepted as their text, as Telegram does."""
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            raise bad(f'field "{name}" must be of type String')
        return str(value)

    def int(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter."""
        value = self.raw.get(name)
        if value is None:
            return default
        as_int = _as_int(value)
        if as_int is None:
            raise bad(f'field "{name}" must be of type Integer')
        return as_int

    def float(self, name: str, default: float | None = None) -> float | None:
        """A float parameter."""
        value = self.raw.get(name)
        if value is None:
            return default
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            raise bad(f'field "{name}" must be of type Float') from None

    def bool(self, name: str, default: bool = False) -> bool:
        """A boolean parameter ("true"/"1" count as true, as in form encoding)."""
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def json(self, name: str, default: Any = None) -> Any:
        """A JSON-serialised parameter, decoded."""
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """A chat identifier: an integer or "@username"."""
        value = self.raw.get(name)
        if value is None or value == "":
            raise bad(f"{name} is empty")
        as_int = _as_int(value)
        if as_int is not None:
            return as_int
        if isinstance(value, str):
            return value.strip()
        raise bad("chat not found")


@dataclass
class Markup:
    """A parsed reply_markup: what goes into the Message, and what the client shows."""

    inline: dict[str, Any] | None = None
    keyboard: dict[str, Any] | None = None
    remove_keyboard: bool = False
    force_reply: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def parse_markup(value: Any, *, inline_only: bool = False) -> Markup | None:
    """Validate a reply_markup the way the Bot API does before sending."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad("can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise bad("object expected as reply markup")
    if "inline_keyboard" in value:
        return Markup(
            inline={"inline_keyboard": _inline_rows(value["inline_keyboard"])}, raw=value
        )
    if inline_only:
        raise bad("inline keyboard expected")
    if "keyboard" in value:
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
        buttons = []
        for row in rows:
            parsed_row = []
            for raw_button in row:
                button = {"text": raw_button} if isinstance(raw_button, str) else raw_button
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad('can\'t parse keyboard button: Field "text" must be of type String')
                parsed_row.append(button)
            buttons.append(parsed_row)
        keyboard = {**value, "keyboard": buttons}
        return Markup(keyboard=keyboard, raw=value)
    if value.get("remove_keyboard") in (True, "true"):
        return Markup(remove_keyboard=True, raw=value)
    if value.get("force_reply") in (True, "true"):
        return Markup(force_reply=value, raw=value)
    raise bad("can't parse reply keyboard markup JSON object")


def _inline_rows(rows: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    result = []
    for row in rows:
        parsed = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            actions = [a for a in INLINE_ACTIONS if a in button]
            if not actions:
                raise bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                    "keyboard"
                )
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= 64
            ):
                raise bad("BUTTON_DATA_INVALID")
            url = button.get("url")
            if "url" in button and not (
                isinstance(url, str) and re.match(r"^(https?|tg)://\S+$", url, re.IGNORECASE)
            ):
                raise bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            parsed.append(button)
        result.append(parsed)
    return result
