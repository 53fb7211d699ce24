"""learned_entries.paraphrases: other ways to ask an entry learned from the county office's answer

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One question per line. Entries learned before this revision keep their one question (NULL): the paraphrases of
    # new entries are made when they are learned (handlers/ask.py), and the county office can add more to any entry.
    op.add_column("learned_entries", sa.Column("paraphrases", sa.Text(), nullable=True))


def downgrade() -> None:
    # Not in batch mode: see 0007.
    op.drop_column("learned_entries", "paraphrases")
