"""Owner notices after a township-wide inspection day: 10,000 units inspected, each with a registered owner, each
owner told (the notice and the 整改告知单 PDF) through the outbox, delivered by the real sender within Telegram's
limits, none lost or duplicated.

Run: python bench/owner_fanout.py [--owners 10000] [--scale 5] [--sheets 100]

1. The day: for every unit a report with two failed items is stored and `handlers.owner_notice.notify_owners` (the
   code the chat runs on submit, given the cadre's turn) queues its notices, one transaction per report as in the
   chat. The sender renders each sheet before sending it (~0.3 s of CPU), so only --sheets of them are rendered in
   the run; for the others the bench puts a copy of a real rendered sheet at the sheet's path, which the sender then
   finds (as when a sheet is sent again). Reported: the time per report, and one sheet's rendering.
2. The fan-out: every queued message (a text and a PDF per owner) goes through `scheduler.sender.Sender` and aiogram
   to the Bot API emulator, which enforces Telegram's limits × --scale (429 with retry_after past them) and keeps
   only the size of uploaded files; the first --sheets PDFs are rendered by the sender on the way. Reported: throughput against the ceiling, 429s provoked, and per owner exactly
   one notice and one sheet (lost, duplicated).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot

from bot.aiogram_session import NoRedirectSession
from bot.telegram_transport import AiogramTransport
from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from handlers.assembly import build_core, shipped_knowledge
from handlers.context import CoreConfig, Turn
from handlers.events import Inbound, Kind
from handlers.owner_notice import notify_owners
from handlers.rectification_pdf import RectificationNotice, ensure_sheet, write_pdf
from scheduler.sender import Limits, Sender
from storage import inspections, outbox, owners, units, users
from storage.areas import children_of, find_area, load_county
from storage.clock import SystemClock
from storage.db import Database
from storage.models import AreaLevel, OutboxStatus, Role
from tests.emulator import TelegramEmulator

console = Console()
TOKEN = "123456789:BENCH-token"
FIRST_OWNER = 200_000
FAILED = {"common.display": "fail", "common.scope": "fail", "common.business_licence": "pass"}


async def register_owners(db: Database, clock: SystemClock, count: int) -> list[tuple[int, int]]:
    """Units spread over 岩头镇's villages, each with an owner and each village with a cadre: (unit id, cadre id)."""
    now = clock.now()
    async with db.transaction() as session:
        await load_county(session, parse_area_file(SAMPLE_COUNTY), now)
        township = await find_area(session, "岩头镇", AreaLevel.TOWNSHIP)
        villages = await children_of(session, township.id)
        cadres = []
        for number, village in enumerate(villages):
            cadre = await users.create_user(session, 100_000 + number, now)
            await users.assign_role(session, cadre, Role.CADRE, village)
            users.set_name(cadre, f"村干部{number}")
            cadres.append(cadre.id)
    made = []
    for start in range(0, count, 1000):
        async with db.transaction() as session:
            for index in range(start, min(start + 1000, count)):
                village = villages[index % len(villages)]
                unit, _ = await units.upsert_unit(
                    session, village, units.UnitFields(name=f"测试小吃店{index:05d}", industry="small_restaurant"), now
                )
                owner = await users.create_user(session, FIRST_OWNER + index, now)
                await users.assign_role(session, owner, Role.OPERATOR, village)
                users.set_name(owner, f"业主{index}")
                await owners.bind(session, unit.id, owner.id, now)
                made.append((unit.id, cadres[index % len(villages)]))
    return made


async def inspection_day(
    db: Database, clock: SystemClock, made: list[tuple[int, int]], sheets: int, charts: Path
) -> tuple[float, float]:
    """One report per unit and its owner's notices; returns seconds per report (the sheet is rendered later, by
    the sender) and seconds to render one sheet."""
    core = build_core(db, clock, CoreConfig(charts_dir=charts), knowledge=shipped_knowledge())
    parts = core.parts
    template: Path | None = None
    rendering = 0.0
    timings = []
    for index, (unit_id, cadre_id) in enumerate(made):
        started = time.perf_counter()
        async with db.transaction() as session:
            cadre = await users.get_user(session, cadre_id)
            report = inspections.Report(
                unit_id=unit_id,
                submit_key=f"bench-{unit_id}",
                industry="small_restaurant",
                answers=dict(FAILED),
                notes={"common.display": "未亮证亮照"},
                proposed_compliant=False,
                compliant=False,
                unit_class="rectify",
                rectify_by=clock.now().date() + timedelta(days=14),
            )
            inspection, _ = await inspections.submit(session, report, cadre_id, clock.now())
            unit = await units.get_unit(session, unit_id)
            inbound = Inbound(cadre.channel_user_id, cadre.channel_user_id, Kind.PRESS)
            turn = Turn(
                session,
                cadre,
                clock,
                parts.texts,
                parts.menus,
                core.config,
                inbound,
                parts.runner,
                knowledge=parts.knowledge,
            )
            assert await notify_owners(turn, inspection, unit) == 1
            messages = [(reply.chat_id, reply.kind, reply.payload()) for reply in turn.notices]
            await outbox.enqueue_notices(session, messages, clock.now())
        timings.append(time.perf_counter() - started)
        sheet = messages[-1][2]
        if template is None:
            ensure_sheet(sheet)  # as the sender will: one real sheet, the copies' source (matplotlib loads here)
            template = Path(sheet["document"])
            rendered = time.perf_counter()  # a warm rendering, as the sender's after its first
            write_pdf(RectificationNotice.from_payload(sheet["sheet"]), charts / "warm.pdf")
            rendering = time.perf_counter() - rendered
        elif index >= sheets:
            shutil.copyfile(template, sheet["document"])  # the bench's shortcut: the sender finds it rendered
    return sum(timings) / len(timings), rendering


