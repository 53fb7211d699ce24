"""inspections.class_reason: why a unit judged 规范达标 is nonetheless 关停取缔类

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inspections", sa.Column("class_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    # Not in batch mode: see 0007.
    op.drop_column("inspections", "class_reason")
