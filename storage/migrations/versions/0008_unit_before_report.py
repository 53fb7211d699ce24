"""inspections.unit_*_before: the unit's register entry before each report, so that a returned report stops counting

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 11:00:00

Reports stored before this revision get what the program then did: every report was applied to its unit when
submitted and nothing was ever undone, so the entry before a report is the previous report's result, and before a
unit's first report it is taken to be 未检查 (what an import may have said instead was not recorded). Units whose
latest report is returned are then put back by the rule storage/inspections.py applies from now on.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COUNTING = ("submitted", "approved")
Entry = tuple[str, str | None, object]  # a unit's status, class and rectification deadline


def _result(compliant: bool, unit_class: str, rectify_by: object) -> Entry:
    """The entry a report gives its unit (storage.inspections.apply_to_unit, as of this revision)."""
    status = "closed" if unit_class == "shutdown" else "compliant" if compliant else "rectifying"
    return status, unit_class, rectify_by if status == "rectifying" else None


def upgrade() -> None:
    op.add_column("inspections", sa.Column("unit_status_before", sa.String(length=16), nullable=True))
    op.add_column("inspections", sa.Column("unit_class_before", sa.String(length=16), nullable=True))
    op.add_column("inspections", sa.Column("rectify_by_before", sa.Date(), nullable=True))
    inspections = sa.table(
        "inspections",
        sa.column("id", sa.Integer),
        sa.column("unit_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("compliant", sa.Boolean),
        sa.column("unit_class", sa.String),
        sa.column("rectify_by", sa.Date),
        sa.column("unit_status_before", sa.String),
        sa.column("unit_class_before", sa.String),
        sa.column("rectify_by_before", sa.Date),
    )
    units = sa.table(
        "units",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("unit_class", sa.String),
        sa.column("rectify_by", sa.Date),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            inspections.c.id,
            inspections.c.unit_id,
            inspections.c.status,
            inspections.c.compliant,
            inspections.c.unit_class,
            inspections.c.rectify_by,
        ).order_by(inspections.c.id)
    ).all()
    by_unit: dict[int, list[tuple[int, str, Entry, Entry]]] = {}  # id, status, entry before, entry it gives
    for inspection_id, unit_id, status, compliant, unit_class, rectify_by in rows:
        reports = by_unit.setdefault(unit_id, [])
        before = reports[-1][3] if reports else ("unchecked", None, None)
        reports.append((inspection_id, status, before, _result(compliant, unit_class, rectify_by)))
        bind.execute(
            inspections.update()
            .where(inspections.c.id == inspection_id)
            .values(unit_status_before=before[0], unit_class_before=before[1], rectify_by_before=before[2])
        )
    for unit_id, reports in by_unit.items():
        if reports[-1][1] != "returned":
            continue
        counting = [index for index, report in enumerate(reports) if report[1] in COUNTING]
        status, unit_class, rectify_by = reports[counting[-1] + 1 if counting else 0][2]
        bind.execute(
            units.update()
            .where(units.c.id == unit_id)
            .values(status=status, unit_class=unit_class, rectify_by=rectify_by)
        )


def downgrade() -> None:
    # Not in batch mode: see 0007.
    op.drop_column("inspections", "rectify_by_before")
    op.drop_column("inspections", "unit_class_before")
    op.drop_column("inspections", "unit_status_before")
