"""The outbox sender against a real database and a scripted transport."""

from __future__ import annotations

import itertools
import time
from typing import Any

from sqlalchemy import update

from scheduler.sender import Limits, PermanentFailure, RetryAfter, Sender, TemporaryFailure
from storage import outbox
from storage.models import OutboxMessage


class ScriptedTransport:
    """Records deliveries; `failures` maps a text to the errors to raise on its first attempts."""

    def __init__(self, failures: dict[str, list[Exception]] | None = None) -> None:
        self.failures = failures or {}
        self.delivered: list[tuple[float, int, str]] = []
        self.attempts: list[tuple[float, str]] = []

    async def deliver(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        text = payload["text"]
        self.attempts.append((time.monotonic(), text))
        pending = self.failures.get(text)
        if pending:
            raise pending.pop(0)
        self.delivered.append((time.monotonic(), chat_id, text))
        return len(self.delivered)


async def enqueue_all(db, clock, items: list[tuple[int, str]]) -> None:
    async with db.transaction() as session:
        for chat_id, text in items:
            await outbox.enqueue(session, chat_id, "message", {"text": text}, clock.now())


async def statuses(db) -> dict[str, str]:
    from sqlalchemy import select

    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return {row.payload["text"]: row.status for row in rows}


async def test_each_chat_gets_its_messages_once_and_in_order(db, clock):
    await enqueue_all(db, clock, [(1, "a1"), (2, "b1"), (1, "a2"), (1, "a3"), (2, "b2")])
    transport = ScriptedTransport()
    sender = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0))
    assert await sender.drain(within=5)
    assert [t for _, chat, t in transport.delivered if chat == 1] == ["a1", "a2", "a3"]
    assert [t for _, chat, t in transport.delivered if chat == 2] == ["b1", "b2"]
    assert set((await statuses(db)).values()) == {"sent"}
    assert await sender.drain(within=1)  # nothing is sent twice
    assert len(transport.delivered) == 5


async def test_429_retry_after_is_honoured(db, clock):
    await enqueue_all(db, clock, [(1, "hello")])
    transport = ScriptedTransport({"hello": [RetryAfter(1)]})
    sender = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0))
    assert await sender.drain(within=5)
    (first, _), (second, _) = transport.attempts
    assert second - first >= 0.95
    assert [t for _, _, t in transport.delivered] == ["hello"]


async def test_temporary_failures_retry_and_permanent_ones_stop(db, clock):
    await enqueue_all(db, clock, [(1, "flaky"), (2, "blocked")])
    transport = ScriptedTransport({"flaky": [TemporaryFailure("502")], "blocked": [PermanentFailure("403")]})
    sender = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0))
    assert await sender.drain(within=5)
    assert await statuses(db) == {"flaky": "sent", "blocked": "failed"}
    assert [t for _, t in transport.attempts].count("blocked") == 1


async def test_a_message_that_keeps_failing_is_given_up(db, clock):
    await enqueue_all(db, clock, [(1, "doomed")])
    transport = ScriptedTransport({"doomed": [TemporaryFailure("502")] * 5})
    sender = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0, max_attempts=2))
    assert await sender.drain(within=5)
    assert (await statuses(db))["doomed"] == "failed"
    assert len(transport.attempts) == 2


async def test_global_and_per_chat_spacing(db, clock):
    await enqueue_all(db, clock, [(chat, f"m{chat}") for chat in range(10)] + [(0, "again")])
    transport = ScriptedTransport()
    sender = Sender(db, transport, limits=Limits(global_per_second=50, per_chat_interval=0.3))
    assert await sender.drain(within=10)
    starts = sorted(at for at, _ in transport.attempts)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 50/s overall: starts are paced 20 ms apart (one late wake-up may shorten the next gap, never the total)
    assert min(gaps) >= 0.01
    assert starts[-1] - starts[0] >= 0.9 * (len(starts) - 1) / 50
    chat0 = [at for at, chat, _ in transport.delivered if chat == 0]
    assert chat0[1] - chat0[0] >= 0.29


