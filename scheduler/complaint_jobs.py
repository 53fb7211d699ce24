"""Complaint SLA: open complaints past their last day are escalated to the county office, once each.

Idempotent: a complaint is escalated when `escalated_at` is empty, and the notices are written in the same
transaction that sets it, so re-runs and restarts never repeat one (a reopened complaint can escalate again).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.complaints import notify
from handlers.complaints.categories import ComplaintConfig, default_config
from handlers.events import Reply
from handlers.formatting import cn_date
from handlers.texts import Texts
from storage import complaints, outbox
from storage.clock import Clock
from storage.complaint_models import Complaint
from storage.db import Database
from storage.models import Area, AreaLevel, Role
from storage.users import users_with_role

MAX_MESSAGE = 3500  # well inside Telegram's 4096 characters


def chunks(header: str, lines: list[str], limit: int = MAX_MESSAGE) -> list[str]:
    """The header and as many lines as fit, repeated: a long list becomes several messages, none too long."""
    messages: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([header, *current, line])) > limit:
            messages.append("\n".join([header, *current]))
            current = []
        current.append(line)
    if current:
        messages.append("\n".join([header, *current]))
    return messages


async def _overdue_notices(
    session: AsyncSession, texts: Texts, config: ComplaintConfig, items: list[Complaint]
) -> list[Reply]:
    header = texts("complaint_overdue_notice", lines="").rstrip()
    lines = (await notify.overdue_lines(session, texts, config, items)).splitlines()
    replies: list[Reply] = []
    for user in await users_with_role(session, Role.COUNTY):
        replies.extend(Reply(text, chat_id=user.channel_user_id) for text in chunks(header, lines))
    by_office: dict[int, list[Complaint]] = defaultdict(list)
    for complaint in items:
        by_office[complaint.office_area_id].append(complaint)
    for office_id, own in by_office.items():
        office = await session.get(Area, office_id)
        if office is None or office.level != AreaLevel.TOWNSHIP:
            continue
        own_lines = (await notify.overdue_lines(session, texts, config, own)).splitlines()
        for user in await users_with_role(session, Role.TOWNSHIP, office_id):
            replies.extend(Reply(text, chat_id=user.channel_user_id) for text in chunks(header, own_lines))
    for complaint in items:
        replies.extend(
            await notify.to_complainant_and_followers(
                session, complaint, texts("complaint_progress_escalated", number=complaint.number)
            )
        )
    return replies


async def escalate_overdue_complaints(
    db: Database, clock: Clock, texts: Texts, config: ComplaintConfig | None = None
) -> int:
    """Escalate every newly overdue complaint; returns how many. Safe to run as often as wanted."""
    config = config or default_config()
    now = clock.now()
    async with db.transaction() as session:
        items = await complaints.open_complaints_overdue(session, now, not_escalated=True)
        if not items:
            return 0
        counties = await complaints.county_ids(session)
        for complaint in items:
            township = await session.get(Area, complaint.township_id)
            county_id = township.parent_id if township is not None and township.parent_id else counties[0]
            note = texts("complaint_escalated_note", due=cn_date(complaint.due_on))
            await complaints.mark_escalated(session, complaint, county_id, note, now)
        notices = await _overdue_notices(session, texts, config, items)
        await outbox.enqueue_notices(
            session,
            [(reply.chat_id, reply.kind, reply.payload()) for reply in notices if reply.chat_id is not None],
            now,
        )
    return len(items)
