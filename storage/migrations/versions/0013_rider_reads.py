"""rider_reads: how far a rider has read each report's history (unread updates on the web);
drafts.joined_report_id: the report a +1 draft joined

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("joined_report_id", sa.Integer(), nullable=True))
    op.create_table(
        "rider_reads",
        sa.Column("rider_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("seen_event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_rider_reads_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name=op.f("fk_rider_reads_rider_id_riders")
        ),
        sa.PrimaryKeyConstraint("rider_id", "report_id", name=op.f("pk_rider_reads")),
    )


def downgrade() -> None:
    op.drop_table("rider_reads")
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("joined_report_id")
