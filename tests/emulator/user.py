"""Simulated Telegram users: inject updates as a person would and observe the bot's replies."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .markup import command_entities, inline_buttons, reply_buttons
from .records import CallbackAnswer, SentMessage
from .state import image_size, make_png

if TYPE_CHECKING:
    from .server import TelegramEmulator

Matcher = str | re.Pattern[str] | Callable[[SentMessage], bool] | None


def _matches(matcher: Matcher, msg: SentMessage) -> bool:
    if matcher is None:
        return True
    if isinstance(matcher, str):
        return matcher in msg.content
    if isinstance(matcher, re.Pattern):
        return matcher.search(msg.content) is not None
    return bool(matcher(msg))


class SimulatedUser:
    """A user in a private chat with the bot. Every `send_*`/`press*` returns the new update_id."""

    def __init__(
        self,
        emu: TelegramEmulator,
        user_id: int,
        first_name: str,
        username: str | None,
        last_name: str | None,
        language_code: str | None,
    ) -> None:
        self.emu = emu
        self.user_id = user_id
        self.first_name = first_name
        self.username = username
        self.last_name = last_name
        self.language_code = language_code
        self.blocked = False  # when True the bot gets 403 "bot was blocked by the user"
        self._cursor = 0  # index into self.messages of the next unconsumed bot message
        self._answer_cursor = 0
        emu._chats[user_id] = self.chat

    # -- identity --------------------------------------------------------------------------

    @property
    def chat_id(self) -> int:
        return self.user_id

    @property
    def user(self) -> dict[str, Any]:
        """The Telegram User object of this person."""
        data: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    @property
    def chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data

    # -- sending ---------------------------------------------------------------------------

    async def _send(self, content: dict[str, Any], summary: str, reply_to: int | None = None) -> int:
        target = None
        if reply_to is not None:
            target = self.emu._messages.get((self.chat_id, reply_to))
            if target is None:
                raise LookupError(f"no message #{reply_to} in chat {self.chat_id} to reply to")
        msg = self.emu._new_message(self.chat, self.user, content, target)
        self.emu._log(self.chat_id, "user", summary)
        update_id = self.emu.inject_raw_update({"message": msg})
        await asyncio.sleep(0)  # let a waiting long-poll pick it up
        return update_id

    async def send_text(
        self, text: str, *, reply_to: int | None = None, entities: list[dict[str, Any]] | None = None
    ) -> int:
        """Plain text; /commands get bot_command entities as Telegram clients add them."""
        ents = entities if entities is not None else command_entities(text)
        return await self._send({"text": text, "entities": ents}, text, reply_to)

    async def send_command(self, command: str, args: str | None = None) -> int:
        command = command if command.startswith("/") else f"/{command}"
        text = f"{command} {args}" if args else command
        return await self._send({"text": text, "entities": command_entities(text)[:1]}, text)

    async def send_photo(
        self,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        file_size: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> int:
        """A photo; its bytes are downloadable via getFile + /file. file_size can fake a huge photo."""
        data = make_png() if data is None else data
        dims = image_size(data) or (1280, 960)
        stored = self.emu.files.add(
            "photo", data, file_size=file_size, mime_type="image/jpeg", width=width or dims[0], height=height or dims[1]
        )
        sizes = self.emu.photo_sizes(stored)
        return await self._send({"photo": sizes, "caption": caption}, f"[photo {stored.file_size}B] {caption or ''}")

    async def send_document(
        self,
        data: bytes = b"test document\n",
        *,
        file_name: str = "document.txt",
        mime_type: str | None = "text/plain",
        caption: str | None = None,
        file_size: int | None = None,
    ) -> int:
        stored = self.emu.files.add("document", data, file_size=file_size, file_name=file_name, mime_type=mime_type)
        return await self._send(
            {"document": stored.as_document(), "caption": caption},
            f"[document {file_name} {stored.file_size}B] {caption or ''}",
        )

    async def send_location(
        self, latitude: float, longitude: float, *, horizontal_accuracy: float | None = None
    ) -> int:
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        return await self._send({"location": location}, f"[location {latitude},{longitude}]")

    async def send_contact(
        self,
        phone_number: str,
        first_name: str | None = None,
        *,
        last_name: str | None = None,
        user_id: int | None = -1,
    ) -> int:
        """A shared contact; user_id defaults to this user's own id (sharing one's own number),
        pass user_id=None for a contact without a Telegram account."""
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if last_name is not None:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = self.user_id if user_id == -1 else user_id
        return await self._send({"contact": contact}, f"[contact {phone_number}]")

    async def send_sticker(self, emoji: str = "👍") -> int:
        stored = self.emu.files.add("sticker", b"RIFF\x00\x00\x00\x00WEBP", width=512, height=512)
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return await self._send({"sticker": sticker}, f"[sticker {emoji}]")

    async def edit_text(self, message_id: int, new_text: str) -> int:
        """Edit one of this user's earlier text messages (produces an edited_message update)."""
        msg = self.emu._messages.get((self.chat_id, message_id))
        if msg is None or msg["from"]["id"] != self.user_id or "text" not in msg:
            raise LookupError(f"message #{message_id} is not a text message of user {self.user_id}")
        msg["text"] = new_text
        msg["edit_date"] = int(time.time())
        ents = command_entities(new_text)
        if ents:
            msg["entities"] = ents
        else:
            msg.pop("entities", None)
        self.emu._log(self.chat_id, "user", f"[edited #{message_id}] {new_text}")
        update_id = self.emu.inject_raw_update({"edited_message": dict(msg)})
        await asyncio.sleep(0)
        return update_id

    # -- keyboards -------------------------------------------------------------------------

    def _keyboard_message(self, message: SentMessage | dict[str, Any] | int | None) -> dict[str, Any]:
        if message is None:
            for msg in reversed(self.emu._chat_messages(self.chat_id)):
                if msg["from"]["id"] == self.emu.bot_user["id"] and inline_buttons(msg.get("reply_markup")):
                    return msg
            raise LookupError(
                f"no bot message with an inline keyboard for user {self.user_id}\n"
                f"{self.emu.format_transcript(self.chat_id)}"
            )
        mid = (
            message
            if isinstance(message, int)
            else (message.message_id if isinstance(message, SentMessage) else message["message_id"])
        )
        msg = self.emu._messages.get((self.chat_id, mid))
        if msg is None:
            raise LookupError(f"message #{mid} not found in chat {self.chat_id} (deleted?)")
        return msg

    async def press(
        self, button: str | int, *, message: SentMessage | dict[str, Any] | int | None = None, times: int = 1
    ) -> int:
        """Press an inline button by label, callback_data or flat index (row by row); `times` > 1: tap it again
        at once, before the bot could answer (a double or triple tap). Returns the last update id."""
        msg = self._keyboard_message(message)
        buttons = inline_buttons(msg.get("reply_markup"))
        if isinstance(button, int):
            found = buttons[button] if -len(buttons) <= button < len(buttons) else None
        else:
            found = next((b for b in buttons if b["text"] == button), None) or next(
                (b for b in buttons if b.get("callback_data") == button), None
            )
        if found is None or found.get("callback_data") is None:
            raise LookupError(
                f"no callback button {button!r} on message #{msg['message_id']}; "
                f"buttons: {[(b['text'], b.get('callback_data')) for b in buttons]}"
            )
        update_id = 0
        for _ in range(times):
            update_id = await self._callback(found["callback_data"], msg, f"[pressed {found['text']!r}]")
        return update_id

    async def press_data(self, data: str, message_id: int | None = None) -> int:
        """A callback query with arbitrary (possibly forged) data, on message_id or the latest bot message."""
        msg = None
        if message_id is not None:
            msg = self.emu._messages.get((self.chat_id, message_id))
        else:
            bot_msgs = [m for m in self.emu._chat_messages(self.chat_id) if m["from"]["id"] == self.emu.bot_user["id"]]
            msg = bot_msgs[-1] if bot_msgs else None
        return await self._callback(data, msg, "[pressed forged]")

    async def _callback(self, data: str, msg: dict[str, Any] | None, summary: str) -> int:
        query_id = str(next(self.emu._callback_ids))
        self.emu._callbacks[query_id] = {"user_id": self.user_id, "chat_id": self.chat_id, "answered": False}
        query: dict[str, Any] = {
            "id": query_id,
            "from": self.user,
            "chat_instance": str(-6_000_000_000_000_000_000 - self.chat_id),
            "data": data,
        }
        if msg is not None:
            query["message"] = dict(msg)
        self.emu._log(self.chat_id, "user", f"{summary} data={data!r}")
        update_id = self.emu.inject_raw_update({"callback_query": query})
        await asyncio.sleep(0)
        return update_id

    @property
    def reply_keyboard(self) -> list[str] | None:
        """Labels of the reply keyboard currently shown to the user (None if none/removed)."""
        markup = self.emu._reply_keyboards.get(self.chat_id)
        return [b["text"] for b in reply_buttons(markup)] if markup else None

    async def tap(self, label: str, *, latitude: float = 25.04, longitude: float = 102.71) -> int:
        """Tap a reply keyboard button: sends its text, or a contact/location if the button requests it."""
        markup = self.emu._reply_keyboards.get(self.chat_id)
        button = next((b for b in reply_buttons(markup) if b["text"] == label), None)
        if button is None:
            raise LookupError(f"no reply keyboard button {label!r}; keyboard: {self.reply_keyboard}")
        if button.get("request_contact"):
            return await self.send_contact(f"+86138{self.user_id % 100_000_000:08d}")
        if button.get("request_location"):
            return await self.send_location(latitude, longitude)
        return await self.send_text(label)

    # -- observing -------------------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        """Every bot send/edit to this user, in order."""
        return self.emu.messages_to(self.chat_id)

    @property
    def last_message(self) -> SentMessage | None:
        msgs = self.messages
        return msgs[-1] if msgs else None

    def last_buttons(self) -> list[tuple[str, str | None]]:
        """(label, callback_data) of the newest bot message that currently has an inline keyboard."""
        try:
            msg = self._keyboard_message(None)
        except LookupError:
            return []
        return [(b["text"], b.get("callback_data")) for b in inline_buttons(msg.get("reply_markup"))]

    def consume(self) -> None:
        """Mark every bot message so far as seen, so expect() only looks at newer ones."""
        self._cursor = len(self.messages)

    async def expect(self, match: Matcher = None, timeout: float = 5.0) -> SentMessage:  # noqa: ASYNC109
        """Wait for the next bot message (send or edit) whose text/caption contains `match`
        (or matches a regex / predicate); messages before it are consumed."""

        def find() -> SentMessage | None:
            msgs = self.messages
            for index in range(self._cursor, len(msgs)):
                if _matches(match, msgs[index]):
                    self._cursor = index + 1
                    return msgs[index]
            return None

        found = await self.emu.signal.wait_for(find, timeout)
        if found is None:
            raise AssertionError(
                f"user {self.user_id}: no bot message matching {match!r} within {timeout}s\n"
                f"transcript:\n{self.emu.format_transcript(self.chat_id)}"
            )
        return found

    async def wait_for_messages(self, count: int = 1, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Wait for `count` new bot messages and consume them."""
        ok = await self.emu.signal.wait_for(lambda: len(self.messages) - self._cursor >= count, timeout)
        if not ok:
            raise AssertionError(
                f"user {self.user_id}: expected {count} new bot message(s) within {timeout}s, "
                f"got {len(self.messages) - self._cursor}\n"
                f"transcript:\n{self.emu.format_transcript(self.chat_id)}"
            )
        new = self.messages[self._cursor : self._cursor + count]
        self._cursor += count
        return new

    async def expect_silence(self, duration: float = 0.3) -> None:
        """Assert the bot sends this user nothing new for `duration` seconds."""
        before = len(self.messages)
        await self.emu.signal.wait_for(lambda: len(self.messages) > before, duration)
        if len(self.messages) > before:
            raise AssertionError(
                f"user {self.user_id}: expected silence, got {self.messages[before]}\n"
                f"transcript:\n{self.emu.format_transcript(self.chat_id)}"
            )

    async def expect_answer(self, timeout: float = 5.0) -> CallbackAnswer:  # noqa: ASYNC109
        """Wait for the next answerCallbackQuery addressed to this user's button presses."""

        def find() -> CallbackAnswer | None:
            mine = [a for a in self.emu.callback_answers if a.user_id == self.user_id]
            if len(mine) > self._answer_cursor:
                self._answer_cursor += 1
                return mine[self._answer_cursor - 1]
            return None

        answer = await self.emu.signal.wait_for(find, timeout)
        if answer is None:
            raise AssertionError(
                f"user {self.user_id}: no answerCallbackQuery within {timeout}s\n"
                f"transcript:\n{self.emu.format_transcript(self.chat_id)}"
            )
        return answer

    def __repr__(self) -> str:
        return f"SimulatedUser(id={self.user_id}, first_name={self.first_name!r})"
