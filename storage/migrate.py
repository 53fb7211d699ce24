"""Alembic run from inside the application, sharing its async engine (Alembic's asyncio cookbook).

Alembic (with Mako and its DDL helpers) costs about half a second and tens of MB to import, so it is imported
only when there is migration work: a database already at the head is recognised by comparing its
alembic_version rows with the head read straight from the migration files (`script_heads`)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
MIGRATION_LOCK = 0x736869_786D6967  # "shixmig": an advisory lock key of our own
_REVISION = re.compile(r"^revision(?:\s*:\s*[\w\[\], |]+)?\s*=\s*['\"](\w+)['\"]\s*$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:\s*[\w\[\], |]+)?\s*=\s*(None|['\"](\w+)['\"])\s*$", re.MULTILINE)


def alembic_config(connection: Any = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def script_heads() -> frozenset[str] | None:
    """The head revisions, read from the migration files without importing Alembic.

    None when a file does not declare plain `revision = "…"` / `down_revision = "…" | None` lines (a merge
    revision, say): the caller then leaves the question to Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0][1]:
            parents.add(down[0][1])
    return frozenset(revisions - parents) or None


async def _stamped(conn: AsyncConnection) -> frozenset[str] | None:
    """The revisions recorded in the database; None for a database Alembic never touched."""
    exists = await conn.run_sync(lambda sync: sync.dialect.has_table(sync, VERSION_TABLE))
    if not exists:
        return None
    rows = await conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return frozenset(row[0] for row in rows)


async def is_at_head(engine: AsyncEngine) -> bool:
    heads = script_heads()
    if heads is None:
        return False
    async with engine.connect() as conn:
        return await _stamped(conn) == heads


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    to_head = revision in ("head", "heads")
    if to_head and await is_at_head(engine):
        return  # the common start-up case: nothing to migrate, so Alembic is never imported
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Instances starting together: one migrates, the others wait here and then find nothing to do.
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        if to_head and await conn.run_sync(_create_new):
            return
        await conn.run_sync(lambda sync: _alembic_upgrade(sync, revision))


def _alembic_upgrade(sync: Connection, revision: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(sync), revision)


def _create_new(sync: Connection) -> bool:
    """A database with no tables at all gets the models' schema and the head stamp directly, without Alembic
    (whose import would stay in the process's memory, ~10 MB, for its whole life). The same schema as the
    migrations give: tests/test_storage.py compares the two. False when there is anything there already."""
    heads = script_heads()
    if heads is None or len(heads) != 1 or inspect(sync).get_table_names():
        return False
    from storage.schema import metadata

    metadata.create_all(sync)
    version = _version_table()
    version.create(sync)
    sync.execute(version.insert().values(version_num=next(iter(heads))))
    return True


def _version_table() -> Table:
    """Alembic's own version table, as Alembic creates it."""
    return Table(
        VERSION_TABLE,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def is_known_revision(revision: str) -> bool:
    """Whether `revision` is one of this program's migrations (a newer program's database is not)."""
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def head_revision() -> str | None:
    """The single head; more than one means two migration branches still need to be joined."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
