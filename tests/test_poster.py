"""`suishou qr`: the poster's code reads back as the rider link; the caption is Chinese."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest
import segno
from PIL import Image

from bot.cli import main as cli
from bot.intake import poster
from tests.conftest import ROOT


def modules(png: bytes, info: poster.Poster) -> list[list[bool]]:
    """The dark/light modules read off the picture, at each module's centre."""
    with Image.open(io.BytesIO(png)) as im:
        grey = im.convert("L")
        half = poster.MODULE_PX // 2
        return [
            [
                grey.getpixel(
                    (
                        info.qr_left + info.qr_origin + x * poster.MODULE_PX + half,
                        info.qr_origin + y * poster.MODULE_PX + half,
                    )
                )
                < 128
                for x in range(info.qr_modules)
            ]
            for y in range(info.qr_modules)
        ]


def config_with_base_url(tmp_path: Path, url: str) -> Path:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('# base_url = "https://suishou.example.cn/"', f'base_url = "{url}"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    assert tomllib.loads(text)["web"]["base_url"] == url
    return path


def test_the_poster_encodes_the_public_rider_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://suishou.huguan.example.cn/"
    out = tmp_path / "poster.png"
    config = config_with_base_url(tmp_path, url)
    assert cli(["qr", "--config", str(config), "--out", str(out)]) == 0
    assert f"QR code for {url}" in capsys.readouterr().out
    info = poster.make_poster(url)
    expected = [[bool(v) for v in row] for row in segno.make(url, error="m").matrix]
    assert modules(out.read_bytes(), info) == expected
    with Image.open(out) as im:
        assert im.format == "PNG" and im.width >= 400


def test_the_caption_is_drawn_when_a_chinese_font_is_installed() -> None:
    if poster.cjk_font() is None:
        pytest.skip(f"no font that draws Chinese on this machine: {poster.FONT_HINT}")
    info = poster.make_poster("http://127.0.0.1:8080/")
    assert info.caption_drawn
    with Image.open(io.BytesIO(info.png)) as im:
        side = (info.qr_modules + 2 * poster.BORDER) * poster.MODULE_PX
        caption_band = im.convert("L").crop((0, side, im.width, side + poster.CAPTION_PX))
        assert caption_band.getextrema()[0] < 64  # ink where the caption is


def test_without_a_chinese_font_the_poster_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(poster, "cjk_font", lambda: None)
    out = tmp_path / "poster.png"
    assert cli(["qr", "--config", str(ROOT / "config.example.toml"), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "no font that can draw Chinese" in said and "fonts-wqy-microhei" in said
    assert "web.base_url is not set" in said  # the example points at this machine
    info = poster.make_poster("http://127.0.0.1:8080/")
    assert not info.caption_drawn
    expected = [[bool(v) for v in row] for row in segno.make("http://127.0.0.1:8080/").matrix]
    assert modules(out.read_bytes(), info) == expected


def test_the_output_must_be_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "poster.jpg"
    assert cli(["qr", "--config", str(ROOT / "config.example.toml"), "--out", str(out)]) == 1
    assert "--out: the file name must end in .png" in capsys.readouterr().err
    assert not out.exists()
