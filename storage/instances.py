"""Running bot instances, each seen recently: delivery splits Telegram's global rate between them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.runtime_models import BotInstance


async def beat(session: AsyncSession, name: str, now: datetime) -> None:
    updated = await session.execute(update(BotInstance).where(BotInstance.name == name).values(seen_at=now))
    if not updated.rowcount:
        session.add(BotInstance(name=name, seen_at=now))
        await session.flush()


async def live_count(session: AsyncSession, now: datetime, within: timedelta) -> int:
    return int(await session.scalar(select(func.count()).select_from(BotInstance).where(BotInstance.seen_at >= now - within)) or 0)


async def leave(session: AsyncSession, name: str) -> None:
    await session.execute(delete(BotInstance).where(BotInstance.name == name))
