"""Running the console: `shixiao web --listen HOST:PORT` on its own, or beside the bot (`shixiao run --web`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from bot.app import App
from bot.settings import Settings
from bot.web.app import Console, build_app
from bot.web.auth import Cookies, derive_secret

log = logging.getLogger(__name__)

NO_SECRET = (
    "网页控制台需要签名密钥：请设置 SHIXIAO_WEB_SECRET（多个实例设置相同的值），"
    "或设置 SHIXIAO_TELEGRAM_TOKEN / 钉钉应用密钥以便自动派生。"
)


def web_secret(settings: Settings) -> str:
    """Raises ValueError (NO_SECRET) when there is nothing to sign with."""
    try:
        return derive_secret(
            settings.web_secret.get_secret_value() if settings.web_secret else None,
            settings.token,
            settings.dingtalk_client_secret.get_secret_value() if settings.dingtalk_client_secret else None,
        )
    except ValueError:
        raise ValueError(NO_SECRET) from None


def console_for(app: App) -> Console:
    settings = app.settings
    return Console(
        db=app.db,
        clock=app.clock,
        texts=app.core.texts,
        menus=app.core.parts.menus,
        knowledge=app.core.parts.knowledge,
        media=app.media,
        cookies=Cookies(web_secret(settings), secure=settings.web_base_url.startswith("https://")),
        files_dir=settings.data_dir / "web-files",
        charts_dir=settings.data_dir / "charts",
        upload_max=settings.web_upload_max_mb * 1024 * 1024,
        tile_url=settings.web_tile_url,
        tile_attribution=settings.web_tile_attribution,
    )


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT and SIGTERM to its caller."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server(app: App, host: str, port: int) -> uvicorn.Server:
    """The console's server. It leaves signals to its caller (uvicorn would take SIGINT for itself and raise it
    again when done, in the middle of closing the database, or away from the bot it runs beside); no access log,
    since a sign-in link's path is a credential until it is used."""
    config = uvicorn.Config(
        build_app(console_for(app)),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        access_log=False,
    )
    return _QuietServer(config)


async def serve_alone(app: App, host: str, port: int) -> None:
    """`shixiao web`: serve until SIGINT or SIGTERM, then finish the requests in flight."""
    web = server(app, host, port)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: setattr(web, "should_exit", True))
    log.info("web console on http://%s:%s", host, port)
    await web.serve()


class Beside:
    """The console running in the bot's event loop (`shixiao run --web`)."""

    def __init__(self, app: App, host: str, port: int) -> None:
        self.web = server(app, host, port)
        log.info("web console on http://%s:%s", host, port)
        self.task = asyncio.create_task(self.web.serve(), name="web-console")

    async def stop(self) -> None:
        self.web.should_exit = True  # the requests in flight finish first
        await asyncio.gather(self.task, return_exceptions=True)
