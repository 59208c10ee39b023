"""Test pictures made on the spot with Pillow: no licence questions, exact properties."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image, ImageDraw


def jpeg(
    width: int = 800,
    height: int = 600,
    colour: tuple[int, int, int] = (200, 80, 40),
    *,
    gps: tuple[float, float] | None = None,
    gps_ifd: dict[int, object] | None = None,
    seed: int = 0,
) -> bytes:
    """A JPEG with a little drawing (so different seeds give different photos).

    ``gps`` writes a well-formed fix; ``gps_ifd`` writes the GPS IFD exactly as given.
    """
    img = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle((seed % 50, seed % 40, width // 2 + seed, height // 2), fill=(20, 120, 200))
    exif = Image.Exif()
    if gps is not None:
        exif[0x8825] = _gps_ifd(*gps)
    if gps_ifd is not None:
        exif[0x8825] = gps_ifd
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def _gps_ifd(lat: float, lon: float) -> dict[int, object]:
    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
        return (float(degrees), float(minutes), seconds)

    return {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}


@cache
def flat_png(width: int, height: int, mode: str = "RGBA") -> bytes:
    """A valid PNG of one flat colour: tiny on the wire, huge once decoded.

    Written scanline by scanline, so making a 7000×7000 RGBA one (about 190 KB, 196 MB of
    pixels) costs the test-suite neither the memory nor the time it costs a decoder.
    """
    colour = {"RGBA": (2, 6), "RGB": (2, 2), "L": (2, 0)}[mode][1]
    bands = {"RGBA": 4, "RGB": 3, "L": 1}[mode]

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    pixel = bytes((200, 80, 40, 255)[:bands])
    line = b"\x00" + pixel * width
    packer = zlib.compressobj(6)
    idat = b"".join(packer.compress(line) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
