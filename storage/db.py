"""Engine, sessions and the SQLite settings that make the embedded default fast and safe."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.private_files import create_private

log = logging.getLogger(__name__)
# How long a transaction waits for another connection's write lock before "database is locked". SQLite waits on
# aiosqlite's thread, not on the event loop.
BUSY_TIMEOUT_MS = 10_000


def _prepare_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver so that BEGIN IMMEDIATE below is the only BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # BEGIN IMMEDIATE, the one statement that waits for another connection in WAL mode, waits this long.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes can fail with SQLITE_BUSY even with a busy
        # timeout; taking the write lock up front makes concurrent writers simply wait their turn
        # (SQLAlchemy's documented recipe for SQLite transactions, with IMMEDIATE).
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _check_closed_on_checkout(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("closed by the server")  # the pool replaces it and checks out again


def kept(session: AsyncSession, key: str) -> Any:
    """What keep() stored under `key` for the session's current transaction; None if nothing, or if it was kept
    for an earlier transaction of the session (which may have been on another connection, with other rows)."""
    owner, value = session.info.get(key, (None, None))
    return value if owner is not None and owner is session.sync_session.get_transaction() else None


def keep(session: AsyncSession, key: str, value: Any) -> Any:
    """Store `value` under `key` for the rest of the session's current transaction; returns it."""
    session.info[key] = (session.sync_session.get_transaction(), value)
    return value


SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def sync_database_url(url: str) -> str:
    """The same database for a synchronous driver (APScheduler 3's job store is not async)."""
    parsed = make_url(url)
    return parsed.set(drivername=SYNC_DRIVERS[parsed.get_backend_name()]).render_as_string(hide_password=False)


class Database:
    """One engine and session factory; `transaction()` is the unit of work (commit or roll back)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # hide_parameters: a failed statement's error (logged) shows its SQL but not the values bound to it, which
        # may be a complainant's name, phone or text.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                create_private(Path(database))  # it will hold names and phones: 0600, not the umask's 0644
        else:
            # asyncpg notices a connection the server closed (a restart) by itself, for free; the generic
            # pre-ping costs three round trips per transaction with asyncpg (BEGIN, a probe, ROLLBACK).
            kwargs["pool_pre_ping"] = parsed.get_driver_name() != "asyncpg"
        self.engine: AsyncEngine = create_async_engine(parsed, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
        elif not kwargs["pool_pre_ping"]:
            _check_closed_on_checkout(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        session = self._sessions()
        try:
            async with session.begin():
                yield session
        except BaseException:
            async with session:  # closed as `async with` closes it: to completion, even if cancelled meanwhile
                raise
        # Committed: the connection is back in the pool, and closing only forgets the objects. Done directly, not
        # in the task AsyncSession's `async with` creates for it: that task was a third of the cost of an empty
        # transaction, on every inbound update.
        session.sync_session.close()

    @asynccontextmanager
    async def exclusive(self, key: int) -> AsyncIterator[None]:
        """One instance at a time through a block (PostgreSQL advisory lock; SQLite's writer lock suffices)."""
        if self.is_sqlite:
            yield
            return
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            await conn.commit()
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                await conn.commit()

    async def optimize(self) -> None:
        """Refresh the query planner's statistics (SQLite has none until asked; PostgreSQL's autovacuum has them).

        Without them SQLite may walk an index over nearly every row where a plain scan is far cheaper."""
        if self.is_sqlite:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                await conn.exec_driver_sql("PRAGMA optimize(0x10002)")

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def upgrade(self, revision: str = "heads") -> None:
        from storage.migrate import upgrade

        await upgrade(self.engine, revision)

    async def downgrade(self, revision: str) -> None:
        from storage.migrate import downgrade

        await downgrade(self.engine, revision)