async def fan_out(db: Database, owner_count: int, scale: int) -> dict[str, float]:
    async with TelegramEmulator(TOKEN, enforce_limits=True, global_per_sec=30 * scale, per_chat_per_sec=scale) as emu:
        emu.keep_uploads = False
        for index in range(owner_count):
            emu.user(FIRST_OWNER + index, f"业主{index}")
        bot = Bot(TOKEN, session=NoRedirectSession(api=emu.aiogram_server()))
        limits = Limits(global_per_second=30 * scale, per_chat_interval=1 / scale, concurrency=16)
        sender = Sender(db, AiogramTransport(bot), limits=limits)
        async with db.transaction() as session:
            queued = sum((await outbox.count_by_status(session)).values())
        started = time.perf_counter()
        assert await sender.drain(within=7200)
        elapsed = time.perf_counter() - started
        await bot.session.close()
        async with db.transaction() as session:
            statuses = await outbox.count_by_status(session)
        per_owner = Counter((message.chat_id, message.kind) for message in emu.sent if not message.is_edit)
        notices = [per_owner[(FIRST_OWNER + index, "text")] for index in range(owner_count)]
        sheets = [per_owner[(FIRST_OWNER + index, "document")] for index in range(owner_count)]
        return {
            "queued": queued,
            "elapsed": elapsed,
            "delivered": sum(per_owner.values()),
            "lost": sum(1 for n in notices if n == 0) + sum(1 for n in sheets if n == 0),
            "duplicates": sum(n - 1 for n in [*notices, *sheets] if n > 1),
            "violations": emu.limit_violations,
            "failed": statuses.get(OutboxStatus.FAILED, 0),
            "pending": statuses.get(OutboxStatus.PENDING, 0),
        }


async def run(owner_count: int, scale: int, sheets: int) -> None:
    clock = SystemClock()
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await db.upgrade()
        made = await register_owners(db, clock, owner_count)
        started = time.perf_counter()
        per_report, rendering = await inspection_day(db, clock, made, sheets, Path(folder) / "charts")
        day = time.perf_counter() - started
        result = await fan_out(db, owner_count, scale)
        await db.dispose()
    ceiling = 30 * scale
    rate = result["delivered"] / result["elapsed"]
    table = Table("figure", "value")
    table.add_row("owners / units", f"{owner_count:,} (岩头镇, one report each, 2 failed items)")
    table.add_row("report + its owner's notice queued (one transaction)", f"{per_report * 1000:.0f} ms")
    table.add_row("rendering one sheet (in the sender, outside transactions)", f"{rendering * 1000:.0f} ms")
    table.add_row("inspection day", f"{day:.0f} s")
    table.add_row("sheets the sender renders / finds copied", f"{sheets} / {owner_count - sheets}")
    table.add_row("limits (scaled)", f"{ceiling}/s overall, {scale}/s per chat (Telegram × {scale})")
    table.add_row("messages queued / delivered", f"{result['queued']:,} / {result['delivered']:,}")
    table.add_row("fan-out time", f"{result['elapsed']:.0f} s")
    table.add_row("throughput", f"{rate:.0f}/s = {rate / ceiling:.1%} of the {ceiling}/s ceiling")
    table.add_row("owners missing a notice or sheet / duplicates", f"{result['lost']:,} / {result['duplicates']:,}")
    table.add_row(
        "429s provoked / failed / still pending",
        f"{result['violations']:,} / {result['failed']:,} / {result['pending']:,}",
    )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description="Owner notice fan-out after a township-wide inspection day.")
    parser.add_argument("--owners", type=int, default=10_000)
    parser.add_argument("--scale", type=int, default=5, help="multiply Telegram's limits by this")
    parser.add_argument("--sheets", type=int, default=100, help="reports that render their own sheet")
    args = parser.parse_args()
    asyncio.run(run(args.owners, args.scale, args.sheets))


if __name__ == "__main__":
    main()
