"""Every photo kept by the product: complaint photos gain the photo keeper's columns (like inspection_photos in
0013); record_photos holds the photos of closure visits and owners' 已整改 reports

Revision ID: 0021_all_photos_kept
Revises: 0020_web_speed
Create Date: 2026-12-07 23:30:00

Photos already filed start pending (no sha256): the photo keeper downloads them like new ones. A closure's photo
and an owner fix's photos stay where they were (unit_closures.photo_file_id, owner_fixes.items) and are copied into
record_photos; closures did not record their channel, so theirs are taken as Telegram file ids.
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0021_all_photos_kept"
down_revision = "0020_web_speed"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps meaning what it meant when it was written.
KEPT_COLUMNS = ("channel", "sha256", "extension", "stored_at", "attempts", "failed", "next_attempt_at", "last_error")


def kept_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("extension", sa.String(length=8), nullable=True),
        sa.Column("stored_at", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    for column in kept_columns():
        op.add_column("complaint_photos", column)
    op.create_index("ix_complaint_photos_pending", "complaint_photos", ["channel", "failed", "sha256"], unique=False)
    photos = op.create_table(
        "record_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=True),
        sa.Column("file_id", sa.String(length=200), nullable=False),
        sa.Column("file_unique_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        *kept_columns(),
        sa.PrimaryKeyConstraint("id", name="pk_record_photos"),
    )
    op.create_index("ix_record_photos_record", "record_photos", ["kind", "record_id"], unique=False)
    op.create_index("ix_record_photos_pending", "record_photos", ["channel", "failed", "sha256"], unique=False)
    _copy_existing(photos)


def _copy_existing(photos: sa.Table) -> None:
    bind = op.get_bind()
    closures = sa.table(
        "unit_closures",
        sa.column("id", sa.Integer()),
        sa.column("photo_file_id", sa.String()),
        sa.column("photo_unique_id", sa.String()),
        sa.column("recorded_at", UTCDateTime()),
    )
    fixes = sa.table(
        "owner_fixes",
        sa.column("id", sa.Integer()),
        sa.column("items", sa.JSON()),
        sa.column("created_at", UTCDateTime()),
    )
    rows: list[dict[str, object]] = [
        {
            "kind": "closure",
            "record_id": closure_id,
            "item_id": None,
            "file_id": file_id,
            "file_unique_id": unique_id,
            "created_at": at,
            "channel": "telegram",
        }
        for closure_id, file_id, unique_id, at in bind.execute(
            sa.select(closures).where(closures.c.photo_file_id.is_not(None)).order_by(closures.c.id)
        )
    ]
    for fix_id, items, at in bind.execute(sa.select(fixes).order_by(fixes.c.id)):
        for item_id, entry in (items or {}).items():
            for photo in (entry or {}).get("photos") or []:
                rows.append(
                    {
                        "kind": "owner_fix",
                        "record_id": fix_id,
                        "item_id": str(item_id)[:64],
                        "file_id": str(photo["file_id"]),
                        "file_unique_id": photo.get("unique_id"),
                        "created_at": at,
                        "channel": str(photo.get("channel") or "telegram"),
                    }
                )
    if rows:
        bind.execute(photos.insert(), rows)


def downgrade() -> None:
    # Not in batch mode (see 0007): SQLite 3.35 drops a column in place, keeping the tables' foreign keys intact.
    op.drop_index("ix_record_photos_pending", table_name="record_photos")
    op.drop_index("ix_record_photos_record", table_name="record_photos")
    op.drop_table("record_photos")
    op.drop_index("ix_complaint_photos_pending", table_name="complaint_photos")
    for column in reversed(KEPT_COLUMNS):
        op.drop_column("complaint_photos", column)
