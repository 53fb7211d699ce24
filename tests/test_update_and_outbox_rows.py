"""The hot-path statements written as Core INSERTs and UPDATEs (update ids, outbox rows, deliveries) behave as the
ORM's would: inside the session's transaction, values converted by the columns' own types, on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select

from storage import outbox
from storage.models import OutboxMessage, OutboxStatus, ProcessedUpdate
from storage.updates import claim_update, claim_updates

MANY = 120  # more rows than one statement of the old driver path took


class Boom(Exception):
    pass


async def count(db, model) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_an_insert_first_in_a_transaction_is_rolled_back_with_it(db, clock):
    with pytest.raises(Boom):
        async with db.transaction() as session:
            assert await claim_update(session, "telegram", 7, clock.now())
            await outbox.enqueue_many(session, [(1, "text", {"text": "甲"})], clock.now())
            raise Boom
    assert await count(db, ProcessedUpdate) == 0
    assert await count(db, OutboxMessage) == 0
    async with db.transaction() as session:
        assert await claim_update(session, "telegram", 7, clock.now())


async def test_outbox_rows_written_as_table_rows_read_back_as_the_orm_wrote_them(db, clock):
    payload = {"text": "您好，投诉已受理 😀", "choices": [["a", "确认"]], "n": 1, "nested": {"ok": True}}
    async with db.transaction() as session:
        await outbox.enqueue_many(
            session, [(42, "text", payload), (43, "photo", {"text": "x"})], clock.now(), reply_to=42
        )
    async with db.transaction() as session:
        first, second = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert (first.chat_id, first.kind, first.payload, first.status, first.attempts) == (
        42,
        "text",
        payload,
        OutboxStatus.PENDING,
        0,
    )
    assert first.created_at == clock.now() and first.created_at.tzinfo is not None
    assert first.created_at.astimezone(UTC).utcoffset().total_seconds() == 0
    assert (first.priority, second.priority) == (outbox.REPLY, outbox.NOTICE)
    assert first.next_attempt_at is None and first.claimed_by is None and first.id < second.id


async def test_many_messages_keep_their_order_across_statements(db, clock):
    messages = [(9, "text", {"text": f"第{n}条"}) for n in range(MANY)]
    async with db.transaction() as session:
        await outbox.enqueue_many(session, messages, clock.now())
        await outbox.enqueue_many(session, [], clock.now())  # nothing to write is not an error
    async with db.transaction() as session:
        texts = [m.payload["text"] for m in await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert texts == [f"第{n}条" for n in range(MANY)]


async def test_a_session_that_commits_and_goes_on_writes_through_its_new_connection(db, clock):
    async with db._sessions() as session:  # one session over two transactions, as a script might use it
        async with session.begin():
            assert await claim_update(session, "telegram", 1, clock.now())
        async with session.begin():
            assert await claim_update(session, "telegram", 2, clock.now())
            assert not await claim_update(session, "telegram", 1, clock.now())
    assert await count(db, ProcessedUpdate) == 2


async def test_claiming_a_batch_of_updates_returns_only_those_not_seen_before(db, clock):
    async with db.transaction() as session:
        assert await claim_updates(session, "telegram", [3, 1, 2, 1], clock.now()) == {1, 2, 3}
        assert await claim_updates(session, "telegram", [], clock.now()) == set()
    async with db.transaction() as session:
        assert await claim_updates(session, "telegram", [2, 3, 4, 5], clock.now()) == {4, 5}
        assert await claim_updates(session, "other", [2], clock.now()) == {2}  # per channel
    assert await count(db, ProcessedUpdate) == 6


async def test_marking_deliveries_updates_only_pending_rows_with_converted_values(db, clock):
    async with db.transaction() as session:
        await outbox.enqueue_many(session, [(5, "text", {"text": f"{n}"}) for n in range(3)], clock.now())
        ids = list(await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
        await outbox.claim(session, ids, "web-1", clock.now(), clock.now() + timedelta(minutes=2))
    async with db.transaction() as session:
        await outbox.mark_sent_many(session, [(ids[0], 9_000_000_001), (ids[1], None)], clock.now())
    later = clock.now() + timedelta(hours=1)
    async with db.transaction() as session:
        await outbox.mark_sent_many(session, [(ids[0], 7)], later)  # already sent: left as it was
        await outbox.mark_sent_many(session, [], later)
    async with db.transaction() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    first, second, third = rows
    assert (first.status, first.external_id, first.attempts, first.sent_at) == (
        OutboxStatus.SENT,
        9_000_000_001,
        1,
        clock.now(),
    )
    assert first.sent_at.tzinfo is not None and first.claimed_until is None and first.claimed_by == "web-1"
    assert (second.status, second.external_id, second.attempts) == (OutboxStatus.SENT, None, 1)
    assert (third.status, third.sent_at, third.claimed_by) == (OutboxStatus.PENDING, None, "web-1")
