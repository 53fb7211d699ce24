"""Pairs every outbox row with what the Telegram emulator recorded of it: delivered, missing, or delivered more
than once.

A sent row's external_id is the message id Telegram answered for the delivery the sender committed. Any other
message the emulator recorded in that chat is an extra copy: since only a chat's next pending message is ever in
flight, a copy sent before a crash (or whose answer was lost) comes before the committed copy of the same row,
with the same content, and only replies that overtook that row (a reply goes before a chat's notices) come
between them. Anything else is a message no row accounts for.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.emulator import SentMessage, TelegramEmulator

CAPTIONED = ("photo", "document")


@dataclass
class Copy:
    row_id: int
    chat_id: int
    message: SentMessage
    index: int  # position in emulator.sent, i.e. when it was delivered


@dataclass
class Audit:
    rows: int = 0
    edits: int = 0
    delivered: int = 0
    missing: list[str] = field(default_factory=list)  # rows without a matching committed delivery
    duplicates: list[Copy] = field(default_factory=list)  # extra copies of a delivered row
    unexplained: list[str] = field(default_factory=list)  # emulator messages no row accounts for

    @property
    def copies_per_row(self) -> Counter[int]:
        """How many extra copies each duplicated row has."""
        return Counter(copy.row_id for copy in self.duplicates)

    def summary(self) -> str:
        worst = max(self.copies_per_row.values(), default=0)
        return (
            f"{self.rows} outbox rows ({self.edits} edits), {self.delivered} delivered, "
            f"{len(self.missing)} missing, {len(self.duplicates)} extra copies of {len(self.copies_per_row)} rows "
            f"(at most {worst} per row), {len(self.unexplained)} unexplained"
        )


def expected_content(row: OutboxMessage) -> str:
    text = row.payload.get("text") or ""
    return text[:1024] if row.kind in CAPTIONED else text


async def audit(db: Database, emulator: TelegramEmulator, channel: str = "telegram") -> Audit:
    async with db.transaction() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.channel == channel).order_by(OutboxMessage.id)
            )
        )
    result = Audit(rows=len(rows))
    sends: dict[int, list[tuple[int, SentMessage]]] = defaultdict(list)  # chat -> (index, message), in order
    edits: dict[tuple[int, int], list[tuple[int, SentMessage]]] = defaultdict(list)
    for index, message in enumerate(emulator.sent):
        chat = int(message.chat_id)
        (edits[(chat, message.message_id)] if message.is_edit else sends[chat]).append((index, message))

    claimed: set[int] = set()  # indexes of committed deliveries
    owner: dict[int, OutboxMessage] = {}
    for row in rows:
        content = expected_content(row)
        label = f"outbox {row.id} to {row.chat_id} ({row.kind}, {row.status}): {content[:40]!r}"
        if row.kind == "edit":
            result.edits += 1
            matching = [(i, m) for i, m in edits[(row.chat_id, row.payload["message_id"])] if m.content == content]
            if row.status != "sent" or not matching:
                result.missing.append(label)
                continue
            result.delivered += 1
            claimed.add(matching[0][0])
            result.duplicates.extend(Copy(row.id, row.chat_id, m, i) for i, m in matching[1:])
            claimed.update(i for i, _ in matching[1:])
            continue
        committed = next(((i, m) for i, m in sends[row.chat_id] if m.message_id == row.external_id), None)
        if row.status != "sent" or committed is None or committed[1].content != content:
            result.missing.append(label)
            continue
        result.delivered += 1
        claimed.add(committed[0])
        owner[committed[0]] = row

    for chat, chat_sends in sends.items():
        for position, (index, message) in enumerate(chat_sends):
            if index in claimed:
                continue
            # The row this copy belongs to is the chat's next committed delivery with the same content (replies
            # committed meanwhile may come between: they overtake a chat's notices).
            later = next(
                (
                    owner[i]
                    for i, _ in chat_sends[position + 1 :]
                    if i in owner and expected_content(owner[i]) == message.content
                ),
                None,
            )
            if later is not None:
                result.duplicates.append(Copy(later.id, chat, message, index))
            else:
                result.unexplained.append(f"chat {chat}: {message}")
    for (chat, _), chat_edits in edits.items():
        result.unexplained.extend(f"chat {chat}: {m}" for i, m in chat_edits if i not in claimed)
    return result


async def wait_drained(db: Database, timeout: float) -> dict[str, int]:  # noqa: ASYNC109
    """Wait until no outbox row is pending; returns the count per status."""
    deadline = time.monotonic() + timeout
    while True:
        async with db.transaction() as session:
            counts = await outbox.count_by_status(session)
        if not counts.get(OutboxStatus.PENDING):
            return counts
        assert time.monotonic() < deadline, f"the outbox did not drain within {timeout}s: {counts}"
        await asyncio.sleep(0.2)
