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
    return await turn.runner.start(turn, "complaint", {"key": key})


# --- category ---------------------------------------------------------------------------------------------------

async def _category_prompt(turn: Turn) -> Prompt:
    options = tuple(Option(c.id, c.name) for c in CONFIG.categories)
    return Prompt(turn.texts("complaint_ask_category"), options, columns=2)


# --- where --------------------------------------------------------------------------------------------------------

async def townships(turn: Turn) -> list[Area]:
    # Only the townships: reading every area (every village too) for each prompt cost more than the rest of the step.
    return await list_townships(turn.session)


async def _where_prompt(turn: Turn) -> Prompt:
    options = [Option(str(area.id), area.name) for area in await townships(turn)]
    if "lat" in turn.data:
        return Prompt(turn.texts("complaint_ask_township_after_location"), tuple(options), columns=3)
    options.append(Option("loc", turn.texts("complaint_button_location")))
    return Prompt(turn.texts("complaint_ask_where"), tuple(options), columns=3)


def _located(turn: Turn, inbound: Inbound) -> dict[str, float]:
    assert inbound.location is not None
    latitude, longitude = inbound.location
    if not CONFIG.bounds.contains(latitude, longitude):
        raise Invalid(turn.texts("complaint_location_outside", county=CONFIG.county))
    return {"lat": round(latitude, 6), "lon": round(longitude, 6)}


async def _parse_where(turn: Turn, inbound: Inbound, prompt: Prompt) -> Any:
    if inbound.kind is Kind.LOCATION and inbound.location is not None:
        return _located(turn, inbound)  # a location sent without pressing the button counts too
    return await parse_option(turn, inbound, prompt)


def _store_where(turn: Turn, value: Any) -> None:
    if isinstance(value, dict):
        turn.data.update(value)
        turn.data["where"] = "located"
    elif value == "loc":
        turn.data["where"] = "loc"
    else:
        turn.data.update(township=int(value), where="township")


def _after_where(turn: Turn) -> str:
    return {"loc": "location", "located": "where"}.get(turn.data["where"], "village")


async def _location_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("complaint_ask_location"), request="location")


async def _parse_location(turn: Turn, inbound: Inbound, prompt: Prompt) -> dict[str, float]:
    if inbound.kind is Kind.LOCATION and inbound.location is not None:
        return _located(turn, inbound)
    if inbound.kind is Kind.TEXT and inbound.text.strip() in SKIP_WORDS:
        return {}
    raise Invalid(turn.texts("complaint_location_expected"))


def _store_location(turn: Turn, value: dict[str, float]) -> None:
    turn.data.update(value)


async def _village_prompt(turn: Turn) -> Prompt:
    villages = await children_of(turn.session, int(turn.data["township"]))
    options = [Option(str(area.id), area.name) for area in villages]
    options.append(Option("none", turn.texts("complaint_button_village_unsure")))
    return Prompt(turn.texts("complaint_ask_village"), tuple(options), columns=3)


def _store_village(turn: Turn, value: str) -> None:
    turn.data["village"] = None if value == "none" else int(value)


# --- unit -------------------------------------------------------------------------------------------------------

async def _unit_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("complaint_ask_unit"), (Option(SKIP, turn.texts("complaint_button_unit_skip")),))


async def _duplicate(turn: Turn, unit_id: int | None, unit_name: str | None) -> dict[str, Any] | None:
    """Whether an open complaint of this category is about the same unit. Someone else's is only a fact ("a
    similar complaint exists"): its number, date and status are not theirs to know, nor is its id kept here."""
    found = await complaints.open_duplicate(turn.session, turn.data["category"], unit_id=unit_id,
                                            village_id=turn.data.get("village"), unit_name=unit_name)
    if found is None:
        return None
    return {"own": True, "id": found.id} if found.complainant_id == turn.user.id else {"own": False}


async def _parse_unit(turn: Turn, inbound: Inbound, prompt: Prompt) -> dict[str, Any]:
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
    village = turn.data.get("village")
    area = await get_area(turn.session, int(village if village is not None else turn.data["township"]))
    found = await search_units(turn.session, name, area, limit=8)
    category = CONFIG.category(turn.data["category"])
    fitting = [(unit, score) for unit, score in found if category is None or category.applies_to(unit.industry)]
    matches = [[unit.id, unit.name] for unit, _ in (fitting or found)[:5]]
    dup = None if matches else await _duplicate(turn, None, name)
    return {"unit_query": name, "unit_matches": matches, "dup": dup}


def _store_unit(turn: Turn, value: dict[str, Any]) -> None:
    turn.data.update(value)
    turn.data["unit_id"] = None
    turn.data["unit_name"] = value["unit_query"]


