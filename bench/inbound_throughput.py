"""Inbound throughput end to end: emulator → aiogram → flows → database, against a bare aiogram echo bot.

Run: python bench/inbound_throughput.py [--users 150] [--rounds 2] [--postgres URL]

Every contestant gets a fresh local Bot API emulator (tests/emulator, an aiohttp server in this process) with the
same updates queued before it starts: `users` residents × 16 updates each (bench/inbound_workload.py: /start, a
free-text question, the ask flow, 我的信息, /help, a nine-step complaint filing, /menu), interleaved user by user.
Timing starts when the bot is ready (start-up and migrations are not timed) and ends when every update is handled:

- shixiao (bot/aiogram_runtime.py, the production runtime; long polling hands each getUpdates batch to the core as
  one transaction, bot/polling.py): handled = the update's transaction committed (update id recorded,
  state written, replies in the outbox) and the update confirmed to the emulator (getUpdates offset past it; the
  runtime confirms only after the commit). Replies are delivered later by the outbox sender, which
  runs meanwhile at Telegram's limits (30 messages/s, 1/s per chat) as in production, so delivery is not part of
  the figure. The "sends unthrottled" rows lift those limits: the sender then delivers as fast as it can, in the
  same process, and "replies out" is when the last reply was delivered — the figure to compare with the echo
  bot, which sends its replies itself.
- echo: a bare aiogram Dispatcher whose handlers answer every message with send_message (and every button press
  with answer + send_message, as shixiao answers presses); handled = its reply sent. "echo" uses aiogram's
  defaults (updates as concurrent tasks), "echo (sequential)" handle_as_tasks=False (one update at a time).
- core alone: the same updates handed straight to Core.handle_batch, 100 at a time as getUpdates returns them (no
  HTTP, no sender): the ceiling of any runtime.

Each contestant runs in a fresh process of its own (so no run inherits another's heap or caches), shixiao as
`shixiao run` runs it. "cost ×" is the contestant's time divided by the
fastest echo bot's on the same updates in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inbound_workload import UPDATES_PER_USER

UNTHROTTLED = {"send_global_per_second": 100_000.0, "send_per_chat_interval": 0.0}
TELEGRAM = {"send_global_per_second": 30.0, "send_per_chat_interval": 1.0}
GET_UPDATES_LIMIT = 100  # updates per getUpdates answer (the Bot API default and maximum)
console = Console()
Progressed = Callable[[int], None]  # updates handled so far


@dataclass
class Result:
    name: str
    updates: int
    handled_seconds: float
    replies_seconds: float | None = None
    duplicates: int | None = None  # messages the emulator got more often than the outbox says they were sent


@dataclass(frozen=True)
class Contestant:
    name: str
    kind: str  # echo, shixiao, core
    database: str = "sqlite"  # sqlite or postgresql
    sequential: bool = False
    runtime: str = "aiogram"
    unthrottled: bool = False


async def poll_progress(done: Callable[[], int], total: int, progressed: Progressed) -> None:
    while True:
        progressed(min(done(), total))
        if done() >= total:
            return
        await asyncio.sleep(0.1)


async def run_echo(emulator: Any, total: int, sequential: bool, progressed: Progressed) -> float:
    from aiogram import Bot, Dispatcher
    from aiogram.types import CallbackQuery, Message

    from tests.telegram_harness import TOKEN

    bot = Bot(TOKEN, session=emulator.aiogram_session())
    dispatcher = Dispatcher()
    ready = asyncio.Event()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.bot.send_message(message.chat.id, message.text or "…")

    @dispatcher.callback_query()
    async def pressed(callback: CallbackQuery) -> None:
        await callback.answer()
        await callback.bot.send_message(callback.from_user.id, callback.data or "…")

    async def on_startup() -> None:
        ready.set()

    dispatcher.startup.register(on_startup)
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot, handle_as_tasks=not sequential, polling_timeout=1, handle_signals=False, close_bot_session=False
        )
    )
    await ready.wait()
    started = time.perf_counter()
    await poll_progress(lambda: len(emulator.sent), total, progressed)
    elapsed = time.perf_counter() - started
    await dispatcher.stop_polling()
    await polling
    await bot.session.close()
    return elapsed


async def count_rows(db: Any, model: type, *conditions: object) -> int:
    from sqlalchemy import func, select

    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


async def check_handled(db: Any, workload: Any) -> None:
    """Every update recorded, every complaint filed, no apology for an internal error: the work was really done."""
    from sqlalchemy import select

    from storage.complaint_models import Complaint
    from storage.models import OutboxMessage, ProcessedUpdate

    handled, filed = await count_rows(db, ProcessedUpdate), await count_rows(db, Complaint)
    async with db.transaction() as session:
        replies = list(await session.scalars(select(OutboxMessage.payload)))
    errors = sum("系统处理时出现问题" in (payload.get("text") or "") for payload in replies)
    if handled != workload.updates or filed != workload.complaints or errors:
        raise SystemExit(
            f"bench workload not handled as expected: {handled}/{workload.updates} updates, "
            f"{filed}/{workload.complaints} complaints, {errors} internal errors"
        )


async def run_shixiao(
    emulator: Any, workload: Any, contestant: Contestant, database_url: str, progressed: Progressed
) -> Result:
    from storage.models import OutboxMessage
    from tests.telegram_harness import RunningBot, bot_settings

    limits = UNTHROTTLED if contestant.unthrottled else TELEGRAM
    settings = bot_settings(emulator, database_url, **limits)
    running = await RunningBot(settings, contestant.runtime).start()
    assert running.app is not None
    db = running.app.db
    started = time.perf_counter()
    replies = duplicates = None
    try:
        # Confirmed to the emulator = committed: the runtime asks for the next updates only after the commit.
        await poll_progress(lambda: workload.updates - emulator.queue.pending_count(), workload.updates, progressed)
        handled = time.perf_counter() - started
        if contestant.unthrottled:
            while True:  # until the sender delivered every reply
                if not await count_rows(db, OutboxMessage, OutboxMessage.status == "pending"):
                    break
                await asyncio.sleep(0.05)
            replies = time.perf_counter() - started
            duplicates = len(emulator.sent) - await count_rows(db, OutboxMessage, OutboxMessage.status == "sent")
        await check_handled(db, workload)
    finally:
        await running.stop()
    return Result(contestant.name, workload.updates, handled, replies, duplicates)


async def run_core(emulator: Any, workload: Any, database_url: str, progressed: Progressed) -> float:
    """The conversation core alone on the same updates (no Telegram, no sender), in batches of 100 as getUpdates
    returns them: the runtimes' ceiling."""
    import aiogram.types

    from bot.aiogram_inbound import update_inbound
    from bot.app import open_app
    from tests.telegram_harness import bot_settings

    app = await open_app(bot_settings(emulator, database_url))
    updates = [aiogram.types.Update.model_validate(emulator.queue.log[key]) for key in sorted(emulator.queue.log)]
    inbounds = [inbound for update in updates if (inbound := update_inbound(update)) is not None]
    started = time.perf_counter()
    try:
        for start in range(0, len(inbounds), GET_UPDATES_LIMIT):
            await app.core.handle_batch(inbounds[start : start + GET_UPDATES_LIMIT])
            progressed(min(start + GET_UPDATES_LIMIT, len(inbounds)))
        elapsed = time.perf_counter() - started
        await check_handled(app.db, workload)
        return elapsed
    finally:
        await app.close()


