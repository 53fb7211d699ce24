"""inspections.first_id: a corrected report keeps its first version's number

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("inspections", sa.Column("first_id", sa.Integer(), nullable=True))
    # Corrections made before this column: follow previous_id back to the first version. A version's previous
    # one always has a smaller id, so in id order each previous version's first id is known when it is needed.
    inspections = sa.table(
        "inspections",
        sa.column("id", sa.Integer),
        sa.column("previous_id", sa.Integer),
        sa.column("first_id", sa.Integer),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(inspections.c.id, inspections.c.previous_id)
        .where(inspections.c.previous_id.is_not(None))
        .order_by(inspections.c.id)
    ).all()
    first: dict[int, int] = {}
    for inspection_id, previous_id in rows:
        first[inspection_id] = first.get(previous_id, previous_id)
    for inspection_id, first_id in first.items():
        bind.execute(inspections.update().where(inspections.c.id == inspection_id).values(first_id=first_id))


def downgrade() -> None:
    # Not in batch mode: SQLite would rebuild the table, and dropping the old one breaks previous_id's foreign key
    # on any database with corrections in it. SQLite 3.35 drops a column in place.
    op.drop_column("inspections", "first_id")
