"""units and inspections

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:30:05.955510
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_notices",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sent_notices")),
    )

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("industry", sa.String(length=40), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("operator_name", sa.String(length=64), nullable=True),
        sa.Column("operator_phone", sa.String(length=32), nullable=True),
        sa.Column("licences", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("unit_class", sa.String(length=16), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["township_id"], ["areas.id"], name=op.f("fk_units_township_id_areas")),
        sa.ForeignKeyConstraint(["village_id"], ["areas.id"], name=op.f("fk_units_village_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("village_id", "name_key", name="uq_units_village_name"),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_industry"), ["industry"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_township_id"), ["township_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_units_village_id"), ["village_id"], unique=False)
        batch_op.create_index("ix_units_township_industry_status", ["township_id", "industry", "status"], unique=False)

    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("submit_key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("industry", sa.String(length=40), nullable=False),
        sa.Column("proposed_compliant", sa.Boolean(), nullable=False),
        sa.Column("compliant", sa.Boolean(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("unit_class", sa.String(length=16), nullable=False),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["inspector_id"], ["users.id"], name=op.f("fk_inspections_inspector_id_users")),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["inspections.id"], name=op.f("fk_inspections_previous_id_inspections")
        ),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name=op.f("fk_inspections_reviewer_id_users")),
        sa.ForeignKeyConstraint(["township_id"], ["areas.id"], name=op.f("fk_inspections_township_id_areas")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_inspections_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspections")),
        sa.UniqueConstraint("submit_key", name=op.f("uq_inspections_submit_key")),
    )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspections_inspector_id"), ["inspector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspections_submitted_at"), ["submitted_at"], unique=False)
        batch_op.create_index("ix_inspections_township_status", ["township_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspections_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "inspection_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(length=200), nullable=False),
        sa.Column("file_unique_id", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"], ["inspections.id"], name=op.f("fk_inspection_photos_inspection_id_inspections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_photos")),
    )
    with op.batch_alter_table("inspection_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_photos_inspection_id"), ["inspection_id"], unique=False)


def downgrade() -> None:
    op.drop_table("sent_notices")

    with op.batch_alter_table("inspection_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_photos_inspection_id"))

    op.drop_table("inspection_photos")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspections_unit_id"))
        batch_op.drop_index("ix_inspections_township_status")
        batch_op.drop_index(batch_op.f("ix_inspections_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_inspections_inspector_id"))

    op.drop_table("inspections")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index("ix_units_township_industry_status")
        batch_op.drop_index(batch_op.f("ix_units_village_id"))
        batch_op.drop_index(batch_op.f("ix_units_township_id"))
        batch_op.drop_index(batch_op.f("ix_units_status"))
        batch_op.drop_index(batch_op.f("ix_units_industry"))

    op.drop_table("units")
