"""Issue 17 item 6 beyond the reports: a resident's complaint photo, a cadre's closure-visit photo and an owner's
已整改 photo are each downloaded once by the photo keeper, stored by their sha256, retried with a doubling delay and
flagged when they keep failing; the complaint export names its photos by their stable path, and a backup carries
them. The flows are the real chat flows; the channel is the scripted fake of tests/test_photo_keeper.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from scheduler.sender import PermanentFailure, TemporaryFailure
from storage.complaint_models import ComplaintPhoto
from storage.kept_photo_models import PhotoOf, RecordPhoto
from storage.media import describe
from storage.media_backup import referenced_photos
from storage.models import Role
from tests.chat_driver import Person, register
from tests.complaints_support import file_complaint
from tests.inspection_support import add_unit
from tests.owner_support import inspect_with_one_failure, owner_core
from tests.test_closures import classify_to_close
from tests.test_complaints_export import app, export, rows, runner
from tests.test_photo_keeper import PHOTO, ScriptedSource, keeper


async def complaint_with_photo(core, db, clock) -> None:
    resident = Person(core, 1402)
    await resident.command("start")
    assert await file_complaint(resident, photos=1)


async def closure_visit_with_photo(core, db, clock, unit: str = "老王小吃店") -> None:
    await add_unit(db, clock, "芙蓉村", unit)
    await register(core, db, clock, 645, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 646, Role.CADRE, "芙蓉村", "李建国")
    await classify_to_close(cadre, unit)
    await cadre.press("待关停单位")
    await cadre.press(f"{unit} · 岩头镇芙蓉村")
    await cadre.press("已关停")
    await cadre.press("今天")
    await cadre.photo()
    await cadre.press("确认记录")
    assert f"已记录：{unit}已关停" in cadre.last.text, cadre.last.text


async def owner_fix_with_photo(core, db, clock) -> None:
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    cadre = await register(core, db, clock, 7202, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press_data(f"m.owner_invite.{unit_id}")
    owner = Person(core, 7301)
    await owner.command("start", cadre.last.text.split("业主邀请码：")[1][:8])
    await owner.text("王老板")
    await inspect_with_one_failure(cadre)
    await owner.press_data(f"m.fix_report.{unit_id}")
    await owner.press(owner.buttons()[0])
    await owner.photo()
    await owner.press("完成（已传1张）")
    await owner.text("已按执照核定范围经营")
    await owner.press("提交（已报1项）")
    assert "上门复查" in owner.last.text, owner.last.text


RECORDS = {
    "complaint": complaint_with_photo,
    PhotoOf.CLOSURE: closure_visit_with_photo,
    PhotoOf.OWNER_FIX: owner_fix_with_photo,
}


async def the_photo(db, kind: str) -> ComplaintPhoto | RecordPhoto:
    """The record's one photo row (the chat driver's photo is the file id "file-1")."""
    async with db.transaction() as session:
        if kind == "complaint":
            return (await session.scalars(select(ComplaintPhoto))).one()
        return (await session.scalars(select(RecordPhoto).where(RecordPhoto.kind == kind))).one()


@pytest.mark.parametrize("kind", list(RECORDS))
async def test_a_photo_is_retried_then_kept_once_by_its_hash(kind, db, clock, tmp_path):
    await RECORDS[kind](owner_core(db, clock, tmp_path), db, clock)
    source = ScriptedSource(TemporaryFailure("502"), PHOTO)
    worker = keeper(db, clock, source, tmp_path)
    assert await worker.round() == 1
    photo = await the_photo(db, kind)
    assert (photo.channel, photo.attempts, photo.failed, photo.sha256) == ("telegram", 1, False, None)
    assert photo.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert await worker.round() == 0  # not before its time
    clock.advance(timedelta(seconds=30))
    assert await worker.round() == 1
    photo = await the_photo(db, kind)
    stored = describe(PHOTO)
    assert (photo.sha256, photo.extension, photo.attempts, photo.failed) == (stored.sha256, "png", 2, False)
    assert (tmp_path / "media" / stored.key).read_bytes() == PHOTO
    clock.advance(timedelta(days=1))
    assert await worker.round() == 0  # kept: never fetched again
    assert source.fetched == ["file-1", "file-1"]
    if kind == PhotoOf.OWNER_FIX:
        assert photo.item_id == "common.scope"  # the fixed item the photo shows
    url = make_url(db.url)
    if url.get_backend_name() == "sqlite":  # what `shixiao backup` copies beside the database file
        assert stored in referenced_photos(Path(url.database or ""))


@pytest.mark.parametrize("kind", list(RECORDS))
async def test_a_photo_that_keeps_failing_is_flagged(kind, db, clock, tmp_path):
    await RECORDS[kind](owner_core(db, clock, tmp_path), db, clock)
    source = ScriptedSource(*(TemporaryFailure("502") for _ in range(3)))
    worker = keeper(db, clock, source, tmp_path)
    for wait in (0, 30, 60):
        clock.advance(timedelta(seconds=wait))
        assert await worker.round() == 1
    photo = await the_photo(db, kind)
    assert (photo.attempts, photo.failed, photo.sha256) == (3, True, None)  # flagged after the third failure
    assert "502" in (photo.last_error or "")
    clock.advance(timedelta(days=1))
    assert await worker.round() == 0  # given up: never tried again
    assert source.fetched == ["file-1"] * 3


async def test_the_complaint_names_its_photos_by_path_and_flags_those_not_kept(db, clock, tmp_path):
    core = owner_core(db, clock, tmp_path)
    official = await register(core, db, clock, 1301, Role.TOWNSHIP, "岩头镇", "赵乡长")
    resident = Person(core, 1402)
    await resident.command("start")
    kept = await file_complaint(resident, photos=1)
    lost = await file_complaint(resident, photos=1, unit="芙蓉饭店")
    worker = keeper(db, clock, ScriptedSource(PHOTO, PermanentFailure("file is too big")), tmp_path)
    assert await worker.round() == 2

    out = tmp_path / "投诉.xlsx"
    result = await export(db, "--out", str(out))
    assert result.exit_code == 0, result.output
    main = rows(out)["投诉"]
    by_number = {row[0]: dict(zip(main[0], row, strict=True)) for row in main[1:]}
    assert (by_number[kept]["照片数"], by_number[kept]["照片引用"]) == (1, describe(PHOTO).path)
    assert by_number[lost]["照片引用"] == "未能保存"
    assert "file-1" not in str(main)  # a Telegram file id means nothing outside the bot

    await official.command("track", lost)
    assert "照片：1张（⚠️其中1张多次下载失败，未能保存）" in official.last.text, official.last.text
    await official.command("track", kept)
    assert "照片：1张" in official.last.text and "未能保存" not in official.last.text


async def export_inspections(db, out: Path, *args: str) -> dict[str, list[tuple]]:
    env = {"SHIXIAO_DATABASE_URL": db.url, "SHIXIAO_TELEGRAM_TOKEN": ""}
    command = ["export", "inspections", "--out", str(out), *args]
    result = await asyncio.to_thread(runner.invoke, app, command, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return rows(out)


async def test_the_inspections_export_lists_fixes_and_closures_with_their_photos(db, clock, tmp_path):
    """The owner's 已整改 report and the closure visit, each with its photo by reference (待保存 until kept)."""
    core = owner_core(db, clock, tmp_path)
    await owner_fix_with_photo(core, db, clock)
    await closure_visit_with_photo(core, db, clock, "芙蓉面馆")
    out = tmp_path / "检查.xlsx"
    sheets = await export_inspections(db, out)
    assert list(sheets) == ["检查报告", "检查项结果", "业主整改", "关停核实"]
    [header, fix] = sheets["业主整改"]
    fixed = dict(zip(header, fix, strict=True))
    assert (fixed["单位名称"], fixed["乡镇"], fixed["村"]) == ("老王小吃店", "岩头镇", "芙蓉村")
    assert fixed["检查项"] == "实际经营项目与执照、许可证核定的范围一致，不超范围经营"  # its text, not its id
    assert (fixed["业主说明"], fixed["照片数"], fixed["照片引用"]) == ("已按执照核定范围经营", 1, "待保存")
    assert str(fixed["所整改的检查报告"]).startswith("JC")
    [header, closure] = sheets["关停核实"]
    closed = dict(zip(header, closure, strict=True))
    assert (closed["单位名称"], closed["结果"], closed["记录人"], closed["记录方式"]) == (
        "芙蓉面馆",
        "已关停",
        "李建国",
        "村干部上门核实",
    )
    assert (closed["照片数"], closed["照片引用"]) == (1, "待保存")
    assert "file-1" not in str(sheets)  # a Telegram file id means nothing outside the bot

    worker = keeper(db, clock, ScriptedSource(PHOTO, PermanentFailure("file is too big")), tmp_path)
    assert await worker.round() == 2
    sheets = await export_inspections(db, out)
    references = {sheets["业主整改"][1][-1], sheets["关停核实"][1][-2]}
    assert references == {describe(PHOTO).path, "未能保存"}
    # Filters as for the reports: another township's export, or one before the records were made, has neither.
    for args in (["--area", "桥下镇"], ["--to", "2026-01-01"]):
        sheets = await export_inspections(db, out, *args)
        assert len(sheets["业主整改"]) == len(sheets["关停核实"]) == 1, args