def _after_unit(turn: Turn) -> str:
    if turn.data.get("unit_matches"):
        return "unit_pick"
    return "duplicate" if turn.data.get("dup") else "description"


async def _unit_pick_prompt(turn: Turn) -> Prompt:
    options = [Option(f"u{unit_id}", name) for unit_id, name in turn.data["unit_matches"]]
    options.append(Option("typed", turn.texts("complaint_button_unit_typed", name=turn.data["unit_query"])))
    return Prompt(turn.texts("complaint_ask_unit_pick"), tuple(options))


async def _parse_unit_pick(turn: Turn, inbound: Inbound, prompt: Prompt) -> dict[str, Any]:
    choice = await parse_option(turn, inbound, prompt)
    if choice == "typed":
        return {"unit_id": None, "unit_name": turn.data["unit_query"],
                "dup": await _duplicate(turn, None, turn.data["unit_query"])}
    unit_id = int(choice[1:])
    name = next(name for known_id, name in turn.data["unit_matches"] if known_id == unit_id)
    return {"unit_id": unit_id, "unit_name": name, "dup": await _duplicate(turn, unit_id, None)}


def _store_pick(turn: Turn, value: dict[str, Any]) -> None:
    turn.data.update(value)


def _after_pick(turn: Turn) -> str:
    return "duplicate" if turn.data.get("dup") else "description"


async def _own_duplicate(turn: Turn) -> Complaint | None:
    dup = turn.data.get("dup") or {}
    found = await complaints.get_complaint(turn.session, int(dup["id"])) if dup.get("id") else None
    return found if found is not None and found.complainant_id == turn.user.id else None


async def _duplicate_prompt(turn: Turn) -> Prompt:
    own = await _own_duplicate(turn)
    if own is not None:
        text = turn.texts("complaint_duplicate_own", number=own.number,
                          status=status_label(turn.texts, own.status))
    else:
        text = turn.texts("complaint_duplicate_offer")
    options = (Option(DUPLICATE_STOP, turn.texts("complaint_button_not_again")),
               Option("new", turn.texts("complaint_button_file_new")))
    return Prompt(text, options)


def _after_duplicate(turn: Turn) -> str | None:
    return "description" if turn.data["duplicate"] == "new" else None


# --- description, photos ------------------------------------------------------------------------------------

async def _description_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("complaint_ask_description", min=DESC_MIN, max=DESC_MAX))


async def _photos_prompt(turn: Turn) -> Prompt:
    count = len(turn.data.get("photo_list", []))
    key = "complaint_photo_received" if count else "complaint_ask_photos"
    return Prompt(turn.texts(key, count=count, max=MAX_PHOTOS), (Option("done", turn.texts("complaint_button_done")),))


async def _parse_photo(turn: Turn, inbound: Inbound, prompt: Prompt) -> Any:
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


def _store_photo(turn: Turn, value: Any) -> None:
    if isinstance(value, dict):
        turn.data["photo_list"] = [*turn.data.get("photo_list", []), value]
        turn.data["photos_done"] = len(turn.data["photo_list"]) >= MAX_PHOTOS
    else:
        turn.data["photos_done"] = True


def _after_photo(turn: Turn) -> str:
    return "identity" if turn.data.get("photos_done") else "photos"


# --- identity -------------------------------------------------------------------------------------------------

async def _identity_prompt(turn: Turn) -> Prompt:
    lead = ""
    photos = turn.data.get("photo_list", [])
    if len(photos) >= MAX_PHOTOS:
        lead = turn.texts("complaint_photos_full", count=len(photos), max=MAX_PHOTOS) + "\n\n"
    options = (Option("real", turn.texts("complaint_button_real")),
               Option("anon", turn.texts("complaint_button_anonymous")))
    return Prompt(lead + turn.texts("complaint_ask_identity"), options, columns=2)


def _store_identity(turn: Turn, value: str) -> None:
    turn.data["identity"] = value
    if value == "anon" and "lat" in turn.data:  # about 100 m from here on, in the draft as in the complaint
        turn.data["lat"], turn.data["lon"] = complaints.anonymous_location(turn.data["lat"], turn.data["lon"])
    if value == "real":
        turn.data["name"] = turn.data.get("name") or turn.user.name
        turn.data["phone"] = turn.data.get("phone") or turn.user.phone


def _after_identity(turn: Turn) -> str:
    if turn.data["identity"] == "real":
        if not turn.data.get("name"):
            return "name"
        if not turn.data.get("phone"):
            return "phone"
    return "confirm"


async def _name_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("complaint_ask_name", min=NAME_MIN, max=NAME_MAX))


def _after_name(turn: Turn) -> str:
    return "confirm" if turn.data.get("phone") else "phone"


