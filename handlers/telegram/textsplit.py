"""Telegram's length limits, counted as Telegram counts them, and long texts cut to fit.

Telegram measures a message (4096) and a caption (1024) in UTF-16 code units of the text it
shows: tags do not count, ``&lt;`` counts one, an emoji outside the BMP counts two. A text
over the limit is refused whole ("message is too long"), so the outbox cuts long texts into
several messages: at line ends where it can, else at a space, else between two characters;
never inside a tag or an entity, and a tag open across the cut is closed before it and
reopened after it, so every part is valid HTML on its own.
"""

from __future__ import annotations

import re
import unicodedata

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_TOKEN_RE = re.compile(
    r"<[^>]*>|&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);|.", re.DOTALL | re.IGNORECASE
)
_TAG_NAME_RE = re.compile(r"</?\s*([a-zA-Z][\w-]*)")
_TRIM = " \t\r\n\f\v"


def _units(token: str) -> int:
    """UTF-16 units a token adds to the text Telegram shows."""
    if token.startswith("<") and len(token) > 1:
        return 0
    if token.startswith("&") and len(token) > 1:
        body = token[1:-1].lower()
        if body.startswith("#x"):
            return 2 if int(body[2:], 16) > 0xFFFF else 1
        if body.startswith("#"):
            return 2 if int(body[1:]) > 0xFFFF else 1
        return 1
    return 2 if ord(token) > 0xFFFF else 1


def visible_length(text: str) -> int:
    """The length Telegram checks against its limits, for our HTML texts (trimmed)."""
    shown = [t for t in _TOKEN_RE.findall(text) if _units(t)]
    while shown and shown[-1] in _TRIM:
        shown.pop()
    lead = next((i for i, t in enumerate(shown) if t not in _TRIM), len(shown))
    return sum(_units(t) for t in shown[lead:])


def _tag(token: str) -> tuple[str, bool] | None:
    """(name, is_closing) for a tag token, else None."""
    if not token.startswith("<") or len(token) < 3:
        return None
    match = _TAG_NAME_RE.match(token)
    if match is None:
        return None
    return match.group(1).lower(), token.startswith("</")


class _Part:
    """One message being filled: its tokens, its visible length, the tags open in it."""

    def __init__(self, reopen: list[tuple[str, str]]) -> None:
        self.tokens = [opening for _, opening in reopen]
        self.units = 0
        self.open = list(reopen)

    def add(self, token: str) -> None:
        self.tokens.append(token)
        self.units += _units(token)
        tag = _tag(token)
        if tag is None:
            return
        name, closing = tag
        if not closing:
            self.open.append((name, token))
        elif self.open and self.open[-1][0] == name:
            self.open.pop()

    def close(self) -> str:
        return "".join(self.tokens) + "".join(f"</{name}>" for name, _ in reversed(self.open))


def split_html(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut `text` into parts of at most `limit` units each; a short text is one part."""
    if visible_length(text) <= limit:
        return [text]
    tokens = _TOKEN_RE.findall(text)
    parts: list[str] = []
    part = _Part([])
    i = 0
    while i < len(tokens):
        end = _line_end(tokens, i)
        line_units = sum(_units(t) for t in tokens[i:end])
        if part.units and part.units + line_units > limit:
            parts.append(part.close())  # the line fits a fresh part better
            part = _Part(part.open)
        if line_units <= limit - part.units:
            for token in tokens[i:end]:
                part.add(token)
            i = end
            continue
        # A line longer than a whole message: fill this part, cutting at a space if any.
        cut = _cut(tokens, i, end, limit - part.units)
        for token in tokens[i:cut]:
            part.add(token)
        parts.append(part.close())
        part = _Part(part.open)
        i = cut
    parts.append(part.close())
    return [p for p in parts if visible_length(p)]


def fit(text: str, limit: int = TEXT_LIMIT) -> str:
    """The first part of `text` marked as cut, for a message that can only be edited in place."""
    parts = split_html(text, limit - 1)
    return parts[0] if len(parts) == 1 else parts[0] + "…"


def _line_end(tokens: list[str], start: int) -> int:
    """Index after the next newline token (the newline stays with its line)."""
    for j in range(start, len(tokens)):
        if tokens[j] == "\n":
            return j + 1
    return len(tokens)


def _cut(tokens: list[str], start: int, end: int, room: int) -> int:
    """Where to cut tokens[start:end] so at most `room` units stay: after a space if any."""
    units, last_space, j = 0, None, start
    while j < end and units + _units(tokens[j]) <= room:
        units += _units(tokens[j])
        if tokens[j] in (" ", "\t"):
            last_space = j + 1
        j += 1
    if last_space is not None and last_space > start + (j - start) // 2:
        return last_space
    back = j
    while back > start + 1 and back < end and _joined(tokens, back):
        back -= 1  # keep 👨‍👩‍👧, 👍🏽, 🇨🇳, 1️⃣ and accented letters whole
    return back if back > start + 1 else max(j, start + 1)  # always progress


def _regional(token: str) -> bool:
    return len(token) == 1 and 0x1F1E6 <= ord(token) <= 0x1F1FF


def _joined(tokens: list[str], at: int) -> bool:
    """Whether a cut before tokens[at] would split what shows as one picture or letter.

    A simplified grapheme rule (Unicode UAX #29): no cut before a joiner, a variation selector,
    a mark (combining, enclosing like the keycap of 1️⃣, spacing), a skin tone, an emoji tag
    (🏴 flags of England, Scotland, Wales) or a Hangul vowel/final jamo, nor after a ZWJ or a
    virama; and regional indicators pair up from the start of their run (🇨🇳🇨🇳 cut between
    its halves would show 🇨 🇳🇨 🇳, other flags).
    """
    before, after = tokens[at - 1], tokens[at]
    if len(before) != 1 or len(after) != 1:
        return False
    code = ord(after)
    if before == "\u200d" or after in ("\u200d", "\ufe0f", "\ufe0e"):
        return True
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True
    if 0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF:
        return True
    if unicodedata.category(after) in ("Mn", "Me", "Mc") or unicodedata.combining(before) == 9:
        return True  # a mark belongs to its letter; a virama joins its conjunct (क्ष)
    if _regional(before) and _regional(after):
        run = at - 1
        while run > 0 and _regional(tokens[run - 1]):
            run -= 1
        return (at - run) % 2 == 1
    return False
