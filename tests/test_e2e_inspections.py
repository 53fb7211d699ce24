"""End to end through the Telegram emulator: a full inspection with a photo and a location, a double submit,
bad dates, and the township's return-and-correct loop."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.clock import SystemClock
from storage.inspection_models import Inspection, InspectionPhoto
from storage.models import Role
from tests.inspection_support import add_unit
from tests.telegram_harness import join
from tests.waiting import wait_until


async def count(bot, model) -> int:
    async with bot.app.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def report_until_summary(cadre) -> None:
    await cadre.press("检查上报")
    await cadre.expect("请选择要检查的单位")
    await cadre.press("老王小吃店")
    await cadre.expect("检查第1/")
    await cadre.press("✓ 符合")
    await cadre.expect("检查第2/")
    await cadre.press("✗ 不符合")
    await cadre.expect("请简要说明")
    await cadre.send_text("未亮证亮照")
    await cadre.expect("检查第3/")
    await cadre.press("余下各项均符合")
    await cadre.expect("燃气")
    await cadre.press("否")
    await cadre.expect("请拍摄现场照片")
    await cadre.send_photo(b"\x89PNG fake photo bytes", caption=None)
    await cadre.expect("第1张照片已保存")
    await cadre.press("完成（已传1张）")
    await cadre.expect("发送检查地点的位置")
    await cadre.tap("📍 发送我的位置", latitude=28.15, longitude=120.69)
    await cadre.expect("有1项不符合")
    await cadre.press("同意此判定")
    await cadre.expect("整治分类")
    await cadre.press("整改规范类（建议）")
    await cadre.expect("整改期限")
    await cadre.send_text("上个月")
    await cadre.expect("没有看懂这个日期")
    await cadre.send_text("2020-01-01")
    await cadre.expect("不能早于或等于今天")
    await cadre.send_text("7天后")
    await cadre.expect("确认吗")
    await cadre.press("确认")
    await cadre.expect("【检查报告摘要】")


async def test_full_inspection_double_submit_and_return_and_correct(emulator, bot):
    await add_unit(bot.app.db, SystemClock(), "芙蓉村", "老王小吃店")
    official = await join(emulator, bot, 3001, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await join(emulator, bot, 3002, Role.CADRE, "芙蓉村", "李建国")
    await report_until_summary(cadre)
    summary = cadre.last_message
    await cadre.press("✅ 提交", message=summary, times=2)  # a double tap on the same button
    await cadre.expect("已提交")

    def toasts() -> list[str | None]:
        return [answer.text for answer in emulator.callback_answers if answer.user_id == cadre.user_id]

    await wait_until(lambda: "已收到，不必重复点击。请看下方最新消息。" in toasts())  # the second tap: a toast
    assert toasts().count(None) == len(toasts()) - 1
    assert await count(bot, Inspection) == 1
    assert await count(bot, InspectionPhoto) == 1
    async with bot.app.db.transaction() as session:
        inspection = (await session.scalars(select(Inspection))).one()
    assert (inspection.latitude, inspection.longitude) == (28.15, 120.69)

    notice = await official.expect("新检查报告待审核")
    await official.press("立即审核", message=notice)
    await official.expect("请审核")
    await official.press("退回修改")
    await official.expect("退回理由")
    await official.send_text("照片看不清，请补拍")
    await official.expect("已退回")

    returned = await cadre.expect("被退回修改")
    assert "照片看不清，请补拍" in returned.content
    await cadre.press("修改并重新提交", message=returned)
    await cadre.expect("这是退回后的修改稿")
    await cadre.press("补充照片")
    await cadre.expect("请拍摄现场照片")
    await cadre.send_photo(b"\x89PNG second photo")
    await cadre.expect("第2张照片已保存")
    await cadre.press("完成（已传2张）")
    await cadre.expect("照片：2张")
    await cadre.press("✅ 提交")
    await cadre.expect("-2 已提交")
    async with bot.app.db.transaction() as session:
        versions = list(await session.scalars(select(Inspection).order_by(Inspection.id)))
    assert [(v.version, v.status) for v in versions] == [(1, "superseded"), (2, "submitted")]
    assert await count(bot, InspectionPhoto) == 3  # both versions keep their photos


async def test_a_cadre_is_refused_a_unit_outside_their_village(emulator, bot):
    other = await add_unit(bot.app.db, SystemClock(), "小旦岙村", "小旦岙网吧", "small_internet_cafe")
    cadre = await join(emulator, bot, 3003, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press_data(f"m.inspect.{other}")
    await cadre.expect("不属于您负责的村")
    await cadre.press("检查上报")
    await cadre.expect("请输入要检查的单位名称")
    await cadre.send_text("小旦岙网吧")
    await cadre.expect("登记在桥下镇小旦岙村，不属于您负责的村")
    assert await count(bot, Inspection) == 0
