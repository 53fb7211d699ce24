"""`shixiao units import` never rewrites what inspections established, and refuses what the chat would refuse."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from storage.areas import find_area
from storage.inspection_models import Unit
from storage.inspections import Report, send_back, submit
from storage.models import AreaLevel, Role
from storage.units import UnitFields, upsert_unit
from storage.users import create_user

runner = CliRunner()
HEADER = ["单位名称", "行业", "乡镇", "村", "地址", "经营者", "联系电话", "证照编号", "状态", "分类", "示范点"]
NOW = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)


def workbook(path, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


async def run_import(db, path, *options):
    env = {"SHIXIAO_DATABASE_URL": db.url, "SHIXIAO_TELEGRAM_TOKEN": "", "COLUMNS": "250"}  # tables unwrapped
    result = await asyncio.to_thread(
        runner.invoke, app, ["units", "import", *options, str(path)], env=env, catch_exceptions=False
    )
    return result.exit_code, result.output.replace("\n", "")


async def inspected_unit(db, name="老王小吃店", *, compliant=False, unit_class="rectify", returned=False) -> int:
    """A unit of 芙蓉村 inspected once (report JC…, 2026-05-06): 整改中/整改规范类 by default."""
    async with db.transaction() as session:
        village = await find_area(session, "岩头镇/芙蓉村", AreaLevel.VILLAGE)
        unit, _ = await upsert_unit(session, village, UnitFields(name, "small_restaurant", address="旧地址"), NOW)
        cadre = await create_user(session, 700 + unit.id, NOW, Role.CADRE)
        inspection, _ = await submit(
            session,
            Report(
                unit_id=unit.id,
                submit_key=f"k{unit.id}",
                industry="small_restaurant",
                answers={},
                notes={},
                proposed_compliant=compliant,
                compliant=compliant,
                unit_class=unit_class,
                rectify_by=None if compliant else date(2026, 6, 1),
            ),
            cadre.id,
            NOW,
        )
        if returned:
            await send_back(session, inspection, cadre, "照片不清楚", NOW)
        return unit.id


async def unit_row(db, unit_id: int) -> tuple:
    async with db.transaction() as session:
        unit = await session.scalar(select(Unit).where(Unit.id == unit_id))
        return unit.address, unit.operator_phone, unit.status, unit.unit_class, unit.industry, unit.is_demo


async def test_register_facts_update_but_inspection_results_are_kept_and_reported(db, tmp_path):
    unit_id = await inspected_unit(db)
    rows = [
        [
            "老王小吃店",
            "小餐饮店",
            "岩头镇",
            "芙蓉村",
            "芙蓉村88号",
            "王大",
            "13800001111",
            "JY9",
            "规范达标",
            "整合提升类",
            "是",
        ]
    ]
    code, out = await run_import(db, workbook(tmp_path / "units.xlsx", rows))
    assert code == 0, out
    assert await unit_row(db, unit_id) == (
        "芙蓉村88号",
        "13800001111",
        "rectifying",
        "rectify",
        "small_restaurant",
        True,
    )
    assert "新增 0 家，更新 1 家，有问题 0 行，2 处状态或分类以检查结果为准未导入" in out
    # row, column, the value in the file, the value kept, and the report that set it: number and date
    for expected in (
        "与检查结果不一致",
        "规范达标",
        "整改中",
        "整合提升类",
        "整改规范类",
        "检查报告 JC000001（2026年5月6日）",
    ):
        assert expected in out, expected
    assert "│ 2    │ 状态" in out and "│ 2    │ 分类" in out


async def test_the_same_values_are_no_conflict_and_a_returned_report_is_named_as_such(db, tmp_path):
    kept = await inspected_unit(db)
    returned = await inspected_unit(db, "芙蓉面馆", returned=True)
    rows = [
        ["老王小吃店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "整改中", "整改规范类"],
        ["芙蓉面馆", "小餐饮店", "岩头镇", "芙蓉村", "面馆新址", None, None, None, "整改中", "整改规范类"],
    ]
    code, out = await run_import(db, workbook(tmp_path / "units.xlsx", rows))
    assert code == 0 and "更新 2 家" in out, out
    assert "检查报告 JC000002（2026年5月6日，已退回）" in out and "JC000001" not in out
    assert (await unit_row(db, kept))[2:4] == ("rectifying", "rectify")
    assert (await unit_row(db, returned))[:4] == ("面馆新址", None, "unchecked", None)  # its entry before the report


async def test_combinations_the_chat_refuses_are_refused_with_row_and_column(db, tmp_path):
    rows = [
        ["甲店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "规范达标", "整改规范类"],
        ["乙店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "规范达标", "关停取缔类"],
        ["丙店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "整改中", "关停取缔类"],
        ["丁店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "未检查", "关停取缔类"],  # 摸底 classes first
        ["戊店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "规范达标", "整合提升类"],
        ["庚店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "待关停", "整改规范类"],
        ["辛店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "已关停", "整合提升类"],
        ["壬店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "待关停", "关停取缔类"],
    ]
    code, out = await run_import(db, workbook(tmp_path / "units.xlsx", rows))
    assert code == 1 and "新增 3 家，更新 0 家，有问题 5 行" in out, out
    assert "“待关停”的单位只能列为“关停取缔类”，不能列为“整改规范类”" in out
    assert "“已关停”的单位只能列为“关停取缔类”，不能列为“整合提升类”" in out
    assert "“规范达标”的单位不能列为“整改规范类”" in out
    assert "“规范达标”的单位列为“关停取缔类”须由村干部在检查上报时说明理由" in out
    assert "列为“关停取缔类”的单位，状态不能是“整改中”" in out
    for row in (2, 3, 4):
        assert f"│ {row}    │ 分类" in out
    # what the file leaves out is taken from the register: 整改规范类 stays, so 规范达标 alone is refused too
    first = [["己店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "整改中", "整改规范类"]]
    assert (await run_import(db, workbook(tmp_path / "first.xlsx", first)))[0] == 0
    again = [["己店", "小餐饮店", "岩头镇", "芙蓉村", None, None, None, None, "规范达标", None]]
    code, out = await run_import(db, workbook(tmp_path / "again.xlsx", again), "--all-or-nothing")
    assert code == 1 and "该单位在名册中分类为“整改规范类”，“规范达标”的单位不能列为“整改规范类”" in out, out
    assert "│ 2    │ 状态" in out


async def test_a_change_of_industry_is_refused_for_a_unit_with_reports(db, tmp_path):
    unit_id = await inspected_unit(db)
    rows = [["老王小吃店", "小食杂店", "岩头镇", "芙蓉村", "新地址"], ["没检查过的店", "小餐饮店", "岩头镇", "芙蓉村"]]
    code, out = await run_import(db, workbook(tmp_path / "units.xlsx", rows))
    assert code == 1, out
    assert (
        "该单位已有检查报告 JC000001（2026年5月6日），不能由“小餐饮店”改为“小食杂店”：已有的检查报告是按“小餐饮店”的检查表做的"
        in out
    )
    assert await unit_row(db, unit_id) == ("旧地址", None, "rectifying", "rectify", "small_restaurant", False)
    # a unit never inspected may change its industry
    code, out = await run_import(db, workbook(tmp_path / "b.xlsx", [["没检查过的店", "小食杂店", "岩头镇", "芙蓉村"]]))
    assert code == 0 and "更新 1 家" in out, out


async def test_all_or_nothing_checks_the_database_too_and_writes_nothing(db, tmp_path):
    await inspected_unit(db)
    rows = [["新店", "小餐饮店", "岩头镇", "芙蓉村"], ["老王小吃店", "小食杂店", "岩头镇", "芙蓉村"]]
    code, out = await run_import(db, workbook(tmp_path / "units.xlsx", rows), "--all-or-nothing")
    assert code == 1 and "没有导入任何数据" in out and "不能由“小餐饮店”改为“小食杂店”" in out
    async with db.transaction() as session:
        assert await session.scalar(select(Unit).where(Unit.name == "新店")) is None


@pytest.mark.slow
async def test_many_rows_are_written_in_batches_and_a_file_failing_late_writes_nothing(db, tmp_path):
    import zipfile

    rows = [[f"店{n}", "小餐饮店", "岩头镇", "芙蓉村"] for n in range(1, 1201)]
    whole = workbook(tmp_path / "whole.xlsx", rows)
    code, out = await run_import(db, whole)
    assert code == 0 and "共读取 1200 行：新增 1200 家" in out, out
    # the same rows again, the sheet cut after about 1,000 rows (two batches in): nothing of it is written
    more = [[f"新店{n}", "小餐饮店", "岩头镇", "苍坡村"] for n in range(1, 1201)]
    source = workbook(tmp_path / "more.xlsx", more)
    cut = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(cut, "w") as target:
        for item in original.infolist():
            data = original.read(item.filename)
            target.writestr(item, data[: len(data) * 5 // 6] if item.filename == "xl/worksheets/sheet1.xml" else data)
    code, out = await run_import(db, cut)
    assert code == 1 and "读到一半无法继续" in out, out
    async with db.transaction() as session:
        assert await session.scalar(select(Unit).where(Unit.name == "新店1")) is None
