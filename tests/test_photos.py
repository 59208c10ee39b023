"""Tests for the photo modules: hostile-input checks, normalisation, GPS and the store."""

from __future__ import annotations

import asyncio
import hashlib
import io
import pathlib
import struct
import threading
import time
import zlib

import pytest
from PIL import Image, ImageChops, ImageCms, ImageFile, ImageOps, ImageStat
from PIL.TiffImagePlugin import IFDRational

import storage.photos as photos_mod
from storage.photo_checks import PhotoRejected
from storage.photo_gps import read_exif_gps
from storage.photo_process import ProcessedPhoto, process_image
from storage.photos import PhotoStore, StoredPhoto
from tests.images import flat_png
from tests.shared_data import shared_real

ORIENTATION_FILES = [
    "landscape_3.jpg",
    "landscape_6.jpg",
    "landscape_8.jpg",
    "portrait_2.jpg",
    "portrait_5.jpg",
    "portrait_6.jpg",
]
REAL_PHOTOS = [
    *ORIENTATION_FILES,
    "DSCN0010.jpg",
    "DSCN0042.jpg",
    "empty_gps_ifd.jpg",
    "hopper.jpg",
]

GPS_IFD = 0x8825

# ---------------------------------------------------------------------------------------------
# Helpers


def picture(size: tuple[int, int] = (320, 240), mode: str = "RGB") -> Image.Image:
    """A deterministic, non-uniform test picture (gradients, so resizing is visible)."""
    w, h = size
    r = Image.linear_gradient("L").resize((w, h))
    g = Image.linear_gradient("L").rotate(90).resize((w, h))
    b = Image.radial_gradient("L").resize((w, h))
    return Image.merge("RGB", (r, g, b)).convert(mode)


