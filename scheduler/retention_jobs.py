"""The daily clean-up of personal data past its use: delivered messages' text, abandoned conversations."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from storage.clock import Clock
from storage.db import Database
from storage.retention import blank_delivered_messages, delete_abandoned_conversations

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    outbox: timedelta = timedelta(days=30)  # SHIXIAO_OUTBOX_RETENTION_DAYS
    conversations: timedelta = timedelta(days=7)  # the conversation timeout: an older draft has expired


async def purge_expired(db: Database, clock: Clock, retention: Retention) -> tuple[int, int]:
    """(messages blanked, conversations deleted). Idempotent: a second run finds nothing more to do."""
    now = clock.now()
    async with db.transaction() as session:
        blanked = await blank_delivered_messages(session, now - retention.outbox)
        deleted = await delete_abandoned_conversations(session, now - retention.conversations)
    if blanked or deleted:
        log.info("retention: %s delivered messages blanked, %s abandoned conversations deleted", blanked, deleted)
    return blanked, deleted
