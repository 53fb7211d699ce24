"""Processed update ids: a redelivered update is recognised and handled only once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Insert, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate


def _claim(insert: type[Insert] | object) -> Insert:
    # Built once per dialect and run with parameters: building the statement cost more than running it.
    table = ProcessedUpdate.__table__
    return (
        insert(table)  # type: ignore[operator]
        .values(channel=bindparam("channel"), update_id=bindparam("update_id"), handled_at=bindparam("handled_at"))
        .on_conflict_do_nothing(index_elements=["channel", "update_id"])
    )


_CLAIMS = {"postgresql": _claim(pg_insert), "sqlite": _claim(sqlite_insert)}


async def claim_update(session: AsyncSession, channel: str, update_id: int, now: datetime) -> bool:
    """Record the update; False when it was already recorded (a redelivery)."""
    stmt = _CLAIMS[session.bind.dialect.name]
    result = await session.execute(stmt, {"channel": channel, "update_id": update_id, "handled_at": now})
    return bool(result.rowcount)
