"""Digest computation at county scale: 100k units, 1M inspections, 100k complaints, on SQLite.

Run: python bench/digest_bench.py [--units 100000] [--inspections 1000000] [--complaints 100000]

The database is filled with the project's own migrations and then bulk-loaded with sqlite3. Two contestants
run on the same data in the same run:
  - compute_digest (grouped SQL: the code the bot uses for /report and the weekly digest);
  - a naive baseline that loads every unit through the ORM and every inspection date, counting in Python.
Targets (issue 6): compute_digest <= 2 s and <= 300 MB peak memory on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from handlers.area_files import SAMPLE_COUNTY, parse_area_file
from storage.areas import find_area, load_county
from storage.db import Database
from storage.digest import compute_digest
from storage.inspection_models import Inspection, Unit
from storage.models import Area, AreaLevel

console = Console()
INDUSTRIES = [
    "small_grocery",
    "small_food_workshop",
    "small_restaurant",
    "small_beauty_salon",
    "small_bathhouse",
    "small_hotel",
    "small_karaoke_dance_hall",
    "small_internet_cafe",
    "small_clinic",
    "small_pharmacy",
]
STATUSES = ["unchecked", "compliant", "compliant", "compliant", "rectifying", "closed"]
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """The text SQLAlchemy stores for a UTC datetime in SQLite (comparisons are textual there)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill(path: Path, villages: list[tuple[int, int]], units: int, inspections: int, complaints: int) -> None:
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    stamp = iso(NOW)
    with Progress(console=console) as bar:
        task = bar.add_task("生成单位", total=units)
        rows = []
        for index in range(units):
            village, township = rng.choice(villages)
            status = rng.choice(STATUSES)
            due = (NOW.date() + timedelta(days=rng.randint(-30, 60))).isoformat() if status == "rectifying" else None
            rows.append(
                (f"单位{index}", f"单位{index}", rng.choice(INDUSTRIES), village, township, status, due, stamp, stamp)
            )
            if len(rows) == 10_000:
                conn.executemany(
                    "INSERT INTO units (name, name_key, industry, village_id, township_id, status,"
                    " rectify_by, is_demo, created_at, updated_at) VALUES (?,?,?,?,?,?,?,0,?,?)",
                    rows,
                )
                bar.advance(task, len(rows))
                rows = []
        conn.execute(
            "INSERT INTO users (channel_user_id, role, created_at, last_seen_at) VALUES (1,'cadre',?,?)", (stamp, stamp)
        )
        task = bar.add_task("生成检查报告", total=inspections)
        rows = []
        for index in range(inspections):
            unit = rng.randint(1, units)
            when = iso(NOW - timedelta(minutes=rng.randint(0, 365 * 24 * 60)))
            rows.append(
                (unit, rng.choice(villages)[1], 1, f"k{index}", "small_restaurant", 1, 1, "rectify", "{}", "{}", when)
            )
            if len(rows) == 20_000:
                conn.executemany(
                    "INSERT INTO inspections (unit_id, township_id, inspector_id, submit_key, industry,"
                    " proposed_compliant, compliant, unit_class, answers, notes, submitted_at, version,"
                    " status) VALUES (?,?,?,?,?,?,?,?,?,?,?,1,'approved')",
                    rows,
                )
                bar.advance(task, len(rows))
                rows = []
        task = bar.add_task("生成投诉", total=complaints)
        rows = []
        for index in range(complaints):
            village, township = rng.choice(villages)
            created = NOW - timedelta(days=rng.randint(0, 300))
            final = iso(created + timedelta(days=5)) if rng.random() < 0.7 else None
            rows.append(
                (
                    f"TS-2026-{index:06d}",
                    2026,
                    index,
                    f"c{index}",
                    "hygiene",
                    "submitted",
                    1,
                    1,
                    township,
                    village,
                    township,
                    "描述",
                    (created.date() + timedelta(days=10)).isoformat(),
                    final,
                    iso(created),
                    iso(created),
                )
            )
            if len(rows) == 20_000:
                conn.executemany(
                    "INSERT INTO complaints (number, year, seq, submit_key, category, status,"
                    " complainant_id, anonymous, township_id, village_id, office_area_id, description,"
                    " due_on, final_at, created_at, updated_at, reopen_count)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
                    rows,
                )
                bar.advance(task, len(rows))
                rows = []
    conn.commit()
    conn.close()


async def prepare(path: Path) -> list[tuple[int, int]]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.upgrade()
    async with db.transaction() as session:
        await load_county(session, parse_area_file(SAMPLE_COUNTY), NOW)
        villages = [
            (a.id, a.parent_id) for a in (await session.scalars(select(Area))).unique() if a.level == AreaLevel.VILLAGE
        ]
    await db.dispose()
    return villages


async def contestants(path: Path) -> tuple[float, float, float, int]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.optimize()  # what the bot does at start-up
    async with db.transaction() as session:
        county = await find_area(session, "永嘉县", AreaLevel.COUNTY)
        started = time.perf_counter()
        digest = await compute_digest(session, county, NOW)
        ours = time.perf_counter() - started
    ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    async with db.transaction() as session:
        started = time.perf_counter()
        units = list(await session.scalars(select(Unit)))
        compliant = sum(1 for unit in units if unit.status == "compliant")
        since = NOW - timedelta(days=7)
        week = sum(1 for when in await session.scalars(select(Inspection.submitted_at)) if since <= when < NOW)
        naive = time.perf_counter() - started
    assert compliant == digest.status_counts.get("compliant", 0), "the two contestants disagree"
    assert week == digest.inspections_this_week, "the two contestants disagree"
    await db.dispose()
    return ours, ours_rss, naive, week


def main() -> None:
    parser = argparse.ArgumentParser(description="Digest computation benchmark (SQLite).")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--inspections", type=int, default=1_000_000)
    parser.add_argument("--complaints", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        villages = asyncio.run(prepare(path))
        fill(path, villages, args.units, args.inspections, args.complaints)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ours, ours_rss, naive, week = asyncio.run(contestants(path))
    table = Table("figure", "value")
    table.add_row("data", f"{args.units:,} units, {args.inspections:,} inspections, {args.complaints:,} complaints")
    table.add_row("compute_digest (county)", f"{ours:.3f} s (target <= 2 s)")
    table.add_row("naive ORM baseline", f"{naive:.3f} s")
    table.add_row("speed-up vs baseline", f"{naive / ours:.1f}x")
    table.add_row("peak RSS before the contestants (data generation)", f"{rss_before:.0f} MB")
    table.add_row("peak RSS after compute_digest", f"{ours_rss:.0f} MB (target <= 300 MB)")
    table.add_row(
        "peak RSS after the naive baseline", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    table.add_row("inspections in the last 7 days", f"{week:,}")
    console.print(table)


if __name__ == "__main__":
    main()
