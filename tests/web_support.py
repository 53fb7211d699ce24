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
    console = Console(
        db=db,
        clock=clock,
        texts=core.texts,
        menus=core.parts.menus,
        knowledge=core.parts.knowledge,
        media=LocalMediaStore(tmp_path / "media"),
        cookies=Cookies(SECRET, secure=False),
        files_dir=tmp_path / "web-files",
        charts_dir=tmp_path / "charts",
        upload_max=upload_mb * 1024 * 1024,
    )
    server = uvicorn.Server(
        uvicorn.Config(build_app(console), host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
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


# Units around 岩头镇 and 桥下镇 with locations, statuses and reports over the past weeks, so that every page (the
# dashboard's bars and trend, the map, a report's photo) shows something in the screenshots.
SHOPS = (
    ("芙蓉村", "芙蓉饭店", True),
    ("芙蓉村", "芙蓉小卖部", False),
    ("岩头村", "岩头理发店", True),
    ("岩头村", "岩头小吃", True),
    ("苍坡村", "苍坡旅馆", False),
    ("港头村", "港头面馆", True),
    ("渡头村", "渡头便利店", True),
    ("桥下村", "桥下饭馆", False),
    ("光华村", "光华小吃", True),
)
INDUSTRIES = ("small_restaurant", "small_grocery", "small_hotel", "small_beauty_salon")


def photo_png(text: str) -> bytes:
    """A real PNG (a shop front with its sign) for a report's photo."""
    from io import BytesIO

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from handlers.digest_render import font_family

    figure, axis = plt.subplots(figsize=(3.2, 2.4), dpi=80)
    axis.add_patch(plt.Rectangle((0.1, 0.1), 0.8, 0.55, color="#b0bec5"))
    axis.add_patch(plt.Rectangle((0.1, 0.66), 0.8, 0.2, color="#c62828"))
    axis.text(0.5, 0.76, text, ha="center", va="center", color="white", fontsize=14, family=font_family())
    axis.set_axis_off()
    out = BytesIO()
    figure.savefig(out, format="png")
    plt.close(figure)
    return out.getvalue()


async def furnish(office: Office, db: Database, clock) -> None:
    from datetime import timedelta

    from storage import inspections
    from storage.inspection_models import Inspection, InspectionPhoto, Unit
    from storage.media import keep
    from storage.models import User
    from tests.inspection_support import add_unit

    world = office.world
    checklist = office.core.parts.knowledge.checklists
    for number, (village, name, good) in enumerate(SHOPS):
        industry = [slug for slug in INDUSTRIES if slug in checklist][number % 2]
        unit_id = await add_unit(db, clock, village, name, industry)
        async with db.transaction() as session:
            unit = await session.get(Unit, unit_id)
            unit.latitude, unit.longitude = 28.26 + 0.004 * number, 120.70 + 0.006 * (number % 4)
            report = inspections.Report(
                unit_id=unit_id,
                submit_key=f"furnish-{number}",
                industry=industry,
                answers={},
                notes={},
                proposed_compliant=good,
                compliant=good,
                unit_class="upgrade" if good else "rectify",
                rectify_by=None if good else clock.now().date() + timedelta(days=20),
                location=(unit.latitude + 0.0003, unit.longitude),
            )
            inspection, _ = await inspections.submit(session, report, world.user_ids["cadre"], clock.now())
            inspection.submitted_at = clock.now() - timedelta(days=7 * (number % 6))
            reviewer = world.user_ids["there_township" if village in ("桥下村", "光华村") else "township"]
            inspections.approve(inspection, await session.get(User, reviewer), clock.now())
    here = world.inspections["here_submitted"]
    stored = await keep(office.console.media, photo_png("老王小吃店"))
    async with db.transaction() as session:
        for unit_key, lat in (("here", 28.262), ("there", 28.30)):
            unit = await session.get(Unit, world.units[unit_key])
            unit.latitude, unit.longitude = lat, 120.69
        inspection = await session.get(Inspection, here)
        inspection.latitude, inspection.longitude = 28.2621, 120.6902
        session.add(
            InspectionPhoto(
                inspection_id=here,
                file_id="web-test",
                file_unique_id="web-test",
                size=1000,
                created_at=clock.now(),
                channel="terminal",
                sha256=stored.sha256,
                extension=stored.extension,
                stored_at=clock.now(),
            )
        )
