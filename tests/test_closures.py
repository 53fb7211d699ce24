"""Recording a verified closure from the chat: a township official from the 待关停 list (date, optional note), a
cadre on a follow-up visit (date, a photo required). Only then does the unit leave the rate's base."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from storage import inspections
from storage.areas import find_area
from storage.digest import compute_digest
from storage.inspection_models import Inspection, Unit, UnitClosure
from storage.models import AreaLevel, Role
from storage.users import get_by_channel_id
from tests.chat_driver import register
from tests.inspection_support import add_unit, report_up_to_the_class


async def classify_to_close(cadre, name: str = "老王小吃店") -> None:
    """The cadre's report classifies the unit 关停取缔类 (不达标)."""
    await report_up_to_the_class(cadre, name)
    await cadre.press("关停取缔类")
    await cadre.press("✅ 提交")
    assert "JC0000" in cadre.last.text


async def township_share(db, clock) -> tuple[int, int, int, int]:
    async with db.transaction() as session:
        digest = await compute_digest(session, await find_area(session, "岩头镇", AreaLevel.TOWNSHIP), clock.now())
    return digest.share.part, digest.share.whole, digest.pending_closure, digest.closed


async def unit_and_closures(db, unit_id: int) -> tuple[str, list[UnitClosure]]:
    async with db.transaction() as session:
        unit = await session.get(Unit, unit_id)
        rows = list(await session.scalars(select(UnitClosure).where(UnitClosure.unit_id == unit_id)))
        return unit.status, rows


async def test_a_township_official_records_the_closure_from_the_pending_list(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 641, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 642, Role.CADRE, "芙蓉村", "李建国")
    await classify_to_close(cadre)
    assert await township_share(db, clock) == (0, 1, 1, 0)  # 待关停: in the base, not to standard

    await official.press("待关停单位")
    assert "岩头镇待关停单位 1 家" in official.last.text and official.buttons()[0] == "老王小吃店 · 岩头镇芙蓉村"
    await official.press("老王小吃店 · 岩头镇芙蓉村")
    assert "记录关停：老王小吃店（岩头镇芙蓉村，小餐饮店）" in official.last.text
    await official.press("已取缔")
    assert "已取缔的日期是哪一天" in official.last.text
    for typed, answer in (
        ("明天", "还没有到"),
        ("2024-01-01", "距今已超过一年"),
        ("2月30日", "没有“2月30日”这一天"),
        ("上个月吧", "没有看懂这个日期"),
    ):
        await official.text(typed)
        assert answer in official.last.text, (typed, official.last.text)
        if "请选择要办理的事项" in official.last.text:  # three failures lead back to the menu: start again
            await official.press_data(f"m.closures.{unit_id}")
            await official.press("已取缔")
    await official.text("5月4日")  # two days ago, written without a year: this year's, not next year's
    assert "补充说明（可选" in official.last.text
    await official.text("县市场监管局现场取缔，文书编号永市监取〔2026〕12号")
    assert "结果：已取缔\n日期：2026年5月4日\n说明：县市场监管局现场取缔" in official.last.text
    await official.press("确认记录")
    assert "已记录：老王小吃店已取缔（2026年5月4日）。该单位不再计入达标率基数。" in official.last.text

    status, rows = await unit_and_closures(db, unit_id)
    assert status == "closed" and len(rows) == 1
    row = rows[0]
    assert (row.kind, row.closed_on, row.source, row.recorded_by_name, row.recorded_by_role, row.photo_file_id) == (
        "banned",
        date(2026, 5, 4),
        "township",
        "陈镇长",
        "township",
        None,
    )
    assert row.note == "县市场监管局现场取缔，文书编号永市监取〔2026〕12号"
    assert await township_share(db, clock) == (0, 0, 0, 1)
    await official.press("待关停单位")
    assert "目前没有待关停的单位" in official.last.text


async def test_the_note_is_optional_and_the_form_can_be_filled_again(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 643, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 644, Role.CADRE, "芙蓉村", "李建国")
    await classify_to_close(cadre)
    await official.press_data(f"m.closures.{unit_id}")
    await official.press("已取缔")
    await official.press("今天")
    await official.press("跳过")
    assert "结果：已取缔\n日期：2026年5月6日\n确认后" in official.last.text
    await official.press("重新填写")
    await official.press("已关停")
    await official.text("昨天")
    await official.press("跳过")
    await official.press("确认记录")
    status, rows = await unit_and_closures(db, unit_id)
    assert status == "closed" and [(r.kind, r.closed_on, r.note) for r in rows] == [
        ("shut_down", date(2026, 5, 5), None)
    ]


