"""map indexes carry the report id on PostgreSQL (index-only scans for the map's sample)

SQLite's indexes hold the rowid already; there nothing changes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COLUMNS = ["lat", "lon", "created_at", "status", "deadline_at", "category", "community_id"]
TIME = ["created_at", "lat", "lon", "status", "deadline_at", "category", "community_id"]
LIVE = "status NOT IN ('closed', 'rejected')"


def _indexes(include: list[str]) -> None:
    op.create_index("ix_reports_map_place", "reports", COLUMNS, postgresql_include=include)
    op.create_index("ix_reports_map_time", "reports", TIME, postgresql_include=include)
    op.create_index(
        "ix_reports_map_live",
        "reports",
        COLUMNS,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
        postgresql_include=include,
    )


def _drop() -> None:
    for name in ("ix_reports_map_place", "ix_reports_map_time", "ix_reports_map_live"):
        op.drop_index(name, table_name="reports")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _drop()
    _indexes(["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _drop()
    _indexes([])
