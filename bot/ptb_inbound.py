"""Turns python-telegram-bot updates into the core's Inbound events, field for field as bot/aiogram_inbound does."""

from __future__ import annotations

from telegram import CallbackQuery, Message

from bot.aiogram_inbound import MAX_TEXT, split_command
from handlers.events import Inbound, Kind, Photo


def from_message(message: Message, update_id: int | None, *, edited: bool = False) -> Inbound:
    user = message.from_user
    user_id = user.id if user else message.chat.id
    base = {"user_id": user_id, "chat_id": message.chat.id, "update_id": update_id,
            "display_name": user.first_name if user else None}
    if edited:
        return Inbound(kind=Kind.EDITED, **base)
    if message.text is not None:
        text = message.text[:MAX_TEXT]
        command = split_command(text)
        if command is not None:
            return Inbound(kind=Kind.COMMAND, command=command[0], text=command[1], **base)
        return Inbound(kind=Kind.TEXT, text=text, **base)
    if message.photo:
        largest = message.photo[-1]
        photo = Photo(largest.file_id, largest.file_unique_id, largest.file_size, largest.width, largest.height)
        return Inbound(kind=Kind.PHOTO, photo=photo, text=(message.caption or "")[:MAX_TEXT], **base)
    if message.location is not None:
        return Inbound(kind=Kind.LOCATION, location=(message.location.latitude, message.location.longitude), **base)
    if message.contact is not None:
        # Only a user's own number counts; a forwarded contact card is someone else's data.
        own = user is not None and message.contact.user_id == user.id
        return Inbound(kind=Kind.CONTACT if own else Kind.OTHER, phone=message.contact.phone_number if own else None,
                       **base)
    return Inbound(kind=Kind.OTHER, **base)


def from_callback(callback: CallbackQuery, update_id: int | None) -> Inbound:
    # An old message comes as InaccessibleMessage (no text, no keyboard): treat it as unknown.
    message = callback.message if isinstance(callback.message, Message) else None
    label = None
    if message is not None and message.reply_markup is not None:
        for row in message.reply_markup.inline_keyboard:
            for button in row:
                if button.callback_data == callback.data:
                    label = button.text
    chat_id = message.chat.id if message is not None else callback.from_user.id
    return Inbound(
        user_id=callback.from_user.id,
        chat_id=chat_id,
        kind=Kind.PRESS,
        data=(callback.data or "")[:64],
        update_id=update_id,
        message_id=message.message_id if message is not None else None,
        message_text=message.text if message is not None else None,
        pressed_label=label,
        display_name=callback.from_user.first_name,
    )
