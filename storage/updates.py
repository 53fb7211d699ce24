"""Processed update ids: a redelivered update is recognised and handled only once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.driver_sql import DriverInsert
from storage.models import ProcessedUpdate

_CLAIM = DriverInsert(ProcessedUpdate.__table__, ["channel", "update_id", "handled_at"],
                      skip_conflicts_on=["channel", "update_id"])


async def claim_update(session: AsyncSession, channel: str, update_id: int, now: datetime) -> bool:
    """Record the update; False when it was already recorded (a redelivery)."""
    return bool(await _CLAIM.run(session, [(channel, update_id, now)]))
