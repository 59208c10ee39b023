"""Plain records read from the database; the application's rules live in bot/, not here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Rider:
    id: int
    display_name: str
    platform: str | None
    phone: str | None
    language: str | None
    awaiting: str | None
    registered_at: datetime | None
    created_at: datetime
    unreachable_at: datetime | None = None  # messages bounce: blocked the bot, deleted
    # The account the rider's notices go to: their Telegram account if they have one (a
    # chat reaches them wherever they are), else their first web device. None: no account.
    reach_channel: str | None = None
    reach_id: str | None = None

    def account(self, channel: str) -> str | None:
        """The rider's account id on `channel`, where that is the one they are reached on."""
        return self.reach_id if self.reach_channel == channel else None

    @property
    def registered(self) -> bool:
        return self.registered_at is not None


@dataclass(frozen=True)
class Draft:
    id: int
    rider_id: int
    status: str
    lat: float | None
    lon: float | None
    location_source: str | None
    category: str | None
    note: str | None
    photos: tuple[str, ...]  # sha256 in the order received
    photos_dropped: int
    not_duplicate: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Report:
    id: int
    draft_id: int
    rider_id: int
    category: str
    lat: float
    lon: float
    location_source: str
    note: str | None
    community_id: str | None
    route_method: str
    status: str
    created_at: datetime
    deadline_at: datetime
    closed_at: datetime | None
    photos: tuple[str, ...]
    handler_id: int | None = None
    handler_name: str | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    close_reason: str | None = None
    duplicate_of: int | None = None
    transfer_count: int = 0
    resolve_count: int = 0
    reopen_count: int = 0
    reminded_at: datetime | None = None
    overdue_at: datetime | None = None
    escalated_at: datetime | None = None


@dataclass(frozen=True)
class CardMessage:
    report_id: int
    chat_id: int
    thread_id: int | None
    message_id: int
    kind: str
