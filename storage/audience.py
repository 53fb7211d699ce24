"""Groups of users and areas that officials address: a broadcast's audience, the townships of the county."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Area, AreaLevel, Role, User


async def audience(
    session: AsyncSession, roles: Iterable[Role], township_id: int | None = None, exclude_user_id: int | None = None
) -> list[User]:
    """Users of these roles, in the whole county (township_id None) or in one township and its villages."""
    stmt = select(User).where(User.role.in_([Role(r).value for r in roles]))
    if township_id is not None:
        # A township official sits on the township itself; cadres and operators on one of its villages.
        stmt = stmt.join(Area, User.area_id == Area.id).where(
            or_(Area.id == township_id, Area.parent_id == township_id)
        )
    if exclude_user_id is not None:
        stmt = stmt.where(User.id != exclude_user_id)
    return list((await session.scalars(stmt.order_by(User.id))).unique())


async def list_townships(session: AsyncSession) -> list[Area]:
    stmt = select(Area).where(Area.level == AreaLevel.TOWNSHIP).order_by(Area.id)
    return list((await session.scalars(stmt)).unique())
