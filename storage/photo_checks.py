"""Checks on untrusted photo bytes, made before (and while) any pixel is decoded.

Photos arrive from strangers, so decoding is treated as hostile: only a handful of formats
reach Pillow, recognisable but refused formats are told apart from non-images, truncated
JPEGs are caught, and the memory a decode would take is estimated and capped first
(decompression bombs). Every refusal is a ``PhotoRejected`` with a stable reason.
"""

from __future__ import annotations

import io
from typing import Literal

from PIL import Image, UnidentifiedImageError

__all__ = [
    "ACCEPTED_FORMATS",
    "MAX_DECODED_BYTES",
    "REDUCING_GAP",
    "PhotoRejected",
    "check_decoded_size",
    "draft_request",
    "has_alpha",
    "jpeg_is_complete",
    "open_untrusted",
]

RejectReason = Literal[
    "not_image", "corrupt", "too_many_pixels", "too_large", "unsupported_format"
]

# Pillow plugin IDs we let parse untrusted input; every other plugin never sees the bytes.
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# What those plugins may report: the JPEG plugin returns "MPO" for multi-picture phone photos.
ACCEPTED_FORMATS = frozenset({*_OPEN_FORMATS, "MPO"})

# Recognisable image formats we refuse: the rider hears "unsupported", not "not an image".
_UNSUPPORTED_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"8BPS"),  # Photoshop
    (0, b"\x00\x00\x01\x00"),  # ICO
    (0, b"\x00\x00\x02\x00"),  # CUR
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n"),  # JPEG 2000 (JP2)
    (0, b"\xff\x4f\xff\x51"),  # JPEG 2000 codestream
    (0, b"\xff\x0a"),  # JPEG XL codestream
    (0, b"\x00\x00\x00\x0cJXL \r\n\x87\n"),  # JPEG XL container
    (0, b"qoif"),  # QOI
    (0, b"icns"),  # Apple icon
    (0, b"DDS "),  # DirectDraw surface
    (0, b"gimp xcf"),  # GIMP
)
# ISO-BMFF brands of HEIF/HEIC/AVIF stills (what iPhones send as files).
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_HEIF_BRANDS |= {b"avif", b"avis"}

# Decoding cost is pixels × bytes per pixel, not file size: a 190 KB flat 7000×7000 RGBA PNG
# decodes to 196 MB and used to peak at ~950 MB and 4 s. 64 MiB holds a 16-megapixel image
# with alpha or a 22-megapixel one without; phone JPEGs are decoded at a reduced scale first.
MAX_DECODED_BYTES = 64 * 1024 * 1024
REDUCING_GAP = 2.0  # as Image.thumbnail: JPEG DCT-scaling down to 2x target, then Lanczos


class PhotoRejected(Exception):
    """The upload cannot be accepted; ``reason`` is stable for user-facing messages."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        """Keep the machine-readable reason apart from the human detail."""
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: RejectReason = reason
        self.detail = detail


def _sniff_unsupported(data: bytes) -> bool:
    """Whether the bytes look like an image format we deliberately do not accept."""
    if any(data.startswith(magic, offset) for offset, magic in _UNSUPPORTED_MAGIC):
        return True
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def jpeg_is_complete(data: bytes) -> bool:
    """Whether an EOI marker follows the first scan of the main image.

    Truncated uploads are common on flaky mobile links; this catches them even if some other
    code has set ImageFile.LOAD_TRUNCATED_IMAGES, which makes Pillow pad them silently. Marker
    segments are skipped by length, so an EXIF thumbnail's own EOI cannot fool the check.
    """
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:  # junk between segments: Pillow skips it too
            i += 1
            continue
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            return False  # EOI before any scan: no image data
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return False
        if marker == 0xDA:  # start of scan: entropy data cannot contain FF D9 (it stuffs FF 00)
            return data.find(b"\xff\xd9", i + 2 + length) != -1
        i += 2 + length
    return False


def open_untrusted(data: bytes) -> Image.Image:
    """Open (not decode) with only the accepted plugins; translate failures into reasons."""
    try:
        return Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except Image.DecompressionBombError as exc:
        raise PhotoRejected("too_many_pixels", str(exc)) from exc
    except UnidentifiedImageError as exc:
        reason: RejectReason = "unsupported_format" if _sniff_unsupported(data) else "not_image"
        raise PhotoRejected(reason) from exc
    except Exception as exc:  # a recognised header that the plugin could not parse
        raise PhotoRejected("corrupt", f"{type(exc).__name__}: {exc}") from exc


def has_alpha(im: Image.Image) -> bool:
    """Whether the image is transparent anywhere: its decoded copy then needs 4 bytes a pixel."""
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _bytes_per_pixel(im: Image.Image) -> int:
    """Bytes per pixel of the largest full-size copy that decoding and flattening make."""
    wide = im.mode in ("I", "F", "CMYK") or im.mode.startswith("I;")
    return 4 if wide or has_alpha(im) else 3


def draft_request(
    im: Image.Image, target: tuple[int, int], max_decoded_bytes: int
) -> tuple[int, int] | None:
    """The size to ask a JPEG's DCT scaling for (None: not a JPEG, or no reduction needed).

    Normally twice the target, for a sharper Lanczos pass; when that would still decode too
    much (a 108-megapixel phone photo), just the target: the decoder then scales by 1/4 or
    1/8 and the photo is accepted instead of refused.
    """
    if im.format not in ("JPEG", "MPO") or target == im.size:
        return None
    request = (int(target[0] * REDUCING_GAP), int(target[1] * REDUCING_GAP))
    if _decoded_bytes(im, request) > max_decoded_bytes:
        request = target
    return request


def _coefficient_bytes(im: Image.Image) -> int:
    """What libjpeg holds besides the pixels for a progressive JPEG: every DCT coefficient of
    the full-size image (2 bytes each), whatever scale draft() picks for the output. A 575 KB
    7000×7000 4:4:4 progressive JPEG needs 294 MB of them; a baseline one streams."""
    if im.format not in ("JPEG", "MPO") or not (
        im.info.get("progressive") or im.info.get("progression")
    ):
        return 0
    layers = getattr(im, "layer", None) or [(None, 1, 1, None)] * len(im.getbands())
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    share = sum(layer[1] * layer[2] for layer in layers) / (h_max * v_max)
    return int(im.size[0] * im.size[1] * share * 2)


def _decoded_bytes(im: Image.Image, request: tuple[int, int] | None) -> int:
    """How many bytes decoding will take, after the DCT scaling Pillow's draft() would pick."""
    width, height = im.size
    if request is not None:
        scale = min(width // max(request[0], 1), height // max(request[1], 1))
        factor = next((f for f in (8, 4, 2, 1) if scale >= f), 1)
        width, height = -(-width // factor), -(-height // factor)
    return width * height * _bytes_per_pixel(im) + _coefficient_bytes(im)


def check_decoded_size(
    im: Image.Image, request: tuple[int, int] | None, max_decoded_bytes: int
) -> None:
    """Refuse before decoding when the pixels (at ``request``'s DCT scale) exceed the budget."""
    cost = _decoded_bytes(im, request)
    if cost > max_decoded_bytes:
        raise PhotoRejected(
            "too_many_pixels",
            f"{im.size[0]}x{im.size[1]} {im.mode} decodes to {cost} bytes > {max_decoded_bytes}",
        )
