"""questions forwarded to the county office and entries learned from the answers

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 13:20:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_learned_entries_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_entries")),
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("learned_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["answered_by_id"], ["users.id"], name=op.f("fk_questions_answered_by_id_users")),
        sa.ForeignKeyConstraint(["asker_id"], ["users.id"], name=op.f("fk_questions_asker_id_users")),
        sa.ForeignKeyConstraint(
            ["learned_id"], ["learned_entries.id"], name=op.f("fk_questions_learned_id_learned_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_index(op.f("ix_questions_asker_id"), "questions", ["asker_id"], unique=False)
    op.create_index(op.f("ix_questions_status"), "questions", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_questions_status"), table_name="questions")
    op.drop_index(op.f("ix_questions_asker_id"), table_name="questions")
    op.drop_table("questions")
    op.drop_table("learned_entries")
