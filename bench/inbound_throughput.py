"""Inbound throughput of the Telegram runtimes, end to end: emulator → runtime → core → SQLite.

Run: python bench/inbound_throughput.py [--users 200] [--texts 9] [--runtimes aiogram,ptb] [--rounds 2]

Every contestant gets a fresh local Bot API emulator (tests/emulator) with the same N = users × (1 + texts)
updates queued before it starts: each user sends /start (registers as a resident), then `texts` short texts,
interleaved user by user as many people would. Timing starts when the bot is ready and ends when:
- shixiao's runtimes (aiogram, ptb): every update is committed (its id recorded by the core, one transaction
  each, replies written to the outbox); "replies out" is when the outbox sender has delivered every reply too;
- the baseline, a bare aiogram echo bot (a Dispatcher whose one handler answers every message with
  send_message, aiogram's defaults: updates handled as concurrent tasks): every echo was sent. It is measured in
  the same run, so the ratio is a fair "cost of the core" on this machine. "echo (sequential)" is the same bot
  with handle_as_tasks=False, the mode shixiao uses so an update is confirmed only after it was handled.
- "core alone": the same updates handed straight to the conversation core (no HTTP, no sender), the ceiling
  any runtime can reach.
Send limits are set high (SEND_LIMITS) so Telegram's 30/s cap does not hide the inbound path; the emulator does
not enforce limits either. Everything (emulator, bot, SQLite) shares one event loop and process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiogram.types
from aiogram import Bot, Dispatcher
from aiogram.types import Message

from bot.aiogram_inbound import from_message
from bot.app import open_app
from storage.db import Database
from storage.models import OutboxMessage, ProcessedUpdate
from tests.emulator import TelegramEmulator
from tests.telegram_harness import TOKEN, RunningBot, bot_settings

SEND_LIMITS = {"send_global_per_second": 10_000.0, "send_per_chat_interval": 0.0}
FIRST_USER = 700_000
CORE = "core alone"
console = Console()


@dataclass
class Result:
    name: str
    handled_seconds: float
    replies_seconds: float | None = None
    duplicates: int | None = None  # messages Telegram got more often than the outbox says it sent them


async def queue_updates(emulator: TelegramEmulator, users: int, texts: int) -> int:
    people = [emulator.user(FIRST_USER + i, f"用户{i}") for i in range(users)]
    for person in people:
        await person.send_command("/start")
    for round_no in range(texts):
        for person in people:
            await person.send_text(f"你好，这是第{round_no + 1}条消息")
    return users * (1 + texts)


async def wait_for(count: Callable[[], Awaitable[int]], total: int, progress: Progress, task: TaskID) -> None:
    while True:
        done = await count()
        progress.update(task, completed=min(done, total))
        if done >= total:
            progress.stop_task(task)
            return
        await asyncio.sleep(0.05)


async def run_echo(emulator: TelegramEmulator, total: int, sequential: bool, progress: Progress,
                   task: TaskID) -> Result:
    bot = Bot(TOKEN, session=emulator.aiogram_session())
    dispatcher = Dispatcher()
    ready = asyncio.Event()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.bot.send_message(message.chat.id, message.text or "…")

    async def on_startup() -> None:
        ready.set()

    dispatcher.startup.register(on_startup)
    polling = asyncio.create_task(dispatcher.start_polling(
        bot, handle_as_tasks=not sequential, polling_timeout=1, handle_signals=False, close_bot_session=False))
    await ready.wait()
    progress.start_task(task)
    started = time.perf_counter()

    async def sent() -> int:
        return len(emulator.sent)

    await wait_for(sent, total, progress, task)
    elapsed = time.perf_counter() - started
    await dispatcher.stop_polling()
    await polling
    await bot.session.close()
    return Result("echo (sequential)" if sequential else "echo", elapsed)


async def count_rows(db: Database, model: type, *conditions: object) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


async def run_shixiao(emulator: TelegramEmulator, runtime: str, total: int, workdir: Path, progress: Progress,
                      task: TaskID) -> Result:
    settings = bot_settings(emulator, f"sqlite+aiosqlite:///{workdir / f'{runtime}.db'}", **SEND_LIMITS)
    running = await RunningBot(settings, runtime).start()
    assert running.app is not None
    db = running.app.db
    progress.start_task(task)
    started = time.perf_counter()
    try:
        await wait_for(lambda: count_rows(db, ProcessedUpdate), total, progress, task)
        handled = time.perf_counter() - started
        while True:  # then until the sender delivered every reply
            if not await count_rows(db, OutboxMessage, OutboxMessage.status == "pending"):
                break
            await asyncio.sleep(0.05)
        replies = time.perf_counter() - started
        duplicates = len(emulator.sent) - await count_rows(db, OutboxMessage, OutboxMessage.status == "sent")
    finally:
        await running.stop()
    return Result(runtime, handled, replies, duplicates)


async def run_core(emulator: TelegramEmulator, total: int, workdir: Path, progress: Progress,
                   task: TaskID) -> Result:
    """The conversation core alone on the same updates (no Telegram, no sender): the runtimes' ceiling."""
    settings = bot_settings(emulator, f"sqlite+aiosqlite:///{workdir / 'core.db'}", **SEND_LIMITS)
    app = await open_app(settings)
    raw = [emulator.queue.log[update_id] for update_id in sorted(emulator.queue.log)]
    inbounds = [from_message(aiogram.types.Update.model_validate(u).message, u["update_id"]) for u in raw]
    progress.start_task(task)
    started = time.perf_counter()
    try:
        for done, inbound in enumerate(inbounds, start=1):
            await app.core.handle(inbound)
            if done % 50 == 0 or done == total:
                progress.update(task, completed=done)
        progress.stop_task(task)
        return Result(CORE, time.perf_counter() - started)
    finally:
        await app.close()


