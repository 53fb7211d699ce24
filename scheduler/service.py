"""APScheduler 3 wiring: periodic jobs that write to the outbox (every job is idempotent)."""

from __future__ import annotations

import logging
from datetime import time
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from handlers.texts import Texts
from scheduler.inspection_jobs import remind_reinspections
from storage.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)

MORNING = time(8, 30)
EVENING = time(20, 0)


def build_scheduler(db: Database, clock: Clock, texts: Texts, tz: ZoneInfo) -> AsyncIOScheduler:
    # Coalesce and a generous grace time: a bot that was down at the slot runs the job once when back.
    scheduler = AsyncIOScheduler(timezone=tz, job_defaults={"coalesce": True, "misfire_grace_time": 6 * 3600,
                                                             "max_instances": 1})

    async def reinspections() -> None:
        queued = await remind_reinspections(db, clock, texts)
        log.info("re-inspection reminders queued: %s", queued)

    scheduler.add_job(reinspections, "cron", hour=MORNING.hour, minute=MORNING.minute, id="reinspections",
                      replace_existing=True)
    local = clock.now().time()
    if MORNING <= local <= EVENING:
        # Started during the working day: catch up now rather than tomorrow morning (claims prevent repeats).
        scheduler.add_job(reinspections, id="reinspections-catch-up")
    return scheduler
