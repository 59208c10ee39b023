"""riders.unreachable_at: since when the rider cannot be messaged (blocked the bot, deleted)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("riders") as batch:
        batch.add_column(sa.Column("unreachable_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("riders") as batch:
        batch.drop_column("unreachable_at")
