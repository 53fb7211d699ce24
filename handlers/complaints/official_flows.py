"""Two small official flows: change a complaint's status with a note, and re-route it (place or category).

Both re-check at the end that the complaint is unchanged since the flow started and that this official may
still act on it; otherwise nothing is saved and the official is told why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.complaints import deadlines, notify, render
from handlers.complaints.filing import townships
from handlers.complaints.handling import may_handle, may_view
from handlers.complaints.shipped import CONFIG
from handlers.context import Turn
from handlers.events import Inbound, Reply
from handlers.flow import Flow, Invalid, Option, Prompt, Step, Unfit, text_parser
from handlers.flow_state import FlowState
from handlers.texts import Texts
from storage import complaints
from storage.areas import children_of, get_area
from storage.clock import Clock
from storage.complaint_models import Complaint, ComplaintStatus
from storage.complaints import Route
from storage.models import User

NOTE_MIN, NOTE_MAX = 2, 500
# Officials move a complaint forward or finish it; 已提交 is only where filing and re-routing put it.
SETTABLE = tuple(status for status in ComplaintStatus if status != ComplaintStatus.SUBMITTED)
UNSURE = "none"  # the village option of a complainant who does not know it


class OfficialAnswers(FlowState):
    """What both flows start from: the complaint, and its status then (it must be unchanged at the end)."""

    cid: int
    from_status: ComplaintStatus  # stored as "from" before the answers were typed
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _old_shape(cls, stored: Any) -> Any:
        if isinstance(stored, dict) and "from" in stored and "from_status" not in stored:
            stored = {**stored, "from_status": stored["from"]}
        return stored


class UpdateAnswers(OfficialAnswers):
    status: ComplaintStatus | None = None
    original: int | None = None  # the complaint this one duplicates


class RerouteAnswers(OfficialAnswers):
    what: str = ""  # "area" or "category"
    township: int | None = None
    village: int | None = None  # None: the complainant's village is not known
    category: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _unsure_village(cls, stored: Any) -> Any:
        if isinstance(stored, dict) and stored.get("village") == UNSURE:
            stored = {**stored, "village": None}
        return stored


async def _complaint(turn: Turn, answers: OfficialAnswers) -> Complaint:
    complaint = await complaints.get_complaint(turn.session, answers.cid)
    assert complaint is not None
    return complaint


async def _still_mine(turn: Turn, answers: OfficialAnswers) -> tuple[Complaint | None, list[Reply]]:
    complaint = await complaints.get_complaint(turn.session, answers.cid)
    if complaint is None:
        return None, [turn.menu_reply(turn.texts("complaint_no_such"))]
    if not may_handle(turn.user, complaint):
        office = await render.area_name(turn.session, turn.texts, complaint.office_area_id)
        return None, [turn.menu_reply(turn.texts("complaint_not_yours", office=office))]
    if complaint.status != answers.from_status:
        status = render.status_label(turn.texts, complaint.status)
        return None, [turn.menu_reply(turn.texts("complaint_changed_meanwhile", status=status))]
    return complaint, []


# --- status -------------------------------------------------------------------------------------------------


async def _status_prompt(turn: Turn, answers: UpdateAnswers) -> Prompt:
    complaint = await _complaint(turn, answers)
    options = tuple(Option(s.value, render.status_label(turn.texts, s)) for s in SETTABLE if s != complaint.status)
    text = turn.texts(
        "complaint_ask_status", number=complaint.number, status=render.status_label(turn.texts, complaint.status)
    )
    return Prompt(text, options, columns=2)


def _after_status(answers: UpdateAnswers) -> str:
    return "original" if answers.status == ComplaintStatus.DUPLICATE else "note"


async def _original_prompt(turn: Turn, answers: UpdateAnswers) -> Prompt:
    return Prompt(turn.texts("complaint_ask_original"))


async def _parse_original(turn: Turn, inbound: Inbound, prompt: Prompt, answers: UpdateAnswers) -> int:
    found = await complaints.find_by_number(turn.session, inbound.text) if inbound.text else None
    if found is None or not may_view(turn.user, found):
        raise Invalid(turn.texts("complaint_original_invalid"))
    return found.id


def _store_original(answers: UpdateAnswers, value: int) -> None:
    if value == answers.cid:
        raise Unfit("complaint_original_invalid")  # a complaint duplicates another one, never itself
    answers.original = value


async def _note_prompt(turn: Turn, answers: UpdateAnswers) -> Prompt:
    notes: dict[ComplaintStatus | None, str] = {
        ComplaintStatus.NOT_RESPONSIBLE: "complaint_ask_note_not_responsible",
        ComplaintStatus.CLOSED: "complaint_ask_note_closed",
    }
    key = notes.get(answers.status, "complaint_ask_note")
    return Prompt(turn.texts(key, min=NOTE_MIN, max=NOTE_MAX))


async def _merge_into(session: AsyncSession, complaint: Complaint, original: Complaint, now: datetime) -> None:
    """A duplicate's complainant and followers follow the original from now on."""
    people = [complaint.complainant_id, *(user.id for user in await complaints.followers(session, complaint.id))]
    for user_id in people:
        if user_id != original.complainant_id:
            await complaints.add_follower(session, original.id, user_id, now)


