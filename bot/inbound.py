"""Bot API messages and button presses as the core's Inbound events.

aiogram and python-telegram-bot both mirror the Bot API's field names, so one duck-typed conversion serves both;
each runtime only decides which of its objects is a readable message (bot/aiogram_inbound, bot/ptb_inbound).
"""

from __future__ import annotations

from typing import Any

from handlers.events import Inbound, Kind, Photo

MAX_TEXT = 20_000  # anything longer is cut here; flows enforce their own, smaller limits


def split_command(text: str) -> tuple[str, str] | None:
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        return None
    return name, rest.strip()


def message_inbound(message: Any, update_id: int | None, *, edited: bool = False) -> Inbound:
    user = message.from_user
    user_id = user.id if user else message.chat.id
    base = {
        "user_id": user_id,
        "chat_id": message.chat.id,
        "update_id": update_id,
        "display_name": user.first_name if user else None,
    }
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
        return Inbound(
            kind=Kind.CONTACT if own else Kind.OTHER, phone=message.contact.phone_number if own else None, **base
        )
    return Inbound(kind=Kind.OTHER, **base)


def press_inbound(callback: Any, message: Any | None, update_id: int | None) -> Inbound:
    """A button press; `message` is the message it sits on, or None when the runtime cannot read it (too old)."""
    label = None
    if message is not None and message.reply_markup is not None:
        for row in getattr(message.reply_markup, "inline_keyboard", None) or []:
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
