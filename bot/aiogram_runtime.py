"""The default Telegram runtime: aiogram 3, long polling, replies through the outbox sender."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher, Router
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, CallbackQuery, Message, Update

from bot.aiogram_inbound import from_callback, from_message
from bot.aiogram_session import KeepingSession
from bot.app import App, build_jobs, outbox_sender
from bot.settings import Settings
from bot.telegram_transport import AiogramTransport
from bot.webhook import Listen, serve_webhook
from handlers.core import Core
from scheduler.sender import Sender

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
    session = KeepingSession(api=TelegramAPIServer.from_base(settings.telegram_api_base.rstrip("/")))
    return Bot(settings.token, session=session)


def build_router() -> Router:
    """A fresh router per dispatcher (aiogram routers attach to one parent only)."""
    router = Router(name=__name__)

    @router.message()
    async def on_message(message: Message, event_update: Update, core: Core, sender: Sender) -> None:
        if message.chat.type != "private":
            return  # the bot works in private chats only
        await core.handle(from_message(message, event_update.update_id))
        sender.wake()

    @router.edited_message()
    async def on_edit(message: Message, event_update: Update, core: Core, sender: Sender) -> None:
        if message.chat.type != "private":
            return
        await core.handle(from_message(message, event_update.update_id, edited=True))
        sender.wake()

    @router.callback_query()
    async def on_press(callback: CallbackQuery, event_update: Update, core: Core, sender: Sender) -> None:
        try:
            await callback.answer()  # stops the button's spinner; not a message, so not via the outbox
        except TelegramAPIError as error:
            log.info("could not answer callback query: %s", error)
        await core.handle(from_callback(callback, event_update.update_id))
        sender.wake()

    return router


class AiogramRuntime:
    def __init__(self, app: App, listen: Listen | None = None) -> None:
        self.app = app
        self.listen = listen  # None: long polling; else webhook mode on this address
        self.bot = build_bot(app.settings)
        self.sender = outbox_sender(app, AiogramTransport(self.bot))
        self.dispatcher = Dispatcher(core=app.core, sender=self.sender)
        self.dispatcher.include_router(build_router())
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()

    async def run(self, *, handle_signals: bool = True) -> None:
        sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
        jobs = build_jobs(self.app)
        try:
            await jobs.start()
            me = await self.bot.get_me()
            await self.bot.set_my_commands(COMMANDS)
            if self.listen is not None:
                log.info("bot @%s starting (webhook)", me.username)
                await serve_webhook(self.dispatcher, self.bot, self.app.settings, self.listen, ALLOWED_UPDATES,
                                    self._became_ready, self._stopping, handle_signals)
                return
            await self.bot.delete_webhook(drop_pending_updates=False)
            log.info("bot @%s ready (long polling)", me.username)
            self.dispatcher.startup.register(self._on_startup)
            # handle_as_tasks=False: an update is confirmed to Telegram only after it was handled and
            # committed, so a crash mid-update means redelivery (and the update-id record makes that safe).
            await self.dispatcher.start_polling(
                self.bot,
                handle_as_tasks=False,
                polling_timeout=self.app.settings.polling_timeout,
                allowed_updates=ALLOWED_UPDATES,
                handle_signals=handle_signals,
                close_bot_session=False,
            )
        finally:
            await jobs.stop()
            self.sender.stop()
            await sender_task
            await self.bot.session.close()

    async def _on_startup(self) -> None:
        self._became_ready()

    def _became_ready(self) -> None:
        self.ready.set()
        self.sender.wake()  # deliver whatever a previous run left in the outbox

    async def stop(self) -> None:
        self._stopping.set()
        if self.listen is not None:
            return
        try:
            await self.dispatcher.stop_polling()
        except RuntimeError:
            pass  # polling had not started
