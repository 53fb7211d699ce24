"""The weekly digest job: once per official per week, also after missed slots; the scheduler's catch-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from handlers.assembly import shipped_knowledge
from handlers.texts import Texts
from scheduler.digest_jobs import send_weekly_digests
from storage.clock import SHANGHAI
from storage.models import OutboxMessage, Role
from tests.chat_driver import register


async def digests_to(db, chat_id: int) -> list[OutboxMessage]:
    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id))
        return [row for row in rows if "十小通周报" in row.payload.get("text", "") or row.kind == "photo"]


async def test_each_official_gets_one_digest_a_week(core, db, clock, tmp_path):
    texts, knowledge = Texts.load(), shipped_knowledge()
    township = await register(core, db, clock, 901, Role.TOWNSHIP, "岩头镇", "陈镇长")
    county = await register(core, db, clock, 902, Role.COUNTY, None, "周主任")
    await register(core, db, clock, 903, Role.CADRE, "芙蓉村", "李建国")
    clock.set(datetime(2026, 5, 11, 8, 0, tzinfo=SHANGHAI))  # Monday 08:00
    assert await send_weekly_digests(db, clock, texts, knowledge, tmp_path) == 2
    assert await send_weekly_digests(db, clock, texts, knowledge, tmp_path) == 0  # same week: nothing again
    township_rows = await digests_to(db, township.user_id)
    assert [row.kind for row in township_rows] == ["message", "photo"]
    assert "【十小通周报】岩头镇" in township_rows[0].payload["text"]
    assert "【十小通周报】永嘉县" in (await digests_to(db, county.user_id))[0].payload["text"]
    assert await digests_to(db, 903) == []  # cadres get no digest
    clock.advance(timedelta(days=23))  # down for three weeks: back on a Wednesday
    assert await send_weekly_digests(db, clock, texts, knowledge, tmp_path) == 2  # one, not one per missed week
    assert await send_weekly_digests(db, clock, texts, knowledge, tmp_path) == 0
