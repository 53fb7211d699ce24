"""The aiohttp server exposing the emulated Bot API, and the test-facing TelegramEmulator."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .errors import ApiError, retry_after
from .faults import TELEGRAM_CHAT_BURST, Fault
from .methods import LIMITED_METHODS, ApiMethods, Handler, describe_params
from .params import read_params
from .records import ApiCall
from .user import SimulatedUser
from .webhook import WebhookPusher

_MAX_UPLOAD = 64 * 1024 * 1024
_GARBAGE_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")


class TelegramEmulator(ApiMethods):
    """A local fake of the Telegram Bot API for end-to-end tests.

    >>> async with TelegramEmulator() as emu:
    ...     user = emu.user(1001, "张三")
    ...     await user.send_command("/start")
    ...     reply = await user.expect("欢迎")
    """

    def __init__(
        self,
        token: str = "123456789:TEST-emulator-token",
        *,
        bot_name: str = "Test Bot",
        bot_username: str = "test_bot",
        enforce_limits: bool = False,
        global_per_sec: int = 30,
        per_chat_per_sec: int = 1,
        per_chat_burst: int = TELEGRAM_CHAT_BURST,
        strict_chats: bool = True,
        port: int = 0,
    ) -> None:
        """strict_chats: sending to a chat no simulated user / add_chat() created fails with
        "chat not found", as it would for a user who never started the bot."""
        super().__init__(
            token,
            bot_name=bot_name,
            bot_username=bot_username,
            enforce_limits=enforce_limits,
            global_per_sec=global_per_sec,
            per_chat_per_sec=per_chat_per_sec,
            per_chat_burst=per_chat_burst,
            strict_chats=strict_chats,
        )
        self._port = port
        self._runner: web.AppRunner | None = None
        self._methods = self._method_table()
        self._closing = False
        self._poll_generation = 0
        self._inflight = 0  # requests other than getUpdates being served
        self._last_activity = time.monotonic()
        self.base_url = ""
        self.webhook = WebhookPusher(self)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> TelegramEmulator:
        app = web.Application(client_max_size=_MAX_UPLOAD)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # Short shutdown timeout: held ("timeout" fault) and long-poll requests are woken on stop anyway.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        return self

    async def stop(self) -> None:
        self._closing = True
        self.signal.notify()
        await self.webhook.stop()
        await asyncio.sleep(0)  # let woken long-polls answer before connections are closed
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- client configuration helpers ------------------------------------------------------

    @property
    def api_url(self) -> str:
        """Method URL prefix, e.g. for python-telegram-bot's base_url (token appended by PTB)."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.base_url}/file/bot"

    def aiogram_server(self) -> Any:
        """aiogram TelegramAPIServer pointing at this emulator."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    def aiogram_session(self, **kwargs: Any) -> Any:
        """An aiogram AiohttpSession for this emulator whose close() skips aiogram's fixed 250 ms
        sleep (meant for TLS shutdown, useless on plain loopback HTTP and slow across many tests)."""
        from aiogram.client.session.aiohttp import AiohttpSession

        class _LoopbackSession(AiohttpSession):
            async def close(self) -> None:
                if self._session is not None and not self._session.closed:
                    await self._session.close()

        return _LoopbackSession(api=self.aiogram_server(), **kwargs)

    def register_method(self, name: str, handler: Handler | Callable[..., Any]) -> None:
        """Add or override a method: handler(params, uploads) -> result (may be async, may raise ApiError)."""
        self._methods[name.lower()] = (name, handler)

    def stub(self, name: str, result: Any = True) -> None:
        """Make a method the emulator does not implement simply succeed with `result`."""
        self.register_method(name, lambda _p, _u: result)

    # -- simulated users -------------------------------------------------------------------

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "Test",
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> SimulatedUser:
        """Get or create a simulated user with a private chat to the bot."""
        if user_id not in self._users:
            self._users[user_id] = SimulatedUser(self, user_id, first_name, username, last_name, language_code)
        return self._users[user_id]

    @property
    def users(self) -> list[SimulatedUser]:
        return list(self._users.values())

    # -- waiting helpers -------------------------------------------------------------------

    @property
    def pending_updates(self) -> int:
        """Updates not yet handed to the bot by getUpdates."""
        return self.queue.undelivered_count()

    async def wait_delivered(self, update_id: int | None = None, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched `update_id` (default: every queued update) via getUpdates."""
        ok = await self.signal.wait_for(
            lambda: (
                (update_id in self.queue.delivered) if update_id is not None else self.queue.undelivered_count() == 0
            ),
            timeout,
        )
        if not ok:
            raise AssertionError(
                f"bot did not fetch update {update_id or '(all)'} within {timeout}s; "
                f"is it polling? calls so far: {[c.method for c in self.calls[-10:]]}"
            )

    async def settle(self, quiet: float = 0.2, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until all updates were fetched and the bot made no API call (besides getUpdates)
        for `quiet` seconds: the bot has finished reacting, as far as the outside can tell."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            idle_for = time.monotonic() - self._last_activity
            if self.queue.undelivered_count() == 0 and self._inflight == 0 and idle_for >= quiet:
                return
            if loop.time() >= deadline:
                raise AssertionError(
                    f"bot did not settle within {timeout}s (pending={self.pending_updates}, in flight={self._inflight})"
                )
            await self.signal.wait_for(lambda: False, min(max(quiet - idle_for, 0.01), deadline - loop.time()))

    # -- HTTP handlers ---------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        name, handler = entry
        call = ApiCall(method=name, params={}, timestamp=time.time())
        self.calls.append(call)
        counted = name != "getUpdates"
        self._inflight += counted
        try:
            return await self._serve(request, call, handler)
        finally:
            self._inflight -= counted
            if counted:
                self._last_activity = time.monotonic()
            self.signal.notify()

    async def _serve(self, request: web.Request, call: ApiCall, handler: Handler) -> web.StreamResponse:
        try:
            params, uploads = await read_params(request)
            call.params = describe_params(params, uploads)
            fault = self.faults.pick(call.method, params)
            if fault is not None and not fault.apply:
                return await self._fault_response(request, call, fault)
            if self.enforce_limits and call.method in LIMITED_METHODS:
                wait = self.limiter.check(params.get("chat_id"))
                if wait is not None:
                    self.limit_violations += 1
                    raise retry_after(wait)
            result = handler(params, uploads)
            if inspect.isawaitable(result):
                result = await result
            if fault is not None:  # side effect happened; now lose the answer
                return await self._fault_response(request, call, fault)
        except ApiError as err:
            call.status, call.ok, call.description = err.code, False, err.description
            return _json(err.payload(), err.code)
        return _json({"ok": True, "result": result})

    async def _fault_response(self, request: web.Request, call: ApiCall, fault: Fault) -> web.StreamResponse:
        call.fault, call.ok = fault.kind, False
        if fault.kind == "garbage":
            call.status = 502
            return web.Response(body=_GARBAGE_502, status=502, content_type="text/html")
        if fault.kind == "redirect":
            call.status = 302
            return web.Response(status=302, headers={"Location": str(request.url)}, text=f"Moved to {request.url}")
        if fault.kind in ("timeout", "reset"):
            call.status = 0
            if fault.kind == "timeout":
                await self.signal.wait_for(lambda: self._closing, fault.hold)
            # Abort the TCP connection so the client sees a disconnect, never a response.
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        err = fault.error()
        call.status, call.description = err.code, err.description
        return _json(err.payload(), err.code)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        stored = self.files.by_path(request.match_info["path"])
        if stored is None or stored.data is None:
            return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")
