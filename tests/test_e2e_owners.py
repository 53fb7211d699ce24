"""Issue 15 end to end through the real Telegram client (aiogram, or python-telegram-bot with
SHIXIAO_TEST_RUNTIME=ptb) against the emulator: a cadre inspects a unit with a failure and invites its owner (QR
image with the t.me link), the owner registers with the code, the next inspection tells the owner the failed item
and the deadline with the 整改告知单 PDF, the reminders fire on a moved clock, the owner reports the fix with a photo and the
cadre re-inspects from the task it receives, starting from the last report (the failed item first, one carried
answer checked again, the rest 沿用上次), and the unit's status and the township's weekly digest (0/1 → 1/1) change
with it; an owner who blocked the bot makes the cadre hear of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from handlers.assembly import shipped_knowledge
from handlers.texts import Texts
from scheduler.digest_jobs import send_weekly_digests
from scheduler.owner_jobs import remind_owners
from storage.clock import SHANGHAI, ManualClock, SystemClock
from storage.inspection_models import Inspection, Unit, UnitStatus
from storage.models import Role
from tests.emulator.records import SentMessage
from tests.inspection_support import add_unit
from tests.telegram_harness import RunningBot, bot_settings, join


@pytest.fixture
async def bot(emulator, db_url, runtime, tmp_path):
    """The bot knows its @username (the owner's QR code holds its t.me start link) and keeps files under tmp."""
    settings = bot_settings(
        emulator, db_url, media_dir=tmp_path / "media", data_dir=tmp_path / "data", bot_username="@shixiao_e2e_bot"
    )
    running = await RunningBot(settings, runtime).start()
    yield running
    await running.stop()


def sent(text: str) -> Callable[[SentMessage], bool]:
    """A new message with the text, never an edit: the ✅ marks on an earlier report's answered prompts may still
    be on their way (the sender paces one chat) and repeat the same step texts."""
    return lambda m: not m.is_edit and text in m.content


async def inspect_with_one_failure(cadre, deadline: str, task=None) -> None:
    """检查上报 → the unit, or 开始复查 on a re-inspection task; one item fails (a unit being put right is
    re-inspected from its last report: that item is asked first and fails again, the rest carried over)."""
    if task is not None:
        await cadre.press("开始复查", message=task)
    else:
        await cadre.press("检查上报")
        await cadre.expect(sent("请选择要检查的单位"))
        await cadre.press("老王小吃店")
    first = await cadre.expect(lambda m: not m.is_edit and ("检查第" in m.content or "仍要开始新的检查吗" in m.content))
    if "仍要开始新的检查吗" in first.text:
        await cadre.press("继续检查")
        first = await cadre.expect(sent("检查第"))
    if "上次检查（" in first.text:  # the unit is being put right: re-inspected from its last report
        assert "检查第2/" in first.text
        await cadre.press("✗ 不符合")
        await cadre.expect(sent("请简要说明"))
        await cadre.send_text("营业执照未悬挂")
        await cadre.expect(sent("沿用上次检查结果"))
        await cadre.press(next(label for label, _ in cadre.last_buttons() if label.startswith("全部沿用")))
    else:
        await cadre.press("✓ 符合")
        await cadre.expect(sent("检查第2/"))
        await cadre.press("✗ 不符合")
        await cadre.expect(sent("请简要说明"))
        await cadre.send_text("营业执照未悬挂")
        await cadre.expect(sent("检查第3/"))
        await cadre.press("余下各项均符合")
        await cadre.expect(sent("燃气"))
        await cadre.press("否")
    await cadre.expect(sent("请拍摄现场照片"))
    await cadre.press("完成（已传0张）")
    await cadre.expect(sent("发送检查地点的位置"))
    await cadre.tap("跳过")
    await cadre.expect(sent("有1项不符合"))
    await cadre.press("同意此判定")
    await cadre.expect(sent("整治分类"))
    await cadre.press("整改规范类（建议）")
    await cadre.expect(sent("整改期限"))
    await cadre.send_text(deadline)
    await cadre.expect(sent("确认吗"))
    await cadre.press("确认")
    await cadre.expect(sent("【检查报告摘要】"))
    await cadre.press("✅ 提交")


async def weekly_digest(bot, official, clock: ManualClock) -> SentMessage:
    """The weekly digest job run as the scheduler runs it; the township official's copy as delivered."""
    official.consume()
    texts, knowledge = Texts.load(), shipped_knowledge()
    assert await send_weekly_digests(bot.app.db, clock, texts, knowledge, bot.settings.data_dir / "charts") >= 1
    return await official.expect(sent("【十小通周报】岩头镇"), timeout=15)


async def reinspect_from_the_last_report(cadre, task: SentMessage) -> None:
    """开始复查 on the task: the item that failed is asked first and now passes; one carried answer is checked again,
    the others kept (沿用上次); the unit is to standard."""
    cadre.consume()
    await cadre.press("开始复查", message=task)
    first = await cadre.expect(lambda m: not m.is_edit and ("检查第" in m.content or "仍要开始新的检查吗" in m.content))
    if "仍要开始新的检查吗" in first.text:  # the last report still waits for the township's review
        await cadre.press("继续检查")
        first = await cadre.expect(sent("检查第"))
    assert "检查第2/" in first.text and "上次检查（" in first.text, first.text
    await cadre.press("✓ 符合")
    carried = await cadre.expect(sent("沿用上次检查结果"))
    labels = [label for label, _ in cadre.last_buttons()]
    assert labels[0].startswith("全部沿用，继续（") and len(labels) > 2
    await cadre.press(labels[1], message=carried)  # check one of them again
    await cadre.expect(sent("请重新检查此项"))
    await cadre.press("✓ 符合")
    await cadre.expect(sent("沿用上次检查结果"))
    keep = next(label for label, _ in cadre.last_buttons() if label.startswith("全部沿用"))
    assert keep == f"全部沿用，继续（{len(labels) - 2}项）"
    await cadre.press(keep)
    await cadre.expect(sent("请拍摄现场照片"))
    await cadre.press("完成（已传0张）")
    await cadre.expect(sent("发送检查地点的位置"))
    await cadre.tap("跳过")
    await cadre.expect(sent("各项检查均符合"))
    await cadre.press("同意此判定")
    await cadre.expect(sent("整治分类"))
    await cadre.press("整合提升类（建议）")
    summary = await cadre.expect(sent("【检查报告摘要】"))
    assert f"检查结果：{len(labels) - 2}项" in summary.text and "沿用上次（" in summary.text
    await cadre.press("✅ 提交")


async def test_the_owner_is_invited_told_and_reminded(emulator, bot, tmp_path):
    unit_id = await add_unit(bot.app.db, SystemClock(), "芙蓉村", "老王小吃店")
    official = await join(emulator, bot, 3101, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await join(emulator, bot, 3102, Role.CADRE, "芙蓉村", "李建国")
    await inspect_with_one_failure(cadre, "10天后")
    submitted = await cadre.expect("已提交")
    assert "业主尚未登记" in submitted.text
    cadre.consume()
    await cadre.press("邀请业主", message=submitted)
    qr = await cadre.expect(lambda m: m.kind == "photo")
    stored = emulator.files.get(qr.file_id)
    assert stored is not None and stored.data[:8] == b"\x89PNG\r\n\x1a\n"
    invite = await cadre.expect("业主邀请码：")
    assert "https://t.me/shixiao_e2e_bot?start=" in invite.text
    code = invite.text.split("业主邀请码：")[1][:8]

    owner = emulator.user(3103, "王老板")
    await owner.send_command("/start", code)
    await owner.expect("真实姓名")
    await owner.send_text("王老板")
    await owner.expect("登记完成")
    await owner.press("我的单位")
    await owner.expect("【单位档案】老王小吃店")

    # The next inspection reaches the owner: the failed item, the deadline, the sheet.
    cadre.consume()
    await inspect_with_one_failure(cadre, "12天后")
    await cadre.expect("已将检查结果和整改要求通知业主（1人）")
    notice = await owner.expect("【检查结果告知】")
    deadline = (datetime.now(SHANGHAI) + timedelta(days=12)).date()
    assert "实际经营项目与执照、许可证核定的范围一致" in notice.text and "怎么整改：" in notice.text
    assert f"请在{deadline.year}年{deadline.month}月{deadline.day}日前整改完毕" in notice.text
    sheet = await owner.expect(lambda m: m.kind == "document")
    document = emulator.files.get(sheet.file_id)
    assert document.data.startswith(b"%PDF") and b"/Type3" in document.data
    assert document.file_name.startswith("整改告知单-JC")

    # Seven days before the deadline, at 09:00 Beijing time, the job (as the scheduler runs it) reminds the owner.
    texts, knowledge = Texts.load(), shipped_knowledge()
    moved = ManualClock(
        datetime.combine(deadline - timedelta(days=7), datetime.min.time(), SHANGHAI) + timedelta(hours=9)
    )
    assert await remind_owners(bot.app.db, moved, texts, knowledge) == 1
    assert await remind_owners(bot.app.db, moved, texts, knowledge) == 0
    reminder = await owner.expect("【整改提醒】")
    assert "还有7天" in reminder.text
    moved.advance(timedelta(hours=13))  # 22:00: nothing at night, even when the next stage is near
    assert await remind_owners(bot.app.db, moved, texts, knowledge) == 0

    # The owner reports the fix with a photo; the cadre gets the re-inspection task with it.
    owner.consume()
    await owner.press("查看我的单位", message=reminder)  # the reminder's button opens the card
    card = await owner.expect("【单位档案】老王小吃店")
    await owner.press("报告已整改", message=card)
    await owner.expect("请选择已经整改好的项目")
    await owner.press(owner.last_buttons()[0][0])
    await owner.expect("每项至少1张")
    await owner.send_photo(b"\x89PNG fixed shop photo", caption=None)
    await owner.expect("已收到1张")
    await owner.press("完成（已传1张）")
    await owner.expect("补充一句说明")
    await owner.send_text("营业执照已挂出")
    await owner.expect("请选择已经整改好的项目")
    cadre.consume()
    await owner.press("提交（已报1项）")
    await owner.expect("已通知村干部（1人）上门复查")
    task = await cadre.expect("【复查任务】")
    assert "营业执照已挂出" in task.text and ("开始复查", f"m.inspect.{unit_id}") in cadre.last_buttons()
    await cadre.expect(lambda m: m.kind == "photo" and "整改照片" in (m.caption or ""))

    # This week's digest, as the scheduler's job sends it to the township: the unit is being put right.
    digest = await weekly_digest(bot, official, ManualClock(datetime.now(SHANGHAI)))
    assert "登记单位 1 家：规范达标 0、整改中 1、未检查 0" in digest.text
    assert "达标率 0.0%（0/1）" in digest.text and "检查上报 2 次" in digest.text

    # The cadre re-inspects from the task: the failed item first, the rest carried over from the last report.
    await reinspect_from_the_last_report(cadre, task)
    submitted = await cadre.expect("已提交")
    assert "规范达标" in submitted.text
    async with bot.app.db.transaction() as session:
        unit = await session.get(Unit, unit_id)
        assert (unit.status, unit.rectify_by) == (UnitStatus.COMPLIANT, None)
        report = await session.scalar(select(Inspection).order_by(Inspection.id.desc()))
        assert report.answers["common.scope"] == "pass" and "common.scope" not in report.carried_over
        assert len(report.carried_over) == len(report.answers) - 2  # the failed item and the one checked again
    assert await remind_owners(bot.app.db, moved, texts, knowledge) == 0  # nothing left to remind of
    # Next week's digest: the unit is to standard, the township's rate moved from 0/1 to 1/1.
    digest = await weekly_digest(bot, official, ManualClock(datetime.now(SHANGHAI) + timedelta(days=7)))
    assert "登记单位 1 家：规范达标 1、整改中 0、未检查 0" in digest.text
    assert "达标率 100.0%（1/1）" in digest.text

    # The owner blocks the bot: the next notice cannot be delivered, and the cadre hears of it once.
    owner.blocked = True
    cadre.consume()
    await inspect_with_one_failure(cadre, "15天后")  # to standard now: inspected from scratch
    told = await cadre.expect("未能通知业主王老板", timeout=15)
    assert "老王小吃店" in told.text
