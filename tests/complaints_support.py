"""Shared set-up for complaint tests: walking a resident through filing, reading notices and rows."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from storage.complaint_models import Complaint, ComplaintEvent
from storage.db import Database
from storage.models import OutboxMessage
from tests.chat_driver import Person
from tests.log_audit import personal


async def file_complaint(
    person: Person,
    *,
    category: str = "无证经营",
    township: str = "岩头镇",
    village: str = "芙蓉村",
    unit: str | None = "老王小卖部",
    pick: str | None = None,
    description: str = "没有营业执照，天天开门卖烟酒",
    photos: int = 0,
    identity: str = "匿名提交",
    name: str | None = None,
    phone: str | None = None,
    confirm: bool = True,
) -> str | None:
    """File from the menu; returns the tracking number (None when not confirmed)."""
    personal(name)  # never in a log line (tests/log_audit.py)
    await person.command("menu")
    await person.press("投诉举报")
    await person.press(category)
    await person.press(township)
    await person.press(village)
    if unit is None:
        await person.press("不清楚，跳过")
    else:
        await person.text(unit)
        if pick is not None:
            await person.press(pick)
    await person.text(description)
    for _ in range(photos):
        await person.photo()
    if photos < 6:
        await person.press("完成")
    await person.press(identity)
    if name is not None:
        await person.text(name)
    if phone is not None:
        await person.text(phone)
    assert "确认提交吗" in person.last.text, person.last.text
    if not confirm:
        return None
    await person.press("确认提交")
    found = re.search(r"编号：(TS-\d{4}-\d{6})", person.last.text)
    assert found, person.last.text
    return found[1]


async def notices_to(db: Database, chat_id: int, contains: str = "") -> list[dict]:
    """Payloads queued for a chat (notifications written in the same transaction as the change)."""
    async with db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id)
        )
        return [row.payload for row in rows if contains in row.payload.get("text", "")]


def button(payload: dict, label: str) -> str:
    for row in payload.get("buttons", []):
        for item in row:
            if item["label"] == label:
                return item["data"]
    raise AssertionError(f"no button {label!r} in {payload.get('buttons')}")


async def complaint(db: Database, number: str) -> Complaint:
    async with db.transaction() as session:
        found = await session.scalar(select(Complaint).where(Complaint.number == number))
        assert found is not None
        return found


async def count(db: Database, model) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def events(db: Database, number: str) -> list[ComplaintEvent]:
    async with db.transaction() as session:
        found = await session.scalar(select(Complaint).where(Complaint.number == number))
        assert found is not None
        rows = await session.scalars(
            select(ComplaintEvent).where(ComplaintEvent.complaint_id == found.id).order_by(ComplaintEvent.id)
        )
        return list(rows)
