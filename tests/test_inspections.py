"""The guided inspection report, review and correction, driven through the core."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from storage.clock import SHANGHAI
from storage.inspection_models import Inspection, InspectionPhoto, Unit
from storage.inspections import history
from storage.models import Role
from tests.chat_driver import register
from tests.inspection_support import add_unit, answer_checklist_with_one_failure, report_up_to_the_class


async def inspections_count(db) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count(Inspection.id))))


async def walk_to_summary(cadre, deadline: str = "7天后") -> None:
    await cadre.photo()
    assert "第1张照片已保存" in cadre.last.text
    await cadre.press("完成（已传1张）")
    assert "发送检查地点的位置" in cadre.last.text and cadre.last.request == "location"
    await cadre.press("跳过")
    assert "有1项不符合" in cadre.last.text and "营业执照未悬挂" in cadre.last.text
    await cadre.press("同意此判定")
    await cadre.press("整改规范类（建议）")
    await cadre.text(deadline)
    assert "天后）。确认吗" in cadre.last.text
    await cadre.press("确认")
    assert "【检查报告摘要】" in cadre.last.text


async def test_a_full_inspection_updates_the_register_and_notifies_the_township(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 601, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 602, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await answer_checklist_with_one_failure(cadre)
    await walk_to_summary(cadre)
    assert "不达标（需整改）" in cadre.last.text and "整改期限：2026年5月13日" in cadre.last.text
    await cadre.press("✅ 提交")
    assert "已提交" in cadre.last.text
    async with db.transaction() as session:
        unit = await session.get(Unit, unit_id)
        assert (unit.status, unit.unit_class, unit.rectify_by) == ("rectifying", "rectify", date(2026, 5, 13))
        inspection = (await session.scalars(select(Inspection))).one()
        assert not inspection.compliant and inspection.notes == {"common.scope": "营业执照未悬挂在显眼处"}
        assert inspection.answers["rest.uses_gas"] == "yes" and inspection.answers["rest.gas_use_safe"] == "pass"
        assert await session.scalar(select(func.count(InspectionPhoto.id))) == 1
    notice = official.core  # the official's notice went to the outbox, addressed to their chat
    async with db.transaction() as session:
        from storage.models import OutboxMessage

        rows = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 601)))
    assert any("新检查报告待审核" in row.payload["text"] for row in rows), notice


async def test_bad_dates_are_explained_and_the_report_is_kept(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 603, Role.CADRE, "芙蓉村", "李建国")
    await report_up_to_the_class(cadre)
    await cadre.press("整改规范类（建议）")
    assert "没有看懂这个日期" in (await cadre.text("过几天吧"))[0].text
    assert "不能早于或等于今天" in (await cadre.text("2026-05-01"))[0].text
    assert "不能早于或等于今天" in (await cadre.text("今天"))[0].text
    assert "超过一年" in (await cadre.text("2030-01-01"))[0].text
    await cadre.text("下周一")
    assert "2026年5月11日（星期一" in cadre.last.text
    await cadre.press("重新输入")
    await cadre.text("月底")
    await cadre.press("确认")
    assert "整改期限：2026年5月31日" in cadre.last.text


async def reach_deadline_step(core, db, clock, chat_id: int):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, chat_id, Role.CADRE, "芙蓉村", "李建国")
    await report_up_to_the_class(cadre)
    await cadre.press("整改规范类（建议）")
    return cadre


async def test_dates_that_do_not_exist_are_explained_not_apologised_for(core, db, clock):
    cadre = await reach_deadline_step(core, db, clock, 613)
    for typed, expected in [
        ("9999999天后", "整改期限（9999999天后）超过一年"),
        ("99999999999个月后", "超过一年"),
        ("9999-12-31", "整改期限（9999年12月31日）超过一年"),
        ("10000-01-01", "超过一年"),
        ("0000-01-01", "不能早于或等于今天"),
        ("13月1日", "没有13月，月份只能是1到12"),
        ("0月5日", "没有0月"),
        ("2月30日", "2月没有30日"),
        ("２月３０日", "2月没有30日"),
        ("2027-02-29", "2027年不是闰年，2月没有29日"),
        ("9" * 5000, "最多30个字"),
    ]:
        reply = (await cadre.text(typed))[0].text
        assert expected in reply, (typed, reply)
        assert "抱歉" not in reply
    await cadre.text("2026-06-01")
    assert "整改期限：2026年6月1日（星期一，26天后）。确认吗" in cadre.last.text


async def test_the_deadline_example_is_never_past_and_a_just_passed_date_is_not_moved_a_year_on(core, db, clock):
    clock.set(datetime(2026, 12, 2, 9, tzinfo=SHANGHAI))
    cadre = await reach_deadline_step(core, db, clock, 614)
    assert "例如：2026-12-16、12月16日、下周一" in cadre.last.text
    reply = (await cadre.text("12月1日"))[0].text
    assert "2026年12月1日已经过去了（今天是2026年12月2日）" in reply
    assert "如果指的是2027年12月1日，请连同年份输入：2027-12-01" in reply
    assert "没有看懂这个日期。请按以下格式输入：2026-12-16、12月16日" in (await cadre.text("过几天"))[0].text
    await cadre.text("2027-12-01")  # the year typed: taken as it is, and confirmed as before
    assert "整改期限：2027年12月1日（星期三，364天后）。确认吗" in cadre.last.text
    await cadre.press("确认")
    assert "整改期限：2027年12月1日" in cadre.last.text


async def test_a_just_passed_29th_of_february_suggests_no_next_years(core, db, clock):
    clock.set(datetime(2028, 3, 10, 9, tzinfo=SHANGHAI))
    cadre = await reach_deadline_step(core, db, clock, 615)
    reply = (await cadre.text("2月29日"))[0].text
    assert "2028年2月29日已经过去了（今天是2028年3月10日）" in reply and "如果指的是" not in reply


async def test_a_double_submit_creates_one_inspection(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 604, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await answer_checklist_with_one_failure(cadre)
    await walk_to_summary(cadre)
    submit = next(c.data for c in cadre.last.choices if c.label == "✅ 提交")
    await cadre.press_data(submit)
    again = await cadre.press_data(submit)
    assert "过期" in again[0].text
    assert await inspections_count(db) == 1


async def test_returned_report_is_corrected_and_both_versions_are_kept(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 605, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 606, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await answer_checklist_with_one_failure(cadre)
    await walk_to_summary(cadre)
    await cadre.press("✅ 提交")

    await official.press("审核检查报告")
    assert "待审核的检查报告共1份" in official.last.text
    await official.press(official.buttons()[0])
    assert "营业执照未悬挂" in official.last.text
    await official.press("退回修改")
    await official.text("分类应为整合提升类，请核实")
    assert "已退回" in official.last.text

    async with db.transaction() as session:
        first = (await session.scalars(select(Inspection))).one()
    await cadre.press_data(f"m.fix.{first.id}")
    assert "退回理由：分类应为整合提升类" in cadre.last.text
    await cadre.press("修改分类")
    await cadre.press("整合提升类")
    assert "分类：整合提升类" in cadre.last.text
    await cadre.press("✅ 提交")
    assert "-2 已提交" in cadre.last.text

    async with db.transaction() as session:
        versions = await history(session, unit_id)
    assert [(v.version, v.status, v.unit_class) for v in versions] == [
        (1, "superseded", "rectify"),
        (2, "submitted", "upgrade"),
    ]
    assert versions[1].previous_id == versions[0].id
    assert "已经处理过了" in (await official.press_data(f"m.review.{first.id}"))[0].text


async def outbox_texts(db, chat_id: int) -> list[str]:
    from storage.models import OutboxMessage

    async with db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return [row.payload["text"] for row in rows]


async def return_report(official, number: str, reason: str = "照片看不清，请补拍后重新提交") -> None:
    await official.press("审核检查报告")
    await official.press(official.buttons()[-1])  # the list is oldest first: the report just submitted is last
    assert f"【检查报告 {number}】" in official.last.text
    await official.press("退回修改")
    await official.text(reason)
    assert f"检查报告 {number} 已退回" in official.last.text


async def test_a_corrected_report_keeps_its_number_everywhere(core, db, clock, tmp_path):
    """JC000002 returned and corrected is JC000002-2 (not the new row's JC000003-2), and JC000002-3 after that:
    in the cadre's chat, the township's notice and review screen, the list of returned reports and the export."""
    from rich.progress import Progress

    from bot.xlsx_exports import write_inspections

    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    await add_unit(db, clock, "芙蓉村", "芙蓉面馆")
    official = await register(core, db, clock, 621, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 622, Role.CADRE, "芙蓉村", "李建国")
    for name, number in (("老王小吃店", "JC000001"), ("芙蓉面馆", "JC000002")):
        await cadre.press("检查上报")
        await cadre.press(name)
        await answer_checklist_with_one_failure(cadre)
        await walk_to_summary(cadre)
        await cadre.press("✅ 提交")
        assert f"检查报告 {number} 已提交" in cadre.last.text

    await return_report(official, "JC000002")
    for version in (2, 3):
        number = f"JC000002-{version}"
        await cadre.press_data("m.fix")  # the list of returned reports names the one to correct
        assert cadre.buttons() == [f"芙蓉面馆 · JC000002{f'-{version - 1}' if version > 2 else ''}"]
        await cadre.press(cadre.buttons()[0])
        await cadre.press("✅ 提交")
        assert f"检查报告 {number} 已提交" in cadre.last.text
        assert f"【新检查报告待审核】{number}" in (await outbox_texts(db, 621))[-1]
        if version == 2:
            await return_report(official, number)
            assert f"您提交的检查报告 {number}（芙蓉面馆）被退回修改" in (await outbox_texts(db, 622))[-1]

    out = tmp_path / "inspections.xlsx"
    await write_inspections(db, out, Progress(disable=True), None, None, None, None, clock.tz)
    from openpyxl import load_workbook

    book = load_workbook(out)
    assert [row[0] for row in book["检查报告"].iter_rows(min_row=2, values_only=True)] == [
        "JC000001",
        "JC000002",
        "JC000002-2",
        "JC000002-3",
    ]
    assert {row[0] for row in book["检查项结果"].iter_rows(min_row=2, values_only=True)} == {
        "JC000001",
        "JC000002",
        "JC000002-2",
        "JC000002-3",
    }


async def test_a_cadre_cannot_inspect_outside_their_village(core, db, clock):
    other = await add_unit(db, clock, "苍坡村", "苍坡超市", "small_grocery")
    cadre = await register(core, db, clock, 607, Role.CADRE, "芙蓉村", "李建国")
    refused = await cadre.press_data(f"m.inspect.{other}")
    assert "不属于您负责的村" in refused[0].text
    await cadre.press("检查上报")
    reply = await cadre.text("苍坡超市")
    assert "登记在岩头镇苍坡村，不属于您负责的村" in reply[0].text
    nonce = cadre.last.choices[0].data.split(".")[0]
    assert "按钮无效" in (await cadre.press_data(f"{nonce}.{other}"))[0].text
    assert await inspections_count(db) == 0


async def test_fuzzy_search_and_a_new_unit_registered_inline(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "芙蓉老王小吃店")
    cadre = await register(core, db, clock, 608, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.text("老王小吃")
    assert "您要找的是以下哪个单位" in cadre.last.text and "芙蓉老王小吃店" in cadre.buttons()
    await cadre.press("➕ 登记新单位")
    await cadre.text("芙蓉便民药店")
    await cadre.press("小药店")
    await cadre.press("跳过")
    await cadre.text("张药师")
    assert "【芙蓉便民药店】检查第1/" in cadre.last.text
    await cadre.press("余下各项均符合") if "余下各项均符合" in cadre.buttons() else await cadre.press("✓ 符合")
    while "请拍摄现场照片" not in cadre.last.text:
        await cadre.press("否" if "否" in cadre.buttons() else "余下各项均符合")
    await cadre.press("完成（已传0张）")
    await cadre.press("跳过")
    assert "各项检查均符合" in cadre.last.text
    await cadre.press("同意此判定")
    await cadre.press("整合提升类（建议）")
    assert "整改期限" not in cadre.last.text  # compliant: no deadline asked
    await cadre.press("✅ 提交")
    async with db.transaction() as session:
        unit = (await session.scalars(select(Unit).where(Unit.name == "芙蓉便民药店"))).one()
    assert (unit.industry, unit.status, unit.operator_name) == ("small_pharmacy", "compliant", "张药师")


async def test_bad_input_inside_the_report_loses_nothing(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 609, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await cadre.press("✓ 符合")
    await cadre.press("✗ 不符合")
    assert "内容太长了" in (await cadre.text("很" * 40_000))[0].text
    assert "需要输入文字" in (await cadre.photo())[0].text
    await cadre.press("查看说明") if "查看说明" in cadre.buttons() else None
    await cadre.text("未亮照经营")
    assert "检查第3/" in cadre.last.text
    await cadre.press("查看说明")
    assert "说明：" in cadre.last.text and "依据：" in cadre.last.text
    await cadre.command("menu")
    await cadre.press("继续填写「检查上报」")
    assert "检查第3/" in cadre.last.text


async def test_veto_failure_cannot_be_overridden_but_others_can_with_a_reason(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 610, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await cadre.press("✗ 不符合")  # the business licence: a veto item
    await cadre.text("无营业执照")
    await cadre.press("余下各项均符合")
    await cadre.press("否")
    await cadre.press("完成（已传0张）")
    await cadre.press("跳过")
    assert "不能改判为达标" in cadre.last.text and "改判" not in cadre.buttons()
    await cadre.press("同意此判定")
    await cadre.press("整改规范类（建议）")
    await cadre.text("7天后")
    await cadre.press("确认")
    await cadre.press("修改检查项")
    await cadre.press(next(label for label in cadre.buttons() if label.startswith("1. ✗")))
    await cadre.press("✓ 符合")
    assert "各项检查均符合" in cadre.last.text
    await cadre.press("改判")
    assert "改判理由" in cadre.last.text
    await cadre.text("后厨卫生差，需整改")
    assert "改判理由：后厨卫生差" in cadre.last.text


async def test_overdue_rectifications_are_listed_for_the_township(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 611, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 612, Role.CADRE, "芙蓉村", "李建国")
    assert "没有逾期" in (await official.press("逾期整改"))[0].text
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await answer_checklist_with_one_failure(cadre)
    await walk_to_summary(cadre)
    await cadre.press("✅ 提交")
    clock.advance(timedelta(days=10))
    listing = await official.press("逾期整改")
    assert "老王小吃店（岩头镇芙蓉村）期限2026年5月13日，已逾期3天" in listing[0].text


async def test_a_20_mb_photo_is_refused_and_the_report_kept(core, db, clock):
    from handlers.events import Kind, Photo

    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 613, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await answer_checklist_with_one_failure(cadre)
    huge = await cadre._send(kind=Kind.PHOTO, photo=Photo("big", "u-big", 21 * 1024 * 1024))
    assert "超过20MB" in huge[0].text
    await cadre.photo()
    assert "第1张照片已保存" in cadre.last.text  # the earlier answers are all still there
    assert "完成（已传1张）" in cadre.buttons()


async def test_leaving_a_report_asks_first_and_an_old_confirmation_discards_nothing(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 612, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await cadre.press("✓ 符合")
    await cadre.command("cancel")
    assert "确定要放弃「检查上报」吗？已填写的内容将被删除" in cadre.last.text
    assert cadre.buttons() == ["继续填写「检查上报」", "确定放弃"]
    old_confirmation = next(c.data for c in cadre.last.choices if c.label == "确定放弃")
    await cadre.press("继续填写「检查上报」")
    assert "检查第2/" in cadre.last.text  # nothing lost
    await cadre.press("✓ 符合")
    assert "按钮已过期" in (await cadre.press_data(old_confirmation))[0].text  # a later step: not discarded
    assert "检查第3/" in cadre.last.text
    for _ in range(3):  # three unreadable answers offer 返回主菜单, which asks too
        await cadre.sticker()
    await cadre.press("返回主菜单")
    assert "确定要放弃「检查上报」吗" in cadre.last.text
    await cadre.command("menu")
    await cadre.press("放弃并返回主菜单")
    assert "确定要放弃「检查上报」吗" in cadre.last.text
    await cadre.press("确定放弃")
    assert "已放弃「检查上报」，填写的内容已删除" in cadre.last.text and "检查上报" in cadre.buttons()
    assert await inspections_count(db) == 0
    await cadre.press("检查上报")  # starting again is a fresh report
    assert "老王小吃店" in cadre.buttons()


async def test_a_report_just_opened_is_left_without_a_question(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 613, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.command("cancel")
    assert "已取消「检查上报」" in cadre.last.text


async def test_an_unfinished_report_is_kept_for_a_week(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 614, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press("检查上报")
    await cadre.press("老王小吃店")
    await cadre.press("✓ 符合")
    clock.advance(timedelta(days=6, hours=23))
    await cadre.command("menu")
    assert "已填写的内容都已保存（7天内可以继续）" in cadre.last.text
    await cadre.press("继续填写「检查上报」")
    assert "检查第2/" in cadre.last.text
    clock.advance(timedelta(days=7, minutes=1))
    await cadre.press("✓ 符合")
    assert "「检查上报」超过7天没有继续，已自动结束，填写的内容没有提交" in cadre.last.text
