"""SQLite for SQLAlchemy's async engine, called on the event loop's own thread.

aiosqlite runs every call (open a cursor, execute, fetch, close) on a thread of its own and wakes the event loop
with each result: four thread hops per statement, ~0.1 ms each on a small VM, while the statement itself takes a
few microseconds on a local WAL file. Measured on an inbound update (bench/inbound_throughput.py), the hops were
most of the cost. Here the same sqlite3 calls run inline, behind the interface aiosqlite offers SQLAlchemy, so
SQLAlchemy's own asyncio adaptation (row buffering, streaming, error translation) is reused unchanged.

What inline costs: a statement blocks the event loop while it runs. That is microseconds for the bot's queries and
under a second for the heaviest (the county-wide digest), and a long write transaction already held every other
transaction up, since all of them take the write lock (BEGIN IMMEDIATE). Waiting for another connection's write
lock must not block the loop, though: BEGIN waits asynchronously (`BEGIN_WAIT`), other statements use SQLite's
own short busy timeout (they only wait in rare cases in WAL mode, as the write lock is taken at BEGIN).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import parse_version_string
from sqlalchemy.util.concurrency import await_

NAME = "sqlite+inline"
BEGIN_WAIT = 10.0  # seconds a BEGIN waits for another connection's write lock before "database is locked"
BUSY_TIMEOUT_MS = 50  # SQLite's own (blocking) wait, for the rare statement other than BEGIN that must wait

registry.register("sqlite.inline", __name__, "InlineSQLiteDialect")


class InlineCursor:
    """The async cursor interface of aiosqlite over a sqlite3 cursor; nothing here ever suspends except a BEGIN
    waiting for the write lock."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    def __await__(self) -> Generator[Any, None, InlineCursor]:
        return self.__aenter__().__await__()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None) -> InlineCursor:
        if parameters is None:
            parameters = ()
        if sql.lstrip()[:5].upper() != "BEGIN":
            self._cursor.execute(sql, parameters)
            return self
        deadline, pause = time.monotonic() + BEGIN_WAIT, 0.001
        while True:
            try:
                self._cursor.execute(sql, parameters)
                return self
            except sqlite3.OperationalError as error:
                if not _locked(error) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)  # let the holder (perhaps a coroutine of this very loop) finish
            pause = min(pause * 2, 0.05)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def __aiter__(self) -> InlineCursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


def _locked(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class InlineConnection:
    """aiosqlite.Connection's interface over a sqlite3 connection (what SQLAlchemy's adapter calls)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        self._connector = connector
        self._connection: sqlite3.Connection | None = None

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._open().__await__()

    async def _open(self) -> InlineConnection:
        self._connection = self._connector()
        return self

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._conn.isolation_level = value


def _connect(*args: Any, **kwargs: Any) -> InlineConnection:
    return InlineConnection(lambda: sqlite3.connect(*args, **kwargs))


# What SQLAlchemy's aiosqlite adapter reads from the aiosqlite module: connect, Connection and sqlite3's errors.
_MODULE = SimpleNamespace(
    connect=_connect, Connection=InlineConnection, __version__=sqlite3.sqlite_version,
    **{name: getattr(sqlite3, name) for name in ("DatabaseError", "Error", "IntegrityError", "NotSupportedError",
                                                 "OperationalError", "ProgrammingError", "sqlite_version",
                                                 "sqlite_version_info")},
)


class _AdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection.isolation_level = value  # aiosqlite's setter posts to its thread; here it is direct


class _DBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *args: Any, **kwargs: Any) -> _AdaptedConnection:
        return _AdaptedConnection(self, await_(_connect(*args, **kwargs)))


class InlineSQLiteDialect(SQLiteDialect_aiosqlite):
    driver = "inline"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> _DBAPI:
        return _DBAPI(_MODULE, sqlite3)  # type: ignore[arg-type]

    def retrieve_dbapi_version(self, dbapi: Any) -> Any:
        return parse_version_string(sqlite3.sqlite_version)
