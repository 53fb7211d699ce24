"""Persisted conversation state: one row per user who is inside a flow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


async def load_conversation(session: AsyncSession, user_id: int) -> Conversation | None:
    return await session.get(Conversation, user_id)


async def start_conversation(
    session: AsyncSession, user_id: int, flow: str, step: str, data: dict[str, Any], now: datetime,
    nonce: int = 0,
) -> Conversation:
    await end_conversation(session, user_id)
    conversation = Conversation(
        user_id=user_id, flow=flow, step=step, data=data, nonce=nonce, failures=0, started_at=now,
        updated_at=now,
    )
    session.add(conversation)
    await session.flush()
    return conversation


def save_step(conversation: Conversation, step: str, data: dict[str, Any], now: datetime) -> None:
    conversation.step = step
    # A new dict object, so SQLAlchemy sees the JSON column as changed.
    conversation.data = dict(data)
    conversation.failures = 0
    conversation.updated_at = now


async def end_conversation(session: AsyncSession, user_id: int) -> None:
    existing = await session.get(Conversation, user_id)
    if existing is not None:
        await session.delete(existing)
        await session.flush()
    else:
        await session.execute(delete(Conversation).where(Conversation.user_id == user_id))
