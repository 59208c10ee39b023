"""Reading a configuration file: `load_config` never stops at the first mistake.

It gathers each problem with its key path (``communities[2].boundary``) so an operator can
fix a file in one pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.model import (
    COORDINATE_SYSTEMS,
    DEFAULT_API_URL,
    DEFAULT_FILE_URL,
    LANGUAGES,
    Category,
    ChatTarget,
    Community,
    Config,
    Supervisors,
)
from bot.config.places import read_boundary, read_point
from bot.config.reader import ConfigError, Reader, read_table
from bot.config.sections import read_calendar, read_casework, read_digest, read_limits, read_points
from bot.config.web import parse_web


def load_config(path: str | Path) -> Config:
    """Read and validate a configuration file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return parse_config(raw, base_dir=path.parent, source=path)


def parse_config(raw: Mapping[str, Any], *, base_dir: Path, source: Path | None = None) -> Config:
    r = Reader(base_dir=base_dir)
    r.unknown_keys(
        raw,
        "",
        {
            "bot",
            "storage",
            "reports",
            "categories",
            "communities",
            "supervisors",
            "casework",
            "calendar",
            "digest",
            "points",
            "limits",
            "web",
        },
    )
    bot = read_table(r, raw, "bot")
    storage = read_table(r, raw, "storage")
    reports = read_table(r, raw, "reports")
    r.unknown_keys(
        bot, "bot", {"token_env", "api_base_url", "api_file_url", "timezone", "language"}
    )
    r.unknown_keys(storage, "storage", {"database_url", "photo_dir"})
    r.unknown_keys(
        reports,
        "reports",
        {"draft_ttl_minutes", "album_wait_seconds", "max_photos", "max_photo_mb"},
    )

    token_env = r.get(bot, "bot", "token_env", str, "SUISHOU_BOT_TOKEN") or "SUISHOU_BOT_TOKEN"
    tz_name = r.get(bot, "bot", "timezone", str, "Asia/Shanghai") or "Asia/Shanghai"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        r.problem("bot.timezone", f"unknown time zone {tz_name!r}")
        tz = ZoneInfo("Asia/Shanghai")
    language = r.get(bot, "bot", "language", str, "zh") or "zh"
    if language not in LANGUAGES:
        r.problem("bot.language", f"must be one of {', '.join(LANGUAGES)}")
        language = "zh"

    db_url = r.get(storage, "storage", "database_url", str, "sqlite+aiosqlite:///data/suishou.db")
    photo_dir = Path(r.get(storage, "storage", "photo_dir", str, "data/photos") or "data/photos")
    draft_ttl = r.get(reports, "reports", "draft_ttl_minutes", int, 120)
    album_wait = r.get(reports, "reports", "album_wait_seconds", float, 1.5)
    max_photos = r.get(reports, "reports", "max_photos", int, 5)
    max_mb = r.get(reports, "reports", "max_photo_mb", int, 20)
    for key, value, low in (
        ("draft_ttl_minutes", draft_ttl, 1),
        ("max_photos", max_photos, 1),
        ("max_photo_mb", max_mb, 1),
    ):
        if value is not None and value < low:
            r.problem(f"reports.{key}", f"must be at least {low}")
    if album_wait is not None and not 0 <= album_wait <= 10:
        r.problem("reports.album_wait_seconds", "must be between 0 and 10")

    categories = tuple(_categories(r, raw))
    codes = {c.code for c in categories}
    communities = tuple(_communities(r, raw, codes))
    supervisors = _supervisors(r, raw)
    casework = read_casework(r, raw)
    calendar = read_calendar(r, raw, tz)
    digest = read_digest(r, raw, tz)
    points = read_points(r, raw)
    limits = read_limits(r, raw)
    web = parse_web(r, raw, base_dir)
    _check_chats(r, communities, supervisors)

    if r.problems:
        raise ConfigError(r.problems)
    assert supervisors is not None  # else _supervisors recorded a problem
    return Config(
        token_env=token_env,
        api_base_url=r.get(bot, "bot", "api_base_url", str, DEFAULT_API_URL),
        api_file_url=r.get(bot, "bot", "api_file_url", str, DEFAULT_FILE_URL),
        timezone=tz,
        language=language,
        database_url=_resolve_sqlite(db_url, base_dir),
        photo_dir=photo_dir if photo_dir.is_absolute() else base_dir / photo_dir,
        draft_ttl=timedelta(minutes=draft_ttl),
        album_wait_seconds=album_wait,
        max_photos=max_photos,
        max_photo_bytes=max_mb * 1024 * 1024,
        categories=categories,
        communities=communities,
        supervisors=supervisors,
        casework=casework,
        calendar=calendar,
        digest=digest,
        points=points,
        limits=limits,
        web=web,
        source=source,
    )


