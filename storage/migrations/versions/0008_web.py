"""web riders: rider_accounts (channel, external_id) -> rider; riders.tg_user_id optional;
drafts.submission_key makes a web form's submit idempotent

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("riders") as batch:
        batch.alter_column("tg_user_id", existing_type=sa.BigInteger(), nullable=True)
    op.create_table(
        "rider_accounts",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("rider_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rider_id"], ["riders.id"], name=op.f("fk_rider_accounts_rider_id_riders")
        ),
        sa.PrimaryKeyConstraint("channel", "external_id", name=op.f("pk_rider_accounts")),
    )
    op.create_index(
        op.f("ix_rider_accounts_rider_id"), "rider_accounts", ["rider_id"], unique=False
    )
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("submission_key", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_drafts_rider_id_submission_key"), ["rider_id", "submission_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.drop_constraint(op.f("uq_drafts_rider_id_submission_key"), type_="unique")
        batch.drop_column("submission_key")
    op.drop_index(op.f("ix_rider_accounts_rider_id"), table_name="rider_accounts")
    op.drop_table("rider_accounts")
    with op.batch_alter_table("riders") as batch:
        batch.alter_column("tg_user_id", existing_type=sa.BigInteger(), nullable=False)
