"""Complaint time limits in working days, and what happens when a year has no official holiday schedule.

For such a year the count falls back to Monday–Friday. That is never silent: the county office is told once per
year (a key claimed in sent_notices, a chat notice to every county official, a WARNING in the log), and every time
limit counted so carries a note saying so wherever it is shown.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.complaints.workdays import Deadline, WorkCalendar
from handlers.context import Turn
from handlers.events import Reply
from handlers.texts import Texts
from storage.complaint_models import Complaint
from storage.models import Role
from storage.notices import claim_notice
from storage.users import users_with_role

log = logging.getLogger(__name__)


def fallback_note(texts: Texts, years: tuple[int, ...] | list[int]) -> str:
    """'' when every year was counted with the official schedule, else the visible note."""
    if not years:
        return ""
    return texts("complaint_due_weekdays_only", years="、".join(str(year) for year in years))


async def count(turn: Turn, calendar: WorkCalendar, start: date, days: int) -> Deadline:
    """The deadline; for a year without the official schedule, the county office is told (once) as a notice."""
    deadline, notices = await count_at(turn.session, turn.texts, turn.clock.now(), calendar, start, days)
    turn.notices.extend(notices)
    return deadline


async def count_at(
    session: AsyncSession, texts: Texts, now: datetime, calendar: WorkCalendar, start: date, days: int
) -> tuple[Deadline, list[Reply]]:
    """count() outside a chat turn (the web console): the deadline and the notices to queue."""
    deadline = calendar.deadline(start, days)
    return deadline, await _fallback_notices(session, texts, now, deadline.fallback_years)


async def announce_fallback(turn: Turn, years: tuple[int, ...]) -> list[Reply]:
    return await _fallback_notices(turn.session, turn.texts, turn.clock.now(), years)


async def _fallback_notices(session: AsyncSession, texts: Texts, now: datetime, years: tuple[int, ...]) -> list[Reply]:
    replies: list[Reply] = []
    for year in years:
        if not await claim_notice(session, f"calendar-missing:{year}", now):
            continue
        log.warning(
            "no official holiday schedule for %s (chinese-calendar has none and handlers/data/holidays.yaml "
            "does not list it): complaint time limits in %s are counted Monday-Friday only",
            year,
            year,
        )
        text = texts("calendar_missing_notice", year=year)
        replies.extend(
            Reply(text, chat_id=user.channel_user_id) for user in await users_with_role(session, Role.COUNTY)
        )
    return replies


def shown_note(texts: Texts, calendar: WorkCalendar, complaint: Complaint) -> str:
    """The note for a stored time limit: its years (filing to due) without the official schedule."""
    first = min(complaint.created_at.year, complaint.due_on.year)
    years = [year for year in range(first, complaint.due_on.year + 1) if not calendar.covers(year)]
    return fallback_note(texts, years)
