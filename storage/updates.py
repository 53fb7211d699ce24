"""Processed update ids: a redelivered update is recognised and handled only once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dml import rows_touched, table_of
from storage.models import ProcessedUpdate

_TABLE = table_of(ProcessedUpdate)


def _insert_new(session: AsyncSession, rows: list[dict[str, object]]) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT (channel, update_id) DO NOTHING, in the session's dialect."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return insert(_TABLE).values(rows).on_conflict_do_nothing(index_elements=["channel", "update_id"])


async def claim_update(session: AsyncSession, channel: str, update_id: int, now: datetime) -> bool:
    """Record the update; False when it was already recorded (a redelivery)."""
    row = {"channel": channel, "update_id": update_id, "handled_at": now}
    result = await session.execute(_insert_new(session, [row]))
    return bool(rows_touched(result))


async def claim_updates(session: AsyncSession, channel: str, update_ids: Iterable[int], now: datetime) -> set[int]:
    """Record several updates in one statement; returns those not recorded before (the others are redeliveries)."""
    rows = [{"channel": channel, "update_id": update_id, "handled_at": now} for update_id in sorted(set(update_ids))]
    if not rows:
        return set()
    return set(await session.scalars(_insert_new(session, rows).returning(_TABLE.c.update_id)))
