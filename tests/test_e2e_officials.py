"""End to end through the Telegram emulator: officials' features on the real runtime."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from handlers.plan_schedule import load_plan, shipped_schedule
from handlers.texts import Texts
from scheduler.milestone_jobs import remind_milestones
from storage.clock import SHANGHAI, ManualClock, SystemClock
from storage.milestone_models import MilestoneDone
from storage.models import Role
from tests.telegram_harness import join


async def test_a_township_official_is_reminded_of_a_milestone_and_marks_it_done(emulator, bot):
    texts = Texts.load()
    db = bot.app.db
    official = await join(emulator, bot, 4001, Role.TOWNSHIP, "岩头镇", "陈镇长")
    await load_plan(db, shipped_schedule(), 2026, texts, SystemClock())

    # The job runs on 2026-04-08 (the scheduler's clock); the runtime's sender delivers its outbox rows.
    assert await remind_milestones(db, ManualClock(datetime(2026, 4, 8, 9, 0, tzinfo=SHANGHAI)), texts) == 1
    reminder = await official.expect("【计划节点提醒】岩头镇：“召开现场会（或动员会）全面动员，签订目标责任书”")
    assert "2026年4月15日前完成（还有7天）" in reminder.content
    await official.press("标记已完成", message=reminder)
    await official.expect("可以补充一句备注")
    await official.send_text("4月10日已召开全镇动员会")
    done = await official.expect("已标记完成")
    assert "备注：4月10日已召开全镇动员会" in done.content
    async with db.transaction() as session:
        marks = list(await session.scalars(select(MilestoneDone)))
    assert [(m.note, m.township_id is not None) for m in marks] == [("4月10日已召开全镇动员会", True)]

    # Two days before the date the kickoff is not repeated to this township; other work still is.
    assert await remind_milestones(db, ManualClock(datetime(2026, 4, 13, 9, 0, tzinfo=SHANGHAI)), texts) == 1
    later = await official.expect(lambda m: not m.is_edit and "【计划节点提醒】" in m.content)
    assert "制定年度工作计划并报备" in later.content and "召开现场会" not in later.content
    await official.expect_silence(0.5)
