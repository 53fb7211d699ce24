"""Start-up time and idle memory of `python -m bot run`, against a bare aiogram bot measured in the same run.

Run: python bench/footprint.py [--runs 5] [--idle 3]

Every contestant is a fresh process talking HTTP to a local Bot API emulator (tests/emulator) started by this
script. "Ready" is the moment the emulator receives the process's first getUpdates (the bot is polling); the
start-up time runs from launching the process to that call. Beside it the CPU time (user + system,
/proc/PID/stat) the process had used when it became ready: on a machine shared with other work, wall time
measures the neighbours too, CPU time much less. Memory is the process's VmRSS (/proc/PID/status) after it was
ready, had answered one message (/start, sent once it was ready: "first reply" is launch to that answer) and
then sat idle for --idle seconds. Contestants, interleaved run by run so that load from
other work on the machine spreads over all of them:

- `import aiogram`: `python -c "import aiogram"`, process launch to the end of the import (no memory figure);
- bare aiogram bot: a Dispatcher with one echo handler and aiogram's start_polling, nothing else;
- shixiao, fresh DB: `python -m bot run` on a new SQLite file (migrations, sample county, plan milestones);
- shixiao, existing DB: `python -m bot run` on a database already at the migration head.

The project's modules are byte-compiled first, as `scripts/start` does (pip does the same for installed packages):
under PYTHONDONTWRITEBYTECODE every launch would otherwise compile them from source.

Targets (re-set on 2026-12-07 for stock public APIs, bench/README.md): start-up <= 3 s, idle RSS <= 250 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import itertools
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.emulator import TelegramEmulator  # noqa: E402

console = Console(width=max(Console().width, 190))
TOKEN = "123456789:BENCH-footprint"
READY_TIMEOUT = 60.0
LAUNCHES = itertools.count(1)
TARGET_START = 3.0
TARGET_RSS_MB = 250.0

IMPORT_ONLY = """
import time, resource
import aiogram
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.time(), usage.ru_utime + usage.ru_stime)
"""
BARE_BOT = """
import asyncio, os
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BENCH_API_BASE"]))
    bot = Bot(os.environ["BENCH_TOKEN"], session=session)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    await dispatcher.start_polling(bot, polling_timeout=int(os.environ["BENCH_POLLING_TIMEOUT"]))

