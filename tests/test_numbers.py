"""Numbers from outside are ASCII digits in a bounded range; everything else is no number."""

from __future__ import annotations

import pytest

from bot.domain.numbers import MAX_ID, parse_positive_int, parse_ticket_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("#12", 12), ("＃12", 12), (" 7 ", 7), ("0012", 12), (str(MAX_ID), MAX_ID)],
)
def test_ticket_numbers_as_people_type_them(text: str, expected: int) -> None:
    assert parse_ticket_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "#",
        "0",
        "-1",
        "+1",
        "1_000",
        "1.0",
        "²",  # str.isdigit says yes; int() raises
        "١",  # Arabic-Indic one: int() reads it as 1
        "１２",  # full-width digits
        "12 13",
        "##12",
        "9" * 20,  # beyond the database's integers
        str(MAX_ID + 1),
    ],
)
def test_anything_else_is_not_a_ticket(text: str | None) -> None:
    assert parse_ticket_id(text) is None


def test_the_bound_is_inclusive_and_checked_before_converting() -> None:
    assert parse_positive_int("365", 365) == 365
    assert parse_positive_int("366", 365) is None
    assert parse_positive_int("1" * 5000, 365) is None  # never converted at all
