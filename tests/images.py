"""Test pictures made on the spot with Pillow: no licence questions, exact properties."""

from __future__ import annotations

import io

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
