"""unit_owners: shop owners bound to their units; invites.unit_id: an owner's code names its unit;
owner_fixes: what an owner reports put right

Revision ID: 0017_unit_owners
Revises: 0016
Create Date: 2026-12-07 15:20:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0017_unit_owners"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invites", sa.Column("unit_id", sa.Integer(), nullable=True))
    op.create_table(
        "unit_owners",
        sa.Column(
            "unit_id", sa.Integer(), sa.ForeignKey("units.id", name="fk_unit_owners_unit_id_units"), nullable=False
        ),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_unit_owners_user_id_users"), nullable=False
        ),
        sa.Column("invite_id", sa.Integer(), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("notified_report", sa.Integer(), nullable=True),
        sa.Column("notified_key", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("unit_id", "user_id", name="pk_unit_owners"),
    )
    op.create_index("ix_unit_owners_user_id", "unit_owners", ["user_id"])
    op.create_table(
        "owner_fixes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "unit_id", sa.Integer(), sa.ForeignKey("units.id", name="fk_owner_fixes_unit_id_units"), nullable=False
        ),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_owner_fixes_owner_id_users"), nullable=False
        ),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_owner_fixes"),
    )
    op.create_index("ix_owner_fixes_unit_id", "owner_fixes", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_owner_fixes_unit_id", table_name="owner_fixes")
    op.drop_table("owner_fixes")
    op.drop_index("ix_unit_owners_user_id", table_name="unit_owners")
    op.drop_table("unit_owners")
    # Not in batch mode: see 0007.
    op.drop_column("invites", "unit_id")
