"""the web console at county scale: a partial index of the sample register's units (the dashboard's sample count)

Revision ID: 0020_web_speed
Revises: 0019_reinspection_self_checks
Create Date: 2026-12-07 20:00:00

The digest counts the units of the sample register (names ending in （示例）, storage/sample_register.py) for every
dashboard and /report. Without an index it read every unit's name in the sample county's villages: 260 ms at
100,000 units (bench/web_pages.py). This index holds only those units; the query repeats its WHERE term literally.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_web_speed"
down_revision = "0019_reinspection_self_checks"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps meaning what it meant when it was written.
SAMPLE_NAME = "name LIKE '%（示例）'"


def upgrade() -> None:
    op.create_index(
        "ix_units_sample",
        "units",
        ["village_id"],
        unique=False,
        sqlite_where=sa.text(SAMPLE_NAME),
        postgresql_where=sa.text(SAMPLE_NAME),
    )


def downgrade() -> None:
    op.drop_index("ix_units_sample", table_name="units")
