"""APScheduler with its job store in the project database: ids-only arguments, stored run times kept across
restarts, a missed slot run once, and the jobs on exactly one instance (the leadership lock)."""

from __future__ import annotations

import asyncio
import pickle
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select, text

from handlers.assembly import shipped_knowledge
from scheduler.context import JobContext
from scheduler.jobs import JobSpec, job_specs
from scheduler.leader import LeaderElectedJobs
from scheduler.service import JobScheduler, job_store
from storage.clock import SHANGHAI
from storage.leadership import FileLeadership, PostgresLeadership, leadership_for
from storage.models import OutboxMessage, Role
from tests.chat_driver import register
from tests.waiting import wait_until


def context(core, db, clock, tmp_path) -> JobContext:
    return JobContext(db, clock, core.texts, shipped_knowledge(), tmp_path / "charts", asyncio.get_running_loop())


def open_store(url: str):
    """The job store as another process finds it (not started: nothing runs, nothing is rescheduled)."""
    store = job_store(url)
    store.start(BackgroundScheduler(timezone=SHANGHAI), "default")
    return store


def stored_jobs(url: str) -> dict[str, object]:
    store = open_store(url)
    try:
        return {job.id: job for job in store.get_all_jobs()}
    finally:
        store.shutdown()


def set_next_run(url: str, job_id: str, when: datetime) -> None:
    """Pretend the bot was down when `job_id` was due: its stored next run time lies in the past."""
    store = open_store(url)
    try:
        job = store.lookup_job(job_id)
        job._modify(next_run_time=when)
        store.update_job(job)
    finally:
        store.shutdown()


async def digest_count(db, chat_id: int) -> int:
    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id))
        return sum("十小通周报" in row.payload.get("text", "") for row in rows)


def daily_digest(now: datetime) -> list[JobSpec]:
    """The shipped jobs, but the digest due every day an hour ago: missed-slot tests then never depend on today's
    weekday (the weekly trigger's last slot can be nearly a week back, at the edge of its grace time)."""
    slot = now - timedelta(hours=1)
    specs = [spec for spec in job_specs() if spec.id != "weekly-digest"]
    weekly = next(spec for spec in job_specs() if spec.id == "weekly-digest")
    return [
        *specs,
        JobSpec(
            weekly.id,
            weekly.func,
            {"hour": slot.hour, "minute": slot.minute},
            misfire_grace_time=weekly.misfire_grace_time,
        ),
    ]


async def test_jobs_live_in_the_project_database_with_ids_only(core, db, db_url, clock, tmp_path):
    jobs = JobScheduler(context(core, db, clock, tmp_path), db_url, SHANGHAI, job_specs("mon", "08:00"))
    await jobs.start()
    await jobs.stop()
    async with db.transaction() as session:
        rows = (await session.execute(text("SELECT id, next_run_time, job_state FROM scheduler_jobs"))).all()
    assert {row.id for row in rows} == {
        "reinspections",
        "milestones",
        "complaint-sla",
        "retention",
        "weekly-digest",
        "question-notices",
        "owner-reminders",
    }
    for row in rows:
        state = pickle.loads(row.job_state)
        assert state["args"] == ("bot",) and state["kwargs"] == {}  # ids only: nothing live is pickled
        assert state["func"].startswith("scheduler.jobs:")
        assert state["coalesce"] is True
    weekly = stored_jobs(db_url)["weekly-digest"]
    assert str(weekly.trigger.timezone) == "Asia/Shanghai"
    assert "day_of_week='mon', hour='8', minute='0'" in str(weekly.trigger)
    local = weekly.next_run_time.astimezone(SHANGHAI)
    assert (local.weekday(), local.hour, local.minute) == (0, 8, 0)
    assert weekly.misfire_grace_time == 6 * 24 * 3600


async def test_a_restart_keeps_stored_run_times_and_a_new_slot_replaces_them(core, db, db_url, clock, tmp_path):
    ctx = context(core, db, clock, tmp_path)
    first = JobScheduler(ctx, db_url, SHANGHAI, job_specs("mon", "08:00"))
    await first.start()
    await first.stop()
    # A stored run time that a freshly computed one would never equal: a restart must keep it, not recompute it.
    kept = (datetime.now(SHANGHAI) + timedelta(days=3, minutes=7)).replace(microsecond=0)
    set_next_run(db_url, "reinspections", kept)
    again = JobScheduler(ctx, db_url, SHANGHAI, job_specs("mon", "08:00"))
    await again.start()
    await again.stop()
    assert stored_jobs(db_url)["reinspections"].next_run_time == kept
    moved = JobScheduler(ctx, db_url, SHANGHAI, job_specs("fri", "17:30"))
    await moved.start()
    await moved.stop()
    weekly = stored_jobs(db_url)["weekly-digest"].next_run_time.astimezone(SHANGHAI)
    assert (weekly.weekday(), weekly.hour, weekly.minute) == (4, 17, 30)


