"""inspections.carried_over: a re-inspection's answers carried over from the previous report (沿用上次);
self_checks: an owner's 自查 of their unit (never an inspection)

Revision ID: 0019_reinspection_self_checks
Revises: 0018_web_console
Create Date: 2026-12-07 20:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0019_reinspection_self_checks"
down_revision = "0018_web_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: reports made before it carried nothing over, and SQLite adds it in place.
    op.add_column("inspections", sa.Column("carried_over", sa.JSON(), nullable=True))
    op.create_table(
        "self_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "unit_id", sa.Integer(), sa.ForeignKey("units.id", name="fk_self_checks_unit_id_units"), nullable=False
        ),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("users.id", name="fk_self_checks_owner_id_users"), nullable=False
        ),
        sa.Column("industry", sa.String(40), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_self_checks"),
    )
    op.create_index("ix_self_checks_unit_id", "self_checks", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_self_checks_unit_id", table_name="self_checks")
    op.drop_table("self_checks")
    # Not in batch mode: see 0007.
    op.drop_column("inspections", "carried_over")
