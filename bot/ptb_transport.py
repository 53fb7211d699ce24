"""Delivers outbox messages through python-telegram-bot, mapping its errors onto the sender's retry classes.

Pacing, retries and exactly-once bookkeeping stay in scheduler/sender.py: the application is built without
PTB's rate limiter, so a 429 reaches the sender as RetryAfter instead of being retried inside PTB.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram import error as tg_error

from bot.outbound import send_payload, stored_bytes
from bot.telegram_transport import markup as aiogram_markup
from scheduler.sender import PermanentFailure, RetryAfter, TemporaryFailure
from storage.media import MediaStore


def opt_in_timedelta() -> None:
    """PTB 22 reports time periods (RetryAfter.retry_after) as int with a PTBDeprecationWarning unless
    PTB_TIMEDELTA is set; RetryAfter's constructor reads it, so every 429 would warn. PTB reads the variable
    at each access, so opting in before the first request is enough; our code expects timedelta."""
    os.environ["PTB_TIMEDELTA"] = "1"


def retry_seconds(error: tg_error.RetryAfter) -> float:
    value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def markup(payload: dict[str, Any]) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """The keyboard of bot/telegram_transport.markup, converted: one definition of how an outbox payload looks
    on Telegram, so both runtimes always show the same buttons."""
    built = aiogram_markup(payload)
    if built is None:
        return None
    data = built.model_dump(exclude_none=True)
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.de_json(data, None)
    keyboard = [[KeyboardButton.de_json(button, None) for button in row] for row in data.pop("keyboard")]
    return ReplyKeyboardMarkup(keyboard, **data)


def _local_or_id(reference: str) -> InputFile | str:
    path = Path(reference)
    # Read the bytes ourselves: handing PTB a path makes it open a file it never closes.
    return InputFile(path.read_bytes(), filename=path.name) if path.is_file() else reference


def _album_item(file: Any, caption: str | None) -> InputMediaPhoto:
    if isinstance(file, InputFile):
        # Inside an album an upload travels as attach://<name>, which PTB only does for an InputFile made so.
        file = InputFile(file.input_file_content, filename=file.filename, attach=True)
    return InputMediaPhoto(file, caption=caption)


class PtbTransport:
    def __init__(self, bot: Bot, media: MediaStore | None = None) -> None:
        opt_in_timedelta()
        self.bot = bot
        self.media = media  # where "media:<key>" references are read from

    async def _media(self, reference: str) -> InputFile | str:
        stored = await stored_bytes(self.media, reference)
        if stored is not None:
            return InputFile(stored[0], filename=stored[1])
        return _local_or_id(reference)

    async def deliver(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        try:
            return await self._send(chat_id, kind, payload)
        except tg_error.RetryAfter as error:
            raise RetryAfter(retry_seconds(error)) from error
        # BadRequest is a NetworkError subclass in PTB: it must be caught first.
        except tg_error.BadRequest as error:
            if kind == "edit" and "not modified" in str(error):
                return payload.get("message_id")
            raise PermanentFailure(f"bad request: {error}") from error
        except (tg_error.TimedOut, tg_error.NetworkError, TimeoutError) as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error
        except tg_error.Forbidden as error:
            raise PermanentFailure(f"forbidden: {error}") from error
        except tg_error.ChatMigrated as error:
            raise PermanentFailure(f"chat migrated: {error}") from error
        # InvalidToken and the like propagate, as in the aiogram transport: the sender's round fails and is
        # retried, so nothing in the outbox is given up because of a configuration error.

    async def _send(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        return await send_payload(self.bot, chat_id, kind, payload, markup, self._media, _album_item)


class PtbPhotoSource:
    """Downloads a photo by its file id through python-telegram-bot's public API (get_file, then download)."""

    def __init__(self, bot: Bot) -> None:
        opt_in_timedelta()
        self.bot = bot

    async def fetch(self, reference: str) -> bytes:
        try:
            file = await self.bot.get_file(reference)
            return bytes(await file.download_as_bytearray())
        except tg_error.BadRequest as error:  # an unknown file id, a file over the 20 MB a bot may download
            raise PermanentFailure(f"bad request: {error}") from error
