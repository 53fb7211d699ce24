"""The web console's pages at county scale: 100k units, 1M inspections, 100k complaints, on SQLite.

Run: python bench/web_pages.py [--units 100000] [--inspections 1000000] [--complaints 100000] [--rounds 30]

The data is generated as bench/digest_bench.py generates it. Each page is requested in-process through the real
Starlette application (session cookie, database session row, the chat's role rules), as a county official and as
a township official; the time is from request to the last byte. Every SQL statement a page runs is captured once
and its SQLite query plan checked for full scans of the big tables (units, inspections, complaints).
Target (issue 18): p95 <= 300 ms per page.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rapidfuzz import fuzz, process
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, event, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.digest_bench import NOW, fill, prepare
from bot.web.app import Console as WebConsole
from bot.web.app import build_app
from bot.web.auth import COOKIE, Cookies
from handlers.assembly import build_core
from handlers.context import CoreConfig
from storage import units, web
from storage.clock import ManualClock
from storage.db import Database
from storage.inspection_models import Unit
from storage.media import LocalMediaStore
from storage.models import Area, AreaLevel, Role, User

console = Console()
BIG = ("units", "inspections", "complaints")
PAGES = (
    ("总览 dashboard", "/"),
    ("单位 search (typo)", "/units?q=单位1234S"),
    ("单位 filtered list", "/units?status=rectifying&industry=small_restaurant"),
)


async def officials(db: Database, clock: ManualClock) -> dict[str, str]:
    """A county and a township official with a live web session each; their session tokens."""
    tokens = {}
    async with db.transaction() as session:
        township = await session.scalar(select(Area).where(Area.level == AreaLevel.TOWNSHIP, Area.name == "岩头镇"))
        if township is None:
            raise SystemExit("岩头镇 is missing: the bench's county was not loaded")
        for number, (key, role, area) in enumerate(
            (("county", Role.COUNTY, None), ("township", Role.TOWNSHIP, township.id)), start=900
        ):
            user = await session.scalar(select(User).where(User.channel_user_id == number))
            if user is None:  # a kept file has them from its first run
                user = User(
                    channel_user_id=number,
                    role=role,
                    area_id=area,
                    name=key,
                    created_at=clock.now(),
                    last_seen_at=clock.now(),
                )
                session.add(user)
                await session.flush()
            tokens[key], _ = await web.start_session(session, user.id, clock.now())
    return tokens


async def upgrade(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.upgrade()
    await db.dispose()


def scans(path: Path, statements: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    """Plan lines that scan a big table whole (a SCAN without an index, or of the table itself)."""
    conn = sqlite3.connect(path)
    found = []
    for statement, parameters in statements:
        try:
            plan = conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
        except sqlite3.Error:
            continue
        for row in plan:
            detail = row[-1]
            if detail.startswith("SCAN") and any(f" {table}" in f" {detail.split()[1]}" for table in BIG):
                found.append(f"{detail}  ←  {' '.join(statement.split())[:110]}")
    conn.close()
    return found


async def measure(path: Path, rounds: int) -> list[tuple[str, str, float, float, list[str]]]:
    clock = ManualClock(NOW)
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.optimize()
    core = build_core(db, clock, CoreConfig())
    cookies = Cookies("bench-secret", secure=False)
    app = build_app(
        WebConsole(
            db=db,
            clock=clock,
            texts=core.texts,
            menus=core.parts.menus,
            knowledge=core.parts.knowledge,
            media=LocalMediaStore(path.parent / "media"),
            cookies=cookies,
            files_dir=path.parent / "files",
            charts_dir=path.parent / "charts",
            upload_max=10 << 20,
        )
    )
    tokens = await officials(db, clock)
    captured: list[tuple[str, tuple[Any, ...]]] = []
    capturing = [False]

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def keep(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if capturing[0] and not executemany:
            captured.append((statement, tuple(parameters or ())))

    results = []
    transport = httpx.ASGITransport(app=app)
    for who, token in tokens.items():
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", cookies={COOKIE: cookies.sign(token)}
        ) as client:
            for name, path_query in PAGES:
                captured.clear()
                capturing[0] = True
                first = await client.get(path_query)
                capturing[0] = False
                assert first.status_code == 200, (who, name, first.status_code, first.text[:300])
                times = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    answer = await client.get(path_query)
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 200
                times.sort()
                p95 = times[max(0, int(len(times) * 0.95) - 1)]
                results.append((who, name, statistics.median(times), p95, scans(path, captured)))
    results += await naive_search(db, clock, rounds)
    await db.dispose()
    return results


async def naive_search(db: Database, clock: ManualClock, rounds: int) -> list[tuple[str, str, float, float, list[str]]]:
    """The baseline in the same run: the search as it was before its SQL prefilter (rapidfuzz's WRatio over every
    name of the scope), timed in-process on the same data and query (no HTTP, no page: only the search)."""
    query = units.name_key(dict(PAGES)["单位 search (typo)"].split("q=", 1)[1])
    found = []
    async with db.transaction() as session:
        township = await session.scalar(select(Area).where(Area.level == AreaLevel.TOWNSHIP, Area.name == "岩头镇"))
        for who, area in (("county", None), ("township", township)):
            times = []
            for _ in range(rounds + 1):
                started = time.perf_counter()
                stmt = select(Unit.id, Unit.name_key)
                if area is not None:
                    stmt = stmt.where(Unit.township_id == area.id)
                keys = dict((await session.execute(stmt)).all())
                process.extract(query, keys, scorer=fuzz.WRatio, limit=50, score_cutoff=units.MATCH_CUTOFF)
                times.append((time.perf_counter() - started) * 1000)
            times = sorted(times[1:])
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            found.append((who, "search only, before: WRatio over every name", statistics.median(times), p95, []))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Web console pages benchmark (SQLite).")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--inspections", type=int, default=1_000_000)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="generate the data into this file once and reuse it after")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "bench.db"
        if not path.exists():
            villages = asyncio.run(prepare(path))
            fill(path, villages, args.units, args.inspections, args.complaints)
        else:
            asyncio.run(upgrade(path))  # a kept file from an older schema gets the new indexes
        results = asyncio.run(measure(path, args.rounds))
    table = Table("official", "page", "p50 ms", "p95 ms (target <= 300)", "full scans")
    for who, name, p50, p95, found in results:
        table.add_row(who, name, f"{p50:.0f}", f"{p95:.0f}", str(len(found)))
    console.print(
        f"{args.units:,} units, {args.inspections:,} inspections, {args.complaints:,} complaints; "
        f"{args.rounds} requests per page after one warm-up"
    )
    console.print(table, width=200)
    for who, name, _p50, _p95, found in results:
        for line in found:
            console.print(f"[{who} {name}] {line}", width=200, soft_wrap=True)


if __name__ == "__main__":
    main()
