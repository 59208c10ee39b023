"""Configuration: a TOML file read into frozen dataclasses, with every problem reported.

`load_config` never stops at the first mistake: it gathers each problem with its key
path (``communities[2].boundary``) so an operator can fix a file in one pass. Coordinates
given in GCJ-02 (the system of Chinese map apps) are converted to WGS-84 here, so the rest
of the application only ever sees WGS-84.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
from apscheduler.triggers.cron import CronTrigger
from shapely.geometry import MultiPolygon, Polygon, shape

from bot.geo import LatLon, gcj02_to_wgs84, valid_latlon
from bot.web_settings import WebSettings, parse_web
from bot.workcalendar import WorkingCalendar

LANGUAGES = ("zh", "en")
COORDINATE_SYSTEMS = ("wgs84", "gcj02")
DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    icon: str
    deadline: timedelta
    working_hours: bool = False  # count the deadline in the office calendar's working time

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class ChatTarget:
    """A group chat, and the forum topic inside it when the group uses topics."""

    chat_id: int
    topic_id: int | None = None

    def covers(self, chat_id: int, topic_id: int | None) -> bool:
        """Is a message in this chat (and topic) one of ours? A whole group covers its topics."""
        return chat_id == self.chat_id and (self.topic_id is None or topic_id == self.topic_id)


@dataclass(frozen=True)
class Community:
    id: str
    name: str
    chat: ChatTarget
    boundary: Polygon | MultiPolygon | None  # WGS-84, lon/lat
    centre: LatLon | None  # WGS-84
    radius_m: float | None
    categories: frozenset[str] | None  # None: every category


@dataclass(frozen=True)
class Supervisors:
    name: str
    chat: ChatTarget


@dataclass(frozen=True)
class CaseworkSettings:
    """How long things may take before the bot reminds, escalates or closes on its own."""

    confirm_window: timedelta = timedelta(hours=72)
    remind_before: timedelta = timedelta(hours=4)
    escalate_after: timedelta = timedelta(0)
    sweep_interval: timedelta = timedelta(minutes=5)
    duplicate_radius_m: float = 150.0
    duplicate_window: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class DigestSettings:
    """When the weekly digest goes out: a crontab line in the configured time zone."""

    cron: str = "0 9 * * mon"
    trend_weeks: int = 8


@dataclass(frozen=True)
class PointsRules:
    """积分: what a rider earns for a report."""

    accepted: int = 2  # a community accepted (受理) it
    fixed_bonus: int = 3  # and it was closed as fixed


@dataclass(frozen=True)
class LimitSettings:
    """Per-rider limits: one person's flood must not slow everyone else down."""

    messages_per_minute: int = 20  # messages and button presses in the private chat
    reports_per_hour: int = 10


@dataclass(frozen=True)
class Config:
    token_env: str
    api_base_url: str
    api_file_url: str
    timezone: ZoneInfo
    language: str
    database_url: str
    photo_dir: Path
    draft_ttl: timedelta
    album_wait_seconds: float
    max_photos: int
    max_photo_bytes: int
    categories: tuple[Category, ...]
    communities: tuple[Community, ...]
    supervisors: Supervisors
    casework: CaseworkSettings = CaseworkSettings()
    calendar: WorkingCalendar | None = None
    digest: DigestSettings = DigestSettings()
    points: PointsRules = PointsRules()
    limits: LimitSettings = LimitSettings()
    web: WebSettings = field(default_factory=WebSettings)
    source: Path | None = None

    @cached_property
    def _categories_by_code(self) -> dict[str, Category]:
        return {c.code: c for c in self.categories}

    @cached_property
    def _communities_by_id(self) -> dict[str, Community]:
        return {c.id: c for c in self.communities}

    def category(self, code: str) -> Category | None:
        return self._categories_by_code.get(code)

    def community(self, community_id: str | None) -> Community | None:
        """By id, at once (a county may have hundreds; the ledger asks once per row)."""
        return None if community_id is None else self._communities_by_id.get(community_id)

    def category_label(self, code: str, lang: str) -> tuple[str, str]:
        """(icon, name) of a category code; a code no longer configured shows as itself."""
        category = self.category(code)
        return (category.icon, category.name(lang)) if category else ("", code)

    def desk_name(self, community_id: str | None) -> str:
        """Who handles reports of this community id: the community, or the supervisors."""
        community = self.community(community_id)
        return community.name if community else self.supervisors.name

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None


