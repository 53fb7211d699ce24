"""Long polling that handles each getUpdates batch in one transaction and confirms it only after the commit.

aiogram's Dispatcher hands updates over one at a time, so each would be a transaction of its own; here the batch
Telegram returned (up to 100 updates) goes to the core at once (Core.handle_batch, a group commit), which halves
the cost per update (bench/README.md). The guarantee is the same as the Dispatcher's with handle_as_tasks=False:
an update is confirmed (the next getUpdates' offset) only after its transaction committed, so a crash means
redelivery, and the recorded update ids make that harmless. Webhook mode keeps the Dispatcher: there, each HTTP
request is one update.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.aiogram_inbound import update_inbound
from handlers.core import Core
from scheduler.sender import Sender

log = logging.getLogger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)  # aiogram's polling default


class BatchPolling:
    def __init__(self, bot: Bot, core: Core, sender: Sender, *, timeout: int, allowed_updates: list[str]) -> None:
        self.bot = bot
        self.core = core
        self.sender = sender
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop after the batch in hand (a long poll under way is abandoned: nothing it fetched was confirmed)."""
        self._stopping.set()

    async def run(self, ready: Callable[[], None]) -> None:
        offset: int | None = None
        backoff = Backoff(config=BACKOFF)
        ready()
        while not self._stopping.is_set():
            updates = await self._fetch(offset)
            if updates is None:  # stopping, or Telegram could not be reached
                if not self._stopping.is_set():
                    await self._pause(backoff)
                continue
            if not updates:
                backoff.reset()
                continue
            try:
                await self._handle(updates)
            except Exception:
                # Not confirmed: the next getUpdates returns the same updates, once the database is back.
                log.exception("could not handle %d updates; they stay unconfirmed", len(updates))
                await self._pause(backoff)
                continue
            backoff.reset()
            offset = updates[-1].update_id + 1
        await self._confirm_handled(offset)

    async def _fetch(self, offset: int | None) -> list[Update] | None:
        request = GetUpdates(offset=offset, timeout=self.timeout, allowed_updates=self.allowed_updates)
        kwargs = {"request_timeout": int(self.bot.session.timeout + self.timeout)} if self.bot.session.timeout else {}
        fetch = asyncio.ensure_future(self.bot(request, **kwargs))
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
            return None
        try:
            return fetch.result()
        except TelegramRetryAfter as error:  # flood control: wait as long as Telegram says, then poll again
            log.warning("getUpdates: flood control, waiting %s s", error.retry_after)
            await self._wait(error.retry_after)
            return []
        except Exception as error:
            log.error("failed to fetch updates: %s: %s", type(error).__name__, error)
            return None

    async def _pause(self, backoff: Backoff) -> None:
        delay = next(backoff)
        log.warning("polling again in %.1f s (attempt %d)", delay, backoff.counter)
        await self._wait(delay)

    async def _wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    async def _confirm_handled(self, offset: int | None) -> None:
        """On a clean stop, tell Telegram what was handled, so that a restart does not fetch it again. Updates this
        call returns stay unconfirmed; a failure only means a harmless redelivery."""
        if offset is None:
            return
        try:
            await asyncio.wait_for(self.bot(GetUpdates(offset=offset, timeout=0, limit=1)), 5)
        except (TelegramAPIError, TimeoutError) as error:
            log.info("could not confirm the last handled updates on stop: %s", error)

    async def _handle(self, updates: list[Update]) -> None:
        # Presses are answered first (it stops each button's spinner; not a message, so not via the outbox),
        # side by side; then the batch is handled. Until it commits, none of it is confirmed.
        await asyncio.gather(*(self._answer(update) for update in updates if update.callback_query is not None))
        inbounds = [inbound for update in updates if (inbound := update_inbound(update)) is not None]
        if inbounds:
            await self.core.handle_batch(inbounds)
            self.sender.wake()

    async def _answer(self, update: Update) -> None:
        try:
            await self.bot.answer_callback_query(update.callback_query.id)  # type: ignore[union-attr]
        except TelegramAPIError as error:
            log.info("could not answer callback query: %s", error)
