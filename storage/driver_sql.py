"""Statements run on every inbound update or delivery, sent straight to the database driver on the session's
connection: recording update ids, appending replies to the outbox, recording deliveries.

Through the ORM session each cost 0.1–0.4 ms of CPU on SQLite, against ~0.03 ms for the statement itself
(bench/README.md): cache keys, compiled-statement lookup, result setup and the greenlet hops of the async
adaptation. Here SQLAlchemy renders each statement once per dialect (so quoting, placeholders and casts are its
own) and converts values with the columns' own types, and the driver runs it on the connection of the session's
transaction.

Nothing here loads ORM objects, and no row of these tables is held by the session meanwhile, so bypassing the
unit of work changes nothing it could see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlalchemy import Executable, Insert, Table, bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import keep, kept

Processor = Callable[[Any], Any] | None
_DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
MAX_ROWS = 50  # rows per statement; more are sent in several


class DriverInsert:
    """INSERT INTO table (columns…) VALUES (…), (…) [suffix], rendered once per dialect and row count."""

    def __init__(self, table: Table, columns: Sequence[str], *, skip_conflicts_on: Sequence[str] = (),
                 returning: str | None = None) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.skip_conflicts_on = tuple(skip_conflicts_on)  # ON CONFLICT (these) DO NOTHING
        self.returning = returning  # a column of the inserted rows to return (run_returning)
        self._rendered: dict[tuple[str, int], _Rendered] = {}

    def _render(self, dialect: Dialect, rows: int) -> _Rendered:
        key = (dialect.name, rows)
        if key not in self._rendered:
            names = {f"{column}_{row}": (row, index) for row in range(rows)
                     for index, column in enumerate(self.columns)}
            values = [{column: bindparam(f"{column}_{row}", type_=self.table.c[column].type)
                       for column in self.columns} for row in range(rows)]
            if self.skip_conflicts_on:
                stmt = _DIALECT_INSERTS[dialect.name](self.table).values(values).on_conflict_do_nothing(
                    index_elements=list(self.skip_conflicts_on))
            else:
                stmt = insert(self.table).values(values)
            if self.returning is not None:
                stmt = stmt.returning(self.table.c[self.returning])
            compiled = stmt.compile(dialect=dialect)
            processors = [column_processor(self.table, column, dialect) for column in self.columns]
            order = [names[name] for name in compiled.positiontup or ()]
            plan = [(row * len(self.columns) + index, processors[index]) for row, index in order]
            self._rendered[key] = _Rendered(stmt, str(compiled), plan)
        return self._rendered[key]

    async def run(self, session: AsyncSession, rows: Sequence[Sequence[Any]]) -> int:
        """Insert the rows (values in `columns` order); returns how many were inserted."""
        return sum([len(got) if isinstance(got, list) else got async for got in self._chunks(session, rows)])

    async def run_returning(self, session: AsyncSession, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """Insert the rows; returns the `returning` column of those inserted (not of those skipped)."""
        if self.returning is None:
            raise ValueError("this insert returns nothing")
        return [value async for got in self._chunks(session, rows) for value in got]  # type: ignore[union-attr]

    async def _chunks(self, session: AsyncSession, rows: Sequence[Sequence[Any]]) -> AsyncIterator[int | list[Any]]:
        for start in range(0, len(rows), MAX_ROWS):
            chunk = rows[start:start + MAX_ROWS]
            driver = await _driver(session)
            rendered = self._render(session.bind.dialect, len(chunk))
            if driver is None:  # another driver: through SQLAlchemy, as any statement
                named = {f"{column}_{row}": value for row, values in enumerate(chunk)
                         for column, value in zip(self.columns, values, strict=True)}
                result = await session.execute(rendered.statement, named)
                yield list(result.scalars()) if self.returning else result.rowcount
                continue
            flat = [value for row in chunk for value in row]
            params = [flat[position] if convert is None else convert(flat[position])
                      for position, convert in rendered.plan]
            if self.returning is None:
                yield await driver.execute(rendered.sql, params)
            else:
                yield await driver.fetch_column(rendered.sql, params)


class _Rendered:
    __slots__ = ("plan", "sql", "statement")

    def __init__(self, statement: Insert, sql: str, plan: list[tuple[int, Processor]]) -> None:
        self.statement = statement
        self.sql = sql
        self.plan = plan  # (position in the flattened rows, that column's converter), in parameter order


class DriverExecutemany:
    """One statement run for many parameter sets in one call (executemany) on the driver: an UPDATE of many rows
    by id, say. `build` makes the statement with a bindparam for each of `names`; any other value in it is a
    constant, converted once."""

    def __init__(self, build: Callable[[], Executable], names: Sequence[str]) -> None:
        self.build = build
        self.names = tuple(names)
        self._rendered: dict[str, tuple[Executable, str, list[tuple[int | None, Processor, Any]]]] = {}

    def _render(self, dialect: Dialect) -> tuple[Executable, str, list[tuple[int | None, Processor, Any]]]:
        if dialect.name not in self._rendered:
            stmt = self.build()
            compiled = stmt.compile(dialect=dialect)
            plan: list[tuple[int | None, Processor, Any]] = []  # (index in a row, converter) or a constant
            for name in compiled.positiontup or ():
                bind = compiled.binds[name]
                if bind.expanding:
                    raise ValueError(f"{name}: an expanding parameter (IN) cannot be run many times at once")
                convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if name in self.names:
                    plan.append((self.names.index(name), convert, None))
                else:
                    constant = compiled.params[name]
                    plan.append((None, None, constant if convert is None else convert(constant)))
            self._rendered[dialect.name] = (stmt, str(compiled), plan)
        return self._rendered[dialect.name]

    async def run(self, session: AsyncSession, rows: Sequence[Sequence[Any]]) -> None:
        """Run the statement once per row (values in `names` order)."""
        if not rows:
            return
        driver = await _driver(session)
        statement, sql, plan = self._render(session.bind.dialect)
        if driver is None:  # another driver: through SQLAlchemy, as any statement
            await session.execute(statement, [dict(zip(self.names, row, strict=True)) for row in rows])
            return
        await driver.executemany(sql, [
            [constant if index is None else row[index] if convert is None else convert(row[index])
             for index, convert, constant in plan]
            for row in rows
        ])


def column_processor(table: Table, column: str, dialect: Dialect) -> Processor:
    """What SQLAlchemy does to a value bound to this column on this dialect (UTC datetimes, JSON text, …)."""
    return table.c[column].type.dialect_impl(dialect).bind_processor(dialect)


class _Driver:
    """The driver connection under a session's transaction."""

    __slots__ = ("_adapted", "_native", "dialect")

    def __init__(self, dialect: Dialect, adapted: Any, native: Any) -> None:
        self.dialect = dialect
        self._adapted = adapted  # SQLAlchemy's adaptation of the async driver's connection
        self._native = native  # the driver's own connection (sqlite3's through storage/sqlite_inline.py, asyncpg's)

    async def execute(self, sql: str, params: list[Any]) -> int:
        if self.dialect.name == "sqlite":
            # The inline driver's sqlite3 connection, inside the transaction BEGIN IMMEDIATE opened.
            return self._native._conn.execute(sql, params).rowcount
        await self._begun()
        status = await self._native.execute(sql, *params)  # e.g. "INSERT 0 3"
        return int(status.rsplit(" ", 1)[-1])

    async def executemany(self, sql: str, params: list[list[Any]]) -> None:
        if self.dialect.name == "sqlite":
            self._native._conn.executemany(sql, params)
            return
        await self._begun()
        await self._native.executemany(sql, params)

    async def fetch_column(self, sql: str, params: list[Any]) -> list[Any]:
        if self.dialect.name == "sqlite":
            return [row[0] for row in self._native._conn.execute(sql, params).fetchall()]
        await self._begun()
        return [row[0] for row in await self._native.fetch(sql, *params)]

    async def _begun(self) -> None:
        if self._adapted._transaction is None:
            # SQLAlchemy's asyncpg adaptation opens the transaction lazily, with its first statement.
            await self._adapted._start_transaction()


async def _driver(session: AsyncSession) -> _Driver | None:
    """The driver connection of the session's current transaction (None: a driver this module does not know).

    Remembered per transaction: a session that commits and goes on may be on another connection next time."""
    known: _Driver | None = kept(session, _KEY)
    if known is not None:
        return known
    connection = await session.connection()
    proxied = connection.sync_connection.connection  # type: ignore[union-attr]
    driver: _Driver | None = _Driver(connection.dialect, proxied.dbapi_connection, proxied.driver_connection)
    if not driver_supported(driver):  # type: ignore[arg-type]
        return None  # not remembered: only the fallback path asks again
    return keep(session, _KEY, driver)


_KEY = "driver_sql.connection"


def driver_supported(driver: _Driver) -> bool:
    if driver.dialect.name == "sqlite":
        return hasattr(driver._native, "_conn")  # storage/sqlite_inline.py
    # SQLAlchemy's asyncpg adaptation (2.1): its transaction, and how it opens one
    return (driver.dialect.driver == "asyncpg" and hasattr(driver._adapted, "_transaction")
            and hasattr(driver._adapted, "_start_transaction"))
