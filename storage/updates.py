"""Processed update ids: a redelivered update is recognised and handled only once."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.driver_sql import DriverInsert
from storage.models import ProcessedUpdate

_COLUMNS = ["channel", "update_id", "handled_at"]
_CLAIM = DriverInsert(ProcessedUpdate.__table__, _COLUMNS, skip_conflicts_on=["channel", "update_id"])
_CLAIM_MANY = DriverInsert(ProcessedUpdate.__table__, _COLUMNS, skip_conflicts_on=["channel", "update_id"],
                           returning="update_id")


async def claim_update(session: AsyncSession, channel: str, update_id: int, now: datetime) -> bool:
    """Record the update; False when it was already recorded (a redelivery)."""
    return bool(await _CLAIM.run(session, [(channel, update_id, now)]))


async def claim_updates(session: AsyncSession, channel: str, update_ids: Iterable[int], now: datetime) -> set[int]:
    """Record several updates in one statement; returns those not recorded before (the others are redeliveries)."""
    unique = sorted(set(update_ids))
    return set(await _CLAIM_MANY.run_returning(session, [(channel, update_id, now) for update_id in unique]))
