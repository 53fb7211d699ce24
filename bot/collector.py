"""The garbage collector during `shixiao run`'s start-up, and after it: the one module that switches it.

Start-up builds some 300,000 objects that live as long as the process (aiogram's Telegram types, SQLAlchemy's
mappings, the knowledge base). With the collector on, every import pays for full collections that walk all of
them again: 0.9 s of CPU of a 3.7 s start on the reference machine (`bench/footprint.py`), more than all of our
own imports together. Once the bot runs, each full collection would walk them again, stalling the event loop for
a few hundred milliseconds several times a minute when busy.

So `shixiao run` pauses the collector before it imports the bot, and once the bot is polling (and the sample
register of a first start is written) moves everything start-up built to the permanent generation (`gc.freeze`,
Python's documented way to take long-lived objects out of the collector's sight) and switches the collector back
on. Start-up's garbage is not collected first: it is some 3,000 objects out of 285,000, and collecting would walk
all of them once more (0.26 s) just when the first message may be waiting. A bot still not ready after two
minutes gets its collector back anyway. Only the standard library's public `gc` functions are used;
`tests/test_collector.py` fails if any of them is missing or behaves otherwise.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger("shixiao")
START_UP_LIMIT = 120.0  # seconds


def pause_for_start_up() -> None:
    """Call first thing in `shixiao run`, before the bot's modules are imported."""
    gc.disable()


def settle() -> int:
    """Start-up is over: freeze what it built, switch the collector on. Returns how many objects were frozen."""
    gc.freeze()
    gc.enable()
    return gc.get_freeze_count()


def resume() -> None:
    """The collector on again whatever happened (a start-up that failed before the bot was ready)."""
    gc.enable()


async def settle_once_ready(
    ready: asyncio.Event, after: asyncio.Task[None] | None = None, limit: float = START_UP_LIMIT
) -> None:
    """Wait until the bot polls and `after` (the sample register's first write, if any) is done, then settle; after
    `limit` seconds settle anyway (a bot that cannot reach its platform would otherwise run without a collector)."""

    async def started() -> None:
        await ready.wait()
        if after is not None:
            await asyncio.wait({after})  # its failure is its own task's to report

    try:
        await asyncio.wait_for(started(), limit)
    except TimeoutError:
        log.warning("not ready after %.0f s: the garbage collector is switched on again anyway", limit)
    began = time.perf_counter()
    frozen = settle()
    log.info(
        "start-up done: %d long-lived objects kept out of the garbage collector's walks (%.0f ms)",
        frozen,
        (time.perf_counter() - began) * 1000,
    )
