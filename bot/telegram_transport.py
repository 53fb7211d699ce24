"""Delivers outbox messages through aiogram, mapping its errors onto the sender's retry classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.outbound import send_payload, stored_bytes
from scheduler.sender import PermanentFailure, RetryAfter, TemporaryFailure
from storage.media import MediaStore

REQUEST_LABELS = {"location": "📍 发送我的位置", "contact": "📱 发送我的手机号"}


def markup(payload: dict[str, Any]) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    rows = payload.get("buttons") or []
    request = payload.get("request")
    if request in REQUEST_LABELS:
        # A message has one keyboard: sharing a location needs a reply keyboard, so the other choices
        # become text buttons there (the core accepts a choice typed as its label).
        button = KeyboardButton(
            text=REQUEST_LABELS[request], request_location=request == "location", request_contact=request == "contact"
        )
        keyboard = [[button], *([KeyboardButton(text=b["label"]) for b in row] for row in rows)]
        return ReplyKeyboardMarkup(keyboard=keyboard, resize_keyboard=True, one_time_keyboard=True)
    if rows:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=b["label"], callback_data=b["data"]) for b in row] for row in rows
            ]
        )
    return None


def _local_or_id(reference: str) -> Any:
    path = Path(reference)
    return FSInputFile(path) if path.is_file() else reference


def _album_item(file: Any, caption: str | None) -> InputMediaPhoto:
    return InputMediaPhoto(media=file, caption=caption)


class AiogramTransport:
    def __init__(self, bot: Bot, media: MediaStore | None = None) -> None:
        self.bot = bot
        self.media = media  # where "media:<key>" references are read from

    async def _media(self, reference: str) -> Any:
        stored = await stored_bytes(self.media, reference)
        if stored is not None:
            return BufferedInputFile(stored[0], filename=stored[1])
        return _local_or_id(reference)

    async def deliver(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        try:
            return await self._send(chat_id, kind, payload)
        except TelegramRetryAfter as error:
            raise RetryAfter(float(error.retry_after)) from error
        # ClientDecodeError: a proxy's HTML error page instead of JSON (e.g. nginx 502), as transient as a 5xx.
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError, TimeoutError) as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error
        except TelegramBadRequest as error:
            if kind == "edit" and "not modified" in str(error):
                return payload.get("message_id")
            raise PermanentFailure(f"bad request: {error}") from error
        except TelegramForbiddenError as error:
            raise PermanentFailure(f"forbidden: {error}") from error

    async def _send(self, chat_id: int, kind: str, payload: dict[str, Any]) -> int | None:
        return await send_payload(self.bot, chat_id, kind, payload, markup, self._media, _album_item)


class AiogramPhotoSource:
    """Downloads a photo by its file id through aiogram's public API (getFile, then the file URL)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def fetch(self, reference: str) -> bytes:
        try:
            downloaded = await self.bot.download(reference)
        except TelegramBadRequest as error:  # an unknown file id, a file over the 20 MB a bot may download
            raise PermanentFailure(f"bad request: {error}") from error
        if downloaded is None:
            raise TemporaryFailure("nothing downloaded")
        return downloaded.read()
