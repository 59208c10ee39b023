"""figures in SQL: accepted_at, and indexes that cover the period-bounded figure queries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 05:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("accepted_at", sa.DateTime(), nullable=True))
    # Reports accepted before this column existed: the first "accepted" event says when.
    op.execute(
        "UPDATE reports SET accepted_at = (SELECT MIN(events.at) FROM events "
        "WHERE events.report_id = reports.id AND events.kind = 'accepted')"
    )
    op.drop_index("ix_reports_rider", table_name="reports")
    op.create_index(
        "ix_reports_created",
        "reports",
        [
            "created_at",
            "community_id",
            "rider_id",
            "resolve_count",
            "reopen_count",
            "outcome",
            "accepted_at",
        ],
    )
    op.create_index(
        "ix_reports_closed",
        "reports",
        ["closed_at", "community_id", "outcome", "deadline_at", "created_at"],
    )
    op.create_index(
        "ix_reports_community_created",
        "reports",
        ["community_id", "created_at", "resolve_count", "reopen_count"],
    )
    op.create_index(
        "ix_reports_community_closed",
        "reports",
        ["community_id", "closed_at", "outcome", "deadline_at", "created_at"],
    )
    op.create_index(
        "ix_reports_rider_created", "reports", ["rider_id", "created_at", "outcome", "accepted_at"]
    )
    op.create_index("ix_events_kind_at", "events", ["kind", "at", "report_id"])


def downgrade() -> None:
    op.drop_index("ix_events_kind_at", table_name="events")
    for name in (
        "ix_reports_rider_created",
        "ix_reports_community_closed",
        "ix_reports_community_created",
        "ix_reports_closed",
        "ix_reports_created",
    ):
        op.drop_index(name, table_name="reports")
    op.create_index("ix_reports_rider", "reports", ["rider_id"])
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("accepted_at")
