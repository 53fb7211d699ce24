"""getUpdates through python-telegram-bot, for the shared long-polling loop (bot/polling.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from telegram import Bot, Update
from telegram import error as tg_error

from bot.polling import Fetched
from bot.ptb_inbound import update_inbound
from bot.ptb_transport import retry_seconds


class PtbUpdates:
    expected_errors: tuple[type[Exception], ...] = (tg_error.TelegramError,)  # network errors included
    fatal_errors: tuple[type[Exception], ...] = (tg_error.InvalidToken,)  # a revoked token: stop, as PTB does

    def __init__(self, bot: Bot, *, timeout: int, allowed_updates: list[str]) -> None:
        self.bot = bot
        self.timeout = timeout
        self.allowed_updates = allowed_updates

    async def fetch(self, offset: int | None) -> Sequence[Fetched]:
        updates = await self.bot.get_updates(
            offset=offset, timeout=timedelta(seconds=self.timeout), allowed_updates=self.allowed_updates
        )
        return [Fetched(update.update_id, update_inbound(update), _answer(update)) for update in updates]

    def retry_after(self, error: Exception) -> float | None:
        return retry_seconds(error) if isinstance(error, tg_error.RetryAfter) else None

    async def confirm(self, offset: int) -> None:
        await self.bot.get_updates(offset=offset, timeout=timedelta(0), limit=1)


def _answer(update: Update) -> Callable[[str | None], Awaitable[object]] | None:
    """Stops a press's spinner, with the core's toast if it gave one."""
    query = update.callback_query
    if query is None:
        return None
    return lambda toast: query.answer(text=toast)