async def test_a_digest_missed_while_down_is_sent_once_when_back(core, db, db_url, clock, tmp_path):
    township = await register(core, db, clock, 901, Role.TOWNSHIP, "岩头镇", "陈镇长")
    county = await register(core, db, clock, 902, Role.COUNTY, None, "周主任")
    now = datetime.now(SHANGHAI)
    specs = daily_digest(now)
    ctx = context(core, db, clock, tmp_path)
    first = JobScheduler(ctx, db_url, SHANGHAI, specs)
    await first.start()
    await first.stop()
    assert await digest_count(db, township.user_id) == 0
    # Down for three weeks across many slots: back, the digest goes out once, not once per missed slot.
    set_next_run(db_url, "weekly-digest", now - timedelta(days=21))
    back = JobScheduler(ctx, db_url, SHANGHAI, specs)
    await back.start()

    async def both_sent() -> bool:
        return await digest_count(db, township.user_id) == 1 and await digest_count(db, county.user_id) == 1

    await wait_until(both_sent)
    await asyncio.sleep(0.5)
    await back.stop()
    stored = stored_jobs(db_url)["weekly-digest"].next_run_time
    assert stored > now  # the next slot, not one of the missed ones
    # Restarted again at once: nothing is due, nothing is sent twice.
    again = JobScheduler(ctx, db_url, SHANGHAI, specs)
    await again.start()
    await asyncio.sleep(1.0)
    await again.stop()
    assert await digest_count(db, township.user_id) == 1
    assert await digest_count(db, county.user_id) == 1


async def test_a_slot_missed_beyond_its_grace_is_skipped(core, db, db_url, clock, tmp_path):
    township = await register(core, db, clock, 901, Role.TOWNSHIP, "岩头镇", "陈镇长")
    ctx = context(core, db, clock, tmp_path)
    spec = next(spec for spec in job_specs() if spec.id == "weekly-digest")
    stale = JobSpec(spec.id, spec.func, {"day_of_week": "*", "hour": 3, "minute": 0}, misfire_grace_time=60)
    first = JobScheduler(ctx, db_url, SHANGHAI, [stale])
    await first.start()
    await first.stop()
    set_next_run(db_url, "weekly-digest", datetime.now(SHANGHAI) - timedelta(days=2))
    back = JobScheduler(ctx, db_url, SHANGHAI, [stale])
    await back.start()
    await asyncio.sleep(1.0)
    await back.stop()
    assert await digest_count(db, township.user_id) == 0
    assert stored_jobs(db_url)["weekly-digest"].next_run_time > datetime.now(SHANGHAI)


async def test_scheduled_jobs_run_on_exactly_one_instance(core, db, db_url, clock, tmp_path):
    specs = job_specs()
    first = LeaderElectedJobs(
        leadership_for(db),
        JobScheduler(context(core, db, clock, tmp_path), db_url, SHANGHAI, specs, binding="first"),
        check_every=0.1,
    )
    second = LeaderElectedJobs(
        leadership_for(db),
        JobScheduler(context(core, db, clock, tmp_path), db_url, SHANGHAI, specs, binding="second"),
        check_every=0.1,
    )
    await first.start()
    await second.start()
    try:
        await asyncio.sleep(0.3)
        assert first.leading and not second.leading
        await first.stop()  # the leader goes away: the other takes over within a check interval
        await asyncio.wait_for(second.became_leader.wait(), timeout=5)
        assert second.leading
    finally:
        await first.stop()
        await second.stop()


async def test_a_dead_leaders_lock_passes_on(db):
    """kill -9 of the leader closes its connection (or file); PostgreSQL then frees the advisory lock."""
    if db.is_sqlite:
        path = db.engine.url.database + ".scheduler.lock"
        leader, other = FileLeadership(Path(path)), leadership_for(db)
        assert await leader.acquire() and not await other.acquire()
        await leader.release()
        assert await other.acquire()
        await other.release()
        return
    leader, other = PostgresLeadership(db), PostgresLeadership(db)
    assert await leader.acquire() and await leader.held()
    assert not await other.acquire()
    async with db.engine.connect() as admin:
        # Terminate the leader's backend, as if its process died.
        await admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
            )
        )
        await admin.commit()
    assert not await leader.held()
    assert await other.acquire()
    await other.release()
