"""python-telegram-bot updates as the core's Inbound events, field for field as for aiogram (bot/inbound.py)."""

from __future__ import annotations

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType

from bot.inbound import message_inbound, press_inbound
from handlers.events import Inbound


def from_message(message: Message, update_id: int | None, *, edited: bool = False) -> Inbound:
    return message_inbound(message, update_id, edited=edited)


def from_callback(callback: CallbackQuery, update_id: int | None) -> Inbound:
    # An old message arrives as InaccessibleMessage (no text, no keyboard): treated as unknown.
    message = callback.message if isinstance(callback.message, Message) else None
    return press_inbound(callback, message, update_id)


def update_inbound(update: Update) -> Inbound | None:
    """The event an update brings; None for what the bot ignores (groups and channels: private chats only)."""
    if update.message is not None:
        message = update.message
        return from_message(message, update.update_id) if message.chat.type == ChatType.PRIVATE else None
    if update.edited_message is not None:
        message = update.edited_message
        return from_message(message, update.update_id, edited=True) if message.chat.type == ChatType.PRIVATE else None
    if update.callback_query is not None:
        callback = update.callback_query
        if isinstance(callback.message, Message) and callback.message.chat.type != ChatType.PRIVATE:
            return None
        return from_callback(callback, update.update_id)
    return None
