"""Users known to the bot, one per chat account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.areas import load_ancestors
from storage.models import Area, Role, User


async def get_by_channel_id(session: AsyncSession, channel_user_id: int) -> User | None:
    user = await session.scalar(select(User).where(User.channel_user_id == channel_user_id))
    if user is not None:
        await load_ancestors(session, user.area)
    return user


async def create_user(
    session: AsyncSession, channel_user_id: int, now: datetime, role: Role = Role.RESIDENT
) -> User:
    user = User(channel_user_id=channel_user_id, role=role, created_at=now, last_seen_at=now)
    session.add(user)
    await session.flush()
    return user


async def assign_role(session: AsyncSession, user: User, role: Role, area: Area | None) -> None:
    user.role = role
    user.area_id = area.id if area else None
    user.area = await load_ancestors(session, area)


def set_name(user: User, name: str) -> None:
    user.name = name


def touch(user: User, now: datetime) -> None:
    user.last_seen_at = now


async def users_with_role(session: AsyncSession, role: Role, area_id: int | None = None) -> list[User]:
    stmt = select(User).where(User.role == role)
    if area_id is not None:
        stmt = stmt.where(User.area_id == area_id)
    return list((await session.scalars(stmt.order_by(User.id))).unique())


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    user = await session.get(User, user_id)
    if user is not None:
        await load_ancestors(session, user.area)
    return user
