"""Re-inspection reminders with an injected clock."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from handlers.texts import Texts
from scheduler.inspection_jobs import remind_reinspections
from storage.inspection_models import Unit, UnitStatus
from storage.models import OutboxMessage, Role
from tests.chat_driver import register
from tests.inspection_support import add_unit


async def set_deadline(db, unit_id: int, day: date) -> None:
    async with db.transaction() as session:
        unit = await session.get(Unit, unit_id)
        unit.status, unit.rectify_by = UnitStatus.RECTIFYING, day


async def outbox_for(db, chat_id: int) -> list[str]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return [row.payload["text"] for row in rows if "复查提醒" in row.payload["text"]]


async def test_cadres_are_reminded_before_and_on_the_deadline_once_each(core, db, clock):
    texts = Texts.load()
    cadre = await register(core, db, clock, 701, Role.CADRE, "芙蓉村", "李建国")
    await register(core, db, clock, 702, Role.CADRE, "苍坡村", "另一个村")
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    await set_deadline(db, unit_id, date(2026, 5, 12))  # clock: 2026-05-06

    assert await remind_reinspections(db, clock, texts) == 0  # 6 days ahead: too early
    clock.advance(timedelta(days=3))  # 05-09: 3 days before
    assert await remind_reinspections(db, clock, texts) == 1
    assert await remind_reinspections(db, clock, texts) == 0  # a re-run repeats nothing
    clock.advance(timedelta(days=2))  # 05-11: still "before", already sent
    assert await remind_reinspections(db, clock, texts) == 0
    clock.advance(timedelta(days=1))  # 05-12: the day itself
    assert await remind_reinspections(db, clock, texts) == 1
    messages = await outbox_for(db, cadre.user_id)
    assert messages == [
        "【复查提醒】老王小吃店（岩头镇芙蓉村）的整改期限是2026年5月12日（3天后），请按时复查。",
        "【复查提醒】今天是老王小吃店（岩头镇芙蓉村）的整改期限（2026年5月12日），请今天完成复查。",
    ]
    assert await outbox_for(db, 702) == []  # another village's cadre hears nothing
    start = await cadre.press_data(f"m.inspect.{unit_id}")
    assert "【老王小吃店】检查第1/" in start[0].text