@asynccontextmanager
async def fresh_database(kind: str, workdir: Path, postgres: str | None, label: str) -> AsyncIterator[str]:
    """A new, empty database for one contestant's run: a SQLite file, or a PostgreSQL database of its own."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / f'{label}.db'}"
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    assert postgres is not None
    base = make_url(postgres)
    own = base.set(database=f"bench_inbound_{os.getpid()}_{label}")
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}"'))
            await conn.execute(text(f'CREATE DATABASE "{own.database}"'))
        yield own.render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        await admin.dispose()


async def contest(
    contestant: Contestant, users: int, workdir: Path, postgres: str | None, progressed: Progressed
) -> Result:
    from bench.inbound_workload import queue_workload
    from tests.emulator import TelegramEmulator

    async with TelegramEmulator() as emulator:
        workload = await queue_workload(emulator, users)
        if contestant.kind == "echo":
            seconds = await run_echo(emulator, workload.updates, contestant.sequential, progressed)
            return Result(contestant.name, workload.updates, seconds)
        async with fresh_database(contestant.database, workdir, postgres, "run") as url:
            if contestant.kind == "core":
                seconds = await run_core(emulator, workload, url, progressed)
                return Result(contestant.name, workload.updates, seconds)
            return await run_shixiao(emulator, workload, contestant, url, progressed)


def child(contestant: Contestant, users: int, workdir: str, postgres: str | None, queue: Any) -> None:
    """One contestant's run, in a process of its own; reports progress and the result through `queue`."""
    logging.basicConfig(level=logging.WARNING)
    try:
        result = asyncio.run(
            contest(contestant, users, Path(workdir), postgres, lambda done: queue.put(("progress", done)))
        )
        queue.put(("result", result))
    except BaseException as error:
        queue.put(("error", f"{type(error).__name__}: {error}"))
        raise


