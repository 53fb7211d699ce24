"""The DingTalk runtime's delivery under DingTalk's limits and failures: the outbox sender with the runtime's
transport (bot/dingtalk_transport.py) and the official SDK's access token, against the fake OpenAPI
(tests/dingtalk_fake.py) with its per-app limit (HTTP 429), its per-person flow control
(`flowControlledStaffIdList`) and injected 5xx answers. Every reply reaches its person exactly once, in order."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

pytest.importorskip("dingtalk_stream")

import dingtalk_stream.stream
from dingtalk_stream import Credential, DingTalkStreamClient

import bot.dingtalk_transport as transport_module
from bot.dingtalk_transport import CHANNEL, DingTalkApi, DingTalkTransport
from scheduler.sender import Limits, Sender
from storage import channel_accounts, outbox
from storage.models import OutboxMessage, OutboxStatus
from tests.dingtalk_fake import CLIENT_ID, CLIENT_SECRET, FakeDingTalk

STAFF, REPLIES = 8, 5  # 40 replies
APP_LIMIT, PER_STAFF, WINDOW = 5, 1, 1.0  # the fake's limits: 5 sends a second per app, 1 a second per person
INJECTED = [500, 502, 503, 500, 504, 500]


@pytest.fixture
async def fake(monkeypatch):
    async with FakeDingTalk(per_window=APP_LIMIT, per_staff=PER_STAFF, window=WINDOW) as fake:
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
