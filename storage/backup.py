"""Online copies of the embedded SQLite database, and the checks that a file is a sound shixiao database.

Copies go through SQLite's backup API inside one read transaction on the source: in WAL mode a reader never
blocks the writer, so the bot keeps working, and the copy is exactly the snapshot the transaction sees. (Without
that transaction each backup step would start a new snapshot, and any commit in between restarts the copy from
page one: under a steadily writing bot it never finishes.) Restoring copies the same way *into* the live
database, so a process that has it open never has the file swapped under it.

A backup is data, but an SQLite file carries code too: a trigger in a forged backup would run inside the bot on
every insert (copying each new complaint into the outbox, addressed to someone else). So a backup is restored only
if its schema holds nothing a database freshly migrated to the backup's revision does not have. Every file made
here (copies, safety copies, staging files) is created with mode 0600: they hold names, phones and complaints.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing, suppress
from dataclasses import dataclass, replace
from pathlib import Path

from storage.db import Database
from storage.migrate import is_known_revision
from storage.private_files import create_private, private_copy

SQLITE_HEADER = b"SQLite format 3\x00"
# Tables every shixiao database has had since the first migration.
REQUIRED_TABLES = frozenset(
    {"alembic_version", "areas", "users", "invites", "conversations", "processed_updates", "outbox"}
)
# SQLite's own tables, made by the engine (AUTOINCREMENT, ANALYZE / PRAGMA optimize), never by a schema.
INTERNAL_TABLES = frozenset({"sqlite_sequence", "sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4"})
STEP_PAGES = 1024  # pages per backup step (4 MiB at the default page size): the granularity of progress
BUSY_TIMEOUT = 10.0

Progress = Callable[[int, int], None]  # pages copied so far, pages in all


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the subclasses say why (the CLI explains them in Chinese)."""

    def __init__(self, path: Path, detail: str = "") -> None:
        super().__init__(f"{path}: {detail}" if detail else str(path))
        self.path = path
        self.detail = detail


class NoDatabase(BackupError):
    """The file does not exist."""


class TargetExists(BackupError):
    """The backup file exists and overwriting was not asked for."""


class SameFile(BackupError):
    """The backup would overwrite the database it copies."""


class NotSqlite(BackupError):
    """The file is not an SQLite database at all."""


class Damaged(BackupError):
    """An SQLite file that fails `PRAGMA integrity_check` (detail: SQLite's first findings)."""


class NotShixiao(BackupError):
    """A sound SQLite database without shixiao's tables (detail: the missing ones)."""


class MigrationFailed(BackupError):
    """The staged backup could not be brought to the migration head (detail: the error); nothing was replaced."""


class UnknownRevision(BackupError):
    """A shixiao database at a migration this program does not know (a newer version's; detail: the revision)."""


