"""A township official's decision on a submitted report, shared by the chat's review flow and the web console:
approve, or return with a reason; the cadre is told (a notice through the outbox) either way."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons
from handlers.events import Choice, Reply
from handlers.texts import Texts
from storage import inspections, units
from storage.inspection_models import Inspection, InspectionStatus
from storage.inspections import report_number
from storage.models import Role, User
from storage.users import get_user

REASON_MIN, REASON_MAX = 4, 300  # as the chat's reason step asks (text_parser(4, 300))


@dataclass
class Decision:
    """What the reviewer is told (`text`; `done` False: nothing was changed) and the notices to others."""

    text: str
    done: bool
    notices: list[Reply] = field(default_factory=list)
    why: str = ""  # when not done: "not_found", "decided" (already approved or returned) or "reason"


def may_review(user: User, inspection: Inspection | None) -> bool:
    """Only a township official, only reports from their own township."""
    return (
        inspection is not None
        and user.role == Role.TOWNSHIP
        and user.area_id is not None
        and inspection.township_id == user.area_id
    )


async def decide(
    session: AsyncSession,
    texts: Texts,
    reviewer: User,
    inspection: Inspection | None,
    approve: bool,
    reason: str,
    now: datetime,
) -> Decision:
    """Approve or return `inspection` as `reviewer`. Refuses (changing nothing) a report outside the reviewer's
    township, one already decided, or a return without a reason of 4-300 characters."""
    if inspection is None or not may_review(reviewer, inspection):
        return Decision(texts("review_not_found"), False, why="not_found")
    number = report_number(inspection)
    if inspection.status != InspectionStatus.SUBMITTED:
        return Decision(texts("review_already_done", number=number), False, why="decided")
    reason = reason.strip()
    if not approve and not REASON_MIN <= len(reason) <= REASON_MAX:
        return Decision(texts("web_review_reason_length", min=REASON_MIN, max=REASON_MAX), False, why="reason")
    unit = await units.get_unit(session, inspection.unit_id)
    assert unit is not None
    cadre = await get_user(session, inspection.inspector_id)
    if approve:
        inspections.approve(inspection, reviewer, now)
        notices = (
            []
            if cadre is None
            else [Reply(texts("review_approved_notice", number=number, unit=unit.name), chat_id=cadre.channel_user_id)]
        )
        return Decision(texts("review_approved", number=number), True, notices)
    await inspections.send_back(session, inspection, reviewer, reason, now)
    notices = []
    if cadre is not None:
        fix = Choice(buttons.menu_data("fix", inspection.id), texts("review_fix_now"))
        notices.append(
            Reply(
                texts("review_returned_notice", number=number, unit=unit.name, reason=reason),
                (fix,),
                chat_id=cadre.channel_user_id,
            )
        )
    return Decision(texts("review_returned", number=number), True, notices)
