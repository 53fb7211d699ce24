"""Running bot instances, each seen recently: delivery splits Telegram's global rate between them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.runtime_models import BotInstance


async def beat(session: AsyncSession, name: str, now: datetime) -> None:
    """One upsert: an instance's senders (Telegram and each work-group robot channel) beat under one name, and two
    of them may write its first row at the same moment."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(BotInstance)
        .values(name=name, seen_at=now)
        .on_conflict_do_update(index_elements=["name"], set_={"seen_at": now})
    )


async def live_count(session: AsyncSession, now: datetime, within: timedelta) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(BotInstance).where(BotInstance.seen_at >= now - within))
        or 0
    )


async def leave(session: AsyncSession, name: str) -> None:
    await session.execute(delete(BotInstance).where(BotInstance.name == name))
