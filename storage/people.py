"""Registered people as the county office manages them: listing, locking before a change of role, and the county
office's own roster (which must never become empty)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.areas import load_ancestors
from storage.models import Area, Role, User


async def list_people(
    session: AsyncSession, roles: tuple[Role, ...] | None = None, area_id: int | None = None
) -> list[User]:
    """People of these roles (all when None), in id order; `area_id`: those on that area or on an area directly
    under it (a township's own officials and its villages' cadres and operators)."""
    stmt = select(User)
    if roles is not None:
        stmt = stmt.where(User.role.in_([role.value for role in roles]))
    if area_id is not None:
        sits = aliased(Area)
        stmt = stmt.join(sits, User.area_id == sits.id).where(or_(sits.id == area_id, sits.parent_id == area_id))
    people = list((await session.scalars(stmt.order_by(User.id))).unique())
    for person in people:
        await load_ancestors(session, person.area)
    return people


async def current_role(session: AsyncSession, user_id: int) -> str | None:
    """The user's role as stored right now (None: no such user), without loading or locking the row."""
    return await session.scalar(select(User.role).where(User.id == user_id).execution_options(populate_existing=True))


async def lock_person(session: AsyncSession, user_id: int) -> User | None:
    """The user, read afresh and locked until the transaction ends (an update of theirs being handled finishes
    first, and nothing of theirs changes under the caller's feet)."""
    stmt = select(User).where(User.id == user_id).with_for_update(of=User).execution_options(populate_existing=True)
    user = (await session.scalars(stmt)).unique().one_or_none()
    if user is not None:
        await load_ancestors(session, user.area)
    return user


async def lock_county_office(session: AsyncSession) -> list[User]:
    """Every county official, read afresh and locked in id order: whoever takes a county official's role away
    counts them under this lock, so two such changes at once cannot both leave the county office empty (on
    PostgreSQL the second waits, then sees the first one's change)."""
    stmt = (
        select(User)
        .where(User.role == Role.COUNTY)
        .order_by(User.id)
        .with_for_update(of=User)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(stmt)).unique())


async def discard_new(session: AsyncSession, user: User) -> None:
    """Forget a user created earlier in this transaction who was not admitted after all (the code they sent was
    taken by someone else a moment before)."""
    await session.delete(user)
    await session.flush()
