"""What officials do with complaints: their queue, the detail view, accepting; status and re-route flows start here.

Action buttons carry the complaint id (m.complaint_accept:12). The role check is the menu's (menus.yaml); here
every action also checks that this official's office handles the complaint and that the change is still valid,
so a forged or stale button changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import buttons
from handlers.complaints import notify, render
from handlers.complaints.privacy import audience_of
from handlers.complaints.shipped import CONFIG
from handlers.context import Turn
from handlers.events import Choice, Reply
from handlers.formatting import cn_date
from handlers.texts import Texts
from storage import complaints
from storage.complaint_models import FINAL_STATUSES, OPEN_STATUSES, Complaint, ComplaintStatus
from storage.models import Role, User

QUEUE_SHOWN = 15


def may_handle(user: User, complaint: Complaint) -> bool:
    """The county office may act on any complaint; a township official on those their township handles."""
    if user.role == Role.COUNTY:
        return True
    return user.role == Role.TOWNSHIP and user.area_id == complaint.office_area_id


def may_view(user: User, complaint: Complaint) -> bool:
    if may_handle(user, complaint):
        return True
    return user.role == Role.TOWNSHIP and user.area_id == complaint.township_id


async def load_for_official(turn: Turn, *, handle: bool) -> tuple[Complaint | None, list[Reply]]:
    """The complaint named by the button or command, or the Chinese refusal (nothing is changed)."""
    complaint_id = turn.argument_id
    complaint = await complaints.get_complaint(turn.session, complaint_id) if complaint_id else None
    if complaint is None:
        return None, [turn.menu_reply(turn.texts("complaint_no_such"))]
    if not may_view(turn.user, complaint):
        # Read exactly like a number never issued: whether it exists, and who handles it, is not theirs to know.
        return None, [turn.menu_reply(turn.texts("complaint_no_such"))]
    if handle and not may_handle(turn.user, complaint):
        office = await render.area_name(turn.session, turn.texts, complaint.office_area_id)
        return None, [turn.menu_reply(turn.texts("complaint_not_yours", office=office))]
    return complaint, []


async def official_view(turn: Turn, complaint: Complaint, lead: str | None = None) -> list[Reply]:
    today = turn.clock.now().date()
    audience = audience_of(turn.user, complaint)
    text = "\n\n".join(
        [
            await render.detail(turn.session, turn.texts, CONFIG, turn.clock.tz, complaint, audience, today),
            await render.history(turn.session, turn.texts, CONFIG, turn.clock.tz, complaint, audience),
        ]
    )
    if lead:
        text = f"{lead}\n\n{text}"
    choices: list[Choice] = []
    if may_handle(turn.user, complaint) and complaint.status in OPEN_STATUSES:
        if complaint.status == ComplaintStatus.SUBMITTED:
            choices.append(
                Choice(notify.action_data("complaint_accept", complaint.id), turn.texts("complaint_button_accept"))
            )
        choices.append(
            Choice(notify.action_data("complaint_update", complaint.id), turn.texts("complaint_button_update"))
        )
        choices.append(
            Choice(notify.action_data("complaint_reroute", complaint.id), turn.texts("complaint_button_reroute"))
        )
    choices.append(Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu")))
    photos = await complaints.photos_of(turn.session, complaint.id)
    replies = [
        Reply(
            turn.texts("complaint_photo_caption", number=complaint.number, index=index, total=len(photos)),
            photo=photo.file_id,
        )
        for index, photo in enumerate(photos, start=1)
    ]
    return [*replies, Reply(render.fit(text), tuple(choices), columns=2)]


async def queue(turn: Turn) -> list[Reply]:
    """待办投诉: every open complaint in the official's scope (the county: all; a township: those it handles or that
    are about its places), the earliest last day first; escalated and overdue ones are flagged."""
    if turn.user.role == Role.COUNTY:
        township_id = None
    elif turn.user.area_id is not None:
        township_id = turn.user.area_id
    else:
        return [turn.menu_reply(turn.texts("complaint_queue_empty"))]
    today = turn.clock.now().date()
    items, counts = await complaints.open_in_scope(turn.session, township_id, today, QUEUE_SHOWN)
    if not items:
        return [turn.menu_reply(turn.texts("complaint_queue_empty"))]
    lines = [
        turn.texts("complaint_queue_header", count=counts.total, overdue=counts.overdue, escalated=counts.escalated)
    ]
    choices: list[Choice] = []
    for item in items:
        marks = turn.texts("complaint_overdue_mark") if render.is_overdue(item, today) else ""
        if item.escalated_at is not None:
            marks += turn.texts("complaint_escalated_mark")
        if township_id is not None and item.office_area_id != township_id:
            marks += turn.texts(
                "complaint_other_office_mark",
                office=await render.area_name(turn.session, turn.texts, item.office_area_id),
            )
        lines.append(
            f"· {item.number} · {CONFIG.name(item.category)} · {render.status_label(turn.texts, item.status)}"
            f" · {await render.place(turn.session, item)} · 期限{render.short_date(item.due_on)}{marks}"
        )
        choices.append(
            Choice(
                notify.action_data("complaint_view", item.id),
                turn.texts("complaint_list_button", number=item.number, category=CONFIG.name(item.category)),
            )
        )
    if counts.total > len(items):
        lines.append(turn.texts("complaint_queue_more", count=counts.total - len(items)))
    choices.append(Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu")))
    return [Reply(render.fit("\n".join(lines)), tuple(choices))]


async def view(turn: Turn) -> list[Reply]:
    complaint, refusal = await load_for_official(turn, handle=False)
    if complaint is None:
        return refusal
    return await official_view(turn, complaint)


async def accept(turn: Turn) -> list[Reply]:
    complaint, refusal = await load_for_official(turn, handle=True)
    if complaint is None:
        return refusal
    text, notices = await accept_complaint(turn.session, turn.texts, turn.user, complaint, turn.clock.now())
    turn.notices.extend(notices)
    return [turn.menu_reply(text)]


async def accept_complaint(
    session: AsyncSession, texts: Texts, user: User, complaint: Complaint, now: datetime
) -> tuple[str, list[Reply]]:
    """受理: the answer to the official and the notices to others (the chat's button and the web console's form).
    The caller has checked may_handle; a complaint no longer 待受理 is left as it is, with the reason."""
    if complaint.status != ComplaintStatus.SUBMITTED:
        key = "complaint_already_final" if complaint.status in FINAL_STATUSES else "complaint_already_accepted"
        return texts(key, status=render.status_label(texts, complaint.status)), []
    office = await render.area_name(session, texts, complaint.office_area_id)
    note = texts("complaint_accept_note", office=office)
    await complaints.change_status(session, complaint, ComplaintStatus.ACCEPTED, user.id, note, now)
    notices = await notify.progress(session, texts, complaint, note, exclude=user.id)
    return texts("complaint_accepted", number=complaint.number, due=cn_date(complaint.due_on)), notices


async def _start_official_flow(turn: Turn, flow: str) -> list[Reply]:
    complaint, refusal = await load_for_official(turn, handle=True)
    if complaint is None:
        return refusal
    if complaint.status in FINAL_STATUSES:
        return [
            turn.menu_reply(
                turn.texts("complaint_already_final", status=render.status_label(turn.texts, complaint.status))
            )
        ]
    # official_flows.OfficialAnswers, as stored (that module imports this one)
    return await turn.runner.start(turn, flow, {"cid": complaint.id, "from_status": complaint.status})


async def update(turn: Turn) -> list[Reply]:
    return await _start_official_flow(turn, "complaint_update")


async def reroute(turn: Turn) -> list[Reply]:
    return await _start_official_flow(turn, "complaint_reroute")
