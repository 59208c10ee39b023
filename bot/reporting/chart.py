"""The weekly digest chart: closure rates per community beside the trend, as PNG bytes.

Pure and thread-safe enough for a worker thread: it builds a `matplotlib.figure.Figure`
on the Agg canvas (no pyplot, no global rcParams) and gives every text artist its font
explicitly. Chinese needs a CJK font on the host (Debian: ``apt install fonts-noto-cjk``);
without one the chart still renders, Chinese shows as boxes, and the "glyph missing"
warnings are swallowed here so they do not flood the log.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

CJK_FILE_MARKS = ("cjk", "wqy", "sourcehansans", "droidsansfallback", "uming")
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",  # Debian's .ttc exposes its first face, JP, which has hanzi too
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)
LATIN_FAMILY = "DejaVu Sans"  # bundled with matplotlib, so always present

DPI = 110
WIDTH_PX = 1100
MIN_HEIGHT_PX = 550
HEIGHT_PX_BASE = 200
HEIGHT_PX_PER_COMMUNITY = 36

CLOSURE_COLOR = "#2f6db5"
ON_TIME_COLOR = "#f0a030"
MUTED_COLOR = "#888888"
BAR_HEIGHT = 0.38
MANY_WEEKS = 6  # more than this and week labels are slanted
MAX_WEEK_LABELS = 13

# Rendering swaps the warnings filters and a logger level for the duration of the call;
# serialising renders keeps two threads from restoring each other's state.
_RENDER_LOCK = threading.Lock()

FontMaker = Callable[[float], font_manager.FontProperties]  # size in points -> font


@dataclass(frozen=True)
class CommunityBar:
    name: str
    closure_rate: float | None  # 0..1; None: nothing was due
    on_time_rate: float | None


@dataclass(frozen=True)
class TrendPoint:
    week: str  # "2026-W47"
    closure_rate: float | None
    on_time_rate: float | None


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, already in the reader's language (the chart knows no locale)."""

    closure: str
    on_time: str
    by_community: str
    trend: str
    no_data: str


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed font that can draw Chinese, or None.

    matplotlib caches the system's font list the first time it runs, so a font installed
    later (apt-get install fonts-noto-cjk) is not in that list: look on disk too. Cached for
    the life of the process: installing a font needs a restart of the bot.
    """
    found = _known_cjk_family()
    if found is None:
        for path in font_manager.findSystemFonts():
            if any(mark in Path(path).name.lower() for mark in CJK_FILE_MARKS):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = _known_cjk_family()
    return found


def _known_cjk_family() -> str | None:
    for family in CJK_FAMILIES:
        try:
            font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        return family
    return None


def chart_size_px(communities: int) -> tuple[int, int]:
    """Width and height of the PNG: taller with more communities so bars stay legible."""
    height = max(MIN_HEIGHT_PX, HEIGHT_PX_BASE + HEIGHT_PX_PER_COMMUNITY * communities)
    return WIDTH_PX, height


def font_families() -> list[str]:
    """The family list every text artist gets: the CJK font first when there is one."""
    cjk = cjk_font()
    return [cjk, LATIN_FAMILY] if cjk else [LATIN_FAMILY]


def build_digest_figure(
    bars: Sequence[CommunityBar],
    trend: Sequence[TrendPoint],
    *,
    title: str,
    labels: ChartLabels,
) -> Figure:
    """The chart as a Figure on an Agg canvas; exposed so tests can inspect its artists."""
    families = font_families()

    def font(size: float) -> font_manager.FontProperties:
        return font_manager.FontProperties(family=families, size=size)

    width, height = chart_size_px(len(bars))
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    fig.suptitle(title, fontproperties=font(14))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    for ax in (left, right):
        ax.tick_params(labelfontfamily=families, labelsize=9)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)

    _draw_bars(left, bars, labels, font)
    _draw_trend(right, trend, labels, font)

    fig.legend(
        handles=[Patch(color=CLOSURE_COLOR), Patch(color=ON_TIME_COLOR)],
        labels=[labels.closure, labels.on_time],
        loc="outside lower center",
        ncols=2,
        frameon=False,
        prop=font(10),
    )
    return fig


def render_digest_chart(
    bars: Sequence[CommunityBar],
    trend: Sequence[TrendPoint],
    *,
    title: str,
    labels: ChartLabels,
) -> bytes:
    """The digest chart as PNG bytes: identical bytes for identical input.

    Left: closure and on-time rate (0-100 %) per community, in the given order, with
    `labels.no_data` where nothing was due. Right: both rates over the given weeks,
    with gaps for weeks that had nothing due. Without a CJK font (see `cjk_font`,
    Debian package fonts-noto-cjk) Chinese text is drawn as boxes; the caller decides
    whether to send it anyway.
    """
    with _RENDER_LOCK, _quiet_fonts():
        fig = build_digest_figure(bars, trend, title=title, labels=labels)
        buffer = io.BytesIO()
        fig.savefig(
            buffer,
            format="png",
            dpi=DPI,
            facecolor="white",
            metadata={"Software": None},
            pil_kwargs={"optimize": True},
        )
    return buffer.getvalue()


@contextmanager
def _quiet_fonts() -> Iterator[None]:
    """Silence missing-glyph warnings and font-lookup log lines for this render only."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
            yield
    finally:
        logger.setLevel(level)


