"""Filing a complaint (any user): category → where → which unit → description → photos → identity → confirm.
The unit step is in filing_unit.py, the summary and the submission in filing_submit.py.

Every answer is saved with the conversation, so a photo is acknowledged only once it is stored, and a restart
resumes the same step. The submit key is made when the conversation starts: a double tap or a redelivered
update can never file twice.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from handlers.complaints.filing_answers import FilingAnswers
from handlers.complaints.filing_submit import confirm_prompt, finish
from handlers.complaints.filing_unit import (
    SKIP_WORDS,
    after_pick,
    after_unit,
    duplicate_prompt,
    parse_unit,
    parse_unit_pick,
    store_pick,
    store_unit,
    unit_pick_prompt,
    unit_prompt,
)
from handlers.complaints.shipped import CONFIG
from handlers.context import Turn
from handlers.events import Inbound, Kind, Reply
from handlers.flow import Flow, Invalid, Option, Prompt, Step, parse_option, text_parser
from handlers.registration import NAME_MAX, NAME_MIN, parse_name
from storage import complaints
from storage.areas import children_of
from storage.audience import list_townships
from storage.models import Area

DESC_MIN, DESC_MAX = 5, 1000
MAX_PHOTOS = 6
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
        return {
            "file_id": photo.file_id,
            "unique_id": photo.file_unique_id or None,
            "size": photo.size,
            "channel": inbound.channel,
        }
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


COMPLAINT = Flow(
    "complaint",
    "投诉举报",
    (
        Step("category", _category_prompt, next="where"),
        Step("where", _where_prompt, _parse_where, next=_after_where, store=_store_where),
        Step("location", _location_prompt, _parse_location, next="where", store=_store_location),
        Step("village", _village_prompt, next="unit", store=_store_village),
        Step("unit", unit_prompt, parse_unit, next=after_unit, store=store_unit),
        Step("unit_pick", unit_pick_prompt, parse_unit_pick, next=after_pick, store=store_pick),
        Step("duplicate", duplicate_prompt, next=lambda answers: "description" if answers.duplicate == "new" else None),
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
        Step("confirm", confirm_prompt, next=None),
    ),
    finish,
    precious=True,
    state=FilingAnswers,
)
