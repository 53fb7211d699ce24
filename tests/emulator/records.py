"""Plain records of what the bot did, kept by the emulator for assertions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .markup import inline_buttons, reply_buttons


@dataclass
class SentMessage:
    """One bot-side message event: a send or an edit (edits carry the full new state)."""

    method: str
    chat_id: int | str
    message_id: int
    kind: str  # "text", "photo", "document", ...
    text: str | None = None  # plain text as Telegram stores it (markup parsed away)
    caption: str | None = None
    raw_text: str | None = None  # text/caption exactly as the bot sent it
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    file_id: str | None = None
    timestamp: float = 0.0
    payload: dict[str, Any] = field(default_factory=dict)  # the Message JSON returned to the bot
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_edit(self) -> bool:
        return self.method.lower().startswith("edit")

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """(label, callback_data) of the inline keyboard; url buttons have callback_data None."""
        return [(b["text"], b.get("callback_data")) for b in inline_buttons(self.reply_markup)]

    @property
    def keyboard(self) -> list[str]:
        """Labels of a reply keyboard attached to this message."""
        return [b["text"] for b in reply_buttons(self.reply_markup)]

    def __str__(self) -> str:
        extra = f" buttons={self.buttons}" if self.buttons else ""
        extra += f" keyboard={self.keyboard}" if self.keyboard else ""
        return f"[{self.method} #{self.message_id}] {self.content!r}{extra}"


@dataclass
class ApiCall:
    """Every request the emulator served, including rejected and faulted ones."""

    method: str
    params: dict[str, Any]
    timestamp: float
    status: int = 200
    ok: bool = True
    description: str | None = None
    fault: str | None = None


@dataclass
class CallbackAnswer:
    callback_query_id: str
    user_id: int | None
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    timestamp: float


@dataclass
class ChatAction:
    chat_id: int | str
    action: str
    timestamp: float


@dataclass
class TranscriptLine:
    """One line of a chat's conversation, both sides, for readable failure messages."""

    who: str  # "user" or "bot"
    text: str
    timestamp: float

    def __str__(self) -> str:
        return f"{self.who:>4}: {self.text}"