class ConfigError(Exception):
    """The configuration has problems; `problems` lists them as 'key.path: message'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class _Reader:
    """Walks the TOML tree, remembering key paths and collecting problems."""

    base_dir: Path
    problems: list[str] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def get(
        self,
        table: Mapping[str, Any],
        path: str,
        key: str,
        kind: type | tuple[type, ...],
        default: Any = ...,
        *,
        required: bool = False,
    ) -> Any:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if required or default is ...:
                self.problem(full, "missing")
                return None
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.problem(full, f"expected {_kind_name(kind)}, got a boolean")
            return None
        if not isinstance(value, kind):
            self.problem(full, f"expected {_kind_name(kind)}, got {type(value).__name__}")
            return None
        return value

    def unknown_keys(self, table: Mapping[str, Any], path: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                self.problem(f"{path}.{key}" if path else key, "unknown key")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "text", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


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
    r = _Reader(base_dir=base_dir)
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
    bot = _table(r, raw, "bot")
    storage = _table(r, raw, "storage")
    reports = _table(r, raw, "reports")
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
    casework = _casework(r, raw)
    calendar = _calendar(r, raw, tz)
    digest = _digest(r, raw, tz)
    points = _points(r, raw)
    limits = _limits(r, raw)
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


def _table(r: _Reader, raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        r.problem(key, "expected a table")
        return {}
    return value


def _array_of_tables(
    r: _Reader, raw: Mapping[str, Any], key: str
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


def _categories(r: _Reader, raw: Mapping[str, Any]) -> Iterator[Category]:
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


def _chat(r: _Reader, item: Mapping[str, Any], path: str) -> ChatTarget | None:
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


def _communities(r: _Reader, raw: Mapping[str, Any], codes: set[str]) -> Iterator[Community]:
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
            elif cid in seen:
                r.problem(f"{path}.id", f"duplicate community id {cid!r}")
            seen.add(cid)
        system = r.get(item, path, "coordinates", str, "wgs84")
        if system not in COORDINATE_SYSTEMS:
            r.problem(f"{path}.coordinates", "must be wgs84 or gcj02")
            system = "wgs84"
        boundary = _boundary(r, item, path, system)
        centre = _point(r, item.get("centre"), f"{path}.centre", system)
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


def _point(r: _Reader, value: Any, path: str, system: str) -> LatLon | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        r.problem(path, "expected [longitude, latitude]")
        return None
    lon, lat = float(value[0]), float(value[1])
    if not valid_latlon(lat, lon):
        r.problem(path, f"[{lon}, {lat}] is not a longitude, latitude pair")
        return None
    point = LatLon(lat, lon)
    return gcj02_to_wgs84(point) if system == "gcj02" else point


def _ring(r: _Reader, coords: Any, path: str, system: str) -> list[tuple[float, float]] | None:
    if not isinstance(coords, list) or len(coords) < 4:
        r.problem(
            path,
            "a polygon needs at least 4 [longitude, latitude] points, the last equal to the first",
        )
        return None
    points = []
    for k, value in enumerate(coords):
        p = _point(r, value, f"{path}[{k}]", system)
        if p is None:
            return None
        points.append(p)
    if coords[0] != coords[-1]:
        r.problem(
            path,
            f"polygon does not close: first point {coords[0]} differs from "
            f"last point {coords[-1]}",
        )
        return None
    return [(p.lon, p.lat) for p in points]


def _boundary(
    r: _Reader, item: Mapping[str, Any], path: str, system: str
) -> Polygon | MultiPolygon | None:
    geom: Polygon | MultiPolygon | None = None
    if "boundary" in item and "boundary_file" in item:
        r.problem(path, "give boundary or boundary_file, not both")
        return None
    if "boundary" in item:
        ring = _ring(r, item["boundary"], f"{path}.boundary", system)
        geom = Polygon(ring) if ring else None
        where = f"{path}.boundary"
    elif "boundary_file" in item:
        where = f"{path}.boundary_file"
        geom = _boundary_from_file(r, item, path, system)
    else:
        return None
    if geom is not None and not geom.is_valid:
        r.problem(where, f"polygon is not valid: {shapely.is_valid_reason(geom)}")
        return None
    return geom


def _boundary_from_file(
    r: _Reader, item: Mapping[str, Any], path: str, system: str
) -> Polygon | MultiPolygon | None:
    """A boundary from a GeoJSON file: the feature whose properties.name matches."""
    file_name = r.get(item, path, "boundary_file", str, required=True)
    feature_name = r.get(item, path, "boundary_feature", str, None)
    if file_name is None:
        return None
    file_path = Path(file_name)
    if not file_path.is_absolute():
        file_path = r.base_dir / file_path
    try:
        data = json.loads(file_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        r.problem(f"{path}.boundary_file", f"cannot read GeoJSON {file_path}: {exc}")
        return None
    features = data.get("features", [data]) if isinstance(data, dict) else []
    if feature_name is not None:
        features = [f for f in features if f.get("properties", {}).get("name") == feature_name]
    if len(features) != 1:
        r.problem(
            f"{path}.boundary_feature",
            f"expected exactly one matching feature in {file_path.name}, found {len(features)}",
        )
        return None
    try:
        geom = shape(features[0]["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        r.problem(f"{path}.boundary_file", f"not a GeoJSON geometry: {exc}")
        return None
    if not isinstance(geom, Polygon | MultiPolygon):
        r.problem(f"{path}.boundary_file", f"expected a polygon, found {geom.geom_type}")
        return None
    if system == "gcj02":
        geom = shapely.transform(geom, _gcj02_array_to_wgs84)
    return geom


def _gcj02_array_to_wgs84(coords: np.ndarray) -> np.ndarray:
    """shapely.transform callback: an (N, 2) array of GCJ-02 lon/lat to WGS-84."""
    out = [gcj02_to_wgs84(LatLon(float(lat), float(lon))) for lon, lat in coords]
    return np.array([(p.lon, p.lat) for p in out], dtype=float).reshape(-1, 2)


def _casework(r: _Reader, raw: Mapping[str, Any]) -> CaseworkSettings:
    table = _table(r, raw, "casework")
    p = "casework"
    fields = {
        "confirm_hours": 72,
        "remind_before_hours": 4,
        "escalate_after_hours": 0,
        "sweep_minutes": 5,
        "duplicate_radius_m": 150,
        "duplicate_days": 7,
    }
    r.unknown_keys(table, p, set(fields))
    v = {k: r.get(table, p, k, (int, float), d) for k, d in fields.items()}
    for key in ("confirm_hours", "sweep_minutes", "duplicate_days"):
        if v[key] is not None and v[key] <= 0:
            r.problem(f"{p}.{key}", "must be positive")
    for key in ("remind_before_hours", "escalate_after_hours", "duplicate_radius_m"):
        if v[key] is not None and v[key] < 0:
            r.problem(f"{p}.{key}", "must not be negative")
    v = {k: fields[k] if value is None else value for k, value in v.items()}
    return CaseworkSettings(
        confirm_window=timedelta(hours=v["confirm_hours"]),
        remind_before=timedelta(hours=v["remind_before_hours"]),
        escalate_after=timedelta(hours=v["escalate_after_hours"]),
        sweep_interval=timedelta(minutes=v["sweep_minutes"]),
        duplicate_radius_m=float(v["duplicate_radius_m"]),
        duplicate_window=timedelta(days=v["duplicate_days"]),
    )


def _calendar(r: _Reader, raw: Mapping[str, Any], tz: ZoneInfo) -> WorkingCalendar:
    """The office calendar for deadlines counted in working hours (working_hours = true)."""
    table = _table(r, raw, "calendar")
    p = "calendar"
    r.unknown_keys(table, p, {"periods", "weekdays", "holidays", "extra_workdays"})
    kwargs: dict[str, Any] = {"tz": tz}
    periods = r.get(table, p, "periods", list, None)
    if periods is not None:
        try:
            kwargs["periods"] = tuple(
                (time.fromisoformat(a), time.fromisoformat(b)) for a, b in periods
            )
        except (TypeError, ValueError):
            r.problem(f"{p}.periods", 'expected [["08:30", "12:00"], ["14:30", "18:00"]]')
    weekdays = r.get(table, p, "weekdays", list, None)
    if weekdays is not None:
        kwargs["weekdays"] = frozenset(weekdays)
    for key in ("holidays", "extra_workdays"):
        days = r.get(table, p, key, list, None)
        if days is None:
            continue
        try:
            kwargs[key] = frozenset(
                d if isinstance(d, date) else date.fromisoformat(d) for d in days
            )
        except (TypeError, ValueError):
            r.problem(f"{p}.{key}", "expected dates such as 2026-10-01")
    try:
        return WorkingCalendar(**kwargs)
    except (ValueError, TypeError) as exc:
        r.problem(p, str(exc))
        return WorkingCalendar(tz=tz)


def _digest(r: _Reader, raw: Mapping[str, Any], tz: ZoneInfo) -> DigestSettings:
    table = _table(r, raw, "digest")
    r.unknown_keys(table, "digest", {"cron", "trend_weeks"})
    cron = r.get(table, "digest", "cron", str, DigestSettings.cron) or DigestSettings.cron
    weeks = r.get(table, "digest", "trend_weeks", int, DigestSettings.trend_weeks)
    try:
        cron_trigger(cron, tz)
    except ValueError as exc:
        r.problem("digest.cron", f"not a crontab line (minute hour day month weekday): {exc}")
    if weeks is not None and not 1 <= weeks <= 52:
        r.problem("digest.trend_weeks", "must be between 1 and 52")
    return DigestSettings(cron=cron, trend_weeks=weeks or DigestSettings.trend_weeks)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(line: str, tz: ZoneInfo) -> CronTrigger:
    """A crontab line read the way cron reads it.

    APScheduler numbers weekdays from Monday = 0, cron from Sunday = 0, so "0 9 * * 1" would
    fire on Tuesday: weekday numbers are turned into names first (steps such as */2 stay).
    """
    fields = line.split()
    if len(fields) == 5:
        fields[4] = re.sub(r"(?<![/\d])\d+", lambda m: _WEEKDAYS[int(m.group()) % 7], fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=tz)


def _points(r: _Reader, raw: Mapping[str, Any]) -> PointsRules:
    table = _table(r, raw, "points")
    r.unknown_keys(table, "points", {"accepted", "fixed_bonus"})
    accepted = r.get(table, "points", "accepted", int, PointsRules.accepted)
    bonus = r.get(table, "points", "fixed_bonus", int, PointsRules.fixed_bonus)
    for key, value in (("accepted", accepted), ("fixed_bonus", bonus)):
        if value is not None and value < 0:
            r.problem(f"points.{key}", "must not be negative")
    return PointsRules(
        accepted=PointsRules.accepted if accepted is None else accepted,
        fixed_bonus=PointsRules.fixed_bonus if bonus is None else bonus,
    )


def _limits(r: _Reader, raw: Mapping[str, Any]) -> LimitSettings:
    table = _table(r, raw, "limits")
    defaults = LimitSettings()
    values: dict[str, int] = {}
    for key in ("messages_per_minute", "reports_per_hour"):
        value = r.get(table, "limits", key, int, getattr(defaults, key))
        if value is not None and value < 1:
            r.problem(f"limits.{key}", "must be at least 1")
        values[key] = value if value is not None and value >= 1 else getattr(defaults, key)
    r.unknown_keys(table, "limits", set(values))
    return LimitSettings(**values)


def _supervisors(r: _Reader, raw: Mapping[str, Any]) -> Supervisors | None:
    if "supervisors" not in raw:
        r.problem("supervisors", "missing: the chat that receives reports no community covers")
        return None
    table = _table(r, raw, "supervisors")
    r.unknown_keys(table, "supervisors", {"name", "chat_id", "topic_id"})
    name = r.get(table, "supervisors", "name", str, "县网格管理中心")
    chat = _chat(r, table, "supervisors")
    return Supervisors(name, chat) if chat else None


def _check_chats(
    r: _Reader, communities: tuple[Community, ...], supervisors: Supervisors | None
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
