"""The digest chart renders PNGs of a known size, quietly, with or without a CJK font."""

from __future__ import annotations

import io
import logging
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from bot.reporting import chart
from bot.reporting.chart import ChartLabels, CommunityBar, TrendPoint

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ChartLabels(
    closure="办结率",
    on_time="按期办结率",
    by_community="各社区",
    trend="近几周趋势",
    no_data="无应结案",
)
TITLE = "随手周报 2026-W47"


def communities(n: int) -> list[CommunityBar]:
    return [
        CommunityBar(
            f"东关社区{i}",
            None if i % 5 == 0 else (i * 0.09) % 1.0,
            None if i % 4 == 0 else (i * 0.07) % 1.0,
        )
        for i in range(n)
    ]


def weeks(n: int) -> list[TrendPoint]:
    return [
        TrendPoint(f"2026-W{35 + i:02d}", None if i == 2 else 0.6 + i / 50, 0.4 + i / 60)
        for i in range(n)
    ]


@pytest.fixture(autouse=True)
def fresh_font_cache() -> Iterator[None]:
    chart.cjk_font.cache_clear()
    yield
    chart.cjk_font.cache_clear()


def draw(fig: Figure) -> None:
    """Lay the figure out (tick labels are made at draw time), without its tofu warnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        fig.canvas.draw()


def render(bars: list[CommunityBar], trend: list[TrendPoint]) -> bytes:
    return chart.render_digest_chart(bars, trend, title=TITLE, labels=LABELS)


@pytest.mark.parametrize(
    ("n_bars", "n_weeks"), [(0, 0), (0, 5), (1, 0), (1, 1), (3, 8), (12, 12), (30, 52)]
)
def test_renders_a_png_of_the_expected_size(n_bars: int, n_weeks: int) -> None:
    png = render(communities(n_bars), weeks(n_weeks))

    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < 200_000
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == chart.chart_size_px(n_bars)
    assert chart.chart_size_px(n_bars)[0] == 1100


def test_more_communities_make_a_taller_chart() -> None:
    assert chart.chart_size_px(30)[1] > chart.chart_size_px(12)[1] >= chart.chart_size_px(0)[1]


def test_none_everywhere_still_renders() -> None:
    bars = [CommunityBar("西街社区", None, None), CommunityBar("南关社区", 0.5, None)]
    trend = [TrendPoint("2026-W46", None, None), TrendPoint("2026-W47", None, None)]

    png = render(bars, trend)

    with Image.open(io.BytesIO(png)) as image:
        assert image.size == chart.chart_size_px(2)


def test_the_no_data_label_marks_communities_with_nothing_due() -> None:
    bars = [CommunityBar("西街社区", None, None), CommunityBar("南关社区", 0.5, None)]
    fig = chart.build_digest_figure(bars, weeks(3), title=TITLE, labels=LABELS)
    texts = [t.get_text() for t in fig.findobj(Text)]

    assert texts.count(LABELS.no_data) == 2  # once for 西街 (both empty), once for 南关's on-time
    assert "50%" in texts


def test_rates_outside_0_to_1_are_clamped_not_fatal() -> None:
    png = render([CommunityBar("东关社区", 1.7, -0.2)], [TrendPoint("2026-W47", float("nan"), 2)])
    assert png.startswith(PNG_SIGNATURE)


def test_same_input_gives_identical_bytes() -> None:
    assert render(communities(5), weeks(6)) == render(communities(5), weeks(6))


def test_png_carries_no_software_or_date_metadata() -> None:
    with Image.open(io.BytesIO(render(communities(2), weeks(2)))) as image:
        assert not {"Software", "Creation Time", "date:create"} & set(image.info)


def test_no_warnings_escape_even_with_chinese_and_no_cjk_font(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(chart, "cjk_font", lambda: None)
    caplog.set_level(logging.DEBUG, logger="matplotlib")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render(communities(12), weeks(12))

    assert [str(w.message) for w in caught] == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_missing_glyph_warnings_really_are_what_gets_suppressed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the local suppression, the same chart does warn: the test above is not vacuous.
    monkeypatch.setattr(chart, "cjk_font", lambda: None)
    fig = chart.build_digest_figure(communities(2), [], title=TITLE, labels=LABELS)
    with pytest.warns(UserWarning, match="missing from font"):
        fig.canvas.draw()


def test_the_suppression_is_undone_after_rendering(recwarn: pytest.WarningsRecorder) -> None:
    filters = list(warnings.filters)
    level = logging.getLogger("matplotlib.font_manager").level

    render(communities(1), weeks(1))

    assert warnings.filters == filters
    assert logging.getLogger("matplotlib.font_manager").level == level
    assert len(recwarn) == 0


def test_cjk_font_is_none_when_font_manager_finds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def find_nothing(prop: font_manager.FontProperties, **kwargs: object) -> str:
        assert kwargs.get("fallback_to_default") is False
        asked.append(prop.get_family()[0])
        raise ValueError("not found")

    monkeypatch.setattr(font_manager, "findfont", find_nothing)
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda: ["/fonts/DejaVuSans.ttf"])

    assert chart.cjk_font() is None
    # Asked once from matplotlib's cached list, once more after looking on disk.
    assert asked == list(chart.CJK_FAMILIES) * 2
    assert chart.font_families() == [chart.LATIN_FAMILY]
    assert render(communities(3), weeks(3)).startswith(PNG_SIGNATURE)


def test_cjk_font_returns_the_first_family_found_and_caches_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def find_wenquanyi(prop: font_manager.FontProperties, **kwargs: object) -> str:
        family = prop.get_family()[0]
        calls.append(family)
        if family == "WenQuanYi Zen Hei":
            return "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
        raise ValueError(family)

    monkeypatch.setattr(font_manager, "findfont", find_wenquanyi)

    assert chart.cjk_font() == "WenQuanYi Zen Hei"
    asked = len(calls)
    assert chart.cjk_font() == "WenQuanYi Zen Hei"
    assert len(calls) == asked  # cached


def test_cjk_font_on_this_host_can_draw_chinese() -> None:
    family = chart.cjk_font()
    if family is None:
        pytest.skip("no CJK font installed here (Debian: fonts-noto-cjk)")
    path = font_manager.findfont(font_manager.FontProperties(family=family))
    font = font_manager.get_font(path)
    assert all(font.get_char_index(ord(c)) for c in "东关社区办结率")


def test_every_text_uses_the_reported_font(monkeypatch: pytest.MonkeyPatch) -> None:
    # DejaVu Serif ships with matplotlib and is not the default, so seeing it is meaningful.
    monkeypatch.setattr(chart, "cjk_font", lambda: "DejaVu Serif")
    fig = chart.build_digest_figure(communities(4), weeks(8), title=TITLE, labels=LABELS)
    draw(fig)

    texts = [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    shown = {t.get_text() for t in texts}
    assert {TITLE, LABELS.by_community, LABELS.trend, LABELS.closure, LABELS.on_time} <= shown
    assert {"东关社区1", "2026-W35", "50%", LABELS.no_data} <= shown
    for text in texts:
        assert text.get_fontfamily()[0] == "DejaVu Serif", text.get_text()
        used = Path(font_manager.findfont(text.get_fontproperties()))
        assert used.name.startswith("DejaVuSerif"), (text.get_text(), used)


def test_without_a_cjk_font_texts_use_the_bundled_latin_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chart, "cjk_font", lambda: None)
    fig = chart.build_digest_figure(communities(2), weeks(2), title=TITLE, labels=LABELS)
    draw(fig)
    for text in fig.findobj(Text):
        if text.get_text():
            assert text.get_fontfamily() == [chart.LATIN_FAMILY], text.get_text()


def test_renders_concurrently_in_worker_threads() -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(render(communities(6), weeks(6)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1


def test_a_cjk_font_installed_after_matplotlib_cached_its_list_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    added: list[str] = []

    def findfont(prop: font_manager.FontProperties, **kwargs: object) -> str:
        if added and prop.get_family()[0] == "Noto Sans CJK SC":
            return added[0]
        raise ValueError("not found")

    monkeypatch.setattr(font_manager, "findfont", findfont)
    monkeypatch.setattr(
        font_manager,
        "findSystemFonts",
        lambda: ["/usr/share/fonts/DejaVuSans.ttf", "/usr/share/fonts/NotoSansCJK-Regular.ttc"],
    )
    monkeypatch.setattr(font_manager.fontManager, "addfont", added.append)
    assert chart.cjk_font() == "Noto Sans CJK SC"
    assert added == ["/usr/share/fonts/NotoSansCJK-Regular.ttc"]


def test_a_county_of_many_communities_charts_those_needing_attention() -> None:
    """500 communities: the chart stays within Telegram's photo limits and shows the worst."""
    import dataclasses
    import tomllib

    from bot.config import parse_config
    from bot.reporting.chart import chart_size_px
    from bot.reporting.digest_text import CHART_BARS, chart_bars
    from bot.reporting.figures import DeskFigures
    from bot.reporting.metrics import Tally
    from tests.conftest import ROOT

    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    config = parse_config(raw, base_dir=ROOT)
    template = config.communities[0]
    many = tuple(dataclasses.replace(template, id=f"c{i}", name=f"社区{i}") for i in range(500))
    config = dataclasses.replace(config, communities=many)
    # Community i closed i % 100 of 100 due; c7 had nothing due at all.
    per_desk = {
        f"c{i}": Tally(closed=i % 100, overdue_open=100 - i % 100) for i in range(500) if i != 7
    }
    bars, shown_all = chart_bars(config, DeskFigures(per_desk, Tally.total(per_desk.values())))
    assert not shown_all and len(bars) == CHART_BARS
    # Five communities at each of 0 %, 1 %, ...: the forty lowest; c7 (nothing due) is not.
    assert {b.closure_rate for b in bars} == {k / 100 for k in range(9)}
    assert "社区7" not in {b.name for b in bars}
    assert sum(chart_size_px(len(bars))) <= 10_000
    assert [b.name for b in bars] == sorted((b.name for b in bars), key=lambda n: int(n[2:]))
