"""APScheduler 3 with its jobs in the project database: timezone explicit, arguments ids only, missed runs once.

The scheduler runs in its own thread (BackgroundScheduler): its job store is synchronous, and on SQLite a
synchronous write that waits for the database's write lock must not block the event loop that holds it."""

from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import create_engine

from scheduler.context import DEFAULT_BINDING, JobContext, bind, unbind
from scheduler.jobs import JobSpec
from storage.db import sync_database_url
from storage.runtime_models import JOBS_TABLE

log = logging.getLogger(__name__)


def job_store(database_url: str) -> SQLAlchemyJobStore:
    options = {"connect_args": {"timeout": 30}} if database_url.startswith("sqlite") else {"pool_pre_ping": True}
    engine = create_engine(sync_database_url(database_url), hide_parameters=True, **options)  # see storage/db.py
    return SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)


class JobScheduler:
    def __init__(
        self, context: JobContext, database_url: str, tz: ZoneInfo, specs: list[JobSpec], binding: str = DEFAULT_BINDING
    ) -> None:
        self.context = context
        self.database_url = database_url
        self.tz = tz
        self.specs = specs
        self.binding = binding
        self.scheduler: BackgroundScheduler | None = None

    @property
    def running(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    async def start(self) -> None:
        bind(self.binding, self.context)
        await asyncio.to_thread(self._start)

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            # In a thread: shutdown waits for running jobs, and those wait for this event loop.
            await asyncio.to_thread(self.scheduler.shutdown, True)
        self.scheduler = None
        unbind(self.binding)

    def _start(self) -> None:
        # Coalesce: a bot that was down across several slots runs a job once, not once per missed slot.
        self.scheduler = BackgroundScheduler(
            jobstores={"default": job_store(self.database_url)},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=self.tz,
        )
        self.scheduler.start(paused=True)  # paused: stored jobs are reconciled before any of them runs
        self._reconcile()
        self.scheduler.resume()
        for job in self.scheduler.get_jobs():
            log.info("job %s: next run %s", job.id, job.next_run_time)

    def _reconcile(self) -> None:
        """Make the stored jobs match the declared ones, keeping each unchanged job's stored next run time.

        Keeping it is what makes a missed Monday 08:00 run when the bot is back: re-adding the job would
        move its next run to next Monday."""
        assert self.scheduler is not None
        declared = {spec.id for spec in self.specs}
        for job in self.scheduler.get_jobs():
            if job.id not in declared:
                log.info("removing job %s (no longer declared)", job.id)
                job.remove()
        for spec in self.specs:
            trigger = CronTrigger(timezone=self.tz, **spec.cron)
            stored = self.scheduler.get_job(spec.id)
            if stored is not None and (
                stored.func_ref,
                tuple(stored.args),
                repr(stored.trigger),
                stored.misfire_grace_time,
            ) == (spec.func, (self.binding,), repr(trigger), spec.misfire_grace_time):
                continue
            self.scheduler.add_job(
                spec.func,
                trigger,
                args=[self.binding],
                id=spec.id,
                name=spec.id,
                replace_existing=True,
                misfire_grace_time=spec.misfire_grace_time,
            )
