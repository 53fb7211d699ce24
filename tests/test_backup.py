"""`shixiao backup` / `shixiao restore`, run as a user would (CliRunner), on real SQLite files."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

import storage.backup
from bot.cli import app
from storage.migrate import head_revision

runner = CliRunner()
HANDLED_AT = "2026-05-06 01:00:00.000000"


@pytest.fixture
def live(tmp_path) -> Path:
    return tmp_path / "data" / "shixiao.db"


@pytest.fixture
def env(live) -> dict[str, str]:
    return {"SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{live}", "SHIXIAO_TELEGRAM_TOKEN": ""}


def invoke(args: list[str], env: dict[str, str], **kwargs):
    return runner.invoke(app, args, env=env, catch_exceptions=False, **kwargs)


def query(path: Path, sql: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, params).fetchall()


def record_update(path: Path, update_id: int) -> None:
    with closing(sqlite3.connect(path, isolation_level=None, timeout=10)) as conn:
        conn.execute(
            "INSERT INTO processed_updates (channel, update_id, handled_at) VALUES ('test', ?, ?)",
            (update_id, HANDLED_AT),
        )


def update_ids(path: Path) -> set[int]:
    return {row[0] for row in query(path, "SELECT update_id FROM processed_updates WHERE channel = 'test'")}


@pytest.fixture
def database(env, live) -> Path:
    """A migrated database with the sample county, an invite and update 1 recorded."""
    assert invoke(["invite", "--role", "county"], env).exit_code == 0
    record_update(live, 1)
    return live


@pytest.fixture
def writer(database) -> Iterator[None]:
    """Another connection committing rows (with padding, so the file spans many pages) until the test ends.

    It gives up after 20 s, so that a backup which restarts on every commit fails the test instead of hanging it."""
    stop = threading.Event()
    written = threading.Event()

    def write() -> None:
        with closing(sqlite3.connect(database, isolation_level=None, timeout=10)) as conn:
            update_id = 1_000
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO processed_updates (channel, update_id, handled_at) VALUES ('load', ?, ?)",
                    (update_id, HANDLED_AT + " " + "x" * 2000),
                )
                conn.execute("COMMIT")
                time.sleep(0.002)  # a busy writer, not a starving one: other connections get the lock in turn
                update_id += 1
                if update_id == 1_200:
                    written.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    assert written.wait(10)
    yield
    stop.set()
    thread.join(10)


def test_backup_while_a_writer_is_active(database, env, tmp_path, writer, monkeypatch):
    """One page per step, and a commit from another connection in the middle of the copy: the backup finishes,
    is sound, and holds the database exactly as it was when the copy began."""
    monkeypatch.setattr(storage.backup, "STEP_PAGES", 1)
    copy = storage.backup.copy_into
    steps: list[int] = []

    def copy_with_a_commit_midway(source, target, progress=None):
        def step(done: int, total: int) -> None:
            steps.append(done)
            if len(steps) == 2:
                record_update(source, 2)  # committed while the copy is under way
            if progress is not None:
                progress(done, total)

        copy(source, target, step)

    monkeypatch.setattr(storage.backup, "copy_into", copy_with_a_commit_midway)
    out = tmp_path / "backup.db"
    result = invoke(["backup", "--out", str(out)], env)
    assert result.exit_code == 0, result.output
    assert (
        "备份完成" in result.output
        and "完整性检查通过" in result.output
        and f"数据库版本 {head_revision()}" in result.output
    )
    assert len(steps) > 50  # a real multi-step copy, with the writer committing between steps
    assert query(out, "PRAGMA integrity_check") == [("ok",)]
    assert query(out, "PRAGMA journal_mode") == [("delete",)]  # self-contained: no -wal beside it
    assert update_ids(out) == {1}  # the snapshot: update 2 came after the copy began
    assert update_ids(database) == {1, 2}
    loaded = query(out, "SELECT count(*) FROM processed_updates WHERE channel = 'load'")[0][0]
    assert loaded >= 200
    assert re.search(rf"processed_updates\s*│\s*{loaded + 1:,}\s*│", result.output)  # rows per table reported


def test_restore_round_trip(database, env, tmp_path):
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env).exit_code == 0
    record_update(database, 2)  # after the backup: gone once it is restored
    invites = query(database, "SELECT code FROM invites")
    assert invoke(["invite", "--role", "county"], env).exit_code == 0

    result = invoke(["restore", str(out), "--yes"], env)
    assert result.exit_code == 0, result.output
    assert "恢复完成" in result.output and "完整性检查通过" in result.output
    assert update_ids(database) == {1}
    assert query(database, "SELECT code FROM invites") == invites
    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    safety = next(database.parent.glob("shixiao-before-restore-*.db"))
    assert f"原数据库已另存为 {safety}" in result.output.replace("\n", "")
    assert update_ids(safety) == {1, 2} and len(query(safety, "SELECT code FROM invites")) == 2
    assert not list(database.parent.glob("*.restoring*"))  # the staging copy is cleaned up
    assert invoke(["invite", "--role", "county"], env).exit_code == 0  # the restored database is in use


def test_restore_under_an_open_connection(database, env, tmp_path):
    """Restoring writes through SQLite into the live file, so a process that has it open (the bot) is not left
    reading a replaced file: it sees the restored content, and the database stays sound."""
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env).exit_code == 0
    with closing(sqlite3.connect(database, isolation_level=None, timeout=10)) as bot:
        bot.execute("PRAGMA journal_mode=WAL")
        bot.execute(
            "INSERT INTO processed_updates (channel, update_id, handled_at) VALUES ('test', 2, ?)", (HANDLED_AT,)
        )
        assert invoke(["restore", str(out), "--yes"], env).exit_code == 0
        assert {row[0] for row in bot.execute("SELECT update_id FROM processed_updates")} == {1}
        bot.execute(
            "INSERT INTO processed_updates (channel, update_id, handled_at) VALUES ('test', 3, ?)", (HANDLED_AT,)
        )
    assert update_ids(database) == {1, 3}
    assert query(database, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.slow
def test_restore_upgrades_an_older_backup(env, live, tmp_path):
    assert invoke(["db", "upgrade", "0003"], env).exit_code == 0
    record_update(live, 7)
    out = tmp_path / "old.db"
    assert invoke(["backup", "--out", str(out)], env).exit_code == 0
    assert invoke(["db", "upgrade"], env).exit_code == 0

    result = invoke(["restore", str(out), "-y"], env)
    assert result.exit_code == 0, result.output
    assert f"已从版本 0003 升级到 {head_revision()}" in result.output
    assert query(live, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert query(out, "SELECT version_num FROM alembic_version") == [("0003",)]  # the backup itself is untouched
    assert update_ids(live) == {7}


def test_restore_into_an_empty_data_folder(database, env, tmp_path):
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env).exit_code == 0
    other = tmp_path / "elsewhere" / "new.db"
    result = invoke(["restore", str(out), "--yes"], {**env, "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{other}"})
    assert result.exit_code == 0, result.output
    assert update_ids(other) == {1} and "原数据库已另存为" not in result.output


def test_a_backup_that_fails_to_migrate_changes_nothing(database, env, tmp_path, monkeypatch):
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env).exit_code == 0
    record_update(database, 2)

    async def broken_migration(path: Path) -> None:
        raise RuntimeError("migration 0007 failed")

    monkeypatch.setattr(storage.backup, "upgrade_to_head", broken_migration)
    result = invoke(["restore", str(out), "--yes"], env)
    assert result.exit_code == 1
    output = result.output.replace("\n", "")
    assert "升级到最新表结构时出错（RuntimeError: migration 0007 failed），当前数据库没有改动" in output
    assert update_ids(database) == {1, 2}
    assert not list(database.parent.glob("*restor*"))


def test_declining_the_question_changes_nothing(database, env, tmp_path):
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env).exit_code == 0
    record_update(database, 2)
    result = invoke(["restore", str(out)], env, input="n\n")
    assert result.exit_code == 1 and "已取消" in result.output
    assert update_ids(database) == {1, 2}
    assert sorted(p.name for p in database.parent.iterdir() if "restor" in p.name) == []


def corrupt(path: Path) -> None:
    """Garbage over the pages after the schema: a file that still starts like SQLite but fails its checks."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[2 * page :] = b"\xa5" * (len(data) - 2 * page)
    path.write_bytes(bytes(data))


