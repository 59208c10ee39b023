"""Both languages say the same things, and people's words cannot break a message."""

from __future__ import annotations

from bot import texts


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    zh, en = texts.catalog("zh"), texts.catalog("en")
    assert set(zh) == set(en)
    for key in zh:
        assert texts.placeholders(zh[key]) == texts.placeholders(en[key]), key


def test_values_are_escaped_unless_marked_safe() -> None:
    out = texts.t("zh", "summary.note", note="<b>消防通道</b> & 堵塞")
    assert out == "备注：&lt;b&gt;消防通道&lt;/b&gt; &amp; 堵塞"
    assert texts.t("en", "card.rider", number=texts.Html("<i>7</i>")).endswith("<i>7</i>")


def test_language_choice_order() -> None:
    assert texts.pick_language("en", "zh-hans", "zh") == "en"
    assert texts.pick_language(None, "en-US", "zh") == "en"
    assert texts.pick_language(None, "ru", "zh") == "zh"
    assert texts.pick_language(None, None, "en") == "en"


def test_a_text_inside_a_text_is_escaped_once() -> None:
    inner = texts.t("zh", "card.status_handler", status="处理中", handler="Tom & <b>")
    outer = texts.t("zh", "card.status", status=inner)
    assert outer == "状态：处理中（Tom &amp; &lt;b&gt;）"
