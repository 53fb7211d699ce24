"""A batch of updates in one transaction (Core.handle_batch, what long polling does) ends exactly as handling them
one at a time would: the same replies in the same order, the same records; a failing update costs the others
nothing; a redelivered update is skipped."""

from __future__ import annotations

from pathlib import Path

import aiogram.types
import pytest
from sqlalchemy import func, select

from bench.inbound_workload import queue_workload
from bot.aiogram_inbound import update_inbound
from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from handlers.assembly import build_core
from handlers.context import CoreConfig
from handlers.events import Inbound, Kind
from storage.areas import load_county
from storage.db import Database
from storage.models import Conversation, OutboxMessage, ProcessedUpdate, User
from tests.conftest import reset_postgres
from tests.emulator import TelegramEmulator


async def fresh_database(db_url: str, tmp_path: Path, name: str, clock) -> Database:
    if db_url.startswith("sqlite"):
        db_url = f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
    else:
        await reset_postgres(db_url)
    db = Database(db_url)
    await db.upgrade()
    async with db.transaction() as session:
        await load_county(session, parse_area_file(SAMPLE_COUNTY), clock.now())
    return db


async def workload(users: int) -> list[Inbound]:
    """The inbound bench's updates: /start, questions, a whole anonymous complaint each, presses on menus."""
    async with TelegramEmulator() as emulator:
        await queue_workload(emulator, users)
        updates = [aiogram.types.Update.model_validate(emulator.queue.log[key]) for key in sorted(emulator.queue.log)]
    return [inbound for update in updates if (inbound := update_inbound(update)) is not None]


async def snapshot(db: Database) -> dict:
    async with db.transaction() as session:
        messages = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        conversations = (await session.scalars(select(Conversation).order_by(Conversation.user_id))).all()
        return {
            "outbox": [(m.chat_id, m.kind, m.payload, m.priority, m.status) for m in messages],
            "conversations": [(c.user_id, c.flow, c.step, c.data, c.nonce) for c in conversations],
            "users": await session.scalar(select(func.count()).select_from(User)),
            "updates": await session.scalar(select(func.count()).select_from(ProcessedUpdate)),
        }


@pytest.mark.slow
async def test_a_batch_ends_as_one_update_at_a_time_would(db_url, tmp_path, clock):
    inbounds = await workload(6)  # 96 updates, six residents interleaved
    one_by_one = await fresh_database(db_url, tmp_path, "one", clock)
    core = build_core(one_by_one, clock, CoreConfig())
    for inbound in inbounds:
        await core.handle(inbound)
    expected = await snapshot(one_by_one)
    await one_by_one.dispose()

    batched = await fresh_database(db_url, tmp_path, "batched", clock)
    core = build_core(batched, clock, CoreConfig())
    for start in range(0, len(inbounds), 40):  # batches that cut through people's conversations
        outcomes = await core.handle_batch(inbounds[start : start + 40])
        assert not any(outcome.duplicate for outcome in outcomes)
    got = await snapshot(batched)
    # Everything again, as after a crash before the confirmation: all skipped, nothing written twice.
    again = await core.handle_batch(inbounds[:40])
    assert all(outcome.duplicate for outcome in again)
    assert await snapshot(batched) == got
    await batched.dispose()
    assert got["updates"] == len(inbounds) and got["users"] == 6
    assert got == expected


async def test_a_failing_update_costs_the_rest_of_its_batch_nothing(core, db, monkeypatch):
    people = [
        Inbound(user_id=700 + n, chat_id=700 + n, kind=Kind.COMMAND, command="start", update_id=n) for n in range(1, 6)
    ]
    original = core._handle

    async def failing(session, inbound, **kwargs):
        if inbound.user_id == 703:
            raise RuntimeError("boom")
        return await original(session, inbound, **kwargs)

    monkeypatch.setattr(core, "_handle", failing)
    outcomes = await core.handle_batch(people)
    assert outcomes[2].replies[0].text == core.texts("internal_error")
    assert all("欢迎使用十小通" in outcomes[n].replies[0].text for n in (0, 1, 3, 4))
    async with db.transaction() as session:
        registered = set(await session.scalars(select(User.channel_user_id)))
        handled = await session.scalar(select(func.count()).select_from(ProcessedUpdate))
        chats = list(await session.scalars(select(OutboxMessage.chat_id).order_by(OutboxMessage.id)))
    assert registered == {701, 702, 704, 705}
    assert handled == 5  # the failed one too: Telegram will not send it again
    assert chats == [701, 702, 703, 704, 705]


@pytest.mark.parametrize("repeat", ["within the batch", "handled before"])
async def test_a_redelivered_update_in_a_batch_is_skipped(core, db, repeat):
    first = Inbound(user_id=801, chat_id=801, kind=Kind.COMMAND, command="start", update_id=11)
    second = Inbound(user_id=802, chat_id=802, kind=Kind.COMMAND, command="start", update_id=12)
    if repeat == "handled before":
        await core.handle(first)
        outcomes = await core.handle_batch([first, second])
        assert [outcome.duplicate for outcome in outcomes] == [True, False]
    else:
        outcomes = await core.handle_batch([first, second, first])
        assert [outcome.duplicate for outcome in outcomes] == [False, False, True]
    async with db.transaction() as session:
        assert list(await session.scalars(select(OutboxMessage.chat_id).order_by(OutboxMessage.id))) == [801, 802]
