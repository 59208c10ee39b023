"""console indexes: the queue's pages by state in ticket and deadline order, the map's viewport

The queue's desk index starts with (community_id, status), so it replaces
ix_reports_community_status, which served nothing it does not.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_reports_desk_newest": ["community_id", "status", "id", "category"],
    "ix_reports_desk_urgent": ["community_id", "status", "deadline_at", "id", "category"],
    "ix_reports_county_newest": ["status", "id", "category"],
    "ix_reports_county_urgent": ["status", "deadline_at", "id", "category"],
    "ix_reports_map_place": [
        "lat",
        "lon",
        "created_at",
        "status",
        "deadline_at",
        "category",
        "community_id",
    ],
    "ix_reports_map_time": [
        "created_at",
        "lat",
        "lon",
        "status",
        "deadline_at",
        "category",
        "community_id",
    ],
}


LIVE = "status NOT IN ('closed', 'rejected')"


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "reports", columns)
    op.create_index(
        "ix_reports_map_live",
        "reports",
        INDEXES["ix_reports_map_place"],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.drop_index("ix_reports_community_status", table_name="reports")


def downgrade() -> None:
    op.create_index("ix_reports_community_status", "reports", ["community_id", "status"])
    for name in [*INDEXES, "ix_reports_map_live"]:
        op.drop_index(name, table_name="reports")
