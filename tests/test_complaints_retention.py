"""Less personal data at rest: anonymous locations to about 100 m everywhere, delivered messages' text blanked after
the retention period, abandoned drafts deleted after the conversation timeout."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings
from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from handlers.events import Kind
from handlers.inspection.evidence import distance_m
from scheduler.jobs import job_specs
from scheduler.retention_jobs import Retention, purge_expired
from storage.areas import find_area, load_county
from storage.complaint_models import Complaint
from storage.complaints import anonymous_location
from storage.db import Database
from storage.models import AreaLevel, Conversation, OutboxMessage, OutboxStatus, Role
from tests.chat_driver import Person
from tests.complaints_support import complaint
from tests.old_schema import USERS_0009

PRECISE = (28.153817, 120.690452)


async def file_located(core, user_id: int, identity: str, *, submit: bool = True) -> Person:
    person = Person(core, user_id)
    await person.command("start")
    await person.press("投诉举报")
    await person.press("食品过期变质")
    await person.press("📍 发送位置")
    await person._send(kind=Kind.LOCATION, location=PRECISE)
    await person.press("岩头镇")
    await person.press("不确定是哪个村")
    await person.press("不清楚，跳过")
    await person.text("货架上的牛奶过期两个月了")
    await person.press("完成")
    await person.press(identity)
    if identity == "实名提交":
        await person.text("王小明")
        await person._send(kind=Kind.CONTACT, phone="13812345678")
    if submit:
        await person.press("确认提交")
    return person


async def test_an_anonymous_location_is_kept_to_about_100_m_in_the_draft_the_row_and_the_export(
    core, db, clock, tmp_path
):
    anonymous = await file_located(core, 1501, "匿名提交", submit=False)
    async with db.transaction() as session:
        draft = (await session.scalars(select(Conversation))).one().data
    assert (draft["lat"], draft["lon"]) == (28.154, 120.69)  # rounded once anonymity is chosen
    await anonymous.press("确认提交")
    await file_located(core, 1502, "实名提交")
    stored = await complaint(db, "TS-2026-000001")
    assert (stored.anonymous, stored.latitude, stored.longitude) == (True, 28.154, 120.69)
    real = await complaint(db, "TS-2026-000002")
    assert (real.anonymous, real.latitude, real.longitude) == (False, *PRECISE)  # the county may call back

    out = tmp_path / "投诉.xlsx"
    env = {"SHIXIAO_DATABASE_URL": db.url, "SHIXIAO_TELEGRAM_TOKEN": ""}
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["export", "complaints", "--out", str(out)], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    anonymous_row = next(row for row in _sheet_rows(out) if "TS-2026-000001" in row)
    assert 28.154 in anonymous_row and 120.69 in anonymous_row
    assert PRECISE[0] not in anonymous_row and PRECISE[1] not in anonymous_row


def test_the_rounding_moves_a_point_no_more_than_about_75_m_and_blurs_it_over_about_100_m():
    """Over 10,000 seeded points in the county's latitudes (27.5-29.5°N): rounding to 3 decimals moves a point at
    most half a step each way (55.6 m north-south, 49 m east-west at 28°N, 74 m diagonally), and two points a step
    apart are never told apart by less than the step."""
    rng = random.Random(21)
    points = [(rng.uniform(27.5, 29.5), rng.uniform(119.5, 121.5)) for _ in range(10_000)]
    moved = [distance_m(point, anonymous_location(*point)) for point in points]
    worst, mean = max(moved), sum(moved) / len(moved)
    print(f"anonymous locations: {len(points)} points, moved at most {worst:.1f} m, on average {mean:.1f} m")
    assert 60 < worst <= 75.5 and 25 < mean < 45  # blurred: not exact, not further than the half-diagonal
    assert distance_m((28.0, 120.0), (28.001, 120.0)) == pytest.approx(111.2, abs=0.1)  # one step: about 100 m
    assert all(len(f"{value}".partition(".")[2]) <= 3 for point in points[:100] for value in anonymous_location(*point))


def _sheet_rows(path) -> list[tuple]:
    book = load_workbook(path, read_only=True)
    try:
        return list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


async def test_migration_0012_rounds_the_anonymous_locations_already_stored(db_url):
    database = Database(db_url)
    await database.upgrade("0009")
    now = datetime(2026, 5, 6, 1, 0, tzinfo=UTC)
    rows = sa.table(
        "complaints",
        *(
            sa.column(name)
            for name in (
                "id",
                "number",
                "year",
                "seq",
                "submit_key",
                "category",
                "status",
                "complainant_id",
                "anonymous",
                "township_id",
                "office_area_id",
                "description",
                "latitude",
                "longitude",
                "due_on",
                "reopen_count",
                "created_at",
                "updated_at",
            )
        ),
    )
    async with database.transaction() as session:  # the areas and users tables are as 0009 left them
        await load_county(session, parse_area_file(SAMPLE_COUNTY), now)
        township = await find_area(session, "岩头镇", AreaLevel.TOWNSHIP)
        await session.execute(
            sa.insert(USERS_0009).values(id=1, channel_user_id=7, role=Role.RESIDENT, created_at=now, last_seen_at=now)
        )
    async with database.engine.begin() as conn:
        for number, anonymous in ((1, True), (2, False)):
            await conn.execute(
                sa.insert(rows).values(
                    id=number,
                    number=f"TS-2026-00000{number}",
                    year=2026,
                    seq=number,
                    submit_key=f"k{number}",
                    category="expired",
                    status="submitted",
                    complainant_id=1,
                    anonymous=anonymous,
                    township_id=township.id,
                    office_area_id=township.id,
                    description="过期牛奶",
                    latitude=PRECISE[0],
                    longitude=PRECISE[1],
                    due_on=now.date(),
                    reopen_count=0,
                    created_at=now,
                    updated_at=now,
                )
            )
    await database.upgrade()
    async with database.transaction() as session:
        stored = {c.id: (c.latitude, c.longitude) for c in await session.scalars(select(Complaint))}
    await database.dispose()
    assert stored == {1: (28.154, 120.69), 2: PRECISE}


async def test_delivered_messages_lose_their_text_after_the_retention_period(db, clock):
    now = clock.now()
    payload = {
        "text": "【投诉进展】TS-2026-000001 状态：已受理 说明：已联系王女士",
        "buttons": [[{"label": "x", "data": "y"}]],
    }
    async with db.transaction() as session:
        for chat_id, status, sent_days_ago in (
            (1, OutboxStatus.SENT, 31),
            (2, OutboxStatus.SENT, 29),
            (3, OutboxStatus.PENDING, None),
            (4, OutboxStatus.FAILED, None),
        ):
            sent = now - timedelta(days=sent_days_ago) if sent_days_ago else None
            session.add(
                OutboxMessage(
                    channel="telegram",
                    chat_id=chat_id,
                    kind="message",
                    payload=dict(payload),
                    status=status,
                    attempts=1,
                    created_at=now - timedelta(days=40),
                    sent_at=sent,
                )
            )
    assert await purge_expired(db, clock, Retention()) == (1, 0)
    assert await purge_expired(db, clock, Retention()) == (0, 0)  # already blank: nothing more to do
    async with db.transaction() as session:
        kept = {row.chat_id: row.payload for row in await session.scalars(select(OutboxMessage))}
    assert kept[1] == {"text": "", "purged": True}
    assert kept[2] == kept[3] == kept[4] == payload
    clock.advance(timedelta(days=2))
    assert await purge_expired(db, clock, Retention()) == (1, 0)
    print(
        "outbox retention: 4 rows; delivered 31 days ago blanked, 29 days ago, pending and failed kept; 2 days on, 1 more"
    )
    assert await purge_expired(db, clock, Retention(outbox=timedelta(days=100))) == (0, 0)


async def test_abandoned_drafts_are_deleted_after_the_conversation_timeout(core, db, clock):
    abandoned = await file_located(core, 1601, "匿名提交", submit=False)
    clock.advance(timedelta(days=5))
    fresh = await file_located(core, 1602, "匿名提交", submit=False)
    clock.advance(timedelta(days=2, minutes=1))
    assert await purge_expired(db, clock, Retention()) == (0, 1)
    print("draft expiry: 2 drafts idle 7 days 1 minute and 2 days 1 minute: 1 deleted, 1 kept")
    async with db.transaction() as session:
        left = list(await session.scalars(select(Conversation)))
    assert len(left) == 1 and left[0].data["lat"] == 28.154
    await abandoned.press("确认提交")  # the draft is gone: nothing is filed from it
    assert "投诉已提交" not in abandoned.last.text
    await fresh.press("确认提交")
    assert "投诉已提交" in fresh.last.text
    async with db.transaction() as session:
        assert len(list(await session.scalars(select(Complaint)))) == 1


def test_the_retention_setting_and_its_daily_job():
    assert Settings(_env_file=None).outbox_retention_days == 30
    assert Retention().outbox == timedelta(days=30) and Retention().conversations == timedelta(days=7)
    spec = next(spec for spec in job_specs() if spec.id == "retention")
    assert spec.func == "scheduler.jobs:retention" and spec.cron == {"hour": 3, "minute": 30}
