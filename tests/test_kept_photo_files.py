"""Kept photos outside the chat: the terminal's /photo FILE kept like a Telegram photo, exports naming photos by
their stable path in the media store, and `shixiao backup` / `restore` carrying the photos with the database."""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil

import pytest
from openpyxl import load_workbook
from rich.progress import Progress
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.cli import app
from bot.terminal import TerminalPhotoSource, TerminalTransport, chat, parse_line, simulated_photo
from bot.xlsx_exports import write_inspections
from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from scheduler.photo_keeper import PhotoKeeper
from storage import inspections
from storage.areas import load_county
from storage.clock import SystemClock
from storage.db import Database
from storage.inspection_models import InspectionPhoto
from storage.media import LocalMediaStore, describe
from storage.models import Role
from storage.users import create_user
from tests.emulator import make_png
from tests.inspection_support import add_unit

FRONT, BACK = make_png(4, 4, (9, 9, 9)), make_png(5, 5, (90, 90, 90))


async def report_with_photos(db, clock, photos: list[dict], key: str = "k1") -> int:
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    async with db.transaction() as session:
        cadre = await create_user(session, 9100 + len(key), clock.now(), Role.CADRE)
        report = inspections.Report(
            unit_id=unit_id,
            submit_key=key,
            industry="small_restaurant",
            answers={},
            notes={},
            proposed_compliant=True,
            compliant=True,
            unit_class="upgrade",
            photos=photos,
        )
        inspection, _ = await inspections.submit(session, report, cadre.id, clock.now())
        return inspection.id


@pytest.mark.slow
async def test_a_terminal_photo_file_is_kept_by_the_terminal_chat(db, clock, core, tmp_path):
    picture = tmp_path / "门店.png"
    picture.write_bytes(FRONT)
    typed = parse_line(f"/photo {picture}", 7, TerminalTransport(io.StringIO()))
    simulated = parse_line("/photo", 7, TerminalTransport(io.StringIO()))
    photos = [{"file_id": inbound.photo.file_id, "channel": "terminal"} for inbound in (typed, simulated)]
    await report_with_photos(db, clock, photos)
    store = LocalMediaStore(tmp_path / "media")
    # The chat keeps pending terminal photos as it delivers: here before the first line is even read.
    await chat(core, db, 7, out=io.StringIO(), read_line=lambda: (_ for _ in ()).throw(EOFError), media=store)
    async with db.transaction() as session:
        kept = list(await session.scalars(select(InspectionPhoto).order_by(InspectionPhoto.id)))
    assert [photo.sha256 for photo in kept] == [
        hashlib.sha256(FRONT).hexdigest(),
        hashlib.sha256(simulated_photo()).hexdigest(),
    ]
    assert await store.get(describe(FRONT).key) == FRONT
    assert simulated_photo().startswith(b"\x89PNG\r\n\x1a\n")


async def test_a_terminal_photo_whose_file_is_gone_is_flagged(db, clock, tmp_path):
    picture = tmp_path / "gone.jpg"
    picture.write_bytes(b"\xff\xd8\xff")
    await report_with_photos(db, clock, [{"file_id": str(picture), "channel": "terminal"}])
    picture.unlink()
    keeper = PhotoKeeper(db, TerminalPhotoSource(), LocalMediaStore(tmp_path / "media"), clock, "terminal")
    assert await keeper.round() == 1
    async with db.transaction() as session:
        photo = (await session.scalars(select(InspectionPhoto))).one()
    assert photo.failed and photo.sha256 is None


async def test_telegram_photos_are_left_to_the_telegram_runtime(db, clock, tmp_path):
    await report_with_photos(db, clock, [{"file_id": "AgACAgUAAx", "channel": "telegram"}])
    keeper = PhotoKeeper(db, TerminalPhotoSource(), LocalMediaStore(tmp_path / "media"), clock, "terminal")
    assert await keeper.round() == 0


async def test_the_inspection_export_names_photos_by_their_stable_path(db, clock, tmp_path):
    await report_with_photos(db, clock, [{"file_id": "a"}, {"file_id": "b"}, {"file_id": "c"}])
    store = LocalMediaStore(tmp_path / "media")
    front = await keep_as(db, store, "a", FRONT)
    async with db.transaction() as session:
        await session.execute(update(InspectionPhoto).where(InspectionPhoto.file_id == "b").values(failed=True))
    out = tmp_path / "inspections.xlsx"
    await write_inspections(db, out, Progress(disable=True), None, None, None, None, clock.tz)
    sheet = load_workbook(out)["检查报告"]
    header = [cell.value for cell in sheet[1]]
    row = [cell.value for cell in sheet[2]]
    references = row[header.index("照片引用")].split("|")
    assert sorted(references) == sorted([front, "未能保存", "待保存"])
    assert front == f"media/{describe(FRONT).sha256[:2]}/{describe(FRONT).sha256[2:4]}/{describe(FRONT).sha256}.png"
    assert "AgAC" not in row[header.index("照片引用")]


async def keep_as(db, store, file_id: str, data: bytes) -> str:
    from storage.kept_photos import mark_stored
    from storage.media import keep

    stored = await keep(store, data)
    async with db.transaction() as session:
        photo_id = await session.scalar(select(InspectionPhoto.id).where(InspectionPhoto.file_id == file_id))
        await mark_stored(session, photo_id, stored, SystemClock().now())
    return stored.path


def test_backup_carries_the_photos_and_restore_puts_them_back(tmp_path):
    live, media = tmp_path / "data" / "shixiao.db", tmp_path / "data" / "media"
    env = {
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{live}",
        "SHIXIAO_TELEGRAM_TOKEN": "",
        "SHIXIAO_MEDIA_DIR": str(media),
    }

    async def prepare() -> None:
        db = Database(env["SHIXIAO_DATABASE_URL"])
        await db.upgrade()
        clock = SystemClock()
        async with db.transaction() as session:
            await load_county(session, parse_area_file(SAMPLE_COUNTY), clock.now())
        await report_with_photos(db, clock, [{"file_id": "a"}, {"file_id": "b"}, {"file_id": "c"}])
        store = LocalMediaStore(media)
        await keep_as(db, store, "a", FRONT)
        await keep_as(db, store, "b", BACK)
        await db.dispose()

    asyncio.run(prepare())
    runner = CliRunner()
    backups = tmp_path / "backups"
    backups.mkdir()
    done = runner.invoke(app, ["backup", "--out", str(backups / "b.db")], env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert "照片：2 张" in done.output
    for data in (FRONT, BACK):
        assert (backups / "b.db.media" / describe(data).key).read_bytes() == data

    shutil.rmtree(media)  # the disk with the photos is lost
    damaged = backups / "b.db.media" / describe(BACK).key
    damaged.write_bytes(b"\xff\xd8 not the photo")
    done = runner.invoke(app, ["restore", str(backups / "b.db"), "--yes"], env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    assert (media / describe(FRONT).key).read_bytes() == FRONT
    assert not (media / describe(BACK).key).exists()  # a damaged copy is never stored under the photo's name
    assert "已恢复 1 张" in done.output and "1 张照片文件已损坏" in done.output
