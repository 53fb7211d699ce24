"""Webhook delivery, as Telegram does it: each pending update is POSTed to the URL given by setWebhook, with the
secret token header; a 2xx answer confirms it, anything else (or no answer) means it is sent again later.

Like Telegram, updates of one chat go one at a time and in order; different chats go in parallel, up to
setWebhook's max_connections."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from .core import _update_chat_id

if TYPE_CHECKING:
    from .server import TelegramEmulator

RETRY_AFTER = 0.3  # Telegram waits longer; tests want the retry soon
POST_TIMEOUT = 60.0


@dataclass
class WebhookAttempt:
    update_id: int
    status: int | None  # None: no answer (connection refused, reset, timed out)
    at: float


class WebhookPusher:
    def __init__(self, emulator: TelegramEmulator) -> None:
        self.emulator = emulator
        self.attempts: list[WebhookAttempt] = []
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._retry_at: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="emulator-webhook")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._inflight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        self._inflight.clear()

    def _active(self) -> bool:
        return bool(self.emulator.webhook_url) and not self.emulator._closing

    def _due(self) -> list[Any]:
        """Pending updates that may go now: the first of each chat not already in flight."""
        limit = int(self.emulator.webhook_params.get("max_connections") or 40)
        now = time.monotonic()
        busy_chats = {self._chat(e) for e in self.emulator.queue._pending if e.update_id in self._inflight}
        seen_chats: set[Any] = set()
        due = []
        for entry in self.emulator.queue._pending:
            chat = self._chat(entry)
            first_of_chat = chat is None or chat not in seen_chats
            if chat is not None:
                seen_chats.add(chat)
            if (
                entry.update_id in self._inflight
                or not first_of_chat
                or chat in busy_chats
                or self._retry_at.get(entry.update_id, 0.0) > now
            ):
                continue
            if len(self._inflight) + len(due) >= limit:
                break
            due.append(entry)
        return due

    @staticmethod
    def _chat(entry: Any) -> Any:
        return _update_chat_id(entry.payload)

    async def _run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=POST_TIMEOUT)) as http:
            while self._active():
                for entry in self._due():
                    self._inflight[entry.update_id] = asyncio.create_task(self._post(http, entry))
                await self.emulator.signal.wait_for(lambda: bool(self._due()) or not self._active(), 0.1)
            for task in list(self._inflight.values()):
                task.cancel()

    async def _post(self, http: aiohttp.ClientSession, entry: Any) -> None:
        url = self.emulator.webhook_url
        headers = {}
        secret = self.emulator.webhook_params.get("secret_token")
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(secret)
        status: int | None = None
        try:
            async with http.post(url, json=entry.payload, headers=headers) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError):
            status = None
        finally:
            self._inflight.pop(entry.update_id, None)
        self.attempts.append(WebhookAttempt(entry.update_id, status, time.monotonic()))
        queue = self.emulator.queue
        if status is not None and 200 <= status < 300:
            queue._pending = [e for e in queue._pending if e is not entry]
            entry.delivered = True
            queue.delivered.append(entry.update_id)
            self._retry_at.pop(entry.update_id, None)
        else:
            self._retry_at[entry.update_id] = time.monotonic() + RETRY_AFTER
        self.emulator.signal.notify()
