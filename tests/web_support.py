"""The web console beside a small county (tests/world.py): a real uvicorn server on a free port in the test's event
loop, the chat core whose /web answers carry links to it, and helpers to sign in as a person of the world."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from bot.web.app import Console, build_app
from bot.web.auth import Cookies
from handlers.assembly import build_core
from handlers.context import CoreConfig
from handlers.core import Core
from storage.db import Database
from storage.media import LocalMediaStore
from tests.world import World, build_world

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/signin/[A-Za-z0-9_-]+)")
SECRET = "test-web-secret-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Office:
    """The running console, its address, the chat core and the world."""

    base: str
    core: Core
    world: World
    console: Console

    async def link(self, who: str) -> str:
        """What `who` (a key of the world's people) gets from /web in the chat."""
        replies = await self.world.people[who].command("web")
        found = LINK.search(replies[-1].text)
        assert found, replies[-1].text
        return found.group(1)

    async def client(self, who: str) -> httpx.AsyncClient:
        """An HTTP client signed in as `who` through a chat link (the browser's two steps: GET, then POST)."""
        client = httpx.AsyncClient(base_url=self.base, follow_redirects=False, timeout=30)
        link = await self.link(who)
        token = link.rsplit("/", 1)[1]
        assert (await client.get(f"/signin/{token}")).status_code == 200
        answer = await client.post("/signin", data={"token": token})
        assert answer.status_code == 303, answer.text
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def running_office(db: Database, clock, tmp_path: Path, upload_mb: int = 2) -> AsyncIterator[Office]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    core = build_core(db, clock, CoreConfig(web_base_url=base, charts_dir=tmp_path / "charts"))
    world = await build_world(core, db, clock)
    console = Console(db=db, clock=clock, texts=core.texts, menus=core.parts.menus, knowledge=core.parts.knowledge,
                      media=LocalMediaStore(tmp_path / "media"), cookies=Cookies(SECRET, secure=False),
                      files_dir=tmp_path / "web-files", charts_dir=tmp_path / "charts",
                      upload_max=upload_mb * 1024 * 1024)
    server = uvicorn.Server(uvicorn.Config(build_app(console), host="127.0.0.1", port=port, log_config=None,
                                           access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
        if task.done():
            task.result()
    try:
        yield Office(base, core, world, console)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
