"""The page's words, from the project's catalogue (bot/locales), as plain text.

The catalogue's `web.*` and `form.*` texts hold no markup; the page escapes what it shows
(Jinja2 autoescaping on the server, textContent in the script), so the values put into
them are not escaped here.
"""

from __future__ import annotations

from starlette.requests import Request

from bot import texts

LANG_COOKIE = "lang"
SECTIONS = ("web.", "form.")


def plain(lang: str, key: str, /, **values: object) -> str:
    return texts.catalog(lang if lang in texts.LANGUAGES else texts.DEFAULT_LANGUAGE)[key].format(
        **values
    )


def page_texts(lang: str) -> dict[str, str]:
    """The texts the page's script needs, keyed without their section (web.submit -> submit),
    and the categories' statuses for the rider's own reports."""
    found = {}
    for key, value in texts.catalog(lang).items():
        if key.startswith(SECTIONS):
            found[key.split(".", 1)[1]] = value
    return found


def lang_of(request: Request, default: str) -> str:
    """?lang= (a tap on the other language), else the rider's earlier choice, else the
    county's language (Chinese by default)."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in texts.LANGUAGES:
            return candidate
    return default
