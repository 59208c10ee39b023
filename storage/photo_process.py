"""Turning an accepted upload into the JPEG we keep: decode, normalise, re-encode.

The stored copy is small, upright, in sRGB and carries nothing a phone may embed (EXIF with
GPS and device serials, XMP, comments, ICC): the GPS fix is read first, because it is useful
evidence for routing, then all metadata is dropped. The checks on the untrusted bytes live
in storage/photo_checks.py; storing the result on disk in storage/photos.py.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageCms

from storage.photo_checks import (
    ACCEPTED_FORMATS,
    MAX_DECODED_BYTES,
    REDUCING_GAP,
    PhotoRejected,
    check_decoded_size,
    draft_request,
    has_alpha,
    jpeg_is_complete,
    open_untrusted,
)
from storage.photo_gps import read_exif_gps

__all__ = ["ProcessedPhoto", "process_image"]

_JPEG_QUALITY = 85
_RESAMPLE = Image.Resampling.LANCZOS

# Same table as ImageOps.exif_transpose; applied after downscaling so the rotate is cheap.
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class ProcessedPhoto:
    """A normalised, metadata-free JPEG plus the GPS fix read from the original."""

    sha256: str
    data: bytes
    width: int
    height: int
    gps: tuple[float, float] | None


def _target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Fit inside max_side x max_side, keeping aspect; never upscale."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _to_8bit(im: Image.Image) -> Image.Image:
    """High-bit-depth greyscale: scale 16-bit (or 0..1 float) ranges instead of clipping white."""
    if im.mode != "F":
        im = im.convert("I")  # I;16 variants → 32-bit ints, values unchanged
    high = im.getextrema()[1]
    assert not isinstance(high, tuple)  # one band (I or F): (low, high), not one pair a band
    high = float(high)
    if im.mode == "F" and high <= 1.0:
        factor = 255.0
    elif high > 255:
        factor = 1 / 256
    else:
        factor = 1.0
    if factor != 1.0:
        im = im.point(lambda v: v * factor)
    return im.convert("L")


def _flatten(im: Image.Image) -> Image.Image:
    """Any mode → RGB or CMYK (CMYK kept so its ICC profile can convert it properly)."""
    if im.mode == "F" or im.mode.startswith("I"):
        im = _to_8bit(im)
    if has_alpha(im):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if im.mode in ("RGB", "CMYK"):
        return im
    try:
        return im.convert("RGB")
    except ValueError as exc:  # e.g. LAB TIFFs: no direct conversion without a profile
        raise PhotoRejected("unsupported_format", f"mode {im.mode}") from exc


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Bake an embedded colour profile into sRGB pixels so the profile itself can be dropped.

    Wide-gamut phone photos (Display P3) and CMYK files look wrong if the profile is simply
    discarded; converting keeps the colours while the stored file carries no profile at all.
    """
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            # A fresh sRGB profile per call: LittleCMS profile handles are not safe to share
            # between the worker threads that run this concurrently (and creating one is cheap).
            srgb = ImageCms.createProfile("sRGB")
            converted = ImageCms.profileToProfile(im, source, srgb, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # unusable or mismatched profile: fall back to plain conversion
        if converted is not None:
            return converted
    return im if im.mode == "RGB" else im.convert("RGB")


# Modes that resize handles directly (RGBA premultiplied): shrunk before being flattened.
_RESIZABLE = frozenset({"RGB", "RGBA", "L", "LA", "CMYK", "RGBa", "La"})


def _normalise(
    im: Image.Image, target: tuple[int, int], icc: bytes | None, orientation: int
) -> Image.Image:
    """A loaded image → RGB at the target size, colours in sRGB, orientation applied."""
    out = im
    if out.size != target and out.mode in _RESIZABLE:
        # Shrink first: flattening alpha then works on 4 megapixels, not 49.
        out = out.resize(target, _RESAMPLE, reducing_gap=REDUCING_GAP)
    out = _flatten(out)
    if out.size != target:
        out = out.resize(target, _RESAMPLE, reducing_gap=REDUCING_GAP)
    out = _to_srgb(out, icc)
    method = _ORIENTATION_TRANSPOSE.get(orientation)
    if method is not None:  # FLIP_LEFT_RIGHT is 0: test identity, not truthiness
        out = out.transpose(method)
    return out


def _decode(
    data: bytes, max_side: int, max_pixels: int, max_decoded_bytes: int = MAX_DECODED_BYTES
) -> tuple[Image.Image, tuple[float, float] | None]:
    """Header checks, verify, then decode into a small RGB image with orientation applied."""
    with open_untrusted(data) as probe:
        if probe.format not in ACCEPTED_FORMATS:
            raise PhotoRejected("unsupported_format", str(probe.format))
        width, height = probe.size
        if width <= 0 or height <= 0:
            raise PhotoRejected("corrupt", "empty image")
        # Our own limit, tightened to Pillow's warning threshold so its DecompressionBombWarning
        # can only fire for images rejected here anyway (no thread-unsafe warnings filters).
        limit = max_pixels
        if Image.MAX_IMAGE_PIXELS is not None:
            limit = min(limit, Image.MAX_IMAGE_PIXELS)
        if width * height > limit:
            raise PhotoRejected("too_many_pixels", f"{width}x{height}")
        target = _target_size(width, height, max_side)
        check_decoded_size(
            probe, draft_request(probe, target, max_decoded_bytes), max_decoded_bytes
        )
        if probe.format in ("JPEG", "MPO") and not jpeg_is_complete(data):
            raise PhotoRejected("corrupt", "truncated JPEG")
        try:
            probe.verify()
        except Exception as exc:
            raise PhotoRejected("corrupt", f"{type(exc).__name__}: {exc}") from exc

    with open_untrusted(data) as im:  # verify() leaves the image unusable, so reopen
        gps = read_exif_gps(im)
        try:
            orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1))
        except Exception:
            orientation = 1
        icc = im.info.get("icc_profile")
        try:
            request = draft_request(im, target, max_decoded_bytes)
            if request is not None:
                # JPEG: decode at 1/2, 1/4 or 1/8 scale directly, saving time and memory.
                im.draft(None, request)
            check_decoded_size(im, None, max_decoded_bytes)  # the size draft() really chose
            im.load()
            if im.size[0] * im.size[1] > limit:
                raise PhotoRejected("too_many_pixels", f"{im.size[0]}x{im.size[1]} after load")
            out = _normalise(im, target, icc if isinstance(icc, bytes) else None, orientation)
        except PhotoRejected:
            raise
        except Image.DecompressionBombError as exc:
            raise PhotoRejected("too_many_pixels", str(exc)) from exc
        except MemoryError:
            raise
        except Exception as exc:  # any decoder failure on hostile input is "corrupt"
            raise PhotoRejected("corrupt", f"{type(exc).__name__}: {exc}") from exc
    return out, gps


