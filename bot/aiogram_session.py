"""aiogram's HTTP session, keeping alive the response models aiogram builds.

aiogram parses every Bot API response with `Response[<the method's return type>]`, a pydantic generic model that
pydantic builds on first use and caches in a WeakValueDictionary. Nothing else holds it, so each collection of
the garbage collector's oldest generation can drop it and the next call builds it again: 5–8 ms a time, over a
hundred times per thousand updates in bench/inbound_throughput.py (the bot's own work triggers those collections
often). Holding every model once built keeps pydantic's cache entry alive.
"""

from __future__ import annotations

from typing import Any, ClassVar

import aiogram.types
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response


class KeepingSession(AiohttpSession):
    _built: ClassVar[dict[Any, Any]] = {}  # return type → Response[return type], for the process's lifetime

    def check_response(self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._built:
            model = Response[returning]  # type: ignore[valid-type]
            if not model.__pydantic_complete__:
                # Made before the type it returns was built (`shixiao run` builds aiogram's types on first use,
                # bot/aiogram_import.py): its forward references (Message's Chat ...) resolve in aiogram.types,
                # as at import; left unresolved, every answer of that type fails to parse after Telegram acted.
                model.model_rebuild(_types_namespace=vars(aiogram.types))
            self._built[returning] = model
        return super().check_response(bot, method, status_code, content)
