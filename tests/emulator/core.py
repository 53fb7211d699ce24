"""Emulator state shared by the API handlers and the test-facing helpers: chats, messages, records."""

from __future__ import annotations

import copy
import itertools
import time
from typing import TYPE_CHECKING, Any

from .errors import ApiError, bad_request
from .faults import FaultInjector, RateLimiter
from .records import ApiCall, CallbackAnswer, ChatAction, SentMessage, TranscriptLine
from .state import FileStore, Signal, UpdateQueue

if TYPE_CHECKING:
    from .user import SimulatedUser


class EmulatorState:
    """All mutable state of one emulated bot account."""

    def __init__(
        self,
        token: str,
        *,
        bot_name: str,
        bot_username: str,
        enforce_limits: bool,
        global_per_sec: int,
        per_chat_per_sec: int,
        per_chat_burst: int,
        strict_chats: bool,
    ) -> None:
        bot_id = token.split(":", 1)[0]
        if not bot_id.isdigit() or ":" not in token:
            raise ValueError("token must look like '<digits>:<secret>'")
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.strict_chats = strict_chats
        self.signal = Signal()
        self.queue = UpdateQueue()
        self.files = FileStore()
        self.faults = FaultInjector()
        self.enforce_limits = enforce_limits
        self.limiter = RateLimiter(global_per_sec, per_chat_per_sec, per_chat_burst)
        self.limit_violations = 0

        self.sent: list[SentMessage] = []
        # False: uploaded files are recorded by size only (a benchmark sending thousands of PDFs keeps no bytes).
        self.keep_uploads = True
        self.calls: list[ApiCall] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[ChatAction] = []
        self.deleted: list[tuple[int | str, int]] = []
        self.webhook_url: str | None = None
        self.webhook_params: dict[str, Any] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.logged_out = False

        self._users: dict[int, SimulatedUser] = {}
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._next_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._reply_keyboards: dict[int | str, dict[str, Any] | None] = {}
        self._transcripts: dict[int | str, list[TranscriptLine]] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_ids = itertools.count(4_390_000_000_000_000_001)
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}

    # -- chats -----------------------------------------------------------------------------

    def add_chat(
        self, chat_id: int, *, type: str = "supergroup", title: str = "Test group", **extra: Any
    ) -> dict[str, Any]:
        """Register a non-private chat the bot may write to (e.g. an admin group)."""
        self._chats[chat_id] = {"id": chat_id, "type": type, "title": title, **extra}
        return self._chats[chat_id]

    def _resolve_chat(self, chat_id: int | str) -> dict[str, Any]:
        chat: dict[str, Any] | None = None
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next((c for c in self._chats.values() if c.get("username") == chat_id[1:]), None)
        else:
            chat = self._chats.get(chat_id)
            if chat is None and not self.strict_chats and isinstance(chat_id, int):
                chat = self._chats[chat_id] = {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        if chat is None:
            raise bad_request("chat not found")
        user = self._users.get(chat["id"])
        if user is not None and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _allocate_message_id(self, chat_id: int | str) -> int:
        # Private chats share one message id sequence between both sides, like Telegram.
        mid = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = mid + 1
        return mid

    def get_message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """Current JSON of a stored message (bot or user side), after any edits."""
        msg = self._messages.get((chat_id, message_id))
        return copy.deepcopy(msg) if msg is not None else None

    def _chat_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        return [m for (cid, _), m in sorted(self._messages.items(), key=lambda kv: kv[0][1]) if cid == chat_id]

    # -- message creation ------------------------------------------------------------------

    def _new_message(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        content: dict[str, Any],
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": self._allocate_message_id(chat["id"]),
            "from": dict(sender),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        if reply_to is not None:
            msg["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        msg.update({k: v for k, v in content.items() if v not in (None, [])})
        self._messages[(chat["id"], msg["message_id"])] = msg
        return msg

    def _reply_target(self, chat: dict[str, Any], params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters") or {}
        mid = params.get("reply_to_message_id") or (reply.get("message_id") if isinstance(reply, dict) else None)
        if not mid:
            return None
        target = self._messages.get((chat["id"], int(mid)))
        allow = params.get("allow_sending_without_reply") or reply.get("allow_sending_without_reply")
        if target is None and not allow:
            raise bad_request("message to be replied not found")
        return target

    def _record(
        self,
        method: str,
        msg: dict[str, Any],
        params: dict[str, Any],
        *,
        kind: str,
        raw_text: str | None,
        markup: dict[str, Any] | None,
        file_id: str | None = None,
    ) -> SentMessage:
        record = SentMessage(
            method=method,
            chat_id=msg["chat"]["id"],
            message_id=msg["message_id"],
            kind=kind,
            text=msg.get("text"),
            caption=msg.get("caption"),
            raw_text=raw_text,
            parse_mode=params.get("parse_mode"),
            entities=list(msg.get("entities") or msg.get("caption_entities") or []),
            reply_markup=markup,
            file_id=file_id,
            timestamp=time.time(),
            payload=copy.deepcopy(msg),
            params=dict(params),
        )
        self.sent.append(record)
        if markup is not None and ("keyboard" in markup or markup.get("remove_keyboard")):
            self._reply_keyboards[record.chat_id] = markup if "keyboard" in markup else None
        self._log(record.chat_id, "bot", str(record))
        return record

    def _log(self, chat_id: int | str, who: str, text: str) -> None:
        self._transcripts.setdefault(chat_id, []).append(TranscriptLine(who, text, time.time()))
        self.signal.notify()

    # -- update injection ------------------------------------------------------------------

    def inject_raw_update(self, update: dict[str, Any]) -> int:
        """Queue an arbitrary update dict (update_id assigned unless present); returns its id."""
        update_id = self.queue.push(update)
        self.signal.notify()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Deliver an existing update again with the same update_id (duplicate delivery)."""
        self.queue.redeliver(update_id)
        chat_id = _update_chat_id(self.queue.log[update_id])
        if chat_id is not None:
            self._log(chat_id, "user", f"[redelivered update {update_id}]")
        self.signal.notify()

    @property
    def updates(self) -> dict[int, dict[str, Any]]:
        """Every update ever injected, by update_id."""
        return self.queue.log

    # -- observation -----------------------------------------------------------------------

    def messages_to(self, chat_id: int | str) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def transcript(self, chat_id: int | str) -> list[TranscriptLine]:
        return list(self._transcripts.get(chat_id, []))

    def format_transcript(self, chat_id: int | str, last: int = 20) -> str:
        lines = self.transcript(chat_id)[-last:]
        return "\n".join(f"  {line}" for line in lines) or "  (empty)"

    def get_commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        return list(self.commands.get(_scope_key(scope, language_code), []))


def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
    scope = scope if isinstance(scope, dict) else {"type": "default"}
    return (str(sorted(scope.items())), str(language_code or ""))


def _update_chat_id(update: dict[str, Any]) -> int | None:
    for key in ("message", "edited_message", "callback_query"):
        body = update.get(key)
        if isinstance(body, dict):
            if key == "callback_query":
                body = body.get("message") or {}
            chat = body.get("chat") or {}
            return chat.get("id")
    return None
