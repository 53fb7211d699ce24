"""Filing a complaint (any user): category → where → which unit → description → photos → identity → confirm.

Every answer is saved with the conversation, so a photo is acknowledged only once it is stored, and a restart
resumes the same step. The submit key is made when the conversation starts: a double tap or a redelivered
update can never file twice.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from handlers.complaints import deadlines, notify
from handlers.complaints.categories import ComplaintConfig, default_config
from handlers.complaints.filing_answers import FilingAnswers, Similar
from handlers.complaints.render import area_name, status_label
from handlers.context import Turn
from handlers.events import Inbound, Kind, Reply
from handlers.flow import SKIP, Flow, Invalid, Option, Prompt, Step, parse_option, pressed_or_typed, text_parser
from handlers.formatting import cn_date
from handlers.registration import NAME_MAX, NAME_MIN, parse_name
from storage import complaints
from storage.areas import children_of, get_area
from storage.audience import list_townships
from storage.complaint_models import Complaint
from storage.models import Area
from storage.units import search_units

CONFIG: ComplaintConfig = default_config()  # read at import: broken data stops start-up, naming file and entry
DESC_MIN, DESC_MAX = 5, 1000
UNIT_MIN, UNIT_MAX = 2, 50
MAX_PHOTOS = 6
SKIP_WORDS = ("跳过", "不清楚", "不知道")
DUPLICATE_STOP = "stop"
PHONE = re.compile(r"^1[3-9]\d{9}$")


async def start(turn: Turn) -> list[Reply]:
    # Made once per filing conversation and saved with it: a repeated confirm finds the key already used.
    key = f"{turn.user.id}-{secrets.token_hex(8)}"
    return await turn.runner.start(turn, "complaint", FilingAnswers(key=key))


# --- category ---------------------------------------------------------------------------------------------------


async def _category_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    options = tuple(Option(c.id, c.name) for c in CONFIG.categories)
    return Prompt(turn.texts("complaint_ask_category"), options, columns=2)


# --- where --------------------------------------------------------------------------------------------------------


async def townships(turn: Turn) -> list[Area]:
    # Only the townships: reading every area (every village too) for each prompt cost more than the rest of the step.
    return await list_townships(turn.session)


async def _where_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    options = [Option(str(area.id), area.name) for area in await townships(turn)]
    if answers.located:
        return Prompt(turn.texts("complaint_ask_township_after_location"), tuple(options), columns=3)
    options.append(Option("loc", turn.texts("complaint_button_location")))
    return Prompt(turn.texts("complaint_ask_where"), tuple(options), columns=3)


def _located(turn: Turn, inbound: Inbound) -> tuple[float, float]:
    assert inbound.location is not None
    latitude, longitude = inbound.location
    if not CONFIG.bounds.contains(latitude, longitude):
        raise Invalid(turn.texts("complaint_location_outside", county=CONFIG.county))
    return round(latitude, 6), round(longitude, 6)


async def _parse_where(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers
) -> tuple[float, float] | str:
    if inbound.kind is Kind.LOCATION and inbound.location is not None:
        return _located(turn, inbound)  # a location sent without pressing the button counts too
    return await parse_option(turn, inbound, prompt)


def _store_where(answers: FilingAnswers, value: tuple[float, float] | str) -> None:
    if isinstance(value, tuple):
        (answers.lat, answers.lon), answers.where = value, "located"
    elif value == "loc":
        answers.where = "loc"
    else:
        answers.township, answers.where = int(value), "township"


def _after_where(answers: FilingAnswers) -> str:
    return {"loc": "location", "located": "where"}.get(answers.where, "village")


async def _location_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    return Prompt(turn.texts("complaint_ask_location"), request="location")


async def _parse_location(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers
) -> tuple[float, float] | None:
    if inbound.kind is Kind.LOCATION and inbound.location is not None:
        return _located(turn, inbound)
    if inbound.kind is Kind.TEXT and inbound.text.strip() in SKIP_WORDS:
        return None
    raise Invalid(turn.texts("complaint_location_expected"))


def _store_location(answers: FilingAnswers, value: tuple[float, float] | None) -> None:
    if value is not None:
        answers.lat, answers.lon = value


async def _village_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    assert answers.township is not None
    villages = await children_of(turn.session, answers.township)
    options = [Option(str(area.id), area.name) for area in villages]
    options.append(Option("none", turn.texts("complaint_button_village_unsure")))
    return Prompt(turn.texts("complaint_ask_village"), tuple(options), columns=3)


def _store_village(answers: FilingAnswers, value: str) -> None:
    answers.village = None if value == "none" else int(value)


# --- unit -------------------------------------------------------------------------------------------------------


async def _unit_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    return Prompt(turn.texts("complaint_ask_unit"), (Option(SKIP, turn.texts("complaint_button_unit_skip")),))


async def _duplicate(turn: Turn, answers: FilingAnswers, unit_id: int | None, unit_name: str | None) -> Similar | None:
    """Whether an open complaint of this category is about the same unit (only the resident's own is named)."""
    found = await complaints.open_duplicate(
        turn.session, answers.category, unit_id=unit_id, village_id=answers.village, unit_name=unit_name
    )
    if found is None:
        return None
    return Similar(own=True, id=found.id) if found.complainant_id == turn.user.id else Similar(own=False)


async def _parse_unit(turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers) -> dict[str, Any]:
    """The unit's name as typed (None: skipped), the registered units it may mean, and a similar complaint."""
    skipped: dict[str, Any] = {"unit_query": None, "unit_matches": [], "dup": None}
    if await pressed_or_typed(turn, inbound, prompt) == SKIP:  # only the skip button is valid here
        return skipped
    if inbound.kind is not Kind.TEXT:
        raise Invalid(turn.texts("expect_text"))
    name = " ".join(inbound.text.split())
    if name in SKIP_WORDS:
        return skipped
    if not UNIT_MIN <= len(name) <= UNIT_MAX:
        raise Invalid(turn.texts("complaint_unit_name_length", min=UNIT_MIN, max=UNIT_MAX))
    area_id = answers.village if answers.village is not None else answers.township
    assert area_id is not None
    found = await search_units(turn.session, name, await get_area(turn.session, area_id), limit=8)
    category = CONFIG.category(answers.category)
    fitting = [(unit, score) for unit, score in found if category is None or category.applies_to(unit.industry)]
    matches = [(unit.id, unit.name) for unit, _ in (fitting or found)[:5]]
    dup = None if matches else await _duplicate(turn, answers, None, name)
    return {"unit_query": name, "unit_matches": matches, "dup": dup}


def _store_unit(answers: FilingAnswers, value: dict[str, Any]) -> None:
    answers.unit_query, answers.unit_matches, answers.dup = value["unit_query"], value["unit_matches"], value["dup"]
    answers.unit_id, answers.unit_name = None, value["unit_query"]


def _after_unit(answers: FilingAnswers) -> str:
    if answers.unit_matches:
        return "unit_pick"
    return "duplicate" if answers.dup else "description"


async def _unit_pick_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    options = [Option(f"u{unit_id}", name) for unit_id, name in answers.unit_matches]
    options.append(Option("typed", turn.texts("complaint_button_unit_typed", name=answers.unit_query)))
    return Prompt(turn.texts("complaint_ask_unit_pick"), tuple(options))


async def _parse_unit_pick(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers
) -> tuple[int | None, str | None, Similar | None]:
    """The unit meant (None: the name as typed, not a registered one), its name, and a similar complaint."""
    choice = await parse_option(turn, inbound, prompt)
    if choice == "typed":
        return None, answers.unit_query, await _duplicate(turn, answers, None, answers.unit_query)
    unit_id = int(choice[1:])
    name = next(name for known_id, name in answers.unit_matches if known_id == unit_id)
    return unit_id, name, await _duplicate(turn, answers, unit_id, None)


def _store_pick(answers: FilingAnswers, value: tuple[int | None, str | None, Similar | None]) -> None:
    answers.unit_id, answers.unit_name, answers.dup = value


def _after_pick(answers: FilingAnswers) -> str:
    return "duplicate" if answers.dup else "description"


async def _own_duplicate(turn: Turn, answers: FilingAnswers) -> Complaint | None:
    dup = answers.dup
    found = await complaints.get_complaint(turn.session, dup.id) if dup is not None and dup.id else None
    return found if found is not None and found.complainant_id == turn.user.id else None


async def _duplicate_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    own = await _own_duplicate(turn, answers)
    if own is not None:
        text = turn.texts("complaint_duplicate_own", number=own.number, status=status_label(turn.texts, own.status))
    else:
        text = turn.texts("complaint_duplicate_offer")
    options = (
        Option(DUPLICATE_STOP, turn.texts("complaint_button_not_again")),
        Option("new", turn.texts("complaint_button_file_new")),
    )
    return Prompt(text, options)


# --- description, photos ------------------------------------------------------------------------------------


async def _description_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    return Prompt(turn.texts("complaint_ask_description", min=DESC_MIN, max=DESC_MAX))


async def _photos_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    count = len(answers.photo_list)
    key = "complaint_photo_received" if count else "complaint_ask_photos"
    return Prompt(turn.texts(key, count=count, max=MAX_PHOTOS), (Option("done", turn.texts("complaint_button_done")),))


async def _parse_photo(turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers) -> dict[str, Any] | str:
    if inbound.kind is Kind.PHOTO and inbound.photo is not None:
        photo = inbound.photo
        return {"file_id": photo.file_id, "unique_id": photo.file_unique_id or None, "size": photo.size}
    if inbound.kind is Kind.TEXT and inbound.text.strip() in ("完成", "没有"):
        return "done"
    if inbound.kind in (Kind.PRESS, Kind.TEXT):
        try:
            return await parse_option(turn, inbound, prompt)
        except Invalid:
            raise Invalid(turn.texts("complaint_photo_expected")) from None
    raise Invalid(turn.texts("complaint_photo_expected"))


def _store_photo(answers: FilingAnswers, value: dict[str, Any] | str) -> None:
    if isinstance(value, dict):
        answers.photo_list = [*answers.photo_list, value]
        answers.photos_done = len(answers.photo_list) >= MAX_PHOTOS
    else:
        answers.photos_done = True


# --- identity -------------------------------------------------------------------------------------------------


async def _identity_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    lead = ""
    if len(answers.photo_list) >= MAX_PHOTOS:
        lead = turn.texts("complaint_photos_full", count=len(answers.photo_list), max=MAX_PHOTOS) + "\n\n"
    options = (
        Option("real", turn.texts("complaint_button_real")),
        Option("anon", turn.texts("complaint_button_anonymous")),
    )
    return Prompt(lead + turn.texts("complaint_ask_identity"), options, columns=2)


async def _parse_identity(
    turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers
) -> tuple[str, str | None, str | None]:
    """The choice, with the name and phone the resident's profile already has (asked only when missing)."""
    return await parse_option(turn, inbound, prompt), turn.user.name, turn.user.phone


def _store_identity(answers: FilingAnswers, value: tuple[str, str | None, str | None]) -> None:
    identity, known_name, known_phone = value
    answers.identity = identity
    if identity == "anon" and answers.lat is not None and answers.lon is not None:
        # about 100 m from here on, in the draft as in the complaint
        answers.lat, answers.lon = complaints.anonymous_location(answers.lat, answers.lon)
    if identity == "real":
        answers.name, answers.phone = answers.name or known_name, answers.phone or known_phone


def _after_identity(answers: FilingAnswers) -> str:
    if answers.identity == "real":
        if not answers.name:
            return "name"
        if not answers.phone:
            return "phone"
    return "confirm"


async def _name_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    return Prompt(turn.texts("complaint_ask_name", min=NAME_MIN, max=NAME_MAX))


async def _phone_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    return Prompt(turn.texts("complaint_ask_phone"), request="contact")


async def _parse_phone(turn: Turn, inbound: Inbound, prompt: Prompt, answers: FilingAnswers) -> str:
    raw = inbound.phone if inbound.kind is Kind.CONTACT else inbound.text if inbound.kind is Kind.TEXT else ""
    digits = re.sub(r"[\s\-()（）]", "", raw or "")
    digits = re.sub(r"^(\+?86)", "", digits)
    if not PHONE.match(digits):
        raise Invalid(turn.texts("complaint_phone_invalid"))
    return digits


# --- confirm and submit ---------------------------------------------------------------------------------------


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


async def _confirm_prompt(turn: Turn, answers: FilingAnswers) -> Prompt:
    options = (
        Option("submit", turn.texts("complaint_button_submit")),
        Option("cancel", turn.texts("complaint_button_cancel")),
    )
    return Prompt(turn.texts("complaint_confirm", summary=await summary(turn, answers)), options, columns=2)


async def _not_again(turn: Turn, answers: FilingAnswers) -> list[Reply]:
    own = await _own_duplicate(turn, answers)
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


async def _finish(turn: Turn, answers: FilingAnswers) -> list[Reply]:
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


COMPLAINT = Flow(
    "complaint",
    "投诉举报",
    (
        Step("category", _category_prompt, next="where"),
        Step("where", _where_prompt, _parse_where, next=_after_where, store=_store_where),
        Step("location", _location_prompt, _parse_location, next="where", store=_store_location),
        Step("village", _village_prompt, next="unit", store=_store_village),
        Step("unit", _unit_prompt, _parse_unit, next=_after_unit, store=_store_unit),
        Step("unit_pick", _unit_pick_prompt, _parse_unit_pick, next=_after_pick, store=_store_pick),
        Step(
            "duplicate", _duplicate_prompt, next=lambda answers: "description" if answers.duplicate == "new" else None
        ),
        Step("description", _description_prompt, text_parser(DESC_MIN, DESC_MAX), next="photos"),
        Step(
            "photos",
            _photos_prompt,
            _parse_photo,
            next=lambda answers: "identity" if answers.photos_done else "photos",
            store=_store_photo,
        ),
        Step("identity", _identity_prompt, _parse_identity, next=_after_identity, store=_store_identity),
        Step("name", _name_prompt, parse_name, next=lambda answers: "confirm" if answers.phone else "phone"),
        Step("phone", _phone_prompt, _parse_phone, next="confirm"),
        Step("confirm", _confirm_prompt, next=None),
    ),
    _finish,
    precious=True,
    state=FilingAnswers,
)
