"""The class must fit the result: 规范达标 is never 整改规范类, and 规范达标 with 关停取缔类 needs a reason that the
township's review screen shows flagged."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import inspections
from storage.inspection_models import Inspection
from storage.models import Role
from storage.users import get_by_channel_id
from tests.chat_driver import Person, register
from tests.inspection_support import add_unit, report_up_to_the_class
from tests.test_inspections import outbox_texts

DEMOLITION = "位于违章建筑拆除范围，年内拆除"


async def start_all_pass(cadre: Person, unit: str = "老王小吃店") -> None:
    """Every item 符合, to the class step: the result is 规范达标."""
    await cadre.press("检查上报")
    await cadre.press(unit)
    await cadre.press("✓ 符合")
    await cadre.press("余下各项均符合")
    while "请拍摄现场照片" not in cadre.last.text:
        await cadre.press("否" if "否" in cadre.buttons() else "余下各项均符合")
    await cadre.press("完成（已传0张）")
    await cadre.press("跳过")
    assert "各项检查均符合" in cadre.last.text
    await cadre.press("同意此判定")


async def stored(db) -> list[Inspection]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Inspection).order_by(Inspection.id)))


async def test_compliant_unit_is_not_offered_rectify_and_shutdown_needs_a_reason_the_township_sees(
    core, db, clock, tmp_path
):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 641, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 642, Role.CADRE, "芙蓉村", "李建国")
    await start_all_pass(cadre)
    assert cadre.buttons() == ["整合提升类（建议）", "关停取缔类", "修改判定"]
    assert "不能列为整改规范类" in cadre.last.text
    assert "请点击下方按钮选择" in (await cadre.text("整改规范类"))[0].text  # typing it does not get round it

    await cadre.press("关停取缔类")
    assert "请说明理由" in cadre.last.text and cadre.buttons() == ["重新选择分类"]
    await cadre.press("重新选择分类")
    assert cadre.buttons() == ["整合提升类（建议）", "关停取缔类", "修改判定"]
    await cadre.press("关停取缔类")
    assert "至少" in (await cadre.text("拆"))[0].text  # a reason, not a shrug
    await cadre.text(DEMOLITION)
    assert f"分类：关停取缔类（判定为规范达标，关停取缔理由：{DEMOLITION}）" in cadre.last.text
    assert "整改期限" not in cadre.last.text
    await cadre.press("✅ 提交")
    assert "已提交" in cadre.last.text

    [report] = await stored(db)
    assert (report.compliant, report.unit_class, report.class_reason) == (True, "shutdown", DEMOLITION)
    assert "⚠️ 判定为规范达标，却列为关停取缔类，请重点核实" in (await outbox_texts(db, 641))[-1]
    await official.press("审核检查报告")
    await official.press(official.buttons()[0])
    assert "⚠️ 判定与分类不一致：规范达标，却列为关停取缔类" in official.last.text
    assert f"检查人说明的理由：{DEMOLITION}" in official.last.text

    from openpyxl import load_workbook
    from rich.progress import Progress

    from bot.xlsx_exports import write_inspections

    await write_inspections(db, tmp_path / "i.xlsx", Progress(disable=True), None, None, None, None, clock.tz)
    header, row = load_workbook(tmp_path / "i.xlsx")["检查报告"].iter_rows(values_only=True)
    assert dict(zip(header, row, strict=True))["分类理由"] == DEMOLITION


@pytest.mark.slow
async def test_changing_the_result_asks_again_for_a_class_that_no_longer_fits(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 643, Role.CADRE, "芙蓉村", "李建国")
    await report_up_to_the_class(cadre)
    assert cadre.buttons() == ["整合提升类", "整改规范类（建议）", "关停取缔类"]  # 不达标: every class
    await cadre.press("整改规范类（建议）")
    await cadre.text("7天后")
    await cadre.press("确认")

    await cadre.press("修改判定")
    await cadre.press("改判")
    await cadre.text("营业执照已当场补挂，问题已整改")
    # 规范达标 now, and 整改规范类 no longer fits: the class is asked again, without it.
    assert "请选择该单位的整治分类" in cadre.last.text and "整改规范类" not in cadre.buttons()
    await cadre.press("整合提升类（建议）")
    assert "分类：整合提升类" in cadre.last.text and "整改期限" not in cadre.last.text

    await cadre.press("修改分类")
    await cadre.press("关停取缔类")
    await cadre.text("经营者已决定月底停业")
    assert "关停取缔理由：经营者已决定月底停业" in cadre.last.text
    await cadre.press("修改判定")
    await cadre.press("同意此判定")  # back to 不达标: 关停取缔类 fits it, and the reason is no longer asked for
    assert "分类：关停取缔类" in cadre.last.text and "关停取缔理由" not in cadre.last.text
    await cadre.press("✅ 提交")
    [report] = await stored(db)
    assert (report.compliant, report.unit_class, report.class_reason, report.rectify_by) == (
        False,
        "shutdown",
        None,
        None,
    )


async def test_an_earlier_compliant_rectify_report_is_flagged_and_its_correction_must_fix_the_class(core, db, clock):
    """Reports made before this rule can be 规范达标 and 整改规范类: the township sees the flag, and the cadre
    correcting it cannot submit that pair again."""
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 644, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 645, Role.CADRE, "芙蓉村", "李建国")
    async with db.transaction() as session:
        inspector = await get_by_channel_id(session, 645)
        old = inspections.Report(
            unit_id=unit_id,
            submit_key="old",
            industry="small_restaurant",
            answers={},
            notes={},
            proposed_compliant=True,
            compliant=True,
            unit_class="rectify",
        )
        await inspections.submit(session, old, inspector.id, clock.now())
    await official.press("审核检查报告")
    await official.press(official.buttons()[0])
    assert "⚠️ 判定与分类不一致：规范达标，却列为整改规范类（没有整改期限" in official.last.text
    await official.press("退回修改")
    await official.text("达标的单位不应列为整改规范类")

    [returned] = await stored(db)
    await cadre.press_data(f"m.fix.{returned.id}")
    await cadre.press("✅ 提交")
    assert "请选择该单位的整治分类" in cadre.last.text and "整改规范类" not in cadre.buttons()
    await cadre.press("整合提升类（建议）")
    await cadre.press("✅ 提交")
    assert "JC000001-2 已提交" in cadre.last.text
    assert [(r.version, r.status, r.unit_class) for r in await stored(db)] == [
        (1, "superseded", "rectify"),
        (2, "submitted", "upgrade"),
    ]
