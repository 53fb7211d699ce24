"""没有解决: the complainant says what is still wrong, and the office gets that text with a new time limit.

Pressing 没有解决 after 已办结 starts this one-step flow; the complaint reopens only when the complainant has said
what is still wrong, and its time limit is counted afresh from that moment. Everyone else who follows the
complaint learns only that it was reopened (its public status), never the complainant's words.
"""

from __future__ import annotations

from handlers.complaints import deadlines, notify, render
from handlers.complaints.shipped import CONFIG
from handlers.context import Turn
from handlers.events import Inbound, Reply
from handlers.flow import Flow, Option, Prompt, Step, pressed_or_typed, text_parser
from handlers.flow_state import FlowState
from handlers.formatting import cn_date
from storage import complaints
from storage.complaint_models import Complaint, ComplaintStatus

WHAT_MIN, WHAT_MAX = 5, 500
KEEP_CLOSED = "keep"
DEFAULT_DAYS = 10  # a category removed from the data since filing


def refusal(turn: Turn, complaint: Complaint | None) -> list[Reply] | None:
    """Why this person cannot reopen it now, or None when they can (the complainant, after 已办结, unanswered)."""
    if complaint is None:
        return [turn.menu_reply(turn.texts("complaint_no_such"))]
    if complaint.complainant_id != turn.user.id:
        return [turn.menu_reply(turn.texts("complaint_feedback_not_yours"))]
    if complaint.status != ComplaintStatus.CLOSED or complaint.feedback is not None:
        status = render.status_label(turn.texts, complaint.status)
        return [turn.menu_reply(turn.texts("complaint_feedback_not_asked", number=complaint.number, status=status))]
    return None


async def start(turn: Turn, complaint: Complaint) -> list[Reply]:
    return await turn.runner.start(turn, "complaint_reopen", ReopenAnswers(cid=complaint.id))


class ReopenAnswers(FlowState):
    cid: int
    what: str = ""  # what is still wrong, or KEEP_CLOSED


async def _what_prompt(turn: Turn, answers: ReopenAnswers) -> Prompt:
    complaint = await complaints.get_complaint(turn.session, answers.cid)
    number = complaint.number if complaint is not None else ""
    return Prompt(
        turn.texts("complaint_ask_still_wrong", number=number, min=WHAT_MIN, max=WHAT_MAX),
        (Option(KEEP_CLOSED, turn.texts("complaint_button_keep_closed")),),
    )


async def _parse_what(turn: Turn, inbound: Inbound, prompt: Prompt, answers: ReopenAnswers) -> str:
    if await pressed_or_typed(turn, inbound, prompt) == KEEP_CLOSED:
        return KEEP_CLOSED
    return await text_parser(WHAT_MIN, WHAT_MAX)(turn, inbound, prompt, answers)


async def _finish(turn: Turn, answers: ReopenAnswers) -> list[Reply]:
    complaint = await complaints.get_complaint(turn.session, answers.cid)
    refused = refusal(turn, complaint)
    if refused is not None:
        return refused
    assert complaint is not None
    what = answers.what
    if what == KEEP_CLOSED:
        return [turn.menu_reply(turn.texts("complaint_reopen_dropped", number=complaint.number))]
    now = turn.clock.now()
    category = CONFIG.category(complaint.category)
    deadline = await deadlines.count(turn, CONFIG.calendar, now.date(), category.days if category else DEFAULT_DAYS)
    await complaints.reopen(turn.session, complaint, turn.user.id, what, now, deadline.due)
    due = cn_date(deadline.due) + deadlines.fallback_note(turn.texts, deadline.fallback_years)
    notice = turn.texts("complaint_reopened_notice", number=complaint.number, due=due, what=what)
    turn.notices.extend(await notify.to_office(turn.session, complaint, notice, turn.texts))
    turn.notices.extend(
        await notify.progress(
            turn.session,
            turn.texts,
            complaint,
            turn.texts("complaint_event_reopened", when=cn_date(now)),
            exclude=turn.user.id,
        )
    )
    office = await render.area_name(turn.session, turn.texts, complaint.office_area_id)
    return [turn.menu_reply(turn.texts("complaint_feedback_reopened", number=complaint.number, office=office, due=due))]


COMPLAINT_REOPEN = Flow(
    "complaint_reopen",
    "反馈问题未解决",
    (Step("what", _what_prompt, _parse_what, next=None),),
    _finish,
    state=ReopenAnswers,
)
