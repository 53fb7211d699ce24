"""Long polling (bot/polling.py, both runtimes): a getUpdates batch is handled in one transaction and confirmed
only after it committed; a batch the database could not take stays unconfirmed and comes again."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import open_app
from storage.models import ProcessedUpdate
from tests.telegram_harness import bot_settings, runtime_type
from tests.waiting import wait_until

pytestmark = pytest.mark.contract  # each runtime polls through its own client


async def test_a_batch_is_confirmed_after_its_commit_and_comes_again_when_it_failed(emulator, db_url, runtime):
    people = [emulator.user(3100 + n, f"居民{n}") for n in range(5)]
    for person in people:
        await person.send_command("/start")
    app = await open_app(bot_settings(emulator, db_url))
    real, batches = app.core.handle_batch, []

    async def database_down_once(inbounds):
        batches.append(len(inbounds))
        if len(batches) == 1:
            raise ConnectionError("database unreachable")
        return await real(inbounds)

    app.core.handle_batch = database_down_once
    running = runtime_type(runtime)(app)
    task = asyncio.create_task(running.run(handle_signals=False))
    try:
        await wait_until(lambda: bool(batches))
        assert batches == [5], "the five updates should arrive as one batch"
        assert emulator.queue.pending_count() == 5, "a batch that failed must not be confirmed"
        for person in people:
            await person.expect("欢迎使用十小通", timeout=15)  # after the backoff pause: the same batch again
        assert batches == [5, 5]
        async with app.db.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 5
    finally:
        await running.stop()
        await asyncio.wait_for(task, 10)
        await app.close()
    assert emulator.queue.pending_count() == 0  # confirmed, at the latest by the stop
    assert all(len([m for m in person.messages if "欢迎使用十小通" in m.content]) == 1 for person in people)
