"""Typed access to what Core DML statements need: the table of a model, and what a statement touched."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase


def rows_touched(result: Result[Any]) -> int:
    """The row count of a DML statement's result. AsyncSession.execute is typed as returning a Result; for DML it
    is a CursorResult, the class that carries rowcount (0 when the driver cannot tell)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an INSERT, UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount or 0


def table_of(model: type[DeclarativeBase]) -> Table:
    """A mapped class's Table, for Core statements (bulk inserts, executemany updates). Declarative types
    `__table__` as any FromClause; every model here maps one Table."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table
