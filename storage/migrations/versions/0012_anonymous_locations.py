"""Anonymous complaints keep their location to about 100 m (3 decimal places), stored ones included

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DECIMALS = 3  # storage.complaints.ANONYMOUS_DECIMALS, copied: a migration must not change with the code


def upgrade() -> None:
    # Rounded in Python rather than SQL: ROUND(double precision, int) does not exist on PostgreSQL, and the result
    # must equal what new filings store (Python's round).
    bind = op.get_bind()
    complaints = sa.table(
        "complaints",
        sa.column("id", sa.Integer),
        sa.column("anonymous", sa.Boolean),
        sa.column("latitude", sa.Float),
        sa.column("longitude", sa.Float),
    )
    rows = bind.execute(
        sa.select(complaints.c.id, complaints.c.latitude, complaints.c.longitude).where(
            complaints.c.anonymous.is_(True), complaints.c.latitude.is_not(None)
        )
    ).all()
    for complaint_id, latitude, longitude in rows:
        rounded = (round(latitude, DECIMALS), round(longitude, DECIMALS) if longitude is not None else None)
        if rounded != (latitude, longitude):
            bind.execute(
                complaints.update()
                .where(complaints.c.id == complaint_id)
                .values(latitude=rounded[0], longitude=rounded[1])
            )


def downgrade() -> None:
    # The precision given up is gone on purpose; the schema is unchanged.
    pass
