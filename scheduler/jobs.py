"""The scheduled jobs, declared as data: id, trigger, and a module-level function that takes only ids.

APScheduler stores each job in the project database by reference (`scheduler.jobs:digests`) with its
arguments, so the functions here are plain, importable and receive nothing but the binding's name."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time
from typing import Any

from handlers.plan_schedule import ensure_plan
from scheduler.complaint_jobs import escalate_overdue_complaints
from scheduler.context import lookup
from scheduler.digest_jobs import send_weekly_digests
from scheduler.inspection_jobs import remind_reinspections
from scheduler.milestone_jobs import remind_milestones
from scheduler.owner_jobs import remind_owners
from scheduler.question_jobs import announce_questions
from scheduler.retention_jobs import purge_expired
from scheduler.weekdays import DAYS

log = logging.getLogger(__name__)

MORNING = time(8, 30)
DAILY_GRACE = 6 * 3600  # down at 08:30, back before 14:30: still remind today
# A digest missed while the bot was down goes out once when it is back, within the same week.
WEEKLY_GRACE = 6 * 24 * 3600


def reinspections(binding: str) -> None:
    ctx = lookup(binding)
    queued = ctx.run(remind_reinspections(ctx.db, ctx.clock, ctx.texts))
    log.info("re-inspection reminders queued: %s", queued)


def owner_reminders(binding: str) -> None:
    ctx = lookup(binding)
    queued = ctx.run(remind_owners(ctx.db, ctx.clock, ctx.texts, ctx.knowledge))
    if queued:
        log.info("owner reminders queued: %s", queued)


def milestones(binding: str) -> None:
    ctx = lookup(binding)

    async def run() -> int:
        await ensure_plan(ctx.db, ctx.clock, ctx.texts)  # a bot running across New Year picks up the new plan
        return await remind_milestones(ctx.db, ctx.clock, ctx.texts)

    log.info("milestone reminders queued: %s", ctx.run(run()))


def complaint_sla(binding: str) -> None:
    ctx = lookup(binding)
    escalated = ctx.run(escalate_overdue_complaints(ctx.db, ctx.clock, ctx.texts))
    log.info("overdue complaints escalated: %s", escalated)


def retention(binding: str) -> None:
    ctx = lookup(binding)
    blanked, deleted = ctx.run(purge_expired(ctx.db, ctx.clock, ctx.retention))
    log.info("retention: messages blanked %s, conversations deleted %s", blanked, deleted)


def digests(binding: str) -> None:
    ctx = lookup(binding)
    queued = ctx.run(send_weekly_digests(ctx.db, ctx.clock, ctx.texts, ctx.knowledge, ctx.charts))
    log.info("weekly digests queued: %s", queued)


def question_notices(binding: str) -> None:
    ctx = lookup(binding)
    queued = ctx.run(announce_questions(ctx.db, ctx.clock, ctx.texts))
    if queued:
        log.info("question summaries queued: %s", queued)


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", as APScheduler stores it
    cron: dict[str, Any]
    misfire_grace_time: int = DAILY_GRACE
    what: str = ""  # what the job does, for `shixiao jobs list` (Chinese: people read it)


def job_specs(digest_day: str = "mon", digest_time: str = "08:00") -> list[JobSpec]:
    hour, minute = (int(part) for part in digest_time.split(":"))
    morning = {"hour": MORNING.hour, "minute": MORNING.minute}
    return [
        JobSpec("reinspections", "scheduler.jobs:reinspections", morning, what="提醒村干部：整改期限前3天和当天去复查"),
        JobSpec(
            "milestones",
            "scheduler.jobs:milestones",
            morning,
            what="按实施方案的时间节点提醒各责任方（乡镇、县整规办）",
        ),
        # Hourly: owners' rectification reminders, queued only from 08:00 to 21:00 (scheduler/owner_jobs.py).
        JobSpec(
            "owner-reminders",
            "scheduler.jobs:owner_reminders",
            {"minute": 10},
            misfire_grace_time=3000,
            what="提醒业主：整改期限前7、3、1天和当天（只在08:00–21:00之间发送）",
        ),
        JobSpec(
            "complaint-sla",
            "scheduler.jobs:complaint_sla",
            {"hour": MORNING.hour, "minute": MORNING.minute + 5},
            what="投诉超过办理期限仍未办结的，升级给县整规办督办",
        ),
        JobSpec(
            "retention",
            "scheduler.jobs:retention",
            {"hour": 3, "minute": 30},
            what="清空超过保留期限的已发消息内容，删除过期的填写草稿",
        ),
        JobSpec(
            "weekly-digest",
            "scheduler.jobs:digests",
            {"day_of_week": digest_day, "hour": hour, "minute": minute},
            misfire_grace_time=WEEKLY_GRACE,
            what="给县整规办和各乡镇干部发送周报和达标率图表（并推送到工作群）",
        ),
        # Every minute: questions forwarded meanwhile, folded into one summary per official when due.
        JobSpec(
            "question-notices",
            "scheduler.jobs:question_notices",
            {"minute": "*"},
            misfire_grace_time=60,
            what="把转给县整规办的待答复问题合并成一条汇总通知",
        ),
    ]


WEEKDAYS = dict(zip(DAYS, "一二三四五六日", strict=True))


def schedule_text(spec: JobSpec) -> str:
    """When the job runs, as people say it: 每天 08:30, 每周一 08:00, 每小时第10分, 每分钟."""
    cron = spec.cron
    if cron.get("minute") == "*":
        return "每分钟"
    if "hour" not in cron:
        return f"每小时第{int(cron['minute'])}分"
    at = f"{int(cron['hour']):02d}:{int(cron['minute']):02d}"
    day = cron.get("day_of_week")
    return f"每周{WEEKDAYS.get(str(day), day)} {at}" if day is not None else f"每天 {at}"
