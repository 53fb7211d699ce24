"""Storage: migrations on both databases, SQLite settings, areas, invites, update ids."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from handlers.area_files import AreaFileError, parse_area_file
from storage.areas import AmbiguousArea, AreaNotFound, CountySpec, TownshipSpec, find_area, list_areas, load_county
from storage.db import Database
from storage.invites import InviteProblem, check_invite, create_invite, find_invite, looks_like_code
from storage.migrate import current_revision, head_revision
from storage.models import Role
from storage.schema import metadata
from storage.updates import claim_update


async def test_migrations_match_the_models_and_downgrade_cleanly(db_url):
    database = Database(db_url)
    try:
        await database.upgrade(head_revision())  # named: through every migration (a new database skips them)
        assert await current_revision(database.engine) == head_revision()
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        assert diff == []
        await database.downgrade("base")
        async with database.engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await database.upgrade()
        assert await current_revision(database.engine) == head_revision()
    finally:
        await database.dispose()


async def test_a_new_database_gets_the_migrations_schema_without_alembic(db_url, monkeypatch):
    """A database with no tables is created from the models and stamped at the head (Alembic is not imported: it
    would stay in memory); the result is what the migrations give, and Alembic takes it from there."""
    import storage.migrate

    def alembic_must_not_run(*_args):
        raise AssertionError("Alembic ran for a new database")

    database = Database(db_url)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(storage.migrate, "_alembic_upgrade", alembic_must_not_run)
            await database.upgrade()
        assert await current_revision(database.engine) == head_revision()
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
            version_pk = await conn.run_sync(lambda sync: inspect(sync).get_pk_constraint("alembic_version"))
        assert diff == []
        assert version_pk["constrained_columns"] == ["version_num"]
        await database.downgrade("base")  # the migrations' own names, so their downgrades find everything
        await database.upgrade()
        assert await current_revision(database.engine) == head_revision()
    finally:
        await database.dispose()


async def test_sqlite_runs_in_wal_mode_with_normal_sync(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'x.db'}")
    try:
        await database.upgrade()
        async with database.transaction() as session:
            assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await session.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
            assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await database.dispose()


async def test_a_transaction_waits_its_turn_for_the_sqlite_write_lock_without_blocking_the_loop(tmp_path, clock):
    # SQLite runs on the event loop's thread (storage/sqlite_inline.py): a transaction waiting for the write lock
    # must let the holder, a coroutine of this same loop, finish. A blocking wait would deadlock until SQLite gave up.
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}")
    await database.upgrade()
    holding, release = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with database.transaction() as session:
            await claim_update(session, "telegram", 1, clock.now())
            holding.set()
            await release.wait()

    async def second() -> None:
        async with database.transaction() as session:
            await claim_update(session, "telegram", 2, clock.now())

    try:
        holder = asyncio.create_task(first())
        await holding.wait()
        waiter = asyncio.create_task(second())
        release.set()
        await asyncio.wait_for(asyncio.gather(holder, waiter), timeout=5)
        async with database.transaction() as session:
            assert not await claim_update(session, "telegram", 1, clock.now())
            assert not await claim_update(session, "telegram", 2, clock.now())
    finally:
        await database.dispose()


async def test_a_transaction_waits_for_another_process_holding_the_sqlite_write_lock(tmp_path, clock):
    path = tmp_path / "shared.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    await database.upgrade()
    other = sqlite3.connect(path, isolation_level=None)  # another process, as far as SQLite can tell
    try:
        other.execute("BEGIN IMMEDIATE")
        # Far longer than SQLite's own (blocking) busy timeout: only an asynchronous wait sees the lock released.
        asyncio.get_running_loop().call_later(0.5, other.execute, "COMMIT")
        async with database.transaction() as session:
            assert await claim_update(session, "telegram", 1, clock.now())
        assert not other.in_transaction
    finally:
        other.close()
        await database.dispose()


async def test_a_pooled_connection_the_server_closed_is_replaced(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server closing a connection (a restart, an administrator)")
    database, admin = Database(db_url), Database(db_url)
    try:
        async with database.engine.connect() as conn:
            pooled = (await conn.get_raw_connection()).driver_connection
            pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        closed = asyncio.Event()
        pooled.add_termination_listener(lambda _connection: closed.set())
        async with admin.transaction() as session:
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.wait_for(closed.wait(), timeout=5)
        async with database.transaction() as session:  # no pre-ping round trips: the pool knows it is closed
            assert await session.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await database.dispose()
        await admin.dispose()


async def test_loading_areas_twice_changes_nothing(db, clock):
    spec = CountySpec("永嘉县", [TownshipSpec("岩头镇", ["芙蓉村", "新村"])])
    async with db.transaction() as session:
        before = len(await list_areas(session))
        result = await load_county(session, spec, clock.now())
        assert (result.created, result.existing) == (1, 3)
        again = await load_county(session, spec, clock.now())
        assert (again.created, again.existing) == (0, 4)
        assert len(await list_areas(session)) == before + 1


async def test_find_area_by_name_path_and_ambiguity(db, clock):
    spec = CountySpec("永嘉县", [TownshipSpec("枫林镇", ["芙蓉村"])])
    async with db.transaction() as session:
        await load_county(session, spec, clock.now())
        with pytest.raises(AmbiguousArea) as ambiguous:
            await find_area(session, "芙蓉村")
        assert sorted(ambiguous.value.candidates) == ["岩头镇/芙蓉村", "枫林镇/芙蓉村"]
        area = await find_area(session, "枫林镇/芙蓉村")
        assert area.parent.name == "枫林镇"
        with pytest.raises(AreaNotFound):
            await find_area(session, "火星村")


async def test_invite_codes_are_single_use_and_expire(db, clock):
    async with db.transaction() as session:
        invite = await create_invite(session, Role.COUNTY, None, clock.now(), timedelta(days=1))
        assert looks_like_code(invite.code) and looks_like_code(f" {invite.code.lower()} ")
        found = await find_invite(session, invite.code.lower())
        assert check_invite(found, clock.now()) is None
        assert check_invite(found, clock.now() + timedelta(days=2)) is InviteProblem.EXPIRED
        assert check_invite(None, clock.now()) is InviteProblem.UNKNOWN
        found.used_at = clock.now()
        assert check_invite(found, clock.now()) is InviteProblem.USED
    assert not looks_like_code("你好你好你好你好") and not looks_like_code("ABCDEFGHIJKLMNOP")


async def test_an_update_id_is_claimed_once_per_channel(db, clock):
    async with db.transaction() as session:
        assert await claim_update(session, "telegram", 5, clock.now())
        assert not await claim_update(session, "telegram", 5, clock.now())
        assert await claim_update(session, "terminal", 5, clock.now())


def test_area_files_report_problems_in_chinese(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"this is not a zip file")
    with pytest.raises(AreaFileError, match=r"无法打开“broken\.xlsx”：文件已损坏，或不是 Excel（\.xlsx）文件"):
        parse_area_file(broken)
    bad_yaml = tmp_path / "areas.yaml"
    bad_yaml.write_text("county: 永嘉县\ntownships:\n  - name: ''\n", encoding="utf-8")
    with pytest.raises(AreaFileError, match="名称为空"):
        parse_area_file(bad_yaml)
    with pytest.raises(AreaFileError, match="找不到文件"):
        parse_area_file(tmp_path / "missing.yaml")
    csv = tmp_path / "x.csv"
    csv.write_text("县,乡镇,村\n", encoding="utf-8")
    with pytest.raises(AreaFileError, match="不支持的文件类型"):
        parse_area_file(csv)


def test_area_xlsx_is_read_and_wrong_columns_are_named(tmp_path):
    from openpyxl import Workbook

    good = tmp_path / "areas.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["县", "乡镇", "村"])
    sheet.append(["永嘉县", "桥头镇", "桥一村"])
    sheet.append([None, None, None])
    sheet.append(["永嘉县", "桥头镇", "桥二村"])
    sheet.append(["永嘉县", "金溪镇", None])
    book.save(good)
    spec = parse_area_file(good)
    assert spec.name == "永嘉县"
    assert [(t.name, t.villages) for t in spec.townships] == [("桥头镇", ["桥一村", "桥二村"]), ("金溪镇", [])]
    wrong = tmp_path / "wrong.xlsx"
    book = Workbook()
    book.active.append(["县名", "乡镇", "村"])
    book.save(wrong)
    with pytest.raises(AreaFileError, match="缺少列“县”"):
        parse_area_file(wrong)
