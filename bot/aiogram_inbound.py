"""aiogram updates as the core's Inbound events (the conversion itself is shared: bot/inbound.py)."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message, Update

from bot.inbound import MAX_TEXT, message_inbound, press_inbound, split_command
from handlers.events import Inbound

__all__ = ["MAX_TEXT", "from_callback", "from_message", "split_command", "update_inbound"]


def from_message(message: Message, update_id: int | None, *, edited: bool = False) -> Inbound:
    return message_inbound(message, update_id, edited=edited)


def from_callback(callback: CallbackQuery, update_id: int | None) -> Inbound:
    # An old message arrives as InaccessibleMessage (no text, no keyboard): treated as unknown.
    message = callback.message if isinstance(callback.message, Message) else None
    return press_inbound(callback, message, update_id)


def update_inbound(update: Update) -> Inbound | None:
    """The event an update brings; None for what the bot ignores (groups and channels: private chats only)."""
    if update.message is not None:
        return from_message(update.message, update.update_id) if update.message.chat.type == "private" else None
    if update.edited_message is not None:
        message = update.edited_message
        return from_message(message, update.update_id, edited=True) if message.chat.type == "private" else None
    if update.callback_query is not None:
        callback = update.callback_query
        if isinstance(callback.message, Message) and callback.message.chat.type != "private":
            return None
        return from_callback(callback, update.update_id)
    return None
