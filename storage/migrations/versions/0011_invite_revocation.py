"""invites.revoked_at (a code withdrawn before use) and invite_failures (failed codes per sender, rate limited)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invites", sa.Column("revoked_at", UTCDateTime(), nullable=True))
    op.create_table(
        "invite_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_user_id", sa.BigInteger(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_failures")),
    )
    op.create_index("ix_invite_failures_sender", "invite_failures", ["channel_user_id", "failed_at"], unique=False)
    op.create_index(op.f("ix_invite_failures_failed_at"), "invite_failures", ["failed_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_invite_failures_failed_at"), table_name="invite_failures")
    op.drop_index("ix_invite_failures_sender", table_name="invite_failures")
    op.drop_table("invite_failures")
    # Not in batch mode: see 0007 (SQLite 3.35 drops a column in place).
    op.drop_column("invites", "revoked_at")
