"""Webhook mode: `shixiao run --webhook --listen HOST:PORT`, alone and as two instances behind one URL sharing
PostgreSQL: every update handled once, every message delivered once, the scheduled jobs on exactly one instance."""

from __future__ import annotations

import socket
from collections import Counter

import aiohttp
import pytest
from sqlalchemy import select

from bot.webhook import Listen, parse_listen
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.load_balancer import LoadBalancer
from tests.telegram_harness import BotProcess, RunningBot, bot_settings
from tests.waiting import wait_until

PATH = "/telegram/webhook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_listen_addresses_are_parsed_or_explained():
    assert parse_listen("127.0.0.1:8443") == Listen("127.0.0.1", 8443)
    assert parse_listen(":8080") == Listen("127.0.0.1", 8080)  # this machine only, unless told otherwise
    assert parse_listen("0.0.0.0:8080") == Listen("0.0.0.0", 8080)
    assert parse_listen("[::1]:9000") == Listen("::1", 9000)
    for bad in ("8080", "host:", "host:http", "h:70000"):
        with pytest.raises(ValueError, match="主机:端口"):
            parse_listen(bad)


async def test_a_webhook_instance_answers_and_refuses_forged_posts(emulator, db_url, tmp_path):
    port = free_port()
    settings = bot_settings(emulator, db_url, webhook_url=f"http://127.0.0.1:{port}{PATH}")
    bot = await RunningBot(settings, "aiogram", Listen("127.0.0.1", port)).start()
    try:
        assert emulator.webhook_url == settings.webhook_url
        assert emulator.webhook_params.get("secret_token")  # Telegram proves itself with the secret
        resident = emulator.user(3001, "王")
        await resident.send_command("/start")
        welcome = await resident.expect("居民")
        assert welcome.buttons
        await resident.press("我的信息", message=welcome, times=2)  # a double tap: the second gets a toast only
        await resident.expect("姓名：")
        await resident.expect(lambda m: m.is_edit and "✅ 我的信息" in m.content)  # the mark follows the answer
        await wait_until(
            lambda: (
                Counter(answer.text for answer in emulator.callback_answers)
                == Counter([None, "已收到，不必重复点击。请看下方最新消息。"])
            )
        )
        await resident.send_text("小餐饮店的后厨要满足什么要求？")
        await resident.expect(lambda m: "出处" in m.content or "不确定" in m.content)
        # A post without the secret (anyone who found the URL) is refused and handled never.
        forged = {
            "update_id": 999_999,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "/start",
                "chat": {"id": 3001, "type": "private"},
                "from": {"id": 3001, "is_bot": False, "first_name": "X"},
            },
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(settings.webhook_url, json=forged) as response:
                assert response.status == 401
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
        await resident.expect_silence(0.5)
        assert all(attempt.status == 200 for attempt in emulator.webhook.attempts)
    finally:
        await bot.stop()


async def test_two_instances_behind_one_url_share_postgresql(emulator, db_url, tmp_path):
    if db_url.startswith("sqlite"):
        pytest.skip("several instances share state through PostgreSQL; SQLite is for one instance")
    # The schema and sample county first, as a deployment's migration step would (instances also cope alone).
    database = Database(db_url)
    await database.upgrade()
    await database.dispose()
    ports = [free_port(), free_port()]
    balancer = await LoadBalancer([f"http://127.0.0.1:{port}" for port in ports]).start()
    env = {"SHIXIAO_WEBHOOK_URL": balancer.url + PATH}
    processes = [
        BotProcess(
            emulator,
            db_url,
            tmp_path,
            "aiogram",
            {**env, "SHIXIAO_INSTANCE_NAME": name},
            ["--webhook", "--listen", f"127.0.0.1:{port}"],
            log_name=f"{name}.log",
        ).start()
        for name, port in zip(("a", "b"), ports, strict=True)
    ]
    try:
        await wait_until(lambda: all("webhook ready" in p.log() for p in processes), timeout=60)
        residents = [emulator.user(5000 + i, f"居民{i}") for i in range(24)]
        for resident in residents:
            await resident.send_command("/start")
        for resident in residents:
            await resident.expect("居民", timeout=30)
        for resident in residents:
            await resident.send_text("小美容美发店需要什么证照？")
        for resident in residents:
            await resident.expect(lambda m: "出处" in m.content or "不确定" in m.content, timeout=30)
        await emulator.settle(quiet=1.0, timeout=30)

        assert all(count > 0 for count in balancer.served.values()), balancer.served  # both took updates
        leaders = [p for p in processes if "holds the scheduler lock" in p.log()]
        assert len(leaders) == 1, "the scheduled jobs must run on exactly one instance"

        db = Database(db_url)
        try:
            async with db.transaction() as session:
                rows = list(await session.scalars(select(OutboxMessage)))
        finally:
            await db.dispose()
        assert rows and all(row.status == OutboxStatus.SENT for row in rows)
        # Each outbox message reached Telegram once: the message ids it was given are all different.
        sent_ids = Counter((row.chat_id, row.external_id) for row in rows)
        assert max(sent_ids.values()) == 1
        assert len(emulator.sent) == len(rows)
        assert {row.claimed_by for row in rows} == {"a", "b"}, "both instances share delivery"
        for resident in residents:  # every update answered once: one welcome, one answer each
            assert len([m for m in resident.messages if "居民" in m.content and m.buttons]) >= 1
            assert len(resident.messages) == len({m.message_id for m in resident.messages})

        # The leader dies: the other instance takes the jobs over, and the balancer routes around the dead one.
        leader = leaders[0]
        other = next(p for p in processes if p is not leader)
        leader.kill()
        await wait_until(lambda: "holds the scheduler lock" in other.log(), timeout=30)
        late = emulator.user(5100, "迟到的居民")
        await late.send_command("/start")
        await late.expect("居民", timeout=30)
        for process in processes:
            assert "Traceback" not in process.log()
    finally:
        for process in processes:
            process.terminate()
        await balancer.stop()
