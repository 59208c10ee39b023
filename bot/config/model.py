"""Configuration: what a deployment is made of, as frozen dataclasses.

Read from TOML by bot/config/loading.py; the rest of the application only ever sees these
(and only WGS-84 coordinates).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from shapely.geometry import MultiPolygon, Polygon

from bot.config.web import WebSettings
from bot.domain.geo import LatLon
from bot.domain.workcalendar import WorkingCalendar

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
