"""Numbers people type and buttons carry: ASCII digits in a bounded range, nothing else.

``str.isdigit`` accepts "²" (which ``int`` then rejects with an exception) and "١" (an
Arabic-Indic one, which ``int`` reads as 1), and ``int`` takes "+1", " 1" and "1_0".
An id larger than the database's integers crashes the query. So every number that
comes from outside goes through here, and anything unusual is simply not a number.
"""

from __future__ import annotations

MAX_ID = 2_147_483_647  # ids of reports, drafts and riders: far beyond any county's needs
_ASCII_DIGITS = frozenset("0123456789")
_TICKET_MARKS = "#＃"  # "#12" and the full-width "＃12" a Chinese keyboard types


def parse_positive_int(text: str | None, maximum: int) -> int | None:
    """`text` as an integer in 1..maximum when it is ASCII digits only; else None."""
    if not text or len(text) > len(str(maximum)) or not set(text) <= _ASCII_DIGITS:
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


def parse_ticket_id(text: str | None) -> int | None:
    """A ticket number as people type it ("12", "#12", " ＃12 "); anything else is None."""
    if text is None:
        return None
    number = text.strip()
    if number[:1] in _TICKET_MARKS:
        number = number[1:]
    return parse_positive_int(number, MAX_ID)
