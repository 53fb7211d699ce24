"""Runs shixiao's real Telegram runtimes (aiogram or python-telegram-bot, over HTTP) against the local Bot API
emulator. Tests that do not name a runtime get SHIXIAO_TEST_RUNTIME (default aiogram), so any end-to-end file can
be run on python-telegram-bot too: SHIXIAO_TEST_RUNTIME=ptb pytest tests/test_e2e_….py"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app import App, open_app
from bot.settings import Settings
from storage.models import OutboxMessage
from tests.emulator import TelegramEmulator
from tests.log_audit import AUDIT, personal

TOKEN = "123456789:TEST-emulator-token"
REPO = Path(__file__).resolve().parent.parent
RUNTIMES = ("aiogram", "ptb")


def default_runtime() -> str:
    return os.environ.get("SHIXIAO_TEST_RUNTIME", "aiogram")


def runtime_type(runtime: str) -> Any:
    if runtime == "ptb":
        from bot.ptb_runtime import PtbRuntime

        return PtbRuntime
    if runtime == "aiogram":
        from bot.aiogram_runtime import AiogramRuntime

        return AiogramRuntime
    raise ValueError(f"unknown runtime {runtime!r}")


def bot_settings(emulator: TelegramEmulator, database_url: str, **overrides) -> Settings:
    values = {
        "database_url": database_url,
        "telegram_token": TOKEN,
        "telegram_api_base": emulator.base_url,
        "polling_timeout": 1,
        "send_per_chat_interval": 0.05,
        # Report photos kept by the bot go to a folder of this test run's own, never the repository's ./data.
        "media_dir": Path(tempfile.gettempdir()) / f"shixiao-test-media-{os.getpid()}",
        "media_poll_seconds": 0.1,
        # Scripted people act faster than anyone can: the inbound limit stays on (its accounting runs in every
        # test), far above them; tests of the limit itself set the production figures.
        "inbound_burst": 10_000,
        "inbound_per_minute": 6_000,
        # The sample county without its sample register: the tests' own people build the register they check.
        "sample_register": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)


class RunningBot:
    """One of shixiao's Telegram runtimes in this process, started and stopped by the test."""

    def __init__(self, settings: Settings, runtime: str | None = None, listen: Any = None) -> None:
        self.settings = settings
        self.kind = runtime or default_runtime()
        self.listen = listen  # a bot.webhook.Listen: webhook mode (aiogram)
        self.app: App | None = None
        self.runtime: Any = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> RunningBot:
        self.app = await open_app(self.settings)
        runtime_class = runtime_type(self.kind)
        self.runtime = runtime_class(self.app, self.listen) if self.listen else runtime_class(self.app)
        self.task = asyncio.create_task(self.runtime.run(handle_signals=False))
        ready = asyncio.create_task(self.runtime.ready.wait())
        done, _ = await asyncio.wait({ready, self.task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if self.task.done():
                self.task.result()  # surface the start-up error
            raise AssertionError("bot did not become ready")
        return self

    async def stop(self) -> None:
        if self.runtime is not None and self.task is not None:
            await self.runtime.stop()
            await asyncio.wait_for(self.task, timeout=10)
        if self.app is not None:
            await audit_stored_errors(self.app)
            await self.app.close()
        self.runtime = self.task = self.app = None


async def audit_stored_errors(app: App) -> None:
    """Hand the delivery errors the bot stored to the log audit (tests/log_audit.py)."""
    async with app.db.transaction() as session:
        for error in await session.scalars(
            select(OutboxMessage.last_error).where(OutboxMessage.last_error.is_not(None))
        ):
            AUDIT.stored_errors += 1
            AUDIT.check("outbox.last_error", error)


class BotProcess:
    """`python -m bot run` as a real process, so it can be killed with SIGKILL mid-flow."""

    def __init__(
        self,
        emulator: TelegramEmulator,
        database_url: str,
        workdir: Path,
        runtime: str | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        log_name: str = "bot.log",
    ) -> None:
        self.runtime = runtime or default_runtime()
        self.env = {
            **os.environ,
            "SHIXIAO_DATABASE_URL": database_url,
            "SHIXIAO_TELEGRAM_TOKEN": TOKEN,
            "SHIXIAO_TELEGRAM_API_BASE": emulator.base_url,
            "SHIXIAO_POLLING_TIMEOUT": "1",
            "SHIXIAO_SEND_PER_CHAT_INTERVAL": "0.05",
            "SHIXIAO_INBOUND_BURST": "10000",
            "SHIXIAO_INBOUND_PER_MINUTE": "6000",
            "SHIXIAO_SAMPLE_REGISTER": "false",  # as bot_settings: the tests' own register only
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }
        self.workdir = workdir
        self.args = args or []
        self.log_name = log_name
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        AUDIT.watch(self.workdir / self.log_name)  # read by the log audit at the end of the session
        with open(self.workdir / self.log_name, "ab") as log:  # the child keeps its own copy of the descriptor
            command = [sys.executable, "-m", "bot", "run", "--runtime", self.runtime, *self.args]
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def log(self) -> str:
        return (self.workdir / self.log_name).read_text(encoding="utf-8", errors="replace")


async def join(
    emulator: TelegramEmulator, bot: RunningBot, user_id: int, role: Any, area: str | None, name: str
) -> Any:
    """A simulated user who registers with a fresh invite for `role` and `area`; returns the SimulatedUser."""
    from storage.clock import SystemClock
    from tests.chat_driver import make_invite

    assert bot.app is not None
    personal(name)
    user = emulator.user(user_id, name)
    await user.send_command("/start", await make_invite(bot.app.db, SystemClock(), role, area))
    await user.expect("真实姓名")
    await user.send_text(name)
    await user.expect("登记完成")
    return user