async def test_a_cadre_records_the_closure_on_a_visit_with_a_photo(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    await register(core, db, clock, 645, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 646, Role.CADRE, "芙蓉村", "李建国")
    await classify_to_close(cadre)
    await cadre.press("待关停单位")
    assert "芙蓉村待关停单位 1 家" in cadre.last.text and "需拍现场照片" in cadre.last.text
    await cadre.press("老王小吃店 · 岩头镇芙蓉村")
    await cadre.press("已关停")
    await cadre.press("今天")
    assert "请拍一张现场照片" in cadre.last.text
    await cadre.text("店已经关了")  # words are no photo
    assert "没有照片不能记录上门核实" in cadre.last.text
    await cadre.photo()
    assert "现场照片：已拍" in cadre.last.text and "日期：2026年5月6日" in cadre.last.text
    await cadre.press("确认记录")
    assert "已记录：老王小吃店已关停（2026年5月6日）" in cadre.last.text

    status, rows = await unit_and_closures(db, unit_id)
    assert status == "closed"
    assert [(r.kind, r.source, r.photo_file_id, r.recorded_by_name) for r in rows] == [
        ("shut_down", "visit", "file-1", "李建国")
    ]
    # the township is told, and sees who saw it closed
    assert await _notice_queued(
        db, 645, "【关停核实】李建国（岩头镇芙蓉村）上门核实：老王小吃店已关停，日期 2026年5月6日"
    )
    assert await township_share(db, clock) == (0, 0, 0, 1)


async def _notice_queued(db, chat_id: int, words: str) -> bool:
    from storage.models import OutboxMessage

    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id))
        return any(words in row.payload.get("text", "") for row in rows)


async def test_a_unit_closed_meanwhile_is_not_recorded_twice(core, db, clock):
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 647, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 648, Role.CADRE, "芙蓉村", "李建国")
    await classify_to_close(cadre)
    await official.press_data(f"m.closures.{unit_id}")
    await official.press("已关停")
    await official.press("今天")
    await official.press("跳过")
    # meanwhile the cadre records it on a visit
    await cadre.press_data(f"m.closures.{unit_id}")
    await cadre.press("已关停")
    await cadre.press("今天")
    await cadre.photo()
    await cadre.press("确认记录")
    await official.press("确认记录")
    assert "目前的状态是“已关停”，不是待关停单位" in official.last.text
    _, rows = await unit_and_closures(db, unit_id)
    assert [row.source for row in rows] == ["visit"]
    # and a unit that is not 待关停 cannot be opened
    other = await add_unit(db, clock, "芙蓉村", "芙蓉面馆")
    await official.press_data(f"m.closures.{other}")
    assert "芙蓉面馆目前的状态是“未检查”" in official.last.text


async def test_returning_reports_keeps_a_verified_closure_and_restores_it(core, db, clock):
    """unit_status_before stays right around closures: returning the report that classified the unit after its
    closure was verified leaves it closed; a report of a reopened unit, returned, puts it back to 已关停."""
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 649, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 650, Role.CADRE, "芙蓉村", "李建国")
    await classify_to_close(cadre)
    await official.press_data(f"m.closures.{unit_id}")
    await official.press("已关停")
    await official.press("今天")
    await official.press("跳过")
    await official.press("确认记录")
    async with db.transaction() as session:
        reviewer = await get_by_channel_id(session, 649)
        shutdown = (await session.scalars(select(Inspection))).one()
        await inspections.send_back(session, shutdown, reviewer, "分类依据不足", clock.now())
    assert (await unit_and_closures(db, unit_id))[0] == "closed"  # it was seen closed, whatever the report said

    await report_up_to_the_class(cadre)  # it opened again: a new report
    await cadre.press("整改规范类（建议）")
    await cadre.text("7天后")
    await cadre.press("确认")
    await cadre.press("✅ 提交")
    assert (await unit_and_closures(db, unit_id))[0] == "rectifying"
    async with db.transaction() as session:
        reopened = (await session.scalars(select(Inspection).order_by(Inspection.id.desc()))).first()
        assert reopened.unit_status_before == "closed"
        await inspections.send_back(session, reopened, await get_by_channel_id(session, 649), "照片不清楚", clock.now())
    assert (await unit_and_closures(db, unit_id))[0] == "closed"
