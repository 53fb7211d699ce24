"""End to end through DingTalk: `shixiao run --runtime dingtalk` as a real process, its official `dingtalk-stream`
SDK connected to a local fake DingTalk (tests/dingtalk_fake.py: the Stream gateway and the OpenAPI)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.clock import SystemClock
from storage.db import Database
from storage.inspection_models import Inspection, InspectionPhoto
from storage.models import Role
from tests.chat_driver import make_invite
from tests.complaints_support import file_complaint
from tests.dingtalk_fake import CARD_TOPIC, CLIENT_ID, CLIENT_SECRET, DingTalkPerson, FakeDingTalk
from tests.inspection_support import add_unit
from tests.log_audit import AUDIT, personal

pytest.importorskip("dingtalk_stream")
REPO = Path(__file__).resolve().parent.parent


class DingTalkBot:
    def __init__(self, fake: FakeDingTalk, database_url: str, workdir: Path) -> None:
        self.log = workdir / "dingtalk-bot.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SHIXIAO_DATABASE_URL": database_url,
            "SHIXIAO_TELEGRAM_TOKEN": "",
            "SHIXIAO_DINGTALK_CLIENT_ID": CLIENT_ID,
            "SHIXIAO_DINGTALK_CLIENT_SECRET": CLIENT_SECRET,
            "DINGTALK_OPENAPI_ENDPOINT": fake.base,
            "SHIXIAO_DINGTALK_PER_CHAT_INTERVAL": "0.05",
            "SHIXIAO_MEDIA_DIR": str(workdir / "media"),
            "SHIXIAO_MEDIA_POLL_SECONDS": "0.1",
            "SHIXIAO_DATA_DIR": str(workdir / "data"),
            "SHIXIAO_SAMPLE_REGISTER": "false",
        }  # the tests' own register only
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        AUDIT.watch(self.log)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--runtime", "dingtalk"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> DingTalkBot:
        self.launch()
        assert self.process is not None
        deadline = time.monotonic() + 60
        while "ready (Stream mode)" not in self.log.read_text(errors="replace"):
            assert self.process.poll() is None, self.log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the DingTalk runtime did not start"
            await asyncio.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def join(
    fake: FakeDingTalk, db: Database, staff_id: str, role: Role, area: str | None, name: str
) -> DingTalkPerson:
    personal(name)
    person = DingTalkPerson(fake, staff_id, name)
    assert "真实姓名" in await person.command("start", await make_invite(db, SystemClock(), role, area))
    assert "登记完成" in await person.text(name)
    return person


async def count(db: Database, model) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def eventually(check, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_a_cadre_reports_and_a_complaint_reaches_the_township_through_dingtalk(db_url, tmp_path):
    async with FakeDingTalk() as fake:
        bot = await DingTalkBot(fake, db_url, tmp_path).start()
        db = Database(db_url)
        try:
            await add_unit(db, SystemClock(), "芙蓉村", "老王小吃店")
            # Someone not registered is told how to begin, in Chinese; nothing is created for them.
            stranger = DingTalkPerson(fake, "staff-stranger", "路人")
            assert "请发送 /start 开始使用" in await stranger.text("你好")

            township = await join(fake, db, "staff-township", Role.TOWNSHIP, "岩头镇", "陈镇长")
            cadre = await join(fake, db, "staff-cadre", Role.CADRE, "芙蓉村", "李建国")
            await cadre.press("检查上报")
            assert "请选择要检查的单位" in cadre.last.text
            await cadre.press("老王小吃店")
            assert "检查第1/" in cadre.last.text
            assert "检查第2/" in await cadre.text("1")  # the first choice by its number: ✓ 符合
            await cadre.press("✗ 不符合")
            assert "请简要说明" in cadre.last.text
            await cadre.text("未亮证亮照")
            await cadre.press("余下各项均符合")
            assert "燃气" in cadre.last.text
            await cadre.text("否")  # a choice typed as its label
            assert "请拍摄现场照片" in cadre.last.text
            assert "第1张照片已保存" in await cadre.photo()
            await cadre.press("完成（已传1张）")
            assert "钉钉中无法发送位置" in cadre.last.text
            await cadre.text("跳过")
            await cadre.press("同意此判定")
            await cadre.press("整改规范类（建议）")
            await cadre.text("7天后")
            await cadre.press("确认")
            assert "【检查报告摘要】" in cadre.last.text
            assert "已提交" in await cadre.press("✅ 提交")
            assert await count(db, Inspection) == 1

            async def photo_kept() -> bool:
                async with db.transaction() as session:
                    photo = await session.scalar(select(InspectionPhoto))
                    return photo is not None and photo.sha256 is not None and photo.channel == "dingtalk"

            await eventually(photo_kept)  # downloaded through the robot API after the commit, into the store
            assert fake.downloads == 1

            # A resident's complaint: its notice reaches the township official's DingTalk.
            resident = DingTalkPerson(fake, "staff-resident", "王阿姨")
            assert "已作为居民登记" in await resident.command("start")
            before = len(fake.to(township.staff_id))
            number = await file_complaint(resident, unit=None)

            async def notified() -> bool:
                return any("【新投诉】" in text and number in text for text in fake.to(township.staff_id)[before:])

            await eventually(notified)

            # A forged card callback (data no button of ours carries) gets a Chinese answer and changes nothing.
            before = len(fake.to(cadre.staff_id))
            await fake.push(
                CARD_TOPIC,
                {
                    "userId": cadre.staff_id,
                    "outTrackId": "card-1",
                    "corpId": "corp",
                    "content": json.dumps({"cardPrivateData": {"params": {"data": "x.forged"}}}),
                },
            )
            assert "这个按钮无效" in await cadre.answer(before)
            assert await count(db, Inspection) == 1
            # Every frame was acknowledged, each after it was handled (the SDK acknowledges when the handler returns).
            await eventually(lambda: _all_acked(fake))
        finally:
            bot.stop()
            await db.dispose()
        assert "Traceback" not in bot.log.read_text(errors="replace")


async def _all_acked(fake: FakeDingTalk) -> bool:
    return bool(fake.acks) and all(code == 200 for code in fake.acks.values())
