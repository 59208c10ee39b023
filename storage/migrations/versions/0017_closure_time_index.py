"""closure-time index: the county's median and 90th percentile of a year without a sort

The figures read two or three of a period's closure times by rank (ORDER BY the closure
time, OFFSET the rank). Ordered by that same expression, with closed_at beside it for the
period, the index gives the rank by walking, where a sort of a year's million closures took
seconds. The expression is `seconds_between(created_at, closed_at)` (storage/durations.py,
declared so in storage/tables.py) as each database writes it: the planner uses the index
only for queries that write that expression.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NAME = "ix_reports_closure_time"
SECONDS = {
    "sqlite": "((julianday(closed_at) - julianday(created_at)) * 86400.0)",
    "postgresql": "EXTRACT(EPOCH FROM closed_at - created_at)",
}


def upgrade() -> None:
    seconds = SECONDS[op.get_bind().dialect.name]
    op.create_index(
        NAME,
        "reports",
        [sa.text(seconds), "closed_at"],
        sqlite_where=sa.text("outcome IS NOT NULL"),
        postgresql_where=sa.text("outcome IS NOT NULL"),
        # PostgreSQL walks the index alone (index-only) only if it holds every column the
        # expression reads (SQLite has no INCLUDE, and no use for it here).
        postgresql_include=["created_at"],
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="reports")
