"""A real bot process killed and restarted across the weekly digest's slot: the digest goes out once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from handlers.assembly import build_core
from handlers.context import CoreConfig
from scheduler.weekdays import DAYS
from storage.areas import load_county
from storage.clock import SHANGHAI, SystemClock
from storage.db import Database
from storage.models import Role
from storage.outbox import count_by_status
from tests.chat_driver import register
from tests.telegram_harness import BotProcess
from tests.test_scheduler import set_next_run, stored_jobs


async def scheduler_started(process: BotProcess, times: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """Wait until the processes sharing this log have started their scheduler `times` times in all."""
    deadline = asyncio.get_running_loop().time() + timeout
    while process.log().count("running scheduled jobs") < times:
        assert asyncio.get_running_loop().time() < deadline, "the bot did not start its scheduler"
        await asyncio.sleep(0.1)


async def outbox_drained(db: Database, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    """Every queued message recorded as delivered (a kill between a send and its record is the crash test's)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with db.transaction() as session:
            if (await count_by_status(session)).get("pending", 0) == 0:
                return
        assert asyncio.get_running_loop().time() < deadline, "the outbox was not drained"
        await asyncio.sleep(0.05)


def digests(user) -> list[str]:
    return [m.content for m in user.messages if "十小通周报" in m.content]


@pytest.mark.slow
async def test_killed_across_the_digest_slot_the_digest_is_sent_once(emulator, tmp_path, runtime):
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'slot.db'}"
    db = Database(database_url)
    await db.upgrade()
    clock = SystemClock()
    async with db.transaction() as session:
        await load_county(session, parse_area_file(SAMPLE_COUNTY), clock.now())
    core = build_core(db, clock, CoreConfig())
    township_chat, county_chat = emulator.user(901, "陈镇长"), emulator.user(902, "周主任")
    await register(core, db, clock, 901, Role.TOWNSHIP, "岩头镇", "陈镇长")
    await register(core, db, clock, 902, Role.COUNTY, None, "周主任")
    # This week's slot was an hour ago (any weekday: the test must not depend on today being Monday).
    slot = datetime.now(SHANGHAI).replace(second=0, microsecond=0) - timedelta(hours=1)
    env = {"SHIXIAO_DIGEST_DAY": DAYS[slot.weekday()], "SHIXIAO_DIGEST_TIME": slot.strftime("%H:%M")}
    process = BotProcess(emulator, database_url, tmp_path, runtime, env).start()
    try:
        await township_chat.expect("登记完成", timeout=60)  # the registration replies, delivered by the process
        await scheduler_started(process, 1)
        assert digests(township_chat) == []  # started after the slot: the next one is next week
        for _ in range(200):  # the jobs are stored one by one after the scheduler starts
            if "weekly-digest" in stored_jobs(database_url):
                break
            await asyncio.sleep(0.05)
        process.kill()

        # It had been killed before the slot: the stored job still points at it.
        set_next_run(database_url, "weekly-digest", slot)
        process = BotProcess(emulator, database_url, tmp_path, runtime, env).start()
        await township_chat.expect("【十小通周报】岩头镇", timeout=60)
        await county_chat.expect("【十小通周报】永嘉县", timeout=30)
        await outbox_drained(db)
        for _ in range(100):  # the scheduler stores the next run as it hands the job to its thread pool
            if stored_jobs(database_url)["weekly-digest"].next_run_time > datetime.now(SHANGHAI):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the next slot was not stored")
        process.kill()

        # Killed right after sending, restarted: nothing is due and nothing goes out twice.
        process = BotProcess(emulator, database_url, tmp_path, runtime, env).start()
        await scheduler_started(process, 3)
        await asyncio.sleep(1.5)
        assert len(digests(township_chat)) == 1 and len(digests(county_chat)) == 1
        assert "Traceback" not in process.log()
    finally:
        process.terminate()
        await db.dispose()
