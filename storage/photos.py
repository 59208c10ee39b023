"""Rider photos: validate untrusted bytes, normalise them, strip metadata, store by content hash.

Photos arrive from strangers, so decoding is treated as hostile: size and pixel limits are
enforced before any pixel is decoded, only a handful of formats reach Pillow, and everything
a phone may embed (EXIF with GPS and device serials, XMP, comments, ICC) is dropped from the
stored copy. The location is read first, because it is useful evidence for routing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import math
import os
import pathlib
import re
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from PIL import Image, ImageCms, TiffImagePlugin, UnidentifiedImageError

__all__ = [
    "PhotoRejected",
    "PhotoStore",
    "ProcessedPhoto",
    "StoredPhoto",
    "process_image",
    "read_exif_gps",
]

RejectReason = Literal[
    "not_image", "corrupt", "too_many_pixels", "too_large", "unsupported_format"
]

# Pillow plugin IDs we let parse untrusted input; every other plugin never sees the bytes.
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# What those plugins may report: the JPEG plugin returns "MPO" for multi-picture phone photos.
_ACCEPTED_FORMATS = frozenset({*_OPEN_FORMATS, "MPO"})

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

_JPEG_QUALITY = 85
# Decoding cost is pixels × bytes per pixel, not file size: a 190 KB flat 7000×7000 RGBA PNG
# decodes to 196 MB and used to peak at ~950 MB and 4 s. 64 MiB holds a 16-megapixel image
# with alpha or a 22-megapixel one without; phone JPEGs are decoded at a reduced scale first.
MAX_DECODED_BYTES = 64 * 1024 * 1024
_RESAMPLE = Image.Resampling.LANCZOS
_REDUCING_GAP = 2.0  # as Image.thumbnail: JPEG DCT-scaling down to 2x target, then Lanczos

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
_EXIF_GPS_IFD = 0x8825
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON, _GPS_STATUS = 1, 2, 3, 4, 9

_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class PhotoRejected(Exception):
    """The upload cannot be accepted; ``reason`` is stable for user-facing messages."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        """Keep the machine-readable reason apart from the human detail."""
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: RejectReason = reason
        self.detail = detail


@dataclass(frozen=True)
class ProcessedPhoto:
    """A normalised, metadata-free JPEG plus the GPS fix read from the original."""

    sha256: str
    data: bytes
    width: int
    height: int
    gps: tuple[float, float] | None


@dataclass(frozen=True)
class StoredPhoto:
    """Where a processed photo lives on disk, keyed by the hash of its bytes."""

    sha256: str
    path: pathlib.Path
    width: int
    height: int
    size: int
    gps: tuple[float, float] | None


# ---------------------------------------------------------------------------------------------
# EXIF GPS


def _rational_to_float(value: object) -> float | None:
    """EXIF rationals may have zero denominators (unknown); those make the fix unusable."""
    if isinstance(value, TiffImagePlugin.IFDRational):
        numerator = value.numerator  # always an int when Pillow reads it from a file
        if value.denominator == 0 or not isinstance(numerator, int):
            return None
        result = float(Fraction(numerator, value.denominator))
    elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        if value[1] == 0:
            return None
        result = value[0] / value[1]
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    else:
        return None
    return result if math.isfinite(result) else None


def _dms_to_degrees(value: object, max_degrees: float) -> float | None:
    """Degrees/minutes/seconds; some writers use one or two components (decimal minutes).

    Each component must be in its own range (minutes and seconds below 60, degrees at most
    ``max_degrees``): a writer's "36° 999′" would otherwise add up to a plausible but wrong
    52.65°, sending the report to a place the rider never was. Such a fix is no fix.
    """
    parts = value if isinstance(value, tuple | list) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    numbers = [n for n in (_rational_to_float(p) for p in parts) if n is not None]
    if len(numbers) != len(parts) or any(n < 0 for n in numbers):
        return None
    if numbers[0] > max_degrees or any(n >= 60 for n in numbers[1:]):
        return None
    degrees = 0.0
    for n, scale in zip(numbers, (1.0, 60.0, 3600.0), strict=False):
        degrees += n / scale
    return degrees if degrees <= max_degrees else None


def _ref(value: object) -> str | None:
    """A GPS reference letter, tolerating bytes, NULs, padding and lower case."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.strip("\x00 ").upper()
    return value or None


