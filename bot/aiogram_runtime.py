"""The default Telegram runtime: aiogram 3, long polling, replies through the outbox sender."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher, Router
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, CallbackQuery, Message, Update

from bot.aiogram_inbound import update_inbound
from bot.aiogram_polling import AiogramUpdates
from bot.aiogram_session import NoRedirectSession
from bot.app import App, RobotDelivery, build_jobs, outbox_sender, photo_keeper
from bot.log_redaction import redact_logs
from bot.polling import BatchPolling, stop_on_signals
from bot.settings import Settings
from bot.telegram_transport import AiogramPhotoSource, AiogramTransport
from handlers.core import Core
from scheduler.sender import Sender

if TYPE_CHECKING:
    from bot.webhook import Listen

log = logging.getLogger(__name__)

COMMANDS = [
    BotCommand(command="menu", description="主菜单"),
    BotCommand(command="help", description="使用帮助"),
    BotCommand(command="cancel", description="取消当前操作"),
    BotCommand(command="start", description="开始 / 使用邀请码登记"),
]
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def build_bot(settings: Settings) -> Bot:
    if not settings.token:
        raise RuntimeError("SHIXIAO_TELEGRAM_TOKEN is not set")
    session = NoRedirectSession(api=TelegramAPIServer.from_base(settings.telegram_api_base.rstrip("/")))
    return Bot(settings.token, session=session)


def build_router() -> Router:
    """A fresh router per dispatcher (aiogram routers attach to one parent only). Webhook mode only: long
    polling hands whole batches to the core (bot/polling.py)."""
    router = Router(name=__name__)

    @router.message()
    @router.edited_message()
    async def on_message(_message: Message, event_update: Update, core: Core, sender: Sender) -> None:
        await handle_one(event_update, core, sender)

    @router.callback_query()
    async def on_press(callback: CallbackQuery, event_update: Update, core: Core, sender: Sender) -> None:
        toast = None
        try:
            toast = await handle_one(event_update, core, sender)
        finally:
            try:
                # Stops the button's spinner, with the core's toast (a double tap); not a message, not via the outbox.
                await callback.answer(text=toast)
            except TelegramAPIError as error:
                log.info("could not answer callback query: %s", error)

    return router


async def handle_one(update: Update, core: Core, sender: Sender) -> str | None:
    """Handles one update; returns the toast for a press, if any."""
    inbound = update_inbound(update)
    if inbound is None:  # not a private chat; the bot works in private chats only
        return None
    outcome = await core.handle(inbound)
    sender.wake()
    return outcome.toast


class AiogramRuntime:
    def __init__(self, app: App, listen: Listen | None = None) -> None:
        redact_logs(app.settings)
        self.app = app
        self.listen = listen  # None: long polling; else webhook mode on this address
        self.bot = build_bot(app.settings)
        self.sender = outbox_sender(app, AiogramTransport(self.bot, app.media))
        self.keeper = photo_keeper(app, AiogramPhotoSource(self.bot))
        self.dispatcher = Dispatcher(core=app.core, sender=self.sender)
        self.dispatcher.include_router(build_router())
        updates = AiogramUpdates(self.bot, timeout=app.settings.polling_timeout, allowed_updates=ALLOWED_UPDATES)
        self.polling = BatchPolling(updates, app.core, self.sender)
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self, *, handle_signals: bool = True) -> None:
        sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
        robots = RobotDelivery(self.app)  # pushes to work groups (DingTalk, WeCom robots)
        robots.start()
        keeper_task = asyncio.create_task(self.keeper.run(), name="photo-keeper")
        jobs = build_jobs(self.app)
        try:
            await jobs.start()
            me = await self.bot.get_me()
            await self.bot.set_my_commands(COMMANDS)
            if self.listen is not None:
                log.info("bot @%s starting (webhook)", me.username)
                from bot.webhook import serve_webhook  # aiohttp's server: not imported by a polling bot

                await serve_webhook(
                    self.dispatcher,
                    self.bot,
                    self.app.settings,
                    self.listen,
                    ALLOWED_UPDATES,
                    self._became_ready,
                    self._stopping,
                    handle_signals,
                )
                return
            await self.bot.delete_webhook(drop_pending_updates=False)
            log.info("bot @%s ready (long polling)", me.username)
            with stop_on_signals(self.polling.stop, enabled=handle_signals):
                await self.polling.run(self._became_ready)
        finally:
            await jobs.stop()
            self.sender.stop()
            self.keeper.stop()
            await sender_task
            await keeper_task
            await robots.stop()
            await self.bot.session.close()

    def _became_ready(self) -> None:
        self.ready.set()
        self.sender.wake()  # deliver whatever a previous run left in the outbox

    async def stop(self) -> None:
        self._stopping.set()
        self.polling.stop()
