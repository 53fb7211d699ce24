"""Migrations that fill in what earlier versions did not record, on reports made before them (both databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from storage.areas import find_area, load_county
from storage.db import Database
from storage.models import AreaLevel, Role
from storage.types import UTCDateTime
from storage.units import name_key

NOW = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)
# The inspections table as migration 0006 left it: the rows below are written the way that version wrote them.
LEGACY = sa.table(
    "inspections",
    sa.column("id", sa.Integer),
    sa.column("unit_id", sa.Integer),
    sa.column("township_id", sa.Integer),
    sa.column("inspector_id", sa.Integer),
    sa.column("submit_key", sa.String),
    sa.column("version", sa.Integer),
    sa.column("previous_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("industry", sa.String),
    sa.column("proposed_compliant", sa.Boolean),
    sa.column("compliant", sa.Boolean),
    sa.column("unit_class", sa.String),
    sa.column("rectify_by", sa.Date),
    sa.column("answers", sa.JSON),
    sa.column("notes", sa.JSON),
    sa.column("submitted_at", UTCDateTime()),
)

LEGACY_UNITS = sa.table(
    "units",
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("industry", sa.String),
    sa.column("village_id", sa.Integer),
    sa.column("township_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("is_demo", sa.Boolean),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
LEGACY_USERS = sa.table(
    "users",
    sa.column("channel_user_id", sa.BigInteger),
    sa.column("role", sa.String),
    sa.column("name", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("last_seen_at", UTCDateTime()),
)


@pytest.fixture
async def legacy_db(db_url: str) -> AsyncIterator[Database]:
    """A database at revision 0006 with two units (老王小吃店 and 芙蓉面馆) and a cadre."""
    database = Database(db_url)
    await database.upgrade("0006")
    async with database.transaction() as session:
        await load_county(session, parse_area_file(SAMPLE_COUNTY), NOW)
        village = await find_area(session, "芙蓉村", AreaLevel.VILLAGE)
        for name in ("老王小吃店", "芙蓉面馆"):  # as rows of that version's table (today's model has more columns)
            await session.execute(
                sa.insert(LEGACY_UNITS).values(
                    name=name,
                    name_key=name_key(name),
                    industry="small_restaurant",
                    village_id=village.id,
                    township_id=village.parent_id,
                    status="unchecked",
                    is_demo=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        await session.execute(
            sa.insert(LEGACY_USERS).values(
                channel_user_id=9, role=Role.CADRE, name="李建国", created_at=NOW, last_seen_at=NOW
            )
        )
    yield database
    await database.dispose()


async def insert_legacy(database: Database, rows: list[dict[str, object]]) -> None:
    async with database.transaction() as session:
        township = await find_area(session, "岩头镇", AreaLevel.TOWNSHIP)
        for row in rows:
            values = {
                "township_id": township.id,
                "inspector_id": 1,
                "submit_key": f"k{row['id']}",
                "version": 1,
                "previous_id": None,
                "status": "submitted",
                "industry": "small_restaurant",
                "proposed_compliant": False,
                "compliant": False,
                "unit_class": "rectify",
                "rectify_by": None,
                "answers": {},
                "notes": {},
                "submitted_at": NOW,
                **row,
            }
            await session.execute(sa.insert(LEGACY).values(values))


async def test_corrections_made_before_0007_get_their_first_versions_number(legacy_db):
    from storage.inspection_models import Inspection
    from storage.inspections import report_number

    await insert_legacy(
        legacy_db,
        [
            {"id": 1, "unit_id": 1, "status": "approved"},
            {"id": 2, "unit_id": 2, "status": "superseded"},
            {"id": 3, "unit_id": 2, "status": "superseded", "version": 2, "previous_id": 2},
            {"id": 4, "unit_id": 1, "status": "submitted"},
            {"id": 5, "unit_id": 2, "status": "submitted", "version": 3, "previous_id": 3},
        ],
    )
    await legacy_db.upgrade("0007")
    async with legacy_db.transaction() as session:  # only these columns: later migrations add more
        rows = await session.execute(
            sa.select(Inspection.id, Inspection.first_id, Inspection.version).order_by(Inspection.id)
        )
        numbers = [report_number(Inspection(id=id_, first_id=first, version=version)) for id_, first, version in rows]
    assert numbers == ["JC000001", "JC000002", "JC000002-2", "JC000004", "JC000002-3"]
    await legacy_db.downgrade("0006")  # with corrections stored (SQLite must not rebuild the table)


async def test_0008_puts_back_units_whose_latest_report_was_returned(legacy_db):
    """Before 0008 a returned report kept its class on the unit (a returned 关停取缔类 report took the unit out of
    the digest's base). The migration records each report's entry-before and puts such units back."""
    from storage.inspection_models import Inspection, Unit

    await insert_legacy(
        legacy_db,
        [
            {"id": 1, "unit_id": 1, "status": "approved", "compliant": True, "unit_class": "upgrade"},
            {"id": 2, "unit_id": 1, "status": "returned", "unit_class": "shutdown"},
            {"id": 3, "unit_id": 2, "status": "returned", "rectify_by": date(2026, 5, 20)},
        ],
    )
    async with legacy_db.transaction() as session:  # what the program then left on the units
        await session.execute(sa.update(Unit).where(Unit.id == 1).values(status="closed", unit_class="shutdown"))
        await session.execute(
            sa.update(Unit)
            .where(Unit.id == 2)
            .values(status="rectifying", unit_class="rectify", rectify_by=date(2026, 5, 20))
        )
    await legacy_db.upgrade("0008")
    async with legacy_db.transaction() as session:
        before = (
            await session.execute(
                sa.select(
                    Inspection.unit_status_before, Inspection.unit_class_before, Inspection.rectify_by_before
                ).order_by(Inspection.id)
            )
        ).all()
        units = (
            await session.execute(sa.select(Unit.status, Unit.unit_class, Unit.rectify_by).order_by(Unit.id))
        ).all()
    assert [tuple(row) for row in before] == [
        ("unchecked", None, None),
        ("compliant", "upgrade", None),
        ("unchecked", None, None),
    ]
    assert [tuple(row) for row in units] == [("compliant", "upgrade", None), ("unchecked", None, None)]
    await legacy_db.downgrade("0006")


async def test_0019_leaves_earlier_reports_without_carried_answers_and_goes_back(legacy_db):
    """Reports made before 0019 carried nothing over (NULL, read as none); a 自查 table appears and goes again."""
    await legacy_db.upgrade("0018_web_console")
    await insert_legacy(legacy_db, [{"id": 1, "unit_id": 1, "answers": {"common.scope": "fail"}}])
    await legacy_db.upgrade("0019_reinspection_self_checks")
    async with legacy_db.transaction() as session:
        row = (await session.execute(sa.text("SELECT carried_over FROM inspections WHERE id = 1"))).one()
        assert row[0] is None
        await session.execute(
            sa.text("UPDATE inspections SET carried_over = :value WHERE id = 1"),
            {"value": '{"common.licence": "2026-05-01"}'},
        )
        assert (await session.execute(sa.text("SELECT count(*) FROM self_checks"))).scalar_one() == 0
    await legacy_db.downgrade("0018_web_console")  # with a carried answer stored (SQLite must not rebuild the table)
    async with legacy_db.transaction() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM inspections"))).scalar_one() == 1
    await legacy_db.downgrade("0006")


async def test_0021_keeps_the_photos_of_earlier_closures_owner_fixes_and_complaints(legacy_db):
    """Closure visits and owners' fixes made before 0021 had their photos as file ids only: 0021 copies them into
    record_photos, pending, so the photo keeper downloads them like new ones; it goes back cleanly."""
    await legacy_db.upgrade("0020_web_speed")
    async with legacy_db.transaction() as session:
        values = {"unit_id": 1, "kind": "shut_down", "closed_on": date(2026, 5, 1), "source": "visit"}
        recorded = {"recorded_by_id": 1, "recorded_by_role": "cadre", "recorded_at": NOW}
        for closure_id, file_id in ((1, "visit-photo"), (2, None)):  # a township official's closure has none
            await session.execute(
                sa.insert(CLOSURES).values(id=closure_id, photo_file_id=file_id, **values, **recorded)
            )
        photos = [{"file_id": "fix-a", "unique_id": "ua", "channel": "dingtalk"}, {"file_id": "fix-b"}]
        items = {"common.scope": {"photos": photos, "note": ""}, "common.licence": {"photos": [], "note": "挂好了"}}
        await session.execute(
            sa.insert(OWNER_FIXES).values(id=7, unit_id=1, report_id=1, owner_id=1, items=items, created_at=NOW)
        )
    await legacy_db.upgrade("0021_all_photos_kept")
    async with legacy_db.transaction() as session:
        kept = (
            await session.execute(
                sa.text(
                    "SELECT kind, record_id, item_id, file_id, channel, sha256, attempts, failed FROM record_photos "
                    "ORDER BY id"
                )
            )
        ).all()
        assert [tuple(row) for row in kept] == [
            ("closure", 1, None, "visit-photo", "telegram", None, 0, False),
            ("owner_fix", 7, "common.scope", "fix-a", "dingtalk", None, 0, False),
            ("owner_fix", 7, "common.scope", "fix-b", "telegram", None, 0, False),
        ]
        columns = (await session.execute(sa.text("SELECT sha256, failed FROM complaint_photos"))).all()
        assert columns == []  # the keeper's columns exist on complaint photos
    await legacy_db.downgrade("0020_web_speed")
    async with legacy_db.transaction() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM unit_closures"))).scalar_one() == 2
    await legacy_db.downgrade("0006")


CLOSURES = sa.table(
    "unit_closures",
    *(sa.column(name, sa.Integer) for name in ("id", "unit_id", "recorded_by_id")),
    *(sa.column(name, sa.String) for name in ("kind", "source", "photo_file_id", "recorded_by_role")),
    sa.column("closed_on", sa.Date),
    sa.column("recorded_at", UTCDateTime()),
)
OWNER_FIXES = sa.table(
    "owner_fixes",
    *(sa.column(name, sa.Integer) for name in ("id", "unit_id", "report_id", "owner_id")),
    sa.column("items", sa.JSON),
    sa.column("created_at", UTCDateTime()),
)
