"""APScheduler's job store, the live bot instances, outbox claims for shared delivery and reply priority

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:30:00
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_jobs")),
    )
    op.create_index(op.f("ix_scheduler_jobs_next_run_time"), "scheduler_jobs", ["next_run_time"], unique=False)
    op.create_table(
        "bot_instances",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bot_instances")),
    )
    op.create_index(op.f("ix_bot_instances_seen_at"), "bot_instances", ["seen_at"], unique=False)
    op.add_column("outbox", sa.Column("claimed_by", sa.String(length=64), nullable=True))
    op.add_column("outbox", sa.Column("claimed_until", UTCDateTime(), nullable=True))
    op.add_column("outbox", sa.Column("priority", sa.SmallInteger(), server_default="1", nullable=False))
    op.create_index("ix_outbox_pending_chat", "outbox", ["channel", "status", "chat_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_chat", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
    op.drop_index(op.f("ix_bot_instances_seen_at"), table_name="bot_instances")
    op.drop_table("bot_instances")
    op.drop_index(op.f("ix_scheduler_jobs_next_run_time"), table_name="scheduler_jobs")
    op.drop_table("scheduler_jobs")
