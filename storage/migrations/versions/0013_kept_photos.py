"""Photos kept by the product (sha256, download attempts) and the units' registered location

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

PHOTO_COLUMNS = ("channel", "sha256", "extension", "stored_at", "attempts", "failed", "next_attempt_at", "last_error")


def upgrade() -> None:
    # Photos already in reports start pending (no sha256): the photo keeper downloads them like new ones.
    op.add_column(
        "inspection_photos", sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False)
    )
    op.add_column("inspection_photos", sa.Column("sha256", sa.String(length=64), nullable=True))
    op.add_column("inspection_photos", sa.Column("extension", sa.String(length=8), nullable=True))
    op.add_column("inspection_photos", sa.Column("stored_at", UTCDateTime(), nullable=True))
    op.add_column("inspection_photos", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("inspection_photos", sa.Column("failed", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("inspection_photos", sa.Column("next_attempt_at", UTCDateTime(), nullable=True))
    op.add_column("inspection_photos", sa.Column("last_error", sa.Text(), nullable=True))
    op.create_index("ix_inspection_photos_pending", "inspection_photos", ["channel", "failed", "sha256"], unique=False)
    op.add_column("units", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("units", sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    # Not in batch mode (see 0007): SQLite 3.35 drops a column in place, keeping the tables' foreign keys intact.
    op.drop_column("units", "longitude")
    op.drop_column("units", "latitude")
    op.drop_index("ix_inspection_photos_pending", table_name="inspection_photos")
    for column in reversed(PHOTO_COLUMNS):
        op.drop_column("inspection_photos", column)