def broken_file(kind: str, folder: Path, good: Path) -> Path:
    path = folder / f"{kind}.db"
    if kind == "missing":
        return path
    if kind == "text":
        path.write_text("这不是数据库\n", encoding="utf-8")
    elif kind == "damaged":
        path.write_bytes(good.read_bytes())
        corrupt(path)
    elif kind == "foreign":
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("CREATE TABLE notes (body TEXT)")
            conn.commit()
    elif kind == "newer":
        path.write_bytes(good.read_bytes())
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
            conn.commit()
    return path


@pytest.mark.parametrize(
    ("damage", "notice"),
    [
        ("pages", "原数据库已损坏（未通过完整性检查），其文件已按原样另存为"),
        ("garbage", "已直接换成备份"),
    ],
)
def test_restore_over_a_damaged_database(database, env, tmp_path, damage, notice):
    """A damaged database is the likeliest reason to restore: its files are kept as they are, and it is replaced."""
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env).exit_code == 0
    if damage == "pages":
        corrupt(database)
    else:
        database.write_text("garbage", encoding="utf-8")
    damaged = database.read_bytes()
    result = invoke(["restore", str(out), "--yes"], env)
    assert result.exit_code == 0, result.output
    assert notice in result.output.replace("\n", "") and "恢复完成" in result.output
    assert update_ids(database) == {1}
    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    assert next(database.parent.glob("shixiao-before-restore-*.db")).read_bytes() == damaged


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "找不到文件"),
        ("text", "不是 SQLite 数据库文件"),
        ("damaged", "已损坏，未通过 SQLite 完整性检查"),
        ("foreign", "不是十小通的数据库（缺少表："),
        ("newer", "版本 9999，不是本程序认识的版本"),
    ],
)
def test_restore_refuses_a_broken_file(database, env, tmp_path, kind, message):
    good = tmp_path / "good.db"
    assert invoke(["backup", "--out", str(good)], env).exit_code == 0
    record_update(database, 2)
    before = query(database, "SELECT * FROM processed_updates ORDER BY update_id")
    result = invoke(["restore", str(broken_file(kind, tmp_path, good)), "--yes"], env)
    assert result.exit_code == 1
    output = result.output.replace("\n", "")
    assert message in output and "当前数据库没有改动" in output and "Traceback" not in output
    assert query(database, "SELECT * FROM processed_updates ORDER BY update_id") == before
    assert not list(database.parent.glob("*restor*"))  # neither a staging copy nor a safety copy was left


