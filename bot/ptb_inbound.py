"""python-telegram-bot updates as the core's Inbound events, field for field as for aiogram (bot/inbound.py)."""

from __future__ import annotations

from telegram import CallbackQuery, Message

from bot.inbound import message_inbound, press_inbound
from handlers.events import Inbound


def from_message(message: Message, update_id: int | None, *, edited: bool = False) -> Inbound:
    return message_inbound(message, update_id, edited=edited)


def from_callback(callback: CallbackQuery, update_id: int | None) -> Inbound:
    # An old message arrives as InaccessibleMessage (no text, no keyboard): treated as unknown.
    message = callback.message if isinstance(callback.message, Message) else None
    return press_inbound(callback, message, update_id)
