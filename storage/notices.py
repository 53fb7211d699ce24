"""Once-only scheduled notices: a job claims a key before queueing, so re-runs and restarts never repeat one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dml import rows_touched
from storage.models import SentNotice


async def claim_notice(session: AsyncSession, key: str, now: datetime) -> bool:
    """True the first time a key is claimed; False ever after."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(SentNotice).values(key=key[:120], created_at=now).on_conflict_do_nothing(index_elements=["key"])
    return bool(rows_touched(await session.execute(stmt)))
