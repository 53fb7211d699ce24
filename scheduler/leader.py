"""Scheduled jobs on exactly one instance: whoever holds the leadership lock runs them; the others wait to take over."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from scheduler.service import JobScheduler
from storage.leadership import Leadership

log = logging.getLogger(__name__)


class LeaderElectedJobs:
    def __init__(self, leadership: Leadership, jobs: JobScheduler, check_every: float = 5.0) -> None:
        self.leadership = leadership
        self.jobs = jobs
        self.check_every = check_every
        self.became_leader = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self.jobs.running

    async def start(self) -> None:
        await self._step()  # a single instance leads from its first moment, not after the first check interval
        self._task = asyncio.create_task(self._watch(), name="scheduler-leadership")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.jobs.stop()
        await self.leadership.release()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_every)
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler leadership check failed; trying again shortly")

    async def _step(self) -> None:
        if self.jobs.running:
            if not await self.leadership.held():
                log.warning("this instance lost the scheduler lock: stopping scheduled jobs")
                await self.jobs.stop()
                self.became_leader.clear()
            return
        if await self.leadership.acquire():
            log.info("this instance holds the scheduler lock: running scheduled jobs")
            await self.jobs.start()
            self.became_leader.set()
