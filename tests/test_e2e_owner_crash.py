"""Issue 15, item 8's crash clause: a real bot process killed with SIGKILL while it renders an owner's 整改告知单
(the notice already delivered and recorded) loses nothing and repeats nothing: restarted, it sends the sheet once
and the notice not again."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from storage.areas import load_county
from storage.clock import SystemClock
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, Role
from tests.chat_driver import Person, register
from tests.inspection_support import add_unit
from tests.owner_support import inspect_with_one_failure, owner_core
from tests.telegram_harness import BotProcess
from tests.test_e2e_scheduler import outbox_drained

OWNER = 3203


async def notice_recorded(db: Database, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with db.transaction() as session:
            status = await session.scalar(
                select(OutboxMessage.status)
                .where(OutboxMessage.chat_id == OWNER, OutboxMessage.kind == "message")
                .order_by(OutboxMessage.id.desc())
            )
        if status == OutboxStatus.SENT:
            return
        assert asyncio.get_running_loop().time() < deadline, "the owner's notice was not delivered"
        await asyncio.sleep(0.01)


async def test_killed_while_rendering_the_sheet_the_owner_gets_each_message_once(emulator, tmp_path, runtime):
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'owner.db'}"
    db = Database(database_url)
    await db.upgrade()
    clock = SystemClock()
    async with db.transaction() as session:
        await load_county(session, parse_area_file(SAMPLE_COUNTY), clock.now())
    core = owner_core(db, clock, tmp_path)
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    emulator.user(3201, "陈镇长")
    emulator.user(3202, "李建国")
    owner_chat = emulator.user(OWNER, "王老板")
    await register(core, db, clock, 3201, Role.TOWNSHIP, "岩头镇", "陈镇长")
    cadre = await register(core, db, clock, 3202, Role.CADRE, "芙蓉村", "李建国")
    await cadre.press_data(f"m.owner_invite.{unit_id}")
    owner = Person(core, OWNER)
    await owner.command("start", cadre.last.text.split("业主邀请码：")[1][:8])
    await owner.text("王老板")
    await inspect_with_one_failure(cadre)  # queued: the owner's notice and sheet (among the others' replies)

    env = {"SHIXIAO_DATA_DIR": str(tmp_path / "data")}
    process = BotProcess(emulator, database_url, tmp_path, runtime, env).start()
    try:
        await notice_recorded(db)
        process.kill()  # the sheet is being rendered (a fresh process imports matplotlib first): not yet sent
        assert [m.kind for m in owner_chat.messages if "【检查结果告知】" in (m.text or "")] == ["text"]
        assert [m for m in owner_chat.messages if m.kind == "document"] == []  # killed before the sheet went
        process = BotProcess(emulator, database_url, tmp_path, runtime, env).start()
        await owner_chat.expect(lambda m: m.kind == "document", timeout=60)
        await outbox_drained(db, timeout=60)
        kinds = [m.kind for m in owner_chat.messages if not m.is_edit]
        assert kinds.count("document") == 1
        assert len([m for m in owner_chat.messages if "【检查结果告知】" in (m.text or "")]) == 1
        assert "Traceback" not in process.log()
    finally:
        process.terminate()
        await db.dispose()