async def _finish_status(turn: Turn, answers: UpdateAnswers) -> list[Reply]:
    complaint, refusal = await _still_mine(turn, answers)
    if complaint is None:
        return refusal
    status, note = answers.status, answers.note
    assert status is not None
    original = None
    if status == ComplaintStatus.DUPLICATE:
        assert answers.original is not None
        original = await complaints.get_complaint(turn.session, answers.original)
        assert original is not None
    text, notices = await update_status(
        turn.session, turn.texts, turn.user, complaint, status, note, turn.clock.now(), original
    )
    turn.notices.extend(notices)
    return [turn.menu_reply(text)]


async def update_status(
    session: AsyncSession,
    texts: Texts,
    user: User,
    complaint: Complaint,
    status: ComplaintStatus,
    note: str,
    now: datetime,
    original: Complaint | None = None,
) -> tuple[str, list[Reply]]:
    """A new status with the official's note, and the notices it causes (the chat's flow and the web console). The
    caller has checked may_handle, the note's length and that the status is SETTABLE; `original` for 重复."""
    await complaints.change_status(
        session, complaint, status, user.id, note, now, duplicate_of_id=original.id if original else None
    )
    notices = await notify.progress(session, texts, complaint, note, exclude=user.id)
    if original is not None:
        await _merge_into(session, complaint, original, now)
        merged = texts("complaint_progress_duplicate", original=original.number)
        notices.extend(await notify.to_complainant_and_followers(session, complaint, merged, exclude=user.id))
    if status == ComplaintStatus.CLOSED:
        notices.extend(await notify.feedback_question(session, texts, complaint))
    return texts("complaint_updated", number=complaint.number, status=render.status_label(texts, status)), notices


COMPLAINT_UPDATE = Flow(
    "complaint_update",
    "更新投诉状态",
    (
        Step("status", _status_prompt, next=_after_status),
        Step("original", _original_prompt, _parse_original, store=_store_original, next="note"),
        Step("note", _note_prompt, text_parser(NOTE_MIN, NOTE_MAX), next=None),
    ),
    _finish_status,
    state=UpdateAnswers,
)


# --- re-route ---------------------------------------------------------------------------------------------------


async def _what_prompt(turn: Turn, answers: RerouteAnswers) -> Prompt:
    complaint = await _complaint(turn, answers)
    options = (
        Option("area", turn.texts("complaint_button_reroute_area")),
        Option("category", turn.texts("complaint_button_reroute_category")),
    )
    return Prompt(turn.texts("complaint_ask_reroute", number=complaint.number), options)


def _after_what(answers: RerouteAnswers) -> str:
    return "township" if answers.what == "area" else "category"


async def _township_prompt(turn: Turn, answers: RerouteAnswers) -> Prompt:
    options = tuple(Option(str(area.id), area.name) for area in await townships(turn))
    return Prompt(turn.texts("complaint_ask_reroute_township"), options, columns=3)


async def _village_prompt(turn: Turn, answers: RerouteAnswers) -> Prompt:
    assert answers.township is not None
    villages = await children_of(turn.session, answers.township)
    options = [Option(str(area.id), area.name) for area in villages]
    options.append(Option(UNSURE, turn.texts("complaint_button_village_unsure")))
    return Prompt(turn.texts("complaint_ask_village"), tuple(options), columns=3)


def _store_village(answers: RerouteAnswers, value: str) -> None:
    answers.village = None if value == UNSURE else int(value)


async def _category_prompt(turn: Turn, answers: RerouteAnswers) -> Prompt:
    complaint = await _complaint(turn, answers)
    options = tuple(Option(c.id, c.name) for c in CONFIG.categories if c.id != complaint.category)
    return Prompt(
        turn.texts("complaint_ask_reroute_category", category=CONFIG.name(complaint.category)), options, columns=2
    )


