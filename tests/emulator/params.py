"""Decoding of Bot API request parameters from query string, form, multipart or JSON bodies.

Clients send every value as a string in forms (aiogram and python-telegram-bot JSON-encode
non-string values: numbers as "123", booleans as "true", objects as JSON text), so values are
coerced by parameter name, the way Telegram's own server interprets them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import ApiError, bad_request

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "results",
        "menu_button",
    }
)
INT_FIELDS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "reply_to_message_id",
        "cache_time",
        "message_thread_id",
        "user_id",
        "max_connections",
        "from_chat_id",
        "width",
        "height",
        "duration",
        "live_period",
    }
)
FLOAT_FIELDS = frozenset({"timeout", "latitude", "longitude", "horizontal_accuracy"})
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "disable_web_page_preview",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
}
_CHAT_ID_RE = re.compile(r"^-?\d+$")


@dataclass
class Upload:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


def _coerce(name: str, value: str) -> Any:
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(_JSON_ERRORS.get(name, f"can't parse {name} JSON object")) from None
    try:
        if name in INT_FIELDS:
            return int(value)
        if name in FLOAT_FIELDS:
            return float(value)
    except ValueError:
        raise bad_request(f"invalid {name} specified") from None
    if name in BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    if name in ("chat_id", "from_chat_id") and _CHAT_ID_RE.match(value):
        return int(value)
    return value


def coerce_params(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _coerce(k, v) if isinstance(v, str) else v for k, v in raw.items()}


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Merge query string and body parameters; return (params, uploads by part name)."""
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object")
            raw.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(key, value.filename, value.content_type, value.file.read())
                elif isinstance(value, bytes | bytearray):
                    uploads[key] = Upload(key, None, None, bytes(value))
                else:
                    raw[key] = value
    return coerce_params(raw), uploads


def input_file(params: dict[str, Any], uploads: dict[str, Upload], field: str) -> Upload | str | None:
    """Resolve an InputFile parameter: an Upload, a file_id / URL string, or None if absent.

    aiogram sends `photo=attach://<random>` plus a part with that name; python-telegram-bot sends
    the file as a part named after the parameter itself.
    """
    value = params.get(field)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = uploads.get(value[len("attach://") :])
        if upload is None:
            raise bad_request(f"wrong file identifier/HTTP URL specified: attach {value!r} not found")
        return upload
    if field in uploads:
        return uploads[field]
    if isinstance(value, str) and value:
        return value
    return None


def chat_id_param(params: dict[str, Any]) -> int | str:
    chat_id = params.get("chat_id")
    if chat_id is None or chat_id == "":
        raise ApiError(400, "Bad Request: chat_id is empty")
    return chat_id
