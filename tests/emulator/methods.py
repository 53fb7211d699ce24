"""Bot API method implementations. Each handler takes (params, uploads) and returns the result
or raises ApiError; the HTTP layer in server.py wraps it into Telegram's response envelope."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .albums import send_media_group
from .core import EmulatorState, _scope_key
from .errors import ApiError, bad_request
from .markup import MAX_CALLBACK_ANSWER, check_caption, check_reply_markup, check_text
from .params import Upload, chat_id_param, input_file
from .records import CallbackAnswer, ChatAction
from .state import StoredFile, image_size

Handler = Callable[[dict[str, Any], dict[str, Upload]], Any | Awaitable[Any]]

MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses files above 20 MB
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Methods counted by the optional flood-limit enforcement.
LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendMediaGroup",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_STUB_TRUE = ("setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton")


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    # Message objects only ever carry inline keyboards; reply keyboards live client-side.
    return markup if markup and "inline_keyboard" in markup else None


class ApiMethods(EmulatorState):
    """Implements the Bot API methods the bot under test uses."""

    _poll_generation = 0
    _closing = False

    def _method_table(self) -> dict[str, tuple[str, Handler]]:
        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._log_out,
            "close": self._close,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "editMessageCaption": self._edit_caption,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": lambda p, u: send_media_group(self, p, u),
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
        }
        for name in _STUB_TRUE:
            handlers[name] = lambda _p, _u: True
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    # -- bot account / updates -------------------------------------------------------------

    def _get_me(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: dict[str, Any], u: dict[str, Upload]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(p.get("offset") or 0)
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        # A newer getUpdates supersedes a waiting one, which then fails with 409 like Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self.queue.confirm(offset)
        self.signal.notify()
        await self.signal.wait_for(
            lambda: self._closing or generation != self._poll_generation or self.queue.available(), timeout
        )
        if generation != self._poll_generation:
            raise ApiError(
                409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
            )
        updates = self.queue.take(limit)
        self.signal.notify()
        return updates

    def _set_webhook(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        self.webhook_url = p.get("url") or None
        self.webhook_params = dict(p)
        if p.get("drop_pending_updates"):
            self.queue.clear()
        if self.webhook_url:
            self.webhook.start()  # pending updates are now POSTed to the URL instead of waiting for getUpdates
        self.signal.notify()
        return True

    def _delete_webhook(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        self.webhook_url = None
        if p.get("drop_pending_updates"):
            self.queue.clear()
        self.signal.notify()  # the webhook pusher sees the URL gone and stops
        return True

    def _get_webhook_info(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": self.queue.pending_count(),
        }

    def _log_out(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        self.logged_out = True
        return True

    def _close(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        return True

    # -- sending ---------------------------------------------------------------------------

    def _send_message(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        chat = self._resolve_chat(chat_id_param(p))
        text, entities = check_text(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = check_reply_markup(p.get("reply_markup"))
        reply_to = self._reply_target(chat, p)
        msg = self._new_message(
            chat, self.bot_user, {"text": text, "entities": entities, "reply_markup": _inline_only(markup)}, reply_to
        )
        self._record("sendMessage", msg, p, kind="text", raw_text=str(p["text"]), markup=markup)
        return msg

    def _stored_input(self, p: dict[str, Any], u: dict[str, Upload], field: str) -> StoredFile:
        source = input_file(p, u, field)
        if source is None:
            raise bad_request(f"there is no {field} in the request")
        if isinstance(source, Upload):
            dims = image_size(source.data) if field == "photo" else None
            return self.files.add(
                field,
                source.data if self.keep_uploads else None,
                file_size=len(source.data),
                file_name=source.filename,
                mime_type=source.content_type,
                width=dims[0] if dims else 1280,
                height=dims[1] if dims else 960,
            )
        known = self.files.get(source)
        if known is not None:
            return known
        if source.startswith(("http://", "https://")):
            # The emulator cannot fetch URLs; pretend Telegram did and got an empty file.
            return self.files.add(field, b"", file_name=source.rsplit("/", 1)[-1] or None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def photo_sizes(self, stored: StoredFile) -> list[dict[str, Any]]:
        """PhotoSize list for a stored photo: a thumbnail plus the full size, like Telegram."""
        if stored.file_id in self._photo_sets:
            return self._photo_sets[stored.file_id]
        width, height = stored.width or 1280, stored.height or 960
        scale = min(1.0, 90 / max(width, height))
        thumb = self.files.add(
            "photo",
            stored.data,
            file_size=max(1, stored.file_size // 10),
            width=max(1, round(width * scale)),
            height=max(1, round(height * scale)),
        )
        sizes = [thumb.as_photo_size(), stored.as_photo_size()]
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return sizes

    def _send_photo(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        chat = self._resolve_chat(chat_id_param(p))
        caption, entities = check_caption(p.get("caption"), p.get("parse_mode"), p.get("caption_entities"))
        markup = check_reply_markup(p.get("reply_markup"))
        stored = self._stored_input(p, u, "photo")
        reply_to = self._reply_target(chat, p)
        sizes = self.photo_sizes(stored)
        msg = self._new_message(
            chat,
            self.bot_user,
            {"photo": sizes, "caption": caption, "caption_entities": entities, "reply_markup": _inline_only(markup)},
            reply_to,
        )
        self._record(
            "sendPhoto", msg, p, kind="photo", raw_text=p.get("caption"), markup=markup, file_id=sizes[-1]["file_id"]
        )
        return msg

    def _send_document(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        chat = self._resolve_chat(chat_id_param(p))
        caption, entities = check_caption(p.get("caption"), p.get("parse_mode"), p.get("caption_entities"))
        markup = check_reply_markup(p.get("reply_markup"))
        stored = self._stored_input(p, u, "document")
        reply_to = self._reply_target(chat, p)
        msg = self._new_message(
            chat,
            self.bot_user,
            {
                "document": stored.as_document(),
                "caption": caption,
                "caption_entities": entities,
                "reply_markup": _inline_only(markup),
            },
            reply_to,
        )
        self._record(
            "sendDocument", msg, p, kind="document", raw_text=p.get("caption"), markup=markup, file_id=stored.file_id
        )
        return msg

    def _send_chat_action(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        chat = self._resolve_chat(chat_id_param(p))
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append(ChatAction(chat["id"], p["action"], time.time()))
        self.signal.notify()
        return True

    # -- editing ---------------------------------------------------------------------------

    def _editable(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # inline messages are not emulated
        chat = self._resolve_chat(chat_id_param(p))
        if not p.get("message_id"):
            raise bad_request("message identifier is not specified")
        msg = self._messages.get((chat["id"], int(p["message_id"])))
        if msg is None:
            raise bad_request("message to edit not found")
        if msg["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return msg

    def _apply_edit(
        self,
        method: str,
        msg: dict[str, Any],
        p: dict[str, Any],
        changes: dict[str, Any],
        markup: dict[str, Any] | None,
        raw_text: str | None,
    ) -> dict[str, Any]:
        # Telegram drops an inline keyboard that is not re-sent with the edit.
        changes["reply_markup"] = _inline_only(markup)
        if all(msg.get(k) == (v or None) for k, v in changes.items()):
            raise bad_request(_NOT_MODIFIED)
        for key, value in changes.items():
            if value in (None, []):
                msg.pop(key, None)
            else:
                msg[key] = value
        msg["edit_date"] = int(time.time())
        kind = "photo" if "photo" in msg else "document" if "document" in msg else "text"
        self._record(method, msg, p, kind=kind, raw_text=raw_text, markup=markup)
        return dict(msg)

    def _edit_message_text(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        msg = self._editable(p)
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        text, entities = check_text(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = check_reply_markup(p.get("reply_markup"))
        return self._apply_edit("editMessageText", msg, p, {"text": text, "entities": entities}, markup, str(p["text"]))

    def _edit_caption(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        msg = self._editable(p)
        if "text" in msg:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = check_caption(p.get("caption"), p.get("parse_mode"), p.get("caption_entities"))
        markup = check_reply_markup(p.get("reply_markup"))
        return self._apply_edit(
            "editMessageCaption", msg, p, {"caption": caption, "caption_entities": entities}, markup, p.get("caption")
        )

    def _edit_reply_markup(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        msg = self._editable(p)
        markup = check_reply_markup(p.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        return self._apply_edit("editMessageReplyMarkup", msg, p, {}, markup, None)

    def _delete_message(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        chat = self._resolve_chat(chat_id_param(p))
        key = (chat["id"], int(p.get("message_id") or 0))
        if self._messages.pop(key, None) is None:
            raise bad_request("message to delete not found")
        self.deleted.append(key)
        self._log(chat["id"], "bot", f"[deleteMessage #{key[1]}]")
        return True

    # -- callbacks, files, commands --------------------------------------------------------

    def _answer_callback_query(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        query = self._callbacks.get(str(p.get("callback_query_id") or ""))
        if query is None or query["answered"]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=str(p["callback_query_id"]),
                user_id=query["user_id"],
                text=text,
                show_alert=bool(p.get("show_alert")),
                url=p.get("url"),
                cache_time=p.get("cache_time"),
                timestamp=time.time(),
            )
        )
        if query.get("chat_id") is not None:
            self._log(query["chat_id"], "bot", f"[answerCallbackQuery text={text!r}]")
        self.signal.notify()
        return True

    def _get_file(self, p: dict[str, Any], u: dict[str, Upload]) -> dict[str, Any]:
        stored = self.files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        path = self.files.assign_path(stored)
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": path,
        }

    def _set_my_commands(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise bad_request("too many commands")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _COMMAND_RE.match(str(cmd.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description") or "")) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = _scope_key(p.get("scope"), p.get("language_code"))
        self.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _get_my_commands(self, p: dict[str, Any], u: dict[str, Upload]) -> list[dict[str, Any]]:
        return self.get_commands(p.get("scope"), p.get("language_code") or "")

    def _delete_my_commands(self, p: dict[str, Any], u: dict[str, Upload]) -> bool:
        self.commands.pop(_scope_key(p.get("scope"), p.get("language_code")), None)
        return True


def describe_params(params: dict[str, Any], uploads: dict[str, Upload]) -> dict[str, Any]:
    """Params for the call log, with uploads summarized instead of raw bytes."""
    logged = dict(params)
    for name, up in uploads.items():
        logged[f"<upload:{name}>"] = f"{up.filename or 'unnamed'} ({len(up.data)} bytes)"
    return json.loads(json.dumps(logged, default=str))