def contestants(runtimes: list[str], postgres: str | None, core: bool) -> list[Contestant]:
    chosen = [Contestant("echo", "echo"), Contestant("echo (sequential)", "echo", sequential=True)]
    databases = ["sqlite", *(["postgresql"] if postgres else [])]
    for database in databases:
        for runtime in runtimes:
            prefix = "shixiao" if runtime == "aiogram" else f"shixiao/{runtime}"
            chosen.append(Contestant(f"{prefix} · {database}", "shixiao", database, runtime=runtime))
            chosen.append(
                Contestant(
                    f"{prefix} · {database}, sends unthrottled", "shixiao", database, runtime=runtime, unthrottled=True
                )
            )
    if core:
        chosen.extend(Contestant(f"core alone · {database}", "core", database) for database in databases)
    return chosen


def bench(users: int, runtimes: list[str], rounds: int, postgres: str | None, core: bool) -> list[Result]:
    """Best of `rounds` per contestant, the contestants taking turns, so a burst of load elsewhere on the
    machine spoils one round of one of them rather than one of them entirely."""
    chosen = contestants(runtimes, postgres, core)
    best: dict[str, Result] = {}
    spawn = multiprocessing.get_context("spawn")
    columns = (TextColumn("{task.description:<44}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with tempfile.TemporaryDirectory() as tmp, Progress(*columns, console=console) as progress:
        for round_no in range(1, rounds + 1):
            for number, contestant in enumerate(chosen):
                workdir = Path(tmp) / f"r{round_no}c{number}"
                workdir.mkdir()
                task = progress.add_task(f"{contestant.name} #{round_no}", total=users * UPDATES_PER_USER, start=False)
                queue = spawn.Queue()
                process = spawn.Process(target=child, args=(contestant, users, str(workdir), postgres, queue))
                process.start()
                result: Result | None = None
                while result is None:
                    kind, value = queue.get()
                    if kind == "progress":
                        if not progress.tasks[task].started:
                            progress.start_task(task)
                        progress.update(task, completed=value)
                    elif kind == "result":
                        result = value
                    else:
                        process.join()
                        raise SystemExit(f"{contestant.name}: {value}")
                process.join()
                progress.stop_task(task)
                if contestant.name not in best or result.handled_seconds < best[contestant.name].handled_seconds:
                    best[contestant.name] = result
    return [best[contestant.name] for contestant in chosen]


def report(results: list[Result], users: int, rounds: int) -> None:
    total = results[0].updates
    echo = min(result.handled_seconds for result in results if result.name.startswith("echo"))
    table = Table(title=f"Inbound throughput: {total} updates from {users} residents, best of {rounds}")
    for column in (
        "bot",
        "handled in",
        "updates/s",
        "cost ×",
        "replies out",
        "updates/s incl. replies",
        "cost × incl. replies",
        "sent twice",
    ):
        table.add_column(column, justify="left" if column == "bot" else "right")
    for result in results:
        with_replies = result.replies_seconds
        table.add_row(
            result.name,
            f"{result.handled_seconds:.2f} s",
            f"{total / result.handled_seconds:,.0f}",
            f"{result.handled_seconds / echo:.2f}",
            f"{with_replies:.2f} s" if with_replies is not None else "—",
            f"{total / with_replies:,.0f}" if with_replies is not None else "—",
            f"{with_replies / echo:.2f}" if with_replies is not None else "—",
            str(result.duplicates) if result.duplicates is not None else "—",
        )
    wide = Console(width=max(console.width, 150))  # one line per bot, even in a log file
    wide.print(table)
    wide.print(
        "cost × = time ÷ the fastest echo bot's time on the same updates; handled = committed and confirmed "
        "(shixiao), reply sent (echo)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument(
        "--users", type=int, default=150, help=f"residents, {UPDATES_PER_USER} updates each (default 150)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs per contestant (default 2)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SHIXIAO_TEST_POSTGRES_URL"),
        help="a PostgreSQL URL (postgresql+asyncpg://…) to run on PostgreSQL too; a database of "
        "the bench's own is created and dropped per run (default: $SHIXIAO_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--runtimes", default="aiogram", help="comma-separated: aiogram, ptb (default aiogram)")
    parser.add_argument("--no-core", action="store_true", help="leave out the core-alone ceiling")
    args = parser.parse_args()
    runtimes = [name.strip() for name in args.runtimes.split(",") if name.strip()]
    rounds = max(args.rounds, 1)
    report(bench(args.users, runtimes, rounds, args.postgres, not args.no_core), args.users, rounds)


if __name__ == "__main__":
    main()
