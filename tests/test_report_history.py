"""History stays true: a report keeps its inspector's name, role and area and its reviewer's name and review time as
they were, whatever happens to the users later; report numbers have no gaps (a correction takes none)."""

from __future__ import annotations

from datetime import datetime, timedelta

from openpyxl import load_workbook
from rich.progress import Progress
from sqlalchemy import select, update

from bot.xlsx_exports import INSPECTION_COLUMNS, write_inspections
from storage.areas import find_area
from storage.inspection_models import Inspection
from storage.models import AreaLevel, Role, User
from tests.chat_driver import register
from tests.inspection_support import add_unit, report_up_to_the_class


async def submit_rectify(cadre, unit: str) -> str:
    """A report of the unit (不达标, 整改规范类, 7 days); returns the cadre's confirmation."""
    await report_up_to_the_class(cadre, unit)
    await cadre.press("整改规范类（建议）")
    await cadre.text("7天后")
    await cadre.press("确认")
    await cadre.press("✅ 提交")
    return cadre.last.text


async def rows(db) -> list[Inspection]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Inspection).order_by(Inspection.id)))


async def test_a_correction_takes_no_number_from_the_sequence(core, db, clock):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    await add_unit(db, clock, "芙蓉村", "芙蓉面馆")
    official = await register(core, db, clock, 661, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 662, Role.CADRE, "芙蓉村", "李建国")
    assert "JC000001" in await submit_rectify(cadre, "老王小吃店")
    await official.press("审核检查报告")
    await official.press(official.buttons()[0])
    await official.press("退回修改")
    await official.text("照片看不清楚，请重拍")
    await cadre.press_data(f"m.fix.{(await rows(db))[0].id}")  # the button of the notice "修改并重新提交"
    await cadre.press("✅ 提交")
    assert "JC000001-2" in cadre.last.text  # the correction is row 2 …
    # … and the next new report is JC000002, not JC000003 (main numbered first versions by their row id)
    assert "JC000002" in await submit_rectify(cadre, "芙蓉面馆")
    assert [(r.id, r.number, r.version) for r in await rows(db)] == [(1, 1, 1), (2, 1, 2), (3, 2, 1)]


async def test_renaming_users_rewrites_no_report(core, db, clock, tmp_path):
    await add_unit(db, clock, "芙蓉村", "老王小吃店")
    official = await register(core, db, clock, 663, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 664, Role.CADRE, "芙蓉村", "李建国")
    await submit_rectify(cadre, "老王小吃店")
    clock.advance(timedelta(hours=2))
    await official.press("审核检查报告")
    await official.press(official.buttons()[0])
    await official.press("通过")
    assert "已审核通过" in official.last.text

    # later: both rename themselves, and the cadre is moved to another village
    for person, name in ((cadre, "李国强"), (official, "陈副镇长")):
        await person.press("修改姓名")
        await person.text(name)
        assert f"姓名已更新为：{name}" in person.last.text
    async with db.transaction() as session:
        elsewhere = await find_area(session, "桥下村", AreaLevel.VILLAGE)
        await session.execute(update(User).where(User.channel_user_id == 664).values(area_id=elsewhere.id))

    [report] = await rows(db)
    assert (report.inspector_name, report.inspector_role, report.inspector_area) == (
        "李建国",
        Role.CADRE,
        "岩头镇芙蓉村",
    )
    assert report.reviewer_name == "陈镇长"
    assert report.reviewed_at == datetime(2026, 5, 6, 3, 0, tzinfo=report.reviewed_at.tzinfo)  # 11:00 Shanghai

    out = tmp_path / "inspections.xlsx"
    with Progress(disable=True) as bar:
        assert await write_inspections(db, out, bar, None, None, None, core.parts.knowledge, clock.tz) == 1
    sheet = list(load_workbook(out)["检查报告"].iter_rows(values_only=True))
    exported = dict(zip(sheet[0], sheet[1], strict=True))
    assert sheet[0] == INSPECTION_COLUMNS and INSPECTION_COLUMNS[-2:] == ("审核人", "审核时间")
    assert (exported["检查人"], exported["审核人"]) == ("李建国", "陈镇长")
    assert exported["审核时间"] == datetime(2026, 5, 6, 11, 0)
    assert exported["提交时间"] == datetime(2026, 5, 6, 9, 0)
