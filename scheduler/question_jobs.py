"""Question notices folded: every minute, the questions forwarded since the last notice go to each county official
in one summary, once NOTICE_EVERY has passed since it (handlers/question_notices.py)."""

from __future__ import annotations

from handlers.question_notices import announce_waiting
from handlers.texts import Texts
from storage import outbox
from storage.clock import Clock
from storage.db import Database


async def announce_questions(db: Database, clock: Clock, texts: Texts) -> int:
    """Queue the summaries that are due; returns how many notices were queued."""
    now = clock.now()
    async with db.transaction() as session:
        notices = await announce_waiting(session, texts, now)
        await outbox.enqueue_notices(
            session,
            [(notice.chat_id, notice.kind, notice.payload()) for notice in notices if notice.chat_id is not None],
            now,
        )
    return len(notices)
