"""Outbox delivery under Telegram's limits: 10,000 messages to 2,000 chats through an emulator that enforces them.

Run: python bench/delivery_bench.py [--messages 10000] [--chats 2000] [--scale 5]

Telegram allows about 30 messages/s overall and 1/s per chat; the emulator enforces both limits multiplied by
--scale (so the run takes seconds, not minutes) and answers 429 with retry_after past them. The sender is given
the same scaled limits. Reported: throughput against the ceiling (the global limit, or chats × per-chat limit if
lower), messages lost, duplicates, 429s provoked; and, in the same run, a naive baseline that sends one message
after another as fast as it can and sleeps retry_after on a 429.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot.aiogram_session import NoRedirectSession
from bot.telegram_transport import AiogramTransport
from scheduler.sender import Limits, Sender
from storage import outbox
from storage.db import Database
from storage.models import OutboxStatus
from tests.emulator import TelegramEmulator

console = Console()
TOKEN = "123456789:BENCH-token"


async def fill(db: Database, messages: int, chats: int) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as session:
        for index in range(messages):
            await outbox.enqueue(session, 10_000 + index % chats, "message", {"text": f"消息{index}"}, now)


async def sender_run(messages: int, chats: int, scale: int) -> dict[str, float]:
    async with TelegramEmulator(TOKEN, enforce_limits=True, global_per_sec=30 * scale, per_chat_per_sec=scale) as emu:
        for chat in range(chats):
            emu.user(10_000 + chat, f"用户{chat}")
        with tempfile.TemporaryDirectory() as folder:
            db = Database(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
            await db.upgrade()
            await fill(db, messages, chats)
            # The session `shixiao run` uses (bot/aiogram_session.py), pointed at the emulator.
            bot = Bot(TOKEN, session=NoRedirectSession(api=emu.aiogram_server()))
            limits = Limits(global_per_second=30 * scale, per_chat_interval=1 / scale, concurrency=16)
            sender = Sender(db, AiogramTransport(bot), limits=limits)
            with Progress(console=console) as bar:
                task = bar.add_task("发送", total=messages)
                started = time.perf_counter()
                runner = asyncio.create_task(sender.drain(within=3600))
                while not runner.done():
                    await asyncio.sleep(0.5)
                    bar.update(task, completed=sender.delivered)
                elapsed = time.perf_counter() - started
                bar.update(task, completed=sender.delivered)
            async with db.transaction() as session:
                statuses = await outbox.count_by_status(session)
            await bot.session.close()
            await db.dispose()
        texts = Counter(message.text for message in emu.sent if not message.is_edit)
        return {
            "elapsed": elapsed,
            "delivered": sum(texts.values()),
            "unique": len(texts),
            "duplicates": sum(count - 1 for count in texts.values() if count > 1),
            "pending": statuses.get(OutboxStatus.PENDING, 0),
            "failed": statuses.get(OutboxStatus.FAILED, 0),
            "violations": emu.limit_violations,
        }


async def naive_run(messages: int, chats: int, scale: int) -> dict[str, float]:
    async with TelegramEmulator(TOKEN, enforce_limits=True, global_per_sec=30 * scale, per_chat_per_sec=scale) as emu:
        for chat in range(chats):
            emu.user(10_000 + chat, f"用户{chat}")
        bot = Bot(TOKEN, session=emu.aiogram_session())
        started = time.perf_counter()
        for index in range(messages):
            while True:
                try:
                    await bot.send_message(10_000 + index % chats, f"消息{index}")
                    break
                except TelegramRetryAfter as error:
                    await asyncio.sleep(error.retry_after)
        elapsed = time.perf_counter() - started
        await bot.session.close()
        return {"elapsed": elapsed, "violations": emu.limit_violations}


def main() -> None:
    parser = argparse.ArgumentParser(description="Outbox delivery benchmark against an emulator enforcing the limits.")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--scale", type=int, default=5, help="multiply Telegram's limits by this")
    parser.add_argument("--baseline-messages", type=int, default=2_000)
    args = parser.parse_args()
    ours = asyncio.run(sender_run(args.messages, args.chats, args.scale))
    naive = asyncio.run(naive_run(args.baseline_messages, args.chats, args.scale))
    ceiling = min(30 * args.scale, args.chats * args.scale)
    rate = ours["delivered"] / ours["elapsed"]
    naive_rate = args.baseline_messages / naive["elapsed"]
    table = Table("figure", "value")
    table.add_row("limits (scaled)", f"{30 * args.scale}/s overall, {args.scale}/s per chat (Telegram × {args.scale})")
    table.add_row("messages / chats", f"{args.messages:,} / {args.chats:,}")
    table.add_row("sender: time", f"{ours['elapsed']:.1f} s")
    table.add_row(
        "sender: throughput", f"{rate:.0f}/s = {rate / ceiling:.1%} of the {ceiling}/s ceiling (target >= 90%)"
    )
    table.add_row(
        "sender: delivered / lost / duplicates",
        f"{ours['delivered']:,} / {args.messages - ours['unique']:,} / {ours['duplicates']:,}",
    )
    table.add_row("sender: 429s provoked", f"{ours['violations']:,}")
    table.add_row(
        "naive baseline: throughput",
        f"{naive_rate:.0f}/s ({args.baseline_messages:,} messages), 429s provoked: {naive['violations']:,}",
    )
    table.add_row("sender vs baseline", f"{rate / naive_rate:.1f}x")
    console.print(table)


if __name__ == "__main__":
    main()
