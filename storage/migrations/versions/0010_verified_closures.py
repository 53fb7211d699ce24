"""待关停 until a closure is verified; reports keep who inspected and reviewed them; gapless report numbers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00

Data converted:
- Before this revision a unit was "closed" the moment a report classified it 关停取缔类 (or an import said
  关停取缔); nobody had checked that it closed. Every such unit becomes 待关停 ("pending_closure"), and so does
  every report's record of the entry before it (unit_status_before), so that returning a report restores 待关停.
  Verified closures (unit_closures) start empty.
- The inspector's name, role and area, and the reviewer's name, are taken from the users as they are now: the
  nearest to "as they were" that was recorded.
- Every report keeps the number it was shown with (its first version's id); the sequence continues after the
  largest of them, so new first versions follow without a gap.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UNITS = sa.table("units", sa.column("status", sa.String))
INSPECTIONS = sa.table(
    "inspections",
    sa.column("id", sa.Integer),
    sa.column("first_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("inspector_id", sa.Integer),
    sa.column("reviewer_id", sa.Integer),
    sa.column("inspector_name", sa.String),
    sa.column("inspector_role", sa.String),
    sa.column("inspector_area", sa.String),
    sa.column("reviewer_name", sa.String),
    sa.column("unit_status_before", sa.String),
)
USERS = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("role", sa.String),
    sa.column("area_id", sa.Integer),
)
AREAS = sa.table(
    "areas",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("level", sa.String),
    sa.column("parent_id", sa.Integer),
)
SEQUENCE = sa.table("inspection_sequence", sa.column("id", sa.Integer), sa.column("last", sa.Integer))


def _area_paths(bind: sa.Connection) -> dict[int, str]:
    """Township and village as storage.areas.area_path writes them (岩头镇芙蓉村), the county left out."""
    areas = {row.id: row for row in bind.execute(sa.select(AREAS)).all()}
    paths: dict[int, str] = {}
    for area_id, area in areas.items():
        parts: list[str] = []
        node: sa.Row[Any] | None = area
        while node is not None and node.level != "county":
            parts.append(node.name)
            node = areas.get(node.parent_id) if node.parent_id is not None else None
        paths[area_id] = "".join(reversed(parts)) or area.name
    return paths


def upgrade() -> None:
    op.create_table(
        "inspection_sequence",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_sequence")),
    )
    op.create_table(
        "unit_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("photo_unique_id", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_name", sa.String(length=64), nullable=True),
        sa.Column("recorded_by_role", sa.String(length=16), nullable=False),
        sa.Column("after_report_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"], name=op.f("fk_unit_closures_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_unit_closures_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_closures")),
    )
    op.create_index(op.f("ix_unit_closures_unit_id"), "unit_closures", ["unit_id"], unique=False)
    # Plain columns, not in batch mode: SQLite adds them in place (a table rebuild would break previous_id's
    # foreign key, see 0007).
    op.add_column("inspections", sa.Column("number", sa.Integer(), nullable=True))
    op.add_column("inspections", sa.Column("inspector_name", sa.String(length=64), nullable=True))
    op.add_column("inspections", sa.Column("inspector_role", sa.String(length=16), nullable=True))
    op.add_column("inspections", sa.Column("inspector_area", sa.String(length=200), nullable=True))
    op.add_column("inspections", sa.Column("reviewer_name", sa.String(length=64), nullable=True))

    bind = op.get_bind()
    bind.execute(UNITS.update().where(UNITS.c.status == "closed").values(status="pending_closure"))
    bind.execute(
        INSPECTIONS.update()
        .where(INSPECTIONS.c.unit_status_before == "closed")
        .values(unit_status_before="pending_closure")
    )
    bind.execute(INSPECTIONS.update().values(number=sa.func.coalesce(INSPECTIONS.c.first_id, INSPECTIONS.c.id)))
    largest = bind.execute(sa.select(sa.func.max(INSPECTIONS.c.number))).scalar()
    if largest is not None:
        bind.execute(SEQUENCE.insert().values(id=1, last=int(largest)))

    paths = _area_paths(bind)
    users = {row.id: row for row in bind.execute(sa.select(USERS)).all()}
    people = bind.execute(sa.select(INSPECTIONS.c.inspector_id, INSPECTIONS.c.reviewer_id).distinct()).all()
    for inspector_id in {row.inspector_id for row in people}:
        inspector = users.get(inspector_id)
        if inspector is not None:
            area = paths.get(inspector.area_id) if inspector.area_id is not None else None
            bind.execute(
                INSPECTIONS.update()
                .where(INSPECTIONS.c.inspector_id == inspector_id)
                .values(inspector_name=inspector.name, inspector_role=inspector.role, inspector_area=area)
            )
    for reviewer_id in {row.reviewer_id for row in people if row.reviewer_id is not None}:
        reviewer = users.get(reviewer_id)
        if reviewer is not None:
            bind.execute(
                INSPECTIONS.update().where(INSPECTIONS.c.reviewer_id == reviewer_id).values(reviewer_name=reviewer.name)
            )


def downgrade() -> None:
    bind = op.get_bind()
    # Before this revision "closed" meant classified 关停取缔类, verified or not.
    bind.execute(UNITS.update().where(UNITS.c.status == "pending_closure").values(status="closed"))
    bind.execute(
        INSPECTIONS.update()
        .where(INSPECTIONS.c.unit_status_before == "pending_closure")
        .values(unit_status_before="closed")
    )
    # Not in batch mode: see 0007. Numbers given after this revision are lost: the old program shows the row id.
    op.drop_column("inspections", "reviewer_name")
    op.drop_column("inspections", "inspector_area")
    op.drop_column("inspections", "inspector_role")
    op.drop_column("inspections", "inspector_name")
    op.drop_column("inspections", "number")
    op.drop_index(op.f("ix_unit_closures_unit_id"), table_name="unit_closures")
    op.drop_table("unit_closures")
    op.drop_table("inspection_sequence")