async def test_a_sender_only_delivers_its_own_channel(db, clock):
    async with db.transaction() as session:
        await outbox.enqueue(session, 1, "message", {"text": "tg"}, clock.now(), "telegram")
        await outbox.enqueue(session, 1, "message", {"text": "term"}, clock.now(), "terminal")
    transport = ScriptedTransport()
    sender = Sender(db, transport, "terminal", Limits(global_per_second=1000, per_chat_interval=0))
    assert await sender.drain(within=2)
    assert [t for _, _, t in transport.delivered] == ["term"]


async def test_an_unexpected_error_is_retried_with_backoff_then_given_up(db, clock):
    await enqueue_all(db, clock, [(1, "odd")])
    transport = ScriptedTransport({"odd": [ValueError("unexpected answer")] * 3})
    sender = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0, max_attempts=3))
    assert (await sender.round())[0] == 1
    async with db.transaction() as session:
        row = (await outbox.pending_heads(session, "telegram", 10))[0]
    assert row.attempts == 1 and "ValueError" in row.last_error and row.next_attempt_at is not None
    for _ in range(2):
        async with db.transaction() as session:  # skip the backoff
            await session.execute(update(OutboxMessage).values(next_attempt_at=None))
        await sender.round()
    assert (await statuses(db))["odd"] == "failed"
    assert len(transport.attempts) == 3  # not re-sent every second forever


async def test_a_reply_overtakes_a_large_broadcast(db, clock):
    await enqueue_all(db, clock, [(1000 + n, f"notice {n}") for n in range(700)])
    async with db.transaction() as session:
        await outbox.enqueue(session, 7, "message", {"text": "your answer"}, clock.now(), reply=True)
    transport = ScriptedTransport()
    sender = Sender(db, transport, limits=Limits(global_per_second=30, per_chat_interval=0))
    attempted, _ = await sender.round()
    assert attempted <= 30  # about one second of sends per round
    assert transport.delivered[0][2] == "your answer"


async def test_a_reply_overtakes_notices_queued_for_the_same_chat(db, clock):
    """An official with 60 notices waiting: the answer to what they just typed goes next, not a minute later."""
    await enqueue_all(db, clock, [(5, f"notice {n}") for n in range(60)])
    async with db.transaction() as session:
        await outbox.enqueue(session, 5, "message", {"text": "your menu"}, clock.now(), reply=True)
    transport = ScriptedTransport()
    sender = Sender(db, transport, limits=Limits(global_per_second=30, per_chat_interval=1.0))
    assert (await sender.round())[0] == 1
    assert [text for _, _, text in transport.delivered] == ["your menu"]
    async with db.transaction() as session:  # the notices follow in their order
        assert [row.payload["text"] for row in await outbox.pending_heads(session, "telegram", 10)] == ["notice 0"]


async def test_a_chat_gets_a_short_burst_then_one_per_interval(db, clock):
    async with db.transaction() as session:
        for text in ("prompt", "mark", "next"):
            await outbox.enqueue(session, 1, "message", {"text": text}, clock.now(), reply=True)
    transport = ScriptedTransport()
    sender = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0.3, per_chat_burst=2))
    assert await sender.drain(within=5)
    (first, _, _), (second, _, _), (third, _, _) = transport.delivered
    assert second - first < 0.15  # two at once: the burst
    assert third - first >= 0.29  # then one per interval


async def test_a_notice_leaves_the_chats_last_token_for_a_reply(db, clock):
    async with db.transaction() as session:
        await outbox.enqueue(session, 1, "message", {"text": "answer"}, clock.now(), reply=True)
        await outbox.enqueue(session, 1, "edit", {"text": "✅ mark", "message_id": 1}, clock.now())
    transport = ScriptedTransport()
    limits = Limits(global_per_second=1000, per_chat_interval=0.5, per_chat_burst=2)
    sender = Sender(db, transport, limits=limits)
    assert (await sender.round())[0] == 1
    assert (await sender.round())[0] == 0  # the mark waits: taking the last token would make the next reply wait
    async with db.transaction() as session:
        await outbox.enqueue(session, 1, "message", {"text": "next answer"}, clock.now(), reply=True)
    assert (await sender.round())[0] == 1  # the person's next answer goes at once
    assert await sender.drain(within=5)
    assert [text for _, _, text in transport.delivered] == ["answer", "next answer", "✅ mark"]
