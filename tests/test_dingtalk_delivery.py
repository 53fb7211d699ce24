"""The DingTalk runtime's delivery under DingTalk's limits and failures, against the fake OpenAPI
(tests/dingtalk_fake.py) with its per-app limit (HTTP 429), its per-person flow control
(`flowControlledStaffIdList`) and injected 5xx answers: the outbox sender with the runtime's transport
(bot/dingtalk_transport.py) and the official SDK's access token in this process, then `shixiao run --runtime
dingtalk` as a real process answering people. Every reply reaches its person exactly once, in order."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

pytest.importorskip("dingtalk_stream")

import dingtalk_stream.stream
from dingtalk_stream import Credential, DingTalkStreamClient

import bot.dingtalk_transport as transport_module
from bot.dingtalk_transport import CHANNEL, DingTalkApi, DingTalkTransport, as_message
from scheduler.sender import Limits, Sender
from storage import channel_accounts, outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.dingtalk_fake import CLIENT_ID, CLIENT_SECRET, MESSAGES_TOPIC, FakeDingTalk

STAFF, REPLIES = 8, 5  # 40 replies
APP_LIMIT, PER_STAFF, WINDOW = 5, 1, 1.0  # the fake's limits: 5 sends a second per app, 1 a second per person
INJECTED = [500, 502, 503, 500, 504, 500]


@pytest.fixture
async def fake(monkeypatch):
    async with FakeDingTalk(per_window=APP_LIMIT, per_staff=PER_STAFF, window=WINDOW, staff_window=WINDOW) as fake:
        # What DINGTALK_OPENAPI_ENDPOINT does for a process, for this one (the SDK read it at import).
        monkeypatch.setattr(dingtalk_stream.stream, "DINGTALK_OPENAPI_ENDPOINT", fake.base)
        monkeypatch.setattr(transport_module, "DINGTALK_OPENAPI_ENDPOINT", fake.base)
        monkeypatch.setattr(transport_module, "FLOW_CONTROL_PAUSE", 0.5)  # DingTalk's 5 s, shortened for the test
        yield fake


async def queue_replies(db, clock, fake: FakeDingTalk) -> dict[str, list[str]]:
    expected: dict[str, list[str]] = {}
    async with db.transaction() as session:
        for n in range(STAFF):
            staff_id = f"staff-{n}"
            fake.staff.add(staff_id)
            chat_id = await channel_accounts.chat_id_for(session, CHANNEL, staff_id, clock.now())
            expected[staff_id] = [f"第{n}位的第{i}条回复" for i in range(REPLIES)]
            for text in expected[staff_id]:
                await outbox.enqueue(session, chat_id, "message", {"text": text}, clock.now(), CHANNEL, reply=True)
    return expected


@pytest.mark.slow
async def test_every_reply_arrives_once_under_the_limits_and_injected_failures(db, clock, fake):
    expected = await queue_replies(db, clock, fake)
    fake.failures.extend(INJECTED)
    client = DingTalkStreamClient(Credential(CLIENT_ID, CLIENT_SECRET))
    api = DingTalkApi(client, CLIENT_ID)
    # The runtime's sender (bot/dingtalk_runtime.py), set to send faster than the fake allows, so its limits bite:
    # 20 a second against the app's 5, no per-person interval against the person's 1 a second.
    limits = Limits(global_per_second=20, per_chat_interval=0)
    sender = Sender(db, DingTalkTransport(api, db), CHANNEL, limits, instance="test")
    try:
        assert await sender.drain(within=90)
    finally:
        await api.close()

    # The limits and the failures happened ...
    assert fake.failed == len(INJECTED) and not fake.failures
    assert fake.limited > 0, "the per-app limit never answered 429"
    assert fake.flow_controlled > 0, "no person was flow-controlled"
    # ... and still every reply reached its person exactly once, in order.
    for staff_id, texts in expected.items():
        assert fake.to(staff_id) == texts
    assert not [text for text, copies in Counter(s.text for s in fake.sent).items() if copies > 1]
    async with db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == CHANNEL)))
    assert len(rows) == STAFF * REPLIES and {row.status for row in rows} == {OutboxStatus.SENT}
    print(
        f"\n{STAFF * REPLIES} replies, app limit {APP_LIMIT}/{WINDOW:g}s, {PER_STAFF}/person: "
        f"{fake.limited} answered 429, {fake.flow_controlled} flow-controlled, {fake.failed} injected 5xx; "
        f"{len(fake.sent)} delivered, max attempts {max(row.attempts for row in rows)}"
    )


@pytest.mark.slow
async def test_the_runtime_answers_every_message_once_under_the_limits_and_injected_failures(db_url, tmp_path):
    """`shixiao run --runtime dingtalk` as a real process, at its default pace (10 sends a second) against an app limit of
    6 a second, one message per person in 10 s and injected 5xx: each of 12 strangers says 你好 (the how-to-begin
    answer), then /start (registered as a resident, the menu as a card): every reply of the outbox reaches its person
    once."""
    from tests.test_dingtalk import DingTalkBot  # the real process, as the end-to-end test starts it

    async with FakeDingTalk(per_window=6, per_staff=1, window=1.0, staff_window=10.0) as fake:
        fake.failures.extend([500, 502, 503, 500])
        bot = DingTalkBot(fake, db_url, tmp_path)
        bot.env["SHIXIAO_DINGTALK_SEND_PER_SECOND"] = "10"  # the default, named: above the fake app limit of 6
        await bot.start()
        db = Database(db_url)
        strangers = [f"staff-stranger-{n}" for n in range(12)]
        fake.staff.update(strangers)
        try:
            for text in ("你好", "/start"):
                frames = [
                    await fake.push(
                        MESSAGES_TOPIC, fake.robot_message(staff, "路人", "text", {"text": {"content": text}})
                    )
                    for staff in strangers
                ]
                deadline = time.monotonic() + 30  # each handled and acknowledged before the next round
                while not all(fake.acks.get(frame) == 200 for frame in frames):
                    assert time.monotonic() < deadline, "frames not acknowledged"
                    await asyncio.sleep(0.1)

            async def pending() -> int:
                async with db.transaction() as session:
                    return int(
                        await session.scalar(
                            select(func.count())
                            .select_from(OutboxMessage)
                            .where(OutboxMessage.channel == CHANNEL, OutboxMessage.status == OutboxStatus.PENDING)
                        )
                    )

            deadline = time.monotonic() + 90
            while await pending():
                assert time.monotonic() < deadline, f"{await pending()} replies still pending"
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # time for a duplicate, were there one
            async with db.transaction() as session:
                rows = list(
                    await session.scalars(
                        select(OutboxMessage).where(OutboxMessage.channel == CHANNEL).order_by(OutboxMessage.id)
                    )
                )
                staff_of = {
                    staff: await channel_accounts.chat_id_for(session, CHANNEL, staff, datetime.now(UTC))
                    for staff in strangers
                }
        finally:
            bot.stop()
            await db.dispose()
        assert fake.failed == 4 and fake.limited > 0 and fake.flow_controlled > 0
        assert {row.status for row in rows} == {OutboxStatus.SENT}
        for staff, chat_id in staff_of.items():
            wanted = [as_message(row.payload) for row in rows if row.chat_id == chat_id]
            got = [(sent.msg_key, sent.param) for sent in fake.messages_to(staff)]
            assert got == wanted  # every reply once, in order
            assert "请发送 /start 开始使用" in got[0][1]["text"] and "已作为居民登记" in got[1][1]["text"]
            assert got[1][0] == "sampleActionCard5"  # the resident's menu: a card, through the same outbox
        print(
            f"\nruntime: {len(rows)} replies to {len(strangers)} people, app limit 6/s, 1 per person in 10 s: "
            f"{fake.limited} answered 429, {fake.flow_controlled} flow-controlled, {fake.failed} injected 5xx; "
            f"{len(fake.sent)} delivered, max attempts {max(row.attempts for row in rows)}"
        )
        assert "Traceback" not in bot.log.read_text(errors="replace")
