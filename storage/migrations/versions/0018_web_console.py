"""the web console: sign-in links, sessions, the audit log of web actions, register edit history, milestone files

Revision ID: 0018_web_console
Revises: 0017_unit_owners
Create Date: 2026-12-07 16:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0018_web_console"
down_revision = "0017_unit_owners"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_links_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_links_token_hash")),
    )
    op.create_index(op.f("ix_web_links_user_id"), "web_links", ["user_id"], unique=False)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_table(
        "web_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_audit_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_audit")),
    )
    op.create_index(op.f("ix_web_audit_at"), "web_audit", ["at"], unique=False)
    op.create_index("ix_web_audit_user_at", "web_audit", ["user_id", "at"], unique=False)
    op.create_table(
        "unit_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_unit_edits_unit_id_units")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_unit_edits_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_edits")),
    )
    op.create_index(op.f("ix_unit_edits_unit_id"), "unit_edits", ["unit_id"], unique=False)
    op.create_table(
        "milestone_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_milestone_files_milestone_id_milestones")
        ),
        sa.ForeignKeyConstraint(["township_id"], ["areas.id"], name=op.f("fk_milestone_files_township_id_areas")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_milestone_files_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_files")),
    )
    op.create_index(op.f("ix_milestone_files_milestone_id"), "milestone_files", ["milestone_id"], unique=False)
    # The dashboard's week counts (and the digest's) from an index alone; complaints closed in a period.
    op.create_index("ix_inspections_submitted_status", "inspections", ["submitted_at", "status"], unique=False)
    op.create_index(
        "ix_inspections_township_submitted", "inspections", ["township_id", "submitted_at", "status"], unique=False
    )
    op.create_index("ix_complaints_final_at", "complaints", ["final_at"], unique=False)
    op.create_index("ix_complaints_due_created_final", "complaints", ["due_on", "created_at", "final_at"], unique=False)
    # Superseded by (submitted_at, status): SQLite preferred the narrower index and read every row for the status.
    op.drop_index("ix_inspections_submitted_at", table_name="inspections")


def downgrade() -> None:
    op.create_index("ix_inspections_submitted_at", "inspections", ["submitted_at"], unique=False)
    op.drop_index("ix_complaints_due_created_final", table_name="complaints")
    op.drop_index("ix_complaints_final_at", table_name="complaints")
    op.drop_index("ix_inspections_township_submitted", table_name="inspections")
    op.drop_index("ix_inspections_submitted_status", table_name="inspections")
    op.drop_index(op.f("ix_milestone_files_milestone_id"), table_name="milestone_files")
    op.drop_table("milestone_files")
    op.drop_index(op.f("ix_unit_edits_unit_id"), table_name="unit_edits")
    op.drop_table("unit_edits")
    op.drop_index("ix_web_audit_user_at", table_name="web_audit")
    op.drop_index(op.f("ix_web_audit_at"), table_name="web_audit")
    op.drop_table("web_audit")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_index(op.f("ix_web_links_user_id"), table_name="web_links")
    op.drop_table("web_links")
