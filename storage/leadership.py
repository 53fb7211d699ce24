"""Which instance runs the scheduled jobs: the one holding a lock in (or beside) the shared database.

PostgreSQL: a session-level advisory lock on a connection kept open for as long as the instance leads; if the
instance dies, its connection closes and the lock passes to the next instance that asks. SQLite: an exclusive
lock on a file beside the database (several processes on one SQLite file are possible, if unusual)."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

log = logging.getLogger(__name__)

# pg_try_advisory_lock takes a bigint; this one is "shixiao" in ASCII, so it will not clash by accident.
SCHEDULER_LOCK = 0x736869_7869616F


class Leadership(Protocol):
    async def acquire(self) -> bool: ...

    async def held(self) -> bool: ...

    async def release(self) -> None: ...


class PostgresLeadership:
    def __init__(self, db: Database, key: int = SCHEDULER_LOCK) -> None:
        self.db = db
        self.key = key
        self._conn: AsyncConnection | None = None

    async def acquire(self) -> bool:
        if self._conn is not None:
            return await self.held()
        conn = await self.db.engine.connect()
        try:
            got = bool(await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}))
            await conn.commit()  # the lock is the session's, not the transaction's: keep no transaction open
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def held(self) -> bool:
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception as error:  # the connection is gone, and the lock with it
            log.warning("lost the scheduler lock's connection: %s", type(error).__name__)
            await self._drop()
            return False

    async def release(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            await self._conn.commit()
        except Exception as error:
            log.warning("could not release the scheduler lock: %s", type(error).__name__)
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # closing a broken connection may fail too; it is gone either way
                await conn.invalidate()


class FileLeadership:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class SoleLeadership:
    """An in-memory database has one process by definition."""

    async def acquire(self) -> bool:
        return True

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


def leadership_for(db: Database) -> Leadership:
    if not db.is_sqlite:
        return PostgresLeadership(db)
    database = db.engine.url.database
    if not database or database == ":memory:":
        return SoleLeadership()
    return FileLeadership(Path(f"{database}.scheduler.lock"))