class ForeignSchema(BackupError):
    """A backup whose schema has objects (triggers, views, indexes, tables) that a database migrated to its
    revision does not have; `objects` lists them as (type, name), `detail` is the revision."""

    def __init__(self, path: Path, detail: str = "", objects: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(path, detail)
        self.objects = objects


@dataclass(frozen=True)
class Summary:
    """What a checked database holds: file size, migration revision and rows per table."""

    path: Path
    size: int
    revision: str | None
    rows: dict[str, int]


def _open(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """Autocommit connection (transactions are explicit); never creates a file unless asked to."""
    if create:
        create_private(path)
    mode = "rwc" if create else "rw"
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?mode={mode}", uri=True, isolation_level=None, timeout=BUSY_TIMEOUT
    )


def copy_into(source: Path, target: sqlite3.Connection, progress: Progress | None = None) -> None:
    """Copy the database at `source` into `target`'s database (replacing its content) as one consistent snapshot."""

    def report(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    with closing(_open(source)) as src:
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master")  # the read transaction starts here: this is the snapshot
        try:
            src.backup(target, pages=STEP_PAGES, progress=report)
        finally:
            src.execute("ROLLBACK")


def check(path: Path) -> Summary:
    """Raise unless `path` is a sound SQLite file with shixiao's tables; otherwise what it holds."""
    if not path.is_file():
        raise NoDatabase(path)
    with path.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise NotSqlite(path)
    try:
        with closing(_open(path)) as conn:
            findings = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if findings != ["ok"]:
                raise Damaged(path, "; ".join(findings[:5]))
            tables = sorted(
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            )
            missing = REQUIRED_TABLES - set(tables)
            if missing:
                raise NotShixiao(path, "、".join(sorted(missing)))
            revision = conn.execute("SELECT max(version_num) FROM alembic_version").fetchone()[0]
            rows = {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
    except sqlite3.DatabaseError as error:  # "file is not a database", "database disk image is malformed" ...
        raise Damaged(path, str(error)) from None
    return Summary(path, path.stat().st_size, revision, rows)


def backup(source: Path, out: Path, *, force: bool = False, progress: Progress | None = None) -> Summary:
    """Write a consistent, self-contained copy of `source` to `out` and check it.

    The copy is written to a new file of a random name beside `out` (mkstemp: mode 0600, never a name a symlink
    could be waiting at) and moved into place only once it passed the integrity check, so a failed backup never
    leaves a half file under the name asked for (nor destroys the file `force` would replace)."""
    if not source.is_file():
        raise NoDatabase(source)
    if out.exists() and out.resolve() == source.resolve():
        raise SameFile(out)
    if out.exists() and not force:
        raise TargetExists(out)
    descriptor, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(descriptor)
    part = Path(name)
    try:
        with closing(_open(part, create=True)) as target:
            copy_into(source, target, progress)
            target.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal/-shm beside it
        summary = check(part)
        os.replace(part, out)
    except BaseException:
        discard(part)
        raise
    return replace(summary, path=out)


def stage(candidate: Path, staging: Path) -> Summary:
    """Copy a backup to be restored to `staging` and check the copy (the user's file is never opened for writing)."""
    if not candidate.is_file():
        raise NoDatabase(candidate)
    with candidate.open("rb") as file:
        if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise NotSqlite(candidate)
    discard(staging)
    private_copy(candidate, staging)
    try:
        return replace(check(staging), path=candidate)
    except BackupError as error:
        discard(staging)
        raise type(error)(candidate, error.detail) from None


@dataclass(frozen=True)
class Staged:
    """A backup checked and copied beside the live database, ready to replace it."""

    backup: Summary
    staging: Path


@dataclass(frozen=True)
class Restored:
    backup: Summary  # the backup file as it was
    live: Summary  # the live database afterwards, at the migration head
    safety: Path | None  # the copy of the database it replaced (None: there was none)
    safety_sound: bool = True  # False: the replaced database was damaged, its files were kept as they were
    replaced_file: bool = False  # True: SQLite could not write into the damaged file, so the file was replaced


def staging_path(live: Path) -> Path:
    return live.with_name(live.name + ".restoring")


def prepare_restore(candidate: Path, live: Path) -> Staged:
    """Check a backup and stage a copy of it; nothing about the live database changes yet."""
    if candidate.exists() and live.exists() and candidate.resolve() == live.resolve():
        raise SameFile(candidate)
    staging = staging_path(live)
    live.parent.mkdir(parents=True, exist_ok=True)
    summary = stage(candidate, staging)
    if summary.revision is None or not is_known_revision(summary.revision):
        discard(staging)
        raise UnknownRevision(candidate, summary.revision or "")
    try:
        foreign = foreign_objects(staging, summary.revision)
    except BaseException:
        discard(staging)
        raise
    if foreign:
        discard(staging)
        raise ForeignSchema(candidate, summary.revision, foreign)
    return Staged(summary, staging)


def schema_of(path: Path) -> dict[tuple[str, str], str]:
    """(type, name) → SQL of every schema object but SQLite's own tables and automatic indexes."""
    with closing(_open(path)) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    return {
        (kind, name): " ".join((sql or "").split())
        for kind, name, sql in rows
        if not (kind == "table" and name in INTERNAL_TABLES) and not name.startswith("sqlite_autoindex_")
    }


def migrated_schema(revision: str) -> dict[tuple[str, str], str]:
    """The schema of an empty database migrated to `revision` (in a temporary folder, then removed)."""
    from alembic import command
    from sqlalchemy import create_engine

    from storage.migrate import alembic_config

    with tempfile.TemporaryDirectory(prefix="shixiao-schema-") as folder:
        fresh = Path(folder) / "fresh.db"
        engine = create_engine(f"sqlite:///{fresh}")
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), revision)
        finally:
            engine.dispose()
        return schema_of(fresh)


def foreign_objects(path: Path, revision: str) -> tuple[tuple[str, str], ...]:
    """The objects of the database at `path` that a database migrated to `revision` does not have, or has with
    other SQL (a trigger or view of the same name doing something else), as (type, name)."""
    expected = migrated_schema(revision)
    return tuple(
        sorted(
            key
            for key, sql in schema_of(path).items()
            if key not in expected or (key[0] in ("trigger", "view") and expected[key] != sql)
        )
    )


async def finish_restore(
    staged: Staged, live: Path, safety: Path, progress: Callable[[str, int, int], None] | None = None
) -> Restored:
    """Bring the staged copy to the migration head, keep a safety copy of the live database, then replace it.

    Every step that can fail on the backup's side (migrations) runs before the live database is touched.
    progress(phase, done, total) with phase "safety" (the copy of the current database) or "restore"."""

    def phase(name: str) -> Progress | None:
        return None if progress is None else lambda done, total: progress(name, done, total)

    def replace_live() -> Restored:
        kept, sound = keep_safety_copy(live, safety, phase("safety")) if live.is_file() else (None, True)
        try:
            after, replaced = restore_into(staged.staging, live, phase("restore")), False
        except sqlite3.DatabaseError:
            if sound:
                raise
            after, replaced = replace_file(staged.staging, live), True
        return Restored(staged.backup, after, kept, sound, replaced)

    try:
        try:
            await upgrade_to_head(staged.staging)
        except Exception as error:
            raise MigrationFailed(staged.backup.path, f"{type(error).__name__}: {error}") from error
        return await asyncio.to_thread(replace_live)  # page copying blocks; keep it off the event loop
    finally:
        discard(staged.staging)


async def upgrade_to_head(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.upgrade()
    finally:
        await db.dispose()


def keep_safety_copy(live: Path, safety: Path, progress: Progress | None) -> tuple[Path, bool]:
    """Copy the live database aside; (path, whether the copy is sound).

    A damaged live database is the likeliest reason to restore, so damage does not stop the restore: its files
    (with the -wal that holds its latest commits) are then kept byte for byte instead."""
    try:
        return backup(live, safety, progress=progress).path, True
    except (Damaged, NotShixiao, sqlite3.DatabaseError):
        for suffix in ("", "-wal"):
            if Path(f"{live}{suffix}").is_file():
                private_copy(Path(f"{live}{suffix}"), Path(f"{safety}{suffix}"))
        return safety, False


def replace_file(staging: Path, live: Path) -> Summary:
    """The last resort for a live file SQLite cannot even write into: put the staged file in its place."""
    fresh = live.with_name(live.name + ".new")
    fresh.unlink(missing_ok=True)
    private_copy(staging, fresh)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    os.replace(fresh, live)
    return check(live)


def restore_into(staging: Path, live: Path, progress: Progress | None = None) -> Summary:
    """Replace the content of the live database with the staged one, through SQLite (safe for open connections)."""
    live.parent.mkdir(parents=True, exist_ok=True)
    with closing(_open(live, create=True)) as target:
        target.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        copy_into(staging, target, progress)
    return check(live)


def discard(path: Path) -> None:
    """Remove a scratch database and its -wal/-shm/-journal companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()