async def bench(users: int, texts: int, runtimes: list[str], rounds: int) -> list[Result]:
    """Best of `rounds` per contestant, the contestants taking turns, so a burst of load elsewhere on the
    machine spoils one round of one of them rather than one of them entirely."""
    contestants = ["echo", "echo (sequential)", *runtimes, CORE]
    best: dict[str, Result] = {}
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with tempfile.TemporaryDirectory() as tmp, Progress(*columns, console=console) as progress:
        for round_no in range(1, rounds + 1):
            for name in contestants:
                # Each bar's clock starts when its bot is ready (start-up and migrations are not timed).
                task = progress.add_task(f"{name} #{round_no}", total=users * (1 + texts), start=False)
                async with TelegramEmulator() as emulator:
                    total = await queue_updates(emulator, users, texts)
                    workdir = Path(tmp) / f"round{round_no}"
                    workdir.mkdir(exist_ok=True)
                    if name.startswith("echo"):
                        result = await run_echo(emulator, total, name != "echo", progress, task)
                    elif name == CORE:
                        result = await run_core(emulator, total, workdir, progress, task)
                    else:
                        result = await run_shixiao(emulator, name, total, workdir, progress, task)
                if name not in best or result.handled_seconds < best[name].handled_seconds:
                    best[name] = result
    return [best[name] for name in contestants]


def report(results: list[Result], total: int, users: int, texts: int, rounds: int) -> None:
    baseline = total / results[0].handled_seconds
    table = Table(title=f"Inbound throughput: {total} updates from {users} users (/start + {texts} texts each), "
                        f"best of {rounds}")
    for column in ("bot", "handled in", "updates/s", "vs echo", "replies out", "sent twice"):
        table.add_column(column, justify="left" if column == "bot" else "right")
    for result in results:
        rate = total / result.handled_seconds
        replies = f"{result.replies_seconds:.2f} s" if result.replies_seconds is not None else "—"
        twice = str(result.duplicates) if result.duplicates is not None else "—"
        table.add_row(result.name, f"{result.handled_seconds:.2f} s", f"{rate:,.0f}", f"{rate / baseline:.2f}×",
                      replies, twice)
    wide = Console(width=max(console.width, 100))  # keep the table on one line per bot even in a log file
    wide.print(table)
    wide.print(f"send limits: {SEND_LIMITS}; SQLite (WAL) in a temporary folder; emulator in-process.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--texts", type=int, default=9, help="texts per user after /start")
    parser.add_argument("--runtimes", default="aiogram,ptb", help="comma-separated: aiogram, ptb")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs per contestant")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runtimes = [name.strip() for name in args.runtimes.split(",") if name.strip()]
    results = asyncio.run(bench(args.users, args.texts, runtimes, max(args.rounds, 1)))
    report(results, args.users * (1 + args.texts), args.users, args.texts, max(args.rounds, 1))


if __name__ == "__main__":
    main()
