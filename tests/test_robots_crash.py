"""kill -9 in the middle of a push: what a robot took before the kill is not sent again, the rest goes once."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from handlers.events import Reply
from handlers.work_groups import push_replies
from storage import work_groups
from storage.areas import the_county
from storage.clock import SystemClock
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.dingtalk_fake import FakeDingTalk
from tests.robot_fakes import FakeRobots
from tests.test_dingtalk import DingTalkBot

SECRET = "SEC" + "5a" * 32


async def sent_rows(db: Database) -> int:
    async with db.transaction() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.channel == "dingtalk-robot", OutboxMessage.status == OutboxStatus.SENT)
            )
        )


@pytest.mark.slow
async def test_a_kill_mid_push_sends_nothing_twice(db_url, tmp_path):
    async with FakeDingTalk() as fake, FakeRobots() as robots:
        robot = robots.add("dingtalk", "crash", SECRET, hang_after=3)
        env = {"SHIXIAO_INSTANCE_NAME": "robot-crash", "SHIXIAO_ROBOT_PER_MINUTE": "600"}
        bot = DingTalkBot(fake, db_url, tmp_path)
        bot.env.update(env)
        await bot.start()
        db = Database(db_url)
        try:
            async with db.transaction() as session:
                county = await the_county(session)
                group = await work_groups.add_group(
                    session, "全县钉钉群", "dingtalk", county, robots.webhook(robot), SECRET, SystemClock().now()
                )
                await push_replies(session, [group], [Reply(f"第{i}条通知") for i in range(6)], SystemClock().now())
            deadline = time.monotonic() + 30
            while not (robots.hanging and await sent_rows(db) == 3):  # three taken and recorded, the fourth in flight
                assert time.monotonic() < deadline, (robots.hanging, await sent_rows(db))
                await asyncio.sleep(0.05)
            assert bot.process is not None
            bot.process.kill()  # SIGKILL while the robot holds the fourth request unanswered
            bot.process.wait(timeout=10)
            robot.hang_after = None
            await bot.start()  # the same instance name: it takes its claims back at once
            deadline = time.monotonic() + 30
            while len(robot.accepted) < 6:
                assert time.monotonic() < deadline, robot.texts()
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # time for a duplicate, were there one
            assert robot.texts() == [f"第{i}条通知" for i in range(6)]  # each once, in order
            assert robot.refused == []
        finally:
            bot.stop()
            await db.dispose()
