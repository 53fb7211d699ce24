"""Several senders on one outbox (instances sharing PostgreSQL, or one SQLite file): each message goes out once,
each chat in order and no faster than its limit, the global rate is split, and a dead instance's claims pass on."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from scheduler.sender import LEASE, Limits, Sender
from storage import instances, outbox
from storage.models import OutboxMessage, OutboxStatus
from tests.test_sender import ScriptedTransport, enqueue_all


async def run_until_sent(senders: list[Sender], db, expected: int, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    tasks = [asyncio.create_task(sender.run()) for sender in senders]
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with db.transaction() as session:
                counts = await outbox.count_by_status(session)
            if counts.get(OutboxStatus.SENT, 0) >= expected:
                return
            assert time.monotonic() < deadline, f"not delivered in time: {counts}"
            await asyncio.sleep(0.05)
    finally:
        for sender in senders:
            sender.stop()
        await asyncio.gather(*tasks)


@pytest.mark.slow
async def test_two_senders_share_one_outbox_without_sending_twice(db, clock):
    items = [(chat, f"{chat}-{n}") for n in range(4) for chat in range(1, 31)]
    await enqueue_all(db, clock, items)
    async with db.transaction() as session:  # both instances are up: each sees the other at its first round
        for name in ("a", "b"):
            await instances.beat(session, name, datetime.now(UTC))
    transports = [ScriptedTransport(), ScriptedTransport()]
    limits = Limits(global_per_second=400, per_chat_interval=0.05, per_chat_burst=2, batch=20)
    senders = [
        Sender(db, transport, limits=limits, instance=name)
        for transport, name in zip(transports, ("a", "b"), strict=True)
    ]
    await run_until_sent(senders, db, len(items))
    delivered = [(at, chat, text) for transport in transports for at, chat, text in transport.delivered]
    assert sorted(text for _, _, text in delivered) == sorted(text for _, text in items)  # each once
    assert all(transport.delivered for transport in transports), "both instances took a share"
    for chat in range(1, 31):
        mine = sorted((at, text) for at, c, text in delivered if c == chat)
        assert [text for _, text in mine] == [f"{chat}-{n}" for n in range(4)]  # in order across instances
        # The chat's allowance, across instances: a burst of two, then one per interval (so any three sends span
        # at least one interval).
        spans = [mine[n + 2][0] - mine[n][0] for n in range(len(mine) - 2)]
        assert min(spans) >= 0.04, f"chat {chat} got three messages within {min(spans):.3f}s"
    async with db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert {row.claimed_by for row in rows} == {"a", "b"}  # who delivered each is kept


async def test_instances_split_the_global_rate(db, clock):
    await enqueue_all(db, clock, [(chat, "x") for chat in range(1, 5)])
    limits = Limits(global_per_second=30, per_chat_interval=0)
    first, second = (Sender(db, ScriptedTransport(), limits=limits, instance=name) for name in ("a", "b"))
    await first.round()
    assert first.sharing == 1
    await second.round()
    assert second.sharing == 2
    first._next_beat = 0  # its next round looks again
    await first.round()
    assert first.sharing == 2
    assert first._pacer.interval == 1 / (30 * 0.95 / 2)


async def test_a_dead_instances_claims_pass_on_after_the_lease(db, clock):
    await enqueue_all(db, clock, [(1, "orphan")])
    now = datetime.now(UTC)
    async with db.transaction() as session:
        heads = await outbox.pending_heads(session, "telegram", 10)
        assert await outbox.claim(session, [heads[0].id], "dead", now, now + LEASE) == {heads[0].id}
    transport = ScriptedTransport()
    alive = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0), instance="alive")
    assert (await alive.round())[0] == 0  # claimed by an instance that may still be sending it
    assert transport.delivered == []
    async with db.transaction() as session:  # the lease runs out
        await session.execute(update(OutboxMessage).values(claimed_until=now - timedelta(seconds=1)))
    assert (await alive.round())[0] == 1
    assert [text for _, _, text in transport.delivered] == ["orphan"]


async def test_a_restarted_instance_takes_back_its_own_claims_at_once(db, clock):
    await enqueue_all(db, clock, [(1, "mine")])
    now = datetime.now(UTC)
    async with db.transaction() as session:
        heads = await outbox.pending_heads(session, "telegram", 10)
        await outbox.claim(session, [heads[0].id], "host-1", now, now + LEASE)  # then killed -9
    transport = ScriptedTransport()
    restarted = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0), instance="host-1")
    assert await restarted.drain(within=5)
    assert [text for _, _, text in transport.delivered] == ["mine"]


async def test_an_instance_keeps_to_the_allowance_another_instance_spent(db, clock):
    """Instance a sends a chat its burst; instance b, which never sent to that chat, must still wait: the chat's
    allowance is shared through the database (on one SQLite file too, once two instances are live)."""
    async with db.transaction() as session:
        for name in ("a", "b"):
            await instances.beat(session, name, datetime.now(UTC))
    limits = Limits(global_per_second=1000, per_chat_interval=0.5, per_chat_burst=2)
    first_transport, second_transport = ScriptedTransport(), ScriptedTransport()
    first = Sender(db, first_transport, limits=limits, instance="a")
    second = Sender(db, second_transport, limits=limits, instance="b")

    async def reply(text: str) -> None:
        async with db.transaction() as session:
            await outbox.enqueue(session, 1, "message", {"text": text}, clock.now(), reply=True)

    await reply("one")
    await reply("two")
    for _ in range(2):
        assert (await first.round())[0] == 1
    await reply("three")
    assert (await second.round())[0] == 0  # the chat's burst is spent: not before one interval
    assert second_transport.delivered == []
    await asyncio.sleep(0.55)
    assert (await second.round())[0] == 1
    assert [text for _, _, text in second_transport.delivered] == ["three"]


async def test_an_instances_senders_beat_under_one_name_at_the_same_moment(db, clock):
    """The Telegram sender and each work-group robot's sender of one process beat under the instance's name: their
    first beats may meet (on PostgreSQL an update-then-insert let the second fail with a duplicate key)."""
    from storage import instances
    from storage.runtime_models import BotInstance

    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one write transaction at a time (BEGIN IMMEDIATE): beats cannot meet there")
    together = asyncio.Barrier(8)

    async def beat() -> None:
        async with db.transaction() as session:
            await session.execute(select(func.count()).select_from(BotInstance))  # each on its own connection
            await together.wait()  # then all beat at once: none sees another's row yet
            await instances.beat(session, "host-a", clock.now())

    await asyncio.gather(*(beat() for _ in range(8)))
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(BotInstance)) == 1
