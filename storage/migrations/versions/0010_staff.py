"""staff, staff_accounts, staff_grants: staff are persons with channel accounts and desks

Until now a staff member was their Telegram user id (reports.handler_id, events.actor_id,
prompts.staff_id). Each such id becomes a staff person with the same id and a Telegram
account, so nothing already recorded needs rewriting; new persons are numbered after them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

STAFF_ROLES = ("staff", "supervisor")


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    op.create_table(
        "staff_accounts",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_accounts_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("channel", "external_id", name=op.f("pk_staff_accounts")),
    )
    op.create_index(
        op.f("ix_staff_accounts_staff_id"), "staff_accounts", ["staff_id"], unique=False
    )
    op.create_table(
        "staff_grants",
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("desk", sa.String(length=32), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_grants_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", "desk", name=op.f("pk_staff_grants")),
    )
    _adopt_telegram_staff()


def _adopt_telegram_staff() -> None:
    """Every Telegram id that ever acted as staff becomes a person with that same id."""
    bind = op.get_bind()
    names: dict[int, str] = {}
    for row in bind.execute(
        sa.text(
            "SELECT actor_id, data FROM events WHERE actor_id IS NOT NULL AND actor_kind IN "
            "('staff', 'supervisor') ORDER BY id"
        )
    ):
        try:
            name = json.loads(row.data or "{}").get("name")
        except ValueError:
            name = None
        names[int(row.actor_id)] = str(name or names.get(int(row.actor_id)) or "?")
    for row in bind.execute(
        sa.text("SELECT handler_id, handler_name FROM reports WHERE handler_id IS NOT NULL")
    ):
        names[int(row.handler_id)] = row.handler_name or names.get(int(row.handler_id)) or "?"
    for row in bind.execute(sa.text("SELECT DISTINCT staff_id FROM staff_prompts")):
        names.setdefault(int(row.staff_id), "?")
    names.pop(0, None)  # a prompt of no one
    now = datetime.now(UTC).replace(tzinfo=None)
    for staff_id, name in sorted(names.items()):
        bind.execute(
            sa.text("INSERT INTO staff (id, name, created_at) VALUES (:id, :name, :now)"),
            {"id": staff_id, "name": name[:64], "now": now},
        )
        bind.execute(
            sa.text(
                "INSERT INTO staff_accounts (channel, external_id, staff_id, created_at) "
                "VALUES ('telegram', :ext, :id, :now)"
            ),
            {"ext": str(staff_id), "id": staff_id, "now": now},
        )
    if bind.dialect.name == "postgresql" and names:
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('staff', 'id'), (SELECT max(id) FROM staff))"
            )
        )


def downgrade() -> None:
    op.drop_table("staff_grants")
    op.drop_index(op.f("ix_staff_accounts_staff_id"), table_name="staff_accounts")
    op.drop_table("staff_accounts")
    op.drop_table("staff")
