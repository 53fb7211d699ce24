"""The optional Telegram runtime on python-telegram-bot 22: long polling, replies through the outbox sender.

Confirming updates: PTB's own Updater puts each fetched batch on the application's queue and advances its
offset at once, so its very next getUpdates confirms the batch to Telegram while the updates are still waiting
to be handled (and Updater.stop confirms whatever is queued). A crash then loses them; concurrent_updates(False)
does not change that, it only serialises the handlers. So this runtime builds the Application without an
Updater and polls itself, as the aiogram runtime does (bot/aiogram_polling.py): each fetched batch goes to the
core as one transaction (Core.handle_batch) and only then is the offset moved past it, which the next
getUpdates confirms. A redelivered update is a no-op thanks to the core's update-id record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from datetime import timedelta

from telegram import BotCommand, CallbackQuery, Update
from telegram import error as tg_error
from telegram.ext import Application, ApplicationBuilder

from bot.aiogram_runtime import ALLOWED_UPDATES
from bot.aiogram_runtime import COMMANDS as AIOGRAM_COMMANDS
from bot.app import App, build_jobs, outbox_sender
from bot.ptb_inbound import update_inbound
from bot.ptb_transport import PtbTransport, opt_in_timedelta, retry_seconds
from bot.settings import Settings

log = logging.getLogger(__name__)

COMMANDS = [BotCommand(c.command, c.description) for c in AIOGRAM_COMMANDS]
BACKOFF_MIN, BACKOFF_MAX, BACKOFF_FACTOR = 1.0, 5.0, 1.3  # after a failed getUpdates, as aiogram does


def build_application(settings: Settings) -> Application:
    if not settings.token:
        raise RuntimeError("SHIXIAO_TELEGRAM_TOKEN is not set")
    base = settings.telegram_api_base.rstrip("/")
    return (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(base + "/bot{token}")
        .base_file_url(base + "/file/bot{token}")
        .updater(None)  # we poll ourselves, see the module docstring
        .concurrent_updates(False)
        .job_queue(None)  # scheduling is APScheduler's job in scheduler/, not PTB's
        .build()  # no rate_limiter(): the outbox sender owns Telegram's limits
    )


class PtbRuntime:
    def __init__(self, app: App) -> None:
        opt_in_timedelta()
        # httpx logs every request URL at INFO, and PTB's URLs contain the bot token.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self.app = app
        self.application = build_application(app.settings)
        self.bot = self.application.bot
        self.sender = outbox_sender(app, PtbTransport(self.bot))
        self.ready = asyncio.Event()
        self.offset = 0  # the first update id not yet handled; getUpdates with it confirms the ones before
        self._stopping = asyncio.Event()

    async def run(self, *, handle_signals: bool = True) -> None:
        sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
        jobs = build_jobs(self.app)  # reminders and digests, as in the aiogram runtime
        signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
        loop = asyncio.get_running_loop()
        for sig in signals:
            loop.add_signal_handler(sig, self._stopping.set)
        try:
            await jobs.start()
            await self.application.initialize()  # getMe
            await self.bot.delete_webhook(drop_pending_updates=False)
            await self.bot.set_my_commands(COMMANDS)
            await self.application.start()
            log.info("bot @%s ready (long polling, python-telegram-bot)", self.bot.username)
            self.ready.set()
            self.sender.wake()  # deliver whatever a previous run left in the outbox
            await self._poll()
            await self._confirm_handled()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await jobs.stop()
            self.sender.stop()
            await sender_task
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()
            await self.bot.shutdown()  # closes the HTTP clients even when initialize() failed half-way

    async def stop(self) -> None:
        self._stopping.set()

    async def _poll(self) -> None:
        delay = BACKOFF_MIN
        while not self._stopping.is_set():
            try:
                updates = await self._fetch()
            except tg_error.InvalidToken:
                raise
            except tg_error.RetryAfter as error:
                await self._pause(retry_seconds(error))
                continue
            except tg_error.TelegramError as error:
                log.warning("getUpdates failed (%s: %s); retrying in %.1fs", type(error).__name__, error, delay)
                await self._pause(delay)
                delay = min(delay * BACKOFF_FACTOR, BACKOFF_MAX)
                continue
            except Exception:
                # e.g. an update PTB cannot parse: keep the bot up (and the update unconfirmed), as PTB's Updater does
                log.exception("unexpected getUpdates failure; retrying in %.1fs", delay)
                await self._pause(delay)
                delay = min(delay * BACKOFF_FACTOR, BACKOFF_MAX)
                continue
            if not updates:
                delay = BACKOFF_MIN
                continue
            try:
                await self._handle(updates)
            except Exception:
                # Not confirmed: the next getUpdates returns the same updates, once the database is back.
                log.exception("could not handle %d updates; they stay unconfirmed; retrying in %.1fs",
                              len(updates), delay)
                await self._pause(delay)
                delay = min(delay * BACKOFF_FACTOR, BACKOFF_MAX)
                continue
            delay = BACKOFF_MIN
            self.offset = updates[-1].update_id + 1

    async def _handle(self, updates: Sequence[Update]) -> None:
        # Presses are answered first, side by side (it stops each button's spinner; not a message, so not via the
        # outbox); then the batch is handled in one transaction.
        await asyncio.gather(*(self._answer(update.callback_query) for update in updates
                               if update.callback_query is not None))
        inbounds = [inbound for update in updates if (inbound := update_inbound(update)) is not None]
        if inbounds:
            await self.app.core.handle_batch(inbounds)
            self.sender.wake()

    async def _answer(self, callback: CallbackQuery) -> None:
        try:
            await callback.answer()
        except tg_error.TelegramError as error:
            log.info("could not answer callback query: %s", error)

    async def _fetch(self) -> tuple[Update, ...] | None:
        """One long poll, cut short by stop() (None then)."""
        fetch = asyncio.ensure_future(self.bot.get_updates(
            offset=self.offset,
            timeout=timedelta(seconds=self.app.settings.polling_timeout),
            allowed_updates=ALLOWED_UPDATES,
        ))
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, tg_error.TelegramError):
                await fetch
            return None
        return fetch.result()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _confirm_handled(self) -> None:
        """On a clean stop, tell Telegram what was handled so a restart does not fetch it again (what PTB's
        Updater does on stop, but only up to the last handled update). Updates this call returns are left
        unconfirmed; failure only means a harmless redelivery."""
        if self.offset <= 0:
            return
        try:
            await asyncio.wait_for(self.bot.get_updates(offset=self.offset, timeout=timedelta(0), limit=1), 5)
        except (tg_error.TelegramError, TimeoutError) as error:
            log.info("could not confirm the last handled updates on stop: %s", error)
