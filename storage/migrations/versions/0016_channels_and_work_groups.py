"""work groups and DingTalk: robots of DingTalk and WeCom work groups (work_groups), chat accounts named by
strings (channel_accounts: DingTalk staff ids numbered as negative chat ids), and each user's channel

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 18:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_accounts")),
        sa.UniqueConstraint("channel", "account", name="uq_channel_accounts_channel_account"),
    )
    op.create_table(
        "work_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("webhook", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_work_groups_area_id_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_work_groups_name")),
    )
    op.create_index(op.f("ix_work_groups_area_id"), "work_groups", ["area_id"], unique=False)
    # Everyone known so far chats on Telegram (or in a local terminal, whose notices are local anyway).
    op.add_column("users", sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False))


def downgrade() -> None:
    # Not in batch mode: see 0007 (SQLite 3.35 drops a column in place).
    op.drop_column("users", "channel")
    op.drop_index(op.f("ix_work_groups_area_id"), table_name="work_groups")
    op.drop_table("work_groups")
    op.drop_table("channel_accounts")
