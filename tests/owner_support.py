"""Shared set-up for the owner tests: a core writing its files under the test's folder, a cadre's failing report."""

from __future__ import annotations

from sqlalchemy import select

from handlers.assembly import build_core
from handlers.context import CoreConfig
from storage.models import OutboxMessage
from tests.chat_driver import Person
from tests.inspection_support import answer_one_failure


def owner_core(db, clock, tmp_path, username: str = "shixiao_test_bot"):
    return build_core(db, clock, CoreConfig(charts_dir=tmp_path / "charts", bot_username=username))


async def inspect_with_one_failure(cadre: Person, unit: str = "老王小吃店", deadline: str = "10天后") -> None:
    """检查上报 on the unit: one failing item (common.scope), 整改规范类 with a deadline, submitted (a unit being put
    right is re-inspected from its last report, the item failing again)."""
    await cadre.press("检查上报")
    await cadre.press(unit)
    if "仍要开始新的检查吗" in cadre.last.text:  # an earlier report still waits for the township's review
        await cadre.press("继续检查")
    await answer_one_failure(cadre)
    await cadre.press("完成（已传0张）")
    await cadre.press("跳过")
    await cadre.press("同意此判定")
    await cadre.press("整改规范类（建议）")
    await cadre.text(deadline)
    await cadre.press("确认")
    assert "【检查报告摘要】" in cadre.last.text, cadre.last.text
    await cadre.press("✅ 提交")
    assert "已提交" in cadre.last.text, cadre.last.text


async def outbox_to(db, chat_id: int, after: int = 0) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.chat_id == chat_id, OutboxMessage.id > after)
                .order_by(OutboxMessage.id)
            )
        )


async def last_outbox_id(db) -> int:
    async with db.transaction() as session:
        from sqlalchemy import func

        return int(await session.scalar(select(func.max(OutboxMessage.id))) or 0)
