"""Telegram's HTML parse mode and text post-processing, as the Bot API server applies them.

The parser follows tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp) step by step, so the
error texts and byte offsets match what a bot sees from api.telegram.org. One deliberate
deviation is opt-out: in ``strict`` mode a bare ``&`` that starts no entity is refused, while
Telegram keeps it literally. A bot that forgets ``html.escape`` on user text passes "A&B" fine but
silently turns "&lt;" into "<", so strict mode is the safer default for a test-suite.
"""

from __future__ import annotations

import re
from typing import Any

from .params import words

_ALLOWED_TAGS = words(
    "a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote"
)
_SPACES = b" \t\r\n\0\v\f"
_TRIM = " \t\r\n\f\v"
_HEX = "0123456789abcdefABCDEF"
_NAME_TOKEN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")

# tdlib's sort priority for entities that start at the same offset with the same length.
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


class HtmlParseError(ValueError):
    """The text Telegram puts after "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The substring an entity covers."""
    raw = text.encode("utf-16-le", "surrogatepass")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le", "surrogatepass")


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order entities as Telegram returns them: by offset, longer first, then by kind."""
    return sorted(
        entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50))
    )


def _at(data: bytes, i: int) -> int:
    # tdlib reads a NUL-terminated C string; past the end there is always a 0.
    return data[i] if i < len(data) else 0


def _is_space(c: int) -> bool:
    return c in _SPACES


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Decode ``&...`` at ``pos``; returns (code point or 0, position after it)."""
    end = pos + 1
    res = 0
    if _at(data, pos + 1) == ord("#"):
        end += 1
        if _at(data, pos + 2) == ord("x"):
            end += 1
            while _at(data, end) and chr(_at(data, end)) in _HEX:
                res = res * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while 48 <= _at(data, end) <= 57:
                res = res * 10 + data[end] - 48
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while 65 <= _at(data, end) <= 90 or 97 <= _at(data, end) <= 122:
            end += 1
        res = {b"lt": 60, b"gt": 62, b"amp": 38, b"quot": 34}.get(data[pos + 1 : end], 0)
        if not res:
            return 0, pos
    if _at(data, end) == ord(";"):
        end += 1
    return res, end


def _utf8_char(code: int) -> bytes:
    return chr(code).encode("utf-8", "surrogatepass")


def _check_link(url: str) -> str | None:
    """A loose stand-in for tdlib's link check: keep real-looking links, drop junk."""
    if re.match(r"^(https?|tg|ton)://\S+$", url, re.IGNORECASE):
        return url
    if re.match(r"^[\w-]+(\.[\w-]+)+(/\S*)?$", url):
        return "http://" + url
    return None


def parse_html(html: str, *, strict: bool = True, users: dict[int, dict[str, Any]] | None = None):
    """Parse Telegram HTML into (plain text, entities); raises HtmlParseError like tdlib."""
    data = html.encode("utf-8", "surrogatepass")
    out = bytearray()
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf16 offset, byte offset in out
    utf16 = 0
    i = 0
    n = len(data)
    while i < n:
        c = data[i]
        if c == ord("&"):
            code, end = _decode_entity(data, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                out += _utf8_char(code)
                i = end
                continue
            if strict:
                raise HtmlParseError(
                    f'Unescaped "&" at byte offset {i}; write it as "&amp;" '
                    "(FakeTelegram strict_html; Telegram itself would keep it literally)"
                )
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue
        begin = i
        i += 1
        if _at(data, i) != ord("/"):
            while not _is_space(_at(data, i)) and _at(data, i) != ord(">"):
                i += 1
            if _at(data, i) == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _ALLOWED_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while _at(data, i) != ord(">"):
                while _at(data, i) and _is_space(_at(data, i)):
                    i += 1
                if _at(data, i) == ord(">"):
                    break
                attr_begin = i
                while not _is_space(_at(data, i)) and chr(_at(data, i)) not in "=>/\"'":
                    i += 1
                attr = data[attr_begin:i].decode("utf-8", "replace")
                if not attr:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while _at(data, i) and _is_space(_at(data, i)):
                    i += 1
                if _at(data, i) != ord("="):
                    if _at(data, i) == 0:
                        raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                    continue
                i += 1
                while _at(data, i) and _is_space(_at(data, i)):
                    i += 1
                if _at(data, i) == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                value = bytearray()
                if chr(_at(data, i)) not in "'\"":
                    token_begin = i
                    while _at(data, i) and chr(_at(data, i)) in _NAME_TOKEN:
                        i += 1
                    value += data[token_begin:i].lower()
                    if not _is_space(_at(data, i)) and _at(data, i) != ord(">"):
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = data[i]
                    i += 1
                    while _at(data, i) != quote and _at(data, i):
                        if data[i] == ord("&"):
                            code, end = _decode_entity(data, i)
                            if code:
                                value += _utf8_char(code)
                                i = end
                                continue
                        value.append(data[i])
                        i += 1
                    if _at(data, i) == quote:
                        i += 1
                if _at(data, i) == 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
                val = value.decode("utf-8", "replace")
                if (tag == "a" and attr == "href") or (tag == "tg-emoji" and attr == "emoji-id"):
                    argument = val
                elif tag == "code" and attr == "class" and val.startswith("language-"):
                    argument = val[9:]
                elif tag == "span" and attr == "class" and val.startswith("tg-"):
                    argument = val[3:]
                elif tag == "blockquote" and attr == "expandable":
                    argument = "1"
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append((tag, argument, utf16, len(out)))
            i += 1
            continue
        # An end tag.
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
        while not _is_space(_at(data, i)) and _at(data, i) != ord(">"):
            i += 1
        end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
        while _at(data, i) and _is_space(_at(data, i)):
            i += 1
        if _at(data, i) != ord(">"):
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, start, start_byte = stack.pop()
        if end_tag and end_tag != tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        i += 1
        if utf16 > start:
            _close(tag, argument, start, utf16 - start, out[start_byte:], entities, users or {})
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError:
        raise HtmlParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for "
            "unmatched surrogate code units"
        ) from None
    for entity in entities:
        entity.pop("_code_language", None)
    return text, sort_entities(entities)