def _percent(rate: float | None) -> float | None:
    if rate is None or not math.isfinite(rate):
        return None
    return min(max(rate, 0.0), 1.0) * 100


def _draw_bars(
    ax: Axes, bars: Sequence[CommunityBar], labels: ChartLabels, font: FontMaker
) -> None:
    ax.set_title(labels.by_community, fontproperties=font(12), loc="left")
    ax.set_xlim(0, 118)  # room for "100%" past the end of a full bar
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    if not bars:
        ax.set_yticks([])
        ax.set_ylim(-0.5, 0.5)
        ax.text(
            50,
            0,
            labels.no_data,
            ha="center",
            va="center",
            color=MUTED_COLOR,
            fontproperties=font(11),
        )
        return

    positions = range(len(bars))
    ax.set_yticks(list(positions), [bar.name for bar in bars])
    ax.set_ylim(len(bars) - 0.5, -0.5)  # first community on top
    series: tuple[tuple[float, str, Callable[[CommunityBar], float | None]], ...] = (
        (-BAR_HEIGHT / 2, CLOSURE_COLOR, lambda b: b.closure_rate),
        (BAR_HEIGHT / 2, ON_TIME_COLOR, lambda b: b.on_time_rate),
    )
    for y, bar in zip(positions, bars, strict=True):
        values = [_percent(rate(bar)) for _offset, _color, rate in series]
        if all(v is None for v in values):
            ax.text(
                1.5, y, labels.no_data, va="center", color=MUTED_COLOR, fontproperties=font(8.5)
            )
            continue
        for (offset, color, _rate), value in zip(series, values, strict=True):
            if value is None:
                ax.text(
                    1.5,
                    y + offset,
                    labels.no_data,
                    va="center",
                    color=MUTED_COLOR,
                    fontproperties=font(7.5),
                )
                continue
            ax.barh(y + offset, value, height=BAR_HEIGHT, color=color)
            ax.text(
                value + 1.5, y + offset, f"{value:.0f}%", va="center", fontproperties=font(7.5)
            )


def _draw_trend(
    ax: Axes, trend: Sequence[TrendPoint], labels: ChartLabels, font: FontMaker
) -> None:
    ax.set_title(labels.trend, fontproperties=font(12), loc="left")
    ax.set_ylim(0, 105)
    ax.set_yticks([0, 25, 50, 75, 100])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)
    xs = list(range(len(trend)))
    has_data = False
    # The on-time line is dashed and thinner, so it stays visible where the two coincide.
    lines: tuple[tuple[str, Callable[[TrendPoint], float | None], str, float], ...] = (
        (CLOSURE_COLOR, lambda p: p.closure_rate, "-", 3.0),
        (ON_TIME_COLOR, lambda p: p.on_time_rate, "--", 1.8),
    )
    for color, rate, style, width in lines:
        ys = [_percent(rate(p)) for p in trend]
        known = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        if not known:
            continue
        has_data = True
        ax.plot(
            xs,
            [math.nan if y is None else y for y in ys],
            color=color,
            marker="o",
            markersize=4,
            linewidth=width,
            linestyle=style,
        )
        ax.annotate(
            f"{known[-1][1]:.0f}%",
            known[-1],
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            color=color,
            fontproperties=font(8.5),
        )
    if not has_data:
        ax.text(
            0.5,
            0.5,
            labels.no_data,
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=MUTED_COLOR,
            fontproperties=font(11),
        )
    if not trend:
        ax.set_xticks([])
        return
    ax.set_xlim(-0.5, len(trend) - 0.5 + 0.6)  # room for the last value's label
    step = math.ceil(len(trend) / MAX_WEEK_LABELS)
    ax.set_xticks(xs[::step], [p.week for p in trend][::step])
    if len(trend) > MANY_WEEKS:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
