"""Sending one outbox message through a Bot API client: aiogram and python-telegram-bot share the method names,
so the transports differ only in how they build keyboards and files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


async def send_payload(bot: Any, chat_id: int, kind: str, payload: dict[str, Any],
                       markup: Callable[[dict[str, Any]], Any], media: Callable[[str], Any]) -> int | None:
    text = payload.get("text", "")
    if kind == "edit":
        await bot.edit_message_text(text=text, chat_id=chat_id, message_id=payload["message_id"], reply_markup=None)
        return payload["message_id"]
    if kind == "photo":
        sent = await bot.send_photo(chat_id, media(payload["photo"]), caption=text[:1024] or None,
                                    reply_markup=markup(payload))
    elif kind == "document":
        sent = await bot.send_document(chat_id, media(payload["document"]), caption=text[:1024] or None,
                                       reply_markup=markup(payload))
    else:
        sent = await bot.send_message(chat_id, text, reply_markup=markup(payload))
    return sent.message_id
