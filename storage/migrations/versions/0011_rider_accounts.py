"""Telegram riders are accounts too: rider_accounts ("telegram", user id); riders.tg_user_id goes

A rider is a person with accounts on channels, whichever came first. Every rider's Telegram
id moves into rider_accounts, and the column that made Telegram the rider's identity is
dropped.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO rider_accounts (channel, external_id, rider_id, created_at) "
        "SELECT 'telegram', CAST(tg_user_id AS VARCHAR(128)), id, created_at FROM riders "
        "WHERE tg_user_id IS NOT NULL"
    )
    with op.batch_alter_table("riders") as batch:
        batch.drop_constraint(op.f("uq_riders_tg_user_id"), type_="unique")
        batch.drop_column("tg_user_id")


def downgrade() -> None:
    with op.batch_alter_table("riders") as batch:
        batch.add_column(sa.Column("tg_user_id", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(op.f("uq_riders_tg_user_id"), ["tg_user_id"])
    op.execute(
        "UPDATE riders SET tg_user_id = (SELECT CAST(a.external_id AS BIGINT) FROM "
        "rider_accounts a WHERE a.rider_id = riders.id AND a.channel = 'telegram')"
    )
    op.execute("DELETE FROM rider_accounts WHERE channel = 'telegram'")
