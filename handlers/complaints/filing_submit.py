"""Filing a complaint, the end: the summary to confirm, and the complaint filed (once per submit key) with its
deadline and the office's notice."""

from __future__ import annotations

from handlers.complaints import deadlines, notify
from handlers.complaints.filing_answers import FilingAnswers
from handlers.complaints.filing_unit import DUPLICATE_STOP, own_duplicate
from handlers.complaints.render import area_name
from handlers.complaints.shipped import CONFIG
from handlers.context import Turn
from handlers.events import Reply
from handlers.flow import Option, Prompt
from handlers.formatting import cn_date
from storage import complaints
from storage.areas import get_area
from storage.complaint_models import Complaint


async def summary(turn: Turn, answers: FilingAnswers) -> str:
    assert answers.township is not None
    township = await get_area(turn.session, answers.township)
    village = await get_area(turn.session, answers.village) if answers.village else None
    place = "".join(area.name for area in (township, village) if area is not None)
    if answers.located:
        place = turn.texts("complaint_place_located", place=place)
    unit = answers.unit_name or turn.texts("complaint_unit_none")
    if answers.unit_id:
        unit = turn.texts("complaint_unit_registered", name=unit)
    identity = (
        turn.texts("complaint_identity_real", name=answers.name, phone=answers.phone)
        if answers.identity == "real"
        else turn.texts("complaint_identity_anonymous")
    )
    return turn.texts(
        "complaint_summary",
        category=CONFIG.name(answers.category),
        place=place,
        unit=unit,
        description=answers.description,
        photos=len(answers.photo_list),
        identity=identity,
    )


async def confirm_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    options = (
        Option("submit", turn.texts("complaint_button_submit")),
        Option("cancel", turn.texts("complaint_button_cancel")),
    )
    return Prompt(turn.texts("complaint_confirm", summary=await summary(turn, answers)), options, columns=2)


async def _not_again(turn: Turn, answers: FilingAnswers) -> list[Reply]:
    own = await own_duplicate(turn, answers)
    if own is not None:
        return [turn.menu_reply(turn.texts("complaint_duplicate_own_kept", number=own.number))]
    return [turn.menu_reply(turn.texts("complaint_duplicate_dropped"))]


async def _submit(turn: Turn, answers: FilingAnswers) -> Complaint:
    now = turn.clock.now()
    category = CONFIG.category(answers.category)
    assert category is not None and answers.township is not None
    township = await get_area(turn.session, answers.township)
    assert township is not None and township.parent_id is not None
    office = township.parent_id if category.office == "county" else township.id
    real = answers.identity == "real"
    deadline = await deadlines.count(turn, CONFIG.calendar, now.date(), category.days)
    new = complaints.NewComplaint(
        submit_key=answers.key,
        category=category.id,
        complainant_id=turn.user.id,
        anonymous=not real,
        township_id=township.id,
        office_area_id=office,
        description=answers.description,
        due_on=deadline.due,
        village_id=answers.village,
        complainant_name=answers.name if real else None,
        complainant_phone=answers.phone if real else None,
        unit_id=answers.unit_id,
        unit_name=answers.unit_name,
        location=(answers.lat, answers.lon) if answers.lat is not None and answers.lon is not None else None,
        photos=list(answers.photo_list),
    )
    complaint, created = await complaints.create_complaint(turn.session, new, now)
    if created:
        turn.notices.extend(
            await notify.new_complaint(turn.session, turn.texts, CONFIG, complaint, actor_id=turn.user.id)
        )
    return complaint


async def finish(turn: Turn, answers: FilingAnswers) -> list[Reply]:
    if answers.duplicate in (DUPLICATE_STOP, "follow"):  # "follow": a draft saved before it was removed
        return await _not_again(turn, answers)
    if answers.confirm != "submit":
        return [turn.menu_reply(turn.texts("cancelled", title=turn.texts("complaint_flow_title")))]
    complaint = await _submit(turn, answers)
    category = CONFIG.category(complaint.category)
    text = turn.texts(
        "complaint_filed",
        number=complaint.number,
        due=cn_date(complaint.due_on),
        days=category.days if category else "",
        note=deadlines.shown_note(turn.texts, CONFIG.calendar, complaint),
        office=await area_name(turn.session, turn.texts, complaint.office_area_id),
    )
    return [turn.menu_reply(text)]
