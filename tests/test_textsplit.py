"""The outbox's splitting, checked against the fake Telegram's own HTML parser."""

from __future__ import annotations

import html
import random

import pytest

from handlers.telegram.textsplit import fit, split_html, visible_length
from tests.fake_telegram import parse_html, utf16_len

TRIM = " \t\r\n\f\v"


def shown(part: str) -> str:
    """What Telegram shows for a part; parse_html raises, as Telegram refuses, on bad HTML."""
    return parse_html(part)[0]


def random_text(rng: random.Random) -> str:
    alphabet = ["a", "字", "😀", " ", "\n", "<", ">", "&", "👨‍👩‍👧", "é", "👍🏽"]
    lines = []
    for _ in range(rng.randint(1, 60)):
        words = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        line = html.escape(words, quote=False)
        kind = rng.random()
        if kind < 0.2:
            line = f"<b>{line}</b>"
        elif kind < 0.3:
            line = f'<a href="https://example.org/?a=1&amp;b=2">{line}</a>'
        elif kind < 0.35:
            line = f"<b>x\n<i>{line}</i>\ny</b>"  # tags open across line ends
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(60))
def test_every_part_is_valid_fits_and_nothing_is_lost(seed: int) -> None:
    rng = random.Random(seed)
    text = random_text(rng)
    limit = rng.choice([60, 1024, 4096])
    parts = split_html(text, limit)
    seen = [shown(p) for p in parts]
    assert all(utf16_len(s.strip(TRIM)) <= limit for s in seen)
    assert [visible_length(p) for p in parts] == [utf16_len(s.strip(TRIM)) for s in seen]
    assert "".join("".join(seen).split()) == "".join(shown(text).split())
    assert (len(parts) > 1) == (visible_length(text) > limit)


def test_emoji_count_two_and_markup_counts_nothing() -> None:
    assert visible_length("😀" * 3) == 6
    assert visible_length("<b>&lt;&amp;</b> 字 &#128512;") == 7
    assert visible_length("  <b> x </b>\n") == 1  # Telegram trims around the text


def test_lines_are_kept_whole_and_tags_reopened() -> None:
    text = "<b>标题\n" + "\n".join(f"第{i}行 " + "🔥" * 10 for i in range(10)) + "</b>"
    parts = split_html(text, 60)
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in parts)
    lines = [line for p in parts for line in shown(p).split("\n") if line]
    assert lines == ["标题", *(f"第{i}行 " + "🔥" * 10 for i in range(10))]


def test_a_cut_inside_a_line_never_splits_an_emoji_sequence() -> None:
    family = "👨‍👩‍👧"  # 8 units, one picture
    parts = split_html(family * 20, 30)
    assert all(shown(p).replace(family, "") == "" for p in parts)


@pytest.mark.parametrize(
    "picture",
    [
        "🇨🇳",
        "1️⃣",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "\u1100\u1161\u11a8",
    ],
)
@pytest.mark.parametrize("lead", range(4))
def test_a_cut_never_splits_a_flag_a_keycap_or_a_syllable(picture: str, lead: int) -> None:
    """🇨🇳🇨🇳 cut between its halves would show other flags (🇳🇨 is New Caledonia's)."""
    parts = split_html("x" * lead + picture * 40, 30)
    assert len(parts) > 1
    assert all(shown(p).lstrip("x").replace(picture, "") == "" for p in parts)


def test_fit_marks_the_cut() -> None:
    assert fit("short", 10) == "short"
    cut = fit("<i>" + "字" * 50 + "</i>", 10)
    assert shown(cut) == "字" * 9 + "…" and utf16_len(shown(cut)) == 10
