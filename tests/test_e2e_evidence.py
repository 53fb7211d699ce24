"""End to end through the Telegram emulator (aiogram): a report's photos are downloaded once through the
client's public API (getFile, then /file/bot<token>/<path>) after the report is committed, retried when Telegram
fails, kept in the media store under their sha256; the township's review screen shows them as an album
(sendMediaGroup, uploaded from the store) before the report and its evidence."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import select

from storage.clock import SystemClock
from storage.inspection_models import InspectionPhoto
from storage.models import Role
from tests.emulator import make_png
from tests.inspection_support import add_unit
from tests.telegram_harness import RunningBot, bot_settings, join

FRONT = make_png(8, 6, (200, 30, 30))
KITCHEN = make_png(6, 8, (30, 160, 60))


@pytest.fixture
async def bot(emulator, db_url, runtime, tmp_path):
    """Retries after a tenth of a second, so a failed download is tried again within the test."""
    settings = bot_settings(emulator, db_url, media_dir=tmp_path / "media", media_retry_seconds=0.1)
    running = await RunningBot(settings, runtime).start()
    yield running
    await running.stop()


async def kept_photos(bot, count: int, within: float = 10.0) -> list[InspectionPhoto]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with bot.app.db.transaction() as session:
            photos = list(await session.scalars(select(InspectionPhoto).order_by(InspectionPhoto.id)))
        if len(photos) == count and all(photo.sha256 for photo in photos):
            return photos
        assert loop.time() < deadline, f"photos not kept: {[(p.attempts, p.last_error) for p in photos]}"
        await asyncio.sleep(0.05)


async def report_with_two_photos(cadre) -> None:
    await cadre.press("检查上报")
    await cadre.expect("请选择要检查的单位")
    await cadre.press("老王小吃店")
    await cadre.expect("检查第1/")
    await cadre.press("✓ 符合")
    await cadre.expect("检查第2/")
    await cadre.press("余下各项均符合")
    await cadre.expect("燃气")
    await cadre.press("否")
    await cadre.expect("请拍摄现场照片")
    await cadre.send_photo(FRONT)
    await cadre.expect("第1张照片已保存")
    await cadre.send_photo(KITCHEN)
    await cadre.expect("第2张照片已保存")
    await cadre.press("完成（已传2张）")
    await cadre.expect("发送检查地点的位置")
    await cadre.tap("📍 发送我的位置", latitude=28.15, longitude=120.69)
    await cadre.expect("各项检查均符合")
    await cadre.press("同意此判定")
    await cadre.expect("整治分类")
    await cadre.press("整合提升类（建议）")
    await cadre.expect("【检查报告摘要】")
    await cadre.press("✅ 提交")
    await cadre.expect("已提交")


async def test_photos_are_downloaded_once_kept_by_hash_and_shown_to_the_reviewer_as_an_album(emulator, bot):
    await add_unit(bot.app.db, SystemClock(), "芙蓉村", "老王小吃店")
    official = await join(emulator, bot, 3101, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await join(emulator, bot, 3102, Role.CADRE, "芙蓉村", "李建国")
    emulator.faults.add("getFile", "5xx", count=1)  # Telegram fails the first download: it is tried again
    await report_with_two_photos(cadre)

    photos = await kept_photos(bot, 2)
    expected = [hashlib.sha256(FRONT).hexdigest(), hashlib.sha256(KITCHEN).hexdigest()]
    assert [photo.sha256 for photo in photos] == expected
    assert [photo.extension for photo in photos] == ["png", "png"]
    assert sorted(photo.attempts for photo in photos) == [1, 2]  # the failed attempt counted, then kept
    assert not any(photo.failed for photo in photos)
    media = bot.settings.media_folder
    for sha256, data in zip(expected, (FRONT, KITCHEN), strict=True):
        assert (media / sha256[:2] / sha256[2:4] / f"{sha256}.png").read_bytes() == data
    downloads = [call for call in emulator.calls_to("getFile") if call.ok]
    assert len(downloads) == 2  # each photo fetched once, after its report was committed

    notice = await official.expect("新检查报告待审核")
    await official.press("立即审核", message=notice)
    review = await official.expect("请审核")
    album = [message for message in emulator.messages_to(official.chat_id) if message.method == "sendMediaGroup"]
    assert len(album) == 2
    assert album[0].caption and "现场照片（2张）" in album[0].caption
    assert len({message.payload["media_group_id"] for message in album}) == 1
    # Uploaded from the media store, not forwarded by file id: the product's own copies.
    assert [emulator.files.get(message.file_id).data for message in album] == [FRONT, KITCHEN]
    assert album[-1].message_id < review.message_id  # the photos come before the report and its buttons
    for expected_text in (
        "检查人：李建国",
        "照片：2张",
        "位置：28.15000, 120.69000（与单位登记位置相同）",
        "该单位此前没有检查报告",
        "该单位没有未办结的投诉",
    ):
        assert expected_text in review.content, review.content
