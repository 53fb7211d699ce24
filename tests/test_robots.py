"""Work-group pushes through the outbox to fake DingTalk and WeCom robots (tests/robot_fakes.py): signed, paced per
robot, retried, reported to the county office when a robot keeps failing, and never leaking a webhook or secret."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.robots import RobotTransport, dingtalk_sign, published_links, robot_limits
from handlers.assembly import shipped_knowledge
from handlers.events import Reply
from handlers.texts import Texts
from handlers.work_groups import BadGroup, check_group, push_replies, robot_messages
from scheduler.digest_jobs import send_weekly_digests
from scheduler.sender import Limits, Sender
from storage import work_groups
from storage.areas import find_area, the_county
from storage.clock import SHANGHAI
from storage.media import LocalMediaStore
from storage.models import AreaLevel, OutboxMessage, OutboxStatus, Role
from tests.chat_driver import register
from tests.robot_fakes import FakeRobots, dingtalk_signature_ok

SECRET = "SEC" + "3f" * 32
TEXTS = Texts.load()


@pytest.fixture
async def robots():
    async with FakeRobots() as fake:
        yield fake


async def add_group(db, clock, fake, robot, scope: str = "全县", name: str | None = None):
    async with db.transaction() as session:
        area = await the_county(session) if scope == "全县" else await find_area(session, scope, AreaLevel.TOWNSHIP)
        group = await work_groups.add_group(
            session,
            name or f"{scope}{robot.kind}{robot.token}",
            robot.kind,
            area,
            fake.webhook(robot),
            robot.secret,
            clock.now(),
        )
        return group.id


def sender_for(db, clock, kind: str, tmp_path=None, limits: Limits | None = None, **options) -> Sender:
    publish = (
        published_links(LocalMediaStore(tmp_path / "published"), "https://bot.example.gov.cn/published")
        if tmp_path
        else None
    )
    transport = RobotTransport(db, kind, clock, TEXTS, publish=publish, rate_limit_pause=0.5, **options)
    return Sender(db, transport, work_groups.robot_channel(kind), limits or robot_limits(600), instance="test")


async def rows(db, channel: str | None = None, chat_id: int | None = None) -> list[OutboxMessage]:
    async with db.transaction() as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if channel:
            stmt = stmt.where(OutboxMessage.channel == channel)
        if chat_id is not None:
            stmt = stmt.where(OutboxMessage.chat_id == chat_id)
        return list(await session.scalars(stmt))


def test_the_signature_is_what_dingtalk_checks():
    timestamp = 1_767_225_600_000
    sign = dingtalk_sign(SECRET, timestamp)
    assert "%" in sign or sign.isalnum()  # URL-encoded base64
    assert dingtalk_signature_ok(SECRET, str(timestamp), sign, timestamp + 1000)
    assert not dingtalk_signature_ok("SEC" + "00" * 32, str(timestamp), sign, timestamp + 1000)
    assert not dingtalk_signature_ok(SECRET, str(timestamp), sign, timestamp + 3_700_000)  # over an hour old


def test_long_texts_are_cut_to_what_a_robot_takes():
    text = "\n".join(f"第{i}行：岩头镇达标率 83%，检查 12 家" for i in range(400))
    pushes = robot_messages("wecom", [Reply(text), Reply("图表", photo="/tmp/chart.png")])
    assert all(len(p["text"].encode()) <= 4000 for kind, p in pushes if kind == "message")
    assert "\n".join(p["text"] for kind, p in pushes if kind == "message").replace("图表", "").strip() == text
    assert pushes[-1] == ("photo", {"photo": "/tmp/chart.png"})  # WeCom: the caption first, then the image
    dingtalk = robot_messages("dingtalk", [Reply("图表说明", photo="/tmp/chart.png")])
    assert dingtalk == [("photo", {"photo": "/tmp/chart.png", "text": "图表说明"})]


@pytest.mark.slow
async def test_the_digest_reaches_a_dingtalk_and_a_wecom_group(core, db, clock, robots, tmp_path):
    await register(core, db, clock, 902, Role.COUNTY, None, "周主任")
    ding = robots.add("dingtalk", "dtok1", SECRET)
    wecom = robots.add("wecom", "wkey1")
    await add_group(db, clock, robots, ding)
    await add_group(db, clock, robots, wecom, "岩头镇")
    clock.set(datetime(2026, 5, 11, 8, 0, tzinfo=SHANGHAI))
    texts, knowledge = Texts.load(), shipped_knowledge()
    assert await send_weekly_digests(db, clock, texts, knowledge, tmp_path / "charts") == 3  # official + 2 groups
    assert await send_weekly_digests(db, clock, texts, knowledge, tmp_path / "charts") == 0  # once a week
    for kind in ("dingtalk", "wecom"):
        assert await sender_for(db, clock, kind, tmp_path).drain(within=20)
    assert ding.refused == [] and wecom.refused == []  # every request signed right, within the limits
    assert "【十小通周报】永嘉县" in ding.texts()[0]
    chart = ding.accepted[-1]["markdown"]["text"]
    assert "![](https://bot.example.gov.cn/published/" in chart and chart.endswith(".png)")
    key = chart.split("/published/")[1].rstrip(")")
    assert (tmp_path / "published" / key).read_bytes().startswith(b"\x89PNG")  # what the link names is there
    assert "【十小通周报】岩头镇" in wecom.texts()[0]
    assert wecom.accepted[-1]["msgtype"] == "image"  # base64 with a matching md5 (the fake checks it)
    assert all(row.status == OutboxStatus.SENT for row in await rows(db, "dingtalk-robot"))


@pytest.mark.slow
async def test_each_robot_is_paced_to_its_own_limit(db, clock, robots):
    fast = robots.add("dingtalk", "pace", SECRET, per_window=4, window=1.0)
    other = robots.add("dingtalk", "pace2", per_window=4, window=1.0)
    first, second = await add_group(db, clock, robots, fast), await add_group(db, clock, robots, other)
    async with db.transaction() as session:
        groups = [await work_groups.get_group(session, first), await work_groups.get_group(session, second)]
        await push_replies(session, groups, [Reply(f"通知{i}") for i in range(10)], clock.now())
    # 4 a second at most (the test's stand-in for 20 a minute): paced 1/240 minute apart, with the 5 % margin.
    assert await sender_for(db, clock, "dingtalk", limits=robot_limits(240)).drain(within=20)
    assert fast.refused == [] and other.refused == []
    assert fast.texts() == [f"通知{i}" for i in range(10)] == other.texts()  # in order, each once

    # Unpaced, the same robot refuses (the fake's limit bites); the sender waits and still delivers each once.
    burst = robots.add("dingtalk", "burst", per_window=4, window=1.0)
    third = await add_group(db, clock, robots, burst)
    async with db.transaction() as session:
        await push_replies(
            session, [await work_groups.get_group(session, third)], [Reply(f"催办{i}") for i in range(8)], clock.now()
        )
    unpaced = Limits(global_per_second=100, per_chat_interval=0, max_attempts=10)
    assert await sender_for(db, clock, "dingtalk", limits=unpaced).drain(within=30)
    assert 410100 in burst.refused
    assert burst.texts() == [f"催办{i}" for i in range(8)]


@pytest.mark.slow
async def test_failures_are_retried_and_a_robot_that_keeps_failing_is_reported(core, db, clock, robots, caplog):
    county = await register(core, db, clock, 902, Role.COUNTY, None, "周主任")
    flaky = robots.add("wecom", "flaky")
    flaky.failures.extend([500, 502])
    group_id = await add_group(db, clock, robots, flaky, name="永嘉县企业微信群")
    async with db.transaction() as session:
        await push_replies(session, [await work_groups.get_group(session, group_id)], [Reply("周报")], clock.now())
    assert await sender_for(db, clock, "wecom").drain(within=20)
    assert flaky.texts() == ["周报"]  # after two 5xx, once
    assert [r for r in await rows(db, chat_id=county.user_id) if "推送失败" in r.payload.get("text", "")] == []

    flaky.failures.extend([500, 500, 500, 500])  # a fourth failure in a row is not reported again
    async with db.transaction() as session:
        await push_replies(session, [await work_groups.get_group(session, group_id)], [Reply("提醒")], clock.now())
    assert await sender_for(db, clock, "wecom").drain(within=40)
    assert flaky.texts() == ["周报", "提醒"]
    reports = [r for r in await rows(db, chat_id=county.user_id) if "推送失败" in r.payload.get("text", "")]
    assert len(reports) == 1
    assert "永嘉县企业微信群" in reports[0].payload["text"] and "连续3次" in reports[0].payload["text"]
    async with db.transaction() as session:
        assert (await work_groups.get_group(session, group_id)).failures == 0  # delivered: counted afresh


async def test_a_wrong_secret_or_an_unknown_robot_is_refused_reported_and_not_retried(core, db, clock, robots, caplog):
    caplog.set_level(logging.INFO)
    county = await register(core, db, clock, 902, Role.COUNTY, None, "周主任")
    wrong = robots.add("dingtalk", "dtwrong", SECRET)
    wrong_id = await add_group(db, clock, robots, wrong, name="签名错的群")
    async with db.transaction() as session:  # registered with another secret than the robot's
        (await work_groups.get_group(session, wrong_id)).secret = "SEC" + "ab" * 32
    gone = robots.add("dingtalk", "dtgone")
    gone_id = await add_group(db, clock, robots, gone, name="已解散的群")
    del robots.robots[("dingtalk", "dtgone")]  # DingTalk no longer knows the token
    async with db.transaction() as session:
        groups = [await work_groups.get_group(session, wrong_id), await work_groups.get_group(session, gone_id)]
        await push_replies(session, groups, [Reply("通知一"), Reply("通知二")], clock.now())
    assert await sender_for(db, clock, "dingtalk").drain(within=20)
    assert wrong.refused == [310000, 310000] and wrong.accepted == []
    failed = await rows(db, "dingtalk-robot")
    assert [row.status for row in failed] == [OutboxStatus.FAILED] * 4
    assert all(row.attempts == 1 for row in failed)  # refused outright: not retried
    reports = [
        r.payload["text"] for r in await rows(db, chat_id=county.user_id) if "推送失败" in r.payload.get("text", "")
    ]
    assert len(reports) == 2  # one per robot, not one per message
    assert any("签名错的群" in text and "加签密钥不对" in text for text in reports)
    assert any("已解散的群" in text and "不存在或已被移除" in text for text in reports)
    # Neither the webhooks' tokens nor the secrets are in any log line or stored error.
    stored = " ".join(row.last_error or "" for row in failed)
    logged = " ".join(record.getMessage() for record in caplog.records)
    for secret in ("dtwrong", "dtgone", SECRET[3:], "ab" * 32):
        assert secret not in stored and secret not in logged


async def test_a_removed_group_gets_nothing_more(db, clock, robots):
    robot = robots.add("wecom", "bye")
    group_id = await add_group(db, clock, robots, robot)
    async with db.transaction() as session:
        group = await work_groups.get_group(session, group_id)
        await push_replies(session, [group], [Reply("一"), Reply("二")], clock.now())
        assert await work_groups.remove_group(session, group) == 2
    assert await sender_for(db, clock, "wecom").drain(within=5)
    assert robot.accepted == [] and robots.requests == 0


async def test_a_broadcast_to_officials_reaches_the_work_groups_of_its_area(core, db, clock, robots):
    county = await register(core, db, clock, 902, Role.COUNTY, None, "周主任")
    await register(core, db, clock, 901, Role.TOWNSHIP, "岩头镇", "陈镇长")
    here, there = robots.add("wecom", "here"), robots.add("wecom", "there")
    await add_group(db, clock, robots, here, "岩头镇")
    await add_group(db, clock, robots, there, "桥下镇")
    await county.press("发布通知")
    await county.text("本周五前报送整治台账")
    await county.press("乡镇干部")
    await county.press("岩头镇")
    await county.press("✅ 确认发送")
    assert "另推送到1个工作群" in county.last.text
    assert await sender_for(db, clock, "wecom").drain(within=10)
    assert len(here.texts()) == 1 and "本周五前报送整治台账" in here.texts()[0]
    assert there.accepted == []  # another township's group


@pytest.mark.parametrize(
    ("kind", "webhook", "named"),
    [
        ("dingtalk", "https://oapi.dingtalk.com/robot/send", "access_token="),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?other=1", "key="),
        ("wecom", "不是地址", "key="),
    ],
)
def test_a_webhook_without_its_credential_is_refused_in_chinese(kind, webhook, named):
    """The text names the missing parameter through a {key} placeholder (mypy found this raised a TypeError)."""
    with pytest.raises(BadGroup) as refused:
        check_group(TEXTS, kind, webhook, None)
    assert named in str(refused.value) and "Webhook 地址" in str(refused.value)
