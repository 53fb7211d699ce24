"""Webhook mode: Telegram posts each update to an aiohttp server, so several instances can sit behind one URL.

The update is answered only after it was handled and committed (handle_in_background=False): an instance that
dies mid-update leaves Telegram without an answer, and Telegram delivers the update again (to any instance;
the update-id record makes the second delivery a no-op when the first had committed)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import hdrs, web

from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


LOOPBACK = "127.0.0.1"
# What responses say in the Server header: no product version for a scanner to match against advisories.
SERVER_HEADER = "shixiao"


def parse_listen(value: str) -> Listen:
    """HOST:PORT, [IPv6]:PORT or :PORT (this machine only: 127.0.0.1). Raises ValueError with a Chinese
    explanation. Listening on every interface is asked for explicitly, as 0.0.0.0:PORT."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"监听地址“{value}”格式不对，应为 主机:端口，例如 127.0.0.1:8080（只监听本机）"
            "或 0.0.0.0:8080（监听所有网卡）"
        )
    return Listen(host.strip("[]") or LOOPBACK, int(port))


def webhook_secret(settings: Settings) -> str:
    """The secret Telegram sends with each update: SHIXIAO_WEBHOOK_SECRET, a random value in production (the same
    on every instance). Unset, it is derived from the token, with a warning: whoever learns the token (an old log,
    a leaked .env) can then forge updates even after the secret setting is added elsewhere."""
    if settings.webhook_secret and settings.webhook_secret.get_secret_value():
        return settings.webhook_secret.get_secret_value()
    log.warning(
        "SHIXIAO_WEBHOOK_SECRET is not set: using a secret derived from the bot token. Set a random one "
        'on every instance, e.g. the output of: python -c "import secrets; print(secrets.token_urlsafe(32))"'
    )
    return hashlib.sha256(f"shixiao-webhook:{settings.token}".encode()).hexdigest()[:48]


async def _hide_server_version(_request: web.Request, response: web.StreamResponse) -> None:
    # aiohttp fills in "Python/3.x aiohttp/3.y" only when the header is not set.
    response.headers[hdrs.SERVER] = SERVER_HEADER


async def serve_webhook(
    dispatcher: Dispatcher,
    bot: Bot,
    settings: Settings,
    listen: Listen,
    allowed_updates: list[str],
    on_ready: Callable[[], None],
    stopping: asyncio.Event,
    handle_signals: bool = True,
) -> None:
    secret = webhook_secret(settings)
    app = web.Application(client_max_size=1024 * 1024)
    app.on_response_prepare.append(_hide_server_version)
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=secret).register(
        app, path=settings.webhook_path
    )

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/healthz", healthz)  # for the load balancer in front of the instances
    runner = web.AppRunner(app, access_log=None)  # access lines would log every update's path and peer
    await runner.setup()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    try:
        await web.TCPSite(runner, listen.host, listen.port).start()
        # Every instance sets the same URL: whichever starts last changes nothing.
        await bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=allowed_updates,
            max_connections=settings.webhook_max_connections,
        )
        log.info("webhook ready: listening on %s, Telegram posts to %s", listen, settings.webhook_url)
        for sig in signals:
            loop.add_signal_handler(sig, stopping.set)
        on_ready()
        await stopping.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        await runner.cleanup()  # finishes the updates being handled; the webhook stays set for other instances
