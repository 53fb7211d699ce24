"""What the conversation core takes in and gives back, independent of any chat framework."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

# NUL (PostgreSQL text refuses it) and lone UTF-16 surrogate halves (not encodable as UTF-8). No client sends them,
# but a forged update or a pasted binary can; the database must never be asked to store them.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Kind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    PRESS = "press"
    PHOTO = "photo"
    LOCATION = "location"
    CONTACT = "contact"
    EDITED = "edited"  # an edit of an earlier message: never re-applied, the user is told so
    OTHER = "other"  # stickers, voice, documents… anything the flows do not take


@dataclass(frozen=True)
class Photo:
    file_id: str
    file_unique_id: str = ""
    size: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Inbound:
    """One event from a user. `user_id` and `chat_id` are the channel's ids (a private chat: the same)."""

    user_id: int
    chat_id: int
    kind: Kind
    text: str = ""  # the text; for a command, its argument
    command: str | None = None  # without the slash, lower case
    data: str | None = None  # button data of a press
    photo: Photo | None = None
    location: tuple[float, float] | None = None
    phone: str | None = None
    update_id: int | None = None
    channel: str = "telegram"
    # The message a pressed button sits on, so the core can mark the choice on it.
    message_id: int | None = None
    message_text: str | None = None
    pressed_label: str | None = None
    display_name: str | None = None

    def storable(self) -> Inbound:
        """This event with every text made storable (NUL dropped, lone surrogates replaced by U+FFFD)."""
        changes: dict[str, Any] = {
            name: _storable(getattr(self, name))
            for name in _TEXT_FIELDS
            if getattr(self, name) and _UNSTORABLE.search(getattr(self, name))
        }
        return replace(self, **changes) if changes else self


_TEXT_FIELDS = ("text", "command", "data", "phone", "message_text", "pressed_label", "display_name")


def _storable(text: str) -> str:
    return _UNSTORABLE.sub(lambda found: "" if found[0] == "\x00" else "\ufffd", text)


@dataclass(frozen=True)
class Choice:
    data: str  # short ASCII id; Telegram allows 64 bytes
    label: str

    def __post_init__(self) -> None:
        if not 1 <= len(self.data.encode()) <= 64:
            raise ValueError(f"button data must be 1..64 bytes: {self.data!r}")


@dataclass(frozen=True)
class Reply:
    """A message to a chat: text with optional buttons, a request for location/contact, or media."""

    text: str
    choices: tuple[Choice, ...] = ()
    columns: int = 1
    request: str | None = None  # "location" | "contact": a keyboard button that shares it
    photo: str | None = None  # a file reference (Telegram file id or a local path)
    document: str | None = None
    chat_id: int | None = None  # None: the chat the inbound came from
    # Photos shown together (Telegram: an album, sendMediaGroup, 2-10 of them; `text` is its caption, and an
    # album carries no buttons). A reference is a file id, a local path or "media:<key>" in the media store.
    album: tuple[str, ...] = ()
    # Who is told, and what, if the message can never be delivered (the recipient blocked the bot): the sender
    # queues it in the transaction that records the failure (storage/outbox.py fail_over).
    fallback: tuple[int, str] | None = None
    # A document the sender renders before sending it (handlers/rectification_pdf.py ensure_sheet): the data of a
    # 整改告知单, so no transaction waits for the rendering.
    sheet: dict[str, Any] | None = None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text}
        if self.choices:
            rows: list[list[dict[str, str]]] = []
            for index, choice in enumerate(self.choices):
                if index % max(self.columns, 1) == 0:
                    rows.append([])
                rows[-1].append({"label": choice.label, "data": choice.data})
            body["buttons"] = rows
        if self.request:
            body["request"] = self.request
        if self.photo:
            body["photo"] = self.photo
        if self.document:
            body["document"] = self.document
        if self.album:
            body["album"] = list(self.album)
        if self.sheet:
            body["sheet"] = self.sheet
        if self.fallback:
            body["fallback"] = {"chat_id": self.fallback[0], "text": self.fallback[1]}
        return body

    @property
    def kind(self) -> str:
        if self.album:
            return "album"
        if self.photo:
            return "photo"
        if self.document:
            return "document"
        return "message"


MEDIA_PREFIX = "media:"  # a photo reference naming a file in the media store
ALBUM_MAX = 10  # Telegram's limit of items in one album


def photo_replies(caption: str, references: list[str], chat_id: int | None = None) -> list[Reply]:
    """Photos as albums of at most ALBUM_MAX (one photo: a plain photo message); the caption on the first."""
    replies = []
    for start in range(0, len(references), ALBUM_MAX):
        group = tuple(references[start : start + ALBUM_MAX])
        text = caption if start == 0 else ""
        replies.append(
            Reply(text, photo=group[0], chat_id=chat_id)
            if len(group) == 1
            else Reply(text, album=group, chat_id=chat_id)
        )
    return replies


@dataclass
class Outcome:
    """What handling one inbound produced (already written to the outbox)."""

    replies: list[Reply] = field(default_factory=list)
    duplicate: bool = False
    press_accepted: bool = False
    toast: str | None = None  # for a press: a short notice on the user's screen (answerCallbackQuery), no message
