"""APScheduler 3 wiring: periodic jobs that write to the outbox (every job is idempotent)."""

from __future__ import annotations

import logging
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from handlers.plan_schedule import ensure_plan
from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from scheduler.complaint_jobs import escalate_overdue_complaints
from scheduler.digest_jobs import send_weekly_digests
from scheduler.inspection_jobs import remind_reinspections
from scheduler.milestone_jobs import remind_milestones
from storage.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)

MORNING = time(8, 30)
EVENING = time(20, 0)


def build_scheduler(db: Database, clock: Clock, texts: Texts, tz: ZoneInfo, knowledge: KnowledgeBase | None = None,
                    charts: Path = Path("data") / "charts", digest_day: str = "mon", digest_time: str = "08:00",
                    ) -> AsyncIOScheduler:
    # Coalesce and a generous grace time: a bot that was down at the slot runs the job once when back.
    scheduler = AsyncIOScheduler(timezone=tz, job_defaults={"coalesce": True, "misfire_grace_time": 6 * 3600,
                                                             "max_instances": 1})

    async def reinspections() -> None:
        queued = await remind_reinspections(db, clock, texts)
        log.info("re-inspection reminders queued: %s", queued)

    scheduler.add_job(reinspections, "cron", hour=MORNING.hour, minute=MORNING.minute, id="reinspections",
                      replace_existing=True)

    async def milestones() -> None:
        await ensure_plan(db, clock, texts)  # a bot running across New Year picks up the new year's plan
        queued = await remind_milestones(db, clock, texts)
        log.info("milestone reminders queued: %s", queued)

    scheduler.add_job(milestones, "cron", hour=MORNING.hour, minute=MORNING.minute, id="milestones",
                      replace_existing=True)

    async def complaints() -> None:
        escalated = await escalate_overdue_complaints(db, clock, texts)
        log.info("overdue complaints escalated: %s", escalated)

    scheduler.add_job(complaints, "cron", hour=MORNING.hour, minute=MORNING.minute + 5, id="complaint-sla",
                      replace_existing=True)
    async def digests() -> None:
        queued = await send_weekly_digests(db, clock, texts, knowledge, charts)
        log.info("weekly digests queued: %s", queued)

    hour, minute = (int(part) for part in digest_time.split(":"))
    # A digest missed while the bot was down is sent once when it is back (coalesce + grace + the week's claim).
    scheduler.add_job(digests, "cron", day_of_week=digest_day, hour=hour, minute=minute, id="weekly-digest",
                      replace_existing=True, misfire_grace_time=6 * 24 * 3600)
    if past_weekly_slot(clock.now(), digest_day, hour, minute):
        # Down at the slot: send this week's digest now (once: each official's week is claimed).
        scheduler.add_job(digests, id="weekly-digest-catch-up")
    local = clock.now().time()
    if MORNING <= local <= EVENING:
        # Started during the working day: catch up now rather than tomorrow morning (claims prevent repeats).
        scheduler.add_job(reinspections, id="reinspections-catch-up")
        scheduler.add_job(milestones, id="milestones-catch-up")
        scheduler.add_job(complaints, id="complaint-sla-catch-up")
    return scheduler


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def past_weekly_slot(now: datetime, day: str, hour: int, minute: int) -> bool:
    """True when this ISO week's slot (e.g. Monday 08:00) has already passed."""
    slot_day = DAYS.index(day)
    return (now.weekday(), now.hour, now.minute) >= (slot_day, hour, minute)
