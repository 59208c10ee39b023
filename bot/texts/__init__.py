"""Every word a person reads, in Simplified Chinese and English, looked up by key.

The strings live in ``bot/locales/<lang>.toml``. They are HTML (Telegram's HTML parse
mode); values passed in are escaped unless wrapped in :class:`Html`, so a rider's note can
never break a message or inject a link.
"""

from __future__ import annotations

import html
import string
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).with_name("locales")
DEFAULT_LANGUAGE = "zh"
LANGUAGES = ("zh", "en")


class Html(str):
    """A value that is already safe HTML and must not be escaped again."""

    __slots__ = ()


@cache
def catalog(lang: str) -> dict[str, str]:
    with (LOCALES_DIR / f"{lang}.toml").open("rb") as fh:
        return _flatten(tomllib.load(fh))


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = str(value)
    return out


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def t(lang: str, key: str, /, **values: object) -> Html:
    """The text `key` in `lang`, with values HTML-escaped and filled in.

    The result is HTML, so it can itself be a value of another text without being
    escaped twice.
    """
    template = catalog(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)[key]
    safe = {
        k: v if isinstance(v, Html) else html.escape(str(v), quote=False)
        for k, v in values.items()
    }
    return Html(template.format(**safe))


def pick_language(stored: str | None, telegram_code: str | None, default: str) -> str:
    """The rider's own choice, else their app's language when we have it, else the default."""
    if stored in LANGUAGES:
        return stored
    if telegram_code:
        base = telegram_code.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return default