def test_backup_refuses_to_overwrite_without_force(database, env, tmp_path):
    out = tmp_path / "backup.db"
    out.write_bytes(b"an older backup")
    result = invoke(["backup", "--out", str(out)], env)
    assert result.exit_code == 1 and "已存在" in result.output and "--force" in result.output
    assert out.read_bytes() == b"an older backup"
    assert not (tmp_path / "backup.db.part").exists()
    forced = invoke(["backup", "--out", str(out), "--force"], env)
    assert forced.exit_code == 0, forced.output
    assert update_ids(out) == {1}


def test_backup_without_a_database_explains(env, tmp_path):
    result = invoke(["backup", "--out", str(tmp_path / "b.db")], env)
    assert result.exit_code == 1 and "不存在" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "b.db").exists()


@pytest.mark.parametrize("args", [["backup", "--out", "x.db"], ["restore", "x.db", "--yes"]])
def test_postgresql_is_referred_to_pg_dump(args, tmp_path):
    env = {"SHIXIAO_DATABASE_URL": "postgresql+asyncpg://shixiao@db.example:5433/shixiao", "SHIXIAO_TELEGRAM_TOKEN": ""}
    result = invoke(args, env)
    output = result.output.replace("\n", "")
    assert result.exit_code == 2
    assert "PostgreSQL" in output
    assert "pg_dump -Fc -h db.example -p 5433 -U shixiao -d shixiao -f shixiao-" in output
    assert "pg_restore --clean --if-exists --no-owner -h db.example -p 5433 -U shixiao -d shixiao shixiao-" in output
    assert not (tmp_path / "x.db").exists()
