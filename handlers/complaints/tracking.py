"""Following one's complaints: 我的投诉, /track NUMBER, and 问题解决了吗 after 已办结.

A complaint is shown to its complainant, its followers and the officials who may see it. To anyone else a
number is "not found", whether it exists or not, so numbers cannot be probed.
"""

from __future__ import annotations

from handlers import buttons
from handlers.complaints import handling, notify, render, reopen
from handlers.complaints.privacy import Audience, audience_of
from handlers.complaints.shipped import CONFIG
from handlers.context import Turn, parse_id
from handlers.events import Choice, Reply
from storage import complaints
from storage.complaint_models import Complaint, ComplaintStatus
from storage.models import Role

MINE_SHOWN = 10


async def mine(turn: Turn) -> list[Reply]:
    items = await complaints.complaints_of_user(turn.session, turn.user.id, limit=MINE_SHOWN)
    if not items:
        return [turn.menu_reply(turn.texts("complaint_mine_empty"))]
    lines = [turn.texts("complaint_mine_header", count=len(items))]
    choices: list[Choice] = []
    for item in items:
        role = "" if item.complainant_id == turn.user.id else turn.texts("complaint_mine_followed")
        lines.append(
            "· "
            + turn.texts(
                "complaint_mine_line",
                number=item.number,
                category=CONFIG.name(item.category),
                status=render.status_label(turn.texts, item.status),
                role=role,
            )
        )
        choices.append(
            Choice(
                notify.action_data("complaint_track", item.id),
                turn.texts("complaint_list_button", number=item.number, category=CONFIG.name(item.category)),
            )
        )
    lines.append(turn.texts("complaint_track_hint"))
    choices.append(Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu")))
    return [Reply("\n".join(lines), tuple(choices))]


async def _visible(turn: Turn, complaint: Complaint) -> bool:
    if complaint.complainant_id == turn.user.id or handling.may_view(turn.user, complaint):
        return True
    return await complaints.is_follower(turn.session, complaint.id, turn.user.id)


async def _find(turn: Turn, argument: str) -> Complaint | None:
    complaint_id = parse_id(argument)
    if complaint_id is not None:
        return await complaints.get_complaint(turn.session, complaint_id)
    return await complaints.find_by_number(turn.session, argument)


def _feedback_choices(turn: Turn, complaint: Complaint) -> tuple[Choice, ...]:
    return (
        Choice(notify.action_data("complaint_feedback", complaint.id, "yes"), turn.texts("complaint_button_solved")),
        Choice(notify.action_data("complaint_feedback", complaint.id, "no"), turn.texts("complaint_button_not_solved")),
    )


async def track(turn: Turn) -> list[Reply]:
    argument = turn.argument.strip()
    if not argument:
        return await mine(turn)
    complaint = await _find(turn, argument)
    if complaint is None or not await _visible(turn, complaint):
        return [turn.menu_reply(turn.texts("complaint_track_not_found", number=argument[:30]))]
    if turn.user.role in (Role.TOWNSHIP, Role.COUNTY) and handling.may_view(turn.user, complaint):
        return await handling.official_view(turn, complaint)
    audience = audience_of(turn.user, complaint)
    today = turn.clock.now().date()
    text = "\n\n".join(
        [
            await render.detail(turn.session, turn.texts, CONFIG, turn.clock.tz, complaint, audience, today),
            await render.history(turn.session, turn.texts, CONFIG, turn.clock.tz, complaint, audience),
        ]
    )
    choices: tuple[Choice, ...] = ()
    if audience is Audience.COMPLAINANT and complaint.status == ComplaintStatus.CLOSED and complaint.feedback is None:
        text = f"{text}\n\n{turn.texts('complaint_feedback_question', number=complaint.number)}"
        choices = _feedback_choices(turn, complaint)
    choices += (Choice(buttons.global_data("menu"), turn.texts("button_back_to_menu")),)
    return [Reply(render.fit(text), choices, columns=2)]


async def feedback(turn: Turn) -> list[Reply]:
    """解决了 / 没有解决, pressed by the complainant after 已办结; 没有 first asks what is still wrong (reopen.py)."""
    raw_id, _, answer = turn.argument.strip().partition(":")
    complaint_id = parse_id(raw_id)
    if complaint_id is None or answer not in ("yes", "no"):
        return [turn.menu_reply(turn.texts("button_invalid"))]
    complaint = await complaints.get_complaint(turn.session, complaint_id)
    refused = reopen.refusal(turn, complaint)
    if refused is not None:
        return refused
    assert complaint is not None
    if answer == "no":
        return await reopen.start(turn, complaint)
    await complaints.record_feedback(
        turn.session, complaint, turn.user.id, turn.texts("complaint_button_solved"), turn.clock.now()
    )
    return [turn.menu_reply(turn.texts("complaint_feedback_thanks", number=complaint.number))]