async def _reroute_note_prompt(turn: Turn, answers: RerouteAnswers) -> Prompt:
    return Prompt(turn.texts("complaint_ask_reroute_note", min=NOTE_MIN, max=NOTE_MAX))


async def new_route(
    session: AsyncSession,
    texts: Texts,
    clock: Clock,
    complaint: Complaint,
    township_id: int | None,
    village_id: int | None,
    category_id: str | None,
) -> tuple[Route, list[Reply]]:
    """Where the complaint goes: a new place (township_id given; village_id None when not known) and/or category,
    its office and time limit; with the notices counting the limit caused. The caller checked the place and the
    category against the lists the official may choose from."""
    if township_id is None:
        township_id, village_id = complaint.township_id, complaint.village_id
    category = CONFIG.category(category_id or complaint.category)
    assert category is not None
    township = await get_area(session, township_id)
    assert township is not None and township.parent_id is not None
    office = township.parent_id if category.office == "county" else township.id
    due_on = complaint.due_on
    notices: list[Reply] = []
    if office != complaint.office_area_id:
        # A new office gets the category's full handling time from today; the history keeps the delay.
        deadline, notices = await deadlines.count_at(
            session, texts, clock.now(), CONFIG.calendar, clock.now().date(), category.days
        )
        due_on = deadline.due
    elif category.id != complaint.category:
        filed = complaint.created_at.astimezone(clock.tz).date()
        deadline, notices = await deadlines.count_at(session, texts, clock.now(), CONFIG.calendar, filed, category.days)
        due_on = deadline.due
    return Route(township.id, village_id, office, category.id, due_on), notices


async def reroute_complaint(
    session: AsyncSession, texts: Texts, user: User, complaint: Complaint, route: Route, note: str, now: datetime
) -> tuple[str, list[Reply]] | None:
    """转办 (the chat's flow and the web console): the answer to the official and the notices to the new office, the
    complainant and followers; None when the route names the same place and category (nothing is changed). The
    caller has checked may_handle, that the complaint is open and unchanged, and the note's length."""
    unchanged = (route.township_id, route.village_id, route.category) == (
        complaint.township_id,
        complaint.village_id,
        complaint.category,
    )
    if unchanged:
        return None
    old_office = await render.area_name(session, texts, complaint.office_area_id)
    moved = route.office_area_id != complaint.office_area_id
    status = ComplaintStatus.SUBMITTED if moved else ComplaintStatus(complaint.status)
    event = await complaints.reroute(session, complaint, route, status, user.id, note, now)
    change = await render.change_text(session, texts, CONFIG, event)
    new_office = await render.area_name(session, texts, complaint.office_area_id)
    notices: list[Reply] = []
    if moved:
        text = texts("complaint_rerouted_notice", number=complaint.number, old=old_office, note=note)
        new = await notify.new_complaint(session, texts, CONFIG, complaint, actor_id=user.id)
        notices.extend(
            Reply(f"{text}\n\n{reply.text}", reply.choices, reply.columns, chat_id=reply.chat_id) for reply in new
        )
    own = texts("complaint_progress_rerouted", number=complaint.number, office=new_office, note=note)
    public = texts("complaint_progress_rerouted_public", number=complaint.number, office=new_office)
    notices.extend(await notify.to_complainant_and_followers(session, complaint, own, public, exclude=user.id))
    notified = texts("complaint_rerouted_notified") if moved else ""
    return texts("complaint_rerouted", number=complaint.number, change=change, notified=notified), notices


async def _finish_reroute(turn: Turn, answers: RerouteAnswers) -> list[Reply]:
    complaint, refusal = await _still_mine(turn, answers)
    if complaint is None:
        return refusal
    route, notices = await new_route(
        turn.session, turn.texts, turn.clock, complaint, answers.township, answers.village, answers.category
    )
    turn.notices.extend(notices)
    done = await reroute_complaint(
        turn.session, turn.texts, turn.user, complaint, route, answers.note, turn.clock.now()
    )
    if done is None:
        return [turn.menu_reply(turn.texts("complaint_reroute_same"))]
    text, notices = done
    turn.notices.extend(notices)
    return [turn.menu_reply(text)]


COMPLAINT_REROUTE = Flow(
    "complaint_reroute",
    "转办投诉",
    (
        Step("what", _what_prompt, next=_after_what),
        Step("township", _township_prompt, next="village"),
        Step("village", _village_prompt, store=_store_village, next="note"),
        Step("category", _category_prompt, next="note"),
        Step("note", _reroute_note_prompt, text_parser(NOTE_MIN, NOTE_MAX), next=None),
    ),
    _finish_reroute,
    state=RerouteAnswers,
)
