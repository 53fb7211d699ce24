"""getUpdates through aiogram, for the shared long-polling loop (bot/polling.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import GetUpdates
from aiogram.types import Update

from bot.aiogram_inbound import update_inbound
from bot.polling import Fetched


class AiogramUpdates:
    expected_errors: tuple[type[Exception], ...] = (TelegramAPIError,)  # network errors included
    fatal_errors: tuple[type[Exception], ...] = ()  # as aiogram's polling: retried until stopped

    def __init__(self, bot: Bot, *, timeout: int, allowed_updates: list[str]) -> None:
        self.bot = bot
        self.timeout = timeout
        self.allowed_updates = allowed_updates

    async def fetch(self, offset: int | None) -> Sequence[Fetched]:
        request = GetUpdates(offset=offset, timeout=self.timeout, allowed_updates=self.allowed_updates)
        # The HTTP request must outlast the long poll it asks for.
        kwargs = {"request_timeout": int(self.bot.session.timeout + self.timeout)} if self.bot.session.timeout else {}
        updates = await self.bot(request, **kwargs)
        return [Fetched(update.update_id, update_inbound(update), self._press(update)) for update in updates]

    def retry_after(self, error: Exception) -> float | None:
        return float(error.retry_after) if isinstance(error, TelegramRetryAfter) else None

    async def confirm(self, offset: int) -> None:
        await self.bot(GetUpdates(offset=offset, timeout=0, limit=1))

    def _press(self, update: Update) -> Callable[[str | None], Awaitable[object]] | None:
        if update.callback_query is None:
            return None
        query_id = update.callback_query.id
        return lambda toast: self.bot.answer_callback_query(query_id, text=toast)
