"""Issue 15, items 2 and 3: reminders to owners before the deadline (7, 3, 1 days and the day, never at night, once
each, stopped by a re-inspection), a corrected report re-notifying only on change, a blocked owner's notice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from handlers.assembly import shipped_knowledge
from handlers.texts import Texts
from scheduler.owner_jobs import remind_owners, stage
from scheduler.sender import Limits, PermanentFailure, Sender
from storage.clock import SHANGHAI
from storage.inspection_models import Inspection
from storage.models import OutboxMessage, OutboxStatus, Role
from tests.chat_driver import Person, register
from tests.inspection_support import add_unit
from tests.owner_support import inspect_with_one_failure, last_outbox_id, outbox_to, owner_core

OWNER = 7401


async def owner_of_a_failed_unit(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    township = await register(core, db, clock, 7402, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 7403, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press_data(f"m.owner_invite.{unit_id}")
    owner = Person(core, OWNER)
    await owner.command("start", cadre.last.text.split("业主邀请码：")[1][:8])
    await owner.text("王老板")
    await inspect_with_one_failure(cadre, deadline="10天后")  # clock 2026-05-06 09:00: due 2026-05-16
    return core, unit_id, cadre, township, owner


def reminders(rows: list[OutboxMessage]) -> list[str]:
    return [row.payload["text"] for row in rows if "【整改提醒】" in row.payload.get("text", "")]


def test_the_stage_is_the_nearest_one_not_yet_passed():
    day = datetime(2026, 5, 16).date()
    assert [stage(day, day - timedelta(days=left)) for left in (10, 8, 7, 5, 3, 2, 1, 0, -1)] == [
        None,
        None,
        7,
        7,
        3,
        3,
        1,
        0,
        None,
    ]


async def test_owners_are_reminded_at_each_stage_once_by_day_only(db, clock, tmp_path):
    await owner_of_a_failed_unit(db, clock, tmp_path)
    texts, knowledge = Texts.load(), shipped_knowledge()
    sent_per_day = []
    for day in range(11):  # 2026-05-06 .. 2026-05-16, the deadline
        clock.set(datetime(2026, 5, 6, 22, 30, tzinfo=SHANGHAI) + timedelta(days=day))  # at night: nothing
        assert await remind_owners(db, clock, texts, knowledge) == 0
        clock.set(datetime(2026, 5, 7, 7, 59, tzinfo=SHANGHAI) + timedelta(days=day))
        assert await remind_owners(db, clock, texts, knowledge) == 0
        clock.set(datetime(2026, 5, 6, 8, 10, tzinfo=SHANGHAI) + timedelta(days=day))
        first = await remind_owners(db, clock, texts, knowledge)
        assert await remind_owners(db, clock, texts, knowledge) == 0  # re-run (or restart after a crash)
        sent_per_day.append(first)
    assert sent_per_day == [0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1]  # 7, 3, 1 days before and on the day
    texts_sent = reminders(await outbox_to(db, OWNER))
    assert len(texts_sent) == 4
    assert "还有7天" in texts_sent[0] and "实际经营项目与执照、许可证核定的范围一致" in texts_sent[0]
    assert "就是今天（2026年5月16日）" in texts_sent[-1]


async def test_a_re_inspection_stops_the_reminders(db, clock, tmp_path):
    _, _, cadre, _, _ = await owner_of_a_failed_unit(db, clock, tmp_path)
    texts, knowledge = Texts.load(), shipped_knowledge()
    clock.set(datetime(2026, 5, 9, 10, 0, tzinfo=SHANGHAI))
    assert await remind_owners(db, clock, texts, knowledge) == 1
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await cadre.press("继续检查")
    assert "上次检查（" in cadre.last.text  # re-inspected from the last report: its failed item first
    await cadre.press("✓ 符合")
    await cadre.press(next(label for label in cadre.buttons() if label.startswith("全部沿用")))
    await cadre.press("完成（已传0张）")
    await cadre.press("跳过")
    await cadre.press("同意此判定")
    await cadre.press("整合提升类（建议）")
    await cadre.press("✅ 提交")
    assert "已提交" in cadre.last.text
    assert "检查结果：规范达标" in (await outbox_to(db, OWNER))[-1].payload["text"]
    for day in range(8):
        clock.set(datetime(2026, 5, 9, 10, 0, tzinfo=SHANGHAI) + timedelta(days=day))
        assert await remind_owners(db, clock, texts, knowledge) == 0


async def test_a_corrected_report_tells_the_owner_again_only_if_something_changed(db, clock, tmp_path):
    _, _, cadre, township, _ = await owner_of_a_failed_unit(db, clock, tmp_path)

    async def return_and_correct(deadline_text: str | None) -> int:
        async with db.transaction() as session:
            report = (await session.scalars(select(Inspection).order_by(Inspection.id.desc()))).first()
        await township.press_data(f"m.review.{report.id}")
        await township.press("退回修改")
        await township.text("请补充现场照片")
        await cadre.press_data(f"m.fix.{report.id}")
        if deadline_text is not None:
            await cadre.press("修改期限")
            await cadre.text(deadline_text)
            await cadre.press("确认")
        before = await last_outbox_id(db)
        await cadre.press("✅ 提交")
        assert "已提交" in cadre.last.text, cadre.last.text
        return len([row for row in await outbox_to(db, OWNER, before) if row.kind == "message"])

    assert await return_and_correct(None) == 0  # same items, same deadline: nothing new to tell
    assert await return_and_correct("20天后") == 1  # a new deadline: told again


class BlockedBy:
    """A transport for which one chat has blocked the bot (Telegram's 403), every other chat receives."""

    def __init__(self, blocked: int) -> None:
        self.blocked, self.delivered = blocked, []

    async def deliver(self, chat_id, kind, payload):
        if chat_id == self.blocked:
            raise PermanentFailure("Forbidden: bot was blocked by the user")
        self.delivered.append((chat_id, kind, payload.get("text", "")))
        return len(self.delivered)


async def test_a_blocked_owner_makes_the_sender_tell_the_cadre(db, clock, tmp_path):
    await owner_of_a_failed_unit(db, clock, tmp_path)
    transport = BlockedBy(OWNER)
    sender = Sender(db, transport, limits=Limits(global_per_second=1000, per_chat_interval=0))
    assert await sender.drain(within=10)
    to_owner = await outbox_to(db, OWNER)
    assert to_owner and {row.status for row in to_owner} == {OutboxStatus.FAILED}
    told = [text for chat, _, text in transport.delivered if chat == 7403 and "未能通知业主" in text]
    assert told == [
        "未能通知业主王老板（“老王小吃店”）：对方已屏蔽或停用十小通，检查结果和整改要求没有送达。请当面或电话告知。"
    ]
    assert await sender.drain(within=2)  # nothing more, nothing twice
    assert len([1 for chat, _, text in transport.delivered if "未能通知业主" in text]) == 1
