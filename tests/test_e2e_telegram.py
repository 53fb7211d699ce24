"""The contract suite: each of shixiao's Telegram runtimes (aiogram, python-telegram-bot) runs over HTTP against
the emulator; every test runs on both, with the same conversation core and the same outbox sender. Registration,
buttons, bad input, redeliveries, edits, 429s, restarts and a kill -9: what both runtimes must do alike. The other
end-to-end tests (flows) run on aiogram only; see the `runtime` fixture in tests/conftest.py."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from storage.db import Database
from storage.models import Role
from tests.chat_driver import make_invite
from tests.telegram_harness import BotProcess, RunningBot, bot_settings, join
from tests.waiting import wait_until

pytestmark = pytest.mark.contract


async def invite_code(bot: RunningBot, role: Role, area: str | None) -> str:
    from storage.clock import SystemClock

    return await make_invite(bot.app.db, SystemClock(), role, area)


def menu_labels(bot: RunningBot, role: Role) -> list[str]:
    return [action.label for action in bot.app.core.parts.menus.menu_for(role)]


async def test_registration_with_an_invite_and_role_menus(emulator, bot):
    cadre = emulator.user(2001, "李")
    await cadre.send_command("/start", await invite_code(bot, Role.CADRE, "芙蓉村"))
    first = await cadre.expect("邀请码有效")
    assert "村干部（岩头镇芙蓉村）" in first.content
    await cadre.send_text("李建国")
    menu = await cadre.expect("登记完成")
    # The menus grow with features: compare with what menus.yaml gives each role.
    assert [label for label, _ in menu.buttons] == menu_labels(bot, Role.CADRE)
    assert all(len(data.encode()) <= 64 for _, data in menu.buttons)

    county = await join(emulator, bot, 2002, Role.COUNTY, None, "周主任")
    assert "生成邀请码" in [label for label, _ in county.last_message.buttons]

    resident = emulator.user(2003, "王")
    await resident.send_command("/start")
    welcome = await resident.expect("居民")
    assert [label for label, _ in welcome.buttons] == menu_labels(bot, Role.RESIDENT)


async def test_pressing_a_button_marks_the_choice_and_answers_the_query(emulator, bot):
    county = await join(emulator, bot, 2010, Role.COUNTY, None, "周主任")
    await county.press("生成邀请码")
    await county.expect_answer()
    await county.expect("要为哪一类人员")  # the answer first: the mark on the pressed message follows it
    edited = await county.expect(lambda m: m.is_edit)
    assert "✅ 生成邀请码" in edited.content and not edited.buttons
    await county.press("村干部")
    await county.expect("请选择乡镇")
    await county.press("岩头镇")
    await county.expect("请选择村")
    await county.press("芙蓉村")
    await county.expect("确认生成吗")
    await county.press("确认")
    created = await county.expect("邀请码：")
    code = re.search(r"邀请码：([A-Z0-9]{8})", created.content).group(1)
    newcomer = emulator.user(2011, "新人")
    await newcomer.send_text(code)
    assert "村干部（岩头镇芙蓉村）" in (await newcomer.expect("邀请码有效")).content


async def test_a_cadre_is_refused_an_official_action(emulator, bot):
    cadre = await join(emulator, bot, 2020, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press_data("m.invite")
    refusal = await cadre.expect("无权办理")
    assert "村干部" in refusal.content


async def test_cancel_mid_flow(emulator, bot):
    county = await join(emulator, bot, 2030, Role.COUNTY, None, "周主任")
    await county.press("生成邀请码")
    await county.expect("要为哪一类人员")
    await county.send_command("/cancel")
    cancelled = await county.expect("已取消「生成邀请码」")
    assert "生成邀请码" in [label for label, _ in cancelled.buttons]


async def test_bad_input_gets_chinese_replies_and_changes_nothing(emulator, bot):
    stranger = emulator.user(2040, "陌生人")
    await stranger.send_text("你好")
    assert "请发送 /start" in (await stranger.expect("十小通")).content
    await stranger.send_sticker()
    await stranger.expect("请发送 /start")
    await stranger.send_command("/start", "BADCODE9")
    await stranger.expect("没有找到这个邀请码")

    county = await join(emulator, bot, 2041, Role.COUNTY, None, "周主任")
    await county.send_command("/nonsense")
    await county.expect("无法识别的命令")
    await county.press("修改姓名")
    await county.expect("真实姓名")
    await county.send_photo()
    await county.expect("需要输入文字")
    await county.send_sticker()
    await county.expect("需要输入文字")
    await county.press_data("s999.evil")
    await county.expect("按钮已过期")
    await county.press_data("\u0000garbage")
    await county.expect("按钮无效")
    await county.send_text("周新名")
    await county.expect("姓名已更新为：周新名")
    texts = [m.content for m in emulator.sent]
    assert not any("Traceback" in t or "Error" in t for t in texts)


async def test_restart_mid_flow_continues_the_same_step(emulator, db_url, runtime):
    first = await RunningBot(bot_settings(emulator, db_url), runtime).start()
    county = await join(emulator, first, 2050, Role.COUNTY, None, "周主任")
    await county.press("生成邀请码")
    await county.expect("要为哪一类人员")
    await county.press("乡镇干部")
    await county.expect("请选择乡镇")
    await first.stop()

    second = await RunningBot(bot_settings(emulator, db_url), runtime).start()
    try:
        await county.press("桥下镇")  # a button sent by the first process
        await county.expect("确认生成吗")
        await county.press("确认")
        assert "乡镇干部（桥下镇）" in (await county.expect("邀请码：")).content
    finally:
        await second.stop()


async def test_an_edited_message_is_not_applied_again(emulator, bot):
    resident = emulator.user(2055, "王")
    await resident.send_command("/start")
    await resident.expect("欢迎")
    update_id = await resident.send_text("你好")
    await resident.expect(lambda m: not m.is_edit and "欢迎" not in m.content)
    message_id = emulator.queue.log[update_id]["message"]["message_id"]
    await resident.edit_text(message_id, "改过的内容")
    await resident.expect("修改已发送的消息不会被重新处理")


async def test_a_redelivered_update_is_answered_once(emulator, bot):
    resident = emulator.user(2060, "王")
    update_id = await resident.send_command("/start")
    await resident.expect("欢迎")
    await emulator.settle()
    before = len(resident.messages)
    emulator.redeliver(update_id)
    await resident.expect_silence(1.0)
    assert len(resident.messages) == before


async def test_429_retry_after_is_honoured_and_nothing_is_sent_twice(emulator, bot):
    emulator.faults.add(method="sendMessage", kind="429", retry_after=1, count=1)
    resident = emulator.user(2070, "王")
    started = time.monotonic()
    await resident.send_command("/start")
    await resident.expect("欢迎", timeout=10)
    assert time.monotonic() - started >= 0.9
    await emulator.settle()
    assert len([m for m in resident.messages if not m.is_edit]) == 1


@pytest.mark.slow
async def test_polling_survives_failed_get_updates(emulator, bot):
    faults = [
        emulator.faults.add(method="getUpdates", kind=kind, retry_after=1, count=1)
        for kind in ("5xx", "429", "garbage", "409")
    ]
    await wait_until(lambda: all(fault.exhausted for fault in faults), timeout=20)
    resident = emulator.user(2090, "王")
    await resident.send_command("/start")
    await resident.expect("欢迎", timeout=10)


@pytest.mark.slow
async def test_kill_9_mid_update_and_restart(emulator, tmp_path, runtime):
    """An update is confirmed to Telegram only after it was handled and its press answered: killed before that,
    the bot gets it again after the restart, recognises it as handled, and the flow goes on as if nothing
    happened."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'killed.db'}"
    process = BotProcess(emulator, database_url, tmp_path, runtime).start()
    try:
        db = Database(database_url)
        await db.upgrade()
        from storage.clock import SystemClock

        code = await make_invite(db, SystemClock(), Role.COUNTY, None)
        await db.dispose()
        county = emulator.user(2080, "周")
        await county.send_command("/start", code)
        await county.expect("真实姓名", timeout=60)  # a process start; slow on a busy machine
        await county.send_text("周主任")
        await county.expect("登记完成")
        await county.press("生成邀请码")
        await county.expect("要为哪一类人员")
        # Hold the answer to the next press: the bot is then stuck between handling that update and confirming it.
        emulator.faults.add(method="answerCallbackQuery", kind="timeout", hold=30, count=1)
        await county.press("村干部")
        await wait_until(lambda: any(c.method == "answerCallbackQuery" and c.fault for c in emulator.calls))
        await asyncio.sleep(0.3)  # room for a polling loop that would confirm early to do so
        assert emulator.queue.pending_count() == 1, "the update being handled was already confirmed"
        process.kill()

        process = BotProcess(emulator, database_url, tmp_path, runtime).start()
        await county.expect("请选择乡镇", timeout=60)
        # After a restart (slow on a busy machine): the unconfirmed press is fetched again, and confirmed.
        await wait_until(lambda: emulator.queue.pending_count() == 0, timeout=60)
        await county.press("枫林镇")
        await county.expect("请选择村")
        await county.press("江枫村")
        await county.expect("确认生成吗")
        await county.press("确认")
        assert "村干部（枫林镇江枫村）" in (await county.expect("邀请码：")).content
        assert len([m for m in county.messages if "请选择乡镇" in m.content and not m.is_edit]) == 1
        await asyncio.sleep(0.2)
        assert "Traceback" not in process.log()
    finally:
        process.terminate()