def read_exif_gps(image: Image.Image) -> tuple[float, float] | None:
    """(lat, lon) in WGS-84 from EXIF, or None when absent, void, malformed or out of range.

    A missing N/S or E/W reference is read as north/east (China); (0, 0) is a phone's
    placeholder for "no fix" rather than a report from the Gulf of Guinea, so it is ignored.
    """
    try:
        gps = image.getexif().get_ifd(_EXIF_GPS_IFD)
    except Exception:  # malformed EXIF must never break photo intake
        return None
    if not gps or _GPS_LAT not in gps or _GPS_LON not in gps:
        return None
    if _ref(gps.get(_GPS_STATUS)) == "V":  # receiver says the measurement is void
        return None
    lat = _dms_to_degrees(gps[_GPS_LAT], 90.0)
    lon = _dms_to_degrees(gps[_GPS_LON], 180.0)
    if lat is None or lon is None:
        return None
    lat_ref = _ref(gps.get(_GPS_LAT_REF)) or "N"
    lon_ref = _ref(gps.get(_GPS_LON_REF)) or "E"
    if lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
        return None
    lat = -lat if lat_ref == "S" else lat
    lon = -lon if lon_ref == "W" else lon
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or (lat == 0.0 and lon == 0.0):
        return None
    return (lat, lon)


# ---------------------------------------------------------------------------------------------
# Decoding and normalisation


def _sniff_unsupported(data: bytes) -> bool:
    """Whether the bytes look like an image format we deliberately do not accept."""
    if any(data.startswith(magic, offset) for offset, magic in _UNSUPPORTED_MAGIC):
        return True
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _jpeg_is_complete(data: bytes) -> bool:
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


def _open(data: bytes) -> Image.Image:
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


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _flatten(im: Image.Image) -> Image.Image:
    """Any mode → RGB or CMYK (CMYK kept so its ICC profile can convert it properly)."""
    if im.mode == "F" or im.mode.startswith("I"):
        im = _to_8bit(im)
    if _has_alpha(im):
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


def _bytes_per_pixel(im: Image.Image) -> int:
    """Bytes per pixel of the largest full-size copy that decoding and flattening make."""
    wide = im.mode in ("I", "F", "CMYK") or im.mode.startswith("I;")
    return 4 if wide or _has_alpha(im) else 3


def _draft_request(
    im: Image.Image, target: tuple[int, int], max_decoded_bytes: int
) -> tuple[int, int] | None:
    """The size to ask a JPEG's DCT scaling for (None: not a JPEG, or no reduction needed).

    Normally twice the target, for a sharper Lanczos pass; when that would still decode too
    much (a 108-megapixel phone photo), just the target: the decoder then scales by 1/4 or
    1/8 and the photo is accepted instead of refused.
    """
    if im.format not in ("JPEG", "MPO") or target == im.size:
        return None
    request = (int(target[0] * _REDUCING_GAP), int(target[1] * _REDUCING_GAP))
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


def _check_decoded_size(
    im: Image.Image, request: tuple[int, int] | None, max_decoded_bytes: int
) -> None:
    cost = _decoded_bytes(im, request)
    if cost > max_decoded_bytes:
        raise PhotoRejected(
            "too_many_pixels",
            f"{im.size[0]}x{im.size[1]} {im.mode} decodes to {cost} bytes > {max_decoded_bytes}",
        )


# Modes that resize handles directly (RGBA premultiplied): shrunk before being flattened.
_RESIZABLE = frozenset({"RGB", "RGBA", "L", "LA", "CMYK", "RGBa", "La"})


def _normalise(
    im: Image.Image, target: tuple[int, int], icc: bytes | None, orientation: int
) -> Image.Image:
    """A loaded image → RGB at the target size, colours in sRGB, orientation applied."""
    out = im
    if out.size != target and out.mode in _RESIZABLE:
        # Shrink first: flattening alpha then works on 4 megapixels, not 49.
        out = out.resize(target, _RESAMPLE, reducing_gap=_REDUCING_GAP)
    out = _flatten(out)
    if out.size != target:
        out = out.resize(target, _RESAMPLE, reducing_gap=_REDUCING_GAP)
    out = _to_srgb(out, icc)
    method = _ORIENTATION_TRANSPOSE.get(orientation)
    if method is not None:  # FLIP_LEFT_RIGHT is 0: test identity, not truthiness
        out = out.transpose(method)
    return out


