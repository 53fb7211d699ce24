"""Persisted conversation state: one row per user who is inside a flow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import keep, kept
from storage.models import Conversation

_LOADED = "conversations.loaded"


def note_loaded(session: AsyncSession, user_id: int, conversation: Conversation | None) -> None:
    """Remember a user's conversation (or that they have none) for the rest of this transaction, so loading it
    again, or deleting it before a new one starts, needs no query. Sound because nothing else changes a user's
    conversation meanwhile: SQLite transactions hold the write lock, and on PostgreSQL the core holds the user's
    row (users.get_by_channel_id(lock=True)). The reference also keeps the object in the session's (weak)
    identity map."""
    loaded = kept(session, _LOADED)
    if loaded is None:
        loaded = keep(session, _LOADED, {})
    loaded[user_id] = conversation


def _noted(session: AsyncSession, user_id: int) -> tuple[bool, Conversation | None]:
    loaded = kept(session, _LOADED)
    if loaded is None or user_id not in loaded:
        return False, None
    return True, loaded[user_id]


async def load_conversation(session: AsyncSession, user_id: int) -> Conversation | None:
    known, conversation = _noted(session, user_id)
    if not known:
        conversation = await session.get(Conversation, user_id)
        note_loaded(session, user_id, conversation)
    return conversation


async def start_conversation(
    session: AsyncSession,
    user_id: int,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
    nonce: int = 0,
) -> Conversation:
    await end_conversation(session, user_id)
    conversation = Conversation(
        user_id=user_id,
        flow=flow,
        step=step,
        data=data,
        nonce=nonce,
        failures=0,
        started_at=now,
        updated_at=now,
    )
    session.add(conversation)
    await session.flush()
    note_loaded(session, user_id, conversation)
    return conversation


def save_step(conversation: Conversation, step: str, data: dict[str, Any], now: datetime) -> None:
    conversation.step = step
    # A new dict object, so SQLAlchemy sees the JSON column as changed.
    conversation.data = dict(data)
    conversation.failures = 0
    conversation.updated_at = now


async def end_conversation(session: AsyncSession, user_id: int) -> None:
    known, existing = _noted(session, user_id)
    if known and existing is None:
        return
    if not known:
        existing = await session.get(Conversation, user_id)
    if existing is not None:
        await session.delete(existing)
        await session.flush()
    else:
        await session.execute(delete(Conversation).where(Conversation.user_id == user_id))
    note_loaded(session, user_id, None)
