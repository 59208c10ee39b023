"""Structured logs: one JSON object per line, with secrets and phone numbers masked.

Libraries log request URLs that contain the bot token (``/bot<token>/getUpdates``), and at
DEBUG python-telegram-bot logs whole updates, a shared contact's phone number included, and
every call's parameters, a private message with a working console sign-in link (or a rider's
/link code) among them. The
masking therefore sits on the root handler (a filter that rewrites every record before any
formatter sees it, and the JSON formatter once more on the finished line): whoever logged
it, a token or a phone number never reaches the output.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import unicodedata
from datetime import UTC, datetime
from typing import IO, Any

TOKEN_RE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
# A one-time console link (bot/people/signin.py): whoever reads it signs in.
CONSOLE_LINK_RE = re.compile(r"(console/in/)[A-Za-z0-9_-]{20,}")
# A rider's one-time /link code as its message shows it, ABCD-EFGH in the code's alphabet
# (bot/people/linking.py): whoever types it within ten minutes joins their phone to that rider.
LINK_CODE_RE = re.compile(r"(?<![A-Za-z0-9])[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}(?![A-Za-z0-9])")
_SEP = r"[ \-.]?"
# A value named as a phone (Contact.phone_number, or a contact card's TEL lines in its vcard,
# in a dict, JSON or repr), whatever its format.
_PHONE_FIELD_RE = re.compile(
    r"""(?P<key>(?:phone(?:_number)?|vcard)\\?["']?\s*[:=]\s*)(?P<q>\\?["'])(?P<value>.*?)(?P=q)""",
    re.IGNORECASE,
)
# Numbers that look like phones wherever they stand (free text, URLs, reprs).
PHONE_RE = re.compile(
    "|".join(
        (
            # International: "+" or "00", country code, then 6-14 more digits in groups.
            r"(?<![\w+])(?:\+|\b00)\s?\(?\d{1,4}\)?(?:[ \-.]?\(?\d{1,5}\)?){2,6}(?![\d])",
            # Hong Kong and Macau (852/853 + 8 digits), Taiwan mobiles (886 + 9xx xxx xxx).
            rf"(?<!\d)85[23]{_SEP}[2-9]\d{{3}}{_SEP}\d{{4}}(?!\d)",
            rf"(?<!\d)886{_SEP}9\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{3}}(?!\d)",
            # Mainland landlines with their area code: 0355-1234567, (0355) 1234 567.
            r"(?<!\d)\(?0\d{2,3}\)?[ \-]\d{3,4}[ \-]?\d{3,4}(?!\d)",
        )
    )
)
# Mainland mobiles as riders type them: any grouping (139-123-45678, 1391 234 5678), any
# dash or space, and full-width digits (１３９…) from a Chinese input method in full-width mode;
# `_mobile` keeps the candidates whose digits really are a mobile number.
_GAP = r"[\s\-.\u200b\u2010-\u2015\uff0d_/]?"
MOBILE_RE = re.compile(rf"(?<!\d)(?:[+\uff0b]?(?:00)?86{_GAP})?\d(?:{_GAP}\d){{10}}(?!\d)")
_MOBILE_DIGITS_RE = re.compile(r"(?:(?:00)?86)?(1[3-9]\d{9})")
_MIN_DIGITS, _MAX_DIGITS = 7, 15  # E.164 numbers have at most 15 digits
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return "<phone>" if _MIN_DIGITS <= digits <= _MAX_DIGITS else match.group(0)


def _mobile(match: re.Match[str]) -> str:
    digits = "".join(str(unicodedata.decimal(c)) for c in match.group(0) if c.isdecimal())
    return "<phone>" if _MOBILE_DIGITS_RE.fullmatch(digits) else match.group(0)


def redact(text: str) -> str:
    """The text with tokens and phone numbers (any common format) replaced by placeholders."""
    text = TOKEN_RE.sub("<token>", text)
    text = CONSOLE_LINK_RE.sub(r"\1<token>", text)
    text = LINK_CODE_RE.sub("<code>", text)
    text = _PHONE_FIELD_RE.sub(r"\g<key>\g<q><phone>\g<q>", text)
    return PHONE_RE.sub(_phone, MOBILE_RE.sub(_mobile, text))


def _clean(value: Any, key: str = "") -> Any:
    """A log value with its secrets masked; anything named like a phone is masked whole."""
    if ("phone" in key.lower() or key.lower() == "vcard") and value not in (None, ""):
        return "<phone>"
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if redact(str(value)) == str(value) else "<phone>"
    if isinstance(value, dict):
        return {k: _clean(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    return redact(str(value))


class RedactFilter(logging.Filter):
    """Rewrites each record in place: message (with its args), extra fields and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, masked
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, _clean(value, key))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update({k: _clean(v, k) for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(_clean(entry), ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """JSON lines on stderr (or `stream`), masked by a filter on the one root handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL (with the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler
