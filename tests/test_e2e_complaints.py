"""End to end through the Telegram emulator: a complaint filed, routed, handled, closed, reopened, followed,
escalated when overdue (injected clock), and who sees the complainant's identity."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.texts import Texts
from scheduler.complaint_jobs import escalate_overdue_complaints
from storage.clock import ManualClock, SystemClock
from storage.models import Role
from tests.telegram_harness import join

NAME, PHONE = "王小明", "13800001234"


async def resident(emulator, user_id: int, name: str = "居民"):
    user = emulator.user(user_id, name)
    await user.send_command("/start")
    await user.expect("请选择要办理的事项")
    return user


async def start_filing(user, category: str = "无证经营", township: str = "岩头镇", village: str = "芙蓉村"):
    await user.press("投诉举报")
    await user.expect("请选择问题类别")
    await user.press(category)
    await user.expect("问题发生在哪个乡镇")
    await user.press(township)
    await user.expect("请选择所在的村")
    await user.press(village)
    await user.expect("被投诉的是哪家店")


async def finish_anonymous(user, unit: str, description: str) -> str:
    await user.send_text(unit)
    await user.expect("请描述问题")
    await user.send_text(description)
    await user.expect("如有现场照片")
    await user.press("完成")
    await user.expect("请选择提交方式")
    await user.press("匿名提交")
    await user.expect("确认提交吗")
    await user.press("确认提交")
    filed = await user.expect("投诉已提交")
    return re.search(r"TS-\d{4}-\d{6}", filed.content)[0]


async def test_file_route_accept_close_reopen(emulator, bot):
    official = await join(emulator, bot, 3001, Role.TOWNSHIP, "岩头镇", "赵乡长")
    county = await join(emulator, bot, 3002, Role.COUNTY, None, "孙主任")
    person = await resident(emulator, 3003, "王")
    await person.press("投诉举报")
    await person.expect("请选择问题类别")
    await person.press("卫生条件差")
    await person.expect("问题发生在哪个乡镇")
    await person.press("📍 发送位置")
    await person.expect("发送我的位置")
    await person.tap("📍 发送我的位置", latitude=39.9, longitude=116.4)
    await person.expect("不在永嘉县范围内")
    await person.tap("📍 发送我的位置", latitude=28.15, longitude=120.69)
    await person.expect("已记下您发送的位置")
    await person.press("岩头镇")
    await person.expect("请选择所在的村")
    await person.press("芙蓉村")
    await person.expect("被投诉的是哪家店")
    await person.send_text("芙蓉饭店")
    await person.expect("请描述问题")
    await person.send_text("脏")
    await person.expect("至少需要5个字")
    await person.send_text("后厨苍蝇很多，餐具不消毒")
    await person.expect("如有现场照片")
    await person.send_photo()
    await person.expect("已收到第1张照片")
    await person.press("完成")
    await person.expect("请选择提交方式")
    await person.press("实名提交")
    await person.expect("真实姓名")
    await person.send_text(NAME)
    await person.expect("手机号")
    await person.send_contact(PHONE)
    summary = await person.expect("确认提交吗")
    assert "岩头镇芙蓉村（附定位）" in summary.content and f"实名：{NAME}，{PHONE}" in summary.content
    await person.press("确认提交")
    number = re.search(r"TS-\d{4}-\d{6}", (await person.expect("投诉已提交")).content)[0]

    notice = await official.expect("【新投诉】")
    assert number in notice.content and "实名（姓名和电话仅县整规办可见）" in notice.content
    await official.press("受理", message=notice)
    await official.expect("已受理投诉")
    assert "状态：已受理" in (await person.expect("【投诉进展】")).content

    await official.send_command("/track", number)
    await official.expect("办理记录")
    await official.press("更新办理状态")
    await official.expect("请选择新的状态")
    await official.press("已办结")
    await official.expect("请简要说明处理结果")
    await official.send_text("已责令停业整顿并消毒")
    await official.expect("已更新为“已办结”")
    await person.expect("已责令停业整顿并消毒")
    await person.expect("问题解决了吗")
    await person.press("没有解决")
    await person.expect("还有什么问题")
    await person.send_text("店里还是很脏，没有消毒")
    await person.expect("已重新打开投诉")
    assert number in (await official.expect("【重新办理】")).content

    await county.send_command("/track", number)
    shown = (await county.expect("办理记录")).content
    assert NAME in shown and PHONE in shown and "投诉人反馈问题未解决" in shown
    everything_to_official = "\n".join(m.content for m in official.messages)
    assert NAME not in everything_to_official and PHONE not in everything_to_official


async def test_a_similar_complaint_and_overdue_escalation_with_an_injected_clock(emulator, bot):
    official = await join(emulator, bot, 3101, Role.TOWNSHIP, "桥下镇", "钱乡长")
    county = await join(emulator, bot, 3102, Role.COUNTY, None, "孙主任")
    first = await resident(emulator, 3103)
    await start_filing(first, "消防隐患", "桥下镇", "光华村")
    number = await finish_anonymous(first, "光华网吧", "安全出口被杂物堵死了")
    await official.expect("【新投诉】")

    second = await resident(emulator, 3104)
    await start_filing(second, "消防隐患", "桥下镇", "光华村")
    await second.send_text("光华 网吧")
    offer = await second.expect("已有类似的投诉正在办理")
    assert number not in offer.content
    await second.press("不再重复提交")
    await second.expect("这次没有提交")

    later = ManualClock(SystemClock().now() + timedelta(days=30))
    assert await escalate_overdue_complaints(bot.app.db, later, Texts.load()) == 1
    assert await escalate_overdue_complaints(bot.app.db, later, Texts.load()) == 0
    alert = await county.expect("【投诉超期】", timeout=10)
    assert number in alert.content
    await official.expect("【投诉超期】", timeout=10)
    await first.expect("已上报县整规办督办", timeout=10)

    await official.send_command("/track", number)
    await official.expect("办理记录")
    await official.press("受理")
    await official.expect("已受理投诉")
    assert not any(number in m.content for m in second.messages)  # nothing of someone else's complaint


async def test_forged_buttons_and_foreign_numbers_change_nothing(emulator, bot):
    await join(emulator, bot, 3201, Role.TOWNSHIP, "岩头镇", "赵乡长")
    person = await resident(emulator, 3202)
    await start_filing(person)
    number = await finish_anonymous(person, "老王小卖部", "没有营业执照一直在营业")
    stranger = await resident(emulator, 3203)
    await stranger.send_command("/track", number)
    await stranger.expect("没有找到编号为")
    await stranger.press_data("m.complaint_accept.1")
    await stranger.expect("无权办理")
    await stranger.press_data("m.complaint_feedback.1:no")
    await stranger.expect("只有投诉人本人")
    await person.send_command("/track", number)
    assert "状态：已提交" in (await person.expect("办理记录")).content
    texts = [m.content for m in emulator.sent]
    assert not any("Traceback" in t or "Error" in t for t in texts)
