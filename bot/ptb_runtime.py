"""The optional Telegram runtime on python-telegram-bot 22: long polling, replies through the outbox sender.

Confirming updates: PTB's own Updater puts each fetched batch on the application's queue and advances its
offset at once, so its very next getUpdates confirms the batch to Telegram while the updates are still waiting
to be handled (and Updater.stop confirms whatever is queued). A crash then loses them; concurrent_updates(False)
does not change that, it only serialises the handlers. So this runtime builds the Application without an
Updater and polls with the loop the aiogram runtime uses (bot/polling.py): each fetched batch goes to the core
as one transaction and only then is the offset moved past it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder, ContextTypes, ExtBot
from telegram.request import HTTPXRequest

from bot.aiogram_runtime import ALLOWED_UPDATES
from bot.aiogram_runtime import COMMANDS as AIOGRAM_COMMANDS
from bot.app import App, RobotDelivery, build_jobs, outbox_sender, photo_keeper
from bot.log_redaction import redact_logs
from bot.polling import BatchPolling, stop_on_signals
from bot.ptb_polling import PtbUpdates
from bot.ptb_transport import PtbPhotoSource, PtbTransport, opt_in_timedelta
from bot.settings import Settings

log = logging.getLogger(__name__)

COMMANDS = [BotCommand(c.command, c.description) for c in AIOGRAM_COMMANDS]


def build_application(
    settings: Settings,
) -> Application[ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any], None]:
    if not settings.token:
        raise RuntimeError("SHIXIAO_TELEGRAM_TOKEN is not set")
    base = settings.telegram_api_base.rstrip("/")
    # The token is in every Bot API URL: a redirect would carry it elsewhere (bot/aiogram_session.py). httpx does
    # not follow redirects unless asked; said here so that no default can change it. Pool sizes as PTB's defaults.
    no_redirects = {"follow_redirects": False}
    return (
        ApplicationBuilder()
        .token(settings.token)
        .request(HTTPXRequest(connection_pool_size=256, httpx_kwargs=no_redirects))
        .get_updates_request(HTTPXRequest(connection_pool_size=1, httpx_kwargs=no_redirects))
        .base_url(base + "/bot{token}")
        .base_file_url(base + "/file/bot{token}")
        .updater(None)  # we poll ourselves, see the module docstring
        .concurrent_updates(False)
        .job_queue(None)  # scheduling is APScheduler's job in scheduler/, not PTB's
        .build()  # no rate_limiter(): the outbox sender owns Telegram's limits
    )


class PtbRuntime:
    def __init__(self, app: App) -> None:
        redact_logs(app.settings)
        opt_in_timedelta()
        # httpx logs every request URL at INFO, and PTB's URLs contain the bot token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.app = app
        self.application = build_application(app.settings)
        self.bot = self.application.bot
        self.sender = outbox_sender(app, PtbTransport(self.bot, app.media))
        self.keeper = photo_keeper(app, PtbPhotoSource(self.bot))
        updates = PtbUpdates(self.bot, timeout=app.settings.polling_timeout, allowed_updates=ALLOWED_UPDATES)
        self.polling = BatchPolling(updates, app.core, self.sender)
        self.ready = asyncio.Event()

    async def run(self, *, handle_signals: bool = True) -> None:
        sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
        robots = RobotDelivery(self.app)  # pushes to work groups (DingTalk, WeCom robots)
        robots.start()
        keeper_task = asyncio.create_task(self.keeper.run(), name="photo-keeper")
        jobs = build_jobs(self.app)  # reminders and digests, as in the aiogram runtime
        try:
            await jobs.start()
            await self.application.initialize()  # getMe
            await self.bot.delete_webhook(drop_pending_updates=False)
            await self.bot.set_my_commands(COMMANDS)
            await self.application.start()
            log.info("bot @%s ready (long polling, python-telegram-bot)", self.bot.username)
            with stop_on_signals(self.polling.stop, enabled=handle_signals):
                await self.polling.run(self._became_ready)
        finally:
            await jobs.stop()
            self.sender.stop()
            self.keeper.stop()
            await sender_task
            await keeper_task
            await robots.stop()
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()
            await self.bot.shutdown()  # closes the HTTP clients even when initialize() failed half-way

    def _became_ready(self) -> None:
        self.ready.set()
        self.sender.wake()  # deliver whatever a previous run left in the outbox

    async def stop(self) -> None:
        self.polling.stop()
