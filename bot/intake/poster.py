"""`suishou qr`: the rider link as a QR code poster, ready to post in the riders' WeChat group.

segno makes the code (a maintained, pure-Python QR encoder); Pillow draws the poster: the
code, a short Chinese caption under it, and the link in plain letters for those who would
rather type it. The caption needs a font that can draw Chinese: the one the digest chart
finds (bot/reporting/chart.py: Noto CJK, WenQuanYi, ... on the host). Without one the poster has
the code and the link only, and the command says which Debian package brings a font.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont

from bot import texts
from bot.reporting.chart import cjk_font

MODULE_PX = 16  # one QR module: big enough to scan off a phone screen in a group chat
BORDER = 4  # modules of quiet zone, as the standard asks
CAPTION_PX = 44
LINK_PX = 24
MARGIN_PX = 24
FONT_HINT = "apt-get install fonts-wqy-microhei (or fonts-noto-cjk)"


@dataclass(frozen=True)
class Poster:
    png: bytes
    qr_modules: int  # modules per side, quiet zone excluded
    qr_left: int  # where the code's image starts (a long link makes the poster wider)
    qr_origin: int  # pixels from the code image's corner to its first module
    caption_drawn: bool


def make_poster(url: str, lang: str = "zh") -> Poster:
    qr = segno.make(url, error="m", micro=False)
    size = int(qr.symbol_size(border=0)[0])
    side = (size + 2 * BORDER) * MODULE_PX
    code = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(code)
    for y, row in enumerate(qr.matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + BORDER) * MODULE_PX, (y + BORDER) * MODULE_PX
                draw.rectangle((left, top, left + MODULE_PX - 1, top + MODULE_PX - 1), fill=0)
    caption_font = _caption_font()
    link_font = _latin_font()
    caption = texts.catalog(lang)["web.poster_caption"]
    lines = [(url, link_font)]
    if caption_font is not None:
        lines.insert(0, (caption, caption_font))
    width = max([side] + [_width(text, font) + 2 * MARGIN_PX for text, font in lines])
    height = side + CAPTION_PX + LINK_PX + 3 * MARGIN_PX
    poster = Image.new("L", (width, height), 255)
    offset = (width - side) // 2
    poster.paste(code, (offset, 0))
    draw = ImageDraw.Draw(poster)
    y = side
    for text, font in lines:
        y = side if font is caption_font else side + CAPTION_PX + MARGIN_PX
        draw.text(((width - _width(text, font)) // 2, y), text, font=font, fill=0)
    out = io.BytesIO()
    poster.save(out, "PNG", optimize=True)
    return Poster(out.getvalue(), size, offset, BORDER * MODULE_PX, caption_font is not None)


def _width(text: str, font: ImageFont.FreeTypeFont) -> int:
    left, _, right, _ = font.getbbox(text)
    return int(right - left)


def _caption_font() -> ImageFont.FreeTypeFont | None:
    """A Chinese-capable font at caption size (the Simplified Chinese face of a collection)."""
    family = cjk_font()
    if family is None:
        return None
    path = font_manager.findfont(font_manager.FontProperties(family=family))
    if not path.lower().endswith(".ttc"):
        return ImageFont.truetype(path, CAPTION_PX)
    faces = []
    for index in range(12):
        try:
            faces.append(ImageFont.truetype(path, CAPTION_PX, index=index))
        except OSError:
            break
    simplified = [f for f in faces if " SC" in (f.getname()[0] or "")]
    chosen = simplified or faces
    return chosen[0] if chosen else None


def _latin_font() -> ImageFont.FreeTypeFont:
    """DejaVu Sans, which matplotlib ships: always there."""
    path = Path(font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans")))
    return ImageFont.truetype(str(path), LINK_PX)
