"""Personal data kept no longer than it is needed: delivered messages lose their text, abandoned drafts go."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dml import rows_touched
from storage.models import Conversation, OutboxMessage, OutboxStatus

# What a delivered message keeps once its retention period is over: nothing of what it said, only that it was
# sent (the row itself stays: its chat, kind and times are the delivery record). The marker lets each run skip
# the rows an earlier run already blanked.
BLANKED: dict[str, object] = {"text": "", "purged": True}


async def blank_delivered_messages(session: AsyncSession, sent_before: datetime) -> int:
    """Blank the payload (text, buttons, photo and file references) of messages delivered before `sent_before`."""
    stmt = (
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at < sent_before,
            OutboxMessage.payload["purged"].as_string().is_(None),
        )
        .values(payload=BLANKED)
        .execution_options(synchronize_session=False)
    )
    return rows_touched(await session.execute(stmt))


async def delete_abandoned_conversations(session: AsyncSession, idle_since: datetime) -> int:
    """Delete conversations (drafts: half-filed complaints, half-done reports) untouched since `idle_since`; the
    conversation timeout has already made them unusable."""
    stmt = delete(Conversation).where(Conversation.updated_at < idle_since).execution_options(synchronize_session=False)
    return rows_touched(await session.execute(stmt))
