"""Sending one outbox message through a Bot API client: aiogram and python-telegram-bot share the method names,
so the transports differ only in how they build keyboards, files and album items."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handlers.events import MEDIA_PREFIX
from scheduler.sender import PermanentFailure, TemporaryFailure
from storage.media import MediaError, MediaMissing, MediaStore

CAPTION_MAX = 1024

# A file reference (file id, local path, "media:<key>") as the client's input file; may read the media store.
Media = Callable[[str], Awaitable[Any]]
# (input file, caption or None) as the client's InputMediaPhoto.
AlbumItem = Callable[[Any, str | None], Any]


async def send_payload(
    bot: Any,
    chat_id: int,
    kind: str,
    payload: dict[str, Any],
    markup: Callable[[dict[str, Any]], Any],
    media: Media,
    album_item: AlbumItem,
) -> int | None:
    text = payload.get("text", "")
    if kind == "edit":
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=payload["message_id"], reply_markup=None)
        return payload["message_id"]
    if kind == "album":
        # One sendMediaGroup; the caption on the first photo (an album has no buttons).
        files = [await media(reference) for reference in payload["album"]]
        items = [
            album_item(file, (text[:CAPTION_MAX] or None) if index == 0 else None) for index, file in enumerate(files)
        ]
        sent = await bot.send_media_group(chat_id, items)
        return sent[0].message_id
    if kind == "photo":
        sent = await bot.send_photo(
            chat_id, await media(payload["photo"]), caption=text[:CAPTION_MAX] or None, reply_markup=markup(payload)
        )
    elif kind == "document":
        sent = await bot.send_document(
            chat_id, await media(payload["document"]), caption=text[:CAPTION_MAX] or None, reply_markup=markup(payload)
        )
    else:
        sent = await bot.send_message(chat_id, text, reply_markup=markup(payload))
    return sent.message_id


async def stored_bytes(store: MediaStore | None, reference: str) -> tuple[bytes, str] | None:
    """The bytes and a file name of a "media:<key>" reference (None for any other reference). A file the store
    does not have is a message that can never be sent as it is: PermanentFailure."""
    if not reference.startswith(MEDIA_PREFIX):
        return None
    key = reference[len(MEDIA_PREFIX) :]
    if store is None:
        raise PermanentFailure(f"no media store to read {key}")
    try:
        return await store.get(key), key.rsplit("/", 1)[-1]
    except MediaMissing as error:
        raise PermanentFailure(f"not in the media store: {key}") from error
    except MediaError as error:
        raise TemporaryFailure(f"media store: {error}") from error
