"""Users known to the bot, one per chat account."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.areas import load_ancestors
from storage.conversations import note_loaded
from storage.db import keep, kept
from storage.models import Area, Conversation, Role, User

# The user with their area's whole chain (village → township → county) and their conversation, in one query:
# every inbound update needs all of it. Built once: building a statement costs more than running it.
_WITH_AREA_AND_CONVERSATION = (
    select(User, Conversation)
    .outerjoin(Conversation, Conversation.user_id == User.id)
    .options(joinedload(User.area).joinedload(Area.parent).joinedload(Area.parent))
)
_BY_CHANNEL_ID = _WITH_AREA_AND_CONVERSATION.where(User.channel_user_id == bindparam("channel_user_id"))
_BY_CHANNEL_ID_LOCKED = _BY_CHANNEL_ID.with_for_update(of=User)
_PREFETCH = "users.prefetched"


async def prefetch(session: AsyncSession, channel_user_ids: Iterable[int]) -> None:
    """Load and lock several users at once (with their areas and conversations), for the rest of this
    transaction: a batch of inbound updates asks for its users in one query instead of one each. Later
    get_by_channel_id(lock=True) calls in the transaction take them from here; users not found are looked up
    again then (one may register meanwhile)."""
    wanted = sorted(set(channel_user_ids))
    stmt = (
        _WITH_AREA_AND_CONVERSATION.where(User.channel_user_id.in_(wanted))
        .order_by(User.id)  # rows locked in one order, whoever else locks several
        .with_for_update(of=User)
    )
    found = keep(session, _PREFETCH, {})
    for user, conversation in (await session.execute(stmt)).unique():
        found[user.channel_user_id] = await _loaded(session, user, conversation)


def _prefetched(session: AsyncSession, channel_user_id: int) -> User | None:
    return (kept(session, _PREFETCH) or {}).get(channel_user_id)


async def _loaded(session: AsyncSession, user: User, conversation: Conversation | None) -> User:
    note_loaded(session, user.id, conversation)
    await load_ancestors(session, user.area)  # deeper trees than county → township → village
    return user


async def get_by_channel_id(session: AsyncSession, channel_user_id: int, *, lock: bool = False) -> User | None:
    """lock: hold the user's row until the transaction ends, so that two updates of one user handled at once
    (webhook instances side by side) take turns instead of both changing the same conversation.

    The user's conversation is loaded too (conversations.load_conversation then needs no query)."""
    if lock and (user := _prefetched(session, channel_user_id)) is not None:
        return user  # loaded and locked in this transaction; its conversation is noted (and kept current)
    query = _BY_CHANNEL_ID_LOCKED if lock else _BY_CHANNEL_ID
    row = (await session.execute(query, {"channel_user_id": channel_user_id})).first()
    if row is None:
        return None
    return await _loaded(session, *row)


async def create_user(session: AsyncSession, channel_user_id: int, now: datetime, role: Role = Role.RESIDENT) -> User:
    user = User(channel_user_id=channel_user_id, role=role, created_at=now, last_seen_at=now, channel="telegram")
    session.add(user)
    await session.flush()
    return user


async def assign_role(session: AsyncSession, user: User, role: Role, area: Area | None) -> None:
    user.role = role
    user.area_id = area.id if area else None
    user.area = await load_ancestors(session, area)


def set_name(user: User, name: str) -> None:
    user.name = name


TOUCH_EVERY = timedelta(minutes=1)


def touch(user: User, now: datetime) -> None:
    """Record that the user was seen, to the minute: rewriting the row on every message of a conversation cost
    an UPDATE per inbound update, for a time nothing needs more precisely."""
    if user.last_seen_at is None or not timedelta(0) <= now - user.last_seen_at < TOUCH_EVERY:
        user.last_seen_at = now


async def channels_of(session: AsyncSession, channel_user_ids: Iterable[int]) -> dict[int, str]:
    """Where each of these people chats (their notices go there); people not found are left out."""
    wanted = sorted(set(channel_user_ids))
    if not wanted:
        return {}
    rows = await session.execute(select(User.channel_user_id, User.channel).where(User.channel_user_id.in_(wanted)))
    return {chat_id: channel for chat_id, channel in rows}


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
