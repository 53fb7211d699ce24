"""A fork server for the crash test: imports shixiao once, then forks `bot run` processes on request (the
server's main() below, and ForkServer/ForkedBot, the test's side).

A child is what `python -m bot run` is (runpy runs bot/__main__ with the same argv, environment and working
directory) in a process of its own that can be killed with SIGKILL; only the imports happened before the fork.
They take 1.5-2.5 s (aiogram, SQLAlchemy, pydantic models ...), the bot's own start-up well under a second: for
fifty restarts that is over a minute of imports. Protocol on stdin/stdout, one line each: the log file in, the
child's pid out. The imports are those `bot run` makes, made its way (cli.runtime_class), so that the child starts
in the state a cold process would be in. Run it as `python -m tests.bot_forkserver <runtime>` with the bot's SHIXIAO_* environment.
"""

from __future__ import annotations

import asyncio
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path


class ForkServer:
    """The test's side: each spawn is a new `bot run` process, forked after the imports."""

    def __init__(self, runtime: str, env: dict[str, str], workdir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bot_forkserver", runtime],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    async def spawn(self, log: Path) -> int:
        from tests.log_audit import AUDIT

        AUDIT.watch(log)  # read by the log audit at the end of the session
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{log}\n".encode())
        self.process.stdin.flush()
        line = await asyncio.to_thread(self.process.stdout.readline)  # the first waits for the imports
        assert line.strip(), "the fork server died; see bot.log"
        return int(line)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class ForkedBot:
    """A forked `bot run`, reaped by the server: kill() is SIGKILL, terminate() SIGTERM (a graceful stop)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _gone(self, within: float) -> bool:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.002)
        return False

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        assert self._gone(10), f"process {self.pid} survived SIGKILL"

    def terminate(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if not self._gone(15):
            self.kill()


def _warm_up(runtime: str) -> None:
    """Import what `bot run --runtime <runtime>` imports, the way it does (cli.runtime_class decides how)."""
    from bot.cli import runtime_class

    runtime_class(runtime)


def _child(runtime: str, log_path: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.argv = ["bot", "run", "--runtime", runtime]
    code = 0
    try:
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    runtime = sys.argv[1]
    _warm_up(runtime)
    # Forking copies only the calling thread: the server must not have started any other.
    assert threading.active_count() == 1, "a thread was started by an import; forking would lose it"
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children; the test polls their pids
    while log_path := sys.stdin.readline().rstrip("\n"):
        pid = os.fork()
        if pid == 0:
            _child(runtime, log_path)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
