"""`shixiao export complaints`: Chinese headers, filters, identity only for 实名, clear errors, large exports."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select
from typer.testing import CliRunner

from bot.cli import app
from bot.commands.exports import COMPLAINT_HEADERS, EVENT_HEADERS
from storage.areas import find_area
from storage.clock import SHANGHAI
from storage.complaint_models import Complaint, ComplaintEvent
from storage.models import Role
from storage.users import create_user
from tests.chat_driver import Person, register
from tests.complaints_support import file_complaint

runner = CliRunner()


async def export(db, *args: str):
    """The CLI runs its own event loop, so it is invoked from a worker thread of this async test."""
    env = {"SHIXIAO_DATABASE_URL": db.url, "SHIXIAO_TELEGRAM_TOKEN": ""}
    return await asyncio.to_thread(runner.invoke, app, ["export", "complaints", *args], env=env, catch_exceptions=False)


def rows(path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    try:
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
    finally:
        book.close()


async def populate(core, db, clock) -> list[str]:
    official = await register(core, db, clock, 1301, Role.TOWNSHIP, "岩头镇", "赵乡长")
    person = Person(core, 1302)
    await person.command("start")
    first = await file_complaint(person, photos=2)
    second = await file_complaint(
        person, township="桥下镇", village="光华村", identity="实名提交", name="王小明", phone="13812345678"
    )
    clock.set(datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI))
    third = await file_complaint(person, category="消防隐患", unit="芙蓉饭店")
    await official.command("track", first)
    await official.press("受理")
    return [first, second, third]


async def test_the_export_has_chinese_headers_history_and_identity_only_for_real_names(core, db, clock, tmp_path):
    first, second, third = await populate(core, db, clock)
    out = tmp_path / "投诉.xlsx"
    result = await export(db, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "已导出 3 件投诉（办理记录 4 条）" in result.output
    sheets = rows(out)
    main, history = sheets["投诉"], sheets["办理记录"]
    assert main[0] == COMPLAINT_HEADERS and history[0] == EVENT_HEADERS
    by_number = {row[0]: dict(zip(COMPLAINT_HEADERS, row, strict=True)) for row in main[1:]}
    assert list(by_number) == [first, second, third]
    anonymous, real = by_number[first], by_number[second]
    assert (anonymous["提交方式"], anonymous["投诉人姓名"], anonymous["投诉人电话"]) == ("匿名", None, None)
    assert (real["提交方式"], real["投诉人姓名"], real["投诉人电话"]) == ("实名", "王小明", "13812345678")
    assert (anonymous["状态"], anonymous["乡镇"], anonymous["村（社区）"], anonymous["照片数"]) == (
        "已受理",
        "岩头镇",
        "芙蓉村",
        2,
    )
    assert anonymous["照片引用"] == "待保存|待保存"  # not downloaded yet: no path in the media store
    assert anonymous["提交时间"] == datetime(2026, 5, 6, 9, 0) and anonymous["办理期限"] == datetime(2026, 5, 26)
    formats = {
        cell.value: below.number_format
        for cell, below in zip(*load_workbook(out)["投诉"].iter_rows(max_row=2), strict=True)
    }
    assert (formats["提交时间"], formats["办理期限"]) == ('yyyy"年"m"月"d"日" hh:mm', 'yyyy"年"m"月"d"日"')
    actors = [(row[0], row[2], row[3]) for row in history[1:]]
    assert (first, "提交", "投诉人") in actors and (first, "状态变更", "赵乡长") in actors
    assert not any("王小明" in str(cell) for row in history for cell in row)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--from", "2026-05-10"], 1),
        (["--to", "2026-05-06"], 2),
        (["--from", "2026年5月6日", "--to", "2026/5/6"], 2),
        (["--area", "桥下镇"], 1),
        (["--area", "芙蓉村"], 2),
        (["--area", "永嘉县", "--to", "2026-05-31"], 3),
    ],
)
async def test_period_and_area_filters(core, db, clock, tmp_path, args, expected):
    await populate(core, db, clock)
    out = tmp_path / "part.xlsx"
    result = await export(db, *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert len(rows(out)["投诉"]) == expected + 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30"], "--from 的日期“2026-02-30”无法识别"),
        (["--to", "上个月"], "--to 的日期“上个月”无法识别，请写作 2026-05-01"),
        (["--from", "2026-06-01", "--to", "2026-05-01"], "起始日期（2026-06-01）晚于截止日期（2026-05-01）"),
        (["--area", "火星村"], "找不到区域“火星村”"),
    ],
)
async def test_mistakes_are_explained_in_chinese_and_write_nothing(db, tmp_path, args, message):
    out = tmp_path / "x.xlsx"
    result = await export(db, *args, "--out", str(out))
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert not out.exists()


async def test_output_must_be_an_xlsx_in_an_existing_folder(db, tmp_path):
    csv = await export(db, "--out", str(tmp_path / "x.csv"))
    assert csv.exit_code == 2 and "只能导出为 Excel（.xlsx）文件" in csv.output
    missing = await export(db, "--out", str(tmp_path / "nope" / "x.xlsx"))
    assert missing.exit_code == 1 and "不存在" in missing.output


@pytest.mark.slow
async def test_a_large_export_streams_in_batches(db, clock, tmp_path):
    now = clock.now()
    async with db.transaction() as session:
        user = await create_user(session, 1400, now)
        township = await find_area(session, "岩头镇")
        common = {
            "year": 2026,
            "category": "other",
            "status": "submitted",
            "complainant_id": user.id,
            "anonymous": True,
            "township_id": township.id,
            "office_area_id": township.id,
            "due_on": date(2026, 5, 26),
            "reopen_count": 0,
            "created_at": now,
            "updated_at": now,
        }
        await session.execute(
            insert(Complaint),
            [
                {**common, "number": f"TS-2026-{n:06d}", "seq": n, "submit_key": f"bulk-{n}", "description": f"第{n}件"}
                for n in range(1, 601)
            ],
        )
        ids = list(await session.scalars(select(Complaint.id).order_by(Complaint.id)))
        await session.execute(
            insert(ComplaintEvent),
            [{"complaint_id": cid, "kind": "filed", "actor_id": user.id, "note": "", "created_at": now} for cid in ids],
        )
    out = tmp_path / "all.xlsx"
    result = await export(db, "--out", str(out))
    assert result.exit_code == 0 and "已导出 600 件投诉（办理记录 600 条）" in result.output
    sheets = rows(out)
    assert len(sheets["投诉"]) == 601 and sheets["投诉"][-1][0] == "TS-2026-000600"
    assert len(sheets["办理记录"]) == 601 and sheets["办理记录"][-1][3] == "投诉人"
