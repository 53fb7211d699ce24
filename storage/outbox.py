"""The outbound message log: written with the change that caused it, delivered later by the sender."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, OutboxStatus


async def enqueue(
    session: AsyncSession, chat_id: int, kind: str, payload: dict[str, Any], now: datetime,
    channel: str = "telegram",
) -> OutboxMessage:
    message = OutboxMessage(
        channel=channel,
        chat_id=chat_id, kind=kind, payload=payload, status=OutboxStatus.PENDING, attempts=0,
        next_attempt_at=None, created_at=now,
    )
    session.add(message)
    return message


async def pending_heads(session: AsyncSession, channel: str, limit: int) -> list[OutboxMessage]:
    """The oldest pending messages, in order; callers deliver only the first per chat to keep order."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def mark_sent_many(session: AsyncSession, sent: list[tuple[int, int | None]], now: datetime) -> None:
    """Mark a batch delivered in one statement (one commit per batch, not per message)."""
    if not sent:
        return
    table = OutboxMessage.__table__  # a Core executemany: one statement, many rows
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("message_id"), table.c.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENT, sent_at=now, external_id=bindparam("external"),
                attempts=table.c.attempts + 1),
        [{"message_id": message_id, "external": external} for message_id, external in sent],
    )


async def mark_retry(session: AsyncSession, message_id: int, at: datetime, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=at, last_error=error[:500], attempts=OutboxMessage.attempts + 1)
    )


async def mark_failed(session: AsyncSession, message_id: int, error: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=OutboxStatus.FAILED, last_error=error[:500], attempts=OutboxMessage.attempts + 1)
    )


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status: int(count) for status, count in rows}
