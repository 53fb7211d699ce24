"""The outbound message log: written with the change that caused it, delivered later by the sender."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import keep, kept
from storage.dml import rows_touched, table_of
from storage.models import OutboxMessage, OutboxStatus
from storage.redaction import redact

REPLY, NOTICE = 0, 1  # priorities: the answer to someone waiting goes before reminders, digests, broadcasts


async def enqueue(
    session: AsyncSession,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    channel: str = "telegram",
    *,
    reply: bool = False,
) -> None:
    await enqueue_many(session, [(chat_id, kind, payload)], now, channel, chat_id if reply else None)


async def enqueue_many(
    session: AsyncSession,
    messages: list[tuple[int, str, dict[str, Any]]],
    now: datetime,
    channel: str = "telegram",
    reply_to: int | None = None,
    channels: dict[int, str] | None = None,
) -> None:
    """Append (chat id, kind, payload) messages in this order, in one statement. Written as table rows (a Core
    INSERT) rather than as ORM objects: nothing reads them back in the transaction, and the ORM's unit of work
    cost several times the INSERT on every inbound update. `channels`: the channel of chats that are not on
    `channel` (a notice to someone who chats elsewhere)."""
    channels = channels or {}
    rows = [
        {
            "channel": channels.get(chat_id, channel),
            "chat_id": chat_id,
            "kind": kind,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "priority": REPLY if chat_id == reply_to else NOTICE,
        }
        for chat_id, kind, payload in messages
    ]
    collected = kept(session, _COLLECTED)
    if collected is not None:
        collected.extend(rows)
    else:
        await _insert(session, rows)


async def enqueue_notices(
    session: AsyncSession, messages: list[tuple[int, str, dict[str, Any]]], now: datetime
) -> None:
    """Append notices to people (reminders, digests, escalations), each to the channel its recipient chats on."""
    from storage.users import channels_of

    channels = await channels_of(session, {chat_id for chat_id, _, _ in messages})
    await enqueue_many(session, messages, now, channels=channels)


@asynccontextmanager
async def collected(session: AsyncSession) -> AsyncIterator[None]:
    """Hold back what the block enqueues and write it all in one statement when the block ends (a batch of
    inbound updates: one INSERT, one round trip to PostgreSQL, instead of one per update). The order is kept."""
    rows: list[dict[str, Any]] = keep(session, _COLLECTED, [])
    try:
        yield
    finally:
        del session.info[_COLLECTED]
    await _insert(session, rows)


_COLLECTED = "outbox.collected"


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:  # one executemany; ids follow the order of the rows
        await session.execute(insert(table_of(OutboxMessage)), rows)


async def pending_heads(
    session: AsyncSession,
    channel: str,
    limit: int,
    instance: str | None = None,
    now: datetime | None = None,
    chat_id: int | None = None,
) -> list[OutboxMessage]:
    """Each chat's next pending message, replies before notices, then oldest first; at most `limit`.

    A chat's next message is its oldest reply, or its oldest message when no reply waits: only that one may go
    out, so each chat gets its replies in order and its notices in order, and the answer to someone waiting is
    never queued behind notices to the same chat. Chats that another instance is delivering to right now are
    left out. `chat_id`: that chat's only (a terminal session delivers to its own user; the others' messages wait
    for their own terminals)."""
    # Read from the index (channel, status, chat_id, priority, id) alone, one pass over the pending rows.
    oldest_reply = func.min(case((OutboxMessage.priority == REPLY, OutboxMessage.id)))
    heads = (
        select(func.coalesce(oldest_reply, func.min(OutboxMessage.id)).label("id"))
        .where(OutboxMessage.channel == channel, OutboxMessage.status == OutboxStatus.PENDING)
        .group_by(OutboxMessage.chat_id)
    )
    if chat_id is not None:
        heads = heads.where(OutboxMessage.chat_id == chat_id)
    if instance is not None and now is not None:
        busy = select(OutboxMessage.chat_id).where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.claimed_by.is_not(None),
            OutboxMessage.claimed_by != instance,
            OutboxMessage.claimed_until >= now,
        )
        heads = heads.where(OutboxMessage.chat_id.not_in(busy))
    first = heads.subquery()
    stmt = (
        select(OutboxMessage)
        .join(first, OutboxMessage.id == first.c.id)
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


def claimable(message: OutboxMessage, instance: str, now: datetime) -> bool:
    """Free, ours (a previous run of this instance died holding it), or another instance's expired claim."""
    return message.claimed_by in (None, instance) or message.claimed_until is None or message.claimed_until < now


