"""aiogram updates as the core's Inbound events (the conversion itself is shared: bot/inbound.py)."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from bot.inbound import MAX_TEXT, message_inbound, press_inbound, split_command
from handlers.events import Inbound

__all__ = ["MAX_TEXT", "from_callback", "from_message", "split_command"]


def from_message(message: Message, update_id: int | None, *, edited: bool = False) -> Inbound:
    return message_inbound(message, update_id, edited=edited)


def from_callback(callback: CallbackQuery, update_id: int | None) -> Inbound:
    # An old message arrives as InaccessibleMessage (no text, no keyboard): treated as unknown.
    message = callback.message if isinstance(callback.message, Message) else None
    return press_inbound(callback, message, update_id)
