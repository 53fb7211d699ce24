"""plan milestones and their done-marks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("responsible", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint("year", "key", name="uq_milestones_year_key"),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_year"), ["year"], unique=False)

    op.create_table(
        "milestone_done",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_milestone_done_milestone_id_milestones")
        ),
        sa.ForeignKeyConstraint(["township_id"], ["areas.id"], name=op.f("fk_milestone_done_township_id_areas")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_milestone_done_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_done")),
        sa.UniqueConstraint("milestone_id", "township_id", name="uq_milestone_done_milestone_township"),
    )
    with op.batch_alter_table("milestone_done", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestone_done_milestone_id"), ["milestone_id"], unique=False)
        batch_op.create_index(
            "ix_milestone_done_county",
            ["milestone_id"],
            unique=True,
            sqlite_where=sa.text("township_id IS NULL"),
            postgresql_where=sa.text("township_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("milestone_done", schema=None) as batch_op:
        batch_op.drop_index("ix_milestone_done_county")
        batch_op.drop_index(batch_op.f("ix_milestone_done_milestone_id"))

    op.drop_table("milestone_done")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_year"))
        batch_op.drop_index(batch_op.f("ix_milestones_due_on"))

    op.drop_table("milestones")
