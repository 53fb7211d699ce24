"""Per-step latency as people feel it: from a tap or a message to the bot's next prompt, on the local Bot API
emulator with Telegram's limits on, beside a bare aiogram bot's reply latency measured in the same run.

Run: python bench/latency.py [--rounds 1] [--think 1.0-2.0] [--typing 3-6] [--postgres URL]

The emulator (tests/emulator) enforces Telegram's flood control: 30 messages/s overall and, per chat, a burst of
three messages at once then one a second (tests/emulator/faults.py, RateLimiter); every 429 it answers is counted.

- shixiao: `bot/aiogram_runtime.py` with the production send limits (30 messages/s, one a second per chat, the
  default per-chat burst), on SQLite (and PostgreSQL with --postgres). A scripted cadre completes an inspection of
  a small restaurant (its checklist, 23 items today, every item 符合, the gas question 否, no photo, location skipped, the
  suggested result and class, 提交), and at the same time a resident files an anonymous complaint (category,
  township and village by button, the shop and the description typed, 完成, 匿名提交, 确认提交), both through the
  real aiogram client. Each acts like a person: after a prompt arrives, a tap follows after a think time drawn
  from --think (reading the item), a typed message after one drawn from --typing.
- echo: a bare aiogram Dispatcher that answers each message with send_message and each press with answer() and
  send_message (with one button to press next; on a 429 it waits retry_after and sends again), driven by a user
  with the same mix of taps and messages and the same think times.

Latency = when the emulator recorded the next prompt (for shixiao: the message the person waits for, not the ✅
mark edited onto the pressed one) minus when the tap or the message was injected. Reported per kind as p50, p95 and
the maximum, with the 429s the emulator answered.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TAP, MESSAGE = "tap", "message"
TELEGRAM = {"send_global_per_second": 30.0, "send_per_chat_interval": 1.0}
UNIT, VILLAGE, TOWNSHIP = "老王小吃店", "芙蓉村", "岩头镇"


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=lambda: {TAP: [], MESSAGE: []})
    violations: int = 0  # 429s the emulator answered

    def add(self, kind: str, seconds: float) -> None:
        self.samples[kind].append(seconds)


@dataclass(frozen=True)
class Pace:
    think: tuple[float, float]
    typing: tuple[float, float]
    rng: random.Random

    async def before(self, kind: str) -> None:
        low, high = self.think if kind == TAP else self.typing
        await asyncio.sleep(self.rng.uniform(low, high))


async def timed(
    timings: Timings, pace: Pace, kind: str, act: Callable[[], Awaitable[Any]], arrived: Callable[[], Awaitable[Any]]
) -> Any:
    """Think, act (a tap or a message), wait for the next prompt; records the time between the two."""
    await pace.before(kind)
    started = time.time()
    await act()
    prompt = await arrived()
    timings.add(kind, prompt.timestamp - started)
    return prompt


async def cadre_inspects(user: Any, timings: Timings, pace: Pace) -> None:
    async def tap(label: str, expect: str) -> Any:
        return await timed(timings, pace, TAP, lambda: user.press(label), lambda: user.expect(expect, timeout=30))

    await tap("检查上报", "请选择要检查的单位")
    prompt = await tap(UNIT, "检查第1/")
    while "检查第" in prompt.content:
        offered = [label for label, _ in prompt.buttons]
        label = "✓ 符合" if "✓ 符合" in offered else "否"  # 否: a screening item (the gas question)
        prompt = await tap(label, lambda m: not m.is_edit)
    assert "请拍摄现场照片" in prompt.content, prompt.content
    await tap("完成（已传0张）", "发送检查地点的位置")
    await timed(timings, pace, TAP, lambda: user.tap("跳过"), lambda: user.expect("建议判定为", timeout=30))
    prompt = await tap("同意此判定", "整治分类")
    suggested = next(label for label, _ in prompt.buttons if "（建议）" in label)
    await tap(suggested, "【检查报告摘要】")
    await tap("✅ 提交", "已提交")


async def resident_complains(user: Any, timings: Timings, pace: Pace) -> None:
    async def tap(label: str, expect: str) -> Any:
        return await timed(timings, pace, TAP, lambda: user.press(label), lambda: user.expect(expect, timeout=30))

    async def say(text: str, expect: str) -> Any:
        return await timed(
            timings, pace, MESSAGE, lambda: user.send_text(text), lambda: user.expect(expect, timeout=30)
        )

    await say("/start", "请选择要办理的事项")
    await tap("投诉举报", "请选择问题类别")
    await tap("无证经营", "问题发生在哪个乡镇")
    await tap(TOWNSHIP, "请选择所在的村")
    await tap(VILLAGE, "被投诉的是哪家店")
    await say("村口无名小卖部", "请描述问题")
    await say("没有营业执照，晚上一直营业到很晚，门口堆满杂物", "如有现场照片")
    await tap("完成", "请选择提交方式")
    await tap("匿名提交", "确认提交吗")
    await tap("确认提交", "投诉已提交")


async def run_shixiao(database_url: str, pace: Pace) -> Timings:
    from storage.clock import SystemClock
    from storage.models import Role
    from tests.emulator import TelegramEmulator
    from tests.inspection_support import add_unit
    from tests.telegram_harness import RunningBot, bot_settings, join

    timings = Timings()
    async with TelegramEmulator(enforce_limits=True) as emulator:
        running = await RunningBot(bot_settings(emulator, database_url, **TELEGRAM), "aiogram").start()
        try:
            assert running.app is not None
            await add_unit(running.app.db, SystemClock(), VILLAGE, UNIT)
            cadre = await join(emulator, running, 5001, Role.CADRE, VILLAGE, "李建国")
            resident = emulator.user(5002, "王")
            await asyncio.sleep(2.5)  # joining sent messages: start with every chat's allowance full again
            await asyncio.gather(cadre_inspects(cadre, timings, pace), resident_complains(resident, timings, pace))
            timings.violations = emulator.limit_violations
        finally:
            await running.stop()
    return timings


async def run_echo(pace: Pace, taps: int, messages: int) -> Timings:
    from aiogram import Bot, Dispatcher
    from aiogram.exceptions import TelegramRetryAfter
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    from tests.emulator import TelegramEmulator
    from tests.telegram_harness import TOKEN

    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="下一步", callback_data="next")]])
    timings = Timings()
    async with TelegramEmulator(enforce_limits=True) as emulator:
        bot = Bot(TOKEN, session=emulator.aiogram_session())
        dispatcher = Dispatcher()
        ready = asyncio.Event()

        async def send(chat_id: int, text: str) -> None:
            """send_message; on a 429, wait as told and send again (aiogram has no limiter of its own)."""
            while True:
                try:
                    await bot.send_message(chat_id, text, reply_markup=keyboard)
                    return
                except TelegramRetryAfter as error:
                    await asyncio.sleep(error.retry_after)

        @dispatcher.message()
        async def echo(message: Message) -> None:
            await send(message.chat.id, message.text or "…")

        @dispatcher.callback_query()
        async def pressed(callback: CallbackQuery) -> None:
            await callback.answer()
            await send(callback.from_user.id, "已选择")

        dispatcher.startup.register(ready.set)
        polling = asyncio.create_task(
            dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
        )
        await ready.wait()
        user = emulator.user(5003, "王")
        kinds = [TAP] * taps + [MESSAGE] * messages
        pace.rng.shuffle(kinds)
        try:
            await user.send_text("开始")
            await user.expect("开始")
            await asyncio.sleep(2.5)
            for kind in kinds:
                act = (lambda: user.press("下一步")) if kind == TAP else (lambda: user.send_text("一条消息"))
                await timed(timings, pace, kind, act, lambda: user.expect(lambda m: not m.is_edit, timeout=30))
            timings.violations = emulator.limit_violations
        finally:
            await dispatcher.stop_polling()
            await polling
            await bot.session.close()
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def span(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    return float(low), float(high or low)


def report(rows: list[tuple[str, Timings]], pace_note: str) -> None:
    print(f"Latency from a tap or a message to the next prompt ({pace_note}); Telegram's limits enforced\n")
    print(f"{'bot':<28} {'kind':<8} {'n':>4} {'p50':>8} {'p95':>8} {'max':>8} {'429s':>5}")
    for name, timings in rows:
        for kind, values in timings.samples.items():
            if not values:
                continue
            print(
                f"{name:<28} {kind:<8} {len(values):>4} {statistics.median(values) * 1000:>6.0f}ms "
                f"{percentile(values, 0.95) * 1000:>6.0f}ms {max(values) * 1000:>6.0f}ms {timings.violations:>5}"
            )


async def bench(args: argparse.Namespace) -> None:
    from bench.inbound_throughput import fresh_database

    rows: list[tuple[str, Timings]] = []
    databases = ["sqlite", *(["postgresql"] if args.postgres else [])]
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(1, args.rounds + 1):
            pace = Pace(span(args.think), span(args.typing), random.Random(args.seed + round_no))
            shixiao: list[Timings] = []
            for database in databases:
                async with fresh_database(database, Path(tmp), args.postgres, f"latency{round_no}") as url:
                    timings = await run_shixiao(url, pace)
                rows.append((f"shixiao · {database} #{round_no}", timings))
                shixiao.append(timings)
            taps, messages = (len(shixiao[0].samples[kind]) for kind in (TAP, MESSAGE))
            rows.append((f"echo (bare aiogram) #{round_no}", await run_echo(pace, taps, messages)))
    report(rows, f"think {args.think} s before a tap, {args.typing} s before a message")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument("--rounds", type=int, default=1, help="runs of each bot (default 1)")
    parser.add_argument("--think", default="1.0-2.0", help="seconds before a tap, LOW-HIGH (default 1.0-2.0)")
    parser.add_argument("--typing", default="3.0-6.0", help="seconds before a message, LOW-HIGH (default 3.0-6.0)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the think times (default 1)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SHIXIAO_TEST_POSTGRES_URL"),
        help="a PostgreSQL URL to run shixiao on PostgreSQL too (default: $SHIXIAO_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(bench(args))


if __name__ == "__main__":
    main()