async def _phone_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.texts("complaint_ask_phone"), request="contact")


async def _parse_phone(turn: Turn, inbound: Inbound, prompt: Prompt) -> str:
    raw = inbound.phone if inbound.kind is Kind.CONTACT else inbound.text if inbound.kind is Kind.TEXT else ""
    digits = re.sub(r"[\s\-()（）]", "", raw or "")
    digits = re.sub(r"^(\+?86)", "", digits)
    if not PHONE.match(digits):
        raise Invalid(turn.texts("complaint_phone_invalid"))
    return digits


# --- confirm and submit ---------------------------------------------------------------------------------------

async def summary(turn: Turn) -> str:
    data = turn.data
    township = await get_area(turn.session, int(data["township"]))
    village = await get_area(turn.session, int(data["village"])) if data.get("village") else None
    place = "".join(area.name for area in (township, village) if area is not None)
    if "lat" in data:
        place = turn.texts("complaint_place_located", place=place)
    unit = data.get("unit_name") or turn.texts("complaint_unit_none")
    if data.get("unit_id"):
        unit = turn.texts("complaint_unit_registered", name=unit)
    identity = (turn.texts("complaint_identity_real", name=data["name"], phone=data["phone"])
                if data["identity"] == "real" else turn.texts("complaint_identity_anonymous"))
    return turn.texts("complaint_summary", category=CONFIG.name(data["category"]), place=place, unit=unit,
                      description=data["description"], photos=len(data.get("photo_list", [])), identity=identity)


async def _confirm_prompt(turn: Turn) -> Prompt:
    options = (Option("submit", turn.texts("complaint_button_submit")),
               Option("cancel", turn.texts("complaint_button_cancel")))
    return Prompt(turn.texts("complaint_confirm", summary=await summary(turn)), options, columns=2)


async def _not_again(turn: Turn) -> list[Reply]:
    own = await _own_duplicate(turn)
    if own is not None:
        return [turn.menu_reply(turn.texts("complaint_duplicate_own_kept", number=own.number))]
    return [turn.menu_reply(turn.texts("complaint_duplicate_dropped"))]


async def _submit(turn: Turn) -> Complaint:
    data, now = turn.data, turn.clock.now()
    category = CONFIG.category(data["category"])
    assert category is not None
    township = await get_area(turn.session, int(data["township"]))
    assert township is not None and township.parent_id is not None
    office = township.parent_id if category.office == "county" else township.id
    real = data["identity"] == "real"
    deadline = await deadlines.count(turn, CONFIG.calendar, now.date(), category.days)
    new = complaints.NewComplaint(
        submit_key=data["key"], category=category.id, complainant_id=turn.user.id, anonymous=not real,
        township_id=township.id, office_area_id=office, description=data["description"],
        due_on=deadline.due, village_id=data.get("village"),
        complainant_name=data.get("name") if real else None, complainant_phone=data.get("phone") if real else None,
        unit_id=data.get("unit_id"), unit_name=data.get("unit_name"),
        location=(data["lat"], data["lon"]) if "lat" in data else None, photos=list(data.get("photo_list", [])),
    )
    complaint, created = await complaints.create_complaint(turn.session, new, now)
    if created:
        turn.notices.extend(await notify.new_complaint(turn.session, turn.texts, CONFIG, complaint,
                                                       actor_id=turn.user.id))
    return complaint


async def _finish(turn: Turn) -> list[Reply]:
    if turn.data.get("duplicate") in (DUPLICATE_STOP, "follow"):  # "follow": a draft saved before it was removed
        return await _not_again(turn)
    if turn.data.get("confirm") != "submit":
        return [turn.menu_reply(turn.texts("cancelled", title=turn.texts("complaint_flow_title")))]
    complaint = await _submit(turn)
    category = CONFIG.category(complaint.category)
    text = turn.texts("complaint_filed", number=complaint.number, due=cn_date(complaint.due_on),
                      days=category.days if category else "",
                      note=deadlines.shown_note(turn.texts, CONFIG.calendar, complaint),
                      office=await area_name(turn.session, turn.texts, complaint.office_area_id))
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
        Step("duplicate", _duplicate_prompt, next=_after_duplicate),
        Step("description", _description_prompt, text_parser(DESC_MIN, DESC_MAX), next="photos"),
        Step("photos", _photos_prompt, _parse_photo, next=_after_photo, store=_store_photo),
        Step("identity", _identity_prompt, next=_after_identity, store=_store_identity),
        Step("name", _name_prompt, parse_name, next=_after_name),
        Step("phone", _phone_prompt, _parse_phone, next="confirm"),
        Step("confirm", _confirm_prompt, next=None),
    ),
    _finish,
    precious=True,
)