def encode(im: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg_with_gps(gps: dict[int, object], size: tuple[int, int] = (64, 48)) -> bytes:
    exif = Image.Exif()
    exif[GPS_IFD] = gps
    return encode(picture(size), "JPEG", exif=exif)


def open_bytes(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def assert_no_metadata(data: bytes) -> None:
    out = open_bytes(data)
    assert out.format == "JPEG"
    assert out.mode == "RGB"
    assert dict(out.getexif()) == {}
    for key in ("exif", "icc_profile", "comment", "xmp", "XML:com.adobe.xmp", "photoshop"):
        assert key not in out.info, key
    for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap/1.0/"):
        assert marker not in data, marker


def mean_diff(a: Image.Image, b: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge canvas but carries one tiny IDAT: a classic bomb shape."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def reject_reason(data: bytes, **limits: int) -> str:
    with pytest.raises(PhotoRejected) as info:
        process_image(data, **limits)  # type: ignore[arg-type]
    return info.value.reason


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything starts decoding pixels."""

    def forbidden(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)


# ---------------------------------------------------------------------------------------------
# Real photos


@pytest.mark.parametrize("name", ORIENTATION_FILES)
def test_orientation_is_applied_and_exif_removed(name: str) -> None:
    original = shared_real(name).read_bytes()
    result = process_image(original)
    out = open_bytes(result.data)
    assert out.size == (result.width, result.height)
    if name.startswith("landscape_"):
        assert result.width > result.height
    else:
        assert result.height > result.width
    assert_no_metadata(result.data)

    # Pixel check, since aspect alone would not catch a missing mirror flip: among all eight
    # orientations of the original, the output must match the one exif_transpose picks.
    source = open_bytes(original)
    expected = ImageOps.exif_transpose(source).convert("RGB")
    icc = source.info.get("icc_profile")
    if icc:  # the pipeline bakes the embedded profile into sRGB; do the same to compare
        srgb = ImageCms.createProfile("sRGB")
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        expected = ImageCms.profileToProfile(expected, profile, srgb, outputMode="RGB")
    assert expected.size == out.size
    assert mean_diff(out, expected) < 6
    for method in Image.Transpose:
        other = expected.transpose(method)
        if other.size == out.size:
            assert mean_diff(out, other) > 10, method


@pytest.mark.parametrize("name", REAL_PHOTOS)
def test_real_photos_are_deterministic_and_clean(name: str) -> None:
    data = shared_real(name).read_bytes()
    first, second = process_image(data), process_image(data)
    assert first == second
    assert first.sha256 == hashlib.sha256(first.data).hexdigest()
    assert_no_metadata(first.data)


def test_dscn0010_gps() -> None:
    result = process_image(shared_real("DSCN0010.jpg").read_bytes())
    assert result.gps is not None
    assert result.gps[0] == pytest.approx(43.467448, abs=1e-5)
    assert result.gps[1] == pytest.approx(11.885127, abs=1e-5)
    assert b"Exif" not in result.data  # the location is reported, not kept in the file


def test_dscn0042_gps_via_read_exif_gps() -> None:
    with Image.open(shared_real("DSCN0042.jpg")) as im:
        gps = read_exif_gps(im)
    assert gps == pytest.approx((43.464455, 11.881478), abs=1e-5)


def test_empty_gps_ifd_is_no_location() -> None:
    with Image.open(shared_real("empty_gps_ifd.jpg")) as im:
        assert read_exif_gps(im) is None
    result = process_image(shared_real("empty_gps_ifd.jpg").read_bytes())
    assert result.gps is None
    assert (result.width, result.height) == (10, 10)


def test_hopper_has_no_gps() -> None:
    result = process_image(shared_real("hopper.jpg").read_bytes())
    assert result.gps is None
    assert (result.width, result.height) == (128, 128)


# ---------------------------------------------------------------------------------------------
# GPS parsing on synthetic EXIF


def r(num: int, den: int = 1) -> IFDRational:
    return IFDRational(num, den)


DMS_36 = (r(36), r(6), r(30))  # 36.108333…
DMS_113 = (r(113), r(12), r(0))  # 113.2


@pytest.mark.parametrize(
    ("gps", "expected"),
    [
        ({1: "N", 2: DMS_36, 3: "E", 4: DMS_113}, (36.108333, 113.2)),
        ({1: "S", 2: DMS_36, 3: "W", 4: DMS_113}, (-36.108333, -113.2)),
        ({1: "n", 2: DMS_36, 3: "e", 4: DMS_113}, (36.108333, 113.2)),
        ({2: DMS_36, 4: DMS_113}, (36.108333, 113.2)),  # refs missing: north/east
        ({1: "N", 2: (r(36), r(65, 10)), 3: "E", 4: (r(113), r(12))}, (36.108333, 113.2)),
        ({1: "N", 2: (r(361083333, 10_000_000),), 3: "E", 4: (r(1132, 10),)}, (36.108333, 113.2)),
        ({1: "N", 2: DMS_36, 3: "E", 4: DMS_113, 9: "A"}, (36.108333, 113.2)),
        ({1: "N", 2: DMS_36, 3: "E", 4: DMS_113, 9: "V"}, None),  # void fix
        ({1: "N", 2: (r(36), r(6), r(30, 0)), 3: "E", 4: DMS_113}, None),  # zero denominator
        ({1: "N", 2: (r(0, 0), r(0, 0), r(0, 0)), 3: "E", 4: DMS_113}, None),
        ({1: "N", 2: (r(91), r(0), r(0)), 3: "E", 4: DMS_113}, None),  # latitude out of range
        ({1: "N", 2: DMS_36, 3: "E", 4: (r(181), r(0), r(0))}, None),  # longitude out of range
        ({1: "X", 2: DMS_36, 3: "E", 4: DMS_113}, None),  # nonsense ref
        ({1: "N", 2: (r(0), r(0), r(0)), 3: "E", 4: (r(0), r(0), r(0))}, None),  # null island
        ({1: "N", 2: DMS_36, 3: "E"}, None),  # longitude missing
        # Components out of their own range add up to plausible but wrong places.
        ({1: "N", 2: (r(36), r(999), r(0)), 3: "E", 4: DMS_113}, None),  # read as 52.65° N
        ({1: "N", 2: (r(36), r(60), r(0)), 3: "E", 4: DMS_113}, None),  # minutes = 60
        ({1: "N", 2: (r(36), r(6), r(60)), 3: "E", 4: DMS_113}, None),  # seconds = 60
        ({1: "N", 2: (r(36), r(6), r(4000)), 3: "E", 4: DMS_113}, None),
        ({1: "N", 2: (r(36), r(605, 10)), 3: "E", 4: DMS_113}, None),  # decimal minutes 60.5
        ({1: "N", 2: DMS_36, 3: "E", 4: (r(113), r(75), r(0))}, None),
        ({1: "N", 2: (r(90), r(30), r(0)), 3: "E", 4: DMS_113}, None),  # 90.5° N
        ({1: "N", 2: (r(89), r(59), r(5999, 100)), 3: "E", 4: DMS_113}, (89.999997, 113.2)),
        ({}, None),
    ],
)
def test_read_exif_gps_variants(
    gps: dict[int, object], expected: tuple[float, float] | None
) -> None:
    with open_bytes(jpeg_with_gps(gps)) as im:
        got = read_exif_gps(im)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-6)


def test_read_exif_gps_survives_broken_exif() -> None:
    # An APP1 "Exif" segment with garbage instead of a TIFF header.
    base = encode(picture((32, 32)), "JPEG")
    payload = b"Exif\x00\x00" + b"\x00garbage-not-tiff"
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    data = base[:2] + app1 + base[2:]
    with open_bytes(data) as im:
        assert read_exif_gps(im) is None
    assert process_image(data).gps is None


def test_gps_from_png_exif_chunk() -> None:
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: DMS_36, 3: "E", 4: DMS_113}
    result = process_image(encode(picture((40, 30)), "PNG", exif=exif))
    assert result.gps == pytest.approx((36.108333, 113.2), abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Sizes, limits and hostile input


def test_big_image_is_downscaled_to_max_side() -> None:
    result = process_image(encode(picture((5000, 3000)), "JPEG", quality=90))
    assert (result.width, result.height) == (2048, 1229)
    assert open_bytes(result.data).size == (2048, 1229)


def test_big_portrait_png_is_downscaled() -> None:
    result = process_image(encode(picture((1500, 2000)), "PNG"), max_side=1000)
    assert (result.width, result.height) == (750, 1000)


def test_small_image_is_not_upscaled() -> None:
    result = process_image(encode(picture((200, 100)), "PNG"))
    assert (result.width, result.height) == (200, 100)


@pytest.mark.usefixtures("no_decoding")
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_bomb_header_rejected_without_decoding() -> None:
    data = png_header_only(10_000, 10_000)
    assert len(data) < 200
    started = time.perf_counter()
    assert reject_reason(data) == "too_many_pixels"
    assert time.perf_counter() - started < 0.5


@pytest.mark.usefixtures("no_decoding")
def test_bomb_beyond_pillow_limit_rejected() -> None:
    # Pillow itself raises DecompressionBombError at open(); it must map to the same reason.
    assert reject_reason(png_header_only(20_000, 20_000)) == "too_many_pixels"
    gif = (
        b"GIF89a"
        + struct.pack("<HH", 65535, 65535)  # logical screen 65535 x 65535
        + b"\x00\x00\x00"
        + b","
        + struct.pack("<HHHH", 0, 0, 1, 1)
        + b"\x00"  # one 1x1 frame
        + b"\x02\x02\x4c\x01\x00;"
    )
    assert reject_reason(gif) == "too_many_pixels"


@pytest.mark.usefixtures("no_decoding")
def test_max_pixels_is_configurable() -> None:
    data = encode(picture((1000, 1000)), "JPEG")
    assert reject_reason(data, max_pixels=999_999) == "too_many_pixels"


def test_max_pixels_boundary_is_inclusive() -> None:
    data = encode(picture((1000, 1000)), "JPEG")
    assert process_image(data, max_pixels=1_000_000).width == 1000


def test_a_small_file_that_decodes_huge_is_refused_before_decoding(no_decoding: None) -> None:
    # 7000×7000 RGBA: ~200 KB on the wire, under the pixel limit, 196 MB once decoded.
    data = flat_png(7000, 7000)
    assert len(data) < 250_000 and 7000 * 7000 < 50_000_000
    assert reject_reason(data) == "too_many_pixels"


@pytest.mark.parametrize(("mode", "accepted"), [("L", True), ("RGB", True), ("RGBA", False)])
def test_the_decoded_bound_counts_bands(mode: str, accepted: bool) -> None:
    # 1000×1000: 3 MB as grey or RGB (both become RGB), 4 MB with alpha.
    data = flat_png(1000, 1000, mode)
    if accepted:
        assert process_image(data, max_decoded_bytes=3_500_000).width == 1000
    else:
        assert reject_reason(data, max_decoded_bytes=3_500_000) == "too_many_pixels"


def test_a_big_jpeg_is_decoded_at_a_reduced_scale_to_fit_the_bound() -> None:
    # 4000×3000 is 36 MB decoded; DCT scaling by 1/4 makes it 2.25 MB, under an 8 MB bound.
    photo = picture((4000, 3000))
    result = process_image(encode(photo, "JPEG"), max_side=1000, max_decoded_bytes=8_000_000)
    assert (result.width, result.height) == (1000, 750)
    # The same pixels as a PNG cannot be scaled while decoding: refused.
    assert reject_reason(encode(photo, "PNG"), max_decoded_bytes=8_000_000) == "too_many_pixels"


@pytest.mark.parametrize(("subsampling", "accepted"), [(0, False), (2, True)])
def test_a_progressive_jpeg_counts_the_coefficients_libjpeg_keeps(
    subsampling: int, accepted: bool
) -> None:
    """Scaling while decoding saves the pixels, not a progressive JPEG's full-size DCT
    coefficients (2 bytes each): 2000×2000 4:4:4 keeps 24 MB of them, 4:2:0 keeps 12 MB."""
    photo = picture((2000, 2000))
    baseline = encode(photo, "JPEG", subsampling=subsampling)
    progressive = encode(photo, "JPEG", subsampling=subsampling, progressive=True)
    bound = {"max_side": 500, "max_decoded_bytes": 16_000_000}
    assert process_image(baseline, **bound).width == 500  # type: ignore[arg-type]
    if accepted:
        assert process_image(progressive, **bound).width == 500  # type: ignore[arg-type]
    else:
        assert reject_reason(progressive, **bound) == "too_many_pixels"  # type: ignore[arg-type]


def test_alpha_is_flattened_the_same_after_shrinking_first() -> None:
    im = picture((3000, 2000), "RGBA")
    im.putalpha(Image.linear_gradient("L").resize((3000, 2000)))
    out = open_bytes(process_image(encode(im, "PNG"), max_side=300).data).convert("RGB")
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, im).convert("RGB").resize(out.size, Image.LANCZOS)
    diff = ImageStat.Stat(ImageChops.difference(out, flat)).mean
    assert max(diff) < 3  # JPEG noise only


def test_too_large_is_checked_first(no_decoding: None) -> None:
    data = encode(picture((100, 100)), "JPEG")
    assert reject_reason(data, max_bytes=len(data) - 1) == "too_large"
    assert reject_reason(b"x" * 101, max_bytes=100) == "too_large"


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, 0.99])
def test_truncated_jpeg_is_corrupt(cut: float) -> None:
    data = encode(picture((400, 300)), "JPEG", quality=95)
    assert reject_reason(data[: int(len(data) * cut)]) == "corrupt"


def test_truncated_real_jpeg_is_corrupt_even_if_pillow_is_told_to_tolerate_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = shared_real("DSCN0010.jpg").read_bytes()
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    # Its EXIF thumbnail carries its own complete scan + EOI; that must not fool the check.
    assert reject_reason(data[: len(data) * 2 // 3]) == "corrupt"
    assert process_image(data).width == 640  # the complete file still passes


def test_truncated_png_is_corrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(picture((200, 200)), "PNG")
    assert reject_reason(data[: len(data) // 2]) == "corrupt"
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert reject_reason(data[: len(data) // 2]) == "corrupt"


def test_png_with_bad_crc_is_corrupt() -> None:
    data = bytearray(encode(picture((50, 50)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    assert reject_reason(bytes(data)) == "corrupt"


def test_jpeg_with_trailing_bytes_is_accepted() -> None:
    # Some phones append data after EOI; that is not truncation.
    data = encode(picture((64, 64)), "JPEG") + b"\x00" * 100 + b"trailer"
    assert process_image(data).width == 64


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is a text file\n" * 10,
        "随手拍：路边垃圾\n".encode(),
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n",
        b"PK\x03\x04" + b"\x00" * 40,
        bytes(range(256)) * 4,
        b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>",
    ],
    ids=["empty", "text", "chinese-text", "pdf", "zip", "binary", "svg"],
)
def test_non_images_are_rejected(data: bytes, no_decoding: None) -> None:
    assert reject_reason(data) == "not_image"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "unsupported_format"),
        (
            b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 64,
            "unsupported_format",
        ),
        (b"8BPS\x00\x01" + b"\x00" * 64, "unsupported_format"),
        (encode(picture((32, 32)), "ICO"), "unsupported_format"),
    ],
    ids=["heic", "avif", "psd", "ico"],
)
def test_other_image_formats_are_refused(data: bytes, expected: str) -> None:
    assert reject_reason(data) == expected


def test_reject_reason_is_in_message() -> None:
    with pytest.raises(PhotoRejected, match="not_image") as info:
        process_image(b"nope")
    assert info.value.reason == "not_image"


# ---------------------------------------------------------------------------------------------
# Formats and colour modes


@pytest.mark.parametrize(
    ("fmt", "mode", "params"),
    [
        ("JPEG", "RGB", {}),
        ("JPEG", "L", {}),
        ("JPEG", "CMYK", {}),
        ("PNG", "RGB", {}),
        ("PNG", "P", {}),
        ("PNG", "L", {}),
        ("PNG", "1", {}),
        ("WEBP", "RGB", {"quality": 90}),
        ("GIF", "P", {}),
        ("BMP", "RGB", {}),
        ("TIFF", "RGB", {}),
        ("TIFF", "CMYK", {}),
    ],
)
def test_accepted_formats(fmt: str, mode: str, params: dict[str, object]) -> None:
    source = picture((120, 80), mode)
    result = process_image(encode(source, fmt, **params))
    assert (result.width, result.height) == (120, 80)
    assert_no_metadata(result.data)
    if mode in ("RGB", "CMYK"):
        expected = source.convert("RGB").getpixel((60, 40))
        got = open_bytes(result.data).convert("RGB").getpixel((60, 40))
        assert all(abs(a - b) <= 12 for a, b in zip(got, expected, strict=True))  # type: ignore[arg-type]


def test_png_alpha_is_flattened_onto_white() -> None:
    im = Image.new("RGBA", (60, 40), (255, 0, 0, 255))
    im.paste((0, 0, 255, 0), (30, 0, 60, 40))  # right half fully transparent blue
    result = process_image(encode(im, "PNG"))
    out = open_bytes(result.data).convert("RGB")
    assert out.mode == "RGB"
    left, right = out.getpixel((10, 20)), out.getpixel((50, 20))
    assert left[0] > 240 and left[1] < 15 and left[2] < 15  # type: ignore[index]
    assert min(right) > 240  # type: ignore[arg-type]


def test_la_and_palette_transparency_are_flattened() -> None:
    la = Image.new("LA", (20, 20), (0, 0))
    assert min(open_bytes(process_image(encode(la, "PNG")).data).getpixel((10, 10))) > 240  # type: ignore[arg-type]
    pal = Image.new("P", (20, 20), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0])
    gif = encode(pal, "GIF", transparency=0)
    assert min(open_bytes(process_image(gif).data).getpixel((10, 10))) > 240  # type: ignore[arg-type]


def test_16bit_greyscale_is_scaled_not_clipped() -> None:
    im = Image.new("I;16", (256, 4))
    im.putdata([x * 256 for x in range(256)] * 4)
    out = open_bytes(process_image(encode(im, "PNG")).data).convert("L")
    assert out.getpixel((10, 2)) == pytest.approx(10, abs=3)
    assert out.getpixel((128, 2)) == pytest.approx(128, abs=3)
    assert out.getpixel((250, 2)) == pytest.approx(250, abs=3)


def test_animated_gif_uses_first_frame() -> None:
    frames = [Image.new("RGB", (30, 30), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    pixel = open_bytes(process_image(data).data).getpixel((15, 15))
    assert pixel[0] > 200 and pixel[2] < 50  # type: ignore[index]


def test_mpo_multi_picture_jpeg_is_accepted() -> None:
    frames = [picture((80, 60)), picture((80, 60)).rotate(180)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert open_bytes(data).format == "MPO"
    result = process_image(data)
    assert (result.width, result.height) == (80, 60)
    assert_no_metadata(result.data)


def test_exif_orientation_on_png_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    result = process_image(encode(picture((80, 40)), "PNG", exif=exif))
    assert (result.width, result.height) == (40, 80)


# ---------------------------------------------------------------------------------------------
# Metadata stripping


def test_all_metadata_is_stripped_even_without_any_transform() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0xA431] = "SERIAL-123456"  # BodySerialNumber
    exif[GPS_IFD] = {1: "N", 2: DMS_36, 3: "E", 4: DMS_113}
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = encode(picture((100, 80)), "JPEG", exif=exif, comment=b"secret comment", xmp=xmp)
    source = open_bytes(data)
    assert {"exif", "comment", "xmp"} <= set(source.info)

    result = process_image(data)
    assert result.gps == pytest.approx((36.108333, 113.2), abs=1e-6)
    assert_no_metadata(result.data)
    for secret in (b"secret comment", b"SERIAL-123456", b"PhoneMaker", b"xmpmeta"):
        assert secret not in result.data


def test_icc_profile_is_baked_into_srgb_and_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = picture((100, 80))
    data = encode(source, "JPEG", icc_profile=srgb, quality=95)
    assert open_bytes(data).info.get("icc_profile")
    result = process_image(data)
    assert_no_metadata(result.data)
    got = open_bytes(result.data).getpixel((50, 40))
    expected = source.getpixel((50, 40))
    assert all(abs(a - b) <= 8 for a, b in zip(got, expected, strict=True))  # type: ignore[arg-type]


def test_garbage_icc_profile_is_ignored() -> None:
    data = encode(picture((40, 30)), "JPEG", icc_profile=b"not really an ICC profile" * 4)
    result = process_image(data)
    assert (result.width, result.height) == (40, 30)
    assert_no_metadata(result.data)


# ---------------------------------------------------------------------------------------------
# PhotoStore


def stored_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_store_saves_once_and_reads_back(tmp_path: pathlib.Path) -> None:
    store = PhotoStore(tmp_path / "photos")
    data = shared_real("DSCN0010.jpg").read_bytes()
    first = await store.save(data)
    second = await store.save(data)
    assert first == second
    assert isinstance(first, StoredPhoto)
    assert first.path == tmp_path / "photos" / first.sha256[:2] / f"{first.sha256}.jpg"
    assert stored_files(tmp_path) == [first.path]  # one file, no temp leftovers
    assert store.read(first.sha256) == first.path.read_bytes()
    assert first.size == first.path.stat().st_size
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == first.sha256
    assert (first.width, first.height) == (640, 480)
    assert first.gps == pytest.approx((43.467448, 11.885127), abs=1e-5)


async def test_store_concurrent_saves_of_same_photo(tmp_path: pathlib.Path) -> None:
    store = PhotoStore(tmp_path)
    data = encode(picture((300, 200)), "PNG")
    results = await asyncio.gather(*(store.save(data) for _ in range(8)))
    assert len({r.sha256 for r in results}) == 1
    assert stored_files(tmp_path) == [results[0].path]


async def test_store_different_photos_get_different_files(tmp_path: pathlib.Path) -> None:
    store = PhotoStore(tmp_path)
    a = await store.save(encode(picture((30, 20)), "PNG"))
    b = await store.save(encode(picture((20, 30)), "PNG"))
    assert a.sha256 != b.sha256
    assert stored_files(tmp_path) == sorted([a.path, b.path])


async def test_store_rejection_writes_nothing(tmp_path: pathlib.Path) -> None:
    store = PhotoStore(tmp_path, max_bytes=1000)
    with pytest.raises(PhotoRejected) as info:
        await store.save(b"not an image")
    assert info.value.reason == "not_image"
    with pytest.raises(PhotoRejected) as info:
        await store.save(encode(picture((400, 400)), "PNG"))
    assert info.value.reason == "too_large"
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize("workers", [1, 2])
async def test_store_decodes_at_most_workers_photos_at_once(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    busy, most = 0, 0
    lock = threading.Lock()
    real = photos_mod.process_image

    def spy(data: bytes, **kwargs: int) -> ProcessedPhoto:
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        try:
            time.sleep(0.05)
            return real(data, **kwargs)
        finally:
            with lock:
                busy -= 1

    monkeypatch.setattr(photos_mod, "process_image", spy)
    store = PhotoStore(tmp_path, workers=workers)
    pictures = [encode(picture((64 + i, 48)), "JPEG") for i in range(5)]
    saved = await asyncio.gather(*(store.save(p) for p in pictures))
    assert len({s.sha256 for s in saved}) == 5
    assert most == workers


def test_default_workers_leave_a_core_to_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, workers in ((1, 1), (2, 1), (4, 3), (64, 4), (None, 1)):
        monkeypatch.setattr(photos_mod.os, "cpu_count", lambda c=cores: c)
        assert photos_mod.default_workers() == workers


async def test_store_applies_its_limits(tmp_path: pathlib.Path) -> None:
    store = PhotoStore(tmp_path, max_side=100)
    stored = await store.save(encode(picture((400, 200)), "JPEG"))
    assert (stored.width, stored.height) == (100, 50)


async def test_store_processes_off_the_event_loop(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []
    real = photos_mod.process_image

    def spy(data: bytes, **kwargs: int) -> ProcessedPhoto:
        seen.append(threading.get_ident())
        return real(data, **kwargs)

    monkeypatch.setattr(photos_mod, "process_image", spy)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        await PhotoStore(tmp_path).save(encode(picture((3000, 2000)), "JPEG"))
    finally:
        task.cancel()
    assert seen and all(ident != loop_thread for ident in seen)
    assert ticks > 0  # the loop kept running while the image was being processed


def test_path_for_rejects_non_digests(tmp_path: pathlib.Path) -> None:
    store = PhotoStore(tmp_path)
    good = "a" * 64
    assert store.path_for(good) == tmp_path / "aa" / f"{good}.jpg"
    for bad in ("../" + "a" * 61, "A" * 64, "a" * 63, "", "a" * 63 + "/", "g" * 64):
        with pytest.raises(ValueError, match="sha256"):
            store.path_for(bad)


def test_read_missing_photo(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        PhotoStore(tmp_path).read("0" * 64)


# ---------------------------------------------------------------------------------------------
# The shared-data locator used above


def test_shared_real_honours_env_and_skips_when_missing(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_dir = tmp_path / "testdata" / "real"
    real_dir.mkdir(parents=True)
    (real_dir / "x.jpg").write_bytes(b"x")
    monkeypatch.setenv("SUISHOU_SHARED_DIR", str(tmp_path))
    assert shared_real("x.jpg") == real_dir / "x.jpg"
    with pytest.raises(pytest.skip.Exception, match="SUISHOU_SHARED_DIR"):
        shared_real("definitely-not-there.jpg")
