"""pacing: per-chat send allowances shared by instances, per-user inbound allowance and double taps, throttled
inbound counts, question notices folded (questions.announced_at), replies first within a chat (outbox index)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_pacing",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("full_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_chat_pacing")),
    )
    op.create_table(
        "throttled_inbound",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("warned_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_throttled_inbound_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_throttled_inbound")),
    )
    op.add_column("users", sa.Column("inbound_full_at", UTCDateTime(), nullable=True))
    op.add_column("users", sa.Column("pressed_message_id", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("pressed_at", UTCDateTime(), nullable=True))
    op.add_column("questions", sa.Column("announced_at", UTCDateTime(), nullable=True))
    # Every question asked before this revision was announced to the county office when it was asked.
    op.execute("UPDATE questions SET announced_at = created_at")
    op.drop_index("ix_outbox_pending_chat", table_name="outbox")
    op.create_index(
        "ix_outbox_pending_chat", "outbox", ["channel", "status", "chat_id", "priority", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_chat", table_name="outbox")
    op.create_index("ix_outbox_pending_chat", "outbox", ["channel", "status", "chat_id", "id"], unique=False)
    # Not in batch mode: see 0007 (SQLite 3.35 drops a column in place).
    op.drop_column("questions", "announced_at")
    op.drop_column("users", "pressed_at")
    op.drop_column("users", "pressed_message_id")
    op.drop_column("users", "inbound_full_at")
    op.drop_table("throttled_inbound")
    op.drop_table("chat_pacing")
