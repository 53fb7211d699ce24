"""A restored backup carries nothing but data; the database and its copies are private files.

The attack: a backup file with one extra trigger, copying every new complaint into the outbox addressed to an
attacker's chat. It passed `shixiao restore` and then ran inside the bot. Restore now compares the backup's schema
with a database freshly migrated to the backup's revision and refuses anything more.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from storage.migrate import head_revision

runner = CliRunner()
LEAK = """CREATE TRIGGER leak AFTER INSERT ON complaints BEGIN
  INSERT INTO outbox (channel, chat_id, kind, payload, status, attempts, created_at)
  VALUES ('telegram', 666, 'message', json_object('text', NEW.description, 'from', NEW.complainant_id), 'pending', 0,
          NEW.created_at);
END"""
EXTRAS = {
    "trigger": (LEAK, "触发器“leak”"),
    "view": ("CREATE VIEW everyone AS SELECT * FROM users", "视图“everyone”"),
    "table": ("CREATE TABLE notes (body TEXT)", "表“notes”"),
    "index": ("CREATE INDEX ix_sneaky ON users (name)", "索引“ix_sneaky”"),
}


@pytest.fixture(autouse=True)
def usual_umask():
    """The modes asserted here must not depend on the umask of whoever runs the tests: the common 022."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def live(tmp_path) -> Path:
    return tmp_path / "data" / "shixiao.db"


@pytest.fixture
def env(live) -> dict[str, str]:
    return {"SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{live}", "SHIXIAO_TELEGRAM_TOKEN": "", "COLUMNS": "250"}


def invoke(args: list[str], env: dict[str, str]):
    result = runner.invoke(app, args, env=env, catch_exceptions=False)
    return result.exit_code, result.output.replace("\n", "")


def execute(path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for statement in statements:
            conn.execute(statement)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def database(env, live) -> Path:
    """A database made by the CLI (sample county, an invite), with a row to tell it apart."""
    assert invoke(["invite", "--role", "county"], env)[0] == 0
    execute(
        live,
        "INSERT INTO processed_updates (channel, update_id, handled_at) "
        "VALUES ('test', 1, '2026-05-06 01:00:00.000000')",
    )
    return live


def updates(path: Path) -> list[int]:
    with closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("SELECT update_id FROM processed_updates ORDER BY update_id")]


@pytest.mark.parametrize("kind", list(EXTRAS))
def test_a_backup_with_an_extra_schema_object_is_refused_naming_it(database, env, tmp_path, kind):
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env)[0] == 0
    sql, named = EXTRAS[kind]
    execute(out, sql)
    execute(
        database,
        "INSERT INTO processed_updates (channel, update_id, handled_at) "
        "VALUES ('test', 2, '2026-05-06 01:00:00.000000')",
    )
    code, output = invoke(["restore", str(out), "--yes"], env)
    assert code == 1, output
    assert f"含有版本 {head_revision()} 的十小通数据库不应有的结构：{named}" in output
    assert "已拒绝恢复" in output and "当前数据库没有改动" in output
    assert updates(database) == [1, 2]  # untouched
    assert not list(database.parent.glob("*restor*"))  # no staging copy left behind


def test_an_old_backup_is_checked_against_a_database_of_its_own_revision(env, live, tmp_path):
    assert invoke(["db", "upgrade", "0003"], env)[0] == 0
    out = tmp_path / "old.db"
    assert invoke(["backup", "--out", str(out)], env)[0] == 0
    execute(out, LEAK)
    code, output = invoke(["restore", str(out), "--yes"], env)
    assert code == 1 and "含有版本 0003 的十小通数据库不应有的结构：触发器“leak”" in output, output


def test_a_clean_backup_restores_and_every_copy_is_private(database, env, tmp_path):
    with closing(sqlite3.connect(database, isolation_level=None)) as conn:
        conn.execute("ANALYZE")  # sqlite_stat1: SQLite's own table, as PRAGMA optimize makes it in every database
        assert mode(database) == 0o600 and mode(Path(f"{database}-wal")) == 0o600  # WAL mode: it lives while open
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env)[0] == 0
    assert mode(out) == 0o600
    execute(
        database,
        "INSERT INTO processed_updates (channel, update_id, handled_at) "
        "VALUES ('test', 2, '2026-05-06 01:00:00.000000')",
    )
    code, output = invoke(["restore", str(out), "--yes"], env)
    assert code == 0, output
    assert updates(database) == [1]
    [safety] = database.parent.glob("shixiao-before-restore-*.db")
    assert updates(safety) == [1, 2] and mode(safety) == 0o600 and mode(database) == 0o600
    elsewhere = tmp_path / "elsewhere" / "new.db"
    code, output = invoke(
        ["restore", str(out), "--yes"], {**env, "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{elsewhere}"}
    )
    assert code == 0 and mode(elsewhere) == 0o600, output
    private = [database, Path(f"{database}-wal"), out, safety, elsewhere]
    assert {mode(path) for path in private if path.exists()} == {0o600}
    print(f"backup files: {len(private)} kinds (database, -wal, backup, safety copy, restore elsewhere), all 0600")


def test_a_damaged_database_kept_aside_is_private_too(database, env, tmp_path):
    out = tmp_path / "backup.db"
    assert invoke(["backup", "--out", str(out)], env)[0] == 0
    data = bytearray(database.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[2 * page :] = b"\xa5" * (len(data) - 2 * page)
    database.write_bytes(bytes(data))
    code, output = invoke(["restore", str(out), "--yes"], env)
    assert code == 0, output
    [safety] = database.parent.glob("shixiao-before-restore-*.db")
    assert mode(safety) == 0o600


def test_a_backup_is_never_written_through_a_planted_symlink(database, env, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    out = tmp_path / "backup.db"
    (tmp_path / "backup.db.part").symlink_to(victim)  # the name backups were written through before
    assert invoke(["backup", "--out", str(out)], env)[0] == 0
    assert victim.read_text(encoding="utf-8") == "keep me" and updates(out) == [1] and mode(out) == 0o600
