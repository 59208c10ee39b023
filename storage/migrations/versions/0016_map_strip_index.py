"""the map's place index starts with a strip of latitude, then the longitude

A street-level viewport read (lat, lon, ...) as one run over its latitudes, i.e. the band
across the whole county (~8 times the reports in the box at 1M); it now reads one short
run of longitudes per strip of latitude it crosses. ix_reports_map_strip replaces
ix_reports_map_place, which served nothing it does not.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

PLACE = ["lat", "lon", "created_at", "status", "deadline_at", "category", "community_id"]
# As storage/tables.py's lat_strip() writes it (LAT_STRIPS = 512).
STRIP = "CAST((lat + 90) * 512 AS INTEGER)"


def upgrade() -> None:
    op.create_index(
        "ix_reports_map_strip",
        "reports",
        [sa.text(STRIP), "lon", *PLACE[:1], *PLACE[2:]],
        postgresql_include=["id"],
    )
    op.drop_index("ix_reports_map_place", table_name="reports")


def downgrade() -> None:
    op.create_index("ix_reports_map_place", "reports", PLACE, postgresql_include=["id"])
    op.drop_index("ix_reports_map_strip", table_name="reports")
