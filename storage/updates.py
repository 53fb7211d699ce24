"""Processed update ids: a redelivered update is recognised and handled only once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedUpdate


async def claim_update(session: AsyncSession, channel: str, update_id: int, now: datetime) -> bool:
    """Record the update; False when it was already recorded (a redelivery)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(ProcessedUpdate)
        .values(channel=channel, update_id=update_id, handled_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "update_id"])
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)
