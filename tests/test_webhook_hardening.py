"""Webhook mode's exposure: a random secret setting (derived from the token only when unset, with a warning), this
machine only unless told otherwise, and no server version in any response."""

from __future__ import annotations

import logging
import re

import aiohttp
import typer.main

from bot.cli import app
from bot.webhook import Listen, parse_listen, webhook_secret
from tests.telegram_harness import RunningBot, bot_settings
from tests.test_e2e_webhook import PATH, free_port

RANDOM_SECRET = "q8Xo1v4Zk2-Jb7_c9PzR0sLw3NyT6mHe5dUfAiGh"


def test_run_listens_on_this_machine_only_unless_told_otherwise():
    run = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]
    listen = next(param for param in run.params if param.name == "listen")
    assert listen.default == "127.0.0.1:8080"
    assert parse_listen(":9000") == Listen("127.0.0.1", 9000)
    print(f"webhook listen: default {listen.default}, ':9000' -> 127.0.0.1:9000")


def test_the_webhook_secret_setting_is_used_and_only_its_absence_falls_back_with_a_warning(caplog, emulator):
    caplog.set_level(logging.WARNING, logger="bot.webhook")
    configured = bot_settings(emulator, "sqlite+aiosqlite://", webhook_secret=RANDOM_SECRET)
    assert webhook_secret(configured) == RANDOM_SECRET
    assert not caplog.records
    derived = webhook_secret(bot_settings(emulator, "sqlite+aiosqlite://"))
    assert derived != RANDOM_SECRET and len(derived) >= 32 and configured.token not in derived
    assert [record.levelname for record in caplog.records] == ["WARNING"]
    assert "SHIXIAO_WEBHOOK_SECRET is not set" in caplog.records[0].getMessage()
    print(
        f"webhook secret: the {len(RANDOM_SECRET)}-character setting used; unset: {len(derived)}-character derived, 1 WARNING"
    )


async def test_webhook_responses_carry_no_server_version(emulator, tmp_path):
    port = free_port()
    settings = bot_settings(
        emulator,
        f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}",
        webhook_url=f"http://127.0.0.1:{port}{PATH}",
        webhook_secret=RANDOM_SECRET,
    )
    bot = await RunningBot(settings, "aiogram", Listen("127.0.0.1", port)).start()
    try:
        assert emulator.webhook_params.get("secret_token") == RANDOM_SECRET
        servers = []
        async with aiohttp.ClientSession() as http:
            for method, path, status in (
                ("GET", "/healthz", 200),
                ("POST", PATH, 401),
                ("GET", "/nothing", 404),
                ("GET", PATH, 405),
            ):
                async with http.request(method, f"http://127.0.0.1:{port}{path}", json={}) as response:
                    assert response.status == status, (method, path)
                    servers.append(response.headers.get("Server", ""))
        assert servers and not [
            server for server in servers if re.search(r"\d|aiohttp|python", server, re.IGNORECASE)
        ], servers
        print(f"webhook responses: {len(servers)} (200, 401, 404, 405), Server headers {servers}: 0 name a version")
    finally:
        await bot.stop()
