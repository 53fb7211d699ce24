"""Migration 0010 on a database of the old shape (both databases): units "closed" by a classification alone become
待关停, reports keep the numbers they were shown with and the sequence goes on after the largest, and every report
gets its inspector's and reviewer's names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from storage.areas import find_area, load_county
from storage.db import Database
from storage.models import AreaLevel, Role, User
from storage.types import UTCDateTime
from storage.units import name_key
from tests.old_schema import USERS_0009

NOW = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)
# The inspections table as migration 0009 left it.
OLD_INSPECTIONS = sa.table(
    "inspections",
    sa.column("id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("township_id", sa.Integer),
    sa.column("inspector_id", sa.Integer),
    sa.column("submit_key", sa.String),
    sa.column("version", sa.Integer),
    sa.column("previous_id", sa.Integer),
    sa.column("first_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("industry", sa.String),
    sa.column("proposed_compliant", sa.Boolean),
    sa.column("compliant", sa.Boolean),
    sa.column("unit_class", sa.String),
    sa.column("rectify_by", sa.Date),
    sa.column("answers", sa.JSON),
    sa.column("notes", sa.JSON),
    sa.column("submitted_at", UTCDateTime()),
    sa.column("reviewed_at", UTCDateTime()),
    sa.column("reviewer_id", sa.Integer),
    sa.column("unit_status_before", sa.String),
    sa.column("unit_class_before", sa.String),
)
# The units table as 0009 left it (the models have columns later migrations add).
OLD_UNITS = sa.table(
    "units",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("industry", sa.String),
    sa.column("village_id", sa.Integer),
    sa.column("township_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("unit_class", sa.String),
    sa.column("is_demo", sa.Boolean),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
UNITS = ("老王小吃店", "无证小卖部", "芙蓉面馆")


@pytest.fixture
async def old_db(db_url: str) -> AsyncIterator[Database]:
    """A database at 0009: 老王小吃店 closed by its report's class, 无证小卖部 closed by an import, 芙蓉面馆 in
    rectification after a corrected report; a cadre and a township official who reviewed."""
    database = Database(db_url)
    await database.upgrade("0009")
    async with database.transaction() as session:
        await load_county(session, parse_area_file(SAMPLE_COUNTY), NOW)
        village = await find_area(session, "芙蓉村", AreaLevel.VILLAGE)
        township = await find_area(session, "岩头镇", AreaLevel.TOWNSHIP)
        for number, (name, status, unit_class) in enumerate(
            zip(UNITS, ("closed", "closed", "rectifying"), ("shutdown", "shutdown", "rectify"), strict=True), 1
        ):
            await session.execute(
                sa.insert(OLD_UNITS).values(
                    id=number,
                    name=name,
                    name_key=name_key(name),
                    industry="small_restaurant",
                    village_id=village.id,
                    township_id=township.id,
                    status=status,
                    unit_class=unit_class,
                    is_demo=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        await session.execute(
            sa.insert(USERS_0009),
            [
                {
                    "id": 1,
                    "channel_user_id": 9,
                    "role": Role.CADRE,
                    "name": "李建国",
                    "area_id": village.id,
                    "created_at": NOW,
                    "last_seen_at": NOW,
                },
                {
                    "id": 2,
                    "channel_user_id": 10,
                    "role": Role.TOWNSHIP,
                    "name": "陈镇长",
                    "area_id": township.id,
                    "created_at": NOW,
                    "last_seen_at": NOW,
                },
            ],
        )
        base = {
            "township_id": township.id,
            "inspector_id": 1,
            "version": 1,
            "previous_id": None,
            "first_id": None,
            "industry": "small_restaurant",
            "proposed_compliant": False,
            "compliant": False,
            "rectify_by": None,
            "answers": {},
            "notes": {},
            "submitted_at": NOW,
            "reviewed_at": None,
            "reviewer_id": None,
            "unit_status_before": "unchecked",
            "unit_class_before": None,
        }
        reviewed = {"reviewed_at": NOW, "reviewer_id": 2}
        for row in (
            {"id": 1, "unit_id": 1, "status": "approved", "unit_class": "shutdown", **reviewed},
            {
                "id": 2,
                "unit_id": 1,
                "status": "returned",
                "unit_class": "upgrade",
                "compliant": True,
                "unit_status_before": "closed",
                "unit_class_before": "shutdown",
                **reviewed,
            },
            {"id": 3, "unit_id": 3, "status": "superseded", "unit_class": "rectify", **reviewed},
            {
                "id": 4,
                "unit_id": 3,
                "status": "submitted",
                "unit_class": "rectify",
                "version": 2,
                "previous_id": 3,
                "first_id": 3,
                "rectify_by": date(2026, 5, 20),
            },
        ):
            await session.execute(sa.insert(OLD_INSPECTIONS).values({**base, "submit_key": f"k{row['id']}", **row}))
        if session.bind.dialect.name == "postgresql":  # ids given by hand: move the id sequence past them
            await session.execute(sa.text("SELECT setval(pg_get_serial_sequence('inspections', 'id'), 4)"))
            await session.execute(sa.text("SELECT setval(pg_get_serial_sequence('units', 'id'), 3)"))
            await session.execute(sa.text("SELECT setval(pg_get_serial_sequence('users', 'id'), 2)"))
    yield database
    await database.dispose()


async def test_0010_turns_unverified_closures_into_pending_ones_and_keeps_every_number(old_db, clock):
    from storage import closures, inspections
    from storage.digest import compute_digest
    from storage.inspection_models import ClosureKind, ClosureSource, Inspection, Unit

    await old_db.upgrade()  # through 0010 to the head: the models below are the head's
    async with old_db.transaction() as session:
        units = [tuple(row) for row in await session.execute(sa.select(Unit.name, Unit.status).order_by(Unit.id))]
        reports = list(await session.scalars(sa.select(Inspection).order_by(Inspection.id)))
        digest = await compute_digest(session, await find_area(session, "岩头镇", AreaLevel.TOWNSHIP), NOW)
    assert units == [("老王小吃店", "pending_closure"), ("无证小卖部", "pending_closure"), ("芙蓉面馆", "rectifying")]
    assert (digest.share.part, digest.share.whole, digest.pending_closure) == (0, 3, 2)  # all three in the base
    assert [inspections.report_number(r) for r in reports] == ["JC000001", "JC000002", "JC000003", "JC000003-2"]
    assert [r.unit_status_before for r in reports] == ["unchecked", "pending_closure", "unchecked", "unchecked"]
    assert {(r.inspector_name, r.inspector_role, r.inspector_area) for r in reports} == {
        ("李建国", "cadre", "岩头镇芙蓉村")
    }
    assert [r.reviewer_name for r in reports] == ["陈镇长", "陈镇长", "陈镇长", None]

    async with old_db.transaction() as session:
        cadre, official = await session.get(User, 1), await session.get(User, 2)
        new, _ = await inspections.submit(
            session,
            inspections.Report(
                unit_id=2,
                submit_key="new",
                industry="small_restaurant",
                answers={},
                notes={},
                proposed_compliant=True,
                compliant=True,
                unit_class="upgrade",
            ),
            cadre.id,
            NOW,
        )
        # the next number after the largest shown (3), not after the largest row id (4): no gap
        assert (new.id, inspections.report_number(new)) == (5, "JC000004")
        returned = await session.get(Inspection, 2)
        await inspections.send_back(session, new, official, "请核实", NOW)
        assert (await session.get(Unit, 2)).status == "pending_closure"  # the entry before, as migrated
        assert returned.unit_status_before == "pending_closure"
        assert (
            await closures.record_closure(
                session,
                closures.ClosureReport(2, ClosureKind.BANNED, date(2026, 5, 5), ClosureSource.TOWNSHIP),
                official,
                NOW,
            )
            is not None
        )

    await old_db.downgrade("0009")  # with closures and new reports stored
    async with old_db.transaction() as session:
        statuses = [row[0] for row in await session.execute(sa.select(Unit.status).order_by(Unit.id))]
        befores = [
            row[0]
            for row in await session.execute(
                sa.select(OLD_INSPECTIONS.c.unit_status_before).order_by(OLD_INSPECTIONS.c.id)
            )
        ]
    assert statuses == ["closed", "closed", "rectifying"]
    assert befores[:2] == ["unchecked", "closed"]
    await old_db.upgrade()
