"""What a scheduled job needs at run time, looked up by name.

APScheduler keeps its jobs in the project database, so a job's arguments must be plain ids that survive a
restart: each job carries the name of a binding, and the running process binds that name to its live
database, clock and texts. The bot's event loop owns all of them, so jobs (run in APScheduler's threads) hand
their coroutines back to that loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from scheduler.retention_jobs import Retention
from storage.clock import Clock
from storage.db import Database

T = TypeVar("T")
DEFAULT_BINDING = "bot"


@dataclass(frozen=True)
class JobContext:
    db: Database
    clock: Clock
    texts: Texts
    knowledge: KnowledgeBase | None
    charts: Path
    loop: asyncio.AbstractEventLoop
    retention: Retention = field(default_factory=Retention)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 3600.0) -> T:
        """Run a coroutine on the bot's loop from a scheduler thread and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


class UnboundJobContext(LookupError):
    pass


_bindings: dict[str, JobContext] = {}


def bind(name: str, context: JobContext) -> None:
    _bindings[name] = context


def unbind(name: str) -> None:
    _bindings.pop(name, None)


def lookup(name: str) -> JobContext:
    try:
        return _bindings[name]
    except KeyError:
        raise UnboundJobContext(f"no job context bound as {name!r} in this process") from None
