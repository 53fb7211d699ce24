"""End to end through the Telegram emulator: its per-chat limit lets a burst through and no more; a cadre who taps
every button three times files the same report with the same messages as a calm one; and one resident's flood of
60 messages neither floods the county office nor keeps an official waiting for the answer to /menu."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from storage.clock import SystemClock
from storage.inspection_models import Inspection, Unit
from storage.models import OutboxMessage, Role
from tests.emulator import RateLimiter
from tests.inspection_support import add_unit
from tests.telegram_harness import RunningBot, bot_settings, join
from tests.waiting import wait_until

REPEATED = "已收到，不必重复点击。请看下方最新消息。"


def test_a_chat_may_burst_then_is_held_to_its_rate(monkeypatch) -> None:
    """Telegram's per-chat limit as the emulator models it: three messages at once pass, a fourth is refused,
    then one a second passes, and a steady two a second does not."""
    now = [100.0]
    monkeypatch.setattr("tests.emulator.faults.time.monotonic", lambda: now[0])
    limiter = RateLimiter(global_per_sec=30, per_chat_per_sec=1)
    assert [limiter.check(7) for _ in range(3)] == [None, None, None]
    assert limiter.check(7) == 1
    assert limiter.check(8) is None  # another chat has a bucket of its own
    now[0] += 1.0
    assert limiter.check(7) is None and limiter.check(7) == 1
    refused = 0
    for _ in range(10):  # two a second for five seconds
        now[0] += 0.5
        refused += limiter.check(7) is not None
    assert refused == 5
    for _ in range(5):  # one a second is always fine
        now[0] += 1.0
        assert limiter.check(7) is None


async def inspect(cadre, unit: str, taps: int) -> tuple[int, int]:
    """检查上报 of a small restaurant through its checklist (23 items today; item 2 fails, with a note), every
    inline button tapped `taps` times at once; returns how many buttons were pressed and how many items asked."""
    pressed = 0

    async def press(label: str, expect) -> object:
        nonlocal pressed
        pressed += 1
        await cadre.press(label, times=taps)
        return await cadre.expect(expect, timeout=10)

    await press("检查上报", "请选择要检查的单位")
    prompt = await press(unit, "检查第1/")
    items = 0
    while "检查第" in prompt.content:
        items += 1
        if items == 2:
            await press("✗ 不符合", "请简要说明")
            await cadre.send_text("营业执照未悬挂在显眼处")
            prompt = await cadre.expect(lambda m: not m.is_edit, timeout=10)
            continue
        labels = [label for label, _ in prompt.buttons]
        prompt = await press("✓ 符合" if "✓ 符合" in labels else "否", lambda m: not m.is_edit)  # 否: a screening item
    assert items >= 15 and "请拍摄现场照片" in prompt.content
    await press("完成（已传0张）", "发送检查地点的位置")
    await cadre.tap("跳过")  # a reply keyboard: gone after one tap
    await cadre.expect("建议判定为", timeout=10)
    await press("同意此判定", "整治分类")
    await press("整改规范类（建议）", "整改期限")
    await cadre.send_text("7天后")
    await cadre.expect("确认吗", timeout=10)
    await press("确认", "【检查报告摘要】")
    await press("✅ 提交", "已提交")
    return pressed, items


@pytest.mark.slow
async def test_a_triple_tapper_files_the_calm_users_report_with_no_extra_message(emulator, bot):
    for unit in ("老王小吃店", "老李面馆"):
        await add_unit(bot.app.db, SystemClock(), "芙蓉村", unit)
    calm = await join(emulator, bot, 3101, Role.CADRE, "芙蓉村", "李建国")
    hurried = await join(emulator, bot, 3102, Role.CADRE, "芙蓉村", "王建军")
    calm_before, hurried_before = len(calm.messages), len(hurried.messages)
    _, asked = await inspect(calm, "老王小吃店", taps=1)
    pressed, asked_again = await inspect(hurried, "老李面馆", taps=3)
    assert asked_again == asked
    await emulator.settle(quiet=0.5, timeout=30)

    assert len(hurried.messages) - hurried_before == len(calm.messages) - calm_before  # sends and edits alike
    toasts = [answer.text for answer in emulator.callback_answers if answer.user_id == hurried.user_id]
    assert toasts.count(REPEATED) == 2 * pressed and len(toasts) == 3 * pressed  # every tap answered
    assert not any(answer.text for answer in emulator.callback_answers if answer.user_id == calm.user_id)
    async with bot.app.db.transaction() as session:
        rows = (await session.execute(select(Unit.name, Inspection).join(Unit, Unit.id == Inspection.unit_id))).all()
    reports = {
        name: (inspection.answers, inspection.notes, inspection.compliant, inspection.unit_class, inspection.rectify_by)
        for name, inspection in rows
    }
    assert len(rows) == 2 and reports["老王小吃店"] == reports["老李面馆"]


@pytest.mark.slow
async def test_sixty_messages_from_one_resident_do_not_jam_the_county_office(emulator, db_url):
    """Telegram's limits on (the emulator answers 429 beyond them) and the production send and inbound limits."""
    emulator.enforce_limits = True
    settings = bot_settings(
        emulator,
        db_url,
        send_per_chat_interval=1.0,
        send_global_per_second=30.0,
        inbound_burst=20,
        inbound_per_minute=30.0,
    )
    running = await RunningBot(settings, "aiogram").start()
    try:
        official = await join(emulator, running, 3201, Role.COUNTY, None, "周主任")
        resident = emulator.user(3202, "王")
        await resident.send_command("/start")
        await resident.expect("请选择要办理的事项")
        await asyncio.sleep(2.5)  # the official's chat: its allowance full again after joining
        for n in range(60):
            await resident.send_text(f"村里的快递驿站需要办理什么手续？第{n}遍")
        await official.expect("【待答复问题】", timeout=10)  # the first question, at once
        started = time.monotonic()
        await official.send_command("/menu")
        await official.expect("请选择要办理的事项", timeout=10)
        assert time.monotonic() - started < 2.0
        await wait_until(lambda: emulator.queue.pending_count() == 0)  # every update handled and confirmed
        async with running.app.db.transaction() as session:
            rows = list(await session.scalars(select(OutboxMessage)))
        to_office = [row for row in rows if row.chat_id == official.user_id and "待答复问题" in row.payload["text"]]
        slow_down = [row for row in rows if row.chat_id == resident.user_id and "太快" in row.payload["text"]]
        assert len(to_office) == 1 and len(slow_down) == 1
        assert emulator.limit_violations == 0
    finally:
        await running.stop()
