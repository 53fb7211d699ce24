"""Re-inspection reminders: to the village's cadres before a rectification deadline and on the day."""

from __future__ import annotations

from datetime import timedelta

from handlers import buttons
from handlers.events import Choice, Reply
from handlers.formatting import cn_date
from handlers.texts import Texts
from storage import outbox
from storage.areas import area_path, get_area
from storage.clock import Clock
from storage.db import Database
from storage.inspections import rectifications_due_between
from storage.models import Role
from storage.notices import claim_notice
from storage.users import users_with_role

DAYS_BEFORE = 3


async def remind_reinspections(db: Database, clock: Clock, texts: Texts, days_before: int = DAYS_BEFORE) -> int:
    """Queue due reminders; each (unit, deadline, kind) is sent once however often the job runs."""
    now = clock.now()
    today = now.date()
    queued = 0
    async with db.transaction() as session:
        # "Before" covers the whole window, so a bot that was down on the exact day still reminds.
        for unit in await rectifications_due_between(session, today, today + timedelta(days=days_before)):
            assert unit.rectify_by is not None
            kind = "today" if unit.rectify_by == today else "before"
            if not await claim_notice(session, f"reinspect:{unit.id}:{unit.rectify_by}:{kind}", now):
                continue
            where = area_path(await get_area(session, unit.village_id))
            key = "reinspect_today" if kind == "today" else "reinspect_before"
            text = texts(
                key, unit=unit.name, where=where, date=cn_date(unit.rectify_by), days=(unit.rectify_by - today).days
            )
            start = Choice(buttons.menu_data("inspect", unit.id), texts("reinspect_start"))
            reply = Reply(text, (start,))
            for cadre in await users_with_role(session, Role.CADRE, unit.village_id):
                await outbox.enqueue(session, cadre.channel_user_id, reply.kind, reply.payload(), now, cadre.channel)
                queued += 1
    return queued