async def claim(session: AsyncSession, ids: list[int], instance: str, now: datetime, until: datetime) -> set[int]:
    """Claim pending messages for delivery by `instance` until `until`; returns the ids it got.

    On PostgreSQL, SKIP LOCKED lets instances claim side by side: a row another instance is claiming right now
    is skipped, not waited for. (SQLite has one writer at a time, so there is nothing to skip.)"""
    if not ids:
        return set()
    free = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == OutboxStatus.PENDING,
            or_(
                OutboxMessage.claimed_by.is_(None),
                OutboxMessage.claimed_by == instance,
                OutboxMessage.claimed_until.is_(None),
                OutboxMessage.claimed_until < now,
            ),
        )
        .with_for_update(skip_locked=True)
    )
    got = set(await session.scalars(free))
    if got:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(got)).values(claimed_by=instance, claimed_until=until)
        )
    return got


async def release_claims(session: AsyncSession, instance: str) -> int:
    """Give back what this instance had claimed (on stop, and at start after a crash)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claimed_by == instance, OutboxMessage.status == OutboxStatus.PENDING)
        .values(claimed_by=None, claimed_until=None)
    )
    return rows_touched(result)


async def mark_sent_many(session: AsyncSession, sent: list[tuple[int, int | None]], now: datetime) -> None:
    """Mark a batch delivered in one executemany (one commit per batch, not per message)."""
    if sent:
        await session.execute(
            _MARK_SENT, [{"message_id": message_id, "external": external, "now": now} for message_id, external in sent]
        )


_TABLE = table_of(OutboxMessage)
_MARK_SENT = (  # a Core UPDATE of the table: run with many parameter sets, it is one executemany
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("message_id"), _TABLE.c.status == OutboxStatus.PENDING)
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("now"),
        external_id=bindparam("external"),
        attempts=_TABLE.c.attempts + 1,
        claimed_until=None,
    )  # claimed_by stays: who delivered it
)


async def mark_retry(session: AsyncSession, message_id: int, at: datetime, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            next_attempt_at=at,
            last_error=redact(error)[:500],
            attempts=OutboxMessage.attempts + 1,
            claimed_by=None,
            claimed_until=None,
        )
    )


async def mark_failed(session: AsyncSession, message_id: int, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            status=OutboxStatus.FAILED,
            last_error=redact(error)[:500],
            attempts=OutboxMessage.attempts + 1,
            claimed_by=None,
            claimed_until=None,
        )
    )


async def fail_over(session: AsyncSession, payload: dict[str, Any], now: datetime) -> bool:
    """A message that can never be delivered and names someone to tell (its payload's "fallback": an owner who
    blocked the bot, their cadre): queue that notice, in the transaction that records the failure, so it is
    neither lost nor repeated. True if one was queued."""
    fallback = payload.get("fallback")
    if not isinstance(fallback, dict) or not isinstance(fallback.get("chat_id"), int):
        return False
    await enqueue_notices(session, [(fallback["chat_id"], "message", {"text": str(fallback.get("text", ""))})], now)
    return True


async def drop_pending(session: AsyncSession, channel: str, chat_id: int) -> int:
    """Give up a chat's pending messages (its work group was removed); returns how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.FAILED, last_error="recipient removed", claimed_by=None, claimed_until=None)
    )
    return rows_touched(result)


async def latest_sent(session: AsyncSession, channel: str, chat_id: int) -> OutboxMessage | None:
    """The last message delivered to a chat (a numbered-text channel reads its choices from it)."""
    return await session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.kind != "edit",
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


async def count_pending(session: AsyncSession, channel: str, chat_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
        )
        or 0
    )


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status: int(count) for status, count in rows}
