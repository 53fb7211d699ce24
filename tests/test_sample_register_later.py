"""`shixiao run` on a fresh database writes the sample register once the bot is polling: a first start is no
slower than the next ones, the register appears whole (one transaction), and a load cut short is written whole at
the next start, never twice."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

import bot.app
from bot.app import load_pending_sample_register, load_sample_if_empty, sample_register_once_ready
from storage.areas import find_area
from storage.db import Database
from storage.inspection_models import Inspection, Unit
from storage.sample_register import (
    count_sample_units,
    load_sample_register,
    pending_sample_county,
    remove_sample_register,
)
from storage.units import UnitFields, upsert_unit
from tests.emulator import TelegramEmulator
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parent.parent


async def counts(db: Database) -> tuple[int, int, str | None]:
    async with db.transaction() as session:
        units = int(await session.scalar(select(func.count(Unit.id))) or 0)
        reports = int(await session.scalar(select(func.count(Inspection.id))) or 0)
        return units, reports, await pending_sample_county(session)


async def test_the_register_waits_until_the_bot_polls_then_appears_whole_once(db, clock):
    # conftest's `db` holds the sample county and nothing else: what `open_app(register_later=True)` leaves.
    assert await counts(db) == (0, 0, "永嘉县")
    ready = asyncio.Event()
    loading = asyncio.create_task(sample_register_once_ready(db, clock, ready))
    await asyncio.sleep(0.05)
    assert await counts(db) == (0, 0, "永嘉县")  # not before the bot is polling
    ready.set()
    await asyncio.wait_for(loading, 60)
    assert await counts(db) == (61, 52, None)
    assert not await load_pending_sample_register(db, clock)  # once only: a second start writes nothing
    assert not await load_sample_if_empty(db, clock)
    assert await counts(db) == (61, 52, None)


async def test_a_load_cut_short_leaves_nothing_and_the_next_start_writes_it_whole(db, clock, monkeypatch):
    async def dies_halfway(session, county, units, now):  # type: ignore[no-untyped-def]
        await load_sample_register(session, county, units[:30], now)  # written and flushed, not committed
        raise KeyboardInterrupt  # the process is stopped mid-load

    monkeypatch.setattr(bot.app, "load_sample_register", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        await load_pending_sample_register(db, clock)
    assert await counts(db) == (0, 0, "永嘉县")
    monkeypatch.undo()
    assert await load_pending_sample_register(db, clock)
    assert await counts(db) == (61, 52, None)
    async with db.transaction() as session:
        assert await count_sample_units(session) == 61


async def test_a_database_with_units_of_its_own_never_gets_the_register(db, clock):
    # `shixiao units import` on an empty database loads the sample county without the register, then its units.
    async with db.transaction() as session:
        village = await find_area(session, "底寮村")
        await upsert_unit(session, village, UnitFields(name="本县登记的小超市", industry="small_grocery"), clock.now())
    assert not await load_pending_sample_register(db, clock)
    assert await counts(db) == (1, 0, None)


async def test_a_removed_register_is_not_written_again(db, clock):
    assert await load_pending_sample_register(db, clock)
    async with db.transaction() as session:
        await remove_sample_register(session)  # the office stays, as a resident
    assert not await load_pending_sample_register(db, clock)
    assert await counts(db) == (0, 0, None)


@pytest.mark.slow
async def test_shixiao_run_on_a_fresh_database_writes_the_register_after_it_polls(tmp_path):
    database = tmp_path / "fresh.db"
    async with TelegramEmulator("123456789:TEST-later") as emu:
        log = tmp_path / "bot.log"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env={
                **os.environ,
                "PYTHONPATH": str(REPO),
                "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
                "SHIXIAO_TELEGRAM_TOKEN": "123456789:TEST-later",
                "SHIXIAO_TELEGRAM_API_BASE": emu.base_url,
                "SHIXIAO_POLLING_TIMEOUT": "1",
                "SHIXIAO_SAMPLE_REGISTER": "true",
            },
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        try:
            polled = await emu.signal.wait_for(
                lambda: next((call for call in emu.calls if call.method == "getUpdates"), None), 90
            )
            assert polled is not None, log.read_text()
            db = Database(f"sqlite+aiosqlite:///{database}")
            try:
                await wait_until(lambda: "start-up done: " in log.read_text(), timeout=60)
                assert await counts(db) == (61, 52, None)
            finally:
                await db.dispose()
        finally:
            process.terminate()
            await process.wait()
    text = log.read_text()
    assert text.index("ready (long polling)") < text.index("loaded the sample register"), text
    # The garbage collector, paused for the start-up (bot/collector.py), is back on after the register is written.
    assert text.index("loaded the sample register") < text.index("start-up done: "), text
    assert "Traceback" not in text