def _array_of_tables(
    r: Reader, raw: Mapping[str, Any], key: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    items = raw.get(key)
    if items is None:
        r.problem(key, "missing: define at least one [[" + key + "]]")
        return
    if not isinstance(items, list) or not items:
        r.problem(key, "expected one or more [[" + key + "]] tables")
        return
    for i, item in enumerate(items):
        path = f"{key}[{i}]"
        if not isinstance(item, dict):
            r.problem(path, "expected a table")
            continue
        yield path, item


def _categories(r: Reader, raw: Mapping[str, Any]) -> Iterator[Category]:
    seen: set[str] = set()
    for path, item in _array_of_tables(r, raw, "categories"):
        r.unknown_keys(
            item, path, {"code", "name_zh", "name_en", "icon", "deadline_hours", "working_hours"}
        )
        working = r.get(item, path, "working_hours", bool, False)
        code = r.get(item, path, "code", str, required=True)
        name_zh = r.get(item, path, "name_zh", str, required=True)
        name_en = r.get(item, path, "name_en", str, required=True)
        icon = r.get(item, path, "icon", str, "")
        hours = r.get(item, path, "deadline_hours", (int, float), required=True)
        if code is not None:
            if not code.isascii() or not code.replace("_", "").isalnum() or len(code) > 16:
                r.problem(f"{path}.code", "use up to 16 ASCII letters, digits or _")
            elif code in seen:
                r.problem(f"{path}.code", f"duplicate category {code!r}")
            seen.add(code)
        if hours is not None and hours <= 0:
            r.problem(f"{path}.deadline_hours", "must be positive")
        if None not in (code, name_zh, name_en, hours):
            yield Category(
                code, name_zh, name_en, icon or "", timedelta(hours=hours), bool(working)
            )


def _chat(r: Reader, item: Mapping[str, Any], path: str) -> ChatTarget | None:
    chat_id = r.get(item, path, "chat_id", int, required=True)
    topic_id = r.get(item, path, "topic_id", int, None)
    if chat_id is None:
        return None
    if chat_id >= 0:
        r.problem(
            f"{path}.chat_id",
            "a group chat id is negative (e.g. -1001234567890); "
            "a positive id is a person, not a group",
        )
        return None
    if topic_id is not None and topic_id <= 0:
        r.problem(f"{path}.topic_id", "must be a positive forum topic id")
    return ChatTarget(chat_id, topic_id)


def _communities(r: Reader, raw: Mapping[str, Any], codes: set[str]) -> Iterator[Community]:
    seen: set[str] = set()
    for path, item in _array_of_tables(r, raw, "communities"):
        r.unknown_keys(
            item,
            path,
            {
                "id",
                "name",
                "chat_id",
                "topic_id",
                "coordinates",
                "boundary",
                "boundary_file",
                "boundary_feature",
                "centre",
                "radius_m",
                "categories",
            },
        )
        cid = r.get(item, path, "id", str, required=True)
        name = r.get(item, path, "name", str, required=True)
        chat = _chat(r, item, path)
        if cid is not None:
            if not re.fullmatch(r"[A-Za-z0-9_]{1,24}", cid) or cid == "_sup":
                # It travels inside button data (64 bytes at most).
                r.problem(f"{path}.id", "use 1 to 24 ASCII letters, digits or _")
            elif cid == "county":
                # The supervisors' desk (bot/people/staff.py COUNTY): a community of that
                # id would be it, and a grant for it a grant over every community.
                r.problem(f"{path}.id", "'county' names the supervisors' desk; choose another")
            elif cid in seen:
                r.problem(f"{path}.id", f"duplicate community id {cid!r}")
            seen.add(cid)
        system = r.get(item, path, "coordinates", str, "wgs84")
        if system not in COORDINATE_SYSTEMS:
            r.problem(f"{path}.coordinates", "must be wgs84 or gcj02")
            system = "wgs84"
        boundary = read_boundary(r, item, path, system)
        centre = read_point(r, item.get("centre"), f"{path}.centre", system)
        radius = r.get(item, path, "radius_m", (int, float), None)
        if radius is not None and radius <= 0:
            r.problem(f"{path}.radius_m", "must be positive")
        if (centre is None) != (radius is None) and "centre" in item:
            r.problem(f"{path}.radius_m", "a centre needs a radius_m")
        if radius is not None and "centre" not in item:
            r.problem(f"{path}.centre", "radius_m needs a centre")
        if (
            boundary is None
            and centre is None
            and not any(k in item for k in ("boundary", "boundary_file", "centre"))
        ):
            r.problem(path, "give a boundary (or boundary_file) or a centre with radius_m")
        cats = r.get(item, path, "categories", list, None)
        if cats is not None:
            for j, code in enumerate(cats):
                if code not in codes:
                    r.problem(f"{path}.categories[{j}]", f"unknown category {code!r}")
        if cid and name and chat:
            yield Community(
                cid,
                name,
                chat,
                boundary,
                centre,
                float(radius) if radius is not None else None,
                frozenset(cats) if cats is not None else None,
            )


def _supervisors(r: Reader, raw: Mapping[str, Any]) -> Supervisors | None:
    if "supervisors" not in raw:
        r.problem("supervisors", "missing: the chat that receives reports no community covers")
        return None
    table = read_table(r, raw, "supervisors")
    r.unknown_keys(table, "supervisors", {"name", "chat_id", "topic_id"})
    name = r.get(table, "supervisors", "name", str, "县网格管理中心")
    chat = _chat(r, table, "supervisors")
    return Supervisors(name, chat) if chat else None


def _check_chats(
    r: Reader, communities: tuple[Community, ...], supervisors: Supervisors | None
) -> None:
    """Two communities in the same chat and topic could not tell their cards apart.

    The supervisors' chat must be theirs alone: forum topics are no boundary (every member
    of a group can post in every topic), so a community sharing it, even in another topic,
    could act as the supervisors (any report, the county ledger).
    """
    owners: dict[ChatTarget, str] = {}
    if supervisors:
        owners[supervisors.chat] = "supervisors"
    for i, c in enumerate(communities):
        if supervisors and c.chat.chat_id == supervisors.chat.chat_id:
            r.problem(
                f"communities[{i}].chat_id",
                f"chat {c.chat.chat_id} is the supervisors' chat; every member of a group "
                "can post in every topic, so this community's staff could act as the "
                "supervisors: give the supervisors a group of their own",
            )
            continue
        other = owners.get(c.chat)
        if other:
            r.problem(
                f"communities[{i}].chat_id",
                f"chat {c.chat.chat_id} (topic {c.chat.topic_id}) is already used by {other}",
            )
        owners.setdefault(c.chat, f"community {c.id!r}")


def _resolve_sqlite(url: str, base_dir: Path) -> str:
    """A relative SQLite path is relative to the config file, like photo_dir."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        rest = url[len(prefix) :]
        if rest and rest != ":memory:":
            return prefix + str((base_dir / rest).resolve())
    return url
