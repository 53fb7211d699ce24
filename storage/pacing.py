"""How fast messages flow, kept where every instance sees it: each chat's send allowance (the outbox sender), each
user's inbound allowance, double taps, and the count of messages refused because one user sent too many too fast.

An allowance is a token bucket kept as one number (the generic cell rate algorithm): the time at which the bucket
is full again. Each use pushes it one interval further (from now, if it was already full); a use is allowed while
that time is less than `burst - 1` intervals ahead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import User
from storage.pacing_models import ChatPacing, ThrottledInbound


@dataclass(frozen=True)
class Allowance:
    """`burst` uses at once, then one every `interval` seconds (interval 0: unlimited)."""

    interval: float
    burst: int = 1

    def wait(self, full_at: float, now: float, keep: int = 0) -> float:
        """Seconds until one more use is allowed (0: now) while `keep` uses stay in the bucket for others."""
        if self.interval <= 0:
            return 0.0
        room = max(self.burst - 1 - keep, 0)
        return max(0.0, full_at - now - room * self.interval)

    def use(self, full_at: float, now: float) -> float:
        """The bucket's new full-again time after one use."""
        return max(full_at, now) + self.interval

    def full_at_after_pause(self, until: float) -> float:
        """The full-again time that allows the next use exactly at `until` (a 429's retry_after)."""
        return until + max(self.burst - 1, 0) * self.interval


# -- chats: the outbox sender's per-chat allowance, shared by instances -------------------------------------


async def chat_allowances(session: AsyncSession, channel: str, chat_ids: Iterable[int]) -> dict[int, datetime]:
    """When each of these chats' allowances is full again, as the instances last recorded it."""
    wanted = sorted(set(chat_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(ChatPacing.chat_id, ChatPacing.full_at).where(
            ChatPacing.channel == channel, ChatPacing.chat_id.in_(wanted)
        )
    )
    return {chat_id: full_at for chat_id, full_at in rows}


async def record_chat_allowances(session: AsyncSession, channel: str, full_at: dict[int, datetime]) -> None:
    """Record the chats' allowances after sends; a later time already recorded (by another instance) stays."""
    if not full_at:
        return
    postgres = session.get_bind().dialect.name == "postgresql"
    insert = (pg_insert if postgres else sqlite_insert)(ChatPacing).values(
        [{"channel": channel, "chat_id": chat_id, "full_at": at} for chat_id, at in sorted(full_at.items())]
    )
    later = (func.greatest if postgres else func.max)(ChatPacing.full_at, insert.excluded.full_at)
    await session.execute(insert.on_conflict_do_update(index_elements=["channel", "chat_id"], set_={"full_at": later}))


# -- users: inbound allowance and double taps ----------------------------------------------------------------


def admit_inbound(user: User, now: datetime, allowance: Allowance) -> bool:
    """Spend one of the user's inbound allowance; False (nothing spent) when it is used up."""
    full_at = user.inbound_full_at.timestamp() if user.inbound_full_at is not None else 0.0
    if allowance.wait(full_at, now.timestamp()) > 0:
        return False
    user.inbound_full_at = datetime.fromtimestamp(allowance.use(full_at, now.timestamp()), UTC)
    return True


def note_press(user: User, message_id: int, now: datetime) -> None:
    """A press on this message was taken: its buttons are spent."""
    user.pressed_message_id, user.pressed_at = message_id, now


def pressed_again(user: User, message_id: int | None, now: datetime, within: timedelta) -> bool:
    """A press on the message whose press was taken less than `within` ago: a double tap that raced the ✅ edit
    removing its buttons."""
    return (
        message_id is not None
        and user.pressed_message_id == message_id
        and user.pressed_at is not None
        and timedelta(0) <= now - user.pressed_at < within
    )


# -- refused inbound messages ----------------------------------------------------------------------------------


async def count_throttled(session: AsyncSession, user_id: int, day: date, now: datetime, warn_every: timedelta) -> bool:
    """Count one refused message of the user's; True when the user should be told to slow down (not told within
    `warn_every`). The user's row is locked by the core, so the read-then-write cannot race."""
    row = await session.get(ThrottledInbound, (user_id, day))
    if row is None:
        row = ThrottledInbound(user_id=user_id, day=day, messages=0)
        session.add(row)
    row.messages += 1
    previous = await session.scalar(
        select(func.max(ThrottledInbound.warned_at)).where(ThrottledInbound.user_id == user_id)
    )
    if previous is not None and now - previous < warn_every:
        return False
    row.warned_at = now
    return True


async def throttled_since(session: AsyncSession, first_day: date) -> tuple[int, int]:
    """(messages refused, people they came from) from `first_day` on."""
    messages, people = (
        await session.execute(
            select(
                func.coalesce(func.sum(ThrottledInbound.messages), 0),
                func.count(func.distinct(ThrottledInbound.user_id)),
            ).where(ThrottledInbound.day >= first_day)
        )
    ).one()
    return int(messages), int(people)
