"""Reminders to shop owners before their rectification deadline: 7, 3 and 1 day before, and on the day.

Run every hour; only between 08:00 and 21:00 Beijing time (the clock's zone) does it queue anything, so nobody is
woken at night. Each (unit, deadline, stage, owner) is claimed once in the transaction that queues it: a re-run or a
restart after a crash never repeats one, and a stage missed while the bot was down is sent late, once (only the
nearest stage: a bot down for a week does not send three reminders at once). A unit re-inspected (its status or
deadline changes) or whose report was withdrawn (the unit goes back to what it was) is no longer due."""

from __future__ import annotations

from datetime import date, timedelta

from handlers import buttons
from handlers.events import Choice, Reply
from handlers.formatting import cn_date
from handlers.owner_notice import failed_items
from handlers.texts import Texts
from knowledge.models import KnowledgeBase
from storage import outbox, owners
from storage.clock import Clock
from storage.db import Database
from storage.notices import claim_notice

STAGES = (0, 1, 3, 7)  # days before the deadline
QUIET_FROM, QUIET_UNTIL = 21, 8  # no reminder from 21:00 until 08:00


def stage(deadline: date, today: date) -> int | None:
    """The reminder stage due today: the nearest stage at or above the days left (None: too early or past)."""
    left = (deadline - today).days
    return next((days for days in STAGES if days >= left), None) if left >= 0 else None


def quiet(hour: int) -> bool:
    return hour >= QUIET_FROM or hour < QUIET_UNTIL


async def remind_owners(db: Database, clock: Clock, texts: Texts, knowledge: KnowledgeBase | None) -> int:
    now = clock.now().astimezone(clock.tz)
    if quiet(now.hour):
        return 0
    today = now.date()
    queued = 0
    async with db.transaction() as session:
        messages = []
        for unit, owner in await owners.owned_rectifications_due(session, today, today + timedelta(days=max(STAGES))):
            assert unit.rectify_by is not None
            due = stage(unit.rectify_by, today)
            if due is None or not await claim_notice(
                session, f"owner-remind:{unit.id}:{unit.rectify_by}:{due}:{owner.id}", now
            ):
                continue
            report = await owners.latest_report(session, unit.id)
            items = failed_items(report, knowledge) if report is not None else []
            listed = "\n".join(f"  {n}. {item.requirement}" for n, item in enumerate(items, start=1))
            left = (unit.rectify_by - today).days
            key = "owner_remind_today" if left == 0 else "owner_remind_before"
            reply = Reply(
                texts(key, unit=unit.name, date=cn_date(unit.rectify_by), days=left, items=listed),
                (Choice(buttons.menu_data("unit_card", unit.id), texts("owner_card_button")),),
            )
            messages.append((owner.channel_user_id, reply.kind, reply.payload()))
            queued += 1
        if messages:
            await outbox.enqueue_notices(session, messages, now)
    return queued