def _decode(
    data: bytes, max_side: int, max_pixels: int, max_decoded_bytes: int = MAX_DECODED_BYTES
) -> tuple[Image.Image, tuple[float, float] | None]:
    """Header checks, verify, then decode into a small RGB image with orientation applied."""
    with _open(data) as probe:
        if probe.format not in _ACCEPTED_FORMATS:
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
        _check_decoded_size(
            probe, _draft_request(probe, target, max_decoded_bytes), max_decoded_bytes
        )
        if probe.format in ("JPEG", "MPO") and not _jpeg_is_complete(data):
            raise PhotoRejected("corrupt", "truncated JPEG")
        try:
            probe.verify()
        except Exception as exc:
            raise PhotoRejected("corrupt", f"{type(exc).__name__}: {exc}") from exc

    with _open(data) as im:  # verify() leaves the image unusable, so reopen
        gps = read_exif_gps(im)
        try:
            orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1))
        except Exception:
            orientation = 1
        icc = im.info.get("icc_profile")
        try:
            request = _draft_request(im, target, max_decoded_bytes)
            if request is not None:
                # JPEG: decode at 1/2, 1/4 or 1/8 scale directly, saving time and memory.
                im.draft(None, request)
            _check_decoded_size(im, None, max_decoded_bytes)  # the size draft() really chose
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


# ---------------------------------------------------------------------------------------------
# Storage


def _fsync_dir(path: pathlib.Path) -> None:
    """Make a rename durable; best effort where directories cannot be opened."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def default_workers() -> int:
    """Photos decoded at once: leave a core to the event loop (1 on a 2-core machine)."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


class PhotoStore:
    """Content-addressed photo files under ``<root>/<sha[:2]>/<sha>.jpg``."""

    def __init__(
        self,
        root: pathlib.Path,
        *,
        max_side: int = 2048,
        max_pixels: int = 50_000_000,
        max_bytes: int = 20 * 1024 * 1024,
        max_decoded_bytes: int = MAX_DECODED_BYTES,
        workers: int | None = None,
    ) -> None:
        """Keep limits here so handlers cannot forget them."""
        self.root = pathlib.Path(root)
        self.max_side = max_side
        self.max_pixels = max_pixels
        self.max_bytes = max_bytes
        self.max_decoded_bytes = max_decoded_bytes
        self.workers = workers or default_workers()
        # Memory and CPU are bounded by how many photos decode at once, not by who sends them.
        self._slots = asyncio.Semaphore(self.workers)

    def path_for(self, sha256: str) -> pathlib.Path:
        """File path for a hash; refuses anything but a hex digest (no path tricks)."""
        if not _SHA256_RE.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.jpg"

    def read(self, sha256: str) -> bytes:
        """Stored JPEG bytes; FileNotFoundError if absent."""
        return self.path_for(sha256).read_bytes()

    async def save(self, data: bytes) -> StoredPhoto:
        """Process and store in a worker thread so the event loop never decodes or blocks;
        at most ``workers`` at a time, the others wait their turn."""
        async with self._slots:
            return await asyncio.to_thread(self._save_sync, bytes(data))

    async def process(self, data: bytes) -> ProcessedPhoto:
        """Check and normalise without storing: a caller that may still refuse the whole
        (the web form) keeps nothing on disk until it files (then `keep`)."""
        async with self._slots:
            return await asyncio.to_thread(self._process_sync, bytes(data))

    async def keep(self, processed: ProcessedPhoto) -> StoredPhoto:
        return await asyncio.to_thread(self._keep_sync, processed)

    def _process_sync(self, data: bytes) -> ProcessedPhoto:
        return process_image(
            data,
            max_side=self.max_side,
            max_pixels=self.max_pixels,
            max_bytes=self.max_bytes,
            max_decoded_bytes=self.max_decoded_bytes,
        )

    def _save_sync(self, data: bytes) -> StoredPhoto:
        return self._keep_sync(self._process_sync(data))

    def _keep_sync(self, processed: ProcessedPhoto) -> StoredPhoto:
        path = self.path_for(processed.sha256)
        if not path.exists():
            self._write_atomic(path, processed.data)
        return StoredPhoto(
            sha256=processed.sha256,
            path=path,
            width=processed.width,
            height=processed.height,
            size=len(processed.data),
            gps=processed.gps,
        )

    @staticmethod
    def _write_atomic(path: pathlib.Path, payload: bytes) -> None:
        """Temp file + fsync + rename: readers never see a partial photo; racing writers of the
        same hash write identical bytes, so the last rename wins harmlessly."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jpg")
        tmp = pathlib.Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        _fsync_dir(path.parent)
