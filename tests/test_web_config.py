"""`[web]`: defaults that run on this machine, every mistake named by its key path, and a
secret that is made once and kept."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.config import ConfigError, parse_config
from tests.conftest import ROOT

EXAMPLE = ROOT / "config.example.toml"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def problems_of(raw: dict, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(raw, base_dir=tmp_path)
    return err.value.problems


def test_defaults_listen_on_this_machine(tmp_path: Path) -> None:
    raw = example()
    del raw["web"]
    web = parse_config(raw, base_dir=tmp_path).web
    assert (web.host, web.port) == ("127.0.0.1", 8080)
    assert web.public_url() == "http://127.0.0.1:8080/"
    assert web.public_url(port=43211) == "http://127.0.0.1:43211/"  # port 0: the one bound
    assert web.secret_file == tmp_path / "data" / "web_secret"
    assert web.tile_datum == "wgs84" and "{z}" in web.tile_url
    assert not web.secure


def test_a_public_address_is_used_for_links(tmp_path: Path) -> None:
    raw = example()
    raw["web"]["base_url"] = "https://suishou.example.cn/huguan"
    web = parse_config(raw, base_dir=tmp_path).web
    assert web.public_url() == "https://suishou.example.cn/huguan/"
    assert web.secure  # cookies get the Secure flag


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("port", 70000, "web.port: must be between 0 and 65535"),
        ("port", "8080", "web.port: expected an integer, got str"),
        ("base_url", "suishou.example.cn", "web.base_url: expected an address such as"),
        ("base_url", "https://x.cn/?a=1", "web.base_url: must not have a ?query"),
        ("tile_url", "https://tiles.example/{x}/{y}.png", "web.tile_url: must contain {z}"),
        ("tile_url", "ftp://t/{z}/{x}/{y}.png", "web.tile_url: must start with https://"),
        ("tile_datum", "bd09", "web.tile_datum: must be wgs84 or gcj02"),
        ("colour", "green", "web.colour: unknown key"),
    ],
)
def test_mistakes_are_named_by_key_path(
    tmp_path: Path, key: str, value: object, problem: str
) -> None:
    raw = example()
    raw["web"][key] = value
    assert any(p.startswith(problem) for p in problems_of(raw, tmp_path)), problem


def test_a_short_secret_in_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUISHOU_WEB_SECRET", "tooshort")
    (problem,) = problems_of(example(), tmp_path)
    assert problem.startswith("web.secret_env: SUISHOU_WEB_SECRET holds 8 characters")
    assert "tooshort" not in problem


def test_the_secret_is_made_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUISHOU_WEB_SECRET", raising=False)
    web = parse_config(example(), base_dir=tmp_path).web
    first = web.secret()
    assert len(first) >= 32 and web.secret() == first
    assert web.secret_file.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("SUISHOU_WEB_SECRET", "x" * 40)  # the environment wins when set
    assert web.secret() == b"x" * 40


def test_check_config_warns_about_plain_http_for_phones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '# base_url = "https://suishou.example.cn/"', 'base_url = "http://suishou.example.cn/"'
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    assert cli(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "note: web.base_url: phone browsers give their location only to https pages" in out