def _close(
    tag: str,
    argument: str,
    offset: int,
    length: int,
    inner: bytes | bytearray,
    entities: list[dict[str, Any]],
    users: dict[int, dict[str, Any]],
) -> None:
    """Turn a closed tag into an entity, as the tail of tdlib's parse_html does."""
    simple = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "u": "underline",
        "ins": "underline",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
    }
    base = {"offset": offset, "length": length}
    if tag in simple:
        entities.append({**base, "type": simple[tag]})
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        entities.append({**base, "type": "custom_emoji", "custom_emoji_id": argument})
    elif tag == "blockquote":
        kind = "expandable_blockquote" if argument else "blockquote"
        entities.append({**base, "type": kind})
    elif tag == "a":
        url = argument or bytes(inner).decode("utf-8", "replace")
        mention = re.match(r"^tg://user\?id=(\d+)$", url)
        if mention:
            user = users.get(int(mention.group(1)))
            if user is not None:
                entities.append({**base, "type": "text_mention", "user": user})
            return
        checked = _check_link(url)
        if checked:
            entities.append({**base, "type": "text_link", "url": checked})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "code"
            and (last["offset"], last["length"]) == (offset, length)
            and last.get("_code_language")
        ):
            last["type"] = "pre"
            last["language"] = last.pop("_code_language")
        else:
            entities.append({**base, "type": "pre"})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last
            and last["type"] == "pre"
            and (last["offset"], last["length"]) == (offset, length)
            and argument
        ):
            last["language"] = argument
        else:
            entity = {**base, "type": "code"}
            if argument:
                entity["_code_language"] = argument
            entities.append(entity)


_COMMAND_RE = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_MENTION_RE = re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w*[^\W\d_]\w*(?![\w#])")
_URL_RE = re.compile(r"(?<![\w@/])(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram finds by itself: bot commands, mentions, hashtags and plain URLs."""
    found: list[dict[str, Any]] = []
    for kind, regex in (
        ("bot_command", _COMMAND_RE),
        ("mention", _MENTION_RE),
        ("hashtag", _HASHTAG_RE),
        ("url", _URL_RE),
    ):
        for m in regex.finditer(text):
            found.append(
                {
                    "offset": utf16_len(text[: m.start()]),
                    "length": utf16_len(m.group(0)),
                    "type": kind,
                }
            )
    return found


def finish_text(
    text: str, entities: list[dict[str, Any]], *, detect: bool = True
) -> tuple[str, list[dict[str, Any]]]:
    """Trim whitespace around the text and add detected entities, as Telegram stores it."""
    stripped_left = text.lstrip(_TRIM)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_TRIM)
    size = utf16_len(result)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    if detect:
        blocked = [
            (e["offset"], e["offset"] + e["length"])
            for e in kept
            if e["type"] in ("code", "pre", "text_link", "text_mention", "custom_emoji")
        ]
        for entity in detect_entities(result):
            lo, hi = entity["offset"], entity["offset"] + entity["length"]
            if not any(lo < b_hi and b_lo < hi for b_lo, b_hi in blocked):
                kept.append(entity)
    return result, sort_entities(kept)
