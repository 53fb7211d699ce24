"""bot/collector.py: `shixiao run` starts with the garbage collector paused and, once the bot polls (and the sample
register is written), freezes what start-up built and switches the collector on again. Only the standard
library's public gc functions are used; this fails if one of them is missing or behaves otherwise."""

from __future__ import annotations

import asyncio
import gc

import pytest

from bot import collector


@pytest.fixture
def restored_collector():
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_gc_functions_used_exist_and_behave(restored_collector):
    collector.pause_for_start_up()
    assert not gc.isenabled()
    frozen = collector.settle()
    assert gc.isenabled()
    assert frozen > 0 and gc.get_freeze_count() > 0  # (a test runner's thread may free frozen objects meanwhile)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    collector.pause_for_start_up()
    collector.resume()
    assert gc.isenabled()


def test_what_start_up_built_is_frozen_and_later_garbage_is_collected(restored_collector):
    collector.pause_for_start_up()

    class Cycle:
        pass

    built = Cycle()
    built.me = built  # type: ignore[attr-defined]
    collector.settle()
    assert gc.is_tracked(built) and not any(obj is built for obj in gc.get_objects())  # frozen: out of sight
    later = Cycle()
    later.me = later  # type: ignore[attr-defined]
    later_id = id(later)
    del later
    assert gc.collect() > 0
    assert all(id(obj) != later_id for obj in gc.get_objects() if isinstance(obj, Cycle))


async def test_it_settles_only_once_the_bot_polls_and_the_register_is_written(restored_collector):
    collector.pause_for_start_up()
    ready = asyncio.Event()
    register_done = asyncio.Event()

    async def register() -> None:
        await register_done.wait()

    after = asyncio.create_task(register())
    settling = asyncio.create_task(collector.settle_once_ready(ready, after=after))
    await asyncio.sleep(0.01)
    assert not gc.isenabled()  # not polling yet
    ready.set()
    await asyncio.sleep(0.01)
    assert not gc.isenabled()  # polling, the register still being written
    register_done.set()
    await asyncio.wait_for(settling, 5)
    assert gc.isenabled() and gc.get_freeze_count() > 0


async def test_a_failed_register_does_not_keep_the_collector_paused(restored_collector):
    collector.pause_for_start_up()
    ready = asyncio.Event()
    ready.set()

    async def fails() -> None:
        raise RuntimeError("database gone")

    after = asyncio.create_task(fails())
    await asyncio.wait_for(collector.settle_once_ready(ready, after=after), 5)
    assert gc.isenabled()


async def test_a_bot_that_never_gets_ready_gets_its_collector_back_after_the_limit(restored_collector, caplog):
    collector.pause_for_start_up()
    never = asyncio.Event()
    await asyncio.wait_for(collector.settle_once_ready(never, limit=0.05), 5)
    assert gc.isenabled()
    assert "not ready after" in caplog.text
