"""A round-robin HTTP load balancer for tests: one public URL in front of several webhook instances.

A backend that refuses the connection is skipped (as a health-checking balancer would); when none answers, the
balancer answers 502 and Telegram (the emulator) sends the update again later."""

from __future__ import annotations

import itertools

import aiohttp
from aiohttp import web

FORWARDED_HEADERS = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")


class LoadBalancer:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends  # base URLs, e.g. http://127.0.0.1:8081
        self.served: dict[str, int] = dict.fromkeys(backends, 0)
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> LoadBalancer:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        app = web.Application()
        app.router.add_route("POST", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        start = next(self._turn)
        for offset in range(len(self.backends)):
            backend = self.backends[(start + offset) % len(self.backends)]
            try:
                async with self._http.post(backend + request.path, data=body, headers=headers) as response:
                    payload = await response.read()
                    self.served[backend] += 1
                    return web.Response(
                        status=response.status, body=payload, content_type=response.content_type or "application/json"
                    )
            except aiohttp.ClientConnectionError:
                continue  # down: try the next instance
        return web.Response(status=502, text="no backend")
