"""Configuration: the example is valid, and every mistake is named by its key path."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.config import ConfigError, load_config, parse_config
from bot.domain.geo import LatLon, gcj02_to_wgs84
from tests.shared_data import shared_real

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.toml"


def example() -> dict:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def problems_of(raw: dict, tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(raw, base_dir=tmp_path)
    return err.value.problems


def test_example_config_loads_with_its_communities_and_categories() -> None:
    config = load_config(EXAMPLE)
    assert [c.code for c in config.categories] == ["sanitation", "fire", "order"]
    assert config.category("fire").deadline.total_seconds() == 24 * 3600
    assert {c.name for c in config.communities} >= {"东关社区", "西关社区", "南街社区"}
    assert config.community("nanjie").chat.topic_id == 5
    assert config.community("fire_station").categories == frozenset({"fire"})
    assert str(config.timezone) == "Asia/Shanghai"
    # Relative storage paths are anchored at the config file, not the working directory.
    assert config.photo_dir == ROOT / "data" / "photos"
    assert config.database_url == f"sqlite+aiosqlite:///{ROOT / 'data' / 'suishou.db'}"


def test_gcj02_coordinates_are_converted_to_wgs84() -> None:
    config = load_config(EXAMPLE)
    nanjie = config.community("nanjie")
    expected = gcj02_to_wgs84(LatLon(36.0989, 113.2061))
    assert nanjie.centre == expected
    # The shift in this part of China is a few hundred metres: west and south.
    assert nanjie.centre.lon < 113.2061 and nanjie.centre.lat < 36.0989
    dongguan = config.community("dongguan")
    corners = [
        gcj02_to_wgs84(LatLon(lat, lon))
        for lon, lat in [
            (113.2061, 36.1049),
            (113.2181, 36.1049),
            (113.2181, 36.1169),
            (113.2061, 36.1169),
        ]
    ]
    expected = [c for p in corners for c in (p.lon, p.lat)]
    got = [c for xy in list(dongguan.boundary.exterior.coords)[:4] for c in xy]
    assert got == pytest.approx(expected, abs=1e-9)


def test_every_problem_is_reported_with_its_key_path(tmp_path: Path) -> None:
    raw = example()
    raw["bot"]["timezone"] = "Mars/Olympus"
    raw["categories"][1]["code"] = "sanitation"  # duplicate
    del raw["categories"][2]["deadline_hours"]
    raw["communities"][0]["boundary"][-1] = [113.3, 36.2]  # does not close
    raw["communities"][1]["chat_id"] = 12345  # a person, not a group
    raw["communities"][3]["categories"] = ["fire", "noise"]
    raw["communities"][2]["colour"] = "red"
    del raw["supervisors"]
    problems = problems_of(raw, tmp_path)
    text = "\n".join(problems)
    assert "bot.timezone: unknown time zone 'Mars/Olympus'" in text
    assert "categories[1].code: duplicate category 'sanitation'" in text
    assert "categories[2].deadline_hours: missing" in text
    assert "communities[0].boundary: polygon does not close" in text
    assert "communities[1].chat_id: a group chat id is negative" in text
    assert "communities[3].categories[1]: unknown category 'noise'" in text
    assert "communities[2].colour: unknown key" in text
    assert "supervisors: missing" in text
    # "fire" was renamed by the duplicate, so the fire station's restriction is flagged too.
    assert "communities[3].categories[0]: unknown category 'fire'" in text
    assert len(problems) == 9


def test_area_mistakes(tmp_path: Path) -> None:
    raw = example()
    raw["communities"][0]["boundary"] = [[113.2, 36.1], [113.21, 36.1], [113.2, 36.1]]
    raw["communities"][1]["boundary"] = [  # a bow tie crosses itself
        [113.19, 36.10],
        [113.20, 36.11],
        [113.20, 36.10],
        [113.19, 36.11],
        [113.19, 36.10],
    ]
    del raw["communities"][2]["radius_m"]
    raw["communities"][3]["centre"] = [36.1, 213.2]
    text = "\n".join(problems_of(raw, tmp_path))
    assert "communities[0].boundary: a polygon needs at least 4" in text
    assert "communities[1].boundary: polygon is not valid: Self-intersection" in text
    assert "communities[2].radius_m: a centre needs a radius_m" in text
    assert "communities[3].centre: [36.1, 213.2] is not a longitude, latitude pair" in text


def test_two_communities_cannot_share_one_chat_and_topic(tmp_path: Path) -> None:
    raw = example()
    raw["communities"][1]["chat_id"] = raw["communities"][0]["chat_id"]
    text = "\n".join(problems_of(raw, tmp_path))
    assert "communities[1].chat_id: chat -1001000000001 (topic None) is already used" in text


def test_boundary_from_real_geojson_file(tmp_path: Path) -> None:
    geojson = shared_real("140400_full.json")
    raw = example()
    raw["communities"][0] = {
        "id": "huguan",
        "name": "壶关县",
        "chat_id": -1001000000009,
        "coordinates": "gcj02",
        "boundary_file": str(geojson),
        "boundary_feature": "壶关县",
    }
    config = parse_config(raw, base_dir=tmp_path)
    huguan = config.community("huguan")
    assert huguan.boundary.is_valid
    min_lon, _, max_lon, _ = huguan.boundary.bounds
    assert 113.12 < min_lon < 113.1314 and 113.65 < max_lon < 113.6610  # shifted west
    raw["communities"][0]["boundary_feature"] = "不存在县"
    text = "\n".join(problems_of(raw, tmp_path))
    assert "communities[0].boundary_feature: expected exactly one matching feature" in text


def test_check_config_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SUISHOU_BOT_TOKEN", raising=False)
    assert cli(["check-config", str(EXAMPLE)]) == 0  # no token: Telegram off, the web alone
    out = capsys.readouterr().out
    assert "OK" in out
    assert "SUISHOU_BOT_TOKEN is not set, so Telegram is off" in out

    monkeypatch.setenv("SUISHOU_BOT_TOKEN", "123456:secret-token-value")
    assert cli(["check-config", str(EXAMPLE)]) == 0
    out = capsys.readouterr()
    assert "OK" in out.out and "4 communities" in out.out
    assert "secret-token-value" not in out.out + out.err

    bad = tmp_path / "bad.toml"
    bad.write_text("[bot\n", encoding="utf-8")
    assert cli(["check-config", str(bad)]) == 1
    assert "not valid TOML" in capsys.readouterr().err


def test_casework_and_calendar_settings(tmp_path: Path) -> None:
    config = load_config(EXAMPLE)
    assert config.casework.confirm_window.total_seconds() == 72 * 3600
    assert config.casework.duplicate_radius_m == 150
    assert config.calendar is not None
    assert not config.calendar.is_working_day(date(2026, 10, 1))
    assert config.calendar.is_working_day(date(2026, 10, 10))  # 调休
    raw = example()
    raw["casework"]["confirm_hours"] = 0
    raw["calendar"]["periods"] = [["18:00", "08:30"]]
    raw["calendar"]["holidays"] = ["2026-13-01"]
    text = "\n".join(problems_of(raw, tmp_path))
    assert "casework.confirm_hours: must be positive" in text
    assert "calendar.holidays: expected dates such as 2026-10-01" in text
    assert "calendar: " in text


def test_working_hours_deadline(tmp_path: Path) -> None:
    from datetime import datetime

    from bot.domain.deadlines import due_at

    raw = example()
    raw["categories"][0]["deadline_hours"] = 7
    raw["categories"][0]["working_hours"] = True
    config = parse_config(raw, base_dir=tmp_path)
    tz = config.timezone
    friday_afternoon = datetime(2026, 11, 20, 16, 0, tzinfo=tz)
    # 2 h on Friday, then 3.5 h + 1.5 h on Monday: due Monday 16:00, not Friday 23:00.
    assert due_at(config, friday_afternoon, config.category("sanitation")) == datetime(
        2026, 11, 23, 16, 0, tzinfo=tz
    )
    assert due_at(config, friday_afternoon, config.category("fire")) == datetime(
        2026, 11, 21, 16, 0, tzinfo=tz
    )