asyncio.run(main())
"""


@dataclass
class Contestant:
    name: str
    command: Callable[[Path], list[str]]  # given the run's scratch folder
    polls: bool = True  # False: the process simply exits; its time is launch to exit
    prepare: Callable[[Path], Awaitable[None]] | None = None
    starts: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # CPU seconds (user + system) the process used until ready
    replies: list[float] = field(default_factory=list)  # launch to the answer to a message sent once it was ready
    rss_mb: list[float] = field(default_factory=list)
    tree: Path = REPO  # the checkout whose modules it runs (PYTHONPATH)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process: unlike wall time, barely moved by other work on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tail(path: str, lines: int = 30) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def child_env(emu: TelegramEmulator, database: Path, polling_timeout: int, tree: Path = REPO) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(tree),
        "SHIXIAO_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "SHIXIAO_TELEGRAM_TOKEN": TOKEN,
        "SHIXIAO_TELEGRAM_API_BASE": emu.base_url,
        "SHIXIAO_POLLING_TIMEOUT": str(polling_timeout),
        "BENCH_TOKEN": TOKEN,
        "BENCH_API_BASE": emu.base_url,
        "BENCH_POLLING_TIMEOUT": str(polling_timeout),
    }


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def measure(contestant: Contestant, workdir: Path, database: Path, idle: float, polling_timeout: int) -> None:
    """One launch: start-up time (to the first getUpdates, or to exit) and, for bots, idle RSS."""
    async with TelegramEmulator(TOKEN) as emu:
        log = (workdir / f"{contestant.name.replace(' ', '_').replace(',', '')}.log").open("ab")
        try:
            launched = time.time()
            process = await asyncio.create_subprocess_exec(
                *contestant.command(database),
                cwd=workdir,
                env=child_env(emu, database, polling_timeout, contestant.tree),
                stdout=log,
                stderr=log,
            )
        finally:
            log.close()
        try:
            if not contestant.polls:  # it prints when it finished and its CPU time: exit and teardown excluded
                await asyncio.wait_for(process.wait(), READY_TIMEOUT)
                if process.returncode != 0:
                    raise RuntimeError(f"{contestant.name} exited with {process.returncode}:\n{tail(log.name)}")
                finished, cpu = map(float, tail(log.name, 1).split())
                contestant.starts.append(finished - launched)
                contestant.cpu.append(cpu)
                return
            exited = asyncio.create_task(process.wait())
            polled = asyncio.create_task(
                emu.signal.wait_for(
                    lambda: next((c for c in emu.calls if c.method == "getUpdates"), None), READY_TIMEOUT
                )
            )
            await asyncio.wait({exited, polled}, return_when=asyncio.FIRST_COMPLETED)
            if not polled.done() or polled.result() is None:
                polled.cancel()
                raise RuntimeError(
                    f"{contestant.name} never polled (exit code {process.returncode}):\n{tail(log.name)}"
                )
            exited.cancel()
            contestant.cpu.append(cpu_seconds(process.pid))
            contestant.starts.append(polled.result().timestamp - launched)
            # A fresh update id and user each launch: the existing database remembers the updates it handled,
            # and replies a previous launch left in its outbox must not hold up this one's (1 message/s per chat).
            launch = next(LAUNCHES)
            user = emu.user(10_000 + launch, "张三")
            emu.inject_raw_update(
                {
                    "update_id": launch,
                    "message": {
                        "message_id": 1,
                        "date": int(time.time()),
                        "chat": user.chat,
                        "from": user.user,
                        "text": "/start",
                        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                    },
                }
            )
            answer = await emu.signal.wait_for(lambda: next(iter(user.messages), None), READY_TIMEOUT)
            if answer is None:
                raise RuntimeError(f"{contestant.name} did not answer /start:\n{tail(log.name)}")
            contestant.replies.append(answer.timestamp - launched)
            await asyncio.sleep(idle)
            contestant.rss_mb.append(rss_mb(process.pid))
        finally:
            await stop(process)


async def existing_database(path: Path) -> None:
    """A database at the migration head with the sample county loaded, as after a first start."""
    from bot.app import open_app
    from bot.settings import Settings

    app = await open_app(Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{path}"))
    await app.close()


def contestants(compare: Path | None = None) -> list[Contestant]:
    python = sys.executable
    shixiao = [python, "-m", "bot", "run", "--runtime", "aiogram"]
    field_ = [
        Contestant("import aiogram", lambda _db: [python, "-c", IMPORT_ONLY], polls=False),
        Contestant("bare aiogram bot", lambda _db: [python, "-c", BARE_BOT]),
        Contestant("shixiao, fresh DB", lambda _db: shixiao),
        Contestant("shixiao, existing DB", lambda _db: shixiao, prepare=existing_database),
    ]
    if compare is not None:  # another checkout (say main) on the same interpreter, interleaved with this one
        field_ += [
            Contestant(f"{compare.name}, fresh DB", lambda _db: shixiao, tree=compare),
            Contestant(f"{compare.name}, existing DB", lambda _db: shixiao, prepare=existing_database, tree=compare),
        ]
    return field_


async def bench(runs: int, idle: float, polling_timeout: int, workdir: Path, compare: Path | None) -> list[Contestant]:
    field_ = contestants(compare)
    existing = workdir / "existing.db"
    for contestant in field_:
        if contestant.prepare is not None:
            await contestant.prepare(existing)
    with Progress(console=console) as bar:
        task = bar.add_task("启动测量", total=(runs + 1) * len(field_))
        for run in range(runs + 1):  # run 0 warms the file cache (.pyc files) and is not counted
            for contestant in field_:
                database = existing if contestant.prepare is not None else workdir / f"fresh-{run}.db"
                bar.update(task, description=f"{contestant.name} #{run}")
                await measure(contestant, workdir, database, idle, polling_timeout)
                if run == 0:
                    contestant.starts.clear()
                    contestant.cpu.clear()
                    contestant.replies.clear()
                    contestant.rss_mb.clear()
                bar.advance(task)
    return field_


def report(field_: list[Contestant], runs: int, idle: float, load_at_start: float) -> None:
    bare = next(c for c in field_ if c.name == "bare aiogram bot")
    bare_start, bare_rss = statistics.median(bare.starts), statistics.median(bare.rss_mb)
    bare_cpu = statistics.median(bare.cpu)
    bare_reply = statistics.median(bare.replies)
    table = Table(
        "contestant",
        "start-up median (min–max)",
        "vs bare bot",
        "CPU until ready",
        "vs bare bot",
        "first reply",
        "vs bare bot",
        f"idle RSS after {idle:g} s",
        "vs bare bot",
    )
    for contestant in field_:
        start, cpu = statistics.median(contestant.starts), statistics.median(contestant.cpu)
        spread = f"{start:.2f} s ({min(contestant.starts):.2f}–{max(contestant.starts):.2f})"
        ratio = f"{start / bare_start:.2f}x ({start - bare_start:+.2f} s)"
        cpu_ratio = f"{cpu / bare_cpu:.2f}x ({cpu - bare_cpu:+.2f} s)"
        if contestant.rss_mb:
            rss, reply = statistics.median(contestant.rss_mb), statistics.median(contestant.replies)
            memory, memory_ratio = f"{rss:.0f} MB", f"{rss / bare_rss:.2f}x ({rss - bare_rss:+.0f} MB)"
            first, first_ratio = f"{reply:.2f} s", f"{reply / bare_reply:.2f}x ({reply - bare_reply:+.2f} s)"
        else:
            memory = memory_ratio = first = first_ratio = "—"
        table.add_row(
            contestant.name, spread, ratio, f"{cpu:.2f} s", cpu_ratio, first, first_ratio, memory, memory_ratio
        )
    console.print(table)
    load = os.getloadavg()[0]
    console.print(
        f"{runs} runs each (medians), Python {sys.version.split()[0]}, load average {load:.1f} at the end "
        f"({load_at_start:.1f} at the start); "
        f"targets: start-up <= {TARGET_START} s, idle RSS <= {TARGET_RSS_MB:.0f} MB"
    )
    for contestant in field_[2:]:
        start, rss = statistics.median(contestant.starts), statistics.median(contestant.rss_mb)
        verdict = "met" if start <= TARGET_START else "missed"
        memory_verdict = "met" if rss <= TARGET_RSS_MB else "missed"
        console.print(
            f"{contestant.name}: start-up target {verdict} ({start:.2f} s), "
            f"memory target {memory_verdict} ({rss:.0f} MB)"
        )


def compile_project(tree: Path = REPO) -> None:
    """What scripts/start does after installing: our own modules' .pyc files, written once."""
    for package in ("bot", "handlers", "knowledge", "storage", "scheduler"):
        if not compileall.compile_dir(tree / package, quiet=1, workers=0):
            raise SystemExit(f"byte-compiling {package} failed")


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Cold start to ready and idle memory of `python -m bot run` "
        "(aiogram, SQLite) against a bare aiogram bot, via the local Bot API emulator."
    )
    parser.add_argument("--runs", type=int, default=5, help="measured launches per contestant (median reported)")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds a ready bot sits idle before its RSS is read")
    parser.add_argument("--polling-timeout", type=int, default=25, help="getUpdates long-poll timeout of the bots")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="also run another checkout's `python -m bot run` (e.g. a worktree of main), interleaved with this one",
    )
    args = parser.parse_args()
    load_at_start = os.getloadavg()[0]
    compile_project()
    if args.compare is not None:
        compile_project(args.compare.resolve())
    with tempfile.TemporaryDirectory(prefix="shixiao-footprint-") as folder:
        compare = args.compare.resolve() if args.compare is not None else None
        field_ = asyncio.run(bench(args.runs, args.idle, args.polling_timeout, Path(folder), compare))
    report(field_, args.runs, args.idle, load_at_start)


if __name__ == "__main__":
    main()
