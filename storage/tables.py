"""Table definitions (SQLAlchemy Core), the single description of the schema.

Kept portable: no SQLite-only types, timestamps stored as UTC, JSON as text, so a
PostgreSQL deployment only needs another database URL and the same migrations.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import false as sa_false
from sqlalchemy.types import TypeDecorator

from storage.durations import seconds_between

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, naive UTC in the column.

    SQLite has no time zone type; storing naive UTC everywhere keeps ordering and
    comparisons right on every backend.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


riders = Table(
    "riders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("display_name", String(64), nullable=False),
    Column("platform", String(16)),
    Column("phone", String(32)),
    Column("language", String(8)),
    # What the rider's next plain text means: "display_name", "note" or nothing.
    Column("awaiting", String(16)),
    Column("registered_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    # Since when messages cannot reach the rider (blocked the bot, account deleted); cleared
    # when the rider writes to the bot again. Shown on their cards so staff know.
    Column("unreachable_at", UtcDateTime),
)

# A rider's accounts: (channel, external_id) -> rider. A Telegram rider is ("telegram", their
# user id); a web rider an anonymous device ("web", the id inside its signed cookie). A rider
# who linked the two has both.
rider_accounts = Table(
    "rider_accounts",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("external_id", String(128), primary_key=True),
    Column("rider_id", ForeignKey("riders.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# Staff are persons: a community worker or a supervisor, with accounts on channels
# (("telegram", user id), later ("wecom", userid)) and desks. reports.handler_id,
# events.actor_id (staff and supervisor events) and staff_prompts.staff_id name a staff.id.
# Staff who acted before persons existed kept their Telegram id as their staff.id.
staff = Table(
    "staff",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("external_id", String(64), primary_key=True),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# The desks a person may work from outside a chat (the web console): a community id, or
# "county" for supervisors. In a Telegram chat, belonging to the desk's chat is the proof.
staff_grants = Table(
    "staff_grants",
    metadata,
    Column("staff_id", BigInteger, ForeignKey("staff.id"), primary_key=True),
    Column("desk", String(32), primary_key=True),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

# One-time codes a Telegram rider gets with /link and types on the web page, so the device's
# reports and points become theirs. Only the code's SHA-256 is kept.
link_codes = Table(
    "link_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("rider_id", ForeignKey("riders.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

photos = Table(
    "photos",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

drafts = Table(
    "drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rider_id", ForeignKey("riders.id"), nullable=False),
    # open → submitted | cancelled | expired
    Column("status", String(12), nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("location_source", String(8)),
    Column("category", String(32)),
    Column("note", Text),
    # Photos beyond the per-report limit, counted so the rider can be told.
    Column("photos_dropped", Integer, nullable=False, default=0),
    # Set when the rider saw a similar open report nearby and chose to submit anyway.
    Column("not_duplicate", Boolean, nullable=False, default=False, server_default=sa_false()),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # A form sent whole (the web page) carries a key the phone made: the same key again (a
    # double tap, a retried POST) finds this draft and its report instead of a second one.
    Column("submission_key", String(64)),
    # A draft closed as "joined" (+1): the report it joined, so a form sent again finds it.
    Column("joined_report_id", Integer),
    Index("ix_drafts_rider_status", "rider_id", "status"),
    UniqueConstraint("rider_id", "submission_key"),
)

draft_photos = Table(
    "draft_photos",
    metadata,
    Column("draft_id", ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_sha256", ForeignKey("photos.sha256"), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("media_group_id", String(64)),
    Column("added_at", UtcDateTime, nullable=False),
)

# Reports not closed: open, or waiting for the rider (the map's partial index).
LIVE_STATUSES = "status NOT IN ('closed', 'rejected')"

reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    # One report per draft: a second Submit finds this row instead of creating another.
    Column("draft_id", ForeignKey("drafts.id"), nullable=False, unique=True),
    Column("rider_id", ForeignKey("riders.id"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("location_source", String(8), nullable=False),
    Column("note", Text),
    Column("community_id", String(64)),  # NULL: the supervisors' queue
    Column("route_method", String(12), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deadline_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    # Who handles it: the staff member who accepted (受理) it.
    Column("handler_id", BigInteger),
    Column("handler_name", String(64)),
    # The first time any community accepted it: it earns the rider points from then on.
    Column("accepted_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("outcome", String(12)),  # fixed | rejected, once closed
    Column("close_reason", String(16)),  # rejection reason, or how a fix was confirmed
    Column("duplicate_of", Integer),
    Column("transfer_count", Integer, nullable=False, default=0, server_default="0"),
    Column("resolve_count", Integer, nullable=False, default=0, server_default="0"),
    Column("reopen_count", Integer, nullable=False, default=0, server_default="0"),
    # The deadline sweep acts once each: before the deadline, at it, and to the supervisors.
    Column("reminded_at", UtcDateTime),
    Column("overdue_at", UtcDateTime),
    Column("escalated_at", UtcDateTime),
    # The console's queue (storage/queue.py): each status's reports of a desk, or of the
    # county, in ticket order and in deadline order, the category along for the filter.
    Index("ix_reports_desk_newest", "community_id", "status", "id", "category"),
    Index("ix_reports_desk_urgent", "community_id", "status", "deadline_at", "id", "category"),
    Index("ix_reports_county_newest", "status", "id", "category"),
    Index("ix_reports_county_urgent", "status", "deadline_at", "id", "category"),
    # The console's map (storage/map_points.py), covering: a small viewport walks the place
    # (ix_reports_map_strip, below), a short period walks the time, the live reports (a few
    # percent) have their own.
    # PostgreSQL's carry the id too (SQLite's rowid is in every index): the map's sample
    # and its clusters' first report are then read from the index alone.
    Index(
        "ix_reports_map_live",
        "lat",
        "lon",
        "created_at",
        "status",
        "deadline_at",
        "category",
        "community_id",
        sqlite_where=text(LIVE_STATUSES),
        postgresql_where=text(LIVE_STATUSES),
        postgresql_include=["id"],
    ),
    Index(
        "ix_reports_map_time",
        "created_at",
        "lat",
        "lon",
        "status",
        "deadline_at",
        "category",
        "community_id",
        postgresql_include=["id"],
    ),
    # The figures read only what a period touches; these indexes cover those queries
    # (storage/figures.py): made in the period, closed in it, open at its end, per rider.
    Index(
        "ix_reports_created",
        "created_at",
        "community_id",
        "rider_id",
        "resolve_count",
        "reopen_count",
        "outcome",
        "accepted_at",
    ),
    Index(
        "ix_reports_closed", "closed_at", "community_id", "outcome", "deadline_at", "created_at"
    ),
    Index(
        "ix_reports_community_created",
        "community_id",
        "created_at",
        "resolve_count",
        "reopen_count",
    ),
    Index(
        "ix_reports_community_closed",
        "community_id",
        "closed_at",
        "outcome",
        "deadline_at",
        "created_at",
    ),
    Index("ix_reports_rider_created", "rider_id", "created_at", "outcome", "accepted_at"),
)

# Strips of latitude per degree (~220 m each): the map's place index starts with the strip,
# then the longitude, so a viewport is read as a few short runs (one per strip it crosses)
# instead of the whole band of its latitudes across the county.
LAT_STRIPS = 512


def lat_strip(lat: ColumnElement[float]) -> ColumnElement[int]:
    """The latitude's strip, as indexed: the same expression, constants written out (a
    bound value would not match the index's). SQLite's CAST truncates, PostgreSQL's
    rounds: callers ask for a strip more on either side (storage/map_points.py)."""
    return cast((lat + literal_column("90")) * literal_column(str(LAT_STRIPS)), Integer)


Index(
    "ix_reports_map_strip",
    lat_strip(reports.c.lat),
    reports.c.lon,
    reports.c.lat,
    reports.c.created_at,
    reports.c.status,
    reports.c.deadline_at,
    reports.c.category,
    reports.c.community_id,
    postgresql_include=["id"],
)

# The county's median and 90th percentile closure times: the period's closures in the order
# of their closure time, so a rank is found by walking the index, not by sorting a year.
Index(
    "ix_reports_closure_time",
    seconds_between(reports.c.created_at, reports.c.closed_at),
    reports.c.closed_at,
    sqlite_where=reports.c.outcome.isnot(None),
    postgresql_where=reports.c.outcome.isnot(None),
    postgresql_include=["created_at"],  # an index-only walk: the expression's columns
)

report_photos = Table(
    "report_photos",
    metadata,
    Column("report_id", ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("photo_sha256", ForeignKey("photos.sha256"), primary_key=True),
    Column("position", Integer, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", ForeignKey("reports.id"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("actor_kind", String(12), nullable=False),  # rider | staff | supervisor | system
    Column("actor_id", BigInteger),
    Column("at", UtcDateTime, nullable=False),
    Column("data", Text, nullable=False, default="{}"),  # JSON object
    Index("ix_events_report", "report_id", "id"),
    Index("ix_events_kind_at", "kind", "at", "report_id"),
)

card_messages = Table(
    "card_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", ForeignKey("reports.id"), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("thread_id", BigInteger),
    Column("message_id", BigInteger, nullable=False),
    # card | photo | location | moved (a card left behind by a transfer) | relay (a message
    # relayed to a rider, so their reply finds the report) | notice
    Column("kind", String(12), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("chat_id", "message_id"),
    Index("ix_card_messages_report", "report_id"),
)


report_followers = Table(
    "report_followers",
    metadata,
    Column("report_id", ForeignKey("reports.id"), primary_key=True),
    Column("rider_id", ForeignKey("riders.id"), primary_key=True),
    Column("joined_at", UtcDateTime, nullable=False),
)

# How far a rider has read each report's history (the web page's unread updates): events of
# the report with a larger id are news to them, until they see the report.
rider_reads = Table(
    "rider_reads",
    metadata,
    Column("rider_id", ForeignKey("riders.id"), primary_key=True),
    Column("report_id", ForeignKey("reports.id"), primary_key=True),
    Column("seen_event_id", Integer, nullable=False),
)

# A question the bot asked staff in a group ("reply with the resolution note"); the answer
# is a reply to that message, so the pending step survives restarts.
staff_prompts = Table(
    "staff_prompts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("report_id", ForeignKey("reports.id"), nullable=False),
    Column("action", String(16), nullable=False),
    Column("staff_id", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),
    UniqueConstraint("chat_id", "message_id"),
)


# A weekly digest that went out: (week, target) is unique, so a week is never sent twice.
digests_sent = Table(
    "digests_sent",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("week", String(8), nullable=False),  # ISO week, e.g. 2026-W47
    Column("target", String(64), nullable=False),  # a community id, or "_sup"
    Column("chat_id", BigInteger, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    UniqueConstraint("week", "target"),
)


# A group chat Telegram upgraded to a supergroup: messages for the old id go to the new one.
chat_moves = Table(
    "chat_moves",
    metadata,
    Column("old_chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("new_chat_id", BigInteger, nullable=False),
    Column("moved_at", UtcDateTime, nullable=False),
)


async def photo_list(conn: AsyncConnection, link: Table, key: str, key_id: int) -> tuple[str, ...]:
    """The photos (sha256) linked to a draft or a report, in the order they were sent."""
    rows = await conn.execute(
        select(link.c.photo_sha256).where(link.c[key] == key_id).order_by(link.c.position)
    )
    return tuple(rows.scalars().all())


# Every outgoing message, written in the transaction of the change that causes it and
# delivered by the worker (bot/delivery/worker.py): per chat in order, at least once.
# `payload` is the intent as JSON (bot/delivery/intents.py); rows stay a week for the record.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),  # telegram | web | ...
    Column("chat_id", BigInteger, nullable=False),  # the order key, with the channel
    Column("thread_id", BigInteger),
    Column("kind", String(16), nullable=False),  # message | card | card_edit | edit | pin | prompt
    Column("report_id", Integer),
    Column("payload", Text, nullable=False),
    Column("collapse_key", String(64)),  # a pending row with the same key makes a new one moot
    Column("state", String(8), nullable=False),  # pending | sent | failed | dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", UtcDateTime, nullable=False),
    Column("claimed_by", String(80)),
    Column("claimed_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime),
    Column("result", Text),  # the message ids (JSON), or why it failed
    Index("ix_outbox_chat", "channel", "chat_id", "state", "id"),
    Index("ix_outbox_state_due", "state", "not_before"),
)


# One-time links into the staff console (storage/staff_links.py): an invite made with
# `suishou staff invite`, or a sign-in link asked for with /web in a dispatcher chat. Only
# the token's SHA-256 is kept; a link works once, until it expires.
staff_links = Table(
    "staff_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False, index=True),
    Column("desk", String(32), nullable=False),  # a community id, or "county"
    Column("kind", String(8), nullable=False),  # invite | signin
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

# Signed-in staff in the web console (storage/staff_sessions.py): the cookie holds the
# session id, this table its SHA-256, so a stolen database holds no usable session.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("staff_id", BigInteger, ForeignKey("staff.id"), nullable=False, index=True),
    Column("desk", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
)
