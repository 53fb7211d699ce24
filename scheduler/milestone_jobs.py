"""Milestone reminders to the responsible officials: before the date, on the day, and while overdue.

Policy (configurable through the arguments):
- tasks and supervisions: 7, 3 and 1 days before and on the day (`days_before`); then overdue the day after,
  repeated weekly (`overdue_repeats` more times: the 1st, 8th, 15th and 22nd day late) while not marked done,
  and then no more — the "计划节点" overview still lists it; an older milestone does not nag forever.
- phase starts: a notice 7 days before and on the day (nothing to mark, never overdue).
- 乡镇 in the responsible list: every township official, naming their township, until their township marked it;
  县整规办 / 牵头部门 / 各部门: every county official, until the county marked it. A work group gets what the
  officials of its scope get (a township's groups, the county's groups).
Each stage is claimed once per (milestone, date, stage, official) in sent_notices, so re-runs and restarts never
repeat a message; a run after downtime sends the stage that is current (say, the 3-day one on day 2).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from handlers import buttons
from handlers.events import Choice, Reply
from handlers.formatting import cn_date
from handlers.milestones import who_county
from handlers.texts import Texts
from handlers.work_groups import push_replies
from storage import milestones, outbox, work_groups
from storage.channel_models import WorkGroup
from storage.clock import Clock
from storage.db import Database
from storage.milestone_models import MilestoneKind, PlanMilestone
from storage.models import Area, AreaLevel, Role, User
from storage.notices import claim_notice
from storage.users import users_with_role

log = logging.getLogger(__name__)

DAYS_BEFORE: tuple[int, ...] = (7, 3, 1, 0)
PHASE_DAYS_BEFORE: tuple[int, ...] = (7, 0)
OVERDUE_EVERY = 7
OVERDUE_REPEATS = 3


@dataclass(frozen=True)
class Stage:
    key: str  # d7, d3, d1, d0, late0, late1 …
    days: int  # days left (>= 0) or days late (> 0 for an overdue stage)
    overdue: bool


def stage_for(due: date, today: date, days_before: Sequence[int], overdue_repeats: int | None) -> Stage | None:
    """The reminder stage that is current today; None when nothing is due. overdue_repeats None: never overdue."""
    left = (due - today).days
    if left >= 0:
        reached = [d for d in days_before if d >= left]
        return Stage(f"d{min(reached)}", left, False) if reached else None
    if overdue_repeats is None:
        return None
    late = -left
    week = (late - 1) // OVERDUE_EVERY
    return Stage(f"late{week}", late, True) if week <= overdue_repeats else None


def reminder(texts: Texts, milestone: PlanMilestone, stage: Stage, who: str) -> Reply:
    date_text = cn_date(milestone.due_on)
    if milestone.kind == MilestoneKind.PHASE:
        key = "ms_phase_today" if stage.days == 0 else "ms_phase_before"
        return Reply(texts(key, title=milestone.title, date=date_text, days=stage.days, text=milestone.text))
    if stage.overdue:
        text = texts("ms_remind_overdue", who=who, title=milestone.title, date=date_text, days=stage.days)
    else:
        key = "ms_remind_today" if stage.days == 0 else "ms_remind_before"
        text = texts(key, who=who, title=milestone.title, date=date_text, days=stage.days, text=milestone.text)
    done = Choice(buttons.menu_data("ms_done", milestone.id), texts("ms_button_done"))
    return Reply(text, (done,))


def _recipients(
    texts: Texts, milestone: PlanMilestone, marked: set[int | None], officials: dict[Role, list[User]]
) -> list[tuple[User, str]]:
    """(official, who) pairs still to remind: townships that have not marked it, the county unless it has."""
    phase = milestone.kind == MilestoneKind.PHASE
    found: list[tuple[User, str]] = []
    if milestones.for_townships(milestone):
        for official in officials[Role.TOWNSHIP]:
            if official.area_id is not None and (phase or official.area_id not in marked):
                found.append((official, official.area.name if official.area else ""))
    if milestones.for_county(milestone) and (phase or None not in marked):
        found.extend((official, who_county(texts, milestone)) for official in officials[Role.COUNTY])
    return found


def _group_recipients(
    texts: Texts, milestone: PlanMilestone, marked: set[int | None], groups: list[tuple[WorkGroup, Area]]
) -> list[tuple[WorkGroup, str]]:
    """(work group, who) pairs still to remind: a township's groups as its officials, the county's as the county."""
    phase = milestone.kind == MilestoneKind.PHASE
    found: list[tuple[WorkGroup, str]] = []
    for group, scope in groups:
        if (
            scope.level == AreaLevel.TOWNSHIP
            and milestones.for_townships(milestone)
            and (phase or scope.id not in marked)
        ):
            found.append((group, scope.name))
        elif scope.level == AreaLevel.COUNTY and milestones.for_county(milestone) and (phase or None not in marked):
            found.append((group, who_county(texts, milestone)))
    return found


async def remind_milestones(
    db: Database,
    clock: Clock,
    texts: Texts,
    days_before: Sequence[int] = DAYS_BEFORE,
    overdue_repeats: int = OVERDUE_REPEATS,
) -> int:
    """Queue the reminders due now (one outbox row per official); returns how many were queued."""
    now = clock.now()
    today = now.date()
    ahead = max([*days_before, *PHASE_DAYS_BEFORE])
    queued = 0
    async with db.transaction() as session:
        due = await milestones.due_between(
            session, today - timedelta(days=OVERDUE_EVERY * (overdue_repeats + 1)), today + timedelta(days=ahead)
        )
        if not due:
            return 0
        officials = {role: await users_with_role(session, role) for role in (Role.TOWNSHIP, Role.COUNTY)}
        marks = await milestones.done_marks(session, [m.id for m in due])
        groups = await work_groups.all_groups(session)
        for milestone in due:
            phase = milestone.kind == MilestoneKind.PHASE
            stage = stage_for(
                milestone.due_on, today, PHASE_DAYS_BEFORE if phase else days_before, None if phase else overdue_repeats
            )
            if stage is None:
                continue
            marked = {mark.township_id for mark in marks[milestone.id]}
            for official, who in _recipients(texts, milestone, marked, officials):
                key = f"ms:{milestone.id}:{milestone.due_on.isoformat()}:{stage.key}:{official.id}"
                if not await claim_notice(session, key, now):
                    continue
                reply = reminder(texts, milestone, stage, who)
                await outbox.enqueue(
                    session, official.channel_user_id, reply.kind, reply.payload(), now, official.channel
                )
                queued += 1
            for group, who in _group_recipients(texts, milestone, marked, groups):
                key = f"ms:{milestone.id}:{milestone.due_on.isoformat()}:{stage.key}:g{group.id}"
                if await claim_notice(session, key, now):
                    queued += await push_replies(session, [group], [reminder(texts, milestone, stage, who)], now)
    if queued:
        log.info("queued %d milestone reminders", queued)
    return queued