def _encode_jpeg(im: Image.Image) -> bytes:
    """Deterministic JPEG with no metadata at all (Pillow would copy a comment from info)."""
    clean = im if im.mode == "RGB" else im.convert("RGB")
    clean.info = {}
    buf = io.BytesIO()
    clean.save(buf, "JPEG", quality=_JPEG_QUALITY, optimize=True, progressive=True)
    return buf.getvalue()


def process_image(
    data: bytes,
    *,
    max_side: int = 2048,
    max_pixels: int = 50_000_000,
    max_bytes: int = 20 * 1024 * 1024,
    max_decoded_bytes: int = MAX_DECODED_BYTES,
) -> ProcessedPhoto:
    """Validate and normalise one upload; pure and CPU-bound, so call it off the event loop.

    ``max_pixels`` is also capped at Pillow's ``Image.MAX_IMAGE_PIXELS``: anything Pillow would
    warn about as a decompression bomb is then rejected here as ``too_many_pixels``, without
    touching the process-wide (and thread-unsafe) warnings filters.
    """
    if len(data) > max_bytes:
        raise PhotoRejected("too_large", f"{len(data)} bytes > {max_bytes}")
    if not data:
        raise PhotoRejected("not_image", "empty")
    image, gps = _decode(bytes(data), max_side, max_pixels, max_decoded_bytes)
    jpeg = _encode_jpeg(image)
    return ProcessedPhoto(
        sha256=hashlib.sha256(jpeg).hexdigest(),
        data=jpeg,
        width=image.width,
        height=image.height,
        gps=gps,
    )
